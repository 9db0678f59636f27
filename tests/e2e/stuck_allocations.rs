//! No allocation stays `proposed` for ever (issue "Messaging you can bet money on", item 3):
//! one contracts never answered is proposed again with the same allocation id, applied once
//! whatever arrives twice, and after a few tries a person gets an ALLOCATION_STUCK exception.

use devstack::clients::eventually;
use devstack::scenario::{self, bank_csv, open_amount};

use crate::helpers::{EVENTUALLY, OrLogs, start_with_service_env};

const ACCOUNT: &str = "6222 0200 0000 4321";

async fn allocation_state(pool: &sqlx::PgPool, payment_id: &str) -> anyhow::Result<(String, i32)> {
    let payment = uuid::Uuid::parse_str(payment_id)?;
    Ok(
        sqlx::query_as("SELECT status, redrives FROM payments.allocations WHERE payment_id = $1")
            .bind(payment)
            .fetch_one(pool)
            .await?,
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn unanswered_allocations_are_proposed_again_applied_once_then_raised() {
    let env = |k: &str, v: &str| ("payments".to_owned(), k.to_owned(), v.to_owned());
    let (mut stack, mut clients) = start_with_service_env(
        Vec::new(),
        vec![
            env("ALLOCATION_STUCK_AFTER_SECS", "2"),
            env("ALLOCATION_MAX_REDRIVES", "2"),
        ],
    )
    .await;
    let customer = scenario::create_customer_with_accounts(&mut clients, "周九", &[ACCOUNT])
        .await
        .or_logs(&stack);
    let contract = scenario::create_contract(
        &mut clients,
        &customer,
        "HT-STUCK-1",
        &[
            ("500.00", "2026-03-10"),
            ("500.00", "2026-04-10"),
            ("500.00", "2026-05-10"),
        ],
    )
    .await
    .or_logs(&stack);
    let pay = |n: u32, date: &'static str| {
        bank_csv(&[[
            date,
            "500.00",
            "CNY",
            "周九",
            "6222020000004321",
            if n == 1 {
                "HT-STUCK-1/1"
            } else {
                "HT-STUCK-1/2"
            },
        ]])
    };
    let balances = |clients: devstack::clients::Clients, contract_id: String| async move {
        let mut c = clients;
        let r = scenario::receivables(&mut c, &contract_id).await?;
        anyhow::Ok(
            r.iter()
                .map(|x| open_amount(x).to_owned())
                .collect::<Vec<String>>(),
        )
    };
    let pool = sqlx::PgPool::connect(&stack.database_urls["payments"])
        .await
        .or_logs(&stack);

    // 1. Applied normally; then payments "forgets" the answer, as if it was lost.
    let first = scenario::ingest(&mut clients, "stuck-1.csv", pay(1, "2026-03-10"))
        .await
        .or_logs(&stack);
    let first_payment = first.payment_ids[0].clone();
    eventually("installment 1 confirmed", EVENTUALLY, || async {
        Ok((allocation_state(&pool, &first_payment).await?.0 == "applied").then_some(()))
    })
    .await
    .or_logs(&stack);
    sqlx::query(
        "UPDATE payments.allocations SET status = 'proposed', proposed_at = now() - interval '1 hour'
         WHERE payment_id = $1",
    )
    .bind(uuid::Uuid::parse_str(&first_payment).or_logs(&stack))
    .execute(&pool)
    .await
    .or_logs(&stack);
    // The reconciler proposes it again; contracts answers with its first decision and books
    // nothing twice.
    let settled = eventually("the forgotten answer recovered", EVENTUALLY, || async {
        let (status, redrives) = allocation_state(&pool, &first_payment).await?;
        Ok((status == "applied").then_some(redrives))
    })
    .await
    .or_logs(&stack);
    assert!(settled >= 1, "it was proposed again ({settled} times)");
    assert_eq!(
        balances(clients.clone(), contract.contract_id.clone())
            .await
            .or_logs(&stack),
        ["0.00", "500.00", "500.00"],
        "applied once"
    );

    // 2. Contracts is down: the proposal for installment 2 goes unanswered, is sent again
    // twice, then raised for a person.
    stack.kill("contracts").or_logs(&stack);
    let second = scenario::ingest(&mut clients, "stuck-2.csv", pay(2, "2026-04-10"))
        .await
        .or_logs(&stack);
    let second_payment = second.payment_ids[0].clone();
    let raised = eventually("ALLOCATION_STUCK raised", EVENTUALLY, || async {
        let open = scenario::open_exceptions(&clients).await?;
        Ok(open
            .into_iter()
            .find(|e| e.kind == "ALLOCATION_STUCK" && e.payment_id == second_payment))
    })
    .await
    .or_logs(&stack);
    assert!(raised.reason.contains("never answered"), "{raised:?}");
    assert_eq!(
        allocation_state(&pool, &second_payment)
            .await
            .or_logs(&stack),
        ("proposed".to_owned(), 2)
    );

    // 3. Contracts is back: three proposals of one allocation, applied once.
    stack.restart("contracts").await.or_logs(&stack);
    eventually(
        "installment 2 confirmed after the restart",
        EVENTUALLY,
        || async {
            Ok((allocation_state(&pool, &second_payment).await?.0 == "applied").then_some(()))
        },
    )
    .await
    .or_logs(&stack);
    eventually("balances", EVENTUALLY, || async {
        let b = balances(clients.clone(), contract.contract_id.clone()).await?;
        Ok((b == ["0.00", "0.00", "500.00"]).then_some(()))
    })
    .await
    .or_logs(&stack);
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(
        balances(clients.clone(), contract.contract_id.clone())
            .await
            .or_logs(&stack),
        ["0.00", "0.00", "500.00"],
        "the re-driven proposals booked nothing twice"
    );
    pool.close().await;
}
