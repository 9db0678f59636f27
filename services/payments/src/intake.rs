//! Turns an uploaded file into the credits to ingest: the platform's simple CSV layout (line
//! by line), or any bank format the feeds crate reads (MT940/MT942, camt.052/053/054, BAI2,
//! bank CSV exports; detected from the content).

use std::collections::HashMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use feeds::{EntryStatus, Format, ParseOptions, Transaction};
use kit::ApiError;

use crate::csv;
use crate::domain::repeats::LineSource;
use crate::domain::settlement::BatchLine;

/// One credit to ingest, whatever file it came from.
#[derive(Debug, Clone)]
pub(crate) struct Incoming {
    pub(crate) line_no: u32,
    pub(crate) date: NaiveDate,
    pub(crate) amount: Decimal,
    pub(crate) currency: String,
    pub(crate) payer_name: String,
    pub(crate) payer_account: String,
    pub(crate) reference: String,
    /// The account the money arrived on (the statement's account, else the one the request
    /// gave).
    pub(crate) receiving_account: String,
    /// Identity across files (R-P2): the same transaction in another file is never booked
    /// twice (see `domain::repeats` for what a repeat becomes).
    pub(crate) fingerprint: String,
    /// What kind of report it came from.
    pub(crate) source: LineSource,
    /// A line of a wallet's or card acquirer's settlement report: its batch and the fee.
    pub(crate) settlement: Option<SettlementPart>,
}

/// The settlement part of a wallet or card payment.
#[derive(Debug, Clone)]
pub(crate) struct SettlementPart {
    pub(crate) channel: feeds::SettlementChannel,
    pub(crate) batch: String,
    pub(crate) fee: Decimal,
}

/// One statement of the file as the bank reported it, for book-to-bank (R-P7).
#[derive(Debug, Clone)]
pub(crate) struct StatementSummary {
    pub(crate) line_no: u32,
    pub(crate) source: LineSource,
    pub(crate) account: String,
    pub(crate) currency: String,
    /// The business day it reports: the closing balance's date, else the opening's, else
    /// the last booking date.
    pub(crate) date: NaiveDate,
    pub(crate) opening: Option<Decimal>,
    pub(crate) closing: Option<Decimal>,
    pub(crate) credits: Decimal,
    pub(crate) debits: Decimal,
    pub(crate) credit_lines: u32,
    /// Fingerprints of the credits that became lines to book.
    pub(crate) fingerprints: Vec<String>,
    /// Why the statement was refused (its lines are not booked), or empty.
    pub(crate) rejected: String,
}

/// What a file yielded.
pub(crate) struct Intake {
    pub(crate) format: String,
    pub(crate) credits: Vec<Incoming>,
    pub(crate) errors: Vec<csv::LineError>,
    /// Entries that are not incoming payments: debits, pending or information-only entries.
    pub(crate) skipped: u32,
    /// The file's statements, refused ones included (R-P7).
    pub(crate) statements: Vec<StatementSummary>,
    /// Every line of the file's settlement reports, refunds included, for the batches the
    /// channels pay out (R-P7).
    pub(crate) batch_lines: Vec<BatchLine>,
}

/// Header of the simple layout, which also identifies it when no format is given.
const SIMPLE_HEADER: &str = "date,amount,currency,payer_name,payer_account,reference";

