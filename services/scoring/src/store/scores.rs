//! Scores: the current one per customer with its full result (R-S1, R-S2), and the history of
//! every score computed.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::ScoreResult;

/// A customer's current score as stored.
#[derive(Debug, Clone)]
pub struct StoredScore {
    /// Grade name.
    pub grade: String,
    /// Days past due when scored.
    pub days_past_due: i32,
    /// Late payments (pts-v1) or late receivables (dpd-v2).
    pub late: i32,
    /// Reason codes.
    pub reason_codes: Vec<String>,
    /// Scorecard version.
    pub version: String,
    /// When scored.
    pub updated_at: DateTime<Utc>,
    /// The full result; `None` for a dpd-v2 score not re-scored since.
    pub result: Option<ScoreResult>,
}

/// The grade and points now (points `None` for a dpd-v2 score), locking the row so
/// concurrent re-scores of one customer queue up.
pub async fn grade_for_update(
    tx: &mut PgConnection,
    customer_id: Uuid,
) -> Result<Option<(String, Option<i32>)>, sqlx::Error> {
    sqlx::query_as("SELECT grade, points FROM scores WHERE customer_id = $1 FOR UPDATE")
        .bind(customer_id)
        .fetch_optional(tx)
        .await
}

/// Saves a score as the customer's current one, and in the history with its cause when
/// `history` (a moved score or grade, or a review: not every daily overdue event that
/// leaves the points as they were).
pub async fn save(
    tx: &mut PgConnection,
    customer_id: Uuid,
    result: &ScoreResult,
    cause: &str,
    history: bool,
) -> Result<(), sqlx::Error> {
    let json = serde_json::to_string(result).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let reasons: Vec<&str> = result.reasons.iter().map(|r| r.code.as_str()).collect();
    let points = i32::try_from(result.score).unwrap_or(i32::MAX);
    sqlx::query(
        "INSERT INTO scores (customer_id, grade, days_past_due, late_receivables, reason_codes,
                             scorecard_version, updated_at, points, result)
         VALUES ($1, $2, $3, $4, $5, $6, now(), $7, $8::jsonb)
         ON CONFLICT (customer_id) DO UPDATE SET grade = EXCLUDED.grade,
           days_past_due = EXCLUDED.days_past_due, late_receivables = EXCLUDED.late_receivables,
           reason_codes = EXCLUDED.reason_codes, scorecard_version = EXCLUDED.scorecard_version,
           updated_at = now(), points = EXCLUDED.points, result = EXCLUDED.result",
    )
    .bind(customer_id)
    .bind(result.grade.as_str())
    .bind(i32::try_from(result.features.days_past_due).unwrap_or(i32::MAX))
    .bind(i32::try_from(result.features.late_payments).unwrap_or(i32::MAX))
    .bind(&reasons)
    .bind(&result.version)
    .bind(points)
    .bind(&json)
    .execute(&mut *tx)
    .await?;
    if !history {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO score_history (customer_id, cause, grade, points, result)
         VALUES ($1, $2, $3, $4, $5::jsonb)",
    )
    .bind(customer_id)
    .bind(cause)
    .bind(result.grade.as_str())
    .bind(points)
    .bind(&json)
    .execute(tx)
    .await?;
    Ok(())
}

/// The customer's current score.
pub async fn current(
    conn: &mut PgConnection,
    customer_id: Uuid,
) -> Result<Option<StoredScore>, sqlx::Error> {
    type Row = (
        String,
        i32,
        i32,
        Vec<String>,
        String,
        DateTime<Utc>,
        Option<String>,
    );
    let row: Option<Row> = sqlx::query_as(
        "SELECT grade, days_past_due, late_receivables, reason_codes, scorecard_version,
                updated_at, result::text
         FROM scores WHERE customer_id = $1",
    )
    .bind(customer_id)
    .fetch_optional(conn)
    .await?;
    row.map(
        |(grade, days_past_due, late, reason_codes, version, updated_at, result)| {
            let result = result
                .map(|json| serde_json::from_str::<ScoreResult>(&json))
                .transpose()
                .map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
            Ok(StoredScore {
                grade,
                days_past_due,
                late,
                reason_codes,
                version,
                updated_at,
                result,
            })
        },
    )
    .transpose()
}
