//! [`Money`]: an exact decimal amount in one currency, at most to that currency's minor unit.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::currency::Currency;
use crate::error::MoneyError;
use crate::rounding::RoundingMode;

/// An amount of money: an exact decimal with its ISO 4217 currency.
///
/// Invariant: the amount has no more decimal places than the currency's minor units and is
/// stored with exactly that many, so it prints as `"1234.50"` for CNY. Sub-minor precision only
/// exists in intermediate results (e.g. a late-fee accrual) and enters a `Money` through an
/// explicit [`Money::round`]. There is no conversion from or to floating point.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    amount: Decimal,
    currency: Currency,
}

impl Money {
    /// An amount that must already be exact to the minor unit (`12.345` CNY is rejected).
    pub fn new(amount: Decimal, currency: Currency) -> Result<Money, MoneyError> {
        if amount.normalize().scale() > currency.minor_units() {
            return Err(MoneyError::ExcessPrecision {
                amount,
                currency: currency.code(),
                minor_units: currency.minor_units(),
            });
        }
        let mut amount = amount;
        amount.rescale(currency.minor_units());
        Ok(Money { amount, currency })
    }

    /// Zero in `currency`.
    pub fn zero(currency: Currency) -> Money {
        Money {
            amount: Decimal::new(0, currency.minor_units()),
            currency,
        }
    }

    /// An amount given in minor units (fen for CNY): `from_minor(12345, CNY)` is 123.45 CNY.
    pub fn from_minor(minor: i64, currency: Currency) -> Money {
        Money {
            amount: Decimal::new(minor, currency.minor_units()),
            currency,
        }
    }

    /// Rounds an exact decimal to the currency's minor unit with an explicit rule.
    pub fn round(amount: Decimal, currency: Currency, mode: RoundingMode) -> Money {
        Money {
            amount: mode.round(amount, currency.minor_units()),
            currency,
        }
    }

    /// An amount in minor units as an `i128` (the engine's hot-loop representation); `None`
    /// beyond what a decimal holds.
    #[inline]
    pub(crate) fn from_minor_i128(minor: i128, currency: Currency) -> Option<Money> {
        Decimal::try_from_i128_with_scale(minor, currency.minor_units())
            .ok()
            .map(|amount| Money { amount, currency })
    }

    /// The amount in minor units (fen for CNY).
    #[inline]
    pub(crate) fn minor_i128(&self) -> i128 {
        let (m, s, minor) = (
            self.amount.mantissa(),
            self.amount.scale(),
            self.currency.minor_units(),
        );
        // The scale is the currency's minor units except for amounts too large to rescale.
        if s >= minor {
            m / 10i128.pow(s - minor)
        } else {
            m * 10i128.pow(minor - s)
        }
    }

    /// Parses a plain decimal string such as `"1234.5"`, `"-0.01"` or `"1000"`: digits with an
    /// optional leading `-` and at most one `.`; no exponent, no thousands separators, no more
    /// decimal places than the currency allows.
    pub fn parse(input: &str, currency: Currency) -> Result<Money, MoneyError> {
        Money::new(parse_decimal(input)?, currency)
    }

    /// Parses an amount and an ISO 4217 code, e.g. `Money::parse_in("99.90", "CNY")`.
    pub fn parse_in(input: &str, code: &str) -> Result<Money, MoneyError> {
        Money::parse(input, Currency::from_code(code)?)
    }

    /// The exact amount, with exactly the currency's minor-unit scale.
    pub fn amount(&self) -> Decimal {
        self.amount
    }

    /// The currency.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// True when the amount is zero.
    pub fn is_zero(&self) -> bool {
        self.amount.is_zero()
    }

    /// True when the amount is below zero.
    pub fn is_negative(&self) -> bool {
        self.amount.is_sign_negative() && !self.amount.is_zero()
    }

    /// True when the amount is above zero.
    pub fn is_positive(&self) -> bool {
        self.amount.is_sign_positive() && !self.amount.is_zero()
    }

    fn same_currency(&self, other: &Money, op: &'static str) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch {
                op,
                left: self.currency.code(),
                right: other.currency.code(),
            })
        }
    }

    pub(crate) fn with_amount(&self, amount: Decimal) -> Money {
        let mut amount = amount;
        amount.rescale(self.currency.minor_units());
        Money {
            amount,
            currency: self.currency,
        }
    }

    /// `self + other`; fails on a currency mismatch or overflow.
    pub fn checked_add(&self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(&other, "add")?;
        let sum = self
            .amount
            .checked_add(other.amount)
            .ok_or(MoneyError::Overflow { op: "add amounts" })?;
        Ok(self.with_amount(sum))
    }

    /// `self - other`; fails on a currency mismatch or overflow.
    pub fn checked_sub(&self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(&other, "subtract")?;
        let diff = self
            .amount
            .checked_sub(other.amount)
            .ok_or(MoneyError::Overflow {
                op: "subtract amounts",
            })?;
        Ok(self.with_amount(diff))
    }

    /// `-self`.
    pub fn neg(&self) -> Money {
        self.with_amount(-self.amount)
    }

    /// `self × factor`, rounded to the minor unit with `mode` (a rate, a quantity, a ratio).
    pub fn checked_mul(&self, factor: Decimal, mode: RoundingMode) -> Result<Money, MoneyError> {
        let product = self
            .amount
            .checked_mul(factor)
            .ok_or(MoneyError::Overflow {
                op: "multiply an amount",
            })?;
        Ok(Money::round(product, self.currency, mode))
    }

    /// Compares two amounts of the same currency.
    pub fn checked_cmp(&self, other: &Money) -> Result<Ordering, MoneyError> {
        self.same_currency(other, "compare")?;
        Ok(self.amount.cmp(&other.amount))
    }

    /// Sums amounts that must all be in `currency` (zero for an empty iterator).
    pub fn sum<I: IntoIterator<Item = Money>>(
        items: I,
        currency: Currency,
    ) -> Result<Money, MoneyError> {
        items
            .into_iter()
            .try_fold(Money::zero(currency), |acc, m| acc.checked_add(m))
    }
}

