//! `collectctl desk`: the finance desk (R-P1, R-P3, R-P7): cash receipts with gap-free
//! numbers, voids decided by a second person, the day's cash count, acknowledgments of
//! cheques, drafts, bills and slips, bounces, printable documents and what is still
//! unreconciled after two hours. Who acts is the token's subject. Talks to payments over gRPC.

use clap::{Args, Subcommand, ValueEnum};
use sha2::{Digest, Sha256};

use proto::payments::v1 as api;
use proto::types::v1::Money;

use crate::cli::{Failure, Outcome};
use crate::service;

#[derive(Args)]
pub(crate) struct DeskArgs {
    /// The payments service (default: $PAYMENTS_URL, else the local stack's port).
    #[arg(long, global = true)]
    payments: Option<String>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: DeskCommand,
}

#[derive(Clone, Copy, ValueEnum)]
enum Kind {
    Cheque,
    Draft,
    Bill,
    Slip,
}

#[derive(Subcommand)]
enum DeskCommand {
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

fn money(amount: &str, currency: &str) -> Option<Money> {
    Some(Money {
        amount: amount.trim().to_owned(),
        currency: currency.trim().to_ascii_uppercase(),
    })
}

fn shown(m: Option<&Money>) -> String {
    m.map(|m| format!("{} {}", m.amount, m.currency))
        .unwrap_or_default()
}

/// A request id derived from what identifies the request, so the same command again is a
/// repeat.
fn derived_id(prefix: &str, parts: &[&str]) -> String {
    let digest = Sha256::digest(parts.join("\n").as_bytes());
    let hex: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
    format!("collectctl-{prefix}-{hex}")
}

fn today() -> String {
    kit::config::business_date(chrono::Utc::now(), kit::config::DEFAULT_BUSINESS_OFFSET).to_string()
}

fn receipt_status(value: i32) -> &'static str {
    match api::ReceiptStatus::try_from(value) {
        Ok(api::ReceiptStatus::Issued) => "issued",
        Ok(api::ReceiptStatus::VoidRequested) => "void requested",
        Ok(api::ReceiptStatus::Voided) => "VOID",
        _ => "unknown",
    }
}

fn ack_status(value: i32) -> &'static str {
    match proto::types::v1::AcknowledgmentStatus::try_from(value) {
        Ok(proto::types::v1::AcknowledgmentStatus::Pending) => "pending",
        Ok(proto::types::v1::AcknowledgmentStatus::Cleared) => "cleared",
        Ok(proto::types::v1::AcknowledgmentStatus::Bounced) => "bounced",
        _ => "unknown",
    }
}

