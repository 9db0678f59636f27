//! Configuration from environment variables, with defaults that work on a developer machine.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

/// A configuration value that is present but unusable.
#[derive(Debug, thiserror::Error)]
#[error("environment variable {name}={value:?} is invalid: expected {expected}")]
pub struct ConfigError {
    name: String,
    value: String,
    expected: &'static str,
}

/// Settings every service reads at start-up.
#[derive(Debug, Clone)]
pub struct Config {
    /// Service name: the Kafka consumer group, OTel service name and default schema.
    pub service: &'static str,
    /// `DATABASE_URL`: connection string for this service's own database role.
    pub database_url: String,
    /// `DATABASE_SCHEMA`: the schema the service owns (default: the service name).
    pub database_schema: String,
    /// `DATABASE_MAX_CONNECTIONS` (default 10).
    pub database_max_connections: u32,
    /// `KAFKA_BOOTSTRAP_SERVERS` (default `127.0.0.1:9092`).
    pub kafka_bootstrap_servers: String,
    /// `KAFKA_TOPIC_PREFIX`: prepended to every topic and consumer group (default empty),
    /// so several stacks can share one broker.
    pub kafka_topic_prefix: String,
    /// `GRPC_ADDR`: address the gRPC server binds (port 0 picks a free port).
    pub grpc_addr: SocketAddr,
    /// `READY_FILE`: when set, the bound gRPC address is written there once the service
    /// is ready (used by the local stack and the end-to-end tests).
    pub ready_file: Option<PathBuf>,
    /// `OUTBOX_POLL_MS`: how often the relay looks for unpublished events (default 100).
    pub outbox_poll: Duration,
    /// `OUTBOX_RETENTION_HOURS`: published events are kept this long for audit (default 72).
    pub outbox_retention: Duration,
    /// `PROCESSED_EVENTS_RETENTION_DAYS`: how long the ids of consumed events are kept to
    /// recognise a redelivery (default 14). Keep it above the topics' retention: an event
    /// redelivered after its id was pruned would be handled again.
    pub processed_events_retention: Duration,
    /// `CONSUMER_MAX_ATTEMPTS`: attempts before a message goes to the dead-letter topic
    /// (default 5).
    pub consumer_max_attempts: u32,
}

impl Config {
    /// Reads the configuration of `service`, whose gRPC port defaults to `default_port`.
    pub fn from_env(service: &'static str, default_port: u16) -> Result<Self, ConfigError> {
        Ok(Self {
            service,
            database_url: env_string(
                "DATABASE_URL",
                &format!("postgres://{service}@127.0.0.1:5432/collections"),
            ),
            database_schema: env_string("DATABASE_SCHEMA", service),
            database_max_connections: env_parse(
                "DATABASE_MAX_CONNECTIONS",
                10,
                "a positive integer",
            )?,
            kafka_bootstrap_servers: env_string("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
            kafka_topic_prefix: env_string("KAFKA_TOPIC_PREFIX", ""),
            grpc_addr: env_parse(
                "GRPC_ADDR",
                SocketAddr::from(([127, 0, 0, 1], default_port)),
                "host:port, e.g. 0.0.0.0:50051",
            )?,
            ready_file: std::env::var_os("READY_FILE").map(PathBuf::from),
            outbox_poll: Duration::from_millis(env_parse(
                "OUTBOX_POLL_MS",
                100,
                "milliseconds as an integer",
            )?),
            outbox_retention: Duration::from_secs(
                3600 * env_parse::<u64>("OUTBOX_RETENTION_HOURS", 72, "a whole number of hours")?,
            ),
            processed_events_retention: Duration::from_secs(
                86_400
                    * env_parse::<u64>(
                        "PROCESSED_EVENTS_RETENTION_DAYS",
                        14,
                        "a whole number of days",
                    )?,
            ),
            consumer_max_attempts: env_parse("CONSUMER_MAX_ATTEMPTS", 5, "a positive integer")?,
        })
    }
}

/// Reads a string variable, or `default` when it is unset or empty.
pub fn env_string(name: &str, default: &str) -> String {
    match std::env::var(name) {
        Ok(value) if !value.is_empty() => value,
        _ => default.to_owned(),
    }
}

/// Reads and parses a variable, or `default` when it is unset or empty.
pub fn env_parse<T: FromStr>(
    name: &str,
    default: T,
    expected: &'static str,
) -> Result<T, ConfigError> {
    match std::env::var(name) {
        Ok(value) if !value.is_empty() => value.trim().parse().map_err(|_| ConfigError {
            name: name.to_owned(),
            value,
            expected,
        }),
        _ => Ok(default),
    }
}
