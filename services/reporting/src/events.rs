//! The events reporting consumes, as one typed enum ([`Consumed`], decoded from the envelope;
//! what the consumer `wants` is derived from it), and what each adds to the read model: the
//! receivables and every change to their principal (for aging, KPIs, roll rates and
//! provisions, R-O1, R-O7, R-O8) and one step of the debt's story (the trace, R-O2).
//! Summaries carry amounts, dates, numbers and codes, never names, accounts or free text a
//! person typed (R-O4). Reporting emits nothing.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use kit::consumer::{HandleError, Handler, IncomingEvent, uuid_field as uuid};
use kit::wire;
use money::allocation::Component;
use proto::events::v1 as events;
use proto::types::v1 as types;

use crate::domain::MovementKind;
use crate::store::{self, NewItem, NewStep};

/// The events reporting consumes, decoded once at the edge.
pub(crate) enum Consumed {
    ContractSigned(events::ContractSigned),
    ChargesBilled(events::ChargesBilled),
    ReceivableOverdue(events::ReceivableOverdue),
    AllocationApplied(events::AllocationApplied),
    AllocationRejected(events::AllocationRejected),
    WaiverApproved(events::WaiverApproved),
    WrittenOff(events::WrittenOff),
    CostBooked(events::CostBooked),
    AmendmentApproved(events::AmendmentApproved),
    PaymentReceived(events::PaymentReceived),
    PaymentAllocated(events::PaymentAllocated),
    ActionExecuted(events::ActionExecuted),
    EscalatedToLegal(events::EscalatedToLegal),
    DisputeOpened(events::DisputeOpened),
    DisputeResolved(events::DisputeResolved),
    CaseOpened(events::CaseOpened),
    ClaimUpdated(events::ClaimUpdated),
    CaseStatusChanged(events::CaseStatusChanged),
    WithdrawalRequested(events::WithdrawalRequested),
    CollectionCostIncurred(events::CollectionCostIncurred),
    PromiseMade(events::PromiseMade),
    PromiseJudged(events::PromiseJudged),
    DemandDelivered(events::DemandDelivered),
}

/// The envelope types reporting consumes (the owners' events are applied beside them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ConsumedType {
    ContractSigned,
    ChargesBilled,
    ReceivableOverdue,
    AllocationApplied,
    AllocationRejected,
    WaiverApproved,
    WrittenOff,
    CostBooked,
    AmendmentApproved,
    PaymentReceived,
    PaymentAllocated,
    ActionExecuted,
    EscalatedToLegal,
    DisputeOpened,
    DisputeResolved,
    CaseOpened,
    ClaimUpdated,
    CaseStatusChanged,
    WithdrawalRequested,
    CollectionCostIncurred,
    PromiseMade,
    PromiseJudged,
    DemandDelivered,
}

impl ConsumedType {
    const ALL: [Self; 23] = [
        Self::ContractSigned,
        Self::ChargesBilled,
        Self::ReceivableOverdue,
        Self::AllocationApplied,
        Self::AllocationRejected,
        Self::WaiverApproved,
        Self::WrittenOff,
        Self::CostBooked,
        Self::AmendmentApproved,
        Self::PaymentReceived,
        Self::PaymentAllocated,
        Self::ActionExecuted,
        Self::EscalatedToLegal,
        Self::DisputeOpened,
        Self::DisputeResolved,
        Self::CaseOpened,
        Self::ClaimUpdated,
        Self::CaseStatusChanged,
        Self::WithdrawalRequested,
        Self::CollectionCostIncurred,
        Self::PromiseMade,
        Self::PromiseJudged,
        Self::DemandDelivered,
    ];

