//! `collectctl score`: the points scorecard `pts-v1` offline (issue 15; R-S1..R-S5). Nothing
//! is sent and no service is called.
//!
//! - `validate` generates seeded synthetic customers with known outcomes and reports Gini, KS
//!   and the population stability index (item 5);
//! - `explain` scores one customer's features from a JSON file: points per indicator, grade,
//!   reason codes and strategy (R-S2, R-S4, R-S5);
//! - `review` asks the scoring service to run (or resume) the periodic full review of the
//!   period a date falls in (R-S3); the one command here that calls a service.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::anyhow;
use clap::{Args, Subcommand};
use scoring::domain::{Features, PTS_V1, ScoreResult, Scorecard};
use scoring::validation::{self, Config, Period, Report};

use crate::cli::{Failure, Hint, Outcome, json, read};

#[derive(Args)]
pub(crate) struct ScoreArgs {
    #[command(subcommand)]
    command: ScoreCommand,
}

#[derive(Subcommand)]
enum ScoreCommand {
    /// Validate the scorecard on seeded synthetic customers with known outcomes: Gini, KS,
    /// default rate by grade, and PSI between a development and a recent period.
    Validate(ValidateArgs),
    /// Score one customer's features (a JSON file) and show points, grade, reasons and
    /// strategy.
    Explain(ExplainArgs),
    /// Run (or resume) the full review of the period a business date falls in on the scoring
    /// service (operators): every customer re-scored once per period (R-S3). The quarter's
    /// first daily cycle starts it by itself unless SCORING_REVIEW_SCHEDULE=manual.
    Review(ReviewArgs),
}

