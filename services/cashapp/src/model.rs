//! The engine's inputs (issue item 1): open receivables and incoming payments.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One open receivable (an installment, a fee, a milestone) as the contracts service knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenItem {
    /// Receivable id (unique).
    pub receivable_id: String,
    /// Contract number the receivable belongs to (what payers write in the remittance).
    pub contract_no: String,
    /// Customer (contract party) id.
    pub customer_id: String,
    /// Customer name as on the contract (person or company).
    pub customer_name: String,
    /// Accounts the customer is known to pay from (any notation; compared letters and digits
    /// only).
    pub payer_accounts: Vec<String>,
    /// Unit / room, if any (`3-1203`).
    pub unit: Option<String>,
    /// Due date.
    pub due_date: NaiveDate,
    /// Amount still open, in `currency`.
    #[serde(with = "rust_decimal::serde::str")]
    pub open_amount: Decimal,
    /// ISO 4217 currency of the contract.
    pub currency: String,
    /// The regulated escrow account the money must land in (R-P6).
    pub escrow_account: String,
}

/// One incoming payment: a credit on a receiving account, from the bank feed (R-P3: only a
/// payment confirmed by the bank feed counts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Payment {
    /// Stable identity (the feed's transaction fingerprint; `…#n` for the n-th payment of a
    /// batch entry).
    pub id: String,
    /// Booking date (else value date).
    pub date: NaiveDate,
    /// Amount received, positive.
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    /// ISO 4217 currency of the amount.
    pub currency: String,
    /// Payer's name as the bank reports it.
    pub payer_name: Option<String>,
    /// Payer's account.
    pub payer_account: Option<String>,
    /// Account the money arrived on (the statement's account).
    pub receiving_account: String,
    /// Remittance information (purpose text).
    pub remittance: Option<String>,
    /// Structured payment reference (creditor reference), where given.
    pub payment_reference: Option<String>,
    /// End-to-end id given by the payer.
    pub end_to_end_id: Option<String>,
    /// The bank's reference for the transaction.
    pub bank_reference: Option<String>,
    /// Line of the statement file the payment came from (for error messages and audit).
    pub source_line: Option<u32>,
}

impl Payment {
    /// A payment with only the required fields; set the others directly or with the `with_`
    /// helpers.
    #[must_use]
    pub fn new(
        id: impl Into<String>,
        date: NaiveDate,
        amount: Decimal,
        currency: impl Into<String>,
        receiving_account: impl Into<String>,
    ) -> Self {
        Self {
            id: id.into(),
            date,
            amount,
            currency: currency.into(),
            payer_name: None,
            payer_account: None,
            receiving_account: receiving_account.into(),
            remittance: None,
            payment_reference: None,
            end_to_end_id: None,
            bank_reference: None,
            source_line: None,
        }
    }

    /// Set the payer's name and account.
    #[must_use]
    pub fn with_payer(mut self, name: Option<&str>, account: Option<&str>) -> Self {
        self.payer_name = name.map(str::to_string);
        self.payer_account = account.map(str::to_string);
        self
    }

    /// Set the remittance text.
    #[must_use]
    pub fn with_remittance(mut self, text: impl Into<String>) -> Self {
        self.remittance = Some(text.into());
        self
    }

    /// Canonical processing order (issue item 5): date, then id, then the remaining fields,
    /// so the result never depends on the order payments were handed in.
    pub(crate) fn canonical_cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.date, &self.id, self.amount, &self.currency)
            .cmp(&(other.date, &other.id, other.amount, &other.currency))
            .then_with(|| {
                (
                    &self.receiving_account,
                    &self.payer_account,
                    &self.payer_name,
                    &self.remittance,
                    &self.payment_reference,
                    &self.end_to_end_id,
                    &self.bank_reference,
                )
                    .cmp(&(
                        &other.receiving_account,
                        &other.payer_account,
                        &other.payer_name,
                        &other.remittance,
                        &other.payment_reference,
                        &other.end_to_end_id,
                        &other.bank_reference,
                    ))
            })
            .then_with(|| self.source_line.cmp(&other.source_line))
    }
}

/// Minor units (decimal places) of a currency: 0 for yen-like, 3 for dinar-like, else 2.
#[must_use]
pub(crate) fn minor_units(currency: &str) -> u32 {
    match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

/// The smallest unit of a currency (0.01 for CNY: one fen).
#[must_use]
pub(crate) fn unit(currency: &str) -> Decimal {
    Decimal::new(1, minor_units(currency))
}

/// A validated three-letter ISO 4217 code, stored inline (no allocation per receivable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Ccy([u8; 3]);

impl Ccy {
    /// The code, if `s` is three ASCII letters.
    pub(crate) fn new(s: &str) -> Option<Self> {
        let b: [u8; 3] = s.as_bytes().try_into().ok()?;
        b.iter().all(u8::is_ascii_uppercase).then_some(Self(b))
    }

    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}