pub(crate) fn read(
    file_name: &str,
    content: &[u8],
    format: &str,
    account: &str,
) -> Result<Intake, ApiError> {
    let format = format.trim().to_ascii_lowercase();
    let looks_simple = content
        .strip_prefix(b"\xef\xbb\xbf")
        .unwrap_or(content)
        .starts_with(SIMPLE_HEADER.as_bytes());
    let account = account.trim();
    if format == "csv" || (format.is_empty() && looks_simple) {
        if account.is_empty() {
            return Err(missing_account("the simple CSV layout does not name it"));
        }
        let account = kit::wire::account("account", account)?;
        return simple(content, &account);
    }
    let forced = if format.is_empty() {
        None
    } else {
        Some(format.parse::<Format>().map_err(|e| {
            ApiError::invalid(
                "format",
                format!("{e}; or \"csv\" for the simple layout ({SIMPLE_HEADER})"),
            )
        })?)
    };
    let options = ParseOptions {
        account: Some(account.to_owned()).filter(|a| !a.is_empty()),
        ..ParseOptions::default()
    };
    let parsed = feeds::parse_file(file_name, content, forced.clone(), &options)
        .map_err(|e| ApiError::invalid("content", e.to_string()))?;
    let mut intake = Intake {
        format: parsed.format.name(),
        credits: Vec::new(),
        errors: Vec::new(),
        skipped: 0,
        statements: Vec::new(),
        batch_lines: Vec::new(),
    };
    for error in &parsed.errors {
        intake.errors.push(csv::LineError {
            line_no: location_line(&error.location),
            field: error.field.clone(),
            message: error.to_string(),
        });
    }
    for statement in &parsed.statements {
        if statement.kind == feeds::StatementKind::Settlement {
            // A wallet's or acquirer's report names the merchant, not the bank account its
            // batches are paid into: that one the request gives.
            if account.is_empty() {
                return Err(missing_account(
                    "a settlement report names the merchant, not the bank account the channel pays its batches into",
                ));
            }
            for tx in &statement.transactions {
                if let (Some(s), Some(_)) = (&tx.settlement, tx.date()) {
                    intake.batch_lines.push(BatchLine {
                        channel: s.channel,
                        batch: s.batch.clone(),
                        currency: tx.currency.clone(),
                        gross: s.gross,
                        fee: s.fee,
                        net: s.net,
                        settled_on: s.settled_on,
                    });
                }
                credits_of(tx, account, source_of(statement), &mut intake);
            }
            continue;
        }
        let receiving = if statement.account.trim().is_empty() {
            account
        } else {
            statement.account.trim()
        };
        if receiving.is_empty() && !statement.transactions.is_empty() {
            return Err(missing_account(&format!(
                "the statement at line {} does not name it",
                statement.source.line
            )));
        }
        let first = intake.credits.len();
        for tx in &statement.transactions {
            credits_of(tx, receiving, source_of(statement), &mut intake);
        }
        let fingerprints = intake.credits[first..]
            .iter()
            .map(|c| c.fingerprint.clone())
            .collect();
        intake
            .statements
            .extend(summary(statement, receiving, fingerprints, String::new()));
    }
    if !parsed.errors.is_empty() {
        // R-P7: a refused statement (e.g. its balances do not add up) still tells what the
        // bank reported; read the file again keeping such statements flagged, for the record
        // only (nothing of them is booked).
        let flagging = ParseOptions {
            mode: feeds::CheckMode::Flag,
            ..options
        };
        if let Ok(flagged) = feeds::parse_file(file_name, content, forced, &flagging) {
            for statement in flagged.statements.iter().filter(|s| !s.flags.is_empty()) {
                let receiving = match statement.account.trim() {
                    "" => account,
                    own => own,
                };
                let why = statement
                    .flags
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ");
                intake
                    .statements
                    .extend(summary(statement, receiving, Vec::new(), why));
            }
        }
    }
    Ok(intake)
}

fn source_of(statement: &feeds::Statement) -> LineSource {
    match statement.kind {
        feeds::StatementKind::Statement => LineSource::Statement,
        feeds::StatementKind::IntradayReport => LineSource::Intraday,
        feeds::StatementKind::Notification => LineSource::Notification,
        feeds::StatementKind::Settlement => LineSource::Settlement,
    }
}

/// What the bank reported in `statement`; `None` when it names no day at all.
fn summary(
    statement: &feeds::Statement,
    account: &str,
    fingerprints: Vec<String>,
    rejected: String,
) -> Option<StatementSummary> {
    let booked = || {
        statement
            .transactions
            .iter()
            .filter(|t| t.status == EntryStatus::Booked)
    };
    let date = statement
        .closing_balance
        .as_ref()
        .or(statement.opening_balance.as_ref())
        .map(|b| b.date)
        .or_else(|| booked().filter_map(Transaction::date).max())?;
    let (mut credits, mut debits, mut credit_lines) = (Decimal::ZERO, Decimal::ZERO, 0u32);
    for t in booked() {
        if t.amount > Decimal::ZERO {
            credits = credits.checked_add(t.amount)?;
            credit_lines += 1;
        } else {
            debits = debits.checked_add(-t.amount)?;
        }
    }
    Some(StatementSummary {
        line_no: statement.source.line,
        source: source_of(statement),
        account: account.to_owned(),
        currency: statement.currency.clone(),
        date,
        opening: statement.opening_balance.as_ref().map(|b| b.amount),
        closing: statement.closing_balance.as_ref().map(|b| b.amount),
        credits,
        debits,
        credit_lines,
        fingerprints,
        rejected,
    })
}

/// R-P6: every payment's receiving account is checked, so it must be known.
fn missing_account(why: &str) -> ApiError {
    ApiError::invalid(
        "account",
        format!(
            "is required: {why}; give the account the money arrived on (the bank statement's account number)"
        ),
    )
}

