//! Write-offs of small differences (R-P12): the request from payments and the gRPC
//! decisions. Rules in [`crate::domain::write_off`], SQL in [`crate::store::write_offs`].

use std::str::FromStr;

use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use kit::ApiError;
use kit::auth::Caller;
use kit::consumer::{HandleError, IncomingEvent, uuid_field};
use kit::outbox::Outbox;
use kit::wire;
use proto::contracts::v1 as api;
use proto::events::v1 as events;

use crate::domain::owed::Component;
use crate::domain::waiver::{self, Refusal};
use crate::domain::write_off::{self, Disposition, Limits, Status};
use crate::store;
use crate::store::write_offs::{NewWriteOff, WriteOffRow};

/// Who decided a write-off booked within the approval threshold.
const POLICY: &str = "policy";

/// The limits from `WRITE_OFF_TOLERANCE` and `WRITE_OFF_APPROVAL_ABOVE` (decimal amounts in
/// the contract currency; defaults those of the cash-application policy: 5.00 and 1.00).
pub(crate) fn limits_from_env() -> anyhow::Result<Limits> {
    let read = |name: &str, default: Decimal| -> anyhow::Result<Decimal> {
        match std::env::var(name) {
            Ok(text) if !text.trim().is_empty() => Decimal::from_str(text.trim())
                .ok()
                .filter(|d| *d >= Decimal::ZERO)
                .ok_or_else(|| anyhow::anyhow!("{name}: {text:?} is not an amount like 5.00")),
            _ => Ok(default),
        }
    };
    let default = Limits::default();
    Ok(Limits {
        tolerance: read("WRITE_OFF_TOLERANCE", default.tolerance)?,
        approval_above: read("WRITE_OFF_APPROVAL_ABOVE", default.approval_above)?,
    })
}

fn unit_of(currency: &str) -> Decimal {
    wire::minor_units(currency).map_or(Decimal::new(1, 2), |m| Decimal::new(1, m))
}

fn stored_parts(parts: &[(Component, Decimal)]) -> Vec<(String, Decimal)> {
    parts
        .iter()
        .map(|(c, a)| (c.as_str().to_owned(), *a))
        .collect()
}

/// Books a write-off: what is owed goes down, the record says by whom, `WrittenOff` tells
/// payments and dunning. Returns what is owed after it.
async fn book(
    conn: &mut PgConnection,
    outbox: &Outbox,
    row: &WriteOffRow,
    receivable: &store::ReceivableRow,
    by: &str,
    note: &str,
) -> Result<crate::domain::owed::Owed, sqlx::Error> {
    let currency = receivable.currency.trim();
    let (parts, after) = write_off::book(&receivable.owed(), row.amount, unit_of(currency));
    store::owed::set_owed(conn, receivable.id, &after).await?;
    store::write_offs::decide(
        conn,
        row.id,
        Status::Booked.as_str(),
        by,
        note,
        &stored_parts(&parts),
    )
    .await?;
    outbox
        .enqueue(
            conn,
            kit::events::CONTRACTS,
            &receivable.customer_id.to_string(),
            &events::WrittenOff {
                write_off_id: row.id.to_string(),
                payment_id: row.payment_id.to_string(),
                receivable_id: receivable.id.to_string(),
                contract_id: receivable.contract_id.to_string(),
                customer_id: receivable.customer_id.to_string(),
                parts: wire::parts(&parts, currency),
                owed_after: Some(wire::owed(&after, currency)),
                settled: after.total().is_zero(),
                approved_by: by.to_owned(),
                reason: row.reason.clone(),
                booking_date: row.booking_date.to_string(),
            },
        )
        .await?;
    tracing::info!(write_off_id = %row.id, receivable_id = %receivable.id, amount = %row.amount, by, "small difference written off (R-P12)");
    Ok(after)
}

