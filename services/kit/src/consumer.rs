//! The idempotent consumer.
//!
//! For each message: decode the envelope; in one transaction record the event id
//! (`ON CONFLICT DO NOTHING`: a repeat is a success with no effect) and apply the handler's
//! change; commit; only then store the offset.
//!
//! Group commit (issue 16): the messages already waiting when one arrives (up to
//! `CONSUMER_BATCH_MAX`) are applied in one transaction, in the order received, and committed
//! once; their offsets are stored after the commit. If one of them fails, the transaction is
//! rolled back, the ones before it are applied together again, the failing one goes alone
//! through the path below (retries, dead letter), and the batch goes on after it: order per
//! partition is kept and a bad message costs its neighbours nothing but a second try.
//!
//! Failures are of three kinds:
//! - a failing dependency (the database unreachable, a pool timeout, the server shutting
//!   down, a serialization conflict): never the message's fault, so it is retried until the
//!   dependency is back, with backoff up to 30 s, and the service reports itself NOT_SERVING
//!   on its health check meanwhile; it never goes to the dead-letter topic;
//! - any other transient failure: retried up to `CONSUMER_MAX_ATTEMPTS`, then dead-lettered;
//! - a permanent one (e.g. a payload that does not decode): dead-lettered at once.
//!
//! A dead letter is published to the service's dead-letter topic first (the message is safe
//! there whatever the database does), then recorded in `dead_letters`: at once when the
//! database takes it, and in any case by the service's dead-letter recorder
//! ([`crate::deadletter`]), which follows the topic and catches up after an outage.

use std::time::Duration;

use anyhow::Context as _;
use prost::Message as _;
use rdkafka::Message as _;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Header, OwnedHeaders};
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

    /// Whether consecutive events of this type may be applied together by
    /// [`handle_run`](Self::handle_run) (issue 16: a few statements for many events instead
    /// of a few per event). Default: no.
    fn together(&self, event_type: &str) -> bool {
        let _ = event_type;
        false
    }

    /// Whether a run may mix the types [`together`](Self::together) accepts (consecutive
    /// events of any of them form one run) rather than hold one type. Default: one type.
    /// For a handler whose run takes each event in turn and batches only what they all
    /// write (reporting's trace): a bank file's payments interleave their events' types.
    fn mixed_runs(&self) -> bool {
        false
    }

    /// Applies consecutive events of one type [`together`](Self::together) accepts (of
    /// several, when [`mixed_runs`](Self::mixed_runs)), in
    /// order, inside `tx`, with the same effect as [`handle`](Self::handle) on each in turn.
    /// `Err((k, e))`: event `k` failed (when one statement for several failed, the first of
    /// them), and the consumer applies the events before `k` again and event `k` alone.
    fn handle_run(
        &self,
        tx: &mut PgConnection,
        events: &[&IncomingEvent],
    ) -> impl Future<Output = Result<(), (usize, HandleError)>> + Send {
        one_by_one(self, tx, events)
    }
}

/// Applies `events` with [`Handler::handle`], each in turn: the default run, and what a
/// handler's own run falls back to when the run is not the usual one.
pub async fn one_by_one<H: Handler + ?Sized>(
    handler: &H,
    tx: &mut PgConnection,
    events: &[&IncomingEvent],
) -> Result<(), (usize, HandleError)> {
    for (i, event) in events.iter().enumerate() {
        handler.handle(tx, event).await.map_err(|e| (i, e))?;
    }
    Ok(())
}

/// A shared handler is a handler: the consumer and the dead-letter re-drive use the same one.
impl<H: Handler> Handler for std::sync::Arc<H> {
    fn wants(&self, event_type: &str) -> bool {
        (**self).wants(event_type)
    }

    fn handle(
        &self,
        tx: &mut PgConnection,
        event: &IncomingEvent,
    ) -> impl Future<Output = Result<(), HandleError>> + Send {
        (**self).handle(tx, event)
    }

    fn together(&self, event_type: &str) -> bool {
        (**self).together(event_type)
    }

