//! Business calendar per region (R-C6): weekends, statutory public holidays and make-up working
//! days (调休), from versioned data that operators extend without a rebuild.
//!
//! The crate does no I/O: [`CalendarSet::embedded`] parses the data compiled into the crate and
//! [`CalendarSet::apply_json`] merges an operator file whose text the caller has read (all
//! `*.json` files of a directory, in file-name order, is the convention of `collectctl`).
//!
//! A date is *covered* when its year has an entry in the data. By default ([`Coverage::Strict`])
//! asking about an uncovered date is an error, because guessing would silently put a due date on
//! a holiday; [`Coverage::Provisional`] answers with weekends only and marks the answer
//! `provisional`.

mod data;
mod ops;
mod set;

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate, Weekday};
use serde::Serialize;
use thiserror::Error;

pub use data::{CalendarData, FORMAT_VERSION, Holiday, MakeupWorkday, WeekdayName, YearRules};
pub use ops::{DayOffBlock, DueDatePlan, DueDateShift, LONG_HOLIDAY_DAYS};
pub use set::{CalendarSet, OverlayReport};

/// What went wrong with a calendar question or a calendar data file.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CalendarError {
    /// No calendar for the region.
    #[error("unknown calendar region \"{region}\": known regions are {known}")]
    UnknownRegion {
        /// The region as asked for.
        region: String,
        /// The regions that exist.
        known: String,
    },
    /// The date's year has no data and the calendar is strict.
    #[error(
        "calendar {region} has no data for {date} (it covers {covered}): when the official notice for {year} is published, add it as an operator calendar file (see services/money/README.md), or allow provisional weekend-only answers"
    )]
    NotCovered {
        /// Region code.
        region: String,
        /// The date asked about.
        date: NaiveDate,
        /// Its year.
        year: i32,
        /// The covered years, e.g. `"2020-2026"`.
        covered: String,
    },
    /// A data file that cannot be used.
    #[error("calendar data {origin}: {reason}")]
    InvalidData {
        /// The file (or `embedded:…`).
        origin: String,
        /// What is wrong, naming the year and the entry.
        reason: String,
    },
    /// A date outside what dates can represent.
    #[error("date arithmetic left the supported range while trying to {op} from {date}")]
    DateOutOfRange {
        /// Where the walk started.
        date: NaiveDate,
        /// What was attempted.
        op: &'static str,
    },
    /// A working-day count beyond what the calendar answers.
    #[error("{n} working days is too many: at most {max} (about a century) are supported")]
    TooManyDays {
        /// The count asked for.
        n: i64,
        /// The limit.
        max: i64,
    },
}

/// How a calendar answers for years without data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Coverage {
    /// An error names the missing year and what to do (the default).
    #[default]
    Strict,
    /// Weekends only; every such answer is marked `provisional: true`.
    Provisional,
}

/// Why a day is or is not a working day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DayKind {
    /// An ordinary working day.
    Workday,
    /// A weekly rest day.
    Weekend,
    /// A day in a holiday period of the official notice.
    Holiday {
        /// English name of the holiday.
        holiday: String,
        /// Name as in the notice.
        #[serde(skip_serializing_if = "Option::is_none")]
        holiday_zh: Option<String>,
    },
    /// A weekend day that is worked for a holiday (调休).
    MakeupWorkday {
        /// The holiday it is worked for.
        makeup_for: String,
    },
}

/// Everything the calendar says about one date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayInfo {
    /// The date.
    pub date: NaiveDate,
    /// Day of the week, `"Mon"`…`"Sun"`.
    pub weekday: &'static str,
    /// Whether it is a working day.
    pub working: bool,
    /// Why.
    #[serde(flatten)]
    pub kind: DayKind,
    /// True when the year has no data and the answer is weekends only ([`Coverage::Provisional`]).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub provisional: bool,
}

/// Where a year's rules came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct YearSource {
    /// The year.
    pub year: i32,
    /// The official notice.
    pub notice: String,
    /// The file it was loaded from.
    pub origin: String,
    /// The data version of that file.
    pub version: String,
}

