//! Credit hold (R-L5, R-S5): the gRPC methods, the legal-case event, the daily cycle's
//! overdue check and the signing check of CreateContract. The rules are in
//! [`crate::domain::hold`], the SQL in [`crate::store::holds`].

use sqlx::PgConnection;
use uuid::Uuid;

use kit::ApiError;
use kit::auth::Caller;
use kit::consumer::{HandleError, IncomingEvent, uuid_field};
use kit::outbox::Outbox;
use kit::wire;
use proto::contracts::v1 as api;
use proto::events::v1 as events;

use crate::domain::hold::{self, OverdueChange, Signing, Source, Threshold};
use crate::store::holds::{self as store, HoldRow, NewHold};

/// The longest reason kept.
const MAX_REASON: usize = 500;

fn source_to_wire(source: Option<Source>) -> api::CreditHoldSource {
    match source {
        Some(Source::LegalCase) => api::CreditHoldSource::LegalCase,
        Some(Source::Overdue) => api::CreditHoldSource::Overdue,
        Some(Source::Supervisor) => api::CreditHoldSource::Supervisor,
        Some(Source::Scoring) => api::CreditHoldSource::Scoring,
        None => api::CreditHoldSource::Unspecified,
    }
}

impl HoldRow {
    pub(crate) fn to_api(&self) -> api::CreditHold {
        api::CreditHold {
            hold_id: self.id.to_string(),
            customer_id: self.customer_id.to_string(),
            source: source_to_wire(self.source()) as i32,
            reason: self.reason.clone(),
            source_ref: self.source_ref.clone(),
            placed_by: self.placed_by.clone(),
            placed_at: self.placed_at.to_rfc3339(),
            active: self.released_at.is_none(),
            released_by: self.released_by.clone().unwrap_or_default(),
            released_at: self.released_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            release_reason: self.release_reason.clone().unwrap_or_default(),
        }
    }
}

async fn publish_placed(
    conn: &mut PgConnection,
    outbox: &Outbox,
    hold: &HoldRow,
) -> Result<(), sqlx::Error> {
    let event = events::CreditHoldPlaced {
        hold_id: hold.id.to_string(),
        customer_id: hold.customer_id.to_string(),
        source: hold.source.clone(),
        reason: hold.reason.clone(),
        source_ref: hold.source_ref.clone(),
        placed_by: hold.placed_by.clone(),
    };
    publish(conn, outbox, hold, &event).await
}

async fn publish_released(
    conn: &mut PgConnection,
    outbox: &Outbox,
    hold: &HoldRow,
) -> Result<(), sqlx::Error> {
    let event = events::CreditHoldReleased {
        hold_id: hold.id.to_string(),
        customer_id: hold.customer_id.to_string(),
        source: hold.source.clone(),
        released_by: hold.released_by.clone().unwrap_or_default(),
        reason: hold.release_reason.clone().unwrap_or_default(),
    };
    publish(conn, outbox, hold, &event).await
}

/// Publishes a hold's event on the contracts topic, keyed by its customer.
async fn publish<E: prost::Message + prost::Name>(
    conn: &mut PgConnection,
    outbox: &Outbox,
    hold: &HoldRow,
    event: &E,
) -> Result<(), sqlx::Error> {
    outbox
        .enqueue(
            conn,
            kit::events::CONTRACTS,
            &hold.customer_id.to_string(),
            event,
        )
        .await
        .map(|_| ())
}

/// PlaceCreditHold: a supervisor puts a customer in their scope on hold.
pub(crate) async fn place(
    conn: &mut PgConnection,
    outbox: &Outbox,
    caller: &Caller,
    request: &api::PlaceCreditHoldRequest,
) -> Result<api::CreditHold, ApiError> {
    let customer_id = wire::uuid("customer_id", &request.customer_id)?;
    let reason = wire::required("reason", &request.reason, MAX_REASON)?;
    kit::auth::owners::require_customer(conn, caller, customer_id).await?;
    let hold = store::place(
        conn,
        &NewHold {
            customer_id,
            source: Source::Supervisor,
            source_ref: "",
            reason: &reason,
            placed_by: caller.subject(),
        },
    )
    .await?
    .ok_or_else(|| ApiError::FailedPrecondition("the hold could not be recorded".to_owned()))?;
    publish_placed(conn, outbox, &hold).await?;
    caller.touch("credit_hold", hold.id);
    Ok(hold.to_api())
}

