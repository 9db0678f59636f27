//! Issue 14 item 3 (R-D6): a repayment plan re-schedules what a debtor owes into installments.
//! The proposer never approves it, whatever their role, and an admin cannot either; above the
//! second-approval amount (50,000.00) a second person with the risk role approves too. Agreed,
//! contracts books it (late fee stops accruing) and the ladder holds where the legal hand-off
//! would otherwise have come; a missed installment breaks it: the ladder escalates, the owner
//! gets a call to make, the grade drops and the late fee accrues again.

use devstack::clients::{Clients, eventually};
use devstack::scenario::{self, bank_csv};
use kit::auth::Role;
use proto::contracts::v1 as contracts;
use proto::dunning::v1 as dunning;
use proto::types::v1::{ContactChannel, HoldReason, Money};

use crate::helpers::{EVENTUALLY, OrLogs, caught_up, start};
use crate::money_path::grade;

const POLICY: &str =
    r#"{"name": "1 per mille a day", "accrual": {"kind": "flat_daily", "daily_rate": "1‰"}}"#;

async fn plans(clients: &Clients, customer: &str) -> anyhow::Result<Vec<dunning::Plan>> {
    Ok(clients
        .dunning
        .clone()
        .list_plans(dunning::ListPlansRequest {
            customer_id: customer.to_owned(),
            ..Default::default()
        })
        .await?
        .into_inner()
        .plans)
}

async fn case(clients: &Clients, customer: &str) -> anyhow::Result<dunning::DunningCase> {
    scenario::dunning_cases(clients, customer)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("no case"))
}

async fn late_fee(clients: &mut Clients, contract_id: &str) -> anyhow::Result<String> {
    let r: contracts::Receivable = scenario::receivables(clients, contract_id)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("no receivable"))?;
    Ok(r.owed
        .and_then(|o| o.late_fee)
        .map(|m| m.amount)
        .unwrap_or_default())
}

fn approval(plan_id: &str, note: &str) -> dunning::ApprovePlanRequest {
    dunning::ApprovePlanRequest {
        plan_id: plan_id.to_owned(),
        note: note.to_owned(),
    }
}

