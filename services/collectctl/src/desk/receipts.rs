//! Cash at the desk (R-P1): receipts with gap-free numbers, voids decided by a second
//! person, printable documents and the day's cash count.

use clap::Subcommand;

use proto::payments::v1 as api;

use super::{derived_id, json, money, page, refused, shown, today};
use crate::cli::{Failure, Outcome};
use crate::service::Authed;

type Client = api::payments_service_client::PaymentsServiceClient<Authed>;

#[derive(Subcommand)]
pub(super) enum ReceiptCommand {
    /// Record cash received at the desk: a numbered receipt (收据) is issued and the payment
    /// goes through cash application.
    Cash {
        /// The project whose desk took the cash, e.g. P1.
        #[arg(long)]
        project: String,
        /// Amount, e.g. 5000.00.
        #[arg(long)]
        amount: String,
        #[arg(long, default_value = "CNY")]
        currency: String,
        /// Who paid, as printed on the receipt.
        #[arg(long)]
        payer: String,
        /// What it is for: the contract number and installment.
        #[arg(long = "for")]
        reference: String,
        /// The account the desk banks its cash into (the project's escrow account, R-P6).
        #[arg(long, default_value = "")]
        deposit_account: String,
        /// Client request id. Default: derived from the arguments and today's date, so running
        /// the same command again is a repeat; give one for a second, identical receipt.
        #[arg(long)]
        request_id: Option<String>,
    },
    /// Ask to void a receipt; another person decides.
    Void {
        receipt_id: String,
        #[arg(long)]
        reason: String,
        /// Issue a corrected replacement for the same payment (the money stands).
        #[arg(long)]
        reissue: bool,
        /// Corrected payer on the replacement.
        #[arg(long, default_value = "")]
        payer: String,
        /// Corrected purpose on the replacement.
        #[arg(long = "for", default_value = "")]
        reference: String,
    },
    /// Approve a void someone else asked for.
    ApproveVoid { receipt_id: String },
    /// Reject a void someone else asked for, with the reason.
    RejectVoid {
        receipt_id: String,
        #[arg(long)]
        reason: String,
    },
    /// Receipts in issue order.
    Receipts {
        #[arg(long, default_value = "")]
        project: String,
        /// First business date, YYYY-MM-DD.
        #[arg(long, default_value = "")]
        from: String,
        /// Last business date, YYYY-MM-DD.
        #[arg(long, default_value = "")]
        to: String,
        #[arg(long, default_value_t = 100)]
        limit: u32,
        #[arg(long, default_value = "")]
        after: String,
    },
    /// Save a receipt or acknowledgment as PDF.
    Print {
        /// Receipt or acknowledgment id.
        id: String,
        /// File to write (default: the document number .pdf in the current directory).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// Close the desk's day with the cash counted; a difference goes to the exception queue.
    Close {
        #[arg(long)]
        project: String,
        /// The cash counted, e.g. 12000.00 (0.00 when the box is empty).
        #[arg(long)]
        counted: String,
        #[arg(long, default_value = "CNY")]
        currency: String,
        /// The account the counted cash is banked into.
        #[arg(long, default_value = "")]
        deposit_account: String,
        /// The business date (default today).
        #[arg(long, default_value = "")]
        date: String,
    },
}

pub(super) async fn run(client: &mut Client, as_json: bool, command: ReceiptCommand) -> Outcome {
    match command {
        ReceiptCommand::Cash {
            project,
            amount,
            currency,
            payer,
            reference,
            deposit_account,
            request_id,
        } => {
            let request_id = request_id.unwrap_or_else(|| {
                derived_id(
                    "cash",
                    &[&today(), &project, &amount, &currency, &payer, &reference],
                )
            });
            let done = client
                .record_desk_receipt(api::RecordDeskReceiptRequest {
                    request_id,
                    project,
                    amount: money(&amount, &currency),
                    payer_name: payer,
                    reference,
                    deposit_account,
                })
                .await
                .map_err(refused)?
                .into_inner();
            let receipt = done.receipt.unwrap_or_default();
            if as_json {
                let mut value = receipt_json(&receipt);
                value["repeat"] = serde_json::json!(done.repeat);
                return json(&value);
            }
            let applied = match api::PaymentStatus::try_from(done.payment_status) {
                Ok(api::PaymentStatus::Exception) => {
                    "cash application could not apply it: see `collectctl exceptions list`"
                }
                _ => "applied by cash application",
            };
            Ok(format!(
                "{}{}\n{applied}\nprint it: collectctl desk print {}",
                if done.repeat {
                    "already issued (a repeat): "
                } else {
                    "issued: "
                },
                receipt_text(&receipt),
                receipt.receipt_id
            ))
        }
        ReceiptCommand::Void {
            receipt_id,
            reason,
            reissue,
            payer,
            reference,
        } => {
            let receipt = client
                .request_receipt_void(api::RequestReceiptVoidRequest {
                    receipt_id,
                    reason,
                    reissue,
                    corrected_payer_name: payer,
                    corrected_reference: reference,
                })
                .await
                .map_err(refused)?
                .into_inner()
                .receipt
                .unwrap_or_default();
            if as_json {
                return json(&receipt_json(&receipt));
            }
            Ok(format!(
                "void requested: {}\nanother person decides: collectctl desk approve-void {} (or reject-void)",
                receipt_text(&receipt),
                receipt.receipt_id
            ))
        }
        ReceiptCommand::ApproveVoid { receipt_id } => {
            let done = client
                .approve_receipt_void(api::ApproveReceiptVoidRequest { receipt_id })
                .await
                .map_err(refused)?
                .into_inner();
            let voided = done.voided.unwrap_or_default();
            if as_json {
                return json(&serde_json::json!({
                    "voided": receipt_json(&voided),
                    "replacement": done.replacement.as_ref().map(receipt_json),
                }));
            }
            let mut out = format!("voided: {}", receipt_text(&voided));
            match &done.replacement {
                Some(r) => out.push_str(&format!("\nreplaced by: {}", receipt_text(r))),
                None => out.push_str("\nthe payment is withdrawn: hand the cash back"),
            }
            Ok(out)
        }
        ReceiptCommand::RejectVoid { receipt_id, reason } => {
            let receipt = client
                .reject_receipt_void(api::RejectReceiptVoidRequest { receipt_id, reason })
                .await
                .map_err(refused)?
                .into_inner()
                .receipt
                .unwrap_or_default();
            if as_json {
                return json(&receipt_json(&receipt));
            }
            Ok(format!("kept: {}", receipt_text(&receipt)))
        }
        ReceiptCommand::Receipts {
            project,
            from,
            to,
            limit,
            after,
        } => {
            let listed = client
                .list_receipts(api::ListReceiptsRequest {
                    project,
                    from,
                    to,
                    page_size: limit,
                    page_token: after,
                })
                .await
                .map_err(refused)?
                .into_inner();
            page(
                as_json,
                "receipts",
                &listed.receipts,
                &listed.next_page_token,
                receipt_json,
                receipt_text,
            )
        }
        ReceiptCommand::Print { id, out } => {
            let document = client
                .render_receipt(api::RenderReceiptRequest { id })
                .await
                .map_err(refused)?
                .into_inner();
            let path = out.unwrap_or_else(|| document.file_name.clone().into());
            std::fs::write(&path, &document.pdf).map_err(|e| {
                Failure::with_hint(
                    anyhow::anyhow!("cannot write {}: {e}", path.display()),
                    "give a writable path with --out",
                )
            })?;
            if as_json {
                return json(&serde_json::json!({
                    "file": path.display().to_string(),
                    "bytes": document.pdf.len(),
                }));
            }
            Ok(format!(
                "wrote {} ({} bytes)",
                path.display(),
                document.pdf.len()
            ))
        }
        ReceiptCommand::Close {
            project,
            counted,
            currency,
            deposit_account,
            date,
        } => {
            let day = client
                .close_desk_day(api::CloseDeskDayRequest {
                    project,
                    business_date: date,
                    counted: money(&counted, &currency),
                    deposit_account,
                })
                .await
                .map_err(refused)?
                .into_inner();
            if as_json {
                return json(&serde_json::json!({
                    "project": day.project,
                    "business_date": day.business_date,
                    "expected": day.expected.as_ref().map(|m| m.amount.clone()),
                    "counted": day.counted.as_ref().map(|m| m.amount.clone()),
                    "difference": day.difference.as_ref().map(|m| m.amount.clone()),
                    "receipts": day.receipts,
                    "exception_id": day.exception_id,
                    "deposit_reference": day.deposit_reference,
                    "closed_by": day.closed_by,
                }));
            }
            let mut out = format!(
                "desk {} closed for {} by {}: {} receipt(s) make {}, counted {}, difference {}",
                day.project,
                day.business_date,
                day.closed_by,
                day.receipts,
                shown(day.expected.as_ref()),
                shown(day.counted.as_ref()),
                shown(day.difference.as_ref())
            );
            if !day.exception_id.is_empty() {
                out.push_str(&format!(
                    "\nthe difference is in the exception queue: {} (collectctl exceptions list --kind CASH_COUNT_DIFFERENCE)",
                    day.exception_id
                ));
            }
            if !day.deposit_reference.is_empty() {
                out.push_str(&format!(
                    "\nwrite {} on the deposit slip: its bank line is linked to this deposit",
                    day.deposit_reference
                ));
            }
            Ok(out)
        }
    }
}

pub(super) fn receipt_status(value: i32) -> &'static str {
    match api::ReceiptStatus::try_from(value) {
        Ok(api::ReceiptStatus::Issued) => "issued",
        Ok(api::ReceiptStatus::VoidRequested) => "void requested",
        Ok(api::ReceiptStatus::Voided) => "VOID",
        _ => "unknown",
    }
}

