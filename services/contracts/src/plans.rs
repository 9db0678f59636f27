//! Repayment plans (R-D6): dunning agrees them (one person proposes, others approve); contracts
//! books them against the receivables it owns and answers with `RepaymentPlanBooked`. While a
//! plan is kept its receivables stop accruing late fee and interest from the day it was agreed
//! ([`crate::cycle`] reads [`store::plans::frozen`]); a broken plan lets them accrue again
//! through the whole time, so the relief is only for a plan that is kept.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use kit::consumer::{HandleError, IncomingEvent, uuid_field};
use kit::outbox::Outbox;
use kit::wire;
use proto::events::v1 as events;

use crate::store;

fn date(plan_id: Uuid, field: &str, text: &str) -> Result<NaiveDate, HandleError> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|e| HandleError::Permanent(format!("plan {plan_id}: {field} {text:?}: {e}")))
}

/// Books an agreed plan, or refuses it with the reason; either way answers dunning.
pub(crate) async fn on_agreed(
    tx: &mut PgConnection,
    outbox: &Outbox,
    event: &IncomingEvent,
) -> Result<(), HandleError> {
    let agreed: events::RepaymentPlanAgreed = event.decode()?;
    let plan_id = uuid_field("plan_id", &agreed.plan_id)?;
    let customer_id = uuid_field("customer_id", &agreed.customer_id)?;
    let (total, currency) =
        wire::parse_money(agreed.total.as_ref()).map_err(HandleError::Permanent)?;
    let agreed_on = date(plan_id, "agreed_on", &agreed.agreed_on)?;
    let mut ids = Vec::with_capacity(agreed.receivable_ids.len());
    for id in &agreed.receivable_ids {
        ids.push(uuid_field("receivable_ids", id)?);
    }
    let mut installments = Vec::with_capacity(agreed.installments.len());
    for inst in &agreed.installments {
        let (amount, _) =
            wire::parse_money(inst.amount.as_ref()).map_err(HandleError::Permanent)?;
        installments.push((
            i32::try_from(inst.number).unwrap_or(i32::MAX),
            date(plan_id, "installments.due_date", &inst.due_date)?,
            amount,
        ));
    }
    // The owner checks what dunning's read model believed (ARCHITECTURE: exact decisions are
    // confirmed by the owner): every item the debtor's, in the plan's currency, still owed.
    let mut owed = Decimal::ZERO;
    let mut refusal = None;
    for id in &ids {
        match store::lock_receivable(tx, *id).await? {
            None => refusal = Some(format!("contracts knows no receivable {id}")),
            Some(r) if r.customer_id != customer_id => {
                refusal = Some(format!("receivable {id} is another customer's"));
            }
            Some(r) if r.currency.trim() != currency => {
                refusal = Some(format!(
                    "receivable {id} is owed in {} and the plan is in {currency}",
                    r.currency.trim()
                ));
            }
            Some(r) if r.owed().total() <= Decimal::ZERO => {
                refusal = Some(format!("nothing is owed on receivable {id} any more"));
            }
            Some(r) => owed += r.owed().total(),
        }
        if refusal.is_some() {
            break;
        }
    }
    if refusal.is_none() {
        let booked = store::plans::book(
            tx,
            &store::plans::NewPlan {
                plan_id,
                customer_id,
                receivable_ids: &ids,
                currency: &currency,
                total,
                agreed_on,
                installments: &installments,
            },
        )
        .await?;
        if !booked {
            // Booked before: the answer went out with it.
            return Ok(());
        }
        tracing::info!(%plan_id, %customer_id, %total, "repayment plan booked (R-D6)");
    } else {
        tracing::warn!(%plan_id, refusal = refusal.as_deref().unwrap_or_default(), "repayment plan refused (R-D6)");
    }
    let answer = events::RepaymentPlanBooked {
        plan_id: plan_id.to_string(),
        customer_id: customer_id.to_string(),
        booked: refusal.is_none(),
        refusal: refusal.unwrap_or_default(),
        owed: Some(wire::money(owed, &currency)),
    };
    outbox
        .enqueue(
            tx,
            kit::events::CONTRACTS,
            &customer_id.to_string(),
            &answer,
        )
        .await?;
    Ok(())
}

/// A broken plan: its receivables accrue again (from their due dates, as if never paused).
pub(crate) async fn on_broken(
    tx: &mut PgConnection,
    event: &IncomingEvent,
) -> Result<(), HandleError> {
    let broken: events::RepaymentPlanBroken = event.decode()?;
    let plan_id = uuid_field("plan_id", &broken.plan_id)?;
    let on = date(plan_id, "broken_on", &broken.broken_on)?;
    if store::plans::end(tx, plan_id, "broken", on).await? {
        tracing::info!(%plan_id, installment = broken.installment, "repayment plan broken: accrual resumes (R-D6)");
    }
    Ok(())
}

/// A completed plan.
pub(crate) async fn on_completed(
    tx: &mut PgConnection,
    event: &IncomingEvent,
) -> Result<(), HandleError> {
    let done: events::RepaymentPlanCompleted = event.decode()?;
    let plan_id = uuid_field("plan_id", &done.plan_id)?;
    let on = date(plan_id, "completed_on", &done.completed_on)?;
    store::plans::end(tx, plan_id, "completed", on).await?;
    Ok(())
}
