//! The scoring service: customer credit grades AAA..D with reason codes (R-S1, R-S2),
//! re-computed on every payment and overdue event (R-S3).

pub mod domain;
mod handler;
pub mod scorecard;
pub mod validation;

use proto::scoring::v1 as api;
use proto::scoring::v1::scoring_service_server::{ScoringService, ScoringServiceServer};
use sqlx::PgPool;
use tonic::server::NamedService;
use tonic::{Request, Response, Status};

use kit::{ApiError, wire};

/// The service name.
pub const SERVICE: &str = "scoring";
/// Default gRPC port of the local stack.
pub const DEFAULT_PORT: u16 = 50053;

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Runs the service until `stop` resolves.
pub async fn run(
    config: kit::Config,
    stop: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let mut app = kit::App::prepare(config, &MIGRATIONS).await?;
    // The topics: kit::events::SUBSCRIPTIONS (also the broker's ACLs).
    app.consume(handler::Events {
        outbox: app.outbox.clone(),
    })?;
    let server = ScoringServiceServer::new(Api {
        pool: app.pool.clone(),
    });
    app.serve(
        tonic::service::Routes::new(server),
        &[<ScoringServiceServer<Api> as NamedService>::NAME],
        stop,
    )
    .await
}

/// The gRPC API.
pub struct Api {
    pool: PgPool,
}

#[tonic::async_trait]
impl ScoringService for Api {
    #[tracing::instrument(skip_all)]
    async fn get_score(
        &self,
        request: Request<api::GetScoreRequest>,
    ) -> Result<Response<api::GetScoreResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let customer_id = wire::uuid("customer_id", &request.into_inner().customer_id)?;
        let mut conn = self.pool.acquire().await.map_err(ApiError::from)?;
        // R-O3: a collector reads the scores of their own customers only.
        kit::auth::owners::require_customer(&mut conn, &caller, customer_id).await?;
        type Row = (
            String,
            i32,
            i32,
            Vec<String>,
            String,
            chrono::DateTime<chrono::Utc>,
        );
        let row: Option<Row> = sqlx::query_as(
            "SELECT grade, days_past_due, late_receivables, reason_codes, scorecard_version, updated_at
             FROM scores WHERE customer_id = $1",
        )
        .bind(customer_id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(ApiError::from)?;
        let Some((grade, dpd, late, reasons, version, updated_at)) = row else {
            return Err(
                ApiError::NotFound(format!("no score yet for customer {customer_id}")).into(),
            );
        };
        Ok(Response::new(api::GetScoreResponse {
            score: Some(api::Score {
                customer_id: customer_id.to_string(),
                grade,
                days_past_due: u32::try_from(dpd).unwrap_or_default(),
                late_receivables: u32::try_from(late).unwrap_or_default(),
                reasons: reasons
                    .iter()
                    .map(|code| api::ReasonCode {
                        code: code.clone(),
                        description: scorecard::describe(code).to_owned(),
                    })
                    .collect(),
                scorecard_version: version,
                updated_at: updated_at.to_rfc3339(),
            }),
        }))
    }
}
