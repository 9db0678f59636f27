//! R-C6: every date from 2020-01-01 to 2026-12-31 against an independent transcription of the
//! State Council notices (the `chinesecalendar` package, see `scripts/gen_calendar_fixture.py`).
//!
//! Working or not must agree on every date. Labels may differ only where listed in
//! `LABEL_DIFFERENCES`, each with the reason our data follows the notice text.

use chrono::NaiveDate;
use money::CalendarSet;
use money::calendar::DayKind;

const FIXTURE: &str = include_str!("fixtures/cn_calendar_2020_2026.csv");

/// Dates where the fixture and our data agree that the day is off but label it differently.
const LABEL_DIFFERENCES: &[(&str, &str)] = &[
    (
        "2023-12-30",
        "the 2024 notice says 元旦：1月1日放假，与周末连休: only 1 January is the holiday, the \
         weekend before it stays a weekend; chinesecalendar labels it New Year's Day",
    ),
    ("2023-12-31", "as 2023-12-30"),
];

/// Our combined periods are named like "National Day and Mid-autumn Festival"; the package
/// names each day after one of them.
fn names_match(ours: &str, theirs: &str) -> bool {
    ours.split(" and ").any(|part| part == theirs)
}

#[test]
fn every_date_2020_to_2026_agrees_with_the_independent_source() {
    let set = CalendarSet::embedded().unwrap();
    let cal = set.get("CN").unwrap();
    let mut expected_date = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
    let mut working_mismatches = Vec::new();
    let mut label_mismatches = Vec::new();
    let mut checked = 0;
    for line in FIXTURE
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let mut parts = line.splitn(3, ',');
        let (date, status, name) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap_or(""),
        );
        let date: NaiveDate = date.parse().unwrap();
        assert_eq!(date, expected_date, "fixture skips a date");
        expected_date = date.succ_opt().unwrap();
        let day = cal.day(date).unwrap();
        let their_working = matches!(status, "workday" | "makeup");
        if day.working != their_working {
            working_mismatches.push(format!(
                "{date}: ours {:?}, fixture {status} {name}",
                day.kind
            ));
        }
        let label_ok = match (status, &day.kind) {
            ("workday", DayKind::Workday) | ("weekend", DayKind::Weekend) => true,
            ("holiday", DayKind::Holiday { holiday, .. }) => names_match(holiday, name),
            ("makeup", DayKind::MakeupWorkday { makeup_for }) => names_match(makeup_for, name),
            _ => false,
        };
        if !label_ok {
            label_mismatches.push(date.to_string());
        }
        checked += 1;
    }
    assert_eq!(
        expected_date,
        NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(),
        "fixture ends early"
    );
    assert_eq!(checked, 2557);
    assert!(
        working_mismatches.is_empty(),
        "working-day disagreements: {working_mismatches:#?}"
    );
    let documented: Vec<String> = LABEL_DIFFERENCES
        .iter()
        .map(|(d, _)| d.to_string())
        .collect();
    assert_eq!(
        label_mismatches, documented,
        "undocumented label differences"
    );
}

#[test]
fn every_year_matches_the_notice_day_counts() {
    // Days off per notice ("共N天" summed) and make-up working days, read off the notices.
    let expected = [
        (2020, 30, 6),
        (2021, 31, 7),
        (2022, 31, 7),
        (2023, 27, 7),
        (2024, 28, 8),
        (2025, 28, 5),
        (2026, 33, 6),
    ];
    let set = CalendarSet::embedded().unwrap();
    let cal = set.get("CN").unwrap();
    for (year, days_off, makeup) in expected {
        let rules = cal.year_rules(year).unwrap();
        let total: u32 = rules.holidays.iter().map(|h| h.days).sum();
        assert_eq!(
            (total, rules.makeup_workdays.len()),
            (days_off, makeup),
            "{year}"
        );
    }
}
