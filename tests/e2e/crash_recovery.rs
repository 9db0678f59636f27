//! SIGKILL any one service in the middle of the money path and start it again: no event is
//! lost and none is applied twice. Each service is killed while work for it is in flight.

use std::time::Duration;

use devstack::Stack;
use devstack::clients::{Clients, eventually};
use devstack::scenario::{self, bank_csv, open_amount};
use proto::legal::v1 as legal;
use proto::payments::v1 as payments;
use proto::scoring::v1 as scoring;

use crate::helpers::{EVENTUALLY, OrLogs, start};

const CUSTOMERS: usize = 8;

/// Kills `service` a moment after work for it started, then starts it again.
async fn crash(stack: &mut Stack, service: &str) {
    tokio::time::sleep(Duration::from_millis(150)).await;
    stack.kill(service).or_logs(stack);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let restarted = stack.restart(service).await;
    restarted.or_logs(stack);
}

async fn all_grades(
    clients: &Clients,
    customers: &[String],
    expected: &str,
) -> anyhow::Result<Option<()>> {
    for customer in customers {
        let mut c = clients.scoring.clone();
        match c
            .get_score(scoring::GetScoreRequest {
                customer_id: customer.clone(),
            })
            .await
        {
            Ok(r)
                if r.get_ref()
                    .score
                    .as_ref()
                    .is_some_and(|s| s.grade == expected) => {}
            Ok(_) => return Ok(None),
            Err(s) if s.code() == tonic::Code::NotFound => return Ok(None),
            Err(s) => return Err(s.into()),
        }
    }
    Ok(Some(()))
}

/// Each customer's dunning cases as (status, executed steps), oldest first.
async fn dunning_history(
    clients: &Clients,
    customer: &str,
) -> anyhow::Result<Vec<(String, Vec<String>)>> {
    let cases = scenario::dunning_cases(clients, customer).await?;
    let mut out = Vec::new();
    for case in cases {
        let actions = scenario::dunning_actions(clients, &case.case_id).await?;
        out.push((case.status, actions.into_iter().map(|a| a.step).collect()));
    }
    Ok(out)
}

