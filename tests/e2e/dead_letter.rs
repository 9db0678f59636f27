//! A message that cannot be handled goes to the consumer's dead-letter topic with the
//! reason, and the partition moves on: the next good event on the same key is applied.

use std::collections::HashMap;

use prost::Message as _;
use rdkafka::Message as _;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Headers as _;

use devstack::scenario;
use proto::events::v1 as events;

use crate::helpers::{EVENTUALLY, OrLogs, allocation, first_open_becomes, publish, start};

#[tokio::test(flavor = "multi_thread")]
async fn poison_messages_are_dead_lettered_and_the_partition_moves_on() {
    let (stack, mut clients) = start().await;
    let customer = scenario::create_customer(&mut clients, "赵六")
        .await
        .or_logs(&stack);
    let contract = scenario::create_contract(
        &mut clients,
        &customer,
        "HT-DLQ-1",
        &[("900.00", "2026-01-10")],
    )
    .await
    .or_logs(&stack);

    let producer =
        kit::kafka::producer(&stack.kafka, "e2e-dlq", kit::kafka::Compression::default())
            .or_logs(&stack);
    let topic = format!("{}{}", stack.topic_prefix, kit::events::PAYMENTS);
    let send = |payload: Vec<u8>| {
        let (producer, stack, key) = (&producer, &stack, customer.clone());
        async move { publish(producer, stack, kit::events::PAYMENTS, &key, &payload).await }
    };
    // 1. Not an envelope at all.
    send(b"\xff\xfenot protobuf".to_vec()).await.or_logs(&stack);
    // 2. An envelope whose payload does not decode as its declared type.
    let mut broken = kit::events::envelope(
        "payments",
        &customer,
        &events::PaymentAllocated {
            allocation_id: "x".into(),
            ..Default::default()
        },
    );
    broken.payload = vec![0xff, 0xff, 0xff];
    send(broken.encode_to_vec()).await.or_logs(&stack);
    // 3. An allocation that claims to come from legal: only payments writes its topic.
    let impostor = allocation(&contract, "500.00");
    send(kit::events::envelope("legal", &customer, &impostor).encode_to_vec())
        .await
        .or_logs(&stack);
    // 4. A good allocation on the same key (same partition), after the poison.
    let good = allocation(&contract, "100.00");
    send(kit::events::envelope("payments", &customer, &good).encode_to_vec())
        .await
        .or_logs(&stack);

    first_open_becomes(
        &clients,
        &contract.contract_id,
        "800.00",
        "the good allocation applied after the poison",
    )
    .await
    .or_logs(&stack);

    // Both poison messages are on contracts' dead-letter topic, each with its reason.
    let consumer: StreamConsumer =
        kit::kafka::consumer(&stack.kafka, &format!("e2e-dlq-{}", uuid::Uuid::new_v4()))
            .or_logs(&stack);
    let dlq = format!(
        "{}{}",
        stack.topic_prefix,
        kit::events::dead_letter_topic("contracts")
    );
    consumer.subscribe(&[&dlq]).or_logs(&stack);
    let mut reasons = Vec::new();
    tokio::time::timeout(EVENTUALLY, async {
        while reasons.len() < 3 {
            let message = consumer.recv().await.expect("consume dead letters");
            let headers: HashMap<String, String> = message
                .headers()
                .map(|h| {
                    h.iter()
                        .map(|h| {
                            (
                                h.key.to_owned(),
                                String::from_utf8_lossy(h.value.unwrap_or_default()).into_owned(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            assert_eq!(headers.get("source_topic"), Some(&topic));
            reasons.push(headers.get("reason").cloned().unwrap_or_default());
        }
    })
    .await
    .or_logs(&stack);
    assert!(reasons[0].contains("not an event envelope"), "{reasons:?}");
    assert!(reasons[1].contains("does not decode"), "{reasons:?}");
    assert!(
        reasons[2].contains("\"legal\" is not the owner"),
        "{reasons:?}"
    );
    assert_eq!(
        stack.stop(|_| {}),
        Vec::<String>::new(),
        "services that did not shut down gracefully"
    );
}
