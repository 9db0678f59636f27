//! Property tests of the issue's "done when" list, against random policies of every kind.
//!
//! The late-fee properties are checked against `oracle`, an independent day-by-day
//! re-computation that shares no code with the engine's segment sweep.

use chrono::{Days, NaiveDate};
use money::calendar::DueDateShift;
use money::late_fee::{
    self, Accrual, Cap, GraceMode, LateFeeInput, LateFeePolicy, MonthBasis, Payment, PolicySpec,
    Rate, RateTable, Surcharge, Tier, Waiver, WaiverScope,
};
use money::{CalendarSet, Currency, Money, RoundingMode};
use proptest::prelude::*;
use rust_decimal::Decimal;

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn rate(s: &str) -> Rate {
    Rate::parse(s).unwrap()
}

fn date(offset: u64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() + Days::new(offset)
}

const LPR: &str = r#"{"series": "LPR1Y", "rates": [
    {"from": "2019-08-20", "annual_rate": "4.25%"}, {"from": "2023-08-21", "annual_rate": "3.45%"},
    {"from": "2024-07-22", "annual_rate": "3.35%"}, {"from": "2024-10-21", "annual_rate": "3.10%"},
    {"from": "2025-05-20", "annual_rate": "3.0%"}]}"#;

fn lpr() -> RateTable {
    RateTable::from_json(LPR).unwrap()
}

const DAILY: [&str; 5] = ["0.0001", "0.0005", "0.001", "0.00035", "0.0003333"];

fn accrual() -> impl Strategy<Value = Accrual> {
    prop_oneof![
        (0..DAILY.len()).prop_map(|i| Accrual::FlatDaily {
            daily_rate: rate(DAILY[i])
        }),
        proptest::collection::vec((1u32..4, 0..DAILY.len()), 1..4).prop_map(|steps| {
            let mut month = 1;
            let tiers = steps
                .into_iter()
                .map(|(gap, i)| {
                    let t = Tier {
                        from_month: month,
                        daily_rate: rate(DAILY[i]),
                    };
                    month += gap;
                    t
                })
                .collect();
            Accrual::Tiered { tiers }
        }),
        (0usize..3, 0usize..2, prop::bool::ANY).prop_map(|(m, s, b)| Accrual::ReferenceRate {
            series: "LPR1Y".into(),
            multiplier: dec(["1", "1.5", "1.3"][m]),
            spread: rate(["0", "0.5%"][s]),
            day_basis: if b { 365 } else { 360 },
        }),
    ]
}

fn surcharge() -> impl Strategy<Value = Surcharge> {
    (prop::bool::ANY, 1u32..100, 0usize..3).prop_map(|(by_month, n, r)| Surcharge {
        name: "surcharge".into(),
        rate: rate(["20%", "5%", "12.3%"][r]),
        at_month: by_month.then_some(n % 4 + 1),
        at_day: (!by_month).then_some(n),
    })
}

fn cap() -> impl Strategy<Value = Cap> {
    prop_oneof![
        (0usize..3).prop_map(|i| Cap::PrincipalMultiple {
            multiple: dec(["1", "0.3", "0.05"][i])
        }),
        (0i64..50_000).prop_map(|fen| Cap::Amount {
            amount: Decimal::new(fen, 2)
        }),
        (0usize..2).prop_map(|i| Cap::AnnualRate {
            rate: rate(["24%", "3.65%"][i]),
            day_basis: 365
        }),
    ]
}

fn rounding() -> impl Strategy<Value = RoundingMode> {
    prop_oneof![
        Just(RoundingMode::HalfUp),
        Just(RoundingMode::HalfEven),
        Just(RoundingMode::Down),
        Just(RoundingMode::Up),
    ]
}

prop_compose! {
    fn policy()(
        accrual in accrual(),
        grace_days in prop_oneof![Just(0u32), 1u32..15],
        from_due in prop::bool::ANY,
        days30 in prop::bool::ANY,
        surcharges in proptest::collection::vec(surcharge(), 0..3),
        caps in proptest::collection::vec(cap(), 0..3),
        rounding in rounding(),
    ) -> LateFeePolicy {
        LateFeePolicy::new(PolicySpec {
            name: "generated".into(),
            description: None,
            accrual,
            grace_days,
            grace_mode: if from_due { GraceMode::FromDueDate } else { GraceMode::FromGraceEnd },
            month_basis: if days30 { MonthBasis::Days30 } else { MonthBasis::Calendar },
            surcharges,
            caps,
            rounding,
        }).unwrap()
    }
}

