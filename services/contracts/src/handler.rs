//! Consumes payment allocations proposed by the payments service and confirms or refuses
//! them against the receivable balance.

use chrono::NaiveDate;
use sqlx::PgConnection;
use uuid::Uuid;

use kit::consumer::{HandleError, Handler, IncomingEvent, uuid_field};
use kit::outbox::Outbox;
use kit::wire;
use money::allocation::OrderTerms;
use proto::events::v1 as events;
use rust_decimal::Decimal;

use crate::{domain, store};

pub(crate) struct Allocations {
    pub(crate) outbox: Outbox,
    pub(crate) write_off_limits: crate::domain::write_off::Limits,
    /// R-D6: relief above this needs a second approver with the risk role.
    pub(crate) waiver_second_approval_above: Decimal,
}

impl Handler for Allocations {
    fn wants(&self, event_type: &str) -> bool {
        event_type == kit::events::type_name::<events::PaymentAllocated>()
            || event_type == kit::events::type_name::<events::CaseOpened>()
            || event_type == kit::events::type_name::<events::CollectionCostIncurred>()
            || event_type == kit::events::type_name::<events::WriteOffRequested>()
            || event_type == kit::events::type_name::<events::RepaymentPlanAgreed>()
            || event_type == kit::events::type_name::<events::RepaymentPlanBroken>()
            || event_type == kit::events::type_name::<events::RepaymentPlanCompleted>()
            || event_type == kit::events::type_name::<events::DisputeResolved>()
            || event_type == kit::events::type_name::<events::CaseStatusChanged>()
            || event_type == kit::events::type_name::<events::GradeChanged>()
    }

