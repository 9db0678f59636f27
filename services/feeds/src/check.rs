//! Checks every parser's statements go through (issue item 3): known currencies, canonical
//! exact amounts, and opening balance + booked transactions = closing balance.

use std::collections::HashMap;

use rust_decimal::Decimal;

use crate::currency;
use crate::error::{ErrorKind, FeedError, Location};
use crate::fingerprint;
use crate::model::{Balance, BalanceCheck, EntryStatus, ParsedFile, Statement};
use crate::values::{canonical, canonical_units};
use crate::{CheckMode, ParseOptions};

/// Locations of the balance fields, for error messages.
#[derive(Debug, Clone, Default)]
pub(crate) struct BalanceLocations {
    pub(crate) opening: Option<Location>,
    pub(crate) closing: Option<Location>,
}

fn statement_location(st: &Statement) -> Location {
    match &st.source.path {
        Some(path) => Location::Xml {
            path: path.clone(),
            line: st.source.line,
        },
        None => Location::Line {
            line: st.source.line,
        },
    }
}

fn check_currency(code: &str, what: &str, location: &Location, flags: &mut Vec<FeedError>) {
    if !currency::is_known(code) {
        flags.push(FeedError::new(
            ErrorKind::UnknownCurrency,
            location.clone(),
            what,
            "an ISO 4217 currency code",
            code,
        ));
    }
}

/// What the checks read of a balance (the owned [`Balance`], or the MT940 compact form's).
pub(crate) trait BalanceValue {
    fn amount(&self) -> Decimal;
    fn currency(&self) -> &str;
    fn set_amount(&mut self, amount: Decimal);
}

impl BalanceValue for Balance {
    fn amount(&self) -> Decimal {
        self.amount
    }

    fn currency(&self) -> &str {
        &self.currency
    }

    fn set_amount(&mut self, amount: Decimal) {
        self.amount = amount;
    }
}

fn canonical_balance<B: BalanceValue>(b: &mut Option<B>) {
    if let Some(b) = b {
        b.set_amount(canonical(b.amount(), b.currency()));
    }
}

/// Flag an unknown statement currency, and an unknown balance currency that differs from it.
pub(crate) fn check_currencies<B: BalanceValue>(
    currency: &str,
    opening: Option<&B>,
    closing: Option<&B>,
    here: &Location,
    flags: &mut Vec<FeedError>,
) {
    check_currency(currency, "statement currency", here, flags);
    for (balance, what) in [
        (opening, "opening balance currency"),
        (closing, "closing balance currency"),
    ] {
        if let Some(b) = balance
            && b.currency() != currency
        {
            check_currency(b.currency(), what, here, flags);
        }
    }
}

/// Every balance at its currency's scale.
pub(crate) fn canonical_balances<B: BalanceValue>(
    opening: &mut Option<B>,
    closing: &mut Option<B>,
    closing_available: &mut Option<B>,
    forward: &mut [B],
) {
    canonical_balance(opening);
    canonical_balance(closing);
    canonical_balance(closing_available);
    for b in forward {
        b.set_amount(canonical(b.amount(), b.currency()));
    }
}

/// Opening balance + `booked` (the sum of booked transactions in the opening balance's
/// currency, `None` on overflow) = closing balance. Returns the new check result when both
/// balances are present.
pub(crate) fn balance_chain<B: BalanceValue>(
    opening: Option<&B>,
    closing: Option<&B>,
    booked: impl FnOnce(&str) -> Option<Decimal>,
    at: Location,
    flags: &mut Vec<FeedError>,
) -> Option<BalanceCheck> {
    let (open, close) = (opening?, closing?);
    let (open_ccy, close_ccy) = (open.currency(), close.currency());
    if open_ccy != close_ccy {
        flags.push(FeedError::new(
            ErrorKind::CurrencyMismatch,
            at,
            "closing balance currency",
            format!("the opening balance currency {open_ccy}"),
            close_ccy,
        ));
        return Some(BalanceCheck::NotChecked {
            reason: "opening and closing balances are in different currencies".into(),
        });
    }
    let (open_amount, close_amount) = (open.amount(), close.amount());
    let computed = booked(open_ccy).and_then(|sum| open_amount.checked_add(sum));
    Some(match computed {
        Some(c) if c == close_amount => BalanceCheck::Balanced,
        Some(c) => {
            flags.push(FeedError::new(
                ErrorKind::BalanceMismatch,
                at,
                "closing balance",
                format!(
                    "opening balance {} {} + booked transactions {} = {} {}",
                    open_amount,
                    open_ccy,
                    canonical(c - open_amount, open_ccy),
                    canonical(c, open_ccy),
                    open_ccy
                ),
                format!("{close_amount} {close_ccy}"),
            ));
            BalanceCheck::Mismatch {
                computed_closing: canonical(c, open_ccy),
                reported_closing: close_amount,
            }
        }
        None => BalanceCheck::NotChecked {
            reason: "sum of amounts overflows".into(),
        },
    })
}