fn history(expected: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
    expected
        .iter()
        .map(|(status, steps)| {
            (
                (*status).to_owned(),
                steps.iter().map(|s| (*s).to_owned()).collect(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_any_service_loses_nothing_and_doubles_nothing() {
    let (mut stack, mut clients) = start().await;
    let mut customers = Vec::new();
    let mut contracts = Vec::new();
    for i in 0..CUSTOMERS {
        let customer = scenario::create_customer(&mut clients, &format!("客户{i}"))
            .await
            .or_logs(&stack);
        let contract = scenario::create_contract(
            &mut clients,
            &customer,
            &format!("HT-CR-{i}"),
            &[("6000.00", "2026-01-10"), ("7000.00", "2026-02-10")],
        )
        .await
        .or_logs(&stack);
        customers.push(customer);
        contracts.push(contract);
    }
    eventually("every customer graded", EVENTUALLY, || {
        // pts-v1: 825 points for a new customer without payment history (R-S1).
        all_grades(&clients, &customers, "A")
    })
    .await
    .or_logs(&stack);

    // Scoring and dunning die while the overdue events are being published and consumed.
    stack.kill("scoring").or_logs(&stack);
    scenario::run_cycle(&mut clients, "2026-01-11")
        .await
        .or_logs(&stack);
    crash(&mut stack, "dunning").await;
    stack.restart("scoring").await.or_logs(&stack);
    eventually("every grade dropped", EVENTUALLY, || {
        all_grades(&clients, &customers, "BBB")
    })
    .await
    .or_logs(&stack);
    for customer in &customers {
        let expected = history(&[("active", &["reminder"])]);
        eventually("one reminder per customer", EVENTUALLY, || async {
            Ok((dunning_history(&clients, customer).await? == expected).then_some(()))
        })
        .await
        .or_logs(&stack);
    }

    // Contracts dies while it applies allocations; payments dies right after ingesting
    // (its outbox may not have been relayed yet).
    let half = CUSTOMERS / 2;
    let rows = |range: std::ops::Range<usize>| -> Vec<[String; 6]> {
        range
            .map(|i| {
                [
                    "2026-01-12".into(),
                    "6000.00".into(),
                    "CNY".into(),
                    format!("客户{i}"),
                    format!("62220200000{i:05}"),
                    format!("HT-CR-{i}/1"),
                ]
            })
            .collect()
    };
    let as_file = |rows: Vec<[String; 6]>| {
        let refs: Vec<[&str; 6]> = rows
            .iter()
            .map(|r| [&*r[0], &*r[1], &*r[2], &*r[3], &*r[4], &*r[5]])
            .collect();
        bank_csv(&refs)
    };
    scenario::ingest(&mut clients, "first-half.csv", as_file(rows(0..half)))
        .await
        .or_logs(&stack);
    crash(&mut stack, "contracts").await;
    scenario::ingest(
        &mut clients,
        "second-half.csv",
        as_file(rows(half..CUSTOMERS)),
    )
    .await
    .or_logs(&stack);
    stack.kill("payments").or_logs(&stack);
    stack.restart("payments").await.or_logs(&stack);
    for contract in &contracts {
        eventually("installment 1 paid", EVENTUALLY, || async {
            let mut c = clients.clone();
            let r = scenario::receivables(&mut c, &contract.contract_id).await?;
            Ok((open_amount(&r[0]) == "0.00").then_some(()))
        })
        .await
        .or_logs(&stack);
    }
    for customer in &customers {
        let expected = history(&[("paid", &["reminder", "stopped"])]);
        eventually("dunning stopped once per customer", EVENTUALLY, || async {
            Ok((dunning_history(&clients, customer).await? == expected).then_some(()))
        })
        .await
        .or_logs(&stack);
    }

    // Legal dies while the escalations arrive.
    scenario::run_cycle(&mut clients, "2026-03-20")
        .await
        .or_logs(&stack);
    tokio::time::sleep(Duration::from_millis(500)).await;
    crash(&mut stack, "legal").await;
    for customer in &customers {
        let case = eventually("exactly one legal case", EVENTUALLY, || async {
            let cases = scenario::legal_cases(&clients, customer, None).await?;
            Ok((cases.len() == 1)
                .then(|| cases.into_iter().next())
                .flatten())
        })
        .await
        .or_logs(&stack);
        assert_eq!(
            case.amount_claimed.map(|m| m.amount),
            Some("7000.00".to_owned())
        );
        let expected = history(&[
            ("paid", &["reminder", "stopped"]),
            // 38 days and 7,000 owed when first seen: the most severe step due, at once
            // (one step a day, R-D3).
            ("escalated", &["escalate_to_legal"]),
        ]);
        assert_eq!(
            dunning_history(&clients, customer).await.or_logs(&stack),
            expected
        );
    }
    // pts-v1: 38 days past due, everything outstanding overdue, a late payment and the legal
    // case: 495 points, CCC.
    eventually("grades follow 38 days past due", EVENTUALLY, || {
        all_grades(&clients, &customers, "CCC")
    })
    .await
    .or_logs(&stack);

    // Settle, then check nothing was applied twice anywhere.
    tokio::time::sleep(Duration::from_secs(3)).await;
    for contract in &contracts {
        let r = scenario::receivables(&mut clients, &contract.contract_id)
            .await
            .or_logs(&stack);
        assert_eq!(
            (open_amount(&r[0]), open_amount(&r[1])),
            ("0.00", "7000.00")
        );
    }
    let mut legal_client = clients.legal.clone();
    let all_cases = legal_client
        .list_cases(legal::ListCasesRequest::default())
        .await
        .or_logs(&stack)
        .into_inner()
        .cases;
    assert_eq!(all_cases.len(), CUSTOMERS);
    // A killed consumer's partitions move on once its session expires; then every
    // confirmation reaches payments.
    let all_payments = eventually("every payment allocated", EVENTUALLY, || async {
        let mut c = clients.payments.clone();
        let payments = c
            .list_payments(payments::ListPaymentsRequest::default())
            .await?
            .into_inner()
            .payments;
        Ok(payments
            .iter()
            .all(|p| p.status == payments::PaymentStatus::Allocated as i32)
            .then_some(payments))
    })
    .await
    .or_logs(&stack);
    assert_eq!(all_payments.len(), CUSTOMERS);
    let exceptions = clients
        .payments
        .list_exceptions(payments::ListExceptionsRequest::default())
        .await
        .or_logs(&stack);
    assert!(
        exceptions.into_inner().exceptions.is_empty(),
        "no allocation was refused as a double"
    );
    assert_eq!(
        stack.stop(|_| {}),
        Vec::<String>::new(),
        "services that did not shut down gracefully"
    );
}
