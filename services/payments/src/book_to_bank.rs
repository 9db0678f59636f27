//! `ReconcileBookToBank` (R-P7): parse the request, read both sides from the store, let the
//! domain compare them, answer with masked accounts.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::PgPool;

use kit::{ApiError, wire};
use proto::payments::v1 as api;

use crate::domain::book_to_bank::{
    self as domain, BookEntry, BookStatus, DayReport, DiscrepancyKind, StatementDay,
};
use crate::domain::status::PaymentStatus;
use crate::store;

/// Longest range one call reconciles.
const MAX_DAYS: i64 = 366;

pub(crate) async fn reconcile(
    pool: &PgPool,
    engine: &crate::engine::Engine,
    caller: &kit::auth::Caller,
    request: api::ReconcileBookToBankRequest,
) -> Result<api::ReconcileBookToBankResponse, ApiError> {
    let account = wire::account("account", &request.account)?;
    let from = wire::date("from", &request.from)?;
    let to = wire::date("to", &request.to)?;
    if from > to {
        return Err(ApiError::invalid(
            "to",
            format!("{to} is before from {from}"),
        ));
    }
    if (to - from).num_days() >= MAX_DAYS {
        return Err(ApiError::invalid(
            "to",
            format!("at most {MAX_DAYS} days per call; split the range"),
        ));
    }
    let currency = match request.currency.trim() {
        "" => "CNY".to_owned(),
        c => wire::currency("currency", c)?,
    };
    // Masked without the spaces people write, so the last four are digits (R-O4).
    let masked = wire::mask(&account.replace(' ', ""));
    caller.touch("account", &masked);
    // Both sides are found by the account's blind index, never by the account (R-O4).
    let account = engine.account_index(&account);
    let statements: Vec<StatementDay> = store::statements_of_account(pool, &account, from, to)
        .await?
        .into_iter()
        .map(|s| StatementDay {
            source: format!("{}:{}", s.file_name, s.line_no),
            date: s.business_date,
            currency: s.currency.trim().to_owned(),
            opening: s.opening,
            closing: s.closing,
            credits: s.credits,
            debits: s.debits,
            credit_lines: u32::try_from(s.credit_lines).unwrap_or_default(),
            // A line whose payment is gone counts as not booked: amount from the statement
            // is unknown per line, so zero is never used; such lines are skipped here and
            // show in the day's totals.
            lines: s
                .fingerprints
                .into_iter()
                .zip(s.amounts)
                .filter_map(|(f, a)| a.map(|a| (f, a)))
                .collect(),
            rejected: s.rejected,
        })
        .collect();
    let book: Vec<BookEntry> = store::book_of_account(pool, &account, from, to)
        .await?
        .into_iter()
        .map(|p| BookEntry {
            payment_id: p.id.to_string(),
            date: p.booking_date,
            amount: p.amount,
            currency: p.currency.trim().to_owned(),
            status: if p.held_duplicate {
                BookStatus::HeldDuplicate
            } else if PaymentStatus::parse(&p.status) == Ok(PaymentStatus::Exception) {
                BookStatus::Exception
            } else if p.allocated {
                BookStatus::Applied
            } else {
                BookStatus::Unapplied
            },
            fingerprint: p.fingerprint.unwrap_or_default(),
            refunded: p.refunded,
        })
        .collect();
    let days = domain::reconcile(from, to, &currency, &statements, &book)
        .map_err(|e| ApiError::FailedPrecondition(e.to_string()))?;
    let discrepancy_count = days.iter().map(|d| d.discrepancies.len()).sum::<usize>();
    Ok(api::ReconcileBookToBankResponse {
        account_masked: masked,
        currency: currency.clone(),
        from: from.to_string(),
        to: to.to_string(),
        days: days.iter().map(|d| day(d, &currency)).collect(),
        matched: discrepancy_count == 0,
        discrepancy_count: u32::try_from(discrepancy_count).unwrap_or(u32::MAX),
    })
}

fn amount(value: Decimal, currency: &str) -> String {
    wire::format_amount(value, currency)
}

fn day(d: &DayReport, currency: &str) -> api::ReconciledDay {
    let date = |n: NaiveDate| n.to_string();
    api::ReconciledDay {
        business_date: date(d.date),
        statements: d.statements,
        opening: d.opening.map(|v| amount(v, currency)).unwrap_or_default(),
        closing: d.closing.map(|v| amount(v, currency)).unwrap_or_default(),
        bank_credits: amount(d.bank_credits, currency),
        bank_debits: amount(d.bank_debits, currency),
        bank_credit_lines: d.bank_lines,
        book_applied: amount(d.book_applied, currency),
        book_unapplied: amount(d.book_unapplied, currency),
        book_exceptions: amount(d.book_exceptions, currency),
        book_refunded: amount(d.book_refunded, currency),
        book_total: amount(d.book_total(), currency),
        book_payments: d.book_payments,
        discrepancies: d
            .discrepancies
            .iter()
            .map(|x| api::Discrepancy {
                kind: kind(x.kind) as i32,
                business_date: date(x.date),
                amount: amount(x.amount, currency),
                detail: x.detail.clone(),
                next_step: x.kind.next_step().to_owned(),
            })
            .collect(),
    }
}

fn kind(k: DiscrepancyKind) -> api::DiscrepancyKind {
    match k {
        DiscrepancyKind::MissingStatement => api::DiscrepancyKind::MissingStatement,
        DiscrepancyKind::BalanceDoesNotAddUp => api::DiscrepancyKind::BalanceDoesNotAddUp,
        DiscrepancyKind::OpeningDoesNotFollow => api::DiscrepancyKind::OpeningDoesNotFollow,
        DiscrepancyKind::StatementRejected => api::DiscrepancyKind::StatementRejected,
        DiscrepancyKind::BankLineNotBooked => api::DiscrepancyKind::BankLineNotBooked,
        DiscrepancyKind::BookedNotOnStatement => api::DiscrepancyKind::BookedNotOnStatement,
        DiscrepancyKind::AmountDiffers => api::DiscrepancyKind::AmountDiffers,
        DiscrepancyKind::Duplicate => api::DiscrepancyKind::Duplicate,
        DiscrepancyKind::CurrencyDiffers => api::DiscrepancyKind::CurrencyDiffers,
    }
}
