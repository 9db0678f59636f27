use chrono::{Days, NaiveDate};
use proptest::prelude::*;
use rust_decimal::Decimal;

use super::*;

fn d(m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, day).unwrap_or_default()
}

fn policy() -> Policy {
    Policy::default_policy().expect("the shipped policy")
}

fn item(due: NaiveDate, open: i64) -> Item {
    Item {
        due,
        open: Decimal::from(open),
    }
}

/// Runs the engine every day from `from` through `to`, taking what it decides; returns the
/// steps taken.
fn simulate(
    policy: &Policy,
    grade: &str,
    segment: Option<Segment>,
    occupancy: Option<Occupancy>,
    items: &[Item],
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<Taken> {
    let mut taken = Vec::new();
    let mut day = from;
    while day <= to {
        let debtor = Debtor {
            grade,
            segment,
            occupancy,
            items,
            taken: &taken,
        };
        if let Decision::Take { step, .. } = decide(policy, &debtor, day) {
            taken.push(Taken {
                code: step.code.clone(),
                severity: step.severity,
                on: day,
            });
        }
        day = day + Days::new(1);
    }
    taken
}

fn codes(taken: &[Taken]) -> Vec<&str> {
    taken.iter().map(|t| t.code.as_str()).collect()
}

#[test]
fn the_shipped_policy_loads_and_bad_policies_name_the_field() {
    let p = policy();
    assert_eq!((p.id.as_str(), p.version), ("default", 1));
    let mut dup = p.clone();
    dup.steps[1].code = dup.steps[0].code.clone();
    assert_eq!(
        dup.check().map_err(|e| e.field),
        Err("steps[1].code".to_owned())
    );
    let mut inverted = p.clone();
    inverted.steps[0].when.to_day = Some(-9);
    assert_eq!(
        inverted.check().map_err(|e| e.field),
        Err("steps[0].when.to_day".to_owned())
    );
    let mut unspaced = p.clone();
    unspaced.steps[2].every_days = 0;
    assert_eq!(
        unspaced.check().map_err(|e| e.field),
        Err("steps[2].every_days".to_owned())
    );
    let mut english_only = p.clone();
    english_only.steps[3].templates.remove("zh-CN");
    let err = english_only.check().expect_err("R-D3: Chinese first");
    assert_eq!(err.field, "steps[3].templates");
    let err = Policy::from_json(
        r#"{"id": "x", "version": 1, "effective_from": "2026-01-01", "steps": [], "extra": 1}"#,
    )
    .expect_err("unknown field");
    assert!(err.reason.contains("extra"), "{err}");
}

#[test]
fn channel_names_are_the_policy_files_names() {
    // Also the contact log's text forms, which it hashes (R-D4).
    for channel in Channel::ALL.iter().copied() {
        assert_eq!(
            serde_json::to_value(channel).ok(),
            Some(serde_json::Value::String(channel.as_str().to_owned()))
        );
    }
}

#[test]
fn reminders_go_seven_days_before_and_on_the_due_date_r_d1() {
    let p = policy();
    let items = [item(d(3, 10), 1000)];
    let taken = simulate(&p, "AAA", None, None, &items, d(3, 1), d(3, 10));
    assert_eq!(
        taken
            .iter()
            .map(|t| (t.code.as_str(), t.on))
            .collect::<Vec<_>>(),
        vec![
            ("pre_due_reminder", d(3, 3)),
            ("due_day_reminder", d(3, 10))
        ]
    );
}

#[test]
fn one_step_a_day_covers_every_overdue_item_of_the_debtor_r_d3() {
    let p = policy();
    // Three items on two contracts, all overdue: one decision covering the three.
    let items = [
        item(d(1, 10), 300),
        item(d(2, 10), 300),
        item(d(2, 15), 450),
        item(d(9, 10), 999),
    ];
    let debtor = Debtor {
        grade: "BB",
        segment: Some(Segment::Residential),
        occupancy: Some(Occupancy::Occupied),
        items: &items,
        taken: &[],
    };
    let Decision::Take {
        step,
        items: covered,
        amount,
        n,
    } = decide(&p, &debtor, d(3, 1))
    else {
        panic!("a step is due");
    };
    // Day 50 of the oldest: the most severe step due, not every step due.
    assert_eq!((step.code.as_str(), n), ("evening_visit", 1));
    assert_eq!(covered, vec![0, 1, 2], "not the item due in September");
    assert_eq!(amount, Decimal::from(1050));
    let taken = [Taken {
        code: step.code.clone(),
        severity: step.severity,
        on: d(3, 1),
    }];
    let again = Debtor {
        taken: &taken,
        ..debtor
    };
    assert_eq!(
        decide(&p, &again, d(3, 1)),
        Decision::Hold(Hold::AlreadyToday)
    );
}

#[test]
fn the_notice_series_is_ten_notices_every_three_days_signed_from_the_sixth_r_d2() {
    let p = policy();
    let items = [item(d(1, 10), 2000)];
    let taken = simulate(
        &p,
        "BB",
        Some(Segment::Residential),
        Some(Occupancy::Occupied),
        &items,
        d(1, 11),
        d(2, 23),
    );
    let notices: Vec<&Taken> = taken
        .iter()
        .filter(|t| t.code.starts_with("notice_series"))
        .collect();
    assert_eq!(notices.len(), 10, "{:?}", codes(&taken));
    for pair in notices.windows(2) {
        assert!((pair[1].on - pair[0].on).num_days() >= 3, "{pair:?}");
    }
    let signed: Vec<bool> = notices
        .iter()
        .map(|t| {
            p.steps
                .iter()
                .find(|s| s.code == t.code)
                .is_some_and(|s| s.signature_required)
        })
        .collect();
    assert_eq!(signed, [vec![false; 5], vec![true; 5]].concat());
    // Reminders every two weeks before the notices start (R-D2).
    let reminders: Vec<NaiveDate> = taken
        .iter()
        .filter(|t| t.code == "overdue_reminder")
        .map(|t| t.on)
        .collect();
    assert_eq!(reminders, vec![d(1, 11)]);
}

#[test]
fn segment_rules_choose_the_legal_route_r_d7() {
    let p = policy();
    let first_legal = |occupancy, open| {
        let items = [item(d(1, 10), open)];
        simulate(
            &p,
            "B",
            Some(Segment::Residential),
            Some(occupancy),
            &items,
            d(1, 11),
            d(4, 30),
        )
        .into_iter()
        .find(|t| t.severity >= 80)
        .map(|t| (t.code, t.on))
    };
    // Vacant: a lawyer's letter once arrears exceed 3,000 (day 60 = 11 March).
    assert_eq!(
        first_legal(Occupancy::Vacant, 3500),
        Some(("lawyer_letter_vacant".to_owned(), d(3, 11)))
    );
    // Occupied: not below 5,000.
    assert_eq!(first_legal(Occupancy::Occupied, 3500), None);
    assert_eq!(
        first_legal(Occupancy::Occupied, 6000),
        Some(("lawyer_letter".to_owned(), d(3, 11)))
    );
    // Legal hand-off at day 90 above 5,000 (10 April), or after a year whatever the amount.
    let items = [item(d(1, 10), 6000)];
    let taken = simulate(&p, "B", None, None, &items, d(1, 11), d(4, 30));
    assert!(
        taken
            .iter()
            .any(|t| t.code == "litigation_handoff" && t.on == d(4, 10)),
        "{:?}",
        codes(&taken)
    );
    let small = [item(d(1, 10), 800)];
    let year = simulate(&p, "B", None, None, &small, d(1, 11), d(12, 31));
    assert!(!year.iter().any(|t| t.severity >= 80), "{:?}", codes(&year));
    let later = simulate(
        &p,
        "B",
        None,
        None,
        &small,
        d(1, 11),
        NaiveDate::from_ymd_opt(2027, 1, 12).unwrap_or_default(),
    );
    assert_eq!(
        later.last().map(|t| t.code.as_str()),
        Some("litigation_after_a_year")
    );
}

#[test]
fn paying_the_oldest_item_holds_the_ladder_with_its_reason_r_d12() {
    let p = policy();
    // Notices under way on the item of 10 January; the one of 10 March is newer.
    let taken = vec![Taken {
        code: "notice_series_2".to_owned(),
        severity: 60,
        on: d(3, 12),
    }];
    let items = [item(d(1, 10), 0), item(d(3, 10), 300)];
    let debtor = Debtor {
        grade: "BB",
        segment: None,
        occupancy: None,
        items: &items,
        taken: &taken,
    };
    // The oldest open item is now 5 days overdue: the gentler reminder is not sent.
    assert_eq!(
        decide(&p, &debtor, d(3, 15)),
        Decision::Hold(Hold::OldestItemChanged)
    );
    assert_eq!(Hold::OldestItemChanged.as_str(), "OLDEST_ITEM_CHANGED");
    // Spacing: a notice three days apart at the earliest.
    let items = [item(d(1, 10), 300)];
    let debtor = Debtor {
        items: &items,
        ..debtor
    };
    assert_eq!(decide(&p, &debtor, d(3, 14)), Decision::Hold(Hold::Spacing));
    assert!(matches!(
        decide(&p, &debtor, d(3, 15)),
        Decision::Take { .. }
    ));
    // Nothing owed: nothing to do.
    let paid = [item(d(1, 10), 0)];
    let debtor = Debtor {
        items: &paid,
        ..debtor
    };
    assert_eq!(decide(&p, &debtor, d(3, 15)), Decision::Nothing);
}

proptest! {
    /// R-D12: after due, the steps taken never get gentler, and there is at most one a day,
    /// whatever the items, grades and payments.
    #[test]
    fn the_ladder_is_monotonic_and_one_step_a_day(
        dues in prop::collection::vec((1u32..=12, 1u32..=28, 1i64..20_000), 1..5),
        grade in prop::sample::select(vec!["AAA", "BB", "B", "D"]),
        vacant in any::<bool>(),
        pay_on in prop::option::of(0u64..200),
    ) {
        let p = policy();
        let mut items: Vec<Item> = dues.iter().map(|(m, day, open)| item(d(*m, *day), *open)).collect();
        let start = d(1, 1);
        let mut taken: Vec<Taken> = Vec::new();
        let mut last_after_due: Option<u32> = None;
        for offset in 0..400u64 {
            let today = start + Days::new(offset);
            if pay_on == Some(offset) {
                // The oldest item is paid.
                if let Some(oldest) = items.iter_mut().filter(|i| i.open > Decimal::ZERO).min_by_key(|i| i.due) {
                    oldest.open = Decimal::ZERO;
                }
            }
            let debtor = Debtor {
                grade,
                segment: Some(Segment::Residential),
                occupancy: Some(if vacant { Occupancy::Vacant } else { Occupancy::Occupied }),
                items: &items,
                taken: &taken,
            };
            if let Decision::Take { step, .. } = decide(&p, &debtor, today) {
                prop_assert!(!taken.iter().any(|t| t.on == today));
                let overdue = items.iter().any(|i| i.open > Decimal::ZERO && i.due < today);
                if overdue {
                    if let Some(last) = last_after_due {
                        prop_assert!(step.severity >= last, "{} after {}", step.code, last);
                    }
                    last_after_due = Some(step.severity);
                }
                taken.push(Taken { code: step.code.clone(), severity: step.severity, on: today });
            }
        }
    }
}

#[test]
fn templates_fill_known_fields_and_keep_unknown_ones_as_written() {
    let vars = [
        ("name", "张三".to_owned()),
        ("amount", "1,200.00".to_owned()),
    ];
    assert_eq!(
        render("尊敬的{name}：欠款{amount}元，{unknown}，{name}", &vars),
        "尊敬的张三：欠款1,200.00元，{unknown}，张三"
    );
    assert_eq!(render("no braces", &vars), "no braces");
    assert_eq!(render("open { never closed", &vars), "open { never closed");
}

#[test]
fn a_template_falls_back_to_chinese_and_the_next_step_is_the_next_harder_one() {
    let p = policy();
    let notice = p
        .steps
        .iter()
        .find(|s| s.code == "notice_series_2")
        .expect("shipped step");
    assert_eq!(notice.template("en").map(|t| t.0), Some("en"));
    assert_eq!(notice.template("fr").map(|t| t.0), Some("zh-CN"));
    let next = p.next_after(notice).expect("a harder step");
    assert_eq!(next.code, "evening_visit");
    let last = p
        .steps
        .iter()
        .find(|s| s.code == "litigation_handoff")
        .expect("shipped step");
    assert!(p.next_after(last).is_none());
}

#[test]
fn the_legal_route_opens_only_after_earlier_steps_r_d7() {
    let p = policy();
    // First seen 100 days overdue with 8,000 owed and nothing done yet: not litigation.
    let items = [item(d(1, 1), 8000)];
    let debtor = Debtor {
        grade: "BBB",
        segment: None,
        occupancy: None,
        items: &items,
        taken: &[],
    };
    let today = d(4, 11);
    match decide(&p, &debtor, today) {
        Decision::Take { step, .. } => assert_ne!(step.channel, Channel::LitigationHandoff),
        other => panic!("a first step, not {other:?}"),
    }
    // After a lawyer's letter it is.
    let taken = [Taken {
        code: "lawyer_letter".to_owned(),
        severity: 80,
        on: d(4, 1),
    }];
    let debtor = Debtor {
        taken: &taken,
        ..debtor
    };
    match decide(&p, &debtor, today) {
        Decision::Take { step, .. } => assert_eq!(step.code, "litigation_handoff"),
        other => panic!("litigation, not {other:?}"),
    }
    // A policy naming a step it does not have is refused, naming the field.
    let mut broken = p.clone();
    if let Some(last) = broken.steps.last_mut() {
        last.when.after_any = vec!["no_such_step".to_owned()];
    }
    let error = broken.check().expect_err("unknown step code");
    assert!(error.field.ends_with("when.after_any"), "{error:?}");
}

#[test]
fn segment_and_occupancy_names_are_the_policy_files_names() {
    for s in [
        Segment::Residential,
        Segment::Commercial,
        Segment::Villa,
        Segment::Parking,
    ] {
        assert_eq!(Segment::parse(s.as_str()), Some(s));
        assert_eq!(
            serde_json::to_value(s).ok(),
            Some(serde_json::Value::String(s.as_str().to_owned()))
        );
    }
    for o in [Occupancy::Vacant, Occupancy::Occupied] {
        assert_eq!(Occupancy::parse(o.as_str()), Some(o));
        assert_eq!(
            serde_json::to_value(o).ok(),
            Some(serde_json::Value::String(o.as_str().to_owned()))
        );
    }
    assert_eq!(Segment::parse("castle"), None);
}

#[test]
fn hand_sent_templates_carry_their_disclosure_and_steps_are_debtor_only() {
    let p = Policy::from_json(
        r#"{"id": "t", "version": 1, "effective_from": "2026-01-01",
            "steps": [{"code": "reminder", "severity": 10, "channel": "sms",
                       "when": {"from_day": 1}, "templates": {"zh-CN": "欠款{amount}元"}}],
            "messages": {"call_back": {"disclosure": "call_back_request",
                                        "templates": {"zh-CN": "请转告{name}回电", "en": "Please ask {name} to call us back"}}}}"#,
    )
    .expect("a policy");
    assert_eq!(
        p.hand_template("reminder", "en"),
        Some((Disclosure::DebtorOnly, "zh-CN", "欠款{amount}元"))
    );
    assert_eq!(
        p.hand_template("call_back", "en").map(|t| (t.0, t.1)),
        Some((Disclosure::CallBackRequest, "en"))
    );
    assert!(p.hand_template("threat", "zh-CN").is_none());
    let clash = Policy::from_json(
        r#"{"id": "t", "version": 1, "effective_from": "2026-01-01",
            "steps": [{"code": "reminder", "severity": 10, "channel": "sms",
                       "when": {"from_day": 1}, "templates": {"zh-CN": "x"}}],
            "messages": {"reminder": {"templates": {"zh-CN": "y"}}}}"#,
    )
    .expect_err("a message named like a step");
    assert_eq!(clash.field, "messages.reminder");
}

