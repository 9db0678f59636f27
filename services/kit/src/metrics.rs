//! Metrics in the Prometheus text format (issue 16 item 3), served on `METRICS_ADDR` at
//! `/metrics` beside the OTLP traces. One registry per process; the kit records what is the
//! same in every service (gRPC calls, consumers, the outbox, dead letters) and services add
//! their own gauges (payments' ledger, the daily cycles' progress) through [`gauge`].
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | `grpc_server_handled_total` | counter | `method`, `code` |
//! | `grpc_server_handling_seconds` | histogram | `method` |
//! | `consumer_events_total` | counter | `topic`, `result` (`applied`, `duplicate`, `skipped`, `retried`, `dead_lettered`) |
//! | `consumer_lag` | gauge | `topic`, `partition` (high watermark − next offset to read) |
//! | `consumer_batch_size` | histogram | — (messages applied per consumer transaction: group commit) |
//! | `consumer_stalled` | gauge | — (1 while a dependency is failing and consumption pauses) |
//! | `outbox_published_total` | counter | — |
//! | `outbox_backlog` | gauge | — (events not yet published) |
//! | `outbox_oldest_age_seconds` | gauge | — |
//! | `dead_letters_total` | counter | `topic` |
//! | `service_gauge` | gauge | `name` (a service's own: e.g. `ledger_entries`, `daily_cycle_done`) |

use std::net::SocketAddr;
use std::sync::OnceLock;

use prometheus::{
    Encoder as _, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec,
    Opts, Registry, TextEncoder,
};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

use crate::shutdown::Shutdown;

/// The process's metrics.
pub struct Metrics {
    registry: Registry,
    /// gRPC calls by method and status code.
    pub grpc_handled: IntCounterVec,
    /// gRPC call latency by method.
    pub grpc_seconds: HistogramVec,
    /// Consumed events by topic and result.
    pub consumer_events: IntCounterVec,
    /// Consumer lag by topic and partition.
    pub consumer_lag: IntGaugeVec,
    /// Messages applied per consumer transaction (group commit, issue 16).
    pub consumer_batch: prometheus::Histogram,
    /// 1 while consumption waits for a failing dependency.
    pub consumer_stalled: IntGauge,
    /// Events the outbox relay published.
    pub outbox_published: IntCounter,
    /// Events waiting in the outbox.
    pub outbox_backlog: IntGauge,
    /// Age of the oldest event waiting in the outbox.
    pub outbox_oldest_age_seconds: IntGauge,
    /// Messages sent to a dead-letter topic, by the topic they came from.
    pub dead_letters: IntCounterVec,
    /// A service's own gauges.
    pub service: IntGaugeVec,
}

fn build(service: &str) -> prometheus::Result<Metrics> {
    let labels = std::collections::HashMap::from([("service".to_owned(), service.to_owned())]);
    let registry = Registry::new_custom(None, Some(labels))?;
    let grpc_handled = IntCounterVec::new(
        Opts::new(
            "grpc_server_handled_total",
            "gRPC calls answered, by method and status code",
        ),
        &["method", "code"],
    )?;
    let grpc_seconds = HistogramVec::new(
        HistogramOpts::new(
            "grpc_server_handling_seconds",
            "gRPC call latency, by method",
        )
        .buckets(vec![
            0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
        ]),
        &["method"],
    )?;
    let consumer_events = IntCounterVec::new(
        Opts::new(
            "consumer_events_total",
            "events consumed, by topic and result",
        ),
        &["topic", "result"],
    )?;
    let consumer_lag = IntGaugeVec::new(
        Opts::new(
            "consumer_lag",
            "messages not yet consumed, by topic and partition",
        ),
        &["topic", "partition"],
    )?;
    let consumer_stalled = IntGauge::new(
        "consumer_stalled",
        "1 while consumption waits for a failing dependency (database or broker)",
    )?;
    let outbox_published = IntCounter::new(
        "outbox_published_total",
        "events the outbox relay published",
    )?;
    let outbox_backlog = IntGauge::new("outbox_backlog", "events waiting in the outbox")?;
    let outbox_oldest_age_seconds = IntGauge::new(
        "outbox_oldest_age_seconds",
        "age of the oldest event waiting in the outbox",
    )?;
    let dead_letters = IntCounterVec::new(
        Opts::new(
            "dead_letters_total",
            "messages dead-lettered, by the topic they came from",
        ),
        &["topic"],
    )?;
    let service_gauges = IntGaugeVec::new(
        Opts::new(
            "service_gauge",
            "a service's own figures (ledger size, cycle progress)",
        ),
        &["name"],
    )?;
    registry.register(Box::new(grpc_handled.clone()))?;
    registry.register(Box::new(grpc_seconds.clone()))?;
    registry.register(Box::new(consumer_events.clone()))?;
    registry.register(Box::new(consumer_lag.clone()))?;
    let consumer_batch = prometheus::Histogram::with_opts(
        HistogramOpts::new(
            "consumer_batch_size",
            "messages applied per consumer transaction (group commit)",
        )
        .buckets(vec![
            2.0, 5.0, 10.0, 25.0, 50.0, 100.0, 200.0, 500.0, 1000.0,
        ]),
    )?;
    registry.register(Box::new(consumer_batch.clone()))?;
    registry.register(Box::new(consumer_stalled.clone()))?;
    registry.register(Box::new(outbox_published.clone()))?;
    registry.register(Box::new(outbox_backlog.clone()))?;
    registry.register(Box::new(outbox_oldest_age_seconds.clone()))?;
    registry.register(Box::new(dead_letters.clone()))?;
    registry.register(Box::new(service_gauges.clone()))?;
    Ok(Metrics {
        registry,
        grpc_handled,
        grpc_seconds,
        consumer_events,
        consumer_lag,
        consumer_batch,
        consumer_stalled,
        outbox_published,
        outbox_backlog,
        outbox_oldest_age_seconds,
        dead_letters,
        service: service_gauges,
    })
}

