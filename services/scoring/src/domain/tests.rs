//! Tests of the points scorecard `pts-v1`: the shipped card, loading errors, scoring, reasons,
//! strategy, and properties over arbitrary customers (R-S1..R-S5, R-C5).

use proptest::prelude::*;
use proptest::strategy::Strategy as Generate;
use rust_decimal::Decimal;

use super::*;
// The scorecard's strategy outputs, not proptest's trait of the same name.
use super::Strategy;

fn card() -> Scorecard {
    Scorecard::shipped(PTS_V1).expect("the shipped pts-v1 card validates")
}

fn share(hundredths: i64) -> Share {
    Share::new(Decimal::new(hundredths, 2)).expect("share")
}

/// A long-standing residential customer who always paid on time.
fn clean() -> Features {
    Features {
        days_past_due: 0,
        late_payments: 0,
        broken_promises: 0,
        on_time_share: Some(share(100)),
        outstanding_balance: Balance::new(Decimal::new(20_000, 0)).expect("balance"),
        overdue_share: Some(share(0)),
        tenure_months: 48,
        segment: Segment::Residential,
        open_disputes: 0,
        legal_cases: 0,
        bureau_score: Some(800),
        debt_to_income: Some(share(20)),
        industry: None,
        region: None,
    }
}

#[test]
fn the_shipped_card_scores_every_indicator_of_r_s1_up_to_1000() {
    let c = card();
    assert_eq!(c.version, "pts-v1");
    assert_eq!(c.rules.len(), 12);
    assert_eq!(c.max_score(), 1000);
    assert!(Scorecard::shipped("pts-v0").is_err());
}

#[test]
fn a_clean_customer_scores_the_maximum_with_no_reasons_r_s1_r_s2() {
    let r = card().score(&clean());
    assert_eq!(r.score, 1000);
    assert_eq!(r.grade, Grade::Aaa);
    assert!(r.reasons.is_empty(), "{:?}", r.reasons);
    assert_eq!(r.thresholds, "base");
    assert_eq!(r.strategy.credit_term, CreditTerm::Days(60));
    assert_eq!(r.strategy.follow_up, FollowUp::Automatic);
}

#[test]
fn a_delinquent_customer_is_explained_by_the_largest_losses_r_s2() {
    let f = Features {
        days_past_due: 45,              // 60 of 180: loses 120
        late_payments: 3,               // 55 of 100: loses 45
        broken_promises: 1,             // 45 of 80: loses 35
        on_time_share: Some(share(70)), // 30 of 100: loses 70
        overdue_share: Some(share(30)), // 25 of 80: loses 55
        bureau_score: None,             // 40 of 80: loses 40
        ..clean()
    };
    let r = card().score(&f);
    let codes: Vec<&str> = r.reasons.iter().map(|x| x.code.as_str()).collect();
    assert_eq!(
        codes,
        ["DPD", "ON_TIME_SHARE", "OVERDUE_SHARE", "LATE_PAYMENTS"]
    );
    assert_eq!(r.reasons[0].points_lost, 120);
    assert_eq!(r.score, 1000 - 120 - 45 - 35 - 70 - 55 - 40);
    let dpd = &r.points[0];
    assert_eq!((dpd.bin.as_str(), dpd.points), ("31-60", 60));
    let bureau = r
        .points
        .iter()
        .find(|p| p.indicator == Indicator::BureauScore);
    assert_eq!(bureau.map(|p| p.bin.as_str()), Some("missing"));
}

#[test]
fn equal_losses_keep_the_cards_order_r_s2() {
    // Tenure of 12-35 months earns 45 of 60 and a commercial unit 35 of 50: both lose 15, and
    // tenure comes first in the card.
    let f = Features {
        tenure_months: 20,
        segment: Segment::Commercial,
        ..clean()
    };
    let r = card().score(&f);
    let codes: Vec<&str> = r.reasons.iter().map(|x| x.code.as_str()).collect();
    assert_eq!(codes, ["SHORT_TENURE", "SEGMENT"]);
}

