//! What is owed on one receivable, by component (issue 12 item 3): the open principal, the
//! late fee (R-C4) and interest (R-C12) accrued by the daily cycle, and collection costs
//! booked by dunning and legal (R-D12). Each stays owed until paid or waived, so paying the
//! principal alone leaves the rest collectible.
//!
//! For every component the books keep `charged = settled + open`, where settled is what was
//! paid, waived or written off: accruals move `charged`, settlements move `open`, and
//! nothing here ever lets `open` fall below zero or `settled` change behind a settlement.

use money::allocation::{self, OrderTerms};
use rust_decimal::Decimal;

pub use money::allocation::{Component, Owed};

use super::Rejection;

/// One component's book: what accrued or was booked, and what of it is still open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Book {
    /// Accrued (late fee, interest), booked (costs) or billed (principal).
    pub charged: Decimal,
    /// Still owed.
    pub open: Decimal,
}

impl Book {
    /// Paid, waived or written off so far.
    #[must_use]
    pub fn settled(&self) -> Decimal {
        self.charged - self.open
    }

    /// A new accrued total (the daily cycle recomputes late fee and interest through its
    /// date). What was already settled stays settled: a recomputation lower than that (a
    /// payment booked with an earlier date) keeps the charge at what was settled.
    #[must_use]
    pub fn accrue_to(self, computed: Decimal) -> Book {
        let settled = self.settled();
        let charged = computed.max(settled).max(Decimal::ZERO);
        Book {
            charged,
            open: charged - settled,
        }
    }
}

/// What an allocation books against one receivable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    /// Component and amount, in the order settled.
    pub parts: Vec<(Component, Decimal)>,
    /// What is owed after it.
    pub after: Owed,
}

/// Books `amount` (in `payment_currency`) against what is owed with the platform's one rule
/// (R-P11: costs, then interest and late fee pro rata, then principal; or the order the
/// contract agreed). Refused when it is more than everything owed, in another currency or
/// not positive: the owner of balances never lets a receivable be overpaid.
pub fn book(
    owed: &Owed,
    receivable_currency: &str,
    amount: Decimal,
    payment_currency: &str,
    terms: &OrderTerms,
    unit: Decimal,
) -> Result<Booking, Rejection> {
    if receivable_currency != payment_currency {
        return Err(Rejection::CurrencyMismatch {
            receivable: receivable_currency.to_owned(),
            payment: payment_currency.to_owned(),
        });
    }
    if amount <= Decimal::ZERO {
        return Err(Rejection::NotPositive);
    }
    let total = owed.total();
    if amount > total {
        return Err(Rejection::Overpayment { open: total });
    }
    let (parts, _) = allocation::split(amount, owed, terms, unit);
    let mut after = *owed;
    for (component, paid) in &parts {
        *slot(&mut after, *component) -= *paid;
    }
    Ok(Booking { parts, after })
}

/// Takes `amount` off one component (a waiver or write-off), or says why not.
pub fn settle(owed: &Owed, component: Component, amount: Decimal) -> Result<Owed, SettleError> {
    if amount <= Decimal::ZERO {
        return Err(SettleError::NotPositive);
    }
    let open = owed.get(component);
    if amount > open {
        return Err(SettleError::MoreThanOwed { open });
    }
    let mut after = *owed;
    *slot(&mut after, component) -= amount;
    Ok(after)
}

/// Why a component cannot be reduced by an amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettleError {
    /// Zero or negative.
    NotPositive,
    /// More than is owed of it now.
    MoreThanOwed {
        /// What is owed of it now.
        open: Decimal,
    },
}

