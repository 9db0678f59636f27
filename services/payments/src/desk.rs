//! Money from the finance desk and from instruments (R-P1, R-P3, R-P7): formal receipts for
//! cash, their voiding by two people, the day's cash count and the deposit the bank will
//! show, acknowledgments of cheques, drafts, bills and slips that become payments when a bank
//! line shows them, bounced instruments, and the payments still unreconciled after two hours.
//! The rules are in [`crate::domain::desk`]; SQL in `store::desk`.

use std::collections::HashSet;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use kit::outbox::Outbox;
use kit::paging::Paging;
use kit::{ApiError, wire};
use proto::events::v1 as events;
use proto::payments::v1 as api;
use proto::types::v1::{self as types, PaymentChannel};

use crate::decisions;
use crate::domain::desk::{
    self as rules, AcknowledgmentStatus, InstrumentKind, ReceiptStatus, Series,
};
use crate::domain::repeats::LineSource;
use crate::domain::settlement;
use crate::domain::status::{Channel, ExceptionKind, PaymentStatus};
use crate::engine::Engine;
use crate::ingest::{self, Sealed, Stored};
use crate::intake::Incoming;
use crate::store::{self, AcknowledgmentRow, ReceiptRow};

/// Settings of the desk (environment).
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// `PAYMENTS_BILL_OCCUPATION_RATE`: the daily fund-occupation fee of an acceptance bill
    /// over 90 days, as a fraction of its amount (e.g. 0.0005); unset refuses such bills.
    pub(crate) bill_occupation_rate: Option<Decimal>,
    /// The business time zone (what day the desk is in).
    pub(crate) utc_offset: FixedOffset,
}

impl Settings {
    pub(crate) fn from_env(utc_offset: FixedOffset) -> anyhow::Result<Self> {
        let bill_occupation_rate = match std::env::var("PAYMENTS_BILL_OCCUPATION_RATE") {
            Ok(text) if !text.trim().is_empty() => {
                let rate: Decimal = text.trim().parse().map_err(|e| {
                    anyhow::anyhow!(
                        "PAYMENTS_BILL_OCCUPATION_RATE {text:?}: {e}; give a daily fraction such as 0.0005"
                    )
                })?;
                if rate < Decimal::ZERO || rate >= Decimal::ONE {
                    anyhow::bail!(
                        "PAYMENTS_BILL_OCCUPATION_RATE {text:?}: a daily rate is between 0 and 1, e.g. 0.0005"
                    );
                }
                Some(rate)
            }
            _ => None,
        };
        Ok(Self {
            bill_occupation_rate,
            utc_offset,
        })
    }

    fn today(&self) -> NaiveDate {
        kit::config::business_date(Utc::now(), self.utc_offset)
    }
}

/// What the desk's calls work with.
pub(crate) struct Cx<'a> {
    pub(crate) pool: &'a PgPool,
    pub(crate) outbox: &'a Outbox,
    pub(crate) engine: &'a Engine,
    pub(crate) settings: &'a Settings,
}

pub(crate) fn channel_to_wire(channel: Channel) -> PaymentChannel {
    match channel {
        Channel::Bank => PaymentChannel::Bank,
        Channel::DeskCash => PaymentChannel::DeskCash,
        Channel::Instrument => PaymentChannel::Instrument,
        Channel::Wallet => PaymentChannel::Wallet,
        Channel::Card => PaymentChannel::Card,
    }
}

/// The stored channel as the API shows it.
pub(crate) fn channel_to_api(stored: &str) -> PaymentChannel {
    Channel::parse(stored).map_or(PaymentChannel::Unspecified, channel_to_wire)
}

fn project(value: &str) -> Result<String, ApiError> {
    let project = value.trim().to_owned();
    rules::check_project(&project).map_err(|e| ApiError::invalid("project", e))?;
    Ok(project)
}

fn money(
    field: &str,
    value: Option<&proto::types::v1::Money>,
    example: &str,
) -> Result<(Decimal, String), ApiError> {
    let money = value.ok_or_else(|| {
        ApiError::invalid(
            field,
            format!("is required: the amount and currency, e.g. {example}"),
        )
    })?;
    let currency = wire::currency(&format!("{field}.currency"), &money.currency)?;
    let amount = wire::positive_amount(field, &money.amount, &currency)?;
    Ok((amount, currency))
}

fn optional_account(field: &str, value: &str) -> Result<String, ApiError> {
    if value.trim().is_empty() {
        Ok(String::new())
    } else {
        wire::account(field, value)
    }
}

fn unexpected(e: impl std::fmt::Display) -> ApiError {
    ApiError::Unexpected(anyhow::anyhow!("{e}"))
}

/// R-P1: a cashier records cash received; a numbered receipt is issued and the payment goes
/// through cash application in the same transaction.
pub(crate) async fn record_receipt(
    cx: &Cx<'_>,
    caller: &kit::auth::Caller,
    request: api::RecordDeskReceiptRequest,
) -> Result<api::RecordDeskReceiptResponse, ApiError> {
    let request_id = wire::required("request_id", &request.request_id, 100)?;
    let project = project(&request.project)?;
    let (amount, currency) = money("amount", request.amount.as_ref(), "5000.00 CNY")?;
    let payer_name = wire::required("payer_name", &request.payer_name, 200)?;
    let reference = wire::required("reference", &request.reference, 500).map_err(|_| {
        ApiError::invalid(
            "reference",
            "say what the cash is for (the contract number and installment), at most 500 characters",
        )
    })?;
    let deposit = optional_account("deposit_account", &request.deposit_account)?;
    let by = caller.subject().to_owned();
    let today = cx.settings.today();

    let mut tx = cx.pool.begin().await?;
    if let Some(previous) = store::receipt_by_request(&mut tx, &request_id).await? {
        if previous.project != project
            || previous.amount != amount
            || previous.currency.trim() != currency
        {
            return Err(ApiError::AlreadyExists(format!(
                "request_id {request_id:?} issued receipt {} for {} {} of project {}; use a new request_id for another receipt",
                previous.document_no(),
                previous.amount,
                previous.currency.trim(),
                previous.project
            )));
        }
        let status = store::payment_status(&mut tx, previous.payment_id).await?;
        caller.touch("receipt", previous.id);
        return Ok(api::RecordDeskReceiptResponse {
            receipt: Some(receipt_to_api(&previous)),
            repeat: true,
            payment_status: payment_status_to_api(&status) as i32,
        });
    }
    if let Some(closed_by) = store::desk_day_closed(&mut tx, &project, today).await? {
        return Err(ApiError::FailedPrecondition(format!(
            "the desk of project {project} was closed for {today} by {closed_by}; cash taken after the count belongs to the next business day's count — record it then"
        )));
    }
    // The ledger lock first, as every change to the open receivables takes it.
    let mut session = cx.engine.open(&mut tx).await?;
    let year = today.year();
    let number = store::next_number(&mut tx, Series::Receipt, &project, year).await?;
    let receipt_no = Series::Receipt.document_no(&project, year, number);
    let (payment_id, receipt_id) = (Uuid::now_v7(), Uuid::now_v7());
    let line = Incoming {
        line_no: 0,
        date: today,
        amount,
        currency: currency.clone(),
        payer_name: payer_name.clone(),
        payer_account: String::new(),
        reference: reference.clone(),
        receiving_account: deposit,
        fingerprint: format!("desk:{receipt_id}"),
        source: LineSource::Statement,
        settlement: None,
    };
    let sealed = Sealed::of(cx.engine, &line)?;
    let decided = session
        .ledger()
        .reconcile(&[sealed.payment(payment_id, &line)]);
    let decision = decided
        .first()
        .ok_or_else(|| unexpected("the engine decided nothing for the desk payment"))?;
    let stored = Stored {
        file_id: None,
        channel: Channel::DeskCash,
        payment_id,
        line: &line,
        accounts: &sealed,
        receipt_no: &receipt_no,
    };
    ingest::record_payment(&mut tx, cx.outbox, &stored, decision).await?;
    let applied = decision.outcome == cashapp::Outcome::Applied;
    if applied {
        session
            .apply(decision, payment_id)
            .map_err(|e| unexpected(format!("applying desk payment {payment_id}: {e}")))?;
    }
    let new = store::NewReceipt {
        id: receipt_id,
        request_id: Some(&request_id),
        project: &project,
        year,
        number,
        channel: Channel::DeskCash,
        payment_id,
        acknowledgment_id: None,
        amount,
        currency: &currency,
        payer_name: &payer_name,
        reference: &reference,
        business_date: today,
        issued_by: &by,
        replaces: None,
    };
    store::insert_receipt(&mut tx, &new).await?;
    let key = decisions::key(decision, payment_id)?;
    issued_event(&mut tx, cx.outbox, &key, &new, &receipt_no).await?;
    session.close(&mut tx).await?;
    tx.commit().await?;
    caller.touch("receipt", receipt_id);
    tracing::info!(%receipt_id, receipt_no, %payment_id, applied, "desk receipt issued");
    let receipt = store::receipt(cx.pool, receipt_id)
        .await?
        .ok_or_else(|| unexpected(format!("receipt {receipt_id} is gone after its commit")))?;
    Ok(api::RecordDeskReceiptResponse {
        receipt: Some(receipt_to_api(&receipt)),
        repeat: false,
        payment_status: if applied {
            api::PaymentStatus::Matched
        } else {
            api::PaymentStatus::Exception
        } as i32,
    })
}

