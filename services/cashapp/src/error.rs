//! Errors at the crate's boundaries: bad input rows (naming file, row and field, so the other
//! rows go on), and decisions that no longer fit the ledger.

use serde::Serialize;

/// A problem in an input file. Row errors never stop the other rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InputError {
    /// One row (line) of a file is unusable.
    #[error("{file}: row {row}: field {field}: {problem}")]
    Row {
        /// File name.
        file: String,
        /// 1-based line of the row in the file.
        row: usize,
        /// Column or field concerned.
        field: String,
        /// What is wrong and what was expected.
        problem: String,
    },
    /// The file as a whole is unusable (empty, no header, unknown format).
    #[error("{file}: {problem}")]
    File {
        /// File name.
        file: String,
        /// What is wrong.
        problem: String,
    },
}

impl InputError {
    /// A row error.
    pub(crate) fn row(file: &str, row: usize, field: &str, problem: impl Into<String>) -> Self {
        Self::Row {
            file: file.to_string(),
            row,
            field: field.to_string(),
            problem: problem.into(),
        }
    }

    /// An error of the feeds parser, kept with its location and field.
    pub(crate) fn from_feed(e: &feeds::FeedError) -> Self {
        let problem = format!("expected {}, found {:?}", e.expected, e.found);
        match e.line() {
            Some(line) => Self::Row {
                file: e.file.clone(),
                row: usize::try_from(line).unwrap_or(usize::MAX),
                field: e.field.clone(),
                problem,
            },
            None => Self::File {
                file: e.file.clone(),
                problem: format!("{}: {problem}", e.field),
            },
        }
    }
}

/// A decision that cannot be applied to the ledger as it is now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    /// The receivable is not in the ledger.
    #[error("receivable {0} is not in the ledger")]
    UnknownReceivable(String),
    /// The allocation is more than is open (the decision is stale: something else was applied
    /// since it was made).
    #[error("receivable {receivable}: allocation {amount} is more than the {open} still open")]
    MoreThanOpen {
        /// Receivable id.
        receivable: String,
        /// Amount to allocate.
        amount: String,
        /// Amount open now.
        open: String,
    },
    /// The payment was already applied.
    #[error("payment {0} was already applied")]
    AlreadyApplied(String),
}

/// An open item the ledger refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("receivable {receivable_id}: {field}: {problem}")]
pub struct ItemError {
    /// Receivable id.
    pub receivable_id: String,
    /// Field concerned.
    pub field: String,
    /// What is wrong.
    pub problem: String,
    /// Line of the receivables file, when the item came from one.
    pub row: Option<usize>,
}
