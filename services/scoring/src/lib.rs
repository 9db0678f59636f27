//! The scoring service: customer credit grades AAA..D from the points scorecard pts-v1, with
//! reason codes and strategy (R-S1..R-S5, R-C5), re-computed on every event that moves an
//! indicator and in the periodic full review (R-S3).

mod api;
mod convert;
pub mod domain;
mod events;
mod rescore;
mod review;
pub mod store;
pub mod validation;

use std::sync::Arc;

use proto::scoring::v1::scoring_service_server::ScoringServiceServer;
use tonic::server::NamedService;

pub use api::Api;

/// The service name.
pub const SERVICE: &str = "scoring";
/// Default gRPC port of the local stack.
pub const DEFAULT_PORT: u16 = 50053;

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The service's migrations: `scoring migrate` applies them (the migration job), and with
/// `DATABASE_MIGRATE=false` start-up checks they are applied.
#[must_use]
pub fn migrations() -> &'static sqlx::migrate::Migrator {
    &MIGRATIONS
}

/// R-S3: the periodic full review's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReviewConfig {
    /// Months per review period (`SCORING_REVIEW_MONTHS`: 3 quarterly, 6 half-yearly; a
    /// divisor of 12).
    pub months: u32,
    /// Customers re-scored per transaction (`SCORING_REVIEW_CHUNK`).
    pub chunk: i64,
    /// What starts a period's review (`SCORING_REVIEW_SCHEDULE`).
    pub schedule: ReviewSchedule,
    /// How often the review worker looks for a review to run or resume
    /// (`SCORING_REVIEW_POLL_SECONDS`).
    pub poll: std::time::Duration,
}

/// What starts the periodic full review (R-S3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewSchedule {
    /// The first daily cycle (contracts' `DailyCycleCompleted`) of a new period starts its
    /// review; the service's review worker runs it in the background (`daily-cycle`, the
    /// default).
    DailyCycle,
    /// Only `RunReview` (`collectctl score review`) starts one (`manual`).
    Manual,
}

impl ReviewConfig {
    /// Reads the settings from the environment (quarterly, 500 a chunk by default).
    ///
    /// # Errors
    /// A value that is not a divisor of 12 months, or not a positive chunk size.
    pub fn from_env() -> Result<Self, kit::config::ConfigError> {
        const MONTHS: &str = "1, 2, 3, 4, 6 or 12 (3 = quarterly, 6 = half-yearly)";
        let months: u32 = kit::config::env_parse("SCORING_REVIEW_MONTHS", 3, MONTHS)?;
        if months == 0 || 12 % months != 0 {
            return Err(kit::config::ConfigError::new(
                "SCORING_REVIEW_MONTHS",
                &months.to_string(),
                MONTHS,
            ));
        }
        let chunk: i64 = kit::config::env_parse(
            "SCORING_REVIEW_CHUNK",
            500,
            "a positive number of customers",
        )?;
        if chunk < 1 {
            return Err(kit::config::ConfigError::new(
                "SCORING_REVIEW_CHUNK",
                &chunk.to_string(),
                "a positive number of customers",
            ));
        }
        let schedule = match std::env::var("SCORING_REVIEW_SCHEDULE").as_deref() {
            Err(_) | Ok("daily-cycle") => ReviewSchedule::DailyCycle,
            Ok("manual") => ReviewSchedule::Manual,
            Ok(other) => {
                return Err(kit::config::ConfigError::new(
                    "SCORING_REVIEW_SCHEDULE",
                    other,
                    "daily-cycle (a new period's first daily cycle starts its review) or manual (RunReview only)",
                ));
            }
        };
        let poll: u64 = kit::config::env_parse(
            "SCORING_REVIEW_POLL_SECONDS",
            10,
            "whole seconds between the review worker's looks for a review to run",
        )?;
        if poll == 0 {
            return Err(kit::config::ConfigError::new(
                "SCORING_REVIEW_POLL_SECONDS",
                "0",
                "at least 1 second",
            ));
        }
        Ok(Self {
            months,
            chunk,
            schedule,
            poll: std::time::Duration::from_secs(poll),
        })
    }
}

/// Runs the service until `stop` resolves.
pub async fn run(
    config: kit::Config,
    stop: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let review = ReviewConfig::from_env()?;
    let card = Arc::new(domain::Scorecard::shipped(domain::PTS_V1)?);
    let business_offset = config.business_utc_offset;
    let mut app = kit::App::prepare(config, &MIGRATIONS).await?;
    let scorer = rescore::Scorer {
        card,
        outbox: app.outbox.clone(),
    };
    // The topics: kit::events::SUBSCRIPTIONS (also the broker's ACLs).
    app.consume(events::Events {
        scorer: scorer.clone(),
        business_offset,
        review,
    })?;
    // R-S3: the review worker runs the reviews the daily cycle started and resumes those a
    // crash interrupted.
    tokio::spawn(review::worker(
        app.pool.clone(),
        scorer.clone(),
        review.chunk,
        review.poll,
    ));
    let server = ScoringServiceServer::new(Api {
        pool: app.pool.clone(),
        scorer,
        review,
        business_offset,
    });
    app.serve(
        tonic::service::Routes::new(server),
        &[<ScoringServiceServer<Api> as NamedService>::NAME],
        stop,
    )
    .await
}
