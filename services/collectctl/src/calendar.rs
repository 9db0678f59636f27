//! `collectctl calendar …`: the business calendar (R-C6), built-in data plus the operator's
//! calendar directory.

use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{Datelike, NaiveDate};
use clap::{Args, Subcommand};
use money::CalendarSet;
use money::calendar::{Calendar, Coverage, DueDateShift, YearSource};
use money::calendar::{DayInfo, DayOffBlock, DueDatePlan};
use serde::Serialize;

use crate::cli::{Hint, Outcome, json, parse_date, read};

/// Longest range `calendar days` prints.
const MAX_RANGE_DAYS: i64 = 3660;

#[derive(Args)]
pub(crate) struct CalendarArgs {
    /// Region of the calendar.
    #[arg(long, global = true, default_value = "CN")]
    region: String,
    /// Directory of operator calendar files (*.json, same format as the built-in data), merged
    /// over the built-in data in file-name order: adds a newly published year, or replaces one.
    #[arg(
        long,
        global = true,
        env = "COLLECTCTL_CALENDAR_DIR",
        value_name = "DIR"
    )]
    calendar_dir: Option<PathBuf>,
    /// For years without data, answer with weekends only (marked "provisional") instead of
    /// failing.
    #[arg(long, global = true)]
    allow_provisional: bool,
    #[command(subcommand)]
    command: CalendarCommand,
}

#[derive(Subcommand)]
enum CalendarCommand {
    /// Every date from --from to --to (inclusive): working day or not, and why not.
    Days {
        /// First date, YYYY-MM-DD.
        #[arg(long, value_parser = parse_date)]
        from: NaiveDate,
        /// Last date, YYYY-MM-DD.
        #[arg(long, value_parser = parse_date)]
        to: NaiveDate,
    },
    /// The date N working days after DATE (before it when N is negative; N = 0 rolls a day off
    /// forward to the next working day).
    AddWorkdays {
        /// Start date, YYYY-MM-DD (never counted itself).
        #[arg(value_parser = parse_date)]
        date: NaiveDate,
        /// Number of working days.
        #[arg(allow_negative_numbers = true)]
        n: i32,
    },
    /// R-C6 for one due date: the date that applies after moving it off a day off, and when a
    /// holiday affects it, the date the customer must be reminded.
    DueDate {
        /// The due date in the schedule, YYYY-MM-DD.
        #[arg(value_parser = parse_date)]
        date: NaiveDate,
        /// Which days off move a due date.
        #[arg(long, value_enum, default_value = "any-day-off")]
        rule: ShiftRule,
        /// Working days before the due date that the reminder must land (R-C6: 10).
        #[arg(long, default_value_t = 10)]
        reminder_working_days: u32,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ShiftRule {
    /// Weekends and holidays move to the next working day.
    AnyDayOff,
    /// Only days inside a long holiday (3+ days off in a row) move.
    LongHolidayOnly,
}

/// The built-in calendars merged with every `*.json` file of `dir`, in file-name order.
fn load(dir: Option<&Path>, provisional: bool) -> Result<CalendarSet, crate::cli::Failure> {
    let mut set = CalendarSet::embedded()?;
    if let Some(dir) = dir {
        let entries = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read calendar directory {}", dir.display()))
            .hint("give an existing directory with --calendar-dir or COLLECTCTL_CALENDAR_DIR")?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        for file in files {
            let text = read(&file, "calendar file")?;
            set.apply_json(&file.display().to_string(), &text)
                .hint("fix the file (format: services/money/README.md, \"Business calendar\") or move it out of the directory")?;
        }
    }
    if provisional {
        set.set_coverage(Coverage::Provisional);
    }
    Ok(set)
}

fn sources(cal: &Calendar, from: NaiveDate, to: NaiveDate) -> Vec<YearSource> {
    (from.year()..=to.year())
        .filter_map(|y| cal.year_source(y))
        .collect()
}

#[derive(Serialize)]
struct DaysOutput<'a> {
    region: &'a str,
    data_version: String,
    from: NaiveDate,
    to: NaiveDate,
    working_days: usize,
    days_off: usize,
    days: Vec<DayInfo>,
    days_off_blocks: Vec<DayOffBlock>,
    sources: Vec<YearSource>,
}

#[derive(Serialize)]
struct AddWorkdaysOutput<'a> {
    region: &'a str,
    data_version: String,
    date: NaiveDate,
    n: i32,
    result: NaiveDate,
    result_day: DayInfo,
    sources: Vec<YearSource>,
}

#[derive(Serialize)]
struct DueDateOutput<'a> {
    region: &'a str,
    data_version: String,
    #[serde(flatten)]
    plan: DueDatePlan,
}

const NOT_COVERED_HINT: &str = "add the year's official notice as a file in --calendar-dir (see services/money/README.md), or pass --allow-provisional for weekend-only answers";

pub(crate) fn run(args: CalendarArgs) -> Outcome {
    let set = load(args.calendar_dir.as_deref(), args.allow_provisional)?;
    let cal = set
        .get(&args.region)
        .hint("choose one of the regions listed, or add one with a calendar file")?;
    let region = cal.region();
    match args.command {
        CalendarCommand::Days { from, to } => {
            if to < from {
                return Err(anyhow::anyhow!("--to {to} is before --from {from}"))
                    .hint("swap the dates");
            }
            if (to - from).num_days() >= MAX_RANGE_DAYS {
                return Err(anyhow::anyhow!(
                    "the range {from} to {to} is longer than {MAX_RANGE_DAYS} days"
                ))
                .hint("ask for at most about ten years at a time");
            }
            let days = from
                .iter_days()
                .take_while(|d| *d <= to)
                .map(|d| cal.day(d))
                .collect::<Result<Vec<_>, _>>()
                .hint(NOT_COVERED_HINT)?;
            let working = days.iter().filter(|d| d.working).count();
            let blocks = cal.days_off_blocks(from, to).hint(NOT_COVERED_HINT)?;
            json(DaysOutput {
                region,
                data_version: cal.data_version(),
                from,
                to,
                working_days: working,
                days_off: days.len() - working,
                days,
                days_off_blocks: blocks,
                sources: sources(cal, from, to),
            })
        }
        CalendarCommand::AddWorkdays { date, n } => {
            let result = cal.add_working_days(date, n).hint(NOT_COVERED_HINT)?;
            let (lo, hi) = (date.min(result), date.max(result));
            json(AddWorkdaysOutput {
                region,
                data_version: cal.data_version(),
                date,
                n,
                result,
                result_day: cal.day(result).hint(NOT_COVERED_HINT)?,
                sources: sources(cal, lo, hi),
            })
        }
        CalendarCommand::DueDate {
            date,
            rule,
            reminder_working_days,
        } => {
            let rule = match rule {
                ShiftRule::AnyDayOff => DueDateShift::AnyDayOff,
                ShiftRule::LongHolidayOnly => DueDateShift::LongHolidayOnly,
            };
            let plan = cal
                .plan_due_date(date, rule, reminder_working_days)
                .hint(NOT_COVERED_HINT)?;
            json(DueDateOutput {
                region,
                data_version: cal.data_version(),
                plan,
            })
        }
    }
}
