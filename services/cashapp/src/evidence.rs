//! Evidence: every fact that made the engine prefer a receivable, with its weight in basis
//! points and a sentence a clerk understands (issue item 2).
//!
//! Weights (documented in the README): a reference names the contract 6000 (exact, or the
//! receivable id), 5500 (its digits), 4500 (one typo), 3500 (cut short); the payer pays from
//! an account on file 4000; the payer's name matches 3000 (exact) / 2800 (pinyin, company
//! core) / 2500 (an extra initial) / 1800 (homophone) / 1000 (initials), also when read from
//! the remittance text — account and name together count at most 6000; the amount fits 2500
//! (one item or the oldest items exactly) / 2000 (within the write-off tolerance); the unit is
//! named 1000; the date is near the due date 500.

use std::fmt;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

use crate::ident::Text;
use crate::names::NameMatch;

/// How a reference in the remittance matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefMatch {
    /// The beginning of the number, the rest cut off (by the bank's field length).
    CutShort,
    /// One character wrong, missing, extra or two swapped.
    Typo,
    /// Only the digits of the number (letters left out or wrong).
    Digits,
    /// The number itself (ignoring case, spaces, dashes, full-width characters).
    Exact,
}

impl RefMatch {
    /// True for matches strong enough to name a contract on their own.
    #[must_use]
    pub fn is_strong(self) -> bool {
        matches!(self, Self::Exact | Self::Digits)
    }
}

/// How the amount fits the open items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AmountFit {
    /// Equals the open amount of one receivable.
    One,
    /// Equals the open amounts of several receivables together.
    Several,
    /// Differs from an exact fit by no more than the write-off tolerance.
    WithinTolerance,
    /// Less than what is open: a partial payment.
    Partial,
    /// More than everything open: an overpayment.
    Over,
}

/// One fact, its weight, and its explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evidence {
    /// The remittance names the receivable itself.
    ReceivableNamed {
        /// Receivable id.
        receivable: Text,
        /// How it matched.
        how: RefMatch,
    },
    /// The remittance names the contract.
    ContractNamed {
        /// Contract number.
        contract: Text,
        /// How it matched.
        how: RefMatch,
    },
    /// The payer's account is on file for the customer.
    PayerAccountOnFile,
    /// The payer's name matches the customer's.
    PayerName {
        /// How it matched.
        how: NameMatch,
    },
    /// The bank's payer-name field is empty and the remittance text carries a name that
    /// matches the customer's (foreign files put the name there; issue 19).
    PayerNameInText {
        /// The name as written in the text.
        name: Text,
        /// How it matched.
        how: NameMatch,
    },
    /// Neither the payer's account nor name confirms the customer (a name that only sounds
    /// the same does not).
    PayerNotCustomer,
    /// The bank gave no payer name and the account is not on file.
    PayerUnknown,
    /// How the amount fits.
    Amount {
        /// The fit.
        fit: AmountFit,
        /// Receivables the amount covers (fully or partly).
        items: usize,
        /// Difference to an exact fit (tolerance) or surplus (over), else zero.
        difference: Decimal,
    },
    /// The remittance names the customer's unit.
    UnitNamed {
        /// The unit.
        unit: Text,
    },
    /// The payment date is near the due date.
    DateNearDue {
        /// Days after the due date (negative: before).
        days: i64,
    },
    /// Nothing names what the payment is for and the statutory order (R-P11) does not pay
    /// one receivable exactly, but the amount equals this receivable's open amount exactly:
    /// a person chooses between the two allocations (issue 19).
    SingleItemFits {
        /// The receivable the amount equals.
        receivable: Text,
        /// Its due date.
        due: NaiveDate,
    },
    /// The money arrived on an account that is not the receivable's escrow account (R-P6).
    NotEscrowAccount {
        /// The escrow account the receivable's money must land in.
        escrow: Text,
    },
}

/// Most the payer's account and name count together.
pub(crate) const PAYER_CAP: i32 = 6000;

impl Evidence {
    /// Weight in basis points.
    #[must_use]
    pub fn points(&self) -> i32 {
        match self {
            Self::ReceivableNamed { how, .. } | Self::ContractNamed { how, .. } => match how {
                RefMatch::Exact => 6000,
                RefMatch::Digits => 5500,
                RefMatch::Typo => 4500,
                RefMatch::CutShort => 3500,
            },
            Self::PayerAccountOnFile => 4000,
            Self::PayerName { how } | Self::PayerNameInText { how, .. } => match how {
                NameMatch::Exact => 3000,
                NameMatch::Pinyin | NameMatch::CompanyCore => 2800,
                NameMatch::ExtraInitial => 2500,
                NameMatch::Homophone => 1800,
                NameMatch::Initials => 1000,
            },
            Self::Amount { fit, .. } => match fit {
                AmountFit::One | AmountFit::Several => 2500,
                AmountFit::WithinTolerance => 2000,
                AmountFit::Partial | AmountFit::Over => 0,
            },
            Self::UnitNamed { .. } => 1000,
            Self::DateNearDue { .. } => 500,
            Self::PayerNotCustomer
            | Self::PayerUnknown
            | Self::NotEscrowAccount { .. }
            | Self::SingleItemFits { .. } => 0,
        }
    }

