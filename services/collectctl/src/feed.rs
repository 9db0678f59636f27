//! `collectctl feed`: bank statement files as the payments service reads them (R-P2).

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use feeds::{CheckMode, CsvProfile, Format, ParseOptions};

use crate::cli::{Hint, Outcome, json, read};

#[derive(Args)]
pub(crate) struct FeedArgs {
    #[command(subcommand)]
    command: FeedCommand,
}

#[derive(Subcommand)]
enum FeedCommand {
    /// Parse a statement file and print its statements and transactions (amounts as decimal
    /// strings). Exits 1 when the file, or any statement in it, is rejected; the statements
    /// that passed are still printed.
    Parse(ParseArgs),
    /// List the built-in CSV profiles (bank exports) with their titles.
    Profiles,
}

#[derive(Args)]
struct ParseArgs {
    /// The statement file (MT940, MT942, camt.052/053/054, BAI2 or a bank CSV export).
    file: PathBuf,
    /// Force the format instead of detecting it: mt940, mt942, camt052, camt053, camt054,
    /// bai2 or csv:PROFILE.
    #[arg(long)]
    format: Option<String>,
    /// Keep statements that fail a check (balance chain, dates, currency), listing the
    /// problems under "flags", instead of rejecting them.
    #[arg(long)]
    flag: bool,
    /// Text encoding (gb18030, gbk, utf-8, windows-1252…) when detection gets it wrong.
    #[arg(long)]
    encoding: Option<String>,
    /// Account number for CSV exports that do not name one.
    #[arg(long)]
    account: Option<String>,
    /// Currency for CSV rows and BAI2 accounts that do not state one.
    #[arg(long)]
    currency: Option<String>,
    /// Extra CSV profile files (JSON, see services/feeds/README.md); may be repeated.
    #[arg(long = "profile", value_name = "FILE")]
    profiles: Vec<PathBuf>,
}

pub(crate) fn run(args: FeedArgs) -> Outcome {
    match args.command {
        FeedCommand::Parse(args) => parse(args),
        FeedCommand::Profiles => {
            let profiles: Vec<_> = CsvProfile::builtin()
                .into_iter()
                .map(|p| serde_json::json!({"name": p.name, "title": p.title}))
                .collect();
            json(profiles)
        }
    }
}

fn parse(args: ParseArgs) -> Outcome {
    let format = match &args.format {
        Some(name) => Some(
            name.parse::<Format>()
                .context("--format")
                .hint("run `collectctl feed parse FILE` without --format to detect it")?,
        ),
        None => None,
    };
    let mut csv_profiles = Vec::new();
    for path in &args.profiles {
        let text = read(path, "CSV profile")?;
        csv_profiles.push(
            CsvProfile::from_json(&text)
                .with_context(|| format!("CSV profile {}", path.display()))
                .hint("the profile format is in services/feeds/README.md")?,
        );
    }
    let options = ParseOptions {
        mode: if args.flag {
            CheckMode::Flag
        } else {
            CheckMode::Strict
        },
        encoding: args.encoding.clone(),
        account: args.account.clone(),
        currency: args.currency.clone(),
        csv_profiles,
    };
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))
        .hint("check the path")?;
    let name = args.file.display().to_string();
    let parsed = feeds::parse_file(&name, &bytes, format, &options)
        .map_err(anyhow::Error::new)
        .hint("check the format (--format) and encoding (--encoding); `collectctl feed profiles` lists CSV profiles")?;
    if parsed.is_clean() {
        return json(&parsed);
    }
    // Print what did parse, then fail with every rejected statement's reason.
    println!("{}", serde_json::to_string_pretty(&parsed)?);
    let reasons: Vec<String> = parsed.errors.iter().map(ToString::to_string).collect();
    Err::<String, _>(anyhow::anyhow!(
        "{} statement(s) rejected:\n  {}",
        reasons.len(),
        reasons.join("\n  ")
    ))
    .hint("fix the file, or pass --flag to keep statements that fail a check for manual review")
}
