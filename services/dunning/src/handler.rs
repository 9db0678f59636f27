//! Opens delinquency cases from overdue events, runs the ladder, stops on payment (R-P10),
//! and hands cases to legal.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use kit::consumer::{HandleError, Handler, IncomingEvent, uuid_field as uuid};
use kit::outbox::Outbox;
use kit::wire;
use proto::events::v1 as events;

use crate::domain::kpi::{Kind, Observation};
use crate::store;

pub(crate) struct Events {
    pub(crate) outbox: Outbox,
}

fn date(field: &str, value: &str) -> Result<NaiveDate, HandleError> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|e| HandleError::Permanent(format!("{field} {value:?}: {e}")))
}

impl Handler for Events {
    fn wants(&self, event_type: &str) -> bool {
        event_type == kit::events::type_name::<events::ReceivableOverdue>()
            || event_type == kit::events::type_name::<events::AllocationApplied>()
            || event_type == kit::events::type_name::<events::WrittenOff>()
            || event_type == kit::events::type_name::<events::GradeChanged>()
            || event_type == kit::events::type_name::<events::AmendmentApproved>()
            || event_type == kit::events::type_name::<events::DailyCycleCompleted>()
            || event_type == kit::events::type_name::<events::ChargesBilled>()
            || event_type == kit::events::type_name::<events::RepaymentPlanBooked>()
            || event_type == kit::events::type_name::<events::WaiverApproved>()
            || kit::auth::owners::wants(event_type)
    }

    fn together(&self, event_type: &str) -> bool {
        // Issue 16: a run of payments stops dunning in a few statements, a run of signed
        // contracts is taken in in four, a run of grade changes in two, a run of the daily
        // cycle's overdue reports in six.
        event_type == kit::events::type_name::<events::AllocationApplied>()
            || event_type == kit::events::type_name::<events::ReceivableOverdue>()
            || event_type == kit::events::type_name::<events::ContractSigned>()
            || event_type == kit::events::type_name::<events::GradeChanged>()
    }

