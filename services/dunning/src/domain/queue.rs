//! The collector's work queue (R-D11, R-O3, R-C9; issue 14 item 1): debtors ordered by
//! expected recovery = probability of payment within 30 days × collectible amount, both shown
//! with the reasons behind the probability.
//!
//! **The model** (`queue-v1`), a documented multiplicative scorecard:
//! - the grade's base rate (it carries the payment history, R-S1): AAA 95 %, AA 90 %, A 85 %,
//!   BBB 70 %, BB 55 %, B 40 %, CCC 28 %, CC 18 %, C 10 %, D 5 %, unknown 50 %;
//! - × age of the oldest overdue item: up to 30 days 1.0, 31–90 0.8, 91–180 0.6, older 0.4;
//! - × 1.15 when the debtor paid something in the last 90 days;
//! - × the latest outcome a person logged in the last 30 days: promise made 1.2, answered 1.1,
//!   no answer 0.9, disputed 0.8, refused 0.7, wrong number 0.6;
//! - × 0.7 for each broken promise (at most three);
//! - clamped to 1 %–99 %, to the percent.
//!
//! Ties in expected recovery are broken by the larger amount, then the customer id, so the
//! order is stable.

use std::cmp::Ordering;

use rust_decimal::Decimal;
use uuid::Uuid;

use crate::domain::contact_log::Outcome;

/// The model's name, shown with every estimate.
pub const MODEL: &str = "queue-v1";

/// What is known of a debtor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signals<'a> {
    /// Grade AAA..D, empty when unknown.
    pub grade: &'a str,
    /// Days the oldest open item is overdue.
    pub days_overdue: i64,
    /// Collectible: owed on the open items not in dispute.
    pub collectible: Decimal,
    /// Paid something in the last 90 days.
    pub paid_lately: bool,
    /// The latest outcome a person logged in the last 30 days.
    pub latest_outcome: Option<Outcome>,
    /// Broken promises.
    pub broken_promises: u32,
}

/// The estimate for one debtor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Estimate {
    /// Probability of payment within 30 days, 0.01..0.99.
    pub probability: Decimal,
    /// probability × collectible, to the fen.
    pub expected: Decimal,
    /// Why, factor by factor.
    pub reasons: Vec<String>,
}

fn pct(value: Decimal) -> String {
    format!("{}", (value * Decimal::ONE_HUNDRED).round_dp(0))
}

/// The model applied.
#[must_use]
pub fn estimate(s: &Signals<'_>) -> Estimate {
    let d = |v: i64, scale: u32| Decimal::new(v, scale);
    let base = match s.grade {
        "AAA" => d(95, 2),
        "AA" => d(90, 2),
        "A" => d(85, 2),
        "BBB" => d(70, 2),
        "BB" => d(55, 2),
        "B" => d(40, 2),
        "CCC" => d(28, 2),
        "CC" => d(18, 2),
        "C" => d(10, 2),
        "D" => d(5, 2),
        _ => d(50, 2),
    };
    let grade = if s.grade.is_empty() {
        "unknown"
    } else {
        s.grade
    };
    let mut reasons = vec![format!("grade {grade}: base {} %", pct(base))];
    let mut p = base;
    let (age, why) = match s.days_overdue {
        ..=30 => (d(10, 1), "up to 30 days overdue"),
        31..=90 => (d(8, 1), "31-90 days overdue"),
        91..=180 => (d(6, 1), "91-180 days overdue"),
        _ => (d(4, 1), "over 180 days overdue"),
    };
    p *= age;
    reasons.push(format!("{why}: ×{age}"));
    if s.paid_lately {
        p *= d(115, 2);
        reasons.push("paid something in the last 90 days: ×1.15".to_owned());
    }
    if let Some(outcome) = s.latest_outcome {
        let factor = match outcome {
            Outcome::PromiseMade => Some(d(12, 1)),
            Outcome::Answered => Some(d(11, 1)),
            Outcome::NoAnswer => Some(d(9, 1)),
            Outcome::Disputed => Some(d(8, 1)),
            Outcome::Refused => Some(d(7, 1)),
            Outcome::WrongNumber => Some(d(6, 1)),
            _ => None,
        };
        if let Some(f) = factor {
            p *= f;
            reasons.push(format!("last contact {}: ×{f}", outcome.as_str()));
        }
    }
    for _ in 0..s.broken_promises.min(3) {
        p *= d(7, 1);
    }
    if s.broken_promises > 0 {
        reasons.push(format!(
            "{} broken promise(s): ×0.7 each",
            s.broken_promises.min(3)
        ));
    }
    let half_up = rust_decimal::RoundingStrategy::MidpointAwayFromZero;
    let probability = p
        .clamp(d(1, 2), d(99, 2))
        .round_dp_with_strategy(2, half_up);
    Estimate {
        probability,
        expected: (probability * s.collectible).round_dp_with_strategy(2, half_up),
        reasons,
    }
}

