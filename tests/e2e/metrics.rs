//! Issue 16 item 3: every service serves Prometheus metrics on `METRICS_ADDR`; scraped here
//! before and after a payment is applied, the counters move: payments answered the file's
//! gRPC call, contracts consumed the allocation, the outbox relays published, and payments'
//! ledger gauge counts the receivable.

use devstack::clients::{Clients, eventually};
use devstack::scenario::{self, bank_csv};
use kit::auth::Role;

use crate::helpers::{EVENTUALLY, OrLogs, start};

/// The value of the sample whose line starts with `name{` and carries every label in `labels`
/// (0 when there is none yet).
fn sample(text: &str, name: &str, labels: &[&str]) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")))
        .filter(|l| labels.iter().all(|label| l.contains(label)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_payment_applied_moves_the_counters_operators_scrape() {
    let (stack, mut admin) = start().await;
    let mut li =
        Clients::as_user(&stack, "li.na", &[Role::Collector], Some("east")).or_logs(&stack);
    let customer = scenario::create_customer(&mut li, "钱十七")
        .await
        .or_logs(&stack);
    scenario::create_contract(
        &mut li,
        &customer,
        "HT-METRICS-1",
        &[("1000.00", "2026-03-10")],
    )
    .await
    .or_logs(&stack);
    let before = stack.scrape("contracts").await.or_logs(&stack);
    let applied_before = sample(
        &before,
        "consumer_events_total",
        &[r#"result="applied""#, "payments"],
    );
    // The file carries one payment for the contract.
    let file = bank_csv(&[[
        "2026-03-05",
        "1000.00",
        "CNY",
        "钱十七",
        "6222020000001717",
        "HT-METRICS-1/1",
    ]]);
    scenario::ingest(&mut admin, "metrics.csv", file)
        .await
        .or_logs(&stack);
    let after = eventually("contracts applied the allocation", EVENTUALLY, || async {
        let text = stack.scrape("contracts").await?;
        let applied = sample(
            &text,
            "consumer_events_total",
            &[r#"result="applied""#, "payments"],
        );
        Ok((applied > applied_before).then_some(text))
    })
    .await
    .or_logs(&stack);
    assert!(after.contains(r#"service="contracts""#), "{after}");
    let payments = stack.scrape("payments").await.or_logs(&stack);
    assert!(
        sample(
            &payments,
            "grpc_server_handled_total",
            &["IngestBankFile", r#"code="OK""#]
        ) >= 1.0,
        "{payments}"
    );
    assert!(
        sample(
            &payments,
            "grpc_server_handling_seconds_count",
            &["IngestBankFile"]
        ) >= 1.0
    );
    assert!(sample(&payments, "outbox_published_total", &[]) >= 1.0);
    assert!(
        sample(
            &payments,
            "service_gauge",
            &[r#"name="ledger_receivables""#]
        ) >= 1.0,
        "{payments}"
    );
    // A refused call is counted under its code too (collectors do not read exceptions).
    let refused = li
        .payments
        .clone()
        .list_exceptions(proto::payments::v1::ListExceptionsRequest::default())
        .await
        .expect_err("not a collector's");
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    let text = stack.scrape("payments").await.or_logs(&stack);
    assert!(
        sample(
            &text,
            "grpc_server_handled_total",
            &["ListExceptions", r#"code="PERMISSION_DENIED""#]
        ) >= 1.0,
        "{text}"
    );
}
