//! Late fees (R-C4, R-C12, R-D6): policies as data, an itemised breakdown fit for a notice and
//! a court.
//!
//! Conventions (see also the crate README):
//!
//! - **Days.** A receivable due on D accrues for the days D+1 ..= as-of: the due date itself is
//!   not overdue, the as-of date counts. Fees accrue by calendar day (R-C4), not working day.
//! - **Base.** The principal still unpaid on each day. A payment dated P lowers the base from
//!   day P itself. Payments are the amounts applied to principal after allocation (R-P11).
//! - **Months of delinquency.** Calendar months from the due date by default
//!   ([`MonthBasis`]); accrual lines are split at every month boundary so a notice can show
//!   fees per month (R-D3).
//! - **Rounding.** Nothing is rounded per day. The exact running total is rounded (half-up by
//!   default) at the end of every line and each line's amount is the difference of consecutive
//!   rounded running totals. So the lines add up exactly to the total, and the fee for two
//!   adjacent periods adds up exactly to the fee for their union, whichever day splits them
//!   (the contracts service can book daily or monthly accruals that always sum to the notice).
//!   A line can therefore differ by at most one minor unit from its own `unrounded` value,
//!   which is shown next to it.
//! - **Caps** apply to the accrued fee, then **waivers** are subtracted, so a waiver always
//!   lowers what is owed. Caps are floored to the minor unit so the total never exceeds them.
//! - **Waivers** (R-D6) need an approver other than the proposer; an amount waiver may not
//!   exceed what had accrued and was not yet waived on its date.

mod checks;
mod engine;
mod error;
mod policy;
mod rate;
mod records;
mod running;
mod segment;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::amount::{Money, amount_only};
use crate::currency::Currency;

pub use error::{LateFeeError, PolicyError};
pub use policy::{Accrual, Cap, GraceMode, LateFeePolicy, MonthBasis, PolicySpec, Surcharge, Tier};
pub use rate::{Rate, RatePoint, RateTable, RateTableSpec};
pub use records::{
    PaymentRecord, WaiverKind, WaiverRecord, payments_from_records, waivers_from_records,
};

/// An amount applied to the principal on a date (after R-P11 allocation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// Value date: the base is lower from this day on.
    pub date: NaiveDate,
    /// Amount applied to principal; positive, in the principal's currency.
    pub amount: Money,
}

/// What a waiver forgives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WaiverScope {
    /// Everything accrued and not yet waived by the waiver's date.
    All,
    /// A fixed amount (what was approved); must not exceed what is waivable on its date.
    Amount {
        /// The amount forgiven.
        amount: Money,
    },
    /// A share of what is waivable on its date, rounded with the policy's rounding.
    Percent {
        /// The share, at most 100%.
        percent: Rate,
    },
}

/// R-D6: a late-fee waiver, whole or partial, with who proposed and who approved it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiver {
    /// Effective date: it forgives fees accrued up to and including this day.
    pub date: NaiveDate,
    /// What it forgives.
    #[serde(flatten)]
    pub scope: WaiverScope,
    /// Who proposed it.
    pub proposed_by: String,
    /// Who approved it (must differ from the proposer).
    pub approved_by: String,
    /// Why (hardship, non-malicious debtor, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Reference of the approval record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// Everything a late fee depends on besides the policy.
#[derive(Debug, Clone, Copy)]
pub struct LateFeeInput<'a> {
    /// The overdue principal at the due date (R-C4: fees accrue on principal only).
    pub principal: Money,
    /// The due date that applies (already moved off a holiday, R-C6).
    pub due: NaiveDate,
    /// The day up to and including which fees are computed.
    pub as_of: NaiveDate,
    /// Amounts applied to principal, in any order.
    pub payments: &'a [Payment],
    /// Approved waivers, in any order; those dated after `as_of` are not yet in effect.
    pub waivers: &'a [Waiver],
    /// The table for [`Accrual::ReferenceRate`] policies.
    pub reference_rates: Option<&'a RateTable>,
}

