//! The compact MT940/MT942 result: one text buffer per statement, every text field a range
//! into it, and borrowed views ([`TransactionRef`]) that hand out `&str` slices of it.
//!
//! This is what the MT940 parser builds; [`crate::parse_file`] turns it into the owned
//! [`crate::Statement`]/[`crate::Transaction`] model with [`CompactStatement::to_statement`],
//! so the two always hold the same values. Parsing into the compact form does all the work
//! `parse_file` does (every `:61:`/`:86:` field, the `:86:` dialect structure, exact amounts,
//! dates, currency and balance checks, MT942 control totals, fingerprints) but allocates a
//! few buffers per statement instead of about twenty strings per transaction.

use std::borrow::Cow;
use std::ops::Range;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::error::FeedError;
use crate::fingerprint::{self, Fingerprint};
use crate::model::{
    Balance, BalanceCheck, EntryStatus, Extra, Format, ParsedFile, SourceSpan, Statement,
    StatementKind, Transaction,
};

/// A byte range of a statement's text buffer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) start: usize,
    pub(crate) end: usize,
}

impl Span {
    pub(crate) fn new(start: usize, end: usize) -> Self {
        Self { start, end }
    }

    pub(crate) fn range(self) -> Range<usize> {
        self.start..self.end
    }
}

/// Name of an extra field: a name the crate defines, or one taken from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key {
    Static(&'static str),
    Text(Span),
}

/// Lines and byte offsets of a record (a [`SourceSpan`] without an XML path).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Src {
    pub(crate) line: u32,
    pub(crate) end_line: u32,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

impl Src {
    fn span(self) -> SourceSpan {
        SourceSpan {
            line: self.line,
            end_line: self.end_line,
            start: self.start,
            end: self.end,
            path: None,
        }
    }
}

/// One `:61:` with its `:86:`, every text a range of the statement's buffer.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct CompactTx {
    pub(crate) booking_date: Option<NaiveDate>,
    pub(crate) value_date: Option<NaiveDate>,
    pub(crate) amount: Decimal,
    pub(crate) reversal: bool,
    /// `D` or `RC`: the side counted by MT942 `:90D:` (a zero amount keeps its side).
    pub(crate) debit: bool,
    pub(crate) counterparty_name: Option<Span>,
    pub(crate) counterparty_account: Option<Span>,
    pub(crate) counterparty_bank: Option<Span>,
    pub(crate) end_to_end_id: Option<Span>,
    pub(crate) bank_reference: Option<Span>,
    pub(crate) customer_reference: Option<Span>,
    pub(crate) payment_reference: Option<Span>,
    pub(crate) remittance_information: Option<Span>,
    pub(crate) bank_transaction_code: Option<Span>,
    pub(crate) description: Option<Span>,
    /// Index range of this transaction's entries in [`CompactStatement::extras`].
    pub(crate) extras: (usize, usize),
    pub(crate) fingerprint: Fingerprint,
    pub(crate) source: Src,
}

/// One MT940 statement or MT942 report, with all its text in one buffer.
#[derive(Debug, Clone, PartialEq)]
pub struct CompactStatement {
    pub(crate) text: String,
    pub(crate) kind: StatementKind,
    pub(crate) id: Option<Span>,
    pub(crate) related_reference: Option<Span>,
    pub(crate) account: Span,
    pub(crate) servicer: Option<Span>,
    pub(crate) currency: Span,
    pub(crate) sequence_number: Option<Span>,
    pub(crate) created_at: Option<Span>,
    pub(crate) opening_balance: Option<Balance>,
    pub(crate) closing_balance: Option<Balance>,
    pub(crate) closing_available_balance: Option<Balance>,
    pub(crate) forward_available_balances: Vec<Balance>,
    pub(crate) information: Option<Span>,
    pub(crate) transactions: Vec<CompactTx>,
    /// Extra fields of all transactions, in the order they were found (a later entry with the
    /// same name wins, as in [`Transaction::extra`]).
    pub(crate) extras: Vec<(Key, Span)>,
    pub(crate) balance_check: BalanceCheck,
    pub(crate) flags: Vec<FeedError>,
    pub(crate) source: Src,
}

