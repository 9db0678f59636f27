//! Refunds of an unapplied surplus with separation of duties (R-P9): one person requests,
//! another approves or rejects; the requester may withdraw their own request. Who acts is
//! the authenticated principal (R-O3). Each command locks the payment row first, then the
//! refund, so concurrent requests and approvals of one payment take turns and can never
//! refund more than its surplus (`domain::refund`). Approval books the refund in the same
//! transaction: the payment's `refunded` grows, its UNAPPLIED_SURPLUS exception is resolved
//! once nothing is left, and `RefundApproved` goes to the outbox. The payer's account travels
//! only as its blind index and masked form (R-O4).

use rust_decimal::Decimal;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use kit::outbox::Outbox;
use kit::{ApiError, wire};
use proto::events::v1 as events;
use proto::payments::v1 as api;

use crate::domain::refund::{RefundError, RefundStatus, Refundable};
use crate::engine::Engine;
use crate::store::{self, PaymentForRefund, RefundRow};

/// Longest reason kept.
const MAX_REASON: usize = 500;

/// The API's answer to a refused rule: `INVALID_ARGUMENT` naming the field, R-P9's and the
/// requester's rules `PERMISSION_DENIED` (the caller may call the method, but not on this
/// refund), a refund already decided `FAILED_PRECONDITION`.
fn refused(e: RefundError) -> ApiError {
    match e.field() {
        Some(field) => ApiError::invalid(field, e.to_string()),
        None => match e {
            RefundError::SameAsRequester { .. } | RefundError::NotTheRequester { .. } => {
                ApiError::PermissionDenied(e.to_string())
            }
            _ => ApiError::FailedPrecondition(e.to_string()),
        },
    }
}

/// What may be refunded of the locked payment: the engine's unapplied surplus of an applied
/// payment, in its own currency.
fn refundable_of(payment_id: Uuid, p: &PaymentForRefund) -> Result<Refundable, ApiError> {
    if !p.applied() {
        return Err(ApiError::FailedPrecondition(format!(
            "payment {payment_id} was not applied ({}): only the unapplied surplus of an applied payment is refunded with RequestRefund; decide its exception first with ResolveException (confirm a candidate, or dismiss it with a note)",
            p.status
        )));
    }
    let currency = p.currency.trim().to_owned();
    let booked = p.booked_currency.as_deref().unwrap_or(&currency);
    if booked != currency {
        return Err(ApiError::FailedPrecondition(format!(
            "payment {payment_id} in {currency} was converted to {booked} (R-P8); its surplus is in {booked}: a converted payment's refund is not supported here yet, refund it by hand and dismiss its exception with a note"
        )));
    }
    Ok(Refundable {
        surplus: p.unapplied.unwrap_or_default().max(Decimal::ZERO),
        currency,
        approved: p.refunded,
        waiting: p.waiting,
    })
}