#[derive(Args)]
struct ReviewArgs {
    /// Business date YYYY-MM-DD whose period is reviewed (default: today's business date).
    #[arg(long, value_name = "DATE")]
    as_of: Option<String>,
    /// The scoring service (default: $SCORING_URL, else the local stack's port).
    #[arg(long)]
    scoring: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct ValidateArgs {
    /// Customers in each of the two periods.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=5_000_000))]
    customers: u32,
    /// Seed: the same seed gives the same customers and figures.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// How much riskier the recent period is (latent risk shift, in standard deviations).
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    recent_shift: f64,
    /// Scorecard version.
    #[arg(long, default_value = PTS_V1)]
    scorecard: String,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct ExplainArgs {
    /// The customer's features (JSON, the fields of scoring::domain::Features).
    #[arg(long, value_name = "FILE")]
    features: PathBuf,
    /// Scorecard version.
    #[arg(long, default_value = PTS_V1)]
    scorecard: String,
    /// Print JSON (the full, recomputable result) instead of text.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: ScoreArgs) -> Outcome {
    match args.command {
        ScoreCommand::Validate(args) => validate(args),
        ScoreCommand::Explain(args) => explain(args),
        ScoreCommand::Review(args) => review(args),
    }
}

fn review(args: ReviewArgs) -> Outcome {
    if let Some(date) = &args.as_of {
        chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
            .map_err(|e| anyhow!("--as-of {date:?}: {e}"))
            .hint("give the business date as YYYY-MM-DD, e.g. 2026-04-01")?;
    }
    crate::service::block_on(async move {
        let mut client = crate::service::scoring(args.scoring).await?;
        let outcome = client
            .run_review(proto::scoring::v1::RunReviewRequest {
                as_of: args.as_of.unwrap_or_default(),
            })
            .await
            .map_err(crate::service::status)?
            .into_inner();
        if args.json {
            return json(serde_json::json!({
                "period": outcome.period,
                "rescored": outcome.rescored,
                "grades_changed": outcome.grades_changed,
                "already_ran": outcome.already_ran,
                "resumed": outcome.resumed,
            }));
        }
        Ok(if outcome.already_ran && outcome.rescored == 0 {
            format!(
                "review {}: already done; every customer was re-scored once this period",
                outcome.period
            )
        } else {
            format!(
                "review {}{}: re-scored {} customer(s), {} grade(s) changed",
                outcome.period,
                if outcome.resumed {
                    " (resumed after an interruption)"
                } else {
                    ""
                },
                outcome.rescored,
                outcome.grades_changed
            )
        })
    })
}

fn card(version: &str) -> Result<Scorecard, Failure> {
    Scorecard::shipped(version)
        .map_err(|e| anyhow!("{e}"))
        .hint(format!("the shipped scorecard is {PTS_V1}"))
}

fn validate(args: ValidateArgs) -> Outcome {
    if !args.recent_shift.is_finite() || args.recent_shift.abs() > 5.0 {
        return Err(Failure::with_hint(
            anyhow!("--recent-shift {} is out of range", args.recent_shift),
            "give a shift between -5 and 5 standard deviations, e.g. 0.1",
        ));
    }
    let card = card(&args.scorecard)?;
    let config = Config {
        customers: args.customers,
        seed: args.seed,
        recent_shift: args.recent_shift,
    };
    // A progress line on stderr for long runs only, every tenth of the way.
    let long = args.customers >= 20_000;
    let step = (args.customers.saturating_mul(2) / 10).max(validation::PROGRESS_EVERY);
    let mut last = 0;
    let report = validation::validate(&card, config, &mut |done, total| {
        if long && (done - last >= step || done == total) {
            last = done;
            eprintln!("scored {done} of {total} synthetic customers");
        }
    });
    if args.json {
        return json(&report);
    }
    Ok(text(&report, &args))
}

fn text(r: &Report, args: &ValidateArgs) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "scorecard {} on synthetic customers: collectctl score validate --customers {} --seed {}{}",
        r.scorecard,
        args.customers,
        r.seed,
        if (args.recent_shift - 0.1).abs() < f64::EPSILON {
            String::new()
        } else {
            format!(" --recent-shift {}", args.recent_shift)
        }
    );
    period(&mut out, "development period", &r.development);
    period(&mut out, "recent period", &r.recent);
    let _ = writeln!(
        out,
        "\n{:<6} {:>12} {:>10} {:>12} {:>10}",
        "grade", "development", "defaults", "recent", "defaults"
    );
    for (d, n) in r.development.grades.iter().zip(&r.recent.grades) {
        let _ = writeln!(
            out,
            "{:<6} {:>12} {:>9.1}% {:>12} {:>9.1}%",
            d.grade.as_str(),
            d.customers,
            100.0 * d.default_rate,
            n.customers,
            100.0 * n.default_rate
        );
    }
    let _ = write!(
        out,
        "\nPSI of the recent grades against the development grades: {:.4} ({}; under 0.1 stable, 0.1-0.25 watch, 0.25 or more shift)",
        r.psi,
        r.stability.as_str()
    );
    out
}

fn period(out: &mut String, name: &str, p: &Period) {
    let _ = writeln!(
        out,
        "{name}: {} customers (latent risk shift {:+.2}), {} defaulted ({:.1}%), mean score {:.1}",
        p.customers,
        p.latent_shift,
        p.defaults,
        100.0 * p.default_rate,
        p.mean_score
    );
    match &p.discrimination {
        Some(d) => {
            let _ = writeln!(
                out,
                "  Gini {:.3} (AUC {:.3}), KS {:.3} at score {}",
                d.gini, d.auc, d.ks, d.ks_score
            );
        }
        None => {
            let _ = writeln!(
                out,
                "  Gini and KS: not defined (only one outcome occurred)"
            );
        }
    }
}

fn explain(args: ExplainArgs) -> Outcome {
    let card = card(&args.scorecard)?;
    let features: Features = serde_json::from_str(&read(&args.features, "features file")?)
        .map_err(|e| anyhow!("features {}: {e}", args.features.display()))
        .hint("give every field of the features (see README, \"Scorecard pts-v1\"); shares are strings such as \"0.95\", absent data null")?;
    let r = card.score(&features);
    if args.json {
        return json(&r);
    }
    Ok(explanation(&r))
}

