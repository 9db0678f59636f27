//! Waivers of late fee, interest and collection costs (R-D6, R-D12): the one place their
//! status moves. A waiver is proposed by one person and approved or rejected by another;
//! approval is re-checked against what is owed at that moment.

use rust_decimal::Decimal;

use super::owed::{Component, Owed, SettleError, settle};

/// Where a waiver stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Waiting for a decision.
    Proposed,
    /// Above the second-approval amount: approved once, waiting for a risk approver.
    FirstApproved,
    /// Decided and booked.
    Approved,
    /// Decided against.
    Rejected,
}

impl Status {
    /// The stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Proposed => "proposed",
            Status::FirstApproved => "first_approved",
            Status::Approved => "approved",
            Status::Rejected => "rejected",
        }
    }

    /// Parses a stored name.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "proposed" => Some(Status::Proposed),
            "first_approved" => Some(Status::FirstApproved),
            "approved" => Some(Status::Approved),
            "rejected" => Some(Status::Rejected),
            _ => None,
        }
    }
}

/// The stored name of a waivable component, or `None` for principal (reduced only by a
/// discount amendment or a write-off, never by a waiver).
#[must_use]
pub fn component_name(component: Component) -> Option<&'static str> {
    match component {
        Component::Principal => None,
        other => Some(other.as_str()),
    }
}

/// Parses a stored component name.
#[must_use]
pub fn parse_component(text: &str) -> Option<Component> {
    Component::ALL.into_iter().find(|c| c.as_str() == text)
}

/// Why a proposal or decision is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A field is wrong: (field, why).
    Invalid(&'static str, String),
    /// The rule of four eyes (R-D6).
    SamePerson,
    /// The second approval must come from someone other than the first approver.
    SameApprover,
    /// The second approval (above the amount) needs the risk role.
    NeedsRisk,
    /// Already decided.
    Decided(Status),
    /// Less is owed now than the waiver would take off.
    NoLongerOwed {
        /// What is owed of the component now.
        open: Decimal,
    },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Invalid(field, why) => write!(f, "{field}: {why}"),
            Refusal::SamePerson => f.write_str(
                "the proposer of a waiver cannot decide it (R-D6: approval by someone other than \
                 the proposer); ask another supervisor",
            ),
            Refusal::SameApprover => f.write_str(
                "you approved this waiver already; above the second-approval amount \
                 (WAIVER_SECOND_APPROVAL_ABOVE) a second person with the risk role approves",
            ),
            Refusal::NeedsRisk => f.write_str(
                "the waiver is above the second-approval amount (WAIVER_SECOND_APPROVAL_ABOVE): \
                 its second approval needs the risk role",
            ),
            Refusal::Decided(status) => write!(
                f,
                "the waiver is already {}; propose a new one if more is to be waived",
                status.as_str()
            ),
            Refusal::NoLongerOwed { open } => write!(
                f,
                "only {open} of it is owed now (paid or waived since it was proposed); reject \
                 this waiver and propose one for what is owed"
            ),
        }
    }
}

/// Checks a proposal against what is owed now.
pub fn propose(
    owed: &Owed,
    component: Component,
    amount: Decimal,
    reason: &str,
) -> Result<(), Refusal> {
    if component_name(component).is_none() {
        return Err(Refusal::Invalid(
            "component",
            "principal is not waived; a discount is an amendment (R-C8) and a small difference a \
             write-off (R-P12); waive late_fee, interest or costs"
                .to_owned(),
        ));
    }
    if reason.trim().is_empty() {
        return Err(Refusal::Invalid(
            "reason",
            "say why (e.g. hardship, R-D6); it is kept with the waiver".to_owned(),
        ));
    }
    match settle(owed, component, amount) {
        Ok(_) => Ok(()),
        Err(SettleError::NotPositive) => Err(Refusal::Invalid(
            "amount",
            "must be more than zero".to_owned(),
        )),
        Err(SettleError::MoreThanOwed { open }) => Err(Refusal::Invalid(
            "amount",
            format!(
                "{amount} is more than the {open} of {} owed now",
                component.as_str()
            ),
        )),
    }
}

