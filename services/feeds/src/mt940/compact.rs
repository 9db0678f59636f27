//! The compact MT940/MT942 result: one text buffer, one transaction list and one list of extra
//! fields for the whole file ([`Arena`]), every text field a range of the buffer, and borrowed
//! views ([`StatementRef`], [`TransactionRef`]) that hand out `&str` slices of it.
//!
//! This is what the MT940 parser builds; [`crate::parse_file`] turns each statement into the
//! owned [`crate::Statement`]/[`crate::Transaction`] model with [`StatementRef::to_statement`]
//! as soon as it is built (reusing the buffers for the next one), so the two always hold the
//! same values. Parsing into the compact form does all the work `parse_file` does (every
//! `:61:`/`:86:` field, the `:86:` dialect structure, exact amounts, dates, currency and
//! balance checks, MT942 control totals) without any allocation per statement or transaction
//! (the buffers grow; flags and error texts are the exception). Fingerprints are the one thing
//! left for later: the parse keeps what they need (the spans of the basis fields), and
//! [`CompactFile::fingerprints`] computes those of the whole file on first use (occurrence
//! numbers depend on the earlier transactions of the file), so a caller that never asks for
//! one does not pay the two SHA-256 per transaction.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::OnceLock;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::check::BalanceValue;
use crate::error::FeedError;
use crate::fingerprint::{self, Fingerprint};
use crate::model::{
    Balance, BalanceCheck, EntryStatus, Extra, Format, ParsedFile, SourceSpan, Statement,
    StatementKind, Transaction,
};

/// A byte range of the file's text buffer, as `u32` (half the size of `usize` offsets; the
/// buffer is limited to [`MAX_TEXT`] bytes, checked for every statement).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Span {
    start: u32,
    end: u32,
}

/// The largest text buffer spans can address.
pub(crate) const MAX_TEXT: usize = u32::MAX as usize;

impl Span {
    /// Offsets past [`MAX_TEXT`] saturate; the statement that made them is then rejected
    /// (see `Builder::finish`), so such a span is never read.
    pub(crate) fn new(start: usize, end: usize) -> Self {
        Self {
            start: u32::try_from(start).unwrap_or(u32::MAX),
            end: u32::try_from(end).unwrap_or(u32::MAX),
        }
    }

    pub(crate) fn start(self) -> usize {
        self.start as usize
    }

    pub(crate) fn range(self) -> Range<usize> {
        self.start as usize..self.end as usize
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

/// A balance with its currency inline (MT940 balances always have a three-letter code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bal {
    pub(crate) amount: Decimal,
    pub(crate) currency: [u8; 3],
    pub(crate) date: NaiveDate,
    pub(crate) intermediate: bool,
}

impl Bal {
    pub(crate) fn to_balance(self) -> Balance {
        Balance {
            amount: self.amount,
            currency: BalanceValue::currency(&self).to_string(),
            date: self.date,
            intermediate: self.intermediate,
        }
    }
}

impl BalanceValue for Bal {
    fn amount(&self) -> Decimal {
        self.amount
    }

    fn currency(&self) -> &str {
        std::str::from_utf8(&self.currency).unwrap_or_default()
    }

    fn set_amount(&mut self, amount: Decimal) {
        self.amount = amount;
    }
}

/// One `:61:` with its `:86:`, every text a range of the file's buffer.
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
    /// Index range of this transaction's entries in [`Arena::extras`].
    pub(crate) extras: (usize, usize),
    pub(crate) source: Src,
}

/// The buffers a file's statements share.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Arena {
    pub(crate) text: String,
    pub(crate) txs: Vec<CompactTx>,
    /// Extra fields of all transactions, in the order they were found (a later entry with the
    /// same name wins, as in [`Transaction::extra`]).
    pub(crate) extras: Vec<(Key, Span)>,
}

/// How far the buffers of an [`Arena`] were filled (to drop what a statement added).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Marks {
    text: usize,
    txs: usize,
    extras: usize,
}

impl Marks {
    /// The number of transactions in the arena when the marks were taken.
    pub(crate) fn txs(self) -> usize {
        self.txs
    }
}

impl Arena {
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

