//! `collectctl reconcile book-to-bank`: the payments service's book-to-bank reconciliation of
//! one receiving account per business day (R-P7), for finance: a readable report, `--json`,
//! and a CSV or HTML document to file. Accounts are printed masked, as the service answers.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use chrono::NaiveDate;
use clap::Args;
use proto::payments::v1 as api;

use crate::cli::{Hint, Outcome, parse_date};
use crate::service;

#[derive(Args)]
pub(crate) struct BookToBankArgs {
    /// The receiving account as the bank statement names it.
    #[arg(long)]
    account: String,
    /// First business day (YYYY-MM-DD).
    #[arg(long, value_parser = parse_date)]
    from: NaiveDate,
    /// Last business day (YYYY-MM-DD), inclusive; at most 366 days after --from.
    #[arg(long, value_parser = parse_date)]
    to: NaiveDate,
    /// Currency of the account (default CNY).
    #[arg(long, default_value = "")]
    currency: String,
    /// The payments service (default: $PAYMENTS_URL, else the local stack's port).
    #[arg(long)]
    payments: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Also write the discrepancy report to this file: CSV (.csv) or HTML (.html).
    #[arg(long, value_name = "FILE.csv|FILE.html")]
    out: Option<PathBuf>,
}

pub(crate) fn run(args: BookToBankArgs) -> Outcome {
    service::block_on(async move {
        let mut client = service::payments(args.payments.clone()).await?;
        let report = client
            .reconcile_book_to_bank(api::ReconcileBookToBankRequest {
                account: args.account.clone(),
                from: args.from.to_string(),
                to: args.to.to_string(),
                currency: args.currency.clone(),
            })
            .await
            .map_err(service::status)?
            .into_inner();
        if let Some(path) = &args.out {
            let document = match path.extension().and_then(|e| e.to_str()) {
                Some("csv") => csv(&report),
                Some("html" | "htm") => html(&report),
                _ => {
                    return Err(crate::cli::Failure::with_hint(
                        anyhow::anyhow!("--out {} has neither .csv nor .html", path.display()),
                        "name the file report.csv or report.html",
                    ));
                }
            };
            std::fs::write(path, document)
                .with_context(|| format!("writing {}", path.display()))
                .hint("check that the directory exists and is writable")?;
        }
        if args.json {
            return Ok(serde_json::to_string_pretty(&json(&report))?);
        }
        Ok(text(&report))
    })
}

fn kind_name(kind: i32) -> &'static str {
    api::DiscrepancyKind::try_from(kind)
        .map(|k| {
            k.as_str_name()
                .strip_prefix("DISCREPANCY_KIND_")
                .unwrap_or("UNSPECIFIED")
        })
        .unwrap_or("UNSPECIFIED")
}

