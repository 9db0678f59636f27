//! The feature state the service keeps per customer from events, and the [`Features`] of
//! pts-v1 it gives (R-S1). Indicators no event carries yet (bureau score, income, industry,
//! region) stay missing and score in their missing bin.

use chrono::{Datelike, Months, NaiveDate};
use rust_decimal::Decimal;

use super::features::{Balance, Features, Segment, Share};

/// How far back late payments and the share paid on time look (R-S1: last 24 months).
pub const PAYMENT_HISTORY_MONTHS: u32 = 24;

/// What the store aggregates for one customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerState {
    /// Most days overdue among open receivables.
    pub days_past_due: u32,
    /// Payments booked after their receivable's due date, within the history window.
    pub late_payments: u32,
    /// Amount paid within the history window.
    pub paid: Decimal,
    /// Of it, paid by the due date.
    pub paid_on_time: Decimal,
    /// Open amount of open receivables.
    pub outstanding: Decimal,
    /// Of it, on receivables overdue now.
    pub overdue: Decimal,
    /// Promises and repayment plans broken (R-D5, R-D6).
    pub broken_promises: u32,
    /// Disputes open now (R-D8).
    pub open_disputes: u32,
    /// Legal cases ever opened (R-L1).
    pub legal_cases: u32,
    /// The day the first contract was seen; `None` before any.
    pub first_contract_on: Option<NaiveDate>,
    /// Property segment.
    pub segment: Segment,
}

impl CustomerState {
    /// The features pts-v1 reads, with tenure counted up to `today`.
    #[must_use]
    pub fn features(&self, today: NaiveDate) -> Features {
        let share = |part: Decimal, whole: Decimal| {
            (whole > Decimal::ZERO)
                .then(|| Share::new((part / whole).clamp(Decimal::ZERO, Decimal::ONE)).ok())
                .flatten()
        };
        let outstanding = self.outstanding.max(Decimal::ZERO);
        Features {
            days_past_due: self.days_past_due,
            late_payments: self.late_payments,
            broken_promises: self.broken_promises,
            on_time_share: share(self.paid_on_time, self.paid),
            outstanding_balance: Balance::new(outstanding).unwrap_or(Balance::ZERO),
            overdue_share: share(self.overdue.max(Decimal::ZERO), outstanding),
            tenure_months: self
                .first_contract_on
                .map_or(0, |first| months_between(first, today)),
            segment: self.segment,
            open_disputes: self.open_disputes,
            legal_cases: self.legal_cases,
            bureau_score: None,
            debt_to_income: None,
            industry: None,
            region: None,
        }
    }
}

/// Whole months from `from` to `to` (0 when `to` is not later).
#[must_use]
pub fn months_between(from: NaiveDate, to: NaiveDate) -> u32 {
    if to <= from {
        return 0;
    }
    let months = (to.year() - from.year()) * 12 + i32::try_from(to.month()).unwrap_or(0)
        - i32::try_from(from.month()).unwrap_or(0)
        - i32::from(to.day() < from.day());
    u32::try_from(months).unwrap_or(0)
}

/// The first day of the payment-history window ending on `latest`.
#[must_use]
pub fn history_start(latest: NaiveDate) -> NaiveDate {
    latest
        .checked_sub_months(Months::new(PAYMENT_HISTORY_MONTHS))
        .unwrap_or(NaiveDate::MIN)
}

