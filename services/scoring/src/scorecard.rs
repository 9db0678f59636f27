//! Scorecard `dpd-v2`: a transparent grade from payment behaviour (R-S1, R-S2).
//!
//! The walking skeleton's scorecard uses three of R-S1's indicators, all from events:
//! - days past due (DPD): the most days overdue among the customer's open receivables;
//! - late history: how many receivables have ever been overdue;
//! - broken promises (R-D5): a promise to pay dunning judged broken lowers the grade by one
//!   step (`BROKEN_PROMISE`), to D at the worst.
//!
//! | DPD        | grade                                          |
//! |------------|------------------------------------------------|
//! | 0          | AAA (never late), AA (1–2 late), A (3 or more)  |
//! | 1–7        | BBB                                            |
//! | 8–30       | BB                                             |
//! | 31–60      | B                                              |
//! | 61–90      | CCC                                            |
//! | 91–120     | CC                                             |
//! | 121–180    | C                                              |
//! | over 180   | D                                              |
//!
//! Every grade carries reason codes saying which indicator set it.

/// Version stamped on every score so an auditor knows which rule produced it.
pub const VERSION: &str = "dpd-v2";

/// The indicators the scorecard reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Features {
    /// Most days overdue among open receivables (0 when none is overdue).
    pub days_past_due: u32,
    /// Receivables ever overdue.
    pub late_receivables: u32,
    /// Promises to pay broken (R-D5).
    pub broken_promises: u32,
}

/// A grade with the reasons for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Score {
    /// AAA, AA, A, BBB, BB, B, CCC, CC, C or D.
    pub grade: &'static str,
    /// Codes, most important first.
    pub reasons: Vec<&'static str>,
}

/// Grades from best to worst.
pub const GRADES: [&str; 10] = ["AAA", "AA", "A", "BBB", "BB", "B", "CCC", "CC", "C", "D"];

/// Computes the grade.
pub fn score(features: Features) -> Score {
    let dpd = features.days_past_due;
    let (grade, dpd_reason) = match dpd {
        0 => (
            match features.late_receivables {
                0 => "AAA",
                1..=2 => "AA",
                _ => "A",
            },
            None,
        ),
        1..=7 => ("BBB", Some("DPD_1_7")),
        8..=30 => ("BB", Some("DPD_8_30")),
        31..=60 => ("B", Some("DPD_31_60")),
        61..=90 => ("CCC", Some("DPD_61_90")),
        91..=120 => ("CC", Some("DPD_91_120")),
        121..=180 => ("C", Some("DPD_121_180")),
        _ => ("D", Some("DPD_OVER_180")),
    };
    let mut reasons = Vec::new();
    // R-D5: a broken promise costs one grade.
    let grade = if features.broken_promises > 0 {
        reasons.push("BROKEN_PROMISE");
        let rank = GRADES.iter().position(|g| *g == grade).unwrap_or(0);
        GRADES[(rank + 1).min(GRADES.len() - 1)]
    } else {
        grade
    };
    reasons.extend(dpd_reason);
    if features.late_receivables > 0 {
        reasons.push("LATE_HISTORY");
    }
    if reasons.is_empty() {
        reasons.push("NO_DELINQUENCY");
    }
    Score { grade, reasons }
}

/// What a reason code means, for collectors and auditors.
pub fn describe(code: &str) -> &'static str {
    match code {
        "NO_DELINQUENCY" => "no receivable has ever been overdue",
        "BROKEN_PROMISE" => "a promise to pay or a repayment plan was broken (one grade lower)",
        "LATE_HISTORY" => "one or more receivables were overdue in the past",
        "DPD_1_7" => "the oldest open overdue receivable is 1-7 days past due",
        "DPD_8_30" => "the oldest open overdue receivable is 8-30 days past due",
        "DPD_31_60" => "the oldest open overdue receivable is 31-60 days past due",
        "DPD_61_90" => "the oldest open overdue receivable is 61-90 days past due",
        "DPD_91_120" => "the oldest open overdue receivable is 91-120 days past due",
        "DPD_121_180" => "the oldest open overdue receivable is 121-180 days past due",
        "DPD_OVER_180" => "the oldest open overdue receivable is more than 180 days past due",
        _ => "unknown reason code",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn grade(dpd: u32, late: u32) -> &'static str {
        score(Features {
            days_past_due: dpd,
            late_receivables: late,
            broken_promises: 0,
        })
        .grade
    }

    #[test]
    fn grades_follow_the_documented_table() {
        // R-S1: grades AAA..D from payment history.
        assert_eq!(grade(0, 0), "AAA");
        assert_eq!(grade(0, 2), "AA");
        assert_eq!(grade(0, 3), "A");
        assert_eq!(grade(1, 1), "BBB");
        assert_eq!(grade(8, 1), "BB");
        assert_eq!(grade(33, 1), "B");
        assert_eq!(grade(90, 1), "CCC");
        assert_eq!(grade(120, 1), "CC");
        assert_eq!(grade(180, 1), "C");
        assert_eq!(grade(181, 1), "D");
    }

    #[test]
    fn every_score_explains_itself() {
        // R-S2: reason codes.
        assert_eq!(score(Features::default()).reasons, vec!["NO_DELINQUENCY"]);
        assert_eq!(
            score(Features {
                days_past_due: 40,
                late_receivables: 1,
                broken_promises: 0,
            })
            .reasons,
            vec!["DPD_31_60", "LATE_HISTORY"]
        );
        for code in [
            "NO_DELINQUENCY",
            "LATE_HISTORY",
            "DPD_31_60",
            "DPD_OVER_180",
        ] {
            assert_ne!(describe(code), "unknown reason code");
        }
    }

    #[test]
    fn a_broken_promise_costs_one_grade_r_d5() {
        let with = |dpd, broken| {
            score(Features {
                days_past_due: dpd,
                late_receivables: 1,
                broken_promises: broken,
            })
        };
        assert_eq!(with(20, 0).grade, "BB");
        let broken = with(20, 1);
        assert_eq!(broken.grade, "B");
        assert_eq!(broken.reasons[0], "BROKEN_PROMISE");
        assert_eq!(with(200, 2).grade, "D", "D is the worst");
        assert_ne!(describe("BROKEN_PROMISE"), "unknown reason code");
    }

    proptest! {
        // More days past due never gives a better grade.
        #[test]
        fn grade_is_monotonic_in_dpd(a in 0u32..400, b in 0u32..400, late in 0u32..5) {
            let (lo, hi) = (a.min(b), a.max(b));
            let rank = |g: &str| GRADES.iter().position(|x| *x == g).unwrap();
            prop_assert!(rank(grade(lo, late.max(u32::from(lo > 0)))) <= rank(grade(hi, late.max(u32::from(hi > 0)))));
        }
    }
}