    /// Machine-readable code.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::ReceivableNamed { .. } => "receivable_named",
            Self::ContractNamed { .. } => "contract_named",
            Self::PayerAccountOnFile => "payer_account_on_file",
            Self::PayerName { .. } => "payer_name",
            Self::PayerNameInText { .. } => "payer_name_in_text",
            Self::PayerNotCustomer => "payer_not_customer",
            Self::PayerUnknown => "payer_unknown",
            Self::Amount { .. } => "amount",
            Self::UnitNamed { .. } => "unit_named",
            Self::DateNearDue { .. } => "date_near_due",
            Self::NotEscrowAccount { .. } => "not_escrow_account",
            Self::SingleItemFits { .. } => "single_item_fits",
        }
    }
}

fn how_name(how: NameMatch) -> &'static str {
    match how {
        NameMatch::Exact => "is",
        NameMatch::Pinyin => "is the pinyin of",
        NameMatch::CompanyCore => "is the same company as",
        NameMatch::ExtraInitial => "is, with an extra initial,",
        NameMatch::Homophone => "sounds the same as (different characters)",
        NameMatch::Initials => "has the surname and initials of",
    }
}

fn how_ref(how: RefMatch) -> &'static str {
    match how {
        RefMatch::Exact => "",
        RefMatch::Digits => " (its digits only)",
        RefMatch::Typo => " (with one character wrong)",
        RefMatch::CutShort => " (cut short)",
    }
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ReceivableNamed { receivable, how } => {
                write!(f, "the remittance names receivable {receivable}{}", how_ref(*how))
            }
            Self::ContractNamed { contract, how } => {
                write!(f, "the remittance names contract {contract}{}", how_ref(*how))
            }
            Self::PayerAccountOnFile => f.write_str("the payer's account is on file for the customer"),
            Self::PayerName { how } => {
                write!(f, "the payer's name {} the customer's name on file", how_name(*how))
            }
            Self::PayerNameInText { name, how } => write!(
                f,
                "the bank gave no payer name; the name {name} in the remittance text {} the customer's name on file",
                how_name(*how)
            ),
            Self::PayerNotCustomer => f.write_str(
                "the payer is not confirmed as the customer: the account is not on file and the name is not the customer's",
            ),
            Self::PayerUnknown => f.write_str("the bank gave no payer name and the account is not on file"),
            Self::Amount { fit, items, difference } => match fit {
                AmountFit::One => f.write_str("the amount equals the open amount of the receivable"),
                AmountFit::Several => write!(f, "the amount equals the open amounts of {items} receivables together"),
                AmountFit::WithinTolerance => write!(f, "the amount differs from what is open by {difference}, within the write-off tolerance"),
                AmountFit::Partial => write!(f, "the amount is less than what is open: a partial payment over {items} receivable(s)"),
                AmountFit::Over => write!(f, "the amount is {difference} more than everything open"),
            },
            Self::UnitNamed { unit } => write!(f, "the remittance names the customer's unit {unit}"),
            Self::DateNearDue { days } => match days {
                0 => f.write_str("paid on the due date"),
                d if *d < 0 => write!(f, "paid {} days before the due date", -d),
                d => write!(f, "paid {d} days after the due date"),
            },
            Self::SingleItemFits { receivable, due } => write!(
                f,
                "the amount equals the open amount of receivable {receivable} (due {due}) exactly, but nothing in the payment says what it pays: the statutory order (R-P11) pays the oldest items first instead; a person chooses"
            ),
            Self::NotEscrowAccount { escrow } => write!(
                f,
                "the money arrived on an account that is not the receivable's regulated escrow account {escrow}"
            ),
        }
    }
}

impl Serialize for Evidence {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Evidence", 3)?;
        s.serialize_field("code", self.code())?;
        s.serialize_field("points", &self.points())?;
        s.serialize_field("text", &self.to_string())?;
        s.end()
    }
}

/// Total weight of a list of evidence: the strongest reference, the payer's account and
/// name together capped at [`PAYER_CAP`], and the rest.
#[must_use]
pub(crate) fn score(evidence: &[Evidence]) -> i32 {
    let (mut reference, mut payer, mut other) = (0, 0, 0);
    for e in evidence {
        match e {
            Evidence::ReceivableNamed { .. } | Evidence::ContractNamed { .. } => {
                reference = reference.max(e.points());
            }
            Evidence::PayerAccountOnFile
            | Evidence::PayerName { .. }
            | Evidence::PayerNameInText { .. } => payer += e.points(),
            _ => other += e.points(),
        }
    }
    reference + payer.min(PAYER_CAP) + other
}
