//! Allocation order (R-P11) for cash application: the receivables a payment may settle,
//! handed to the platform's one rule ([`money::allocation`]): what the payer names first;
//! otherwise (Civil Code art. 560) debts already due before those not yet due, then the
//! earliest due first; equal on all counts (same due date), pro rata. Security and burden are
//! not in payments' receivables read model yet, so all debts rank equal on them here; within
//! one receivable the open amount is one figure. Allocations never exceed the payment or a
//! receivable's open amount.

use chrono::NaiveDate;
use money::allocation::{Basis, Debt, OrderTerms, Owed, Security, allocate};
use rust_decimal::Decimal;

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

/// Sort `slots` into R-P11 order (in place) and allocate `amount` over them with the
/// platform's one allocation rule ([`money::allocation`], which contracts books with too).
/// `unit` is the currency's smallest unit (0.01 for CNY), the granularity of pro-rata shares.
pub(crate) fn plan(amount: Decimal, on: NaiveDate, slots: &mut [Slot<'_>], unit: Decimal) -> Plan {
    slots.sort_by(|a, b| {
        (!a.named, a.due > on, a.due, &a.id).cmp(&(!b.named, b.due > on, b.due, &b.id))
    });
    // Sorted, the index is the identity and its order the final tie-breaker (the id's).
    let debts: Vec<Debt<usize>> = slots
        .iter()
        .enumerate()
        .map(|(i, s)| Debt {
            key: i,
            due: s.due,
            security: Security::Unsecured,
            burden: Decimal::ZERO,
            named: s.named,
            owed: Owed::principal(s.open),
        })
        .collect();
    let allocation = allocate(amount, on, &debts, &OrderTerms::Statutory, unit);
    let mut parts: Vec<(usize, Decimal)> = Vec::with_capacity(allocation.parts.len());
    for part in allocation.parts {
        match parts.last_mut() {
            Some((i, a)) if *i == part.debt => *a += part.amount,
            _ => parts.push((part.debt, part.amount)),
        }
    }
    Plan {
        parts,
        surplus: allocation.unapplied,
        order: match allocation.basis {
            Basis::PayerNamed => AllocationOrder::PayerNamed,
            Basis::Statutory | Basis::Agreed => AllocationOrder::Statutory,
        },
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