async fn issued_event(
    tx: &mut PgConnection,
    outbox: &Outbox,
    key: &str,
    receipt: &store::NewReceipt<'_>,
    receipt_no: &str,
) -> Result<(), ApiError> {
    let event = events::ReceiptIssued {
        receipt_id: receipt.id.to_string(),
        receipt_no: receipt_no.to_owned(),
        project: receipt.project.to_owned(),
        payment_id: receipt.payment_id.to_string(),
        amount: Some(wire::money(receipt.amount, receipt.currency)),
        issued_by: receipt.issued_by.to_owned(),
        replaces_receipt_id: receipt.replaces.map(|r| r.to_string()).unwrap_or_default(),
    };
    outbox
        .enqueue(tx, kit::events::PAYMENTS, key, &event)
        .await?;
    Ok(())
}

fn payment_status_to_api(status: &str) -> api::PaymentStatus {
    match PaymentStatus::parse(status) {
        Ok(PaymentStatus::Matched) => api::PaymentStatus::Matched,
        Ok(PaymentStatus::Allocated) => api::PaymentStatus::Allocated,
        Ok(PaymentStatus::Exception) => api::PaymentStatus::Exception,
        Err(_) => api::PaymentStatus::Unspecified,
    }
}

fn receipt_status_to_api(status: &str) -> api::ReceiptStatus {
    match ReceiptStatus::parse(status) {
        Ok(ReceiptStatus::Issued) => api::ReceiptStatus::Issued,
        Ok(ReceiptStatus::VoidRequested) => api::ReceiptStatus::VoidRequested,
        Ok(ReceiptStatus::Voided) => api::ReceiptStatus::Voided,
        Err(_) => api::ReceiptStatus::Unspecified,
    }
}

pub(crate) fn receipt_to_api(r: &ReceiptRow) -> api::Receipt {
    let text = |t: &Option<String>| t.clone().unwrap_or_default();
    let id = |u: &Option<Uuid>| u.map(|u| u.to_string()).unwrap_or_default();
    api::Receipt {
        receipt_id: r.id.to_string(),
        project: r.project.clone(),
        year: u32::try_from(r.year).unwrap_or_default(),
        number: u32::try_from(r.number).unwrap_or_default(),
        receipt_no: r.document_no(),
        status: receipt_status_to_api(&r.status) as i32,
        channel: channel_to_api(&r.channel) as i32,
        amount: Some(wire::money(r.amount, r.currency.trim())),
        payer_name: r.payer_name.clone(),
        reference: r.reference.clone(),
        payment_id: r.payment_id.to_string(),
        issued_by: r.issued_by.clone(),
        issued_at: r.issued_at.to_rfc3339(),
        void_reason: r.void_reason.clone(),
        void_requested_by: text(&r.void_requested_by),
        voided_by: text(&r.voided_by),
        voided_at: r.voided_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
        replaces_receipt_id: id(&r.replaces),
        replaced_by_receipt_id: id(&r.replaced_by),
        acknowledgment_id: id(&r.acknowledgment_id),
        business_date: r.business_date.to_string(),
    }
}

async fn locked_receipt(tx: &mut PgConnection, id: Uuid) -> Result<ReceiptRow, ApiError> {
    store::lock_receipt(tx, id).await?.ok_or_else(|| {
        ApiError::NotFound(format!(
            "no receipt with id {id}; list them with ListReceipts"
        ))
    })
}

fn refused(e: rules::VoidRefused) -> ApiError {
    match e {
        rules::VoidRefused::SamePerson => ApiError::PermissionDenied(e.to_string()),
        rules::VoidRefused::Status { .. } => ApiError::FailedPrecondition(e.to_string()),
    }
}

