//! `collectctl desk`: the finance desk (R-P1, R-P3, R-P7): cash receipts with gap-free
//! numbers, voids decided by a second person, the day's cash count, acknowledgments of
//! cheques, drafts, bills and slips, bounces, printable documents and what is still
//! unreconciled after two hours. Who acts is the token's subject. Talks to payments over gRPC.

use clap::{Args, Subcommand};
use sha2::{Digest, Sha256};

use proto::types::v1::Money;

use crate::cli::{Failure, Outcome};
use crate::service;

mod instruments;
mod receipts;

#[derive(Args)]
pub(crate) struct DeskArgs {
    /// The payments service (default: $PAYMENTS_URL, else the local stack's port).
    #[arg(long, global = true)]
    payments: Option<String>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: DeskCommand,
}

#[derive(Subcommand)]
enum DeskCommand {
    #[command(flatten)]
    Receipts(receipts::ReceiptCommand),
    #[command(flatten)]
    Instruments(instruments::InstrumentCommand),
}

pub(super) fn money(amount: &str, currency: &str) -> Option<Money> {
    Some(Money {
        amount: amount.trim().to_owned(),
        currency: currency.trim().to_ascii_uppercase(),
    })
}

pub(super) fn shown(m: Option<&Money>) -> String {
    m.map(|m| format!("{} {}", m.amount, m.currency))
        .unwrap_or_default()
}

/// A request id derived from what identifies the request, so the same command again is a
/// repeat.
pub(super) fn derived_id(prefix: &str, parts: &[&str]) -> String {
    let digest = Sha256::digest(parts.join("\n").as_bytes());
    let hex: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
    format!("collectctl-{prefix}-{hex}")
}

pub(super) fn today() -> String {
    kit::config::business_date(chrono::Utc::now(), kit::config::DEFAULT_BUSINESS_OFFSET).to_string()
}

/// One page of a listing (`what`: "receipts", "acknowledgments", also the command's name):
/// as JSON `{what: [...], "next": token}`, or one line per item and the command for the
/// next page.
pub(super) fn page<T>(
    as_json: bool,
    what: &str,
    items: &[T],
    next: &str,
    to_json: fn(&T) -> serde_json::Value,
    to_text: fn(&T) -> String,
) -> Outcome {
    if as_json {
        return json(&serde_json::json!({
            what: items.iter().map(to_json).collect::<Vec<_>>(),
            "next": next,
        }));
    }
    let mut out = if items.is_empty() {
        format!("no {what}")
    } else {
        items.iter().map(to_text).collect::<Vec<_>>().join("\n")
    };
    if !next.is_empty() {
        out.push_str(&format!(
            "\nmore: collectctl desk {what} --after {next} (same filters)"
        ));
    }
    Ok(out)
}

/// A gRPC error with what to do next at the desk.
pub(super) fn refused(status: tonic::Status) -> Failure {
    let hint = match status.code() {
        tonic::Code::PermissionDenied if status.message().contains("another") => {
            "ask another cashier or a supervisor to decide the void"
        }
        tonic::Code::PermissionDenied => {
            "only cashiers take money at the desk (R-P1); sign in with a cashier's token"
        }
        tonic::Code::NotFound => {
            "check the id: `collectctl desk receipts` or `collectctl desk acknowledgments`"
        }
        tonic::Code::AlreadyExists => "it was done before; list it instead of doing it again",
        tonic::Code::FailedPrecondition => "read the message: it says what to do instead",
        _ => return service::status(status),
    };
    Failure::with_hint(
        anyhow::anyhow!("{:?}: {}", status.code(), status.message()),
        hint,
    )
}

pub(super) fn json(value: &serde_json::Value) -> Result<String, Failure> {
    Ok(serde_json::to_string_pretty(value)?)
}

pub(crate) fn run(args: DeskArgs) -> Outcome {
    service::block_on(async move {
        let mut client = service::payments(args.payments).await?;
        match args.command {
            DeskCommand::Receipts(command) => receipts::run(&mut client, args.json, command).await,
            DeskCommand::Instruments(command) => {
                instruments::run(&mut client, args.json, command).await
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_repeat_for_the_same_arguments_only() {
        let a = derived_id("cash", &["2026-12-05", "P1", "10.00"]);
        assert_eq!(a, derived_id("cash", &["2026-12-05", "P1", "10.00"]));
        assert_ne!(a, derived_id("cash", &["2026-12-05", "P1", "10.01"]));
        assert!(a.len() <= 100);
    }

    #[test]
    fn a_page_lists_its_items_and_says_how_to_get_the_next() {
        let to_json = |n: &u32| serde_json::json!(n);
        let to_text = |n: &u32| format!("item {n}");
        assert_eq!(
            page(false, "receipts", &[], "", to_json, to_text).ok(),
            Some("no receipts".to_owned())
        );
        assert_eq!(
            page(false, "receipts", &[1, 2], "t2", to_json, to_text).ok(),
            Some(
                "item 1\nitem 2\nmore: collectctl desk receipts --after t2 (same filters)"
                    .to_owned()
            )
        );
        let shown = page(true, "acknowledgments", &[7], "", to_json, to_text).unwrap();
        let value: serde_json::Value = serde_json::from_str(&shown).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"acknowledgments": [7], "next": ""})
        );
    }
}
