//! The idempotent consumer.
//!
//! For each message: decode the envelope; in one transaction record the event id
//! (`ON CONFLICT DO NOTHING`: a repeat is a success with no effect) and apply the handler's
//! change; commit; only then store the offset. A transient failure is retried with backoff
//! up to `CONSUMER_MAX_ATTEMPTS`; a permanent one, or one that outlives the retries, goes to
//! the service's dead-letter topic with the reason, and the partition moves on.

use std::time::Duration;

use anyhow::Context as _;
use prost::Message as _;
use rdkafka::Message as _;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;
use sqlx::{PgConnection, PgPool};
use tracing::Instrument as _;
use uuid::Uuid;

use proto::events::v1::Envelope;

use crate::shutdown::Shutdown;

/// Why an event could not be handled.
#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    /// Retrying cannot help (e.g. a payload that does not decode): dead-letter it now.
    #[error("permanent: {0}")]
    Permanent(String),
    /// May succeed later (e.g. the database is unreachable): retry.
    #[error(transparent)]
    Transient(#[from] anyhow::Error),
}

impl From<sqlx::Error> for HandleError {
    fn from(error: sqlx::Error) -> Self {
        HandleError::Transient(error.into())
    }
}

/// Parses an id field of an event payload; one that is not a UUID can never be handled.
pub fn uuid_field(field: &str, value: &str) -> Result<Uuid, HandleError> {
    Uuid::parse_str(value)
        .map_err(|_| HandleError::Permanent(format!("{field} {value:?} is not a UUID")))
}

/// An event delivered to a handler.
#[derive(Debug)]
pub struct IncomingEvent {
    /// The envelope as produced.
    pub envelope: Envelope,
    /// Topic it came from (with any deployment prefix).
    pub topic: String,
}

impl IncomingEvent {
    /// Decodes the payload as `E`; a payload that does not decode is a permanent failure.
    pub fn decode<E: prost::Message + Default>(&self) -> Result<E, HandleError> {
        E::decode(self.envelope.payload.as_slice()).map_err(|e| {
            HandleError::Permanent(format!(
                "payload of {} does not decode: {e}",
                self.envelope.event_type
            ))
        })
    }
}

/// What a service does with the events it consumes.
pub trait Handler: Send + Sync + 'static {
    /// Whether the handler acts on this event type; others are skipped without a trace in
    /// the database.
    fn wants(&self, event_type: &str) -> bool;

    /// Applies the event inside the transaction `tx`, which also records its id.
    fn handle(
        &self,
        tx: &mut PgConnection,
        event: &IncomingEvent,
    ) -> impl Future<Output = Result<(), HandleError>> + Send;
}

/// Runs a handler over subscribed topics until shutdown.
pub struct ConsumerTask<H> {
    pub(crate) service: &'static str,
    pub(crate) consumer: StreamConsumer,
    pub(crate) producer: FutureProducer,
    pub(crate) dead_letter_topic: String,
    pub(crate) pool: PgPool,
    pub(crate) handler: H,
    pub(crate) max_attempts: u32,
}

enum Outcome {
    Applied,
    Duplicate,
}

