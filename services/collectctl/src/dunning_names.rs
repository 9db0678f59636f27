//! What the dunning subcommands share (issue 13): the short kebab-case names of the contact
//! enums on the command line and in the output, the conduct reasons in plain words, where the
//! dunning service is, RFC 3339 times, default idempotency keys, and the service's refusals
//! turned into what to do next.
//!
//! Names are parsed once, at the edge (clap value parsers), so a wrong one is a usage error
//! (exit status 2) that lists the valid names.

use chrono::{DateTime, FixedOffset};
use clap::Args;
use proto::dunning::v1 as api;
use proto::types::v1::{ConductReason, ContactChannel, ContactOutcome};
use sha2::{Digest, Sha256};

use crate::cli::Failure;
use crate::service;

/// Where the dunning service is, and how to print: every dunning subcommand takes these.
#[derive(Args, Clone)]
pub(crate) struct Conn {
    /// The dunning service (default: $DUNNING_URL, else the local stack's port).
    #[arg(long, global = true, value_name = "URL")]
    pub(crate) dunning: Option<String>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    pub(crate) json: bool,
}

/// Every contact channel: its name here, and the proto value.
const CHANNELS: [(&str, ContactChannel); 10] = [
    ("sms", ContactChannel::Sms),
    ("email", ContactChannel::Email),
    ("app", ContactChannel::AppMessage),
    ("phone", ContactChannel::PhoneCall),
    ("letter", ContactChannel::Letter),
    ("door-notice", ContactChannel::DoorNotice),
    ("visit", ContactChannel::Visit),
    ("lawyer-letter", ContactChannel::LawyerLetter),
    ("payment-order-request", ContactChannel::PaymentOrderRequest),
    ("litigation-handoff", ContactChannel::LitigationHandoff),
];

/// Every contact outcome: its name here, and the proto value.
const OUTCOMES: [(&str, ContactOutcome); 10] = [
    ("sent", ContactOutcome::Sent),
    ("delivered", ContactOutcome::Delivered),
    ("failed", ContactOutcome::Failed),
    ("returned", ContactOutcome::Returned),
    ("answered", ContactOutcome::Answered),
    ("no-answer", ContactOutcome::NoAnswer),
    ("refused", ContactOutcome::Refused),
    ("promise-made", ContactOutcome::PromiseMade),
    ("disputed", ContactOutcome::Disputed),
    ("wrong-number", ContactOutcome::WrongNumber),
];

/// Channels a debtor can be reached at (an address on file).
const CONTACT_CHANNELS: [&str; 5] = ["sms", "email", "app", "phone", "letter"];
/// Channels a collector's message goes by.
const MESSAGE_CHANNELS: [&str; 3] = ["sms", "email", "app"];
/// Channels of a collector's task.
const TASK_CHANNELS: [&str; 2] = ["phone", "visit"];
/// What a person enters when completing a task (sent and failed are the dispatcher's).
const TASK_OUTCOMES: [&str; 8] = [
    "answered",
    "no-answer",
    "wrong-number",
    "refused",
    "promise-made",
    "disputed",
    "delivered",
    "returned",
];

/// `given` as one of `allowed` of `table`: case-insensitive, `_` taken for `-`; else an error
/// naming what it is not and listing the valid names.
fn pick<T: Copy>(
    what: &str,
    given: &str,
    table: &[(&str, T)],
    allowed: &[&str],
) -> Result<T, String> {
    let wanted = given.trim().to_ascii_lowercase().replace('_', "-");
    table
        .iter()
        .find(|(name, _)| *name == wanted && allowed.contains(name))
        .map(|(_, value)| *value)
        .ok_or_else(|| {
            format!(
                "{given:?} is not {what}: give one of {}",
                allowed.join(", ")
            )
        })
}

/// clap value parser: a channel a debtor has an address at.
pub(crate) fn contact_channel(given: &str) -> Result<ContactChannel, String> {
    pick("a contact channel", given, &CHANNELS, &CONTACT_CHANNELS)
}

/// clap value parser: a channel a message goes by.
pub(crate) fn message_channel(given: &str) -> Result<ContactChannel, String> {
    pick("a message channel", given, &CHANNELS, &MESSAGE_CHANNELS)
}

/// clap value parser: the channel of a task.
pub(crate) fn task_channel(given: &str) -> Result<ContactChannel, String> {
    pick("a task channel", given, &CHANNELS, &TASK_CHANNELS)
}

/// clap value parser: what came of a call, visit or delivery.
pub(crate) fn task_outcome(given: &str) -> Result<ContactOutcome, String> {
    pick("a task outcome", given, &OUTCOMES, &TASK_OUTCOMES)
}

/// clap value parser: an RFC 3339 time, e.g. 2026-03-02T22:15:00+08:00.
pub(crate) fn rfc3339(given: &str) -> Result<DateTime<FixedOffset>, String> {
    DateTime::parse_from_rfc3339(given.trim()).map_err(|_| {
        format!("{given:?} is not an RFC 3339 time: give e.g. 2026-03-02T22:15:00+08:00")
    })
}

