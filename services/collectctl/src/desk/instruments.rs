//! Instruments that are not money yet (R-P3): acknowledgments of cheques, drafts, bills
//! and slips, bounces; wallet and card settlement batches and what is still unreconciled
//! (R-P7).

use clap::{Subcommand, ValueEnum};

use proto::payments::v1 as api;
use proto::types::v1::Money;

use super::{derived_id, json, money, page, refused, shown};
use crate::cli::{Failure, Outcome};
use crate::service::Authed;

type Client = api::payments_service_client::PaymentsServiceClient<Authed>;

#[derive(Clone, Copy, ValueEnum)]
pub(super) enum Kind {
    Cheque,
    Draft,
    Bill,
    Slip,
}

#[derive(Subcommand)]
pub(super) enum InstrumentCommand {
    /// Acknowledge a cheque, draft, acceptance bill or transfer slip (收条): not money until
    /// the bank confirms it (R-P3).
    Acknowledge {
        #[arg(long)]
        project: String,
        #[arg(long, value_enum)]
        kind: Kind,
        /// Cheque, draft or bill number; the slip's bank reference.
        #[arg(long)]
        number: String,
        #[arg(long)]
        drawer: String,
        #[arg(long, default_value = "")]
        bank: String,
        #[arg(long)]
        amount: String,
        #[arg(long, default_value = "CNY")]
        currency: String,
        /// What it pays: the contract number and installment.
        #[arg(long = "for")]
        reference: String,
        /// The account it is presented to.
        #[arg(long)]
        deposit_account: String,
        /// Acceptance bills: issue and due dates.
        #[arg(long, default_value = "")]
        issued: String,
        #[arg(long, default_value = "")]
        due: String,
        /// Accept a bill over 90 days with the fund-occupation fee (R-C10).
        #[arg(long)]
        accept_fee: bool,
        #[arg(long)]
        request_id: Option<String>,
    },
    /// The bank returned an instrument unpaid.
    Bounce {
        acknowledgment_id: String,
        #[arg(long)]
        reason: String,
    },
    /// Acknowledgments, oldest first.
    Acknowledgments {
        #[arg(long, default_value = "")]
        project: String,
        /// pending, cleared or bounced.
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
        #[arg(long, default_value = "")]
        after: String,
    },
    /// Wallet and card settlement batches: gross, fees, net and the bank credit (R-P7).
    Batches {
        /// Only those the bank has not credited exactly yet.
        #[arg(long)]
        open: bool,
        #[arg(long, default_value_t = 100)]
        limit: u32,
        #[arg(long, default_value = "")]
        after: String,
    },
    /// Payments still not reconciled this many minutes after they arrived (R-P7).
    Unreconciled {
        #[arg(long, default_value_t = 120)]
        minutes: u32,
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
}

pub(super) async fn run(client: &mut Client, as_json: bool, command: InstrumentCommand) -> Outcome {
    match command {
        InstrumentCommand::Acknowledge {
            project,
            kind,
            number,
            drawer,
            bank,
            amount,
            currency,
            reference,
            deposit_account,
            issued,
            due,
            accept_fee,
            request_id,
        } => {
            let request_id = request_id
                .unwrap_or_else(|| derived_id("ack", &[&project, &number, &amount, &currency]));
            let kind = match kind {
                Kind::Cheque => proto::types::v1::InstrumentKind::Cheque,
                Kind::Draft => proto::types::v1::InstrumentKind::BankDraft,
                Kind::Bill => proto::types::v1::InstrumentKind::AcceptanceBill,
                Kind::Slip => proto::types::v1::InstrumentKind::TransferSlip,
            };
            let done = client
                .record_acknowledgment(api::RecordAcknowledgmentRequest {
                    request_id,
                    project,
                    kind: kind as i32,
                    instrument_no: number,
                    drawer,
                    drawer_bank: bank,
                    amount: money(&amount, &currency),
                    reference,
                    issue_date: issued,
                    due_date: due,
                    accept_occupation_fee: accept_fee,
                    deposit_account,
                })
                .await
                .map_err(refused)?
                .into_inner();
            let ack = done.acknowledgment.unwrap_or_default();
            if as_json {
                let mut value = ack_json(&ack);
                value["repeat"] = serde_json::json!(done.repeat);
                return json(&value);
            }
            Ok(format!(
                "{}{}\nnot money yet: dunning goes on until the bank shows it cleared (R-P3)\nprint it: collectctl desk print {}",
                if done.repeat {
                    "already recorded: "
                } else {
                    "acknowledged: "
                },
                ack_text(&ack),
                ack.acknowledgment_id
            ))
        }
        InstrumentCommand::Bounce {
            acknowledgment_id,
            reason,
        } => {
            let ack = client
                .record_bounce(api::RecordBounceRequest {
                    acknowledgment_id,
                    reason,
                })
                .await
                .map_err(refused)?
                .into_inner()
                .acknowledgment
                .unwrap_or_default();
            if as_json {
                return json(&ack_json(&ack));
            }
            Ok(format!(
                "bounced: {}\nthe exception queue has it: collectctl exceptions list --kind INSTRUMENT_BOUNCED",
                ack_text(&ack)
            ))
        }
        InstrumentCommand::Acknowledgments {
            project,
            status,
            limit,
            after,
        } => {
            let status = status.as_deref().map(parse_ack_status).transpose()?;
            let listed = client
                .list_acknowledgments(api::ListAcknowledgmentsRequest {
                    project,
                    status: status.map_or(0, |s| s as i32),
                    page_size: limit,
                    page_token: after,
                })
                .await
                .map_err(refused)?
                .into_inner();
            page(
                as_json,
                "acknowledgments",
                &listed.acknowledgments,
                &listed.next_page_token,
                ack_json,
                ack_text,
            )
        }
        InstrumentCommand::Batches { open, limit, after } => {
            let page = client
                .list_settlement_batches(api::ListSettlementBatchesRequest {
                    unreconciled_only: open,
                    page_size: limit,
                    page_token: after,
                })
                .await
                .map_err(refused)?
                .into_inner();
            if as_json {
                let amount = |m: &Option<Money>| m.as_ref().map(|m| m.amount.clone());
                let rows: Vec<_> = page
                    .batches
                    .iter()
                    .map(|b| {
                        serde_json::json!({
                            "batch_id": b.batch_id,
                            "channel": b.channel,
                            "batch": b.batch,
                            "payments": b.payments,
                            "refunds": b.refunds,
                            "gross": amount(&b.gross),
                            "fee": amount(&b.fee),
                            "net": amount(&b.net),
                            "currency": b.net.as_ref().map(|m| m.currency.clone()),
                            "bank_amount": amount(&b.bank_amount),
                            "difference": amount(&b.difference),
                            "reconciled": b.reconciled,
                            "booked_payments": b.booked_payments,
                        })
                    })
                    .collect();
                return json(&serde_json::json!({ "batches": rows, "next": page.next_page_token }));
            }
            if page.batches.is_empty() {
                return Ok("no settlement batches".to_owned());
            }
            let mut out = String::new();
            for b in &page.batches {
                out.push_str(&format!(
                    "{} {}  {} payment(s), {} refund(s)  gross {}  fee {}  net {}  — {}\n",
                    b.channel,
                    b.batch,
                    b.payments,
                    b.refunds,
                    shown(b.gross.as_ref()),
                    shown(b.fee.as_ref()),
                    shown(b.net.as_ref()),
                    match (&b.bank_amount, b.reconciled) {
                        (_, true) => "the bank credited exactly the net".to_owned(),
                        (Some(a), false) => format!(
                            "the bank credited {} (difference {}): see the exception queue",
                            shown(Some(a)),
                            shown(b.difference.as_ref())
                        ),
                        (None, false) => "waiting for the bank's credit".to_owned(),
                    }
                ));
            }
            if !page.next_page_token.is_empty() {
                out.push_str(&format!(
                    "more: collectctl desk batches --after {}",
                    page.next_page_token
                ));
            }
            Ok(out.trim_end().to_owned())
        }
        InstrumentCommand::Unreconciled { minutes, limit } => {
            let page = client
                .list_unreconciled(api::ListUnreconciledRequest {
                    max_age_minutes: minutes,
                    page_size: limit,
                })
                .await
                .map_err(refused)?
                .into_inner();
            if as_json {
                let rows: Vec<_> = page
                    .payments
                    .iter()
                    .map(|u| {
                        let p = u.payment.clone().unwrap_or_default();
                        serde_json::json!({
                            "payment_id": p.payment_id,
                            "amount": p.amount.as_ref().map(|m| m.amount.clone()),
                            "currency": p.amount.as_ref().map(|m| m.currency.clone()),
                            "reference": p.reference,
                            "arrived_at": u.arrived_at,
                            "age_minutes": u.age_minutes,
                            "waiting_for": u.waiting_for,
                        })
                    })
                    .collect();
                return json(&serde_json::json!({ "total": page.total, "payments": rows }));
            }
            if page.total == 0 {
                return Ok(format!(
                    "nothing waits longer than {minutes} minutes: finance is within R-P7"
                ));
            }
            let mut out = format!(
                "{} payment(s) not reconciled {minutes} minutes after arrival (R-P7), oldest first:",
                page.total
            );
            for u in &page.payments {
                let p = u.payment.clone().unwrap_or_default();
                out.push_str(&format!(
                    "\n  {}  {:>14}  {} min  {}  — waiting for {}",
                    p.payment_id,
                    shown(p.amount.as_ref()),
                    u.age_minutes,
                    p.reference,
                    u.waiting_for
                ));
            }
            Ok(out)
        }
    }
}

pub(super) fn ack_status(value: i32) -> &'static str {
    match proto::types::v1::AcknowledgmentStatus::try_from(value) {
        Ok(proto::types::v1::AcknowledgmentStatus::Pending) => "pending",
        Ok(proto::types::v1::AcknowledgmentStatus::Cleared) => "cleared",
        Ok(proto::types::v1::AcknowledgmentStatus::Bounced) => "bounced",
        _ => "unknown",
    }
}

