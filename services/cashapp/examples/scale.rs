//! Time and memory at scale (issue "done when": 1,000,000 payments against 1,000,000 open
//! receivables in under 10 s on one core). Generates the portfolio in memory, then times
//! building the ledger and reconciling; run under `/usr/bin/time -v` for peak memory.
//!
//! `cargo run --release -p cashapp --example scale -- [--payments N] [--seed S]`

use std::time::Instant;

use cashapp::generator::{self, GeneratorConfig};
use cashapp::{Ledger, Outcome};

fn main() {
    let mut config = GeneratorConfig {
        payments: 1_000_000,
        ..GeneratorConfig::default()
    };
    let mut seed = 1u64;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--payments" => {
                config.payments = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(config.payments)
            }
            "--seed" => seed = args.next().and_then(|s| s.parse().ok()).unwrap_or(seed),
            other => eprintln!("ignored argument {other}"),
        }
    }
    let t = Instant::now();
    let p = generator::generate_portfolio(seed, &config);
    println!(
        "generated {} open items and {} payments in {} ms",
        p.items.len(),
        p.payments.len(),
        t.elapsed().as_millis()
    );
    let t = Instant::now();
    let ledger = match Ledger::from_open_items(p.items) {
        Ok(l) => l.with_rates(p.rates),
        Err(e) => {
            eprintln!("{} items refused", e.len());
            return;
        }
    };
    let build = t.elapsed();
    let t = Instant::now();
    let decisions = ledger.reconcile(&p.payments);
    let run = t.elapsed();
    let applied = decisions
        .iter()
        .filter(|d| d.outcome == Outcome::Applied)
        .count();
    println!(
        "ledger built in {} ms; {} payments reconciled in {} ms ({} ns per payment); {} applied",
        build.as_millis(),
        decisions.len(),
        run.as_millis(),
        run.as_nanos() / decisions.len().max(1) as u128,
        applied
    );
    println!("build + reconcile: {} ms", (build + run).as_millis());
}
