//! Allocation order (R-P11): what the payer names first; otherwise (Civil Code art. 560)
//! debts already due before those not yet due, then the earliest due first; equal on all
//! counts (same due date), pro rata. Security and burden are not in the receivables data, so
//! they cannot rank debts here; within one receivable (art. 561: costs, interest, principal)
//! the receivable's open amount is one figure. Allocations never exceed the payment or a
//! receivable's open amount.

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::decision::AllocationOrder;

/// An open receivable offered to the plan.
#[derive(Debug, Clone)]
pub(crate) struct Slot<'a> {
    pub(crate) item: u32,
    pub(crate) id: &'a str,
    pub(crate) due: NaiveDate,
    pub(crate) open: Decimal,
    pub(crate) named: bool,
}

/// The result: amounts per slot (in plan order, zero amounts left out), and the surplus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) parts: Vec<(usize, Decimal)>,
    pub(crate) surplus: Decimal,
    pub(crate) order: AllocationOrder,
}

/// Sort `slots` into R-P11 order (in place) and allocate `amount` over them. `unit` is the
/// currency's smallest unit (0.01 for CNY), the granularity of pro-rata shares.
pub(crate) fn plan(amount: Decimal, on: NaiveDate, slots: &mut [Slot<'_>], unit: Decimal) -> Plan {
    slots.sort_by(|a, b| {
        (!a.named, a.due > on, a.due, &a.id).cmp(&(!b.named, b.due > on, b.due, &b.id))
    });
    let order = if slots.iter().any(|s| s.named) {
        AllocationOrder::PayerNamed
    } else {
        AllocationOrder::Statutory
    };
    let mut parts = Vec::with_capacity(slots.len());
    let mut remaining = amount.max(Decimal::ZERO);
    let mut start = 0;
    while start < slots.len() && remaining > Decimal::ZERO {
        let key = |s: &Slot<'_>| (s.named, s.due > on, s.due);
        let Some(first) = slots.get(start) else { break };
        let k = key(first);
        let end = slots
            .iter()
            .skip(start)
            .position(|s| key(s) != k)
            .map_or(slots.len(), |n| start + n);
        let group = slots.get(start..end).unwrap_or_default();
        let total: Decimal = group.iter().map(|s| s.open).sum();
        if total > remaining && start > 0 && !k.0 && k.1 {
            // A surplus does not partly prepay a debt not yet due that nobody named: it stays
            // unapplied and flagged (R-P4 overpayment), for a person to refund or credit.
            break;
        }
        if total <= remaining {
            for (i, s) in group.iter().enumerate() {
                if s.open > Decimal::ZERO {
                    parts.push((start + i, s.open));
                }
            }
            remaining -= total;
        } else {
            pro_rata(remaining, group, start, unit, &mut parts);
            remaining = Decimal::ZERO;
        }
        start = end;
    }
    Plan {
        parts,
        surplus: remaining,
        order,
    }
}

/// Share `amount` (less than the group's total) in proportion to the open amounts, rounded
/// down to the unit; the units left over go one by one in id order.
fn pro_rata(
    amount: Decimal,
    group: &[Slot<'_>],
    offset: usize,
    unit: Decimal,
    parts: &mut Vec<(usize, Decimal)>,
) {
    let total: Decimal = group.iter().map(|s| s.open).sum();
    if group.len() == 1 || total.is_zero() {
        if let Some(s) = group.first() {
            parts.push((offset, amount.min(s.open)));
        }
        return;
    }
    let dp = unit.scale();
    let mut shares: Vec<Decimal> = group
        .iter()
        .map(|s| {
            amount
                .checked_mul(s.open)
                .and_then(|x| x.checked_div(total))
                .unwrap_or(Decimal::ZERO)
                .round_dp_with_strategy(dp, RoundingStrategy::ToZero)
                .min(s.open)
        })
        .collect();
    let mut left = amount - shares.iter().copied().sum::<Decimal>();
    while left > Decimal::ZERO {
        let mut moved = false;
        for (share, s) in shares.iter_mut().zip(group) {
            if left <= Decimal::ZERO {
                break;
            }
            let step = unit.min(left);
            if *share + step <= s.open {
                *share += step;
                left -= step;
                moved = true;
            }
        }
        if !moved {
            break;
        }
    }
    for (i, share) in shares.into_iter().enumerate() {
        if share > Decimal::ZERO {
            parts.push((offset + i, share));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, m, day).unwrap_or_default()
    }

    const IDS: [&str; 4] = ["R0", "R1", "R2", "R3"];

    fn slot(item: u32, due: NaiveDate, open: i64, named: bool) -> Slot<'static> {
        Slot {
            item,
            id: IDS.get(item as usize).copied().unwrap_or("R"),
            due,
            open: Decimal::new(open, 2),
            named,
        }
    }

    fn amounts(p: &Plan, slots: &[Slot<'_>]) -> Vec<(u32, Decimal)> {
        p.parts
            .iter()
            .map(|(i, a)| (slots.get(*i).map_or(0, |s| s.item), *a))
            .collect()
    }

    #[test]
    fn due_before_not_yet_due_then_oldest_first() {
        // R-P11: art. 560 order.
        let mut s = vec![
            slot(1, d(5, 1), 10000, false),
            slot(2, d(2, 1), 10000, false),
            slot(3, d(3, 1), 10000, false),
        ];
        let p = plan(Decimal::new(30000, 2), d(4, 1), &mut s, Decimal::new(1, 2));
        assert_eq!(
            amounts(&p, &s),
            vec![
                (2, Decimal::new(10000, 2)),
                (3, Decimal::new(10000, 2)),
                (1, Decimal::new(10000, 2))
            ]
        );
        assert_eq!(p.order, AllocationOrder::Statutory);
        let p = plan(Decimal::new(15000, 2), d(4, 1), &mut s, Decimal::new(1, 2));
        assert_eq!(
            amounts(&p, &s),
            vec![(2, Decimal::new(10000, 2)), (3, Decimal::new(5000, 2))]
        );
    }

    #[test]
    fn payer_designation_wins() {
        // R-P11: what the payer names first.
        let mut s = vec![
            slot(1, d(1, 1), 10000, false),
            slot(2, d(3, 1), 10000, true),
        ];
        let p = plan(Decimal::new(15000, 2), d(4, 1), &mut s, Decimal::new(1, 2));
        assert_eq!(
            amounts(&p, &s),
            vec![(2, Decimal::new(10000, 2)), (1, Decimal::new(5000, 2))]
        );
        assert_eq!(p.order, AllocationOrder::PayerNamed);
    }

    #[test]
    fn equal_due_dates_pro_rata_to_the_fen() {
        // R-P11: equal on all counts, pro rata.
        let mut s = vec![
            slot(1, d(1, 1), 10000, false),
            slot(2, d(1, 1), 20000, false),
            slot(3, d(1, 1), 10000, false),
        ];
        let p = plan(Decimal::new(10001, 2), d(4, 1), &mut s, Decimal::new(1, 2));
        let total: Decimal = p.parts.iter().map(|(_, a)| *a).sum();
        assert_eq!(total, Decimal::new(10001, 2));
        assert_eq!(
            amounts(&p, &s),
            vec![
                (1, Decimal::new(2501, 2)),
                (2, Decimal::new(5000, 2)),
                (3, Decimal::new(2500, 2))
            ]
        );
    }

    #[test]
    fn surplus_does_not_partly_prepay_a_debt_not_yet_due() {
        let mut s = vec![
            slot(1, d(3, 1), 10000, false),
            slot(2, d(5, 1), 10000, false),
        ];
        let p = plan(Decimal::new(15000, 2), d(3, 5), &mut s, Decimal::new(1, 2));
        assert_eq!(amounts(&p, &s), vec![(1, Decimal::new(10000, 2))]);
        assert_eq!(p.surplus, Decimal::new(5000, 2));
        // The first debt may be paid in part even before it is due.
        let p = plan(Decimal::new(5000, 2), d(2, 20), &mut s, Decimal::new(1, 2));
        assert_eq!(amounts(&p, &s), vec![(1, Decimal::new(5000, 2))]);
    }

    #[test]
    fn surplus_is_left() {
        let mut s = vec![slot(1, d(1, 1), 10000, false)];
        let p = plan(Decimal::new(12000, 2), d(4, 1), &mut s, Decimal::new(1, 2));
        assert_eq!(p.surplus, Decimal::new(2000, 2));
    }
}
