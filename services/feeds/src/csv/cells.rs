//! Reading one cell of a CSV row through the profile: dates (with or without year), amounts
//! with their sign convention, currencies.

use std::collections::HashMap;

use chrono::NaiveDate;
use chrono::format::{self, Parsed, StrftimeItems};
use rust_decimal::Decimal;

use super::{CsvProfile, DateSpec};
use crate::currency;
use crate::error::{ErrorKind, FeedError};
use crate::text::non_empty;
use crate::values::{NumberStyle, parse_signed};

/// A row read through the header: cells by column name.
pub(super) struct Mapped<'p> {
    pub(super) header: &'p HashMap<String, usize>,
    pub(super) cells: Vec<String>,
    pub(super) profile: &'p CsvProfile,
    pub(super) line: u32,
}

impl Mapped<'_> {
    /// Cell of a column, `None` if the column is absent or the cell empty.
    pub(super) fn get(&self, column: &str) -> Option<&str> {
        let i = *self.header.get(column.trim())?;
        let v = self.cells.get(i)?.as_str();
        let empty = v.is_empty() || self.profile.empty_values.iter().any(|e| e == v);
        (!empty).then_some(v)
    }

    pub(super) fn joined(&self, columns: &[String]) -> Option<String> {
        let parts: Vec<&str> = columns.iter().filter_map(|c| self.get(c)).collect();
        non_empty(&parts.join(" "))
    }

    pub(super) fn error(
        &self,
        kind: ErrorKind,
        column: &str,
        expected: &str,
        found: &str,
    ) -> FeedError {
        FeedError::at_line(kind, self.line, format!("column {column}"), expected, found)
    }
}

/// `YYYY年MM月` in the preamble: the statement month for dates written without a year.
pub(super) fn statement_month(preamble: &[String]) -> Option<(i32, u32)> {
    preamble.iter().find_map(|text| {
        let (head, _) = text.split_once('月')?;
        let (year, month) = head.rsplit_once('年')?;
        let year: String = year
            .chars()
            .rev()
            .take(4)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        Some((year.parse().ok()?, month.trim().parse().ok()?))
    })
}

pub(super) fn date(
    row: &Mapped<'_>,
    spec: &DateSpec,
    month: Option<(i32, u32)>,
) -> Result<Option<NaiveDate>, FeedError> {
    let (column, raw) = match row.get(&spec.column) {
        Some(v) => (&spec.column, v),
        None => match spec
            .fallback
            .as_ref()
            .and_then(|f| row.get(f).map(|v| (f, v)))
        {
            Some(found) => found,
            None => return Ok(None),
        },
    };
    for pattern in &spec.formats {
        let mut parsed = Parsed::new();
        if format::parse(&mut parsed, raw, StrftimeItems::new(pattern)).is_err() {
            continue;
        }
        if parsed.year().is_none() {
            let (Some((year, ref_month)), Some(m)) = (month, parsed.month()) else {
                continue;
            };
            let year = if m > ref_month { year - 1 } else { year };
            if parsed.set_year(i64::from(year)).is_err() {
                continue;
            }
        }
        if let Ok(d) = parsed.to_naive_date() {
            return Ok(Some(d));
        }
    }
    Err(row.error(
        ErrorKind::InvalidDate,
        column,
        &format!("a date in one of the formats {}", spec.formats.join(", ")),
        raw,
    ))
}

/// A decimal amount as exports write it: `-1,234.56`, also with a yuan sign (`¥100.00`,
/// `-¥1.00`, `¥-1.00`, full-width `￥`) as WeChat Pay bills do.
pub(super) fn money(raw: &str) -> Option<Decimal> {
    let raw = raw.trim();
    let (minus, rest) = match raw.strip_prefix('-') {
        Some(rest) => ("-", rest.trim_start()),
        None => ("", raw),
    };
    match rest.strip_prefix(['¥', '￥']) {
        Some(digits) => parse_signed(&format!("{minus}{digits}"), NumberStyle::DOT),
        None => parse_signed(raw, NumberStyle::DOT),
    }
}

pub(super) fn number(row: &Mapped<'_>, column: &str, raw: &str) -> Result<Decimal, FeedError> {
    money(raw).ok_or_else(|| {
        row.error(
            ErrorKind::InvalidAmount,
            column,
            "a decimal amount like -1,234.56",
            raw,
        )
    })
}

/// Signed amount and (if the cell carries one) currency.
pub(super) fn amount(row: &Mapped<'_>) -> Result<(Decimal, Option<String>), FeedError> {
    let spec = &row.profile.amount;
    let (value, ccy) = if let Some(column) = &spec.column {
        let raw = row
            .get(column)
            .ok_or_else(|| row.error(ErrorKind::MissingField, column, "an amount", ""))?;
        let (ccy, raw) = match spec.currency_prefix {
            true => {
                let letters = raw.chars().take_while(char::is_ascii_alphabetic).count();
                (
                    raw.get(..letters)
                        .filter(|c| c.len() == 3)
                        .map(str::to_string),
                    raw.get(letters..).unwrap_or_default(),
                )
            }
            false => (None, raw),
        };
        (number(row, column, raw)?, ccy)
    } else {
        let credit = spec
            .credit
            .as_deref()
            .and_then(|c| row.get(c).map(|v| (c, v)));
        let debit = spec
            .debit
            .as_deref()
            .and_then(|c| row.get(c).map(|v| (c, v)));
        match (credit, debit) {
            (Some((c, v)), None) => (number(row, c, v)?, None),
            (None, Some((c, v))) => (-number(row, c, v)?, None),
            (Some((c, v)), Some((d, w))) => {
                let net = number(row, c, v)?.checked_sub(number(row, d, w)?);
                let net = net.ok_or_else(|| {
                    row.error(ErrorKind::InvalidAmount, d, "an amount within range", w)
                })?;
                (net, None)
            }
            (None, None) => {
                let names = format!(
                    "{} or {}",
                    spec.credit.as_deref().unwrap_or("-"),
                    spec.debit.as_deref().unwrap_or("-")
                );
                return Err(row.error(
                    ErrorKind::MissingField,
                    &names,
                    "an amount in the credit or the debit column",
                    "",
                ));
            }
        }
    };
    let value = match &spec.direction {
        Some(dir) => {
            let marker = row.get(&dir.column).unwrap_or_default();
            if dir.credit.iter().any(|p| marker.starts_with(p.as_str())) {
                value.abs()
            } else if dir.debit.iter().any(|p| marker.starts_with(p.as_str())) {
                -value.abs()
            } else {
                let expected = format!(
                    "text starting with one of {} (credit) or {} (debit)",
                    dir.credit.join("/"),
                    dir.debit.join("/")
                );
                return Err(row.error(ErrorKind::Syntax, &dir.column, &expected, marker));
            }
        }
        None => value,
    };
    Ok((if spec.negate { -value } else { value }, ccy))
}

pub(super) fn iso_currency(raw: &str) -> String {
    currency::from_alias(raw).map_or_else(|| raw.trim().to_ascii_uppercase(), str::to_string)
}
