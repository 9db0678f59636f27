//! The dunning service: delinquency cases, the escalation ladder and its action log.
//!
//! Configuration beyond the kit's: `DUNNING_ESCALATE_AFTER_DAYS` (default 30) and
//! `DUNNING_ESCALATE_MIN_AMOUNT` (default 5000, R-D7).

pub mod backtest;
pub mod channel;
pub mod domain;
mod handler;
pub mod ladder;
pub mod notice;
pub mod policy;
pub mod store;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::PgPool;
use tonic::server::NamedService;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use kit::paging::Paging;
use kit::{ApiError, wire};
use proto::dunning::v1 as api;
use proto::dunning::v1::dunning_service_server::{DunningService, DunningServiceServer};

/// The service name.
pub const SERVICE: &str = "dunning";
/// Default gRPC port of the local stack.
pub const DEFAULT_PORT: u16 = 50054;

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Runs the service until `stop` resolves.
pub async fn run(
    config: kit::Config,
    stop: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let defaults = ladder::Policy::default();
    let policy = ladder::Policy {
        escalate_after_days: kit::config::env_parse(
            "DUNNING_ESCALATE_AFTER_DAYS",
            defaults.escalate_after_days,
            "a whole number of days",
        )?,
        escalate_min_amount: kit::config::env_parse(
            "DUNNING_ESCALATE_MIN_AMOUNT",
            defaults.escalate_min_amount,
            "a decimal amount such as 5000",
        )?,
        notice_fee: kit::config::env_parse(
            "DUNNING_NOTICE_FEE",
            defaults.notice_fee,
            "a decimal amount such as 20.00 (0: no notice fee)",
        )?,
    };
    if policy.notice_fee.is_sign_negative() || policy.notice_fee.scale() > 2 {
        anyhow::bail!(
            "DUNNING_NOTICE_FEE={} is not an amount of money: give a positive amount with at most two decimals, or 0 for none",
            policy.notice_fee
        );
    }
    tracing::info!(?policy, "dunning policy");
    let mut app = kit::App::prepare(config, &MIGRATIONS).await?;
    // The topics: kit::events::SUBSCRIPTIONS (also the broker's ACLs).
    app.consume(handler::Events {
        outbox: app.outbox.clone(),
        policy,
    })?;
    let server = DunningServiceServer::new(Api {
        pool: app.pool.clone(),
    });
    app.serve(
        tonic::service::Routes::new(server),
        &[<DunningServiceServer<Api> as NamedService>::NAME],
        stop,
    )
    .await
}

/// The gRPC API.
pub struct Api {
    pool: PgPool,
}

