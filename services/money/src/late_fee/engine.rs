//! The accrual sweep: one pass over the overdue days in segments of constant base and rate.
//!
//! The exact fee is kept as a running numerator over the day basis (1 for daily rates, 365 or
//! 360 for annual reference rates, R-C12) in exact integer arithmetic ([`Exact`]), so nothing
//! is divided or rounded before the running total is read. The rounded running total R(t), the
//! capped total F(t) = min(R(t), floor(cap(t))) and the waived sum W(t) are read at the ends of
//! segments, and every line amount is a difference of them. See the `late_fee` module docs for
//! why this makes periods add up exactly.

use chrono::{Days, Months, NaiveDate};
use rust_decimal::Decimal;

use super::checks::{checked_payments, checked_waivers, reference_table};
use super::policy::{Accrual, Cap, GraceMode, MonthBasis, Surcharge};
use super::rate::{Rate, RateLookup, RateTable};
use super::{
    FeeLine, LateFeeError, LateFeeInput, LateFeePolicy, LateFeeSummary, LineKind, Waiver, WaiverScope,
};
use crate::amount::Money;
use crate::currency::Currency;
use crate::rounding::{Exact, RoundingMode};

/// Longest delinquency computed (about a century): protects against a mistyped year.
const MAX_DAYS: i64 = 36_500;

fn precision(what: &'static str) -> LateFeeError {
    LateFeeError::Precision { what }
}

fn after(date: NaiveDate, days: u64, what: &'static str) -> Result<NaiveDate, LateFeeError> {
    date.checked_add_days(Days::new(days))
        .ok_or_else(|| LateFeeError::DateOutOfRange { what })
}

/// Last day of month `k` of delinquency (`k = 0` gives the due date).
fn month_end(due: NaiveDate, basis: MonthBasis, k: u32) -> Result<NaiveDate, LateFeeError> {
    let what = "a month of delinquency";
    match basis {
        MonthBasis::Calendar => due
            .checked_add_months(Months::new(k))
            .ok_or_else(|| LateFeeError::DateOutOfRange { what }),
        MonthBasis::Days30 => after(due, u64::from(k) * 30, what),
    }
}

/// The rate of one segment.
struct SegmentRate {
    /// Multiplier of `base × days` giving the numerator over the basis.
    factor: Exact,
    daily: Option<Rate>,
    reference: Option<Rate>,
    annual: Option<Decimal>,
    /// First day a different reference rate applies.
    next_change: Option<NaiveDate>,
}

/// Running state of the sweep.
struct Running {
    currency: Currency,
    dp: u32,
    basis: u32,
    mode: RoundingMode,
    /// Exact fee numerator (over `basis`).
    c_num: Exact,
    /// Rounded running total R, in minor units.
    r: i128,
    /// Sum waived W, in minor units.
    w: i128,
    /// Fixed caps (principal multiples, amounts), floored, in minor units.
    fixed_cap: Option<i128>,
    /// Annual-rate caps: (annual rate, day basis, accumulated numerator).
    annual_caps: Vec<(Exact, u32, Exact)>,
}

impl Running {
    /// Minor units as `Money`.
    fn money(&self, minor: i128) -> Result<Money, LateFeeError> {
        Money::from_minor_i128(minor, self.currency).ok_or_else(|| precision("an amount"))
    }

