//! Refunds of an unapplied surplus (R-P9: separation of duties): the status machine and the
//! rules for how much may be refunded, in one place, pure.
//!
//! ```text
//! requested ──approve (another person)──► approved   (booked: the surplus is reduced)
//!     │ ──reject (another person, reason)──► rejected
//!     └ ──cancel (the requester)─────────► cancelled
//! ```
//!
//! What may be refunded of a payment is its unapplied surplus less what is already approved
//! and what is requested and still waiting (a waiting request reserves its amount, so two
//! requests can never together ask for more than there is), never negative.

use std::fmt;

use rust_decimal::Decimal;

use super::status::Unknown;

/// Where a refund stands (`refunds.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum RefundStatus {
    /// Asked for by one person, waiting for another to decide (R-P9).
    Requested,
    /// Approved by another person and booked: the payment's surplus is reduced.
    Approved,
    /// Refused by another person, with a reason.
    Rejected,
    /// Withdrawn by the person who requested it.
    Cancelled,
}

impl RefundStatus {
    /// Every status, in the machine's order.
    pub(crate) const ALL: [Self; 4] = [
        Self::Requested,
        Self::Approved,
        Self::Rejected,
        Self::Cancelled,
    ];

    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Cancelled => "cancelled",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Self, Unknown> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| Unknown {
                what: "refund status",
                value: s.to_owned(),
            })
    }
}

impl fmt::Display for RefundStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a refund may not be requested or decided. Each names the request field it concerns
/// (`field`) so the API can answer `INVALID_ARGUMENT` naming it, or says which rule refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RefundError {
    /// The amount is zero or negative.
    AmountNotPositive { amount: Decimal },
    /// More than is left to refund of the payment.
    MoreThanRefundable {
        amount: Decimal,
        left: Decimal,
        currency: String,
    },
    /// Another currency than the payment's surplus.
    CurrencyDiffers { asked: String, payment: String },
    /// A reason is required (`field`: `reason`).
    ReasonRequired { field: &'static str },
    /// R-P9: the requester may not approve or reject their own request.
    SameAsRequester { requester: String, action: Action },
    /// Only the requester may cancel.
    NotTheRequester { requester: String },
    /// The refund is no longer waiting for a decision.
    AlreadyDecided {
        status: RefundStatus,
        action: Action,
    },
}

/// What a person does with a requested refund.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    Approve,
    Reject,
    Cancel,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Approve => "approve",
            Self::Reject => "reject",
            Self::Cancel => "cancel",
        })
    }
}

impl RefundError {
    /// The request field the error is about, when it is about one (`INVALID_ARGUMENT`).
    pub(crate) fn field(&self) -> Option<&'static str> {
        match self {
            Self::AmountNotPositive { .. } | Self::MoreThanRefundable { .. } => Some("amount"),
            Self::CurrencyDiffers { .. } => Some("amount.currency"),
            Self::ReasonRequired { field } => Some(*field),
            Self::SameAsRequester { .. }
            | Self::NotTheRequester { .. }
            | Self::AlreadyDecided { .. } => None,
        }
    }
}

impl fmt::Display for RefundError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AmountNotPositive { amount } => {
                write!(f, "must be greater than zero, got {amount}")
            }
            Self::MoreThanRefundable {
                amount,
                left,
                currency,
            } => write!(
                f,
                "{amount} {currency} is more than the {left} {currency} left to refund of the payment's unapplied surplus (less refunds approved or waiting for approval); ask for at most {left} {currency}"
            ),
            Self::CurrencyDiffers { asked, payment } => write!(
                f,
                "the payment's surplus is in {payment}, not {asked}; a refund is paid in the payment's currency"
            ),
            Self::ReasonRequired { .. } => f.write_str(
                "is required: say why (e.g. \"overpaid the final installment; customer asked for the money back\")",
            ),
            Self::SameAsRequester { requester, action } => write!(
                f,
                "R-P9 separation of duties: {requester} requested this refund and may not {action} it; another cashier, a supervisor or an admin must decide"
            ),
            Self::NotTheRequester { requester } => write!(
                f,
                "only {requester}, who requested this refund, may cancel it; others approve or reject it"
            ),
            Self::AlreadyDecided { status, action } => write!(
                f,
                "the refund is already {status}; only a requested refund can be {}",
                match action {
                    Action::Approve => "approved",
                    Action::Reject => "rejected",
                    Action::Cancel => "cancelled",
                }
            ),
        }
    }
}

