//! Pure rules of receivables: no I/O, tested in place.

pub mod amendment;
pub mod billing;
mod conservation;
pub mod discount;
pub mod hold;
pub mod owed;
pub mod readings;
pub mod schedule;
pub mod statement;
pub mod waiver;
pub mod write_off;

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

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
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
}
