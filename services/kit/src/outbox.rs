//! Transactional outbox: events are rows written in the same transaction as the state change
//! they describe, and a relay publishes them with an idempotent producer.
//!
//! Delivery is at least once: a crash between publishing and marking a batch sent publishes
//! it again, and consumers drop the repeat by event id. Order per key is kept: one relay per
//! service holds a transaction-scoped advisory lock while it publishes a batch in id order.

use std::time::Duration;

use anyhow::Context as _;
use prost::{Message, Name};
use rdkafka::message::{Header, OwnedHeaders};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::events;
use crate::shutdown::Shutdown;

/// Writes events into the outbox of one service.
#[derive(Debug, Clone)]
pub struct Outbox {
    producer: &'static str,
}

impl Outbox {
    /// An outbox whose events are stamped as produced by `producer`.
    pub fn new(producer: &'static str) -> Self {
        Self { producer }
    }

    /// Adds `payload` for `topic` (name without prefix) keyed by `key`. Call it inside the
    /// transaction that makes the change the event reports.
    pub async fn enqueue<E: Message + Name>(
        &self,
        conn: &mut PgConnection,
        topic: &str,
        key: &str,
        payload: &E,
    ) -> Result<Uuid, sqlx::Error> {
        let envelope = events::envelope(self.producer, key, payload);
        let event_id =
            Uuid::parse_str(&envelope.event_id).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
        sqlx::query(
            "INSERT INTO outbox (event_id, topic, message_key, event_type, envelope, traceparent)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(event_id)
        .bind(topic)
        .bind(key)
        .bind(&envelope.event_type)
        .bind(envelope.encode_to_vec())
        .bind(&envelope.traceparent)
        .execute(conn)
        .await?;
        Ok(event_id)
    }

    /// Adds many events for `topic` in one statement, in the order given (the relay
    /// publishes in that order, so events with the same key stay in order): for the daily
    /// cycle and other batch work. Call it inside the transaction that makes the changes.
    pub async fn enqueue_batch<E: Message + Name>(
        &self,
        conn: &mut PgConnection,
        topic: &str,
        events: &[(String, E)],
    ) -> Result<(), sqlx::Error> {
        let mut staged = self.staged();
        for (key, payload) in events {
            staged.push(topic, key, payload)?;
        }
        staged.write(conn).await
    }

    /// Events of any types and topics gathered in memory and written in one statement by
    /// [`Staged::write`], in the order pushed: for work that produces many events in one
    /// transaction (a bank file's payments, issue 16).
    pub fn staged(&self) -> Staged {
        Staged {
            producer: self.producer,
            ids: Vec::new(),
            topics: Vec::new(),
            keys: Vec::new(),
            types: Vec::new(),
            envelopes: Vec::new(),
            traceparents: Vec::new(),
        }
    }
}

/// Events waiting to be written into the outbox together (see [`Outbox::staged`]). Nothing
/// is in the outbox until [`write`](Self::write) ran inside the transaction of the change.
#[derive(Debug)]
#[must_use = "staged events are lost unless written"]
pub struct Staged {
    producer: &'static str,
    ids: Vec<Uuid>,
    topics: Vec<String>,
    keys: Vec<String>,
    types: Vec<String>,
    envelopes: Vec<Vec<u8>>,
    traceparents: Vec<String>,
}

impl Staged {
    /// Adds `payload` for `topic` keyed by `key`; returns its event id.
    pub fn push<E: Message + Name>(
        &mut self,
        topic: &str,
        key: &str,
        payload: &E,
    ) -> Result<Uuid, sqlx::Error> {
        let envelope = events::envelope(self.producer, key, payload);
        let id =
            Uuid::parse_str(&envelope.event_id).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
        self.ids.push(id);
        self.topics.push(topic.to_owned());
        self.keys.push(key.to_owned());
        self.types.push(envelope.event_type.clone());
        self.traceparents.push(envelope.traceparent.clone());
        self.envelopes.push(envelope.encode_to_vec());
        Ok(id)
    }

