//! Book-to-bank reconciliation per receiving account and business day (R-P7): the bank's
//! end-of-day statements against the payments the book recorded, with a discrepancy report
//! that says for each difference how much and what to do next. Exact decimal arithmetic
//! (`rust_decimal`, checked), never floats; a sum that overflows is reported, not wrapped.
//!
//! Bank side, per statement: opening + credits − debits must equal closing; its booked
//! credits are the lines that should be payments. Book side: the payments recorded on the
//! account with that booking date (applied, unapplied or waiting as an exception), each
//! known by the fingerprint of the bank line it came from. A day matches when every
//! statement adds up, every credit line is booked, every payment is on a statement, and the
//! totals agree.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use rust_decimal::Decimal;

/// One end-of-day statement as stored.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StatementDay {
    /// Where it came from, for people: file name and line.
    pub(crate) source: String,
    pub(crate) date: NaiveDate,
    pub(crate) currency: String,
    pub(crate) opening: Option<Decimal>,
    pub(crate) closing: Option<Decimal>,
    /// Booked credits (money in) and debits (money out, positive).
    pub(crate) credits: Decimal,
    pub(crate) debits: Decimal,
    /// Booked credit lines the statement reports.
    pub(crate) credit_lines: u32,
    /// The credit lines that became bank lines: fingerprint and amount.
    pub(crate) lines: Vec<(String, Decimal)>,
    /// Why ingestion refused the statement (its lines were not booked), or empty.
    pub(crate) rejected: String,
}

/// Where a recorded payment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BookStatus {
    /// Allocated to receivables (possibly in part).
    Applied,
    /// Recorded, nothing allocated yet.
    Unapplied,
    /// Waiting in the exception queue.
    Exception,
    /// Held as a `DUPLICATE` of a line already booked: not money of its own.
    HeldDuplicate,
}

/// One recorded payment on the account.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BookEntry {
    pub(crate) payment_id: String,
    pub(crate) date: NaiveDate,
    pub(crate) amount: Decimal,
    pub(crate) currency: String,
    pub(crate) status: BookStatus,
    /// Fingerprint of the bank line it came from.
    pub(crate) fingerprint: String,
    /// Σ of its approved refunds (R-P9): money that went back out of its unapplied surplus.
    pub(crate) refunded: Decimal,
}

/// The kinds of difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum DiscrepancyKind {
    /// Payments were booked on a day without an end-of-day statement.
    MissingStatement,
    /// Opening + credits − debits is not the closing balance.
    BalanceDoesNotAddUp,
    /// The opening balance is not the previous statement's closing balance.
    OpeningDoesNotFollow,
    /// Ingestion refused the statement; its lines were not booked.
    StatementRejected,
    /// A credit on the statement has no payment in the book.
    BankLineNotBooked,
    /// A payment in the book is on no statement of its day.
    BookedNotOnStatement,
    /// The day's bank credits and booked payments differ in total.
    AmountDiffers,
    /// Two statements for one day, or a payment held as a duplicate.
    Duplicate,
    /// Amounts in another currency than the statement's.
    CurrencyDiffers,
}

impl DiscrepancyKind {
    /// What finance should do about it.
    pub(crate) fn next_step(self) -> &'static str {
        match self {
            DiscrepancyKind::MissingStatement => {
                "ask the bank for the day's end-of-day statement (MT940/camt.053) and ingest it"
            }
            DiscrepancyKind::BalanceDoesNotAddUp => {
                "the statement is incomplete or corrupt: ask the bank to send it again"
            }
            DiscrepancyKind::OpeningDoesNotFollow => {
                "a statement between the two is missing: ask the bank for it"
            }
            DiscrepancyKind::StatementRejected => {
                "see the file's line errors; get a corrected statement from the bank and ingest it"
            }
            DiscrepancyKind::BankLineNotBooked => {
                "money arrived that the book does not show: check the file's line errors and ingest the line (collectctl ingest)"
            }
            DiscrepancyKind::BookedNotOnStatement => {
                "the book shows money the bank statement does not: check the payment's source file; reverse it if the bank did not book it"
            }
            DiscrepancyKind::AmountDiffers => {
                "the day's totals differ: resolve the line-level differences listed for the day"
            }
            DiscrepancyKind::Duplicate => {
                "decide the DUPLICATE exception in the queue (collectctl exceptions list --kind DUPLICATE)"
            }
            DiscrepancyKind::CurrencyDiffers => {
                "check the account's currency; book-to-bank compares one currency per account"
            }
        }
    }
}

/// One difference.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Discrepancy {
    pub(crate) kind: DiscrepancyKind,
    pub(crate) date: NaiveDate,
    /// Signed: bank minus book for totals; the line's amount for a line.
    pub(crate) amount: Decimal,
    /// What exactly (statement source, payment id), never personal data.
    pub(crate) detail: String,
}

