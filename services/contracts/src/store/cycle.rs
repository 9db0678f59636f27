//! The daily cycle's own records (`daily_cycles`) and the receivables it works on.

use chrono::NaiveDate;
use sqlx::PgConnection;

use super::{ReceivableRow, select_receivables};

/// Serialises cycles: one at a time, for the transaction's life.
pub(crate) async fn lock(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('contracts.daily_cycle'))")
        .execute(conn)
        .await
        .map(|_| ())
}

/// The latest cycle: its date, whether it finished, and its counts.
pub(crate) struct Latest {
    pub(crate) as_of: NaiveDate,
    pub(crate) done: bool,
    pub(crate) newly_overdue: i32,
    pub(crate) overdue: i32,
}

/// The latest cycle run, if any.
pub(crate) async fn latest(conn: &mut PgConnection) -> Result<Option<Latest>, sqlx::Error> {
    let row: Option<(NaiveDate, String, i32, i32)> = sqlx::query_as(
        "SELECT as_of, status, newly_overdue, overdue FROM daily_cycles ORDER BY as_of DESC LIMIT 1",
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(as_of, status, newly_overdue, overdue)| Latest {
        as_of,
        done: status == "done",
        newly_overdue,
        overdue,
    }))
}

/// Records that the cycle for `as_of` runs (nothing when it was started before).
pub(crate) async fn start(conn: &mut PgConnection, as_of: NaiveDate) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO daily_cycles (as_of, status) VALUES ($1, 'running') ON CONFLICT (as_of) DO NOTHING",
    )
    .bind(as_of)
    .execute(conn)
    .await
    .map(|_| ())
}

/// The next chunk of receivables the cycle for `as_of` has not looked at: owed or still
/// accruing, due before `as_of`, after `after` (due date, id: the last row of the previous
/// chunk, so each chunk starts where the last one ended instead of scanning past every row
/// done); locked, skipping those another transaction holds.
pub(crate) async fn chunk(
    conn: &mut PgConnection,
    as_of: NaiveDate,
    after: Option<(NaiveDate, uuid::Uuid)>,
    limit: i64,
) -> Result<Vec<ReceivableRow>, sqlx::Error> {
    sqlx::query_as(select_receivables!(
        "WHERE (r.owed > 0 OR r.accruing) AND r.due_date < $1 AND (r.last_cycle IS NULL OR r.last_cycle < $1)
           AND ($3::date IS NULL OR (r.due_date, r.id) > ($3, $4))
         ORDER BY r.due_date, r.id LIMIT $2 FOR UPDATE OF r SKIP LOCKED"
    ))
    .bind(as_of)
    .bind(limit)
    .bind(after.map(|(d, _)| d))
    .bind(after.map(|(_, id)| id))
    .fetch_all(conn)
    .await
}

/// Adds a chunk's counts to the cycle's.
pub(crate) async fn add_counts(
    conn: &mut PgConnection,
    as_of: NaiveDate,
    newly_overdue: i32,
    overdue: i32,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE daily_cycles SET newly_overdue = newly_overdue + $2, overdue = overdue + $3 WHERE as_of = $1",
    )
    .bind(as_of)
    .bind(newly_overdue)
    .bind(overdue)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Marks the cycle done; returns its counts (newly overdue, overdue).
pub(crate) async fn finish(
    conn: &mut PgConnection,
    as_of: NaiveDate,
) -> Result<(i32, i32), sqlx::Error> {
    sqlx::query_as(
        "UPDATE daily_cycles SET status = 'done', finished_at = now() WHERE as_of = $1
         RETURNING newly_overdue, overdue",
    )
    .bind(as_of)
    .fetch_one(conn)
    .await
}