/// One person asks to void a receipt, with the reason.
pub(crate) async fn request_void(
    cx: &Cx<'_>,
    caller: &kit::auth::Caller,
    request: api::RequestReceiptVoidRequest,
) -> Result<api::RequestReceiptVoidResponse, ApiError> {
    let id = wire::uuid("receipt_id", &request.receipt_id)?;
    let reason = wire::required("reason", &request.reason, 500)?;
    let by = caller.subject().to_owned();
    caller.touch("receipt", id);
    let mut tx = cx.pool.begin().await?;
    let receipt = locked_receipt(&mut tx, id).await?;
    let status = ReceiptStatus::parse(&receipt.status).map_err(unexpected)?;
    status.request_void().map_err(refused)?;
    if !request.reissue {
        let applied = store::payment_applied(&mut tx, receipt.payment_id).await?;
        rules::may_withdraw(false, applied).map_err(ApiError::FailedPrecondition)?;
    }
    let corrected_payer = request.corrected_payer_name.trim();
    let corrected_reference = request.corrected_reference.trim();
    let corrects = !(corrected_payer.is_empty() && corrected_reference.is_empty());
    if corrects && !request.reissue {
        return Err(ApiError::invalid(
            "reissue",
            "corrections are printed on a replacement: set reissue, or leave the corrections empty",
        ));
    }
    store::record_void_request(
        &mut tx,
        id,
        &store::VoidRequest {
            reason: &reason,
            by: &by,
            reissue: request.reissue,
            corrected_payer_name: corrected_payer,
            corrected_reference,
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(receipt_id = %id, reissue = request.reissue, "void of a receipt requested");
    let receipt = store::receipt(cx.pool, id)
        .await?
        .ok_or_else(|| unexpected("receipt gone"))?;
    Ok(api::RequestReceiptVoidResponse {
        receipt: Some(receipt_to_api(&receipt)),
    })
}

/// Another person approves the void: the number stays used, marked void; a replacement is
/// issued, or the payment withdrawn.
pub(crate) async fn approve_void(
    cx: &Cx<'_>,
    caller: &kit::auth::Caller,
    request: api::ApproveReceiptVoidRequest,
) -> Result<api::ApproveReceiptVoidResponse, ApiError> {
    let id = wire::uuid("receipt_id", &request.receipt_id)?;
    let by = caller.subject().to_owned();
    caller.touch("receipt", id);
    let mut tx = cx.pool.begin().await?;
    // The ledger lock first: a withdrawal must not race a person confirming the payment.
    let session = cx.engine.open(&mut tx).await?;
    let receipt = locked_receipt(&mut tx, id).await?;
    let status = ReceiptStatus::parse(&receipt.status).map_err(unexpected)?;
    let requested_by = receipt.void_requested_by.clone().unwrap_or_default();
    status
        .decide_void(&requested_by, &by, true)
        .map_err(refused)?;
    let receipt_no = receipt.document_no();
    let mut replacement = None;
    let mut withdrawn = false;
    if receipt.void_reissue {
        let year = cx.settings.today().year();
        let number = store::next_number(&mut tx, Series::Receipt, &receipt.project, year).await?;
        let new_id = Uuid::now_v7();
        let pick = |corrected: &str, original: &str| {
            if corrected.is_empty() {
                original.to_owned()
            } else {
                corrected.to_owned()
            }
        };
        let payer = pick(&receipt.corrected_payer_name, &receipt.payer_name);
        let reference = pick(&receipt.corrected_reference, &receipt.reference);
        let channel = Channel::parse(&receipt.channel).map_err(unexpected)?;
        let new = store::NewReceipt {
            id: new_id,
            request_id: None,
            project: &receipt.project,
            year,
            number,
            channel,
            payment_id: receipt.payment_id,
            acknowledgment_id: receipt.acknowledgment_id,
            amount: receipt.amount,
            currency: receipt.currency.trim(),
            payer_name: &payer,
            reference: &reference,
            // The cash came in that day: the replacement counts in that day's cash.
            business_date: receipt.business_date,
            issued_by: &by,
            replaces: Some(id),
        };
        store::insert_receipt(&mut tx, &new).await?;
        let new_no = Series::Receipt.document_no(&receipt.project, year, number);
        issued_event(
            &mut tx,
            cx.outbox,
            &receipt.payment_id.to_string(),
            &new,
            &new_no,
        )
        .await?;
        replacement = Some(new_id);
    } else {
        let applied = store::payment_applied(&mut tx, receipt.payment_id).await?;
        rules::may_withdraw(false, applied).map_err(ApiError::FailedPrecondition)?;
        let open = store::withdraw_payment(&mut tx, receipt.payment_id).await?;
        let resolution = format!(
            "withdrawn: receipt {receipt_no} voided (requested by {requested_by}, approved by {by}); the cash was handed back"
        );
        for exception_id in open {
            store::resolve_exception_by(&mut tx, exception_id, &resolution, &by).await?;
            let resolved = events::ExceptionResolved {
                exception_id: exception_id.to_string(),
                payment_id: receipt.payment_id.to_string(),
                resolution: resolution.clone(),
            };
            cx.outbox
                .enqueue(
                    &mut tx,
                    kit::events::PAYMENTS,
                    &receipt.payment_id.to_string(),
                    &resolved,
                )
                .await?;
        }
        store::stamp_reconciled(&mut tx, receipt.payment_id).await?;
        withdrawn = true;
    }
    store::record_void_decision(&mut tx, id, ReceiptStatus::Voided, &by, replacement, "").await?;
    let voided = events::ReceiptVoided {
        receipt_id: id.to_string(),
        receipt_no: receipt_no.clone(),
        project: receipt.project.clone(),
        payment_id: receipt.payment_id.to_string(),
        reason: receipt.void_reason.clone(),
        requested_by,
        approved_by: by,
        payment_withdrawn: withdrawn,
    };
    cx.outbox
        .enqueue(
            &mut tx,
            kit::events::PAYMENTS,
            &receipt.payment_id.to_string(),
            &voided,
        )
        .await?;
    session.close(&mut tx).await?;
    tx.commit().await?;
    tracing::info!(receipt_id = %id, receipt_no, withdrawn, "receipt voided");
    let voided = store::receipt(cx.pool, id).await?;
    let replacement = match replacement {
        Some(r) => store::receipt(cx.pool, r).await?,
        None => None,
    };
    Ok(api::ApproveReceiptVoidResponse {
        voided: voided.as_ref().map(receipt_to_api),
        replacement: replacement.as_ref().map(receipt_to_api),
    })
}

/// Another person keeps the receipt: it is issued again, the rejection noted.
pub(crate) async fn reject_void(
    cx: &Cx<'_>,
    caller: &kit::auth::Caller,
    request: api::RejectReceiptVoidRequest,
) -> Result<api::RejectReceiptVoidResponse, ApiError> {
    let id = wire::uuid("receipt_id", &request.receipt_id)?;
    let reason = wire::required("reason", &request.reason, 500)?;
    let by = caller.subject().to_owned();
    caller.touch("receipt", id);
    let mut tx = cx.pool.begin().await?;
    let receipt = locked_receipt(&mut tx, id).await?;
    let status = ReceiptStatus::parse(&receipt.status).map_err(unexpected)?;
    let requested_by = receipt.void_requested_by.clone().unwrap_or_default();
    let kept = status
        .decide_void(&requested_by, &by, false)
        .map_err(refused)?;
    let note = format!(
        "void asked by {requested_by} ({}) rejected by {by}: {reason}",
        receipt.void_reason
    );
    store::record_void_decision(&mut tx, id, kept, &by, None, &note).await?;
    tx.commit().await?;
    let receipt = store::receipt(cx.pool, id)
        .await?
        .ok_or_else(|| unexpected("receipt gone"))?;
    Ok(api::RejectReceiptVoidResponse {
        receipt: Some(receipt_to_api(&receipt)),
    })
}

pub(crate) async fn list_receipts(
    cx: &Cx<'_>,
    request: api::ListReceiptsRequest,
) -> Result<api::ListReceiptsResponse, ApiError> {
    let project = match request.project.trim() {
        "" => None,
        p => Some(project(p)?),
    };
    let date = |field: &str, value: &str| match value.trim() {
        "" => Ok(None),
        v => wire::date(field, v).map(Some),
    };
    let (from, to) = (date("from", &request.from)?, date("to", &request.to)?);
    let paging = Paging::<store::ReceiptsAfter>::parse(
        &format!("payments.ListReceipts {project:?} {from:?} {to:?}"),
        request.page_size,
        &request.page_token,
    )?;
    let rows = store::receipts_page(
        cx.pool,
        project.as_deref(),
        from,
        to,
        paging.after(),
        paging.fetch_limit(),
    )
    .await?;
    let (rows, next_page_token) = paging.finish(rows, |r| (r.issued_at, r.id));
    Ok(api::ListReceiptsResponse {
        receipts: rows.iter().map(receipt_to_api).collect(),
        next_page_token,
    })
}

/// The desk's day closes with a cash count (R-P1); a difference is an exception; the counted
/// cash is the deposit the bank will show.
pub(crate) async fn close_day(
    cx: &Cx<'_>,
    caller: &kit::auth::Caller,
    request: api::CloseDeskDayRequest,
) -> Result<api::CloseDeskDayResponse, ApiError> {
    let project = project(&request.project)?;
    let today = cx.settings.today();
    let day = match request.business_date.trim() {
        "" => today,
        d => wire::date("business_date", d)?,
    };
    if day > today {
        return Err(ApiError::invalid(
            "business_date",
            format!("{day} is after today ({today}); a day is closed once it has been worked"),
        ));
    }
    let counted = request.counted.as_ref().ok_or_else(|| {
        ApiError::invalid(
            "counted",
            "is required: the cash counted in the desk, e.g. 12000.00 CNY (0.00 when empty)",
        )
    })?;
    let currency = wire::currency("counted.currency", &counted.currency)?;
    let counted: Decimal = match counted.amount.trim() {
        "0" | "0.0" | "0.00" => Decimal::ZERO,
        a => wire::positive_amount("counted", a, &currency)?,
    };
    let deposit = optional_account("deposit_account", &request.deposit_account)?;
    if counted > Decimal::ZERO && deposit.is_empty() {
        return Err(ApiError::invalid(
            "deposit_account",
            "is required when cash was counted: the account the desk banks it into (its line on the statement is linked to this deposit)",
        ));
    }
    let by = caller.subject().to_owned();
    caller.touch("desk_day", format!("{project}/{day}"));
    let mut tx = cx.pool.begin().await?;
    let totals = store::desk_day_totals(&mut tx, &project, day).await?;
    if let Some(other) = totals.iter().find(|t| t.currency.trim() != currency) {
        return Err(ApiError::FailedPrecondition(format!(
            "the desk took {} {} on {day} besides {currency}; count each currency and close with the one the desk holds (only one currency per desk day is supported)",
            other.total,
            other.currency.trim()
        )));
    }
    let (expected, receipts) = totals
        .first()
        .map_or((Decimal::ZERO, 0), |t| (t.total, t.receipts));
    let difference = counted - expected;
    let subject = format!("desk {project} {day}");
    let exception_id = if difference.is_zero() {
        None
    } else {
        let id = Uuid::now_v7();
        let (word, action) = if difference > Decimal::ZERO {
            (
                "over",
                "find the receipt not issued (or issued for too little) and correct it; until then keep the surplus apart",
            )
        } else {
            (
                "short",
                "recount; check the day's receipts against the cash; a real shortage is reported to the finance manager",
            )
        };
        let reason = format!(
            "the cash counted at the desk of project {project} on {day} is {counted} {currency}, its {receipts} receipt(s) add up to {expected} {currency}: {} {currency} {word}",
            difference.abs()
        );
        store::insert_exception(
            &mut tx,
            &store::NewException {
                id,
                about: store::About::Other {
                    subject: &subject,
                    amount: difference.abs(),
                    currency: &currency,
                },
                kind: ExceptionKind::CashCountDifference,
                reason: &reason,
                suggested_action: action,
                candidates: "[]",
                also: &[],
            },
        )
        .await?;
        let event = events::ExceptionRaised {
            exception_id: id.to_string(),
            payment_id: String::new(),
            kind: ExceptionKind::CashCountDifference.as_str().to_owned(),
            reason,
        };
        cx.outbox
            .enqueue(&mut tx, kit::events::PAYMENTS, &subject, &event)
            .await?;
        Some(id)
    };
    let closed = store::close_desk_day(
        &mut tx,
        &store::DeskDay {
            project: &project,
            day,
            currency: &currency,
            expected,
            counted,
            receipts: i32::try_from(receipts).unwrap_or(i32::MAX),
            exception_id,
            closed_by: &by,
        },
    )
    .await?;
    if !closed {
        let who = store::desk_day_closed(&mut tx, &project, day)
            .await?
            .unwrap_or_default();
        return Err(ApiError::AlreadyExists(format!(
            "the desk of project {project} was already closed for {day} by {who}; a day is counted once"
        )));
    }
    let closed_event = events::DeskDayClosed {
        project: project.clone(),
        business_date: day.to_string(),
        expected: Some(wire::money(expected, &currency)),
        counted: Some(wire::money(counted, &currency)),
        receipts: u32::try_from(receipts).unwrap_or_default(),
        exception_id: exception_id.map(|e| e.to_string()).unwrap_or_default(),
        closed_by: by.clone(),
    };
    cx.outbox
        .enqueue(&mut tx, kit::events::PAYMENTS, &subject, &closed_event)
        .await?;
    let deposit_reference = rules::deposit_reference(&project, day);
    if counted > Decimal::ZERO {
        store::insert_expected_credit(
            &mut tx,
            &store::ExpectedCredit {
                id: Uuid::now_v7(),
                kind: store::ExpectedKind::DeskDeposit,
                batch_id: None,
                hints: &[],
                account_index: &cx.engine.account_index(&deposit),
                amount: counted,
                currency: &currency,
                reference_key: &rules::compact(&deposit_reference),
                subject: &subject,
            },
        )
        .await?;
    }
    tx.commit().await?;
    tracing::info!(project, %day, %expected, %counted, "desk day closed");
    Ok(api::CloseDeskDayResponse {
        project,
        business_date: day.to_string(),
        expected: Some(wire::money(expected, &currency)),
        counted: Some(wire::money(counted, &currency)),
        difference: Some(wire::money(difference, &currency)),
        receipts: u32::try_from(receipts).unwrap_or_default(),
        exception_id: exception_id.map(|e| e.to_string()).unwrap_or_default(),
        deposit_reference: if counted > Decimal::ZERO {
            deposit_reference
        } else {
            String::new()
        },
        closed_by: by,
    })
}

/// A bank line that is an expected credit (a desk deposit, a settlement batch's payout).
pub(crate) struct Linked {
    pub(crate) id: Uuid,
    subject: String,
    /// Set when the line names the credit but its amount differs.
    expected: Option<Decimal>,
}

/// The expected credit a bank line shows, if it is one (see `domain::settlement::decide`).
pub(crate) async fn expected_of(
    tx: &mut PgConnection,
    engine: &Engine,
    line: &Incoming,
) -> Result<Option<Linked>, ApiError> {
    let account = engine.account_index(&line.receiving_account);
    if account.is_empty() || line.settlement.is_some() {
        return Ok(None);
    }
    let open = store::open_expected_credits(tx, &account, &line.currency).await?;
    if open.is_empty() {
        return Ok(None);
    }
    let candidates: Vec<settlement::Expected> = open
        .iter()
        .map(|o| settlement::Expected {
            id: o.id,
            amount: o.amount,
            key: o.reference_key.clone(),
            hints: o.hints.clone(),
        })
        .collect();
    let subject = |id: Uuid| {
        open.iter()
            .find(|o| o.id == id)
            .map(|o| o.subject.clone())
            .unwrap_or_default()
    };
    Ok(
        match settlement::decide(&line.reference, line.amount, &candidates) {
            settlement::CreditMatch::None => None,
            settlement::CreditMatch::Exact(id) => Some(Linked {
                id,
                subject: subject(id),
                expected: None,
            }),
            settlement::CreditMatch::Mismatch { id, expected } => Some(Linked {
                id,
                subject: subject(id),
                expected: Some(expected),
            }),
        },
    )
}

/// Links the bank line to the expected credit; a differing amount goes to a person.
/// Returns whether an exception was raised.
pub(crate) async fn link_expected(
    tx: &mut PgConnection,
    outbox: &Outbox,
    linked: &Linked,
    line: &Incoming,
) -> Result<bool, ApiError> {
    store::link_expected_credit(tx, linked.id, &line.fingerprint, line.amount, line.date).await?;
    let Some(expected) = linked.expected else {
        tracing::info!(expected = %linked.id, subject = linked.subject,
            "bank line linked to the credit it was expected to be (not a new payment)");
        return Ok(false);
    };
    let difference = line.amount - expected;
    let reason = format!(
        "line {} of the bank file credits {} {} for {}, which was expected at {} {}: {} {} {}",
        line.line_no,
        line.amount,
        line.currency,
        linked.subject,
        expected,
        line.currency,
        difference.abs(),
        line.currency,
        if difference > Decimal::ZERO {
            "more"
        } else {
            "less"
        }
    );
    let id = Uuid::now_v7();
    store::insert_exception(
        tx,
        &store::NewException {
            id,
            about: store::About::Other {
                subject: &linked.subject,
                amount: difference.abs(),
                currency: &line.currency,
            },
            kind: ExceptionKind::ExpectedCreditMismatch,
            reason: &reason,
            suggested_action: "compare the bank's credit with the deposit slip or the channel's settlement report; book the difference (a fee, a short deposit) or claim it from the bank or the channel",
            candidates: "[]",
            also: &[],
        },
    )
    .await?;
    let event = events::ExceptionRaised {
        exception_id: id.to_string(),
        payment_id: String::new(),
        kind: ExceptionKind::ExpectedCreditMismatch.as_str().to_owned(),
        reason,
    };
    outbox
        .enqueue(tx, kit::events::PAYMENTS, &linked.id.to_string(), &event)
        .await?;
    Ok(true)
}

/// The batches of the file's settlement reports (R-P1, R-P7): each is recorded once with its
/// totals and becomes a credit the bank is expected to show (its net). Returns each batch's
/// id by (channel, batch, currency). A batch reported before with other totals refuses the
/// file.
pub(crate) async fn record_batches(
    tx: &mut PgConnection,
    engine: &Engine,
    file_id: Uuid,
    account: &str,
    lines: &[settlement::BatchLine],
) -> Result<std::collections::HashMap<(String, String, String), Uuid>, ApiError> {
    let account_index = engine.account_index(account);
    let mut ids = std::collections::HashMap::new();
    for t in settlement::batches(lines) {
        let channel = settlement::channel_name(t.channel);
        let (id, created, stored_net) = store::record_batch(
            tx,
            &store::NewBatch {
                channel,
                batch: &t.batch,
                account_index: &account_index,
                currency: &t.currency,
                payments: i32::try_from(t.payments).unwrap_or(i32::MAX),
                refunds: i32::try_from(t.refunds).unwrap_or(i32::MAX),
                gross: t.gross,
                fee: t.fee,
                net: t.net,
                settled_on: t.settled_on,
                file_id,
            },
        )
        .await?;
        if !created && stored_net != t.net {
            return Err(ApiError::FailedPrecondition(format!(
                "{channel} batch {} was reported before with net {stored_net} {}; this file says {} {}: ask the channel for the corrected report (nothing of this file was booked)",
                t.batch, t.currency, t.net, t.currency
            )));
        }
        if created && t.net > Decimal::ZERO {
            store::insert_expected_credit(
                tx,
                &store::ExpectedCredit {
                    id: Uuid::now_v7(),
                    kind: store::ExpectedKind::SettlementBatch,
                    batch_id: Some(id),
                    hints: &settlement::hints(t.channel),
                    account_index: &account_index,
                    amount: t.net,
                    currency: &t.currency,
                    reference_key: &rules::compact(&t.batch),
                    subject: &format!("{channel} batch {}", t.batch),
                },
            )
            .await?;
        }
        ids.insert(
            (channel.to_owned(), t.batch.clone(), t.currency.clone()),
            id,
        );
    }
    Ok(ids)
}

fn batch_to_api(b: &store::BatchRow) -> api::SettlementBatch {
    let currency = b.currency.trim();
    let money = |v: Decimal| Some(wire::money(v, currency));
    api::SettlementBatch {
        batch_id: b.id.to_string(),
        channel: b.channel.clone(),
        batch: b.batch.clone(),
        payments: u32::try_from(b.payments).unwrap_or_default(),
        refunds: u32::try_from(b.refunds).unwrap_or_default(),
        gross: money(b.gross),
        fee: money(b.fee),
        net: money(b.net),
        settled_on: b.settled_on.map(|d| d.to_string()).unwrap_or_default(),
        bank_amount: b.bank_amount.and_then(money),
        difference: b.bank_amount.and_then(|a| money(a - b.net)),
        reconciled: b.reconciled_at.is_some(),
        reconciled_at: b.reconciled_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
        booked_payments: u32::try_from(b.booked_payments).unwrap_or_default(),
        booked_gross: money(b.booked_gross),
        booked_fee: money(b.booked_fee),
    }
}

pub(crate) async fn list_batches(
    cx: &Cx<'_>,
    request: api::ListSettlementBatchesRequest,
) -> Result<api::ListSettlementBatchesResponse, ApiError> {
    let paging = Paging::<store::BatchesAfter>::parse(
        &format!(
            "payments.ListSettlementBatches {}",
            request.unreconciled_only
        ),
        request.page_size,
        &request.page_token,
    )?;
    let rows = store::batches_page(
        cx.pool,
        request.unreconciled_only,
        paging.after(),
        paging.fetch_limit(),
    )
    .await?;
    let (rows, next_page_token) = paging.finish(rows, |r| (r.created_at, r.id));
    Ok(api::ListSettlementBatchesResponse {
        batches: rows.iter().map(batch_to_api).collect(),
        next_page_token,
    })
}

/// A bank line that shows an acknowledged instrument (R-P3).
pub(crate) struct Clearing {
    ack: AcknowledgmentRow,
}

impl Clearing {
    /// The line as the payment it is: for what the acknowledgment says (its reference goes
    /// first, so cash application reads the contract the desk wrote down), by the bank's payer,
    /// else the drawer.
    pub(crate) fn incoming(&self, line: &Incoming) -> Incoming {
        let mut incoming = line.clone();
        incoming.reference = format!("{} {}", self.ack.reference, line.reference)
            .trim()
            .to_owned();
        if incoming.payer_name.trim().is_empty() {
            incoming.payer_name = self.ack.drawer.clone();
        }
        incoming
    }
}

/// The pending acknowledgment a bank line clears, if any: presented to the line's account,
/// the same amount and currency, its number in the line's reference; not one another line of
/// the file already took (`taken`).
pub(crate) async fn clearing_of(
    tx: &mut PgConnection,
    engine: &Engine,
    line: &Incoming,
    taken: &mut HashSet<Uuid>,
) -> Result<Option<Clearing>, ApiError> {
    let account = engine.account_index(&line.receiving_account);
    let pending = store::pending_acknowledgments(tx, &account, line.amount, &line.currency).await?;
    let found = pending
        .into_iter()
        .find(|a| !taken.contains(&a.id) && rules::mentions(&line.reference, &a.instrument_key));
    Ok(found.map(|ack| {
        taken.insert(ack.id);
        Clearing { ack }
    }))
}

/// Books the cleared instrument's payment with a formal receipt, and settles the
/// acknowledgment.
pub(crate) async fn clear(
    tx: &mut PgConnection,
    outbox: &Outbox,
    stored: &Stored<'_>,
    decision: &cashapp::Decision,
    clearing: &Clearing,
) -> Result<decisions::Done, ApiError> {
    let ack = &clearing.ack;
    let kind = InstrumentKind::parse(&ack.kind).map_err(unexpected)?;
    let status = AcknowledgmentStatus::parse(&ack.status).map_err(unexpected)?;
    status
        .settle(AcknowledgmentStatus::Cleared, kind)
        .map_err(ApiError::FailedPrecondition)?;
    let year = stored.line.date.year();
    let number = store::next_number(tx, Series::Receipt, &ack.project, year).await?;
    let receipt_no = Series::Receipt.document_no(&ack.project, year, number);
    let with_receipt = Stored {
        receipt_no: &receipt_no,
        ..*stored
    };
    let done = ingest::record_payment(tx, outbox, &with_receipt, decision).await?;
    let new = store::NewReceipt {
        id: Uuid::now_v7(),
        request_id: None,
        project: &ack.project,
        year,
        number,
        channel: Channel::Instrument,
        payment_id: stored.payment_id,
        acknowledgment_id: Some(ack.id),
        amount: ack.amount,
        currency: ack.currency.trim(),
        payer_name: &ack.drawer,
        reference: &ack.reference,
        business_date: stored.line.date,
        issued_by: "bank confirmation",
        replaces: None,
    };
    store::insert_receipt(tx, &new).await?;
    store::settle_acknowledgment(
        tx,
        ack.id,
        AcknowledgmentStatus::Cleared,
        Some(stored.payment_id),
        "",
        None,
    )
    .await?;
    let key = decisions::key(decision, stored.payment_id)?;
    issued_event(tx, outbox, &key, &new, &receipt_no).await?;
    let settled = events::InstrumentSettled {
        acknowledgment_id: ack.id.to_string(),
        status: types::AcknowledgmentStatus::Cleared as i32,
        payment_id: stored.payment_id.to_string(),
        receipt_no: receipt_no.clone(),
        reason: String::new(),
        exception_id: String::new(),
    };
    outbox
        .enqueue(tx, kit::events::PAYMENTS, &key, &settled)
        .await?;
    tracing::info!(acknowledgment = %ack.id, receipt_no, payment_id = %stored.payment_id,
        "acknowledged instrument cleared by the bank: payment booked with a receipt (R-P3)");
    Ok(done)
}

fn kind_from_api(kind: i32) -> Result<InstrumentKind, ApiError> {
    match types::InstrumentKind::try_from(kind) {
        Ok(types::InstrumentKind::Cheque) => Ok(InstrumentKind::Cheque),
        Ok(types::InstrumentKind::BankDraft) => Ok(InstrumentKind::BankDraft),
        Ok(types::InstrumentKind::AcceptanceBill) => Ok(InstrumentKind::AcceptanceBill),
        Ok(types::InstrumentKind::TransferSlip) => Ok(InstrumentKind::TransferSlip),
        _ => Err(ApiError::invalid(
            "kind",
            "give CHEQUE, BANK_DRAFT, ACCEPTANCE_BILL or TRANSFER_SLIP",
        )),
    }
}

fn kind_to_api(kind: &str) -> types::InstrumentKind {
    match InstrumentKind::parse(kind) {
        Ok(InstrumentKind::Cheque) => types::InstrumentKind::Cheque,
        Ok(InstrumentKind::BankDraft) => types::InstrumentKind::BankDraft,
        Ok(InstrumentKind::AcceptanceBill) => types::InstrumentKind::AcceptanceBill,
        Ok(InstrumentKind::TransferSlip) => types::InstrumentKind::TransferSlip,
        Err(_) => types::InstrumentKind::Unspecified,
    }
}

fn ack_status_to_api(status: &str) -> types::AcknowledgmentStatus {
    match AcknowledgmentStatus::parse(status) {
        Ok(AcknowledgmentStatus::Pending) => types::AcknowledgmentStatus::Pending,
        Ok(AcknowledgmentStatus::Cleared) => types::AcknowledgmentStatus::Cleared,
        Ok(AcknowledgmentStatus::Bounced) => types::AcknowledgmentStatus::Bounced,
        Err(_) => types::AcknowledgmentStatus::Unspecified,
    }
}

pub(crate) fn ack_to_api(a: &AcknowledgmentRow) -> api::Acknowledgment {
    let currency = a.currency.trim();
    api::Acknowledgment {
        acknowledgment_id: a.id.to_string(),
        project: a.project.clone(),
        year: u32::try_from(a.year).unwrap_or_default(),
        number: u32::try_from(a.number).unwrap_or_default(),
        acknowledgment_no: a.document_no(),
        kind: kind_to_api(&a.kind) as i32,
        instrument_no: a.instrument_no.clone(),
        drawer: a.drawer.clone(),
        drawer_bank: a.drawer_bank.clone(),
        amount: Some(wire::money(a.amount, currency)),
        reference: a.reference.clone(),
        status: ack_status_to_api(&a.status) as i32,
        due_date: a.due_date.map(|d| d.to_string()).unwrap_or_default(),
        term_days: a
            .term_days
            .and_then(|d| u32::try_from(d).ok())
            .unwrap_or_default(),
        occupation_fee: a.occupation_fee.map(|f| wire::money(f, currency)),
        payment_id: a.payment_id.map(|p| p.to_string()).unwrap_or_default(),
        receipt_id: a.receipt_id.map(|r| r.to_string()).unwrap_or_default(),
        bounce_reason: a.bounce_reason.clone(),
        exception_id: a.exception_id.map(|e| e.to_string()).unwrap_or_default(),
        recorded_by: a.recorded_by.clone(),
        recorded_at: a.recorded_at.to_rfc3339(),
        settled_at: a.settled_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
    }
}

/// R-P3: an instrument handed over is acknowledged, not booked.
pub(crate) async fn record_acknowledgment(
    cx: &Cx<'_>,
    caller: &kit::auth::Caller,
    request: api::RecordAcknowledgmentRequest,
) -> Result<api::RecordAcknowledgmentResponse, ApiError> {
    let request_id = wire::required("request_id", &request.request_id, 100)?;
    let project = project(&request.project)?;
    let kind = kind_from_api(request.kind)?;
    let instrument_no = wire::required("instrument_no", &request.instrument_no, 60)?;
    let key =
        rules::instrument_key(&instrument_no).map_err(|e| ApiError::invalid("instrument_no", e))?;
    let drawer = wire::required("drawer", &request.drawer, 200)?;
    let drawer_bank = match kind {
        InstrumentKind::TransferSlip => request.drawer_bank.trim().to_owned(),
        _ => wire::required("drawer_bank", &request.drawer_bank, 200)?,
    };
    let (amount, currency) = money("amount", request.amount.as_ref(), "50000.00 CNY")?;
    let reference = wire::required("reference", &request.reference, 500)?;
    let deposit = wire::account("deposit_account", &request.deposit_account).map_err(|_| {
        ApiError::invalid(
            "deposit_account",
            "is required: the account the instrument is presented to (its bank line is matched on it)",
        )
    })?;
    let unit = wire::minor_units(&currency).map_or(Decimal::new(1, 2), |m| Decimal::new(1, m));
    let (issue_date, due_date, term) = if kind == InstrumentKind::AcceptanceBill {
        let issue = wire::date("issue_date", &request.issue_date)?;
        let due = wire::date("due_date", &request.due_date)?;
        let term = rules::bill_term(
            issue,
            due,
            amount,
            cx.settings.bill_occupation_rate,
            request.accept_occupation_fee,
            unit,
        )
        .map_err(|e| ApiError::invalid("due_date", e))?;
        (Some(issue), Some(due), Some(term))
    } else {
        (None, None, None)
    };
    let by = caller.subject().to_owned();
    let today = cx.settings.today();
    let mut tx = cx.pool.begin().await?;
    if let Some(previous) = store::acknowledgment_by_request(&mut tx, &request_id).await? {
        if previous.instrument_key != key || previous.amount != amount {
            return Err(ApiError::AlreadyExists(format!(
                "request_id {request_id:?} recorded acknowledgment {} of another instrument; use a new request_id",
                previous.document_no()
            )));
        }
        return Ok(api::RecordAcknowledgmentResponse {
            acknowledgment: Some(ack_to_api(&previous)),
            repeat: true,
        });
    }
    let year = today.year();
    let number = store::next_number(&mut tx, Series::Acknowledgment, &project, year).await?;
    let id = Uuid::now_v7();
    let inserted = store::insert_acknowledgment(
        &mut tx,
        &store::NewAcknowledgment {
            id,
            request_id: &request_id,
            project: &project,
            year,
            number,
            kind: kind.as_str(),
            instrument_no: &instrument_no,
            instrument_key: &key,
            drawer: &drawer,
            drawer_bank: &drawer_bank,
            amount,
            currency: &currency,
            reference: &reference,
            deposit_account: &cx
                .engine
                .seal_account(&deposit)
                .map_err(|e| ApiError::Unexpected(e.into()))?
                .0,
            deposit_account_index: &cx.engine.account_index(&deposit),
            business_date: today,
            issue_date,
            due_date,
            term_days: term.as_ref().and_then(|t| i32::try_from(t.days).ok()),
            occupation_fee: term.as_ref().map(|t| t.fee),
            recorded_by: &by,
        },
    )
    .await?;
    if !inserted {
        return Err(ApiError::AlreadyExists(format!(
            "instrument {instrument_no} for {amount} {currency} is already acknowledged and waiting for the bank; list the pending ones with ListAcknowledgments"
        )));
    }
    // R-C10: a bill over 90 days carries the fund-occupation fee, charged to the customer
    // through contracts on the contract the bill pays (owed as interest).
    if let Some(fee) = term.as_ref().map(|t| t.fee).filter(|f| *f > Decimal::ZERO) {
        let Some((receivable, customer)) =
            store::receivable_named_in(&mut tx, &rules::compact(&reference), &currency).await?
        else {
            return Err(ApiError::invalid(
                "reference",
                format!(
                    "{reference:?} names no contract with a receivable in {currency}; the bill's fund-occupation fee of {fee} {currency} is charged to the contract it pays: give its contract number"
                ),
            ));
        };
        let charge = events::CollectionCostIncurred {
            cost_id: id.to_string(),
            customer_id: customer.to_string(),
            receivable_id: receivable.to_string(),
            kind: types::CostKind::FundOccupationFee as i32,
            amount: Some(wire::money(fee, &currency)),
            incurred_on: today.to_string(),
            source: format!(
                "acknowledgment {}",
                Series::Acknowledgment.document_no(&project, year, number)
            ),
            description: format!(
                "fund-occupation fee of acceptance bill {instrument_no}: {} days, {} over 90 (R-C10)",
                term.as_ref().map_or(0, |t| t.days),
                term.as_ref().map_or(0, |t| t.days - rules::BILL_FREE_DAYS)
            ),
        };
        cx.outbox
            .enqueue(
                &mut tx,
                kit::events::PAYMENTS,
                &customer.to_string(),
                &charge,
            )
            .await?;
    }
    let acknowledged = events::InstrumentAcknowledged {
        acknowledgment_id: id.to_string(),
        acknowledgment_no: Series::Acknowledgment.document_no(&project, year, number),
        project: project.clone(),
        kind: kind_to_api(kind.as_str()) as i32,
        instrument_no: instrument_no.clone(),
        amount: Some(wire::money(amount, &currency)),
        reference: reference.clone(),
        recorded_by: by.clone(),
    };
    cx.outbox
        .enqueue(
            &mut tx,
            kit::events::PAYMENTS,
            &id.to_string(),
            &acknowledged,
        )
        .await?;
    tx.commit().await?;
    caller.touch("acknowledgment", id);
    tracing::info!(acknowledgment = %id, kind = kind.as_str(), "instrument acknowledged (not a payment, R-P3)");
    let row = store::acknowledgment(cx.pool, id)
        .await?
        .ok_or_else(|| unexpected("acknowledgment gone"))?;
    Ok(api::RecordAcknowledgmentResponse {
        acknowledgment: Some(ack_to_api(&row)),
        repeat: false,
    })
}

/// The bank returned the instrument unpaid: the acknowledgment closes as bounced and an
/// exception goes to the queue.
pub(crate) async fn record_bounce(
    cx: &Cx<'_>,
    caller: &kit::auth::Caller,
    request: api::RecordBounceRequest,
) -> Result<api::RecordBounceResponse, ApiError> {
    let id = wire::uuid("acknowledgment_id", &request.acknowledgment_id)?;
    let reason = wire::required("reason", &request.reason, 500)?;
    caller.touch("acknowledgment", id);
    let mut tx = cx.pool.begin().await?;
    let ack = store::lock_acknowledgment(&mut tx, id)
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "no acknowledgment with id {id}; list them with ListAcknowledgments"
            ))
        })?;
    let kind = InstrumentKind::parse(&ack.kind).map_err(unexpected)?;
    AcknowledgmentStatus::parse(&ack.status)
        .map_err(unexpected)?
        .settle(AcknowledgmentStatus::Bounced, kind)
        .map_err(ApiError::FailedPrecondition)?;
    let exception_id = Uuid::now_v7();
    let subject = format!(
        "{} {} ({})",
        kind.label(),
        ack.instrument_no,
        ack.document_no()
    );
    let text = format!(
        "{} {} of {} for {} {} ({}) was returned unpaid by the bank: {reason}",
        kind.label(),
        ack.instrument_no,
        ack.drawer,
        ack.amount,
        ack.currency.trim(),
        ack.reference
    );
    store::insert_exception(
        &mut tx,
        &store::NewException {
            id: exception_id,
            about: store::About::Other {
                subject: &subject,
                amount: ack.amount,
                currency: ack.currency.trim(),
            },
            kind: ExceptionKind::InstrumentBounced,
            reason: &text,
            suggested_action: "tell the customer and the collector: the installment is still unpaid and dunning goes on; ask for a new payment, and consider the bank's reason (insufficient funds is a warning sign for scoring)",
            candidates: "[]",
            also: &[],
        },
    )
    .await?;
    store::settle_acknowledgment(
        &mut tx,
        id,
        AcknowledgmentStatus::Bounced,
        None,
        &reason,
        Some(exception_id),
    )
    .await?;
    let event = events::ExceptionRaised {
        exception_id: exception_id.to_string(),
        payment_id: String::new(),
        kind: ExceptionKind::InstrumentBounced.as_str().to_owned(),
        reason: text,
    };
    cx.outbox
        .enqueue(&mut tx, kit::events::PAYMENTS, &id.to_string(), &event)
        .await?;
    let settled = events::InstrumentSettled {
        acknowledgment_id: id.to_string(),
        status: types::AcknowledgmentStatus::Bounced as i32,
        payment_id: String::new(),
        receipt_no: String::new(),
        reason: reason.clone(),
        exception_id: exception_id.to_string(),
    };
    cx.outbox
        .enqueue(&mut tx, kit::events::PAYMENTS, &id.to_string(), &settled)
        .await?;
    tx.commit().await?;
    tracing::warn!(acknowledgment = %id, "instrument bounced");
    let row = store::acknowledgment(cx.pool, id)
        .await?
        .ok_or_else(|| unexpected("acknowledgment gone"))?;
    Ok(api::RecordBounceResponse {
        acknowledgment: Some(ack_to_api(&row)),
    })
}

