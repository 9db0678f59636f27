//! Disputes (R-D8): a dispute must get a response within a deadline — 48 hours by default,
//! counted on the clock or in business hours (working days' 09:00–18:00 in the business time
//! zone, public holidays excluded). Pure: the deadline is computed from the opening instant,
//! the calendar and the zone.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone as _, Utc};
use chrono_tz::Tz;
use money::calendar::Calendar;

/// How the response deadline is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlaBasis {
    /// Hours on the clock.
    CalendarHours,
    /// Hours inside working days' business hours.
    BusinessHours,
}

impl SlaBasis {
    /// The stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            SlaBasis::CalendarHours => "calendar_hours",
            SlaBasis::BusinessHours => "business_hours",
        }
    }

    /// The basis named `text`.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "calendar_hours" | "calendar" => Some(SlaBasis::CalendarHours),
            "business_hours" | "business" => Some(SlaBasis::BusinessHours),
            _ => None,
        }
    }
}

/// Business hours: 09:00 to 18:00 local.
const OPEN: (u32, u32) = (9, 18);

/// The response deadline of a dispute opened at `opened`.
///
/// # Errors
/// The calendar has no data for a day the count passes (business hours only).
pub fn deadline(
    opened: DateTime<Utc>,
    hours: u32,
    basis: SlaBasis,
    calendar: &Calendar,
    zone: Tz,
) -> Result<DateTime<Utc>, money::calendar::CalendarError> {
    if basis == SlaBasis::CalendarHours {
        return Ok(opened + Duration::hours(i64::from(hours)));
    }
    let start = NaiveTime::from_hms_opt(OPEN.0, 0, 0).unwrap_or_default();
    let end = NaiveTime::from_hms_opt(OPEN.1, 0, 0).unwrap_or_default();
    let local = opened.with_timezone(&zone).naive_local();
    let mut day: NaiveDate = local.date();
    let mut from = local.time();
    let mut left = Duration::hours(i64::from(hours));
    loop {
        if calendar.is_working_day(day)? && from < end {
            let begin = from.max(start);
            let available = end - begin;
            if left <= available {
                let at = day.and_time(begin) + left;
                return Ok(zone
                    .from_local_datetime(&at)
                    .earliest()
                    .map_or_else(|| at.and_utc(), |t| t.with_timezone(&Utc)));
            }
            left -= available;
        }
        day = day.succ_opt().unwrap_or(day);
        from = NaiveTime::MIN;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use money::calendar::CalendarSet;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    #[test]
    fn forty_eight_hours_on_the_clock_or_in_business_hours_r_d8() {
        let set = CalendarSet::embedded().expect("calendars");
        let cn = set.get("CN").expect("CN");
        let zone = chrono_tz::Asia::Shanghai;
        let opened = at("2026-03-04T10:30:00+08:00"); // a Wednesday
        assert_eq!(
            deadline(opened, 48, SlaBasis::CalendarHours, cn, zone).expect("deadline"),
            at("2026-03-06T10:30:00+08:00")
        );
        // 9 business hours a day: Wed 7.5 h, Thu 9, Fri 9, Mon 9, Tue 9 = 43.5, Wed 4.5 more.
        assert_eq!(
            deadline(opened, 48, SlaBasis::BusinessHours, cn, zone).expect("deadline"),
            at("2026-03-11T13:30:00+08:00")
        );
        // Opened in the evening, the count starts the next working morning.
        assert_eq!(
            deadline(
                at("2026-03-06T20:00:00+08:00"),
                2,
                SlaBasis::BusinessHours,
                cn,
                zone
            )
            .expect("deadline"),
            at("2026-03-09T11:00:00+08:00")
        );
        // National Day week is skipped.
        assert_eq!(
            deadline(
                at("2026-09-30T17:00:00+08:00"),
                2,
                SlaBasis::BusinessHours,
                cn,
                zone
            )
            .expect("deadline"),
            at("2026-10-08T10:00:00+08:00")
        );
        assert_eq!(SlaBasis::parse("business"), Some(SlaBasis::BusinessHours));
        assert_eq!(
            SlaBasis::parse(SlaBasis::CalendarHours.as_str()),
            Some(SlaBasis::CalendarHours)
        );
    }
}
