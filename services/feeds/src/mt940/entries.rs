//! The transaction side of an MT940/MT942 message: `:61:` lines with their `:86:`, the
//! statement checks at the end of the message, and MT942 control totals.

use rust_decimal::Decimal;

use super::compact::{Arena, CompactTx, Key, Span, Src, Stmt};
use super::info86::{self, Held, Out};
use super::line61::{self, Line61};
use super::statement::Builder;
use super::tags::Field;
use crate::check;
use crate::currency;
use crate::error::{ErrorKind, FeedError, Location};
use crate::model::{BalanceCheck, StatementKind};
use crate::text::trim_offsets;
use crate::values::canonical_units;

impl Builder<'_, '_> {
    pub(super) fn transaction(&mut self, f: &Field) -> Result<CompactTx, FeedError> {
        let input = self.input;
        let raw = input.bytes.get(f.start..f.end).unwrap_or_default();
        let parsed = line61::parse(raw).map_err(|p| {
            let kind = match p.part {
                "value date" => ErrorKind::InvalidDate,
                "amount" => ErrorKind::InvalidAmount,
                _ => ErrorKind::Syntax,
            };
            FeedError::at_line(
                kind,
                f.line,
                format!(":61: {}", p.part),
                p.expected,
                p.found,
            )
        })?;
        let extras = self.arena.extras.len();
        let mut tx = CompactTx {
            amount: parsed.signed_amount(),
            debit: matches!(
                parsed.mark,
                line61::Mark::Debit | line61::Mark::ReversalOfCredit
            ),
            reversal: matches!(
                parsed.mark,
                line61::Mark::ReversalOfCredit | line61::Mark::ReversalOfDebit
            ),
            source: Src {
                line: f.line,
                end_line: f.end_line,
                start: f.start.saturating_sub(4),
                end: f.end,
            },
            extras: (extras, extras),
            ..CompactTx::default()
        };
        self.dates(f, &parsed, &mut tx);
        tx.bank_transaction_code = self.decoded(parsed.type_code);
        tx.customer_reference = self.decoded(parsed.customer_reference);
        tx.bank_reference = parsed.bank_reference.and_then(|b| self.decoded(b));
        if let Some(code) = parsed.funds_code {
            let mut utf8 = [0u8; 4];
            let v = self.push_str(code.encode_utf8(&mut utf8));
            self.arena.extras.push((Key::Static("funds_code"), v));
        }
        if !parsed.supplementary.is_empty() {
            let at = self.arena.text.len();
            for (i, s) in parsed.supplementary.iter().enumerate() {
                if i > 0 {
                    self.arena.text.push('\n');
                }
                self.push_bytes(s);
            }
            let v = Span::new(at, self.arena.text.len());
            self.arena
                .extras
                .push((Key::Static("supplementary_details"), v));
        }
        tx.extras.1 = self.arena.extras.len();
        Ok(tx)
    }

    /// Decoded, trimmed text; `None` when empty.
    fn decoded(&mut self, bytes: &[u8]) -> Option<Span> {
        let t = crate::text::trim(bytes);
        (!t.is_empty()).then(|| self.push_bytes(t))
    }

    fn dates(&mut self, f: &Field, parsed: &Line61<'_>, tx: &mut CompactTx) {
        match parsed.value_date {
            Ok(d) => tx.value_date = Some(d),
            Err(_) => self.push_flag(
                f,
                ErrorKind::InvalidDate,
                "value date",
                "an existing calendar day (YYMMDD)",
                &String::from_utf8_lossy(parsed.value_date_raw),
            ),
        }
        match parsed.entry_date {
            Some(Ok(d)) => tx.booking_date = Some(d),
            Some(Err(_)) => self.push_flag(
                f,
                ErrorKind::InvalidDate,
                "entry date",
                "an existing calendar day (MMDD)",
                &String::from_utf8_lossy(parsed.entry_date_raw),
            ),
            None => {}
        }
    }

    /// Append `a` + `\n` + `b` (texts already in the buffer) as a new text.
    fn concat_lines(&mut self, a: Span, b: Span) -> Span {
        let work = &mut *self.work;
        work.tmp.clear();
        work.tmp.push_str(self.arena.get(a));
        work.tmp.push('\n');
        work.tmp.push_str(self.arena.get(b));
        let at = self.arena.text.len();
        self.arena.text.push_str(&work.tmp);
        Span::new(at, self.arena.text.len())
    }

