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

fn canonical_balance(b: &mut Option<Balance>) {
    if let Some(b) = b {
        b.amount = canonical(b.amount, &b.currency);
    }
}

/// Validate currencies, make amounts canonical and run the balance check.
pub(crate) fn finish(mut st: Statement, locations: &BalanceLocations) -> Statement {
    let here = statement_location(&st);
    let mut flags = std::mem::take(&mut st.flags);
    check_currency(&st.currency, "statement currency", &here, &mut flags);
    for (balance, what) in [
        (&st.opening_balance, "opening balance currency"),
        (&st.closing_balance, "closing balance currency"),
    ] {
        if let Some(b) = balance
            && b.currency != st.currency
        {
            check_currency(&b.currency, what, &here, &mut flags);
        }
    }
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
    canonical_balance(&mut st.opening_balance);
    canonical_balance(&mut st.closing_balance);
    canonical_balance(&mut st.closing_available_balance);
    for b in &mut st.forward_available_balances {
        b.amount = canonical(b.amount, &b.currency);
    }
    if let (Some(open), Some(close)) = (&st.opening_balance, &st.closing_balance) {
        let at = locations.closing.clone().unwrap_or_else(|| here.clone());
        if open.currency != close.currency {
            flags.push(FeedError::new(
                ErrorKind::CurrencyMismatch,
                at,
                "closing balance currency",
                format!("the opening balance currency {}", open.currency),
                &close.currency,
            ));
            st.balance_check = BalanceCheck::NotChecked {
                reason: "opening and closing balances are in different currencies".into(),
            };
        } else {
            let booked = st
                .transactions
                .iter()
                .filter(|t| t.status == EntryStatus::Booked && t.currency == open.currency)
                .try_fold(Decimal::ZERO, |acc, t| acc.checked_add(t.amount));
            let computed = booked.and_then(|sum| open.amount.checked_add(sum));
            match computed {
                Some(c) if c == close.amount => st.balance_check = BalanceCheck::Balanced,
                Some(c) => {
                    flags.push(FeedError::new(
                        ErrorKind::BalanceMismatch,
                        at,
                        "closing balance",
                        format!(
                            "opening balance {} {} + booked transactions {} = {} {}",
                            open.amount,
                            open.currency,
                            canonical(c - open.amount, &open.currency),
                            canonical(c, &open.currency),
                            open.currency
                        ),
                        format!("{} {}", close.amount, close.currency),
                    ));
                    st.balance_check = BalanceCheck::Mismatch {
                        computed_closing: canonical(c, &open.currency),
                        reported_closing: close.amount,
                    };
                }
                None => {
                    st.balance_check = BalanceCheck::NotChecked {
                        reason: "sum of amounts overflows".into(),
                    };
                }
            }
        }
    }
    st.flags = flags;
    st
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
    let mut seen: HashMap<[u8; 32], u32> = HashMap::new();
    for st in results.iter_mut().flatten() {
        for tx in &mut st.transactions {
            let digest = fingerprint::basis_digest(&st.account, tx);
            let n = seen.entry(digest).or_insert(0);
            tx.fingerprint = fingerprint::from_digest(&digest, *n);
            *n += 1;
        }
    }
    let mut statements = Vec::new();
    let mut errors = Vec::new();
    let whole_file = results.len() == 1;
    for (i, result) in results.into_iter().enumerate() {
        let index = i + 1;
        match result {
            Ok(mut st) => {
                for f in &mut st.flags {
                    *f = f.clone().with_file(file).in_statement(index);
                }
                if matches!(options.mode, CheckMode::Strict) && !st.flags.is_empty() {
                    errors.append(&mut st.flags);
                } else {
                    statements.push(st);
                }
            }
            // A file-level problem of a file without statements belongs to no statement.
            Err(e) if whole_file && e.location == crate::Location::File => {
                errors.push(e.with_file(file));
            }
            Err(e) => errors.push(e.with_file(file).in_statement(index)),
        }
    }
    ParsedFile {
        file: file.to_string(),
        format,
        encoding: encoding.to_string(),
        statements,
        errors,
    }
}
