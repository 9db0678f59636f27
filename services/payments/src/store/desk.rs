//! Receipts, acknowledgments, the desk's days and the credits the bank is expected to show
//! (R-P1, R-P3, R-P7).

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::desk::{AcknowledgmentStatus, ReceiptStatus, Series};
use crate::domain::status::{AllocationStatus, PaymentStatus};

/// The next number of the series, taken in the caller's transaction: a rollback (or a crash
/// before the commit) gives it back, so the numbers have no gap. Concurrent issuers of one
/// project and year wait for each other here.
pub(crate) async fn next_number(
    tx: &mut PgConnection,
    series: Series,
    project: &str,
    year: i32,
) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO document_series (series, project, year, last_no) VALUES ($1, $2, $3, 1)
         ON CONFLICT (series, project, year) DO UPDATE SET last_no = document_series.last_no + 1
         RETURNING last_no",
    )
    .bind(series.as_str())
    .bind(project)
    .bind(year)
    .fetch_one(&mut *tx)
    .await
}

/// A stored receipt.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct ReceiptRow {
    pub(crate) id: Uuid,
    pub(crate) project: String,
    pub(crate) year: i32,
    pub(crate) number: i32,
    pub(crate) channel: String,
    pub(crate) status: String,
    pub(crate) payment_id: Uuid,
    pub(crate) acknowledgment_id: Option<Uuid>,
    pub(crate) amount: Decimal,
    pub(crate) currency: String,
    pub(crate) payer_name: String,
    pub(crate) reference: String,
    pub(crate) business_date: NaiveDate,
    pub(crate) issued_by: String,
    pub(crate) issued_at: DateTime<Utc>,
    pub(crate) void_reason: String,
    pub(crate) void_requested_by: Option<String>,
    pub(crate) void_reissue: bool,
    pub(crate) corrected_payer_name: String,
    pub(crate) corrected_reference: String,
    pub(crate) voided_by: Option<String>,
    pub(crate) voided_at: Option<DateTime<Utc>>,
    pub(crate) replaces: Option<Uuid>,
    pub(crate) replaced_by: Option<Uuid>,
}

impl ReceiptRow {
    pub(crate) fn document_no(&self) -> String {
        Series::Receipt.document_no(&self.project, self.year, self.number)
    }
}

const RECEIPT_COLUMNS: &str = "id, project, year, number, channel, status, payment_id, acknowledgment_id, amount,
    currency, payer_name, reference, business_date, issued_by, issued_at, void_reason, void_requested_by,
    void_reissue, corrected_payer_name, corrected_reference, voided_by, voided_at, replaces, replaced_by";

/// A receipt to issue.
pub(crate) struct NewReceipt<'a> {
    pub(crate) id: Uuid,
    pub(crate) request_id: Option<&'a str>,
    pub(crate) project: &'a str,
    pub(crate) year: i32,
    pub(crate) number: i32,
    pub(crate) channel: crate::domain::status::Channel,
    pub(crate) payment_id: Uuid,
    pub(crate) acknowledgment_id: Option<Uuid>,
    pub(crate) amount: Decimal,
    pub(crate) currency: &'a str,
    pub(crate) payer_name: &'a str,
    pub(crate) reference: &'a str,
    pub(crate) business_date: NaiveDate,
    pub(crate) issued_by: &'a str,
    pub(crate) replaces: Option<Uuid>,
}

pub(crate) async fn insert_receipt(
    tx: &mut PgConnection,
    r: &NewReceipt<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO receipts (id, request_id, project, year, number, channel, status, payment_id,
                               acknowledgment_id, amount, currency, payer_name, reference, business_date,
                               issued_by, replaces)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    )
    .bind(r.id)
    .bind(r.request_id)
    .bind(r.project)
    .bind(r.year)
    .bind(r.number)
    .bind(r.channel.as_str())
    .bind(ReceiptStatus::Issued.as_str())
    .bind(r.payment_id)
    .bind(r.acknowledgment_id)
    .bind(r.amount)
    .bind(r.currency)
    .bind(r.payer_name)
    .bind(r.reference)
    .bind(r.business_date)
    .bind(r.issued_by)
    .bind(r.replaces)
    .execute(&mut *tx)
    .await
    .map(|_| ())
}

