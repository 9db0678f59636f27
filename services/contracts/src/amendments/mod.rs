//! Amendments (R-C8; issue 12 item 5): the gRPC methods, their events, the versioned read of
//! a contract and the late fee of receivables whose terms an amendment changed (for the
//! daily cycle). The rules are in [`crate::domain::amendment`], the SQL in
//! [`crate::store::amendments`]. Every decision is one transaction: the status, the new
//! schedule version, the receivables and the event commit together or not at all.

mod fees;
mod parse;
mod read;

pub(crate) use fees::{fee_terms, late_fee};
pub(crate) use read::{get, list, show_version};

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
use proto::events::v1 as events;

use crate::domain::amendment::{
    self as domain, AmendError, AmendmentKind, Change, Decision, DecisionError, Item, Status,
};
use crate::store::amendments::{self as store, AmendmentRow, ContractHead, FeeChangeRow, ItemRow};
use crate::terms::Terms;

use parse::{amend_error, parse_terms, unit_of};

/// The longest reason kept.
const MAX_REASON: usize = 500;

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
