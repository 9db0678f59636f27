//! `collectctl holds`: credit holds (R-L5, R-S5) — who may not sign a new contract, why,
//! since when, and the supervisor's decisions (contracts service).

use clap::{Args, Subcommand};
use proto::contracts::v1 as api;

use crate::cli::Outcome;
use crate::service;

#[derive(Args)]
pub(crate) struct HoldsArgs {
    /// The contracts service (default: $CONTRACTS_URL, else the local stack's port).
    #[arg(long, global = true)]
    contracts: Option<String>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: HoldsCommand,
}

#[derive(Subcommand)]
enum HoldsCommand {
    /// A customer's holds: the active ones, or with --history also the released ones.
    List {
        /// Customer id.
        customer_id: String,
        /// Also released holds, with who released them and why.
        #[arg(long)]
        history: bool,
    },
    /// Put a customer on hold (supervisors): no new contract until released.
    Place {
        /// Customer id.
        customer_id: String,
        /// Why, for the record.
        #[arg(long)]
        reason: String,
    },
    /// Release a supervisor's hold (supervisors). Legal-case and overdue holds end with
    /// their cause; use `override` to sign one contract anyway.
    Release {
        /// Hold id (from `holds list`).
        hold_id: String,
        /// Why, for the record.
        #[arg(long)]
        reason: String,
    },
    /// Allow one named contract for a customer on hold (supervisors); used once, recorded.
    Override {
        /// Customer id.
        customer_id: String,
        /// The contract number it allows.
        #[arg(long)]
        contract_no: String,
        /// Why, for the record.
        #[arg(long)]
        reason: String,
    },
}

fn source(value: i32) -> &'static str {
    match api::CreditHoldSource::try_from(value) {
        Ok(api::CreditHoldSource::LegalCase) => "legal case",
        Ok(api::CreditHoldSource::Overdue) => "overdue",
        Ok(api::CreditHoldSource::Supervisor) => "supervisor",
        Ok(api::CreditHoldSource::Scoring) => "scoring",
        _ => "unknown",
    }
}

fn to_json(hold: &api::CreditHold) -> serde_json::Value {
    serde_json::json!({
        "hold_id": hold.hold_id,
        "customer_id": hold.customer_id,
        "source": source(hold.source),
        "source_ref": hold.source_ref,
        "reason": hold.reason,
        "placed_by": hold.placed_by,
        "placed_at": hold.placed_at,
        "active": hold.active,
        "released_by": hold.released_by,
        "released_at": hold.released_at,
        "release_reason": hold.release_reason,
    })
}

fn to_text(hold: &api::CreditHold) -> String {
    let mut line = format!(
        "{}  {:<10}  since {} by {}: {}",
        hold.hold_id,
        source(hold.source),
        hold.placed_at,
        hold.placed_by,
        hold.reason
    );
    if !hold.active {
        line.push_str(&format!(
            "\n    released {} by {}: {}",
            hold.released_at, hold.released_by, hold.release_reason
        ));
    }
    line
}

pub(crate) fn run(args: HoldsArgs) -> Outcome {
    service::block_on(async move {
        let mut client = service::contracts(args.contracts).await?;
        match args.command {
            HoldsCommand::List {
                customer_id,
                history,
            } => {
                let mut holds = Vec::new();
                let mut page_token = String::new();
                let on_hold = loop {
                    let page = client
                        .list_credit_holds(api::ListCreditHoldsRequest {
                            customer_id: customer_id.clone(),
                            include_released: history,
                            page_size: 100,
                            page_token,
                        })
                        .await
                        .map_err(service::status)?
                        .into_inner();
                    holds.extend(page.holds);
                    if page.next_page_token.is_empty() {
                        break page.on_hold;
                    }
                    page_token = page.next_page_token;
                };
                if args.json {
                    return Ok(serde_json::to_string_pretty(&serde_json::json!({
                        "customer_id": customer_id,
                        "on_hold": on_hold,
                        "holds": holds.iter().map(to_json).collect::<Vec<_>>(),
                    }))?);
                }
                let head = if on_hold {
                    format!(
                        "customer {customer_id} is ON CREDIT HOLD: no new contract without a supervisor's override"
                    )
                } else {
                    format!("customer {customer_id} is not on hold")
                };
                let body: Vec<String> = holds.iter().map(to_text).collect();
                Ok(if body.is_empty() {
                    head
                } else {
                    format!("{head}\n{}", body.join("\n"))
                })
            }
            HoldsCommand::Place {
                customer_id,
                reason,
            } => {
                let hold = client
                    .place_credit_hold(api::PlaceCreditHoldRequest {
                        customer_id,
                        reason,
                    })
                    .await
                    .map_err(service::status)?
                    .into_inner()
                    .hold
                    .unwrap_or_default();
                if args.json {
                    return Ok(serde_json::to_string_pretty(&to_json(&hold))?);
                }
                Ok(format!(
                    "on hold: {}\nrelease it with: collectctl holds release {} --reason …",
                    to_text(&hold),
                    hold.hold_id
                ))
            }
            HoldsCommand::Release { hold_id, reason } => {
                let hold = client
                    .release_credit_hold(api::ReleaseCreditHoldRequest { hold_id, reason })
                    .await
                    .map_err(service::status)?
                    .into_inner()
                    .hold
                    .unwrap_or_default();
                if args.json {
                    return Ok(serde_json::to_string_pretty(&to_json(&hold))?);
                }
                Ok(format!("released: {}", to_text(&hold)))
            }
            HoldsCommand::Override {
                customer_id,
                contract_no,
                reason,
            } => {
                let granted = client
                    .override_credit_hold(api::OverrideCreditHoldRequest {
                        customer_id: customer_id.clone(),
                        contract_no: contract_no.clone(),
                        reason,
                    })
                    .await
                    .map_err(service::status)?
                    .into_inner();
                if args.json {
                    return Ok(serde_json::to_string_pretty(&serde_json::json!({
                        "override_id": granted.override_id,
                        "granted_by": granted.granted_by,
                        "customer_id": customer_id,
                        "contract_no": contract_no,
                    }))?);
                }
                Ok(format!(
                    "override {} by {}: contract {contract_no} may now be signed once for customer {customer_id}",
                    granted.override_id, granted.granted_by
                ))
            }
        }
    })
}