    pub(crate) fn marks(&self) -> Marks {
        Marks {
            text: self.text.len(),
            txs: self.txs.len(),
            extras: self.extras.len(),
        }
    }

    /// Drop everything added since `marks` were taken.
    pub(crate) fn truncate(&mut self, marks: Marks) {
        self.text.truncate(marks.text);
        self.txs.truncate(marks.txs);
        self.extras.truncate(marks.extras);
    }
}

/// One MT940 statement or MT942 report: ranges of the file's [`Arena`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Stmt {
    pub(crate) kind: StatementKind,
    pub(crate) id: Option<Span>,
    pub(crate) related_reference: Option<Span>,
    pub(crate) account: Span,
    pub(crate) servicer: Option<Span>,
    pub(crate) currency: Span,
    pub(crate) sequence_number: Option<Span>,
    pub(crate) created_at: Option<Span>,
    pub(crate) opening_balance: Option<Bal>,
    pub(crate) closing_balance: Option<Bal>,
    pub(crate) closing_available_balance: Option<Bal>,
    pub(crate) forward_available_balances: Vec<Bal>,
    pub(crate) information: Option<Span>,
    /// Index range of the statement's transactions in [`Arena::txs`].
    pub(crate) txs: (usize, usize),
    pub(crate) balance_check: BalanceCheck,
    pub(crate) flags: Vec<FeedError>,
    pub(crate) source: Src,
}

impl Stmt {
    pub(crate) fn empty(txs_at: usize) -> Self {
        Self {
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
            txs: (txs_at, txs_at),
            // Always replaced in `finish` (a balance chain result, or why there is none).
            balance_check: BalanceCheck::Balanced,
            flags: Vec::new(),
            source: Src::default(),
        }
    }
}

/// Where a view finds its transactions' fingerprints.
#[derive(Clone, Copy)]
enum Prints<'f> {
    /// The file's, computed on first use ([`CompactFile::fingerprints`]).
    File(&'f CompactFile),
    /// The statement's, already computed (the owned model is built statement by statement).
    Statement(&'f [Fingerprint]),
}

/// Not the whole file again in a view's `Debug` output.
impl std::fmt::Debug for Prints<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Prints::File(_) => f.write_str("File"),
            Prints::Statement(p) => write!(f, "Statement({} fingerprints)", p.len()),
        }
    }
}

/// A borrowed view of one statement of a [`CompactFile`].
#[derive(Debug, Clone, Copy)]
pub struct StatementRef<'f> {
    arena: &'f Arena,
    st: &'f Stmt,
    prints: Prints<'f>,
}

impl<'f> StatementRef<'f> {
    /// A statement whose transactions' fingerprints are `fingerprints`, in order.
    pub(crate) fn with_fingerprints(
        arena: &'f Arena,
        st: &'f Stmt,
        fingerprints: &'f [Fingerprint],
    ) -> Self {
        Self {
            arena,
            st,
            prints: Prints::Statement(fingerprints),
        }
    }

