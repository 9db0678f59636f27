//! Adding open items to the ledger and its indexes. Keys are normalised once here, so the hot
//! path only hashes what a payment says.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::candidates::cut_key;
use super::{Contract, Customer, Item, Ledger};
use crate::error::{ApplyError, ItemError};
use crate::ident::Text;
use crate::index::{deletion_hashes, word};
use crate::model::{Ccy, OpenItem, minor_units};
use crate::names::NameKey;
use crate::text::{compact, compact_hash, digits, hash64};

/// Digit keys shorter than this are not looked up on their own (too many accidental hits:
/// amounts, dates, room numbers).
pub(crate) const MIN_DIGITS: usize = 8;

/// The bit of a key length in [`Ledger::lengths`].
pub(crate) fn length_bit(len: usize) -> u64 {
    1u64 << len.min(63)
}

/// Index entries collected while adding a batch of items.
#[derive(Default)]
struct Pending {
    by_contract: Vec<(u64, u32)>,
    by_digits: Vec<(u64, u32)>,
    /// Typo and cut-short entries as [`word`]s (half the room of pairs).
    by_typo: Vec<u64>,
    by_cut: Vec<u64>,
    by_account: Vec<(u64, u32)>,
    by_name: Vec<(u64, u32)>,
}

fn err(item: &OpenItem, row: Option<usize>, field: &str, problem: String) -> ItemError {
    ItemError {
        receivable_id: item.receivable_id.clone(),
        field: field.to_string(),
        problem,
        row,
    }
}

impl Ledger {
    /// Add open items (with the line they came from, if any). Items that cannot be added are
    /// returned with why; the others are added and indexed.
    pub fn add_open_items(&mut self, items: Vec<(OpenItem, Option<usize>)>) -> Vec<ItemError> {
        let n = items.len();
        self.add_items(items.into_iter(), n)
    }

    /// Add open items from an iterator of `n` items (the bulk path of both constructors).
    pub(crate) fn add_items(
        &mut self,
        items: impl Iterator<Item = (OpenItem, Option<usize>)>,
        n: usize,
    ) -> Vec<ItemError> {
        let mut errors = Vec::new();
        let mut pending = Pending {
            by_contract: Vec::with_capacity(n / 2),
            by_digits: Vec::with_capacity(n / 2),
            by_typo: Vec::with_capacity(n / 2 * 13),
            by_cut: Vec::with_capacity(n / 2 * 3),
            by_account: Vec::with_capacity(n / 2),
            by_name: Vec::with_capacity(n),
        };
        self.items.reserve(n);
        self.customers.reserve(n / 2);
        self.contracts.reserve(n / 2);
        self.customer_ids.reserve(n / 2);
        self.contract_ids.reserve(n / 2);
        self.by_receivable.reserve(n);
        let mut prev: Option<(OpenItem, u32, u32, u32)> = None;
        let mut items = items;
        let mut chunk = Vec::with_capacity(16);
        loop {
            chunk.extend(items.by_ref().take(16));
            if chunk.is_empty() {
                break;
            }
            // Bring in the table slots these rows will look up, all at once (their cache
            // misses overlap instead of coming one after the other).
            let warm = chunk.iter().fold(0, |acc, (item, _): &(OpenItem, _)| {
                acc ^ self
                    .by_receivable
                    .touch(compact_hash(&item.receivable_id).0)
                    ^ self.contract_ids.touch(hash64(item.contract_no.as_bytes()))
                    ^ self.customer_ids.touch(hash64(item.customer_id.as_bytes()))
            });
            std::hint::black_box(warm);
            for (item, row) in chunk.drain(..) {
                match self.add_one(&item, row, &mut pending, prev.as_ref()) {
                    Ok(ids) => prev = Some((item, ids.0, ids.1, ids.2)),
                    Err(e) => errors.push(e),
                }
            }
        }
        let Pending {
            by_contract,
            by_digits,
            by_typo,
            by_cut,
            by_account,
            by_name,
        } = pending;
        self.by_contract.extend(by_contract);
        self.by_digits.extend(by_digits);
        self.by_typo.extend_words(by_typo);
        self.by_cut.extend_words(by_cut);
        self.by_account.extend(by_account);
        self.by_name.extend(by_name);
        errors
    }

    /// Set a receivable's open amount (e.g. after a person approved a write-off, or to follow
    /// the system of record).
    ///
    /// # Errors
    /// [`ApplyError::UnknownReceivable`].
    pub fn set_open_amount(
        &mut self,
        receivable_id: &str,
        open: Decimal,
    ) -> Result<(), ApplyError> {
        let idx = self
            .find_item(receivable_id)
            .ok_or_else(|| ApplyError::UnknownReceivable(receivable_id.to_string()))?;
        if let Some(item) = self.items.get_mut(idx as usize) {
            item.open = open.max(Decimal::ZERO);
        }
        Ok(())
    }

