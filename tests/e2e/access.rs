//! Who is calling (R-O3): every RPC of every service is refused without a valid credential,
//! every role gets exactly what the access table gives it, collectors see only their own
//! customers, systems may use client certificates, and every decision is in the audit trail.

use std::collections::BTreeMap;

use devstack::clients::{self, Clients, Credential};
use kit::auth::{Policy, Role};
use proto::audit::v1 as audit;
use proto::contracts::v1 as contracts;
use proto::contracts::v1::reassign_owner_request::Target;
use proto::dunning::v1 as dunning;
use proto::payments::v1 as payments;
use proto::scoring::v1 as scoring;
use tonic::Code;
use tonic::codegen::http::uri::PathAndQuery;

use crate::helpers::{EVENTUALLY, OrLogs, start};

/// Every RPC of the public APIs, as (service process, method path), from the descriptors
/// the servers are generated from. The audit API is served by all five.
fn every_rpc() -> Vec<(&'static str, String)> {
    use prost::Message as _;
    let set = prost_types::FileDescriptorSet::decode(proto::FILE_DESCRIPTOR_SET).expect("fds");
    let mut rpcs = Vec::new();
    for file in &set.file {
        let package = file.package();
        let processes: &[&'static str] = match package {
            "receivables.contracts.v1" => &["contracts"],
            "receivables.payments.v1" => &["payments"],
            "receivables.scoring.v1" => &["scoring"],
            "receivables.dunning.v1" => &["dunning"],
            "receivables.legal.v1" => &["legal"],
            "receivables.audit.v1" | "receivables.deadletters.v1" => {
                &["contracts", "payments", "scoring", "dunning", "legal"]
            }
            _ => &[],
        };
        for service in &file.service {
            for method in &service.method {
                for process in processes {
                    rpcs.push((
                        *process,
                        format!("/{package}.{}/{}", service.name(), method.name()),
                    ));
                }
            }
        }
    }
    rpcs
}

