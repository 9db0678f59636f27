//! Stable transaction fingerprints for idempotent ingestion (R-P2: the same file or line
//! arriving twice must never count twice).
//!
//! # Rule (version `v1`)
//!
//! `fingerprint = hex(sha256(fields joined by U+001F))` over:
//!
//! 1. the literal `feeds-fp-v1`;
//! 2. the account, upper-cased, letters and digits only (`DE19 6628…` = `de196628…`);
//! 3. the currency;
//! 4. the signed amount, normalised (`9`, `9,00` and `9.000` are the same amount);
//! 5. the value date, or the booking date when there is no value date;
//! 6. the bank reference, 7. the end-to-end id, 8. the customer reference — each upper-cased
//!    without whitespace, and empty when it is a placeholder (`NONREF`, `NOTPROVIDED`, `NONE`);
//! 9. the counterparty account (letters and digits, upper-cased);
//! 10. the remittance information without any whitespace, upper-cased (so a bank that wraps
//!     the same text at another column still matches);
//! 11. the occurrence: how many earlier transactions *in the same file* had the same fields
//!     1–10 (0 for the first). Two identical-looking lines in one file are two payments.
//!
//! The booking date, the status, the bank transaction code and free-text descriptions are
//! deliberately left out: a camt.054 notification often has no booking date while the
//! camt.053 statement has one, an MT942 line is reported before its final booking, and banks
//! word posting texts differently per channel.
//!
//! # What matches and what does not
//!
//! * The same line reported in an MT942 and later in the MT940 of the same bank, or in a
//!   camt.054/camt.052 and later in the camt.053, gets the same fingerprint: those messages
//!   are generated from the same booking record (same account notation, amount, value date,
//!   references, remittance text).
//! * Two genuinely different transactions differ in at least one of amount, value date,
//!   references, counterparty or remittance; if they agree on all of them *within one file*
//!   the occurrence number still separates them.
//!
//! Limits: across format families (an MT940 and a camt.053 of the same account) the account
//! notation and references usually differ, so fingerprints differ. A bank that changes the
//! remittance text between the intraday and the end-of-day report breaks the match. Two
//! identical-looking payments delivered in *different* intraday files (each first of its
//! kind in its file) collide; payments must then be told apart by reconciliation. Pending
//! camt.052 entries share the fingerprint of their later booking: ingest booked entries only.

use sha2::{Digest, Sha256};

use crate::model::Transaction;

/// Version tag mixed into every fingerprint; bump it when the rule changes.
pub const VERSION: &str = "feeds-fp-v1";

const PLACEHOLDERS: &[&str] = &["NONREF", "NOTPROVIDED", "NONE", "N/A", "NA", "-"];

fn alnum_upper(s: Option<&str>) -> String {
    s.unwrap_or_default()
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect()
}

fn compact_upper(s: Option<&str>) -> String {
    s.unwrap_or_default()
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}

fn reference(s: Option<&str>) -> String {
    let r = compact_upper(s);
    if PLACEHOLDERS.contains(&r.as_str()) {
        String::new()
    } else {
        r
    }
}

/// The fields 1–10 of the rule, joined; equal bases get increasing occurrence numbers.
#[must_use]
pub fn basis(account: &str, tx: &Transaction) -> String {
    let date = tx
        .value_date
        .or(tx.booking_date)
        .map(|d| d.to_string())
        .unwrap_or_default();
    [
        VERSION.to_string(),
        alnum_upper(Some(account)),
        tx.currency.trim().to_ascii_uppercase(),
        tx.amount.normalize().to_string(),
        date,
        reference(tx.bank_reference.as_deref()),
        reference(tx.end_to_end_id.as_deref()),
        reference(tx.customer_reference.as_deref()),
        alnum_upper(tx.counterparty_account.as_deref()),
        compact_upper(tx.remittance_information.as_deref()),
    ]
    .join("\u{1f}")
}

/// Fingerprint from a basis and its occurrence number within the file.
#[must_use]
pub fn from_basis(basis: &str, occurrence: u32) -> String {
    let mut hasher = Sha256::new();
    hasher.update(basis.as_bytes());
    hasher.update("\u{1f}".as_bytes());
    hasher.update(occurrence.to_string().as_bytes());
    hex::encode(hasher.finalize())
}

/// Fingerprint of one transaction of `account`, the `occurrence`-th with its basis in a file.
#[must_use]
pub fn compute(account: &str, tx: &Transaction, occurrence: u32) -> String {
    from_basis(&basis(account, tx), occurrence)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use rust_decimal::Decimal;

    fn tx(amount: i64, scale: u32) -> Transaction {
        let mut t = Transaction::new(Decimal::new(amount, scale), "EUR");
        t.value_date = NaiveDate::from_ymd_opt(2024, 3, 1);
        t.bank_reference = Some("B4G29PGDCK1QFV3E".into());
        t.remittance_information = Some("Invoice 42\nMarch".into());
        t
    }

    #[test]
    fn notation_differences_do_not_matter() {
        let a = tx(900, 2);
        let mut b = tx(9, 0);
        b.remittance_information = Some("invoice 42 march".into());
        b.booking_date = NaiveDate::from_ymd_opt(2024, 3, 2);
        assert_eq!(compute("DE19 6628", &a, 0), compute("de196628", &b, 0));
    }

    #[test]
    fn different_payments_differ() {
        let a = tx(900, 2);
        let mut b = tx(900, 2);
        b.bank_reference = Some("OTHER".into());
        assert_ne!(compute("X", &a, 0), compute("X", &b, 0));
        assert_ne!(compute("X", &a, 0), compute("X", &a, 1));
        let mut c = tx(-900, 2);
        c.bank_reference = a.bank_reference.clone();
        assert_ne!(compute("X", &a, 0), compute("X", &c, 0));
    }

    #[test]
    fn placeholders_are_ignored() {
        let mut a = tx(1, 0);
        a.customer_reference = Some("NONREF".into());
        let b = tx(1, 0);
        assert_eq!(compute("X", &a, 0), compute("X", &b, 0));
    }
}