impl<'a> LateFeeInput<'a> {
    /// A receivable with no payments, waivers or reference rates.
    pub fn new(principal: Money, due: NaiveDate, as_of: NaiveDate) -> LateFeeInput<'a> {
        LateFeeInput {
            principal,
            due,
            as_of,
            payments: &[],
            waivers: &[],
            reference_rates: None,
        }
    }

    /// With payments applied to principal.
    pub fn with_payments(mut self, payments: &'a [Payment]) -> Self {
        self.payments = payments;
        self
    }

    /// With approved waivers.
    pub fn with_waivers(mut self, waivers: &'a [Waiver]) -> Self {
        self.waivers = waivers;
        self
    }

    /// With a reference-rate table (R-C12).
    pub fn with_reference_rates(mut self, table: &'a RateTable) -> Self {
        self.reference_rates = Some(table);
        self
    }
}

/// Kind of a breakdown line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    /// Daily accrual over a period at one base and one rate.
    Accrual,
    /// Accrual over grace days, charged because the grace period ended unpaid
    /// ([`GraceMode::FromDueDate`]).
    GraceAccrual,
    /// A one-off surcharge.
    Surcharge,
    /// Reduction to the cap.
    Cap,
    /// A waiver (negative amount).
    Waiver,
}

/// One line of the itemised breakdown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeeLine {
    /// What the line is.
    pub kind: LineKind,
    /// First day (inclusive).
    pub from: NaiveDate,
    /// Last day (inclusive); equal to `from` for one-off lines.
    pub to: NaiveDate,
    /// Month of delinquency of an accrual line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub month: Option<u32>,
    /// Number of days of an accrual line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days: Option<u32>,
    /// Principal the line is computed on.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "amount_opt")]
    pub base: Option<Money>,
    /// Rate per day (flat and tiered policies).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub daily_rate: Option<Rate>,
    /// Reference rate in force (R-C12), before multiplier and spread.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_rate: Option<Rate>,
    /// Annual rate applied: reference × multiplier + spread.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annual_rate: Option<Decimal>,
    /// Days per year the annual rate is divided by.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub day_basis: Option<u32>,
    /// Fraction of a surcharge.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate: Option<Rate>,
    /// The exact amount of the line before rounding (to 10 decimal places where a day basis
    /// makes it non-terminating).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "normalized")]
    pub unrounded: Option<Decimal>,
    /// The amount charged (negative for caps and waivers).
    #[serde(with = "amount_only")]
    pub amount: Money,
    /// Surcharge name, or the cap that applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The waiver of a waiver line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiver: Option<Box<Waiver>>,
}

impl FeeLine {
    /// A line with only its kind, dates and amount; the engine fills in the rest.
    pub(crate) fn new(kind: LineKind, from: NaiveDate, to: NaiveDate, amount: Money) -> FeeLine {
        FeeLine {
            kind,
            from,
            to,
            month: None,
            days: None,
            base: None,
            daily_rate: None,
            reference_rate: None,
            annual_rate: None,
            day_basis: None,
            rate: None,
            unrounded: None,
            amount,
            label: None,
            waiver: None,
        }
    }
}

/// Without trailing zeros (`"4.99995"`, not `"4.999950"`).
fn normalized<S: serde::Serializer>(d: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.collect_str(&d.normalize()),
        None => s.serialize_none(),
    }
}

fn amount_opt<S: serde::Serializer>(m: &Option<Money>, s: S) -> Result<S::Ok, S::Error> {
    match m {
        Some(m) => amount_only::serialize(m, s),
        None => s.serialize_none(),
    }
}