    /// `:86:` (or a bank's `:NS:`): after a `:61:` it describes that transaction, elsewhere
    /// the statement.
    pub(super) fn information(&mut self, f: &Field, attach: bool) {
        let text = self.text(f);
        let (from, to) = trim_offsets(self.arena.get(text));
        let blank = from >= to;
        let (first_tx, end_tx) = self.st.txs;
        let Some(index) = end_tx.checked_sub(1).filter(|&i| attach && i >= first_tx) else {
            if !blank {
                self.st.information = Some(match self.st.information {
                    Some(before) => self.concat_lines(before, text),
                    None => text,
                });
            }
            return;
        };
        self.attach_to_tx = true;
        let Some(description) = self.arena.txs.get_mut(index).map(|tx| {
            tx.source.end = f.end;
            tx.source.end_line = f.end_line;
            tx.description.take()
        }) else {
            return;
        };
        if f.tag == "NS" {
            if !blank {
                self.arena.extras.push((Key::Static("non_swift"), text));
            }
            if description.is_some() {
                self.restore(index, description);
                return;
            }
        }
        // Several consecutive :86: (Rabobank, Danske Bank) form one text.
        let full = match description {
            Some(before) if f.tag == "86" => self.concat_lines(before, text),
            _ => text,
        };
        let found = self.interpret(full);
        let (from, to) = trim_offsets(self.arena.get(full));
        // `from < to` unless blank; `to` is where `trim_end` would cut.
        let has_text = from < to;
        let trimmed_len = if has_text { to } else { 0 };
        let extras_end = self.arena.extras.len();
        if let Some(tx) = self.arena.txs.get_mut(index) {
            tx.remittance_information = found.remittance;
            tx.counterparty_name = found.counterparty_name;
            tx.counterparty_account = found.counterparty_account;
            tx.counterparty_bank = found.counterparty_bank;
            tx.end_to_end_id = found.end_to_end_id;
            tx.payment_reference = found.payment_reference;
            // The text as the bank wrote it; only trailing blank space is dropped.
            tx.description = has_text.then(|| Span::new(full.start(), full.start() + trimmed_len));
            tx.extras.1 = extras_end;
        }
    }

    /// Put back a description taken out, and extend the transaction's extra fields.
    fn restore(&mut self, index: usize, description: Option<Span>) {
        let extras_end = self.arena.extras.len();
        if let Some(tx) = self.arena.txs.get_mut(index) {
            tx.description = description;
            tx.extras.1 = extras_end;
        }
    }

    /// Run the `:86:` dialects over the text `full` of the buffer.
    fn interpret(&mut self, full: Span) -> info86::Found {
        let work = &mut *self.work;
        // The text without its line breaks (subfields wrap at any character); it is added to
        // the buffer only when it differs from the text.
        let mut rest = self.arena.get(full);
        work.joined.clear();
        work.joined.reserve(rest.len());
        let mut wrapped = false;
        while let Some(i) = memchr::memchr(b'\n', rest.as_bytes()) {
            work.joined.push_str(rest.get(..i).unwrap_or_default());
            rest = rest.get(i + 1..).unwrap_or_default();
            wrapped = true;
        }
        work.joined.push_str(rest);
        let base = if wrapped {
            let base = self.arena.text.len();
            self.arena.text.push_str(&work.joined);
            base
        } else {
            full.start()
        };
        let joined = Held {
            text: &work.joined,
            base,
        };
        let mut out = Out {
            text: &mut self.arena.text,
            extras: &mut self.arena.extras,
        };
        info86::parse_into(full, joined, &mut out, &mut work.scratch)
    }

