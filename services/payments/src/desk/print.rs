//! Receipts and acknowledgments as printable PDF.

use super::*;

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
