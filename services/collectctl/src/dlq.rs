//! `collectctl dlq`: one service's dead letters (issue 11), for operators: list them, show
//! one, re-drive one through the service's own handler once its cause is fixed, or discard
//! one with a reason. Text for people, `--json` for machines. What is shown comes from the
//! event's envelope (type, id, producer, key) and the consumer's reason; never the payload.

use std::fmt::Write as _;

use clap::{Args, Subcommand, ValueEnum};
use proto::deadletters::v1 as api;

use crate::cli::Outcome;
use crate::service;

#[derive(Args)]
pub(crate) struct DlqArgs {
    /// Whose dead letters: contracts, payments, scoring, dunning or legal.
    #[arg(long, global = true, default_value = "")]
    service: String,
    /// The service's URL (default: $<SERVICE>_URL, else the local stack's port).
    #[arg(long, global = true)]
    url: Option<String>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: DlqCommand,
}

/// Which dead letters to list.
#[derive(Clone, Copy, ValueEnum)]
enum StatusArg {
    Open,
    Redriven,
    Discarded,
    All,
}

#[derive(Subcommand)]
enum DlqCommand {
    /// Dead letters, newest first (default: the open ones).
    List {
        /// open, redriven, discarded or all.
        #[arg(long, value_enum, default_value = "open")]
        status: StatusArg,
        /// Only this event type, e.g. receivables.events.v1.PaymentAllocated.
        #[arg(long, default_value = "")]
        event_type: String,
        /// At most this many (1 to 1000).
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Continue with the next page: the `next` token a previous page printed.
        #[arg(long, default_value = "")]
        after: String,
    },
    /// One dead letter: why, what event, where it came from, what became of it.
    Show {
        /// Dead letter id (from `list`).
        id: i64,
    },
    /// Handle a dead letter again in its service (after the cause is fixed); recorded as
    /// re-driven by you. A failure leaves it open and says why.
    Redrive {
        /// Dead letter id (from `list`).
        id: i64,
        /// What was fixed (kept with the record).
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Close a dead letter without handling it; recorded with you and the reason.
    Discard {
        /// Dead letter id (from `list`).
        id: i64,
        /// Why it is closed (required).
        #[arg(long)]
        reason: String,
    },
}

pub(crate) fn run(args: DlqArgs) -> Outcome {
    service::block_on(async move {
        if args.service.is_empty() {
            return Err(crate::cli::Failure::with_hint(
                anyhow::anyhow!("--service is required"),
                "give --service contracts, payments, scoring, dunning or legal",
            ));
        }
        let mut client = service::dead_letters(&args.service, args.url.clone()).await?;
        match args.command {
            DlqCommand::List {
                status,
                event_type,
                limit,
                after,
            } => {
                let status = match status {
                    StatusArg::Open => api::DeadLetterStatus::Open,
                    StatusArg::Redriven => api::DeadLetterStatus::Redriven,
                    StatusArg::Discarded => api::DeadLetterStatus::Discarded,
                    StatusArg::All => api::DeadLetterStatus::Unspecified,
                };
                let page = client
                    .list_dead_letters(api::ListDeadLettersRequest {
                        page_size: limit,
                        page_token: after,
                        status: status as i32,
                        event_type,
                        source_topic: String::new(),
                    })
                    .await
                    .map_err(service::status)?
                    .into_inner();
                if args.json {
                    return Ok(serde_json::to_string_pretty(&serde_json::json!({
                        "service": args.service,
                        "open": page.open_count,
                        "dead_letters": page.dead_letters.iter().map(letter_json).collect::<Vec<_>>(),
                        "next": page.next_page_token,
                    }))?);
                }
                Ok(list_text(&args.service, &page))
            }
            DlqCommand::Show { id } => {
                let shown = client
                    .get_dead_letter(api::GetDeadLetterRequest { dead_letter_id: id })
                    .await
                    .map_err(service::status)?
                    .into_inner();
                let letter = shown.dead_letter.unwrap_or_default();
                if args.json {
                    let mut json = letter_json(&letter);
                    json["envelope_decodes"] = shown.envelope_decodes.into();
                    json["schema_version"] = shown.schema_version.into();
                    json["message_key"] = shown.message_key.clone().into();
                    json["handled_by_service"] = shown.handled_by_service.into();
                    return Ok(serde_json::to_string_pretty(&json)?);
                }
                let mut out = letter_text(&letter);
                let _ = write!(
                    out,
                    "\n  message key: {}\n  envelope: {}\n  this service acts on it: {}",
                    or_dash(&shown.message_key),
                    if shown.envelope_decodes {
                        format!("decodes (schema version {})", shown.schema_version)
                    } else {
                        "does not decode".to_owned()
                    },
                    if shown.handled_by_service {
                        "yes"
                    } else {
                        "no"
                    }
                );
                if letter.status == api::DeadLetterStatus::Open as i32 {
                    let _ = write!(
                        out,
                        "\nnext: fix the cause, then `collectctl dlq redrive {id} --service {svc}`; or `collectctl dlq discard {id} --service {svc} --reason \"…\"`",
                        svc = args.service
                    );
                }
                Ok(out)
            }
            DlqCommand::Redrive { id, note } => {
                let done = client
                    .redrive_dead_letter(api::RedriveDeadLetterRequest {
                        dead_letter_id: id,
                        note,
                    })
                    .await
                    .map_err(dlq_status)?
                    .into_inner();
                let outcome = api::RedriveOutcome::try_from(done.outcome)
                    .unwrap_or(api::RedriveOutcome::Unspecified);
                let letter = done.dead_letter.unwrap_or_default();
                if args.json {
                    let mut json = letter_json(&letter);
                    json["outcome"] = outcome.as_str_name().into();
                    return Ok(serde_json::to_string_pretty(&json)?);
                }
                let what = match outcome {
                    api::RedriveOutcome::AlreadyApplied => {
                        "was already applied; nothing was done twice"
                    }
                    _ => "applied",
                };
                Ok(format!(
                    "dead letter {id} {what}; re-driven by {}\n{}",
                    letter.resolved_by,
                    letter_text(&letter)
                ))
            }
            DlqCommand::Discard { id, reason } => {
                let done = client
                    .discard_dead_letter(api::DiscardDeadLetterRequest {
                        dead_letter_id: id,
                        reason,
                    })
                    .await
                    .map_err(dlq_status)?
                    .into_inner();
                let letter = done.dead_letter.unwrap_or_default();
                if args.json {
                    return Ok(serde_json::to_string_pretty(&letter_json(&letter))?);
                }
                Ok(format!(
                    "dead letter {id} discarded by {}\n{}",
                    letter.resolved_by,
                    letter_text(&letter)
                ))
            }
        }
    })
}

/// gRPC errors of redrive/discard: the service's message says what to do.
fn dlq_status(status: tonic::Status) -> crate::cli::Failure {
    match status.code() {
        tonic::Code::FailedPrecondition | tonic::Code::NotFound => crate::cli::Failure::with_hint(
            anyhow::anyhow!("{:?}: {}", status.code(), status.message()),
            "see `collectctl dlq show ID --service SERVICE`; list again with `collectctl dlq list --service SERVICE --status all`",
        ),
        _ => service::status(status),
    }
}

fn status_name(status: i32) -> &'static str {
    match api::DeadLetterStatus::try_from(status) {
        Ok(api::DeadLetterStatus::Open) => "OPEN",
        Ok(api::DeadLetterStatus::Redriven) => "REDRIVEN",
        Ok(api::DeadLetterStatus::Discarded) => "DISCARDED",
        _ => "UNKNOWN",
    }
}

