//! The demo: walks one money path through all five services and reports what happened.

use std::time::Duration;

use serde_json::json;

use proto::dunning::v1 as dunning;
use proto::legal::v1 as legal;
use proto::scoring::v1 as scoring;

use crate::clients::{Clients, eventually};
use crate::scenario::{self, bank_csv, open_amount};

const WAIT: Duration = Duration::from_secs(60);

/// Where the demo's report goes: sentences for people, or one JSON object per step.
pub struct Reporter {
    json: bool,
    step: u32,
}

impl Reporter {
    /// A reporter printing to stdout.
    pub fn new(json: bool) -> Self {
        Self { json, step: 0 }
    }

    pub(crate) fn say(&mut self, headline: &str, details: serde_json::Value) {
        self.step += 1;
        if self.json {
            println!(
                "{}",
                json!({"step": self.step, "what": headline, "details": details})
            );
        } else {
            println!("\n{:>2}. {headline}", self.step);
            if let Some(map) = details.as_object() {
                for (key, value) in map {
                    let value = value
                        .as_str()
                        .map_or_else(|| value.to_string(), str::to_owned);
                    println!("      {key}: {value}");
                }
            }
        }
    }
}

async fn grade(clients: &Clients, customer: &str) -> anyhow::Result<Option<scoring::Score>> {
    let mut c = clients.scoring.clone();
    match c
        .get_score(scoring::GetScoreRequest {
            customer_id: customer.to_owned(),
        })
        .await
    {
        Ok(r) => Ok(r.into_inner().score),
        Err(s) if s.code() == tonic::Code::NotFound => Ok(None),
        Err(s) => Err(s.into()),
    }
}

async fn wait_grade(
    clients: &Clients,
    customer: &str,
    expected: &str,
) -> anyhow::Result<scoring::Score> {
    eventually(&format!("grade {expected}"), WAIT, || async {
        Ok(grade(clients, customer)
            .await?
            .filter(|s| s.grade == expected))
    })
    .await
}

async fn actions(clients: &Clients, customer: &str) -> anyhow::Result<Vec<dunning::Action>> {
    let mut all = Vec::new();
    for case in scenario::dunning_cases(clients, customer).await? {
        all.extend(scenario::dunning_actions(clients, &case.case_id).await?);
    }
    Ok(all)
}

async fn wait_actions(
    clients: &Clients,
    customer: &str,
    count: usize,
) -> anyhow::Result<Vec<dunning::Action>> {
    eventually(&format!("{count} dunning actions"), WAIT, || async {
        let all = actions(clients, customer).await?;
        Ok((all.len() >= count).then_some(all))
    })
    .await
}

async fn legal_case(
    clients: &Clients,
    customer: &str,
    withdrawn: bool,
) -> anyhow::Result<legal::LegalCase> {
    eventually("the legal case", WAIT, || async {
        let cases = scenario::legal_cases(clients, customer, None).await?;
        Ok(cases
            .into_iter()
            .find(|c| c.withdrawal_flagged == withdrawn))
    })
    .await
}

fn describe(actions: &[dunning::Action]) -> serde_json::Value {
    json!(
        actions
            .iter()
            .map(|a| format!(
                "{} {} ({} days): {}",
                a.business_date, a.step, a.days_overdue, a.detail
            ))
            .collect::<Vec<_>>()
    )
}

/// The dunning policy the demo's stack runs: the shipped compact policy (reminder from day 1,
/// written notice from day 7, legal from day 30 and 5,000), found beside the sources or, for
/// an installed binary, through `DUNNING_POLICY`.
#[must_use]
pub fn policy_path() -> std::path::PathBuf {
    match std::env::var_os("DUNNING_POLICY").filter(|v| !v.is_empty()) {
        Some(path) => std::path::PathBuf::from(path),
        None => std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../dunning/policies/compact.json"),
    }
}

