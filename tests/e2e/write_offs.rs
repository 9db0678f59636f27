//! Small differences (R-P12): a payment short by no more than the tolerance has the rest
//! written off instead of leaving the receivable open by cents — at once within the approval
//! threshold, by a person above it; recorded with its reason and who approved it.

use devstack::clients::{Clients, eventually};
use devstack::scenario::{self, bank_csv};
use kit::auth::Role;
use proto::contracts::v1 as contracts;

use crate::helpers::{EVENTUALLY, OrLogs, start};
use crate::operator_cli::{collectctl, text};

async fn write_offs(clients: &Clients, customer: &str) -> anyhow::Result<Vec<contracts::WriteOff>> {
    Ok(clients
        .contracts
        .clone()
        .list_write_offs(contracts::ListWriteOffsRequest {
            customer_id: customer.to_owned(),
            ..Default::default()
        })
        .await?
        .into_inner()
        .write_offs)
}

fn status(r: &contracts::Receivable) -> i32 {
    r.status
}

#[tokio::test(flavor = "multi_thread")]
async fn a_small_difference_is_written_off_and_a_larger_one_waits_for_a_person() {
    let (stack, mut admin) = start().await;
    let mut cashier =
        Clients::as_user(&stack, "cashier-li", &[Role::Cashier], None).or_logs(&stack);
    let customer = scenario::create_customer(&mut admin, "冯十三")
        .await
        .or_logs(&stack);
    let contract = scenario::create_contract(
        &mut admin,
        &customer,
        "HT-WO-1",
        &[("1000.00", "2026-03-10"), ("1000.00", "2026-04-10")],
    )
    .await
    .or_logs(&stack);
    let id = contract.contract_id.clone();

    // 0.30 short (bank charges): within the approval threshold, written off by policy.
    let file = bank_csv(&[
        [
            "2026-03-10",
            "999.70",
            "CNY",
            "冯十三",
            "6222020000001313",
            "HT-WO-1/1",
        ],
        [
            "2026-04-10",
            "997.50",
            "CNY",
            "冯十三",
            "6222020000001313",
            "HT-WO-1/2",
        ],
    ]);
    scenario::ingest(&mut admin, "wo.csv", file)
        .await
        .or_logs(&stack);
    let rows = eventually("the first item settled", EVENTUALLY, || async {
        let mut c = admin.clone();
        let r = scenario::receivables(&mut c, &id).await?;
        Ok((status(&r[0]) == contracts::ReceivableStatus::Paid as i32
            && r[1]
                .open_amount
                .as_ref()
                .is_some_and(|m| m.amount == "2.50"))
        .then_some(r))
    })
    .await
    .or_logs(&stack);
    assert_eq!(
        rows[0].open_amount.as_ref().map(|m| m.amount.as_str()),
        Some("0.00")
    );
    let listed = eventually("both write-offs recorded", EVENTUALLY, || async {
        let w = write_offs(&cashier, &customer).await?;
        Ok((w.len() == 2).then_some(w))
    })
    .await
    .or_logs(&stack);
    let small = listed
        .iter()
        .find(|w| w.amount.as_ref().is_some_and(|m| m.amount == "0.30"))
        .expect("the 0.30 write-off");
    assert_eq!(
        (small.status, small.decided_by.as_str()),
        (contracts::WriteOffStatus::Booked as i32, "policy")
    );
    assert!(small.reason.contains("R-P12"), "{}", small.reason);
    assert_eq!(small.parts.len(), 1);

    // 2.50 short: above the approval threshold (1.00): the item stays open until a person
    // decides; a collector may not, a cashier may.
    let larger = listed
        .iter()
        .find(|w| w.amount.as_ref().is_some_and(|m| m.amount == "2.50"))
        .expect("the 2.50 write-off");
    assert_eq!(larger.status, contracts::WriteOffStatus::Proposed as i32);
    assert_eq!(larger.requested_by, "payments");
    let mut collector =
        Clients::as_user(&stack, "col-wu", &[Role::Collector], Some("team-a")).or_logs(&stack);
    let denied = collector
        .contracts
        .approve_write_off(contracts::ApproveWriteOffRequest {
            write_off_id: larger.write_off_id.clone(),
            note: String::new(),
        })
        .await
        .expect_err("collectors do not approve write-offs");
    assert_eq!(denied.code(), tonic::Code::PermissionDenied);
    let approved = cashier
        .contracts
        .approve_write_off(contracts::ApproveWriteOffRequest {
            write_off_id: larger.write_off_id.clone(),
            note: "bank charges confirmed on the statement".to_owned(),
        })
        .await
        .or_logs(&stack)
        .into_inner();
    let booked = approved.write_off.expect("write-off");
    assert_eq!(
        (booked.status, booked.decided_by.as_str()),
        (contracts::WriteOffStatus::Booked as i32, "cashier-li")
    );
    let again = cashier
        .contracts
        .approve_write_off(contracts::ApproveWriteOffRequest {
            write_off_id: larger.write_off_id.clone(),
            note: String::new(),
        })
        .await
        .expect_err("decided");
    assert_eq!(again.code(), tonic::Code::FailedPrecondition);
    let r = scenario::receivables(&mut admin, &id).await.or_logs(&stack);
    assert_eq!(status(&r[1]), contracts::ReceivableStatus::Paid as i32);

    // The same through collectctl, as the cashier: text by default, JSON on request.
    let token = stack
        .auth
        .token("cashier-li", &[Role::Cashier], None)
        .or_logs(&stack);
    let out = collectctl(
        &stack,
        Some(&token),
        &["write-offs", "list", "--customer", &customer],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listed = text(&out.stdout);
    assert!(
        listed.contains("booked")
            && listed.contains("by policy")
            && listed.contains("by cashier-li"),
        "{listed}"
    );
    let out = collectctl(
        &stack,
        Some(&token),
        &["write-offs", "list", "--customer", &customer, "--json"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json.as_array().map(Vec::len), Some(2), "{json}");
    assert!(
        scenario::open_exceptions(&admin)
            .await
            .or_logs(&stack)
            .is_empty(),
        "no payment left in the exception queue"
    );
    assert_eq!(
        stack.stop(|_| {}),
        Vec::<String>::new(),
        "services that did not shut down gracefully"
    );
}
