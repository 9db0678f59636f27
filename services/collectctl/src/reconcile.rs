//! `collectctl reconcile` and `collectctl generate`: the cash application engine (核銷) on
//! files, and its synthetic portfolio generator (R-P4, R-P5, R-P6, R-P8).

use std::path::PathBuf;

use anyhow::Context;
use cashapp::{GeneratorConfig, NamedFile, Policy};
use clap::Args;
use feeds::Format;

use crate::cli::{Hint, Outcome, json, read};

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub(crate) struct ReconcileArgs {
    /// Book-to-bank per account and day against the payments service (R-P7).
    #[command(subcommand)]
    command: Option<ReconcileCommand>,
    /// Open receivables (CSV with a header: receivable_id, contract_no, customer_id,
    /// customer_name, payer_accounts, unit, due_date, open_amount, currency, escrow_account).
    #[arg(long, value_name = "FILE.csv", required = true)]
    receivables: Option<PathBuf>,
    /// Bank statement (MT940, camt.053, bank CSV…).
    #[arg(long, value_name = "FILE", required = true)]
    statement: Option<PathBuf>,
    /// Statement format, or `auto` to detect it.
    #[arg(long, default_value = "auto")]
    format: String,
    /// Exchange rates (CSV `date,from,to,rate`) for payments in another currency (R-P8).
    #[arg(long, value_name = "FILE.csv")]
    rates: Option<PathBuf>,
    /// Matching policy (JSON; see services/cashapp/README.md).
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
}

#[derive(clap::Subcommand)]
enum ReconcileCommand {
    /// Book-to-bank reconciliation of one receiving account per business day (R-P7): the
    /// bank's statements against the payments booked, with a discrepancy report.
    BookToBank(crate::book_to_bank::BookToBankArgs),
}

#[derive(Args)]
pub(crate) struct GenerateArgs {
    /// Seed: the same seed writes the same files.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// About this many payments.
    #[arg(long, default_value_t = 10_000)]
    payments: usize,
    /// Directory to write receivables.csv, statement.camt053.xml, statement.csv, rates.csv
    /// and truth.json into (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

fn bytes(path: &PathBuf, what: &str) -> Result<Vec<u8>, crate::cli::Failure> {
    std::fs::read(path)
        .with_context(|| format!("cannot read {what} {}", path.display()))
        .hint(format!("check the path given for the {what}"))
}

pub(crate) fn run(args: ReconcileArgs) -> Outcome {
    if let Some(ReconcileCommand::BookToBank(book)) = args.command {
        return crate::book_to_bank::run(book);
    }
    let (Some(receivables_path), Some(statement_path)) = (&args.receivables, &args.statement)
    else {
        return Err(crate::cli::Failure::with_hint(
            anyhow::anyhow!("--receivables and --statement are required"),
            "collectctl reconcile --receivables FILE.csv --statement FILE; or collectctl reconcile book-to-bank --help",
        ));
    };
    let format = match args.format.as_str() {
        "auto" | "" => None,
        name => Some(
            name.parse::<Format>()
                .context("--format")
                .hint("use auto, mt940, mt942, camt052, camt053, camt054, bai2 or csv:PROFILE")?,
        ),
    };
    let policy = match &args.policy {
        Some(path) => {
            let text = read(path, "policy file")?;
            Policy::from_json(&path.display().to_string(), &text)
                .context("--policy")
                .hint("the policy format is in services/cashapp/README.md")?
        }
        None => Policy::default(),
    };
    let receivables = bytes(receivables_path, "receivables file")?;
    let statement = bytes(statement_path, "statement file")?;
    let rates = args
        .rates
        .as_ref()
        .map(|p| bytes(p, "rates file"))
        .transpose()?;
    let (receivables_name, statement_name) = (
        receivables_path.display().to_string(),
        statement_path.display().to_string(),
    );
    let rates_name = args
        .rates
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let report = cashapp::reconcile_files(
        NamedFile { name: &receivables_name, bytes: &receivables },
        NamedFile { name: &statement_name, bytes: &statement },
        format,
        rates.as_deref().map(|bytes| NamedFile { name: &rates_name, bytes }),
        &policy,
    )
    .context("reconcile")
    .hint("check the files: the receivables CSV needs its header row; the statement must be a bank format")?;
    let lines = report.to_json_lines();
    if report.errors.is_empty() {
        return Ok(lines.trim_end().to_owned());
    }
    // Every decision and the summary are printed; the bad rows make the exit code 1.
    print!("{lines}");
    Err::<String, _>(anyhow::anyhow!(
        "{} input row(s) could not be used (listed as \"error\" lines above)",
        report.errors.len()
    ))
    .hint("fix those rows and run again; the other rows were reconciled")
}

pub(crate) fn generate(args: GenerateArgs) -> Outcome {
    let config = GeneratorConfig {
        payments: args.payments,
        ..GeneratorConfig::default()
    };
    let generated = cashapp::generate(args.seed, &config);
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))
        .hint("check the --out directory")?;
    let files = [
        ("receivables.csv", &generated.receivables_csv),
        ("statement.camt053.xml", &generated.camt053),
        ("statement.csv", &generated.statement_csv),
        ("rates.csv", &generated.rates_csv),
        ("truth.json", &generated.truth_json),
    ];
    let mut written = Vec::new();
    for (name, content) in files {
        let path = args.out.join(name);
        std::fs::write(&path, content)
            .with_context(|| format!("cannot write {}", path.display()))
            .hint("check the --out directory")?;
        written
            .push(serde_json::json!({"file": path.display().to_string(), "bytes": content.len()}));
    }
    json(serde_json::json!({"seed": args.seed, "payments": args.payments, "written": written}))
}
