//! Configuration from environment variables, with defaults that work on a developer machine.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

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
    /// `KAFKA_BOOTSTRAP_SERVERS` (default `127.0.0.1:9092`) and the connection's security
    /// (`KAFKA_SECURITY_PROTOCOL`, `KAFKA_SASL_*`, `KAFKA_SSL_CA_FILE`; see
    /// [`crate::kafka::Security`]).
    pub kafka: crate::kafka::Connection,
    /// `KAFKA_COMPRESSION`: `lz4` (default), `snappy`, `gzip` or `none`, for what the
    /// service produces.
    pub kafka_compression: crate::kafka::Compression,
    /// `KAFKA_TOPIC_PREFIX`: prepended to every topic and consumer group (default empty),
    /// so several stacks can share one broker.
    pub kafka_topic_prefix: String,
    /// `GRPC_ADDR`: address the gRPC server binds (port 0 picks a free port).
    pub grpc_addr: SocketAddr,
    /// `READY_FILE`: when set, the bound gRPC address is written there once the service
    /// is ready (used by the local stack and the end-to-end tests).
    pub ready_file: Option<PathBuf>,
    /// `METRICS_ADDR`: where `/metrics` is served in the Prometheus text format (issue 16);
    /// unset: no metrics listener.
    pub metrics_addr: Option<SocketAddr>,
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
    /// `CONSUMER_BATCH_MAX`: at most this many events already waiting are applied in one
    /// transaction and one commit (default 200; 1 applies each alone). Issue 16: with durable
    /// commits the commit's fsync per event dominated.
    pub consumer_batch_max: usize,
    /// `CONSUMER_BATCH_LINGER_MS`: after the first message of a batch, how long to wait for
    /// more to join it (default 10; 0: only what is already waiting). Under a steady stream
    /// a few milliseconds make fewer, larger transactions (fewer commits, fewer statements
    /// per event) for that much latency per hop (issue 16: 755–881 → 1,011–1,062 payments/s
    /// end to end on the load harness). At most 1000.
    pub consumer_batch_linger: std::time::Duration,
    /// `COLLECTIONS_ENV`: `development` (default) or `production`. Production refuses settings
    /// that are only safe on a developer machine (a simulated business clock, a database
    /// connection without verified TLS, a Kafka connection without TLS and SASL).
    pub production: bool,
    /// `BUSINESS_CLOCK`: `system` (default) or `simulated`; see [`BusinessClock`].
    pub business_clock: BusinessClock,
    /// `BUSINESS_UTC_OFFSET`: the business time zone as a fixed offset from UTC (default
    /// `+08:00`, China, which has no daylight saving time).
    pub business_utc_offset: FixedOffset,
    /// `GRPC_CALL_TIMEOUT_MS`: longest a gRPC call may run on the server (default 30000); a
    /// client's shorter `grpc-timeout` still wins.
    pub grpc_call_timeout: Duration,
    /// `GRPC_MAX_CONCURRENT_CALLS`: calls one server runs at once (default 256); a call
    /// beyond it is refused at once with `RESOURCE_EXHAUSTED` (health checks are exempt).
    pub grpc_max_concurrent_calls: usize,
    /// `DATABASE_STATEMENT_TIMEOUT_MS`: Postgres `statement_timeout` of every pooled
    /// connection (default 30000; 0 switches it off).
    pub database_statement_timeout: Duration,
    /// `DATABASE_MIGRATE`: `true` (default) applies the migrations at start-up; `false`
    /// (production: a migration job with a DDL role runs `<service> migrate` first) only
    /// checks that the schema is at the migration this build expects, and refuses to start
    /// otherwise.
    pub database_migrate: bool,
    /// `GRPC_DRAIN_MS`: on SIGTERM, how long the service keeps serving with its readiness
    /// reported NOT_SERVING, so load balancers and Kubernetes endpoints stop sending before
    /// the listener closes (default 5000, at most 60000; 0: close at once).
    pub grpc_drain: Duration,
}

/// The longest `GRPC_DRAIN_MS` accepted: the pod's `terminationGracePeriodSeconds` must
/// cover the drain plus the in-flight calls, and a minute of drain is already generous.
pub const MAX_GRPC_DRAIN_MS: u64 = 60_000;

impl Config {
    /// Reads the configuration of `service`, whose gRPC port defaults to `default_port`.
    pub fn from_env(service: &'static str, default_port: u16) -> Result<Self, ConfigError> {
        Self::read(service, default_port, true)
    }