    fn name(self) -> String {
        use kit::events::type_name as n;
        match self {
            Self::ContractSigned => n::<events::ContractSigned>(),
            Self::ChargesBilled => n::<events::ChargesBilled>(),
            Self::ReceivableOverdue => n::<events::ReceivableOverdue>(),
            Self::AllocationApplied => n::<events::AllocationApplied>(),
            Self::AllocationRejected => n::<events::AllocationRejected>(),
            Self::WaiverApproved => n::<events::WaiverApproved>(),
            Self::WrittenOff => n::<events::WrittenOff>(),
            Self::CostBooked => n::<events::CostBooked>(),
            Self::AmendmentApproved => n::<events::AmendmentApproved>(),
            Self::PaymentReceived => n::<events::PaymentReceived>(),
            Self::PaymentAllocated => n::<events::PaymentAllocated>(),
            Self::ActionExecuted => n::<events::ActionExecuted>(),
            Self::EscalatedToLegal => n::<events::EscalatedToLegal>(),
            Self::DisputeOpened => n::<events::DisputeOpened>(),
            Self::DisputeResolved => n::<events::DisputeResolved>(),
            Self::CaseOpened => n::<events::CaseOpened>(),
            Self::ClaimUpdated => n::<events::ClaimUpdated>(),
            Self::CaseStatusChanged => n::<events::CaseStatusChanged>(),
            Self::WithdrawalRequested => n::<events::WithdrawalRequested>(),
            Self::CollectionCostIncurred => n::<events::CollectionCostIncurred>(),
            Self::PromiseMade => n::<events::PromiseMade>(),
            Self::PromiseJudged => n::<events::PromiseJudged>(),
            Self::DemandDelivered => n::<events::DemandDelivered>(),
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
                "reporting does not consume {event_type}"
            )));
        };
        Ok(match kind {
            ConsumedType::ContractSigned => Self::ContractSigned(event.decode()?),
            ConsumedType::ChargesBilled => Self::ChargesBilled(event.decode()?),
            ConsumedType::ReceivableOverdue => Self::ReceivableOverdue(event.decode()?),
            ConsumedType::AllocationApplied => Self::AllocationApplied(event.decode()?),
            ConsumedType::AllocationRejected => Self::AllocationRejected(event.decode()?),
            ConsumedType::WaiverApproved => Self::WaiverApproved(event.decode()?),
            ConsumedType::WrittenOff => Self::WrittenOff(event.decode()?),
            ConsumedType::CostBooked => Self::CostBooked(event.decode()?),
            ConsumedType::AmendmentApproved => Self::AmendmentApproved(event.decode()?),
            ConsumedType::PaymentReceived => Self::PaymentReceived(event.decode()?),
            ConsumedType::PaymentAllocated => Self::PaymentAllocated(event.decode()?),
            ConsumedType::ActionExecuted => Self::ActionExecuted(event.decode()?),
            ConsumedType::EscalatedToLegal => Self::EscalatedToLegal(event.decode()?),
            ConsumedType::DisputeOpened => Self::DisputeOpened(event.decode()?),
            ConsumedType::DisputeResolved => Self::DisputeResolved(event.decode()?),
            ConsumedType::CaseOpened => Self::CaseOpened(event.decode()?),
            ConsumedType::ClaimUpdated => Self::ClaimUpdated(event.decode()?),
            ConsumedType::CaseStatusChanged => Self::CaseStatusChanged(event.decode()?),
            ConsumedType::WithdrawalRequested => Self::WithdrawalRequested(event.decode()?),
            ConsumedType::CollectionCostIncurred => Self::CollectionCostIncurred(event.decode()?),
            ConsumedType::PromiseMade => Self::PromiseMade(event.decode()?),
            ConsumedType::PromiseJudged => Self::PromiseJudged(event.decode()?),
            ConsumedType::DemandDelivered => Self::DemandDelivered(event.decode()?),
        })
    }
}

/// The consumer.
pub(crate) struct Events {
    pub(crate) business_offset: FixedOffset,
}

impl Handler for Events {
    fn wants(&self, event_type: &str) -> bool {
        ConsumedType::of(event_type).is_some() || kit::auth::owners::wants(event_type)
    }

    async fn handle(
        &self,
        tx: &mut PgConnection,
        event: &IncomingEvent,
    ) -> Result<(), HandleError> {
        let mut moved = Vec::new();
        let step = self.learn(tx, event, &mut moved).await?;
        store::record_movements(tx, &moved).await?;
        if let Some(step) = step {
            store::record_steps(tx, &[step]).await?;
        }
        Ok(())
    }

    fn together(&self, event_type: &str) -> bool {
        // Issue 16: a run's steps of the trace are written in one statement.
        ConsumedType::of(event_type).is_some()
    }

    fn mixed_runs(&self) -> bool {
        // Each event of a run is learned in turn; only the trace is written together, so a
        // run may mix types (a bank file's payments alternate theirs).
        true
    }

