//! `collectctl report recovery | collectors | forecast | pack`: recovery by dunning step,
//! per-collector KPIs, the cash-inflow forecast with its backtest (R-O1) and the month-end
//! pack. Text by default, `--json`, `--csv`.

use std::fmt::Write as _;
use std::path::PathBuf;

use proto::reporting::v1 as api;

use crate::cli::{Failure, Outcome, json};
use crate::report::{Format, csv, m, pct};

/// A ladder stage's name (the step's channel, R-D1).
fn stage(value: i32) -> String {
    proto::types::v1::ContactChannel::try_from(value)
        .map(|c| {
            c.as_str_name()
                .trim_start_matches("CONTACT_CHANNEL_")
                .to_lowercase()
        })
        .unwrap_or_else(|_| "?".to_owned())
}

pub(crate) fn recovery(r: &api::GetRecoveryByStepResponse, format: Format) -> Outcome {
    let header = [
        "from",
        "to",
        "currency",
        "stage",
        "steps",
        "debts",
        "owed",
        "recovered",
        "debts_recovered",
        "recovery_rate_percent",
    ];
    let rows: Vec<Vec<String>> = r
        .reports
        .iter()
        .flat_map(|report| {
            report.rows.iter().map(|row| {
                vec![
                    r.from.clone(),
                    r.to.clone(),
                    report.currency.clone(),
                    stage(row.stage),
                    row.steps.join(" "),
                    row.debts.to_string(),
                    m(row.owed.as_ref()),
                    m(row.recovered.as_ref()),
                    row.debts_recovered.to_string(),
                    row.recovery_rate_percent.clone(),
                ]
            })
        })
        .collect();
    match format {
        Format::Json => json(serde_json::json!({
            "from": r.from,
            "to": r.to,
            "within_days": r.within_days,
            "rows": rows.iter().map(|row| header.iter().zip(row).map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(v.clone()))).collect::<serde_json::Map<_, _>>()).collect::<Vec<_>>(),
        })),
        Format::Csv => Ok(csv(&header, &rows)),
        Format::Text => {
            let mut out = format!(
                "recovery by dunning step {} … {} (R-O1): principal paid within {} days after a step and before the next\n",
                r.from, r.to, r.within_days
            );
            if rows.is_empty() {
                out.push_str("no dunning steps in the period");
            }
            let _ = writeln!(
                out,
                "\n  {:<4} {:<22} {:>6} {:>16} {:>16} {:>9}",
                "cur", "stage", "debts", "owed", "recovered", "rate"
            );
            for row in &rows {
                let _ = writeln!(
                    out,
                    "  {:<4} {:<22} {:>6} {:>16} {:>16} {:>9}   {}",
                    row[2],
                    row[3],
                    row[5],
                    row[6],
                    row[7],
                    pct(&row[9]),
                    row[4]
                );
            }
            Ok(out.trim_end().to_owned())
        }
    }
}

