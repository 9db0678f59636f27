//! MoveCase and RequestAssetPreservation (R-L2): one step of a case's life, checked by the
//! state machine (`domain::case`), recorded with its actor in the history and published in
//! the same transaction (outbox).

use chrono::NaiveDate;
use uuid::Uuid;

use kit::auth::Caller;
use kit::{ApiError, wire};
use proto::events::v1 as events;
use proto::legal::v1 as api;

use super::{Api, outcome_to_wire, status_from_wire, status_to_wire, step_to_wire};
use crate::domain::case::{Outcome, Status, Step};
use crate::domain::fees;
use crate::store::{cases, steps};

/// The longest document reference kept.
const MAX_DOCUMENT: usize = 200;
/// The longest reason kept.
const MAX_REASON: usize = 1000;
/// The longest idempotency key.
const MAX_KEY: usize = 200;

/// A step asked of a case, parsed once at the edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Command {
    case_id: Uuid,
    step: Step,
    date: NaiveDate,
    document_reference: String,
    reason: String,
    idempotency_key: String,
}

impl Command {
    /// A MoveCase request.
    pub(crate) fn parse_move(request: &api::MoveCaseRequest) -> Result<Self, ApiError> {
        let idempotency_key = wire::required("idempotency_key", &request.idempotency_key, MAX_KEY)?;
        let case_id = wire::uuid("case_id", &request.case_id)?;
        let to = status_from_wire(request.to_status).ok_or_else(|| {
            ApiError::invalid(
                "to_status",
                "name where the case goes: CASE_STATUS_LAWYERS_LETTER_SENT, \
                 CASE_STATUS_PAYMENT_ORDER_APPLIED, CASE_STATUS_LITIGATION_FILED, \
                 CASE_STATUS_JUDGMENT, CASE_STATUS_ENFORCEMENT or CASE_STATUS_CLOSED (with an outcome)",
            )
        })?;
        let outcome = crate::api::outcome_from_wire(request.outcome);
        let step = match (to, outcome) {
            (Status::Closed, Some(outcome)) => Step::Close(outcome),
            (Status::Closed, None) => {
                return Err(ApiError::invalid(
                    "outcome",
                    "closing needs an outcome: CASE_OUTCOME_PAID, CASE_OUTCOME_SETTLED, \
                     CASE_OUTCOME_WITHDRAWN or CASE_OUTCOME_WRITTEN_OFF",
                ));
            }
            (_, None) if request.outcome == 0 => Step::MoveTo(to),
            (_, _) => {
                return Err(ApiError::invalid(
                    "outcome",
                    "only a close (to_status CASE_STATUS_CLOSED) has an outcome; leave it unspecified",
                ));
            }
        };
        let date = wire::date("date", &request.date)?;
        // Closing may have no document (e.g. written off); every other step has one.
        let document_reference = if matches!(step, Step::Close(_)) {
            optional(
                "document_reference",
                &request.document_reference,
                MAX_DOCUMENT,
            )?
        } else {
            wire::required(
                "document_reference",
                &request.document_reference,
                MAX_DOCUMENT,
            )?
        };
        let reason = wire::required("reason", &request.reason, MAX_REASON)?;
        Ok(Self {
            case_id,
            step,
            date,
            document_reference,
            reason,
            idempotency_key,
        })
    }

    /// A RequestAssetPreservation request.
    pub(crate) fn parse_preservation(
        request: &api::RequestAssetPreservationRequest,
    ) -> Result<Self, ApiError> {
        Ok(Self {
            idempotency_key: wire::required("idempotency_key", &request.idempotency_key, MAX_KEY)?,
            case_id: wire::uuid("case_id", &request.case_id)?,
            step: Step::PreserveAssets,
            date: wire::date("date", &request.date)?,
            document_reference: wire::required(
                "document_reference",
                &request.document_reference,
                MAX_DOCUMENT,
            )?,
            reason: wire::required("reason", &request.reason, MAX_REASON)?,
        })
    }
}

