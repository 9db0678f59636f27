//! The walking skeleton's money path, end to end.

use std::time::Duration;

use devstack::clients::{Clients, eventually};
use devstack::scenario::{self, bank_csv, open_amount};
use kit::auth::Role;
use proto::contracts::v1 as contracts;
use proto::dunning::v1 as dunning;
use proto::legal::v1 as legal;
use proto::payments::v1 as payments;
use proto::scoring::v1 as scoring;

use crate::helpers::{EVENTUALLY, OrLogs, start};

pub(crate) async fn grade(clients: &Clients, customer_id: &str) -> anyhow::Result<Option<String>> {
    Ok(score(clients, customer_id).await?.map(|s| s.grade))
}

/// The customer's score (pts-v1: points, grade, reasons, strategy), `None` before the first.
pub(crate) async fn score(
    clients: &Clients,
    customer_id: &str,
) -> anyhow::Result<Option<scoring::Score>> {
    let mut client = clients.scoring.clone();
    match client
        .get_score(scoring::GetScoreRequest {
            customer_id: customer_id.to_owned(),
        })
        .await
    {
        Ok(response) => Ok(response.into_inner().score),
        Err(status) if status.code() == tonic::Code::NotFound => Ok(None),
        Err(status) => Err(status.into()),
    }
}

async fn dunning_cases(
    clients: &Clients,
    customer_id: &str,
) -> anyhow::Result<Vec<dunning::DunningCase>> {
    scenario::dunning_cases(clients, customer_id).await
}

async fn steps(clients: &Clients, case_id: &str) -> anyhow::Result<Vec<String>> {
    Ok(scenario::dunning_actions(clients, case_id)
        .await?
        .into_iter()
        .map(|a| a.step)
        .collect())
}

async fn legal_cases(
    clients: &Clients,
    customer_id: &str,
) -> anyhow::Result<Vec<legal::LegalCase>> {
    scenario::legal_cases(clients, customer_id, None).await
}

async fn wait_grade(clients: &Clients, customer_id: &str, expected: &str) -> anyhow::Result<()> {
    eventually(&format!("grade {expected}"), EVENTUALLY, || async {
        Ok(grade(clients, customer_id).await?.filter(|g| g == expected))
    })
    .await
    .map(|_| ())
}

/// The steps of a case after a payment stopped it: the earlier ones, then "stopped".
fn with_stop(before: &[String]) -> Vec<&str> {
    before
        .iter()
        .map(String::as_str)
        .chain(["stopped"])
        .collect()
}

