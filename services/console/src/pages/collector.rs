//! The collector's pages (R-D11, R-D4, R-D5, R-D8, R-D9): the work queue, a debtor's page
//! and the forms that complete a task, record a promise and open a dispute. What a collector
//! sees is what dunning and contracts answer for their token: their own customers only (R-O3).

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use proto::contracts::v1 as contracts;
use proto::dunning::v1 as dunning;
use proto::types::v1 as types;

use crate::AppState;
use crate::backend::authed;
use crate::i18n::L;
use crate::pages::{self, channel, conduct_reason, layout, money, outcome, short};
use crate::web::{Ctx, Failure, Form};

/// `?ok=…` after a form: which confirmation to show.
#[derive(Debug, serde::Deserialize, Default)]
pub struct Flash {
    ok: Option<String>,
}

/// The confirmation after a form, if any.
pub(crate) fn flash(ctx: &Ctx, flash: &Flash) -> Markup {
    let label = match flash.ok.as_deref() {
        Some("task") => Some(L::TaskCompleted),
        Some("promise") => Some(L::PromiseRecorded),
        Some("dispute") => Some(L::DisputeOpened),
        Some("confirmed") => Some(L::ExceptionConfirmed),
        Some("dismissed") => Some(L::ExceptionDismissed),
        _ => None,
    };
    html! { @if let Some(l) = label { p.flash role="status" { (ctx.t(l)) } } }
}

/// `GET /queue`: the queue ordered by expected recovery, and the open tasks.
pub async fn queue(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(f): Query<Flash>,
) -> Response {
    let ctx = Ctx::new(state, &headers);
    match queue_page(&ctx, &f).await {
        Ok(r) => r,
        Err(e) => ctx.fail(e),
    }
}