#[test]
fn amounts_in_different_currencies_are_never_added_up() {
    let p = policy();
    // 3,000 CNY and 3,000 USD, both 100 days overdue after a lawyer's letter: neither reaches
    // litigation's 5,000 alone (added up they would).
    let cny = [item(d(1, 1), 3000)];
    let usd = [item(d(1, 1), 3000)];
    let taken = [Taken {
        code: "lawyer_letter_vacant".to_owned(),
        severity: 80,
        on: d(4, 1),
    }];
    let view = |items| Debtor {
        grade: "BBB",
        segment: None,
        occupancy: None,
        items,
        taken: &taken,
    };
    let today = d(4, 11);
    let (_, apart) = decide_each(&p, &[view(&cny[..]), view(&usd[..])], today);
    assert!(
        !matches!(apart, Decision::Take { step, .. } if step.channel == Channel::LitigationHandoff),
        "{apart:?}"
    );
    let both = [item(d(1, 1), 3000), item(d(1, 1), 3000)];
    let (_, summed) = decide_each(&p, &[view(&both[..])], today);
    assert!(
        matches!(summed, Decision::Take { step, .. } if step.channel == Channel::LitigationHandoff),
        "{summed:?}"
    );
    // The first view that takes a step wins; a view with nothing owed is skipped.
    let nothing: [Item; 0] = [];
    let (i, first) = decide_each(&p, &[view(&nothing[..]), view(&cny[..])], today);
    assert_eq!(i, 1);
    assert!(!matches!(first, Decision::Nothing));
}