static METRICS: OnceLock<Option<Metrics>> = OnceLock::new();

/// Names the process's metrics after `service` (the first call wins; later calls and a
/// registry that cannot be built leave metrics off rather than stop the service).
pub fn init(service: &str) {
    METRICS.get_or_init(|| match build(service) {
        Ok(metrics) => Some(metrics),
        Err(error) => {
            tracing::error!(%error, "metrics could not be set up; serving without them");
            None
        }
    });
}

/// The process's metrics, once [`init`] ran.
pub fn get() -> Option<&'static Metrics> {
    METRICS.get().and_then(Option::as_ref)
}

/// Sets a service's own gauge `name` (e.g. `ledger_entries`).
pub fn gauge(name: &str, value: i64) {
    if let Some(m) = get() {
        m.service.with_label_values(&[name]).set(value);
    }
}

/// The text exposition of every metric.
pub fn render() -> String {
    let Some(m) = get() else {
        return String::new();
    };
    let mut out = Vec::new();
    if let Err(error) = TextEncoder::new().encode(&m.registry.gather(), &mut out) {
        tracing::error!(%error, "encoding metrics");
    }
    String::from_utf8(out).unwrap_or_default()
}

/// Binds `addr` for [`serve`]; returns the listener and the bound address.
///
/// # Errors
/// The address cannot be bound.
pub async fn bind(addr: SocketAddr) -> anyhow::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("binding METRICS_ADDR {addr}: {e}; give a free host:port"))?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}

/// Answers `GET /metrics` (HTTP/1.1, one request per connection) until `shutdown`; anything
/// else gets 404.
pub async fn serve(listener: TcpListener, mut shutdown: Shutdown) {
    loop {
        let accepted = tokio::select! {
            () = shutdown.wait() => break,
            accepted = listener.accept() => accepted,
        };
        let Ok((mut stream, _)) = accepted else {
            continue;
        };
        tokio::spawn(async move {
            let mut request = Vec::with_capacity(1024);
            let mut buf = [0u8; 1024];
            // Read the request head (a scraper's GET is small); give up on anything large.
            while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 8192 {
                match tokio::time::timeout(std::time::Duration::from_secs(5), stream.read(&mut buf))
                    .await
                {
                    Ok(Ok(n)) if n > 0 => request.extend_from_slice(&buf[..n]),
                    _ => return,
                }
            }
            let head = String::from_utf8_lossy(&request);
            let wanted = head
                .lines()
                .next()
                .is_some_and(|line| line.starts_with("GET /metrics ") || line == "GET /metrics");
            let (status, kind, body) = if wanted {
                (
                    "200 OK",
                    "text/plain; version=0.0.4; charset=utf-8",
                    render(),
                )
            } else {
                (
                    "404 Not Found",
                    "text/plain; charset=utf-8",
                    "GET /metrics\n".to_owned(),
                )
            };
            let response = format!(
                "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes()).await;
            let _ = stream.shutdown().await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_names_the_service_and_counts() {
        init("test-service");
        let m = get().expect("metrics");
        m.grpc_handled
            .with_label_values(&["/x.v1.X/Get", "OK"])
            .inc();
        gauge("ledger_entries", 42);
        let text = render();
        assert!(
            text.contains(
                r#"grpc_server_handled_total{code="OK",method="/x.v1.X/Get",service="test-service"} 1"#
            ),
            "{text}"
        );
        assert!(
            text.contains(r#"service_gauge{name="ledger_entries",service="test-service"} 42"#),
            "{text}"
        );
    }
}
