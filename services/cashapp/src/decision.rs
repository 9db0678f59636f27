//! What the engine decides for one payment (R-P4 decisions, R-P5 exceptions), in a form that
//! serialises to the JSON `collectctl reconcile` prints (amounts as decimal strings).

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::evidence::Evidence;
use crate::fx::FxConversion;
use crate::ident::Text;

/// What happens to the payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Applied automatically (confidence at or above the policy threshold).
    Applied,
    /// Allocations proposed for a person to confirm (confidence below the threshold).
    Proposed,
    /// Not applied: an exception for the work queue (R-P5).
    Exception,
}

/// What the allocations do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// Pays one receivable in full.
    Single,
    /// Split over several receivables of one customer.
    Split,
    /// Pays part of what is open (the last receivable touched stays partly open).
    Partial,
    /// Pays everything open; the surplus stays unapplied and flagged.
    Overpayment,
}

/// Why a payment was not applied (R-P5: flagged, never guessed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExceptionKind {
    /// Same payer, amount and reference as a payment already reconciled, or the same bank
    /// line again (R-P2).
    Duplicate,
    /// The amount differs from what is open beyond tolerance, and nothing names what it pays.
    AmountMismatch,
    /// The payer is not the contract party (R-P5): apply only after a person confirms.
    ThirdPartyPayer,
    /// No receivable matches.
    NoCandidate,
    /// Two candidates are too close to call.
    Ambiguous,
    /// Received on an account that is not the receivable's regulated escrow account (R-P6).
    WrongReceivingAccount,
    /// The receivables it names are already paid.
    NothingOpen,
    /// In another currency than the contract and no exchange rate for the day (R-P8).
    MissingRate,
}

impl ExceptionKind {
    /// Snake-case name, as in the JSON output.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Duplicate => "duplicate",
            Self::AmountMismatch => "amount_mismatch",
            Self::ThirdPartyPayer => "third_party_payer",
            Self::NoCandidate => "no_candidate",
            Self::Ambiguous => "ambiguous",
            Self::WrongReceivingAccount => "wrong_receiving_account",
            Self::NothingOpen => "nothing_open",
            Self::MissingRate => "missing_rate",
        }
    }
}

/// The order allocations were made in (R-P11: the order used is recorded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AllocationOrder {
    /// The payer named the receivables; those first, then the statutory order.
    PayerNamed,
    /// Civil Code art. 560: due before not yet due, then earliest due first; equal due dates
    /// pro rata.
    Statutory,
    /// The one open receivable the amount equals exactly, when nothing names what is paid
    /// (a proposal beside the statutory order; a person chooses, issue 19).
    ExactItem,
}

/// Money allocated to one receivable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Allocation {
    /// Receivable id.
    pub receivable_id: Text,
    /// Its contract.
    pub contract_no: Text,
    /// Its due date.
    pub due_date: NaiveDate,
    /// Amount allocated, in the contract currency.
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    /// Open before this payment.
    #[serde(with = "rust_decimal::serde::str")]
    pub open_before: Decimal,
    /// Open after this payment (and after a write-off of a small difference that needs no
    /// approval): more than zero means partially paid, zero paid (R-C11).
    #[serde(with = "rust_decimal::serde::str")]
    pub open_after: Decimal,
    /// This is the n-th payment applied to the receivable (several payments, one receivable).
    pub payment_no: u16,
    #[serde(skip)]
    pub(crate) item: u32,
}

/// A small difference written off instead of leaving a receivable open by cents (R-P12).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WriteOff {
    /// Receivable the difference is written off on.
    pub receivable_id: Text,
    /// Amount written off.
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    /// Why.
    pub reason: &'static str,
    /// Above the policy's approval threshold: a person must approve before it is booked.
    pub needs_approval: bool,
}

/// A receivable (customer) the payment could belong to, with the evidence for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Candidate {
    /// Customer id.
    pub customer_id: Text,
    /// Customer name.
    pub customer_name: Text,
    /// Contracts the payment would go to.
    pub contracts: Vec<Text>,
    /// Confidence, basis points.
    pub confidence: u16,
    /// The evidence.
    pub evidence: Vec<Evidence>,
    /// Currency the allocations are in (the contract's).
    pub booked_currency: String,
    /// The payment in that currency.
    #[serde(with = "rust_decimal::serde::str")]
    pub booked: Decimal,
    /// Conversion used (R-P8), when the payment was in another currency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fx: Option<FxConversion>,
    /// What would be allocated if a person confirms.
    pub allocations: Vec<Allocation>,
    /// Small difference that would be written off (R-P12).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_off: Option<WriteOff>,
    /// The order these allocations follow (R-P11: the order used is recorded).
    pub order: AllocationOrder,
}

