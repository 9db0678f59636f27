//! The transaction side of an MT940/MT942 message: `:61:` lines with their `:86:`, the
//! statement checks at the end of the message, and MT942 control totals.

use rust_decimal::Decimal;

use super::compact::{CompactStatement, CompactTx, Key, Span, Src};
use super::info86::{self, Held, Out};
use super::line61::{self, Line61};
use super::statement::Builder;
use super::tags::Field;
use crate::check;
use crate::currency;
use crate::error::{ErrorKind, FeedError, Location};
use crate::model::{BalanceCheck, StatementKind};
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
        let extras = self.st.extras.len();
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
            self.st.extras.push((Key::Static("funds_code"), v));
        }
        if !parsed.supplementary.is_empty() {
            let at = self.st.text.len();
            for (i, s) in parsed.supplementary.iter().enumerate() {
                if i > 0 {
                    self.st.text.push('\n');
                }
                self.push_bytes(s);
            }
            let v = Span::new(at, self.st.text.len());
            self.st
                .extras
                .push((Key::Static("supplementary_details"), v));
        }
        tx.extras.1 = self.st.extras.len();
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
        work.tmp.push_str(self.st.get(a));
        work.tmp.push('\n');
        work.tmp.push_str(self.st.get(b));
        let at = self.st.text.len();
        self.st.text.push_str(&work.tmp);
        Span::new(at, self.st.text.len())
    }

    /// `:86:` (or a bank's `:NS:`): after a `:61:` it describes that transaction, elsewhere
    /// the statement.
    pub(super) fn information(&mut self, f: &Field, attach: bool) {
        let text = self.text(f);
        let blank = self.st.get(text).trim().is_empty();
        let Some(index) = self.st.transactions.len().checked_sub(1).filter(|_| attach) else {
            if !blank {
                self.st.information = Some(match self.st.information {
                    Some(before) => self.concat_lines(before, text),
                    None => text,
                });
            }
            return;
        };
        self.attach_to_tx = true;
        let Some(description) = self.st.transactions.get_mut(index).map(|tx| {
            tx.source.end = f.end;
            tx.source.end_line = f.end_line;
            tx.description.take()
        }) else {
            return;
        };
        if f.tag == "NS" {
            if !blank {
                self.st.extras.push((Key::Static("non_swift"), text));
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
        let trimmed_len = self.st.get(full).trim_end().len();
        let has_text = !self.st.get(full).trim_start().is_empty();
        let extras_end = self.st.extras.len();
        if let Some(tx) = self.st.transactions.get_mut(index) {
            tx.remittance_information = found.remittance;
            tx.counterparty_name = found.counterparty_name;
            tx.counterparty_account = found.counterparty_account;
            tx.counterparty_bank = found.counterparty_bank;
            tx.end_to_end_id = found.end_to_end_id;
            tx.payment_reference = found.payment_reference;
            // The text as the bank wrote it; only trailing blank space is dropped.
            tx.description = has_text.then(|| Span::new(full.start, full.start + trimmed_len));
            tx.extras.1 = extras_end;
        }
    }

    /// Put back a description taken out, and extend the transaction's extra fields.
    fn restore(&mut self, index: usize, description: Option<Span>) {
        let extras_end = self.st.extras.len();
        if let Some(tx) = self.st.transactions.get_mut(index) {
            tx.description = description;
            tx.extras.1 = extras_end;
        }
    }

    /// Run the `:86:` dialects over the text `full` of the buffer.
    fn interpret(&mut self, full: Span) -> info86::Found {
        let work = &mut *self.work;
        work.full.clear();
        work.full.push_str(self.st.get(full));
        let full_held = Held {
            text: &work.full,
            base: full.start,
        };
        let joined = if work.full.contains('\n') {
            work.joined.clear();
            work.joined.extend(work.full.split('\n'));
            let base = self.st.text.len();
            self.st.text.push_str(&work.joined);
            Held {
                text: &work.joined,
                base,
            }
        } else {
            full_held
        };
        let mut out = Out {
            text: &mut self.st.text,
            extras: &mut self.st.extras,
        };
        info86::parse_into(full_held, joined, &mut out, &mut work.scratch)
    }

    pub(super) fn finish(mut self, first: &Field) -> Result<CompactStatement, FeedError> {
        if self.st.account().trim().is_empty() {
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
        let currency = self
            .st
            .opening_balance
            .as_ref()
            .or(self.st.closing_balance.as_ref())
            .map(|b| b.currency.clone())
            .or(self.currency_hint.clone());
        let Some(currency) = currency else {
            return Err(FeedError::at_line(
                ErrorKind::MissingField,
                first.line,
                ":60F: opening balance",
                "a balance (or MT942 :34F:/:90D:) giving the account currency",
                "none in this message",
            ));
        };
        self.st.currency = self.push_str(&currency);
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
        let mut st = self.st;
        st.flags = self.flags;
        Ok(checked(st, &self.locations))
    }

    /// MT942 `:90D:`/`:90C:`: number and sum of debit and credit entries.
    fn check_totals(&mut self) {
        for (debit, count, ccy, total, line) in std::mem::take(&mut self.totals) {
            let (n, sum) = self
                .st
                .transactions
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
fn checked(mut st: CompactStatement, locations: &check::BalanceLocations) -> CompactStatement {
    let here = Location::Line {
        line: st.source.line,
    };
    let mut flags = std::mem::take(&mut st.flags);
    let currency = st.text.get(st.currency.range()).unwrap_or_default();
    check::check_currencies(
        currency,
        st.opening_balance.as_ref(),
        st.closing_balance.as_ref(),
        &here,
        &mut flags,
    );
    // Every MT940 transaction is in the statement currency.
    let units = currency::minor_units(currency).flatten();
    for tx in &mut st.transactions {
        tx.amount = canonical_units(tx.amount, units);
    }
    check::canonical_balances(
        &mut st.opening_balance,
        &mut st.closing_balance,
        &mut st.closing_available_balance,
        &mut st.forward_available_balances,
    );
    let at = locations.closing.clone().unwrap_or(here);
    let transactions = &st.transactions;
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
    st
}
