//! Holes found by review (issue 10, R-O3): business time bounded by the service clock,
//! every list paged, and database statements bounded by a timeout.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use devstack::clients::{Clients, eventually};
use devstack::scenario::{self, bank_csv};
use devstack::{Stack, StackOptions};
use proto::contracts::v1 as contracts;
use proto::dunning::v1 as dunning;
use proto::legal::v1 as legal;
use proto::payments::v1 as payments;

use crate::helpers::{EVENTUALLY, OrLogs, start, start_with_service_env};

/// A stack-owned database URL's count of `sql`.
async fn count(stack: &Stack, service: &str, sql: &str) -> i64 {
    let pool = sqlx::PgPool::connect(&stack.database_urls[service])
        .await
        .or_logs(stack);
    let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(&pool)
        .await
        .or_logs(stack);
    pool.close().await;
    n
}

#[tokio::test]
async fn the_daily_cycle_does_not_run_ahead_of_the_service_clock() {
    let (stack, mut clients) = start_with_service_env(
        Vec::new(),
        vec![(
            "contracts".to_owned(),
            "BUSINESS_CLOCK".to_owned(),
            "system".to_owned(),
        )],
    )
    .await;
    let customer = scenario::create_customer(&mut clients, "王五")
        .await
        .or_logs(&stack);
    let contract = scenario::create_contract(
        &mut clients,
        &customer,
        "HT-LIM-1",
        &[("10000.00", "2026-01-10"), ("10000.00", "2026-02-10")],
    )
    .await
    .or_logs(&stack);

    let today =
        kit::config::business_date(chrono::Utc::now(), kit::config::DEFAULT_BUSINESS_OFFSET);
    let refused = clients
        .contracts
        .run_daily_cycle(contracts::RunDailyCycleRequest {
            as_of: "9999-12-31".to_owned(),
        })
        .await
        .expect_err("a date after today is refused");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument, "{refused:?}");
    let message = refused.message();
    assert!(message.starts_with("as_of:"), "{message}");
    assert!(message.contains(&today.to_string()), "{message}");
    assert!(message.contains("BUSINESS_CLOCK=simulated"), "{message}");

    // Nothing changed: no cycle recorded, no receivable overdue, no event.
    assert_eq!(
        count(
            &stack,
            "contracts",
            "SELECT count(*) FROM contracts.daily_cycles"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &stack,
            "contracts",
            "SELECT count(*) FROM contracts.receivables WHERE overdue_since IS NOT NULL OR last_cycle IS NOT NULL"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &stack,
            "contracts",
            "SELECT count(*) FROM contracts.outbox WHERE event_type LIKE '%ReceivableOverdue%'"
        )
        .await,
        0
    );
    let receivables = scenario::receivables(&mut clients, &contract.contract_id)
        .await
        .or_logs(&stack);
    assert!(
        receivables
            .iter()
            .all(|r| r.status == contracts::ReceivableStatus::Scheduled as i32),
        "{receivables:?}"
    );

    // Today itself is allowed, and the past-due installments become overdue.
    let cycle = scenario::run_cycle(&mut clients, &today.to_string())
        .await
        .or_logs(&stack);
    assert_eq!(cycle.newly_overdue, 2);
}

