//! Segments of the sweep: months of delinquency, the rate in force on a day (R-C4, R-C12),
//! surcharge dates and the accrual line of a segment.

use chrono::{Days, Months, NaiveDate};
use rust_decimal::Decimal;

use super::policy::{Accrual, MonthBasis, PolicySpec, Surcharge};
use super::rate::{Rate, RateLookup, RateTable};
use super::running::{Running, precision};
use super::{FeeLine, LateFeeError, LineKind};
use crate::amount::Money;
use crate::rounding::Exact;

#[inline]
pub(super) fn after(
    date: NaiveDate,
    days: u64,
    what: &'static str,
) -> Result<NaiveDate, LateFeeError> {
    date.checked_add_days(Days::new(days))
        .ok_or(LateFeeError::DateOutOfRange { what })
}

/// Last day of month `k` of delinquency (`k = 0` gives the due date).
#[inline]
pub(super) fn month_end(
    due: NaiveDate,
    basis: MonthBasis,
    k: u32,
) -> Result<NaiveDate, LateFeeError> {
    let what = "a month of delinquency";
    match basis {
        MonthBasis::Calendar => due
            .checked_add_months(Months::new(k))
            .ok_or(LateFeeError::DateOutOfRange { what }),
        MonthBasis::Days30 => after(due, u64::from(k) * 30, what),
    }
}

/// The rate of one segment.
pub(super) struct SegmentRate {
    /// Multiplier of `base × days` giving the numerator over the basis.
    pub(super) factor: Exact,
    pub(super) daily: Option<Rate>,
    pub(super) reference: Option<Rate>,
    pub(super) annual: Option<Decimal>,
    /// First day a different reference rate applies.
    pub(super) next_change: Option<NaiveDate>,
}

/// Surcharge trigger days in date order: the first day of month `at_month`, or day `at_day`,
/// of delinquency.
pub(super) fn surcharge_days(
    spec: &PolicySpec,
    due: NaiveDate,
) -> Result<Vec<(NaiveDate, &Surcharge)>, LateFeeError> {
    let mut triggers: Vec<(NaiveDate, &Surcharge)> = Vec::with_capacity(spec.surcharges.len());
    for s in &spec.surcharges {
        let day = match (s.at_month, s.at_day) {
            (Some(m), _) => after(
                month_end(due, spec.month_basis, m - 1)?,
                1,
                "a surcharge date",
            )?,
            (None, Some(d)) => after(due, u64::from(d), "a surcharge date")?,
            (None, None) => continue,
        };
        triggers.push((day, s));
    }
    triggers.sort_by_key(|t| t.0);
    Ok(triggers)
}

/// An accrual line (amount filled in by the caller), built in one piece so it is written once.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(super) fn accrual_line(
    kind: LineKind,
    (from, to, month, days): (NaiveDate, NaiveDate, u32, i64),
    base: Money,
    amount: Money,
    rate: &SegmentRate,
    run: &Running,
    num: Exact,
) -> FeeLine {
    FeeLine {
        kind,
        from,
        to,
        month: Some(month),
        days: u32::try_from(days).ok(),
        base: Some(base),
        daily_rate: rate.daily,
        reference_rate: rate.reference,
        annual_rate: rate.annual,
        day_basis: (run.basis > 1).then_some(run.basis),
        rate: None,
        unrounded: run.unrounded(num),
        amount,
        label: None,
        waiver: None,
    }
}

#[inline]
pub(super) fn segment_rate(
    accrual: &Accrual,
    table: Option<&RateTable>,
    month: u32,
    day: NaiveDate,
    cache: &mut Option<(Rate, Decimal)>,
) -> Result<SegmentRate, LateFeeError> {
    let daily = |r: Rate| SegmentRate {
        factor: Exact::of(r.value()),
        daily: Some(r),
        reference: None,
        annual: None,
        next_change: None,
    };
    match accrual {
        Accrual::FlatDaily { daily_rate } => Ok(daily(*daily_rate)),
        Accrual::Tiered { tiers } => {
            let idx = tiers.partition_point(|t| t.from_month <= month);
            Ok(daily(
                idx.checked_sub(1)
                    .and_then(|i| tiers.get(i))
                    .map_or(Rate::ZERO, |t| t.daily_rate),
            ))
        }
        Accrual::ReferenceRate {
            series,
            multiplier,
            spread,
            ..
        } => {
            let table = table.ok_or_else(|| LateFeeError::MissingReferenceRates {
                series: series.clone(),
            })?;
            let (reference, next_change) = table.rate_on(day).map_err(|e| match e {
                RateLookup::BeforeFirst(first) => LateFeeError::NoReferenceRate {
                    series: series.clone(),
                    date: day,
                    first,
                },
                RateLookup::Stale(known_through) => LateFeeError::ReferenceRateStale {
                    series: series.clone(),
                    date: day,
                    known_through,
                },
            })?;
            // The annual rate only changes with the reference rate: reuse the last one.
            let annual = match cache {
                Some((r, annual)) if *r == reference => *annual,
                _ => {
                    let annual = Exact::of(reference.value())
                        .mul(Exact::of(*multiplier))
                        .and_then(|x| x.add(Exact::of(spread.value())))
                        .and_then(Exact::to_decimal)
                        .ok_or_else(|| precision("a reference rate"))?
                        .normalize();
                    *cache = Some((reference, annual));
                    annual
                }
            };
            Ok(SegmentRate {
                factor: Exact::of(annual),
                daily: None,
                reference: Some(reference),
                annual: Some(annual),
                next_change,
            })
        }
    }
}
