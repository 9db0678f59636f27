//! R-L7, R-L6: court fees from the national schedule (诉讼费用交纳办法, State Council Decree
//! No. 481 of 2007), kept as data: the schedule is `fees/cn-2007.json`, shipped in the binary
//! and checked when loaded (tiers ascending and contiguous, rates in [0, 1]).
//!
//! - Acceptance fee (案件受理费) of a property case, art. 13(1): a flat fee up to the first
//!   threshold (50 yuan up to 10,000), then each tier's rate on the part of the claim inside
//!   that tier only (2.5 % from 10,000 to 100,000, 2 % to 200,000, ..., 0.5 % above 20 M).
//!   Worked: 100,000 → 2,300; 200,000 → 4,300; 1,000,000 → 13,800.
//! - Payment order fee (支付令申请费), art. 14(3): one third of the acceptance fee of a property
//!   case of that amount.
//! - Half fee, art. 15: a case withdrawn (撤诉) or settled by mediation (调解) pays half the
//!   acceptance fee; the court refunds what was paid less the half.
//!
//! Rounding (stated once, used everywhere): the acceptance fee is computed exactly in
//! decimal and rounded to the fen (0.01 yuan) half away from zero (四舍五入); the payment
//! order fee and the half fee are one third and one half of that rounded acceptance fee, each
//! rounded to the fen the same way; the refund is the fee paid less the half, exactly, so
//! refund + half = fee paid to the fen. Courts that round to the yuan differ by under one yuan.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::Deserialize;

use crate::domain::case::{Outcome, Status};

/// The schedule in force, as shipped (`include_str!`).
const CN_2007: &str = include_str!("../../fees/cn-2007.json");

/// One tier: the rate on the part of the claim above `from` and up to `to` (no `to`: above).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Tier {
    /// Lower bound (exclusive), yuan.
    pub from: Decimal,
    /// Upper bound (inclusive), yuan; none for the last tier.
    pub to: Option<Decimal>,
    /// The rate on the part inside the tier, e.g. 0.025.
    pub rate: Decimal,
}

/// A court-fee schedule: a flat fee up to a threshold, then progressive tiers.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Schedule {
    /// Stable id, recorded with every fee computed from it (e.g. `cn-2007`).
    pub id: String,
    /// Where it comes from.
    pub title: String,
    /// ISO 4217 of the amounts.
    pub currency: String,
    /// A claim up to this amount pays [`Schedule::flat_fee`].
    pub flat_up_to: Decimal,
    /// The fee of a claim up to [`Schedule::flat_up_to`].
    pub flat_fee: Decimal,
    /// The tiers above the flat part, ascending.
    pub tiers: Vec<Tier>,
}

/// Why a schedule is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadSchedule(
    /// What is wrong.
    pub String,
);

impl std::fmt::Display for BadSchedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "court-fee schedule refused: {}", self.0)
    }
}

impl std::error::Error for BadSchedule {}

/// The half fee and the refund of an acceptance fee paid (art. 15).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refund {
    /// Half the acceptance fee paid: what the court keeps (art. 15).
    pub half: Decimal,
    /// What the court pays back: paid − half.
    pub refund: Decimal,
}

