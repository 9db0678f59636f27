//! The legal service: cases handed over by dunning (R-L1), published on the topic the legal
//! department consumes, moved through their life by the legal department (R-L2, one state
//! machine in `domain::case`), with their costs (R-L6), and flagged for withdrawal when the
//! debtor pays (R-L4).
//!
//! Anatomy (ARCHITECTURE.md): `domain/` pure rules, `store/` all SQL, `api/` gRPC,
//! `events.rs` the consumed events.

pub mod api;
pub mod domain;
mod events;
pub mod evidence;
pub mod store;
pub mod timestamp;

use tonic::server::NamedService;

use proto::legal::v1::legal_service_server::LegalServiceServer;

use crate::api::Api;

/// The service name.
pub const SERVICE: &str = "legal";
/// Default gRPC port of the local stack.
pub const DEFAULT_PORT: u16 = 50055;

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The service's migrations: `legal migrate` applies them (the migration job), and with
/// `DATABASE_MIGRATE=false` start-up checks they are applied.
#[must_use]
pub fn migrations() -> &'static sqlx::migrate::Migrator {
    &MIGRATIONS
}

/// Runs the service until `stop` resolves.
pub async fn run(
    config: kit::Config,
    stop: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // R-L7: the court-fee schedule shipped with the service is checked before anything runs.
    let fees = std::sync::Arc::new(domain::fees::Schedule::national()?);
    // R-L8: the timestamp authority is checked before anything runs, like the signing key.
    let timestamper = timestamp::TsaConfig::from_env(config.production)?
        .map(timestamp::Timestamper::new)
        .transpose()?
        .map(std::sync::Arc::new);
    let mut app = kit::App::prepare(config, &MIGRATIONS).await?;
    // The topics: kit::events::SUBSCRIPTIONS (also the broker's ACLs).
    app.consume(events::Events {
        outbox: app.outbox.clone(),
    })?;
    let server = LegalServiceServer::new(Api {
        pool: app.pool.clone(),
        outbox: app.outbox.clone(),
        fees,
        peers: evidence::Peers::from_env()?,
        signer: std::sync::Arc::new(evidence::signer_from_env(app.config.production)?),
        timestamper,
    })
    // Evidence bundles (R-L3) hold PDFs: larger than gRPC's 4 MiB default.
    .max_encoding_message_size(256 * 1024 * 1024);
    app.serve(
        tonic::service::Routes::new(server),
        &[<LegalServiceServer<Api> as NamedService>::NAME],
        stop,
    )
    .await
}
