//! Hand-computed examples for every policy kind (R-C4, R-C12, R-D6). Each expected figure is
//! worked out in the comment above it.

use super::*;
use crate::Currency;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn cny(s: &str) -> Money {
    Money::parse(s, Currency::CNY).unwrap()
}

fn policy(json: &str) -> LateFeePolicy {
    LateFeePolicy::from_json(json).unwrap()
}

fn flat(rate: &str, extra: &str) -> LateFeePolicy {
    policy(&format!(
        r#"{{"name": "flat", "accrual": {{"kind": "flat_daily", "daily_rate": "{rate}"}} {extra}}}"#
    ))
}

/// R-C4 tiered: 0.05%/day in month 1, 0.1%/day from month 2, 20% surcharge at month 3.
fn tiered(extra: &str) -> LateFeePolicy {
    policy(&format!(
        r#"{{"name": "tiered", "accrual": {{"kind": "tiered", "tiers": [
            {{"from_month": 1, "daily_rate": "0.05%"}}, {{"from_month": 2, "daily_rate": "0.1%"}}]}},
          "surcharges": [{{"name": "punitive surcharge", "rate": "20%", "at_month": 3}}] {extra}}}"#
    ))
}

fn lines(b: &LateFeeBreakdown) -> Vec<(LineKind, NaiveDate, NaiveDate, String)> {
    b.lines
        .iter()
        .map(|l| (l.kind, l.from, l.to, l.amount.amount().to_string()))
        .collect()
}

fn assert_adds_up(b: &LateFeeBreakdown) {
    let sum = Money::sum(b.lines.iter().map(|l| l.amount), b.currency).unwrap();
    assert_eq!(sum, b.total, "lines must add up to the total");
}

#[test]
fn r_c4_flat_daily_rate_split_by_month() {
    // 10,000.00 due 15 March, 1‰ a day, as of 20 May: month 1 = 16 Mar..15 Apr (31 days,
    // 310.00), month 2 = 16 Apr..15 May (30 days, 300.00), month 3 = 16..20 May (5 days, 50.00).
    let p = flat("1‰", "");
    let b = compute(
        &p,
        &LateFeeInput::new(cny("10000"), d("2026-03-15"), d("2026-05-20")),
    )
    .unwrap();
    assert_eq!(
        lines(&b),
        vec![
            (
                LineKind::Accrual,
                d("2026-03-16"),
                d("2026-04-15"),
                "310.00".into()
            ),
            (
                LineKind::Accrual,
                d("2026-04-16"),
                d("2026-05-15"),
                "300.00".into()
            ),
            (
                LineKind::Accrual,
                d("2026-05-16"),
                d("2026-05-20"),
                "50.00".into()
            ),
        ]
    );
    assert_eq!(b.lines[1].month, Some(2));
    assert_eq!(b.lines[1].days, Some(30));
    assert_eq!((b.days_overdue, b.total), (66, cny("660.00")));
    assert_adds_up(&b);
    // On the due date itself nothing is overdue.
    let b = compute(
        &p,
        &LateFeeInput::new(cny("10000"), d("2026-03-15"), d("2026-03-15")),
    )
    .unwrap();
    assert!(b.lines.is_empty() && b.total.is_zero());
}

#[test]
fn r_c4_tiers_and_surcharge() {
    // Due 31 January 2026: month 1 = 1..28 Feb (28 d × 10,000 × 0.05% = 140.00), month 2 =
    // 1..31 Mar (31 d × 0.1% = 310.00), month 3 starts 1 Apr: 20% × 10,000 = 2,000.00, then
    // 1..10 Apr at 0.1% = 100.00. Total 2,550.00.
    let b = compute(
        &tiered(""),
        &LateFeeInput::new(cny("10000"), d("2026-01-31"), d("2026-04-10")),
    )
    .unwrap();
    assert_eq!(
        lines(&b),
        vec![
            (
                LineKind::Accrual,
                d("2026-02-01"),
                d("2026-02-28"),
                "140.00".into()
            ),
            (
                LineKind::Accrual,
                d("2026-03-01"),
                d("2026-03-31"),
                "310.00".into()
            ),
            (
                LineKind::Surcharge,
                d("2026-04-01"),
                d("2026-04-01"),
                "2000.00".into()
            ),
            (
                LineKind::Accrual,
                d("2026-04-01"),
                d("2026-04-10"),
                "100.00".into()
            ),
        ]
    );
    assert_eq!(b.lines[0].daily_rate.unwrap().percent(), "0.05%");
    assert_eq!(b.lines[2].label.as_deref(), Some("punitive surcharge"));
    assert_eq!(b.total, cny("2550.00"));
    assert_adds_up(&b);
}

