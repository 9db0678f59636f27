//! The indicators of a customer that a points scorecard reads (R-S1), as typed values parsed
//! once at the edge: counts are integers, shares and balances are decimals (never floats).

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A share between 0 and 1 inclusive (e.g. 0.95 = 95 % paid on time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "Decimal", into = "Decimal")]
pub struct Share(Decimal);

impl Share {
    /// A share, refused outside 0..=1.
    ///
    /// # Errors
    /// The value is below 0 or above 1.
    pub fn new(value: Decimal) -> Result<Self, String> {
        if value < Decimal::ZERO || value > Decimal::ONE {
            return Err(format!("a share is between 0 and 1, not {value}"));
        }
        Ok(Self(value))
    }

    /// The share as a decimal.
    #[must_use]
    pub fn value(self) -> Decimal {
        self.0
    }
}

impl TryFrom<Decimal> for Share {
    type Error = String;
    fn try_from(value: Decimal) -> Result<Self, String> {
        Self::new(value)
    }
}

impl From<Share> for Decimal {
    fn from(share: Share) -> Self {
        share.0
    }
}

/// An amount owed, never negative (the customer's outstanding balance in the contract
/// currency, CNY for almost every customer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "Decimal", into = "Decimal")]
pub struct Balance(Decimal);

impl Balance {
    /// Nothing owed.
    pub const ZERO: Self = Self(Decimal::ZERO);

    /// A balance, refused when negative (a credit balance is not exposure).
    ///
    /// # Errors
    /// The value is negative.
    pub fn new(value: Decimal) -> Result<Self, String> {
        if value < Decimal::ZERO {
            return Err(format!("a balance is not negative, not {value}"));
        }
        Ok(Self(value))
    }

    /// The amount.
    #[must_use]
    pub fn value(self) -> Decimal {
        self.0
    }
}

impl TryFrom<Decimal> for Balance {
    type Error = String;
    fn try_from(value: Decimal) -> Result<Self, String> {
        Self::new(value)
    }
}

impl From<Balance> for Decimal {
    fn from(balance: Balance) -> Self {
        balance.0
    }
}

/// What the receivable is for (R-S1 "property segment").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Segment {
    /// A home buyer or a residential owner.
    Residential,
    /// A commercial unit (shop, office).
    Commercial,
    /// Property-management fees of an owner.
    PropertyManagement,
    /// A business debtor's trade receivable.
    BusinessReceivable,
}

impl Segment {
    /// Every segment, in a fixed order.
    pub const ALL: [Self; 4] = [
        Self::Residential,
        Self::Commercial,
        Self::PropertyManagement,
        Self::BusinessReceivable,
    ];

    /// The name in scorecard files and results.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Residential => "residential",
            Self::Commercial => "commercial",
            Self::PropertyManagement => "property_management",
            Self::BusinessReceivable => "business_receivable",
        }
    }

    /// The inverse of [`as_str`](Self::as_str).
    #[must_use]
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A code such as an industry (`construction`) or a region (`cn-gd`): 1 to 32 lower-case
/// ASCII letters, digits, `-` or `_`, so that threshold overrides (R-S3) match exactly.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Code(String);

impl Code {
    /// Parses a code.
    ///
    /// # Errors
    /// Empty, too long, or a character other than `a-z 0-9 - _`.
    pub fn parse(value: &str) -> Result<Self, String> {
        let ok = (1..=32).contains(&value.len())
            && value
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(value.to_owned()))
        } else {
            Err(format!(
                "\"{value}\" is not a code: 1 to 32 of a-z, 0-9, - and _ (e.g. construction, cn-gd)"
            ))
        }
    }

    /// The code.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Code {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        Self::parse(&value)
    }
}

impl From<Code> for String {
    fn from(code: Code) -> Self {
        code.0
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Everything the scorecard reads about one customer (R-S1). Optional data (bureau, income,
/// industry, region) is `None` when not on file; a missing value scores in its own bin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Features {
    /// Most days overdue among the customer's open receivables (0 when none is overdue).
    pub days_past_due: u32,
    /// Payments made after their due date in the last 24 months.
    pub late_payments: u32,
    /// Promises to pay broken (R-D5).
    pub broken_promises: u32,
    /// Share of the amount paid in the last 24 months that was paid by its due date; `None`
    /// when nothing fell due yet.
    pub on_time_share: Option<Share>,
    /// Outstanding balance (exposure).
    pub outstanding_balance: Balance,
    /// Share of the outstanding balance that is overdue; `None` when nothing is outstanding.
    pub overdue_share: Option<Share>,
    /// Months since the customer's first contract.
    pub tenure_months: u32,
    /// Property segment.
    pub segment: Segment,
    /// Disputes open now (R-D8).
    pub open_disputes: u32,
    /// Legal cases ever opened against the customer (R-L1).
    pub legal_cases: u32,
    /// Credit-bureau score where the customer consented and one is on file.
    pub bureau_score: Option<u16>,
    /// Monthly obligations over monthly income, where income is on file.
    pub debt_to_income: Option<Share>,
    /// Industry of a company (R-S3 thresholds may differ by it).
    pub industry: Option<Code>,
    /// Region (R-S3 thresholds may differ by it).
    pub region: Option<Code>,
}

/// The scored indicators (R-S1), in the order a scorecard lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Indicator {
    /// [`Features::days_past_due`].
    DaysPastDue,
    /// [`Features::late_payments`].
    LatePayments,
    /// [`Features::broken_promises`].
    BrokenPromises,
    /// [`Features::on_time_share`].
    OnTimeShare,
    /// [`Features::outstanding_balance`].
    OutstandingBalance,
    /// [`Features::overdue_share`].
    OverdueShare,
    /// [`Features::tenure_months`].
    TenureMonths,
    /// [`Features::segment`].
    Segment,
    /// [`Features::open_disputes`].
    OpenDisputes,
    /// [`Features::legal_cases`].
    LegalCases,
    /// [`Features::bureau_score`].
    BureauScore,
    /// [`Features::debt_to_income`].
    DebtToIncome,
}

/// One indicator's value for a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    /// A number (counts, shares, amounts); `None` when not on file.
    Number(Option<Decimal>),
    /// A segment.
    Segment(Segment),
}