async fn queue_page(ctx: &Ctx, f: &Flash) -> Result<Response, Failure> {
    let token = ctx.token()?;
    let mut dunning = ctx.state.backend.dunning.clone();
    let queue = dunning
        .list_queue(authed(
            token,
            dunning::ListQueueRequest {
                owner: String::new(),
                page_size: 200,
            },
        )?)
        .await?
        .into_inner()
        .entries;
    let tasks = dunning
        .list_tasks(authed(
            token,
            dunning::ListTasksRequest {
                page_size: 200,
                ..Default::default()
            },
        )?)
        .await?
        .into_inner()
        .tasks;
    let name_of = |customer: &str| {
        queue
            .iter()
            .find(|e| e.customer_id == customer)
            .map_or_else(|| short(customer).to_owned(), |e| e.name.clone())
    };
    let lang = ctx.lang;
    let body = html! {
        (flash(ctx, f))
        section {
            p.muted { (ctx.t(L::QueueHelp)) }
            @if queue.is_empty() { p { (ctx.t(L::QueueEmpty)) } } @else {
                table #queue {
                    thead { tr {
                        th { (ctx.t(L::Debtor)) } th { (ctx.t(L::Owner)) } th { (ctx.t(L::Grade)) }
                        th.num { (ctx.t(L::DaysOverdue)) } th.num { (ctx.t(L::Collectible)) }
                        th.num { (ctx.t(L::Probability)) } th.num { (ctx.t(L::ExpectedRecovery)) }
                        th { (ctx.t(L::Reasons)) } th { (ctx.t(L::NextTaskDue)) }
                    } }
                    tbody {
                        @for e in &queue {
                            tr data-customer=(e.customer_id) {
                                td { a href=(format!("/customers/{}", e.customer_id)) { (e.name) } }
                                td { (e.owner) } td { (e.grade) }
                                td.num { (e.days_overdue) }
                                td.num { (money(e.collectible.as_ref())) }
                                td.num { (e.probability) }
                                td.num { (money(e.expected_recovery.as_ref())) }
                                td.muted { (e.reasons.join("; ")) }
                                td { (e.next_task_due) }
                            }
                        }
                    }
                }
            }
        }
        h2 { (ctx.t(L::OpenTasks)) }
        section {
            @if tasks.is_empty() { p #no-tasks { (ctx.t(L::NoOpenTasks)) } } @else {
                table #tasks {
                    thead { tr {
                        th { (ctx.t(L::Task)) } th { (ctx.t(L::Debtor)) } th { (ctx.t(L::Channel)) }
                        th { (ctx.t(L::Step)) } th { (ctx.t(L::DueAt)) } th { (ctx.t(L::MovedBecause)) }
                    } }
                    tbody {
                        @for t in &tasks {
                            tr data-task=(t.task_id) {
                                td { a href=(format!("/customers/{}#task-{}", t.customer_id, t.task_id)) title=(t.task_id) { (short(&t.task_id)) } }
                                td { (name_of(&t.customer_id)) }
                                td { (channel(lang, t.channel)) }
                                td { (t.step) }
                                td { (t.due_at) }
                                td.muted { (conduct_reason(lang, t.refused_for)) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(pages::html_response(layout(
        ctx,
        ctx.t(L::QueueTitle),
        "/queue",
        body,
    )))
}

fn receivable_status(value: i32) -> L {
    match contracts::ReceivableStatus::try_from(value) {
        Ok(contracts::ReceivableStatus::Scheduled) => L::RecvScheduled,
        Ok(contracts::ReceivableStatus::PartiallyPaid) => L::RecvPartial,
        Ok(contracts::ReceivableStatus::Paid) => L::RecvPaid,
        Ok(contracts::ReceivableStatus::Overdue) => L::RecvOverdue,
        _ => L::Unknown,
    }
}

/// The earliest of the open tasks' and scheduled messages' due times (RFC 3339), with what
/// moved it: the next time the conduct rules allow a contact that is already planned (R-D9).
pub fn next_allowed_contact<'a>(
    tasks: &'a [dunning::Task],
    messages: &'a [dunning::OutboundMessage],
) -> Option<(&'a str, i32)> {
    let open_tasks = tasks
        .iter()
        .filter(|t| t.status == dunning::TaskStatus::Open as i32)
        .map(|t| (t.due_at.as_str(), t.refused_for));
    let scheduled = messages
        .iter()
        .filter(|m| m.status == dunning::MessageStatus::Scheduled as i32)
        .map(|m| (m.due_at.as_str(), m.refused_for));
    open_tasks
        .chain(scheduled)
        .filter_map(|(at, why)| {
            chrono::DateTime::parse_from_rfc3339(at)
                .ok()
                .map(|t| (t, at, why))
        })
        .min_by_key(|(t, _, _)| *t)
        .map(|(_, at, why)| (at, why))
}

/// `GET /customers/{id}`: the debtor's items, contacts, tasks, promises, disputes and log.
pub async fn debtor(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(f): Query<Flash>,
) -> Response {
    let ctx = Ctx::new(state, &headers);
    match debtor_page(&ctx, &id, &f).await {
        Ok(r) => r,
        Err(e) => ctx.fail(e),
    }
}

#[allow(clippy::too_many_lines)] // one page, read top to bottom
async fn debtor_page(ctx: &Ctx, customer: &str, f: &Flash) -> Result<Response, Failure> {
    let token = ctx.token()?;
    let user = ctx.user()?;
    let mut dunning = ctx.state.backend.dunning.clone();
    let mut contracts_client = ctx.state.backend.contracts.clone();
    let customer_id = customer.to_owned();
    let contacts = match dunning
        .get_contacts(authed(
            token,
            dunning::GetContactsRequest {
                customer_id: customer_id.clone(),
            },
        )?)
        .await
    {
        Ok(r) => r.into_inner().contacts,
        Err(s) if s.code() == tonic::Code::NotFound => None,
        Err(s) => return Err(s.into()),
    };
    let cases = dunning
        .list_cases(authed(
            token,
            dunning::ListCasesRequest {
                customer_id: customer_id.clone(),
                page_size: 100,
                ..Default::default()
            },
        )?)
        .await?
        .into_inner()
        .cases;
    let contract_nos: BTreeSet<String> = cases
        .iter()
        .flat_map(|c| c.items.iter().map(|i| i.contract_no.clone()))
        .collect();
    let mut contract_list = Vec::new();
    for no in contract_nos {
        let contract = contracts_client
            .get_contract(authed(
                token,
                contracts::GetContractRequest {
                    key: Some(contracts::get_contract_request::Key::ContractNo(no)),
                    version: 0,
                },
            )?)
            .await?
            .into_inner()
            .contract;
        contract_list.extend(contract);
    }
    let tasks = dunning
        .list_tasks(authed(
            token,
            dunning::ListTasksRequest {
                customer_id: customer_id.clone(),
                include_done: true,
                page_size: 100,
                ..Default::default()
            },
        )?)
        .await?
        .into_inner()
        .tasks;
    let messages = dunning
        .list_messages(authed(
            token,
            dunning::ListMessagesRequest {
                customer_id: customer_id.clone(),
                page_size: 100,
                ..Default::default()
            },
        )?)
        .await?
        .into_inner()
        .messages;
    let promises = dunning
        .list_promises(authed(
            token,
            dunning::ListPromisesRequest {
                customer_id: customer_id.clone(),
            },
        )?)
        .await?
        .into_inner()
        .promises;
    let disputes = dunning
        .list_disputes(authed(
            token,
            dunning::ListDisputesRequest {
                customer_id: customer_id.clone(),
            },
        )?)
        .await?
        .into_inner()
        .disputes;
    let log = dunning
        .list_contact_log(authed(
            token,
            dunning::ListContactLogRequest {
                customer_id: customer_id.clone(),
                page_size: 100,
                ..Default::default()
            },
        )?)
        .await?
        .into_inner()
        .entries;

    let lang = ctx.lang;
    let name = contacts
        .as_ref()
        .map(|c| c.name.clone())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| short(customer).to_owned());
    let currency = cases
        .iter()
        .flat_map(|c| &c.items)
        .find_map(|i| i.open_amount.as_ref().map(|m| m.currency.clone()))
        .unwrap_or_else(|| "CNY".to_owned());
    let open_items: Vec<&dunning::CaseItem> = cases
        .iter()
        .flat_map(|c| &c.items)
        .filter(|i| i.status == "open")
        .collect();
    let (open_tasks, done_tasks): (Vec<&dunning::Task>, Vec<&dunning::Task>) = tasks
        .iter()
        .partition(|t| t.status == dunning::TaskStatus::Open as i32);
    let next = next_allowed_contact(&tasks, &messages);
    let key = uuid::Uuid::new_v4().to_string();
    let body = html! {
        (flash(ctx, f))
        div.grid {
            section #contacts {
                h2 { (ctx.t(L::Contacts)) }
                dl.kv {
                    @if let Some(c) = &contacts {
                        dt { (ctx.t(L::TimeZone)) } dd { (c.time_zone) }
                        dt { (ctx.t(L::Language)) } dd { (c.language) }
                        dt { (ctx.t(L::ConductProfile)) } dd { (c.conduct_profile) }
                        @for p in &c.contacts {
                            dt { (channel(lang, p.channel)) } dd { (p.address) }
                        }
                    }
                    dt { (ctx.t(L::NextAllowedContact)) }
                    dd #next-contact {
                        @match next {
                            Some((at, why)) => {
                                strong { (at) }
                                @let reason = conduct_reason(lang, why);
                                @if !reason.is_empty() { " (" (ctx.t(L::MovedBecause)) ": " (reason) ")" }
                            }
                            None => { (ctx.t(L::NoneScheduled)) }
                        }
                    }
                }
                p.muted { (ctx.t(L::NextAllowedContactHelp)) }
            }
            section #cases {
                h2 { (ctx.t(L::DunningCase)) }
                @for c in &cases {
                    dl.kv {
                        dt { (ctx.t(L::Status)) } dd { (c.status) }
                        dt { (ctx.t(L::Grade)) } dd { (c.grade) }
                        dt { (ctx.t(L::CurrentStep)) } dd { (c.current_step) }
                        dt { (ctx.t(L::OpenedOn)) } dd { (c.opened_on) }
                        @if c.hold != 0 {
                            dt { (ctx.t(L::Hold)) }
                            dd { (pages::enum_words(types::HoldReason::try_from(c.hold).map(|h| h.as_str_name()).unwrap_or_default(), "HOLD_REASON_")) " · " (c.held_since) }
                        }
                    }
                }
                @if cases.is_empty() { p { (ctx.t(L::NoneYet)) } }
            }
        }
        section #items {
            h2 { (ctx.t(L::Items)) }
            table {
                thead { tr {
                    th { (ctx.t(L::Contract)) } th.num { (ctx.t(L::Installment)) } th { (ctx.t(L::DueDate)) }
                    th.num { (ctx.t(L::Amount)) } th.num { (ctx.t(L::OpenAmount)) } th.num { (ctx.t(L::LateFee)) }
                    th.num { (ctx.t(L::DaysOverdue)) } th { (ctx.t(L::AgingBucket)) } th { (ctx.t(L::Status)) }
                } }
                tbody {
                    @for c in &contract_list {
                        @for r in &c.receivables {
                            tr data-receivable=(r.receivable_id) {
                                td { (c.contract_no) } td.num { (r.installment_no) } td { (r.due_date) }
                                td.num { (money(r.amount.as_ref())) } td.num { (money(r.open_amount.as_ref())) }
                                td.num { (money(r.late_fee.as_ref())) } td.num { (r.days_overdue) }
                                td { (r.aging_bucket) } td { (ctx.t(receivable_status(r.status))) }
                            }
                        }
                    }
                }
            }
        }
        section #tasks {
            h2 { (ctx.t(L::OpenTasks)) }
            @if open_tasks.is_empty() { p { (ctx.t(L::NoOpenTasks)) } }
            @for t in &open_tasks {
                div.task id=(format!("task-{}", t.task_id)) data-task=(t.task_id) {
                    p {
                        span.tag { (channel(lang, t.channel)) } " " (t.step) " · " (ctx.t(L::DueAt)) " " strong { (t.due_at) }
                        @let reason = conduct_reason(lang, t.refused_for);
                        @if !reason.is_empty() { " · " (ctx.t(L::MovedBecause)) ": " (reason) }
                        @if !t.note.is_empty() { " · " span.muted { (t.note) } }
                    }
                    form.stack method="post" action=(format!("/tasks/{}/complete", t.task_id)) {
                        input type="hidden" name="csrf" value=(user.csrf);
                        input type="hidden" name="customer_id" value=(customer);
                        label { (ctx.t(L::Outcome))
                            select name="outcome" {
                                @let delivery = t.channel == types::ContactChannel::DoorNotice as i32 || t.channel == types::ContactChannel::Letter as i32;
                                @for (o, l) in pages::OUTCOMES {
                                    @let chosen = if delivery { *o == types::ContactOutcome::Delivered } else { *o == types::ContactOutcome::Answered };
                                    option value=(*o as i32) selected[chosen] { (ctx.t(*l)) }
                                }
                            }
                        }
                        label { (ctx.t(L::Note)) input type="text" name="note" maxlength="500"; }
                        button type="submit" { (ctx.t(L::CompleteTask)) }
                    }
                }
            }
            @if !done_tasks.is_empty() {
                h2 { (ctx.t(L::CompletedTasks)) }
                table #done-tasks {
                    tbody {
                        @for t in &done_tasks {
                            tr data-task=(t.task_id) {
                                td { (channel(lang, t.channel)) } td { (t.step) }
                                td { (outcome(lang, t.outcome)) } td { (t.completed_by) } td { (t.completed_at) }
                                td.muted { (t.note) }
                            }
                        }
                    }
                }
            }
        }
        div.grid {
            section #promises {
                h2 { (ctx.t(L::Promises)) }
                @if promises.is_empty() { p { (ctx.t(L::NoneYet)) } } @else {
                    table { tbody {
                        @for p in &promises {
                            tr {
                                td { (money(p.amount.as_ref())) } td { (p.promised_date) }
                                td { (ctx.t(promise_status(p.status))) } td { (p.made_by) } td.muted { (p.note) }
                            }
                        }
                    } }
                }
                h2 { (ctx.t(L::MakePromise)) }
                form.stack method="post" action=(format!("/customers/{customer}/promises")) {
                    input type="hidden" name="csrf" value=(user.csrf);
                    input type="hidden" name="idempotency_key" value=(format!("console-promise-{key}"));
                    input type="hidden" name="currency" value=(currency);
                    label { (ctx.t(L::Amount)) " (" (currency) ")" input type="text" name="amount" inputmode="decimal" required; }
                    label { (ctx.t(L::PromisedDate)) input type="date" name="promised_date" required; }
                    label { (ctx.t(L::GraceDays)) input type="number" name="grace_days" min="0" max="30" value="0"; }
                    label { (ctx.t(L::Note)) input type="text" name="note" maxlength="500"; }
                    button type="submit" { (ctx.t(L::Submit)) }
                }
            }
            section #disputes {
                h2 { (ctx.t(L::Disputes)) }
                @if disputes.is_empty() { p { (ctx.t(L::NoneYet)) } } @else {
                    table { tbody {
                        @for d in &disputes {
                            tr {
                                td { (d.reason) } td { (ctx.t(dispute_status(d.status))) }
                                td { (ctx.t(L::Deadline)) " " (d.deadline) } td { (d.opened_by) }
                            }
                        }
                    } }
                }
                @if !open_items.is_empty() {
                    h2 { (ctx.t(L::OpenDispute)) }
                    form.stack method="post" action=(format!("/customers/{customer}/disputes")) {
                        input type="hidden" name="csrf" value=(user.csrf);
                        input type="hidden" name="idempotency_key" value=(format!("console-dispute-{key}"));
                        fieldset {
                            legend { (ctx.t(L::DisputedItems)) }
                            @for i in &open_items {
                                label { input type="checkbox" name="receivable_id" value=(i.receivable_id); " " (i.contract_no) " " (i.due_date) " " (money(i.open_amount.as_ref())) }
                            }
                        }
                        label { (ctx.t(L::Reason)) input type="text" name="reason" maxlength="500" required; }
                        button type="submit" { (ctx.t(L::Submit)) }
                    }
                }
            }
        }
        section #log {
            h2 { (ctx.t(L::ContactLog)) }
            @if log.is_empty() { p { (ctx.t(L::NoneYet)) } } @else {
                table {
                    thead { tr {
                        th { "#" } th { (ctx.t(L::At)) } th { (ctx.t(L::Channel)) } th { (ctx.t(L::Outcome)) }
                        th { (ctx.t(L::Actor)) } th { (ctx.t(L::Template)) } th { (ctx.t(L::Proof)) }
                    } }
                    tbody {
                        @for e in &log {
                            tr {
                                td { (e.seq) } td { (e.at) } td { (channel(lang, e.channel)) }
                                td { (outcome(lang, e.outcome)) } td { (e.actor) } td.muted { (e.template) }
                                td.muted { (e.proof_kind) }
                            }
                        }
                    }
                }
            }
        }
        section #messages {
            h2 { (ctx.t(L::Messages)) }
            @if messages.is_empty() { p { (ctx.t(L::NoneYet)) } } @else {
                table { tbody {
                    @for m in &messages {
                        tr {
                            td { (channel(lang, m.channel)) } td { (m.to) } td.muted { (m.template) }
                            td { (m.due_at) } td { (pages::enum_words(dunning::MessageStatus::try_from(m.status).map(|s| s.as_str_name()).unwrap_or_default(), "MESSAGE_STATUS_")) }
                            td.muted { (conduct_reason(lang, m.refused_for)) }
                        }
                    }
                } }
            }
        }
    };
    Ok(pages::html_response(layout(
        ctx,
        &format!("{} · {name}", ctx.t(L::DebtorTitle)),
        "/queue",
        body,
    )))
}

