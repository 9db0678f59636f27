//! Caps, waivers (R-D6), reference rates (R-C12), errors and output.

use super::*;

#[test]
fn caps_apply_before_waivers() {
    // 1,000.00 at 1%/day for 150 days (1 Feb..30 Jun 2026) accrues 1,500.00; the cap of
    // 1 × principal takes off 500.00.
    let p = flat(
        "1%",
        r#", "caps": [{"kind": "principal_multiple", "multiple": "1"}]"#,
    );
    let input = LateFeeInput::new(cny("1000"), d("2026-01-31"), d("2026-06-30"));
    let b = compute(&p, &input).unwrap();
    assert_eq!(
        (b.accrued, b.cap_adjustment, b.total),
        (cny("1500.00"), cny("-500.00"), cny("1000.00"))
    );
    assert_eq!(b.lines.last().unwrap().kind, LineKind::Cap);
    assert_adds_up(&b);
    // A waiver of 200.00 after the cap bites lowers what is owed to 800.00.
    let w = [Waiver {
        date: d("2026-06-30"),
        scope: WaiverScope::Amount { amount: cny("200") },
        proposed_by: "collector.li".into(),
        approved_by: "supervisor.wang".into(),
        reason: Some("hardship".into()),
        reference: None,
    }];
    let b = compute(&p, &input.with_waivers(&w)).unwrap();
    assert_eq!((b.waived, b.total), (cny("200.00"), cny("800.00")));
    assert_adds_up(&b);
}

#[test]
fn annual_rate_cap_is_floored() {
    // The tiered example (2,550.00 over 69 days) capped at 24% a year: 10,000 × 0.24 × 69 / 365
    // = 453.6986… → 453.69 (caps round down so the total never exceeds them).
    let p = tiered(r#", "caps": [{"kind": "annual_rate", "rate": "24%"}]"#);
    let b = compute(
        &p,
        &LateFeeInput::new(cny("10000"), d("2026-01-31"), d("2026-04-10")),
    )
    .unwrap();
    assert_eq!((b.accrued, b.total), (cny("2550.00"), cny("453.69")));
    assert_eq!(b.cap_adjustment, cny("-2096.31"));
    assert_adds_up(&b);
}

#[test]
fn r_d6_waivers_whole_and_partial() {
    // 10,000.00 at 1‰: 300.00 accrued by 14 April; as of 14 May 600.00 in all.
    let p = flat("1‰", "");
    let input = LateFeeInput::new(cny("10000"), d("2026-03-15"), d("2026-05-14"));
    let all = [waiver("2026-04-14", WaiverScope::All)];
    let b = compute(&p, &input.with_waivers(&all)).unwrap();
    assert_eq!(
        (b.accrued, b.waived, b.total),
        (cny("600.00"), cny("300.00"), cny("300.00"))
    );
    let line = b.lines.last().unwrap();
    assert_eq!((line.kind, line.amount), (LineKind::Waiver, cny("-300.00")));
    assert_eq!(line.waiver.as_ref().unwrap().approved_by, "supervisor.wang");
    assert_adds_up(&b);
    // Half of what had accrued: 150.00.
    let half = [waiver(
        "2026-04-14",
        WaiverScope::Percent {
            percent: Rate::parse("50%").unwrap(),
        },
    )];
    assert_eq!(
        compute(&p, &input.with_waivers(&half)).unwrap().total,
        cny("450.00")
    );
    // A waiver dated after the as-of date is not yet in effect.
    let later = [waiver("2026-06-01", WaiverScope::All)];
    assert_eq!(
        compute(&p, &input.with_waivers(&later)).unwrap().total,
        cny("600.00")
    );
    // More than had accrued is refused, naming what was available.
    let too_much = [waiver(
        "2026-04-14",
        WaiverScope::Amount { amount: cny("400") },
    )];
    let err = compute(&p, &input.with_waivers(&too_much))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("waives 400.00 CNY but only 300.00 CNY"),
        "{err}"
    );
    // R-D6: approval by someone other than the proposer.
    let mut own = waiver("2026-04-14", WaiverScope::All);
    own.approved_by = own.proposed_by.clone();
    let err = compute(&p, &input.with_waivers(&[own]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("R-D6"), "{err}");
}

#[test]
fn r_c12_reference_rate_split_at_rate_changes() {
    // 100,000.00 due 30 Sep 2024 at LPR × 1.5 (/365), as of 31 Oct 2024.
    // 1..20 Oct at 5.025%: 100500/365 = 275.3424… → R = 275.34.
    // 21..30 Oct at 4.65%: 46500/365 = 127.3972…; R = round(147000/365 = 402.7397…) = 402.74,
    //   line 402.74 - 275.34 = 127.40.
    // 31 Oct (month 2) at 4.65%: 4650/365; R = round(151650/365 = 415.4794…) = 415.48, line 12.74.
    let p = policy(
        r#"{"name": "LPR x 1.5", "accrual": {"kind": "reference_rate", "series": "LPR1Y",
            "multiplier": "1.5"}}"#,
    );
    let table = lpr_table();
    let input = LateFeeInput::new(cny("100000"), d("2024-09-30"), d("2024-10-31"))
        .with_reference_rates(&table);
    let b = compute(&p, &input).unwrap();
    assert_eq!(
        lines(&b),
        vec![
            (
                LineKind::Accrual,
                d("2024-10-01"),
                d("2024-10-20"),
                "275.34".into()
            ),
            (
                LineKind::Accrual,
                d("2024-10-21"),
                d("2024-10-30"),
                "127.40".into()
            ),
            (
                LineKind::Accrual,
                d("2024-10-31"),
                d("2024-10-31"),
                "12.74".into()
            ),
        ]
    );
    assert_eq!(b.lines[0].annual_rate, Some("0.05025".parse().unwrap()));
    assert_eq!(b.lines[1].reference_rate.unwrap().percent(), "3.1%");
    assert_eq!(b.lines[1].unrounded, Some("127.397260274".parse().unwrap()));
    assert_eq!(b.total, cny("415.48"));
    assert_adds_up(&b);
    // Without the table, or before its first rate: a clear error.
    let err = compute(
        &p,
        &LateFeeInput::new(cny("1"), d("2024-09-30"), d("2024-10-31")),
    )
    .unwrap_err();
    assert!(err.to_string().contains("no reference rate table"), "{err}");
    let early =
        LateFeeInput::new(cny("1"), d("2024-07-01"), d("2024-07-31")).with_reference_rates(&table);
    let err = compute(&p, &early).unwrap_err().to_string();
    assert!(
        err.contains("no LPR1Y rate is in force on 2024-07-02"),
        "{err}"
    );
}

