//! The payments service: bank feed ingestion, payments, matching and exceptions.
//!
//! A bank file is ingested in one transaction with file-level (SHA-256 of the bytes) and
//! line-level (fingerprint of the transaction) idempotency (R-P2). The `cashapp` engine decides
//! every new payment against a read model of open receivables (R-P4: reference, payer account
//! and name, amount, date; R-P6: the receiving account); what it applies is proposed to
//! contracts as allocations, everything else goes to the exception queue with the reason, the
//! candidates and their evidence (R-P5).

mod api;
mod book_to_bank;
pub mod csv;
mod decisions;
mod domain;
mod engine;
mod handler;
mod ingest;
mod intake;
mod redrive;
mod repeats;
mod resolve;
mod store;

use std::sync::Arc;

use proto::payments::v1::payments_service_server::PaymentsServiceServer;
use tonic::server::NamedService;

/// The service name.
pub const SERVICE: &str = "payments";
/// Default gRPC port of the local stack.
pub const DEFAULT_PORT: u16 = 50052;

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Runs the service until `stop` resolves.
pub async fn run(
    config: kit::Config,
    stop: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let engine = Arc::new(engine::Engine::from_env()?);
    let redrive = redrive::Settings::from_env()?;
    let mut app = kit::App::prepare(config, &MIGRATIONS).await?;
    let (pool, outbox) = (app.pool.clone(), app.outbox.clone());
    app.spawn(move |shutdown| redrive::run(pool, outbox, redrive, shutdown));
    app.consume(
        &[kit::events::CONTRACTS],
        handler::ContractEvents {
            outbox: app.outbox.clone(),
            engine: engine.clone(),
        },
    )?;
    let server = PaymentsServiceServer::new(api::Api {
        pool: app.pool.clone(),
        outbox: app.outbox.clone(),
        engine,
    })
    .max_decoding_message_size(ingest::MAX_FILE_BYTES + 4096);
    app.serve(
        tonic::service::Routes::new(server),
        &[<PaymentsServiceServer<api::Api> as NamedService>::NAME],
        stop,
    )
    .await
}
