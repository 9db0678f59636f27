//! The desk's day: the cash count and the deposit the bank will show (R-P1).

use super::*;

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
