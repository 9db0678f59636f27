//! Cash application (R-P4, R-P5, R-P6) with the `cashapp` engine.
//!
//! Each payments process holds the engine's [`Ledger`] of open receivables in memory, built
//! from the `open_receivables` read model (and the recently applied payments, so duplicates
//! are still recognised) and kept current by the same transactions that change that table.
//! The database stays the source of truth: every transaction that changes what the ledger
//! holds takes one advisory lock, works on the ledger through a [`Session`], and records what
//! it changed in `ledger_changes` under the next gapless `version` with a fresh random
//! `token` (also kept in `ledger_state`). A process reuses its ledger while its (version,
//! token) is the database's; when it is behind (another replica changed something) it replays
//! the changes since its version; otherwise (its last change did not commit, or the changes
//! it needs were pruned) it rebuilds the ledger from the tables.

use std::path::Path;

use anyhow::Context as _;
use cashapp::{Ledger, OpenItem, Outcome, Payment, Policy, RateTable};
use chrono::NaiveDate;
use kit::pii::{Pii, PiiError};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use tokio::sync::{Mutex, MutexGuard};
use uuid::Uuid;

use crate::store::{self, PaymentRow};

/// Days beyond the policy's duplicate window for which applied payments are remembered when
/// the ledger is rebuilt (payments may be booked a few days before they are ingested).
const HISTORY_MARGIN_DAYS: i32 = 31;

/// The engine with its cached ledger.
pub(crate) struct Engine {
    cache: Mutex<Option<Cached>>,
    policy: Policy,
    rates: RateTable,
    /// Seals accounts at rest and computes their blind index (R-O4). The ledger holds
    /// blind indexes of accounts, never accounts: it compares payer and escrow accounts by
    /// blind index only.
    pii: Pii,
}

struct Cached {
    state: State,
    ledger: Ledger,
}

/// Which committed state of the ledger a cached ledger is.
type State = store::LedgerState;

/// What a session changed, recorded for the other processes to replay.
#[derive(Debug, Default)]
struct Changes {
    added: Vec<Uuid>,
    amounts: Vec<String>,
    applied: Vec<Uuid>,
    /// Customers with an account put on file.
    accounts: Vec<Uuid>,
}

impl Changes {
    fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.amounts.is_empty()
            && self.applied.is_empty()
            && self.accounts.is_empty()
    }
}

/// Exclusive use of the ledger inside one database transaction.
pub(crate) struct Session<'a> {
    slot: MutexGuard<'a, Option<Cached>>,
    state: State,
    ledger: Ledger,
    changes: Changes,
}

/// How long recorded changes are kept for processes that are behind.
const CHANGES_KEPT_HOURS: i32 = 24;

impl Engine {
    /// The engine with the policy in `CASHAPP_POLICY_FILE` (JSON, see the cashapp README;
    /// default policy when unset) and the exchange rates in `FX_RATES_FILE` (CSV
    /// `date,from,to,rate`; none when unset, so a payment in another currency than its
    /// contract is an exception, R-P8).
    ///
    /// A payment short by no more than the policy's write-off tolerance asks contracts to
    /// write the difference off (R-P12, `WriteOffRequested`); contracts books it, or keeps it
    /// for a person above the approval threshold.
    pub(crate) fn from_env() -> anyhow::Result<Self> {
        let policy = match std::env::var("CASHAPP_POLICY_FILE") {
            Ok(path) if !path.trim().is_empty() => {
                let text = std::fs::read_to_string(&path).with_context(|| {
                    format!("CASHAPP_POLICY_FILE {path}: cannot read it; fix the path or unset the variable")
                })?;
                Policy::from_json(&path, &text).context(
                    "CASHAPP_POLICY_FILE: fix the policy file (format: services/cashapp/README.md)",
                )?
            }
            _ => Policy::default(),
        };
        let rates = match std::env::var("FX_RATES_FILE") {
            Ok(path) if !path.trim().is_empty() => read_rates(Path::new(&path))?,
            _ => RateTable::new(),
        };
        Ok(Self::new(policy, rates, Pii::from_env()?))
    }

    pub(crate) fn new(policy: Policy, rates: RateTable, pii: Pii) -> Self {
        Self {
            cache: Mutex::new(None),
            policy,
            rates,
            pii,
        }
    }

    /// The engine's view of a stored payment: its accounts are their blind indexes.
    pub(crate) fn payment_of(row: &PaymentRow) -> Payment {
        payment(
            row.id,
            row.booking_date,
            row.amount,
            row.currency.trim(),
            &row.payer_name,
            &row.payer_account_index,
            &row.receiving_account_index,
            &row.reference,
        )
    }