#[test]
fn bad_input_is_named() {
    let p = flat("1‰", "");
    let (due, as_of) = (d("2026-03-15"), d("2026-04-14"));
    let err = compute(&p, &LateFeeInput::new(cny("-1"), due, as_of))
        .unwrap_err()
        .to_string();
    assert_eq!(err, "principal must not be negative, got -1.00 CNY");
    let err = compute(&p, &LateFeeInput::new(cny("1"), as_of, due))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("as-of date 2026-03-15 is before the due date 2026-04-14"),
        "{err}"
    );
    let pay = [Payment {
        date: due,
        amount: cny("2"),
    }];
    let err = compute(
        &p,
        &LateFeeInput::new(cny("1"), due, as_of).with_payments(&pay),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("more than the principal 1.00 CNY"),
        "{err}"
    );
    let usd = [Payment {
        date: due,
        amount: Money::parse("1", Currency::USD).unwrap(),
    }];
    let err = compute(
        &p,
        &LateFeeInput::new(cny("5"), due, as_of).with_payments(&usd),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "payments[0] (2026-03-15) is in USD, the principal is in CNY"
    );
    let err = accrued_since(
        &p,
        &LateFeeInput::new(cny("5"), due, as_of),
        d("2026-05-01"),
    )
    .unwrap_err();
    assert!(matches!(err, LateFeeError::SinceOutOfRange { .. }));
}

#[test]
fn breakdown_serialises_amounts_as_strings() {
    let p = flat("1‰", "");
    let b = compute(
        &p,
        &LateFeeInput::new(cny("10000"), d("2026-03-15"), d("2026-03-20")),
    )
    .unwrap();
    let json = serde_json::to_value(&b).unwrap();
    assert_eq!(json["total"], "50.00");
    assert_eq!(json["currency"], "CNY");
    assert_eq!(json["lines"][0]["base"], "10000.00");
    assert_eq!(json["lines"][0]["daily_rate"], "0.001");
    assert_eq!(json["lines"][0]["kind"], "accrual");
}

#[test]
fn payments_and_waivers_round_trip_through_serde() {
    let w = waiver(
        "2026-04-14",
        WaiverScope::Amount {
            amount: cny("12.30"),
        },
    );
    let json = serde_json::to_string(&w).unwrap();
    assert!(json.contains(r#""kind":"amount""#), "{json}");
    assert_eq!(serde_json::from_str::<Waiver>(&json).unwrap(), w);
    let p = Payment {
        date: d("2026-03-11"),
        amount: cny("4000"),
    };
    let json = serde_json::to_string(&p).unwrap();
    assert_eq!(
        json,
        r#"{"date":"2026-03-11","amount":{"amount":"4000.00","currency":"CNY"}}"#
    );
    assert_eq!(serde_json::from_str::<Payment>(&json).unwrap(), p);
}
