//! Exact amounts and dates: every amount is built digit by digit into a `Decimal`, never
//! through floating point (R-C4's rule applies to money everywhere).

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

use crate::currency;

/// Parse an unsigned amount made of ASCII digits with at most one decimal separator `sep`.
/// `"380115,"`, `"00,12"` and `"500"` are accepted; anything else yields `None`.
pub(crate) fn parse_unsigned(s: &[u8], sep: u8) -> Option<Decimal> {
    // Up to 18 digits in 64 bits (every real amount), then in 128 bits with overflow checks.
    let mut small: u64 = 0;
    let mut big: Option<i128> = None;
    let mut scale: u32 = 0;
    let mut seen_sep = false;
    let mut digits = 0usize;
    for &b in s {
        match b {
            b'0'..=b'9' => {
                let d = b - b'0';
                match big {
                    None if digits < 18 => small = small * 10 + u64::from(d),
                    None => big = Some(i128::from(small) * 10 + i128::from(d)),
                    Some(m) => big = Some(m.checked_mul(10)?.checked_add(i128::from(d))?),
                }
                digits += 1;
                if seen_sep {
                    scale += 1;
                }
            }
            _ if b == sep && !seen_sep => seen_sep = true,
            _ => return None,
        }
    }
    if digits == 0 || scale > 28 {
        return None;
    }
    match big {
        None => Decimal::try_from_i128_with_scale(i128::from(small), scale).ok(),
        Some(m) => Decimal::try_from_i128_with_scale(m, scale).ok(),
    }
}

/// How numbers are written in a text format (CSV columns, XML values).
#[derive(Debug, Clone, Copy)]
pub(crate) struct NumberStyle {
    pub(crate) decimal: char,
    pub(crate) thousands: Option<char>,
}

impl NumberStyle {
    /// `1,234.56` style (also plain `1234.56`).
    pub(crate) const DOT: Self = Self {
        decimal: '.',
        thousands: Some(','),
    };
    /// `xs:decimal`: no grouping.
    pub(crate) const XML: Self = Self {
        decimal: '.',
        thousands: None,
    };
}

/// Parse a signed amount written as text: optional sign (`+`, `-`, trailing `-`, or
/// parentheses), grouping separators, and a decimal separator.
pub(crate) fn parse_signed(text: &str, style: NumberStyle) -> Option<Decimal> {
    let mut s = text.trim();
    let mut negative = false;
    if let Some(inner) = s.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        negative = true;
        s = inner.trim();
    }
    if let Some(rest) = s.strip_prefix('-') {
        negative = !negative;
        s = rest.trim_start();
    } else if let Some(rest) = s.strip_prefix('+') {
        s = rest.trim_start();
    } else if let Some(rest) = s.strip_suffix('-') {
        negative = !negative;
        s = rest.trim_end();
    }
    let mut cleaned = Vec::with_capacity(s.len());
    let mut seen_decimal = false;
    for c in s.chars() {
        if c == style.decimal && !seen_decimal {
            seen_decimal = true;
            cleaned.push(b'.');
        } else if Some(c) == style.thousands && !seen_decimal {
            // Grouping only in the integer part; its position is not checked (banks differ).
        } else if c.is_ascii_digit() {
            cleaned.push(c as u8);
        } else {
            return None;
        }
    }
    let value = parse_unsigned(&cleaned, b'.')?;
    Some(if negative { -value } else { value })
}

/// Rescale to at least the currency's minor units (`9` EUR becomes `9.00`), dropping only
/// trailing zeros beyond them (`8.850` becomes `8.85`); never rounds a significant digit.
pub(crate) fn canonical(amount: Decimal, currency: &str) -> Decimal {
    canonical_units(amount, currency::minor_units(currency).flatten())
}

/// [`canonical`] with the currency's minor units already looked up.
pub(crate) fn canonical_units(amount: Decimal, units: Option<u8>) -> Decimal {
    // Already at the currency's scale (nearly every amount): normalising and rescaling would
    // give it back unchanged. Zero is left to the general path (it also drops a minus sign).
    if let Some(u) = units
        && amount.scale() == u32::from(u)
        && !amount.is_zero()
        // |amount| < 10^18, on the mantissa (no scale alignment): |m| < 10^(18 + scale).
        && 10_u128
            .checked_pow(18 + u32::from(u))
            .is_some_and(|limit| amount.mantissa().unsigned_abs() < limit)
    {
        return amount;
    }
    let mut value = amount.normalize();
    if let Some(units) = units {
        let units = u32::from(units);
        // Raising the scale multiplies the mantissa; stay well inside its 96 bits.
        if value.scale() < units && value.abs() < Decimal::from(10_i64.pow(18)) {
            value.rescale(units);
        }
    }
    value
}