    /// How many events wait.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether none wait.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Writes the waiting events into the outbox in one statement, in the order pushed, and
    /// empties the batch.
    pub async fn write(&mut self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        if self.ids.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO outbox (event_id, topic, message_key, event_type, envelope, traceparent)
             SELECT e, o, k, t, v, p
             FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::bytea[], $6::text[])
                  WITH ORDINALITY AS u(e, o, k, t, v, p, n)
             ORDER BY n",
        )
        .bind(&self.ids)
        .bind(&self.topics)
        .bind(&self.keys)
        .bind(&self.types)
        .bind(&self.envelopes)
        .bind(&self.traceparents)
        .execute(conn)
        .await?;
        self.ids.clear();
        self.topics.clear();
        self.keys.clear();
        self.types.clear();
        self.envelopes.clear();
        self.traceparents.clear();
        Ok(())
    }
}

/// Publishes outbox rows until shutdown.
pub struct Relay {
    pub(crate) retention: Duration,
    pub(crate) processed_retention: Duration,
    pub(crate) pool: PgPool,
    pub(crate) producer: crate::producer::Producer,
    pub(crate) topic_prefix: String,
    pub(crate) poll: Duration,
    pub(crate) lock_key: i64,
}

const BATCH: i64 = 500;

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    event_id: Uuid,
    topic: String,
    message_key: String,
    event_type: String,
    envelope: Vec<u8>,
    traceparent: String,
}

impl Relay {
    /// Runs until `shutdown`; a batch in flight is finished first.
    pub async fn run(self, shutdown: Shutdown) {
        let mut backoff = self.poll;
        let mut next_prune = tokio::time::Instant::now();
        let mut next_gauge = tokio::time::Instant::now();
        loop {
            if shutdown.is_triggered() {
                break;
            }
            if tokio::time::Instant::now() >= next_gauge {
                next_gauge += Duration::from_secs(5);
                self.export_backlog().await;
            }
            if tokio::time::Instant::now() >= next_prune {
                next_prune += Duration::from_secs(600);
                if let Err(error) = self.prune().await {
                    tracing::warn!(
                        error = format!("{error:#}"),
                        "outbox relay: pruning published events failed"
                    );
                }
            }
            // A batch waits for the broker's acknowledgments; with the broker gone that is
            // librdkafka's message timeout (30 s). On shutdown it gets IN_FLIGHT_GRACE, then
            // is given up: its rows stay unpublished and go out after restart (a consumer
            // recognises the ones the broker took after all as repeats).
            let published = tokio::select! {
                published = self.publish_batch() => published,
                () = shutdown.past(crate::shutdown::IN_FLIGHT_GRACE) => {
                    tracing::warn!(
                        "outbox relay: the broker did not acknowledge the batch in flight in \
                         time on shutdown; its events stay unpublished and are sent after \
                         restart"
                    );
                    // Dropping the producer purges what it still holds.
                    tracing::info!("outbox relay stopped");
                    return;
                }
            };
            let delay = match published {
                Ok(n) if n as i64 == BATCH => Duration::ZERO,
                Ok(_) => {
                    backoff = self.poll;
                    self.poll
                }
                Err(error) => {
                    tracing::warn!(
                        error = format!("{error:#}"),
                        "outbox relay: batch failed, will retry"
                    );
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    backoff
                }
            };
            if !delay.is_zero() && !shutdown.pause(delay).await {
                break;
            }
        }
        if let Err(error) = self.producer.flush(Duration::from_secs(10)) {
            tracing::warn!(%error, "outbox relay: flush on shutdown failed");
        }
        tracing::info!("outbox relay stopped");
    }

    /// Sets `outbox_backlog` and `outbox_oldest_age_seconds` (issue 16 item 3).
    async fn export_backlog(&self) {
        let Some(m) = crate::metrics::get() else {
            return;
        };
        let row: Result<(i64, Option<f64>), sqlx::Error> = sqlx::query_as(
            "SELECT COUNT(*), EXTRACT(EPOCH FROM now() - MIN(created_at))::float8
             FROM outbox WHERE published_at IS NULL",
        )
        .fetch_one(&self.pool)
        .await;
        match row {
            Ok((backlog, age)) => {
                m.outbox_backlog.set(backlog);
                // Whole seconds are plenty for an alarm on a stuck relay.
                #[allow(clippy::cast_possible_truncation)]
                m.outbox_oldest_age_seconds
                    .set(age.map_or(0, |a| a.max(0.0).round() as i64));
            }
            Err(error) => tracing::debug!(%error, "outbox backlog gauge"),
        }
    }

