//! Authentic, encrypted events (issue 11): on Apache Kafka the broker itself refuses what the
//! ACLs do not allow. Another service's principal cannot put a `PaymentAllocated` on the
//! payments topic (and the receivable's balance stays as it was, while the same event from
//! payments' principal is applied); a client without credentials, with a wrong password or
//! in plaintext does not get in; a service cannot read a topic it does not consume, nor the
//! legal department any topic but the legal cases topic.
//! Skipped on the mock cluster and external brokers (no TLS, SASL or ACLs there).

use std::time::Duration;

use prost::Message as _;
use std::sync::Mutex;

use rdkafka::ClientContext;
use rdkafka::error::KafkaError;
use rdkafka::producer::{BaseProducer, DeliveryResult, Producer as _, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;

use devstack::clients::eventually;
use devstack::scenario::{self, open_amount};
use kit::kafka::{Connection, Protocol, Secret, Security};

use crate::helpers::{EVENTUALLY, OrLogs, allocation, publish, start};

fn skip() -> bool {
    if devstack::broker::env_selects_apache_kafka() {
        return false;
    }
    eprintln!(
        "skipped: broker security needs Apache Kafka (COLLECTIONS_BROKER=apache-kafka, \
         no KAFKA_BOOTSTRAP_SERVERS); the mock cluster has no TLS, SASL or ACLs"
    );
    true
}

/// Remembers the errors librdkafka reports outside of a request (e.g. a refused login).
#[derive(Default)]
struct Errors(Mutex<Vec<RDKafkaErrorCode>>);

impl ClientContext for Errors {
    fn error(&self, error: KafkaError, _reason: &str) {
        if let (Some(code), Ok(mut seen)) = (error.rdkafka_error_code(), self.0.lock()) {
            seen.push(code);
        }
    }
}

impl ProducerContext for Errors {
    type DeliveryOpaque = ();

    fn delivery(&self, _: &DeliveryResult<'_>, (): ()) {}
}

/// What the broker told a client that asked for `topic`'s metadata.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    /// The topic, without error.
    Topic,
    /// A per-topic error (e.g. not authorised).
    TopicError(RDKafkaErrorCode),
    /// No answer at all, with the errors the client reported meanwhile.
    NoAnswer(Vec<RDKafkaErrorCode>),
}

/// Asks for `topic`'s metadata as `kafka` (5 s at most).
async fn describe(kafka: &Connection, topic: &str) -> Seen {
    let config = kafka.client_config();
    let topic = topic.to_owned();
    tokio::task::spawn_blocking(move || {
        // A producer: its poll() serves the client's error events.
        let client: BaseProducer<Errors> = config
            .create_with_context(Errors::default())
            .expect("a client");
        match client
            .client()
            .fetch_metadata(Some(&topic), Duration::from_secs(5))
        {
            Ok(metadata) => match metadata
                .topics()
                .iter()
                .find(|t| t.name() == topic)
                .and_then(|t| t.error())
            {
                None => Seen::Topic,
                Some(error) => Seen::TopicError(RDKafkaErrorCode::from(error)),
            },
            Err(_) => Seen::NoAnswer({
                client.poll(Duration::from_millis(100));
                client
                    .context()
                    .0
                    .lock()
                    .map(|e| e.clone())
                    .unwrap_or_default()
            }),
        }
    })
    .await
    .expect("metadata task")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_broker_refuses_what_the_acls_do_not_allow() {
    if skip() {
        return;
    }
    let (stack, mut clients) = start().await;
    let customer = scenario::create_customer(&mut clients, "王五")
        .await
        .or_logs(&stack);
    let contract = scenario::create_contract(
        &mut clients,
        &customer,
        "HT-E2E-ACL1",
        &[("500.00", "2026-01-10")],
    )
    .await
    .or_logs(&stack);
    let as_service = |service: &str| {
        stack
            .kafka_as(service)
            .unwrap_or_else(|| panic!("credentials for {service}"))
    };

    // Dunning's principal forges a PaymentAllocated (even claiming payments as the producer):
    // the broker refuses the write.
    let forged = allocation(&contract, "500.00");
    let envelope = kit::events::envelope("payments", &customer, &forged).encode_to_vec();
    let dunning = kit::kafka::producer(
        &as_service("dunning"),
        "e2e-forger",
        kit::kafka::Compression::default(),
    )
    .or_logs(&stack);
    let refused = publish(
        &dunning,
        &stack,
        kit::events::PAYMENTS,
        &customer,
        &envelope,
    )
    .await;
    let code = refused
        .as_ref()
        .err()
        .and_then(|e| e.downcast_ref::<KafkaError>())
        .and_then(KafkaError::rdkafka_error_code);
    assert_eq!(
        code,
        Some(RDKafkaErrorCode::TopicAuthorizationFailed),
        "dunning wrote to the payments topic: {refused:?}"
    );

    // The same kind of event from payments' own principal goes through and is applied; the
    // forged one, had it been written, would sit before it on the same partition.
    let genuine = allocation(&contract, "120.00");
    let envelope = kit::events::envelope("payments", &customer, &genuine).encode_to_vec();
    let payments = kit::kafka::producer(
        &as_service("payments"),
        "e2e-owner",
        kit::kafka::Compression::default(),
    )
    .or_logs(&stack);
    publish(
        &payments,
        &stack,
        kit::events::PAYMENTS,
        &customer,
        &envelope,
    )
    .await
    .or_logs(&stack);
    let applied = eventually("the genuine allocation applied", EVENTUALLY, || async {
        let mut c = clients.clone();
        let r = scenario::receivables(&mut c, &contract.contract_id).await?;
        Ok((open_amount(&r[0]) != "500.00").then_some(r))
    })
    .await
    .or_logs(&stack);
    assert_eq!(
        open_amount(&applied[0]),
        "380.00",
        "only the genuine 120.00 counts; the forged 500.00 never reached contracts"
    );

    let payments_topic = format!("{}{}", stack.topic_prefix, kit::events::PAYMENTS);
    let contracts_topic = format!("{}{}", stack.topic_prefix, kit::events::CONTRACTS);

    // A service reads what it consumes and nothing else: scoring consumes contracts' events,
    // not payments'.
    let scoring = as_service("scoring");
    assert_eq!(describe(&scoring, &contracts_topic).await, Seen::Topic);
    assert_eq!(
        describe(&scoring, &payments_topic).await,
        Seen::TopicError(RDKafkaErrorCode::TopicAuthorizationFailed),
        "scoring may see the payments topic"
    );

    // R-L6: the legal department, a reader outside the platform, sees the legal cases topic
    // and nothing else.
    let legal_department = as_service(kit::events::LEGAL_DEPARTMENT);
    let legal_topic = format!("{}{}", stack.topic_prefix, kit::events::LEGAL_CASES);
    assert_eq!(describe(&legal_department, &legal_topic).await, Seen::Topic);
    assert_eq!(
        describe(&legal_department, &payments_topic).await,
        Seen::TopicError(RDKafkaErrorCode::TopicAuthorizationFailed),
        "the legal department may see the payments topic"
    );

    // Credentials: the right password gets in, a wrong one, none, or plaintext do not.
    let payments_ok = as_service("payments");
    assert_eq!(describe(&payments_ok, &contracts_topic).await, Seen::Topic);
    let mut wrong_password = payments_ok.clone();
    if let Some(scram) = wrong_password.security.scram.as_mut() {
        scram.password = Secret::new("not-the-password");
    }
    let seen = describe(&wrong_password, &contracts_topic).await;
    assert!(
        matches!(&seen, Seen::NoAnswer(errors) if errors.contains(&RDKafkaErrorCode::Authentication)),
        "a wrong password: {seen:?}"
    );
    let tls_without_credentials = Connection {
        bootstrap_servers: stack.bootstrap_servers.clone(),
        security: Security {
            protocol: Protocol::Ssl,
            scram: None,
            ca_file: payments_ok.security.ca_file.clone(),
        },
    };
    let seen = describe(&tls_without_credentials, &contracts_topic).await;
    assert!(
        matches!(seen, Seen::NoAnswer(_)),
        "a client without credentials: {seen:?}"
    );
    let plaintext = Connection::plaintext(&stack.bootstrap_servers);
    let seen = describe(&plaintext, &contracts_topic).await;
    assert!(
        matches!(seen, Seen::NoAnswer(_)),
        "a plaintext client: {seen:?}"
    );

    assert_eq!(
        stack.stop(|_| {}),
        Vec::<String>::new(),
        "services that did not shut down gracefully"
    );
}
