//! The payments service: bank feed ingestion, payments, matching and exceptions.
//!
//! A bank file is ingested in one transaction with file-level (SHA-256 of the bytes) and
//! line-level (fingerprint of the transaction) idempotency (R-P2). The `cashapp` engine decides
//! every new payment against a read model of open receivables (R-P4: reference, payer account
//! and name, amount, date; R-P6: the receiving account); what it applies is proposed to
//! contracts as allocations, everything else goes to the exception queue with the reason, the
//! candidates and their evidence (R-P5).
//!
//! # Layout (the service anatomy of ARCHITECTURE.md)
//!
//! - `lib.rs`: wiring only (configuration, migrations, the consumer, the reconciler, the
//!   gRPC server; `payments reseal`).
//! - `domain/`: pure rules and typed values, no sqlx, tonic or rdkafka: `status` (payment
//!   and allocation statuses, the allocation machine proposed → applied | rejected, and the
//!   exception kinds), `repeats` (a line seen again: linked or DUPLICATE, R-P2/R-P5),
//!   `book_to_bank` (per account and day, R-P7), `refund` (the refund machine and how much
//!   may be refunded, R-P9).
//! - `store/`: every SQL statement of the service, named by intent and split by concern
//!   (`files`, `lines`, `statements`, `payments`, `allocations`, `exceptions`,
//!   `refunds`, `receivables` — the read model of contracts' open receivables — and `ledger`); functions
//!   take the caller's transaction (`&mut PgConnection`) or the pool and return FromRow
//!   structs. Accounts are stored sealed with blind indexes and masked forms (R-O4).
//! - `api.rs`: the gRPC methods: parse the request, call the use case or the store, map the
//!   response. The use cases it calls: `ingest` (one file in one transaction, with `intake`
//!   and `csv` reading the formats and `repeats` deciding lines seen again), `resolve` (a
//!   person decides an exception), `refunds` (R-P9: one person requests a refund of an
//!   unapplied surplus, another approves or rejects it), `book_to_bank` (the report).
//! - `events.rs`: the events consumed from contracts as one typed enum (`wants` derived from
//!   it), one function per event.
//! - `desk`: money that does not start as a bank line (R-P1, R-P3, R-P7): receipts for
//!   cash at the finance desk (numbered without gaps, voided by two people), the day's cash
//!   count and the deposit the bank will show, acknowledgments of cheques, drafts, bills
//!   and slips that a bank line clears, bounces, and what is unreconciled after two hours;
//!   its rules are `domain::desk`.
//! - `decisions`: carrying out the engine's decision (allocations proposed to contracts,
//!   exceptions raised) and the events payments emits for them; `engine`: the cached
//!   cash-application ledger shared by replicas; `redrive`: the reconciler that proposes an
//!   unanswered allocation again and then raises ALLOCATION_STUCK.

mod api;
mod book_to_bank;
mod bulk;
mod contract_runs;
pub mod csv;
mod decisions;
mod desk;
mod domain;
mod engine;
mod events;
mod ingest;
mod intake;
mod redrive;
mod refunds;
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

/// The service's migrations: `payments migrate` applies them (the migration job), and with
/// `DATABASE_MIGRATE=false` start-up checks they are applied.
#[must_use]
pub fn migrations() -> &'static sqlx::migrate::Migrator {
    &MIGRATIONS
}

/// Columns holding sealed values (R-O4): what `payments reseal` seals again under the
/// current key, recomputing each blind index. The two `open_receivables` columns hold values
/// only in rows built from ContractSigned of schema version 1 (sealed payer accounts, a
/// clear escrow account); re-sealing them also gives those rows indexes under
/// `PII_INDEX_KEY`.
pub const SEALED_COLUMNS: &[kit::pii::reseal::Column] = &[
    kit::pii::reseal::Column {
        table: "payments",
        key: "id",
        column: "payer_account",
        array: false,
        index: Some("payer_account_index"),
    },
    kit::pii::reseal::Column {
        table: "payments",
        key: "id",
        column: "receiving_account",
        array: false,
        index: Some("receiving_account_index"),
    },
    kit::pii::reseal::Column {
        table: "open_receivables",
        key: "receivable_id",
        column: "payer_accounts",
        array: true,
        index: Some("payer_account_indexes"),
    },
    kit::pii::reseal::Column {
        table: "open_receivables",
        key: "receivable_id",
        column: "escrow_account",
        array: false,
        index: Some("escrow_account_index"),
    },
];

/// `payments reseal`: seals every stored account again under `PII_KEY_ID` (key rotation,
/// R-O4). Run it with the service stopped when it moves rows of schema version 1 (their
/// indexes change, and a running process keeps its ledger).
pub async fn reseal(config: kit::Config) -> anyhow::Result<()> {
    let pool = kit::db::connect(&config).await?;
    kit::db::prepare_schema(&pool, &config, &MIGRATIONS).await?;
    kit::pii::reseal::command(&pool, SEALED_COLUMNS).await
}

/// Runs the service until `stop` resolves.
pub async fn run(
    config: kit::Config,
    stop: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let engine = Arc::new(engine::Engine::from_env()?);
    let redrive = redrive::Settings::from_env()?;
    let desk = Arc::new(desk::Settings::from_env(config.business_utc_offset)?);
    // Receipts and acknowledgments are printed in a CJK font (RenderReceipt): refuse to
    // start without one rather than fail the first print.
    let font = documents::Font::from_env_or_system().map_err(|e| {
        anyhow::anyhow!("payments prints receipts (RenderReceipt) and needs a CJK font: {e}")
    })?;
    let mut app = kit::App::prepare(config, &MIGRATIONS).await?;
    let (pool, outbox) = (app.pool.clone(), app.outbox.clone());
    app.spawn(move |shutdown| redrive::run(pool, outbox, redrive, shutdown));
    // The topics: kit::events::SUBSCRIPTIONS (also the broker's ACLs).
    app.consume(events::ContractEvents {
        outbox: app.outbox.clone(),
        engine: engine.clone(),
    })?;
    let server = PaymentsServiceServer::new(api::Api {
        pool: app.pool.clone(),
        outbox: app.outbox.clone(),
        engine,
        desk,
        font,
    })
    .max_decoding_message_size(ingest::MAX_FILE_BYTES + 4096);
    app.serve(
        tonic::service::Routes::new(server),
        &[<PaymentsServiceServer<api::Api> as NamedService>::NAME],
        stop,
    )
    .await
}
