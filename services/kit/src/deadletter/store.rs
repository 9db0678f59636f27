//! Every SQL statement on `dead_letters`.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use super::{NewDeadLetter, Status};

/// Records `letter` unless its position on the dead-letter topic is recorded already.
/// Returns whether a row was written.
pub(crate) async fn record(pool: &PgPool, letter: &NewDeadLetter) -> Result<bool, sqlx::Error> {
    let written = sqlx::query(
        "INSERT INTO dead_letters (event_id, event_type, topic, kafka_partition, kafka_offset, reason,
                                   dead_letter_topic, dead_letter_partition, dead_letter_offset,
                                   message_key, payload, headers)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb)
         ON CONFLICT (dead_letter_topic, dead_letter_partition, dead_letter_offset) DO NOTHING",
    )
    .bind(letter.header("event_id"))
    .bind(letter.header("event_type"))
    .bind(letter.header("source_topic"))
    .bind(i32::try_from(letter.number_header("source_partition")).unwrap_or(-1))
    .bind(letter.number_header("source_offset"))
    .bind(letter.reason())
    .bind(&letter.topic)
    .bind(letter.partition)
    .bind(letter.offset)
    .bind(letter.key.as_deref())
    .bind(&letter.payload)
    .bind(letter.headers_json())
    .execute(pool)
    .await?
    .rows_affected();
    Ok(written == 1)
}

/// One recorded dead letter.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct Row {
    pub(crate) id: i64,
    pub(crate) event_id: String,
    pub(crate) event_type: String,
    pub(crate) topic: String,
    pub(crate) kafka_partition: i32,
    pub(crate) kafka_offset: i64,
    pub(crate) reason: String,
    pub(crate) recorded_at: DateTime<Utc>,
    pub(crate) dead_letter_topic: Option<String>,
    pub(crate) dead_letter_partition: Option<i32>,
    pub(crate) dead_letter_offset: Option<i64>,
    pub(crate) message_key: Option<Vec<u8>>,
    pub(crate) payload: Option<Vec<u8>>,
    pub(crate) status: String,
    pub(crate) resolved_by: Option<String>,
    pub(crate) resolved_at: Option<DateTime<Utc>>,
    pub(crate) note: String,
}

/// The columns of [`Row`], as a literal so statements stay `&'static str` (sqlx 0.9).
macro_rules! columns {
    () => {
        "id, event_id, event_type, topic, kafka_partition, kafka_offset, reason, recorded_at,
         dead_letter_topic, dead_letter_partition, dead_letter_offset, message_key, payload,
         status, resolved_by, resolved_at, note"
    };
}

/// Filters of a list.
#[derive(Debug, Default)]
pub(crate) struct Filter<'a> {
    pub(crate) status: Option<Status>,
    pub(crate) event_type: &'a str,
    pub(crate) source_topic: &'a str,
}

/// Newest first, after the row `before` (keyset), at most `limit` rows.
pub(crate) async fn list(
    pool: &PgPool,
    filter: &Filter<'_>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<Row>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM dead_letters
         WHERE ($1::BIGINT IS NULL OR id < $1)
           AND ($2::TEXT IS NULL OR status = $2)
           AND ($3 = '' OR event_type = $3)
           AND ($4 = '' OR topic = $4)
         ORDER BY id DESC
         LIMIT $5"
    ))
    .bind(before)
    .bind(filter.status.map(Status::as_str))
    .bind(filter.event_type)
    .bind(filter.source_topic)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// How many are open.
pub(crate) async fn open_count(pool: &PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM dead_letters WHERE status = 'open'")
        .fetch_one(pool)
        .await
}

/// One dead letter.
pub(crate) async fn get(pool: &PgPool, id: i64) -> Result<Option<Row>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM dead_letters WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// One dead letter, locked until the transaction ends (two operators cannot both re-drive it).
pub(crate) async fn lock(tx: &mut PgConnection, id: i64) -> Result<Option<Row>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM dead_letters WHERE id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await
}

/// Closes an open dead letter as `status` by `who`; `None` when it was not open any more.
pub(crate) async fn resolve(
    tx: &mut PgConnection,
    id: i64,
    status: Status,
    who: &str,
    note: &str,
) -> Result<Option<Row>, sqlx::Error> {
    sqlx::query_as(concat!(
        "UPDATE dead_letters SET status = $2, resolved_by = $3, resolved_at = now(), note = $4
         WHERE id = $1 AND status = 'open'
         RETURNING ",
        columns!()
    ))
    .bind(id)
    .bind(status.as_str())
    .bind(who)
    .bind(note)
    .fetch_optional(&mut *tx)
    .await
}
