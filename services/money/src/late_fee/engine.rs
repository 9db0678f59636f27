//! The accrual sweep: one pass over the overdue days in segments of constant base and rate.
//!
//! The exact fee is kept as a running numerator over the day basis (1 for daily rates, 365 or
//! 360 for annual reference rates, R-C12), so no division happens before rounding. The rounded
//! running total R(t), the capped total F(t) = min(R(t), floor(cap(t))) and the waived sum W(t)
//! are read off at the ends of segments; every line amount is a difference of them. See the
//! module docs of `late_fee` for why this makes periods add up exactly.

use std::borrow::Cow;

use chrono::{Days, Months, NaiveDate};
use rust_decimal::Decimal;

use super::policy::{Accrual, Cap, GraceMode, MonthBasis, Surcharge};
use super::rate::{Rate, RateLookup, RateTable};
use super::{
    FeeLine, LateFeeBreakdown, LateFeeError, LateFeeInput, LateFeePolicy, LineKind, Payment,
    Waiver, WaiverScope,
};
use crate::amount::Money;
use crate::rounding::{RoundingMode, round_ratio};

/// Longest delinquency computed (about a century): protects against a mistyped year.
const MAX_DAYS: i64 = 36_500;

fn precision(what: &'static str) -> LateFeeError {
    LateFeeError::Precision { what }
}

/// `a * b`, refusing any result a 28-digit decimal could not hold exactly.
fn mul(a: Decimal, b: Decimal, what: &'static str) -> Result<Decimal, LateFeeError> {
    let p = a.checked_mul(b).ok_or_else(|| precision(what))?;
    if !p.is_zero() && p.scale() != a.scale() + b.scale() {
        return Err(precision(what));
    }
    Ok(p)
}

