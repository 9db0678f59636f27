//! Explicit rounding to a number of decimal places, and exact rounding of a ratio.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// How an exact decimal is brought to the minor unit. The default everywhere is
/// [`RoundingMode::HalfUp`] (四舍五入: ties away from zero), unless a policy says otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundingMode {
    /// Ties go away from zero (2.345 → 2.35, -2.345 → -2.35). The default.
    #[default]
    HalfUp,
    /// Ties go to the even neighbour (banker's rounding: 2.345 → 2.34).
    HalfEven,
    /// Toward zero (truncate).
    Down,
    /// Away from zero.
    Up,
    /// Toward negative infinity.
    Floor,
    /// Toward positive infinity.
    Ceiling,
}

impl RoundingMode {
    fn strategy(self) -> RoundingStrategy {
        match self {
            RoundingMode::HalfUp => RoundingStrategy::MidpointAwayFromZero,
            RoundingMode::HalfEven => RoundingStrategy::MidpointNearestEven,
            RoundingMode::Down => RoundingStrategy::ToZero,
            RoundingMode::Up => RoundingStrategy::AwayFromZero,
            RoundingMode::Floor => RoundingStrategy::ToNegativeInfinity,
            RoundingMode::Ceiling => RoundingStrategy::ToPositiveInfinity,
        }
    }

    /// Rounds `value` to `dp` decimal places; the result always carries exactly `dp` places so it
    /// prints as e.g. `"12.30"`.
    pub fn round(self, value: Decimal, dp: u32) -> Decimal {
        let mut r = value.round_dp_with_strategy(dp, self.strategy());
        r.rescale(dp);
        r
    }
}

/// Rounds the exact quotient `num / den` (with `num >= 0`, `den` a positive integer) to `dp`
/// places without ever forming an inexact intermediate: the remainder is carried exactly, so a
/// true tie is recognised as a tie. Used where a rate is per year and the day basis is 365 or
/// 360 (R-C12), so that `1/365` never gets approximated before rounding.
///
/// Returns `None` on overflow.
pub(crate) fn round_ratio(num: Decimal, den: u32, dp: u32, mode: RoundingMode) -> Option<Decimal> {
    debug_assert!(den > 0 && !num.is_sign_negative());
    if den == 1 {
        return Some(mode.round(num, dp));
    }
    let den = Decimal::from(den);
    let scale = Decimal::from(10u64.checked_pow(dp)?);
    // Work in minor units: m = num * 10^dp = q * den + r with 0 <= r < den, q an integer.
    let m = num.checked_mul(scale)?;
    let mut q = m.checked_div(den)?.trunc();
    let mut r = m.checked_sub(q.checked_mul(den)?)?;
    // The truncated quotient can be one off when the division was not exact; correct it so
    // that r is the exact remainder.
    while r.is_sign_negative() && !r.is_zero() {
        q -= Decimal::ONE;
        r += den;
    }
    while r >= den {
        q += Decimal::ONE;
        r -= den;
    }
    let twice = r.checked_mul(Decimal::TWO)?;
    let up = match mode {
        RoundingMode::HalfUp => twice >= den,
        RoundingMode::HalfEven => twice > den || (twice == den && q % Decimal::TWO != Decimal::ZERO),
        RoundingMode::Down | RoundingMode::Floor => false,
        RoundingMode::Up | RoundingMode::Ceiling => !r.is_zero(),
    };
    if up {
        q += Decimal::ONE;
    }
    let mut out = q.checked_div(scale)?;
    out.rescale(dp);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn half_up_is_away_from_zero_and_keeps_scale() {
        assert_eq!(RoundingMode::HalfUp.round(d("2.345"), 2).to_string(), "2.35");
        assert_eq!(RoundingMode::HalfUp.round(d("-2.345"), 2).to_string(), "-2.35");
        assert_eq!(RoundingMode::HalfUp.round(d("2.3"), 2).to_string(), "2.30");
        assert_eq!(RoundingMode::HalfEven.round(d("2.345"), 2).to_string(), "2.34");
        assert_eq!(RoundingMode::Down.round(d("2.349"), 2).to_string(), "2.34");
        assert_eq!(RoundingMode::Up.round(d("2.341"), 2).to_string(), "2.35");
        assert_eq!(RoundingMode::Floor.round(d("-2.341"), 2).to_string(), "-2.35");
        assert_eq!(RoundingMode::Ceiling.round(d("-2.349"), 2).to_string(), "-2.34");
    }

    #[test]
    fn ratio_rounding_is_exact_on_ties() {
        // 1.825 / 365 = 0.005 exactly: a tie at 2 dp.
        assert_eq!(round_ratio(d("1.825"), 365, 2, RoundingMode::HalfUp), Some(d("0.01")));
        assert_eq!(round_ratio(d("1.825"), 365, 2, RoundingMode::HalfEven), Some(d("0.00")));
        // 1.8249 / 365 is just below the tie.
        assert_eq!(round_ratio(d("1.8249"), 365, 2, RoundingMode::HalfUp), Some(d("0.00")));
        assert_eq!(round_ratio(d("1000"), 365, 2, RoundingMode::HalfUp), Some(d("2.74")));
        assert_eq!(round_ratio(d("1000"), 365, 2, RoundingMode::Down), Some(d("2.73")));
        assert_eq!(round_ratio(d("730"), 365, 2, RoundingMode::Up), Some(d("2.00")));
        assert_eq!(round_ratio(d("0"), 360, 2, RoundingMode::Up), Some(d("0.00")));
        assert_eq!(round_ratio(d("12.345"), 1, 2, RoundingMode::HalfUp), Some(d("12.35")));
    }
}