/// The receipt issued for the client's request id, if any.
pub(crate) async fn receipt_by_request(
    tx: &mut PgConnection,
    request_id: &str,
) -> Result<Option<ReceiptRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {RECEIPT_COLUMNS} FROM receipts WHERE request_id = $1"
    )))
    .bind(request_id)
    .fetch_optional(&mut *tx)
    .await
}

/// The receipt, locked for the rest of the transaction.
pub(crate) async fn lock_receipt(
    tx: &mut PgConnection,
    id: Uuid,
) -> Result<Option<ReceiptRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {RECEIPT_COLUMNS} FROM receipts WHERE id = $1 FOR UPDATE"
    )))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await
}

/// The receipt.
pub(crate) async fn receipt(pool: &PgPool, id: Uuid) -> Result<Option<ReceiptRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {RECEIPT_COLUMNS} FROM receipts WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// A void asked for.
pub(crate) struct VoidRequest<'a> {
    pub(crate) reason: &'a str,
    pub(crate) by: &'a str,
    pub(crate) reissue: bool,
    pub(crate) corrected_payer_name: &'a str,
    pub(crate) corrected_reference: &'a str,
}

pub(crate) async fn record_void_request(
    tx: &mut PgConnection,
    id: Uuid,
    v: &VoidRequest<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE receipts SET status = $2, void_reason = $3, void_requested_by = $4, void_reissue = $5,
                corrected_payer_name = $6, corrected_reference = $7
         WHERE id = $1",
    )
    .bind(id)
    .bind(ReceiptStatus::VoidRequested.as_str())
    .bind(v.reason)
    .bind(v.by)
    .bind(v.reissue)
    .bind(v.corrected_payer_name)
    .bind(v.corrected_reference)
    .execute(&mut *tx)
    .await
    .map(|_| ())
}

/// The void decided: voided (by `by`, replaced by `replaced_by` if any) or kept (issued again,
/// the request's reason and corrections cleared, the rejection noted in the reason).
pub(crate) async fn record_void_decision(
    tx: &mut PgConnection,
    id: Uuid,
    status: ReceiptStatus,
    by: &str,
    replaced_by: Option<Uuid>,
    note: &str,
) -> Result<(), sqlx::Error> {
    if status == ReceiptStatus::Voided {
        sqlx::query(
            "UPDATE receipts SET status = $2, voided_by = $3, voided_at = now(), replaced_by = $4 WHERE id = $1",
        )
        .bind(id)
        .bind(status.as_str())
        .bind(by)
        .bind(replaced_by)
        .execute(&mut *tx)
        .await?;
    } else {
        sqlx::query(
            "UPDATE receipts SET status = $2, void_reason = $3, void_requested_by = NULL, void_reissue = false,
                    corrected_payer_name = '', corrected_reference = ''
             WHERE id = $1",
        )
        .bind(id)
        .bind(status.as_str())
        .bind(note)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// Whether any of the payment is applied or waiting for contracts (not rejected).
pub(crate) async fn payment_applied(
    tx: &mut PgConnection,
    payment_id: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM allocations WHERE payment_id = $1 AND status <> $2)",
    )
    .bind(payment_id)
    .bind(AllocationStatus::Rejected.as_str())
    .fetch_one(&mut *tx)
    .await
}

/// The payment is withdrawn (its cash handed back): never applied, reconciled now; returns
/// its open exceptions, which the caller resolves.
pub(crate) async fn withdraw_payment(
    tx: &mut PgConnection,
    payment_id: Uuid,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query("UPDATE payments SET withdrawn = true, status = $2 WHERE id = $1")
        .bind(payment_id)
        .bind(PaymentStatus::Exception.as_str())
        .execute(&mut *tx)
        .await?;
    sqlx::query_scalar(
        "SELECT id FROM exceptions WHERE payment_id = $1 AND resolved_at IS NULL ORDER BY id FOR UPDATE",
    )
    .bind(payment_id)
    .fetch_all(&mut *tx)
    .await
}

