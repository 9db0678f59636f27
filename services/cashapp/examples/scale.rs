//! Time and memory at scale (issue "done when": 1,000,000 payments against 1,000,000 open
//! receivables in under 10 s on one core). Generates the portfolio in memory, then times
//! building the ledger and reconciling; run under `/usr/bin/time -v` for peak memory.
//!
//! `cargo run --release -p cashapp --example scale -- [--payments N] [--seed S]`

use std::time::Instant;

use cashapp::generator::{self, GeneratorConfig};

/// Resident memory now, in MB (Linux `/proc/self/status`; 0 elsewhere).
fn rss_mb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|kb| kb.parse::<u64>().ok())
            })
        })
        .map_or(0, |kb| kb / 1024)
}
use cashapp::{Ledger, Outcome};

/// CPU time this thread has run so far, in ms (Linux `/proc/thread-self/schedstat`; 0
/// elsewhere): unlike the wall clock, it does not count time the VM gave to other jobs.
fn cpu_ms() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|ns| ns.parse().ok()))
        .map_or(0, |ns: u64| ns / 1_000_000)
}

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
    let before_ledger = rss_mb();
    let t = Instant::now();
    let cpu0 = cpu_ms();
    let ledger = match Ledger::from_open_items(p.items) {
        Ok(l) => l.with_rates(p.rates),
        Err(e) => {
            eprintln!("{} items refused", e.len());
            return;
        }
    };
    let build = t.elapsed();
    let cpu1 = cpu_ms();
    let after_ledger = rss_mb();
    let t = Instant::now();
    let decisions = ledger.reconcile(&p.payments);
    let run = t.elapsed();
    let cpu2 = cpu_ms();
    let after_reconcile = rss_mb();
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
    println!(
        "build + reconcile: {} ms (CPU time {} + {} = {} ms)",
        (build + run).as_millis(),
        cpu1 - cpu0,
        cpu2 - cpu1,
        cpu2 - cpu0
    );
    println!(
        "resident memory: {before_ledger} MB with the generated input, +{} MB for the ledger, +{} MB for the decisions",
        after_ledger.saturating_sub(before_ledger),
        after_reconcile.saturating_sub(after_ledger)
    );
}