/// The idempotency fingerprint of a request: a repeat must ask for the same.
fn request_hash(payment_id: Uuid, amount: Decimal, currency: &str, reason: &str) -> String {
    let text = format!("{payment_id}\n{}\n{currency}\n{reason}", amount.normalize());
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The event key: the customer when known, so the refund stays in order with the customer's
/// other events, else the payment.
fn key(r: &RefundRow) -> String {
    r.customer_id
        .map_or_else(|| r.payment_id.to_string(), |c| c.to_string())
}

pub(crate) fn to_api(r: &RefundRow) -> api::Refund {
    let status = match RefundStatus::parse(&r.status) {
        Ok(RefundStatus::Requested) => api::RefundStatus::Requested,
        Ok(RefundStatus::Approved) => api::RefundStatus::Approved,
        Ok(RefundStatus::Rejected) => api::RefundStatus::Rejected,
        Ok(RefundStatus::Cancelled) => api::RefundStatus::Cancelled,
        Err(_) => api::RefundStatus::Unspecified,
    };
    api::Refund {
        refund_id: r.id.to_string(),
        payment_id: r.payment_id.to_string(),
        customer_id: r.customer_id.map(|c| c.to_string()).unwrap_or_default(),
        amount: Some(wire::money(r.amount, r.currency.trim())),
        status: status as i32,
        reason: r.reason.clone(),
        requested_by: r.requested_by.clone(),
        requested_at: r.requested_at.to_rfc3339(),
        decided_by: r.decided_by.clone().unwrap_or_default(),
        decided_at: r.decided_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
        decision_reason: r.decision_reason.clone(),
        payer_account_masked: r.payer_account_masked.clone(),
    }
}

/// `RequestRefund`.
pub(crate) async fn request(
    pool: &PgPool,
    outbox: &Outbox,
    engine: &Engine,
    caller: &kit::auth::Caller,
    request: api::RequestRefundRequest,
) -> Result<api::RequestRefundResponse, ApiError> {
    let idempotency_key = wire::required("idempotency_key", &request.idempotency_key, 200)?;
    let payment_id = wire::uuid("payment_id", &request.payment_id)?;
    let (amount, currency) = wire::required_money("amount", request.amount.as_ref(), "120.00 CNY")?;
    let reason = wire::required("reason", &request.reason, MAX_REASON)?;
    caller.touch("payment", payment_id);
    // R-O3: who asks is the authenticated principal.
    let by = caller.subject().to_owned();
    let hash = request_hash(payment_id, amount, &currency, &reason);

    let mut tx = pool.begin().await?;
    // The payment first: requests of one payment take turns (no over-refund).
    let Some(payment) = store::lock_payment_for_refund(&mut tx, payment_id).await? else {
        return Err(ApiError::NotFound(format!(
            "no payment with id {payment_id}; find it with ListPayments"
        )));
    };
    if let Some(first) = store::refund_by_idempotency_key(&mut tx, &idempotency_key).await? {
        return repeat(&first, &hash, &idempotency_key);
    }
    let refundable = refundable_of(payment_id, &payment)?;
    if refundable.surplus.is_zero() {
        return Err(ApiError::FailedPrecondition(format!(
            "payment {payment_id} has no unapplied surplus: all of it was applied; nothing to refund"
        )));
    }
    refundable
        .check_request(amount, &currency, &reason)
        .map_err(refused)?;
    let masked = engine
        .open_account(&payment.payer_account)
        .map(|a| wire::mask(&a.replace(' ', "")))
        .map_err(|e| {
            ApiError::Unexpected(anyhow::anyhow!(
                "payment {payment_id}: payer account cannot be opened: {e}"
            ))
        })?;
    let id = Uuid::new_v4();
    let inserted = store::insert_refund(
        &mut tx,
        &store::NewRefund {
            id,
            payment_id,
            amount,
            currency: &currency,
            reason: &reason,
            requested_by: &by,
            payer_account_index: &payment.payer_account_index,
            payer_account_masked: &masked,
            idempotency_key: &idempotency_key,
            request_hash: &hash,
        },
    )
    .await?;
    if !inserted {
        // The same key committed by a concurrent request of another payment meanwhile.
        let first = store::refund_by_idempotency_key(&mut tx, &idempotency_key)
            .await?
            .ok_or_else(|| {
                ApiError::Unavailable(
                    "the idempotency key is being used by a request still running; send the same request again in a few seconds".to_owned(),
                )
            })?;
        return repeat(&first, &hash, &idempotency_key);
    }
    let refund = store::lock_refund(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("refund {id} not read back")))?;
    let requested = events::RefundRequested {
        refund_id: id.to_string(),
        payment_id: payment_id.to_string(),
        customer_id: payment
            .customer_id
            .map(|c| c.to_string())
            .unwrap_or_default(),
        amount: Some(wire::money(amount, &currency)),
        reason: reason.clone(),
        requested_by: by.clone(),
        payer_account_index: payment.payer_account_index.clone(),
        payer_account_masked: masked,
    };
    outbox
        .enqueue(&mut tx, kit::events::PAYMENTS, &key(&refund), &requested)
        .await?;
    tx.commit().await?;
    caller.touch("refund", id);
    tracing::info!(refund_id = %id, %payment_id, %amount, %currency, requested_by = %by, "refund requested (R-P9: another person decides)");
    Ok(api::RequestRefundResponse {
        refund: Some(to_api(&refund)),
        refundable_left: Some(wire::money(refundable.left() - amount, &currency)),
    })
}

