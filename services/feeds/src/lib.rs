//! Bank statement feed parsers (R-P1, R-P2): SWIFT MT940/MT942, ISO 20022 camt.052/053/054,
//! BAI2 and bank CSV exports, read exactly into one normalised model; settlement reports of
//! WeChat Pay, Alipay and POS acquirers (CSV) add each line's fee, net and payout batch.
//!
//! The crate is pure: it reads bytes and returns data, never touching files or the network.
//! Every amount is an exact [`rust_decimal::Decimal`]; parsers never panic or loop forever on
//! any input (fuzzed), and a bad statement never hides the good ones in the same file: it
//! lands in [`ParsedFile::errors`] with the file, line or XML path, field and expectation.
//!
//! ```
//! let mt940 = b":20:REF\n:25:NL81ASNB9999999999\n:28C:1/1\n:60F:C200101EUR100,00\n\
//! :61:2001010101C25,50NTRFNONREF//B1\n:86:/EREF/E2E-1/NAME/ACME BV/REMI/Invoice 42\n\
//! :62F:C200101EUR125,50\n-";
//! let parsed = feeds::parse_file("day.sta", mt940, None, &feeds::ParseOptions::default())?;
//! assert_eq!(parsed.format, feeds::Format::Mt940);
//! let tx = &parsed.statements[0].transactions[0];
//! assert_eq!(tx.amount.to_string(), "25.50");
//! assert_eq!(tx.remittance_information.as_deref(), Some("Invoice 42"));
//! assert_eq!(tx.fingerprint.to_string().len(), 64);
//! # Ok::<(), feeds::FeedError>(())
//! ```

// A `FeedError` carries file, location, field, expectation and finding as owned strings so
// an operator can act on it without the input at hand; it is bigger than clippy's default for
// `Err` variants. Errors are the cold path (a bad statement), so the size is accepted here
// rather than boxing every field behind accessors.
#![allow(clippy::result_large_err)]

mod bai2;
mod camt;
mod check;
pub mod csv;
pub mod currency;
mod detect;
mod error;
pub mod fingerprint;
mod model;
pub mod mt940;
mod settlement;
mod text;
mod values;

pub use csv::CsvProfile;
pub use error::{ErrorKind, FeedError, Location};
pub use fingerprint::Fingerprint;
pub use model::{
    Balance, BalanceCheck, EntryStatus, Extra, Format, ParsedFile, SourceSpan, Statement,
    StatementKind, Transaction, TransactionDetail, UnknownFormat,
};
pub use settlement::{Settlement, SettlementChannel};

/// What to do with a statement that parsed but failed a check (balance chain, currency,
/// date, control total, unknown field).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CheckMode {
    /// Reject the statement: it goes to [`ParsedFile::errors`] (the default).
    #[default]
    Strict,
    /// Keep the statement with its problems listed in [`Statement::flags`], for manual review
    /// (R-O6: a failed feed must never lose payments).
    Flag,
}

/// Options for [`parse_file`].
#[derive(Debug, Clone, Default)]
pub struct ParseOptions {
    /// Strict (reject) or flag statements that fail a check.
    pub mode: CheckMode,
    /// Force a text encoding (WHATWG label: `gb18030`, `gbk`, `utf-8`, `windows-1252`…);
    /// by default UTF-8 is used when valid, else windows-1252 (SWIFT, BAI2) or GB18030 (CSV).
    pub encoding: Option<String>,
    /// Account identifier for CSV exports that do not name the account.
    pub account: Option<String>,
    /// Currency for CSV rows and BAI2 accounts that do not state one.
    pub currency: Option<String>,
    /// Extra CSV profiles (operator-defined, e.g. loaded from JSON with [`CsvProfile::from_json`]);
    /// they take precedence over built-in profiles of the same name.
    pub csv_profiles: Vec<CsvProfile>,
}

/// Parse one feed file. `name` is only used in messages; `format` forces a format (else it is
/// detected from the content).
///
/// Returns `Err` only when the file as a whole is unusable (empty, unknown format, binary
/// Excel, unknown CSV profile, undecodable). Statements that fail are listed in
/// [`ParsedFile::errors`] while the good statements of the file are returned.
///
/// # Errors
/// A [`FeedError`] naming the file and what was expected.
pub fn parse_file(
    name: &str,
    bytes: &[u8],
    format: Option<Format>,
    options: &ParseOptions,
) -> Result<ParsedFile, FeedError> {
    let result = parse_inner(name, bytes, format, options);
    result.map_err(|e| e.with_file(name))
}

fn parse_inner(
    name: &str,
    bytes: &[u8],
    format: Option<Format>,
    options: &ParseOptions,
) -> Result<ParsedFile, FeedError> {
    let forced = options
        .encoding
        .as_deref()
        .map(text::encoding_for_label)
        .transpose()?;
    let format = match format {
        Some(f) => f,
        None => detect::detect(bytes, options)?,
    };
    let fallback = match format {
        Format::Csv(_) => text::Fallback::Chinese,
        _ => text::Fallback::Western,
    };
    let input = text::prepare(bytes, forced, fallback)?;
    let results = match &format {
        // The MT940 parser builds its compact form (with checks); the owned model is made
        // from it statement by statement, each statement's fingerprints computed right
        // before, so `mt940::parse_compact` and this always agree.
        Format::Mt940 | Format::Mt942 => {
            return Ok(mt940::owned_file(name, format, &input, options));
        }
        Format::Camt052 | Format::Camt053 | Format::Camt054 => camt::parse(&input, &format),
        Format::Bai2 => bai2::parse(&input, options),
        Format::Csv(profile) => {
            let profile = csv::find_profile(profile, options)?;
            csv::parse(&input, &profile, options)
        }
    };
    Ok(check::assemble(
        name,
        format,
        input.encoding_name(),
        results,
        options,
    ))
}

/// Detect the format of a file from its content.
///
/// # Errors
/// [`ErrorKind::Empty`], [`ErrorKind::Unsupported`] (binary Excel) or
/// [`ErrorKind::UnknownFormat`] with what the content looked like.
pub fn detect_format(bytes: &[u8], options: &ParseOptions) -> Result<Format, FeedError> {
    detect::detect(bytes, options)
}
