//! How `collectctl report` shows each report: text for people, JSON and CSV for programs.

use std::fmt::Write as _;

use proto::reporting::v1 as api;

use super::{Format, bucket_name, csv, m, pct};
use crate::cli::{Outcome, json};

pub(super) fn aging(r: &api::GetAgingResponse, format: Format) -> Outcome {
    match format {
        Format::Json => json(serde_json::json!({
            "as_of": r.as_of,
            "reports": r.reports.iter().map(|report| serde_json::json!({
                "currency": report.currency,
                "total": m(report.total.as_ref()),
                "buckets": report.rows.iter().map(|row| serde_json::json!({
                    "bucket": bucket_name(row.bucket),
                    "receivables": row.receivables,
                    "balance": m(row.balance.as_ref()),
                    "share_percent": row.share_percent,
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })),
        Format::Csv => Ok(csv(
            &[
                "as_of",
                "currency",
                "bucket",
                "receivables",
                "balance",
                "share_percent",
            ],
            &r.reports
                .iter()
                .flat_map(|report| {
                    report.rows.iter().map(|row| {
                        vec![
                            r.as_of.clone(),
                            report.currency.clone(),
                            bucket_name(row.bucket).to_owned(),
                            row.receivables.to_string(),
                            m(row.balance.as_ref()),
                            row.share_percent.clone(),
                        ]
                    })
                })
                .collect::<Vec<_>>(),
        )),
        Format::Text => {
            let mut out = format!(
                "aging as of {} (open principal by days past due, R-C11)\n",
                r.as_of
            );
            if r.reports.is_empty() {
                out.push_str("nothing open");
            }
            for report in &r.reports {
                let _ = writeln!(out, "\n{}", report.currency);
                let _ = writeln!(
                    out,
                    "  {:<8} {:>11} {:>18} {:>8}",
                    "bucket", "receivables", "balance", "share"
                );
                for row in &report.rows {
                    let _ = writeln!(
                        out,
                        "  {:<8} {:>11} {:>18} {:>8}",
                        bucket_name(row.bucket),
                        row.receivables,
                        m(row.balance.as_ref()),
                        pct(&row.share_percent)
                    );
                }
                let _ = writeln!(
                    out,
                    "  {:<8} {:>11} {:>18}",
                    "total",
                    "",
                    m(report.total.as_ref())
                );
            }
            Ok(out.trim_end().to_owned())
        }
    }
}

pub(super) fn kpis(r: &api::GetKpisResponse, format: Format) -> Outcome {
    let row = |k: &api::Kpis| -> Vec<(&'static str, String)> {
        vec![
            ("opening", m(k.opening.as_ref())),
            ("sales", m(k.sales.as_ref())),
            ("collected", m(k.collected.as_ref())),
            ("waived", m(k.waived.as_ref())),
            ("written_off", m(k.written_off.as_ref())),
            ("closing", m(k.closing.as_ref())),
            ("closing_current", m(k.closing_current.as_ref())),
            ("collectible", m(k.collectible.as_ref())),
            ("collection_rate_percent", k.collection_rate_percent.clone()),
            ("overdue_rate_percent", k.overdue_rate_percent.clone()),
            ("dso_days", k.dso_days.clone()),
            ("cei_percent", k.cei_percent.clone()),
            ("average_collection_days", k.average_collection_days.clone()),
        ]
    };
    match format {
        Format::Json => json(serde_json::json!({
            "from": r.from,
            "to": r.to,
            "kpis": r.kpis.iter().map(|k| {
                let mut object = serde_json::Map::new();
                object.insert("currency".into(), k.currency.clone().into());
                object.insert("days".into(), k.days.into());
                for (name, value) in row(k) {
                    object.insert(name.into(), value.into());
                }
                serde_json::Value::Object(object)
            }).collect::<Vec<_>>(),
        })),
        Format::Csv => {
            let mut header = vec!["from", "to", "currency", "days"];
            header.extend(row(&api::Kpis::default()).iter().map(|(n, _)| *n));
            Ok(csv(
                &header,
                &r.kpis
                    .iter()
                    .map(|k| {
                        let mut values = vec![
                            r.from.clone(),
                            r.to.clone(),
                            k.currency.clone(),
                            k.days.to_string(),
                        ];
                        values.extend(row(k).into_iter().map(|(_, v)| v));
                        values
                    })
                    .collect::<Vec<_>>(),
            ))
        }
        Format::Text => {
            let mut out = format!("KPIs {} … {} (R-O7)\n", r.from, r.to);
            if r.kpis.is_empty() {
                out.push_str("no receivables in the period");
            }
            for k in &r.kpis {
                let _ = writeln!(out, "\n{} ({} days)", k.currency, k.days);
                let _ = writeln!(
                    out,
                    "  opening receivables      {:>18}",
                    m(k.opening.as_ref())
                );
                let _ = writeln!(
                    out,
                    "  + sales (billed)         {:>18}",
                    m(k.sales.as_ref())
                );
                let _ = writeln!(
                    out,
                    "  − collected              {:>18}",
                    m(k.collected.as_ref())
                );
                let _ = writeln!(
                    out,
                    "  − waived                 {:>18}",
                    m(k.waived.as_ref())
                );
                let _ = writeln!(
                    out,
                    "  − written off            {:>18}",
                    m(k.written_off.as_ref())
                );
                let _ = writeln!(
                    out,
                    "  = closing receivables    {:>18}  (not past due: {})",
                    m(k.closing.as_ref()),
                    m(k.closing_current.as_ref())
                );
                let _ = writeln!(
                    out,
                    "  collection rate          {:>18}  (of {} collectible)",
                    pct(&k.collection_rate_percent),
                    m(k.collectible.as_ref())
                );
                let _ = writeln!(
                    out,
                    "  overdue rate             {:>18}",
                    pct(&k.overdue_rate_percent)
                );
                let _ = writeln!(
                    out,
                    "  CEI                      {:>18}",
                    pct(&k.cei_percent)
                );
                let _ = writeln!(
                    out,
                    "  DSO                      {:>18}",
                    if k.dso_days.is_empty() {
                        "— (no sales)".to_owned()
                    } else {
                        format!("{} days", k.dso_days)
                    }
                );
                let _ = writeln!(
                    out,
                    "  average days to collect  {:>18}",
                    if k.average_collection_days.is_empty() {
                        "—".to_owned()
                    } else {
                        format!("{} days", k.average_collection_days)
                    }
                );
            }
            Ok(out.trim_end().to_owned())
        }
    }
}

pub(super) fn rolls(r: &api::GetRollRatesResponse, format: Format) -> Outcome {
    let flat: Vec<Vec<String>> = r
        .months
        .iter()
        .flat_map(|month| {
            month.rates.iter().map(|rate| {
                vec![
                    month.month.clone(),
                    month.currency.clone(),
                    bucket_name(rate.from_bucket).to_owned(),
                    bucket_name(rate.to_bucket).to_owned(),
                    m(rate.balance.as_ref()),
                    m(rate.rolled.as_ref()),
                    rate.rate_percent.clone(),
                ]
            })
        })
        .collect();
    let header = [
        "month",
        "currency",
        "from",
        "to",
        "balance",
        "rolled",
        "rate_percent",
    ];
    match format {
        Format::Json => json(
            flat.iter()
                .map(|row| {
                    header
                        .iter()
                        .zip(row)
                        .map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(v.clone())))
                        .collect::<serde_json::Map<_, _>>()
                })
                .collect::<Vec<_>>(),
        ),
        Format::Csv => Ok(csv(&header, &flat)),
        Format::Text => {
            let mut out = String::from(
                "roll rates (R-O7): share of a bucket's balance one bucket further a month later\n",
            );
            if flat.is_empty() {
                out.push_str("no open balances at those month-ends");
            }
            for row in &flat {
                if row[4] == "0.00" || row[4] == "0" {
                    continue;
                }
                let _ = writeln!(
                    out,
                    "  {} {}  {:>7} → {:<7} {:>18} rolled {:>18}  {}",
                    row[0],
                    row[1],
                    row[2],
                    row[3],
                    row[4],
                    row[5],
                    pct(&row[6])
                );
            }
            Ok(out.trim_end().to_owned())
        }
    }
}

pub(super) fn provisions(run: &api::ProvisionRun, format: Format) -> Outcome {
    let voucher = run.voucher.clone().unwrap_or_default();
    match format {
        Format::Json => json(serde_json::json!({
            "as_of": run.as_of,
            "currency": run.currency,
            "matrix": run.matrix,
            "buckets": run.rows.iter().map(|r| serde_json::json!({
                "bucket": bucket_name(r.bucket),
                "balance": m(r.balance.as_ref()),
                "loss_rate_percent": r.loss_rate_percent,
                "provision": m(r.provision.as_ref()),
            })).collect::<Vec<_>>(),
            "total": m(run.total.as_ref()),
            "previous_as_of": run.previous_as_of,
            "previous_total": m(run.previous_total.as_ref()),
            "change": m(run.change.as_ref()),
            "voucher": {
                "summary": voucher.summary,
                "balanced": voucher.balanced,
                "lines": voucher.lines.iter().map(|l| serde_json::json!({
                    "account_code": l.account_code,
                    "account_name": l.account_name,
                    "debit": m(l.debit.as_ref()),
                    "credit": m(l.credit.as_ref()),
                })).collect::<Vec<_>>(),
            },
            "recorded_by": run.recorded_by,
        })),
        Format::Csv => Ok(csv(
            &[
                "as_of",
                "currency",
                "bucket",
                "balance",
                "loss_rate_percent",
                "provision",
            ],
            &run.rows
                .iter()
                .map(|r| {
                    vec![
                        run.as_of.clone(),
                        run.currency.clone(),
                        bucket_name(r.bucket).to_owned(),
                        m(r.balance.as_ref()),
                        r.loss_rate_percent.clone(),
                        m(r.provision.as_ref()),
                    ]
                })
                .collect::<Vec<_>>(),
        )),
        Format::Text => {
            let mut out = format!(
                "bad-debt provisions as of {} in {} (matrix {}, R-O8)\n\n",
                run.as_of, run.currency, run.matrix
            );
            let _ = writeln!(
                out,
                "  {:<8} {:>18} {:>10} {:>16}",
                "bucket", "balance", "loss rate", "provision"
            );
            for r in &run.rows {
                let _ = writeln!(
                    out,
                    "  {:<8} {:>18} {:>10} {:>16}",
                    bucket_name(r.bucket),
                    m(r.balance.as_ref()),
                    format!("{} %", r.loss_rate_percent),
                    m(r.provision.as_ref())
                );
            }
            let _ = writeln!(
                out,
                "  {:<8} {:>18} {:>10} {:>16}",
                "total",
                "",
                "",
                m(run.total.as_ref())
            );
            let _ = writeln!(
                out,
                "\nprevious run: {}  change: {}",
                if run.previous_as_of.is_empty() {
                    "none (the whole allowance is new)".to_owned()
                } else {
                    format!(
                        "{} ({})",
                        run.previous_as_of,
                        m(run.previous_total.as_ref())
                    )
                },
                m(run.change.as_ref())
            );
            let _ = writeln!(out, "\ndraft voucher: {}", voucher.summary);
            for l in &voucher.lines {
                let _ = writeln!(
                    out,
                    "  {} {:<36} debit {:>16}  credit {:>16}",
                    l.account_code,
                    l.account_name,
                    m(l.debit.as_ref()),
                    m(l.credit.as_ref())
                );
            }
            if !voucher.lines.is_empty() {
                let _ = writeln!(
                    out,
                    "  balanced: {}",
                    if voucher.balanced { "yes" } else { "NO" }
                );
            }
            if run.recorded_by.is_empty() {
                out.push_str("\nnot recorded: add --record (finance) to keep this run as the base of the next");
            } else {
                let _ = write!(out, "\nrecorded by {}", run.recorded_by);
            }
            Ok(out.trim_end().to_owned())
        }
    }
}

pub(super) fn trace(r: &api::GetTraceResponse, format: Format) -> Outcome {
    match format {
        Format::Json => json(serde_json::json!({
            "contracts": r.contract_ids,
            "steps": r.steps.iter().map(|s| serde_json::json!({
                "occurred_at": s.occurred_at,
                "service": s.service,
                "event": s.event,
                "summary": s.summary,
                "contract_id": s.contract_id,
                "receivable_ids": s.receivable_ids,
                "payment_id": s.payment_id,
                "case_id": s.case_id,
                "event_id": s.event_id,
                "since_previous_ms": s.since_previous_ms,
            })).collect::<Vec<_>>(),
        })),
        Format::Csv => Ok(csv(
            &[
                "occurred_at",
                "service",
                "event",
                "summary",
                "contract_id",
                "payment_id",
                "case_id",
                "since_previous_ms",
            ],
            &r.steps
                .iter()
                .map(|s| {
                    vec![
                        s.occurred_at.clone(),
                        s.service.clone(),
                        s.event.clone(),
                        s.summary.clone(),
                        s.contract_id.clone(),
                        s.payment_id.clone(),
                        s.case_id.clone(),
                        s.since_previous_ms.to_string(),
                    ]
                })
                .collect::<Vec<_>>(),
        )),
        Format::Text => {
            let mut out = format!("trace of contract {} (R-O2)\n\n", r.contract_ids.join(", "));
            for s in &r.steps {
                let _ = writeln!(
                    out,
                    "  {}  {:>9}  {:<10} {:<22} {}",
                    s.occurred_at,
                    if s.since_previous_ms == 0 {
                        String::new()
                    } else {
                        format!("+{}", human(s.since_previous_ms))
                    },
                    s.service,
                    s.event,
                    s.summary
                );
            }
            Ok(out.trim_end().to_owned())
        }
    }
}

/// "850 ms", "12.3 s", "4 min", "3 d".
fn human(ms: i64) -> String {
    match ms {
        ..1_000 => format!("{ms} ms"),
        1_000..60_000 => format!("{}.{} s", ms / 1000, ms % 1000 / 100),
        60_000..86_400_000 => format!("{} min", ms / 60_000),
        _ => format!("{} d", ms / 86_400_000),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_for_people() {
        assert_eq!(human(850), "850 ms");
        assert_eq!(human(12_340), "12.3 s");
        assert_eq!(human(240_000), "4 min");
        assert_eq!(human(3 * 86_400_000), "3 d");
    }
}
