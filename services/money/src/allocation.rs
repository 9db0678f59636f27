//! Allocation order (R-P11): which of a customer's debts a payment settles, and which part
//! of each. One implementation for the whole platform: payments proposes with it and
//! contracts books with it, so the two can never disagree on the same figures.
//!
//! The rule, from the Civil Code:
//! - what the payer names is settled first;
//! - otherwise (art. 560) debts already due before those not yet due; among due debts the
//!   least secured first, then the most burdensome (the highest daily rate of interest and
//!   late fee), then the earliest due; debts equal on all counts share the payment pro rata
//!   to what each owes, to the currency's smallest unit;
//! - within one debt (art. 561) the costs of collection first, then interest and late fees
//!   (one rank: pro rata between them), then the principal;
//! - a contract may agree another order ([`OrderTerms::Agreed`]); the order used is part of
//!   every result ([`Basis`]) so the allocation can be explained later.
//!
//! A surplus never partly prepays a debt nobody named that is not yet due once something
//! else was paid: it stays unapplied for a person to refund or credit. When nothing is due
//! the earliest debt not yet due may be paid in part (a customer paying ahead).

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// A part of one debt, as art. 561 ranks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Component {
    /// Costs of collection: notice fees, legal costs.
    Costs,
    /// Interest (e.g. at the loan prime rate, R-C12).
    Interest,
    /// Late fee (R-C4).
    LateFee,
    /// The amount billed.
    Principal,
}

impl Component {
    /// Every component, in art. 561 order.
    pub const ALL: [Component; 4] = [
        Component::Costs,
        Component::Interest,
        Component::LateFee,
        Component::Principal,
    ];

    /// The name used in records and on the wire.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Component::Costs => "costs",
            Component::Interest => "interest",
            Component::LateFee => "late_fee",
            Component::Principal => "principal",
        }
    }
}

/// How well a debt is secured; the least secured is settled first (art. 560).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Security {
    /// No security.
    #[default]
    Unsecured,
    /// A guarantor.
    Guaranteed,
    /// A mortgage or pledge.
    Secured,
}

/// What one debt still owes, per component.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owed {
    /// Costs of collection.
    pub costs: Decimal,
    /// Interest.
    pub interest: Decimal,
    /// Late fee.
    pub late_fee: Decimal,
    /// Principal.
    pub principal: Decimal,
}

impl Owed {
    /// Only a principal.
    #[must_use]
    pub fn principal(amount: Decimal) -> Self {
        Self {
            principal: amount,
            ..Self::default()
        }
    }

    /// Σ of the components.
    #[must_use]
    pub fn total(&self) -> Decimal {
        self.costs + self.interest + self.late_fee + self.principal
    }

    /// One component.
    #[must_use]
    pub fn get(&self, component: Component) -> Decimal {
        match component {
            Component::Costs => self.costs,
            Component::Interest => self.interest,
            Component::LateFee => self.late_fee,
            Component::Principal => self.principal,
        }
    }
}

/// One debt offered to an allocation; `K` identifies it (a receivable id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Debt<K> {
    /// Identity; also the last tie-breaker, so equal input gives equal output.
    pub key: K,
    /// Due date.
    pub due: NaiveDate,
    /// Security.
    pub security: Security,
    /// Burden: the daily rate of interest and late fee it bears (higher is settled first).
    pub burden: Decimal,
    /// The payer named it.
    pub named: bool,
    /// What it owes.
    pub owed: Owed,
}

/// One criterion of the order among debts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DebtRank {
    /// Due before not yet due.
    DueFirst,
    /// Least secured first.
    LeastSecured,
    /// Most burdensome first.
    MostBurdensome,
    /// Earliest due first.
    EarliestDue,
}

/// An order: criteria among debts (then pro rata), and ranks of components within a debt
/// (components sharing a rank are settled pro rata).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// Criteria among debts, applied in turn.
    pub debts: Vec<DebtRank>,
    /// Ranks of components; every component exactly once.
    pub components: Vec<Vec<Component>>,
}

impl Order {
    /// The Civil Code's order (arts. 560–561).
    #[must_use]
    pub fn statutory() -> Self {
        Self {
            debts: vec![
                DebtRank::DueFirst,
                DebtRank::LeastSecured,
                DebtRank::MostBurdensome,
                DebtRank::EarliestDue,
            ],
            components: vec![
                vec![Component::Costs],
                vec![Component::Interest, Component::LateFee],
                vec![Component::Principal],
            ],
        }
    }

