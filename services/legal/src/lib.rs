//! The legal service: cases handed over by dunning (R-L1), published on the topic the legal
//! department consumes, and flagged for withdrawal when the debtor pays (R-L4).

mod costs;
mod handler;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::PgPool;
use tonic::server::NamedService;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use kit::{ApiError, wire};
use proto::legal::v1 as api;
use proto::legal::v1::legal_service_server::{LegalService, LegalServiceServer};

/// The service name.
pub const SERVICE: &str = "legal";
/// Default gRPC port of the local stack.
pub const DEFAULT_PORT: u16 = 50055;

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
    let server = LegalServiceServer::new(Api {
        pool: app.pool.clone(),
        outbox: app.outbox.clone(),
    });
    app.serve(
        tonic::service::Routes::new(server),
        &[<LegalServiceServer<Api> as NamedService>::NAME],
        stop,
    )
    .await
}

/// The gRPC API.
pub struct Api {
    pool: PgPool,
    outbox: kit::outbox::Outbox,
}

type CaseRow = (Uuid, Uuid, Uuid, String, Decimal, String, bool, NaiveDate);

impl Api {
    async fn load(&self, row: CaseRow) -> Result<api::LegalCase, ApiError> {
        let (id, customer_id, dunning_case_id, currency, claimed, status, flagged, opened_on) = row;
        let currency = currency.trim().to_owned();
        let receivables: Vec<(Uuid, String, Decimal, Decimal)> = sqlx::query_as(
            "SELECT receivable_id, contract_no, claimed, open_amount FROM case_receivables WHERE case_id = $1",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let events: Vec<(String, String, chrono::DateTime<chrono::Utc>)> = sqlx::query_as(
            "SELECT kind, detail, recorded_at FROM case_events WHERE case_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        Ok(api::LegalCase {
            case_id: id.to_string(),
            customer_id: customer_id.to_string(),
            dunning_case_id: dunning_case_id.to_string(),
            status,
            amount_claimed: Some(wire::money(claimed, &currency)),
            withdrawal_flagged: flagged,
            opened_on: opened_on.to_string(),
            receivables: receivables
                .into_iter()
                .map(|(rid, contract_no, claimed, open)| api::CaseReceivable {
                    receivable_id: rid.to_string(),
                    contract_no,
                    claimed: Some(wire::money(claimed, &currency)),
                    open_amount: Some(wire::money(open, &currency)),
                })
                .collect(),
            events: events
                .into_iter()
                .map(|(kind, detail, at)| api::CaseEvent {
                    kind,
                    detail,
                    recorded_at: at.to_rfc3339(),
                })
                .collect(),
        })
    }
}

const CASE_COLUMNS: &str = "SELECT id, customer_id, dunning_case_id, currency, amount_claimed, status, withdrawal_flagged, opened_on FROM cases ";

#[tonic::async_trait]
impl LegalService for Api {
    #[tracing::instrument(skip_all)]
    async fn get_case(
        &self,
        request: Request<api::GetCaseRequest>,
    ) -> Result<Response<api::GetCaseResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let case_id = wire::uuid("case_id", &request.into_inner().case_id)?;
        caller.touch("legal_case", case_id);
        let row: Option<CaseRow> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{CASE_COLUMNS} WHERE id = $1")))
                .bind(case_id)
                .fetch_optional(&self.pool)
                .await
                .map_err(ApiError::from)?;
        let row = row.ok_or_else(|| ApiError::NotFound(format!("no legal case {case_id}")))?;
        Ok(Response::new(api::GetCaseResponse {
            legal_case: Some(self.load(row).await?),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_cases(
        &self,
        request: Request<api::ListCasesRequest>,
    ) -> Result<Response<api::ListCasesResponse>, Status> {
        let request = request.into_inner();
        let customer_id = if request.customer_id.is_empty() {
            None
        } else {
            Some(wire::uuid("customer_id", &request.customer_id)?)
        };
        let status = match request.status.as_str() {
            "" => None,
            "opened" | "withdrawal_requested" => Some(request.status.clone()),
            other => {
                return Err(ApiError::invalid(
                    "status",
                    format!("{other:?} is not a case status; use opened or withdrawal_requested"),
                )
                .into());
            }
        };
        let paging = kit::paging::Paging::<(NaiveDate, Uuid)>::parse(
            &format!("legal.ListCases customer_id={customer_id:?} status={status:?}"),
            request.page_size,
            &request.page_token,
        )?;
        let (after_date, after_id) = paging.after().copied().unzip();
        let rows: Vec<CaseRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{CASE_COLUMNS} WHERE ($1::uuid IS NULL OR customer_id = $1) AND ($2::text IS NULL OR status = $2)
               AND ($3::date IS NULL OR (opened_on, id) > ($3, $4))
             ORDER BY opened_on, id LIMIT $5"
        )))
        .bind(customer_id)
        .bind(status)
        .bind(after_date)
        .bind(after_id)
        .bind(paging.fetch_limit())
        .fetch_all(&self.pool)
        .await
        .map_err(ApiError::from)?;
        let (rows, next_page_token) = paging.finish(rows, |r| (r.7, r.0));
        let mut cases = Vec::with_capacity(rows.len());
        for row in rows {
            cases.push(self.load(row).await?);
        }
        Ok(Response::new(api::ListCasesResponse {
            cases,
            next_page_token,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn record_case_cost(
        &self,
        request: Request<api::RecordCaseCostRequest>,
    ) -> Result<Response<api::RecordCaseCostResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let mut tx = self.pool.begin().await.map_err(ApiError::from)?;
        let response =
            costs::record(&mut tx, &self.outbox, caller.subject(), request.get_ref()).await?;
        tx.commit().await.map_err(ApiError::from)?;
        caller.touch("case_cost", &response.cost_id);
        Ok(Response::new(response))
    }
}
