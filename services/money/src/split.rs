//! Splitting an amount into parts or by ratios with no minor unit lost or created.

use rust_decimal::Decimal;

use crate::amount::Money;
use crate::error::MoneyError;

impl Money {
    fn minor_factor(&self) -> Result<Decimal, MoneyError> {
        10i64
            .checked_pow(self.currency().minor_units())
            .map(Decimal::from)
            .ok_or(MoneyError::Overflow {
                op: "scale to minor units",
            })
    }

    /// Splits into `n` parts that differ by at most one minor unit and sum exactly to `self`;
    /// the earlier parts get the extra units (100.00 / 3 = 33.34 + 33.33 + 33.33).
    pub fn split(&self, n: u32) -> Result<Vec<Money>, MoneyError> {
        if n == 0 {
            return Err(MoneyError::InvalidSplit {
                reason: "the number of parts must be at least 1",
            });
        }
        let ratios = vec![Decimal::ONE; n as usize];
        self.allocate(&ratios)
    }

    /// Splits by `ratios` (non-negative, not all zero) so that the parts sum exactly to `self`.
    /// Each part is its exact share rounded toward zero; the minor units left over go one each to
    /// the parts with the largest remainders (earlier part first on a tie), so no minor unit is
    /// lost or created and a zero ratio always gets zero.
    pub fn allocate(&self, ratios: &[Decimal]) -> Result<Vec<Money>, MoneyError> {
        if ratios.is_empty() {
            return Err(MoneyError::InvalidSplit {
                reason: "at least one ratio is needed",
            });
        }
        if ratios.iter().any(|r| r.is_sign_negative() && !r.is_zero()) {
            return Err(MoneyError::InvalidSplit {
                reason: "ratios must not be negative",
            });
        }
        let overflow = MoneyError::Overflow {
            op: "split an amount",
        };
        let total_ratio = ratios
            .iter()
            .try_fold(Decimal::ZERO, |acc, r| acc.checked_add(*r))
            .ok_or(overflow.clone())?;
        if total_ratio.is_zero() {
            return Err(MoneyError::InvalidSplit {
                reason: "the ratios must not all be zero",
            });
        }
        let factor = self.minor_factor()?;
        // Whole minor units, sign set aside so every share is rounded the same way.
        let units = self
            .amount()
            .abs()
            .checked_mul(factor)
            .ok_or(overflow.clone())?;
        let mut shares = Vec::with_capacity(ratios.len());
        let mut given = Decimal::ZERO;
        for ratio in ratios {
            let exact = units.checked_mul(*ratio).ok_or(overflow.clone())?;
            let (q, r) = div_rem_exact(exact, total_ratio).ok_or(overflow.clone())?;
            given += q;
            shares.push((q, r));
        }
        let mut left = units - given;
        if left > Decimal::ZERO {
            let mut order: Vec<usize> = (0..shares.len()).collect();
            // Largest remainder first; the stable sort keeps the earlier index first on a tie.
            order.sort_by(|&a, &b| shares[b].1.cmp(&shares[a].1));
            for i in order {
                if left <= Decimal::ZERO {
                    break;
                }
                shares[i].0 += Decimal::ONE;
                left -= Decimal::ONE;
            }
        }
        let negative = self.is_negative();
        shares
            .into_iter()
            .map(|(q, _)| {
                let amount = q.checked_div(factor).ok_or(overflow.clone())?;
                Ok(self.with_amount(if negative { -amount } else { amount }))
            })
            .collect()
    }
}

/// `num = q * den + r` with `q` a whole number and `0 <= r < den`, computed exactly
/// (`num >= 0`, `den > 0`).
fn div_rem_exact(num: Decimal, den: Decimal) -> Option<(Decimal, Decimal)> {
    let mut q = num.checked_div(den)?.trunc();
    let mut r = num.checked_sub(q.checked_mul(den)?)?;
    while r.is_sign_negative() && !r.is_zero() {
        q -= Decimal::ONE;
        r += den;
    }
    while r >= den {
        q += Decimal::ONE;
        r -= den;
    }
    Some((q, r))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::currency::Currency;
    use std::str::FromStr;

    fn cny(s: &str) -> Money {
        Money::parse(s, Currency::CNY).unwrap()
    }

    #[test]
    fn split_gives_the_extra_fen_to_the_first_parts() {
        let parts = cny("100.00").split(3).unwrap();
        assert_eq!(parts, vec![cny("33.34"), cny("33.33"), cny("33.33")]);
        let parts = cny("-0.05").split(3).unwrap();
        assert_eq!(parts, vec![cny("-0.02"), cny("-0.02"), cny("-0.01")]);
        assert!(cny("1").split(0).is_err());
    }

    #[test]
    fn allocate_by_ratio_uses_largest_remainder() {
        let r = |s: &str| Decimal::from_str(s).unwrap();
        // 30% / 40% / 30% milestone schedule (R-C1) of 1000.01.
        let parts = cny("1000.01")
            .allocate(&[r("30"), r("40"), r("30")])
            .unwrap();
        assert_eq!(parts, vec![cny("300.00"), cny("400.01"), cny("300.00")]);
        let parts = cny("0.10").allocate(&[r("1"), r("0"), r("2")]).unwrap();
        assert_eq!(parts, vec![cny("0.03"), cny("0.00"), cny("0.07")]);
        assert!(cny("1").allocate(&[r("0"), r("0")]).is_err());
        assert!(cny("1").allocate(&[r("-1"), r("2")]).is_err());
        assert!(cny("1").allocate(&[]).is_err());
    }
}
