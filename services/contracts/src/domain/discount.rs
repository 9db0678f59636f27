//! Discounts as contract terms (R-C7): a lump-sum discount on the price, stepped discounts for
//! paying an installment early, and interest-free down-payment installments. Pure: the API
//! checks the terms and bills the discounted price; the booking of a payment asks
//! [`early_payment`] whether it earns a discount.

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// One step of an early-payment discount: paying in full at least `days_before_due` days
/// before the due date takes `percent` off the installment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Days before the due date, at least one.
    pub days_before_due: u32,
    /// Percent off, more than 0 and less than 100.
    pub percent: Decimal,
}

/// A contract's discount terms.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Terms {
    /// Percent off the price for paying it in one sum (e.g. 5), if offered.
    pub lump_sum_percent: Option<Decimal>,
    /// Early-payment steps, by days before due, ascending.
    pub early_payment: Vec<Step>,
}

/// A field of the terms that is wrong, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermsError {
    /// The field, e.g. `discount.early_payment[1].percent`.
    pub field: String,
    /// Why, and what to do.
    pub reason: String,
}

fn percent_ok(p: Decimal) -> bool {
    p > Decimal::ZERO && p < Decimal::ONE_HUNDRED
}

impl Terms {
    /// Whether there is anything to apply.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.lump_sum_percent.is_none() && self.early_payment.is_empty()
    }

    /// Checks the terms: percents in (0, 100), steps with distinct days at least one, and a
    /// step further from the due date never worth less than a nearer one. Steps come back
    /// sorted by days.
    pub fn checked(mut self) -> Result<Self, TermsError> {
        if let Some(p) = self.lump_sum_percent
            && !percent_ok(p)
        {
            return Err(TermsError {
                field: "discount.lump_sum_percent".to_owned(),
                reason: format!("{p} is not a percentage between 0 and 100 (e.g. 5 for 5 %)"),
            });
        }
        for (i, s) in self.early_payment.iter().enumerate() {
            if s.days_before_due == 0 {
                return Err(TermsError {
                    field: format!("discount.early_payment[{i}].days_before_due"),
                    reason: "must be at least 1 (paying on the due date is on time, not early)"
                        .to_owned(),
                });
            }
            if !percent_ok(s.percent) {
                return Err(TermsError {
                    field: format!("discount.early_payment[{i}].percent"),
                    reason: format!("{} is not a percentage between 0 and 100", s.percent),
                });
            }
        }
        self.early_payment.sort_by_key(|s| s.days_before_due);
        for pair in self.early_payment.windows(2) {
            if pair[0].days_before_due == pair[1].days_before_due {
                return Err(TermsError {
                    field: "discount.early_payment".to_owned(),
                    reason: format!(
                        "two steps at {} days before the due date; give each number of days once",
                        pair[0].days_before_due
                    ),
                });
            }
            if pair[1].percent < pair[0].percent {
                return Err(TermsError {
                    field: "discount.early_payment".to_owned(),
                    reason: format!(
                        "paying {} days early earns {} % but {} days early only {} %; earlier payment must never earn less",
                        pair[0].days_before_due,
                        pair[0].percent,
                        pair[1].days_before_due,
                        pair[1].percent
                    ),
                });
            }
        }
        Ok(self)
    }
}

/// The price billed for a lump sum: the price less `percent`, to the currency's unit
/// (the discount rounded half away from zero).
#[must_use]
pub fn lump_sum_price(price: Decimal, percent: Decimal, minor_units: u32) -> Decimal {
    let discount = (price * percent / Decimal::ONE_HUNDRED)
        .round_dp_with_strategy(minor_units, RoundingStrategy::MidpointAwayFromZero);
    price - discount
}

/// What paying an installment early earns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Earned {
    /// The step reached.
    pub step: Step,
    /// The discount, in the currency's unit.
    pub amount: Decimal,
}

