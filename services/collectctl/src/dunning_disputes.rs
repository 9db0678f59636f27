//! `collectctl dunning disputes`: a debtor disputes named items (R-D8; issue 14 item 4):
//! dunning passes them by, and the ticket waits for a response within the SLA. Open one,
//! resolve one (rejected: dunning resumes; upheld: the items leave dunning), list a debtor's.

use clap::{Args, Subcommand, ValueEnum};
use proto::dunning::v1 as api;

use crate::cli::{Hint as _, Outcome};
use crate::dunning_names::{Conn, default_key, refused};
use crate::service;

#[derive(Args)]
pub(crate) struct DisputesArgs {
    #[command(flatten)]
    conn: Conn,
    #[command(subcommand)]
    command: DisputesCommand,
}

/// How a dispute ends.
#[derive(Clone, Copy, ValueEnum)]
enum Resolution {
    /// The debtor was wrong: dunning resumes for the items.
    Rejected,
    /// The debtor was right: the items leave dunning (book the waiver or credit in contracts).
    Upheld,
}

#[derive(Subcommand)]
enum DisputesCommand {
    /// Open a dispute on named items of the debtor's case.
    Open {
        /// Customer id.
        customer_id: String,
        /// A disputed receivable (repeat for several).
        #[arg(long = "item", value_name = "RECEIVABLE_ID", required = true)]
        items: Vec<String>,
        /// What the debtor says.
        #[arg(long)]
        reason: String,
        /// Client idempotency key. Default: derived from the arguments.
        #[arg(long, value_name = "KEY")]
        idempotency_key: Option<String>,
    },
    /// Resolve a dispute, once.
    Resolve {
        /// Dispute id.
        dispute_id: String,
        /// rejected or upheld.
        #[arg(long, value_enum)]
        resolution: Resolution,
        /// Why (recorded with your name).
        #[arg(long)]
        note: String,
        /// Upheld only: what the debtor is not to pay, as RECEIVABLE_ID:COMPONENT=AMOUNT
        /// (COMPONENT principal for a credit, or late_fee, interest, costs for a waiver);
        /// repeat for several. Contracts proposes each in your name for another person to
        /// approve.
        #[arg(long, value_name = "RECEIVABLE_ID:COMPONENT=AMOUNT")]
        relief: Vec<String>,
    },
    /// A debtor's disputes, newest first.
    List {
        /// Customer id.
        customer_id: String,
    },
}

fn status_name(status: i32) -> &'static str {
    match api::DisputeStatus::try_from(status) {
        Ok(api::DisputeStatus::Open) => "open",
        Ok(api::DisputeStatus::Rejected) => "rejected",
        Ok(api::DisputeStatus::Upheld) => "upheld",
        _ => "unknown",
    }
}

fn to_json(d: &api::Dispute) -> serde_json::Value {
    serde_json::json!({
        "dispute_id": d.dispute_id,
        "customer_id": d.customer_id,
        "case_id": d.case_id,
        "receivable_ids": d.receivable_ids,
        "reason": d.reason,
        "status": status_name(d.status),
        "opened_at": d.opened_at,
        "deadline": d.deadline,
        "sla_hours": d.sla_hours,
        "breached_at": d.breached_at,
        "assignee": d.assignee,
        "opened_by": d.opened_by,
        "resolved_by": d.resolved_by,
        "resolved_at": d.resolved_at,
        "resolution_note": d.resolution_note,
    })
}

fn to_text(d: &api::Dispute) -> String {
    let mut out = format!(
        "dispute {}  {}  on {} item(s) of customer {}: {}\n    assigned to {}; respond by {} ({} h){}",
        d.dispute_id,
        status_name(d.status),
        d.receivable_ids.len(),
        d.customer_id,
        d.reason,
        d.assignee,
        d.deadline,
        d.sla_hours,
        if d.breached_at.is_empty() {
            String::new()
        } else {
            format!("; SLA BREACHED at {}", d.breached_at)
        }
    );
    if !d.resolved_by.is_empty() {
        out.push_str(&format!(
            "\n    {} by {} at {}: {}",
            status_name(d.status),
            d.resolved_by,
            d.resolved_at,
            d.resolution_note
        ));
    }
    out
}

