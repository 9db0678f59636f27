//! Build one statement from the fields of one MT940/MT942 message.

use rust_decimal::Decimal;

use super::balance;
use super::tags::{self, Field};
use crate::check::BalanceLocations;
use crate::error::{ErrorKind, FeedError, Location};
use crate::model::{Balance, BalanceCheck, SourceSpan, Statement, StatementKind};
use crate::text::{Input, non_empty, trim};
use crate::values::{parse_unsigned, yymmdd};

/// Collects the fields of one message.
pub(super) struct Builder<'i, 'a> {
    pub(super) input: &'i Input<'a>,
    pub(super) st: Statement,
    pub(super) flags: Vec<FeedError>,
    pub(super) locations: BalanceLocations,
    /// Whether a following `:86:`/`:NS:` belongs to the last transaction.
    pub(super) attach_to_tx: bool,
    pub(super) mt942: bool,
    pub(super) currency_hint: Option<String>,
    pub(super) totals: Vec<(bool, u32, String, Decimal, u32)>,
    /// Debit mark of each transaction (zero amounts keep their side for `:90D:`/`:90C:`).
    pub(super) debit_marks: Vec<bool>,
}

impl<'i, 'a> Builder<'i, 'a> {
    pub(super) fn new(input: &'i Input<'a>) -> Self {
        Self {
            input,
            st: Statement {
                kind: StatementKind::Statement,
                id: None,
                related_reference: None,
                account: String::new(),
                servicer: None,
                currency: String::new(),
                sequence_number: None,
                created_at: None,
                opening_balance: None,
                closing_balance: None,
                closing_available_balance: None,
                forward_available_balances: Vec::new(),
                information: None,
                transactions: Vec::new(),
                balance_check: BalanceCheck::NotChecked {
                    reason: "no opening and closing balance".into(),
                },
                flags: Vec::new(),
                source: SourceSpan::default(),
            },
            flags: Vec::new(),
            locations: BalanceLocations::default(),
            attach_to_tx: false,
            mt942: false,
            currency_hint: None,
            totals: Vec::new(),
            debit_marks: Vec::new(),
        }
    }

    /// The value with `\n` line breaks, trailing blank lines dropped (decoded in one go).
    pub(super) fn text(&self, f: &Field) -> String {
        let raw = self.input.bytes.get(f.start..f.end).unwrap_or_default();
        let mut text = self.input.decode(raw);
        if text.contains('\r') {
            text = text.replace("\r\n", "\n").replace('\r', "\n");
        }
        while let Some(pos) = text.rfind('\n') {
            if text
                .get(pos + 1..)
                .is_some_and(|tail| tail.trim().is_empty())
            {
                text.truncate(pos);
            } else {
                break;
            }
        }
        text
    }

    /// The first line of a one-line field; text on further lines is flagged, never dropped
    /// silently.
    pub(super) fn first_line(&mut self, f: &Field) -> String {
        let lines = tags::value_lines(&self.input.bytes, f);
        let first = self
            .input
            .decode(trim(lines.first().copied().unwrap_or_default()));
        let extra: Vec<String> = lines
            .iter()
            .skip(1)
            .filter(|l| !trim(l).is_empty())
            .map(|l| self.input.decode(l))
            .collect();
        if !extra.is_empty() {
            self.push_flag(
                f,
                ErrorKind::Syntax,
                "value",
                "a single line",
                &extra.join(" / "),
            );
        }
        first
    }

    pub(super) fn push_flag(
        &mut self,
        f: &Field,
        kind: ErrorKind,
        part: &str,
        expected: &str,
        found: &str,
    ) {
        self.flags.push(FeedError::at_line(
            kind,
            f.line,
            format!(":{}: {part}", f.tag),
            expected,
            found,
        ));
    }

    pub(super) fn build(mut self, fields: &[Field]) -> Result<Statement, FeedError> {
        let (first, last) = match (fields.first(), fields.last()) {
            (Some(a), Some(b)) => (a, b),
            _ => {
                return Err(FeedError::new(
                    ErrorKind::MissingField,
                    Location::File,
                    "MT940 message",
                    "at least one field",
                    "an empty message",
                ));
            }
        };
        self.st.source = SourceSpan {
            line: first.line,
            end_line: last.end_line,
            start: first.start,
            end: last.end,
            path: None,
        };
        self.st
            .transactions
            .reserve(fields.iter().filter(|f| f.tag == "61").count());
        for f in fields {
            self.field(f)?;
        }
        self.finish(first)
    }

