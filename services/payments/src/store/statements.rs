//! What the bank's statements reported and what the book holds per account and day (R-P7).

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::repeats::{LineSource, Repeat};
use crate::domain::status::{AllocationStatus, PaymentStatus};
use crate::intake::StatementSummary;

/// Records what one statement of the file reported (R-P7), the account as its blind index
/// and masked form (R-O4).
pub(crate) async fn record_statement(
    tx: &mut PgConnection,
    file_id: Uuid,
    s: &StatementSummary,
    account_index: &str,
) -> Result<(), sqlx::Error> {
    if s.source == LineSource::SimpleCsv {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO bank_statements (id, file_id, line_no, source, account_index, account_masked, currency,
                                      business_date, opening, closing, credits, debits, credit_lines,
                                      fingerprints, rejected)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(Uuid::now_v7())
    .bind(file_id)
    .bind(i32::try_from(s.line_no).unwrap_or(i32::MAX))
    .bind(s.source.as_str())
    .bind(account_index)
    .bind(kit::wire::mask(&s.account.replace(' ', "")))
    .bind(&s.currency)
    .bind(s.date)
    .bind(s.opening)
    .bind(s.closing)
    .bind(s.credits)
    .bind(s.debits)
    .bind(i32::try_from(s.credit_lines).unwrap_or(i32::MAX))
    .bind(&s.fingerprints)
    .bind(&s.rejected)
    .execute(&mut *tx)
    .await
    .map(|_| ())
}

/// An end-of-day statement of the account, with its lines' amounts.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct StatementRow {
    pub(crate) file_name: String,
    pub(crate) line_no: i32,
    pub(crate) currency: String,
    pub(crate) business_date: NaiveDate,
    pub(crate) opening: Option<Decimal>,
    pub(crate) closing: Option<Decimal>,
    pub(crate) credits: Decimal,
    pub(crate) debits: Decimal,
    pub(crate) credit_lines: i32,
    pub(crate) fingerprints: Vec<String>,
    pub(crate) amounts: Vec<Option<Decimal>>,
    pub(crate) rejected: String,
}

/// The end-of-day statements of the account with blind index `account_index` from `from` to
/// `to`, in order of arrival per day.
pub(crate) async fn statements_of_account(
    pool: &PgPool,
    account_index: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<StatementRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT f.file_name, s.line_no, s.currency, s.business_date, s.opening, s.closing, s.credits,
                s.debits, s.credit_lines, s.fingerprints,
                ARRAY(SELECT COALESCE(p.amount, e.linked_amount) FROM unnest(s.fingerprints) WITH ORDINALITY AS u(fp, n)
                      LEFT JOIN bank_lines l ON l.fingerprint = u.fp
                      LEFT JOIN payments p ON p.id = l.payment_id
                      LEFT JOIN expected_credits e ON e.id = l.payment_id
                      ORDER BY u.n) AS amounts,
                s.rejected
         FROM bank_statements s JOIN bank_files f ON f.id = s.file_id
         WHERE s.account_index = $1
           AND s.source = $4
           AND s.business_date BETWEEN $2 AND $3
         ORDER BY s.business_date, f.received_at, s.line_no",
    )
    .bind(account_index)
    .bind(from)
    .bind(to)
    .bind(LineSource::Statement.as_str())
    .fetch_all(pool)
    .await
}

/// A payment recorded on the account.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct BookRow {
    pub(crate) id: Uuid,
    pub(crate) booking_date: NaiveDate,
    pub(crate) amount: Decimal,
    pub(crate) currency: String,
    pub(crate) status: String,
    /// Σ of its approved refunds (R-P9).
    pub(crate) refunded: Decimal,
    pub(crate) allocated: bool,
    pub(crate) fingerprint: Option<String>,
    pub(crate) held_duplicate: bool,
}

/// What the book says the bank shows on the account with blind index `account_index` from
/// `from` to `to`: the payments that came from its bank lines, with the line each came from,
/// and the credits that stand for many payments (a desk's deposit, a wallet's or acquirer's
/// batch), on the day their bank line was booked. Cash and card payments themselves reach
/// the bank only through those credits.
pub(crate) async fn book_of_account(
    pool: &PgPool,
    account_index: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<BookRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT p.id, p.booking_date, p.amount, p.currency, p.status, p.refunded,
                EXISTS (SELECT 1 FROM allocations a WHERE a.payment_id = p.id AND a.status <> $4) AS allocated,
                COALESCE(l.fingerprint, r.fingerprint) AS fingerprint,
                r.payment_id IS NOT NULL AS held_duplicate
         FROM payments p
         LEFT JOIN bank_lines l ON l.payment_id = p.id
         LEFT JOIN bank_line_repeats r ON r.payment_id = p.id AND r.outcome = $5
         WHERE p.receiving_account_index = $1
           AND p.booking_date BETWEEN $2 AND $3
           AND p.channel IN ('bank', 'instrument')
         UNION ALL
         SELECT e.id, e.linked_on, e.amount, e.currency, $6, 0, true, e.linked_fingerprint, false
         FROM expected_credits e
         WHERE e.account_index = $1 AND e.linked_on BETWEEN $2 AND $3
         ORDER BY 2, 1",
    )
    .bind(account_index)
    .bind(from)
    .bind(to)
    .bind(AllocationStatus::Rejected.as_str())
    .bind(Repeat::Duplicate.as_str())
    .bind(PaymentStatus::Allocated.as_str())
    .fetch_all(pool)
    .await
}
