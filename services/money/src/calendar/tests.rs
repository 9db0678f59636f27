//! Hand-checked examples against the notices (R-C6). The walk over every date from 2020 to
//! 2026 against an independent source is in `tests/calendar_fixture.rs`.

use super::*;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn cn() -> Calendar {
    CalendarSet::embedded().unwrap().get("cn").unwrap().clone()
}

#[test]
fn embedded_data_loads_and_covers_2020_to_2026() {
    let set = CalendarSet::embedded().unwrap();
    let cal = set.get("CN").unwrap();
    assert_eq!(cal.covered_years(), (2020..=2026).collect::<Vec<_>>());
    assert!(
        cal.data_version()
            .starts_with("embedded:data/calendar/cn.json@")
    );
    assert!(
        cal.year_source(2024)
            .unwrap()
            .notice
            .contains("国办发明电〔2023〕7号")
    );
}

#[test]
fn r_c6_day_kinds() {
    let cal = cn();
    let day = cal.day(d("2024-02-12")).unwrap();
    assert!(!day.working);
    assert_eq!(
        day.kind,
        DayKind::Holiday {
            holiday: "Spring Festival".into(),
            holiday_zh: Some("春节".into())
        }
    );
    // 2024-02-04 is a Sunday worked for the Spring Festival (调休).
    let day = cal.day(d("2024-02-04")).unwrap();
    assert!(day.working);
    assert_eq!(day.weekday, "Sun");
    assert_eq!(
        day.kind,
        DayKind::MakeupWorkday {
            makeup_for: "Spring Festival".into()
        }
    );
    assert_eq!(cal.day(d("2024-02-03")).unwrap().kind, DayKind::Weekend);
    // New Year's Eve 2024 (9 February) was encouraged but not granted as rest.
    assert_eq!(cal.day(d("2024-02-09")).unwrap().kind, DayKind::Workday);
    // New Year 2023 began on Saturday 31 December 2022, listed by the 2023 notice.
    assert!(matches!(
        cal.day(d("2022-12-31")).unwrap().kind,
        DayKind::Holiday { .. }
    ));
    // 2020: the Spring Festival extension cancelled the make-up day of 1 February.
    assert!(!cal.is_working_day(d("2020-02-01")).unwrap());
    assert!(!cal.is_working_day(d("2020-02-02")).unwrap());
    assert!(cal.is_working_day(d("2020-02-03")).unwrap());
}

#[test]
fn serialised_day_says_why_not() {
    let cal = cn();
    let json = serde_json::to_value(cal.day(d("2026-10-03")).unwrap()).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"date": "2026-10-03", "weekday": "Sat", "working": false,
            "kind": "holiday", "holiday": "National Day", "holiday_zh": "国庆节"})
    );
}

#[test]
fn r_c6_next_previous_and_add_working_days() {
    let cal = cn();
    // National Day 2026: 1-7 October off, Saturday 10 October worked.
    assert_eq!(
        cal.next_working_day(d("2026-09-30")).unwrap(),
        d("2026-10-08")
    );
    assert_eq!(
        cal.previous_working_day(d("2026-10-08")).unwrap(),
        d("2026-09-30")
    );
    assert_eq!(
        cal.add_working_days(d("2026-10-08"), 2).unwrap(),
        d("2026-10-10")
    );
    assert_eq!(
        cal.add_working_days(d("2026-10-10"), -2).unwrap(),
        d("2026-10-08")
    );
    assert_eq!(
        cal.add_working_days(d("2026-10-03"), 0).unwrap(),
        d("2026-10-08")
    );
    assert_eq!(
        cal.add_working_days(d("2026-10-09"), 0).unwrap(),
        d("2026-10-09")
    );
    // Spring Festival 2026: 15-23 February off, 14 and 28 February worked.
    assert_eq!(
        cal.add_working_days(d("2026-02-13"), 1).unwrap(),
        d("2026-02-14")
    );
    assert_eq!(
        cal.add_working_days(d("2026-02-13"), 2).unwrap(),
        d("2026-02-24")
    );
    // 9-13 Feb, Saturday 14 Feb (make-up), 24-27 Feb, Saturday 28 Feb (make-up).
    assert_eq!(
        cal.count_working_days(d("2026-02-09"), d("2026-03-01"))
            .unwrap(),
        5 + 1 + 4 + 1
    );
    assert!(matches!(
        cal.add_working_days(d("2026-01-05"), 1_000_000),
        Err(CalendarError::TooManyDays { .. })
    ));
}

