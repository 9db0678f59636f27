//! `collectctl contracts import FILE`: signs a portfolio from a JSON Lines file through
//! `ImportContracts` (R-O5: opening days bring hundreds of signings at once), up to 1,000
//! signings a call, each call all or nothing.
//!
//! Every line is read and checked before anything is sent; a line that does not parse is
//! named with what is wrong. Each call carries an idempotency key made from its lines, so
//! running the same file again after a failure answers the calls that went through with the
//! same ids and imports the rest; a line the service refuses is named by its line number.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::anyhow;
use clap::{Args, Subcommand};
use proto::contracts::v1 as api;
use proto::types::v1 as types;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::cli::{Failure, Hint, Outcome};
use crate::service;

/// Most signings one `ImportContracts` call takes.
const MAX_BATCH: usize = 1000;

#[derive(Args)]
pub(crate) struct ContractsArgs {
    /// The contracts service (default: $CONTRACTS_URL, else the local stack's port).
    #[arg(long, global = true)]
    contracts: Option<String>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: ContractsCommand,
}

#[derive(Subcommand)]
enum ContractsCommand {
    /// Sign many contracts from a JSON Lines file, one signing a line: a new customer and
    /// the contract, another contract of a new customer of an earlier line (`customer_ref`),
    /// or a contract for a known customer (`contract.customer_id`). Format: README,
    /// "Importing a portfolio". Supervisors and admins.
    Import {
        /// The file (one JSON object a line; blank lines and lines starting with # are skipped).
        file: PathBuf,
        /// Signings per call (1..=1000); each call is all or nothing.
        #[arg(long, default_value_t = MAX_BATCH)]
        batch: usize,
        /// Write what was created, one JSON object a line: the file's line, contract number,
        /// contract id, customer id and receivable ids.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

pub(crate) fn run(args: ContractsArgs) -> Outcome {
    match args.command {
        ContractsCommand::Import { file, batch, out } => {
            import(args.contracts, args.json, &file, batch, out.as_deref())
        }
    }
}

/// One line of the file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    /// A new customer; absent: `customer_ref` names an earlier line's new customer, or
    /// `contract.customer_id` a known one.
    #[serde(default)]
    customer: Option<Customer>,
    /// With `customer`: a name for that new customer, unique in the file; without: the
    /// new customer of the earlier line that gave this name signs this contract too.
    #[serde(default)]
    customer_ref: String,
    contract: Contract,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Customer {
    name: String,
    /// person or company.
    #[serde(default)]
    kind: String,
    #[serde(default)]
    payer_accounts: Vec<String>,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    owner_team: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Contract {
    #[serde(default)]
    customer_id: String,
    contract_no: String,
    currency: String,
    installments: Vec<Installment>,
    /// The late-fee policy as JSON, an object or a string.
    #[serde(default)]
    late_fee_policy: Option<serde_json::Value>,
    escrow_account: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    owner_team: String,
    #[serde(default)]
    price: String,
    #[serde(default)]
    interest_policy: Option<serde_json::Value>,
    #[serde(default)]
    discount: Option<Discount>,
    /// Ranks of components, first settled first, e.g. [["principal"], ["late_fee", "interest"], ["costs"]].
    #[serde(default)]
    allocation_order: Option<Vec<Vec<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Installment {
    #[serde(default)]
    amount: String,
    due_date: String,
    /// deposit, down_payment, installment, final_payment or milestone.
    #[serde(default)]
    kind: String,
    /// purchase_price, management_fee, … (the proto's ChargeType without its prefix).
    #[serde(default)]
    charge_type: String,
    #[serde(default)]
    share: String,
    #[serde(default)]
    interest_free: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Discount {
    #[serde(default)]
    lump_sum_percent: String,
    #[serde(default)]
    early_payment: Vec<EarlyPayment>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EarlyPayment {
    days_before_due: u32,
    percent: String,
}

/// A proto enum value from its name with or without the prefix, any case ("down_payment",
/// "DOWN_PAYMENT", "SCHEDULE_ITEM_KIND_DOWN_PAYMENT"); empty is unspecified (0).
fn enum_value(
    field: &str,
    text: &str,
    prefix: &str,
    from_name: impl Fn(&str) -> Option<i32>,
) -> Result<i32, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(0);
    }
    let upper = text.to_ascii_uppercase();
    from_name(&upper)
        .or_else(|| from_name(&format!("{prefix}{upper}")))
        .filter(|v| *v != 0)
        .ok_or_else(|| format!("{field}: {text:?} is not one of the names the service knows"))
}

/// A policy given as a JSON object or as a string of JSON; absent or null: none.
fn policy(value: Option<serde_json::Value>) -> String {
    match value {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(text)) => text,
        Some(other) => other.to_string(),
    }
}

impl Line {
    /// The signing as the service takes it; Err names the field and why.
    fn signing(self) -> Result<api::ImportedSigning, String> {
        let customer = match self.customer {
            Some(c) => Some(api::CreateCustomerRequest {
                idempotency_key: String::new(),
                name: c.name,
                kind: enum_value("customer.kind", &c.kind, "CUSTOMER_KIND_", |n| {
                    api::CustomerKind::from_str_name(n).map(|k| k as i32)
                })?,
                payer_accounts: c.payer_accounts,
                owner: c.owner,
                owner_team: c.owner_team,
            }),
            None => None,
        };
        let c = self.contract;
        let reference = !self.customer_ref.trim().is_empty();
        if customer.is_none() && !reference && c.customer_id.trim().is_empty() {
            return Err(
                "contract.customer_id: give a known customer's id, a \"customer\" to create, or the customer_ref of an earlier line's new customer"
                    .to_owned(),
            );
        }
        if customer.is_none() && reference && !c.customer_id.trim().is_empty() {
            return Err("customer_ref: it names the customer of an earlier line; leave contract.customer_id out, or customer_ref".to_owned());
        }
        if customer.is_some() && !c.customer_id.trim().is_empty() {
            return Err("contract.customer_id: a line with a new \"customer\" signs for that customer; leave customer_id out".to_owned());
        }
        let mut installments = Vec::with_capacity(c.installments.len());
        for (i, item) in c.installments.into_iter().enumerate() {
            let at = format!("contract.installments[{i}]");
            installments.push(api::Installment {
                amount: item.amount,
                due_date: item.due_date,
                kind: enum_value(
                    &format!("{at}.kind"),
                    &item.kind,
                    "SCHEDULE_ITEM_KIND_",
                    |n| types::ScheduleItemKind::from_str_name(n).map(|k| k as i32),
                )?,
                charge_type: enum_value(
                    &format!("{at}.charge_type"),
                    &item.charge_type,
                    "CHARGE_TYPE_",
                    |n| types::ChargeType::from_str_name(n).map(|k| k as i32),
                )?,
                share: item.share,
                interest_free: item.interest_free,
            });
        }
        let allocation_order = match c.allocation_order {
            None => None,
            Some(ranks) => {
                let mut order = types::ComponentOrder::default();
                for (r, rank) in ranks.iter().enumerate() {
                    let mut components = Vec::with_capacity(rank.len());
                    for (k, name) in rank.iter().enumerate() {
                        components.push(enum_value(
                            &format!("contract.allocation_order[{r}][{k}]"),
                            name,
                            "COMPONENT_",
                            |n| types::Component::from_str_name(n).map(|k| k as i32),
                        )?);
                    }
                    order.ranks.push(types::ComponentRank { components });
                }
                Some(order)
            }
        };
        Ok(api::ImportedSigning {
            customer,
            customer_of: 0,
            contract: Some(api::CreateContractRequest {
                idempotency_key: String::new(),
                customer_id: c.customer_id,
                contract_no: c.contract_no,
                currency: c.currency,
                installments,
                late_fee_policy: policy(c.late_fee_policy),
                escrow_account: c.escrow_account,
                unit: c.unit,
                owner: c.owner,
                owner_team: c.owner_team,
                price: c.price,
                interest_policy: policy(c.interest_policy),
                discount: c.discount.map(|d| api::DiscountTerms {
                    lump_sum_percent: d.lump_sum_percent,
                    early_payment: d
                        .early_payment
                        .into_iter()
                        .map(|s| api::EarlyPaymentStep {
                            days_before_due: s.days_before_due,
                            percent: s.percent,
                        })
                        .collect(),
                }),
                allocation_order,
            }),
        })
    }
}

/// One signing of the file.
#[derive(Debug)]
struct Read {
    /// Its line in the file (from 1).
    line_no: usize,
    /// The line as written (for the call's idempotency key).
    text: String,
    signing: api::ImportedSigning,
    /// The earlier signing (its place among the file's signings) whose new customer signs
    /// this contract too (`customer_ref`).
    customer_of: Option<usize>,
}

/// The signings of a file with their line numbers; the first line that is wrong fails it
/// all (nothing is sent).
fn read_file(path: &Path) -> Result<Vec<Read>, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow!("cannot read {}: {e}", path.display()))
        .hint("check the path of the file (JSON Lines, UTF-8)")?;
    parse(&text).map_err(|(line, why)| {
        Failure::with_hint(
            anyhow!("{}: line {line}: {why}", path.display()),
            "correct that line and run the same command again; nothing was sent (format: README, \"Importing a portfolio\")",
        )
    })
}

/// Parses the file's text; Err: the first wrong line's number and why.
fn parse(text: &str) -> Result<Vec<Read>, (usize, String)> {
    let mut signings = Vec::new();
    // customer_ref → (the signing bringing that new customer, its line).
    let mut refs: HashMap<String, (usize, usize)> = HashMap::new();
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let line: Line = serde_json::from_str(trimmed).map_err(|e| {
            let why = e.to_string();
            let hint = if why.contains("expected a string") {
                " (amounts, dates and percentages are strings: \"amount\": \"1000.00\")"
            } else {
                ""
            };
            (line_no, format!("{why}{hint}"))
        })?;
        let reference = line.customer_ref.trim().to_owned();
        let signing = line.signing().map_err(|why| (line_no, why))?;
        let customer_of = if reference.is_empty() {
            None
        } else if signing.customer.is_some() {
            if let Some((_, first)) = refs.get(&reference) {
                return Err((
                    line_no,
                    format!(
                        "customer_ref {reference:?} is line {first}'s new customer already: give each new customer its own customer_ref"
                    ),
                ));
            }
            refs.insert(reference, (signings.len(), line_no));
            None
        } else {
            let Some((of, _)) = refs.get(&reference) else {
                return Err((
                    line_no,
                    format!(
                        "customer_ref {reference:?}: no line before this one brings a new \"customer\" with that customer_ref"
                    ),
                ));
            };
            Some(*of)
        };
        signings.push(Read {
            line_no,
            text: trimmed.to_owned(),
            signing,
            customer_of,
        });
    }
    if signings.is_empty() {
        return Err((0, "the file has no signings".to_owned()));
    }
    Ok(signings)
}

