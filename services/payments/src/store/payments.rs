//! Payments: stored, decided, listed.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::status::{Channel, PaymentStatus};

/// The columns of a stored payment the engine needs, as [`PaymentRow`] reads them.
macro_rules! payment_columns {
    () => {
        "id, booking_date, amount, currency, payer_name, payer_account_index, receiving_account_index, reference"
    };
}
pub(crate) use payment_columns;

/// A stored payment as the engine sees it: its accounts are their blind indexes (R-O4).
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct PaymentRow {
    pub(crate) id: Uuid,
    pub(crate) booking_date: NaiveDate,
    pub(crate) amount: Decimal,
    pub(crate) currency: String,
    pub(crate) payer_name: String,
    pub(crate) payer_account_index: String,
    pub(crate) receiving_account_index: String,
    pub(crate) reference: String,
}

/// A payment to store as the engine decides it (the decision is recorded after).
pub(crate) struct NewPayment<'a> {
    pub(crate) id: Uuid,
    /// The bank file it came from; `None` for money taken at the desk.
    pub(crate) file_id: Option<Uuid>,
    pub(crate) channel: Channel,
    pub(crate) line: &'a crate::intake::Incoming,
    pub(crate) customer_id: Option<Uuid>,
    pub(crate) sealed_account: &'a str,
    pub(crate) account_index: &'a str,
    pub(crate) sealed_receiving: &'a str,
    pub(crate) receiving_index: &'a str,
}

/// Stores a new payment, in the exception status until its decision is recorded; a payment
/// held for a person (a DUPLICATE, R-P5) is stored the same way, with no customer, and never
/// decided or allocated.
pub(crate) async fn insert_payment(
    tx: &mut PgConnection,
    p: &NewPayment<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO payments (id, file_id, line_no, booking_date, amount, currency, payer_name, payer_account,
                               reference, status, customer_id, receiving_account, payer_account_index,
                               receiving_account_index, channel)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(p.id)
    .bind(p.file_id)
    .bind(i32::try_from(p.line.line_no).unwrap_or(i32::MAX))
    .bind(p.line.date)
    .bind(p.line.amount)
    .bind(&p.line.currency)
    .bind(&p.line.payer_name)
    .bind(p.sealed_account)
    .bind(&p.line.reference)
    .bind(PaymentStatus::Exception.as_str())
    .bind(p.customer_id)
    .bind(p.sealed_receiving)
    .bind(p.account_index)
    .bind(p.receiving_index)
    .bind(p.channel.as_str())
    .execute(&mut *tx)
    .await
    .map(|_| ())
}

/// The engine's decision about a payment, as recorded on it.
pub(crate) struct RecordedDecision<'a> {
    pub(crate) status: PaymentStatus,
    pub(crate) customer_id: Option<Uuid>,
    pub(crate) confidence: i32,
    pub(crate) evidence: &'a [String],
    /// The decision as JSON.
    pub(crate) json: &'a str,
}

/// Records the engine's decision on the payment.
pub(crate) async fn record_decision(
    tx: &mut PgConnection,
    payment_id: Uuid,
    d: &RecordedDecision<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "WITH decided AS (
             INSERT INTO payment_decisions (payment_id, decision) VALUES ($1, $6::json)
             ON CONFLICT (payment_id) DO UPDATE SET decision = EXCLUDED.decision
         )
         UPDATE payments SET status = $2, customer_id = $3, confidence = $4, evidence = $5 WHERE id = $1",
    )
    .bind(payment_id)
    .bind(d.status.as_str())
    .bind(d.customer_id)
    .bind(d.confidence)
    .bind(d.evidence)
    .bind(d.json)
    .execute(&mut *tx)
    .await
    .map(|_| ())
}