/// Checks the relief an upheld dispute asks for (R-D8): any component, principal included (a
/// credit), at most what is owed of it now.
pub fn propose_relief(owed: &Owed, component: Component, amount: Decimal) -> Result<(), Refusal> {
    match settle(owed, component, amount) {
        Ok(_) => Ok(()),
        Err(SettleError::NotPositive) => Err(Refusal::Invalid(
            "amount",
            "must be more than zero".to_owned(),
        )),
        Err(SettleError::MoreThanOwed { open }) => Err(Refusal::NoLongerOwed { open }),
    }
}

/// Who approves, as far as the rule needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Approver<'a> {
    /// The authenticated subject.
    pub subject: &'a str,
    /// Holds the risk role (the second level).
    pub risk: bool,
}

/// The levels of a waiver's approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Levels<'a> {
    /// The amount is above WAIVER_SECOND_APPROVAL_ABOVE: two approvers.
    pub second_required: bool,
    /// Who approved first, once someone has.
    pub first_approver: Option<&'a str>,
}

/// What an approval does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Approval {
    /// The first of two: nothing is booked yet.
    First,
    /// The last: booked; what is owed after it.
    Booked(Owed),
}

/// Decides a waiver: the first of two approvals records the approver, the last one books it
/// against what is owed at that moment.
pub fn approve(
    status: Status,
    proposer: &str,
    approver: Approver<'_>,
    levels: Levels<'_>,
    owed: &Owed,
    component: Component,
    amount: Decimal,
) -> Result<Approval, Refusal> {
    decidable(status, proposer, approver.subject)?;
    let booked = settle(owed, component, amount).map_err(|e| match e {
        SettleError::MoreThanOwed { open } => Refusal::NoLongerOwed { open },
        SettleError::NotPositive => Refusal::Invalid("amount", "must be more than zero".into()),
    })?;
    match status {
        Status::Proposed if levels.second_required => Ok(Approval::First),
        Status::FirstApproved => {
            if levels.first_approver == Some(approver.subject) {
                Err(Refusal::SameApprover)
            } else if !approver.risk {
                Err(Refusal::NeedsRisk)
            } else {
                Ok(Approval::Booked(booked))
            }
        }
        _ => Ok(Approval::Booked(booked)),
    }
}