/// A channel's name here ("unknown" for a value this tool does not know).
pub(crate) fn channel_name(value: i32) -> &'static str {
    CHANNELS
        .iter()
        .find(|(_, c)| *c as i32 == value)
        .map_or("unknown", |(name, _)| name)
}

/// An outcome's name here ("" when none is recorded yet).
pub(crate) fn outcome_name(value: i32) -> &'static str {
    OUTCOMES
        .iter()
        .find(|(_, o)| *o as i32 == value)
        .map_or("", |(name, _)| name)
}

/// A conduct reason's short name ("" when the contact was not moved).
pub(crate) fn reason_name(value: i32) -> &'static str {
    match ConductReason::try_from(value) {
        Ok(ConductReason::QuietHours) => "quiet-hours",
        Ok(ConductReason::FrequencyCap) => "frequency-cap",
        Ok(ConductReason::Holiday) => "holiday",
        Ok(ConductReason::ThirdPartyDisclosure) => "third-party-disclosure",
        _ => "",
    }
}

/// Why the conduct rules moved a contact, in plain words ("" when it was not moved).
pub(crate) fn reason_words(value: i32) -> &'static str {
    match ConductReason::try_from(value) {
        Ok(ConductReason::QuietHours) => {
            "quiet hours: the time asked is outside the hours the debtor may be contacted, in their local time"
        }
        Ok(ConductReason::FrequencyCap) => {
            "frequency cap: the debtor was contacted this way as often as allowed for the day or week"
        }
        Ok(ConductReason::Holiday) => "holiday: the day asked is a public holiday",
        Ok(ConductReason::ThirdPartyDisclosure) => {
            "third-party disclosure: it would disclose the debt to someone other than the debtor"
        }
        _ => "",
    }
}

/// Whose an address is.
pub(crate) fn recipient_name(value: i32) -> &'static str {
    match api::Recipient::try_from(value) {
        Ok(api::Recipient::Debtor) => "debtor",
        Ok(api::Recipient::DesignatedContact) => "designated",
        _ => "unknown",
    }
}

/// A message's status.
pub(crate) fn message_status(value: i32) -> &'static str {
    match api::MessageStatus::try_from(value) {
        Ok(api::MessageStatus::Scheduled) => "scheduled",
        Ok(api::MessageStatus::Delivered) => "delivered",
        Ok(api::MessageStatus::Failed) => "failed",
        _ => "unknown",
    }
}

/// A task's status.
pub(crate) fn task_status(value: i32) -> &'static str {
    match api::TaskStatus::try_from(value) {
        Ok(api::TaskStatus::Open) => "open",
        Ok(api::TaskStatus::Done) => "done",
        _ => "unknown",
    }
}

/// A time the service answered (RFC 3339, UTC) shown at `offset` (the one the operator gave
/// the time asked in), else as answered.
pub(crate) fn at_offset(answered: &str, offset: Option<FixedOffset>) -> String {
    match (DateTime::parse_from_rfc3339(answered), offset) {
        (Ok(t), Some(offset)) => t.with_timezone(&offset).to_rfc3339(),
        _ => answered.to_owned(),
    }
}

/// "due T", and when the conduct rules moved it, from when and why.
pub(crate) fn due_line(
    requested_at: &str,
    due_at: &str,
    refused_for: i32,
    offset: Option<FixedOffset>,
) -> String {
    let due = at_offset(due_at, offset);
    match reason_words(refused_for) {
        "" => format!("due {due}"),
        why => format!(
            "due {due}, moved from {} because of {why}",
            at_offset(requested_at, offset)
        ),
    }
}