/// Where a page of receipts starts: after this (issued_at, id).
pub(crate) type ReceiptsAfter = (DateTime<Utc>, Uuid);

/// One page of receipts, of the project and business dates if given, in issue order.
pub(crate) async fn receipts_page(
    pool: &PgPool,
    project: Option<&str>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    after: Option<&ReceiptsAfter>,
    limit: i64,
) -> Result<Vec<ReceiptRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {RECEIPT_COLUMNS} FROM receipts
         WHERE ($1::text IS NULL OR project = $1)
           AND ($2::date IS NULL OR business_date >= $2) AND ($3::date IS NULL OR business_date <= $3)
           AND ($4::timestamptz IS NULL OR (issued_at, id) > ($4, $5))
         ORDER BY issued_at, id LIMIT $6"
    )))
    .bind(project)
    .bind(from)
    .bind(to)
    .bind(after.map(|a| a.0))
    .bind(after.map(|a| a.1))
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// What the desk's receipts of the day add up to: the cash receipts still standing (a void
/// without replacement handed the cash back; a replacement counts once, as itself).
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct DayTotal {
    pub(crate) currency: String,
    pub(crate) total: Decimal,
    pub(crate) receipts: i64,
}

pub(crate) async fn desk_day_totals(
    tx: &mut PgConnection,
    project: &str,
    day: NaiveDate,
) -> Result<Vec<DayTotal>, sqlx::Error> {
    sqlx::query_as(
        "SELECT currency, sum(amount) AS total, count(*) AS receipts FROM receipts
         WHERE project = $1 AND business_date = $2 AND channel = 'desk_cash' AND status <> $3
         GROUP BY currency ORDER BY currency",
    )
    .bind(project)
    .bind(day)
    .bind(ReceiptStatus::Voided.as_str())
    .fetch_all(&mut *tx)
    .await
}

/// A closed desk day.
pub(crate) struct DeskDay<'a> {
    pub(crate) project: &'a str,
    pub(crate) day: NaiveDate,
    pub(crate) currency: &'a str,
    pub(crate) expected: Decimal,
    pub(crate) counted: Decimal,
    pub(crate) receipts: i32,
    pub(crate) exception_id: Option<Uuid>,
    pub(crate) closed_by: &'a str,
}

/// Records the day closed; false when it was closed before.
pub(crate) async fn close_desk_day(
    tx: &mut PgConnection,
    d: &DeskDay<'_>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO desk_days (project, business_date, currency, expected, counted, receipts, exception_id, closed_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
    )
    .bind(d.project)
    .bind(d.day)
    .bind(d.currency)
    .bind(d.expected)
    .bind(d.counted)
    .bind(d.receipts)
    .bind(d.exception_id)
    .bind(d.closed_by)
    .execute(&mut *tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether the desk's day is closed (no receipt may be issued for it any more).
pub(crate) async fn desk_day_closed(
    tx: &mut PgConnection,
    project: &str,
    day: NaiveDate,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT closed_by FROM desk_days WHERE project = $1 AND business_date = $2")
        .bind(project)
        .bind(day)
        .fetch_optional(&mut *tx)
        .await
}

/// A credit the bank is expected to show that is no new payment.
pub(crate) struct ExpectedCredit<'a> {
    pub(crate) id: Uuid,
    pub(crate) kind: ExpectedKind,
    pub(crate) batch_id: Option<Uuid>,
    pub(crate) hints: &'a [String],
    pub(crate) account_index: &'a str,
    pub(crate) amount: Decimal,
    pub(crate) currency: &'a str,
    pub(crate) reference_key: &'a str,
    pub(crate) subject: &'a str,
}

/// What an expected credit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExpectedKind {
    /// The desk's counted cash, banked.
    DeskDeposit,
    /// A wallet's or acquirer's payout of a batch.
    SettlementBatch,
}

impl ExpectedKind {
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            Self::DeskDeposit => "desk_deposit",
            Self::SettlementBatch => "settlement_batch",
        }
    }
}

