//! What a grade means for the business (R-S4, R-C5, R-S5): the credit term offered, the
//! security asked for, how dunning follows up, whether the customer is a severe default the
//! company may report to a credit bureau, and whether contracts' credit hold should trigger.
//!
//! | grade     | credit term (R-C5)  | security (R-S4)  | follow-up (R-S4)   |
//! |-----------|---------------------|------------------|--------------------|
//! | AAA, AA   | up to 60 days       | none             | automatic          |
//! | A         | 45 days             | none             | automatic          |
//! | BBB       | 30 days             | none             | standard           |
//! | BB        | 20 days             | down payment     | standard           |
//! | B         | 15 days             | down payment     | early, by a person |
//! | CCC, CC   | 7 days              | guarantee        | early, by a person |
//! | C, D      | none: pay up front  | guarantee        | early, by a person |
//!
//! A new customer (under [`NEW_CUSTOMER_MONTHS`] of tenure) gets at most 15 days (R-C5).
//! Severe default (R-S5): more than 90 days past due, or grade D. A severe default, or a grade
//! of C or worse, asks contracts to place a credit hold.

use serde::{Deserialize, Serialize};

use super::features::Features;
use super::grade::Grade;

/// Below this many months of tenure a customer is new (R-C5: at most 15 days).
pub const NEW_CUSTOMER_MONTHS: u32 = 12;
/// The longest term a new customer gets (R-C5).
pub const NEW_CUSTOMER_MAX_DAYS: u16 = 15;
/// The longest term anyone gets: good customers (R-C5).
pub const MAX_TERM_DAYS: u16 = 60;
/// More days past due than this is a severe default (R-S5).
pub const SEVERE_DEFAULT_DPD: u32 = 90;

/// The credit term offered on new business (R-C5, R-S4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CreditTerm {
    /// Pay within this many days of the invoice.
    Days(u16),
    /// No credit: payment before delivery or at signing.
    PayUpFront,
}

impl CreditTerm {
    /// Days of credit (0 for pay up front).
    #[must_use]
    pub fn days(self) -> u16 {
        match self {
            Self::Days(d) => d,
            Self::PayUpFront => 0,
        }
    }
}

/// What security new business needs (R-S4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Security {
    /// The usual terms.
    None,
    /// A bigger down payment than usual.
    DownPayment,
    /// A guarantor or collateral (and the bigger down payment).
    Guarantee,
}

/// How dunning follows up (R-S4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FollowUp {
    /// Automatic reminders only.
    Automatic,
    /// The policy's ladder as it is.
    Standard,
    /// Earlier and by a person (call or visit).
    EarlyPersonal,
}

/// Whether the customer is a severe default the company may report (R-S5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BureauFlag {
    /// Nothing to report.
    None,
    /// Severe default: may be reported to a credit bureau; lower limits, last in line for new
    /// business.
    SevereDefault,
}

/// Whether contracts' credit hold should trigger (R-S5, R-C5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldAdvice {
    /// No hold needed.
    None,
    /// Place a credit hold: no new contract without a supervisor's override.
    Place,
}

impl Security {
    /// The name in results (as serialised).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::DownPayment => "down_payment",
            Self::Guarantee => "guarantee",
        }
    }
}

impl FollowUp {
    /// The name in results (as serialised).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Automatic => "automatic",
            Self::Standard => "standard",
            Self::EarlyPersonal => "early_personal",
        }
    }
}

impl BureauFlag {
    /// The name in results (as serialised).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::SevereDefault => "severe_default",
        }
    }
}

impl HoldAdvice {
    /// The name in results (as serialised).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Place => "place",
        }
    }
}

/// The strategy outputs of a score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Strategy {
    /// Credit term (R-C5).
    pub credit_term: CreditTerm,
    /// Whether the customer is new (R-C5 caps the term).
    pub new_customer: bool,
    /// Security for new business (R-S4).
    pub security: Security,
    /// Dunning follow-up (R-S4).
    pub follow_up: FollowUp,
    /// Severe default (R-S5).
    pub bureau: BureauFlag,
    /// Credit hold (R-S5).
    pub credit_hold: HoldAdvice,
}

impl Strategy {
    /// The strategy of a grade for this customer.
    #[must_use]
    pub fn decide(grade: Grade, f: &Features) -> Self {
        use Grade::{A, Aa, Aaa, B, Bb, Bbb, C, Cc, Ccc, D};
        let term = match grade {
            Aaa | Aa => CreditTerm::Days(MAX_TERM_DAYS),
            A => CreditTerm::Days(45),
            Bbb => CreditTerm::Days(30),
            Bb => CreditTerm::Days(20),
            B => CreditTerm::Days(15),
            Ccc | Cc => CreditTerm::Days(7),
            C | D => CreditTerm::PayUpFront,
        };
        let new_customer = f.tenure_months < NEW_CUSTOMER_MONTHS;
        let credit_term = match term {
            CreditTerm::Days(d) if new_customer => CreditTerm::Days(d.min(NEW_CUSTOMER_MAX_DAYS)),
            t => t,
        };
        let security = match grade {
            Aaa | Aa | A | Bbb => Security::None,
            Bb | B => Security::DownPayment,
            Ccc | Cc | C | D => Security::Guarantee,
        };
        let follow_up = match grade {
            Aaa | Aa | A => FollowUp::Automatic,
            Bbb | Bb => FollowUp::Standard,
            B | Ccc | Cc | C | D => FollowUp::EarlyPersonal,
        };
        let bureau = if f.days_past_due > SEVERE_DEFAULT_DPD || grade == D {
            BureauFlag::SevereDefault
        } else {
            BureauFlag::None
        };
        let credit_hold = if bureau == BureauFlag::SevereDefault || grade >= C {
            HoldAdvice::Place
        } else {
            HoldAdvice::None
        };
        Self {
            credit_term,
            new_customer,
            security,
            follow_up,
            bureau,
            credit_hold,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_serialised_ones() {
        for (name, serialised) in [
            (Security::DownPayment.as_str(), json(Security::DownPayment)),
            (
                FollowUp::EarlyPersonal.as_str(),
                json(FollowUp::EarlyPersonal),
            ),
            (
                BureauFlag::SevereDefault.as_str(),
                json(BureauFlag::SevereDefault),
            ),
            (HoldAdvice::Place.as_str(), json(HoldAdvice::Place)),
        ] {
            assert_eq!(format!("\"{name}\""), serialised);
        }
    }

    fn json(value: impl Serialize) -> String {
        serde_json::to_string(&value).expect("json")
    }
}
