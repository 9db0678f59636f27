//! SQL of disputes (R-D8) and of dunning's movable clock for deadlines.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// A dispute as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DisputeRow {
    /// Id.
    pub id: Uuid,
    /// The debtor.
    pub customer_id: Uuid,
    /// Their case.
    pub case_id: Uuid,
    /// The disputed receivables.
    pub receivable_ids: Vec<Uuid>,
    /// What the debtor says.
    pub reason: String,
    /// `open`, `rejected`, `upheld`.
    pub status: String,
    /// Opened (dunning's clock).
    pub opened_at: DateTime<Utc>,
    /// Response deadline.
    pub deadline: DateTime<Utc>,
    /// `calendar_hours` or `business_hours`.
    pub sla_basis: String,
    /// SLA hours.
    pub sla_hours: i32,
    /// The deadline, once passed unanswered.
    pub breached_at: Option<DateTime<Utc>>,
    /// Who must respond.
    pub assignee: String,
    /// Who recorded it.
    pub opened_by: String,
    /// Who resolved it.
    pub resolved_by: Option<String>,
    /// When.
    pub resolved_at: Option<DateTime<Utc>>,
    /// Why.
    pub resolution_note: String,
}

const COLUMNS: &str = "id, customer_id, case_id, receivable_ids, reason, status, opened_at, deadline, sla_basis, sla_hours, breached_at, assignee, opened_by, resolved_by, resolved_at, resolution_note";

/// The dispute opened under `idempotency_key`.
pub async fn by_key(
    conn: &mut PgConnection,
    idempotency_key: &str,
) -> Result<Option<DisputeRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM disputes WHERE idempotency_key = $1"
    )))
    .bind(idempotency_key)
    .fetch_optional(conn)
    .await
}

/// A dispute, locked.
pub async fn for_update(
    tx: &mut PgConnection,
    id: Uuid,
) -> Result<Option<DisputeRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM disputes WHERE id = $1 FOR UPDATE"
    )))
    .bind(id)
    .fetch_optional(tx)
    .await
}

/// The debtor's disputes, newest first.
pub async fn list(
    conn: &mut PgConnection,
    customer_id: Uuid,
) -> Result<Vec<DisputeRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM disputes WHERE customer_id = $1 ORDER BY opened_at DESC, id DESC"
    )))
    .bind(customer_id)
    .fetch_all(conn)
    .await
}

/// The debtor's active case and its open items not in dispute, locked.
pub async fn disputable(
    tx: &mut PgConnection,
    customer_id: Uuid,
) -> Result<Option<(Uuid, Vec<Uuid>)>, sqlx::Error> {
    let case: Option<Uuid> = sqlx::query_scalar(
        "SELECT id FROM cases WHERE customer_id = $1 AND status = 'active' FOR UPDATE",
    )
    .bind(customer_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(case_id) = case else {
        return Ok(None);
    };
    let items: Vec<Uuid> = sqlx::query_scalar(
        "SELECT receivable_id FROM case_items WHERE case_id = $1 AND status = 'open' AND dispute_id IS NULL AND plan_id IS NULL",
    )
    .bind(case_id)
    .fetch_all(tx)
    .await?;
    Ok(Some((case_id, items)))
}

/// Stores a new dispute and pauses dunning for its items.
pub async fn insert(
    tx: &mut PgConnection,
    d: &DisputeRow,
    idempotency_key: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO disputes (id, idempotency_key, customer_id, case_id, receivable_ids, reason, status,
                               opened_at, deadline, sla_basis, sla_hours, assignee, opened_by)
         VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8, $9, $10, $11, $12)",
    )
    .bind(d.id)
    .bind(idempotency_key)
    .bind(d.customer_id)
    .bind(d.case_id)
    .bind(&d.receivable_ids)
    .bind(&d.reason)
    .bind(d.opened_at)
    .bind(d.deadline)
    .bind(&d.sla_basis)
    .bind(d.sla_hours)
    .bind(&d.assignee)
    .bind(&d.opened_by)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE case_items SET dispute_id = $2 WHERE case_id = $1 AND receivable_id = ANY($3)",
    )
    .bind(d.case_id)
    .bind(d.id)
    .bind(&d.receivable_ids)
    .execute(tx)
    .await
    .map(drop)
}

/// Resolves a dispute: rejected, dunning resumes for its items; upheld, they leave dunning.
pub async fn resolve(
    tx: &mut PgConnection,
    id: Uuid,
    upheld: bool,
    by: &str,
    at: DateTime<Utc>,
    note: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE disputes SET status = $2, resolved_by = $3, resolved_at = $4, resolution_note = $5
         WHERE id = $1",
    )
    .bind(id)
    .bind(if upheld { "upheld" } else { "rejected" })
    .bind(by)
    .bind(at)
    .bind(note)
    .execute(&mut *tx)
    .await?;
    let items = if upheld {
        "UPDATE case_items SET status = 'upheld' WHERE dispute_id = $1 AND status = 'open'"
    } else {
        "UPDATE case_items SET dispute_id = NULL WHERE dispute_id = $1"
    };
    sqlx::query(items).bind(id).execute(tx).await.map(drop)
}

/// Marks the open disputes whose deadline is at or before `now` as breached (at their
/// deadline) and returns them.
pub async fn breach_due(
    tx: &mut PgConnection,
    now: DateTime<Utc>,
) -> Result<Vec<DisputeRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE disputes SET breached_at = deadline
         WHERE status = 'open' AND breached_at IS NULL AND deadline <= $1
         RETURNING {COLUMNS}"
    )))
    .bind(now)
    .fetch_all(tx)
    .await
}

/// How far dunning's clock runs ahead of the real one, in seconds.
pub async fn clock_offset(conn: &mut PgConnection) -> Result<i64, sqlx::Error> {
    Ok(sqlx::query_scalar("SELECT offset_seconds FROM clock")
        .fetch_optional(conn)
        .await?
        .unwrap_or(0))
}

/// Moves dunning's clock forward by `seconds`; returns the new offset.
pub async fn move_clock(conn: &mut PgConnection, seconds: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO clock (id, offset_seconds) VALUES (TRUE, $1)
         ON CONFLICT (id) DO UPDATE SET offset_seconds = clock.offset_seconds + EXCLUDED.offset_seconds
         RETURNING offset_seconds",
    )
    .bind(seconds)
    .fetch_one(conn)
    .await
}

/// Dunning's clock: the real time plus the offset, to the microsecond (as stored).
pub async fn now(conn: &mut PgConnection) -> Result<DateTime<Utc>, sqlx::Error> {
    use chrono::SubsecRound as _;
    let offset = clock_offset(conn).await?;
    Ok((Utc::now() + chrono::Duration::seconds(offset)).trunc_subsecs(6))
}

/// The disputed items of a dispute with their currencies.
pub async fn item_currencies(
    tx: &mut PgConnection,
    dispute_id: Uuid,
) -> Result<Vec<(Uuid, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT i.receivable_id, i.currency FROM disputes d
         JOIN case_items i ON i.case_id = d.case_id AND i.receivable_id = ANY(d.receivable_ids)
         WHERE d.id = $1",
    )
    .bind(dispute_id)
    .fetch_all(tx)
    .await
}
