//! Payment schedules with kinds and charge types (R-C1): a purchase with deposit 定金, down
//! payment 首付款, installments 分期款 and final payment 尾款 adding up to the price; a B2B
//! contract billed by milestones as shares of the price, to the fen; and the schedules the
//! law or arithmetic refuses, each refusal naming the item and the rule.

use proto::contracts::v1 as contracts;
use proto::types::v1::{ChargeType, ScheduleItemKind};

use devstack::scenario::{self, ESCROW_ACCOUNT};

use crate::helpers::{OrLogs, start};

fn item(kind: ScheduleItemKind, amount: &str, due: &str) -> contracts::Installment {
    contracts::Installment {
        amount: amount.into(),
        due_date: due.into(),
        kind: kind as i32,
        ..Default::default()
    }
}

fn milestone(share: &str, due: &str) -> contracts::Installment {
    contracts::Installment {
        share: share.into(),
        due_date: due.into(),
        kind: ScheduleItemKind::Milestone as i32,
        ..Default::default()
    }
}

fn request(
    customer: &str,
    no: &str,
    price: &str,
    items: Vec<contracts::Installment>,
) -> contracts::CreateContractRequest {
    contracts::CreateContractRequest {
        idempotency_key: format!("contract:{no}"),
        customer_id: customer.into(),
        contract_no: no.into(),
        currency: "CNY".into(),
        installments: items,
        escrow_account: ESCROW_ACCOUNT.into(),
        price: price.into(),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn schedules_have_kinds_charge_types_and_add_up_to_the_price() {
    let (stack, mut clients) = start().await;
    let customer = scenario::create_customer(&mut clients, "周八")
        .await
        .or_logs(&stack);

    // R-C1: a home purchase, plus the public maintenance fund billed with it (not the price).
    let mut fund = item(ScheduleItemKind::Installment, "3000.00", "2026-01-20");
    fund.charge_type = ChargeType::MaintenanceFund as i32;
    let purchase = clients
        .contracts
        .create_contract(request(
            &customer,
            "HT-SCHED-1",
            "1000000.00",
            vec![
                item(ScheduleItemKind::Deposit, "50000.00", "2026-01-05"),
                item(ScheduleItemKind::DownPayment, "250000.00", "2026-01-20"),
                fund,
                item(ScheduleItemKind::Installment, "100000.00", "2026-03-20"),
                item(ScheduleItemKind::Installment, "100000.00", "2026-04-20"),
                item(ScheduleItemKind::FinalPayment, "500000.00", "2026-09-30"),
            ],
        ))
        .await
        .or_logs(&stack)
        .into_inner()
        .contract
        .expect("contract");
    let kinds: Vec<(i32, i32)> = purchase
        .receivables
        .iter()
        .map(|r| (r.kind, r.charge_type))
        .collect();
    let price = ChargeType::PurchasePrice as i32;
    assert_eq!(
        kinds,
        vec![
            (ScheduleItemKind::Deposit as i32, price),
            (ScheduleItemKind::DownPayment as i32, price),
            (
                ScheduleItemKind::Installment as i32,
                ChargeType::MaintenanceFund as i32
            ),
            (ScheduleItemKind::Installment as i32, price),
            (ScheduleItemKind::Installment as i32, price),
            (ScheduleItemKind::FinalPayment as i32, price),
        ]
    );
    assert_eq!(
        purchase.price.as_ref().map(|m| m.amount.as_str()),
        Some("1000000.00")
    );

    // R-C1: milestones 30 % / 40 % / 30 % of 1,000,000.01: the last takes the rounding.
    let b2b = clients
        .contracts
        .create_contract(request(
            &customer,
            "HT-SCHED-B2B",
            "1000000.01",
            vec![
                milestone("0.3", "2026-02-01"),
                milestone("0.4", "2026-06-01"),
                milestone("0.3", "2026-12-01"),
            ],
        ))
        .await
        .or_logs(&stack)
        .into_inner()
        .contract
        .expect("contract");
    let billed: Vec<(&str, &str)> = b2b
        .receivables
        .iter()
        .map(|r| {
            (
                r.amount.as_ref().map_or("", |m| m.amount.as_str()),
                r.share.as_str(),
            )
        })
        .collect();
    assert_eq!(
        billed,
        vec![
            ("300000.00", "0.3"),
            ("400000.00", "0.4"),
            ("300000.01", "0.3")
        ]
    );
    // Read back the same.
    let again = clients
        .contracts
        .get_contract(contracts::GetContractRequest {
            key: Some(contracts::get_contract_request::Key::ContractNo(
                "HT-SCHED-B2B".into(),
            )),
            version: 0,
        })
        .await
        .or_logs(&stack)
        .into_inner()
        .contract
        .expect("contract");
    assert_eq!(again.receivables, b2b.receivables);

    // Refusals name the item and the rule.
    let refused = |no: &str, price: &str, items| {
        let mut c = clients.contracts.clone();
        let request = request(&customer, no, price, items);
        async move {
            let status = c.create_contract(request).await.expect_err("refused");
            assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
            status.message().to_owned()
        }
    };
    let too_big_deposit = refused(
        "HT-SCHED-X1",
        "100000.00",
        vec![
            item(ScheduleItemKind::Deposit, "20000.01", "2026-01-05"),
            item(ScheduleItemKind::FinalPayment, "79999.99", "2026-02-05"),
        ],
    )
    .await;
    assert!(
        too_big_deposit.starts_with("installments[0].amount")
            && too_big_deposit.contains("art. 586"),
        "{too_big_deposit}"
    );
    let final_not_last = refused(
        "HT-SCHED-X2",
        "",
        vec![
            item(ScheduleItemKind::FinalPayment, "1.00", "2026-01-05"),
            item(ScheduleItemKind::Installment, "1.00", "2026-02-05"),
        ],
    )
    .await;
    assert!(
        final_not_last.starts_with("installments[0].kind"),
        "{final_not_last}"
    );
    let short = refused(
        "HT-SCHED-X3",
        "100000.00",
        vec![item(
            ScheduleItemKind::Installment,
            "99999.99",
            "2026-01-05",
        )],
    )
    .await;
    assert!(
        short.starts_with("price: the purchase-price items add up to 99999.99"),
        "{short}"
    );
    let both = refused(
        "HT-SCHED-X4",
        "100.00",
        vec![contracts::Installment {
            amount: "100.00".into(),
            share: "1".into(),
            due_date: "2026-01-05".into(),
            kind: ScheduleItemKind::Milestone as i32,
            ..Default::default()
        }],
    )
    .await;
    assert!(both.starts_with("installments[0].share"), "{both}");
    // Nothing of the refused contracts was kept.
    for no in ["HT-SCHED-X1", "HT-SCHED-X2", "HT-SCHED-X3", "HT-SCHED-X4"] {
        let missing = clients
            .contracts
            .get_contract(contracts::GetContractRequest {
                key: Some(contracts::get_contract_request::Key::ContractNo(no.into())),
                version: 0,
            })
            .await
            .expect_err("not created");
        assert_eq!(missing.code(), tonic::Code::NotFound);
    }
}
