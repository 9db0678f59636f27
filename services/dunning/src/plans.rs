//! Repayment plans over gRPC (R-D6; issue 14 item 3): parse the request, ask
//! [`crate::domain::plan`], store through [`crate::store::plans`], publish. Whoever decides
//! is the authenticated caller; the proposer never approves (no role bypasses this).

use chrono::{NaiveDate, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use kit::ApiError;
use kit::auth::{Caller, Role};
use kit::wire;
use proto::dunning::v1 as api;
use proto::events::v1 as events;

use crate::api::Api;
use crate::domain::plan::{self, Installment, Refusal, Standing, Status};
use crate::store;
use crate::store::plans::PlanRow;

/// The longest reason or note kept.
const MAX_TEXT: usize = 1000;

fn status_to_wire(status: Option<Status>) -> api::PlanStatus {
    match status {
        Some(Status::Proposed) => api::PlanStatus::Proposed,
        Some(Status::FirstApproved) => api::PlanStatus::FirstApproved,
        Some(Status::Active) => api::PlanStatus::Active,
        Some(Status::Rejected) => api::PlanStatus::Rejected,
        Some(Status::Completed) => api::PlanStatus::Completed,
        Some(Status::Broken) => api::PlanStatus::Broken,
        Some(Status::Refused) => api::PlanStatus::Refused,
        None => api::PlanStatus::Unspecified,
    }
}

fn status_from_wire(value: i32) -> Result<Option<Status>, ApiError> {
    Ok(match api::PlanStatus::try_from(value) {
        Ok(api::PlanStatus::Unspecified) => None,
        Ok(api::PlanStatus::Proposed) => Some(Status::Proposed),
        Ok(api::PlanStatus::FirstApproved) => Some(Status::FirstApproved),
        Ok(api::PlanStatus::Active) => Some(Status::Active),
        Ok(api::PlanStatus::Rejected) => Some(Status::Rejected),
        Ok(api::PlanStatus::Completed) => Some(Status::Completed),
        Ok(api::PlanStatus::Broken) => Some(Status::Broken),
        Ok(api::PlanStatus::Refused) => Some(Status::Refused),
        Err(_) => {
            return Err(ApiError::invalid(
                "status",
                format!("{value} is not a plan status"),
            ));
        }
    })
}

fn text(value: Option<&String>) -> String {
    value.cloned().unwrap_or_default()
}

fn date_text(value: Option<NaiveDate>) -> String {
    value.map(|d| d.to_string()).unwrap_or_default()
}

/// The wire form of a plan, with its installments judged on `today`.
pub(crate) fn to_wire(
    row: &PlanRow,
    installments: &[Installment],
    payments: &[(NaiveDate, Decimal)],
    today: NaiveDate,
) -> api::Plan {
    let grace = u32::try_from(row.grace_days).unwrap_or_default();
    let standings = plan::standings(installments, grace, payments, today);
    let paid: Decimal = payments.iter().map(|(_, a)| *a).sum();
    let currency = row.currency.trim();
    api::Plan {
        plan_id: row.id.to_string(),
        customer_id: row.customer_id.to_string(),
        case_id: row.case_id.to_string(),
        receivable_ids: row.receivable_ids.iter().map(Uuid::to_string).collect(),
        total: Some(wire::money(row.total, currency)),
        installments: installments
            .iter()
            .zip(standings)
            .map(|(inst, standing)| api::PlanInstallment {
                number: inst.number,
                due_date: inst.due.to_string(),
                amount: Some(wire::money(inst.amount, currency)),
                status: match standing {
                    Standing::Pending => api::InstallmentStatus::Pending,
                    Standing::Paid => api::InstallmentStatus::Paid,
                    Standing::Missed => api::InstallmentStatus::Missed,
                } as i32,
            })
            .collect(),
        grace_days: grace,
        reason: row.reason.clone(),
        status: status_to_wire(Status::parse(&row.status)) as i32,
        second_approval_required: row.second_approval_required,
        proposed_by: row.proposed_by.clone(),
        proposed_at: row.proposed_at.to_rfc3339(),
        first_approved_by: text(row.first_approved_by.as_ref()),
        first_approved_at: row
            .first_approved_at
            .map(|t| t.to_rfc3339())
            .unwrap_or_default(),
        second_approved_by: text(row.second_approved_by.as_ref()),
        second_approved_at: row
            .second_approved_at
            .map(|t| t.to_rfc3339())
            .unwrap_or_default(),
        rejected_by: text(row.rejected_by.as_ref()),
        decision_note: row.decision_note.clone(),
        paid: Some(wire::money(paid, currency)),
        agreed_on: date_text(row.agreed_on),
        ended_on: date_text(row.ended_on),
        end_reason: row.end_reason.clone(),
        paused_step: row.paused_step.clone(),
    }
}

fn refused(refusal: &Refusal) -> ApiError {
    match refusal {
        Refusal::Proposer | Refusal::SameApprover | Refusal::NeedsRisk => {
            ApiError::PermissionDenied(refusal.to_string())
        }
        Refusal::Decided(_) => ApiError::FailedPrecondition(refusal.to_string()),
    }
}

async fn today(conn: &mut sqlx::PgConnection) -> Result<NaiveDate, ApiError> {
    // Today is dunning's business day (its last daily cycle), else the calendar's.
    Ok(store::ladder::latest_day(conn)
        .await?
        .unwrap_or_else(|| Utc::now().date_naive()))
}

async fn wire_of(conn: &mut sqlx::PgConnection, row: &PlanRow) -> Result<api::Plan, ApiError> {
    let installments = store::plans::installments(conn, row.id).await?;
    let payments = store::plans::payments(conn, row.id).await?;
    let today = today(conn).await?;
    Ok(to_wire(row, &installments, &payments, today))
}

fn installments_of(
    request: &api::ProposePlanRequest,
    currency: &str,
) -> Result<Vec<Installment>, ApiError> {
    request
        .installments
        .iter()
        .enumerate()
        .map(|(i, inst)| {
            let due = wire::date(&format!("installments[{i}].due_date"), &inst.due_date)?;
            let (amount, cur) = wire::parse_money(inst.amount.as_ref())
                .map_err(|e| ApiError::invalid(format!("installments[{i}].amount"), e))?;
            if cur != currency {
                return Err(ApiError::invalid(
                    format!("installments[{i}].amount"),
                    format!("{cur}: the items are owed in {currency}"),
                ));
            }
            Ok(Installment {
                number: if inst.number == 0 {
                    u32::try_from(i + 1).unwrap_or(u32::MAX)
                } else {
                    inst.number
                },
                due,
                amount,
            })
        })
        .collect()
}

/// ProposePlan.
pub(crate) async fn propose(
    app: &Api,
    caller: &Caller,
    request: &api::ProposePlanRequest,
) -> Result<api::Plan, ApiError> {
    let key = wire::required("idempotency_key", &request.idempotency_key, 200)?;
    let customer_id = wire::uuid("customer_id", &request.customer_id)?;
    let reason = wire::required("reason", &request.reason, MAX_TEXT)?;
    if request.receivable_ids.is_empty() {
        return Err(ApiError::invalid(
            "receivable_ids",
            "name the open items the plan re-schedules",
        ));
    }
    let mut items: Vec<Uuid> = Vec::with_capacity(request.receivable_ids.len());
    for (i, id) in request.receivable_ids.iter().enumerate() {
        let id = wire::uuid(&format!("receivable_ids[{i}]"), id)?;
        if !items.contains(&id) {
            items.push(id);
        }
    }
    let mut tx = app.pool.begin().await?;
    kit::auth::owners::require_customer(&mut tx, caller, customer_id).await?;
    if let Some(first) = store::plans::by_key(&mut tx, &key).await? {
        return wire_of(&mut tx, &first).await;
    }
    let today = today(&mut tx).await?;
    let Some((case_id, step, open)) = store::plans::plannable(&mut tx, customer_id).await? else {
        return Err(ApiError::FailedPrecondition(format!(
            "customer {customer_id} has no active dunning case: there is nothing to re-schedule"
        )));
    };
    let mut covered = Vec::with_capacity(items.len());
    for (i, id) in items.iter().enumerate() {
        let Some(item) = open.iter().find(|o| o.receivable_id == *id) else {
            return Err(ApiError::invalid(
                format!("receivable_ids[{i}]"),
                format!(
                    "{id} is not an open item of the customer's case outside a dispute or another plan"
                ),
            ));
        };
        covered.push(item);
    }
    let currency = covered[0].currency.trim().to_owned();
    if let Some((i, other)) = covered
        .iter()
        .enumerate()
        .find(|(_, c)| c.currency.trim() != currency)
    {
        return Err(ApiError::invalid(
            format!("receivable_ids[{i}]"),
            format!(
                "owed in {} while the first item is owed in {currency}: one plan per currency",
                other.currency.trim()
            ),
        ));
    }
    let total: Decimal = covered.iter().map(|c| c.owed).sum::<Decimal>().round_dp(2);
    let installments = if request.installments.is_empty() {
        if request.installment_count == 0 {
            return Err(ApiError::invalid(
                "installments",
                "give the installments, or installment_count and first_due_date",
            ));
        }
        let first = wire::date("first_due_date", &request.first_due_date)?;
        plan::equal_monthly(total, request.installment_count, first)
            .map_err(|e| ApiError::invalid(e.field, e.reason))?
    } else {
        installments_of(request, &currency)?
    };
    plan::check(&installments, total, request.grace_days, today)
        .map_err(|e| ApiError::invalid(e.field, e.reason))?;
    let row = PlanRow {
        id: Uuid::now_v7(),
        customer_id,
        case_id,
        receivable_ids: items,
        currency: currency.clone(),
        total,
        grace_days: i32::try_from(request.grace_days).unwrap_or(i32::MAX),
        reason,
        status: Status::Proposed.as_str().to_owned(),
        second_approval_required: total > app.plan_second_approval_above,
        proposed_by: caller.subject().to_owned(),
        proposed_at: Utc::now(),
        first_approved_by: None,
        first_approved_at: None,
        second_approved_by: None,
        second_approved_at: None,
        rejected_by: None,
        decision_note: String::new(),
        agreed_on: None,
        ended_on: None,
        end_reason: String::new(),
        paused_step: step,
    };
    store::plans::insert(&mut tx, &row, &installments, &key).await?;
    tx.commit().await?;
    caller.touch("plan", row.id);
    tracing::info!(plan_id = %row.id, %customer_id, %total, installments = installments.len(), second = row.second_approval_required, "repayment plan proposed (R-D6)");
    Ok(to_wire(&row, &installments, &[], today))
}

/// Locks a plan in the caller's scope.
async fn locked(
    tx: &mut sqlx::PgConnection,
    caller: &Caller,
    plan_id: &str,
) -> Result<(PlanRow, Status), ApiError> {
    let id = wire::uuid("plan_id", plan_id)?;
    caller.touch("plan", id);
    let Some(row) = store::plans::for_update(tx, id).await? else {
        return Err(ApiError::NotFound(format!("no plan with id {id}")));
    };
    kit::auth::owners::require_customer(tx, caller, row.customer_id).await?;
    let status = Status::parse(&row.status)
        .ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("plan status {:?}", row.status)))?;
    Ok((row, status))
}

