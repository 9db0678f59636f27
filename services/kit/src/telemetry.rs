//! Logs and traces: `tracing` with a human-readable or JSON formatter, and an OpenTelemetry
//! layer whose spans are exported over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
//!
//! Trace context travels as W3C `traceparent`/`tracestate` in gRPC metadata and in Kafka
//! message headers, so one trace follows a request from gRPC through every service it
//! touches.

use std::collections::HashMap;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Keeps the tracer provider alive; flushes pending spans when dropped.
#[derive(Debug)]
pub struct Telemetry {
    provider: SdkTracerProvider,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Err(error) = self.provider.shutdown() {
            eprintln!("could not flush traces on shutdown: {error}");
        }
    }
}

/// Installs the global subscriber for `service`.
///
/// - `RUST_LOG` filters (default `info` for our crates, `warn` for noisy dependencies);
/// - `LOG_FORMAT=json` switches to one JSON object per line (the default is for people);
/// - `OTEL_EXPORTER_OTLP_ENDPOINT` switches on OTLP/gRPC export of spans.
///
/// Logs go to stderr so that stdout stays free for a tool's own output.
pub fn init(service: &str) -> anyhow::Result<Telemetry> {
    let mut builder = SdkTracerProvider::builder().with_resource(
        opentelemetry_sdk::Resource::builder_empty()
            .with_service_name(service.to_owned())
            .build(),
    );
    if std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT").is_some_and(|v| !v.is_empty()) {
        // The exporter reads the endpoint and headers from the standard OTEL_* variables.
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .build()?;
        builder = builder.with_batch_exporter(exporter);
    }
    let provider = builder.build();
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    opentelemetry::global::set_tracer_provider(provider.clone());
    let otel = tracing_opentelemetry::layer().with_tracer(provider.tracer(service.to_owned()));

    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new("info,sqlx=warn,rdkafka=warn,h2=warn,tower=warn,hyper=warn,tonic=warn")
    });
    let json = std::env::var("LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    let fmt = if json {
        tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_writer(std::io::stderr)
            .boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .compact()
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_writer(std::io::stderr)
            .boxed()
    };
    tracing_subscriber::registry()
        .with(filter)
        .with(fmt)
        .with(otel)
        .try_init()?;
    Ok(Telemetry { provider })
}

/// The W3C trace context of the current span, as (`traceparent`, `tracestate`).
/// Both are empty when there is no sampled trace.
pub fn current_trace_context() -> (String, String) {
    let mut carrier = HashMap::new();
    TraceContextPropagator::new().inject_context(&tracing::Span::current().context(), &mut carrier);
    (
        carrier.remove("traceparent").unwrap_or_default(),
        carrier.remove("tracestate").unwrap_or_default(),
    )
}

/// Makes `span` a child of the remote operation described by `traceparent`/`tracestate`.
/// Must be called before the span is entered (tracing-opentelemetry ignores it after).
pub fn set_remote_parent(span: &tracing::Span, traceparent: &str, tracestate: &str) {
    if traceparent.is_empty() {
        return;
    }
    let mut carrier = HashMap::new();
    carrier.insert("traceparent".to_owned(), traceparent.to_owned());
    if !tracestate.is_empty() {
        carrier.insert("tracestate".to_owned(), tracestate.to_owned());
    }
    let parent = TraceContextPropagator::new().extract(&carrier);
    if let Err(error) = span.set_parent(parent) {
        tracing::debug!(%error, "could not attach remote trace parent");
    }
}

/// Tower layer for the gRPC server: one span per call, child of the caller's trace.
#[derive(Debug, Clone, Copy, Default)]
pub struct GrpcTraceLayer;

impl<S> tower::Layer<S> for GrpcTraceLayer {
    type Service = GrpcTraceService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcTraceService { inner }
    }
}

/// The service made by [`GrpcTraceLayer`].
#[derive(Debug, Clone)]
pub struct GrpcTraceService<S> {
    inner: S,
}

impl<S, B> tower::Service<http::Request<B>> for GrpcTraceService<S>
where
    S: tower::Service<http::Request<B>> + Send,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let path = request.uri().path().to_owned();
        let span = tracing::info_span!("grpc", otel.name = %path, rpc.method = %path);
        let header = |name: &str| {
            request
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        set_remote_parent(&span, &header("traceparent"), &header("tracestate"));
        Box::pin(self.inner.call(request).instrument(span))
    }
}

/// A tonic client interceptor that sends the current trace context with each call.
pub fn inject_trace_context(
    mut request: tonic::Request<()>,
) -> Result<tonic::Request<()>, tonic::Status> {
    let (traceparent, tracestate) = current_trace_context();
    for (name, value) in [("traceparent", traceparent), ("tracestate", tracestate)] {
        if value.is_empty() {
            continue;
        }
        if let Ok(value) = value.parse() {
            request.metadata_mut().insert(name, value);
        }
    }
    Ok(request)
}
