//! Waivers of late fee, interest and collection costs (R-D6, R-D12): the gRPC methods. The
//! rules are in [`crate::domain::waiver`], the SQL in [`crate::store::waivers`].

use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use kit::ApiError;
use kit::auth::Caller;
use kit::outbox::Outbox;
use kit::wire;
use proto::contracts::v1 as api;
use proto::events::v1 as events;

use crate::domain::owed::Component;
use crate::domain::waiver::{self, Refusal, Status};
use crate::store;
use crate::store::waivers::{NewWaiver, WaiverRow};

/// The longest reason or note kept.
const MAX_REASON: usize = 500;

fn status_to_wire(status: Option<Status>) -> api::WaiverStatus {
    match status {
        Some(Status::Proposed) => api::WaiverStatus::Proposed,
        Some(Status::FirstApproved) => api::WaiverStatus::FirstApproved,
        Some(Status::Approved) => api::WaiverStatus::Approved,
        Some(Status::Rejected) => api::WaiverStatus::Rejected,
        None => api::WaiverStatus::Unspecified,
    }
}

impl WaiverRow {
    fn component(&self) -> Option<Component> {
        waiver::parse_component(&self.component)
    }

    fn to_api(&self) -> api::Waiver {
        let currency = self.currency.trim();
        api::Waiver {
            waiver_id: self.id.to_string(),
            receivable_id: self.receivable_id.to_string(),
            contract_no: self.contract_no.clone(),
            customer_id: self.customer_id.to_string(),
            component: self.component().map_or(
                proto::types::v1::Component::Unspecified,
                wire::component_to_wire,
            ) as i32,
            amount: Some(wire::money(self.amount, currency)),
            reason: self.reason.clone(),
            status: status_to_wire(Status::parse(&self.status)) as i32,
            proposed_by: self.proposed_by.clone(),
            proposed_at: self.proposed_at.to_rfc3339(),
            decided_by: self.decided_by.clone().unwrap_or_default(),
            decided_at: self.decided_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            decision_note: self.decision_note.clone(),
            second_approval_required: self.second_approval_required,
            first_approved_by: self.first_approved_by.clone().unwrap_or_default(),
            first_approved_at: self
                .first_approved_at
                .map(|t| t.to_rfc3339())
                .unwrap_or_default(),
            dispute_id: self.dispute_id.map(|d| d.to_string()).unwrap_or_default(),
        }
    }
}

fn refused(refusal: Refusal) -> ApiError {
    match refusal {
        Refusal::Invalid(field, why) => ApiError::invalid(field, why),
        Refusal::SamePerson | Refusal::SameApprover | Refusal::NeedsRisk => {
            ApiError::PermissionDenied(refusal.to_string())
        }
        Refusal::Decided(_) | Refusal::NoLongerOwed { .. } => {
            ApiError::FailedPrecondition(refusal.to_string())
        }
    }
}

/// ProposeWaiver: checked against what is owed now; the proposer is the caller.
pub(crate) async fn propose(
    conn: &mut PgConnection,
    outbox: &Outbox,
    caller: &Caller,
    second_approval_above: Decimal,
    request: &api::ProposeWaiverRequest,
) -> Result<api::Waiver, ApiError> {
    let receivable_id = wire::uuid("receivable_id", &request.receivable_id)?;
    let component = wire::component_from_wire(request.component)
        .ok_or_else(|| ApiError::invalid("component", "name late_fee, interest or costs"))?;
    let reason = wire::required("reason", &request.reason, MAX_REASON)?;
    let Some(receivable) = store::lock_receivable(conn, receivable_id).await? else {
        return Err(ApiError::NotFound(format!(
            "no receivable with id {receivable_id}"
        )));
    };
    kit::auth::owners::require_customer(conn, caller, receivable.customer_id).await?;
    let currency = receivable.currency.trim().to_owned();
    let amount = wire::positive_amount("amount", &request.amount, &currency)?;
    waiver::propose(&receivable.owed(), component, amount, &reason).map_err(refused)?;
    let id = Uuid::now_v7();
    let component_name = waiver::component_name(component).unwrap_or_default();
    store::waivers::insert(
        conn,
        &NewWaiver {
            id,
            receivable_id,
            customer_id: receivable.customer_id,
            component: component_name,
            amount,
            reason: &reason,
            proposed_by: caller.subject(),
            second_approval_required: amount > second_approval_above,
            dispute: None,
        },
    )
    .await?;
    outbox
        .enqueue(
            conn,
            kit::events::CONTRACTS,
            &receivable.customer_id.to_string(),
            &events::WaiverProposed {
                waiver_id: id.to_string(),
                receivable_id: receivable_id.to_string(),
                customer_id: receivable.customer_id.to_string(),
                waived: Some(component_amount(component, amount, &currency)),
                reason: reason.clone(),
            },
        )
        .await?;
    caller.touch("waiver", id);
    tracing::info!(waiver_id = %id, %receivable_id, component = component_name, %amount, "waiver proposed (R-D6)");
    let row = store::waivers::get(conn, id)
        .await?
        .ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("waiver {id} vanished")))?;
    Ok(row.to_api())
}

