//! Scores: the current one per customer with its full result (R-S1, R-S2), and the history of
//! every score computed.

use std::collections::HashMap;

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

/// The grade and points of each of `customers` that has a score, locked for the rest of the
/// transaction (in id order, so two runs never wait for each other in a circle).
pub async fn grades_for_update(
    tx: &mut PgConnection,
    customers: &[Uuid],
) -> Result<HashMap<Uuid, (String, Option<i32>)>, sqlx::Error> {
    let rows: Vec<(Uuid, String, Option<i32>)> = sqlx::query_as(
        "SELECT customer_id, grade, points FROM scores WHERE customer_id = ANY($1)
         ORDER BY customer_id FOR UPDATE",
    )
    .bind(customers)
    .fetch_all(tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(c, grade, points)| (c, (grade, points)))
        .collect())
}

/// One score to save with [`save_all`].
pub struct Scored<'a> {
    pub customer_id: Uuid,
    pub result: &'a ScoreResult,
    /// Kept in the history too (a moved score or grade, or a review: not every daily
    /// overdue event that leaves the points as they were).
    pub history: bool,
}

/// Saves scores as the customers' current ones, and those marked in the history with their
/// `cause`, in two statements.
pub async fn save_all(
    tx: &mut PgConnection,
    scores: &[Scored<'_>],
    cause: &str,
) -> Result<(), sqlx::Error> {
    let mut customers = Vec::with_capacity(scores.len());
    let mut grades = Vec::with_capacity(scores.len());
    let mut dpd = Vec::with_capacity(scores.len());
    let mut late = Vec::with_capacity(scores.len());
    // A text[] per row cannot go through UNNEST (it would flatten): each as a JSON array.
    let mut reasons = Vec::with_capacity(scores.len());
    let mut versions = Vec::with_capacity(scores.len());
    let mut points = Vec::with_capacity(scores.len());
    let mut results = Vec::with_capacity(scores.len());
    for s in scores {
        let r = s.result;
        customers.push(s.customer_id);
        grades.push(r.grade.as_str());
        dpd.push(i32::try_from(r.features.days_past_due).unwrap_or(i32::MAX));
        late.push(i32::try_from(r.features.late_payments).unwrap_or(i32::MAX));
        let codes: Vec<&str> = r.reasons.iter().map(|x| x.code.as_str()).collect();
        reasons.push(serde_json::to_string(&codes).map_err(|e| sqlx::Error::Encode(Box::new(e)))?);
        versions.push(r.version.as_str());
        points.push(i32::try_from(r.score).unwrap_or(i32::MAX));
        results.push(serde_json::to_string(r).map_err(|e| sqlx::Error::Encode(Box::new(e)))?);
    }
    sqlx::query(
        "INSERT INTO scores (customer_id, grade, days_past_due, late_receivables, reason_codes,
                             scorecard_version, updated_at, points, result)
         SELECT u.c, u.g, u.d, u.l, ARRAY(SELECT jsonb_array_elements_text(u.r::jsonb)), u.v, now(),
                u.p, u.j::json
         FROM UNNEST($1::uuid[], $2::text[], $3::int4[], $4::int4[], $5::text[], $6::text[],
                     $7::int4[], $8::text[]) AS u(c, g, d, l, r, v, p, j)
         ON CONFLICT (customer_id) DO UPDATE SET grade = EXCLUDED.grade,
           days_past_due = EXCLUDED.days_past_due, late_receivables = EXCLUDED.late_receivables,
           reason_codes = EXCLUDED.reason_codes, scorecard_version = EXCLUDED.scorecard_version,
           updated_at = now(), points = EXCLUDED.points, result = EXCLUDED.result",
    )
    .bind(&customers)
    .bind(&grades)
    .bind(&dpd)
    .bind(&late)
    .bind(&reasons)
    .bind(&versions)
    .bind(&points)
    .bind(&results)
    .execute(&mut *tx)
    .await?;
    let kept: Vec<usize> = (0..scores.len()).filter(|&i| scores[i].history).collect();
    if kept.is_empty() {
        return Ok(());
    }
    let pick = |i: &usize| *i;
    let h_customers: Vec<Uuid> = kept.iter().map(|i| customers[pick(i)]).collect();
    let h_grades: Vec<&str> = kept.iter().map(|i| grades[pick(i)]).collect();
    let h_points: Vec<i32> = kept.iter().map(|i| points[pick(i)]).collect();
    let h_results: Vec<&str> = kept.iter().map(|i| results[pick(i)].as_str()).collect();
    sqlx::query(
        "INSERT INTO score_history (customer_id, cause, grade, points, result)
         SELECT u.c, $1, u.g, u.p, u.j::json
         FROM UNNEST($2::uuid[], $3::text[], $4::int4[], $5::text[]) WITH ORDINALITY AS u(c, g, p, j, n)
         ORDER BY u.n",
    )
    .bind(cause)
    .bind(&h_customers)
    .bind(&h_grades)
    .bind(&h_points)
    .bind(&h_results)
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
