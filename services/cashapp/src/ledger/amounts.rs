//! The amount side of a candidate: the allocation plan (R-P11), how the amount fits (exact,
//! several, within the write-off tolerance R-P12, partial, over), and the unit and date
//! evidence.

use rust_decimal::Decimal;

use super::Batch;
use super::probe::Probe;
use super::score::Scored;
use crate::allocate::{Slot, plan};
use crate::decision::{Allocation, AllocationOrder, WriteOff};
use crate::evidence::{AmountFit, Evidence};
use crate::ident::Text;
use crate::model::{Ccy, Payment, unit};

/// Plan the allocation and add the amount, unit and date evidence.
pub(crate) fn allocate(
    batch: &Batch<'_>,
    p: &Payment,
    probe: &Probe,
    slots: &mut [Slot<'_>],
    s: &mut Scored,
) {
    let ledger = batch.ledger;
    let policy = &ledger.policy;
    let plan = plan(
        s.booked,
        p.date,
        slots,
        unit(s.currency.as_ref().map_or("CNY", Ccy::as_str)),
    );
    s.order = plan.order;
    s.allocations.reserve_exact(plan.parts.len());
    s.surplus = plan.surplus;
    for (i, amount) in &plan.parts {
        let Some(slot) = slots.get(*i) else { continue };
        let Some(item) = ledger.items.get(slot.item as usize) else {
            continue;
        };
        let contract_no = ledger
            .contracts
            .get(item.contract as usize)
            .map_or_else(|| Text::from(""), |c| c.no.clone());
        s.allocations.push(Allocation {
            receivable_id: item.id.clone(),
            contract_no,
            due_date: item.due,
            amount: *amount,
            open_before: slot.open,
            open_after: slot.open - *amount,
            payment_no: batch.payments(slot.item).saturating_add(1),
            item: slot.item,
        });
    }
    let tolerance = policy.write_off_tolerance;
    let items = s.allocations.len();
    let (fit, difference) = if plan.surplus > Decimal::ZERO {
        if plan.surplus <= tolerance {
            (AmountFit::WithinTolerance, plan.surplus)
        } else {
            (AmountFit::Over, plan.surplus)
        }
    } else {
        let remaining = s.allocations.last().map_or(Decimal::ZERO, |a| a.open_after);
        if remaining.is_zero() {
            (
                if items > 1 {
                    AmountFit::Several
                } else {
                    AmountFit::One
                },
                Decimal::ZERO,
            )
        } else if remaining <= tolerance {
            let needs_approval = remaining > policy.write_off_approval_above;
            if let Some(last) = s.allocations.last_mut() {
                if !needs_approval {
                    last.open_after = Decimal::ZERO;
                }
                s.write_off = Some(WriteOff {
                    receivable_id: last.receivable_id.clone(),
                    amount: remaining,
                    reason: "small difference (bank charges, rounding) within the write-off tolerance (R-P12)",
                    needs_approval,
                });
            }
            (AmountFit::WithinTolerance, remaining)
        } else {
            (AmountFit::Partial, remaining)
        }
    };
    s.fit = Some(fit);
    s.evidence.push(Evidence::Amount {
        fit,
        items,
        difference,
    });
    // What the customer has open in scope (for a clerk reading an amount mismatch).
    s.open_total = slots.iter().map(|x| x.open).sum();
    s.open_count = slots.len();
    if matches!(fit, AmountFit::Partial | AmountFit::Over) {
        s.open_list = slots.iter().map(|x| (x.item, x.open)).collect();
    }
    // R-P11, issue 19: nothing names what is paid, the statutory order does not pay one item
    // exactly, but another single open item equals the amount. Both are shown; a person
    // chooses (R-P5: not guessed). Among several such items, the first in statutory order.
    if plan.order == AllocationOrder::Statutory && fit != AmountFit::One {
        s.single_fit = slots.iter().find(|x| x.open == s.booked).and_then(|x| {
            let item = ledger.items.get(x.item as usize)?;
            Some(Allocation {
                receivable_id: item.id.clone(),
                contract_no: ledger
                    .contracts
                    .get(item.contract as usize)
                    .map_or_else(|| Text::from(""), |c| c.no.clone()),
                due_date: item.due,
                amount: x.open,
                open_before: x.open,
                open_after: Decimal::ZERO,
                payment_no: batch.payments(x.item).saturating_add(1),
                item: x.item,
            })
        });
        if let Some(a) = &s.single_fit {
            s.evidence.push(Evidence::SingleItemFits {
                receivable: a.receivable_id.clone(),
                due: a.due_date,
            });
        }
    }
    let unit_named = s.allocations.first().and_then(|a| {
        let item = ledger.items.get(a.item as usize)?;
        let (unit, key) = ledger
            .contracts
            .get(item.contract as usize)?
            .unit
            .as_ref()?;
        let text = probe.compact_text.get_or_init(|| {
            let mut t = String::new();
            for x in [p.payment_reference.as_deref(), p.remittance.as_deref()]
                .into_iter()
                .flatten()
            {
                crate::text::push_compact(&mut t, x);
            }
            t
        });
        (key.len() >= 3 && text.contains(&**key)).then(|| unit.clone())
    });
    if let Some(unit) = unit_named {
        s.evidence.push(Evidence::UnitNamed { unit });
    }
    if let Some(first) = s.allocations.first() {
        let days = (p.date - first.due_date).num_days();
        if days.abs() <= i64::from(policy.date_window_days) {
            s.evidence.push(Evidence::DateNearDue { days });
        }
    }
}

/// True when `amount` equals the open amounts of the oldest open items of `contract`.
pub(crate) fn fits_exactly(batch: &Batch<'_>, contract: u32, amount: Decimal) -> bool {
    let ledger = batch.ledger;
    let Some(c) = ledger.contracts.get(contract as usize) else {
        return false;
    };
    let mut open: Vec<(chrono::NaiveDate, Decimal)> = c
        .items
        .iter()
        .filter_map(|&i| {
            let o = batch.open(i);
            (o > Decimal::ZERO).then(|| (ledger.items.get(i as usize).map(|x| x.due), o))
        })
        .filter_map(|(d, o)| d.map(|d| (d, o)))
        .collect();
    open.sort();
    let mut sum = Decimal::ZERO;
    for (_, o) in open {
        sum += o;
        if sum == amount {
            return true;
        }
        if sum > amount {
            return false;
        }
    }
    false
}

/// The number a receivable id ends with (`HT-2023-017-00123-03` → 3), if it ends with digits
/// after a separator.
pub(crate) fn trailing_number(id: &str) -> Option<u16> {
    let digits = id.len() - id.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let head = id.get(..id.len() - digits)?;
    if digits == 0 || digits > 3 || !head.ends_with(['-', '_', '/', '#', '.']) {
        return None;
    }
    id.get(id.len() - digits..)?.parse().ok()
}
