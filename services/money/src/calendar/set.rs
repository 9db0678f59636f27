//! All regions' calendars: the embedded data plus operator files (R-C6).

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Calendar, CalendarData, CalendarError, Coverage};

/// The data shipped with the crate: mainland China, one entry per official notice.
const EMBEDDED: &[(&str, &str)] = &[(
    "embedded:data/calendar/cn.json",
    include_str!("../../data/calendar/cn.json"),
)];

/// What merging a file changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OverlayReport {
    /// Region of the file.
    pub region: String,
    /// Years that had no data before.
    pub years_added: Vec<i32>,
    /// Years whose data the file replaced.
    pub years_replaced: Vec<i32>,
}

/// The calendars of all regions.
#[derive(Debug, Clone, Default)]
pub struct CalendarSet {
    calendars: BTreeMap<String, Calendar>,
}

impl CalendarSet {
    /// No calendars at all (build one up with [`CalendarSet::apply`]).
    pub fn empty() -> CalendarSet {
        CalendarSet::default()
    }

    /// The calendars compiled into the crate (mainland China, `CN`).
    pub fn embedded() -> Result<CalendarSet, CalendarError> {
        let mut set = CalendarSet::empty();
        for (origin, json) in EMBEDDED {
            set.apply_json(origin, json)?;
        }
        Ok(set)
    }

    /// Merges an operator data file (its text; `origin` names it in errors and in
    /// [`Calendar::data_version`]). Years in the file replace the same years; new years and new
    /// regions are added. Nothing changes if the file is rejected.
    pub fn apply_json(&mut self, origin: &str, json: &str) -> Result<OverlayReport, CalendarError> {
        let data = CalendarData::from_json(origin, json)?;
        self.apply(&data, origin)
    }

    /// Merges parsed data (checked again here).
    pub fn apply(
        &mut self,
        data: &CalendarData,
        origin: &str,
    ) -> Result<OverlayReport, CalendarError> {
        data.check(origin)?;
        let region = data.region.trim().to_ascii_uppercase();
        let mut report = OverlayReport {
            region: region.clone(),
            years_added: Vec::new(),
            years_replaced: Vec::new(),
        };
        match self.calendars.get_mut(&region) {
            Some(cal) => {
                for y in &data.years {
                    if cal.has_year(y.year) {
                        report.years_replaced.push(y.year);
                    } else {
                        report.years_added.push(y.year);
                    }
                }
                cal.merge(data, origin)?;
            }
            None => {
                report.years_added = data.years.iter().map(|y| y.year).collect();
                self.calendars.insert(region, Calendar::new(data, origin)?);
            }
        }
        report.years_added.sort_unstable();
        report.years_replaced.sort_unstable();
        Ok(report)
    }

    /// The calendar of a region (case-insensitive), or an error listing the known regions.
    pub fn get(&self, region: &str) -> Result<&Calendar, CalendarError> {
        self.calendars
            .get(&region.trim().to_ascii_uppercase())
            .ok_or_else(|| self.unknown(region))
    }

    /// Mutable access, e.g. to change [`Coverage`].
    pub fn get_mut(&mut self, region: &str) -> Result<&mut Calendar, CalendarError> {
        let key = region.trim().to_ascii_uppercase();
        if !self.calendars.contains_key(&key) {
            return Err(self.unknown(region));
        }
        self.calendars
            .get_mut(&key)
            .ok_or_else(|| CalendarError::UnknownRegion {
                region: region.to_string(),
                known: String::new(),
            })
    }

    /// Sets the coverage of every calendar.
    pub fn set_coverage(&mut self, coverage: Coverage) {
        for cal in self.calendars.values_mut() {
            cal.set_coverage(coverage);
        }
    }

    /// Region codes, sorted.
    pub fn regions(&self) -> impl Iterator<Item = &str> {
        self.calendars.keys().map(String::as_str)
    }

    fn unknown(&self, region: &str) -> CalendarError {
        let known: Vec<&str> = self.regions().collect();
        CalendarError::UnknownRegion {
            region: region.to_string(),
            known: if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            },
        }
    }
}
