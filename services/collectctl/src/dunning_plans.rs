//! `collectctl dunning plans`: repayment plans (R-D6; issue 14 item 3). A collector proposes
//! a plan over named items (equal monthly installments, or given ones); another person
//! approves it (above the second-approval amount also a risk approver, a third person); the
//! list shows each installment's standing.

use clap::{Args, Subcommand, ValueEnum};
use proto::dunning::v1 as api;

use crate::cli::{Hint as _, Outcome};
use crate::dunning_names::{Conn, default_key, refused};
use crate::service;

#[derive(Args)]
pub(crate) struct PlansArgs {
    #[command(flatten)]
    conn: Conn,
    #[command(subcommand)]
    command: PlansCommand,
}

/// Plan statuses to list.
#[derive(Clone, Copy, ValueEnum)]
enum StatusArg {
    Proposed,
    FirstApproved,
    Active,
    Rejected,
    Completed,
    Broken,
    Refused,
}

#[derive(Subcommand)]
enum PlansCommand {
    /// Propose a plan over named open items of the debtor's case.
    Propose {
        /// Customer id.
        customer_id: String,
        /// A receivable the plan re-schedules (repeat for several; one currency).
        #[arg(long = "item", value_name = "RECEIVABLE_ID", required = true)]
        items: Vec<String>,
        /// Equal monthly installments: how many.
        #[arg(long, value_name = "N", conflicts_with = "installment")]
        installments: Option<u32>,
        /// Date of the first of the equal monthly installments (YYYY-MM-DD).
        #[arg(long, value_name = "DATE", requires = "installments")]
        first_due: Option<String>,
        /// One installment as DATE=AMOUNT (repeat, in order; they add up to what is owed).
        #[arg(long, value_name = "DATE=AMOUNT")]
        installment: Vec<String>,
        /// The items' currency, for --installment amounts.
        #[arg(long, default_value = "CNY")]
        currency: String,
        /// Days after each installment's date that still count (0..30).
        #[arg(long, default_value_t = 0)]
        grace_days: u32,
        /// Why (the debtor's hardship).
        #[arg(long)]
        reason: String,
        /// Client idempotency key. Default: derived from the arguments.
        #[arg(long, value_name = "KEY")]
        idempotency_key: Option<String>,
    },
    /// Approve a plan you did not propose.
    Approve {
        /// Plan id.
        plan_id: String,
        /// A note recorded with your name.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Reject a plan waiting for a decision.
    Reject {
        /// Plan id.
        plan_id: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Plans, newest first: one debtor's, or every one you may see.
    List {
        /// Customer id.
        #[arg(long)]
        customer: Option<String>,
        /// Only plans in this status (e.g. proposed: waiting for an approver).
        #[arg(long, value_enum)]
        status: Option<StatusArg>,
    },
}

fn status_name(status: i32) -> &'static str {
    match api::PlanStatus::try_from(status) {
        Ok(api::PlanStatus::Proposed) => "proposed",
        Ok(api::PlanStatus::FirstApproved) => "first_approved",
        Ok(api::PlanStatus::Active) => "active",
        Ok(api::PlanStatus::Rejected) => "rejected",
        Ok(api::PlanStatus::Completed) => "completed",
        Ok(api::PlanStatus::Broken) => "broken",
        Ok(api::PlanStatus::Refused) => "refused",
        _ => "unknown",
    }
}

fn installment_name(status: i32) -> &'static str {
    match api::InstallmentStatus::try_from(status) {
        Ok(api::InstallmentStatus::Pending) => "pending",
        Ok(api::InstallmentStatus::Paid) => "paid",
        Ok(api::InstallmentStatus::Missed) => "MISSED",
        _ => "unknown",
    }
}

fn money(m: Option<&proto::types::v1::Money>) -> String {
    m.map(|m| format!("{} {}", m.amount, m.currency))
        .unwrap_or_default()
}

