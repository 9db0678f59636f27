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
        customer_of: 0,
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

/// One line of an import file: a new customer and a contract of two installments.
fn file_line(n: usize, currency: &str) -> String {
    serde_json::json!({
        "customer": {
            "name": format!("导入客户{n}"),
            "kind": "person",
            "payer_accounts": [format!("62220210000001{n:02}")]
        },
        "contract": {
            "contract_no": format!("HT-CLI-{n}"),
            "currency": currency,
            "escrow_account": ESCROW_ACCOUNT,
            "installments": [
                {"amount": "1000.00", "due_date": "2027-01-10", "kind": "down_payment"},
                {"amount": "2000.00", "due_date": "2027-02-10"}
            ],
            "late_fee_policy": {"name": "1 per mille a day", "accrual": {"kind": "flat_daily", "daily_rate": "1‰"}}
        }
    })
    .to_string()
}

/// Writes `lines` as the import file `name` in `dir`: its path, and the path of an --out
/// file beside it.
/// `collectctl contracts import FILE --batch 2 --out OUT`: two signings a call.
fn batch_of_two<'a>(file_arg: &'a str, out_arg: &'a str) -> Vec<&'a str> {
    vec![
        "contracts",
        "import",
        file_arg,
        "--batch",
        "2",
        "--out",
        out_arg,
    ]
}

fn import_file(
    dir: &std::path::Path,
    name: &str,
    lines: &[String],
) -> std::io::Result<(String, std::path::PathBuf)> {
    let file = dir.join(name);
    std::fs::write(&file, lines.join("\n"))?;
    Ok((file.display().to_string(), dir.join("created.jsonl")))
}

/// What `collectctl contracts import --out` wrote: the text and its rows.
fn created_rows(out: &std::path::Path) -> anyhow::Result<(String, Vec<serde_json::Value>)> {
    let created = std::fs::read_to_string(out)?;
    let rows = created
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    Ok((created, rows))
}