/// The signings of one call, the calls before it having signed the first `before`
/// signings for `customers` (their customer ids in the file's order): a contract of an
/// earlier line's new customer names that signing when it is in this call (`customer_of`,
/// its place from 1), else the customer the earlier call created.
fn call_signings(chunk: &[Read], before: usize, customers: &[String]) -> Vec<api::ImportedSigning> {
    chunk
        .iter()
        .map(|read| {
            let mut signing = read.signing.clone();
            match read.customer_of {
                Some(of) if of >= before => {
                    signing.customer_of = u32::try_from(of - before + 1).unwrap_or(u32::MAX);
                }
                Some(of) => {
                    if let (Some(contract), Some(id)) =
                        (signing.contract.as_mut(), customers.get(of))
                    {
                        contract.customer_id.clone_from(id);
                    }
                }
                None => {}
            }
            signing
        })
        .collect()
}

/// The idempotency key of one call: its lines' digest, so the same lines again are the same
/// import (a repeat answers with the first result).
fn chunk_key(lines: &[Read]) -> String {
    let mut digest = Sha256::new();
    for read in lines {
        digest.update(read.text.as_bytes());
        digest.update(b"\n");
    }
    let hex: String = digest
        .finalize()
        .iter()
        .take(16)
        .fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        });
    format!("collectctl-import:{hex}")
}