    /// Checks an agreed order: every component in exactly one rank, no criterion twice.
    ///
    /// # Errors
    /// A message naming what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        for component in Component::ALL {
            let n = self
                .components
                .iter()
                .flatten()
                .filter(|c| **c == component)
                .count();
            if n != 1 {
                return Err(format!(
                    "component {} appears {n} times in the order; every component must appear once",
                    component.as_str()
                ));
            }
        }
        if self.components.iter().any(Vec::is_empty) {
            return Err("a rank of components is empty".to_owned());
        }
        for (i, rank) in self.debts.iter().enumerate() {
            if self.debts[..i].contains(rank) {
                return Err(format!("debt criterion {rank:?} appears twice"));
            }
        }
        Ok(())
    }
}

/// The order a contract's terms set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderTerms {
    /// The law's order.
    #[default]
    Statutory,
    /// An order the parties agreed.
    Agreed(Order),
}

/// Which order an allocation followed: recorded with it (R-P11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// The payer named debts; they came first.
    PayerNamed,
    /// Arts. 560–561.
    Statutory,
    /// The contract's agreed order.
    Agreed,
}

impl Basis {
    /// The name used in records and on the wire.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::PayerNamed => "payer_named",
            Basis::Statutory => "statutory",
            Basis::Agreed => "agreed",
        }
    }
}

/// An amount settling one component of one debt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part<K> {
    /// The debt.
    pub debt: K,
    /// The component.
    pub component: Component,
    /// The amount (more than zero).
    pub amount: Decimal,
}

/// The result of [`allocate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation<K> {
    /// Parts in the order they were settled.
    pub parts: Vec<Part<K>>,
    /// What is left of the payment.
    pub unapplied: Decimal,
    /// The order followed.
    pub basis: Basis,
}

impl<K: PartialEq> Allocation<K> {
    /// Σ of the parts for `debt`.
    pub fn to_debt(&self, debt: &K) -> Decimal {
        self.parts
            .iter()
            .filter(|p| p.debt == *debt)
            .map(|p| p.amount)
            .sum()
    }
}

/// Allocates `amount` over `debts` on business date `on` in the order `terms` set; `unit` is
/// the currency's smallest unit (0.01 for CNY), the granularity of pro-rata shares. Never
/// allocates more than the payment or more than a component owes; a negative amount or
/// negative owed figures are treated as zero.
#[must_use]
pub fn allocate<K: Clone + Ord>(
    amount: Decimal,
    on: NaiveDate,
    debts: &[Debt<K>],
    terms: &OrderTerms,
    unit: Decimal,
) -> Allocation<K> {
    let statutory;
    let (order, basis) = match terms {
        OrderTerms::Statutory => {
            statutory = Order::statutory();
            (&statutory, Basis::Statutory)
        }
        OrderTerms::Agreed(order) => (order, Basis::Agreed),
    };
    let basis = if debts.iter().any(|d| d.named) {
        Basis::PayerNamed
    } else {
        basis
    };
    let unit = if unit > Decimal::ZERO {
        unit
    } else {
        Decimal::new(1, 2)
    };
    let mut sorted: Vec<&Debt<K>> = debts.iter().collect();
    sorted.sort_by(|a, b| {
        rank_key(a, on, order)
            .cmp(&rank_key(b, on, order))
            .then_with(|| a.key.cmp(&b.key))
    });

    let mut parts = Vec::new();
    let mut remaining = amount.max(Decimal::ZERO);
    let mut paid_something = false;
    let mut start = 0;
    while start < sorted.len() && remaining > Decimal::ZERO {
        let key = rank_key(sorted[start], on, order);
        let end = sorted[start..]
            .iter()
            .position(|d| rank_key(d, on, order) != key)
            .map_or(sorted.len(), |n| start + n);
        let group = &sorted[start..end];
        let owed: Vec<Decimal> = group.iter().map(|d| total_owed(d)).collect();
        let total: Decimal = owed.iter().copied().sum();
        let not_due_unnamed = !group[0].named && group[0].due > on;
        if total > remaining && paid_something && not_due_unnamed {
            break;
        }
        let shares = if total <= remaining {
            owed.clone()
        } else {
            pro_rata(remaining, &owed, &owed, unit)
        };
        for (debt, share) in group.iter().zip(shares) {
            if share > Decimal::ZERO {
                settle_debt(debt, share, order, unit, &mut parts);
                remaining -= share;
                paid_something = true;
            }
        }
        start = end;
    }
    Allocation {
        parts,
        unapplied: remaining,
        basis,
    }
}