#[test]
fn r_c4_partial_payment_in_the_middle_of_a_tier() {
    // As above, with 4,000.00 paid on 11 March (month 2): 1..10 Mar on 10,000 = 100.00,
    // 11..31 Mar on 6,000 (21 d × 0.1%) = 126.00, surcharge 20% × 6,000 = 1,200.00,
    // 1..10 Apr on 6,000 = 60.00. Total 140 + 100 + 126 + 1,200 + 60 = 1,626.00.
    let pay = [Payment {
        date: d("2026-03-11"),
        amount: cny("4000"),
    }];
    let input =
        LateFeeInput::new(cny("10000"), d("2026-01-31"), d("2026-04-10")).with_payments(&pay);
    let b = compute(&tiered(""), &input).unwrap();
    let got: Vec<_> = b
        .lines
        .iter()
        .map(|l| {
            (
                l.base.unwrap().amount().to_string(),
                l.amount.amount().to_string(),
            )
        })
        .collect();
    let want = [
        ("10000.00", "140.00"),
        ("10000.00", "100.00"),
        ("6000.00", "126.00"),
        ("6000.00", "1200.00"),
        ("6000.00", "60.00"),
    ];
    assert_eq!(got, want.map(|(a, b)| (a.to_string(), b.to_string())));
    assert_eq!(
        (b.total, b.outstanding_principal),
        (cny("1626.00"), cny("6000.00"))
    );
    assert_adds_up(&b);
}

#[test]
fn rounding_is_on_the_running_total_so_periods_add_up() {
    // 333.33 at 0.05%/day = 0.166665 a day. 30 days: 4.99995 → 5.00 (not 30 × 0.17 = 5.10).
    let p = flat("0.05%", "");
    let input = LateFeeInput::new(cny("333.33"), d("2026-03-15"), d("2026-04-14"));
    let whole = compute(&p, &input).unwrap();
    assert_eq!(whole.total, cny("5.00"));
    assert_eq!(whole.lines[0].unrounded, Some("4.99995".parse().unwrap()));
    // Days 1-10: 1.66665 → 1.67. Days 11-30: R(30) - R(10) = 5.00 - 1.67 = 3.33.
    let first = compute(
        &p,
        &LateFeeInput {
            as_of: d("2026-03-25"),
            ..input
        },
    )
    .unwrap();
    let rest = accrued_since(&p, &input, d("2026-03-25")).unwrap();
    assert_eq!((first.total, rest.total), (cny("1.67"), cny("3.33")));
    assert_eq!(rest.period_from, d("2026-03-26"));
    assert_eq!(rest.lines[0].unrounded, Some("3.3333".parse().unwrap()));
    assert_adds_up(&rest);
}

#[test]
fn grace_days_from_grace_end_by_default() {
    // 1,000.00, 1‰/day, 5 grace days, due 1 June, as of 11 June: 7..11 June = 5 days = 5.00.
    let p = flat("1‰", r#", "grace_days": 5"#);
    let input = LateFeeInput::new(cny("1000"), d("2026-06-01"), d("2026-06-11"));
    let b = compute(&p, &input).unwrap();
    assert_eq!(
        lines(&b),
        vec![(
            LineKind::Accrual,
            d("2026-06-07"),
            d("2026-06-11"),
            "5.00".into()
        )]
    );
    assert_eq!(b.grace_ends, Some(d("2026-06-06")));
}

#[test]
fn grace_days_from_due_date_when_the_grace_period_ends_unpaid() {
    let p = flat("1‰", r#", "grace_days": 5, "grace_mode": "from_due_date""#);
    let input = LateFeeInput::new(cny("1000"), d("2026-06-01"), d("2026-06-11"));
    // Unpaid at the end of grace: all 10 days, the grace days as their own line.
    let b = compute(&p, &input).unwrap();
    assert_eq!(
        lines(&b),
        vec![
            (
                LineKind::GraceAccrual,
                d("2026-06-02"),
                d("2026-06-06"),
                "5.00".into()
            ),
            (
                LineKind::Accrual,
                d("2026-06-07"),
                d("2026-06-11"),
                "5.00".into()
            ),
        ]
    );
    // Still within grace: nothing is charged yet.
    let b = compute(
        &p,
        &LateFeeInput {
            as_of: d("2026-06-06"),
            ..input
        },
    )
    .unwrap();
    assert!(b.total.is_zero());
    // Paid in full within grace: no fee.
    let paid = [Payment {
        date: d("2026-06-05"),
        amount: cny("1000"),
    }];
    assert!(
        compute(&p, &input.with_payments(&paid))
            .unwrap()
            .total
            .is_zero()
    );
    // 400.00 paid on 4 June: 2 d × 1,000 + 3 d × 600 in grace (2.00 + 1.80), then 5 d × 600
    // = 3.00. Total 6.80.
    let part = [Payment {
        date: d("2026-06-04"),
        amount: cny("400"),
    }];
    let b = compute(&p, &input.with_payments(&part)).unwrap();
    assert_eq!(b.total, cny("6.80"));
    assert_adds_up(&b);
}

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

fn waiver(date: &str, scope: WaiverScope) -> Waiver {
    Waiver {
        date: d(date),
        scope,
        proposed_by: "collector.li".into(),
        approved_by: "supervisor.wang".into(),
        reason: Some("non-malicious debtor".into()),
        reference: Some("APR-2026-0042".into()),
    }
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

fn lpr_table() -> RateTable {
    RateTable::from_json(
        r#"{"series": "LPR1Y", "rates": [
            {"from": "2024-07-22", "annual_rate": "3.35%"},
            {"from": "2024-10-21", "annual_rate": "3.10%"}]}"#,
    )
    .unwrap()
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
