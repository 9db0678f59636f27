//! Statement of account (issue 12 item 10): what a customer owes on a business date, per
//! contract and item, with the R-C11 aging and totals per currency. Pure: the caller reads the
//! receivables and renders the result (gRPC messages, HTML, PDF).
//!
//! Figures come from the receivables as they stand: the open principal after allocations and
//! the late fee accrued by the last daily cycle (R-C4). Interest (R-C12) is not modelled yet
//! and therefore not part of any figure here.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use money::aging::AgingBucket;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::schedule::{ChargeType, ItemKind};

/// Every bucket of R-C11, in the order a statement lists them.
pub const BUCKETS: [AgingBucket; 6] = [
    AgingBucket::Current,
    AgingBucket::Days1To30,
    AgingBucket::Days31To60,
    AgingBucket::Days61To90,
    AgingBucket::Days91To180,
    AgingBucket::Over180,
];

/// One receivable as read for a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The receivable's id.
    pub receivable_id: Uuid,
    /// The contract it belongs to.
    pub contract_no: String,
    /// ISO 4217 code of the contract.
    pub currency: String,
    /// What the item is (R-C1).
    pub kind: ItemKind,
    /// What the charge is for (R-C2).
    pub charge_type: ChargeType,
    /// Its number in the schedule.
    pub installment_no: u32,
    /// The (holiday-adjusted) due date.
    pub due_date: NaiveDate,
    /// The amount billed.
    pub billed: Decimal,
    /// What is still open of it (principal).
    pub open: Decimal,
    /// Late fee still owed on it (R-C4: accrued, less paid and waived).
    pub late_fee: Decimal,
    /// Interest still owed on it (R-C12).
    pub interest: Decimal,
    /// Collection costs still owed on it (R-D12).
    pub costs: Decimal,
}

/// One item of a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The receivable.
    pub line: Line,
    /// Billed less open.
    pub paid: Decimal,
    /// Open principal plus late fee.
    pub owed: Decimal,
    /// Calendar days overdue on the statement date (0 when not yet overdue).
    pub days_overdue: u32,
    /// Its R-C11 bucket on the statement date.
    pub bucket: AgingBucket,
}

/// Sums of items in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Totals {
    /// ISO 4217 code.
    pub currency: String,
    /// Σ billed.
    pub billed: Decimal,
    /// Σ paid.
    pub paid: Decimal,
    /// Σ open principal.
    pub open: Decimal,
    /// Σ late fee.
    pub late_fee: Decimal,
    /// Σ interest.
    pub interest: Decimal,
    /// Σ costs.
    pub costs: Decimal,
    /// Σ owed (open + late fee + interest + costs).
    pub owed: Decimal,
}

impl Totals {
    fn zero(currency: &str) -> Self {
        Self {
            currency: currency.to_owned(),
            billed: Decimal::ZERO,
            paid: Decimal::ZERO,
            open: Decimal::ZERO,
            late_fee: Decimal::ZERO,
            interest: Decimal::ZERO,
            costs: Decimal::ZERO,
            owed: Decimal::ZERO,
        }
    }

    fn add(&mut self, item: &Item) {
        self.billed += item.line.billed;
        self.paid += item.paid;
        self.open += item.line.open;
        self.late_fee += item.line.late_fee;
        self.interest += item.line.interest;
        self.costs += item.line.costs;
        self.owed += item.owed;
    }
}

/// The open principal of one currency per R-C11 bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aging {
    /// ISO 4217 code.
    pub currency: String,
    /// Every bucket of [`BUCKETS`], in that order, with its open principal (zero included).
    pub buckets: Vec<(AgingBucket, Decimal)>,
}

/// The items of one contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractItems {
    /// The contract number.
    pub contract_no: String,
    /// The contract's currency (a contract bills in one currency).
    pub currency: String,
    /// Its items, by due date and installment number.
    pub items: Vec<Item>,
    /// Their sums.
    pub totals: Totals,
}

/// A statement of account on a business date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The statement date: aging is counted to it.
    pub as_of: NaiveDate,
    /// Per contract, by contract number.
    pub contracts: Vec<ContractItems>,
    /// Per currency, by code: amounts in different currencies are never added up.
    pub totals: Vec<Totals>,
    /// Per currency, by code.
    pub aging: Vec<Aging>,
}