/// One relief line: `RECEIVABLE_ID:COMPONENT=AMOUNT`.
fn parse_relief(text: &str) -> Result<api::DisputeRelief, String> {
    use proto::types::v1::Component;
    let bad = || {
        format!("--relief {text:?}: give RECEIVABLE_ID:COMPONENT=AMOUNT, e.g. <id>:principal=80.00")
    };
    let (item, rest) = text.split_once(':').ok_or_else(bad)?;
    let (component, amount) = rest.split_once('=').ok_or_else(bad)?;
    let component = match component.trim() {
        "principal" => Component::Principal,
        "late_fee" => Component::LateFee,
        "interest" => Component::Interest,
        "costs" => Component::Costs,
        other => {
            return Err(format!(
                "--relief {text:?}: {other:?} is not principal, late_fee, interest or costs"
            ));
        }
    };
    Ok(api::DisputeRelief {
        receivable_id: item.trim().to_owned(),
        component: component as i32,
        amount: amount.trim().to_owned(),
    })
}

pub(crate) fn run(args: DisputesArgs) -> Outcome {
    let json = args.conn.json;
    service::block_on(async move {
        let mut client = service::dunning(args.conn.dunning).await?;
        let dispute = match args.command {
            DisputesCommand::Open {
                customer_id,
                items,
                reason,
                idempotency_key,
            } => {
                let mut parts: Vec<&str> = vec![&customer_id, &reason];
                parts.extend(items.iter().map(String::as_str));
                let key = idempotency_key.unwrap_or_else(|| default_key("dispute", &parts));
                client
                    .open_dispute(api::OpenDisputeRequest {
                        idempotency_key: key,
                        customer_id,
                        receivable_ids: items,
                        reason,
                    })
                    .await
                    .map_err(refused)?
                    .into_inner()
                    .dispute
            }
            DisputesCommand::Resolve {
                dispute_id,
                resolution,
                note,
                relief,
            } => {
                let relief = relief
                    .iter()
                    .map(|text| parse_relief(text))
                    .collect::<Result<Vec<_>, String>>()
                    .map_err(|e| anyhow::anyhow!(e))
                    .hint("write each line as --relief <receivable id>:principal=80.00")?;
                client
                    .resolve_dispute(api::ResolveDisputeRequest {
                        dispute_id,
                        resolution: match resolution {
                            Resolution::Rejected => api::DisputeStatus::Rejected,
                            Resolution::Upheld => api::DisputeStatus::Upheld,
                        } as i32,
                        note,
                        relief,
                    })
                    .await
                    .map_err(refused)?
                    .into_inner()
                    .dispute
            }
            DisputesCommand::List { customer_id } => {
                let disputes = client
                    .list_disputes(api::ListDisputesRequest { customer_id })
                    .await
                    .map_err(refused)?
                    .into_inner()
                    .disputes;
                if json {
                    return Ok(serde_json::to_string_pretty(
                        &disputes.iter().map(to_json).collect::<Vec<_>>(),
                    )?);
                }
                if disputes.is_empty() {
                    return Ok("no disputes".to_owned());
                }
                return Ok(disputes.iter().map(to_text).collect::<Vec<_>>().join("\n"));
            }
        };
        let dispute = dispute.unwrap_or_default();
        if json {
            return Ok(serde_json::to_string_pretty(&to_json(&dispute))?);
        }
        Ok(to_text(&dispute))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relief_lines_parse_and_a_bad_one_is_named() {
        let line = parse_relief("R1:principal=80.00").unwrap_or_default();
        assert_eq!(
            (
                line.receivable_id.as_str(),
                line.component,
                line.amount.as_str()
            ),
            ("R1", proto::types::v1::Component::Principal as i32, "80.00")
        );
        let err = parse_relief("R1:fee=1").err().unwrap_or_default();
        assert!(err.contains("\"fee\" is not principal"), "{err}");
        assert!(parse_relief("R1=80").is_err());
    }

    #[test]
    fn a_breached_dispute_says_so_and_who_resolved_it() {
        let d = api::Dispute {
            dispute_id: "D1".into(),
            customer_id: "C1".into(),
            receivable_ids: vec!["R1".into()],
            reason: "水表读数有误".into(),
            status: api::DisputeStatus::Rejected as i32,
            deadline: "2026-12-06T16:00:00+00:00".into(),
            sla_hours: 48,
            breached_at: "2026-12-06T16:00:00+00:00".into(),
            assignee: "li.na".into(),
            resolved_by: "li.na".into(),
            resolved_at: "2026-12-07T09:00:00+00:00".into(),
            resolution_note: "meter checked".into(),
            ..Default::default()
        };
        let text = to_text(&d);
        assert!(
            text.starts_with("dispute D1  rejected  on 1 item(s) of customer C1: 水表读数有误"),
            "{text}"
        );
        assert!(
            text.contains("SLA BREACHED at 2026-12-06T16:00:00+00:00"),
            "{text}"
        );
        assert!(text.contains("rejected by li.na at 2026-12-07T09:00:00+00:00: meter checked"));
        assert_eq!(to_json(&d)["status"], "rejected");
    }
}
