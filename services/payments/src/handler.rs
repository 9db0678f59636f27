//! Consumes the contracts service's events: keeps the read model of open receivables and
//! settles proposed allocations when contracts confirms or refuses them.

use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use kit::consumer::{HandleError, Handler, IncomingEvent, uuid_field as uuid};
use kit::outbox::Outbox;
use kit::wire;
use proto::events::v1 as events;

use crate::ingest::{self, PaymentFacts};
use crate::matching::Decision;

pub(crate) struct ContractEvents {
    pub(crate) outbox: Outbox,
}

impl Handler for ContractEvents {
    fn wants(&self, event_type: &str) -> bool {
        event_type == kit::events::type_name::<events::ContractSigned>()
            || event_type == kit::events::type_name::<events::AllocationApplied>()
            || event_type == kit::events::type_name::<events::AllocationRejected>()
    }

    async fn handle(
        &self,
        tx: &mut PgConnection,
        event: &IncomingEvent,
    ) -> Result<(), HandleError> {
        let event_type = event.envelope.event_type.as_str();
        if event_type == kit::events::type_name::<events::ContractSigned>() {
            let signed: events::ContractSigned = event.decode()?;
            let contract_no = signed.contract_no.clone();
            contract_signed(tx, signed).await?;
            rematch(tx, &self.outbox, &contract_no).await
        } else if event_type == kit::events::type_name::<events::AllocationApplied>() {
            allocation_applied(tx, event.decode()?).await
        } else {
            allocation_rejected(tx, &self.outbox, event.decode()?).await
        }
    }
}