/// `a + b`, exact or an error.
fn add(a: Decimal, b: Decimal, what: &'static str) -> Result<Decimal, LateFeeError> {
    let s = a.checked_add(b).ok_or_else(|| precision(what))?;
    if !s.is_zero() && s.scale() != a.scale().max(b.scale()) {
        return Err(precision(what));
    }
    Ok(s)
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

/// The daily rate of one segment.
struct SegmentRate {
    /// Multiplier of `base × days` giving the numerator over the basis.
    factor: Decimal,
    daily: Option<Rate>,
    reference: Option<Rate>,
    annual: Option<Decimal>,
    /// First day a different reference rate applies.
    next_change: Option<NaiveDate>,
}

/// Running state of the sweep.
struct Running {
    dp: u32,
    basis: u32,
    mode: RoundingMode,
    /// Exact fee numerator (over `basis`).
    c_num: Decimal,
    /// Rounded running total.
    r: Decimal,
    /// Sum waived.
    w: Decimal,
    /// Fixed caps (principal multiples, amounts), floored to the minor unit.
    fixed_cap: Option<Decimal>,
    /// Annual-rate caps: (annual rate, day basis, accumulated numerator).
    annual_caps: Vec<(Decimal, u32, Decimal)>,
}

impl Running {
    fn cap(&self) -> Result<Option<Decimal>, LateFeeError> {
        let mut cap = self.fixed_cap;
        for (_, basis, acc) in &self.annual_caps {
            let c = round_ratio(*acc, *basis, self.dp, RoundingMode::Down)
                .ok_or_else(|| precision("an annual-rate cap"))?;
            cap = Some(cap.map_or(c, |x| x.min(c)));
        }
        Ok(cap)
    }

    /// F(t): the rounded total limited by the caps.
    fn capped(&self) -> Result<Decimal, LateFeeError> {
        Ok(self.cap()?.map_or(self.r, |c| self.r.min(c)))
    }

    /// Adds an exact numerator; returns the rounded amount it adds to the running total.
    fn recognise(&mut self, num: Decimal) -> Result<Decimal, LateFeeError> {
        self.c_num = add(self.c_num, num, "the running late fee")?;
        let r = round_ratio(self.c_num, self.basis, self.dp, self.mode)
            .ok_or_else(|| precision("the running late fee"))?;
        let amount = r - self.r;
        self.r = r;
        Ok(amount)
    }

    fn unrounded(&self, num: Decimal) -> Decimal {
        if self.basis == 1 {
            num
        } else {
            round_ratio(num, self.basis, 10, RoundingMode::HalfUp)
                .unwrap_or_else(|| (num / Decimal::from(self.basis)).round_dp(10))
        }
    }
}

/// Values at the end of the day before the reported period.
struct Snapshot {
    r: Decimal,
    f: Decimal,
    w: Decimal,
}

pub(crate) fn run(
    policy: &LateFeePolicy,
    input: &LateFeeInput<'_>,
    since: NaiveDate,
) -> Result<LateFeeBreakdown, LateFeeError> {
    let spec = policy.spec();
    let principal = input.principal;
    let currency = principal.currency();
    let (due, as_of) = (input.due, input.as_of);
    // Every amount below is already exact to the minor unit; `money` only wraps it.
    let money = |amount: Decimal| Money::from_scaled(amount, currency);

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
    let basis_dec = Decimal::from(basis);
    let mut run = Running {
        dp: currency.minor_units(),
        basis,
        mode: spec.rounding,
        c_num: Decimal::ZERO,
        r: Decimal::ZERO,
        w: Decimal::ZERO,
        fixed_cap: None,
        annual_caps: Vec::new(),
    };
    for cap in &spec.caps {
        let fixed = match cap {
            Cap::PrincipalMultiple { multiple } => RoundingMode::Down.round(
                mul(principal.amount(), *multiple, "a principal-multiple cap")?,
                run.dp,
            ),
            Cap::Amount { amount } => Money::new(*amount, currency)?.amount(),
            Cap::AnnualRate { rate, day_basis } => {
                run.annual_caps.push((rate.value(), *day_basis, Decimal::ZERO));
                continue;
            }
        };
        run.fixed_cap = Some(run.fixed_cap.map_or(fixed, |c: Decimal| c.min(fixed)));
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
    let retro = spec.grace_mode == GraceMode::FromDueDate && spec.grace_days > 0;

    // Principal outstanding at the due date (payments on or before it).
    let mut outstanding = principal.amount();
    let mut pi = 0;
    while pi < payments.len() && payments[pi].date <= due {
        outstanding -= payments[pi].amount.amount();
        pi += 1;
    }

    // One line per month of delinquency plus a few for payments, surcharges and rate changes.
    let mut lines: Vec<FeeLine> = Vec::with_capacity(overdue_days as usize / 28 + 4);
    let mut waiver_lines: Vec<FeeLine> = Vec::new();
    // Grace-day lines waiting for the end of the grace period, with their exact numerators.
    let mut pending: Vec<(FeeLine, Decimal)> = Vec::new();
    let mut wi = 0;
    let mut snapshot = None;

    // Waivers dated on or before the due date see nothing accrued.
    while wi < waivers.len() && waivers[wi].1.date <= due {
        apply_waiver(&mut run, waivers[wi], since, currency, &mut waiver_lines)?;
        wi += 1;
    }
    if since == due {
        snapshot = Some(Snapshot { r: run.r, f: run.capped()?, w: run.w });
    }

    let mut rate_cache = None;
    let mut month = 1u32;
    let mut m_end = month_end(due, spec.month_basis, 1)?;
    let mut ti = 0;
    let mut day = after(due, 1, "the first overdue day")?;
    while day <= as_of {
        // 1. Grace days are charged once the grace period has ended unpaid (FromDueDate).
        if retro && day == after(grace_end, 1, "the end of the grace period")? {
            if outstanding > Decimal::ZERO {
                for (mut line, num) in pending.drain(..) {
                    line.amount = money(run.recognise(num)?);
                    line.unrounded = Some(run.unrounded(num));
                    if day > since {
                        lines.push(line);
                    }
                }
            }
            pending.clear();
        }
        // 2. Payments dated today lower today's base.
        while pi < payments.len() && payments[pi].date == day {
            outstanding -= payments[pi].amount.amount();
            pi += 1;
        }
        // 3. Surcharges on the principal unpaid today.
        while ti < triggers.len() && triggers[ti].0 == day {
            let s = triggers[ti].1;
            if outstanding > Decimal::ZERO {
                let exact = mul(outstanding, s.rate.value(), "a surcharge")?;
                let amount = run.recognise(mul(exact, basis_dec, "a surcharge")?)?;
                if day > since {
                    lines.push(FeeLine {
                        kind: LineKind::Surcharge,
                        from: day,
                        to: day,
                        month: Some(month),
                        days: None,
                        base: Some(money(outstanding)),
                        daily_rate: None,
                        reference_rate: None,
                        annual_rate: None,
                        day_basis: None,
                        rate: Some(s.rate),
                        unrounded: Some(exact),
                        amount: money(amount),
                        label: Some(s.name.clone()),
                        waiver: None,
                    });
                }
            }
            ti += 1;
        }
        // 4. The segment: as long as base, rate, month and reporting points stay the same.
        let rate = segment_rate(&spec.accrual, table, month, day, &mut rate_cache)?;
        let mut end = as_of.min(m_end);
        let mut cut = |next: Option<NaiveDate>| {
            if let Some(n) = next.and_then(|n| n.pred_opt()) {
                end = end.min(n);
            }
        };
        cut(payments.get(pi).map(|p| p.date));
        cut(triggers.get(ti).map(|t| t.0));
        cut(rate.next_change);
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
        let days_dec = Decimal::from(days);
        for (cap_rate, _, acc) in &mut run.annual_caps {
            let n = mul(mul(outstanding, *cap_rate, "a cap")?, days_dec, "a cap")?;
            *acc = add(*acc, n, "a cap")?;
        }
        let in_grace = day <= grace_end;
        if outstanding > Decimal::ZERO && !rate.factor.is_zero() && (retro || !in_grace) {
            let num = mul(mul(outstanding, rate.factor, "an accrual")?, days_dec, "an accrual")?;
            let mut line = FeeLine {
                kind: if in_grace { LineKind::GraceAccrual } else { LineKind::Accrual },
                from: day,
                to: end,
                month: Some(month),
                days: u32::try_from(days).ok(),
                base: Some(money(outstanding)),
                daily_rate: rate.daily,
                reference_rate: rate.reference,
                annual_rate: rate.annual,
                day_basis: (basis > 1).then_some(basis),
                rate: None,
                unrounded: None,
                amount: Money::zero(currency),
                label: None,
                waiver: None,
            };
            if in_grace {
                pending.push((line, num));
            } else {
                line.amount = money(run.recognise(num)?);
                line.unrounded = Some(run.unrounded(num));
                if day > since {
                    lines.push(line);
                }
            }
        }
        // 5. End-of-day reporting points.
        if end == since {
            snapshot = Some(Snapshot { r: run.r, f: run.capped()?, w: run.w });
        }
        while wi < waivers.len() && waivers[wi].1.date == end {
            apply_waiver(&mut run, waivers[wi], since, currency, &mut waiver_lines)?;
            wi += 1;
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
    if !cap_adjustment.is_zero() {
        lines.push(FeeLine {
            kind: LineKind::Cap,
            from: as_of,
            to: as_of,
            month: None,
            days: None,
            base: None,
            daily_rate: None,
            reference_rate: None,
            annual_rate: None,
            day_basis: None,
            rate: None,
            unrounded: None,
            amount: money(cap_adjustment),
            label: Some(cap_label(&spec.caps, run.cap()?, currency)),
            waiver: None,
        });
    }
    lines.append(&mut waiver_lines);
    let accrued = run.r - snap.r;
    let waived = run.w - snap.w;
    Ok(LateFeeBreakdown {
        policy: spec.name.clone(),
        currency,
        principal,
        due,
        as_of,
        period_from: after(since, 1, "the start of the accrual window")?,
        days_overdue: u32::try_from(overdue_days).unwrap_or(u32::MAX),
        grace_ends: (spec.grace_days > 0).then_some(grace_end),
        outstanding_principal: money(outstanding),
        lines,
        accrued: money(accrued),
        cap_adjustment: money(cap_adjustment),
        waived: money(waived),
        total: money(accrued + cap_adjustment - waived),
    })
}

fn segment_rate(
    accrual: &Accrual,
    table: Option<&RateTable>,
    month: u32,
    day: NaiveDate,
    cache: &mut Option<(Rate, Decimal)>,
) -> Result<SegmentRate, LateFeeError> {
    let daily = |r: Rate| SegmentRate {
        factor: r.value(),
        daily: Some(r),
        reference: None,
        annual: None,
        next_change: None,
    };
    match accrual {
        Accrual::FlatDaily { daily_rate } => Ok(daily(*daily_rate)),
        Accrual::Tiered { tiers } => {
            let idx = tiers.partition_point(|t| t.from_month <= month);
            Ok(daily(tiers.get(idx.wrapping_sub(1)).map_or(Rate::ZERO, |t| t.daily_rate)))
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
                    let annual = add(
                        mul(reference.value(), *multiplier, "a reference rate")?,
                        spread.value(),
                        "a reference rate",
                    )?
                    .normalize();
                    *cache = Some((reference, annual));
                    annual
                }
            };
            Ok(SegmentRate {
                factor: annual,
                daily: None,
                reference: Some(reference),
                annual: Some(annual),
                next_change,
            })
        }
    }
}

fn reference_table<'a>(
    accrual: &Accrual,
    given: Option<&'a RateTable>,
) -> Result<Option<&'a RateTable>, LateFeeError> {
    match accrual {
        Accrual::ReferenceRate { series, .. } => {
            let table = given.ok_or_else(|| LateFeeError::MissingReferenceRates {
                series: series.clone(),
            })?;
            if !table.series().eq_ignore_ascii_case(series) {
                return Err(LateFeeError::ReferenceSeriesMismatch {
                    wanted: series.clone(),
                    given: table.series().to_string(),
                });
            }
            Ok(Some(table))
        }
        _ => Ok(None),
    }
}

