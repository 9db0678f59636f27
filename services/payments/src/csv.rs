//! The simple bank CSV layout of the walking skeleton:
//! `date,amount,currency,payer_name,payer_account,reference`, an optional header row,
//! RFC 4180 quoting. Every bad line is reported with its number and field; good lines go on.

use chrono::NaiveDate;
use rust_decimal::Decimal;

/// One good line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// 1-based line number in the file.
    pub line_no: u32,
    /// Booking date.
    pub date: NaiveDate,
    /// Credited amount (> 0).
    pub amount: Decimal,
    /// ISO 4217 code.
    pub currency: String,
    /// Payer as the bank reports it.
    pub payer_name: String,
    /// Payer account number.
    pub payer_account: String,
    /// Remittance information.
    pub reference: String,
}

/// One bad line: where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// 1-based line number.
    pub line_no: u32,
    /// Column name, or `line` for the whole line.
    pub field: String,
    /// What is wrong and what was expected.
    pub message: String,
}

/// Column names, in order.
pub const COLUMNS: [&str; 6] = [
    "date",
    "amount",
    "currency",
    "payer_name",
    "payer_account",
    "reference",
];

/// Parses a whole file: good lines and errors, in file order. Blank lines are ignored.
pub fn parse(content: &str) -> (Vec<Line>, Vec<LineError>) {
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    for (index, raw) in content.lines().enumerate() {
        let line_no = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let raw = raw.trim_end_matches('\r');
        if raw.trim().is_empty() {
            continue;
        }
        if index == 0 && raw.to_ascii_lowercase().starts_with("date") {
            continue; // header row
        }
        match parse_line(line_no, raw) {
            Ok(line) => lines.push(line),
            Err(error) => errors.push(error),
        }
    }
    (lines, errors)
}

fn parse_line(line_no: u32, raw: &str) -> Result<Line, LineError> {
    let error = |field: &str, message: String| LineError {
        line_no,
        field: field.to_owned(),
        message,
    };
    let fields = split(raw).map_err(|m| error("line", m))?;
    if fields.len() != COLUMNS.len() {
        return Err(error(
            "line",
            format!(
                "has {} fields, expected {}: {}",
                fields.len(),
                COLUMNS.len(),
                COLUMNS.join(",")
            ),
        ));
    }
    let date = NaiveDate::parse_from_str(fields[0].trim(), "%Y-%m-%d").map_err(|_| {
        error(
            "date",
            format!("{:?} is not a date; expected YYYY-MM-DD", fields[0]),
        )
    })?;
    let currency = fields[2].trim().to_ascii_uppercase();
    if kit::wire::minor_units(&currency).is_none() {
        return Err(error(
            "currency",
            format!("{:?} is not an ISO 4217 currency code", fields[2]),
        ));
    }
    // Plain decimals only: no exponent, no thousands separators, at most the minor units.
    let amount = money::Money::parse_in(fields[1].trim(), &currency)
        .map_err(|e| {
            error(
                "amount",
                format!("{:?}: {e}; expected e.g. 1234.56", fields[1]),
            )
        })?
        .amount();
    if amount <= Decimal::ZERO {
        return Err(error(
            "amount",
            format!("{amount} is not a credit; expected an amount greater than zero"),
        ));
    }
    let payer_name = fields[3].trim().to_owned();
    if payer_name.is_empty() {
        return Err(error("payer_name", "is empty".to_owned()));
    }
    Ok(Line {
        line_no,
        date,
        amount,
        currency,
        payer_name,
        payer_account: fields[4].trim().to_owned(),
        reference: fields[5].trim().to_owned(),
    })
}

/// Splits one CSV record with RFC 4180 quotes ("" is a quote inside a quoted field).
fn split(raw: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = raw.chars().peekable();
    let mut quoted = false;
    let mut at_field_start = true;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (false, '"') if at_field_start => {
                quoted = true;
                at_field_start = false;
            }
            (true, '"') => {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    quoted = false;
                }
            }
            (false, ',') => {
                fields.push(std::mem::take(&mut field));
                at_field_start = true;
            }
            _ => {
                field.push(c);
                at_field_start = false;
            }
        }
    }
    if quoted {
        return Err("a quoted field is not closed".to_owned());
    }
    fields.push(field);
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_lines_pass_and_bad_lines_name_line_and_field() {
        let file = "date,amount,currency,payer_name,payer_account,reference\n\
                    2026-03-20,20000.00,CNY,张三,6222020000001234,HT-1/2\n\
                    2026-03-20,12.345,CNY,李四,6222,HT-1\n\
                    2026-13-01,1.00,CNY,王五,6222,HT-1\n\
                    \"2026-03-21\",\"1,000.00\",CNY,\"Zhang \"\"San\"\"\",1,\"HT-1\"\n\
                    2026-03-21,5.00,XXX,a,b,c\n\
                    2026-03-21,1e3,CNY,a,b,c\n";
        let (lines, errors) = parse(file);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].amount, Decimal::new(2_000_000, 2));
        assert_eq!(lines[0].reference, "HT-1/2");
        let summary: Vec<(u32, &str)> = errors
            .iter()
            .map(|e| (e.line_no, e.field.as_str()))
            .collect();
        assert_eq!(
            summary,
            vec![
                (3, "amount"),
                (4, "date"),
                (5, "amount"),
                (6, "currency"),
                (7, "amount")
            ]
        );
    }

    #[test]
    fn wrong_field_count_and_open_quote_are_line_errors() {
        let (_, errors) = parse("2026-01-01,1.00,CNY\n2026-01-01,\"1.00,CNY,a,b,c\n");
        assert_eq!(errors.len(), 2);
        assert!(errors.iter().all(|e| e.field == "line"));
        assert!(errors[0].message.contains("expected 6"));
    }

    #[test]
    fn quoted_commas_and_quotes_are_kept() {
        assert_eq!(
            split("a,\"b,c\",\"d\"\"e\"").unwrap(),
            vec!["a", "b,c", "d\"e"]
        );
    }
}
