//! R-O4 key rotation: values sealed under key `a` are sealed again under key `b` by the
//! `contracts reseal` and `payments reseal` commands, open to the same clear text, keep their
//! blind index, and a second run has nothing left to do.

use std::process::Command;

use devstack::clients::eventually;
use devstack::scenario::{self, bank_csv, open_amount};
use kit::pii::{KeyId, Pii};

use crate::helpers::{EVENTUALLY, OrLogs, start_with_service_env};

const KEY_A: [u8; 32] = [0xa1; 32];
const KEY_B: [u8; 32] = [0xb2; 32];
const INDEX: [u8; 32] = [0x1d; 32];

fn hex(key: &[u8; 32]) -> String {
    key.iter().map(|b| format!("{b:02x}")).collect()
}

/// (table.column, key, stored value, blind index) of every sealed value of `service`.
type Sealed = Vec<(String, String, String, String)>;

async fn sealed(url: &str, service: &str) -> anyhow::Result<Sealed> {
    let sql = match service {
        "payments" => {
            "SELECT 'payments.payer_account', id::text, payer_account, payer_account_index FROM payments.payments
             UNION ALL SELECT 'payments.receiving_account', id::text, receiving_account, receiving_account_index FROM payments.payments"
        }
        _ => {
            "SELECT 'customers.payer_accounts', id::text, unnest(payer_accounts), '' FROM contracts.customers
             UNION ALL SELECT 'contracts.escrow_account', id::text, escrow_account, '' FROM contracts.contracts"
        }
    };
    let pool = sqlx::PgPool::connect(url).await?;
    let mut rows: Sealed = sqlx::query_as(sql).fetch_all(&pool).await?;
    pool.close().await;
    rows.retain(|r| !r.2.is_empty());
    rows.sort();
    Ok(rows)
}

/// Runs `<service> reseal` with keys a and b, b current; returns its output.
fn reseal(stack: &devstack::Stack, service: &str) -> anyhow::Result<String> {
    let output = Command::new(devstack::process::bin_dir()?.join(service))
        .arg("reseal")
        .env("DATABASE_URL", &stack.database_urls[service])
        .env("DATABASE_SCHEMA", service)
        .env("PII_KEYS", format!("a={},b={}", hex(&KEY_A), hex(&KEY_B)))
        .env("PII_KEY_ID", "b")
        .env("PII_INDEX_KEY", hex(&INDEX))
        // One row per transaction: every batch boundary is crossed.
        .env("PII_RESEAL_BATCH", "1")
        .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    anyhow::ensure!(
        output.status.success(),
        "{service} reseal failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(stdout)
}

#[tokio::test(flavor = "multi_thread")]
async fn reseal_moves_every_value_to_the_new_key_and_keeps_the_blind_index() {
    let service_env = ["contracts", "payments"]
        .iter()
        .flat_map(|s| {
            [
                (
                    s.to_string(),
                    "PII_KEYS".to_owned(),
                    format!("a={}", hex(&KEY_A)),
                ),
                (s.to_string(), "PII_KEY_ID".to_owned(), "a".to_owned()),
            ]
        })
        .collect();
    let index_env = vec![("PII_INDEX_KEY".to_owned(), hex(&INDEX))];
    let (mut stack, mut clients) = start_with_service_env(index_env, service_env).await;
    let customer =
        scenario::create_customer_with_accounts(&mut clients, "钱七", &["6222 0250 0000 0101"])
            .await
            .or_logs(&stack);
    let contract = scenario::create_contract(
        &mut clients,
        &customer,
        "HT-KR-1",
        &[("500.00", "2026-03-10")],
    )
    .await
    .or_logs(&stack);
    scenario::ingest(
        &mut clients,
        "kr-1.csv",
        bank_csv(&[
            [
                "2026-03-09",
                "500.00",
                "CNY",
                "钱七",
                "6222025000000101",
                "HT-KR-1",
            ],
            ["2026-03-09", "12.00", "CNY", "无名", "6222025000000909", ""],
        ]),
    )
    .await
    .or_logs(&stack);
    eventually("the installment paid", EVENTUALLY, || async {
        let mut c = clients.clone();
        let r = scenario::receivables(&mut c, &contract.contract_id).await?;
        Ok((open_amount(&r[0]) == "0.00").then_some(()))
    })
    .await
    .or_logs(&stack);
    // The running services keep sealing under a; stop them so nothing new is sealed meanwhile.
    let _ = stack.kill("contracts");
    let _ = stack.kill("payments");

    let key = |id: &str, k: &[u8; 32]| {
        Pii::new(
            KeyId::parse(id).unwrap_or_else(|e| panic!("{e}")),
            k,
            &INDEX,
        )
    };
    let (a, b) = (key("a", &KEY_A), key("b", &KEY_B));
    for service in ["contracts", "payments"] {
        let url = stack.database_urls[service].clone();
        let before = sealed(&url, service).await.or_logs(&stack);
        assert!(before.len() >= 2, "{service}: {before:?}");
        assert!(
            before.iter().all(|r| r.2.starts_with("v2:a:")),
            "{before:?}"
        );

        let output = reseal(&stack, service).or_logs(&stack);
        assert!(output.contains("re-sealing under key id b"), "{output}");
        let after = sealed(&url, service).await.or_logs(&stack);
        assert_eq!(before.len(), after.len());
        for (old, new) in before.iter().zip(&after) {
            assert_eq!((&old.0, &old.1), (&new.0, &new.1));
            assert!(new.2.starts_with("v2:b:"), "{new:?}");
            let clear = a.open(&old.2).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(b.open(&new.2).ok().as_deref(), Some(clear.as_str()));
            // The blind index does not depend on the sealing key.
            assert_eq!(old.3, new.3, "{}", new.0);
            if !new.3.is_empty() {
                assert_eq!(new.3, b.account_index(&clear));
            }
        }
        // Nothing left: a second run (e.g. after a crash) changes nothing.
        let again = reseal(&stack, service).or_logs(&stack);
        let done: Vec<&str> = again.lines().filter(|l| l.starts_with("done ")).collect();
        assert!(!done.is_empty(), "{again}");
        assert!(
            done.iter()
                .all(|l| l.contains(": 0 re-sealed, 0 did not open")),
            "{again}"
        );
        assert_eq!(sealed(&url, service).await.or_logs(&stack), after);
    }
    stack.stop(|_| {});
}