/// Orders queue entries: expected recovery, then amount, descending; then customer id.
pub fn order(entries: &mut [(Uuid, Decimal, Estimate)]) {
    entries.sort_by(|a, b| {
        b.2.expected
            .cmp(&a.2.expected)
            .then_with(|| b.1.cmp(&a.1))
            .then_with(|| a.0.cmp(&b.0))
            .then(Ordering::Equal)
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn signals(grade: &str, days: i64, amount: i64) -> Signals<'_> {
        Signals {
            grade,
            days_overdue: days,
            collectible: Decimal::new(amount, 0),
            paid_lately: false,
            latest_outcome: None,
            broken_promises: 0,
        }
    }

    #[test]
    fn the_documented_factors_multiply_and_show() {
        let plain = estimate(&signals("BB", 20, 10_000));
        assert_eq!(plain.probability, Decimal::new(55, 2));
        assert_eq!(plain.expected, Decimal::new(5_500, 0));
        let promised = estimate(&Signals {
            latest_outcome: Some(Outcome::PromiseMade),
            paid_lately: true,
            ..signals("BB", 40, 9_000)
        });
        // 0.55 × 0.8 × 1.15 × 1.2 = 0.6072 → 61 %.
        assert_eq!(promised.probability, Decimal::new(61, 2));
        assert_eq!(promised.expected, Decimal::new(5_490, 0));
        assert!(
            promised
                .reasons
                .iter()
                .any(|r| r == "last contact promise_made: ×1.2")
        );
        let refused = estimate(&Signals {
            latest_outcome: Some(Outcome::Refused),
            broken_promises: 5,
            ..signals("D", 400, 1_000_000)
        });
        assert_eq!(refused.probability, Decimal::new(1, 2), "clamped at 1 %");
    }

    proptest! {
        /// The order is by expected recovery and does not depend on the input order.
        #[test]
        fn the_order_is_stable_and_by_expected_recovery(
            amounts in prop::collection::vec((0i64..100_000, 0usize..10, 0i64..400), 1..30)
        ) {
            let grades = ["AAA", "AA", "A", "BBB", "BB", "B", "CCC", "CC", "C", "D"];
            let mut entries: Vec<(Uuid, Decimal, Estimate)> = amounts
                .iter()
                .enumerate()
                .map(|(i, (amount, g, days))| {
                    let e = estimate(&signals(grades[*g], *days, *amount));
                    (Uuid::from_u128(i as u128), Decimal::new(*amount, 0), e)
                })
                .collect();
            let mut reversed: Vec<_> = entries.iter().rev().cloned().collect();
            order(&mut entries);
            order(&mut reversed);
            prop_assert_eq!(&entries, &reversed);
            for w in entries.windows(2) {
                prop_assert!(w[0].2.expected >= w[1].2.expected);
            }
        }
    }
}
