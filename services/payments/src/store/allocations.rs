//! Allocations proposed to contracts (`allocations`): proposed, settled by contracts' answer
//! (the machine is [`AllocationStatus::settle`]), re-driven when unanswered.

use rust_decimal::Decimal;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::status::AllocationStatus;

/// A stored status text that is no known status: the row is not readable.
fn undecodable(e: crate::domain::status::Unknown) -> sqlx::Error {
    sqlx::Error::Decode(Box::new(e))
}

/// The allocation's status, if it is one of ours.
pub(crate) async fn allocation_status(
    tx: &mut PgConnection,
    allocation_id: Uuid,
) -> Result<Option<AllocationStatus>, sqlx::Error> {
    let status: Option<String> = sqlx::query_scalar("SELECT status FROM allocations WHERE id = $1")
        .bind(allocation_id)
        .fetch_optional(&mut *tx)
        .await?;
    status
        .as_deref()
        .map(AllocationStatus::parse)
        .transpose()
        .map_err(undecodable)
}

/// Settles a proposed allocation with contracts' answer (`to` is applied or rejected, as
/// [`AllocationStatus::settle`] allows); false when it was not proposed (any more).
pub(crate) async fn settle_allocation(
    tx: &mut PgConnection,
    allocation_id: Uuid,
    to: AllocationStatus,
    reason: &str,
) -> Result<bool, sqlx::Error> {
    let from = AllocationStatus::Proposed;
    let to = from
        .settle(to)
        .map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let updated = sqlx::query(
        "UPDATE allocations SET status = $2, reason = $3 WHERE id = $1 AND status = $4",
    )
    .bind(allocation_id)
    .bind(to.as_str())
    .bind(reason)
    .bind(from.as_str())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

/// An allocation as proposed, with the event as published (for the re-drive).
pub(crate) struct NewAllocation<'a> {
    pub(crate) id: Uuid,
    pub(crate) payment_id: Uuid,
    pub(crate) receivable_id: Uuid,
    pub(crate) receivable_ref: &'a str,
    pub(crate) amount: Decimal,
    /// The `PaymentAllocated` event, encoded.
    pub(crate) event: &'a [u8],
    pub(crate) event_key: &'a str,
}

/// Records a proposed allocation.
pub(crate) async fn insert_proposed_allocation(
    tx: &mut PgConnection,
    a: &NewAllocation<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO allocations (id, payment_id, receivable_id, receivable_ref, amount, status, event, event_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(a.id)
    .bind(a.payment_id)
    .bind(a.receivable_id)
    .bind(a.receivable_ref)
    .bind(a.amount)
    .bind(AllocationStatus::Proposed.as_str())
    .bind(a.event)
    .bind(a.event_key)
    .execute(&mut *tx)
    .await
    .map(|_| ())
}

/// An allocation contracts has not answered for a while.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct Unanswered {
    pub(crate) id: Uuid,
    pub(crate) payment_id: Uuid,
    pub(crate) redrives: i32,
    pub(crate) event: Option<Vec<u8>>,
    pub(crate) event_key: Option<String>,
    pub(crate) customer_id: Option<Uuid>,
}

/// Up to 200 allocations still proposed, not yet raised as stuck, unanswered for
/// `stuck_after_secs` since proposed or last sent again; locked, skipping rows another
/// replica holds.
pub(crate) async fn lock_unanswered_allocations(
    tx: &mut PgConnection,
    stuck_after_secs: f64,
) -> Result<Vec<Unanswered>, sqlx::Error> {
    sqlx::query_as(
        "SELECT a.id, a.payment_id, a.redrives, a.event, a.event_key, p.customer_id
         FROM allocations a JOIN payments p ON p.id = a.payment_id
         WHERE a.status = $2 AND a.stuck_raised_at IS NULL
           AND COALESCE(a.last_redriven_at, a.proposed_at) < now() - make_interval(secs => $1)
         ORDER BY a.proposed_at
         LIMIT 200
         FOR UPDATE OF a SKIP LOCKED",
    )
    .bind(stuck_after_secs)
    .bind(AllocationStatus::Proposed.as_str())
    .fetch_all(&mut *tx)
    .await
}

