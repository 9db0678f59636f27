//! Field `:61:` (statement line): `6!n[4!n]2a[1!a]15d1!a3!c16x[//16x][<CrLf>34x]`.
//!
//! Dialects accepted: entry date written as four spaces (Citi, ASN), a funds code letter
//! after the mark (`CR`, `DK`, `CF`), a line break or space before the amount (Sparkassen),
//! a space between amount and type (Commerzbank, Deutsche Bank), amounts without a comma
//! (Knab), a reference longer than 16 characters before `//`, and Rabobank's counterparty
//! name on the first line after a 16-character reference.

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

use crate::values::{DateProblem, mmdd_near, parse_unsigned, yymmdd};

/// Debit/credit mark of a statement line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mark {
    Credit,
    Debit,
    /// `RC`: reversal of a credit, i.e. money leaves the account.
    ReversalOfCredit,
    /// `RD`: reversal of a debit, i.e. money comes back.
    ReversalOfDebit,
}

/// A parsed `:61:`.
#[derive(Debug, Clone)]
/// Text parts borrow from the input; they are decoded once, into the transaction.
pub(crate) struct Line61<'a> {
    pub(crate) value_date: Result<NaiveDate, DateProblem>,
    pub(crate) value_date_raw: &'a [u8],
    pub(crate) entry_date: Option<Result<NaiveDate, DateProblem>>,
    pub(crate) entry_date_raw: &'a [u8],
    pub(crate) mark: Mark,
    pub(crate) funds_code: Option<char>,
    pub(crate) amount: Decimal,
    pub(crate) type_code: &'a [u8],
    pub(crate) customer_reference: &'a [u8],
    pub(crate) bank_reference: Option<&'a [u8]>,
    /// Supplementary details: the rest of the first line (Rabobank) and the next lines.
    pub(crate) supplementary: Vec<&'a [u8]>,
}

impl Line61<'_> {
    /// Signed amount: credits and reversals of debits are positive.
    pub(crate) fn signed_amount(&self) -> Decimal {
        match self.mark {
            Mark::Credit | Mark::ReversalOfDebit => self.amount,
            Mark::Debit | Mark::ReversalOfCredit => -self.amount,
        }
    }
}

/// Which part of `:61:` was wrong, what was expected there, and what was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub(crate) part: &'static str,
    pub(crate) expected: &'static str,
    pub(crate) found: String,
}

fn problem(part: &'static str, expected: &'static str, found: &[u8]) -> Problem {
    Problem {
        part,
        expected,
        found: String::from_utf8_lossy(found).into_owned(),
    }
}

/// Parse the value of a `:61:` field (continuation lines separated by `\n`).
pub(crate) fn parse(value: &[u8]) -> Result<Line61<'_>, Problem> {
    let mut s = value;
    let date = s.get(..6).unwrap_or(s);
    let value_date = yymmdd(date);
    if value_date == Err(DateProblem::Shape) {
        return Err(problem("value date", "six digits YYMMDD", date));
    }
    let value_date_raw = date;
    s = s.get(6..).unwrap_or_default();

    let mut entry_date = None;
    let mut entry_date_raw: &[u8] = &[];
    if let Some(md) = s.get(..4) {
        if md.iter().all(u8::is_ascii_digit) {
            let year = match value_date {
                Ok(d) => d.year(),
                // Still place the entry date in the right year when the value date is 30 Feb.
                Err(_) => yymmdd(&[date.get(..2).unwrap_or(b"00"), b"0101"].concat())
                    .map(|d| d.year())
                    .unwrap_or(2000),
            };
            entry_date = Some(mmdd_near(md, year, value_date.ok()));
            entry_date_raw = md;
            s = s.get(4..).unwrap_or_default();
        } else if md == b"    " {
            s = s.get(4..).unwrap_or_default();
        }
    }

    let (mark, len) = match s {
        [b'R', b'C', ..] => (Mark::ReversalOfCredit, 2),
        [b'R', b'D', ..] => (Mark::ReversalOfDebit, 2),
        [b'C', ..] => (Mark::Credit, 1),
        [b'D', ..] => (Mark::Debit, 1),
        _ => {
            let found = s.get(..2).unwrap_or(s);
            return Err(problem("debit/credit mark", "C, D, RC or RD", found));
        }
    };
    s = s.get(len..).unwrap_or_default();

    let mut funds_code = None;
    if let Some(&b) = s.first()
        && b.is_ascii_alphabetic()
    {
        funds_code = Some(char::from(b));
        s = s.get(1..).unwrap_or_default();
    }
    // Sparkassen break the line (or put a space) before the amount.
    while let Some(&b) = s.first() {
        if b == b' ' || b == b'\r' || b == b'\n' {
            s = s.get(1..).unwrap_or_default();
        } else {
            break;
        }
    }

    let amount_len = s
        .iter()
        .take_while(|&&b| b.is_ascii_digit() || b == b',')
        .count();
    let raw_amount = s.get(..amount_len).unwrap_or_default();
    let amount = parse_unsigned(raw_amount, b',').ok_or_else(|| {
        let shown = s.iter().take(20).copied().collect::<Vec<_>>();
        problem(
            "amount",
            "digits with one decimal comma, like 1234,56",
            &shown,
        )
    })?;
    // `12.50`: a decimal point where SWIFT wants a comma would otherwise read as "12" followed
    // by a strange transaction type; say what is wrong instead.
    if s.get(amount_len) == Some(&b'.') && s.get(amount_len + 1).is_some_and(u8::is_ascii_digit) {
        let shown = s.iter().take(20).copied().collect::<Vec<_>>();
        return Err(problem(
            "amount",
            "digits with one decimal comma, like 1234,56",
            &shown,
        ));
    }
    s = s.get(amount_len..).unwrap_or_default();
    while s.first() == Some(&b' ') {
        s = s.get(1..).unwrap_or_default();
    }

    let first_line_len = s.iter().position(|&b| b == b'\n').unwrap_or(s.len());
    let (first, rest) = s.split_at(first_line_len);
    let first = first.strip_suffix(b"\r").unwrap_or(first);
    // SWIFT allows N, S or F as first letter; banks also send others (e.g. `MCI0`).
    let type_code = match first.get(..4) {
        Some(t @ [a, rest @ ..])
            if a.is_ascii_uppercase()
                && rest.iter().all(|c| c.is_ascii_alphanumeric() || *c == b' ') =>
        {
            t
        }
        _ => {
            return Err(problem(
                "transaction type",
                "a letter and three characters, like NTRF or N051",
                first.get(..4).unwrap_or(first),
            ));
        }
    };
    let after_type = first.get(4..).unwrap_or_default();

    let mut supplementary = Vec::new();
    let (customer, bank_reference) = match find_double_slash(after_type) {
        Some(i) => {
            let bank = after_type.get(i + 2..).unwrap_or_default();
            (
                after_type.get(..i).unwrap_or_default(),
                Some(trim_end(bank)),
            )
        }
        None => {
            let cut = after_type.len().min(16);
            let (reference, tail) = after_type.split_at(cut);
            if !trim_end(tail).is_empty() {
                supplementary.push(trim_end(tail));
            }
            (reference, None)
        }
    };
    for line in rest.split(|&b| b == b'\n').skip(1) {
        let line = trim_end(line.strip_suffix(b"\r").unwrap_or(line));
        if !line.is_empty() {
            supplementary.push(line);
        }
    }
    Ok(Line61 {
        value_date,
        value_date_raw,
        entry_date,
        entry_date_raw,
        mark,
        funds_code,
        amount,
        type_code: trim_end(type_code),
        customer_reference: crate::text::trim(customer),
        bank_reference,
        supplementary,
    })
}

