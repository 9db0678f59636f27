//! From the feeds crate's normalised transactions to payments (issue item 1).
//!
//! Only booked credits are payments (R-P3: a transfer counts when the bank feed confirms its
//! arrival). A batch entry whose details carry amounts that add up becomes one payment per
//! detail.

use rust_decimal::Decimal;
use serde::Serialize;

use crate::model::Payment;

/// Why a transaction is not reconciled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum NotAPayment {
    /// Money out (a debit).
    #[error("money out (a debit), not a payment received")]
    Debit,
    /// A zero amount.
    #[error("a zero amount")]
    Zero,
    /// A reversal of an earlier entry.
    #[error("a reversal (storno) of an earlier entry")]
    Reversal,
    /// Pending or information-only entry (R-P3: only booked money counts).
    #[error("not booked yet (pending or information only)")]
    NotBooked,
    /// No booking or value date.
    #[error("no booking or value date")]
    NoDate,
}

/// A transaction left out of reconciliation, with why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// The transaction's fingerprint.
    pub id: String,
    /// Line in the statement file.
    pub line: u32,
    /// Signed amount.
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    /// Currency.
    pub currency: String,
    /// Why it was left out.
    pub reason: NotAPayment,
}

fn check(tx: &feeds::Transaction) -> Result<chrono::NaiveDate, NotAPayment> {
    if tx.reversal {
        return Err(NotAPayment::Reversal);
    }
    if tx.status != feeds::EntryStatus::Booked {
        return Err(NotAPayment::NotBooked);
    }
    if tx.amount.is_zero() {
        return Err(NotAPayment::Zero);
    }
    if tx.amount.is_sign_negative() {
        return Err(NotAPayment::Debit);
    }
    tx.date().ok_or(NotAPayment::NoDate)
}

fn id_of(tx: &feeds::Transaction, receiving_account: &str) -> String {
    if tx.fingerprint == feeds::Fingerprint::default() {
        feeds::fingerprint::compute(receiving_account, tx, 0).to_string()
    } else {
        tx.fingerprint.to_string()
    }
}

impl Payment {
    /// The payment a single (non-batch) transaction received on `receiving_account` is.
    ///
    /// # Errors
    /// [`NotAPayment`] for debits, reversals, unbooked or undated entries.
    pub fn from_transaction(
        tx: &feeds::Transaction,
        receiving_account: &str,
    ) -> Result<Self, NotAPayment> {
        let date = check(tx)?;
        Ok(Self {
            id: id_of(tx, receiving_account),
            date,
            amount: tx.amount,
            currency: tx.currency.clone(),
            payer_name: tx.counterparty_name.clone(),
            payer_account: tx.counterparty_account.clone(),
            receiving_account: receiving_account.to_string(),
            remittance: tx
                .remittance_information
                .clone()
                .or_else(|| tx.description.clone()),
            payment_reference: tx.payment_reference.clone(),
            end_to_end_id: tx.end_to_end_id.clone(),
            bank_reference: tx.bank_reference.clone(),
            source_line: Some(tx.source.line),
        })
    }

    /// The `index`-th (0-based) payment of a batch entry.
    ///
    /// # Errors
    /// As [`Payment::from_transaction`], judged on the entry and the detail's amount.
    pub fn from_detail(
        tx: &feeds::Transaction,
        detail: &feeds::TransactionDetail,
        index: usize,
        receiving_account: &str,
    ) -> Result<Self, NotAPayment> {
        let date = check(tx)?;
        let amount = detail.amount.unwrap_or(tx.amount);
        if amount.is_sign_negative() || amount.is_zero() {
            return Err(NotAPayment::Debit);
        }
        Ok(Self {
            id: format!("{}#{}", id_of(tx, receiving_account), index + 1),
            date,
            amount,
            currency: detail
                .currency
                .clone()
                .unwrap_or_else(|| tx.currency.clone()),
            payer_name: detail.counterparty_name.clone(),
            payer_account: detail.counterparty_account.clone(),
            receiving_account: receiving_account.to_string(),
            remittance: detail.remittance_information.clone(),
            payment_reference: detail.payment_reference.clone(),
            end_to_end_id: detail.end_to_end_id.clone(),
            bank_reference: detail
                .bank_reference
                .clone()
                .or_else(|| tx.bank_reference.clone()),
            source_line: Some(detail.source.line),
        })
    }
}

/// The payments of a statement (the statement's account is the receiving account), and the
/// transactions left out with why.
#[must_use]
pub fn payments_from_statement(st: &feeds::Statement) -> (Vec<Payment>, Vec<Skipped>) {
    let mut payments = Vec::with_capacity(st.transactions.len());
    let mut skipped = Vec::new();
    for tx in &st.transactions {
        let splits = !tx.details.is_empty()
            && tx
                .details
                .iter()
                .map(|d| d.amount)
                .sum::<Option<Decimal>>()
                .is_some_and(|sum| sum == tx.amount);
        let results: Vec<Result<Payment, NotAPayment>> = if splits {
            tx.details
                .iter()
                .enumerate()
                .map(|(i, d)| Payment::from_detail(tx, d, i, &st.account))
                .collect()
        } else {
            vec![Payment::from_transaction(tx, &st.account)]
        };
        for r in results {
            match r {
                Ok(p) => payments.push(p),
                Err(reason) => skipped.push(Skipped {
                    id: id_of(tx, &st.account),
                    line: tx.source.line,
                    amount: tx.amount,
                    currency: tx.currency.clone(),
                    reason,
                }),
            }
        }
    }
    (payments, skipped)
}
