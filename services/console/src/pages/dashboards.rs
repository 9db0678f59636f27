//! Dashboards (R-O1, R-O7, R-O8): aging by bucket, the CEI and DSO trend over the last
//! months, the 12-week forecast with its error on held-back weeks (forecast against actual) and
//! provisions, drawn as server-side SVG
//! from reporting's answers. A section the person's role may not read says so; the rest of
//! the page stays.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{Datelike as _, NaiveDate};
use maud::{Markup, html};
use rust_decimal::Decimal;

use proto::reporting::v1 as reporting;

use crate::AppState;
use crate::backend::authed;
use crate::chart::{self, Series};
use crate::i18n::{L, Lang};
use crate::pages::{self, amount, layout, money};
use crate::web::{Ctx, Failure};

/// How many months the trends cover.
const MONTHS: u32 = 6;
/// The currency of the portfolio charts.
const CURRENCY: &str = "CNY";

/// An aging bucket in words.
pub fn bucket(lang: Lang, value: i32) -> &'static str {
    use reporting::AgingBucket as B;
    let label = match B::try_from(value) {
        Ok(B::Current) => L::BucketCurrent,
        Ok(B::Days130) => L::Bucket1To30,
        Ok(B::Days3160) => L::Bucket31To60,
        Ok(B::Days6190) => L::Bucket61To90,
        Ok(B::Days91180) => L::Bucket91To180,
        Ok(B::Over180) => L::BucketOver180,
        _ => L::Unknown,
    };
    label.t(lang)
}

/// The months ending with `today`'s, oldest first, as (label `YYYY-MM`, first day, last day
/// or `today` for its own month).
pub fn months_until(today: NaiveDate, count: u32) -> Vec<(String, NaiveDate, NaiveDate)> {
    let mut out = Vec::new();
    let mut first = today.with_day(1).unwrap_or(today);
    for i in 0..count {
        let last = if i == 0 {
            today
        } else {
            next_month(first).pred_opt().unwrap_or(first)
        };
        out.push((first.format("%Y-%m").to_string(), first, last));
        first = first
            .pred_opt()
            .and_then(|d| d.with_day(1))
            .unwrap_or(first);
    }
    out.reverse();
    out
}

fn next_month(first: NaiveDate) -> NaiveDate {
    let (y, m) = if first.month() == 12 {
        (first.year() + 1, 1)
    } else {
        (first.year(), first.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(first)
}

/// A section's answer: a refusal stays in the section, an expired sign-in ends the page.
fn section<T>(
    result: Result<tonic::Response<T>, tonic::Status>,
) -> Result<Result<T, tonic::Status>, Failure> {
    match result {
        Ok(r) => Ok(Ok(r.into_inner())),
        Err(s) if s.code() == tonic::Code::Unauthenticated => Err(s.into()),
        Err(s) => Ok(Err(s)),
    }
}

fn unavailable(ctx: &Ctx, status: &tonic::Status) -> Markup {
    html! {
        div.unavailable data-code=(format!("{:?}", status.code())) {
            p { strong { (ctx.t(L::SectionUnavailable)) } ": " (ctx.t(crate::web::Failure::Status(status.clone()).advice())) }
            p.muted { code { (format!("{:?}: {}", status.code(), status.message())) } }
        }
    }
}

fn percent(text: &str) -> Option<Decimal> {
    text.parse().ok()
}

/// `?to=YYYY-MM-DD`: the last day the trends cover (default: reporting's today).
#[derive(Debug, Default, serde::Deserialize)]
pub struct Period {
    to: Option<String>,
}

/// `GET /dashboards`.
pub async fn dashboards(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(period): Query<Period>,
) -> Response {
    let ctx = Ctx::new(state, &headers);
    let to = match period
        .to
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        None => None,
        Some(text) => match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            Ok(date) => Some(date),
            Err(_) => return ctx.fail(Failure::BadInput("to".into())),
        },
    };
    match page(&ctx, to).await {
        Ok(r) => r,
        Err(e) => ctx.fail(e),
    }
}

