//! Amendments (R-C8; issue 12 item 5): the gRPC methods, their events, the versioned read of
//! a contract and the late fee of receivables whose terms an amendment changed (for the
//! daily cycle). The rules are in [`crate::domain::amendment`], the SQL in
//! [`crate::store::amendments`]. Every decision is one transaction: the status, the new
//! schedule version, the receivables and the event commit together or not at all.

use std::collections::HashMap;

use chrono::NaiveDate;
use prost::Message as _;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use kit::auth::Caller;
use kit::outbox::Outbox;
use kit::{ApiError, wire};
use proto::contracts::v1 as api;
use proto::contracts::v1::amendment_terms::Kind as WireKind;
use proto::events::v1 as events;

use crate::domain::amendment::{
    self as domain, AmendError, AmendmentKind, Change, Cut, Decision, DecisionError, DeferTo,
    FeePeriod, Item, NewItem, Status,
};
use crate::domain::schedule::{self, Billed, ChargeType, ItemKind, RequestedItem};
use crate::store::amendments::{self as store, AmendmentRow, ContractHead, FeeChangeRow, ItemRow};
use crate::terms::Terms;

/// The longest reason kept.
const MAX_REASON: usize = 500;
/// Most items a new schedule may have.
const MAX_ITEMS: usize = 600;
/// The longest deferral by days (ten years).
const MAX_DEFER_DAYS: u32 = 3650;

/// What the decisions need besides the request.
pub(crate) struct Context<'a> {
    pub(crate) outbox: &'a Outbox,
    pub(crate) terms: &'a Terms,
    pub(crate) clock: kit::config::BusinessClock,
    pub(crate) utc_offset: chrono::FixedOffset,
}

impl Context<'_> {
    /// The business date amendments are checked against: with the system clock, today (or
    /// the last daily cycle's date, if later); with a simulated clock, the last cycle's date.
    async fn today(
        &self,
        conn: &mut PgConnection,
    ) -> Result<(NaiveDate, Option<NaiveDate>), ApiError> {
        let last = store::last_cycle(conn).await?;
        let today = match self.clock {
            kit::config::BusinessClock::System => {
                let now = kit::config::business_date(chrono::Utc::now(), self.utc_offset);
                last.map_or(now, |l| l.max(now))
            }
            kit::config::BusinessClock::Simulated => last.unwrap_or(NaiveDate::MIN),
        };
        Ok((today, last))
    }
}

fn status_to_wire(status: &str) -> api::AmendmentStatus {
    match Status::parse(status) {
        Some(Status::Proposed) => api::AmendmentStatus::Proposed,
        Some(Status::Approved) => api::AmendmentStatus::Approved,
        Some(Status::Rejected) => api::AmendmentStatus::Rejected,
        Some(Status::Withdrawn) => api::AmendmentStatus::Withdrawn,
        None => api::AmendmentStatus::Unspecified,
    }
}

fn kind_to_wire(kind: &str) -> api::AmendmentKind {
    match kind {
        "deferral" => api::AmendmentKind::Deferral,
        "new_schedule" => api::AmendmentKind::NewSchedule,
        "discount" => api::AmendmentKind::Discount,
        "fee_change" => api::AmendmentKind::FeeChange,
        _ => api::AmendmentKind::Unspecified,
    }
}

impl AmendmentRow {
    pub(crate) fn to_api(&self) -> api::Amendment {
        api::Amendment {
            amendment_id: self.id.to_string(),
            contract_id: self.contract_id.to_string(),
            contract_no: self.contract_no.clone(),
            customer_id: self.customer_id.to_string(),
            kind: kind_to_wire(&self.kind) as i32,
            status: status_to_wire(&self.status) as i32,
            terms: api::AmendmentTerms::decode(self.terms.as_slice()).ok(),
            reason: self.reason.clone(),
            proposed_by: self.proposed_by.clone(),
            proposed_at: self.proposed_at.to_rfc3339(),
            decided_by: self.decided_by.clone().unwrap_or_default(),
            decided_at: self.decided_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            decision_reason: self.decision_reason.clone().unwrap_or_default(),
            base_version: u32::try_from(self.base_version).unwrap_or_default(),
            version: self
                .version
                .and_then(|v| u32::try_from(v).ok())
                .unwrap_or_default(),
        }
    }
}