    async fn handle_run(
        &self,
        tx: &mut PgConnection,
        events: &[&IncomingEvent],
    ) -> Result<(), (usize, HandleError)> {
        let mut steps = Vec::with_capacity(events.len());
        let mut moved = Vec::new();
        for (i, event) in events.iter().enumerate() {
            if let Some(step) = self
                .learn(tx, event, &mut moved)
                .await
                .map_err(|e| (i, e))?
            {
                steps.push(step);
            }
        }
        // Issue 16: the run's changes of principal in one statement too.
        store::record_movements(tx, &moved)
            .await
            .map_err(|e| (0, e.into()))?;
        store::record_steps(tx, &steps)
            .await
            .map_err(|e| (0, e.into()))
    }
}

impl Events {
    /// Takes `event` into the read model; the step of the trace it makes, to record.
    async fn learn(
        &self,
        tx: &mut PgConnection,
        event: &IncomingEvent,
        moved: &mut Vec<store::NewMovement>,
    ) -> Result<Option<store::NewStep>, HandleError> {
        // R-O3: who owns each customer, for a collector's scoped trace.
        kit::auth::owners::apply_event(tx, event).await?;
        if ConsumedType::of(&event.envelope.event_type).is_none() {
            return Ok(None);
        }
        let at = occurred_at(event)?;
        let on = at.with_timezone(&self.business_offset).date_naive();
        let event_id = uuid("event_id", &event.envelope.event_id)?;
        let mut step = Story::new(event_id, at, &event.envelope.producer);
        match Consumed::try_from(event)? {
            Consumed::ContractSigned(e) => {
                let contract = uuid("contract_id", &e.contract_id)?;
                let customer = uuid("customer_id", &e.customer_id)?;
                let total = bill(tx, contract, customer, &e.currency, &e.receivables, on).await?;
                step.contract(contract, customer)
                    .items(&e.receivables)?
                    .says(
                        "ContractSigned",
                        format!(
                            "contract {} signed: {} receivables, {} {}",
                            e.contract_no,
                            e.receivables.len(),
                            wire::format_amount(total, &e.currency),
                            e.currency
                        ),
                    );
            }
            Consumed::ChargesBilled(e) => {
                let contract = uuid("contract_id", &e.contract_id)?;
                let customer = uuid("customer_id", &e.customer_id)?;
                let total = bill(tx, contract, customer, &e.currency, &e.receivables, on).await?;
                step.contract(contract, customer)
                    .items(&e.receivables)?
                    .says(
                        "ChargesBilled",
                        format!(
                            "charges for {} billed on contract {}: {} items, {} {}",
                            e.period,
                            e.contract_no,
                            e.receivables.len(),
                            wire::format_amount(total, &e.currency),
                            e.currency
                        ),
                    );
            }
            Consumed::ReceivableOverdue(e) => {
                // The daily cycle repeats this for every overdue item every day: the story
                // keeps the day it became overdue.
                if !e.newly_overdue {
                    return Ok(None);
                }
                step.contract(
                    uuid("contract_id", &e.contract_id)?,
                    uuid("customer_id", &e.customer_id)?,
                )
                .receivable(&e.receivable_id)?
                .says(
                    "ReceivableOverdue",
                    format!(
                        "due {} and unpaid: overdue from {}, open {}",
                        e.due_date,
                        e.as_of,
                        amount(e.open_amount.as_ref())?
                    ),
                );
            }
            Consumed::AllocationApplied(e) => {
                if e.repeat {
                    return Ok(None);
                }
                let receivable = uuid("receivable_id", &e.receivable_id)?;
                let (paid, _) =
                    wire::parse_money(e.amount.as_ref()).map_err(HandleError::Permanent)?;
                let principal = principal_part(&e.parts, paid)?;
                let booked = date("booking_date", &e.booking_date)?;
                moved.push(store::NewMovement {
                    receivable_id: receivable,
                    on: booked,
                    principal: -principal,
                    kind: MovementKind::Paid,
                    event_id,
                });
                step.contract(
                    uuid("contract_id", &e.contract_id)?,
                    uuid("customer_id", &e.customer_id)?,
                )
                .receivable(&e.receivable_id)?
                .payment(&e.payment_id)?
                .says(
                    "AllocationApplied",
                    format!(
                        "{} applied (principal {}), booked {}; open after {}{}",
                        amount(e.amount.as_ref())?,
                        principal,
                        e.booking_date,
                        amount(e.open_amount_after.as_ref())?,
                        if e.paid_in_full { ", paid in full" } else { "" }
                    ),
                );
            }
            Consumed::AllocationRejected(e) => {
                if e.repeat {
                    return Ok(None);
                }
                step.customer(&e.customer_id)?
                    .receivable(&e.receivable_id)?
                    .payment(&e.payment_id)?
                    .says(
                        "AllocationRejected",
                        format!(
                            "{} refused by contracts: {}",
                            amount(e.amount.as_ref())?,
                            e.reason
                        ),
                    );
            }
            Consumed::WaiverApproved(e) => {
                let receivable = uuid("receivable_id", &e.receivable_id)?;
                let waived = e.waived.as_ref().ok_or_else(|| {
                    HandleError::Permanent("WaiverApproved without waived".into())
                })?;
                let principal = principal_part(std::slice::from_ref(waived), Decimal::ZERO)?;
                moved.push(store::NewMovement {
                    receivable_id: receivable,
                    on,
                    principal: -principal,
                    kind: MovementKind::Waived,
                    event_id,
                });
                step.contract(
                    uuid("contract_id", &e.contract_id)?,
                    uuid("customer_id", &e.customer_id)?,
                )
                .receivable(&e.receivable_id)?
                .says(
                    "WaiverApproved",
                    format!(
                        "{} of {} waived{}",
                        amount(waived.amount.as_ref())?,
                        component_name(waived.component),
                        if e.settled { ", item settled" } else { "" }
                    ),
                );
            }
            Consumed::WrittenOff(e) => {
                let receivable = uuid("receivable_id", &e.receivable_id)?;
                let principal = principal_part(&e.parts, Decimal::ZERO)?;
                let booked = if e.booking_date.is_empty() {
                    on
                } else {
                    date("booking_date", &e.booking_date)?
                };
                moved.push(store::NewMovement {
                    receivable_id: receivable,
                    on: booked,
                    principal: -principal,
                    kind: MovementKind::WrittenOff,
                    event_id,
                });
                let total: Decimal = parts_total(&e.parts)?;
                step.contract(
                    uuid("contract_id", &e.contract_id)?,
                    uuid("customer_id", &e.customer_id)?,
                )
                .receivable(&e.receivable_id)?
                .payment_if_any(&e.payment_id)?
                .says(
                    "WrittenOff",
                    format!(
                        "{total} written off (principal {principal}), booked {booked}{}",
                        if e.settled { ", item settled" } else { "" }
                    ),
                );
            }
            Consumed::CostBooked(e) => {
                step.contract(
                    uuid("contract_id", &e.contract_id)?,
                    uuid("customer_id", &e.customer_id)?,
                )
                .receivable(&e.receivable_id)?
                .says(
                    "CostBooked",
                    format!(
                        "{} cost {} booked, incurred {}",
                        cost_name(e.kind),
                        amount(e.amount.as_ref())?,
                        e.incurred_on
                    ),
                );
            }
            Consumed::AmendmentApproved(e) => {
                let contract = uuid("contract_id", &e.contract_id)?;
                let customer = uuid("customer_id", &e.customer_id)?;
                let effective = if e.business_date.is_empty() {
                    on
                } else {
                    date("business_date", &e.business_date)?
                };
                // It reads what the items' principal is now: the run's changes first.
                store::record_movements(tx, moved).await?;
                moved.clear();
                amend(tx, contract, customer, &e, effective, event_id).await?;
                let ids = e
                    .receivables
                    .iter()
                    .map(|r| uuid("receivables.receivable_id", &r.receivable_id))
                    .collect::<Result<Vec<_>, _>>()?;
                step.contract(contract, customer).with_receivables(ids).says(
                    "AmendmentApproved",
                    format!(
                        "amendment ({}) to contract {} approved: schedule version {}, {} created, {} removed",
                        e.kind,
                        e.contract_no,
                        e.version,
                        e.receivables.iter().filter(|r| r.created).count(),
                        e.receivables.iter().filter(|r| r.removed).count()
                    ),
                );
            }
            Consumed::PaymentReceived(e) => {
                step.payment(&e.payment_id)?.says(
                    "PaymentReceived",
                    format!(
                        "{} received ({}), booked {}{}",
                        amount(e.amount.as_ref())?,
                        channel_name(e.channel),
                        e.booking_date,
                        if e.line_no > 0 {
                            format!(", bank file line {}", e.line_no)
                        } else {
                            String::new()
                        }
                    ),
                );
            }
            Consumed::PaymentAllocated(e) => {
                step.contract(
                    uuid("contract_id", &e.contract_id)?,
                    uuid("customer_id", &e.customer_id)?,
                )
                .receivable(&e.receivable_id)?
                .payment(&e.payment_id)?
                .says(
                    "PaymentAllocated",
                    format!(
                        "cash application proposes {} for the item",
                        amount(e.amount.as_ref())?
                    ),
                );
            }
            Consumed::ActionExecuted(e) => {
                let ids = ids("receivable_ids", &e.receivable_ids)?;
                // R-O1: recovery by step. "stopped" is no step of the ladder.
                if e.step != "stopped" {
                    store::record_dunning_step(
                        tx,
                        &store::DunningStep {
                            event_id,
                            customer_id: uuid("customer_id", &e.customer_id)?,
                            case_id: optional_uuid("case_id", &e.case_id)?,
                            step: e.step.clone(),
                            channel: e.channel,
                            on_date: date("business_date", &e.business_date)?,
                            occurred_at: at,
                            receivable_ids: ids.clone(),
                        },
                    )
                    .await?;
                }
                let summary = if e.step == "stopped" {
                    format!("dunning stopped for the items on {}", e.business_date)
                } else {
                    format!(
                        "dunning step {} (no. {}) on {}, {} days overdue, owed {}{}",
                        e.step,
                        e.occurrence,
                        e.business_date,
                        e.days_overdue,
                        amount(e.amount.as_ref()).unwrap_or_default(),
                        if e.notice_id.is_empty() {
                            ""
                        } else {
                            ", notice issued"
                        }
                    )
                };
                step.customer(&e.customer_id)?
                    .with_receivables(ids)
                    .says("ActionExecuted", summary);
            }
            Consumed::EscalatedToLegal(e) => {
                let ids = e
                    .receivables
                    .iter()
                    .map(|r| uuid("receivables.receivable_id", &r.receivable_id))
                    .collect::<Result<Vec<_>, _>>()?;
                step.customer(&e.customer_id)?.with_receivables(ids).says(
                    "EscalatedToLegal",
                    format!(
                        "escalated to legal on {}: {} items, {}",
                        e.business_date,
                        e.receivables.len(),
                        amount(e.amount_claimed.as_ref())?
                    ),
                );
            }
            Consumed::DisputeOpened(e) => {
                step.customer(&e.customer_id)?
                    .with_receivables(ids("receivable_ids", &e.receivable_ids)?)
                    .says(
                        "DisputeOpened",
                        format!("dispute opened, to be answered by {}", e.deadline),
                    );
            }
            Consumed::DisputeResolved(e) => {
                step.customer(&e.customer_id)?
                    .with_receivables(ids("receivable_ids", &e.receivable_ids)?)
                    .says(
                        "DisputeResolved",
                        format!(
                            "dispute {} on {}",
                            if e.upheld { "upheld" } else { "rejected" },
                            e.resolved_at
                        ),
                    );
            }
            Consumed::CaseOpened(e) => {
                step.customer(&e.customer_id)?
                    .case(&e.case_id)?
                    .with_receivables(ids("receivable_ids", &e.receivable_ids)?)
                    .says(
                        "CaseOpened",
                        format!(
                            "legal case opened on {}, claim {}",
                            e.opened_on,
                            amount(e.amount_claimed.as_ref())?
                        ),
                    );
            }
            Consumed::ClaimUpdated(e) => {
                step.customer(&e.customer_id)?.case(&e.case_id)?.says(
                    "ClaimUpdated",
                    format!(
                        "claim now {}{}",
                        amount(e.amount_claimed.as_ref())?,
                        if e.changed_on.is_empty() {
                            String::new()
                        } else {
                            format!(" from {}", e.changed_on)
                        }
                    ),
                );
            }
            Consumed::CaseStatusChanged(e) => {
                step.customer(&e.customer_id)?.case(&e.case_id)?.says(
                    "CaseStatusChanged",
                    format!(
                        "case {} → {} on {}{}",
                        status_name(e.from_status),
                        status_name(e.to_status),
                        e.date,
                        if e.document_reference.is_empty() {
                            String::new()
                        } else {
                            format!(", document {}", e.document_reference)
                        }
                    ),
                );
            }
            Consumed::WithdrawalRequested(e) => {
                step.customer(&e.customer_id)?.case(&e.case_id)?.says(
                    "WithdrawalRequested",
                    format!(
                        "nothing left to claim: withdrawal requested{}",
                        match e.court_fee_refund.as_ref() {
                            Some(m) if !m.amount.is_empty() =>
                                format!(", court-fee refund {}", amount(Some(m))?),
                            _ => String::new(),
                        }
                    ),
                );
            }
            Consumed::CollectionCostIncurred(e) => {
                step.customer(&e.customer_id)?
                    .receivable(&e.receivable_id)?
                    .says(
                        "CollectionCostIncurred",
                        format!(
                            "{} cost {} incurred on {}",
                            cost_name(e.kind),
                            amount(e.amount.as_ref())?,
                            e.incurred_on
                        ),
                    );
            }
            Consumed::PromiseMade(e) => {
                let (amount, currency) =
                    wire::parse_money(e.amount.as_ref()).map_err(HandleError::Permanent)?;
                store::record_promise_made(
                    tx,
                    &store::PromiseRow {
                        promise_id: uuid("promise_id", &e.promise_id)?,
                        customer_id: uuid("customer_id", &e.customer_id)?,
                        currency,
                        amount,
                        promised_date: date("promised_date", &e.promised_date)?,
                        made_on: Some(date("made_on", &e.made_on)?),
                        kept: None,
                        judged_on: None,
                        paid: None,
                    },
                )
                .await?;
            }
            Consumed::PromiseJudged(e) => {
                let (amount, currency) =
                    wire::parse_money(e.amount.as_ref()).map_err(HandleError::Permanent)?;
                let paid = match e.paid.as_ref() {
                    Some(m) if !m.amount.is_empty() => Some(
                        wire::parse_money(Some(m))
                            .map_err(HandleError::Permanent)?
                            .0,
                    ),
                    _ => None,
                };
                store::record_promise_judged(
                    tx,
                    &store::PromiseRow {
                        promise_id: uuid("promise_id", &e.promise_id)?,
                        customer_id: uuid("customer_id", &e.customer_id)?,
                        currency,
                        amount,
                        promised_date: date("promised_date", &e.promised_date)?,
                        made_on: None,
                        kept: Some(e.kept),
                        judged_on: Some(date("judged_on", &e.judged_on)?),
                        paid,
                    },
                )
                .await?;
            }
            Consumed::DemandDelivered(e) => {
                let seq = i64::try_from(e.contact_log_seq).map_err(|_| {
                    HandleError::Permanent(format!(
                        "contact_log_seq {} is out of range",
                        e.contact_log_seq
                    ))
                })?;
                store::record_contact(
                    tx,
                    seq,
                    uuid("customer_id", &e.customer_id)?,
                    e.channel,
                    date("delivered_on", &e.delivered_on)?,
                )
                .await?;
            }
        }
        Ok(step.done)
    }
}

