//! Aging by bucket (R-O1, R-C11): open principal on a date, per currency.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::{Bucket, Item, percent};

/// One bucket's line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgingRow {
    pub bucket: Bucket,
    /// Items with an open principal in the bucket.
    pub receivables: u32,
    pub balance: Decimal,
    /// Share of the currency's total in percent (two decimals); `None` when the total is 0.
    pub share: Option<Decimal>,
}

/// The aging of one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgingReport {
    pub currency: String,
    /// Every bucket in order, empty ones included.
    pub rows: Vec<AgingRow>,
    pub total: Decimal,
}

/// The aging on `as_of` of `items`, one report per currency (sorted by currency). An item
/// paid in full (or over) on that date is in no bucket.
pub fn aging<'a>(items: impl IntoIterator<Item = &'a Item>, as_of: NaiveDate) -> Vec<AgingReport> {
    let mut by_currency: BTreeMap<&str, [(u32, Decimal); 6]> = BTreeMap::new();
    for item in items {
        let balance = item.balance_at(as_of);
        if balance <= Decimal::ZERO {
            continue;
        }
        let slot =
            &mut by_currency.entry(&item.currency).or_default()[item.bucket_at(as_of).index()];
        slot.0 += 1;
        slot.1 += balance;
    }
    by_currency
        .into_iter()
        .map(|(currency, slots)| {
            let total: Decimal = slots.iter().map(|(_, b)| *b).sum();
            AgingReport {
                currency: currency.to_owned(),
                rows: Bucket::ALL
                    .iter()
                    .zip(slots)
                    .map(|(bucket, (receivables, balance))| AgingRow {
                        bucket: *bucket,
                        receivables,
                        balance,
                        share: percent(balance, total),
                    })
                    .collect(),
                total,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::MovementKind;
    use crate::domain::tests::{date, item, moved};
    use proptest::prelude::*;

    #[test]
    fn a_small_portfolio_by_hand_r_c11() {
        // As of 2026-06-30: due 06-30 is current, 06-01 is 29 days, 04-30 is 61 days,
        // 01-01 is 180 days, 2025-12-01 is 211 days; one paid in full drops out.
        let items = vec![
            item("2026-06-30", "2026-01-01", 500),
            moved(
                item("2026-06-01", "2026-01-01", 1000),
                "2026-06-10",
                -250,
                MovementKind::Paid,
            ),
            item("2026-04-30", "2026-01-01", 300),
            item("2026-01-01", "2025-10-01", 200),
            item("2025-12-01", "2025-10-01", 1000),
            moved(
                item("2026-05-01", "2026-01-01", 800),
                "2026-05-02",
                -800,
                MovementKind::Paid,
            ),
        ];
        let report = aging(&items, date("2026-06-30"));
        assert_eq!(report.len(), 1);
        let r = &report[0];
        let balances: Vec<i64> = r
            .rows
            .iter()
            .map(|row| i64::try_from(row.balance).expect("whole"))
            .collect();
        assert_eq!(balances, vec![500, 750, 0, 300, 200, 1000]);
        assert_eq!(r.total, Decimal::from(2750));
        assert_eq!(r.rows[0].receivables, 1);
        assert_eq!(r.rows[2].receivables, 0);
        assert_eq!(r.rows[5].share, Some("36.36".parse().expect("d")));
    }

    #[test]
    fn currencies_are_reported_apart() {
        let mut usd = item("2026-01-01", "2026-01-01", 70);
        usd.currency = "USD".into();
        let items = vec![item("2026-01-01", "2026-01-01", 30), usd];
        let report = aging(&items, date("2026-02-01"));
        assert_eq!(
            report
                .iter()
                .map(|r| r.currency.as_str())
                .collect::<Vec<_>>(),
            ["CNY", "USD"]
        );
        assert_eq!(report[1].total, Decimal::from(70));
    }

    proptest! {
        // The buckets add up to the total, and the total is every open balance.
        #[test]
        fn buckets_sum_to_the_open_balance_r_c11(
            rows in proptest::collection::vec((0i64..400, 1i64..100_000, 0i64..100_000), 1..40),
            as_of in 0i64..500,
        ) {
            let start = date("2025-01-01");
            let items: Vec<Item> = rows
                .iter()
                .map(|(due, cents, paid)| Item {
                    currency: "CNY".into(),
                    due: start + chrono::Days::new(u64::try_from(*due).expect("positive")),
                    billed_on: start,
                    amount: Decimal::new(*cents, 2),
                    movements: vec![crate::domain::Movement {
                        on: start + chrono::Days::new(10),
                        principal: -Decimal::new((*paid).min(*cents), 2),
                        kind: MovementKind::Paid,
                    }],
                })
                .collect();
            let on = start + chrono::Days::new(u64::try_from(as_of).expect("positive"));
            let open: Decimal = items.iter().map(|i| i.balance_at(on)).filter(|b| *b > Decimal::ZERO).sum();
            let report = aging(&items, on);
            let total: Decimal = report.iter().map(|r| r.total).sum();
            prop_assert_eq!(total, open);
            for r in &report {
                prop_assert_eq!(r.rows.iter().map(|row| row.balance).sum::<Decimal>(), r.total);
            }
        }
    }
}
