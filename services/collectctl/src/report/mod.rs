//! `collectctl report`: the reporting service's reports (R-O1, R-O7, R-O8) and the trace of a
//! debt (R-O2). Text for people by default, `--json` for programs, `--csv` for spreadsheets.

use clap::{Args, Subcommand, ValueEnum};
use proto::reporting::v1 as api;
use proto::types::v1::Money;

use crate::cli::Outcome;

mod render;

use render::{aging, kpis, provisions, rolls, trace};

#[derive(Args)]
pub(crate) struct ReportArgs {
    #[command(subcommand)]
    command: ReportCommand,
    /// The reporting service (default: $REPORTING_URL, else the local stack's port).
    #[arg(long, global = true)]
    reporting: Option<String>,
    /// Output: text (default), json or csv.
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Same as --format json.
    #[arg(long, global = true)]
    json: bool,
    /// Same as --format csv.
    #[arg(long, global = true)]
    csv: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    Text,
    Json,
    Csv,
}

#[derive(Subcommand)]
enum ReportCommand {
    /// Open principal by aging bucket (R-C11) on a date, per currency.
    Aging {
        /// Business date YYYY-MM-DD (default: today).
        #[arg(long)]
        as_of: Option<String>,
        /// Only this currency.
        #[arg(long)]
        currency: Option<String>,
    },
    /// The period's KPIs (R-O7): collection rate, overdue rate, DSO, CEI, average days to
    /// collect.
    Kpis {
        /// First day YYYY-MM-DD (default: the first of the last day's month).
        #[arg(long)]
        from: Option<String>,
        /// Last day YYYY-MM-DD (default: today).
        #[arg(long)]
        to: Option<String>,
        #[arg(long)]
        currency: Option<String>,
    },
    /// Roll rates (R-O7): the share of each bucket's balance one bucket further a month later.
    Rolls {
        /// First month YYYY-MM (default: six months before the last).
        #[arg(long)]
        from: Option<String>,
        /// Last month YYYY-MM (default: the last month with a complete month after it).
        #[arg(long)]
        to: Option<String>,
        #[arg(long)]
        currency: Option<String>,
    },
    /// Bad-debt provisions by the provision matrix (R-O8) and the draft voucher for their
    /// change since the last recorded run.
    Provisions {
        /// Business date YYYY-MM-DD (default: today).
        #[arg(long)]
        as_of: Option<String>,
        /// The currency (required: a voucher is in one currency).
        #[arg(long)]
        currency: String,
        /// Keep this run as the base of the next one (finance, at month-end).
        #[arg(long)]
        record: bool,
    },
    /// Recovery by dunning step (R-O1): per ladder stage, debts that reached it, what they
    /// owed and the principal recovered after it within N days.
    Recovery {
        /// First day of the steps YYYY-MM-DD (default: the first of the last day's month).
        #[arg(long)]
        from: Option<String>,
        /// Last day YYYY-MM-DD (default: today).
        #[arg(long)]
        to: Option<String>,
        #[arg(long)]
        currency: Option<String>,
        /// Payments count within this many days after a step (default 30).
        #[arg(long)]
        within_days: Option<u32>,
    },
    /// Per-collector KPIs (R-O1, R-D11): collected, CEI, promises, contacts, cases; a
    /// collector sees their own row, a supervisor their team's.
    Collectors {
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        to: Option<String>,
        /// Default CNY.
        #[arg(long)]
        currency: Option<String>,
    },
    /// The 12-week cash-inflow forecast (R-O1) and its error on held-back weeks.
    Forecast {
        /// The forecast starts the day after (default: today).
        #[arg(long)]
        as_of: Option<String>,
        /// Default CNY.
        #[arg(long)]
        currency: Option<String>,
        /// Weeks to forecast (default and at most 12).
        #[arg(long)]
        weeks: Option<u32>,
        /// Past weeks held back to measure the error (default 4).
        #[arg(long)]
        backtest_weeks: Option<u32>,
    },
    /// The month-end pack: one PDF (or HTML with --html), Chinese first, English second.
    Pack {
        /// The month YYYY-MM.
        #[arg(long)]
        month: String,
        /// Default CNY.
        #[arg(long)]
        currency: Option<String>,
        /// Where to write it (default: the name the service gives, e.g.
        /// month-end-2026-11-CNY.pdf).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
        /// The HTML twin instead of the PDF.
        #[arg(long)]
        html: bool,
        /// A receiving account to reconcile book-to-bank (R-P7); repeatable (default: the
        /// service's REPORTING_BOOK_TO_BANK_ACCOUNTS).
        #[arg(long = "account")]
        accounts: Vec<String>,
    },
    /// Everything that happened to a debt across the services, in time order (R-O2).
    Trace {
        /// What the id is.
        #[arg(value_enum)]
        subject: Subject,
        /// Its id (UUID).
        id: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Subject {
    Contract,
    Receivable,
    Payment,
    Case,
}

pub(crate) fn run(args: ReportArgs) -> Outcome {
    let format = if args.json {
        Format::Json
    } else if args.csv {
        Format::Csv
    } else {
        args.format
    };
    let url = args.reporting;
    crate::service::block_on(async move {
        let mut client = crate::service::reporting(url).await?;
        let status = crate::service::status;
        match args.command {
            ReportCommand::Aging { as_of, currency } => {
                let r = client
                    .get_aging(api::GetAgingRequest {
                        as_of: as_of.unwrap_or_default(),
                        currency: currency.unwrap_or_default(),
                    })
                    .await
                    .map_err(status)?
                    .into_inner();
                aging(&r, format)
            }
            ReportCommand::Kpis { from, to, currency } => {
                let r = client
                    .get_kpis(api::GetKpisRequest {
                        from: from.unwrap_or_default(),
                        to: to.unwrap_or_default(),
                        currency: currency.unwrap_or_default(),
                    })
                    .await
                    .map_err(status)?
                    .into_inner();
                kpis(&r, format)
            }
            ReportCommand::Rolls { from, to, currency } => {
                let r = client
                    .get_roll_rates(api::GetRollRatesRequest {
                        from_month: from.unwrap_or_default(),
                        to_month: to.unwrap_or_default(),
                        currency: currency.unwrap_or_default(),
                    })
                    .await
                    .map_err(status)?
                    .into_inner();
                rolls(&r, format)
            }
            ReportCommand::Provisions {
                as_of,
                currency,
                record,
            } => {
                let as_of = as_of.unwrap_or_default();
                let run = if record {
                    client
                        .record_provisions(api::RecordProvisionsRequest { as_of, currency })
                        .await
                        .map_err(status)?
                        .into_inner()
                        .run
                } else {
                    client
                        .get_provisions(api::GetProvisionsRequest { as_of, currency })
                        .await
                        .map_err(status)?
                        .into_inner()
                        .run
                };
                provisions(&run.unwrap_or_default(), format)
            }
            ReportCommand::Recovery {
                from,
                to,
                currency,
                within_days,
            } => {
                let r = client
                    .get_recovery_by_step(api::GetRecoveryByStepRequest {
                        from: from.unwrap_or_default(),
                        to: to.unwrap_or_default(),
                        currency: currency.unwrap_or_default(),
                        within_days: within_days.unwrap_or_default(),
                    })
                    .await
                    .map_err(status)?
                    .into_inner();
                crate::report_month::recovery(&r, format)
            }
            ReportCommand::Collectors { from, to, currency } => {
                let r = client
                    .get_collector_kpis(api::GetCollectorKpisRequest {
                        from: from.unwrap_or_default(),
                        to: to.unwrap_or_default(),
                        currency: currency.unwrap_or_default(),
                    })
                    .await
                    .map_err(status)?
                    .into_inner();
                crate::report_month::collectors(&r, format)
            }
            ReportCommand::Forecast {
                as_of,
                currency,
                weeks,
                backtest_weeks,
            } => {
                let r = client
                    .get_forecast(api::GetForecastRequest {
                        as_of: as_of.unwrap_or_default(),
                        currency: currency.unwrap_or_default(),
                        weeks: weeks.unwrap_or_default(),
                        backtest_weeks: backtest_weeks.unwrap_or_default(),
                    })
                    .await
                    .map_err(status)?
                    .into_inner();
                crate::report_month::forecast(&r, format)
            }
            ReportCommand::Pack {
                month,
                currency,
                out,
                html,
                accounts,
            } => {
                let r = client
                    .get_month_end_pack(api::GetMonthEndPackRequest {
                        month,
                        currency: currency.unwrap_or_default(),
                        format: (if html {
                            api::PackFormat::Html
                        } else {
                            api::PackFormat::Pdf
                        }) as i32,
                        accounts,
                    })
                    .await
                    .map_err(status)?
                    .into_inner();
                crate::report_month::pack(&r, out, format)
            }
            ReportCommand::Trace { subject, id } => {
                let subject = match subject {
                    Subject::Contract => api::TraceSubject::Contract,
                    Subject::Receivable => api::TraceSubject::Receivable,
                    Subject::Payment => api::TraceSubject::Payment,
                    Subject::Case => api::TraceSubject::LegalCase,
                };
                let r = client
                    .get_trace(api::GetTraceRequest {
                        subject: subject as i32,
                        id,
                    })
                    .await
                    .map_err(status)?
                    .into_inner();
                trace(&r, format)
            }
        }
    })
}

pub(crate) fn m(money: Option<&Money>) -> String {
    money.map(|m| m.amount.clone()).unwrap_or_default()
}

pub(crate) fn bucket_name(value: i32) -> &'static str {
    match api::AgingBucket::try_from(value).unwrap_or(api::AgingBucket::Unspecified) {
        api::AgingBucket::Current => "current",
        api::AgingBucket::Days130 => "1-30",
        api::AgingBucket::Days3160 => "31-60",
        api::AgingBucket::Days6190 => "61-90",
        api::AgingBucket::Days91180 => "91-180",
        api::AgingBucket::Over180 => "180+",
        api::AgingBucket::Unspecified => "?",
    }
}

/// A CSV field: quoted when it holds a comma, quote or line break.
fn field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

pub(crate) fn csv(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = header.join(",");
    for row in rows {
        out.push('\n');
        out.push_str(&row.iter().map(|v| field(v)).collect::<Vec<_>>().join(","));
    }
    out
}

pub(crate) fn pct(value: &str) -> String {
    if value.is_empty() {
        "—".to_owned()
    } else {
        format!("{value} %")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: ReportArgs,
    }

    #[test]
    fn arguments_parse() {
        assert!(Cli::try_parse_from(["report", "aging", "--as-of", "2026-06-30", "--csv"]).is_ok());
        assert!(
            Cli::try_parse_from(["report", "provisions", "--currency", "CNY", "--record"]).is_ok()
        );
        assert!(Cli::try_parse_from(["report", "provisions"]).is_err());
        assert!(Cli::try_parse_from(["report", "trace", "payment", "x", "--json"]).is_ok());
        assert!(Cli::try_parse_from(["report", "trace", "invoice", "x"]).is_err());
        assert!(
            Cli::try_parse_from(["report", "pack", "--month", "2026-11", "--out", "p.pdf"]).is_ok()
        );
        assert!(Cli::try_parse_from(["report", "pack"]).is_err());
        assert!(
            Cli::try_parse_from(["report", "forecast", "--backtest-weeks", "4", "--csv"]).is_ok()
        );
        assert!(Cli::try_parse_from(["report", "recovery", "--within-days", "14"]).is_ok());
        assert!(Cli::try_parse_from(["report", "collectors", "--json"]).is_ok());
    }

    #[test]
    fn csv_quotes_what_needs_it() {
        assert_eq!(
            csv(&["a", "b"], &[vec!["1,5".into(), "say \"hi\"".into()]]),
            "a,b\n\"1,5\",\"say \"\"hi\"\"\""
        );
    }
}
