//! The normalised model every parser produces (R-P2): one shape for MT940/MT942, camt.05x,
//! BAI2 and bank CSV exports, so ingestion and reconciliation never care where a line came from.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Serialize, Serializer};

use crate::error::FeedError;
use crate::fingerprint::Fingerprint;
use crate::settlement::Settlement;

/// Dialect-specific fields of a transaction, by name (`gvc`, `mandate_reference`, a CSV
/// column…). Names the crate defines are static strings, so no allocation per key.
pub type Extra = BTreeMap<Cow<'static, str>, String>;

/// A feed format, as named on the command line (`mt940`, `camt053`, `csv:icbc_debit`, …).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Format {
    /// SWIFT MT940 customer statement.
    Mt940,
    /// SWIFT MT942 interim (intraday) transaction report.
    Mt942,
    /// ISO 20022 camt.052 bank-to-customer account report (intraday).
    Camt052,
    /// ISO 20022 camt.053 bank-to-customer statement.
    Camt053,
    /// ISO 20022 camt.054 bank-to-customer debit/credit notification.
    Camt054,
    /// BAI2 (US cash management balance reporting).
    Bai2,
    /// A CSV export read with the named CSV profile.
    Csv(String),
}

impl Format {
    /// The command-line name of the format (`mt940`, `csv:cmb_debit`, …).
    #[must_use]
    pub fn name(&self) -> String {
        match self {
            Self::Mt940 => "mt940".into(),
            Self::Mt942 => "mt942".into(),
            Self::Camt052 => "camt052".into(),
            Self::Camt053 => "camt053".into(),
            Self::Camt054 => "camt054".into(),
            Self::Bai2 => "bai2".into(),
            Self::Csv(profile) => format!("csv:{profile}"),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// Error returned by [`Format::from_str`] for a name that is not a known format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown feed format {0:?}: expected one of mt940, mt942, camt052, camt053, camt054, bai2, csv:PROFILE"
)]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        let format = match lower.replace(['.', '-', '_'], "").as_str() {
            "mt940" => Self::Mt940,
            "mt942" => Self::Mt942,
            "camt052" => Self::Camt052,
            "camt053" => Self::Camt053,
            "camt054" => Self::Camt054,
            "bai2" | "bai" => Self::Bai2,
            _ => match lower.strip_prefix("csv:") {
                Some(profile) if !profile.is_empty() => Self::Csv(profile.to_string()),
                _ => return Err(UnknownFormat(s.to_string())),
            },
        };
        Ok(format)
    }
}

impl Serialize for Format {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.name())
    }
}

/// What kind of report a statement is; only end-of-day statements carry a balance chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StatementKind {
    /// End-of-period statement (MT940, camt.053, a CSV export, a BAI2 account).
    Statement,
    /// Intraday report (MT942, camt.052).
    IntradayReport,
    /// Debit/credit notification (camt.054).
    Notification,
    /// Settlement report of a wallet or card acquirer (WeChat Pay, Alipay, POS): customer
    /// payments with fees, no balances; each transaction carries its [`Settlement`].
    Settlement,
}

/// Where a statement or transaction came from in the input, for audit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SourceSpan {
    /// First line (1-based) of the record.
    pub line: u32,
    /// Last line (1-based, inclusive) of the record.
    pub end_line: u32,
    /// Byte offset of the record's start in the input (after transcoding a UTF-16 input).
    pub start: usize,
    /// Byte offset just past the record's end.
    pub end: usize,
    /// XML path of the element (camt only), e.g. `/Document/BkToCstmrStmt/Stmt[1]/Ntry[2]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

impl SourceSpan {
    /// The raw bytes of the span in `input` (empty when the span lies outside it).
    #[must_use]
    pub fn slice<'a>(&self, input: &'a [u8]) -> &'a [u8] {
        input.get(self.start..self.end).unwrap_or_default()
    }
}

/// A dated balance, signed: positive is a credit balance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Balance {
    /// Signed amount (credit positive), exact.
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    /// ISO 4217 currency code.
    pub currency: String,
    /// Balance date.
    pub date: NaiveDate,
    /// An intermediate balance (MT940 `:60M:`/`:62M:`): the statement continues in the next
    /// message of a multi-part statement.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub intermediate: bool,
}

