//! Working-day arithmetic, blocks of days off and due-date planning (R-C6).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{Calendar, CalendarError, Status};

/// A block of consecutive days off is a "long holiday" from this many days (R-C6).
pub const LONG_HOLIDAY_DAYS: u32 = 3;

/// Working-day counts beyond this are refused (about a century of working days).
const MAX_WORKING_DAYS: i64 = 36_500;

/// No real calendar has this many consecutive days off; reaching it means broken data.
const MAX_DAYS_OFF_IN_A_ROW: u32 = 60;

/// A run of consecutive days off (weekends and holidays together).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayOffBlock {
    /// First day off.
    pub start: NaiveDate,
    /// Last day off, inclusive.
    pub end: NaiveDate,
    /// Number of days.
    pub days: u32,
    /// `days >= 3` ([`LONG_HOLIDAY_DAYS`]): a long holiday in the sense of R-C6.
    pub long: bool,
    /// Holidays in the block, in order, without repeats (empty for a plain weekend).
    pub holidays: Vec<String>,
    /// The block touches a year without data (strict calendar), so it may be longer.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub extends_beyond_data: bool,
}

/// Which due dates are moved to the next working day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DueDateShift {
    /// Any day off (weekend or holiday) moves to the next working day. The default, and the
    /// reading of the issue: a due date always lands on a working day.
    #[default]
    AnyDayOff,
    /// Only a day inside a long holiday (3+ consecutive days off) moves; a plain weekend stays.
    /// The literal reading of R-C6, for contracts that say so.
    LongHolidayOnly,
}

/// A due date after R-C6 has been applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DueDatePlan {
    /// The date the schedule asked for.
    pub original: NaiveDate,
    /// The date that applies (the next working day when the original was moved).
    pub due: NaiveDate,
    /// Whether the date was moved.
    pub shifted: bool,
    /// The block of days off the original date fell into, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub day_off_block: Option<DayOffBlock>,
    /// R-C6: when a holiday affects the original date, the date the customer must be reminded
    /// (the given number of working days before the due date).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reminder: Option<NaiveDate>,
}

fn succ(date: NaiveDate, op: &'static str) -> Result<NaiveDate, CalendarError> {
    date.succ_opt()
        .ok_or(CalendarError::DateOutOfRange { date, op })
}

fn pred(date: NaiveDate, op: &'static str) -> Result<NaiveDate, CalendarError> {
    date.pred_opt()
        .ok_or(CalendarError::DateOutOfRange { date, op })
}

impl Calendar {
    /// The first working day strictly after `date`.
    pub fn next_working_day(&self, date: NaiveDate) -> Result<NaiveDate, CalendarError> {
        let mut d = date;
        for _ in 0..=MAX_DAYS_OFF_IN_A_ROW {
            d = succ(d, "find the next working day")?;
            if self.is_working_day(d)? {
                return Ok(d);
            }
        }
        Err(self.no_working_day(date))
    }

    /// The last working day strictly before `date`.
    pub fn previous_working_day(&self, date: NaiveDate) -> Result<NaiveDate, CalendarError> {
        let mut d = date;
        for _ in 0..=MAX_DAYS_OFF_IN_A_ROW {
            d = pred(d, "find the previous working day")?;
            if self.is_working_day(d)? {
                return Ok(d);
            }
        }
        Err(self.no_working_day(date))
    }

    fn no_working_day(&self, date: NaiveDate) -> CalendarError {
        CalendarError::InvalidData {
            origin: self.data_version(),
            reason: format!("no working day within {MAX_DAYS_OFF_IN_A_ROW} days of {date}"),
        }
    }

    /// Moves by `n` working days. For `n > 0` the answer is the n-th working day strictly after
    /// `date`; for `n < 0` the |n|-th working day strictly before it; `date` itself never counts,
    /// whether or not it is a working day. `n = 0` gives `date` if it is a working day and the
    /// next working day otherwise.
    pub fn add_working_days(&self, date: NaiveDate, n: i32) -> Result<NaiveDate, CalendarError> {
        let n = i64::from(n);
        if n.abs() > MAX_WORKING_DAYS {
            return Err(CalendarError::TooManyDays {
                n,
                max: MAX_WORKING_DAYS,
            });
        }
        if n == 0 {
            return if self.is_working_day(date)? {
                Ok(date)
            } else {
                self.next_working_day(date)
            };
        }
        let mut d = date;
        for _ in 0..n.abs() {
            d = if n > 0 {
                self.next_working_day(d)?
            } else {
                self.previous_working_day(d)?
            };
        }
        Ok(d)
    }

