//! Parse files repeatedly and report throughput; with `--values`, print each file's parsed
//! transactions as JSON lines for the side-by-side check in `bench/compare_mt940.py`.
//!
//! `cargo run --release -p feeds --example throughput -- [--values] [--seconds S] FILE…`

use std::time::{Duration, Instant};

use feeds::{CheckMode, Format, ParseOptions};

fn main() {
    let mut values = false;
    // `--only owned|compact|fingerprints` times one variant (for profiling).
    let mut only = String::new();
    let mut seconds = 2.0_f64; // timing only, never money
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--values" => values = true,
            "--only" => only = args.next().unwrap_or_default(),
            "--seconds" => seconds = args.next().and_then(|s| s.parse().ok()).unwrap_or(seconds),
            _ => files.push(a),
        }
    }
    let options = ParseOptions {
        mode: CheckMode::Flag,
        ..ParseOptions::default()
    };
    let inputs: Vec<(String, Vec<u8>)> = files
        .iter()
        .filter_map(|f| std::fs::read(f).ok().map(|b| (f.clone(), b)))
        .collect();
    if values {
        for (name, bytes) in &inputs {
            let parsed = feeds::parse_file(name, bytes, Some(Format::Mt940), &options);
            let txs: Vec<serde_json::Value> = parsed
                .iter()
                .flat_map(|p| p.statements.iter().flat_map(|s| &s.transactions))
                .map(|t| {
                    serde_json::json!({
                        "amount": t.amount.to_string(),
                        "currency": t.currency,
                        "value_date": t.value_date.map(|d| d.to_string()),
                        "entry_date": t.booking_date.map(|d| d.to_string()),
                        "customer_reference": t.customer_reference,
                        "bank_reference": t.bank_reference,
                        "type": t.bank_transaction_code,
                    })
                })
                .collect();
            let line = serde_json::json!({ "file": name, "transactions": txs });
            println!("{line}");
        }
        return;
    }
    // One corpus of all files, parsed back to back, as often as fits in the time budget:
    // into the owned model (`parse_file`, fingerprints included), into the compact MT940
    // form (parse and checks; fingerprints are computed on demand and not asked for), and
    // into the compact form asking for every transaction's fingerprint.
    let total: usize = inputs.iter().map(|(_, b)| b.len()).sum();
    let budget = |name: &str| {
        if only.is_empty() || only == name {
            seconds
        } else {
            0.0
        }
    };
    let owned = measure(budget("owned"), || {
        inputs
            .iter()
            .filter_map(|(name, bytes)| feeds::parse_file(name, bytes, None, &options).ok())
            .map(|p| p.transaction_count())
            .sum()
    });
    let compact = measure(budget("compact"), || {
        inputs
            .iter()
            .filter_map(|(name, bytes)| {
                feeds::mt940::parse_compact(name, bytes, None, &options).ok()
            })
            .map(|p| p.transaction_count())
            .sum()
    });
    let fingerprints = measure(budget("fingerprints"), || {
        inputs
            .iter()
            .filter_map(|(name, bytes)| {
                feeds::mt940::parse_compact(name, bytes, None, &options).ok()
            })
            .map(|p| {
                // Every transaction's fingerprint through the accessor (the first call
                // computes the file's); `black_box` keeps the compiler from leaving it out.
                let mut n = 0;
                for st in p.statements() {
                    for tx in st.transactions() {
                        std::hint::black_box(tx.fingerprint());
                        n += 1;
                    }
                }
                n
            })
            .sum()
    });
    // Timing arithmetic only (never money): sizes fit f64 exactly below 2^52 bytes.
    let mib = f64::from(u32::try_from(total).unwrap_or(u32::MAX)) / f64::from(1u32 << 20);
    let report = |(best, transactions): (Duration, usize)| {
        format!(
            "{{\"transactions\": {transactions}, \"seconds\": {:.6}, \"mib_per_s\": {:.2}}}",
            best.as_secs_f64(),
            mib / best.as_secs_f64()
        )
    };
    println!(
        "{{\"bytes\": {total}, \"owned\": {}, \"compact\": {}, \"compact_fingerprints\": {}}}",
        report(owned),
        report(compact),
        report(fingerprints)
    );
}

/// Best time of `run` over repeated runs within the budget, and what it returned.
fn measure(seconds: f64, mut run: impl FnMut() -> usize) -> (Duration, usize) {
    let budget = Duration::from_secs_f64(seconds);
    let mut best = Duration::MAX;
    let mut transactions = 0;
    let start = Instant::now();
    while start.elapsed() < budget || best == Duration::MAX {
        let t = Instant::now();
        transactions = run();
        best = best.min(t.elapsed());
    }
    (best, transactions)
}
