//! The life of a legal case (R-L2) as one state machine: every move a case may make is in
//! [`Status::may_move_to`] and [`Status::may_close_as`]; everything else is refused.
//!
//! ```text
//! opened ─► lawyer's letter sent ─► payment order applied ─► litigation filed ─► judgment ─► enforcement
//!   │              │                     │    └──────(no objection in 15 days, R-L7)───────────────▲
//!   │              └─────────────────────┼──────────────────────►▲
//!   └──────────────┴─────────────────────┘  (shortcuts: skip the letter, skip the order)
//! any open status ─► closed (paid | settled | withdrawn | written off; withdrawn only before judgment)
//! ```
//!
//! | from | may move to |
//! |---|---|
//! | opened | lawyer's letter sent; payment order applied; litigation filed; closed |
//! | lawyer's letter sent | payment order applied; litigation filed; closed |
//! | payment order applied | litigation filed (the debtor objected); enforcement (no objection within 15 days, R-L7); closed |
//! | litigation filed | judgment; closed |
//! | judgment | enforcement; closed |
//! | enforcement | closed |
//! | closed | nothing |
//!
//! Shortcuts, and why: the lawyer's letter is a custom, not a legal requirement, so a case may
//! go to a payment order or to court without one; a payment order suits only undisputed claims
//! (R-L7), so it may be skipped for a suit; an unopposed payment order is enforceable, so it
//! goes to enforcement without a judgment; a debtor's objection ends the order and the
//! creditor sues. Nothing moves backwards, no step repeats, and a closed case stays closed.
//!
//! Closing: paid, settled and written off from every open status; withdrawn (the letter, the
//! application or the suit is withdrawn, e.g. after a full payment, R-L4) only before a
//! judgment: a judgment is not withdrawn, a judged case closes as paid, settled or written
//! off.
//!
//! Asset preservation (财产保全) is a flag, not a status: it may be requested while litigation
//! runs (litigation filed or judgment), as often as needed, and changes no status.

use std::fmt;

/// Where a case stands (R-L2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// Handed over by dunning (R-L1).
    Opened,
    /// The lawyer's letter went out.
    LawyersLetterSent,
    /// A payment order was applied for (R-L7).
    PaymentOrderApplied,
    /// A suit was filed.
    LitigationFiled,
    /// The court gave judgment.
    Judgment,
    /// Enforcement of a judgment or an unopposed payment order.
    Enforcement,
    /// Closed with an [`Outcome`].
    Closed,
}

/// How a closed case ended (R-L2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The debtor paid.
    Paid,
    /// Settled (out of court, by mediation, or in enforcement).
    Settled,
    /// The letter, application or suit was withdrawn.
    Withdrawn,
    /// Given up.
    WrittenOff,
}

/// A step asked of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// To another open status.
    MoveTo(Status),
    /// Closed with an outcome.
    Close(Outcome),
    /// Asset preservation requested (no status change).
    PreserveAssets,
}

/// A step the case's life does not allow, saying from where, to where and what is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The case's status.
    pub from: Status,
    /// The step asked.
    pub step: Step,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let allowed = self.from.allowed().join(", ");
        let allowed = if allowed.is_empty() {
            "nothing (a closed case stays closed)".to_owned()
        } else {
            allowed
        };
        match self.step {
            Step::MoveTo(to) => write!(
                f,
                "a case that is {} cannot move to {}; from {} it may move to: {allowed}",
                self.from, to, self.from
            ),
            Step::Close(outcome) => write!(
                f,
                "a case that is {} cannot close as {}; from {} it may move to: {allowed}",
                self.from, outcome, self.from
            ),
            Step::PreserveAssets => write!(
                f,
                "asset preservation can be requested only while litigation runs (litigation_filed or judgment); the case is {}",
                self.from
            ),
        }
    }
}

impl std::error::Error for Refused {}

impl Status {
    /// Every status, in the order of a case's life.
    pub const ALL: [Self; 7] = [
        Self::Opened,
        Self::LawyersLetterSent,
        Self::PaymentOrderApplied,
        Self::LitigationFiled,
        Self::Judgment,
        Self::Enforcement,
        Self::Closed,
    ];