impl<H: Handler> ConsumerTask<H> {
    /// Consumes until `shutdown`; the message in hand is finished first and stored offsets
    /// are committed before returning.
    pub async fn run(self, mut shutdown: Shutdown) {
        loop {
            let message = tokio::select! {
                () = shutdown.wait() => break,
                message = self.consumer.recv() => message,
            };
            match message {
                Ok(message) => {
                    if !self.process(&message, &shutdown).await {
                        // Shutdown while the message could not be settled: leave its offset
                        // unstored so it is read again after restart.
                        break;
                    }
                    if let Err(error) = self.consumer.store_offset_from_message(&message) {
                        tracing::warn!(%error, "could not store consumer offset");
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "kafka consumer error");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
        if let Err(error) = self.consumer.commit_consumer_state(CommitMode::Sync) {
            // Nothing stored since the last commit is the usual reason.
            tracing::debug!(%error, "final offset commit");
        }
        tracing::info!(service = self.service, "consumer stopped");
    }

    /// Handles one message to a settled state (applied, duplicate, skipped or dead-lettered).
    /// Returns false only when shutdown interrupted it before it was settled.
    async fn process(&self, message: &BorrowedMessage<'_>, shutdown: &Shutdown) -> bool {
        let payload = message.payload().unwrap_or_default();
        let envelope = match Envelope::decode(payload) {
            Ok(envelope) => envelope,
            Err(error) => {
                let reason = format!("message is not an event envelope: {error}");
                return self.dead_letter(message, "", "", &reason, shutdown).await;
            }
        };
        if !self.handler.wants(&envelope.event_type) {
            return true;
        }
        let span = tracing::info_span!(
            "consume",
            otel.name = %format!("consume {}", envelope.event_type),
            event_id = %envelope.event_id,
            event_type = %envelope.event_type,
            topic = message.topic(),
            partition = message.partition(),
            offset = message.offset(),
        );
        crate::telemetry::set_remote_parent(&span, &envelope.traceparent, &envelope.tracestate);
        let event = IncomingEvent {
            envelope,
            topic: message.topic().to_owned(),
        };
        async {
            let mut attempt = 0;
            loop {
                attempt += 1;
                match self.apply(&event, message).await {
                    Ok(Outcome::Applied) => return true,
                    Ok(Outcome::Duplicate) => {
                        tracing::debug!("duplicate event skipped");
                        return true;
                    }
                    Err(HandleError::Permanent(reason)) => {
                        return self
                            .dead_letter_event(message, &event, &reason, shutdown)
                            .await;
                    }
                    Err(HandleError::Transient(error)) if attempt < self.max_attempts => {
                        let delay = Duration::from_millis(200 * 2u64.pow(attempt.min(6)));
                        tracing::warn!(
                            attempt,
                            error = format!("{error:#}"),
                            ?delay,
                            "handler failed, retrying"
                        );
                        if shutdown.is_triggered() {
                            return false;
                        }
                        tokio::time::sleep(delay).await;
                    }
                    Err(HandleError::Transient(error)) => {
                        let reason = format!("failed {attempt} times, last error: {error:#}");
                        return self
                            .dead_letter_event(message, &event, &reason, shutdown)
                            .await;
                    }
                }
            }
        }
        .instrument(span)
        .await
    }

    async fn apply(
        &self,
        event: &IncomingEvent,
        message: &BorrowedMessage<'_>,
    ) -> Result<Outcome, HandleError> {
        let event_id = Uuid::parse_str(&event.envelope.event_id).map_err(|e| {
            HandleError::Permanent(format!(
                "event_id {:?} is not a UUID: {e}",
                event.envelope.event_id
            ))
        })?;
        let mut tx = self.pool.begin().await.context("begin")?;
        let inserted = sqlx::query(
            "INSERT INTO processed_events (event_id, event_type, topic, kafka_partition, kafka_offset)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id) DO NOTHING",
        )
        .bind(event_id)
        .bind(&event.envelope.event_type)
        .bind(message.topic())
        .bind(message.partition())
        .bind(message.offset())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Ok(Outcome::Duplicate);
        }
        self.handler.handle(&mut tx, event).await?;
        tx.commit().await.context("commit")?;
        Ok(Outcome::Applied)
    }

    async fn dead_letter_event(
        &self,
        message: &BorrowedMessage<'_>,
        event: &IncomingEvent,
        reason: &str,
        shutdown: &Shutdown,
    ) -> bool {
        self.dead_letter(
            message,
            &event.envelope.event_id,
            &event.envelope.event_type,
            reason,
            shutdown,
        )
        .await
    }

    /// Publishes the original message to the dead-letter topic with the reason. Retries until
    /// it is delivered, because storing the offset before that would lose the message.
    async fn dead_letter(
        &self,
        message: &BorrowedMessage<'_>,
        event_id: &str,
        event_type: &str,
        reason: &str,
        shutdown: &Shutdown,
    ) -> bool {
        tracing::error!(
            event_id,
            event_type,
            reason,
            "sending message to the dead-letter topic"
        );
        let partition = message.partition().to_string();
        let offset = message.offset().to_string();
        loop {
            let headers = OwnedHeaders::new()
                .insert(Header {
                    key: "reason",
                    value: Some(reason),
                })
                .insert(Header {
                    key: "event_id",
                    value: Some(event_id),
                })
                .insert(Header {
                    key: "event_type",
                    value: Some(event_type),
                })
                .insert(Header {
                    key: "source_topic",
                    value: Some(message.topic()),
                })
                .insert(Header {
                    key: "source_partition",
                    value: Some(partition.as_str()),
                })
                .insert(Header {
                    key: "source_offset",
                    value: Some(offset.as_str()),
                });
            let mut record = FutureRecord::to(&self.dead_letter_topic)
                .payload(message.payload().unwrap_or_default())
                .headers(headers);
            if let Some(key) = message.key() {
                record = record.key(key);
            }
            match self
                .producer
                .send(record, Timeout::After(Duration::from_secs(30)))
                .await
            {
                Ok(_) => break,
                Err((error, _)) => {
                    tracing::warn!(%error, "dead-letter publish failed, retrying");
                    if shutdown.is_triggered() {
                        return false;
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
        let record = sqlx::query(
            "INSERT INTO dead_letters (event_id, event_type, topic, kafka_partition, kafka_offset, reason)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(event_id)
        .bind(event_type)
        .bind(message.topic())
        .bind(message.partition())
        .bind(message.offset())
        .bind(reason)
        .execute(&self.pool)
        .await;
        if let Err(error) = record {
            // The message itself is safe on the dead-letter topic; this table is a convenience.
            tracing::warn!(%error, "could not record the dead letter in the database");
        }
        true
    }
}
