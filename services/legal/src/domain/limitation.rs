//! R-L7: the limitation period (诉讼时效) of a case's claim.
//!
//! Civil Code art. 188: three years from the day the creditor knew (or should have known) that
//! its right was infringed. For a debt that is the default: the day after the earliest due
//! date among the case's claimed items. Art. 195: a demand that reached the debtor (or the
//! debtor agreeing to pay) interrupts the period, which then runs anew from that day; dunning's
//! contact log is the proof (R-D4), published as `DemandDelivered`.
//!
//! Counting (art. 201, 202): the day the period starts is not counted; the period ends on the
//! same day of the month three years later, or on the last day of that month when it has no
//! such day (a start on 29 February ends on 28 February). [`expires_on`] is that last day,
//! on which a suit may still be filed. Art. 203 moves a last day that falls on a holiday to
//! the next working day; that extension is ignored here, so the date shown is never later than
//! the law's (a warning comes a day or two early rather than late).

use chrono::{Days, Months, NaiveDate};

/// The length of the period: three years (art. 188).
const PERIOD: Months = Months::new(36);

/// How many days before expiry a warning is published.
pub const WARNING_DAYS: i64 = 90;

/// The day the creditor knew of the default: the day after the earliest due date; `None`
/// when no due date is known.
#[must_use]
pub fn default_known_on(due_dates: impl IntoIterator<Item = NaiveDate>) -> Option<NaiveDate> {
    due_dates
        .into_iter()
        .min()
        .and_then(|due| due.checked_add_days(Days::new(1)))
}

/// The last day of a period that started (or restarted) on `start` (art. 201, 202). Saturates
/// at the last representable date (never reached by real dates).
#[must_use]
pub fn expires_on(start: NaiveDate) -> NaiveDate {
    start.checked_add_months(PERIOD).unwrap_or(NaiveDate::MAX)
}

/// A demand that reached the debtor (from dunning's contact log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Demand {
    /// The day it reached the debtor.
    pub delivered_on: NaiveDate,
    /// Its contact-log entry.
    pub contact_log_seq: i64,
}

/// Where a case's limitation period stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// The day it (re)started.
    pub started_on: NaiveDate,
    /// The demand that restarted it, when one did (a demand before the default does not).
    pub restarted_by: Option<Demand>,
    /// The last day a suit may be filed.
    pub expires_on: NaiveDate,
}

/// The period of a claim the creditor knew in default on `default_known_on`, given the latest
/// demand that reached the debtor: it runs from the later of the two.
#[must_use]
pub fn period(default_known_on: NaiveDate, last_demand: Option<Demand>) -> Period {
    let restarted_by = last_demand.filter(|d| d.delivered_on > default_known_on);
    let started_on = restarted_by.map_or(default_known_on, |d| d.delivered_on);
    Period {
        started_on,
        restarted_by,
        expires_on: expires_on(started_on),
    }
}

/// Days from `today` to the last day (0 on the last day, negative once expired).
#[must_use]
pub fn days_left(expires_on: NaiveDate, today: NaiveDate) -> i64 {
    (expires_on - today).num_days()
}

/// Whether `today` is inside the warning window of a period ending on `expires_on` (expired
/// periods included: they are warned about too, once).
#[must_use]
pub fn warn(expires_on: NaiveDate, today: NaiveDate) -> bool {
    days_left(expires_on, today) <= WARNING_DAYS
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn three_years_from_the_day_after_the_earliest_due_date() {
        let known = default_known_on([date("2026-05-10"), date("2026-03-10")]).unwrap();
        assert_eq!(known, date("2026-03-11"));
        assert_eq!(expires_on(known), date("2029-03-11"));
        assert_eq!(default_known_on([]), None);
        let p = period(known, None);
        assert_eq!(p.started_on, known);
        assert_eq!(p.expires_on, date("2029-03-11"));
    }

    #[test]
    fn twenty_ninth_of_february() {
        // Known on 29 Feb: no 29 Feb three years on, the period ends on the month's last day.
        assert_eq!(expires_on(date("2028-02-29")), date("2031-02-28"));
        // Due on 28 Feb of a leap year: known on 29 Feb.
        assert_eq!(
            default_known_on([date("2024-02-28")]),
            Some(date("2024-02-29"))
        );
        // Known on 1 March after a 29 Feb due date; and a start four years apart keeps the day.
        assert_eq!(expires_on(date("2024-03-01")), date("2027-03-01"));
        assert_eq!(expires_on(date("2025-02-28")), date("2028-02-28"));
    }

    #[test]
    fn a_delivered_demand_restarts_a_later_one_counts_an_earlier_one_does_not() {
        let known = date("2026-03-11");
        let demand = Demand {
            delivered_on: date("2027-06-01"),
            contact_log_seq: 42,
        };
        let p = period(known, Some(demand));
        assert_eq!(p.started_on, date("2027-06-01"));
        assert_eq!(p.restarted_by, Some(demand));
        assert_eq!(p.expires_on, date("2030-06-01"));
        let before = Demand {
            delivered_on: date("2026-03-01"),
            contact_log_seq: 7,
        };
        assert_eq!(period(known, Some(before)), period(known, None));
    }

    #[test]
    fn the_warning_window_is_ninety_days() {
        let end = date("2029-03-11");
        assert!(!warn(end, date("2028-12-10")));
        assert_eq!(days_left(end, date("2028-12-11")), 90);
        assert!(warn(end, date("2028-12-11")));
        assert!(warn(end, end));
        assert_eq!(days_left(end, date("2029-03-12")), -1);
        assert!(warn(end, date("2029-03-12")));
    }

    fn any_date() -> impl Strategy<Value = NaiveDate> {
        (0_u64..20_000).prop_map(|d| date("2000-01-01").checked_add_days(Days::new(d)).unwrap())
    }

    proptest! {
        /// The period is never shorter than 3 × 365 days nor longer than 3 × 366, and a later
        /// start never ends earlier.
        #[test]
        fn three_years_and_monotonic(a in any_date(), b in any_date()) {
            let span = (expires_on(a) - a).num_days();
            prop_assert!((1094..=1096).contains(&span), "{a}: {span}");
            if a <= b {
                prop_assert!(expires_on(a) <= expires_on(b));
            }
        }

        /// A demand can only move the end later, never earlier.
        #[test]
        fn a_demand_never_shortens(known in any_date(), on in any_date(), seq in 1_i64..1000) {
            let with = period(known, Some(Demand { delivered_on: on, contact_log_seq: seq }));
            prop_assert!(with.expires_on >= period(known, None).expires_on);
        }
    }
}