    fn opt(&self, span: Option<Span>) -> Option<&'f str> {
        self.arena.opt(span)
    }

    fn txs(&self) -> &'f [CompactTx] {
        let (from, to) = self.st.txs;
        self.arena.txs.get(from..to).unwrap_or_default()
    }

    /// Statement (MT940) or intraday report (MT942).
    #[must_use]
    pub fn kind(&self) -> StatementKind {
        self.st.kind
    }

    /// `:20:` transaction reference.
    #[must_use]
    pub fn id(&self) -> Option<&'f str> {
        self.opt(self.st.id)
    }

    /// `:21:` related reference.
    #[must_use]
    pub fn related_reference(&self) -> Option<&'f str> {
        self.opt(self.st.related_reference)
    }

    /// `:25:` account identification as written.
    #[must_use]
    pub fn account(&self) -> &'f str {
        self.arena.get(self.st.account)
    }

    /// The BIC in front of `/` in `:25:`, where given.
    #[must_use]
    pub fn servicer(&self) -> Option<&'f str> {
        self.opt(self.st.servicer)
    }

    /// ISO 4217 currency of the account (and of every transaction).
    #[must_use]
    pub fn currency(&self) -> &'f str {
        self.arena.get(self.st.currency)
    }

    /// `:28C:` statement/sequence number as written.
    #[must_use]
    pub fn sequence_number(&self) -> Option<&'f str> {
        self.opt(self.st.sequence_number)
    }

    /// MT942 `:13D:` creation time as written.
    #[must_use]
    pub fn created_at(&self) -> Option<&'f str> {
        self.opt(self.st.created_at)
    }

    /// `:60F:`/`:60M:` opening balance.
    #[must_use]
    pub fn opening_balance(&self) -> Option<Balance> {
        self.st.opening_balance.map(Bal::to_balance)
    }

    /// `:62F:`/`:62M:` closing balance.
    #[must_use]
    pub fn closing_balance(&self) -> Option<Balance> {
        self.st.closing_balance.map(Bal::to_balance)
    }

    /// `:64:` closing available balance.
    #[must_use]
    pub fn closing_available_balance(&self) -> Option<Balance> {
        self.st.closing_available_balance.map(Bal::to_balance)
    }

    /// `:65:` forward available balances.
    #[must_use]
    pub fn forward_available_balances(&self) -> Vec<Balance> {
        self.st
            .forward_available_balances
            .iter()
            .map(|b| b.to_balance())
            .collect()
    }

    /// Statement-level `:86:` text.
    #[must_use]
    pub fn information(&self) -> Option<&'f str> {
        self.opt(self.st.information)
    }

    /// Outcome of the balance check.
    #[must_use]
    pub fn balance_check(&self) -> &'f BalanceCheck {
        &self.st.balance_check
    }

    /// Problems kept because of [`crate::CheckMode::Flag`].
    #[must_use]
    pub fn flags(&self) -> &'f [FeedError] {
        &self.st.flags
    }

    /// Where the statement sits in the input.
    #[must_use]
    pub fn source(&self) -> SourceSpan {
        self.st.source.span()
    }

    /// Number of transactions.
    #[must_use]
    pub fn len(&self) -> usize {
        self.txs().len()
    }

    /// True when the statement has no transactions.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.txs().is_empty()
    }

    /// The transactions, in file order.
    pub fn transactions(&self) -> impl ExactSizeIterator<Item = TransactionRef<'f>> + 'f {
        let (arena, st, prints) = (self.arena, self.st, self.prints);
        self.txs()
            .iter()
            .enumerate()
            .map(move |(i, tx)| TransactionRef {
                arena,
                st,
                tx,
                prints,
                i,
            })
    }

    /// The `i`-th transaction.
    #[must_use]
    pub fn transaction(&self, i: usize) -> Option<TransactionRef<'f>> {
        let (arena, st, prints) = (self.arena, self.st, self.prints);
        self.txs().get(i).map(|tx| TransactionRef {
            arena,
            st,
            tx,
            prints,
            i,
        })
    }

    /// The statement in the owned model (what [`crate::parse_file`] returns).
    #[must_use]
    pub fn to_statement(&self) -> Statement {
        let owned = |s: Option<Span>| s.map(|s| self.arena.get(s).to_string());
        let st = self.st;
        Statement {
            kind: st.kind,
            id: owned(st.id),
            related_reference: owned(st.related_reference),
            account: self.account().to_string(),
            servicer: owned(st.servicer),
            currency: self.currency().to_string(),
            sequence_number: owned(st.sequence_number),
            created_at: owned(st.created_at),
            opening_balance: self.opening_balance(),
            closing_balance: self.closing_balance(),
            closing_available_balance: self.closing_available_balance(),
            forward_available_balances: self.forward_available_balances(),
            information: owned(st.information),
            transactions: self.transactions().map(|t| t.to_transaction()).collect(),
            balance_check: st.balance_check.clone(),
            flags: st.flags.clone(),
            source: st.source.span(),
        }
    }
}

/// A borrowed view of one transaction of a [`CompactFile`]: the same values as the owned
/// [`Transaction`] built from it, as `&str` slices of the file's buffer.
#[derive(Debug, Clone, Copy)]
pub struct TransactionRef<'f> {
    arena: &'f Arena,
    st: &'f Stmt,
    tx: &'f CompactTx,
    prints: Prints<'f>,
    /// Position in the statement.
    i: usize,
}

