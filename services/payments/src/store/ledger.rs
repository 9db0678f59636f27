//! What the cash-application ledger is built from and how its changes are recorded across
//! processes (crate::engine): the advisory lock, `ledger_state`, `ledger_changes`, and the
//! open items and applied payments it holds.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::status::PaymentStatus;
use crate::store::{Available, PaymentRow, payment_columns};

/// Advisory lock serialising every change to what the ledger holds, across processes.
const LEDGER_LOCK: i64 = 0x6361_7368_6170_7031;

/// Takes the ledger lock for the rest of the transaction.
pub(crate) async fn lock_ledger(tx: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(LEDGER_LOCK)
        .execute(&mut *tx)
        .await
        .map(|_| ())
}

/// The ledger's committed state: the last change's version and token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub(crate) struct LedgerState {
    pub(crate) version: i64,
    pub(crate) token: Uuid,
}

/// The ledger's committed state.
pub(crate) async fn ledger_state(tx: &mut PgConnection) -> Result<LedgerState, sqlx::Error> {
    sqlx::query_as("SELECT version, token FROM ledger_state")
        .fetch_one(&mut *tx)
        .await
}

/// Makes `state` the ledger's committed state (when the transaction commits).
pub(crate) async fn set_ledger_state(
    tx: &mut PgConnection,
    state: LedgerState,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE ledger_state SET version = $1, token = $2")
        .bind(state.version)
        .bind(state.token)
        .execute(&mut *tx)
        .await
        .map(|_| ())
}

/// The token recorded with change `version`, if it is still kept.
pub(crate) async fn change_token(
    tx: &mut PgConnection,
    version: i64,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar("SELECT token FROM ledger_changes WHERE version = $1")
        .bind(version)
        .fetch_optional(&mut *tx)
        .await
}

/// One recorded change to what the ledger holds.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct LedgerChange {
    pub(crate) version: i64,
    /// Receivables added.
    pub(crate) added: Vec<Uuid>,
    /// Receivables (`contract_no/installment_no`) whose available amount changed.
    pub(crate) amounts: Vec<String>,
    /// Payments applied.
    pub(crate) applied: Vec<Uuid>,
    /// Customers with a payer account put on file.
    pub(crate) accounts: Vec<Uuid>,
}

/// The changes after `version`, in order.
pub(crate) async fn ledger_changes_after(
    tx: &mut PgConnection,
    version: i64,
) -> Result<Vec<LedgerChange>, sqlx::Error> {
    sqlx::query_as(
        "SELECT version, added, amounts, applied, accounts FROM ledger_changes WHERE version > $1 ORDER BY version",
    )
    .bind(version)
    .fetch_all(&mut *tx)
    .await
}

/// Records a change under its version and token.
pub(crate) async fn record_ledger_change(
    tx: &mut PgConnection,
    state: LedgerState,
    added: &[Uuid],
    amounts: &[String],
    applied: &[Uuid],
    accounts: &[Uuid],
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO ledger_changes (version, token, added, amounts, applied, accounts)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(state.version)
    .bind(state.token)
    .bind(added)
    .bind(amounts)
    .bind(applied)
    .bind(accounts)
    .execute(&mut *tx)
    .await
    .map(|_| ())
}

/// Forgets changes older than `hours` (a process that far behind rebuilds its ledger).
pub(crate) async fn prune_ledger_changes(
    tx: &mut PgConnection,
    hours: i32,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM ledger_changes WHERE recorded_at < now() - make_interval(hours => $1)")
        .bind(hours)
        .execute(&mut *tx)
        .await
        .map(|_| ())
}

/// The payer accounts (blind indexes) on file for a customer.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct CustomerAccounts {
    pub(crate) customer_id: Uuid,
    pub(crate) payer_account_indexes: Vec<String>,
}