#[tonic::async_trait]
impl DunningService for Api {
    #[tracing::instrument(skip_all)]
    async fn list_cases(
        &self,
        request: Request<api::ListCasesRequest>,
    ) -> Result<Response<api::ListCasesResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let request = request.into_inner();
        // One customer's cases, or (empty customer_id) every case the caller may see.
        let customer_id = match request.customer_id.as_str() {
            "" => None,
            id => Some(wire::uuid("customer_id", id)?),
        };
        // R-O3: a collector lists the cases of their own customers only, a supervisor their
        // team's: one customer's are refused outside the scope, the full list is filtered.
        if let Some(customer_id) = customer_id {
            let mut conn = self.pool.acquire().await.map_err(ApiError::from)?;
            kit::auth::owners::require_customer(&mut conn, &caller, customer_id).await?;
        }
        let (scope_mode, scope_value) = kit::auth::owners::params(&caller.scope);
        let paging = Paging::<(NaiveDate, Uuid)>::parse(
            &format!(
                "dunning.ListCases {} {scope_mode} {scope_value}",
                customer_id.map(|c| c.to_string()).unwrap_or_default()
            ),
            request.page_size,
            &request.page_token,
        )?;
        let (after_date, after_id) = paging.after().copied().unzip();
        let cases: Vec<(Uuid, String, String, String, NaiveDate, Uuid)> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT id, status, current_step, grade, opened_on, customer_id FROM cases
                 WHERE ($1::UUID IS NULL OR customer_id = $1)
                   AND ($2::date IS NULL OR (opened_on, id) > ($2, $3))
                   AND {}
                 ORDER BY opened_on, id LIMIT $4",
                kit::auth::owners::visible_customers("customer_id", 5, 6)
            )))
            .bind(customer_id)
            .bind(after_date)
            .bind(after_id)
            .bind(paging.fetch_limit())
            .bind(scope_mode)
            .bind(&scope_value)
            .fetch_all(&self.pool)
            .await
            .map_err(ApiError::from)?;
        let (cases, next_page_token) = paging.finish(cases, |c| (c.4, c.0));
        let mut out = Vec::with_capacity(cases.len());
        for (case_id, status, current_step, grade, opened_on, customer_id) in cases {
            caller.touch("case", case_id);
            type Item = (
                Uuid,
                String,
                NaiveDate,
                i32,
                Decimal,
                String,
                String,
                Decimal,
            );
            let items: Vec<Item> = sqlx::query_as(
                "SELECT receivable_id, contract_no, due_date, days_overdue, open_amount, currency, status, late_fee
                 FROM case_items WHERE case_id = $1 ORDER BY due_date",
            )
            .bind(case_id)
            .fetch_all(&self.pool)
            .await
            .map_err(ApiError::from)?;
            out.push(api::DunningCase {
                case_id: case_id.to_string(),
                customer_id: customer_id.to_string(),
                status,
                current_step,
                grade,
                opened_on: opened_on.to_string(),
                items: items
                    .into_iter()
                    .map(
                        |(id, contract_no, due, days, open, currency, status, fee)| api::CaseItem {
                            receivable_id: id.to_string(),
                            contract_no,
                            due_date: due.to_string(),
                            days_overdue: u32::try_from(days).unwrap_or_default(),
                            open_amount: Some(wire::money(open, currency.trim())),
                            status,
                            late_fee: Some(wire::money(fee, currency.trim())),
                        },
                    )
                    .collect(),
            });
        }
        Ok(Response::new(api::ListCasesResponse {
            cases: out,
            next_page_token,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_actions(
        &self,
        request: Request<api::ListActionsRequest>,
    ) -> Result<Response<api::ListActionsResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let request = request.into_inner();
        let case_id = wire::uuid("case_id", &request.case_id)?;
        caller.touch("case", case_id);
        let mut conn = self.pool.acquire().await.map_err(ApiError::from)?;
        let owner: Option<Uuid> = sqlx::query_scalar("SELECT customer_id FROM cases WHERE id = $1")
            .bind(case_id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(ApiError::from)?;
        let Some(customer_id) = owner else {
            return Err(ApiError::NotFound(format!("no dunning case with id {case_id}")).into());
        };
        // R-O3: a collector reads the actions of their own customers' cases only.
        kit::auth::owners::require_customer(&mut conn, &caller, customer_id).await?;
        drop(conn);
        let paging = Paging::<(chrono::DateTime<chrono::Utc>, Uuid)>::parse(
            &format!("dunning.ListActions {case_id}"),
            request.page_size,
            &request.page_token,
        )?;
        let (after_at, after_id) = paging.after().copied().unzip();
        type Row = (
            Uuid,
            String,
            Vec<Uuid>,
            i32,
            NaiveDate,
            String,
            chrono::DateTime<chrono::Utc>,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, step, receivable_ids, days_overdue, business_date, detail, recorded_at
             FROM actions WHERE case_id = $1 AND ($2::timestamptz IS NULL OR (recorded_at, id) > ($2, $3))
             ORDER BY recorded_at, id LIMIT $4",
        )
        .bind(case_id)
        .bind(after_at)
        .bind(after_id)
        .bind(paging.fetch_limit())
        .fetch_all(&self.pool)
        .await
        .map_err(ApiError::from)?;
        let (rows, next_page_token) = paging.finish(rows, |r| (r.6, r.0));
        let actions = rows
            .into_iter()
            .map(
                |(id, step, receivables, days, date, detail, recorded)| api::Action {
                    action_id: id.to_string(),
                    case_id: case_id.to_string(),
                    step,
                    receivable_ids: receivables.iter().map(Uuid::to_string).collect(),
                    days_overdue: u32::try_from(days).unwrap_or_default(),
                    business_date: date.to_string(),
                    detail,
                    recorded_at: recorded.to_rfc3339(),
                },
            )
            .collect();
        Ok(Response::new(api::ListActionsResponse {
            actions,
            next_page_token,
        }))
    }
}