fn component_amount(
    component: Component,
    amount: Decimal,
    currency: &str,
) -> proto::types::v1::ComponentAmount {
    proto::types::v1::ComponentAmount {
        component: wire::component_to_wire(component) as i32,
        amount: Some(wire::money(amount, currency)),
    }
}

/// Locks a waiver and its receivable, in the caller's scope.
async fn locked(
    conn: &mut PgConnection,
    caller: &Caller,
    waiver_id: &str,
) -> Result<(WaiverRow, store::ReceivableRow), ApiError> {
    let id = wire::uuid("waiver_id", waiver_id)?;
    let Some(row) = store::waivers::lock(conn, id).await? else {
        return Err(ApiError::NotFound(format!("no waiver with id {id}")));
    };
    kit::auth::owners::require_customer(conn, caller, row.customer_id).await?;
    let receivable = store::lock_receivable(conn, row.receivable_id)
        .await?
        .ok_or_else(|| {
            ApiError::Unexpected(anyhow::anyhow!("receivable of waiver {id} vanished"))
        })?;
    Ok((row, receivable))
}

/// ApproveWaiver: the caller decides (never the proposer); the waiver is booked and published
/// in the same transaction.
pub(crate) async fn approve(
    conn: &mut PgConnection,
    outbox: &Outbox,
    caller: &Caller,
    request: &api::ApproveWaiverRequest,
) -> Result<api::ApproveWaiverResponse, ApiError> {
    let note = request.note.trim();
    if note.chars().count() > MAX_REASON {
        return Err(ApiError::invalid(
            "note",
            format!("at most {MAX_REASON} characters"),
        ));
    }
    let (row, receivable) = locked(conn, caller, &request.waiver_id).await?;
    let status = Status::parse(&row.status)
        .ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("waiver status {:?}", row.status)))?;
    let component = row.component().ok_or_else(|| {
        ApiError::Unexpected(anyhow::anyhow!("waiver component {:?}", row.component))
    })?;
    let approval = waiver::approve(
        status,
        &row.proposed_by,
        waiver::Approver {
            subject: caller.subject(),
            risk: caller.principal.roles.contains(&kit::auth::Role::Risk),
        },
        waiver::Levels {
            second_required: row.second_approval_required,
            first_approver: row.first_approved_by.as_deref(),
        },
        &receivable.owed(),
        component,
        row.amount,
    )
    .map_err(refused)?;
    let after = match approval {
        waiver::Approval::Booked(after) => after,
        waiver::Approval::First => {
            // Above the amount: recorded; a risk approver books it (R-D6).
            store::waivers::first_approval(conn, row.id, caller.subject(), note).await?;
            caller.touch("waiver", row.id);
            tracing::info!(waiver_id = %row.id, by = caller.subject(), "waiver approved once; a risk approver decides next (R-D6)");
            let decided = store::waivers::get(conn, row.id).await?.ok_or_else(|| {
                ApiError::Unexpected(anyhow::anyhow!("waiver {} vanished", row.id))
            })?;
            return Ok(api::ApproveWaiverResponse {
                waiver: Some(decided.to_api()),
                owed_after: Some(wire::owed(&receivable.owed(), receivable.currency.trim())),
            });
        }
    };
    store::owed::set_owed(conn, receivable.id, &after).await?;
    store::waivers::decide(
        conn,
        row.id,
        Status::Approved.as_str(),
        caller.subject(),
        note,
    )
    .await?;
    let currency = receivable.currency.trim();
    outbox
        .enqueue(
            conn,
            kit::events::CONTRACTS,
            &receivable.customer_id.to_string(),
            &events::WaiverApproved {
                waiver_id: row.id.to_string(),
                receivable_id: receivable.id.to_string(),
                contract_id: receivable.contract_id.to_string(),
                customer_id: receivable.customer_id.to_string(),
                waived: Some(component_amount(component, row.amount, currency)),
                owed_after: Some(wire::owed(&after, currency)),
                settled: after.total().is_zero(),
            },
        )
        .await?;
    caller.touch("waiver", row.id);
    tracing::info!(waiver_id = %row.id, receivable_id = %receivable.id, amount = %row.amount, "waiver approved and booked (R-D6)");
    let decided = store::waivers::get(conn, row.id)
        .await?
        .ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("waiver {} vanished", row.id)))?;
    Ok(api::ApproveWaiverResponse {
        waiver: Some(decided.to_api()),
        owed_after: Some(wire::owed(&after, currency)),
    })
}

