//! `collectctl amendments`: changes a customer asked for (R-C8) — deferral, new schedule,
//! discount, late-fee terms — proposed by one person, approved or rejected by a supervisor
//! who is not the proposer, withdrawn by the proposer (contracts service).

use std::hash::{Hash, Hasher};
use std::path::PathBuf;

use clap::{Args, Subcommand};
use proto::contracts::v1 as api;
use proto::contracts::v1::amendment_terms::Kind;
use proto::types::v1 as types;

use crate::cli::{self, Failure, Outcome};
use crate::service;

#[derive(Args)]
pub(crate) struct AmendmentsArgs {
    /// The contracts service (default: $CONTRACTS_URL, else the local stack's port).
    #[arg(long, global = true)]
    contracts: Option<String>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: AmendmentsCommand,
}

#[derive(Subcommand)]
enum AmendmentsCommand {
    /// Propose an amendment of a contract; it takes effect when a supervisor approves it.
    /// Give exactly one of --defer-to/--defer-days, --discount/--discount-percent,
    /// --schedule, --fee-policy.
    Propose(ProposeArgs),
    /// Approve a proposed amendment (supervisors; never your own, R-C8).
    Approve {
        /// Amendment id.
        amendment_id: String,
    },
    /// Reject a proposed amendment (supervisors; never your own, R-C8).
    Reject {
        /// Amendment id.
        amendment_id: String,
        /// Why, for the record.
        #[arg(long)]
        reason: String,
    },
    /// Withdraw your own proposal.
    Withdraw {
        /// Amendment id.
        amendment_id: String,
    },
    /// Amendments, newest first: of one contract, or every one you may see.
    List {
        /// Only this contract's.
        #[arg(long)]
        contract: Option<String>,
        /// Only this status: proposed, approved, rejected or withdrawn.
        #[arg(long)]
        status: Option<String>,
    },
    /// One amendment with its terms and decision.
    Show {
        /// Amendment id.
        amendment_id: String,
    },
}

