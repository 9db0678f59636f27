//! Contract terms from the money crate: due dates moved out of long public holidays (R-C6)
//! and late fees accrued by the daily cycle, paid before principal and lowered by a partial
//! payment (R-C4, R-P11).

use devstack::clients::eventually;
use devstack::scenario::{self, bank_csv, open_amount};

use crate::helpers::{EVENTUALLY, OrLogs, start};

#[tokio::test(flavor = "multi_thread")]
async fn holiday_due_dates_move_and_late_fees_accrue() {
    let (stack, mut clients) = start().await;
    let customer = scenario::create_customer(&mut clients, "孙七")
        .await
        .or_logs(&stack);

    // 2026-02-17 is inside the Spring Festival break (15-23 February 2026): the first
    // working day after is 2026-02-24. 2027 has no published notice yet: provisional.
    let contract = scenario::create_contract(
        &mut clients,
        &customer,
        "HT-TERMS-1",
        &[
            ("100.00", "2026-02-17"),
            ("100.00", "2026-03-10"),
            ("100.00", "2027-06-15"),
        ],
    )
    .await
    .or_logs(&stack);
    let r = &contract.receivables;
    assert_eq!(
        (r[0].scheduled_due_date.as_str(), r[0].due_date.as_str()),
        ("2026-02-17", "2026-02-24")
    );
    assert_eq!(
        (r[1].scheduled_due_date.as_str(), r[1].due_date.as_str()),
        ("2026-03-10", "2026-03-10")
    );
    assert!(!r[0].due_date_provisional && r[2].due_date_provisional);

    // A policy with a typo is refused, naming the key.
    let typo = scenario::create_contract_with_policy(
        &mut clients,
        &customer,
        "HT-TERMS-TYPO",
        &[("100.00", "2026-03-10")],
        r#"{"name": "x", "acrual": {"kind": "flat_daily", "daily_rate": "1‰"}}"#,
    )
    .await
    .expect_err("unknown key");
    let status = typo.downcast_ref::<tonic::Status>().expect("a gRPC status");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert!(
        status.message().contains("late_fee_policy") && status.message().contains("acrual"),
        "{}",
        status.message()
    );

    // R-C4: 1‰ of the overdue principal per calendar day.
    // A customer of its own, so the dunning case holds only this receivable.
    let policy =
        r#"{"name": "1 per mille a day", "accrual": {"kind": "flat_daily", "daily_rate": "1‰"}}"#;
    let payer = scenario::create_customer(&mut clients, "周八")
        .await
        .or_logs(&stack);
    let fee_contract = scenario::create_contract_with_policy(
        &mut clients,
        &payer,
        "HT-FEE-1",
        &[("10000.00", "2026-03-10")],
        policy,
    )
    .await
    .or_logs(&stack);

    // 10 days overdue: 10000.00 × 0.001 × 10 = 100.00.
    scenario::run_cycle(&mut clients, "2026-03-20")
        .await
        .or_logs(&stack);
    let r = scenario::receivables(&mut clients, &fee_contract.contract_id)
        .await
        .or_logs(&stack);
    assert_eq!(
        r[0].late_fee.as_ref().map(|m| m.amount.as_str()),
        Some("100.00")
    );
    assert_eq!(r[0].aging_bucket, "1-30");
    // Dunning's notice states the late fee with the principal (R-D3).
    let notice_action = eventually("a notice that states the late fee", EVENTUALLY, || async {
        let cases = scenario::dunning_cases(&clients, &payer).await?;
        let Some(case) = cases.into_iter().next() else {
            return Ok(None);
        };
        let actions = scenario::dunning_actions(&clients, &case.case_id).await?;
        Ok(actions.into_iter().find(|a| {
            a.step.starts_with("notice")
                && a.detail
                    .contains("10100.00 CNY owed on 1 item(s), oldest 10 days overdue (late fees 100.00 CNY of it)")
                && !a.notice_id.is_empty()
        }))
    })
    .await
    .or_logs(&stack);
    // The notice document itself: the principal, the late fee and the total (R-D3).
    let notice = clients
        .dunning
        .clone()
        .get_notice(proto::dunning::v1::GetNoticeRequest {
            notice_id: notice_action.notice_id.clone(),
        })
        .await
        .or_logs(&stack)
        .into_inner();
    for expected in [
        "10,000.00",
        "100.00",
        "10,100.00",
        "滞纳金",
        "1 per mille a day",
    ] {
        assert!(
            notice.html.contains(expected),
            "{expected} missing from the notice"
        );
    }
    assert!(notice.pdf.starts_with(b"%PDF"));

    // 4000.00 paid on 2026-03-25 settles the 100.00 late fee owed first (R-P11, art. 561)
    // and 3900.00 of principal, which lowers the base from that day: 14 days × 10.00
    // (11-24 March) + 6 days × 6.10 (25-30 March) = 176.60 accrued, 76.60 of it owed.
    let file = bank_csv(&[[
        "2026-03-25",
        "4000.00",
        "CNY",
        "周八",
        "6222020000007777",
        "HT-FEE-1/1",
    ]]);
    scenario::ingest(&mut clients, "fee.csv", file)
        .await
        .or_logs(&stack);
    eventually("the partial payment applied", EVENTUALLY, || async {
        let mut c = clients.clone();
        let r = scenario::receivables(&mut c, &fee_contract.contract_id).await?;
        Ok((open_amount(&r[0]) == "6100.00").then_some(()))
    })
    .await
    .or_logs(&stack);
    scenario::run_cycle(&mut clients, "2026-03-30")
        .await
        .or_logs(&stack);
    let r = scenario::receivables(&mut clients, &fee_contract.contract_id)
        .await
        .or_logs(&stack);
    assert_eq!(
        r[0].late_fee.as_ref().map(|m| m.amount.as_str()),
        Some("176.60")
    );
    let owed = r[0].owed.as_ref().expect("owed");
    assert_eq!(
        (
            owed.late_fee.as_ref().map(|m| m.amount.as_str()),
            owed.total.as_ref().map(|m| m.amount.as_str())
        ),
        (Some("76.60"), Some("6176.60"))
    );
    assert_eq!(
        stack.stop(|_| {}),
        Vec::<String>::new(),
        "services that did not shut down gracefully"
    );
}
