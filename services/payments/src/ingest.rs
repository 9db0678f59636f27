//! Ingesting one bank file in one transaction: either the whole file's effect commits (its
//! payments, line fingerprints, allocations, exceptions and events) or nothing does.

use std::collections::HashMap;

use cashapp::Outcome;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use kit::outbox::Outbox;
use kit::{ApiError, wire};
use proto::events::v1 as events;
use proto::payments::v1 as api;

use crate::bulk;
use crate::decisions;
use crate::desk;
use crate::domain::status::Channel;
use crate::engine::{self, Engine};
use crate::intake::{self, Incoming};
use crate::store;

/// Largest file accepted.
pub(crate) const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;

pub(crate) async fn ingest(
    pool: &PgPool,
    outbox: &Outbox,
    engine: &Engine,
    file_name: &str,
    content: &[u8],
    format: &str,
    account: &str,
) -> Result<api::IngestBankFileResponse, ApiError> {
    let intake = intake::read(file_name, content, format, account)?;
    let sha = hex(&Sha256::digest(content));
    // R-O4: every line's accounts sealed, and the receiving account's blind index its claim
    // records, before the ledger lock is taken: it orders every bank file after the others,
    // so what needs no database waits for nobody (issue 16). A clearing changes a line's
    // reference and payer name, never its accounts.
    let mut sealed_lines: Vec<Sealed> = Vec::with_capacity(intake.credits.len());
    let mut receiving_indexes: Vec<String> = Vec::with_capacity(intake.credits.len());
    for line in &intake.credits {
        sealed_lines.push(Sealed::of(engine, line)?);
        receiving_indexes.push(engine.account_index(&line.receiving_account));
    }

    let mut tx = pool.begin().await?;
    // Two uploads of the same file at once: the second waits here, then sees the first.
    store::lock_file_digest(&mut tx, &sha).await?;
    if let Some(previous) = previous_file(&mut tx, &sha).await? {
        return Ok(previous);
    }
    // Before anything is written: the ledger lock orders this file after every other change
    // to the open receivables (and avoids waiting for it while holding rows it waits for).
    let mut session = engine.open(&mut tx).await?;

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
    store::insert_bank_file(&mut tx, file_id, file_name, &sha, &intake.format).await?;
    for error in errors {
        let error = store::LineError {
            line_no: i32::try_from(error.line_no).unwrap_or(i32::MAX),
            field: error.field.clone(),
            message: error.message.clone(),
        };
        store::insert_line_error(&mut tx, file_id, &error).await?;
    }

    // R-P7: what the bank reported, refused statements included.
    for statement in &intake.statements {
        let index = engine.account_index(&statement.account);
        store::record_statement(&mut tx, file_id, statement, &index).await?;
    }
    // R-P1, R-P7: the batches of settlement reports, each a credit the bank will show once.
    let batches = desk::record_batches(
        &mut tx,
        engine,
        file_id,
        account.trim(),
        &intake.batch_lines,
    )
    .await?;
    // New payments: id, line (as a clearing shows it), clearing, the line's place in the file.
    let mut fresh: Vec<(Uuid, Incoming, Option<desk::Clearing>, usize)> =
        Vec::with_capacity(lines.len());
    // What lines may be besides new payments, read and locked once for the file.
    let mut awaited = desk::Awaited::load(&mut tx, engine, lines).await?;
    // When no line of the file can be an expected credit (the usual case), every line is
    // claimed in one statement (issue 16); otherwise line by line, as a line linked to one
    // changes what the next may be.
    let claimed_together = if lines
        .iter()
        .all(|line| awaited.expected_of(engine, line).is_none())
    {
        let claims: Vec<store::Claim<'_>> = lines
            .iter()
            .enumerate()
            .map(|(i, line)| store::Claim {
                fingerprint: &line.fingerprint,
                line_no: i32::try_from(line.line_no).unwrap_or(i32::MAX),
                payment_id: Uuid::now_v7(),
                receiving_account_index: receiving_indexes[i].clone(),
                source: line.source,
            })
            .collect();
        let claimed = store::claim_bank_lines(&mut tx, file_id, &claims).await?;
        Some((claims, claimed))
    } else {
        None
    };
    for (i, line) in lines.iter().enumerate() {
        // A credit the bank was expected to show that is no new payment (the desk's cash
        // deposit, a settlement batch's payout): the line is linked to it and claimed under
        // its id.
        let (expected, payment_id, claimed) = match &claimed_together {
            Some((claims, claimed)) => (None, claims[i].payment_id, claimed.contains(&i)),
            None => {
                let expected = awaited.expected_of(engine, line);
                let payment_id = expected.as_ref().map_or_else(Uuid::now_v7, |e| e.id);
                let claimed = store::claim_bank_line(
                    &mut tx,
                    &line.fingerprint,
                    file_id,
                    i32::try_from(line.line_no).unwrap_or(i32::MAX),
                    payment_id,
                    &receiving_indexes[i],
                    line.source,
                )
                .await?;
                (expected, payment_id, claimed)
            }
        };
        if !claimed {
            // R-P2 / R-P5: never booked twice; linked, or a DUPLICATE for a person.
            response.lines_duplicate += 1;
            if crate::repeats::seen_again(&mut tx, outbox, engine, file_id, line).await? {
                response.exceptions_raised += 1;
            }
            continue;
        }
        if let Some(expected) = &expected {
            awaited.linked(expected.id);
            if desk::link_expected(&mut tx, outbox, expected, line).await? {
                response.exceptions_raised += 1;
            }
            response.lines_linked += 1;
            continue;
        }
        response.lines_accepted += 1;
        response.payment_ids.push(payment_id.to_string());
        // R-P3: the line that shows a cheque, draft, bill or slip the desk acknowledged is
        // that payment, for what the acknowledgment says it pays.
        let clearing = awaited.clearing_of(engine, line);
        let line = match &clearing {
            Some(c) => c.incoming(line),
            None => line.clone(),
        };
        fresh.push((payment_id, line, clearing, i));
    }
    // R-P4: the engine decides the whole batch against the current open items (each payment
    // sees the ones applied before it); the decisions are then carried out one by one.
    // R-O4: the engine compares the accounts' blind indexes (the ones contracts put in its
    // events), never the accounts.
    let payments: Vec<cashapp::Payment> = fresh
        .iter()
        .map(|(id, line, _, i)| sealed_lines[*i].payment(*id, line))
        .collect();
    let decided = session.ledger().reconcile(&payments);
    let mut bulk = bulk::Bulk::load(&mut tx, outbox, &decided).await?;
    let by_id: HashMap<String, (Uuid, &Incoming, &Option<desk::Clearing>, usize)> = fresh
        .iter()
        .map(|(id, line, clearing, i)| (id.to_string(), (*id, line, clearing, *i)))
        .collect();
    for decision in &decided {
        let Some(&(payment_id, line, clearing, i)) = by_id.get(&decision.payment_id) else {
            return Err(ApiError::Unexpected(anyhow::anyhow!(
                "the engine decided payment {} that is not in the file",
                decision.payment_id
            )));
        };
        // R-O4: the accounts are stored sealed.
        let accounts = &sealed_lines[i];
        let settlement = line.settlement.as_ref();
        let stored = Stored {
            file_id: Some(file_id),
            channel: match (clearing, settlement.map(|s| s.channel)) {
                (Some(_), _) => Channel::Instrument,
                (None, Some(feeds::SettlementChannel::Pos)) => Channel::Card,
                (None, Some(_)) => Channel::Wallet,
                (None, None) => Channel::Bank,
            },
            payment_id,
            line,
            accounts,
            receipt_no: "",
        };
        // An instrument or a settlement batch is always carried out alone.
        let alone = clearing.is_some() || settlement.is_some();
        if !alone && bulk::plain(decision) {
            // The usual case, written with the others of the file (issue 16).
            bulk.add(stored, decision)?;
            response.payments_matched += 1;
            session.apply(decision, payment_id).map_err(|e| {
                ApiError::Unexpected(anyhow::anyhow!("applying payment {payment_id}: {e}"))
            })?;
            continue;
        }
        if !alone && bulk::held(decision) {
            // Held for a person (R-P5): it touches only its own rows and events, so it is
            // written with the others too, not in five statements of its own (issue 16).
            bulk.add_held(stored, decision)?;
            response.exceptions_raised += 1;
            continue;
        }
        // Carried out alone, after everything decided before it is written: an allocation,
        // an instrument or a settlement batch may touch what the gathered payments change.
        bulk.flush(&mut tx).await?;
        let done = match clearing {
            Some(c) => desk::clear(&mut tx, outbox, &stored, decision, c).await?,
            None => record_payment(&mut tx, outbox, &stored, decision).await?,
        };
        if decision.outcome == Outcome::Applied {
            bulk.changed_elsewhere(&mut tx, decision).await?;
        }
        if let Some(s) = settlement {
            let key = (
                crate::domain::settlement::channel_name(s.channel).to_owned(),
                s.batch.clone(),
                line.currency.clone(),
            );
            let batch = batches.get(&key).ok_or_else(|| {
                ApiError::Unexpected(anyhow::anyhow!(
                    "payment {payment_id}: batch {key:?} not recorded"
                ))
            })?;
            store::set_payment_settlement(&mut tx, payment_id, *batch, s.fee).await?;
        }
        if decision.outcome == Outcome::Applied {
            response.payments_matched += 1;
            session.apply(decision, payment_id).map_err(|e| {
                ApiError::Unexpected(anyhow::anyhow!("applying payment {payment_id}: {e}"))
            })?;
        }
        response.exceptions_raised += done.exceptions;
    }
    bulk.flush(&mut tx).await?;
    let counts = store::FileCounts {
        lines_total: to_i32(response.lines_total),
        lines_accepted: to_i32(response.lines_accepted),
        lines_duplicate: to_i32(response.lines_duplicate),
        lines_rejected: to_i32(response.lines_rejected),
        payments_matched: to_i32(response.payments_matched),
        exceptions_raised: to_i32(response.exceptions_raised),
        entries_skipped: to_i32(response.entries_skipped),
        lines_linked: to_i32(response.lines_linked),
    };
    store::record_file_counts(&mut tx, file_id, &counts).await?;
    session.close(&mut tx).await?;
    tx.commit().await?;
    tracing::info!(
        %file_id, file_name, accepted = response.lines_accepted, duplicate = response.lines_duplicate,
        rejected = response.lines_rejected, matched = response.payments_matched, "bank file ingested"
    );
    Ok(response)
}