    /// The stored and displayed name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Opened => "opened",
            Self::LawyersLetterSent => "lawyers_letter_sent",
            Self::PaymentOrderApplied => "payment_order_applied",
            Self::LitigationFiled => "litigation_filed",
            Self::Judgment => "judgment",
            Self::Enforcement => "enforcement",
            Self::Closed => "closed",
        }
    }

    /// The status of a stored name.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Whether the case is still open.
    #[must_use]
    pub fn is_open(self) -> bool {
        self != Self::Closed
    }

    /// R-L2: the open statuses this one may move to (closing is [`Status::may_close_as`]).
    #[must_use]
    pub fn may_move_to(self, to: Self) -> bool {
        use Status::{
            Enforcement, Judgment, LawyersLetterSent, LitigationFiled, Opened, PaymentOrderApplied,
        };
        matches!(
            (self, to),
            (
                Opened,
                LawyersLetterSent | PaymentOrderApplied | LitigationFiled
            ) | (LawyersLetterSent, PaymentOrderApplied | LitigationFiled)
                | (PaymentOrderApplied, LitigationFiled | Enforcement)
                | (LitigationFiled, Judgment)
                | (Judgment, Enforcement)
        )
    }

    /// R-L2: whether a case in this status may close with `outcome`.
    #[must_use]
    pub fn may_close_as(self, outcome: Outcome) -> bool {
        match outcome {
            Outcome::Paid | Outcome::Settled | Outcome::WrittenOff => self.is_open(),
            Outcome::Withdrawn => matches!(
                self,
                Self::Opened
                    | Self::LawyersLetterSent
                    | Self::PaymentOrderApplied
                    | Self::LitigationFiled
            ),
        }
    }

    /// R-L2: whether asset preservation may be requested now.
    #[must_use]
    pub fn may_preserve_assets(self) -> bool {
        matches!(self, Self::LitigationFiled | Self::Judgment)
    }

    /// What this status may move to, for messages.
    fn allowed(self) -> Vec<String> {
        let mut out: Vec<String> = Self::ALL
            .into_iter()
            .filter(|to| self.may_move_to(*to))
            .map(|to| to.as_str().to_owned())
            .collect();
        let outcomes: Vec<&str> = Outcome::ALL
            .into_iter()
            .filter(|o| self.may_close_as(*o))
            .map(Outcome::as_str)
            .collect();
        if !outcomes.is_empty() {
            out.push(format!("closed ({})", outcomes.join(", ")));
        }
        out
    }

    /// Applies `step`: the status after it.
    ///
    /// # Errors
    /// [`Refused`] when the case's life does not allow the step from here.
    pub fn apply(self, step: Step) -> Result<Self, Refused> {
        let allowed = match step {
            Step::MoveTo(to) => self.may_move_to(to),
            Step::Close(outcome) => self.may_close_as(outcome),
            Step::PreserveAssets => self.may_preserve_assets(),
        };
        if !allowed {
            return Err(Refused { from: self, step });
        }
        Ok(match step {
            Step::MoveTo(to) => to,
            Step::Close(_) => Self::Closed,
            Step::PreserveAssets => self,
        })
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Outcome {
    /// Every outcome.
    pub const ALL: [Self; 4] = [Self::Paid, Self::Settled, Self::Withdrawn, Self::WrittenOff];

    /// The stored and displayed name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Paid => "paid",
            Self::Settled => "settled",
            Self::Withdrawn => "withdrawn",
            Self::WrittenOff => "written_off",
        }
    }

    /// The outcome of a stored name.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == name)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    use Status::*;

    #[test]
    fn the_full_road_is_allowed() {
        let mut status = Opened;
        for to in [
            LawyersLetterSent,
            PaymentOrderApplied,
            LitigationFiled,
            Judgment,
            Enforcement,
        ] {
            status = status.apply(Step::MoveTo(to)).unwrap();
        }
        assert_eq!(status.apply(Step::Close(Outcome::Paid)), Ok(Closed));
    }

    #[test]
    fn shortcuts_are_allowed() {
        assert_eq!(
            Opened.apply(Step::MoveTo(LitigationFiled)),
            Ok(LitigationFiled)
        );
        assert_eq!(
            Opened.apply(Step::MoveTo(PaymentOrderApplied)),
            Ok(PaymentOrderApplied)
        );
        assert_eq!(
            LawyersLetterSent.apply(Step::MoveTo(LitigationFiled)),
            Ok(LitigationFiled)
        );
        // An unopposed payment order is enforceable (R-L7).
        assert_eq!(
            PaymentOrderApplied.apply(Step::MoveTo(Enforcement)),
            Ok(Enforcement)
        );
    }

    #[test]
    fn backwards_repeats_and_jumps_are_refused_naming_both_ends() {
        for (from, to) in [
            (LawyersLetterSent, Opened),
            (LitigationFiled, LitigationFiled),
            (Opened, Judgment),
            (LawyersLetterSent, Judgment),
            (Opened, Enforcement),
            (LitigationFiled, Enforcement),
            (Enforcement, Judgment),
            (Opened, Closed),
        ] {
            let refused = from.apply(Step::MoveTo(to)).unwrap_err();
            let text = refused.to_string();
            assert!(
                text.contains(from.as_str()) && text.contains(to.as_str()),
                "{text}"
            );
        }
    }

    #[test]
    fn a_closed_case_stays_closed() {
        for to in Status::ALL {
            assert!(Closed.apply(Step::MoveTo(to)).is_err());
        }
        for outcome in Outcome::ALL {
            assert!(Closed.apply(Step::Close(outcome)).is_err());
        }
        assert!(Closed.apply(Step::PreserveAssets).is_err());
        assert!(
            Closed
                .apply(Step::MoveTo(Opened))
                .unwrap_err()
                .to_string()
                .contains("stays closed")
        );
    }

    #[test]
    fn a_judged_case_is_not_withdrawn() {
        assert!(
            LitigationFiled
                .apply(Step::Close(Outcome::Withdrawn))
                .is_ok()
        );
        for from in [Judgment, Enforcement] {
            assert!(from.apply(Step::Close(Outcome::Withdrawn)).is_err());
            for outcome in [Outcome::Paid, Outcome::Settled, Outcome::WrittenOff] {
                assert_eq!(from.apply(Step::Close(outcome)), Ok(Closed));
            }
        }
    }

    #[test]
    fn assets_are_preserved_only_during_litigation_and_keep_the_status() {
        for from in Status::ALL {
            let result = from.apply(Step::PreserveAssets);
            if matches!(from, LitigationFiled | Judgment) {
                assert_eq!(result, Ok(from));
            } else {
                assert!(result.is_err(), "{from}");
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        for o in Outcome::ALL {
            assert_eq!(Outcome::parse(o.as_str()), Some(o));
        }
        assert_eq!(Status::parse("withdrawal_requested"), None);
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            proptest::sample::select(Status::ALL.to_vec()).prop_map(Step::MoveTo),
            proptest::sample::select(Outcome::ALL.to_vec()).prop_map(Step::Close),
            Just(Step::PreserveAssets),
        ]
    }

    proptest! {
        /// Any sequence of steps, applied where allowed: the status only moves forward in the
        /// case's life, never leaves closed, and reaches closed only through a close.
        #[test]
        fn every_sequence_moves_forward_and_closed_is_final(steps in proptest::collection::vec(step(), 0..40)) {
            let mut status = Opened;
            for step in steps {
                match status.apply(step) {
                    Ok(next) => {
                        prop_assert!(status.is_open(), "a closed case moved");
                        match step {
                            Step::PreserveAssets => prop_assert_eq!(next, status),
                            Step::Close(_) => prop_assert_eq!(next, Closed),
                            Step::MoveTo(to) => {
                                prop_assert_eq!(next, to);
                                prop_assert!(next > status, "{} -> {} went back", status, next);
                                prop_assert!(next != Closed);
                            }
                        }
                        status = next;
                    }
                    Err(refused) => {
                        prop_assert_eq!(refused.from, status);
                        prop_assert!(!refused.to_string().is_empty());
                    }
                }
            }
        }

        /// From every open status a case can still be closed (paid always is).
        #[test]
        fn every_open_status_can_close(from in proptest::sample::select(Status::ALL[..6].to_vec())) {
            prop_assert_eq!(from.apply(Step::Close(Outcome::Paid)), Ok(Closed));
        }
    }
}
