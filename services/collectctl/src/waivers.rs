//! `collectctl waivers`: waivers of late fee, interest and collection costs (R-D6, R-D12) —
//! a collector or supervisor proposes, another supervisor approves or rejects (contracts
//! service). The decider is whoever is signed in, never a name on the command line.

use clap::{Args, Subcommand, ValueEnum};
use proto::contracts::v1 as api;
use proto::types::v1::Component;

use crate::cli::Outcome;
use crate::service;

#[derive(Args)]
pub(crate) struct WaiversArgs {
    /// The contracts service (default: $CONTRACTS_URL, else the local stack's port).
    #[arg(long, global = true)]
    contracts: Option<String>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: WaiversCommand,
}

/// What a waiver reduces.
#[derive(Clone, Copy, ValueEnum)]
enum What {
    /// The late fee (R-C4).
    LateFee,
    /// Interest (R-C12).
    Interest,
    /// Collection costs (R-D12).
    Costs,
}

/// A waiver status to filter by.
#[derive(Clone, Copy, ValueEnum)]
enum StatusArg {
    Proposed,
    Approved,
    Rejected,
}

#[derive(Subcommand)]
enum WaiversCommand {
    /// Propose waiving (part of) what is owed of a receivable's late fee, interest or costs.
    Propose {
        /// Receivable id (from `collectctl statement` or ListReceivables).
        receivable_id: String,
        /// What to waive.
        #[arg(long, value_enum)]
        component: What,
        /// The amount, e.g. 120.00 (at most what is owed of it now).
        #[arg(long)]
        amount: String,
        /// Why (e.g. hardship, R-D6); kept with the waiver.
        #[arg(long)]
        reason: String,
    },
    /// Approve a waiver someone else proposed (supervisors): it is booked at once.
    Approve {
        /// Waiver id.
        waiver_id: String,
        /// A note for the record.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Reject a waiver someone else proposed (supervisors).
    Reject {
        /// Waiver id.
        waiver_id: String,
        /// Why, for the record.
        #[arg(long)]
        reason: String,
    },
    /// Waivers newest first: of a customer or receivable, or all you may see.
    List {
        /// Only this customer's.
        #[arg(long)]
        customer: Option<String>,
        /// Only this receivable's.
        #[arg(long)]
        receivable: Option<String>,
        /// Only waivers in this status (e.g. proposed: the approval queue).
        #[arg(long, value_enum)]
        status: Option<StatusArg>,
    },
}

fn component_name(value: i32) -> &'static str {
    match Component::try_from(value) {
        Ok(Component::LateFee) => "late fee",
        Ok(Component::Interest) => "interest",
        Ok(Component::Costs) => "costs",
        Ok(Component::Principal) => "principal",
        _ => "unknown",
    }
}

fn status_name(value: i32) -> &'static str {
    match api::WaiverStatus::try_from(value) {
        Ok(api::WaiverStatus::Proposed) => "proposed",
        Ok(api::WaiverStatus::FirstApproved) => "first_approved",
        Ok(api::WaiverStatus::Approved) => "approved",
        Ok(api::WaiverStatus::Rejected) => "rejected",
        _ => "unknown",
    }
}

fn money(m: Option<&proto::types::v1::Money>) -> String {
    m.map_or_else(String::new, |m| format!("{} {}", m.amount, m.currency))
}

fn to_json(w: &api::Waiver) -> serde_json::Value {
    serde_json::json!({
        "waiver_id": w.waiver_id,
        "receivable_id": w.receivable_id,
        "contract_no": w.contract_no,
        "customer_id": w.customer_id,
        "component": component_name(w.component).replace(' ', "_"),
        "amount": w.amount.as_ref().map(|m| m.amount.clone()),
        "currency": w.amount.as_ref().map(|m| m.currency.clone()),
        "reason": w.reason,
        "status": status_name(w.status),
        "proposed_by": w.proposed_by,
        "proposed_at": w.proposed_at,
        "decided_by": w.decided_by,
        "decided_at": w.decided_at,
        "decision_note": w.decision_note,
        "second_approval_required": w.second_approval_required,
        "first_approved_by": w.first_approved_by,
        "first_approved_at": w.first_approved_at,
    })
}