/// Records the billed items; returns their total.
async fn bill(
    tx: &mut PgConnection,
    contract_id: Uuid,
    customer_id: Uuid,
    currency: &str,
    items: &[events::ScheduledReceivable],
    billed_on: NaiveDate,
) -> Result<Decimal, HandleError> {
    let mut total = Decimal::ZERO;
    let mut rows = Vec::with_capacity(items.len());
    for (i, r) in items.iter().enumerate() {
        let (amount, _) = wire::parse_money(r.amount.as_ref())
            .map_err(|e| HandleError::Permanent(format!("receivables[{i}].{e}")))?;
        total += amount;
        rows.push(NewItem {
            receivable_id: uuid("receivable_id", &r.receivable_id)?,
            contract_id,
            customer_id,
            currency: currency.to_owned(),
            due: date("due_date", &r.due_date)?,
            billed_on,
            amount,
        });
    }
    // Issue 16: a schedule of 120 installments is one statement.
    store::insert_items(tx, &rows).await?;
    Ok(total)
}

/// An amendment: new items are billed on the day it took effect, a changed principal is a
/// movement of the difference, a removed item leaves with what it still owed.
async fn amend(
    tx: &mut PgConnection,
    contract_id: Uuid,
    customer_id: Uuid,
    e: &events::AmendmentApproved,
    on: NaiveDate,
    event_id: Uuid,
) -> Result<(), HandleError> {
    for (i, r) in e.receivables.iter().enumerate() {
        let receivable_id = uuid("receivable_id", &r.receivable_id)?;
        let (new_amount, _) = wire::parse_money(r.amount.as_ref())
            .map_err(|e| HandleError::Permanent(format!("receivables[{i}].{e}")))?;
        let known = store::principal_of(tx, receivable_id).await?;
        match known {
            None if r.removed => {}
            None => {
                store::insert_item(
                    tx,
                    &NewItem {
                        receivable_id,
                        contract_id,
                        customer_id,
                        currency: e.currency.clone(),
                        due: date("due_date", &r.due_date)?,
                        billed_on: on,
                        amount: new_amount,
                    },
                )
                .await?;
            }
            Some((_, open)) if r.removed => {
                store::record_movement(
                    tx,
                    receivable_id,
                    on,
                    -open,
                    MovementKind::Amended,
                    event_id,
                )
                .await?;
            }
            Some((scheduled, _)) => {
                store::record_movement(
                    tx,
                    receivable_id,
                    on,
                    new_amount - scheduled,
                    MovementKind::Amended,
                    event_id,
                )
                .await?;
            }
        }
    }
    Ok(())
}

