//! Cheques, drafts, acceptance bills and transfer slips (R-P3, R-C10): acknowledged, cleared by a bank line, or bounced.

use super::receipts::issued_event;
use super::*;

/// A bank line that shows an acknowledged instrument (R-P3).
pub(crate) struct Clearing {
    pub(super) ack: AcknowledgmentRow,
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
    let (amount, currency) =
        wire::required_money("amount", request.amount.as_ref(), "50000.00 CNY")?;
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