    /// Number of working days in `from..=to` (0 when `to < from`).
    pub fn count_working_days(&self, from: NaiveDate, to: NaiveDate) -> Result<u32, CalendarError> {
        let mut count = 0;
        for d in from.iter_days().take_while(|d| *d <= to) {
            if self.is_working_day(d)? {
                count += 1;
            }
        }
        Ok(count)
    }

    /// The block of consecutive days off that contains `date`, or `None` on a working day.
    pub fn block_containing(&self, date: NaiveDate) -> Result<Option<DayOffBlock>, CalendarError> {
        let (status, _) = self.status(date)?;
        if status.working() {
            return Ok(None);
        }
        let mut beyond = false;
        let mut start = date;
        let mut end = date;
        // Walk outwards while the neighbour is a day off; a neighbour in a year without data
        // ends the walk and marks the block as possibly longer.
        for _ in 0..MAX_DAYS_OFF_IN_A_ROW {
            let prev = pred(start, "find the start of a block of days off")?;
            match self.status(prev) {
                Ok((s, _)) if !s.working() => start = prev,
                Ok(_) => break,
                Err(CalendarError::NotCovered { .. }) => {
                    beyond = true;
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        for _ in 0..MAX_DAYS_OFF_IN_A_ROW {
            let next = succ(end, "find the end of a block of days off")?;
            match self.status(next) {
                Ok((s, _)) if !s.working() => end = next,
                Ok(_) => break,
                Err(CalendarError::NotCovered { .. }) => {
                    beyond = true;
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        let days = u32::try_from((end - start).num_days() + 1).unwrap_or(u32::MAX);
        let mut holidays: Vec<String> = Vec::new();
        for d in start.iter_days().take(days as usize) {
            if let Ok((Status::Holiday(h), _)) = self.status(d)
                && holidays.last() != Some(&h.name)
            {
                holidays.push(h.name.clone());
            }
        }
        Ok(Some(DayOffBlock {
            start,
            end,
            days,
            long: days >= LONG_HOLIDAY_DAYS,
            holidays,
            extends_beyond_data: beyond,
        }))
    }

    /// Every block of days off that overlaps `from..=to`, each reported whole (a block that
    /// started before `from` keeps its real start).
    pub fn days_off_blocks(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DayOffBlock>, CalendarError> {
        let mut blocks = Vec::new();
        let mut d = from;
        while d <= to {
            match self.block_containing(d)? {
                Some(block) => {
                    d = succ(block.end, "list blocks of days off")?;
                    blocks.push(block);
                }
                None => d = succ(d, "list blocks of days off")?,
            }
        }
        Ok(blocks)
    }

    /// R-C6: the due date that applies when a schedule asks for `due`. With
    /// [`DueDateShift::AnyDayOff`] the answer is always a working day.
    pub fn shift_due_date(
        &self,
        due: NaiveDate,
        rule: DueDateShift,
    ) -> Result<NaiveDate, CalendarError> {
        if self.is_working_day(due)? {
            return Ok(due);
        }
        match rule {
            DueDateShift::AnyDayOff => self.next_working_day(due),
            DueDateShift::LongHolidayOnly => match self.block_containing(due)? {
                Some(block) if block.long && !block.holidays.is_empty() => {
                    self.next_working_day(due)
                }
                _ => Ok(due),
            },
        }
    }

    /// R-C6: the date a reminder must go out to land `working_days` working days before `due`
    /// (the `working_days`-th working day strictly before `due`).
    pub fn reminder_date(
        &self,
        due: NaiveDate,
        working_days: u32,
    ) -> Result<NaiveDate, CalendarError> {
        let n = i32::try_from(working_days).map_err(|_| CalendarError::TooManyDays {
            n: i64::from(working_days),
            max: MAX_WORKING_DAYS,
        })?;
        self.add_working_days(due, -n)
    }

    /// R-C6 in one call: shifts `original` by `rule` and, when the original date falls in a
    /// block of days off that contains a public holiday, gives the reminder date
    /// `reminder_working_days` working days before the applicable due date (10 in R-C6).
    /// Counting back from the shifted date or from the original gives the same day, because
    /// every day between them is a day off.
    pub fn plan_due_date(
        &self,
        original: NaiveDate,
        rule: DueDateShift,
        reminder_working_days: u32,
    ) -> Result<DueDatePlan, CalendarError> {
        let due = self.shift_due_date(original, rule)?;
        let block = self.block_containing(original)?;
        let holiday_affected = block.as_ref().is_some_and(|b| !b.holidays.is_empty());
        let reminder = if holiday_affected {
            Some(self.reminder_date(due, reminder_working_days)?)
        } else {
            None
        };
        Ok(DueDatePlan {
            original,
            due,
            shifted: due != original,
            day_off_block: block,
            reminder,
        })
    }
}