fn note_of(note: &str) -> Result<String, ApiError> {
    let note = note.trim();
    if note.chars().count() > MAX_TEXT {
        return Err(ApiError::invalid(
            "note",
            format!("at most {MAX_TEXT} characters"),
        ));
    }
    Ok(note.to_owned())
}

/// ApprovePlan: the caller approves; the last approval agrees the plan, takes its items out
/// of the ladder and publishes RepaymentPlanAgreed for contracts to book, in one transaction.
pub(crate) async fn approve(
    app: &Api,
    caller: &Caller,
    request: &api::ApprovePlanRequest,
) -> Result<api::Plan, ApiError> {
    let note = note_of(&request.note)?;
    let mut tx = app.pool.begin().await?;
    let (row, status) = locked(&mut tx, caller, &request.plan_id).await?;
    let approver = plan::Approver {
        subject: caller.subject(),
        risk: caller.principal.roles.contains(&Role::Risk),
    };
    let next = plan::approve(
        status,
        row.second_approval_required,
        &row.proposed_by,
        row.first_approved_by.as_deref(),
        approver,
    )
    .map_err(|r| refused(&r))?;
    if next == Status::Active && store::plans::settled(&mut tx, row.id).await? {
        return Err(ApiError::FailedPrecondition(format!(
            "nothing the plan covers is owed any more (paid or settled since it was proposed): reject plan {} instead",
            row.id
        )));
    }
    let now = Utc::now();
    if next == Status::FirstApproved {
        store::plans::first_approval(&mut tx, row.id, caller.subject(), now, &note).await?;
        tracing::info!(plan_id = %row.id, by = caller.subject(), "repayment plan approved once; a risk approver decides next (R-D6)");
    } else {
        let today = today(&mut tx).await?;
        let second = status == Status::FirstApproved;
        store::plans::agree(&mut tx, row.id, caller.subject(), second, now, today, &note).await?;
        let installments = store::plans::installments(&mut tx, row.id).await?;
        let currency = row.currency.trim();
        let mut approved_by: Vec<String> = row.first_approved_by.iter().cloned().collect();
        approved_by.push(caller.subject().to_owned());
        let agreed = events::RepaymentPlanAgreed {
            plan_id: row.id.to_string(),
            customer_id: row.customer_id.to_string(),
            case_id: row.case_id.to_string(),
            receivable_ids: row.receivable_ids.iter().map(Uuid::to_string).collect(),
            total: Some(wire::money(row.total, currency)),
            installments: installments
                .iter()
                .map(|i| events::PlanInstallmentDue {
                    number: i.number,
                    due_date: i.due.to_string(),
                    amount: Some(wire::money(i.amount, currency)),
                })
                .collect(),
            grace_days: u32::try_from(row.grace_days).unwrap_or_default(),
            agreed_on: today.to_string(),
            proposed_by: row.proposed_by.clone(),
            approved_by,
        };
        app.outbox
            .enqueue(
                &mut tx,
                kit::events::DUNNING,
                &row.customer_id.to_string(),
                &agreed,
            )
            .await?;
        tracing::info!(plan_id = %row.id, by = caller.subject(), "repayment plan agreed (R-D6)");
    }
    let done = store::plans::for_update(&mut tx, row.id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no plan with id {}", row.id)))?;
    let wire = wire_of(&mut tx, &done).await?;
    tx.commit().await?;
    Ok(wire)
}

/// RejectPlan.
pub(crate) async fn reject(
    app: &Api,
    caller: &Caller,
    request: &api::RejectPlanRequest,
) -> Result<api::Plan, ApiError> {
    let reason = wire::required("reason", &request.reason, MAX_TEXT)?;
    let mut tx = app.pool.begin().await?;
    let (row, status) = locked(&mut tx, caller, &request.plan_id).await?;
    plan::reject(status).map_err(|r| refused(&r))?;
    store::plans::reject(&mut tx, row.id, caller.subject(), &reason).await?;
    let done = store::plans::for_update(&mut tx, row.id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no plan with id {}", row.id)))?;
    let wire = wire_of(&mut tx, &done).await?;
    tx.commit().await?;
    tracing::info!(plan_id = %row.id, by = caller.subject(), "repayment plan rejected (R-D6)");
    Ok(wire)
}

/// ListPlans.
pub(crate) async fn list(
    app: &Api,
    caller: &Caller,
    request: &api::ListPlansRequest,
) -> Result<Vec<api::Plan>, ApiError> {
    let customer_id = match request.customer_id.trim() {
        "" => None,
        id => Some(wire::uuid("customer_id", id)?),
    };
    let status = status_from_wire(request.status)?;
    let limit = match request.page_size {
        0 => 100,
        n => i64::from(n.min(1000)),
    };
    let mut conn = app.pool.acquire().await?;
    if let Some(id) = customer_id {
        kit::auth::owners::require_customer(&mut conn, caller, id).await?;
    }
    let (mode, value) = kit::auth::owners::params(&caller.scope);
    let rows = store::plans::list(
        &mut conn,
        customer_id,
        status.map(Status::as_str),
        (mode, &value),
        limit,
    )
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        out.push(wire_of(&mut conn, row).await?);
    }
    Ok(out)
}

/// Ends a plan whose items were all paid (or settled otherwise) and publishes it.
pub(crate) async fn completed(
    tx: &mut sqlx::PgConnection,
    outbox: &kit::outbox::Outbox,
    plan: &PlanRow,
    paid: Decimal,
    on: NaiveDate,
) -> anyhow::Result<()> {
    if !store::plans::end(tx, plan.id, Status::Completed.as_str(), on, "").await? {
        return Ok(());
    }
    let event = events::RepaymentPlanCompleted {
        plan_id: plan.id.to_string(),
        customer_id: plan.customer_id.to_string(),
        receivable_ids: plan.receivable_ids.iter().map(Uuid::to_string).collect(),
        paid: Some(wire::money(paid, plan.currency.trim())),
        completed_on: on.to_string(),
    };
    outbox
        .enqueue(
            tx,
            kit::events::DUNNING,
            &plan.customer_id.to_string(),
            &event,
        )
        .await?;
    tracing::info!(plan_id = %plan.id, "repayment plan completed (R-D6)");
    Ok(())
}
