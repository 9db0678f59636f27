//! ImportContracts (R-O5, issue 16): many signings in one call, all or nothing, under the
//! rules of CreateCustomer and CreateContract, and the other services learn every contract
//! as if each had been signed alone.

use devstack::clients::{Clients, eventually};
use devstack::scenario::{self, ESCROW_ACCOUNT};
use kit::auth::Role;
use proto::contracts::v1 as contracts;
use tonic::Code;

use crate::helpers::{EVENTUALLY, OrLogs, start};

fn customer(name: &str, accounts: &[&str]) -> contracts::CreateCustomerRequest {
    contracts::CreateCustomerRequest {
        name: name.to_owned(),
        kind: contracts::CustomerKind::Person as i32,
        payer_accounts: accounts.iter().map(|a| (*a).to_owned()).collect(),
        ..Default::default()
    }
}

fn contract(contract_no: &str, amounts: &[&str]) -> contracts::CreateContractRequest {
    contracts::CreateContractRequest {
        contract_no: contract_no.to_owned(),
        currency: "CNY".to_owned(),
        installments: amounts
            .iter()
            .enumerate()
            .map(|(i, a)| contracts::Installment {
                amount: (*a).to_owned(),
                due_date: format!("2027-0{}-10", i + 1),
                ..Default::default()
            })
            .collect(),
        escrow_account: ESCROW_ACCOUNT.to_owned(),
        ..Default::default()
    }
}

fn signing(
    customer: Option<contracts::CreateCustomerRequest>,
    contract: contracts::CreateContractRequest,
) -> contracts::ImportedSigning {
    contracts::ImportedSigning {
        customer,
        contract: Some(contract),
    }
}

