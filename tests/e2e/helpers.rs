//! Shared set-up of the end-to-end tests.

use std::time::Duration;

use devstack::clients::Clients;
use devstack::{Stack, StackOptions};

/// How long events may take to flow through the services (the first consumer-group join
/// of the embedded broker alone takes about 3 s).
pub(crate) const EVENTUALLY: Duration = Duration::from_secs(60);

/// Starts an isolated stack (own database, own topic prefix on a shared broker) and clients.
pub(crate) async fn start() -> (Stack, Clients) {
    start_with(Vec::new()).await
}

/// [`start`] with more environment variables for every service.
pub(crate) async fn start_with(extra: Vec<(String, String)>) -> (Stack, Clients) {
    start_with_service_env(extra, Vec::new()).await
}

/// [`start_with`] plus environment variables for one service only, as (service, name, value).
pub(crate) async fn start_with_service_env(
    extra: Vec<(String, String)>,
    service_env: Vec<(String, String, String)>,
) -> (Stack, Clients) {
    let mut options = StackOptions {
        service_env,
        isolated: true,
        env: vec![
            ("OUTBOX_POLL_MS".to_owned(), "50".to_owned()),
            ("DUNNING_ESCALATE_AFTER_DAYS".to_owned(), "30".to_owned()),
            ("DUNNING_ESCALATE_MIN_AMOUNT".to_owned(), "5000".to_owned()),
            (
                "RUST_LOG".to_owned(),
                std::env::var("RUST_LOG").unwrap_or_else(|_| "info".to_owned()),
            ),
        ],
        ..StackOptions::default()
    };
    options.env.extend(extra);
    let verbose = std::env::var_os("TEST_LOG").is_some();
    let stack = Stack::start(options, |line| {
        if verbose {
            eprintln!("[stack] {line}");
        }
    })
    .await
    .expect("the stack starts; is PostgreSQL installed (deploy/local/install-deps.sh) and are the binaries built?");
    let clients = Clients::new(&stack).expect("clients");
    (stack, clients)
}

/// Unwraps, or fails the test with the services' recent logs.
pub(crate) trait OrLogs<T> {
    fn or_logs(self, stack: &Stack) -> T;
}

impl<T, E: std::fmt::Display> OrLogs<T> for Result<T, E> {
    fn or_logs(self, stack: &Stack) -> T {
        match self {
            Ok(value) => value,
            Err(error) => panic!("{error:#}\n\nservice logs:\n{}", stack.log_tails(40)),
        }
    }
}

/// Publishes raw bytes to `topic` of the stack (its prefix added), as another producer would.
pub(crate) async fn publish(
    producer: &rdkafka::producer::FutureProducer,
    stack: &Stack,
    topic: &str,
    key: &str,
    payload: &[u8],
) -> anyhow::Result<()> {
    let topic = format!("{}{topic}", stack.topic_prefix);
    producer
        .send(
            rdkafka::producer::FutureRecord::to(&topic)
                .key(key)
                .payload(payload),
            Duration::from_secs(10),
        )
        .await
        .map_err(|(e, _)| e)?;
    Ok(())
}

/// A `PaymentAllocated` of `amount` CNY to the contract's first receivable, as payments would
/// publish it, for tests that put events on the topic themselves.
pub(crate) fn allocation(
    contract: &proto::contracts::v1::Contract,
    amount: &str,
) -> proto::events::v1::PaymentAllocated {
    proto::events::v1::PaymentAllocated {
        allocation_id: uuid::Uuid::now_v7().to_string(),
        payment_id: uuid::Uuid::now_v7().to_string(),
        receivable_id: contract.receivables[0].receivable_id.clone(),
        contract_id: contract.contract_id.clone(),
        customer_id: contract.customer_id.clone(),
        amount: Some(proto::types::v1::Money {
            amount: amount.into(),
            currency: "CNY".into(),
        }),
        booking_date: "2026-01-05".into(),
    }
}
