//! Ingesting one bank file in one transaction: either the whole file's effect commits (its
//! payments, line fingerprints, allocations, exceptions and events) or nothing does.

use rust_decimal::Decimal;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use kit::outbox::Outbox;
use kit::{ApiError, wire};
use proto::events::v1 as events;
use proto::payments::v1 as api;

use crate::intake::{self, Incoming};
use crate::matching::{self, Candidate, Decision};

/// Largest file accepted.
pub(crate) const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;

pub(crate) async fn ingest(
    pool: &PgPool,
    outbox: &Outbox,
    file_name: &str,
    content: &[u8],
    format: &str,
    account: &str,
) -> Result<api::IngestBankFileResponse, ApiError> {
    let intake = intake::read(file_name, content, format, account)?;
    let sha = hex(&Sha256::digest(content));

    let mut tx = pool.begin().await?;
    // Two uploads of the same file at once: the second waits here, then sees the first.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
        .bind(&sha)
        .execute(&mut *tx)
        .await?;
    if let Some(previous) = previous_file(&mut tx, &sha).await? {
        return Ok(previous);
    }

    let file_id = Uuid::now_v7();
    let (lines, errors) = (&intake.credits, &intake.errors);
    let mut response = api::IngestBankFileResponse {
        file_id: file_id.to_string(),
        format: intake.format.clone(),
        entries_skipped: intake.skipped,
        lines_total: u32::try_from(lines.len() + errors.len()).unwrap_or(u32::MAX),
        lines_rejected: u32::try_from(errors.len()).unwrap_or(u32::MAX),
        errors: errors
            .iter()
            .map(|e| api::LineError {
                line: e.line_no,
                field: e.field.clone(),
                message: e.message.clone(),
            })
            .collect(),
        ..Default::default()
    };
    sqlx::query(
        "INSERT INTO bank_files (id, file_name, sha256, format, lines_total, lines_accepted, lines_duplicate,
                                 lines_rejected, payments_matched, exceptions_raised)
         VALUES ($1, $2, $3, $4, 0, 0, 0, 0, 0, 0)",
    )
    .bind(file_id)
    .bind(file_name)
    .bind(&sha)
    .bind(&intake.format)
    .execute(&mut *tx)
    .await?;
    for error in errors {
        sqlx::query(
            "INSERT INTO line_errors (file_id, line_no, field, message) VALUES ($1, $2, $3, $4)",
        )
        .bind(file_id)
        .bind(i32::try_from(error.line_no).unwrap_or(i32::MAX))
        .bind(&error.field)
        .bind(&error.message)
        .execute(&mut *tx)
        .await?;
    }

    for line in lines {
        let fingerprint = &line.fingerprint;
        let payment_id = Uuid::now_v7();
        let claimed = sqlx::query(
            "INSERT INTO bank_lines (fingerprint, file_id, line_no, payment_id) VALUES ($1, $2, $3, $4)
             ON CONFLICT (fingerprint) DO NOTHING",
        )
        .bind(fingerprint)
        .bind(file_id)
        .bind(i32::try_from(line.line_no).unwrap_or(i32::MAX))
        .bind(payment_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if claimed == 0 {
            response.lines_duplicate += 1;
            continue;
        }
        response.lines_accepted += 1;
        response.payment_ids.push(payment_id.to_string());
        if record_payment(&mut tx, outbox, file_id, payment_id, line).await? {
            response.payments_matched += 1;
        } else {
            response.exceptions_raised += 1;
        }
    }
    sqlx::query(
        "UPDATE bank_files SET lines_total = $2, lines_accepted = $3, lines_duplicate = $4, lines_rejected = $5,
                payments_matched = $6, exceptions_raised = $7, entries_skipped = $8 WHERE id = $1",
    )
    .bind(file_id)
    .bind(to_i32(response.lines_total))
    .bind(to_i32(response.lines_accepted))
    .bind(to_i32(response.lines_duplicate))
    .bind(to_i32(response.lines_rejected))
    .bind(to_i32(response.payments_matched))
    .bind(to_i32(response.exceptions_raised))
    .bind(to_i32(response.entries_skipped))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::info!(
        %file_id, file_name, accepted = response.lines_accepted, duplicate = response.lines_duplicate,
        rejected = response.lines_rejected, matched = response.payments_matched, "bank file ingested"
    );
    Ok(response)
}

