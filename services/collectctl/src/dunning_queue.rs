//! `collectctl dunning queue`: the collector's work queue (R-D11, R-O3; issue 14 item 1):
//! debtors ordered by expected recovery = probability of payment within 30 days × collectible
//! amount, both shown with the reasons behind the probability (model `queue-v1`).

use clap::Args;
use proto::dunning::v1 as api;

use crate::cli::Outcome;
use crate::dunning_names::{Conn, money, refused};
use crate::service;

#[derive(Args)]
pub(crate) struct QueueArgs {
    #[command(flatten)]
    conn: Conn,
    /// One owner's queue (supervisors: a member of the team); default: yours.
    #[arg(long, value_name = "PRINCIPAL")]
    owner: Option<String>,
    /// At most this many debtors (default 100, at most 1000).
    #[arg(long, default_value_t = 100)]
    limit: u32,
}

fn to_json(e: &api::QueueEntry) -> serde_json::Value {
    serde_json::json!({
        "customer_id": e.customer_id,
        "case_id": e.case_id,
        "name": e.name,
        "owner": e.owner,
        "grade": e.grade,
        "days_overdue": e.days_overdue,
        "collectible": e.collectible.as_ref().map(|m| m.amount.clone()),
        "currency": e.collectible.as_ref().map(|m| m.currency.clone()),
        "probability": e.probability,
        "expected_recovery": e.expected_recovery.as_ref().map(|m| m.amount.clone()),
        "reasons": e.reasons,
        "model": e.model,
        "next_task_due": e.next_task_due,
    })
}

fn to_text(rank: usize, e: &api::QueueEntry) -> String {
    let mut out = format!(
        "{rank:>3}. {}  expected {} = {} × {}  ({} {}, {} days overdue, owner {})\n     why: {}",
        if e.name.is_empty() {
            &e.customer_id
        } else {
            &e.name
        },
        money(e.expected_recovery.as_ref()),
        e.probability,
        money(e.collectible.as_ref()),
        e.customer_id,
        e.grade,
        e.days_overdue,
        e.owner,
        e.reasons.join("; ")
    );
    if !e.next_task_due.is_empty() {
        out.push_str(&format!("\n     next task due {}", e.next_task_due));
    }
    out
}

pub(crate) fn run(args: QueueArgs) -> Outcome {
    let json = args.conn.json;
    service::block_on(async move {
        let mut client = service::dunning(args.conn.dunning).await?;
        let entries = client
            .list_queue(api::ListQueueRequest {
                owner: args.owner.unwrap_or_default(),
                page_size: args.limit,
            })
            .await
            .map_err(refused)?
            .into_inner()
            .entries;
        if json {
            return Ok(serde_json::to_string_pretty(
                &entries.iter().map(to_json).collect::<Vec<_>>(),
            )?);
        }
        if entries.is_empty() {
            return Ok("the queue is empty: no debtor with an active case".to_owned());
        }
        Ok(entries
            .iter()
            .enumerate()
            .map(|(i, e)| to_text(i + 1, e))
            .collect::<Vec<_>>()
            .join("\n"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_shows_both_factors_and_why() {
        let money = |a: &str| {
            Some(proto::types::v1::Money {
                amount: a.into(),
                currency: "CNY".into(),
            })
        };
        let e = api::QueueEntry {
            customer_id: "C1".into(),
            name: "蒋十六".into(),
            owner: "li.na".into(),
            grade: "BB".into(),
            days_overdue: 15,
            collectible: money("9000.00"),
            probability: "0.66".into(),
            expected_recovery: money("5940.00"),
            reasons: vec![
                "grade BB: base 55 %".into(),
                "last contact promise_made: ×1.2".into(),
            ],
            model: "queue-v1".into(),
            ..Default::default()
        };
        let text = to_text(1, &e);
        assert!(
            text.starts_with("  1. 蒋十六  expected 5940.00 CNY = 0.66 × 9000.00 CNY"),
            "{text}"
        );
        assert!(text.contains("why: grade BB: base 55 %; last contact promise_made: ×1.2"));
        assert_eq!(to_json(&e)["probability"], "0.66");
    }
}
