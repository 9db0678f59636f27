//! Money that does not start as a bank line (R-P1, R-P3): the finance desk's formal receipts
//! (收据) and the acknowledgments (收条) of cheques, drafts, acceptance bills and transfer
//! slips; their numbering, their status machines, the desk's cash count and the fee for a
//! long acceptance bill (R-C10). Pure: no sqlx, tonic or rdkafka.
//!
//! ```text
//! receipt:         issued ──request void (reason)──► void_requested ──approve (another person)──► voided
//!                     ▲                                   │
//!                     └────────reject (another person)────┘
//! acknowledgment:  pending ──the bank line shows it──► cleared (a payment with a receipt)
//!                     └────the bank returns it unpaid──► bounced (an exception)
//! ```

use std::fmt;

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};

use super::status::Unknown;

/// A numbered series of documents; each project has one per year, numbered 1, 2, 3… with
/// no gap (the number is taken in the transaction that issues the document).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Series {
    /// Formal receipts (收据): money received.
    Receipt,
    /// Acknowledgments (收条): an instrument handed over, not money yet.
    Acknowledgment,
}

impl Series {
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            Self::Receipt => "receipt",
            Self::Acknowledgment => "acknowledgment",
        }
    }

    /// The printed prefix: 收据 SJ, 收条 ST.
    const fn prefix(self) -> &'static str {
        match self {
            Self::Receipt => "SJ",
            Self::Acknowledgment => "ST",
        }
    }

    /// The document number as printed, e.g. `SJ-P1-2026-000001`.
    pub(crate) fn document_no(self, project: &str, year: i32, number: i32) -> String {
        format!("{}-{project}-{year}-{number:06}", self.prefix())
    }
}

/// Why a project code is refused.
pub(crate) fn check_project(project: &str) -> Result<(), String> {
    if project.is_empty() || project.len() > 32 {
        return Err("give the project's code (1 to 32 characters)".to_owned());
    }
    if !project
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(format!(
            "{project:?}: a project code has letters, digits and '_' only (it is part of every document number)"
        ));
    }
    Ok(())
}

/// Where a receipt stands (`receipts.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum ReceiptStatus {
    Issued,
    /// Someone asked to void it; another person decides.
    VoidRequested,
    /// Void: the number stays used, printed VOID.
    Voided,
}

/// A step the receipt machine refuses, with what to do instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum VoidRefused {
    /// Not in the status the step starts from.
    Status {
        status: ReceiptStatus,
        step: &'static str,
    },
    /// The person who asked to void it decides it (separation of duties).
    SamePerson,
}

impl fmt::Display for VoidRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Status { status, step } => write!(
                f,
                "the receipt is {status}; only {} may be {step}",
                match *step {
                    "asked to be voided" => "an issued receipt",
                    _ => "a receipt whose void was requested",
                }
            ),
            Self::SamePerson => f.write_str(
                "the person who asked to void the receipt cannot decide it; another cashier or a supervisor must (R-P1)",
            ),
        }
    }
}

impl std::error::Error for VoidRefused {}

impl ReceiptStatus {
    pub(crate) const ALL: [Self; 3] = [Self::Issued, Self::VoidRequested, Self::Voided];

    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            Self::Issued => "issued",
            Self::VoidRequested => "void_requested",
            Self::Voided => "voided",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Self, Unknown> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| Unknown {
                what: "receipt status",
                value: s.to_owned(),
            })
    }

    /// Someone asks to void an issued receipt.
    pub(crate) fn request_void(self) -> Result<Self, VoidRefused> {
        match self {
            Self::Issued => Ok(Self::VoidRequested),
            status => Err(VoidRefused::Status {
                status,
                step: "asked to be voided",
            }),
        }
    }

    /// Another person approves (`approve`) or rejects the request of `requested_by`.
    pub(crate) fn decide_void(
        self,
        requested_by: &str,
        decided_by: &str,
        approve: bool,
    ) -> Result<Self, VoidRefused> {
        if self != Self::VoidRequested {
            return Err(VoidRefused::Status {
                status: self,
                step: if approve { "voided" } else { "kept" },
            });
        }
        if requested_by == decided_by {
            return Err(VoidRefused::SamePerson);
        }
        Ok(if approve { Self::Voided } else { Self::Issued })
    }
}