/// Rounds to the fen, half away from zero (四舍五入).
fn to_fen(amount: Decimal) -> Decimal {
    amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

impl Schedule {
    /// The schedule the service ships (`fees/cn-2007.json`), checked.
    ///
    /// # Errors
    /// [`BadSchedule`] when the shipped file does not parse or fails [`Schedule::check`]; the
    /// service refuses to start then.
    pub fn national() -> Result<Self, BadSchedule> {
        Self::parse(CN_2007)
    }

    /// A schedule from its JSON, checked.
    ///
    /// # Errors
    /// [`BadSchedule`] naming what is wrong.
    pub fn parse(json: &str) -> Result<Self, BadSchedule> {
        let schedule: Self =
            serde_json::from_str(json).map_err(|e| BadSchedule(format!("not readable: {e}")))?;
        schedule.check()?;
        Ok(schedule)
    }

    /// The schedule's invariants: a non-negative flat part, tiers that start at the flat
    /// threshold, each starting where the one before ended, ascending, only the last one
    /// open-ended, and every rate in [0, 1].
    ///
    /// # Errors
    /// [`BadSchedule`] naming the first tier at fault.
    pub fn check(&self) -> Result<(), BadSchedule> {
        if self.id.trim().is_empty() {
            return Err(BadSchedule("the id is empty".into()));
        }
        if self.flat_fee < Decimal::ZERO || self.flat_up_to <= Decimal::ZERO {
            return Err(BadSchedule(
                "the flat fee must be ≥ 0 and its threshold > 0".into(),
            ));
        }
        if self.tiers.is_empty() {
            return Err(BadSchedule("no tiers".into()));
        }
        let mut expected_from = self.flat_up_to;
        let last = self.tiers.len() - 1;
        for (i, tier) in self.tiers.iter().enumerate() {
            if tier.from != expected_from {
                return Err(BadSchedule(format!(
                    "tier {i} starts at {} but the part before ends at {expected_from}: tiers must be contiguous",
                    tier.from
                )));
            }
            if tier.rate < Decimal::ZERO || tier.rate > Decimal::ONE {
                return Err(BadSchedule(format!(
                    "tier {i} has the rate {}, not in [0, 1]",
                    tier.rate
                )));
            }
            match (tier.to, i == last) {
                (Some(to), _) if to <= tier.from => {
                    return Err(BadSchedule(format!(
                        "tier {i} ends at {to}, not above its start {}: tiers must ascend",
                        tier.from
                    )));
                }
                (Some(to), false) => expected_from = to,
                (None, true) => {}
                (None, false) => {
                    return Err(BadSchedule(format!(
                        "tier {i} is open-ended but is not the last"
                    )));
                }
                (Some(_), true) => {
                    return Err(BadSchedule(
                        "the last tier must be open-ended (no `to`)".into(),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Art. 13(1): the acceptance fee of a property case claiming `claim` (yuan), to the fen.
    /// Nothing claimed, nothing due: a claim ≤ 0 pays 0.
    #[must_use]
    pub fn acceptance_fee(&self, claim: Decimal) -> Decimal {
        if claim <= Decimal::ZERO {
            return Decimal::ZERO;
        }
        let mut fee = self.flat_fee;
        for tier in &self.tiers {
            if claim <= tier.from {
                break;
            }
            let top = tier.to.map_or(claim, |to| to.min(claim));
            fee += (top - tier.from) * tier.rate;
        }
        to_fen(fee)
    }

    /// Art. 14(3): a payment order costs one third of the acceptance fee, to the fen.
    #[must_use]
    pub fn payment_order_fee(&self, claim: Decimal) -> Decimal {
        to_fen(self.acceptance_fee(claim) / Decimal::from(3))
    }
}

/// Art. 15: a case withdrawn or settled by mediation pays half the acceptance fee `paid`; the
/// rest is refunded. Never negative; half + refund = paid.
#[must_use]
pub fn half_fee_refund(paid: Decimal) -> Refund {
    let paid = paid.max(Decimal::ZERO);
    let half = to_fen(paid / Decimal::TWO);
    Refund {
        half,
        refund: paid - half,
    }
}

/// R-L7: the court-fee refund of a case closing from `from` as `outcome`, given the
/// acceptance fee recorded when the suit was filed (`None`: no suit was filed).
///
/// Only an acceptance fee is halved (art. 15), and only for a case that ends before judgment
/// by withdrawal or settlement (mediation): before a suit (opened, lawyer's letter, payment
/// order) no acceptance fee was paid, so nothing is refunded (a payment order fee is not
/// halved); after a judgment the fee is decided in the judgment and nothing is refunded.
#[must_use]
pub fn refund_on_close(acceptance_fee: Option<Decimal>, from: Status, outcome: Outcome) -> Decimal {
    match (acceptance_fee, from, outcome) {
        (Some(paid), Status::LitigationFiled, Outcome::Withdrawn | Outcome::Settled) => {
            half_fee_refund(paid).refund
        }
        _ => Decimal::ZERO,
    }
}

/// R-L4, R-L7: the refund announced when a full payment flags a case for withdrawal: the
/// suit, if one was filed, is to be withdrawn, so half the acceptance fee comes back.
#[must_use]
pub fn refund_on_withdrawal(acceptance_fee: Option<Decimal>, status: Status) -> Decimal {
    refund_on_close(acceptance_fee, status, Outcome::Withdrawn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::str::FromStr as _;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn national() -> Schedule {
        Schedule::national().unwrap()
    }

    #[test]
    fn the_shipped_schedule_loads_and_checks() {
        let s = national();
        assert_eq!(s.id, "cn-2007");
        assert_eq!(s.currency, "CNY");
        assert_eq!(s.tiers.len(), 9);
    }

    #[test]
    fn worked_figures_of_art_13() {
        let s = national();
        for (claim, fee) in [
            (d("0.01"), d("50")),
            (d("8000"), d("50")),
            (d("10000"), d("50")),
            (d("100000"), d("2300")),
            (d("200000"), d("4300")),
            (d("500000"), d("8800")),
            (d("1000000"), d("13800")),
            (d("2000000"), d("22800")),
            (d("5000000"), d("46800")),
            (d("10000000"), d("81800")),
            (d("20000000"), d("141800")),
            (d("30000000"), d("191800")),
            // 10,000.01: 50 + 0.01 × 2.5 % = 50.00025 → 50.00 (to the fen).
            (d("10000.01"), d("50.00")),
            // 10,000.20: 50 + 0.20 × 2.5 % = 50.005 → 50.01 (half away from zero).
            (d("10000.20"), d("50.01")),
            (d("0"), d("0")),
        ] {
            assert_eq!(s.acceptance_fee(claim), fee, "claim {claim}");
        }
    }

    #[test]
    fn payment_order_is_a_third_and_the_withdrawal_half_is_refunded() {
        let s = national();
        assert_eq!(s.payment_order_fee(d("100000")), d("766.67"));
        assert_eq!(s.payment_order_fee(d("200000")), d("1433.33"));
        assert_eq!(s.payment_order_fee(d("8000")), d("16.67"));
        assert_eq!(
            half_fee_refund(d("2300")),
            Refund {
                half: d("1150"),
                refund: d("1150")
            }
        );
        // An odd fen: the court keeps the rounded half, the refund is the rest.
        assert_eq!(
            half_fee_refund(d("50.01")),
            Refund {
                half: d("25.01"),
                refund: d("25.00")
            }
        );
    }

    #[test]
    fn a_refund_only_for_a_filed_suit_withdrawn_or_settled_before_judgment() {
        let fee = Some(d("4300"));
        assert_eq!(
            refund_on_close(fee, Status::LitigationFiled, Outcome::Withdrawn),
            d("2150")
        );
        assert_eq!(
            refund_on_close(fee, Status::LitigationFiled, Outcome::Settled),
            d("2150")
        );
        assert_eq!(
            refund_on_close(fee, Status::LitigationFiled, Outcome::Paid),
            d("0")
        );
        assert_eq!(
            refund_on_close(fee, Status::Judgment, Outcome::Settled),
            d("0")
        );
        assert_eq!(
            refund_on_close(None, Status::PaymentOrderApplied, Outcome::Withdrawn),
            d("0")
        );
        assert_eq!(refund_on_withdrawal(None, Status::Opened), d("0"));
    }

    #[test]
    fn bad_schedules_are_refused_by_name() {
        let good = national();
        let mut gap = good.clone();
        gap.tiers[2].from = d("150000");
        assert!(gap.check().unwrap_err().0.contains("contiguous"));
        let mut rate = good.clone();
        rate.tiers[0].rate = d("2.5");
        assert!(rate.check().unwrap_err().0.contains("[0, 1]"));
        let mut open = good.clone();
        open.tiers[3].to = None;
        assert!(open.check().unwrap_err().0.contains("open-ended"));
        let mut down = good.clone();
        down.tiers[1].to = Some(d("100000"));
        assert!(down.check().unwrap_err().0.contains("ascend"));
        let mut closed = good;
        closed.tiers[8].to = Some(d("90000000"));
        assert!(closed.check().is_err());
        assert!(Schedule::parse("{").is_err());
    }

    /// Claims in fen from 0 to 50 M yuan.
    fn claim() -> impl Strategy<Value = Decimal> {
        (0_i64..5_000_000_000).prop_map(|fen| Decimal::new(fen, 2))
    }

    proptest! {
        #[test]
        fn the_fee_never_falls_as_the_claim_grows(a in claim(), b in claim()) {
            let s = national();
            let (low, high) = if a <= b { (a, b) } else { (b, a) };
            prop_assert!(s.acceptance_fee(low) <= s.acceptance_fee(high));
        }

        #[test]
        fn the_fee_is_continuous_at_every_boundary(i in 0_usize..9, fen in 1_i64..100) {
            // Just below and just above a tier's start differ by at most the top rate on the
            // two steps, plus a fen of rounding: no jump at a boundary.
            let s = national();
            let at = s.tiers[i].from;
            let step = Decimal::new(fen, 2);
            let below = s.acceptance_fee(at - step);
            let above = s.acceptance_fee(at + step);
            prop_assert!(above >= below);
            prop_assert!(above - below <= step * d("0.05") + d("0.01"), "{} .. {}", below, above);
        }

        #[test]
        fn the_order_fee_is_at_most_the_fee_and_halves_add_up(c in claim()) {
            let s = national();
            let fee = s.acceptance_fee(c);
            let order = s.payment_order_fee(c);
            prop_assert!(order <= fee);
            prop_assert!(order >= Decimal::ZERO);
            let r = half_fee_refund(fee);
            prop_assert_eq!(r.half + r.refund, fee);
            prop_assert!(r.half >= Decimal::ZERO && r.refund >= Decimal::ZERO);
            prop_assert_eq!(fee.scale().min(2), fee.scale());
        }
    }
}