/// The result: itemised lines and totals. All amounts are in `currency` and serialise as
/// decimal strings. `total = accrued + cap_adjustment - waived = sum of the line amounts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LateFeeBreakdown {
    /// Policy name.
    pub policy: String,
    /// Currency of every amount.
    pub currency: Currency,
    /// Principal at the due date.
    #[serde(with = "amount_only")]
    pub principal: Money,
    /// Due date.
    pub due: NaiveDate,
    /// As-of date.
    pub as_of: NaiveDate,
    /// First day the breakdown covers (the day after the due date, or after `since`).
    pub period_from: NaiveDate,
    /// Calendar days overdue on the as-of date.
    pub days_overdue: u32,
    /// Last day of the grace period, when the policy has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grace_ends: Option<NaiveDate>,
    /// Principal still unpaid on the as-of date.
    #[serde(with = "amount_only")]
    pub outstanding_principal: Money,
    /// The lines: accruals and surcharges by date, then the cap, then waivers.
    pub lines: Vec<FeeLine>,
    /// Sum of accrual and surcharge lines.
    #[serde(with = "amount_only")]
    pub accrued: Money,
    /// Change due to caps (zero or negative over a whole life).
    #[serde(with = "amount_only")]
    pub cap_adjustment: Money,
    /// Sum waived.
    #[serde(with = "amount_only")]
    pub waived: Money,
    /// Late fee owed for the period.
    #[serde(with = "amount_only")]
    pub total: Money,
}

/// The amounts of a late-fee computation without the lines (see [`compute_summary`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LateFeeSummary {
    /// Currency of every amount.
    pub currency: Currency,
    /// Calendar days overdue on the as-of date.
    pub days_overdue: u32,
    /// Principal still unpaid on the as-of date.
    #[serde(with = "amount_only")]
    pub outstanding_principal: Money,
    /// Sum of accrual and surcharge lines.
    #[serde(with = "amount_only")]
    pub accrued: Money,
    /// Change due to caps.
    #[serde(with = "amount_only")]
    pub cap_adjustment: Money,
    /// Sum waived.
    #[serde(with = "amount_only")]
    pub waived: Money,
    /// Late fee owed for the period.
    #[serde(with = "amount_only")]
    pub total: Money,
}

impl LateFeeBreakdown {
    /// The amounts without the lines.
    pub fn summary(&self) -> LateFeeSummary {
        LateFeeSummary {
            currency: self.currency,
            days_overdue: self.days_overdue,
            outstanding_principal: self.outstanding_principal,
            accrued: self.accrued,
            cap_adjustment: self.cap_adjustment,
            waived: self.waived,
            total: self.total,
        }
    }
}

fn breakdown(
    policy: &LateFeePolicy,
    input: &LateFeeInput<'_>,
    o: engine::Outcome,
) -> LateFeeBreakdown {
    let s = o.summary;
    LateFeeBreakdown {
        policy: policy.name().to_string(),
        currency: s.currency,
        principal: input.principal,
        due: input.due,
        as_of: input.as_of,
        period_from: o.period_from,
        days_overdue: s.days_overdue,
        grace_ends: o.grace_ends,
        outstanding_principal: s.outstanding_principal,
        lines: o.lines,
        accrued: s.accrued,
        cap_adjustment: s.cap_adjustment,
        waived: s.waived,
        total: s.total,
    }
}

/// R-C4: the late fee of a receivable from the day after its due date through `as_of`,
/// itemised.
pub fn compute(
    policy: &LateFeePolicy,
    input: &LateFeeInput<'_>,
) -> Result<LateFeeBreakdown, LateFeeError> {
    Ok(breakdown(
        policy,
        input,
        engine::run(policy, input, input.due, true)?,
    ))
}

/// The amounts of [`compute`] without building the lines: for batch jobs (nightly accrual over
/// every open receivable) that only book totals. Same engine, same figures.
pub fn compute_summary(
    policy: &LateFeePolicy,
    input: &LateFeeInput<'_>,
) -> Result<LateFeeSummary, LateFeeError> {
    Ok(engine::run(policy, input, input.due, false)?.summary)
}

/// The late fee that accrued in the period `since + 1 ..= as_of` (for booking accruals
/// period by period). For any `due <= a <= b <= c`, the totals for `(a, b]` and `(b, c]` add up
/// exactly to the total for `(a, c]`, and `accrued_since(.., due)` equals [`compute`].
pub fn accrued_since(
    policy: &LateFeePolicy,
    input: &LateFeeInput<'_>,
    since: NaiveDate,
) -> Result<LateFeeBreakdown, LateFeeError> {
    Ok(breakdown(
        policy,
        input,
        engine::run(policy, input, since, true)?,
    ))
}

#[cfg(test)]
mod tests;