fn explanation(r: &ScoreResult) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "scorecard {}: score {} of {}, grade {} ({} thresholds)",
        r.version, r.score, r.max_score, r.grade, r.thresholds
    );
    for p in &r.points {
        let _ = writeln!(
            out,
            "  {:<20} {:<22} {:>4} of {:>4}",
            p.indicator.as_str(),
            p.bin,
            p.points,
            p.max_points
        );
    }
    if r.reasons.is_empty() {
        let _ = writeln!(out, "reasons: none, every indicator earned its maximum");
    } else {
        let _ = writeln!(out, "reasons (R-S2):");
        for x in &r.reasons {
            let _ = writeln!(
                out,
                "  {:<16} -{:<4} {}",
                x.code, x.points_lost, x.description
            );
        }
    }
    let s = &r.strategy;
    let term = match s.credit_term {
        scoring::domain::CreditTerm::Days(d) => format!("{d} days"),
        scoring::domain::CreditTerm::PayUpFront => "none, pay up front".to_owned(),
    };
    let _ = write!(
        out,
        "strategy: credit term {term}{}; security {}; follow-up {}; bureau {}; credit hold {}",
        if s.new_customer {
            " (new customer, R-C5)"
        } else {
            ""
        },
        s.security.as_str(),
        s.follow_up.as_str(),
        s.bureau.as_str(),
        s.credit_hold.as_str()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validate_args(json: bool) -> ValidateArgs {
        ValidateArgs {
            customers: 1_500,
            seed: 7,
            recent_shift: 0.1,
            scorecard: PTS_V1.to_owned(),
            json,
        }
    }

    #[test]
    fn validate_prints_a_report_and_json() {
        let text = validate(validate_args(false)).expect("text");
        assert!(
            text.starts_with("scorecard pts-v1 on synthetic customers"),
            "{text}"
        );
        assert!(text.contains("Gini"), "{text}");
        assert!(text.contains("PSI of the recent grades"), "{text}");
        assert!(text.contains("\nAAA "), "{text}");
        let doc = validate(validate_args(true)).expect("json");
        let v: serde_json::Value = serde_json::from_str(&doc).expect("JSON");
        assert_eq!(v["scorecard"], "pts-v1");
        assert!(
            v["development"]["discrimination"]["gini"]
                .as_f64()
                .is_some(),
            "{v}"
        );
        assert!(v["psi"].as_f64().is_some(), "{v}");
        assert_eq!(
            doc,
            validate(validate_args(true)).expect("json"),
            "same seed, same figures"
        );
    }

    #[test]
    fn an_unknown_scorecard_or_shift_is_refused_with_a_hint() {
        let Err(f) = validate(ValidateArgs {
            scorecard: "pts-v9".to_owned(),
            ..validate_args(false)
        }) else {
            panic!("refused");
        };
        assert!(f.describe().contains("pts-v9"), "{}", f.describe());
        assert_eq!(f.hint_text(), Some("the shipped scorecard is pts-v1"));
        assert!(
            validate(ValidateArgs {
                recent_shift: f64::NAN,
                ..validate_args(false)
            })
            .is_err()
        );
    }

    #[test]
    fn explain_scores_a_features_file() {
        let dir = std::env::temp_dir().join(format!("score-explain-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("features.json");
        std::fs::write(
            &path,
            r#"{"days_past_due": 45, "late_payments": 3, "broken_promises": 1,
                "on_time_share": "0.70", "outstanding_balance": "120000.00",
                "overdue_share": "0.30", "tenure_months": 8, "segment": "residential",
                "open_disputes": 0, "legal_cases": 0, "bureau_score": null,
                "debt_to_income": "0.25", "industry": null, "region": "cn-gd"}"#,
        )
        .expect("write");
        let args = |json| ExplainArgs {
            features: path.clone(),
            scorecard: PTS_V1.to_owned(),
            json,
        };
        let text = explain(args(false)).expect("text");
        assert!(text.contains("reasons (R-S2):\n  DPD"), "{text}");
        assert!(text.contains("(new customer, R-C5)"), "{text}");
        let v: serde_json::Value =
            serde_json::from_str(&explain(args(true)).expect("json")).expect("JSON");
        assert_eq!(v["version"], "pts-v1");
        assert_eq!(v["reasons"][0]["code"], "DPD");
        std::fs::write(&path, r#"{"days_past_due": 1}"#).expect("write");
        let Err(f) = explain(args(false)) else {
            panic!("refused");
        };
        assert!(f.describe().contains("missing field"), "{}", f.describe());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
