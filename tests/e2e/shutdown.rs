//! A service told to stop (SIGTERM, as Kubernetes does on a rollout or a node drain) stops
//! within its grace period even while the broker is gone, and nothing it had not yet sent is
//! lost: what its outbox held is relayed once the broker and the service are back.

use std::time::{Duration, Instant};

use devstack::broker::{Broker, BrokerKind};
use devstack::scenario::{self, bank_csv};
use devstack::{Stack, StackOptions};

use crate::helpers::{OrLogs, first_open_becomes};

/// How long a service may take from SIGTERM to its exit here. The pods' grace is 45 s
/// (`deploy/k8s/base`); the stacks of these tests drain for 0 ms, so what remains is the
/// consumers, the outbox relays and the producers letting go of the broker.
const STOP_WITHIN: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread")]
async fn every_service_stops_within_its_grace_while_the_broker_is_down_and_loses_nothing() {
    // A broker of its own: this test kills it.
    let mut stack = Stack::start(
        StackOptions {
            isolated: true,
            broker: Some(BrokerKind::ApacheKafka),
            env: vec![("OUTBOX_POLL_MS".to_owned(), "50".to_owned())],
            ..StackOptions::default()
        },
        |_| {},
    )
    .await
    .expect("the stack starts; is Kafka installed (deploy/local/install-kafka.sh)?");
    let mut clients = devstack::clients::Clients::new(&stack).or_logs(&stack);
    let customer = scenario::create_customer(&mut clients, "周九")
        .await
        .or_logs(&stack);
    let before = scenario::create_contract(
        &mut clients,
        &customer,
        "HT-SD-1",
        &[("900.00", "2026-01-10")],
    )
    .await
    .or_logs(&stack);
    // The stack works: a payment for the first contract is applied end to end.
    pay(&mut clients, "HT-SD-1", "before.csv").await;
    first_open_becomes(&clients, &before.contract_id, "800.00", "paid before")
        .await
        .or_logs(&stack);

    let Broker::ApacheKafka(kafka) = stack.broker() else {
        panic!("the test asked for Apache Kafka");
    };
    let kafka = kafka.clone();
    kafka.kill_node(0).or_logs(&stack);
    // Signed while the broker is down: ContractSigned waits in contracts' outbox, and the
    // relay keeps trying to send it.
    let during = scenario::create_contract(
        &mut clients,
        &customer,
        "HT-SD-2",
        &[("900.00", "2026-01-10")],
    )
    .await
    .or_logs(&stack);
    tokio::time::sleep(Duration::from_secs(2)).await;

    let names: Vec<String> = devstack::SERVICES
        .iter()
        .map(|(name, _)| (*name).to_owned())
        .collect();
    let mut unclean = Vec::new();
    for name in names.iter().rev() {
        let began = Instant::now();
        let stopped = stack.terminate(name, STOP_WITHIN);
        if let Err(why) = stopped {
            unclean.push(format!("{name}: {why}"));
        } else {
            eprintln!("{name} stopped in {:.1} s", began.elapsed().as_secs_f32());
        }
    }
    assert!(
        unclean.is_empty(),
        "services that did not stop within {} s of SIGTERM with the broker down: {unclean:?}\n{}",
        STOP_WITHIN.as_secs(),
        stack.log_tails(30)
    );

    // Back: the broker, then every service. The contract signed during the outage reaches
    // payments (its ContractSigned was still in the outbox), so its payment is applied.
    tokio::task::spawn_blocking(move || kafka.restart_node(0))
        .await
        .or_logs(&stack)
        .or_logs(&stack);
    for name in &names {
        stack.restart(name).await.or_logs(&stack);
    }
    let mut clients = devstack::clients::Clients::new(&stack).or_logs(&stack);
    pay(&mut clients, "HT-SD-2", "after.csv").await;
    first_open_becomes(
        &clients,
        &during.contract_id,
        "800.00",
        "the contract signed while the broker was down, paid after",
    )
    .await
    .or_logs(&stack);
    assert_eq!(
        stack.stop(|_| {}),
        Vec::<String>::new(),
        "services that did not shut down gracefully"
    );
}

/// Sends a bank file paying 100.00 on the first installment of `contract_no`.
async fn pay(clients: &mut devstack::clients::Clients, contract_no: &str, file: &str) {
    let reference = format!("{contract_no}/1");
    let csv = bank_csv(&[[
        "2026-01-12",
        "100.00",
        "CNY",
        "周九",
        "6222020000012345",
        &reference,
    ]]);
    // Matched at once or, if payments has not yet seen the contract, when it does (the
    // re-match): one file is enough either way.
    scenario::ingest(clients, file, csv)
        .await
        .expect("the bank file is taken");
}