impl CompactStatement {
    pub(crate) fn empty() -> Self {
        Self {
            text: String::new(),
            kind: StatementKind::Statement,
            id: None,
            related_reference: None,
            account: Span::default(),
            servicer: None,
            currency: Span::default(),
            sequence_number: None,
            created_at: None,
            opening_balance: None,
            closing_balance: None,
            closing_available_balance: None,
            forward_available_balances: Vec::new(),
            information: None,
            transactions: Vec::new(),
            extras: Vec::new(),
            // Always replaced in `finish` (a balance chain result, or why there is none).
            balance_check: BalanceCheck::Balanced,
            flags: Vec::new(),
            source: Src::default(),
        }
    }

    pub(crate) fn get(&self, span: Span) -> &str {
        self.text.get(span.range()).unwrap_or_default()
    }

    fn opt(&self, span: Option<Span>) -> Option<&str> {
        span.map(|s| self.get(s))
    }

    fn key(&self, key: Key) -> &str {
        match key {
            Key::Static(k) => k,
            Key::Text(s) => self.get(s),
        }
    }

    /// Statement (MT940) or intraday report (MT942).
    #[must_use]
    pub fn kind(&self) -> StatementKind {
        self.kind
    }

    /// `:20:` transaction reference.
    #[must_use]
    pub fn id(&self) -> Option<&str> {
        self.opt(self.id)
    }

    /// `:21:` related reference.
    #[must_use]
    pub fn related_reference(&self) -> Option<&str> {
        self.opt(self.related_reference)
    }

    /// `:25:` account identification as written.
    #[must_use]
    pub fn account(&self) -> &str {
        self.get(self.account)
    }

    /// The BIC in front of `/` in `:25:`, where given.
    #[must_use]
    pub fn servicer(&self) -> Option<&str> {
        self.opt(self.servicer)
    }

    /// ISO 4217 currency of the account (and of every transaction).
    #[must_use]
    pub fn currency(&self) -> &str {
        self.get(self.currency)
    }

    /// `:28C:` statement/sequence number as written.
    #[must_use]
    pub fn sequence_number(&self) -> Option<&str> {
        self.opt(self.sequence_number)
    }

    /// MT942 `:13D:` creation time as written.
    #[must_use]
    pub fn created_at(&self) -> Option<&str> {
        self.opt(self.created_at)
    }

    /// `:60F:`/`:60M:` opening balance.
    #[must_use]
    pub fn opening_balance(&self) -> Option<&Balance> {
        self.opening_balance.as_ref()
    }

    /// `:62F:`/`:62M:` closing balance.
    #[must_use]
    pub fn closing_balance(&self) -> Option<&Balance> {
        self.closing_balance.as_ref()
    }

    /// `:64:` closing available balance.
    #[must_use]
    pub fn closing_available_balance(&self) -> Option<&Balance> {
        self.closing_available_balance.as_ref()
    }

    /// `:65:` forward available balances.
    #[must_use]
    pub fn forward_available_balances(&self) -> &[Balance] {
        &self.forward_available_balances
    }

    /// Statement-level `:86:` text.
    #[must_use]
    pub fn information(&self) -> Option<&str> {
        self.opt(self.information)
    }

    /// Outcome of the balance check.
    #[must_use]
    pub fn balance_check(&self) -> &BalanceCheck {
        &self.balance_check
    }

    /// Problems kept because of [`crate::CheckMode::Flag`].
    #[must_use]
    pub fn flags(&self) -> &[FeedError] {
        &self.flags
    }

    /// Where the statement sits in the input.
    #[must_use]
    pub fn source(&self) -> SourceSpan {
        self.source.span()
    }

    /// Number of transactions.
    #[must_use]
    pub fn len(&self) -> usize {
        self.transactions.len()
    }

    /// True when the statement has no transactions.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.transactions.is_empty()
    }

    /// The transactions, in file order.
    pub fn transactions(&self) -> impl ExactSizeIterator<Item = TransactionRef<'_>> + '_ {
        self.transactions
            .iter()
            .map(move |tx| TransactionRef { st: self, tx })
    }

    /// The `i`-th transaction.
    #[must_use]
    pub fn transaction(&self, i: usize) -> Option<TransactionRef<'_>> {
        self.transactions
            .get(i)
            .map(|tx| TransactionRef { st: self, tx })
    }

    /// The statement in the owned model (what [`crate::parse_file`] returns).
    #[must_use]
    pub fn to_statement(&self) -> Statement {
        let owned = |s: Option<Span>| s.map(|s| self.get(s).to_string());
        Statement {
            kind: self.kind,
            id: owned(self.id),
            related_reference: owned(self.related_reference),
            account: self.account().to_string(),
            servicer: owned(self.servicer),
            currency: self.currency().to_string(),
            sequence_number: owned(self.sequence_number),
            created_at: owned(self.created_at),
            opening_balance: self.opening_balance.clone(),
            closing_balance: self.closing_balance.clone(),
            closing_available_balance: self.closing_available_balance.clone(),
            forward_available_balances: self.forward_available_balances.clone(),
            information: owned(self.information),
            transactions: self.transactions().map(|t| t.to_transaction()).collect(),
            balance_check: self.balance_check.clone(),
            flags: self.flags.clone(),
            source: self.source.span(),
        }
    }
}