impl ItemRow {
    fn to_domain(&self) -> Result<Item, ApiError> {
        let bad = |what: &str| {
            ApiError::Unexpected(anyhow::anyhow!(
                "receivable {} has an unknown {what}",
                self.id
            ))
        };
        Ok(Item {
            installment_no: u32::try_from(self.installment_no).map_err(|_| bad("number"))?,
            kind: ItemKind::parse(&self.kind).ok_or_else(|| bad("kind"))?,
            charge_type: ChargeType::parse(&self.charge_type).ok_or_else(|| bad("charge type"))?,
            due: self.due_date,
            scheduled: self.scheduled_due_date,
            provisional: self.due_date_provisional,
            amount: self.amount,
            open: self.open_amount,
            late_fee: self.late_fee,
            overdue: self.overdue_since.is_some(),
        })
    }

    /// The receivable on the wire, as this (possibly older) version shows it (principal and
    /// late fee).
    fn to_api(&self, contract_id: Uuid, currency: &str) -> api::Receivable {
        let days_overdue = if self.open_amount.is_zero() {
            0
        } else {
            u32::try_from(self.days_overdue).unwrap_or_default()
        };
        let status = match crate::domain::status(
            self.amount,
            self.open_amount,
            self.overdue_since.is_some(),
        ) {
            crate::domain::Status::Scheduled => api::ReceivableStatus::Scheduled,
            crate::domain::Status::PartiallyPaid => api::ReceivableStatus::PartiallyPaid,
            crate::domain::Status::Paid => api::ReceivableStatus::Paid,
            crate::domain::Status::Overdue => api::ReceivableStatus::Overdue,
        };
        api::Receivable {
            receivable_id: self.id.to_string(),
            contract_id: contract_id.to_string(),
            installment_no: u32::try_from(self.installment_no).unwrap_or_default(),
            due_date: self.due_date.to_string(),
            amount: Some(wire::money(self.amount, currency)),
            open_amount: Some(wire::money(self.open_amount, currency)),
            status: status as i32,
            days_overdue,
            scheduled_due_date: self.scheduled_due_date.to_string(),
            due_date_provisional: self.due_date_provisional,
            late_fee: Some(wire::money(self.late_fee, currency)),
            aging_bucket: money::aging::AgingBucket::for_days(days_overdue)
                .label()
                .to_owned(),
            kind: ItemKind::parse(&self.kind).map_or(
                proto::types::v1::ScheduleItemKind::Unspecified,
                crate::wire::kind_to_wire,
            ) as i32,
            charge_type: ChargeType::parse(&self.charge_type).map_or(
                proto::types::v1::ChargeType::Unspecified,
                crate::wire::charge_to_wire,
            ) as i32,
            share: self
                .share
                .map(|s| s.normalize().to_string())
                .unwrap_or_default(),
            // An older version keeps principal and late fee as they stood; interest, costs
            // and discounts are read from the current schedule.
            ..Default::default()
        }
    }
}

fn amend_error(e: AmendError) -> ApiError {
    ApiError::invalid(e.field, e.reason)
}

/// The currency's smallest unit.
fn unit_of(currency: &str) -> Result<Decimal, ApiError> {
    money::Currency::from_code(currency)
        .map(|c| Decimal::new(1, c.minor_units()))
        .map_err(|e| ApiError::invalid("currency", e.to_string()))
}

fn installment_nos(field: &str, nos: &[u32]) -> Result<Vec<u32>, ApiError> {
    if nos.is_empty() {
        return Err(ApiError::invalid(
            field,
            "name at least one installment number (1, 2, …) of the contract",
        ));
    }
    if nos.len() > MAX_ITEMS {
        return Err(ApiError::invalid(
            field,
            format!("at most {MAX_ITEMS} items"),
        ));
    }
    Ok(nos.to_vec())
}

