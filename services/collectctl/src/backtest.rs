//! `collectctl dunning backtest`: replays a portfolio day by day under a dunning policy with
//! the engine the dunning service uses (issue 13 item 7; R-D1, R-D2, R-D3, R-D7, R-D12).
//! Nothing is sent and no service is called.
//!
//! [`DunningArgs`] is the whole `collectctl dunning` group: the subcommands that talk to the
//! dunning service live in the `dunning_*` modules.

use std::fmt::Write as _;
use std::path::PathBuf;

use ::dunning::backtest::{Portfolio, replay};
use ::dunning::policy::Policy;
use anyhow::anyhow;
use chrono::{Days, NaiveDate};
use clap::{Args, Subcommand};

use crate::cli::{Failure, Hint, Outcome, json, parse_date, read};

const FORMAT_HINT: &str = "the formats are in services/dunning/backtest.md, with services/dunning/examples/portfolio.json";

#[derive(Args)]
pub(crate) struct DunningArgs {
    #[command(subcommand)]
    command: DunningCommand,
}

#[derive(Subcommand)]
enum DunningCommand {
    /// Replay a portfolio under a policy and print every action and a summary.
    Backtest(BacktestArgs),
    /// A debtor's contact details, time zone, language and conduct profile: set, show
    /// (addresses masked).
    Contacts(crate::dunning_contacts::ContactsArgs),
    /// Send a message from one of the policy's templates; the service moves it out of quiet
    /// hours, holidays and frequency caps and says why.
    Send(crate::dunning_messages::SendArgs),
    /// A debtor's outbound messages: scheduled, delivered, failed.
    Messages(crate::dunning_messages::MessagesArgs),
    /// Phone calls and visits for collectors: list, create, complete with the outcome.
    Tasks(crate::dunning_tasks::TasksArgs),
    /// Written notices: list a debtor's, get one's amounts, hash and documents.
    Notices(crate::dunning_notices::NoticesArgs),
    /// Promises to pay (R-D5): make one, list a debtor's with what was paid.
    Promises(crate::dunning_promises::PromisesArgs),
    /// Your work queue (supervisors: a member's): debtors by expected recovery, with why.
    Queue(crate::dunning_queue::QueueArgs),
    /// Disputes (R-D8): open on named items, resolve, list a debtor's.
    Disputes(crate::dunning_disputes::DisputesArgs),
    /// Repayment plans (R-D6): propose, approve (not your own), reject, list.
    Plans(crate::dunning_plans::PlansArgs),
    /// Collectors' KPIs for a period: collected by step, promise-kept and right-party rates.
    Kpis(crate::dunning_kpis::KpisArgs),
}

#[derive(Args)]
struct BacktestArgs {
    /// Policy file (JSON); default: the policy the service ships.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Portfolio file (JSON): customers, receivables, payments.
    #[arg(long, value_name = "FILE")]
    portfolio: PathBuf,
    /// First day, YYYY-MM-DD; default: a week before the first due date.
    #[arg(long, value_parser = parse_date)]
    from: Option<NaiveDate>,
    /// Last day, YYYY-MM-DD; default: 120 days after the last due date or payment.
    #[arg(long, value_parser = parse_date)]
    to: Option<NaiveDate>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: DunningArgs) -> Outcome {
    match args.command {
        DunningCommand::Backtest(args) => backtest(args),
        DunningCommand::Contacts(args) => crate::dunning_contacts::run(args),
        DunningCommand::Send(args) => crate::dunning_messages::send(args),
        DunningCommand::Messages(args) => crate::dunning_messages::list(args),
        DunningCommand::Tasks(args) => crate::dunning_tasks::run(args),
        DunningCommand::Notices(args) => crate::dunning_notices::run(args),
        DunningCommand::Promises(args) => crate::dunning_promises::run(args),
        DunningCommand::Queue(args) => crate::dunning_queue::run(args),
        DunningCommand::Disputes(args) => crate::dunning_disputes::run(args),
        DunningCommand::Plans(args) => crate::dunning_plans::run(args),
        DunningCommand::Kpis(args) => crate::dunning_kpis::run(args),
    }
}