/// A string that may be empty, at most `max` characters, trimmed.
fn optional(field: &str, value: &str, max: usize) -> Result<String, ApiError> {
    let value = value.trim();
    if value.chars().count() > max {
        return Err(ApiError::invalid(
            field,
            format!("is longer than {max} characters"),
        ));
    }
    Ok(value.to_owned())
}

/// Whether a recorded step is the one a repeat asks for.
fn same_step(earlier: &steps::StepRow, step: Step) -> bool {
    match step {
        Step::PreserveAssets => earlier.asset_preservation,
        Step::MoveTo(to) => !earlier.asset_preservation && earlier.to_status == to.as_str(),
        Step::Close(outcome) => earlier.outcome.as_deref() == Some(outcome.as_str()),
    }
}

impl Api {
    /// R-L7: the court fees a step brings, recorded with the case in the step's transaction:
    /// the payment order fee (a third of the acceptance fee) on the amount claimed when the
    /// case moves to payment_order_applied, the acceptance fee on the amount claimed when it
    /// moves to litigation_filed, and the refund of a withdrawn or settled close (returned,
    /// for CaseStatusChanged). Fees are computed only for a claim in the schedule's currency:
    /// courts charge in yuan, and a foreign-currency claim is converted by the court.
    async fn court_fees(
        &self,
        tx: &mut sqlx::PgConnection,
        case: &cases::CaseRow,
        from: Status,
        step: Step,
    ) -> Result<Option<rust_decimal::Decimal>, ApiError> {
        let currency = case.currency.trim();
        let in_schedule = currency == self.fees.currency;
        let amount = wire::format_amount(case.amount_claimed, currency);
        match step {
            Step::MoveTo(Status::PaymentOrderApplied) if in_schedule => {
                let fee = self.fees.payment_order_fee(case.amount_claimed);
                cases::record_payment_order_fee(tx, case.id, &self.fees.id, fee).await?;
                let detail = format!(
                    "payment order fee {} {currency} on {amount} claimed (schedule {}, art. 14: a third of the acceptance fee)",
                    wire::format_amount(fee, currency),
                    self.fees.id
                );
                cases::log(tx, case.id, "court_fee", &detail).await?;
                Ok(None)
            }
            Step::MoveTo(Status::LitigationFiled) if in_schedule => {
                let fee = self.fees.acceptance_fee(case.amount_claimed);
                cases::record_acceptance_fee(tx, case.id, &self.fees.id, fee).await?;
                let detail = format!(
                    "acceptance fee {} {currency} on {amount} claimed (schedule {}, art. 13)",
                    wire::format_amount(fee, currency),
                    self.fees.id
                );
                cases::log(tx, case.id, "court_fee", &detail).await?;
                Ok(None)
            }
            Step::Close(outcome @ (Outcome::Withdrawn | Outcome::Settled)) => {
                let refund = fees::refund_on_close(case.acceptance_fee, from, outcome);
                cases::record_court_fee_refund(tx, case.id, refund).await?;
                Ok(Some(refund))
            }
            Step::MoveTo(_) | Step::Close(_) | Step::PreserveAssets => Ok(None),
        }
    }