    fn field(&mut self, f: &Field) -> Result<(), FeedError> {
        let tag = f.tag.as_ref();
        let attach = std::mem::replace(&mut self.attach_to_tx, false);
        match tag {
            "20" => self.st.id = non_empty(&self.first_line(f)),
            "21" => self.st.related_reference = non_empty(&self.first_line(f)),
            "25" | "25P" => {
                let account = self.first_line(f);
                self.st.servicer = account
                    .split_once('/')
                    .map(|(bank, _)| bank.trim())
                    .filter(|b| b.len() >= 8 && b.chars().all(|c| c.is_ascii_alphanumeric()))
                    .filter(|b| b.chars().take(4).all(|c| c.is_ascii_alphabetic()))
                    .map(str::to_string);
                self.st.account = account;
            }
            "28" | "28C" => self.st.sequence_number = non_empty(&self.first_line(f)),
            "60F" | "60M" | "60" => {
                let b = self.balance_field(f);
                self.locations.opening = Some(Location::Line { line: f.line });
                self.set_once(f, b, |st| &mut st.opening_balance);
            }
            "62F" | "62M" | "62" => {
                let b = self.balance_field(f);
                self.locations.closing = Some(Location::Line { line: f.line });
                self.set_once(f, b, |st| &mut st.closing_balance);
            }
            "64" => {
                let b = self.balance_field(f);
                self.set_once(f, b, |st| &mut st.closing_available_balance);
            }
            "65" | "65F" => {
                if let Some(b) = self.balance_field(f) {
                    self.st.forward_available_balances.push(b);
                }
            }
            "61" => {
                let tx = self.transaction(f)?;
                self.st.transactions.push(tx);
                self.attach_to_tx = true;
            }
            "86" | "NS" => self.information(f, attach),
            "13" | "13D" => {
                self.mt942 = true;
                self.st.created_at = non_empty(&self.first_line(f));
            }
            "34F" => {
                self.mt942 = true;
                let v = self.first_line(f);
                if let Some(ccy) = v.get(..3) {
                    self.currency_hint.get_or_insert_with(|| ccy.to_string());
                }
            }
            "90D" | "90C" => {
                self.mt942 = true;
                self.control_total(f);
            }
            other => {
                let found = self.first_line(f);
                self.push_flag(
                    f,
                    ErrorKind::Syntax,
                    "tag",
                    "an MT940/MT942 field (20, 21, 25, 28C, 60F/M, 61, 86, 62F/M, 64, 65, 13D, 34F, 90D/C)",
                    &format!(":{other}:{found}"),
                );
            }
        }
        Ok(())
    }

    fn set_once(
        &mut self,
        f: &Field,
        b: Option<Balance>,
        slot: impl Fn(&mut Statement) -> &mut Option<Balance>,
    ) {
        let Some(b) = b else { return };
        if slot(&mut self.st).is_some() {
            self.push_flag(
                f,
                ErrorKind::Syntax,
                "balance",
                "one such balance per statement",
                "a repeated field",
            );
        } else {
            *slot(&mut self.st) = Some(b);
        }
    }

    fn balance_field(&mut self, f: &Field) -> Option<Balance> {
        let mut b = self.balance_value(f)?;
        b.intermediate = f.tag.ends_with('M');
        Some(b)
    }

    fn balance_value(&mut self, f: &Field) -> Option<Balance> {
        let bytes = self.input.bytes.clone();
        let lines = tags::value_lines(&bytes, f);
        let v = trim(lines.first().copied().unwrap_or_default());
        let rest: Vec<&[u8]> = lines
            .iter()
            .skip(1)
            .copied()
            .filter(|l| !trim(l).is_empty())
            .collect();
        if !rest.is_empty() {
            let found = rest
                .iter()
                .map(|l| self.input.decode(l))
                .collect::<Vec<_>>()
                .join(" / ");
            self.push_flag(f, ErrorKind::Syntax, "value", "a single line", &found);
        }
        match balance(v) {
            Ok(b) => Some(b),
            Err(("currency", _, found)) if found.bytes().all(|c| c.is_ascii_digit()) => {
                // Seen in the wild: `:62M:C020315105000,00`, the currency left out. Read the
                // amount, take the statement currency, and flag it (never silently).
                let amount = parse_unsigned(v.get(7..).unwrap_or_default(), b',');
                let date = yymmdd(v.get(1..7).unwrap_or_default()).ok();
                let hint = self.st.opening_balance.as_ref().map(|b| b.currency.clone());
                let found = self.input.decode(v);
                self.push_flag(
                    f,
                    ErrorKind::MissingField,
                    "currency",
                    "a three-letter ISO 4217 code after the date",
                    &found,
                );
                match (amount, date, hint) {
                    (Some(a), Some(d), Some(c)) => Some(Balance {
                        amount: if v.first() == Some(&b'D') { -a } else { a },
                        currency: c,
                        date: d,
                        intermediate: false,
                    }),
                    _ => None,
                }
            }
            Err((part, expected, found)) => {
                let kind = match part {
                    "date" => ErrorKind::InvalidDate,
                    "amount" => ErrorKind::InvalidAmount,
                    "currency" => ErrorKind::UnknownCurrency,
                    _ => ErrorKind::Syntax,
                };
                self.push_flag(f, kind, part, expected, &found);
                None
            }
        }
    }

    fn control_total(&mut self, f: &Field) {
        let v = self.first_line(f);
        let digits = v.bytes().take_while(u8::is_ascii_digit).count();
        let count = v
            .get(..digits)
            .and_then(|c| c.parse::<u32>().ok())
            .unwrap_or(0);
        let ccy = v.get(digits..digits + 3).unwrap_or_default().to_string();
        let amount = v
            .get(digits + 3..)
            .and_then(|a| parse_unsigned(a.as_bytes(), b','));
        match amount {
            Some(a) if digits > 0 => {
                self.currency_hint.get_or_insert_with(|| ccy.clone());
                self.totals.push((f.tag == "90D", count, ccy, a, f.line));
            }
            _ => self.push_flag(
                f,
                ErrorKind::Syntax,
                "control total",
                "number of entries, currency and amount, like 3EUR12,50",
                &v,
            ),
        }
    }
}