/// R-S3: the review period a business date falls in, for reviews every `months` months
/// (a divisor of 12): `2026-Q1` quarterly, `2026-H2` half-yearly, `2026` yearly, else the
/// period's first month (`2026-03/2m`).
#[must_use]
pub fn review_period(as_of: NaiveDate, months: u32) -> String {
    let index = as_of.month0() / months.max(1);
    match months {
        3 => format!("{}-Q{}", as_of.year(), index + 1),
        6 => format!("{}-H{}", as_of.year(), index + 1),
        12 => format!("{}", as_of.year()),
        m => format!("{}-{:02}/{m}m", as_of.year(), index * m + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Grade, PTS_V1, Scorecard};

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    fn fresh() -> CustomerState {
        CustomerState {
            days_past_due: 0,
            late_payments: 0,
            paid: Decimal::ZERO,
            paid_on_time: Decimal::ZERO,
            outstanding: Decimal::from(60_000),
            overdue: Decimal::ZERO,
            broken_promises: 0,
            open_disputes: 0,
            legal_cases: 0,
            first_contract_on: Some(d("2026-01-01")),
            segment: Segment::Residential,
        }
    }

    #[test]
    fn shares_are_missing_when_nothing_is_paid_or_owed_r_s1() {
        let f = fresh().features(d("2026-01-01"));
        assert_eq!(f.on_time_share, None);
        assert_eq!(f.overdue_share, Share::new(Decimal::ZERO).ok());
        assert_eq!(f.bureau_score, None);
        assert_eq!(f.debt_to_income, None);
        let none_owed = CustomerState {
            outstanding: Decimal::ZERO,
            ..fresh()
        };
        assert_eq!(none_owed.features(d("2026-01-01")).overdue_share, None);
    }

    #[test]
    fn tenure_counts_whole_months() {
        assert_eq!(months_between(d("2026-01-15"), d("2026-02-14")), 0);
        assert_eq!(months_between(d("2026-01-15"), d("2026-02-15")), 1);
        assert_eq!(months_between(d("2025-01-15"), d("2026-03-01")), 13);
        assert_eq!(months_between(d("2026-03-01"), d("2026-01-01")), 0);
        assert_eq!(history_start(d("2026-03-20")), d("2024-03-20"));
    }

    #[test]
    fn an_overdue_and_a_broken_promise_lower_the_grade_r_s3() {
        // The e2e scenario (tests/e2e/score_strategy.rs): 1,000.00 paid on time of 100,000.00.
        let card = Scorecard::shipped(PTS_V1).expect("card");
        let today = d("2026-03-23");
        let paid_on_time = CustomerState {
            paid: Decimal::from(1_000),
            paid_on_time: Decimal::from(1_000),
            outstanding: Decimal::from(99_000),
            ..fresh()
        };
        let before = card.score(&paid_on_time.features(today));
        assert_eq!((before.score, before.grade), (865, Grade::Aa));
        let after = card.score(
            &CustomerState {
                days_past_due: 13,
                overdue: Decimal::from(1_000),
                broken_promises: 1,
                ..paid_on_time
            }
            .features(today),
        );
        assert_eq!((after.score, after.grade), (750, Grade::Bbb));
        let codes: Vec<&str> = after.reasons.iter().map(|r| r.code.as_str()).collect();
        assert_eq!(codes, ["DPD", "SHORT_TENURE", "BUREAU", "BROKEN_PROMISES"]);
        // A new customer without payment history owing 60,000.00 (the money path): A.
        let fresh = card.score(&fresh().features(today));
        assert_eq!((fresh.score, fresh.grade), (815, Grade::A));
    }

    #[test]
    fn the_demo_ends_at_bbb() {
        // devstack's demo: installment 2 (20,000.00) paid before its due date, installment 1
        // (10,000.00) paid late while a legal case was open; 30,000.00 still to fall due.
        let card = Scorecard::shipped(PTS_V1).expect("card");
        let state = CustomerState {
            late_payments: 1,
            paid: Decimal::from(30_000),
            paid_on_time: Decimal::from(20_000),
            outstanding: Decimal::from(30_000),
            legal_cases: 1,
            ..fresh()
        };
        let result = card.score(&state.features(d("2026-02-25")));
        assert_eq!((result.score, result.grade), (725, Grade::Bbb));
    }

    #[test]
    fn review_periods_r_s3() {
        assert_eq!(review_period(d("2026-02-28"), 3), "2026-Q1");
        assert_eq!(review_period(d("2026-10-01"), 3), "2026-Q4");
        assert_eq!(review_period(d("2026-07-01"), 6), "2026-H2");
        assert_eq!(review_period(d("2026-07-01"), 12), "2026");
        assert_eq!(review_period(d("2026-04-01"), 2), "2026-03/2m");
    }
}
