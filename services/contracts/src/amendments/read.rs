//! Amendments and contract versions read back: the rows on the wire, GetAmendment,
//! ListAmendments and a contract as an older version shows it.

use prost::Message as _;
use sqlx::PgConnection;
use uuid::Uuid;

use kit::auth::Caller;
use kit::{ApiError, wire};
use proto::contracts::v1 as api;

use crate::domain::amendment::{Item, Kind, Status};
use crate::domain::schedule::{ChargeType, ItemKind};
use crate::store::amendments::{self as store, AmendmentRow, ItemRow};

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
    match Kind::parse(kind) {
        Some(Kind::Deferral) => api::AmendmentKind::Deferral,
        Some(Kind::NewSchedule) => api::AmendmentKind::NewSchedule,
        Some(Kind::Discount) => api::AmendmentKind::Discount,
        Some(Kind::FeeChange) => api::AmendmentKind::FeeChange,
        None => api::AmendmentKind::Unspecified,
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
    pub(super) fn to_domain(&self) -> Result<Item, ApiError> {
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