pub(crate) async fn insert_expected_credit(
    tx: &mut PgConnection,
    e: &ExpectedCredit<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO expected_credits (id, kind, batch_id, hints, account_index, amount, currency, reference_key, subject)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(e.id)
    .bind(e.kind.as_str())
    .bind(e.batch_id)
    .bind(e.hints)
    .bind(e.account_index)
    .bind(e.amount)
    .bind(e.currency)
    .bind(e.reference_key)
    .bind(e.subject)
    .execute(&mut *tx)
    .await
    .map(|_| ())
}

/// An open expected credit.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct OpenExpected {
    pub(crate) id: Uuid,
    pub(crate) amount: Decimal,
    pub(crate) reference_key: String,
    pub(crate) hints: Vec<String>,
    pub(crate) subject: String,
}

/// The open expected credits on the account in the currency, locked, oldest first.
pub(crate) async fn open_expected_credits(
    tx: &mut PgConnection,
    account_index: &str,
    currency: &str,
) -> Result<Vec<OpenExpected>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, amount, reference_key, hints, subject FROM expected_credits
         WHERE linked_at IS NULL AND account_index = $1 AND currency = $2
         ORDER BY created_at FOR UPDATE",
    )
    .bind(account_index)
    .bind(currency)
    .fetch_all(&mut *tx)
    .await
}

/// The bank line that shows the expected credit; a batch it pays is reconciled when the
/// amount is the batch's net.
pub(crate) async fn link_expected_credit(
    tx: &mut PgConnection,
    id: Uuid,
    fingerprint: &str,
    amount: Decimal,
    booked_on: NaiveDate,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "WITH linked AS (
             UPDATE expected_credits SET linked_fingerprint = $2, linked_amount = $3, linked_on = $4,
                    linked_at = now()
             WHERE id = $1 RETURNING batch_id, amount)
         UPDATE settlement_batches b SET bank_fingerprint = $2, bank_amount = $3,
                reconciled_at = CASE WHEN l.amount = $3 THEN now() END
         FROM linked l WHERE b.id = l.batch_id",
    )
    .bind(id)
    .bind(fingerprint)
    .bind(amount)
    .bind(booked_on)
    .execute(&mut *tx)
    .await
    .map(|_| ())
}

/// A batch as a settlement report gives it.
pub(crate) struct NewBatch<'a> {
    pub(crate) channel: &'a str,
    pub(crate) batch: &'a str,
    pub(crate) account_index: &'a str,
    pub(crate) currency: &'a str,
    pub(crate) payments: i32,
    pub(crate) refunds: i32,
    pub(crate) gross: Decimal,
    pub(crate) fee: Decimal,
    pub(crate) net: Decimal,
    pub(crate) settled_on: Option<NaiveDate>,
    pub(crate) file_id: Uuid,
}

/// Records the batch; a batch reported before is answered as it was stored
/// (`(id, created, stored net)`), for the caller to compare.
pub(crate) async fn record_batch(
    tx: &mut PgConnection,
    b: &NewBatch<'_>,
) -> Result<(Uuid, bool, Decimal), sqlx::Error> {
    let created: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO settlement_batches (id, channel, batch, account_index, currency, payments, refunds, gross,
                                         fee, net, settled_on, file_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (channel, batch, account_index, currency) DO NOTHING RETURNING id",
    )
    .bind(Uuid::now_v7())
    .bind(b.channel)
    .bind(b.batch)
    .bind(b.account_index)
    .bind(b.currency)
    .bind(b.payments)
    .bind(b.refunds)
    .bind(b.gross)
    .bind(b.fee)
    .bind(b.net)
    .bind(b.settled_on)
    .bind(b.file_id)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(id) = created {
        return Ok((id, true, b.net));
    }
    let (id, net): (Uuid, Decimal) = sqlx::query_as(
        "SELECT id, net FROM settlement_batches
         WHERE channel = $1 AND batch = $2 AND account_index = $3 AND currency = $4",
    )
    .bind(b.channel)
    .bind(b.batch)
    .bind(b.account_index)
    .bind(b.currency)
    .fetch_one(&mut *tx)
    .await?;
    Ok((id, false, net))
}

