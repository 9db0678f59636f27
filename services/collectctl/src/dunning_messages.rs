//! `collectctl dunning send` and `collectctl dunning messages`: a collector's message from one
//! of the policy's templates, checked against the conduct rules by the service (moved to the
//! next allowed time with the reason, never dropped; R-D9, R-D10, R-D13), and the debtor's
//! outbound messages.

use chrono::{DateTime, FixedOffset, Utc};
use clap::Args;
use proto::dunning::v1 as api;
use proto::types::v1::ContactChannel;

use crate::cli::Outcome;
use crate::dunning_names::{
    Conn, channel_name, default_key, due_line, message_channel, message_status, reason_name,
    refused, rfc3339,
};
use crate::service;

/// `dunning send`.
#[derive(Args)]
pub(crate) struct SendArgs {
    #[command(flatten)]
    conn: Conn,
    /// Customer id.
    customer_id: String,
    /// sms, email or app (to the debtor's own address of that channel on file).
    #[arg(long, value_parser = message_channel)]
    channel: ContactChannel,
    /// The policy step whose template is sent, e.g. reminder.
    #[arg(long, value_name = "STEP_CODE")]
    template: String,
    /// Not before this time (RFC 3339, e.g. 2026-03-04T10:00:00+08:00); default now.
    #[arg(long, value_parser = rfc3339, value_name = "TIME")]
    not_before: Option<DateTime<FixedOffset>>,
    /// To the contact the debtor designated, not the debtor: only a call-back-request
    /// template may go there (R-D9; THIRD_PARTY_DISCLOSURE otherwise).
    #[arg(long)]
    designated: bool,
    /// Client idempotency key. Default: derived from the customer, channel, template and
    /// --not-before (or today's date), so the same command again is a repeat, not a second
    /// message; give a new key to send the same message again.
    #[arg(long, value_name = "KEY")]
    idempotency_key: Option<String>,
}

/// `dunning messages`.
#[derive(Args)]
pub(crate) struct MessagesArgs {
    #[command(flatten)]
    conn: Conn,
    /// Customer id.
    customer_id: String,
}

fn to_json(m: &api::OutboundMessage) -> serde_json::Value {
    serde_json::json!({
        "message_id": m.message_id,
        "customer_id": m.customer_id,
        "channel": channel_name(m.channel),
        "to_masked": m.to,
        "template": m.template,
        "language": m.language,
        "requested_at": m.requested_at,
        "due_at": m.due_at,
        "moved_for": reason_name(m.refused_for),
        "status": message_status(m.status),
        "attempts": m.attempts,
        "failure": m.failure,
        "notice_id": m.notice_id,
        "requested_by": m.requested_by,
        "contact_log_seq": m.contact_log_seq,
    })
}

/// One line of `dunning messages`.
fn to_line(m: &api::OutboundMessage) -> String {
    let mut line = format!(
        "{}  {:<9}  {:<5}  to {}  {}  due {}  by {}",
        m.message_id,
        message_status(m.status),
        channel_name(m.channel),
        m.to,
        m.template,
        m.due_at,
        m.requested_by
    );
    if !reason_name(m.refused_for).is_empty() {
        line.push_str(&format!(" (moved: {})", reason_name(m.refused_for)));
    }
    if m.contact_log_seq > 0 {
        line.push_str(&format!("  contact log #{}", m.contact_log_seq));
    }
    if !m.failure.is_empty() {
        line.push_str(&format!(
            "\n    failed after {} attempts: {}",
            m.attempts, m.failure
        ));
    }
    line
}

/// What `dunning send` prints.
fn sent_text(m: &api::OutboundMessage, offset: Option<FixedOffset>, key: &str) -> String {
    format!(
        "message {}: {} to {}, template {}\n{}\nstatus {}\nidempotency key {key} (the same command again is recognised as a repeat)",
        m.message_id,
        channel_name(m.channel),
        m.to,
        m.template,
        due_line(&m.requested_at, &m.due_at, m.refused_for, offset),
        message_status(m.status),
    )
}

/// The default key of a send: without --not-before, today's date (UTC) stands in for it, so
/// the same command tomorrow is a new message.
fn send_key(args: &SendArgs, today: &str) -> String {
    let when = args
        .not_before
        .map_or_else(|| today.to_owned(), |t| t.to_rfc3339());
    default_key(
        "send",
        &[
            &args.customer_id,
            channel_name(args.channel as i32),
            &args.template,
            &when,
            if args.designated {
                "designated"
            } else {
                "debtor"
            },
        ],
    )
}