pub(crate) async fn list_acknowledgments(
    cx: &Cx<'_>,
    request: api::ListAcknowledgmentsRequest,
) -> Result<api::ListAcknowledgmentsResponse, ApiError> {
    let project = match request.project.trim() {
        "" => None,
        p => Some(project(p)?),
    };
    let status = match types::AcknowledgmentStatus::try_from(request.status) {
        Ok(types::AcknowledgmentStatus::Unspecified) => None,
        Ok(types::AcknowledgmentStatus::Pending) => Some(AcknowledgmentStatus::Pending),
        Ok(types::AcknowledgmentStatus::Cleared) => Some(AcknowledgmentStatus::Cleared),
        Ok(types::AcknowledgmentStatus::Bounced) => Some(AcknowledgmentStatus::Bounced),
        Err(_) => {
            return Err(ApiError::invalid(
                "status",
                "give PENDING, CLEARED, BOUNCED or leave it unset for all",
            ));
        }
    };
    let paging = Paging::<store::AcknowledgmentsAfter>::parse(
        &format!("payments.ListAcknowledgments {project:?} {status:?}"),
        request.page_size,
        &request.page_token,
    )?;
    let rows = store::acknowledgments_page(
        cx.pool,
        project.as_deref(),
        status,
        paging.after(),
        paging.fetch_limit(),
    )
    .await?;
    let (rows, next_page_token) = paging.finish(rows, |r| (r.recorded_at, r.id));
    Ok(api::ListAcknowledgmentsResponse {
        acknowledgments: rows.iter().map(ack_to_api).collect(),
        next_page_token,
    })
}

