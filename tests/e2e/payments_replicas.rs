//! Two payments processes share one database: each holds its own cash-application ledger and
//! catches up with what the other changed (replaying `ledger_changes`), so neither applies a
//! duplicate the other applied nor pays an installment the other already paid (R-P4, R-P5).

use devstack::clients::eventually;
use devstack::scenario::{self, bank_csv, open_amount};
use proto::payments::v1 as payments;
use proto::payments::v1::payments_service_client::PaymentsServiceClient;

use crate::helpers::{EVENTUALLY, OrLogs, start};

const ACCOUNT: &str = "6222 0230 0000 0303";

#[tokio::test(flavor = "multi_thread")]
async fn two_replicas_decide_on_the_same_ledger() {
    let (mut stack, mut clients) = start().await;
    let replica = stack.start_replica("payments").await.or_logs(&stack);
    let second = devstack::clients::payments_at(&stack, &replica).or_logs(&stack);
    let customer = scenario::create_customer_with_accounts(&mut clients, "王芳", &[ACCOUNT])
        .await
        .or_logs(&stack);
    let contract = scenario::create_contract(
        &mut clients,
        &customer,
        "HT-REP-1",
        &[
            ("500.00", "2026-03-10"),
            ("500.00", "2026-04-10"),
            ("500.00", "2026-05-10"),
        ],
    )
    .await
    .or_logs(&stack);
    let line = |date: &'static str, reference: &'static str| {
        bank_csv(&[[date, "500.00", "CNY", "王芳", "6222023000000303", reference]])
    };
    let ingest = |client: &PaymentsServiceClient<devstack::clients::Authed>,
                  name: &str,
                  content: Vec<u8>| {
        let mut client = client.clone();
        let request = payments::IngestBankFileRequest {
            file_name: name.to_owned(),
            content,
            format: String::new(),
            account: scenario::ESCROW_ACCOUNT.to_owned(),
        };
        async move { anyhow::Ok(client.ingest_bank_file(request).await?.into_inner()) }
    };
    let paid = |n: usize| {
        let clients = clients.clone();
        let contract_id = contract.contract_id.clone();
        async move {
            let mut c = clients.clone();
            let r = scenario::receivables(&mut c, &contract_id).await?;
            Ok((r.iter().take(n).all(|r| open_amount(r) == "0.00")
                && r.iter().skip(n).all(|r| open_amount(r) == "500.00"))
            .then_some(()))
        }
    };

    // The first process applies installment 1.
    ingest(
        &clients.payments,
        "rep-1.csv",
        line("2026-03-10", "HT-REP-1"),
    )
    .await
    .or_logs(&stack);
    eventually("installment 1 paid", EVENTUALLY, || paid(1))
        .await
        .or_logs(&stack);
    // The second process sees that payment: the same one again is a duplicate (R-P5).
    let twin = ingest(&second, "rep-2.csv", line("2026-03-11", "HT-REP-1"))
        .await
        .or_logs(&stack);
    assert_eq!((twin.payments_matched, twin.exceptions_raised), (0, 1));
    // The second process pays installment 2; the first then takes installment 3 for an
    // unnamed payment, not the installment the second already paid.
    let named = ingest(&second, "rep-3.csv", line("2026-04-10", "HT-REP-1 第2期"))
        .await
        .or_logs(&stack);
    assert_eq!(named.payments_matched, 1);
    eventually("installment 2 paid", EVENTUALLY, || paid(2))
        .await
        .or_logs(&stack);
    let next = ingest(
        &clients.payments,
        "rep-4.csv",
        line("2026-05-09", "HT-REP-1 购房款"),
    )
    .await
    .or_logs(&stack);
    assert_eq!(next.payments_matched, 1);
    eventually("installment 3 paid", EVENTUALLY, || paid(3))
        .await
        .or_logs(&stack);

    let exceptions = scenario::open_exceptions(&clients).await.or_logs(&stack);
    assert_eq!(
        exceptions
            .iter()
            .map(|e| e.kind.as_str())
            .collect::<Vec<_>>(),
        ["DUPLICATE"]
    );
    // At least one process caught up by replaying the other's changes, not by rebuilding.
    let logs: String = stack
        .log_files()
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .collect();
    assert!(
        logs.contains("cash-application ledger caught up"),
        "no catch-up in the logs"
    );
    assert_eq!(
        stack.stop(|_| {}),
        Vec::<String>::new(),
        "services that did not shut down gracefully"
    );
}