impl<'f> TransactionRef<'f> {
    fn opt(&self, span: Option<Span>) -> Option<&'f str> {
        self.arena.opt(span)
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
    pub fn currency(&self) -> &'f str {
        self.arena.get(self.st.currency)
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
    pub fn counterparty_name(&self) -> Option<&'f str> {
        self.opt(self.tx.counterparty_name)
    }

    /// Counterparty account from `:86:`.
    #[must_use]
    pub fn counterparty_account(&self) -> Option<&'f str> {
        self.opt(self.tx.counterparty_account)
    }

    /// Counterparty bank from `:86:`.
    #[must_use]
    pub fn counterparty_bank(&self) -> Option<&'f str> {
        self.opt(self.tx.counterparty_bank)
    }

    /// End-to-end id from `:86:`.
    #[must_use]
    pub fn end_to_end_id(&self) -> Option<&'f str> {
        self.opt(self.tx.end_to_end_id)
    }

    /// `:61:` reference of the account servicing institution (after `//`).
    #[must_use]
    pub fn bank_reference(&self) -> Option<&'f str> {
        self.opt(self.tx.bank_reference)
    }

    /// `:61:` reference for the account owner.
    #[must_use]
    pub fn customer_reference(&self) -> Option<&'f str> {
        self.opt(self.tx.customer_reference)
    }

    /// Structured creditor reference from `:86:`.
    #[must_use]
    pub fn payment_reference(&self) -> Option<&'f str> {
        self.opt(self.tx.payment_reference)
    }

    /// Remittance information from `:86:`.
    #[must_use]
    pub fn remittance_information(&self) -> Option<&'f str> {
        self.opt(self.tx.remittance_information)
    }

    /// `:61:` transaction type code, e.g. `NTRF`.
    #[must_use]
    pub fn bank_transaction_code(&self) -> Option<&'f str> {
        self.opt(self.tx.bank_transaction_code)
    }

    /// The `:86:` text as the bank wrote it.
    #[must_use]
    pub fn description(&self) -> Option<&'f str> {
        self.opt(self.tx.description)
    }

    /// Dialect fields in the order found; a later entry with the same name replaces an
    /// earlier one in [`Transaction::extra`] (see [`TransactionRef::extra`]).
    pub fn extras(&self) -> impl Iterator<Item = (&'f str, &'f str)> + 'f {
        let arena = self.arena;
        let (from, to) = self.tx.extras;
        arena
            .extras
            .get(from..to)
            .unwrap_or_default()
            .iter()
            .map(move |(k, v)| (arena.key(*k), arena.get(*v)))
    }

    /// One dialect field by name (`gvc`, `purpose`, `funds_code`…), as in [`Transaction::extra`].
    #[must_use]
    pub fn extra(&self, name: &str) -> Option<&'f str> {
        let mut found = None;
        for (k, v) in self.extras() {
            if k == name {
                found = Some(v);
            }
        }
        found
    }

    /// Stable identity across files (see [`crate::fingerprint`]). Not computed by the
    /// parse: the first call on a file computes the fingerprints of all its transactions
    /// ([`CompactFile::fingerprints`]), later calls look them up.
    #[must_use]
    pub fn fingerprint(&self) -> Fingerprint {
        let found = match self.prints {
            Prints::File(file) => file.fingerprints().get(self.st.txs.0 + self.i),
            Prints::Statement(prints) => prints.get(self.i),
        };
        found.copied().unwrap_or_default()
    }

    /// Where the transaction sits in the input.
    #[must_use]
    pub fn source(&self) -> SourceSpan {
        self.tx.source.span()
    }

    /// The transaction in the owned model.
    #[must_use]
    pub fn to_transaction(&self) -> Transaction {
        let owned = |s: Option<&str>| s.map(str::to_string);
        let arena = self.arena;
        let (from, to) = self.tx.extras;
        let mut extra = Extra::new();
        for (k, v) in arena.extras.get(from..to).unwrap_or_default() {
            let key: Cow<'static, str> = match *k {
                Key::Static(k) => Cow::Borrowed(k),
                Key::Text(s) => Cow::Owned(arena.get(s).to_string()),
            };
            extra.insert(key, arena.get(*v).to_string());
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
            settlement: None,
            fingerprint: self.fingerprint(),
            source: self.tx.source.span(),
        }
    }
}