    /// The configuration of `<service> migrate` (the migration job): like [`from_env`], with
    /// the production checks of the database connection, but the Kafka variables are not
    /// read, since the job connects to nothing but the database and has no Kafka credentials.
    ///
    /// [`from_env`]: Self::from_env
    pub fn for_migration(service: &'static str, default_port: u16) -> Result<Self, ConfigError> {
        Self::read(service, default_port, false)
    }

    fn read(
        service: &'static str,
        default_port: u16,
        with_kafka: bool,
    ) -> Result<Self, ConfigError> {
        let production = env_parse::<Environment>(
            "COLLECTIONS_ENV",
            Environment::Development,
            "development or production",
        )? == Environment::Production;
        Self {
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
            kafka: crate::kafka::Connection {
                bootstrap_servers: env_string("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
                security: if with_kafka {
                    crate::kafka::Security::from_env(production)?
                } else {
                    crate::kafka::Security::from_vars(false, &|_| None)?
                },
            },
            kafka_compression: env_parse(
                "KAFKA_COMPRESSION",
                crate::kafka::Compression::default(),
                "lz4, snappy, gzip or none",
            )?,
            kafka_topic_prefix: env_string("KAFKA_TOPIC_PREFIX", ""),
            grpc_addr: env_parse(
                "GRPC_ADDR",
                SocketAddr::from(([127, 0, 0, 1], default_port)),
                "host:port, e.g. 0.0.0.0:50051",
            )?,
            ready_file: std::env::var_os("READY_FILE").map(PathBuf::from),
            metrics_addr: match env_string("METRICS_ADDR", "").trim() {
                "" => None,
                text => Some(text.parse().map_err(|_| {
                    ConfigError::new("METRICS_ADDR", text, "host:port, e.g. 0.0.0.0:9464")
                })?),
            },
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
            consumer_batch_max: match env_parse::<usize>(
                "CONSUMER_BATCH_MAX",
                200,
                "a number of events from 1 to 10000",
            )? {
                n @ 1..=10_000 => n,
                n => {
                    return Err(ConfigError::new(
                        "CONSUMER_BATCH_MAX",
                        &n.to_string(),
                        "a number of events from 1 to 10000",
                    ));
                }
            },
            consumer_batch_linger: match env_parse::<u64>(
                "CONSUMER_BATCH_LINGER_MS",
                10,
                "milliseconds from 0 to 1000",
            )? {
                ms @ 0..=1000 => std::time::Duration::from_millis(ms),
                ms => {
                    return Err(ConfigError::new(
                        "CONSUMER_BATCH_LINGER_MS",
                        &ms.to_string(),
                        "milliseconds from 0 to 1000",
                    ));
                }
            },
            production,
            business_clock: env_parse(
                "BUSINESS_CLOCK",
                BusinessClock::System,
                "system or simulated",
            )?,
            business_utc_offset: env_parse::<UtcOffset>(
                "BUSINESS_UTC_OFFSET",
                UtcOffset(DEFAULT_BUSINESS_OFFSET),
                "an offset from UTC such as +08:00 or -05:00",
            )?
            .0,
            grpc_call_timeout: Duration::from_millis(
                env_parse::<Positive>(
                    "GRPC_CALL_TIMEOUT_MS",
                    Positive(30_000),
                    "a positive number of milliseconds",
                )?
                .0,
            ),
            grpc_max_concurrent_calls: usize::try_from(
                env_parse::<Positive>(
                    "GRPC_MAX_CONCURRENT_CALLS",
                    Positive(256),
                    "a positive integer",
                )?
                .0,
            )
            .unwrap_or(usize::MAX),
            database_statement_timeout: Duration::from_millis(env_parse(
                "DATABASE_STATEMENT_TIMEOUT_MS",
                30_000,
                "milliseconds as an integer (0: no limit)",
            )?),
            database_migrate: env_parse::<Switch>(
                "DATABASE_MIGRATE",
                Switch(true),
                "true (apply migrations at start-up) or false (a migration job applies them; \
                 start-up only checks the schema)",
            )?
            .0,
            grpc_drain: Duration::from_millis(grpc_drain_ms(
                std::env::var("GRPC_DRAIN_MS").ok().as_deref(),
            )?),
        }
        .checked_for_production(std::env::var("PGSSLMODE").ok().as_deref())
    }

    /// Refuses, in production, the settings that are only safe on a developer machine.
    /// `pgsslmode` is the `PGSSLMODE` environment variable, which the driver reads when the
    /// URL names no mode.
    fn checked_for_production(self, pgsslmode: Option<&str>) -> Result<Self, ConfigError> {
        if !self.production {
            return Ok(self);
        }
        if self.business_clock == BusinessClock::Simulated {
            return Err(ConfigError {
                name: "BUSINESS_CLOCK".to_owned(),
                value: "simulated".to_owned(),
                expected: "system when COLLECTIONS_ENV=production: a simulated clock lets \
                           RunDailyCycle move business time forward; unset BUSINESS_CLOCK, or set \
                           COLLECTIONS_ENV=development outside production",
            });
        }
        let mode = url_sslmode(&self.database_url).or(pgsslmode.filter(|m| !m.is_empty()));
        if mode != Some("verify-full") {
            return Err(ConfigError {
                name: "DATABASE_URL".to_owned(),
                value: redact_url(&self.database_url),
                expected: "sslmode=verify-full when COLLECTIONS_ENV=production, so the \
                           connection is encrypted and the server's certificate and host name \
                           are checked: put sslmode=verify-full in the URL's query, e.g. \
                           …/collections?sslmode=verify-full&sslrootcert=/path/to/ca.pem",
            });
        }
        Ok(self)
    }

    /// Today's business date by the service clock, in the business time zone.
    pub fn business_today(&self) -> NaiveDate {
        business_date(Utc::now(), self.business_utc_offset)
    }
}

/// `+08:00`: China's time zone (no daylight saving time), the default business time zone.
pub const DEFAULT_BUSINESS_OFFSET: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    None => panic!("+08:00 is a valid offset"),
};