#[test]
fn a_result_recomputes_from_its_own_record_r_s1() {
    let f = Features {
        days_past_due: 12,
        industry: Some(Code::parse("construction").expect("code")),
        ..clean()
    };
    let r = card().score(&f);
    let json = serde_json::to_string(&r).expect("json");
    let back: ScoreResult = serde_json::from_str(&json).expect("parse");
    assert_eq!(back, r);
    let again = Scorecard::shipped(&back.version)
        .expect("card")
        .score(&back.features);
    assert_eq!(again, r);
    assert_eq!(r.thresholds, "industry=construction");
}

#[test]
fn thresholds_follow_the_most_specific_override_r_s3() {
    let c = card();
    let construction = Code::parse("construction").expect("code");
    let name = |segment, industry: Option<&Code>| c.thresholds_for(segment, industry, None).1;
    assert_eq!(name(Segment::Residential, None), "base");
    assert_eq!(
        name(Segment::BusinessReceivable, None),
        "segment=business_receivable"
    );
    assert_eq!(
        name(Segment::Commercial, Some(&construction)),
        "industry=construction"
    );
    assert_eq!(
        name(Segment::BusinessReceivable, Some(&construction)),
        "segment=business_receivable,industry=construction"
    );
    // The same score can grade differently by industry (R-S3).
    let (base, _) = c.thresholds_for(Segment::Commercial, None, None);
    let (strict, _) = c.thresholds_for(Segment::Commercial, Some(&construction), None);
    assert_eq!(base.grade(905), Grade::Aaa);
    assert_eq!(strict.grade(905), Grade::Aa);
}

#[test]
fn strategy_follows_the_grade_r_s4_r_c5_r_s5() {
    let new = Features {
        tenure_months: 3,
        ..clean()
    };
    let s = Strategy::decide(Grade::Aaa, &new);
    assert!(s.new_customer);
    assert_eq!(
        s.credit_term,
        CreditTerm::Days(15),
        "R-C5: new customers at most 15 days"
    );
    assert_eq!(
        Strategy::decide(Grade::Aaa, &clean()).credit_term,
        CreditTerm::Days(60)
    );
    assert_eq!(
        Strategy::decide(Grade::Bb, &clean()).security,
        Security::DownPayment
    );
    assert_eq!(
        Strategy::decide(Grade::Ccc, &clean()).security,
        Security::Guarantee
    );
    assert_eq!(
        Strategy::decide(Grade::C, &clean()).credit_term,
        CreditTerm::PayUpFront
    );
    let severe = Features {
        days_past_due: 91,
        ..clean()
    };
    let s = Strategy::decide(Grade::B, &severe);
    assert_eq!(
        s.bureau,
        BureauFlag::SevereDefault,
        "R-S5: over 90 days past due"
    );
    assert_eq!(s.credit_hold, HoldAdvice::Place);
    let s = Strategy::decide(Grade::B, &clean());
    assert_eq!(
        (s.bureau, s.credit_hold),
        (BureauFlag::None, HoldAdvice::None)
    );
    assert_eq!(
        Strategy::decide(Grade::C, &clean()).credit_hold,
        HoldAdvice::Place
    );
    assert_eq!(
        Strategy::decide(Grade::D, &clean()).bureau,
        BureauFlag::SevereDefault
    );
}

fn shipped_text() -> serde_json::Value {
    serde_json::from_str(include_str!("../../scorecards/pts-v1.json")).expect("json")
}

fn refused(edit: impl FnOnce(&mut serde_json::Value)) -> CardError {
    let mut v = shipped_text();
    edit(&mut v);
    Scorecard::from_json(&v.to_string()).expect_err("refused")
}