/// RejectWaiver: the caller decides (never the proposer), with a reason.
pub(crate) async fn reject(
    conn: &mut PgConnection,
    caller: &Caller,
    request: &api::RejectWaiverRequest,
) -> Result<api::Waiver, ApiError> {
    let reason = wire::required("reason", &request.reason, MAX_REASON)?;
    let (row, _) = locked(conn, caller, &request.waiver_id).await?;
    let status = Status::parse(&row.status)
        .ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("waiver status {:?}", row.status)))?;
    waiver::decidable(status, &row.proposed_by, caller.subject()).map_err(refused)?;
    store::waivers::decide(
        conn,
        row.id,
        Status::Rejected.as_str(),
        caller.subject(),
        &reason,
    )
    .await?;
    caller.touch("waiver", row.id);
    let decided = store::waivers::get(conn, row.id)
        .await?
        .ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("waiver {} vanished", row.id)))?;
    Ok(decided.to_api())
}

/// ListWaivers: newest first, in the caller's scope.
pub(crate) async fn list(
    conn: &mut PgConnection,
    caller: &Caller,
    request: &api::ListWaiversRequest,
) -> Result<api::ListWaiversResponse, ApiError> {
    let optional = |field: &str, value: &str| -> Result<Option<Uuid>, ApiError> {
        match value.trim() {
            "" => Ok(None),
            v => wire::uuid(field, v).map(Some),
        }
    };
    let customer_id = optional("customer_id", &request.customer_id)?;
    let receivable_id = optional("receivable_id", &request.receivable_id)?;
    let status = match api::WaiverStatus::try_from(request.status) {
        Ok(api::WaiverStatus::Unspecified) => None,
        Ok(api::WaiverStatus::Proposed) => Some(Status::Proposed),
        Ok(api::WaiverStatus::FirstApproved) => Some(Status::FirstApproved),
        Ok(api::WaiverStatus::Approved) => Some(Status::Approved),
        Ok(api::WaiverStatus::Rejected) => Some(Status::Rejected),
        Err(_) => {
            return Err(ApiError::invalid(
                "status",
                format!("{} is not a waiver status", request.status),
            ));
        }
    };
    if let Some(customer_id) = customer_id {
        kit::auth::owners::require_customer(conn, caller, customer_id).await?;
    }
    let paging = kit::paging::Paging::<Uuid>::parse(
        &format!(
            "contracts.ListWaivers {customer_id:?} {receivable_id:?} {}",
            request.status
        ),
        request.page_size,
        &request.page_token,
    )?;
    let (mode, value) = kit::auth::owners::params(&caller.scope);
    let rows = store::waivers::list(
        conn,
        &store::waivers::Filter {
            customer_id,
            receivable_id,
            status: status.map(Status::as_str),
            scope: (mode, &value),
            after: paging.after().copied(),
            limit: paging.fetch_limit(),
        },
    )
    .await?;
    let (rows, next_page_token) = paging.finish(rows, |r| r.id);
    Ok(api::ListWaiversResponse {
        waivers: rows.iter().map(WaiverRow::to_api).collect(),
        next_page_token,
    })
}

