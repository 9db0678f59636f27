//! What every subcommand shares: date parsing, JSON output, errors with a hint.

use std::fmt::Display;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use chrono::NaiveDate;

/// A failed command: what is wrong (with its causes) and, when we know it, what to do next.
#[derive(Debug)]
pub(crate) struct Failure {
    error: anyhow::Error,
    hint: Option<String>,
    /// A document printed on stdout all the same (e.g. `contact-log verify --json` of a log
    /// that is not intact: the answer is the document, the exit status says it failed).
    document: Option<String>,
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure {
            error: e.into(),
            hint: None,
            document: None,
        }
    }
}

impl Failure {
    /// The error and its causes.
    pub(crate) fn describe(&self) -> String {
        format!("{:#}", self.error)
    }

    /// What to do next.
    pub(crate) fn hint_text(&self) -> Option<&str> {
        self.hint.as_deref()
    }

    /// An error with what to do next.
    pub(crate) fn with_hint(error: anyhow::Error, hint: impl Display) -> Self {
        Failure {
            error,
            hint: Some(hint.to_string()),
            document: None,
        }
    }

    /// The same failure, printing `document` on stdout before the error.
    pub(crate) fn with_document(self, document: String) -> Self {
        Failure {
            document: Some(document),
            ..self
        }
    }
}

/// Attaches a hint (what to do next) to an error.
pub(crate) trait Hint<T> {
    fn hint(self, hint: impl Display) -> Result<T, Failure>;
}

impl<T, E: Into<anyhow::Error>> Hint<T> for Result<T, E> {
    fn hint(self, hint: impl Display) -> Result<T, Failure> {
        self.map_err(|e| Failure {
            error: e.into(),
            hint: Some(hint.to_string()),
            document: None,
        })
    }
}

/// The result of a subcommand: the JSON document to print (keys in declaration order).
pub(crate) type Outcome = Result<String, Failure>;

/// Prints the document, or the error and its hint; returns the exit code.
pub(crate) fn finish(result: Outcome) -> ExitCode {
    match result {
        Ok(document) => {
            // A closed pipe (e.g. `| head`) is not an error worth reporting.
            let _ = writeln!(std::io::stdout().lock(), "{document}");
            ExitCode::SUCCESS
        }
        Err(failure) => {
            if let Some(document) = &failure.document {
                let _ = writeln!(std::io::stdout().lock(), "{document}");
            }
            eprintln!("error: {:#}", failure.error);
            if let Some(hint) = failure.hint {
                eprintln!("hint: {hint}");
            }
            ExitCode::FAILURE
        }
    }
}

/// clap value parser for dates.
pub(crate) fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| format!("\"{s}\" is not a date: expected YYYY-MM-DD, e.g. 2026-03-15"))
}

/// Reads a text file, naming it in the error.
pub(crate) fn read(path: &Path, what: &str) -> Result<String, Failure> {
    std::fs::read_to_string(path)
        .with_context(|| format!("cannot read {what} {}", path.display()))
        .hint(format!("check the path given for the {what}"))
}

/// Serialises a result document.
pub(crate) fn json(value: impl serde::Serialize) -> Outcome {
    Ok(serde_json::to_string_pretty(&value)?)
}