    /// A stored payer account opened; empty stays empty (the bank gave none).
    pub(crate) fn open_account(&self, sealed: &str) -> Result<String, PiiError> {
        if sealed.is_empty() {
            Ok(String::new())
        } else {
            self.pii.open(sealed)
        }
    }

    /// An account sealed for storage, with its blind index; empty stays empty.
    /// The blind index of an account (empty for none): what payments stores and compares
    /// instead of the account (R-O4).
    pub(crate) fn account_index(&self, plain: &str) -> String {
        if plain.trim().is_empty() {
            String::new()
        } else {
            self.pii.account_index(plain)
        }
    }

    pub(crate) fn seal_account(&self, plain: &str) -> Result<(String, String), PiiError> {
        if plain.trim().is_empty() {
            Ok((String::new(), String::new()))
        } else {
            Ok((self.pii.seal(plain)?, self.pii.account_index(plain)))
        }
    }

    /// Takes the ledger for the rest of `tx`: waits for the other holders (in this process
    /// and in others), then uses the cached ledger if it is current, replays what other
    /// processes changed since, or rebuilds it.
    pub(crate) async fn open(&self, tx: &mut PgConnection) -> Result<Session<'_>, sqlx::Error> {
        // The database lock first, then the cache: a holder of the ledger lock may open the
        // ledger again in the same transaction (a consumer's batch, issue 16) and must never
        // wait for the cache on a task that itself waits for the ledger lock.
        store::lock_ledger(tx).await?;
        let mut slot = self.cache.lock().await;
        let state = store::ledger_state(tx).await?;
        let ledger = match slot.take() {
            Some(cached) if cached.state == state => cached.ledger,
            Some(cached) => match self.catch_up(tx, cached, state).await? {
                Some(ledger) => ledger,
                None => self.load(tx).await?,
            },
            None => self.load(tx).await?,
        };
        Ok(Session {
            slot,
            state,
            ledger,
            changes: Changes::default(),
        })
    }

    /// Replays the recorded changes from the cached ledger's state to `now`; `None` when the
    /// cached ledger is not a committed state or the changes it needs are gone.
    async fn catch_up(
        &self,
        tx: &mut PgConnection,
        cached: Cached,
        now: State,
    ) -> Result<Option<Ledger>, sqlx::Error> {
        let from = cached.state;
        if from.version >= now.version {
            return Ok(None);
        }
        let committed = if from.version == 0 {
            from.token.is_nil()
        } else {
            store::change_token(tx, from.version).await? == Some(from.token)
        };
        if !committed {
            return Ok(None);
        }
        let rows = store::ledger_changes_after(tx, from.version).await?;
        let contiguous = rows
            .iter()
            .zip(from.version + 1..)
            .all(|(row, expected)| row.version == expected);
        if !contiguous || rows.last().map(|r| r.version) != Some(now.version) {
            return Ok(None);
        }
        let started = std::time::Instant::now();
        let mut ledger = cached.ledger;
        let mut added = Vec::new();
        let mut amounts = Vec::new();
        let mut applied = Vec::new();
        let mut accounts = Vec::new();
        for change in rows {
            added.extend(change.added);
            amounts.extend(change.amounts);
            applied.extend(change.applied);
            accounts.extend(change.accounts);
        }
        if !added.is_empty() {
            let items = shown(store::open_items_by_ids(tx, &added).await?);
            for error in add_shown(&mut ledger, items) {
                tracing::warn!(%error, "receivable left out of cash application; fix it in contracts");
            }
        }
        if !accounts.is_empty() {
            for on_file in store::payer_accounts_of_customers(tx, &accounts).await? {
                for index in &on_file.payer_account_indexes {
                    ledger.add_payer_account(&on_file.customer_id.to_string(), index);
                }
            }
        }
        amounts.sort_unstable();
        amounts.dedup();
        for a in store::available_by_refs(tx, &amounts).await? {
            let reference = receivable_ref(&a.contract_no, a.installment_no);
            if let Err(error) = ledger.set_open_amount(&reference, a.available) {
                tracing::warn!(%error, "replaying an open amount");
            }
            // R-C8: an amendment may have moved the due date as well.
            if let Err(error) = ledger.set_due_date(&reference, a.due_date) {
                tracing::warn!(%error, "replaying a due date");
            }
        }
        if !applied.is_empty() {
            for row in &store::applied_payments_by_ids(tx, &applied).await? {
                ledger.remember(&Self::payment_of(row), Outcome::Applied);
            }
        }
        tracing::info!(
            from = from.version,
            to = now.version,
            added = added.len(),
            amounts = amounts.len(),
            applied = applied.len(),
            elapsed_ms = started.elapsed().as_millis(),
            "cash-application ledger caught up"
        );
        Ok(Some(ledger))
    }

    /// Builds the ledger from the read model and the recently applied payments.
    async fn load(&self, tx: &mut PgConnection) -> Result<Ledger, sqlx::Error> {
        let started = std::time::Instant::now();
        // Paid receivables stay in the ledger for a while (a payment naming one is "nothing
        // open", not "no candidate"), but not for ever.
        let items = shown(store::open_items_for_ledger(tx).await?);
        let count = items.len();
        let mut ledger = Ledger::new()
            .with_policy(self.policy.clone())
            .with_rates(self.rates.clone());
        for error in add_shown(&mut ledger, items) {
            tracing::warn!(%error, "receivable left out of cash application; fix it in contracts");
        }
        let days = i32::from(self.policy.duplicate_window_days) + HISTORY_MARGIN_DAYS;
        let applied = store::recently_applied_payments(tx, days).await?;
        for row in &applied {
            ledger.remember(&Self::payment_of(row), Outcome::Applied);
        }
        tracing::info!(
            receivables = count,
            applied_payments = applied.len(),
            elapsed_ms = started.elapsed().as_millis(),
            "cash-application ledger built"
        );
        Ok(ledger)
    }
}

