//! Contracts owns balances: it refuses an allocation that would overpay (publishing the
//! refusal) and never applies one allocation twice, whatever the broker re-delivers.

use std::time::Duration;

use prost::Message as _;
use rdkafka::Message as _;
use rdkafka::consumer::{Consumer, StreamConsumer};

use devstack::clients::eventually;
use devstack::scenario::{self, open_amount};
use proto::events::v1 as events;

use crate::helpers::{EVENTUALLY, OrLogs, start};

fn allocation(
    receivable: &proto::contracts::v1::Receivable,
    customer: &str,
    amount: &str,
) -> events::PaymentAllocated {
    events::PaymentAllocated {
        allocation_id: uuid::Uuid::now_v7().to_string(),
        payment_id: uuid::Uuid::now_v7().to_string(),
        receivable_id: receivable.receivable_id.clone(),
        contract_id: receivable.contract_id.clone(),
        customer_id: customer.to_owned(),
        amount: Some(proto::types::v1::Money {
            amount: amount.to_owned(),
            currency: "CNY".to_owned(),
        }),
        booking_date: "2026-01-05".to_owned(),
        parts: Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn overpaying_and_repeated_allocations() {
    let (stack, mut clients) = start().await;
    let customer = scenario::create_customer(&mut clients, "李四")
        .await
        .or_logs(&stack);
    let contract = scenario::create_contract(
        &mut clients,
        &customer,
        "HT-E2E-0002",
        &[("500.00", "2026-01-10")],
    )
    .await
    .or_logs(&stack);
    let receivable = &contract.receivables[0];

    let producer =
        kit::kafka::producer(&stack.kafka, "e2e-test", kit::kafka::Compression::default())
            .or_logs(&stack);
    let topic = format!("{}{}", stack.topic_prefix, kit::events::PAYMENTS);
    let send = |envelope: events::Envelope| {
        let producer = producer.clone();
        let topic = topic.clone();
        let key = customer.clone();
        async move {
            let bytes = envelope.encode_to_vec();
            let record = kit::producer::Record {
                topic: &topic,
                key: Some(key.as_bytes()),
                payload: &bytes,
                headers: rdkafka::message::OwnedHeaders::new(),
            };
            producer.send(record, Duration::from_secs(10)).await
        }
    };

    // 500.01 against 500.00 open: refused.
    let over = allocation(receivable, &customer, "500.01");
    send(kit::events::envelope("payments", &customer, &over))
        .await
        .or_logs(&stack);

    // 200.00, delivered twice as the same event and once more as a new event with the same
    // allocation id: applied exactly once.
    let part = allocation(receivable, &customer, "200.00");
    let envelope = kit::events::envelope("payments", &customer, &part);
    send(envelope.clone()).await.or_logs(&stack);
    send(envelope).await.or_logs(&stack);
    send(kit::events::envelope("payments", &customer, &part))
        .await
        .or_logs(&stack);

    // The refusal is published on the contracts topic.
    let consumer: StreamConsumer = kit::kafka::consumer(
        &stack.kafka,
        &format!("e2e-observer-{}", uuid::Uuid::new_v4()),
    )
    .or_logs(&stack);
    consumer
        .subscribe(&[&format!("{}{}", stack.topic_prefix, kit::events::CONTRACTS)])
        .or_logs(&stack);
    let rejected = tokio::time::timeout(EVENTUALLY, async {
        loop {
            let message = consumer.recv().await.expect("consume");
            let Ok(envelope) = events::Envelope::decode(message.payload().unwrap_or_default())
            else {
                continue;
            };
            if envelope.event_type == kit::events::type_name::<events::AllocationRejected>() {
                let rejected = events::AllocationRejected::decode(envelope.payload.as_slice())
                    .expect("payload");
                if rejected.allocation_id == over.allocation_id {
                    return rejected;
                }
            }
        }
    })
    .await
    .or_logs(&stack);
    assert!(rejected.reason.contains("overpay"), "{}", rejected.reason);
    assert_eq!(
        rejected.open_amount.map(|m| m.amount),
        Some("500.00".to_owned())
    );

    let after = eventually("the 200.00 allocation applied", EVENTUALLY, || async {
        let mut c = clients.clone();
        let r = scenario::receivables(&mut c, &contract.contract_id).await?;
        Ok((open_amount(&r[0]) != "500.00").then_some(r))
    })
    .await
    .or_logs(&stack);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let settled = scenario::receivables(&mut clients, &contract.contract_id)
        .await
        .or_logs(&stack);
    assert_eq!(open_amount(&after[0]), "300.00");
    assert_eq!(
        open_amount(&settled[0]),
        "300.00",
        "applied once, never twice"
    );
    assert_eq!(
        settled[0].status,
        proto::contracts::v1::ReceivableStatus::PartiallyPaid as i32
    );
    assert_eq!(
        stack.stop(|_| {}),
        Vec::<String>::new(),
        "services that did not shut down gracefully"
    );
}
