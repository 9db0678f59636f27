//! Discounts as contract terms (R-C7, issue 12 item 6): a lump-sum discount the schedule
//! bills, stepped early-payment discounts the booking of a payment grants, and interest-free
//! down-payment installments on which no interest accrues.

use devstack::clients::{Clients, eventually};
use devstack::scenario::{self, ESCROW_ACCOUNT, bank_csv};
use proto::contracts::v1 as contracts;
use proto::types::v1::ScheduleItemKind;

use crate::helpers::{EVENTUALLY, OrLogs, start};

fn item(
    amount: &str,
    due: &str,
    kind: ScheduleItemKind,
    interest_free: bool,
) -> contracts::Installment {
    contracts::Installment {
        amount: amount.into(),
        due_date: due.into(),
        kind: kind as i32,
        interest_free,
        ..Default::default()
    }
}

async fn sign(
    clients: &mut Clients,
    customer: &str,
    no: &str,
    price: &str,
    installments: Vec<contracts::Installment>,
    discount: Option<contracts::DiscountTerms>,
    interest_policy: &str,
) -> Result<contracts::Contract, tonic::Status> {
    clients
        .contracts
        .create_contract(contracts::CreateContractRequest {
            idempotency_key: format!("contract:{no}"),
            customer_id: customer.into(),
            contract_no: no.into(),
            currency: "CNY".into(),
            installments,
            escrow_account: ESCROW_ACCOUNT.into(),
            price: price.into(),
            discount,
            interest_policy: interest_policy.into(),
            ..Default::default()
        })
        .await
        .map(|r| r.into_inner().contract.expect("contract"))
}

fn amount(m: Option<&proto::types::v1::Money>) -> &str {
    m.map_or("", |m| m.amount.as_str())
}