/// R-P7: finance reconciles within two hours of arrival; what is older and still waiting.
pub(crate) async fn unreconciled(
    cx: &Cx<'_>,
    request: api::ListUnreconciledRequest,
) -> Result<api::ListUnreconciledResponse, ApiError> {
    let minutes = match request.max_age_minutes {
        0 => 120,
        m if m > 60 * 24 * 366 => {
            return Err(ApiError::invalid(
                "max_age_minutes",
                "at most a year (527040 minutes)",
            ));
        }
        m => m,
    };
    let now: DateTime<Utc> = Utc::now();
    let before = now - chrono::Duration::minutes(i64::from(minutes));
    let limit = i64::from(kit::paging::page_size(request.page_size));
    let (rows, total) = store::unreconciled(cx.pool, before, limit).await?;
    let payments = rows
        .into_iter()
        .map(|r| {
            let currency = r.currency.trim();
            let waiting_for = match &r.open_kind {
                Some(kind) => format!("a person: open {kind} exception"),
                None => "contracts to confirm the allocation".to_owned(),
            };
            api::Unreconciled {
                payment: Some(api::Payment {
                    payment_id: r.id.to_string(),
                    booking_date: r.booking_date.to_string(),
                    amount: Some(wire::money(r.amount, currency)),
                    payer_name: r.payer_name,
                    reference: r.reference,
                    status: payment_status_to_api(&r.status) as i32,
                    file_id: r.file_id.map(|f| f.to_string()).unwrap_or_default(),
                    line_no: u32::try_from(r.line_no).unwrap_or_default(),
                    channel: channel_to_api(&r.channel) as i32,
                    arrived_at: r.created_at.to_rfc3339(),
                    ..Default::default()
                }),
                channel: channel_to_api(&r.channel) as i32,
                arrived_at: r.created_at.to_rfc3339(),
                age_minutes: u32::try_from((now - r.created_at).num_minutes()).unwrap_or_default(),
                waiting_for,
            }
        })
        .collect();
    Ok(api::ListUnreconciledResponse {
        payments,
        total: u32::try_from(total).unwrap_or(u32::MAX),
    })
}

