//! The ledger of open items, indexed for matching (issue item 5): by contract number, by the
//! digits of references (exact, one typo away, cut short), by receivable id, by payer
//! account and by normalised name. It is updated as allocations are applied, so a new batch of
//! payments is reconciled against the current open items without recomputing anything.

mod amounts;
mod batch;
mod candidates;
mod decide;
mod gates;
mod history;
mod probe;
mod score;
mod seen;
mod store;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::decision::{Decision, Outcome};
use crate::error::{ApplyError, ItemError};
use crate::fx::RateTable;
use crate::ident::Text;
use crate::index::{MultiIndex, SortedIndex, U64Map};
use crate::model::{Ccy, OpenItem, Payment};
use crate::names::NameKey;
use crate::policy::Policy;
use crate::text::Mix;

pub(crate) use batch::Batch;

/// One receivable, as stored.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub(crate) id: Text,
    /// Hash of the compact id (what remittance windows are compared with).
    pub(crate) key: u64,
    pub(crate) contract: u32,
    pub(crate) due: NaiveDate,
    pub(crate) open: Decimal,
    pub(crate) currency: Ccy,
    pub(crate) escrow: u32,
    /// Payments applied so far.
    pub(crate) payments: u16,
}

/// One contract: its number in three normalised forms, its customer and receivables.
#[derive(Debug, Clone)]
pub(crate) struct Contract {
    pub(crate) no: Text,
    /// Hash of the compact number.
    pub(crate) key: u64,
    /// Hash of its digits.
    pub(crate) digits_key: u64,
    /// Its digits (for typo distances).
    pub(crate) digits: Box<str>,
    /// The unit, as written and compact (for "the remittance names the unit").
    pub(crate) unit: Option<(Text, Box<str>)>,
    pub(crate) customer: u32,
    pub(crate) items: Vec<u32>,
}

impl Customer {
    /// True when `account` (hash of the compact account) is on file.
    pub(crate) fn has_account(&self, account: u64) -> bool {
        self.accounts.contains(&account) || self.more_accounts.contains(&account)
    }

    fn add_account(&mut self, account: u64) -> bool {
        if account == 0 || self.has_account(account) {
            return false;
        }
        match self.accounts.iter_mut().find(|a| **a == 0) {
            Some(slot) => *slot = account,
            None => self.more_accounts.push(account),
        }
        true
    }
}

/// One customer.
#[derive(Debug, Clone)]
pub(crate) struct Customer {
    pub(crate) id: Text,
    pub(crate) name: Text,
    pub(crate) key: NameKey,
    /// Hashes of the compact payer accounts on file: the first two inline (0: none), the
    /// rest in `more_accounts`.
    pub(crate) accounts: [u64; 2],
    pub(crate) more_accounts: Vec<u64>,
    pub(crate) contracts: Vec<u32>,
}

/// Open receivables, indexed; the engine's state between batches.
///
/// ```
/// use cashapp::{Ledger, OpenItem, Payment, Outcome};
/// use chrono::NaiveDate;
/// use rust_decimal::Decimal;
///
/// let due = NaiveDate::from_ymd_opt(2024, 3, 1).unwrap_or_default();
/// let item = OpenItem {
///     receivable_id: "HT-2024-001-01".into(),
///     contract_no: "HT-2024-001".into(),
///     customer_id: "C1".into(),
///     customer_name: "张伟".into(),
///     payer_accounts: vec!["6222 0000 1111".into()],
///     unit: None,
///     due_date: due,
///     open_amount: Decimal::new(500_000, 2),
///     currency: "CNY".into(),
///     escrow_account: "ESCROW-1".into(),
/// };
/// let mut ledger = Ledger::from_open_items(vec![item]).map_err(|e| e.len())?;
/// let payment = Payment::new("p1", due, Decimal::new(500_000, 2), "CNY", "ESCROW-1")
///     .with_payer(Some("ZHANG WEI"), Some("622200001111"))
///     .with_remittance("购房款 HT2024001");
/// let decisions = ledger.reconcile_and_apply(&[payment]);
/// assert_eq!(decisions[0].outcome, Outcome::Applied);
/// assert_eq!(decisions[0].allocations[0].amount, Decimal::new(500_000, 2));
/// # Ok::<(), usize>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    pub(crate) items: Vec<Item>,
    pub(crate) contracts: Vec<Contract>,
    pub(crate) customers: Vec<Customer>,
    /// Escrow accounts as reasons show them (masked, R-O4), looked up by their compact form.
    pub(crate) escrows: Vec<Text>,
    escrow_ids: HashMap<u64, u32, Mix>,
    /// Hash of a contract number / customer id → its number (verified against the text).
    contract_ids: U64Map,
    customer_ids: U64Map,
    /// Lengths (bit n: length n, 63 and up on bit 63) of contract, receivable and digit keys,
    /// so windows of other lengths are not looked up at all.
    pub(crate) lengths: [u64; 3],
    pub(crate) by_contract: MultiIndex,
    pub(crate) by_digits: MultiIndex,
    pub(crate) by_typo: SortedIndex,
    pub(crate) by_cut: SortedIndex,
    pub(crate) by_receivable: MultiIndex,
    pub(crate) by_account: MultiIndex,
    pub(crate) by_name: MultiIndex,
    pub(crate) seen: seen::SeenLog<Text>,
    applied: HashSet<Text, Mix>,
    pub(crate) policy: Policy,
    pub(crate) rates: RateTable,
}