    fn mixed_runs(&self) -> bool {
        (**self).mixed_runs()
    }

    fn handle_run(
        &self,
        tx: &mut PgConnection,
        events: &[&IncomingEvent],
    ) -> impl Future<Output = Result<(), (usize, HandleError)>> + Send {
        (**self).handle_run(tx, events)
    }
}

/// Records inside `tx` that the event `event_id` is being applied; false when it was applied
/// before (a repeat, to be skipped as a success). The consumer and the dead-letter re-drive
/// both go through here.
pub(crate) async fn record_processed(
    tx: &mut PgConnection,
    event_id: Uuid,
    event_type: &str,
    topic: &str,
    partition: i32,
    offset: i64,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO processed_events (event_id, event_type, topic, kafka_partition, kafka_offset)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(event_id)
    .bind(event_type)
    .bind(topic)
    .bind(partition)
    .bind(offset)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// [`record_processed`] for every event of a batch in one statement: the ids of the events
/// not applied before.
async fn record_processed_batch(
    tx: &mut PgConnection,
    entries: &[Entry<'_>],
) -> Result<std::collections::HashSet<Uuid>, sqlx::Error> {
    let mut ids = Vec::with_capacity(entries.len());
    let mut types = Vec::with_capacity(entries.len());
    let mut topics = Vec::with_capacity(entries.len());
    let mut partitions = Vec::with_capacity(entries.len());
    let mut offsets = Vec::with_capacity(entries.len());
    for entry in entries {
        if let Entry::Event {
            message,
            event,
            event_id,
        } = entry
        {
            ids.push(*event_id);
            types.push(event.envelope.event_type.as_str());
            topics.push(message.topic());
            partitions.push(message.partition());
            offsets.push(message.offset());
        }
    }
    if ids.is_empty() {
        return Ok(std::collections::HashSet::new());
    }
    // ON CONFLICT DO NOTHING also covers an id twice in the batch: it is inserted once.
    let inserted: Vec<Uuid> = sqlx::query_scalar(
        "INSERT INTO processed_events (event_id, event_type, topic, kafka_partition, kafka_offset)
         SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::int4[], $5::int8[])
         ON CONFLICT (event_id) DO NOTHING
         RETURNING event_id",
    )
    .bind(&ids)
    .bind(&types)
    .bind(&topics)
    .bind(&partitions)
    .bind(&offsets)
    .fetch_all(&mut *tx)
    .await?;
    Ok(inserted.into_iter().collect())
}

/// How often the consumer lag is measured.
const LAG_EVERY: Duration = Duration::from_secs(15);

/// Longest pause between two tries while a dependency is down.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Whether `error` comes from a failing dependency rather than from the message: such a
/// failure is retried until the dependency is back, never dead-lettered.
pub fn is_infrastructure(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        if let Some(e) = cause.downcast_ref::<sqlx::Error>() {
            return match e {
                sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::Protocol(_)
                | sqlx::Error::WorkerCrashed => true,
                // 08: connection exception; 53: insufficient resources; 57: operator
                // intervention (admin shutdown, cannot connect now, statement cancelled by
                // timeout); 40001/40P01: serialization failure and deadlock, gone on retry.
                sqlx::Error::Database(db) => db.code().is_some_and(|code| {
                    code.starts_with("08")
                        || code.starts_with("53")
                        || code.starts_with("57")
                        || code == "40001"
                        || code == "40P01"
                }),
                _ => false,
            };
        }
        cause.downcast_ref::<std::io::Error>().is_some()
    })
}

/// How many consumers of this process are stalled on a failing dependency; the gRPC health
/// check reports NOT_SERVING while any is.
#[derive(Debug, Clone)]
pub struct Stalls(std::sync::Arc<tokio::sync::watch::Sender<u32>>);

impl Default for Stalls {
    fn default() -> Self {
        Self(std::sync::Arc::new(tokio::sync::watch::Sender::new(0)))
    }
}

