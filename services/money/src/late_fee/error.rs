//! Errors of policy files and of late-fee computations. Every message names the field or the
//! input that is wrong and what was expected.

use chrono::NaiveDate;
use thiserror::Error;

use crate::amount::Money;
use crate::error::MoneyError;

/// A policy or reference-rate file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PolicyError {
    /// Not valid JSON for the format (unknown key, wrong type, missing field).
    #[error("{what}: {message}")]
    Parse {
        /// `"policy"` or `"reference rate table"`.
        what: &'static str,
        /// The parser's message, with the key and the line and column.
        message: String,
    },
    /// Well-formed but inconsistent.
    #[error("{what} field `{field}`: {reason}")]
    Invalid {
        /// `"policy"` or `"reference rate table"`.
        what: &'static str,
        /// Path of the field, e.g. `accrual.tiers[1].from_month`.
        field: String,
        /// What is wrong and what is expected.
        reason: String,
    },
}

/// Why a late fee could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LateFeeError {
    /// An amount problem (currency, precision, overflow).
    #[error(transparent)]
    Money(#[from] MoneyError),
    /// R-C4: fees accrue on the overdue principal, which cannot be negative.
    #[error("principal must not be negative, got {principal}")]
    NegativePrincipal {
        /// The principal given.
        principal: Money,
    },
    /// The as-of date precedes the due date.
    #[error(
        "as-of date {as_of} is before the due date {due}: nothing is overdue yet; use an as-of date on or after the due date"
    )]
    AsOfBeforeDue {
        /// Due date.
        due: NaiveDate,
        /// As-of date.
        as_of: NaiveDate,
    },
    /// The start of an accrual window outside due..=as_of.
    #[error(
        "accrual window start {since} must be between the due date {due} and the as-of date {as_of}"
    )]
    SinceOutOfRange {
        /// Window start (exclusive).
        since: NaiveDate,
        /// Due date.
        due: NaiveDate,
        /// As-of date.
        as_of: NaiveDate,
    },
    /// More than a century overdue: almost certainly a wrong date.
    #[error(
        "{days} days between due date and as-of date is more than the {max} supported; check the dates"
    )]
    TooLong {
        /// Days overdue.
        days: i64,
        /// The limit.
        max: i64,
    },
    /// A payment that is not in the principal's currency.
    #[error("payments[{index}] ({date}) is in {found}, the principal is in {expected}")]
    PaymentCurrency {
        /// Position in the input.
        index: usize,
        /// Its date.
        date: NaiveDate,
        /// The principal's currency.
        expected: &'static str,
        /// The payment's currency.
        found: &'static str,
    },
    /// A payment of zero or less.
    #[error(
        "payments[{index}] ({date}) must be a positive amount applied to principal, got {amount}"
    )]
    NonPositivePayment {
        /// Position in the input.
        index: usize,
        /// Its date.
        date: NaiveDate,
        /// The amount.
        amount: Money,
    },
    /// Payments up to the as-of date exceed the principal.
    #[error(
        "payments up to {as_of} total {paid}, more than the principal {principal}: payments here are the amounts applied to principal (after R-P11 allocation), so they cannot exceed it"
    )]
    PaymentsExceedPrincipal {
        /// Sum of payments.
        paid: Money,
        /// The principal.
        principal: Money,
        /// As-of date.
        as_of: NaiveDate,
    },
    /// A waiver that is malformed or lacks a valid approval (R-D6).
    #[error("waivers[{index}] ({date}): {reason}")]
    InvalidWaiver {
        /// Position in the input.
        index: usize,
        /// Its date.
        date: NaiveDate,
        /// What is wrong.
        reason: String,
    },
    /// A waiver for more than the fee accrued and not yet waived on its date.
    #[error(
        "waivers[{index}] ({date}) waives {amount} but only {available} of late fees had accrued and were not yet waived by then"
    )]
    WaiverExceedsAccrued {
        /// Position in the input.
        index: usize,
        /// Its date.
        date: NaiveDate,
        /// The amount it waives.
        amount: Money,
        /// What could be waived.
        available: Money,
    },
    /// The policy accrues on a reference rate but no table was given.
    #[error(
        "policy accrues on reference rate series \"{series}\" but no reference rate table was given"
    )]
    MissingReferenceRates {
        /// The series the policy needs.
        series: String,
    },
    /// The table given is for another series.
    #[error("policy needs reference rate series \"{wanted}\" but the table given is \"{given}\"")]
    ReferenceSeriesMismatch {
        /// The series the policy needs.
        wanted: String,
        /// The series of the table.
        given: String,
    },
    /// A day before the first rate of the table.
    #[error(
        "no {series} rate is in force on {date}: the table starts on {first}; add the earlier rates"
    )]
    NoReferenceRate {
        /// Series.
        series: String,
        /// The day that needs a rate.
        date: NaiveDate,
        /// The table's first date.
        first: NaiveDate,
    },
    /// A day after the table's `known_through`.
    #[error(
        "{series} rates are known only through {known_through} but {date} needs one: add the rates published since and move known_through"
    )]
    ReferenceRateStale {
        /// Series.
        series: String,
        /// The day that needs a rate.
        date: NaiveDate,
        /// The table's `known_through`.
        known_through: NaiveDate,
    },
    /// Numbers so large that a 28-digit decimal could no longer hold them exactly.
    #[error("amounts too large to compute exactly while computing {what}")]
    Precision {
        /// What was being computed.
        what: &'static str,
    },
    /// Date arithmetic overflow.
    #[error("date out of range while computing {what}")]
    DateOutOfRange {
        /// What was being computed.
        what: &'static str,
    },
}
