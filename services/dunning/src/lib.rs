//! The dunning service: delinquency cases, the policy-driven ladder (one notice per debtor
//! and day), outbound messages and collectors' tasks under the conduct rules, and the
//! tamper-evident contact log.
//!
//! Configuration beyond the kit's:
//! - `DUNNING_POLICY`: the policy file (JSON, see `policies/default.json`, which is used
//!   without it);
//! - `DUNNING_NOTICE_ISSUER`: who issues notices (printed on them);
//! - `DUNNING_SMTP_HOST`, `DUNNING_SMTP_PORT`, `DUNNING_SMTP_STARTTLS`, `DUNNING_SMTP_FROM`:
//!   e-mail; without them every channel goes to the recording adapter
//!   (`DUNNING_RECORDING_FILE`, `DUNNING_RECORDING_FAIL`);
//! - `DUNNING_CONTACT_LOG_KEY`: the Ed25519 key (PKCS#8, hex) that signs contact-log
//!   checkpoints, required in production; `DUNNING_CHECKPOINT_SECS` (default 60);
//! - `DUNNING_LADDER_WAIT_SECS` (default 600): how long a day waits for its overdue events;
//! - `DUNNING_RETENTION_YEARS` (default 3, at least 3): contact records are anonymised this
//!   long after the debtor's last collection activity (R-D14);
//! - `DUNNING_DISPUTE_SLA_HOURS` (48) and `DUNNING_DISPUTE_SLA_BASIS` (`calendar_hours` or
//!   `business_hours`): the response deadline of a dispute (R-D8);
//! - `DUNNING_PLAN_SECOND_APPROVAL_ABOVE` (default 50000): a repayment plan whose total is
//!   above it needs a second approver with the risk role (R-D6).

pub mod api;
pub mod backtest;
pub mod channel;
mod contract_runs;
pub mod daily;
pub mod domain;
mod handler;
pub mod notice;
pub mod outreach;
mod overdue_runs;
mod payment_runs;
mod plans;
pub mod policy;
pub mod retention;
pub mod sla;
pub mod store;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tonic::server::NamedService;

use proto::dunning::v1::dunning_service_server::DunningServiceServer;

/// The service name.
pub const SERVICE: &str = "dunning";
/// Default gRPC port of the local stack.
pub const DEFAULT_PORT: u16 = 50054;

pub(crate) static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The service's migrations: `dunning migrate` applies them (the migration job), with
/// `DATABASE_MIGRATE=false` start-up checks they are applied; harnesses set up the schema.
#[must_use]
pub fn migrations() -> &'static sqlx::migrate::Migrator {
    &MIGRATIONS
}

/// Settings of the ladder before policies were data; refused so nobody believes they still
/// apply.
const RETIRED: [&str; 3] = [
    "DUNNING_ESCALATE_AFTER_DAYS",
    "DUNNING_ESCALATE_MIN_AMOUNT",
    "DUNNING_NOTICE_FEE",
];

/// The policy in force: `DUNNING_POLICY` or the shipped default.
///
/// # Errors
/// A retired setting is present, or the file cannot be read or is not a valid policy.
pub fn policy_from_env() -> anyhow::Result<policy::Policy> {
    for name in RETIRED {
        if std::env::var_os(name).is_some() {
            anyhow::bail!(
                "{name} is no longer read: the ladder's thresholds and fees are steps of the dunning policy now; \
                 unset it and put them in a policy file named by DUNNING_POLICY (see services/dunning/policies/default.json)"
            );
        }
    }
    match std::env::var("DUNNING_POLICY") {
        Ok(path) if !path.trim().is_empty() => {
            let text = std::fs::read_to_string(path.trim())
                .with_context(|| format!("DUNNING_POLICY={path}: the file cannot be read"))?;
            policy::Policy::from_json(&text)
                .map_err(|e| anyhow::anyhow!("DUNNING_POLICY={path}: {e}"))
        }
        _ => policy::Policy::default_policy()
            .map_err(|e| anyhow::anyhow!("the shipped default policy: {e}")),
    }
}