/// Payments checked and sorted by date (borrowed when already in order).
fn checked_payments<'a>(input: &LateFeeInput<'a>) -> Result<Cow<'a, [Payment]>, LateFeeError> {
    let currency = input.principal.currency();
    let mut paid = Money::zero(currency);
    for (index, p) in input.payments.iter().enumerate() {
        if p.amount.currency() != currency {
            return Err(LateFeeError::PaymentCurrency {
                index,
                date: p.date,
                expected: currency.code(),
                found: p.amount.currency().code(),
            });
        }
        if !p.amount.is_positive() {
            return Err(LateFeeError::NonPositivePayment {
                index,
                date: p.date,
                amount: p.amount,
            });
        }
        if p.date <= input.as_of {
            paid = paid.checked_add(p.amount)?;
        }
    }
    if paid.amount() > input.principal.amount() {
        return Err(LateFeeError::PaymentsExceedPrincipal {
            paid,
            principal: input.principal,
            as_of: input.as_of,
        });
    }
    if input.payments.windows(2).all(|w| w[0].date <= w[1].date) {
        Ok(Cow::Borrowed(input.payments))
    } else {
        let mut sorted = input.payments.to_vec();
        sorted.sort_by_key(|p| p.date);
        Ok(Cow::Owned(sorted))
    }
}

