//! The events legal consumes, as one typed enum ([`Consumed`], decoded from the envelope; what
//! the consumer `wants` is derived from it), with one function per event: an escalation opens
//! a case (R-L1), a payment lowers what the cases claiming its receivable claim, and a case
//! with nothing left is flagged for withdrawal (R-L4). What legal emits on its own topic
//! (`CaseOpened`, `ClaimUpdated`, `WithdrawalRequested` here; `CaseStatusChanged`,
//! `AssetPreservationRequested` and `CollectionCostIncurred` from the API) is enqueued where
//! the change is made.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use kit::consumer::{HandleError, Handler, IncomingEvent, uuid_field as uuid};
use kit::outbox::Outbox;
use kit::wire;
use proto::events::v1 as events;

use crate::domain::{fees, limitation};
use crate::store::{balances, cases, disputes};

/// A YYYY-MM-DD field of an event.
fn date(field: &str, value: &str) -> Result<NaiveDate, HandleError> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|e| HandleError::Permanent(format!("{field} {value:?}: {e}")))
}

/// The events legal consumes, decoded once at the edge.
pub(crate) enum Consumed {
    /// Dunning handed receivables to legal (R-L1).
    EscalatedToLegal(events::EscalatedToLegal),
    /// Contracts booked a payment on a receivable (R-L4).
    AllocationApplied(Box<events::AllocationApplied>),
    /// The debtor disputes items with dunning (R-D8): no payment order meanwhile (R-L7).
    DisputeOpened(events::DisputeOpened),
    /// A dispute was decided.
    DisputeResolved(events::DisputeResolved),
    /// A demand reached the debtor (dunning's contact log): the limitation restarts (R-L7).
    DemandDelivered(events::DemandDelivered),
    /// Contracts' daily cycle completed: the business date, for limitation warnings (R-L7).
    DailyCycleCompleted(events::DailyCycleCompleted),
}

impl Consumed {
    /// The envelope types legal consumes.
    fn types() -> [String; 6] {
        [
            kit::events::type_name::<events::EscalatedToLegal>(),
            kit::events::type_name::<events::AllocationApplied>(),
            kit::events::type_name::<events::DisputeOpened>(),
            kit::events::type_name::<events::DisputeResolved>(),
            kit::events::type_name::<events::DemandDelivered>(),
            kit::events::type_name::<events::DailyCycleCompleted>(),
        ]
    }
}

impl TryFrom<&IncomingEvent> for Consumed {
    type Error = HandleError;

    fn try_from(event: &IncomingEvent) -> Result<Self, HandleError> {
        let event_type = event.envelope.event_type.as_str();
        if event_type == kit::events::type_name::<events::EscalatedToLegal>() {
            Ok(Self::EscalatedToLegal(event.decode()?))
        } else if event_type == kit::events::type_name::<events::AllocationApplied>() {
            Ok(Self::AllocationApplied(Box::new(event.decode()?)))
        } else if event_type == kit::events::type_name::<events::DisputeOpened>() {
            Ok(Self::DisputeOpened(event.decode()?))
        } else if event_type == kit::events::type_name::<events::DisputeResolved>() {
            Ok(Self::DisputeResolved(event.decode()?))
        } else if event_type == kit::events::type_name::<events::DemandDelivered>() {
            Ok(Self::DemandDelivered(event.decode()?))
        } else if event_type == kit::events::type_name::<events::DailyCycleCompleted>() {
            Ok(Self::DailyCycleCompleted(event.decode()?))
        } else {
            Err(HandleError::Permanent(format!(
                "legal does not consume {event_type}"
            )))
        }
    }
}

pub(crate) struct Events {
    pub(crate) outbox: Outbox,
}

impl Handler for Events {
    fn wants(&self, event_type: &str) -> bool {
        Consumed::types().iter().any(|t| t == event_type)
    }