fn status(plan: &dunning::Plan) -> dunning::PlanStatus {
    dunning::PlanStatus::try_from(plan.status).unwrap_or(dunning::PlanStatus::Unspecified)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plan_needs_two_other_people_holds_the_ladder_and_a_missed_installment_escalates_r_d6() {
    let (stack, admin) = start().await;
    let mut li =
        Clients::as_user(&stack, "li.na", &[Role::Collector], Some("east")).or_logs(&stack);
    let zhao =
        Clients::as_user(&stack, "zhao.lei", &[Role::Supervisor], Some("east")).or_logs(&stack);
    let sun = Clients::as_user(&stack, "sun.li", &[Role::Supervisor], Some("east")).or_logs(&stack);
    let qian = Clients::as_user(&stack, "qian.risk", &[Role::Risk], None).or_logs(&stack);
    let customer = scenario::create_customer(&mut li, "周十四")
        .await
        .or_logs(&stack);
    let contract = scenario::create_contract_with_policy(
        &mut li,
        &customer,
        "HT-PLAN-1",
        &[("60000.00", "2026-03-10")],
        POLICY,
    )
    .await
    .or_logs(&stack);
    let receivable = scenario::receivables(&mut li, &contract.contract_id)
        .await
        .or_logs(&stack)[0]
        .receivable_id
        .clone();
    let mut cycles = admin.clone();
    // Day 1 the reminder, day 7 the written notice (the compact policy); 7 days at 1‰ of
    // 60,000.00 = 420.00 late fee: 60,420.00 owed.
    for day in ["2026-03-11", "2026-03-17"] {
        scenario::run_cycle(&mut cycles, day).await.or_logs(&stack);
    }
    eventually("the notice", EVENTUALLY, || async {
        Ok((case(&li, &customer).await?.current_step == "notice").then_some(()))
    })
    .await
    .or_logs(&stack);

    // A supervisor proposes 3 monthly installments of 20,140.00 from 25 March, 2 grace days.
    let proposal = dunning::ProposePlanRequest {
        idempotency_key: "plan-HT-PLAN-1".into(),
        customer_id: customer.clone(),
        receivable_ids: vec![receivable.clone()],
        installments: Vec::new(),
        installment_count: 3,
        first_due_date: "2026-03-25".into(),
        grace_days: 2,
        reason: "lost his job in February; new one from April".into(),
    };
    // Bad input names the field and leaves nothing behind.
    let bad = zhao
        .dunning
        .clone()
        .propose_plan(dunning::ProposePlanRequest {
            idempotency_key: "bad-plan".into(),
            installments: vec![dunning::PlanInstallment {
                number: 1,
                due_date: "2026-03-25".into(),
                amount: Some(Money {
                    amount: "60000.00".into(),
                    currency: "CNY".into(),
                }),
                status: 0,
            }],
            installment_count: 0,
            ..proposal.clone()
        })
        .await
        .expect_err("installments short of what is owed");
    assert_eq!(bad.code(), tonic::Code::InvalidArgument);
    assert!(
        bad.message().starts_with("installments") && bad.message().contains("60420.00"),
        "{}",
        bad.message()
    );
    let plan = zhao
        .dunning
        .clone()
        .propose_plan(proposal.clone())
        .await
        .or_logs(&stack)
        .into_inner()
        .plan
        .expect("a plan");
    assert_eq!(status(&plan), dunning::PlanStatus::Proposed);
    assert_eq!(plan.proposed_by, "zhao.lei");
    assert!(plan.second_approval_required, "60,420.00 > 50,000.00");
    assert_eq!(
        plan.total.as_ref().map(|m| m.amount.as_str()),
        Some("60420.00")
    );
    assert_eq!(
        plan.installments
            .iter()
            .map(|i| (
                i.due_date.as_str(),
                i.amount.as_ref().map_or("", |m| m.amount.as_str())
            ))
            .collect::<Vec<_>>(),
        [
            ("2026-03-25", "20140.00"),
            ("2026-04-25", "20140.00"),
            ("2026-05-25", "20140.00")
        ]
    );
    assert_eq!(plans(&li, &customer).await.or_logs(&stack).len(), 1);

    // R-D6: the proposer cannot approve it although a supervisor; nor can an admin.
    let own = zhao
        .dunning
        .clone()
        .approve_plan(approval(&plan.plan_id, ""))
        .await
        .expect_err("the proposer approving");
    assert_eq!(own.code(), tonic::Code::PermissionDenied);
    assert!(own.message().contains("proposer"), "{}", own.message());
    let by_admin = admin
        .dunning
        .clone()
        .approve_plan(approval(&plan.plan_id, ""))
        .await
        .expect_err("an admin approving");
    assert_eq!(by_admin.code(), tonic::Code::PermissionDenied);

    // Another supervisor approves once; above the amount that is not enough, and the same
    // person cannot give the second approval; a risk approver can.
    let once = sun
        .dunning
        .clone()
        .approve_plan(approval(&plan.plan_id, "checked the payslips"))
        .await
        .or_logs(&stack)
        .into_inner()
        .plan
        .expect("a plan");
    assert_eq!(status(&once), dunning::PlanStatus::FirstApproved);
    assert_eq!(once.first_approved_by, "sun.li");
    let twice = sun
        .dunning
        .clone()
        .approve_plan(approval(&plan.plan_id, ""))
        .await
        .expect_err("the same approver twice");
    assert_eq!(twice.code(), tonic::Code::PermissionDenied);
    let agreed = qian
        .dunning
        .clone()
        .approve_plan(approval(&plan.plan_id, "within the hardship policy"))
        .await
        .or_logs(&stack)
        .into_inner()
        .plan
        .expect("a plan");
    assert_eq!(status(&agreed), dunning::PlanStatus::Active);
    assert_eq!(agreed.second_approved_by, "qian.risk");
    assert_eq!(agreed.agreed_on, "2026-03-17");
    assert_eq!(agreed.paused_step, "notice");

    // Contracts books it: the late fee stays at 420.00 while the plan is kept.
    caught_up(&stack, "contracts", kit::events::DUNNING)
        .await
        .or_logs(&stack);
    scenario::run_cycle(&mut cycles, "2026-03-20")
        .await
        .or_logs(&stack);
    assert_eq!(
        late_fee(&mut li, &contract.contract_id)
            .await
            .or_logs(&stack),
        "420.00",
        "no late fee accrues on a plan that is kept"
    );
    eventually("held for the plan", EVENTUALLY, || async {
        Ok((case(&li, &customer).await?.hold == HoldReason::RepaymentPlan as i32).then_some(()))
    })
    .await
    .or_logs(&stack);

    // The first installment on the 26th, inside its grace days.
    let file = bank_csv(&[[
        "2026-03-26",
        "20140.00",
        "CNY",
        "周十四",
        "6222020000001414",
        "HT-PLAN-1/1",
    ]]);
    let mut ingest = admin.clone();
    scenario::ingest(&mut ingest, "plan.csv", file)
        .await
        .or_logs(&stack);
    eventually("the installment counted", EVENTUALLY, || async {
        let p = plans(&li, &customer).await?;
        Ok(p.first()
            .and_then(|p| p.paid.as_ref())
            .filter(|m| m.amount == "20140.00")
            .map(|_| ()))
    })
    .await
    .or_logs(&stack);

    // Day 36 overdue, 40,280.00 open: without the plan the compact policy hands over to
    // legal from day 30 and 5,000.00; with it the ladder holds.
    scenario::run_cycle(&mut cycles, "2026-04-15")
        .await
        .or_logs(&stack);
    caught_up(&stack, "dunning", kit::events::CONTRACTS)
        .await
        .or_logs(&stack);
    let kept = eventually("judged kept", EVENTUALLY, || async {
        let p = plans(&li, &customer).await?;
        Ok(p.into_iter().next().filter(|p| {
            p.installments.first().map(|i| i.status)
                == Some(dunning::InstallmentStatus::Paid as i32)
        }))
    })
    .await
    .or_logs(&stack);
    assert_eq!(status(&kept), dunning::PlanStatus::Active);
    let held = case(&li, &customer).await.or_logs(&stack);
    assert_eq!(
        held.current_step, "notice",
        "no hand-off while the plan is kept"
    );
    assert_eq!(held.hold, HoldReason::RepaymentPlan as i32);
    let grade_before = grade(&admin, &customer).await.or_logs(&stack);

    // The second installment (25 April + 2 days) is missed: on the 28th the plan is broken.
    scenario::run_cycle(&mut cycles, "2026-04-28")
        .await
        .or_logs(&stack);
    let broken = eventually("the plan broken", EVENTUALLY, || async {
        let p = plans(&li, &customer).await?;
        Ok(p.into_iter()
            .find(|p| status(p) == dunning::PlanStatus::Broken))
    })
    .await
    .or_logs(&stack);
    assert_eq!(broken.ended_on, "2026-04-28");
    assert!(
        broken.end_reason.contains("installment 2 missed")
            && broken.end_reason.contains("40280.00 CNY due")
            && broken.end_reason.contains("20140.00 CNY paid"),
        "{}",
        broken.end_reason
    );
    assert_eq!(
        broken
            .installments
            .iter()
            .map(|i| i.status)
            .collect::<Vec<_>>(),
        [
            dunning::InstallmentStatus::Paid as i32,
            dunning::InstallmentStatus::Missed as i32,
            dunning::InstallmentStatus::Pending as i32
        ]
    );
    // The ladder escalates past the notice it paused at: to legal, the same day.
    let escalated = eventually("escalated", EVENTUALLY, || async {
        let c = case(&li, &customer).await?;
        Ok((c.current_step == "escalate_to_legal").then_some(c))
    })
    .await
    .or_logs(&stack);
    assert_ne!(escalated.hold, HoldReason::RepaymentPlan as i32);
    let tasks = crate::helpers::tasks_of(&li, &customer)
        .await
        .or_logs(&stack);
    let call = tasks
        .iter()
        .find(|t| t.step == "broken_plan")
        .expect("a call about the broken plan");
    assert_eq!(call.channel, ContactChannel::PhoneCall as i32);
    assert_eq!(call.assignee, "li.na");
    // Never a hand-off while the plan was kept: the legal step came on the day it broke.
    let steps: Vec<(String, String)> = scenario::dunning_actions(&li, &escalated.case_id)
        .await
        .or_logs(&stack)
        .into_iter()
        .filter(|a| a.step != "stopped")
        .map(|a| (a.step, a.business_date))
        .collect();
    assert_eq!(
        steps,
        [
            ("reminder".to_owned(), "2026-03-11".to_owned()),
            ("notice".to_owned(), "2026-03-17".to_owned()),
            ("escalate_to_legal".to_owned(), "2026-04-28".to_owned())
        ]
    );
    // Scoring counts the broken plan like a broken promise: pts-v1's broken_promises
    // indicator (one broken: 45 of 80 points). Not among the four reasons here: days past
    // due, nothing paid on time, all of it overdue and the legal case each cost more.
    caught_up(&stack, "scoring", kit::events::DUNNING)
        .await
        .or_logs(&stack);
    eventually("the broken plan in the score", EVENTUALLY, || async {
        let explained = admin
            .scoring
            .clone()
            .explain_score(proto::scoring::v1::ExplainScoreRequest {
                customer_id: customer.clone(),
            })
            .await?
            .into_inner();
        Ok(explained
            .indicators
            .into_iter()
            .find(|i| i.indicator == "broken_promises" && i.value == "1" && i.points == 45))
    })
    .await
    .or_logs(&stack);
    assert!(grade_before.is_some());

    // Contracts ends it too: the late fee accrues again, for the whole time.
    caught_up(&stack, "contracts", kit::events::DUNNING)
        .await
        .or_logs(&stack);
    scenario::run_cycle(&mut cycles, "2026-04-29")
        .await
        .or_logs(&stack);
    let revived: rust_decimal::Decimal = late_fee(&mut li, &contract.contract_id)
        .await
        .or_logs(&stack)
        .parse()
        .unwrap_or_default();
    assert!(
        revived > rust_decimal::Decimal::new(42_000, 2),
        "the relief is lost with the plan: {revived}"
    );

    // The collector's command shows the plan with its approvers and installments.
    let token = stack
        .auth
        .token("li.na", &[Role::Collector], Some("east"))
        .or_logs(&stack);
    let listed = crate::operator_cli::collectctl_ok(
        &stack,
        &token,
        &["dunning", "plans", "list", "--customer", &customer],
    );
    assert!(
        listed.contains("broken  60420.00 CNY over 1 item(s)")
            && listed.contains("approved by sun.li and qian.risk (risk)")
            && listed.contains("MISSED"),
        "{listed}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_waiver_above_the_second_approval_amount_needs_a_risk_approver_r_d6() {
    let (stack, admin) = crate::helpers::start_with(vec![(
        "WAIVER_SECOND_APPROVAL_ABOVE".to_owned(),
        "50.00".to_owned(),
    )])
    .await;
    let mut li =
        Clients::as_user(&stack, "li.na", &[Role::Collector], Some("east")).or_logs(&stack);
    let sun = Clients::as_user(&stack, "sun.li", &[Role::Supervisor], Some("east")).or_logs(&stack);
    let zhao =
        Clients::as_user(&stack, "zhao.lei", &[Role::Supervisor], Some("east")).or_logs(&stack);
    let qian = Clients::as_user(&stack, "qian.risk", &[Role::Risk], None).or_logs(&stack);
    let customer = scenario::create_customer(&mut li, "郑十五")
        .await
        .or_logs(&stack);
    let contract = scenario::create_contract_with_policy(
        &mut li,
        &customer,
        "HT-WAIVE-2",
        &[("10000.00", "2026-03-10")],
        POLICY,
    )
    .await
    .or_logs(&stack);
    // 10 days at 1‰ of 10,000.00: 100.00 late fee.
    let mut cycles = admin.clone();
    scenario::run_cycle(&mut cycles, "2026-03-20")
        .await
        .or_logs(&stack);
    assert_eq!(
        late_fee(&mut li, &contract.contract_id)
            .await
            .or_logs(&stack),
        "100.00"
    );
    let receivable = scenario::receivables(&mut li, &contract.contract_id)
        .await
        .or_logs(&stack)[0]
        .receivable_id
        .clone();
    let propose = |amount: &str| contracts::ProposeWaiverRequest {
        receivable_id: receivable.clone(),
        component: proto::types::v1::Component::LateFee as i32,
        amount: amount.to_owned(),
        reason: "water leak flooded the flat in March".to_owned(),
    };
    let approve = |waiver_id: &str| contracts::ApproveWaiverRequest {
        waiver_id: waiver_id.to_owned(),
        note: String::new(),
    };

    // 80.00 is above 50.00: the first approval books nothing.
    let big = li
        .contracts
        .clone()
        .propose_waiver(propose("80.00"))
        .await
        .or_logs(&stack)
        .into_inner()
        .waiver
        .expect("a waiver");
    assert!(big.second_approval_required);
    let once = sun
        .contracts
        .clone()
        .approve_waiver(approve(&big.waiver_id))
        .await
        .or_logs(&stack)
        .into_inner()
        .waiver
        .expect("a waiver");
    assert_eq!(once.status, contracts::WaiverStatus::FirstApproved as i32);
    assert_eq!(once.first_approved_by, "sun.li");
    assert_eq!(
        late_fee(&mut li, &contract.contract_id)
            .await
            .or_logs(&stack),
        "100.00",
        "nothing booked after the first approval"
    );
    // Not the same approver twice, not a supervisor without the risk role.
    let twice = sun
        .contracts
        .clone()
        .approve_waiver(approve(&big.waiver_id))
        .await
        .expect_err("the same approver");
    assert_eq!(twice.code(), tonic::Code::PermissionDenied);
    let no_risk = zhao
        .contracts
        .clone()
        .approve_waiver(approve(&big.waiver_id))
        .await
        .expect_err("a second supervisor");
    assert_eq!(no_risk.code(), tonic::Code::PermissionDenied);
    assert!(no_risk.message().contains("risk"), "{}", no_risk.message());
    let booked = qian
        .contracts
        .clone()
        .approve_waiver(approve(&big.waiver_id))
        .await
        .or_logs(&stack)
        .into_inner();
    let decided = booked.waiver.expect("a waiver");
    assert_eq!(decided.status, contracts::WaiverStatus::Approved as i32);
    assert_eq!(
        (
            decided.first_approved_by.as_str(),
            decided.decided_by.as_str()
        ),
        ("sun.li", "qian.risk")
    );
    assert_eq!(
        late_fee(&mut li, &contract.contract_id)
            .await
            .or_logs(&stack),
        "20.00"
    );

    // 20.00 is within the amount: one approver books it.
    let small = li
        .contracts
        .clone()
        .propose_waiver(propose("20.00"))
        .await
        .or_logs(&stack)
        .into_inner()
        .waiver
        .expect("a waiver");
    assert!(!small.second_approval_required);
    let done = zhao
        .contracts
        .clone()
        .approve_waiver(approve(&small.waiver_id))
        .await
        .or_logs(&stack)
        .into_inner()
        .waiver
        .expect("a waiver");
    assert_eq!(done.status, contracts::WaiverStatus::Approved as i32);
    assert_eq!(
        late_fee(&mut li, &contract.contract_id)
            .await
            .or_logs(&stack),
        "0.00"
    );
}
