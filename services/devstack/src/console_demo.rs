//! Demo data for the web console (issue 17 item 3): a debtor the collector li.na owns, overdue
//! by the demo's daily cycles, with contact details and a call to make, so that signing in as
//! li.na shows a work queue with a task to complete. The exception for finance and the legal
//! case come from the demo's money path itself.

use std::time::Duration;

use anyhow::Context as _;
use serde_json::json;

use kit::auth::Role;
use proto::dunning::v1 as dunning;
use proto::types::v1::ContactChannel;

use crate::Stack;
use crate::clients::{Clients, eventually};
use crate::demo::Reporter;
use crate::scenario;

/// The collector who owns the console's demo debtor.
pub const COLLECTOR: &str = "li.na";
/// Their team.
pub const TEAM: &str = "east";

const WAIT: Duration = Duration::from_secs(60);

/// The console's demo debtor, made before the demo's daily cycles run.
#[derive(Debug, Clone)]
pub struct Seeded {
    /// The customer.
    pub customer_id: String,
    /// Their name.
    pub name: String,
}

fn collector(stack: &Stack) -> anyhow::Result<Clients> {
    Clients::as_user(stack, COLLECTOR, &[Role::Collector], Some(TEAM))
}

/// Signs a contract for li.na's debtor with one installment due before the demo's first
/// daily cycle (3,000 yuan: below the compact policy's legal threshold, so it stays in
/// dunning) and puts the debtor's contact details on file.
pub async fn before(stack: &Stack) -> anyhow::Result<Seeded> {
    let suffix = uuid::Uuid::new_v4().simple().to_string()[..6].to_uppercase();
    let name = format!("王芳 {suffix}");
    let mut li = collector(stack)?;
    let customer_id = scenario::create_customer(&mut li, &name).await?;
    scenario::create_contract(
        &mut li,
        &customer_id,
        &format!("HT-CONSOLE-{suffix}"),
        &[("3000.00", "2026-01-05"), ("3000.00", "2026-04-05")],
    )
    .await?;
    // Dunning learns the owner from contracts' events a moment later.
    eventually("the debtor's contact details on file", WAIT, || {
        let mut li = li.clone();
        let customer_id = customer_id.clone();
        async move {
            li.dunning
                .set_contacts(dunning::SetContactsRequest {
                    contacts: Some(dunning::DebtorContacts {
                        customer_id,
                        time_zone: "Asia/Shanghai".into(),
                        language: "zh-CN".into(),
                        contacts: vec![
                            dunning::ContactPoint {
                                channel: ContactChannel::Sms as i32,
                                address: "13900139000".into(),
                                recipient: dunning::Recipient::Debtor as i32,
                            },
                            dunning::ContactPoint {
                                channel: ContactChannel::PhoneCall as i32,
                                address: "13900139000".into(),
                                recipient: dunning::Recipient::Debtor as i32,
                            },
                        ],
                        ..Default::default()
                    }),
                })
                .await
                .context("SetContacts")?;
            Ok(Some(()))
        }
    })
    .await?;
    Ok(Seeded { customer_id, name })
}

/// After the daily cycles: li.na plans a call for 22:30, which the conduct rules move to the
/// next allowed time (R-D9, R-D13), and the demo says where the console is.
pub async fn after(
    stack: &Stack,
    seeded: &Seeded,
    console_url: Option<&str>,
    reporter: &mut Reporter,
) -> anyhow::Result<()> {
    let li = collector(stack)?;
    let task = eventually("li.na's call task", WAIT, || {
        let mut li = li.clone();
        let customer_id = seeded.customer_id.clone();
        async move {
            let task = li
                .dunning
                .create_task(dunning::CreateTaskRequest {
                    idempotency_key: format!("console-demo-call-{customer_id}"),
                    customer_id,
                    channel: ContactChannel::PhoneCall as i32,
                    due_at: "2026-02-13T22:30:00+08:00".into(),
                    note: "电话提醒第1期欠款 / call about installment 1".into(),
                })
                .await
                .context("CreateTask")?
                .into_inner()
                .task;
            Ok(task)
        }
    })
    .await?;
    reporter.say(
        "console: collector li.na has a debtor in their queue and a call to make",
        json!({
            "debtor": seeded.name,
            "call asked for": task.requested_at,
            "due (conduct rules)": task.due_at,
            "console": console_url.map_or_else(
                || "not started".to_owned(),
                |u| format!("{u} (sign in as li.na, clerk.zhang, lawyer.sun or chen.jie)")
            ),
        }),
    );
    Ok(())
}