    async fn handle(
        &self,
        tx: &mut PgConnection,
        event: &IncomingEvent,
    ) -> Result<(), HandleError> {
        match Consumed::try_from(event)? {
            Consumed::EscalatedToLegal(escalation) => self.open_case(tx, escalation).await,
            Consumed::AllocationApplied(applied) => self.payment(tx, *applied).await,
            Consumed::DisputeOpened(opened) => {
                let receivables = opened
                    .receivable_ids
                    .iter()
                    .map(|r| uuid("receivable_ids", r))
                    .collect::<Result<Vec<_>, _>>()?;
                disputes::opened(
                    tx,
                    uuid("dispute_id", &opened.dispute_id)?,
                    uuid("customer_id", &opened.customer_id)?,
                    &receivables,
                    &opened.reason,
                    &opened.opened_at,
                )
                .await?;
                Ok(())
            }
            Consumed::DisputeResolved(resolved) => {
                disputes::resolved(tx, uuid("dispute_id", &resolved.dispute_id)?).await?;
                Ok(())
            }
            Consumed::DemandDelivered(demand) => self.demand_delivered(tx, &demand).await,
            Consumed::DailyCycleCompleted(cycle) => self.daily_cycle(tx, &cycle).await,
        }
    }
}

impl Events {
    /// R-L1: an escalation opens one case, however often it arrives.
    async fn open_case(
        &self,
        tx: &mut PgConnection,
        escalation: events::EscalatedToLegal,
    ) -> Result<(), HandleError> {
        let customer_id = uuid("customer_id", &escalation.customer_id)?;
        let (claimed, currency) = wire::parse_money(escalation.amount_claimed.as_ref())
            .map_err(HandleError::Permanent)?;
        let opened_on =
            NaiveDate::parse_from_str(&escalation.business_date, "%Y-%m-%d").map_err(|e| {
                HandleError::Permanent(format!("business_date {:?}: {e}", escalation.business_date))
            })?;
        let case_id = Uuid::now_v7();
        let opened = cases::open_case_for(
            tx,
            &cases::NewCase {
                id: case_id,
                escalation_id: uuid("escalation_id", &escalation.escalation_id)?,
                dunning_case_id: uuid("case_id", &escalation.case_id)?,
                customer_id,
                currency: &currency,
                amount_claimed: claimed,
                opened_on,
                reason: &escalation.reason,
            },
        )
        .await?;
        if !opened {
            return Ok(()); // the same escalation opens one case, however often it arrives
        }
        for receivable in &escalation.receivables {
            let (open, _) = wire::parse_money(receivable.open_amount.as_ref())
                .map_err(HandleError::Permanent)?;
            let receivable_id = uuid("receivable_id", &receivable.receivable_id)?;
            cases::claim_receivable(tx, case_id, receivable_id, &receivable.contract_no, open)
                .await?;
        }
        let detail = format!(
            "opened for {} {currency}: {}",
            wire::format_amount(claimed, &currency),
            escalation.reason
        );
        cases::log(tx, case_id, "opened", &detail).await?;
        // R-L7: the limitation runs from the day after the earliest claimed due date, or from
        // the latest demand that reached the debtor since.
        let due_dates = escalation
            .receivables
            .iter()
            .filter(|r| !r.due_date.is_empty())
            .map(|r| date("due_date", &r.due_date))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(known) = limitation::default_known_on(due_dates) {
            let demand = crate::store::limitation::latest_demand(tx, customer_id).await?;
            let period = limitation::period(known, demand);
            crate::store::limitation::set_period(tx, case_id, known, &period).await?;
        }
        let opened = events::CaseOpened {
            case_id: case_id.to_string(),
            escalation_id: escalation.escalation_id.clone(),
            customer_id: escalation.customer_id.clone(),
            amount_claimed: Some(wire::money(claimed, &currency)),
            receivable_ids: escalation
                .receivables
                .iter()
                .map(|r| r.receivable_id.clone())
                .collect(),
            opened_on: opened_on.to_string(),
            reason: escalation.reason.clone(),
        };
        self.outbox
            .enqueue(
                tx,
                kit::events::LEGAL_CASES,
                &escalation.customer_id,
                &opened,
            )
            .await?;
        tracing::info!(%case_id, %claimed, "legal case opened");
        // Payments that arrived before this escalation (another topic) lower the claim now.
        if let Some(last) = cases::catch_up_with_balances(tx, case_id).await? {
            let paid_on = last.map_or_else(String::new, |d| d.to_string());
            self.reassess(
                tx,
                case_id,
                &currency,
                &escalation.customer_id,
                &paid_on,
                false,
            )
            .await?;
        }
        Ok(())
    }

