//! SWIFT MT940 (customer statement) and MT942 (interim transaction report).

mod compact;
mod entries;
mod info86;
mod line61;
mod statement;
mod tags;

use rust_decimal::Decimal;

pub use compact::{CompactFile, CompactStatement, TransactionRef};
pub use info86::Info as Information;
pub use tags::Field;

use crate::check::{self, Occurrences};
use crate::error::{ErrorKind, FeedError, Location};
use crate::fingerprint;
use crate::model::{Balance, Format};
use crate::text::{Input, trim};
use crate::values::{DateProblem, parse_unsigned, yymmdd};
use crate::{ParseOptions, detect, text};

/// Split MT940/MT942 bytes into fields (`:TAG:` plus continuation lines), message by message.
/// A low-level view for debugging a bank's file; [`crate::parse_file`] builds statements.
#[must_use]
pub fn fields(bytes: &[u8]) -> Vec<Vec<Field>> {
    match crate::text::prepare(bytes, None, crate::text::Fallback::Western) {
        Ok(input) => tags::messages(&input)
            .into_iter()
            .map(|m| m.fields)
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// True if some line of `head` starts with an MT940/MT942 field tag.
pub(crate) fn looks_like_swift(head: &[u8]) -> bool {
    text::split_lines(head)
        .filter_map(|l| tags::tag_at(trim(l)))
        .any(|(tag, _)| tag == b"NS" || tag.first().is_some_and(u8::is_ascii_digit))
}

/// A `:61:` statement line, field by field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementLine {
    /// Value date (`None` when it is no calendar day, e.g. 30 February).
    pub value_date: Option<chrono::NaiveDate>,
    /// Entry (booking) date, placed in the year nearest the value date.
    pub entry_date: Option<chrono::NaiveDate>,
    /// Signed amount: credits and reversals of debits positive.
    pub amount: Decimal,
    /// `RC`/`RD`: a reversal.
    pub reversal: bool,
    /// Funds code (third letter of the currency), if present.
    pub funds_code: Option<char>,
    /// Transaction type identification code, e.g. `NTRF`.
    pub transaction_type: String,
    /// Reference for the account owner (up to `//`).
    pub customer_reference: String,
    /// Reference of the account servicing institution (after `//`).
    pub bank_reference: Option<String>,
    /// Supplementary details (further lines).
    pub supplementary_details: Vec<String>,
}

/// Parse the value of a `:61:` field (continuation lines separated by newlines).
///
/// # Errors
/// Names the part that is wrong and what was expected.
pub fn parse_statement_line(value: &str) -> Result<StatementLine, String> {
    let l = line61::parse(value.as_bytes())
        .map_err(|p| format!("{}: expected {}, found {:?}", p.part, p.expected, p.found))?;
    let lossy = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    Ok(StatementLine {
        value_date: l.value_date.ok(),
        entry_date: l.entry_date.and_then(Result::ok),
        amount: l.signed_amount(),
        reversal: matches!(
            l.mark,
            line61::Mark::ReversalOfCredit | line61::Mark::ReversalOfDebit
        ),
        funds_code: l.funds_code,
        transaction_type: lossy(l.type_code),
        customer_reference: lossy(l.customer_reference),
        bank_reference: l.bank_reference.map(lossy),
        supplementary_details: l.supplementary.iter().map(|s| lossy(s)).collect(),
    })
}

/// Interpret a `:86:` text with the bank dialects this crate knows.
#[must_use]
pub fn parse_information(text: &str) -> Information {
    info86::parse(text)
}

/// Parse a balance field value (`:60F:`, `:62F:`, `:64:`, `:65:`): `C100318EUR380115,12`.
///
/// # Errors
/// Names the part that is wrong (mark, date, currency, amount) and what was expected.
pub fn parse_balance(value: &str) -> Result<Balance, String> {
    balance(trim(value.as_bytes()))
        .map_err(|(part, expected, found)| format!("{part}: expected {expected}, found {found:?}"))
}

pub(crate) type PartError = (&'static str, &'static str, String);

pub(crate) fn balance(v: &[u8]) -> Result<Balance, PartError> {
    let lossy = |s: &[u8]| String::from_utf8_lossy(s).into_owned();
    let sign = match v.first() {
        Some(b'C') => Decimal::ONE,
        Some(b'D') => Decimal::NEGATIVE_ONE,
        _ => {
            return Err((
                "debit/credit mark",
                "C or D",
                lossy(v.get(..1).unwrap_or(v)),
            ));
        }
    };
    let date_raw = v.get(1..7).unwrap_or_default();
    let date = yymmdd(date_raw).map_err(|p| match p {
        DateProblem::Shape => ("date", "six digits YYMMDD", lossy(date_raw)),
        DateProblem::NoSuchDay => ("date", "an existing calendar day", lossy(date_raw)),
    })?;
    let ccy = v.get(7..10).unwrap_or_default();
    if ccy.len() != 3 || !ccy.iter().all(u8::is_ascii_uppercase) {
        return Err(("currency", "a three-letter ISO 4217 code", lossy(ccy)));
    }
    let raw_amount = v.get(10..).unwrap_or_default();
    let amount = parse_unsigned(raw_amount, b',').ok_or_else(|| {
        (
            "amount",
            "digits with one decimal comma, like 1234,56",
            lossy(raw_amount),
        )
    })?;
    Ok(Balance {
        amount: sign * amount,
        currency: lossy(ccy),
        date,
        intermediate: false,
    })
}

/// Parse an MT940/MT942 file into the compact form: the same statements, checks, errors and
/// fingerprints as [`crate::parse_file`], with each statement's text in one buffer and
/// transactions read through [`TransactionRef`] views (no allocation per transaction).
/// [`CompactFile::to_parsed_file`] gives exactly what `parse_file` returns.
///
/// `format` is `Mt940` or `Mt942` (only the reported format differs); `None` detects which.
///
/// # Errors
/// As [`crate::parse_file`]: a bad encoding label, or a `format` that is not MT940/MT942.
pub fn parse_compact(
    name: &str,
    bytes: &[u8],
    format: Option<Format>,
    options: &ParseOptions,
) -> Result<CompactFile, FeedError> {
    let result = (|| {
        let format = match format {
            Some(f @ (Format::Mt940 | Format::Mt942)) => f,
            None => match detect::detect(bytes, options) {
                Ok(Format::Mt942) => Format::Mt942,
                _ => Format::Mt940,
            },
            Some(other) => {
                return Err(FeedError::new(
                    ErrorKind::UnknownFormat,
                    Location::File,
                    "format",
                    "mt940 or mt942",
                    other.name(),
                ));
            }
        };
        let forced = options
            .encoding
            .as_deref()
            .map(text::encoding_for_label)
            .transpose()?;
        let input = text::prepare(bytes, forced, text::Fallback::Western)?;
        Ok(compact_file(name, format, &input, options))
    })();
    result.map_err(|e| e.with_file(name))
}

/// Parse prepared input: statements, fingerprints, strict/flag sorting.
pub(crate) fn compact_file(
    name: &str,
    format: Format,
    input: &Input<'_>,
    options: &ParseOptions,
) -> CompactFile {
    let mut results = parse(input);
    // Fingerprints first, over every statement that could be built, so a statement rejected
    // in strict mode does not shift the occurrence numbers of the ones after it.
    let mut seen = Occurrences::default();
    for st in results.iter_mut().flatten() {
        for i in 0..st.transactions.len() {
            let digest = match st.transaction(i) {
                Some(tx) => fingerprint::basis_digest(st.account(), &tx.basis()),
                None => continue,
            };
            if let Some(tx) = st.transactions.get_mut(i) {
                tx.fingerprint = seen.fingerprint(digest);
            }
        }
    }
    let (statements, errors) = check::sort_results(name, results, options, |st| &mut st.flags);
    CompactFile {
        format,
        encoding: input.encoding_name(),
        statements,
        errors,
    }
}

/// Parse every message of the input into a statement (or the reason it was rejected).
pub(crate) fn parse(input: &Input<'_>) -> Vec<Result<CompactStatement, FeedError>> {
    let messages = tags::messages(input);
    if messages.is_empty() {
        return vec![Err(FeedError::new(
            ErrorKind::MissingField,
            Location::File,
            "MT940 message",
            "fields starting with :20: (transaction reference)",
            "no SWIFT field tags",
        ))];
    }
    // Input that was transcoded (UTF-16) is validated here once; else `prepare` did it.
    let owned_utf8 = match (&input.bytes, input.utf8) {
        (std::borrow::Cow::Owned(b), None) if input.encoding == encoding_rs::UTF_8 => {
            std::str::from_utf8(b).ok()
        }
        _ => None,
    };
    let utf8 = input.utf8.or(owned_utf8);
    let mut work = statement::Work::default();
    messages
        .iter()
        .map(|m| statement::Builder::new(input, utf8, &mut work).build(&m.fields))
        .collect()
}
