//! The events legal consumes, as one typed enum ([`Consumed`], decoded from the envelope; what
//! the consumer `wants` is derived from it), with one function per event: an escalation opens
//! a case (R-L1); every change contracts reports of what a receivable owes (payment, accrual,
//! cost, waiver, write-off, amendment) moves what the cases claiming it claim, so a claim
//! always equals what contracts says is owed on its items; a case with nothing left is
//! flagged for withdrawal (R-L4). What legal emits on its own topic
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

use crate::domain::claim::{self, Cause, Outcome};
use crate::domain::{fees, limitation};
use crate::store::{balances, cases, disputes};
use money::allocation::Owed;

/// A YYYY-MM-DD field of an event.
fn date(field: &str, value: &str) -> Result<NaiveDate, HandleError> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|e| HandleError::Permanent(format!("{field} {value:?}: {e}")))
}

/// The events legal consumes, decoded once at the edge.
pub(crate) enum Consumed {
    /// Dunning handed receivables to legal (R-L1).
    EscalatedToLegal(events::EscalatedToLegal),
    /// Contracts changed what a receivable owes (R-L4): a payment, an accrual, a cost, a
    /// waiver or a write-off.
    OwedChanged(OwedChange),
    /// An amendment changed, created or removed receivables (R-C8).
    AmendmentApproved(events::AmendmentApproved),
    /// The debtor disputes items with dunning (R-D8): no payment order meanwhile (R-L7).
    DisputeOpened(events::DisputeOpened),
    /// A dispute was decided.
    DisputeResolved(events::DisputeResolved),
    /// A demand reached the debtor (dunning's contact log): the limitation restarts (R-L7).
    DemandDelivered(events::DemandDelivered),
    /// Contracts' daily cycle completed: the business date, for limitation warnings (R-L7).
    DailyCycleCompleted(events::DailyCycleCompleted),
    /// Nothing for legal to do (a repeated answer).
    Ignored,
}

/// What one contracts event says a receivable owes now.
pub(crate) struct OwedChange {
    receivable_id: Uuid,
    customer_id: String,
    owed: Owed,
    cause: Cause,
    /// The business date of the change, when the event gives one.
    changed_on: Option<NaiveDate>,
    /// A payment's booking date (kept as the receivable's latest payment).
    paid_on: Option<NaiveDate>,
}

impl OwedChange {
    fn new(
        receivable_id: &str,
        customer_id: &str,
        owed: Option<&proto::types::v1::Owed>,
        cause: Cause,
        changed_on: &str,
    ) -> Result<Self, HandleError> {
        let receivable_id = uuid("receivable_id", receivable_id)?;
        let owed = owed.ok_or_else(|| {
            HandleError::Permanent(format!(
                "receivable {receivable_id}: the event carries no owed figures"
            ))
        })?;
        Ok(Self {
            receivable_id,
            customer_id: customer_id.to_owned(),
            owed: wire::parse_owed(owed).map_err(HandleError::Permanent)?,
            cause,
            changed_on: optional_date("changed_on", changed_on)?,
            paid_on: None,
        })
    }

    /// A payment: its owed figures, or (from a producer before the figures) the open amount
    /// as principal.
    fn payment(applied: &events::AllocationApplied) -> Result<Self, HandleError> {
        let paid_on = date("booking_date", &applied.booking_date)?;
        let owed = match applied.owed_after.as_ref() {
            Some(owed) => wire::parse_owed(owed).map_err(HandleError::Permanent)?,
            None => {
                let (open, _) = wire::parse_money(applied.open_amount_after.as_ref())
                    .map_err(HandleError::Permanent)?;
                Owed::principal(open)
            }
        };
        Ok(Self {
            receivable_id: uuid("receivable_id", &applied.receivable_id)?,
            customer_id: applied.customer_id.clone(),
            owed,
            cause: Cause::Payment,
            changed_on: Some(paid_on),
            paid_on: Some(paid_on),
        })
    }
}

/// An optional YYYY-MM-DD field: empty is none.
fn optional_date(field: &str, value: &str) -> Result<Option<NaiveDate>, HandleError> {
    if value.is_empty() {
        Ok(None)
    } else {
        date(field, value).map(Some)
    }
}