impl std::error::Error for RefundError {}

/// What may still be refunded of one payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refundable {
    /// The payment's unapplied surplus (more than everything open), in `currency`.
    pub(crate) surplus: Decimal,
    pub(crate) currency: String,
    /// Σ of its approved refunds.
    pub(crate) approved: Decimal,
    /// Σ of its refunds requested and waiting for a decision.
    pub(crate) waiting: Decimal,
}

impl Refundable {
    /// What a new request may ask for at most: never negative.
    pub(crate) fn left(&self) -> Decimal {
        (self.surplus - self.approved - self.waiting).max(Decimal::ZERO)
    }

    /// What stays unapplied once the approved refunds are paid out: never negative.
    pub(crate) fn unrefunded(&self) -> Decimal {
        (self.surplus - self.approved).max(Decimal::ZERO)
    }

    /// Checks a new request of `amount` in `currency` with `reason` against what is left.
    pub(crate) fn check_request(
        &self,
        amount: Decimal,
        currency: &str,
        reason: &str,
    ) -> Result<(), RefundError> {
        if amount <= Decimal::ZERO {
            return Err(RefundError::AmountNotPositive { amount });
        }
        if currency != self.currency {
            return Err(RefundError::CurrencyDiffers {
                asked: currency.to_owned(),
                payment: self.currency.clone(),
            });
        }
        if reason.trim().is_empty() {
            return Err(RefundError::ReasonRequired { field: "reason" });
        }
        let left = self.left();
        if amount > left {
            return Err(RefundError::MoreThanRefundable {
                amount,
                left,
                currency: self.currency.clone(),
            });
        }
        Ok(())
    }

    /// Books the approval of a waiting request of `amount`: it moves from waiting to
    /// approved. Checked again so that the approved total can never pass the surplus,
    /// whatever was stored before.
    pub(crate) fn approve(&self, amount: Decimal) -> Result<Self, RefundError> {
        let unrefunded = self.unrefunded();
        if amount <= Decimal::ZERO {
            return Err(RefundError::AmountNotPositive { amount });
        }
        if amount > unrefunded {
            return Err(RefundError::MoreThanRefundable {
                amount,
                left: unrefunded,
                currency: self.currency.clone(),
            });
        }
        Ok(Self {
            surplus: self.surplus,
            currency: self.currency.clone(),
            approved: self.approved + amount,
            waiting: (self.waiting - amount).max(Decimal::ZERO),
        })
    }
}

/// The one place the machine lives: who may move a refund from `self` and where to.
impl RefundStatus {
    /// `decider` approves a refund `requester` asked for (R-P9: not the same person).
    pub(crate) fn approve(self, requester: &str, decider: &str) -> Result<Self, RefundError> {
        self.decide(Action::Approve, requester, decider)?;
        Ok(Self::Approved)
    }

    /// `decider` rejects a refund `requester` asked for, with a reason (R-P9: not the same
    /// person; the requester withdraws their own request with `cancel`).
    pub(crate) fn reject(
        self,
        requester: &str,
        decider: &str,
        reason: &str,
    ) -> Result<Self, RefundError> {
        self.decide(Action::Reject, requester, decider)?;
        if reason.trim().is_empty() {
            return Err(RefundError::ReasonRequired { field: "reason" });
        }
        Ok(Self::Rejected)
    }

    /// The requester withdraws their own waiting request.
    pub(crate) fn cancel(self, requester: &str, by: &str) -> Result<Self, RefundError> {
        if self != Self::Requested {
            return Err(RefundError::AlreadyDecided {
                status: self,
                action: Action::Cancel,
            });
        }
        if requester != by {
            return Err(RefundError::NotTheRequester {
                requester: requester.to_owned(),
            });
        }
        Ok(Self::Cancelled)
    }