impl Session<'_> {
    /// The ledger, to decide with.
    pub(crate) fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// Adds receivables (ContractSigned); `ids` are their receivable ids.
    pub(crate) fn add_items(&mut self, items: Vec<Shown>, ids: &[Uuid]) -> Vec<cashapp::ItemError> {
        self.changes.added.extend_from_slice(ids);
        add_shown(&mut self.ledger, items)
    }

    /// Applies an applied decision (or a confirmed one) of payment `payment_id`.
    pub(crate) fn apply(
        &mut self,
        decision: &cashapp::Decision,
        payment_id: Uuid,
    ) -> Result<(), cashapp::ApplyError> {
        self.ledger.apply(decision)?;
        self.changes.applied.push(payment_id);
        self.changes.amounts.extend(
            decision
                .allocations
                .iter()
                .map(|a| a.receivable_id.to_string()),
        );
        Ok(())
    }

    /// Sets what is open on a receivable (following the read model, or after a person
    /// confirmed a candidate).
    pub(crate) fn set_open_amount(
        &mut self,
        reference: &str,
        open: Decimal,
    ) -> Result<(), cashapp::ApplyError> {
        self.ledger.set_open_amount(reference, open)?;
        self.changes.amounts.push(reference.to_owned());
        Ok(())
    }

    /// Sets a receivable's due date (an amendment moved it, R-C8); replayed from the read
    /// model like an open amount.
    pub(crate) fn set_due_date(
        &mut self,
        reference: &str,
        due: chrono::NaiveDate,
    ) -> Result<(), cashapp::ApplyError> {
        self.ledger.set_due_date(reference, due)?;
        self.changes.amounts.push(reference.to_owned());
        Ok(())
    }

    /// Puts an account on file for a customer.
    pub(crate) fn add_payer_account(&mut self, customer_id: Uuid, account: &str) {
        if self
            .ledger
            .add_payer_account(&customer_id.to_string(), account)
        {
            self.changes.accounts.push(customer_id);
        }
    }

    /// Remembers a payment applied by a person, for duplicate detection.
    pub(crate) fn remember_applied(&mut self, payment: &Payment, payment_id: Uuid) {
        self.ledger.remember(payment, Outcome::Applied);
        self.changes.applied.push(payment_id);
    }

    /// Ends the session inside `tx`: what changed is recorded under the next version with a
    /// new token, so the ledger is reused (and replayed by other processes) only if `tx`
    /// commits.
    pub(crate) async fn close(mut self, tx: &mut PgConnection) -> Result<(), sqlx::Error> {
        let state = if self.changes.is_empty() {
            self.state
        } else {
            let next = State {
                version: self.state.version + 1,
                token: Uuid::now_v7(),
            };
            let mut amounts = std::mem::take(&mut self.changes.amounts);
            amounts.sort_unstable();
            amounts.dedup();
            store::record_ledger_change(
                tx,
                next,
                &self.changes.added,
                &amounts,
                &self.changes.applied,
                &self.changes.accounts,
            )
            .await?;
            store::set_ledger_state(tx, next).await?;
            if next.version % 1000 == 0 {
                store::prune_ledger_changes(tx, CHANGES_KEPT_HOURS).await?;
            }
            next
        };
        // Issue 16 item 3: the in-memory ledger's size, for sizing memory limits.
        kit::metrics::gauge(
            "ledger_receivables",
            i64::try_from(self.ledger.len()).unwrap_or(i64::MAX),
        );
        *self.slot = Some(Cached {
            state,
            ledger: self.ledger,
        });
        Ok(())
    }
}

