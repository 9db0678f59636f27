//! SQL of promises to pay (R-D5).

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

/// A promise as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PromiseRow {
    /// Id.
    pub id: Uuid,
    /// The debtor.
    pub customer_id: Uuid,
    /// Their case when it was made, if any.
    pub case_id: Option<Uuid>,
    /// Promised amount.
    pub amount: Decimal,
    /// Its currency.
    pub currency: String,
    /// The date promised.
    pub promised_date: NaiveDate,
    /// Grace days.
    pub grace_days: i32,
    /// Share that counts as kept.
    pub threshold: Decimal,
    /// Business day it was made.
    pub made_on: NaiveDate,
    /// Who recorded it.
    pub made_by: String,
    /// Note.
    pub note: String,
    /// The ladder's step when it paused.
    pub paused_step: String,
    /// `open`, `kept`, `broken`.
    pub status: String,
    /// When judged.
    pub judged_on: Option<NaiveDate>,
}

const COLUMNS: &str = "id, customer_id, case_id, amount, currency, promised_date, grace_days, threshold, made_on, made_by, note, paused_step, status, judged_on";

/// Stores a new promise (the caller looked for its idempotency key first; the database
/// refuses a second open promise of a debtor).
pub async fn insert(
    tx: &mut PgConnection,
    p: &PromiseRow,
    idempotency_key: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO promises (id, idempotency_key, customer_id, case_id, amount, currency, promised_date,
                               grace_days, threshold, made_on, made_by, note, paused_step, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'open')",
    )
    .bind(p.id)
    .bind(idempotency_key)
    .bind(p.customer_id)
    .bind(p.case_id)
    .bind(p.amount)
    .bind(&p.currency)
    .bind(p.promised_date)
    .bind(p.grace_days)
    .bind(p.threshold)
    .bind(p.made_on)
    .bind(&p.made_by)
    .bind(&p.note)
    .bind(&p.paused_step)
    .execute(tx)
    .await
    .map(drop)
}

/// The promise made under `idempotency_key`.
pub async fn by_key(
    tx: &mut PgConnection,
    idempotency_key: &str,
) -> Result<Option<PromiseRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM promises WHERE idempotency_key = $1"
    )))
    .bind(idempotency_key)
    .fetch_optional(tx)
    .await
}

/// What was paid towards a promise.
pub async fn paid(tx: &mut PgConnection, promise_id: Uuid) -> Result<Decimal, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COALESCE(SUM(amount), 0) FROM promise_payments WHERE promise_id = $1",
    )
    .bind(promise_id)
    .fetch_one(tx)
    .await
}

/// The debtor's open promise, locked.
pub async fn open_for(
    tx: &mut PgConnection,
    customer_id: Uuid,
) -> Result<Option<PromiseRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM promises WHERE customer_id = $1 AND status = 'open' FOR UPDATE"
    )))
    .bind(customer_id)
    .fetch_optional(tx)
    .await
}

/// The open promises of `customers`.
pub async fn open_of(
    tx: &mut PgConnection,
    customers: &[Uuid],
) -> Result<Vec<PromiseRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM promises WHERE customer_id = ANY($1) AND status = 'open'"
    )))
    .bind(customers)
    .fetch_all(tx)
    .await
}

/// A payment applied to the debtor's items while the promise is open (once per allocation).
pub async fn payment(
    tx: &mut PgConnection,
    promise_id: Uuid,
    allocation_id: &str,
    booking_date: NaiveDate,
    amount: Decimal,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO promise_payments (promise_id, allocation_id, booking_date, amount)
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(promise_id)
    .bind(allocation_id)
    .bind(booking_date)
    .bind(amount)
    .execute(tx)
    .await
    .map(drop)
}

/// The payments counted for a promise.
pub async fn payments(
    tx: &mut PgConnection,
    promise_id: Uuid,
) -> Result<Vec<(NaiveDate, Decimal)>, sqlx::Error> {
    sqlx::query_as("SELECT booking_date, amount FROM promise_payments WHERE promise_id = $1")
        .bind(promise_id)
        .fetch_all(tx)
        .await
}

/// The promise was judged.
pub async fn judged(
    tx: &mut PgConnection,
    promise_id: Uuid,
    kept: bool,
    on: NaiveDate,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE promises SET status = $2, judged_on = $3 WHERE id = $1 AND status = 'open'")
        .bind(promise_id)
        .bind(if kept { "kept" } else { "broken" })
        .bind(on)
        .execute(tx)
        .await
        .map(drop)
}

/// The debtor's promises, newest first, with what was paid towards each.
pub async fn list(
    conn: &mut PgConnection,
    customer_id: Uuid,
) -> Result<Vec<(PromiseRow, Decimal)>, sqlx::Error> {
    let rows: Vec<PromiseRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM promises WHERE customer_id = $1 ORDER BY made_at DESC, id DESC"
    )))
    .bind(customer_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let paid = paid(&mut *conn, row.id).await?;
        out.push((row, paid));
    }
    Ok(out)
}
