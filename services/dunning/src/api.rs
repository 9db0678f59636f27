//! The gRPC API: thin. Every call is authenticated and authorised by role before it gets
//! here (kit's auth layer, `access.txt`); here each one checks the caller's scope over the
//! customer (R-O3), validates its input naming the field, and calls the store or the domain.
//! Contact addresses go out masked.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use sqlx::PgPool;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use kit::paging::Paging;
use kit::{ApiError, wire};
use proto::dunning::v1 as api;
use proto::dunning::v1::dunning_service_server::DunningService;
use proto::types::v1::{ConductReason, ContactChannel, ContactOutcome, HoldReason};

use crate::domain::contact_log::{
    self, Actor, Channel, CheckpointError, DeliveryProof, Digest, Draft, Entry, Outcome, Tamper,
};
use crate::outreach::{Conduct, Outgoing, SigningKey, mask};
use crate::policy::Policy;
use crate::store::{
    self,
    contacts::{Debtor, MessageRow, NoticeRow, TaskRow},
};

/// The gRPC API.
pub struct Api {
    pub(crate) pool: PgPool,
    pub(crate) outbox: kit::outbox::Outbox,
    pub(crate) policy: Arc<Policy>,
    pub(crate) conduct: Arc<Conduct>,
    pub(crate) key: Arc<SigningKey>,
    /// How dispute deadlines are counted, and how many hours (R-D8).
    pub(crate) sla: (crate::domain::dispute::SlaBasis, u32),
    /// BUSINESS_CLOCK=simulated: MoveClock is allowed.
    pub(crate) simulated: bool,
    /// A repayment plan above this total needs a second approver with the risk role (R-D6).
    pub(crate) plan_second_approval_above: Decimal,
}

/// The wire form of a channel.
#[must_use]
pub fn channel_to_wire(channel: Channel) -> ContactChannel {
    match channel {
        Channel::Sms => ContactChannel::Sms,
        Channel::Email => ContactChannel::Email,
        Channel::AppMessage => ContactChannel::AppMessage,
        Channel::PhoneCall => ContactChannel::PhoneCall,
        Channel::Letter => ContactChannel::Letter,
        Channel::DoorNotice => ContactChannel::DoorNotice,
        Channel::Visit => ContactChannel::Visit,
        Channel::LawyerLetter => ContactChannel::LawyerLetter,
        Channel::PaymentOrderRequest => ContactChannel::PaymentOrderRequest,
        Channel::LitigationHandoff => ContactChannel::LitigationHandoff,
    }
}

fn channel_from_wire(field: &str, value: i32) -> Result<Channel, ApiError> {
    let channel = match ContactChannel::try_from(value) {
        Ok(ContactChannel::Sms) => Channel::Sms,
        Ok(ContactChannel::Email) => Channel::Email,
        Ok(ContactChannel::AppMessage) => Channel::AppMessage,
        Ok(ContactChannel::PhoneCall) => Channel::PhoneCall,
        Ok(ContactChannel::Letter) => Channel::Letter,
        Ok(ContactChannel::DoorNotice) => Channel::DoorNotice,
        Ok(ContactChannel::Visit) => Channel::Visit,
        Ok(ContactChannel::LawyerLetter) => Channel::LawyerLetter,
        Ok(ContactChannel::PaymentOrderRequest) => Channel::PaymentOrderRequest,
        Ok(ContactChannel::LitigationHandoff) => Channel::LitigationHandoff,
        Ok(ContactChannel::Unspecified) | Err(_) => {
            return Err(ApiError::invalid(
                field,
                format!("{value} is not a contact channel: give one such as CONTACT_CHANNEL_SMS"),
            ));
        }
    };
    Ok(channel)
}

fn channel_text_to_wire(text: &str) -> i32 {
    Channel::parse(text).map_or(0, |c| channel_to_wire(c) as i32)
}

/// The wire form of a contact outcome.
pub(crate) fn outcome_to_wire(outcome: Outcome) -> ContactOutcome {
    match outcome {
        Outcome::Sent => ContactOutcome::Sent,
        Outcome::Delivered => ContactOutcome::Delivered,
        Outcome::Failed => ContactOutcome::Failed,
        Outcome::Returned => ContactOutcome::Returned,
        Outcome::Answered => ContactOutcome::Answered,
        Outcome::NoAnswer => ContactOutcome::NoAnswer,
        Outcome::Refused => ContactOutcome::Refused,
        Outcome::PromiseMade => ContactOutcome::PromiseMade,
        Outcome::Disputed => ContactOutcome::Disputed,
        Outcome::WrongNumber => ContactOutcome::WrongNumber,
    }
}

fn outcome_from_wire(value: i32) -> Result<Outcome, ApiError> {
    Ok(match ContactOutcome::try_from(value) {
        Ok(ContactOutcome::Sent) => Outcome::Sent,
        Ok(ContactOutcome::Delivered) => Outcome::Delivered,
        Ok(ContactOutcome::Failed) => Outcome::Failed,
        Ok(ContactOutcome::Returned) => Outcome::Returned,
        Ok(ContactOutcome::Answered) => Outcome::Answered,
        Ok(ContactOutcome::NoAnswer) => Outcome::NoAnswer,
        Ok(ContactOutcome::Refused) => Outcome::Refused,
        Ok(ContactOutcome::PromiseMade) => Outcome::PromiseMade,
        Ok(ContactOutcome::Disputed) => Outcome::Disputed,
        Ok(ContactOutcome::WrongNumber) => Outcome::WrongNumber,
        Ok(ContactOutcome::Unspecified) | Err(_) => {
            return Err(ApiError::invalid(
                "outcome",
                "give what came of the contact, e.g. CONTACT_OUTCOME_ANSWERED or CONTACT_OUTCOME_NO_ANSWER",
            ));
        }
    })
}

fn reason_to_wire(reason: Option<&str>) -> i32 {
    (match reason {
        Some("QUIET_HOURS") => ConductReason::QuietHours,
        Some("FREQUENCY_CAP") => ConductReason::FrequencyCap,
        Some("HOLIDAY") => ConductReason::Holiday,
        Some("THIRD_PARTY_DISCLOSURE") => ConductReason::ThirdPartyDisclosure,
        _ => ConductReason::Unspecified,
    }) as i32
}

fn hold_to_wire(reason: Option<&str>) -> i32 {
    (match reason {
        Some("ALREADY_TODAY") => HoldReason::AlreadyToday,
        Some("SPACING") => HoldReason::Spacing,
        Some("OLDEST_ITEM_CHANGED") => HoldReason::OldestItemChanged,
        Some("WAITING_FOR_NEXT_STEP") => HoldReason::WaitingForNextStep,
        Some("PROMISE_TO_PAY") => HoldReason::PromiseToPay,
        Some("REPAYMENT_PLAN") => HoldReason::RepaymentPlan,
        _ => HoldReason::Unspecified,
    }) as i32
}

fn time(field: &str, value: &str) -> Result<DateTime<Utc>, ApiError> {
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            ApiError::invalid(
                field,
                format!("{value:?} is not an RFC 3339 time such as 2026-03-02T22:15:00+08:00: {e}"),
            )
        })
}

fn opt_time(field: &str, value: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
    match value {
        "" => Ok(None),
        v => time(field, v).map(Some),
    }
}

fn message_to_wire(m: MessageRow) -> api::OutboundMessage {
    let status = match m.status.as_str() {
        "scheduled" => api::MessageStatus::Scheduled,
        "delivered" => api::MessageStatus::Delivered,
        _ => api::MessageStatus::Failed,
    };
    api::OutboundMessage {
        message_id: m.id.to_string(),
        customer_id: m.customer_id.to_string(),
        channel: channel_text_to_wire(&m.channel),
        to: mask(&m.address),
        template: m.template,
        language: m.language,
        requested_at: m.requested_at.to_rfc3339(),
        due_at: m.due_at.to_rfc3339(),
        refused_for: reason_to_wire(m.refused_for.as_deref()),
        status: status as i32,
        attempts: u32::try_from(m.attempts).unwrap_or_default(),
        failure: m.failure,
        notice_id: m.notice_id.map(|n| n.to_string()).unwrap_or_default(),
        requested_by: m.requested_by,
        contact_log_seq: m
            .contact_log_seq
            .and_then(|s| u64::try_from(s).ok())
            .unwrap_or_default(),
    }
}

fn task_to_wire(t: TaskRow) -> api::Task {
    api::Task {
        task_id: t.id.to_string(),
        customer_id: t.customer_id.to_string(),
        case_id: t.case_id.map(|c| c.to_string()).unwrap_or_default(),
        channel: channel_text_to_wire(&t.channel),
        step: t.step,
        requested_at: t.requested_at.to_rfc3339(),
        due_at: t.due_at.to_rfc3339(),
        refused_for: reason_to_wire(t.refused_for.as_deref()),
        assignee: t.assignee,
        status: if t.status == "done" {
            api::TaskStatus::Done
        } else {
            api::TaskStatus::Open
        } as i32,
        outcome: t
            .outcome
            .as_deref()
            .and_then(Outcome::parse)
            .map_or(0, |o| outcome_to_wire(o) as i32),
        completed_by: t.completed_by.unwrap_or_default(),
        completed_at: t.completed_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
        note: t.note,
        notice_id: t.notice_id.map(|n| n.to_string()).unwrap_or_default(),
        contact_log_seq: t
            .contact_log_seq
            .and_then(|s| u64::try_from(s).ok())
            .unwrap_or_default(),
        created_by: t.created_by,
    }
}