/// A receivable: principal in fen, due date, and payments that never exceed the principal.
#[derive(Debug, Clone)]
struct Case {
    principal: Money,
    /// Principal not yet paid by the generated payments, in fen.
    unpaid_minor: i64,
    due: NaiveDate,
    payments: Vec<Payment>,
}

prop_compose! {
    fn case()(
        principal in prop_oneof![0i64..100, 0i64..10_000_000_000],
        due in 0u64..700,
        pays in proptest::collection::vec((0u64..260, 1i64..1000), 0..5),
    ) -> Case {
        let due_date = date(due);
        let mut left = principal;
        let mut payments = Vec::new();
        for (offset, per_mille) in pays {
            let amount = (principal * per_mille / 2000).min(left);
            if amount > 0 {
                left -= amount;
                payments.push(Payment {
                    date: date(due + offset).checked_sub_days(Days::new(20)).unwrap(),
                    amount: Money::from_minor(amount, Currency::CNY),
                });
            }
        }
        Case { principal: Money::from_minor(principal, Currency::CNY), unpaid_minor: left, due: due_date, payments }
    }
}

fn input<'a>(c: &'a Case, as_of: NaiveDate, table: &'a RateTable) -> LateFeeInput<'a> {
    LateFeeInput::new(c.principal, c.due, as_of)
        .with_payments(&c.payments)
        .with_reference_rates(table)
}

fn total(p: &LateFeePolicy, c: &Case, as_of: NaiveDate, table: &RateTable) -> Money {
    late_fee::compute(p, &input(c, as_of, table)).unwrap().total
}

#[path = "support/oracle.rs"]
mod oracle;

