//! Amendments (R-C8; issue 12 item 5): a deferral, a discount and a fee change, each
//! proposed by one person and approved by a supervisor who is not the proposer, versioned
//! (the old schedule stays readable), followed by payments' read model and by dunning.

use kit::auth::Role;
use proto::contracts::v1 as contracts;
use proto::contracts::v1::amendment_terms::Kind;

use devstack::clients::{Clients, eventually};
use devstack::scenario::{self, bank_csv, open_amount};

use crate::helpers::{EVENTUALLY, OrLogs, start};
use crate::operator_cli::{collectctl, team_token, text};

const POLICY: &str =
    r#"{"name": "1 per mille a day", "accrual": {"kind": "flat_daily", "daily_rate": "1‰"}}"#;

async fn propose(
    clients: &mut Clients,
    key: &str,
    contract_id: &str,
    kind: Kind,
    reason: &str,
) -> Result<contracts::Amendment, tonic::Status> {
    clients
        .contracts
        .propose_amendment(contracts::ProposeAmendmentRequest {
            idempotency_key: key.into(),
            contract_id: contract_id.into(),
            terms: Some(contracts::AmendmentTerms { kind: Some(kind) }),
            reason: reason.into(),
        })
        .await
        .map(|r| r.into_inner().amendment.expect("amendment"))
}

async fn approve(
    clients: &mut Clients,
    amendment_id: &str,
) -> Result<contracts::ApproveAmendmentResponse, tonic::Status> {
    clients
        .contracts
        .approve_amendment(contracts::ApproveAmendmentRequest {
            amendment_id: amendment_id.into(),
        })
        .await
        .map(tonic::Response::into_inner)
}

async fn contract_at(clients: &mut Clients, id: &str, version: u32) -> contracts::Contract {
    clients
        .contracts
        .get_contract(contracts::GetContractRequest {
            key: Some(contracts::get_contract_request::Key::ContractId(id.into())),
            version,
        })
        .await
        .expect("GetContract")
        .into_inner()
        .contract
        .expect("contract")
}

fn item(contract: &contracts::Contract, no: u32) -> &contracts::Receivable {
    contract
        .receivables
        .iter()
        .find(|r| r.installment_no == no)
        .unwrap_or_else(|| panic!("installment {no} in {contract:?}"))
}

fn money(m: Option<&proto::types::v1::Money>) -> &str {
    m.map_or("", |m| m.amount.as_str())
}

