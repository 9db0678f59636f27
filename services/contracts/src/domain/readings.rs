//! Metered charges (R-C2; issue 12 item 2): a CSV of meter readings or plain amounts per unit,
//! charge type and month. The file is read whole before anything is billed, and the first
//! bad row is refused naming its row and field, so a file is billed in full or not at all.
//!
//! Header: `project,unit,charge_type,period,previous,current,unit_price,amount`. A row gives
//! either `previous`, `current` and `unit_price` (the amount is the consumption × the price)
//! or `amount` alone. Rows are numbered from 1, the header not counted.

use std::collections::HashMap;

use rust_decimal::{Decimal, RoundingStrategy};

use super::billing::{Period, is_metered};
use super::schedule::ChargeType;

/// The columns, in order.
pub const HEADER: [&str; 8] = [
    "project",
    "unit",
    "charge_type",
    "period",
    "previous",
    "current",
    "unit_price",
    "amount",
];

/// Most data rows one file may have.
pub const MAX_ROWS: usize = 100_000;

/// How a row bills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Two readings and the price per unit consumed.
    Readings {
        /// The meter at the start of the month.
        previous: Decimal,
        /// The meter at its end.
        current: Decimal,
        /// Price per unit consumed (m³, kWh).
        unit_price: Decimal,
    },
    /// An amount billed as it is.
    Amount(Decimal),
}

/// One good row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    /// Its number, from 1.
    pub row: usize,
    /// The unit's project and code.
    pub project: String,
    pub unit: String,
    /// Water, electricity or gas.
    pub charge_type: ChargeType,
    /// The month billed.
    pub period: Period,
    /// What it bills.
    pub measure: Measure,
}

impl Reading {
    /// The amount billed, rounded half away from zero to `unit` (0.01 for fen); `None` when
    /// it overflows.
    #[must_use]
    pub fn amount(&self, unit: Decimal) -> Option<Decimal> {
        let amount = match self.measure {
            Measure::Readings {
                previous,
                current,
                unit_price,
            } => current.checked_sub(previous)?.checked_mul(unit_price)?,
            Measure::Amount(amount) => amount,
        };
        Some(amount.round_dp_with_strategy(unit.scale(), RoundingStrategy::MidpointAwayFromZero))
    }
}

/// A refused row: its number (0 for the file as a whole), the column and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// The data row, from 1; 0 for the header or the file.
    pub row: usize,
    /// The column.
    pub field: &'static str,
    /// What is wrong and what was expected.
    pub reason: String,
}

fn refuse(row: usize, field: &'static str, reason: impl Into<String>) -> RowError {
    RowError {
        row,
        field,
        reason: reason.into(),
    }
}

fn decimal(row: usize, field: &'static str, text: &str) -> Result<Decimal, RowError> {
    let value: Decimal = text
        .parse()
        .map_err(|_| refuse(row, field, format!("{text:?} is not a decimal number")))?;
    if value < Decimal::ZERO {
        return Err(refuse(row, field, format!("{text} is negative")));
    }
    Ok(value)
}

/// Reads the whole file; the first bad row is the error.
///
/// # Errors
/// The first row (or the header) that cannot be billed, with the field and the reason.
pub fn parse(content: &str) -> Result<Vec<Reading>, RowError> {
    let content = content.strip_prefix('\u{feff}').unwrap_or(content);
    let mut lines = content.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<&str> = lines
        .next()
        .ok_or_else(|| {
            refuse(
                0,
                "header",
                "the file is empty; the first line is the header",
            )
        })?
        .split(',')
        .map(str::trim)
        .collect();
    if header != HEADER {
        return Err(refuse(
            0,
            "header",
            format!("expected the header {:?}", HEADER.join(",")),
        ));
    }
    let mut readings = Vec::new();
    let mut seen: HashMap<(String, String, ChargeType, Period), usize> = HashMap::new();
    for (i, line) in lines.enumerate() {
        let row = i + 1;
        if row > MAX_ROWS {
            return Err(refuse(
                row,
                "row",
                format!("at most {MAX_ROWS} rows per file"),
            ));
        }
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        if cells.len() != HEADER.len() {
            return Err(refuse(
                row,
                "row",
                format!("{} columns, expected {}", cells.len(), HEADER.len()),
            ));
        }
        let reading = parse_row(row, &cells)?;
        let key = (
            reading.project.clone(),
            reading.unit.clone(),
            reading.charge_type,
            reading.period,
        );
        if let Some(first) = seen.insert(key, row) {
            return Err(refuse(
                row,
                "period",
                format!("row {first} bills the same unit, charge type and period"),
            ));
        }
        readings.push(reading);
    }
    if readings.is_empty() {
        return Err(refuse(0, "content", "the file has a header but no rows"));
    }
    Ok(readings)
}