#[test]
fn a_bad_card_is_refused_naming_the_field() {
    let e = refused(|v| v["indicators"][0]["bins"][2]["from"] = "9".into());
    assert_eq!(e.field, "indicators[0].bins[2].from", "{e}");
    let e = refused(|v| v["indicators"][3]["missing"] = serde_json::Value::Null);
    assert_eq!(e.field, "indicators[3].missing", "{e}");
    assert!(e.message.contains("on_time_share"), "{e}");
    let e = refused(|v| v["indicators"][0]["missing"] = 3.into());
    assert_eq!(e.field, "indicators[0].missing", "{e}");
    let e = refused(|v| v["grades"]["A"] = 830.into());
    assert_eq!(e.field, "grades", "{e}");
    assert!(e.message.contains("A needs a lower minimum than AA"), "{e}");
    let e = refused(|v| v["grades"]["D"] = 0.into());
    assert_eq!(e.field, "grades.D", "{e}");
    let e = refused(|v| {
        v["indicators"].as_array_mut().expect("array").remove(9);
    });
    assert_eq!(e.field, "indicators", "{e}");
    assert!(e.message.contains("legal_cases"), "{e}");
    let e = refused(|v| v["indicators"][1]["reason_code"] = "DPD".into());
    assert_eq!(e.field, "indicators[1].reason_code", "{e}");
    let e = refused(|v| {
        v["indicators"][7]["categories"]
            .as_object_mut()
            .expect("object")
            .remove("commercial");
    });
    assert_eq!(e.field, "indicators[7].categories", "{e}");
    let e = refused(|v| v["overrides"][1]["industry"] = "Construction".into());
    assert!(e.to_string().contains("not a code"), "{e}");
    let e = refused(|v| v["overrides"][0]["segment"] = serde_json::Value::Null);
    assert_eq!(e.field, "overrides[0]", "{e}");
    let e = refused(|v| v["indicators"][0]["bins"][6]["to"] = "400".into());
    assert_eq!(e.field, "indicators[0].bins[6].to", "{e}");
    let e = refused(|v| v["colour"] = "red".into());
    assert!(e.message.contains("colour"), "{e}");
}

#[test]
fn a_region_override_applies_to_that_region_only_r_s3() {
    let mut v = shipped_text();
    v["overrides"].as_array_mut().expect("array").push(
        serde_json::json!({"region": "cn-gd", "grades": {
            "AAA": 950, "AA": 900, "A": 800, "BBB": 700, "BB": 600,
            "B": 500, "CCC": 400, "CC": 300, "C": 200}}),
    );
    let c = Scorecard::from_json(&v.to_string()).expect("valid");
    let gd = Features {
        region: Some(Code::parse("cn-gd").expect("code")),
        days_past_due: 1,
        ..clean()
    };
    let r = c.score(&gd);
    assert_eq!((r.score, r.thresholds.as_str()), (960, "region=cn-gd"));
    assert_eq!(r.grade, Grade::Aaa);
    let elsewhere = Features { region: None, ..gd };
    assert_eq!(c.score(&elsewhere).thresholds, "base");
}

fn opt_share() -> impl Generate<Value = Option<Share>> {
    proptest::option::of((0i64..=100).prop_map(share))
}

fn features() -> impl Generate<Value = Features> {
    let history = (
        0u32..400,
        0u32..12,
        0u32..5,
        opt_share(),
        0i64..800_000_000, // fen: up to 8 million yuan
    );
    let exposure = (opt_share(), 0u32..200, 0usize..4, 0u32..4, 0u32..4);
    let other = (
        proptest::option::of(300u16..900),
        opt_share(),
        proptest::option::of(prop_oneof![Just("construction"), Just("retail")]),
        proptest::option::of(prop_oneof![Just("cn-gd"), Just("cn-bj")]),
    );
    (history, exposure, other).prop_map(
        |(
            (dpd, late, broken, on_time, fen),
            (overdue, tenure, seg, disputes, legal),
            (bureau, dti, ind, reg),
        )| {
            Features {
                days_past_due: dpd,
                late_payments: late,
                broken_promises: broken,
                on_time_share: on_time,
                outstanding_balance: Balance::new(Decimal::new(fen, 2)).expect("balance"),
                overdue_share: overdue,
                tenure_months: tenure,
                segment: Segment::ALL[seg],
                open_disputes: disputes,
                legal_cases: legal,
                bureau_score: bureau,
                debt_to_income: dti,
                industry: ind.map(|c| Code::parse(c).expect("code")),
                region: reg.map(|c| Code::parse(c).expect("code")),
            }
        },
    )
}