fn to_json(p: &api::Plan) -> serde_json::Value {
    serde_json::json!({
        "plan_id": p.plan_id,
        "customer_id": p.customer_id,
        "receivable_ids": p.receivable_ids,
        "total": money(p.total.as_ref()),
        "paid": money(p.paid.as_ref()),
        "status": status_name(p.status),
        "grace_days": p.grace_days,
        "second_approval_required": p.second_approval_required,
        "proposed_by": p.proposed_by,
        "first_approved_by": p.first_approved_by,
        "second_approved_by": p.second_approved_by,
        "rejected_by": p.rejected_by,
        "decision_note": p.decision_note,
        "agreed_on": p.agreed_on,
        "ended_on": p.ended_on,
        "end_reason": p.end_reason,
        "paused_step": p.paused_step,
        "reason": p.reason,
        "installments": p.installments.iter().map(|i| serde_json::json!({
            "number": i.number,
            "due_date": i.due_date,
            "amount": money(i.amount.as_ref()),
            "status": installment_name(i.status),
        })).collect::<Vec<_>>(),
    })
}

fn to_text(p: &api::Plan) -> String {
    let mut out = format!(
        "plan {}  {}  {} over {} item(s) of customer {}, {} paid\n    proposed by {}",
        p.plan_id,
        status_name(p.status),
        money(p.total.as_ref()),
        p.receivable_ids.len(),
        p.customer_id,
        money(p.paid.as_ref()),
        p.proposed_by,
    );
    if !p.first_approved_by.is_empty() {
        out.push_str(&format!("; approved by {}", p.first_approved_by));
    }
    if !p.second_approved_by.is_empty() {
        out.push_str(&format!(" and {} (risk)", p.second_approved_by));
    } else if p.second_approval_required
        && matches!(
            api::PlanStatus::try_from(p.status),
            Ok(api::PlanStatus::Proposed | api::PlanStatus::FirstApproved)
        )
    {
        out.push_str("; needs a second approver with the risk role");
    }
    if !p.rejected_by.is_empty() {
        out.push_str(&format!(
            "; rejected by {}: {}",
            p.rejected_by, p.decision_note
        ));
    }
    if !p.agreed_on.is_empty() {
        out.push_str(&format!("; agreed on {}", p.agreed_on));
    }
    if !p.ended_on.is_empty() {
        out.push_str(&format!("; ended on {}", p.ended_on));
        if !p.end_reason.is_empty() {
            out.push_str(&format!(" ({})", p.end_reason));
        }
    }
    for i in &p.installments {
        out.push_str(&format!(
            "\n    #{:<3} {}  {:>16}  {}",
            i.number,
            i.due_date,
            money(i.amount.as_ref()),
            installment_name(i.status)
        ));
    }
    out
}

fn parse_installments(
    given: &[String],
    currency: &str,
) -> Result<Vec<api::PlanInstallment>, String> {
    given
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let (date, amount) = text.split_once('=').ok_or_else(|| {
                format!("--installment {text:?}: give DATE=AMOUNT, e.g. 2027-01-15=3000.00")
            })?;
            Ok(api::PlanInstallment {
                number: u32::try_from(i + 1).unwrap_or(u32::MAX),
                due_date: date.trim().to_owned(),
                amount: Some(proto::types::v1::Money {
                    amount: amount.trim().to_owned(),
                    currency: currency.to_owned(),
                }),
                status: 0,
            })
        })
        .collect()
}