/// The payer accounts on file for each of the customers.
pub(crate) async fn payer_accounts_of_customers(
    tx: &mut PgConnection,
    customer_ids: &[Uuid],
) -> Result<Vec<CustomerAccounts>, sqlx::Error> {
    sqlx::query_as(
        "SELECT DISTINCT ON (customer_id) customer_id, payer_account_indexes FROM open_receivables
         WHERE customer_id = ANY($1) ORDER BY customer_id, cardinality(payer_account_indexes) DESC",
    )
    .bind(customer_ids)
    .fetch_all(&mut *tx)
    .await
}

/// The available amounts of the receivables named `contract_no/installment_no`.
pub(crate) async fn available_by_refs(
    tx: &mut PgConnection,
    refs: &[String],
) -> Result<Vec<Available>, sqlx::Error> {
    sqlx::query_as(
        "SELECT contract_no, installment_no, GREATEST(open_amount - pending_amount, 0) AS available, due_date
         FROM open_receivables WHERE (contract_no || '/' || installment_no) = ANY($1)",
    )
    .bind(refs)
    .fetch_all(&mut *tx)
    .await
}

/// A receivable as the ledger holds it; accounts as blind indexes (R-O4) and the masked
/// escrow account to show in reasons.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct OpenItemRow {
    pub(crate) contract_no: String,
    pub(crate) installment_no: i32,
    pub(crate) customer_id: Uuid,
    pub(crate) customer_name: String,
    pub(crate) payer_account_indexes: Vec<String>,
    pub(crate) unit: Option<String>,
    pub(crate) due_date: NaiveDate,
    pub(crate) currency: String,
    pub(crate) available: Decimal,
    pub(crate) escrow_account_index: String,
    pub(crate) escrow_account_masked: String,
}

/// The columns of [`OpenItemRow`].
macro_rules! open_item_columns {
    () => {
        "SELECT contract_no, installment_no, customer_id, customer_name, payer_account_indexes, unit, due_date, currency,
                GREATEST(open_amount - pending_amount, 0) AS available, escrow_account_index, escrow_account_masked
         FROM open_receivables "
    };
}

/// The receivables with these ids, by customer and contract.
pub(crate) async fn open_items_by_ids(
    tx: &mut PgConnection,
    receivable_ids: &[Uuid],
) -> Result<Vec<OpenItemRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        open_item_columns!(),
        "WHERE receivable_id = ANY($1) ORDER BY customer_id, contract_no, installment_no"
    ))
    .bind(receivable_ids)
    .fetch_all(&mut *tx)
    .await
}

/// The receivables a new ledger holds: open ones, and paid ones for a while (a payment
/// naming one is "nothing open", not "no candidate"), but not for ever.
pub(crate) async fn open_items_for_ledger(
    tx: &mut PgConnection,
) -> Result<Vec<OpenItemRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        open_item_columns!(),
        "WHERE open_amount > 0 OR due_date > current_date - 400 ORDER BY customer_id, contract_no, installment_no"
    ))
    .fetch_all(&mut *tx)
    .await
}

/// The payments with these ids as the engine sees them, in ingestion order.
pub(crate) async fn applied_payments_by_ids(
    tx: &mut PgConnection,
    payment_ids: &[Uuid],
) -> Result<Vec<PaymentRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        payment_columns!(),
        " FROM payments WHERE id = ANY($1) ORDER BY created_at, line_no"
    ))
    .bind(payment_ids)
    .fetch_all(&mut *tx)
    .await
}

/// The payments applied (matched or allocated) in the last `days`, in ingestion order, so
/// that a new ledger still recognises their duplicates.
pub(crate) async fn recently_applied_payments(
    tx: &mut PgConnection,
    days: i32,
) -> Result<Vec<PaymentRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        payment_columns!(),
        " FROM payments WHERE status IN ($2, $3) AND created_at > now() - make_interval(days => $1)
          ORDER BY created_at, line_no"
    ))
    .bind(days)
    .bind(PaymentStatus::Matched.as_str())
    .bind(PaymentStatus::Allocated.as_str())
    .fetch_all(&mut *tx)
    .await
}