/// Whether `decider` may decide a waiver in `status` proposed by `proposer`.
pub fn decidable(status: Status, proposer: &str, decider: &str) -> Result<(), Refusal> {
    if !matches!(status, Status::Proposed | Status::FirstApproved) {
        return Err(Refusal::Decided(status));
    }
    if proposer == decider {
        return Err(Refusal::SamePerson);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE_LEVEL: Levels<'static> = Levels {
        second_required: false,
        first_approver: None,
    };

    fn who(subject: &str, risk: bool) -> Approver<'_> {
        Approver { subject, risk }
    }

    fn owed() -> Owed {
        Owed {
            costs: Decimal::new(5_000, 2),
            interest: Decimal::ZERO,
            late_fee: Decimal::new(30_000, 2),
            principal: Decimal::new(100_000, 2),
        }
    }

    #[test]
    fn the_proposer_cannot_approve() {
        // R-D6: approval by someone other than the proposer.
        let r = approve(
            Status::Proposed,
            "li.na",
            who("li.na", true),
            ONE_LEVEL,
            &owed(),
            Component::LateFee,
            Decimal::ONE,
        );
        assert_eq!(r, Err(Refusal::SamePerson));
        assert!(Refusal::SamePerson.to_string().contains("R-D6"));
        let after = approve(
            Status::Proposed,
            "li.na",
            who("wang.wei", false),
            ONE_LEVEL,
            &owed(),
            Component::LateFee,
            Decimal::new(10_000, 2),
        )
        .unwrap();
        let Approval::Booked(after) = after else {
            panic!("one level books at once");
        };
        assert_eq!(after.late_fee, Decimal::new(20_000, 2));
        assert_eq!(after.principal, owed().principal);
    }

    #[test]
    fn above_the_amount_a_second_person_with_the_risk_role_approves() {
        let two = Levels {
            second_required: true,
            first_approver: None,
        };
        let amount = Decimal::new(10_000, 2);
        assert_eq!(
            approve(
                Status::Proposed,
                "li.na",
                who("wang.wei", false),
                two,
                &owed(),
                Component::LateFee,
                amount
            ),
            Ok(Approval::First)
        );
        let after_first = Levels {
            second_required: true,
            first_approver: Some("wang.wei"),
        };
        assert_eq!(
            approve(
                Status::FirstApproved,
                "li.na",
                who("wang.wei", true),
                after_first,
                &owed(),
                Component::LateFee,
                amount
            ),
            Err(Refusal::SameApprover)
        );
        assert_eq!(
            approve(
                Status::FirstApproved,
                "li.na",
                who("zhao.lei", false),
                after_first,
                &owed(),
                Component::LateFee,
                amount
            ),
            Err(Refusal::NeedsRisk)
        );
        assert_eq!(
            approve(
                Status::FirstApproved,
                "li.na",
                who("li.na", true),
                after_first,
                &owed(),
                Component::LateFee,
                amount
            ),
            Err(Refusal::SamePerson)
        );
        assert!(matches!(
            approve(
                Status::FirstApproved,
                "li.na",
                who("qian.risk", true),
                after_first,
                &owed(),
                Component::LateFee,
                amount
            ),
            Ok(Approval::Booked(_))
        ));
    }

    #[test]
    fn an_upheld_dispute_may_credit_principal_up_to_what_is_owed() {
        assert!(propose_relief(&owed(), Component::Principal, Decimal::new(100_000, 2)).is_ok());
        assert_eq!(
            propose_relief(&owed(), Component::Principal, Decimal::new(100_001, 2)),
            Err(Refusal::NoLongerOwed {
                open: Decimal::new(100_000, 2)
            })
        );
        assert!(matches!(
            propose_relief(&owed(), Component::LateFee, Decimal::ZERO),
            Err(Refusal::Invalid("amount", _))
        ));
    }

    #[test]
    fn principal_is_never_waived_and_a_reason_is_required() {
        assert!(matches!(
            propose(&owed(), Component::Principal, Decimal::ONE, "hardship"),
            Err(Refusal::Invalid("component", _))
        ));
        assert!(matches!(
            propose(&owed(), Component::LateFee, Decimal::ONE, "  "),
            Err(Refusal::Invalid("reason", _))
        ));
        assert!(matches!(
            propose(&owed(), Component::Costs, Decimal::new(5_001, 2), "x"),
            Err(Refusal::Invalid("amount", _))
        ));
        assert!(propose(&owed(), Component::Costs, Decimal::new(5_000, 2), "x").is_ok());
    }

    #[test]
    fn decided_waivers_stay_decided_and_approval_rechecks_the_balance() {
        assert_eq!(
            decidable(Status::Approved, "a", "b"),
            Err(Refusal::Decided(Status::Approved))
        );
        assert_eq!(
            decidable(Status::Rejected, "a", "b"),
            Err(Refusal::Decided(Status::Rejected))
        );
        let mut paid = owed();
        paid.late_fee = Decimal::new(1_000, 2);
        assert_eq!(
            approve(
                Status::Proposed,
                "a",
                who("b", false),
                ONE_LEVEL,
                &paid,
                Component::LateFee,
                Decimal::new(20_000, 2)
            ),
            Err(Refusal::NoLongerOwed {
                open: Decimal::new(1_000, 2)
            })
        );
    }

    #[test]
    fn stored_names_round_trip() {
        for s in [
            Status::Proposed,
            Status::FirstApproved,
            Status::Approved,
            Status::Rejected,
        ] {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        for c in Component::ALL {
            assert_eq!(parse_component(c.as_str()), Some(c));
        }
        assert_eq!(Status::parse("maybe"), None);
    }
}
