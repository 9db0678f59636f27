//! The accrual sweep: one pass over the overdue days in segments of constant base and rate.
//!
//! The exact fee is kept as a running numerator over the day basis (1 for daily rates, 365 or
//! 360 for annual reference rates, R-C12) in exact integer arithmetic ([`Exact`]), so nothing
//! is divided or rounded before the running total is read. The rounded running total R(t), the
//! capped total F(t) = min(R(t), floor(cap(t))) and the waived sum W(t) are read at the ends of
//! segments, and every line amount is a difference of them. See the `late_fee` module docs for
//! why this makes periods add up exactly.

use chrono::NaiveDate;

use super::checks::{checked_payments, checked_waivers, reference_table};
use super::policy::GraceMode;
use super::running::{Running, apply_waiver, cap_label, precision, product};
use super::segment::{accrual_line, after, month_end, segment_rate, surcharge_days};
use super::{FeeLine, LateFeeError, LateFeeInput, LateFeePolicy, LateFeeSummary, LineKind};
use crate::amount::Money;
use crate::rounding::Exact;

/// Longest delinquency computed (about a century): protects against a mistyped year.
const MAX_DAYS: i64 = 36_500;

/// What a sweep produces; the caller adds the policy name for a
/// [`LateFeeBreakdown`](super::LateFeeBreakdown).
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

    let mut run = Running::new(spec, principal)?;
    let basis = run.basis;
    let triggers = surcharge_days(spec, due)?;

    let grace_end = after(
        due,
        u64::from(spec.grace_days),
        "the end of the grace period",
    )?;
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
                let amount =
                    run.recognise(exact.mul(basis).ok_or_else(|| precision("a surcharge"))?)?;
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
                    Some(accrual_line(
                        LineKind::GraceAccrual,
                        (day, end, month, days),
                        base,
                        zero,
                        &rate,
                        &run,
                        num,
                    ))
                } else {
                    None
                };
                pending.push((line, num));
            } else {
                let amount = run.recognise(num)?;
                if itemise && day > since {
                    let (base, amount) = (run.money(outstanding)?, run.money(amount)?);
                    lines.push(accrual_line(
                        LineKind::Accrual,
                        (day, end, month, days),
                        base,
                        amount,
                        &rate,
                        &run,
                        num,
                    ));
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
