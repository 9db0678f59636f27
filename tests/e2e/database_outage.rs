//! A database outage never sends money to the dead-letter topic (ARCHITECTURE "Kafka";
//! issue "Messaging you can bet money on", item 3): a consumer whose database is gone waits,
//! the service reports NOT_SERVING meanwhile, and once the database is back the allocation
//! is applied exactly once and nothing was dead-lettered.

use std::time::Duration;

use prost::Message as _;

use devstack::clients::{self, eventually};
use devstack::scenario::{self, open_amount};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

use crate::helpers::{EVENTUALLY, OrLogs, allocation, first_open_becomes, publish, start};

#[tokio::test(flavor = "multi_thread")]
async fn an_allocation_waits_out_a_database_outage_and_is_applied_once() {
    let (stack, mut clients) = start().await;
    if std::env::var("DATABASE_URL").is_ok_and(|u| !u.is_empty()) {
        eprintln!("skipped: the database is external (DATABASE_URL), this test stops its own");
        return;
    }
    let customer = scenario::create_customer(&mut clients, "孙八")
        .await
        .or_logs(&stack);
    let contract = scenario::create_contract(
        &mut clients,
        &customer,
        "HT-OUTAGE-1",
        &[("900.00", "2026-01-10")],
    )
    .await
    .or_logs(&stack);
    let mut health = HealthClient::new(clients::channel(&stack, "contracts", None).or_logs(&stack));
    let contracts_status = |health: &mut HealthClient<tonic::transport::Channel>| {
        let mut health = health.clone();
        async move {
            health
                .check(HealthCheckRequest {
                    service: "receivables.contracts.v1.ContractsService".into(),
                })
                .await
                .map(|r| r.into_inner().status)
        }
    };
    assert_eq!(contracts_status(&mut health).await.or_logs(&stack), 1);

    // The database goes away; then an allocation arrives for contracts.
    stack.stop_postgres().or_logs(&stack);
    let producer = kit::kafka::producer(
        &stack.kafka,
        "e2e-outage",
        kit::kafka::Compression::default(),
    )
    .or_logs(&stack);
    let allocation = allocation(&contract, "300.00");
    let envelope = kit::events::envelope("payments", &customer, &allocation);
    let bytes = envelope.encode_to_vec();
    let send = || publish(&producer, &stack, kit::events::PAYMENTS, &customer, &bytes);
    send().await.or_logs(&stack);
    // Longer than CONSUMER_MAX_ATTEMPTS' backoff (about 6 s), after which it used to be
    // dead-lettered; meanwhile contracts says it is not serving.
    let not_serving = eventually("contracts reports NOT_SERVING", EVENTUALLY, || {
        let mut h = health.clone();
        async move { Ok((contracts_status(&mut h).await? == 2).then_some(())) }
    })
    .await;
    tokio::time::sleep(Duration::from_secs(12)).await;
    stack.start_postgres().or_logs(&stack);
    not_serving.or_logs(&stack);

    // Back: applied exactly once, serving again, nothing dead-lettered.
    first_open_becomes(
        &clients,
        &contract.contract_id,
        "600.00",
        "the allocation applied after the outage",
    )
    .await
    .or_logs(&stack);
    eventually("contracts SERVING again", EVENTUALLY, || {
        let mut h = health.clone();
        async move { Ok((contracts_status(&mut h).await? == 1).then_some(())) }
    })
    .await
    .or_logs(&stack);
    // The same event again changes nothing.
    send().await.or_logs(&stack);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let r = scenario::receivables(&mut clients, &contract.contract_id)
        .await
        .or_logs(&stack);
    assert_eq!(open_amount(&r[0]), "600.00");
    let pool = sqlx::PgPool::connect(&stack.database_urls["contracts"])
        .await
        .or_logs(&stack);
    let dead: i64 = sqlx::query_scalar("SELECT count(*) FROM contracts.dead_letters")
        .fetch_one(&pool)
        .await
        .or_logs(&stack);
    assert_eq!(dead, 0, "nothing was dead-lettered");
    pool.close().await;
}
