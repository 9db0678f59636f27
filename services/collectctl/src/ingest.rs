//! `collectctl ingest`: sends a bank statement file to the payments service, as a bank
//! connection would (R-O6: when a feed fails, an operator sends the file by hand; the same
//! file or line never counts twice, R-P2).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use proto::payments::v1 as api;

use crate::cli::{Hint, Outcome};
use crate::service;

#[derive(Args)]
pub(crate) struct IngestArgs {
    /// The statement file (MT940/MT942, camt.052/053/054, BAI2, bank CSV, or the simple CSV).
    file: PathBuf,
    /// The format; detected from the content when not given: mt940, mt942, camt052, camt053,
    /// camt054, bai2, csv:PROFILE, or csv (the simple layout).
    #[arg(long, default_value = "")]
    format: String,
    /// The account the money arrived on, for files that do not name it (CSV).
    #[arg(long, default_value = "")]
    account: String,
    /// The payments service (default: $PAYMENTS_URL, else the local stack's port).
    #[arg(long)]
    payments: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: IngestArgs) -> Outcome {
    let content = std::fs::read(&args.file)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", args.file.display()))
        .hint("check the path of the statement file")?;
    let file_name = args.file.file_name().map_or_else(
        || "statement".to_owned(),
        |n| n.to_string_lossy().into_owned(),
    );
    service::block_on(async move {
        let mut client = service::payments(args.payments).await?;
        let started = Instant::now();
        let done = client
            .ingest_bank_file(api::IngestBankFileRequest {
                file_name: file_name.clone(),
                content,
                format: args.format,
                account: args.account,
            })
            .await
            .map_err(service::status)?
            .into_inner();
        let seconds = started.elapsed().as_secs_f64();
        if args.json {
            return Ok(serde_json::to_string_pretty(&serde_json::json!({
                "file_id": done.file_id,
                "file_name": file_name,
                "format": done.format,
                "duplicate_file": done.duplicate_file,
                "lines_total": done.lines_total,
                "lines_accepted": done.lines_accepted,
                "lines_duplicate": done.lines_duplicate,
                "lines_rejected": done.lines_rejected,
                "entries_skipped": done.entries_skipped,
                "payments_applied": done.payments_matched,
                "exceptions_raised": done.exceptions_raised,
                "errors": done.errors.iter().map(|e| serde_json::json!({
                    "line": e.line, "field": e.field, "message": e.message,
                })).collect::<Vec<_>>(),
                "seconds": seconds,
            }))?);
        }
        let mut out = if done.duplicate_file {
            format!(
                "{file_name} was ingested before (file {}); nothing changed\n",
                done.file_id
            )
        } else {
            format!(
                "{file_name} ingested as {} (file {}) in {seconds:.1} s\n",
                done.format, done.file_id
            )
        };
        let _ = writeln!(
            out,
            "  lines: {} in all, {} new payments, {} already seen in other files, {} rejected; {} entries that are not incoming payments",
            done.lines_total,
            done.lines_accepted,
            done.lines_duplicate,
            done.lines_rejected,
            done.entries_skipped
        );
        let _ = writeln!(
            out,
            "  cash application: {} applied, {} exceptions (see `collectctl exceptions list`)",
            done.payments_matched, done.exceptions_raised
        );
        for e in &done.errors {
            let _ = writeln!(out, "  line {} {}: {}", e.line, e.field, e.message);
        }
        if !done.errors.is_empty() {
            let _ = writeln!(
                out,
                "  the rejected lines were not booked: correct them and send them in a new file"
            );
        }
        Ok(out.trim_end().to_owned())
    })
}
