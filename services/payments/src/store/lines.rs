//! Bank lines and their repeats (R-P2): claiming a fingerprint, where it was first seen,
//! what became of a line seen again.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::repeats::{LineSource, Repeat};

/// Claims `fingerprint` for a new payment; false when the line was seen before.
pub(crate) async fn claim_bank_line(
    tx: &mut PgConnection,
    fingerprint: &str,
    file_id: Uuid,
    line_no: i32,
    payment_id: Uuid,
    receiving_account_index: &str,
    source: LineSource,
) -> Result<bool, sqlx::Error> {
    let claimed = sqlx::query(
        "INSERT INTO bank_lines (fingerprint, file_id, line_no, payment_id, receiving_account_index, source)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (fingerprint) DO NOTHING",
    )
    .bind(fingerprint)
    .bind(file_id)
    .bind(line_no)
    .bind(payment_id)
    .bind(receiving_account_index)
    .bind(source.as_str())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(claimed == 1)
}

/// One line to claim with [`claim_bank_lines`].
pub(crate) struct Claim<'a> {
    pub(crate) fingerprint: &'a str,
    pub(crate) line_no: i32,
    pub(crate) payment_id: Uuid,
    pub(crate) receiving_account_index: String,
    pub(crate) source: LineSource,
}

/// [`claim_bank_line`] for every line of a file in one statement, in order (of two lines
/// with the same fingerprint the first claims it); returns the indexes in `claims` of the
/// lines claimed.
pub(crate) async fn claim_bank_lines(
    tx: &mut PgConnection,
    file_id: Uuid,
    claims: &[Claim<'_>],
) -> Result<std::collections::HashSet<usize>, sqlx::Error> {
    let fingerprints: Vec<&str> = claims.iter().map(|c| c.fingerprint).collect();
    let line_nos: Vec<i32> = claims.iter().map(|c| c.line_no).collect();
    let payments: Vec<Uuid> = claims.iter().map(|c| c.payment_id).collect();
    let indexes: Vec<&str> = claims
        .iter()
        .map(|c| c.receiving_account_index.as_str())
        .collect();
    let sources: Vec<&str> = claims.iter().map(|c| c.source.as_str()).collect();
    let claimed: Vec<i64> = sqlx::query_scalar(
        "WITH wanted AS (
             SELECT f, l, p, r, s, n FROM UNNEST($2::text[], $3::int4[], $4::uuid[], $5::text[], $6::text[])
                  WITH ORDINALITY AS u(f, l, p, r, s, n)
         ), inserted AS (
             INSERT INTO bank_lines (fingerprint, file_id, line_no, payment_id, receiving_account_index, source)
             SELECT f, $1, l, p, r, s FROM wanted ORDER BY n
             ON CONFLICT (fingerprint) DO NOTHING
             RETURNING payment_id
         )
         SELECT w.n - 1 FROM wanted w JOIN inserted i ON i.payment_id = w.p",
    )
    .bind(file_id)
    .bind(&fingerprints)
    .bind(&line_nos)
    .bind(&payments)
    .bind(&indexes)
    .bind(&sources)
    .fetch_all(&mut *tx)
    .await?;
    Ok(claimed
        .into_iter()
        .filter_map(|n| usize::try_from(n).ok())
        .collect())
}

/// The first sighting of a line.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct FirstSighting {
    pub(crate) file_id: Uuid,
    pub(crate) line_no: i32,
    pub(crate) payment_id: Uuid,
    pub(crate) receiving_account_index: String,
    pub(crate) source: String,
    pub(crate) file_name: String,
}

/// Where `fingerprint` was first seen.
pub(crate) async fn first_sighting(
    tx: &mut PgConnection,
    fingerprint: &str,
) -> Result<Option<FirstSighting>, sqlx::Error> {
    sqlx::query_as(
        "SELECT l.file_id, l.line_no, l.payment_id, l.receiving_account_index, l.source, f.file_name
         FROM bank_lines l JOIN bank_files f ON f.id = l.file_id
         WHERE l.fingerprint = $1",
    )
    .bind(fingerprint)
    .fetch_optional(&mut *tx)
    .await
}

/// The file of an end-of-day statement that already confirmed `fingerprint` as a linked
/// repeat (the first sighting was an intraday report), if any.
pub(crate) async fn confirming_statement(
    tx: &mut PgConnection,
    fingerprint: &str,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT file_id FROM bank_line_repeats
         WHERE fingerprint = $1 AND outcome = $2 AND source = $3
         ORDER BY recorded_at LIMIT 1",
    )
    .bind(fingerprint)
    .bind(Repeat::Linked.as_str())
    .bind(LineSource::Statement.as_str())
    .fetch_optional(&mut *tx)
    .await
}

/// Records what became of a line seen again.
pub(crate) async fn record_repeat(
    tx: &mut PgConnection,
    file_id: Uuid,
    line_no: i32,
    fingerprint: &str,
    source: LineSource,
    outcome: Repeat,
    payment_id: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO bank_line_repeats (file_id, line_no, fingerprint, source, outcome, payment_id)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(file_id)
    .bind(line_no)
    .bind(fingerprint)
    .bind(source.as_str())
    .bind(outcome.as_str())
    .bind(payment_id)
    .execute(&mut *tx)
    .await
    .map(|_| ())
}