/// Parses the wire terms into the domain's, planning new due dates (R-C6) and checking a
/// new schedule like CreateContract's (R-C1) and a policy like the contract's (R-C4).
fn parse_terms(
    wire_terms: Option<&api::AmendmentTerms>,
    currency: &str,
    terms: &Terms,
) -> Result<AmendmentKind, ApiError> {
    let Some(kind) = wire_terms.and_then(|t| t.kind.as_ref()) else {
        return Err(ApiError::invalid(
            "terms",
            "give one of deferral, new_schedule, discount or fee_change",
        ));
    };
    Ok(match kind {
        WireKind::Deferral(d) => {
            let items = installment_nos("terms.deferral.installment_nos", &d.installment_nos)?;
            let to = match (d.to_date.trim(), d.by_days) {
                ("", 0) => {
                    return Err(ApiError::invalid(
                        "terms.deferral.to_date",
                        "give the new due date (to_date) or the number of days (by_days)",
                    ));
                }
                (date, 0) => DeferTo::Date(wire::date("terms.deferral.to_date", date)?),
                ("", days) if days <= MAX_DEFER_DAYS => DeferTo::Days(days),
                ("", _) => {
                    return Err(ApiError::invalid(
                        "terms.deferral.by_days",
                        format!(
                            "at most {MAX_DEFER_DAYS} days; for longer, propose a new schedule"
                        ),
                    ));
                }
                _ => {
                    return Err(ApiError::invalid(
                        "terms.deferral.by_days",
                        "give either to_date or by_days, not both",
                    ));
                }
            };
            AmendmentKind::Deferral { items, to }
        }
        WireKind::Discount(d) => {
            let items = installment_nos("terms.discount.installment_nos", &d.installment_nos)?;
            let cut = match (d.amount.trim(), d.percent.trim()) {
                ("", "") => {
                    return Err(ApiError::invalid(
                        "terms.discount.amount",
                        "give the amount off each item (amount) or a percentage of its open principal (percent)",
                    ));
                }
                (amount, "") => Cut::Amount(wire::positive_amount(
                    "terms.discount.amount",
                    amount,
                    currency,
                )?),
                ("", percent) => {
                    let p: Decimal = percent.parse().map_err(|_| {
                        ApiError::invalid(
                            "terms.discount.percent",
                            format!("{percent:?} is not a percentage like 10 or 12.5"),
                        )
                    })?;
                    if p <= Decimal::ZERO || p > Decimal::ONE_HUNDRED {
                        return Err(ApiError::invalid(
                            "terms.discount.percent",
                            format!("{p} is not a percentage above 0 and at most 100"),
                        ));
                    }
                    Cut::Percent(p)
                }
                _ => {
                    return Err(ApiError::invalid(
                        "terms.discount.percent",
                        "give either amount or percent, not both",
                    ));
                }
            };
            AmendmentKind::Discount { items, cut }
        }
        WireKind::FeeChange(f) => {
            let effective_from = wire::date("terms.fee_change.effective_from", &f.effective_from)?;
            let policy = match f.late_fee_policy.trim() {
                "" => None,
                json => {
                    terms.parse_policy(json).map_err(|e| match e {
                        ApiError::Invalid { reason, .. } => {
                            ApiError::invalid("terms.fee_change.late_fee_policy", reason)
                        }
                        other => other,
                    })?;
                    Some(json.to_owned())
                }
            };
            AmendmentKind::FeeChange {
                policy,
                effective_from,
            }
        }
        WireKind::NewSchedule(s) => AmendmentKind::NewSchedule {
            items: parse_new_schedule(&s.installments, currency, terms)?,
        },
    })
}

/// A new schedule's items, checked like CreateContract's (R-C1) and planned (R-C6).
fn parse_new_schedule(
    installments: &[api::Installment],
    currency: &str,
    terms: &Terms,
) -> Result<Vec<NewItem>, ApiError> {
    const FIELD: &str = "terms.new_schedule.installments";
    if installments.is_empty() {
        return Err(ApiError::invalid(FIELD, "give at least one item"));
    }
    if installments.len() > MAX_ITEMS {
        return Err(ApiError::invalid(
            FIELD,
            format!("at most {MAX_ITEMS} items"),
        ));
    }
    let mut requested = Vec::with_capacity(installments.len());
    for (i, it) in installments.iter().enumerate() {
        let field = |name: &str| format!("{FIELD}[{i}].{name}");
        if !it.share.trim().is_empty() {
            return Err(ApiError::invalid(
                field("share"),
                "a new schedule gives amounts; shares are of a contract's price at signing",
            ));
        }
        requested.push(RequestedItem {
            kind: crate::wire::kind_from_wire(it.kind)
                .ok_or_else(|| ApiError::invalid(field("kind"), "unknown schedule item kind"))?,
            charge_type: crate::wire::charge_from_wire(it.charge_type)
                .ok_or_else(|| ApiError::invalid(field("charge_type"), "unknown charge type"))?,
            billed: Billed::Amount(wire::positive_amount(
                &field("amount"),
                &it.amount,
                currency,
            )?),
            due: wire::date(&field("due_date"), &it.due_date)?,
        });
    }
    let planned = schedule::plan(&requested, None, unit_of(currency)?).map_err(|e| {
        let field = match e.item {
            Some(i) => format!("{FIELD}[{i}].{}", e.field),
            None => FIELD.to_owned(),
        };
        ApiError::invalid(field, e.reason)
    })?;
    planned
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let due = terms.plan(&format!("{FIELD}[{i}].due_date"), p.due)?;
            Ok(NewItem {
                kind: p.kind,
                charge_type: p.charge_type,
                amount: p.amount,
                scheduled: p.due,
                due: due.due,
                provisional: due.provisional,
            })
        })
        .collect()
}