pub(super) fn receipt_json(r: &api::Receipt) -> serde_json::Value {
    serde_json::json!({
        "receipt_id": r.receipt_id,
        "receipt_no": r.receipt_no,
        "status": receipt_status(r.status),
        "amount": r.amount.as_ref().map(|m| m.amount.clone()),
        "currency": r.amount.as_ref().map(|m| m.currency.clone()),
        "payer_name": r.payer_name,
        "reference": r.reference,
        "payment_id": r.payment_id,
        "business_date": r.business_date,
        "issued_by": r.issued_by,
        "issued_at": r.issued_at,
        "void_reason": r.void_reason,
        "void_requested_by": r.void_requested_by,
        "voided_by": r.voided_by,
        "replaces_receipt_id": r.replaces_receipt_id,
        "replaced_by_receipt_id": r.replaced_by_receipt_id,
    })
}

pub(super) fn receipt_text(r: &api::Receipt) -> String {
    let mut line = format!(
        "{}  {:<14}  {:>14}  {}  for {}  ({} by {}, id {})",
        r.receipt_no,
        receipt_status(r.status),
        shown(r.amount.as_ref()),
        r.payer_name,
        r.reference,
        r.business_date,
        r.issued_by,
        r.receipt_id
    );
    if !r.void_reason.is_empty() {
        line.push_str(&format!(
            "\n    void: {} (asked by {}{})",
            r.void_reason,
            r.void_requested_by,
            if r.voided_by.is_empty() {
                String::new()
            } else {
                format!(", approved by {}", r.voided_by)
            }
        ));
    }
    line
}