/// The service's refusal of one call, with `signings[i]` turned into the file's line number
/// and what was imported by the calls before it (`imported` signings).
fn refused(status: tonic::Status, lines: &[Read], imported: usize) -> Failure {
    let message = status.message();
    let line = message
        .split("signings[")
        .nth(1)
        .and_then(|rest| rest.split(']').next())
        .and_then(|i| i.parse::<usize>().ok())
        .and_then(|i| lines.get(i))
        .map(|read| read.line_no);
    let first = lines.first().map_or(0, |l| l.line_no);
    let before = if imported == 0 {
        String::new()
    } else {
        format!("; the {imported} signings before line {first} were imported")
    };
    let again = "run the same command again, with the same --batch: the calls that went through answer with the same ids";
    match (line, status.code()) {
        (
            Some(line_no),
            tonic::Code::InvalidArgument
            | tonic::Code::AlreadyExists
            | tonic::Code::NotFound
            | tonic::Code::FailedPrecondition
            | tonic::Code::PermissionDenied,
        ) => Failure::with_hint(
            anyhow!("{:?}: line {line_no}: {message}{before}", status.code()),
            format!("correct line {line_no}, then {again}"),
        ),
        _ if imported > 0 => {
            let failure = service::status(status);
            Failure::with_hint(
                anyhow!("{}{before}", failure.describe()),
                failure
                    .hint_text()
                    .map_or_else(|| again.to_owned(), |h| format!("{h}; then {again}")),
            )
        }
        _ => service::status(status),
    }
}

