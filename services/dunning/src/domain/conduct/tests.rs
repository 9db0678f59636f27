//! Conduct rules against the shipped profiles and the shipped CN calendar (R-D9, R-D10, R-D13).

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use money::CalendarSet;
use money::calendar::{Calendar, DayKind};
use proptest::prelude::*;
use uuid::Uuid;

use super::*;

const CUSTOMER: Uuid = Uuid::from_u128(1);
const OTHER_CUSTOMER: Uuid = Uuid::from_u128(2);
const DEBT: Uuid = Uuid::from_u128(11);
const OTHER_DEBT: Uuid = Uuid::from_u128(12);

fn cn_calendar() -> Calendar {
    CalendarSet::embedded().unwrap().get("CN").unwrap().clone()
}

fn cn() -> Profile {
    Profile::builtin("cn").unwrap()
}

fn us() -> Profile {
    Profile::builtin("us-regf").unwrap()
}

fn utc(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn attempt(when: &str, zone: Tz, channel: Channel) -> Attempt {
    Attempt {
        when: utc(when),
        time_zone: zone,
        channel,
        recipient: Recipient::Debtor,
        disclosure: Disclosure::DebtorOnly,
        customer_id: CUSTOMER,
        debt_id: DEBT,
    }
}

fn past(at: &str, channel: Channel, outcome: Outcome) -> PastContact {
    PastContact {
        at: utc(at),
        channel,
        customer_id: CUSTOMER,
        debt_id: DEBT,
        outcome,
    }
}

fn refused(reason: Reason, next: &str) -> Verdict {
    Verdict::Refused {
        reason,
        next_allowed: Some(utc(next)),
    }
}

fn verdict(profile: &Profile, a: &Attempt, history: &[PastContact]) -> Verdict {
    check(profile, &cn_calendar(), a, history).unwrap()
}

#[test]
fn r_d9_cn_call_at_2215_shanghai_waits_for_0800_next_day() {
    // 22:15 in Shanghai (UTC+8) is 14:15Z; 08:00 the next morning is 00:00Z.
    let a = attempt(
        "2026-03-02T14:15:00Z",
        Tz::Asia__Shanghai,
        Channel::PhoneCall,
    );
    assert_eq!(
        verdict(&cn(), &a, &[]),
        refused(Reason::QuietHours, "2026-03-03T00:00:00Z")
    );
    // 21:59 local is inside the window; 22:00 is not (the window excludes its end).
    let inside = attempt(
        "2026-03-02T13:59:00Z",
        Tz::Asia__Shanghai,
        Channel::PhoneCall,
    );
    assert_eq!(verdict(&cn(), &inside, &[]), Verdict::Allowed);
    let at_end = attempt(
        "2026-03-02T14:00:00Z",
        Tz::Asia__Shanghai,
        Channel::PhoneCall,
    );
    assert!(matches!(
        verdict(&cn(), &at_end, &[]),
        Verdict::Refused {
            reason: Reason::QuietHours,
            ..
        }
    ));
    assert_eq!(Reason::QuietHours.as_str(), "QUIET_HOURS");
}

#[test]
fn r_d13_cn_seventh_sms_of_a_local_day_waits_for_next_morning() {
    // Six SMS on 2026-03-03 between 09:00 and 14:00 Shanghai time.
    let history: Vec<_> = (1..=6)
        .map(|h| {
            past(
                &format!("2026-03-03T0{h}:00:00Z"),
                Channel::Sms,
                Outcome::Attempted,
            )
        })
        .collect();
    let a = attempt("2026-03-03T07:00:00Z", Tz::Asia__Shanghai, Channel::Sms);
    assert_eq!(
        verdict(&cn(), &a, &history),
        refused(Reason::FrequencyCap, "2026-03-04T00:00:00Z")
    );
    assert_eq!(Reason::FrequencyCap.as_str(), "FREQUENCY_CAP");
    // The sixth is still allowed; calls and other customers' SMS do not count against SMS.
    assert_eq!(verdict(&cn(), &a, &history[..5]), Verdict::Allowed);
    let mut others = history[..5].to_vec();
    others.push(past(
        "2026-03-03T06:30:00Z",
        Channel::PhoneCall,
        Outcome::Attempted,
    ));
    others.push(PastContact {
        customer_id: OTHER_CUSTOMER,
        ..past("2026-03-03T06:40:00Z", Channel::Sms, Outcome::Attempted)
    });
    assert_eq!(verdict(&cn(), &a, &others), Verdict::Allowed);
    // CN counts per customer (R-D13: per person), whatever the debt.
    let mut other_debt = history[..5].to_vec();
    other_debt.push(PastContact {
        debt_id: OTHER_DEBT,
        ..past("2026-03-03T06:40:00Z", Channel::Sms, Outcome::Attempted)
    });
    assert!(matches!(
        verdict(&cn(), &a, &other_debt),
        Verdict::Refused {
            reason: Reason::FrequencyCap,
            ..
        }
    ));
}

#[test]
fn r_d9_cn_national_day_waits_for_first_working_day_window() {
    // 2026-10-01 10:00 Shanghai; National Day runs 10-01..10-07 in the shipped calendar.
    let a = attempt("2026-10-01T02:00:00Z", Tz::Asia__Shanghai, Channel::Sms);
    assert_eq!(
        verdict(&cn(), &a, &[]),
        refused(Reason::Holiday, "2026-10-08T00:00:00Z")
    );
    assert_eq!(Reason::Holiday.as_str(), "HOLIDAY");
    // At night on a holiday the holiday is the reason given (it is the longer wait).
    let night = attempt(
        "2026-10-02T15:00:00Z",
        Tz::Asia__Shanghai,
        Channel::PhoneCall,
    );
    assert_eq!(
        verdict(&cn(), &night, &[]),
        refused(Reason::Holiday, "2026-10-08T00:00:00Z")
    );
}

#[test]
fn r_d13_us_regf_eighth_call_in_seven_days_is_refused() {
    // One call a day 2026-06-01..06-07 at 10:00 New York (EDT, 14:00Z).
    let history: Vec<_> = (1..=7)
        .map(|d| {
            past(
                &format!("2026-06-0{d}T14:00:00Z"),
                Channel::PhoneCall,
                Outcome::Attempted,
            )
        })
        .collect();
    let a = attempt(
        "2026-06-07T19:00:00Z",
        Tz::America__New_York,
        Channel::PhoneCall,
    );
    // 06-08's seven days (06-02..06-08) hold six calls: allowed at 08:00 EDT (12:00Z).
    assert_eq!(
        verdict(&us(), &a, &history),
        refused(Reason::FrequencyCap, "2026-06-08T12:00:00Z")
    );
    // The seventh is allowed; calls about another debt count separately (Reg F: per debt).
    assert_eq!(verdict(&us(), &a, &history[..6]), Verdict::Allowed);
    let other = Attempt {
        debt_id: OTHER_DEBT,
        ..a.clone()
    };
    assert_eq!(verdict(&us(), &other, &history), Verdict::Allowed);
}

#[test]
fn r_d13_us_regf_no_call_within_seven_days_after_a_conversation() {
    // A conversation on Monday 2026-06-01 (day 1); calls may resume on 06-08.
    let history = [past(
        "2026-06-01T19:00:00Z",
        Channel::PhoneCall,
        Outcome::Conversation,
    )];
    let a = attempt(
        "2026-06-07T14:00:00Z",
        Tz::America__New_York,
        Channel::PhoneCall,
    );
    assert_eq!(
        verdict(&us(), &a, &history),
        refused(Reason::FrequencyCap, "2026-06-08T12:00:00Z")
    );
    let later = attempt(
        "2026-06-08T14:00:00Z",
        Tz::America__New_York,
        Channel::PhoneCall,
    );
    assert_eq!(verdict(&us(), &later, &history), Verdict::Allowed);
    // Only calls pause; an e-mail the next day is allowed.
    let mail = attempt(
        "2026-06-02T14:00:00Z",
        Tz::America__New_York,
        Channel::Email,
    );
    assert_eq!(verdict(&us(), &mail, &history), Verdict::Allowed);
    // An unanswered call does not pause anything.
    let unanswered = [past(
        "2026-06-01T19:00:00Z",
        Channel::PhoneCall,
        Outcome::Attempted,
    )];
    assert_eq!(verdict(&us(), &a, &unanswered), Verdict::Allowed);
}

#[test]
fn r_d9_r_d13_third_parties_never_learn_of_the_debt() {
    let base = attempt(
        "2026-03-03T03:00:00Z",
        Tz::Asia__Shanghai,
        Channel::PhoneCall,
    );
    let no_time = Verdict::Refused {
        reason: Reason::ThirdPartyDisclosure,
        next_allowed: None,
    };
    for profile in [cn(), us()] {
        let designated = Attempt {
            recipient: Recipient::DesignatedContact,
            ..base.clone()
        };
        assert_eq!(verdict(&profile, &designated, &[]), no_time);
        let call_back = Attempt {
            disclosure: Disclosure::CallBackRequest,
            ..designated
        };
        assert_eq!(verdict(&profile, &call_back, &[]), Verdict::Allowed);
        let unrelated = Attempt {
            recipient: Recipient::Unrelated,
            ..call_back
        };
        assert_eq!(verdict(&profile, &unrelated, &[]), no_time);
    }
    assert_eq!(
        Reason::ThirdPartyDisclosure.as_str(),
        "THIRD_PARTY_DISCLOSURE"
    );
}

#[test]
fn r_d9_us_quiet_hours_are_new_york_local_time_across_dst() {
    let ny = Tz::America__New_York;
    // 07:30 EST in January is refused until 08:00 EST (13:00Z) ...
    let january = attempt("2026-01-15T12:30:00Z", ny, Channel::PhoneCall);
    assert_eq!(
        verdict(&us(), &january, &[]),
        refused(Reason::QuietHours, "2026-01-15T13:00:00Z")
    );
    // ... while the same UTC time in July is 08:30 EDT, allowed.
    let july = attempt("2026-07-15T12:30:00Z", ny, Channel::PhoneCall);
    assert_eq!(verdict(&us(), &july, &[]), Verdict::Allowed);
    // 21:30 EST on Saturday 2026-03-07; clocks go forward that night, so 08:00 is EDT.
    let spring = attempt("2026-03-08T02:30:00Z", ny, Channel::Sms);
    assert_eq!(
        verdict(&us(), &spring, &[]),
        refused(Reason::QuietHours, "2026-03-08T12:00:00Z")
    );
    // 21:00 is the end of the Reg F window.
    let evening = attempt("2026-07-15T01:00:00Z", ny, Channel::Email);
    assert_eq!(
        verdict(&us(), &evening, &[]),
        refused(Reason::QuietHours, "2026-07-15T12:00:00Z")
    );
}

#[test]
fn r_d13_posted_letters_ignore_quiet_hours_but_cn_keeps_holidays() {
    // 23:00 Shanghai on an ordinary day: a letter may be dispatched, a door notice may not.
    let letter = attempt("2026-03-03T15:00:00Z", Tz::Asia__Shanghai, Channel::Letter);
    assert_eq!(verdict(&cn(), &letter, &[]), Verdict::Allowed);
    assert_eq!(verdict(&us(), &letter, &[]), Verdict::Allowed);
    let door = Attempt {
        channel: Channel::DoorNotice,
        ..letter.clone()
    };
    assert!(matches!(
        verdict(&cn(), &door, &[]),
        Verdict::Refused {
            reason: Reason::QuietHours,
            ..
        }
    ));
    // On National Day the CN profile holds letters back to the first day after it.
    let holiday_letter = attempt("2026-10-03T15:00:00Z", Tz::Asia__Shanghai, Channel::Letter);
    assert_eq!(
        verdict(&cn(), &holiday_letter, &[]),
        refused(Reason::Holiday, "2026-10-07T16:00:00Z")
    );
}

#[test]
fn r_d9_uncovered_year_is_an_error_not_a_guess() {
    let a = attempt("2030-03-04T03:00:00Z", Tz::Asia__Shanghai, Channel::Sms);
    let err = check(&cn(), &cn_calendar(), &a, &[]).unwrap_err();
    assert!(matches!(err, ConductError::Calendar(_)), "{err}");
    // A profile without holiday rules does not ask the calendar.
    let b = attempt("2030-03-04T15:00:00Z", Tz::America__New_York, Channel::Sms);
    assert_eq!(verdict(&us(), &b, &[]), Verdict::Allowed);
}

#[test]
fn r_d9_holidays_come_from_the_profiles_calendar() {
    let mut set = CalendarSet::embedded().unwrap();
    set.apply_json(
        "test:xx.json",
        r#"{"format": 1, "region": "XX", "version": "t", "weekend": ["sat", "sun"], "years": []}"#,
    )
    .unwrap();
    let xx = set.get("XX").unwrap();
    let a = attempt("2026-03-03T03:00:00Z", Tz::Asia__Shanghai, Channel::Sms);
    assert!(matches!(
        check(&cn(), xx, &a, &[]),
        Err(ConductError::CalendarMismatch { .. })
    ));
    assert!(matches!(
        pre_holiday_date(&cn(), xx, day("2026-02-10")),
        Err(ConductError::CalendarMismatch { .. })
    ));
    // The US profile names no calendar and uses none.
    assert_eq!(check(&us(), xx, &a, &[]).unwrap(), Verdict::Allowed);
}

#[test]
fn r_d10_reminders_before_traditional_holidays_go_out_earlier() {
    let cal = cn_calendar();
    let shifted = |d: &str| pre_holiday_date(&cn(), &cal, day(d)).unwrap();
    // Spring Festival 2026 starts Sunday 02-15: 02-08 is a Sunday, so the last working day at
    // least 7 days before is Friday 02-06.
    assert_eq!(shifted("2026-02-10"), day("2026-02-06"));
    assert_eq!(shifted("2026-02-14"), day("2026-02-06"));
    // Exactly seven days before is not "within the week": unchanged.
    assert_eq!(shifted("2026-02-08"), day("2026-02-08"));
    assert_eq!(shifted("2026-02-05"), day("2026-02-05"));
    // Mid-autumn 2026 starts Friday 09-25: a reminder on 09-22 goes on Friday 09-18.
    assert_eq!(shifted("2026-09-22"), day("2026-09-18"));
    // National Day is not a traditional holiday in the CN profile; days inside a holiday stay.
    assert_eq!(shifted("2026-09-29"), day("2026-09-29"));
    assert_eq!(shifted("2026-02-16"), day("2026-02-16"));
    // The US profile has no pre-holiday shift.
    assert_eq!(
        pre_holiday_date(&us(), &cal, day("2026-02-10")).unwrap(),
        day("2026-02-10")
    );
}

#[test]
fn r_d13_shipped_profiles_load_and_bad_fields_are_named() {
    assert_eq!(cn().id(), "cn");
    assert_eq!(cn().calendar_region(), Some("CN"));
    assert_eq!(us().calendar_region(), None);
    assert!(!us().sources().is_empty());
    let text = include_str!("../../../profiles/cn.json");
    let field_of = |json: String| match Profile::from_json("test.json", &json) {
        Err(ConductError::InvalidProfile { field, .. }) => field,
        other => panic!("expected a field error, got {other:?}"),
    };
    let per_day = text.replacen(
        r#""sms":           { "quiet_hours": true,  "public_holidays": true, "per_day": 6 }"#,
        r#""sms": { "quiet_hours": true, "public_holidays": true, "per_day": 0 }"#,
        1,
    );
    assert_eq!(field_of(per_day), "channels.sms.per_day");
    let no_visit = text.replacen(
        r#""visit":         { "quiet_hours": true,  "public_holidays": true, "per_day": 6 },"#,
        "",
        1,
    );
    assert_eq!(field_of(no_visit), "channels.visit");
    assert_eq!(
        field_of(text.replacen(r#""start": "08:00""#, r#""start": "8am""#, 1)),
        "contact_window.start"
    );
    assert_eq!(
        field_of(text.replacen(r#""end": "22:00""#, r#""end": "07:00""#, 1)),
        "contact_window.end"
    );
    assert_eq!(
        field_of(text.replacen(
            r#""calendar_region": "CN""#,
            r#""calendar_region": null"#,
            1
        )),
        "calendar_region"
    );
    let unknown = text.replacen(r#""id": "cn""#, r#""id": "cn", "colour": "red""#, 1);
    let err = Profile::from_json("test.json", &unknown).unwrap_err();
    assert!(err.to_string().contains("colour"), "{err}");
    assert!(matches!(
        Profile::builtin("de"),
        Err(ConductError::UnknownProfile { .. })
    ));
}

const ZONES: [Tz; 6] = [
    Tz::Asia__Shanghai,
    Tz::America__New_York,
    Tz::America__Los_Angeles,
    Tz::Europe__London,
    Tz::Australia__Sydney,
    Tz::Asia__Kolkata,
];

/// (minutes from the attempt, same channel, same customer, same debt, conversation)
type Entry = (i64, bool, bool, bool, bool);

fn history_from(a: &Attempt, entries: &[Entry]) -> Vec<PastContact> {
    entries
        .iter()
        .map(
            |&(minutes, same_channel, same_customer, same_debt, talked)| PastContact {
                at: a.when + Duration::minutes(minutes),
                channel: if same_channel {
                    a.channel
                } else {
                    Channel::Letter
                },
                customer_id: if same_customer {
                    CUSTOMER
                } else {
                    OTHER_CUSTOMER
                },
                debt_id: if same_debt { DEBT } else { OTHER_DEBT },
                outcome: if talked {
                    Outcome::Conversation
                } else {
                    Outcome::Attempted
                },
            },
        )
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// R-D9, R-D13: a refused contact is rescheduled to the earliest allowed instant: checking
    /// the same attempt there is Allowed, it is not before the asked time, it is never in quiet
    /// hours or on a holiday, and every instant before it is refused.
    #[test]
    fn r_d9_r_d13_next_allowed_is_the_earliest_allowed_instant(
        use_us in any::<bool>(),
        zone in 0..ZONES.len(),
        channel in 0..Channel::ALL.len(),
        recipient in 0..3u8,
        // 2025-01-01 .. 2026-11-30, a minute at a time: inside the calendar's data.
        start in 0i64..(698 * 24 * 60),
        entries in proptest::collection::vec(
            (-(8 * 24 * 60)..(24 * 60i64), prop::bool::weighted(0.8), prop::bool::weighted(0.8),
             prop::bool::weighted(0.8), prop::bool::weighted(0.05)),
            0..80,
        ),
        probe in 0i64..1000,
    ) {
        let profile = if use_us { us() } else { cn() };
        let calendar = cn_calendar();
        let (recipient, disclosure) = match recipient {
            0 => (Recipient::Debtor, Disclosure::DebtorOnly),
            1 => (Recipient::DesignatedContact, Disclosure::CallBackRequest),
            _ => (Recipient::Unrelated, Disclosure::CallBackRequest),
        };
        let a = Attempt {
            when: utc("2025-01-01T00:00:00Z") + Duration::minutes(start),
            time_zone: ZONES[zone],
            channel: Channel::ALL[channel],
            recipient,
            disclosure,
            customer_id: CUSTOMER,
            debt_id: DEBT,
        };
        let history = history_from(&a, &entries);
        match check(&profile, &calendar, &a, &history).unwrap() {
            Verdict::Allowed => {}
            Verdict::Refused { reason, next_allowed: None } => {
                prop_assert_eq!(reason, Reason::ThirdPartyDisclosure);
                prop_assert_eq!(recipient, Recipient::Unrelated);
            }
            Verdict::Refused { reason, next_allowed: Some(next) } => {
                prop_assert!(reason != Reason::ThirdPartyDisclosure);
                prop_assert!(next >= a.when);
                let again = Attempt { when: next, ..a.clone() };
                prop_assert_eq!(check(&profile, &calendar, &again, &history).unwrap(), Verdict::Allowed);
                let rule = profile.channel(a.channel).unwrap();
                let local = next.with_timezone(&a.time_zone).naive_local();
                let (open, close) = profile.contact_window();
                if rule.quiet_hours {
                    prop_assert!(open <= local.time() && local.time() < close, "{local}");
                }
                if rule.public_holidays {
                    let kind = calendar.day(local.date()).unwrap().kind;
                    prop_assert!(!matches!(kind, DayKind::Holiday { .. }), "{local}");
                }
                // Earliest: an instant between the asked time and next_allowed is refused.
                let before = a.when + (next - a.when) * i32::try_from(probe).unwrap() / 1000;
                if before < next {
                    let early = Attempt { when: before, ..a.clone() };
                    let v = check(&profile, &calendar, &early, &history).unwrap();
                    prop_assert!(v != Verdict::Allowed, "{before} allowed before {next}");
                }
            }
        }
    }

    /// R-D10: a moved reminder goes earlier, onto a working day, and moving it again changes
    /// nothing.
    #[test]
    fn r_d10_pre_holiday_date_is_earlier_working_and_stable(offset in 0i64..(6 * 366)) {
        let calendar = cn_calendar();
        let planned = day("2021-01-10") + Duration::days(offset);
        prop_assume!(planned <= day("2026-12-20"));
        let moved = pre_holiday_date(&cn(), &calendar, planned).unwrap();
        prop_assert!(moved <= planned);
        if moved != planned {
            prop_assert!(calendar.is_working_day(moved).unwrap());
        }
        prop_assert_eq!(pre_holiday_date(&cn(), &calendar, moved).unwrap(), moved);
    }
}
