//! Write-offs of small differences (R-P12): what contracts does with a request from payments.
//! A request above the tolerance is refused; one that needs approval (the policy said so, or
//! it is above the approval threshold here) waits for a person other than the requester
//! (the maker-checker of [`super::waiver`]); the rest is booked at once. Booking takes the
//! amount off what is owed in the one allocation order (R-P11), never more than is owed.

use rust_decimal::Decimal;

use super::owed::{Component, Owed};
use money::allocation::{OrderTerms, split};

/// Where a write-off stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Waiting for a person.
    Proposed,
    /// Booked against the receivable.
    Booked,
    /// Decided against (or refused on arrival).
    Rejected,
}

impl Status {
    /// The stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Proposed => "proposed",
            Status::Booked => "booked",
            Status::Rejected => "rejected",
        }
    }

    /// Parses a stored name.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "proposed" => Some(Status::Proposed),
            "booked" => Some(Status::Booked),
            "rejected" => Some(Status::Rejected),
            _ => None,
        }
    }
}

/// The limits contracts enforces (`WRITE_OFF_TOLERANCE`, `WRITE_OFF_APPROVAL_ABOVE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest difference ever written off.
    pub tolerance: Decimal,
    /// Above this a person approves.
    pub approval_above: Decimal,
}

impl Default for Limits {
    /// The cash-application policy's defaults: 5.00 tolerance, approval above 1.00.
    fn default() -> Self {
        Self {
            tolerance: Decimal::new(500, 2),
            approval_above: Decimal::new(100, 2),
        }
    }
}

/// What to do with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// Book it now, within the policy.
    Book,
    /// Keep it proposed for a person.
    AwaitApproval,
    /// Refuse it, with the reason.
    Refuse(String),
}

/// Decides a request for `amount` against what is owed now.
#[must_use]
pub fn dispose(
    amount: Decimal,
    owed: &Owed,
    limits: Limits,
    approval_required: bool,
) -> Disposition {
    if amount <= Decimal::ZERO {
        return Disposition::Refuse(format!("amount {amount} is not positive"));
    }
    if amount > limits.tolerance {
        return Disposition::Refuse(format!(
            "{amount} is more than the write-off tolerance {} (WRITE_OFF_TOLERANCE); collect it",
            limits.tolerance
        ));
    }
    if owed.total().is_zero() {
        return Disposition::Refuse("nothing is owed on the receivable any more".to_owned());
    }
    if approval_required || amount > limits.approval_above {
        Disposition::AwaitApproval
    } else {
        Disposition::Book
    }
}

/// What booking `amount` takes off each component (at most what is owed), and what is owed
/// after it.
#[must_use]
pub fn book(owed: &Owed, amount: Decimal, unit: Decimal) -> (Vec<(Component, Decimal)>, Owed) {
    let (parts, _) = split(amount.min(owed.total()), owed, &OrderTerms::Statutory, unit);
    let mut after = *owed;
    for (component, x) in &parts {
        match component {
            Component::Costs => after.costs -= *x,
            Component::Interest => after.interest -= *x,
            Component::LateFee => after.late_fee -= *x,
            Component::Principal => after.principal -= *x,
        }
    }
    (parts, after)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const FEN: Decimal = Decimal::from_parts(1, 0, 0, false, 2);

    fn principal(fen: i64) -> Owed {
        Owed::principal(Decimal::new(fen, 2))
    }

    #[test]
    fn within_the_threshold_it_is_booked_above_it_a_person_decides() {
        // R-P12: approval above a threshold; nothing above the tolerance.
        let l = Limits::default();
        assert_eq!(
            dispose(Decimal::new(30, 2), &principal(30), l, false),
            Disposition::Book
        );
        assert_eq!(
            dispose(Decimal::new(30, 2), &principal(30), l, true),
            Disposition::AwaitApproval
        );
        assert_eq!(
            dispose(Decimal::new(250, 2), &principal(250), l, false),
            Disposition::AwaitApproval
        );
        assert!(matches!(
            dispose(Decimal::new(501, 2), &principal(501), l, false),
            Disposition::Refuse(r) if r.contains("WRITE_OFF_TOLERANCE")
        ));
        assert!(matches!(
            dispose(Decimal::new(30, 2), &principal(0), l, false),
            Disposition::Refuse(_)
        ));
    }

    #[test]
    fn booking_never_takes_more_than_is_owed() {
        let owed = Owed {
            late_fee: Decimal::new(2, 2),
            ..principal(28)
        };
        let (parts, after) = book(&owed, Decimal::new(50, 2), FEN);
        assert_eq!(
            parts,
            vec![
                (Component::LateFee, Decimal::new(2, 2)),
                (Component::Principal, Decimal::new(28, 2))
            ]
        );
        assert!(after.total().is_zero());
    }

    proptest! {
        #[test]
        fn booking_conserves_money(p in 0i64..1_000, f in 0i64..100, x in 1i64..600) {
            let owed = Owed { late_fee: Decimal::new(f, 2), ..principal(p) };
            let (parts, after) = book(&owed, Decimal::new(x, 2), FEN);
            let taken: Decimal = parts.iter().map(|(_, a)| *a).sum();
            prop_assert_eq!(taken + after.total(), owed.total());
            prop_assert_eq!(taken, Decimal::new(x, 2).min(owed.total()));
            for c in Component::ALL {
                prop_assert!(after.get(c) >= Decimal::ZERO);
            }
        }
    }
}
