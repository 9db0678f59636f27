//! Write-offs of small differences (R-P12): the `write_offs` table.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

/// A stored write-off with its receivable's contract and currency.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct WriteOffRow {
    pub(crate) id: Uuid,
    pub(crate) payment_id: Uuid,
    pub(crate) receivable_id: Uuid,
    pub(crate) customer_id: Uuid,
    pub(crate) amount: Decimal,
    pub(crate) reason: String,
    pub(crate) booking_date: chrono::NaiveDate,
    pub(crate) status: String,
    pub(crate) requested_by: String,
    pub(crate) requested_at: DateTime<Utc>,
    pub(crate) decided_by: Option<String>,
    pub(crate) decided_at: Option<DateTime<Utc>>,
    pub(crate) decision_note: String,
    pub(crate) parts: sqlx::types::Json<Vec<(String, Decimal)>>,
    pub(crate) contract_no: String,
    pub(crate) currency: String,
}

macro_rules! select_write_offs {
    ($tail:literal) => {
        concat!(
            "SELECT w.id, w.payment_id, w.receivable_id, w.customer_id, w.amount, w.reason, w.booking_date, w.status,
                    w.requested_by, w.requested_at, w.decided_by, w.decided_at, w.decision_note, w.parts,
                    c.contract_no, c.currency
             FROM write_offs w JOIN receivables r ON r.id = w.receivable_id
                               JOIN contracts c ON c.id = r.contract_id ",
            $tail
        )
    };
}

/// A request to record.
pub(crate) struct NewWriteOff<'a> {
    pub(crate) id: Uuid,
    pub(crate) payment_id: Uuid,
    pub(crate) receivable_id: Uuid,
    pub(crate) customer_id: Uuid,
    pub(crate) amount: Decimal,
    pub(crate) reason: &'a str,
    pub(crate) booking_date: chrono::NaiveDate,
    pub(crate) requested_by: &'a str,
}

/// Records a request as proposed; false when this id was recorded before.
pub(crate) async fn insert(
    conn: &mut PgConnection,
    w: &NewWriteOff<'_>,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "INSERT INTO write_offs (id, payment_id, receivable_id, customer_id, amount, reason, status, requested_by, booking_date)
         VALUES ($1, $2, $3, $4, $5, $6, 'proposed', $7, $8) ON CONFLICT (id) DO NOTHING",
    )
    .bind(w.id)
    .bind(w.payment_id)
    .bind(w.receivable_id)
    .bind(w.customer_id)
    .bind(w.amount)
    .bind(w.reason)
    .bind(w.requested_by)
    .bind(w.booking_date)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// One write-off, locked for a decision.
pub(crate) async fn lock(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<WriteOffRow>, sqlx::Error> {
    sqlx::query_as(select_write_offs!("WHERE w.id = $1 FOR UPDATE OF w"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Records a decision (booked with its parts, or rejected).
pub(crate) async fn decide(
    conn: &mut PgConnection,
    id: Uuid,
    status: &str,
    by: &str,
    note: &str,
    parts: &[(String, Decimal)],
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE write_offs SET status = $2, decided_by = $3, decided_at = now(), decision_note = $4, parts = $5
         WHERE id = $1 AND status = 'proposed'",
    )
    .bind(id)
    .bind(status)
    .bind(by)
    .bind(note)
    .bind(sqlx::types::Json(parts))
    .execute(conn)
    .await
    .map(|_| ())
}

/// A filter of [`list`].
pub(crate) struct Filter<'a> {
    pub(crate) customer_id: Option<Uuid>,
    pub(crate) status: Option<&'a str>,
    /// The caller's scope (`kit::auth::owners::params`).
    pub(crate) scope: (&'a str, &'a str),
    /// Newest first, after this id (v7 ids are time ordered).
    pub(crate) after: Option<Uuid>,
    pub(crate) limit: i64,
}

/// Write-offs in the caller's scope, newest first.
pub(crate) async fn list(
    conn: &mut PgConnection,
    f: &Filter<'_>,
) -> Result<Vec<WriteOffRow>, sqlx::Error> {
    // Safe: the only dynamic part is the kit's fixed scope condition; values are bound.
    let sql = sqlx::AssertSqlSafe(format!(
        select_write_offs!(
            "WHERE ($1::uuid IS NULL OR w.customer_id = $1)
               AND ($2::text IS NULL OR w.status = $2)
               AND ($3::uuid IS NULL OR w.id < $3) AND {}
             ORDER BY w.id DESC LIMIT $6"
        ),
        kit::auth::owners::visible_customers("w.customer_id", 4, 5)
    ));
    sqlx::query_as(sql)
        .bind(f.customer_id)
        .bind(f.status)
        .bind(f.after)
        .bind(f.scope.0)
        .bind(f.scope.1)
        .bind(f.limit)
        .fetch_all(conn)
        .await
}