/// ReleaseCreditHold: only a supervisor's hold, by a supervisor with the customer in scope.
pub(crate) async fn release(
    conn: &mut PgConnection,
    outbox: &Outbox,
    caller: &Caller,
    request: &api::ReleaseCreditHoldRequest,
) -> Result<api::CreditHold, ApiError> {
    let id = wire::uuid("hold_id", &request.hold_id)?;
    let reason = wire::required("reason", &request.reason, MAX_REASON)?;
    let hold = store::lock(conn, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no credit hold with id {id}")))?;
    kit::auth::owners::require_customer(conn, caller, hold.customer_id).await?;
    caller.touch("credit_hold", id);
    if hold.released_at.is_some() {
        return Err(ApiError::FailedPrecondition(format!(
            "credit hold {id} was released already by {}",
            hold.released_by.as_deref().unwrap_or("?")
        )));
    }
    if let Some(source) = hold.source() {
        source
            .release_by_hand()
            .map_err(ApiError::FailedPrecondition)?;
    }
    let released = store::release(conn, id, caller.subject(), &reason)
        .await?
        .ok_or_else(|| {
            ApiError::FailedPrecondition(format!("credit hold {id} was released already"))
        })?;
    publish_released(conn, outbox, &released).await?;
    Ok(released.to_api())
}

/// ListCreditHolds: a customer's holds in the caller's scope.
pub(crate) async fn list(
    conn: &mut PgConnection,
    caller: &Caller,
    request: &api::ListCreditHoldsRequest,
) -> Result<api::ListCreditHoldsResponse, ApiError> {
    let customer_id = wire::uuid("customer_id", &request.customer_id)?;
    kit::auth::owners::require_customer(conn, caller, customer_id).await?;
    let paging = kit::paging::Paging::<Uuid>::parse(
        &format!(
            "contracts.ListCreditHolds {customer_id} released={}",
            request.include_released
        ),
        request.page_size,
        &request.page_token,
    )?;
    let rows = store::of_customer(
        conn,
        customer_id,
        request.include_released,
        paging.after().copied(),
        paging.fetch_limit(),
    )
    .await?;
    let (rows, next_page_token) = paging.finish(rows, |r| r.id);
    Ok(api::ListCreditHoldsResponse {
        holds: rows.iter().map(HoldRow::to_api).collect(),
        on_hold: store::on_hold(conn, customer_id).await?,
        next_page_token,
    })
}

/// OverrideCreditHold: a supervisor lets one named contract through.
pub(crate) async fn grant_override(
    conn: &mut PgConnection,
    caller: &Caller,
    request: &api::OverrideCreditHoldRequest,
) -> Result<api::OverrideCreditHoldResponse, ApiError> {
    let customer_id = wire::uuid("customer_id", &request.customer_id)?;
    let contract_no = wire::required("contract_no", &request.contract_no, 64)?;
    let reason = wire::required("reason", &request.reason, MAX_REASON)?;
    kit::auth::owners::require_customer(conn, caller, customer_id).await?;
    if !store::on_hold(conn, customer_id).await? {
        return Err(ApiError::FailedPrecondition(format!(
            "customer {customer_id} is not on credit hold; there is nothing to override"
        )));
    }
    let id = store::grant_override(conn, customer_id, &contract_no, &reason, caller.subject())
        .await?
        .ok_or_else(|| {
            ApiError::AlreadyExists(format!(
                "an unused override for contract {contract_no:?} exists already"
            ))
        })?;
    caller.touch("credit_hold_override", id);
    Ok(api::OverrideCreditHoldResponse {
        override_id: id.to_string(),
        granted_by: caller.subject().to_owned(),
    })
}

/// The signing check of CreateContract, inside its transaction: free, or overridden (the
/// override is used for `contract_id`), or FAILED_PRECONDITION saying why and what to do.
pub(crate) async fn check_signing(
    conn: &mut PgConnection,
    customer_id: Uuid,
    contract_no: &str,
    contract_id: Uuid,
) -> Result<(), ApiError> {
    let active = store::active_for_signing(conn, customer_id).await?;
    if active.is_empty() {
        return Ok(());
    }
    let overridden = store::use_override(conn, customer_id, contract_no, contract_id).await?;
    match hold::signing(&active, overridden) {
        Signing::Free | Signing::Overridden => {
            if overridden {
                tracing::info!(%customer_id, contract_no, "contract signed under a credit-hold override");
            }
            Ok(())
        }
        Signing::Refused(why) => Err(ApiError::FailedPrecondition(why)),
    }
}

/// A legal case was opened against a customer: hold them (R-L5). Repeats place nothing.
pub(crate) async fn on_case_opened(
    tx: &mut PgConnection,
    outbox: &Outbox,
    event: &IncomingEvent,
) -> Result<(), HandleError> {
    let case: events::CaseOpened = event.decode()?;
    let customer_id = uuid_field("customer_id", &case.customer_id)?;
    if !crate::store::customer_exists(tx, customer_id).await? {
        return Err(HandleError::Permanent(format!(
            "legal case {} names customer {customer_id}, whom contracts does not know",
            case.case_id
        )));
    }
    let reason = format!("legal case {} opened on {}", case.case_id, case.opened_on);
    let placed = store::place(
        tx,
        &NewHold {
            customer_id,
            source: Source::LegalCase,
            source_ref: &case.case_id,
            reason: &reason,
            placed_by: &event.envelope.producer,
        },
    )
    .await?;
    if let Some(hold) = placed {
        publish_placed(tx, outbox, &hold).await?;
        tracing::info!(%customer_id, case_id = %case.case_id, "credit hold placed: legal case open");
    }
    Ok(())
}

/// Scoring graded a customer (R-S5): a grade that advises a credit hold (C or worse, or a
/// severe default) places one, a later grade that does not releases it. Repeats change
/// nothing (one active scoring hold per customer).
pub(crate) async fn on_grade_changed(
    tx: &mut PgConnection,
    outbox: &Outbox,
    event: &IncomingEvent,
) -> Result<(), HandleError> {
    let graded: events::GradeChanged = event.decode()?;
    let customer_id = uuid_field("customer_id", &graded.customer_id)?;
    let advice = graded
        .strategy
        .as_ref()
        .map_or(proto::types::v1::CreditHoldAdvice::Unspecified, |s| {
            s.credit_hold()
        });
    let reasons = graded
        .reasons
        .iter()
        .map(|r| r.code.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    match advice {
        proto::types::v1::CreditHoldAdvice::Place => {
            if !crate::store::customer_exists(tx, customer_id).await? {
                return Err(HandleError::Permanent(format!(
                    "scoring graded customer {customer_id}, whom contracts does not know"
                )));
            }
            let severe = graded.strategy.as_ref().is_some_and(|s| s.severe_default);
            let reason = format!(
                "grade {} (score {}, {}){}; reasons: {}",
                graded.grade,
                graded.score,
                graded.scorecard_version,
                if severe { ", severe default" } else { "" },
                if reasons.is_empty() {
                    "none given"
                } else {
                    &reasons
                }
            );
            let placed = store::place(
                tx,
                &NewHold {
                    customer_id,
                    source: Source::Scoring,
                    source_ref: &graded.grade,
                    reason: &reason,
                    placed_by: &event.envelope.producer,
                },
            )
            .await?;
            if let Some(hold) = placed {
                publish_placed(tx, outbox, &hold).await?;
                tracing::info!(%customer_id, grade = %graded.grade, "credit hold placed: scoring advised it");
            }
        }
        proto::types::v1::CreditHoldAdvice::None => {
            if let Some(id) = store::active_scoring_hold(tx, customer_id).await? {
                let reason = format!(
                    "grade {} (score {}) no longer advises a credit hold",
                    graded.grade, graded.score
                );
                if let Some(hold) =
                    store::release(tx, id, &event.envelope.producer, &reason).await?
                {
                    publish_released(tx, outbox, &hold).await?;
                    tracing::info!(%customer_id, grade = %graded.grade, "credit hold released: grade recovered");
                }
            }
        }
        // A grade without advice (an older producer) changes nothing.
        proto::types::v1::CreditHoldAdvice::Unspecified => {}
    }
    Ok(())
}

/// A legal case closed (R-L5): the hold it placed ends with it.
pub(crate) async fn on_case_status_changed(
    tx: &mut PgConnection,
    outbox: &Outbox,
    event: &IncomingEvent,
) -> Result<(), HandleError> {
    let changed: events::CaseStatusChanged = event.decode()?;
    if changed.to_status != proto::types::v1::CaseStatus::Closed as i32 {
        return Ok(());
    }
    let Some(id) = store::active_legal_case_hold(tx, &changed.case_id).await? else {
        return Ok(());
    };
    let reason = format!("legal case {} closed on {}", changed.case_id, changed.date);
    if let Some(hold) = store::release(tx, id, &event.envelope.producer, &reason).await? {
        publish_released(tx, outbox, &hold).await?;
        tracing::info!(case_id = %changed.case_id, "credit hold released: legal case closed");
    }
    Ok(())
}

/// The daily cycle's overdue check (R-S5): places an overdue hold on every customer above
/// the threshold and releases it for those back at or under it.
pub(crate) async fn apply_overdue_threshold(
    tx: &mut PgConnection,
    outbox: &Outbox,
    threshold: &Threshold,
    as_of: chrono::NaiveDate,
) -> Result<(u32, u32), sqlx::Error> {
    let (mut placed, mut released) = (0, 0);
    for (customer_id, overdue, held) in store::overdue_by_customer(tx, &threshold.currency).await? {
        match hold::overdue_change(overdue, threshold, held) {
            OverdueChange::Keep => {}
            OverdueChange::Place => {
                let reason = format!(
                    "overdue {overdue} {} above the threshold {} {} on {as_of}",
                    threshold.currency, threshold.amount, threshold.currency
                );
                let source_ref = as_of.to_string();
                if let Some(hold) = store::place(
                    tx,
                    &NewHold {
                        customer_id,
                        source: Source::Overdue,
                        source_ref: &source_ref,
                        reason: &reason,
                        placed_by: crate::SERVICE,
                    },
                )
                .await?
                {
                    publish_placed(tx, outbox, &hold).await?;
                    placed += 1;
                }
            }
            OverdueChange::Release => {
                if let Some(id) = store::active_overdue_hold(tx, customer_id).await? {
                    let reason = format!(
                        "overdue {overdue} {} at or under the threshold on {as_of}",
                        threshold.currency
                    );
                    if let Some(hold) = store::release(tx, id, crate::SERVICE, &reason).await? {
                        publish_released(tx, outbox, &hold).await?;
                        released += 1;
                    }
                }
            }
        }
    }
    Ok((placed, released))
}
