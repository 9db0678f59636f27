//! The status machines of payments and allocations and the kinds of the exception queue, as
//! typed values: stored as their `as_str` text, read back with `parse`, never compared as
//! strings elsewhere.

use std::fmt;

/// A value read from the database or a request that names no known status or kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unknown {
    pub(crate) what: &'static str,
    pub(crate) value: String,
}

impl fmt::Display for Unknown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown {} {:?}", self.what, self.value)
    }
}

impl std::error::Error for Unknown {}

/// Where a payment stands (`payments.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum PaymentStatus {
    /// Applied by the engine or a person: allocations are proposed to contracts.
    Matched,
    /// Contracts confirmed an allocation of it.
    Allocated,
    /// In the exception queue (or held there, R-P5), not applied.
    Exception,
}

impl PaymentStatus {
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            Self::Matched => "matched",
            Self::Allocated => "allocated",
            Self::Exception => "exception",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Self, Unknown> {
        match s {
            "matched" => Ok(Self::Matched),
            "allocated" => Ok(Self::Allocated),
            "exception" => Ok(Self::Exception),
            _ => Err(Unknown {
                what: "payment status",
                value: s.to_owned(),
            }),
        }
    }

    /// Whether a person may still confirm one of its candidates (R-P5): only a payment that
    /// is not applied.
    pub(crate) fn may_be_confirmed(self) -> bool {
        self == Self::Exception
    }
}

impl fmt::Display for PaymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the money came in (`payments.channel`, R-P1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Channel {
    /// A line of a bank statement or notification.
    Bank,
    /// Cash at the project's finance desk.
    DeskCash,
    /// A cheque, draft, bill or slip the bank confirmed (R-P3): a bank line too, carrying
    /// what the acknowledgment said it is for.
    Instrument,
    /// WeChat Pay or Alipay: a line of the wallet's settlement report.
    Wallet,
    /// A card at a POS terminal: a line of the acquirer's settlement report.
    Card,
}

impl Channel {
    pub(crate) const ALL: [Self; 5] = [
        Self::Bank,
        Self::DeskCash,
        Self::Instrument,
        Self::Wallet,
        Self::Card,
    ];

    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            Self::Bank => "bank",
            Self::DeskCash => "desk_cash",
            Self::Instrument => "instrument",
            Self::Wallet => "wallet",
            Self::Card => "card",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Self, Unknown> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| Unknown {
                what: "payment channel",
                value: s.to_owned(),
            })
    }
}

/// Where an allocation proposed to contracts stands (`allocations.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum AllocationStatus {
    /// Sent to contracts, not answered yet (crate::redrive sends it again when it stays so).
    Proposed,
    /// Contracts booked it.
    Applied,
    /// Contracts refused it.
    Rejected,
}

/// A change of status the machine does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BadTransition {
    pub(crate) from: AllocationStatus,
    pub(crate) to: AllocationStatus,
}

impl fmt::Display for BadTransition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "an allocation cannot go from {} to {}",
            self.from, self.to
        )
    }
}

impl std::error::Error for BadTransition {}

impl AllocationStatus {
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            Self::Proposed => "proposed",
            Self::Applied => "applied",
            Self::Rejected => "rejected",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Self, Unknown> {
        match s {
            "proposed" => Ok(Self::Proposed),
            "applied" => Ok(Self::Applied),
            "rejected" => Ok(Self::Rejected),
            _ => Err(Unknown {
                what: "allocation status",
                value: s.to_owned(),
            }),
        }
    }

    /// The one place the machine lives: a proposal is settled once, by contracts' answer,
    /// to applied or rejected; a settled allocation never changes again.
    pub(crate) fn settle(self, to: Self) -> Result<Self, BadTransition> {
        match (self, to) {
            (Self::Proposed, Self::Applied | Self::Rejected) => Ok(to),
            _ => Err(BadTransition { from: self, to }),
        }
    }

    /// Whether it still waits for contracts' answer (a repeated answer counts only then).
    pub(crate) fn is_pending(self) -> bool {
        self == Self::Proposed
    }
}

impl fmt::Display for AllocationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kind of an exception in the queue (`exceptions.kind`, the API's `kind`): the
/// engine's kinds upper-cased, and those this service raises itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum ExceptionKind {
    /// The engine's own reason (cashapp).
    Engine(cashapp::ExceptionKind),
    /// The engine proposes a candidate but its confidence is below the policy's.
    NeedsConfirmation,
    /// Applied, and more than everything open was paid (R-P4).
    UnappliedSurplus,
    /// Contracts refused the allocation.
    AllocationRejected,
    /// Contracts never answered the allocation (crate::redrive).
    AllocationStuck,
    /// The desk's cash count differs from its receipts (R-P1); no payment.
    CashCountDifference,
    /// A cheque, draft or bill the bank returned unpaid (R-P3); no payment.
    InstrumentBounced,
    /// A bank line names an expected credit (a desk deposit, a settlement batch) but its
    /// amount differs; linked, not booked as a payment.
    ExpectedCreditMismatch,
}

/// The engine's kinds, for `parse`.
const ENGINE_KINDS: [cashapp::ExceptionKind; 8] = [
    cashapp::ExceptionKind::Duplicate,
    cashapp::ExceptionKind::AmountMismatch,
    cashapp::ExceptionKind::ThirdPartyPayer,
    cashapp::ExceptionKind::NoCandidate,
    cashapp::ExceptionKind::Ambiguous,
    cashapp::ExceptionKind::WrongReceivingAccount,
    cashapp::ExceptionKind::NothingOpen,
    cashapp::ExceptionKind::MissingRate,
];

