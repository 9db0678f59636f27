//! The daily cycle over many open receivables through the service against PostgreSQL (issue
//! 12): `CYCLE_BENCH_RECEIVABLES` receivables (default 1,000,000), ten per contract, half the
//! contracts with a 1‰-a-day late fee, all overdue. Measures the first cycle (every
//! receivable newly overdue) and the next day's (every late fee recomputed), each publishing
//! one ReceivableOverdue per receivable through the outbox. Ignored by default:
//! `COLLECTIONS_BROKER=embedded cargo test -p e2e --test e2e -- --ignored daily_cycle_benchmark --nocapture`.

use kit::auth::Role;
use proto::contracts::v1 as contracts;

use crate::helpers::OrLogs;

#[tokio::test(flavor = "multi_thread")]
#[ignore = "a benchmark: minutes, not seconds"]
async fn daily_cycle_benchmark() {
    let receivables: i64 = std::env::var("CYCLE_BENCH_RECEIVABLES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let contracts_n = (receivables / 10).max(1);
    let stack = devstack::Stack::start(
        devstack::StackOptions {
            isolated: true,
            only: vec!["contracts".to_owned()],
            env: vec![
                ("RUST_LOG".to_owned(), "warn".to_owned()),
                ("GRPC_CALL_TIMEOUT_MS".to_owned(), "3600000".to_owned()),
                ("BUSINESS_CLOCK".to_owned(), "simulated".to_owned()),
            ],
            ..devstack::StackOptions::default()
        },
        |_| {},
    )
    .await
    .expect("the stack starts");
    let token = stack
        .auth
        .token("bench", &[Role::Admin], None)
        .or_logs(&stack);
    let mut client = proto::contracts::v1::contracts_service_client::ContractsServiceClient::new(
        tonic::service::interceptor::InterceptedService::new(
            devstack::clients::channel(&stack, "contracts", None).or_logs(&stack),
            devstack::clients::Credential::bearer(&token).or_logs(&stack),
        ),
    );
    let pool = sqlx::PgPool::connect(&stack.database_urls["contracts"])
        .await
        .or_logs(&stack);
    let started = std::time::Instant::now();
    for statement in [
        "INSERT INTO contracts.customers (id, name, kind)
         SELECT ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid, '客户' || n, 'person'
         FROM generate_series(1, $1) n",
        r#"INSERT INTO contracts.contracts (id, contract_no, customer_id, currency, escrow_account, late_fee_policy)
         SELECT ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid, 'HT-BENCH-' || n,
                ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid, 'CNY', '',
                CASE WHEN n % 2 = 0 THEN '{"name": "1 per mille a day", "accrual": {"kind": "flat_daily", "daily_rate": "1‰"}}' END
         FROM generate_series(1, $1) n"#,
        "INSERT INTO contracts.receivables (id, contract_id, customer_id, installment_no, due_date,
                                            scheduled_due_date, amount, open_amount)
         SELECT gen_random_uuid(), c.id, c.customer_id, i, DATE '2026-01-10' + (i - 1) * 30,
                DATE '2026-01-10' + (i - 1) * 30, 1000 + (n % 97) * 10, 1000 + (n % 97) * 10
         FROM generate_series(1, $1) n
         JOIN contracts.contracts c ON c.id = ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid
         CROSS JOIN generate_series(1, 10) i",
        "ANALYZE",
    ] {
        sqlx::query(statement)
            .bind(contracts_n)
            .execute(&pool)
            .await
            .or_logs(&stack);
    }
    eprintln!(
        "set-up: {} receivables on {contracts_n} contracts in {:.1?}",
        contracts_n * 10,
        started.elapsed()
    );
    for (as_of, what) in [
        ("2026-11-20", "first cycle, every receivable newly overdue"),
        ("2026-11-21", "next day, every late fee recomputed"),
    ] {
        let started = std::time::Instant::now();
        let done = client
            .run_daily_cycle(contracts::RunDailyCycleRequest {
                as_of: as_of.into(),
            })
            .await
            .or_logs(&stack)
            .into_inner();
        let elapsed = started.elapsed();
        assert_eq!(i64::from(done.overdue), contracts_n * 10, "{done:?}");
        eprintln!(
            "RunDailyCycle {as_of} ({what}): {} overdue, {} newly, in {:.1?} ({:.0} receivables/s)",
            done.overdue,
            done.newly_overdue,
            elapsed,
            f64::from(done.overdue) / elapsed.as_secs_f64()
        );
    }
    let fees: (rust_decimal::Decimal,) =
        sqlx::query_as("SELECT COALESCE(SUM(late_fee), 0) FROM contracts.receivables")
            .fetch_one(&pool)
            .await
            .or_logs(&stack);
    assert!(fees.0 > rust_decimal::Decimal::ZERO, "late fees accrued");
    pool.close().await;
}
