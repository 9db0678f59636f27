//! gRPC: parse the request, call the domain and the store, map the response; nothing else.

mod costs;
mod evidence;
mod moves;

use sqlx::PgPool;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use kit::{ApiError, wire};
use proto::legal::v1 as api;
use proto::legal::v1::legal_service_server::LegalService;
use proto::types::v1::{CaseOutcome, CaseStatus};

use crate::domain::case::{Outcome, Status as CaseLife};
use crate::domain::limitation;
use crate::store::{cases, steps};

/// The widest ListCases limitation window, in days.
const MAX_LIMITATION_WINDOW: u32 = 3650;

/// The gRPC API.
pub struct Api {
    pub(crate) pool: PgPool,
    pub(crate) outbox: kit::outbox::Outbox,
    /// R-L7: the court-fee schedule (checked at start).
    pub(crate) fees: std::sync::Arc<crate::domain::fees::Schedule>,
    /// Where the evidence bundle's sources are (R-L3).
    pub(crate) peers: crate::evidence::Peers,
    /// The key evidence bundles are signed with (R-L8).
    pub(crate) signer: std::sync::Arc<documents::evidence::Signer>,
    /// The timestamp authority evidence manifests are stamped by, when configured (R-L8).
    pub(crate) timestamper: Option<std::sync::Arc<crate::timestamp::Timestamper>>,
}

/// A domain status on the wire.
pub(crate) fn status_to_wire(status: CaseLife) -> CaseStatus {
    match status {
        CaseLife::Opened => CaseStatus::Opened,
        CaseLife::LawyersLetterSent => CaseStatus::LawyersLetterSent,
        CaseLife::PaymentOrderApplied => CaseStatus::PaymentOrderApplied,
        CaseLife::LitigationFiled => CaseStatus::LitigationFiled,
        CaseLife::Judgment => CaseStatus::Judgment,
        CaseLife::Enforcement => CaseStatus::Enforcement,
        CaseLife::Closed => CaseStatus::Closed,
    }
}

/// A wire status in the domain (None: unspecified or unknown).
pub(crate) fn status_from_wire(value: i32) -> Option<CaseLife> {
    match CaseStatus::try_from(value).ok()? {
        CaseStatus::Unspecified => None,
        CaseStatus::Opened => Some(CaseLife::Opened),
        CaseStatus::LawyersLetterSent => Some(CaseLife::LawyersLetterSent),
        CaseStatus::PaymentOrderApplied => Some(CaseLife::PaymentOrderApplied),
        CaseStatus::LitigationFiled => Some(CaseLife::LitigationFiled),
        CaseStatus::Judgment => Some(CaseLife::Judgment),
        CaseStatus::Enforcement => Some(CaseLife::Enforcement),
        CaseStatus::Closed => Some(CaseLife::Closed),
    }
}

/// A domain outcome on the wire.
pub(crate) fn outcome_to_wire(outcome: Outcome) -> CaseOutcome {
    match outcome {
        Outcome::Paid => CaseOutcome::Paid,
        Outcome::Settled => CaseOutcome::Settled,
        Outcome::Withdrawn => CaseOutcome::Withdrawn,
        Outcome::WrittenOff => CaseOutcome::WrittenOff,
    }
}

/// A wire outcome in the domain (None: unspecified or unknown).
pub(crate) fn outcome_from_wire(value: i32) -> Option<Outcome> {
    match CaseOutcome::try_from(value).ok()? {
        CaseOutcome::Unspecified => None,
        CaseOutcome::Paid => Some(Outcome::Paid),
        CaseOutcome::Settled => Some(Outcome::Settled),
        CaseOutcome::Withdrawn => Some(Outcome::Withdrawn),
        CaseOutcome::WrittenOff => Some(Outcome::WrittenOff),
    }
}

/// A stored status name on the wire (an unknown name, which the schema's CHECK rules out, is
/// unspecified).
fn stored_status(name: &str) -> i32 {
    CaseLife::parse(name).map_or(CaseStatus::Unspecified, status_to_wire) as i32
}

/// A stored outcome name on the wire.
fn stored_outcome(name: Option<&str>) -> i32 {
    name.and_then(Outcome::parse)
        .map_or(CaseOutcome::Unspecified, outcome_to_wire) as i32
}

