//! The exception queue (`exceptions`, R-P5): raised with the reason and the candidates,
//! decided again when something they depend on becomes known, resolved by a person.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::status::{ExceptionKind, PaymentStatus};

/// An exception to record.
pub(crate) struct NewException<'a> {
    pub(crate) id: Uuid,
    pub(crate) payment_id: Uuid,
    pub(crate) kind: ExceptionKind,
    pub(crate) reason: &'a str,
    pub(crate) suggested_action: &'a str,
    /// JSON array of candidates.
    pub(crate) candidates: &'a str,
    pub(crate) also: &'a [String],
}

/// Records an exception in the queue.
pub(crate) async fn insert_exception(
    tx: &mut PgConnection,
    e: &NewException<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO exceptions (id, payment_id, kind, reason, suggested_action, candidates, also)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)",
    )
    .bind(e.id)
    .bind(e.payment_id)
    .bind(e.kind.as_str())
    .bind(e.reason)
    .bind(e.suggested_action)
    .bind(e.candidates)
    .bind(e.also)
    .execute(&mut *tx)
    .await
    .map(|_| ())
}

/// An open exception of a payment not applied, that something now known may change.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct Rematchable {
    pub(crate) exception_id: Uuid,
    pub(crate) kind: String,
    pub(crate) payment_id: Uuid,
}

/// The open exceptions of `kinds` whose payment is not applied and whose remittance names
/// the contract `contract_compact` (upper-case, letters and digits only) or whose payer
/// account is one of `account_indexes`; locked, oldest payment first.
pub(crate) async fn lock_rematchable_exceptions(
    tx: &mut PgConnection,
    contract_compact: Option<&str>,
    account_indexes: &[String],
    kinds: &[ExceptionKind],
) -> Result<Vec<Rematchable>, sqlx::Error> {
    let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    sqlx::query_as(
        "SELECT e.id AS exception_id, e.kind, p.id AS payment_id
         FROM exceptions e JOIN payments p ON p.id = e.payment_id
         WHERE e.resolved_at IS NULL AND p.status = $4 AND e.kind = ANY($3)
           AND (($1::text IS NOT NULL AND strpos(upper(regexp_replace(p.reference, '[^A-Za-z0-9]', '', 'g')), $1) > 0)
                OR (p.payer_account_index <> '' AND p.payer_account_index = ANY($2)))
         ORDER BY p.created_at, p.line_no FOR UPDATE OF e",
    )
    .bind(contract_compact)
    .bind(account_indexes)
    .bind(&kinds)
    .bind(PaymentStatus::Exception.as_str())
    .fetch_all(&mut *tx)
    .await
}

/// Resolves an exception the service decided again itself (no person).
pub(crate) async fn resolve_exception_automatically(
    tx: &mut PgConnection,
    exception_id: Uuid,
    resolution: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE exceptions SET resolved_at = now(), resolution = $2 WHERE id = $1")
        .bind(exception_id)
        .bind(resolution)
        .execute(&mut *tx)
        .await
        .map(|_| ())
}

/// Resolves an exception a person (`by`, the authenticated principal) decided.
pub(crate) async fn resolve_exception_by(
    tx: &mut PgConnection,
    exception_id: Uuid,
    resolution: &str,
    by: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE exceptions SET resolved_at = now(), resolution = $2, resolved_by = $3 WHERE id = $1",
    )
    .bind(exception_id)
    .bind(resolution)
    .bind(by)
    .execute(&mut *tx)
    .await
    .map(|_| ())
}

/// An exception a person is deciding, with its payment's status.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ExceptionToResolve {
    pub(crate) payment_id: Uuid,
    pub(crate) kind: String,
    pub(crate) resolution: Option<String>,
    /// JSON array of candidates.
    pub(crate) candidates: String,
    pub(crate) payment_status: String,
}

/// The exception, locked for the rest of the transaction, if it exists.
pub(crate) async fn lock_exception(
    tx: &mut PgConnection,
    exception_id: Uuid,
) -> Result<Option<ExceptionToResolve>, sqlx::Error> {
    sqlx::query_as(
        "SELECT e.payment_id, e.kind, e.resolution, e.candidates::text AS candidates, p.status AS payment_status
         FROM exceptions e JOIN payments p ON p.id = e.payment_id WHERE e.id = $1 FOR UPDATE OF e",
    )
    .bind(exception_id)
    .fetch_optional(&mut *tx)
    .await
}

/// An open exception as the queue lists it.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct OpenException {
    pub(crate) id: Uuid,
    pub(crate) payment_id: Uuid,
    pub(crate) kind: String,
    pub(crate) reason: String,
    pub(crate) suggested_action: String,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) amount: Decimal,
    pub(crate) currency: String,
    pub(crate) reference: String,
    /// JSON array of candidates.
    pub(crate) candidates: String,
    pub(crate) also: Vec<String>,
}

/// One page of open exceptions, of `kind` if given, after `after` in id order.
pub(crate) async fn open_exceptions_page(
    pool: &PgPool,
    kind: Option<&str>,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<OpenException>, sqlx::Error> {
    sqlx::query_as(
        "SELECT e.id, e.payment_id, e.kind, e.reason, e.suggested_action, e.created_at, p.amount, p.currency,
                p.reference, e.candidates::text AS candidates, e.also
         FROM exceptions e JOIN payments p ON p.id = e.payment_id
         WHERE e.resolved_at IS NULL AND ($1::text IS NULL OR e.kind = $1) AND ($2::uuid IS NULL OR e.id > $2)
         ORDER BY e.id LIMIT $3",
    )
    .bind(kind)
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// How many exceptions of each kind are open.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct OpenCount {
    pub(crate) kind: String,
    pub(crate) open: i64,
}

/// The open exceptions counted by kind.
pub(crate) async fn open_exception_counts(pool: &PgPool) -> Result<Vec<OpenCount>, sqlx::Error> {
    sqlx::query_as(
        "SELECT kind, count(*) AS open FROM exceptions WHERE resolved_at IS NULL GROUP BY kind ORDER BY kind",
    )
    .fetch_all(pool)
    .await
}
