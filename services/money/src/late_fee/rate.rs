//! Rates as written in policy files ("0.001", "0.1%", "1‰", "5‱") and effective-dated
//! reference-rate tables such as the one-year LPR (R-C12).

use std::fmt;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::error::PolicyError;
use crate::amount::parse_decimal;

/// Most decimal places a rate may have once written as a fraction (0.00000001 = 0.000001%):
/// keeps every product exact in a 28-digit decimal.
const MAX_RATE_DP: u32 = 10;

/// A non-negative rate as an exact fraction: `0.001` is 1‰, `0.0005` is 0.05%.
///
/// Parsed from a string with an optional unit: `"0.001"`, `"0.1%"`, `"1‰"` (per mille) or
/// `"10‱"` (per ten thousand, 万分之). JSON numbers are refused so that no rate passes
/// through floating point.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Rate(Decimal);

impl Rate {
    /// Zero.
    pub const ZERO: Rate = Rate(Decimal::ZERO);

    /// A rate from a fraction; negative values and more than 10 decimal places are refused.
    pub fn new(fraction: Decimal) -> Result<Rate, String> {
        if fraction.is_sign_negative() && !fraction.is_zero() {
            return Err(format!("a rate must not be negative, got {fraction}"));
        }
        let normalized = fraction.normalize();
        if normalized.scale() > MAX_RATE_DP {
            return Err(format!(
                "{fraction} has more than {MAX_RATE_DP} decimal places as a fraction"
            ));
        }
        Ok(Rate(normalized))
    }

    /// Parses `"0.001"`, `"0.1%"`, `"1‰"` or `"10‱"`.
    pub fn parse(input: &str) -> Result<Rate, String> {
        let s = input.trim();
        let (number, divisor) = if let Some(n) = s.strip_suffix('%') {
            (n, 100)
        } else if let Some(n) = s.strip_suffix('‰') {
            (n, 1_000)
        } else if let Some(n) = s.strip_suffix('‱') {
            (n, 10_000)
        } else {
            (s, 1)
        };
        let value = parse_decimal(number.trim()).map_err(|_| {
            format!(
                "invalid rate \"{input}\": expected a decimal string such as \"0.001\", \"0.1%\", \"1‰\" or \"10‱\""
            )
        })?;
        let fraction = value
            .checked_div(Decimal::from(divisor))
            .ok_or_else(|| format!("invalid rate \"{input}\": out of range"))?;
        Rate::new(fraction).map_err(|e| format!("invalid rate \"{input}\": {e}"))
    }

    /// The fraction (0.001 for 1‰).
    pub fn value(&self) -> Decimal {
        self.0
    }

    /// True for a zero rate.
    pub fn is_zero(&self) -> bool {
        self.0.is_zero()
    }

    /// The rate in percent for people, e.g. `"0.05%"`.
    pub fn percent(&self) -> String {
        format!("{}%", (self.0 * Decimal::ONE_HUNDRED).normalize())
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Debug for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Rate({})", self.0)
    }
}

impl Serialize for Rate {
    /// As the fraction in a string, e.g. `"0.0005"`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = decimal_text(d, "a rate string such as \"0.001\", \"0.1%\" or \"1‰\"")?;
        Rate::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Reads a JSON string, refusing numbers with a message that says why.
fn decimal_text<'de, D: Deserializer<'de>>(
    d: D,
    expected: &'static str,
) -> Result<String, D::Error> {
    struct V(&'static str);
    impl serde::de::Visitor<'_> for V {
        type Value = String;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(
                f,
                "{} (in quotes: numbers would pass through floating point)",
                self.0
            )
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_string())
        }
    }
    d.deserialize_str(V(expected))
}

/// Serde for plain decimals (multipliers, amounts) written as strings in policy files.
pub(crate) mod decimal_str {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(v: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        let text = decimal_text(d, "a decimal string such as \"1.5\"")?;
        parse_decimal(&text).map_err(serde::de::Error::custom)
    }
}

/// One rate of a reference series and the day it takes effect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RatePoint {
    /// First day the rate is in force (LPR: the publication day).
    pub from: NaiveDate,
    /// The annual rate, e.g. `"3.45%"`.
    pub annual_rate: Rate,
}

/// A reference-rate file (R-C12): a named series with effective-dated annual rates. Operators
/// add each newly published rate without a rebuild.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateTableSpec {
    /// Series name that policies refer to, e.g. `"LPR1Y"`.
    pub series: String,
    /// Where the rates come from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The last day the operator has checked the table is complete for. Accruing beyond it is
    /// an error instead of silently carrying a possibly stale rate forward.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known_through: Option<NaiveDate>,
    /// The rates, oldest first.
    pub rates: Vec<RatePoint>,
}

/// A checked reference-rate table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RateTableSpec", into = "RateTableSpec")]
pub struct RateTable {
    spec: RateTableSpec,
}

impl TryFrom<RateTableSpec> for RateTable {
    type Error = PolicyError;
    fn try_from(spec: RateTableSpec) -> Result<Self, Self::Error> {
        RateTable::new(spec)
    }
}