/// `collectctl contracts import` (R-O5): a supervisor signs a portfolio from a JSON Lines
/// file in calls of --batch signings, with a progress line per call and the ids written to
/// --out; the same file again answers with the same ids; a line the service refuses is
/// named by its line number with what the calls before it imported, and the corrected file
/// then imports the rest; a line that does not parse is named and nothing is sent; a
/// collector may not import.
#[tokio::test(flavor = "multi_thread")]
async fn collectctl_imports_a_file_in_calls_and_names_the_line_refused_r_o5() {
    use crate::operator_cli::{collectctl, collectctl_ok, team_token, text};
    let (stack, mut clients) = start().await;
    let supervisor = team_token(&stack, "supervisor", "chen.li", "east");
    // A customer chen.li already looks after (R-C9: a supervisor signs within their team).
    let mut chen =
        Clients::as_user(&stack, "chen.li", &[Role::Supervisor], Some("east")).or_logs(&stack);
    let known = scenario::create_customer(&mut chen, "老客户")
        .await
        .or_logs(&stack);
    let dir = tempfile::tempdir().or_logs(&stack);
    let mut lines: Vec<String> = (0..4).map(|n| file_line(n, "CNY")).collect();
    // A contract for a customer already known, and a comment.
    lines.push(
        serde_json::json!({"contract": {
            "customer_id": known, "contract_no": "HT-CLI-4", "currency": "CNY",
            "escrow_account": ESCROW_ACCOUNT,
            "installments": [{"amount": "500.00", "due_date": "2027-03-10"}]
        }})
        .to_string(),
    );
    lines.insert(0, "# opening day, tower 3".to_owned());
    let (file_arg, out) = import_file(dir.path(), "portfolio.jsonl", &lines).or_logs(&stack);
    let out_arg = out.display().to_string();
    let args = batch_of_two(&file_arg, &out_arg);
    let run = collectctl(&stack, Some(&supervisor), &args);
    assert!(run.status.success(), "{}", text(&run.stderr));
    assert!(
        text(&run.stdout)
            .contains("imported 5 contracts (4 new customers, 9 receivables) in 3 calls"),
        "{}",
        text(&run.stdout)
    );
    let progress = text(&run.stderr);
    assert!(
        progress.contains("2 of 5 signings (1 of 3 calls)"),
        "{progress}"
    );
    assert!(
        progress.contains("5 of 5 signings (3 of 3 calls)"),
        "{progress}"
    );
    let (created, rows) = created_rows(&out).or_logs(&stack);
    assert_eq!(rows.len(), 5);
    assert_eq!(
        rows.iter().map(|r| r["line"].as_u64()).collect::<Vec<_>>(),
        [Some(2), Some(3), Some(4), Some(5), Some(6)]
    );
    assert_eq!(rows[4]["customer_id"], known);
    // The contracts are signed as the file says: the schedule and the late-fee terms.
    for (row, want) in rows.iter().zip([2, 2, 2, 2, 1]) {
        let contract_id = row["contract_id"].as_str().unwrap_or_default();
        let items = scenario::receivables(&mut clients, contract_id)
            .await
            .or_logs(&stack);
        assert_eq!(items.len(), want, "{row}");
        assert_eq!(
            row["receivable_ids"].as_array().map(Vec::len),
            Some(want),
            "{row}"
        );
    }
    // The same file again: the same ids, nothing signed twice.
    let again = collectctl(&stack, Some(&supervisor), &args);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert_eq!(std::fs::read_to_string(&out).or_logs(&stack), created);

    // A line the service refuses: the calls before it went through, the line is named.
    let mut second: Vec<String> = (5..8).map(|n| file_line(n, "CNY")).collect();
    second[2] = file_line(7, "XYZ");
    let file2 = dir.path().join("second.jsonl");
    std::fs::write(&file2, second.join("\n")).or_logs(&stack);
    let file2_arg = file2.display().to_string();
    let refused = collectctl(
        &stack,
        Some(&supervisor),
        &["contracts", "import", &file2_arg, "--batch", "2"],
    );
    assert!(!refused.status.success());
    let err = text(&refused.stderr);
    assert!(
        err.contains("line 3: signings[0].contract.currency")
            && err.contains("the 2 signings before line 3 were imported")
            && err.contains("hint: correct line 3"),
        "{err}"
    );
    second[2] = file_line(7, "CNY");
    std::fs::write(&file2, second.join("\n")).or_logs(&stack);
    let fixed = collectctl_ok(
        &stack,
        &supervisor,
        &["contracts", "import", &file2_arg, "--batch", "2", "--json"],
    );
    let summary: serde_json::Value = serde_json::from_str(&fixed).or_logs(&stack);
    assert_eq!(summary["contracts"], 3, "{summary}");
    assert_eq!(summary["calls"], 2, "{summary}");

    // A line that does not parse: named, and nothing is sent.
    let bad = file_line(9, "CNY").replace(r#""1000.00""#, "1000.00");
    let file3 = dir.path().join("third.jsonl");
    std::fs::write(&file3, format!("{}\n{bad}\n", file_line(8, "CNY"))).or_logs(&stack);
    let file3_arg = file3.display().to_string();
    let unparsed = collectctl(
        &stack,
        Some(&supervisor),
        &["contracts", "import", &file3_arg],
    );
    assert!(!unparsed.status.success());
    let err = text(&unparsed.stderr);
    assert!(
        err.contains("line 2:") && err.contains("are strings") && err.contains("nothing was sent"),
        "{err}"
    );
    let contracts_db = sqlx::PgPool::connect(&stack.database_urls["contracts"])
        .await
        .or_logs(&stack);
    let (signed,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM contracts.contracts WHERE contract_no IN ('HT-CLI-8', 'HT-CLI-9')",
    )
    .fetch_one(&contracts_db)
    .await
    .or_logs(&stack);
    assert_eq!(signed, 0);

    // A collector may not import.
    let collector = team_token(&stack, "collector", "li.na", "east");
    let denied = collectctl(
        &stack,
        Some(&collector),
        &["contracts", "import", &file3_arg.replace("third", "second")],
    );
    assert!(!denied.status.success());
    let err = text(&denied.stderr);
    assert!(
        err.contains("PermissionDenied") && err.contains("hint:"),
        "{err}"
    );
}

/// A customer the import creates may sign more than one contract in it (a flat and a
/// parking space, R-O5): `customer_of` names the earlier signing that brings the customer,
/// and every contract is that customer's, with the accounts it brought (R-O4). A place that
/// names no earlier new customer is refused by its field and nothing is written. In a file,
/// `customer_ref` does the same across collectctl's calls.
#[tokio::test(flavor = "multi_thread")]
async fn an_import_signs_several_contracts_for_a_customer_it_creates_r_o5_r_o4() {
    use crate::operator_cli::{collectctl_ok, team_token};
    let (stack, _clients) = start().await;
    let mut sup =
        Clients::as_user(&stack, "sup-ref", &[Role::Supervisor], Some("team-r")).or_logs(&stack);
    let also = |no: &str, of: u32| contracts::ImportedSigning {
        customer: None,
        contract: Some(contract(no, &["80.00"])),
        customer_of: of,
    };
    let flat = |name: &str, no: &str| {
        signing(
            Some(customer(name, &["6222 0210 0000 7777"])),
            contract(no, &["900.00", "900.00"]),
        )
    };
    let contracts_db = sqlx::PgPool::connect(&stack.database_urls["contracts"])
        .await
        .or_logs(&stack);
    let signed = |pattern: &'static str| {
        let db = contracts_db.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM contracts.contracts WHERE contract_no LIKE $1",
            )
            .bind(pattern)
            .fetch_one(&db)
            .await
        }
    };

    // Refused, each naming the signing's field; nothing is written.
    let cases = [
        (
            vec![
                flat("甲", "HT-REF-1"),
                also("HT-REF-1P", 1),
                also("HT-REF-1Q", 2),
            ],
            "signings[2].customer_of",
            "signings[1] brings no new customer",
        ),
        (
            vec![
                flat("甲", "HT-REF-1"),
                also("HT-REF-1P", 3),
                flat("乙", "HT-REF-2"),
            ],
            "signings[1].customer_of",
            "not the place of an earlier signing",
        ),
        (
            vec![flat("甲", "HT-REF-1"), also("HT-REF-1P", 2)],
            "signings[1].customer_of",
            "not the place of an earlier signing",
        ),
        (
            vec![flat("甲", "HT-REF-1"), {
                let mut s = flat("乙", "HT-REF-2");
                s.customer_of = 1;
                s
            }],
            "signings[1].customer_of",
            "leave customer_of at 0",
        ),
        (
            vec![flat("甲", "HT-REF-1"), {
                let mut s = also("HT-REF-1P", 1);
                if let Some(c) = s.contract.as_mut() {
                    c.customer_id = uuid::Uuid::now_v7().to_string();
                }
                s
            }],
            "signings[1].contract.customer_id",
            "customer_of names signings[0]",
        ),
    ];
    for (n, (signings, field, why)) in cases.into_iter().enumerate() {
        let refused = import(&mut sup, &format!("ref-bad-{n}"), signings)
            .await
            .expect_err("refused");
        assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
        assert!(
            refused.message().contains(field) && refused.message().contains(why),
            "case {n}: {}",
            refused.message()
        );
    }
    assert_eq!(
        signed("HT-REF-%").await.or_logs(&stack),
        0,
        "nothing half-written"
    );

    // Two customers, the first with three contracts, the second with one.
    let done = import(
        &mut sup,
        "ref-1",
        vec![
            flat("甲", "HT-REF-1"),
            also("HT-REF-1P", 1),
            flat("乙", "HT-REF-2"),
            also("HT-REF-1Q", 1),
        ],
    )
    .await
    .or_logs(&stack);
    let owners: Vec<&str> = done
        .contracts
        .iter()
        .map(|c| c.customer_id.as_str())
        .collect();
    assert_eq!(owners[0], owners[1]);
    assert_eq!(owners[0], owners[3]);
    assert_ne!(owners[0], owners[2]);
    let (customers,): (i64,) = sqlx::query_as(
        "SELECT count(DISTINCT customer_id) FROM contracts.contracts WHERE contract_no LIKE 'HT-REF-%'",
    )
    .fetch_one(&contracts_db)
    .await
    .or_logs(&stack);
    assert_eq!(customers, 2);
    // Payments can place money on the second contracts by the customer's account: their
    // events carried the account the first signing brought (as its blind index).
    let payments_db = sqlx::PgPool::connect(&stack.database_urls["payments"])
        .await
        .or_logs(&stack);
    eventually(
        "payments knows the second contracts' payer",
        EVENTUALLY,
        || {
            let p = payments_db.clone();
            async move {
                let (n,): (i64,) = sqlx::query_as(
                    "SELECT count(*) FROM payments.open_receivables
                 WHERE contract_no IN ('HT-REF-1P', 'HT-REF-1Q')
                   AND cardinality(payer_account_indexes) = 1",
                )
                .fetch_one(&p)
                .await?;
                Ok((n == 2).then_some(()))
            }
        },
    )
    .await
    .or_logs(&stack);

    // collectctl: customer_ref within a call and across calls (--batch 2 puts line 5 in
    // the third call, its customer in the second).
    let supervisor = team_token(&stack, "supervisor", "sup-ref", "team-r");
    let with_ref = |n: usize, reference: &str| {
        let mut line: serde_json::Value =
            serde_json::from_str(&file_line(n, "CNY")).expect("a JSON line");
        line["customer_ref"] = reference.into();
        line.to_string()
    };
    let also_line = |no: &str, reference: &str| {
        serde_json::json!({"customer_ref": reference, "contract": {
            "contract_no": no, "currency": "CNY", "escrow_account": ESCROW_ACCOUNT,
            "installments": [{"amount": "80.00", "due_date": "2027-03-10"}]
        }})
        .to_string()
    };
    let lines = [
        with_ref(20, "王家"),
        also_line("HT-CLI-20P", "王家"),
        with_ref(21, "李家"),
        with_ref(22, "赵家"),
        also_line("HT-CLI-21P", "李家"),
    ];
    let dir = tempfile::tempdir().or_logs(&stack);
    let (file_arg, out) = import_file(dir.path(), "families.jsonl", &lines).or_logs(&stack);
    let out_arg = out.display().to_string();
    let mut args = batch_of_two(&file_arg, &out_arg);
    args.push("--json");
    let summary: serde_json::Value =
        serde_json::from_str(&collectctl_ok(&stack, &supervisor, &args)).or_logs(&stack);
    assert_eq!(summary["contracts"], 5, "{summary}");
    assert_eq!(summary["new_customers"], 3, "{summary}");
    assert_eq!(summary["calls"], 3, "{summary}");
    let (created, rows) = created_rows(&out).or_logs(&stack);
    let customer_of = |i: usize| {
        rows[i]["customer_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(customer_of(1), customer_of(0), "same call");
    assert_eq!(customer_of(4), customer_of(2), "an earlier call's customer");
    assert_ne!(customer_of(3), customer_of(2));
    assert_ne!(customer_of(0), customer_of(2));
    // The same file again: the same ids.
    collectctl_ok(&stack, &supervisor, &args);
    assert_eq!(std::fs::read_to_string(&out).or_logs(&stack), created);
}
