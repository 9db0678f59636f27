//! Kafka client configuration shared by the relay, the consumers and the tools: where the
//! brokers are and how to prove who we are to them (TLS, SASL/SCRAM).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::StreamConsumer;
use rdkafka::types::RDKafkaErrorCode;

use crate::config::ConfigError;

/// `KAFKA_SECURITY_PROTOCOL`: how the connection to the brokers is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// No TLS, no authentication (local development; refused in production).
    Plaintext,
    /// TLS; the broker is verified, the client is anonymous (refused in production).
    Ssl,
    /// TLS and SASL/SCRAM: encrypted, and the broker knows which service is talking.
    SaslSsl,
}

impl Protocol {
    fn as_librdkafka(self) -> &'static str {
        match self {
            Self::Plaintext => "plaintext",
            Self::Ssl => "ssl",
            Self::SaslSsl => "sasl_ssl",
        }
    }
}

/// `KAFKA_COMPRESSION`: how the relay compresses the batches it produces (default `lz4`).
/// Issue 16: every event is read by up to five consumer groups over TLS, and the broker
/// encrypts each fetch again; a compressed batch is stored and sent on as it came, so the
/// broker encrypts a fraction of the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    /// Uncompressed.
    None,
    /// LZ4: fast on both ends, built into librdkafka (default).
    #[default]
    Lz4,
    /// Snappy.
    Snappy,
    /// Gzip: smaller, costlier.
    Gzip,
}

impl Compression {
    /// librdkafka's name (`compression.type`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Lz4 => "lz4",
            Self::Snappy => "snappy",
            Self::Gzip => "gzip",
        }
    }
}

impl std::str::FromStr for Compression {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" => Ok(Self::None),
            "lz4" => Ok(Self::Lz4),
            "snappy" => Ok(Self::Snappy),
            "gzip" => Ok(Self::Gzip),
            _ => Err(()),
        }
    }
}

/// `KAFKA_SASL_MECHANISM`: the SCRAM variant (Kafka's salted challenge-response: the
/// password itself never crosses the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScramMechanism {
    /// SCRAM-SHA-512 (default).
    Sha512,
    /// SCRAM-SHA-256.
    Sha256,
}

impl ScramMechanism {
    /// Kafka's name of the mechanism.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sha512 => "SCRAM-SHA-512",
            Self::Sha256 => "SCRAM-SHA-256",
        }
    }
}

/// A password that never shows up in `Debug` output or logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value`.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the client library only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// SASL/SCRAM credentials of one principal (one per service).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scram {
    /// `KAFKA_SASL_MECHANISM`.
    pub mechanism: ScramMechanism,
    /// `KAFKA_SASL_USERNAME`: the principal (`User:<name>` in the broker's ACLs).
    pub username: String,
    /// `KAFKA_SASL_PASSWORD` or the contents of `KAFKA_SASL_PASSWORD_FILE`.
    pub password: Secret,
}

/// How a client protects and authenticates its connections to the brokers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Security {
    /// `KAFKA_SECURITY_PROTOCOL` (default plaintext).
    pub protocol: Protocol,
    /// Credentials, with [`Protocol::SaslSsl`].
    pub scram: Option<Scram>,
    /// `KAFKA_SSL_CA_FILE`: the CA (PEM) the brokers' certificates are verified with
    /// (default: the system's CAs).
    pub ca_file: Option<PathBuf>,
}

impl Security {
    /// Plaintext, no credentials: librdkafka's mock cluster and local brokers.
    pub fn plaintext() -> Self {
        Self {
            protocol: Protocol::Plaintext,
            scram: None,
            ca_file: None,
        }
    }

    /// TLS verified against `ca_file` and SCRAM-SHA-512 as `username`.
    pub fn sasl_ssl(username: &str, password: Secret, ca_file: Option<PathBuf>) -> Self {
        Self {
            protocol: Protocol::SaslSsl,
            scram: Some(Scram {
                mechanism: ScramMechanism::Sha512,
                username: username.to_owned(),
                password,
            }),
            ca_file,
        }
    }

