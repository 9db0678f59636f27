//! Aging buckets of a receivable (R-C11) and days overdue.

use chrono::NaiveDate;
use serde::Serialize;

/// Calendar days a receivable due on `due` is overdue on `as_of`: `as_of - due`, and 0 when it
/// is not yet overdue. The due date itself is not overdue; the day after is day 1 (the same
/// count the late-fee engine accrues on).
pub fn days_overdue(due: NaiveDate, as_of: NaiveDate) -> u32 {
    u32::try_from((as_of - due).num_days()).unwrap_or(0)
}

/// R-C11 aging bucket by days overdue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum AgingBucket {
    /// Not overdue (on or before the due date).
    #[serde(rename = "current")]
    Current,
    /// 1–30 days overdue.
    #[serde(rename = "1-30")]
    Days1To30,
    /// 31–60 days overdue.
    #[serde(rename = "31-60")]
    Days31To60,
    /// 61–90 days overdue.
    #[serde(rename = "61-90")]
    Days61To90,
    /// 91–180 days overdue.
    #[serde(rename = "91-180")]
    Days91To180,
    /// More than 180 days overdue ("180+" in R-C11; day 180 itself is in 91–180).
    #[serde(rename = "180+")]
    Over180,
}

impl AgingBucket {
    /// The bucket for a number of days overdue.
    pub fn for_days(days: u32) -> AgingBucket {
        match days {
            0 => AgingBucket::Current,
            1..=30 => AgingBucket::Days1To30,
            31..=60 => AgingBucket::Days31To60,
            61..=90 => AgingBucket::Days61To90,
            91..=180 => AgingBucket::Days91To180,
            _ => AgingBucket::Over180,
        }
    }

    /// The label used in reports, e.g. `"31-60"`.
    pub fn label(self) -> &'static str {
        match self {
            AgingBucket::Current => "current",
            AgingBucket::Days1To30 => "1-30",
            AgingBucket::Days31To60 => "31-60",
            AgingBucket::Days61To90 => "61-90",
            AgingBucket::Days91To180 => "91-180",
            AgingBucket::Over180 => "180+",
        }
    }
}

/// R-C11: the aging bucket of a receivable due on `due`, on `as_of`.
pub fn bucket(due: NaiveDate, as_of: NaiveDate) -> AgingBucket {
    AgingBucket::for_days(days_overdue(due, as_of))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn r_c11_bucket_edges() {
        let due = d("2026-01-31");
        let cases = [
            ("2026-01-01", AgingBucket::Current),
            ("2026-01-31", AgingBucket::Current),
            ("2026-02-01", AgingBucket::Days1To30),
            ("2026-03-02", AgingBucket::Days1To30), // day 30
            ("2026-03-03", AgingBucket::Days31To60),
            ("2026-04-01", AgingBucket::Days31To60), // day 60
            ("2026-04-02", AgingBucket::Days61To90),
            ("2026-05-01", AgingBucket::Days61To90), // day 90
            ("2026-05-02", AgingBucket::Days91To180),
            ("2026-07-30", AgingBucket::Days91To180), // day 180
            ("2026-07-31", AgingBucket::Over180),
        ];
        for (as_of, want) in cases {
            assert_eq!(bucket(due, d(as_of)), want, "as of {as_of}");
        }
        assert_eq!(days_overdue(due, d("2026-07-30")), 180);
        assert_eq!(days_overdue(due, d("2025-01-01")), 0);
    }

    #[test]
    fn labels_match_serde_names() {
        for days in [0, 1, 31, 61, 91, 181] {
            let b = AgingBucket::for_days(days);
            assert_eq!(
                serde_json::to_string(&b).unwrap(),
                format!("\"{}\"", b.label())
            );
        }
    }
}
