//! The shared runtime of the collection services.
//!
//! Every service is a gRPC server that owns one Postgres schema, publishes what happened
//! through a transactional outbox and consumes other services' events idempotently. This
//! crate holds the parts that are the same everywhere so each service only writes its
//! domain logic and thin adapters:
//!
//! - [`config`]: configuration from environment variables with local defaults;
//! - [`telemetry`]: `tracing` + OpenTelemetry, W3C trace context over gRPC and Kafka;
//! - [`db`]: the Postgres pool bound to the service's schema, and the kit's migrations;
//! - [`schema`]: whether the schema is at the migration the binary expects (`DATABASE_MIGRATE=false`);
//! - [`events`]: topic names and the event envelope;
//! - [`outbox`]: enqueueing events inside a transaction and the relay that publishes them;
//! - [`producer`]: the Kafka producer of the relay and the dead-letter path;
//! - [`consumer`]: the idempotent consumer with bounded retries and a dead-letter topic;
//! - [`deadletter`]: the dead-letter record, its recorder and `DeadLetterService`;
//! - [`grpc`]: the server bootstrap with health checking, reflection and tracing;
//! - [`limit`]: the per-server limit of concurrent calls;
//! - [`metrics`]: Prometheus metrics on `METRICS_ADDR`;
//! - [`paging`]: page size and opaque keyset page tokens of list calls;
//! - [`app`]: wiring of all of the above with graceful shutdown;
//! - [`auth`]: who is calling: tokens, certificates, the role table, scope and the audit trail;
//! - [`wire`] and [`error`]: input validation and the mapping of errors to gRPC statuses.

pub mod app;
pub mod auth;
pub mod config;
pub mod consumer;
pub mod db;
pub mod deadletter;
pub mod error;
pub mod events;
pub mod grpc;
pub mod kafka;
pub mod limit;
pub mod metrics;
pub mod outbox;
pub mod paging;
pub mod pii;
pub mod producer;
pub mod schema;
pub mod shutdown;
pub mod telemetry;
pub mod wire;

pub use app::App;
pub use config::Config;
pub use error::ApiError;
