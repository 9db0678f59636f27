//! The legal department's pages (R-L2, R-L3, R-L7, R-L8): cases, a case with its history,
//! fees and limitation, and the evidence bundle as a file download. The bundle is assembled
//! by legal from contracts and dunning with the person's own token, so it holds what they may
//! see.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use maud::html;

use proto::legal::v1 as legal;
use proto::types::v1 as types;

use crate::AppState;
use crate::backend::authed;
use crate::i18n::{L, Lang};
use crate::pages::collector::urlencode;
use crate::pages::{self, layout, money, short};
use crate::web::{Ctx, Failure};

/// A case status in words.
pub fn case_status(lang: Lang, value: i32) -> &'static str {
    use types::CaseStatus as S;
    let label = match S::try_from(value) {
        Ok(S::Opened) => L::CaseOpened,
        Ok(S::LawyersLetterSent) => L::CaseLawyersLetter,
        Ok(S::PaymentOrderApplied) => L::CasePaymentOrder,
        Ok(S::LitigationFiled) => L::CaseLitigation,
        Ok(S::Judgment) => L::CaseJudgment,
        Ok(S::Enforcement) => L::CaseEnforcement,
        Ok(S::Closed) => L::CaseClosed,
        _ => L::Unknown,
    };
    label.t(lang)
}

/// `GET /legal`.
pub async fn cases(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let ctx = Ctx::new(state, &headers);
    match cases_page(&ctx).await {
        Ok(r) => r,
        Err(e) => ctx.fail(e),
    }
}