/// A repeated RequestRefund: the first result, or FAILED_PRECONDITION when the key was used
/// for another request.
fn repeat(
    first: &RefundRow,
    hash: &str,
    key: &str,
) -> Result<api::RequestRefundResponse, ApiError> {
    if first.request_hash != hash {
        return Err(ApiError::FailedPrecondition(format!(
            "idempotency_key {key:?} was used for another refund request ({}); use a new key for a new request",
            first.id
        )));
    }
    Ok(api::RequestRefundResponse {
        refund: Some(to_api(first)),
        refundable_left: None,
    })
}

/// The refund and its payment, locked in that order.
async fn lock(
    tx: &mut PgConnection,
    refund_id: Uuid,
) -> Result<(PaymentForRefund, RefundRow, RefundStatus), ApiError> {
    let not_found = || {
        ApiError::NotFound(format!(
            "no refund with id {refund_id}; list them with ListRefunds"
        ))
    };
    let payment_id = store::payment_of_refund(tx, refund_id)
        .await?
        .ok_or_else(not_found)?;
    let payment = store::lock_payment_for_refund(tx, payment_id)
        .await?
        .ok_or_else(not_found)?;
    let refund = store::lock_refund(tx, refund_id)
        .await?
        .ok_or_else(not_found)?;
    let status = RefundStatus::parse(&refund.status)
        .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("refund {refund_id}: {e}")))?;
    Ok((payment, refund, status))
}

/// `ApproveRefund`: by another person than the requester (R-P9); books the refund.
pub(crate) async fn approve(
    pool: &PgPool,
    outbox: &Outbox,
    caller: &kit::auth::Caller,
    request: api::ApproveRefundRequest,
) -> Result<api::ApproveRefundResponse, ApiError> {
    let refund_id = wire::uuid("refund_id", &request.refund_id)?;
    let note = request.note.trim();
    if note.chars().count() > MAX_REASON {
        return Err(ApiError::invalid(
            "note",
            format!("is longer than {MAX_REASON} characters"),
        ));
    }
    caller.touch("refund", refund_id);
    let by = caller.subject().to_owned();
    let mut tx = pool.begin().await?;
    let (payment, refund, status) = lock(&mut tx, refund_id).await?;
    // R-P9: the requester may not approve their own refund.
    status.approve(&refund.requested_by, &by).map_err(refused)?;
    let payment_id = refund.payment_id;
    let refundable = refundable_of(payment_id, &payment)?;
    let booked = refundable
        .approve(refund.amount)
        .map_err(|e| ApiError::FailedPrecondition(format!("refund {refund_id}: {e}")))?;
    let approved_at =
        store::decide_refund(&mut tx, refund_id, RefundStatus::Approved, &by, note).await?;
    store::add_refunded(&mut tx, payment_id, refund.amount).await?;
    let currency = refundable.currency.as_str();
    let left = booked.unrefunded();
    let key = key(&refund);
    let mut resolved_exception_ids = Vec::new();
    if left.is_zero() {
        let resolution = format!(
            "refunded: the surplus was refunded in full (refund {refund_id} of {}, approved by {by})",
            wire::format_amount(refund.amount, currency)
        );
        for exception_id in store::lock_open_surplus_exceptions(&mut tx, payment_id).await? {
            store::resolve_exception_by(&mut tx, exception_id, &resolution, &by).await?;
            let resolved = events::ExceptionResolved {
                exception_id: exception_id.to_string(),
                payment_id: payment_id.to_string(),
                resolution: resolution.clone(),
            };
            outbox
                .enqueue(&mut tx, kit::events::PAYMENTS, &key, &resolved)
                .await?;
            resolved_exception_ids.push(exception_id.to_string());
        }
    }
    let approved = events::RefundApproved {
        refund_id: refund_id.to_string(),
        payment_id: payment_id.to_string(),
        customer_id: refund
            .customer_id
            .map(|c| c.to_string())
            .unwrap_or_default(),
        amount: Some(wire::money(refund.amount, currency)),
        reason: refund.reason.clone(),
        requested_by: refund.requested_by.clone(),
        approved_by: by.clone(),
        approved_at: approved_at.to_rfc3339(),
        payer_account_index: refund.payer_account_index.clone(),
        payer_account_masked: refund.payer_account_masked.clone(),
        unapplied_left: Some(wire::money(left, currency)),
    };
    outbox
        .enqueue(&mut tx, kit::events::PAYMENTS, &key, &approved)
        .await?;
    let refund = store::lock_refund(&mut tx, refund_id)
        .await?
        .ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("refund {refund_id} vanished")))?;
    tx.commit().await?;
    tracing::info!(%refund_id, %payment_id, approved_by = %by, requested_by = %refund.requested_by, unapplied_left = %left, "refund approved and booked (R-P9)");
    Ok(api::ApproveRefundResponse {
        refund: Some(to_api(&refund)),
        unapplied_left: Some(wire::money(left, currency)),
        resolved_exception_ids,
    })
}

