//! State of the accrual sweep: the exact running fee, its rounded and capped readings, and
//! waivers (R-C4, R-D6).

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::policy::{Accrual, Cap, PolicySpec};
use super::{FeeLine, LateFeeError, LineKind, Waiver, WaiverScope};
use crate::amount::Money;
use crate::currency::Currency;
use crate::rounding::{Exact, RoundingMode};

pub(super) fn precision(what: &'static str) -> LateFeeError {
    LateFeeError::Precision { what }
}

/// Running state of the sweep.
pub(super) struct Running {
    pub(super) currency: Currency,
    pub(super) dp: u32,
    pub(super) basis: u32,
    pub(super) mode: RoundingMode,
    /// Exact fee numerator (over `basis`).
    pub(super) c_num: Exact,
    /// Rounded running total R, in minor units.
    pub(super) r: i128,
    /// Sum waived W, in minor units.
    pub(super) w: i128,
    /// Fixed caps (principal multiples, amounts), floored, in minor units.
    pub(super) fixed_cap: Option<i128>,
    /// Annual-rate caps: (annual rate, day basis, accumulated numerator).
    pub(super) annual_caps: Vec<(Exact, u32, Exact)>,
}

impl Running {
    /// Fresh state for a receivable of `principal` under `spec`, with its caps set up.
    pub(super) fn new(spec: &PolicySpec, principal: Money) -> Result<Running, LateFeeError> {
        let currency = principal.currency();
        let basis = match spec.accrual {
            Accrual::ReferenceRate { day_basis, .. } => day_basis,
            _ => 1,
        };
        let mut run = Running {
            currency,
            dp: currency.minor_units(),
            basis,
            mode: spec.rounding,
            c_num: Exact::ZERO,
            r: 0,
            w: 0,
            fixed_cap: None,
            annual_caps: Vec::new(),
        };
        for cap in &spec.caps {
            let fixed = match cap {
                Cap::PrincipalMultiple { multiple } => {
                    let exact = Exact::of(principal.amount())
                        .mul(Exact::of(*multiple))
                        .ok_or_else(|| precision("a principal-multiple cap"))?;
                    exact
                        .round_units(1, run.dp, RoundingMode::Down)
                        .ok_or_else(|| precision("a principal-multiple cap"))?
                }
                Cap::Amount { amount } => Money::new(*amount, currency)?.minor_i128(),
                Cap::AnnualRate { rate, day_basis } => {
                    run.annual_caps
                        .push((Exact::of(rate.value()), *day_basis, Exact::ZERO));
                    continue;
                }
            };
            run.fixed_cap = Some(run.fixed_cap.map_or(fixed, |c: i128| c.min(fixed)));
        }

        Ok(run)
    }

    /// Minor units as `Money`.
    #[inline]
    pub(super) fn money(&self, minor: i128) -> Result<Money, LateFeeError> {
        Money::from_minor_i128(minor, self.currency).ok_or_else(|| precision("an amount"))
    }

    /// The lowest cap, in minor units.
    #[inline]
    pub(super) fn cap(&self) -> Result<Option<i128>, LateFeeError> {
        let mut cap = self.fixed_cap;
        for (_, basis, acc) in &self.annual_caps {
            // Floored, so the fee never exceeds the cap.
            let c = acc
                .round_units(*basis, self.dp, RoundingMode::Down)
                .ok_or_else(|| precision("an annual-rate cap"))?;
            cap = Some(cap.map_or(c, |x| x.min(c)));
        }
        Ok(cap)
    }

    /// F(t): the rounded total limited by the caps.
    #[inline]
    pub(super) fn capped(&self) -> Result<i128, LateFeeError> {
        Ok(self.cap()?.map_or(self.r, |c| self.r.min(c)))
    }

    /// Adds an exact numerator; returns what it adds to the rounded running total.
    #[inline]
    pub(super) fn recognise(&mut self, num: Exact) -> Result<i128, LateFeeError> {
        self.c_num = self
            .c_num
            .add(num)
            .ok_or_else(|| precision("the running late fee"))?;
        let r = self
            .c_num
            .round_units(self.basis, self.dp, self.mode)
            .ok_or_else(|| precision("the running late fee"))?;
        let amount = r - self.r;
        self.r = r;
        Ok(amount)
    }

    /// A line's own exact amount, for display (10 places where a day basis makes it
    /// non-terminating).
    #[inline]
    pub(super) fn unrounded(&self, num: Exact) -> Option<Decimal> {
        if self.basis == 1 {
            num.to_decimal()
                .or_else(|| num.round(1, 10, RoundingMode::HalfUp))
        } else {
            num.round(self.basis, 10, RoundingMode::HalfUp)
        }
    }

    pub(super) fn snapshot(&self) -> Result<Snapshot, LateFeeError> {
        Ok(Snapshot {
            r: self.r,
            f: self.capped()?,
            w: self.w,
        })
    }
}

/// Values at the end of the day before the reported period.
pub(super) struct Snapshot {
    pub(super) r: i128,
    pub(super) f: i128,
    pub(super) w: i128,
}

/// `base × factor × days`, exactly (`base` in minor units at scale `dp`).
#[inline]
pub(super) fn product(
    base: i128,
    dp: u32,
    factor: Exact,
    days: i64,
    what: &'static str,
) -> Result<Exact, LateFeeError> {
    Exact::scaled(base, dp)
        .mul(factor)
        .and_then(|x| x.mul(Exact::int(days)))
        .ok_or_else(|| precision(what))
}

pub(super) fn apply_waiver(
    run: &mut Running,
    (index, w): (usize, &Waiver),
    since: NaiveDate,
    lines: Option<&mut Vec<FeeLine>>,
) -> Result<(), LateFeeError> {
    let available = run.capped()? - run.w;
    let amount = match &w.scope {
        WaiverScope::All => available,
        WaiverScope::Amount { amount } => {
            if amount.minor_i128() > available {
                return Err(LateFeeError::WaiverExceedsAccrued {
                    index,
                    date: w.date,
                    amount: *amount,
                    available: run.money(available)?,
                });
            }
            amount.minor_i128()
        }
        WaiverScope::Percent { percent } => Exact::scaled(available, run.dp)
            .mul(Exact::of(percent.value()))
            .and_then(|x| x.round_units(1, run.dp, run.mode))
            .ok_or_else(|| precision("a percentage waiver"))?,
    };
    run.w += amount;
    if let Some(lines) = lines.filter(|_| w.date > since) {
        let mut line = FeeLine::new(LineKind::Waiver, w.date, w.date, run.money(-amount)?);
        line.waiver = Some(Box::new(w.clone()));
        lines.push(line);
    }
    Ok(())
}

pub(super) fn cap_label(caps: &[Cap], binding: Option<Money>, currency: Currency) -> String {
    let parts: Vec<String> = caps
        .iter()
        .map(|c| match c {
            Cap::PrincipalMultiple { multiple } => format!("{multiple} × principal"),
            Cap::Amount { amount } => format!("{amount} {currency}"),
            Cap::AnnualRate { rate, day_basis } => {
                format!(
                    "{} a year on the unpaid principal (/{day_basis})",
                    rate.percent()
                )
            }
        })
        .collect();
    match binding {
        Some(b) => format!("capped at {b} (at most {})", parts.join(", ")),
        None => format!("at most {}", parts.join(", ")),
    }
}