/// Applies the terms to the contract's items (a dry run at proposal, the change at
/// approval).
fn outcome(
    kind: &AmendmentKind,
    rows: &[ItemRow],
    head: &ContractHead,
    terms: &Terms,
    today: NaiveDate,
) -> Result<domain::Outcome, ApiError> {
    let items = rows
        .iter()
        .map(ItemRow::to_domain)
        .collect::<Result<Vec<_>, _>>()?;
    let cx = domain::Context {
        today,
        unit: unit_of(head.currency.trim())?,
    };
    // R-C6: a deferred date inside a long public holiday moves to the next working day.
    let plan = |field: &str, date: NaiveDate| {
        terms
            .plan(field, date)
            .map(|p| (p.due, p.provisional))
            .map_err(|e| AmendError {
                field: field.to_owned(),
                reason: match e {
                    ApiError::Invalid { reason, .. } => reason,
                    other => other.to_string(),
                },
            })
    };
    domain::apply(kind, &items, &cx, &plan).map_err(amend_error)
}

fn decision_error(e: DecisionError) -> ApiError {
    match e {
        DecisionError::NotProposed(_) => ApiError::FailedPrecondition(e.to_string()),
        DecisionError::OwnProposal | DecisionError::NotTheProposer { .. } => {
            ApiError::PermissionDenied(e.to_string())
        }
    }
}

async fn publish<E: prost::Message + prost::Name>(
    conn: &mut PgConnection,
    outbox: &Outbox,
    customer_id: Uuid,
    event: &E,
) -> Result<(), ApiError> {
    outbox
        .enqueue(
            conn,
            kit::events::CONTRACTS,
            &customer_id.to_string(),
            event,
        )
        .await?;
    Ok(())
}

/// ProposeAmendment: checked against the contract as it stands now (a dry run), recorded
/// as proposed, published; nothing changes until a supervisor approves it.
pub(crate) async fn propose(
    conn: &mut PgConnection,
    cx: &Context<'_>,
    caller: &Caller,
    request: &api::ProposeAmendmentRequest,
) -> Result<api::Amendment, ApiError> {
    let key = wire::required("idempotency_key", &request.idempotency_key, 200)?;
    let contract_id = wire::uuid("contract_id", &request.contract_id)?;
    let reason = wire::required("reason", &request.reason, MAX_REASON)?;
    let head = store::contract(conn, contract_id, false)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no contract with id {contract_id}")))?;
    crate::owners::require_contract(conn, caller, head.customer_id, contract_id).await?;
    let id = Uuid::now_v7();
    if let Some(first) = crate::api::claim_key(conn, "propose_amendment", &key, request, id).await?
    {
        caller.touch("amendment", first);
        return Ok(store::get(conn, first, false)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no amendment with id {first}")))?
            .to_api());
    }
    let kind = parse_terms(request.terms.as_ref(), head.currency.trim(), cx.terms)?;
    let (today, _) = cx.today(conn).await?;
    let rows = store::items_for_update(conn, contract_id).await?;
    outcome(&kind, &rows, &head, cx.terms, today)?;
    let terms = request.terms.clone().unwrap_or_default().encode_to_vec();
    store::insert(
        conn,
        &store::NewAmendment {
            id,
            contract_id,
            customer_id: head.customer_id,
            kind: kind.name(),
            terms: &terms,
            reason: &reason,
            proposed_by: caller.subject(),
            base_version: head.schedule_version,
        },
    )
    .await?;
    caller.touch("amendment", id);
    let event = events::AmendmentProposed {
        amendment_id: id.to_string(),
        contract_id: contract_id.to_string(),
        contract_no: head.contract_no.clone(),
        customer_id: head.customer_id.to_string(),
        kind: kind.name().to_owned(),
        proposed_by: caller.subject().to_owned(),
        reason,
        base_version: u32::try_from(head.schedule_version).unwrap_or_default(),
    };
    publish(conn, cx.outbox, head.customer_id, &event).await?;
    store::get(conn, id, false)
        .await?
        .map(|r| r.to_api())
        .ok_or_else(|| ApiError::NotFound(format!("no amendment with id {id}")))
}

