//! The transaction side of an MT940/MT942 message: `:61:` lines with their `:86:`, the
//! statement checks at the end of the message, and MT942 control totals.

use rust_decimal::Decimal;

use super::info86;
use super::line61::{self, Line61};
use super::statement::Builder;
use super::tags::Field;
use crate::check;
use crate::error::{ErrorKind, FeedError};
use crate::model::{BalanceCheck, SourceSpan, Statement, StatementKind, Transaction};

impl Builder<'_, '_> {
    pub(super) fn transaction(&mut self, f: &Field) -> Result<Transaction, FeedError> {
        let raw = self.input.bytes.get(f.start..f.end).unwrap_or_default();
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
        let mut tx = Transaction::new(parsed.signed_amount(), String::new());
        self.debit_marks.push(matches!(
            parsed.mark,
            line61::Mark::Debit | line61::Mark::ReversalOfCredit
        ));
        tx.source = SourceSpan {
            line: f.line,
            end_line: f.end_line,
            start: f.start.saturating_sub(4),
            end: f.end,
            path: None,
        };
        self.dates(f, &parsed, &mut tx);
        tx.reversal = matches!(
            parsed.mark,
            line61::Mark::ReversalOfCredit | line61::Mark::ReversalOfDebit
        );
        tx.bank_transaction_code = self.decoded(parsed.type_code);
        tx.customer_reference = self.decoded(parsed.customer_reference);
        tx.bank_reference = parsed.bank_reference.and_then(|b| self.decoded(b));
        if let Some(code) = parsed.funds_code {
            tx.extra.insert("funds_code".into(), code.to_string());
        }
        let supplementary: Vec<String> = parsed
            .supplementary
            .iter()
            .map(|s| self.input.decode(s))
            .collect();
        if !supplementary.is_empty() {
            tx.extra
                .insert("supplementary_details".into(), supplementary.join("\n"));
        }
        Ok(tx)
    }

    /// Decoded, trimmed text; `None` when empty.
    fn decoded(&self, bytes: &[u8]) -> Option<String> {
        let t = crate::text::trim(bytes);
        (!t.is_empty()).then(|| self.input.decode(t))
    }

    fn dates(&mut self, f: &Field, parsed: &Line61<'_>, tx: &mut Transaction) {
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

    /// `:86:` (or a bank's `:NS:`): after a `:61:` it describes that transaction, elsewhere
    /// the statement.
    pub(super) fn information(&mut self, f: &Field, attach: bool) {
        let text = self.text(f);
        let Some(tx) = self.st.transactions.last_mut().filter(|_| attach) else {
            if !text.trim().is_empty() {
                let info = self.st.information.get_or_insert_with(String::new);
                if !info.is_empty() {
                    info.push('\n');
                }
                info.push_str(&text);
            }
            return;
        };
        self.attach_to_tx = true;
        tx.source.end = f.end;
        tx.source.end_line = f.end_line;
        if f.tag == "NS" {
            if !text.trim().is_empty() {
                tx.extra.insert("non_swift".into(), text.clone());
            }
            if tx.description.is_some() {
                return;
            }
        }
        // Several consecutive :86: (Rabobank, Danske Bank) form one text.
        let full = match tx.description.take() {
            Some(before) if f.tag == "86" => format!("{before}\n{text}"),
            _ => text,
        };
        let info = info86::parse(&full);
        tx.remittance_information = info.remittance;
        tx.counterparty_name = info.counterparty_name;
        tx.counterparty_account = info.counterparty_account;
        tx.counterparty_bank = info.counterparty_bank;
        tx.end_to_end_id = info.end_to_end_id;
        tx.payment_reference = info.payment_reference;
        for (k, v) in info.extra {
            tx.extra.insert(k, v);
        }
        // The text as the bank wrote it; only trailing blank space is dropped.
        let mut full = full;
        full.truncate(full.trim_end().len());
        tx.description = (!full.trim_start().is_empty()).then_some(full);
    }

    pub(super) fn finish(mut self, first: &Field) -> Result<Statement, FeedError> {
        if self.st.account.trim().is_empty() {
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
        self.st.currency.clone_from(&currency);
        for tx in &mut self.st.transactions {
            tx.currency.clone_from(&currency);
        }
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
        Ok(check::finish(self.st, &self.locations))
    }

    /// MT942 `:90D:`/`:90C:`: number and sum of debit and credit entries.
    fn check_totals(&mut self) {
        for (debit, count, ccy, total, line) in std::mem::take(&mut self.totals) {
            let (n, sum) = self
                .st
                .transactions
                .iter()
                .zip(&self.debit_marks)
                .filter(|(_, is_debit)| **is_debit == debit)
                .fold((0u32, Decimal::ZERO), |(n, s), (t, _)| {
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
