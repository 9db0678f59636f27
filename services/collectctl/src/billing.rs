//! `collectctl billing` and `collectctl units`: property-management billing (R-C2, R-C3;
//! issue 12 item 2) — the monthly billing run, meter-reading imports and the units billed
//! (contracts service). Text for people by default, JSON with `--json`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use proto::contracts::v1 as api;

use crate::cli::{self, Outcome};
use crate::service;

#[derive(Args)]
pub(crate) struct BillingArgs {
    /// The contracts service (default: $CONTRACTS_URL, else the local stack's port).
    #[arg(long, global = true)]
    contracts: Option<String>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: BillingCommand,
}

#[derive(Subcommand)]
enum BillingCommand {
    /// Bill every unit's recurring charges for a month. Running it again creates nothing
    /// that exists; an interrupted run resumes.
    Run {
        /// The month, e.g. 2026-11.
        #[arg(long)]
        period: String,
    },
    /// Bill metered charges from a CSV of readings or amounts (all rows or none). Header:
    /// project,unit,charge_type,period,previous,current,unit_price,amount
    ImportReadings {
        /// The CSV file.
        file: PathBuf,
    },
}

#[derive(Args)]
pub(crate) struct UnitsArgs {
    /// The contracts service (default: $CONTRACTS_URL, else the local stack's port).
    #[arg(long, global = true)]
    contracts: Option<String>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: UnitsCommand,
}

#[derive(Subcommand)]
enum UnitsCommand {
    /// Units with their segment, occupancy, area, contract and charge terms.
    List {
        /// Only this project.
        #[arg(long)]
        project: Option<String>,
        /// Only the units of this contract (id).
        #[arg(long)]
        contract: Option<String>,
    },
}

pub(crate) fn run(args: BillingArgs) -> Outcome {
    service::block_on(async move {
        let mut client = service::contracts(args.contracts).await?;
        match args.command {
            BillingCommand::Run { period } => {
                let done = client
                    .run_billing(api::RunBillingRequest { period })
                    .await
                    .map_err(service::status)?
                    .into_inner();
                if args.json {
                    return cli::json(serde_json::json!({
                        "period": done.period,
                        "due_date": done.due_date,
                        "units": done.units,
                        "created": done.created,
                        "already_billed": done.already_billed,
                        "resumed": done.resumed,
                    }));
                }
                Ok(format!(
                    "billing {}{}: {} units, {} charges created, {} already billed; due {}",
                    done.period,
                    if done.resumed { " (resumed)" } else { "" },
                    done.units,
                    done.created,
                    done.already_billed,
                    done.due_date
                ))
            }
            BillingCommand::ImportReadings { file } => {
                let content = cli::read(&file, "the readings file")?;
                let done = client
                    .import_meter_readings(api::ImportMeterReadingsRequest { content })
                    .await
                    .map_err(service::status)?
                    .into_inner();
                if args.json {
                    return cli::json(serde_json::json!({
                        "rows": done.rows,
                        "created": done.created,
                        "already_billed": done.already_billed,
                        "nothing_due": done.nothing_due,
                    }));
                }
                Ok(format!(
                    "{} rows: {} charges created, {} already billed, {} with nothing to bill",
                    done.rows, done.created, done.already_billed, done.nothing_due
                ))
            }
        }
    })
}

fn segment(value: i32) -> &'static str {
    match api::UnitSegment::try_from(value) {
        Ok(api::UnitSegment::Residential) => "residential",
        Ok(api::UnitSegment::Commercial) => "commercial",
        Ok(api::UnitSegment::Villa) => "villa",
        Ok(api::UnitSegment::Parking) => "parking",
        _ => "unknown",
    }
}

fn occupancy(value: i32) -> &'static str {
    match api::UnitOccupancy::try_from(value) {
        Ok(api::UnitOccupancy::Vacant) => "vacant",
        Ok(api::UnitOccupancy::Occupied) => "occupied",
        _ => "unknown",
    }
}

fn charge(value: i32) -> String {
    proto::types::v1::ChargeType::try_from(value).map_or_else(
        |_| "unknown".to_owned(),
        |c| {
            c.as_str_name()
                .trim_start_matches("CHARGE_TYPE_")
                .to_lowercase()
        },
    )
}

fn term_text(term: &api::ChargeTerm) -> String {
    let how = if term.rate_per_m2.is_empty() {
        format!("{}/month", term.monthly_amount)
    } else {
        format!("{}/m²/month", term.rate_per_m2)
    };
    format!(
        "{} {how} ×{} vacant from {}",
        charge(term.charge_type),
        term.vacant_factor,
        term.effective_from
    )
}

fn unit_json(unit: &api::Unit) -> serde_json::Value {
    serde_json::json!({
        "unit_id": unit.unit_id,
        "project": unit.project,
        "code": unit.code,
        "segment": segment(unit.segment),
        "occupancy": occupancy(unit.occupancy),
        "area_m2": unit.area_m2,
        "customer_id": unit.customer_id,
        "contract_id": unit.contract_id,
        "terms": unit.terms.iter().map(|t| serde_json::json!({
            "charge_type": charge(t.charge_type),
            "monthly_amount": t.monthly_amount,
            "rate_per_m2": t.rate_per_m2,
            "vacant_factor": t.vacant_factor,
            "effective_from": t.effective_from,
        })).collect::<Vec<_>>(),
    })
}

pub(crate) fn units(args: UnitsArgs) -> Outcome {
    service::block_on(async move {
        let client = service::contracts(args.contracts).await?;
        let UnitsCommand::List { project, contract } = args.command;
        let units = service::all_pages(|page_token| {
            let mut client = client.clone();
            let request = api::ListUnitsRequest {
                project: project.clone().unwrap_or_default(),
                contract_id: contract.clone().unwrap_or_default(),
                page_size: 1000,
                page_token,
            };
            async move {
                let page = client.list_units(request).await?.into_inner();
                Ok((page.units, page.next_page_token))
            }
        })
        .await?;
        if args.json {
            return cli::json(units.iter().map(unit_json).collect::<Vec<_>>());
        }
        if units.is_empty() {
            return Ok("no units".to_owned());
        }
        Ok(units
            .iter()
            .map(|u| {
                let terms: Vec<String> = u.terms.iter().map(term_text).collect();
                format!(
                    "{} {}  {} {} {} m²  contract {}  {}\n    {}",
                    u.project,
                    u.code,
                    segment(u.segment),
                    occupancy(u.occupancy),
                    u.area_m2,
                    u.contract_id,
                    u.unit_id,
                    if terms.is_empty() {
                        "no charge terms".to_owned()
                    } else {
                        terms.join("; ")
                    }
                )
            })
            .collect::<Vec<_>>()
            .join("\n"))
    })
}
