//! Cash at the desk (R-P1): receipts numbered without gaps, voided by two people.

use super::*;

/// R-P1: a cashier records cash received; a numbered receipt is issued and the payment goes
/// through cash application in the same transaction.
pub(crate) async fn record_receipt(
    cx: &Cx<'_>,
    caller: &kit::auth::Caller,
    request: api::RecordDeskReceiptRequest,
) -> Result<api::RecordDeskReceiptResponse, ApiError> {
    let request_id = wire::required("request_id", &request.request_id, 100)?;
    let project = project(&request.project)?;
    let (amount, currency) =
        wire::required_money("amount", request.amount.as_ref(), "5000.00 CNY")?;
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

pub(super) async fn issued_event(
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

pub(super) fn payment_status_to_api(status: &str) -> api::PaymentStatus {
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
