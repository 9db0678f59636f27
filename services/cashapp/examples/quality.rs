//! Measure the engine on the generator's mix (issue "done when"): auto-applied share of true
//! matches, correctness of automatic allocations, exceptions for third-party, wrong-account
//! and duplicate cases; with `--via-files`, through the camt.053 and CSV files and the feeds
//! parser.
//!
//! `cargo run --release -p cashapp --example quality -- [--payments N] [--seed S] [--via-files]`

use std::time::Instant;

use cashapp::generator::{self, GeneratorConfig};
use cashapp::{Ledger, NamedFile, Policy, reconcile_files};

fn main() {
    let mut config = GeneratorConfig::default();
    let mut seed = 1u64;
    let mut via_files = false;
    let mut show = 0usize;
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
            "--via-files" => via_files = true,
            "--show-wrong" => show = args.next().and_then(|s| s.parse().ok()).unwrap_or(5),
            other => eprintln!("ignored argument {other}"),
        }
    }
    if via_files {
        let g = generator::generate(seed, &config);
        for (name, bytes) in [
            ("statement.camt053.xml", &g.camt053),
            ("statement.csv", &g.statement_csv),
        ] {
            let t = Instant::now();
            let report = reconcile_files(
                NamedFile {
                    name: "receivables.csv",
                    bytes: &g.receivables_csv,
                },
                NamedFile { name, bytes },
                None,
                Some(NamedFile {
                    name: "rates.csv",
                    bytes: &g.rates_csv,
                }),
                &Policy::default(),
            );
            match report {
                Ok(r) => {
                    println!(
                        "== {name}: {} ms, {} input errors, balanced {}",
                        t.elapsed().as_millis(),
                        r.errors.len(),
                        r.summary.balanced
                    );
                    print!("{}", generator::evaluate(&g.truth, &r.decisions));
                }
                Err(e) => eprintln!("{e}"),
            }
        }
        return;
    }
    let p = generator::generate_portfolio(seed, &config);
    let t = Instant::now();
    let mut ledger = match Ledger::from_open_items(p.items.clone()) {
        Ok(l) => l.with_rates(p.rates.clone()),
        Err(e) => {
            eprintln!("{} items refused, first: {:?}", e.len(), e.first());
            return;
        }
    };
    let built = t.elapsed();
    let decisions = ledger.reconcile_and_apply(&p.payments);
    println!(
        "{} open items, {} payments: ledger built in {} ms, reconciled in {} ms",
        p.items.len(),
        p.payments.len(),
        built.as_millis(),
        (t.elapsed() - built).as_millis()
    );
    let q = generator::evaluate(&p.truth, &decisions);
    if show > 0 {
        show_wrong(&p, &decisions, show);
    }
    print!("{q}");
    println!("by reference:");
    for (name, s) in &q.by_reference {
        println!(
            "  {name:<20} {:>7} applied {:>7} (correct {:>7}) proposed {:>6} exceptions {:>6}",
            s.payments, s.applied, s.applied_correctly, s.proposed, s.exceptions
        );
    }
}

/// Print applied decisions whose allocations differ from the truth, and missed true matches.
fn show_wrong(p: &generator::Portfolio, decisions: &[cashapp::Decision], n: usize) {
    let truth: std::collections::HashMap<&str, &generator::TruthPayment> = p
        .truth
        .payments
        .iter()
        .map(|t| (t.key.as_str(), t))
        .collect();
    let payments: std::collections::HashMap<&str, &cashapp::Payment> =
        p.payments.iter().map(|x| (x.id.as_str(), x)).collect();
    let mut wrong = 0;
    let mut missed = 0;
    for d in decisions {
        let Some(t) = truth.get(d.payment_id.as_str()) else {
            continue;
        };
        let ok = d.allocations.len() == t.allocations.len()
            && d.allocations.iter().all(|a| {
                t.allocations
                    .iter()
                    .any(|x| *x.receivable_id == *a.receivable_id && x.amount == a.amount)
            });
        let bad = d.outcome == cashapp::Outcome::Applied && !ok;
        let miss = (d.outcome != cashapp::Outcome::Applied && t.expect == generator::Expect::Auto)
            || (d.outcome != cashapp::Outcome::Exception
                && t.expect == generator::Expect::Exception);
        if (bad && wrong < n) || (miss && missed < n) {
            if bad {
                wrong += 1
            } else {
                missed += 1
            }
            println!(
                "---- {} {}",
                if bad { "WRONG" } else { "MISSED" },
                serde_json::to_string(t).unwrap_or_default()
            );
            println!(
                "payment {}",
                serde_json::to_string(
                    payments
                        .get(d.payment_id.as_str())
                        .copied()
                        .unwrap_or(&p.payments[0])
                )
                .unwrap_or_default()
            );
            println!("decision {}", serde_json::to_string(d).unwrap_or_default());
        }
    }
}