/// The envelope types legal consumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ConsumedType {
    EscalatedToLegal,
    AllocationApplied,
    ReceivableOverdue,
    CostBooked,
    WaiverApproved,
    WrittenOff,
    AmendmentApproved,
    DisputeOpened,
    DisputeResolved,
    DemandDelivered,
    DailyCycleCompleted,
}

impl ConsumedType {
    const ALL: [Self; 11] = [
        Self::EscalatedToLegal,
        Self::AllocationApplied,
        Self::ReceivableOverdue,
        Self::CostBooked,
        Self::WaiverApproved,
        Self::WrittenOff,
        Self::AmendmentApproved,
        Self::DisputeOpened,
        Self::DisputeResolved,
        Self::DemandDelivered,
        Self::DailyCycleCompleted,
    ];

    fn name(self) -> String {
        use kit::events::type_name;
        match self {
            Self::EscalatedToLegal => type_name::<events::EscalatedToLegal>(),
            Self::AllocationApplied => type_name::<events::AllocationApplied>(),
            Self::ReceivableOverdue => type_name::<events::ReceivableOverdue>(),
            Self::CostBooked => type_name::<events::CostBooked>(),
            Self::WaiverApproved => type_name::<events::WaiverApproved>(),
            Self::WrittenOff => type_name::<events::WrittenOff>(),
            Self::AmendmentApproved => type_name::<events::AmendmentApproved>(),
            Self::DisputeOpened => type_name::<events::DisputeOpened>(),
            Self::DisputeResolved => type_name::<events::DisputeResolved>(),
            Self::DemandDelivered => type_name::<events::DemandDelivered>(),
            Self::DailyCycleCompleted => type_name::<events::DailyCycleCompleted>(),
        }
    }

    fn of(event_type: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == event_type)
    }
}

impl TryFrom<&IncomingEvent> for Consumed {
    type Error = HandleError;

    fn try_from(event: &IncomingEvent) -> Result<Self, HandleError> {
        let event_type = event.envelope.event_type.as_str();
        let Some(kind) = ConsumedType::of(event_type) else {
            return Err(HandleError::Permanent(format!(
                "legal does not consume {event_type}"
            )));
        };
        Ok(match kind {
            ConsumedType::EscalatedToLegal => Self::EscalatedToLegal(event.decode()?),
            ConsumedType::AllocationApplied => {
                let applied: events::AllocationApplied = event.decode()?;
                if applied.repeat {
                    // Contracts answering a re-driven proposal: the first answer was seen.
                    return Ok(Self::Ignored);
                }
                Self::OwedChanged(OwedChange::payment(&applied)?)
            }
            ConsumedType::ReceivableOverdue => {
                let e: events::ReceivableOverdue = event.decode()?;
                Self::OwedChanged(OwedChange::new(
                    &e.receivable_id,
                    &e.customer_id,
                    e.owed.as_ref(),
                    Cause::Accrual,
                    &e.as_of,
                )?)
            }
            ConsumedType::CostBooked => {
                let e: events::CostBooked = event.decode()?;
                Self::OwedChanged(OwedChange::new(
                    &e.receivable_id,
                    &e.customer_id,
                    e.owed_after.as_ref(),
                    Cause::CostBooked,
                    &e.incurred_on,
                )?)
            }
            ConsumedType::WaiverApproved => {
                let e: events::WaiverApproved = event.decode()?;
                Self::OwedChanged(OwedChange::new(
                    &e.receivable_id,
                    &e.customer_id,
                    e.owed_after.as_ref(),
                    Cause::Waiver,
                    "",
                )?)
            }
            ConsumedType::WrittenOff => {
                let e: events::WrittenOff = event.decode()?;
                Self::OwedChanged(OwedChange::new(
                    &e.receivable_id,
                    &e.customer_id,
                    e.owed_after.as_ref(),
                    Cause::WriteOff,
                    &e.booking_date,
                )?)
            }
            ConsumedType::AmendmentApproved => Self::AmendmentApproved(event.decode()?),
            ConsumedType::DisputeOpened => Self::DisputeOpened(event.decode()?),
            ConsumedType::DisputeResolved => Self::DisputeResolved(event.decode()?),
            ConsumedType::DemandDelivered => Self::DemandDelivered(event.decode()?),
            ConsumedType::DailyCycleCompleted => Self::DailyCycleCompleted(event.decode()?),
        })
    }
}