#[derive(Debug, Clone)]
struct YearEntry {
    rules: YearRules,
    origin: String,
    version: String,
}

#[derive(Debug, Clone, Copy)]
enum Special {
    Holiday { year: i32, idx: usize },
    Makeup { year: i32, idx: usize },
}

/// Internal, allocation-free answer for one date.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Status<'a> {
    Workday,
    Weekend,
    Holiday(&'a Holiday),
    Makeup(&'a MakeupWorkday),
}

impl Status<'_> {
    pub(crate) fn working(self) -> bool {
        matches!(self, Status::Workday | Status::Makeup(_))
    }
}

/// The business calendar of one region.
#[derive(Debug, Clone)]
pub struct Calendar {
    region: String,
    description: Option<String>,
    weekend: [bool; 7],
    years: BTreeMap<i32, YearEntry>,
    index: HashMap<NaiveDate, Special>,
    coverage: Coverage,
    loaded: Vec<String>,
}

impl Calendar {
    pub(super) fn new(data: &CalendarData, origin: &str) -> Result<Calendar, CalendarError> {
        if data.weekend.is_none() {
            return Err(CalendarError::InvalidData {
                origin: origin.to_string(),
                reason: format!(
                    "this file introduces region {} and must give its \"weekend\"",
                    data.region
                ),
            });
        }
        let mut cal = Calendar {
            region: data.region.trim().to_ascii_uppercase(),
            description: data.description.clone(),
            weekend: data.weekend_mask(),
            years: BTreeMap::new(),
            index: HashMap::new(),
            coverage: Coverage::Strict,
            loaded: Vec::new(),
        };
        cal.merge(data, origin)?;
        Ok(cal)
    }

    /// Merges a checked file: its years replace the same years wholesale. On error `self` is
    /// unchanged.
    pub(super) fn merge(&mut self, data: &CalendarData, origin: &str) -> Result<(), CalendarError> {
        let mut next = self.clone();
        if data.weekend.is_some() {
            next.weekend = data.weekend_mask();
        }
        if data.description.is_some() {
            next.description = data.description.clone();
        }
        for y in &data.years {
            let entry = YearEntry {
                rules: y.clone(),
                origin: origin.to_string(),
                version: data.version.clone(),
            };
            next.years.insert(y.year, entry);
        }
        // Re-checks make-up days against the (possibly new) weekend rule, and cross-year clashes.
        next.rebuild_index(origin)?;
        next.loaded.push(format!("{origin}@{}", data.version));
        *self = next;
        Ok(())
    }

    fn rebuild_index(&mut self, origin: &str) -> Result<(), CalendarError> {
        let mut index = HashMap::new();
        let conflict = |date: NaiveDate, a: i32, b: i32| CalendarError::InvalidData {
            origin: origin.to_string(),
            reason: format!(
                "{date} is listed by the {a} and the {b} entries of region {}",
                self.region
            ),
        };
        for (&year, entry) in &self.years {
            for (idx, h) in entry.rules.holidays.iter().enumerate() {
                let len = (h.to - h.from).num_days() + 1;
                for day in h.from.iter_days().take(len.max(0) as usize) {
                    if let Some(prev) = index.insert(day, Special::Holiday { year, idx }) {
                        return Err(conflict(day, special_year(prev), year));
                    }
                }
            }
            for (idx, m) in entry.rules.makeup_workdays.iter().enumerate() {
                if !self.weekend[m.date.weekday().num_days_from_monday() as usize] {
                    return Err(CalendarError::InvalidData {
                        origin: origin.to_string(),
                        reason: format!("make-up working day {} is not a weekend day", m.date),
                    });
                }
                if let Some(prev) = index.insert(m.date, Special::Makeup { year, idx }) {
                    return Err(conflict(m.date, special_year(prev), year));
                }
            }
        }
        self.index = index;
        Ok(())
    }

    pub(super) fn has_year(&self, year: i32) -> bool {
        self.years.contains_key(&year)
    }