/// One day of one account.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DayReport {
    pub(crate) date: NaiveDate,
    pub(crate) statements: u32,
    pub(crate) opening: Option<Decimal>,
    pub(crate) closing: Option<Decimal>,
    pub(crate) bank_credits: Decimal,
    pub(crate) bank_debits: Decimal,
    pub(crate) bank_lines: u32,
    pub(crate) book_applied: Decimal,
    pub(crate) book_unapplied: Decimal,
    pub(crate) book_exceptions: Decimal,
    /// Refunded of the day's payments (approved refunds of their surplus, R-P9).
    pub(crate) book_refunded: Decimal,
    pub(crate) book_payments: u32,
    pub(crate) discrepancies: Vec<Discrepancy>,
}

impl DayReport {
    /// Booked total, what was received: applied + unapplied + waiting as exceptions +
    /// refunded (held duplicates excluded). A refund moves money from the surplus to
    /// `book_refunded`; the received total the bank's credits are compared with stays.
    pub(crate) fn book_total(&self) -> Decimal {
        self.book_applied + self.book_unapplied + self.book_exceptions + self.book_refunded
    }
}

/// Why a reconciliation could not be computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReconcileError {
    /// `from` is after `to`.
    Range { from: NaiveDate, to: NaiveDate },
    /// A sum of the day does not fit a decimal.
    Overflow(NaiveDate),
}

impl std::fmt::Display for ReconcileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReconcileError::Range { from, to } => write!(f, "from {from} is after to {to}"),
            ReconcileError::Overflow(day) => {
                write!(f, "the amounts of {day} overflow the decimal range")
            }
        }
    }
}

impl std::error::Error for ReconcileError {}

fn add(a: Decimal, b: Decimal, day: NaiveDate) -> Result<Decimal, ReconcileError> {
    a.checked_add(b).ok_or(ReconcileError::Overflow(day))
}

fn sub(a: Decimal, b: Decimal, day: NaiveDate) -> Result<Decimal, ReconcileError> {
    a.checked_sub(b).ok_or(ReconcileError::Overflow(day))
}

/// Reconciles `statements` and `book` of one account from `from` to `to` (inclusive), in
/// `currency`. Days with neither statements nor payments are left out. Statements and
/// payments outside the range are ignored.
pub(crate) fn reconcile(
    from: NaiveDate,
    to: NaiveDate,
    currency: &str,
    statements: &[StatementDay],
    book: &[BookEntry],
) -> Result<Vec<DayReport>, ReconcileError> {
    if from > to {
        return Err(ReconcileError::Range { from, to });
    }
    let in_range = |d: NaiveDate| d >= from && d <= to;
    let mut days: BTreeSet<NaiveDate> = BTreeSet::new();
    days.extend(statements.iter().map(|s| s.date).filter(|d| in_range(*d)));
    days.extend(book.iter().map(|b| b.date).filter(|d| in_range(*d)));
    let mut previous_closing: Option<(NaiveDate, Decimal)> = None;
    let mut reports = Vec::with_capacity(days.len());
    for day in days {
        let day_statements: Vec<&StatementDay> =
            statements.iter().filter(|s| s.date == day).collect();
        let day_book: Vec<&BookEntry> = book.iter().filter(|b| b.date == day).collect();
        let report = reconcile_day(day, currency, &day_statements, &day_book, previous_closing)?;
        if let Some(closing) = report.closing {
            previous_closing = Some((day, closing));
        }
        reports.push(report);
    }
    Ok(reports)
}

