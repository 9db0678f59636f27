//! The demo's first part: who is calling (R-O3). Every call needs a credential; a role does
//! only what the access table gives it; a collector sees only their own customers; every
//! decision lands in the audit trail.

use serde_json::json;

use kit::auth::Role;
use proto::audit::v1 as audit;
use proto::contracts::v1 as contracts;

use crate::Stack;
use crate::clients::{self, Clients, Credential};
use crate::demo::Reporter;
use crate::scenario;

/// Tries to move business time as `clients`; what the service answered.
async fn try_daily_cycle(clients: &mut Clients) -> String {
    clients
        .contracts
        .run_daily_cycle(contracts::RunDailyCycleRequest {
            as_of: "2026-01-01".into(),
        })
        .await
        .err()
        .map_or_else(
            || "ACCEPTED (this is a bug)".into(),
            |s| format!("{:?}: {}", s.code(), s.message()),
        )
}

/// Shows authentication, the role table, collector scope and the audit trail at work.
pub async fn run(stack: &Stack, reporter: &mut Reporter) -> anyhow::Result<()> {
    let suffix = uuid::Uuid::new_v4().simple().to_string()[..6].to_uppercase();
    let refused = try_daily_cycle(&mut Clients::anonymous(stack)?).await;
    reporter.say(
        "auth: a call without a token is refused",
        json!({"RunDailyCycle without a credential": refused}),
    );

    let mut li = Clients::as_user(stack, "li.na", &[Role::Collector], Some("east"))?;
    let mut wang = Clients::as_user(stack, "wang.wu", &[Role::Collector], Some("east"))?;
    let mut chen = Clients::as_user(stack, "chen.jie", &[Role::Supervisor], Some("east"))?;
    let customer = scenario::create_customer(&mut li, &format!("赵六 {suffix}")).await?;
    let contract = scenario::create_contract(
        &mut li,
        &customer,
        &format!("HT-OWN-{suffix}"),
        &[("8000.00", "2026-06-10")],
    )
    .await?;
    let get = |id: &str| contracts::GetContractRequest {
        key: Some(contracts::get_contract_request::Key::ContractId(
            id.to_owned(),
        )),
        version: 0,
    };
    let by_owner = li.contracts.get_contract(get(&contract.contract_id)).await;
    let by_colleague = wang
        .contracts
        .get_contract(get(&contract.contract_id))
        .await;
    let by_supervisor = chen
        .contracts
        .get_contract(get(&contract.contract_id))
        .await;
    let outcome =
        |r: &Result<tonic::Response<contracts::GetContractResponse>, tonic::Status>| match r {
            Ok(_) => "OK".to_owned(),
            Err(s) => format!("{:?}: {}", s.code(), s.message()),
        };
    reporter.say(
        "scope: collector li.na signed a contract; whoever signs owns its collection work (R-C9)",
        json!({
            "owner": contract.owner,
            "li.na reads it": outcome(&by_owner),
            "wang.wu (another collector) reads it": outcome(&by_colleague),
            "chen.jie (their supervisor) reads it": outcome(&by_supervisor),
        }),
    );
    let cycle = try_daily_cycle(&mut li).await;
    reporter.say(
        "roles: a collector may not move business time",
        json!({"RunDailyCycle as li.na": cycle}),
    );

    let auditor = Credential::bearer(&stack.auth.token("audit.zhou", &[Role::Auditor], None)?)?;
    let trail = clients::audit(stack, "contracts", &auditor)?
        .list_audit_records(audit::ListAuditRecordsRequest {
            page_size: 5,
            ..Default::default()
        })
        .await?
        .into_inner();
    reporter.say(
        "audit: every call, allowed or refused, is recorded; the auditor reads the trail",
        json!({"latest contracts calls": trail.records.iter().map(|r| format!(
            "{} {} {} {}",
            if r.principal.is_empty() { "(no credential)" } else { &r.principal },
            r.method.rsplit('/').next().unwrap_or_default(),
            r.outcome,
            r.resource_ids.join(" ")
        )).collect::<Vec<_>>()}),
    );
    Ok(())
}
