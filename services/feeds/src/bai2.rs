//! BAI2 (Cash Management Balance Reporting Specification, version 2): one statement per
//! account (`03`) with its detail records (`16`), continuation records (`88`) joined, and the
//! account/group/file control totals (`49`, `98`, `99`) checked.
//!
//! Dialects: several records on one physical line separated by `/` (seen in exports that lost
//! their line breaks), text fields without the closing `/`, blank amounts in trailers.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::ParseOptions;
use crate::currency;
use crate::error::{ErrorKind, FeedError};
use crate::model::Statement;
use crate::text::Input;
use crate::values::{parse_unsigned, yymmdd};

const CODES: &[&str] = &["01", "02", "03", "16", "49", "88", "98", "99"];

/// A logical record: type code and its physical segments (the record plus any `88`s).
#[derive(Debug)]
struct Record {
    code: String,
    segments: Vec<String>,
    /// Number of `88` continuation records (wrapped lines are segments but not records).
    continuations: u64,
    line: u32,
    end_line: u32,
    start: usize,
    end: usize,
}

/// Pulls comma-separated fields across continuation segments.
struct Fields<'a> {
    segments: &'a [String],
    seg: usize,
    pos: usize,
}

impl<'a> Fields<'a> {
    fn new(segments: &'a [String]) -> Self {
        Self {
            segments,
            seg: 0,
            pos: 0,
        }
    }

    fn next(&mut self) -> Option<&'a str> {
        loop {
            let s = self.segments.get(self.seg)?;
            if self.pos > s.len() {
                self.seg += 1;
                self.pos = 0;
                continue;
            }
            let rest = s.get(self.pos..).unwrap_or_default();
            return Some(match rest.find(',') {
                Some(i) => {
                    self.pos += i + 1;
                    rest.get(..i).unwrap_or_default()
                }
                None => {
                    self.pos = s.len() + 1;
                    rest
                }
            });
        }
    }

    /// At a field-group boundary: if only empty fields remain in this segment (writers
    /// differ in trailing commas before `/`), move on to the next segment.
    fn skip_empty_tail(&mut self) {
        if let Some(s) = self.segments.get(self.seg)
            && s.get(self.pos..)
                .is_some_and(|r| r.bytes().all(|b| b == b',' || b == b' '))
        {
            self.seg += 1;
            self.pos = 0;
        }
    }

    /// Everything left: the free-text field, continuation segments on new lines.
    fn text(&mut self) -> String {
        let mut parts = Vec::new();
        if let Some(s) = self.segments.get(self.seg)
            && let Some(rest) = s.get(self.pos..)
        {
            parts.push(rest.to_string());
        }
        parts.extend(self.segments.iter().skip(self.seg + 1).cloned());
        self.seg = self.segments.len();
        parts.retain(|p| !p.trim().is_empty());
        parts.join("\n").trim().to_string()
    }
}

/// Split the input into logical records (continuations attached to their record).
fn records(input: &Input<'_>) -> Vec<Record> {
    let mut out: Vec<Record> = Vec::new();
    for line in input.lines() {
        let raw = input.decode(input.bytes.get(line.start..line.end).unwrap_or_default());
        for piece in split_physical(&raw) {
            let piece = piece.trim_end();
            let piece = piece.strip_suffix('/').unwrap_or(piece).trim_end();
            if piece.trim().is_empty() {
                continue;
            }
            // `88:` instead of `88,` is seen in the wild; read it as a continuation.
            let (code, body) = match piece.strip_prefix("88:") {
                Some(rest) => ("88", rest),
                None => piece.split_once(',').unwrap_or((piece, "")),
            };
            let code = code.trim().to_string();
            let is_code = code.len() == 2 && code.bytes().all(|b| b.is_ascii_digit());
            // `88` continues the previous record; a line without a record code is a wrapped
            // text line of the previous record.
            if (code == "88" || !is_code)
                && let Some(prev) = out.last_mut()
            {
                prev.segments
                    .push(if is_code { body } else { piece }.to_string());
                prev.continuations += u64::from(is_code);
                prev.end_line = line.number;
                prev.end = line.end;
                continue;
            }
            out.push(Record {
                code,
                segments: vec![body.to_string()],
                continuations: 0,
                line: line.number,
                end_line: line.number,
                start: line.start,
                end: line.end,
            });
        }
    }
    out
}