#[tokio::test(flavor = "multi_thread")]
async fn lump_sum_early_payment_and_interest_free_terms_are_respected() {
    let (stack, mut admin) = start().await;
    let customer = scenario::create_customer(&mut admin, "褚十四")
        .await
        .or_logs(&stack);

    // Lump sum, 5 % off 1,000,000.00: the one item bills 950,000.00; the full price is refused.
    let lump = Some(contracts::DiscountTerms {
        lump_sum_percent: "5".into(),
        ..Default::default()
    });
    let one = |amount: &str| {
        vec![item(
            amount,
            "2026-07-10",
            ScheduleItemKind::FinalPayment,
            false,
        )]
    };
    let refused = sign(
        &mut admin,
        &customer,
        "HT-LUMP-0",
        "1000000.00",
        one("1000000.00"),
        lump.clone(),
        "",
    )
    .await
    .expect_err("the undiscounted price");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert!(
        refused.message().starts_with("price"),
        "{}",
        refused.message()
    );
    let no_price = sign(
        &mut admin,
        &customer,
        "HT-LUMP-1",
        "",
        one("950000.00"),
        lump.clone(),
        "",
    )
    .await
    .expect_err("no price");
    assert!(
        no_price.message().contains("discount.lump_sum_percent"),
        "{}",
        no_price.message()
    );
    let contract = sign(
        &mut admin,
        &customer,
        "HT-LUMP-2",
        "1000000.00",
        one("950000.00"),
        lump,
        "",
    )
    .await
    .or_logs(&stack);
    assert_eq!(
        contract
            .discount
            .as_ref()
            .map(|d| d.lump_sum_percent.as_str()),
        Some("5")
    );

    // Stepped early payment: 30 days early 2 %, 10 days early 1 %. Paying 9,800.00 forty
    // days before the due date settles the 10,000.00 installment; the 200.00 is discounted.
    let steps = Some(contracts::DiscountTerms {
        early_payment: vec![
            contracts::EarlyPaymentStep {
                days_before_due: 10,
                percent: "1".into(),
            },
            contracts::EarlyPaymentStep {
                days_before_due: 30,
                percent: "2".into(),
            },
        ],
        ..Default::default()
    });
    let bad = Some(contracts::DiscountTerms {
        early_payment: vec![contracts::EarlyPaymentStep {
            days_before_due: 10,
            percent: "120".into(),
        }],
        ..Default::default()
    });
    let refused = sign(
        &mut admin,
        &customer,
        "HT-EARLY-0",
        "",
        vec![item(
            "10000.00",
            "2026-06-10",
            ScheduleItemKind::Installment,
            false,
        )],
        bad,
        "",
    )
    .await
    .expect_err("120 %");
    assert!(
        refused
            .message()
            .contains("discount.early_payment[0].percent"),
        "{}",
        refused.message()
    );
    let early = sign(
        &mut admin,
        &customer,
        "HT-EARLY-1",
        "",
        vec![
            item(
                "10000.00",
                "2026-06-10",
                ScheduleItemKind::Installment,
                false,
            ),
            item(
                "10000.00",
                "2026-07-10",
                ScheduleItemKind::Installment,
                false,
            ),
        ],
        steps,
        "",
    )
    .await
    .or_logs(&stack);
    let file = bank_csv(&[[
        "2026-05-01",
        "9800.00",
        "CNY",
        "褚十四",
        "6222020000001414",
        "HT-EARLY-1/1",
    ]]);
    scenario::ingest(&mut admin, "early.csv", file)
        .await
        .or_logs(&stack);
    let id = early.contract_id.clone();
    let r = eventually(
        "the installment settled with its discount",
        EVENTUALLY,
        || async {
            let mut c = admin.clone();
            let r = scenario::receivables(&mut c, &id).await?;
            Ok((r[0].status == contracts::ReceivableStatus::Paid as i32).then_some(r))
        },
    )
    .await
    .or_logs(&stack);
    assert_eq!(amount(r[0].discounted.as_ref()), "200.00");
    assert_eq!(amount(r[1].discounted.as_ref()), "0.00");
    assert_eq!(amount(r[1].open_amount.as_ref()), "10000.00");

    // Interest-free down-payment installments: no interest accrues on them; on the others it
    // does (0.5‰ a day here), and the late fee is not part of this contract.
    let refused = sign(
        &mut admin,
        &customer,
        "HT-FREE-0",
        "",
        vec![item(
            "1000.00",
            "2026-03-10",
            ScheduleItemKind::Installment,
            true,
        )],
        None,
        "",
    )
    .await
    .expect_err("only down payments are interest-free");
    assert!(
        refused.message().contains("installments[0].interest_free"),
        "{}",
        refused.message()
    );
    let interest = r#"{"name": "0.5 per mille a day", "accrual": {"kind": "flat_daily", "daily_rate": "0.5‰"}}"#;
    let free = sign(
        &mut admin,
        &customer,
        "HT-FREE-1",
        "",
        vec![
            item(
                "20000.00",
                "2026-03-10",
                ScheduleItemKind::DownPayment,
                false,
            ),
            item(
                "10000.00",
                "2026-03-10",
                ScheduleItemKind::DownPayment,
                true,
            ),
        ],
        None,
        interest,
    )
    .await
    .or_logs(&stack);
    assert!(free.receivables[1].interest_free && !free.receivables[0].interest_free);
    scenario::run_cycle(&mut admin, "2026-03-20")
        .await
        .or_logs(&stack);
    let r = scenario::receivables(&mut admin, &free.contract_id)
        .await
        .or_logs(&stack);
    // 10 days × 0.5‰ × 20,000.00 = 100.00; nothing on the interest-free one.
    assert_eq!(amount(r[0].interest.as_ref()), "100.00");
    assert_eq!(amount(r[1].interest.as_ref()), "0.00");
    assert_eq!(
        stack.stop(|_| {}),
        Vec::<String>::new(),
        "services that did not shut down gracefully"
    );
}