/// The step an event adds to the trace, filled in by the event's arm.
struct Story {
    new: NewStep,
    done: Option<NewStep>,
}

impl Story {
    fn new(event_id: Uuid, occurred_at: DateTime<Utc>, producer: &str) -> Self {
        Self {
            new: NewStep {
                event_id,
                occurred_at,
                service: producer.to_owned(),
                event: String::new(),
                summary: String::new(),
                customer_id: None,
                contract_id: None,
                receivable_ids: Vec::new(),
                payment_id: None,
                case_id: None,
            },
            done: None,
        }
    }

    fn contract(&mut self, contract_id: Uuid, customer_id: Uuid) -> &mut Self {
        self.new.contract_id = Some(contract_id);
        self.new.customer_id = Some(customer_id);
        self
    }

    fn customer(&mut self, customer_id: &str) -> Result<&mut Self, HandleError> {
        self.new.customer_id = Some(uuid("customer_id", customer_id)?);
        Ok(self)
    }

    fn receivable(&mut self, id: &str) -> Result<&mut Self, HandleError> {
        self.new.receivable_ids.push(uuid("receivable_id", id)?);
        Ok(self)
    }

    fn items(&mut self, items: &[events::ScheduledReceivable]) -> Result<&mut Self, HandleError> {
        for r in items {
            self.receivable(&r.receivable_id)?;
        }
        Ok(self)
    }

