//! A run of contracts' confirmations applied together (issue 16): what the handler does for
//! one `AllocationApplied` (R-O7 balance learned, the queue's recent payments, the item's
//! reminder before due, R-P10 the case item paid and dunning stopped for it), for many in a
//! handful of statements.
//!
//! Only the usual run goes this way: every confirmation new, each receivable once, none of
//! them an item of an active plan or a payment of a debtor with an open promise (those count
//! towards the plan or promise one by one). Otherwise nothing is written here and the
//! handler applies the run one by one.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use kit::consumer::{HandleError, IncomingEvent};
use kit::outbox::Outbox;
use kit::wire;
use proto::events::v1 as events;

use crate::handler::{closed_paid, stop_detail};
use crate::store::runs;

/// One decoded confirmation.
struct Confirmation {
    applied: events::AllocationApplied,
    customer_id: Uuid,
    receivable_id: Uuid,
    booking_date: NaiveDate,
    amount: Decimal,
    currency: String,
    open_after: Decimal,
    /// Owed after it without the late fee, and the late fee (R-D12), when contracts said.
    item_after: (Decimal, Option<Decimal>),
}

fn decode(event: &IncomingEvent) -> Option<Confirmation> {
    let applied: events::AllocationApplied = event.decode().ok()?;
    if applied.repeat {
        return None;
    }
    let (amount, currency) = wire::parse_money(applied.amount.as_ref()).ok()?;
    let (open_after, _) = wire::parse_money(applied.open_amount_after.as_ref()).ok()?;
    let item_after = match applied.owed_after.as_ref() {
        Some(owed) => {
            let owed = wire::parse_owed(owed).ok()?;
            (owed.total() - owed.late_fee, Some(owed.late_fee))
        }
        None => (open_after, None),
    };
    Some(Confirmation {
        customer_id: Uuid::parse_str(&applied.customer_id).ok()?,
        receivable_id: Uuid::parse_str(&applied.receivable_id).ok()?,
        booking_date: NaiveDate::parse_from_str(&applied.booking_date, "%Y-%m-%d").ok()?,
        amount,
        currency,
        open_after,
        item_after,
        applied,
    })
}

/// Applies the run `events` (all `AllocationApplied`) together; false, with nothing
/// written, when it is not the usual run.
pub(crate) async fn apply(
    outbox: &Outbox,
    tx: &mut PgConnection,
    events: &[&IncomingEvent],
) -> Result<bool, HandleError> {
    let Some(run) = events.iter().map(|e| decode(e)).collect::<Option<Vec<_>>>() else {
        return Ok(false);
    };
    let mut receivables: Vec<Uuid> = run.iter().map(|c| c.receivable_id).collect();
    receivables.sort_unstable();
    receivables.dedup();
    if receivables.len() != run.len() {
        return Ok(false);
    }
    let customers: Vec<Uuid> = run.iter().map(|c| c.customer_id).collect();
    if runs::plans_or_promises(tx, &receivables, &customers).await? {
        return Ok(false);
    }
    let paid: Vec<runs::Paid<'_>> = run
        .iter()
        .map(|c| runs::Paid {
            allocation_id: &c.applied.allocation_id,
            customer_id: c.customer_id,
            receivable_id: c.receivable_id,
            booking_date: c.booking_date,
            amount: c.amount,
            currency: &c.currency,
            owed_after: c.open_after,
            paid_in_full: c.applied.paid_in_full,
        })
        .collect();
    runs::payments_learned(tx, &paid).await?;
    let items: Vec<(Uuid, Uuid)> = run
        .iter()
        .map(|c| (c.customer_id, c.receivable_id))
        .collect();
    let in_cases: std::collections::HashMap<Uuid, (Uuid, i32)> =
        runs::cases_of_open_items(tx, &items)
            .await?
            .into_iter()
            .map(|(receivable, case, days)| (receivable, (case, days)))
            .collect();
    let mut updates = Vec::new();
    let mut stops = Vec::new();
    let mut stopped = outbox.staged();
    let mut cases_paid: Vec<(Uuid, NaiveDate)> = Vec::new();
    for c in &run {
        let Some(&(case_id, days)) = in_cases.get(&c.receivable_id) else {
            continue;
        };
        let (open, late_fee) = c.item_after;
        updates.push((
            case_id,
            c.receivable_id,
            open,
            late_fee,
            c.applied.paid_in_full,
        ));
        if !c.applied.paid_in_full {
            // R-D12: a partial payment never moves the ladder back.
            continue;
        }
        let detail = stop_detail("paid in full", c.amount, &c.currency, c.booking_date);
        let days = u32::try_from(days).unwrap_or_default();
        let action_id = Uuid::now_v7();
        let event = events::ActionExecuted {
            action_id: action_id.to_string(),
            case_id: case_id.to_string(),
            customer_id: c.customer_id.to_string(),
            step: "stopped".to_owned(),
            receivable_ids: vec![c.receivable_id.to_string()],
            days_overdue: days,
            business_date: c.booking_date.to_string(),
            detail: detail.clone(),
            ..Default::default()
        };
        stopped.push(kit::events::DUNNING, &c.customer_id.to_string(), &event)?;
        stops.push(runs::Stop {
            action_id,
            case_id,
            receivable_id: c.receivable_id,
            days: i32::try_from(days).unwrap_or(i32::MAX),
            on: c.booking_date,
            detail,
        });
        // The case closes on the day of the last payment that settled it.
        match cases_paid.iter_mut().find(|(id, _)| *id == case_id) {
            Some(last) => last.1 = c.booking_date,
            None => cases_paid.push((case_id, c.booking_date)),
        }
    }
    runs::items_paid(tx, &updates).await?;
    runs::record_stops(tx, &stops).await?;
    stopped.write(tx).await?;
    // The cases left with nothing open close, in one statement.
    for (case_id, on) in runs::close_settled(tx, &cases_paid).await? {
        closed_paid(tx, outbox, case_id, on).await?;
    }
    tracing::info!(
        payments = run.len(),
        stopped = stops.len(),
        "dunning stopped for payments applied together"
    );
    Ok(true)
}
