//! A relative pays for the customer: the payment waits as a third-party exception (R-P5) until
//! the customer's account list gains the relative's account (AddPayerAccount); then it is
//! decided again and applied, and the relative's next payment is applied at once (R-P4).

use devstack::clients::eventually;
use devstack::scenario::{self, bank_csv, open_amount};
use proto::contracts::v1 as contracts;

use crate::helpers::{EVENTUALLY, OrLogs, start};

const RELATIVE: &str = "6222024000000404";

#[tokio::test(flavor = "multi_thread")]
async fn a_relatives_account_put_on_file_applies_the_waiting_payment() {
    let (stack, mut clients) = start().await;
    let customer =
        scenario::create_customer_with_accounts(&mut clients, "赵敏", &["6222 0240 0000 0101"])
            .await
            .or_logs(&stack);
    let contract = scenario::create_contract(
        &mut clients,
        &customer,
        "HT-PA-1",
        &[("800.00", "2026-03-10"), ("800.00", "2026-04-10")],
    )
    .await
    .or_logs(&stack);
    let mut sender = clients.clone();
    let paid = |n: usize| {
        let clients = clients.clone();
        let contract_id = contract.contract_id.clone();
        async move {
            let mut c = clients.clone();
            let r = scenario::receivables(&mut c, &contract_id).await?;
            Ok((r.iter().take(n).all(|r| open_amount(r) == "0.00")
                && r.iter().skip(n).all(|r| open_amount(r) == "800.00"))
            .then_some(()))
        }
    };
    // Her brother pays installment 1 from his own account: a person must confirm (R-P5).
    scenario::ingest(
        &mut sender,
        "pa-1.csv",
        bank_csv(&[[
            "2026-03-09",
            "800.00",
            "CNY",
            "张无忌",
            RELATIVE,
            "HT-PA-1 第1期",
        ]]),
    )
    .await
    .or_logs(&stack);
    eventually("a third-party exception", EVENTUALLY, || async {
        let q = scenario::open_exceptions(&clients).await?;
        Ok((q.len() == 1 && q[0].kind == "THIRD_PARTY_PAYER").then_some(()))
    })
    .await
    .or_logs(&stack);

    // The customer confirms it is her brother's account: it goes on file.
    let add = |account: &str| {
        let mut client = clients.contracts.clone();
        let request = contracts::AddPayerAccountRequest {
            customer_id: customer.clone(),
            account: account.to_owned(),
        };
        async move { anyhow::Ok(client.add_payer_account(request).await?.into_inner()) }
    };
    let added = add("6222-0240-0000-0404").await.or_logs(&stack);
    assert!(added.added);
    let masked = added
        .customer
        .map(|c| c.payer_accounts_masked)
        .unwrap_or_default();
    assert_eq!(masked.len(), 2, "{masked:?}");
    assert!(!masked.iter().any(|m| m.contains("6222")), "{masked:?}");
    let again = add(RELATIVE).await.or_logs(&stack);
    assert!(
        !again.added,
        "the same account in another notation is already on file"
    );

    // The waiting payment is decided again and applied; the queue empties.
    eventually("installment 1 paid by the brother", EVENTUALLY, || paid(1))
        .await
        .or_logs(&stack);
    eventually("the exception resolved", EVENTUALLY, || async {
        Ok(scenario::open_exceptions(&clients)
            .await?
            .is_empty()
            .then_some(()))
    })
    .await
    .or_logs(&stack);
    // His next payment is the customer's at once.
    let next = scenario::ingest(
        &mut sender,
        "pa-2.csv",
        bank_csv(&[[
            "2026-04-09",
            "800.00",
            "CNY",
            "张无忌",
            RELATIVE,
            "HT-PA-1 第2期",
        ]]),
    )
    .await
    .or_logs(&stack);
    assert_eq!((next.payments_matched, next.exceptions_raised), (1, 0));
    eventually("installment 2 paid", EVENTUALLY, || paid(2))
        .await
        .or_logs(&stack);

    // Bad input names the field.
    let bad = add("not an account")
        .await
        .expect_err("letters only are refused");
    assert!(bad.to_string().contains("account"), "{bad}");
    assert_eq!(
        stack.stop(|_| {}),
        Vec::<String>::new(),
        "services that did not shut down gracefully"
    );
}