/// Strict decimal-string parser shared by amounts and rates: `-?digits(.digits)?`.
pub(crate) fn parse_decimal(input: &str) -> Result<Decimal, MoneyError> {
    let invalid = |reason| MoneyError::InvalidAmount {
        input: input.to_string(),
        reason,
    };
    let s = input.trim();
    let body = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(
            "expected digits with an optional leading '-' and one '.', e.g. \"1234.56\"",
        ));
    }
    if let Some(f) = frac
        && (f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(invalid("expected digits after the decimal point"));
    }
    Decimal::from_str(s).map_err(|_| invalid("too many digits for an exact decimal"))
}

impl fmt::Display for Money {
    /// `"1234.50 CNY"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Money({} {})", self.amount, self.currency)
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MoneyRepr {
    amount: String,
    currency: String,
}

impl Serialize for Money {
    /// `{"amount": "1234.50", "currency": "CNY"}` — the amount is a decimal string.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        MoneyRepr {
            amount: self.amount.to_string(),
            currency: self.currency.code().to_string(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let repr = MoneyRepr::deserialize(d)?;
        Money::parse_in(&repr.amount, &repr.currency).map_err(serde::de::Error::custom)
    }
}

/// Serde helper: a `Money` field written as its bare decimal string (the currency is stated
/// once elsewhere in the document).
pub(crate) mod amount_only {
    use super::Money;
    use serde::Serializer;

    pub(crate) fn serialize<S: Serializer>(m: &Money, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&m.amount())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cny(s: &str) -> Money {
        Money::parse(s, Currency::CNY).unwrap()
    }

    #[test]
    fn parse_and_print_keep_the_minor_unit() {
        assert_eq!(cny("1234.5").amount().to_string(), "1234.50");
        assert_eq!(cny("1000").to_string(), "1000.00 CNY");
        assert_eq!(cny("-0.01").to_string(), "-0.01 CNY");
        assert_eq!(
            Money::parse_in("5", "JPY").unwrap().amount().to_string(),
            "5"
        );
        assert_eq!(Money::from_minor(12345, Currency::CNY), cny("123.45"));
    }

    #[test]
    fn parse_rejects_anything_but_plain_decimals() {
        for bad in [
            "", "-", "1e3", "1,000.00", "1_000", ".5", "5.", "+5", "¥5", "NaN", "1.2.3",
        ] {
            assert!(
                Money::parse(bad, Currency::CNY).is_err(),
                "{bad:?} accepted"
            );
        }
        let err = Money::parse("12.345", Currency::CNY).unwrap_err();
        assert!(err.to_string().contains("CNY allows (2)"), "{err}");
        assert!(Money::parse("1.5", Currency::JPY).is_err());
        assert!(Money::parse("99999999999999999999999999999999", Currency::CNY).is_err());
    }

    #[test]
    fn arithmetic_is_checked_and_currency_safe() {
        assert_eq!(cny("0.10").checked_add(cny("0.20")).unwrap(), cny("0.30"));
        assert_eq!(cny("1.00").checked_sub(cny("2.50")).unwrap(), cny("-1.50"));
        let usd = Money::parse("1", Currency::USD).unwrap();
        let err = cny("1").checked_add(usd).unwrap_err();
        assert_eq!(err.to_string(), "currency mismatch: cannot add CNY and USD");
        let big = Money::new(Decimal::MAX, Currency::JPY).unwrap();
        assert!(matches!(
            big.checked_add(Money::from_minor(1, Currency::JPY)),
            Err(MoneyError::Overflow { .. })
        ));
    }

    #[test]
    fn multiplication_rounds_explicitly() {
        let m = cny("333.33");
        let rate = Decimal::from_str("0.0005").unwrap();
        assert_eq!(
            m.checked_mul(rate, RoundingMode::HalfUp).unwrap(),
            cny("0.17")
        );
        assert_eq!(
            m.checked_mul(rate, RoundingMode::Down).unwrap(),
            cny("0.16")
        );
        let half = Decimal::from_str("0.5").unwrap();
        assert_eq!(
            cny("0.05").checked_mul(half, RoundingMode::HalfUp).unwrap(),
            cny("0.03")
        );
        assert_eq!(
            cny("0.05")
                .checked_mul(half, RoundingMode::HalfEven)
                .unwrap(),
            cny("0.02")
        );
    }

    #[test]
    fn serde_round_trip_uses_strings() {
        let json = serde_json::to_string(&cny("12.5")).unwrap();
        assert_eq!(json, r#"{"amount":"12.50","currency":"CNY"}"#);
        let back: Money = serde_json::from_str(&json).unwrap();
        assert_eq!(back, cny("12.50"));
        assert!(serde_json::from_str::<Money>(r#"{"amount":12.5,"currency":"CNY"}"#).is_err());
        assert!(serde_json::from_str::<Money>(r#"{"amount":"1","currency":"CNY","x":1}"#).is_err());
    }
}