fn json(r: &api::ReconcileBookToBankResponse) -> serde_json::Value {
    serde_json::json!({
        "account": r.account_masked,
        "currency": r.currency,
        "from": r.from,
        "to": r.to,
        "matched": r.matched,
        "discrepancy_count": r.discrepancy_count,
        "days": r.days.iter().map(|d| serde_json::json!({
            "business_date": d.business_date,
            "statements": d.statements,
            "bank": {"opening": d.opening, "credits": d.bank_credits, "debits": d.bank_debits,
                     "closing": d.closing, "credit_lines": d.bank_credit_lines},
            "book": {"applied": d.book_applied, "unapplied": d.book_unapplied,
                     "exceptions": d.book_exceptions, "refunded": d.book_refunded,
                     "total": d.book_total, "payments": d.book_payments},
            "discrepancies": d.discrepancies.iter().map(|x| serde_json::json!({
                "kind": kind_name(x.kind),
                "amount": x.amount,
                "detail": x.detail,
                "next_step": x.next_step,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

fn or_dash(s: &str) -> &str {
    if s.is_empty() { "-" } else { s }
}

fn text(r: &api::ReconcileBookToBankResponse) -> String {
    let mut out = format!(
        "book-to-bank {} {} from {} to {}: {}\n",
        r.account_masked,
        r.currency,
        r.from,
        r.to,
        if r.matched {
            "matches 100%".to_owned()
        } else {
            format!("{} discrepancies", r.discrepancy_count)
        }
    );
    for d in &r.days {
        let _ = writeln!(
            out,
            "{}  bank: opening {} + credits {} − debits {} = closing {} ({} credit lines, {} statement(s))\n            book: {} = applied {} + unapplied {} + exceptions {} + refunded {} ({} payments)",
            d.business_date,
            or_dash(&d.opening),
            d.bank_credits,
            d.bank_debits,
            or_dash(&d.closing),
            d.bank_credit_lines,
            d.statements,
            d.book_total,
            d.book_applied,
            d.book_unapplied,
            d.book_exceptions,
            or_dash(&d.book_refunded),
            d.book_payments
        );
        for x in &d.discrepancies {
            let _ = writeln!(
                out,
                "    {:<24} {:>14}  {}\n    {:<24} next: {}",
                kind_name(x.kind),
                x.amount,
                x.detail,
                "",
                x.next_step
            );
        }
    }
    out.trim_end().to_owned()
}

/// One CSV field (RFC 4180 quoting).
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn csv(r: &api::ReconcileBookToBankResponse) -> String {
    let mut out = String::from(
        "account,currency,business_date,bank_opening,bank_credits,bank_debits,bank_closing,book_total,kind,amount,detail,next_step\n",
    );
    for d in &r.days {
        let rows: Vec<(&str, &str, &str, &str)> = if d.discrepancies.is_empty() {
            vec![("MATCHED", "0", "", "")]
        } else {
            d.discrepancies
                .iter()
                .map(|x| {
                    (
                        kind_name(x.kind),
                        x.amount.as_str(),
                        x.detail.as_str(),
                        x.next_step.as_str(),
                    )
                })
                .collect()
        };
        for (kind, amount, detail, next) in rows {
            let cells = [
                r.account_masked.as_str(),
                &r.currency,
                &d.business_date,
                &d.opening,
                &d.bank_credits,
                &d.bank_debits,
                &d.closing,
                &d.book_total,
                kind,
                amount,
                detail,
                next,
            ];
            let line: Vec<String> = cells.iter().map(|c| field(c)).collect();
            out.push_str(&line.join(","));
            out.push('\n');
        }
    }
    out
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn html(r: &api::ReconcileBookToBankResponse) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Book-to-bank {acct}</title>\n<style>body{{font-family:sans-serif}}table{{border-collapse:collapse}}td,th{{border:1px solid #999;padding:2px 6px}}td.n{{text-align:right}}.bad{{background:#fdd}}</style></head><body>\n<h1>Book-to-bank reconciliation (R-P7)</h1>\n<p>Account {acct}, {ccy}, {from} to {to}: <strong>{verdict}</strong></p>\n<table><tr><th>Day</th><th>Opening</th><th>Credits</th><th>Debits</th><th>Closing</th><th>Booked</th><th>Discrepancy</th><th>Amount</th><th>Detail</th><th>Next step</th></tr>\n",
        acct = escape(&r.account_masked),
        ccy = escape(&r.currency),
        from = escape(&r.from),
        to = escape(&r.to),
        verdict = if r.matched {
            "matches 100%".to_owned()
        } else {
            format!("{} discrepancies", r.discrepancy_count)
        }
    );
    for d in &r.days {
        let head = format!(
            "<td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>",
            escape(&d.business_date),
            escape(or_dash(&d.opening)),
            escape(&d.bank_credits),
            escape(&d.bank_debits),
            escape(or_dash(&d.closing)),
            escape(&d.book_total)
        );
        if d.discrepancies.is_empty() {
            let _ = writeln!(
                out,
                "<tr>{head}<td>matched</td><td></td><td></td><td></td></tr>"
            );
        }
        for x in &d.discrepancies {
            let _ = writeln!(
                out,
                "<tr class=\"bad\">{head}<td>{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>",
                kind_name(x.kind),
                escape(&x.amount),
                escape(&x.detail),
                escape(&x.next_step)
            );
        }
    }
    out.push_str("</table></body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> api::ReconcileBookToBankResponse {
        api::ReconcileBookToBankResponse {
            account_masked: "************8888".into(),
            currency: "CNY".into(),
            from: "2026-03-01".into(),
            to: "2026-03-31".into(),
            days: vec![api::ReconciledDay {
                business_date: "2026-03-02".into(),
                bank_credits: "500.00".into(),
                book_total: "300.00".into(),
                discrepancies: vec![api::Discrepancy {
                    kind: api::DiscrepancyKind::BankLineNotBooked as i32,
                    business_date: "2026-03-02".into(),
                    amount: "200.00".into(),
                    detail: "line \"x\", <b>".into(),
                    next_step: "ingest it".into(),
                }],
                ..Default::default()
            }],
            matched: false,
            discrepancy_count: 1,
        }
    }

    #[test]
    fn csv_quotes_and_html_escapes_r_p7() {
        let c = csv(&report());
        assert!(
            c.contains("BANK_LINE_NOT_BOOKED,200.00,\"line \"\"x\"\", <b>\""),
            "{c}"
        );
        let h = html(&report());
        assert!(h.contains("line &quot;x&quot;, &lt;b&gt;"), "{h}");
        assert!(!h.contains("<b>"));
        let t = text(&report());
        assert!(
            t.contains("1 discrepancies") && t.contains("************8888"),
            "{t}"
        );
    }
}
