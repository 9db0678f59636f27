//! The topics the stack provisions: three partitions each on every broker; on Apache Kafka
//! also one replica per node (up to 3), a 7-day retention set per topic, and no
//! auto-creation (a producer to an unprovisioned topic is refused instead of inventing one).

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, ResourceSpecifier};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::producer::{FutureProducer, FutureRecord};

use devstack::broker::{Broker, PARTITIONS};
use devstack::{Stack, StackOptions};

#[tokio::test(flavor = "multi_thread")]
async fn topics_are_provisioned_with_partitions_and_retention() {
    let stack = Stack::start(
        StackOptions {
            isolated: true,
            only: vec!["contracts".to_owned()],
            ..StackOptions::default()
        },
        |_| {},
    )
    .await
    .expect("the stack starts");
    let topics: Vec<String> = kit::events::all_topics()
        .iter()
        .map(|t| format!("{}{t}", stack.topic_prefix))
        .collect();

    let kafka = stack.kafka.clone();
    let names = topics.clone();
    let partitions = tokio::task::spawn_blocking(move || {
        let consumer: BaseConsumer = kafka.client_config().create().expect("consumer");
        let metadata = consumer
            .fetch_metadata(None, Duration::from_secs(10))
            .expect("metadata");
        names
            .iter()
            .map(|name| {
                metadata
                    .topics()
                    .iter()
                    .find(|t| t.name() == name)
                    .map_or((0, 0), |t| {
                        let replicas = t.partitions().iter().map(|p| p.replicas().len()).min();
                        (t.partitions().len(), replicas.unwrap_or(0))
                    })
            })
            .collect::<Vec<_>>()
    })
    .await
    .expect("metadata task");
    for (topic, (count, _)) in topics.iter().zip(&partitions) {
        assert_eq!(
            *count,
            usize::try_from(PARTITIONS).expect("partitions"),
            "{topic}"
        );
    }

    let Broker::ApacheKafka(kafka) = stack.broker() else {
        return;
    };
    // One replica per node, up to 3 (COLLECTIONS_KAFKA_BROKERS=3: a replicated cluster).
    for (topic, (_, replicas)) in topics.iter().zip(&partitions) {
        assert_eq!(
            i32::try_from(*replicas).expect("replicas"),
            kafka.replication(),
            "{topic}"
        );
    }
    let admin: AdminClient<DefaultClientContext> =
        stack.kafka.client_config().create().expect("admin client");
    let resources: Vec<ResourceSpecifier<'_>> = topics
        .iter()
        .map(|t| ResourceSpecifier::Topic(t.as_str()))
        .collect();
    let configs = admin
        .describe_configs(&resources, &AdminOptions::new())
        .await
        .expect("describe configs");
    for (topic, config) in topics.iter().zip(configs) {
        let config = config.expect("topic config");
        let retention = config
            .get("retention.ms")
            .and_then(|e| e.value.clone())
            .expect("retention.ms");
        assert_eq!(
            retention,
            devstack::kafka::RETENTION_MS.to_string(),
            "{topic}"
        );
    }

    // Auto-creation is off: a typo in a topic name is an error, not a new topic.
    let producer: FutureProducer = stack
        .kafka
        .client_config()
        .set("message.timeout.ms", "5000")
        .create()
        .expect("producer");
    let unknown = format!("{}collections.nobody.typo.v1", stack.topic_prefix);
    let sent = producer
        .send(
            FutureRecord::to(&unknown).key("k").payload("v"),
            Duration::from_secs(5),
        )
        .await;
    assert!(sent.is_err(), "the broker created {unknown} on first use");
}
