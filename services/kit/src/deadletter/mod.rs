//! Dead letters an operator can work (issue 11): list, show, re-drive, discard.
//!
//! Only a message that can never be handled reaches the dead-letter topic (see
//! [`consumer`](crate::consumer)). Recording it must not depend on the dependency that
//! failed, so the topic itself is the record of truth and the `dead_letters` table follows
//! it: every service runs a small [`recorder`] consumer on its own dead-letter topic that
//! writes each message into the table, idempotently by its position on that topic. A dead
//! letter produced while the database is down is recorded when it is back (the recorder
//! waits, its offset unstored). The consumer also records right after publishing, when the
//! database takes it, so operators usually see it at once; both writes land on one row.
//!
//! [`api::DeadLetterApi`] serves `receivables.deadletters.v1.DeadLetterService`. A re-drive
//! runs the stored message through the service's own handler and the same `processed_events`
//! path as the consumer, in-process, so no service needs to write another's topic.

pub mod api;
pub(crate) mod recorder;
pub mod redrive;
pub(crate) mod store;

use std::str::FromStr;

use rdkafka::message::Headers as _;

/// Where a dead letter stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Waiting for an operator.
    Open,
    /// Handled again successfully (or found already applied).
    Redriven,
    /// Closed without handling, with a reason.
    Discarded,
}

impl Status {
    /// The value stored in `dead_letters.status`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Redriven => "redriven",
            Status::Discarded => "discarded",
        }
    }
}

impl FromStr for Status {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "open" => Ok(Status::Open),
            "redriven" => Ok(Status::Redriven),
            "discarded" => Ok(Status::Discarded),
            other => Err(format!("unknown dead-letter status {other:?}")),
        }
    }
}

/// A message read from (or just written to) a dead-letter topic, ready to be recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDeadLetter {
    /// The dead-letter topic (with any deployment prefix) and the message's position there.
    pub topic: String,
    /// Partition on the dead-letter topic.
    pub partition: i32,
    /// Offset on the dead-letter topic.
    pub offset: i64,
    /// Kafka key of the original message.
    pub key: Option<Vec<u8>>,
    /// The original message, byte for byte.
    pub payload: Vec<u8>,
    /// Every header, in order (values as lossy UTF-8).
    pub headers: Vec<(String, String)>,
}

impl NewDeadLetter {
    /// Reads a message of the dead-letter topic.
    pub fn from_message(message: &impl rdkafka::Message) -> Self {
        let headers = message
            .headers()
            .map(|h| {
                h.iter()
                    .map(|h| {
                        (
                            h.key.to_owned(),
                            String::from_utf8_lossy(h.value.unwrap_or_default()).into_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        Self {
            topic: message.topic().to_owned(),
            partition: message.partition(),
            offset: message.offset(),
            key: message.key().map(<[u8]>::to_vec),
            payload: message.payload().unwrap_or_default().to_vec(),
            headers,
        }
    }

    /// The first header named `name`, or "".
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    }

    /// A numeric header; -1 when missing or not a number (a message the consumer did not
    /// write: it is still recorded, for an operator to look at).
    pub fn number_header(&self, name: &str) -> i64 {
        self.header(name).parse().unwrap_or(-1)
    }

    /// The reason header, or a note that there was none.
    pub fn reason(&self) -> &str {
        match self.header("reason") {
            "" => "no reason given (the message has no reason header)",
            reason => reason,
        }
    }

    /// The headers as a JSON object (the last value wins for a repeated name).
    pub fn headers_json(&self) -> String {
        let map: serde_json::Map<String, serde_json::Value> = self
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        serde_json::Value::Object(map).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn letter(headers: &[(&str, &str)]) -> NewDeadLetter {
        NewDeadLetter {
            topic: "collections.contracts.deadletter.v1".into(),
            partition: 1,
            offset: 7,
            key: None,
            payload: vec![1, 2],
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn headers_are_read_and_missing_ones_are_marked() {
        let l = letter(&[
            ("reason", "payload does not decode"),
            ("source_partition", "2"),
            ("source_offset", "x"),
        ]);
        assert_eq!(l.reason(), "payload does not decode");
        assert_eq!(l.number_header("source_partition"), 2);
        assert_eq!(l.number_header("source_offset"), -1, "not a number");
        assert_eq!(l.number_header("missing"), -1);
        assert!(letter(&[]).reason().contains("no reason header"));
        let json: serde_json::Value = serde_json::from_str(&l.headers_json()).unwrap();
        assert_eq!(json["source_partition"], "2");
    }

    #[test]
    fn statuses_round_trip() {
        for s in [Status::Open, Status::Redriven, Status::Discarded] {
            assert_eq!(s.as_str().parse::<Status>(), Ok(s));
        }
        assert!("closed".parse::<Status>().is_err());
    }
}
