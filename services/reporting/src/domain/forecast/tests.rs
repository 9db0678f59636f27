//! Tests of the forecast module.
use super::*;
use crate::domain::tests::{date, item, moved};
use proptest::prelude::*;

fn d(text: &str) -> Decimal {
    text.parse().expect("decimal")
}

const A: Uuid = Uuid::from_u128(0xA);
const B: Uuid = Uuid::from_u128(0xB);
const C: Uuid = Uuid::from_u128(0xC);

// A small portfolio computed by hand, as of 30 June 2026 (week 1 = 1–7 July):
// - history: A's 1,000 due 1 May paid in full on 11 May (rate 1, delay 10); B's 1,000 due
//   1 April half paid that day (rate 0.5, delay 0), 500 still open and overdue. Portfolio:
//   1,500 / 2,000 = 0.75, delay (1,000 × 10 + 500 × 0) / 1,500 = 6.67 → 7 days.
// - weekly overdue rate: B's 500 was past due at the start of the 12 weeks beginning
//   8 April … 24 June (6,000), A's 1,000 at the start of the week of 6 May, in which it
//   was paid: 1,000 / 7,000 = 0.1429.
// - kept rate: A's judged promise of 400 with 300 paid: 0.75.
// - scheduled: A's 2,000 due 3 July × 1 on 13 July (week 2); B's 1,000 due 20 July × 0.5
//   on 20 July (week 3), 500 beyond; C (no history) 300 due 1 July × 0.75 on 8 July (week
//   2), 75 beyond.
// - promised: B promised 200 by 10 July: 200 × 0.75 = 150 in week 2; 350 of B's overdue
//   500 left.
// - overdue: 350 × 0.1429 week by week: 50.02, 42.87, 36.74, 31.49, 26.99, 23.13, 19.83,
//   17.00, 14.57, 12.48, 10.70, 9.17 (294.99), 55.01 beyond.
// Open 3,800.00 = weeks 3,169.99 + beyond 630.01.
#[test]
fn a_hand_computed_forecast_r_o1() {
    let a1 = moved(
        item("2026-05-01", "2026-01-01", 1000),
        "2026-05-11",
        -1000,
        MovementKind::Paid,
    );
    let a2 = item("2026-07-03", "2026-01-01", 2000);
    let b1 = moved(
        item("2026-04-01", "2026-01-01", 1000),
        "2026-04-01",
        -500,
        MovementKind::Paid,
    );
    let b2 = item("2026-07-20", "2026-01-01", 1000);
    let c1 = item("2026-07-01", "2026-06-01", 300);
    let debts = [
        Debt {
            customer: A,
            item: &a1,
        },
        Debt {
            customer: A,
            item: &a2,
        },
        Debt {
            customer: B,
            item: &b1,
        },
        Debt {
            customer: B,
            item: &b2,
        },
        Debt {
            customer: C,
            item: &c1,
        },
    ];
    let judged = Promise {
        customer: A,
        currency: "CNY".into(),
        amount: d("400"),
        promised: date("2026-05-15"),
        made_on: Some(date("2026-05-10")),
        judged: Some((date("2026-05-20"), false)),
        paid: Some(d("300")),
    };
    let open = Promise {
        customer: B,
        currency: "CNY".into(),
        amount: d("200"),
        promised: date("2026-07-10"),
        made_on: Some(date("2026-06-25")),
        judged: None,
        paid: None,
    };
    let promises = [&judged, &open];
    let f = forecast(&debts, &promises, date("2026-06-30"), 12);
    assert_eq!(f.learned.pay_rate, d("0.75"));
    assert_eq!(f.learned.delay_days, 7);
    assert_eq!(f.learned.weekly_overdue_rate, d("0.1429"));
    assert_eq!(f.learned.promise_kept_rate, d("0.75"));
    assert_eq!(f.learned.customers.get(&A), Some(&(Decimal::ONE, 10)));
    assert_eq!(f.learned.customers.get(&B), Some(&(d("0.5"), 0)));
    assert_eq!(f.weeks.len(), 12);
    assert_eq!(f.weeks[0].from, date("2026-07-01"));
    assert_eq!(f.weeks[0].to, date("2026-07-07"));
    let totals: Vec<Decimal> = f.weeks.iter().map(Week::total).collect();
    assert_eq!(totals[0], d("50.02"));
    assert_eq!(f.weeks[1].scheduled, d("2225.00"));
    assert_eq!(f.weeks[1].promised, d("150.00"));
    assert_eq!(f.weeks[1].overdue, d("42.87"));
    assert_eq!(f.weeks[2].scheduled, d("500.00"));
    assert_eq!(f.weeks[11].overdue, d("9.17"));
    assert_eq!(f.open, d("3800"));
    assert_eq!(f.beyond, d("630.01"));
    assert_eq!(totals.iter().sum::<Decimal>(), d("3169.99"));
}