/// Splits `amount` paid to one debt over its components (art. 561, or the order `terms`
/// agreed): what [`allocate`] does inside every debt it pays, for the proposer that has
/// already chosen the debt and for the owner that books the payment against it. Returns the
/// parts (component, amount) in the order settled and what exceeds the debt's total owed.
#[must_use]
pub fn split(
    amount: Decimal,
    owed: &Owed,
    terms: &OrderTerms,
    unit: Decimal,
) -> (Vec<(Component, Decimal)>, Decimal) {
    let statutory;
    let order = match terms {
        OrderTerms::Statutory => {
            statutory = Order::statutory();
            &statutory
        }
        OrderTerms::Agreed(order) => order,
    };
    let unit = if unit > Decimal::ZERO {
        unit
    } else {
        Decimal::new(1, 2)
    };
    let debt = Debt {
        key: (),
        due: NaiveDate::MIN,
        security: Security::Unsecured,
        burden: Decimal::ZERO,
        named: false,
        owed: *owed,
    };
    let amount = amount.max(Decimal::ZERO);
    let share = amount.min(total_owed(&debt));
    let mut parts = Vec::new();
    settle_debt(&debt, share, order, unit, &mut parts);
    let split: Vec<(Component, Decimal)> =
        parts.into_iter().map(|p| (p.component, p.amount)).collect();
    let settled: Decimal = split.iter().map(|(_, a)| *a).sum();
    (split, amount - settled)
}