async fn cases_page(ctx: &Ctx) -> Result<Response, Failure> {
    let token = ctx.token()?;
    let list = ctx
        .state
        .backend
        .legal
        .clone()
        .list_cases(authed(
            token,
            legal::ListCasesRequest {
                page_size: 200,
                ..Default::default()
            },
        )?)
        .await?
        .into_inner()
        .cases;
    let lang = ctx.lang;
    let body = html! {
        section {
            @if list.is_empty() { p { (ctx.t(L::NoCases)) } } @else {
                table #cases {
                    thead { tr {
                        th { (ctx.t(L::Case)) } th { (ctx.t(L::Debtor)) } th { (ctx.t(L::Status)) }
                        th { (ctx.t(L::OpenedOn)) } th.num { (ctx.t(L::AmountClaimed)) }
                        th { (ctx.t(L::WithdrawalFlagged)) } th { (ctx.t(L::Limitation)) }
                    } }
                    tbody {
                        @for c in &list {
                            tr data-case=(c.case_id) {
                                td { a href=(format!("/legal/{}", urlencode(&c.case_id))) title=(c.case_id) { (short(&c.case_id)) } }
                                td title=(c.customer_id) { (short(&c.customer_id)) }
                                td { (case_status(lang, c.status)) }
                                td { (c.opened_on) }
                                td.num { (money(c.amount_claimed.as_ref())) }
                                td { (if c.withdrawal_flagged { ctx.t(L::Yes) } else { ctx.t(L::No) }) }
                                td { (c.limitation.as_ref().map(|l| l.expires_on.clone()).unwrap_or_default()) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(pages::html_response(layout(
        ctx,
        ctx.t(L::LegalTitle),
        "/legal",
        body,
    )))
}

/// `GET /legal/{id}`.
pub async fn case(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let ctx = Ctx::new(state, &headers);
    match case_page(&ctx, id).await {
        Ok(r) => r,
        Err(e) => ctx.fail(e),
    }
}

async fn case_page(ctx: &Ctx, case_id: String) -> Result<Response, Failure> {
    let token = ctx.token()?;
    let c = ctx
        .state
        .backend
        .legal
        .clone()
        .get_case(authed(token, legal::GetCaseRequest { case_id })?)
        .await?
        .into_inner()
        .legal_case
        .ok_or_else(|| Failure::Status(tonic::Status::not_found("no case in the answer")))?;
    let lang = ctx.lang;
    let body = html! {
        div.grid {
            section #case {
                dl.kv {
                    dt { (ctx.t(L::Case)) } dd { code { (c.case_id) } }
                    dt { (ctx.t(L::Debtor)) } dd { code { (c.customer_id) } }
                    dt { (ctx.t(L::Status)) } dd #case-status { (case_status(lang, c.status)) }
                    dt { (ctx.t(L::OpenedOn)) } dd { (c.opened_on) }
                    dt { (ctx.t(L::AmountClaimed)) } dd { (money(c.amount_claimed.as_ref())) }
                    dt { (ctx.t(L::WithdrawalFlagged)) } dd { (if c.withdrawal_flagged { ctx.t(L::Yes) } else { ctx.t(L::No) }) }
                    @if let Some(l) = &c.limitation {
                        dt { (ctx.t(L::Limitation)) } dd { (l.expires_on) " (" (l.days_left) ")" }
                    }
                    @if let Some(f) = &c.court_fees {
                        @if !f.schedule_id.is_empty() {
                            dt { (ctx.t(L::CourtFees)) }
                            dd { (f.schedule_id) ": " (money(f.payment_order_fee.as_ref())) " / " (money(f.acceptance_fee.as_ref())) }
                        }
                    }
                }
            }
            section #bundle {
                h2 { (ctx.t(L::DownloadBundle)) }
                p.muted { (ctx.t(L::BundleHelp)) }
                p { a #bundle-link href=(format!("/legal/{}/bundle", urlencode(&c.case_id))) download { (ctx.t(L::DownloadBundle)) } }
            }
        }
        section #receivables {
            h2 { (ctx.t(L::Receivables)) }
            table {
                thead { tr { th { (ctx.t(L::Contract)) } th.num { (ctx.t(L::Claimed)) } th.num { (ctx.t(L::OpenAmount)) } } }
                tbody {
                    @for r in &c.receivables {
                        tr { td { (r.contract_no) } td.num { (money(r.claimed.as_ref())) } td.num { (money(r.open_amount.as_ref())) } }
                    }
                }
            }
        }
        section #history {
            h2 { (ctx.t(L::History)) }
            @if c.history.is_empty() { p { (ctx.t(L::NoneYet)) } }
            ul { @for s in &c.history {
                li { (s.date) " · " (case_status(lang, s.from_status)) " → " (case_status(lang, s.to_status)) " · " (s.actor) " " span.muted { (s.document_reference) " " (s.reason) } }
            } }
            h2 { (ctx.t(L::Costs)) }
            ul { @for e in &c.events { li { (e.recorded_at) " · " (e.kind) ": " (e.detail) } } }
        }
    };
    Ok(pages::html_response(layout(
        ctx,
        &format!("{} {}", ctx.t(L::Case), short(&c.case_id)),
        "/legal",
        body,
    )))
}

/// `GET /legal/{id}/bundle`: the evidence bundle as a zip download.
pub async fn bundle(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(case_id): Path<String>,
) -> Response {
    let ctx = Ctx::new(state, &headers);
    match bundle_file(&ctx, case_id).await {
        Ok(r) => r,
        Err(e) => ctx.fail(e),
    }
}

/// A file name safe in a header: letters, digits, `-`, `_`, `.` only.
pub fn safe_file_name(name: &str, fallback: &str) -> String {
    let cleaned: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    if cleaned.is_empty() || cleaned.starts_with('.') {
        fallback.to_owned()
    } else {
        cleaned
    }
}

async fn bundle_file(ctx: &Ctx, case_id: String) -> Result<Response, Failure> {
    let token = ctx.token()?;
    let answer = ctx
        .state
        .backend
        .legal
        .clone()
        .get_evidence_bundle(authed(
            token,
            legal::GetEvidenceBundleRequest {
                case_id: case_id.clone(),
            },
        )?)
        .await?
        .into_inner();
    let name = safe_file_name(&answer.file_name, "evidence.zip");
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .map_err(|e| Failure::Internal(anyhow::anyhow!("content-disposition: {e}")))?;
    let root = HeaderValue::from_str(&safe_file_name(&answer.root_sha256, ""))
        .unwrap_or(HeaderValue::from_static(""));
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/zip"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::HeaderName::from_static("x-evidence-root-sha256"),
                root,
            ),
        ],
        answer.bundle,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_names_cannot_break_the_header() {
        assert_eq!(
            safe_file_name("evidence-01ab-20260301.zip", "x"),
            "evidence-01ab-20260301.zip"
        );
        assert_eq!(safe_file_name("a\"; b\r\n.zip", "x"), "ab.zip");
        assert_eq!(safe_file_name("../..", "x"), "x");
        assert_eq!(safe_file_name("", "evidence.zip"), "evidence.zip");
    }
}