/// The amendment locked for a decision, in the caller's scope.
async fn for_decision(
    conn: &mut PgConnection,
    caller: &Caller,
    amendment_id: &str,
) -> Result<AmendmentRow, ApiError> {
    let id = wire::uuid("amendment_id", amendment_id)?;
    let row = store::get(conn, id, true)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no amendment with id {id}")))?;
    crate::owners::require_contract(conn, caller, row.customer_id, row.contract_id).await?;
    caller.touch("amendment", id);
    Ok(row)
}

fn status_of(row: &AmendmentRow) -> Result<Status, ApiError> {
    Status::parse(&row.status).ok_or_else(|| {
        ApiError::Unexpected(anyhow::anyhow!(
            "amendment {} has an unknown status {:?}",
            row.id,
            row.status
        ))
    })
}

/// ApproveAmendment (R-C8): by a supervisor (the role table) who is not the proposer; the
/// change, the next schedule version (the previous one kept) and `AmendmentApproved` commit
/// together. Returns the amendment and the contract's customer and version written.
pub(crate) async fn approve(
    conn: &mut PgConnection,
    cx: &Context<'_>,
    caller: &Caller,
    request: &api::ApproveAmendmentRequest,
) -> Result<(api::Amendment, Uuid), ApiError> {
    let row = for_decision(conn, caller, &request.amendment_id).await?;
    domain::decide(
        status_of(&row)?,
        Decision::Approve,
        &row.proposed_by,
        caller.subject(),
    )
    .map_err(decision_error)?;
    let head = store::contract(conn, row.contract_id, true)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no contract with id {}", row.contract_id)))?;
    if head.schedule_version != row.base_version {
        return Err(ApiError::FailedPrecondition(format!(
            "the contract's schedule is at version {} now, but this amendment was proposed against version {}; reject it and propose it again against the current schedule",
            head.schedule_version, row.base_version
        )));
    }
    let wire_terms = api::AmendmentTerms::decode(row.terms.as_slice())
        .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("stored terms of {}: {e}", row.id)))?;
    let kind =
        parse_terms(Some(&wire_terms), head.currency.trim(), cx.terms).map_err(still_valid)?;
    let (today, last_cycle) = cx.today(conn).await?;
    let rows = store::items_for_update(conn, row.contract_id).await?;
    let out = outcome(&kind, &rows, &head, cx.terms, today).map_err(still_valid)?;
    let version = head.schedule_version + 1;
    // The version replaced is kept as it stands now (R-C8).
    store::snapshot(
        conn,
        row.contract_id,
        head.schedule_version,
        head.late_fee_policy.as_deref(),
    )
    .await?;
    let by_no: HashMap<u32, &ItemRow> = rows
        .iter()
        .filter_map(|r| Some((u32::try_from(r.installment_no).ok()?, r)))
        .collect();
    let currency = head.currency.trim();
    let mut amended = Vec::new();
    for (item, change) in &out.items {
        let (id, created) = match change {
            None => continue,
            Some(Change::Updated) => {
                let Some(r) = by_no.get(&item.installment_no) else {
                    continue;
                };
                store::update_item(conn, r.id, item).await?;
                (r.id, false)
            }
            Some(Change::Created) => {
                let id = Uuid::now_v7();
                store::insert_item(conn, id, row.contract_id, head.customer_id, item).await?;
                (id, true)
            }
        };
        amended.push(amended_receivable(id, item, currency, created, false));
    }
    for no in &out.removed {
        let Some(r) = by_no.get(no) else { continue };
        if !store::remove_item(conn, r.id).await? {
            return Err(ApiError::FailedPrecondition(format!(
                "installment {no} was paid on or charged a late fee meanwhile and cannot leave the schedule; reject this amendment and propose a new schedule that keeps it"
            )));
        }
        let mut gone = r.to_domain()?;
        gone.open = Decimal::ZERO;
        amended.push(amended_receivable(r.id, &gone, currency, false, true));
    }
    // R-D12: what is owed on each by component travels with it (fees, interest, costs stay).
    let ids: Vec<Uuid> = amended
        .iter()
        .filter_map(|r| Uuid::parse_str(&r.receivable_id).ok())
        .collect();
    let owed = crate::store::owed::owed_by_ids(conn, &ids).await?;
    for r in &mut amended {
        let now = Uuid::parse_str(&r.receivable_id)
            .ok()
            .and_then(|id| owed.get(&id))
            .copied()
            .unwrap_or_default();
        r.owed = Some(wire::owed(&now, currency));
    }
    // Late fees accrued before the change stay (R-C8); the cycle adds what accrues after.
    if let Some(through) = last_cycle {
        for no in &out.carry {
            if let Some(r) = by_no.get(no) {
                store::carry_fee(conn, r.id, r.late_fee, through, row.id).await?;
            }
        }
    }
    let (policy, effective_from) = match &kind {
        AmendmentKind::FeeChange {
            policy,
            effective_from,
        } => {
            let recorded = store::record_fee_change(
                conn,
                &FeeChangeRow {
                    contract_id: row.contract_id,
                    effective_from: *effective_from,
                    previous_policy: head.late_fee_policy.clone(),
                    policy: policy.clone(),
                    amendment_id: row.id,
                },
            )
            .await?;
            if !recorded {
                return Err(ApiError::FailedPrecondition(format!(
                    "the contract's late-fee terms change on {effective_from} already; reject this amendment and propose another date"
                )));
            }
            (Some(policy.as_deref()), effective_from.to_string())
        }
        _ => (None, String::new()),
    };
    store::set_version(conn, row.contract_id, version, policy).await?;
    store::decide(
        conn,
        row.id,
        Status::Approved.as_str(),
        caller.subject(),
        "",
        Some(version),
    )
    .await?;
    let event = events::AmendmentApproved {
        amendment_id: row.id.to_string(),
        contract_id: row.contract_id.to_string(),
        contract_no: head.contract_no.clone(),
        customer_id: head.customer_id.to_string(),
        customer_name: head.customer_name.clone(),
        currency: currency.to_owned(),
        kind: kind.name().to_owned(),
        version: u32::try_from(version).unwrap_or_default(),
        receivables: amended,
        proposed_by: row.proposed_by.clone(),
        approved_by: caller.subject().to_owned(),
        business_date: if today == NaiveDate::MIN {
            String::new()
        } else {
            today.to_string()
        },
        late_fee_policy: policy.flatten().unwrap_or_default().to_owned(),
        effective_from,
    };
    publish(conn, cx.outbox, head.customer_id, &event).await?;
    let approved = store::get(conn, row.id, false)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no amendment with id {}", row.id)))?;
    Ok((approved.to_api(), row.contract_id))
}

