//! `receivables.deadletters.v1.DeadLetterService` over the service's own dead letters.

use std::sync::{Arc, OnceLock};

use chrono::{DateTime, SecondsFormat, Utc};
use prost::Message as _;
use sqlx::PgPool;
use tonic::{Request, Response, Status as GrpcStatus};
use uuid::Uuid;

use proto::deadletters::v1 as api;
use proto::deadletters::v1::dead_letter_service_server::DeadLetterService;
use proto::events::v1::Envelope;

use super::Status;
use super::redrive::Redrive;
use super::store::{self, Row};
use crate::auth::Caller;
use crate::consumer::{HandleError, IncomingEvent, is_infrastructure};
use crate::{ApiError, wire};

/// The service's handler, set when its consumer starts ([`crate::App::consume`]).
pub type RedriverSlot = Arc<OnceLock<Arc<dyn Redrive>>>;

/// `DeadLetterService` over `pool`'s schema.
#[derive(Clone)]
pub struct DeadLetterApi {
    pool: PgPool,
    redriver: RedriverSlot,
}

impl std::fmt::Debug for DeadLetterApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeadLetterApi")
            .field("redriver", &self.redriver.get().is_some())
            .finish_non_exhaustive()
    }
}

impl DeadLetterApi {
    /// The API over `pool`'s schema; re-drives go to the handler put into `redriver`.
    pub fn new(pool: PgPool, redriver: RedriverSlot) -> Self {
        Self { pool, redriver }
    }
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn status_of(row: &Row) -> api::DeadLetterStatus {
    match row.status.parse::<Status>() {
        Ok(Status::Open) => api::DeadLetterStatus::Open,
        Ok(Status::Redriven) => api::DeadLetterStatus::Redriven,
        Ok(Status::Discarded) => api::DeadLetterStatus::Discarded,
        Err(_) => api::DeadLetterStatus::Unspecified,
    }
}

fn envelope_of(row: &Row) -> Option<Envelope> {
    row.payload
        .as_deref()
        .and_then(|p| Envelope::decode(p).ok())
}

/// The record and what the envelope says about itself; never the payload (it may hold
/// personal data).
fn to_proto(row: &Row) -> api::DeadLetter {
    let envelope = envelope_of(row);
    let occurred_at = envelope
        .as_ref()
        .and_then(|e| e.occurred_at.as_ref())
        .and_then(|t| DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0)))
        .map(rfc3339)
        .unwrap_or_default();
    api::DeadLetter {
        dead_letter_id: row.id,
        status: status_of(row) as i32,
        reason: row.reason.clone(),
        event_id: row.event_id.clone(),
        event_type: row.event_type.clone(),
        producer: envelope
            .as_ref()
            .map(|e| e.producer.clone())
            .unwrap_or_default(),
        aggregate_key: envelope
            .as_ref()
            .map(|e| e.aggregate_key.clone())
            .unwrap_or_default(),
        source_topic: row.topic.clone(),
        source_partition: row.kafka_partition,
        source_offset: row.kafka_offset,
        dead_letter_topic: row.dead_letter_topic.clone().unwrap_or_default(),
        dead_letter_partition: row.dead_letter_partition.unwrap_or(-1),
        dead_letter_offset: row.dead_letter_offset.unwrap_or(-1),
        recorded_at: rfc3339(row.recorded_at),
        resolved_by: row.resolved_by.clone().unwrap_or_default(),
        resolved_at: row.resolved_at.map(rfc3339).unwrap_or_default(),
        note: row.note.clone(),
        payload_bytes: row
            .payload
            .as_ref()
            .map_or(0, |p| i64::try_from(p.len()).unwrap_or(i64::MAX)),
        occurred_at,
    }
}

fn id_field(id: i64) -> Result<i64, ApiError> {
    if id > 0 {
        Ok(id)
    } else {
        Err(ApiError::invalid(
            "dead_letter_id",
            format!("{id} is not a dead letter id (a positive number from ListDeadLetters)"),
        ))
    }
}

fn not_open(row: &Row) -> ApiError {
    ApiError::FailedPrecondition(format!(
        "dead letter {} is {} already (by {} at {}); nothing to do",
        row.id,
        row.status,
        row.resolved_by.as_deref().unwrap_or("?"),
        row.resolved_at.map(rfc3339).unwrap_or_default()
    ))
}

