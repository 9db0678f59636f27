//! R-L4, issue 15 legal item 3: what a case claims is what contracts says is owed on the
//! case's items — principal, late fee, interest and collection costs — and it moves with
//! every payment, accrual, cost booked, waiver, write-off and amendment contracts reports.
//!
//! Contracts publishes each receivable's owed figures after every change (AllocationApplied,
//! ReceivableOverdue, CostBooked, WaiverApproved, WrittenOff, AmendmentApproved), keyed by
//! the debtor, so legal sees one debtor's changes in the order they were made: the latest
//! figures of a receivable replace the earlier ones. The case's claim is their sum.

use money::allocation::Owed;
use rust_decimal::Decimal;

/// Why what a receivable owes changed: the contracts event that said so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// A payment was booked (AllocationApplied).
    Payment,
    /// The daily cycle accrued late fee or interest (ReceivableOverdue).
    Accrual,
    /// A collection cost was booked (CostBooked), e.g. a court fee the case incurred (R-L6).
    CostBooked,
    /// A waiver of late fee, interest or costs was approved (WaiverApproved, R-D6).
    Waiver,
    /// A small difference was written off (WrittenOff, R-P12).
    WriteOff,
    /// An amendment changed the receivable (AmendmentApproved, R-C8).
    Amendment,
}

impl Cause {
    /// In words, for the case log and the event's reason.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            Self::Payment => "payment",
            Self::Accrual => "late fee and interest accrued",
            Self::CostBooked => "collection cost booked",
            Self::Waiver => "waiver approved",
            Self::WriteOff => "difference written off",
            Self::Amendment => "contract amended",
        }
    }
}

/// The sum of what the case's items owe, by component.
#[must_use]
pub fn sum<'a>(items: impl IntoIterator<Item = &'a Owed>) -> Owed {
    items.into_iter().fold(Owed::default(), |acc, o| Owed {
        costs: acc.costs + o.costs,
        interest: acc.interest + o.interest,
        late_fee: acc.late_fee + o.late_fee,
        principal: acc.principal + o.principal,
    })
}

/// What happens to a case when its items' figures change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The claim is what it was: nothing to tell anyone.
    Unchanged,
    /// The claim moved (up or down) and is still owed: `ClaimUpdated`.
    Updated {
        /// The new claim.
        claim: Owed,
        /// True when the case had been flagged for withdrawal and something is owed again
        /// (e.g. a cost booked after the full payment): the flag no longer applies.
        flag_cleared: bool,
    },
    /// Nothing is owed any more: flag the case for withdrawal (R-L4), once.
    Withdraw,
}

/// Decides what a change of the items' figures means for a case that claimed `before`
/// (its stored total) and was or was not `flagged` for withdrawal. A claim that is unchanged
/// and still open says nothing; a claim of zero flags withdrawal unless already flagged.
#[must_use]
pub fn assess(before: Decimal, flagged: bool, now: Owed) -> Outcome {
    let total = now.total();
    if total <= Decimal::ZERO {
        if flagged {
            Outcome::Unchanged
        } else {
            Outcome::Withdraw
        }
    } else if flagged {
        Outcome::Updated {
            claim: now,
            flag_cleared: true,
        }
    } else if total == before {
        Outcome::Unchanged
    } else {
        Outcome::Updated {
            claim: now,
            flag_cleared: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn owed(costs: i64, interest: i64, late_fee: i64, principal: i64) -> Owed {
        Owed {
            costs: Decimal::new(costs, 2),
            interest: Decimal::new(interest, 2),
            late_fee: Decimal::new(late_fee, 2),
            principal: Decimal::new(principal, 2),
        }
    }

    #[test]
    fn principal_paid_but_late_fee_open_keeps_the_case_r_d12() {
        // R-D12: paying the principal alone does not close a case.
        let now = owed(0, 0, 1_250, 0);
        assert_eq!(
            assess(Decimal::new(100_000, 2), false, now),
            Outcome::Updated {
                claim: now,
                flag_cleared: false
            }
        );
    }

    #[test]
    fn nothing_owed_flags_withdrawal_once_r_l4() {
        assert_eq!(
            assess(Decimal::new(500, 2), false, Owed::default()),
            Outcome::Withdraw
        );
        assert_eq!(
            assess(Decimal::ZERO, true, Owed::default()),
            Outcome::Unchanged
        );
    }

    #[test]
    fn a_cost_booked_after_the_flag_clears_it() {
        let now = owed(30_000, 0, 0, 0);
        assert_eq!(
            assess(Decimal::ZERO, true, now),
            Outcome::Updated {
                claim: now,
                flag_cleared: true
            }
        );
    }

    #[test]
    fn an_unchanged_claim_says_nothing() {
        let now = owed(100, 200, 300, 400);
        assert_eq!(assess(now.total(), false, now), Outcome::Unchanged);
    }

    fn any_owed() -> impl Strategy<Value = Owed> {
        (
            0..10_000_000i64,
            0..10_000_000i64,
            0..10_000_000i64,
            0..100_000_000i64,
        )
            .prop_map(|(c, i, l, p)| owed(c, i, l, p))
    }

    proptest! {
        /// The claim is the items' owed figures summed component by component, to the fen.
        #[test]
        fn the_claim_is_the_sum_of_the_items(items in prop::collection::vec(any_owed(), 0..12)) {
            let claim = sum(&items);
            let total: Decimal = items.iter().map(Owed::total).sum();
            prop_assert_eq!(claim.total(), total);
            prop_assert_eq!(claim.costs, items.iter().map(|o| o.costs).sum::<Decimal>());
            prop_assert_eq!(claim.principal, items.iter().map(|o| o.principal).sum::<Decimal>());
        }

        /// Withdrawal is flagged exactly when nothing is owed and it was not yet flagged; a
        /// claim that moved is always told.
        #[test]
        fn withdrawal_iff_nothing_owed(before in 0..1_000_000i64, flagged: bool, now in any_owed()) {
            let before = Decimal::new(before, 2);
            match assess(before, flagged, now) {
                Outcome::Withdraw => prop_assert!(now.total().is_zero() && !flagged),
                Outcome::Unchanged => prop_assert!(
                    (now.total().is_zero() && flagged) || (!flagged && now.total() == before)
                ),
                Outcome::Updated { claim, flag_cleared } => {
                    prop_assert_eq!(claim, now);
                    prop_assert!(claim.total() > Decimal::ZERO);
                    prop_assert_eq!(flag_cleared, flagged);
                }
            }
        }
    }
}