/// A borrowed view of one transaction of a [`CompactStatement`]: the same values as the
/// owned [`Transaction`] built from it, as `&str` slices of the statement's buffer.
#[derive(Debug, Clone, Copy)]
pub struct TransactionRef<'s> {
    st: &'s CompactStatement,
    tx: &'s CompactTx,
}

impl<'s> TransactionRef<'s> {
    fn opt(&self, span: Option<Span>) -> Option<&'s str> {
        span.map(|s| self.st.get(s))
    }

    /// Entry (booking) date of `:61:`.
    #[must_use]
    pub fn booking_date(&self) -> Option<NaiveDate> {
        self.tx.booking_date
    }

    /// Value date of `:61:` (`None` when it is no calendar day; the statement is flagged).
    #[must_use]
    pub fn value_date(&self) -> Option<NaiveDate> {
        self.tx.value_date
    }

    /// The booking date, else the value date.
    #[must_use]
    pub fn date(&self) -> Option<NaiveDate> {
        self.tx.booking_date.or(self.tx.value_date)
    }

    /// Signed exact amount at the currency's scale (credit positive).
    #[must_use]
    pub fn amount(&self) -> Decimal {
        self.tx.amount
    }

    /// Currency: the statement's.
    #[must_use]
    pub fn currency(&self) -> &'s str {
        self.st.currency()
    }

    /// Always booked in MT940/MT942.
    #[must_use]
    pub fn status(&self) -> EntryStatus {
        EntryStatus::Booked
    }

    /// `RC`/`RD`.
    #[must_use]
    pub fn reversal(&self) -> bool {
        self.tx.reversal
    }

    /// Counterparty name from `:86:`.
    #[must_use]
    pub fn counterparty_name(&self) -> Option<&'s str> {
        self.opt(self.tx.counterparty_name)
    }

    /// Counterparty account from `:86:`.
    #[must_use]
    pub fn counterparty_account(&self) -> Option<&'s str> {
        self.opt(self.tx.counterparty_account)
    }

    /// Counterparty bank from `:86:`.
    #[must_use]
    pub fn counterparty_bank(&self) -> Option<&'s str> {
        self.opt(self.tx.counterparty_bank)
    }

    /// End-to-end id from `:86:`.
    #[must_use]
    pub fn end_to_end_id(&self) -> Option<&'s str> {
        self.opt(self.tx.end_to_end_id)
    }

    /// `:61:` reference of the account servicing institution (after `//`).
    #[must_use]
    pub fn bank_reference(&self) -> Option<&'s str> {
        self.opt(self.tx.bank_reference)
    }

    /// `:61:` reference for the account owner.
    #[must_use]
    pub fn customer_reference(&self) -> Option<&'s str> {
        self.opt(self.tx.customer_reference)
    }

    /// Structured creditor reference from `:86:`.
    #[must_use]
    pub fn payment_reference(&self) -> Option<&'s str> {
        self.opt(self.tx.payment_reference)
    }

    /// Remittance information from `:86:`.
    #[must_use]
    pub fn remittance_information(&self) -> Option<&'s str> {
        self.opt(self.tx.remittance_information)
    }

    /// `:61:` transaction type code, e.g. `NTRF`.
    #[must_use]
    pub fn bank_transaction_code(&self) -> Option<&'s str> {
        self.opt(self.tx.bank_transaction_code)
    }

    /// The `:86:` text as the bank wrote it.
    #[must_use]
    pub fn description(&self) -> Option<&'s str> {
        self.opt(self.tx.description)
    }

    /// Dialect fields in the order found; a later entry with the same name replaces an
    /// earlier one in [`Transaction::extra`] (see [`TransactionRef::extra`]).
    pub fn extras(&self) -> impl Iterator<Item = (&'s str, &'s str)> + 's {
        let st = self.st;
        let (from, to) = self.tx.extras;
        st.extras
            .get(from..to)
            .unwrap_or_default()
            .iter()
            .map(move |(k, v)| (st.key(*k), st.get(*v)))
    }

    /// One dialect field by name (`gvc`, `purpose`, `funds_code`…), as in [`Transaction::extra`].
    #[must_use]
    pub fn extra(&self, name: &str) -> Option<&'s str> {
        let mut found = None;
        for (k, v) in self.extras() {
            if k == name {
                found = Some(v);
            }
        }
        found
    }

    /// Stable identity across files (see [`crate::fingerprint`]).
    #[must_use]
    pub fn fingerprint(&self) -> Fingerprint {
        self.tx.fingerprint
    }

    /// Where the transaction sits in the input.
    #[must_use]
    pub fn source(&self) -> SourceSpan {
        self.tx.source.span()
    }

    pub(crate) fn basis(&self) -> fingerprint::Basis<'s> {
        fingerprint::Basis {
            currency: self.currency(),
            amount: self.tx.amount,
            date: self.tx.value_date.or(self.tx.booking_date),
            bank_reference: self.bank_reference(),
            end_to_end_id: self.end_to_end_id(),
            customer_reference: self.customer_reference(),
            counterparty_account: self.counterparty_account(),
            remittance_information: self.remittance_information(),
        }
    }

    /// The transaction in the owned model.
    #[must_use]
    pub fn to_transaction(&self) -> Transaction {
        let owned = |s: Option<&str>| s.map(str::to_string);
        let st = self.st;
        let (from, to) = self.tx.extras;
        let mut extra = Extra::new();
        for (k, v) in st.extras.get(from..to).unwrap_or_default() {
            let key: Cow<'static, str> = match *k {
                Key::Static(k) => Cow::Borrowed(k),
                Key::Text(s) => Cow::Owned(st.get(s).to_string()),
            };
            extra.insert(key, st.get(*v).to_string());
        }
        Transaction {
            booking_date: self.tx.booking_date,
            value_date: self.tx.value_date,
            amount: self.tx.amount,
            currency: self.currency().to_string(),
            status: EntryStatus::Booked,
            reversal: self.tx.reversal,
            counterparty_name: owned(self.counterparty_name()),
            counterparty_account: owned(self.counterparty_account()),
            counterparty_bank: owned(self.counterparty_bank()),
            end_to_end_id: owned(self.end_to_end_id()),
            bank_reference: owned(self.bank_reference()),
            customer_reference: owned(self.customer_reference()),
            payment_reference: owned(self.payment_reference()),
            remittance_information: owned(self.remittance_information()),
            bank_transaction_code: owned(self.bank_transaction_code()),
            description: owned(self.description()),
            details: Vec::new(),
            extra,
            fingerprint: self.tx.fingerprint,
            source: self.tx.source.span(),
        }
    }
}

/// Everything read from one MT940/MT942 file, in the compact form.
#[derive(Debug, Clone, PartialEq)]
pub struct CompactFile {
    /// `mt940` or `mt942`.
    pub format: Format,
    /// Text encoding the file was read with.
    pub encoding: &'static str,
    /// Statements that passed every check (or were kept flagged in flag mode).
    pub statements: Vec<CompactStatement>,
    /// Statements that were rejected, with why.
    pub errors: Vec<FeedError>,
}

impl CompactFile {
    /// Number of transactions over all accepted statements.
    #[must_use]
    pub fn transaction_count(&self) -> usize {
        self.statements.iter().map(CompactStatement::len).sum()
    }

    /// True when no statement was rejected.
    #[must_use]
    pub fn is_clean(&self) -> bool {
        self.errors.is_empty()
    }

    /// The owned model, exactly what [`crate::parse_file`] returns for the same input.
    #[must_use]
    pub fn to_parsed_file(&self, file: &str) -> ParsedFile {
        ParsedFile {
            file: file.to_string(),
            format: self.format.clone(),
            encoding: self.encoding.to_string(),
            statements: self
                .statements
                .iter()
                .map(CompactStatement::to_statement)
                .collect(),
            errors: self.errors.clone(),
        }
    }
}