/// At approval, terms that were valid when proposed may no longer be (an item was paid
/// meanwhile, a date has passed): that is the state's fault, not the request's.
fn still_valid(e: ApiError) -> ApiError {
    match e {
        ApiError::Invalid { field, reason } => ApiError::FailedPrecondition(format!(
            "the amendment no longer fits the contract ({field}: {reason}); reject it and propose again"
        )),
        other => other,
    }
}

fn amended_receivable(
    id: Uuid,
    item: &Item,
    currency: &str,
    created: bool,
    removed: bool,
) -> events::AmendedReceivable {
    events::AmendedReceivable {
        receivable_id: id.to_string(),
        installment_no: item.installment_no,
        due_date: item.due.to_string(),
        amount: Some(wire::money(item.amount, currency)),
        open_amount: Some(wire::money(item.open, currency)),
        kind: crate::wire::kind_to_wire(item.kind) as i32,
        charge_type: crate::wire::charge_to_wire(item.charge_type) as i32,
        created,
        removed,
        owed: None,
    }
}

/// RejectAmendment (R-C8: not by the proposer) and WithdrawAmendment (only the proposer).
pub(crate) async fn reject_or_withdraw(
    conn: &mut PgConnection,
    outbox: &Outbox,
    caller: &Caller,
    amendment_id: &str,
    decision: Decision,
    reason: &str,
) -> Result<api::Amendment, ApiError> {
    let reason = match decision {
        Decision::Reject => wire::required("reason", reason, MAX_REASON)?,
        _ => reason.trim().chars().take(MAX_REASON).collect(),
    };
    let row = for_decision(conn, caller, amendment_id).await?;
    let status = domain::decide(
        status_of(&row)?,
        decision,
        &row.proposed_by,
        caller.subject(),
    )
    .map_err(decision_error)?;
    store::decide(
        conn,
        row.id,
        status.as_str(),
        caller.subject(),
        &reason,
        None,
    )
    .await?;
    let event = events::AmendmentRejected {
        amendment_id: row.id.to_string(),
        contract_id: row.contract_id.to_string(),
        customer_id: row.customer_id.to_string(),
        kind: row.kind.clone(),
        status: status.as_str().to_owned(),
        decided_by: caller.subject().to_owned(),
        reason,
    };
    publish(conn, outbox, row.customer_id, &event).await?;
    store::get(conn, row.id, false)
        .await?
        .map(|r| r.to_api())
        .ok_or_else(|| ApiError::NotFound(format!("no amendment with id {}", row.id)))
}