    /// Reads `KAFKA_SECURITY_PROTOCOL`, `KAFKA_SASL_*` and `KAFKA_SSL_CA_FILE`. With
    /// `production`, refuses anything but `sasl_ssl` with credentials.
    pub fn from_env(production: bool) -> Result<Self, ConfigError> {
        Self::from_vars(production, &|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) over any source of variables.
    pub fn from_vars(
        production: bool,
        get: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let var = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let protocol = match var("KAFKA_SECURITY_PROTOCOL")
            .map(|v| v.trim().to_ascii_lowercase())
            .as_deref()
        {
            None | Some("plaintext") => Protocol::Plaintext,
            Some("ssl") => Protocol::Ssl,
            Some("sasl_ssl") => Protocol::SaslSsl,
            Some("sasl_plaintext") => {
                return Err(ConfigError::new(
                    "KAFKA_SECURITY_PROTOCOL",
                    "sasl_plaintext",
                    "plaintext, ssl or sasl_ssl: SASL without TLS is not offered (the \
                     connection would be readable on the network); use sasl_ssl",
                ));
            }
            Some(other) => {
                return Err(ConfigError::new(
                    "KAFKA_SECURITY_PROTOCOL",
                    other,
                    "plaintext, ssl or sasl_ssl",
                ));
            }
        };
        let username = var("KAFKA_SASL_USERNAME");
        let scram = match (protocol, username) {
            (Protocol::SaslSsl, None) => {
                return Err(ConfigError::new(
                    "KAFKA_SASL_USERNAME",
                    "",
                    "the service's Kafka principal, since KAFKA_SECURITY_PROTOCOL=sasl_ssl \
                     (also set KAFKA_SASL_PASSWORD_FILE)",
                ));
            }
            (Protocol::SaslSsl, Some(username)) => Some(Scram {
                mechanism: mechanism(var("KAFKA_SASL_MECHANISM"))?,
                username,
                password: password(var("KAFKA_SASL_PASSWORD"), var("KAFKA_SASL_PASSWORD_FILE"))?,
            }),
            (_, Some(username)) => {
                return Err(ConfigError::new(
                    "KAFKA_SECURITY_PROTOCOL",
                    &format!(
                        "{} (with KAFKA_SASL_USERNAME={username})",
                        protocol.as_librdkafka()
                    ),
                    "sasl_ssl when KAFKA_SASL_USERNAME is set (otherwise the credentials \
                     would be silently ignored); or unset KAFKA_SASL_USERNAME",
                ));
            }
            (_, None) => None,
        };
        let ca_file = var("KAFKA_SSL_CA_FILE").map(PathBuf::from);
        if let Some(file) = &ca_file {
            if protocol == Protocol::Plaintext {
                return Err(ConfigError::new(
                    "KAFKA_SECURITY_PROTOCOL",
                    "plaintext",
                    "ssl or sasl_ssl when KAFKA_SSL_CA_FILE is set (a CA is only used for TLS)",
                ));
            }
            if !file.is_file() {
                return Err(ConfigError::new(
                    "KAFKA_SSL_CA_FILE",
                    &file.display().to_string(),
                    "a readable PEM file with the CA of the brokers' certificates",
                ));
            }
        }
        if production && protocol != Protocol::SaslSsl {
            return Err(ConfigError::new(
                "KAFKA_SECURITY_PROTOCOL",
                protocol.as_librdkafka(),
                "sasl_ssl when COLLECTIONS_ENV=production: events travel encrypted and the \
                 broker's ACLs need to know which service is writing; set \
                 KAFKA_SECURITY_PROTOCOL=sasl_ssl, KAFKA_SASL_USERNAME and \
                 KAFKA_SASL_PASSWORD_FILE (and KAFKA_SSL_CA_FILE for a private CA)",
            ));
        }
        Ok(Self {
            protocol,
            scram,
            ca_file,
        })
    }

    /// Sets librdkafka's security properties on `config`.
    pub fn apply(&self, config: &mut ClientConfig) {
        config.set("security.protocol", self.protocol.as_librdkafka());
        if self.protocol != Protocol::Plaintext {
            // librdkafka's default since 2.0, stated: the broker's host name must match.
            config.set("ssl.endpoint.identification.algorithm", "https");
            if let Some(ca) = &self.ca_file {
                config.set("ssl.ca.location", ca.display().to_string());
            }
        }
        if let Some(scram) = &self.scram {
            config
                .set("sasl.mechanism", scram.mechanism.as_str())
                .set("sasl.username", &scram.username)
                .set("sasl.password", scram.password.expose());
        }
    }

    /// The principal, for messages (`anonymous` without SASL).
    pub fn principal(&self) -> &str {
        self.scram
            .as_ref()
            .map_or("anonymous", |s| s.username.as_str())
    }
}

fn mechanism(value: Option<String>) -> Result<ScramMechanism, ConfigError> {
    match value.map(|v| v.trim().to_ascii_uppercase()).as_deref() {
        None | Some("SCRAM-SHA-512") => Ok(ScramMechanism::Sha512),
        Some("SCRAM-SHA-256") => Ok(ScramMechanism::Sha256),
        Some(other) => Err(ConfigError::new(
            "KAFKA_SASL_MECHANISM",
            other,
            "SCRAM-SHA-512 (default) or SCRAM-SHA-256",
        )),
    }
}

fn password(value: Option<String>, file: Option<String>) -> Result<Secret, ConfigError> {
    match (value, file) {
        (Some(_), Some(_)) => Err(ConfigError::new(
            "KAFKA_SASL_PASSWORD",
            "***",
            "unset when KAFKA_SASL_PASSWORD_FILE is set (one source of the password)",
        )),
        (Some(value), None) => Ok(Secret(value)),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(&path).map_err(|_| {
                ConfigError::new(
                    "KAFKA_SASL_PASSWORD_FILE",
                    &path,
                    "a readable file holding the service's Kafka password",
                )
            })?;
            // A trailing newline (echo, Kubernetes secrets made by hand) is not part of it.
            let password = text.trim_end_matches(['\r', '\n']);
            if password.is_empty() {
                return Err(ConfigError::new(
                    "KAFKA_SASL_PASSWORD_FILE",
                    &path,
                    "a file holding the service's Kafka password (this one is empty)",
                ));
            }
            Ok(Secret(password.to_owned()))
        }
        (None, None) => Err(ConfigError::new(
            "KAFKA_SASL_PASSWORD_FILE",
            "",
            "the file with the service's Kafka password (or KAFKA_SASL_PASSWORD), since \
             KAFKA_SECURITY_PROTOCOL=sasl_ssl",
        )),
    }
}

