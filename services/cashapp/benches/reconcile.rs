//! Benchmark (issue "done when"): reconcile 1,000,000 payments against the generator's
//! 1,000,000+ open receivables on one core — building the ledger from the open items and
//! reconciling together, and each on its own.
//!
//! `cargo bench -p cashapp` (set `CASHAPP_BENCH_PAYMENTS` for another size, e.g. 100000 for a
//! quick run). The open items are cloned outside the measurement (they are what a service
//! loads from its store) and consumed by the build inside it; the ledger and the decisions
//! are dropped outside it. Reconciling alone is measured on a ledger built once (a service
//! keeps it in memory between batches).

use std::time::Duration;

use cashapp::Ledger;
use cashapp::generator::{GeneratorConfig, generate_portfolio};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

fn reconcile(c: &mut Criterion) {
    let payments = std::env::var("CASHAPP_BENCH_PAYMENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let config = GeneratorConfig {
        payments,
        ..GeneratorConfig::default()
    };
    let p = generate_portfolio(1, &config);
    let (items, payments) = (p.items.len(), p.payments.len());
    let mut group = c.benchmark_group("cashapp");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(30));
    group.bench_function(
        format!("build ledger of {items} open receivables and reconcile {payments} payments"),
        |b| {
            b.iter_batched(
                || p.items.clone(),
                |items| {
                    let ledger = Ledger::from_open_items(items)
                        .ok()?
                        .with_rates(p.rates.clone());
                    let decisions = ledger.reconcile(&p.payments);
                    Some((ledger, decisions))
                },
                BatchSize::PerIteration,
            )
        },
    );
    let Ok(ledger) = Ledger::from_open_items(p.items.clone()) else {
        return;
    };
    let ledger = ledger.with_rates(p.rates.clone());
    group.bench_function(
        format!("reconcile {payments} payments against {items} open receivables"),
        |b| b.iter_with_large_drop(|| ledger.reconcile(&p.payments)),
    );
    group.bench_function(format!("build ledger of {items} open receivables"), |b| {
        b.iter_batched(
            || p.items.clone(),
            |items| Ledger::from_open_items(items).ok(),
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, reconcile);
criterion_main!(benches);
