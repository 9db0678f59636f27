//! The audit trail (R-O3): one append-only row per call in the service's own schema, read by
//! auditors through `receivables.audit.v1.AuditService`.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tonic::{Request, Response, Status};

use proto::audit::v1 as api;
use proto::audit::v1::audit_service_server::AuditService;

use super::{AuthMethod, Caller};
use crate::ApiError;

/// One call, as recorded.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Subject, or "" when unauthenticated.
    pub principal: String,
    /// How they authenticated.
    pub method: AuthMethod,
    /// Their roles.
    pub roles: Vec<String>,
    /// gRPC method path.
    pub rpc: String,
    /// What the call touched.
    pub resources: Vec<String>,
    /// gRPC status code name.
    pub outcome: String,
    /// Why it failed or was refused.
    pub reason: String,
    /// W3C trace id.
    pub trace_id: String,
}

/// Writes `entry`. A failure is logged loudly and returned: the caller decides.
pub async fn record(pool: &PgPool, entry: &Entry) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log (principal, auth_method, roles, method, resource_ids, outcome, reason, trace_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&entry.principal)
    .bind(entry.method.as_str())
    .bind(&entry.roles)
    .bind(&entry.rpc)
    .bind(&entry.resources)
    .bind(&entry.outcome)
    .bind(truncate(&entry.reason, 1000))
    .bind(&entry.trace_id)
    .execute(pool)
    .await
    .map(|_| ())
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    recorded_at: DateTime<Utc>,
    principal: String,
    auth_method: String,
    roles: Vec<String>,
    method: String,
    resource_ids: Vec<String>,
    outcome: String,
    reason: String,
    trace_id: String,
}

const DEFAULT_PAGE: u32 = 100;
const MAX_PAGE: u32 = 500;

/// `AuditService` over the service's own trail.
#[derive(Debug, Clone)]
pub struct AuditApi {
    pool: PgPool,
}

impl AuditApi {
    /// The API over `pool`'s schema.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[tonic::async_trait]
impl AuditService for AuditApi {
    async fn list_audit_records(
        &self,
        request: Request<api::ListAuditRecordsRequest>,
    ) -> Result<Response<api::ListAuditRecordsResponse>, Status> {
        let caller = Caller::of(&request)?;
        let request = request.into_inner();
        let page_size = match request.page_size {
            0 => DEFAULT_PAGE,
            n if n <= MAX_PAGE => n,
            n => {
                return Err(
                    ApiError::invalid("page_size", format!("{n} is more than {MAX_PAGE}")).into(),
                );
            }
        };
        let before: Option<i64> = match request.page_token.as_str() {
            "" => None,
            token => Some(token.parse().ok().filter(|id| *id > 0).ok_or_else(|| {
                ApiError::invalid(
                    "page_token",
                    "not a token this service issued; pass next_page_token unchanged",
                )
            })?),
        };
        let since: Option<DateTime<Utc>> = match request.since.as_str() {
            "" => None,
            s => Some(
                DateTime::parse_from_rfc3339(s)
                    .map_err(|e| {
                        ApiError::invalid(
                            "since",
                            format!("not RFC 3339 ({e}), e.g. 2026-12-03T08:00:00Z"),
                        )
                    })?
                    .with_timezone(&Utc),
            ),
        };
        for (field, value) in [
            ("principal", &request.principal),
            ("method", &request.method),
            ("outcome", &request.outcome),
        ] {
            if value.len() > 300 {
                return Err(ApiError::invalid(field, "longer than 300 characters").into());
            }
        }
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, recorded_at, principal, auth_method, roles, method, resource_ids, outcome, reason, trace_id
             FROM audit_log
             WHERE ($1::BIGINT IS NULL OR id < $1)
               AND ($2 = '' OR principal = $2)
               AND ($3 = '' OR method = $3)
               AND ($4 = '' OR outcome = $4)
               AND ($5::TIMESTAMPTZ IS NULL OR recorded_at >= $5)
             ORDER BY id DESC
             LIMIT $6",
        )
        .bind(before)
        .bind(&request.principal)
        .bind(&request.method)
        .bind(&request.outcome)
        .bind(since)
        .bind(i64::from(page_size) + 1)
        .fetch_all(&self.pool)
        .await
        .map_err(ApiError::from)?;
        caller.touch(
            "audit_log",
            format!("{} rows", rows.len().min(page_size as usize)),
        );
        let more = rows.len() > page_size as usize;
        let records: Vec<api::AuditRecord> = rows
            .into_iter()
            .take(page_size as usize)
            .map(|r| api::AuditRecord {
                record_id: r.id,
                recorded_at: r
                    .recorded_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                principal: r.principal,
                auth_method: match r.auth_method.as_str() {
                    "token" => api::AuthMethod::Token,
                    "mtls" => api::AuthMethod::Mtls,
                    _ => api::AuthMethod::None,
                } as i32,
                roles: r.roles,
                method: r.method,
                resource_ids: r.resource_ids,
                outcome: r.outcome,
                reason: r.reason,
                trace_id: r.trace_id,
            })
            .collect();
        let next_page_token = if more {
            records
                .last()
                .map(|r| r.record_id.to_string())
                .unwrap_or_default()
        } else {
            String::new()
        };
        Ok(Response::new(api::ListAuditRecordsResponse {
            records,
            next_page_token,
        }))
    }
}