/// An open item for the ledger, whose accounts are blind indexes (R-O4), with the masked
/// form of its escrow account that reasons show instead.
pub(crate) struct Shown {
    pub(crate) item: OpenItem,
    pub(crate) escrow_shown: String,
}

/// Adds the items to the ledger and tells it how to show their escrow accounts.
fn add_shown(ledger: &mut Ledger, items: Vec<Shown>) -> Vec<cashapp::ItemError> {
    let mut shown: Vec<(String, String)> = Vec::new();
    let items = items
        .into_iter()
        .map(|s| {
            if !s.escrow_shown.is_empty()
                && !shown
                    .iter()
                    .any(|(index, _)| *index == s.item.escrow_account)
            {
                shown.push((s.item.escrow_account.clone(), s.escrow_shown));
            }
            (s.item, None)
        })
        .collect();
    let errors = ledger.add_open_items(items);
    for (index, masked) in shown {
        ledger.show_escrow_as(&index, &masked);
    }
    errors
}

/// How the ledger names a receivable: contract number and installment, `HT-2026-0001/2`
/// (what payers write, and what the engine finds an installment number at the end of).
pub(crate) fn receivable_ref(contract_no: &str, installment_no: i32) -> String {
    format!("{contract_no}/{installment_no}")
}

/// The contract number and installment of a [`receivable_ref`].
pub(crate) fn parse_receivable_ref(reference: &str) -> Option<(&str, i32)> {
    let (contract, n) = reference.rsplit_once('/')?;
    Some((contract, n.parse().ok()?))
}

/// The read model's rows as the ledger's open items.
pub(crate) fn shown(rows: Vec<store::OpenItemRow>) -> Vec<Shown> {
    rows.into_iter()
        .map(|r| Shown {
            item: OpenItem {
                receivable_id: receivable_ref(&r.contract_no, r.installment_no),
                contract_no: r.contract_no,
                customer_id: r.customer_id.to_string(),
                customer_name: r.customer_name,
                payer_accounts: r.payer_account_indexes,
                unit: r.unit,
                due_date: r.due_date,
                open_amount: r.available,
                currency: r.currency.trim().to_owned(),
                escrow_account: r.escrow_account_index,
            },
            escrow_shown: r.escrow_account_masked,
        })
        .collect()
}

/// The engine's view of a payment: empty texts are "not given".
#[allow(clippy::too_many_arguments)]
pub(crate) fn payment(
    id: Uuid,
    date: NaiveDate,
    amount: Decimal,
    currency: &str,
    payer_name: &str,
    payer_account: &str,
    receiving_account: &str,
    remittance: &str,
) -> Payment {
    fn given(s: &str) -> Option<&str> {
        Some(s.trim()).filter(|s| !s.is_empty())
    }
    let mut p = Payment::new(id.to_string(), date, amount, currency, receiving_account)
        .with_payer(given(payer_name), given(payer_account));
    if let Some(text) = given(remittance) {
        p = p.with_remittance(text);
    }
    p
}

fn read_rates(path: &Path) -> anyhow::Result<RateTable> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).with_context(|| {
        format!("FX_RATES_FILE {name}: cannot read it; fix the path or unset the variable")
    })?;
    let (rates, errors) = RateTable::from_csv(&name, &bytes)
        .context("FX_RATES_FILE: expected a CSV with the header date,from,to,rate")?;
    if let Some(first) = errors.first() {
        anyhow::bail!(
            "FX_RATES_FILE: {first} ({} bad rows in all); fix the file",
            errors.len()
        );
    }
    Ok(rates)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receivable_refs_round_trip() {
        assert_eq!(receivable_ref("HT-2026-0001", 2), "HT-2026-0001/2");
        assert_eq!(
            parse_receivable_ref("HT-2026-0001/12"),
            Some(("HT-2026-0001", 12))
        );
        assert_eq!(parse_receivable_ref("HT-2026-0001"), None);
        assert_eq!(parse_receivable_ref("HT/x"), None);
    }

    #[test]
    fn empty_texts_are_not_given() {
        let p = payment(
            Uuid::nil(),
            NaiveDate::default(),
            Decimal::ONE,
            "CNY",
            " ",
            "",
            "ESCROW",
            "",
        );
        assert_eq!(
            (p.payer_name, p.payer_account, p.remittance),
            (None, None, None)
        );
    }
}