async fn wait_steps(clients: &Clients, case_id: &str, expected: &[&str]) -> anyhow::Result<()> {
    eventually(
        &format!("dunning steps {expected:?}"),
        EVENTUALLY,
        || async {
            let got = steps(clients, case_id).await?;
            Ok((got == expected).then_some(()))
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn contract_to_court_and_back() {
    let (stack, mut clients) = start().await;

    // A contract with three installments (R-C1).
    let customer = scenario::create_customer(&mut clients, "张三")
        .await
        .or_logs(&stack);
    let contract = scenario::create_contract(
        &mut clients,
        &customer,
        "HT-E2E-0001",
        &[
            ("10000.00", "2026-01-10"),
            ("20000.00", "2026-03-10"),
            ("30000.00", "2026-05-10"),
        ],
    )
    .await
    .or_logs(&stack);
    assert_eq!(contract.receivables.len(), 3);
    assert!(
        contract
            .receivables
            .iter()
            .all(|r| r.status == contracts::ReceivableStatus::Scheduled as i32)
    );
    let (i1, i2) = (
        contract.receivables[0].receivable_id.clone(),
        contract.receivables[1].receivable_id.clone(),
    );

    // The same command again returns the first result (client idempotency key).
    let again = scenario::create_contract(
        &mut clients,
        &customer,
        "HT-E2E-0001",
        &[
            ("10000.00", "2026-01-10"),
            ("20000.00", "2026-03-10"),
            ("30000.00", "2026-05-10"),
        ],
    )
    .await
    .or_logs(&stack);
    assert_eq!(again.contract_id, contract.contract_id);

    // Bad input names the field.
    let bad = clients
        .contracts
        .create_contract(contracts::CreateContractRequest {
            idempotency_key: "bad".into(),
            customer_id: customer.clone(),
            contract_no: "HT-E2E-BAD".into(),
            currency: "CNY".into(),
            installments: vec![contracts::Installment {
                amount: "10.001".into(),
                due_date: "2026-01-10".into(),
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .expect_err("three decimals in CNY are refused");
    assert_eq!(bad.code(), tonic::Code::InvalidArgument);
    assert!(
        bad.message().contains("installments[0].amount"),
        "{}",
        bad.message()
    );

    // A new customer starts at A once scoring has seen the contract: pts-v1 gives 815 of 1000
    // points, as a new relationship (tenure), no payment history and no bureau or income
    // data on file score in their low or missing bins (R-S1).
    wait_grade(&clients, &customer, "A").await.or_logs(&stack);

    // Time moves: nothing is overdue on the due date itself.
    let cycle = scenario::run_cycle(&mut clients, "2026-01-10")
        .await
        .or_logs(&stack);
    assert_eq!(cycle.overdue, 0);

    // The day after, installment 1 is overdue: the grade drops and dunning starts.
    let cycle = scenario::run_cycle(&mut clients, "2026-01-11")
        .await
        .or_logs(&stack);
    assert_eq!((cycle.newly_overdue, cycle.overdue), (1, 1));
    let receivables = scenario::receivables(&mut clients, &contract.contract_id)
        .await
        .or_logs(&stack);
    assert_eq!(
        receivables[0].status,
        contracts::ReceivableStatus::Overdue as i32
    );
    assert_eq!(receivables[0].days_overdue, 1);
    wait_grade(&clients, &customer, "BBB").await.or_logs(&stack);
    let case = eventually("a dunning case", EVENTUALLY, || async {
        Ok(dunning_cases(&clients, &customer)
            .await?
            .into_iter()
            .find(|c| c.status == "active"))
    })
    .await
    .or_logs(&stack);
    wait_steps(&clients, &case.case_id, &["reminder"])
        .await
        .or_logs(&stack);

    // Cycles only move forward; the same date again changes nothing.
    let repeat = scenario::run_cycle(&mut clients, "2026-01-11")
        .await
        .or_logs(&stack);
    assert!(repeat.already_ran);
    let earlier = scenario::run_cycle(&mut clients, "2026-01-05")
        .await
        .expect_err("time never goes back");
    assert_eq!(
        earlier
            .downcast_ref::<tonic::Status>()
            .map(tonic::Status::code),
        Some(tonic::Code::FailedPrecondition)
    );

    // Ten days overdue: the written notice.
    scenario::run_cycle(&mut clients, "2026-01-20")
        .await
        .or_logs(&stack);
    wait_steps(&clients, &case.case_id, &["reminder", "notice"])
        .await
        .or_logs(&stack);

    // 33 days and 10,000 yuan: escalated to legal (R-D7), which opens a case (R-L1).
    scenario::run_cycle(&mut clients, "2026-02-12")
        .await
        .or_logs(&stack);
    wait_steps(
        &clients,
        &case.case_id,
        &["reminder", "notice", "escalate_to_legal"],
    )
    .await
    .or_logs(&stack);
    // 33 days past due (60 of 180 points), a sixth of the balance overdue, and the legal
    // case (30 of 90): 610 points, BB (670 before legal's event arrives: BB too).
    wait_grade(&clients, &customer, "BB").await.or_logs(&stack);
    let legal_case = eventually("a legal case", EVENTUALLY, || async {
        Ok(legal_cases(&clients, &customer).await?.into_iter().next())
    })
    .await
    .or_logs(&stack);
    assert_eq!(
        legal_case.status,
        proto::types::v1::CaseStatus::Opened as i32
    );
    assert_eq!(
        legal_case
            .amount_claimed
            .as_ref()
            .map(|m| m.amount.as_str()),
        Some("10000.00")
    );
    assert_eq!(legal_case.receivables.len(), 1);
    assert_eq!(legal_case.receivables[0].receivable_id, i1);

    // Installment 2 falls overdue: a new dunning case for it; installment 1 is with legal (R-L5).
    scenario::run_cycle(&mut clients, "2026-03-15")
        .await
        .or_logs(&stack);
    let second = eventually("a second dunning case", EVENTUALLY, || async {
        Ok(dunning_cases(&clients, &customer)
            .await?
            .into_iter()
            .find(|c| c.status == "active"))
    })
    .await
    .or_logs(&stack);
    assert_ne!(second.case_id, case.case_id);
    assert_eq!(second.items.len(), 1);
    assert_eq!(second.items[0].receivable_id, i2);
    // Five days overdue: one step a day (R-D3), the most severe due: the early written notice
    // if dunning already knows the grade is B or worse (R-S4: notice from day 3), else the
    // reminder. Grades come on another topic, so either order of arrival is correct; what
    // follows must extend whichever it was.
    let before_payment = eventually("the second case's first steps", EVENTUALLY, || async {
        let got = steps(&clients, &second.case_id).await?;
        let settled = got == ["reminder"] || got == ["notice_early"];
        Ok(settled.then_some(got))
    })
    .await
    .or_logs(&stack);

    // A bank file pays installment 2; a malformed line is reported and the good line goes through.
    let file = bank_csv(&[
        [
            "2026-03-16",
            "20000.00",
            "CNY",
            "张三",
            "6222020000001234",
            "HT-E2E-0001/2",
        ],
        [
            "2026-03-16",
            "\"12,50\"",
            "CNY",
            "李四",
            "6222020000009999",
            "HT-E2E-0001/3",
        ],
    ]);
    let ingested = scenario::ingest(&mut clients, "bank-2026-03-16.csv", file.clone())
        .await
        .or_logs(&stack);
    assert!(!ingested.duplicate_file);
    assert_eq!(
        (
            ingested.lines_accepted,
            ingested.lines_rejected,
            ingested.payments_matched
        ),
        (1, 1, 1)
    );
    assert_eq!(ingested.errors.len(), 1);
    assert_eq!(
        (ingested.errors[0].line, ingested.errors[0].field.as_str()),
        (3, "amount")
    );

    let paid = eventually("installment 2 paid", EVENTUALLY, || async {
        let mut c = clients.clone();
        let r = scenario::receivables(&mut c, &contract.contract_id).await?;
        Ok((open_amount(&r[1]) == "0.00").then_some(r))
    })
    .await
    .or_logs(&stack);
    assert_eq!(paid[1].status, contracts::ReceivableStatus::Paid as i32);
    assert_eq!(open_amount(&paid[0]), "10000.00");
    // Dunning stops for the paid item at once (R-P10) and the case closes.
    wait_steps(&clients, &second.case_id, &with_stop(&before_payment))
        .await
        .or_logs(&stack);
    eventually("second case closed as paid", EVENTUALLY, || async {
        Ok(dunning_cases(&clients, &customer)
            .await?
            .into_iter()
            .find(|c| c.case_id == second.case_id && c.status == "paid"))
    })
    .await
    .or_logs(&stack);

    // The same file again changes nothing (R-P2) ...
    let repeat = scenario::ingest(&mut clients, "bank-2026-03-16.csv", file)
        .await
        .or_logs(&stack);
    assert!(repeat.duplicate_file);
    assert_eq!(repeat.file_id, ingested.file_id);
    // ... and the same transaction inside another file is not counted twice: it is held as
    // a DUPLICATE exception for a person (R-P5), never allocated.
    let overlap = bank_csv(&[[
        "2026-03-16",
        "20000.00",
        "CNY",
        "张三",
        "6222020000001234",
        "HT-E2E-0001/2",
    ]]);
    let overlap = scenario::ingest(&mut clients, "bank-2026-03-16-intraday.csv", overlap)
        .await
        .or_logs(&stack);
    assert!(!overlap.duplicate_file);
    assert_eq!(
        (
            overlap.lines_accepted,
            overlap.lines_duplicate,
            overlap.exceptions_raised
        ),
        (0, 1, 1)
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let held = scenario::open_exceptions(&clients).await.or_logs(&stack);
    let duplicate: Vec<_> = held.iter().filter(|e| e.kind == "DUPLICATE").collect();
    assert_eq!(duplicate.len(), 1, "{held:?}");
    // The person sees it is the intraday copy of the same transfer and closes it.
    clients
        .payments
        .resolve_exception(payments::ResolveExceptionRequest {
            exception_id: duplicate[0].exception_id.clone(),
            action: Some(payments::resolve_exception_request::Action::Dismiss(true)),
            note: "same transfer as in the day's file".into(),
        })
        .await
        .or_logs(&stack);
    let r = scenario::receivables(&mut clients, &contract.contract_id)
        .await
        .or_logs(&stack);
    assert_eq!(open_amount(&r[1]), "0.00");
    assert_eq!(
        steps(&clients, &second.case_id).await.or_logs(&stack),
        with_stop(&before_payment)
    );

    // Payment of installment 1 while the legal case is open: flagged for withdrawal (R-L4).
    let file = bank_csv(&[[
        "2026-03-20",
        "10000.00",
        "CNY",
        "张三",
        "6222020000001234",
        "HT-E2E-0001/1",
    ]]);
    scenario::ingest(&mut clients, "bank-2026-03-20.csv", file)
        .await
        .or_logs(&stack);
    let withdrawn = eventually("withdrawal flagged", EVENTUALLY, || async {
        Ok(legal_cases(&clients, &customer)
            .await?
            .into_iter()
            .find(|c| c.withdrawal_flagged))
    })
    .await
    .or_logs(&stack);
    assert_eq!(withdrawn.case_id, legal_case.case_id);
    assert_eq!(
        withdrawn.status,
        proto::types::v1::CaseStatus::Opened as i32
    );
    assert!(withdrawn.withdrawal_flagged);
    assert_eq!(
        withdrawn.amount_claimed.as_ref().map(|m| m.amount.as_str()),
        Some("0.00")
    );
    // Nothing past due any more, but two late payments, none of the amount paid on time and a
    // legal case in the history: 670 points, BB (scorecard pts-v1).
    wait_grade(&clients, &customer, "BB").await.or_logs(&stack);

    // An unmatched payment lands in the exception queue with its reason (R-P5).
    let file = bank_csv(&[[
        "2026-03-21",
        "777.00",
        "CNY",
        "王五",
        "6222020000005555",
        "房款",
    ]]);
    let unmatched = scenario::ingest(&mut clients, "bank-2026-03-21.csv", file)
        .await
        .or_logs(&stack);
    assert_eq!(unmatched.exceptions_raised, 1);
    let exceptions = scenario::open_exceptions(&clients).await.or_logs(&stack);
    assert_eq!(exceptions.len(), 1);
    assert_eq!(exceptions[0].kind, "NO_CANDIDATE");

    // A payment for a contract payments does not know yet waits as an exception and is
    // matched as soon as the contract is signed (the read model may lag; R-P4, R-P5).
    let file = bank_csv(&[[
        "2026-03-22",
        "500.00",
        "CNY",
        "张三",
        "6222020000001234",
        "HT-E2E-LATE/1",
    ]]);
    let early = scenario::ingest(&mut clients, "bank-2026-03-22.csv", file)
        .await
        .or_logs(&stack);
    assert_eq!(early.exceptions_raised, 1);
    // The open legal case holds the customer (R-L5): no new contract ...
    let held = scenario::create_contract(
        &mut clients,
        &customer,
        "HT-E2E-LATE",
        &[("500.00", "2026-06-30")],
    )
    .await
    .expect_err("on credit hold");
    let held = held.downcast_ref::<tonic::Status>().expect("a gRPC status");
    assert_eq!(held.code(), tonic::Code::FailedPrecondition);
    assert!(held.message().contains("legal_case"), "{}", held.message());
    // ... unless a supervisor of the customer's team allows this one (recorded, R-C9).
    clients
        .contracts
        .reassign_owner(contracts::ReassignOwnerRequest {
            target: Some(contracts::reassign_owner_request::Target::CustomerId(
                customer.clone(),
            )),
            owner: "col-zhao".into(),
            owner_team: "east".into(),
            reason: "east team takes the legal follow-up".into(),
        })
        .await
        .or_logs(&stack);
    Clients::as_user(&stack, "sup-east", &[Role::Supervisor], Some("east"))
        .or_logs(&stack)
        .contracts
        .override_credit_hold(contracts::OverrideCreditHoldRequest {
            customer_id: customer.clone(),
            contract_no: "HT-E2E-LATE".into(),
            reason: "parking space sold with the settlement".into(),
        })
        .await
        .or_logs(&stack);
    let late = scenario::create_contract(
        &mut clients,
        &customer,
        "HT-E2E-LATE",
        &[("500.00", "2026-06-30")],
    )
    .await
    .or_logs(&stack);
    eventually("the early payment allocated", EVENTUALLY, || async {
        let mut c = clients.clone();
        let r = scenario::receivables(&mut c, &late.contract_id).await?;
        Ok((open_amount(&r[0]) == "0.00").then_some(()))
    })
    .await
    .or_logs(&stack);
    let exceptions = scenario::open_exceptions(&clients).await.or_logs(&stack);
    assert_eq!(
        exceptions
            .iter()
            .map(|e| e.reference.as_str())
            .collect::<Vec<_>>(),
        ["房款"]
    );

    // SIGTERM: every service finishes its in-flight work and exits cleanly.
    assert_eq!(
        stack.stop(|_| {}),
        Vec::<String>::new(),
        "services that did not shut down gracefully"
    );
}