/// Counts one more try of sending the proposal again.
pub(crate) async fn mark_allocation_redriven(
    tx: &mut PgConnection,
    allocation_id: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE allocations SET redrives = redrives + 1, last_redriven_at = now() WHERE id = $1",
    )
    .bind(allocation_id)
    .execute(&mut *tx)
    .await
    .map(|_| ())
}

/// Records that a person was asked about the allocation (ALLOCATION_STUCK).
pub(crate) async fn mark_allocation_stuck(
    tx: &mut PgConnection,
    allocation_id: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE allocations SET stuck_raised_at = now() WHERE id = $1")
        .bind(allocation_id)
        .execute(&mut *tx)
        .await
        .map(|_| ())
}

/// An allocation of a listed payment.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct AllocationOfPayment {
    pub(crate) payment_id: Uuid,
    pub(crate) id: Uuid,
    pub(crate) receivable_id: Uuid,
    pub(crate) receivable_ref: String,
    pub(crate) amount: Decimal,
    pub(crate) currency: String,
    pub(crate) status: String,
}

/// The allocations of the payments, in order of proposal.
pub(crate) async fn allocations_of_payments(
    pool: &PgPool,
    payment_ids: &[Uuid],
) -> Result<Vec<AllocationOfPayment>, sqlx::Error> {
    sqlx::query_as(
        "SELECT a.payment_id, a.id, a.receivable_id, a.receivable_ref, a.amount, o.currency, a.status
         FROM allocations a LEFT JOIN open_receivables o ON o.receivable_id = a.receivable_id
         WHERE a.payment_id = ANY($1) ORDER BY a.id",
    )
    .bind(payment_ids)
    .fetch_all(pool)
    .await
}

/// Records many proposed allocations in one statement ([`insert_proposed_allocation`] for a
/// bank file's payments, issue 16).
pub(crate) async fn insert_proposed_allocations(
    tx: &mut PgConnection,
    all: &[NewAllocation<'_>],
) -> Result<(), sqlx::Error> {
    if all.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = all.iter().map(|a| a.id).collect();
    let payments: Vec<Uuid> = all.iter().map(|a| a.payment_id).collect();
    let receivables: Vec<Uuid> = all.iter().map(|a| a.receivable_id).collect();
    let refs: Vec<&str> = all.iter().map(|a| a.receivable_ref).collect();
    let amounts: Vec<Decimal> = all.iter().map(|a| a.amount).collect();
    let events: Vec<&[u8]> = all.iter().map(|a| a.event).collect();
    let keys: Vec<&str> = all.iter().map(|a| a.event_key).collect();
    sqlx::query(
        "INSERT INTO allocations (id, payment_id, receivable_id, receivable_ref, amount, status, event, event_key)
         SELECT i, p, r, f, a, $8, e, k
         FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::numeric[], $6::bytea[], $7::text[])
              AS u(i, p, r, f, a, e, k)",
    )
    .bind(&ids)
    .bind(&payments)
    .bind(&receivables)
    .bind(&refs)
    .bind(&amounts)
    .bind(&events)
    .bind(&keys)
    .bind(AllocationStatus::Proposed.as_str())
    .execute(&mut *tx)
    .await
    .map(|_| ())
}

/// [`settle_allocation`] as applied for many proposed allocations in one statement; how many
/// were still proposed.
pub(crate) async fn settle_allocations_applied(
    tx: &mut PgConnection,
    allocation_ids: &[Uuid],
) -> Result<u64, sqlx::Error> {
    let from = AllocationStatus::Proposed;
    let to = from
        .settle(AllocationStatus::Applied)
        .map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    Ok(sqlx::query(
        "UPDATE allocations SET status = $2, reason = '' WHERE id = ANY($1) AND status = $3",
    )
    .bind(allocation_ids)
    .bind(to.as_str())
    .bind(from.as_str())
    .execute(&mut *tx)
    .await?
    .rows_affected())
}