/// The sort key of a debt: named first, then the order's criteria. Debts with equal keys
/// share pro rata.
fn rank_key<K>(debt: &Debt<K>, on: NaiveDate, order: &Order) -> (bool, Vec<RankValue>) {
    let values = order
        .debts
        .iter()
        .map(|rank| match rank {
            DebtRank::DueFirst => RankValue::Flag(debt.due > on),
            DebtRank::LeastSecured => RankValue::Security(debt.security),
            DebtRank::MostBurdensome => RankValue::Burden(std::cmp::Reverse(debt.burden)),
            DebtRank::EarliestDue => RankValue::Date(debt.due),
        })
        .collect();
    (!debt.named, values)
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum RankValue {
    Flag(bool),
    Security(Security),
    Burden(std::cmp::Reverse<Decimal>),
    Date(NaiveDate),
}

fn total_owed<K>(debt: &Debt<K>) -> Decimal {
    Component::ALL
        .iter()
        .map(|c| debt.owed.get(*c).max(Decimal::ZERO))
        .sum()
}

/// Settles `share` (at most what the debt owes) within one debt, rank by rank.
fn settle_debt<K: Clone>(
    debt: &Debt<K>,
    share: Decimal,
    order: &Order,
    unit: Decimal,
    parts: &mut Vec<Part<K>>,
) {
    let mut left = share;
    for rank in &order.components {
        if left <= Decimal::ZERO {
            break;
        }
        let owed: Vec<Decimal> = rank
            .iter()
            .map(|c| debt.owed.get(*c).max(Decimal::ZERO))
            .collect();
        let total: Decimal = owed.iter().copied().sum();
        let amounts = if total <= left {
            owed.clone()
        } else {
            pro_rata(left, &owed, &owed, unit)
        };
        for (component, amount) in rank.iter().zip(amounts) {
            if amount > Decimal::ZERO {
                parts.push(Part {
                    debt: debt.key.clone(),
                    component: *component,
                    amount,
                });
                left -= amount;
            }
        }
    }
}

/// Shares `amount` (at most Σ `caps`) in proportion to `weights`, each rounded down to
/// `unit` and at most its cap; the units left over go one by one to the earliest entries
/// with room. The shares sum exactly to `amount` when `amount` is a multiple of `unit`;
/// otherwise the sub-unit rest goes to the first entry with room.
fn pro_rata(amount: Decimal, weights: &[Decimal], caps: &[Decimal], unit: Decimal) -> Vec<Decimal> {
    let total: Decimal = weights.iter().copied().sum();
    if total <= Decimal::ZERO {
        return vec![Decimal::ZERO; weights.len()];
    }
    let dp = unit.scale();
    let mut shares: Vec<Decimal> = weights
        .iter()
        .zip(caps)
        .map(|(w, cap)| {
            amount
                .checked_mul(*w)
                .and_then(|x| x.checked_div(total))
                .unwrap_or(Decimal::ZERO)
                .round_dp_with_strategy(dp, RoundingStrategy::ToZero)
                .min(*cap)
                .max(Decimal::ZERO)
        })
        .collect();
    let mut left = amount - shares.iter().copied().sum::<Decimal>();
    while left > Decimal::ZERO {
        let mut moved = false;
        for (share, cap) in shares.iter_mut().zip(caps) {
            if left <= Decimal::ZERO {
                break;
            }
            let step = unit.min(left).min(*cap - *share);
            if step > Decimal::ZERO {
                *share += step;
                left -= step;
                moved = true;
            }
        }
        if !moved {
            break;
        }
    }
    shares
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, d).unwrap()
    }

    fn yuan(fen: i64) -> Decimal {
        Decimal::new(fen, 2)
    }

    const FEN: Decimal = Decimal::from_parts(1, 0, 0, false, 2);

    fn debt(key: u32, due: NaiveDate, principal: i64) -> Debt<u32> {
        Debt {
            key,
            due,
            security: Security::Unsecured,
            burden: Decimal::ZERO,
            named: false,
            owed: Owed::principal(yuan(principal)),
        }
    }

    fn to(a: &Allocation<u32>, key: u32) -> Decimal {
        a.to_debt(&key)
    }

    #[test]
    fn within_one_debt_costs_then_interest_and_late_fee_then_principal() {
        // R-P11, art. 561.
        let mut d = debt(1, day(1, 1), 100_000);
        d.owed.costs = yuan(5_000);
        d.owed.interest = yuan(2_000);
        d.owed.late_fee = yuan(2_000);
        let a = allocate(
            yuan(7_000),
            day(3, 1),
            &[d.clone()],
            &OrderTerms::Statutory,
            FEN,
        );
        let by: Vec<(Component, Decimal)> =
            a.parts.iter().map(|p| (p.component, p.amount)).collect();
        // Costs in full, then the 20.00 left shared by interest and late fee.
        assert_eq!(
            by,
            vec![
                (Component::Costs, yuan(5_000)),
                (Component::Interest, yuan(1_000)),
                (Component::LateFee, yuan(1_000)),
            ]
        );
        // Paying only "the principal" leaves fees owed (R-D12): 1,000.00 pays fees first.
        let a = allocate(yuan(100_000), day(3, 1), &[d], &OrderTerms::Statutory, FEN);
        let principal: Decimal = a
            .parts
            .iter()
            .filter(|p| p.component == Component::Principal)
            .map(|p| p.amount)
            .sum();
        assert_eq!(principal, yuan(91_000));
        assert_eq!(a.basis, Basis::Statutory);
    }

    #[test]
    fn due_before_not_due_least_secured_most_burdensome_then_earliest() {
        // R-P11, art. 560.
        let on = day(6, 1);
        let mut secured = debt(1, day(1, 1), 10_000);
        secured.security = Security::Secured;
        let unsecured = debt(2, day(3, 1), 10_000);
        let mut burdensome = debt(3, day(4, 1), 10_000);
        burdensome.security = Security::Secured;
        burdensome.burden = Decimal::new(1, 3);
        let later = debt(4, day(7, 1), 10_000);
        let debts = [later, secured, burdensome, unsecured];
        let a = allocate(yuan(25_000), on, &debts, &OrderTerms::Statutory, FEN);
        assert_eq!(to(&a, 2), yuan(10_000), "the unsecured debt first");
        assert_eq!(
            to(&a, 3),
            yuan(10_000),
            "then the more burdensome secured one"
        );
        assert_eq!(to(&a, 1), yuan(5_000), "then the earlier secured one");
        assert_eq!(to(&a, 4), Decimal::ZERO, "not yet due: last");
    }

    #[test]
    fn the_payer_named_debt_wins() {
        let mut named = debt(2, day(5, 1), 10_000);
        named.named = true;
        let debts = [debt(1, day(1, 1), 10_000), named];
        let a = allocate(yuan(15_000), day(6, 1), &debts, &OrderTerms::Statutory, FEN);
        assert_eq!(to(&a, 2), yuan(10_000));
        assert_eq!(to(&a, 1), yuan(5_000));
        assert_eq!(a.basis, Basis::PayerNamed);
    }

    #[test]
    fn equal_on_all_counts_pro_rata_to_the_fen() {
        let debts = [
            debt(1, day(1, 1), 10_000),
            debt(2, day(1, 1), 20_000),
            debt(3, day(1, 1), 10_000),
        ];
        let a = allocate(yuan(10_001), day(3, 1), &debts, &OrderTerms::Statutory, FEN);
        assert_eq!(
            (to(&a, 1), to(&a, 2), to(&a, 3)),
            (yuan(2_501), yuan(5_000), yuan(2_500))
        );
    }

    #[test]
    fn a_surplus_does_not_partly_prepay_a_debt_not_yet_due() {
        let debts = [debt(1, day(3, 1), 10_000), debt(2, day(5, 1), 10_000)];
        let a = allocate(yuan(15_000), day(3, 5), &debts, &OrderTerms::Statutory, FEN);
        assert_eq!(
            (to(&a, 1), to(&a, 2), a.unapplied),
            (yuan(10_000), Decimal::ZERO, yuan(5_000))
        );
        // Nothing due yet: the earliest may be paid in part.
        let a = allocate(yuan(5_000), day(2, 20), &debts, &OrderTerms::Statutory, FEN);
        assert_eq!((to(&a, 1), a.unapplied), (yuan(5_000), Decimal::ZERO));
    }

    #[test]
    fn an_agreed_order_is_followed_and_recorded() {
        // E.g. "principal first, then fees; oldest first".
        let order = Order {
            debts: vec![DebtRank::EarliestDue],
            components: vec![
                vec![Component::Principal],
                vec![Component::LateFee, Component::Interest],
                vec![Component::Costs],
            ],
        };
        order.validate().unwrap();
        let mut d = debt(1, day(1, 1), 10_000);
        d.owed.late_fee = yuan(500);
        let a = allocate(
            yuan(10_000),
            day(2, 1),
            &[d],
            &OrderTerms::Agreed(order),
            FEN,
        );
        assert_eq!(a.parts.len(), 1);
        assert_eq!(a.parts[0].component, Component::Principal);
        assert_eq!(a.basis, Basis::Agreed);
    }

    #[test]
    fn an_order_missing_a_component_is_refused_with_the_reason() {
        let order = Order {
            debts: vec![],
            components: vec![vec![Component::Principal]],
        };
        let error = order.validate().unwrap_err();
        assert!(error.contains("costs appears 0 times"), "{error}");
    }

    fn arb_debt() -> impl Strategy<Value = Debt<u32>> {
        (
            0u32..1000,
            1u32..=28,
            1u32..=12,
            0u8..3,
            0i64..3,
            any::<bool>(),
            (0i64..5_000, 0i64..5_000, 0i64..5_000, 0i64..2_000_000),
        )
            .prop_map(|(key, d, m, sec, burden, named, (c, i, l, p))| Debt {
                key,
                due: NaiveDate::from_ymd_opt(2026, m, d).unwrap(),
                security: [Security::Unsecured, Security::Guaranteed, Security::Secured]
                    [usize::from(sec)],
                burden: Decimal::new(burden, 4),
                named,
                owed: Owed {
                    costs: yuan(c),
                    interest: yuan(i),
                    late_fee: yuan(l),
                    principal: yuan(p),
                },
            })
    }

    fn arb_debts() -> impl Strategy<Value = Vec<Debt<u32>>> {
        prop::collection::vec(arb_debt(), 0..8).prop_map(|mut v| {
            // Keys are identities: unique.
            for (i, d) in v.iter_mut().enumerate() {
                d.key = u32::try_from(i).unwrap();
            }
            v
        })
    }

    proptest! {
        #[test]
        fn no_fen_is_lost_or_created_and_nothing_is_overpaid(
            debts in arb_debts(), fen in 0i64..10_000_000, m in 1u32..=12
        ) {
            let on = NaiveDate::from_ymd_opt(2026, m, 15).unwrap();
            let amount = yuan(fen);
            let a = allocate(amount, on, &debts, &OrderTerms::Statutory, FEN);
            let applied: Decimal = a.parts.iter().map(|p| p.amount).sum();
            prop_assert_eq!(applied + a.unapplied, amount);
            prop_assert!(a.unapplied >= Decimal::ZERO);
            for d in &debts {
                for c in Component::ALL {
                    let paid: Decimal = a.parts.iter()
                        .filter(|p| p.debt == d.key && p.component == c)
                        .map(|p| p.amount).sum();
                    prop_assert!(paid <= d.owed.get(c));
                }
            }
            for p in &a.parts {
                prop_assert!(p.amount > Decimal::ZERO);
                prop_assert_eq!(p.amount, p.amount.round_dp(2));
            }
        }

        #[test]
        fn the_order_is_respected(debts in arb_debts(), fen in 0i64..10_000_000, m in 1u32..=12) {
            let on = NaiveDate::from_ymd_opt(2026, m, 15).unwrap();
            let a = allocate(yuan(fen), on, &debts, &OrderTerms::Statutory, FEN);
            let paid = |k: u32| a.to_debt(&k);
            let settled = |d: &Debt<u32>| paid(d.key) == d.owed.total();
            for d in debts.iter().filter(|d| paid(d.key) > Decimal::ZERO) {
                // Anyone paid means every debt ranked strictly before it is settled.
                for e in &debts {
                    let before = (e.named && !d.named)
                        || (e.named == d.named && e.due <= on && d.due > on);
                    if before {
                        prop_assert!(settled(e), "{:?} paid before {:?} was settled", d.key, e.key);
                    }
                }
                // Within the debt: a later rank only after the earlier ranks are settled.
                let comp = |c: Component| a.parts.iter()
                    .filter(|p| p.debt == d.key && p.component == c)
                    .map(|p| p.amount).sum::<Decimal>();
                let fees_paid = comp(Component::Interest) + comp(Component::LateFee);
                if fees_paid > Decimal::ZERO {
                    prop_assert_eq!(comp(Component::Costs), d.owed.costs);
                }
                if comp(Component::Principal) > Decimal::ZERO {
                    prop_assert_eq!(comp(Component::Costs), d.owed.costs);
                    prop_assert_eq!(fees_paid, d.owed.interest + d.owed.late_fee);
                }
            }
            // Money is left over only when every debt is settled or the next is not yet due.
            if a.unapplied > Decimal::ZERO {
                for d in &debts {
                    prop_assert!(settled(d) || (!d.named && d.due > on), "{:?} left open with money unapplied", d.key);
                }
            }
        }

        #[test]
        fn split_is_what_allocate_does_inside_each_debt(
            debts in arb_debts(), fen in 0i64..10_000_000, m in 1u32..=12
        ) {
            // R-P11: payments proposes per debt with `split`, contracts books with it; both
            // must equal the parts of the one allocation rule.
            let on = NaiveDate::from_ymd_opt(2026, m, 15).unwrap();
            let a = allocate(yuan(fen), on, &debts, &OrderTerms::Statutory, FEN);
            for d in &debts {
                let paid = a.to_debt(&d.key);
                let (parts, rest) = split(paid, &d.owed, &OrderTerms::Statutory, FEN);
                let expected: Vec<(Component, Decimal)> = a.parts.iter()
                    .filter(|p| p.debt == d.key)
                    .map(|p| (p.component, p.amount))
                    .collect();
                prop_assert_eq!(parts, expected);
                prop_assert_eq!(rest, Decimal::ZERO);
            }
        }

        #[test]
        fn split_never_exceeds_a_component_and_returns_the_excess(
            debt in arb_debt(), fen in 0i64..10_000_000
        ) {
            let (parts, rest) = split(yuan(fen), &debt.owed, &OrderTerms::Statutory, FEN);
            let settled: Decimal = parts.iter().map(|(_, a)| *a).sum();
            prop_assert_eq!(settled + rest, yuan(fen));
            prop_assert_eq!(rest, (yuan(fen) - debt.owed.total()).max(Decimal::ZERO));
            for (c, a) in &parts {
                prop_assert!(*a > Decimal::ZERO && *a <= debt.owed.get(*c));
            }
        }

        #[test]
        fn the_input_order_does_not_matter(debts in arb_debts(), fen in 0i64..10_000_000, seed in any::<u64>()) {
            let on = NaiveDate::from_ymd_opt(2026, 6, 15).unwrap();
            let mut shuffled = debts.clone();
            let n = shuffled.len();
            if n > 1 {
                let k = usize::try_from(seed % (n as u64)).unwrap();
                shuffled.rotate_left(k);
                shuffled.swap(0, n - 1);
            }
            let a = allocate(yuan(fen), on, &debts, &OrderTerms::Statutory, FEN);
            let b = allocate(yuan(fen), on, &shuffled, &OrderTerms::Statutory, FEN);
            prop_assert_eq!(a, b);
        }
    }
}