pub(crate) fn run(args: PlansArgs) -> Outcome {
    let json = args.conn.json;
    service::block_on(async move {
        let mut client = service::dunning(args.conn.dunning).await?;
        let plan = match args.command {
            PlansCommand::Propose {
                customer_id,
                items,
                installments,
                first_due,
                installment,
                currency,
                grace_days,
                reason,
                idempotency_key,
            } => {
                let given = parse_installments(&installment, &currency)
                    .map_err(|e| anyhow::anyhow!(e))
                    .hint("write each installment as --installment 2027-01-15=3000.00")?;
                if given.is_empty() && installments.is_none() {
                    return Err(anyhow::anyhow!("no installments given")).hint(
                        "give --installments N --first-due DATE (equal monthly), or --installment DATE=AMOUNT for each",
                    );
                }
                let count = installments.unwrap_or_default().to_string();
                let grace = grace_days.to_string();
                let mut parts: Vec<&str> = vec![&customer_id, &reason, &count, &grace];
                parts.extend(items.iter().map(String::as_str));
                parts.extend(installment.iter().map(String::as_str));
                if let Some(first) = &first_due {
                    parts.push(first);
                }
                let key = idempotency_key.unwrap_or_else(|| default_key("plan", &parts));
                client
                    .propose_plan(api::ProposePlanRequest {
                        idempotency_key: key,
                        customer_id,
                        receivable_ids: items,
                        installments: given,
                        installment_count: installments.unwrap_or_default(),
                        first_due_date: first_due.unwrap_or_default(),
                        grace_days,
                        reason,
                    })
                    .await
                    .map_err(refused)?
                    .into_inner()
                    .plan
            }
            PlansCommand::Approve { plan_id, note } => {
                client
                    .approve_plan(api::ApprovePlanRequest { plan_id, note })
                    .await
                    .map_err(refused)?
                    .into_inner()
                    .plan
            }
            PlansCommand::Reject { plan_id, reason } => {
                client
                    .reject_plan(api::RejectPlanRequest { plan_id, reason })
                    .await
                    .map_err(refused)?
                    .into_inner()
                    .plan
            }
            PlansCommand::List { customer, status } => {
                let status = status.map_or(api::PlanStatus::Unspecified, |s| match s {
                    StatusArg::Proposed => api::PlanStatus::Proposed,
                    StatusArg::FirstApproved => api::PlanStatus::FirstApproved,
                    StatusArg::Active => api::PlanStatus::Active,
                    StatusArg::Rejected => api::PlanStatus::Rejected,
                    StatusArg::Completed => api::PlanStatus::Completed,
                    StatusArg::Broken => api::PlanStatus::Broken,
                    StatusArg::Refused => api::PlanStatus::Refused,
                });
                let plans = client
                    .list_plans(api::ListPlansRequest {
                        customer_id: customer.unwrap_or_default(),
                        status: status as i32,
                        page_size: 0,
                    })
                    .await
                    .map_err(refused)?
                    .into_inner()
                    .plans;
                if json {
                    return Ok(serde_json::to_string_pretty(
                        &plans.iter().map(to_json).collect::<Vec<_>>(),
                    )?);
                }
                if plans.is_empty() {
                    return Ok("no plans".to_owned());
                }
                return Ok(plans.iter().map(to_text).collect::<Vec<_>>().join("\n"));
            }
        };
        let plan = plan.unwrap_or_default();
        if json {
            return Ok(serde_json::to_string_pretty(&to_json(&plan))?);
        }
        Ok(to_text(&plan))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installments_parse_and_a_bad_one_is_named() {
        let parsed = parse_installments(
            &["2027-01-15=3000.00".into(), "2027-02-15 = 2000".into()],
            "CNY",
        )
        .unwrap_or_default();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[1].number, 2);
        assert_eq!(parsed[1].due_date, "2027-02-15");
        assert_eq!(
            parsed[1].amount.as_ref().map(|m| m.amount.as_str()),
            Some("2000")
        );
        let err = parse_installments(&["2027-01-15:3000".into()], "CNY")
            .err()
            .unwrap_or_default();
        assert!(err.contains("--installment \"2027-01-15:3000\""), "{err}");
    }

    #[test]
    fn a_plan_reads_with_its_approvers_and_installments() {
        let p = api::Plan {
            plan_id: "P1".into(),
            customer_id: "C1".into(),
            receivable_ids: vec!["R1".into(), "R2".into()],
            total: Some(proto::types::v1::Money {
                amount: "60000.00".into(),
                currency: "CNY".into(),
            }),
            status: api::PlanStatus::FirstApproved as i32,
            second_approval_required: true,
            proposed_by: "li.na".into(),
            first_approved_by: "zhao.lei".into(),
            installments: vec![api::PlanInstallment {
                number: 1,
                due_date: "2027-01-15".into(),
                amount: Some(proto::types::v1::Money {
                    amount: "20000.00".into(),
                    currency: "CNY".into(),
                }),
                status: api::InstallmentStatus::Pending as i32,
            }],
            ..Default::default()
        };
        let text = to_text(&p);
        assert!(
            text.starts_with("plan P1  first_approved  60000.00 CNY over 2 item(s)"),
            "{text}"
        );
        assert!(
            text.contains("approved by zhao.lei; needs a second approver with the risk role"),
            "{text}"
        );
        assert!(text.contains("#1   2027-01-15"), "{text}");
        assert_eq!(to_json(&p)["installments"][0]["status"], "pending");
    }
}