fn promise_status(value: i32) -> L {
    match dunning::PromiseStatus::try_from(value) {
        Ok(dunning::PromiseStatus::Open) => L::PromiseOpen,
        Ok(dunning::PromiseStatus::Kept) => L::PromiseKept,
        Ok(dunning::PromiseStatus::Broken) => L::PromiseBroken,
        _ => L::Unknown,
    }
}

fn dispute_status(value: i32) -> L {
    match dunning::DisputeStatus::try_from(value) {
        Ok(dunning::DisputeStatus::Open) => L::DisputeOpenStatus,
        Ok(dunning::DisputeStatus::Rejected) => L::DisputeRejectedStatus,
        Ok(dunning::DisputeStatus::Upheld) => L::DisputeUpheldStatus,
        _ => L::Unknown,
    }
}

/// Runs a form handler: parses the body, checks CSRF, shows a failure as a page.
pub(crate) async fn handle_form<F, Fut>(
    state: Arc<AppState>,
    headers: &HeaderMap,
    body: &[u8],
    run: F,
) -> Response
where
    F: FnOnce(Arc<Ctx>, Form) -> Fut,
    Fut: Future<Output = Result<Response, Failure>>,
{
    let ctx = Arc::new(Ctx::new(state, headers));
    let form = match Form::parse(body) {
        Ok(f) => f,
        Err(e) => return ctx.fail(e),
    };
    if let Err(e) = ctx.check_form(&form) {
        return ctx.fail(e);
    }
    match run(ctx.clone(), form).await {
        Ok(r) => r,
        Err(e) => ctx.fail(e),
    }
}

