//! R-S3: the progress of the periodic full review, one row per period.

use chrono::NaiveDate;
use sqlx::PgConnection;
use uuid::Uuid;

/// Where a review stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// The last customer re-scored (customers go in id order); `None` before the first.
    pub last_customer: Option<Uuid>,
    /// Customers re-scored so far.
    pub rescored: i32,
    /// Of them, whose grade moved.
    pub grades_changed: i32,
    /// Whether the review is over.
    pub finished: bool,
}

/// Starts the period's review unless it exists; true when this call started it.
pub async fn start(
    tx: &mut PgConnection,
    period: &str,
    as_of: NaiveDate,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "INSERT INTO reviews (period, as_of) VALUES ($1, $2) ON CONFLICT (period) DO NOTHING",
    )
    .bind(period)
    .bind(as_of)
    .execute(tx)
    .await?
    .rows_affected()
        == 1)
}

/// The review's progress, locked until the transaction ends (one chunk at a time, whoever
/// runs it).
pub async fn lock(tx: &mut PgConnection, period: &str) -> Result<Option<Progress>, sqlx::Error> {
    let row: Option<(Option<Uuid>, i32, i32, bool)> = sqlx::query_as(
        "SELECT last_customer, rescored, grades_changed, finished_at IS NOT NULL
         FROM reviews WHERE period = $1 FOR UPDATE",
    )
    .bind(period)
    .fetch_optional(tx)
    .await?;
    Ok(row.map(
        |(last_customer, rescored, grades_changed, finished)| Progress {
            last_customer,
            rescored,
            grades_changed,
            finished,
        },
    ))
}

/// Records a committed chunk (and the end of the review when `finished`).
pub async fn advance(
    tx: &mut PgConnection,
    period: &str,
    progress: &Progress,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE reviews SET last_customer = $2, rescored = $3, grades_changed = $4,
                finished_at = CASE WHEN $5 THEN now() END
         WHERE period = $1",
    )
    .bind(period)
    .bind(progress.last_customer)
    .bind(progress.rescored)
    .bind(progress.grades_changed)
    .bind(progress.finished)
    .execute(tx)
    .await?;
    Ok(())
}

/// Periods whose review started and did not finish (resumed when the service starts).
pub async fn unfinished(tx: &mut PgConnection) -> Result<Vec<(String, NaiveDate)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT period, as_of FROM reviews WHERE finished_at IS NULL ORDER BY started_at",
    )
    .fetch_all(tx)
    .await
}