/// `WriteOffRequested` from payments: recorded once, then booked, kept for a person, or
/// refused (recorded as rejected with the reason).
pub(crate) async fn on_requested(
    tx: &mut PgConnection,
    outbox: &Outbox,
    limits: Limits,
    event: &IncomingEvent,
) -> Result<(), HandleError> {
    let request: events::WriteOffRequested = event.decode()?;
    let id = uuid_field("write_off_id", &request.write_off_id)?;
    let payment_id = uuid_field("payment_id", &request.payment_id)?;
    let receivable_id = uuid_field("receivable_id", &request.receivable_id)?;
    let (amount, currency) =
        wire::parse_money(request.amount.as_ref()).map_err(HandleError::Permanent)?;
    let booking_date = chrono::NaiveDate::parse_from_str(&request.booking_date, "%Y-%m-%d")
        .map_err(|e| {
            HandleError::Permanent(format!(
                "write-off {id}: booking_date {:?}: {e}",
                request.booking_date
            ))
        })?;
    let Some(receivable) = store::lock_receivable(tx, receivable_id).await? else {
        return Err(HandleError::Permanent(format!(
            "write-off {id} names receivable {receivable_id}, which contracts does not know"
        )));
    };
    if receivable.currency.trim() != currency {
        return Err(HandleError::Permanent(format!(
            "write-off {id} is in {currency}, receivable {receivable_id} in {}",
            receivable.currency.trim()
        )));
    }
    let inserted = store::write_offs::insert(
        tx,
        &NewWriteOff {
            id,
            payment_id,
            receivable_id,
            customer_id: receivable.customer_id,
            amount,
            reason: &request.reason,
            booking_date,
            requested_by: &event.envelope.producer,
        },
    )
    .await?;
    if !inserted {
        tracing::info!(write_off_id = %id, "write-off requested before; a repeated event changes nothing");
        return Ok(());
    }
    let row = store::write_offs::lock(tx, id).await?.ok_or_else(|| {
        HandleError::Permanent(format!("write-off {id} vanished after it was recorded"))
    })?;
    match write_off::dispose(
        amount,
        &receivable.owed(),
        limits,
        request.approval_required,
    ) {
        Disposition::Book => {
            book(
                tx,
                outbox,
                &row,
                &receivable,
                POLICY,
                "within WRITE_OFF_APPROVAL_ABOVE",
            )
            .await?;
        }
        Disposition::AwaitApproval => {
            tracing::info!(write_off_id = %id, %receivable_id, %amount, "write-off waits for a person's approval (R-P12)");
        }
        Disposition::Refuse(reason) => {
            store::write_offs::decide(tx, id, Status::Rejected.as_str(), POLICY, &reason, &[])
                .await?;
            tracing::warn!(write_off_id = %id, %receivable_id, %amount, reason, "write-off refused");
        }
    }
    Ok(())
}

fn status_to_wire(status: Option<Status>) -> api::WriteOffStatus {
    match status {
        Some(Status::Proposed) => api::WriteOffStatus::Proposed,
        Some(Status::Booked) => api::WriteOffStatus::Booked,
        Some(Status::Rejected) => api::WriteOffStatus::Rejected,
        None => api::WriteOffStatus::Unspecified,
    }
}

impl WriteOffRow {
    fn to_api(&self) -> api::WriteOff {
        let currency = self.currency.trim();
        api::WriteOff {
            write_off_id: self.id.to_string(),
            payment_id: self.payment_id.to_string(),
            receivable_id: self.receivable_id.to_string(),
            contract_no: self.contract_no.clone(),
            customer_id: self.customer_id.to_string(),
            amount: Some(wire::money(self.amount, currency)),
            reason: self.reason.clone(),
            status: status_to_wire(Status::parse(&self.status)) as i32,
            requested_by: self.requested_by.clone(),
            requested_at: self.requested_at.to_rfc3339(),
            decided_by: self.decided_by.clone().unwrap_or_default(),
            decided_at: self.decided_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            decision_note: self.decision_note.clone(),
            parts: self
                .parts
                .0
                .iter()
                .filter_map(|(c, a)| {
                    waiver::parse_component(c).map(|c| proto::types::v1::ComponentAmount {
                        component: wire::component_to_wire(c) as i32,
                        amount: Some(wire::money(*a, currency)),
                    })
                })
                .collect(),
        }
    }
}

fn refused(refusal: Refusal) -> ApiError {
    match refusal {
        Refusal::Invalid(field, why) => ApiError::invalid(field, why),
        Refusal::SamePerson => ApiError::PermissionDenied(
            "the requester of a write-off cannot decide it (R-P12, four eyes); ask another person"
                .to_owned(),
        ),
        other => ApiError::FailedPrecondition(other.to_string()),
    }
}