    pub(super) fn finish(mut self, first: &Field) -> Result<(), FeedError> {
        // Spans address at most 4 GiB of text (a compact file shares one buffer; `parse_file`
        // uses one per statement).
        if self.arena.text.len() > super::compact::MAX_TEXT {
            return Err(FeedError::at_line(
                ErrorKind::Unsupported,
                first.line,
                "statement size",
                "at most 4 GiB of text per file in the compact form (parse_file has no such limit per file)",
                "more",
            ));
        }
        if self.arena.get(self.st.account).trim().is_empty() {
            return Err(FeedError::at_line(
                ErrorKind::MissingField,
                first.line,
                ":25: account identification",
                "a :25: field with the account number",
                "none in this message",
            ));
        }
        if self.st.id.is_none() {
            self.flags.push(FeedError::at_line(
                ErrorKind::MissingField,
                first.line,
                ":20: transaction reference",
                "a message starting with :20:",
                format!(":{}:", first.tag),
            ));
        }
        if self.mt942 {
            self.st.kind = StatementKind::IntradayReport;
        }
        let balance_currency = self
            .st
            .opening_balance
            .or(self.st.closing_balance)
            .map(|b| b.currency);
        let currency = match (&balance_currency, &self.currency_hint) {
            (Some(c), _) => std::str::from_utf8(c).ok(),
            (None, Some(hint)) => Some(hint.as_str()),
            (None, None) => None,
        };
        let Some(currency) = currency else {
            return Err(FeedError::at_line(
                ErrorKind::MissingField,
                first.line,
                ":60F: opening balance",
                "a balance (or MT942 :34F:/:90D:) giving the account currency",
                "none in this message",
            ));
        };
        let at = self.arena.text.len();
        self.arena.text.push_str(currency);
        self.st.currency = Span::new(at, self.arena.text.len());
        match (&self.st.opening_balance, &self.st.closing_balance) {
            (Some(_), Some(_)) => {}
            _ if self.mt942 => {
                self.st.balance_check = BalanceCheck::NotChecked {
                    reason: "an MT942 intraday report carries no balance chain".into(),
                };
            }
            (open, _) => {
                let missing = if open.is_none() {
                    ":60F: opening balance"
                } else {
                    ":62F: closing balance"
                };
                self.flags.push(FeedError::at_line(
                    ErrorKind::MissingField,
                    first.line,
                    missing,
                    "both an opening and a closing balance in an MT940 statement",
                    "none in this message",
                ));
                self.st.balance_check = BalanceCheck::NotChecked {
                    reason: format!("{missing} missing"),
                };
            }
        }
        self.check_totals();
        self.st.flags = std::mem::take(&mut self.flags);
        checked(self.st, self.arena, &self.locations);
        Ok(())
    }

    /// MT942 `:90D:`/`:90C:`: number and sum of debit and credit entries.
    fn check_totals(&mut self) {
        for (debit, count, ccy, total, line) in std::mem::take(&mut self.totals) {
            let (n, sum) = self
                .arena
                .txs
                .get(self.st.txs.0..self.st.txs.1)
                .unwrap_or_default()
                .iter()
                .filter(|t| t.debit == debit)
                .fold((0u32, Decimal::ZERO), |(n, s), t| {
                    (n + 1, s.checked_add(t.amount.abs()).unwrap_or(Decimal::MAX))
                });
            if n != count || sum != total {
                let tag = if debit { "90D" } else { "90C" };
                self.flags.push(FeedError::at_line(
                    ErrorKind::ControlTotalMismatch,
                    line,
                    format!(":{tag}: number and sum of entries"),
                    format!("{count} entries totalling {total} {ccy}"),
                    format!("{n} entries totalling {sum} {ccy}"),
                ));
            }
        }
    }
}

/// The checks every statement goes through ([`check::finish`]), for the compact form: known
/// currencies, amounts at the currency's scale, opening balance + transactions = closing.
fn checked(st: &mut Stmt, arena: &mut Arena, locations: &check::BalanceLocations) {
    let here = Location::Line {
        line: st.source.line,
    };
    let mut flags = std::mem::take(&mut st.flags);
    let currency = arena.text.get(st.currency.range()).unwrap_or_default();
    let transactions = arena.txs.get_mut(st.txs.0..st.txs.1).unwrap_or_default();
    check::check_currencies(
        currency,
        st.opening_balance.as_ref(),
        st.closing_balance.as_ref(),
        &here,
        &mut flags,
    );
    // Every MT940 transaction is in the statement currency.
    let units = currency::minor_units(currency).flatten();
    for tx in transactions.iter_mut() {
        tx.amount = canonical_units(tx.amount, units);
    }
    check::canonical_balances(
        &mut st.opening_balance,
        &mut st.closing_balance,
        &mut st.closing_available_balance,
        &mut st.forward_available_balances,
    );
    let at = locations.closing.clone().unwrap_or(here);
    let transactions = &*transactions;
    let booked = |ccy: &str| {
        if ccy == currency {
            transactions
                .iter()
                .try_fold(Decimal::ZERO, |acc, t| acc.checked_add(t.amount))
        } else {
            Some(Decimal::ZERO)
        }
    };
    if let Some(result) = check::balance_chain(
        st.opening_balance.as_ref(),
        st.closing_balance.as_ref(),
        booked,
        at,
        &mut flags,
    ) {
        st.balance_check = result;
    }
    st.flags = flags;
}
