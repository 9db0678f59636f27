//! Cash application (核銷, R-P4): match every bank payment to the receivables it pays, or say
//! exactly why not (R-P5).
//!
//! A pure library: no I/O. The [`Ledger`] holds the open receivables, indexed by contract
//! number, reference digits (exact and one typo away), reference prefix, receivable id, payer
//! account and normalised name; [`Ledger::reconcile`] decides a batch of [`Payment`]s
//! (built from the feeds crate's transactions with [`Payment::from_transaction`] or
//! [`payments_from_statement`], or directly with [`Payment::new`]) and returns one
//! [`Decision`] per payment: applied, proposed for a person, or an exception with its kind,
//! the best candidates with their [`Evidence`], and a suggested action. [`Ledger::apply`]
//! commits a decision, so the next batch sees the current open amounts.
//!
//! [`reconcile_files`] runs the whole thing from a receivables CSV and a statement file (what
//! `collectctl reconcile` prints); [`generate`] writes a reproducible synthetic portfolio with
//! its ground truth, and [`generator::evaluate`] measures the engine against it.

mod allocate;
mod csvread;
mod decision;
mod error;
mod evidence;
mod fx;
mod ident;
mod index;
mod intake;
mod ledger;
mod model;
mod names;
mod policy;
mod receivables;
mod refs;
mod report;
#[cfg(test)]
mod testkit;
mod text;

pub mod generator;

pub use decision::{
    Allocation, AllocationOrder, Candidate, Decision, Exception, ExceptionKind, Outcome, Shape,
    WriteOff,
};
pub use error::{ApplyError, InputError, ItemError};
pub use evidence::{AmountFit, Evidence, RefMatch};
pub use fx::{FxConversion, RateTable};
pub use generator::{Generated, GeneratorConfig, generate};
pub use ident::Text;
pub use intake::{NotAPayment, Skipped, payments_from_statement};
pub use ledger::Ledger;
pub use model::{OpenItem, Payment};
pub use names::NameMatch;
pub use policy::{Policy, PolicyError};
pub use receivables::{
    COLUMNS as RECEIVABLE_COLUMNS, ReadItems, read_receivables, write_receivables,
};
pub use report::{NamedFile, Report, Summary, Totals, reconcile_files};