/// Where the brokers are and how to talk to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// `KAFKA_BOOTSTRAP_SERVERS`.
    pub bootstrap_servers: String,
    /// TLS and credentials.
    pub security: Security,
}

impl Connection {
    /// A plaintext connection to `bootstrap_servers`.
    pub fn plaintext(bootstrap_servers: &str) -> Self {
        Self {
            bootstrap_servers: bootstrap_servers.to_owned(),
            security: Security::plaintext(),
        }
    }

    /// A client configuration with the brokers and the security settings; add the rest.
    pub fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.bootstrap_servers);
        self.security.apply(&mut config);
        config
    }
}

/// An idempotent producer: retries never duplicate or reorder messages within a partition.
pub fn producer(
    kafka: &Connection,
    client_id: &str,
    compression: Compression,
) -> anyhow::Result<crate::producer::Producer> {
    let mut config = kafka.client_config();
    config
        .set("client.id", client_id)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "5")
        .set("compression.type", compression.as_str())
        .set("message.timeout.ms", "30000");
    crate::producer::Producer::create(&config).with_context(|| {
        format!(
            "creating a Kafka producer for {} as {}",
            kafka.bootstrap_servers,
            kafka.security.principal()
        )
    })
}

/// A consumer that never stores an offset by itself: the caller stores it after the
/// handler's transaction committed, and stored offsets are committed in the background.
pub fn consumer(kafka: &Connection, group_id: &str) -> anyhow::Result<StreamConsumer> {
    kafka
        .client_config()
        .set("group.id", group_id)
        .set("client.id", group_id)
        .set("enable.auto.commit", "true")
        .set("auto.commit.interval.ms", "1000")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        // Cooperative rebalancing re-delivers nothing on a rebalance (see STACK.md); the
        // consumer is idempotent anyway.
        .set("partition.assignment.strategy", "cooperative-sticky")
        // A killed instance's partitions move on after 6 s instead of the default 45 s.
        .set("session.timeout.ms", "6000")
        .set("heartbeat.interval.ms", "1000")
        // Where topics are not provisioned up front (brokers without CreateTopics), a topic
        // created later by its first producer is picked up within seconds, not minutes.
        .set("allow.auto.create.topics", "true")
        .set("topic.metadata.refresh.interval.ms", "5000")
        .create()
        .with_context(|| {
            format!(
                "creating a Kafka consumer for {} as {}",
                kafka.bootstrap_servers,
                kafka.security.principal()
            )
        })
}