/// Why a payment was not applied, and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exception {
    /// The main reason.
    pub kind: ExceptionKind,
    /// Further reasons that also hold.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<ExceptionKind>,
    /// Explanation for the clerk.
    pub reason: String,
    /// Suggested action.
    pub suggested_action: &'static str,
}

/// The decision for one payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// Payment id (feed fingerprint).
    pub payment_id: String,
    /// Bank reference of the payment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bank_reference: Option<String>,
    /// Booking date.
    pub date: NaiveDate,
    /// Line of the statement file the payment came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// Amount received, in the payment currency.
    #[serde(with = "rust_decimal::serde::str")]
    pub received: Decimal,
    /// Payment currency.
    pub currency: String,
    /// Payer's name as reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payer_name: Option<String>,
    /// Applied, proposed or exception.
    pub outcome: Outcome,
    /// What the allocations do, when there are any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shape: Option<Shape>,
    /// Confidence in the chosen customer, basis points (0–10000).
    pub confidence: u16,
    /// Customer the payment was applied to or proposed for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<Text>,
    /// That customer's name on file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_name: Option<Text>,
    /// Currency of `booked`, `applied` and `unapplied` (the contract currency after FX).
    pub booked_currency: String,
    /// Amount received in `booked_currency`.
    #[serde(with = "rust_decimal::serde::str")]
    pub booked: Decimal,
    /// Conversion used (R-P8), when the payment was in another currency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fx: Option<FxConversion>,
    /// Allocations: applied when `outcome` is applied, proposed when it is proposed.
    pub allocations: Vec<Allocation>,
    /// Amount applied (`applied + unapplied = booked`, to the fen).
    #[serde(with = "rust_decimal::serde::str")]
    pub applied: Decimal,
    /// Amount not applied (surplus of an overpayment, or everything for a proposal or an
    /// exception).
    #[serde(with = "rust_decimal::serde::str")]
    pub unapplied: Decimal,
    /// Small difference written off (R-P12).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_off: Option<WriteOff>,
    /// Allocation order used (R-P11).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<AllocationOrder>,
    /// Evidence for the chosen customer.
    pub evidence: Vec<Evidence>,
    /// Things a person should know even though the payment was applied (surplus, new payer
    /// account…).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Why not applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exception: Option<Exception>,
    /// Best candidates with their evidence (for proposals and exceptions).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<Candidate>,
    /// Duplicate-detection key (payer, amount, reference).
    #[serde(skip)]
    pub(crate) dedup: Option<u64>,
}

impl Decision {
    /// The applied decision a person makes by confirming candidate `index` of a proposal or
    /// an exception (e.g. after checking that a third party paid for the customer). `None`
    /// when there is no such candidate or it allocates nothing.
    #[must_use]
    pub fn confirm(&self, index: usize) -> Option<Self> {
        let c = self.candidates.get(index)?;
        if c.allocations.is_empty() {
            return None;
        }
        let applied: Decimal = c.allocations.iter().map(|a| a.amount).sum();
        let mut d = self.clone();
        d.outcome = Outcome::Applied;
        d.customer_id = Some(c.customer_id.clone());
        d.customer_name = Some(c.customer_name.clone());
        d.booked_currency.clone_from(&c.booked_currency);
        d.booked = c.booked;
        d.fx.clone_from(&c.fx);
        d.allocations.clone_from(&c.allocations);
        d.applied = applied;
        d.unapplied = d.booked - applied;
        d.evidence.clone_from(&c.evidence);
        d.write_off.clone_from(&c.write_off);
        d.order = Some(c.order);
        d.shape = shape_of(&d.allocations, d.unapplied, d.write_off.as_ref());
        d.exception = None;
        d.candidates = Vec::new();
        d.notes
            .push(format!("confirmed by a person (candidate {})", index + 1));
        Some(d)
    }
}

/// What a list of allocations does, given what stays unapplied.
#[must_use]
pub(crate) fn shape_of(
    allocations: &[Allocation],
    unapplied: Decimal,
    write_off: Option<&WriteOff>,
) -> Option<Shape> {
    let last = allocations.last()?;
    Some(if unapplied > Decimal::ZERO {
        Shape::Overpayment
    } else if last.open_after > Decimal::ZERO && write_off.is_none() {
        Shape::Partial
    } else if allocations.len() > 1 {
        Shape::Split
    } else {
        Shape::Single
    })
}