fn notice_to_wire(n: &NoticeRow) -> api::Notice {
    api::Notice {
        notice_id: n.id.to_string(),
        customer_id: n.customer_id.to_string(),
        case_id: n.case_id.to_string(),
        step: n.step.clone(),
        occurrence: u32::try_from(n.occurrence).unwrap_or_default(),
        business_date: n.business_date.to_string(),
        total: Some(wire::money(n.total, &n.currency)),
        fee: Some(wire::money(n.fee, &n.currency)),
        sha256: hex::encode(&n.sha256),
        pay_by: n.pay_by.to_string(),
        language: n.language.clone(),
        number: n.number.clone(),
    }
}

fn entry_to_wire(e: &Entry) -> api::ContactLogEntry {
    let d = &e.draft;
    api::ContactLogEntry {
        seq: e.seq,
        case_id: d.case_id.to_string(),
        customer_id: d.customer_id.to_string(),
        channel: channel_to_wire(d.channel) as i32,
        at: d.at.to_rfc3339(),
        actor: match &d.actor {
            Actor::System => "system".to_owned(),
            Actor::Principal(p) => p.clone(),
        },
        template: d.template_id.clone(),
        language: d.language.clone(),
        content_sha256: d.content_hash.to_hex(),
        outcome: outcome_to_wire(d.outcome) as i32,
        proof_kind: d
            .delivery_proof
            .as_ref()
            .map(|p| p.kind().to_owned())
            .unwrap_or_default(),
        proof_value: d
            .delivery_proof
            .as_ref()
            .map(DeliveryProof::value)
            .unwrap_or_default(),
        hash: e.hash.to_hex(),
    }
}

fn promise_to_wire(p: &store::promises::PromiseRow, paid: Decimal) -> api::Promise {
    let mut threshold = p.threshold * Decimal::ONE_HUNDRED;
    threshold = threshold.normalize();
    api::Promise {
        promise_id: p.id.to_string(),
        customer_id: p.customer_id.to_string(),
        case_id: p.case_id.map(|c| c.to_string()).unwrap_or_default(),
        amount: Some(wire::money(p.amount, &p.currency)),
        promised_date: p.promised_date.to_string(),
        grace_days: u32::try_from(p.grace_days).unwrap_or_default(),
        threshold_percent: threshold.to_string(),
        status: match p.status.as_str() {
            "kept" => api::PromiseStatus::Kept,
            "broken" => api::PromiseStatus::Broken,
            _ => api::PromiseStatus::Open,
        } as i32,
        paid: Some(wire::money(paid, &p.currency)),
        judged_on: p.judged_on.map(|d| d.to_string()).unwrap_or_default(),
        paused_step: p.paused_step.clone(),
        made_by: p.made_by.clone(),
        made_on: p.made_on.to_string(),
        note: p.note.clone(),
    }
}

fn dispute_to_wire(d: &store::disputes::DisputeRow) -> api::Dispute {
    api::Dispute {
        dispute_id: d.id.to_string(),
        customer_id: d.customer_id.to_string(),
        case_id: d.case_id.to_string(),
        receivable_ids: d.receivable_ids.iter().map(Uuid::to_string).collect(),
        reason: d.reason.clone(),
        status: match d.status.as_str() {
            "rejected" => api::DisputeStatus::Rejected,
            "upheld" => api::DisputeStatus::Upheld,
            _ => api::DisputeStatus::Open,
        } as i32,
        opened_at: d.opened_at.to_rfc3339(),
        deadline: d.deadline.to_rfc3339(),
        sla_basis: match crate::domain::dispute::SlaBasis::parse(&d.sla_basis) {
            Some(crate::domain::dispute::SlaBasis::BusinessHours) => api::SlaBasis::BusinessHours,
            _ => api::SlaBasis::CalendarHours,
        } as i32,
        sla_hours: u32::try_from(d.sla_hours).unwrap_or_default(),
        breached_at: d.breached_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
        assignee: d.assignee.clone(),
        opened_by: d.opened_by.clone(),
        resolved_by: d.resolved_by.clone().unwrap_or_default(),
        resolved_at: d.resolved_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
        resolution_note: d.resolution_note.clone(),
    }
}

/// `part ÷ whole` to two decimals, "" when nothing was counted.
fn rate(part: i64, whole: i64) -> String {
    if whole <= 0 {
        return String::new();
    }
    let mut share = (Decimal::from(part) / Decimal::from(whole))
        .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    share.rescale(2);
    share.to_string()
}

/// Adds one collector's figures to a sum (a team's or the total).
fn absorb(
    sum: &mut store::kpis::Figures,
    steps: &mut std::collections::BTreeMap<String, Decimal>,
    f: &store::kpis::Figures,
) {
    sum.balances += f.balances;
    sum.collected += f.collected;
    for (step, amount) in &f.by_step {
        *steps.entry(step.clone()).or_default() += *amount;
    }
    sum.promises = (sum.promises.0 + f.promises.0, sum.promises.1 + f.promises.1);
    sum.contacts = (sum.contacts.0 + f.contacts.0, sum.contacts.1 + f.contacts.1);
}

fn kpi_row(f: &store::kpis::Figures, currency: &str) -> api::KpiRow {
    let cny = |a: Decimal| Some(wire::money(a, currency));
    api::KpiRow {
        owner: f.owner.clone(),
        team: f.team.clone(),
        collected: cny(f.collected),
        collected_by_step: f
            .by_step
            .iter()
            .map(|(step, amount)| api::StepAmount {
                step: step.clone(),
                amount: cny(*amount),
            })
            .collect(),
        promises_kept: u32::try_from(f.promises.0).unwrap_or_default(),
        promises_judged: u32::try_from(f.promises.1).unwrap_or_default(),
        promise_kept_rate: rate(f.promises.0, f.promises.1),
        right_party_contacts: u32::try_from(f.contacts.0).unwrap_or_default(),
        contact_attempts: u32::try_from(f.contacts.1).unwrap_or_default(),
        right_party_contact_rate: rate(f.contacts.0, f.contacts.1),
        // R-O7, R-D11.
        cei: crate::domain::kpi::cei(&f.balances),
        recovery_rate: crate::domain::kpi::recovery_rate(&f.balances),
        opening: cny(f.balances.opening),
        sales: cny(f.balances.sales),
        closing_total: cny(f.balances.closing_total),
        closing_current: cny(f.balances.closing_current),
        placed: cny(f.balances.placed),
        recovered: cny(f.balances.recovered),
    }
}

fn contacts_to_wire(d: &Debtor) -> api::DebtorContacts {
    api::DebtorContacts {
        customer_id: d.customer_id.to_string(),
        time_zone: d.time_zone.clone(),
        language: d.language.clone(),
        conduct_profile: d.conduct_profile.clone(),
        name: d.name.clone(),
        contacts: d
            .contacts
            .iter()
            .map(|(channel, address, recipient)| api::ContactPoint {
                channel: channel_text_to_wire(channel),
                address: mask(address),
                recipient: if recipient == "debtor" {
                    api::Recipient::Debtor
                } else {
                    api::Recipient::DesignatedContact
                } as i32,
            })
            .collect(),
    }
}

/// Validates one contact address for its channel.
fn check_address(field: &str, channel: Channel, address: &str) -> Result<String, ApiError> {
    let address = address.trim();
    match channel {
        Channel::Sms | Channel::PhoneCall => {
            let digits = address.chars().filter(char::is_ascii_digit).count();
            if !(5..=20).contains(&digits)
                || !address
                    .chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' '))
            {
                return Err(ApiError::invalid(
                    field,
                    "a phone number has 5 to 20 digits (and may hold +, - and spaces)",
                ));
            }
        }
        Channel::Email => {
            let ok = address.split_once('@').is_some_and(|(user, domain)| {
                !user.is_empty() && domain.contains('.') && !address.contains(char::is_whitespace)
            });
            if !ok || address.len() > 254 {
                return Err(ApiError::invalid(
                    field,
                    "an e-mail address looks like name@example.com",
                ));
            }
        }
        Channel::AppMessage | Channel::Letter => {
            if address.is_empty() || address.chars().count() > 200 {
                return Err(ApiError::invalid(
                    field,
                    "give the app user id or postal address (1 to 200 characters)",
                ));
            }
        }
        _ => {
            return Err(ApiError::invalid(
                field,
                format!(
                    "{} is not a channel one reaches a debtor at: use SMS, EMAIL, APP_MESSAGE, PHONE_CALL or LETTER",
                    channel.as_str()
                ),
            ));
        }
    }
    Ok(address.to_owned())
}