/// A payment to store.
pub(crate) struct Stored<'a> {
    /// The bank file; `None` for the desk.
    pub(crate) file_id: Option<Uuid>,
    pub(crate) channel: Channel,
    pub(crate) payment_id: Uuid,
    pub(crate) line: &'a Incoming,
    pub(crate) accounts: &'a Sealed,
    /// The formal receipt issued with it, if any (for PaymentReceived).
    pub(crate) receipt_no: &'a str,
}

/// A payment's accounts sealed (R-O4) with their blind indexes; empty when not given.
pub(crate) struct Sealed {
    pub(crate) payer: (String, String),
    pub(crate) receiving: (String, String),
}

impl Sealed {
    /// Seals both accounts of `line`.
    pub(crate) fn of(engine: &Engine, line: &Incoming) -> Result<Self, ApiError> {
        let seal = |account: &str| {
            engine
                .seal_account(account)
                .map_err(|e| ApiError::Unexpected(e.into()))
        };
        Ok(Self {
            payer: seal(&line.payer_account)?,
            receiving: seal(&line.receiving_account)?,
        })
    }

    /// The payment as the engine sees it: accounts by their blind indexes (R-O4).
    pub(crate) fn payment(&self, id: Uuid, line: &Incoming) -> cashapp::Payment {
        engine::payment(
            id,
            line.date,
            line.amount,
            &line.currency,
            &line.payer_name,
            &self.payer.1,
            &self.receiving.1,
            &line.reference,
        )
    }
}