async fn import(
    clients: &mut Clients,
    key: &str,
    signings: Vec<contracts::ImportedSigning>,
) -> Result<contracts::ImportContractsResponse, tonic::Status> {
    clients
        .contracts
        .import_contracts(contracts::ImportContractsRequest {
            idempotency_key: key.to_owned(),
            signings,
        })
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_import_signs_all_or_nothing_and_every_service_learns_it_r_o5_r_c1_r_c9_r_o4() {
    let (stack, clients) = start().await;
    let mut sup =
        Clients::as_user(&stack, "sup-imp", &[Role::Supervisor], Some("team-i")).or_logs(&stack);
    let known = scenario::create_customer(&mut sup, "老客户")
        .await
        .or_logs(&stack);
    let signings = || {
        vec![
            signing(
                Some(customer("进口甲", &["6222 0210 0000 1111"])),
                contract("HT-IMP-1", &["500.00", "500.00"]),
            ),
            signing(
                Some(customer("进口乙", &[])),
                contract("HT-IMP-2", &["300.00", "300.00", "300.00"]),
            ),
            signing(None, {
                let mut c = contract("HT-IMP-3", &["900.00"]);
                c.customer_id = known.clone();
                c
            }),
        ]
    };

    // A collector does not import (the access table: supervisors, admins, systems).
    let mut collector =
        Clients::as_user(&stack, "col-imp", &[Role::Collector], Some("team-i")).or_logs(&stack);
    let refused = import(&mut collector, "imp-1", signings())
        .await
        .expect_err("collectors sign one at a time");
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");

    // Bad input names the signing and the field, and writes nothing: the first signing's
    // contract number stays free.
    let mut bad = signings();
    if let Some(c) = bad[1].contract.as_mut() {
        c.installments[1].amount = "-5".into();
    }
    let refused = import(&mut sup, "imp-bad", bad).await.expect_err("refused");
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    assert!(
        refused
            .message()
            .contains("signings[1].contract.installments[1].amount"),
        "{}",
        refused.message()
    );
    let mut twice = signings();
    if let Some(c) = twice[2].contract.as_mut() {
        c.contract_no = "HT-IMP-1".into();
    }
    let refused = import(&mut sup, "imp-twice", twice)
        .await
        .expect_err("refused");
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    assert!(
        refused
            .message()
            .contains("signings[2].contract.contract_no")
            && refused.message().contains("signings[0]"),
        "{}",
        refused.message()
    );
    let lookup = |no: &str| {
        let mut c = clients.clone();
        let no = no.to_owned();
        async move {
            c.contracts
                .get_contract(contracts::GetContractRequest {
                    key: Some(contracts::get_contract_request::Key::ContractNo(no)),
                    version: 0,
                })
                .await
        }
    };
    assert_eq!(
        lookup("HT-IMP-1").await.expect_err("not signed").code(),
        Code::NotFound
    );

    // The import: one answer per signing, in order, the supervisor owning what they signed.
    let done = import(&mut sup, "imp-1", signings()).await.or_logs(&stack);
    let numbers: Vec<&str> = done
        .contracts
        .iter()
        .map(|c| c.contract_no.as_str())
        .collect();
    assert_eq!(numbers, ["HT-IMP-1", "HT-IMP-2", "HT-IMP-3"]);
    assert_eq!(done.contracts[2].customer_id, known);
    assert_ne!(done.contracts[0].customer_id, done.contracts[1].customer_id);
    for (answer, installments) in done.contracts.iter().zip([2, 3, 1]) {
        let signed = lookup(&answer.contract_no)
            .await
            .or_logs(&stack)
            .into_inner()
            .contract
            .expect("contract");
        assert_eq!(signed.contract_id, answer.contract_id);
        assert_eq!(signed.customer_id, answer.customer_id);
        assert_eq!(signed.owner, "sup-imp", "R-C9: whoever signs owns it");
        assert_eq!(signed.owner_team, "team-i");
        let ids: Vec<&str> = signed
            .receivables
            .iter()
            .map(|r| r.receivable_id.as_str())
            .collect();
        assert_eq!(ids.len(), installments);
        assert_eq!(ids, answer.receivable_ids, "schedule order");
    }

    // The same import again answers as the first; the same key with other signings is
    // refused; a contract number taken already refuses the whole import.
    let again = import(&mut sup, "imp-1", signings()).await.or_logs(&stack);
    assert_eq!(again, done);
    let mut other = signings();
    other.pop();
    let refused = import(&mut sup, "imp-1", other)
        .await
        .expect_err("same key");
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    let refused = import(
        &mut sup,
        "imp-2",
        vec![
            signing(
                Some(customer("进口丙", &[])),
                contract("HT-IMP-4", &["100.00"]),
            ),
            signing(
                Some(customer("进口丁", &[])),
                contract("HT-IMP-2", &["100.00"]),
            ),
        ],
    )
    .await
    .expect_err("taken");
    assert_eq!(refused.code(), Code::AlreadyExists, "{refused:?}");
    assert!(
        refused.message().contains("HT-IMP-2"),
        "{}",
        refused.message()
    );
    assert_eq!(
        lookup("HT-IMP-4").await.expect_err("not signed").code(),
        Code::NotFound,
        "nothing half-written"
    );

    // Payments can apply money to every imported receivable (R-O4: the payer account
    // travelled as its blind index), dunning reminds of each before it falls due (R-D1).
    let payments_db = sqlx::PgPool::connect(&stack.database_urls["payments"])
        .await
        .or_logs(&stack);
    let dunning_db = sqlx::PgPool::connect(&stack.database_urls["dunning"])
        .await
        .or_logs(&stack);
    eventually("payments and dunning know all six", EVENTUALLY, || {
        let (p, d) = (payments_db.clone(), dunning_db.clone());
        async move {
            let (known_here, indexed): (i64, i64) = sqlx::query_as(
                "SELECT count(*), count(*) FILTER (WHERE cardinality(payer_account_indexes) = 1)
                 FROM payments.open_receivables WHERE contract_no LIKE 'HT-IMP-%'",
            )
            .fetch_one(&p)
            .await?;
            let (reminded,): (i64,) = sqlx::query_as(
                "SELECT count(*) FROM dunning.upcoming WHERE contract_no LIKE 'HT-IMP-%'",
            )
            .fetch_one(&d)
            .await?;
            Ok((known_here == 6 && indexed == 2 && reminded == 6).then_some(()))
        }
    })
    .await
    .or_logs(&stack);

    // Too many in one call is refused with what to do.
    let many: Vec<_> = (0..1001)
        .map(|i| {
            signing(
                Some(customer(&format!("批量{i}"), &[])),
                contract(&format!("HT-MANY-{i}"), &["1.00"]),
            )
        })
        .collect();
    let refused = import(&mut sup, "imp-many", many)
        .await
        .expect_err("too many");
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    assert!(refused.message().contains("split"), "{}", refused.message());
}