/// The receipt or acknowledgment as a printable A4 PDF.
pub(crate) async fn render(
    cx: &Cx<'_>,
    font: &documents::Font,
    request: api::RenderReceiptRequest,
) -> Result<api::RenderReceiptResponse, ApiError> {
    let id = wire::uuid("id", &request.id)?;
    let doc = if let Some(r) = store::receipt(cx.pool, id).await? {
        receipt_document(&r)?
    } else if let Some(a) = store::acknowledgment(cx.pool, id).await? {
        acknowledgment_document(&a)?
    } else {
        return Err(ApiError::NotFound(format!(
            "no receipt or acknowledgment with id {id}"
        )));
    };
    let file_name = format!("{}.pdf", doc.id);
    let font = font.clone();
    let pdf = tokio::task::spawn_blocking(move || documents::to_pdf(&doc, &font))
        .await
        .map_err(|e| ApiError::Unexpected(e.into()))?
        .map_err(|e| ApiError::Unexpected(e.into()))?;
    Ok(api::RenderReceiptResponse { pdf, file_name })
}

fn words(amount: Decimal, currency: &str) -> String {
    match (currency, documents::rmb_in_words(amount)) {
        ("CNY", Some(w)) => format!("人民币{w}"),
        _ => format!("{} {currency}", documents::format_amount(amount)),
    }
}

