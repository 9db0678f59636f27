//! `collectctl statement`: a customer's statement of account (issue 12 item 10) — open items
//! per contract with aging, late fees and totals per currency; a text table by default, JSON
//! with `--json`, and the printable document with `--html FILE` / `--pdf FILE`.

use std::path::PathBuf;

use anyhow::Context;
use chrono::NaiveDate;
use clap::Args;
use proto::contracts::v1 as api;
use proto::types::v1::Money;

use crate::cli::{Hint, Outcome, parse_date};
use crate::service;

#[derive(Args)]
pub(crate) struct StatementArgs {
    /// Customer id.
    customer_id: String,
    /// Statement date (default: the last daily cycle's date, else today).
    #[arg(long, value_parser = parse_date)]
    as_of: Option<NaiveDate>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Also write the printable HTML page to FILE.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Also write the PDF (A4, embedded CJK font) to FILE.
    #[arg(long, value_name = "FILE")]
    pdf: Option<PathBuf>,
    /// The contracts service (default: $CONTRACTS_URL, else the local stack's port).
    #[arg(long)]
    contracts: Option<String>,
}

fn amount(money: Option<&Money>) -> &str {
    money.map_or("", |m| m.amount.as_str())
}

fn bucket(value: i32) -> &'static str {
    match api::AgingBucket::try_from(value) {
        Ok(api::AgingBucket::Current) => "current",
        Ok(api::AgingBucket::Days1To30) => "1-30",
        Ok(api::AgingBucket::Days31To60) => "31-60",
        Ok(api::AgingBucket::Days61To90) => "61-90",
        Ok(api::AgingBucket::Days91To180) => "91-180",
        Ok(api::AgingBucket::Over180) => "180+",
        _ => "unknown",
    }
}

fn money_json(money: Option<&Money>) -> serde_json::Value {
    serde_json::json!(amount(money))
}

fn totals_json(t: &api::StatementTotals) -> serde_json::Value {
    serde_json::json!({
        "currency": t.currency,
        "billed": money_json(t.billed.as_ref()),
        "paid": money_json(t.paid.as_ref()),
        "open": money_json(t.open.as_ref()),
        "late_fee": money_json(t.late_fee.as_ref()),
        "interest": money_json(t.interest.as_ref()),
        "costs": money_json(t.costs.as_ref()),
        "owed": money_json(t.owed.as_ref()),
    })
}

