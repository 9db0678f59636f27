//! A person decides an open exception (R-P5: flagged, never guessed; the money of a
//! third-party payer is applied only after a person confirms): confirm one of its candidates,
//! so the payment is applied as that candidate proposes, or close it without applying.

use std::str::FromStr;

use rust_decimal::Decimal;
use sqlx::PgPool;
use uuid::Uuid;

use kit::outbox::Outbox;
use kit::{ApiError, wire};
use proto::events::v1 as events;
use proto::payments::v1 as api;
use proto::payments::v1::resolve_exception_request::Action;

use crate::decisions::{self, Proposed, StoredCandidate};
use crate::domain::status::{AllocationStatus, PaymentStatus};
use crate::engine::Engine;
use crate::store;

pub(crate) async fn resolve(
    pool: &PgPool,
    outbox: &Outbox,
    engine: &Engine,
    caller: &kit::auth::Caller,
    request: api::ResolveExceptionRequest,
) -> Result<api::ResolveExceptionResponse, ApiError> {
    let exception_id = wire::uuid("exception_id", &request.exception_id)?;
    caller.touch("exception", exception_id);
    // R-O3: who decided is the authenticated principal.
    let by = caller.subject().to_owned();
    let note = request.note.trim();
    let action = request.action.ok_or_else(|| {
        ApiError::invalid(
            "action",
            "give confirm_candidate (the candidate to apply) or dismiss",
        )
    })?;
    let mut tx = pool.begin().await?;
    // The ledger lock first, as every other change to the open receivables takes it.
    let mut session = engine.open(&mut tx).await?;
    let Some(store::ExceptionToResolve {
        payment_id,
        kind,
        resolution,
        candidates,
        payment_status: status,
    }) = store::lock_exception(&mut tx, exception_id).await?
    else {
        return Err(ApiError::NotFound(format!(
            "no exception with id {exception_id}; list the open ones with ListExceptions"
        )));
    };
    if let Some(resolution) = resolution {
        return Err(ApiError::FailedPrecondition(format!(
            "exception {exception_id} is already resolved: {resolution}"
        )));
    }
    let suffix = if note.is_empty() {
        String::new()
    } else {
        format!(": {note}")
    };
    let mut allocations = Vec::new();
    let resolution = match action {
        Action::Dismiss(false) => {
            return Err(ApiError::invalid(
                "dismiss",
                "must be true to close the exception",
            ));
        }
        Action::Dismiss(true) => {
            if note.is_empty() {
                return Err(ApiError::invalid(
                    "note",
                    "say why the exception is closed without applying (e.g. refunded to the payer)",
                ));
            }
            format!("{kind} closed without applying by {by}{suffix}")
        }
        Action::ConfirmCandidate(index) => {
            let (Some(payment_id), Some(status)) = (payment_id, status) else {
                return Err(ApiError::FailedPrecondition(format!(
                    "exception {exception_id} ({kind}) is not about a payment: there is nothing to apply; dismiss it with a note saying how it was settled"
                )));
            };
            let status = PaymentStatus::parse(&status)
                .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("payment {payment_id}: {e}")))?;
            if !status.may_be_confirmed() {
                return Err(ApiError::FailedPrecondition(format!(
                    "payment {payment_id} is already applied ({status}); a {kind} exception of an applied payment can only be dismissed"
                )));
            }
            let candidates: Vec<StoredCandidate> =
                serde_json::from_str(&candidates).map_err(|e| {
                    ApiError::Unexpected(anyhow::anyhow!(
                        "exception {exception_id}: candidates: {e}"
                    ))
                })?;
            let Some(candidate) = usize::try_from(index).ok().and_then(|i| candidates.get(i))
            else {
                return Err(ApiError::invalid(
                    "confirm_candidate",
                    format!(
                        "exception {exception_id} has {} candidate(s); give 0 for the first",
                        candidates.len()
                    ),
                ));
            };
            if candidate.allocations.is_empty() {
                return Err(ApiError::FailedPrecondition(format!(
                    "candidate {index} ({}) allocates nothing: the customer has nothing open; dismiss the exception and refund or hold the money",
                    candidate.customer_name
                )));
            }
            let customer = Uuid::parse_str(&candidate.customer_id)
                .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("candidate customer id: {e}")))?;
            let payment = store::payment_for_engine(&mut tx, payment_id).await?;
            let key = customer.to_string();
            let mut first = None;
            for a in &candidate.allocations {
                let amount = Decimal::from_str(&a.amount).map_err(|e| {
                    ApiError::Unexpected(anyhow::anyhow!("candidate amount {:?}: {e}", a.amount))
                })?;
                let open = session
                    .ledger()
                    .open_amount(&a.receivable_ref)
                    .unwrap_or_default();
                if open < amount {
                    return Err(ApiError::FailedPrecondition(format!(
                        "receivable {} has {open} open now, less than the {amount} candidate {index} would allocate (it was paid meanwhile); dismiss this exception and allocate the payment by hand",
                        a.receivable_ref
                    )));
                }
                let proposed = Proposed {
                    payment_id,
                    reference: &a.receivable_ref,
                    amount,
                    currency: &a.currency,
                    booking_date: payment.booking_date,
                    key: &key,
                };
                let (allocation_id, receivable_id) =
                    decisions::allocate(&mut tx, outbox, &proposed).await?;
                first.get_or_insert(receivable_id);
                session
                    .set_open_amount(&a.receivable_ref, open - amount)
                    .map_err(|e| ApiError::Unexpected(e.into()))?;
                allocations.push(api::Allocation {
                    allocation_id: allocation_id.to_string(),
                    receivable_id: receivable_id.to_string(),
                    receivable_ref: a.receivable_ref.clone(),
                    amount: Some(wire::money(amount, &a.currency)),
                    status: AllocationStatus::Proposed.as_str().to_owned(),
                });
            }
            session.remember_applied(&Engine::payment_of(&payment), payment_id);
            let confirmed = store::Confirmed {
                customer_id: customer,
                receivable_id: first,
                confidence: i32::from(candidate.confidence),
                evidence: &candidate.evidence,
            };
            store::mark_payment_confirmed(&mut tx, payment_id, &confirmed).await?;
            format!(
                "{kind}: candidate {} ({}) confirmed by {by}{suffix}",
                index + 1,
                candidate.customer_name
            )
        }
    };
    store::resolve_exception_by(&mut tx, exception_id, &resolution, &by).await?;
    let payment_id = payment_id.map(|p| p.to_string()).unwrap_or_default();
    let resolved = events::ExceptionResolved {
        exception_id: exception_id.to_string(),
        payment_id: payment_id.clone(),
        resolution: resolution.clone(),
    };
    let key = if payment_id.is_empty() {
        exception_id.to_string()
    } else {
        payment_id.clone()
    };
    outbox
        .enqueue(&mut tx, kit::events::PAYMENTS, &key, &resolved)
        .await?;
    session.close(&mut tx).await?;
    tx.commit().await?;
    tracing::info!(%exception_id, payment_id, %resolution, "exception resolved by a person");
    Ok(api::ResolveExceptionResponse {
        exception_id: exception_id.to_string(),
        resolution,
        allocations,
        resolved_by: by,
    })
}
