//! Validation of a scorecard on synthetic customers with known outcomes (issue 15 item 5):
//! how well the scores rank later defaults (Gini, KS) in a development period, and how far a
//! later period's score distribution moved (PSI over the grades). Run offline by
//! `collectctl score validate`.

pub mod stats;
pub mod synthetic;

use serde::Serialize;

use crate::domain::{Grade, Scorecard};
use stats::{Discrimination, Observation, Stability};

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Config {
    /// Customers in each of the two periods.
    pub customers: u32,
    /// Seed of the development period; the recent period uses a seed derived from it.
    pub seed: u64,
    /// How much riskier the recent period's population is (added to the latent risk).
    pub recent_shift: f64,
}

/// One grade's customers and defaults.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GradeRow {
    /// The grade.
    pub grade: Grade,
    /// Customers given it.
    pub customers: u32,
    /// Of whom defaulted.
    pub defaults: u32,
    /// defaults / customers (0 when none).
    pub default_rate: f64,
}

/// One period's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Period {
    /// Customers scored.
    pub customers: u32,
    /// Latent-risk shift of the population.
    pub latent_shift: f64,
    /// Customers who defaulted.
    pub defaults: u32,
    /// defaults / customers.
    pub default_rate: f64,
    /// Mean score.
    pub mean_score: f64,
    /// Gini, KS and AUC (absent if only one outcome occurred).
    pub discrimination: Option<Discrimination>,
    /// Customers and defaults by grade, best first.
    pub grades: Vec<GradeRow>,
}

/// The validation report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Card version.
    pub scorecard: String,
    /// Seed.
    pub seed: u64,
    /// The period the card is judged on.
    pub development: Period,
    /// The later period compared with it.
    pub recent: Period,
    /// Population stability index of the recent grades against the development grades.
    pub psi: f64,
    /// What the PSI says: stable under 0.1, watch to 0.25, shift from 0.25.
    pub stability: Stability,
}

/// How often `progress` is told.
pub const PROGRESS_EVERY: u32 = 1_000;

/// Generates both periods, scores them with `card` and measures; `progress(done, total)` is
/// called every [`PROGRESS_EVERY`] customers (over both periods).
pub fn validate(card: &Scorecard, config: Config, progress: &mut dyn FnMut(u32, u32)) -> Report {
    let total = config.customers.saturating_mul(2);
    let mut done = 0u32;
    let mut tick = || {
        done += 1;
        if done.is_multiple_of(PROGRESS_EVERY) || done == total {
            progress(done, total);
        }
    };
    let development = measure(card, config.customers, config.seed, 0.0, &mut tick);
    let recent_seed = config.seed ^ 0x9e37_79b9_7f4a_7c15;
    let recent = measure(
        card,
        config.customers,
        recent_seed,
        config.recent_shift,
        &mut tick,
    );
    let counts =
        |p: &Period| -> Vec<u64> { p.grades.iter().map(|g| u64::from(g.customers)).collect() };
    let psi = stats::psi(&counts(&development), &counts(&recent));
    Report {
        scorecard: card.version().to_owned(),
        seed: config.seed,
        development,
        recent,
        psi,
        stability: Stability::of(psi),
    }
}

fn measure(card: &Scorecard, n: u32, seed: u64, shift: f64, tick: &mut dyn FnMut()) -> Period {
    let mut observations = Vec::with_capacity(usize::try_from(n).unwrap_or(0));
    let mut rows: Vec<GradeRow> = Grade::ALL
        .into_iter()
        .map(|grade| GradeRow {
            grade,
            customers: 0,
            defaults: 0,
            default_rate: 0.0,
        })
        .collect();
    let mut score_sum = 0u64;
    for c in synthetic::period(seed, shift).take(usize::try_from(n).unwrap_or(0)) {
        let r = card.score(&c.features);
        let row = &mut rows[r.grade.rank()];
        row.customers += 1;
        row.defaults += u32::from(c.defaulted);
        score_sum += u64::from(r.score);
        observations.push(Observation {
            score: r.score,
            defaulted: c.defaulted,
        });
        tick();
    }
    for row in &mut rows {
        row.default_rate = ratio(u64::from(row.defaults), u64::from(row.customers));
    }
    let defaults = rows.iter().map(|r| r.defaults).sum();
    Period {
        customers: n,
        latent_shift: shift,
        defaults,
        default_rate: ratio(u64::from(defaults), u64::from(n)),
        mean_score: ratio(score_sum, u64::from(n)),
        discrimination: stats::discrimination(&observations),
        grades: rows,
    }
}

/// a / b as a float (0 when b is 0); the counts stay far below 2^52.
#[allow(clippy::cast_precision_loss)]
fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::PTS_V1;

    #[test]
    fn the_card_ranks_synthetic_defaults_and_sees_a_shift() {
        let card = Scorecard::shipped(PTS_V1).expect("card");
        let mut calls = 0;
        let config = Config {
            customers: 2_000,
            seed: 42,
            recent_shift: 0.0,
        };
        let r = validate(&card, config, &mut |_, _| calls += 1);
        assert_eq!(calls, 4, "every 1000 of 4000");
        let d = r.development.discrimination.expect("both outcomes");
        assert!(d.gini > 0.3, "the card ranks risk: {d:?}");
        assert!(r.psi < 0.1, "same population: {}", r.psi);
        assert_eq!(r, validate(&card, config, &mut |_, _| {}), "deterministic");
        let shifted = validate(
            &card,
            Config {
                recent_shift: 1.0,
                ..config
            },
            &mut |_, _| {},
        );
        assert!(shifted.psi > r.psi, "{} vs {}", shifted.psi, r.psi);
        assert!(shifted.recent.default_rate > shifted.development.default_rate);
    }
}
