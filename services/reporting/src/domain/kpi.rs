//! The period's KPIs (R-O1, R-O7), per currency, from the items' principal.
//!
//! - opening: open principal at the end of the day before `from`; closing: at the end of `to`;
//!   closing current: the part of closing not past due at `to`.
//! - sales (credit sales of the period): principal billed within the period, with the net
//!   change of amendments within it (a restructured schedule is neither sold nor collected).
//! - collected, waived, written off: principal lowered by each within the period; opening +
//!   sales − closing = collected + waived + written off.
//! - collectible: what could be collected in the period, i.e. the open principal of items past
//!   due at its start plus the items falling due within it; collection rate = principal
//!   collected on those items within the period / collectible.
//! - overdue rate = past-due principal at `to` / closing.
//! - DSO = closing / sales × days of the period (R-O7).
//! - CEI = (opening + sales − closing) / (opening + sales − closing current) × 100 (R-O7).
//! - average collection days: days from due date to payment, weighted by principal paid.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::{Item, MovementKind, percent, two_places};

/// The KPIs of one currency over one period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kpis {
    pub currency: String,
    pub opening: Decimal,
    pub closing: Decimal,
    pub closing_current: Decimal,
    pub sales: Decimal,
    pub collected: Decimal,
    pub waived: Decimal,
    pub written_off: Decimal,
    pub collectible: Decimal,
    pub collected_on_collectible: Decimal,
    pub collection_rate: Option<Decimal>,
    pub overdue_rate: Option<Decimal>,
    pub dso: Option<Decimal>,
    pub cei: Option<Decimal>,
    pub average_collection_days: Option<Decimal>,
    /// Days in the period, both ends included.
    pub days: u32,
}

/// R-O7: CEI = (opening + sales − closing) / (opening + sales − closing current) × 100, two
/// decimals; `None` when the denominator is zero or less.
#[must_use]
pub fn cei(
    opening: Decimal,
    sales: Decimal,
    closing: Decimal,
    closing_current: Decimal,
) -> Option<Decimal> {
    percent(opening + sales - closing, opening + sales - closing_current)
}

/// R-O7: DSO = closing / sales × days, two decimals; `None` without sales.
#[must_use]
pub fn dso(closing: Decimal, sales: Decimal, days: u32) -> Option<Decimal> {
    if sales <= Decimal::ZERO {
        return None;
    }
    Some(two_places(closing * Decimal::from(days) / sales))
}