fn import(
    url: Option<String>,
    json: bool,
    path: &Path,
    batch: usize,
    out: Option<&Path>,
) -> Outcome {
    if !(1..=MAX_BATCH).contains(&batch) {
        return Err(Failure::with_hint(
            anyhow!("--batch {batch}: a call takes 1 to {MAX_BATCH} signings"),
            format!("use --batch {MAX_BATCH} (the default)"),
        ));
    }
    let signings = read_file(path)?;
    let mut out_file = match out {
        Some(p) => Some(std::io::BufWriter::new(
            std::fs::File::create(p)
                .map_err(|e| anyhow!("cannot write {}: {e}", p.display()))
                .hint("check the --out path")?,
        )),
        None => None,
    };
    let total = signings.len();
    let calls = total.div_ceil(batch);
    service::block_on(async move {
        let mut client = service::contracts(url).await?;
        let started = Instant::now();
        let (mut done, mut new_customers, mut receivables) = (0usize, 0usize, 0usize);
        let mut customers: Vec<String> = Vec::with_capacity(total);
        for (call, chunk) in signings.chunks(batch).enumerate() {
            let request = api::ImportContractsRequest {
                idempotency_key: chunk_key(chunk),
                signings: call_signings(chunk, done, &customers),
            };
            let answer = client
                .import_contracts(request)
                .await
                .map_err(|status| refused(status, chunk, done))?
                .into_inner();
            if answer.contracts.len() != chunk.len() {
                return Err(Failure::with_hint(
                    anyhow!(
                        "the service answered {} contracts for {} signings",
                        answer.contracts.len(),
                        chunk.len()
                    ),
                    "report this to the platform team with the file; run the same command again to retry",
                ));
            }
            for (read, created) in chunk.iter().zip(&answer.contracts) {
                customers.push(created.customer_id.clone());
                new_customers += usize::from(read.signing.customer.is_some());
                receivables += created.receivable_ids.len();
                if let Some(w) = out_file.as_mut() {
                    let row = serde_json::json!({
                        "line": read.line_no,
                        "contract_no": created.contract_no,
                        "contract_id": created.contract_id,
                        "customer_id": created.customer_id,
                        "receivable_ids": created.receivable_ids,
                    });
                    writeln!(w, "{row}")?;
                }
            }
            done += chunk.len();
            if !json {
                let rate = rate(done, started.elapsed().as_secs_f64());
                eprintln!(
                    "contracts import: {done} of {total} signings ({} of {calls} calls), {rate:.0}/s",
                    call + 1
                );
            }
        }
        if let Some(mut w) = out_file {
            w.flush()?;
        }
        let seconds = started.elapsed().as_secs_f64();
        let per_sec = rate(done, seconds);
        if json {
            return Ok(serde_json::to_string_pretty(&serde_json::json!({
                "contracts": done,
                "new_customers": new_customers,
                "receivables": receivables,
                "calls": calls,
                "seconds": (seconds * 10.0).round() / 10.0,
                "contracts_per_sec": per_sec.round(),
            }))?);
        }
        Ok(format!(
            "imported {done} contracts ({new_customers} new customers, {receivables} receivables) in {calls} calls, {seconds:.1} s ({per_sec:.0}/s)"
        ))
    })
}

fn rate(n: usize, seconds: f64) -> f64 {
    // Counts of signings in one file are far below 2^52: exact in an f64.
    #[allow(clippy::cast_precision_loss)]
    let n = n as f64;
    n / seconds.max(1e-9)
}

#[cfg(test)]
mod tests;
