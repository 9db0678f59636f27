//! Refunds of an unapplied surplus (`refunds`, R-P9). Every change runs with the payment row
//! locked first (`lock_payment_for_refund`), then the refund row: two requests or approvals
//! of one payment take turns, so together they can never refund more than its surplus.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::refund::RefundStatus;
use crate::domain::status::{ExceptionKind, PaymentStatus};

/// A payment as a refund needs it, locked for the rest of the transaction.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct PaymentForRefund {
    pub(crate) status: String,
    pub(crate) currency: String,
    pub(crate) customer_id: Option<Uuid>,
    /// Sealed (R-O4); opened only in memory to mask it.
    pub(crate) payer_account: String,
    pub(crate) payer_account_index: String,
    /// Σ of its approved refunds.
    pub(crate) refunded: Decimal,
    /// The engine's outcome (`applied`, `proposed`, `exception`), if decided.
    pub(crate) outcome: Option<String>,
    /// The engine's unapplied amount, in `booked_currency`.
    pub(crate) unapplied: Option<Decimal>,
    pub(crate) booked_currency: Option<String>,
    /// Σ of its refunds requested and waiting for a decision.
    pub(crate) waiting: Decimal,
}

/// The payment, locked (`FOR UPDATE`), with its refund figures (from its decision), if it
/// exists.
pub(crate) async fn lock_payment_for_refund(
    tx: &mut PgConnection,
    payment_id: Uuid,
) -> Result<Option<PaymentForRefund>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT p.status, p.currency, p.customer_id, p.payer_account, p.payer_account_index, p.refunded,
                d.decision->>'outcome' AS outcome, (d.decision->>'unapplied')::numeric AS unapplied,
                d.decision->>'booked_currency' AS booked_currency,
                (SELECT COALESCE(sum(r.amount), 0) FROM refunds r
                  WHERE r.payment_id = p.id AND r.status = $2) AS waiting
         FROM payments p
         CROSS JOIN LATERAL (SELECT ",
        decision_of_p!(),
        " AS decision) d
         WHERE p.id = $1 FOR UPDATE OF p",
    ))
    .bind(payment_id)
    .bind(RefundStatus::Requested.as_str())
    .fetch_optional(&mut *tx)
    .await
}

impl PaymentForRefund {
    /// Whether the engine applied it (a surplus exists only then).
    pub(crate) fn applied(&self) -> bool {
        self.outcome.as_deref() == Some("applied")
            && PaymentStatus::parse(&self.status).is_ok_and(|s| s != PaymentStatus::Exception)
    }
}

/// A refund as stored, with its payment's customer.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct RefundRow {
    pub(crate) id: Uuid,
    pub(crate) payment_id: Uuid,
    pub(crate) customer_id: Option<Uuid>,
    pub(crate) amount: Decimal,
    pub(crate) currency: String,
    pub(crate) status: String,
    pub(crate) reason: String,
    pub(crate) requested_by: String,
    pub(crate) requested_at: DateTime<Utc>,
    pub(crate) decided_by: Option<String>,
    pub(crate) decided_at: Option<DateTime<Utc>>,
    pub(crate) decision_reason: String,
    pub(crate) payer_account_index: String,
    pub(crate) payer_account_masked: String,
    pub(crate) request_hash: String,
}

/// The columns of [`RefundRow`], for a query over `refunds r JOIN payments p`.
macro_rules! refund_columns {
    () => {
        "r.id, r.payment_id, p.customer_id, r.amount, r.currency, r.status, r.reason, r.requested_by,
         r.requested_at, r.decided_by, r.decided_at, r.decision_reason, r.payer_account_index,
         r.payer_account_masked, r.request_hash"
    };
}

/// A refund to record as requested.
pub(crate) struct NewRefund<'a> {
    pub(crate) id: Uuid,
    pub(crate) payment_id: Uuid,
    pub(crate) amount: Decimal,
    pub(crate) currency: &'a str,
    pub(crate) reason: &'a str,
    pub(crate) requested_by: &'a str,
    pub(crate) payer_account_index: &'a str,
    pub(crate) payer_account_masked: &'a str,
    pub(crate) idempotency_key: &'a str,
    pub(crate) request_hash: &'a str,
}