/// Sets the receivable the payment shows as paid (its first allocation's).
pub(crate) async fn set_payment_receivable(
    tx: &mut PgConnection,
    payment_id: Uuid,
    receivable_id: Option<Uuid>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE payments SET receivable_id = $2 WHERE id = $1")
        .bind(payment_id)
        .bind(receivable_id)
        .execute(&mut *tx)
        .await
        .map(|_| ())
}

/// What a person confirmed: the payment is applied to the candidate (R-P5).
pub(crate) struct Confirmed<'a> {
    pub(crate) customer_id: Uuid,
    pub(crate) receivable_id: Option<Uuid>,
    pub(crate) confidence: i32,
    pub(crate) evidence: &'a [String],
}

/// Marks the payment matched as a person confirmed it.
pub(crate) async fn mark_payment_confirmed(
    tx: &mut PgConnection,
    payment_id: Uuid,
    c: &Confirmed<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE payments SET status = $6, customer_id = $2, receivable_id = $3, confidence = $4,
                evidence = $5 WHERE id = $1",
    )
    .bind(payment_id)
    .bind(c.customer_id)
    .bind(c.receivable_id)
    .bind(c.confidence)
    .bind(c.evidence)
    .bind(PaymentStatus::Matched.as_str())
    .execute(&mut *tx)
    .await
    .map(|_| ())
}

/// Sets the payment's status (contracts confirmed or refused its allocation).
pub(crate) async fn set_payment_status(
    tx: &mut PgConnection,
    payment_id: Uuid,
    status: PaymentStatus,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE payments SET status = $2 WHERE id = $1")
        .bind(payment_id)
        .bind(status.as_str())
        .execute(&mut *tx)
        .await?;
    stamp_reconciled(tx, payment_id).await
}

/// R-P7: the payment counts as reconciled from now when nothing about it waits any more (not
/// waiting for contracts, no open exception) and it was not before.
pub(crate) async fn stamp_reconciled(
    tx: &mut PgConnection,
    payment_id: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE payments p SET reconciled_at = now()
         WHERE p.id = $1 AND p.reconciled_at IS NULL AND p.status <> $2
           AND NOT EXISTS (SELECT 1 FROM exceptions e WHERE e.payment_id = p.id AND e.resolved_at IS NULL)",
    )
    .bind(payment_id)
    .bind(PaymentStatus::Matched.as_str())
    .execute(&mut *tx)
    .await
    .map(|_| ())
}

/// Whether the payment is one of ours.
pub(crate) async fn payment_exists(
    tx: &mut PgConnection,
    payment_id: Uuid,
) -> Result<bool, sqlx::Error> {
    let known: Option<Uuid> = sqlx::query_scalar("SELECT id FROM payments WHERE id = $1")
        .bind(payment_id)
        .fetch_optional(&mut *tx)
        .await?;
    Ok(known.is_some())
}

/// The payment as the engine sees it.
pub(crate) async fn payment_for_engine(
    tx: &mut PgConnection,
    payment_id: Uuid,
) -> Result<PaymentRow, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        payment_columns!(),
        " FROM payments WHERE id = $1"
    ))
    .bind(payment_id)
    .fetch_one(&mut *tx)
    .await
}

/// The payments as the engine sees them, in no particular order.
pub(crate) async fn payments_for_engine(
    tx: &mut PgConnection,
    payment_ids: &[Uuid],
) -> Result<Vec<PaymentRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        payment_columns!(),
        " FROM payments WHERE id = ANY($1)"
    ))
    .bind(payment_ids)
    .fetch_all(&mut *tx)
    .await
}

/// A payment as ListPayments shows it; the payer account is sealed (R-O4).
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ListedPayment {
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) id: Uuid,
    pub(crate) booking_date: NaiveDate,
    pub(crate) amount: Decimal,
    pub(crate) currency: String,
    pub(crate) payer_name: String,
    pub(crate) payer_account: String,
    pub(crate) reference: String,
    pub(crate) status: String,
    pub(crate) receivable_id: Option<Uuid>,
    pub(crate) file_id: Option<Uuid>,
    pub(crate) line_no: i32,
    pub(crate) channel: String,
    pub(crate) reconciled_at: Option<DateTime<Utc>>,
    /// The standing receipt issued for it: project, year, number.
    pub(crate) receipt_project: Option<String>,
    pub(crate) receipt_year: Option<i32>,
    pub(crate) receipt_number: Option<i32>,
    pub(crate) confidence: i32,
    pub(crate) evidence: Vec<String>,
    /// The conversion recorded with the decision, as JSON.
    pub(crate) fx: Option<String>,
}