    /// Set a receivable's due date (the system of record amended its schedule, R-C8): the
    /// allocation order (due before not yet due, earliest due first) follows it.
    ///
    /// # Errors
    /// [`ApplyError::UnknownReceivable`].
    pub fn set_due_date(&mut self, receivable_id: &str, due: NaiveDate) -> Result<(), ApplyError> {
        let idx = self
            .find_item(receivable_id)
            .ok_or_else(|| ApplyError::UnknownReceivable(receivable_id.to_string()))?;
        if let Some(item) = self.items.get_mut(idx as usize) {
            item.due = due;
        }
        Ok(())
    }

    fn add_one(
        &mut self,
        item: &OpenItem,
        row: Option<usize>,
        pending: &mut Pending,
        prev: Option<&(OpenItem, u32, u32, u32)>,
    ) -> Result<(u32, u32, u32), ItemError> {
        let e = |field: &str, problem: String| err(item, row, field, problem);
        for (field, value) in [
            ("receivable_id", &item.receivable_id),
            ("contract_no", &item.contract_no),
            ("customer_id", &item.customer_id),
            ("customer_name", &item.customer_name),
            ("escrow_account", &item.escrow_account),
        ] {
            if value.trim().is_empty() {
                return Err(e(field, "empty".into()));
            }
        }
        let currency = match Ccy::new(&item.currency) {
            Some(c) if feeds::currency::is_known(&item.currency) => c,
            _ => {
                return Err(e(
                    "currency",
                    format!("{:?} is not an ISO 4217 code", item.currency),
                ));
            }
        };
        if item.open_amount.is_sign_negative()
            || item.open_amount.normalize().scale() > minor_units(&item.currency)
        {
            return Err(e(
                "open_amount",
                format!(
                    "{} is negative or finer than the currency's minor unit",
                    item.open_amount
                ),
            ));
        }
        let (rid_hash, rid_len) = compact_hash(&item.receivable_id);
        if self.find_item_by(rid_hash, &item.receivable_id).is_some() {
            return Err(e("receivable_id", "already in the ledger".into()));
        }
        // Rows of one contract usually follow each other: reuse what the previous row found.
        let same = |f: fn(&OpenItem) -> &String| prev.is_some_and(|p| f(&p.0) == f(item));
        let customer = match prev {
            Some(p) if same(|i| &i.customer_id) && p.0.payer_accounts == item.payer_accounts => p.1,
            _ => self.customer_for(item, pending),
        };
        let known_contract = match prev {
            Some(p) if same(|i| &i.contract_no) => Some(p.2),
            _ => self.contract_id(&item.contract_no),
        };
        let contract = match known_contract {
            Some(c) => {
                let owner = self.contracts.get(c as usize).map(|c| c.customer);
                if owner != Some(customer) {
                    let other = owner
                        .and_then(|o| self.customers.get(o as usize))
                        .map(|c| c.id.to_string())
                        .unwrap_or_default();
                    return Err(e(
                        "contract_no",
                        format!("contract {} belongs to customer {other}", item.contract_no),
                    ));
                }
                c
            }
            None => self.new_contract(item, customer, pending),
        };
        let escrow = match prev {
            Some(p) if same(|i| &i.escrow_account) => p.3,
            _ => self.escrow_id(&item.escrow_account),
        };
        let idx = u32::try_from(self.items.len()).unwrap_or(u32::MAX);
        self.items.push(Item {
            id: Text::from(item.receivable_id.as_str()),
            key: rid_hash,
            contract,
            due: item.due_date,
            open: {
                // Shown with the currency's minor units (`30800.00`).
                let mut open = item.open_amount;
                open.rescale(minor_units(&item.currency));
                open
            },
            currency,
            escrow,
            payments: 0,
        });
        if let Some(c) = self.contracts.get_mut(contract as usize) {
            c.items.push(idx);
            if c.unit.is_none()
                && let Some(u) = item.unit.as_deref()
            {
                c.unit = Some((Text::from(u), compact(u).into_boxed_str()));
            }
        }
        self.lengths[1] |= length_bit(rid_len);
        // Indexed at once, so a second row with the same id is caught.
        self.by_receivable.insert(rid_hash, idx);
        Ok((customer, contract, escrow))
    }

