//! The Kafka-protocol broker: librdkafka's mock cluster hosted in this process, or an
//! external broker named by `KAFKA_BOOTSTRAP_SERVERS`.

use anyhow::Context as _;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;

/// Partitions per topic.
pub const PARTITIONS: i32 = 3;

/// A broker the services can reach over TCP.
pub enum Broker {
    /// librdkafka's mock cluster: a real Kafka-protocol broker on loopback, in memory.
    Embedded(MockCluster<'static, DefaultProducerContext>),
    /// A broker run by someone else.
    External(String),
}

impl Broker {
    /// Uses `KAFKA_BOOTSTRAP_SERVERS` if set, else starts an embedded broker.
    pub fn from_env() -> anyhow::Result<Self> {
        match std::env::var("KAFKA_BOOTSTRAP_SERVERS") {
            Ok(servers) if !servers.is_empty() => Ok(Broker::External(servers)),
            _ => Self::embedded(),
        }
    }

    /// Starts an embedded one-broker cluster.
    pub fn embedded() -> anyhow::Result<Self> {
        let cluster = MockCluster::new(1).context("starting librdkafka's mock cluster")?;
        Ok(Broker::Embedded(cluster))
    }

    /// The bootstrap address to give to clients.
    pub fn bootstrap_servers(&self) -> String {
        match self {
            Broker::Embedded(cluster) => cluster.bootstrap_servers(),
            Broker::External(servers) => servers.clone(),
        }
    }

    /// True for the embedded broker.
    pub fn is_embedded(&self) -> bool {
        matches!(self, Broker::Embedded(_))
    }

    /// Creates the platform's topics, each name prefixed with `prefix`.
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
            Broker::External(servers) => {
                if let Err(error) = kit::kafka::create_topics(servers, &topics, PARTITIONS).await {
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