/// `RejectRefund` (another person, with a reason; R-P9) and `CancelRefund` (the requester).
pub(crate) async fn reject_or_cancel(
    pool: &PgPool,
    outbox: &Outbox,
    caller: &kit::auth::Caller,
    refund_id: &str,
    reason: &str,
    cancel: bool,
) -> Result<api::Refund, ApiError> {
    let refund_id = wire::uuid("refund_id", refund_id)?;
    let reason = reason.trim();
    if reason.chars().count() > MAX_REASON {
        return Err(ApiError::invalid(
            "reason",
            format!("is longer than {MAX_REASON} characters"),
        ));
    }
    caller.touch("refund", refund_id);
    let by = caller.subject().to_owned();
    let mut tx = pool.begin().await?;
    let (_, refund, status) = lock(&mut tx, refund_id).await?;
    let to = if cancel {
        status.cancel(&refund.requested_by, &by)
    } else {
        status.reject(&refund.requested_by, &by, reason)
    }
    .map_err(refused)?;
    store::decide_refund(&mut tx, refund_id, to, &by, reason).await?;
    let rejected = events::RefundRejected {
        refund_id: refund_id.to_string(),
        payment_id: refund.payment_id.to_string(),
        customer_id: refund
            .customer_id
            .map(|c| c.to_string())
            .unwrap_or_default(),
        amount: Some(wire::money(refund.amount, refund.currency.trim())),
        rejected_by: by.clone(),
        reason: reason.to_owned(),
        cancelled: cancel,
    };
    outbox
        .enqueue(&mut tx, kit::events::PAYMENTS, &key(&refund), &rejected)
        .await?;
    let refund = store::lock_refund(&mut tx, refund_id)
        .await?
        .ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("refund {refund_id} vanished")))?;
    tx.commit().await?;
    tracing::info!(%refund_id, status = %to, by = %by, "refund decided");
    Ok(to_api(&refund))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn the_request_hash_ignores_trailing_zeros_but_not_the_request() {
        let p = Uuid::nil();
        let a = request_hash(p, Decimal::from_str("12.30").unwrap(), "CNY", "r");
        assert_eq!(
            a,
            request_hash(p, Decimal::from_str("12.3").unwrap(), "CNY", "r")
        );
        assert_ne!(
            a,
            request_hash(p, Decimal::from_str("12.31").unwrap(), "CNY", "r")
        );
        assert_ne!(
            a,
            request_hash(p, Decimal::from_str("12.30").unwrap(), "CNY", "s")
        );
    }

    #[test]
    fn r_p9_self_approval_is_permission_denied_and_a_bad_amount_names_the_field() {
        let e = refused(RefundError::SameAsRequester {
            requester: "a".to_owned(),
            action: crate::domain::refund::Action::Approve,
        });
        assert!(matches!(&e, ApiError::PermissionDenied(m) if m.contains("R-P9")));
        let e = refused(RefundError::MoreThanRefundable {
            amount: Decimal::ONE,
            left: Decimal::ZERO,
            currency: "CNY".to_owned(),
        });
        assert!(matches!(&e, ApiError::Invalid { field, .. } if field == "amount"));
        let e = refused(RefundError::AlreadyDecided {
            status: RefundStatus::Approved,
            action: crate::domain::refund::Action::Reject,
        });
        assert!(matches!(e, ApiError::FailedPrecondition(_)));
    }
}