fn or_dash(s: &str) -> &str {
    if s.is_empty() { "-" } else { s }
}

fn letter_json(l: &api::DeadLetter) -> serde_json::Value {
    serde_json::json!({
        "dead_letter_id": l.dead_letter_id,
        "status": status_name(l.status),
        "reason": l.reason,
        "event_type": l.event_type,
        "event_id": l.event_id,
        "producer": l.producer,
        "aggregate_key": l.aggregate_key,
        "occurred_at": l.occurred_at,
        "source": {"topic": l.source_topic, "partition": l.source_partition, "offset": l.source_offset},
        "dead_letter": {"topic": l.dead_letter_topic, "partition": l.dead_letter_partition, "offset": l.dead_letter_offset},
        "payload_bytes": l.payload_bytes,
        "recorded_at": l.recorded_at,
        "resolved_by": l.resolved_by,
        "resolved_at": l.resolved_at,
        "note": l.note,
    })
}

fn letter_text(l: &api::DeadLetter) -> String {
    let mut out = format!(
        "#{} {}  {}\n  event: {} {} (producer {}, key {}, occurred {})\n  from: {} partition {} offset {}\n  why: {}",
        l.dead_letter_id,
        status_name(l.status),
        l.recorded_at,
        or_dash(&l.event_type),
        or_dash(&l.event_id),
        or_dash(&l.producer),
        or_dash(&l.aggregate_key),
        or_dash(&l.occurred_at),
        l.source_topic,
        l.source_partition,
        l.source_offset,
        l.reason
    );
    if !l.resolved_by.is_empty() {
        let _ = write!(
            out,
            "\n  {} by {} at {}{}",
            status_name(l.status).to_lowercase(),
            l.resolved_by,
            l.resolved_at,
            if l.note.is_empty() {
                String::new()
            } else {
                format!(": {}", l.note)
            }
        );
    }
    out
}

fn list_text(service: &str, page: &api::ListDeadLettersResponse) -> String {
    let mut out = format!(
        "{} dead letters of {service} listed ({} open in all)\n",
        page.dead_letters.len(),
        page.open_count
    );
    for l in &page.dead_letters {
        let _ = writeln!(out, "{}", letter_text(l));
    }
    if !page.next_page_token.is_empty() {
        let _ = write!(
            out,
            "more: collectctl dlq list --service {service} --after {}",
            page.next_page_token
        );
    }
    out.trim_end().to_owned()
}