impl Stalls {
    /// Follows the count.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u32> {
        self.0.subscribe()
    }

    fn stalled(&self) {
        self.0.send_modify(|n| *n += 1);
        self.export();
    }

    fn recovered(&self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
        self.export();
    }

    fn export(&self) {
        if let Some(m) = crate::metrics::get() {
            m.consumer_stalled.set(i64::from(*self.0.borrow() > 0));
        }
    }
}

/// Runs a handler over subscribed topics until shutdown.
pub struct ConsumerTask<H> {
    pub(crate) service: &'static str,
    pub(crate) consumer: StreamConsumer,
    pub(crate) producer: crate::producer::Producer,
    pub(crate) dead_letter_topic: String,
    pub(crate) pool: PgPool,
    pub(crate) handler: H,
    pub(crate) max_attempts: u32,
    /// At most this many waiting messages are applied in one transaction.
    pub(crate) batch_max: usize,
    /// How long a batch waits for more messages after its first (`CONSUMER_BATCH_LINGER_MS`).
    pub(crate) batch_linger: Duration,
    pub(crate) stalls: Stalls,
}

enum Outcome {
    Applied,
    Duplicate,
}

/// One message of a batch, as far as it can be judged before anything is applied.
enum Entry<'m> {
    /// An event the handler wants, with its id.
    Event {
        message: &'m BorrowedMessage<'m>,
        event: Box<IncomingEvent>,
        event_id: Uuid,
    },
    /// Nothing to apply (a type the handler does not act on); its offset is stored in turn.
    Skip(&'m BorrowedMessage<'m>),
    /// Settled only on the one-by-one path (a message to dead-letter).
    Alone(&'m BorrowedMessage<'m>),
}

impl<'m> Entry<'m> {
    /// The type of an event to apply.
    fn event_type(&self) -> Option<&str> {
        match self {
            Entry::Event { event, .. } => Some(event.envelope.event_type.as_str()),
            Entry::Skip(_) | Entry::Alone(_) => None,
        }
    }

    fn message(&self) -> &'m BorrowedMessage<'m> {
        match self {
            Entry::Event { message, .. } | Entry::Skip(message) | Entry::Alone(message) => message,
        }
    }
}