/// What matching needs to know about a payment.
pub(crate) struct PaymentFacts<'a> {
    pub(crate) id: Uuid,
    pub(crate) date: chrono::NaiveDate,
    pub(crate) amount: Decimal,
    pub(crate) currency: &'a str,
    pub(crate) reference: &'a str,
}

/// Stores the payment, publishes `PaymentReceived`, and either proposes an allocation or
/// raises an exception. Returns true when matched.
async fn record_payment(
    tx: &mut PgConnection,
    outbox: &Outbox,
    file_id: Uuid,
    payment_id: Uuid,
    line: &Incoming,
) -> Result<bool, ApiError> {
    let facts = PaymentFacts {
        id: payment_id,
        date: line.date,
        amount: line.amount,
        currency: &line.currency,
        reference: &line.reference,
    };
    let decision = decide(tx, &facts).await?;
    let (status, receivable, customer) = match &decision {
        Decision::Allocate(c) => ("matched", Some(c.receivable_id), Some(c.customer_id)),
        Decision::Exception { .. } => ("exception", None, None),
    };
    sqlx::query(
        "INSERT INTO payments (id, file_id, line_no, booking_date, amount, currency, payer_name, payer_account,
                               reference, status, receivable_id, customer_id, receiving_account)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(payment_id)
    .bind(file_id)
    .bind(i32::try_from(line.line_no).unwrap_or(i32::MAX))
    .bind(line.date)
    .bind(line.amount)
    .bind(&line.currency)
    .bind(&line.payer_name)
    .bind(&line.payer_account)
    .bind(&line.reference)
    .bind(status)
    .bind(receivable)
    .bind(customer)
    .bind(&line.receiving_account)
    .execute(&mut *tx)
    .await?;
    let key = customer.map_or_else(|| payment_id.to_string(), |c| c.to_string());
    let received = events::PaymentReceived {
        payment_id: payment_id.to_string(),
        booking_date: line.date.to_string(),
        amount: Some(wire::money(line.amount, &line.currency)),
        payer_name: line.payer_name.clone(),
        payer_account_masked: wire::mask(&line.payer_account),
        reference: line.reference.clone(),
        file_id: file_id.to_string(),
        line_no: line.line_no,
    };
    outbox
        .enqueue(tx, kit::events::PAYMENTS, &key, &received)
        .await?;
    let matched = matches!(decision, Decision::Allocate(_));
    act(tx, outbox, &facts, decision, &key).await?;
    Ok(matched)
}

/// Finds the candidates named by the payment's reference and decides (R-P4, R-P5).
pub(crate) async fn decide(
    tx: &mut PgConnection,
    facts: &PaymentFacts<'_>,
) -> Result<Decision, sqlx::Error> {
    let (reference, candidates) = find_candidates(tx, facts.reference).await?;
    Ok(matching::decide(
        reference.as_ref(),
        facts.amount,
        facts.currency,
        &candidates,
    ))
}

/// Carries out a decision: proposes the allocation, or raises the exception.
pub(crate) async fn act(
    tx: &mut PgConnection,
    outbox: &Outbox,
    facts: &PaymentFacts<'_>,
    decision: Decision,
    key: &str,
) -> Result<(), sqlx::Error> {
    match decision {
        Decision::Allocate(candidate) => propose_allocation(tx, outbox, facts, &candidate).await,
        Decision::Exception {
            kind,
            reason,
            suggested_action,
        } => raise_exception(tx, outbox, facts.id, key, kind, &reason, &suggested_action).await,
    }
}

async fn propose_allocation(
    tx: &mut PgConnection,
    outbox: &Outbox,
    facts: &PaymentFacts<'_>,
    candidate: &Candidate,
) -> Result<(), sqlx::Error> {
    let allocation_id = Uuid::now_v7();
    sqlx::query("INSERT INTO allocations (id, payment_id, receivable_id, amount, status) VALUES ($1, $2, $3, $4, 'proposed')")
        .bind(allocation_id)
        .bind(facts.id)
        .bind(candidate.receivable_id)
        .bind(facts.amount)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE open_receivables SET pending_amount = pending_amount + $2 WHERE receivable_id = $1",
    )
    .bind(candidate.receivable_id)
    .bind(facts.amount)
    .execute(&mut *tx)
    .await?;
    let event = events::PaymentAllocated {
        allocation_id: allocation_id.to_string(),
        payment_id: facts.id.to_string(),
        receivable_id: candidate.receivable_id.to_string(),
        contract_id: candidate.contract_id.to_string(),
        customer_id: candidate.customer_id.to_string(),
        amount: Some(wire::money(facts.amount, facts.currency)),
        booking_date: facts.date.to_string(),
    };
    outbox
        .enqueue(
            tx,
            kit::events::PAYMENTS,
            &candidate.customer_id.to_string(),
            &event,
        )
        .await?;
    Ok(())
}

