//! `collectctl`: the operator's command-line tool. The file tools print JSON on success;
//! `ingest`, `exceptions`, `refunds`, `customers`, the dunning service's commands,
//! `contact-log` and `score` print text for people and JSON with `--json`;
//! on failure it prints what is wrong and what to do next on stderr and exits non-zero
//! (1 for bad input or data, 2 for a malformed command line).
//!
//! One module per subcommand group; a new group is a module with an `Args` type and a `run`
//! function, plus one variant in [`Command`].

mod amendments;
mod audit;
mod auth;
mod backtest;
mod billing;
mod book_to_bank;
mod calendar;
mod cli;
mod contact_log;
mod contracts_import;
mod customers;
mod desk;
mod dlq;
mod dunning_contacts;
mod dunning_disputes;
mod dunning_kpis;
mod dunning_messages;
mod dunning_names;
mod dunning_notices;
mod dunning_plans;
mod dunning_promises;
mod dunning_queue;
mod dunning_tasks;
mod evidence;
mod exceptions;
mod feed;
mod holds;
mod ingest;
mod late_fee;
mod reconcile;
mod refunds;
mod report;
mod report_month;
mod score;
mod service;
mod statement;
mod waivers;
mod write_offs;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "collectctl",
    version,
    about = "Operator tool of the collection platform (prints JSON)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Business calendar: working days, holidays, due dates (R-C6).
    Calendar(calendar::CalendarArgs),
    /// Late fee of one receivable under a policy file, itemised (R-C4, R-C12, R-D6).
    LateFee(late_fee::LateFeeArgs),
    /// Bank statement files: parse MT940/MT942, camt.052/053/054, BAI2 and bank CSV (R-P2).
    Feed(feed::FeedArgs),
    /// Match a statement's payments to open receivables, or say why not (R-P4, R-P5).
    /// Prints one JSON object per payment, then the summary.
    Reconcile(reconcile::ReconcileArgs),
    /// Customers: put a payer account on file (contracts service).
    Customers(customers::CustomersArgs),
    /// Contracts: `import FILE` signs a portfolio from a JSON Lines file, up to 1,000
    /// signings a call (R-O5; contracts service).
    Contracts(contracts_import::ContractsArgs),
    /// Credit holds (R-L5, R-S5): list a customer's, and a supervisor's place, release and
    /// override (contracts service).
    Holds(holds::HoldsArgs),
    /// Waivers of late fee, interest and collection costs (R-D6): propose, and another
    /// supervisor approves or rejects; list the approval queue (contracts service).
    Waivers(waivers::WaiversArgs),
    /// Write-offs of small differences (R-P12): list them, approve or reject those waiting
    /// for a person (contracts service).
    WriteOffs(write_offs::WriteOffsArgs),
    /// Amendments (R-C8): propose a deferral, new schedule, discount or fee change; a
    /// supervisor other than the proposer approves or rejects; list and show them
    /// (contracts service).
    Amendments(amendments::AmendmentsArgs),
    /// A customer's statement of account: open items, aging, late fees, totals; text, --json,
    /// and the printable document with --html FILE / --pdf FILE (contracts service).
    Statement(statement::StatementArgs),
    /// Dunning (issue 13): `dunning backtest` replays a portfolio day by day under a policy
    /// with the service's engine (no service called); `contacts`, `send`, `messages`,
    /// `tasks` and `notices` work a debtor through the dunning service.
    Dunning(backtest::DunningArgs),
    /// The dunning contact log (R-D4, R-L8): list entries, and verify the hash chain and the
    /// latest signed checkpoint (exit status 1 when not intact).
    ContactLog(contact_log::ContactLogArgs),
    /// Property-management billing (R-C2): the monthly run and meter-reading imports
    /// (contracts service).
    Billing(billing::BillingArgs),
    /// Units billed for property management (R-C3): segment, occupancy, area, charge terms.
    Units(billing::UnitsArgs),
    /// Send a bank statement file to the payments service (manual fallback when a feed fails,
    /// R-O6); prints what was booked, applied and rejected.
    Ingest(ingest::IngestArgs),
    /// The payments exception queue (R-P5): list it (text, or --json) and decide an
    /// exception (confirm a candidate or dismiss with a note). Talks to the payments service.
    Exceptions(exceptions::ExceptionsArgs),
    /// Refunds of a payment's unapplied surplus (R-P9): one person requests, another
    /// approves or rejects; list them. Talks to the payments service.
    Refunds(refunds::RefundsArgs),
    /// The finance desk (R-P1, R-P3, R-P7): cash receipts with gap-free numbers, voids by a
    /// second person, the day's cash count, cheque and draft acknowledgments, bounces, PDFs,
    /// and payments still unreconciled after two hours. Talks to the payments service.
    Desk(desk::DeskArgs),
    /// Tokens for the local stack: `collectctl auth token --role cashier --subject clerk-7`.
    Auth(auth::AuthArgs),
    /// Who did what: one service's audit trail of calls, allowed and refused (R-O3).
    Audit(audit::AuditArgs),
    /// One service's dead letters: list, show, redrive (after the cause is fixed), discard.
    Dlq(dlq::DlqArgs),
    /// The points scorecard pts-v1 offline (R-S1..R-S5): `validate` on seeded synthetic
    /// customers (Gini, KS, PSI), `explain` one customer's features. No service is called.
    Score(score::ScoreArgs),
    /// Evidence bundles of legal cases (R-L3, R-L8): `bundle` asks the legal service for a
    /// case's signed zip; `verify` checks one offline and names any altered, missing or extra
    /// file (exit status 1).
    Evidence(evidence::EvidenceArgs),
    /// Reports (R-O1, R-O7, R-O8) from the reporting service: aging, KPIs (CEI, DSO,
    /// collection and overdue rates), roll rates, bad-debt provisions with the draft voucher;
    /// and the trace of a debt across the services (R-O2). Text, --json or --csv.
    Report(report::ReportArgs),
    /// Write a seeded synthetic portfolio (receivables, camt.053 and CSV statements, rates,
    /// ground truth) to try `reconcile` on.
    Generate(reconcile::GenerateArgs),
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Calendar(args) => calendar::run(args),
        Command::LateFee(args) => late_fee::run(args),
        Command::Feed(args) => feed::run(args),
        Command::Reconcile(args) => reconcile::run(args),
        Command::Generate(args) => reconcile::generate(args),
        Command::Exceptions(args) => exceptions::run(args),
        Command::Refunds(args) => refunds::run(args),
        Command::Desk(args) => desk::run(args),
        Command::Ingest(args) => ingest::run(args),
        Command::Customers(args) => customers::run(args),
        Command::Contracts(args) => contracts_import::run(args),
        Command::Holds(args) => holds::run(args),
        Command::Waivers(args) => waivers::run(args),
        Command::WriteOffs(args) => write_offs::run(args),
        Command::Amendments(args) => amendments::run(args),
        Command::Statement(args) => statement::run(args),
        Command::Dunning(args) => backtest::run(args),
        Command::ContactLog(args) => contact_log::run(args),
        Command::Billing(args) => billing::run(args),
        Command::Units(args) => billing::units(args),
        Command::Auth(args) => auth::run(args),
        Command::Audit(args) => audit::run(args),
        Command::Dlq(args) => dlq::run(args),
        Command::Score(args) => score::run(args),
        Command::Evidence(args) => evidence::run(args),
        Command::Report(args) => report::run(args),
    };
    cli::finish(result)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_tree_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn the_dunning_commands_are_under_dunning_and_the_log_at_the_top() {
        for args in [
            &["collectctl", "dunning", "backtest", "--portfolio", "p.json"][..],
            &["collectctl", "dunning", "contacts", "show", "C1", "--json"],
            &[
                "collectctl",
                "dunning",
                "contacts",
                "set",
                "C1",
                "--contact",
                "sms:13912345678",
            ],
            &[
                "collectctl",
                "dunning",
                "send",
                "C1",
                "--channel",
                "sms",
                "--template",
                "reminder",
            ],
            &["collectctl", "dunning", "messages", "C1"],
            &["collectctl", "dunning", "tasks", "list", "--customer", "C1"],
            &[
                "collectctl",
                "dunning",
                "notices",
                "get",
                "N1",
                "--pdf",
                "n.pdf",
            ],
            &["collectctl", "contact-log", "list", "--customer", "C1"],
            &["collectctl", "contact-log", "verify", "--json"],
            &[
                "collectctl",
                "score",
                "validate",
                "--customers",
                "100",
                "--seed",
                "7",
                "--json",
            ],
            &["collectctl", "score", "explain", "--features", "f.json"],
        ] {
            let parsed = Cli::try_parse_from(args);
            assert!(parsed.is_ok(), "{args:?}: {:?}", parsed.err());
        }
        assert!(Cli::try_parse_from(["collectctl", "contact-log", "verify", "extra"]).is_err());
    }
}