/// `POST /tasks/{id}/complete`: the outcome of the call or visit, entered by the person who
/// made it (the service records the caller, R-D4).
pub async fn complete_task(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(task_id): Path<String>,
    body: Bytes,
) -> Response {
    handle_form(state, &headers, &body, |ctx, form| async move {
        let outcome: i32 = form
            .required("outcome")?
            .parse()
            .map_err(|_| Failure::BadInput("outcome".into()))?;
        let customer = form.required("customer_id")?.to_owned();
        let mut dunning = ctx.state.backend.dunning.clone();
        dunning
            .complete_task(authed(
                ctx.token()?,
                dunning::CompleteTaskRequest {
                    task_id,
                    outcome,
                    note: form.get("note").to_owned(),
                    ..Default::default()
                },
            )?)
            .await?;
        Ok(Redirect::to(&format!("/customers/{}?ok=task", urlencode(&customer))).into_response())
    })
    .await
}

/// `POST /customers/{id}/promises` (R-D5).
pub async fn make_promise(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(customer): Path<String>,
    body: Bytes,
) -> Response {
    handle_form(state, &headers, &body, |ctx, form| async move {
        let grace_days = match form.get("grace_days") {
            "" => 0,
            v => v
                .parse()
                .map_err(|_| Failure::BadInput("grace_days".into()))?,
        };
        let mut dunning = ctx.state.backend.dunning.clone();
        dunning
            .make_promise(authed(
                ctx.token()?,
                dunning::MakePromiseRequest {
                    idempotency_key: form.required("idempotency_key")?.to_owned(),
                    customer_id: customer.clone(),
                    amount: Some(types::Money {
                        amount: form.required("amount")?.replace([',', ' '], ""),
                        currency: form.required("currency")?.to_owned(),
                    }),
                    promised_date: form.required("promised_date")?.to_owned(),
                    grace_days,
                    note: form.get("note").to_owned(),
                    ..Default::default()
                },
            )?)
            .await?;
        Ok(
            Redirect::to(&format!("/customers/{}?ok=promise", urlencode(&customer)))
                .into_response(),
        )
    })
    .await
}