#[derive(Args)]
struct ProposeArgs {
    /// Contract id.
    contract_id: String,
    /// Installment numbers the deferral or discount is for, e.g. 2,3.
    #[arg(long, value_delimiter = ',')]
    items: Vec<u32>,
    /// Deferral: the new due date (moved off long holidays, R-C6).
    #[arg(long, value_parser = cli::parse_date)]
    defer_to: Option<chrono::NaiveDate>,
    /// Deferral: this many days later.
    #[arg(long)]
    defer_days: Option<u32>,
    /// Discount: this amount off each item's open principal, e.g. 500.00.
    #[arg(long)]
    discount: Option<String>,
    /// Discount: this percentage of each item's open principal, e.g. 10.
    #[arg(long)]
    discount_percent: Option<String>,
    /// New schedule: a JSON file of items replacing the open principal:
    /// [{"amount": "500.00", "due_date": "2027-01-10", "kind": "installment"}, …]
    /// (kind: deposit, down_payment, installment, final_payment, milestone; optional
    /// charge_type, default purchase_price).
    #[arg(long)]
    schedule: Option<PathBuf>,
    /// Fee change: the new late-fee policy (JSON file, format: services/money/README.md);
    /// "none" for no late fee from --effective on.
    #[arg(long)]
    fee_policy: Option<PathBuf>,
    /// Fee change: the first day the new terms apply.
    #[arg(long, value_parser = cli::parse_date)]
    effective: Option<chrono::NaiveDate>,
    /// Why the customer asked, for the record.
    #[arg(long)]
    reason: String,
    /// Idempotency key (default: derived from the command, so running the same command
    /// again returns the first proposal).
    #[arg(long)]
    key: Option<String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ScheduleItem {
    amount: String,
    due_date: String,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    charge_type: Option<String>,
}

fn item_kind(name: &str) -> Option<types::ScheduleItemKind> {
    Some(match name {
        "deposit" => types::ScheduleItemKind::Deposit,
        "down_payment" => types::ScheduleItemKind::DownPayment,
        "installment" => types::ScheduleItemKind::Installment,
        "final_payment" => types::ScheduleItemKind::FinalPayment,
        "milestone" => types::ScheduleItemKind::Milestone,
        _ => return None,
    })
}

fn charge_type(name: &str) -> Option<types::ChargeType> {
    Some(match name {
        "purchase_price" => types::ChargeType::PurchasePrice,
        "management_fee" => types::ChargeType::ManagementFee,
        "maintenance_fund" => types::ChargeType::MaintenanceFund,
        "water" => types::ChargeType::Water,
        "electricity" => types::ChargeType::Electricity,
        "gas" => types::ChargeType::Gas,
        _ => return None,
    })
}

fn usage(message: &str) -> Failure {
    Failure::with_hint(
        anyhow::anyhow!("{message}"),
        "give exactly one of --defer-to/--defer-days (with --items), --discount/--discount-percent (with --items), --schedule FILE.json, --fee-policy FILE.json --effective DATE",
    )
}

fn terms(args: &ProposeArgs) -> Result<api::AmendmentTerms, Failure> {
    let given = [
        args.defer_to.is_some() || args.defer_days.is_some(),
        args.discount.is_some() || args.discount_percent.is_some(),
        args.schedule.is_some(),
        args.fee_policy.is_some(),
    ];
    if given.iter().filter(|g| **g).count() != 1 {
        return Err(usage("which amendment?"));
    }
    let kind = if given[0] {
        Kind::Deferral(api::Deferral {
            installment_nos: args.items.clone(),
            to_date: args.defer_to.map(|d| d.to_string()).unwrap_or_default(),
            by_days: args.defer_days.unwrap_or_default(),
        })
    } else if given[1] {
        Kind::Discount(api::Discount {
            installment_nos: args.items.clone(),
            amount: args.discount.clone().unwrap_or_default(),
            percent: args.discount_percent.clone().unwrap_or_default(),
        })
    } else if let Some(path) = &args.schedule {
        let text = cli::read(path, "schedule file")?;
        let items: Vec<ScheduleItem> = serde_json::from_str(&text).map_err(|e| {
            Failure::with_hint(
                anyhow::anyhow!("{}: {e}", path.display()),
                r#"the schedule file is a JSON array like [{"amount": "500.00", "due_date": "2027-01-10", "kind": "installment"}]"#,
            )
        })?;
        let mut installments = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            let kind = match item.kind.as_deref() {
                None => types::ScheduleItemKind::Installment,
                Some(k) => item_kind(k).ok_or_else(|| {
                    usage(&format!(
                        "{}: item {i}: kind {k:?} is not deposit, down_payment, installment, final_payment or milestone",
                        path.display()
                    ))
                })?,
            };
            let charge = match item.charge_type.as_deref() {
                None => types::ChargeType::PurchasePrice,
                Some(c) => charge_type(c).ok_or_else(|| {
                    usage(&format!(
                        "{}: item {i}: charge_type {c:?} is unknown",
                        path.display()
                    ))
                })?,
            };
            installments.push(api::Installment {
                amount: item.amount,
                due_date: item.due_date,
                kind: kind as i32,
                charge_type: charge as i32,
                share: String::new(),
                interest_free: false,
            });
        }
        Kind::NewSchedule(api::NewSchedule { installments })
    } else {
        let path = args
            .fee_policy
            .as_ref()
            .ok_or_else(|| usage("which amendment?"))?;
        let policy = if path.as_os_str() == "none" {
            String::new()
        } else {
            cli::read(path, "late-fee policy file")?
        };
        let effective = args
            .effective
            .ok_or_else(|| usage("a fee change needs --effective DATE"))?;
        Kind::FeeChange(api::FeeChange {
            late_fee_policy: policy,
            effective_from: effective.to_string(),
        })
    };
    Ok(api::AmendmentTerms { kind: Some(kind) })
}

