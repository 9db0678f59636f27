//! One trace follows a request from gRPC through Kafka into the next service: the W3C
//! `traceparent` sent with a gRPC call reappears in the envelope of the event that call
//! produced, and in the events other services publish in reaction.

use std::collections::HashSet;

use prost::Message as _;
use rdkafka::Message as _;
use rdkafka::consumer::{Consumer, StreamConsumer};

use proto::contracts::v1 as contracts;
use proto::events::v1 as events;

use crate::helpers::{EVENTUALLY, OrLogs, start};

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

#[tokio::test(flavor = "multi_thread")]
async fn trace_context_flows_from_grpc_through_kafka() {
    let (stack, mut clients) = start().await;
    let mut request = tonic::Request::new(contracts::CreateCustomerRequest {
        idempotency_key: "traced".into(),
        name: "王五".into(),
        kind: contracts::CustomerKind::Person as i32,
        payer_accounts: vec!["6222 0200 0000 5555".into()],
        ..Default::default()
    });
    request.metadata_mut().insert(
        "traceparent",
        format!("00-{TRACE_ID}-00f067aa0ba902b7-01")
            .parse()
            .expect("ascii"),
    );
    let customer = clients
        .contracts
        .create_customer(request)
        .await
        .or_logs(&stack)
        .into_inner();
    let customer_id = customer.customer.expect("customer").customer_id;

    let mut request = tonic::Request::new(contracts::CreateContractRequest {
        idempotency_key: "traced-contract".into(),
        customer_id: customer_id.clone(),
        contract_no: "HT-TRACE-1".into(),
        currency: "CNY".into(),
        installments: vec![contracts::Installment {
            amount: "100.00".into(),
            due_date: "2026-01-10".into(),
            ..Default::default()
        }],
        escrow_account: devstack::scenario::ESCROW_ACCOUNT.into(),
        ..Default::default()
    });
    request.metadata_mut().insert(
        "traceparent",
        format!("00-{TRACE_ID}-00f067aa0ba902b7-01")
            .parse()
            .expect("ascii"),
    );
    clients
        .contracts
        .create_contract(request)
        .await
        .or_logs(&stack);

    let consumer: StreamConsumer =
        kit::kafka::consumer(&stack.kafka, &format!("e2e-trace-{}", uuid::Uuid::new_v4()))
            .or_logs(&stack);
    let topics = [kit::events::CONTRACTS, kit::events::SCORING_GRADES]
        .map(|t| format!("{}{t}", stack.topic_prefix));
    consumer
        .subscribe(&[&topics[0], &topics[1]])
        .or_logs(&stack);

    // ContractSigned (contracts, from the gRPC call) and GradeChanged (scoring, from the
    // event) both carry the caller's trace id.
    let mut seen = HashSet::new();
    tokio::time::timeout(EVENTUALLY, async {
        while seen.len() < 2 {
            let message = consumer.recv().await.expect("consume");
            let Ok(envelope) = events::Envelope::decode(message.payload().unwrap_or_default())
            else {
                continue;
            };
            if envelope.aggregate_key != customer_id {
                continue;
            }
            assert_eq!(
                envelope.traceparent.split('-').nth(1),
                Some(TRACE_ID),
                "{} lost the trace: {:?}",
                envelope.event_type,
                envelope.traceparent
            );
            let header = message
                .headers()
                .and_then(|h| {
                    use rdkafka::message::Headers as _;
                    h.iter()
                        .find(|h| h.key == "traceparent")
                        .and_then(|h| h.value.map(<[u8]>::to_vec))
                })
                .unwrap_or_default();
            assert_eq!(
                String::from_utf8_lossy(&header),
                envelope.traceparent,
                "Kafka header and envelope agree"
            );
            seen.insert(envelope.event_type);
        }
    })
    .await
    .or_logs(&stack);
    assert!(seen.contains(&kit::events::type_name::<events::ContractSigned>()));
    assert!(seen.contains(&kit::events::type_name::<events::GradeChanged>()));
    assert_eq!(
        stack.stop(|_| {}),
        Vec::<String>::new(),
        "services that did not shut down gracefully"
    );
}