impl Ledger {
    /// An empty ledger with the default policy.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A ledger holding `items`.
    ///
    /// # Errors
    /// Every item refused (duplicate receivable id, a contract already belonging to another
    /// customer, an unknown currency, a negative amount).
    pub fn from_open_items(items: Vec<OpenItem>) -> Result<Self, Vec<ItemError>> {
        let mut ledger = Self::new();
        let n = items.len();
        let errors = ledger.add_items(items.into_iter().map(|i| (i, None)), n);
        if errors.is_empty() {
            Ok(ledger)
        } else {
            Err(errors)
        }
    }

    /// Use `policy` for the next batches.
    #[must_use]
    pub fn with_policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Use `rates` for payments in another currency than the contract (R-P8).
    #[must_use]
    pub fn with_rates(mut self, rates: RateTable) -> Self {
        self.rates = rates;
        self
    }

    /// The policy in force.
    #[must_use]
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Number of receivables held (open or settled).
    #[must_use]
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when no receivable is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Open amount of a receivable now.
    #[must_use]
    pub fn open_amount(&self, receivable_id: &str) -> Option<Decimal> {
        self.find_item(receivable_id)
            .and_then(|i| self.items.get(i as usize))
            .map(|i| i.open)
    }

    /// Decide every payment of a batch against the current open items, without changing the
    /// ledger. Payments are processed in canonical order (date, id), each seeing the effect of
    /// the automatically applied ones before it, so the result never depends on input order;
    /// the decisions come back in that order. Commit them with [`Ledger::apply`] (applied
    /// decisions, and proposals once a person confirmed them) and [`Ledger::record`] (the
    /// others, so later duplicates are recognised).
    #[must_use]
    pub fn reconcile(&self, payments: &[Payment]) -> Vec<Decision> {
        // Sort on an inline key (date, first bytes of the id); the full comparison only
        // breaks ties, so sorting a million payments does not chase a million id strings.
        let prefix = |id: &str| {
            let mut k = [0u8; 16];
            for (slot, b) in k.iter_mut().zip(id.bytes()) {
                *slot = b;
            }
            k
        };
        let mut order: Vec<(NaiveDate, [u8; 16], &Payment)> = payments
            .iter()
            .map(|p| (p.date, prefix(&p.id), p))
            .collect();
        order.sort_unstable_by(|a, b| {
            (a.0, a.1)
                .cmp(&(b.0, b.1))
                .then_with(|| a.2.canonical_cmp(b.2))
        });
        let order: Vec<&Payment> = order.into_iter().map(|(_, _, p)| p).collect();
        let mut batch = Batch::new(self, &order);
        order.iter().map(|p| batch.decide(p)).collect()
    }

    /// [`Ledger::reconcile`], then apply the applied decisions and record the others.
    pub fn reconcile_and_apply(&mut self, payments: &[Payment]) -> Vec<Decision> {
        let decisions = self.reconcile(payments);
        for d in &decisions {
            let result = if d.outcome == Outcome::Applied {
                self.apply(d)
            } else {
                self.record(d);
                Ok(())
            };
            // The batch saw the same state, so applying cannot fail; keep going regardless.
            debug_assert!(result.is_ok(), "{result:?}");
        }
        decisions
    }

    /// Remember a decided payment for duplicate detection without applying anything.
    pub fn record(&mut self, d: &Decision) {
        self.seen.record(
            Text::from(d.payment_id.as_str()),
            d.dedup,
            d.date,
            d.outcome,
        );
    }

    /// Apply a decision's allocations (and a write-off that needs no approval) to the open
    /// amounts, and record the payment.
    ///
    /// # Errors
    /// [`ApplyError`] when the payment was already applied, or an allocation no longer fits
    /// (nothing is changed then).
    pub fn apply(&mut self, d: &Decision) -> Result<(), ApplyError> {
        if self.applied.contains(d.payment_id.as_str()) {
            return Err(ApplyError::AlreadyApplied(d.payment_id.clone()));
        }
        let mut changes = Vec::with_capacity(d.allocations.len());
        for a in &d.allocations {
            let idx = self
                .items
                .get(a.item as usize)
                .filter(|i| i.id == a.receivable_id)
                .map(|_| a.item)
                .or_else(|| self.find_item(&a.receivable_id))
                .ok_or_else(|| ApplyError::UnknownReceivable(a.receivable_id.to_string()))?;
            let open = self
                .items
                .get(idx as usize)
                .map_or(Decimal::ZERO, |i| i.open);
            let already: Decimal = changes
                .iter()
                .filter(|(i, _)| *i == idx)
                .map(|(_, x)| *x)
                .sum();
            let mut take = a.amount;
            if let Some(w) = &d.write_off
                && !w.needs_approval
                && w.receivable_id == a.receivable_id
            {
                take += w.amount;
            }
            if take + already > open || a.amount.is_sign_negative() {
                return Err(ApplyError::MoreThanOpen {
                    receivable: a.receivable_id.to_string(),
                    amount: a.amount.to_string(),
                    open: open.to_string(),
                });
            }
            changes.push((idx, take));
        }
        for (idx, take) in changes {
            if let Some(item) = self.items.get_mut(idx as usize) {
                item.open -= take;
                item.payments = item.payments.saturating_add(1);
            }
        }
        self.applied.insert(Text::from(d.payment_id.as_str()));
        let mut recorded = d.clone();
        recorded.outcome = Outcome::Applied;
        self.record(&recorded);
        Ok(())
    }

    /// Item number of a receivable id.
    pub(crate) fn find_item(&self, receivable_id: &str) -> Option<u32> {
        self.find_item_by(crate::text::compact_hash(receivable_id).0, receivable_id)
    }

    /// Item number of a receivable id whose compact hash is `key`.
    pub(crate) fn find_item_by(&self, key: u64, receivable_id: &str) -> Option<u32> {
        self.by_receivable.get(key).find(|i| {
            self.items
                .get(*i as usize)
                .is_some_and(|it| &*it.id == receivable_id)
        })
    }
}
