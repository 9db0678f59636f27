//! The calendar data file: its serde model and the checks every file must pass before use.
//!
//! One file describes one region. The embedded default is `data/calendar/cn.json`; an operator
//! file has the same format and adds or replaces whole years (R-C6). The format is documented
//! in the crate README.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use super::CalendarError;

/// The only file format version this build reads.
pub const FORMAT_VERSION: u32 = 1;

/// A whole calendar data file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarData {
    /// File format version; must be [`FORMAT_VERSION`].
    pub format: u32,
    /// Region code, e.g. `"CN"` (case-insensitive).
    pub region: String,
    /// What the calendar is and where its data comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Version of this data set, quoted in every answer so a computation can be traced to it.
    pub version: String,
    /// The region's weekly rest days. Required when the file introduces a region; when given for
    /// a known region it replaces the weekend rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weekend: Option<Vec<WeekdayName>>,
    /// One entry per year, each from that year's official notice.
    pub years: Vec<YearRules>,
}

/// The rules of one year, as published in that year's notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YearRules {
    /// The year the notice is for.
    pub year: i32,
    /// The notice the data comes from (title, document number, date of publication).
    pub notice: String,
    /// Anything a reader must know (amendments, days encouraged but not granted as rest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The holiday periods: every day from `from` to `to` is a day off.
    pub holidays: Vec<Holiday>,
    /// Weekend days that are working days (调休).
    #[serde(default)]
    pub makeup_workdays: Vec<MakeupWorkday>,
}

/// One holiday period ("10月1日至7日放假调休，共7天").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Holiday {
    /// English name, e.g. `"Spring Festival"`.
    pub name: String,
    /// Name as in the notice, e.g. `"春节"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_zh: Option<String>,
    /// First day off (may fall in the previous year: New Year 2023 began on 2022-12-31).
    pub from: NaiveDate,
    /// Last day off, inclusive.
    pub to: NaiveDate,
    /// The notice's "共N天"; checked against `from..=to` to catch typing mistakes.
    pub days: u32,
}

/// A make-up working day: a weekend day worked in exchange for a day off in a holiday period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MakeupWorkday {
    /// The weekend day that is worked.
    pub date: NaiveDate,
    /// The holiday (by `name`, from the same year) it is worked for.
    #[serde(rename = "for")]
    pub for_holiday: String,
}

/// Day of the week as written in the data file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)]
pub enum WeekdayName {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl WeekdayName {
    pub(crate) fn weekday(self) -> Weekday {
        match self {
            WeekdayName::Mon => Weekday::Mon,
            WeekdayName::Tue => Weekday::Tue,
            WeekdayName::Wed => Weekday::Wed,
            WeekdayName::Thu => Weekday::Thu,
            WeekdayName::Fri => Weekday::Fri,
            WeekdayName::Sat => Weekday::Sat,
            WeekdayName::Sun => Weekday::Sun,
        }
    }
}

/// Longest holiday period accepted; longer ones are almost certainly a typo in a date.
const MAX_HOLIDAY_DAYS: i64 = 31;

impl CalendarData {
    /// Parses and checks a data file. `origin` names the file in error messages.
    pub fn from_json(origin: &str, json: &str) -> Result<CalendarData, CalendarError> {
        let data: CalendarData =
            serde_json::from_str(json).map_err(|e| CalendarError::InvalidData {
                origin: origin.to_string(),
                reason: e.to_string(),
            })?;
        data.check(origin)?;
        Ok(data)
    }