/// Runs the service until `stop` resolves.
pub async fn run(
    config: kit::Config,
    stop: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let policy = Arc::new(policy_from_env()?);
    tracing::info!(
        policy = %policy.id, version = policy.version, steps = policy.steps.len(),
        effective_from = %policy.effective_from, "dunning policy"
    );
    let conduct = Arc::new(outreach::Conduct::builtin()?);
    let router = Arc::new(outreach::Router::from_env()?);
    let key = Arc::new(outreach::SigningKey::from_env(config.production)?);
    // Notices are printed in a CJK font (R-D3): refuse to start without one.
    let font = Arc::new(documents::Font::from_env_or_system().map_err(|e| {
        anyhow::anyhow!("dunning prints written notices and needs a CJK font: {e}")
    })?);
    let checkpoint_every: u64 =
        kit::config::env_parse("DUNNING_CHECKPOINT_SECS", 60, "a whole number of seconds")?;
    let wait: u64 =
        kit::config::env_parse("DUNNING_LADDER_WAIT_SECS", 600, "a whole number of seconds")?;
    let retention_years: u32 = kit::config::env_parse(
        "DUNNING_RETENTION_YEARS",
        3,
        "a whole number of years, at least 3",
    )?;
    if retention_years < 3 {
        anyhow::bail!(
            "DUNNING_RETENTION_YEARS={retention_years}: R-D14 keeps contact records at least three years after the last collection activity; give 3 or more"
        );
    }
    let sla_hours: u32 =
        kit::config::env_parse("DUNNING_DISPUTE_SLA_HOURS", 48, "a whole number of hours")?;
    let sla_basis = match std::env::var("DUNNING_DISPUTE_SLA_BASIS") {
        Ok(text) if !text.trim().is_empty() => domain::dispute::SlaBasis::parse(text.trim())
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "DUNNING_DISPUTE_SLA_BASIS={text:?}: give calendar_hours or business_hours"
                )
            })?,
        _ => domain::dispute::SlaBasis::CalendarHours,
    };
    let plan_second_approval_above: rust_decimal::Decimal = kit::config::env_parse(
        "DUNNING_PLAN_SECOND_APPROVAL_ABOVE",
        rust_decimal::Decimal::new(50_000, 0),
        "an amount such as 50000.00 (plans above it need a second approver with the risk role)",
    )?;
    let simulated = config.business_clock == kit::config::BusinessClock::Simulated;
    let issuer = std::env::var("DUNNING_NOTICE_ISSUER")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "物业服务中心 · 催收部".to_owned());
    let mut app = kit::App::prepare(config, &MIGRATIONS).await?;
    {
        let mut conn = app.pool.acquire().await?;
        store::contact_log::save_key(&mut conn, key.id(), &key.public_key()).await?;
    }
    // The topics: kit::events::SUBSCRIPTIONS (also the broker's ACLs).
    app.consume(handler::Events {
        outbox: app.outbox.clone(),
    })?;
    daily::spawn(Arc::new(daily::Ladder {
        pool: app.pool.clone(),
        outbox: app.outbox.clone(),
        policy: policy.clone(),
        conduct: conduct.clone(),
        font,
        issuer,
        wait: Duration::from_secs(wait),
    }));
    retention::spawn(app.pool.clone(), retention_years);
    sla::spawn(app.pool.clone(), app.outbox.clone());
    outreach::spawn(
        app.pool.clone(),
        app.outbox.clone(),
        router,
        key.clone(),
        Duration::from_secs(checkpoint_every.max(1)),
    );
    let server = DunningServiceServer::new(api::Api {
        pool: app.pool.clone(),
        outbox: app.outbox.clone(),
        policy,
        conduct,
        key,
        sla: (sla_basis, sla_hours),
        simulated,
        plan_second_approval_above,
    });
    app.serve(
        tonic::service::Routes::new(server),
        &[<DunningServiceServer<api::Api> as NamedService>::NAME],
        stop,
    )
    .await
}
