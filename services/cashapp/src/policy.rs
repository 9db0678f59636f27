//! Thresholds and tolerances an operator sets (R-P5 "auto-applied only above a confidence
//! threshold set by policy", R-P12 write-off tolerance and approval threshold).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Reconciliation policy. Confidences are basis points (0–10000); amounts are in the
/// contract currency. Loaded from JSON with [`Policy::from_json`]; every field is optional
/// there and defaults to the value documented here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// Confidence at or above which a decision is applied without a person (default 8500).
    pub auto_apply_min_confidence: u16,
    /// Below this confidence there is no candidate worth proposing (default 4000).
    pub proposal_min_confidence: u16,
    /// Two candidates closer than this are too close to call (default 1500).
    pub ambiguity_margin: u16,
    /// A difference up to this (bank charges, rounding) may be written off instead of
    /// leaving a receivable open by cents (R-P12; default 5.00).
    #[serde(with = "rust_decimal::serde::str")]
    pub write_off_tolerance: Decimal,
    /// A write-off above this needs a person's approval (R-P12; default 1.00).
    #[serde(with = "rust_decimal::serde::str")]
    pub write_off_approval_above: Decimal,
    /// A payment within this many days of a due date counts as evidence (default 15).
    pub date_window_days: u16,
    /// Same payer, amount and reference within this many days is a duplicate (default 7).
    pub duplicate_window_days: u16,
    /// Apply partial payments automatically when the payer named the contract (default true).
    pub allow_partial: bool,
    /// Apply overpayments automatically (surplus left unapplied and flagged; default true).
    pub allow_overpayment: bool,
    /// At most this many same-name customers are considered for a payer without reference
    /// or known account (default 20).
    pub max_name_candidates: u16,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            auto_apply_min_confidence: 8500,
            proposal_min_confidence: 4000,
            ambiguity_margin: 1500,
            write_off_tolerance: Decimal::new(500, 2),
            write_off_approval_above: Decimal::new(100, 2),
            date_window_days: 15,
            duplicate_window_days: 7,
            allow_partial: true,
            allow_overpayment: true,
            max_name_candidates: 20,
        }
    }
}

/// A policy file that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("policy {file}: line {line}: {message}")]
pub struct PolicyError {
    /// File name.
    pub file: String,
    /// Line of the problem.
    pub line: usize,
    /// What is wrong (unknown key, wrong type…).
    pub message: String,
}

impl Policy {
    /// Read a policy from JSON (unknown keys are rejected so typos are caught).
    ///
    /// # Errors
    /// [`PolicyError`] naming the file and line.
    pub fn from_json(file: &str, json: &str) -> Result<Self, PolicyError> {
        let policy: Self = serde_json::from_str(json).map_err(|e| PolicyError {
            file: file.to_string(),
            line: e.line(),
            message: e.to_string(),
        })?;
        policy.validate().map_err(|message| PolicyError {
            file: file.to_string(),
            line: 0,
            message,
        })?;
        Ok(policy)
    }

    fn validate(&self) -> Result<(), String> {
        if self.auto_apply_min_confidence > 10_000 || self.proposal_min_confidence > 10_000 {
            return Err("confidences are basis points, 0 to 10000".into());
        }
        if self.proposal_min_confidence > self.auto_apply_min_confidence {
            return Err("proposal_min_confidence is above auto_apply_min_confidence".into());
        }
        if self.write_off_tolerance.is_sign_negative()
            || self.write_off_approval_above.is_sign_negative()
        {
            return Err("tolerances cannot be negative".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        let p = Policy::from_json("p.json", r#"{"write_off_tolerance":"2.50"}"#);
        assert_eq!(
            p.map(|p| p.write_off_tolerance),
            Ok(Decimal::new(250, 2)),
            "R-P12 tolerance is configurable"
        );
        assert!(Policy::from_json("p.json", r#"{"auto_apply":1}"#).is_err());
        assert!(Policy::from_json("p.json", r#"{"proposal_min_confidence":9000}"#).is_err());
    }
}
