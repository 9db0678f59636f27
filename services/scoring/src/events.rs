//! The events scoring consumes, one function each: they keep the feature state pts-v1 reads
//! (R-S1) and re-score the customer (R-S3: payment, missed due date, broken promise, dispute,
//! legal event). The consumer records each event id in the same transaction (a repeat of one
//! id is skipped); every write below is also keyed by the fact's own id, so a copy with a new
//! event id counts once too. Emitted: `GradeChanged` (see [`crate::rescore`]).

use std::collections::HashSet;

use chrono::{DateTime, FixedOffset, NaiveDate};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use kit::consumer::{HandleError, Handler, IncomingEvent, uuid_field as uuid};
use proto::events::v1 as events;

use crate::domain::Segment;
use crate::rescore::Scorer;
use crate::store::features::{self, NewReceivable, Overdue, Payment};

/// The events scoring acts on.
#[derive(Debug)]
pub(crate) enum Incoming {
    /// A contract with its receivables (tenure, exposure).
    ContractSigned(events::ContractSigned),
    /// Property-management bills (exposure; segment).
    ChargesBilled(events::ChargesBilled),
    /// A missed due date (days past due, share overdue).
    ReceivableOverdue(events::ReceivableOverdue),
    /// A payment (late payments, share paid on time, exposure).
    AllocationApplied(events::AllocationApplied),
    /// R-D5: a promise kept or broken.
    PromiseJudged(events::PromiseJudged),
    /// R-D6: a repayment plan broken.
    RepaymentPlanBroken(events::RepaymentPlanBroken),
    /// R-D8: a dispute opened.
    DisputeOpened(events::DisputeOpened),
    /// R-D8: a dispute resolved.
    DisputeResolved(events::DisputeResolved),
    /// R-L1: a legal case opened.
    CaseOpened(events::CaseOpened),
}

macro_rules! incoming {
    ($($variant:ident),*) => {
        impl Incoming {
            /// Whether scoring acts on this event type.
            pub(crate) fn wants(event_type: &str) -> bool {
                $(event_type == kit::events::type_name::<events::$variant>())||*
            }

            /// The event as one of scoring's, `None` for a type scoring does not act on; a
            /// payload that does not decode is permanent.
            pub(crate) fn parse(event: &IncomingEvent) -> Result<Option<Self>, HandleError> {
                let t = event.envelope.event_type.as_str();
                $(if t == kit::events::type_name::<events::$variant>() {
                    return Ok(Some(Self::$variant(event.decode()?)));
                })*
                Ok(None)
            }
        }
    };
}

incoming!(
    ContractSigned,
    ChargesBilled,
    ReceivableOverdue,
    AllocationApplied,
    PromiseJudged,
    RepaymentPlanBroken,
    DisputeOpened,
    DisputeResolved,
    CaseOpened
);

/// The consumer's handler.
pub(crate) struct Events {
    pub(crate) scorer: Scorer,
    /// The business time zone (tenure counts to today's business date).
    pub(crate) business_offset: FixedOffset,
    /// R-S3: the periodic review's period and schedule.
    pub(crate) review: crate::ReviewConfig,
}

impl Handler for Events {
    fn wants(&self, event_type: &str) -> bool {
        Incoming::wants(event_type)
            || kit::auth::owners::wants(event_type)
            || event_type == kit::events::type_name::<events::DailyCycleCompleted>()
    }

    async fn handle(
        &self,
        tx: &mut PgConnection,
        event: &IncomingEvent,
    ) -> Result<(), HandleError> {
        if let Some(customer_id) = self.learn(tx, event).await? {
            self.scorer
                .rescore(
                    tx,
                    customer_id,
                    self.today(),
                    &event.envelope.event_type,
                    false,
                )
                .await?;
        }
        Ok(())
    }

    fn together(&self, event_type: &str) -> bool {
        // Issue 16: a run of what changes customers' features (payments, items falling
        // overdue) rescores each customer once, after the run, on everything it learned.
        Incoming::wants(event_type)
    }

