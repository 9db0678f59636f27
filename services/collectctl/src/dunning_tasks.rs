//! `collectctl dunning tasks`: phone calls and visits are tasks for collectors (issue 13
//! item 3). List them, create one (its due time checked against the conduct rules by the
//! service, R-D9), and complete one with its outcome, which lands in the contact log (R-D4)
//! with the delivery proof of a notice (R-D2).

use std::path::PathBuf;

use chrono::{DateTime, FixedOffset};
use clap::{Args, Subcommand};
use proto::dunning::v1 as api;
use proto::types::v1::{ContactChannel, ContactOutcome};

use crate::cli::{Hint, Outcome};
use crate::dunning_names::{
    Conn, at_offset, channel_name, default_key, due_line, outcome_name, reason_name, refused,
    rfc3339, task_channel, task_outcome, task_status,
};
use crate::service;

#[derive(Args)]
pub(crate) struct TasksArgs {
    #[command(flatten)]
    conn: Conn,
    #[command(subcommand)]
    command: TasksCommand,
}

#[derive(Subcommand)]
enum TasksCommand {
    /// Open tasks you may see (a collector their own), by due time; --all adds done ones.
    List {
        /// Only this customer's.
        #[arg(long, value_name = "ID")]
        customer: Option<String>,
        /// Include completed tasks.
        #[arg(long)]
        all: bool,
    },
    /// Create a phone call or visit; the service moves it out of quiet hours and holidays.
    Create {
        /// Customer id.
        customer_id: String,
        /// phone or visit.
        #[arg(long, value_parser = task_channel)]
        channel: ContactChannel,
        /// When (RFC 3339, e.g. 2026-03-02T22:15:00+08:00).
        #[arg(long, value_parser = rfc3339, value_name = "TIME")]
        due: DateTime<FixedOffset>,
        /// A note for whoever makes the call or visit.
        #[arg(long, default_value = "")]
        note: String,
        /// Client idempotency key. Default: derived from the customer, channel, due time and
        /// note, so the same command again is a repeat.
        #[arg(long, value_name = "KEY")]
        idempotency_key: Option<String>,
    },
    /// Enter what came of a call, visit or delivery; it is logged once, with you as actor.
    Complete {
        /// Task id (from `collectctl dunning tasks list`).
        task_id: String,
        /// answered, no-answer, refused, promise-made, disputed, delivered or returned.
        #[arg(long, value_parser = task_outcome)]
        outcome: ContactOutcome,
        /// What was said or done.
        #[arg(long, default_value = "")]
        note: String,
        /// When it happened (RFC 3339); default now.
        #[arg(long, value_parser = rfc3339, value_name = "TIME")]
        at: Option<DateTime<FixedOffset>>,
        /// Proof of delivery of a notice: the registered-mail number.
        #[arg(long, value_name = "NO", conflicts_with = "signature_image")]
        registered_mail: Option<String>,
        /// Proof of delivery of a notice: the scanned signature (its SHA-256 is logged).
        #[arg(long, value_name = "FILE")]
        signature_image: Option<PathBuf>,
    },
}

fn to_json(t: &api::Task) -> serde_json::Value {
    serde_json::json!({
        "task_id": t.task_id,
        "customer_id": t.customer_id,
        "case_id": t.case_id,
        "channel": channel_name(t.channel),
        "step": t.step,
        "requested_at": t.requested_at,
        "due_at": t.due_at,
        "moved_for": reason_name(t.refused_for),
        "assignee": t.assignee,
        "status": task_status(t.status),
        "outcome": outcome_name(t.outcome),
        "completed_by": t.completed_by,
        "completed_at": t.completed_at,
        "note": t.note,
        "notice_id": t.notice_id,
        "contact_log_seq": t.contact_log_seq,
        "created_by": t.created_by,
    })
}