impl fmt::Display for ReceiptStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a void without a replacement may do to the payment: withdraw it only while nothing
/// of it is applied (the cash is handed back); an applied payment keeps standing, and its
/// receipt can only be replaced.
pub(crate) fn may_withdraw(reissue: bool, applied: bool) -> Result<(), String> {
    if reissue || !applied {
        return Ok(());
    }
    Err("the receipt's payment is applied to receivables, so the money stands: ask for a void with reissue (a corrected replacement receipt), or refund the money through a refund request".to_owned())
}

/// The instrument behind an acknowledgment (R-P3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum InstrumentKind {
    Cheque,
    BankDraft,
    AcceptanceBill,
    /// A transfer the customer shows a slip for: a claim until the bank confirms it.
    TransferSlip,
}

impl InstrumentKind {
    pub(crate) const ALL: [Self; 4] = [
        Self::Cheque,
        Self::BankDraft,
        Self::AcceptanceBill,
        Self::TransferSlip,
    ];

    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            Self::Cheque => "cheque",
            Self::BankDraft => "bank_draft",
            Self::AcceptanceBill => "acceptance_bill",
            Self::TransferSlip => "transfer_slip",
        }
    }

    /// As printed on the acknowledgment.
    pub(crate) const fn label(self) -> &'static str {
        match self {
            Self::Cheque => "支票 cheque",
            Self::BankDraft => "银行汇票 bank draft",
            Self::AcceptanceBill => "商业承兑汇票 acceptance bill",
            Self::TransferSlip => "转账凭证 transfer slip",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Self, Unknown> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| Unknown {
                what: "instrument kind",
                value: s.to_owned(),
            })
    }

    /// Whether the bank may return it unpaid (a slip's transfer is either on the statement
    /// or not: it cannot bounce).
    pub(crate) const fn may_bounce(self) -> bool {
        !matches!(self, Self::TransferSlip)
    }
}

/// Where an acknowledgment stands (`acknowledgments.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum AcknowledgmentStatus {
    Pending,
    Cleared,
    Bounced,
}

impl AcknowledgmentStatus {
    pub(crate) const ALL: [Self; 3] = [Self::Pending, Self::Cleared, Self::Bounced];

    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Cleared => "cleared",
            Self::Bounced => "bounced",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Self, Unknown> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| Unknown {
                what: "acknowledgment status",
                value: s.to_owned(),
            })
    }

    /// The one place the machine lives: a pending acknowledgment settles once.
    pub(crate) fn settle(self, to: Self, kind: InstrumentKind) -> Result<Self, String> {
        match (self, to) {
            (Self::Pending, Self::Cleared) => Ok(to),
            (Self::Pending, Self::Bounced) if kind.may_bounce() => Ok(to),
            (Self::Pending, Self::Bounced) => Err(
                "a transfer slip cannot bounce: it is confirmed by the bank feed or stays a claim"
                    .to_owned(),
            ),
            (from, to) => Err(format!(
                "the acknowledgment is {}; it cannot become {}",
                from.as_str(),
                to.as_str()
            )),
        }
    }
}

/// The key a bank line's reference must contain to be the instrument: its number's letters
/// and digits, upper-case. Short numbers would match by accident, so at least four.
pub(crate) fn instrument_key(number: &str) -> Result<String, String> {
    let key = compact(number);
    if key.len() < 4 {
        return Err(format!(
            "{number:?}: an instrument number has at least 4 letters or digits (the bank line is matched by it)"
        ));
    }
    if key.len() > 40 {
        return Err("at most 40 letters and digits".to_owned());
    }
    Ok(key)
}