#[tokio::test]
async fn every_list_pages_every_row_exactly_once() {
    let (stack, mut clients) = start().await;

    // Seven payments nobody owes: all of them go to the exception queue.
    let rows: Vec<[String; 6]> = (1..=7)
        .map(|n| {
            [
                "2026-02-01".to_owned(),
                format!("{n}00.00"),
                "CNY".to_owned(),
                format!("付款人{n}"),
                format!("62220200000099{n:02}"),
                format!("unknown reference {n}"),
            ]
        })
        .collect();
    let rows: Vec<[&str; 6]> = rows
        .iter()
        .map(|r| [&*r[0], &*r[1], &*r[2], &*r[3], &*r[4], &*r[5]])
        .collect();
    scenario::ingest(&mut clients, "unknown-payers.csv", bank_csv(&rows))
        .await
        .or_logs(&stack);
    let (ids, sizes) = page_payments(&clients, 3).await.or_logs(&stack);
    assert_eq!(sizes, [3, 3, 1]);
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), 7, "every payment exactly once: {ids:?}");
    let all = scenario::all_payments(&clients).await.or_logs(&stack);
    assert_eq!(
        all.iter().map(|p| &p.payment_id).collect::<Vec<_>>(),
        ids.iter().collect::<Vec<_>>(),
        "small pages give the same rows in the same order as one page"
    );

    // A malformed token, and a token replayed with another filter, are INVALID_ARGUMENT.
    let first = clients
        .payments
        .list_payments(payments::ListPaymentsRequest {
            page_size: 3,
            ..Default::default()
        })
        .await
        .or_logs(&stack)
        .into_inner();
    for (file_id, token) in [
        (String::new(), "not-a-token".to_owned()),
        (all[0].file_id.clone(), first.next_page_token.clone()),
    ] {
        let error = clients
            .payments
            .list_payments(payments::ListPaymentsRequest {
                file_id,
                page_size: 3,
                page_token: token,
            })
            .await
            .expect_err("refused");
        assert_eq!(error.code(), tonic::Code::InvalidArgument);
        assert!(error.message().starts_with("page_token:"), "{error:?}");
    }

    // Five customers escalated to legal: five cases, paged two at a time.
    let mut customers = Vec::new();
    for n in 1..=5 {
        let customer = scenario::create_customer(&mut clients, &format!("客户{n}"))
            .await
            .or_logs(&stack);
        scenario::create_contract(
            &mut clients,
            &customer,
            &format!("HT-PAGE-{n}"),
            &[
                ("10000.00", "2026-01-10"),
                ("10000.00", "2026-02-10"),
                ("10000.00", "2026-03-10"),
            ],
        )
        .await
        .or_logs(&stack);
        customers.push(customer);
    }
    // One step a day (R-D3): a reminder, a notice, then the escalation, three actions a case.
    for day in ["2026-01-11", "2026-01-20", "2026-03-01"] {
        scenario::run_cycle(&mut clients, day).await.or_logs(&stack);
    }
    eventually("five legal cases", EVENTUALLY, || async {
        let cases = scenario::legal_cases(&clients, "", None).await?;
        Ok((cases.len() == 5).then_some(()))
    })
    .await
    .or_logs(&stack);
    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut token = String::new();
    loop {
        let page = clients
            .legal
            .list_cases(legal::ListCasesRequest {
                page_size: 2,
                page_token: token,
                ..Default::default()
            })
            .await
            .or_logs(&stack)
            .into_inner();
        sizes.push(page.cases.len());
        seen.extend(page.cases.into_iter().map(|c| c.customer_id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(sizes, [2, 2, 1]);
    let mut expected = customers.clone();
    expected.sort();
    seen.sort();
    assert_eq!(seen, expected, "every case exactly once");

    // The other lists page the same way: receivables and a case's actions, one at a time.
    let contract = clients
        .contracts
        .get_contract(contracts::GetContractRequest {
            key: Some(contracts::get_contract_request::Key::ContractNo(
                "HT-PAGE-1".to_owned(),
            )),
            version: 0,
        })
        .await
        .or_logs(&stack)
        .into_inner()
        .contract
        .expect("a contract");
    let mut numbers = Vec::new();
    let mut token = String::new();
    loop {
        let page = clients
            .contracts
            .list_receivables(contracts::ListReceivablesRequest {
                contract_id: contract.contract_id.clone(),
                page_size: 1,
                page_token: token,
            })
            .await
            .or_logs(&stack)
            .into_inner();
        assert!(page.receivables.len() <= 1);
        numbers.extend(page.receivables.iter().map(|r| r.installment_no));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(numbers, [1, 2, 3]);
    let case = scenario::dunning_cases(&clients, &customers[0])
        .await
        .or_logs(&stack)
        .into_iter()
        .next()
        .expect("a dunning case");
    let all_actions = scenario::dunning_actions(&clients, &case.case_id)
        .await
        .or_logs(&stack);
    assert!(all_actions.len() >= 3, "{all_actions:?}");
    let mut ids = Vec::new();
    let mut token = String::new();
    loop {
        let page = clients
            .dunning
            .list_actions(dunning::ListActionsRequest {
                case_id: case.case_id.clone(),
                page_size: 1,
                page_token: token,
            })
            .await
            .or_logs(&stack)
            .into_inner();
        ids.extend(page.actions.into_iter().map(|a| a.action_id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(
        ids,
        all_actions
            .iter()
            .map(|a| a.action_id.clone())
            .collect::<Vec<_>>()
    );
}

/// Every payment id, walking ListPayments `page_size` at a time, and the size of each page.
async fn page_payments(
    clients: &Clients,
    page_size: u32,
) -> anyhow::Result<(Vec<String>, Vec<usize>)> {
    let mut client = clients.payments.clone();
    let mut ids = Vec::new();
    let mut sizes = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .list_payments(payments::ListPaymentsRequest {
                page_size,
                page_token: token,
                ..Default::default()
            })
            .await?
            .into_inner();
        sizes.push(page.payments.len());
        ids.extend(page.payments.into_iter().map(|p| p.payment_id));
        if page.next_page_token.is_empty() {
            return Ok((ids, sizes));
        }
        token = page.next_page_token;
    }
}

#[tokio::test]
async fn a_statement_slower_than_the_timeout_fails_cleanly() {
    // Only the database matters here: one service's role and schema on the harness's Postgres.
    let stack = Stack::start(
        StackOptions {
            isolated: true,
            only: vec!["legal".to_owned()],
            ..StackOptions::default()
        },
        |_| {},
    )
    .await
    .expect("the stack starts");
    let mut config = kit::Config::from_env("legal", 0).or_logs(&stack);
    config.database_url = stack.database_urls["legal"].clone();
    config.database_schema = "legal".to_owned();
    config.database_statement_timeout = Duration::from_millis(200);
    // One connection: the statements below run on the one the migrations used.
    config.database_max_connections = 1;
    let pool = kit::db::connect(&config).await.or_logs(&stack);
    // Migrations run without the limit and leave the connection with it again.
    // (No migrations of its own, ignoring those legal applied at its start.)
    let mut none = sqlx::migrate::Migrator::DEFAULT;
    none.set_ignore_missing(true);
    kit::db::migrate(&pool, &none).await.or_logs(&stack);

    let setting: String = sqlx::query_scalar("SHOW statement_timeout")
        .fetch_one(&pool)
        .await
        .or_logs(&stack);
    assert_eq!(setting, "200ms", "set on the pooled connection");
    let started = Instant::now();
    let error = sqlx::query("SELECT pg_sleep(5)")
        .execute(&pool)
        .await
        .expect_err("cancelled by statement_timeout");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "cancelled after {:?}",
        started.elapsed()
    );
    let status = tonic::Status::from(kit::ApiError::from(error));
    assert_eq!(status.code(), tonic::Code::DeadlineExceeded, "{status:?}");
    assert!(
        status.message().contains("DATABASE_STATEMENT_TIMEOUT_MS"),
        "{status:?}"
    );
    // The connection is still good for the next statement.
    let one: i32 = sqlx::query_scalar("SELECT 1")
        .fetch_one(&pool)
        .await
        .or_logs(&stack);
    assert_eq!(one, 1);
    pool.close().await;
}
