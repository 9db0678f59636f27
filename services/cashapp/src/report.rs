//! The whole run from files (issue item 6, the library side of `collectctl reconcile`):
//! read receivables, statement and rates, reconcile, and summarise. The summary's amounts
//! add up: applied + unapplied = received, per currency, to the fen.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;

use crate::decision::{Decision, ExceptionKind, Outcome, Shape};
use crate::error::InputError;
use crate::fx::RateTable;
use crate::intake::{Skipped, payments_from_statement};
use crate::ledger::Ledger;
use crate::policy::Policy;
use crate::receivables::read_receivables;

/// A file given by name (for messages) and content.
#[derive(Debug, Clone, Copy)]
pub struct NamedFile<'a> {
    /// Name used in error messages.
    pub name: &'a str,
    /// Content.
    pub bytes: &'a [u8],
}

/// Amounts of one currency (the booked currency: the contract's after FX).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Received.
    #[serde(with = "rust_decimal::serde::str")]
    pub received: Decimal,
    /// Applied to receivables.
    #[serde(with = "rust_decimal::serde::str")]
    pub applied: Decimal,
    /// Not applied (surpluses, proposals, exceptions).
    #[serde(with = "rust_decimal::serde::str")]
    pub unapplied: Decimal,
    /// Written off as small differences (R-P12; not cash, not part of the sum): booked
    /// write-offs only, at or below the approval threshold.
    #[serde(with = "rust_decimal::serde::str")]
    pub written_off: Decimal,
    /// Write-offs waiting for a person's approval (above the threshold): the receivables
    /// stay open by these amounts until approved (R-P12, issue 19).
    #[serde(with = "rust_decimal::serde::str")]
    pub write_off_pending: Decimal,
}

/// Counts by outcome and amounts by currency.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Payments decided.
    pub payments: usize,
    /// Count by outcome (applied, proposed, exception).
    pub outcomes: BTreeMap<Outcome, usize>,
    /// Count by what the allocations do, over applied decisions.
    pub shapes: BTreeMap<Shape, usize>,
    /// Count by exception kind.
    pub exceptions: BTreeMap<ExceptionKind, usize>,
    /// Payments converted from another currency (R-P8).
    pub fx_converted: usize,
    /// Applied payments whose small difference waits for approval (R-P12).
    pub write_offs_pending: usize,
    /// Amounts by booked currency.
    pub totals: BTreeMap<String, Totals>,
    /// Applied + unapplied = received for every currency.
    pub balanced: bool,
    /// Transactions that are not payments (debits, reversals, pending).
    pub skipped: usize,
    /// Input rows with errors.
    pub errors: usize,
}

impl Summary {
    /// Summarise decisions.
    #[must_use]
    pub fn of(decisions: &[Decision]) -> Self {
        let mut s = Self {
            payments: decisions.len(),
            ..Self::default()
        };
        for d in decisions {
            *s.outcomes.entry(d.outcome).or_default() += 1;
            if d.outcome == Outcome::Applied
                && let Some(shape) = d.shape
            {
                *s.shapes.entry(shape).or_default() += 1;
            }
            if let Some(e) = &d.exception {
                *s.exceptions.entry(e.kind).or_default() += 1;
            }
            if d.fx.is_some() && d.outcome == Outcome::Applied {
                s.fx_converted += 1;
            }
            let t = s.totals.entry(d.booked_currency.clone()).or_default();
            t.received += d.booked;
            t.applied += d.applied;
            t.unapplied += d.unapplied;
            if d.outcome == Outcome::Applied
                && let Some(w) = &d.write_off
            {
                if w.needs_approval {
                    t.write_off_pending += w.amount;
                    s.write_offs_pending += 1;
                } else {
                    t.written_off += w.amount;
                }
            }
        }
        s.balanced = s
            .totals
            .values()
            .all(|t| t.applied + t.unapplied == t.received);
        s
    }
}

/// Everything a reconciliation run produced.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// One decision per payment, in processing order.
    pub decisions: Vec<Decision>,
    /// Counts and amounts.
    pub summary: Summary,
    /// Input rows that could not be used, naming file, row and field.
    pub errors: Vec<InputError>,
    /// Statement transactions that are not payments.
    pub skipped: Vec<Skipped>,
}

impl Report {
    /// JSON lines: one object per payment, then `{"summary": …}`, then one `{"error": …}` per
    /// input error.
    #[must_use]
    pub fn to_json_lines(&self) -> String {
        let mut out = String::new();
        let mut line = |v: Result<String, serde_json::Error>| {
            // Plain data with string keys always serialises; keep going if not.
            if let Ok(s) = v {
                out.push_str(&s);
                out.push('\n');
            }
        };
        for d in &self.decisions {
            line(serde_json::to_string(d));
        }
        line(serde_json::to_string(
            &serde_json::json!({ "summary": self.summary }),
        ));
        for e in &self.errors {
            line(serde_json::to_string(
                &serde_json::json!({ "error": e, "message": e.to_string() }),
            ));
        }
        out
    }
}