/// Why a date could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DateProblem {
    /// Not digits of the expected length.
    Shape,
    /// Digits, but no such day (e.g. 30 February).
    NoSuchDay,
}

/// Two-digit years: 80–99 are 19xx, 00–79 are 20xx (SWIFT files from 1980 to 2079).
fn full_year(yy: u32) -> i32 {
    let yy = i32::try_from(yy).unwrap_or(0);
    if yy >= 80 { 1900 + yy } else { 2000 + yy }
}

fn digits(s: &[u8]) -> Option<u32> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    s.iter().try_fold(0u32, |acc, b| {
        acc.checked_mul(10)?.checked_add(u32::from(b - b'0'))
    })
}

/// `YYMMDD` (SWIFT and BAI2).
pub(crate) fn yymmdd(s: &[u8]) -> Result<NaiveDate, DateProblem> {
    if s.len() != 6 {
        return Err(DateProblem::Shape);
    }
    let yy = digits(s.get(0..2).unwrap_or_default()).ok_or(DateProblem::Shape)?;
    let mm = digits(s.get(2..4).unwrap_or_default()).ok_or(DateProblem::Shape)?;
    let dd = digits(s.get(4..6).unwrap_or_default()).ok_or(DateProblem::Shape)?;
    NaiveDate::from_ymd_opt(full_year(yy), mm, dd).ok_or(DateProblem::NoSuchDay)
}

/// `MMDD` of the entry date in `:61:`, placed in the year that puts it closest to the value
/// date (a booking on 2 January for a value date of 31 December is in the next year).
pub(crate) fn mmdd_near(
    s: &[u8],
    anchor_year: i32,
    anchor: Option<NaiveDate>,
) -> Result<NaiveDate, DateProblem> {
    if s.len() != 4 {
        return Err(DateProblem::Shape);
    }
    let mm = digits(s.get(0..2).unwrap_or_default()).ok_or(DateProblem::Shape)?;
    let dd = digits(s.get(2..4).unwrap_or_default()).ok_or(DateProblem::Shape)?;
    // Within half a year of the anchor, the anchor's year is nearest: the same day in the
    // year before or after is at least 365 days from it, so at least 183 from the anchor.
    if let Some(a) = anchor
        && let Some(d) = NaiveDate::from_ymd_opt(anchor_year, mm, dd)
        && (d - a).num_days().abs() <= 182
    {
        return Ok(d);
    }
    let mut candidates = [anchor_year - 1, anchor_year, anchor_year + 1]
        .into_iter()
        .filter_map(|y| NaiveDate::from_ymd_opt(y, mm, dd));
    let best = match anchor {
        Some(a) => candidates.min_by_key(|d| (*d - a).num_days().abs()),
        None => candidates.rfind(|d| d.year() == anchor_year),
    };
    best.ok_or(DateProblem::NoSuchDay)
}