pub(crate) fn collectors(r: &api::GetCollectorKpisResponse, format: Format) -> Outcome {
    let header = [
        "owner",
        "team",
        "customers",
        "collected",
        "opening",
        "sales",
        "closing",
        "closing_current",
        "cei_percent",
        "promises_made",
        "promises_kept",
        "promises_broken",
        "promise_kept_rate_percent",
        "contacts",
        "cases",
    ];
    let rows: Vec<Vec<String>> = r
        .rows
        .iter()
        .map(|k| {
            vec![
                k.owner.clone(),
                k.team.clone(),
                k.customers.to_string(),
                m(k.collected.as_ref()),
                m(k.opening.as_ref()),
                m(k.sales.as_ref()),
                m(k.closing.as_ref()),
                m(k.closing_current.as_ref()),
                k.cei_percent.clone(),
                k.promises_made.to_string(),
                k.promises_kept.to_string(),
                k.promises_broken.to_string(),
                k.promise_kept_rate_percent.clone(),
                k.contacts.to_string(),
                k.cases.to_string(),
            ]
        })
        .collect();
    match format {
        Format::Json => json(serde_json::json!({
            "from": r.from,
            "to": r.to,
            "currency": r.currency,
            "rows": rows.iter().map(|row| header.iter().zip(row).map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(v.clone()))).collect::<serde_json::Map<_, _>>()).collect::<Vec<_>>(),
        })),
        Format::Csv => Ok(csv(&header, &rows)),
        Format::Text => {
            let mut out = format!(
                "collectors {} … {} in {} (R-O1, R-D11)\n\n  {:<18} {:>9} {:>16} {:>8}  {:<16} {:>8} {:>5}\n",
                r.from,
                r.to,
                r.currency,
                "owner",
                "customers",
                "collected",
                "CEI",
                "promises m/k/b",
                "contacts",
                "cases"
            );
            if rows.is_empty() {
                out.push_str("  nobody in your scope");
            }
            for k in &rows {
                let _ = writeln!(
                    out,
                    "  {:<18} {:>9} {:>16} {:>8}  {:<16} {:>8} {:>5}",
                    if k[0].is_empty() {
                        "(unassigned)"
                    } else {
                        &k[0]
                    },
                    k[2],
                    k[3],
                    pct(&k[8]),
                    format!("{}/{}/{}", k[9], k[10], k[11]),
                    k[13],
                    k[14]
                );
            }
            Ok(out.trim_end().to_owned())
        }
    }
}