/// Validate currencies, make amounts canonical and run the balance check.
pub(crate) fn finish(mut st: Statement, locations: &BalanceLocations) -> Statement {
    let here = statement_location(&st);
    let mut flags = std::mem::take(&mut st.flags);
    check_currencies(
        &st.currency,
        st.opening_balance.as_ref(),
        st.closing_balance.as_ref(),
        &here,
        &mut flags,
    );
    let units = currency::minor_units(&st.currency).flatten();
    for tx in &mut st.transactions {
        if tx.currency == st.currency {
            tx.amount = canonical_units(tx.amount, units);
        } else {
            tx.amount = canonical(tx.amount, &tx.currency);
        }
        if tx.currency != st.currency {
            let at = Location::Line {
                line: tx.source.line,
            };
            check_currency(&tx.currency, "transaction currency", &at, &mut flags);
        }
        for d in &mut tx.details {
            if let (Some(amount), Some(ccy)) = (d.amount, d.currency.as_deref()) {
                d.amount = Some(canonical(amount, ccy));
            }
        }
    }
    canonical_balances(
        &mut st.opening_balance,
        &mut st.closing_balance,
        &mut st.closing_available_balance,
        &mut st.forward_available_balances,
    );
    let at = locations.closing.clone().unwrap_or_else(|| here.clone());
    let transactions = &st.transactions;
    let booked = |ccy: &str| {
        transactions
            .iter()
            .filter(|t| t.status == EntryStatus::Booked && t.currency == ccy)
            .try_fold(Decimal::ZERO, |acc, t| acc.checked_add(t.amount))
    };
    if let Some(check) = balance_chain(
        st.opening_balance.as_ref(),
        st.closing_balance.as_ref(),
        booked,
        at,
        &mut flags,
    ) {
        st.balance_check = check;
    }
    st.flags = flags;
    st
}

/// Occurrence numbers of fingerprint bases within one file (see [`Occurrences::start_file`]).
#[derive(Debug, Default)]
pub(crate) struct Occurrences(HashMap<[u8; 32], u32, DigestKeyed>);

/// Hashes a SHA-256 digest (already uniform) from its first 8 bytes, mixed with a key drawn
/// per map so crafted inputs cannot aim at one bucket: one multiplication instead of
/// SipHash over 32 bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DigestKeyed([u64; 2]);

impl Default for DigestKeyed {
    fn default() -> Self {
        use std::hash::BuildHasher;
        let random = std::collections::hash_map::RandomState::new();
        // Odd multiplier: the product keeps every bit of the keyed input.
        Self([random.hash_one(1u8), random.hash_one(2u8) | 1])
    }
}

impl std::hash::BuildHasher for DigestKeyed {
    type Hasher = DigestHasher;

    fn build_hasher(&self) -> DigestHasher {
        DigestHasher {
            key: self.0,
            state: 0,
        }
    }
}

/// See [`DigestKeyed`].
#[derive(Debug)]
pub(crate) struct DigestHasher {
    key: [u64; 2],
    state: u64,
}

impl std::hash::Hasher for DigestHasher {
    fn write(&mut self, bytes: &[u8]) {
        // The digest's bytes (its length prefix comes through `write_usize`).
        let mut word = [0u8; 8];
        for (w, b) in word.iter_mut().zip(bytes) {
            *w = *b;
        }
        let x = u128::from(u64::from_le_bytes(word) ^ self.key[0] ^ self.state);
        let m = x.wrapping_mul(u128::from(self.key[1]));
        // Fold the high half in: every output bit depends on every input and key bit.
        self.state = (m as u64) ^ ((m >> 64) as u64);
    }