/// The wallet or card payment's batch and the channel's fee on it.
pub(crate) async fn set_payment_settlement(
    tx: &mut PgConnection,
    payment_id: Uuid,
    batch_id: Uuid,
    fee: Decimal,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE payments SET settlement_batch_id = $2, fee = $3 WHERE id = $1")
        .bind(payment_id)
        .bind(batch_id)
        .bind(fee)
        .execute(&mut *tx)
        .await
        .map(|_| ())
}

/// A stored batch with what its payments add up to.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct BatchRow {
    pub(crate) id: Uuid,
    pub(crate) channel: String,
    pub(crate) batch: String,
    pub(crate) currency: String,
    pub(crate) payments: i32,
    pub(crate) refunds: i32,
    pub(crate) gross: Decimal,
    pub(crate) fee: Decimal,
    pub(crate) net: Decimal,
    pub(crate) settled_on: Option<NaiveDate>,
    pub(crate) bank_amount: Option<Decimal>,
    pub(crate) reconciled_at: Option<DateTime<Utc>>,
    pub(crate) created_at: DateTime<Utc>,
    /// Σ gross and Σ fee of the payments booked from it.
    pub(crate) booked_gross: Decimal,
    pub(crate) booked_fee: Decimal,
    pub(crate) booked_payments: i64,
}

/// Where a page of batches starts: after this (created_at, id).
pub(crate) type BatchesAfter = (DateTime<Utc>, Uuid);

pub(crate) async fn batches_page(
    pool: &PgPool,
    unreconciled_only: bool,
    after: Option<&BatchesAfter>,
    limit: i64,
) -> Result<Vec<BatchRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT b.id, b.channel, b.batch, b.currency, b.payments, b.refunds, b.gross, b.fee, b.net, b.settled_on,
                b.bank_amount, b.reconciled_at, b.created_at,
                COALESCE(sum(p.amount), 0) AS booked_gross, COALESCE(sum(p.fee), 0) AS booked_fee,
                count(p.id) AS booked_payments
         FROM settlement_batches b LEFT JOIN payments p ON p.settlement_batch_id = b.id
         WHERE (NOT $1 OR b.reconciled_at IS NULL)
           AND ($2::timestamptz IS NULL OR (b.created_at, b.id) > ($2, $3))
         GROUP BY b.id ORDER BY b.created_at, b.id LIMIT $4",
    )
    .bind(unreconciled_only)
    .bind(after.map(|a| a.0))
    .bind(after.map(|a| a.1))
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// A stored acknowledgment.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct AcknowledgmentRow {
    pub(crate) id: Uuid,
    pub(crate) project: String,
    pub(crate) year: i32,
    pub(crate) number: i32,
    pub(crate) kind: String,
    pub(crate) instrument_no: String,
    pub(crate) instrument_key: String,
    pub(crate) drawer: String,
    pub(crate) drawer_bank: String,
    pub(crate) amount: Decimal,
    pub(crate) currency: String,
    pub(crate) reference: String,
    pub(crate) business_date: NaiveDate,
    pub(crate) issue_date: Option<NaiveDate>,
    pub(crate) due_date: Option<NaiveDate>,
    pub(crate) term_days: Option<i32>,
    pub(crate) occupation_fee: Option<Decimal>,
    pub(crate) status: String,
    pub(crate) payment_id: Option<Uuid>,
    pub(crate) bounce_reason: String,
    pub(crate) exception_id: Option<Uuid>,
    pub(crate) recorded_by: String,
    pub(crate) recorded_at: DateTime<Utc>,
    pub(crate) settled_at: Option<DateTime<Utc>>,
    /// The receipt of the payment it became, if cleared.
    pub(crate) receipt_id: Option<Uuid>,
}

impl AcknowledgmentRow {
    pub(crate) fn document_no(&self) -> String {
        Series::Acknowledgment.document_no(&self.project, self.year, self.number)
    }
}

