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
    /// The payment, or what else it is about (a desk's cash count, a bounced cheque).
    pub(crate) about: About<'a>,
    pub(crate) kind: ExceptionKind,
    pub(crate) reason: &'a str,
    pub(crate) suggested_action: &'a str,
    /// JSON array of candidates.
    pub(crate) candidates: &'a str,
    pub(crate) also: &'a [String],
}

/// What an exception is about.
#[derive(Debug, Clone, Copy)]
pub(crate) enum About<'a> {
    Payment(Uuid),
    /// Not a payment: named, with its own amount.
    Other {
        subject: &'a str,
        amount: Decimal,
        currency: &'a str,
    },
}

impl<'a> About<'a> {
    /// The exception's columns for what it is about: the payment, or the subject with its
    /// amount and currency.
    fn columns(self) -> (Option<Uuid>, &'a str, Option<Decimal>, Option<&'a str>) {
        match self {
            About::Payment(id) => (Some(id), "", None, None),
            About::Other {
                subject,
                amount,
                currency,
            } => (None, subject, Some(amount), Some(currency)),
        }
    }
}

/// Records an exception in the queue.
pub(crate) async fn insert_exception(
    tx: &mut PgConnection,
    e: &NewException<'_>,
) -> Result<(), sqlx::Error> {
    let (payment_id, subject, amount, currency) = e.about.columns();
    sqlx::query(
        "INSERT INTO exceptions (id, payment_id, kind, reason, suggested_action, candidates, also,
                                 subject, amount, currency)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10)",
    )
    .bind(e.id)
    .bind(payment_id)
    .bind(e.kind.as_str())
    .bind(e.reason)
    .bind(e.suggested_action)
    .bind(e.candidates)
    .bind(e.also)
    .bind(subject)
    .bind(amount)
    .bind(currency)
    .execute(&mut *tx)
    .await
    .map(|_| ())
}

/// [`insert_exception`] for many exceptions in one statement: a bank file's payments held
/// for a person (issue 16).
pub(crate) async fn insert_exceptions(
    tx: &mut PgConnection,
    all: &[NewException<'_>],
) -> Result<(), sqlx::Error> {
    if all.is_empty() {
        return Ok(());
    }
    let n = all.len();
    let mut ids = Vec::with_capacity(n);
    let mut payment_ids = Vec::with_capacity(n);
    let mut kinds = Vec::with_capacity(n);
    let mut reasons = Vec::with_capacity(n);
    let mut actions = Vec::with_capacity(n);
    let mut candidates = Vec::with_capacity(n);
    // A text[] per row cannot go through UNNEST (it would flatten): each as a JSON array.
    let mut also = Vec::with_capacity(n);
    let mut subjects = Vec::with_capacity(n);
    let mut amounts = Vec::with_capacity(n);
    let mut currencies = Vec::with_capacity(n);
    for e in all {
        let (payment_id, subject, amount, currency) = e.about.columns();
        ids.push(e.id);
        payment_ids.push(payment_id);
        kinds.push(e.kind.as_str());
        reasons.push(e.reason);
        actions.push(e.suggested_action);
        candidates.push(e.candidates);
        also.push(serde_json::to_string(e.also).map_err(|e| sqlx::Error::Encode(Box::new(e)))?);
        subjects.push(subject);
        amounts.push(amount);
        currencies.push(currency);
    }
    sqlx::query(
        "INSERT INTO exceptions (id, payment_id, kind, reason, suggested_action, candidates, also,
                                 subject, amount, currency)
         SELECT u.i, u.p, u.k, u.r, u.a, u.c::jsonb, ARRAY(SELECT json_array_elements_text(u.l::json)),
                u.s, u.m, u.y
         FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                     $8::text[], $9::numeric[], $10::text[]) AS u(i, p, k, r, a, c, l, s, m, y)",
    )
    .bind(&ids)
    .bind(&payment_ids)
    .bind(&kinds)
    .bind(&reasons)
    .bind(&actions)
    .bind(&candidates)
    .bind(&also)
    .bind(&subjects)
    .bind(&amounts)
    .bind(&currencies)
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