fn receipt_document(r: &ReceiptRow) -> Result<documents::Document, ApiError> {
    let currency = r.currency.trim();
    let channel = match Channel::parse(&r.channel) {
        Ok(Channel::DeskCash) => "现金 cash at the desk",
        Ok(Channel::Instrument) => "票据（银行已兑付）instrument cleared by the bank",
        _ => "银行转账 bank transfer",
    };
    let status = ReceiptStatus::parse(&r.status).map_err(unexpected)?;
    let mut doc = documents::Document::new(
        documents::Lang::ZhCn,
        r.document_no(),
        r.business_date,
        "收据 Receipt",
    )
    .subtitle(format!("项目 Project {}", r.project))
    .field("交款人 Received from", r.payer_name.clone())
    .field("事由 For", r.reference.clone())
    .field("收款方式 Paid by", channel)
    .field(
        "金额 Amount",
        format!("{} {currency}", documents::format_amount(r.amount)),
    )
    .field("大写 In words", words(r.amount, currency))
    .field("收款人 Cashier", r.issued_by.clone())
    .footer(format!("{} · {}", r.document_no(), r.payment_id));
    if status == ReceiptStatus::Voided {
        doc = doc.subtitle(format!(
            "作废 VOID — {} ({})",
            r.void_reason,
            r.voided_by.clone().unwrap_or_default()
        ));
    }
    if r.replaces.is_some() {
        doc = doc.note("本收据替换此前作废的收据。This receipt replaces a voided one.");
    }
    Ok(doc.note("本收据编号连续，作废收据保留编号。Receipt numbers have no gaps; void receipts keep theirs."))
}

