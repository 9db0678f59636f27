//! `collectctl late-fee`: the itemised late fee of one receivable (R-C4, R-C12, R-D6).

use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::NaiveDate;
use clap::Args;
use money::late_fee::{
    self, LateFeeError, LateFeeInput, LateFeePolicy, PaymentRecord, RateTable, WaiverRecord,
    payments_from_records, waivers_from_records,
};
use money::{Currency, Money};
use serde::de::DeserializeOwned;

use crate::cli::{Failure, Hint, Outcome, json, parse_date, read};

const FORMAT_HINT: &str = "the file formats are in services/money/README.md (\"Policy file\", \"Payments, waivers and reference rates\")";

#[derive(Args)]
pub(crate) struct LateFeeArgs {
    /// Policy file (JSON).
    #[arg(long, value_name = "FILE")]
    policy: PathBuf,
    /// Overdue principal at the due date, a decimal such as 10000.00.
    #[arg(long, value_name = "AMOUNT", allow_negative_numbers = true)]
    principal: String,
    /// ISO 4217 currency of the receivable.
    #[arg(long, default_value = "CNY")]
    currency: String,
    /// Due date that applies (already moved off a holiday), YYYY-MM-DD.
    #[arg(long, value_parser = parse_date)]
    due: NaiveDate,
    /// Date up to and including which fees are computed, YYYY-MM-DD.
    #[arg(long, value_parser = parse_date)]
    as_of: NaiveDate,
    /// Payments applied to principal: a JSON list of {"date", "amount"}.
    #[arg(long, value_name = "FILE")]
    payments: Option<PathBuf>,
    /// Approved waivers: a JSON list of {"date", "kind", …, "proposed_by", "approved_by"}.
    #[arg(long, value_name = "FILE")]
    waivers: Option<PathBuf>,
    /// Reference-rate table for reference-rate policies (e.g. the one-year LPR).
    #[arg(long, value_name = "FILE", env = "COLLECTCTL_REFERENCE_RATES")]
    reference_rates: Option<PathBuf>,
    /// Only the fee accrued after this date (to book accruals period by period), YYYY-MM-DD.
    #[arg(long, value_parser = parse_date)]
    since: Option<NaiveDate>,
}

fn load_list<T: DeserializeOwned>(path: &Path, what: &str) -> Result<Vec<T>, Failure> {
    let text = read(path, what)?;
    serde_json::from_str(&text)
        .with_context(|| format!("{what} {}", path.display()))
        .hint(FORMAT_HINT)
}

pub(crate) fn run(args: LateFeeArgs) -> Outcome {
    let currency = Currency::from_code(&args.currency)
        .context("--currency")
        .hint("give an ISO 4217 code such as CNY, USD or HKD")?;
    let principal = Money::parse(&args.principal, currency)
        .with_context(|| format!("--principal {}", args.principal))
        .hint(format!(
            "give a plain decimal with at most {} decimal places, e.g. 10000.00",
            currency.minor_units()
        ))?;
    let policy = LateFeePolicy::from_json(&read(&args.policy, "policy file")?)
        .with_context(|| format!("policy file {}", args.policy.display()))
        .hint(FORMAT_HINT)?;
    let payments = match &args.payments {
        Some(path) => {
            let records: Vec<PaymentRecord> = load_list(path, "payments file")?;
            payments_from_records(&records, currency)
                .map_err(|(i, e)| {
                    anyhow::anyhow!("payments file {}: entry {i}: {e}", path.display())
                })
                .hint(FORMAT_HINT)?
        }
        None => Vec::new(),
    };
    let waivers = match &args.waivers {
        Some(path) => {
            let records: Vec<WaiverRecord> = load_list(path, "waivers file")?;
            waivers_from_records(&records, currency)
                .map_err(|(i, e)| {
                    anyhow::anyhow!("waivers file {}: entry {i}: {e}", path.display())
                })
                .hint(FORMAT_HINT)?
        }
        None => Vec::new(),
    };
    let table = match &args.reference_rates {
        Some(path) => Some(
            RateTable::from_json(&read(path, "reference rate file")?)
                .with_context(|| format!("reference rate file {}", path.display()))
                .hint(FORMAT_HINT)?,
        ),
        None => None,
    };
    let mut input = LateFeeInput::new(principal, args.due, args.as_of)
        .with_payments(&payments)
        .with_waivers(&waivers);
    if let Some(table) = &table {
        input = input.with_reference_rates(table);
    }
    let breakdown = match args.since {
        Some(since) => late_fee::accrued_since(&policy, &input, since),
        None => late_fee::compute(&policy, &input),
    };
    match breakdown {
        Ok(b) => json(b),
        Err(e) => {
            let hint = what_next(&e);
            Err(e).hint(hint)
        }
    }
}

/// What to do about a computation error.
fn what_next(e: &LateFeeError) -> &'static str {
    match e {
        LateFeeError::NegativePrincipal { .. } => "give --principal as the positive amount overdue",
        LateFeeError::AsOfBeforeDue { .. } => "give an --as-of on or after --due",
        LateFeeError::SinceOutOfRange { .. } => "give a --since between --due and --as-of",
        LateFeeError::TooLong { .. } => "check the years of --due and --as-of",
        LateFeeError::PaymentCurrency { .. }
        | LateFeeError::NonPositivePayment { .. }
        | LateFeeError::PaymentsExceedPrincipal { .. } => {
            "check the payments file: positive amounts applied to principal, in --currency"
        }
        LateFeeError::InvalidWaiver { .. } | LateFeeError::WaiverExceedsAccrued { .. } => {
            "check the waivers file: a different approver than proposer, and no more than had accrued"
        }
        LateFeeError::MissingReferenceRates { .. }
        | LateFeeError::ReferenceSeriesMismatch { .. } => {
            "pass --reference-rates with the series the policy names (example: services/money/examples/lpr-1y.json)"
        }
        LateFeeError::NoReferenceRate { .. } | LateFeeError::ReferenceRateStale { .. } => {
            "add the missing published rates to the reference rate file"
        }
        _ => "check the policy and the amounts given",
    }
}