#[test]
fn r_c6_blocks_of_days_off() {
    let cal = cn();
    let blocks = cal
        .days_off_blocks(d("2026-09-24"), d("2026-10-12"))
        .unwrap();
    let summary: Vec<_> = blocks
        .iter()
        .map(|b| (b.start, b.end, b.days, b.long))
        .collect();
    assert_eq!(
        summary,
        vec![
            (d("2026-09-25"), d("2026-09-27"), 3, true),
            (d("2026-10-01"), d("2026-10-07"), 7, true),
            (d("2026-10-11"), d("2026-10-11"), 1, false),
        ]
    );
    assert_eq!(blocks[0].holidays, vec!["Mid-autumn Festival".to_string()]);
    // A block that began before the range is reported whole.
    let b = cal
        .days_off_blocks(d("2026-10-05"), d("2026-10-05"))
        .unwrap();
    assert_eq!(b[0].start, d("2026-10-01"));
    // Dragon Boat 2024: Monday 10 June joined to the weekend makes a 3-day block.
    let b = cal.block_containing(d("2024-06-10")).unwrap().unwrap();
    assert_eq!((b.start, b.days, b.long), (d("2024-06-08"), 3, true));
    assert!(cal.block_containing(d("2024-06-11")).unwrap().is_none());
    // The first covered day: the block may reach into 2019, which has no data.
    let b = cal.block_containing(d("2020-01-01")).unwrap().unwrap();
    assert!(b.extends_beyond_data);
}

#[test]
fn r_c6_due_date_shifting_and_reminders() {
    let cal = cn();
    assert_eq!(
        cal.shift_due_date(d("2026-10-03"), DueDateShift::AnyDayOff)
            .unwrap(),
        d("2026-10-08")
    );
    assert_eq!(
        cal.shift_due_date(d("2026-10-09"), DueDateShift::AnyDayOff)
            .unwrap(),
        d("2026-10-09")
    );
    // A plain weekend moves under the default rule but not under the literal R-C6 rule.
    assert_eq!(
        cal.shift_due_date(d("2026-03-07"), DueDateShift::AnyDayOff)
            .unwrap(),
        d("2026-03-09")
    );
    assert_eq!(
        cal.shift_due_date(d("2026-03-07"), DueDateShift::LongHolidayOnly)
            .unwrap(),
        d("2026-03-07")
    );
    assert_eq!(
        cal.shift_due_date(d("2026-02-20"), DueDateShift::LongHolidayOnly)
            .unwrap(),
        d("2026-02-24")
    );
    // 10 working days before 8 October 2026: 30, 29, 28, 24, 23, 22, 21, 20 (Sunday, make-up
    // day), 18, 17 September (25-27 September is the Mid-autumn Festival).
    assert_eq!(
        cal.reminder_date(d("2026-10-08"), 10).unwrap(),
        d("2026-09-17")
    );
    let plan = cal
        .plan_due_date(d("2026-10-03"), DueDateShift::AnyDayOff, 10)
        .unwrap();
    assert_eq!(plan.due, d("2026-10-08"));
    assert!(plan.shifted);
    assert_eq!(plan.reminder, Some(d("2026-09-17")));
    assert_eq!(
        cal.reminder_date(d("2026-10-03"), 10).unwrap(),
        d("2026-09-17")
    );
    // A plain weekend is moved but not holiday-affected: no special reminder.
    let plan = cal
        .plan_due_date(d("2026-03-07"), DueDateShift::AnyDayOff, 10)
        .unwrap();
    assert_eq!((plan.due, plan.reminder), (d("2026-03-09"), None));
}

#[test]
fn strict_and_provisional_coverage() {
    let mut cal = cn();
    let err = cal.is_working_day(d("2027-01-01")).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("no data for 2027-01-01") && msg.contains("2020-2026"),
        "{msg}"
    );
    cal.set_coverage(Coverage::Provisional);
    let day = cal.day(d("2027-01-01")).unwrap();
    assert!(
        day.provisional && day.working,
        "weekends-only answer for a Friday"
    );
    assert!(!cal.day(d("2026-01-01")).unwrap().provisional);
    // Near the end of the data, strict shifting fails rather than guessing.
    let strict = cn();
    assert!(strict.next_working_day(d("2026-12-31")).is_err());
}

#[test]
fn unknown_region_lists_the_known_ones() {
    let set = CalendarSet::embedded().unwrap();
    let err = set.get("HK").unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown calendar region \"HK\": known regions are CN"
    );
}