fn parse_ack_status(value: &str) -> Result<proto::types::v1::AcknowledgmentStatus, Failure> {
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

fn receipt_json(r: &api::Receipt) -> serde_json::Value {
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

fn receipt_text(r: &api::Receipt) -> String {
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

fn ack_json(a: &api::Acknowledgment) -> serde_json::Value {
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

fn ack_text(a: &api::Acknowledgment) -> String {
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

/// A gRPC error with what to do next at the desk.
fn refused(status: tonic::Status) -> Failure {
    let hint = match status.code() {
        tonic::Code::PermissionDenied if status.message().contains("another") => {
            "ask another cashier or a supervisor to decide the void"
        }
        tonic::Code::PermissionDenied => {
            "only cashiers take money at the desk (R-P1); sign in with a cashier's token"
        }
        tonic::Code::NotFound => {
            "check the id: `collectctl desk receipts` or `collectctl desk acknowledgments`"
        }
        tonic::Code::AlreadyExists => "it was done before; list it instead of doing it again",
        tonic::Code::FailedPrecondition => "read the message: it says what to do instead",
        _ => return service::status(status),
    };
    Failure::with_hint(
        anyhow::anyhow!("{:?}: {}", status.code(), status.message()),
        hint,
    )
}

fn json(value: &serde_json::Value) -> Result<String, Failure> {
    Ok(serde_json::to_string_pretty(value)?)
}

pub(crate) fn run(args: DeskArgs) -> Outcome {
    service::block_on(async move {
        let mut client = service::payments(args.payments).await?;
        match args.command {
            DeskCommand::Cash {
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
                if args.json {
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
            DeskCommand::Void {
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
                if args.json {
                    return json(&receipt_json(&receipt));
                }
                Ok(format!(
                    "void requested: {}\nanother person decides: collectctl desk approve-void {} (or reject-void)",
                    receipt_text(&receipt),
                    receipt.receipt_id
                ))
            }
            DeskCommand::ApproveVoid { receipt_id } => {
                let done = client
                    .approve_receipt_void(api::ApproveReceiptVoidRequest { receipt_id })
                    .await
                    .map_err(refused)?
                    .into_inner();
                let voided = done.voided.unwrap_or_default();
                if args.json {
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
            DeskCommand::RejectVoid { receipt_id, reason } => {
                let receipt = client
                    .reject_receipt_void(api::RejectReceiptVoidRequest { receipt_id, reason })
                    .await
                    .map_err(refused)?
                    .into_inner()
                    .receipt
                    .unwrap_or_default();
                if args.json {
                    return json(&receipt_json(&receipt));
                }
                Ok(format!("kept: {}", receipt_text(&receipt)))
            }
            DeskCommand::Receipts {
                project,
                from,
                to,
                limit,
                after,
            } => {
                let page = client
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
                if args.json {
                    return json(&serde_json::json!({
                        "receipts": page.receipts.iter().map(receipt_json).collect::<Vec<_>>(),
                        "next": page.next_page_token,
                    }));
                }
                let mut out = if page.receipts.is_empty() {
                    "no receipts".to_owned()
                } else {
                    page.receipts
                        .iter()
                        .map(receipt_text)
                        .collect::<Vec<_>>()
                        .join("\n")
                };
                if !page.next_page_token.is_empty() {
                    out.push_str(&format!(
                        "\nmore: collectctl desk receipts --after {} (same filters)",
                        page.next_page_token
                    ));
                }
                Ok(out)
            }
            DeskCommand::Print { id, out } => {
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
                if args.json {
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
            DeskCommand::Close {
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
                if args.json {
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
            DeskCommand::Acknowledge {
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
                if args.json {
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
            DeskCommand::Bounce {
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
                if args.json {
                    return json(&ack_json(&ack));
                }
                Ok(format!(
                    "bounced: {}\nthe exception queue has it: collectctl exceptions list --kind INSTRUMENT_BOUNCED",
                    ack_text(&ack)
                ))
            }
            DeskCommand::Acknowledgments {
                project,
                status,
                limit,
                after,
            } => {
                let status = status.as_deref().map(parse_ack_status).transpose()?;
                let page = client
                    .list_acknowledgments(api::ListAcknowledgmentsRequest {
                        project,
                        status: status.map_or(0, |s| s as i32),
                        page_size: limit,
                        page_token: after,
                    })
                    .await
                    .map_err(refused)?
                    .into_inner();
                if args.json {
                    return json(&serde_json::json!({
                        "acknowledgments": page.acknowledgments.iter().map(ack_json).collect::<Vec<_>>(),
                        "next": page.next_page_token,
                    }));
                }
                let mut out = if page.acknowledgments.is_empty() {
                    "no acknowledgments".to_owned()
                } else {
                    page.acknowledgments
                        .iter()
                        .map(ack_text)
                        .collect::<Vec<_>>()
                        .join("\n")
                };
                if !page.next_page_token.is_empty() {
                    out.push_str(&format!(
                        "\nmore: collectctl desk acknowledgments --after {} (same filters)",
                        page.next_page_token
                    ));
                }
                Ok(out)
            }
            DeskCommand::Batches { open, limit, after } => {
                let page = client
                    .list_settlement_batches(api::ListSettlementBatchesRequest {
                        unreconciled_only: open,
                        page_size: limit,
                        page_token: after,
                    })
                    .await
                    .map_err(refused)?
                    .into_inner();
                if args.json {
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
                    return json(
                        &serde_json::json!({ "batches": rows, "next": page.next_page_token }),
                    );
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
            DeskCommand::Unreconciled { minutes, limit } => {
                let page = client
                    .list_unreconciled(api::ListUnreconciledRequest {
                        max_age_minutes: minutes,
                        page_size: limit,
                    })
                    .await
                    .map_err(refused)?
                    .into_inner();
                if args.json {
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
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_repeat_for_the_same_arguments_only() {
        let a = derived_id("cash", &["2026-12-05", "P1", "10.00"]);
        assert_eq!(a, derived_id("cash", &["2026-12-05", "P1", "10.00"]));
        assert_ne!(a, derived_id("cash", &["2026-12-05", "P1", "10.01"]));
        assert!(a.len() <= 100);
    }

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