/// A recorded step on the wire.
pub(crate) fn step_to_wire(step: &steps::StepRow) -> api::CaseStep {
    api::CaseStep {
        step_id: step.id.to_string(),
        from_status: stored_status(&step.from_status),
        to_status: stored_status(&step.to_status),
        outcome: stored_outcome(step.outcome.as_deref()),
        asset_preservation: step.asset_preservation,
        date: step.on_date.to_string(),
        document_reference: step.document_reference.clone(),
        reason: step.reason.clone(),
        actor: step.actor.clone(),
        recorded_at: step.recorded_at.to_rfc3339(),
    }
}

/// R-L7: a case's court fees on the wire (the refund is zero until one is computed).
fn court_fees_to_wire(row: &cases::CaseRow, currency: &str) -> Option<api::CourtFees> {
    let money = |amount: Option<rust_decimal::Decimal>| amount.map(|a| wire::money(a, currency));
    Some(api::CourtFees {
        schedule_id: row.fee_schedule.clone().unwrap_or_default(),
        payment_order_fee: money(row.payment_order_fee),
        acceptance_fee: money(row.acceptance_fee),
        court_fee_refund: Some(wire::money(
            row.court_fee_refund.unwrap_or_default(),
            currency,
        )),
    })
}

/// R-L7: a case's limitation period on the wire, days left counted from `today`.
fn limitation_to_wire(row: &cases::CaseRow, today: chrono::NaiveDate) -> Option<api::Limitation> {
    let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    let days_left = row.limitation_expires_on.map_or(0, |end| {
        let days = limitation::days_left(end, today);
        i32::try_from(days).unwrap_or(if days < 0 { i32::MIN } else { i32::MAX })
    });
    Some(api::Limitation {
        default_known_on: date(row.default_known_on),
        expires_on: date(row.limitation_expires_on),
        restarted_on: date(row.limitation_restarted_on),
        restarted_by_contact_log_seq: row
            .limitation_restart_seq
            .and_then(|s| u64::try_from(s).ok())
            .unwrap_or(0),
        days_left,
    })
}

impl Api {
    /// The latest business date of contracts' daily cycle (R-L7 days left); before the first
    /// cycle was seen, today's date.
    async fn business_date(&self) -> Result<chrono::NaiveDate, ApiError> {
        Ok(crate::store::limitation::business_date(&self.pool)
            .await?
            .unwrap_or_else(|| chrono::Utc::now().date_naive()))
    }

    /// A case with its receivables, log and history.
    pub(crate) async fn load(&self, row: cases::CaseRow) -> Result<api::LegalCase, ApiError> {
        let currency = row.currency.trim().to_owned();
        let receivables = cases::claimed_receivables(&self.pool, row.id).await?;
        let log = cases::log_of(&self.pool, row.id).await?;
        let history = steps::history(&self.pool, row.id).await?;
        let today = self.business_date().await?;
        let court_fees = court_fees_to_wire(&row, &currency);
        let limitation = limitation_to_wire(&row, today);
        let claim = crate::domain::claim::sum(
            &receivables
                .iter()
                .map(cases::ClaimedRow::owed)
                .collect::<Vec<_>>(),
        );
        Ok(api::LegalCase {
            case_id: row.id.to_string(),
            customer_id: row.customer_id.to_string(),
            dunning_case_id: row.dunning_case_id.to_string(),
            status: stored_status(&row.status),
            outcome: stored_outcome(row.outcome.as_deref()),
            closed_on: row.closed_on.map(|d| d.to_string()).unwrap_or_default(),
            assets_preserved: row.assets_preserved,
            amount_claimed: Some(wire::money(row.amount_claimed, &currency)),
            withdrawal_flagged: row.withdrawal_flagged,
            opened_on: row.opened_on.to_string(),
            receivables: receivables
                .into_iter()
                .map(|r| api::CaseReceivable {
                    receivable_id: r.receivable_id.to_string(),
                    owed: Some(wire::owed(&r.owed(), &currency)),
                    contract_no: r.contract_no,
                    claimed: Some(wire::money(r.claimed, &currency)),
                    open_amount: Some(wire::money(r.open_amount, &currency)),
                })
                .collect(),
            events: log
                .into_iter()
                .map(|e| api::CaseEvent {
                    kind: e.kind,
                    detail: e.detail,
                    recorded_at: e.recorded_at.to_rfc3339(),
                })
                .collect(),
            history: history.iter().map(step_to_wire).collect(),
            court_fees,
            limitation,
            claim: Some(wire::owed(&claim, &currency)),
        })
    }