/// Whose clock decides what business day it is (`BUSINESS_CLOCK`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BusinessClock {
    /// The service clock in the business time zone: business time never runs ahead of it.
    System,
    /// Tests and simulations: `RunDailyCycle` may move business time forward freely.
    /// Refused when `COLLECTIONS_ENV=production`.
    Simulated,
}

impl FromStr for BusinessClock {
    type Err = ();

    fn from_str(value: &str) -> Result<Self, ()> {
        match value.to_ascii_lowercase().as_str() {
            "system" => Ok(Self::System),
            "simulated" => Ok(Self::Simulated),
            _ => Err(()),
        }
    }
}

/// `COLLECTIONS_ENV`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Environment {
    Development,
    Production,
}

impl FromStr for Environment {
    type Err = ();

    fn from_str(value: &str) -> Result<Self, ()> {
        match value.to_ascii_lowercase().as_str() {
            "development" => Ok(Self::Development),
            "production" => Ok(Self::Production),
            _ => Err(()),
        }
    }
}

/// A fixed offset from UTC written `+HH:MM` or `-HH:MM` (`Z` for UTC), at most 18 hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct UtcOffset(FixedOffset);

impl FromStr for UtcOffset {
    type Err = ();

    fn from_str(value: &str) -> Result<Self, ()> {
        if value.eq_ignore_ascii_case("z") {
            return Ok(Self(FixedOffset::east_opt(0).ok_or(())?));
        }
        let (sign, rest) = match value.as_bytes().first() {
            Some(b'+') => (1, &value[1..]),
            Some(b'-') => (-1, &value[1..]),
            _ => return Err(()),
        };
        let (hours, minutes) = rest.split_once(':').ok_or(())?;
        if hours.len() != 2 || minutes.len() != 2 {
            return Err(());
        }
        let hours: i32 = hours.parse().map_err(|_| ())?;
        let minutes: i32 = minutes.parse().map_err(|_| ())?;
        if minutes >= 60 || hours * 60 + minutes > 18 * 60 {
            return Err(());
        }
        FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
            .map(Self)
            .ok_or(())
    }
}

/// `true` or `false` (also `1`/`0`, `yes`/`no`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Switch(bool);

impl FromStr for Switch {
    type Err = ();

    fn from_str(value: &str) -> Result<Self, ()> {
        match value.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Ok(Self(true)),
            "false" | "0" | "no" => Ok(Self(false)),
            _ => Err(()),
        }
    }
}

/// `GRPC_DRAIN_MS` (unset or empty: 5000), from 0 to [`MAX_GRPC_DRAIN_MS`].
fn grpc_drain_ms(value: Option<&str>) -> Result<u64, ConfigError> {
    const EXPECTED: &str = "milliseconds from 0 to 60000 that the service keeps serving after \
                            SIGTERM while reporting NOT_SERVING (default 5000); keep the pod's \
                            terminationGracePeriodSeconds above it plus GRPC_CALL_TIMEOUT_MS";
    match value.map(str::trim) {
        None | Some("") => Ok(5_000),
        Some(text) => match text.parse::<u64>() {
            Ok(ms) if ms <= MAX_GRPC_DRAIN_MS => Ok(ms),
            _ => Err(ConfigError::new("GRPC_DRAIN_MS", text, EXPECTED)),
        },
    }
}

