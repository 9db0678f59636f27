//! R-D10: the week before a traditional holiday collections drop, so reminders go out earlier.

use chrono::{Duration, NaiveDate};
use money::calendar::{Calendar, DayKind};

use super::{ConductError, PreHolidayShift, Profile, ensure_calendar, next_day};

/// R-D10: the date a reminder planned for `planned` goes out. A reminder falling fewer than
/// `days` days before the first day of one of the profile's traditional holidays is moved to
/// the last working day at least `days` days before that holiday (repeatedly, should that land
/// before another such holiday). Without a pre-holiday shift in the profile, `planned`.
pub fn pre_holiday_date(
    profile: &Profile,
    calendar: &Calendar,
    planned: NaiveDate,
) -> Result<NaiveDate, ConductError> {
    let Some(shift) = profile.pre_holiday_shift() else {
        return Ok(planned);
    };
    ensure_calendar(profile, calendar)?;
    let mut date = planned;
    // Every move goes strictly earlier, past a holiday's start; a few moves at most.
    for _ in 0..32 {
        let Some(holiday_start) = next_holiday_start(calendar, shift, date)? else {
            return Ok(date);
        };
        let latest = holiday_start
            .checked_sub_signed(Duration::days(i64::from(shift.days)))
            .ok_or(ConductError::OutOfRange(holiday_start))?;
        date = if calendar.is_working_day(latest)? {
            latest
        } else {
            calendar.previous_working_day(latest)?
        };
    }
    Ok(date)
}

/// The first day of a listed holiday starting within `shift.days - 1` days after `date`.
fn next_holiday_start(
    calendar: &Calendar,
    shift: &PreHolidayShift,
    date: NaiveDate,
) -> Result<Option<NaiveDate>, ConductError> {
    let holiday_name = |day: NaiveDate| -> Result<Option<String>, ConductError> {
        Ok(match calendar.day(day)?.kind {
            DayKind::Holiday { holiday, .. } => Some(holiday),
            _ => None,
        })
    };
    let mut previous = holiday_name(date)?;
    let mut day = date;
    for _ in 1..shift.days {
        day = next_day(day)?;
        let name = holiday_name(day)?;
        if let Some(n) = &name
            && previous.as_ref() != Some(n)
            && shift.holidays.iter().any(|h| h.eq_ignore_ascii_case(n))
        {
            return Ok(Some(day));
        }
        previous = name;
    }
    Ok(None)
}