    /// R-L4: a payment lowers what the open cases claiming its receivable claim; once
    /// nothing is left, the case is flagged for withdrawal.
    async fn payment(
        &self,
        tx: &mut PgConnection,
        applied: events::AllocationApplied,
    ) -> Result<(), HandleError> {
        if applied.repeat {
            // Contracts answering a re-driven proposal: the first answer was seen.
            return Ok(());
        }
        let receivable_id = uuid("receivable_id", &applied.receivable_id)?;
        let (open_after, _) = wire::parse_money(applied.open_amount_after.as_ref())
            .map_err(HandleError::Permanent)?;
        let paid_on =
            NaiveDate::parse_from_str(&applied.booking_date, "%Y-%m-%d").map_err(|e| {
                HandleError::Permanent(format!("booking_date {:?}: {e}", applied.booking_date))
            })?;
        balances::record_payment(tx, receivable_id, open_after, paid_on).await?;
        for (case_id, currency, flagged) in cases::open_cases_claiming(tx, receivable_id).await? {
            cases::lower_claim(tx, case_id, receivable_id, open_after).await?;
            self.reassess(
                tx,
                case_id,
                currency.trim(),
                &applied.customer_id,
                &applied.booking_date,
                flagged,
            )
            .await?;
        }
        Ok(())
    }

    /// Sets the claim to what is still open on the case's receivables: a lower claim
    /// (`ClaimUpdated`), or nothing left, which flags the case for withdrawal
    /// (`WithdrawalRequested`, R-L4) once; the case keeps its status until the legal
    /// department closes it (MoveCase).
    async fn reassess(
        &self,
        tx: &mut PgConnection,
        case_id: Uuid,
        currency: &str,
        customer_id: &str,
        paid_on: &str,
        already_flagged: bool,
    ) -> Result<(), HandleError> {
        let remaining: Decimal = cases::remaining_claim(tx, case_id).await?;
        let amount = wire::format_amount(remaining, currency);
        if remaining.is_zero() {
            if already_flagged {
                return Ok(());
            }
            cases::set_claim(tx, case_id, Decimal::ZERO, true).await?;
            // R-L7: withdrawing a filed suit brings back half its acceptance fee (art. 15).
            let (status, acceptance_fee) = cases::status_and_acceptance_fee(tx, case_id).await?;
            let status = crate::domain::case::Status::parse(&status).ok_or_else(|| {
                HandleError::Permanent(format!("case {case_id} has the unknown status {status:?}"))
            })?;
            let refund = fees::refund_on_withdrawal(acceptance_fee, status);
            cases::record_court_fee_refund(tx, case_id, refund).await?;
            let reason = format!(
                "the debtor paid everything the case claims (last payment {paid_on}); court-fee refund {} {currency}",
                wire::format_amount(refund, currency)
            );
            cases::log(tx, case_id, "withdrawal_requested", &reason).await?;
            let event = events::WithdrawalRequested {
                case_id: case_id.to_string(),
                customer_id: customer_id.to_owned(),
                reason,
                court_fee_refund: Some(wire::money(refund, currency)),
            };
            self.outbox
                .enqueue(tx, kit::events::LEGAL_CASES, customer_id, &event)
                .await?;
            tracing::info!(%case_id, "legal case flagged for withdrawal");
        } else {
            cases::set_claim(tx, case_id, remaining, false).await?;
            let reason = format!("partial payment on {paid_on}; {amount} {currency} still claimed");
            cases::log(tx, case_id, "claim_updated", &reason).await?;
            let event = events::ClaimUpdated {
                case_id: case_id.to_string(),
                customer_id: customer_id.to_owned(),
                amount_claimed: Some(wire::money(remaining, currency)),
                reason,
            };
            self.outbox
                .enqueue(tx, kit::events::LEGAL_CASES, customer_id, &event)
                .await?;
        }
        Ok(())
    }
}