fn to_json(s: &api::Statement, files: &[serde_json::Value]) -> serde_json::Value {
    serde_json::json!({
        "customer_id": s.customer_id,
        "customer_name": s.customer_name,
        "as_of": s.as_of,
        "late_fees_through": s.late_fees_through,
        "contracts": s.contracts.iter().map(|c| serde_json::json!({
            "contract_id": c.contract_id,
            "contract_no": c.contract_no,
            "currency": c.currency,
            "escrow_account_masked": c.escrow_account_masked,
            "items": c.items.iter().map(|i| serde_json::json!({
                "receivable_id": i.receivable_id,
                "installment_no": i.installment_no,
                "due_date": i.due_date,
                "kind": i.kind().as_str_name(),
                "charge_type": i.charge_type().as_str_name(),
                "billed": money_json(i.billed.as_ref()),
                "paid": money_json(i.paid.as_ref()),
                "open": money_json(i.open.as_ref()),
                "late_fee": money_json(i.late_fee.as_ref()),
                "interest": money_json(i.interest.as_ref()),
                "costs": money_json(i.costs.as_ref()),
                "owed": money_json(i.owed.as_ref()),
                "days_overdue": i.days_overdue,
                "aging_bucket": bucket(i.aging_bucket),
            })).collect::<Vec<_>>(),
            "totals": c.totals.as_ref().map(totals_json),
        })).collect::<Vec<_>>(),
        "aging": s.aging.iter().map(|a| serde_json::json!({
            "currency": a.currency,
            "buckets": a.buckets.iter().map(|b| serde_json::json!({
                "bucket": bucket(b.bucket),
                "open": money_json(b.amount.as_ref()),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "totals": s.totals.iter().map(totals_json).collect::<Vec<_>>(),
        "interest_note": s.interest_note,
        "files": files,
    })
}

fn totals_line(label: &str, t: &api::StatementTotals) -> String {
    format!(
        "{label:<38} {:>14} {:>14} {:>14} {:>12} {:>14}",
        amount(t.billed.as_ref()),
        amount(t.paid.as_ref()),
        amount(t.open.as_ref()),
        amount(t.late_fee.as_ref()),
        amount(t.owed.as_ref()),
    )
}

fn to_text(s: &api::Statement) -> String {
    let mut out = vec![format!(
        "statement of account: {} ({}) as of {}; late fees through {}",
        s.customer_name,
        s.customer_id,
        s.as_of,
        if s.late_fees_through.is_empty() {
            "(no daily cycle yet)"
        } else {
            &s.late_fees_through
        }
    )];
    if s.contracts.is_empty() {
        out.push("nothing owed".to_owned());
    }
    let head = format!(
        "{:<4} {:<10} {:<22} {:>14} {:>14} {:>14} {:>12} {:>14} {:>5} {}",
        "no",
        "due",
        "kind / charge",
        "billed",
        "paid",
        "open",
        "late fee",
        "owed",
        "days",
        "bucket"
    );
    for c in &s.contracts {
        out.push(String::new());
        out.push(format!(
            "contract {} ({}), pay to {}",
            c.contract_no, c.currency, c.escrow_account_masked
        ));
        out.push(head.clone());
        for i in &c.items {
            let kind = format!(
                "{} / {}",
                i.kind()
                    .as_str_name()
                    .trim_start_matches("SCHEDULE_ITEM_KIND_"),
                i.charge_type()
                    .as_str_name()
                    .trim_start_matches("CHARGE_TYPE_")
            )
            .to_lowercase();
            out.push(format!(
                "{:<4} {:<10} {:<22} {:>14} {:>14} {:>14} {:>12} {:>14} {:>5} {}",
                i.installment_no,
                i.due_date,
                kind,
                amount(i.billed.as_ref()),
                amount(i.paid.as_ref()),
                amount(i.open.as_ref()),
                amount(i.late_fee.as_ref()),
                amount(i.owed.as_ref()),
                i.days_overdue,
                bucket(i.aging_bucket),
            ));
        }
        if let Some(t) = &c.totals {
            out.push(totals_line("total", t));
        }
    }
    for a in &s.aging {
        out.push(String::new());
        out.push(format!("aging of the open principal ({})", a.currency));
        for b in &a.buckets {
            out.push(format!(
                "  {:<8} {:>14}",
                bucket(b.bucket),
                amount(b.amount.as_ref())
            ));
        }
    }
    if !s.totals.is_empty() {
        out.push(String::new());
        out.push(format!(
            "{:<38} {:>14} {:>14} {:>14} {:>12} {:>14}",
            "totals", "billed", "paid", "open", "late fee", "owed"
        ));
        for t in &s.totals {
            out.push(totals_line(&t.currency, t));
        }
    }
    out.push(format!("note: {}", s.interest_note));
    out.join("\n")
}

pub(crate) fn run(args: StatementArgs) -> Outcome {
    service::block_on(async move {
        let mut client = service::contracts(args.contracts).await?;
        let as_of = args.as_of.map(|d| d.to_string()).unwrap_or_default();
        let mut formats = Vec::new();
        if let Some(path) = args.html {
            formats.push((api::StatementFormat::Html, path));
        }
        if let Some(path) = args.pdf {
            formats.push((api::StatementFormat::Pdf, path));
        }
        let mut statement = None;
        let mut files = Vec::new();
        for (format, path) in formats {
            let response = client
                .get_statement(api::GetStatementRequest {
                    customer_id: args.customer_id.clone(),
                    as_of: as_of.clone(),
                    format: format as i32,
                })
                .await
                .map_err(service::status)?
                .into_inner();
            std::fs::write(&path, &response.document)
                .with_context(|| format!("cannot write {}", path.display()))
                .hint("check that the directory exists and is writable")?;
            files.push(serde_json::json!({
                "path": path.display().to_string(),
                "content_type": response.content_type,
                "bytes": response.document.len(),
                "sha256": response.sha256,
                "document_id": response.document_id,
            }));
            statement = response.statement;
        }
        let statement = match statement {
            Some(s) => s,
            None => client
                .get_statement(api::GetStatementRequest {
                    customer_id: args.customer_id.clone(),
                    as_of,
                    format: api::StatementFormat::Json as i32,
                })
                .await
                .map_err(service::status)?
                .into_inner()
                .statement
                .unwrap_or_default(),
        };
        if args.json {
            return Ok(serde_json::to_string_pretty(&to_json(&statement, &files))?);
        }
        let mut text = to_text(&statement);
        for f in &files {
            text.push_str(&format!(
                "\nwrote {} ({} bytes, sha256 {})",
                f["path"].as_str().unwrap_or_default(),
                f["bytes"],
                f["sha256"].as_str().unwrap_or_default()
            ));
        }
        Ok(text)
    })
}