/// The fingerprint basis of transaction `tx` of a statement whose account and currency are
/// `account` and `currency`.
pub(crate) fn basis<'a>(
    arena: &'a Arena,
    currency: &'a str,
    tx: &CompactTx,
) -> fingerprint::Basis<'a> {
    fingerprint::Basis {
        currency,
        amount: tx.amount,
        date: tx.value_date.or(tx.booking_date),
        bank_reference: arena.opt(tx.bank_reference),
        end_to_end_id: arena.opt(tx.end_to_end_id),
        customer_reference: arena.opt(tx.customer_reference),
        counterparty_account: arena.opt(tx.counterparty_account),
        remittance_information: arena.opt(tx.remittance_information),
    }
}

/// The fingerprints of a [`CompactFile`], computed on first use.
#[derive(Debug, Clone, Default)]
pub(crate) struct FilePrints {
    /// Basis digests of the transactions of statements that were built but not kept
    /// (strict mode), each after the number of kept transactions before it: they count for
    /// the occurrence numbers of the transactions after them.
    rejected: Vec<(usize, [u8; 32])>,
    /// One per kept transaction, in file order (indexed like [`Arena::txs`]).
    all: OnceLock<Vec<Fingerprint>>,
}

impl FilePrints {
    pub(crate) fn new(rejected: Vec<(usize, [u8; 32])>) -> Self {
        Self {
            rejected,
            all: OnceLock::new(),
        }
    }
}

/// Equal when the inputs of the fingerprints are (whether they were computed yet or not).
impl PartialEq for FilePrints {
    fn eq(&self, other: &Self) -> bool {
        self.rejected == other.rejected
    }
}

/// Everything read from one MT940/MT942 file, in the compact form.
#[derive(Debug, Clone, PartialEq)]
pub struct CompactFile {
    /// `mt940` or `mt942`.
    pub format: Format,
    /// Text encoding the file was read with.
    pub encoding: &'static str,
    /// Statements that were rejected, with why.
    pub errors: Vec<FeedError>,
    /// Statements that passed every check (or were kept flagged in flag mode).
    pub(crate) statements: Vec<Stmt>,
    pub(crate) arena: Arena,
    pub(crate) prints: FilePrints,
}

impl CompactFile {
    /// Statements that passed every check (or were kept flagged in flag mode), in file order.
    pub fn statements(&self) -> impl ExactSizeIterator<Item = StatementRef<'_>> + '_ {
        let arena = &self.arena;
        self.statements.iter().map(move |st| StatementRef {
            arena,
            st,
            prints: Prints::File(self),
        })
    }

    /// The `i`-th statement.
    #[must_use]
    pub fn statement(&self, i: usize) -> Option<StatementRef<'_>> {
        self.statements.get(i).map(|st| StatementRef {
            arena: &self.arena,
            st,
            prints: Prints::File(self),
        })
    }

    /// The fingerprints of all transactions of [`CompactFile::statements`], in file order
    /// (statement by statement), exactly those [`crate::parse_file`] gives. The parse does
    /// not compute them: the first call (or the first [`TransactionRef::fingerprint`]) does,
    /// for the whole file at once (occurrence numbers count earlier identical transactions
    /// of the file, including those of statements rejected in strict mode), and keeps them.
    pub fn fingerprints(&self) -> &[Fingerprint] {
        self.prints.all.get_or_init(|| {
            super::file_fingerprints(&self.arena, &self.statements, &self.prints.rejected)
        })
    }

    /// Number of statements.
    #[must_use]
    pub fn statement_count(&self) -> usize {
        self.statements.len()
    }

    /// Number of transactions over all accepted statements.
    #[must_use]
    pub fn transaction_count(&self) -> usize {
        self.statements.iter().map(|s| s.txs.1 - s.txs.0).sum()
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
            statements: self.statements().map(|s| s.to_statement()).collect(),
            errors: self.errors.clone(),
        }
    }
}