    fn with_receivables(&mut self, ids: Vec<Uuid>) -> &mut Self {
        self.new.receivable_ids.extend(ids);
        self
    }

    fn payment(&mut self, id: &str) -> Result<&mut Self, HandleError> {
        self.new.payment_id = Some(uuid("payment_id", id)?);
        Ok(self)
    }

    fn payment_if_any(&mut self, id: &str) -> Result<&mut Self, HandleError> {
        if id.is_empty() {
            Ok(self)
        } else {
            self.payment(id)
        }
    }

    fn case(&mut self, id: &str) -> Result<&mut Self, HandleError> {
        self.new.case_id = Some(uuid("case_id", id)?);
        Ok(self)
    }

    fn says(&mut self, event: &str, summary: String) {
        let mut step = self.new.clone();
        step.event = event.to_owned();
        step.summary = summary;
        self.done = Some(step);
    }
}

fn occurred_at(event: &IncomingEvent) -> Result<DateTime<Utc>, HandleError> {
    event
        .envelope
        .occurred_at
        .as_ref()
        .and_then(|t| DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0)))
        .ok_or_else(|| HandleError::Permanent("the envelope has no valid occurred_at".into()))
}

fn date(field: &str, value: &str) -> Result<NaiveDate, HandleError> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|e| HandleError::Permanent(format!("{field} {value:?}: {e}")))
}