/// Calls `path` with an empty message (every field at its default) as `credential`; the
/// answer's code. An empty request changes nothing: every command needs fields.
async fn call(
    stack: &devstack::Stack,
    process: &str,
    path: &str,
    credential: &Credential,
    certificate: Option<&devstack::auth::ClientCertificate>,
) -> Code {
    let channel = clients::channel(stack, process, certificate).expect("channel");
    let mut grpc = tonic::client::Grpc::new(tonic::service::interceptor::InterceptedService::new(
        channel,
        credential.clone(),
    ));
    if let Err(error) = grpc.ready().await {
        panic!("{process} not ready: {error}");
    }
    let codec = tonic_prost::ProstCodec::<(), ()>::default();
    let path = PathAndQuery::try_from(path.to_owned()).expect("path");
    match grpc.unary(tonic::Request::new(()), path, codec).await {
        Ok(_) => Code::Ok,
        Err(status) => status.code(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn no_valid_token_no_call() {
    let (stack, _clients) = start().await;
    let rpcs = every_rpc();
    assert!(rpcs.len() >= 21, "{rpcs:?}");
    let forged = Credential::bearer(
        &stack
            .auth
            .forged_token("mallory", &[Role::Admin])
            .or_logs(&stack),
    )
    .or_logs(&stack);
    let expired = Credential::bearer(
        &stack
            .auth
            .token_with("li.na", &[Role::Admin], |c| {
                c["exp"] = (chrono::Utc::now().timestamp() - 120).into();
            })
            .or_logs(&stack),
    )
    .or_logs(&stack);
    let other_audience = Credential::bearer(
        &stack
            .auth
            .token_with("li.na", &[Role::Admin], |c| c["aud"] = "another-app".into())
            .or_logs(&stack),
    )
    .or_logs(&stack);
    let other_issuer = Credential::bearer(
        &stack
            .auth
            .token_with("li.na", &[Role::Admin], |c| {
                c["iss"] = "https://evil.example".into();
            })
            .or_logs(&stack),
    )
    .or_logs(&stack);
    for (process, path) in &rpcs {
        for (what, credential) in [
            ("no token", &Credential::default()),
            ("a token signed by another key", &forged),
            ("an expired token", &expired),
            ("a token for another audience", &other_audience),
            ("a token from another issuer", &other_issuer),
        ] {
            assert_eq!(
                call(&stack, process, path, credential, None).await,
                Code::Unauthenticated,
                "{process} {path} with {what}"
            );
        }
    }
    // The reason is told, and nothing was created.
    for (credential, reason) in [
        (Credential::default(), "no credential"),
        (expired, "expired"),
    ] {
        let mut clients = Clients::with(&stack, &credential, None).or_logs(&stack);
        let refused = clients
            .contracts
            .create_customer(contracts::CreateCustomerRequest {
                idempotency_key: format!("refused-{reason}"),
                name: "nobody".into(),
                kind: contracts::CustomerKind::Person as i32,
                ..Default::default()
            })
            .await
            .expect_err("refused");
        assert_eq!(refused.code(), Code::Unauthenticated);
        assert!(refused.message().contains(reason), "{refused:?}");
    }
    let customers = count(
        &stack,
        "contracts",
        "SELECT count(*) FROM contracts.customers",
    )
    .await;
    assert_eq!(customers, 0, "no refused call created anything");
    // Health checks need no credential (Kubernetes probes them).
    let mut health = tonic_health::pb::health_client::HealthClient::new(
        clients::channel(&stack, "payments", None).or_logs(&stack),
    );
    let serving = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: String::new(),
        })
        .await
        .or_logs(&stack)
        .into_inner();
    assert_eq!(serving.status, 1, "SERVING");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_rpc_for_every_role_as_the_table_says() {
    let (stack, _clients) = start().await;
    let policy = Policy::shipped().expect("access table");
    let mut decided = 0;
    let mut table = BTreeMap::new();
    for role in Role::ALL {
        let credential = Credential::bearer(
            &stack
                .auth
                .token(&format!("{role}-1"), &[role], Some("east"))
                .or_logs(&stack),
        )
        .or_logs(&stack);
        for (process, path) in every_rpc() {
            let allowed = policy
                .roles_for(&path)
                .unwrap_or_else(|| panic!("{path} has no row in access.txt"))
                .contains(&role);
            let code = call(&stack, process, &path, &credential, None).await;
            table.insert((path.clone(), role), code);
            if allowed {
                assert!(
                    !matches!(code, Code::PermissionDenied | Code::Unauthenticated),
                    "{role} may call {path} on {process}, got {code:?}"
                );
            } else {
                assert_eq!(
                    code,
                    Code::PermissionDenied,
                    "{role} may not call {path} on {process}"
                );
            }
            decided += 1;
        }
    }
    assert!(decided >= 9 * 21, "{decided}");
    // A token with no platform role at all may call nothing.
    let nobody =
        Credential::bearer(&stack.auth.token("guest", &[], None).or_logs(&stack)).or_logs(&stack);
    for (process, path) in every_rpc() {
        assert_eq!(
            call(&stack, process, &path, &nobody, None).await,
            Code::PermissionDenied,
            "{path}"
        );
    }
    // The refusal names the method and the role.
    let mut collector =
        Clients::as_user(&stack, "li.na", &[Role::Collector], Some("east")).or_logs(&stack);
    let refused = collector
        .contracts
        .run_daily_cycle(contracts::RunDailyCycleRequest {
            as_of: "2026-01-01".into(),
        })
        .await
        .expect_err("refused");
    assert_eq!(refused.code(), Code::PermissionDenied);
    assert!(
        refused.message().contains("RunDailyCycle")
            && refused.message().contains("collector")
            && refused.message().contains("admin"),
        "{}",
        refused.message()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn collectors_see_only_their_customers_and_supervisors_their_team() {
    let (stack, _admin) = start().await;
    let as_user = |s: &str, r: Role, t: &str| Clients::as_user(&stack, s, &[r], Some(t));
    let mut li = as_user("li.na", Role::Collector, "east").or_logs(&stack);
    let mut wang = as_user("wang.wu", Role::Collector, "east").or_logs(&stack);
    let mut chen = as_user("chen.jie", Role::Supervisor, "east").or_logs(&stack);
    let mut zhou = as_user("zhou.min", Role::Supervisor, "west").or_logs(&stack);

    let customer = devstack::scenario::create_customer(&mut li, "赵六")
        .await
        .or_logs(&stack);
    let contract = devstack::scenario::create_contract(
        &mut li,
        &customer,
        "HT-SCOPE-1",
        &[("5000.00", "2026-01-10")],
    )
    .await
    .or_logs(&stack);
    assert_eq!(
        (contract.owner.as_str(), contract.owner_team.as_str()),
        ("li.na", "east"),
        "R-C9: whoever signs owns it"
    );
    // A collector cannot sign in someone else's name.
    let mut request = contracts::CreateContractRequest {
        idempotency_key: "other".into(),
        customer_id: customer.clone(),
        contract_no: "HT-SCOPE-2".into(),
        currency: "CNY".into(),
        installments: vec![contracts::Installment {
            amount: "1.00".into(),
            due_date: "2026-02-10".into(),
            ..Default::default()
        }],
        escrow_account: devstack::scenario::ESCROW_ACCOUNT.into(),
        owner: "wang.wu".into(),
        ..Default::default()
    };
    let refused = li
        .contracts
        .create_contract(request.clone())
        .await
        .expect_err("refused");
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    // Nor sign for a customer that is not theirs.
    request.owner = String::new();
    let refused = wang
        .contracts
        .create_contract(request)
        .await
        .expect_err("refused");
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");

    let get = |id: &str| contracts::GetContractRequest {
        key: Some(contracts::get_contract_request::Key::ContractId(id.into())),
        version: 0,
    };
    let receivables = |id: &str| contracts::ListReceivablesRequest {
        contract_id: id.into(),
        ..Default::default()
    };
    let score = || scoring::GetScoreRequest {
        customer_id: customer.clone(),
    };
    let cases = || dunning::ListCasesRequest {
        customer_id: customer.clone(),
        ..Default::default()
    };
    // Scoring and dunning learn the owners from contracts' events.
    for who in [&li, &chen] {
        let c = who.clone();
        let customer = customer.clone();
        devstack::clients::eventually("scoring and dunning know the owner", EVENTUALLY, || {
            let mut c = c.clone();
            let customer = customer.clone();
            async move {
                let score = c
                    .scoring
                    .get_score(scoring::GetScoreRequest {
                        customer_id: customer.clone(),
                    })
                    .await
                    .is_ok();
                let cases = c
                    .dunning
                    .list_cases(dunning::ListCasesRequest {
                        customer_id: customer,
                        ..Default::default()
                    })
                    .await
                    .is_ok();
                Ok((score && cases).then_some(()))
            }
        })
        .await
        .or_logs(&stack);
    }
    // The owner and their supervisor read everything of the customer.
    for c in [&mut li, &mut chen] {
        c.contracts
            .get_contract(get(&contract.contract_id))
            .await
            .or_logs(&stack);
        c.contracts
            .list_receivables(receivables(&contract.contract_id))
            .await
            .or_logs(&stack);
    }
    // Another collector and another team's supervisor read nothing of it.
    for c in [&mut wang, &mut zhou] {
        let codes = [
            c.contracts
                .get_contract(get(&contract.contract_id))
                .await
                .map(|_| ())
                .err(),
            c.contracts
                .list_receivables(receivables(&contract.contract_id))
                .await
                .map(|_| ())
                .err(),
            c.scoring.get_score(score()).await.map(|_| ()).err(),
            c.dunning.list_cases(cases()).await.map(|_| ()).err(),
            c.contracts
                .add_payer_account(contracts::AddPayerAccountRequest {
                    customer_id: customer.clone(),
                    account: "6222 0200 0000 7777".into(),
                })
                .await
                .map(|_| ())
                .err(),
        ];
        for code in codes {
            assert_eq!(
                code.map(|s| s.code()),
                Some(Code::PermissionDenied),
                "out of scope"
            );
        }
    }
    let to_wang = |target: Target, team: &str, reason: &str| contracts::ReassignOwnerRequest {
        target: Some(target),
        owner: "wang.wu".into(),
        owner_team: team.into(),
        reason: reason.into(),
    };
    // A supervisor moves the customer's work to wang.wu within the team; not to another team.
    let refused = chen
        .contracts
        .reassign_owner(to_wang(
            Target::ContractId(contract.contract_id.clone()),
            "west",
            "holiday cover",
        ))
        .await
        .expect_err("another team");
    assert_eq!(refused.code(), Code::PermissionDenied);
    let moved = chen
        .contracts
        .reassign_owner(to_wang(
            Target::ContractId(contract.contract_id.clone()),
            "",
            "li.na is on leave",
        ))
        .await
        .or_logs(&stack)
        .into_inner();
    assert_eq!(
        (
            moved.previous_owner.as_str(),
            moved.owner.as_str(),
            moved.reassigned_by.as_str()
        ),
        ("li.na", "wang.wu", "chen.jie")
    );
    let customer_level = chen
        .contracts
        .reassign_owner(to_wang(
            Target::CustomerId(customer.clone()),
            "",
            "li.na is on leave",
        ))
        .await
        .or_logs(&stack)
        .into_inner();
    assert_eq!(customer_level.owner, "wang.wu");
    // Collectors may not reassign.
    let refused = wang
        .contracts
        .reassign_owner(to_wang(
            Target::CustomerId(customer.clone()),
            "",
            "mine now",
        ))
        .await
        .expect_err("collectors do not reassign");
    assert_eq!(refused.code(), Code::PermissionDenied);
    // Now wang.wu reads it everywhere and li.na nowhere.
    wang.contracts
        .get_contract(get(&contract.contract_id))
        .await
        .or_logs(&stack);
    let customer_for_wait = customer.clone();
    let wang_for_wait = wang.clone();
    devstack::clients::eventually("dunning learns the new owner", EVENTUALLY, || {
        let mut c = wang_for_wait.clone();
        let customer = customer_for_wait.clone();
        async move {
            Ok(c.dunning
                .list_cases(dunning::ListCasesRequest {
                    customer_id: customer.clone(),
                    ..Default::default()
                })
                .await
                .is_ok()
                .then_some(()))
        }
    })
    .await
    .or_logs(&stack);
    let lost = li
        .contracts
        .get_contract(get(&contract.contract_id))
        .await
        .expect_err("li.na no longer owns it");
    assert_eq!(lost.code(), Code::PermissionDenied);
}

#[tokio::test(flavor = "multi_thread")]
async fn systems_use_client_certificates_and_every_call_is_audited() {
    let (stack, _admin) = start().await;
    // A bank-integration backend with a certificate from the stack's CA sends bank files…
    let bank = stack
        .auth
        .client_certificate("bank-gateway-icbc", &[Role::BankIntegration])
        .or_logs(&stack);
    let mut gateway = Clients::with_certificate(&stack, &bank).or_logs(&stack);
    let ingested = gateway
        .payments
        .ingest_bank_file(payments::IngestBankFileRequest {
            file_name: "mtls.csv".into(),
            content: devstack::scenario::bank_csv(&[[
                "2026-02-20",
                "100.00",
                "CNY",
                "张三",
                "6222020000001111",
                "HT-NONE",
            ]]),
            format: String::new(),
            account: devstack::scenario::ESCROW_ACCOUNT.into(),
        })
        .await
        .or_logs(&stack)
        .into_inner();
    assert_eq!(ingested.lines_accepted, 1);
    // …and nothing else.
    let refused = gateway
        .payments
        .list_exceptions(payments::ListExceptionsRequest::default())
        .await
        .expect_err("bank-integration reads only its results");
    assert_eq!(refused.code(), Code::PermissionDenied);
    assert!(
        refused.message().contains("bank-gateway-icbc"),
        "{refused:?}"
    );
    // A certificate whose units name a people's role is not enough: people use tokens.
    let pretender = stack
        .auth
        .client_certificate("someone", &[Role::Admin])
        .or_logs(&stack);
    let path = "/receivables.payments.v1.PaymentsService/ListExceptions";
    assert_eq!(
        call(
            &stack,
            "payments",
            path,
            &Credential::default(),
            Some(&pretender)
        )
        .await,
        Code::Unauthenticated
    );
    // A certificate from a CA the services do not trust does not even connect.
    let foreign = stack
        .auth
        .foreign_client_certificate("bank-gateway-evil", &[Role::BankIntegration])
        .or_logs(&stack);
    let mut evil = Clients::with_certificate(&stack, &foreign).or_logs(&stack);
    let refused = evil
        .payments
        .list_payments(payments::ListPaymentsRequest::default())
        .await
        .expect_err("untrusted client certificate");
    // With TLS 1.3 the client may finish its side of the handshake before the server has
    // checked the client certificate; the server's refusal then closes the connection under
    // the first request, which tonic reports as CANCELLED with the transport error as source.
    let transport_closed = refused.code() == Code::Cancelled
        && std::error::Error::source(&refused)
            .is_some_and(|e| e.downcast_ref::<tonic::transport::Error>().is_some());
    assert!(
        matches!(refused.code(), Code::Unavailable | Code::Unknown) || transport_closed,
        "{refused:?}"
    );

    // The auditor reads the trail: the allowed ingest with who and how, the refusals with why.
    let auditor = Credential::bearer(
        &stack
            .auth
            .token("audit.zhou", &[Role::Auditor], None)
            .or_logs(&stack),
    )
    .or_logs(&stack);
    let mut trail = clients::audit(&stack, "payments", &auditor).or_logs(&stack);
    let records = trail
        .list_audit_records(audit::ListAuditRecordsRequest {
            page_size: 100,
            ..Default::default()
        })
        .await
        .or_logs(&stack)
        .into_inner()
        .records;
    let find = |method: &str, outcome: &str| {
        records
            .iter()
            .find(|r| r.method.ends_with(method) && r.outcome == outcome)
            .unwrap_or_else(|| panic!("no {outcome} record of {method}: {records:#?}"))
    };
    // The untrusted certificate never reached the service: no record names it.
    assert!(
        records.iter().all(|r| r.principal != "bank-gateway-evil"),
        "{records:#?}"
    );
    let ingest = find("IngestBankFile", "OK");
    assert_eq!(ingest.principal, "bank-gateway-icbc");
    assert_eq!(ingest.auth_method, audit::AuthMethod::Mtls as i32);
    assert_eq!(ingest.roles, ["bank-integration"]);
    assert!(
        ingest
            .resource_ids
            .iter()
            .any(|r| r.starts_with("bank_file:")),
        "{ingest:?}"
    );
    assert_eq!(ingest.trace_id.len(), 32, "{ingest:?}");
    let denied = find("ListExceptions", "PERMISSION_DENIED");
    assert_eq!(denied.principal, "bank-gateway-icbc");
    assert!(denied.reason.contains("cashier"), "{denied:?}");
    let anonymous = find("ListExceptions", "UNAUTHENTICATED");
    assert!(anonymous.principal.is_empty());
    // Filters and paging: only the refusals, one page at a time.
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = trail
            .list_audit_records(audit::ListAuditRecordsRequest {
                page_size: 1,
                page_token: token.clone(),
                outcome: "PERMISSION_DENIED".into(),
                ..Default::default()
            })
            .await
            .or_logs(&stack)
            .into_inner();
        seen.extend(page.records.iter().map(|r| r.record_id));
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    let expected: Vec<i64> = records
        .iter()
        .filter(|r| r.outcome == "PERMISSION_DENIED")
        .map(|r| r.record_id)
        .collect();
    assert_eq!(seen, expected);
    // Only auditors and admins read the trail.
    let mut cashier_trail = clients::audit(
        &stack,
        "payments",
        &Credential::bearer(
            &stack
                .auth
                .token("clerk-7", &[Role::Cashier], None)
                .or_logs(&stack),
        )
        .or_logs(&stack),
    )
    .or_logs(&stack);
    assert_eq!(
        cashier_trail
            .list_audit_records(audit::ListAuditRecordsRequest::default())
            .await
            .expect_err("cashiers do not read the trail")
            .code(),
        Code::PermissionDenied
    );
    // The service's own database role cannot rewrite history.
    let pool = sqlx::PgPool::connect(&stack.database_urls["payments"])
        .await
        .or_logs(&stack);
    for statement in [
        "UPDATE payments.audit_log SET principal = 'nobody'",
        "DELETE FROM payments.audit_log",
        "TRUNCATE payments.audit_log",
    ] {
        let error = sqlx::query(statement)
            .execute(&pool)
            .await
            .expect_err("the audit trail is append-only");
        assert!(
            error.to_string().contains("append-only"),
            "{statement}: {error}"
        );
    }
    pool.close().await;
}

async fn count(stack: &devstack::Stack, service: &str, query: &'static str) -> i64 {
    let pool = sqlx::PgPool::connect(&stack.database_urls[service])
        .await
        .or_logs(stack);
    let n: i64 = sqlx::query_scalar(query)
        .fetch_one(&pool)
        .await
        .or_logs(stack);
    pool.close().await;
    n
}

/// Every case the caller may see, one case per page (R-O3: the full list is filtered by
/// scope, and paging stays correct under the filter).
async fn visible_cases(clients: &Clients) -> anyhow::Result<Vec<String>> {
    let mut customers = Vec::new();
    let mut token = String::new();
    loop {
        let page = clients
            .dunning
            .clone()
            .list_cases(dunning::ListCasesRequest {
                customer_id: String::new(),
                page_size: 1,
                page_token: token.clone(),
            })
            .await?
            .into_inner();
        assert!(page.cases.len() <= 1);
        customers.extend(page.cases.into_iter().map(|c| c.customer_id));
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    customers.sort();
    Ok(customers)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_list_of_all_cases_holds_only_what_the_caller_may_see() {
    let (stack, mut admin) = start().await;
    let as_user = |s: &str, r: Role, t: &str| Clients::as_user(&stack, s, &[r], Some(t));
    let mut li = as_user("li.na", Role::Collector, "east").or_logs(&stack);
    let mut wang = as_user("wang.wu", Role::Collector, "east").or_logs(&stack);
    let mut sun = as_user("sun.li", Role::Collector, "west").or_logs(&stack);
    let chen = as_user("chen.jie", Role::Supervisor, "east").or_logs(&stack);
    let zhou = as_user("zhou.min", Role::Supervisor, "west").or_logs(&stack);
    let mut customers = BTreeMap::new();
    for (who, clients) in [("li", &mut li), ("wang", &mut wang), ("sun", &mut sun)] {
        let customer = devstack::scenario::create_customer(clients, &format!("客户 {who}"))
            .await
            .or_logs(&stack);
        devstack::scenario::create_contract(
            clients,
            &customer,
            &format!("HT-LIST-{who}"),
            &[("6000.00", "2026-01-10")],
        )
        .await
        .or_logs(&stack);
        customers.insert(who, customer);
    }
    devstack::scenario::run_cycle(&mut admin, "2026-01-15")
        .await
        .or_logs(&stack);
    let mut all: Vec<String> = customers.values().cloned().collect();
    all.sort();
    let admin_view = admin.clone();
    devstack::clients::eventually("three dunning cases", EVENTUALLY, || {
        let c = admin_view.clone();
        let all = all.clone();
        async move { Ok((visible_cases(&c).await? == all).then_some(())) }
    })
    .await
    .or_logs(&stack);
    let only = |keys: &[&str]| {
        let mut v: Vec<String> = keys.iter().map(|k| customers[k].clone()).collect();
        v.sort();
        v
    };
    assert_eq!(visible_cases(&li).await.or_logs(&stack), only(&["li"]));
    assert_eq!(visible_cases(&wang).await.or_logs(&stack), only(&["wang"]));
    assert_eq!(visible_cases(&sun).await.or_logs(&stack), only(&["sun"]));
    assert_eq!(
        visible_cases(&chen).await.or_logs(&stack),
        only(&["li", "wang"])
    );
    assert_eq!(visible_cases(&zhou).await.or_logs(&stack), only(&["sun"]));
    // A page token is bound to the scope it was issued for.
    let first = chen
        .dunning
        .clone()
        .list_cases(dunning::ListCasesRequest {
            customer_id: String::new(),
            page_size: 1,
            page_token: String::new(),
        })
        .await
        .or_logs(&stack)
        .into_inner();
    assert!(!first.next_page_token.is_empty());
    let replayed = li
        .dunning
        .list_cases(dunning::ListCasesRequest {
            customer_id: String::new(),
            page_size: 1,
            page_token: first.next_page_token,
        })
        .await
        .expect_err("another scope's token");
    assert_eq!(replayed.code(), Code::InvalidArgument);
}
