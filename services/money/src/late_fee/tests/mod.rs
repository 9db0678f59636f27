//! Hand-computed examples for every policy kind (R-C4, R-C12, R-D6). Each expected figure is
//! worked out in the comment above it.

use super::*;
use crate::Currency;

mod accrual;
mod adjustments;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn cny(s: &str) -> Money {
    Money::parse(s, Currency::CNY).unwrap()
}

fn policy(json: &str) -> LateFeePolicy {
    LateFeePolicy::from_json(json).unwrap()
}

fn flat(rate: &str, extra: &str) -> LateFeePolicy {
    policy(&format!(
        r#"{{"name": "flat", "accrual": {{"kind": "flat_daily", "daily_rate": "{rate}"}} {extra}}}"#
    ))
}

/// R-C4 tiered: 0.05%/day in month 1, 0.1%/day from month 2, 20% surcharge at month 3.
fn tiered(extra: &str) -> LateFeePolicy {
    policy(&format!(
        r#"{{"name": "tiered", "accrual": {{"kind": "tiered", "tiers": [
            {{"from_month": 1, "daily_rate": "0.05%"}}, {{"from_month": 2, "daily_rate": "0.1%"}}]}},
          "surcharges": [{{"name": "punitive surcharge", "rate": "20%", "at_month": 3}}] {extra}}}"#
    ))
}

fn lines(b: &LateFeeBreakdown) -> Vec<(LineKind, NaiveDate, NaiveDate, String)> {
    b.lines
        .iter()
        .map(|l| (l.kind, l.from, l.to, l.amount.amount().to_string()))
        .collect()
}

fn assert_adds_up(b: &LateFeeBreakdown) {
    let sum = Money::sum(b.lines.iter().map(|l| l.amount), b.currency).unwrap();
    assert_eq!(sum, b.total, "lines must add up to the total");
}

fn waiver(date: &str, scope: WaiverScope) -> Waiver {
    Waiver {
        date: d(date),
        scope,
        proposed_by: "collector.li".into(),
        approved_by: "supervisor.wang".into(),
        reason: Some("non-malicious debtor".into()),
        reference: Some("APR-2026-0042".into()),
    }
}

fn lpr_table() -> RateTable {
    RateTable::from_json(
        r#"{"series": "LPR1Y", "rates": [
            {"from": "2024-07-22", "annual_rate": "3.35%"},
            {"from": "2024-10-21", "annual_rate": "3.10%"}]}"#,
    )
    .unwrap()
}