pub(crate) fn forecast(r: &api::GetForecastResponse, format: Format) -> Outcome {
    let basis = r.basis.clone().unwrap_or_default();
    let backtest = r.backtest.clone().unwrap_or_default();
    match format {
        Format::Json => json(serde_json::json!({
            "as_of": r.as_of,
            "currency": r.currency,
            "weeks": r.weeks.iter().map(|w| serde_json::json!({
                "week": w.week, "from": w.from, "to": w.to,
                "scheduled": m(w.scheduled.as_ref()),
                "promised": m(w.promised.as_ref()),
                "overdue": m(w.overdue.as_ref()),
                "total": m(w.total.as_ref()),
            })).collect::<Vec<_>>(),
            "basis": {
                "pay_rate": basis.pay_rate,
                "delay_days": basis.delay_days,
                "weekly_overdue_rate": basis.weekly_overdue_rate,
                "promise_kept_rate": basis.promise_kept_rate,
                "customers_with_history": basis.customers_with_history,
                "open": m(basis.open.as_ref()),
                "beyond": m(basis.beyond.as_ref()),
            },
            "backtest": {
                "as_of": backtest.as_of,
                "weeks": backtest.weeks.iter().map(|w| serde_json::json!({
                    "week": w.week, "from": w.from, "to": w.to,
                    "forecast": m(w.forecast.as_ref()),
                    "actual": m(w.actual.as_ref()),
                    "error": m(w.error.as_ref()),
                    "absolute_error": m(w.absolute_error.as_ref()),
                })).collect::<Vec<_>>(),
                "forecast": m(backtest.forecast.as_ref()),
                "actual": m(backtest.actual.as_ref()),
                "absolute_error": m(backtest.absolute_error.as_ref()),
                "wape_percent": backtest.wape_percent,
                "bias_percent": backtest.bias_percent,
            },
        })),
        Format::Csv => {
            // One table: the forecast weeks, then the backtest's weeks (kind = backtest).
            let mut rows: Vec<Vec<String>> = r
                .weeks
                .iter()
                .map(|w| {
                    vec![
                        "forecast".to_owned(),
                        w.week.to_string(),
                        w.from.clone(),
                        w.to.clone(),
                        m(w.scheduled.as_ref()),
                        m(w.promised.as_ref()),
                        m(w.overdue.as_ref()),
                        m(w.total.as_ref()),
                        String::new(),
                        String::new(),
                    ]
                })
                .collect();
            rows.extend(backtest.weeks.iter().map(|w| {
                vec![
                    "backtest".to_owned(),
                    w.week.to_string(),
                    w.from.clone(),
                    w.to.clone(),
                    String::new(),
                    String::new(),
                    String::new(),
                    m(w.forecast.as_ref()),
                    m(w.actual.as_ref()),
                    m(w.error.as_ref()),
                ]
            }));
            Ok(csv(
                &[
                    "kind",
                    "week",
                    "from",
                    "to",
                    "scheduled",
                    "promised",
                    "overdue",
                    "total",
                    "actual",
                    "error",
                ],
                &rows,
            ))
        }
        Format::Text => {
            let mut out = format!(
                "cash-inflow forecast in {} from {} (R-O1): principal expected per week\n\n",
                r.currency, r.as_of
            );
            let _ = writeln!(
                out,
                "  {:>4}  {:<23} {:>14} {:>14} {:>14} {:>14}",
                "week", "dates", "scheduled", "promised", "overdue", "total"
            );
            for w in &r.weeks {
                let _ = writeln!(
                    out,
                    "  {:>4}  {:<23} {:>14} {:>14} {:>14} {:>14}",
                    w.week,
                    format!("{} … {}", w.from, w.to),
                    m(w.scheduled.as_ref()),
                    m(w.promised.as_ref()),
                    m(w.overdue.as_ref()),
                    m(w.total.as_ref())
                );
            }
            let _ = writeln!(
                out,
                "\n  open {}; not expected within the horizon {}",
                m(basis.open.as_ref()),
                m(basis.beyond.as_ref())
            );
            let _ = writeln!(
                out,
                "  learned: pay rate {}, delay {} days, weekly overdue rate {}, promise kept rate {} ({} customers with their own history)",
                basis.pay_rate,
                basis.delay_days,
                basis.weekly_overdue_rate,
                basis.promise_kept_rate,
                basis.customers_with_history
            );
            let _ = writeln!(
                out,
                "\nbacktest: forecast as of {} for the {} weeks after, against what was paid",
                backtest.as_of,
                backtest.weeks.len()
            );
            for w in &backtest.weeks {
                let _ = writeln!(
                    out,
                    "  {:>4}  {:<23} forecast {:>14} actual {:>14} error {:>14}",
                    w.week,
                    format!("{} … {}", w.from, w.to),
                    m(w.forecast.as_ref()),
                    m(w.actual.as_ref()),
                    m(w.error.as_ref())
                );
            }
            let _ = writeln!(
                out,
                "  WAPE {}  bias {}  (absolute error {} on {} collected)",
                pct(&backtest.wape_percent),
                pct(&backtest.bias_percent),
                m(backtest.absolute_error.as_ref()),
                m(backtest.actual.as_ref())
            );
            Ok(out.trim_end().to_owned())
        }
    }
}

pub(crate) fn pack(
    r: &api::GetMonthEndPackResponse,
    out: Option<PathBuf>,
    format: Format,
) -> Outcome {
    let path = out.unwrap_or_else(|| r.file_name.clone().into());
    std::fs::write(&path, &r.document).map_err(|e| {
        Failure::with_hint(
            anyhow::anyhow!("cannot write {}: {e}", path.display()),
            "give a writable path with --out",
        )
    })?;
    if format == Format::Json {
        return json(serde_json::json!({
            "file": path.display().to_string(),
            "bytes": r.document.len(),
            "content_type": r.content_type,
            "voucher_balanced": r.voucher_balanced,
            "book_to_bank_matched": r.book_to_bank_matched,
            "book_to_bank_note": r.book_to_bank_note,
        }));
    }
    let mut text = format!(
        "wrote {} ({} bytes, {})\n  provision voucher balanced: {}\n  book-to-bank matched: {}",
        path.display(),
        r.document.len(),
        r.content_type,
        if r.voucher_balanced { "yes" } else { "NO" },
        if r.book_to_bank_matched { "yes" } else { "no" }
    );
    if !r.book_to_bank_note.is_empty() {
        let _ = write!(text, " ({})", r.book_to_bank_note);
    }
    Ok(text)
}