    /// Records `command` in one transaction: the step in the history, the case's new status
    /// (or preservation flag), the case log and the event (outbox). A repeat of the key
    /// returns the first step.
    pub(crate) async fn record(
        &self,
        caller: &Caller,
        command: Command,
    ) -> Result<(api::LegalCase, api::CaseStep, bool), ApiError> {
        let mut tx = self.pool.begin().await?;
        steps::lock_key(&mut tx, &command.idempotency_key).await?;
        if let Some(earlier) = steps::by_key(&mut tx, &command.idempotency_key).await? {
            if earlier.case_id != command.case_id || !same_step(&earlier, command.step) {
                return Err(ApiError::AlreadyExists(format!(
                    "idempotency_key {:?} was used for another step ({} -> {} of case {}); use a new key",
                    command.idempotency_key,
                    earlier.from_status,
                    earlier.to_status,
                    earlier.case_id
                )));
            }
            tx.commit().await?;
            caller.touch("legal_case", command.case_id);
            return Ok((
                self.case(command.case_id).await?,
                step_to_wire(&earlier),
                true,
            ));
        }
        let case = cases::for_update(&mut tx, command.case_id)
            .await?
            .ok_or_else(|| {
                ApiError::NotFound(format!(
                    "no legal case {}; list cases with ListCases",
                    command.case_id
                ))
            })?;
        let from = Status::parse(&case.status).ok_or_else(|| {
            ApiError::Unexpected(anyhow::anyhow!(
                "legal case {} has the unknown status {:?}",
                case.id,
                case.status
            ))
        })?;
        // R-L2: the state machine decides; a refusal names from, to and what is allowed.
        let to = from
            .apply(command.step)
            .map_err(|refused| ApiError::FailedPrecondition(refused.to_string()))?;
        // R-L7: a payment order needs a claim nobody disputes: refused while the debtor has a
        // dispute open with dunning (R-D8), on the claimed items or on any other debt.
        if to == Status::PaymentOrderApplied
            && let Some(open) =
                crate::store::disputes::open_of_case(&mut tx, case.id, case.customer_id)
                    .await?
                    .first()
        {
            return Err(ApiError::FailedPrecondition(format!(
                "a payment order is available only when no debt is in dispute (R-L7), and dispute {} ({}) is open {}: wait for dunning to resolve it, or file suit (LITIGATION_FILED) instead",
                open.dispute_id,
                open.reason,
                if open.on_claimed_item {
                    "on an item this case claims"
                } else {
                    "on another debt of the customer"
                }
            )));
        }
        let last = steps::last_date(&mut tx, case.id).await?;
        let earliest = last.map_or(case.opened_on, |d| d.max(case.opened_on));
        if command.date < earliest {
            return Err(ApiError::invalid(
                "date",
                format!(
                    "{} is before {earliest}, when the case opened or took its last step; give the date the step happened",
                    command.date
                ),
            ));
        }
        let outcome: Option<Outcome> = match command.step {
            Step::Close(outcome) => Some(outcome),
            Step::MoveTo(_) | Step::PreserveAssets => None,
        };
        let preservation = command.step == Step::PreserveAssets;
        let recorded = steps::record_step(
            &mut tx,
            &steps::NewStep {
                id: Uuid::now_v7(),
                case_id: case.id,
                from_status: from.as_str(),
                to_status: to.as_str(),
                outcome: outcome.map(Outcome::as_str),
                asset_preservation: preservation,
                on_date: command.date,
                document_reference: &command.document_reference,
                reason: &command.reason,
                actor: caller.subject(),
                idempotency_key: &command.idempotency_key,
            },
        )
        .await?;
        let court_fee_refund = self.court_fees(&mut tx, &case, from, command.step).await?;
        let customer_id = case.customer_id.to_string();
        let document = if command.document_reference.is_empty() {
            String::new()
        } else {
            format!(" ({})", command.document_reference)
        };
        if preservation {
            let detail = format!(
                "asset preservation requested on {}{document} by {}: {}",
                command.date,
                caller.subject(),
                command.reason
            );
            cases::log(&mut tx, case.id, "asset_preservation_requested", &detail).await?;
            let event = events::AssetPreservationRequested {
                case_id: case.id.to_string(),
                customer_id: customer_id.clone(),
                step_id: recorded.id.to_string(),
                status: status_to_wire(from) as i32,
                date: command.date.to_string(),
                document_reference: command.document_reference.clone(),
                reason: command.reason.clone(),
                actor: caller.subject().to_owned(),
            };
            self.outbox
                .enqueue(&mut tx, kit::events::LEGAL_CASES, &customer_id, &event)
                .await?;
        } else {
            let closed = outcome.map_or_else(String::new, |o| format!(" ({o})"));
            let detail = format!(
                "{from} -> {to}{closed} on {}{document} by {}: {}",
                command.date,
                caller.subject(),
                command.reason
            );
            cases::log(&mut tx, case.id, "status_changed", &detail).await?;
            let event = events::CaseStatusChanged {
                case_id: case.id.to_string(),
                customer_id: customer_id.clone(),
                step_id: recorded.id.to_string(),
                from_status: status_to_wire(from) as i32,
                to_status: status_to_wire(to) as i32,
                outcome: outcome.map_or(0, |o| outcome_to_wire(o) as i32),
                date: command.date.to_string(),
                document_reference: command.document_reference.clone(),
                reason: command.reason.clone(),
                actor: caller.subject().to_owned(),
                court_fee_refund: court_fee_refund.map(|r| wire::money(r, case.currency.trim())),
            };
            self.outbox
                .enqueue(&mut tx, kit::events::LEGAL_CASES, &customer_id, &event)
                .await?;
        }
        tx.commit().await?;
        caller.touch("legal_case", case.id);
        tracing::info!(case_id = %case.id, %from, %to, preservation, "legal case step recorded");
        Ok((self.case(case.id).await?, step_to_wire(&recorded), false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::types::v1::{CaseOutcome, CaseStatus};

    fn request() -> api::MoveCaseRequest {
        api::MoveCaseRequest {
            case_id: Uuid::now_v7().to_string(),
            to_status: CaseStatus::LawyersLetterSent as i32,
            outcome: 0,
            date: "2026-03-01".into(),
            document_reference: "LL-2026-001".into(),
            reason: "first demand through the firm".into(),
            idempotency_key: "k1".into(),
        }
    }

    fn field_of(result: Result<Command, ApiError>) -> String {
        match result {
            Err(ApiError::Invalid { field, .. }) => field,
            other => panic!("expected INVALID_ARGUMENT, got {other:?}"),
        }
    }

    #[test]
    fn a_good_move_parses() {
        let command = Command::parse_move(&request()).unwrap();
        assert_eq!(command.step, Step::MoveTo(Status::LawyersLetterSent));
    }

    #[test]
    fn bad_input_names_the_field() {
        let mut r = request();
        r.to_status = 0;
        assert_eq!(field_of(Command::parse_move(&r)), "to_status");
        let mut r = request();
        r.to_status = 99;
        assert_eq!(field_of(Command::parse_move(&r)), "to_status");
        let mut r = request();
        r.to_status = CaseStatus::Closed as i32;
        assert_eq!(field_of(Command::parse_move(&r)), "outcome");
        let mut r = request();
        r.outcome = CaseOutcome::Paid as i32;
        assert_eq!(field_of(Command::parse_move(&r)), "outcome");
        let mut r = request();
        r.outcome = 42;
        assert_eq!(field_of(Command::parse_move(&r)), "outcome");
        let mut r = request();
        r.date = "1 March".into();
        assert_eq!(field_of(Command::parse_move(&r)), "date");
        let mut r = request();
        r.document_reference = " ".into();
        assert_eq!(field_of(Command::parse_move(&r)), "document_reference");
        let mut r = request();
        r.reason = String::new();
        assert_eq!(field_of(Command::parse_move(&r)), "reason");
        let mut r = request();
        r.idempotency_key = String::new();
        assert_eq!(field_of(Command::parse_move(&r)), "idempotency_key");
        let mut r = request();
        r.case_id = "case-1".into();
        assert_eq!(field_of(Command::parse_move(&r)), "case_id");
    }

    #[test]
    fn a_close_needs_an_outcome_and_no_document() {
        let mut r = request();
        r.to_status = CaseStatus::Closed as i32;
        r.outcome = CaseOutcome::WrittenOff as i32;
        r.document_reference = String::new();
        assert_eq!(
            Command::parse_move(&r).unwrap().step,
            Step::Close(Outcome::WrittenOff)
        );
    }

    #[test]
    fn wire_and_domain_statuses_match_one_to_one() {
        for status in Status::ALL {
            assert_eq!(
                status_from_wire(status_to_wire(status) as i32),
                Some(status)
            );
        }
        for outcome in Outcome::ALL {
            assert_eq!(
                crate::api::outcome_from_wire(outcome_to_wire(outcome) as i32),
                Some(outcome)
            );
        }
    }
}