const ACK_COLUMNS: &str = "a.id, a.project, a.year, a.number, a.kind, a.instrument_no, a.instrument_key, a.drawer,
    a.drawer_bank, a.amount, a.currency, a.reference, a.business_date,
    a.issue_date, a.due_date, a.term_days, a.occupation_fee, a.status, a.payment_id, a.bounce_reason,
    a.exception_id, a.recorded_by, a.recorded_at, a.settled_at,
    (SELECT r.id FROM receipts r WHERE r.acknowledgment_id = a.id ORDER BY r.number LIMIT 1) AS receipt_id";

/// An acknowledgment to record.
pub(crate) struct NewAcknowledgment<'a> {
    pub(crate) id: Uuid,
    pub(crate) request_id: &'a str,
    pub(crate) project: &'a str,
    pub(crate) year: i32,
    pub(crate) number: i32,
    pub(crate) kind: &'a str,
    pub(crate) instrument_no: &'a str,
    pub(crate) instrument_key: &'a str,
    pub(crate) drawer: &'a str,
    pub(crate) drawer_bank: &'a str,
    pub(crate) amount: Decimal,
    pub(crate) currency: &'a str,
    pub(crate) reference: &'a str,
    pub(crate) deposit_account: &'a str,
    pub(crate) deposit_account_index: &'a str,
    pub(crate) business_date: NaiveDate,
    pub(crate) issue_date: Option<NaiveDate>,
    pub(crate) due_date: Option<NaiveDate>,
    pub(crate) term_days: Option<i32>,
    pub(crate) occupation_fee: Option<Decimal>,
    pub(crate) recorded_by: &'a str,
}

/// Records it; false when another pending acknowledgment has the same instrument and amount.
pub(crate) async fn insert_acknowledgment(
    tx: &mut PgConnection,
    a: &NewAcknowledgment<'_>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO acknowledgments (id, request_id, project, year, number, kind, instrument_no, instrument_key,
                                     drawer, drawer_bank, amount, currency, reference, deposit_account,
                                     deposit_account_index, business_date, issue_date, due_date, term_days,
                                     occupation_fee, status, recorded_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)
         ON CONFLICT (instrument_key, amount, currency) WHERE status = 'pending' DO NOTHING",
    )
    .bind(a.id)
    .bind(a.request_id)
    .bind(a.project)
    .bind(a.year)
    .bind(a.number)
    .bind(a.kind)
    .bind(a.instrument_no)
    .bind(a.instrument_key)
    .bind(a.drawer)
    .bind(a.drawer_bank)
    .bind(a.amount)
    .bind(a.currency)
    .bind(a.reference)
    .bind(a.deposit_account)
    .bind(a.deposit_account_index)
    .bind(a.business_date)
    .bind(a.issue_date)
    .bind(a.due_date)
    .bind(a.term_days)
    .bind(a.occupation_fee)
    .bind(AcknowledgmentStatus::Pending.as_str())
    .bind(a.recorded_by)
    .execute(&mut *tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(crate) async fn acknowledgment_by_request(
    tx: &mut PgConnection,
    request_id: &str,
) -> Result<Option<AcknowledgmentRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ACK_COLUMNS} FROM acknowledgments a WHERE a.request_id = $1"
    )))
    .bind(request_id)
    .fetch_optional(&mut *tx)
    .await
}

pub(crate) async fn lock_acknowledgment(
    tx: &mut PgConnection,
    id: Uuid,
) -> Result<Option<AcknowledgmentRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ACK_COLUMNS} FROM acknowledgments a WHERE a.id = $1 FOR UPDATE OF a"
    )))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await
}

pub(crate) async fn acknowledgment(
    pool: &PgPool,
    id: Uuid,
) -> Result<Option<AcknowledgmentRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ACK_COLUMNS} FROM acknowledgments a WHERE a.id = $1"
    )))
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// Pending acknowledgments in the currency presented to the account, locked, oldest first
/// (the caller matches amount and instrument number against each bank line).
pub(crate) async fn pending_acknowledgments(
    tx: &mut PgConnection,
    account_index: &str,
    currency: &str,
) -> Result<Vec<AcknowledgmentRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ACK_COLUMNS} FROM acknowledgments a
         WHERE a.status = $1 AND a.currency = $2 AND a.deposit_account_index = $3
         ORDER BY a.recorded_at FOR UPDATE OF a"
    )))
    .bind(AcknowledgmentStatus::Pending.as_str())
    .bind(currency)
    .bind(account_index)
    .fetch_all(&mut *tx)
    .await
}