    async fn handle(
        &self,
        tx: &mut PgConnection,
        event: &IncomingEvent,
    ) -> Result<(), HandleError> {
        if event.envelope.event_type == kit::events::type_name::<events::CaseOpened>() {
            // R-L5: an open legal case puts the customer on credit hold.
            return crate::holds::on_case_opened(tx, &self.outbox, event).await;
        }
        if event.envelope.event_type == kit::events::type_name::<events::CollectionCostIncurred>() {
            // R-D12: a legal cost the debtor bears is owed like the rest.
            return crate::costs::on_cost_incurred(tx, &self.outbox, event).await;
        }
        if event.envelope.event_type == kit::events::type_name::<events::WriteOffRequested>() {
            // R-P12: a small difference a payment left.
            return crate::write_offs::on_requested(tx, &self.outbox, self.write_off_limits, event)
                .await;
        }
        let event_type = event.envelope.event_type.as_str();
        if event_type == kit::events::type_name::<events::RepaymentPlanAgreed>() {
            // R-D6: book the plan dunning agreed, or refuse it with the reason.
            return crate::plans::on_agreed(tx, &self.outbox, event).await;
        }
        if event_type == kit::events::type_name::<events::RepaymentPlanBroken>() {
            return crate::plans::on_broken(tx, event).await;
        }
        if event_type == kit::events::type_name::<events::RepaymentPlanCompleted>() {
            return crate::plans::on_completed(tx, event).await;
        }
        if event_type == kit::events::type_name::<events::GradeChanged>() {
            // R-S5: scoring's advice places or releases a credit hold.
            return crate::holds::on_grade_changed(tx, &self.outbox, event).await;
        }
        if event_type == kit::events::type_name::<events::CaseStatusChanged>() {
            // R-L5: the legal case's credit hold ends when the case is closed.
            return crate::holds::on_case_status_changed(tx, &self.outbox, event).await;
        }
        if event_type == kit::events::type_name::<events::DisputeResolved>() {
            // R-D8: an upheld dispute ends in a credit or a waiver another person approves.
            return crate::waivers::on_dispute_resolved(
                tx,
                &self.outbox,
                self.waiver_second_approval_above,
                event,
            )
            .await;
        }
        let allocation: events::PaymentAllocated = event.decode()?;
        let allocation_id = uuid_field("allocation_id", &allocation.allocation_id)?;
        let payment_id = uuid_field("payment_id", &allocation.payment_id)?;
        let receivable_id = uuid_field("receivable_id", &allocation.receivable_id)?;
        let (amount, currency) =
            wire::parse_money(allocation.amount.as_ref()).map_err(HandleError::Permanent)?;
        let booking_date = NaiveDate::parse_from_str(&allocation.booking_date, "%Y-%m-%d").ok();

        // The same allocation can never be applied twice, even if it arrives in another event.
        let seen = store::owed::decided(tx, allocation_id).await?;
        if let Some((status, recorded, reason)) = seen {
            // Decided before: nothing is booked again, but the proposer, which re-drives
            // allocations it never heard back about, gets the decision once more.
            tracing::info!(%allocation_id, status, "allocation already decided; answering the repeat");
            return answer_repeat(
                self,
                tx,
                &allocation,
                receivable_id,
                recorded,
                &currency,
                &status,
                &reason,
            )
            .await;
        }

        let Some(receivable) = store::lock_receivable(tx, receivable_id).await? else {
            let reason = format!("no receivable with id {receivable_id}");
            return reject(
                self,
                tx,
                &allocation,
                allocation_id,
                payment_id,
                receivable_id,
                amount,
                &currency,
                None,
                &reason,
            )
            .await;
        };
        match book_allocation(&receivable, &allocation, amount, &currency, booking_date) {
            Ok(booked) => {
                store::owed::set_owed(tx, receivable_id, &booked.after).await?;
                store::owed::insert_applied(tx, &booked.applied_row(allocation_id, payment_id))
                    .await?;
                if let Some(earned) = &booked.earned {
                    store::owed::record_discount(tx, allocation_id, receivable_id, earned).await?;
                }
                self.outbox
                    .enqueue(
                        tx,
                        kit::events::CONTRACTS,
                        &receivable.customer_id.to_string(),
                        &booked.answer,
                    )
                    .await?;
                tracing::info!(%receivable_id, %amount, owed_after = %booked.after.total(), "allocation applied");
                Ok(())
            }
            Err(reason) => {
                reject(
                    self,
                    tx,
                    &allocation,
                    allocation_id,
                    payment_id,
                    receivable_id,
                    amount,
                    &currency,
                    Some(&receivable),
                    &reason,
                )
                .await
            }
        }
    }

    fn together(&self, event_type: &str) -> bool {
        // Issue 16: a run of proposals is booked in a few statements.
        event_type == kit::events::type_name::<events::PaymentAllocated>()
    }

    async fn handle_run(
        &self,
        tx: &mut PgConnection,
        events: &[&IncomingEvent],
    ) -> Result<(), (usize, HandleError)> {
        if crate::allocation_runs::apply(&self.outbox, tx, events)
            .await
            .map_err(|e| (0, e))?
        {
            return Ok(());
        }
        // Not the usual run: each in turn, as they came.
        kit::consumer::one_by_one(self, tx, events).await
    }
}

/// An allocation booked on a receivable (R-P11, R-C7), not yet written.
pub(crate) struct Booked {
    pub(crate) after: money::allocation::Owed,
    pub(crate) parts: Vec<(money::allocation::Component, Decimal)>,
    pub(crate) basis: money::allocation::Basis,
    pub(crate) differs: bool,
    pub(crate) booking_date: Option<NaiveDate>,
    pub(crate) amount: Decimal,
    pub(crate) receivable_id: Uuid,
    pub(crate) earned: Option<crate::domain::discount::Earned>,
    /// The answer to publish.
    pub(crate) answer: events::AllocationApplied,
}

impl Booked {
    /// The allocation as stored.
    pub(crate) fn applied_row(
        &self,
        allocation_id: Uuid,
        payment_id: Uuid,
    ) -> store::owed::Applied<'_> {
        store::owed::Applied {
            allocation_id,
            payment_id,
            receivable_id: self.receivable_id,
            amount: self.amount,
            booking_date: self.booking_date,
            basis: self.basis.as_str(),
            differs_from_proposal: self.differs,
            parts: &self.parts,
        }
    }
}