impl Events {
    /// R-L7: a demand reached the debtor: kept if it is the latest, and every open case of
    /// the debtor restarts its limitation from it. Replay-safe: the latest demand only moves
    /// later, and the period is recomputed from it.
    async fn demand_delivered(
        &self,
        tx: &mut PgConnection,
        demand: &events::DemandDelivered,
    ) -> Result<(), HandleError> {
        let customer_id = uuid("customer_id", &demand.customer_id)?;
        let delivered = limitation::Demand {
            delivered_on: date("delivered_on", &demand.delivered_on)?,
            contact_log_seq: i64::try_from(demand.contact_log_seq).map_err(|_| {
                HandleError::Permanent(format!(
                    "contact_log_seq {} is out of range",
                    demand.contact_log_seq
                ))
            })?,
        };
        let latest = crate::store::limitation::record_demand(tx, customer_id, delivered).await?;
        for (case_id, known, stored) in
            crate::store::limitation::open_cases_of(tx, customer_id).await?
        {
            let period = limitation::period(known, Some(latest));
            // Stored even when the end stays (a later entry of the same day is the proof now).
            crate::store::limitation::set_period(tx, case_id, known, &period).await?;
            if stored == Some(period.expires_on) {
                continue;
            }
            if let Some(by) = period.restarted_by {
                let detail = format!(
                    "limitation restarted by a demand delivered on {} (contact log seq {}); it now ends on {}",
                    by.delivered_on, by.contact_log_seq, period.expires_on
                );
                cases::log(tx, case_id, "limitation_restarted", &detail).await?;
            }
        }
        Ok(())
    }

    /// R-L7: the daily cycle moved the business date: each open case not yet in court whose
    /// limitation ends within the warning window is warned about once per expiry date
    /// (stored, so replays and restarts publish nothing again).
    async fn daily_cycle(
        &self,
        tx: &mut PgConnection,
        cycle: &events::DailyCycleCompleted,
    ) -> Result<(), HandleError> {
        let as_of = date("as_of", &cycle.as_of)?;
        let today = crate::store::limitation::advance_business_date(tx, as_of).await?;
        let Some(horizon) = today.checked_add_days(chrono::Days::new(
            u64::try_from(limitation::WARNING_DAYS).unwrap_or(0),
        )) else {
            return Ok(());
        };
        for due in crate::store::limitation::unwarned_due_by(tx, horizon).await? {
            let expires_on = due.limitation_expires_on;
            let days_left = limitation::days_left(expires_on, today);
            let days_left = i32::try_from(days_left).unwrap_or(i32::MIN);
            if !crate::store::limitation::record_warning(tx, due.id, expires_on, today, days_left)
                .await?
            {
                continue;
            }
            let detail =
                format!("limitation period ends on {expires_on}: {days_left} days left on {today}");
            cases::log(tx, due.id, "limitation_expiring", &detail).await?;
            let customer_id = due.customer_id.to_string();
            let event = events::LimitationPeriodExpiring {
                case_id: due.id.to_string(),
                customer_id: customer_id.clone(),
                expires_on: expires_on.to_string(),
                days_left,
                business_date: today.to_string(),
            };
            self.outbox
                .enqueue(tx, kit::events::LEGAL_CASES, &customer_id, &event)
                .await?;
            tracing::info!(case_id = %due.id, %expires_on, days_left, "limitation period expiring");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wants_exactly_the_consumed_types() {
        let events = Consumed::types();
        assert!(events.iter().any(|t| t.ends_with("EscalatedToLegal")));
        assert!(events.iter().any(|t| t.ends_with("AllocationApplied")));
        assert!(events.iter().any(|t| t.ends_with("DemandDelivered")));
        assert!(events.iter().any(|t| t.ends_with("DailyCycleCompleted")));
        assert!(!events.iter().any(|t| t.ends_with("CaseOpened")));
    }
}
