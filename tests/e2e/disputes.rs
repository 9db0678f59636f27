//! Issue 14 item 4 (R-D8): a dispute on one month's water charge pauses dunning for that
//! item only — the next notice covers the other items — and, unanswered, breaches its SLA
//! exactly 48 hours after it was opened, under dunning's moved clock: published, and a task
//! for the assignee due at the deadline.

use std::time::Duration;

use devstack::clients::{Clients, eventually};
use devstack::scenario;
use kit::auth::Role;
use proto::contracts::v1 as contracts;
use proto::dunning::v1 as dunning;
use proto::types::v1::ChargeType;

use crate::helpers::{EVENTUALLY, OrLogs, caught_up, start};

async fn disputes(clients: &Clients, customer: &str) -> anyhow::Result<Vec<dunning::Dispute>> {
    Ok(clients
        .dunning
        .clone()
        .list_disputes(dunning::ListDisputesRequest {
            customer_id: customer.to_owned(),
        })
        .await?
        .into_inner()
        .disputes)
}

/// A customer with an 80.00 water charge due 10 February and a 1,200.00 management fee due
/// the 12th, both overdue after the cycle of the 13th, in an active dunning case: (customer,
/// contract, water, fee).
async fn water_and_fee(
    stack: &devstack::Stack,
    admin: &Clients,
    li: &mut Clients,
    name: &str,
    contract_no: &str,
) -> (String, contracts::Contract, String, String) {
    let customer = scenario::create_customer(li, name).await.or_logs(stack);
    let item = |amount: &str, due: &str, charge: ChargeType| contracts::Installment {
        amount: amount.into(),
        due_date: due.into(),
        charge_type: charge as i32,
        ..Default::default()
    };
    let contract = li
        .contracts
        .create_contract(contracts::CreateContractRequest {
            idempotency_key: format!("contract:{contract_no}"),
            customer_id: customer.clone(),
            contract_no: contract_no.into(),
            currency: "CNY".into(),
            installments: vec![
                item("80.00", "2026-02-10", ChargeType::Water),
                item("1200.00", "2026-02-12", ChargeType::ManagementFee),
            ],
            escrow_account: scenario::ESCROW_ACCOUNT.into(),
            ..Default::default()
        })
        .await
        .or_logs(stack)
        .into_inner()
        .contract
        .expect("a contract");
    let water = contract.receivables[0].receivable_id.clone();
    let fee = contract.receivables[1].receivable_id.clone();
    let mut cycles = admin.clone();
    scenario::run_cycle(&mut cycles, "2026-02-13")
        .await
        .or_logs(stack);
    eventually("a dunning case", EVENTUALLY, || async {
        Ok(scenario::dunning_cases(li, &customer)
            .await?
            .into_iter()
            .find(|c| c.status == "active" && c.items.len() == 2))
    })
    .await
    .or_logs(stack);
    (customer, contract, water, fee)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_disputed_item_leaves_the_next_notice_and_the_sla_breaches_at_48_hours_r_d8() {
    let (stack, admin) = start().await;
    let mut li =
        Clients::as_user(&stack, "li.na", &[Role::Collector], Some("east")).or_logs(&stack);
    let (customer, _contract, water, fee) =
        water_and_fee(&stack, &admin, &mut li, "褚十四", "PM-DISPUTE-1").await;
    let mut cycles = admin.clone();
    // The debtor disputes the water charge ("the meter is wrong").
    let open = |key: &str| dunning::OpenDisputeRequest {
        idempotency_key: key.to_owned(),
        customer_id: customer.clone(),
        receivable_ids: vec![water.clone()],
        reason: "水表读数有误".into(),
    };
    let dispute = li
        .dunning
        .open_dispute(open("dispute-1"))
        .await
        .or_logs(&stack)
        .into_inner()
        .dispute
        .expect("a dispute");
    assert_eq!(dispute.status, dunning::DisputeStatus::Open as i32);
    assert_eq!(dispute.assignee, "li.na");
    assert_eq!(dispute.sla_hours, 48);
    let opened = chrono::DateTime::parse_from_rfc3339(&dispute.opened_at).expect("a time");
    let deadline = chrono::DateTime::parse_from_rfc3339(&dispute.deadline).expect("a time");
    assert_eq!(deadline - opened, chrono::Duration::hours(48));
    // The same request again is the same dispute; the item cannot be disputed twice.
    let again = li
        .dunning
        .open_dispute(open("dispute-1"))
        .await
        .or_logs(&stack)
        .into_inner()
        .dispute
        .expect("a dispute");
    assert_eq!(again.dispute_id, dispute.dispute_id);
    let twice = li
        .dunning
        .open_dispute(open("dispute-2"))
        .await
        .expect_err("already disputed");
    assert_eq!(twice.code(), tonic::Code::InvalidArgument);
    assert!(
        twice.message().starts_with("receivable_ids[0]"),
        "{}",
        twice.message()
    );

    // The next notice covers the management fee only.
    scenario::run_cycle(&mut cycles, "2026-02-20")
        .await
        .or_logs(&stack);
    let case = scenario::dunning_cases(&li, &customer)
        .await
        .or_logs(&stack)
        .into_iter()
        .find(|c| c.status == "active")
        .expect("the case");
    let notice = eventually("the notice", EVENTUALLY, || async {
        let actions = scenario::dunning_actions(&li, &case.case_id).await?;
        Ok(actions.into_iter().find(|a| a.step == "notice"))
    })
    .await
    .or_logs(&stack);
    assert_eq!(notice.receivable_ids, std::slice::from_ref(&fee));
    assert_eq!(
        notice.amount.as_ref().map(|m| m.amount.as_str()),
        Some("1200.00")
    );
    let document = li
        .dunning
        .get_notice(dunning::GetNoticeRequest {
            notice_id: notice.notice_id.clone(),
        })
        .await
        .or_logs(&stack)
        .into_inner();
    assert!(document.html.contains("物业管理费"));
    assert!(
        !document.html.contains("水费"),
        "the disputed water charge is not dunned"
    );

    // Unanswered: nothing a minute before 48 hours, breached at 48 hours.
    let mut clock = admin.dunning.clone();
    clock
        .move_clock(dunning::MoveClockRequest {
            seconds: 48 * 3600 - 60,
        })
        .await
        .or_logs(&stack);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = disputes(&li, &customer).await.or_logs(&stack);
    assert_eq!(before[0].breached_at, "", "not yet");
    clock
        .move_clock(dunning::MoveClockRequest { seconds: 60 })
        .await
        .or_logs(&stack);
    let breached = eventually("the SLA breached", EVENTUALLY, || async {
        let d = disputes(&li, &customer).await?;
        Ok(d.into_iter().find(|d| !d.breached_at.is_empty()))
    })
    .await
    .or_logs(&stack);
    assert_eq!(
        breached.breached_at, dispute.deadline,
        "exactly at the deadline"
    );
    let tasks = li
        .dunning
        .clone()
        .list_tasks(dunning::ListTasksRequest {
            customer_id: customer.clone(),
            ..Default::default()
        })
        .await
        .or_logs(&stack)
        .into_inner()
        .tasks;
    let queued = tasks
        .iter()
        .find(|t| t.step == "dispute_sla_breached")
        .expect("a task for the assignee");
    assert_eq!(queued.assignee, "li.na");
    assert_eq!(queued.due_at, dispute.deadline);

    // The collector's command shows the breach.
    let token = stack
        .auth
        .token("li.na", &[Role::Collector], Some("east"))
        .or_logs(&stack);
    let listed = crate::operator_cli::collectctl_ok(
        &stack,
        &token,
        &["dunning", "disputes", "list", &customer],
    );
    assert!(
        listed.contains("open  on 1 item(s)") && listed.contains("SLA BREACHED at"),
        "{listed}"
    );

    // Resolved: the debtor was wrong, dunning resumes for the water charge; once only.
    let resolve = dunning::ResolveDisputeRequest {
        dispute_id: dispute.dispute_id.clone(),
        resolution: dunning::DisputeStatus::Rejected as i32,
        note: "meter checked: reading correct".into(),
        relief: Vec::new(),
    };
    let resolved = li
        .dunning
        .resolve_dispute(resolve.clone())
        .await
        .or_logs(&stack)
        .into_inner()
        .dispute
        .expect("the dispute");
    assert_eq!(resolved.status, dunning::DisputeStatus::Rejected as i32);
    assert_eq!(resolved.resolved_by, "li.na");
    let again = li
        .dunning
        .resolve_dispute(resolve)
        .await
        .expect_err("resolved already");
    assert_eq!(again.code(), tonic::Code::FailedPrecondition);
    // The clock moves only in simulations, and only for admins (access table).
    let refused = li
        .dunning
        .move_clock(dunning::MoveClockRequest { seconds: 60 })
        .await
        .expect_err("not a collector's");
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upheld_dispute_ends_in_a_credit_that_another_person_approves_r_d8() {
    let (stack, admin) = start().await;
    let mut li =
        Clients::as_user(&stack, "li.na", &[Role::Collector], Some("east")).or_logs(&stack);
    let zhao =
        Clients::as_user(&stack, "zhao.lei", &[Role::Supervisor], Some("east")).or_logs(&stack);
    let (customer, contract, water, fee) =
        water_and_fee(&stack, &admin, &mut li, "卫十六", "PM-DISPUTE-2").await;
    let dispute = li
        .dunning
        .open_dispute(dunning::OpenDisputeRequest {
            idempotency_key: "dispute-credit".into(),
            customer_id: customer.clone(),
            receivable_ids: vec![water.clone()],
            reason: "水表坏了，读数不对".into(),
        })
        .await
        .or_logs(&stack)
        .into_inner()
        .dispute
        .expect("a dispute");
    let relief = |receivable: &str, amount: &str| dunning::DisputeRelief {
        receivable_id: receivable.to_owned(),
        component: proto::types::v1::Component::Principal as i32,
        amount: amount.to_owned(),
    };
    let resolve = |relief: Vec<dunning::DisputeRelief>, resolution: dunning::DisputeStatus| {
        dunning::ResolveDisputeRequest {
            dispute_id: dispute.dispute_id.clone(),
            resolution: resolution as i32,
            note: "meter was broken; the charge is void".into(),
            relief,
        }
    };
    // Relief names a disputed item, and only an upheld dispute has any.
    let not_disputed = li
        .dunning
        .resolve_dispute(resolve(
            vec![relief(&fee, "1200.00")],
            dunning::DisputeStatus::Upheld,
        ))
        .await
        .expect_err("relief on an item not disputed");
    assert_eq!(not_disputed.code(), tonic::Code::InvalidArgument);
    assert!(
        not_disputed
            .message()
            .starts_with("relief[0].receivable_id"),
        "{}",
        not_disputed.message()
    );
    let rejected_with_relief = li
        .dunning
        .resolve_dispute(resolve(
            vec![relief(&water, "80.00")],
            dunning::DisputeStatus::Rejected,
        ))
        .await
        .expect_err("relief on a rejected dispute");
    assert_eq!(rejected_with_relief.code(), tonic::Code::InvalidArgument);

    let upheld = li
        .dunning
        .resolve_dispute(resolve(
            vec![relief(&water, "80.00")],
            dunning::DisputeStatus::Upheld,
        ))
        .await
        .or_logs(&stack)
        .into_inner()
        .dispute
        .expect("the dispute");
    assert_eq!(upheld.status, dunning::DisputeStatus::Upheld as i32);

    // Contracts proposes the credit in the resolver's name; nothing is taken off yet.
    caught_up(&stack, "contracts", kit::events::DUNNING)
        .await
        .or_logs(&stack);
    let waivers = zhao
        .contracts
        .clone()
        .list_waivers(contracts::ListWaiversRequest {
            customer_id: customer.clone(),
            ..Default::default()
        })
        .await
        .or_logs(&stack)
        .into_inner()
        .waivers;
    assert_eq!(waivers.len(), 1, "{waivers:?}");
    let credit = &waivers[0];
    assert_eq!(
        (
            credit.receivable_id.as_str(),
            credit.component,
            credit.amount.as_ref().map(|m| m.amount.as_str()),
            credit.proposed_by.as_str(),
            credit.dispute_id.as_str(),
            credit.status,
        ),
        (
            water.as_str(),
            proto::types::v1::Component::Principal as i32,
            Some("80.00"),
            "li.na",
            dispute.dispute_id.as_str(),
            contracts::WaiverStatus::Proposed as i32
        )
    );
    // Another person approves it: the water charge is owed no more.
    let approved = zhao
        .contracts
        .clone()
        .approve_waiver(contracts::ApproveWaiverRequest {
            waiver_id: credit.waiver_id.clone(),
            note: "meter replaced; charge void".into(),
        })
        .await
        .or_logs(&stack)
        .into_inner();
    assert_eq!(
        approved.owed_after.and_then(|o| o.total).map(|m| m.amount),
        Some("0.00".to_owned())
    );
    let receivables = scenario::receivables(&mut li, &contract.contract_id)
        .await
        .or_logs(&stack);
    assert_eq!(scenario::open_amount(&receivables[0]), "0.00");
    assert_eq!(scenario::open_amount(&receivables[1]), "1200.00");
}