async fn contract_signed(
    tx: &mut PgConnection,
    signed: events::ContractSigned,
) -> Result<(), HandleError> {
    let contract_id = uuid("contract_id", &signed.contract_id)?;
    let customer_id = uuid("customer_id", &signed.customer_id)?;
    for receivable in &signed.receivables {
        let (amount, currency) =
            wire::parse_money(receivable.amount.as_ref()).map_err(HandleError::Permanent)?;
        let due = NaiveDate::from_str(&receivable.due_date).map_err(|e| {
            HandleError::Permanent(format!("due_date {:?}: {e}", receivable.due_date))
        })?;
        sqlx::query(
            "INSERT INTO open_receivables (receivable_id, contract_id, contract_no, customer_id, installment_no,
                                           due_date, currency, open_amount)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (receivable_id) DO NOTHING",
        )
        .bind(uuid("receivable_id", &receivable.receivable_id)?)
        .bind(contract_id)
        .bind(&signed.contract_no)
        .bind(customer_id)
        .bind(i32::try_from(receivable.installment_no).unwrap_or(i32::MAX))
        .bind(due)
        .bind(&currency)
        .bind(amount)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

async fn allocation_applied(
    tx: &mut PgConnection,
    applied: events::AllocationApplied,
) -> Result<(), HandleError> {
    let allocation_id = uuid("allocation_id", &applied.allocation_id)?;
    let (amount, _) = wire::parse_money(applied.amount.as_ref()).map_err(HandleError::Permanent)?;
    let (open_after, _) =
        wire::parse_money(applied.open_amount_after.as_ref()).map_err(HandleError::Permanent)?;
    settle(tx, allocation_id, "applied", "").await?;
    sqlx::query(
        "UPDATE open_receivables SET open_amount = $2, pending_amount = GREATEST(pending_amount - $3, 0)
         WHERE receivable_id = $1",
    )
    .bind(uuid("receivable_id", &applied.receivable_id)?)
    .bind(open_after)
    .bind(amount)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE payments SET status = 'allocated' WHERE id = $1")
        .bind(uuid("payment_id", &applied.payment_id)?)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

async fn allocation_rejected(
    tx: &mut PgConnection,
    outbox: &Outbox,
    rejected: events::AllocationRejected,
) -> Result<(), HandleError> {
    let allocation_id = uuid("allocation_id", &rejected.allocation_id)?;
    let payment_id = uuid("payment_id", &rejected.payment_id)?;
    let (amount, _) =
        wire::parse_money(rejected.amount.as_ref()).map_err(HandleError::Permanent)?;
    let known: Option<Uuid> = sqlx::query_scalar("SELECT id FROM payments WHERE id = $1")
        .bind(payment_id)
        .fetch_optional(&mut *tx)
        .await?;
    if known.is_none() {
        // Not one of ours (another producer proposed it): nothing to settle here.
        tracing::warn!(%payment_id, %allocation_id, "rejection of an allocation this service did not propose");
        return Ok(());
    }
    settle(tx, allocation_id, "rejected", &rejected.reason).await?;
    let receivable_id = uuid("receivable_id", &rejected.receivable_id)?;
    sqlx::query("UPDATE open_receivables SET pending_amount = GREATEST(pending_amount - $2, 0) WHERE receivable_id = $1")
        .bind(receivable_id)
        .bind(amount)
        .execute(&mut *tx)
        .await?;
    // The owner told us the true open balance: correct the read model with it.
    if let Some(money) = rejected.open_amount.as_ref() {
        let open = Decimal::from_str(&money.amount)
            .map_err(|e| HandleError::Permanent(format!("open_amount {:?}: {e}", money.amount)))?;
        sqlx::query("UPDATE open_receivables SET open_amount = $2 WHERE receivable_id = $1")
            .bind(receivable_id)
            .bind(open)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("UPDATE payments SET status = 'exception' WHERE id = $1")
        .bind(payment_id)
        .execute(&mut *tx)
        .await?;
    let key = if rejected.customer_id.is_empty() {
        rejected.payment_id.clone()
    } else {
        rejected.customer_id.clone()
    };
    ingest::raise_exception(
        tx,
        outbox,
        payment_id,
        &key,
        "ALLOCATION_REJECTED",
        &format!("contracts refused the allocation: {}", rejected.reason),
        "check the receivable's balance; allocate the payment elsewhere or refund it",
    )
    .await?;
    Ok(())
}

async fn settle(
    tx: &mut PgConnection,
    allocation_id: Uuid,
    status: &str,
    reason: &str,
) -> Result<(), HandleError> {
    let updated = sqlx::query(
        "UPDATE allocations SET status = $2, reason = $3 WHERE id = $1 AND status = 'proposed'",
    )
    .bind(allocation_id)
    .bind(status)
    .bind(reason)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated == 0 {
        tracing::warn!(%allocation_id, status, "allocation settled that was not pending here");
    }
    Ok(())
}

/// Payments that arrived before their contract was known here (this read model is a moment
/// behind contracts) are matched again once it is (R-P4): the exception is resolved and the
/// payment allocated, or it is re-raised with the precise reason.
async fn rematch(
    tx: &mut PgConnection,
    outbox: &Outbox,
    contract_no: &str,
) -> Result<(), HandleError> {
    let waiting: Vec<(Uuid, Uuid, NaiveDate, Decimal, String, String)> = sqlx::query_as(
        "SELECT e.id, p.id, p.booking_date, p.amount, p.currency, p.reference
         FROM exceptions e JOIN payments p ON p.id = e.payment_id
         WHERE e.resolved_at IS NULL AND e.kind = 'NO_CONTRACT_REFERENCE' AND strpos(p.reference, $1) > 0
         ORDER BY p.created_at, p.line_no FOR UPDATE OF e",
    )
    .bind(contract_no)
    .fetch_all(&mut *tx)
    .await?;
    for (exception_id, payment_id, date, amount, currency, reference) in waiting {
        let currency = currency.trim().to_owned();
        let facts = PaymentFacts {
            id: payment_id,
            date,
            amount,
            currency: &currency,
            reference: &reference,
        };
        let decision = ingest::decide(tx, &facts).await?;
        let resolution = match &decision {
            Decision::Exception {
                kind: "NO_CONTRACT_REFERENCE",
                ..
            } => continue,
            Decision::Allocate(c) => {
                format!(
                    "matched to installment {} of contract {contract_no} once the contract was known",
                    c.installment_no
                )
            }
            Decision::Exception { kind, .. } => {
                format!("re-examined once contract {contract_no} was known: {kind}")
            }
        };
        let key = match &decision {
            Decision::Allocate(c) => c.customer_id.to_string(),
            Decision::Exception { .. } => payment_id.to_string(),
        };
        sqlx::query("UPDATE exceptions SET resolved_at = now(), resolution = $2 WHERE id = $1")
            .bind(exception_id)
            .bind(&resolution)
            .execute(&mut *tx)
            .await?;
        let resolved = events::ExceptionResolved {
            exception_id: exception_id.to_string(),
            payment_id: payment_id.to_string(),
            resolution: resolution.clone(),
        };
        outbox
            .enqueue(tx, kit::events::PAYMENTS, &key, &resolved)
            .await?;
        if let Decision::Allocate(c) = &decision {
            sqlx::query("UPDATE payments SET status = 'matched', receivable_id = $2, customer_id = $3 WHERE id = $1")
                .bind(payment_id)
                .bind(c.receivable_id)
                .bind(c.customer_id)
                .execute(&mut *tx)
                .await?;
        }
        tracing::info!(%payment_id, %resolution, "exception resolved");
        ingest::act(tx, outbox, &facts, decision, &key).await?;
    }
    Ok(())
}