fn backtest(args: BacktestArgs) -> Outcome {
    let policy = match &args.policy {
        Some(path) => Policy::from_json(&read(path, "policy")?)
            .map_err(|e| anyhow!("policy {}: {e}", path.display()))
            .hint(FORMAT_HINT)?,
        None => Policy::default_policy().map_err(|e| anyhow!("the shipped policy: {e}"))?,
    };
    let portfolio = Portfolio::from_json(&read(&args.portfolio, "portfolio")?)
        .map_err(|e| anyhow!("portfolio {}: {e}", args.portfolio.display()))
        .hint(FORMAT_HINT)?;
    let first_due = portfolio.receivables.iter().map(|r| r.due_date).min();
    let last_day = portfolio
        .receivables
        .iter()
        .map(|r| r.due_date)
        .chain(portfolio.payments.iter().map(|p| p.date))
        .max();
    let (Some(from), Some(to)) = (
        args.from
            .or_else(|| first_due?.checked_sub_days(Days::new(7))),
        args.to
            .or_else(|| last_day?.checked_add_days(Days::new(120))),
    ) else {
        return Err(Failure::with_hint(
            anyhow!("the portfolio has no receivables"),
            "add receivables, or give --from and --to",
        ));
    };
    if to < from {
        return Err(Failure::with_hint(
            anyhow!("--to {to} is before --from {from}"),
            "give a --to on or after --from",
        ));
    }
    eprintln!(
        "replaying {} customers, {} receivables, {} payments from {from} to {to} under {} v{}",
        portfolio.customers.len(),
        portfolio.receivables.len(),
        portfolio.payments.len(),
        policy.id,
        policy.version
    );
    let r = replay(&policy, &portfolio, from, to);
    if args.json {
        return json(&r);
    }
    let mut out = String::new();
    let _ = writeln!(out, "policy {} from {} to {}", r.policy, r.from, r.to);
    for a in &r.actions {
        let _ = writeln!(
            out,
            "{}  {:<10} {:<24} #{:<2} {:<20} {:>12}  {}{}{}",
            a.date,
            a.customer,
            a.step,
            a.n,
            a.channel.as_str(),
            a.amount,
            a.items.join(","),
            if a.signature_required {
                "  (signed for)"
            } else {
                ""
            },
            if a.fee.is_zero() {
                String::new()
            } else {
                format!("  fee {}", a.fee)
            }
        );
    }
    let _ = writeln!(out, "\n{} actions", r.actions.len());
    for (step, n) in &r.by_step {
        let _ = writeln!(out, "  {n:>6}  {step}");
    }
    if !r.holds.is_empty() {
        let _ = writeln!(out, "holds (debtor-days, R-D12):");
        for (reason, n) in &r.holds {
            let _ = writeln!(out, "  {n:>6}  {reason}");
        }
    }
    if !r.promises.is_empty() {
        let _ = writeln!(out, "promises to pay (R-D5):");
        for p in &r.promises {
            let _ = writeln!(
                out,
                "  {}  {:<12} promised for {}: {} ({} paid)",
                p.judged_on,
                p.customer,
                p.promised_date,
                if p.kept { "kept" } else { "broken" },
                p.paid
            );
        }
    }
    if !r.plans.is_empty() {
        let _ = writeln!(out, "repayment plans (R-D6):");
        for p in &r.plans {
            let _ = writeln!(
                out,
                "  {}  {:<12} agreed {}: {}{} ({} paid)",
                p.on,
                p.customer,
                p.agreed_on,
                p.outcome,
                p.installment
                    .map(|n| format!(", installment {n} missed"))
                    .unwrap_or_default(),
                p.paid
            );
        }
    }
    let _ = write!(
        out,
        "notice fees {}; paid in the period {}; owed at the end {}",
        r.fees, r.paid, r.owed_at_end
    );
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../dunning/examples/portfolio.json")
    }

    #[test]
    fn the_example_is_replayed_as_text_and_json() {
        let text = run(DunningArgs {
            command: DunningCommand::Backtest(BacktestArgs {
                policy: None,
                portfolio: example(),
                from: None,
                to: None,
                json: false,
            }),
        })
        .expect("text");
        assert!(
            text.starts_with("policy default v1 from 2026-02-08"),
            "{text}"
        );
        assert!(text.contains("notice_series_1"), "{text}");
        assert!(text.contains("owed at the end"), "{text}");
        let json = run(DunningArgs {
            command: DunningCommand::Backtest(BacktestArgs {
                policy: None,
                portfolio: example(),
                from: None,
                to: None,
                json: true,
            }),
        })
        .expect("json");
        let v: serde_json::Value = serde_json::from_str(&json).expect("JSON");
        assert!(
            v["actions"].as_array().is_some_and(|a| !a.is_empty()),
            "{v}"
        );
    }

    #[test]
    fn a_bad_portfolio_is_refused_naming_the_field_and_the_format() {
        let dir = std::env::temp_dir().join(format!("backtest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("bad.json");
        std::fs::write(
            &path,
            r#"{"customers": [], "receivables": [{"id": "R", "customer": "X", "contract": "C", "due_date": "2026-01-01", "amount": "1"}]}"#,
        )
        .expect("write");
        let Err(failure) = run(DunningArgs {
            command: DunningCommand::Backtest(BacktestArgs {
                policy: None,
                portfolio: path,
                from: None,
                to: None,
                json: false,
            }),
        }) else {
            panic!("refused");
        };
        let shown = failure.describe();
        assert!(shown.contains("receivables[0].customer"), "{shown}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