    /// Deletes events published longer ago than the retention (`OUTBOX_RETENTION_HOURS`), and
    /// the ids of events consumed longer ago than `PROCESSED_EVENTS_RETENTION_DAYS`.
    async fn prune(&self) -> anyhow::Result<()> {
        let hours = i64::try_from(self.retention.as_secs() / 3600).unwrap_or(i64::MAX);
        let deleted = sqlx::query(
            "DELETE FROM outbox WHERE published_at IS NOT NULL AND published_at < now() - make_interval(hours => $1::int)",
        )
        .bind(hours)
        .execute(&self.pool)
        .await
        .context("outbox: prune")?
        .rows_affected();
        if deleted > 0 {
            tracing::info!(deleted, "outbox relay pruned published events");
        }
        // The consumer's record of handled events, kept as long as a redelivery is possible.
        let days = i64::try_from(self.processed_retention.as_secs() / 86_400).unwrap_or(i64::MAX);
        let deleted = sqlx::query(
            "DELETE FROM processed_events WHERE processed_at < now() - make_interval(days => $1::int)",
        )
        .bind(days)
        .execute(&self.pool)
        .await
        .context("processed_events: prune")?
        .rows_affected();
        if deleted > 0 {
            tracing::info!(deleted, "pruned the ids of events consumed long ago");
        }
        Ok(())
    }

    /// Publishes one batch; returns how many events were published.
    async fn publish_batch(&self) -> anyhow::Result<usize> {
        let mut tx = self.pool.begin().await.context("outbox: begin")?;
        let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
            .bind(self.lock_key)
            .fetch_one(&mut *tx)
            .await
            .context("outbox: advisory lock")?;
        if !locked {
            // Another replica is the active relay.
            return Ok(0);
        }
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, event_id, topic, message_key, event_type, envelope, traceparent
             FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT $1",
        )
        .bind(BATCH)
        .fetch_all(&mut *tx)
        .await
        .context("outbox: select batch")?;
        if rows.is_empty() {
            return Ok(0);
        }
        let topics: Vec<String> = rows
            .iter()
            .map(|r| format!("{}{}", self.topic_prefix, r.topic))
            .collect();
        let event_ids: Vec<String> = rows.iter().map(|r| r.event_id.to_string()).collect();
        // `send` enqueues when first polled; join_all polls in order, so the producer sees
        // the rows in id order and the idempotent producer keeps that order per partition.
        let sends = rows
            .iter()
            .zip(&topics)
            .zip(&event_ids)
            .map(|((row, topic), event_id)| {
                let headers = OwnedHeaders::new()
                    .insert(Header {
                        key: "event_id",
                        value: Some(event_id.as_str()),
                    })
                    .insert(Header {
                        key: "event_type",
                        value: Some(row.event_type.as_str()),
                    })
                    .insert(Header {
                        key: "traceparent",
                        value: Some(row.traceparent.as_str()),
                    });
                let record = crate::producer::Record {
                    topic,
                    key: Some(row.message_key.as_bytes()),
                    payload: &row.envelope,
                    headers,
                };
                self.producer.send(record, Duration::from_secs(30))
            });
        let results = futures::future::join_all(sends).await;
        for (row, result) in rows.iter().zip(results) {
            if let Err(error) = result {
                anyhow::bail!(
                    "publishing event {} to {}: {error}",
                    row.event_id,
                    row.topic
                );
            }
        }
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        sqlx::query("UPDATE outbox SET published_at = now() WHERE id = ANY($1)")
            .bind(&ids)
            .execute(&mut *tx)
            .await
            .context("outbox: mark published")?;
        tx.commit().await.context("outbox: commit")?;
        tracing::debug!(count = rows.len(), "outbox relay published a batch");
        if let Some(m) = crate::metrics::get() {
            m.outbox_published.inc_by(rows.len() as u64);
        }
        Ok(rows.len())
    }
}

/// A stable advisory-lock key per schema, so the relays of different services sharing one
/// database never block each other.
pub(crate) fn lock_key(schema: &str) -> i64 {
    // FNV-1a: stable across builds and platforms, unlike std's hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in format!("outbox:{schema}").bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    i64::from_ne_bytes(hash.to_ne_bytes())
}
