//! CSV profiles: how one bank's export maps onto the model. Profiles are data (JSON), so an
//! operator can add a bank without a rebuild; the built-in ones cover the Chinese bank exports
//! in the sample set.

use serde::{Deserialize, Serialize};

use super::SettlementSpec;
use crate::ParseOptions;
use crate::error::{ErrorKind, FeedError, Location};

/// A column reference: the header text of the column (matched after trimming spaces/tabs).
pub type Column = String;

/// A date column and the `strftime` formats it may use (`%Y-%m-%d`, `%Y%m%d`, `%m/%d`…).
/// A format without a year takes it from a `YYYY年MM月` statement month in the preamble.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DateSpec {
    /// Column holding the date.
    pub column: Column,
    /// Accepted formats, tried in order.
    pub formats: Vec<String>,
    /// Column to use when `column` is empty on a row (e.g. posting date when the transaction
    /// date is blank).
    #[serde(default)]
    pub fallback: Option<Column>,
}

/// Decides debit or credit from a text column: the cell starts with one of the markers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectionSpec {
    /// Column holding the marker (e.g. `借贷` with `借 Dr`/`贷 Cr`).
    pub column: Column,
    /// Prefixes meaning money in.
    pub credit: Vec<String>,
    /// Prefixes meaning money out.
    pub debit: Vec<String>,
}

/// Where the amount and its sign come from. Use `column` (signed, or unsigned with
/// `direction`), or the pair `credit`/`debit` (two unsigned columns, one filled per row).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmountSpec {
    /// One amount column.
    #[serde(default)]
    pub column: Option<Column>,
    /// Column of money in (收入, 存入, 贷方).
    #[serde(default)]
    pub credit: Option<Column>,
    /// Column of money out (支出, 借方).
    #[serde(default)]
    pub debit: Option<Column>,
    /// Sign taken from a marker column instead of the number.
    #[serde(default)]
    pub direction: Option<DirectionSpec>,
    /// The bank writes money out as positive (credit-card statements): flip the sign.
    #[serde(default)]
    pub negate: bool,
    /// Cells look like `CNY 123.18`: the leading currency code is the row's currency.
    #[serde(default)]
    pub currency_prefix: bool,
}

/// A CSV export profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvProfile {
    /// Name used in `--format csv:NAME`.
    pub name: String,
    /// What export this is (bank, product, menu path).
    #[serde(default)]
    pub title: String,
    /// Encoding label (`gb18030`, `utf-8`…); `None` detects UTF-8 and falls back to GB18030.
    #[serde(default)]
    pub encoding: Option<String>,
    /// Field delimiter.
    #[serde(default = "comma")]
    pub delimiter: char,
    /// Header cells that identify the header row (all must be present); also used to detect
    /// the profile.
    pub header: Vec<String>,
    /// Column with the account (card) number, if the export has one per row.
    #[serde(default)]
    pub account_column: Option<Column>,
    /// Preamble text before the account number (e.g. `卡号:`), if the export names it above
    /// the header.
    #[serde(default)]
    pub account_prefix: Option<String>,
    /// Booking (posting) date.
    pub booking_date: DateSpec,
    /// Value (transaction) date.
    #[serde(default)]
    pub value_date: Option<DateSpec>,
    /// Amount and sign.
    pub amount: AmountSpec,
    /// Currency column (ISO code or a Chinese name such as 人民币).
    #[serde(default)]
    pub currency_column: Option<Column>,
    /// Currency when there is no column (or it is empty).
    #[serde(default)]
    pub default_currency: Option<String>,
    /// Running balance after each row, used to check the rows chain up.
    #[serde(default)]
    pub balance: Option<Column>,
    /// Counterparty name.
    #[serde(default)]
    pub counterparty_name: Option<Column>,
    /// Counterparty account.
    #[serde(default)]
    pub counterparty_account: Option<Column>,
    /// Counterparty bank.
    #[serde(default)]
    pub counterparty_bank: Option<Column>,
    /// Bank reference (journal number).
    #[serde(default)]
    pub bank_reference: Option<Column>,
    /// Columns joined (with a space) into the remittance information.
    #[serde(default)]
    pub remittance: Vec<Column>,
    /// Transaction type column.
    #[serde(default)]
    pub bank_transaction_code: Option<Column>,
    /// Columns joined into the description.
    #[serde(default)]
    pub description: Vec<Column>,
    /// Further columns copied into `extra` under their header text.
    #[serde(default)]
    pub extra: Vec<Column>,
    /// Cell values that mean "empty" (`-`, `--`, `----------`).
    #[serde(default)]
    pub empty_values: Vec<String>,
    /// Rows whose first cell contains one of these (e.g. `合计`) are totals, not transactions.
    #[serde(default)]
    pub summary_rows: Vec<String>,
    /// Columns tried in order for the payment reference (the contract number the payer gave,
    /// R-P4); the first non-empty cell wins.
    #[serde(default)]
    pub payment_reference: Vec<Column>,
    /// Prefixes removed from every cell before it is read: marks that only tell a spreadsheet
    /// to keep the cell as text (WeChat Pay's `` ` `` as in `` `¥100.00``).
    #[serde(default)]
    pub cell_prefixes: Vec<String>,
    /// The export is a settlement report (WeChat Pay, Alipay, POS): fee, net and batch per row.
    #[serde(default)]
    pub settlement: Option<SettlementSpec>,
}