    /// The lowest cap, in minor units.
    fn cap(&self) -> Result<Option<i128>, LateFeeError> {
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
    fn capped(&self) -> Result<i128, LateFeeError> {
        Ok(self.cap()?.map_or(self.r, |c| self.r.min(c)))
    }

    /// Adds an exact numerator; returns what it adds to the rounded running total.
    fn recognise(&mut self, num: Exact) -> Result<i128, LateFeeError> {
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
    fn unrounded(&self, num: Exact) -> Option<Decimal> {
        if self.basis == 1 {
            num.to_decimal().or_else(|| num.round(1, 10, RoundingMode::HalfUp))
        } else {
            num.round(self.basis, 10, RoundingMode::HalfUp)
        }
    }

    fn snapshot(&self) -> Result<Snapshot, LateFeeError> {
        Ok(Snapshot {
            r: self.r,
            f: self.capped()?,
            w: self.w,
        })
    }
}

/// Values at the end of the day before the reported period.
struct Snapshot {
    r: i128,
    f: i128,
    w: i128,
}

/// `base × factor × days`, exactly (`base` in minor units at scale `dp`).
fn product(base: i128, dp: u32, factor: Exact, days: i64, what: &'static str) -> Result<Exact, LateFeeError> {
    Exact::scaled(base, dp)
        .mul(factor)
        .and_then(|x| x.mul(Exact::int(days)))
        .ok_or_else(|| precision(what))
}

/// What a sweep produces; the caller adds the policy name for a [`LateFeeBreakdown`].
pub(crate) struct Outcome {
    pub(crate) summary: LateFeeSummary,
    pub(crate) period_from: NaiveDate,
    pub(crate) grace_ends: Option<NaiveDate>,
    /// Empty unless the sweep was asked to itemise.
    pub(crate) lines: Vec<FeeLine>,
}

/// The sweep. With `itemise` false no line is built (the totals are the same, computed by the
/// same code), for callers that only need the amounts.
pub(crate) fn run(
    policy: &LateFeePolicy,
    input: &LateFeeInput<'_>,
    since: NaiveDate,
    itemise: bool,
) -> Result<Outcome, LateFeeError> {
    let spec = policy.spec();
    let principal = input.principal;
    let currency = principal.currency();
    let (due, as_of) = (input.due, input.as_of);

    // Input checks (R-C4), each naming the input at fault.
    if principal.is_negative() {
        return Err(LateFeeError::NegativePrincipal { principal });
    }
    if as_of < due {
        return Err(LateFeeError::AsOfBeforeDue { due, as_of });
    }
    if since < due || since > as_of {
        return Err(LateFeeError::SinceOutOfRange { since, due, as_of });
    }
    let overdue_days = (as_of - due).num_days();
    if overdue_days > MAX_DAYS {
        return Err(LateFeeError::TooLong {
            days: overdue_days,
            max: MAX_DAYS,
        });
    }
    let payments = checked_payments(input)?;
    let waivers = checked_waivers(input)?;
    let table = reference_table(&spec.accrual, input.reference_rates)?;

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
                run.annual_caps.push((Exact::of(rate.value()), *day_basis, Exact::ZERO));
                continue;
            }
        };
        run.fixed_cap = Some(run.fixed_cap.map_or(fixed, |c: i128| c.min(fixed)));
    }

    // Surcharge trigger days, in order.
    let mut triggers: Vec<(NaiveDate, &Surcharge)> = Vec::with_capacity(spec.surcharges.len());
    for s in &spec.surcharges {
        let day = match (s.at_month, s.at_day) {
            (Some(m), _) => after(month_end(due, spec.month_basis, m - 1)?, 1, "a surcharge date")?,
            (None, Some(d)) => after(due, u64::from(d), "a surcharge date")?,
            (None, None) => continue,
        };
        triggers.push((day, s));
    }
    triggers.sort_by_key(|t| t.0);

    let grace_end = after(due, u64::from(spec.grace_days), "the end of the grace period")?;
    // FromDueDate: grace days are charged on the first day after grace if still unpaid.
    let retro_day = (spec.grace_mode == GraceMode::FromDueDate && spec.grace_days > 0)
        .then(|| after(grace_end, 1, "the end of the grace period"))
        .transpose()?;

    // Principal outstanding at the due date (payments on or before it).
    let dp = run.dp;
    let mut outstanding = principal.minor_i128();
    let mut pi = 0;
    while pi < payments.len() && payments[pi].date <= due {
        outstanding -= payments[pi].amount.minor_i128();
        pi += 1;
    }

    // One line per month of delinquency plus a few for payments, surcharges and rate changes.
    let mut lines: Vec<FeeLine> = if itemise {
        Vec::with_capacity(overdue_days as usize / 28 + 4)
    } else {
        Vec::new()
    };
    let mut waiver_lines: Vec<FeeLine> = Vec::new();
    let mut waiver_sink = itemise.then_some(&mut waiver_lines);
    // Grace-day numerators (and lines) waiting for the end of the grace period.
    let mut pending: Vec<(Option<FeeLine>, Exact)> = Vec::new();
    let mut wi = 0;
    let mut snapshot = None;

    // Waivers dated on or before the due date see nothing accrued.
    while wi < waivers.len() && waivers[wi].1.date <= due {
        apply_waiver(&mut run, waivers[wi], since, waiver_sink.as_deref_mut())?;
        wi += 1;
    }
    if since == due {
        snapshot = Some(run.snapshot()?);
    }

    let mut rate_cache = None;
    let mut month = 1u32;
    let mut m_end = month_end(due, spec.month_basis, 1)?;
    let mut ti = 0;
    let mut day = after(due, 1, "the first overdue day")?;
    while day <= as_of {
        // 1. Grace days are charged once the grace period has ended unpaid (FromDueDate).
        if retro_day == Some(day) {
            let unpaid = outstanding > 0;
            for (line, num) in pending.drain(..) {
                if unpaid {
                    let amount = run.recognise(num)?;
                    if let Some(mut line) = line.filter(|_| day > since) {
                        line.amount = run.money(amount)?;
                        lines.push(line);
                    }
                }
            }
        }
        // 2. Payments dated today lower today's base.
        while pi < payments.len() && payments[pi].date == day {
            outstanding -= payments[pi].amount.minor_i128();
            pi += 1;
        }
        // 3. Surcharges on the principal unpaid today.
        while ti < triggers.len() && triggers[ti].0 == day {
            let s = triggers[ti].1;
            if outstanding > 0 {
                let basis = Exact::int(i64::from(basis));
                let exact = Exact::scaled(outstanding, dp)
                    .mul(Exact::of(s.rate.value()))
                    .ok_or_else(|| precision("a surcharge"))?;
                let amount = run.recognise(exact.mul(basis).ok_or_else(|| precision("a surcharge"))?)?;
                if itemise && day > since {
                    let mut line = FeeLine::new(LineKind::Surcharge, day, day, run.money(amount)?);
                    line.month = Some(month);
                    line.base = Some(run.money(outstanding)?);
                    line.rate = Some(s.rate);
                    line.unrounded = exact.to_decimal();
                    line.label = Some(s.name.clone());
                    lines.push(line);
                }
            }
            ti += 1;
        }
        // 4. The segment: as long as base, rate, month and reporting points stay the same.
        let rate = segment_rate(&spec.accrual, table, month, day, &mut rate_cache)?;
        let mut end = as_of.min(m_end);
        for next in [
            payments.get(pi).map(|p| p.date),
            triggers.get(ti).map(|t| t.0),
            rate.next_change,
        ]
        .into_iter()
        .flatten()
        {
            if next <= end {
                end = next.pred_opt().unwrap_or(end);
            }
        }
        if day <= grace_end {
            end = end.min(grace_end);
        }
        if day <= since {
            end = end.min(since);
        }
        if let Some((_, w)) = waivers.get(wi) {
            end = end.min(w.date);
        }
        let days = (end - day).num_days() + 1;
        for (cap_rate, _, acc) in &mut run.annual_caps {
            let n = product(outstanding, dp, *cap_rate, days, "a cap")?;
            *acc = acc.add(n).ok_or_else(|| precision("a cap"))?;
        }
        let in_grace = day <= grace_end;
        if outstanding > 0 && rate.factor.is_positive() && (retro_day.is_some() || !in_grace) {
            let num = product(outstanding, dp, rate.factor, days, "an accrual")?;
            if in_grace {
                // Charged (and itemised) only if the grace period ends unpaid.
                let line = if itemise {
                    let (base, zero) = (run.money(outstanding)?, Money::zero(currency));
                    Some(accrual_line(LineKind::GraceAccrual, (day, end, month, days), base, zero, &rate, &run, num))
                } else {
                    None
                };
                pending.push((line, num));
            } else {
                let amount = run.recognise(num)?;
                if itemise && day > since {
                    let (base, amount) = (run.money(outstanding)?, run.money(amount)?);
                    lines.push(accrual_line(LineKind::Accrual, (day, end, month, days), base, amount, &rate, &run, num));
                }
            }
        }
        // 5. End of day: waivers dated today, then the window start (which includes them).
        while wi < waivers.len() && waivers[wi].1.date == end {
            apply_waiver(&mut run, waivers[wi], since, waiver_sink.as_deref_mut())?;
            wi += 1;
        }
        if end == since {
            snapshot = Some(run.snapshot()?);
        }
        if end == m_end {
            month += 1;
            m_end = month_end(due, spec.month_basis, month)?;
        }
        day = after(end, 1, "the next overdue day")?;
    }

    let snap = snapshot.ok_or(LateFeeError::DateOutOfRange {
        what: "the start of the accrual window",
    })?;
    let f = run.capped()?;
    let cap_adjustment = (f - run.r) - (snap.f - snap.r);
    if itemise && cap_adjustment != 0 {
        let mut line = FeeLine::new(LineKind::Cap, as_of, as_of, run.money(cap_adjustment)?);
        let binding = run.cap()?.map(|c| run.money(c)).transpose()?;
        line.label = Some(cap_label(&spec.caps, binding, currency));
        lines.push(line);
    }
    lines.append(&mut waiver_lines);
    let accrued = run.r - snap.r;
    let waived = run.w - snap.w;
    Ok(Outcome {
        summary: LateFeeSummary {
            currency,
            days_overdue: u32::try_from(overdue_days).unwrap_or(u32::MAX),
            outstanding_principal: run.money(outstanding)?,
            accrued: run.money(accrued)?,
            cap_adjustment: run.money(cap_adjustment)?,
            waived: run.money(waived)?,
            total: run.money(accrued + cap_adjustment - waived)?,
        },
        period_from: after(since, 1, "the start of the accrual window")?,
        grace_ends: (spec.grace_days > 0).then_some(grace_end),
        lines,
    })
}

/// An accrual line (amount filled in by the caller), built in one piece so it is written once.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn accrual_line(
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

fn segment_rate(
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
            Ok(daily(idx.checked_sub(1).and_then(|i| tiers.get(i)).map_or(Rate::ZERO, |t| t.daily_rate)))
        }
        Accrual::ReferenceRate {
            series,
            multiplier,
            spread,
            ..
        } => {
            let table = table.ok_or_else(|| LateFeeError::MissingReferenceRates { series: series.clone() })?;
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

fn apply_waiver(
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

fn cap_label(caps: &[Cap], binding: Option<Money>, currency: Currency) -> String {
    let parts: Vec<String> = caps
        .iter()
        .map(|c| match c {
            Cap::PrincipalMultiple { multiple } => format!("{multiple} × principal"),
            Cap::Amount { amount } => format!("{amount} {currency}"),
            Cap::AnnualRate { rate, day_basis } => {
                format!("{} a year on the unpaid principal (/{day_basis})", rate.percent())
            }
        })
        .collect();
    match binding {
        Some(b) => format!("capped at {b} (at most {})", parts.join(", ")),
        None => format!("at most {}", parts.join(", ")),
    }
}
