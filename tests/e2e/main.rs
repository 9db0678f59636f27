//! End-to-end tests: all five services as separate processes against a real PostgreSQL and
//! a Kafka-protocol broker: librdkafka's mock cluster by default (one per test);
//! `COLLECTIONS_BROKER=apache-kafka` for a real Apache Kafka broker (one per test process,
//! shared by the tests, each with its own topic prefix; `deploy/local/install-kafka.sh`
//! installs it, and `deploy/local/test.sh` runs the suite this way);
//! `KAFKA_BOOTSTRAP_SERVERS` for an external broker and `DATABASE_URL` for an external
//! PostgreSQL. Build the services first: `cargo build --workspace --bins`.

mod access;
mod allocation_rejection;
mod amendments;
mod bank_formats;
mod billing;
mod book_to_bank;
mod broker;
mod broker_acl;
mod bulk_paths;
mod cash_application;
mod contracts_acceptance;
mod crash_recovery;
mod credit_hold;
mod daily_cycle;
mod database_outage;
mod dead_letter;
mod dead_letter_queue;
mod desk;
mod discounts;
mod disputes;
mod dunning_cli;
mod dunning_policy;
mod evidence;
mod foreign_currency;
mod helpers;
mod import;
mod key_rotation;
mod legal_cases;
mod legal_catch_up;
mod legal_claim;
mod legal_department;
mod legal_fees;
mod limits;
mod metrics;
mod migration_job;
mod money_path;
mod operator_cli;
mod owed_items;
mod payer_accounts;
mod payments_replicas;
mod pii_scan;
mod plans;
mod promises;
mod queue;
mod refunds;
mod reporting;
mod reporting_month;
mod schedules;
mod score_strategy;
mod shutdown;
mod statement;
mod stuck_allocations;
mod terms;
mod trace_context;
mod tsa;
mod write_offs;