/// Books the proposal `allocation` of `amount` against what `receivable` owes now: the one
/// allocation rule by component (costs, then interest and late fee, then principal, R-P11),
/// in the order the contract agreed if it did, and the early-payment discount earned (R-C7).
/// Err: why it is refused.
pub(crate) fn book_allocation(
    receivable: &store::ReceivableRow,
    allocation: &events::PaymentAllocated,
    amount: Decimal,
    currency: &str,
    booking_date: Option<NaiveDate>,
) -> Result<Booked, String> {
    let receivable_currency = receivable.currency.trim().to_owned();
    let unit = kit::wire::minor_units(&receivable_currency)
        .map_or(Decimal::new(1, 2), |m| Decimal::new(1, m));
    // The contract's agreed order of components, if it agreed one (R-P11).
    let terms = receivable
        .allocation_order
        .as_ref()
        .map_or(OrderTerms::Statutory, |o| OrderTerms::Agreed(o.0.clone()));
    let booking = domain::owed::book(
        &receivable.owed(),
        &receivable_currency,
        amount,
        currency,
        &terms,
        unit,
    )
    .map_err(|rejection| rejection.to_string())?;
    let proposed = kit::wire::parse_parts(&allocation.parts).unwrap_or_default();
    // An older producer proposes no parts; otherwise they should be ours.
    let differs = !proposed.is_empty() && proposed != booking.parts;
    if differs {
        tracing::info!(allocation_id = %allocation.allocation_id, ?proposed, booked = ?booking.parts,
            "the proposal's split differs from the books (figures moved since); the books stand");
    }
    let basis = match terms {
        OrderTerms::Statutory => money::allocation::Basis::Statutory,
        OrderTerms::Agreed(_) => money::allocation::Basis::Agreed,
    };
    // R-C7: paid early enough that what is left of the principal is the discount the
    // contract offers for it: taken off with the payment.
    let mut after = booking.after;
    let earned = match (&receivable.discount_terms, booking_date) {
        (Some(terms), Some(paid_on)) if after.total() == after.principal => {
            crate::domain::discount::early_payment(
                &terms.0,
                receivable.amount,
                receivable.due_date,
                paid_on,
                after.principal,
                kit::wire::minor_units(&receivable_currency).unwrap_or(2),
            )
        }
        _ => None,
    };
    if let Some(earned) = &earned {
        after.principal -= earned.amount;
        tracing::info!(allocation_id = %allocation.allocation_id, discount = %earned.amount, days = earned.step.days_before_due,
            "early-payment discount earned (R-C7)");
    }
    let owed_after = after.total();
    let answer = events::AllocationApplied {
        allocation_id: allocation.allocation_id.clone(),
        payment_id: allocation.payment_id.clone(),
        receivable_id: allocation.receivable_id.clone(),
        contract_id: receivable.contract_id.to_string(),
        customer_id: receivable.customer_id.to_string(),
        amount: Some(wire::money(amount, currency)),
        open_amount_after: Some(wire::money(owed_after, &receivable_currency)),
        paid_in_full: owed_after.is_zero(),
        booking_date: allocation.booking_date.clone(),
        repeat: false,
        parts: wire::parts(&booking.parts, &receivable_currency),
        basis: wire::basis_to_wire(basis) as i32,
        owed_after: Some(wire::owed(&after, &receivable_currency)),
        differs_from_proposal: differs,
        discount: earned
            .as_ref()
            .map(|e| wire::money(e.amount, &receivable_currency)),
    };
    Ok(Booked {
        after,
        parts: booking.parts,
        basis,
        differs,
        booking_date,
        amount,
        receivable_id: receivable.id,
        earned,
        answer,
    })
}

