//! The contracts service: customers, contracts, payment schedules and receivable balances.
//!
//! Balances live here and nowhere else. Payments proposes allocations by event; this service
//! confirms them (`AllocationApplied`) or refuses them (`AllocationRejected`). The daily
//! cycle moves business time forward and publishes every overdue receivable.

mod allocation_runs;
mod amendments;
mod api;
mod billing;
mod costs;
mod cycle;
pub mod domain;
mod handler;
mod holds;
mod import;
mod owners;
mod plans;
mod statement;
mod store;
mod terms;
mod units;
mod waivers;
mod wire;
mod write_offs;

use proto::contracts::v1::contracts_service_server::ContractsServiceServer;
use tonic::server::NamedService;

/// The service name: consumer group, schema and OTel service name.
pub const SERVICE: &str = "contracts";
/// Default gRPC port of the local stack.
pub const DEFAULT_PORT: u16 = 50051;

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The service's migrations: `contracts migrate` applies them (the migration job), and with
/// `DATABASE_MIGRATE=false` start-up checks they are applied.
#[must_use]
pub fn migrations() -> &'static sqlx::migrate::Migrator {
    &MIGRATIONS
}

/// Columns holding sealed values (R-O4): what `contracts reseal` seals again under the
/// current key.
pub const SEALED_COLUMNS: &[kit::pii::reseal::Column] = &[
    kit::pii::reseal::Column {
        table: "customers",
        key: "id",
        column: "payer_accounts",
        array: true,
        index: None,
    },
    kit::pii::reseal::Column {
        table: "contracts",
        key: "id",
        column: "escrow_account",
        array: false,
        index: None,
    },
];

/// `contracts reseal`: seals every stored account again under `PII_KEY_ID` (key rotation,
/// R-O4), and seals escrow accounts stored in clear before they were sealed.
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
    let terms = std::sync::Arc::new(terms::Terms::from_env()?);
    let pii = kit::pii::Pii::from_env()?;
    // Statements of account are printed in a CJK font (issue 12 item 10): refuse to start
    // without one rather than fail the first GetStatement.
    let font = documents::Font::from_env_or_system().map_err(|e| {
        anyhow::anyhow!(
            "contracts prints statements of account (GetStatement) and needs a CJK font: {e}"
        )
    })?;
    tracing::info!(font = %font.path().display(), "statement font loaded");
    let hold_threshold = match std::env::var("CREDIT_HOLD_OVERDUE_ABOVE") {
        Ok(text) if !text.trim().is_empty() => Some(
            domain::hold::Threshold::parse(&text)
                .map_err(|e| anyhow::anyhow!("CREDIT_HOLD_OVERDUE_ABOVE: {e}"))?,
        ),
        _ => None,
    };
    // R-C2: monthly charges fall due on this day of the following month.
    let billing_due_day = match std::env::var("BILLING_DUE_DAY") {
        Ok(text) if !text.trim().is_empty() => text
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|d| (1..=31).contains(d))
            .ok_or_else(|| anyhow::anyhow!("BILLING_DUE_DAY: {text:?} is not a day 1-31"))?,
        _ => 15,
    };
    // R-P12: the write-offs contracts books without a person, and at most.
    let write_off_limits = write_offs::limits_from_env()?;
    let waiver_second_approval_above: rust_decimal::Decimal = kit::config::env_parse(
        "WAIVER_SECOND_APPROVAL_ABOVE",
        rust_decimal::Decimal::new(10_000, 0),
        "an amount such as 10000.00 (waivers above it need a second approver with the risk role)",
    )?;
    let mut app = kit::App::prepare(config, &MIGRATIONS).await?;
    // The topics: kit::events::SUBSCRIPTIONS (also the broker's ACLs).
    app.consume(handler::Allocations {
        outbox: app.outbox.clone(),
        write_off_limits,
        waiver_second_approval_above,
    })?;
    let api = api::Api {
        pool: app.pool.clone(),
        outbox: app.outbox.clone(),
        terms,
        pii,
        business_clock: app.config.business_clock,
        business_utc_offset: app.config.business_utc_offset,
        hold_threshold,
        font,
        billing_due_day,
        write_off_limits,
        waiver_second_approval_above,
    };
    let server = ContractsServiceServer::new(api);
    app.serve(
        tonic::service::Routes::new(server),
        &[<ContractsServiceServer<api::Api> as NamedService>::NAME],
        stop,
    )
    .await
}
