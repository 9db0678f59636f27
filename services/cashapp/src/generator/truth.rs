//! Ground truth and the quality measurement (the "done when" figures): share of
//! payments with a true match that are applied automatically, share of automatic allocations
//! that are correct, and whether every third-party, wrong-account and duplicate case went to
//! the exceptions.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::decision::{Decision, Outcome};

/// What the engine should do with a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    /// A true match the engine should apply by itself, exactly as `allocations` says.
    Auto,
    /// A true match a person must confirm (nothing in the payment identifies it safely).
    Review,
    /// An exception (`exception` names the kind).
    Exception,
    /// Pays no receivable.
    None,
}

/// One expected allocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TruthAllocation {
    /// Receivable id.
    pub receivable_id: String,
    /// Amount in the contract currency.
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
}

/// The truth about one payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TruthPayment {
    /// Bank reference (camt `AcctSvcrRef`; the in-memory payment's id).
    pub key: String,
    /// Line of the payment in the CSV statement.
    pub csv_line: Option<u32>,
    /// Scenario (`single`, `combined`, `partial`, `third_party`, `duplicate`, …).
    pub category: String,
    /// How the reference is written (`exact`, `typo`, `digits_only`, …).
    pub reference: String,
    /// Who pays (`known_account`, `new_account`, `third_party`, `unrelated`).
    pub payer: String,
    /// What the engine should do.
    pub expect: Expect,
    /// Expected exception kind.
    pub exception: Option<String>,
    /// The customer the money is for.
    pub customer_id: Option<String>,
    /// Expected allocations (for true matches).
    pub allocations: Vec<TruthAllocation>,
}

/// Ground truth of a generated portfolio.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroundTruth {
    /// Seed used.
    pub seed: u64,
    /// One entry per payment (credit line).
    pub payments: Vec<TruthPayment>,
}

/// Outcomes of one category.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CategoryStats {
    /// Payments.
    pub payments: usize,
    /// Applied automatically.
    pub applied: usize,
    /// Applied with exactly the expected allocations.
    pub applied_correctly: usize,
    /// Proposed for a person.
    pub proposed: usize,
    /// Exceptions.
    pub exceptions: usize,
    /// Exceptions of the expected kind.
    pub expected_kind: usize,
}

/// The measured figures.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Quality {
    /// Decisions evaluated.
    pub payments: usize,
    /// Payments with a true match (expected auto or review).
    pub true_matches: usize,
    /// Of those, applied automatically.
    pub true_matches_applied: usize,
    /// Allocations made automatically (over all payments).
    pub allocations_applied: usize,
    /// Of those, correct (receivable and amount as in the truth).
    pub allocations_correct: usize,
    /// Third-party, wrong-account and duplicate cases.
    pub must_be_exceptions: usize,
    /// Of those, sent to the exceptions (any kind).
    pub sent_to_exceptions: usize,
    /// Of those, with the expected exception kind.
    pub expected_kind: usize,
    /// Decisions with no truth entry.
    pub unknown: usize,
    /// Per category.
    pub by_category: BTreeMap<String, CategoryStats>,
    /// Per way of writing the reference (true matches only).
    pub by_reference: BTreeMap<String, CategoryStats>,
}

/// `part / whole` in basis points (10000 when `whole` is 0).
#[must_use]
pub fn basis_points(part: usize, whole: usize) -> u64 {
    if whole == 0 {
        return 10_000;
    }
    (part as u64 * 10_000) / whole as u64
}

/// Basis points as a percentage with two decimals (`9734` → `97.34%`).
#[must_use]
pub fn percent(bp: u64) -> String {
    format!("{}.{:02}%", bp / 100, bp % 100)
}

impl Quality {
    /// Auto-applied share of true matches, basis points.
    #[must_use]
    pub fn auto_rate(&self) -> u64 {
        basis_points(self.true_matches_applied, self.true_matches)
    }

