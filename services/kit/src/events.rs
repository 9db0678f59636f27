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
/// Dunning: action executed, escalated to legal, collection cost incurred (notice fees).
pub const DUNNING: &str = "collections.dunning.events.v1";
/// Legal: case opened, claim updated, withdrawal requested. The legal department reads it.
pub const LEGAL_CASES: &str = "collections.legal.cases.v1";

/// The legal department's system (R-L6): a reader outside the platform, with a Kafka
/// principal of its own that may read the legal cases topic and nothing else
/// (`deploy/legal-department/`, the AsyncAPI document `proto/asyncapi/legal-department.yaml`).
pub const LEGAL_DEPARTMENT: &str = "legal-department";

/// Readers outside the platform: their principal (SASL user name) and the topics (without
/// prefix) they may read, in consumer groups named from [`consumer_group`]. They write
/// nothing and have no dead-letter topic: what they do with an event is theirs to decide.
pub const EXTERNAL_READERS: &[(&str, &[&str])] = &[(LEGAL_DEPARTMENT, &[LEGAL_CASES])];

/// The services that consume events and therefore have a dead-letter topic.
pub const CONSUMING_SERVICES: &[&str] = &[
    "contracts",
    "payments",
    "scoring",
    "dunning",
    "legal",
    "reporting",
];

/// The service that owns (alone may write) `topic`, given with or without a deployment
/// prefix: `collections.<service>.<stream>.v<N>`.
pub fn owner_of_topic(topic: &str) -> Option<&str> {
    let start = topic.find("collections.")? + "collections.".len();
    let rest = &topic[start..];
    let service = rest.split('.').next()?;
    CONSUMING_SERVICES.contains(&service).then_some(service)
}

/// Who reads what: each consuming service and the topics (without prefix) it subscribes to.
/// The one table both the services' subscriptions ([`crate::App::consume`]) and the broker's
/// ACLs ([`acl_rules`]) come from.
pub const SUBSCRIPTIONS: &[(&str, &[&str])] = &[
    (
        "contracts",
        &[PAYMENTS, LEGAL_CASES, DUNNING, SCORING_GRADES],
    ),
    ("payments", &[CONTRACTS]),
    ("scoring", &[CONTRACTS, DUNNING, LEGAL_CASES]),
    ("dunning", &[CONTRACTS, SCORING_GRADES]),
    ("legal", &[DUNNING, CONTRACTS]),
    // The read model of reports and traces (R-O1, R-O2) reads every service's story.
    ("reporting", &[CONTRACTS, PAYMENTS, DUNNING, LEGAL_CASES]),
];

/// The topics `service` consumes (empty for an unknown service).
pub fn consumed_by(service: &str) -> &'static [&'static str] {
    SUBSCRIPTIONS
        .iter()
        .find(|(name, _)| *name == service)
        .map_or(&[], |(_, topics)| topics)
}

/// The consumer group of `service` (with the deployment's topic prefix).
pub fn consumer_group(prefix: &str, service: &str) -> String {
    format!("{prefix}{service}")
}

/// The consumer group that records `service`'s dead letters from its dead-letter topic.
pub fn dead_letter_group(prefix: &str, service: &str) -> String {
    format!("{prefix}{service}-deadletters")
}

/// The prefix of every topic `service` owns (alone may write): `collections.<service>.`.
pub fn owned_topic_prefix(service: &str) -> String {
    format!("collections.{service}.")
}

/// What an ACL grants on (Kafka's resource types the platform uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AclResource {
    /// A topic.
    Topic,
    /// A consumer group.
    Group,
    /// The cluster (resource name `kafka-cluster`).
    Cluster,
}

/// How the resource name matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AclPattern {
    /// Exactly this name.
    Literal,
    /// Every name starting with it.
    Prefixed,
}

/// The operations the platform grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AclOperation {
    /// Consume from a topic; join and commit in a group.
    Read,
    /// Produce to a topic.
    Write,
    /// Topic metadata and offsets.
    Describe,
    /// Idempotent producer ids (cluster; Kafka 3+ also accepts WRITE on any topic).
    IdempotentWrite,
}

/// One ALLOW rule for `User:<principal>` from any host.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct AclRule {
    /// The service (its SASL user name).
    pub principal: String,
    /// Resource type.
    pub resource: AclResource,
    /// Pattern type.
    pub pattern: AclPattern,
    /// Resource name (or prefix).
    pub name: String,
    /// Allowed operation.
    pub operation: AclOperation,
}