/// A default idempotency key: the same parts give the same key, so running the same command
/// again is recognised as a repeat instead of contacting the debtor twice.
pub(crate) fn default_key(kind: &str, parts: &[&str]) -> String {
    let joined = parts
        .iter()
        .map(|p| p.trim())
        .collect::<Vec<_>>()
        .join("\n");
    let digest = Sha256::digest(joined.as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("collectctl-{kind}-{hex}")
}

/// Money as "amount currency".
pub(crate) fn money(m: Option<&proto::types::v1::Money>) -> String {
    m.map(|m| format!("{} {}", m.amount, m.currency))
        .unwrap_or_default()
}

/// A refusal of the dunning service with what to do next.
pub(crate) fn refused(status: tonic::Status) -> Failure {
    let message = status.message();
    let hint = match status.code() {
        tonic::Code::NotFound => {
            "check the id: tasks are in `collectctl dunning tasks list --customer CUSTOMER_ID --all`, notices in `collectctl dunning notices list CUSTOMER_ID`"
        }
        tonic::Code::FailedPrecondition if message.contains("contact of their own") => {
            "put the debtor's own address on file first: collectctl dunning contacts set CUSTOMER_ID --contact sms:NUMBER (give every contact: it replaces the set)"
        }
        tonic::Code::FailedPrecondition if message.contains("logged once") => {
            "the task is done already; see it with collectctl dunning tasks list --customer CUSTOMER_ID --all"
        }
        tonic::Code::PermissionDenied if message.contains("whole contact log") => {
            "give --customer CUSTOMER_ID for one of your customers"
        }
        tonic::Code::PermissionDenied => {
            "a collector acts on their own customers, a supervisor on their team's; the message names the roles that may (ask an administrator, or a supervisor to reassign the customer)"
        }
        tonic::Code::InvalidArgument => {
            "correct the argument the message names (see --help of the command)"
        }
        _ => return service::status(status),
    };
    Failure::with_hint(
        anyhow::anyhow!("{:?}: {}", status.code(), status.message()),
        hint,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_parse_to_the_proto_enums() {
        assert_eq!(contact_channel("sms"), Ok(ContactChannel::Sms));
        assert_eq!(contact_channel("APP"), Ok(ContactChannel::AppMessage));
        assert_eq!(contact_channel("letter"), Ok(ContactChannel::Letter));
        assert_eq!(message_channel("email"), Ok(ContactChannel::Email));
        assert_eq!(task_channel("phone"), Ok(ContactChannel::PhoneCall));
        assert_eq!(task_channel("visit"), Ok(ContactChannel::Visit));
        assert_eq!(task_outcome("no-answer"), Ok(ContactOutcome::NoAnswer));
        assert_eq!(
            task_outcome("promise_made"),
            Ok(ContactOutcome::PromiseMade)
        );
        assert_eq!(task_outcome("Returned"), Ok(ContactOutcome::Returned));
    }

    #[test]
    fn a_wrong_name_lists_the_valid_ones_for_that_place() {
        let error = message_channel("phone").unwrap_err();
        assert_eq!(
            error,
            "\"phone\" is not a message channel: give one of sms, email, app"
        );
        assert!(task_channel("sms").unwrap_err().contains("phone, visit"));
        let error = task_outcome("sent").unwrap_err();
        assert!(
            error.contains("answered, no-answer, wrong-number, refused, promise-made"),
            "{error}"
        );
        assert!(
            contact_channel("fax")
                .unwrap_err()
                .contains("sms, email, app, phone, letter")
        );
    }

    #[test]
    fn every_name_round_trips() {
        for (name, channel) in CHANNELS {
            assert_eq!(channel_name(channel as i32), name);
        }
        for (name, outcome) in OUTCOMES {
            assert_eq!(outcome_name(outcome as i32), name);
        }
        for name in TASK_OUTCOMES {
            assert_eq!(task_outcome(name).map(|o| outcome_name(o as i32)), Ok(name));
        }
        assert_eq!(channel_name(99), "unknown");
        assert_eq!(outcome_name(0), "");
    }

    #[test]
    fn a_moved_contact_says_from_when_and_why_at_the_offset_asked() {
        let offset = rfc3339("2026-03-02T22:15:00+08:00")
            .ok()
            .map(|t| *t.offset());
        let line = due_line(
            "2026-03-02T14:15:00+00:00",
            "2026-03-03T00:00:00+00:00",
            ConductReason::QuietHours as i32,
            offset,
        );
        assert_eq!(
            line,
            "due 2026-03-03T08:00:00+08:00, moved from 2026-03-02T22:15:00+08:00 because of quiet hours: the time asked is outside the hours the debtor may be contacted, in their local time"
        );
        assert_eq!(
            due_line("x", "2026-03-03T00:00:00+00:00", 0, None),
            "due 2026-03-03T00:00:00+00:00"
        );
        assert_eq!(
            reason_name(ConductReason::FrequencyCap as i32),
            "frequency-cap"
        );
        assert!(reason_words(ConductReason::Holiday as i32).contains("public holiday"));
        assert!(rfc3339("tomorrow").unwrap_err().contains("RFC 3339"));
    }

    #[test]
    fn default_keys_repeat_for_the_same_parts_only() {
        let a = default_key("send", &["c", "sms", "reminder", ""]);
        assert_eq!(a, default_key("send", &[" c", "sms", "reminder ", ""]));
        assert_ne!(a, default_key("send", &["c", "sms", "notice", ""]));
        assert!(a.starts_with("collectctl-send-") && a.len() < 200);
    }

    #[test]
    fn refusals_say_what_to_do_next() {
        let failure = refused(tonic::Status::failed_precondition(
            "customer x has no sms contact of their own on file: add one",
        ));
        assert!(failure.describe().contains("FailedPrecondition"));
        assert!(
            failure
                .hint_text()
                .is_some_and(|h| h.contains("collectctl dunning contacts set")),
            "{failure:?}"
        );
        let failure = refused(tonic::Status::permission_denied(
            "the whole contact log is for auditors",
        ));
        assert_eq!(
            failure.hint_text(),
            Some("give --customer CUSTOMER_ID for one of your customers")
        );
    }
}