fn slot(owed: &mut Owed, component: Component) -> &mut Decimal {
    match component {
        Component::Costs => &mut owed.costs,
        Component::Interest => &mut owed.interest,
        Component::LateFee => &mut owed.late_fee,
        Component::Principal => &mut owed.principal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const FEN: Decimal = Decimal::from_parts(1, 0, 0, false, 2);

    fn yuan(fen: i64) -> Decimal {
        Decimal::new(fen, 2)
    }

    fn owed(costs: i64, interest: i64, late_fee: i64, principal: i64) -> Owed {
        Owed {
            costs: yuan(costs),
            interest: yuan(interest),
            late_fee: yuan(late_fee),
            principal: yuan(principal),
        }
    }

    #[test]
    fn fees_are_paid_before_principal() {
        // R-P11 (art. 561), R-D12: costs, then interest and late fee, then principal.
        let o = owed(1_000, 0, 3_000, 100_000);
        let b = book(&o, "CNY", yuan(10_000), "CNY", &OrderTerms::Statutory, FEN).unwrap();
        assert_eq!(
            b.parts,
            vec![
                (Component::Costs, yuan(1_000)),
                (Component::LateFee, yuan(3_000)),
                (Component::Principal, yuan(6_000)),
            ]
        );
        assert_eq!(b.after, owed(0, 0, 0, 94_000));
    }

    #[test]
    fn paying_the_principal_amount_leaves_the_fee_owed() {
        // R-D12: a payment of exactly the principal settles the fee first; the rest of the
        // principal stays owed.
        let o = owed(0, 0, 3_000, 100_000);
        let b = book(&o, "CNY", yuan(100_000), "CNY", &OrderTerms::Statutory, FEN).unwrap();
        assert_eq!(b.after, owed(0, 0, 0, 3_000));
    }

    #[test]
    fn more_than_owed_another_currency_or_nothing_is_refused() {
        let o = owed(0, 100, 100, 1_000);
        assert_eq!(
            book(&o, "CNY", yuan(1_201), "CNY", &OrderTerms::Statutory, FEN),
            Err(Rejection::Overpayment { open: yuan(1_200) })
        );
        assert!(matches!(
            book(&o, "CNY", yuan(1), "USD", &OrderTerms::Statutory, FEN),
            Err(Rejection::CurrencyMismatch { .. })
        ));
        assert_eq!(
            book(&o, "CNY", Decimal::ZERO, "CNY", &OrderTerms::Statutory, FEN),
            Err(Rejection::NotPositive)
        );
    }

    #[test]
    fn a_lower_recomputation_never_unsettles_what_was_paid() {
        let paid_fee = Book {
            charged: yuan(500),
            open: yuan(100),
        };
        assert_eq!(
            paid_fee.accrue_to(yuan(300)),
            Book {
                charged: yuan(400),
                open: Decimal::ZERO
            }
        );
        assert_eq!(
            paid_fee.accrue_to(yuan(700)),
            Book {
                charged: yuan(700),
                open: yuan(300)
            }
        );
    }

    #[test]
    fn a_waiver_is_at_most_what_is_owed() {
        let o = owed(0, 0, 500, 1_000);
        assert_eq!(
            settle(&o, Component::LateFee, yuan(501)),
            Err(SettleError::MoreThanOwed { open: yuan(500) })
        );
        assert_eq!(
            settle(&o, Component::LateFee, yuan(200)).unwrap(),
            owed(0, 0, 300, 1_000)
        );
        assert_eq!(
            settle(&o, Component::LateFee, Decimal::ZERO),
            Err(SettleError::NotPositive)
        );
    }

    proptest! {
        #[test]
        fn booking_conserves_every_fen(
            c in 0i64..50_000, i in 0i64..50_000, l in 0i64..50_000, p in 0i64..5_000_000,
            pay in 1i64..6_000_000
        ) {
            let o = owed(c, i, l, p);
            match book(&o, "CNY", yuan(pay), "CNY", &OrderTerms::Statutory, FEN) {
                Ok(b) => {
                    let paid: Decimal = b.parts.iter().map(|(_, a)| *a).sum();
                    prop_assert_eq!(paid, yuan(pay));
                    prop_assert_eq!(b.after.total() + paid, o.total());
                    for comp in Component::ALL {
                        prop_assert!(b.after.get(comp) >= Decimal::ZERO);
                    }
                }
                Err(Rejection::Overpayment { open }) => {
                    prop_assert!(yuan(pay) > o.total());
                    prop_assert_eq!(open, o.total());
                }
                Err(other) => prop_assert!(false, "unexpected {other:?}"),
            }
        }

        #[test]
        fn accruals_keep_settled_amounts(
            charged in 0i64..1_000_000, paid_share in 0i64..=100, computed in 0i64..2_000_000
        ) {
            let charged = yuan(charged);
            let settled = (charged * Decimal::new(paid_share, 2)).round_dp(2);
            let b = Book { charged, open: charged - settled };
            let after = b.accrue_to(yuan(computed));
            prop_assert_eq!(after.settled(), settled);
            prop_assert!(after.open >= Decimal::ZERO);
            prop_assert!(after.charged >= yuan(computed).min(after.charged));
        }
    }
}
