//! The local stack and the end-to-end test harness.
//!
//! [`Stack::start`] brings up everything the services need on one machine: a throwaway
//! PostgreSQL cluster (or the server at `DATABASE_URL`), a Kafka-protocol broker (librdkafka's
//! mock cluster in this process, or the broker at `KAFKA_BOOTSTRAP_SERVERS`), a database role
//! and schema per service, the topics, and the five service processes. The `devstack` binary
//! and the tests in `tests/` use the same code, so the demo and the tests exercise one path.

pub mod access_demo;
pub mod acl;
pub mod auth;
pub mod broker;
pub mod clients;
pub mod console_demo;
pub mod cpu;
pub mod demo;
pub mod faults;
pub mod k8s;
pub mod kafka;
pub mod load;
pub mod postgres;
pub mod process;
pub mod provision;
pub mod scenario;
pub mod smtp;
pub mod stack;

pub use stack::{CONSOLE_PORT, Stack, StackOptions};

/// The services in start-up order, with their default local gRPC ports: the five that own
/// the business, and reporting, the read model of their events (R-O1, R-O2).
pub const SERVICES: &[(&str, u16)] = &[
    ("contracts", 50051),
    ("payments", 50052),
    ("scoring", 50053),
    ("dunning", 50054),
    ("legal", 50055),
    ("reporting", 50056),
];

/// The services a service calls over gRPC, as the variables that tell it where they are:
/// legal reads contracts and dunning for evidence bundles (R-L3); reporting reads payments'
/// book-to-bank for the month-end pack (R-P7). A service with peers starts after them, and
/// gets `<SERVICE>_PEER_CA_FILE`.
#[must_use]
pub fn grpc_peers(service: &str) -> &'static [(&'static str, &'static str)] {
    match service {
        "legal" => &[
            ("LEGAL_CONTRACTS_ENDPOINT", "contracts"),
            ("LEGAL_DUNNING_ENDPOINT", "dunning"),
        ],
        "reporting" => &[("REPORTING_PAYMENTS_ENDPOINT", "payments")],
        _ => &[],
    }
}

/// Whether a service calls its peers with a credential of its own, a client certificate
/// (`CN=<service>, OU=service`, mutual TLS) in `<SERVICE>_CLIENT_CERT_FILE` and
/// `<SERVICE>_CLIENT_KEY_FILE`, rather than forwarding its caller's token (legal does that).
#[must_use]
pub fn calls_with_own_certificate(service: &str) -> bool {
    service == "reporting"
}