/// Where a page of payments starts: after this (created_at, line_no, id).
pub(crate) type PaymentsAfter = (DateTime<Utc>, i32, Uuid);

/// One page of payments (of the file, if given) in ingestion order.
pub(crate) async fn payments_page(
    pool: &PgPool,
    file_id: Option<Uuid>,
    after: Option<&PaymentsAfter>,
    limit: i64,
) -> Result<Vec<ListedPayment>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT p.created_at, p.id, p.booking_date, p.amount, p.currency, p.payer_name, p.payer_account, p.reference,
                p.status, p.receivable_id, p.file_id, p.line_no, p.confidence, p.evidence,
                (",
        decision_of_p!(),
        "->'fx')::text AS fx, p.channel, p.reconciled_at,
                r.project AS receipt_project, r.year AS receipt_year, r.number AS receipt_number
         FROM payments p
         LEFT JOIN LATERAL (SELECT project, year, number FROM receipts
                            WHERE payment_id = p.id AND status <> 'voided'
                            ORDER BY number DESC LIMIT 1) r ON true
         WHERE ($1::uuid IS NULL OR p.file_id = $1)
           AND ($2::timestamptz IS NULL OR (p.created_at, p.line_no, p.id) > ($2, $3, $4))
         ORDER BY p.created_at, p.line_no, p.id LIMIT $5",
    ))
    .bind(file_id)
    .bind(after.map(|a| a.0))
    .bind(after.map(|a| a.1))
    .bind(after.map(|a| a.2))
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// A payment the engine applied, stored with its decision (beside it, in `payment_decisions`).
pub(crate) struct DecidedPayment<'a> {
    pub(crate) payment: NewPayment<'a>,
    pub(crate) decision: RecordedDecision<'a>,
    /// The receivable it shows as paid (its first allocation's).
    pub(crate) receivable_id: Option<Uuid>,
}

