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
        if value.scale() <= dp {
            let mut exact = value;
            exact.rescale(dp);
            return exact;
        }
        if !value.is_sign_negative()
            && let Some(r) = round_ratio(value, 1, dp, self)
        {
            return r;
        }
        let mut r = value.round_dp_with_strategy(dp, self.strategy());
        r.rescale(dp);
        r
    }
}

/// Powers of ten that fit in an `i128`.
const POW10: [i128; 39] = {
    let mut t = [1i128; 39];
    let mut i = 1;
    while i < 39 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// Rounds the exact quotient `num / den` (`num >= 0`, `den >= 1`) to `dp` places without
/// approximating anything first, so a true tie is recognised as a tie. Used where an annual rate
/// is divided by a 365- or 360-day basis (R-C12) and, with `den = 1`, as the fast path of every
/// rounding. Returns `None` if the numbers do not fit.
pub(crate) fn round_ratio(num: Decimal, den: u32, dp: u32, mode: RoundingMode) -> Option<Decimal> {
    Exact::of(num).round(den, dp, mode)
}

/// An exact decimal `m / 10^s` on an `i128` mantissa: the late-fee engine's running sums.
/// Products of an amount, a rate and a day count are exact and fast; anything that would not
/// fit is reported (`None`), never approximated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Exact {
    m: i128,
    s: u32,
}

impl Exact {
    /// Zero.
    pub(crate) const ZERO: Exact = Exact { m: 0, s: 0 };

    /// The exact value of a decimal.
    #[inline]
    pub(crate) fn of(d: Decimal) -> Exact {
        Exact {
            m: d.mantissa(),
            s: d.scale(),
        }
    }

    /// A whole number.
    #[inline]
    pub(crate) fn int(i: i64) -> Exact {
        Exact {
            m: i128::from(i),
            s: 0,
        }
    }

    #[inline]
    pub(crate) fn is_positive(self) -> bool {
        self.m > 0
    }

    /// `m / 10^s` for an amount given in minor units at scale `s`.
    #[inline]
    pub(crate) fn scaled(m: i128, s: u32) -> Exact {
        Exact { m, s }
    }

    #[inline]
    pub(crate) fn mul(self, o: Exact) -> Option<Exact> {
        let s = self.s + o.s;
        if s as usize >= POW10.len() {
            return None;
        }
        // Two 64-bit mantissas (the usual case) cannot overflow an i128 product; checking a
        // full 128-bit multiplication is a slow library call.
        let m = match (i64::try_from(self.m), i64::try_from(o.m)) {
            (Ok(a), Ok(b)) => i128::from(a) * i128::from(b),
            _ => self.m.checked_mul(o.m)?,
        };
        Some(Exact { m, s })
    }

    #[inline]
    pub(crate) fn add(self, o: Exact) -> Option<Exact> {
        if self.s == o.s {
            return Some(Exact {
                m: self.m.checked_add(o.m)?,
                s: self.s,
            });
        }
        let s = self.s.max(o.s);
        let a = self.m.checked_mul(*POW10.get((s - self.s) as usize)?)?;
        let b = o.m.checked_mul(*POW10.get((s - o.s) as usize)?)?;
        Some(Exact {
            m: a.checked_add(b)?,
            s,
        })
    }

    /// The value as a `Decimal`, when it fits one exactly.
    #[inline]
    pub(crate) fn to_decimal(self) -> Option<Decimal> {
        Decimal::try_from_i128_with_scale(self.m, self.s).ok()
    }

    /// `self / den` rounded to `dp` places (`self >= 0`, `den >= 1`).
    #[inline]
    pub(crate) fn round(self, den: u32, dp: u32, mode: RoundingMode) -> Option<Decimal> {
        Decimal::try_from_i128_with_scale(self.round_units(den, dp, mode)?, dp).ok()
    }

