//! Roll rates (R-O7): the share of a bucket's balance at a month-end that is one bucket
//! further at the next month-end. A payment, waiver or write-off in between lowers what rolls;
//! an item that stays or improves does not roll.

use std::collections::BTreeMap;

use chrono::{Datelike as _, Months, NaiveDate};
use rust_decimal::Decimal;

use super::{Bucket, Item, percent};

/// The roll from one bucket to the next over one month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roll {
    pub from: Bucket,
    pub to: Bucket,
    /// Open principal in `from` at the month-end.
    pub balance: Decimal,
    /// Of those items, the open principal one bucket further (or, from the oldest bucket,
    /// still in it) a month later.
    pub rolled: Decimal,
    pub rate: Option<Decimal>,
}

/// The rolls from one month-end to the next, for one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollMonth {
    /// The month whose end the rolls start from.
    pub month: NaiveDate,
    pub currency: String,
    /// One per bucket, youngest first.
    pub rolls: Vec<Roll>,
}

/// The last day of `month`'s month.
#[must_use]
pub fn month_end(month: NaiveDate) -> NaiveDate {
    let first = month.with_day(1).unwrap_or(month);
    first
        .checked_add_months(Months::new(1))
        .and_then(|next| next.pred_opt())
        .unwrap_or(month)
}

/// The roll rates from each month-end of `first..=last` (any day of the months) to the next.
pub fn roll_rates(items: &[Item], first: NaiveDate, last: NaiveDate) -> Vec<RollMonth> {
    let mut out = Vec::new();
    let mut month = first.with_day(1).unwrap_or(first);
    while month <= last {
        let start = month_end(month);
        let Some(end) = month.checked_add_months(Months::new(1)).map(month_end) else {
            break;
        };
        let mut by_currency: BTreeMap<&str, [(Decimal, Decimal); 6]> = BTreeMap::new();
        for item in items {
            let before = item.balance_at(start);
            if before <= Decimal::ZERO {
                continue;
            }
            let from = item.bucket_at(start);
            let slot = &mut by_currency.entry(&item.currency).or_default()[from.index()];
            slot.0 += before;
            if item.bucket_at(end) == from.next() {
                slot.1 += item.balance_at(end).max(Decimal::ZERO);
            }
        }
        for (currency, slots) in by_currency {
            out.push(RollMonth {
                month,
                currency: currency.to_owned(),
                rolls: Bucket::ALL
                    .iter()
                    .zip(slots)
                    .map(|(bucket, (balance, rolled))| Roll {
                        from: *bucket,
                        to: bucket.next(),
                        balance,
                        rolled,
                        rate: percent(rolled, balance),
                    })
                    .collect(),
            });
        }
        let Some(next) = month.checked_add_months(Months::new(1)) else {
            break;
        };
        month = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::MovementKind;
    use crate::domain::tests::{date, item, moved};

    #[test]
    fn month_ends() {
        assert_eq!(month_end(date("2026-02-10")), date("2026-02-28"));
        assert_eq!(month_end(date("2028-02-01")), date("2028-02-29"));
        assert_eq!(month_end(date("2026-12-31")), date("2026-12-31"));
    }

    #[test]
    fn what_rolls_from_march_to_april_by_hand_r_o7() {
        // At 03-31: A due 03-15 (16 days: 1-30) 1,000; B due 03-20 (11 days: 1-30) 500, half
        // paid in April; C due 03-25 (1-30) 400, paid in full in April; D due 04-10 (current)
        // 200, unpaid: at 04-30 it is 20 days past due, rolled to 1-30.
        let items = vec![
            item("2026-03-15", "2026-01-01", 1000),
            moved(
                item("2026-03-20", "2026-01-01", 500),
                "2026-04-05",
                -250,
                MovementKind::Paid,
            ),
            moved(
                item("2026-03-25", "2026-01-01", 400),
                "2026-04-05",
                -400,
                MovementKind::Paid,
            ),
            item("2026-04-10", "2026-01-01", 200),
        ];
        let months = roll_rates(&items, date("2026-03-01"), date("2026-03-31"));
        assert_eq!(months.len(), 1);
        let rolls = &months[0].rolls;
        assert_eq!(rolls[0].balance, Decimal::from(200));
        assert_eq!(rolls[0].rolled, Decimal::from(200));
        assert_eq!(rolls[0].rate, Some(Decimal::ONE_HUNDRED.round_dp(2)));
        // 1-30: 1,900 at March's end; A (1,000) and B (250) are 31-60 at April's end.
        assert_eq!(rolls[1].balance, Decimal::from(1900));
        assert_eq!(rolls[1].rolled, Decimal::from(1250));
        assert_eq!(rolls[1].rate, Some("65.79".parse().expect("d")));
        assert_eq!(rolls[2].rate, None);
    }
}