    async fn handle_run(
        &self,
        tx: &mut PgConnection,
        events: &[&IncomingEvent],
    ) -> Result<(), (usize, HandleError)> {
        let mut customers: Vec<Uuid> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        if let Some(paid) = payments_together(tx, events).await.map_err(|e| (0, e))? {
            customers = paid;
        } else if let Some(late) = overdue_together(tx, events).await.map_err(|e| (0, e))? {
            customers = late;
        } else {
            for (i, event) in events.iter().enumerate() {
                if let Some(customer_id) = self.learn(tx, event).await.map_err(|e| (i, e))?
                    && seen.insert(customer_id)
                {
                    customers.push(customer_id);
                }
            }
        }
        let Some(first) = events.first() else {
            return Ok(());
        };
        self.scorer
            .rescore_all(
                tx,
                &customers,
                self.today(),
                &first.envelope.event_type,
                false,
            )
            .await
            .map_err(|e| (0, e.into()))?;
        Ok(())
    }
}

/// A run of payments learned in three statements (issue 16): what `allocation_applied`
/// does for each in turn. The customers to rescore, in the order first paid; `None`, with
/// nothing written, when the run is not the usual one (an event that does not parse, an
/// allocation or receivable twice, an older producer's event without what stays open).
async fn payments_together(
    tx: &mut PgConnection,
    events: &[&IncomingEvent],
) -> Result<Option<Vec<Uuid>>, HandleError> {
    let applied = kit::events::type_name::<events::AllocationApplied>();
    let mut payments = Vec::with_capacity(events.len());
    let (mut allocations, mut receivables) = (HashSet::new(), HashSet::new());
    for event in events {
        if event.envelope.event_type != applied {
            return Ok(None);
        }
        let Ok(e) = event.decode::<events::AllocationApplied>() else {
            return Ok(None);
        };
        if e.repeat {
            // Contracts answering a re-driven proposal: the first answer was seen.
            continue;
        }
        let parsed = (|| {
            Some(Payment {
                allocation_id: Uuid::parse_str(&e.allocation_id).ok()?,
                customer_id: Uuid::parse_str(&e.customer_id).ok()?,
                receivable_id: Uuid::parse_str(&e.receivable_id).ok()?,
                amount: amount("amount", e.amount.as_ref())
                    .ok()?
                    .unwrap_or_default(),
                booking_date: NaiveDate::parse_from_str(&e.booking_date, "%Y-%m-%d").ok()?,
                open_after: Some(amount("open_amount_after", e.open_amount_after.as_ref()).ok()??),
                paid_in_full: e.paid_in_full,
            })
        })();
        let Some(payment) = parsed else {
            return Ok(None);
        };
        if !allocations.insert(payment.allocation_id) || !receivables.insert(payment.receivable_id)
        {
            return Ok(None);
        }
        payments.push(payment);
    }
    let fresh = features::record_payments(tx, &payments).await?;
    let mut customers = Vec::new();
    let mut seen = HashSet::new();
    for p in payments.iter().filter(|p| fresh.contains(&p.allocation_id)) {
        if seen.insert(p.customer_id) {
            customers.push(p.customer_id);
        }
    }
    Ok(Some(customers))
}

/// A run of the daily cycle's overdue reports learned in two statements (issue 16): what
/// `receivable_overdue` does for each in turn. The customers to rescore, in the order first
/// reported; `None`, with nothing written, when the run is not the usual one (another event
/// type, one that does not parse, a receivable twice, an older producer's report without
/// what is open).
async fn overdue_together(
    tx: &mut PgConnection,
    events: &[&IncomingEvent],
) -> Result<Option<Vec<Uuid>>, HandleError> {
    let overdue = kit::events::type_name::<events::ReceivableOverdue>();
    let mut run = Vec::with_capacity(events.len());
    let mut receivables = HashSet::new();
    for event in events {
        if event.envelope.event_type != overdue {
            return Ok(None);
        }
        let Ok(e) = event.decode::<events::ReceivableOverdue>() else {
            return Ok(None);
        };
        let parsed = (|| {
            Some(Overdue {
                receivable_id: Uuid::parse_str(&e.receivable_id).ok()?,
                customer_id: Uuid::parse_str(&e.customer_id).ok()?,
                days_overdue: i32::try_from(e.days_overdue).unwrap_or(i32::MAX),
                as_of: NaiveDate::parse_from_str(&e.as_of, "%Y-%m-%d").ok()?,
                due_date: optional_date(&e.due_date),
                open_amount: Some(amount("open_amount", e.open_amount.as_ref()).ok()??),
            })
        })();
        let Some(o) = parsed else {
            return Ok(None);
        };
        if !receivables.insert(o.receivable_id) {
            return Ok(None);
        }
        run.push(o);
    }
    features::record_overdues(tx, &run).await?;
    let mut customers = Vec::new();
    let mut seen = HashSet::new();
    for o in &run {
        if seen.insert(o.customer_id) {
            customers.push(o.customer_id);
        }
    }
    Ok(Some(customers))
}