/// An upheld dispute (R-D8): each relief line becomes a proposal in the resolver's name — a
/// credit of principal (effective from the item's due date) or a waiver — that another person
/// approves like any waiver (R-D6). A line for more than is owed now is proposed for what is
/// owed (paid since) and logged; an item that is not the debtor's is a permanent error.
pub(crate) async fn on_dispute_resolved(
    tx: &mut PgConnection,
    outbox: &Outbox,
    second_approval_above: Decimal,
    event: &kit::consumer::IncomingEvent,
) -> Result<(), kit::consumer::HandleError> {
    use kit::consumer::{HandleError, uuid_field};
    let resolved: events::DisputeResolved = event.decode()?;
    if !resolved.upheld || resolved.relief.is_empty() {
        return Ok(());
    }
    let dispute_id = uuid_field("dispute_id", &resolved.dispute_id)?;
    let customer_id = uuid_field("customer_id", &resolved.customer_id)?;
    let reason = format!("dispute {dispute_id} upheld: {}", resolved.note);
    for line in &resolved.relief {
        let receivable_id = uuid_field("receivable_id", &line.receivable_id)?;
        let part = line.amount.as_ref().ok_or_else(|| {
            HandleError::Permanent(format!(
                "dispute {dispute_id}: a relief line without an amount"
            ))
        })?;
        let component = wire::component_from_wire(part.component).ok_or_else(|| {
            HandleError::Permanent(format!(
                "dispute {dispute_id}: component {} is not a component",
                part.component
            ))
        })?;
        let (amount, currency) =
            wire::parse_money(part.amount.as_ref()).map_err(HandleError::Permanent)?;
        let Some(receivable) = store::lock_receivable(tx, receivable_id).await? else {
            return Err(HandleError::Permanent(format!(
                "dispute {dispute_id} names receivable {receivable_id}, which contracts does not know"
            )));
        };
        if receivable.customer_id != customer_id || receivable.currency.trim() != currency {
            return Err(HandleError::Permanent(format!(
                "dispute {dispute_id}: receivable {receivable_id} is not the debtor's in {currency}"
            )));
        }
        let owed = receivable.owed();
        let amount = match waiver::propose_relief(&owed, component, amount) {
            Ok(()) => amount,
            Err(Refusal::NoLongerOwed { open }) if open > Decimal::ZERO => {
                tracing::warn!(%dispute_id, %receivable_id, asked = %amount, %open, "less is owed than the dispute's relief; proposing what is owed");
                open
            }
            Err(refusal) => {
                tracing::warn!(%dispute_id, %receivable_id, %refusal, "nothing to relieve on this item");
                continue;
            }
        };
        let id = Uuid::now_v7();
        let component_name = component.as_str();
        let inserted = store::waivers::insert(
            tx,
            &NewWaiver {
                id,
                receivable_id,
                customer_id,
                component: component_name,
                amount,
                reason: &reason,
                proposed_by: &resolved.resolved_by,
                second_approval_required: amount > second_approval_above,
                dispute: Some((
                    dispute_id,
                    (component == Component::Principal).then_some(receivable.due_date),
                )),
            },
        )
        .await?;
        if !inserted {
            continue;
        }
        outbox
            .enqueue(
                tx,
                kit::events::CONTRACTS,
                &customer_id.to_string(),
                &events::WaiverProposed {
                    waiver_id: id.to_string(),
                    receivable_id: receivable_id.to_string(),
                    customer_id: customer_id.to_string(),
                    waived: Some(component_amount(component, amount, &currency)),
                    reason: reason.clone(),
                },
            )
            .await?;
        tracing::info!(waiver_id = %id, %dispute_id, %receivable_id, component = component_name, %amount, "relief of an upheld dispute proposed (R-D8)");
    }
    Ok(())
}
