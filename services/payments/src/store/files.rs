//! Bank files (`bank_files`, `line_errors`): file-level idempotency by the SHA-256 of the
//! bytes (R-P2) and what each file did.

use sqlx::PgConnection;
use uuid::Uuid;

/// Waits for any other transaction taking the file with this digest (two uploads of the
/// same file at once: the second then sees the first).
pub(crate) async fn lock_file_digest(
    tx: &mut PgConnection,
    sha256: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
        .bind(sha256)
        .execute(&mut *tx)
        .await
        .map(|_| ())
}

/// Records a new file with zero counts (set by [`record_file_counts`] at the end).
pub(crate) async fn insert_bank_file(
    tx: &mut PgConnection,
    file_id: Uuid,
    file_name: &str,
    sha256: &str,
    format: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO bank_files (id, file_name, sha256, format, lines_total, lines_accepted, lines_duplicate,
                                 lines_rejected, payments_matched, exceptions_raised)
         VALUES ($1, $2, $3, $4, 0, 0, 0, 0, 0, 0)",
    )
    .bind(file_id)
    .bind(file_name)
    .bind(sha256)
    .bind(format)
    .execute(&mut *tx)
    .await
    .map(|_| ())
}

/// A line of a file that was refused, and why.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct LineError {
    pub(crate) line_no: i32,
    pub(crate) field: String,
    pub(crate) message: String,
}

/// Records a refused line.
pub(crate) async fn insert_line_error(
    tx: &mut PgConnection,
    file_id: Uuid,
    e: &LineError,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO line_errors (file_id, line_no, field, message) VALUES ($1, $2, $3, $4)",
    )
    .bind(file_id)
    .bind(e.line_no)
    .bind(&e.field)
    .bind(&e.message)
    .execute(&mut *tx)
    .await
    .map(|_| ())
}

/// What a file did, as counted.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct FileCounts {
    pub(crate) lines_total: i32,
    pub(crate) lines_accepted: i32,
    pub(crate) lines_duplicate: i32,
    pub(crate) lines_rejected: i32,
    pub(crate) payments_matched: i32,
    pub(crate) exceptions_raised: i32,
    pub(crate) entries_skipped: i32,
    pub(crate) lines_linked: i32,
}

/// Records what the file did.
pub(crate) async fn record_file_counts(
    tx: &mut PgConnection,
    file_id: Uuid,
    c: &FileCounts,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE bank_files SET lines_total = $2, lines_accepted = $3, lines_duplicate = $4, lines_rejected = $5,
                payments_matched = $6, exceptions_raised = $7, entries_skipped = $8, lines_linked = $9
         WHERE id = $1",
    )
    .bind(file_id)
    .bind(c.lines_total)
    .bind(c.lines_accepted)
    .bind(c.lines_duplicate)
    .bind(c.lines_rejected)
    .bind(c.payments_matched)
    .bind(c.exceptions_raised)
    .bind(c.entries_skipped)
    .bind(c.lines_linked)
    .execute(&mut *tx)
    .await
    .map(|_| ())
}

/// A file taken before.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct PreviousFile {
    pub(crate) id: Uuid,
    pub(crate) format: String,
    #[sqlx(flatten)]
    pub(crate) counts: FileCounts,
}

/// The file with this digest, if it was taken before.
pub(crate) async fn file_by_digest(
    tx: &mut PgConnection,
    sha256: &str,
) -> Result<Option<PreviousFile>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, lines_total, lines_accepted, lines_duplicate, lines_rejected, payments_matched, exceptions_raised,
                format, entries_skipped, lines_linked
         FROM bank_files WHERE sha256 = $1",
    )
    .bind(sha256)
    .fetch_optional(&mut *tx)
    .await
}

/// The refused lines of a file, in line order.
pub(crate) async fn line_errors_of_file(
    tx: &mut PgConnection,
    file_id: Uuid,
) -> Result<Vec<LineError>, sqlx::Error> {
    sqlx::query_as(
        "SELECT line_no, field, message FROM line_errors WHERE file_id = $1 ORDER BY line_no",
    )
    .bind(file_id)
    .fetch_all(&mut *tx)
    .await
}

/// The payments of a file, in line order.
pub(crate) async fn payment_ids_of_file(
    tx: &mut PgConnection,
    file_id: Uuid,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM payments WHERE file_id = $1 ORDER BY line_no")
        .bind(file_id)
        .fetch_all(&mut *tx)
        .await
}
