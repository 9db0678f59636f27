//! `collectctl customers`: customer data collection staff maintain, and who owns whose
//! collection work (contracts service).

use clap::{Args, Subcommand};
use proto::contracts::v1 as api;

use crate::cli::{Failure, Outcome};
use crate::service;

#[derive(Args)]
pub(crate) struct CustomersArgs {
    /// The contracts service (default: $CONTRACTS_URL, else the local stack's port).
    #[arg(long, global = true)]
    contracts: Option<String>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: CustomersCommand,
}

#[derive(Subcommand)]
enum CustomersCommand {
    /// Put an account on file for a customer (e.g. a relative who pays for them): its waiting
    /// third-party payments are decided again and applied, and later ones count at once.
    AddPayerAccount {
        /// Customer id.
        customer_id: String,
        /// The account, in any notation.
        account: String,
    },
    /// Move a customer's (or one contract's) collection work to another owner (R-C9);
    /// supervisors within their team, or admins. Recorded with you as who did it.
    Reassign {
        /// Customer id (the customer as a whole), unless --contract is given.
        #[arg(
            long,
            required_unless_present = "contract",
            conflicts_with = "contract"
        )]
        customer: Option<String>,
        /// Contract id: reassign only this contract.
        #[arg(long)]
        contract: Option<String>,
        /// The new owner (staff id as the identity provider names them).
        #[arg(long)]
        owner: String,
        /// Their team (a supervisor's own team when empty).
        #[arg(long, default_value = "")]
        team: String,
        /// Why, for the record.
        #[arg(long)]
        reason: String,
    },
}

pub(crate) fn run(args: CustomersArgs) -> Outcome {
    service::block_on(async move {
        let mut client = service::contracts(args.contracts).await?;
        match args.command {
            CustomersCommand::Reassign {
                customer,
                contract,
                owner,
                team,
                reason,
            } => {
                use api::reassign_owner_request::Target;
                let target = match (customer, contract) {
                    (_, Some(contract)) => Target::ContractId(contract),
                    (Some(customer), None) => Target::CustomerId(customer),
                    (None, None) => {
                        return Err(Failure::with_hint(
                            anyhow::anyhow!("nothing to reassign"),
                            "give --customer ID or --contract ID",
                        ));
                    }
                };
                let done = client
                    .reassign_owner(api::ReassignOwnerRequest {
                        target: Some(target),
                        owner,
                        owner_team: team,
                        reason,
                    })
                    .await
                    .map_err(service::status)?
                    .into_inner();
                if args.json {
                    return Ok(serde_json::to_string_pretty(&serde_json::json!({
                        "customer_id": done.customer_id,
                        "contract_id": done.contract_id,
                        "owner": done.owner,
                        "owner_team": done.owner_team,
                        "previous_owner": done.previous_owner,
                        "previous_team": done.previous_team,
                        "reassigned_by": done.reassigned_by,
                    }))?);
                }
                let what = if done.contract_id.is_empty() {
                    format!("customer {}", done.customer_id)
                } else {
                    format!("contract {}", done.contract_id)
                };
                Ok(format!(
                    "{what}: {} ({}) → {} ({}), by {}",
                    done.previous_owner,
                    done.previous_team,
                    done.owner,
                    done.owner_team,
                    done.reassigned_by
                ))
            }
            CustomersCommand::AddPayerAccount {
                customer_id,
                account,
            } => {
                let done = client
                    .add_payer_account(api::AddPayerAccountRequest {
                        customer_id,
                        account,
                    })
                    .await
                    .map_err(service::status)?
                    .into_inner();
                let customer = done.customer.unwrap_or_default();
                if args.json {
                    return Ok(serde_json::to_string_pretty(&serde_json::json!({
                        "customer_id": customer.customer_id,
                        "name": customer.name,
                        "added": done.added,
                        "payer_accounts_masked": customer.payer_accounts_masked,
                    }))?);
                }
                let on_file = customer.payer_accounts_masked.join(", ");
                Ok(if done.added {
                    format!(
                        "account put on file for {} ({}); on file now: {on_file}",
                        customer.name, customer.customer_id
                    )
                } else {
                    format!(
                        "that account was already on file for {} ({}): {on_file}",
                        customer.name, customer.customer_id
                    )
                })
            }
        }
    })
}
