//! Benchmark harness (issue 13): the pure ladder ([`dunning::policy::decide`]) over
//! 1,000,000 delinquent receivables of 200,000 debtors for one business day, on one core.
//!
//! `cargo run --release -p dunning --example ladder_bench [DEBTORS]` prints the time and the
//! decisions by kind. The portfolio is generated deterministically (no randomness crate):
//! five open items per debtor, due over the past year, with case histories of up to ten
//! steps.

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::{Days, NaiveDate};
use dunning::policy::{Debtor, Decision, Item, Occupancy, Policy, Segment, Taken, decide};
use rust_decimal::Decimal;

/// A small deterministic generator (SplitMix64).
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

struct Portfolio {
    grades: Vec<&'static str>,
    segments: Vec<Option<Segment>>,
    occupancy: Vec<Option<Occupancy>>,
    items: Vec<Vec<Item>>,
    taken: Vec<Vec<Taken>>,
}

fn generate(debtors: usize, today: NaiveDate, policy: &Policy) -> Portfolio {
    const GRADES: [&str; 10] = ["AAA", "AA", "A", "BBB", "BB", "B", "CCC", "CC", "C", "D"];
    let mut mix = Mix(42);
    let mut p = Portfolio {
        grades: Vec::with_capacity(debtors),
        segments: Vec::with_capacity(debtors),
        occupancy: Vec::with_capacity(debtors),
        items: Vec::with_capacity(debtors),
        taken: Vec::with_capacity(debtors),
    };
    for _ in 0..debtors {
        let grade_index = usize::try_from(mix.below(10)).unwrap_or(0);
        p.grades.push(GRADES[grade_index]);
        p.segments.push(match mix.below(5) {
            0 => None,
            1 => Some(Segment::Commercial),
            2 => Some(Segment::Villa),
            3 => Some(Segment::Parking),
            _ => Some(Segment::Residential),
        });
        p.occupancy.push(match mix.below(3) {
            0 => Some(Occupancy::Vacant),
            1 => Some(Occupancy::Occupied),
            _ => None,
        });
        let items: Vec<Item> = (0..5)
            .map(|_| Item {
                due: today - Days::new(1 + mix.below(365)),
                open: Decimal::new(
                    i64::try_from(1_000 + mix.below(1_000_000)).unwrap_or(1_000),
                    2,
                ),
            })
            .collect();
        let history = usize::try_from(mix.below(11)).unwrap_or(0);
        let taken: Vec<Taken> = (0..history)
            .map(|k| {
                let step = &policy.steps[k.min(policy.steps.len() - 1)];
                Taken {
                    code: step.code.clone(),
                    severity: step.severity,
                    on: today - Days::new(3 * u64::try_from(history - k).unwrap_or(1)),
                }
            })
            .collect();
        p.items.push(items);
        p.taken.push(taken);
    }
    p
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let debtors: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(200_000);
    let policy = Policy::default_policy()?;
    let today = NaiveDate::from_ymd_opt(2026, 12, 1).ok_or("date")?;
    let started = Instant::now();
    let portfolio = generate(debtors, today, &policy);
    let receivables: usize = portfolio.items.iter().map(Vec::len).sum();
    eprintln!(
        "generated {debtors} debtors, {receivables} receivables in {:.2?}",
        started.elapsed()
    );
    let started = Instant::now();
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for i in 0..debtors {
        let debtor = Debtor {
            grade: portfolio.grades[i],
            segment: portfolio.segments[i],
            occupancy: portfolio.occupancy[i],
            items: &portfolio.items[i],
            taken: &portfolio.taken[i],
        };
        let key = match decide(&policy, &debtor, today) {
            Decision::Nothing => "nothing".to_owned(),
            Decision::Take { step, .. } => format!("take {}", step.code),
            Decision::Hold(hold) => format!("hold {}", hold.as_str()),
        };
        *counts.entry(key).or_default() += 1;
    }
    let elapsed = started.elapsed();
    println!(
        "ladder: {debtors} debtors, {receivables} receivables, one business day in {elapsed:.2?} ({:.0} debtors/s, one core)",
        f64::from(u32::try_from(debtors).unwrap_or(u32::MAX)) / elapsed.as_secs_f64()
    );
    for (kind, n) in counts {
        println!("  {n:>8}  {kind}");
    }
    Ok(())
}
