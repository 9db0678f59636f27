//! `collectctl dunning promises`: a debtor's promise to pay (R-D5; issue 14 item 2). Make one
//! (the ladder waits for the date plus the grace days, then dunning judges it from the
//! payments applied since) and list a debtor's, with what was paid towards each.

use clap::{Args, Subcommand};
use proto::dunning::v1 as api;

use crate::cli::Outcome;
use crate::dunning_names::{Conn, default_key, money, refused};
use crate::service;

#[derive(Args)]
pub(crate) struct PromisesArgs {
    #[command(flatten)]
    conn: Conn,
    #[command(subcommand)]
    command: PromisesCommand,
}

#[derive(Subcommand)]
enum PromisesCommand {
    /// Record a promise: the ladder holds until the date plus the grace days.
    Make {
        /// Customer id.
        customer_id: String,
        /// The amount promised, e.g. 5000.00.
        #[arg(long)]
        amount: String,
        /// Its currency.
        #[arg(long, default_value = "CNY")]
        currency: String,
        /// The date promised, YYYY-MM-DD.
        #[arg(long, value_name = "DATE")]
        by: String,
        /// Days after the date that still count (0 to 30).
        #[arg(long, default_value_t = 0)]
        grace_days: u32,
        /// The share of the amount that counts as kept, in percent (1 to 100).
        #[arg(long, default_value = "100")]
        threshold: String,
        /// What the debtor said.
        #[arg(long, default_value = "")]
        note: String,
        /// Client idempotency key. Default: derived from the arguments, so the same command
        /// again is a repeat.
        #[arg(long, value_name = "KEY")]
        idempotency_key: Option<String>,
    },
    /// A debtor's promises, newest first.
    List {
        /// Customer id.
        customer_id: String,
    },
}

fn status_name(status: i32) -> &'static str {
    match api::PromiseStatus::try_from(status) {
        Ok(api::PromiseStatus::Open) => "open",
        Ok(api::PromiseStatus::Kept) => "kept",
        Ok(api::PromiseStatus::Broken) => "broken",
        _ => "unknown",
    }
}

fn to_json(p: &api::Promise) -> serde_json::Value {
    serde_json::json!({
        "promise_id": p.promise_id,
        "customer_id": p.customer_id,
        "case_id": p.case_id,
        "amount": p.amount.as_ref().map(|m| m.amount.clone()),
        "currency": p.amount.as_ref().map(|m| m.currency.clone()),
        "promised_date": p.promised_date,
        "grace_days": p.grace_days,
        "threshold_percent": p.threshold_percent,
        "status": status_name(p.status),
        "paid": p.paid.as_ref().map(|m| m.amount.clone()),
        "judged_on": p.judged_on,
        "paused_step": p.paused_step,
        "made_by": p.made_by,
        "made_on": p.made_on,
        "note": p.note,
    })
}

fn to_text(p: &api::Promise) -> String {
    let mut out = format!(
        "promise {}  {}  {} by {} (+{} grace days, kept at {} %)\n    paid {} so far; made by {} on {}; the ladder paused at {}",
        p.promise_id,
        status_name(p.status),
        money(p.amount.as_ref()),
        p.promised_date,
        p.grace_days,
        p.threshold_percent,
        money(p.paid.as_ref()),
        p.made_by,
        p.made_on,
        if p.paused_step.is_empty() {
            "its start"
        } else {
            &p.paused_step
        },
    );
    if !p.judged_on.is_empty() {
        out.push_str(&format!("\n    judged on {}", p.judged_on));
    }
    if !p.note.is_empty() {
        out.push_str(&format!("\n    note: {}", p.note));
    }
    out
}

pub(crate) fn run(args: PromisesArgs) -> Outcome {
    let json = args.conn.json;
    service::block_on(async move {
        let mut client = service::dunning(args.conn.dunning).await?;
        match args.command {
            PromisesCommand::Make {
                customer_id,
                amount,
                currency,
                by,
                grace_days,
                threshold,
                note,
                idempotency_key,
            } => {
                let key = idempotency_key.unwrap_or_else(|| {
                    default_key(
                        "promise",
                        &[
                            &customer_id,
                            &amount,
                            &currency,
                            &by,
                            &grace_days.to_string(),
                            &threshold,
                        ],
                    )
                });
                let promise = client
                    .make_promise(api::MakePromiseRequest {
                        idempotency_key: key.clone(),
                        customer_id,
                        amount: Some(proto::types::v1::Money { amount, currency }),
                        promised_date: by,
                        grace_days,
                        threshold_percent: threshold,
                        note,
                    })
                    .await
                    .map_err(refused)?
                    .into_inner()
                    .promise
                    .unwrap_or_default();
                if json {
                    let mut json = to_json(&promise);
                    json["idempotency_key"] = serde_json::json!(key);
                    return Ok(serde_json::to_string_pretty(&json)?);
                }
                Ok(format!(
                    "recorded: {}\nidempotency key {key} (the same command again is recognised as a repeat)",
                    to_text(&promise)
                ))
            }
            PromisesCommand::List { customer_id } => {
                let promises = client
                    .list_promises(api::ListPromisesRequest { customer_id })
                    .await
                    .map_err(refused)?
                    .into_inner()
                    .promises;
                if json {
                    return Ok(serde_json::to_string_pretty(
                        &promises.iter().map(to_json).collect::<Vec<_>>(),
                    )?);
                }
                if promises.is_empty() {
                    return Ok("no promises".to_owned());
                }
                Ok(promises.iter().map(to_text).collect::<Vec<_>>().join("\n"))
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_promise_in_text_says_what_was_promised_paid_and_where_the_ladder_paused() {
        let p = api::Promise {
            promise_id: "P1".into(),
            amount: Some(proto::types::v1::Money {
                amount: "5000.00".into(),
                currency: "CNY".into(),
            }),
            promised_date: "2026-03-25".into(),
            grace_days: 2,
            threshold_percent: "95".into(),
            status: api::PromiseStatus::Broken as i32,
            paid: Some(proto::types::v1::Money {
                amount: "4000.00".into(),
                currency: "CNY".into(),
            }),
            judged_on: "2026-03-28".into(),
            paused_step: "notice".into(),
            made_by: "li.na".into(),
            made_on: "2026-03-18".into(),
            ..Default::default()
        };
        let text = to_text(&p);
        assert!(
            text.starts_with(
                "promise P1  broken  5000.00 CNY by 2026-03-25 (+2 grace days, kept at 95 %)"
            ),
            "{text}"
        );
        assert!(text.contains("paid 4000.00 CNY so far"), "{text}");
        assert!(text.contains("paused at notice"), "{text}");
        assert!(text.contains("judged on 2026-03-28"), "{text}");
        assert_eq!(to_json(&p)["status"], "broken");
    }
}
