//! Accrual: flat, tiered, surcharge, partial payments, rounding, grace (R-C4).

use super::*;

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
fn other_currencies_round_to_their_own_minor_unit() {
    // JPY has no minor unit: 3,333 × 0.05% × 30 = 49.995 → 50. KWD has three: 333.333 ×
    // 0.05% × 30 = 4.999995 → 5.000.
    let p = flat("0.05%", "");
    let (due, as_of) = (d("2026-03-15"), d("2026-04-14"));
    let jpy = Money::parse("3333", Currency::JPY).unwrap();
    let b = compute(&p, &LateFeeInput::new(jpy, due, as_of)).unwrap();
    assert_eq!(b.total.to_string(), "50 JPY");
    let kwd = Money::parse_in("333.333", "KWD").unwrap();
    let b = compute(&p, &LateFeeInput::new(kwd, due, as_of)).unwrap();
    assert_eq!(b.total.to_string(), "5.000 KWD");
    assert_eq!(
        serde_json::to_value(&b).unwrap()["lines"][0]["base"],
        "333.333"
    );
}
