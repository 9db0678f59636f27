//! `collectctl exceptions`: the payments exception queue for finance staff (R-P5): list what
//! waits for a person, with the candidates and their evidence, and decide one (confirm a
//! candidate, or close it with a note). Talks to the payments service over gRPC.

use std::fmt::Write as _;

use clap::{Args, Subcommand};
use proto::payments::v1 as api;
use proto::payments::v1::resolve_exception_request::Action;

use crate::cli::{Failure, Outcome};
use crate::service;

#[derive(Args)]
pub(crate) struct ExceptionsArgs {
    /// The payments service (default: $PAYMENTS_URL, else the local stack's port).
    #[arg(long, global = true)]
    payments: Option<String>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: ExceptionsCommand,
}

#[derive(Subcommand)]
enum ExceptionsCommand {
    /// The open exceptions, oldest first, with candidates and evidence, and how many are
    /// open of each kind.
    List {
        /// Only this kind (e.g. THIRD_PARTY_PAYER).
        #[arg(long, default_value = "")]
        kind: String,
        /// At most this many (1 to 1000; more is lowered to 1000).
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// Continue with the next page: the `next` token a previous page printed, with the
        /// same --kind.
        #[arg(long, default_value = "")]
        after: String,
    },
    /// Decide one exception: confirm a candidate (the payment is applied as it proposes) or
    /// dismiss it with a note.
    Resolve {
        /// Exception id (from `list`).
        exception_id: String,
        /// Apply the payment as candidate N proposes (1 = the first listed).
        #[arg(long, conflicts_with = "dismiss", required_unless_present = "dismiss")]
        confirm: Option<u32>,
        /// Close the exception without applying anything (give --note).
        #[arg(long)]
        dismiss: bool,
        /// Why (required with --dismiss).
        #[arg(long, default_value = "")]
        note: String,
    },
}

pub(crate) fn run(args: ExceptionsArgs) -> Outcome {
    service::block_on(async move {
        let mut client = service::payments(args.payments).await?;
        match args.command {
            ExceptionsCommand::List { kind, limit, after } => {
                let page = client
                    .list_exceptions(api::ListExceptionsRequest {
                        kind: kind.clone(),
                        page_size: limit,
                        page_token: after,
                    })
                    .await
                    .map_err(service::status)?
                    .into_inner();
                if args.json {
                    Ok(serde_json::to_string_pretty(&serde_json::json!({
                        "open_by_kind": page.counts.iter().map(|c| (c.kind.clone(), serde_json::Value::from(c.open))).collect::<serde_json::Map<_, _>>(),
                        "exceptions": page.exceptions.iter().map(exception_json).collect::<Vec<_>>(),
                        "next": page.next_page_token,
                    }))?)
                } else {
                    Ok(exceptions_text(&page, &kind))
                }
            }
            ExceptionsCommand::Resolve {
                exception_id,
                confirm,
                dismiss,
                note,
            } => {
                let action = match confirm {
                    Some(0) => {
                        return Err(Failure::from(anyhow::anyhow!(
                            "--confirm counts from 1 (the first candidate listed)"
                        )));
                    }
                    Some(n) => Action::ConfirmCandidate(n - 1),
                    None => Action::Dismiss(dismiss),
                };
                let done = client
                    .resolve_exception(api::ResolveExceptionRequest {
                        exception_id,
                        action: Some(action),
                        note,
                    })
                    .await
                    .map_err(service::status)?
                    .into_inner();
                if args.json {
                    Ok(serde_json::to_string_pretty(&serde_json::json!({
                        "exception_id": done.exception_id,
                        "resolution": done.resolution,
                        "resolved_by": done.resolved_by,
                        "allocations": done.allocations.iter().map(allocation_json).collect::<Vec<_>>(),
                    }))?)
                } else {
                    let mut out =
                        format!("resolved by {}: {}\n", done.resolved_by, done.resolution);
                    for a in &done.allocations {
                        let _ = writeln!(
                            out,
                            "  proposed to contracts: {} {}",
                            a.receivable_ref,
                            money(a.amount.as_ref())
                        );
                    }
                    Ok(out.trim_end().to_owned())
                }
            }
        }
    })
}

fn money(m: Option<&proto::types::v1::Money>) -> String {
    m.map_or_else(String::new, |m| format!("{} {}", m.amount, m.currency))
}

fn exceptions_text(page: &api::ListExceptionsResponse, kind: &str) -> String {
    let open: u32 = page.counts.iter().map(|c| c.open).sum();
    if open == 0 {
        return "no open exceptions".to_owned();
    }
    let by_kind: Vec<String> = page
        .counts
        .iter()
        .map(|c| format!("{} {}", c.open, c.kind))
        .collect();
    let mut out = format!(
        "{open} open exception(s): {}; {} shown, oldest first\n",
        by_kind.join(", "),
        page.exceptions.len()
    );
    for e in &page.exceptions {
        let about = if e.payment_id.is_empty() {
            e.subject.clone()
        } else {
            format!("payment {}", e.payment_id)
        };
        let _ = writeln!(
            out,
            "\n{}  {}  {}  {about}",
            e.exception_id,
            e.kind,
            money(e.amount.as_ref()),
        );
        if !e.reference.is_empty() {
            let _ = writeln!(out, "  reference: {}", e.reference);
        }
        let _ = writeln!(out, "  why:       {}", e.reason);
        if !e.also.is_empty() {
            let _ = writeln!(out, "  also:      {}", e.also.join(", "));
        }
        let _ = writeln!(out, "  do:        {}", e.suggested_action);
        for (i, c) in e.candidates.iter().enumerate() {
            let _ = writeln!(
                out,
                "  candidate {}: {} ({}), {} points, contracts {}",
                i + 1,
                c.customer_name,
                c.customer_id,
                c.confidence,
                c.contract_nos.join(", ")
            );
            for evidence in &c.evidence {
                let _ = writeln!(out, "      - {evidence}");
            }
            for a in &c.allocations {
                let _ = writeln!(
                    out,
                    "      would allocate {} to {}",
                    money(a.amount.as_ref()),
                    a.receivable_ref
                );
            }
        }
    }
    if !page.next_page_token.is_empty() {
        let _ = writeln!(
            out,
            "\nmore: collectctl exceptions list{} --after {}",
            if kind.is_empty() {
                String::new()
            } else {
                format!(" --kind {kind}")
            },
            page.next_page_token
        );
    }
    out.trim_end().to_owned()
}

fn allocation_json(a: &api::Allocation) -> serde_json::Value {
    serde_json::json!({
        "receivable_ref": a.receivable_ref,
        "receivable_id": a.receivable_id,
        "amount": a.amount.as_ref().map(|m| &m.amount),
        "currency": a.amount.as_ref().map(|m| &m.currency),
        "status": a.status,
    })
}

fn exception_json(e: &api::PaymentException) -> serde_json::Value {
    serde_json::json!({
        "exception_id": e.exception_id,
        "payment_id": e.payment_id,
        "subject": e.subject,
        "kind": e.kind,
        "reason": e.reason,
        "also": e.also,
        "suggested_action": e.suggested_action,
        "created_at": e.created_at,
        "amount": e.amount.as_ref().map(|m| &m.amount),
        "currency": e.amount.as_ref().map(|m| &m.currency),
        "reference": e.reference,
        "candidates": e.candidates.iter().map(|c| serde_json::json!({
            "customer_id": c.customer_id,
            "customer_name": c.customer_name,
            "contract_nos": c.contract_nos,
            "confidence": c.confidence,
            "evidence": c.evidence,
            "allocations": c.allocations.iter().map(allocation_json).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}