fn acknowledgment_document(a: &AcknowledgmentRow) -> Result<documents::Document, ApiError> {
    let currency = a.currency.trim();
    let kind = InstrumentKind::parse(&a.kind).map_err(unexpected)?;
    let mut doc = documents::Document::new(
        documents::Lang::ZhCn,
        a.document_no(),
        a.business_date,
        "收条 Acknowledgment",
    )
    .subtitle(format!("项目 Project {}", a.project))
    .field("票据 Instrument", kind.label())
    .field("票号 Number", a.instrument_no.clone())
    .field("出票人 Drawer", a.drawer.clone())
    .field("付款行 Bank", a.drawer_bank.clone())
    .field(
        "金额 Amount",
        format!("{} {currency}", documents::format_amount(a.amount)),
    )
    .field("大写 In words", words(a.amount, currency))
    .field("事由 For", a.reference.clone())
    .field("经办人 Recorded by", a.recorded_by.clone());
    if let (Some(issued), Some(due), Some(days)) = (a.issue_date, a.due_date, a.term_days) {
        doc = doc.field(
            "出票日 / 到期日 Issued / due",
            format!("{issued} / {due} ({days} 天 days)"),
        );
    }
    if let Some(fee) = a.occupation_fee.filter(|f| !f.is_zero()) {
        doc = doc.field(
            "资金占用费 Fund-occupation fee",
            format!("{} {currency}", documents::format_amount(fee)),
        );
    }
    Ok(doc.note(
        "本收条仅证明收到上述票据，不是付款凭证；款项以银行到账为准，到账后另开收据。This acknowledges the instrument only: it is not a receipt for money. A receipt is issued when the bank confirms the funds (R-P3).",
    ))
}
