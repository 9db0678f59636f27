//! The dunning ladder (R-D1, R-D7, R-D12) as pure logic.
//!
//! Steps, gentle to hard: `reminder` from the first day overdue, `notice` (written notice)
//! from day 7 — day 3 for customers graded B or worse (R-S4: low grades get earlier
//! follow-up) — and `escalate_to_legal` once the case is `escalate_after_days` overdue
//! and owes at least `escalate_min_amount`, or is a year overdue whatever the amount (R-D7).
//! A step is executed once per case; when time jumps, every skipped step is executed in
//! order, so the ladder never skips a step and never goes back (R-D12).

use rust_decimal::Decimal;

/// A rung of the ladder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    /// SMS / e-mail / app reminder.
    Reminder,
    /// Written notice.
    Notice,
    /// Hand the case to the legal department.
    EscalateToLegal,
}

impl Step {
    /// The name used in the action log and events.
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Reminder => "reminder",
            Step::Notice => "notice",
            Step::EscalateToLegal => "escalate_to_legal",
        }
    }

    /// Parses a logged step name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "reminder" => Some(Step::Reminder),
            "notice" => Some(Step::Notice),
            "escalate_to_legal" => Some(Step::EscalateToLegal),
            _ => None,
        }
    }
}

/// The configurable thresholds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Days overdue before escalation (`DUNNING_ESCALATE_AFTER_DAYS`, default 30).
    pub escalate_after_days: u32,
    /// Least amount owed for escalation before a year has passed
    /// (`DUNNING_ESCALATE_MIN_AMOUNT`, default 5000, R-D7).
    pub escalate_min_amount: Decimal,
    /// A fee charged once per written notice and booked against the debtor as a collection
    /// cost (`DUNNING_NOTICE_FEE`, in the overdue item's currency; 0, the default: none;
    /// R-D12).
    pub notice_fee: Decimal,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            escalate_after_days: 30,
            escalate_min_amount: Decimal::new(5000, 0),
            notice_fee: Decimal::ZERO,
        }
    }
}

/// Grades that get the written notice early (R-S4).
const EARLY_NOTICE_GRADES: [&str; 5] = ["B", "CCC", "CC", "C", "D"];

/// The steps due now, in order, given the case's most days overdue, the total open, the
/// customer's grade and the last step already executed.
pub fn due_steps(
    policy: &Policy,
    days_overdue: u32,
    open_total: Decimal,
    grade: &str,
    last: Option<Step>,
) -> Vec<Step> {
    let notice_day = if EARLY_NOTICE_GRADES.contains(&grade) {
        3
    } else {
        7
    };
    let escalate = (days_overdue >= policy.escalate_after_days
        && open_total >= policy.escalate_min_amount)
        || days_overdue >= 365;
    let mut steps = Vec::new();
    if days_overdue >= 1 {
        steps.push(Step::Reminder);
    }
    if days_overdue >= notice_day {
        steps.push(Step::Notice);
    }
    if escalate {
        steps.push(Step::EscalateToLegal);
    }
    steps.retain(|step| last.is_none_or(|last| *step > last));
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(v: i64) -> Decimal {
        Decimal::new(v, 0)
    }

    #[test]
    fn steps_follow_days_overdue() {
        // R-D1: gentle to hard.
        let p = Policy::default();
        assert!(due_steps(&p, 0, d(10_000), "AAA", None).is_empty());
        assert_eq!(
            due_steps(&p, 1, d(10_000), "AAA", None),
            vec![Step::Reminder]
        );
        assert_eq!(
            due_steps(&p, 7, d(10_000), "AAA", Some(Step::Reminder)),
            vec![Step::Notice]
        );
        assert_eq!(
            due_steps(&p, 30, d(10_000), "AAA", Some(Step::Notice)),
            vec![Step::EscalateToLegal]
        );
    }

    #[test]
    fn a_jump_in_time_runs_every_skipped_step_in_order() {
        // R-D12: never skip a step.
        let p = Policy::default();
        assert_eq!(
            due_steps(&p, 40, d(10_000), "AAA", None),
            vec![Step::Reminder, Step::Notice, Step::EscalateToLegal]
        );
    }

    #[test]
    fn low_grades_get_the_notice_earlier() {
        // R-S4.
        let p = Policy::default();
        assert_eq!(
            due_steps(&p, 3, d(100), "B", Some(Step::Reminder)),
            vec![Step::Notice]
        );
        assert!(due_steps(&p, 3, d(100), "AA", Some(Step::Reminder)).is_empty());
    }

    #[test]
    fn small_debts_go_to_legal_only_after_a_year() {
        // R-D7: legal once arrears exceed 5,000 yuan or are older than one year.
        let p = Policy::default();
        assert!(
            !due_steps(&p, 200, d(4_999), "D", Some(Step::Notice)).contains(&Step::EscalateToLegal)
        );
        assert!(due_steps(&p, 365, d(1), "D", Some(Step::Notice)).contains(&Step::EscalateToLegal));
    }

    proptest! {
        // R-D12: the ladder only moves forward and each step runs once.
        #[test]
        fn steps_are_strictly_after_the_last(days in 0u32..800, amount in 0i64..100_000, last in 0usize..4) {
            let last = [None, Some(Step::Reminder), Some(Step::Notice), Some(Step::EscalateToLegal)][last];
            let steps = due_steps(&Policy::default(), days, d(amount), "BBB", last);
            prop_assert!(steps.windows(2).all(|w| w[0] < w[1]));
            prop_assert!(steps.iter().all(|s| last.is_none_or(|l| *s > l)));
        }
    }
}