/// How long a stopping consumer may take to commit its stored offsets and leave its group.
/// A reachable broker answers in milliseconds; an unreachable one would hold the process
/// until it is killed (librdkafka's close waits for the group coordinator).
pub const CLOSE_WITHIN: Duration = Duration::from_secs(3);

/// Commits `consumer`'s stored offsets and closes it (leaving its group), waiting at most
/// `within`. When the broker does not answer in time the process goes on stopping: what
/// was not committed is read again after restart and recognised as a repeat
/// (`processed_events`), and the group moves the partitions on after its session timeout.
/// `who` names the consumer in the log.
pub async fn close_consumer(consumer: StreamConsumer, within: Duration, who: &str) {
    use rdkafka::consumer::{CommitMode, Consumer as _};
    let (closed, done) = tokio::sync::oneshot::channel();
    // A thread of its own, not the blocking pool: the runtime waits for its blocking tasks
    // when it shuts down, and this one may never return.
    let spawned = std::thread::Builder::new()
        .name("kafka-close".to_owned())
        .spawn(move || {
            // Nothing stored since the last commit is the usual error.
            let committed = consumer.commit_consumer_state(CommitMode::Sync);
            drop(consumer);
            let _ = closed.send(committed);
        });
    if let Err(error) = spawned {
        tracing::warn!(%error, who, "could not start the thread that closes the consumer");
        return;
    }
    match tokio::time::timeout(within, done).await {
        Ok(Ok(Err(error))) => tracing::debug!(%error, who, "final offset commit"),
        Ok(_) => {}
        Err(_) => tracing::warn!(
            who,
            within_secs = within.as_secs(),
            "the broker did not answer the consumer's final commit and leave in time; \
             stopping anyway: uncommitted messages are read again after restart and \
             recognised as repeats"
        ),
    }
}