pub(crate) struct Events {
    pub(crate) outbox: Outbox,
}

impl Handler for Events {
    fn wants(&self, event_type: &str) -> bool {
        ConsumedType::of(event_type).is_some()
    }

    fn together(&self, event_type: &str) -> bool {
        // Issue 16: a run of payments, or of the daily cycle's overdue reports, on items no
        // open case claims is taken in two statements.
        event_type == kit::events::type_name::<events::AllocationApplied>()
            || event_type == kit::events::type_name::<events::ReceivableOverdue>()
    }

    async fn handle_run(
        &self,
        tx: &mut PgConnection,
        events: &[&IncomingEvent],
    ) -> Result<(), (usize, HandleError)> {
        if self.owed_changes(tx, events).await.map_err(|e| (0, e))? {
            return Ok(());
        }
        // Not the usual run: each in turn, as they came.
        kit::consumer::one_by_one(self, tx, events).await
    }

    async fn handle(
        &self,
        tx: &mut PgConnection,
        event: &IncomingEvent,
    ) -> Result<(), HandleError> {
        match Consumed::try_from(event)? {
            Consumed::EscalatedToLegal(escalation) => self.open_case(tx, escalation).await,
            Consumed::OwedChanged(change) => self.owed_changed(tx, &change).await,
            Consumed::AmendmentApproved(approved) => self.amendment(tx, &approved).await,
            Consumed::Ignored => Ok(()),
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
    /// A run of payments (`AllocationApplied`) or of overdue reports (`ReceivableOverdue`)
    /// taken together: each item's figures as [`Self::owed_changed`] records them, when the
    /// run names every item once and no open case claims any (a claimed item moves its case's
    /// claim, one by one). False, with nothing written, otherwise.
    async fn owed_changes(
        &self,
        tx: &mut PgConnection,
        events: &[&IncomingEvent],
    ) -> Result<bool, HandleError> {
        let mut changes = Vec::with_capacity(events.len());
        for event in events {
            match Consumed::try_from(*event) {
                Ok(Consumed::OwedChanged(change)) => changes.push(change),
                _ => return Ok(false),
            }
        }
        let mut receivables: Vec<Uuid> = changes.iter().map(|c| c.receivable_id).collect();
        receivables.sort_unstable();
        receivables.dedup();
        if receivables.len() != changes.len()
            || balances::claimed_by_open_case(tx, &receivables).await?
        {
            return Ok(false);
        }
        let rows: Vec<(Uuid, &Owed, Option<NaiveDate>)> = changes
            .iter()
            .map(|c| (c.receivable_id, &c.owed, c.paid_on))
            .collect();
        balances::record_owed_many(tx, &rows).await?;
        Ok(true)
    }

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
        // The claim is what contracts says the items owe (legal's read model of its events);
        // an item contracts never reported on yet is claimed for dunning's open amount, and
        // contracts' next figures replace it.
        let mut items = Vec::with_capacity(escalation.receivables.len());
        for receivable in &escalation.receivables {
            let receivable_id = uuid("receivable_id", &receivable.receivable_id)?;
            let owed = match balances::owed_of(tx, receivable_id).await? {
                Some(owed) => owed,
                None => {
                    let (open, _) = wire::parse_money(receivable.open_amount.as_ref())
                        .map_err(HandleError::Permanent)?;
                    Owed::principal(open)
                }
            };
            cases::claim_receivable(tx, case_id, receivable_id, &receivable.contract_no, &owed)
                .await?;
            items.push(owed);
        }
        let claim = claim::sum(&items);
        let claimed = claim.total();
        cases::set_claim(tx, case_id, claimed, false).await?;
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
            claim: Some(wire::owed(&claim, &currency)),
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
        // Payments that arrived before this escalation (another topic) left nothing to claim.
        if claimed <= Decimal::ZERO {
            self.withdraw(
                tx,
                case_id,
                &currency,
                &escalation.customer_id,
                "the debtor paid everything the case claims before it opened".to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    /// R-L4: contracts changed what a receivable owes: it is recorded (for cases opened
    /// later), and every open case claiming it claims the new figures.
    async fn owed_changed(
        &self,
        tx: &mut PgConnection,
        change: &OwedChange,
    ) -> Result<(), HandleError> {
        balances::record_owed(tx, change.receivable_id, &change.owed, change.paid_on).await?;
        for (case_id, currency, flagged, before) in
            cases::open_cases_claiming(tx, change.receivable_id).await?
        {
            cases::set_owed(tx, case_id, change.receivable_id, &change.owed).await?;
            let case = ClaimedCase {
                id: case_id,
                currency: currency.trim(),
                customer_id: &change.customer_id,
                before,
                flagged,
            };
            self.reassess(tx, &case, change.cause, change.changed_on)
                .await?;
        }
        Ok(())
    }

    /// R-C8: an approved amendment restates the receivables it changed; one it removed moved
    /// its principal to the items it created, so a case claiming the removed item claims the
    /// created ones of the same contract from now on.
    async fn amendment(
        &self,
        tx: &mut PgConnection,
        approved: &events::AmendmentApproved,
    ) -> Result<(), HandleError> {
        let changed_on = optional_date("business_date", &approved.business_date)?;
        let mut affected: Vec<(Uuid, String, bool, Decimal)> = Vec::new();
        let created: Vec<&events::AmendedReceivable> =
            approved.receivables.iter().filter(|r| r.created).collect();
        for item in &approved.receivables {
            let receivable_id = uuid("receivable_id", &item.receivable_id)?;
            let owed = match item.owed.as_ref() {
                Some(owed) => wire::parse_owed(owed).map_err(HandleError::Permanent)?,
                None if item.removed => Owed::default(),
                None => {
                    return Err(HandleError::Permanent(format!(
                        "receivable {receivable_id}: the amendment carries no owed figures"
                    )));
                }
            };
            balances::record_owed(tx, receivable_id, &owed, None).await?;
            for case in cases::open_cases_claiming(tx, receivable_id).await? {
                cases::set_owed(tx, case.0, receivable_id, &owed).await?;
                if item.removed {
                    for new in &created {
                        let new_id = uuid("receivable_id", &new.receivable_id)?;
                        let new_owed = match new.owed.as_ref() {
                            Some(o) => wire::parse_owed(o).map_err(HandleError::Permanent)?,
                            None => Owed::default(),
                        };
                        cases::claim_receivable(
                            tx,
                            case.0,
                            new_id,
                            &approved.contract_no,
                            &new_owed,
                        )
                        .await?;
                    }
                    let detail = format!(
                        "amendment {} replaced receivable {receivable_id} of {}: the case claims its {} new item(s)",
                        approved.amendment_id,
                        approved.contract_no,
                        created.len()
                    );
                    cases::log(tx, case.0, "items_replaced", &detail).await?;
                }
                if !affected.iter().any(|a| a.0 == case.0) {
                    affected.push(case);
                }
            }
        }
        for (case_id, currency, flagged, before) in affected {
            let case = ClaimedCase {
                id: case_id,
                currency: currency.trim(),
                customer_id: &approved.customer_id,
                before,
                flagged,
            };
            self.reassess(tx, &case, Cause::Amendment, changed_on)
                .await?;
        }
        Ok(())
    }

    /// Sets the claim to what the case's items owe now (R-L4): a claim that moved is told
    /// (`ClaimUpdated`, with its components and cause); nothing left flags the case for
    /// withdrawal (`WithdrawalRequested`) once; the case keeps its status until the legal
    /// department closes it (MoveCase).
    async fn reassess(
        &self,
        tx: &mut PgConnection,
        case: &ClaimedCase<'_>,
        cause: Cause,
        changed_on: Option<NaiveDate>,
    ) -> Result<(), HandleError> {
        let items = cases::owed_on_items(tx, case.id).await?;
        let now = claim::sum(&items);
        let on = changed_on.map_or_else(String::new, |d| d.to_string());
        match claim::assess(case.before, case.flagged, now) {
            Outcome::Unchanged => Ok(()),
            Outcome::Withdraw => {
                let reason = match changed_on {
                    Some(d) => format!(
                        "nothing is owed on the claimed items any more ({} on {d})",
                        cause.describe()
                    ),
                    None => format!(
                        "nothing is owed on the claimed items any more ({})",
                        cause.describe()
                    ),
                };
                self.withdraw(tx, case.id, case.currency, case.customer_id, reason)
                    .await
            }
            Outcome::Updated {
                claim,
                flag_cleared,
            } => {
                let total = claim.total();
                cases::set_claim(tx, case.id, total, false).await?;
                let currency = case.currency;
                let mut reason = format!(
                    "{}{}: {} {currency} claimed (principal {}, late fee {}, interest {}, costs {})",
                    cause.describe(),
                    changed_on.map_or_else(String::new, |d| format!(" on {d}")),
                    wire::format_amount(total, currency),
                    wire::format_amount(claim.principal, currency),
                    wire::format_amount(claim.late_fee, currency),
                    wire::format_amount(claim.interest, currency),
                    wire::format_amount(claim.costs, currency),
                );
                if flag_cleared {
                    reason.push_str(
                        "; owed again after the withdrawal flag, which no longer applies",
                    );
                }
                cases::log(tx, case.id, "claim_updated", &reason).await?;
                let event = events::ClaimUpdated {
                    case_id: case.id.to_string(),
                    customer_id: case.customer_id.to_owned(),
                    amount_claimed: Some(wire::money(total, currency)),
                    reason,
                    claim: Some(wire::owed(&claim, currency)),
                    cause: cause_to_wire(cause) as i32,
                    changed_on: on,
                    withdrawal_flag_cleared: flag_cleared,
                };
                self.outbox
                    .enqueue(tx, kit::events::LEGAL_CASES, case.customer_id, &event)
                    .await?;
                Ok(())
            }
        }
    }

    /// R-L4: nothing is owed on the case's items: flag it for withdrawal, with the court-fee
    /// refund of R-L7 (withdrawing a filed suit brings back half its acceptance fee, art. 15).
    async fn withdraw(
        &self,
        tx: &mut PgConnection,
        case_id: Uuid,
        currency: &str,
        customer_id: &str,
        reason: String,
    ) -> Result<(), HandleError> {
        cases::set_claim(tx, case_id, Decimal::ZERO, true).await?;
        let (status, acceptance_fee) = cases::status_and_acceptance_fee(tx, case_id).await?;
        let status = crate::domain::case::Status::parse(&status).ok_or_else(|| {
            HandleError::Permanent(format!("case {case_id} has the unknown status {status:?}"))
        })?;
        let refund = fees::refund_on_withdrawal(acceptance_fee, status);
        cases::record_court_fee_refund(tx, case_id, refund).await?;
        let reason = format!(
            "{reason}; court-fee refund {} {currency}",
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
        Ok(())
    }
}

/// An open case whose claim is being reassessed.
struct ClaimedCase<'a> {
    id: Uuid,
    currency: &'a str,
    customer_id: &'a str,
    /// What it claimed before the change.
    before: Decimal,
    /// Whether it was flagged for withdrawal.
    flagged: bool,
}

/// The wire cause of a claim change.
fn cause_to_wire(cause: Cause) -> proto::types::v1::ClaimChange {
    use proto::types::v1::ClaimChange as W;
    match cause {
        Cause::Payment => W::Payment,
        Cause::Accrual => W::Accrual,
        Cause::CostBooked => W::CostBooked,
        Cause::Waiver => W::Waiver,
        Cause::WriteOff => W::WriteOff,
        Cause::Amendment => W::Amendment,
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
        let events: Vec<String> = ConsumedType::ALL.iter().map(|t| t.name()).collect();
        assert!(events.iter().any(|t| t.ends_with("EscalatedToLegal")));
        assert!(events.iter().any(|t| t.ends_with("AllocationApplied")));
        assert!(events.iter().any(|t| t.ends_with("DemandDelivered")));
        assert!(events.iter().any(|t| t.ends_with("DailyCycleCompleted")));
        // Issue 15 item 3: every change of what an item owes moves the claim.
        for owed in [
            "ReceivableOverdue",
            "CostBooked",
            "WaiverApproved",
            "WrittenOff",
            "AmendmentApproved",
        ] {
            assert!(events.iter().any(|t| t.ends_with(owed)), "{owed}");
        }
        assert!(!events.iter().any(|t| t.ends_with("CaseOpened")));
    }
}