/// Publishes the recorded decision of a repeated allocation, flagged `repeat`.
#[allow(clippy::too_many_arguments)]
async fn answer_repeat(
    handler: &Allocations,
    tx: &mut PgConnection,
    allocation: &events::PaymentAllocated,
    receivable_id: Uuid,
    amount: rust_decimal::Decimal,
    currency: &str,
    status: &str,
    reason: &str,
) -> Result<(), HandleError> {
    let receivable = store::lock_receivable(tx, receivable_id).await?;
    let customer_id = receivable.as_ref().map_or_else(
        || allocation.customer_id.clone(),
        |r| r.customer_id.to_string(),
    );
    let key = if customer_id.is_empty() {
        allocation.payment_id.clone()
    } else {
        customer_id.clone()
    };
    let open = receivable
        .as_ref()
        .map(|r| wire::money(r.owed().total(), r.currency.trim()));
    if status == "applied" {
        let parts =
            store::owed::parts_of(tx, uuid_field("allocation_id", &allocation.allocation_id)?)
                .await?;
        let answer = events::AllocationApplied {
            allocation_id: allocation.allocation_id.clone(),
            payment_id: allocation.payment_id.clone(),
            receivable_id: allocation.receivable_id.clone(),
            contract_id: receivable
                .as_ref()
                .map(|r| r.contract_id.to_string())
                .unwrap_or_default(),
            customer_id,
            amount: Some(wire::money(amount, currency)),
            paid_in_full: receivable
                .as_ref()
                .is_some_and(|r| r.owed().total().is_zero()),
            open_amount_after: open,
            booking_date: allocation.booking_date.clone(),
            repeat: true,
            parts: wire::parts(&parts, currency),
            basis: wire::basis_to_wire(money::allocation::Basis::Statutory) as i32,
            owed_after: receivable
                .as_ref()
                .map(|r| wire::owed(&r.owed(), r.currency.trim())),
            differs_from_proposal: false,
            discount: None,
        };
        handler
            .outbox
            .enqueue(tx, kit::events::CONTRACTS, &key, &answer)
            .await?;
    } else {
        let answer = events::AllocationRejected {
            allocation_id: allocation.allocation_id.clone(),
            payment_id: allocation.payment_id.clone(),
            receivable_id: allocation.receivable_id.clone(),
            customer_id,
            amount: Some(wire::money(amount, currency)),
            open_amount: open,
            reason: reason.to_owned(),
            repeat: true,
        };
        handler
            .outbox
            .enqueue(tx, kit::events::CONTRACTS, &key, &answer)
            .await?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn reject(
    handler: &Allocations,
    tx: &mut PgConnection,
    allocation: &events::PaymentAllocated,
    allocation_id: Uuid,
    payment_id: Uuid,
    receivable_id: Uuid,
    amount: rust_decimal::Decimal,
    currency: &str,
    receivable: Option<&store::ReceivableRow>,
    reason: &str,
) -> Result<(), HandleError> {
    store::owed::insert_rejected(tx, allocation_id, payment_id, receivable_id, amount, reason)
        .await?;
    let customer_id = receivable.map_or_else(
        || allocation.customer_id.clone(),
        |r| r.customer_id.to_string(),
    );
    let rejected = events::AllocationRejected {
        allocation_id: allocation.allocation_id.clone(),
        payment_id: allocation.payment_id.clone(),
        receivable_id: allocation.receivable_id.clone(),
        customer_id: customer_id.clone(),
        amount: Some(wire::money(amount, currency)),
        open_amount: receivable.map(|r| wire::money(r.owed().total(), r.currency.trim())),
        reason: reason.to_owned(),
        repeat: false,
    };
    let key = if customer_id.is_empty() {
        allocation.payment_id.clone()
    } else {
        customer_id
    };
    handler
        .outbox
        .enqueue(tx, kit::events::CONTRACTS, &key, &rejected)
        .await?;
    tracing::warn!(%receivable_id, %amount, reason, "allocation rejected");
    Ok(())
}