/// A whole number above zero.
#[derive(Debug, Clone, Copy)]
struct Positive(u64);

impl FromStr for Positive {
    type Err = ();

    fn from_str(value: &str) -> Result<Self, ()> {
        match value.parse::<u64>() {
            Ok(0) | Err(_) => Err(()),
            Ok(n) => Ok(Self(n)),
        }
    }
}

/// The business date at instant `now` in the time zone `offset`.
pub fn business_date(now: DateTime<Utc>, offset: FixedOffset) -> NaiveDate {
    now.with_timezone(&offset).date_naive()
}

/// The `sslmode` (or sqlx's `ssl-mode`) query parameter of a database URL, if any.
fn url_sslmode(url: &str) -> Option<&str> {
    let query = url.split_once('?')?.1;
    let query = query.split_once('#').map_or(query, |(q, _)| q);
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        // The last one counts, as for the driver.
        .rfind(|(key, _)| matches!(*key, "sslmode" | "ssl-mode"))
        .map(|(_, value)| value)
}

/// The URL with its password replaced, for error messages (secrets never in logs).
fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "(not a URL)".to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rsplit_once('@') {
        Some((user_info, host)) => {
            let user = user_info.split_once(':').map_or(user_info, |(u, _)| u);
            let password = if user_info.contains(':') { ":***" } else { "" };
            format!(
                "{scheme}://{user}{password}@{host}{}",
                redact_query(&rest[authority_end..])
            )
        }
        None => format!("{scheme}://{}", redact_query(rest)),
    }
}

/// `path?query` with the value of a `password` parameter replaced.
fn redact_query(path_and_query: &str) -> String {
    let Some((path, query)) = path_and_query.split_once('?') else {
        return path_and_query.to_owned();
    };
    let pairs: Vec<&str> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some(("password", _)) => "password=***",
            _ => pair,
        })
        .collect();
    format!("{path}?{}", pairs.join("&"))
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

impl ConfigError {
    /// A variable `name` whose `value` is not what was `expected`.
    pub fn new(name: &str, value: &str, expected: &'static str) -> Self {
        Self {
            name: name.to_owned(),
            value: value.to_owned(),
            expected,
        }
    }
}