/// GetAmendment, in the caller's scope.
pub(crate) async fn get(
    conn: &mut PgConnection,
    caller: &Caller,
    request: &api::GetAmendmentRequest,
) -> Result<api::Amendment, ApiError> {
    let id = wire::uuid("amendment_id", &request.amendment_id)?;
    let row = store::get(conn, id, false)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no amendment with id {id}")))?;
    crate::owners::require_contract(conn, caller, row.customer_id, row.contract_id).await?;
    caller.touch("amendment", id);
    Ok(row.to_api())
}

/// ListAmendments: one contract's, or every one the caller's scope shows; newest first.
pub(crate) async fn list(
    conn: &mut PgConnection,
    caller: &Caller,
    request: &api::ListAmendmentsRequest,
) -> Result<api::ListAmendmentsResponse, ApiError> {
    let contract_id = match request.contract_id.trim() {
        "" => None,
        id => Some(wire::uuid("contract_id", id)?),
    };
    if let Some(id) = contract_id {
        let customer_id = crate::store::customer_of_contract(conn, id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no contract with id {id}")))?;
        crate::owners::require_contract(conn, caller, customer_id, id).await?;
    }
    let status = match api::AmendmentStatus::try_from(request.status) {
        Ok(api::AmendmentStatus::Unspecified) => None,
        Ok(api::AmendmentStatus::Proposed) => Some(Status::Proposed),
        Ok(api::AmendmentStatus::Approved) => Some(Status::Approved),
        Ok(api::AmendmentStatus::Rejected) => Some(Status::Rejected),
        Ok(api::AmendmentStatus::Withdrawn) => Some(Status::Withdrawn),
        Err(_) => return Err(ApiError::invalid("status", "unknown amendment status")),
    };
    let (mode, value) = kit::auth::owners::params(&caller.scope);
    let paging = kit::paging::Paging::<Uuid>::parse(
        &format!(
            "contracts.ListAmendments {} {} {mode} {value}",
            request.contract_id.trim(),
            request.status
        ),
        request.page_size,
        &request.page_token,
    )?;
    let rows = store::page(
        conn,
        contract_id,
        status.map(Status::as_str),
        (mode, &value),
        paging.after().copied(),
        paging.fetch_limit(),
    )
    .await?;
    let (rows, next_page_token) = paging.finish(rows, |r| r.id);
    Ok(api::ListAmendmentsResponse {
        amendments: rows.iter().map(AmendmentRow::to_api).collect(),
        next_page_token,
    })
}

/// Fills in the contract's schedule version, late-fee terms and their changes; for an older
/// `version` (not 0) the items and terms as they stood then (R-C8: old schedules stay
/// readable).
pub(crate) async fn show_version(
    conn: &mut PgConnection,
    contract: &mut api::Contract,
    contract_id: Uuid,
    version: u32,
) -> Result<(), ApiError> {
    let head = store::contract(conn, contract_id, false)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no contract with id {contract_id}")))?;
    let current = u32::try_from(head.schedule_version).unwrap_or(1);
    contract.current_schedule_version = current;
    contract.schedule_version = current;
    contract.late_fee_policy = head.late_fee_policy.clone().unwrap_or_default();
    contract.late_fee_policy_changes = store::fee_changes(conn, &[contract_id])
        .await?
        .into_iter()
        .map(|c| api::LateFeePolicyChange {
            effective_from: c.effective_from.to_string(),
            late_fee_policy: c.policy.unwrap_or_default(),
            amendment_id: c.amendment_id.to_string(),
        })
        .collect();
    if version == 0 || version == current {
        return Ok(());
    }
    let known = || format!("contract {contract_id} has schedule versions 1 to {current}");
    if version > current {
        return Err(ApiError::NotFound(known()));
    }
    let Some((policy, items)) = store::version(
        conn,
        contract_id,
        i32::try_from(version).unwrap_or(i32::MAX),
    )
    .await?
    else {
        return Err(ApiError::NotFound(known()));
    };
    contract.schedule_version = version;
    contract.late_fee_policy = policy.unwrap_or_default();
    contract.receivables = items
        .iter()
        .map(|i| i.to_api(contract_id, head.currency.trim()))
        .collect();
    Ok(())
}

/// A receivable's late-fee terms after amendments: a fee carried from before a change of
/// its due date or principal, and the contract's periods of terms.
pub(crate) struct FeeTerms {
    carry: Option<(Decimal, NaiveDate)>,
    periods: Vec<FeePeriod<String>>,
}

/// The fee terms of the receivables an amendment touched (the others accrue as signed).
pub(crate) async fn fee_terms(
    conn: &mut PgConnection,
    rows: &[crate::store::ReceivableRow],
) -> Result<HashMap<Uuid, FeeTerms>, sqlx::Error> {
    let mut contracts: Vec<Uuid> = rows.iter().map(|r| r.contract_id).collect();
    contracts.sort_unstable();
    contracts.dedup();
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut changes: HashMap<Uuid, Vec<FeeChangeRow>> = HashMap::new();
    for c in store::fee_changes(conn, &contracts).await? {
        changes.entry(c.contract_id).or_default().push(c);
    }
    let carries: HashMap<Uuid, (Decimal, NaiveDate)> = store::carries(conn, &ids)
        .await?
        .into_iter()
        .map(|(id, amount, through)| (id, (amount, through)))
        .collect();
    let mut out = HashMap::new();
    for row in rows {
        let carry = carries.get(&row.id).copied();
        let contract_changes = changes.get(&row.contract_id);
        if carry.is_none() && contract_changes.is_none() {
            continue;
        }
        let periods = match contract_changes {
            Some(list) if !list.is_empty() => std::iter::once(FeePeriod {
                from: None,
                policy: list[0].previous_policy.clone(),
            })
            .chain(list.iter().map(|c| FeePeriod {
                from: Some(c.effective_from),
                policy: c.policy.clone(),
            }))
            .collect(),
            _ => vec![FeePeriod {
                from: None,
                policy: row.late_fee_policy.clone(),
            }],
        };
        out.insert(row.id, FeeTerms { carry, periods });
    }
    Ok(out)
}

/// R-C4 through amendments: the late fee through `as_of` of a receivable whose terms an
/// amendment changed. A policy that cannot be computed keeps the last accrued fee.
pub(crate) fn late_fee(
    terms: &Terms,
    fees: &FeeTerms,
    row: &crate::store::ReceivableRow,
    as_of: NaiveDate,
    payments: &[(NaiveDate, Decimal)],
) -> Decimal {
    let mut parsed: HashMap<String, money::late_fee::LateFeePolicy> = HashMap::new();
    let total = |json: &String, through: NaiveDate| -> Result<Decimal, String> {
        if through <= row.due_date {
            return Ok(Decimal::ZERO);
        }
        if !parsed.contains_key(json) {
            let p = terms.parse_policy(json).map_err(|e| e.to_string())?;
            parsed.insert(json.clone(), p);
        }
        let policy = parsed
            .get(json)
            .ok_or_else(|| "late-fee policy not parsed".to_owned())?;
        terms.late_fee(
            policy,
            row.amount,
            row.currency.trim(),
            row.due_date,
            through,
            payments,
        )
    };
    match domain::accrued_fee(fees.carry, &fees.periods, as_of, total) {
        Ok(fee) => fee,
        Err(error) => {
            tracing::error!(receivable_id = %row.id, %error, "late fee after an amendment could not be computed; keeping the last value");
            row.late_fee
        }
    }
}