impl Statement {
    /// Whether nothing is owed.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.contracts.is_empty()
    }
}

/// Builds the statement on `as_of` from a customer's receivables. An item is listed while
/// anything is owed on it: open principal or a late fee (a paid item with an accrued late fee
/// is still owed; one fully paid without a fee is not). Items not yet due are in "current".
#[must_use]
pub fn build(as_of: NaiveDate, lines: impl IntoIterator<Item = Line>) -> Statement {
    // R-C11: aging is by calendar days past the due date, the money crate's count.
    let mut by_contract: BTreeMap<(String, String), Vec<Item>> = BTreeMap::new();
    for line in lines {
        let charges = line.late_fee + line.interest + line.costs;
        if line.open <= Decimal::ZERO && charges <= Decimal::ZERO {
            continue;
        }
        let days_overdue = if line.open > Decimal::ZERO {
            money::aging::days_overdue(line.due_date, as_of)
        } else {
            0
        };
        let item = Item {
            paid: line.billed - line.open,
            owed: line.open + charges,
            days_overdue,
            bucket: AgingBucket::for_days(days_overdue),
            line,
        };
        by_contract
            .entry((item.line.contract_no.clone(), item.line.currency.clone()))
            .or_default()
            .push(item);
    }
    let mut totals: BTreeMap<String, Totals> = BTreeMap::new();
    let mut aging: BTreeMap<String, BTreeMap<AgingBucket, Decimal>> = BTreeMap::new();
    let contracts = by_contract
        .into_iter()
        .map(|((contract_no, currency), mut items)| {
            items.sort_by_key(|i| (i.line.due_date, i.line.installment_no));
            let mut sums = Totals::zero(&currency);
            let all = totals
                .entry(currency.clone())
                .or_insert_with(|| Totals::zero(&currency));
            let buckets = aging.entry(currency.clone()).or_default();
            for item in &items {
                sums.add(item);
                all.add(item);
                *buckets.entry(item.bucket).or_default() += item.line.open;
            }
            ContractItems {
                contract_no,
                currency,
                items,
                totals: sums,
            }
        })
        .collect();
    let aging = aging
        .into_iter()
        .map(|(currency, amounts)| Aging {
            currency,
            buckets: BUCKETS
                .iter()
                .map(|b| (*b, amounts.get(b).copied().unwrap_or_default()))
                .collect(),
        })
        .collect();
    Statement {
        as_of,
        contracts,
        totals: totals.into_values().collect(),
        aging,
    }
}