impl From<RateTable> for RateTableSpec {
    fn from(t: RateTable) -> Self {
        t.spec
    }
}

impl RateTable {
    /// Checks a table: a series name, at least one rate, dates strictly increasing.
    pub fn new(spec: RateTableSpec) -> Result<RateTable, PolicyError> {
        let invalid = |field: String, reason: &str| PolicyError::Invalid {
            what: "reference rate table",
            field,
            reason: reason.to_string(),
        };
        if spec.series.trim().is_empty() {
            return Err(invalid(
                "series".into(),
                "must name the series, e.g. \"LPR1Y\"",
            ));
        }
        if spec.rates.is_empty() {
            return Err(invalid("rates".into(), "needs at least one rate"));
        }
        for (i, w) in spec.rates.windows(2).enumerate() {
            if w[1].from <= w[0].from {
                return Err(invalid(
                    format!("rates[{}].from", i + 1),
                    "dates must be strictly increasing (oldest first)",
                ));
            }
        }
        if let (Some(k), Some(last)) = (spec.known_through, spec.rates.last())
            && k < last.from
        {
            return Err(invalid(
                "known_through".into(),
                "is before the last rate's date",
            ));
        }
        Ok(RateTable { spec })
    }

    /// Parses and checks a table file.
    pub fn from_json(json: &str) -> Result<RateTable, PolicyError> {
        let spec: RateTableSpec = serde_json::from_str(json).map_err(|e| PolicyError::Parse {
            what: "reference rate table",
            message: e.to_string(),
        })?;
        RateTable::new(spec)
    }

    /// The series name.
    pub fn series(&self) -> &str {
        &self.spec.series
    }

    /// The table as loaded.
    pub fn spec(&self) -> &RateTableSpec {
        &self.spec
    }

    /// The rate in force on `date` and the first day a different rate applies, if any.
    pub(crate) fn rate_on(&self, date: NaiveDate) -> Result<(Rate, Option<NaiveDate>), RateLookup> {
        if let Some(k) = self.spec.known_through
            && date > k
        {
            return Err(RateLookup::Stale(k));
        }
        let rates = &self.spec.rates;
        let idx = rates.partition_point(|p| p.from <= date);
        if idx == 0 {
            return Err(RateLookup::BeforeFirst(rates[0].from));
        }
        Ok((rates[idx - 1].annual_rate, rates.get(idx).map(|p| p.from)))
    }
}

/// Why a reference rate could not be found.
#[derive(Debug)]
pub(crate) enum RateLookup {
    BeforeFirst(NaiveDate),
    Stale(NaiveDate),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_with_units_and_normalise() {
        assert_eq!(Rate::parse("0.001").unwrap().to_string(), "0.001");
        assert_eq!(Rate::parse("1‰").unwrap(), Rate::parse("0.001").unwrap());
        assert_eq!(Rate::parse("0.1%").unwrap(), Rate::parse("0.001").unwrap());
        assert_eq!(Rate::parse("5‱").unwrap(), Rate::parse("0.05%").unwrap());
        assert_eq!(Rate::parse(" 20 % ").unwrap().to_string(), "0.2");
        assert_eq!(Rate::parse("0.0500%").unwrap().percent(), "0.05%");
        for bad in ["", "-1%", "1e-3", "abc", "0.1%%", "0.00000000001"] {
            assert!(Rate::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn rates_refuse_json_numbers() {
        let err = serde_json::from_str::<Rate>("0.001")
            .unwrap_err()
            .to_string();
        assert!(err.contains("in quotes"), "{err}");
        assert_eq!(
            serde_json::from_str::<Rate>("\"1‰\"").unwrap().to_string(),
            "0.001"
        );
    }

    #[test]
    fn table_lookup_is_effective_dated() {
        let t = RateTable::from_json(
            r#"{"series": "LPR1Y", "known_through": "2025-01-31", "rates": [
                {"from": "2024-07-22", "annual_rate": "3.35%"},
                {"from": "2024-10-21", "annual_rate": "3.10%"}]}"#,
        )
        .unwrap();
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let (r, next) = t.rate_on(d("2024-10-20")).unwrap();
        assert_eq!(
            (r.to_string().as_str(), next),
            ("0.0335", Some(d("2024-10-21")))
        );
        let (r, next) = t.rate_on(d("2024-10-21")).unwrap();
        assert_eq!((r.to_string().as_str(), next), ("0.031", None));
        assert!(matches!(
            t.rate_on(d("2024-07-21")),
            Err(RateLookup::BeforeFirst(_))
        ));
        assert!(matches!(
            t.rate_on(d("2025-02-01")),
            Err(RateLookup::Stale(_))
        ));
    }

    #[test]
    fn table_errors_name_the_field() {
        let err = RateTable::from_json(
            r#"{"series": "LPR1Y", "rates": [
                {"from": "2024-10-21", "annual_rate": "3.10%"},
                {"from": "2024-07-22", "annual_rate": "3.35%"}]}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("rates[1].from"), "{err}");
        let err = RateTable::from_json(r#"{"series": "X", "rate": []}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field `rate`"), "{err}");
    }
}