    /// A case by id, loaded.
    pub(crate) async fn case(&self, case_id: Uuid) -> Result<api::LegalCase, ApiError> {
        let row = cases::by_id(&self.pool, case_id).await?.ok_or_else(|| {
            ApiError::NotFound(format!(
                "no legal case {case_id}; list cases with ListCases"
            ))
        })?;
        self.load(row).await
    }
}

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
        Ok(Response::new(api::GetCaseResponse {
            legal_case: Some(self.case(case_id).await?),
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
        let status = match CaseStatus::try_from(request.status) {
            Ok(CaseStatus::Unspecified) => None,
            Ok(_) => status_from_wire(request.status).map(CaseLife::as_str),
            Err(_) => {
                return Err(ApiError::invalid(
                    "status",
                    format!("{} is not a case status; leave it unspecified for all, or name one of CASE_STATUS_OPENED … CASE_STATUS_CLOSED", request.status),
                )
                .into());
            }
        };
        // R-L7: open cases whose limitation ends within N days of the business date.
        let within = request.limitation_expires_within_days;
        if within > MAX_LIMITATION_WINDOW {
            return Err(ApiError::invalid(
                "limitation_expires_within_days",
                format!("at most {MAX_LIMITATION_WINDOW} days (ten years); 0 for no filter"),
            )
            .into());
        }
        let limitation_by = if within == 0 {
            None
        } else {
            let today = self.business_date().await?;
            today.checked_add_days(chrono::Days::new(u64::from(within)))
        };
        let paging = kit::paging::Paging::<(chrono::NaiveDate, Uuid)>::parse(
            &format!(
                "legal.ListCases customer_id={customer_id:?} status={status:?} flagged={} limitation_within={within}",
                request.withdrawal_flagged
            ),
            request.page_size,
            &request.page_token,
        )?;
        let rows = cases::list(
            &self.pool,
            &cases::ListFilter {
                customer_id,
                status,
                withdrawal_flagged_only: request.withdrawal_flagged,
                limitation_by,
                after: paging.after().copied(),
                limit: paging.fetch_limit(),
            },
        )
        .await
        .map_err(ApiError::from)?;
        let (rows, next_page_token) = paging.finish(rows, |r| (r.opened_on, r.id));
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

    #[tracing::instrument(skip_all)]
    async fn move_case(
        &self,
        request: Request<api::MoveCaseRequest>,
    ) -> Result<Response<api::MoveCaseResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let command = moves::Command::parse_move(request.get_ref())?;
        let (legal_case, step, repeat) = self.record(&caller, command).await?;
        Ok(Response::new(api::MoveCaseResponse {
            legal_case: Some(legal_case),
            step: Some(step),
            repeat,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn get_evidence_bundle(
        &self,
        request: Request<api::GetEvidenceBundleRequest>,
    ) -> Result<Response<api::GetEvidenceBundleResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let authorization = request
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let case_id = wire::uuid("case_id", &request.get_ref().case_id)?;
        caller.touch("legal_case", case_id);
        let response = self
            .evidence_bundle(&caller, authorization.as_deref(), case_id)
            .await?;
        Ok(Response::new(response))
    }

    #[tracing::instrument(skip_all)]
    async fn request_asset_preservation(
        &self,
        request: Request<api::RequestAssetPreservationRequest>,
    ) -> Result<Response<api::RequestAssetPreservationResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let command = moves::Command::parse_preservation(request.get_ref())?;
        let (legal_case, step, repeat) = self.record(&caller, command).await?;
        Ok(Response::new(api::RequestAssetPreservationResponse {
            legal_case: Some(legal_case),
            step: Some(step),
            repeat,
        }))
    }
}
