//! Amendment requests from the wire into the domain's terms: every field checked, with the
//! field named in the error.

use rust_decimal::Decimal;

use kit::{ApiError, wire};
use proto::contracts::v1 as api;
use proto::contracts::v1::amendment_terms::Kind as WireKind;

use crate::domain::amendment::{AmendError, AmendmentKind, Cut, DeferTo, NewItem};
use crate::domain::schedule::{self, Billed, RequestedItem};
use crate::terms::Terms;

/// Most items a new schedule may have.
const MAX_ITEMS: usize = 600;
/// The longest deferral by days (ten years).
const MAX_DEFER_DAYS: u32 = 3650;

pub(super) fn amend_error(e: AmendError) -> ApiError {
    ApiError::invalid(e.field, e.reason)
}

/// The currency's smallest unit.
pub(super) fn unit_of(currency: &str) -> Result<Decimal, ApiError> {
    money::Currency::from_code(currency)
        .map(|c| Decimal::new(1, c.minor_units()))
        .map_err(|e| ApiError::invalid("currency", e.to_string()))
}

fn installment_nos(field: &str, nos: &[u32]) -> Result<Vec<u32>, ApiError> {
    if nos.is_empty() {
        return Err(ApiError::invalid(
            field,
            "name at least one installment number (1, 2, …) of the contract",
        ));
    }
    if nos.len() > MAX_ITEMS {
        return Err(ApiError::invalid(
            field,
            format!("at most {MAX_ITEMS} items"),
        ));
    }
    Ok(nos.to_vec())
}

/// Parses the wire terms into the domain's, planning new due dates (R-C6) and checking a
/// new schedule like CreateContract's (R-C1) and a policy like the contract's (R-C4).
pub(super) fn parse_terms(
    wire_terms: Option<&api::AmendmentTerms>,
    currency: &str,
    terms: &Terms,
) -> Result<AmendmentKind, ApiError> {
    let Some(kind) = wire_terms.and_then(|t| t.kind.as_ref()) else {
        return Err(ApiError::invalid(
            "terms",
            "give one of deferral, new_schedule, discount or fee_change",
        ));
    };
    Ok(match kind {
        WireKind::Deferral(d) => {
            let items = installment_nos("terms.deferral.installment_nos", &d.installment_nos)?;
            let to = match (d.to_date.trim(), d.by_days) {
                ("", 0) => {
                    return Err(ApiError::invalid(
                        "terms.deferral.to_date",
                        "give the new due date (to_date) or the number of days (by_days)",
                    ));
                }
                (date, 0) => DeferTo::Date(wire::date("terms.deferral.to_date", date)?),
                ("", days) if days <= MAX_DEFER_DAYS => DeferTo::Days(days),
                ("", _) => {
                    return Err(ApiError::invalid(
                        "terms.deferral.by_days",
                        format!(
                            "at most {MAX_DEFER_DAYS} days; for longer, propose a new schedule"
                        ),
                    ));
                }
                _ => {
                    return Err(ApiError::invalid(
                        "terms.deferral.by_days",
                        "give either to_date or by_days, not both",
                    ));
                }
            };
            AmendmentKind::Deferral { items, to }
        }
        WireKind::Discount(d) => {
            let items = installment_nos("terms.discount.installment_nos", &d.installment_nos)?;
            let cut = match (d.amount.trim(), d.percent.trim()) {
                ("", "") => {
                    return Err(ApiError::invalid(
                        "terms.discount.amount",
                        "give the amount off each item (amount) or a percentage of its open principal (percent)",
                    ));
                }
                (amount, "") => Cut::Amount(wire::positive_amount(
                    "terms.discount.amount",
                    amount,
                    currency,
                )?),
                ("", percent) => {
                    let p: Decimal = percent.parse().map_err(|_| {
                        ApiError::invalid(
                            "terms.discount.percent",
                            format!("{percent:?} is not a percentage like 10 or 12.5"),
                        )
                    })?;
                    if p <= Decimal::ZERO || p > Decimal::ONE_HUNDRED {
                        return Err(ApiError::invalid(
                            "terms.discount.percent",
                            format!("{p} is not a percentage above 0 and at most 100"),
                        ));
                    }
                    Cut::Percent(p)
                }
                _ => {
                    return Err(ApiError::invalid(
                        "terms.discount.percent",
                        "give either amount or percent, not both",
                    ));
                }
            };
            AmendmentKind::Discount { items, cut }
        }
        WireKind::FeeChange(f) => {
            let effective_from = wire::date("terms.fee_change.effective_from", &f.effective_from)?;
            let policy = match f.late_fee_policy.trim() {
                "" => None,
                json => {
                    terms.parse_policy(json).map_err(|e| match e {
                        ApiError::Invalid { reason, .. } => {
                            ApiError::invalid("terms.fee_change.late_fee_policy", reason)
                        }
                        other => other,
                    })?;
                    Some(json.to_owned())
                }
            };
            AmendmentKind::FeeChange {
                policy,
                effective_from,
            }
        }
        WireKind::NewSchedule(s) => AmendmentKind::NewSchedule {
            items: parse_new_schedule(&s.installments, currency, terms)?,
        },
    })
}

/// A new schedule's items, checked like CreateContract's (R-C1) and planned (R-C6).
fn parse_new_schedule(
    installments: &[api::Installment],
    currency: &str,
    terms: &Terms,
) -> Result<Vec<NewItem>, ApiError> {
    const FIELD: &str = "terms.new_schedule.installments";
    if installments.is_empty() {
        return Err(ApiError::invalid(FIELD, "give at least one item"));
    }
    if installments.len() > MAX_ITEMS {
        return Err(ApiError::invalid(
            FIELD,
            format!("at most {MAX_ITEMS} items"),
        ));
    }
    let mut requested = Vec::with_capacity(installments.len());
    for (i, it) in installments.iter().enumerate() {
        let field = |name: &str| format!("{FIELD}[{i}].{name}");
        if !it.share.trim().is_empty() {
            return Err(ApiError::invalid(
                field("share"),
                "a new schedule gives amounts; shares are of a contract's price at signing",
            ));
        }
        requested.push(RequestedItem {
            kind: crate::wire::kind_from_wire(it.kind)
                .ok_or_else(|| ApiError::invalid(field("kind"), "unknown schedule item kind"))?,
            charge_type: crate::wire::charge_from_wire(it.charge_type)
                .ok_or_else(|| ApiError::invalid(field("charge_type"), "unknown charge type"))?,
            billed: Billed::Amount(wire::positive_amount(
                &field("amount"),
                &it.amount,
                currency,
            )?),
            due: wire::date(&field("due_date"), &it.due_date)?,
        });
    }
    let planned = schedule::plan(&requested, None, unit_of(currency)?).map_err(|e| {
        let field = match e.item {
            Some(i) => format!("{FIELD}[{i}].{}", e.field),
            None => FIELD.to_owned(),
        };
        ApiError::invalid(field, e.reason)
    })?;
    planned
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let due = terms.plan(&format!("{FIELD}[{i}].due_date"), p.due)?;
            Ok(NewItem {
                kind: p.kind,
                charge_type: p.charge_type,
                amount: p.amount,
                scheduled: p.due,
                due: due.due,
                provisional: due.provisional,
            })
        })
        .collect()
}