const OVERLAY_2027: &str = r#"{
  "format": 1, "region": "CN", "version": "test-2027",
  "years": [{"year": 2027, "notice": "test notice",
    "holidays": [{"name": "New Year's Day", "from": "2027-01-01", "to": "2027-01-03", "days": 3}],
    "makeup_workdays": [{"date": "2027-01-09", "for": "New Year's Day"}]}]
}"#;

#[test]
fn operator_overlay_adds_and_replaces_years() {
    let mut set = CalendarSet::embedded().unwrap();
    let report = set.apply_json("ops/cn-2027.json", OVERLAY_2027).unwrap();
    assert_eq!(report.years_added, vec![2027]);
    let cal = set.get("CN").unwrap();
    assert!(!cal.is_working_day(d("2027-01-01")).unwrap());
    assert!(cal.is_working_day(d("2027-01-09")).unwrap());
    assert!(cal.data_version().ends_with("ops/cn-2027.json@test-2027"));
    // Replacing 2026 wholesale: the emergency-extension case.
    let replace = r#"{"format": 1, "region": "CN", "version": "fix", "years": [{"year": 2026,
        "notice": "test", "holidays": [{"name": "New Year's Day", "from": "2026-01-01",
        "to": "2026-01-03", "days": 3}]}]}"#;
    let report = set.apply_json("ops/cn-2026-fix.json", replace).unwrap();
    assert_eq!(report.years_replaced, vec![2026]);
    let cal = set.get("CN").unwrap();
    assert!(cal.is_working_day(d("2026-10-08")).unwrap());
    assert!(
        cal.is_working_day(d("2026-10-01")).unwrap(),
        "2026 rules were replaced"
    );
}

#[test]
fn bad_overlays_are_rejected_with_the_reason_and_change_nothing() {
    let mut set = CalendarSet::embedded().unwrap();
    let cases = [
        (
            OVERLAY_2027.replace("\"days\": 3", "\"days\": 4"),
            "(3 days) but \"days\" says 4",
        ),
        (
            OVERLAY_2027.replace("2027-01-09", "2027-01-08"),
            "is a Fri, not a weekend day",
        ),
        (
            OVERLAY_2027.replace("\"for\": \"New Year's Day\"", "\"for\": \"New Year\""),
            "not a holiday of 2027",
        ),
        (
            OVERLAY_2027.replace("\"format\": 1", "\"format\": 2"),
            "format 2 is not supported",
        ),
        (
            OVERLAY_2027.replace("\"notice\"", "\"notise\""),
            "unknown field `notise`",
        ),
        (
            OVERLAY_2027.replace("\"region\": \"CN\"", "\"region\": \"MO\""),
            "must give its \"weekend\"",
        ),
        (
            OVERLAY_2027
                .replace("2027", "2025")
                .replace(
                    "\"2025-01-01\", \"to\": \"2025-01-03\"",
                    "\"2025-12-31\", \"to\": \"2026-01-02\"",
                )
                .replace("2025-01-09", "2025-01-11"),
            "2026-01-01 is listed by the 2025 and the 2026 entries",
        ),
    ];
    for (json, want) in cases {
        let err = set.apply_json("bad.json", &json).unwrap_err().to_string();
        assert!(err.contains(want), "expected {want:?} in {err:?}");
        assert!(err.starts_with("calendar data bad.json"), "{err}");
    }
    assert_eq!(
        set.get("CN").unwrap().covered_years(),
        (2020..=2026).collect::<Vec<_>>()
    );
    assert_eq!(set.regions().collect::<Vec<_>>(), vec!["CN"]);
}

#[test]
fn a_new_region_can_be_added() {
    let mut set = CalendarSet::embedded().unwrap();
    let json = OVERLAY_2027
        .replace(
            "\"region\": \"CN\"",
            "\"region\": \"ae\", \"weekend\": [\"sat\", \"sun\"]",
        )
        .replace(
            ",\n    \"makeup_workdays\": [{\"date\": \"2027-01-09\", \"for\": \"New Year's Day\"}]",
            "",
        );
    set.apply_json("ae.json", &json).unwrap();
    assert_eq!(set.regions().collect::<Vec<_>>(), vec!["AE", "CN"]);
    assert!(
        !set.get("ae")
            .unwrap()
            .is_working_day(d("2027-01-02"))
            .unwrap()
    );
}