#[allow(clippy::too_many_lines)] // one page, read top to bottom
async fn page(ctx: &Ctx, to: Option<NaiveDate>) -> Result<Response, Failure> {
    let token = ctx.token()?;
    let lang = ctx.lang;
    let mut client = ctx.state.backend.reporting.clone();
    let aging = section(
        client
            .get_aging(authed(
                token,
                reporting::GetAgingRequest {
                    as_of: String::new(),
                    currency: String::new(),
                },
            )?)
            .await,
    )?;
    // The business date: what reporting calls today (the local stack simulates it).
    let current = section(
        client
            .get_kpis(authed(
                token,
                reporting::GetKpisRequest {
                    currency: CURRENCY.to_owned(),
                    ..Default::default()
                },
            )?)
            .await,
    )?;
    let today = current
        .as_ref()
        .ok()
        .and_then(|k| NaiveDate::parse_from_str(&k.to, "%Y-%m-%d").ok())
        .unwrap_or_else(|| chrono::Utc::now().date_naive());
    let end = to.unwrap_or(today);
    let months = months_until(end, MONTHS);
    let mut trend: Result<Vec<(String, Option<reporting::Kpis>)>, tonic::Status> = Ok(Vec::new());
    for (label, from, to) in &months {
        let answer = section(
            client
                .get_kpis(authed(
                    token,
                    reporting::GetKpisRequest {
                        from: from.to_string(),
                        to: to.to_string(),
                        currency: CURRENCY.to_owned(),
                    },
                )?)
                .await,
        )?;
        match (answer, &mut trend) {
            (Ok(k), Ok(rows)) => rows.push((
                label.clone(),
                k.kpis.into_iter().find(|k| k.currency == CURRENCY),
            )),
            (Err(s), Ok(_)) => trend = Err(s),
            _ => {}
        }
    }
    // R-O1: the 12-week cash-inflow forecast and its error on held-back weeks.
    let forecast = section(
        client
            .get_forecast(authed(
                token,
                reporting::GetForecastRequest {
                    as_of: end.to_string(),
                    currency: CURRENCY.to_owned(),
                    weeks: 12,
                    backtest_weeks: 0,
                },
            )?)
            .await,
    )?;
    let provisions = section(
        client
            .get_provisions(authed(
                token,
                reporting::GetProvisionsRequest {
                    as_of: String::new(),
                    currency: CURRENCY.to_owned(),
                },
            )?)
            .await,
    )?;

    let body = html! {
        form.stack method="get" action="/dashboards" {
            label { (ctx.t(L::TrendUntil)) input type="date" name="to" value=(end.to_string()); }
            button type="submit" { (ctx.t(L::Show)) }
        }
        div.grid {
            section #aging {
                h2 { (ctx.t(L::Aging)) }
                @match &aging {
                    Err(s) => { (unavailable(ctx, s)) }
                    Ok(a) => {
                        p.muted { (ctx.t(L::AgingAsOf)) " " (a.as_of) }
                        @if a.reports.is_empty() { p { (ctx.t(L::NoData)) } }
                        @for r in &a.reports {
                            @let cats: Vec<String> = r.rows.iter().map(|row| bucket(lang, row.bucket).to_owned()).collect();
                            (chart::bars(&format!("{} {}", ctx.t(L::Aging), r.currency), &cats, &[Series {
                                name: r.currency.clone(),
                                values: r.rows.iter().map(|row| Some(amount(row.balance.as_ref()))).collect(),
                            }]))
                            table { tbody {
                                @for row in &r.rows {
                                    tr { td { (bucket(lang, row.bucket)) } td.num { (row.receivables) } td.num { (money(row.balance.as_ref())) } td.num { (row.share_percent) "%" } }
                                }
                                tr { th { (ctx.t(L::Total)) } td {} td.num { (money(r.total.as_ref())) } td {} }
                            } }
                        }
                    }
                }
            }
            section #kpis {
                h2 { (ctx.t(L::KpiTrend)) }
                @match &trend {
                    Err(s) => { (unavailable(ctx, s)) }
                    Ok(rows) => {
                        @let cats: Vec<String> = rows.iter().map(|(m, _)| m.clone()).collect();
                        @let cei: Vec<Option<Decimal>> = rows.iter().map(|(_, k)| k.as_ref().and_then(|k| percent(&k.cei_percent))).collect();
                        @let dso: Vec<Option<Decimal>> = rows.iter().map(|(_, k)| k.as_ref().and_then(|k| percent(&k.dso_days))).collect();
                        h2 { (ctx.t(L::Cei)) }
                        (chart::lines(ctx.t(L::Cei), &cats, &[Series { name: ctx.t(L::Cei).to_owned(), values: cei }]))
                        h2 { (ctx.t(L::Dso)) }
                        (chart::lines(ctx.t(L::Dso), &cats, &[Series { name: ctx.t(L::Dso).to_owned(), values: dso }]))
                        table {
                            thead { tr { th { (ctx.t(L::Month)) } th.num { "CEI %" } th.num { "DSO" } th.num { (ctx.t(L::Actual)) } } }
                            tbody {
                                @for (m, k) in rows {
                                    tr { td { (m) }
                                        td.num { (k.as_ref().map(|k| k.cei_percent.clone()).unwrap_or_default()) }
                                        td.num { (k.as_ref().map(|k| k.dso_days.clone()).unwrap_or_default()) }
                                        td.num { (money(k.as_ref().and_then(|k| k.collected.as_ref()))) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            section #forecast {
                h2 { (ctx.t(L::ForecastVsActual)) }
                @match &forecast {
                    Err(s) => { (unavailable(ctx, s)) }
                    Ok(f) => {
                        @if let Some(b) = &f.backtest {
                            h2 { (ctx.t(L::ForecastBacktest)) }
                            @let cats: Vec<String> = b.weeks.iter().map(|w| w.from.clone()).collect();
                            (chart::bars(ctx.t(L::ForecastBacktest), &cats, &[
                                Series { name: ctx.t(L::Forecast).to_owned(), values: b.weeks.iter().map(|w| Some(amount(w.forecast.as_ref()))).collect() },
                                Series { name: ctx.t(L::Actual).to_owned(), values: b.weeks.iter().map(|w| Some(amount(w.actual.as_ref()))).collect() },
                            ]))
                            p #forecast-error {
                                (ctx.t(L::ForecastError)) ": "
                                strong { @if b.wape_percent.is_empty() { "—" } @else { (b.wape_percent) "%" } }
                                " / "
                                strong { @if b.bias_percent.is_empty() { "—" } @else { (b.bias_percent) "%" } }
                            }
                            table {
                                thead { tr { th { (ctx.t(L::WeekFrom)) } th.num { (ctx.t(L::Forecast)) } th.num { (ctx.t(L::Actual)) } } }
                                tbody { @for w in &b.weeks {
                                    tr { td { (w.from) } td.num { (money(w.forecast.as_ref())) } td.num { (money(w.actual.as_ref())) } }
                                } }
                            }
                        }
                        h2 { (ctx.t(L::ForecastNext)) }
                        @let cats: Vec<String> = f.weeks.iter().map(|w| w.from.clone()).collect();
                        (chart::bars(ctx.t(L::ForecastNext), &cats, &[
                            Series { name: ctx.t(L::ForecastScheduled).to_owned(), values: f.weeks.iter().map(|w| Some(amount(w.scheduled.as_ref()))).collect() },
                            Series { name: ctx.t(L::ForecastPromised).to_owned(), values: f.weeks.iter().map(|w| Some(amount(w.promised.as_ref()))).collect() },
                            Series { name: ctx.t(L::ForecastOverdue).to_owned(), values: f.weeks.iter().map(|w| Some(amount(w.overdue.as_ref()))).collect() },
                        ]))
                        @if let Some(basis) = &f.basis {
                            p.muted { (ctx.t(L::Beyond)) ": " (money(basis.beyond.as_ref())) }
                        }
                    }
                }
            }
            section #provisions {
                h2 { (ctx.t(L::Provisions)) }
                @match &provisions {
                    Err(s) => { (unavailable(ctx, s)) }
                    Ok(p) => {
                        @if let Some(run) = &p.run {
                            p.muted { (ctx.t(L::AgingAsOf)) " " (run.as_of) " · " (run.matrix) }
                            @let cats: Vec<String> = run.rows.iter().map(|r| bucket(lang, r.bucket).to_owned()).collect();
                            (chart::bars(ctx.t(L::Provisions), &cats, &[
                                Series { name: ctx.t(L::Balance).to_owned(), values: run.rows.iter().map(|r| Some(amount(r.balance.as_ref()))).collect() },
                                Series { name: ctx.t(L::Provision).to_owned(), values: run.rows.iter().map(|r| Some(amount(r.provision.as_ref()))).collect() },
                            ]))
                            table {
                                thead { tr { th { (ctx.t(L::AgingBucket)) } th.num { (ctx.t(L::Balance)) } th.num { (ctx.t(L::LossRate)) } th.num { (ctx.t(L::Provision)) } } }
                                tbody {
                                    @for r in &run.rows {
                                        tr { td { (bucket(lang, r.bucket)) } td.num { (money(r.balance.as_ref())) } td.num { (r.loss_rate_percent) "%" } td.num { (money(r.provision.as_ref())) } }
                                    }
                                    tr { th { (ctx.t(L::Total)) } td {} td {} td.num { (money(run.total.as_ref())) } }
                                    tr { th { (ctx.t(L::Change)) } td {} td {} td.num { (money(run.change.as_ref())) } }
                                }
                            }
                            @if let Some(v) = &run.voucher {
                                @if !v.lines.is_empty() {
                                    h2 { (ctx.t(L::Voucher)) }
                                    p.muted { (v.summary) }
                                    table {
                                        thead { tr { th { (ctx.t(L::Account)) } th.num { (ctx.t(L::Debit)) } th.num { (ctx.t(L::Credit)) } } }
                                        tbody { @for l in &v.lines {
                                            tr { td { (l.account_code) " " (l.account_name) } td.num { (money(l.debit.as_ref())) } td.num { (money(l.credit.as_ref())) } }
                                        } }
                                    }
                                }
                            }
                        } @else { p { (ctx.t(L::NoData)) } }
                    }
                }
            }
        }
    };
    Ok(pages::html_response(layout(
        ctx,
        ctx.t(L::DashboardsTitle),
        "/dashboards",
        body,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_trend_covers_whole_months_up_to_today() {
        let months = months_until(date("2026-02-26"), 3);
        assert_eq!(
            months,
            vec![
                ("2025-12".to_owned(), date("2025-12-01"), date("2025-12-31")),
                ("2026-01".to_owned(), date("2026-01-01"), date("2026-01-31")),
                ("2026-02".to_owned(), date("2026-02-01"), date("2026-02-26")),
            ]
        );
        let leap = months_until(date("2024-03-01"), 2);
        assert_eq!(leap[0].2, date("2024-02-29"));
        assert_eq!(months_until(date("2026-01-15"), 6).len(), 6);
    }
}