pub(crate) fn send(args: SendArgs) -> Outcome {
    let key = args
        .idempotency_key
        .clone()
        .unwrap_or_else(|| send_key(&args, &Utc::now().date_naive().to_string()));
    service::block_on(async move {
        let mut client = service::dunning(args.conn.dunning).await?;
        let message = client
            .send_message(api::SendMessageRequest {
                idempotency_key: key.clone(),
                customer_id: args.customer_id,
                channel: args.channel as i32,
                template: args.template,
                not_before: args.not_before.map(|t| t.to_rfc3339()).unwrap_or_default(),
                recipient: if args.designated {
                    api::Recipient::DesignatedContact
                } else {
                    api::Recipient::Debtor
                } as i32,
            })
            .await
            .map_err(refused)?
            .into_inner()
            .message
            .unwrap_or_default();
        if args.conn.json {
            let mut json = to_json(&message);
            json["idempotency_key"] = serde_json::json!(key);
            return Ok(serde_json::to_string_pretty(&json)?);
        }
        Ok(sent_text(
            &message,
            args.not_before.map(|t| *t.offset()),
            &key,
        ))
    })
}

pub(crate) fn list(args: MessagesArgs) -> Outcome {
    service::block_on(async move {
        let client = service::dunning(args.conn.dunning).await?;
        let customer_id = args.customer_id;
        let messages = service::all_pages_with(refused, |page_token| {
            let mut client = client.clone();
            let request = api::ListMessagesRequest {
                customer_id: customer_id.clone(),
                page_size: 200,
                page_token,
            };
            async move {
                let page = client.list_messages(request).await?.into_inner();
                Ok((page.messages, page.next_page_token))
            }
        })
        .await?;
        if args.conn.json {
            return Ok(serde_json::to_string_pretty(
                &messages.iter().map(to_json).collect::<Vec<_>>(),
            )?);
        }
        if messages.is_empty() {
            return Ok(format!("no messages for customer {customer_id}"));
        }
        Ok(messages.iter().map(to_line).collect::<Vec<_>>().join("\n"))
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
        args: SendArgs,
    }

    fn parse(args: &[&str]) -> Result<SendArgs, clap::Error> {
        let mut all = vec!["send"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all).map(|c| c.args)
    }

    #[test]
    fn send_parses_its_options_and_refuses_a_task_channel() {
        let args = parse(&[
            "C1",
            "--channel",
            "sms",
            "--template",
            "reminder",
            "--not-before",
            "2026-03-04T10:00:00+08:00",
        ])
        .expect("parses");
        assert_eq!(args.channel, ContactChannel::Sms);
        assert_eq!(
            args.not_before.map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-03-04T10:00:00+08:00")
        );
        let error = parse(&["C1", "--channel", "phone", "--template", "reminder"])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("give one of sms, email, app"), "{error}");
        let error = parse(&[
            "C1",
            "--channel",
            "sms",
            "--template",
            "r",
            "--not-before",
            "9am",
        ])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(error.contains("RFC 3339"), "{error}");
    }

    #[test]
    fn the_default_key_is_stable_and_changes_with_the_day_when_no_time_is_given() {
        let args = parse(&["C1", "--channel", "sms", "--template", "reminder"]).expect("parses");
        assert_eq!(send_key(&args, "2026-03-04"), send_key(&args, "2026-03-04"));
        assert_ne!(send_key(&args, "2026-03-04"), send_key(&args, "2026-03-05"));
        let timed = parse(&[
            "C1",
            "--channel",
            "sms",
            "--template",
            "reminder",
            "--not-before",
            "2026-03-04T10:00:00+08:00",
        ])
        .expect("parses");
        assert_eq!(
            send_key(&timed, "2026-03-04"),
            send_key(&timed, "2027-01-01")
        );
    }

    #[test]
    fn a_moved_message_says_why_in_plain_words() {
        let message = api::OutboundMessage {
            message_id: "M1".to_owned(),
            channel: ContactChannel::Sms as i32,
            to: "138****8000".to_owned(),
            template: "e2e-ladder@1/reminder/zh-CN".to_owned(),
            requested_at: "2026-03-02T14:15:00+00:00".to_owned(),
            due_at: "2026-03-03T00:00:00+00:00".to_owned(),
            refused_for: ConductReason::QuietHours as i32,
            status: api::MessageStatus::Scheduled as i32,
            requested_by: "li.na".to_owned(),
            ..Default::default()
        };
        let offset = FixedOffset::east_opt(8 * 3600);
        let text = sent_text(&message, offset, "K");
        assert!(text.starts_with("message M1: sms to 138****8000"), "{text}");
        assert!(
            text.contains("due 2026-03-03T08:00:00+08:00, moved from 2026-03-02T22:15:00+08:00 because of quiet hours"),
            "{text}"
        );
        assert!(text.contains("idempotency key K"), "{text}");
        let line = to_line(&message);
        assert!(
            line.contains("scheduled") && line.contains("(moved: quiet-hours)"),
            "{line}"
        );
        assert_eq!(to_json(&message)["moved_for"], "quiet-hours");
    }
}