fn simple(content: &[u8], account: &str) -> Result<Intake, ApiError> {
    let text = std::str::from_utf8(content).map_err(|e| {
        ApiError::invalid(
            "content",
            format!(
                "is not UTF-8 text (byte {}); convert the file to UTF-8",
                e.valid_up_to()
            ),
        )
    })?;
    let (lines, errors) = csv::parse(text);
    // Identical lines within one file are distinct payments; across files they are the same.
    let mut occurrences: HashMap<String, u32> = HashMap::new();
    let credits = lines
        .into_iter()
        .map(|line| {
            // The receiving account is part of the identity: the same amount from the same
            // payer with the same reference on two of the project's accounts is two payments.
            let base = format!(
                "{}|{}|{}|{}|{}|{}",
                account,
                line.date,
                line.amount.normalize(),
                line.currency,
                line.payer_account,
                line.reference
            );
            let n = occurrences.entry(base.clone()).or_insert(0);
            *n += 1;
            Incoming {
                line_no: line.line_no,
                date: line.date,
                amount: line.amount,
                fingerprint: format!(
                    "csv:{}",
                    hex(&Sha256::digest(format!("{base}|{n}").as_bytes()))
                ),
                currency: line.currency,
                payer_name: line.payer_name,
                payer_account: line.payer_account,
                reference: line.reference,
                receiving_account: account.to_owned(),
                source: LineSource::SimpleCsv,
                settlement: None,
            }
        })
        .collect();
    Ok(Intake {
        format: "csv".to_owned(),
        credits,
        errors,
        skipped: 0,
        statements: Vec::new(),
        batch_lines: Vec::new(),
    })
}

/// The incoming payments in one statement entry: the entry itself, or each payment of a
/// batch entry whose details carry their own amounts.
fn credits_of(tx: &Transaction, receiving_account: &str, source: LineSource, intake: &mut Intake) {
    // R-P3: only money the bank confirms as booked counts; debits are not payments.
    if tx.status != EntryStatus::Booked || tx.amount <= Decimal::ZERO || tx.reversal {
        intake.skipped += 1;
        return;
    }
    let line_no = tx.source.line;
    let Some(date) = tx.date() else {
        intake.errors.push(csv::LineError {
            line_no,
            field: "booking_date".to_owned(),
            message: "the entry has neither a booking date nor a value date".to_owned(),
        });
        return;
    };
    if kit::wire::minor_units(&tx.currency).is_none() {
        intake.errors.push(csv::LineError {
            line_no,
            field: "currency".to_owned(),
            message: format!("{} is not a currency the platform books", tx.currency),
        });
        return;
    }
    let references =
        |remittance: Option<&String>, payment_ref: Option<&String>, e2e: Option<&String>| {
            [remittance, payment_ref, e2e, tx.customer_reference.as_ref()]
                .into_iter()
                .flatten()
                .map(String::as_str)
                .filter(|s| !s.is_empty() && *s != "NOTPROVIDED" && *s != "NONREF")
                .collect::<Vec<_>>()
                .join(" ")
        };
    let split: Vec<_> = tx
        .details
        .iter()
        .filter(|d| d.amount.is_some_and(|a| a > Decimal::ZERO))
        .collect();
    if split.len() > 1 {
        for (i, detail) in split.iter().enumerate() {
            intake.credits.push(Incoming {
                line_no: detail.source.line.max(line_no),
                date,
                amount: detail.amount.unwrap_or_default(),
                currency: detail
                    .currency
                    .clone()
                    .unwrap_or_else(|| tx.currency.clone()),
                payer_name: detail
                    .counterparty_name
                    .clone()
                    .or_else(|| tx.counterparty_name.clone())
                    .unwrap_or_default(),
                payer_account: detail
                    .counterparty_account
                    .clone()
                    .or_else(|| tx.counterparty_account.clone())
                    .unwrap_or_default(),
                reference: references(
                    detail.remittance_information.as_ref(),
                    detail.payment_reference.as_ref(),
                    detail.end_to_end_id.as_ref(),
                ),
                receiving_account: receiving_account.to_owned(),
                fingerprint: format!("feed:{}#{i}", tx.fingerprint),
                source,
                settlement: None,
            });
        }
        return;
    }
    // A wallet's or acquirer's line names a masked card or a wallet login, not an account
    // the customer pays from: it identifies nobody, so it is no payer account (R-O4).
    let payer_account = match &tx.settlement {
        Some(_) => String::new(),
        None => tx.counterparty_account.clone().unwrap_or_default(),
    };
    intake.credits.push(Incoming {
        line_no,
        date,
        amount: tx.amount,
        currency: tx.currency.clone(),
        payer_name: tx.counterparty_name.clone().unwrap_or_default(),
        payer_account,
        reference: references(
            tx.remittance_information.as_ref(),
            tx.payment_reference.as_ref(),
            tx.end_to_end_id.as_ref(),
        ),
        receiving_account: receiving_account.to_owned(),
        fingerprint: format!("feed:{}", tx.fingerprint),
        source,
        settlement: tx.settlement.as_ref().map(|s| SettlementPart {
            channel: s.channel,
            batch: s.batch.clone(),
            fee: s.fee,
        }),
    });
}

fn location_line(location: &feeds::Location) -> u32 {
    match location {
        feeds::Location::File => 0,
        feeds::Location::Line { line } | feeds::Location::Xml { line, .. } => *line,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
