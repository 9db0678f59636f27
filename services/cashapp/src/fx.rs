//! Exchange rates (R-P8): a payment in another currency is converted at the day's rate into
//! the contract currency, and the rate used is recorded with the decision.
//!
//! Rates file: CSV with header `date,from,to,rate` — one unit of `from` is `rate` units of
//! `to` (e.g. `2024-03-01,HKD,CNY,0.9213`). The rate used for a payment is the latest one
//! dated on or before the payment's date.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;

use crate::csvread::Table;
use crate::error::InputError;
use crate::model::minor_units;

/// Exchange rates by currency pair and date.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateTable {
    rates: BTreeMap<(String, String), BTreeMap<NaiveDate, Decimal>>,
}

/// A conversion made for a payment (R-P8: the rate used is recorded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FxConversion {
    /// Currency received.
    pub from: String,
    /// Contract currency.
    pub to: String,
    /// Units of `to` per unit of `from`.
    #[serde(with = "rust_decimal::serde::str")]
    pub rate: Decimal,
    /// Date of the rate used.
    pub rate_date: NaiveDate,
    /// Amount received, in `from`.
    #[serde(with = "rust_decimal::serde::str")]
    pub received: Decimal,
    /// Amount booked, in `to`, rounded half away from zero to the currency's minor unit.
    #[serde(with = "rust_decimal::serde::str")]
    pub booked: Decimal,
    /// When only `to` → `from` is published: that rate, which was inverted (`booked` =
    /// `received` ÷ it, rounded as stated; `rate` then shows 1 ÷ it to 10 decimal places,
    /// for reading only).
    #[serde(
        with = "rust_decimal::serde::str_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub inverse_of: Option<Decimal>,
}

/// Decimal places of the informative `rate` shown for an inverse conversion.
const INVERSE_RATE_DP: u32 = 10;

impl RateTable {
    /// An empty table.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Add (or replace) the rate of `from` → `to` on `date`.
    pub fn insert(&mut self, date: NaiveDate, from: &str, to: &str, rate: Decimal) {
        self.rates
            .entry((from.to_string(), to.to_string()))
            .or_default()
            .insert(date, rate);
    }

    /// Every rate: date, from, to, rate (sorted by pair, then date).
    #[must_use]
    pub fn entries(&self) -> Vec<(NaiveDate, &str, &str, Decimal)> {
        self.rates
            .iter()
            .flat_map(|((from, to), by_date)| {
                by_date
                    .iter()
                    .map(move |(d, r)| (*d, from.as_str(), to.as_str(), *r))
            })
            .collect()
    }

    /// True when no rate is known.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.rates.is_empty()
    }

    /// Convert `amount` of `from` into `to` at the latest rate on or before `on`.
    #[must_use]
    pub fn convert(
        &self,
        amount: Decimal,
        from: &str,
        to: &str,
        on: NaiveDate,
    ) -> Option<FxConversion> {
        let latest = |a: &str, b: &str| {
            self.rates
                .get(&(a.to_string(), b.to_string()))
                .and_then(|by_date| by_date.range(..=on).next_back())
                .map(|(d, r)| (*d, *r))
        };
        let direct = latest(from, to);
        let inverse = latest(to, from);
        let dp = minor_units(to);
        match (direct, inverse) {
            (Some((date, rate)), i) if i.is_none_or(|(d, _)| d <= date) => {
                let booked = amount
                    .checked_mul(rate)?
                    .round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero);
                Some(FxConversion {
                    from: from.to_string(),
                    to: to.to_string(),
                    rate,
                    rate_date: date,
                    received: amount,
                    booked,
                    inverse_of: None,
                })
            }
            (_, Some((date, published))) => Some(FxConversion {
                from: from.to_string(),
                to: to.to_string(),
                rate: Decimal::ONE
                    .checked_div(published)?
                    .round_dp_with_strategy(INVERSE_RATE_DP, RoundingStrategy::MidpointNearestEven)
                    .normalize(),
                rate_date: date,
                received: amount,
                booked: divide_rounded(amount, published, dp)?,
                inverse_of: Some(published),
            }),
            _ => None,
        }
    }

    /// Read a rates CSV. Bad rows are returned as errors (file, row, field) and skipped.
    ///
    /// # Errors
    /// An [`InputError::File`] when the file has no usable header.
    pub fn from_csv(file: &str, bytes: &[u8]) -> Result<(Self, Vec<InputError>), InputError> {
        let table = Table::read(file, bytes)?;
        table.require(&["date", "from", "to", "rate"])?;
        let mut rates = Self::new();
        let mut errors = Vec::new();
        for row in &table.rows {
            let parsed = (|| {
                let date = crate::receivables::parse_date(&table, row, "date")?;
                let code = |field: &str| -> Result<String, InputError> {
                    let c = table.required(row, field)?.to_ascii_uppercase();
                    if feeds::currency::is_known(&c) {
                        Ok(c)
                    } else {
                        Err(InputError::row(
                            file,
                            row.line,
                            field,
                            format!("{c:?} is not an ISO 4217 currency code"),
                        ))
                    }
                };
                let (from, to) = (code("from")?, code("to")?);
                let raw = table.required(row, "rate")?;
                let rate: Decimal = raw
                    .parse()
                    .ok()
                    .filter(|r: &Decimal| *r > Decimal::ZERO)
                    .ok_or_else(|| {
                        InputError::row(
                            file,
                            row.line,
                            "rate",
                            format!("{raw:?} is not a positive decimal number"),
                        )
                    })?;
                Ok::<_, InputError>((date, from, to, rate))
            })();
            match parsed {
                Ok((date, from, to, rate)) => rates.insert(date, &from, &to, rate),
                Err(e) => errors.push(e),
            }
        }
        Ok((rates, errors))
    }
}