/// Result of the balance check: opening balance + sum of transactions = closing balance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum BalanceCheck {
    /// The balance chain holds exactly.
    Balanced,
    /// The chain does not hold (only seen on statements kept by [`crate::CheckMode::Flag`]).
    Mismatch {
        /// Closing balance the transactions imply.
        #[serde(with = "rust_decimal::serde::str")]
        computed_closing: Decimal,
        /// Closing balance the bank reported.
        #[serde(with = "rust_decimal::serde::str")]
        reported_closing: Decimal,
    },
    /// No check possible, with the reason (e.g. an intraday report carries no balances).
    NotChecked {
        /// Why the check could not run.
        reason: String,
    },
}

/// Booking status of an entry (camt `Sts`); statement formats only report booked entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryStatus {
    /// Booked on the account.
    Booked,
    /// Pending, not yet booked (camt `PDNG`); never part of the balance chain.
    Pending,
    /// Information only (camt `INFO`); never part of the balance chain.
    Information,
}

/// One bank statement, report or notification for one account and currency.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Statement {
    /// Statement, intraday report or notification.
    pub kind: StatementKind,
    /// Message or statement identifier (`:20:`, camt `Stmt/Id`, BAI2 file id).
    pub id: Option<String>,
    /// Related reference (MT940 `:21:`), where given.
    pub related_reference: Option<String>,
    /// Account identifier as the bank wrote it (IBAN, `BLZ/account`, card number…).
    pub account: String,
    /// Bank servicing the account (BIC or bank id), where given.
    pub servicer: Option<String>,
    /// ISO 4217 currency of the account.
    pub currency: String,
    /// Statement/sequence number (`:28C:` as written, camt electronic or legal sequence).
    pub sequence_number: Option<String>,
    /// When the bank created the report, as written (camt `CreDtTm`, MT942 `:13D:`).
    pub created_at: Option<String>,
    /// Opening balance (`:60F:`/`:60M:`, camt `OPBD`/`PRCD`, BAI2 `010`).
    pub opening_balance: Option<Balance>,
    /// Closing booked balance (`:62F:`/`:62M:`, camt `CLBD`, BAI2 `015`).
    pub closing_balance: Option<Balance>,
    /// Closing available balance (`:64:`, camt `CLAV`, BAI2 `045`).
    pub closing_available_balance: Option<Balance>,
    /// Forward available balances (`:65:`, camt `FWAV`).
    pub forward_available_balances: Vec<Balance>,
    /// Statement-level information (`:86:` outside a transaction, camt `AddtlStmtInf`).
    pub information: Option<String>,
    /// The transactions, in file order.
    pub transactions: Vec<Transaction>,
    /// Outcome of the balance check.
    pub balance_check: BalanceCheck,
    /// Problems tolerated because the caller asked for [`crate::CheckMode::Flag`]; in the
    /// default strict mode a statement with any of these is rejected instead.
    pub flags: Vec<FeedError>,
    /// Where the statement sits in the input.
    pub source: SourceSpan,
}

/// One booked (or reported) transaction, signed from the account holder's side.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transaction {
    /// Booking (entry) date; absent where the bank did not give one.
    pub booking_date: Option<NaiveDate>,
    /// Value date; absent where the bank did not give one.
    pub value_date: Option<NaiveDate>,
    /// Signed amount: positive is money in (credit), negative is money out (debit).
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    /// ISO 4217 currency of the amount.
    pub currency: String,
    /// Booked, pending or information only.
    pub status: EntryStatus,
    /// True for a reversal (storno) of an earlier entry; the sign already reflects it.
    pub reversal: bool,
    /// Name of the other party (payer of a credit, payee of a debit).
    pub counterparty_name: Option<String>,
    /// Account (IBAN or local number) of the other party.
    pub counterparty_account: Option<String>,
    /// Bank (BIC or bank code) of the other party.
    pub counterparty_bank: Option<String>,
    /// SEPA/ISO end-to-end id given by the originator.
    pub end_to_end_id: Option<String>,
    /// Reference of the account servicing bank (`:61:` `//ref`, camt `AcctSvcrRef`).
    pub bank_reference: Option<String>,
    /// Reference for the account owner (`:61:` customer reference, BAI2 customer ref).
    pub customer_reference: Option<String>,
    /// Structured payment reference (creditor reference, e.g. RF… or a contract number).
    pub payment_reference: Option<String>,
    /// Remittance information (purpose text) for matching (R-P4).
    pub remittance_information: Option<String>,
    /// Bank transaction code (`:61:` type such as `NTRF`, camt domain/family/sub-family or
    /// proprietary code, BAI2 type code, CSV transaction type).
    pub bank_transaction_code: Option<String>,
    /// Free text exactly as the bank wrote it (`:86:`, camt `AddtlNtryInf`, BAI2 text).
    pub description: Option<String>,
    /// Individual payments of a batch entry (camt entries with several `TxDtls`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<TransactionDetail>,
    /// Further fields a dialect provides (German GVC, prima nota, mandate id, funds code…).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: Extra,
    /// Channel, batch, gross, fee and net of a line of a settlement report (`None` for bank
    /// statements).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settlement: Option<Settlement>,
    /// Stable identity of the transaction across files; see [`crate::fingerprint`].
    pub fingerprint: Fingerprint,
    /// Where the transaction sits in the input.
    pub source: SourceSpan,
}

