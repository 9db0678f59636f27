//! Kafka client configuration shared by the relay, the consumers and the tools.

use std::time::Duration;

use anyhow::Context as _;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::StreamConsumer;
use rdkafka::producer::FutureProducer;
use rdkafka::types::RDKafkaErrorCode;

/// An idempotent producer: retries never duplicate or reorder messages within a partition.
pub fn producer(bootstrap_servers: &str, client_id: &str) -> anyhow::Result<FutureProducer> {
    ClientConfig::new()
        .set("bootstrap.servers", bootstrap_servers)
        .set("client.id", client_id)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "5")
        .set("message.timeout.ms", "30000")
        .create()
        .with_context(|| format!("creating a Kafka producer for {bootstrap_servers}"))
}

/// A consumer that never stores an offset by itself: the caller stores it after the
/// handler's transaction committed, and stored offsets are committed in the background.
pub fn consumer(bootstrap_servers: &str, group_id: &str) -> anyhow::Result<StreamConsumer> {
    ClientConfig::new()
        .set("bootstrap.servers", bootstrap_servers)
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
        .with_context(|| format!("creating a Kafka consumer for {bootstrap_servers}"))
}

/// Creates `topics` on a real broker (already existing ones are fine). librdkafka's mock
/// cluster does not implement topic creation through the admin API; the local broker
/// creates topics itself.
pub async fn create_topics(
    bootstrap_servers: &str,
    topics: &[String],
    partitions: i32,
) -> anyhow::Result<()> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap_servers)
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
        .with_context(|| format!("creating topics on {bootstrap_servers}"))?;
    for result in results {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => anyhow::bail!("could not create topic {topic}: {code}"),
        }
    }
    Ok(())
}
