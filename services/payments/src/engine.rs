//! Cash application (R-P4, R-P5, R-P6) with the `cashapp` engine.
//!
//! Each payments process holds the engine's [`Ledger`] of open receivables in memory, built
//! from the `open_receivables` read model (and the recently applied payments, so duplicates
//! are still recognised) and kept current by the same transactions that change that table.
//! The database stays the source of truth: every transaction that changes what the ledger
//! holds takes one advisory lock, works on the ledger through a [`Session`], and stores a new
//! random token in `ledger_state`. A process reuses its ledger only while the token in the
//! database is the one it last wrote; otherwise (another replica changed something, or the
//! transaction that changed the ledger did not commit) it rebuilds the ledger from the tables.

use std::path::Path;

use anyhow::Context as _;
use cashapp::{Ledger, OpenItem, Outcome, Payment, Policy, RateTable};
use chrono::NaiveDate;
use kit::pii::{Pii, PiiError};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use tokio::sync::{Mutex, MutexGuard};
use uuid::Uuid;

/// Advisory lock serialising every change to what the ledger holds, across processes.
const LEDGER_LOCK: i64 = 0x6361_7368_6170_7031;

/// Days beyond the policy's duplicate window for which applied payments are remembered when
/// the ledger is rebuilt (payments may be booked a few days before they are ingested).
const HISTORY_MARGIN_DAYS: i32 = 31;

/// The columns of a stored payment the engine needs, in [`PaymentRow`] order.
macro_rules! payment_columns {
    () => {
        "id, booking_date, amount, currency, payer_name, payer_account, receiving_account, reference"
    };
}
pub(crate) use payment_columns;

/// The engine with its cached ledger.
pub(crate) struct Engine {
    cache: Mutex<Option<Cached>>,
    policy: Policy,
    rates: RateTable,
    /// Payer accounts are stored sealed (R-O4); the ledger holds them opened, in memory only.
    pii: Pii,
}

struct Cached {
    token: Uuid,
    ledger: Ledger,
}

/// Exclusive use of the ledger inside one database transaction.
pub(crate) struct Session<'a> {
    slot: MutexGuard<'a, Option<Cached>>,
    token: Uuid,
    ledger: Ledger,
    changed: bool,
}

