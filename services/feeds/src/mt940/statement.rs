//! Build one statement from the fields of one MT940/MT942 message, into the compact form
//! (every text appended once to the statement's buffer, see [`super::compact`]).

use rust_decimal::Decimal;

use super::balance;
use super::compact::{Arena, Bal, Span, Src, Stmt};
use super::info86;
use super::tags::{self, Field};
use crate::check::BalanceLocations;
use crate::error::{ErrorKind, FeedError, Location};
use crate::text::{Input, find_line_break, trim, trim_bounds};
use crate::values::{parse_unsigned, yymmdd};

/// Where the first line of a field's value ends (a one-line field needs no search).
fn line_end(f: &Field, raw: &[u8]) -> usize {
    if f.end_line == f.line {
        raw.len()
    } else {
        find_line_break(raw).unwrap_or(raw.len())
    }
}

/// Buffers reused over the messages of a file, so a transaction allocates nothing of its own.
#[derive(Debug, Default)]
pub(super) struct Work {
    /// The `:86:` text being interpreted, without its line breaks.
    pub(super) joined: String,
    /// Decoding and concatenation.
    pub(super) tmp: String,
    pub(super) scratch: info86::Scratch,
}

/// Collects the fields of one message.
pub(super) struct Builder<'i, 'a> {
    pub(super) input: &'i Input<'a>,
    /// The whole input as text when it is UTF-8 (validated once, sliced at ASCII delimiters).
    pub(super) utf8: Option<&'i str>,
    pub(super) work: &'i mut Work,
    /// The file's buffers, shared by its statements.
    pub(super) arena: &'i mut Arena,
    /// The statement being built (in place: it is large, and moving it costs).
    pub(super) st: &'i mut Stmt,
    pub(super) flags: Vec<FeedError>,
    pub(super) locations: BalanceLocations,
    /// Whether a following `:86:`/`:NS:` belongs to the last transaction.
    pub(super) attach_to_tx: bool,
    pub(super) mt942: bool,
    pub(super) currency_hint: Option<String>,
    pub(super) totals: Vec<(bool, u32, String, Decimal, u32)>,
}

impl<'i, 'a> Builder<'i, 'a> {
    pub(super) fn new(
        input: &'i Input<'a>,
        utf8: Option<&'i str>,
        work: &'i mut Work,
        arena: &'i mut Arena,
        st: &'i mut Stmt,
    ) -> Self {
        *st = Stmt::empty(arena.txs.len());
        Self {
            input,
            utf8,
            work,
            arena,
            st,
            flags: Vec::new(),
            locations: BalanceLocations::default(),
            attach_to_tx: false,
            mt942: false,
            currency_hint: None,
            totals: Vec::new(),
        }
    }

    /// Append the decoded input bytes `start..end` to the statement's text.
    pub(super) fn push_input(&mut self, start: usize, end: usize) -> Span {
        let at = self.arena.text.len();
        match self.utf8.and_then(|t| t.get(start..end)) {
            Some(s) => self.arena.text.push_str(s),
            None => {
                let input = self.input;
                let raw = input.bytes.get(start..end).unwrap_or_default();
                input.decode_into(raw, &mut self.arena.text);
            }
        }
        Span::new(at, self.arena.text.len())
    }

    /// Append decoded bytes (a part of a field) to the statement's text.
    pub(super) fn push_bytes(&mut self, bytes: &[u8]) -> Span {
        let at = self.arena.text.len();
        match self.input_str(bytes) {
            Some(s) => self.arena.text.push_str(s),
            None => self.input.decode_into(bytes, &mut self.arena.text),
        }
        Span::new(at, self.arena.text.len())
    }