fn to_text(w: &api::Waiver) -> String {
    let mut line = format!(
        "{}  {:<8}  {} of {} on contract {} (receivable {})\n    proposed {} by {}: {}",
        w.waiver_id,
        status_name(w.status),
        money(w.amount.as_ref()),
        component_name(w.component),
        w.contract_no,
        w.receivable_id,
        w.proposed_at,
        w.proposed_by,
        w.reason
    );
    if !w.first_approved_by.is_empty() {
        line.push_str(&format!(
            "\n    approved once {} by {}",
            w.first_approved_at, w.first_approved_by
        ));
    }
    if w.second_approval_required && w.decided_by.is_empty() {
        line.push_str(
            "\n    above the second-approval amount: a second approver with the risk role decides",
        );
    }
    if !w.decided_by.is_empty() {
        line.push_str(&format!(
            "\n    {} {} by {}{}",
            status_name(w.status),
            w.decided_at,
            w.decided_by,
            if w.decision_note.is_empty() {
                String::new()
            } else {
                format!(": {}", w.decision_note)
            }
        ));
    }
    line
}

pub(crate) fn run(args: WaiversArgs) -> Outcome {
    service::block_on(async move {
        let mut client = service::contracts(args.contracts).await?;
        match args.command {
            WaiversCommand::Propose {
                receivable_id,
                component,
                amount,
                reason,
            } => {
                let component = match component {
                    What::LateFee => Component::LateFee,
                    What::Interest => Component::Interest,
                    What::Costs => Component::Costs,
                };
                let waiver = client
                    .propose_waiver(api::ProposeWaiverRequest {
                        receivable_id,
                        component: component as i32,
                        amount,
                        reason,
                    })
                    .await
                    .map_err(service::status)?
                    .into_inner()
                    .waiver
                    .unwrap_or_default();
                if args.json {
                    return Ok(serde_json::to_string_pretty(&to_json(&waiver))?);
                }
                Ok(format!(
                    "proposed: {}\nanother supervisor approves it with: collectctl waivers approve {}",
                    to_text(&waiver),
                    waiver.waiver_id
                ))
            }
            WaiversCommand::Approve { waiver_id, note } => {
                let approved = client
                    .approve_waiver(api::ApproveWaiverRequest { waiver_id, note })
                    .await
                    .map_err(service::status)?
                    .into_inner();
                let waiver = approved.waiver.unwrap_or_default();
                let owed = approved.owed_after.unwrap_or_default();
                if args.json {
                    let mut json = to_json(&waiver);
                    json["owed_after"] = serde_json::json!({
                        "costs": owed.costs.as_ref().map(|m| m.amount.clone()),
                        "interest": owed.interest.as_ref().map(|m| m.amount.clone()),
                        "late_fee": owed.late_fee.as_ref().map(|m| m.amount.clone()),
                        "principal": owed.principal.as_ref().map(|m| m.amount.clone()),
                        "total": owed.total.as_ref().map(|m| m.amount.clone()),
                    });
                    return Ok(serde_json::to_string_pretty(&json)?);
                }
                Ok(format!(
                    "approved and booked: {}\nstill owed on the receivable: {} (principal {}, late fee {}, interest {}, costs {})",
                    to_text(&waiver),
                    money(owed.total.as_ref()),
                    money(owed.principal.as_ref()),
                    money(owed.late_fee.as_ref()),
                    money(owed.interest.as_ref()),
                    money(owed.costs.as_ref()),
                ))
            }
            WaiversCommand::Reject { waiver_id, reason } => {
                let waiver = client
                    .reject_waiver(api::RejectWaiverRequest { waiver_id, reason })
                    .await
                    .map_err(service::status)?
                    .into_inner()
                    .waiver
                    .unwrap_or_default();
                if args.json {
                    return Ok(serde_json::to_string_pretty(&to_json(&waiver))?);
                }
                Ok(format!("rejected: {}", to_text(&waiver)))
            }
            WaiversCommand::List {
                customer,
                receivable,
                status,
            } => {
                let status = match status {
                    None => api::WaiverStatus::Unspecified,
                    Some(StatusArg::Proposed) => api::WaiverStatus::Proposed,
                    Some(StatusArg::Approved) => api::WaiverStatus::Approved,
                    Some(StatusArg::Rejected) => api::WaiverStatus::Rejected,
                };
                let waivers = service::all_pages(|page_token| {
                    let mut client = client.clone();
                    let request = api::ListWaiversRequest {
                        customer_id: customer.clone().unwrap_or_default(),
                        receivable_id: receivable.clone().unwrap_or_default(),
                        status: status as i32,
                        page_size: 200,
                        page_token,
                    };
                    async move {
                        let page = client.list_waivers(request).await?.into_inner();
                        Ok((page.waivers, page.next_page_token))
                    }
                })
                .await?;
                if args.json {
                    return Ok(serde_json::to_string_pretty(
                        &waivers.iter().map(to_json).collect::<Vec<_>>(),
                    )?);
                }
                if waivers.is_empty() {
                    return Ok("no waivers".to_owned());
                }
                Ok(waivers.iter().map(to_text).collect::<Vec<_>>().join("\n"))
            }
        }
    })
}
