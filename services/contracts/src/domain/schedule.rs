//! Payment schedules (R-C1): what a contract bills, item by item. A real-estate purchase has a
//! deposit (定金), a down payment (首付款), installments (分期款) and a final payment (尾款); a B2B
//! supply deal may bill milestones, each a share of the price (30 % prepayment, 40 % at
//! mid-project, 30 % on delivery). Every item has a kind and a charge type, so notices can
//! list what is owed per charge type (R-C2) and reports per kind.
//!
//! [`plan`] checks a requested schedule and turns milestone shares into amounts; it is pure
//! and every refusal names the item and the reason.

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};

/// What a schedule item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ItemKind {
    /// 定金: paid at signing; by law at most 20 % of the price (Civil Code art. 586).
    Deposit,
    /// 首付款.
    DownPayment,
    /// 分期款.
    Installment,
    /// 尾款: the last item.
    FinalPayment,
    /// A share of the price due at a project milestone (B2B).
    Milestone,
    /// A unit's recurring charge for one month, from the billing run (R-C2).
    Recurring,
    /// A unit's metered charge for one month (water, electricity, gas), from readings.
    Metered,
}

impl ItemKind {
    /// The name stored and sent on the wire.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deposit => "deposit",
            Self::DownPayment => "down_payment",
            Self::Installment => "installment",
            Self::FinalPayment => "final_payment",
            Self::Milestone => "milestone",
            Self::Recurring => "recurring",
            Self::Metered => "metered",
        }
    }

    /// The inverse of [`as_str`](Self::as_str).
    #[must_use]
    pub fn parse(value: &str) -> Option<Self> {
        [
            Self::Deposit,
            Self::DownPayment,
            Self::Installment,
            Self::FinalPayment,
            Self::Milestone,
            Self::Recurring,
            Self::Metered,
        ]
        .into_iter()
        .find(|k| k.as_str() == value)
    }

    /// The Chinese name, for notices and statements.
    #[must_use]
    pub fn name_zh(self) -> &'static str {
        match self {
            Self::Deposit => "定金",
            Self::DownPayment => "首付款",
            Self::Installment => "分期款",
            Self::FinalPayment => "尾款",
            Self::Milestone => "进度款",
            Self::Recurring => "月度费用",
            Self::Metered => "计量费用",
        }
    }
}

/// What a charge is for (R-C2); notices list each separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChargeType {
    /// The price of the unit or the supply (房款, 货款).
    PurchasePrice,
    /// 物业管理费.
    ManagementFee,
    /// 公共维修基金.
    MaintenanceFund,
    /// 水费.
    Water,
    /// 电费.
    Electricity,
    /// 燃气费.
    Gas,
}

impl ChargeType {
    /// Every charge type.
    pub const ALL: [ChargeType; 6] = [
        Self::PurchasePrice,
        Self::ManagementFee,
        Self::MaintenanceFund,
        Self::Water,
        Self::Electricity,
        Self::Gas,
    ];

    /// The name stored and sent on the wire.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PurchasePrice => "purchase_price",
            Self::ManagementFee => "management_fee",
            Self::MaintenanceFund => "maintenance_fund",
            Self::Water => "water",
            Self::Electricity => "electricity",
            Self::Gas => "gas",
        }
    }

    /// The inverse of [`as_str`](Self::as_str).
    #[must_use]
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == value)
    }

    /// The Chinese name, for notices and statements.
    #[must_use]
    pub fn name_zh(self) -> &'static str {
        match self {
            Self::PurchasePrice => "房款/货款",
            Self::ManagementFee => "物业管理费",
            Self::MaintenanceFund => "公共维修基金",
            Self::Water => "水费",
            Self::Electricity => "电费",
            Self::Gas => "燃气费",
        }
    }
}

/// How much an item bills: an amount, or (milestones) a share of the price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Billed {
    /// This amount.
    Amount(Decimal),
    /// This share of the contract price, 0 < share ≤ 1.
    Share(Decimal),
}

/// One requested item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedItem {
    /// Kind.
    pub kind: ItemKind,
    /// Charge type.
    pub charge_type: ChargeType,
    /// Amount or share.
    pub billed: Billed,
    /// Due date as scheduled.
    pub due: NaiveDate,
}

/// One planned item: its amount is final.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedItem {
    /// Kind.
    pub kind: ItemKind,
    /// Charge type.
    pub charge_type: ChargeType,
    /// The amount billed.
    pub amount: Decimal,
    /// The share of the price it was computed from, for milestones.
    pub share: Option<Decimal>,
    /// Due date as scheduled.
    pub due: NaiveDate,
}

