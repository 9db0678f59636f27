//! `collectctl customers`: customer data collection staff maintain (contracts service).

use clap::{Args, Subcommand};
use proto::contracts::v1 as api;

use crate::cli::Outcome;
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
}

pub(crate) fn run(args: CustomersArgs) -> Outcome {
    service::block_on(async move {
        let mut client = service::contracts(args.contracts).await?;
        match args.command {
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