    async fn handle_run(
        &self,
        tx: &mut PgConnection,
        events: &[&IncomingEvent],
    ) -> Result<(), (usize, HandleError)> {
        let together = match events.first().map(|e| e.envelope.event_type.as_str()) {
            Some(t) if t == kit::events::type_name::<events::ContractSigned>() => {
                crate::contract_runs::apply(tx, events).await
            }
            Some(t) if t == kit::events::type_name::<events::GradeChanged>() => {
                grades_changed(tx, events).await
            }
            Some(t) if t == kit::events::type_name::<events::ReceivableOverdue>() => {
                crate::overdue_runs::apply(tx, events).await
            }
            _ => crate::payment_runs::apply(&self.outbox, tx, events).await,
        };
        if together.map_err(|e| (0, e))? {
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
        let event_type = event.envelope.event_type.as_str();
        if event_type == kit::events::type_name::<events::ContractSigned>() {
            // Name and unit for notices.
            let signed: events::ContractSigned = event.decode()?;
            let customer_id = uuid("customer_id", &signed.customer_id)?;
            store::contacts::seen_contract(tx, customer_id, &signed.customer_name, &signed.unit)
                .await?;
            scheduled(tx, customer_id, &signed.contract_no, &signed.receivables).await?;
        } else if event_type == kit::events::type_name::<events::ChargesBilled>() {
            // R-D1: billed charges are reminded of before they fall due.
            let billed: events::ChargesBilled = event.decode()?;
            let customer_id = uuid("customer_id", &billed.customer_id)?;
            store::contacts::seen_contract(tx, customer_id, &billed.customer_name, &billed.unit)
                .await?;
            scheduled(tx, customer_id, &billed.contract_no, &billed.receivables).await?;
            use proto::contracts::v1::{UnitOccupancy, UnitSegment};
            let segment = match UnitSegment::try_from(billed.segment) {
                Ok(UnitSegment::Residential) => Some(crate::policy::Segment::Residential),
                Ok(UnitSegment::Commercial) => Some(crate::policy::Segment::Commercial),
                Ok(UnitSegment::Villa) => Some(crate::policy::Segment::Villa),
                Ok(UnitSegment::Parking) => Some(crate::policy::Segment::Parking),
                Ok(UnitSegment::Unspecified) | Err(_) => None,
            };
            let occupancy = match UnitOccupancy::try_from(billed.occupancy) {
                Ok(UnitOccupancy::Vacant) => Some(crate::policy::Occupancy::Vacant),
                Ok(UnitOccupancy::Occupied) => Some(crate::policy::Occupancy::Occupied),
                Ok(UnitOccupancy::Unspecified) | Err(_) => None,
            };
            store::contacts::seen_unit(
                tx,
                customer_id,
                segment.map(crate::policy::Segment::as_str),
                occupancy.map(crate::policy::Occupancy::as_str),
            )
            .await?;
            return Ok(());
        } else if event_type == kit::events::type_name::<events::DailyCycleCompleted>() {
            let done: events::DailyCycleCompleted = event.decode()?;
            let as_of = date("as_of", &done.as_of)?;
            store::ladder::cycle_completed(
                tx,
                as_of,
                i32::try_from(done.overdue).unwrap_or(i32::MAX),
            )
            .await?;
            return Ok(());
        }
        // R-O3: who owns each customer, for scoped reads by collectors.
        if kit::auth::owners::apply_event(tx, event).await? {
            return Ok(());
        }
        if event_type == kit::events::type_name::<events::ReceivableOverdue>() {
            self.overdue(tx, event.decode()?).await
        } else if event_type == kit::events::type_name::<events::AllocationApplied>() {
            let applied: events::AllocationApplied = event.decode()?;
            if !applied.repeat {
                let customer_id = uuid("customer_id", &applied.customer_id)?;
                kpi_changed(tx, &applied, Kind::Paid).await?; // R-O7, R-D11
                // The work queue's model reads recent payments (issue 14 item 1).
                let (paid, currency) =
                    wire::parse_money(applied.amount.as_ref()).map_err(HandleError::Permanent)?;
                store::queue::payment_seen(
                    tx,
                    &applied.allocation_id,
                    customer_id,
                    date("booking_date", &applied.booking_date)?,
                    paid,
                    &currency,
                )
                .await?;
                // R-D6: payments on a plan's items count towards its installments.
                let receivable_id = uuid("receivable_id", &applied.receivable_id)?;
                if let Some(plan_id) = store::plans::active_for_item(tx, receivable_id).await? {
                    store::plans::payment(
                        tx,
                        plan_id,
                        &applied.allocation_id,
                        date("booking_date", &applied.booking_date)?,
                        paid,
                    )
                    .await?;
                }
                // R-D5: payments count towards the debtor's open promise.
                if let Some(promise) = store::promises::open_for(tx, customer_id).await? {
                    let (amount, _) = wire::parse_money(applied.amount.as_ref())
                        .map_err(HandleError::Permanent)?;
                    store::promises::payment(
                        tx,
                        promise.id,
                        &applied.allocation_id,
                        date("booking_date", &applied.booking_date)?,
                        amount,
                    )
                    .await?;
                }
            }
            self.paid(tx, applied, "paid in full").await
        } else if event_type == kit::events::type_name::<events::WrittenOff>() {
            // R-P12: a small difference written off settles the item like a payment.
            let w: events::WrittenOff = event.decode()?;
            let owed = w.owed_after.clone().unwrap_or_default();
            let written: Decimal = w
                .parts
                .iter()
                .filter_map(|p| wire::parse_money(p.amount.as_ref()).ok())
                .map(|(a, _)| a)
                .sum();
            let currency = owed
                .total
                .as_ref()
                .map(|m| m.currency.clone())
                .unwrap_or_default();
            let settled = events::AllocationApplied {
                allocation_id: w.write_off_id,
                payment_id: w.payment_id,
                receivable_id: w.receivable_id,
                contract_id: w.contract_id,
                customer_id: w.customer_id,
                amount: Some(wire::money(written, &currency)),
                open_amount_after: owed.total.clone(),
                paid_in_full: w.settled,
                booking_date: w.booking_date,
                owed_after: Some(owed),
                ..Default::default()
            };
            kpi_changed(tx, &settled, Kind::WrittenOff).await?; // R-O7
            self.paid(
                tx,
                settled,
                "settled by writing off a small difference (R-P12)",
            )
            .await
        } else if event_type == kit::events::type_name::<events::AmendmentApproved>() {
            self.amended(tx, event.decode()?).await
        } else if event_type == kit::events::type_name::<events::WaiverApproved>() {
            // R-D6: a waiver (or an upheld dispute's credit) lowers what is owed like a
            // payment does, without being one: no promise or plan counts it.
            let w: events::WaiverApproved = event.decode()?;
            let owed = w.owed_after.clone().unwrap_or_default();
            let today = store::ladder::latest_day(tx)
                .await?
                .unwrap_or_else(|| chrono::Utc::now().date_naive());
            let waived = w.waived.as_ref().and_then(|p| p.amount.clone());
            let settled = events::AllocationApplied {
                allocation_id: w.waiver_id,
                receivable_id: w.receivable_id,
                contract_id: w.contract_id,
                customer_id: w.customer_id,
                amount: waived,
                open_amount_after: owed.total.clone(),
                paid_in_full: w.settled,
                booking_date: today.to_string(),
                owed_after: Some(owed),
                ..Default::default()
            };
            kpi_changed(tx, &settled, Kind::Waived).await?; // R-O7: reduced, not recovered
            self.paid(tx, settled, "settled by a waiver or credit (R-D6)")
                .await
        } else if event_type == kit::events::type_name::<events::RepaymentPlanBooked>() {
            // R-D6: contracts booked the plan, or refused it: then its items are dunned again.
            let booked: events::RepaymentPlanBooked = event.decode()?;
            if booked.booked {
                return Ok(());
            }
            let plan_id = uuid("plan_id", &booked.plan_id)?;
            if let Some(plan) = store::plans::pending_or_active(tx, plan_id).await? {
                let today = store::ladder::latest_day(tx)
                    .await?
                    .unwrap_or_else(|| chrono::Utc::now().date_naive());
                let reason = format!("contracts refused to book it: {}", booked.refusal);
                store::plans::end(tx, plan.id, "refused", today, &reason).await?;
                tracing::warn!(%plan_id, refusal = %booked.refusal, "repayment plan refused by contracts (R-D6)");
            }
            Ok(())
        } else {
            let changed: events::GradeChanged = event.decode()?;
            let customer_id = uuid("customer_id", &changed.customer_id)?;
            store::cases::set_grade(tx, customer_id, &changed.grade).await?;
            Ok(())
        }
    }
}

/// A run of grade changes: each customer's last grade, in two statements (what
/// `set_grade` does for each in turn); false, with nothing written, when one does not decode.
async fn grades_changed(
    tx: &mut PgConnection,
    events: &[&IncomingEvent],
) -> Result<bool, HandleError> {
    let mut changed = Vec::with_capacity(events.len());
    for event in events {
        let Ok(c) = event.decode::<events::GradeChanged>() else {
            return Ok(false);
        };
        let Ok(customer_id) = Uuid::parse_str(&c.customer_id) else {
            return Ok(false);
        };
        changed.push((customer_id, c.grade));
    }
    let mut last: std::collections::HashMap<Uuid, usize> = std::collections::HashMap::new();
    for (i, (customer_id, _)) in changed.iter().enumerate() {
        last.insert(*customer_id, i);
    }
    let grades: Vec<(Uuid, &str)> = changed
        .iter()
        .enumerate()
        .filter(|(i, (c, _))| last.get(c) == Some(i))
        .map(|(_, (c, g))| (*c, g.as_str()))
        .collect();
    store::cases::set_grades(tx, &grades).await?;
    Ok(true)
}

impl Events {
    async fn overdue(
        &self,
        tx: &mut PgConnection,
        overdue: events::ReceivableOverdue,
    ) -> Result<(), HandleError> {
        let o = crate::overdue_runs::read(overdue)?;
        // The day's ladder runs once every overdue event of the day is in (R-D3).
        store::ladder::overdue_seen(tx, o.as_of, o.receivable_id).await?;
        let balance = Observation {
            on: Some(o.as_of),
            due: o.due_date,
            owed: o.open.saturating_add(o.late_fee),
            overdue: true,
            kind: Kind::Overdue,
        };
        kpi_learned(tx, o.receivable_id, o.customer_id, &o.currency, balance).await?; // R-O7, R-D11
        if store::cases::in_legal(tx, o.receivable_id).await? {
            return Ok(()); // R-L5: ordinary dunning stops for receivables in legal.
        }
        let grade = store::cases::grade_of(tx, o.customer_id).await?;
        let case_id = store::cases::open_case(tx, o.customer_id, &grade, o.as_of).await?;
        store::runs::upsert_items(tx, &[(case_id, &o)]).await?;
        Ok(())
    }

