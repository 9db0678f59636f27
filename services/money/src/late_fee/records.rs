//! The payment and waiver files of `collectctl late-fee`: amounts are decimal strings in the
//! receivable's currency, which the caller supplies.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::rate::Rate;
use super::{Payment, Waiver, WaiverScope};
use crate::amount::Money;
use crate::currency::Currency;
use crate::error::MoneyError;

/// One entry of a payments file: `{"date": "2026-03-10", "amount": "400.00"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentRecord {
    /// Value date.
    pub date: NaiveDate,
    /// Amount applied to principal, a decimal string.
    pub amount: String,
    /// Free text (bank reference, receipt number); ignored by the computation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Kind of a waiver entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaiverKind {
    /// Everything accrued by the date.
    All,
    /// A fixed `amount`.
    Amount,
    /// A share (`percent`) of what is waivable.
    Percent,
}

/// One entry of a waivers file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaiverRecord {
    /// Effective date.
    pub date: NaiveDate,
    /// `all`, `amount` or `percent`.
    pub kind: WaiverKind,
    /// For `amount`: a decimal string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<String>,
    /// For `percent`: e.g. `"50%"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<Rate>,
    /// Who proposed it.
    pub proposed_by: String,
    /// Who approved it.
    pub approved_by: String,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Approval record reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// Converts payment entries into [`Payment`]s in `currency`; the error names the entry.
pub fn payments_from_records(
    records: &[PaymentRecord],
    currency: Currency,
) -> Result<Vec<Payment>, (usize, MoneyError)> {
    records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            Ok(Payment {
                date: r.date,
                amount: Money::parse(&r.amount, currency).map_err(|e| (i, e))?,
            })
        })
        .collect()
}

/// Converts waiver entries into [`Waiver`]s in `currency`; the error names the entry and the
/// field that is missing or wrong.
pub fn waivers_from_records(
    records: &[WaiverRecord],
    currency: Currency,
) -> Result<Vec<Waiver>, (usize, String)> {
    records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let scope = match (r.kind, &r.amount, &r.percent) {
                (WaiverKind::All, None, None) => WaiverScope::All,
                (WaiverKind::Amount, Some(a), None) => WaiverScope::Amount {
                    amount: Money::parse(a, currency).map_err(|e| (i, format!("amount: {e}")))?,
                },
                (WaiverKind::Percent, None, Some(p)) => WaiverScope::Percent { percent: *p },
                (kind, _, _) => {
                    let want = match kind {
                        WaiverKind::All => "no \"amount\" and no \"percent\"",
                        WaiverKind::Amount => "an \"amount\" and no \"percent\"",
                        WaiverKind::Percent => "a \"percent\" and no \"amount\"",
                    };
                    return Err((i, format!("kind {kind:?} needs {want}").to_lowercase()));
                }
            };
            Ok(Waiver {
                date: r.date,
                scope,
                proposed_by: r.proposed_by.clone(),
                approved_by: r.approved_by.clone(),
                reason: r.reason.clone(),
                reference: r.reference.clone(),
            })
        })
        .collect()
}