    /// Checks the file on its own (cross-year checks happen when it is merged into a calendar).
    pub fn check(&self, origin: &str) -> Result<(), CalendarError> {
        let invalid = |reason: String| CalendarError::InvalidData {
            origin: origin.to_string(),
            reason,
        };
        if self.format != FORMAT_VERSION {
            return Err(invalid(format!(
                "format {} is not supported; this build reads format {FORMAT_VERSION}",
                self.format
            )));
        }
        if self.region.trim().is_empty() || self.version.trim().is_empty() {
            return Err(invalid(
                "\"region\" and \"version\" must not be empty".into(),
            ));
        }
        if let Some(weekend) = &self.weekend
            && weekend.len() >= 7
        {
            return Err(invalid("\"weekend\" leaves no working weekday".into()));
        }
        let weekend = self.weekend_mask();
        let mut seen = BTreeSet::new();
        for y in &self.years {
            if !seen.insert(y.year) {
                return Err(invalid(format!("year {} appears twice", y.year)));
            }
            y.check(&weekend)
                .map_err(|reason| invalid(format!("year {}: {reason}", y.year)))?;
        }
        Ok(())
    }

    /// Weekend as a mask indexed by days from Monday; Saturday and Sunday when not given.
    pub(crate) fn weekend_mask(&self) -> [bool; 7] {
        match &self.weekend {
            Some(days) => weekend_mask(days),
            None => weekend_mask(&[WeekdayName::Sat, WeekdayName::Sun]),
        }
    }
}

pub(crate) fn weekend_mask(days: &[WeekdayName]) -> [bool; 7] {
    let mut mask = [false; 7];
    for d in days {
        mask[d.weekday().num_days_from_monday() as usize] = true;
    }
    mask
}

impl YearRules {
    fn check(&self, weekend: &[bool; 7]) -> Result<(), String> {
        if self.notice.trim().is_empty() {
            return Err("\"notice\" must name the official notice".into());
        }
        let mut days_off = BTreeSet::new();
        for h in &self.holidays {
            if h.name.trim().is_empty() {
                return Err("a holiday has an empty name".into());
            }
            if h.to < h.from {
                return Err(format!(
                    "holiday {:?} ends ({}) before it starts ({})",
                    h.name, h.to, h.from
                ));
            }
            let len = (h.to - h.from).num_days() + 1;
            if len > MAX_HOLIDAY_DAYS {
                return Err(format!(
                    "holiday {:?} is {len} days long; check its dates",
                    h.name
                ));
            }
            if len != i64::from(h.days) {
                return Err(format!(
                    "holiday {:?} runs {} to {} ({len} days) but \"days\" says {}",
                    h.name, h.from, h.to, h.days
                ));
            }
            let touches_year = (self.year - 1..=self.year + 1).contains(&h.from.year())
                && (self.year - 1..=self.year + 1).contains(&h.to.year())
                && (h.from.year() == self.year || h.to.year() == self.year);
            if !touches_year {
                return Err(format!(
                    "holiday {:?} ({} to {}) is not in {}",
                    h.name, h.from, h.to, self.year
                ));
            }
            for day in h.from.iter_days().take(len as usize) {
                if !days_off.insert(day) {
                    return Err(format!("{day} is in two holiday periods"));
                }
            }
        }
        let mut workdays = BTreeSet::new();
        for m in &self.makeup_workdays {
            if m.date.year() != self.year {
                return Err(format!(
                    "make-up working day {} is not in {}",
                    m.date, self.year
                ));
            }
            if !weekend[m.date.weekday().num_days_from_monday() as usize] {
                return Err(format!(
                    "make-up working day {} is a {}, not a weekend day",
                    m.date,
                    m.date.weekday()
                ));
            }
            if days_off.contains(&m.date) {
                return Err(format!(
                    "{} is both a holiday and a make-up working day",
                    m.date
                ));
            }
            if !self.holidays.iter().any(|h| h.name == m.for_holiday) {
                return Err(format!(
                    "make-up working day {} is \"for\" {:?}, which is not a holiday of {}",
                    m.date, m.for_holiday, self.year
                ));
            }
            if !workdays.insert(m.date) {
                return Err(format!("make-up working day {} is listed twice", m.date));
            }
        }
        Ok(())
    }
}