impl Transaction {
    /// A new booked transaction with only amount and currency set.
    #[must_use]
    pub fn new(amount: Decimal, currency: impl Into<String>) -> Self {
        Self {
            booking_date: None,
            value_date: None,
            amount,
            currency: currency.into(),
            status: EntryStatus::Booked,
            reversal: false,
            counterparty_name: None,
            counterparty_account: None,
            counterparty_bank: None,
            end_to_end_id: None,
            bank_reference: None,
            customer_reference: None,
            payment_reference: None,
            remittance_information: None,
            bank_transaction_code: None,
            description: None,
            details: Vec::new(),
            extra: BTreeMap::new(),
            settlement: None,
            fingerprint: Fingerprint::default(),
            source: SourceSpan::default(),
        }
    }

    /// The date to show and match on: the booking date, else the value date.
    #[must_use]
    pub fn date(&self) -> Option<NaiveDate> {
        self.booking_date.or(self.value_date)
    }
}

/// One payment inside a batch entry (camt `NtryDtls/TxDtls` when there are several).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TransactionDetail {
    /// Signed amount of this payment, where the bank split the batch amount.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub amount: Option<Decimal>,
    /// Currency of `amount`.
    pub currency: Option<String>,
    /// Name of the other party.
    pub counterparty_name: Option<String>,
    /// Account of the other party.
    pub counterparty_account: Option<String>,
    /// Bank of the other party.
    pub counterparty_bank: Option<String>,
    /// End-to-end id of this payment.
    pub end_to_end_id: Option<String>,
    /// Bank reference of this payment.
    pub bank_reference: Option<String>,
    /// Structured payment reference of this payment.
    pub payment_reference: Option<String>,
    /// Remittance information of this payment.
    pub remittance_information: Option<String>,
    /// Further references and codes (`uetr`, `instruction_id`, `mandate_id`, `purpose_code`…).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: Extra,
    /// Where the detail sits in the input.
    pub source: SourceSpan,
}

/// Everything read from one input file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParsedFile {
    /// The file name given by the caller (used in every error message).
    pub file: String,
    /// The format used (detected or forced).
    pub format: Format,
    /// Text encoding the file was read with (`UTF-8`, `windows-1252`, `GB18030`…).
    pub encoding: String,
    /// Statements that passed every check (or were kept flagged in flag mode).
    pub statements: Vec<Statement>,
    /// Statements that were rejected, with why; good statements in the same file are kept.
    pub errors: Vec<FeedError>,
}

impl ParsedFile {
    /// True when no statement was rejected.
    #[must_use]
    pub fn is_clean(&self) -> bool {
        self.errors.is_empty()
    }

    /// Number of transactions over all accepted statements.
    #[must_use]
    pub fn transaction_count(&self) -> usize {
        self.statements.iter().map(|s| s.transactions.len()).sum()
    }

    /// The output as pretty JSON (amounts as decimal strings), as `collectctl feed parse` prints it.
    #[must_use]
    pub fn to_json_pretty(&self) -> String {
        // Serialising plain data with string keys cannot fail; fall back to an empty object.
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".to_string())
    }
}