proptest! {
    // R-S1: the score is the sum of the points, never above the card's maximum.
    #[test]
    fn points_sum_to_the_score_r_s1(f in features()) {
        let r = card().score(&f);
        prop_assert_eq!(r.points.iter().map(|p| p.points).sum::<u32>(), r.score);
        prop_assert!(r.score <= r.max_score);
        prop_assert_eq!(r.points.len(), 12);
        prop_assert!(r.points.iter().all(|p| p.points <= p.max_points));
    }

    // R-S1, item 3: the same features and version give the same result, also from its record.
    #[test]
    fn scoring_is_deterministic_and_recomputable_r_s1(f in features()) {
        let c = card();
        let r = c.score(&f);
        prop_assert_eq!(&c.score(&f), &r);
        let back: ScoreResult = serde_json::from_str(&serde_json::to_string(&r).expect("json")).expect("parse");
        prop_assert_eq!(&Scorecard::shipped(&back.version).expect("card").score(&back.features), &r);
    }

    // R-S2: the reasons are exactly the largest losses, most first, ties in the card's order.
    #[test]
    fn reasons_are_the_largest_losses_r_s2(f in features()) {
        let c = card();
        let r = c.score(&f);
        let mut expected: Vec<(u32, usize)> = r.points.iter().enumerate()
            .filter(|(_, p)| p.lost() > 0)
            .map(|(i, p)| (p.lost(), i))
            .collect();
        expected.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        expected.truncate(MAX_REASONS);
        let got: Vec<(u32, String)> = r.reasons.iter().map(|x| (x.points_lost, x.code.clone())).collect();
        let want: Vec<(u32, String)> = expected.iter().map(|(l, i)| (*l, c.rules[*i].reason_code.clone())).collect();
        prop_assert_eq!(got, want);
        let smallest = r.reasons.last().map_or(0, |x| x.points_lost);
        let reasons: Vec<Indicator> = r.reasons.iter().map(|x| x.indicator).collect();
        for p in r.points.iter().filter(|p| !reasons.contains(&p.indicator)) {
            prop_assert!((r.reasons.len() < MAX_REASONS && p.lost() == 0) || p.lost() <= smallest);
        }
    }

    // R-S1, R-S3: a higher score never gets a worse grade, under every set of thresholds.
    #[test]
    fn the_grade_is_monotone_in_the_score_r_s1_r_s3(a in 0u32..1100, b in 0u32..1100) {
        let c = card();
        let (lo, hi) = (a.min(b), a.max(b));
        for t in std::iter::once(&c.thresholds).chain(c.overrides.iter().map(|o| &o.thresholds)) {
            prop_assert!(t.grade(hi) <= t.grade(lo));
        }
    }

    // R-S1: more days past due, late payments, broken promises, legal cases or disputes, or a
    // larger overdue share, never give a better score or grade.
    #[test]
    fn worse_payment_behaviour_never_scores_better_r_s1(f in features(), more in 1u32..200, worse in 0i64..=100) {
        let c = card();
        let base = c.score(&f);
        let worse_share = f.overdue_share.map(|s| share(worse.max((s.value() * Decimal::ONE_HUNDRED).trunc().try_into().unwrap_or(100))));
        for g in [
            Features { days_past_due: f.days_past_due + more, ..f.clone() },
            Features { late_payments: f.late_payments + more, ..f.clone() },
            Features { broken_promises: f.broken_promises + more, ..f.clone() },
            Features { legal_cases: f.legal_cases + more, ..f.clone() },
            Features { open_disputes: f.open_disputes + more, ..f.clone() },
            Features { overdue_share: worse_share, ..f.clone() },
        ] {
            let r = c.score(&g);
            prop_assert!(r.score <= base.score, "{:?} scored {} above {}", g, r.score, base.score);
            prop_assert!(r.grade >= base.grade);
        }
    }

    // R-C5, R-S4: terms never exceed 60 days, a new customer's never 15; a better grade never
    // gets a shorter term or more security; R-S5: a severe default always asks for a hold.
    #[test]
    fn strategy_is_bounded_and_monotone_r_c5_r_s4_r_s5(f in features(), a in 0usize..10, b in 0usize..10) {
        let (better, worse) = (Grade::ALL[a.min(b)], Grade::ALL[a.max(b)]);
        let (s, t) = (Strategy::decide(better, &f), Strategy::decide(worse, &f));
        prop_assert!(s.credit_term.days() <= 60);
        if f.tenure_months < strategy::NEW_CUSTOMER_MONTHS {
            prop_assert!(s.credit_term.days() <= 15);
        }
        prop_assert!(s.credit_term.days() >= t.credit_term.days());
        prop_assert!(s.security <= t.security);
        prop_assert!(s.follow_up <= t.follow_up);
        if s.bureau == BureauFlag::SevereDefault {
            prop_assert_eq!(s.credit_hold, HoldAdvice::Place);
        }
    }
}