proptest! {
    // 400 cases by default; PROPTEST_CASES=20000 for a longer run.
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(400)
    ))]

    #[test]
    fn split_always_sums_to_the_original(minor in -10_000_000_000i64..10_000_000_000, n in 1u32..60) {
        let m = Money::from_minor(minor, Currency::CNY);
        let parts = m.split(n).unwrap();
        prop_assert_eq!(parts.len(), n as usize);
        prop_assert_eq!(Money::sum(parts.iter().copied(), Currency::CNY).unwrap(), m);
        let max = parts.iter().map(|p| p.amount()).max().unwrap();
        let min = parts.iter().map(|p| p.amount()).min().unwrap();
        prop_assert!(max - min <= dec("0.01"));
    }

    #[test]
    fn allocation_always_sums_to_the_original(
        minor in -10_000_000_000i64..10_000_000_000,
        ratios in proptest::collection::vec(0u32..1000, 1..12),
        code in prop_oneof![Just("CNY"), Just("JPY"), Just("KWD")],
    ) {
        prop_assume!(ratios.iter().any(|r| *r > 0));
        let m = Money::from_minor(minor, Currency::from_code(code).unwrap());
        let ratios: Vec<Decimal> = ratios.into_iter().map(|r| Decimal::new(i64::from(r), 1)).collect();
        let parts = m.allocate(&ratios).unwrap();
        prop_assert_eq!(Money::sum(parts.iter().copied(), m.currency()).unwrap(), m);
        for (part, ratio) in parts.iter().zip(&ratios) {
            if ratio.is_zero() { prop_assert!(part.is_zero()); }
        }
    }

    #[test]
    fn engine_agrees_with_the_day_by_day_oracle(p in policy(), c in case(), span in 0u64..420) {
        let table = lpr();
        let as_of = c.due + Days::new(span);
        let b = late_fee::compute(&p, &input(&c, as_of, &table)).unwrap();
        let summary = late_fee::compute_summary(&p, &input(&c, as_of, &table)).unwrap();
        prop_assert_eq!(summary, b.summary(), "summary without lines");
        let want = oracle::fee(&p, &c.principal, c.due, as_of, &c.payments, &table);
        prop_assert_eq!(b.accrued.amount(), want.accrued, "accrued");
        prop_assert_eq!(b.total.amount(), want.capped, "total");
        let sum = Money::sum(b.lines.iter().map(|l| l.amount), Currency::CNY).unwrap();
        prop_assert_eq!(sum, b.total, "lines add up");
    }

    #[test]
    fn fees_never_decrease_with_time_and_never_exceed_the_cap(
        p in policy(), c in case(), t1 in 0u64..400, extra in 0u64..200,
    ) {
        let table = lpr();
        let (a, b) = (c.due + Days::new(t1), c.due + Days::new(t1 + extra));
        let (fa, fb) = (total(&p, &c, a, &table), total(&p, &c, b, &table));
        prop_assert!(fa.amount() <= fb.amount(), "{} then {}", fa, fb);
        let limit = oracle::cap_limit(&p, &c.principal, c.due, b, &c.payments);
        if let Some(limit) = limit {
            prop_assert!(fb.amount() <= limit, "{} exceeds the cap {}", fb, limit);
        }
    }

    #[test]
    fn adjacent_periods_add_up_to_their_union(
        p in policy(), c in case(), a in 0u64..300, ab in 0u64..150, bc in 0u64..150,
        waive in proptest::option::of((0u64..450, prop::bool::ANY)),
    ) {
        let table = lpr();
        let (da, db, dc) = (c.due + Days::new(a), c.due + Days::new(a + ab), c.due + Days::new(a + ab + bc));
        let waivers: Vec<Waiver> = waive.into_iter().map(|(offset, all)| Waiver {
            date: c.due + Days::new(offset),
            scope: if all { WaiverScope::All } else { WaiverScope::Percent { percent: rate("50%") } },
            proposed_by: "a".into(),
            approved_by: "b".into(),
            reason: None,
            reference: None,
        }).collect();
        let at = |as_of| input(&c, as_of, &table).with_waivers(&waivers);
        let first = late_fee::accrued_since(&p, &at(db), da).unwrap();
        let second = late_fee::accrued_since(&p, &at(dc), db).unwrap();
        let union = late_fee::accrued_since(&p, &at(dc), da).unwrap();
        prop_assert_eq!(first.total.checked_add(second.total).unwrap(), union.total);
        prop_assert_eq!(first.accrued.checked_add(second.accrued).unwrap(), union.accrued);
        prop_assert_eq!(first.waived.checked_add(second.waived).unwrap(), union.waived);
        let whole = late_fee::compute(&p, &at(dc)).unwrap();
        let from_due = late_fee::accrued_since(&p, &at(dc), c.due).unwrap();
        prop_assert_eq!(whole, from_due);
    }

    #[test]
    fn a_payment_never_raises_the_fee(
        p in policy(), c in case(), span in 0u64..420, pay_day in 0u64..450, per_mille in 1i64..1000,
    ) {
        let table = lpr();
        let as_of = c.due + Days::new(span);
        if c.unpaid_minor == 0 {
            return Ok(()); // nothing left to pay
        }
        let amount = (c.unpaid_minor * per_mille / 1000).max(1);
        let mut more = c.clone();
        more.payments.push(Payment {
            date: c.due + Days::new(pay_day) - Days::new(10),
            amount: Money::from_minor(amount, Currency::CNY),
        });
        let without = total(&p, &c, as_of, &table);
        let with = total(&p, &more, as_of, &table);
        prop_assert!(with.amount() <= without.amount(), "{} with the payment, {} without", with, without);
    }

    #[test]
    fn due_date_shifting_always_lands_on_a_working_day(offset in 0u64..2556) {
        let set = CalendarSet::embedded().unwrap();
        let cal = set.get("CN").unwrap();
        let day = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap() + Days::new(offset);
        let due = cal.shift_due_date(day, DueDateShift::AnyDayOff).unwrap();
        prop_assert!(cal.is_working_day(due).unwrap());
        prop_assert!(due >= day);
        // Nothing earlier would do: every day from `day` up to `due` is a day off.
        for skipped in day.iter_days().take_while(|d| *d < due) {
            prop_assert!(!cal.is_working_day(skipped).unwrap());
        }
        // The literal R-C6 rule never leaves a due date inside a long holiday.
        let literal = cal.shift_due_date(day, DueDateShift::LongHolidayOnly).unwrap();
        if let Some(block) = cal.block_containing(literal).unwrap() {
            prop_assert!(!block.long || block.holidays.is_empty());
        }
    }

    #[test]
    fn working_day_steps_invert(offset in 30u64..2450, n in 1i32..40) {
        let set = CalendarSet::embedded().unwrap();
        let cal = set.get("CN").unwrap();
        let start = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap() + Days::new(offset);
        // Roll to a working day (n = 0), well inside the covered years.
        let day = cal.add_working_days(start, 0).unwrap();
        prop_assert!(cal.is_working_day(day).unwrap());
        let there = cal.add_working_days(day, n).unwrap();
        prop_assert_eq!(cal.add_working_days(there, -n).unwrap(), day);
        prop_assert_eq!(cal.count_working_days(day, there).unwrap(), n as u32 + 1);
    }
}
