//! gRPC: parse the request, read through the store, compute in the domain, map the response.

use std::sync::Arc;

use chrono::{Datelike as _, NaiveDate};
use rust_decimal::Decimal;
use sqlx::PgPool;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use kit::{ApiError, wire};
use proto::reporting::v1 as api;
use proto::reporting::v1::reporting_service_server::ReportingService;

use crate::domain::provision::{self, Matrix};
use crate::domain::{Bucket, aging, kpi, rolls};
use crate::store;

/// The gRPC API.
pub struct Api {
    pub(crate) pool: PgPool,
    pub(crate) matrix: Arc<Matrix>,
    pub(crate) business_offset: chrono::FixedOffset,
    /// The CJK font of the PDF pack (`None`: only the HTML twin can be rendered).
    pub(crate) font: Option<documents::Font>,
    /// Payments, for the pack's book-to-bank (R-P7).
    pub(crate) peers: crate::peers::Peers,
}

fn bucket(b: Bucket) -> i32 {
    (match b {
        Bucket::Current => api::AgingBucket::Current,
        Bucket::Days1To30 => api::AgingBucket::Days130,
        Bucket::Days31To60 => api::AgingBucket::Days3160,
        Bucket::Days61To90 => api::AgingBucket::Days6190,
        Bucket::Days91To180 => api::AgingBucket::Days91180,
        Bucket::Over180 => api::AgingBucket::Over180,
    }) as i32
}