    /// Region code, e.g. `"CN"`.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// What the calendar is.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// The files merged into this calendar, as `origin@version`, in order.
    pub fn data_version(&self) -> String {
        self.loaded.join(" + ")
    }

    /// Years with data, ascending.
    pub fn covered_years(&self) -> Vec<i32> {
        self.years.keys().copied().collect()
    }

    /// The notice and file behind a year's rules.
    pub fn year_source(&self, year: i32) -> Option<YearSource> {
        self.years.get(&year).map(|e| YearSource {
            year,
            notice: e.rules.notice.clone(),
            origin: e.origin.clone(),
            version: e.version.clone(),
        })
    }

    /// The rules of a year as loaded.
    pub fn year_rules(&self, year: i32) -> Option<&YearRules> {
        self.years.get(&year).map(|e| &e.rules)
    }

    /// How years without data are answered.
    pub fn coverage(&self) -> Coverage {
        self.coverage
    }

    /// Sets how years without data are answered.
    pub fn set_coverage(&mut self, coverage: Coverage) {
        self.coverage = coverage;
    }

    fn covered_text(&self) -> String {
        let years = self.covered_years();
        match (years.first(), years.last()) {
            (Some(a), Some(b)) if years.len() as i32 == b - a + 1 => format!("{a}-{b}"),
            (Some(_), Some(_)) => years
                .iter()
                .map(i32::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            _ => "no year".to_string(),
        }
    }

    /// The status of a date without allocating; `bool` is true for a provisional answer.
    pub(crate) fn status(&self, date: NaiveDate) -> Result<(Status<'_>, bool), CalendarError> {
        let weekend = self.weekend[date.weekday().num_days_from_monday() as usize];
        let plain = if weekend {
            Status::Weekend
        } else {
            Status::Workday
        };
        if !self.years.contains_key(&date.year()) {
            return match self.coverage {
                Coverage::Provisional => Ok((plain, true)),
                Coverage::Strict => Err(CalendarError::NotCovered {
                    region: self.region.clone(),
                    date,
                    year: date.year(),
                    covered: self.covered_text(),
                }),
            };
        }
        let status = match self.index.get(&date) {
            None => plain,
            Some(Special::Holiday { year, idx }) => self
                .years
                .get(year)
                .and_then(|e| e.rules.holidays.get(*idx))
                .map_or(plain, Status::Holiday),
            Some(Special::Makeup { year, idx }) => self
                .years
                .get(year)
                .and_then(|e| e.rules.makeup_workdays.get(*idx))
                .map_or(plain, Status::Makeup),
        };
        Ok((status, false))
    }

    /// Everything the calendar says about `date`.
    pub fn day(&self, date: NaiveDate) -> Result<DayInfo, CalendarError> {
        let (status, provisional) = self.status(date)?;
        let kind = match status {
            Status::Workday => DayKind::Workday,
            Status::Weekend => DayKind::Weekend,
            Status::Holiday(h) => DayKind::Holiday {
                holiday: h.name.clone(),
                holiday_zh: h.name_zh.clone(),
            },
            Status::Makeup(m) => DayKind::MakeupWorkday {
                makeup_for: m.for_holiday.clone(),
            },
        };
        Ok(DayInfo {
            date,
            weekday: weekday_abbrev(date.weekday()),
            working: status.working(),
            kind,
            provisional,
        })
    }

    /// Whether `date` is a working day (R-C6: weekends and holidays are not, make-up days are).
    pub fn is_working_day(&self, date: NaiveDate) -> Result<bool, CalendarError> {
        Ok(self.status(date)?.0.working())
    }
}

fn special_year(s: Special) -> i32 {
    match s {
        Special::Holiday { year, .. } | Special::Makeup { year, .. } => year,
    }
}

fn weekday_abbrev(w: Weekday) -> &'static str {
    match w {
        Weekday::Mon => "Mon",
        Weekday::Tue => "Tue",
        Weekday::Wed => "Wed",
        Weekday::Thu => "Thu",
        Weekday::Fri => "Fri",
        Weekday::Sat => "Sat",
        Weekday::Sun => "Sun",
    }
}

#[cfg(test)]
mod tests;