/// `POST /customers/{id}/disputes` (R-D8).
pub async fn open_dispute(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(customer): Path<String>,
    body: Bytes,
) -> Response {
    handle_form(state, &headers, &body, |ctx, form| async move {
        let items = form.all("receivable_id");
        if items.is_empty() {
            return Err(Failure::BadInput("receivable_id".into()));
        }
        let mut dunning = ctx.state.backend.dunning.clone();
        dunning
            .open_dispute(authed(
                ctx.token()?,
                dunning::OpenDisputeRequest {
                    idempotency_key: form.required("idempotency_key")?.to_owned(),
                    customer_id: customer.clone(),
                    receivable_ids: items,
                    reason: form.required("reason")?.to_owned(),
                },
            )?)
            .await?;
        Ok(
            Redirect::to(&format!("/customers/{}?ok=dispute", urlencode(&customer)))
                .into_response(),
        )
    })
    .await
}

/// A path segment, percent-encoded.
pub fn urlencode(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_allowed_contact_is_the_earliest_planned_one() {
        let task = |due: &str, status: dunning::TaskStatus| dunning::Task {
            due_at: due.into(),
            status: status as i32,
            refused_for: types::ConductReason::QuietHours as i32,
            ..Default::default()
        };
        let message = |due: &str, status: dunning::MessageStatus| dunning::OutboundMessage {
            due_at: due.into(),
            status: status as i32,
            ..Default::default()
        };
        let tasks = [
            task("2026-03-03T08:00:00+08:00", dunning::TaskStatus::Open),
            task("2026-03-01T08:00:00+08:00", dunning::TaskStatus::Done),
        ];
        let messages = [
            message(
                "2026-03-03T01:00:00+00:00",
                dunning::MessageStatus::Scheduled,
            ),
            message(
                "2026-02-01T01:00:00+00:00",
                dunning::MessageStatus::Delivered,
            ),
        ];
        // 08:00+08:00 is 00:00 UTC, before the message at 01:00 UTC; done and delivered
        // ones are history, not plans.
        assert_eq!(
            next_allowed_contact(&tasks, &messages),
            Some((
                "2026-03-03T08:00:00+08:00",
                types::ConductReason::QuietHours as i32
            ))
        );
        assert_eq!(next_allowed_contact(&[], &messages[1..]), None);
    }

    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(urlencode("01abc-DEF"), "01abc-DEF");
        assert_eq!(urlencode("a/b?c"), "a%2Fb%3Fc");
    }
}