/// The KPIs of `items` over `from..=to`, one per currency (sorted). `from` must not be after
/// `to` (the caller checks and names the fields).
pub fn kpis<'a>(
    items: impl IntoIterator<Item = &'a Item>,
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<Kpis> {
    #[derive(Default)]
    struct Sums {
        opening: Decimal,
        closing: Decimal,
        closing_current: Decimal,
        sales: Decimal,
        collected: Decimal,
        waived: Decimal,
        written_off: Decimal,
        collectible: Decimal,
        collected_on_collectible: Decimal,
        paid_days: Decimal,
    }
    let before = from.pred_opt().unwrap_or(from);
    let mut by_currency: BTreeMap<&str, Sums> = BTreeMap::new();
    for item in items {
        let s = by_currency.entry(&item.currency).or_default();
        let opening = item.balance_at(before);
        let closing = item.balance_at(to);
        s.opening += opening;
        s.closing += closing;
        if item.days_past_due(to) <= 0 {
            s.closing_current += closing;
        }
        if item.billed_on >= from && item.billed_on <= to {
            s.sales += item.amount;
        }
        s.sales -= item.lowered_by(MovementKind::Amended, from, to);
        let collected = item.lowered_by(MovementKind::Paid, from, to);
        s.collected += collected;
        s.waived += item.lowered_by(MovementKind::Waived, from, to);
        s.written_off += item.lowered_by(MovementKind::WrittenOff, from, to);
        // Collectible: past due at the start (its open principal then) or falling due within
        // the period (its principal as it stood when the period began, or as billed).
        if item.due <= to && item.billed_on <= to {
            let at_start = if item.billed_on < from {
                opening
            } else {
                item.amount
            };
            if at_start > Decimal::ZERO {
                s.collectible += at_start;
                s.collected_on_collectible += collected.min(at_start);
            }
        }
        for m in &item.movements {
            if m.kind == MovementKind::Paid && m.on >= from && m.on <= to {
                s.paid_days += -m.principal * Decimal::from((m.on - item.due).num_days());
            }
        }
    }
    let days = u32::try_from((to - from).num_days() + 1).unwrap_or(0);
    by_currency
        .into_iter()
        .map(|(currency, s)| Kpis {
            currency: currency.to_owned(),
            collection_rate: percent(s.collected_on_collectible, s.collectible),
            overdue_rate: percent(s.closing - s.closing_current, s.closing),
            dso: dso(s.closing, s.sales, days),
            cei: cei(s.opening, s.sales, s.closing, s.closing_current),
            average_collection_days: (s.collected > Decimal::ZERO)
                .then(|| two_places(s.paid_days / s.collected)),
            opening: s.opening,
            closing: s.closing,
            closing_current: s.closing_current,
            sales: s.sales,
            collected: s.collected,
            waived: s.waived,
            written_off: s.written_off,
            collectible: s.collectible,
            collected_on_collectible: s.collected_on_collectible,
            days,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::tests::{date, item, moved};
    use proptest::prelude::*;

    fn d(text: &str) -> Decimal {
        text.parse().expect("decimal")
    }

    #[test]
    fn cei_on_published_worked_examples_r_o7() {
        // creditguru.com, "Collection Effectiveness Index (CEI)": Jan–Mar, beginning
        // receivables 6,200, credit sales 10,890 over 3 months (3,630 a month), ending total
        // 6,340, ending current 3,590: CEI = 55.9 %.
        let monthly_sales = d("10890") / d("3");
        assert_eq!(
            cei(d("6200"), monthly_sales, d("6340"), d("3590")),
            Some(d("55.93"))
        );
        // gaviti.com glossary: beginning 100,000, credit sales 1,000,000, ending total
        // 120,000, ending current 100,000: (980,000 / 1,000,000) × 100 = 98 %.
        assert_eq!(
            cei(d("100000"), d("1000000"), d("120000"), d("100000")),
            Some(d("98.00"))
        );
        assert_eq!(cei(d("0"), d("0"), d("0"), d("0")), None);
    }

    #[test]
    fn dso_is_closing_over_sales_times_days_r_o7() {
        // 30-day month, sales 90,000, closing 45,000: 15 days.
        assert_eq!(dso(d("45000"), d("90000"), 30), Some(d("15.00")));
        assert_eq!(dso(d("45000"), d("0"), 30), None);
    }

    #[test]
    fn a_month_by_hand_r_o1_r_o7() {
        // June 2026. A: billed in May, due 05-20, 1,000, 600 paid 06-05 (16 days late).
        // B: billed 06-01, due 06-15, 2,000, paid in full 06-15 (on time).
        // C: billed 06-01, due 07-15, 3,000, not yet due at 06-30.
        // D: billed in April, due 04-30, 500, written off 06-20.
        let items = vec![
            moved(
                item("2026-05-20", "2026-05-01", 1000),
                "2026-06-05",
                -600,
                MovementKind::Paid,
            ),
            moved(
                item("2026-06-15", "2026-06-01", 2000),
                "2026-06-15",
                -2000,
                MovementKind::Paid,
            ),
            item("2026-07-15", "2026-06-01", 3000),
            moved(
                item("2026-04-30", "2026-04-01", 500),
                "2026-06-20",
                -500,
                MovementKind::WrittenOff,
            ),
        ];
        let k = &kpis(&items, date("2026-06-01"), date("2026-06-30"))[0];
        assert_eq!(k.opening, d("1500")); // A 1,000 + D 500
        assert_eq!(k.sales, d("5000")); // B + C
        assert_eq!(k.closing, d("3400")); // A 400 + C 3,000
        assert_eq!(k.closing_current, d("3000")); // C
        assert_eq!(k.collected, d("2600"));
        assert_eq!(k.written_off, d("500"));
        assert_eq!(
            k.opening + k.sales - k.closing,
            k.collected + k.waived + k.written_off
        );
        // Collectible: A 1,000 + D 500 (past due at the start) + B 2,000 (due within).
        assert_eq!(k.collectible, d("3500"));
        assert_eq!(k.collection_rate, Some(d("74.29"))); // 2,600 / 3,500
        assert_eq!(k.overdue_rate, Some(d("11.76"))); // 400 / 3,400
        assert_eq!(k.dso, Some(d("20.40"))); // 3,400 / 5,000 × 30
        // CEI: (1,500 + 5,000 − 3,400) / (1,500 + 5,000 − 3,000) = 3,100 / 3,500.
        assert_eq!(k.cei, Some(d("88.57")));
        // (600 × 16 + 2,000 × 0) / 2,600 = 3.69 days.
        assert_eq!(k.average_collection_days, Some(d("3.69")));
        assert_eq!(k.days, 30);
    }

    proptest! {
        // Whatever the portfolio: opening + sales − closing is exactly what was collected,
        // waived and written off in the period (nothing is counted twice or lost), and CEI
        // never exceeds 100 (closing current is part of closing).
        #[test]
        fn the_period_balances_r_o7(
            rows in proptest::collection::vec((0i64..200, 0i64..200, 1i64..1_000_000, 0i64..200, 0i64..1_000_000, 0u8..3), 1..30),
            from in 0i64..150, len in 0i64..60,
        ) {
            let start = date("2026-01-01");
            let day = |n: i64| start + chrono::Days::new(u64::try_from(n).expect("positive"));
            let items: Vec<Item> = rows.iter().map(|(billed, due_after, cents, moved_on, lowered, kind)| {
                let kind = [MovementKind::Paid, MovementKind::Waived, MovementKind::WrittenOff][usize::from(*kind)];
                Item {
                    currency: "CNY".into(),
                    due: day(billed + due_after),
                    billed_on: day(*billed),
                    amount: Decimal::new(*cents, 2),
                    movements: vec![crate::domain::Movement {
                        on: day(billed + moved_on),
                        principal: -Decimal::new((*lowered).min(*cents), 2),
                        kind,
                    }],
                }
            }).collect();
            let (from, to) = (day(from), day(from + len));
            for k in kpis(&items, from, to) {
                prop_assert_eq!(k.opening + k.sales - k.closing, k.collected + k.waived + k.written_off);
                prop_assert!(k.collected_on_collectible <= k.collectible);
                prop_assert!(k.closing_current <= k.closing);
                if let Some(cei) = k.cei {
                    prop_assert!(cei <= Decimal::ONE_HUNDRED);
                }
            }
        }
    }
}