/// A task in text; times at `offset` when the operator gave one.
fn to_text(t: &api::Task, offset: Option<FixedOffset>) -> String {
    let mut out = format!(
        "task {}  {}  {} for customer {} (step {}, assigned to {})\n    {}",
        t.task_id,
        task_status(t.status),
        channel_name(t.channel),
        t.customer_id,
        t.step,
        t.assignee,
        due_line(&t.requested_at, &t.due_at, t.refused_for, offset),
    );
    if !t.notice_id.is_empty() {
        out.push_str(&format!("\n    deliver notice {}", t.notice_id));
    }
    if !t.note.is_empty() {
        out.push_str(&format!("\n    note: {}", t.note));
    }
    if !t.completed_by.is_empty() {
        out.push_str(&format!(
            "\n    {} by {} at {} (contact log #{})",
            outcome_name(t.outcome),
            t.completed_by,
            at_offset(&t.completed_at, offset),
            t.contact_log_seq
        ));
    }
    out
}

pub(crate) fn run(args: TasksArgs) -> Outcome {
    let json = args.conn.json;
    service::block_on(async move {
        let mut client = service::dunning(args.conn.dunning).await?;
        match args.command {
            TasksCommand::List { customer, all } => {
                let tasks = service::all_pages_with(refused, |page_token| {
                    let mut client = client.clone();
                    let request = api::ListTasksRequest {
                        customer_id: customer.clone().unwrap_or_default(),
                        include_done: all,
                        page_size: 200,
                        page_token,
                    };
                    async move {
                        let page = client.list_tasks(request).await?.into_inner();
                        Ok((page.tasks, page.next_page_token))
                    }
                })
                .await?;
                if json {
                    return Ok(serde_json::to_string_pretty(
                        &tasks.iter().map(to_json).collect::<Vec<_>>(),
                    )?);
                }
                if tasks.is_empty() {
                    return Ok(if all { "no tasks" } else { "no open tasks" }.to_owned());
                }
                Ok(tasks
                    .iter()
                    .map(|t| to_text(t, None))
                    .collect::<Vec<_>>()
                    .join("\n"))
            }
            TasksCommand::Create {
                customer_id,
                channel,
                due,
                note,
                idempotency_key,
            } => {
                let key = idempotency_key.unwrap_or_else(|| {
                    default_key(
                        "task",
                        &[
                            &customer_id,
                            channel_name(channel as i32),
                            &due.to_rfc3339(),
                            &note,
                        ],
                    )
                });
                let task = client
                    .create_task(api::CreateTaskRequest {
                        idempotency_key: key.clone(),
                        customer_id,
                        channel: channel as i32,
                        due_at: due.to_rfc3339(),
                        note,
                    })
                    .await
                    .map_err(refused)?
                    .into_inner()
                    .task
                    .unwrap_or_default();
                if json {
                    let mut json = to_json(&task);
                    json["idempotency_key"] = serde_json::json!(key);
                    return Ok(serde_json::to_string_pretty(&json)?);
                }
                Ok(format!(
                    "created: {}\nidempotency key {key} (the same command again is recognised as a repeat)\nafterwards: collectctl dunning tasks complete {} --outcome answered|no-answer|wrong-number|refused|promise-made|disputed",
                    to_text(&task, Some(*due.offset())),
                    task.task_id
                ))
            }
            TasksCommand::Complete {
                task_id,
                outcome,
                note,
                at,
                registered_mail,
                signature_image,
            } => {
                let signature_image = match &signature_image {
                    Some(path) => std::fs::read(path).hint(format!(
                        "cannot read the signature image {}: check the path",
                        path.display()
                    ))?,
                    None => Vec::new(),
                };
                let task = client
                    .complete_task(api::CompleteTaskRequest {
                        task_id,
                        outcome: outcome as i32,
                        note,
                        at: at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                        registered_mail_no: registered_mail.unwrap_or_default(),
                        signature_image,
                    })
                    .await
                    .map_err(refused)?
                    .into_inner()
                    .task
                    .unwrap_or_default();
                if json {
                    return Ok(serde_json::to_string_pretty(&to_json(&task))?);
                }
                Ok(format!("done: {}", to_text(&task, at.map(|t| *t.offset()))))
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use proto::types::v1::ConductReason;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: TasksArgs,
    }

    fn parse(args: &[&str]) -> Result<TasksCommand, String> {
        let mut all = vec!["tasks"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all)
            .map(|c| c.args.command)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn create_and_complete_parse_their_enums() {
        let Ok(TasksCommand::Create { channel, due, .. }) = parse(&[
            "create",
            "C1",
            "--channel",
            "phone",
            "--due",
            "2026-03-02T22:15:00+08:00",
        ]) else {
            panic!("create");
        };
        assert_eq!(channel, ContactChannel::PhoneCall);
        assert_eq!(due.offset().local_minus_utc(), 8 * 3600);
        let Ok(TasksCommand::Complete {
            outcome,
            registered_mail,
            ..
        }) = parse(&[
            "complete",
            "T1",
            "--outcome",
            "delivered",
            "--registered-mail",
            "XA123",
        ])
        else {
            panic!("complete");
        };
        assert_eq!(outcome, ContactOutcome::Delivered);
        assert_eq!(registered_mail.as_deref(), Some("XA123"));
        let Ok(TasksCommand::List { customer, all }) = parse(&["list", "--all"]) else {
            panic!("list");
        };
        assert_eq!((customer, all), (None, true));
    }

    #[test]
    fn wrong_values_are_refused_with_the_valid_ones() {
        let error = parse(&[
            "create",
            "C1",
            "--channel",
            "sms",
            "--due",
            "2026-03-02T10:00:00Z",
        ])
        .err()
        .unwrap_or_default();
        assert!(error.contains("phone, visit"), "{error}");
        let error = parse(&["complete", "T1", "--outcome", "maybe"])
            .err()
            .unwrap_or_default();
        assert!(
            error.contains(
                "answered, no-answer, wrong-number, refused, promise-made, disputed, delivered, returned"
            ),
            "{error}"
        );
        // One proof of delivery, not both.
        assert!(
            parse(&[
                "complete",
                "T1",
                "--outcome",
                "delivered",
                "--registered-mail",
                "X",
                "--signature-image",
                "s.png",
            ])
            .is_err()
        );
    }

    #[test]
    fn a_task_in_text_says_when_it_is_due_and_why_it_moved() {
        let task = api::Task {
            task_id: "T1".to_owned(),
            customer_id: "C1".to_owned(),
            channel: ContactChannel::PhoneCall as i32,
            step: "manual".to_owned(),
            requested_at: "2026-03-02T14:15:00+00:00".to_owned(),
            due_at: "2026-03-03T00:00:00+00:00".to_owned(),
            refused_for: ConductReason::QuietHours as i32,
            assignee: "li.na".to_owned(),
            status: api::TaskStatus::Done as i32,
            outcome: ContactOutcome::Answered as i32,
            completed_by: "li.na".to_owned(),
            completed_at: "2026-03-03T00:05:00+00:00".to_owned(),
            contact_log_seq: 4,
            ..Default::default()
        };
        let text = to_text(&task, FixedOffset::east_opt(8 * 3600));
        assert!(
            text.starts_with("task T1  done  phone for customer C1"),
            "{text}"
        );
        assert!(text.contains("due 2026-03-03T08:00:00+08:00, moved from 2026-03-02T22:15:00+08:00 because of quiet hours"), "{text}");
        assert!(
            text.contains("answered by li.na at 2026-03-03T08:05:00+08:00"),
            "{text}"
        );
        assert!(text.contains("contact log #4"), "{text}");
        let json = to_json(&task);
        assert_eq!(json["outcome"], "answered");
        assert_eq!(json["moved_for"], "quiet-hours");
    }
}