/// Cut a physical line where `/` is followed by spaces and a record code (`…PPD/ 16,142,…`).
fn split_physical(line: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut from = 0;
    for (i, _) in line.match_indices('/') {
        let after = line.get(i + 1..).unwrap_or_default();
        let trimmed = after.trim_start_matches(' ');
        if trimmed.len() < after.len() || after.is_empty() {
            let starts_record = CODES
                .iter()
                .any(|c| trimmed.starts_with(c) && trimmed.get(2..3) == Some(","));
            if starts_record {
                pieces.push(line.get(from..=i).unwrap_or_default());
                from = line.len() - trimmed.len();
            }
        }
    }
    pieces.push(line.get(from..).unwrap_or_default());
    pieces
}

/// Amount in minor units (implied decimals of the currency), optionally signed.
fn amount(raw: &str, ccy: &str) -> Option<Decimal> {
    let raw = raw.trim();
    let (negative, digits) = match raw.as_bytes().first() {
        Some(b'-') => (true, raw.get(1..)?),
        Some(b'+') => (false, raw.get(1..)?),
        _ => (false, raw),
    };
    let mut value = parse_unsigned(digits.as_bytes(), b'.')?;
    if digits.contains('.') {
        return None;
    }
    let units = currency::minor_units(ccy).flatten().unwrap_or(2);
    value.set_scale(u32::from(units)).ok()?;
    Some(if negative { -value } else { value })
}

/// Funds-type extra fields to skip: `S` has three amounts, `V` a date and time, `D` a count
/// and that many amount/days pairs.
fn skip_funds(fields: &mut Fields<'_>, funds: &str) -> Option<NaiveDate> {
    match funds.trim() {
        "S" => {
            for _ in 0..3 {
                fields.next();
            }
            None
        }
        "V" => {
            let date = fields.next().and_then(|d| yymmdd(d.trim().as_bytes()).ok());
            fields.next();
            date
        }
        "D" => {
            let n: usize = fields
                .next()
                .and_then(|n| n.trim().parse().ok())
                .unwrap_or(0);
            for _ in 0..n.min(1000) * 2 {
                fields.next();
            }
            None
        }
        _ => None,
    }
}

fn error(rec: &Record, kind: ErrorKind, field: &str, expected: &str, found: &str) -> FeedError {
    FeedError::at_line(
        kind,
        rec.line,
        format!("BAI2 {} record: {field}", rec.code),
        expected,
        found,
    )
}

/// Per-group context.
#[derive(Debug, Default, Clone)]
struct Group {
    as_of: Option<NaiveDate>,
    currency: Option<String>,
}

mod build;

pub(crate) fn parse(
    input: &Input<'_>,
    options: &ParseOptions,
) -> Vec<Result<Statement, FeedError>> {
    build::run(records(input), options)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_records_on_slash_before_a_code() {
        assert_eq!(
            split_physical("16,142,2500,Z,,,TRANSFER   PAYPAL   PPD/ 16,142,500,Z,,,X/"),
            vec![
                "16,142,2500,Z,,,TRANSFER   PAYPAL   PPD/",
                "16,142,500,Z,,,X/"
            ]
        );
        assert_eq!(
            split_physical("16,447,1,,A/GS/RP,x"),
            vec!["16,447,1,,A/GS/RP,x"]
        );
    }

    #[test]
    fn implied_decimals() {
        assert_eq!(
            amount("+000000000208500", "USD"),
            Some(Decimal::new(208500, 2))
        );
        assert_eq!(amount("-1600", "JPY"), Some(Decimal::new(-1600, 0)));
        assert_eq!(amount("12.5", "USD"), None);
        assert_eq!(amount("", "USD"), None);
    }
}