    /// `self / den` rounded to `dp` places, as a whole number of `10^-dp` units.
    #[inline]
    pub(crate) fn round_units(self, den: u32, dp: u32, mode: RoundingMode) -> Option<i128> {
        if self.m < 0 || den == 0 {
            return None;
        }
        let (m, s) = (self.m, self.s);
        // self * 10^dp / den = m * 10^dp / (10^s * den)
        let (numer, denom) = if s >= dp {
            (
                m,
                POW10.get((s - dp) as usize)?.checked_mul(i128::from(den))?,
            )
        } else {
            (
                m.checked_mul(*POW10.get((dp - s) as usize)?)?,
                i128::from(den),
            )
        };
        // Hardware 64-bit division when it fits (nearly always); i128 division is a slow
        // software routine.
        let (q, r) = match (u64::try_from(numer), u64::try_from(denom)) {
            (Ok(n), Ok(d)) => (i128::from(n / d), i128::from(n % d)),
            _ => {
                let q = numer / denom;
                (q, numer - q * denom)
            }
        };
        let twice = r.checked_mul(2)?;
        let up = match mode {
            RoundingMode::HalfUp => twice >= denom,
            RoundingMode::HalfEven => twice > denom || (twice == denom && q % 2 == 1),
            RoundingMode::Down | RoundingMode::Floor => false,
            RoundingMode::Up | RoundingMode::Ceiling => r != 0,
        };
        Some(q + i128::from(up))
    }
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
        assert_eq!(
            RoundingMode::HalfUp.round(d("2.345"), 2).to_string(),
            "2.35"
        );
        assert_eq!(
            RoundingMode::HalfUp.round(d("-2.345"), 2).to_string(),
            "-2.35"
        );
        assert_eq!(RoundingMode::HalfUp.round(d("2.3"), 2).to_string(), "2.30");
        assert_eq!(
            RoundingMode::HalfEven.round(d("2.345"), 2).to_string(),
            "2.34"
        );
        assert_eq!(RoundingMode::Down.round(d("2.349"), 2).to_string(), "2.34");
        assert_eq!(RoundingMode::Up.round(d("2.341"), 2).to_string(), "2.35");
        assert_eq!(
            RoundingMode::Floor.round(d("-2.341"), 2).to_string(),
            "-2.35"
        );
        assert_eq!(
            RoundingMode::Ceiling.round(d("-2.349"), 2).to_string(),
            "-2.34"
        );
    }

    #[test]
    fn ratio_rounding_is_exact_on_ties() {
        // 1.825 / 365 = 0.005 exactly: a tie at 2 dp.
        assert_eq!(
            round_ratio(d("1.825"), 365, 2, RoundingMode::HalfUp),
            Some(d("0.01"))
        );
        assert_eq!(
            round_ratio(d("1.825"), 365, 2, RoundingMode::HalfEven),
            Some(d("0.00"))
        );
        // 1.8249 / 365 is just below the tie.
        assert_eq!(
            round_ratio(d("1.8249"), 365, 2, RoundingMode::HalfUp),
            Some(d("0.00"))
        );
        assert_eq!(
            round_ratio(d("1000"), 365, 2, RoundingMode::HalfUp),
            Some(d("2.74"))
        );
        assert_eq!(
            round_ratio(d("1000"), 365, 2, RoundingMode::Down),
            Some(d("2.73"))
        );
        assert_eq!(
            round_ratio(d("730"), 365, 2, RoundingMode::Up),
            Some(d("2.00"))
        );
        assert_eq!(
            round_ratio(d("0"), 360, 2, RoundingMode::Up),
            Some(d("0.00"))
        );
        assert_eq!(
            round_ratio(d("12.345"), 1, 2, RoundingMode::HalfUp),
            Some(d("12.35"))
        );
        assert_eq!(
            round_ratio(d("12.345"), 1, 2, RoundingMode::HalfEven),
            Some(d("12.34"))
        );
        assert_eq!(
            round_ratio(d("12.355"), 1, 2, RoundingMode::HalfEven),
            Some(d("12.36"))
        );
        assert_eq!(
            round_ratio(d("1.5"), 1, 4, RoundingMode::HalfUp),
            Some(d("1.5000"))
        );
        assert_eq!(round_ratio(d("-1"), 1, 2, RoundingMode::HalfUp), None);
        // 2/3 to 10 places, and a value whose mantissa needs all 96 bits.
        assert_eq!(
            round_ratio(d("2"), 3, 10, RoundingMode::HalfUp),
            Some(d("0.6666666667"))
        );
        let big = Decimal::MAX;
        assert_eq!(round_ratio(big, 1, 0, RoundingMode::HalfUp), Some(big));
    }
}
