//! The Kafka-protocol broker: librdkafka's mock cluster hosted in this process, a real
//! Apache Kafka broker run as a child process, or an external broker named by
//! `KAFKA_BOOTSTRAP_SERVERS`.

use std::ops::Not as _;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;

use crate::kafka::KafkaBroker;

/// Partitions per topic.
pub const PARTITIONS: i32 = 3;

/// Selects the broker in the test harness (`embedded` or `apache-kafka`);
/// `KAFKA_BOOTSTRAP_SERVERS` wins over it.
pub const BROKER_VARIABLE: &str = "COLLECTIONS_BROKER";

/// Which broker a stack starts (when `KAFKA_BOOTSTRAP_SERVERS` does not name one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokerKind {
    /// librdkafka's mock cluster in this process.
    Embedded,
    /// Apache Kafka (KRaft; one node, or a cluster) as child processes.
    ApacheKafka,
}

impl std::str::FromStr for BrokerKind {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> anyhow::Result<Self> {
        match s {
            "embedded" | "mock" => Ok(Self::Embedded),
            "apache-kafka" | "kafka" => Ok(Self::ApacheKafka),
            other => anyhow::bail!("unknown broker {other:?}: expected embedded or apache-kafka"),
        }
    }
}

/// True when this process's environment selects the process-wide Apache Kafka broker
/// (`COLLECTIONS_BROKER=apache-kafka` and no `KAFKA_BOOTSTRAP_SERVERS`): the broker with
/// TLS, SASL and ACLs. Tests of broker security use it to skip on the other brokers.
pub fn env_selects_apache_kafka() -> bool {
    std::env::var("KAFKA_BOOTSTRAP_SERVERS")
        .is_ok_and(|s| !s.is_empty())
        .not()
        && std::env::var(BROKER_VARIABLE)
            .is_ok_and(|s| s.parse::<BrokerKind>().ok() == Some(BrokerKind::ApacheKafka))
}

/// A broker the services can reach over TCP.
pub enum Broker {
    /// librdkafka's mock cluster: a real Kafka-protocol broker on loopback, in memory.
    Embedded(MockCluster<'static, DefaultProducerContext>),
    /// Apache Kafka run by this process (owned by one stack, or the process-wide one).
    ApacheKafka(Arc<KafkaBroker>),
    /// A broker run by someone else.
    External(String),
}

impl Broker {
    /// `KAFKA_BOOTSTRAP_SERVERS` if set; else `COLLECTIONS_BROKER=apache-kafka` gives the
    /// process-wide Apache Kafka broker (started on first use, shared by every stack of the
    /// process, stopped when it exits); else an embedded broker. Blocks while Kafka starts.
    pub fn from_env() -> anyhow::Result<Self> {
        if let Ok(servers) = std::env::var("KAFKA_BOOTSTRAP_SERVERS")
            && !servers.is_empty()
        {
            return Ok(Broker::External(servers));
        }
        match std::env::var(BROKER_VARIABLE) {
            Ok(kind) if !kind.is_empty() => match kind.parse::<BrokerKind>()? {
                BrokerKind::Embedded => Self::embedded(),
                BrokerKind::ApacheKafka => Ok(Broker::ApacheKafka(KafkaBroker::shared()?)),
            },
            _ => Self::embedded(),
        }
    }

    /// The broker a stack uses: `kind` when given (`devstack up --broker`), else as
    /// [`Broker::from_env`]. An Apache Kafka broker of its own keeps its files in `dir`.
    /// Starting Kafka blocks, so it runs on the blocking pool.
    /// `nodes` is the size of an Apache Kafka cluster of its own (default 1).
    pub async fn select(
        kind: Option<BrokerKind>,
        nodes: Option<usize>,
        dir: &Path,
    ) -> anyhow::Result<Self> {
        let wants_kafka = match kind {
            Some(BrokerKind::Embedded) => return Self::embedded(),
            Some(BrokerKind::ApacheKafka) => {
                let dir = dir.to_path_buf();
                let nodes = nodes.unwrap_or(1);
                let kafka =
                    tokio::task::spawn_blocking(move || KafkaBroker::start(&dir, nodes)).await??;
                return Ok(Broker::ApacheKafka(Arc::new(kafka)));
            }
            None => env_selects_apache_kafka(),
        };
        if wants_kafka {
            let kafka = tokio::task::spawn_blocking(KafkaBroker::shared).await??;
            Ok(Broker::ApacheKafka(kafka))
        } else {
            Self::from_env()
        }
    }

    /// Starts an embedded one-broker cluster.
    pub fn embedded() -> anyhow::Result<Self> {
        let cluster = MockCluster::new(1).context("starting librdkafka's mock cluster")?;
        Ok(Broker::Embedded(cluster))
    }