fn reconcile_day(
    day: NaiveDate,
    currency: &str,
    statements: &[&StatementDay],
    book: &[&BookEntry],
    previous_closing: Option<(NaiveDate, Decimal)>,
) -> Result<DayReport, ReconcileError> {
    let mut found = Vec::new();
    let mut note = |kind: DiscrepancyKind, amount: Decimal, detail: String| {
        found.push(Discrepancy {
            kind,
            date: day,
            amount,
            detail,
        });
    };
    let mut report = DayReport {
        date: day,
        statements: u32::try_from(statements.len()).unwrap_or(u32::MAX),
        opening: statements.first().and_then(|s| s.opening),
        closing: statements.last().and_then(|s| s.closing),
        bank_credits: Decimal::ZERO,
        bank_debits: Decimal::ZERO,
        bank_lines: 0,
        book_applied: Decimal::ZERO,
        book_unapplied: Decimal::ZERO,
        book_exceptions: Decimal::ZERO,
        book_refunded: Decimal::ZERO,
        book_payments: 0,
        discrepancies: Vec::new(),
    };
    // The bank side: each statement adds up; one statement per day.
    let mut on_statement: BTreeMap<&str, Decimal> = BTreeMap::new();
    for (i, s) in statements.iter().enumerate() {
        if s.currency != currency {
            note(
                DiscrepancyKind::CurrencyDiffers,
                s.credits,
                format!(
                    "{} is in {}, the account in {currency}",
                    s.source, s.currency
                ),
            );
            continue;
        }
        // The same statement again (same balances and totals, e.g. re-sent as another
        // file): reported once as a duplicate and not counted. Another part of a multi-part
        // statement has other balances and is counted.
        let repeated = statements[..i].iter().any(|e| {
            e.opening == s.opening
                && e.closing == s.closing
                && e.credits == s.credits
                && e.debits == s.debits
        });
        if repeated {
            note(
                DiscrepancyKind::Duplicate,
                s.credits,
                format!(
                    "{} repeats an earlier statement of the day; not counted",
                    s.source
                ),
            );
            continue;
        }
        if !s.rejected.is_empty() {
            note(
                DiscrepancyKind::StatementRejected,
                s.credits,
                format!("{}: {}", s.source, s.rejected),
            );
        }
        if let (Some(opening), Some(closing)) = (s.opening, s.closing) {
            let expected = sub(add(opening, s.credits, day)?, s.debits, day)?;
            if expected != closing {
                note(
                    DiscrepancyKind::BalanceDoesNotAddUp,
                    sub(closing, expected, day)?,
                    format!(
                        "{}: opening {opening} + credits {} − debits {} = {expected}, closing says {closing}",
                        s.source, s.credits, s.debits
                    ),
                );
            }
        }
        if i == 0
            && let (Some((previous_day, closing)), Some(opening)) = (previous_closing, s.opening)
            && closing != opening
        {
            note(
                DiscrepancyKind::OpeningDoesNotFollow,
                sub(opening, closing, day)?,
                format!(
                    "{}: opening {opening}, closing of {previous_day} was {closing}",
                    s.source
                ),
            );
        }
        report.bank_credits = add(report.bank_credits, s.credits, day)?;
        report.bank_debits = add(report.bank_debits, s.debits, day)?;
        report.bank_lines = report.bank_lines.saturating_add(s.credit_lines);
        if s.rejected.is_empty() {
            let mut listed = Decimal::ZERO;
            for (fingerprint, amount) in &s.lines {
                on_statement.insert(fingerprint.as_str(), *amount);
                listed = add(listed, *amount, day)?;
            }
            // Credit lines that never became bank lines (e.g. a line error).
            let missing_lines = s
                .credit_lines
                .saturating_sub(u32::try_from(s.lines.len()).unwrap_or(u32::MAX));
            if missing_lines > 0 {
                note(
                    DiscrepancyKind::BankLineNotBooked,
                    sub(s.credits, listed, day)?,
                    format!("{}: {missing_lines} credit line(s) were not read", s.source),
                );
            }
        }
    }
    // The book side.
    let mut booked: BTreeSet<&str> = BTreeSet::new();
    for b in book {
        if b.currency != currency {
            note(
                DiscrepancyKind::CurrencyDiffers,
                b.amount,
                format!("payment {} is in {}", b.payment_id, b.currency),
            );
            continue;
        }
        match b.status {
            BookStatus::HeldDuplicate => {
                note(
                    DiscrepancyKind::Duplicate,
                    b.amount,
                    format!(
                        "payment {} is held as a duplicate of a line already booked",
                        b.payment_id
                    ),
                );
                continue;
            }
            BookStatus::Applied | BookStatus::Unapplied | BookStatus::Exception => {
                // What was refunded of it is money out, not applied or waiting (R-P9).
                let refunded = b.refunded.clamp(Decimal::ZERO, b.amount);
                report.book_refunded = add(report.book_refunded, refunded, day)?;
                let kept = sub(b.amount, refunded, day)?;
                let bucket = match b.status {
                    BookStatus::Applied => &mut report.book_applied,
                    BookStatus::Unapplied => &mut report.book_unapplied,
                    _ => &mut report.book_exceptions,
                };
                *bucket = add(*bucket, kept, day)?;
            }
        }
        report.book_payments += 1;
        booked.insert(b.fingerprint.as_str());
        if !statements.is_empty() && !on_statement.contains_key(b.fingerprint.as_str()) {
            note(
                DiscrepancyKind::BookedNotOnStatement,
                b.amount,
                format!("payment {} is on no statement of the day", b.payment_id),
            );
        }
    }
    for (fingerprint, amount) in &on_statement {
        if !booked.contains(fingerprint) {
            note(
                DiscrepancyKind::BankLineNotBooked,
                *amount,
                format!(
                    "bank line {} has no payment booked on the day",
                    short(fingerprint)
                ),
            );
        }
    }
    if statements.is_empty() {
        note(
            DiscrepancyKind::MissingStatement,
            report.book_total(),
            format!(
                "{} payment(s) booked, no end-of-day statement",
                report.book_payments
            ),
        );
    } else {
        let difference = sub(report.bank_credits, report.book_total(), day)?;
        if !difference.is_zero() {
            note(
                DiscrepancyKind::AmountDiffers,
                difference,
                format!(
                    "bank credits {} − booked {} = {difference}",
                    report.bank_credits,
                    report.book_total()
                ),
            );
        }
    }
    found.sort_by_key(|d| d.kind);
    report.discrepancies = found;
    Ok(report)
}

/// A fingerprint shortened for people (enough to find it, e.g. `feed:3f2a…`).
fn short(fingerprint: &str) -> String {
    fingerprint.chars().take(16).collect::<String>() + "…"
}

#[cfg(test)]
mod tests;