// The error on held-back weeks, by hand: D pays 1,000 due 10 April three days late (rate
// 1, delay 3); 500 due 20 June is forecast (as of 16 June) for 23 June, week 1, but came
// on 25 June, week 2: errors +500 and −500, WAPE 1,000 / 500 = 200 %, bias 0 %.
#[test]
fn the_backtest_measures_the_error_of_held_back_weeks_r_o1() {
    let d1 = moved(
        item("2026-04-10", "2026-01-01", 1000),
        "2026-04-13",
        -1000,
        MovementKind::Paid,
    );
    let d2 = moved(
        item("2026-06-20", "2026-01-01", 500),
        "2026-06-25",
        -500,
        MovementKind::Paid,
    );
    let late = item("2026-06-28", "2026-06-20", 999);
    let debts = [
        Debt {
            customer: A,
            item: &d1,
        },
        Debt {
            customer: A,
            item: &d2,
        },
        // Billed after the backtest's date: not part of what it forecasts.
        Debt {
            customer: A,
            item: &late,
        },
    ];
    let b = backtest(&debts, &[], date("2026-06-30"), 2).expect("weeks");
    assert_eq!(b.as_of, date("2026-06-16"));
    let weeks: Vec<(Decimal, Decimal, Decimal)> = b
        .weeks
        .iter()
        .map(|w| (w.forecast, w.actual, w.error()))
        .collect();
    assert_eq!(
        weeks,
        vec![
            (d("500.00"), d("0"), d("500.00")),
            (d("0"), d("500"), d("-500"))
        ]
    );
    assert_eq!(b.absolute_error, d("1000"));
    assert_eq!(b.wape, Some(d("200.00")));
    assert_eq!(b.bias, Some(d("0.00")));
    assert!(backtest(&debts, &[], date("2026-06-30"), 0).is_none());
}

fn portfolio() -> impl Strategy<Value = Vec<(u8, i64, i64, i64, i64)>> {
    // (customer, due day, cents, paid cents, paid day)
    proptest::collection::vec(
        (
            0u8..4,
            0i64..300,
            1i64..1_000_000,
            0i64..1_000_000,
            0i64..300,
        ),
        1..30,
    )
}

fn build(rows: &[(u8, i64, i64, i64, i64)]) -> Vec<(Uuid, Item)> {
    let start = date("2026-01-01");
    rows.iter()
        .map(|(c, due, cents, paid, on)| {
            let mut it = Item {
                currency: "CNY".into(),
                due: plus(start, *due),
                billed_on: start,
                amount: Decimal::new(*cents, 2),
                movements: Vec::new(),
            };
            let paid = (*paid).min(*cents);
            if paid > 0 {
                it.movements.push(crate::domain::Movement {
                    on: plus(start, *on),
                    principal: -Decimal::new(paid, 2),
                    kind: MovementKind::Paid,
                });
            }
            (Uuid::from_u128(u128::from(*c)), it)
        })
        .collect()
}

proptest! {
    // R-O1: money is conserved to the fen: the weeks plus beyond are the open principal,
    // and nothing is negative.
    #[test]
    fn the_forecast_conserves_the_open_principal(
        rows in portfolio(),
        t in 0i64..300,
        promised in proptest::collection::vec((0u8..4, 1i64..100_000, 0i64..120), 0..4),
    ) {
        let items = build(&rows);
        let debts: Vec<Debt<'_>> = items.iter().map(|(c, i)| Debt { customer: *c, item: i }).collect();
        let start = date("2026-01-01");
        let as_of = plus(start, t);
        let promises: Vec<Promise> = promised
            .iter()
            .map(|(c, cents, day)| Promise {
                customer: Uuid::from_u128(u128::from(*c)),
                currency: "CNY".into(),
                amount: Decimal::new(*cents, 2),
                promised: plus(as_of, *day - 10),
                made_on: Some(as_of),
                judged: None,
                paid: None,
            })
            .collect();
        let refs: Vec<&Promise> = promises.iter().collect();
        let f = forecast(&debts, &refs, as_of, 12);
        let weeks: Decimal = f.weeks.iter().map(Week::total).sum();
        prop_assert_eq!(weeks + f.beyond, f.open);
        prop_assert!(f.beyond >= Decimal::ZERO);
        for w in &f.weeks {
            prop_assert!(w.scheduled >= Decimal::ZERO && w.promised >= Decimal::ZERO && w.overdue >= Decimal::ZERO);
            prop_assert_eq!(w.total().scale(), 2);
        }
    }

    // The backtest does not peek: what happened after its date does not change the
    // forecast it makes.
    #[test]
    fn the_forecast_ignores_what_happened_after_its_date(rows in portfolio(), t in 0i64..300) {
        let items = build(&rows);
        let start = date("2026-01-01");
        let as_of = plus(start, t);
        let trimmed: Vec<(Uuid, Item)> = items
            .iter()
            .map(|(c, i)| {
                let mut i = i.clone();
                i.movements.retain(|m| m.on <= as_of);
                (*c, i)
            })
            .collect();
        let all: Vec<Debt<'_>> = items.iter().map(|(c, i)| Debt { customer: *c, item: i }).collect();
        let known: Vec<Debt<'_>> = trimmed.iter().map(|(c, i)| Debt { customer: *c, item: i }).collect();
        prop_assert_eq!(forecast(&all, &[], as_of, 12), forecast(&known, &[], as_of, 12));
    }
}
