//! SQL of a case's life (R-L2): the steps recorded through MoveCase and
//! RequestAssetPreservation, and the status they leave.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// A recorded step.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StepRow {
    /// Id.
    pub id: Uuid,
    /// The case.
    pub case_id: Uuid,
    /// Stored status name before.
    pub from_status: String,
    /// Stored status name after.
    pub to_status: String,
    /// Stored outcome name, for a close.
    pub outcome: Option<String>,
    /// An asset preservation request.
    pub asset_preservation: bool,
    /// Business date of the step.
    pub on_date: NaiveDate,
    /// The document's reference.
    pub document_reference: String,
    /// Why.
    pub reason: String,
    /// The authenticated principal.
    pub actor: String,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, case_id, from_status, to_status, outcome, asset_preservation, on_date, document_reference, reason, actor, recorded_at";

/// Serialises requests with the same idempotency key (also concurrent repeats).
pub async fn lock_key(conn: &mut PgConnection, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('legal.case_steps:' || $1))")
        .bind(key)
        .execute(conn)
        .await?;
    Ok(())
}

/// The step recorded under `key`.
pub async fn by_key(conn: &mut PgConnection, key: &str) -> Result<Option<StepRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM case_steps WHERE idempotency_key = $1"
    )))
    .bind(key)
    .fetch_optional(conn)
    .await
}

/// The latest date a step of the case happened on.
pub async fn last_date(
    conn: &mut PgConnection,
    case_id: Uuid,
) -> Result<Option<NaiveDate>, sqlx::Error> {
    sqlx::query_scalar("SELECT MAX(on_date) FROM case_steps WHERE case_id = $1")
        .bind(case_id)
        .fetch_one(conn)
        .await
}

/// A step to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStep<'a> {
    /// Id.
    pub id: Uuid,
    /// The case.
    pub case_id: Uuid,
    /// Status before.
    pub from_status: &'static str,
    /// Status after.
    pub to_status: &'static str,
    /// Outcome of a close.
    pub outcome: Option<&'static str>,
    /// An asset preservation request.
    pub asset_preservation: bool,
    /// Business date.
    pub on_date: NaiveDate,
    /// The document's reference.
    pub document_reference: &'a str,
    /// Why.
    pub reason: &'a str,
    /// The authenticated principal.
    pub actor: &'a str,
    /// The client's key.
    pub idempotency_key: &'a str,
}

/// Records a step and applies it to the case (status, outcome and closing date, or the
/// preservation flag) in the caller's transaction; the stored step.
pub async fn record_step(
    conn: &mut PgConnection,
    step: &NewStep<'_>,
) -> Result<StepRow, sqlx::Error> {
    let row: StepRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO case_steps (id, case_id, from_status, to_status, outcome, asset_preservation, on_date, document_reference, reason, actor, idempotency_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING {COLUMNS}"
    )))
    .bind(step.id)
    .bind(step.case_id)
    .bind(step.from_status)
    .bind(step.to_status)
    .bind(step.outcome)
    .bind(step.asset_preservation)
    .bind(step.on_date)
    .bind(step.document_reference)
    .bind(step.reason)
    .bind(step.actor)
    .bind(step.idempotency_key)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE cases SET status = $2, outcome = $3,
                closed_on = CASE WHEN $2 = 'closed' THEN $4 ELSE NULL END,
                assets_preserved = assets_preserved OR $5
         WHERE id = $1",
    )
    .bind(step.case_id)
    .bind(step.to_status)
    .bind(step.outcome)
    .bind(step.on_date)
    .bind(step.asset_preservation)
    .execute(conn)
    .await?;
    Ok(row)
}

/// A case's steps, oldest first.
pub async fn history(pool: &PgPool, case_id: Uuid) -> Result<Vec<StepRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM case_steps WHERE case_id = $1 ORDER BY recorded_at, id"
    )))
    .bind(case_id)
    .fetch_all(pool)
    .await
}
