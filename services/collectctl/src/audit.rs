//! `collectctl audit`: who did what, from one service's audit trail (R-O3). For auditors
//! (and admins); text for people, `--json` for machines.

use std::fmt::Write as _;

use clap::Args;
use proto::audit::v1 as api;

use crate::cli::Outcome;
use crate::service;

#[derive(Args)]
pub(crate) struct AuditArgs {
    /// Whose trail: contracts, payments, scoring, dunning or legal.
    #[arg(long)]
    service: String,
    /// The service's URL (default: $<SERVICE>_URL, else the local stack's port).
    #[arg(long)]
    url: Option<String>,
    /// Only calls by this principal.
    #[arg(long, default_value = "")]
    principal: String,
    /// Only this method, e.g. /receivables.payments.v1.PaymentsService/ResolveException.
    #[arg(long, default_value = "")]
    method: String,
    /// Only this outcome, e.g. PERMISSION_DENIED or OK.
    #[arg(long, default_value = "")]
    outcome: String,
    /// Only records at or after this time (RFC 3339).
    #[arg(long, default_value = "")]
    since: String,
    /// At most this many, newest first (1 to 500).
    #[arg(long, default_value_t = 50)]
    limit: u32,
    /// Continue with the next page: the `next` token a previous page printed.
    #[arg(long, default_value = "")]
    after: String,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: AuditArgs) -> Outcome {
    service::block_on(async move {
        let mut client = service::audit(&args.service, args.url.clone()).await?;
        let page = client
            .list_audit_records(api::ListAuditRecordsRequest {
                page_size: args.limit,
                page_token: args.after.clone(),
                principal: args.principal.clone(),
                method: args.method.clone(),
                outcome: args.outcome.clone(),
                since: args.since.clone(),
            })
            .await
            .map_err(service::status)?
            .into_inner();
        if args.json {
            return Ok(serde_json::to_string_pretty(&serde_json::json!({
                "service": args.service,
                "records": page.records.iter().map(|r| serde_json::json!({
                    "record_id": r.record_id,
                    "recorded_at": r.recorded_at,
                    "principal": r.principal,
                    "auth_method": api::AuthMethod::try_from(r.auth_method).map(|m| m.as_str_name()).unwrap_or("AUTH_METHOD_UNSPECIFIED"),
                    "roles": r.roles,
                    "method": r.method,
                    "resource_ids": r.resource_ids,
                    "outcome": r.outcome,
                    "reason": r.reason,
                    "trace_id": r.trace_id,
                })).collect::<Vec<_>>(),
                "next": page.next_page_token,
            }))?);
        }
        let mut out = format!(
            "{} audit records of {} (newest first)\n",
            page.records.len(),
            args.service
        );
        for r in &page.records {
            let who = if r.principal.is_empty() {
                "(unauthenticated)".to_owned()
            } else {
                format!("{} [{}]", r.principal, r.roles.join(","))
            };
            let method = r.method.rsplit('/').next().unwrap_or(&r.method);
            let _ = write!(out, "{}  {:<18} {who}  {method}", r.recorded_at, r.outcome);
            if !r.resource_ids.is_empty() {
                let _ = write!(out, "  {}", r.resource_ids.join(" "));
            }
            if !r.reason.is_empty() {
                let _ = write!(out, "\n    why: {}", r.reason);
            }
            out.push('\n');
        }
        if !page.next_page_token.is_empty() {
            let _ = write!(
                out,
                "more: collectctl audit --service {} --after {}",
                args.service, page.next_page_token
            );
        }
        Ok(out.trim_end().to_owned())
    })
}