/// Why a stored message can never be re-driven, if it cannot.
fn never_handled(row: &Row, redriver: &dyn Redrive) -> Result<IncomingEvent, ApiError> {
    let discard = "it can never be handled; discard it with a reason";
    let Some(payload) = row.payload.as_deref() else {
        return Err(ApiError::FailedPrecondition(format!(
            "dead letter {} was recorded before messages were stored; {discard}",
            row.id
        )));
    };
    let envelope = Envelope::decode(payload).map_err(|e| {
        ApiError::FailedPrecondition(format!(
            "the message is not an event envelope ({e}); {discard}"
        ))
    })?;
    // The same refusal as the consumer's: a forged event is never applied, whoever asks.
    let owner = crate::events::owner_of_topic(&row.topic);
    if owner != Some(envelope.producer.as_str()) {
        return Err(ApiError::FailedPrecondition(format!(
            "producer {:?} is not the owner of topic {}; {discard}",
            envelope.producer, row.topic
        )));
    }
    if Uuid::parse_str(&envelope.event_id).is_err() {
        return Err(ApiError::FailedPrecondition(format!(
            "event_id {:?} is not a UUID; {discard}",
            envelope.event_id
        )));
    }
    if !redriver.wants(&envelope.event_type) {
        return Err(ApiError::FailedPrecondition(format!(
            "this service does not act on {}; {discard}",
            envelope.event_type
        )));
    }
    Ok(IncomingEvent {
        envelope,
        topic: row.topic.clone(),
    })
}

#[tonic::async_trait]
impl DeadLetterService for DeadLetterApi {
    async fn list_dead_letters(
        &self,
        request: Request<api::ListDeadLettersRequest>,
    ) -> Result<Response<api::ListDeadLettersResponse>, GrpcStatus> {
        let caller = Caller::of(&request)?;
        let request = request.into_inner();
        let status = match api::DeadLetterStatus::try_from(request.status) {
            Ok(api::DeadLetterStatus::Unspecified) => None,
            Ok(api::DeadLetterStatus::Open) => Some(Status::Open),
            Ok(api::DeadLetterStatus::Redriven) => Some(Status::Redriven),
            Ok(api::DeadLetterStatus::Discarded) => Some(Status::Discarded),
            Err(_) => {
                return Err(ApiError::invalid(
                    "status",
                    format!("{} is not a DeadLetterStatus", request.status),
                )
                .into());
            }
        };
        for (field, value) in [
            ("event_type", &request.event_type),
            ("source_topic", &request.source_topic),
        ] {
            if value.len() > 300 {
                return Err(ApiError::invalid(field, "longer than 300 characters").into());
            }
        }
        let scope = format!(
            "deadletters.List status={} event_type={} source_topic={}",
            request.status, request.event_type, request.source_topic
        );
        let paging =
            crate::paging::Paging::<i64>::parse(&scope, request.page_size, &request.page_token)?;
        let filter = store::Filter {
            status,
            event_type: &request.event_type,
            source_topic: &request.source_topic,
        };
        let rows = store::list(
            &self.pool,
            &filter,
            paging.after().copied(),
            paging.fetch_limit(),
        )
        .await
        .map_err(ApiError::from)?;
        let (rows, next_page_token) = paging.finish(rows, |r| r.id);
        let open_count = store::open_count(&self.pool)
            .await
            .map_err(ApiError::from)?;
        caller.touch("dead_letters", format!("{} rows", rows.len()));
        Ok(Response::new(api::ListDeadLettersResponse {
            dead_letters: rows.iter().map(to_proto).collect(),
            next_page_token,
            open_count,
        }))
    }