    /// Starts a one-node Apache Kafka broker of its own with its files in `dir` (stopped
    /// when the broker is dropped). Blocks until it answers metadata (a few seconds).
    pub fn apache_kafka(dir: &Path) -> anyhow::Result<Self> {
        Ok(Broker::ApacheKafka(Arc::new(KafkaBroker::start(dir, 1)?)))
    }

    /// The bootstrap address to give to clients.
    pub fn bootstrap_servers(&self) -> String {
        match self {
            Broker::Embedded(cluster) => cluster.bootstrap_servers(),
            Broker::ApacheKafka(kafka) => kafka.bootstrap_servers().to_owned(),
            Broker::External(servers) => servers.clone(),
        }
    }

    /// How the harness connects: as `admin` over SASL_SSL to Apache Kafka, with the
    /// security settings of this process's environment (`KAFKA_SECURITY_PROTOCOL`, …) to an
    /// external broker, in plaintext to the embedded one.
    pub fn connection(&self) -> anyhow::Result<kit::kafka::Connection> {
        match self {
            Broker::Embedded(cluster) => Ok(kit::kafka::Connection::plaintext(
                &cluster.bootstrap_servers(),
            )),
            Broker::ApacheKafka(kafka) => kafka.connection(crate::kafka::ADMIN),
            Broker::External(servers) => Ok(kit::kafka::Connection {
                bootstrap_servers: servers.clone(),
                security: kit::kafka::Security::from_env(false)?,
            }),
        }
    }

    /// A connection as `principal` (a service, or `admin`), on Apache Kafka only: the other
    /// brokers have no per-service credentials.
    pub fn connection_as(&self, principal: &str) -> Option<kit::kafka::Connection> {
        match self {
            Broker::ApacheKafka(kafka) => kafka.connection(principal).ok(),
            Broker::Embedded(_) | Broker::External(_) => None,
        }
    }

    /// The `KAFKA_*` security settings of `service`'s process: its own credentials on Apache
    /// Kafka; nothing otherwise (plaintext, or what the environment says for an external
    /// broker, which the process inherits).
    pub fn service_env(&self, service: &str) -> Vec<(String, String)> {
        match self {
            Broker::ApacheKafka(kafka) => kafka.service_env(service),
            Broker::Embedded(_) | Broker::External(_) => Vec::new(),
        }
    }

    /// True when the broker authenticates clients and enforces ACLs (Apache Kafka).
    pub fn is_secured(&self) -> bool {
        matches!(self, Broker::ApacheKafka(_))
    }

    /// True for the embedded broker.
    pub fn is_embedded(&self) -> bool {
        matches!(self, Broker::Embedded(_))
    }

    /// What kind of broker this is, for people.
    pub fn describe(&self) -> String {
        match self {
            Broker::Embedded(_) => "embedded (librdkafka mock cluster)".to_owned(),
            Broker::ApacheKafka(kafka) => format!(
                "Apache Kafka {} (KRaft, {} node(s), replication factor {}, SASL_SSL + ACLs; log {})",
                crate::kafka::KAFKA_VERSION,
                kafka.nodes(),
                kafka.replication(),
                kafka.log_file().display()
            ),
            Broker::External(_) => "external".to_owned(),
        }
    }

    /// Creates the platform's topics, each name prefixed with `prefix`, and on Apache Kafka
    /// the services' ACLs for them ([`kit::events::acl_rules`]).
    pub async fn create_topics(&self, prefix: &str) -> anyhow::Result<()> {
        let topics: Vec<String> = kit::events::all_topics()
            .iter()
            .map(|t| format!("{prefix}{t}"))
            .collect();
        match self {
            Broker::Embedded(cluster) => {
                for topic in &topics {
                    cluster
                        .create_topic(topic, PARTITIONS, 1)
                        .with_context(|| {
                            format!("creating topic {topic} on the embedded broker")
                        })?;
                }
                Ok(())
            }
            // Explicit partitions, replication factor and retention through the admin API;
            // the broker does not auto-create topics.
            Broker::ApacheKafka(kafka) => {
                kafka.create_topics(&topics, PARTITIONS).await?;
                let kafka = Arc::clone(kafka);
                let rules = kit::events::acl_rules(prefix);
                tokio::task::spawn_blocking(move || kafka.grant(&rules)).await?
            }
            Broker::External(_) => {
                let connection = self.connection()?;
                if let Err(error) =
                    kit::kafka::create_topics(&connection, &topics, PARTITIONS).await
                {
                    // Some brokers (librdkafka's mock cluster among them) do not implement
                    // CreateTopics; they create topics on first use instead.
                    tracing::warn!(
                        error = format!("{error:#}"),
                        "could not create topics; relying on auto-creation"
                    );
                }
                Ok(())
            }
        }
    }
}