fn comma() -> char {
    ','
}

impl CsvProfile {
    /// Read a profile from JSON (unknown keys are rejected, so typos are caught).
    ///
    /// # Errors
    /// [`ErrorKind::Profile`] with serde's message.
    pub fn from_json(json: &str) -> Result<Self, FeedError> {
        serde_json::from_str(json).map_err(|e| {
            FeedError::new(
                ErrorKind::Profile,
                Location::Line {
                    line: u32::try_from(e.line()).unwrap_or(0),
                },
                "CSV profile",
                "a JSON CSV profile (see services/feeds/README.md)",
                e.to_string(),
            )
        })
    }

    /// The built-in profiles.
    #[must_use]
    pub fn builtin() -> Vec<CsvProfile> {
        BUILTIN
            .iter()
            .filter_map(|json| serde_json::from_str(json).ok())
            .collect()
    }
}

/// Built-in profile data, one JSON document per export.
const BUILTIN: &[&str] = &[
    include_str!("profiles/abc_debit.json"),
    include_str!("profiles/boc_debit.json"),
    include_str!("profiles/boc_credit.json"),
    include_str!("profiles/bocom_debit.json"),
    include_str!("profiles/bocom_credit.json"),
    include_str!("profiles/cgb_credit.json"),
    include_str!("profiles/cmb_debit.json"),
    include_str!("profiles/cmb_credit.json"),
    include_str!("profiles/icbc_debit.json"),
    include_str!("profiles/icbc_credit.json"),
    include_str!("profiles/hsbchk_debit.json"),
    include_str!("profiles/hsbchk_credit.json"),
    include_str!("profiles/wechatpay.json"),
    include_str!("profiles/alipay.json"),
    include_str!("profiles/pos.json"),
];

/// Operator profiles first, then built-ins.
fn all(options: &ParseOptions) -> Vec<CsvProfile> {
    let mut profiles = options.csv_profiles.clone();
    profiles.extend(CsvProfile::builtin());
    profiles
}

pub(crate) fn find(name: &str, options: &ParseOptions) -> Result<CsvProfile, FeedError> {
    let all = all(options);
    let names: Vec<String> = all.iter().map(|p| p.name.clone()).collect();
    all.into_iter()
        .find(|p| p.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| {
            FeedError::new(
                ErrorKind::UnknownFormat,
                Location::File,
                "CSV profile",
                format!("one of {}", names.join(", ")),
                name,
            )
        })
}

/// The profile whose header cells all appear in one of the first rows; with several, the one
/// with the most header cells (the most specific) wins.
pub(crate) fn detect(head: &[u8], options: &ParseOptions) -> Option<String> {
    let text = match std::str::from_utf8(head) {
        Ok(t) => t.to_string(),
        Err(e) if e.error_len().is_none() => {
            // Cut inside a multi-byte character at the sniff boundary.
            String::from_utf8_lossy(head.get(..e.valid_up_to()).unwrap_or_default()).into_owned()
        }
        Err(_) => encoding_rs::GB18030
            .decode_without_bom_handling(head)
            .0
            .into_owned(),
    };
    let rows: Vec<Vec<String>> = text
        .lines()
        .take(40)
        .map(|l| l.split([',', '\t', ';']).map(super::clean).collect())
        .collect();
    all(options)
        .into_iter()
        .filter(|p| {
            rows.iter()
                .any(|r| p.header.iter().all(|h| r.iter().any(|c| c == h.trim())))
        })
        .max_by_key(|p| p.header.len())
        .map(|p| p.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_profiles_all_load() {
        assert_eq!(CsvProfile::builtin().len(), BUILTIN.len());
    }

    #[test]
    fn typos_are_rejected() {
        let e = CsvProfile::from_json(
            r#"{"name":"x","header":[],"booking_date":{"column":"d","formats":[]},"amount":{},"amountt":1}"#,
        );
        assert!(e.is_err());
    }
}