/// The acknowledgment settled: cleared into `payment_id`, or bounced with the reason and
/// exception.
pub(crate) async fn settle_acknowledgment(
    tx: &mut PgConnection,
    id: Uuid,
    status: AcknowledgmentStatus,
    payment_id: Option<Uuid>,
    bounce_reason: &str,
    exception_id: Option<Uuid>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE acknowledgments SET status = $2, payment_id = $3, bounce_reason = $4, exception_id = $5,
                settled_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(status.as_str())
    .bind(payment_id)
    .bind(bounce_reason)
    .bind(exception_id)
    .execute(&mut *tx)
    .await
    .map(|_| ())
}

/// Where a page of acknowledgments starts: after this (recorded_at, id).
pub(crate) type AcknowledgmentsAfter = (DateTime<Utc>, Uuid);

pub(crate) async fn acknowledgments_page(
    pool: &PgPool,
    project: Option<&str>,
    status: Option<AcknowledgmentStatus>,
    after: Option<&AcknowledgmentsAfter>,
    limit: i64,
) -> Result<Vec<AcknowledgmentRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ACK_COLUMNS} FROM acknowledgments a
         WHERE ($1::text IS NULL OR a.project = $1) AND ($2::text IS NULL OR a.status = $2)
           AND ($3::timestamptz IS NULL OR (a.recorded_at, a.id) > ($3, $4))
         ORDER BY a.recorded_at, a.id LIMIT $5"
    )))
    .bind(project)
    .bind(status.map(AcknowledgmentStatus::as_str))
    .bind(after.map(|a| a.0))
    .bind(after.map(|a| a.1))
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// A payment not reconciled yet (R-P7).
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct UnreconciledRow {
    pub(crate) id: Uuid,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) channel: String,
    pub(crate) booking_date: NaiveDate,
    pub(crate) amount: Decimal,
    pub(crate) currency: String,
    pub(crate) payer_name: String,
    pub(crate) reference: String,
    pub(crate) status: String,
    pub(crate) file_id: Option<Uuid>,
    pub(crate) line_no: i32,
    /// The oldest open exception's kind, if any.
    pub(crate) open_kind: Option<String>,
}

/// Payments that arrived before `before` and still wait: for contracts' answer, or in the
/// exception queue; oldest first, with how many there are in all.
pub(crate) async fn unreconciled(
    pool: &PgPool,
    before: DateTime<Utc>,
    limit: i64,
) -> Result<(Vec<UnreconciledRow>, i64), sqlx::Error> {
    const WAITING: &str = "p.created_at < $1 AND p.reconciled_at IS NULL AND NOT p.withdrawn
        AND (p.status = $2 OR EXISTS (SELECT 1 FROM exceptions e WHERE e.payment_id = p.id AND e.resolved_at IS NULL))";
    let rows = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT p.id, p.created_at, p.channel, p.booking_date, p.amount, p.currency, p.payer_name, p.reference,
                p.status, p.file_id, p.line_no,
                (SELECT e.kind FROM exceptions e WHERE e.payment_id = p.id AND e.resolved_at IS NULL
                 ORDER BY e.created_at LIMIT 1) AS open_kind
         FROM payments p WHERE {WAITING}
         ORDER BY p.created_at, p.id LIMIT $3"
    )))
    .bind(before)
    .bind(PaymentStatus::Matched.as_str())
    .bind(limit)
    .fetch_all(pool)
    .await?;
    let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM payments p WHERE {WAITING}"
    )))
    .bind(before)
    .bind(PaymentStatus::Matched.as_str())
    .fetch_one(pool)
    .await?;
    Ok((rows, total))
}

/// The payment's status as stored.
pub(crate) async fn payment_status(
    tx: &mut PgConnection,
    payment_id: Uuid,
) -> Result<String, sqlx::Error> {
    sqlx::query_scalar("SELECT status FROM payments WHERE id = $1")
        .bind(payment_id)
        .fetch_one(&mut *tx)
        .await
}
