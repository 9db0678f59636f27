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
}

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
        let by_date = self.rates.get(&(from.to_string(), to.to_string()))?;
        let (rate_date, rate) = by_date.range(..=on).next_back()?;
        let booked = amount
            .checked_mul(*rate)?
            .round_dp_with_strategy(minor_units(to), RoundingStrategy::MidpointAwayFromZero);
        Some(FxConversion {
            from: from.to_string(),
            to: to.to_string(),
            rate: *rate,
            rate_date: *rate_date,
            received: amount,
            booked,
        })
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
}