/// Locks a proposed write-off and its receivable in the caller's scope, checking the
/// caller may decide it.
async fn decidable(
    conn: &mut PgConnection,
    caller: &Caller,
    write_off_id: &str,
) -> Result<(WriteOffRow, store::ReceivableRow), ApiError> {
    let id = wire::uuid("write_off_id", write_off_id)?;
    let Some(row) = store::write_offs::lock(conn, id).await? else {
        return Err(ApiError::NotFound(format!("no write-off with id {id}")));
    };
    kit::auth::owners::require_customer(conn, caller, row.customer_id).await?;
    match Status::parse(&row.status) {
        Some(Status::Proposed) => {}
        _ => {
            return Err(ApiError::FailedPrecondition(format!(
                "write-off {id} is already {}; nothing to decide",
                row.status
            )));
        }
    }
    waiver::decidable(
        waiver::Status::Proposed,
        &row.requested_by,
        caller.subject(),
    )
    .map_err(refused)?;
    let receivable = store::lock_receivable(conn, row.receivable_id)
        .await?
        .ok_or_else(|| {
            ApiError::Unexpected(anyhow::anyhow!("receivable of write-off {id} vanished"))
        })?;
    Ok((row, receivable))
}

/// ApproveWriteOff: books it now, against what is owed now (never more).
pub(crate) async fn approve(
    conn: &mut PgConnection,
    outbox: &Outbox,
    caller: &Caller,
    limits: Limits,
    request: &api::ApproveWriteOffRequest,
) -> Result<api::ApproveWriteOffResponse, ApiError> {
    let (row, receivable) = decidable(conn, caller, &request.write_off_id).await?;
    if row.amount > limits.tolerance {
        return Err(ApiError::FailedPrecondition(format!(
            "{} is more than the write-off tolerance {} (WRITE_OFF_TOLERANCE); reject it and collect the difference",
            row.amount, limits.tolerance
        )));
    }
    if receivable.owed().total().is_zero() {
        return Err(ApiError::FailedPrecondition(
            "nothing is owed on the receivable any more; reject the write-off".to_owned(),
        ));
    }
    let note = request.note.trim();
    let after = book(conn, outbox, &row, &receivable, caller.subject(), note).await?;
    caller.touch("write_off", row.id);
    let booked = store::write_offs::lock(conn, row.id)
        .await?
        .ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("write-off {} vanished", row.id)))?;
    Ok(api::ApproveWriteOffResponse {
        write_off: Some(booked.to_api()),
        owed_after: Some(wire::owed(&after, receivable.currency.trim())),
    })
}

/// RejectWriteOff: the difference stays owed.
pub(crate) async fn reject(
    conn: &mut PgConnection,
    caller: &Caller,
    request: &api::RejectWriteOffRequest,
) -> Result<api::WriteOff, ApiError> {
    let reason = wire::required("reason", &request.reason, 500)?;
    let (row, _) = decidable(conn, caller, &request.write_off_id).await?;
    store::write_offs::decide(
        conn,
        row.id,
        Status::Rejected.as_str(),
        caller.subject(),
        &reason,
        &[],
    )
    .await?;
    caller.touch("write_off", row.id);
    let decided = store::write_offs::lock(conn, row.id)
        .await?
        .ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("write-off {} vanished", row.id)))?;
    Ok(decided.to_api())
}

/// ListWriteOffs: newest first, in the caller's scope.
pub(crate) async fn list(
    conn: &mut PgConnection,
    caller: &Caller,
    request: &api::ListWriteOffsRequest,
) -> Result<api::ListWriteOffsResponse, ApiError> {
    let customer_id = match request.customer_id.trim() {
        "" => None,
        v => Some(wire::uuid("customer_id", v)?),
    };
    if let Some(customer_id) = customer_id {
        kit::auth::owners::require_customer(conn, caller, customer_id).await?;
    }
    let status = match api::WriteOffStatus::try_from(request.status) {
        Ok(api::WriteOffStatus::Unspecified) => None,
        Ok(api::WriteOffStatus::Proposed) => Some(Status::Proposed),
        Ok(api::WriteOffStatus::Booked) => Some(Status::Booked),
        Ok(api::WriteOffStatus::Rejected) => Some(Status::Rejected),
        Err(_) => {
            return Err(ApiError::invalid(
                "status",
                format!("{} is not a write-off status", request.status),
            ));
        }
    };
    let paging = kit::paging::Paging::<Uuid>::parse(
        &format!("contracts.ListWriteOffs {customer_id:?} {}", request.status),
        request.page_size,
        &request.page_token,
    )?;
    let (mode, value) = kit::auth::owners::params(&caller.scope);
    let rows = store::write_offs::list(
        conn,
        &store::write_offs::Filter {
            customer_id,
            status: status.map(Status::as_str),
            scope: (mode, &value),
            after: paging.after().copied(),
            limit: paging.fetch_limit(),
        },
    )
    .await?;
    let (rows, next_page_token) = paging.finish(rows, |r| r.id);
    Ok(api::ListWriteOffsResponse {
        write_offs: rows.iter().map(WriteOffRow::to_api).collect(),
        next_page_token,
    })
}
