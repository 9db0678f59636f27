//! Late-fee computation for 1,000,000 receivables on one core (the target: < 1 s).
//!
//! Run: `CARGO_TARGET_DIR=… cargo bench -p money`. The receivables mix the R-C4 policies of
//! `examples/` (flat 1‰, tiered with surcharge and cap, LPR × 1.5) with due dates over two
//! years, 0-400 days overdue, and a partial payment on every third receivable.

use std::hint::black_box;

use chrono::{Days, NaiveDate};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use money::late_fee::{self, LateFeeInput, LateFeePolicy, Payment, RateTable};
use money::{Currency, Money};

const N: usize = 1_000_000;

struct Receivable {
    policy: usize,
    principal: Money,
    due: NaiveDate,
    as_of: NaiveDate,
    payments: Vec<Payment>,
}

fn receivables() -> Vec<Receivable> {
    let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default();
    // A small linear congruential generator keeps the data set reproducible without a dependency.
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move |m: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % m
    };
    (0..N)
        .map(|i| {
            let fen = 10_000 + next(100_000_000) as i64;
            let due = start + Days::new(next(600));
            let as_of = due + Days::new(next(400));
            let payments = if i % 3 == 0 {
                vec![Payment {
                    date: due + Days::new(next(120)),
                    amount: Money::from_minor(fen / 3, Currency::CNY),
                }]
            } else {
                Vec::new()
            };
            Receivable {
                policy: i % 3,
                principal: Money::from_minor(fen, Currency::CNY),
                due,
                as_of,
                payments,
            }
        })
        .collect()
}

fn input<'a>(r: &'a Receivable, table: &'a RateTable) -> LateFeeInput<'a> {
    LateFeeInput::new(r.principal, r.due, r.as_of)
        .with_payments(&r.payments)
        .with_reference_rates(table)
}

fn bench(c: &mut Criterion) {
    let policies = [
        include_str!("../examples/property-fee-1permille.json"),
        include_str!("../examples/tiered-with-surcharge.json"),
        include_str!("../examples/lpr-times-1.5.json"),
    ]
    .map(|json| LateFeePolicy::from_json(json).expect("example policy"));
    let mut table: serde_json::Value =
        serde_json::from_str(include_str!("../examples/lpr-1y.json")).expect("example table");
    // The bench runs to 2026: carry the last example rate forward for it.
    table["known_through"] = serde_json::Value::Null;
    let table = RateTable::from_json(&table.to_string()).expect("example table");
    let data = receivables();

    let mut group = c.benchmark_group("late_fee");
    group.sample_size(10);
    group.throughput(Throughput::Elements(N as u64));
    // Itemised breakdowns, as printed on notices.
    group.bench_function("compute 1,000,000 receivables (itemised)", |b| {
        b.iter(|| {
            let mut total = rust_decimal::Decimal::ZERO;
            for r in &data {
                if let Ok(b) = late_fee::compute(&policies[r.policy], black_box(&input(r, &table)))
                {
                    total += b.total.amount();
                }
            }
            black_box(total)
        })
    });
    // Amounts only, as a nightly accrual job books them.
    group.bench_function("compute_summary 1,000,000 receivables", |b| {
        b.iter(|| {
            let mut total = rust_decimal::Decimal::ZERO;
            for r in &data {
                if let Ok(s) =
                    late_fee::compute_summary(&policies[r.policy], black_box(&input(r, &table)))
                {
                    total += s.total.amount();
                }
            }
            black_box(total)
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