#[tokio::test(flavor = "multi_thread")]
async fn amendments_need_another_supervisor_are_versioned_and_reach_payments_and_dunning() {
    let (stack, mut admin) = start().await;
    let mut li =
        Clients::as_user(&stack, "li.na", &[Role::Collector], Some("east")).or_logs(&stack);
    let mut chen =
        Clients::as_user(&stack, "chen.jie", &[Role::Supervisor], Some("east")).or_logs(&stack);
    let mut wu =
        Clients::as_user(&stack, "wu.fang", &[Role::Supervisor], Some("east")).or_logs(&stack);
    let mut wang =
        Clients::as_user(&stack, "wang.wu", &[Role::Collector], Some("west")).or_logs(&stack);

    let customer = scenario::create_customer(&mut li, "赵六")
        .await
        .or_logs(&stack);
    let contract = scenario::create_contract_with_policy(
        &mut li,
        &customer,
        "HT-AM-1",
        &[
            ("1000.00", "2026-03-10"),
            ("1000.00", "2026-04-10"),
            ("1000.00", "2026-05-10"),
        ],
        POLICY,
    )
    .await
    .or_logs(&stack);
    let id = contract.contract_id.clone();
    assert_eq!(contract.schedule_version, 1, "version 1 at signing");
    // Installment 1 is 10 days overdue: 10.00 late fee, and a dunning case.
    scenario::run_cycle(&mut admin, "2026-03-20")
        .await
        .or_logs(&stack);
    eventually("a dunning case for installment 1", EVENTUALLY, || {
        let (admin, customer) = (admin.clone(), customer.clone());
        async move {
            let cases = scenario::dunning_cases(&admin, &customer).await?;
            Ok(cases
                .iter()
                .any(|c| c.status == "active" && c.items.len() == 1)
                .then_some(()))
        }
    })
    .await
    .or_logs(&stack);

    // Another collector's customer is out of scope (R-O3).
    let deferral = Kind::Deferral(contracts::Deferral {
        installment_nos: vec![1],
        to_date: "2026-06-10".into(),
        by_days: 0,
    });
    let denied = propose(
        &mut wang,
        "am-wang",
        &id,
        deferral.clone(),
        "asked by phone",
    )
    .await
    .expect_err("not wang's customer");
    assert_eq!(denied.code(), tonic::Code::PermissionDenied, "{denied:?}");
    // Validation names the field and what to do.
    let bad = propose(
        &mut li,
        "am-bad",
        &id,
        Kind::Deferral(contracts::Deferral {
            installment_nos: vec![1, 7],
            to_date: "2026-06-10".into(),
            by_days: 0,
        }),
        "asked by phone",
    )
    .await
    .expect_err("no installment 7");
    assert_eq!(bad.code(), tonic::Code::InvalidArgument);
    assert!(
        bad.message().contains("terms.deferral.installment_nos[1]")
            && bad.message().contains("1, 2, 3"),
        "{}",
        bad.message()
    );

    // The collector proposes a deferral of installment 1; nothing changes yet.
    let proposed = propose(
        &mut li,
        "am-1",
        &id,
        deferral.clone(),
        "lost job, asked for 3 months",
    )
    .await
    .or_logs(&stack);
    assert_eq!(proposed.proposed_by, "li.na");
    assert_eq!(proposed.status, contracts::AmendmentStatus::Proposed as i32);
    let again = propose(
        &mut li,
        "am-1",
        &id,
        deferral,
        "lost job, asked for 3 months",
    )
    .await
    .or_logs(&stack);
    assert_eq!(again.amendment_id, proposed.amendment_id, "idempotent");
    assert_eq!(
        item(&contract_at(&mut li, &id, 0).await, 1).due_date,
        "2026-03-10"
    );
    // A collector never approves (the role table), not even their own proposal.
    let refused = approve(&mut li, &proposed.amendment_id)
        .await
        .expect_err("collectors do not approve");
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    // A supervisor of the team approves: version 2, with the new due date and the fee kept.
    let approved = approve(&mut chen, &proposed.amendment_id)
        .await
        .or_logs(&stack);
    let a = approved.amendment.expect("amendment");
    assert_eq!(a.status, contracts::AmendmentStatus::Approved as i32);
    assert_eq!(
        (a.decided_by.as_str(), a.base_version, a.version),
        ("chen.jie", 1, 2)
    );
    let v2 = contract_at(&mut li, &id, 0).await;
    assert_eq!((v2.schedule_version, v2.current_schedule_version), (2, 2));
    assert_eq!(item(&v2, 1).due_date, "2026-06-10");
    assert_eq!(
        money(item(&v2, 1).late_fee.as_ref()),
        "10.00",
        "accrued fee stays"
    );
    assert_eq!(
        item(&v2, 1).status,
        contracts::ReceivableStatus::Scheduled as i32
    );
    // R-C8: the old schedule stays readable.
    let v1 = contract_at(&mut li, &id, 1).await;
    assert_eq!((v1.schedule_version, v1.current_schedule_version), (1, 2));
    assert_eq!(item(&v1, 1).due_date, "2026-03-10");
    assert_eq!(
        item(&v1, 1).status,
        contracts::ReceivableStatus::Overdue as i32
    );
    // A decided amendment is not decided again.
    let twice = approve(&mut wu, &proposed.amendment_id)
        .await
        .expect_err("approved already");
    assert_eq!(twice.code(), tonic::Code::FailedPrecondition);

    // Dunning: installment 1 is not overdue any more; the case has nothing left and ends.
    eventually("dunning paused for the deferred item", EVENTUALLY, || {
        let (admin, customer) = (admin.clone(), customer.clone());
        async move {
            let cases = scenario::dunning_cases(&admin, &customer).await?;
            Ok(cases
                .iter()
                .any(|c| {
                    c.status == "amended"
                        && c.items
                            .iter()
                            .all(|i| i.status == "deferred" && i.due_date == "2026-06-10")
                })
                .then_some(()))
        }
    })
    .await
    .or_logs(&stack);

    // Payments' read model has the new due date (it may be a moment behind contracts) ...
    let payments_db = sqlx::PgPool::connect(&stack.database_urls["payments"])
        .await
        .or_logs(&stack);
    let read_model = |no: i32| {
        let pool = payments_db.clone();
        move || {
            let pool = pool.clone();
            async move {
                let row: Option<(chrono::NaiveDate, rust_decimal::Decimal)> = sqlx::query_as(
                    // The principal open (open_amount is everything owed, R-D12).
                    "SELECT due_date, open_amount - costs - interest - late_fee FROM payments.open_receivables
                     WHERE contract_no = 'HT-AM-1' AND installment_no = $1",
                )
                .bind(no)
                .fetch_optional(&pool)
                .await?;
                anyhow::Ok(row.map(|(due, open)| (due.to_string(), open.normalize().to_string())))
            }
        }
    };
    let seen = read_model(1);
    eventually("payments sees the deferral", EVENTUALLY, || {
        let next = seen();
        async move { Ok(next.await?.filter(|(due, _)| due == "2026-06-10")) }
    })
    .await
    .or_logs(&stack);
    // ... so 1000.00 naming only the contract goes to the earliest due item (R-P11), which
    // is installment 2 now, not the formerly overdue installment 1.
    scenario::ingest(
        &mut admin,
        "am-2026-03-21.csv",
        bank_csv(&[["2026-03-21", "1000.00", "CNY", "赵六", "", "HT-AM-1"]]),
    )
    .await
    .or_logs(&stack);
    eventually("installment 2 paid", EVENTUALLY, || {
        let (mut admin, id) = (admin.clone(), id.clone());
        async move {
            let r = scenario::receivables(&mut admin, &id).await?;
            let open: Vec<&str> = r.iter().map(open_amount).collect();
            Ok((open == ["1000.00", "0.00", "1000.00"]).then_some(()))
        }
    })
    .await
    .or_logs(&stack);

    // Installment 3 falls overdue and is dunned for 1000.00 (10.00 late fee by May 20).
    scenario::run_cycle(&mut admin, "2026-05-20")
        .await
        .or_logs(&stack);
    let open_in_dunning = |amount: &'static str| {
        let (admin, customer) = (admin.clone(), customer.clone());
        move || {
            let (admin, customer) = (admin.clone(), customer.clone());
            async move {
                let cases = scenario::dunning_cases(&admin, &customer).await?;
                Ok(cases
                    .iter()
                    .filter(|c| c.status == "active")
                    .flat_map(|c| c.items.iter())
                    .any(|i| i.status == "open" && money(i.open_amount.as_ref()) == amount)
                    .then_some(()))
            }
        }
    };
    eventually(
        "installment 3 dunned",
        EVENTUALLY,
        open_in_dunning("1000.00"),
    )
    .await
    .or_logs(&stack);

    // A discount proposed by a supervisor: R-C8, the proposer cannot approve it; another
    // supervisor can.
    let discount = propose(
        &mut chen,
        "am-2",
        &id,
        Kind::Discount(contracts::Discount {
            installment_nos: vec![3],
            amount: "100.00".into(),
            percent: String::new(),
        }),
        "hardship, R-D6",
    )
    .await
    .or_logs(&stack);
    let own = approve(&mut chen, &discount.amendment_id)
        .await
        .expect_err("R-C8: not the proposer");
    assert_eq!(own.code(), tonic::Code::PermissionDenied);
    assert!(own.message().contains("R-C8"), "{}", own.message());
    let more_than_open = propose(
        &mut chen,
        "am-2b",
        &id,
        Kind::Discount(contracts::Discount {
            installment_nos: vec![2],
            amount: "1.00".into(),
            percent: String::new(),
        }),
        "paid items cannot be discounted",
    )
    .await
    .expect_err("installment 2 is paid");
    assert!(
        more_than_open.message().contains("is paid"),
        "{}",
        more_than_open.message()
    );
    approve(&mut wu, &discount.amendment_id)
        .await
        .or_logs(&stack);
    let v3 = contract_at(&mut li, &id, 0).await;
    assert_eq!(v3.schedule_version, 3);
    assert_eq!(
        (
            money(item(&v3, 3).amount.as_ref()),
            open_amount(item(&v3, 3))
        ),
        ("900.00", "900.00")
    );
    assert_eq!(
        money(item(&contract_at(&mut li, &id, 2).await, 3).amount.as_ref()),
        "1000.00"
    );
    // Dunning and payments follow the discounted open amount.
    eventually(
        "dunning sees 900.00 open",
        EVENTUALLY,
        open_in_dunning("900.00"),
    )
    .await
    .or_logs(&stack);
    let seen = read_model(3);
    eventually("payments sees 900 open", EVENTUALLY, || {
        let next = seen();
        async move { Ok(next.await?.filter(|(_, open)| open == "900")) }
    })
    .await
    .or_logs(&stack);
    // The late fee accrued before the discount stays owed (R-C8, R-D12).
    let (total, fee): (rust_decimal::Decimal, rust_decimal::Decimal) = sqlx::query_as(
        "SELECT open_amount, late_fee FROM payments.open_receivables
         WHERE contract_no = 'HT-AM-1' AND installment_no = 3",
    )
    .fetch_one(&payments_db)
    .await
    .or_logs(&stack);
    assert_eq!(
        (total.normalize().to_string(), fee.normalize().to_string()),
        ("910".to_owned(), "10".to_owned())
    );

    // A proposal withdrawn by its proposer; nobody else withdraws it.
    let withdrawn = propose(
        &mut li,
        "am-3",
        &id,
        Kind::Deferral(contracts::Deferral {
            installment_nos: vec![3],
            to_date: String::new(),
            by_days: 30,
        }),
        "customer changed their mind",
    )
    .await
    .or_logs(&stack);
    let not_yours = chen
        .contracts
        .withdraw_amendment(contracts::WithdrawAmendmentRequest {
            amendment_id: withdrawn.amendment_id.clone(),
        })
        .await
        .expect_err("only the proposer withdraws");
    assert_eq!(not_yours.code(), tonic::Code::PermissionDenied);
    let back = li
        .contracts
        .withdraw_amendment(contracts::WithdrawAmendmentRequest {
            amendment_id: withdrawn.amendment_id.clone(),
        })
        .await
        .or_logs(&stack)
        .into_inner()
        .amendment
        .expect("amendment");
    assert_eq!(back.status, contracts::AmendmentStatus::Withdrawn as i32);

    // A fee change through collectctl: no late fee from May 21; the 10.00 accrued stays.
    let li_token = team_token(&stack, "collector", "li.na", "east");
    let chen_token = team_token(&stack, "supervisor", "chen.jie", "east");
    let out = collectctl(
        &stack,
        Some(&li_token),
        &[
            "amendments",
            "propose",
            &id,
            "--fee-policy",
            "none",
            "--effective",
            "2026-05-21",
            "--reason",
            "settlement talks",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let fee: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(fee["status"], "proposed");
    let fee_id = fee["amendment_id"].as_str().expect("id").to_owned();
    let out = collectctl(&stack, Some(&li_token), &["amendments", "approve", &fee_id]);
    assert!(!out.status.success(), "a collector does not approve");
    let out = collectctl(
        &stack,
        Some(&chen_token),
        &["amendments", "approve", &fee_id],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("approved"),
        "{}",
        text(&out.stdout)
    );
    let v4 = contract_at(&mut li, &id, 0).await;
    assert_eq!((v4.schedule_version, v4.late_fee_policy.as_str()), (4, ""));
    assert_eq!(v4.late_fee_policy_changes.len(), 1);
    assert_eq!(v4.late_fee_policy_changes[0].effective_from, "2026-05-21");
    assert_eq!(contract_at(&mut li, &id, 3).await.late_fee_policy, POLICY);
    scenario::run_cycle(&mut admin, "2026-05-25")
        .await
        .or_logs(&stack);
    let after = contract_at(&mut li, &id, 0).await;
    assert_eq!(
        money(item(&after, 3).late_fee.as_ref()),
        "10.00",
        "accrued through May 20 under the old terms, nothing after: {after:?}"
    );
    let out = collectctl(
        &stack,
        Some(&li_token),
        &["amendments", "list", "--contract", &id, "--json"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let statuses: Vec<&str> = listed["amendments"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|a| a["status"].as_str())
        .collect();
    assert_eq!(
        statuses,
        ["approved", "withdrawn", "approved", "approved"],
        "newest first"
    );
    let out = collectctl(&stack, Some(&li_token), &["amendments", "show", &fee_id]);
    assert!(
        out.status.success() && text(&out.stdout).contains("no late fee from 2026-05-21"),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    // The deferred installment falls overdue under its new due date: dunned again, with
    // the 10.00 it had accrued before the deferral and nothing after May 21 (fee change).
    scenario::run_cycle(&mut admin, "2026-06-20")
        .await
        .or_logs(&stack);
    let later = contract_at(&mut li, &id, 0).await;
    assert_eq!(item(&later, 1).days_overdue, 10, "{later:?}");
    assert_eq!(money(item(&later, 1).late_fee.as_ref()), "10.00");
    eventually("installment 1 dunned again", EVENTUALLY, || {
        let (admin, customer) = (admin.clone(), customer.clone());
        async move {
            let cases = scenario::dunning_cases(&admin, &customer).await?;
            Ok(cases
                .iter()
                .filter(|c| c.status == "active")
                .flat_map(|c| c.items.iter())
                .any(|i| i.status == "open" && i.due_date == "2026-06-10" && i.days_overdue == 10)
                .then_some(()))
        }
    })
    .await
    .or_logs(&stack);
    // Out of scope for another team's collector.
    let wang_list = wang
        .contracts
        .list_amendments(contracts::ListAmendmentsRequest::default())
        .await
        .or_logs(&stack)
        .into_inner();
    assert!(wang_list.amendments.is_empty(), "{wang_list:?}");
}