    /// `bytes` as text without decoding or validating again, when the input is UTF-8 and
    /// `bytes` is a slice of it (found by its address: the same memory, so the same offset in
    /// the validated text).
    fn input_str(&self, bytes: &[u8]) -> Option<&'i str> {
        let text = self.utf8?;
        let base = self.input.bytes.as_ptr() as usize;
        let start = (bytes.as_ptr() as usize).checked_sub(base)?;
        // `get` also checks that the range lies inside and on character boundaries.
        text.get(start..start.checked_add(bytes.len())?)
            .filter(|_| text.as_ptr() as usize == base)
    }

    /// Append a text to the statement's text.
    pub(super) fn push_str(&mut self, s: &str) -> Span {
        let at = self.arena.text.len();
        self.arena.text.push_str(s);
        Span::new(at, self.arena.text.len())
    }

    /// The span trimmed (like `str::trim`), `None` when nothing is left.
    pub(super) fn non_empty(&self, span: Span) -> Option<Span> {
        let (from, to) = crate::text::trim_offsets(self.arena.get(span));
        (from < to).then(|| Span::new(span.start() + from, span.start() + to))
    }

    /// The value with `\n` line breaks, trailing blank lines dropped (decoded in one go).
    pub(super) fn text(&mut self, f: &Field) -> Span {
        let at = self.arena.text.len();
        let work = &mut *self.work;
        let source: &str = match self.utf8.and_then(|t| t.get(f.start..f.end)) {
            Some(s) => s,
            None => {
                work.tmp.clear();
                let raw = self.input.bytes.get(f.start..f.end).unwrap_or_default();
                self.input.decode_into(raw, &mut work.tmp);
                &work.tmp
            }
        };
        // One line: nothing to convert or drop.
        if f.end_line == f.line {
            self.arena.text.push_str(source);
            return Span::new(at, self.arena.text.len());
        }
        // `\r\n` and a lone `\r` become `\n`.
        let mut rest = source;
        while let Some(i) = memchr::memchr(b'\r', rest.as_bytes()) {
            self.arena.text.push_str(rest.get(..i).unwrap_or_default());
            rest = rest.get(i + 1..).unwrap_or_default();
            if !rest.starts_with('\n') {
                self.arena.text.push('\n');
            }
        }
        self.arena.text.push_str(rest);
        loop {
            let t = self.arena.text.get(at..).unwrap_or_default();
            // A last line ending in a visible character is not blank (no search needed).
            if t.chars().next_back().is_some_and(|c| !c.is_whitespace()) {
                break;
            }
            match t.rfind('\n') {
                Some(pos) if t.get(pos + 1..).is_some_and(|tail| tail.trim().is_empty()) => {
                    self.arena.text.truncate(at + pos);
                }
                _ => break,
            }
        }
        Span::new(at, self.arena.text.len())
    }

    /// The first line of a one-line field; text on further lines is flagged, never dropped
    /// silently.
    pub(super) fn first_line(&mut self, f: &Field) -> Span {
        let input = self.input;
        let raw = input.bytes.get(f.start..f.end).unwrap_or_default();
        let cut = line_end(f, raw);
        let (from, to) = trim_bounds(raw.get(..cut).unwrap_or_default());
        let first = self.push_input(f.start + from, f.start + to);
        let rest = raw.get(cut..).unwrap_or_default();
        if !trim(rest).is_empty() {
            let extra: Vec<String> = tags::value_lines(&input.bytes, f)
                .iter()
                .skip(1)
                .filter(|l| !trim(l).is_empty())
                .map(|l| input.decode(l))
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
        }
        first
    }

    /// The first line as an owned string (rare fields).
    fn first_line_string(&mut self, f: &Field) -> String {
        let span = self.first_line(f);
        self.arena.get(span).to_string()
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

    pub(super) fn build(mut self, fields: &[Field]) -> Result<(), FeedError> {
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
        self.st.source = Src {
            line: first.line,
            end_line: last.end_line,
            start: first.start,
            end: last.end,
        };
        for f in fields {
            self.field(f)?;
        }
        self.finish(first)
    }

    fn field(&mut self, f: &Field) -> Result<(), FeedError> {
        let attach = std::mem::replace(&mut self.attach_to_tx, false);
        // Byte patterns: compared inline, without string comparison calls.
        match f.tag.as_bytes() {
            b"61" => {
                let tx = self.transaction(f)?;
                self.arena.txs.push(tx);
                self.st.txs.1 = self.arena.txs.len();
                self.attach_to_tx = true;
            }
            b"86" | b"NS" => self.information(f, attach),
            b"20" => {
                let line = self.first_line(f);
                self.st.id = self.non_empty(line);
            }
            b"21" => {
                let line = self.first_line(f);
                self.st.related_reference = self.non_empty(line);
            }
            b"25" | b"25P" => {
                let account = self.first_line(f);
                self.st.servicer = self.servicer(account);
                self.st.account = account;
            }
            b"28" | b"28C" => {
                let line = self.first_line(f);
                self.st.sequence_number = self.non_empty(line);
            }
            b"60F" | b"60M" | b"60" => {
                let b = self.balance_field(f);
                self.locations.opening = Some(Location::Line { line: f.line });
                self.set_once(f, b, |st| &mut st.opening_balance);
            }
            b"62F" | b"62M" | b"62" => {
                let b = self.balance_field(f);
                self.locations.closing = Some(Location::Line { line: f.line });
                self.set_once(f, b, |st| &mut st.closing_balance);
            }
            b"64" => {
                let b = self.balance_field(f);
                self.set_once(f, b, |st| &mut st.closing_available_balance);
            }
            b"65" | b"65F" => {
                if let Some(b) = self.balance_field(f) {
                    self.st.forward_available_balances.push(b);
                }
            }
            b"13" | b"13D" => {
                self.mt942 = true;
                let line = self.first_line(f);
                self.st.created_at = self.non_empty(line);
            }
            b"34F" => {
                self.mt942 = true;
                let v = self.first_line_string(f);
                if let Some(ccy) = v.get(..3) {
                    self.currency_hint.get_or_insert_with(|| ccy.to_string());
                }
            }
            b"90D" | b"90C" => {
                self.mt942 = true;
                self.control_total(f);
            }
            _ => {
                let other = &f.tag;
                let found = self.first_line_string(f);
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

    /// The BIC before `/` in `:25:` (`BIC/account`), when it looks like one.
    fn servicer(&self, account: Span) -> Option<Span> {
        let text = self.arena.get(account);
        let (bank, _) = text.split_once('/')?;
        let t = bank.trim();
        let start = account.start() + (bank.len() - bank.trim_start().len());
        let bic = t.len() >= 8
            && t.chars().all(|c| c.is_ascii_alphanumeric())
            && t.chars().take(4).all(|c| c.is_ascii_alphabetic());
        bic.then(|| Span::new(start, start + t.len()))
    }

    fn set_once(
        &mut self,
        f: &Field,
        b: Option<Bal>,
        slot: impl Fn(&mut Stmt) -> &mut Option<Bal>,
    ) {
        let Some(b) = b else { return };
        if slot(self.st).is_some() {
            self.push_flag(
                f,
                ErrorKind::Syntax,
                "balance",
                "one such balance per statement",
                "a repeated field",
            );
        } else {
            *slot(self.st) = Some(b);
        }
    }

    fn balance_field(&mut self, f: &Field) -> Option<Bal> {
        let mut b = self.balance_value(f)?;
        b.intermediate = f.tag.ends_with('M');
        Some(b)
    }

    fn balance_value(&mut self, f: &Field) -> Option<Bal> {
        let input = self.input;
        let raw = input.bytes.get(f.start..f.end).unwrap_or_default();
        let cut = line_end(f, raw);
        let v = trim(raw.get(..cut).unwrap_or_default());
        if !trim(raw.get(cut..).unwrap_or_default()).is_empty() {
            let rest: Vec<&[u8]> = tags::value_lines(&input.bytes, f)
                .into_iter()
                .skip(1)
                .filter(|l| !trim(l).is_empty())
                .collect();
            if !rest.is_empty() {
                let found = rest
                    .iter()
                    .map(|l| input.decode(l))
                    .collect::<Vec<_>>()
                    .join(" / ");
                self.push_flag(f, ErrorKind::Syntax, "value", "a single line", &found);
            }
        }
        match balance(v) {
            Ok(b) => Some(b),
            Err(("currency", _, found)) if found.bytes().all(|c| c.is_ascii_digit()) => {
                // Seen in the wild: `:62M:C020315105000,00`, the currency left out. Read the
                // amount, take the statement currency, and flag it (never silently).
                let amount = parse_unsigned(v.get(7..).unwrap_or_default(), b',');
                let date = yymmdd(v.get(1..7).unwrap_or_default()).ok();
                let hint = self.st.opening_balance.map(|b| b.currency);
                let found = input.decode(v);
                self.push_flag(
                    f,
                    ErrorKind::MissingField,
                    "currency",
                    "a three-letter ISO 4217 code after the date",
                    &found,
                );
                match (amount, date, hint) {
                    (Some(a), Some(d), Some(c)) => Some(Bal {
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
        let v = self.first_line_string(f);
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