/// Records a requested refund; `false` when its idempotency key is already taken (a
/// concurrent repeat: read the first with [`refund_by_idempotency_key`]).
pub(crate) async fn insert_refund(
    tx: &mut PgConnection,
    r: &NewRefund<'_>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO refunds (id, payment_id, amount, currency, status, reason, requested_by,
                              payer_account_index, payer_account_masked, idempotency_key, request_hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (idempotency_key) DO NOTHING",
    )
    .bind(r.id)
    .bind(r.payment_id)
    .bind(r.amount)
    .bind(r.currency)
    .bind(RefundStatus::Requested.as_str())
    .bind(r.reason)
    .bind(r.requested_by)
    .bind(r.payer_account_index)
    .bind(r.payer_account_masked)
    .bind(r.idempotency_key)
    .bind(r.request_hash)
    .execute(&mut *tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The refund first requested under `key`, if any.
pub(crate) async fn refund_by_idempotency_key(
    tx: &mut PgConnection,
    key: &str,
) -> Result<Option<RefundRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        refund_columns!(),
        " FROM refunds r JOIN payments p ON p.id = r.payment_id WHERE r.idempotency_key = $1"
    ))
    .bind(key)
    .fetch_optional(&mut *tx)
    .await
}

/// The payment a refund is of, without locking (to lock the payment first).
pub(crate) async fn payment_of_refund(
    tx: &mut PgConnection,
    refund_id: Uuid,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar("SELECT payment_id FROM refunds WHERE id = $1")
        .bind(refund_id)
        .fetch_optional(&mut *tx)
        .await
}

/// The refund, locked for the rest of the transaction (after its payment).
pub(crate) async fn lock_refund(
    tx: &mut PgConnection,
    refund_id: Uuid,
) -> Result<Option<RefundRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        refund_columns!(),
        " FROM refunds r JOIN payments p ON p.id = r.payment_id WHERE r.id = $1 FOR UPDATE OF r"
    ))
    .bind(refund_id)
    .fetch_optional(&mut *tx)
    .await
}

/// Records the decision on a requested refund (`by`: the authenticated principal); returns
/// when it was decided.
pub(crate) async fn decide_refund(
    tx: &mut PgConnection,
    refund_id: Uuid,
    to: RefundStatus,
    by: &str,
    reason: &str,
) -> Result<DateTime<Utc>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE refunds SET status = $2, decided_by = $3, decided_at = now(), decision_reason = $4
         WHERE id = $1 AND status = $5 RETURNING decided_at",
    )
    .bind(refund_id)
    .bind(to.as_str())
    .bind(by)
    .bind(reason)
    .bind(RefundStatus::Requested.as_str())
    .fetch_one(&mut *tx)
    .await
}

/// Books an approved refund on its (locked) payment: its surplus is reduced by `amount`.
pub(crate) async fn add_refunded(
    tx: &mut PgConnection,
    payment_id: Uuid,
    amount: Decimal,
) -> Result<Decimal, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE payments SET refunded = refunded + $2 WHERE id = $1 RETURNING refunded",
    )
    .bind(payment_id)
    .bind(amount)
    .fetch_one(&mut *tx)
    .await
}

/// The payment's open UNAPPLIED_SURPLUS exceptions, locked.
pub(crate) async fn lock_open_surplus_exceptions(
    tx: &mut PgConnection,
    payment_id: Uuid,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM exceptions WHERE payment_id = $1 AND kind = $2 AND resolved_at IS NULL
         ORDER BY id FOR UPDATE",
    )
    .bind(payment_id)
    .bind(ExceptionKind::UnappliedSurplus.as_str())
    .fetch_all(&mut *tx)
    .await
}

/// Where a page of refunds starts: after this (requested_at, id).
pub(crate) type RefundsAfter = (DateTime<Utc>, Uuid);

/// One page of refunds, oldest request first, of `status` and `payment_id` if given.
pub(crate) async fn refunds_page(
    pool: &PgPool,
    status: Option<RefundStatus>,
    payment_id: Option<Uuid>,
    after: Option<&RefundsAfter>,
    limit: i64,
) -> Result<Vec<RefundRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        refund_columns!(),
        " FROM refunds r JOIN payments p ON p.id = r.payment_id
         WHERE ($1::text IS NULL OR r.status = $1) AND ($2::uuid IS NULL OR r.payment_id = $2)
           AND ($3::timestamptz IS NULL OR (r.requested_at, r.id) > ($3, $4))
         ORDER BY r.requested_at, r.id LIMIT $5"
    ))
    .bind(status.map(RefundStatus::as_str))
    .bind(payment_id)
    .bind(after.map(|a| a.0))
    .bind(after.map(|a| a.1))
    .bind(limit)
    .fetch_all(pool)
    .await
}
