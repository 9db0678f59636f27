//! `collectctl write-offs`: small differences written off (R-P12) — those booked by policy
//! and those waiting for a person, whom this approves or rejects (contracts service). The
//! decider is whoever is signed in.

use clap::{Args, Subcommand, ValueEnum};
use proto::contracts::v1 as api;
use proto::types::v1::Component;

use crate::cli::Outcome;
use crate::service;

#[derive(Args)]
pub(crate) struct WriteOffsArgs {
    /// The contracts service (default: $CONTRACTS_URL, else the local stack's port).
    #[arg(long, global = true)]
    contracts: Option<String>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: WriteOffsCommand,
}

/// A write-off status to filter by.
#[derive(Clone, Copy, ValueEnum)]
enum StatusArg {
    /// Waiting for a person (above the approval threshold).
    Proposed,
    Booked,
    Rejected,
}

#[derive(Subcommand)]
enum WriteOffsCommand {
    /// Write-offs newest first: of one customer, or all you may see.
    List {
        /// Only this customer's.
        #[arg(long)]
        customer: Option<String>,
        /// Only in this status (proposed: the approval queue).
        #[arg(long, value_enum)]
        status: Option<StatusArg>,
    },
    /// Approve a proposed write-off (finance, supervisors): booked at once.
    Approve {
        /// Write-off id.
        write_off_id: String,
        /// A note for the record.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Reject a proposed write-off: the difference stays owed.
    Reject {
        /// Write-off id.
        write_off_id: String,
        /// Why, for the record.
        #[arg(long)]
        reason: String,
    },
}

fn status_name(value: i32) -> &'static str {
    match api::WriteOffStatus::try_from(value) {
        Ok(api::WriteOffStatus::Proposed) => "proposed",
        Ok(api::WriteOffStatus::Booked) => "booked",
        Ok(api::WriteOffStatus::Rejected) => "rejected",
        _ => "unknown",
    }
}

fn component_name(value: i32) -> &'static str {
    match Component::try_from(value) {
        Ok(Component::LateFee) => "late_fee",
        Ok(Component::Interest) => "interest",
        Ok(Component::Costs) => "costs",
        Ok(Component::Principal) => "principal",
        _ => "unknown",
    }
}

fn to_json(w: &api::WriteOff) -> serde_json::Value {
    serde_json::json!({
        "write_off_id": w.write_off_id,
        "payment_id": w.payment_id,
        "receivable_id": w.receivable_id,
        "contract_no": w.contract_no,
        "customer_id": w.customer_id,
        "amount": w.amount.as_ref().map(|m| m.amount.clone()),
        "currency": w.amount.as_ref().map(|m| m.currency.clone()),
        "reason": w.reason,
        "status": status_name(w.status),
        "requested_by": w.requested_by,
        "requested_at": w.requested_at,
        "decided_by": w.decided_by,
        "decided_at": w.decided_at,
        "decision_note": w.decision_note,
        "parts": w.parts.iter().map(|p| serde_json::json!({
            "component": component_name(p.component),
            "amount": p.amount.as_ref().map(|m| m.amount.clone()),
        })).collect::<Vec<_>>(),
    })
}

fn to_text(w: &api::WriteOff) -> String {
    let amount = w
        .amount
        .as_ref()
        .map_or_else(String::new, |m| format!("{} {}", m.amount, m.currency));
    let mut line = format!(
        "{}  {:<8}  {amount} on contract {} (receivable {}), payment {}\n    {}",
        w.write_off_id,
        status_name(w.status),
        w.contract_no,
        w.receivable_id,
        w.payment_id,
        w.reason
    );
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
    } else {
        line.push_str(&format!(
            "\n    waiting for approval: collectctl write-offs approve {}",
            w.write_off_id
        ));
    }
    line
}

pub(crate) fn run(args: WriteOffsArgs) -> Outcome {
    service::block_on(async move {
        let mut client = service::contracts(args.contracts).await?;
        match args.command {
            WriteOffsCommand::List { customer, status } => {
                let status = match status {
                    None => api::WriteOffStatus::Unspecified,
                    Some(StatusArg::Proposed) => api::WriteOffStatus::Proposed,
                    Some(StatusArg::Booked) => api::WriteOffStatus::Booked,
                    Some(StatusArg::Rejected) => api::WriteOffStatus::Rejected,
                };
                let all = service::all_pages(|page_token| {
                    let mut client = client.clone();
                    let request = api::ListWriteOffsRequest {
                        customer_id: customer.clone().unwrap_or_default(),
                        status: status as i32,
                        page_size: 200,
                        page_token,
                    };
                    async move {
                        let page = client.list_write_offs(request).await?.into_inner();
                        Ok((page.write_offs, page.next_page_token))
                    }
                })
                .await?;
                if args.json {
                    return Ok(serde_json::to_string_pretty(
                        &all.iter().map(to_json).collect::<Vec<_>>(),
                    )?);
                }
                if all.is_empty() {
                    return Ok("no write-offs".to_owned());
                }
                Ok(all.iter().map(to_text).collect::<Vec<_>>().join("\n"))
            }
            WriteOffsCommand::Approve { write_off_id, note } => {
                let approved = client
                    .approve_write_off(api::ApproveWriteOffRequest { write_off_id, note })
                    .await
                    .map_err(service::status)?
                    .into_inner();
                let w = approved.write_off.unwrap_or_default();
                if args.json {
                    return Ok(serde_json::to_string_pretty(&to_json(&w))?);
                }
                let left = approved
                    .owed_after
                    .and_then(|o| o.total)
                    .map_or_else(String::new, |m| format!("{} {}", m.amount, m.currency));
                Ok(format!(
                    "booked: {}\nstill owed on the receivable: {left}",
                    to_text(&w)
                ))
            }
            WriteOffsCommand::Reject {
                write_off_id,
                reason,
            } => {
                let w = client
                    .reject_write_off(api::RejectWriteOffRequest {
                        write_off_id,
                        reason,
                    })
                    .await
                    .map_err(service::status)?
                    .into_inner()
                    .write_off
                    .unwrap_or_default();
                if args.json {
                    return Ok(serde_json::to_string_pretty(&to_json(&w))?);
                }
                Ok(format!("rejected: {}", to_text(&w)))
            }
        }
    })
}
