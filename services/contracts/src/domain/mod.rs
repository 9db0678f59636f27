//! Pure rules of receivables: no I/O, tested in place.

pub mod amendment;
pub mod billing;
pub mod hold;
pub mod readings;
pub mod schedule;
pub mod statement;

use chrono::NaiveDate;
use rust_decimal::Decimal;

/// Where a receivable stands in its life (R-C11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Not yet due, nothing paid.
    Scheduled,
    /// Some paid, not overdue.
    PartiallyPaid,
    /// Nothing left open.
    Paid,
    /// Past its due date with an open balance.
    Overdue,
}

/// Derives the status from the balance and whether a daily cycle found it overdue.
pub fn status(amount: Decimal, open: Decimal, overdue: bool) -> Status {
    if open.is_zero() {
        Status::Paid
    } else if overdue {
        Status::Overdue
    } else if open < amount {
        Status::PartiallyPaid
    } else {
        Status::Scheduled
    }
}

/// Calendar days overdue on `as_of` for a receivable due on `due`: zero on the due date
/// itself, one on the day after (R-C11; the money crate's definition, shared with late fees).
/// Due dates were already moved off long holidays when the schedule was made (R-C6).
pub fn days_overdue(due: NaiveDate, as_of: NaiveDate) -> u32 {
    money::aging::days_overdue(due, as_of)
}

/// Why an allocation is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// It would take the open balance below zero.
    Overpayment { open: Decimal },
    /// Payment and receivable are in different currencies.
    CurrencyMismatch { receivable: String, payment: String },
    /// Zero or negative allocations are never applied.
    NotPositive,
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rejection::Overpayment { open } => {
                write!(
                    f,
                    "allocation exceeds the open balance of {open}; it would overpay the receivable"
                )
            }
            Rejection::CurrencyMismatch {
                receivable,
                payment,
            } => {
                write!(
                    f,
                    "allocation is in {payment} but the receivable is in {receivable}"
                )
            }
            Rejection::NotPositive => write!(f, "allocation amount must be greater than zero"),
        }
    }
}

/// Decides an allocation of `amount` against an open balance: the new open balance, or why
/// it is refused. The owner of balances confirms every allocation (ARCHITECTURE: balances
/// live in exactly one place), so an overpayment is refused here even if payments proposed it.
pub fn allocate(
    open: Decimal,
    receivable_currency: &str,
    amount: Decimal,
    payment_currency: &str,
) -> Result<Decimal, Rejection> {
    if receivable_currency != payment_currency {
        return Err(Rejection::CurrencyMismatch {
            receivable: receivable_currency.to_owned(),
            payment: payment_currency.to_owned(),
        });
    }
    if amount <= Decimal::ZERO {
        return Err(Rejection::NotPositive);
    }
    if amount > open {
        return Err(Rejection::Overpayment { open });
    }
    Ok(open - amount)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn allocation_lowers_the_open_balance_exactly() {
        assert_eq!(
            allocate(d("10000.00"), "CNY", d("2500.01"), "CNY"),
            Ok(d("7499.99"))
        );
        assert_eq!(
            allocate(d("10000.00"), "CNY", d("10000.00"), "CNY"),
            Ok(Decimal::ZERO)
        );
    }

    #[test]
    fn overpayment_is_rejected() {
        assert_eq!(
            allocate(d("100.00"), "CNY", d("100.01"), "CNY"),
            Err(Rejection::Overpayment { open: d("100.00") })
        );
    }

    #[test]
    fn currency_mismatch_and_non_positive_are_rejected() {
        assert!(matches!(
            allocate(d("1"), "CNY", d("1"), "USD"),
            Err(Rejection::CurrencyMismatch { .. })
        ));
        assert_eq!(
            allocate(d("1"), "CNY", d("0"), "CNY"),
            Err(Rejection::NotPositive)
        );
    }

    #[test]
    fn status_follows_balance_and_overdue_flag() {
        assert_eq!(status(d("10"), d("10"), false), Status::Scheduled);
        assert_eq!(status(d("10"), d("4"), false), Status::PartiallyPaid);
        assert_eq!(status(d("10"), d("4"), true), Status::Overdue);
        assert_eq!(status(d("10"), d("0"), true), Status::Paid);
    }

    #[test]
    fn days_overdue_counts_calendar_days_after_due() {
        let due = NaiveDate::from_ymd_opt(2026, 1, 10).unwrap();
        assert_eq!(days_overdue(due, due), 0);
        assert_eq!(
            days_overdue(due, NaiveDate::from_ymd_opt(2026, 1, 11).unwrap()),
            1
        );
        assert_eq!(
            days_overdue(due, NaiveDate::from_ymd_opt(2026, 2, 12).unwrap()),
            33
        );
        assert_eq!(
            days_overdue(due, NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()),
            0
        );
    }

    proptest! {
        // Money is never created or lost by an allocation: applied + remaining = open before.
        #[test]
        fn allocation_conserves_money(open in 0i64..10_000_000_000, amount in 1i64..10_000_000_000) {
            let open = Decimal::new(open, 2);
            let amount = Decimal::new(amount, 2);
            match allocate(open, "CNY", amount, "CNY") {
                Ok(rest) => {
                    prop_assert_eq!(rest + amount, open);
                    prop_assert!(rest >= Decimal::ZERO);
                }
                Err(Rejection::Overpayment { .. }) => prop_assert!(amount > open),
                Err(other) => prop_assert!(false, "unexpected rejection {other}"),
            }
        }
    }
}