/// Waivers in effect by `as_of`, checked (R-D6) and sorted by date, with their input index.
fn checked_waivers<'a>(input: &LateFeeInput<'a>) -> Result<Vec<(usize, &'a Waiver)>, LateFeeError> {
    let currency = input.principal.currency();
    let mut out = Vec::new();
    for (index, w) in input.waivers.iter().enumerate() {
        let invalid = |reason: &str| LateFeeError::InvalidWaiver {
            index,
            date: w.date,
            reason: reason.to_string(),
        };
        if w.approved_by.trim().is_empty() || w.proposed_by.trim().is_empty() {
            return Err(invalid("proposed_by and approved_by must both name a person"));
        }
        if w.approved_by.trim() == w.proposed_by.trim() {
            return Err(invalid(
                "R-D6: a waiver must be approved by someone other than the person who proposed it",
            ));
        }
        match &w.scope {
            WaiverScope::Amount { amount } if amount.currency() != currency => {
                return Err(invalid("the amount is not in the principal's currency"));
            }
            WaiverScope::Amount { amount } if !amount.is_positive() => {
                return Err(invalid("the amount must be positive"));
            }
            WaiverScope::Percent { percent } if percent.is_zero() || percent.value() > Decimal::ONE => {
                return Err(invalid("percent must be above 0% and at most 100%"));
            }
            _ => {}
        }
        if w.date <= input.as_of {
            out.push((index, w));
        }
    }
    out.sort_by_key(|(_, w)| w.date);
    Ok(out)
}

fn apply_waiver(
    run: &mut Running,
    (index, w): (usize, &Waiver),
    since: NaiveDate,
    currency: crate::Currency,
    lines: &mut Vec<FeeLine>,
) -> Result<(), LateFeeError> {
    let available = run.capped()? - run.w;
    let amount = match &w.scope {
        WaiverScope::All => available,
        WaiverScope::Amount { amount } => {
            if amount.amount() > available {
                return Err(LateFeeError::WaiverExceedsAccrued {
                    index,
                    date: w.date,
                    amount: *amount,
                    available: Money::round(available, currency, RoundingMode::HalfUp),
                });
            }
            amount.amount()
        }
        WaiverScope::Percent { percent } => run
            .mode
            .round(mul(available, percent.value(), "a percentage waiver")?, run.dp),
    };
    run.w += amount;
    if w.date > since {
        lines.push(FeeLine {
            kind: LineKind::Waiver,
            from: w.date,
            to: w.date,
            month: None,
            days: None,
            base: None,
            daily_rate: None,
            reference_rate: None,
            annual_rate: None,
            day_basis: None,
            rate: None,
            unrounded: None,
            amount: Money::round(-amount, currency, RoundingMode::HalfUp),
            label: None,
            waiver: Some(Box::new(w.clone())),
        });
    }
    Ok(())
}

fn cap_label(caps: &[Cap], binding: Option<Decimal>, currency: crate::Currency) -> String {
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
        Some(b) => format!("capped at {b} {currency} (at most {})", parts.join(", ")),
        None => format!("at most {}", parts.join(", ")),
    }
}