fn optional_uuid(field: &str, value: &str) -> Result<Option<Uuid>, HandleError> {
    if value.is_empty() {
        Ok(None)
    } else {
        uuid(field, value).map(Some)
    }
}

fn ids(field: &str, values: &[String]) -> Result<Vec<Uuid>, HandleError> {
    values.iter().map(|v| uuid(field, v)).collect()
}

/// "1000.00 CNY" from a wire amount.
fn amount(money: Option<&types::Money>) -> Result<String, HandleError> {
    let (value, currency) = wire::parse_money(money).map_err(HandleError::Permanent)?;
    Ok(format!(
        "{} {currency}",
        wire::format_amount(value, &currency)
    ))
}

/// The principal part of allocation parts; without parts (an older producer) `fallback`.
fn principal_part(
    parts: &[types::ComponentAmount],
    fallback: Decimal,
) -> Result<Decimal, HandleError> {
    if parts.is_empty() {
        return Ok(fallback);
    }
    let parsed = wire::parse_parts(parts).map_err(HandleError::Permanent)?;
    Ok(parsed
        .iter()
        .filter(|(c, _)| *c == Component::Principal)
        .map(|(_, a)| *a)
        .sum())
}

fn parts_total(parts: &[types::ComponentAmount]) -> Result<Decimal, HandleError> {
    Ok(wire::parse_parts(parts)
        .map_err(HandleError::Permanent)?
        .iter()
        .map(|(_, a)| *a)
        .sum())
}

