//! Late-fee policies as data (R-C4, R-C12): the JSON policy file and its checks.
//!
//! Every struct denies unknown fields, so a typo'd key is an error that names the key.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::error::PolicyError;
use super::rate::{Rate, decimal_str};
use crate::rounding::RoundingMode;

/// Highest daily rate accepted: 1% a day (365% a year). R-C4's highest is 0.1%/day; a larger
/// value is almost always "0.1" written for "0.1%".
const MAX_DAILY_RATE: Decimal = Decimal::from_parts(1, 0, 0, false, 2);

/// The policy file as written. See the crate README for the format and examples.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    /// Name printed on notices, e.g. `"property fee 1‰/day"`.
    pub name: String,
    /// Free text, e.g. the contract clause.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// How the daily fee is rated.
    pub accrual: Accrual,
    /// Calendar days after the due date before fees accrue (0 = none).
    #[serde(default)]
    pub grace_days: u32,
    /// What happens to the grace days once the grace period has passed unpaid.
    #[serde(default)]
    pub grace_mode: GraceMode,
    /// How months of delinquency are counted (tiers, surcharges, line splits).
    #[serde(default)]
    pub month_basis: MonthBasis,
    /// One-off surcharges (e.g. 20% at month 3).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub surcharges: Vec<Surcharge>,
    /// Upper limits on the fee; when several are given the lowest applies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub caps: Vec<Cap>,
    /// Rounding of the running total to the minor unit (default half-up).
    #[serde(default)]
    pub rounding: RoundingMode,
}

/// How each overdue day is rated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Accrual {
    /// One daily rate on the overdue principal (R-C4: 1‰ a day).
    FlatDaily {
        /// Rate per calendar day.
        daily_rate: Rate,
    },
    /// Daily rates by month of delinquency (R-C4: 0.05%/day in month 1, 0.1%/day from month 2).
    Tiered {
        /// Tiers, the first `from_month: 1`; each applies until the next one starts.
        tiers: Vec<Tier>,
    },
    /// An annual reference rate in force each day, times a multiplier plus a spread (R-C12:
    /// "LPR × 1.5"), divided by the day basis. A period spanning a rate change is split.
    ReferenceRate {
        /// Series name in the reference rate table, e.g. `"LPR1Y"`.
        series: String,
        /// Multiplier (decimal string, default `"1"`).
        #[serde(with = "decimal_str", default = "one")]
        multiplier: Decimal,
        /// Added to the annual rate after the multiplier (default 0), e.g. `"1%"`.
        #[serde(default)]
        spread: Rate,
        /// Days per year: 365 (default) or 360.
        #[serde(default = "days_365")]
        day_basis: u32,
    },
}

/// A tier of [`Accrual::Tiered`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    /// First month of delinquency the tier applies to (1-based).
    pub from_month: u32,
    /// Rate per calendar day.
    pub daily_rate: Rate,
}

/// A one-off surcharge on the principal still unpaid when it triggers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Surcharge {
    /// Name printed on the notice, e.g. `"punitive surcharge"`.
    pub name: String,
    /// Fraction of the unpaid principal, e.g. `"20%"`.
    pub rate: Rate,
    /// Triggers on the first day of this month of delinquency (3 = the day after two months).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_month: Option<u32>,
    /// Triggers on this day of delinquency (1 = the day after the due date).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_day: Option<u32>,
}

/// An upper limit on the fee (applied before waivers, so a waiver always reduces what is owed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Cap {
    /// At most `multiple` × the original principal (`"1"`: never more than the principal).
    PrincipalMultiple {
        /// Decimal string.
        #[serde(with = "decimal_str")]
        multiple: Decimal,
    },
    /// At most a fixed amount in the receivable's currency.
    Amount {
        /// Decimal string, at most to the minor unit.
        #[serde(with = "decimal_str")]
        amount: Decimal,
    },
    /// At most what `rate` a year would give on the principal unpaid each day (e.g. a legal
    /// ceiling such as 24% a year), counted from the day after the due date.
    AnnualRate {
        /// The annual rate.
        rate: Rate,
        /// Days per year: 365 (default) or 360.
        #[serde(default = "days_365")]
        day_basis: u32,
    },
}

/// What grace days mean once the grace period ends unpaid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GraceMode {
    /// Fees accrue from the first day after the grace period; grace days are free for good.
    /// The default: the reading most favourable to the debtor, which is how an ambiguous
    /// standard clause is read (Civil Code art. 498).
    #[default]
    FromGraceEnd,
    /// If principal is still unpaid at the end of the grace period, the grace days accrue too
    /// (recognised on the first day after the grace period); paid in full within grace, no fee.
    FromDueDate,
}

/// How months of delinquency are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MonthBasis {
    /// Calendar months from the due date: month k is the days after `due + (k-1) months` up to
    /// and including `due + k months` (clamped to month end: due 31 January, month 1 ends
    /// 28/29 February). The default, matching how contracts and courts count "第二个月".
    #[default]
    Calendar,
    /// Month k is delinquency days `30(k-1)+1 ..= 30k`.
    Days30,
}