/// Stores many decided payments in one statement: what [`insert_payment`],
/// [`record_decision`] and [`set_payment_receivable`] write for one, for a bank file's
/// payments (issue 16).
pub(crate) async fn insert_decided_payments(
    tx: &mut PgConnection,
    all: &[DecidedPayment<'_>],
) -> Result<(), sqlx::Error> {
    if all.is_empty() {
        return Ok(());
    }
    let n = all.len();
    let mut ids = Vec::with_capacity(n);
    let mut files = Vec::with_capacity(n);
    let mut line_nos = Vec::with_capacity(n);
    let mut dates = Vec::with_capacity(n);
    let mut amounts = Vec::with_capacity(n);
    let mut currencies = Vec::with_capacity(n);
    let mut payers = Vec::with_capacity(n);
    let mut sealed = Vec::with_capacity(n);
    let mut references = Vec::with_capacity(n);
    let mut statuses = Vec::with_capacity(n);
    let mut customers = Vec::with_capacity(n);
    let mut receiving = Vec::with_capacity(n);
    let mut payer_indexes = Vec::with_capacity(n);
    let mut receiving_indexes = Vec::with_capacity(n);
    let mut channels = Vec::with_capacity(n);
    let mut confidences = Vec::with_capacity(n);
    // A text[] per row cannot go through UNNEST (it would flatten): each as a JSON array.
    let mut evidence = Vec::with_capacity(n);
    let mut decisions = Vec::with_capacity(n);
    let mut receivables = Vec::with_capacity(n);
    for d in all {
        let p = &d.payment;
        ids.push(p.id);
        files.push(p.file_id);
        line_nos.push(i32::try_from(p.line.line_no).unwrap_or(i32::MAX));
        dates.push(p.line.date);
        amounts.push(p.line.amount);
        currencies.push(p.line.currency.as_str());
        payers.push(p.line.payer_name.as_str());
        sealed.push(p.sealed_account);
        references.push(p.line.reference.as_str());
        statuses.push(d.decision.status.as_str());
        customers.push(d.decision.customer_id);
        receiving.push(p.sealed_receiving);
        payer_indexes.push(p.account_index);
        receiving_indexes.push(p.receiving_index);
        channels.push(p.channel.as_str());
        confidences.push(d.decision.confidence);
        evidence.push(
            serde_json::to_string(d.decision.evidence)
                .map_err(|e| sqlx::Error::Encode(Box::new(e)))?,
        );
        decisions.push(d.decision.json);
        receivables.push(d.receivable_id);
    }
    sqlx::query(
        "WITH u AS (
             SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::int4[], $4::date[], $5::numeric[], $6::text[],
                                  $7::text[], $8::text[], $9::text[], $10::text[], $11::uuid[], $12::text[],
                                  $13::text[], $14::text[], $15::text[], $16::int4[], $17::text[], $18::text[],
                                  $19::uuid[])
                 AS u(id, file_id, line_no, booking_date, amount, currency, payer_name, payer_account,
                      reference, status, customer_id, receiving_account, payer_account_index,
                      receiving_account_index, channel, confidence, evidence, decision, receivable_id)
         ), decided AS (
             INSERT INTO payment_decisions (payment_id, decision) SELECT u.id, u.decision::json FROM u
         )
         INSERT INTO payments (id, file_id, line_no, booking_date, amount, currency, payer_name, payer_account,
                               reference, status, customer_id, receiving_account, payer_account_index,
                               receiving_account_index, channel, confidence, evidence, receivable_id)
         SELECT u.id, u.file_id, u.line_no, u.booking_date, u.amount, u.currency, u.payer_name, u.payer_account,
                u.reference, u.status, u.customer_id, u.receiving_account, u.payer_account_index,
                u.receiving_account_index, u.channel, u.confidence,
                ARRAY(SELECT json_array_elements_text(u.evidence::json)), u.receivable_id
         FROM u",
    )
    .bind(&ids)
    .bind(&files)
    .bind(&line_nos)
    .bind(&dates)
    .bind(&amounts)
    .bind(&currencies)
    .bind(&payers)
    .bind(&sealed)
    .bind(&references)
    .bind(&statuses)
    .bind(&customers)
    .bind(&receiving)
    .bind(&payer_indexes)
    .bind(&receiving_indexes)
    .bind(&channels)
    .bind(&confidences)
    .bind(&evidence)
    .bind(&decisions)
    .bind(&receivables)
    .execute(&mut *tx)
    .await
    .map(|_| ())
}

/// [`set_payment_status`] allocated for many payments in one statement, each stamped
/// reconciled when nothing about it waits any more (R-P7).
pub(crate) async fn set_payments_allocated(
    tx: &mut PgConnection,
    payment_ids: &[Uuid],
) -> Result<(), sqlx::Error> {
    // One new version of each row, not two: the stamp moves the row out of an index
    // (`payments_unreconciled`), so every index gets a new entry (issue 16).
    sqlx::query(
        "UPDATE payments p SET status = $2,
             reconciled_at = COALESCE(p.reconciled_at, CASE WHEN NOT EXISTS
                 (SELECT 1 FROM exceptions e WHERE e.payment_id = p.id AND e.resolved_at IS NULL)
                 THEN now() END)
         WHERE p.id = ANY($1)",
    )
    .bind(payment_ids)
    .bind(PaymentStatus::Allocated.as_str())
    .execute(&mut *tx)
    .await
    .map(|_| ())
}