/// Runs the demo against a running stack.
pub async fn run(clients: &mut Clients, reporter: &mut Reporter) -> anyhow::Result<()> {
    let suffix = uuid::Uuid::new_v4().simple().to_string()[..6].to_uppercase();
    let contract_no = format!("HT-DEMO-{suffix}");
    let customer = scenario::create_customer(clients, &format!("张三 {suffix}")).await?;
    let contract = scenario::create_contract(
        clients,
        &customer,
        &contract_no,
        &[
            ("10000.00", "2026-01-10"),
            ("20000.00", "2026-03-10"),
            ("30000.00", "2026-05-10"),
        ],
    )
    .await?;
    reporter.say(
        "contracts: customer 张三 signed a contract with three installments",
        json!({"contract": contract_no, "installments": "10000.00 due 2026-01-10, 20000.00 due 2026-03-10, 30000.00 due 2026-05-10"}),
    );
    // Dunning reaches the debtor by SMS (the local stack's recording channel): the contact
    // details go on file, masked in every answer (R-O4).
    clients
        .dunning
        .set_contacts(dunning::SetContactsRequest {
            contacts: Some(dunning::DebtorContacts {
                customer_id: customer.clone(),
                contacts: vec![dunning::ContactPoint {
                    channel: proto::types::v1::ContactChannel::Sms as i32,
                    address: "13800138000".into(),
                    recipient: dunning::Recipient::Debtor as i32,
                }],
                ..Default::default()
            }),
        })
        .await?;
    // Scorecard pts-v1: 815 of 1000 points (no payment history, a new relationship, no
    // bureau or income data on file), A.
    let score = wait_grade(clients, &customer, "A").await?;
    reporter.say(
        "scoring: a new customer with no delinquency",
        json!({"grade": score.grade}),
    );

    let cycle = scenario::run_cycle(clients, "2026-01-11").await.map_err(|e| {
        e.context("the demo moves business time from 2026-01-11 on; it needs a fresh database (unset DATABASE_URL)")
    })?;
    let score = wait_grade(clients, &customer, "BBB").await?;
    let done = wait_actions(clients, &customer, 1).await?;
    reporter.say(
        "daily cycle 2026-01-11: installment 1 is one day overdue",
        json!({"newly overdue": cycle.newly_overdue, "grade": score.grade, "reasons": score.reasons.iter().map(|r| r.description.clone()).collect::<Vec<_>>(), "dunning": describe(&done)}),
    );

    scenario::run_cycle(clients, "2026-01-20").await?;
    let done = wait_actions(clients, &customer, 2).await?;
    reporter.say(
        "daily cycle 2026-01-20: ten days overdue",
        json!({"dunning": describe(&done[1..])}),
    );

    scenario::run_cycle(clients, "2026-02-12").await?;
    let done = wait_actions(clients, &customer, 3).await?;
    let case = legal_case(clients, &customer, false).await?;
    reporter.say(
        "daily cycle 2026-02-12: 33 days overdue, escalated to legal",
        json!({"dunning": describe(&done[2..]), "legal case": case.case_id, "amount claimed": case.amount_claimed.map(|m| format!("{} {}", m.amount, m.currency))}),
    );

    let file = bank_csv(&[
        [
            "2026-02-20",
            "20000.00",
            "CNY",
            "张三",
            "6222020000001234",
            &format!("{contract_no}/2"),
        ],
        [
            "2026-02-20",
            "\"20,000\"",
            "CNY",
            "李四",
            "6222020000009999",
            "HT-UNKNOWN",
        ],
    ]);
    let ingested = scenario::ingest(clients, "demo-bank-2026-02-20.csv", file.clone()).await?;
    let paid = eventually("installment 2 paid", WAIT, || async {
        let mut c = clients.clone();
        let r = scenario::receivables(&mut c, &contract.contract_id).await?;
        Ok((open_amount(&r[1]) == "0.00").then_some(r))
    })
    .await?;
    reporter.say(
        "payments: a bank file pays installment 2; one malformed line is reported",
        json!({
            "accepted": ingested.lines_accepted, "matched": ingested.payments_matched,
            "errors": ingested.errors.iter().map(|e| format!("line {} field {}: {}", e.line, e.field, e.message)).collect::<Vec<_>>(),
            "balances": paid.iter().map(|r| format!("#{} open {}", r.installment_no, open_amount(r))).collect::<Vec<_>>(),
        }),
    );
    let again = scenario::ingest(clients, "demo-bank-2026-02-20.csv", file).await?;
    reporter.say(
        "payments: the same file sent again changes nothing",
        json!({"duplicate file": again.duplicate_file}),
    );

    let file = bank_csv(&[[
        "2026-02-25",
        "10000.00",
        "CNY",
        "张三",
        "6222020000001234",
        &format!("{contract_no}/1"),
    ]]);
    scenario::ingest(clients, "demo-bank-2026-02-25.csv", file).await?;
    let case = legal_case(clients, &customer, true).await?;
    // pts-v1: nothing past due; one late payment, two thirds of the amount paid on time and
    // the legal case in the history: 725 points, BBB.
    let score = wait_grade(clients, &customer, "BBB").await?;
    reporter.say(
        "payments: installment 1 paid while the legal case is open",
        json!({"legal case": format!("{} flagged for withdrawal (R-L4)", case.case_id), "history": case.events.iter().map(|e| format!("{}: {}", e.kind, e.detail)).collect::<Vec<_>>(), "grade": score.grade}),
    );
    // Someone who is not the contract party pays installment 3: cash application does not
    // guess (R-P5); the queue shows the candidate, its evidence and what to do.
    let file = bank_csv(&[[
        "2026-02-26",
        "30000.00",
        "CNY",
        "李四",
        "6222020000009999",
        &format!("{contract_no} 第3期"),
    ]]);
    scenario::ingest(clients, "demo-bank-2026-02-26.csv", file).await?;
    let queue = scenario::open_exceptions(clients).await?;
    reporter.say(
        "done: the exception queue for finance",
        json!({
            "open exceptions": queue.iter().map(|e| format!("{}: {}", e.kind, e.reason)).collect::<Vec<_>>(),
            "candidates": queue.iter().flat_map(|e| &e.candidates).map(|c| format!("{} ({} points): {}", c.customer_name, c.confidence, c.evidence.join("; "))).collect::<Vec<_>>(),
            "suggested": queue.iter().map(|e| e.suggested_action.clone()).collect::<Vec<_>>(),
        }),
    );
    Ok(())
}