pub(super) fn parse_ack_status(
    value: &str,
) -> Result<proto::types::v1::AcknowledgmentStatus, Failure> {
    match value.trim().to_ascii_lowercase().as_str() {
        "pending" => Ok(proto::types::v1::AcknowledgmentStatus::Pending),
        "cleared" => Ok(proto::types::v1::AcknowledgmentStatus::Cleared),
        "bounced" => Ok(proto::types::v1::AcknowledgmentStatus::Bounced),
        other => Err(Failure::with_hint(
            anyhow::anyhow!("--status {other:?} is not an acknowledgment status"),
            "give pending, cleared or bounced, or leave --status out for all",
        )),
    }
}

pub(super) fn ack_json(a: &api::Acknowledgment) -> serde_json::Value {
    serde_json::json!({
        "acknowledgment_id": a.acknowledgment_id,
        "acknowledgment_no": a.acknowledgment_no,
        "status": ack_status(a.status),
        "instrument_no": a.instrument_no,
        "drawer": a.drawer,
        "drawer_bank": a.drawer_bank,
        "amount": a.amount.as_ref().map(|m| m.amount.clone()),
        "currency": a.amount.as_ref().map(|m| m.currency.clone()),
        "reference": a.reference,
        "due_date": a.due_date,
        "term_days": a.term_days,
        "occupation_fee": a.occupation_fee.as_ref().map(|m| m.amount.clone()),
        "payment_id": a.payment_id,
        "receipt_id": a.receipt_id,
        "bounce_reason": a.bounce_reason,
        "exception_id": a.exception_id,
        "recorded_by": a.recorded_by,
        "recorded_at": a.recorded_at,
    })
}

