//! Cash application through the payments service (issue 6, item 8): the cashapp engine decides
//! every payment of a bank file against what contracts published (payer accounts, escrow
//! account); applied decisions become allocations contracts confirms, everything else lands
//! in the exception queue with its kind, candidates and evidence (R-P4, R-P5, R-P6). After a
//! restart the ledger is rebuilt and still recognises a duplicate of an applied payment.

use devstack::clients::eventually;
use devstack::scenario::{self, bank_csv, open_amount};
use kit::auth::Role;
use proto::payments::v1 as payments;
use proto::payments::v1::resolve_exception_request::Action;

use crate::helpers::{EVENTUALLY, OrLogs, start};

const LI_LEI_ACCOUNT: &str = "6222 0210 0000 0101";

#[tokio::test(flavor = "multi_thread")]
async fn the_engine_applies_splits_and_flags_through_the_service() {
    let (mut stack, mut clients) = start().await;
    let customer = scenario::create_customer_with_accounts(&mut clients, "李雷", &[LI_LEI_ACCOUNT])
        .await
        .or_logs(&stack);
    let contract = scenario::create_contract(
        &mut clients,
        &customer,
        "HT-CA-1",
        &[
            ("1000.00", "2026-03-10"),
            ("1000.00", "2026-04-10"),
            ("1000.00", "2026-05-10"),
            ("1000.00", "2026-06-10"),
        ],
    )
    .await
    .or_logs(&stack);
    let file = bank_csv(&[
        // R-P4/R-P11: one payment over two installments, oldest due first.
        [
            "2026-03-12",
            "2000.00",
            "CNY",
            "李雷",
            "6222021000000101",
            "HT-CA-1",
        ],
        // The same payer, amount and reference again: a duplicate, never applied twice (R-P5).
        [
            "2026-03-12",
            "2000.00",
            "CNY",
            "李雷",
            "6222021000000101",
            "HT-CA-1",
        ],
        // Pinyin payer name, full-width reference naming installment 3.
        [
            "2026-03-13",
            "1000.00",
            "CNY",
            "LI LEI",
            "6222021000000101",
            "ＨＴ－ＣＡ－１ 第3期",
        ],
        // Someone else pays the contract: only a person may apply it (R-P5).
        [
            "2026-03-14",
            "1000.00",
            "CNY",
            "韩梅梅",
            "6222029999990001",
            "HT-CA-1",
        ],
    ]);
    let ingested = scenario::ingest(&mut clients, "ca-1.csv", file)
        .await
        .or_logs(&stack);
    // Payments may decide before or after it has seen ContractSigned; a payment decided
    // before is decided again when it does, so the outcome is the same.
    assert_eq!(ingested.lines_accepted, 4);
    let paid = eventually("installments 1-3 paid by contracts", EVENTUALLY, || async {
        let mut c = clients.clone();
        let r = scenario::receivables(&mut c, &contract.contract_id).await?;
        let amounts: Vec<&str> = r.iter().map(open_amount).collect();
        Ok((amounts == ["0.00", "0.00", "0.00", "1000.00"]).then_some(r))
    })
    .await
    .or_logs(&stack);
    assert_eq!(paid.len(), 4);

    // R-P6: the same payer and reference, but received on an account that is not the
    // contract's escrow account.
    let wrong = clients
        .payments
        .ingest_bank_file(payments::IngestBankFileRequest {
            file_name: "other-account.csv".into(),
            content: bank_csv(&[[
                "2026-03-15",
                "1000.00",
                "CNY",
                "李雷",
                "6222021000000101",
                "HT-CA-1 第4期",
            ]]),
            format: String::new(),
            account: "6216 0000 9999 0001".into(),
        })
        .await
        .or_logs(&stack)
        .into_inner();
    assert_eq!((wrong.payments_matched, wrong.exceptions_raised), (0, 1));

    // A file that does not name its account is refused with the field to fix.
    let refused = clients
        .payments
        .ingest_bank_file(payments::IngestBankFileRequest {
            file_name: "no-account.csv".into(),
            content: bank_csv(&[["2026-03-15", "1.00", "CNY", "李雷", "1234", "HT-CA-1"]]),
            format: String::new(),
            account: String::new(),
        })
        .await
        .expect_err("a simple CSV without the receiving account is refused");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert!(
        refused.message().contains("account"),
        "{}",
        refused.message()
    );

    let all = scenario::all_payments(&clients).await.or_logs(&stack);
    let split = all
        .iter()
        .find(|p| p.booking_date == "2026-03-12" && !p.allocations.is_empty())
        .expect("the split payment");
    assert_eq!(
        split
            .allocations
            .iter()
            .map(|a| (
                a.receivable_ref.as_str(),
                a.amount.as_ref().map_or("", |m| m.amount.as_str())
            ))
            .collect::<Vec<_>>(),
        [("HT-CA-1/1", "1000.00"), ("HT-CA-1/2", "1000.00")]
    );
    assert!(split.confidence >= 8500, "{split:?}");
    assert!(
        split.evidence.iter().any(|e| e.contains("HT-CA-1")),
        "{:?}",
        split.evidence
    );
    let pinyin = all
        .iter()
        .find(|p| p.booking_date == "2026-03-13")
        .expect("the pinyin payment");
    assert_eq!(pinyin.allocations.len(), 1);
    assert_eq!(pinyin.allocations[0].receivable_ref, "HT-CA-1/3");

    let queue = scenario::open_exceptions(&clients).await.or_logs(&stack);
    let kinds: Vec<&str> = queue.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["DUPLICATE", "THIRD_PARTY_PAYER", "WRONG_RECEIVING_ACCOUNT"]
    );
    // The queue pages and filters by kind, and counts what is open of each kind.
    let page = clients
        .payments
        .list_exceptions(payments::ListExceptionsRequest {
            page_size: 2,
            ..Default::default()
        })
        .await
        .or_logs(&stack)
        .into_inner();
    assert_eq!(page.exceptions.len(), 2);
    assert!(!page.next_page_token.is_empty(), "a second page follows");
    let rest = clients
        .payments
        .list_exceptions(payments::ListExceptionsRequest {
            page_token: page.next_page_token.clone(),
            ..Default::default()
        })
        .await
        .or_logs(&stack)
        .into_inner();
    assert_eq!(rest.exceptions.len(), 1);
    assert_eq!(rest.exceptions[0].kind, "WRONG_RECEIVING_ACCOUNT");
    assert!(rest.next_page_token.is_empty());
    let counts: Vec<(&str, u32)> = page
        .counts
        .iter()
        .map(|c| (c.kind.as_str(), c.open))
        .collect();
    assert_eq!(
        counts,
        [
            ("DUPLICATE", 1),
            ("THIRD_PARTY_PAYER", 1),
            ("WRONG_RECEIVING_ACCOUNT", 1)
        ]
    );
    let only = clients
        .payments
        .list_exceptions(payments::ListExceptionsRequest {
            kind: "third_party_payer".into(),
            ..Default::default()
        })
        .await
        .or_logs(&stack)
        .into_inner();
    assert_eq!(only.exceptions.len(), 1);
    assert_eq!(only.exceptions[0].kind, "THIRD_PARTY_PAYER");

    let third = &queue[1];
    assert_eq!(third.candidates.len(), 1, "{third:?}");
    assert_eq!(third.candidates[0].customer_name, "李雷");
    assert!(!third.candidates[0].evidence.is_empty());
    assert!(!third.suggested_action.is_empty());

    // A restarted service rebuilds its ledger from the tables and still knows what was
    // applied: the split payment again, two days later, is a duplicate (R-P5).
    stack.kill("payments").or_logs(&stack);
    stack.restart("payments").await.or_logs(&stack);
    let again = scenario::ingest(
        &mut clients,
        "ca-2.csv",
        bank_csv(&[[
            "2026-03-14",
            "2000.00",
            "CNY",
            "李雷",
            "6222021000000101",
            "HT-CA-1",
        ]]),
    )
    .await
    .or_logs(&stack);
    assert_eq!((again.payments_matched, again.exceptions_raised), (0, 1));
    let after_restart = scenario::open_exceptions(&clients).await.or_logs(&stack);
    assert_eq!(
        after_restart
            .iter()
            .filter(|e| e.kind == "DUPLICATE")
            .count(),
        2,
        "{after_restart:?}"
    );

    // A person confirms the third-party payment after the customer said a relative paid
    // for them (R-P5): it is applied as the candidate proposed, to installment 4. Who decided
    // is the authenticated cashier (R-O3), whatever the request might claim.
    let clerk = devstack::clients::Clients::as_user(&stack, "clerk-7", &[Role::Cashier], None)
        .or_logs(&stack);
    let confirmed = clerk
        .clone()
        .payments
        .resolve_exception(payments::ResolveExceptionRequest {
            exception_id: third.exception_id.clone(),
            action: Some(Action::ConfirmCandidate(0)),
            note: "李雷 confirmed on the phone that 韩梅梅 paid for him".into(),
        })
        .await
        .or_logs(&stack)
        .into_inner();
    assert_eq!(
        confirmed
            .allocations
            .iter()
            .map(|a| a.receivable_ref.as_str())
            .collect::<Vec<_>>(),
        ["HT-CA-1/4"]
    );
    assert!(
        confirmed.resolution.contains("candidate 1") && confirmed.resolution.contains("clerk-7"),
        "{}",
        confirmed.resolution
    );
    assert_eq!(confirmed.resolved_by, "clerk-7");
    eventually("installment 4 paid once confirmed", EVENTUALLY, || async {
        let mut c = clients.clone();
        let r = scenario::receivables(&mut c, &contract.contract_id).await?;
        Ok(r.iter().all(|r| open_amount(r) == "0.00").then_some(()))
    })
    .await
    .or_logs(&stack);
    // Deciding it again is refused; so is closing one without saying why.
    let again = clients
        .payments
        .resolve_exception(payments::ResolveExceptionRequest {
            exception_id: third.exception_id.clone(),
            action: Some(Action::ConfirmCandidate(0)),
            note: String::new(),
        })
        .await
        .expect_err("an exception is resolved once");
    assert_eq!(again.code(), tonic::Code::FailedPrecondition);
    let wrong_account = &queue[2];
    let silent = clients
        .payments
        .resolve_exception(payments::ResolveExceptionRequest {
            exception_id: wrong_account.exception_id.clone(),
            action: Some(Action::Dismiss(true)),
            note: String::new(),
        })
        .await
        .expect_err("a dismissal needs a note");
    assert_eq!(silent.code(), tonic::Code::InvalidArgument);
    clients
        .payments
        .resolve_exception(payments::ResolveExceptionRequest {
            exception_id: wrong_account.exception_id.clone(),
            action: Some(Action::Dismiss(true)),
            note: "returned to the payer; asked to pay into the escrow account".into(),
        })
        .await
        .or_logs(&stack);
    let left: Vec<String> = scenario::open_exceptions(&clients)
        .await
        .or_logs(&stack)
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(left, ["DUPLICATE", "DUPLICATE"]);

    // R-O4: no payer, receiving or escrow account is stored in plain text, in payments or in
    // contracts (tests/e2e/pii_scan.rs looks everywhere else).
    let sealed_only = |url: String, query: &'static str| async move {
        let pool = sqlx::PgPool::connect(&url).await?;
        let stored: Vec<String> = sqlx::query_scalar(query).fetch_all(&pool).await?;
        pool.close().await;
        anyhow::Ok(stored)
    };
    let in_payments = sealed_only(
        stack.database_urls["payments"].clone(),
        "SELECT payer_account FROM payments.payments
         UNION ALL SELECT receiving_account FROM payments.payments",
    )
    .await
    .or_logs(&stack);
    let in_contracts = sealed_only(
        stack.database_urls["contracts"].clone(),
        "SELECT unnest(payer_accounts) FROM contracts.customers
         UNION ALL SELECT escrow_account FROM contracts.contracts",
    )
    .await
    .or_logs(&stack);
    assert!(in_payments.len() >= 7 && !in_contracts.is_empty());
    // Sealed values are "v2:<key id>:" and hex; a hex string may contain any digits by
    // chance, but not a whole account number.
    let accounts = ["6222021000000101", "6222029999990001"];
    for stored in in_payments.iter().chain(&in_contracts) {
        let hex = stored
            .strip_prefix("v2:")
            .and_then(|rest| rest.split_once(':'))
            .map(|(_, hex)| hex);
        let sealed = hex.is_some_and(|hex| {
            hex.bytes().all(|b| b.is_ascii_hexdigit()) && !accounts.iter().any(|a| hex.contains(a))
        });
        assert!(stored.is_empty() || sealed, "{stored}");
    }

    assert_eq!(
        stack.stop(|_| {}),
        Vec::<String>::new(),
        "services that did not shut down gracefully"
    );
}