    fn decide(self, action: Action, requester: &str, decider: &str) -> Result<(), RefundError> {
        if self != Self::Requested {
            return Err(RefundError::AlreadyDecided {
                status: self,
                action,
            });
        }
        if requester == decider {
            return Err(RefundError::SameAsRequester {
                requester: requester.to_owned(),
                action,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn refundable(surplus: Decimal) -> Refundable {
        Refundable {
            surplus,
            currency: "CNY".to_owned(),
            approved: Decimal::ZERO,
            waiting: Decimal::ZERO,
        }
    }

    #[test]
    fn statuses_read_back_what_they_store() {
        for s in RefundStatus::ALL {
            assert_eq!(RefundStatus::parse(s.as_str()), Ok(s));
        }
        assert!(RefundStatus::parse("Approved").is_err());
    }

    #[test]
    fn a_request_is_positive_in_the_payments_currency_with_a_reason_and_within_what_is_left() {
        let r = refundable(d("500.00"));
        assert_eq!(r.check_request(d("500.00"), "CNY", "overpaid"), Ok(()));
        assert_eq!(r.check_request(d("0.01"), "CNY", "overpaid"), Ok(()));
        let e = r.check_request(Decimal::ZERO, "CNY", "x").unwrap_err();
        assert_eq!(e.field(), Some("amount"));
        assert!(matches!(e, RefundError::AmountNotPositive { .. }));
        assert!(r.check_request(d("-1"), "CNY", "x").is_err());
        let e = r.check_request(d("500.01"), "CNY", "x").unwrap_err();
        assert_eq!(e.field(), Some("amount"));
        assert!(e.to_string().contains("at most 500.00 CNY"), "{e}");
        let e = r.check_request(d("1"), "USD", "x").unwrap_err();
        assert_eq!(e.field(), Some("amount.currency"));
        let e = r.check_request(d("1"), "CNY", "  ").unwrap_err();
        assert_eq!(e.field(), Some("reason"));
    }

    #[test]
    fn waiting_and_approved_refunds_count_against_what_is_left_never_below_zero() {
        let r = Refundable {
            approved: d("200"),
            waiting: d("250"),
            ..refundable(d("500"))
        };
        assert_eq!(r.left(), d("50"));
        assert_eq!(r.unrefunded(), d("300"));
        assert!(r.check_request(d("50.01"), "CNY", "x").is_err());
        let over = Refundable {
            approved: d("600"),
            ..refundable(d("500"))
        };
        assert_eq!(over.left(), Decimal::ZERO);
        assert_eq!(over.unrefunded(), Decimal::ZERO);
    }

    #[test]
    fn approving_moves_the_amount_from_waiting_to_approved_and_never_past_the_surplus() {
        let r = Refundable {
            waiting: d("300"),
            ..refundable(d("500"))
        };
        let after = r.approve(d("300")).unwrap();
        assert_eq!((after.approved, after.waiting), (d("300"), Decimal::ZERO));
        assert_eq!(after.left(), d("200"));
        let full = Refundable {
            approved: d("500"),
            ..refundable(d("500"))
        };
        assert!(matches!(
            full.approve(d("0.01")),
            Err(RefundError::MoreThanRefundable { .. })
        ));
    }

    #[test]
    fn r_p9_the_requester_may_not_approve_or_reject_their_own_refund() {
        use RefundStatus::*;
        let e = Requested.approve("clerk-a", "clerk-a").unwrap_err();
        assert!(e.to_string().contains("R-P9"), "{e}");
        assert!(e.to_string().contains("clerk-a"), "{e}");
        assert_eq!(e.field(), None);
        assert!(matches!(
            Requested.reject("clerk-a", "clerk-a", "no"),
            Err(RefundError::SameAsRequester { .. })
        ));
        assert_eq!(Requested.approve("clerk-a", "super-b"), Ok(Approved));
        assert_eq!(
            Requested.reject("clerk-a", "super-b", "no proof"),
            Ok(Rejected)
        );
        assert_eq!(
            Requested.reject("clerk-a", "super-b", " "),
            Err(RefundError::ReasonRequired { field: "reason" })
        );
    }

    #[test]
    fn only_a_requested_refund_is_decided_and_only_its_requester_cancels_it() {
        use RefundStatus::*;
        assert_eq!(Requested.cancel("clerk-a", "clerk-a"), Ok(Cancelled));
        assert!(matches!(
            Requested.cancel("clerk-a", "super-b"),
            Err(RefundError::NotTheRequester { .. })
        ));
        for from in [Approved, Rejected, Cancelled] {
            assert!(matches!(
                from.approve("a", "b"),
                Err(RefundError::AlreadyDecided { .. })
            ));
            assert!(from.reject("a", "b", "r").is_err());
            assert!(from.cancel("a", "a").is_err());
        }
    }

    /// One step of a random history of one payment's refunds.
    #[derive(Debug, Clone)]
    enum Step {
        Request { cents: i64, by: u8 },
        Approve { which: usize, by: u8 },
        Reject { which: usize, by: u8 },
        Cancel { which: usize, by: u8 },
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (-100i64..60_000, 0u8..3).prop_map(|(cents, by)| Step::Request { cents, by }),
            (0usize..20, 0u8..3).prop_map(|(which, by)| Step::Approve { which, by }),
            (0usize..20, 0u8..3).prop_map(|(which, by)| Step::Reject { which, by }),
            (0usize..20, 0u8..3).prop_map(|(which, by)| Step::Cancel { which, by }),
        ]
    }

    proptest! {
        /// Whatever the sequence of requests, approvals, rejections and cancellations (by any
        /// of three people), Σ approved never exceeds the unapplied surplus, Σ approved +
        /// waiting never does either, and nobody approves their own request (R-P9).
        #[test]
        fn refunds_never_exceed_the_unapplied_surplus(
            surplus_cents in 0i64..100_000,
            steps in proptest::collection::vec(step(), 0..60),
        ) {
            let surplus = Decimal::new(surplus_cents, 2);
            let mut book = refundable(surplus);
            // (amount, status, requester)
            let mut refunds: Vec<(Decimal, RefundStatus, u8)> = Vec::new();
            let name = |p: u8| format!("person-{p}");
            for s in steps {
                match s {
                    Step::Request { cents, by } => {
                        let amount = Decimal::new(cents, 2);
                        if book.check_request(amount, "CNY", "overpaid").is_ok() {
                            book.waiting += amount;
                            refunds.push((amount, RefundStatus::Requested, by));
                        }
                    }
                    Step::Approve { which, by } => {
                        if let Some((amount, status, requester)) = refunds.get_mut(which)
                            && let Ok(next) = status.approve(&name(*requester), &name(by))
                        {
                            prop_assert_ne!(*requester, by, "R-P9");
                            // The store refuses the transaction when the book refuses it.
                            if let Ok(after) = book.approve(*amount) {
                                book = after;
                                *status = next;
                            }
                        }
                    }
                    Step::Reject { which, by } => {
                        if let Some((amount, status, requester)) = refunds.get_mut(which)
                            && let Ok(next) = status.reject(&name(*requester), &name(by), "no")
                        {
                            prop_assert_ne!(*requester, by, "R-P9");
                            book.waiting -= *amount;
                            *status = next;
                        }
                    }
                    Step::Cancel { which, by } => {
                        if let Some((amount, status, requester)) = refunds.get_mut(which)
                            && let Ok(next) = status.cancel(&name(*requester), &name(by))
                        {
                            book.waiting -= *amount;
                            *status = next;
                        }
                    }
                }
                let approved: Decimal = refunds
                    .iter()
                    .filter(|r| r.1 == RefundStatus::Approved)
                    .map(|r| r.0)
                    .sum();
                // What counts against the surplus: requested (waiting) and approved.
                let reserved: Decimal = refunds
                    .iter()
                    .filter(|r| matches!(r.1, RefundStatus::Requested | RefundStatus::Approved))
                    .map(|r| r.0)
                    .sum();
                prop_assert_eq!(approved, book.approved);
                prop_assert_eq!(reserved, book.approved + book.waiting);
                prop_assert!(approved <= surplus);
                prop_assert!(reserved <= surplus);
                prop_assert!(book.left() >= Decimal::ZERO);
            }
        }
    }
}