impl Events {
    /// Takes in what `event` says about a customer; the customer to rescore, if any.
    async fn learn(
        &self,
        tx: &mut PgConnection,
        event: &IncomingEvent,
    ) -> Result<Option<Uuid>, HandleError> {
        // R-O3: who owns each customer, for scoped reads by collectors.
        kit::auth::owners::apply_event(tx, event).await?;
        if event.envelope.event_type == kit::events::type_name::<events::DailyCycleCompleted>() {
            self.daily_cycle(tx, &event.decode()?).await?;
            return Ok(None);
        }
        let Some(incoming) = Incoming::parse(event)? else {
            return Ok(None);
        };
        let occurred_on = event
            .envelope
            .occurred_at
            .as_ref()
            .and_then(|t| DateTime::from_timestamp(t.seconds, 0))
            .map_or_else(
                || self.today(),
                |t| t.with_timezone(&self.business_offset).date_naive(),
            );
        Ok(match incoming {
            Incoming::ContractSigned(e) => contract_signed(tx, &e, occurred_on).await?,
            Incoming::ChargesBilled(e) => charges_billed(tx, &e, occurred_on).await?,
            Incoming::ReceivableOverdue(e) => receivable_overdue(tx, &e).await?,
            Incoming::AllocationApplied(e) => allocation_applied(tx, &e).await?,
            Incoming::PromiseJudged(e) => promise_judged(tx, &e).await?,
            Incoming::RepaymentPlanBroken(e) => plan_broken(tx, &e).await?,
            Incoming::DisputeOpened(e) => dispute_opened(tx, &e).await?,
            Incoming::DisputeResolved(e) => dispute_resolved(tx, &e).await?,
            Incoming::CaseOpened(e) => case_opened(tx, &e).await?,
        })
    }
}

impl Events {
    /// R-S3: the first daily cycle of a review period starts the period's full review (once:
    /// the period's row is unique); the review worker runs it outside this transaction.
    async fn daily_cycle(
        &self,
        tx: &mut PgConnection,
        cycle: &events::DailyCycleCompleted,
    ) -> Result<(), HandleError> {
        if self.review.schedule != crate::ReviewSchedule::DailyCycle {
            return Ok(());
        }
        let as_of = NaiveDate::parse_from_str(&cycle.as_of, "%Y-%m-%d")
            .map_err(|e| HandleError::Permanent(format!("as_of {:?}: {e}", cycle.as_of)))?;
        let period = crate::domain::state::review_period(as_of, self.review.months);
        if crate::store::reviews::start(tx, &period, as_of).await? {
            tracing::info!(period, %as_of, "the daily cycle started the period's full review");
        }
        Ok(())
    }

    fn today(&self) -> NaiveDate {
        kit::config::business_date(chrono::Utc::now(), self.business_offset)
    }
}

/// The customer to re-score, `None` when nothing changed.
type Rescore = Result<Option<Uuid>, HandleError>;

fn date(field: &str, value: &str) -> Result<NaiveDate, HandleError> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|e| HandleError::Permanent(format!("{field} {value:?}: {e}")))
}

fn optional_date(value: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d").ok()
}

fn amount(
    field: &str,
    money: Option<&proto::types::v1::Money>,
) -> Result<Option<Decimal>, HandleError> {
    money
        .filter(|m| !m.amount.is_empty())
        .map(|m| {
            m.amount
                .parse::<Decimal>()
                .map_err(|e| HandleError::Permanent(format!("{field} {:?}: {e}", m.amount)))
        })
        .transpose()
}

fn receivables(items: &[events::ScheduledReceivable]) -> Result<Vec<NewReceivable>, HandleError> {
    items
        .iter()
        .map(|r| {
            Ok(NewReceivable {
                receivable_id: uuid("receivable_id", &r.receivable_id)?,
                due_date: optional_date(&r.due_date),
                amount: amount("amount", r.amount.as_ref())?.unwrap_or_default(),
            })
        })
        .collect()
}

/// Tenure starts; the contract's receivables are exposure.
async fn contract_signed(
    tx: &mut PgConnection,
    e: &events::ContractSigned,
    on: NaiveDate,
) -> Rescore {
    let customer_id = uuid("customer_id", &e.customer_id)?;
    features::record_receivables(
        tx,
        customer_id,
        on,
        Segment::Residential,
        &receivables(&e.receivables)?,
    )
    .await?;
    Ok(Some(customer_id))
}