fn opt(value: Option<Decimal>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

impl Api {
    pub(crate) fn today(&self) -> NaiveDate {
        kit::config::business_date(chrono::Utc::now(), self.business_offset)
    }

    /// A date field; empty is today.
    pub(crate) fn date_or_today(&self, field: &str, value: &str) -> Result<NaiveDate, ApiError> {
        if value.trim().is_empty() {
            Ok(self.today())
        } else {
            wire::date(field, value.trim())
        }
    }

    /// Aging by bucket (R-C11).
    pub(crate) async fn aging_report(
        &self,
        r: &api::GetAgingRequest,
    ) -> Result<api::GetAgingResponse, ApiError> {
        let as_of = self.date_or_today("as_of", &r.as_of)?;
        let currency = currency_filter(&r.currency)?;
        let items = self.items(currency.as_deref()).await?;
        let reports = aging::aging(&items, as_of)
            .into_iter()
            .map(|report| {
                let money = |d: Decimal| Some(wire::money(d, &report.currency));
                api::AgingReport {
                    rows: report
                        .rows
                        .iter()
                        .map(|row| api::AgingRow {
                            bucket: bucket(row.bucket),
                            receivables: row.receivables,
                            balance: money(row.balance),
                            share_percent: opt(row.share),
                        })
                        .collect(),
                    total: money(report.total),
                    currency: report.currency.clone(),
                }
            })
            .collect();
        Ok(api::GetAgingResponse {
            as_of: as_of.to_string(),
            reports,
        })
    }

    /// The period's KPIs (R-O7).
    pub(crate) async fn kpis_report(
        &self,
        r: &api::GetKpisRequest,
    ) -> Result<api::GetKpisResponse, ApiError> {
        let to = self.date_or_today("to", &r.to)?;
        let from = if r.from.trim().is_empty() {
            to.with_day(1).unwrap_or(to)
        } else {
            wire::date("from", r.from.trim())?
        };
        if from > to {
            return Err(ApiError::Invalid {
                field: "from".into(),
                reason: format!(
                    "{from} is after to ({to}); give a period that starts before it ends"
                ),
            });
        }
        let currency = currency_filter(&r.currency)?;
        let items = self.items(currency.as_deref()).await?;
        let kpis = kpi::kpis(&items, from, to)
            .into_iter()
            .map(|k| {
                let money = |d: Decimal| Some(wire::money(d, &k.currency));
                api::Kpis {
                    opening: money(k.opening),
                    closing: money(k.closing),
                    closing_current: money(k.closing_current),
                    sales: money(k.sales),
                    collected: money(k.collected),
                    waived: money(k.waived),
                    written_off: money(k.written_off),
                    collectible: money(k.collectible),
                    collection_rate_percent: opt(k.collection_rate),
                    overdue_rate_percent: opt(k.overdue_rate),
                    dso_days: opt(k.dso),
                    cei_percent: opt(k.cei),
                    average_collection_days: opt(k.average_collection_days),
                    days: k.days,
                    currency: k.currency.clone(),
                }
            })
            .collect();
        Ok(api::GetKpisResponse {
            from: from.to_string(),
            to: to.to_string(),
            kpis,
        })
    }

    /// Roll rates (R-O7).
    pub(crate) async fn rolls_report(
        &self,
        r: &api::GetRollRatesRequest,
    ) -> Result<api::GetRollRatesResponse, ApiError> {
        let last = if r.to_month.trim().is_empty() {
            // The last month with a complete next month.
            let this = self.today().with_day(1).unwrap_or_else(|| self.today());
            this.checked_sub_months(chrono::Months::new(2))
                .unwrap_or(this)
        } else {
            month("to_month", &r.to_month)?
        };
        let first = if r.from_month.trim().is_empty() {
            last.checked_sub_months(chrono::Months::new(5))
                .unwrap_or(last)
        } else {
            month("from_month", &r.from_month)?
        };
        if first > last {
            return Err(ApiError::Invalid {
                field: "from_month".into(),
                reason: format!("{} is after to_month", &r.from_month),
            });
        }
        if (last.year() - first.year()) * 12 + i32::try_from(last.month()).unwrap_or(0)
            - i32::try_from(first.month()).unwrap_or(0)
            >= 36
        {
            return Err(ApiError::Invalid {
                field: "from_month".into(),
                reason: "at most 36 months in one request".into(),
            });
        }
        let currency = currency_filter(&r.currency)?;
        let items = self.items(currency.as_deref()).await?;
        let months = rolls::roll_rates(&items, first, last)
            .into_iter()
            .map(|m| {
                let money = |d: Decimal| Some(wire::money(d, &m.currency));
                api::RollRateMonth {
                    month: m.month.format("%Y-%m").to_string(),
                    rates: m
                        .rolls
                        .iter()
                        .map(|roll| api::RollRate {
                            from_bucket: bucket(roll.from),
                            to_bucket: bucket(roll.to),
                            balance: money(roll.balance),
                            rolled: money(roll.rolled),
                            rate_percent: opt(roll.rate),
                        })
                        .collect(),
                    currency: m.currency.clone(),
                }
            })
            .collect();
        Ok(api::GetRollRatesResponse { months })
    }

    async fn items(&self, currency: Option<&str>) -> Result<Vec<crate::domain::Item>, ApiError> {
        let mut conn = self.pool.acquire().await?;
        Ok(store::items(&mut conn, currency).await?)
    }

    pub(crate) async fn provisions(
        &self,
        as_of: &str,
        currency: &str,
        recorded_by: Option<&str>,
    ) -> Result<api::ProvisionRun, ApiError> {
        let as_of = self.date_or_today("as_of", as_of)?;
        if currency.trim().is_empty() {
            return Err(ApiError::Invalid {
                field: "currency".into(),
                reason: "required: a provision and its voucher are in one currency (e.g. CNY)"
                    .into(),
            });
        }
        let currency = wire::currency("currency", currency.trim())?;
        let items = self.items(Some(&currency)).await?;
        let report = aging::aging(&items, as_of)
            .into_iter()
            .next()
            .unwrap_or_else(|| aging::AgingReport {
                currency: currency.clone(),
                rows: Bucket::ALL
                    .iter()
                    .map(|b| aging::AgingRow {
                        bucket: *b,
                        receivables: 0,
                        balance: Decimal::ZERO,
                        share: None,
                    })
                    .collect(),
                total: Decimal::ZERO,
            });
        let provision = provision::provide(&report, &self.matrix);
        let mut tx = self.pool.begin().await?;
        let previous = store::provision_before(&mut tx, &currency, as_of).await?;
        let previous_total = previous.map_or(Decimal::ZERO, |(_, t)| t);
        let lines = provision::voucher(previous_total, provision.total);
        if let Some(by) = recorded_by {
            let by_bucket = serde_json::Value::Object(
                provision
                    .rows
                    .iter()
                    .map(|r| {
                        (
                            r.bucket.as_str().to_owned(),
                            serde_json::json!({
                                "balance": r.balance.to_string(),
                                "loss_rate_percent": r.rate.to_string(),
                                "provision": r.provision.to_string(),
                            }),
                        )
                    })
                    .collect(),
            );
            store::record_provision(
                &mut tx,
                &currency,
                as_of,
                &self.matrix.name,
                provision.total,
                &by_bucket.to_string(),
                by,
            )
            .await?;
        }
        tx.commit().await?;
        let money = |d: Decimal| Some(wire::money(d, &currency));
        let change = provision.total - previous_total;
        Ok(api::ProvisionRun {
            as_of: as_of.to_string(),
            currency: currency.clone(),
            matrix: self.matrix.name.clone(),
            rows: provision
                .rows
                .iter()
                .map(|r| api::ProvisionRow {
                    bucket: bucket(r.bucket),
                    balance: money(r.balance),
                    loss_rate_percent: r.rate.normalize().to_string(),
                    provision: money(r.provision),
                })
                .collect(),
            total: money(provision.total),
            previous_as_of: previous.map(|(d, _)| d.to_string()).unwrap_or_default(),
            previous_total: money(previous_total),
            change: money(change),
            voucher: Some(api::Voucher {
                balanced: provision::balanced(&lines),
                summary: if lines.is_empty() {
                    format!("no change in the allowance for bad debts ({currency})")
                } else if change > Decimal::ZERO {
                    format!(
                        "increase the allowance for bad debts to {} {currency} ({} matrix, as of {as_of})",
                        wire::format_amount(provision.total, &currency),
                        self.matrix.name
                    )
                } else {
                    format!(
                        "release the allowance for bad debts to {} {currency} ({} matrix, as of {as_of})",
                        wire::format_amount(provision.total, &currency),
                        self.matrix.name
                    )
                },
                lines: lines
                    .iter()
                    .map(|l| api::VoucherLine {
                        account_code: l.account.0.to_owned(),
                        account_name: l.account.1.to_owned(),
                        debit: money(l.debit),
                        credit: money(l.credit),
                    })
                    .collect(),
            }),
            recorded_by: recorded_by.unwrap_or_default().to_owned(),
        })
    }
}

/// An optional currency filter.
fn currency_filter(value: &str) -> Result<Option<String>, ApiError> {
    let value = value.trim();
    if value.is_empty() {
        Ok(None)
    } else {
        wire::currency("currency", value).map(Some)
    }
}

/// A YYYY-MM month as its first day.
pub(crate) fn month(field: &str, value: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(&format!("{}-01", value.trim()), "%Y-%m-%d").map_err(|_| {
        ApiError::Invalid {
            field: field.into(),
            reason: format!("{value:?} is not a month YYYY-MM"),
        }
    })
}

#[tonic::async_trait]
impl ReportingService for Api {
    #[tracing::instrument(skip_all)]
    async fn get_aging(
        &self,
        request: Request<api::GetAgingRequest>,
    ) -> Result<Response<api::GetAgingResponse>, Status> {
        Ok(Response::new(self.aging_report(request.get_ref()).await?))
    }

    #[tracing::instrument(skip_all)]
    async fn get_kpis(
        &self,
        request: Request<api::GetKpisRequest>,
    ) -> Result<Response<api::GetKpisResponse>, Status> {
        Ok(Response::new(self.kpis_report(request.get_ref()).await?))
    }

    #[tracing::instrument(skip_all)]
    async fn get_roll_rates(
        &self,
        request: Request<api::GetRollRatesRequest>,
    ) -> Result<Response<api::GetRollRatesResponse>, Status> {
        Ok(Response::new(self.rolls_report(request.get_ref()).await?))
    }

    #[tracing::instrument(skip_all)]
    async fn get_provisions(
        &self,
        request: Request<api::GetProvisionsRequest>,
    ) -> Result<Response<api::GetProvisionsResponse>, Status> {
        let r = request.get_ref();
        let run = self.provisions(&r.as_of, &r.currency, None).await?;
        Ok(Response::new(api::GetProvisionsResponse { run: Some(run) }))
    }

    #[tracing::instrument(skip_all)]
    async fn record_provisions(
        &self,
        request: Request<api::RecordProvisionsRequest>,
    ) -> Result<Response<api::RecordProvisionsResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let r = request.get_ref();
        let run = self
            .provisions(&r.as_of, &r.currency, Some(&caller.principal.subject))
            .await?;
        Ok(Response::new(api::RecordProvisionsResponse {
            run: Some(run),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn get_trace(
        &self,
        request: Request<api::GetTraceRequest>,
    ) -> Result<Response<api::GetTraceResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let r = request.get_ref();
        let id = wire::uuid("id", &r.id)?;
        let mut conn = self.pool.acquire().await.map_err(ApiError::from)?;
        let subject =
            api::TraceSubject::try_from(r.subject).unwrap_or(api::TraceSubject::Unspecified);
        let contracts: Vec<Uuid> = match subject {
            api::TraceSubject::Unspecified => {
                return Err(ApiError::Invalid {
                    field: "subject".into(),
                    reason: "say what the id is: CONTRACT, RECEIVABLE, PAYMENT or LEGAL_CASE"
                        .into(),
                }
                .into());
            }
            api::TraceSubject::Contract => {
                if store::contract_known(&mut conn, id)
                    .await
                    .map_err(ApiError::from)?
                {
                    vec![id]
                } else {
                    Vec::new()
                }
            }
            api::TraceSubject::Receivable => store::contract_of_receivable(&mut conn, id)
                .await
                .map_err(ApiError::from)?,
            api::TraceSubject::Payment => store::contracts_of_payment(&mut conn, id)
                .await
                .map_err(ApiError::from)?,
            api::TraceSubject::LegalCase => store::contracts_of_case(&mut conn, id)
                .await
                .map_err(ApiError::from)?,
        };
        if contracts.is_empty() {
            return Err(ApiError::NotFound(format!(
                "reporting knows no contract for {} {id}: check the id, or wait a moment if it \
                 is new (reporting follows the events)",
                subject
                    .as_str_name()
                    .trim_start_matches("TRACE_SUBJECT_")
                    .to_lowercase()
            ))
            .into());
        }
        // R-O3: a collector traces only their own customers' debts.
        for customer in store::customers_of(&mut conn, &contracts)
            .await
            .map_err(ApiError::from)?
        {
            kit::auth::owners::require_customer(&mut conn, &caller, customer).await?;
        }
        let steps = store::trace(&mut conn, &contracts)
            .await
            .map_err(ApiError::from)?;
        let mut previous: Option<chrono::DateTime<chrono::Utc>> = None;
        let steps = steps
            .into_iter()
            .map(|s| {
                let since = previous.map_or(0, |p| (s.occurred_at - p).num_milliseconds());
                previous = Some(s.occurred_at);
                api::TraceStep {
                    occurred_at: s
                        .occurred_at
                        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    service: s.service,
                    event: s.event,
                    summary: s.summary,
                    contract_id: s.contract_id.map(|c| c.to_string()).unwrap_or_default(),
                    receivable_ids: s.receivable_ids.iter().map(Uuid::to_string).collect(),
                    payment_id: s.payment_id.map(|p| p.to_string()).unwrap_or_default(),
                    case_id: s.case_id.map(|c| c.to_string()).unwrap_or_default(),
                    event_id: s.event_id.to_string(),
                    since_previous_ms: since,
                }
            })
            .collect();
        Ok(Response::new(api::GetTraceResponse {
            contract_ids: contracts.iter().map(Uuid::to_string).collect(),
            steps,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn get_recovery_by_step(
        &self,
        request: Request<api::GetRecoveryByStepRequest>,
    ) -> Result<Response<api::GetRecoveryByStepResponse>, Status> {
        Ok(Response::new(
            self.recovery_report(request.get_ref()).await?,
        ))
    }

    #[tracing::instrument(skip_all)]
    async fn get_collector_kpis(
        &self,
        request: Request<api::GetCollectorKpisRequest>,
    ) -> Result<Response<api::GetCollectorKpisResponse>, Status> {
        // R-O3: a collector sees their own row, a supervisor their team's.
        let caller = kit::auth::Caller::of(&request)?;
        Ok(Response::new(
            self.collectors_report(&caller.scope, request.get_ref())
                .await?,
        ))
    }

    #[tracing::instrument(skip_all)]
    async fn get_forecast(
        &self,
        request: Request<api::GetForecastRequest>,
    ) -> Result<Response<api::GetForecastResponse>, Status> {
        Ok(Response::new(
            self.forecast_report(request.get_ref()).await?,
        ))
    }

    #[tracing::instrument(skip_all)]
    async fn get_month_end_pack(
        &self,
        request: Request<api::GetMonthEndPackRequest>,
    ) -> Result<Response<api::GetMonthEndPackResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        Ok(Response::new(
            self.month_end_pack(&caller.scope, request.get_ref())
                .await?,
        ))
    }
}