fn status_name(value: i32) -> &'static str {
    match api::AmendmentStatus::try_from(value) {
        Ok(api::AmendmentStatus::Proposed) => "proposed",
        Ok(api::AmendmentStatus::Approved) => "approved",
        Ok(api::AmendmentStatus::Rejected) => "rejected",
        Ok(api::AmendmentStatus::Withdrawn) => "withdrawn",
        _ => "unknown",
    }
}

fn status_value(name: &str) -> Result<api::AmendmentStatus, Failure> {
    Ok(match name {
        "proposed" => api::AmendmentStatus::Proposed,
        "approved" => api::AmendmentStatus::Approved,
        "rejected" => api::AmendmentStatus::Rejected,
        "withdrawn" => api::AmendmentStatus::Withdrawn,
        other => {
            return Err(Failure::with_hint(
                anyhow::anyhow!("unknown status {other:?}"),
                "use proposed, approved, rejected or withdrawn",
            ));
        }
    })
}

/// The terms in words.
fn describe(terms: Option<&api::AmendmentTerms>) -> String {
    let items = |nos: &[u32]| {
        nos.iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    match terms.and_then(|t| t.kind.as_ref()) {
        Some(Kind::Deferral(d)) if d.by_days > 0 => {
            format!(
                "defer installment(s) {} by {} days",
                items(&d.installment_nos),
                d.by_days
            )
        }
        Some(Kind::Deferral(d)) => format!(
            "defer installment(s) {} to {}",
            items(&d.installment_nos),
            d.to_date
        ),
        Some(Kind::Discount(d)) if !d.percent.is_empty() => format!(
            "discount {} % off installment(s) {}",
            d.percent,
            items(&d.installment_nos)
        ),
        Some(Kind::Discount(d)) => format!(
            "discount {} off installment(s) {}",
            d.amount,
            items(&d.installment_nos)
        ),
        Some(Kind::NewSchedule(s)) => {
            let parts: Vec<String> = s
                .installments
                .iter()
                .map(|i| format!("{} due {}", i.amount, i.due_date))
                .collect();
            format!("new schedule: {}", parts.join("; "))
        }
        Some(Kind::FeeChange(f)) if f.late_fee_policy.is_empty() => {
            format!("no late fee from {}", f.effective_from)
        }
        Some(Kind::FeeChange(f)) => format!(
            "new late-fee terms from {}: {}",
            f.effective_from, f.late_fee_policy
        ),
        None => "unknown terms".to_owned(),
    }
}

fn to_json(a: &api::Amendment) -> serde_json::Value {
    serde_json::json!({
        "amendment_id": a.amendment_id,
        "contract_id": a.contract_id,
        "contract_no": a.contract_no,
        "customer_id": a.customer_id,
        "status": status_name(a.status),
        "terms": describe(a.terms.as_ref()),
        "reason": a.reason,
        "proposed_by": a.proposed_by,
        "proposed_at": a.proposed_at,
        "decided_by": a.decided_by,
        "decided_at": a.decided_at,
        "decision_reason": a.decision_reason,
        "base_version": a.base_version,
        "version": a.version,
    })
}

fn to_text(a: &api::Amendment) -> String {
    let mut text = format!(
        "{}  {:<9}  {} ({})\n    {}\n    proposed by {} at {}: {}",
        a.amendment_id,
        status_name(a.status),
        a.contract_no,
        a.contract_id,
        describe(a.terms.as_ref()),
        a.proposed_by,
        a.proposed_at,
        a.reason
    );
    if !a.decided_by.is_empty() {
        text.push_str(&format!(
            "\n    {} by {} at {}",
            status_name(a.status),
            a.decided_by,
            a.decided_at
        ));
        if !a.decision_reason.is_empty() {
            text.push_str(&format!(": {}", a.decision_reason));
        }
    }
    if a.version > 0 {
        text.push_str(&format!(
            "\n    schedule version {} (was {})",
            a.version, a.base_version
        ));
    }
    text
}

fn default_key(args: &ProposeArgs, terms: &api::AmendmentTerms) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    args.contract_id.hash(&mut hasher);
    args.reason.hash(&mut hasher);
    format!("{terms:?}").hash(&mut hasher);
    format!("collectctl:{}:{:016x}", args.contract_id, hasher.finish())
}

