//! `collectctl refunds`: refunds of a payment's unapplied surplus with separation of duties
//! (R-P9): one person requests, another approves or rejects; the requester may cancel their
//! own request. Who acts is the token's subject. Talks to the payments service over gRPC.

use clap::{Args, Subcommand};
use sha2::{Digest, Sha256};

use proto::payments::v1 as api;

use crate::cli::{Failure, Outcome};
use crate::service;

#[derive(Args)]
pub(crate) struct RefundsArgs {
    /// The payments service (default: $PAYMENTS_URL, else the local stack's port).
    #[arg(long, global = true)]
    payments: Option<String>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: RefundsCommand,
}

#[derive(Subcommand)]
enum RefundsCommand {
    /// Ask to refund (part of) a payment's unapplied surplus; another person decides (R-P9).
    Request {
        /// Payment id (from the UNAPPLIED_SURPLUS exception, `collectctl exceptions list`).
        payment_id: String,
        /// Amount, e.g. 12.34 (at most what is left of the surplus).
        #[arg(long)]
        amount: String,
        /// The payment's currency.
        #[arg(long, default_value = "CNY")]
        currency: String,
        /// Why, for the record.
        #[arg(long)]
        reason: String,
        /// Client idempotency key. Default: derived from the payment, amount, currency and
        /// reason, so running the same command again is recognised as a repeat; give a new
        /// key for a second, identical refund.
        #[arg(long)]
        idempotency_key: Option<String>,
    },
    /// Approve a requested refund (not your own, R-P9): it is booked and published.
    Approve {
        /// Refund id (from `refunds list`).
        refund_id: String,
        /// Optional note recorded with the approval.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Reject a requested refund (not your own, R-P9), with a reason.
    Reject {
        /// Refund id (from `refunds list`).
        refund_id: String,
        /// Why, for the record.
        #[arg(long)]
        reason: String,
    },
    /// Withdraw your own requested refund.
    Cancel {
        /// Refund id (from `refunds list`).
        refund_id: String,
        /// Why, for the record.
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Refunds, oldest request first.
    List {
        /// Only this status: requested, approved, rejected or cancelled.
        #[arg(long)]
        status: Option<String>,
        /// Only this payment's refunds.
        #[arg(long, default_value = "")]
        payment: String,
        /// At most this many (1 to 1000).
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Continue with the next page: the `next` token a previous page printed.
        #[arg(long, default_value = "")]
        after: String,
    },
}

fn status_name(value: i32) -> &'static str {
    match api::RefundStatus::try_from(value) {
        Ok(api::RefundStatus::Requested) => "requested",
        Ok(api::RefundStatus::Approved) => "approved",
        Ok(api::RefundStatus::Rejected) => "rejected",
        Ok(api::RefundStatus::Cancelled) => "cancelled",
        _ => "unknown",
    }
}

fn parse_status(value: &str) -> Result<api::RefundStatus, Failure> {
    match value.trim().to_ascii_lowercase().as_str() {
        "requested" => Ok(api::RefundStatus::Requested),
        "approved" => Ok(api::RefundStatus::Approved),
        "rejected" => Ok(api::RefundStatus::Rejected),
        "cancelled" | "canceled" => Ok(api::RefundStatus::Cancelled),
        other => Err(Failure::with_hint(
            anyhow::anyhow!("--status {other:?} is not a refund status"),
            "give requested, approved, rejected or cancelled, or leave --status out for all",
        )),
    }
}

fn money(m: Option<&proto::types::v1::Money>) -> String {
    m.map(|m| format!("{} {}", m.amount, m.currency))
        .unwrap_or_default()
}

fn to_json(r: &api::Refund) -> serde_json::Value {
    serde_json::json!({
        "refund_id": r.refund_id,
        "payment_id": r.payment_id,
        "customer_id": r.customer_id,
        "amount": r.amount.as_ref().map(|m| m.amount.clone()),
        "currency": r.amount.as_ref().map(|m| m.currency.clone()),
        "status": status_name(r.status),
        "reason": r.reason,
        "requested_by": r.requested_by,
        "requested_at": r.requested_at,
        "decided_by": r.decided_by,
        "decided_at": r.decided_at,
        "decision_reason": r.decision_reason,
        "payer_account_masked": r.payer_account_masked,
    })
}

fn to_text(r: &api::Refund) -> String {
    let mut line = format!(
        "{}  {:<9}  {}  payment {}  to {}\n    requested {} by {}: {}",
        r.refund_id,
        status_name(r.status),
        money(r.amount.as_ref()),
        r.payment_id,
        if r.payer_account_masked.is_empty() {
            "(no payer account on the payment)"
        } else {
            &r.payer_account_masked
        },
        r.requested_at,
        r.requested_by,
        r.reason
    );
    if !r.decided_by.is_empty() {
        line.push_str(&format!(
            "\n    {} {} by {}{}",
            status_name(r.status),
            r.decided_at,
            r.decided_by,
            if r.decision_reason.is_empty() {
                String::new()
            } else {
                format!(": {}", r.decision_reason)
            }
        ));
    }
    line
}

/// The default idempotency key of a request: the same command again is a repeat.
fn default_key(payment_id: &str, amount: &str, currency: &str, reason: &str) -> String {
    let digest = Sha256::digest(
        format!(
            "{}\n{}\n{}\n{}",
            payment_id.trim(),
            amount.trim(),
            currency.trim().to_ascii_uppercase(),
            reason.trim()
        )
        .as_bytes(),
    );
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("collectctl-refund-{hex}")
}

/// A gRPC error with what to do next about a refund.
fn refused(status: tonic::Status) -> Failure {
    let hint = match status.code() {
        tonic::Code::PermissionDenied if status.message().contains("R-P9") => {
            "ask another person (a cashier, a supervisor or an admin) to approve or reject it"
        }
        tonic::Code::PermissionDenied if status.message().contains("cancel") => {
            "only the requester cancels; approve or reject it instead"
        }
        tonic::Code::NotFound => {
            "check the id: `collectctl refunds list` for refunds, `collectctl exceptions list --kind UNAPPLIED_SURPLUS` for payments with a surplus"
        }
        tonic::Code::FailedPrecondition => {
            "list the refunds again (`collectctl refunds list --payment PAYMENT_ID`); it changed since you looked"
        }
        _ => return service::status(status),
    };
    Failure::with_hint(
        anyhow::anyhow!("{:?}: {}", status.code(), status.message()),
        hint,
    )
}

pub(crate) fn run(args: RefundsArgs) -> Outcome {
    service::block_on(async move {
        let mut client = service::payments(args.payments).await?;
        match args.command {
            RefundsCommand::Request {
                payment_id,
                amount,
                currency,
                reason,
                idempotency_key,
            } => {
                let idempotency_key = idempotency_key
                    .unwrap_or_else(|| default_key(&payment_id, &amount, &currency, &reason));
                let done = client
                    .request_refund(api::RequestRefundRequest {
                        idempotency_key,
                        payment_id,
                        amount: Some(proto::types::v1::Money {
                            amount,
                            currency: currency.trim().to_ascii_uppercase(),
                        }),
                        reason,
                    })
                    .await
                    .map_err(refused)?
                    .into_inner();
                let refund = done.refund.unwrap_or_default();
                if args.json {
                    let mut json = to_json(&refund);
                    json["refundable_left"] =
                        serde_json::json!(done.refundable_left.as_ref().map(|m| m.amount.clone()));
                    return Ok(serde_json::to_string_pretty(&json)?);
                }
                let left = done.refundable_left.as_ref().map_or_else(
                    || "(a repeat: the first request is shown)".to_owned(),
                    |m| format!("{} {} left to request", m.amount, m.currency),
                );
                Ok(format!(
                    "requested: {}\n{left}\nanother person approves it (R-P9): collectctl refunds approve {}",
                    to_text(&refund),
                    refund.refund_id
                ))
            }
            RefundsCommand::Approve { refund_id, note } => {
                let done = client
                    .approve_refund(api::ApproveRefundRequest { refund_id, note })
                    .await
                    .map_err(refused)?
                    .into_inner();
                let refund = done.refund.unwrap_or_default();
                if args.json {
                    let mut json = to_json(&refund);
                    json["unapplied_left"] =
                        serde_json::json!(done.unapplied_left.as_ref().map(|m| m.amount.clone()));
                    json["resolved_exception_ids"] = serde_json::json!(done.resolved_exception_ids);
                    return Ok(serde_json::to_string_pretty(&json)?);
                }
                let mut out = format!(
                    "approved and booked: {}\n{} stays unapplied",
                    to_text(&refund),
                    money(done.unapplied_left.as_ref())
                );
                for id in &done.resolved_exception_ids {
                    out.push_str(&format!("\nexception {id} resolved: refunded"));
                }
                Ok(out)
            }
            RefundsCommand::Reject { refund_id, reason } => {
                let refund = client
                    .reject_refund(api::RejectRefundRequest { refund_id, reason })
                    .await
                    .map_err(refused)?
                    .into_inner()
                    .refund
                    .unwrap_or_default();
                if args.json {
                    return Ok(serde_json::to_string_pretty(&to_json(&refund))?);
                }
                Ok(format!("rejected: {}", to_text(&refund)))
            }
            RefundsCommand::Cancel { refund_id, reason } => {
                let refund = client
                    .cancel_refund(api::CancelRefundRequest { refund_id, reason })
                    .await
                    .map_err(refused)?
                    .into_inner()
                    .refund
                    .unwrap_or_default();
                if args.json {
                    return Ok(serde_json::to_string_pretty(&to_json(&refund))?);
                }
                Ok(format!("cancelled: {}", to_text(&refund)))
            }
            RefundsCommand::List {
                status,
                payment,
                limit,
                after,
            } => {
                let status = status.as_deref().map(parse_status).transpose()?;
                let page = client
                    .list_refunds(api::ListRefundsRequest {
                        status: status.map_or(0, |s| s as i32),
                        payment_id: payment,
                        page_size: limit,
                        page_token: after,
                    })
                    .await
                    .map_err(refused)?
                    .into_inner();
                if args.json {
                    return Ok(serde_json::to_string_pretty(&serde_json::json!({
                        "refunds": page.refunds.iter().map(to_json).collect::<Vec<_>>(),
                        "next": page.next_page_token,
                    }))?);
                }
                let mut out = if page.refunds.is_empty() {
                    "no refunds".to_owned()
                } else {
                    page.refunds
                        .iter()
                        .map(to_text)
                        .collect::<Vec<_>>()
                        .join("\n")
                };
                if !page.next_page_token.is_empty() {
                    out.push_str(&format!(
                        "\nmore: collectctl refunds list --after {} (same filters)",
                        page.next_page_token
                    ));
                }
                Ok(out)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_key_repeats_for_the_same_request_only() {
        let a = default_key("p", "12.34", "cny", "overpaid");
        assert_eq!(a, default_key(" p", "12.34", "CNY", "overpaid "));
        assert_ne!(a, default_key("p", "12.35", "CNY", "overpaid"));
        assert!(a.len() <= 200);
    }

    #[test]
    fn statuses_parse_and_an_unknown_one_says_what_to_give() {
        assert_eq!(
            parse_status("Requested").ok(),
            Some(api::RefundStatus::Requested)
        );
        assert_eq!(status_name(api::RefundStatus::Approved as i32), "approved");
        assert!(parse_status("paid").is_err());
    }
}