/// `YYYY-MM-DD` (XML `xs:date`, or the date part of an `xs:dateTime`).
pub(crate) fn iso_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    let head = s.get(0..10)?;
    let b = head.as_bytes();
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let y = digits(b.get(0..4)?)?;
    let m = digits(b.get(5..7)?)?;
    let d = digits(b.get(8..10)?)?;
    NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap_or_default()
    }

    #[test]
    fn swift_amounts() {
        assert_eq!(parse_unsigned(b"380115,12", b','), Some(dec("380115.12")));
        assert_eq!(parse_unsigned(b"380115,", b','), Some(dec("380115")));
        assert_eq!(parse_unsigned(b"001,12", b','), Some(dec("1.12")));
        assert_eq!(parse_unsigned(b"0000000000000000,00", b','), Some(dec("0")));
        assert_eq!(parse_unsigned(b"500", b','), Some(dec("500")));
        assert_eq!(parse_unsigned(b"1,2,3", b','), None);
        assert_eq!(parse_unsigned(b",", b','), None);
        assert_eq!(parse_unsigned(b"12.5", b','), None);
        assert_eq!(parse_unsigned(&[b'9'; 60], b','), None);
        // Around the switch from 64 to 128 bits, and the 96-bit limit of `Decimal`.
        for text in [
            "123456789012345678",
            "1234567890123456789",
            "12345678901234567,89",
            "9999999999999999999999999999",
            "79228162514264337593543950335",
            "7922816251426433759354395033,5",
        ] {
            let expected = dec(&text.replace(',', "."));
            assert_eq!(
                parse_unsigned(text.as_bytes(), b','),
                Some(expected),
                "{text}"
            );
        }
        assert_eq!(parse_unsigned(b"79228162514264337593543950336", b','), None);
    }

    #[test]
    fn text_amounts() {
        let s = NumberStyle::DOT;
        assert_eq!(
            parse_signed("\"-1,099.14\"".trim_matches('"'), s),
            Some(dec("-1099.14"))
        );
        assert_eq!(parse_signed("+10000.00", s), Some(dec("10000.00")));
        assert_eq!(parse_signed("(3.50)", s), Some(dec("-3.50")));
        assert_eq!(parse_signed("12.00-", s), Some(dec("-12.00")));
        assert_eq!(parse_signed("xx,yyyy.zz", s), None);
        assert_eq!(parse_signed("1e5", s), None);
        assert_eq!(parse_signed("", s), None);
    }

    #[test]
    fn canonical_scale_follows_currency() {
        assert_eq!(canonical(dec("9"), "EUR").to_string(), "9.00");
        assert_eq!(canonical(dec("8.850"), "EUR").to_string(), "8.85");
        assert_eq!(canonical(dec("1.2345"), "EUR").to_string(), "1.2345");
        assert_eq!(canonical(dec("2700"), "JPY").to_string(), "2700");
        // The shortcut for amounts already at the scale gives what the general rule gives.
        let general = |amount: Decimal, units: u32| {
            let mut v = amount.normalize();
            if v.scale() < units && v.abs() < Decimal::from(10_i64.pow(18)) {
                v.rescale(units);
            }
            v
        };
        for m in [
            1_i64,
            -1,
            10,
            -100,
            12_345,
            100_000,
            -999_999_999_999_999_999,
            5,
            1_000_000_000_000_000_000,
            999_999_999_999_999_999,
        ] {
            for units in [0_u8, 2, 3] {
                let d = Decimal::new(m, u32::from(units));
                let got = canonical_units(d, Some(units));
                let want = general(d, u32::from(units));
                assert_eq!(got.to_string(), want.to_string(), "{d}");
                assert_eq!(got.scale(), want.scale(), "{d}");
            }
        }
        let minus_zero = -Decimal::new(0, 2);
        assert_eq!(
            canonical_units(minus_zero, Some(2)).to_string(),
            general(minus_zero, 2).to_string()
        );
    }

    #[test]
    fn entry_date_nearest_the_value_date() {
        // The rule read directly: of the three candidate years, the nearest day.
        let reference = |mm: u32, dd: u32, a: NaiveDate| {
            [a.year() - 1, a.year(), a.year() + 1]
                .into_iter()
                .filter_map(|y| NaiveDate::from_ymd_opt(y, mm, dd))
                .min_by_key(|d| (*d - a).num_days().abs())
        };
        let mut a = NaiveDate::from_ymd_opt(2015, 1, 1).unwrap_or_default();
        while a.year() < 2018 {
            for mm in 1..=12 {
                for dd in [1, 2, 15, 28, 29, 30, 31] {
                    let text = format!("{mm:02}{dd:02}");
                    assert_eq!(
                        mmdd_near(text.as_bytes(), a.year(), Some(a)).ok(),
                        reference(mm, dd, a),
                        "{text} near {a}"
                    );
                }
            }
            a = a.succ_opt().unwrap_or_default();
        }
    }

    #[test]
    fn dates() {
        assert_eq!(
            yymmdd(b"110522"),
            Ok(NaiveDate::from_ymd_opt(2011, 5, 22).unwrap_or_default())
        );
        assert_eq!(yymmdd(b"991231").map(|d| d.year()), Ok(1999));
        assert_eq!(yymmdd(b"160230"), Err(DateProblem::NoSuchDay));
        assert_eq!(yymmdd(b"16023"), Err(DateProblem::Shape));
        let value = NaiveDate::from_ymd_opt(2011, 12, 31);
        assert_eq!(mmdd_near(b"0102", 2011, value).map(|d| d.year()), Ok(2012));
        assert_eq!(
            iso_date("2007-10-18T13:15:00+01:00"),
            NaiveDate::from_ymd_opt(2007, 10, 18)
        );
        assert_eq!(iso_date("2007-13-18"), None);
    }
}
