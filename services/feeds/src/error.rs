//! One error type for the whole crate: it names the file, the line (or XML path), the field,
//! what was expected and what was found, so an operator can fix or escalate a feed (R-O6).

use std::fmt;

use serde::Serialize;

/// What went wrong, for programs that react to errors (the message is for people).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The input is empty or only whitespace.
    Empty,
    /// The format could not be recognised, or the named format/profile does not exist.
    UnknownFormat,
    /// A recognised but unsupported input (e.g. a binary Excel workbook).
    Unsupported,
    /// The text cannot be decoded, or XML is not well formed.
    Encoding,
    /// The structure does not follow the format (a field or record is malformed).
    Syntax,
    /// A mandatory field is missing.
    MissingField,
    /// An amount is not an exact decimal amount of the expected shape.
    InvalidAmount,
    /// A date does not exist or has the wrong shape.
    InvalidDate,
    /// A currency code is not in ISO 4217.
    UnknownCurrency,
    /// Amounts in one statement use different currencies where they must agree.
    CurrencyMismatch,
    /// Opening balance + transactions ≠ closing balance.
    BalanceMismatch,
    /// A control total or count in the file (MT942 `:90D:`, BAI2 trailers) does not match.
    ControlTotalMismatch,
    /// A CSV profile is invalid.
    Profile,
}

/// Where in the input an error was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Location {
    /// The file as a whole.
    File,
    /// A line (1-based).
    Line {
        /// 1-based line number.
        line: u32,
    },
    /// An XML element, with the line it starts on.
    Xml {
        /// Element path, e.g. `/Document/BkToCstmrStmt/Stmt[1]/Ntry[2]/Amt`.
        path: String,
        /// 1-based line number.
        line: u32,
    },
}

/// A problem in a feed file: file, location, field, what was expected and what was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeedError {
    /// File name as given by the caller.
    pub file: String,
    /// Category of the problem.
    pub kind: ErrorKind,
    /// Line or XML path.
    pub location: Location,
    /// The field, tag, column or element concerned (e.g. `:61: amount`, `Ntry/Amt`).
    pub field: String,
    /// What the parser expected there.
    pub expected: String,
    /// What it found (truncated for long values).
    pub found: String,
    /// 1-based index of the statement in the file, where the error belongs to one.
    pub statement: Option<usize>,
}

impl FeedError {
    /// A new error; `found` is shortened to keep messages readable.
    pub(crate) fn new(
        kind: ErrorKind,
        location: Location,
        field: impl Into<String>,
        expected: impl Into<String>,
        found: impl AsRef<str>,
    ) -> Self {
        Self {
            file: String::new(),
            kind,
            location,
            field: field.into(),
            expected: expected.into(),
            found: shorten(found.as_ref()),
            statement: None,
        }
    }

    /// Shorthand for an error at a line.
    pub(crate) fn at_line(
        kind: ErrorKind,
        line: u32,
        field: impl Into<String>,
        expected: impl Into<String>,
        found: impl AsRef<str>,
    ) -> Self {
        Self::new(kind, Location::Line { line }, field, expected, found)
    }

    /// The line the error points at, if any.
    #[must_use]
    pub fn line(&self) -> Option<u32> {
        match &self.location {
            Location::File => None,
            Location::Line { line } | Location::Xml { line, .. } => Some(*line),
        }
    }

    pub(crate) fn with_file(mut self, file: &str) -> Self {
        file.clone_into(&mut self.file);
        self
    }

    pub(crate) fn in_statement(mut self, index: usize) -> Self {
        self.statement.get_or_insert(index);
        self
    }
}

impl fmt::Display for FeedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = if self.file.is_empty() {
            "<input>"
        } else {
            &self.file
        };
        match &self.location {
            Location::File => write!(f, "{file}")?,
            Location::Line { line } => write!(f, "{file}:{line}")?,
            Location::Xml { path, line } => write!(f, "{file}:{line} ({path})")?,
        }
        if let Some(index) = self.statement {
            write!(f, " [statement {index}]")?;
        }
        write!(f, ": {}: expected {}", self.field, self.expected)?;
        if self.found.is_empty() {
            f.write_str(", found nothing")
        } else {
            write!(f, ", found {:?}", self.found)
        }
    }
}

impl std::error::Error for FeedError {}

/// Shorten a value for display, on a character boundary.
fn shorten(s: &str) -> String {
    const MAX: usize = 120;
    if s.chars().count() <= MAX {
        return s.to_string();
    }
    let mut out: String = s.chars().take(MAX).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_names_file_line_field_expectation_and_finding() {
        let e = FeedError::at_line(
            ErrorKind::InvalidAmount,
            12,
            ":61: amount",
            "digits with a decimal comma, like 1234,56",
            "12.34",
        )
        .with_file("bank.sta")
        .in_statement(2);
        assert_eq!(
            e.to_string(),
            "bank.sta:12 [statement 2]: :61: amount: expected digits with a decimal comma, like 1234,56, found \"12.34\""
        );
    }

    #[test]
    fn long_values_are_shortened() {
        let e = FeedError::new(ErrorKind::Syntax, Location::File, "x", "y", "z".repeat(500));
        assert!(e.found.chars().count() <= 121);
    }
}