/// Upper-case letters and digits of `text`, for matching references however people spaced
/// or punctuated them.
pub(crate) fn compact(text: &str) -> String {
    text.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Whether a bank line's reference names `key`.
pub(crate) fn mentions(reference: &str, key: &str) -> bool {
    !key.is_empty() && compact(reference).contains(key)
}

/// The longest term of a commercial acceptance bill without the fund-occupation fee (R-C10).
pub(crate) const BILL_FREE_DAYS: i64 = 90;

/// The term of an acceptance bill and its fund-occupation fee (R-C10): nothing up to 90
/// days; beyond that `daily_rate` of the amount per day over 90, rounded half away from
/// zero to `unit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BillTerm {
    pub(crate) days: i64,
    pub(crate) fee: Decimal,
}

/// Why a bill is refused.
pub(crate) fn bill_term(
    issue: NaiveDate,
    due: NaiveDate,
    amount: Decimal,
    daily_rate: Option<Decimal>,
    accept_fee: bool,
    unit: Decimal,
) -> Result<BillTerm, String> {
    let days = (due - issue).num_days();
    if days <= 0 {
        return Err(format!(
            "the bill falls due {due}, not after its issue date {issue}"
        ));
    }
    if days <= BILL_FREE_DAYS {
        return Ok(BillTerm {
            days,
            fee: Decimal::ZERO,
        });
    }
    let over = days - BILL_FREE_DAYS;
    let Some(rate) = daily_rate else {
        return Err(format!(
            "a {days}-day bill is over the {BILL_FREE_DAYS} days accepted (R-C10), and no fund-occupation fee rate is configured (PAYMENTS_BILL_OCCUPATION_RATE): ask for a bill of at most {BILL_FREE_DAYS} days"
        ));
    };
    if !accept_fee {
        return Err(format!(
            "a {days}-day bill is over the {BILL_FREE_DAYS} days accepted (R-C10): it carries a fund-occupation fee for {over} days; record it with accept_occupation_fee, or ask for a shorter bill"
        ));
    }
    let fee = (amount * rate * Decimal::from(over)) / unit;
    let fee = fee.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero) * unit;
    Ok(BillTerm { days, fee })
}