/// Stores the payment, publishes `PaymentReceived`, and carries out the engine's decision.
pub(crate) async fn record_payment(
    tx: &mut PgConnection,
    outbox: &Outbox,
    stored: &Stored<'_>,
    decision: &cashapp::Decision,
) -> Result<decisions::Done, ApiError> {
    let Stored {
        file_id,
        channel,
        payment_id,
        line,
        accounts:
            Sealed {
                payer: (sealed, index),
                receiving: (receiving, receiving_index),
            },
        receipt_no: _,
    } = *stored;
    let customer = decisions::customer_of(decision)?;
    let payment = store::NewPayment {
        id: payment_id,
        file_id,
        channel,
        line,
        customer_id: customer,
        sealed_account: sealed,
        account_index: index,
        sealed_receiving: receiving,
        receiving_index,
    };
    store::insert_payment(tx, &payment).await?;
    let key = decisions::key(decision, payment_id)?;
    let received = received_event(stored);
    outbox
        .enqueue(tx, kit::events::PAYMENTS, &key, &received)
        .await?;
    Ok(decisions::carry_out(tx, outbox, payment_id, decision).await?)
}

/// The `PaymentReceived` of a stored payment (R-O4: the payer's account masked).
pub(crate) fn received_event(stored: &Stored<'_>) -> events::PaymentReceived {
    let line = stored.line;
    events::PaymentReceived {
        payment_id: stored.payment_id.to_string(),
        booking_date: line.date.to_string(),
        amount: Some(wire::money(line.amount, &line.currency)),
        payer_name: line.payer_name.clone(),
        payer_account_masked: wire::mask(&line.payer_account),
        reference: line.reference.clone(),
        file_id: stored.file_id.map(|f| f.to_string()).unwrap_or_default(),
        line_no: line.line_no,
        channel: crate::desk::channel_to_wire(stored.channel) as i32,
        receipt_no: stored.receipt_no.to_owned(),
    }
}

async fn previous_file(
    tx: &mut PgConnection,
    sha: &str,
) -> Result<Option<api::IngestBankFileResponse>, sqlx::Error> {
    let Some(store::PreviousFile { id, format, counts }) = store::file_by_digest(tx, sha).await?
    else {
        return Ok(None);
    };
    let errors = store::line_errors_of_file(tx, id).await?;
    let payment_ids = store::payment_ids_of_file(tx, id).await?;
    let u = |v: i32| u32::try_from(v).unwrap_or_default();
    Ok(Some(api::IngestBankFileResponse {
        file_id: id.to_string(),
        duplicate_file: true,
        format,
        entries_skipped: u(counts.entries_skipped),
        lines_total: u(counts.lines_total),
        lines_accepted: u(counts.lines_accepted),
        lines_duplicate: u(counts.lines_duplicate),
        lines_rejected: u(counts.lines_rejected),
        payments_matched: u(counts.payments_matched),
        exceptions_raised: u(counts.exceptions_raised),
        errors: errors
            .into_iter()
            .map(|e| api::LineError {
                line: u(e.line_no),
                field: e.field,
                message: e.message,
            })
            .collect(),
        payment_ids: payment_ids.iter().map(Uuid::to_string).collect(),
        lines_linked: u(counts.lines_linked),
    }))
}

fn to_i32(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