/// The Chinese label of a bucket, for the printed statement.
#[must_use]
pub fn bucket_name_zh(bucket: AgingBucket) -> &'static str {
    match bucket {
        AgingBucket::Current => "未逾期",
        AgingBucket::Days1To30 => "逾期 1–30 天",
        AgingBucket::Days31To60 => "逾期 31–60 天",
        AgingBucket::Days61To90 => "逾期 61–90 天",
        AgingBucket::Days91To180 => "逾期 91–180 天",
        AgingBucket::Over180 => "逾期 180 天以上",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn line(no: &str, currency: &str, due: &str, billed: i64, open: i64, fee: i64) -> Line {
        Line {
            receivable_id: Uuid::nil(),
            contract_no: no.to_owned(),
            currency: currency.to_owned(),
            kind: ItemKind::Installment,
            charge_type: ChargeType::ManagementFee,
            installment_no: 1,
            due_date: d(due),
            billed: Decimal::new(billed, 2),
            open: Decimal::new(open, 2),
            late_fee: Decimal::new(fee, 2),
            interest: Decimal::ZERO,
            costs: Decimal::ZERO,
        }
    }

    #[test]
    fn items_are_grouped_per_contract_with_paid_owed_and_bucket() {
        let s = build(
            d("2026-03-20"),
            [
                line("HT-2", "CNY", "2026-03-10", 1_000_000, 600_000, 10_000),
                line("HT-1", "CNY", "2026-04-10", 50_000, 50_000, 0),
                line("HT-1", "CNY", "2026-01-10", 50_000, 0, 0), // paid, no fee: not listed
            ],
        );
        assert_eq!(s.contracts.len(), 2);
        assert_eq!(s.contracts[0].contract_no, "HT-1");
        assert_eq!(s.contracts[0].items.len(), 1);
        assert_eq!(s.contracts[0].items[0].bucket, AgingBucket::Current);
        let fee = &s.contracts[1].items[0];
        assert_eq!(fee.paid, Decimal::new(400_000, 2));
        assert_eq!(fee.owed, Decimal::new(610_000, 2));
        assert_eq!(fee.days_overdue, 10);
        assert_eq!(fee.bucket, AgingBucket::Days1To30);
        assert_eq!(s.totals.len(), 1);
        assert_eq!(s.totals[0].owed, Decimal::new(660_000, 2));
        assert_eq!(
            s.aging[0].buckets,
            vec![
                (AgingBucket::Current, Decimal::new(50_000, 2)),
                (AgingBucket::Days1To30, Decimal::new(600_000, 2)),
                (AgingBucket::Days31To60, Decimal::ZERO),
                (AgingBucket::Days61To90, Decimal::ZERO),
                (AgingBucket::Days91To180, Decimal::ZERO),
                (AgingBucket::Over180, Decimal::ZERO),
            ]
        );
    }

    #[test]
    fn currencies_are_never_added_up() {
        let s = build(
            d("2026-03-20"),
            [
                line("HT-1", "CNY", "2026-03-10", 100, 100, 0),
                line("HT-2", "USD", "2026-03-10", 200, 200, 0),
            ],
        );
        let codes: Vec<&str> = s.totals.iter().map(|t| t.currency.as_str()).collect();
        assert_eq!(codes, ["CNY", "USD"]);
        assert_eq!(s.totals[1].open, Decimal::new(200, 2));
    }

    #[test]
    fn a_paid_item_with_a_late_fee_is_owed_but_not_aged() {
        let s = build(
            d("2026-06-01"),
            [line("HT-1", "CNY", "2026-01-10", 100, 0, 7)],
        );
        let item = &s.contracts[0].items[0];
        assert_eq!(
            (item.owed, item.bucket),
            (Decimal::new(7, 2), AgingBucket::Current)
        );
        assert!(build(d("2026-06-01"), []).is_empty());
    }

    fn arb_line() -> impl Strategy<Value = Line> {
        (
            0usize..4,
            0usize..3,
            0i64..400,
            0i64..10_000_000,
            0i64..=100,
            0i64..1_000_000,
        )
            .prop_map(|(contract, currency, due_offset, billed, open_pct, fee)| {
                let mut l = line(
                    &format!("HT-{contract}"),
                    ["CNY", "USD", "HKD"][currency],
                    "2025-06-01",
                    billed,
                    billed * open_pct / 100,
                    fee,
                );
                // One contract, one currency.
                l.contract_no = format!("HT-{contract}-{}", l.currency);
                l.due_date += chrono::TimeDelta::days(due_offset);
                l
            })
    }

    proptest! {
        // Totals per currency are the sums of the listed items in that currency.
        #[test]
        fn totals_are_the_sum_of_items_per_currency(lines in prop::collection::vec(arb_line(), 0..40)) {
            let s = build(d("2026-01-15"), lines);
            for t in &s.totals {
                let items = s.contracts.iter().filter(|c| c.currency == t.currency).flat_map(|c| &c.items);
                let (mut billed, mut paid, mut open, mut fee, mut owed) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
                for i in items {
                    billed += i.line.billed; paid += i.paid; open += i.line.open; fee += i.line.late_fee; owed += i.owed;
                    prop_assert_eq!(&i.line.currency, &t.currency);
                }
                prop_assert_eq!((billed, paid, open, fee, owed), (t.billed, t.paid, t.open, t.late_fee, t.owed));
                prop_assert_eq!(t.owed, t.open + t.late_fee + t.interest + t.costs);
                prop_assert_eq!(t.billed, t.paid + t.open);
            }
        }

        // R-C11: the buckets of a currency add up to its open principal.
        #[test]
        fn aging_buckets_sum_to_the_open_total(lines in prop::collection::vec(arb_line(), 0..40)) {
            let s = build(d("2026-01-15"), lines);
            prop_assert_eq!(s.aging.len(), s.totals.len());
            for (a, t) in s.aging.iter().zip(&s.totals) {
                prop_assert_eq!(&a.currency, &t.currency);
                prop_assert_eq!(a.buckets.len(), BUCKETS.len());
                let sum: Decimal = a.buckets.iter().map(|(_, v)| *v).sum();
                prop_assert_eq!(sum, t.open);
            }
        }
    }
}