impl ExceptionKind {
    /// The kind `DUPLICATE` (R-P2: a line seen again that is not a linked repeat).
    pub(crate) const DUPLICATE: Self = Self::Engine(cashapp::ExceptionKind::Duplicate);

    /// Kinds a newly known contract or payer account can change: the payment may name it,
    /// or come from its customer (events: rematch).
    pub(crate) const REMATCHED: [Self; 6] = [
        Self::Engine(cashapp::ExceptionKind::NoCandidate),
        Self::Engine(cashapp::ExceptionKind::AmountMismatch),
        Self::Engine(cashapp::ExceptionKind::Ambiguous),
        Self::Engine(cashapp::ExceptionKind::NothingOpen),
        Self::Engine(cashapp::ExceptionKind::ThirdPartyPayer),
        Self::NeedsConfirmation,
    ];

    pub(crate) const fn as_str(self) -> &'static str {
        use cashapp::ExceptionKind as E;
        match self {
            Self::Engine(E::Duplicate) => "DUPLICATE",
            Self::Engine(E::AmountMismatch) => "AMOUNT_MISMATCH",
            Self::Engine(E::ThirdPartyPayer) => "THIRD_PARTY_PAYER",
            Self::Engine(E::NoCandidate) => "NO_CANDIDATE",
            Self::Engine(E::Ambiguous) => "AMBIGUOUS",
            Self::Engine(E::WrongReceivingAccount) => "WRONG_RECEIVING_ACCOUNT",
            Self::Engine(E::NothingOpen) => "NOTHING_OPEN",
            Self::Engine(E::MissingRate) => "MISSING_RATE",
            Self::NeedsConfirmation => "NEEDS_CONFIRMATION",
            Self::UnappliedSurplus => "UNAPPLIED_SURPLUS",
            Self::AllocationRejected => "ALLOCATION_REJECTED",
            Self::AllocationStuck => "ALLOCATION_STUCK",
            Self::CashCountDifference => "CASH_COUNT_DIFFERENCE",
            Self::InstrumentBounced => "INSTRUMENT_BOUNCED",
            Self::ExpectedCreditMismatch => "EXPECTED_CREDIT_MISMATCH",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Self, Unknown> {
        ENGINE_KINDS
            .into_iter()
            .map(Self::Engine)
            .chain([
                Self::NeedsConfirmation,
                Self::UnappliedSurplus,
                Self::AllocationRejected,
                Self::AllocationStuck,
                Self::CashCountDifference,
                Self::InstrumentBounced,
                Self::ExpectedCreditMismatch,
            ])
            .find(|k| k.as_str() == s)
            .ok_or_else(|| Unknown {
                what: "exception kind",
                value: s.to_owned(),
            })
    }
}

impl fmt::Display for ExceptionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_back_what_they_store() {
        for s in [
            PaymentStatus::Matched,
            PaymentStatus::Allocated,
            PaymentStatus::Exception,
        ] {
            assert_eq!(PaymentStatus::parse(s.as_str()), Ok(s));
        }
        for s in [
            AllocationStatus::Proposed,
            AllocationStatus::Applied,
            AllocationStatus::Rejected,
        ] {
            assert_eq!(AllocationStatus::parse(s.as_str()), Ok(s));
        }
        assert!(PaymentStatus::parse("Matched").is_err());
        for c in Channel::ALL {
            assert_eq!(Channel::parse(c.as_str()), Ok(c));
        }
        assert!(Channel::parse("cash").is_err());
        assert!(AllocationStatus::parse("").is_err());
    }

    #[test]
    fn an_allocation_is_settled_once_from_proposed() {
        use AllocationStatus::{Applied, Proposed, Rejected};
        assert_eq!(Proposed.settle(Applied), Ok(Applied));
        assert_eq!(Proposed.settle(Rejected), Ok(Rejected));
        for from in [Applied, Rejected] {
            for to in [Proposed, Applied, Rejected] {
                assert_eq!(from.settle(to), Err(BadTransition { from, to }));
            }
        }
        assert!(Proposed.settle(Proposed).is_err());
        assert!(Proposed.is_pending() && !Applied.is_pending() && !Rejected.is_pending());
    }

    #[test]
    fn only_an_unapplied_payment_may_be_confirmed() {
        assert!(PaymentStatus::Exception.may_be_confirmed());
        assert!(!PaymentStatus::Matched.may_be_confirmed());
        assert!(!PaymentStatus::Allocated.may_be_confirmed());
    }

    #[test]
    fn every_kind_reads_back_and_engine_kinds_are_its_names_upper_cased() {
        for kind in ENGINE_KINDS {
            let ours = ExceptionKind::Engine(kind);
            assert_eq!(ours.as_str(), kind.as_str().to_ascii_uppercase());
            assert_eq!(ExceptionKind::parse(ours.as_str()), Ok(ours));
        }
        for ours in [
            ExceptionKind::NeedsConfirmation,
            ExceptionKind::UnappliedSurplus,
            ExceptionKind::AllocationRejected,
            ExceptionKind::AllocationStuck,
            ExceptionKind::CashCountDifference,
            ExceptionKind::InstrumentBounced,
            ExceptionKind::ExpectedCreditMismatch,
        ] {
            assert_eq!(ExceptionKind::parse(ours.as_str()), Ok(ours));
        }
        assert_eq!(ExceptionKind::DUPLICATE.as_str(), "DUPLICATE");
        assert!(ExceptionKind::parse("duplicate").is_err());
    }
}