    /// Correct share of automatic allocations, basis points.
    #[must_use]
    pub fn precision(&self) -> u64 {
        basis_points(self.allocations_correct, self.allocations_applied)
    }
}

impl fmt::Display for Quality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "payments: {}", self.payments)?;
        writeln!(
            f,
            "true matches applied automatically: {} of {} = {}",
            self.true_matches_applied,
            self.true_matches,
            percent(self.auto_rate())
        )?;
        writeln!(
            f,
            "automatic allocations correct: {} of {} = {}",
            self.allocations_correct,
            self.allocations_applied,
            percent(self.precision())
        )?;
        writeln!(
            f,
            "third-party / wrong-account / duplicate cases sent to exceptions: {} of {} ({} with the expected kind)",
            self.sent_to_exceptions, self.must_be_exceptions, self.expected_kind
        )?;
        for (name, s) in &self.by_category {
            writeln!(
                f,
                "  {name:<26} {:>7} applied {:>7} (correct {:>7}) proposed {:>6} exceptions {:>6}",
                s.payments, s.applied, s.applied_correctly, s.proposed, s.exceptions
            )?;
        }
        Ok(())
    }
}

fn tally(s: &mut CategoryStats, d: &Decision, correct: bool, kind_ok: bool) {
    s.payments += 1;
    match d.outcome {
        Outcome::Applied => {
            s.applied += 1;
            s.applied_correctly += usize::from(correct);
        }
        Outcome::Proposed => s.proposed += 1,
        Outcome::Exception => {
            s.exceptions += 1;
            s.expected_kind += usize::from(kind_ok);
        }
    }
}

/// Compare decisions with the truth. Decisions are matched on their bank reference, else on
/// their line in the CSV statement.
#[must_use]
pub fn evaluate(truth: &GroundTruth, decisions: &[Decision]) -> Quality {
    let by_key: HashMap<&str, &TruthPayment> =
        truth.payments.iter().map(|t| (t.key.as_str(), t)).collect();
    let by_line: HashMap<u32, &TruthPayment> = truth
        .payments
        .iter()
        .filter_map(|t| t.csv_line.map(|l| (l, t)))
        .collect();
    let mut q = Quality::default();
    for d in decisions {
        q.payments += 1;
        let t = match &d.bank_reference {
            Some(k) => by_key.get(k.as_str()),
            None => d.line.and_then(|l| by_line.get(&l)),
        };
        let Some(t) = t.copied() else {
            q.unknown += 1;
            continue;
        };
        let applied = d.outcome == Outcome::Applied;
        let mut correct = false;
        if applied {
            q.allocations_applied += d.allocations.len();
            let right = d
                .allocations
                .iter()
                .filter(|a| {
                    t.allocations
                        .iter()
                        .any(|x| *x.receivable_id == *a.receivable_id && x.amount == a.amount)
                })
                .count();
            q.allocations_correct += right;
            correct = right == d.allocations.len() && right == t.allocations.len();
        }
        if matches!(t.expect, Expect::Auto | Expect::Review) {
            q.true_matches += 1;
            q.true_matches_applied += usize::from(applied);
        }
        let kind_ok = d.exception.as_ref().is_some_and(|e| {
            t.exception.as_deref() == Some(e.kind.as_str())
                || e.also
                    .iter()
                    .any(|k| t.exception.as_deref() == Some(k.as_str()))
        });
        if t.expect == Expect::Exception {
            q.must_be_exceptions += 1;
            q.sent_to_exceptions += usize::from(d.outcome == Outcome::Exception);
            q.expected_kind += usize::from(kind_ok);
        }
        tally(
            q.by_category.entry(t.category.clone()).or_default(),
            d,
            correct,
            kind_ok,
        );
        if matches!(t.expect, Expect::Auto | Expect::Review) {
            tally(
                q.by_reference.entry(t.reference.clone()).or_default(),
                d,
                correct,
                kind_ok,
            );
        }
    }
    q
}
