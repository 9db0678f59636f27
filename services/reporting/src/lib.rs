//! The reporting service (R-O1, R-O2, R-O7, R-O8): a read model of every service's events,
//! owning nothing the others own. From it: aging by bucket, the period's KPIs (collection
//! rate, overdue rate, DSO, CEI, average collection days), roll rates, bad-debt provisions by
//! the provision matrix with the draft voucher for their change, recovery by dunning step,
//! per-collector KPIs, the 12-week cash-inflow forecast with its backtest, the month-end pack
//! (PDF/HTML, with payments' book-to-bank, R-P7) and the trace of one debt across the services.

mod api;
pub mod domain;
mod events;
mod pack;
mod pack_api;
pub mod peers;
mod reports;
pub mod store;

use std::sync::Arc;

use proto::reporting::v1::reporting_service_server::ReportingServiceServer;
use tonic::server::NamedService;

pub use api::Api;

/// The service name.
pub const SERVICE: &str = "reporting";
/// Default gRPC port of the local stack.
pub const DEFAULT_PORT: u16 = 50056;

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The service's migrations: `reporting migrate` applies them (the migration job), and with
/// `DATABASE_MIGRATE=false` start-up checks they are applied.
#[must_use]
pub fn migrations() -> &'static sqlx::migrate::Migrator {
    &MIGRATIONS
}

/// The provision matrix: `REPORTING_PROVISION_MATRIX` (a JSON file like
/// `provisions/matrix-v1.json`), or the shipped one.
///
/// # Errors
/// The file cannot be read or is not a valid matrix; the message names the variable.
pub fn matrix_from_env() -> anyhow::Result<domain::provision::Matrix> {
    match std::env::var("REPORTING_PROVISION_MATRIX") {
        Err(_) => {
            domain::provision::Matrix::parse(domain::provision::SHIPPED).map_err(anyhow::Error::msg)
        }
        Ok(path) => {
            let text = std::fs::read_to_string(&path).map_err(|e| {
                anyhow::anyhow!(
                    "REPORTING_PROVISION_MATRIX={path}: cannot read it ({e}); point it at a \
                     matrix file like services/reporting/provisions/matrix-v1.json"
                )
            })?;
            domain::provision::Matrix::parse(&text)
                .map_err(|e| anyhow::anyhow!("REPORTING_PROVISION_MATRIX={path}: {e}"))
        }
    }
}

/// Runs the service until `stop` resolves.
pub async fn run(
    config: kit::Config,
    stop: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let matrix = Arc::new(matrix_from_env()?);
    let business_offset = config.business_utc_offset;
    let mut app = kit::App::prepare(config, &MIGRATIONS).await?;
    // The topics: kit::events::SUBSCRIPTIONS (also the broker's ACLs).
    app.consume(events::Events { business_offset })?;
    // The month-end pack is printed in a CJK font; without one only its HTML twin is served.
    let font = match documents::Font::from_env_or_system() {
        Ok(font) => Some(font),
        Err(e) => {
            tracing::warn!(error = %e, "no CJK font: the month-end pack is served as HTML only");
            None
        }
    };
    let peers = peers::Peers::from_env()?;
    let server = ReportingServiceServer::new(Api {
        pool: app.pool.clone(),
        matrix,
        business_offset,
        font,
        peers,
    });
    app.serve(
        tonic::service::Routes::new(server),
        &[<ReportingServiceServer<Api> as NamedService>::NAME],
        stop,
    )
    .await
}
