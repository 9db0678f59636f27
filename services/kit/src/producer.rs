//! A Kafka producer whose delivery reports are served by one thread that sleeps while there
//! is nothing to report.
//!
//! rdkafka's `FutureProducer` serves them from a thread that polls in slices of 100 ms, and
//! its poll loop (rdkafka 0.39, `BaseProducer::poll`) asks librdkafka to wait for the
//! remaining time in whole milliseconds: the last fraction of a millisecond of every slice is
//! a busy loop of zero-timeout polls. That cost every producer about 1 % of a core, idle or
//! not: twelve of them (a relay and a dead-letter producer per service) were 0.1 core of the
//! two cores the load harness runs on (issue 16, `perf` of an idle stack). Here a slice lasts
//! a second, so the spin is a thousandth of the time; the reports are served as they arrive,
//! whatever the slice.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::ClientContext;
use rdkafka::error::{KafkaError, KafkaResult, RDKafkaErrorCode};
use rdkafka::message::{Message, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer as _, ProducerContext};
use tokio::sync::oneshot;

/// How long one poll of the delivery reports waits; also how soon the thread ends after the
/// producer is dropped.
const POLL_SLICE: Duration = Duration::from_secs(1);

/// How long to wait before trying again when librdkafka's queue is full.
const QUEUE_FULL_PAUSE: Duration = Duration::from_millis(100);

/// Where a message was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivered {
    pub partition: i32,
    pub offset: i64,
}

/// A message to produce.
pub struct Record<'a> {
    pub topic: &'a str,
    pub key: Option<&'a [u8]>,
    pub payload: &'a [u8],
    pub headers: OwnedHeaders,
}

type Report = oneshot::Sender<Result<Delivered, KafkaError>>;

/// Hands each delivery report to the task that produced the message.
struct Reports;

impl ClientContext for Reports {}

impl ProducerContext for Reports {
    type DeliveryOpaque = Box<Report>;

    fn delivery(&self, result: &DeliveryResult<'_>, report: Self::DeliveryOpaque) {
        let outcome = match result {
            Ok(message) => Ok(Delivered {
                partition: message.partition(),
                offset: message.offset(),
            }),
            Err((error, _)) => Err(error.clone()),
        };
        // The sender is gone only when its task was cancelled: nobody waits for the report.
        let _ = report.send(outcome);
    }
}

/// A producer with its own thread for delivery reports (see the module's documentation).
/// Clones share it; dropping the last stops the thread within [`POLL_SLICE`], and
/// librdkafka's handle goes with it.
#[derive(Clone)]
pub struct Producer {
    base: Arc<BaseProducer<Reports>>,
    _stop: Arc<StopOnDrop>,
}

/// Tells the report thread to end when the last clone of its producer is dropped.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

impl Producer {
    /// A producer configured by `config`, its report thread started.
    pub fn create(config: &ClientConfig) -> KafkaResult<Self> {
        let base: Arc<BaseProducer<Reports>> = Arc::new(config.create_with_context(Reports)?);
        let stop = Arc::new(AtomicBool::new(false));
        let (polled, stopped) = (Arc::clone(&base), Arc::clone(&stop));
        std::thread::Builder::new()
            .name("kafka-reports".to_owned())
            .spawn(move || {
                while !stopped.load(Ordering::Relaxed) {
                    polled.poll(POLL_SLICE);
                }
            })
            .map_err(|e| {
                KafkaError::ClientCreation(format!("starting the delivery report thread: {e}"))
            })?;
        Ok(Self {
            base,
            _stop: Arc::new(StopOnDrop(stop)),
        })
    }

    /// Produces `record` and waits for the broker's acknowledgment. While librdkafka's queue
    /// is full it tries again for up to `queue_timeout`, then fails with `QueueFull`.
    /// Messages are queued in the order of the calls (when each future is first polled).
    pub async fn send(
        &self,
        record: Record<'_>,
        queue_timeout: Duration,
    ) -> Result<Delivered, KafkaError> {
        let started = Instant::now();
        let (report, delivered) = oneshot::channel();
        let mut base = BaseRecord::with_opaque_to(record.topic, Box::new(report))
            .payload(record.payload)
            .headers(record.headers);
        if let Some(key) = record.key {
            base = base.key(key);
        }
        loop {
            match self.base.send(base) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), again))
                    if started.elapsed() < queue_timeout =>
                {
                    base = again;
                    tokio::time::sleep(QUEUE_FULL_PAUSE).await;
                }
                Err((error, _)) => return Err(error),
            }
        }
        // The report thread runs while `self` does, so the report comes (librdkafka reports
        // every message, failed ones after `message.timeout.ms`).
        delivered.await.unwrap_or(Err(KafkaError::Canceled))
    }

    /// Waits until every queued message is delivered or `timeout` passes.
    pub fn flush(&self, timeout: Duration) -> KafkaResult<()> {
        self.base.flush(timeout)
    }
}