impl Api {
    async fn scope_customer(
        &self,
        caller: &kit::auth::Caller,
        customer_id: Uuid,
    ) -> Result<(), ApiError> {
        let mut conn = self.pool.acquire().await?;
        kit::auth::owners::require_customer(&mut conn, caller, customer_id).await
    }

    /// The words a template may use for the debtor's current case.
    async fn case_vars(
        &self,
        debtor: &Debtor,
        today: NaiveDate,
    ) -> Result<(Option<Uuid>, Vec<(&'static str, String)>), ApiError> {
        let mut conn = self.pool.acquire().await?;
        let case_id = store::contacts::case_of(&mut conn, debtor.customer_id).await?;
        let items = match case_id {
            Some(id) => store::ladder::open_items(&mut conn, &[id]).await?,
            None => Vec::new(),
        };
        let owed: Decimal = items.iter().map(store::ladder::OpenItem::owed).sum();
        let currency = items
            .first()
            .map_or_else(|| "CNY".to_owned(), |i| i.currency.clone());
        let oldest = items.first().map(|i| i.due_date);
        let days = oldest.map_or(0, |d| (today - d).num_days().max(0));
        let vars = vec![
            ("name", debtor.addressed_as(debtor.language == "en")),
            ("amount", wire::format_amount(owed, &currency)),
            ("days", days.to_string()),
            (
                "due_date",
                oldest.map(|d| d.to_string()).unwrap_or_default(),
            ),
            ("as_of", today.to_string()),
            ("unit", debtor.unit.clone()),
        ];
        Ok((case_id, vars))
    }
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
            self.scope_customer(&caller, customer_id).await?;
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
        let mut conn = self.pool.acquire().await.map_err(ApiError::from)?;
        let cases = store::cases::list(
            &mut conn,
            customer_id,
            (scope_mode, &scope_value),
            paging.after().copied(),
            paging.fetch_limit(),
        )
        .await
        .map_err(ApiError::from)?;
        let (cases, next_page_token) = paging.finish(cases, |c| (c.opened_on, c.id));
        let mut out = Vec::with_capacity(cases.len());
        for case in cases {
            caller.touch("case", case.id);
            let items = store::cases::items(&mut conn, case.id)
                .await
                .map_err(ApiError::from)?;
            out.push(api::DunningCase {
                case_id: case.id.to_string(),
                customer_id: case.customer_id.to_string(),
                status: case.status,
                current_step: case.current_step,
                grade: case.grade,
                opened_on: case.opened_on.to_string(),
                hold: hold_to_wire(case.hold_reason.as_deref()),
                held_since: case.held_since.map(|d| d.to_string()).unwrap_or_default(),
                policy_id: case.policy_id,
                policy_version: u32::try_from(case.policy_version).unwrap_or_default(),
                items: items
                    .into_iter()
                    .map(|i| api::CaseItem {
                        receivable_id: i.receivable_id.to_string(),
                        contract_no: i.contract_no,
                        due_date: i.due_date.to_string(),
                        days_overdue: u32::try_from(i.days_overdue).unwrap_or_default(),
                        open_amount: Some(wire::money(i.open_amount, &i.currency)),
                        status: i.status,
                        late_fee: Some(wire::money(i.late_fee, &i.currency)),
                    })
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
        let Some(customer_id) = store::cases::customer_of(&mut conn, case_id)
            .await
            .map_err(ApiError::from)?
        else {
            return Err(ApiError::NotFound(format!("no dunning case with id {case_id}")).into());
        };
        // R-O3: a collector reads the actions of their own customers' cases only.
        kit::auth::owners::require_customer(&mut conn, &caller, customer_id).await?;
        let paging = Paging::<(DateTime<Utc>, Uuid)>::parse(
            &format!("dunning.ListActions {case_id}"),
            request.page_size,
            &request.page_token,
        )?;
        let rows = store::cases::actions(
            &mut conn,
            case_id,
            paging.after().copied(),
            paging.fetch_limit(),
        )
        .await
        .map_err(ApiError::from)?;
        let (rows, next_page_token) = paging.finish(rows, |r| (r.recorded_at, r.id));
        let actions = rows
            .into_iter()
            .map(|r| api::Action {
                action_id: r.id.to_string(),
                case_id: case_id.to_string(),
                step: r.step,
                receivable_ids: r.receivable_ids.iter().map(Uuid::to_string).collect(),
                days_overdue: u32::try_from(r.days_overdue).unwrap_or_default(),
                business_date: r.business_date.to_string(),
                detail: r.detail,
                recorded_at: r.recorded_at.to_rfc3339(),
                policy_id: r.policy_id,
                policy_version: u32::try_from(r.policy_version).unwrap_or_default(),
                channel: r.channel.as_deref().map_or(0, channel_text_to_wire),
                occurrence: u32::try_from(r.occurrence).unwrap_or_default(),
                amount: r.amount.map(|(a, c)| wire::money(a, &c)),
                notice_id: r.notice_id.map(|n| n.to_string()).unwrap_or_default(),
            })
            .collect();
        Ok(Response::new(api::ListActionsResponse {
            actions,
            next_page_token,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn set_contacts(
        &self,
        request: Request<api::SetContactsRequest>,
    ) -> Result<Response<api::SetContactsResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let Some(given) = request.into_inner().contacts else {
            return Err(ApiError::invalid("contacts", "give the debtor's contact details").into());
        };
        let customer_id = wire::uuid("contacts.customer_id", &given.customer_id)?;
        self.scope_customer(&caller, customer_id).await?;
        let time_zone = match given.time_zone.trim() {
            "" => "Asia/Shanghai".to_owned(),
            zone => {
                zone.parse::<Tz>().map_err(|_| {
                    ApiError::invalid(
                        "contacts.time_zone",
                        format!("{zone:?} is not an IANA time zone such as Asia/Shanghai"),
                    )
                })?;
                zone.to_owned()
            }
        };
        let language = match given.language.trim() {
            "" => "zh-CN".to_owned(),
            l @ ("zh-CN" | "en") => l.to_owned(),
            other => {
                return Err(ApiError::invalid(
                    "contacts.language",
                    format!("{other:?} is not offered: use zh-CN or en"),
                )
                .into());
            }
        };
        let conduct_profile = match given.conduct_profile.trim() {
            "" => "cn".to_owned(),
            p if self.conduct.knows(p) => p.to_owned(),
            other => {
                return Err(ApiError::invalid(
                    "contacts.conduct_profile",
                    format!(
                        "{other:?} is not a conduct profile: use one of {}",
                        crate::domain::conduct::Profile::BUILTIN_IDS.join(", ")
                    ),
                )
                .into());
            }
        };
        if given.name.chars().count() > 200 {
            return Err(ApiError::invalid("contacts.name", "at most 200 characters").into());
        }
        if given.contacts.len() > 20 {
            return Err(ApiError::invalid(
                "contacts.contacts",
                "at most 20 contact points per debtor",
            )
            .into());
        }
        let mut contacts = Vec::with_capacity(given.contacts.len());
        for (i, c) in given.contacts.iter().enumerate() {
            let field = format!("contacts.contacts[{i}]");
            let channel = channel_from_wire(&format!("{field}.channel"), c.channel)?;
            let address = check_address(&format!("{field}.address"), channel, &c.address)?;
            let recipient = match api::Recipient::try_from(c.recipient) {
                Ok(api::Recipient::Debtor) => "debtor",
                Ok(api::Recipient::DesignatedContact) => "designated_contact",
                _ => {
                    return Err(ApiError::invalid(
                        format!("{field}.recipient"),
                        "say whose address it is: RECIPIENT_DEBTOR or RECIPIENT_DESIGNATED_CONTACT",
                    )
                    .into());
                }
            };
            contacts.push((channel.as_str().to_owned(), address, recipient.to_owned()));
        }
        let debtor = Debtor {
            customer_id,
            name: given.name.trim().to_owned(),
            time_zone,
            language,
            conduct_profile,
            unit: String::new(),
            contacts,
        };
        let mut tx = self.pool.begin().await.map_err(ApiError::from)?;
        store::contacts::set_debtor(&mut tx, &debtor)
            .await
            .map_err(ApiError::from)?;
        let saved = store::contacts::debtor(&mut tx, customer_id)
            .await
            .map_err(ApiError::from)?;
        tx.commit().await.map_err(ApiError::from)?;
        tracing::info!(%customer_id, contacts = saved.contacts.len(), by = caller.subject(), "debtor contacts set");
        Ok(Response::new(api::SetContactsResponse {
            contacts: Some(contacts_to_wire(&saved)),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn get_contacts(
        &self,
        request: Request<api::GetContactsRequest>,
    ) -> Result<Response<api::GetContactsResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let customer_id = wire::uuid("customer_id", &request.get_ref().customer_id)?;
        self.scope_customer(&caller, customer_id).await?;
        let mut conn = self.pool.acquire().await.map_err(ApiError::from)?;
        let debtor = store::contacts::debtor(&mut conn, customer_id)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(api::GetContactsResponse {
            contacts: Some(contacts_to_wire(&debtor)),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn send_message(
        &self,
        request: Request<api::SendMessageRequest>,
    ) -> Result<Response<api::SendMessageResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let request = request.into_inner();
        let key = wire::required("idempotency_key", &request.idempotency_key, 200)?;
        let customer_id = wire::uuid("customer_id", &request.customer_id)?;
        self.scope_customer(&caller, customer_id).await?;
        let channel = channel_from_wire("channel", request.channel)?;
        if !matches!(channel, Channel::Sms | Channel::Email | Channel::AppMessage) {
            return Err(ApiError::invalid(
                "channel",
                "messages go by SMS, EMAIL or APP_MESSAGE; calls and visits are tasks (CreateTask)",
            )
            .into());
        }
        let designated = match api::Recipient::try_from(request.recipient) {
            Ok(api::Recipient::Unspecified | api::Recipient::Debtor) => false,
            Ok(api::Recipient::DesignatedContact) => true,
            Err(_) => {
                return Err(ApiError::invalid(
                    "recipient",
                    "RECIPIENT_DEBTOR or RECIPIENT_DESIGNATED_CONTACT",
                )
                .into());
            }
        };
        let when = opt_time("not_before", &request.not_before)?.unwrap_or_else(Utc::now);
        let mut conn = self.pool.acquire().await.map_err(ApiError::from)?;
        let debtor = store::contacts::debtor(&mut conn, customer_id)
            .await
            .map_err(ApiError::from)?;
        drop(conn);
        let Some((disclosure, language, template)) = self
            .policy
            .hand_template(&request.template, &debtor.language)
        else {
            let mut codes: Vec<&str> = self.policy.steps.iter().map(|s| s.code.as_str()).collect();
            codes.extend(self.policy.messages.keys().map(String::as_str));
            return Err(ApiError::invalid(
                "template",
                format!(
                    "{:?} is not a step or message of policy {}@{}: use one of {}",
                    request.template,
                    self.policy.id,
                    self.policy.version,
                    codes.join(", ")
                ),
            )
            .into());
        };
        let wanted = if designated {
            "designated_contact"
        } else {
            "debtor"
        };
        let Some((_, address, _)) = debtor
            .contacts
            .iter()
            .find(|(c, _, r)| c == channel.as_str() && r == wanted)
        else {
            return Err(ApiError::FailedPrecondition(format!(
                "customer {customer_id} has no {} contact {} on file: add one with SetContacts (`collectctl dunning contacts set`)",
                channel.as_str(),
                if designated { "of someone they designated" } else { "of their own" }
            ))
            .into());
        };
        let today = when
            .with_timezone(
                &debtor
                    .time_zone
                    .parse::<Tz>()
                    .unwrap_or(chrono_tz::Asia::Shanghai),
            )
            .date_naive();
        let (case_id, vars) = self.case_vars(&debtor, today).await?;
        let body = crate::policy::render(template, &vars);
        let mut tx = self.pool.begin().await.map_err(ApiError::from)?;
        let planned = self
            .conduct
            .plan_to(
                &mut tx,
                &debtor,
                channel,
                when,
                if designated {
                    crate::domain::conduct::Recipient::DesignatedContact
                } else {
                    crate::domain::conduct::Recipient::Debtor
                },
                match disclosure {
                    crate::policy::Disclosure::DebtorOnly => {
                        crate::domain::conduct::Disclosure::DebtorOnly
                    }
                    crate::policy::Disclosure::CallBackRequest => {
                        crate::domain::conduct::Disclosure::CallBackRequest
                    }
                },
            )
            .await
            .map_err(ApiError::from)?
            .map_err(ApiError::FailedPrecondition)?;
        let row = Outgoing {
            customer_id,
            case_id,
            channel,
            address: address.clone(),
            template: format!(
                "{}@{}/{}/{language}",
                self.policy.id, self.policy.version, request.template
            ),
            language: language.to_owned(),
            subject: Outgoing::reminder_subject(language),
            body,
            notice_id: None,
            requested_at: when,
            requested_by: caller.subject().to_owned(),
        }
        .scheduled(planned);
        let saved = store::contacts::insert_message(
            &mut tx,
            &row,
            Some(&format!("send:{}:{key}", caller.subject())),
        )
        .await
        .map_err(ApiError::from)?;
        tx.commit().await.map_err(ApiError::from)?;
        caller.touch("message", saved.id);
        Ok(Response::new(api::SendMessageResponse {
            message: Some(message_to_wire(saved)),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_messages(
        &self,
        request: Request<api::ListMessagesRequest>,
    ) -> Result<Response<api::ListMessagesResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let request = request.into_inner();
        let customer_id = wire::uuid("customer_id", &request.customer_id)?;
        self.scope_customer(&caller, customer_id).await?;
        let paging = Paging::<(DateTime<Utc>, Uuid)>::parse(
            &format!("dunning.ListMessages {customer_id}"),
            request.page_size,
            &request.page_token,
        )?;
        let mut conn = self.pool.acquire().await.map_err(ApiError::from)?;
        let rows = store::contacts::messages(
            &mut conn,
            customer_id,
            paging.after().copied(),
            paging.fetch_limit(),
        )
        .await
        .map_err(ApiError::from)?;
        let (rows, next_page_token) = paging.finish(rows, |m| (m.due_at, m.id));
        Ok(Response::new(api::ListMessagesResponse {
            messages: rows.into_iter().map(message_to_wire).collect(),
            next_page_token,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn create_task(
        &self,
        request: Request<api::CreateTaskRequest>,
    ) -> Result<Response<api::CreateTaskResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let request = request.into_inner();
        let key = wire::required("idempotency_key", &request.idempotency_key, 200)?;
        let customer_id = wire::uuid("customer_id", &request.customer_id)?;
        self.scope_customer(&caller, customer_id).await?;
        let channel = channel_from_wire("channel", request.channel)?;
        if !matches!(channel, Channel::PhoneCall | Channel::Visit) {
            return Err(ApiError::invalid(
                "channel",
                "a collector's task is a PHONE_CALL or a VISIT; messages go by SendMessage",
            )
            .into());
        }
        let due = time("due_at", &request.due_at)?;
        if request.note.chars().count() > 2000 {
            return Err(ApiError::invalid("note", "at most 2000 characters").into());
        }
        let mut tx = self.pool.begin().await.map_err(ApiError::from)?;
        let debtor = store::contacts::debtor(&mut tx, customer_id)
            .await
            .map_err(ApiError::from)?;
        let planned = self
            .conduct
            .plan_for(&mut tx, &debtor, channel, due)
            .await
            .map_err(ApiError::from)?
            .map_err(ApiError::FailedPrecondition)?;
        let case_id = store::contacts::case_of(&mut tx, customer_id)
            .await
            .map_err(ApiError::from)?;
        let assignee =
            kit::auth::owners::owner_of(&mut tx, customer_id, kit::auth::owners::CUSTOMER_KEY)
                .await
                .map_err(ApiError::from)?
                .map_or_else(|| caller.subject().to_owned(), |(owner, _)| owner);
        let row = TaskRow {
            id: Uuid::now_v7(),
            customer_id,
            case_id,
            channel: channel.as_str().to_owned(),
            step: "manual".to_owned(),
            requested_at: due,
            due_at: planned.due_at,
            refused_for: planned.refused_for.map(|r| r.as_str().to_owned()),
            assignee,
            status: "open".to_owned(),
            outcome: None,
            completed_by: None,
            completed_at: None,
            note: request.note.trim().to_owned(),
            notice_id: None,
            contact_log_seq: None,
            created_by: caller.subject().to_owned(),
        };
        let saved = store::contacts::insert_task(
            &mut tx,
            &row,
            Some(&format!("task:{}:{key}", caller.subject())),
        )
        .await
        .map_err(ApiError::from)?;
        tx.commit().await.map_err(ApiError::from)?;
        caller.touch("task", saved.id);
        Ok(Response::new(api::CreateTaskResponse {
            task: Some(task_to_wire(saved)),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_tasks(
        &self,
        request: Request<api::ListTasksRequest>,
    ) -> Result<Response<api::ListTasksResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let request = request.into_inner();
        let customer_id = match request.customer_id.as_str() {
            "" => None,
            id => Some(wire::uuid("customer_id", id)?),
        };
        if let Some(customer_id) = customer_id {
            self.scope_customer(&caller, customer_id).await?;
        }
        let (scope_mode, scope_value) = kit::auth::owners::params(&caller.scope);
        let paging = Paging::<(DateTime<Utc>, Uuid)>::parse(
            &format!(
                "dunning.ListTasks {} {} {scope_mode} {scope_value}",
                request.customer_id, request.include_done
            ),
            request.page_size,
            &request.page_token,
        )?;
        let mut conn = self.pool.acquire().await.map_err(ApiError::from)?;
        let rows = store::contacts::tasks(
            &mut conn,
            customer_id,
            request.include_done,
            (scope_mode, &scope_value),
            paging.after().copied(),
            paging.fetch_limit(),
        )
        .await
        .map_err(ApiError::from)?;
        let (rows, next_page_token) = paging.finish(rows, |t| (t.due_at, t.id));
        Ok(Response::new(api::ListTasksResponse {
            tasks: rows.into_iter().map(task_to_wire).collect(),
            next_page_token,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn complete_task(
        &self,
        request: Request<api::CompleteTaskRequest>,
    ) -> Result<Response<api::CompleteTaskResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let request = request.into_inner();
        let task_id = wire::uuid("task_id", &request.task_id)?;
        caller.touch("task", task_id);
        let outcome = outcome_from_wire(request.outcome)?;
        let at = opt_time("at", &request.at)?.unwrap_or_else(Utc::now);
        if at > Utc::now() + chrono::Duration::minutes(5) {
            return Err(ApiError::invalid(
                "at",
                "is in the future: give when the call or visit happened",
            )
            .into());
        }
        if request.note.chars().count() > 2000 {
            return Err(ApiError::invalid("note", "at most 2000 characters").into());
        }
        let proof = match (
            request.registered_mail_no.trim(),
            request.signature_image.is_empty(),
        ) {
            ("", true) => None,
            (number, true) => {
                if number.chars().count() > 64 {
                    return Err(
                        ApiError::invalid("registered_mail_no", "at most 64 characters").into(),
                    );
                }
                Some(DeliveryProof::RegisteredMail(number.to_owned()))
            }
            ("", false) => {
                if request.signature_image.len() > 5 * 1024 * 1024 {
                    return Err(ApiError::invalid(
                        "signature_image",
                        "at most 5 MiB: scan it at a lower resolution",
                    )
                    .into());
                }
                Some(DeliveryProof::SignatureImage(Digest::of(
                    &request.signature_image,
                )))
            }
            _ => {
                return Err(ApiError::invalid(
                    "registered_mail_no",
                    "give one proof of delivery: the registered-mail number or the signature image, not both",
                )
                .into());
            }
        };
        let mut tx = self.pool.begin().await.map_err(ApiError::from)?;
        let Some(task) = store::contacts::task_for_update(&mut tx, task_id)
            .await
            .map_err(ApiError::from)?
        else {
            return Err(ApiError::NotFound(format!("no task with id {task_id}")).into());
        };
        kit::auth::owners::require_customer(&mut tx, &caller, task.customer_id).await?;
        if task.status == "done" {
            return Err(ApiError::FailedPrecondition(format!(
                "task {task_id} was completed by {} at {}; a contact is logged once",
                task.completed_by.unwrap_or_default(),
                task.completed_at
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_default()
            ))
            .into());
        }
        let channel = Channel::parse(&task.channel)
            .ok_or_else(|| anyhow::anyhow!("task {task_id}: unknown channel {:?}", task.channel))
            .map_err(ApiError::from)?;
        let debtor = store::contacts::debtor(&mut tx, task.customer_id)
            .await
            .map_err(ApiError::from)?;
        let mut content = Vec::new();
        content.extend_from_slice(task.id.as_bytes());
        content.extend_from_slice(request.note.trim().as_bytes());
        if let Some(n) = task.notice_id {
            content.extend_from_slice(n.as_bytes());
        }
        let entry = store::contact_log::append(
            &mut tx,
            Draft {
                case_id: task.case_id.unwrap_or_else(Uuid::nil),
                customer_id: task.customer_id,
                channel,
                at,
                actor: Actor::Principal(caller.subject().to_owned()),
                template_id: task.step.clone(),
                language: debtor.language.clone(),
                content_hash: Digest::of(&content),
                outcome,
                delivery_proof: proof,
            },
        )
        .await
        .map_err(ApiError::from)?;
        // R-L7: a demand that reached the debtor restarts the limitation (legal follows).
        let zone = debtor
            .time_zone
            .parse::<Tz>()
            .unwrap_or(chrono_tz::Asia::Shanghai);
        crate::outreach::publish_demand(&mut tx, &self.outbox, &entry, zone)
            .await
            .map_err(ApiError::from)?;
        store::contacts::complete_task(
            &mut tx,
            task_id,
            outcome.as_str(),
            caller.subject(),
            at,
            request.note.trim(),
            i64::try_from(entry.seq).unwrap_or(i64::MAX),
        )
        .await
        .map_err(ApiError::from)?;
        let done = store::contacts::task_for_update(&mut tx, task_id)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::NotFound(format!("no task with id {task_id}")))?;
        tx.commit().await.map_err(ApiError::from)?;
        tracing::info!(%task_id, outcome = outcome.as_str(), seq = entry.seq, "task completed");
        Ok(Response::new(api::CompleteTaskResponse {
            task: Some(task_to_wire(done)),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_notices(
        &self,
        request: Request<api::ListNoticesRequest>,
    ) -> Result<Response<api::ListNoticesResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let request = request.into_inner();
        let customer_id = wire::uuid("customer_id", &request.customer_id)?;
        self.scope_customer(&caller, customer_id).await?;
        let paging = Paging::<(DateTime<Utc>, Uuid)>::parse(
            &format!("dunning.ListNotices {customer_id}"),
            request.page_size,
            &request.page_token,
        )?;
        let mut conn = self.pool.acquire().await.map_err(ApiError::from)?;
        let rows = store::contacts::notices(
            &mut conn,
            customer_id,
            paging.after().copied(),
            paging.fetch_limit(),
        )
        .await
        .map_err(ApiError::from)?;
        let (rows, next_page_token) = paging.finish(rows, |(n, at)| (*at, n.id));
        Ok(Response::new(api::ListNoticesResponse {
            notices: rows.iter().map(|(n, _)| notice_to_wire(n)).collect(),
            next_page_token,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn get_notice(
        &self,
        request: Request<api::GetNoticeRequest>,
    ) -> Result<Response<api::GetNoticeResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let notice_id = wire::uuid("notice_id", &request.get_ref().notice_id)?;
        caller.touch("notice", notice_id);
        let mut conn = self.pool.acquire().await.map_err(ApiError::from)?;
        let Some((notice, pdf, html)) = store::contacts::notice(&mut conn, notice_id)
            .await
            .map_err(ApiError::from)?
        else {
            return Err(ApiError::NotFound(format!("no notice with id {notice_id}")).into());
        };
        kit::auth::owners::require_customer(&mut conn, &caller, notice.customer_id).await?;
        Ok(Response::new(api::GetNoticeResponse {
            notice: Some(notice_to_wire(&notice)),
            pdf,
            html,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_contact_log(
        &self,
        request: Request<api::ListContactLogRequest>,
    ) -> Result<Response<api::ListContactLogResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let request = request.into_inner();
        // One customer's entries, or (empty customer_id) every entry the caller may see: a
        // collector their own customers', a supervisor their team's, auditors all (R-O3).
        let customer_id = match request.customer_id.as_str() {
            "" => None,
            id => {
                let id = wire::uuid("customer_id", id)?;
                self.scope_customer(&caller, id).await?;
                Some(id)
            }
        };
        let (scope_mode, scope_value) = kit::auth::owners::params(&caller.scope);
        let paging = Paging::<i64>::parse(
            &format!(
                "dunning.ListContactLog {} {scope_mode} {scope_value}",
                request.customer_id
            ),
            request.page_size,
            &request.page_token,
        )?;
        let mut conn = self.pool.acquire().await.map_err(ApiError::from)?;
        let entries = store::contact_log::entries_of(
            &mut conn,
            customer_id,
            (scope_mode, &scope_value),
            paging.after().copied().unwrap_or(0),
            paging.fetch_limit(),
        )
        .await
        .map_err(ApiError::from)?;
        let (entries, next_page_token) =
            paging.finish(entries, |e| i64::try_from(e.seq).unwrap_or(i64::MAX));
        Ok(Response::new(api::ListContactLogResponse {
            entries: entries.iter().map(entry_to_wire).collect(),
            next_page_token,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn prove_contact_log(
        &self,
        request: Request<api::ProveContactLogRequest>,
    ) -> Result<Response<api::ProveContactLogResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let customer_id = wire::uuid("customer_id", &request.get_ref().customer_id)?;
        self.scope_customer(&caller, customer_id).await?;
        caller.touch("contact_log", customer_id);
        // Seal what is there, so every entry of the debtor is under a checkpoint.
        crate::outreach::checkpoint(&self.pool, &self.outbox, &self.key)
            .await
            .map_err(ApiError::from)?;
        let mut conn = self.pool.acquire().await.map_err(ApiError::from)?;
        let Some(checkpoint) = store::contact_log::latest_checkpoint(&mut conn)
            .await
            .map_err(ApiError::from)?
        else {
            return Err(ApiError::FailedPrecondition(
                "the contact log is empty: there is nothing to prove".to_owned(),
            )
            .into());
        };
        let public = if checkpoint.key_id == self.key.id() {
            Some(self.key.public_key())
        } else {
            store::contact_log::key(&mut conn, &checkpoint.key_id)
                .await
                .map_err(ApiError::from)?
        };
        let public = public.ok_or_else(|| {
            ApiError::FailedPrecondition(format!(
                "the latest checkpoint was signed with key {}, which this service does not know",
                checkpoint.key_id
            ))
        })?;
        let hashes = store::contact_log::entry_hashes(&mut conn, checkpoint.through_seq)
            .await
            .map_err(ApiError::from)?;
        let mut mine = Vec::new();
        let mut after = 0_i64;
        loop {
            let page = store::contact_log::entries_of(
                &mut conn,
                Some(customer_id),
                ("all", ""),
                after,
                5000,
            )
            .await
            .map_err(ApiError::from)?;
            let Some(last) = page.last() else { break };
            after = i64::try_from(last.seq).unwrap_or(i64::MAX);
            mine.extend(page.into_iter().filter(|e| e.seq <= checkpoint.through_seq));
        }
        let proof = crate::domain::log_proof::ExtractProof::build(
            customer_id,
            &mine,
            &hashes,
            &checkpoint,
            &public,
        )
        .ok_or_else(|| {
            ApiError::FailedPrecondition(format!(
                "the latest checkpoint (through contact {}) predates signed tree roots: it is sealed again with the next contact",
                checkpoint.through_seq
            ))
        })?;
        let proof_json = serde_json::to_vec_pretty(&proof)
            .map_err(|e| ApiError::Unexpected(anyhow::anyhow!(e)))?;
        Ok(Response::new(api::ProveContactLogResponse {
            proof_json,
            entries: u64::try_from(proof.entries.len()).unwrap_or(u64::MAX),
            through_seq: checkpoint.through_seq,
            tree_root: proof.checkpoint.tree_root.clone(),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn verify_contact_log(
        &self,
        request: Request<api::VerifyContactLogRequest>,
    ) -> Result<Response<api::VerifyContactLogResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        caller.touch("contact_log", "all");
        let mut conn = self.pool.acquire().await.map_err(ApiError::from)?;
        let mut entries = Vec::new();
        let mut from = 0_i64;
        loop {
            let page = match store::contact_log::entries_of(
                &mut conn,
                None,
                ("all", ""),
                from,
                5000,
            )
            .await
            {
                Ok(page) => page,
                Err(error) => {
                    // A row the store cannot even read was changed outside the service.
                    let detail = format!("{error:#}");
                    return Ok(Response::new(api::VerifyContactLogResponse {
                        intact: false,
                        entries: entries.len() as u64,
                        problem: "UNREADABLE".to_owned(),
                        at_seq: entries.last().map_or(1, |e: &Entry| e.seq + 1),
                        detail,
                        ..Default::default()
                    }));
                }
            };
            let Some(last) = page.last() else {
                break;
            };
            from = i64::try_from(last.seq).unwrap_or(i64::MAX);
            entries.extend(page);
        }
        let checkpoint = store::contact_log::latest_checkpoint(&mut conn)
            .await
            .map_err(ApiError::from)?;
        let mut answer = api::VerifyContactLogResponse {
            intact: true,
            entries: entries.len() as u64,
            checkpoint_seq: checkpoint.as_ref().map_or(0, |c| c.through_seq),
            checkpoint_at: checkpoint
                .as_ref()
                .map(|c| c.at.to_rfc3339())
                .unwrap_or_default(),
            ..Default::default()
        };
        let tamper = |t: Tamper| -> (&'static str, u64) {
            match t {
                Tamper::Edited { seq } => ("EDITED", seq),
                Tamper::Deleted { after_seq } => ("DELETED", after_seq + 1),
                Tamper::Inserted { seq } => ("INSERTED", seq),
                Tamper::Reordered { expected, .. } => ("REORDERED", expected),
            }
        };
        let result = match &checkpoint {
            None => contact_log::verify(&entries).map_err(CheckpointError::Tamper),
            Some(c) => {
                let public = if c.key_id == self.key.id() {
                    Some(self.key.public_key())
                } else {
                    store::contact_log::key(&mut conn, &c.key_id)
                        .await
                        .map_err(ApiError::from)?
                };
                match public {
                    Some(public) => contact_log::verify_checkpoint(c, &public, &entries),
                    None => {
                        answer.intact = false;
                        answer.problem = "UNKNOWN_KEY".to_owned();
                        answer.at_seq = c.through_seq;
                        answer.detail = format!(
                            "checkpoint through {} was signed with key {}, which this service does not know: verify it against the public key in its ContactLogCheckpointed event",
                            c.through_seq, c.key_id
                        );
                        return Ok(Response::new(answer));
                    }
                }
            }
        };
        if let Err(error) = result {
            answer.intact = false;
            answer.detail = error.to_string();
            let (problem, at) = match error {
                CheckpointError::BadSignature => ("BAD_SIGNATURE", answer.checkpoint_seq),
                CheckpointError::RootMismatch { through_seq } => {
                    ("CHECKPOINT_MISMATCH", through_seq)
                }
                CheckpointError::Tamper(t) => tamper(t),
            };
            answer.problem = problem.to_owned();
            answer.at_seq = at;
            tracing::warn!(problem, at_seq = at, "the contact log failed verification");
        }
        Ok(Response::new(answer))
    }

    #[tracing::instrument(skip_all)]
    async fn make_promise(
        &self,
        request: Request<api::MakePromiseRequest>,
    ) -> Result<Response<api::MakePromiseResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let request = request.into_inner();
        let key = wire::required("idempotency_key", &request.idempotency_key, 200)?;
        let customer_id = wire::uuid("customer_id", &request.customer_id)?;
        self.scope_customer(&caller, customer_id).await?;
        let (amount, currency) = wire::parse_money(request.amount.as_ref())
            .map_err(|e| ApiError::invalid("amount", e))?;
        let promised = wire::date("promised_date", &request.promised_date)?;
        let threshold = match request.threshold_percent.trim() {
            "" => Decimal::ONE,
            text => text
                .parse::<Decimal>()
                .ok()
                .filter(|p| *p > Decimal::ZERO && *p <= Decimal::ONE_HUNDRED)
                .map(|p| p / Decimal::ONE_HUNDRED)
                .ok_or_else(|| {
                    ApiError::invalid(
                        "threshold_percent",
                        format!("{text:?} is not a percentage between 1 and 100, e.g. 95"),
                    )
                })?,
        };
        if request.note.chars().count() > 500 {
            return Err(ApiError::invalid("note", "at most 500 characters").into());
        }
        let terms = crate::domain::promise::Terms {
            amount,
            due: promised,
            grace_days: request.grace_days,
            threshold,
        };
        let mut tx = self.pool.begin().await.map_err(ApiError::from)?;
        // Today is dunning's business day (its last daily cycle), else the calendar's.
        let today = store::ladder::latest_day(&mut tx)
            .await
            .map_err(ApiError::from)?
            .unwrap_or_else(|| Utc::now().date_naive());
        terms
            .check(today)
            .map_err(|e| ApiError::invalid(e.field, e.reason))?;
        // The same request again is answered with the promise it made.
        if let Some(first) = store::promises::by_key(&mut tx, &key)
            .await
            .map_err(ApiError::from)?
        {
            let paid = store::promises::paid(&mut tx, first.id)
                .await
                .map_err(ApiError::from)?;
            return Ok(Response::new(api::MakePromiseResponse {
                promise: Some(promise_to_wire(&first, paid)),
            }));
        }
        if let Some(open) = store::promises::open_for(&mut tx, customer_id)
            .await
            .map_err(ApiError::from)?
        {
            return Err(ApiError::FailedPrecondition(format!(
                "customer {customer_id} has an open promise ({} {} by {}): it is judged first; list it with ListPromises",
                wire::format_amount(open.amount, &open.currency),
                open.currency,
                open.promised_date
            ))
            .into());
        }
        let case_id = store::contacts::case_of(&mut tx, customer_id)
            .await
            .map_err(ApiError::from)?;
        let paused_step = match case_id {
            Some(id) => store::cases::current_step(&mut tx, id)
                .await
                .map_err(ApiError::from)?
                .unwrap_or_default(),
            None => String::new(),
        };
        let row = store::promises::PromiseRow {
            id: Uuid::now_v7(),
            customer_id,
            case_id,
            amount,
            currency,
            promised_date: promised,
            grace_days: i32::try_from(request.grace_days).unwrap_or(i32::MAX),
            threshold,
            made_on: today,
            made_by: caller.subject().to_owned(),
            note: request.note.trim().to_owned(),
            paused_step,
            status: "open".to_owned(),
            judged_on: None,
        };
        store::promises::insert(&mut tx, &row, &key)
            .await
            .map_err(ApiError::from)?;
        // R-D5, R-O1: published with the promise, for reporting's forecast and collector KPIs.
        let made = proto::events::v1::PromiseMade {
            promise_id: row.id.to_string(),
            customer_id: customer_id.to_string(),
            case_id: row.case_id.map(|c| c.to_string()).unwrap_or_default(),
            amount: Some(wire::money(row.amount, &row.currency)),
            promised_date: row.promised_date.to_string(),
            made_on: row.made_on.to_string(),
            grace_days: u32::try_from(row.grace_days).unwrap_or_default(),
        };
        self.outbox
            .enqueue(
                &mut tx,
                kit::events::DUNNING,
                &customer_id.to_string(),
                &made,
            )
            .await
            .map_err(ApiError::from)?;
        tx.commit().await.map_err(ApiError::from)?;
        let saved = row;
        caller.touch("promise", saved.id);
        tracing::info!(promise_id = %saved.id, %customer_id, by = caller.subject(), "promise to pay recorded (R-D5)");
        Ok(Response::new(api::MakePromiseResponse {
            promise: Some(promise_to_wire(&saved, Decimal::ZERO)),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_promises(
        &self,
        request: Request<api::ListPromisesRequest>,
    ) -> Result<Response<api::ListPromisesResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let customer_id = wire::uuid("customer_id", &request.get_ref().customer_id)?;
        self.scope_customer(&caller, customer_id).await?;
        let mut conn = self.pool.acquire().await.map_err(ApiError::from)?;
        let rows = store::promises::list(&mut conn, customer_id)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(api::ListPromisesResponse {
            promises: rows
                .iter()
                .map(|(p, paid)| promise_to_wire(p, *paid))
                .collect(),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn open_dispute(
        &self,
        request: Request<api::OpenDisputeRequest>,
    ) -> Result<Response<api::OpenDisputeResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let request = request.into_inner();
        let key = wire::required("idempotency_key", &request.idempotency_key, 200)?;
        let customer_id = wire::uuid("customer_id", &request.customer_id)?;
        self.scope_customer(&caller, customer_id).await?;
        let reason = wire::required("reason", &request.reason, 1000)?;
        if request.receivable_ids.is_empty() {
            return Err(
                ApiError::invalid("receivable_ids", "name the disputed receivables").into(),
            );
        }
        let mut items = Vec::with_capacity(request.receivable_ids.len());
        for (i, id) in request.receivable_ids.iter().enumerate() {
            let id = wire::uuid(&format!("receivable_ids[{i}]"), id)?;
            if !items.contains(&id) {
                items.push(id);
            }
        }
        let mut tx = self.pool.begin().await.map_err(ApiError::from)?;
        if let Some(first) = store::disputes::by_key(&mut tx, &key)
            .await
            .map_err(ApiError::from)?
        {
            return Ok(Response::new(api::OpenDisputeResponse {
                dispute: Some(dispute_to_wire(&first)),
            }));
        }
        let Some((case_id, open)) = store::disputes::disputable(&mut tx, customer_id)
            .await
            .map_err(ApiError::from)?
        else {
            return Err(ApiError::FailedPrecondition(format!(
                "customer {customer_id} has no active dunning case: there is nothing to dispute with dunning"
            ))
            .into());
        };
        if let Some((i, id)) = items.iter().enumerate().find(|(_, id)| !open.contains(id)) {
            return Err(ApiError::invalid(
                format!("receivable_ids[{i}]"),
                format!("{id} is not an open item of the customer's case outside another dispute or a repayment plan"),
            )
            .into());
        }
        let now = store::disputes::now(&mut tx)
            .await
            .map_err(ApiError::from)?;
        let (basis, hours) = self.sla;
        let calendar = self
            .conduct
            .calendars()
            .get("CN")
            .map_err(|e| ApiError::from(anyhow::anyhow!("the CN calendar: {e}")))?;
        let deadline = crate::domain::dispute::deadline(
            now,
            hours,
            basis,
            calendar,
            chrono_tz::Asia::Shanghai,
        )
        .map_err(|e| ApiError::from(anyhow::anyhow!("the dispute deadline: {e}")))?;
        let assignee =
            kit::auth::owners::owner_of(&mut tx, customer_id, kit::auth::owners::CUSTOMER_KEY)
                .await
                .map_err(ApiError::from)?
                .map_or_else(|| caller.subject().to_owned(), |(owner, _)| owner);
        let row = store::disputes::DisputeRow {
            id: Uuid::now_v7(),
            customer_id,
            case_id,
            receivable_ids: items,
            reason,
            status: "open".to_owned(),
            opened_at: now,
            deadline,
            sla_basis: basis.as_str().to_owned(),
            sla_hours: i32::try_from(hours).unwrap_or(i32::MAX),
            breached_at: None,
            assignee,
            opened_by: caller.subject().to_owned(),
            resolved_by: None,
            resolved_at: None,
            resolution_note: String::new(),
        };
        store::disputes::insert(&mut tx, &row, &key)
            .await
            .map_err(ApiError::from)?;
        let event = proto::events::v1::DisputeOpened {
            dispute_id: row.id.to_string(),
            customer_id: customer_id.to_string(),
            case_id: case_id.to_string(),
            receivable_ids: row.receivable_ids.iter().map(Uuid::to_string).collect(),
            reason: row.reason.clone(),
            opened_at: now.to_rfc3339(),
            deadline: deadline.to_rfc3339(),
            assignee: row.assignee.clone(),
        };
        self.outbox
            .enqueue(
                &mut tx,
                kit::events::DUNNING,
                &customer_id.to_string(),
                &event,
            )
            .await
            .map_err(ApiError::from)?;
        tx.commit().await.map_err(ApiError::from)?;
        caller.touch("dispute", row.id);
        tracing::info!(dispute_id = %row.id, %customer_id, items = row.receivable_ids.len(), %deadline, "dispute opened (R-D8)");
        Ok(Response::new(api::OpenDisputeResponse {
            dispute: Some(dispute_to_wire(&row)),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn resolve_dispute(
        &self,
        request: Request<api::ResolveDisputeRequest>,
    ) -> Result<Response<api::ResolveDisputeResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let request = request.into_inner();
        let dispute_id = wire::uuid("dispute_id", &request.dispute_id)?;
        caller.touch("dispute", dispute_id);
        let upheld = match api::DisputeStatus::try_from(request.resolution) {
            Ok(api::DisputeStatus::Rejected) => false,
            Ok(api::DisputeStatus::Upheld) => true,
            _ => {
                return Err(ApiError::invalid(
                    "resolution",
                    "DISPUTE_STATUS_REJECTED (dunning resumes) or DISPUTE_STATUS_UPHELD (the items leave dunning)",
                )
                .into());
            }
        };
        let note = wire::required("note", &request.note, 1000)?;
        if !upheld && !request.relief.is_empty() {
            return Err(ApiError::invalid(
                "relief",
                "only an upheld dispute takes something off what is owed",
            )
            .into());
        }
        let mut tx = self.pool.begin().await.map_err(ApiError::from)?;
        let Some(dispute) = store::disputes::for_update(&mut tx, dispute_id)
            .await
            .map_err(ApiError::from)?
        else {
            return Err(ApiError::NotFound(format!("no dispute with id {dispute_id}")).into());
        };
        kit::auth::owners::require_customer(&mut tx, &caller, dispute.customer_id).await?;
        if dispute.status != "open" {
            return Err(ApiError::FailedPrecondition(format!(
                "dispute {dispute_id} was {} by {} already",
                dispute.status,
                dispute.resolved_by.unwrap_or_default()
            ))
            .into());
        }
        let currencies = store::disputes::item_currencies(&mut tx, dispute_id)
            .await
            .map_err(ApiError::from)?;
        let mut relief = Vec::with_capacity(request.relief.len());
        for (i, line) in request.relief.iter().enumerate() {
            let receivable_id =
                wire::uuid(&format!("relief[{i}].receivable_id"), &line.receivable_id)?;
            let Some((_, currency)) = currencies.iter().find(|(id, _)| *id == receivable_id) else {
                return Err(ApiError::invalid(
                    format!("relief[{i}].receivable_id"),
                    format!("{receivable_id} is not one of the disputed items"),
                )
                .into());
            };
            if wire::component_from_wire(line.component).is_none() {
                return Err(ApiError::invalid(
                    format!("relief[{i}].component"),
                    "name principal (a credit), late_fee, interest or costs (a waiver)",
                )
                .into());
            }
            let amount =
                wire::positive_amount(&format!("relief[{i}].amount"), &line.amount, currency)?;
            relief.push(proto::events::v1::DisputeReliefLine {
                receivable_id: receivable_id.to_string(),
                amount: Some(proto::types::v1::ComponentAmount {
                    component: line.component,
                    amount: Some(wire::money(amount, currency)),
                }),
            });
        }
        let now = store::disputes::now(&mut tx)
            .await
            .map_err(ApiError::from)?;
        store::disputes::resolve(&mut tx, dispute_id, upheld, caller.subject(), now, &note)
            .await
            .map_err(ApiError::from)?;
        let event = proto::events::v1::DisputeResolved {
            dispute_id: dispute_id.to_string(),
            customer_id: dispute.customer_id.to_string(),
            upheld,
            receivable_ids: dispute.receivable_ids.iter().map(Uuid::to_string).collect(),
            resolved_by: caller.subject().to_owned(),
            resolved_at: now.to_rfc3339(),
            note: note.clone(),
            relief,
        };
        self.outbox
            .enqueue(
                &mut tx,
                kit::events::DUNNING,
                &dispute.customer_id.to_string(),
                &event,
            )
            .await
            .map_err(ApiError::from)?;
        let done = store::disputes::for_update(&mut tx, dispute_id)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::NotFound(format!("no dispute with id {dispute_id}")))?;
        tx.commit().await.map_err(ApiError::from)?;
        Ok(Response::new(api::ResolveDisputeResponse {
            dispute: Some(dispute_to_wire(&done)),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_disputes(
        &self,
        request: Request<api::ListDisputesRequest>,
    ) -> Result<Response<api::ListDisputesResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let customer_id = wire::uuid("customer_id", &request.get_ref().customer_id)?;
        self.scope_customer(&caller, customer_id).await?;
        let mut conn = self.pool.acquire().await.map_err(ApiError::from)?;
        let rows = store::disputes::list(&mut conn, customer_id)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(api::ListDisputesResponse {
            disputes: rows.iter().map(dispute_to_wire).collect(),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn propose_plan(
        &self,
        request: Request<api::ProposePlanRequest>,
    ) -> Result<Response<api::ProposePlanResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let plan = crate::plans::propose(self, &caller, request.get_ref()).await?;
        Ok(Response::new(api::ProposePlanResponse { plan: Some(plan) }))
    }

    #[tracing::instrument(skip_all)]
    async fn approve_plan(
        &self,
        request: Request<api::ApprovePlanRequest>,
    ) -> Result<Response<api::ApprovePlanResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let plan = crate::plans::approve(self, &caller, request.get_ref()).await?;
        Ok(Response::new(api::ApprovePlanResponse { plan: Some(plan) }))
    }

    #[tracing::instrument(skip_all)]
    async fn reject_plan(
        &self,
        request: Request<api::RejectPlanRequest>,
    ) -> Result<Response<api::RejectPlanResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let plan = crate::plans::reject(self, &caller, request.get_ref()).await?;
        Ok(Response::new(api::RejectPlanResponse { plan: Some(plan) }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_plans(
        &self,
        request: Request<api::ListPlansRequest>,
    ) -> Result<Response<api::ListPlansResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let plans = crate::plans::list(self, &caller, request.get_ref()).await?;
        Ok(Response::new(api::ListPlansResponse { plans }))
    }

    #[tracing::instrument(skip_all)]
    async fn move_clock(
        &self,
        request: Request<api::MoveClockRequest>,
    ) -> Result<Response<api::MoveClockResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        caller.touch("clock", "dunning");
        if !self.simulated {
            return Err(ApiError::FailedPrecondition(
                "dunning's clock moves only in a simulation (BUSINESS_CLOCK=simulated, never in production)".to_owned(),
            )
            .into());
        }
        let seconds = request.get_ref().seconds;
        if seconds == 0 || seconds > 10 * 366 * 86_400 {
            return Err(ApiError::invalid(
                "seconds",
                "move the clock forward by 1 second to 10 years",
            )
            .into());
        }
        let mut conn = self.pool.acquire().await.map_err(ApiError::from)?;
        let offset =
            store::disputes::move_clock(&mut conn, i64::try_from(seconds).unwrap_or(i64::MAX))
                .await
                .map_err(ApiError::from)?;
        tracing::warn!(
            offset,
            by = caller.subject(),
            "dunning's simulated clock moved"
        );
        Ok(Response::new(api::MoveClockResponse {
            now: (Utc::now() + chrono::Duration::seconds(offset)).to_rfc3339(),
            offset_seconds: offset,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_queue(
        &self,
        request: Request<api::ListQueueRequest>,
    ) -> Result<Response<api::ListQueueResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let request = request.into_inner();
        let owner = match request.owner.trim() {
            "" => None,
            owner => Some(owner.to_owned()),
        };
        let limit = i64::from(kit::paging::page_size(request.page_size));
        let (scope_mode, scope_value) = kit::auth::owners::params(&caller.scope);
        let mut conn = self.pool.acquire().await.map_err(ApiError::from)?;
        let today = store::ladder::latest_day(&mut conn)
            .await
            .map_err(ApiError::from)?
            .unwrap_or_else(|| Utc::now().date_naive());
        let now = store::disputes::now(&mut conn)
            .await
            .map_err(ApiError::from)?;
        let rows = store::queue::rows(
            &mut conn,
            (scope_mode, &scope_value),
            owner.as_deref(),
            today - chrono::Days::new(90),
            now - chrono::Duration::days(30),
            limit,
        )
        .await
        .map_err(ApiError::from)?;
        let mut entries: Vec<(Uuid, Decimal, crate::domain::queue::Estimate)> = Vec::new();
        let mut by_customer = std::collections::HashMap::new();
        for row in rows {
            let days = row.oldest_due.map_or(0, |d| (today - d).num_days().max(0));
            let estimate = crate::domain::queue::estimate(&crate::domain::queue::Signals {
                grade: &row.grade,
                days_overdue: days,
                collectible: row.collectible,
                paid_lately: row.paid_lately,
                latest_outcome: row.latest_outcome.as_deref().and_then(Outcome::parse),
                broken_promises: u32::try_from(row.broken_promises).unwrap_or(u32::MAX),
            });
            entries.push((row.customer_id, row.collectible, estimate));
            by_customer.insert(row.customer_id, (row, days));
        }
        crate::domain::queue::order(&mut entries);
        let entries = entries
            .into_iter()
            .filter_map(|(customer_id, collectible, e)| {
                let (row, days) = by_customer.remove(&customer_id)?;
                caller.touch("customer", customer_id);
                Some(api::QueueEntry {
                    customer_id: customer_id.to_string(),
                    case_id: row.case_id.to_string(),
                    name: row.name,
                    owner: row.owner,
                    grade: row.grade,
                    days_overdue: u32::try_from(days).unwrap_or_default(),
                    collectible: Some(wire::money(collectible, &row.currency)),
                    probability: e.probability.to_string(),
                    expected_recovery: Some(wire::money(e.expected, &row.currency)),
                    reasons: e.reasons,
                    model: crate::domain::queue::MODEL.to_owned(),
                    next_task_due: row.next_task.map(|t| t.to_rfc3339()).unwrap_or_default(),
                })
            })
            .collect();
        Ok(Response::new(api::ListQueueResponse { entries }))
    }

    #[tracing::instrument(skip_all)]
    async fn get_kpis(
        &self,
        request: Request<api::GetKpisRequest>,
    ) -> Result<Response<api::GetKpisResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let request = request.into_inner();
        let from = wire::date("from", &request.from)?;
        let to = wire::date("to", &request.to)?;
        if to < from {
            return Err(ApiError::invalid("to", format!("{to} is before from {from}")).into());
        }
        let owner = match request.owner.trim() {
            "" => None,
            owner => Some(owner.to_owned()),
        };
        let currency = match request.currency.trim() {
            "" => "CNY".to_owned(),
            c => wire::currency("currency", c)?,
        };
        let (scope_mode, scope_value) = kit::auth::owners::params(&caller.scope);
        // Contacts are counted by the business day they happened on (Asia/Shanghai).
        let zone = chrono_tz::Asia::Shanghai;
        let instant = |day: NaiveDate| {
            use chrono::TimeZone as _;
            zone.from_local_datetime(&day.and_time(chrono::NaiveTime::MIN))
                .earliest()
                .map_or_else(
                    || day.and_time(chrono::NaiveTime::MIN).and_utc(),
                    |t| t.with_timezone(&Utc),
                )
        };
        let (contacts_from, contacts_to) = (instant(from), instant(to + chrono::Days::new(1)));
        let mut conn = self.pool.acquire().await.map_err(ApiError::from)?;
        let team = match request.team.trim() {
            "" => None,
            team => Some(team.to_owned()),
        };
        let owners = store::kpis::owners(
            &mut conn,
            (scope_mode, &scope_value),
            owner.as_deref(),
            team.as_deref(),
        )
        .await
        .map_err(ApiError::from)?;
        let mut rows = Vec::with_capacity(owners.len());
        let mut total = store::kpis::Figures::default();
        let mut steps: std::collections::BTreeMap<String, Decimal> =
            std::collections::BTreeMap::new();
        type Sum = (
            store::kpis::Figures,
            std::collections::BTreeMap<String, Decimal>,
        );
        let mut teams: std::collections::BTreeMap<String, Sum> = std::collections::BTreeMap::new();
        for (owner, team) in owners {
            let mut f = store::kpis::figures(
                &mut conn,
                &owner,
                &currency,
                from,
                to,
                contacts_from,
                contacts_to,
            )
            .await
            .map_err(ApiError::from)?;
            // R-O7, R-D11: CEI and recovery rate replay the balances learned.
            for history in store::kpis::histories(&mut conn, &owner, &currency, to)
                .await
                .map_err(ApiError::from)?
            {
                f.balances += crate::domain::kpi::components(&history, from, to);
            }
            f.team.clone_from(&team);
            absorb(&mut total, &mut steps, &f);
            let (in_team, team_steps) = teams.entry(team.clone()).or_default();
            in_team.team = team;
            absorb(in_team, team_steps, &f);
            rows.push(kpi_row(&f, &currency));
        }
        total.by_step = steps.into_iter().collect();
        let teams = teams
            .into_values()
            .map(|(mut f, steps)| {
                f.by_step = steps.into_iter().collect();
                kpi_row(&f, &currency)
            })
            .collect();
        Ok(Response::new(api::GetKpisResponse {
            collectors: rows,
            total: Some(kpi_row(&total, &currency)),
            teams,
        }))
    }
}