fn show(json: bool, a: &api::Amendment, head: &str) -> Outcome {
    if json {
        return Ok(serde_json::to_string_pretty(&to_json(a))?);
    }
    Ok(format!("{head}{}", to_text(a)))
}

pub(crate) fn run(args: AmendmentsArgs) -> Outcome {
    service::block_on(async move {
        let mut client = service::contracts(args.contracts).await?;
        match args.command {
            AmendmentsCommand::Propose(p) => {
                let terms = terms(&p)?;
                let key = p.key.clone().unwrap_or_else(|| default_key(&p, &terms));
                let a = client
                    .propose_amendment(api::ProposeAmendmentRequest {
                        idempotency_key: key,
                        contract_id: p.contract_id.clone(),
                        terms: Some(terms),
                        reason: p.reason.clone(),
                    })
                    .await
                    .map_err(service::status)?
                    .into_inner()
                    .amendment
                    .unwrap_or_default();
                if args.json {
                    return Ok(serde_json::to_string_pretty(&to_json(&a))?);
                }
                Ok(format!(
                    "proposed: {}\na supervisor other than you approves it: collectctl amendments approve {}",
                    to_text(&a),
                    a.amendment_id
                ))
            }
            AmendmentsCommand::Approve { amendment_id } => {
                let r = client
                    .approve_amendment(api::ApproveAmendmentRequest { amendment_id })
                    .await
                    .map_err(service::status)?
                    .into_inner();
                let a = r.amendment.unwrap_or_default();
                show(args.json, &a, "approved, in effect: ")
            }
            AmendmentsCommand::Reject {
                amendment_id,
                reason,
            } => {
                let a = client
                    .reject_amendment(api::RejectAmendmentRequest {
                        amendment_id,
                        reason,
                    })
                    .await
                    .map_err(service::status)?
                    .into_inner()
                    .amendment
                    .unwrap_or_default();
                show(args.json, &a, "rejected: ")
            }
            AmendmentsCommand::Withdraw { amendment_id } => {
                let a = client
                    .withdraw_amendment(api::WithdrawAmendmentRequest { amendment_id })
                    .await
                    .map_err(service::status)?
                    .into_inner()
                    .amendment
                    .unwrap_or_default();
                show(args.json, &a, "withdrawn: ")
            }
            AmendmentsCommand::Show { amendment_id } => {
                let a = client
                    .get_amendment(api::GetAmendmentRequest { amendment_id })
                    .await
                    .map_err(service::status)?
                    .into_inner()
                    .amendment
                    .unwrap_or_default();
                show(args.json, &a, "")
            }
            AmendmentsCommand::List { contract, status } => {
                let status = match status.as_deref() {
                    Some(s) => status_value(s)? as i32,
                    None => 0,
                };
                let all = service::all_pages(|page_token| {
                    let mut client = client.clone();
                    let request = api::ListAmendmentsRequest {
                        contract_id: contract.clone().unwrap_or_default(),
                        status,
                        page_size: 100,
                        page_token,
                    };
                    async move {
                        let page = client.list_amendments(request).await?.into_inner();
                        Ok((page.amendments, page.next_page_token))
                    }
                })
                .await?;
                if args.json {
                    return Ok(serde_json::to_string_pretty(&serde_json::json!({
                        "amendments": all.iter().map(to_json).collect::<Vec<_>>(),
                    }))?);
                }
                if all.is_empty() {
                    return Ok("no amendments".to_owned());
                }
                Ok(all.iter().map(to_text).collect::<Vec<_>>().join("\n"))
            }
        }
    })
}