/// Creates `topics` on a real broker (already existing ones are fine). librdkafka's mock
/// cluster does not implement topic creation through the admin API; the local broker
/// creates topics itself.
pub async fn create_topics(
    kafka: &Connection,
    topics: &[String],
    partitions: i32,
) -> anyhow::Result<()> {
    let admin: AdminClient<DefaultClientContext> = kafka
        .client_config()
        .create()
        .context("creating a Kafka admin client")?;
    let new_topics: Vec<NewTopic<'_>> = topics
        .iter()
        .map(|name| NewTopic::new(name, partitions, TopicReplication::Fixed(-1)))
        .collect();
    let options = AdminOptions::new()
        .request_timeout(Some(Duration::from_secs(10)))
        .operation_timeout(Some(Duration::from_secs(10)));
    let results = admin
        .create_topics(&new_topics, &options)
        .await
        .with_context(|| format!("creating topics on {}", kafka.bootstrap_servers))?;
    for result in results {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => anyhow::bail!("could not create topic {topic}: {code}"),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn security(production: bool, vars: &[(&str, &str)]) -> Result<Security, String> {
        Security::from_vars(production, &crate::config::fake_env(vars)).map_err(|e| e.to_string())
    }

    #[test]
    fn plaintext_by_default_and_refused_in_production() {
        assert_eq!(security(false, &[]), Ok(Security::plaintext()));
        let error = security(true, &[]).unwrap_err();
        assert!(error.contains("KAFKA_SECURITY_PROTOCOL"), "{error}");
        assert!(error.contains("COLLECTIONS_ENV=production"), "{error}");
        let tls_only = security(true, &[("KAFKA_SECURITY_PROTOCOL", "ssl")]).unwrap_err();
        assert!(tls_only.contains("sasl_ssl"), "{tls_only}");
    }

    #[test]
    fn sasl_ssl_reads_the_password_from_a_file_and_never_shows_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("password");
        std::fs::write(&file, "s3cret-pw\n").unwrap();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, "-----BEGIN CERTIFICATE-----\n").unwrap();
        let file = file.display().to_string();
        let ca = ca.display().to_string();
        let vars = [
            ("KAFKA_SECURITY_PROTOCOL", "SASL_SSL"),
            ("KAFKA_SASL_USERNAME", "payments"),
            ("KAFKA_SASL_PASSWORD_FILE", file.as_str()),
            ("KAFKA_SSL_CA_FILE", ca.as_str()),
        ];
        let secure = security(true, &vars).unwrap();
        let scram = secure.scram.clone().unwrap();
        assert_eq!(scram.mechanism, ScramMechanism::Sha512);
        assert_eq!(scram.username, "payments");
        assert_eq!(scram.password.expose(), "s3cret-pw");
        assert!(!format!("{secure:?}").contains("s3cret"));
        let mut config = ClientConfig::new();
        secure.apply(&mut config);
        assert_eq!(config.get("security.protocol"), Some("sasl_ssl"));
        assert_eq!(config.get("sasl.mechanism"), Some("SCRAM-SHA-512"));
        assert_eq!(config.get("ssl.ca.location"), Some(ca.as_str()));

        let both = security(
            false,
            &[
                vars[0],
                vars[1],
                vars[2],
                ("KAFKA_SASL_PASSWORD", "s3cret-pw"),
            ],
        )
        .unwrap_err();
        assert!(both.contains("one source"), "{both}");
        assert!(!both.contains("s3cret"), "{both}");
    }

    #[test]
    fn contradictions_name_the_variable() {
        let no_user = security(false, &[("KAFKA_SECURITY_PROTOCOL", "sasl_ssl")]).unwrap_err();
        assert!(no_user.contains("KAFKA_SASL_USERNAME"), "{no_user}");
        let no_password = security(
            false,
            &[
                ("KAFKA_SECURITY_PROTOCOL", "sasl_ssl"),
                ("KAFKA_SASL_USERNAME", "legal"),
            ],
        )
        .unwrap_err();
        assert!(
            no_password.contains("KAFKA_SASL_PASSWORD_FILE"),
            "{no_password}"
        );
        let ignored = security(false, &[("KAFKA_SASL_USERNAME", "legal")]).unwrap_err();
        assert!(ignored.contains("KAFKA_SECURITY_PROTOCOL"), "{ignored}");
        let clear = security(false, &[("KAFKA_SECURITY_PROTOCOL", "sasl_plaintext")]).unwrap_err();
        assert!(clear.contains("SASL without TLS"), "{clear}");
        let mechanism = security(
            false,
            &[
                ("KAFKA_SECURITY_PROTOCOL", "sasl_ssl"),
                ("KAFKA_SASL_USERNAME", "legal"),
                ("KAFKA_SASL_PASSWORD", "pw"),
                ("KAFKA_SASL_MECHANISM", "PLAIN"),
            ],
        )
        .unwrap_err();
        assert!(mechanism.contains("KAFKA_SASL_MECHANISM"), "{mechanism}");
        let missing_ca = security(
            false,
            &[
                ("KAFKA_SECURITY_PROTOCOL", "ssl"),
                ("KAFKA_SSL_CA_FILE", "/nonexistent/ca.pem"),
            ],
        )
        .unwrap_err();
        assert!(missing_ca.contains("KAFKA_SSL_CA_FILE"), "{missing_ca}");
        let empty = tempfile::NamedTempFile::new().unwrap();
        let empty_file = security(
            false,
            &[
                ("KAFKA_SECURITY_PROTOCOL", "sasl_ssl"),
                ("KAFKA_SASL_USERNAME", "legal"),
                (
                    "KAFKA_SASL_PASSWORD_FILE",
                    empty.path().to_str().unwrap_or_default(),
                ),
            ],
        )
        .unwrap_err();
        assert!(empty_file.contains("empty"), "{empty_file}");
    }
}
