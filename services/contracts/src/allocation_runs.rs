//! A run of allocation proposals booked together (issue 16): what the handler does for one
//! `PaymentAllocated` (book it on the receivable by component, R-P11; record it; answer with
//! `AllocationApplied`), for many in a handful of statements: one read of what was decided
//! before, one lock of the receivables, then the new balances, the allocations with their
//! parts and the answers written together.
//!
//! Only the usual run goes this way: every proposal new, its receivable known, accepted,
//! no early-payment discount. Anything else and nothing is written here: the handler books
//! the run one by one, as before.

use std::collections::HashMap;

use chrono::NaiveDate;
use sqlx::PgConnection;
use uuid::Uuid;

use kit::consumer::{HandleError, IncomingEvent};
use kit::outbox::Outbox;
use kit::wire;
use proto::events::v1 as events;

use crate::handler::{Booked, book_allocation};
use crate::store;

/// One decoded proposal.
struct Proposal {
    allocation: events::PaymentAllocated,
    allocation_id: Uuid,
    payment_id: Uuid,
    receivable_id: Uuid,
    amount: rust_decimal::Decimal,
    currency: String,
    booking_date: Option<NaiveDate>,
}

fn decode(event: &IncomingEvent) -> Option<Proposal> {
    let allocation: events::PaymentAllocated = event.decode().ok()?;
    let (amount, currency) = wire::parse_money(allocation.amount.as_ref()).ok()?;
    Some(Proposal {
        allocation_id: Uuid::parse_str(&allocation.allocation_id).ok()?,
        payment_id: Uuid::parse_str(&allocation.payment_id).ok()?,
        receivable_id: Uuid::parse_str(&allocation.receivable_id).ok()?,
        booking_date: NaiveDate::parse_from_str(&allocation.booking_date, "%Y-%m-%d").ok(),
        amount,
        currency,
        allocation,
    })
}

/// Books the run `events` (all `PaymentAllocated`) together; false, with nothing written,
/// when it is not the usual run.
pub(crate) async fn apply(
    outbox: &Outbox,
    tx: &mut PgConnection,
    events: &[&IncomingEvent],
) -> Result<bool, HandleError> {
    let Some(proposals) = events.iter().map(|e| decode(e)).collect::<Option<Vec<_>>>() else {
        return Ok(false);
    };
    let ids: Vec<Uuid> = proposals.iter().map(|p| p.allocation_id).collect();
    let mut distinct = ids.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() != ids.len() || !store::owed::decided_any(tx, &ids).await?.is_empty() {
        return Ok(false);
    }
    let mut receivable_ids: Vec<Uuid> = proposals.iter().map(|p| p.receivable_id).collect();
    receivable_ids.sort_unstable();
    receivable_ids.dedup();
    let mut receivables: HashMap<Uuid, store::ReceivableRow> =
        store::lock_receivables(tx, &receivable_ids)
            .await?
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
    let mut booked: Vec<(&Proposal, Booked)> = Vec::with_capacity(proposals.len());
    for p in &proposals {
        let Some(receivable) = receivables.get_mut(&p.receivable_id) else {
            return Ok(false);
        };
        let Ok(b) = book_allocation(
            receivable,
            &p.allocation,
            p.amount,
            &p.currency,
            p.booking_date,
        ) else {
            return Ok(false);
        };
        if b.earned.is_some() {
            return Ok(false);
        }
        // The next proposal on this receivable is booked on what this one left.
        receivable.open_amount = b.after.principal;
        receivable.late_fee_open = b.after.late_fee;
        receivable.interest_open = b.after.interest;
        receivable.costs_open = b.after.costs;
        booked.push((p, b));
    }
    let owed: Vec<(Uuid, money::allocation::Owed)> = receivable_ids
        .iter()
        .filter_map(|id| receivables.get(id).map(|r| (*id, r.owed())))
        .collect();
    store::owed::set_owed_many(tx, &owed).await?;
    let rows: Vec<store::owed::Applied<'_>> = booked
        .iter()
        .map(|(p, b)| b.applied_row(p.allocation_id, p.payment_id))
        .collect();
    store::owed::insert_applied_many(tx, &rows).await?;
    let mut answers = outbox.staged();
    for (p, b) in &booked {
        let key = receivables
            .get(&p.receivable_id)
            .map(|r| r.customer_id.to_string())
            .unwrap_or_default();
        answers.push(kit::events::CONTRACTS, &key, &b.answer)?;
    }
    answers.write(tx).await?;
    tracing::info!(
        allocations = booked.len(),
        receivables = owed.len(),
        "allocations applied together"
    );
    Ok(true)
}