    /// R-P10: a confirmed payment stops dunning for what it covers at once.
    async fn paid(
        &self,
        tx: &mut PgConnection,
        applied: events::AllocationApplied,
        how: &str,
    ) -> Result<(), HandleError> {
        if applied.repeat {
            // Contracts answering a re-driven proposal: the first answer was seen.
            return Ok(());
        }
        let receivable_id = uuid("receivable_id", &applied.receivable_id)?;
        let customer_id = uuid("customer_id", &applied.customer_id)?;
        let (open_after, _) = wire::parse_money(applied.open_amount_after.as_ref())
            .map_err(HandleError::Permanent)?;
        let business_date = date("booking_date", &applied.booking_date)?;
        // R-D1: what is left to remind of before due.
        store::ladder::upcoming_changed(tx, receivable_id, None, open_after, applied.paid_in_full)
            .await?;
        let Some((case_id, days)) =
            store::cases::case_of_open_item(tx, customer_id, receivable_id).await?
        else {
            return Ok(());
        };
        // R-D12: what is owed after it, the late fee apart (as the daily cycle reports it).
        let (open_after, late_fee_after) = match applied.owed_after.as_ref() {
            Some(owed) => {
                let owed = wire::parse_owed(owed).map_err(HandleError::Permanent)?;
                (owed.total() - owed.late_fee, Some(owed.late_fee))
            }
            None => (open_after, None),
        };
        store::cases::item_paid(
            tx,
            case_id,
            receivable_id,
            open_after,
            late_fee_after,
            applied.paid_in_full,
        )
        .await?;
        if !applied.paid_in_full {
            // R-D12: a partial payment never moves the ladder back.
            return Ok(());
        }
        let (amount, currency) =
            wire::parse_money(applied.amount.as_ref()).map_err(HandleError::Permanent)?;
        let detail = stop_detail(how, amount, &currency, business_date);
        let days = u32::try_from(days).unwrap_or_default();
        log_action(
            tx,
            &self.outbox,
            case_id,
            customer_id,
            "stopped",
            &[receivable_id],
            days,
            business_date,
            &detail,
        )
        .await?;
        close_if_paid(tx, &self.outbox, case_id, business_date).await
    }
}

/// Closes the case when nothing of it is open any more; R-D6: a plan whose items are all
/// paid is then complete.
pub(crate) async fn close_if_paid(
    tx: &mut PgConnection,
    outbox: &Outbox,
    case_id: Uuid,
    business_date: NaiveDate,
) -> Result<(), HandleError> {
    if store::cases::close_if_settled(tx, case_id, "paid", business_date).await? {
        closed_paid(tx, outbox, case_id, business_date).await?;
    }
    Ok(())
}

/// A case just closed as paid on `business_date`: R-D6, its active plans are complete.
pub(crate) async fn closed_paid(
    tx: &mut PgConnection,
    outbox: &Outbox,
    case_id: Uuid,
    business_date: NaiveDate,
) -> Result<(), HandleError> {
    tracing::info!(%case_id, "case closed: everything paid");
    for plan in store::plans::active_of_case(tx, case_id).await? {
        let paid: Decimal = store::plans::payments(tx, plan.id)
            .await?
            .iter()
            .map(|(_, a)| *a)
            .sum();
        crate::plans::completed(tx, outbox, &plan, paid, business_date)
            .await
            .map_err(HandleError::Transient)?;
    }
    Ok(())
}

/// The log's words for a stop on payment (R-P10).
pub(crate) fn stop_detail(how: &str, amount: Decimal, currency: &str, on: NaiveDate) -> String {
    format!(
        "{how} ({} {currency} on {on}); dunning stopped for this item",
        wire::format_amount(amount, currency)
    )
}

impl Events {
    /// R-C8: an approved amendment changed the customer's items. One deferred after the
    /// business date is not overdue any more (dunning pauses for it until it falls overdue
    /// again); one with nothing open or removed from the schedule is closed; a discounted
    /// one is dunned for its new open amount. A case left with no open item ends. A repeat
    /// finds nothing open to change.
    async fn amended(
        &self,
        tx: &mut PgConnection,
        approved: events::AmendmentApproved,
    ) -> Result<(), HandleError> {
        let customer_id = uuid("customer_id", &approved.customer_id)?;
        let business_date = match approved.business_date.as_str() {
            "" => None,
            text => Some(date("business_date", text)?),
        };
        // R-D1: the items to remind of before due follow the new schedule.
        for r in &approved.receivables {
            let receivable_id = uuid("receivable_id", &r.receivable_id)?;
            let due = date("due_date", &r.due_date)?;
            let owed_total = match r.owed.as_ref() {
                Some(owed) => wire::parse_owed(owed)
                    .map_err(HandleError::Permanent)?
                    .total(),
                None => {
                    wire::parse_money(r.open_amount.as_ref())
                        .map_err(HandleError::Permanent)?
                        .0
                }
            };
            if let Some(on) = business_date {
                // R-O7: what the amendment left owed (a new item enters as scheduled).
                let owed = if r.removed { Decimal::ZERO } else { owed_total };
                if r.created {
                    let (_, currency) =
                        wire::parse_money(r.amount.as_ref()).map_err(HandleError::Permanent)?;
                    let balance = Observation {
                        on: Some(on),
                        due,
                        owed,
                        overdue: false,
                        kind: Kind::Scheduled,
                    };
                    kpi_learned(tx, receivable_id, customer_id, &currency, balance).await?;
                } else {
                    store::kpis::changed(tx, receivable_id, Kind::Amended, on, owed, Some(due))
                        .await?;
                }
            }
            if r.created {
                let (_, currency) =
                    wire::parse_money(r.amount.as_ref()).map_err(HandleError::Permanent)?;
                store::ladder::upcoming_scheduled(
                    tx,
                    &store::ladder::Upcoming {
                        receivable_id,
                        customer_id,
                        contract_no: approved.contract_no.clone(),
                        due_date: due,
                        currency,
                        open_amount: owed_total,
                        charge_type: charge_name(r.charge_type),
                    },
                )
                .await?;
            } else {
                store::ladder::upcoming_changed(
                    tx,
                    receivable_id,
                    Some(due),
                    owed_total,
                    r.removed || owed_total.is_zero(),
                )
                .await?;
            }
        }
        let Some((case_id, opened_on)) = store::cases::active_case(tx, customer_id).await? else {
            return Ok(());
        };
        let on = business_date.unwrap_or(opened_on);
        let mut closed = Vec::new();
        let mut notes = Vec::new();
        for r in &approved.receivables {
            let receivable_id = uuid("receivable_id", &r.receivable_id)?;
            let due = date("due_date", &r.due_date)?;
            // R-D12: the item stays dunned while late fee, interest or costs are owed on it;
            // as for overdue items, `open` is what is owed apart from the late fee.
            let (open, late_fee) = match r.owed.as_ref() {
                Some(owed) => {
                    let owed = wire::parse_owed(owed).map_err(HandleError::Permanent)?;
                    (owed.total() - owed.late_fee, Some(owed.late_fee))
                }
                None => (
                    wire::parse_money(r.open_amount.as_ref())
                        .map_err(HandleError::Permanent)?
                        .0,
                    None,
                ),
            };
            let owed_total = open + late_fee.unwrap_or_default();
            let status = if r.removed || owed_total.is_zero() {
                "amended"
            } else if business_date.is_none_or(|b| due > b) {
                "deferred"
            } else {
                "open"
            };
            let changed = store::cases::item_amended(
                tx,
                case_id,
                receivable_id,
                due,
                if r.removed { Decimal::ZERO } else { open },
                status,
                if r.removed {
                    Some(Decimal::ZERO)
                } else {
                    late_fee
                },
            )
            .await?;
            if !changed || status == "open" {
                continue;
            }
            closed.push(receivable_id);
            notes.push(match status {
                "deferred" => format!("installment {} deferred to {due}", r.installment_no),
                _ => format!("installment {} closed by the amendment", r.installment_no),
            });
        }
        if closed.is_empty() {
            return Ok(());
        }
        let detail = format!(
            "amendment {} approved by {} (R-C8, schedule version {}): {}; dunning paused for these items",
            approved.amendment_id,
            approved.approved_by,
            approved.version,
            notes.join(", ")
        );
        log_action(
            tx,
            &self.outbox,
            case_id,
            customer_id,
            "stopped",
            &closed,
            0,
            on,
            &detail,
        )
        .await?;
        if store::cases::close_if_settled(tx, case_id, "amended", on).await? {
            tracing::info!(%case_id, "case closed: an amendment left nothing overdue");
        }
        Ok(())
    }
}

/// Appends to the action log (R-D4) and publishes the action.
#[allow(clippy::too_many_arguments)]
async fn log_action(
    tx: &mut PgConnection,
    outbox: &Outbox,
    case_id: Uuid,
    customer_id: Uuid,
    step: &str,
    receivable_ids: &[Uuid],
    days: u32,
    business_date: NaiveDate,
    detail: &str,
) -> Result<Uuid, HandleError> {
    let action_id = Uuid::now_v7();
    store::cases::record(
        tx,
        action_id,
        case_id,
        step,
        receivable_ids,
        i32::try_from(days).unwrap_or(i32::MAX),
        business_date,
        detail,
    )
    .await?;
    let event = events::ActionExecuted {
        action_id: action_id.to_string(),
        case_id: case_id.to_string(),
        customer_id: customer_id.to_string(),
        step: step.to_owned(),
        receivable_ids: receivable_ids.iter().map(Uuid::to_string).collect(),
        days_overdue: days,
        business_date: business_date.to_string(),
        detail: detail.to_owned(),
        ..Default::default()
    };
    outbox
        .enqueue(tx, kit::events::DUNNING, &customer_id.to_string(), &event)
        .await?;
    tracing::info!(%case_id, step, days, "dunning action executed");
    Ok(action_id)
}

/// The proto name of a charge type as stored.
pub(crate) fn charge_name(value: i32) -> String {
    proto::types::v1::ChargeType::try_from(value)
        .unwrap_or_default()
        .as_str_name()
        .to_owned()
}

/// R-D1: scheduled or billed receivables, to remind of before they fall due.
async fn scheduled(
    tx: &mut PgConnection,
    customer_id: Uuid,
    contract_no: &str,
    receivables: &[events::ScheduledReceivable],
) -> Result<(), HandleError> {
    for r in receivables {
        let (amount, currency) =
            wire::parse_money(r.amount.as_ref()).map_err(HandleError::Permanent)?;
        let (receivable_id, due) = (
            uuid("receivable_id", &r.receivable_id)?,
            date("due_date", &r.due_date)?,
        );
        let balance = Observation {
            on: None,
            due,
            owed: amount,
            overdue: false,
            kind: Kind::Scheduled,
        };
        kpi_learned(tx, receivable_id, customer_id, &currency, balance).await?; // R-O7
        store::ladder::upcoming_scheduled(
            tx,
            &store::ladder::Upcoming {
                receivable_id,
                customer_id,
                contract_no: contract_no.to_owned(),
                due_date: due,
                currency,
                open_amount: amount,
                charge_type: charge_name(r.charge_type),
            },
        )
        .await?;
    }
    Ok(())
}

/// R-O7, R-D11: a balance dunning learned, for CEI and the recovery rate.
async fn kpi_learned(
    tx: &mut PgConnection,
    receivable_id: Uuid,
    customer_id: Uuid,
    currency: &str,
    balance: Observation,
) -> Result<(), HandleError> {
    let learned = store::kpis::Learned {
        receivable_id,
        customer_id,
        currency,
        balance,
    };
    Ok(store::kpis::learned(tx, &learned).await?)
}

/// R-O7, R-D11: what a payment or write-off left owed on its booking day.
async fn kpi_changed(
    tx: &mut PgConnection,
    applied: &events::AllocationApplied,
    kind: Kind,
) -> Result<(), HandleError> {
    let receivable_id = uuid("receivable_id", &applied.receivable_id)?;
    let on = date("booking_date", &applied.booking_date)?;
    let (owed, _) =
        wire::parse_money(applied.open_amount_after.as_ref()).map_err(HandleError::Permanent)?;
    Ok(store::kpis::changed(tx, receivable_id, kind, on, owed, None).await?)
}
