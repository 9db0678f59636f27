//! The reports over dunning's side of the read model and the forecast (R-O1): recovery by
//! dunning step, per-collector KPIs (scoped by the caller, R-O3) and the 12-week cash-inflow
//! forecast with its backtest. Parse the request, read through the store, compute in the
//! domain, map the response.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike as _, Days, NaiveDate};
use rust_decimal::Decimal;
use uuid::Uuid;

use kit::auth::Scope;
use kit::{ApiError, wire};
use proto::reporting::v1 as api;

use crate::Api;
use crate::domain::collectors::{self, Portfolio, Promise};
use crate::domain::forecast::{self, Debt};
use crate::domain::recovery::{self, Stage, StepTaken};
use crate::domain::{Item, two_places};
use crate::store;

/// Default and largest window of recovery after a step, in days.
const DEFAULT_WITHIN_DAYS: u32 = 30;
const MAX_WITHIN_DAYS: u32 = 366;
/// Default held-back weeks of the backtest.
const DEFAULT_BACKTEST_WEEKS: u32 = 4;

fn opt(value: Option<Decimal>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// A currency, CNY when empty.
pub(crate) fn currency_or_cny(value: &str) -> Result<String, ApiError> {
    let value = value.trim();
    if value.is_empty() {
        Ok("CNY".to_owned())
    } else {
        wire::currency("currency", value)
    }
}

fn promise(row: &store::PromiseRow) -> Promise {
    Promise {
        customer: row.customer_id,
        currency: row.currency.clone(),
        amount: row.amount,
        promised: row.promised_date,
        made_on: row.made_on,
        judged: row.judged_on.zip(row.kept),
        paid: row.paid,
    }
}

/// Per owner: their team and what their customers have.
type Rows<'a> = BTreeMap<&'a str, (&'a str, Portfolio<'a>)>;

/// The portfolio of the customer's owner (R-C9), made on first use.
fn portfolio_of<'m, 'a>(
    rows: &'m mut Rows<'a>,
    owners: &'a HashMap<Uuid, (String, String)>,
    unowned: &'a (String, String),
    customer: &Uuid,
) -> &'m mut Portfolio<'a> {
    let (owner, team) = owners.get(customer).unwrap_or(unowned);
    &mut rows
        .entry(owner.as_str())
        .or_insert_with(|| (team.as_str(), Portfolio::default()))
        .1
}

impl Api {
    /// `from..=to`: `to` empty is today, `from` empty the first of `to`'s month.
    pub(crate) fn period(&self, from: &str, to: &str) -> Result<(NaiveDate, NaiveDate), ApiError> {
        let to = self.date_or_today("to", to)?;
        let from = if from.trim().is_empty() {
            to.with_day(1).unwrap_or(to)
        } else {
            wire::date("from", from.trim())?
        };
        if from > to {
            return Err(ApiError::Invalid {
                field: "from".into(),
                reason: format!(
                    "{from} is after to ({to}); give a period that starts before it ends"
                ),
            });
        }
        Ok((from, to))
    }

    /// Recovery by dunning step (R-O1).
    pub(crate) async fn recovery_report(
        &self,
        r: &api::GetRecoveryByStepRequest,
    ) -> Result<api::GetRecoveryByStepResponse, ApiError> {
        let (from, to) = self.period(&r.from, &r.to)?;
        let within = match r.within_days {
            0 => DEFAULT_WITHIN_DAYS,
            n if n > MAX_WITHIN_DAYS => {
                return Err(ApiError::Invalid {
                    field: "within_days".into(),
                    reason: format!("at most {MAX_WITHIN_DAYS} days"),
                });
            }
            n => n,
        };
        let currency = {
            let c = r.currency.trim();
            if c.is_empty() {
                None
            } else {
                Some(wire::currency("currency", c)?)
            }
        };
        let mut conn = self.pool.acquire().await?;
        let items = store::keyed_items(&mut conn, currency.as_deref()).await?;
        // Steps after the period still matter (a payment after the next step is the next
        // step's, not this one's); steps before it do not (a payment they are in force for
        // counts for no step of the period).
        let until = to
            .checked_add_days(Days::new(u64::from(within)))
            .unwrap_or(to);
        let steps = store::dunning_steps_within(&mut conn, from, until).await?;
        let by_id: HashMap<Uuid, &Item> =
            items.iter().map(|k| (k.receivable_id, &k.item)).collect();
        let taken: Vec<StepTaken> = steps
            .iter()
            .filter_map(|s| Stage::of_channel(s.channel).map(|stage| (s, stage)))
            .flat_map(|(s, stage)| {
                s.receivable_ids.iter().map(move |id| StepTaken {
                    receivable: *id,
                    on: s.on_date,
                    stage,
                    step: s.step.clone(),
                })
            })
            .collect();
        let reports = recovery::recovery(&by_id, &taken, from, to, within)
            .into_iter()
            .map(|report| {
                let money = |d: Decimal| Some(wire::money(d, &report.currency));
                api::RecoveryReport {
                    rows: report
                        .rows
                        .iter()
                        .map(|row| api::RecoveryRow {
                            stage: row.stage.channel(),
                            steps: row.steps.iter().cloned().collect(),
                            debts: row.debts,
                            owed: money(row.owed),
                            recovered: money(row.recovered),
                            debts_recovered: row.debts_recovered,
                            recovery_rate_percent: opt(row.rate),
                        })
                        .collect(),
                    currency: report.currency.clone(),
                }
            })
            .collect();
        Ok(api::GetRecoveryByStepResponse {
            from: from.to_string(),
            to: to.to_string(),
            within_days: within,
            reports,
        })
    }

    /// Per-collector KPIs, the rows `scope` may see (R-O3).
    pub(crate) async fn collectors_report(
        &self,
        scope: &Scope,
        r: &api::GetCollectorKpisRequest,
    ) -> Result<api::GetCollectorKpisResponse, ApiError> {
        let (from, to) = self.period(&r.from, &r.to)?;
        let currency = currency_or_cny(&r.currency)?;
        let mut conn = self.pool.acquire().await?;
        let items = store::keyed_items(&mut conn, Some(&currency)).await?;
        let owners: HashMap<Uuid, (String, String)> = store::customer_owners(&mut conn)
            .await?
            .into_iter()
            .map(|(c, o, t)| (c, (o, t)))
            .collect();
        let promises: Vec<Promise> = store::promises(&mut conn, &currency)
            .await?
            .iter()
            .map(promise)
            .collect();
        let contacts = store::contacts_within(&mut conn, from, to).await?;
        let steps = store::dunning_steps_within(&mut conn, from, to).await?;
        let unowned = (String::new(), String::new());
        let mut rows: Rows<'_> = BTreeMap::new();
        for k in &items {
            let p = portfolio_of(&mut rows, &owners, &unowned, &k.customer_id);
            p.items.push(&k.item);
            p.customers.insert(k.customer_id);
        }
        for p in &promises {
            portfolio_of(&mut rows, &owners, &unowned, &p.customer)
                .promises
                .push(p);
        }
        for (customer, on) in &contacts {
            portfolio_of(&mut rows, &owners, &unowned, customer)
                .contacts
                .push(*on);
        }
        for s in &steps {
            portfolio_of(&mut rows, &owners, &unowned, &s.customer_id)
                .steps
                .push((s.case_id, s.on_date));
        }
        let rows = rows
            .into_iter()
            .filter(|(owner, (team, _))| match scope {
                Scope::All => true,
                _ => !owner.is_empty() && scope.covers(owner, team),
            })
            .map(|(owner, (team, portfolio))| {
                let k = collectors::collector_kpis(&portfolio, &currency, from, to);
                let money = |d: Decimal| Some(wire::money(d, &currency));
                api::CollectorKpis {
                    owner: owner.to_owned(),
                    team: team.to_owned(),
                    customers: k.customers,
                    collected: money(k.collected),
                    opening: money(k.opening),
                    sales: money(k.sales),
                    closing: money(k.closing),
                    closing_current: money(k.closing_current),
                    cei_percent: opt(k.cei),
                    promises_made: k.promises_made,
                    promises_kept: k.promises_kept,
                    promises_broken: k.promises_broken,
                    promise_kept_rate_percent: opt(k.promise_kept_rate),
                    contacts: k.contacts,
                    cases: k.cases,
                }
            })
            .collect();
        Ok(api::GetCollectorKpisResponse {
            from: from.to_string(),
            to: to.to_string(),
            currency,
            rows,
        })
    }

    /// The cash-inflow forecast and its backtest (R-O1).
    pub(crate) async fn forecast_report(
        &self,
        r: &api::GetForecastRequest,
    ) -> Result<api::GetForecastResponse, ApiError> {
        let as_of = self.date_or_today("as_of", &r.as_of)?;
        let currency = currency_or_cny(&r.currency)?;
        let weeks = match r.weeks {
            0 => forecast::MAX_WEEKS,
            n if n > forecast::MAX_WEEKS => {
                return Err(ApiError::Invalid {
                    field: "weeks".into(),
                    reason: format!("at most {}", forecast::MAX_WEEKS),
                });
            }
            n => n,
        };
        let backtest_weeks = match r.backtest_weeks {
            0 => DEFAULT_BACKTEST_WEEKS,
            n if n > forecast::MAX_WEEKS => {
                return Err(ApiError::Invalid {
                    field: "backtest_weeks".into(),
                    reason: format!("at most {}", forecast::MAX_WEEKS),
                });
            }
            n => n,
        };
        let mut conn = self.pool.acquire().await?;
        let items = store::keyed_items(&mut conn, Some(&currency)).await?;
        let promises: Vec<Promise> = store::promises(&mut conn, &currency)
            .await?
            .iter()
            .map(promise)
            .collect();
        let debts: Vec<Debt<'_>> = items
            .iter()
            .map(|k| Debt {
                customer: k.customer_id,
                item: &k.item,
            })
            .collect();
        let refs: Vec<&Promise> = promises.iter().collect();
        let f = forecast::forecast(&debts, &refs, as_of, weeks);
        let b = forecast::backtest(&debts, &refs, as_of, backtest_weeks);
        let money = |d: Decimal| Some(wire::money(d, &currency));
        let four = |d: Decimal| {
            let mut d = d;
            d.rescale(4);
            d.to_string()
        };
        Ok(api::GetForecastResponse {
            as_of: as_of.to_string(),
            currency: currency.clone(),
            weeks: f
                .weeks
                .iter()
                .map(|w| api::ForecastWeek {
                    week: w.week,
                    from: w.from.to_string(),
                    to: w.to.to_string(),
                    scheduled: money(w.scheduled),
                    promised: money(w.promised),
                    overdue: money(w.overdue),
                    total: money(w.total()),
                })
                .collect(),
            basis: Some(api::ForecastBasis {
                pay_rate: four(f.learned.pay_rate),
                delay_days: f.learned.delay_days.to_string(),
                weekly_overdue_rate: four(f.learned.weekly_overdue_rate),
                promise_kept_rate: four(f.learned.promise_kept_rate),
                customers_with_history: u32::try_from(f.learned.customers.len())
                    .unwrap_or(u32::MAX),
                open: money(two_places(f.open)),
                beyond: money(two_places(f.beyond)),
            }),
            backtest: b.map(|b| api::Backtest {
                as_of: b.as_of.to_string(),
                weeks: b
                    .weeks
                    .iter()
                    .map(|w| api::BacktestWeek {
                        week: w.week,
                        from: w.from.to_string(),
                        to: w.to.to_string(),
                        forecast: money(two_places(w.forecast)),
                        actual: money(two_places(w.actual)),
                        error: money(two_places(w.error())),
                        absolute_error: money(two_places(w.error().abs())),
                    })
                    .collect(),
                forecast: money(two_places(b.forecast)),
                actual: money(two_places(b.actual)),
                absolute_error: money(two_places(b.absolute_error)),
                wape_percent: opt(b.wape),
                bias_percent: opt(b.bias),
            }),
        })
    }
}