/// Why a schedule is refused: the item (0-based index, `None` for the whole schedule), the
/// field and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleError {
    /// The item, if one is at fault.
    pub item: Option<usize>,
    /// The field of the item or request.
    pub field: &'static str,
    /// What is wrong and what is expected.
    pub reason: String,
}

impl std::fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.item {
            Some(i) => write!(f, "installments[{i}].{}: {}", self.field, self.reason),
            None => write!(f, "{}: {}", self.field, self.reason),
        }
    }
}

/// The largest deposit the law allows, as a share of the price (Civil Code art. 586).
pub const MAX_DEPOSIT_SHARE: Decimal = Decimal::from_parts(20, 0, 0, false, 2);

fn err(item: Option<usize>, field: &'static str, reason: impl Into<String>) -> ScheduleError {
    ScheduleError {
        item,
        field,
        reason: reason.into(),
    }
}

/// Checks a schedule and fixes its amounts: items in due-date order; at most one deposit,
/// due no later than any other item and at most 20 % of the price; a final payment is the
/// last item; milestones need a price, their shares are each in (0, 1] and together at most
/// 1, and become amounts rounded to `unit` (half to even), the last milestone taking the
/// rounding rest when the shares make the whole price; with a price, the purchase-price items
/// add up to it exactly.
///
/// # Errors
/// The first rule broken, naming the item and field.
pub fn plan(
    items: &[RequestedItem],
    price: Option<Decimal>,
    unit: Decimal,
) -> Result<Vec<PlannedItem>, ScheduleError> {
    if items.is_empty() {
        return Err(err(
            None,
            "installments",
            "a contract needs at least one item",
        ));
    }
    if let Some(price) = price
        && price <= Decimal::ZERO
    {
        return Err(err(None, "price", "the price must be greater than zero"));
    }
    let dp = unit.scale();
    for (i, pair) in items.windows(2).enumerate() {
        if pair[1].due < pair[0].due {
            return Err(err(
                Some(i + 1),
                "due_date",
                format!(
                    "{} is before the previous item's due date {}; list items in due-date order",
                    pair[1].due, pair[0].due
                ),
            ));
        }
    }
    // R-C2: recurring and metered charges come from the billing run and meter readings of a
    // unit, never from a signed schedule.
    if let Some(i) = items
        .iter()
        .position(|it| matches!(it.kind, ItemKind::Recurring | ItemKind::Metered))
    {
        return Err(err(
            Some(i),
            "kind",
            "recurring and metered charges are billed per unit by RunBilling and ImportMeterReadings",
        ));
    }
    let deposits: Vec<usize> = items
        .iter()
        .enumerate()
        .filter(|(_, it)| it.kind == ItemKind::Deposit)
        .map(|(i, _)| i)
        .collect();
    if let Some(&second) = deposits.get(1) {
        return Err(err(
            Some(second),
            "kind",
            "a contract has at most one deposit (定金)",
        ));
    }
    if let Some(&d) = deposits.first()
        && items.iter().any(|it| it.due < items[d].due)
    {
        return Err(err(
            Some(d),
            "kind",
            "the deposit (定金) is due no later than any other item",
        ));
    }
    if let Some(f) = items
        .iter()
        .position(|it| it.kind == ItemKind::FinalPayment)
        && f + 1 != items.len()
    {
        return Err(err(
            Some(f),
            "kind",
            "the final payment (尾款) must be the last item",
        ));
    }

    // Milestone shares into amounts.
    let mut share_total = Decimal::ZERO;
    let mut last_share = None;
    for (i, item) in items.iter().enumerate() {
        if let Billed::Share(share) = item.billed {
            if item.kind != ItemKind::Milestone {
                return Err(err(
                    Some(i),
                    "share",
                    "only milestones bill a share of the price; give the amount",
                ));
            }
            if price.is_none() {
                return Err(err(
                    Some(i),
                    "share",
                    "a milestone given as a share needs the contract's price",
                ));
            }
            if share <= Decimal::ZERO || share > Decimal::ONE {
                return Err(err(
                    Some(i),
                    "share",
                    format!("{share} is not a share between 0 and 100 %"),
                ));
            }
            share_total += share;
            last_share = Some(i);
        }
    }
    if share_total > Decimal::ONE {
        return Err(err(
            None,
            "installments",
            format!(
                "the milestones' shares add up to {}, more than 100 %",
                share_total
            ),
        ));
    }
    let mut planned = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let (amount, share) = match item.billed {
            Billed::Amount(amount) => {
                if amount <= Decimal::ZERO {
                    return Err(err(
                        Some(i),
                        "amount",
                        "the amount must be greater than zero",
                    ));
                }
                if amount.round_dp(dp) != amount {
                    return Err(err(
                        Some(i),
                        "amount",
                        format!("{amount} has more decimals than the currency allows"),
                    ));
                }
                (amount, None)
            }
            Billed::Share(share) => {
                let price = price.unwrap_or_default();
                let amount = (price * share)
                    .round_dp_with_strategy(dp, RoundingStrategy::MidpointNearestEven);
                if amount <= Decimal::ZERO {
                    return Err(err(
                        Some(i),
                        "share",
                        format!("{share} of the price is less than the currency's smallest unit"),
                    ));
                }
                (amount, Some(share))
            }
        };
        planned.push(PlannedItem {
            kind: item.kind,
            charge_type: item.charge_type,
            amount,
            share,
            due: item.due,
        });
    }
    let Some(price) = price else {
        return Ok(planned);
    };
    let priced = |p: &&PlannedItem| p.charge_type == ChargeType::PurchasePrice;
    // Shares that make the whole price: the last milestone absorbs the rounding.
    if share_total == Decimal::ONE
        && let Some(last) = last_share
    {
        let others: Decimal = planned
            .iter()
            .enumerate()
            .filter(|(i, p)| *i != last && p.share.is_some())
            .map(|(_, p)| p.amount)
            .sum();
        planned[last].amount = price - others;
    }
    if let Some(&d) = deposits.first()
        && planned[d].amount > price * MAX_DEPOSIT_SHARE
    {
        return Err(err(
            Some(d),
            "amount",
            format!(
                "a deposit (定金) of {} is more than 20 % of the price {price} (Civil Code art. 586)",
                planned[d].amount
            ),
        ));
    }
    let total: Decimal = planned.iter().filter(priced).map(|p| p.amount).sum();
    if total != price {
        return Err(err(
            None,
            "price",
            format!(
                "the purchase-price items add up to {total}, not the price {price}; the schedule must bill the price exactly"
            ),
        ));
    }
    Ok(planned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const FEN: Decimal = Decimal::from_parts(1, 0, 0, false, 2);

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, d).unwrap()
    }

    fn yuan(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn item(kind: ItemKind, billed: Billed, due: NaiveDate) -> RequestedItem {
        RequestedItem {
            kind,
            charge_type: ChargeType::PurchasePrice,
            billed,
            due,
        }
    }

    #[test]
    fn a_purchase_schedule_with_deposit_down_payment_installments_and_final_payment() {
        // R-C1.
        let items = [
            item(ItemKind::Deposit, Billed::Amount(yuan("50000")), day(1, 1)),
            item(
                ItemKind::DownPayment,
                Billed::Amount(yuan("250000")),
                day(1, 15),
            ),
            item(
                ItemKind::Installment,
                Billed::Amount(yuan("100000")),
                day(2, 15),
            ),
            item(
                ItemKind::Installment,
                Billed::Amount(yuan("100000")),
                day(3, 15),
            ),
            item(
                ItemKind::FinalPayment,
                Billed::Amount(yuan("500000")),
                day(6, 30),
            ),
        ];
        let planned = plan(&items, Some(yuan("1000000")), FEN).unwrap();
        assert_eq!(planned.len(), 5);
        assert_eq!(planned[4].kind, ItemKind::FinalPayment);
        // Without a price the amounts stand as given.
        assert!(plan(&items, None, FEN).is_ok());
    }

    #[test]
    fn milestones_bill_shares_of_the_price_to_the_fen() {
        // R-C1: 30 % prepayment, 40 % at mid-project, 30 % on delivery.
        let items = [
            item(ItemKind::Milestone, Billed::Share(yuan("0.3")), day(1, 1)),
            item(ItemKind::Milestone, Billed::Share(yuan("0.4")), day(4, 1)),
            item(ItemKind::Milestone, Billed::Share(yuan("0.3")), day(9, 1)),
        ];
        let planned = plan(&items, Some(yuan("1000000.01")), FEN).unwrap();
        let amounts: Vec<Decimal> = planned.iter().map(|p| p.amount).collect();
        assert_eq!(
            amounts,
            vec![yuan("300000.00"), yuan("400000.00"), yuan("300000.01")]
        );
        assert_eq!(planned[1].share, Some(yuan("0.4")));
    }

    #[test]
    fn every_refusal_names_the_item_and_the_rule() {
        let price = Some(yuan("100000"));
        let deposit =
            |amount: &str, due| item(ItemKind::Deposit, Billed::Amount(yuan(amount)), due);
        let rest =
            |amount: &str, due| item(ItemKind::Installment, Billed::Amount(yuan(amount)), due);
        // Deposit above 20 % (art. 586).
        let e = plan(
            &[deposit("20000.01", day(1, 1)), rest("79999.99", day(2, 1))],
            price,
            FEN,
        )
        .unwrap_err();
        assert_eq!((e.item, e.field), (Some(0), "amount"));
        assert!(e.reason.contains("20 %"), "{e}");
        // Two deposits.
        let e = plan(
            &[deposit("1", day(1, 1)), deposit("1", day(1, 2))],
            None,
            FEN,
        )
        .unwrap_err();
        assert_eq!((e.item, e.field), (Some(1), "kind"));
        // Final payment not last.
        let e = plan(
            &[
                item(ItemKind::FinalPayment, Billed::Amount(yuan("1")), day(1, 1)),
                rest("1", day(2, 1)),
            ],
            None,
            FEN,
        )
        .unwrap_err();
        assert_eq!((e.item, e.field), (Some(0), "kind"));
        // Out of order.
        let e = plan(&[rest("1", day(2, 1)), rest("1", day(1, 1))], None, FEN).unwrap_err();
        assert_eq!((e.item, e.field), (Some(1), "due_date"));
        // Not adding up to the price.
        let e = plan(&[rest("99999.99", day(1, 1))], price, FEN).unwrap_err();
        assert_eq!((e.item, e.field), (None, "price"));
        assert_eq!(
            e.to_string(),
            "price: the purchase-price items add up to 99999.99, not the price 100000; the schedule must bill the price exactly"
        );
        // A share without a price, on a non-milestone, above 100 %.
        let share = |kind, s: &str| item(kind, Billed::Share(yuan(s)), day(1, 1));
        assert_eq!(
            plan(&[share(ItemKind::Milestone, "0.5")], None, FEN)
                .unwrap_err()
                .field,
            "share"
        );
        assert_eq!(
            plan(&[share(ItemKind::Installment, "0.5")], price, FEN)
                .unwrap_err()
                .field,
            "share"
        );
        let e = plan(
            &[
                share(ItemKind::Milestone, "0.6"),
                share(ItemKind::Milestone, "0.6"),
            ],
            price,
            FEN,
        )
        .unwrap_err();
        assert!(e.reason.contains("more than 100 %"), "{e}");
        // Sub-fen amounts.
        assert_eq!(
            plan(&[rest("1.001", day(1, 1))], None, FEN)
                .unwrap_err()
                .field,
            "amount"
        );
    }

    #[test]
    fn charges_other_than_the_price_do_not_count_towards_it() {
        // The public maintenance fund is billed with the purchase but is not the price.
        let mut fund = item(
            ItemKind::Installment,
            Billed::Amount(yuan("3000")),
            day(1, 1),
        );
        fund.charge_type = ChargeType::MaintenanceFund;
        let price = item(
            ItemKind::DownPayment,
            Billed::Amount(yuan("100000")),
            day(1, 1),
        );
        assert!(plan(&[fund, price], Some(yuan("100000")), FEN).is_ok());
    }

    #[test]
    fn names_round_trip() {
        for c in ChargeType::ALL {
            assert_eq!(ChargeType::parse(c.as_str()), Some(c));
        }
        for k in [
            ItemKind::Deposit,
            ItemKind::DownPayment,
            ItemKind::Installment,
            ItemKind::FinalPayment,
            ItemKind::Milestone,
            ItemKind::Recurring,
            ItemKind::Metered,
        ] {
            assert_eq!(ItemKind::parse(k.as_str()), Some(k));
        }
    }

    proptest! {
        // R-C1: shares that make the whole price bill the price exactly, to the fen, and no
        // milestone is off by more than a fen from its share.
        #[test]
        fn whole_shares_bill_the_price_exactly(
            price_fen in 1_000i64..10_000_000_000, cuts in prop::collection::vec(1u32..100, 1..6)
        ) {
            let price = Decimal::new(price_fen, 2);
            let total: u32 = cuts.iter().sum();
            let mut shares: Vec<Decimal> = cuts.iter().map(|c| Decimal::from(*c) / Decimal::from(total)).collect();
            // Make them add up to exactly 1.
            let rest = Decimal::ONE - shares.iter().take(shares.len() - 1).copied().sum::<Decimal>();
            if let Some(last) = shares.last_mut() { *last = rest; }
            prop_assume!(shares.iter().all(|s| *s > Decimal::ZERO));
            let items: Vec<RequestedItem> = shares.iter().enumerate()
                .map(|(i, s)| item(ItemKind::Milestone, Billed::Share(*s), day(1, 1 + u32::try_from(i).unwrap())))
                .collect();
            match plan(&items, Some(price), FEN) {
                Ok(planned) => {
                    prop_assert_eq!(planned.iter().map(|p| p.amount).sum::<Decimal>(), price);
                    for (p, s) in planned.iter().zip(&shares).take(planned.len() - 1) {
                        prop_assert!((p.amount - price * s).abs() <= FEN);
                    }
                }
                // A share smaller than a fen of a small price is refused, never mis-billed.
                Err(e) => prop_assert_eq!(e.field, "share"),
            }
        }
    }
}