/// The broker ACLs of the five services for topics and groups named with `prefix`: each
/// service writes (and describes) only its own topics (`collections.<service>.`, its
/// dead-letter topic included), reads (and describes) only the topics it consumes
/// ([`SUBSCRIPTIONS`]), and reads only its own consumer group. Anything else is denied
/// (`allow.everyone.if.no.acl.found=false`). Each external reader ([`EXTERNAL_READERS`])
/// reads (and describes) its topics and reads its own consumer groups (prefixed with
/// [`consumer_group`]), and writes nothing.
pub fn acl_rules(prefix: &str) -> Vec<AclRule> {
    let rule = |principal: &str, resource, pattern, name: String, operation| AclRule {
        principal: principal.to_owned(),
        resource,
        pattern,
        name,
        operation,
    };
    let mut rules = Vec::new();
    for service in CONSUMING_SERVICES {
        let own = format!("{prefix}{}", owned_topic_prefix(service));
        for operation in [AclOperation::Write, AclOperation::Describe] {
            rules.push(rule(
                service,
                AclResource::Topic,
                AclPattern::Prefixed,
                own.clone(),
                operation,
            ));
        }
        rules.push(rule(
            service,
            AclResource::Cluster,
            AclPattern::Literal,
            "kafka-cluster".to_owned(),
            AclOperation::IdempotentWrite,
        ));
        for topic in consumed_by(service) {
            for operation in [AclOperation::Read, AclOperation::Describe] {
                rules.push(rule(
                    service,
                    AclResource::Topic,
                    AclPattern::Literal,
                    format!("{prefix}{topic}"),
                    operation,
                ));
            }
        }
        rules.push(rule(
            service,
            AclResource::Group,
            AclPattern::Literal,
            consumer_group(prefix, service),
            AclOperation::Read,
        ));
        // Its dead-letter recorder reads its own dead-letter topic (kit::deadletter).
        rules.push(rule(
            service,
            AclResource::Topic,
            AclPattern::Literal,
            format!("{prefix}{}", dead_letter_topic(service)),
            AclOperation::Read,
        ));
        rules.push(rule(
            service,
            AclResource::Group,
            AclPattern::Literal,
            dead_letter_group(prefix, service),
            AclOperation::Read,
        ));
    }
    for (reader, topics) in EXTERNAL_READERS {
        for topic in *topics {
            for operation in [AclOperation::Read, AclOperation::Describe] {
                rules.push(rule(
                    reader,
                    AclResource::Topic,
                    AclPattern::Literal,
                    format!("{prefix}{topic}"),
                    operation,
                ));
            }
        }
        // Its groups: `<prefix><reader>` and any named from it (e.g. a replay from the start
        // in `<prefix><reader>.replay`); reading a topic still needs the topic's rule.
        rules.push(rule(
            reader,
            AclResource::Group,
            AclPattern::Prefixed,
            consumer_group(prefix, reader),
            AclOperation::Read,
        ));
    }
    rules
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

    #[test]
    fn acls_let_only_the_owner_write_and_only_subscribers_read() {
        let rules = acl_rules("e2e-1.");
        for topic in all_topics() {
            let name = format!("e2e-1.{topic}");
            let matches = |r: &&AclRule| {
                r.resource == AclResource::Topic
                    && match r.pattern {
                        AclPattern::Literal => r.name == name,
                        AclPattern::Prefixed => name.starts_with(&r.name),
                    }
            };
            let writers: Vec<&str> = rules
                .iter()
                .filter(matches)
                .filter(|r| r.operation == AclOperation::Write)
                .map(|r| r.principal.as_str())
                .collect();
            assert_eq!(writers, vec![owner_of_topic(&topic).unwrap()], "{topic}");
            let mut readers: Vec<&str> = rules
                .iter()
                .filter(matches)
                .filter(|r| r.operation == AclOperation::Read)
                .map(|r| r.principal.as_str())
                .collect();
            readers.sort_unstable();
            let mut subscribers: Vec<&str> = SUBSCRIPTIONS
                .iter()
                .chain(EXTERNAL_READERS)
                .filter(|(_, topics)| topics.contains(&topic.as_str()))
                .map(|(service, _)| *service)
                .collect();
            // A dead-letter topic is read by its owner's recorder only.
            if let Some(owner) = CONSUMING_SERVICES
                .iter()
                .find(|s| dead_letter_topic(s) == topic)
            {
                subscribers.push(owner);
            }
            subscribers.sort_unstable();
            assert_eq!(readers, subscribers, "{topic}");
        }
        let groups: Vec<(&str, &str)> = rules
            .iter()
            .filter(|r| r.resource == AclResource::Group)
            .map(|r| (r.principal.as_str(), r.name.as_str()))
            .collect();
        assert_eq!(
            groups.len(),
            2 * CONSUMING_SERVICES.len() + EXTERNAL_READERS.len()
        );
        assert!(groups.iter().all(
            |(p, g)| *g == consumer_group("e2e-1.", p) || *g == dead_letter_group("e2e-1.", p)
        ));
        assert_eq!(consumed_by("dunning"), [CONTRACTS, SCORING_GRADES]);
        assert!(consumed_by("mallory").is_empty());
    }

    /// R-L6: the legal department reads the legal cases topic in its own groups, and nothing
    /// else: no other topic, no write, no cluster right.
    #[test]
    fn the_legal_department_reads_only_the_legal_cases_topic() {
        let mut granted: Vec<(AclResource, String, AclOperation)> = acl_rules("p.")
            .into_iter()
            .filter(|r| r.principal == LEGAL_DEPARTMENT)
            .map(|r| {
                let pattern = if r.resource == AclResource::Group {
                    AclPattern::Prefixed
                } else {
                    AclPattern::Literal
                };
                assert_eq!(r.pattern, pattern, "{r:?}");
                (r.resource, r.name, r.operation)
            })
            .collect();
        granted.sort();
        assert_eq!(
            granted,
            [
                (
                    AclResource::Topic,
                    "p.collections.legal.cases.v1".to_owned(),
                    AclOperation::Read
                ),
                (
                    AclResource::Topic,
                    "p.collections.legal.cases.v1".to_owned(),
                    AclOperation::Describe
                ),
                (
                    AclResource::Group,
                    "p.legal-department".to_owned(),
                    AclOperation::Read
                ),
            ]
        );
    }
}