/// A source of variables for `from_vars` constructors in tests: `name=value` pairs instead of
/// the process environment.
#[cfg(test)]
pub(crate) fn fake_env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_drain_defaults_to_five_seconds_and_is_bounded() {
        assert_eq!(grpc_drain_ms(None).unwrap(), 5_000);
        assert_eq!(grpc_drain_ms(Some(" ")).unwrap(), 5_000);
        assert_eq!(grpc_drain_ms(Some("0")).unwrap(), 0);
        assert_eq!(grpc_drain_ms(Some("60000")).unwrap(), 60_000);
        for bad in ["60001", "-1", "5s", "1.5"] {
            let text = grpc_drain_ms(Some(bad)).unwrap_err().to_string();
            assert!(
                text.contains("GRPC_DRAIN_MS") && text.contains("0 to 60000"),
                "{text}"
            );
        }
    }

    #[test]
    fn database_migrate_is_a_switch() {
        assert_eq!("false".parse::<Switch>(), Ok(Switch(false)));
        assert_eq!("TRUE".parse::<Switch>(), Ok(Switch(true)));
        assert_eq!("0".parse::<Switch>(), Ok(Switch(false)));
        assert!("off-ish".parse::<Switch>().is_err());
    }

    fn config(production: bool, clock: BusinessClock, url: &str) -> Config {
        let mut config = Config::from_env("test", 0).expect("defaults parse");
        config.production = production;
        config.business_clock = clock;
        config.database_url = url.to_owned();
        config
    }

    #[test]
    fn kafka_compression_parses_librdkafka_names() {
        use crate::kafka::Compression;
        assert_eq!("LZ4".parse(), Ok(Compression::Lz4));
        assert_eq!(" none ".parse(), Ok(Compression::None));
        assert_eq!(
            "gzip".parse::<Compression>().map(Compression::as_str),
            Ok("gzip")
        );
        assert!("zstd".parse::<Compression>().is_err());
        assert_eq!(Compression::default().as_str(), "lz4");
    }

    #[test]
    fn business_clock_and_environment_parse() {
        assert_eq!("system".parse(), Ok(BusinessClock::System));
        assert_eq!("Simulated".parse(), Ok(BusinessClock::Simulated));
        assert!("fake".parse::<BusinessClock>().is_err());
        assert_eq!("production".parse(), Ok(Environment::Production));
        assert_eq!("development".parse(), Ok(Environment::Development));
        assert!("prod".parse::<Environment>().is_err());
    }

    #[test]
    fn utc_offsets_parse_within_eighteen_hours() {
        let hours = |h: i32| FixedOffset::east_opt(h * 3600).map(UtcOffset);
        assert_eq!("+08:00".parse().ok(), hours(8));
        assert_eq!("-05:00".parse().ok(), hours(-5));
        assert_eq!("Z".parse().ok(), hours(0));
        assert_eq!(
            "+05:30"
                .parse::<UtcOffset>()
                .ok()
                .map(|o| o.0.local_minus_utc()),
            Some(19_800)
        );
        for bad in [
            "08:00",
            "+8:00",
            "+0800",
            "+08:60",
            "+19:00",
            "",
            "+",
            "+ä:00",
            "Asia/Shanghai",
        ] {
            assert!(bad.parse::<UtcOffset>().is_err(), "{bad}");
        }
        assert_eq!(DEFAULT_BUSINESS_OFFSET.local_minus_utc(), 8 * 3600);
    }

    #[test]
    fn positive_refuses_zero_and_junk() {
        assert_eq!("5".parse::<Positive>().map(|p| p.0), Ok(5));
        assert!("0".parse::<Positive>().is_err());
        assert!("-1".parse::<Positive>().is_err());
        assert!("x".parse::<Positive>().is_err());
    }

    #[test]
    fn business_date_is_taken_in_the_business_time_zone() {
        let now = DateTime::parse_from_rfc3339("2026-03-01T17:30:00Z")
            .expect("valid")
            .with_timezone(&Utc);
        // 01:30 on 2 March in China while it is still 1 March in UTC.
        assert_eq!(
            business_date(now, DEFAULT_BUSINESS_OFFSET),
            NaiveDate::from_ymd_opt(2026, 3, 2).expect("valid")
        );
        let utc = FixedOffset::east_opt(0).expect("valid");
        assert_eq!(
            business_date(now, utc),
            NaiveDate::from_ymd_opt(2026, 3, 1).expect("valid")
        );
    }

    #[test]
    fn development_allows_a_simulated_clock_and_plain_connections() {
        let url = "postgres://contracts:secret@127.0.0.1/collections";
        assert!(
            config(false, BusinessClock::Simulated, url)
                .checked_for_production(None)
                .is_ok()
        );
    }

    #[test]
    fn production_refuses_a_simulated_clock_naming_both_variables() {
        let url = "postgres://contracts@db/collections?sslmode=verify-full";
        let error = config(true, BusinessClock::Simulated, url)
            .checked_for_production(None)
            .expect_err("refused")
            .to_string();
        assert!(error.contains("BUSINESS_CLOCK"), "{error}");
        assert!(error.contains("COLLECTIONS_ENV=production"), "{error}");
        assert!(
            config(true, BusinessClock::System, url)
                .checked_for_production(None)
                .is_ok()
        );
    }

    #[test]
    fn production_requires_verify_full_without_showing_the_password() {
        for url in [
            "postgres://contracts:s3cret@db:5432/collections",
            "postgres://contracts:s3cret@db/collections?sslmode=require",
            "postgres://contracts@db/collections?sslmode=verify-ca&password=s3cret",
        ] {
            let error = config(true, BusinessClock::System, url)
                .checked_for_production(None)
                .expect_err("refused")
                .to_string();
            assert!(error.contains("DATABASE_URL"), "{error}");
            assert!(error.contains("sslmode=verify-full"), "{error}");
            assert!(!error.contains("s3cret"), "{error}");
        }
        let verified = "postgres://c@db/collections?sslrootcert=/ca.pem&sslmode=verify-full";
        assert!(
            config(true, BusinessClock::System, verified)
                .checked_for_production(None)
                .is_ok()
        );
        // The driver falls back to PGSSLMODE when the URL names no mode.
        let plain = "postgres://c@db/collections";
        assert!(
            config(true, BusinessClock::System, plain)
                .checked_for_production(Some("verify-full"))
                .is_ok()
        );
        assert!(
            config(true, BusinessClock::System, verified)
                .checked_for_production(Some("disable"))
                .is_ok(),
            "the URL's mode wins over PGSSLMODE"
        );
    }

    #[test]
    fn redaction_keeps_what_helps_and_hides_the_password() {
        assert_eq!(
            redact_url("postgres://u:p@h:5432/db?sslmode=require&password=x"),
            "postgres://u:***@h:5432/db?sslmode=require&password=***"
        );
        assert_eq!(redact_url("postgres://h/db"), "postgres://h/db");
        assert_eq!(redact_url("nonsense"), "(not a URL)");
    }
}