impl<H: Handler> ConsumerTask<H> {
    /// Consumes until `shutdown`; the message in hand is finished first and stored offsets
    /// are committed before returning, as far as the broker answers within
    /// [`crate::kafka::CLOSE_WITHIN`] (what is not committed is read again after restart).
    pub async fn run(self, mut shutdown: Shutdown) {
        let mut lag_every = tokio::time::interval(LAG_EVERY);
        loop {
            let message = tokio::select! {
                () = shutdown.wait() => break,
                _ = lag_every.tick() => {
                    self.export_lag(&shutdown);
                    continue;
                }
                message = self.consumer.recv() => message,
            };
            match message {
                Ok(first) => {
                    // Group commit: whatever else is already waiting, or arrives within the
                    // linger, joins this batch.
                    let mut batch = vec![first];
                    let until = tokio::time::Instant::now() + self.batch_linger;
                    while batch.len() < self.batch_max {
                        match tokio::time::timeout_at(until, self.consumer.recv()).await {
                            Ok(Ok(message)) => batch.push(message),
                            Ok(Err(error)) => {
                                tracing::warn!(%error, "kafka consumer error");
                                break;
                            }
                            Err(_) => break,
                        }
                    }
                    let entries: Vec<Entry<'_>> = batch.iter().map(|m| self.prepare(m)).collect();
                    if !self.settle(&entries, &shutdown).await {
                        // Shutdown while a message could not be settled: its offset (and the
                        // following ones) stay unstored, so it is read again after restart.
                        break;
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "kafka consumer error");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
        let service = self.service;
        crate::kafka::close_consumer(self.consumer, crate::kafka::CLOSE_WITHIN, "consumer").await;
        tracing::info!(service, "consumer stopped");
    }

    /// Sets `consumer_lag` for each assigned partition: the high watermark less the next
    /// offset to read (issue 16 item 3). The watermark query is a short broker round trip,
    /// made off the async threads. A query that fails ends the round (the broker is not
    /// answering: one second lost, not one per partition), and so does shutdown.
    fn export_lag(&self, shutdown: &Shutdown) {
        let Some(m) = crate::metrics::get() else {
            return;
        };
        // block_in_place needs the multi-threaded runtime the services run on.
        if tokio::runtime::Handle::try_current()
            .map(|h| h.runtime_flavor() != tokio::runtime::RuntimeFlavor::MultiThread)
            .unwrap_or(true)
        {
            return;
        }
        let Ok(position) = self.consumer.position() else {
            return;
        };
        for element in position.elements() {
            if shutdown.is_triggered() {
                return;
            }
            let (topic, partition) = (element.topic(), element.partition());
            let Some(next) = element.offset().to_raw() else {
                continue;
            };
            let watermarks = tokio::task::block_in_place(|| {
                self.consumer
                    .fetch_watermarks(topic, partition, Duration::from_secs(1))
            });
            let Ok((_, high)) = watermarks else {
                return;
            };
            let lag = if next < 0 { high } else { (high - next).max(0) };
            m.consumer_lag
                .with_label_values(&[topic, &partition.to_string()])
                .set(lag);
        }
    }

    /// Counts a consumed event's result (issue 16 item 3).
    fn count(topic: &str, result: &str) {
        if let Some(m) = crate::metrics::get() {
            m.consumer_events.with_label_values(&[topic, result]).inc();
        }
    }

    /// Judges a message before anything is applied: an event the handler wants, one to skip,
    /// or one only the one-by-one path settles (not an envelope, a foreign producer, a bad id).
    fn prepare<'m>(&self, message: &'m BorrowedMessage<'m>) -> Entry<'m> {
        let Ok(envelope) = Envelope::decode(message.payload().unwrap_or_default()) else {
            return Entry::Alone(message);
        };
        if crate::events::owner_of_topic(message.topic()) != Some(envelope.producer.as_str()) {
            return Entry::Alone(message);
        }
        if !self.handler.wants(&envelope.event_type) {
            return Entry::Skip(message);
        }
        let Ok(event_id) = Uuid::parse_str(&envelope.event_id) else {
            return Entry::Alone(message);
        };
        Entry::Event {
            message,
            event: Box::new(IncomingEvent {
                envelope,
                topic: message.topic().to_owned(),
            }),
            event_id,
        }
    }

    fn store(&self, message: &BorrowedMessage<'_>) {
        if let Err(error) = self.consumer.store_offset_from_message(message) {
            tracing::warn!(%error, "could not store consumer offset");
        }
    }

    /// Settles a batch in order: runs of events in one transaction each, anything else one by
    /// one. Offsets are stored as messages are settled. False when shutdown interrupted it.
    async fn settle(&self, entries: &[Entry<'_>], shutdown: &Shutdown) -> bool {
        let mut rest = entries;
        while !rest.is_empty() {
            let run = rest
                .iter()
                .position(|e| matches!(e, Entry::Alone(_)))
                .unwrap_or(rest.len());
            if run == 0 {
                let message = rest[0].message();
                if !self.process(message, shutdown).await {
                    return false;
                }
                self.store(message);
                rest = &rest[1..];
                continue;
            }
            if !self.apply_run(&rest[..run], shutdown).await {
                return false;
            }
            rest = &rest[run..];
        }
        true
    }

    /// Applies events (and skips) in one transaction; on a failure, those before the failing
    /// one together again, the failing one alone, then the rest.
    async fn apply_run(&self, entries: &[Entry<'_>], shutdown: &Shutdown) -> bool {
        let mut rest = entries;
        while !rest.is_empty() {
            let events = rest
                .iter()
                .filter(|e| matches!(e, Entry::Event { .. }))
                .count();
            if events <= 1 {
                // Nothing to gain: the one-by-one path, with its retries.
                for entry in rest {
                    if !self.one(entry, shutdown).await {
                        return false;
                    }
                }
                return true;
            }
            match self.apply_together(rest).await {
                Ok(()) => return true,
                Err(failed) => {
                    let (before, after) = rest.split_at(failed);
                    if !before.is_empty() && self.apply_together(before).await.is_err() {
                        for entry in before {
                            if !self.one(entry, shutdown).await {
                                return false;
                            }
                        }
                    }
                    if !self.one(&after[0], shutdown).await {
                        return false;
                    }
                    rest = &after[1..];
                }
            }
        }
        true
    }

    /// One entry on the one-by-one path, its offset stored once settled.
    async fn one(&self, entry: &Entry<'_>, shutdown: &Shutdown) -> bool {
        let message = entry.message();
        match entry {
            Entry::Skip(_) => Self::count(message.topic(), "skipped"),
            Entry::Event { .. } | Entry::Alone(_) => {
                if !self.process(message, shutdown).await {
                    return false;
                }
            }
        }
        self.store(message);
        true
    }

    /// Applies every event of `entries` in one transaction and commits; on success counts
    /// them and stores every offset in order. Err(k): entry k failed (or the commit did: 0),
    /// and nothing was applied.
    async fn apply_together(&self, entries: &[Entry<'_>]) -> Result<(), usize> {
        let mut tx = self.pool.begin().await.map_err(|_| 0usize)?;
        // Which events are new, recorded for the whole batch in one statement (issue 16).
        let mut fresh = match record_processed_batch(&mut tx, entries).await {
            Ok(fresh) => fresh,
            Err(error) => {
                tracing::debug!(%error, "recording a batch's events failed; applied one by one");
                return Err(0);
            }
        };
        let mut outcomes: Vec<Option<Outcome>> = Vec::with_capacity(entries.len());
        // New events of one type the handler applies together, waiting to be applied (by
        // their index in `entries`).
        let mut run: Vec<usize> = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            let Entry::Event {
                message,
                event,
                event_id,
            } = entry
            else {
                outcomes.push(None);
                continue;
            };
            // An event twice in one batch is new the first time only.
            if !fresh.remove(event_id) {
                outcomes.push(Some(Outcome::Duplicate));
                continue;
            }
            let event_type = event.envelope.event_type.as_str();
            if self.handler.together(event_type) {
                if !self.handler.mixed_runs()
                    && run
                        .first()
                        .is_some_and(|&r| entries[r].event_type() != Some(event_type))
                {
                    self.apply_run_together(&mut tx, entries, &run).await?;
                    run.clear();
                }
                run.push(i);
                outcomes.push(Some(Outcome::Applied));
                continue;
            }
            self.apply_run_together(&mut tx, entries, &run).await?;
            run.clear();
            let span = Self::span(event, message);
            let result = self.handler.handle(&mut tx, event).instrument(span).await;
            match result {
                Ok(()) => outcomes.push(Some(Outcome::Applied)),
                Err(error) => {
                    tracing::debug!(%error, "an event of a batch failed; it is applied alone");
                    return Err(i);
                }
            }
        }
        self.apply_run_together(&mut tx, entries, &run).await?;
        if let Err(error) = tx.commit().await {
            tracing::debug!(%error, "a batch's commit failed; its events are applied again");
            return Err(0);
        }
        if let Some(m) = crate::metrics::get() {
            // A batch holds at most CONSUMER_BATCH_MAX (10,000) messages: exact in an f64.
            m.consumer_batch
                .observe(f64::from(u32::try_from(entries.len()).unwrap_or(u32::MAX)));
        }
        for (entry, outcome) in entries.iter().zip(outcomes) {
            let message = entry.message();
            Self::count(
                message.topic(),
                match outcome {
                    Some(Outcome::Applied) => "applied",
                    Some(Outcome::Duplicate) => "duplicate",
                    None => "skipped",
                },
            );
            self.store(message);
        }
        Ok(())
    }

    /// Applies the events `run` (indexes in `entries`, one type) with the handler's
    /// [`Handler::handle_run`]; Err(k): entry k failed.
    async fn apply_run_together(
        &self,
        tx: &mut PgConnection,
        entries: &[Entry<'_>],
        run: &[usize],
    ) -> Result<(), usize> {
        let events: Vec<&IncomingEvent> = run
            .iter()
            .filter_map(|&i| match &entries[i] {
                Entry::Event { event, .. } => Some(event.as_ref()),
                _ => None,
            })
            .collect();
        let Some((first, Entry::Event { event, message, .. })) =
            run.first().map(|&i| (i, &entries[i]))
        else {
            return Ok(());
        };
        // One span for the run, a child of its first event's trace (R-O2).
        let span = Self::span(event, message);
        span.record("events", events.len());
        match self.handler.handle_run(tx, &events).instrument(span).await {
            Ok(()) => Ok(()),
            Err((k, error)) => {
                tracing::debug!(%error, "an event of a batch failed; it is applied alone");
                Err(run.get(k).copied().unwrap_or(first))
            }
        }
    }

    /// The span of one consumed event, a child of the producer's trace (R-O2).
    fn span(event: &IncomingEvent, message: &BorrowedMessage<'_>) -> tracing::Span {
        let span = tracing::info_span!(
            "consume",
            otel.name = %format!("consume {}", event.envelope.event_type),
            event_id = %event.envelope.event_id,
            event_type = %event.envelope.event_type,
            topic = message.topic(),
            partition = message.partition(),
            offset = message.offset(),
            // How many events of a run applied together this span covers (issue 16).
            events = tracing::field::Empty,
        );
        crate::telemetry::set_remote_parent(
            &span,
            &event.envelope.traceparent,
            &event.envelope.tracestate,
        );
        span
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
        // Only the owner of a topic writes it: an envelope claiming another producer is not
        // ours to apply, whoever managed to put it there.
        let owner = crate::events::owner_of_topic(message.topic());
        if owner != Some(envelope.producer.as_str()) {
            let reason = format!(
                "producer {:?} is not the owner of topic {} ({}); refused",
                envelope.producer,
                message.topic(),
                owner.unwrap_or("no known owner")
            );
            return self
                .dead_letter(
                    message,
                    &envelope.event_id,
                    &envelope.event_type,
                    &reason,
                    shutdown,
                )
                .await;
        }
        if !self.handler.wants(&envelope.event_type) {
            Self::count(message.topic(), "skipped");
            return true;
        }
        let event = IncomingEvent {
            envelope,
            topic: message.topic().to_owned(),
        };
        let span = Self::span(&event, message);
        async {
            let mut attempt = 0;
            let mut outage: u32 = 0;
            loop {
                attempt += 1;
                let result = self.apply(&event, message).await;
                if outage > 0
                    && !matches!(&result, Err(HandleError::Transient(e)) if is_infrastructure(e))
                {
                    self.stalls.recovered();
                    tracing::info!(tries = outage, "dependency back; consuming again");
                }
                match result {
                    Ok(Outcome::Applied) => {
                        Self::count(message.topic(), "applied");
                        return true;
                    }
                    Ok(Outcome::Duplicate) => {
                        Self::count(message.topic(), "duplicate");
                        tracing::debug!("duplicate event skipped");
                        return true;
                    }
                    Err(HandleError::Transient(error)) if is_infrastructure(&error) => {
                        // Not the message's fault: wait for the dependency, however long.
                        if outage == 0 {
                            self.stalls.stalled();
                        }
                        outage += 1;
                        attempt = 0;
                        let delay =
                            Duration::from_millis(200 * 2u64.pow(outage.min(8))).min(MAX_BACKOFF);
                        tracing::warn!(
                            tries = outage,
                            error = format!("{error:#}"),
                            ?delay,
                            "a dependency is failing; the message waits (not dead-lettered)"
                        );
                        if !shutdown.pause(delay).await {
                            self.stalls.recovered();
                            return false;
                        }
                    }
                    Err(HandleError::Permanent(reason)) => {
                        return self
                            .dead_letter_event(message, &event, &reason, shutdown)
                            .await;
                    }
                    Err(HandleError::Transient(error)) if attempt < self.max_attempts => {
                        let delay = Duration::from_millis(200 * 2u64.pow(attempt.min(6)));
                        Self::count(message.topic(), "retried");
                        tracing::warn!(
                            attempt,
                            error = format!("{error:#}"),
                            ?delay,
                            "handler failed, retrying"
                        );
                        // Shutdown ends the backoff (up to 12.8 s): the offset stays
                        // unstored and the message is read again after the restart.
                        if !shutdown.pause(delay).await {
                            return false;
                        }
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
        let fresh = record_processed(
            &mut tx,
            event_id,
            &event.envelope.event_type,
            message.topic(),
            message.partition(),
            message.offset(),
        )
        .await?;
        if !fresh {
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
        Self::count(message.topic(), "dead_lettered");
        if let Some(m) = crate::metrics::get() {
            m.dead_letters.with_label_values(&[message.topic()]).inc();
        }
        let partition = message.partition().to_string();
        let offset = message.offset().to_string();
        let delivered = loop {
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
            let record = crate::producer::Record {
                topic: &self.dead_letter_topic,
                key: message.key(),
                payload: message.payload().unwrap_or_default(),
                headers,
            };
            let sent = tokio::select! {
                sent = self.producer.send(record, Duration::from_secs(30)) => sent,
                () = shutdown.past(crate::shutdown::IN_FLIGHT_GRACE) => {
                    // Its offset stays unstored: read again after restart, it fails again
                    // and is dead-lettered then (a second copy on the topic at worst).
                    tracing::warn!(
                        "dead-letter publish not acknowledged by the broker in time on \
                         shutdown; the message is read again after restart"
                    );
                    return false;
                }
            };
            match sent {
                Ok(delivery) => break delivery,
                Err(error) => {
                    tracing::warn!(%error, "dead-letter publish failed, retrying");
                    if !shutdown.pause(Duration::from_secs(1)).await {
                        return false;
                    }
                }
            }
        };
        // The fast path; the recorder writes the same row (same position) if this fails.
        let letter = crate::deadletter::NewDeadLetter {
            topic: self.dead_letter_topic.clone(),
            partition: delivered.partition,
            offset: delivered.offset,
            key: message.key().map(<[u8]>::to_vec),
            payload: message.payload().unwrap_or_default().to_vec(),
            headers: [
                ("reason", reason),
                ("event_id", event_id),
                ("event_type", event_type),
                ("source_topic", message.topic()),
                ("source_partition", partition.as_str()),
                ("source_offset", offset.as_str()),
            ]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        };
        // Bounded: with the database down this must not hold the partition for the pool's
        // acquire timeout; the recorder writes the row when the database is back.
        let recorded = tokio::time::timeout(
            Duration::from_secs(2),
            crate::deadletter::store::record(&self.pool, &letter),
        )
        .await;
        match recorded {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => {
                tracing::warn!(%error, "dead letter not recorded yet; the recorder will catch up");
            }
            Err(_) => tracing::warn!(
                "dead letter not recorded yet (database slow); the recorder will catch up"
            ),
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_dependency_is_told_from_a_failing_message() {
        let infra = |e: sqlx::Error| is_infrastructure(&anyhow::Error::new(e).context("begin"));
        assert!(infra(sqlx::Error::PoolTimedOut));
        assert!(infra(sqlx::Error::PoolClosed));
        assert!(infra(sqlx::Error::Io(std::io::Error::from(
            std::io::ErrorKind::ConnectionRefused
        ))));
        assert!(!infra(sqlx::Error::RowNotFound));
        assert!(!infra(sqlx::Error::ColumnNotFound("x".into())));
        assert!(!is_infrastructure(&anyhow::anyhow!(
            "allocation makes no sense"
        )));
    }

    #[tokio::test]
    async fn stalls_are_counted_for_the_health_check() {
        let stalls = Stalls::default();
        let mut seen = stalls.subscribe();
        stalls.stalled();
        stalls.stalled();
        stalls.recovered();
        assert_eq!(*seen.borrow_and_update(), 1);
        stalls.recovered();
        stalls.recovered();
        assert_eq!(*seen.borrow_and_update(), 0, "never below zero");
    }
}