/// Property-management fees: exposure; a customer known by bills only is in that segment.
async fn charges_billed(
    tx: &mut PgConnection,
    e: &events::ChargesBilled,
    on: NaiveDate,
) -> Rescore {
    let customer_id = uuid("customer_id", &e.customer_id)?;
    features::record_receivables(
        tx,
        customer_id,
        on,
        Segment::PropertyManagement,
        &receivables(&e.receivables)?,
    )
    .await?;
    Ok(Some(customer_id))
}

/// A missed due date: days past due and the share overdue.
async fn receivable_overdue(tx: &mut PgConnection, e: &events::ReceivableOverdue) -> Rescore {
    let customer_id = uuid("customer_id", &e.customer_id)?;
    features::record_overdue(
        tx,
        &Overdue {
            receivable_id: uuid("receivable_id", &e.receivable_id)?,
            customer_id,
            days_overdue: i32::try_from(e.days_overdue).unwrap_or(i32::MAX),
            as_of: date("as_of", &e.as_of)?,
            due_date: optional_date(&e.due_date),
            open_amount: amount("open_amount", e.open_amount.as_ref())?,
        },
    )
    .await?;
    Ok(Some(customer_id))
}

/// A payment: on time or late, and what stays open.
async fn allocation_applied(tx: &mut PgConnection, e: &events::AllocationApplied) -> Rescore {
    if e.repeat {
        // Contracts answering a re-driven proposal: the first answer was seen.
        return Ok(None);
    }
    let customer_id = uuid("customer_id", &e.customer_id)?;
    let fresh = features::record_payment(
        tx,
        &Payment {
            allocation_id: uuid("allocation_id", &e.allocation_id)?,
            customer_id,
            receivable_id: uuid("receivable_id", &e.receivable_id)?,
            amount: amount("amount", e.amount.as_ref())?.unwrap_or_default(),
            booking_date: date("booking_date", &e.booking_date)?,
            open_after: amount("open_amount_after", e.open_amount_after.as_ref())?,
            paid_in_full: e.paid_in_full,
        },
    )
    .await?;
    Ok(fresh.then_some(customer_id))
}

/// R-D5: a broken promise counts against the customer; a kept one changes nothing.
async fn promise_judged(tx: &mut PgConnection, e: &events::PromiseJudged) -> Rescore {
    if e.kept {
        return Ok(None);
    }
    let customer_id = uuid("customer_id", &e.customer_id)?;
    features::record_broken_promise(tx, uuid("promise_id", &e.promise_id)?, customer_id).await?;
    Ok(Some(customer_id))
}

/// R-D6: a broken repayment plan is a broken promise to pay in installments (the plan id
/// cannot collide with a promise id: both are UUIDs).
async fn plan_broken(tx: &mut PgConnection, e: &events::RepaymentPlanBroken) -> Rescore {
    let customer_id = uuid("customer_id", &e.customer_id)?;
    features::record_broken_promise(tx, uuid("plan_id", &e.plan_id)?, customer_id).await?;
    Ok(Some(customer_id))
}

/// R-D8: a dispute is open until resolved.
async fn dispute_opened(tx: &mut PgConnection, e: &events::DisputeOpened) -> Rescore {
    let customer_id = uuid("customer_id", &e.customer_id)?;
    features::record_dispute(tx, uuid("dispute_id", &e.dispute_id)?, customer_id, true).await?;
    Ok(Some(customer_id))
}

/// R-D8: resolved, upheld or not, the dispute no longer counts.
async fn dispute_resolved(tx: &mut PgConnection, e: &events::DisputeResolved) -> Rescore {
    let customer_id = uuid("customer_id", &e.customer_id)?;
    features::record_dispute(tx, uuid("dispute_id", &e.dispute_id)?, customer_id, false).await?;
    Ok(Some(customer_id))
}

/// R-L1: legal action taken against the customer.
async fn case_opened(tx: &mut PgConnection, e: &events::CaseOpened) -> Rescore {
    let customer_id = uuid("customer_id", &e.customer_id)?;
    features::record_legal_case(
        tx,
        uuid("case_id", &e.case_id)?,
        customer_id,
        optional_date(&e.opened_on),
    )
    .await?;
    Ok(Some(customer_id))
}