/// Reconcile a bank statement file against a receivables CSV (issue item 6).
///
/// `format` forces the statement format (else detected); `rates` is a CSV of exchange rates
/// (see [`RateTable::from_csv`]). Bad rows of any file are reported in [`Report::errors`]
/// with file, row and field, and the other rows go on; a payment in a currency without a rate
/// is reported there too (and as a `missing_rate` exception, so it is never lost).
///
/// # Errors
/// [`InputError::File`] when a file is unusable as a whole (empty, no header, unknown format).
pub fn reconcile_files(
    receivables: NamedFile<'_>,
    statement: NamedFile<'_>,
    format: Option<feeds::Format>,
    rates: Option<NamedFile<'_>>,
    policy: &Policy,
) -> Result<Report, InputError> {
    let (items, mut errors) = read_receivables(receivables.name, receivables.bytes)?;
    let rate_table = match rates {
        Some(f) => {
            let (t, e) = RateTable::from_csv(f.name, f.bytes)?;
            errors.extend(e);
            t
        }
        None => RateTable::new(),
    };
    let mut ledger = Ledger::new()
        .with_policy(policy.clone())
        .with_rates(rate_table);
    for e in ledger.add_open_items(items.into_iter().map(|(i, row)| (i, Some(row))).collect()) {
        errors.push(InputError::row(
            receivables.name,
            e.row.unwrap_or(0),
            &e.field,
            e.problem,
        ));
    }
    let parsed = feeds::parse_file(
        statement.name,
        statement.bytes,
        format,
        &feeds::ParseOptions::default(),
    )
    .map_err(|e| InputError::from_feed(&e))?;
    errors.extend(parsed.errors.iter().map(InputError::from_feed));
    let mut payments = Vec::new();
    let mut skipped = Vec::new();
    for st in &parsed.statements {
        let (p, s) = payments_from_statement(st);
        payments.extend(p);
        skipped.extend(s);
    }
    let decisions = ledger.reconcile_and_apply(&payments);
    for d in &decisions {
        let missing = d.exception.as_ref().is_some_and(|e| {
            e.kind == ExceptionKind::MissingRate || e.also.contains(&ExceptionKind::MissingRate)
        });
        if missing {
            errors.push(InputError::row(
                statement.name,
                d.line.map_or(0, |l| usize::try_from(l).unwrap_or(usize::MAX)),
                "currency",
                format!(
                    "{} has no exchange rate into the contract currency on or before {} in the rates file",
                    d.currency, d.date
                ),
            ));
        }
    }
    let mut summary = Summary::of(&decisions);
    summary.skipped = skipped.len();
    summary.errors = errors.len();
    Ok(Report {
        decisions,
        summary,
        errors,
        skipped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{d, dec, item, ledger, pay};

    #[test]
    fn r_p12_write_offs_waiting_for_approval_are_reported_apart() {
        // R-P12 (issue 19): a difference above the approval threshold is not written off
        // until a person approves; the receivable stays open by it, so the summary must not
        // count it as written off.
        let account = "6222021234567890123";
        let mut l = ledger(vec![
            item(
                "HT-2024-001-00123-01",
                "HT-2024-001-00123",
                ("C1", "张伟"),
                &[account],
                d(3, 1),
                "10000.00",
            ),
            item(
                "HT-2024-001-00456-01",
                "HT-2024-001-00456",
                ("C1", "张伟"),
                &[account],
                d(3, 1),
                "8000.00",
            ),
        ]);
        let decisions = l.reconcile_and_apply(&[
            // 1.50 short: above the 1.00 approval threshold, within the 5.00 tolerance.
            pay(
                "p1",
                d(3, 2),
                "9998.50",
                "张伟",
                account,
                "HT-2024-001-00123",
            ),
            // 0.40 short: booked at once.
            pay(
                "p2",
                d(3, 2),
                "7999.60",
                "张伟",
                account,
                "HT-2024-001-00456",
            ),
        ]);
        assert!(
            decisions.iter().all(|d| d.outcome == Outcome::Applied),
            "{decisions:?}"
        );
        let s = Summary::of(&decisions);
        let t = s.totals.get("CNY").cloned().unwrap_or_default();
        assert_eq!(t.written_off, dec("0.40"));
        assert_eq!(t.write_off_pending, dec("1.50"));
        assert_eq!(s.write_offs_pending, 1);
        assert_eq!(l.open_amount("HT-2024-001-00123-01"), Some(dec("1.50")));
        assert!(s.balanced);
    }
}