/// The reference a desk's deposit of `date` carries on the bank statement, e.g.
/// `DESK-P1-20261205`.
pub(crate) fn deposit_reference(project: &str, date: NaiveDate) -> String {
    format!("DESK-{project}-{}", date.format("%Y%m%d"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn document_numbers_are_zero_padded_per_series() {
        assert_eq!(
            Series::Receipt.document_no("P1", 2026, 1),
            "SJ-P1-2026-000001"
        );
        assert_eq!(
            Series::Acknowledgment.document_no("HX_07", 2027, 123_456),
            "ST-HX_07-2027-123456"
        );
    }

    #[test]
    fn project_codes_name_the_problem() {
        assert!(check_project("P1").is_ok());
        assert!(check_project("").unwrap_err().contains("project's code"));
        assert!(
            check_project("P 1")
                .unwrap_err()
                .contains("letters, digits")
        );
        assert!(check_project(&"P".repeat(33)).is_err());
    }

    #[test]
    fn a_void_needs_a_second_person_r_p1() {
        let requested = ReceiptStatus::Issued.request_void().unwrap();
        assert_eq!(requested, ReceiptStatus::VoidRequested);
        assert_eq!(
            requested.decide_void("alice", "alice", true),
            Err(VoidRefused::SamePerson)
        );
        assert_eq!(
            requested.decide_void("alice", "bob", true),
            Ok(ReceiptStatus::Voided)
        );
        assert_eq!(
            requested.decide_void("alice", "bob", false),
            Ok(ReceiptStatus::Issued)
        );
        // Nothing else moves.
        assert!(ReceiptStatus::Voided.request_void().is_err());
        assert!(ReceiptStatus::VoidRequested.request_void().is_err());
        for s in [ReceiptStatus::Issued, ReceiptStatus::Voided] {
            assert!(s.decide_void("alice", "bob", true).is_err());
        }
        for s in ReceiptStatus::ALL {
            assert_eq!(ReceiptStatus::parse(s.as_str()), Ok(s));
        }
    }

    #[test]
    fn an_applied_payment_is_never_withdrawn_by_a_void() {
        assert!(may_withdraw(false, false).is_ok());
        assert!(may_withdraw(true, true).is_ok());
        assert!(may_withdraw(false, true).unwrap_err().contains("reissue"));
    }

    #[test]
    fn an_acknowledgment_settles_once_r_p3() {
        use AcknowledgmentStatus::{Bounced, Cleared, Pending};
        assert_eq!(Pending.settle(Cleared, InstrumentKind::Cheque), Ok(Cleared));
        assert_eq!(Pending.settle(Bounced, InstrumentKind::Cheque), Ok(Bounced));
        assert!(
            Pending
                .settle(Bounced, InstrumentKind::TransferSlip)
                .unwrap_err()
                .contains("cannot bounce")
        );
        for from in [Cleared, Bounced] {
            for to in AcknowledgmentStatus::ALL {
                assert!(from.settle(to, InstrumentKind::Cheque).is_err());
            }
        }
        for k in InstrumentKind::ALL {
            assert_eq!(InstrumentKind::parse(k.as_str()), Ok(k));
        }
    }

    #[test]
    fn instrument_keys_ignore_spacing_and_refuse_short_numbers() {
        assert_eq!(instrument_key(" 1020-3344 ").unwrap(), "10203344");
        assert!(instrument_key("12-3").is_err());
        assert!(mentions("CHQ NO. 1020 3344 CLEARED", "10203344"));
        assert!(!mentions("CHQ 1020334", "10203344"));
        assert!(!mentions("anything", ""));
    }

    #[test]
    fn a_bill_up_to_90_days_carries_no_fee_r_c10() {
        let unit = Decimal::new(1, 2);
        let t = bill_term(
            day("2026-01-01"),
            day("2026-04-01"),
            Decimal::from(100_000),
            None,
            false,
            unit,
        )
        .unwrap();
        assert_eq!(t.days, 90);
        assert_eq!(t.fee, Decimal::ZERO);
    }

    #[test]
    fn a_longer_bill_is_refused_or_carries_the_fee_r_c10() {
        let unit = Decimal::new(1, 2);
        let (issue, due) = (day("2026-01-01"), day("2026-05-01")); // 120 days
        let amount = Decimal::from(100_000);
        let rate = Some(Decimal::new(5, 4)); // 0.05% a day
        assert!(
            bill_term(issue, due, amount, None, true, unit)
                .unwrap_err()
                .contains("no fund-occupation fee rate")
        );
        assert!(
            bill_term(issue, due, amount, rate, false, unit)
                .unwrap_err()
                .contains("accept_occupation_fee")
        );
        let t = bill_term(issue, due, amount, rate, true, unit).unwrap();
        // 100,000 × 0.0005 × 30 = 1,500.00
        assert_eq!((t.days, t.fee), (120, Decimal::new(150_000, 2)));
        assert!(bill_term(due, issue, amount, rate, true, unit).is_err());
    }

    #[test]
    fn deposit_references_name_project_and_day() {
        assert_eq!(
            deposit_reference("P1", day("2026-12-05")),
            "DESK-P1-20261205"
        );
        assert!(mentions(
            "CASH DEPOSIT desk-p1-20261205",
            &compact(&deposit_reference("P1", day("2026-12-05")))
        ));
    }

    proptest! {
        /// R-C10: the fee is zero up to 90 days, never negative, whole fen, and never falls as
        /// the term grows.
        #[test]
        fn the_occupation_fee_grows_with_the_term(
            cents in 1i64..10_000_000_000,
            days in 1i64..400,
            more in 0i64..100,
            rate_bp in 0i64..100,
        ) {
            let unit = Decimal::new(1, 2);
            let amount = Decimal::new(cents, 2);
            let rate = Some(Decimal::new(rate_bp, 4));
            let issue = day("2026-01-01");
            let short = bill_term(issue, issue + chrono::Days::new(days as u64), amount, rate, true, unit).unwrap();
            let long = bill_term(issue, issue + chrono::Days::new((days + more) as u64), amount, rate, true, unit).unwrap();
            prop_assert!(short.fee >= Decimal::ZERO);
            prop_assert_eq!(short.fee % unit, Decimal::ZERO);
            prop_assert!(long.fee >= short.fee);
            if days <= BILL_FREE_DAYS {
                prop_assert_eq!(short.fee, Decimal::ZERO);
            }
        }
    }
}