#[test]
fn after_a_broken_plan_only_a_more_severe_step_is_taken() {
    // R-D6: a debtor 24 days overdue whose plan paused them after the first notice of the
    // series: without a floor the series goes on; with the floor at that step's severity the
    // engine waits for a harder step instead of repeating it.
    let p = policy();
    let items = [item(d(3, 1), 4000)];
    let taken = [Taken {
        code: "notice_series_1".to_owned(),
        severity: 50,
        on: d(3, 16),
    }];
    let debtor = Debtor {
        grade: "BBB",
        segment: None,
        occupancy: None,
        items: &items,
        taken: &taken,
    };
    let today = d(3, 25);
    assert!(
        matches!(decide(&p, &debtor, today), Decision::Take { step, n: 2, .. } if step.code == "notice_series_1")
    );
    assert_eq!(
        decide_above(&p, &debtor, today, Some(50)),
        Decision::Hold(Hold::WaitingForNextStep)
    );
    // From day 30 the next harder step comes.
    assert!(
        matches!(decide_above(&p, &debtor, d(3, 31), Some(50)), Decision::Take { step, .. } if step.code == "notice_series_2")
    );
    // The floor never lets a step at or below it through, whatever the day.
    for offset in 0..400 {
        let day = d(3, 2) + Days::new(offset);
        if let Decision::Take { step, .. } = decide_above(&p, &debtor, day, Some(50)) {
            assert!(step.severity > 50, "{} on {day}", step.code);
        }
    }
}