pub(super) fn ack_text(a: &api::Acknowledgment) -> String {
    let mut line = format!(
        "{}  {:<8}  no. {}  {:>14}  from {} ({})  for {}  (id {})",
        a.acknowledgment_no,
        ack_status(a.status),
        a.instrument_no,
        shown(a.amount.as_ref()),
        a.drawer,
        a.drawer_bank,
        a.reference,
        a.acknowledgment_id
    );
    if !a.payment_id.is_empty() {
        line.push_str(&format!("\n    cleared: payment {}", a.payment_id));
    }
    if !a.bounce_reason.is_empty() {
        line.push_str(&format!(
            "\n    bounced: {} (exception {})",
            a.bounce_reason, a.exception_id
        ));
    }
    if let Some(fee) = a.occupation_fee.as_ref().filter(|f| !f.amount.is_empty()) {
        line.push_str(&format!(
            "\n    {}-day bill, fund-occupation fee {} {}",
            a.term_days, fee.amount, fee.currency
        ));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acknowledgment_statuses_parse() {
        assert_eq!(
            parse_ack_status("Pending").ok(),
            Some(proto::types::v1::AcknowledgmentStatus::Pending)
        );
        assert!(parse_ack_status("paid").is_err());
        assert_eq!(
            ack_status(proto::types::v1::AcknowledgmentStatus::Bounced as i32),
            "bounced"
        );
    }
}