impl Engine {
    /// The engine with the policy in `CASHAPP_POLICY_FILE` (JSON, see the cashapp README;
    /// default policy when unset) and the exchange rates in `FX_RATES_FILE` (CSV
    /// `date,from,to,rate`; none when unset, so a payment in another currency than its
    /// contract is an exception, R-P8).
    ///
    /// Write-offs of small differences (R-P12) are switched off: contracts does not book
    /// them yet, so a payment a few cents short leaves the receivable open by those cents.
    pub(crate) fn from_env() -> anyhow::Result<Self> {
        let mut policy = match std::env::var("CASHAPP_POLICY_FILE") {
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
        if policy.write_off_tolerance > Decimal::ZERO {
            tracing::info!(
                "write-offs (R-P12) are not booked by contracts yet: write_off_tolerance set to 0"
            );
            policy.write_off_tolerance = Decimal::ZERO;
        }
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

    /// Seals and opens payer accounts (R-O4).
    pub(crate) fn pii(&self) -> &Pii {
        &self.pii
    }

    /// The engine's view of a stored payment (its payer account opened).
    pub(crate) fn payment_of(&self, row: &PaymentRow) -> Result<Payment, PiiError> {
        let (id, date, amount, currency, payer_name, sealed, receiving, reference) = row;
        let payer_account = self.open_account(sealed)?;
        Ok(payment(
            *id,
            *date,
            *amount,
            currency.trim(),
            payer_name,
            &payer_account,
            receiving,
            reference,
        ))
    }

    /// A stored payer account opened; empty stays empty (the bank gave none).
    pub(crate) fn open_account(&self, sealed: &str) -> Result<String, PiiError> {
        if sealed.is_empty() {
            Ok(String::new())
        } else {
            self.pii.open(sealed)
        }
    }

    /// A payer account sealed for storage, with its blind index; empty stays empty.
    pub(crate) fn seal_account(&self, plain: &str) -> Result<(String, String), PiiError> {
        if plain.trim().is_empty() {
            Ok((String::new(), String::new()))
        } else {
            Ok((self.pii.seal(plain)?, self.pii.account_index(plain)))
        }
    }

    /// Takes the ledger for the rest of `tx`: waits for the other holders (in this process
    /// and in others), then uses the cached ledger if it is current or rebuilds it.
    pub(crate) async fn open(&self, tx: &mut PgConnection) -> Result<Session<'_>, sqlx::Error> {
        let mut slot = self.cache.lock().await;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(LEDGER_LOCK)
            .execute(&mut *tx)
            .await?;
        let token: Uuid = sqlx::query_scalar("SELECT token FROM ledger_state")
            .fetch_one(&mut *tx)
            .await?;
        let ledger = match slot.take() {
            Some(cached) if cached.token == token => cached.ledger,
            _ => self.load(tx).await?,
        };
        Ok(Session {
            slot,
            token,
            ledger,
            changed: false,
        })
    }

    /// Builds the ledger from the read model and the recently applied payments.
    async fn load(&self, tx: &mut PgConnection) -> Result<Ledger, sqlx::Error> {
        let started = std::time::Instant::now();
        type ItemRow = (
            String,
            i32,
            Uuid,
            String,
            Vec<String>,
            Option<String>,
            NaiveDate,
            String,
            Decimal,
            String,
        );
        let rows: Vec<ItemRow> = sqlx::query_as(
            "SELECT contract_no, installment_no, customer_id, customer_name, payer_accounts, unit, due_date, currency,
                    GREATEST(open_amount - pending_amount, 0), escrow_account
             FROM open_receivables ORDER BY customer_id, contract_no, installment_no",
        )
        .fetch_all(&mut *tx)
        .await?;
        let mut items: Vec<(OpenItem, Option<usize>)> = Vec::with_capacity(rows.len());
        for (contract_no, n, customer, name, sealed, unit, due, currency, open, escrow) in rows {
            let mut payer_accounts = Vec::with_capacity(sealed.len());
            for account in &sealed {
                payer_accounts.push(self.pii.open(account).map_err(protocol)?);
            }
            let item = OpenItem {
                receivable_id: receivable_ref(&contract_no, n),
                contract_no,
                customer_id: customer.to_string(),
                customer_name: name,
                payer_accounts,
                unit,
                due_date: due,
                open_amount: open,
                currency: currency.trim().to_owned(),
                escrow_account: escrow,
            };
            items.push((item, None));
        }
        let count = items.len();
        let mut ledger = Ledger::new()
            .with_policy(self.policy.clone())
            .with_rates(self.rates.clone());
        for error in ledger.add_open_items(items) {
            tracing::warn!(%error, "receivable left out of cash application; fix it in contracts");
        }
        let days = i32::from(self.policy.duplicate_window_days) + HISTORY_MARGIN_DAYS;
        let applied: Vec<PaymentRow> = sqlx::query_as(concat!(
            "SELECT ",
            payment_columns!(),
            " FROM payments WHERE status IN ('matched', 'allocated') AND created_at > now() - make_interval(days => $1)
              ORDER BY created_at, line_no"
        ))
        .bind(days)
        .fetch_all(&mut *tx)
        .await?;
        for row in &applied {
            let payment = self.payment_of(row).map_err(protocol)?;
            ledger.remember(&payment, Outcome::Applied);
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

    /// The ledger, to change; the change is published with [`Session::close`].
    pub(crate) fn ledger_mut(&mut self) -> &mut Ledger {
        self.changed = true;
        &mut self.ledger
    }

    /// Ends the session inside `tx`: a changed ledger gets a new token, written in `tx`, so
    /// it is reused only if `tx` commits.
    pub(crate) async fn close(mut self, tx: &mut PgConnection) -> Result<(), sqlx::Error> {
        let token = if self.changed {
            let token = Uuid::now_v7();
            sqlx::query("UPDATE ledger_state SET token = $1")
                .bind(token)
                .execute(&mut *tx)
                .await?;
            token
        } else {
            self.token
        };
        *self.slot = Some(Cached {
            token,
            ledger: self.ledger,
        });
        Ok(())
    }
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

/// A stored payment, as [`payment_columns`] selects it.
pub(crate) type PaymentRow = (
    Uuid,
    NaiveDate,
    Decimal,
    String,
    String,
    String,
    String,
    String,
);

/// A stored value that cannot be opened stops the transaction like a database fault would.
fn protocol(error: PiiError) -> sqlx::Error {
    sqlx::Error::Protocol(error.to_string())
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