impl Indicator {
    /// Every indicator, in the order of the struct's fields.
    pub const ALL: [Self; 12] = [
        Self::DaysPastDue,
        Self::LatePayments,
        Self::BrokenPromises,
        Self::OnTimeShare,
        Self::OutstandingBalance,
        Self::OverdueShare,
        Self::TenureMonths,
        Self::Segment,
        Self::OpenDisputes,
        Self::LegalCases,
        Self::BureauScore,
        Self::DebtToIncome,
    ];

    /// The name in scorecard files and results.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DaysPastDue => "days_past_due",
            Self::LatePayments => "late_payments",
            Self::BrokenPromises => "broken_promises",
            Self::OnTimeShare => "on_time_share",
            Self::OutstandingBalance => "outstanding_balance",
            Self::OverdueShare => "overdue_share",
            Self::TenureMonths => "tenure_months",
            Self::Segment => "segment",
            Self::OpenDisputes => "open_disputes",
            Self::LegalCases => "legal_cases",
            Self::BureauScore => "bureau_score",
            Self::DebtToIncome => "debt_to_income",
        }
    }

    /// Whether the value may be missing (then the scorecard must give a missing bin).
    #[must_use]
    pub fn optional(self) -> bool {
        matches!(
            self,
            Self::OnTimeShare | Self::OverdueShare | Self::BureauScore | Self::DebtToIncome
        )
    }

    /// Whether the value is a whole number (bins are then shown as `8-30`).
    #[must_use]
    pub fn whole(self) -> bool {
        matches!(
            self,
            Self::DaysPastDue
                | Self::LatePayments
                | Self::BrokenPromises
                | Self::TenureMonths
                | Self::OpenDisputes
                | Self::LegalCases
                | Self::BureauScore
        )
    }

    /// The customer's value of this indicator.
    #[must_use]
    pub fn value(self, f: &Features) -> Value {
        let n = |v: u32| Value::Number(Some(Decimal::from(v)));
        let share = |v: Option<Share>| Value::Number(v.map(Share::value));
        match self {
            Self::DaysPastDue => n(f.days_past_due),
            Self::LatePayments => n(f.late_payments),
            Self::BrokenPromises => n(f.broken_promises),
            Self::OnTimeShare => share(f.on_time_share),
            Self::OutstandingBalance => Value::Number(Some(f.outstanding_balance.value())),
            Self::OverdueShare => share(f.overdue_share),
            Self::TenureMonths => n(f.tenure_months),
            Self::Segment => Value::Segment(f.segment),
            Self::OpenDisputes => n(f.open_disputes),
            Self::LegalCases => n(f.legal_cases),
            Self::BureauScore => Value::Number(f.bureau_score.map(Decimal::from)),
            Self::DebtToIncome => share(f.debt_to_income),
        }
    }
}

impl fmt::Display for Indicator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_and_balances_hold_valid_values_only() {
        assert!(Share::new(Decimal::new(95, 2)).is_ok());
        assert!(Share::new(Decimal::new(101, 2)).is_err());
        assert!(Share::new(Decimal::new(-1, 2)).is_err());
        assert!(Balance::new(Decimal::new(-1, 2)).is_err());
        assert!(serde_json::from_str::<Share>("\"1.5\"").is_err());
        assert_eq!(
            serde_json::from_str::<Share>("\"0.25\"").ok(),
            Share::new(Decimal::new(25, 2)).ok()
        );
    }

    #[test]
    fn codes_and_segments_parse_exactly() {
        assert!(Code::parse("cn-gd").is_ok());
        assert!(Code::parse("Construction").is_err());
        assert!(Code::parse("").is_err());
        for s in Segment::ALL {
            assert_eq!(Segment::parse(s.as_str()), Some(s));
        }
        for i in Indicator::ALL {
            let json = serde_json::to_string(&i).expect("json");
            assert_eq!(json, format!("\"{}\"", i.as_str()));
        }
    }
}