fn component_name(value: i32) -> &'static str {
    match wire::component_from_wire(value) {
        Some(Component::Principal) => "principal",
        Some(Component::LateFee) => "late fee",
        Some(Component::Interest) => "interest",
        Some(Component::Costs) => "costs",
        None => "an unnamed component",
    }
}

/// A proto enum value for people: its name without the enum's prefix, in lower case words
/// (`CASE_STATUS_LITIGATION_FILED` → "litigation filed"); `unknown` for a value not in the
/// enum.
fn words(name: Option<&str>, prefix: &str, unknown: &str) -> String {
    name.map_or_else(
        || unknown.to_owned(),
        |n| {
            n.trim_start_matches(prefix)
                .to_lowercase()
                .replace('_', " ")
        },
    )
}

fn cost_name(value: i32) -> String {
    let kind = types::CostKind::try_from(value).ok();
    words(kind.as_ref().map(|k| k.as_str_name()), "COST_KIND_", "a")
}

fn channel_name(value: i32) -> String {
    let channel = types::PaymentChannel::try_from(value).ok();
    words(
        channel.as_ref().map(|c| c.as_str_name()),
        "PAYMENT_CHANNEL_",
        "unknown channel",
    )
}

fn status_name(value: i32) -> String {
    let status = types::CaseStatus::try_from(value).ok();
    words(
        status.as_ref().map(|s| s.as_str_name()),
        "CASE_STATUS_",
        "unknown",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_consumed_type_has_a_distinct_name() {
        let mut names: Vec<String> = ConsumedType::ALL.iter().map(|t| t.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ConsumedType::ALL.len());
        for t in ConsumedType::ALL {
            assert_eq!(ConsumedType::of(&t.name()), Some(t));
        }
    }

    #[test]
    fn the_principal_part_of_an_allocation() {
        let part = |c: types::Component, a: &str| types::ComponentAmount {
            component: c as i32,
            amount: Some(types::Money {
                amount: a.into(),
                currency: "CNY".into(),
            }),
        };
        let parts = [
            part(types::Component::LateFee, "30.00"),
            part(types::Component::Principal, "970.00"),
        ];
        assert_eq!(
            principal_part(&parts, Decimal::ONE).expect("parts"),
            Decimal::new(97000, 2)
        );
        assert_eq!(
            principal_part(&[], Decimal::ONE).expect("none"),
            Decimal::ONE
        );
        assert!(principal_part(&[part(types::Component::Unspecified, "1")], Decimal::ONE).is_err());
    }

    #[test]
    fn names_for_people() {
        assert_eq!(
            status_name(types::CaseStatus::LitigationFiled as i32),
            "litigation filed"
        );
        assert_eq!(
            channel_name(types::PaymentChannel::DeskCash as i32),
            "desk cash"
        );
    }
}