fn one() -> Decimal {
    Decimal::ONE
}

fn days_365() -> u32 {
    365
}

/// A checked policy. Deserialising one runs the same checks as [`LateFeePolicy::new`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "PolicySpec", into = "PolicySpec")]
pub struct LateFeePolicy {
    spec: PolicySpec,
}

impl TryFrom<PolicySpec> for LateFeePolicy {
    type Error = PolicyError;
    fn try_from(spec: PolicySpec) -> Result<Self, Self::Error> {
        LateFeePolicy::new(spec)
    }
}

impl From<LateFeePolicy> for PolicySpec {
    fn from(p: LateFeePolicy) -> Self {
        p.spec
    }
}

fn invalid(field: impl Into<String>, reason: impl Into<String>) -> PolicyError {
    PolicyError::Invalid {
        what: "policy",
        field: field.into(),
        reason: reason.into(),
    }
}

fn check_daily(field: String, rate: Rate) -> Result<(), PolicyError> {
    if rate.value() > MAX_DAILY_RATE {
        return Err(invalid(
            field,
            format!(
                "{} a day is above the 1% a day this engine accepts; write 0.1% as \"0.1%\" or \"0.001\"",
                rate.percent()
            ),
        ));
    }
    Ok(())
}

fn check_basis(field: String, basis: u32) -> Result<(), PolicyError> {
    if basis == 360 || basis == 365 {
        Ok(())
    } else {
        Err(invalid(field, format!("must be 365 or 360, got {basis}")))
    }
}

impl LateFeePolicy {
    /// Checks a policy written in code.
    pub fn new(spec: PolicySpec) -> Result<LateFeePolicy, PolicyError> {
        if spec.name.trim().is_empty() {
            return Err(invalid(
                "name",
                "must not be empty (it is printed on notices)",
            ));
        }
        match &spec.accrual {
            Accrual::FlatDaily { daily_rate } => {
                check_daily("accrual.daily_rate".into(), *daily_rate)?
            }
            Accrual::Tiered { tiers } => {
                if tiers.first().map(|t| t.from_month) != Some(1) {
                    return Err(invalid(
                        "accrual.tiers",
                        "the first tier must have \"from_month\": 1",
                    ));
                }
                for (i, t) in tiers.iter().enumerate() {
                    check_daily(format!("accrual.tiers[{i}].daily_rate"), t.daily_rate)?;
                    if i > 0 && t.from_month <= tiers[i - 1].from_month {
                        return Err(invalid(
                            format!("accrual.tiers[{i}].from_month"),
                            "tiers must be in increasing from_month order",
                        ));
                    }
                }
            }
            Accrual::ReferenceRate {
                series,
                multiplier,
                day_basis,
                ..
            } => {
                if series.trim().is_empty() {
                    return Err(invalid(
                        "accrual.series",
                        "must name a series, e.g. \"LPR1Y\"",
                    ));
                }
                if multiplier.is_sign_negative() || multiplier.normalize().scale() > 6 {
                    return Err(invalid(
                        "accrual.multiplier",
                        "must be a non-negative decimal with at most 6 decimal places, e.g. \"1.5\"",
                    ));
                }
                check_basis("accrual.day_basis".into(), *day_basis)?;
            }
        }
        if spec.grace_days > 3650 {
            return Err(invalid(
                "grace_days",
                "more than 3650 days; check the value",
            ));
        }
        for (i, s) in spec.surcharges.iter().enumerate() {
            match (s.at_month, s.at_day) {
                (Some(m), None) if m >= 1 => {}
                (None, Some(d)) if d >= 1 => {}
                _ => {
                    return Err(invalid(
                        format!("surcharges[{i}]"),
                        "give exactly one of \"at_month\" (1 or more) or \"at_day\" (1 or more)",
                    ));
                }
            }
            if s.name.trim().is_empty() {
                return Err(invalid(
                    format!("surcharges[{i}].name"),
                    "must not be empty",
                ));
            }
        }
        for (i, c) in spec.caps.iter().enumerate() {
            match c {
                Cap::PrincipalMultiple { multiple } if multiple.is_sign_negative() => {
                    return Err(invalid(
                        format!("caps[{i}].multiple"),
                        "must not be negative",
                    ));
                }
                Cap::Amount { amount } if amount.is_sign_negative() => {
                    return Err(invalid(format!("caps[{i}].amount"), "must not be negative"));
                }
                Cap::AnnualRate { day_basis, .. } => {
                    check_basis(format!("caps[{i}].day_basis"), *day_basis)?
                }
                _ => {}
            }
        }
        Ok(LateFeePolicy { spec })
    }

    /// Parses and checks a policy file.
    pub fn from_json(json: &str) -> Result<LateFeePolicy, PolicyError> {
        let spec: PolicySpec = serde_json::from_str(json).map_err(|e| PolicyError::Parse {
            what: "policy",
            message: e.to_string(),
        })?;
        LateFeePolicy::new(spec)
    }

    /// The policy as written.
    pub fn spec(&self) -> &PolicySpec {
        &self.spec
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }
}