/// The discount earned by a payment on `paid_on` towards an installment of `billed` due on
/// `due`, when it leaves at most `open_after` of the principal open and nothing else owed:
/// the largest step reached, provided the payment covers the installment less that discount
/// (`open_after` ≤ the discount). None when not early enough, not enough paid, or no terms.
#[must_use]
pub fn early_payment(
    terms: &Terms,
    billed: Decimal,
    due: NaiveDate,
    paid_on: NaiveDate,
    open_after: Decimal,
    minor_units: u32,
) -> Option<Earned> {
    let days_early = u32::try_from((due - paid_on).num_days()).ok()?;
    let step = terms
        .early_payment
        .iter()
        .rev()
        .find(|s| s.days_before_due <= days_early)?;
    let amount = (billed * step.percent / Decimal::ONE_HUNDRED)
        .round_dp_with_strategy(minor_units, RoundingStrategy::MidpointAwayFromZero);
    (open_after > Decimal::ZERO && open_after <= amount).then_some(Earned {
        step: *step,
        amount: open_after,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap_or_default()
    }

    fn pct(p: i64) -> Decimal {
        Decimal::from(p)
    }

    fn stepped() -> Terms {
        Terms {
            lump_sum_percent: None,
            early_payment: vec![
                Step {
                    days_before_due: 30,
                    percent: pct(2),
                },
                Step {
                    days_before_due: 10,
                    percent: pct(1),
                },
            ],
        }
        .checked()
        .unwrap()
    }

    #[test]
    fn a_lump_sum_pays_the_price_less_five_percent() {
        // R-C7: lump-sum payers may get a 5 % discount.
        assert_eq!(
            lump_sum_price(Decimal::new(123_456_789, 2), pct(5), 2),
            Decimal::new(117_283_950, 2)
        );
    }

    #[test]
    fn the_largest_step_reached_applies_if_the_rest_is_paid() {
        // R-C7: stepped early-payment discounts.
        let t = stepped();
        let billed = Decimal::new(1_000_000, 2);
        // 35 days early, 9800.00 paid: 200.00 (2 %) left, earned.
        assert_eq!(
            early_payment(&t, billed, d(5, 10), d(4, 5), Decimal::new(20_000, 2), 2),
            Some(Earned {
                step: t.early_payment[1],
                amount: Decimal::new(20_000, 2)
            })
        );
        // 15 days early: only 1 %; 200.00 left is more than that: not earned.
        assert_eq!(
            early_payment(&t, billed, d(5, 10), d(4, 25), Decimal::new(20_000, 2), 2),
            None
        );
        assert!(
            early_payment(&t, billed, d(5, 10), d(4, 25), Decimal::new(10_000, 2), 2).is_some()
        );
        // 5 days early, on time or late: nothing.
        for paid in [d(5, 5), d(5, 10), d(5, 20)] {
            assert_eq!(
                early_payment(&t, billed, d(5, 10), paid, Decimal::new(1, 2), 2),
                None
            );
        }
        // Paid in full: nothing left to discount.
        assert_eq!(
            early_payment(&t, billed, d(5, 10), d(4, 1), Decimal::ZERO, 2),
            None
        );
    }

    #[test]
    fn bad_terms_are_refused_by_field() {
        let e = Terms {
            lump_sum_percent: Some(pct(100)),
            early_payment: vec![],
        }
        .checked()
        .unwrap_err();
        assert_eq!(e.field, "discount.lump_sum_percent");
        let e = Terms {
            lump_sum_percent: None,
            early_payment: vec![
                Step {
                    days_before_due: 10,
                    percent: pct(3),
                },
                Step {
                    days_before_due: 30,
                    percent: pct(1),
                },
            ],
        }
        .checked()
        .unwrap_err();
        assert_eq!(e.field, "discount.early_payment");
        assert!(e.reason.contains("never earn less"), "{}", e.reason);
        let e = Terms {
            lump_sum_percent: None,
            early_payment: vec![Step {
                days_before_due: 0,
                percent: pct(1),
            }],
        }
        .checked()
        .unwrap_err();
        assert_eq!(e.field, "discount.early_payment[0].days_before_due");
    }

    proptest! {
        #[test]
        fn a_discount_is_never_more_than_its_step(
            billed in 1i64..1_000_000_000, left in 0i64..1_000_000_000, early in 0i64..60
        ) {
            let t = stepped();
            let billed = Decimal::new(billed, 2);
            let left = Decimal::new(left, 2).min(billed);
            let due = d(6, 30);
            if let Some(e) = early_payment(&t, billed, due, due - chrono::Days::new(u64::try_from(early).unwrap_or(0)), left, 2) {
                prop_assert!(e.amount <= (billed * e.step.percent / Decimal::ONE_HUNDRED).round_dp(2) + Decimal::new(1, 2));
                prop_assert_eq!(e.amount, left);
                prop_assert!(u32::try_from(early).unwrap_or(0) >= e.step.days_before_due);
            }
        }
    }
}
