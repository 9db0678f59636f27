//! Topic names and the event envelope.
//!
//! Topics are named `collections.<service>.<stream>.v<N>`; a breaking payload change gets a
//! new topic version. The Kafka key is the aggregate key (the customer id), so one
//! customer's events stay in order on each topic.

use prost::{Message, Name};
use uuid::Uuid;

use proto::events::v1::Envelope;

/// Contracts: contract signed, receivable overdue, allocation applied/rejected.
pub const CONTRACTS: &str = "collections.contracts.events.v1";
/// Payments: payment received, payment allocated, exception raised.
pub const PAYMENTS: &str = "collections.payments.events.v1";
/// Scoring: grade changed.
pub const SCORING_GRADES: &str = "collections.scoring.grades.v1";
/// Dunning: action executed, escalated to legal.
pub const DUNNING: &str = "collections.dunning.events.v1";
/// Legal: case opened, claim updated, withdrawal requested. The legal department reads it.
pub const LEGAL_CASES: &str = "collections.legal.cases.v1";

/// The services that consume events and therefore have a dead-letter topic.
pub const CONSUMING_SERVICES: &[&str] = &["contracts", "payments", "scoring", "dunning", "legal"];

/// The service that owns (alone may write) `topic`, given with or without a deployment
/// prefix: `collections.<service>.<stream>.v<N>`.
pub fn owner_of_topic(topic: &str) -> Option<&str> {
    let start = topic.find("collections.")? + "collections.".len();
    let rest = &topic[start..];
    let service = rest.split('.').next()?;
    CONSUMING_SERVICES.contains(&service).then_some(service)
}

/// The dead-letter topic of `service`'s consumer.
pub fn dead_letter_topic(service: &str) -> String {
    format!("collections.{service}.deadletter.v1")
}

/// Every topic the platform uses (without prefix), for provisioning.
pub fn all_topics() -> Vec<String> {
    let mut topics: Vec<String> = [CONTRACTS, PAYMENTS, SCORING_GRADES, DUNNING, LEGAL_CASES]
        .iter()
        .map(|t| (*t).to_owned())
        .collect();
    topics.extend(CONSUMING_SERVICES.iter().map(|s| dead_letter_topic(s)));
    topics
}

/// Payload schema versions above 1, by event type. Version 2 of `ContractSigned` and
/// `PayerAccountAdded` carries accounts as blind indexes and masked forms instead of clear
/// account numbers (R-O4); the fields of version 1 are reserved, so a consumer can tell an
/// old event (whose accounts it can no longer read) by its version.
const SCHEMA_VERSIONS: &[(&str, u32)] = &[
    ("receivables.events.v1.ContractSigned", 2),
    ("receivables.events.v1.PayerAccountAdded", 2),
];

/// The schema version of the payload type `event_type` (1 unless listed above).
pub fn schema_version(event_type: &str) -> u32 {
    SCHEMA_VERSIONS
        .iter()
        .find(|(t, _)| *t == event_type)
        .map_or(1, |(_, v)| *v)
}

/// Builds the envelope for `payload`, stamped with a new event id, the current time and
/// the current trace context.
pub fn envelope<E: Message + Name>(producer: &str, aggregate_key: &str, payload: &E) -> Envelope {
    let (traceparent, tracestate) = crate::telemetry::current_trace_context();
    let now = chrono::Utc::now();
    let event_type = E::full_name();
    Envelope {
        event_id: Uuid::now_v7().to_string(),
        schema_version: schema_version(&event_type),
        event_type,
        occurred_at: Some(prost_types::Timestamp {
            seconds: now.timestamp(),
            nanos: i32::try_from(now.timestamp_subsec_nanos()).unwrap_or(0),
        }),
        producer: producer.to_owned(),
        aggregate_key: aggregate_key.to_owned(),
        traceparent,
        tracestate,
        payload: payload.encode_to_vec(),
    }
}

/// The fully qualified type name that identifies `E` in an envelope.
pub fn type_name<E: Name>() -> String {
    E::full_name()
}

#[cfg(test)]
mod owner_tests {
    use super::*;

    #[test]
    fn each_topic_has_its_owner() {
        assert_eq!(owner_of_topic(PAYMENTS), Some("payments"));
        assert_eq!(owner_of_topic(SCORING_GRADES), Some("scoring"));
        assert_eq!(
            owner_of_topic("e2e-1a2b.collections.legal.cases.v1"),
            Some("legal")
        );
        assert_eq!(owner_of_topic("collections.mallory.events.v1"), None);
        assert_eq!(
            schema_version(&type_name::<proto::events::v1::ContractSigned>()),
            2
        );
        assert_eq!(
            schema_version(&type_name::<proto::events::v1::AllocationApplied>()),
            1
        );
        assert_eq!(owner_of_topic("other"), None);
    }
}
