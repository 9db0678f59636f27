//! The domain's grade, reasons and strategy on the wire (API and events).

use proto::types::v1 as types;

use crate::domain::{self, BureauFlag, CreditTerm, FollowUp, Grade, HoldAdvice, Security};

/// A grade as the proto enum.
pub(crate) fn grade(g: Grade) -> types::Grade {
    match g {
        Grade::Aaa => types::Grade::Aaa,
        Grade::Aa => types::Grade::Aa,
        Grade::A => types::Grade::A,
        Grade::Bbb => types::Grade::Bbb,
        Grade::Bb => types::Grade::Bb,
        Grade::B => types::Grade::B,
        Grade::Ccc => types::Grade::Ccc,
        Grade::Cc => types::Grade::Cc,
        Grade::C => types::Grade::C,
        Grade::D => types::Grade::D,
    }
}

/// A grade name (`AAA`) as the proto enum; unspecified for an unknown name.
pub(crate) fn grade_name(name: &str) -> types::Grade {
    Grade::parse(name).map_or(types::Grade::Unspecified, grade)
}

/// The strategy outputs (R-S4, R-S5, R-C5).
pub(crate) fn strategy(s: &domain::Strategy) -> types::CreditStrategy {
    let security = match s.security {
        Security::None => types::CreditSecurity::None,
        Security::DownPayment => types::CreditSecurity::DownPayment,
        Security::Guarantee => types::CreditSecurity::Guarantee,
    };
    let follow_up = match s.follow_up {
        FollowUp::Automatic => types::FollowUp::Automatic,
        FollowUp::Standard => types::FollowUp::Standard,
        FollowUp::EarlyPersonal => types::FollowUp::EarlyPersonal,
    };
    let credit_hold = match s.credit_hold {
        HoldAdvice::None => types::CreditHoldAdvice::None,
        HoldAdvice::Place => types::CreditHoldAdvice::Place,
    };
    types::CreditStrategy {
        credit_term_days: u32::from(s.credit_term.days()),
        pay_up_front: s.credit_term == CreditTerm::PayUpFront,
        new_customer: s.new_customer,
        security: security.into(),
        down_payment_or_guarantee: s.security != Security::None,
        follow_up: follow_up.into(),
        severe_default: s.bureau == BureauFlag::SevereDefault,
        credit_hold: credit_hold.into(),
    }
}

/// The reasons (R-S2).
pub(crate) fn reasons(result: &domain::ScoreResult) -> Vec<types::ScoreReason> {
    result
        .reasons
        .iter()
        .map(|r| types::ScoreReason {
            code: r.code.clone(),
            description: r.description.clone(),
            indicator: r.indicator.as_str().to_owned(),
            points_lost: r.points_lost,
        })
        .collect()
}