/// Whether any open exception of `kinds` waits for one of the contracts (compact numbers,
/// see [`lock_rematchable_exceptions`]) or payer accounts of a run of signed contracts:
/// only when none does is the run taken in together (issue 16). Locks nothing.
pub(crate) async fn any_rematchable(
    tx: &mut PgConnection,
    contracts_compact: &[String],
    account_indexes: &[&str],
    kinds: &[ExceptionKind],
) -> Result<bool, sqlx::Error> {
    let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    sqlx::query_scalar(
        "SELECT EXISTS (
           SELECT 1 FROM exceptions e JOIN payments p ON p.id = e.payment_id
           WHERE e.resolved_at IS NULL AND p.status = $4 AND e.kind = ANY($3)
             AND (EXISTS (SELECT 1 FROM UNNEST($1::text[]) c
                          WHERE strpos(upper(regexp_replace(p.reference, '[^A-Za-z0-9]', '', 'g')), c) > 0)
                  OR (p.payer_account_index <> '' AND p.payer_account_index = ANY($2))))",
    )
    .bind(contracts_compact)
    .bind(account_indexes)
    .bind(&kinds)
    .bind(PaymentStatus::Exception.as_str())
    .fetch_one(&mut *tx)
    .await
}

/// Resolves an exception the service decided again itself (no person).
pub(crate) async fn resolve_exception_automatically(
    tx: &mut PgConnection,
    exception_id: Uuid,
    resolution: &str,
) -> Result<(), sqlx::Error> {
    let payment: Option<Option<Uuid>> = sqlx::query_scalar(
        "UPDATE exceptions SET resolved_at = now(), resolution = $2 WHERE id = $1 RETURNING payment_id",
    )
    .bind(exception_id)
    .bind(resolution)
    .fetch_optional(&mut *tx)
    .await?;
    stamp(tx, payment.flatten()).await
}

/// R-P7: a payment whose last open exception closed may now be reconciled.
async fn stamp(tx: &mut PgConnection, payment_id: Option<Uuid>) -> Result<(), sqlx::Error> {
    match payment_id {
        Some(id) => super::payments::stamp_reconciled(tx, id).await,
        None => Ok(()),
    }
}

/// Resolves an exception a person (`by`, the authenticated principal) decided.
pub(crate) async fn resolve_exception_by(
    tx: &mut PgConnection,
    exception_id: Uuid,
    resolution: &str,
    by: &str,
) -> Result<(), sqlx::Error> {
    let payment: Option<Option<Uuid>> = sqlx::query_scalar(
        "UPDATE exceptions SET resolved_at = now(), resolution = $2, resolved_by = $3 WHERE id = $1
         RETURNING payment_id",
    )
    .bind(exception_id)
    .bind(resolution)
    .bind(by)
    .fetch_optional(&mut *tx)
    .await?;
    stamp(tx, payment.flatten()).await
}

/// An exception a person is deciding, with its payment's status.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ExceptionToResolve {
    /// `None` for an exception about something else (a cash count, a bounced cheque).
    pub(crate) payment_id: Option<Uuid>,
    pub(crate) kind: String,
    pub(crate) resolution: Option<String>,
    /// JSON array of candidates.
    pub(crate) candidates: String,
    pub(crate) payment_status: Option<String>,
}

/// The exception, locked for the rest of the transaction, if it exists.
pub(crate) async fn lock_exception(
    tx: &mut PgConnection,
    exception_id: Uuid,
) -> Result<Option<ExceptionToResolve>, sqlx::Error> {
    sqlx::query_as(
        "SELECT e.payment_id, e.kind, e.resolution, e.candidates::text AS candidates, p.status AS payment_status
         FROM exceptions e LEFT JOIN payments p ON p.id = e.payment_id WHERE e.id = $1 FOR UPDATE OF e",
    )
    .bind(exception_id)
    .fetch_optional(&mut *tx)
    .await
}

/// An open exception as the queue lists it.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct OpenException {
    pub(crate) id: Uuid,
    pub(crate) payment_id: Option<Uuid>,
    /// What it is about when not a payment.
    pub(crate) subject: String,
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
        "SELECT e.id, e.payment_id, e.subject, e.kind, e.reason, e.suggested_action, e.created_at,
                COALESCE(p.amount, e.amount) AS amount, COALESCE(p.currency, e.currency) AS currency,
                COALESCE(p.reference, '') AS reference, e.candidates::text AS candidates, e.also
         FROM exceptions e LEFT JOIN payments p ON p.id = e.payment_id
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