    fn customer_for(&mut self, item: &OpenItem, pending: &mut Pending) -> u32 {
        let idx = match self.customer_id(&item.customer_id) {
            Some(c) => c,
            None => {
                let idx = u32::try_from(self.customers.len()).unwrap_or(u32::MAX);
                let key = NameKey::new(&item.customer_name);
                for k in key.index_keys() {
                    pending.by_name.push((k, idx));
                }
                let id: Text = Text::from(item.customer_id.as_str());
                self.customers.push(Customer {
                    id: id.clone(),
                    name: Text::from(item.customer_name.as_str()),
                    key,
                    accounts: [0; 2],
                    more_accounts: Vec::new(),
                    contracts: Vec::new(),
                });
                let _ = self.customer_ids.insert(hash64(id.as_bytes()), idx);
                idx
            }
        };
        if let Some(c) = self.customers.get_mut(idx as usize) {
            for account in &item.payer_accounts {
                let (a, len) = compact_hash(account);
                if len > 0 && c.add_account(a) {
                    pending.by_account.push((a, idx));
                }
            }
        }
        idx
    }

    fn new_contract(&mut self, item: &OpenItem, customer: u32, pending: &mut Pending) -> u32 {
        let idx = u32::try_from(self.contracts.len()).unwrap_or(u32::MAX);
        let c = compact(&item.contract_no);
        let d = digits(&item.contract_no);
        let key = hash64(c.as_bytes());
        pending.by_contract.push((key, idx));
        self.lengths[0] |= length_bit(c.len());
        if d.len() >= MIN_DIGITS {
            self.lengths[2] |= length_bit(d.len());
            pending.by_digits.push((hash64(d.as_bytes()), idx));
            let mut hashes = Vec::with_capacity(d.len() + 1);
            deletion_hashes(d.as_bytes(), &mut hashes);
            pending
                .by_typo
                .extend(hashes.into_iter().map(|h| word(h, idx)));
            // The number cut short by the bank by one to three characters (R-P4).
            for cut in 1..=3 {
                let keep = d.len().saturating_sub(cut);
                if keep >= MIN_DIGITS
                    && let Some(prefix) = d.as_bytes().get(..keep)
                {
                    pending.by_cut.push(word(cut_key(prefix), idx));
                }
            }
        }
        let no: Text = Text::from(item.contract_no.as_str());
        self.contracts.push(Contract {
            no: no.clone(),
            key,
            digits_key: hash64(d.as_bytes()),
            digits: d.into_boxed_str(),
            unit: None,
            customer,
            items: Vec::new(),
        });
        let _ = self.contract_ids.insert(hash64(no.as_bytes()), idx);
        if let Some(cu) = self.customers.get_mut(customer as usize) {
            cu.contracts.push(idx);
        }
        idx
    }

    /// Number of a contract, by its number as written.
    fn contract_id(&self, no: &str) -> Option<u32> {
        self.contract_ids.get(hash64(no.as_bytes())).filter(|c| {
            self.contracts
                .get(*c as usize)
                .is_some_and(|x| *x.no == *no)
        })
    }

    /// How reasons show the escrow account `account` (in any notation) from now on, e.g. its
    /// masked form when the ledger is given blind indexes of accounts instead of accounts
    /// (R-O4); by default reasons show `****` and its last four characters. Returns false
    /// when no receivable has that escrow account.
    pub fn show_escrow_as(&mut self, account: &str, shown: &str) -> bool {
        let Some(id) = self.escrow_of(account) else {
            return false;
        };
        if let Some(slot) = self.escrows.get_mut(id as usize) {
            *slot = Text::from(shown);
        }
        true
    }

    /// Put `account` on file for customer `customer_id` (e.g. after a person confirmed that
    /// a relative pays for them), so payments from it count as the customer's. Returns false
    /// when the customer is unknown or the account was already on file.
    pub fn add_payer_account(&mut self, customer_id: &str, account: &str) -> bool {
        let Some(idx) = self.customer_id(customer_id) else {
            return false;
        };
        let (hash, len) = compact_hash(account);
        if len == 0 {
            return false;
        }
        let added = self
            .customers
            .get_mut(idx as usize)
            .is_some_and(|c| c.add_account(hash));
        if added {
            self.by_account.extend(vec![(hash, idx)]);
        }
        added
    }

    /// Number of a customer, by id.
    fn customer_id(&self, id: &str) -> Option<u32> {
        self.customer_ids.get(hash64(id.as_bytes())).filter(|c| {
            self.customers
                .get(*c as usize)
                .is_some_and(|x| *x.id == *id)
        })
    }

    fn escrow_id(&mut self, account: &str) -> u32 {
        let (c, _) = compact_hash(account);
        if let Some(&id) = self.escrow_ids.get(&c) {
            return id;
        }
        let id = u32::try_from(self.escrows.len()).unwrap_or(u32::MAX);
        self.escrows
            .push(Text::from(crate::text::masked_account(account).as_str()));
        self.escrow_ids.insert(c, id);
        id
    }

    /// Escrow id of an account in any notation.
    pub(crate) fn escrow_of(&self, account: &str) -> Option<u32> {
        self.escrow_ids.get(&compact_hash(account).0).copied()
    }
}
