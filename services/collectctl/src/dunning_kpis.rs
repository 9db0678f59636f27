//! `collectctl dunning kpis`: collectors' KPIs for a period (R-D11, R-O7; issue 14 item 5):
//! collected (and under which step), promise-kept rate, right-party contact rate, CEI and
//! recovery rate with their components.

use clap::Args;
use proto::dunning::v1 as api;

use crate::cli::Outcome;
use crate::dunning_names::{Conn, money, refused};
use crate::service;

#[derive(Args)]
pub(crate) struct KpisArgs {
    #[command(flatten)]
    conn: Conn,
    /// First day, YYYY-MM-DD.
    #[arg(long)]
    from: String,
    /// Last day, YYYY-MM-DD (included).
    #[arg(long)]
    to: String,
    /// One collector (supervisors, auditors, admins); default: all you may see.
    #[arg(long, value_name = "PRINCIPAL")]
    owner: Option<String>,
    /// Currency of the amounts (default CNY).
    #[arg(long)]
    currency: Option<String>,
    /// One team's collectors; default: every team you may see.
    #[arg(long)]
    team: Option<String>,
}

fn row_json(r: &api::KpiRow) -> serde_json::Value {
    serde_json::json!({
        "owner": r.owner,
        "team": r.team,
        "collected": r.collected.as_ref().map(|m| m.amount.clone()),
        "currency": r.collected.as_ref().map(|m| m.currency.clone()),
        "collected_by_step": r.collected_by_step.iter().map(|s| serde_json::json!({
            "step": s.step,
            "amount": s.amount.as_ref().map(|m| m.amount.clone()),
        })).collect::<Vec<_>>(),
        "promises_kept": r.promises_kept,
        "promises_judged": r.promises_judged,
        "promise_kept_rate": r.promise_kept_rate,
        "right_party_contacts": r.right_party_contacts,
        "contact_attempts": r.contact_attempts,
        "right_party_contact_rate": r.right_party_contact_rate,
        "cei": r.cei,
        "opening": amount(r.opening.as_ref()),
        "sales": amount(r.sales.as_ref()),
        "closing_total": amount(r.closing_total.as_ref()),
        "closing_current": amount(r.closing_current.as_ref()),
        "recovery_rate": r.recovery_rate,
        "placed": amount(r.placed.as_ref()),
        "recovered": amount(r.recovered.as_ref()),
    })
}

fn amount(m: Option<&proto::types::v1::Money>) -> Option<String> {
    m.map(|m| m.amount.clone())
}

fn or_none(rate: &str) -> &str {
    if rate.is_empty() { "n/a" } else { rate }
}

/// The row's name: the collector, a team's total, or the total.
fn label(r: &api::KpiRow) -> String {
    match (r.owner.is_empty(), r.team.is_empty()) {
        (false, _) => r.owner.clone(),
        (true, false) => format!("TEAM {}", r.team),
        (true, true) => "TOTAL".to_owned(),
    }
}

fn row_text(r: &api::KpiRow) -> String {
    let mut out = format!(
        "{:<14} collected {}; promises kept {}/{} ({}); right-party contacts {}/{} ({})",
        label(r),
        money(r.collected.as_ref()),
        r.promises_kept,
        r.promises_judged,
        or_none(&r.promise_kept_rate),
        r.right_party_contacts,
        r.contact_attempts,
        or_none(&r.right_party_contact_rate),
    );
    // R-O7, R-D11.
    out.push_str(&format!(
        "\n{:<14}   CEI {} (opening {} + sales {} − closing {}, current {}); recovery rate {} ({} of {} placed)",
        "",
        or_none(&r.cei),
        money(r.opening.as_ref()),
        money(r.sales.as_ref()),
        money(r.closing_total.as_ref()),
        money(r.closing_current.as_ref()),
        or_none(&r.recovery_rate),
        money(r.recovered.as_ref()),
        money(r.placed.as_ref()),
    ));
    for s in &r.collected_by_step {
        out.push_str(&format!(
            "\n{:<14}   under {:<22} {}",
            "",
            s.step,
            money(s.amount.as_ref())
        ));
    }
    out
}

pub(crate) fn run(args: KpisArgs) -> Outcome {
    let json = args.conn.json;
    service::block_on(async move {
        let mut client = service::dunning(args.conn.dunning).await?;
        let kpis = client
            .get_kpis(api::GetKpisRequest {
                owner: args.owner.unwrap_or_default(),
                from: args.from,
                to: args.to,
                currency: args.currency.unwrap_or_default(),
                team: args.team.unwrap_or_default(),
            })
            .await
            .map_err(refused)?
            .into_inner();
        if json {
            return Ok(serde_json::to_string_pretty(&serde_json::json!({
                "collectors": kpis.collectors.iter().map(row_json).collect::<Vec<_>>(),
                "teams": kpis.teams.iter().map(row_json).collect::<Vec<_>>(),
                "total": kpis.total.as_ref().map(row_json),
            }))?);
        }
        let mut lines: Vec<String> = kpis.collectors.iter().map(row_text).collect();
        lines.extend(kpis.teams.iter().map(row_text));
        if let Some(total) = &kpis.total {
            lines.push(row_text(total));
        }
        Ok(lines.join("\n"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_reads_as_figures_with_their_counts() {
        let r = api::KpiRow {
            owner: "li.na".into(),
            collected: Some(proto::types::v1::Money {
                amount: "8800.00".into(),
                currency: "CNY".into(),
            }),
            promises_kept: 1,
            promises_judged: 2,
            promise_kept_rate: "0.50".into(),
            ..Default::default()
        };
        let text = row_text(&r);
        assert!(
            text.contains(
                "collected 8800.00 CNY; promises kept 1/2 (0.50); right-party contacts 0/0 (n/a)"
            ),
            "{text}"
        );
        assert_eq!(row_json(&r)["promise_kept_rate"], "0.50");
        let cny = |a: &str| {
            Some(proto::types::v1::Money {
                amount: a.into(),
                currency: "CNY".into(),
            })
        };
        let r = api::KpiRow {
            cei: "72.30".into(),
            recovery_rate: "0.67".into(),
            opening: cny("10000.00"),
            sales: cny("14050.00"),
            closing_total: cny("11000.00"),
            closing_current: cny("6000.00"),
            placed: cny("15050.00"),
            recovered: cny("10050.00"),
            ..r
        };
        let text = row_text(&r);
        assert!(
            text.contains(
                "CEI 72.30 (opening 10000.00 CNY + sales 14050.00 CNY − closing 11000.00 CNY, current 6000.00 CNY); recovery rate 0.67 (10050.00 CNY of 15050.00 CNY placed)"
            ),
            "{text}"
        );
        assert_eq!(row_json(&r)["cei"], "72.30");
        assert_eq!(row_json(&r)["placed"], "15050.00");
    }
}