/// `amount ÷ divisor` rounded half away from zero to `dp` decimal places, exactly: the
/// quotient (rounded at 28 significant digits by the division) only suggests the result,
/// which is then checked and corrected with exact products, so that
/// `(q − ½ unit) × divisor ≤ |amount| < (q + ½ unit) × divisor`. `None` for a divisor that
/// is not positive or an overflow.
fn divide_rounded(amount: Decimal, divisor: Decimal, dp: u32) -> Option<Decimal> {
    if divisor <= Decimal::ZERO {
        return None;
    }
    let magnitude = amount.abs();
    let unit = Decimal::new(1, dp);
    let half = unit.checked_div(Decimal::TWO)?;
    let mut q = magnitude
        .checked_div(divisor)?
        .round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero);
    // At most one step either way: the suggested quotient is off by far less than a unit.
    for _ in 0..2 {
        if q > Decimal::ZERO && (q - half).checked_mul(divisor)? > magnitude {
            q -= unit;
        } else if (q + half).checked_mul(divisor)? <= magnitude {
            q += unit;
        } else {
            break;
        }
    }
    let q = q.round_dp(dp);
    Some(if amount.is_sign_negative() { -q } else { q })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latest_rate_on_or_before() {
        // R-P8: the day's rate, recorded.
        let (t, errors) = RateTable::from_csv(
            "rates.csv",
            b"date,from,to,rate\n2024-03-01,HKD,CNY,0.92\n2024-03-05,HKD,CNY,0.90\n2024-03-06,XXX,CNY,1\n",
        )
        .unwrap_or_default();
        assert_eq!(errors.len(), 1, "{errors:?}");
        let d = |day| NaiveDate::from_ymd_opt(2024, 3, day).unwrap_or_default();
        let c = t.convert(Decimal::new(1000, 0), "HKD", "CNY", d(4));
        assert_eq!(c.as_ref().map(|c| c.booked), Some(Decimal::new(92000, 2)));
        assert_eq!(c.map(|c| c.rate_date), Some(d(1)));
        assert!(
            t.convert(Decimal::ONE, "HKD", "CNY", d(1) - chrono::Days::new(1))
                .is_none()
        );
        assert!(t.convert(Decimal::ONE, "USD", "CNY", d(4)).is_none());
    }

    #[test]
    fn r_p8_inverse_of_the_only_published_direction() {
        // R-P8 (issue 19): a table with USD→CNY only converts a CNY payment on a USD
        // contract at the inverse rate, recorded as such: booked = received ÷ rate, exact
        // decimal, rounded once half away from zero to the cent.
        let d = |day| NaiveDate::from_ymd_opt(2024, 3, day).unwrap_or_default();
        let mut t = RateTable::new();
        t.insert(d(1), "USD", "CNY", Decimal::new(71, 1));
        let c = t.convert(Decimal::new(1_000_000, 2), "CNY", "USD", d(2));
        let Some(c) = c else {
            panic!("the inverse rate converts");
        };
        // 10000 / 7.1 = 1408.4507…
        assert_eq!(c.booked, Decimal::new(140_845, 2));
        assert_eq!(c.inverse_of, Some(Decimal::new(71, 1)));
        assert_eq!(c.rate_date, d(1));
        assert_eq!((c.from.as_str(), c.to.as_str()), ("CNY", "USD"));
        // A direct rate, where published, wins.
        t.insert(d(2), "CNY", "USD", Decimal::new(1400, 4));
        let c = t.convert(Decimal::new(1_000_000, 2), "CNY", "USD", d(2));
        assert_eq!(c.as_ref().map(|c| c.booked), Some(Decimal::new(140_000, 2)));
        assert_eq!(c.and_then(|c| c.inverse_of), None);
        // Nothing either way: no conversion.
        assert!(t.convert(Decimal::ONE, "HKD", "USD", d(2)).is_none());
    }

    #[test]
    fn r_p8_inverse_rounds_half_away_from_zero_exactly() {
        // 0.05 ÷ 0.1 = 0.5 exactly → 1 (JPY has no minor unit): the midpoint goes away from
        // zero, it is not lost to a division rounded at 28 digits.
        let d = NaiveDate::from_ymd_opt(2024, 3, 1).unwrap_or_default();
        let mut t = RateTable::new();
        t.insert(d, "JPY", "CNY", Decimal::new(1, 1));
        let c = t.convert(Decimal::new(5, 2), "CNY", "JPY", d);
        assert_eq!(c.map(|c| c.booked), Some(Decimal::ONE));
        // Just below a midpoint by less than the division's own precision: 0.0349…9 (28
        // places) ÷ 7 = 0.00499…9857…, which a quotient rounded at 28 digits makes 0.005 and
        // then 0.01; exactly it is below half a cent, so 0.00.
        t.insert(d, "USD", "CNY", Decimal::new(7, 0));
        let tiny = Decimal::from_i128_with_scale(349_999_999_999_999_999_999_999_999, 28);
        let c = t.convert(tiny, "CNY", "USD", d);
        assert_eq!(c.map(|c| c.booked), Some(Decimal::ZERO));
        // 1 ÷ 3 with a rate of 3: 0.333… → 0.33.
        t.insert(d, "USD", "CNY", Decimal::new(3, 0));
        let c = t.convert(Decimal::ONE, "CNY", "USD", d);
        assert_eq!(c.map(|c| c.booked), Some(Decimal::new(33, 2)));
    }

    proptest::proptest! {
        #[test]
        fn r_p8_inverse_never_loses_or_creates_more_than_half_a_minor_unit(
            cents in 1i64..100_000_000_000,
            mantissa in 1i64..100_000_000,
            scale in 0u32..8,
        ) {
            // R-P8 (issue 19): booked × published differs from what was received by at most
            // half a cent of the contract currency at that rate, and the rounding is the
            // stated one (half away from zero), decided on exact products.
            let rate = Decimal::new(mantissa, scale);
            let received = Decimal::new(cents, 2);
            let d = NaiveDate::from_ymd_opt(2024, 3, 1).unwrap_or_default();
            let mut t = RateTable::new();
            t.insert(d, "USD", "CNY", rate);
            let c = t.convert(received, "CNY", "USD", d);
            proptest::prop_assert!(c.is_some());
            let c = c.unwrap_or_else(|| unreachable!());
            let half = Decimal::new(5, 3);
            let low = (c.booked - half).checked_mul(rate);
            let high = (c.booked + half).checked_mul(rate);
            if let (Some(low), Some(high)) = (low, high) {
                proptest::prop_assert!(low <= received, "{} ≥ received {}", low, received);
                proptest::prop_assert!(received < high, "{} ≤ received {}", high, received);
            }
            proptest::prop_assert!(c.booked.scale() <= 2);
            proptest::prop_assert_eq!(c.inverse_of, Some(rate));
        }
    }
}