    fn write_usize(&mut self, _len: usize) {}

    fn finish(&self) -> u64 {
        self.state
    }
}

impl Occurrences {
    /// Forget the digests of the previous file and make room for `transactions` more.
    pub(crate) fn start_file(&mut self, transactions: usize) {
        self.0.clear();
        self.0.reserve(transactions);
    }

    /// Count a transaction with this basis digest without computing its fingerprint (one
    /// of a statement that is not kept, which still shifts the occurrences after it).
    pub(crate) fn count(&mut self, digest: [u8; 32]) {
        *self.0.entry(digest).or_insert(0) += 1;
    }

    /// The fingerprint of the next transaction with this basis digest.
    pub(crate) fn fingerprint(&mut self, digest: [u8; 32]) -> fingerprint::Fingerprint {
        let n = self.0.entry(digest).or_insert(0);
        let f = fingerprint::from_digest(&digest, *n);
        *n += 1;
        f
    }
}

/// Strict mode rejects flagged statements into the errors; every error names the file and
/// (unless it concerns a file without statements) the statement's index.
pub(crate) fn sort_results<S>(
    file: &str,
    results: Vec<Result<S, FeedError>>,
    options: &ParseOptions,
    flags_of: impl Fn(&mut S) -> &mut Vec<FeedError>,
) -> (Vec<S>, Vec<FeedError>) {
    let mut statements = Vec::with_capacity(results.len());
    let mut errors = Vec::new();
    let whole_file = results.len() == 1;
    for (i, result) in results.into_iter().enumerate() {
        if let Some(st) = sort_one(
            file,
            i + 1,
            whole_file,
            result,
            options,
            &mut errors,
            &flags_of,
        ) {
            statements.push(st);
        }
    }
    (statements, errors)
}

/// [`sort_results`] for one statement (the `index`-th, 1-based; `whole_file` when it is the
/// only one): the statement to keep, or `None` when it went into `errors`.
pub(crate) fn sort_one<S>(
    file: &str,
    index: usize,
    whole_file: bool,
    result: Result<S, FeedError>,
    options: &ParseOptions,
    errors: &mut Vec<FeedError>,
    flags_of: impl Fn(&mut S) -> &mut Vec<FeedError>,
) -> Option<S> {
    match result {
        Ok(mut st) => {
            let flags = flags_of(&mut st);
            for f in flags.iter_mut() {
                file.clone_into(&mut f.file);
                f.statement.get_or_insert(index);
            }
            if matches!(options.mode, CheckMode::Strict) && !flags.is_empty() {
                errors.append(flags);
                None
            } else {
                Some(st)
            }
        }
        // A file-level problem of a file without statements belongs to no statement.
        Err(e) if whole_file && e.location == crate::Location::File => {
            errors.push(e.with_file(file));
            None
        }
        Err(e) => {
            errors.push(e.with_file(file).in_statement(index));
            None
        }
    }
}

/// Gather per-statement results into a file: strict mode rejects flagged statements, and
/// every transaction gets its fingerprint (occurrences counted over the whole file).
pub(crate) fn assemble(
    file: &str,
    format: crate::Format,
    encoding: &str,
    results: Vec<Result<Statement, FeedError>>,
    options: &ParseOptions,
) -> ParsedFile {
    // Fingerprints first, over every statement that could be built, so a statement rejected
    // in strict mode does not shift the occurrence numbers of the ones after it.
    let mut results = results;
    let mut seen = Occurrences::default();
    for st in results.iter_mut().flatten() {
        for tx in &mut st.transactions {
            let digest = fingerprint::basis_digest(&st.account, &fingerprint::Basis::of(tx));
            tx.fingerprint = seen.fingerprint(digest);
        }
    }
    let (statements, errors) = sort_results(file, results, options, |st| &mut st.flags);
    ParsedFile {
        file: file.to_string(),
        format,
        encoding: encoding.to_string(),
        statements,
        errors,
    }
}