fn find_double_slash(s: &[u8]) -> Option<usize> {
    let mut from = 0;
    loop {
        let i = from + memchr::memchr(b'/', s.get(from..)?)?;
        if s.get(i + 1) == Some(&b'/') {
            return Some(i);
        }
        from = i + 1;
    }
}

fn trim_end(mut s: &[u8]) -> &[u8] {
    while let [rest @ .., last] = s {
        if last.is_ascii_whitespace() {
            s = rest;
        } else {
            break;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn ok(v: &str) -> Line61<'_> {
        parse(v.as_bytes()).unwrap()
    }

    #[test]
    fn standard_line() {
        let l = ok("0709070904CR50990,05NTRFNONREF//0724710333343453");
        assert_eq!(
            l.value_date,
            Ok(NaiveDate::from_ymd_opt(2007, 9, 7).unwrap())
        );
        assert_eq!(
            l.entry_date,
            Some(Ok(NaiveDate::from_ymd_opt(2007, 9, 4).unwrap()))
        );
        assert_eq!(l.mark, Mark::Credit);
        assert_eq!(l.funds_code, Some('R'));
        assert_eq!(l.signed_amount(), Decimal::from_str("50990.05").unwrap());
        assert_eq!(l.type_code, b"NTRF");
        assert_eq!(l.customer_reference, b"NONREF");
        assert_eq!(l.bank_reference, Some(&b"0724710333343453"[..]));
    }

    #[test]
    fn dialects() {
        let l = ok("2002010219RDR1027,25N068NONREF");
        assert_eq!(l.mark, Mark::ReversalOfDebit);
        assert!(l.signed_amount() > Decimal::ZERO);
        let l = ok("240312    DD212,39NMSCNONREF//\n/ABC/DEF/MISCELLANEOUS");
        assert_eq!(l.entry_date, None);
        assert_eq!(l.supplementary, vec![&b"/ABC/DEF/MISCELLANEOUS"[..]]);
        let l = ok("1811261126CR\n30,00N062NONREF");
        assert_eq!(l.amount, Decimal::from(30));
        let l = ok("2006080608D12,35 NRTIKREF+//2016021783252833");
        assert_eq!(l.type_code, b"NRTI");
        let l = ok("110527D000000001213,28N0440121470966      W.P. Jansen            ");
        assert_eq!(l.customer_reference, b"0121470966");
        assert_eq!(l.supplementary, vec![&b"W.P. Jansen"[..]]);
        let l = ok("100722D25,03NOV NONREF");
        assert_eq!(
            (l.type_code, l.customer_reference),
            (&b"NOV"[..], &b"NONREF"[..])
        );
        let l = ok("1405070507C500NTRF29-07-2014 10:05//B4G29PGDCK1QFV3E");
        assert_eq!(l.customer_reference, b"29-07-2014 10:05");
        let l = ok("1602300301DR6,00N024NONREF");
        assert_eq!(l.value_date, Err(DateProblem::NoSuchDay));
        assert_eq!(
            l.entry_date,
            Some(Ok(NaiveDate::from_ymd_opt(2016, 3, 1).unwrap()))
        );
        let l = ok("1112310102C1,00NTRFNONREF");
        assert_eq!(
            l.entry_date,
            Some(Ok(NaiveDate::from_ymd_opt(2012, 1, 2).unwrap()))
        );
    }

    #[test]
    fn errors_name_the_part() {
        assert_eq!(parse(b"1709X").unwrap_err().part, "value date");
        assert_eq!(
            parse(b"170914X233,15NMSC").unwrap_err().part,
            "debit/credit mark"
        );
        assert_eq!(parse(b"170914D").unwrap_err().part, "amount");
        assert_eq!(
            parse(b"170914D233,15").unwrap_err().part,
            "transaction type"
        );
    }
}