    async fn get_dead_letter(
        &self,
        request: Request<api::GetDeadLetterRequest>,
    ) -> Result<Response<api::GetDeadLetterResponse>, GrpcStatus> {
        let caller = Caller::of(&request)?;
        let id = id_field(request.get_ref().dead_letter_id)?;
        caller.touch("dead_letter", id);
        let row = store::get(&self.pool, id)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::NotFound(format!("no dead letter {id} in this service")))?;
        let envelope = envelope_of(&row);
        let handled_by_service = match (&envelope, self.redriver.get()) {
            (Some(e), Some(r)) => r.wants(&e.event_type),
            _ => false,
        };
        Ok(Response::new(api::GetDeadLetterResponse {
            dead_letter: Some(to_proto(&row)),
            envelope_decodes: envelope.is_some(),
            schema_version: envelope.as_ref().map_or(0, |e| e.schema_version),
            message_key: row
                .message_key
                .as_deref()
                .map(|k| String::from_utf8_lossy(k).into_owned())
                .unwrap_or_default(),
            handled_by_service,
        }))
    }

    async fn redrive_dead_letter(
        &self,
        request: Request<api::RedriveDeadLetterRequest>,
    ) -> Result<Response<api::RedriveDeadLetterResponse>, GrpcStatus> {
        let caller = Caller::of(&request)?;
        let request = request.into_inner();
        let id = id_field(request.dead_letter_id)?;
        if request.note.chars().count() > 1000 {
            return Err(ApiError::invalid("note", "longer than 1000 characters").into());
        }
        caller.touch("dead_letter", id);
        let redriver = self.redriver.get().ok_or_else(|| {
            ApiError::FailedPrecondition("this service consumes no events".to_owned())
        })?;
        let mut tx = self.pool.begin().await.map_err(ApiError::from)?;
        let row = store::lock(&mut tx, id)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::NotFound(format!("no dead letter {id} in this service")))?;
        if row.status != Status::Open.as_str() {
            return Err(not_open(&row).into());
        }
        let event = never_handled(&row, redriver.as_ref())?;
        let event_id = Uuid::parse_str(&event.envelope.event_id)
            .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("checked above: {e}")))?;
        // The consumer's idempotent path: the event id and the effect commit together.
        let fresh = crate::consumer::record_processed(
            &mut tx,
            event_id,
            &event.envelope.event_type,
            &row.topic,
            row.kafka_partition,
            row.kafka_offset,
        )
        .await
        .map_err(ApiError::from)?;
        let outcome = if fresh {
            match redriver.handle(&mut tx, &event).await {
                Ok(()) => api::RedriveOutcome::Applied,
                Err(HandleError::Transient(error)) if is_infrastructure(&error) => {
                    return Err(GrpcStatus::unavailable(format!(
                        "a dependency is failing ({error:#}); dead letter {id} stays open, try again later"
                    )));
                }
                Err(error) => {
                    return Err(ApiError::FailedPrecondition(format!(
                        "handling failed again: {error:#}; dead letter {id} stays open (fix the cause, then redrive, or discard it)"
                    ))
                    .into());
                }
            }
        } else {
            api::RedriveOutcome::AlreadyApplied
        };
        let note = match (outcome, request.note.trim()) {
            (api::RedriveOutcome::AlreadyApplied, "") => "event was already applied".to_owned(),
            (_, note) => note.to_owned(),
        };
        let row = store::resolve(&mut tx, id, Status::Redriven, caller.subject(), &note)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| not_open(&row))?;
        tx.commit().await.map_err(ApiError::from)?;
        tracing::info!(
            dead_letter = id,
            by = caller.subject(),
            ?outcome,
            "dead letter re-driven"
        );
        Ok(Response::new(api::RedriveDeadLetterResponse {
            dead_letter: Some(to_proto(&row)),
            outcome: outcome as i32,
        }))
    }

    async fn discard_dead_letter(
        &self,
        request: Request<api::DiscardDeadLetterRequest>,
    ) -> Result<Response<api::DiscardDeadLetterResponse>, GrpcStatus> {
        let caller = Caller::of(&request)?;
        let request = request.into_inner();
        let id = id_field(request.dead_letter_id)?;
        let reason = wire::required("reason", &request.reason, 1000)?;
        caller.touch("dead_letter", id);
        let mut tx = self.pool.begin().await.map_err(ApiError::from)?;
        let resolved = store::resolve(&mut tx, id, Status::Discarded, caller.subject(), &reason)
            .await
            .map_err(ApiError::from)?;
        let Some(row) = resolved else {
            return Err(
                match store::get(&self.pool, id).await.map_err(ApiError::from)? {
                    Some(row) => not_open(&row),
                    None => ApiError::NotFound(format!("no dead letter {id} in this service")),
                }
                .into(),
            );
        };
        tx.commit().await.map_err(ApiError::from)?;
        tracing::info!(
            dead_letter = id,
            by = caller.subject(),
            "dead letter discarded"
        );
        Ok(Response::new(api::DiscardDeadLetterResponse {
            dead_letter: Some(to_proto(&row)),
        }))
    }
}

#[cfg(test)]
mod tests;
