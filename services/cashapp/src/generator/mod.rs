//! Reproducible synthetic portfolio generator (issue item 7): receivables, bank statements
//! (camt.053 and a Bank of China `boc_debit` CSV export, both readable by the feeds crate)
//! with realistic noise, and a ground-truth file.
//!
//! The noise: references with typos, spaces, dashes, full-width characters, digits only, cut
//! short, or naming the receivable; payer names in pinyin (with or without tones, either word
//! order) and company-suffix variants; customers paying from accounts not on file; relatives
//! and companies paying for a customer (third party); several installments in one payment;
//! one installment in several parts; overpayments and bank charges; HKD payments for CNY
//! contracts (with the day's rate in a rates file); duplicates; payments to the developer's
//! operating account instead of the escrow account; and unrelated lines. Same seed and
//! config, same bytes.

mod emit;
mod noise;
mod pay;
mod people;
mod render;
mod rng;
mod scenario;
mod truth;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::fx::RateTable;
use crate::model::{OpenItem, Payment};

pub use truth::{
    CategoryStats, Expect, GroundTruth, Quality, TruthAllocation, TruthPayment, basis_points,
    evaluate, percent,
};

/// How often each kind of noise occurs, in basis points (1/100 of a percent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NoiseMix {
    /// Payments by a relative or a company for the customer, with the right reference.
    pub third_party: u32,
    /// Payments to the operating account or another project's escrow account.
    pub wrong_account: u32,
    /// Payments sent twice (1–3 days apart).
    pub duplicate: u32,
    /// Bank lines that pay no receivable (share of all payments).
    pub unrelated: u32,
    /// The customer pays from a new account without any reference (a person must look).
    pub no_reference_new_account: u32,
    /// Several installments in one payment.
    pub combined: u32,
    /// One installment in two or three parts.
    pub partial: u32,
    /// More than is due.
    pub overpayment: u32,
    /// Less than due by bank charges (up to 1.00).
    pub bank_charges: u32,
    /// Customers abroad who pay in HKD.
    pub foreign_customers: u32,
    /// The customer pays from an account not on file (with a reference).
    pub new_account: u32,
    /// Reference with one typo.
    pub typo: u32,
    /// Reference cut short at the end of the remittance.
    pub cut_short: u32,
    /// Only the digits of the reference.
    pub digits_only: u32,
    /// Full-width characters.
    pub full_width: u32,
    /// Spaces and lower case.
    pub spaced: u32,
    /// The receivable id instead of the contract number.
    pub receivable_named: u32,
    /// No reference at all (payer pays from a known account).
    pub no_reference: u32,
}

impl Default for NoiseMix {
    fn default() -> Self {
        Self {
            third_party: 200,
            wrong_account: 120,
            duplicate: 100,
            unrelated: 300,
            no_reference_new_account: 80,
            combined: 400,
            partial: 300,
            overpayment: 150,
            bank_charges: 150,
            foreign_customers: 150,
            new_account: 1100,
            typo: 500,
            cut_short: 300,
            digits_only: 700,
            full_width: 500,
            spaced: 500,
            receivable_named: 700,
            no_reference: 800,
        }
    }
}

/// Generator settings (JSON-readable; every field optional).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GeneratorConfig {
    /// About this many payments (credit lines) are generated.
    pub payments: usize,
    /// First day of the statement period (the receivables are open as of this day).
    pub start: NaiveDate,
    /// Length of the statement period in days.
    pub days: u16,
    /// Contracts per project (each project has its regulated escrow account).
    pub contracts_per_project: usize,
    /// Noise.
    pub mix: NoiseMix,
}

impl Default for GeneratorConfig {
    fn default() -> Self {
        Self {
            payments: 100_000,
            start: NaiveDate::from_ymd_opt(2024, 3, 1).unwrap_or_default(),
            days: 60,
            contracts_per_project: 1500,
            mix: NoiseMix::default(),
        }
    }
}

/// A portfolio in memory: what the files hold, as the engine's input types.
#[derive(Debug, Clone)]
pub struct Portfolio {
    /// Open receivables.
    pub items: Vec<OpenItem>,
    /// Payments (credits), with `id` and `bank_reference` set to the truth key.
    pub payments: Vec<Payment>,
    /// Exchange rates for the period.
    pub rates: RateTable,
    /// What each payment really is.
    pub truth: GroundTruth,
    lines: Vec<scenario::Line>,
    accounts: Vec<scenario::Account>,
}

/// Generated files.
#[derive(Debug, Clone)]
pub struct Generated {
    /// Receivables CSV (the format `collectctl reconcile --receivables` reads).
    pub receivables_csv: Vec<u8>,
    /// ISO 20022 camt.053 statement, one `Stmt` per account and currency.
    pub camt053: Vec<u8>,
    /// The same lines as a Bank of China debit-card CSV export (feeds profile `boc_debit`).
    pub statement_csv: Vec<u8>,
    /// Exchange rates CSV (`date,from,to,rate`).
    pub rates_csv: Vec<u8>,
    /// Ground truth as JSON.
    pub truth_json: Vec<u8>,
    /// Ground truth.
    pub truth: GroundTruth,
}

/// Generate a portfolio in memory (for tests and benchmarks that skip the files).
#[must_use]
pub fn generate_portfolio(seed: u64, config: &GeneratorConfig) -> Portfolio {
    scenario::build(seed, config)
}

/// Generate the files of a portfolio.
#[must_use]
pub fn generate(seed: u64, config: &GeneratorConfig) -> Generated {
    let mut p = generate_portfolio(seed, config);
    let camt053 = render::camt053(&p.lines, &p.accounts, config.start, seed);
    let (statement_csv, lines) = render::boc_csv(&p.lines, &p.accounts);
    for t in &mut p.truth.payments {
        t.csv_line = lines.get(&t.key).copied();
    }
    let truth_json = serde_json::to_vec_pretty(&p.truth).unwrap_or_default();
    Generated {
        receivables_csv: crate::receivables::write_receivables(&p.items),
        camt053,
        statement_csv,
        rates_csv: render::rates_csv(&p.rates),
        truth_json,
        truth: p.truth,
    }
}
