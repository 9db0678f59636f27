//! Finance's pages (R-P5, R-P4): the exception queue with each exception's evidence and
//! candidates, confirmed or dismissed by the signed-in cashier (payments records the caller as
//! the one who decided, R-O3), and the recent payments with their allocations.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

use proto::payments::v1 as payments;

use crate::AppState;
use crate::backend::authed;
use crate::i18n::L;
use crate::pages::collector::{Flash, flash, handle_form};
use crate::pages::{self, layout, money};
use crate::web::{Ctx, Failure};

/// `GET /exceptions`.
pub async fn exceptions(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(f): Query<Flash>,
) -> Response {
    let ctx = Ctx::new(state, &headers);
    match exceptions_page(&ctx, &f).await {
        Ok(r) => r,
        Err(e) => ctx.fail(e),
    }
}

async fn exceptions_page(ctx: &Ctx, f: &Flash) -> Result<Response, Failure> {
    let token = ctx.token()?;
    let user = ctx.user()?;
    let answer = ctx
        .state
        .backend
        .payments
        .clone()
        .list_exceptions(authed(
            token,
            payments::ListExceptionsRequest {
                page_size: 100,
                ..Default::default()
            },
        )?)
        .await?
        .into_inner();
    let body = html! {
        (flash(ctx, f))
        p.muted { (ctx.t(L::ExceptionsHelp)) }
        @if !answer.counts.is_empty() {
            p #counts { (ctx.t(L::OpenByKind)) ": "
                @for c in &answer.counts { span.tag { (c.kind) " " (c.open) } " " }
            }
        }
        @if answer.exceptions.is_empty() { section { p #no-exceptions { (ctx.t(L::NoExceptions)) } } }
        @for e in &answer.exceptions {
            section.exception id=(format!("exception-{}", e.exception_id)) data-exception=(e.exception_id) data-payment=(e.payment_id) {
                h2 { span.tag { (e.kind) } " " (money(e.amount.as_ref())) }
                dl.kv {
                    dt { (ctx.t(L::Reason)) } dd { (e.reason) }
                    @for a in &e.also { dt {} dd { (a) } }
                    dt { (ctx.t(L::Reference)) } dd { (e.reference) }
                    dt { (ctx.t(L::SuggestedAction)) } dd { (e.suggested_action) }
                    dt { (ctx.t(L::At)) } dd { (e.created_at) }
                    @if !e.subject.is_empty() { dt {} dd { (e.subject) } }
                }
                h2 { (ctx.t(L::Candidates)) }
                @for (n, c) in e.candidates.iter().enumerate() {
                    div.candidate data-candidate=(n) {
                        p { strong { (c.customer_name) } " · " (c.contract_nos.join(", ")) " · " (ctx.t(L::Confidence)) " " (format!("{}.{:02}%", c.confidence / 100, c.confidence % 100)) }
                        ul { @for ev in &c.evidence { li { (ev) } } }
                        @if !c.allocations.is_empty() {
                            p.muted { (ctx.t(L::WouldAllocate)) ": "
                                @for a in &c.allocations { (a.receivable_ref) " " (money(a.amount.as_ref())) "; " }
                            }
                        }
                        form.stack method="post" action=(format!("/exceptions/{}/resolve", e.exception_id)) {
                            input type="hidden" name="csrf" value=(user.csrf);
                            input type="hidden" name="action" value="confirm";
                            input type="hidden" name="candidate" value=(n);
                            label { (ctx.t(L::Note)) input type="text" name="note" maxlength="500"; }
                            button type="submit" { (ctx.t(L::Confirm)) }
                        }
                    }
                }
                @if e.candidates.is_empty() { p { (ctx.t(L::NoneYet)) } }
                form.stack method="post" action=(format!("/exceptions/{}/resolve", e.exception_id)) {
                    input type="hidden" name="csrf" value=(user.csrf);
                    input type="hidden" name="action" value="dismiss";
                    label { (ctx.t(L::Note)) " (" (ctx.t(L::DismissNoteRequired)) ")" input type="text" name="note" maxlength="500" required; }
                    button.secondary type="submit" { (ctx.t(L::Dismiss)) }
                }
            }
        }
    };
    Ok(pages::html_response(layout(
        ctx,
        ctx.t(L::ExceptionsTitle),
        "/exceptions",
        body,
    )))
}

/// `POST /exceptions/{id}/resolve`: confirm candidate N, or dismiss with a note.
pub async fn resolve(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(exception_id): Path<String>,
    body: Bytes,
) -> Response {
    handle_form(state, &headers, &body, |ctx, form| async move {
        let (action, ok) = match form.required("action")? {
            "confirm" => (
                payments::resolve_exception_request::Action::ConfirmCandidate(
                    form.required("candidate")?
                        .parse()
                        .map_err(|_| Failure::BadInput("candidate".into()))?,
                ),
                "confirmed",
            ),
            "dismiss" => (
                payments::resolve_exception_request::Action::Dismiss(true),
                "dismissed",
            ),
            _ => return Err(Failure::BadInput("action".into())),
        };
        ctx.state
            .backend
            .payments
            .clone()
            .resolve_exception(authed(
                ctx.token()?,
                payments::ResolveExceptionRequest {
                    exception_id,
                    action: Some(action),
                    note: form.get("note").to_owned(),
                },
            )?)
            .await?;
        Ok(Redirect::to(&format!("/exceptions?ok={ok}")).into_response())
    })
    .await
}

fn status(value: i32) -> L {
    match payments::PaymentStatus::try_from(value) {
        Ok(payments::PaymentStatus::Matched) => L::PaymentMatched,
        Ok(payments::PaymentStatus::Allocated) => L::PaymentAllocated,
        Ok(payments::PaymentStatus::Exception) => L::PaymentException,
        _ => L::Unknown,
    }
}

/// `GET /payments`: the newest payments (the last page of the list), newest first.
pub async fn payments(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let ctx = Ctx::new(state, &headers);
    match payments_page(&ctx).await {
        Ok(r) => r,
        Err(e) => ctx.fail(e),
    }
}

async fn payments_page(ctx: &Ctx) -> Result<Response, Failure> {
    let token = ctx.token()?;
    let mut client = ctx.state.backend.payments.clone();
    // The list is oldest first and paged: walk to its end (bounded), keep the newest.
    let mut all = Vec::new();
    let mut page_token = String::new();
    for _ in 0..50 {
        let page = client
            .list_payments(authed(
                token,
                payments::ListPaymentsRequest {
                    page_size: 1000,
                    page_token: page_token.clone(),
                    ..Default::default()
                },
            )?)
            .await?
            .into_inner();
        all.extend(page.payments);
        if page.next_page_token.is_empty() || page.next_page_token == page_token {
            break;
        }
        page_token = page.next_page_token;
        if all.len() > 5000 {
            all.drain(..all.len() - 200);
        }
    }
    let newest: Vec<&payments::Payment> = all.iter().rev().take(200).collect();
    let lang = ctx.lang;
    let body = html! {
        section {
            table #payments {
                thead { tr {
                    th { (ctx.t(L::BookingDate)) } th.num { (ctx.t(L::Amount)) } th { (ctx.t(L::Payer)) }
                    th { (ctx.t(L::PayerAccount)) } th { (ctx.t(L::Reference)) } th { (ctx.t(L::Status)) }
                    th { (ctx.t(L::Allocations)) }
                } }
                tbody {
                    @for p in &newest {
                        tr data-payment=(p.payment_id) data-status=(payments::PaymentStatus::try_from(p.status).map(|s| s.as_str_name()).unwrap_or_default()) {
                            td { (p.booking_date) } td.num { (money(p.amount.as_ref())) } td { (p.payer_name) }
                            td { (p.payer_account_masked) } td { (p.reference) }
                            td { (status(p.status).t(lang)) }
                            td { @for a in &p.allocations { (a.receivable_ref) " " (money(a.amount.as_ref())) " (" (a.status) ") " } }
                        }
                    }
                }
            }
            @if newest.is_empty() { p { (ctx.t(L::NoData)) } }
        }
    };
    Ok(pages::html_response(layout(
        ctx,
        ctx.t(L::PaymentsTitle),
        "/payments",
        body,
    )))
}