/// Records an exception for the work queue and publishes it (R-P5).
pub(crate) async fn raise_exception(
    tx: &mut PgConnection,
    outbox: &Outbox,
    payment_id: Uuid,
    key: &str,
    kind: &str,
    reason: &str,
    suggested_action: &str,
) -> Result<(), sqlx::Error> {
    let exception_id = Uuid::now_v7();
    sqlx::query("INSERT INTO exceptions (id, payment_id, kind, reason, suggested_action) VALUES ($1, $2, $3, $4, $5)")
        .bind(exception_id)
        .bind(payment_id)
        .bind(kind)
        .bind(reason)
        .bind(suggested_action)
        .execute(&mut *tx)
        .await?;
    let event = events::ExceptionRaised {
        exception_id: exception_id.to_string(),
        payment_id: payment_id.to_string(),
        kind: kind.to_owned(),
        reason: reason.to_owned(),
    };
    outbox
        .enqueue(tx, kit::events::PAYMENTS, key, &event)
        .await?;
    tracing::info!(%payment_id, kind, reason, "payment exception raised");
    Ok(())
}

/// The first reference in the remittance that names a known contract, and that contract's
/// open receivables (locked, so concurrent files cannot both claim the same open amount).
async fn find_candidates(
    tx: &mut PgConnection,
    remittance: &str,
) -> Result<(Option<matching::Reference>, Vec<Candidate>), sqlx::Error> {
    for reference in matching::references(remittance) {
        let rows: Vec<(Uuid, Uuid, Uuid, i32, chrono::NaiveDate, String, Decimal)> = sqlx::query_as(
            "SELECT receivable_id, contract_id, customer_id, installment_no, due_date, currency,
                    open_amount - pending_amount
             FROM open_receivables WHERE contract_no = $1 ORDER BY due_date, installment_no FOR UPDATE",
        )
        .bind(&reference.contract_no)
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            continue;
        }
        let candidates = rows
            .into_iter()
            .map(
                |(
                    receivable_id,
                    contract_id,
                    customer_id,
                    installment_no,
                    due_date,
                    currency,
                    available,
                )| Candidate {
                    receivable_id,
                    contract_id,
                    customer_id,
                    installment_no,
                    due_date,
                    currency: currency.trim().to_owned(),
                    available,
                },
            )
            .collect();
        return Ok((Some(reference), candidates));
    }
    Ok((None, Vec::new()))
}

async fn previous_file(
    tx: &mut PgConnection,
    sha: &str,
) -> Result<Option<api::IngestBankFileResponse>, sqlx::Error> {
    type Row = (Uuid, i32, i32, i32, i32, i32, i32, String, i32);
    let row: Option<Row> = sqlx::query_as(
        "SELECT id, lines_total, lines_accepted, lines_duplicate, lines_rejected, payments_matched, exceptions_raised,
                format, entries_skipped
         FROM bank_files WHERE sha256 = $1",
    )
    .bind(sha)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((id, total, accepted, duplicate, rejected, matched, exceptions, format, skipped)) =
        row
    else {
        return Ok(None);
    };
    let errors: Vec<(i32, String, String)> = sqlx::query_as(
        "SELECT line_no, field, message FROM line_errors WHERE file_id = $1 ORDER BY line_no",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    let payment_ids: Vec<Uuid> =
        sqlx::query_scalar("SELECT id FROM payments WHERE file_id = $1 ORDER BY line_no")
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
    let u = |v: i32| u32::try_from(v).unwrap_or_default();
    Ok(Some(api::IngestBankFileResponse {
        file_id: id.to_string(),
        duplicate_file: true,
        format,
        entries_skipped: u(skipped),
        lines_total: u(total),
        lines_accepted: u(accepted),
        lines_duplicate: u(duplicate),
        lines_rejected: u(rejected),
        payments_matched: u(matched),
        exceptions_raised: u(exceptions),
        errors: errors
            .into_iter()
            .map(|(line, field, message)| api::LineError {
                line: u(line),
                field,
                message,
            })
            .collect(),
        payment_ids: payment_ids.iter().map(Uuid::to_string).collect(),
    }))
}

fn to_i32(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