fn parse_row(row: usize, cells: &[&str]) -> Result<Reading, RowError> {
    let [
        project,
        unit,
        charge,
        period,
        previous,
        current,
        price,
        amount,
    ] = cells
    else {
        return Err(refuse(row, "row", "wrong number of columns"));
    };
    for (field, value) in [("project", project), ("unit", unit)] {
        if value.is_empty() || value.len() > 64 {
            return Err(refuse(row, field, "required, at most 64 characters"));
        }
    }
    let charge_type = ChargeType::parse(charge)
        .filter(|c| is_metered(*c))
        .ok_or_else(|| {
            refuse(
                row,
                "charge_type",
                format!("{charge:?} is not water, electricity or gas"),
            )
        })?;
    let period = Period::parse(period).map_err(|e| refuse(row, "period", e))?;
    let measure = match (
        previous.is_empty() && current.is_empty() && price.is_empty(),
        amount.is_empty(),
    ) {
        (true, false) => {
            let amount = decimal(row, "amount", amount)?;
            Measure::Amount(amount)
        }
        (false, true) => {
            let value = |field, text: &str| {
                if text.is_empty() {
                    Err(refuse(row, field, "required with readings"))
                } else {
                    decimal(row, field, text)
                }
            };
            let previous = value("previous", previous)?;
            let current = value("current", current)?;
            let unit_price = value("unit_price", price)?;
            if current < previous {
                return Err(refuse(
                    row,
                    "current",
                    format!("{current} is below the previous reading {previous}"),
                ));
            }
            Measure::Readings {
                previous,
                current,
                unit_price,
            }
        }
        _ => {
            return Err(refuse(
                row,
                "amount",
                "give either previous, current and unit_price, or amount alone",
            ));
        }
    };
    Ok(Reading {
        row,
        project: (*project).to_owned(),
        unit: (*unit).to_owned(),
        charge_type,
        period,
        measure,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FEN: Decimal = Decimal::from_parts(1, 0, 0, false, 2);
    const HEAD: &str = "project,unit,charge_type,period,previous,current,unit_price,amount\n";

    fn file(rows: &str) -> String {
        format!("{HEAD}{rows}")
    }

    #[test]
    fn readings_and_amounts_bill_to_the_fen() {
        let readings = parse(&file(
            "Garden,3-1203,water,2026-11,1200.5,1218.25,4.15,\nGarden,3-1204,gas,2026-11,,,,86.40\n",
        ))
        .expect("good");
        assert_eq!(readings.len(), 2);
        // 17.75 m³ × 4.15 = 73.6625 → 73.66.
        assert_eq!(readings[0].amount(FEN), Some("73.66".parse().unwrap()));
        assert_eq!(readings[1].amount(FEN), Some("86.40".parse().unwrap()));
        assert_eq!(readings[1].row, 2);
    }

    #[test]
    fn a_bad_row_is_named_with_its_field() {
        let cases = [
            ("Garden,3-1203,water,2026-11,1200,1100,4.15,\n", "current"),
            (
                "Garden,3-1203,management_fee,2026-11,,,,10\n",
                "charge_type",
            ),
            ("Garden,3-1203,water,2026-13,,,,10\n", "period"),
            ("Garden,3-1203,water,2026-11,1,2,x,\n", "unit_price"),
            ("Garden,3-1203,water,2026-11,1,2,3,4\n", "amount"),
            ("Garden,3-1203,water,2026-11,,,,-4\n", "amount"),
            ("Garden,,water,2026-11,,,,4\n", "unit"),
            ("Garden,3-1203,water\n", "row"),
        ];
        for (row, field) in cases {
            let text = file(&format!("Garden,1-101,gas,2026-11,,,,5\n{row}"));
            let error = parse(&text).expect_err(row);
            assert_eq!((error.row, error.field), (2, field), "{row}: {error:?}");
        }
    }

    #[test]
    fn the_same_charge_twice_in_a_file_is_refused() {
        let error = parse(&file(
            "Garden,1-101,gas,2026-11,,,,5\nGarden,1-101,gas,2026-11,,,,6\n",
        ))
        .expect_err("twice");
        assert_eq!((error.row, error.field), (2, "period"));
        assert!(error.reason.contains("row 1"), "{}", error.reason);
    }

    #[test]
    fn the_header_is_required() {
        assert_eq!(parse("").expect_err("empty").field, "header");
        assert_eq!(parse("a,b\n").expect_err("header").field, "header");
        assert_eq!(parse(HEAD).expect_err("no rows").field, "content");
    }
}
