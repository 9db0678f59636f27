//! An independent, deliberately naive late-fee computation: one loop iteration per overdue
//! day, no segments, no running rounding. Used only to check the engine.

use chrono::{Days, Months, NaiveDate};
use money::late_fee::{Accrual, Cap, GraceMode, LateFeePolicy, MonthBasis, Payment, RateTable};
use money::{Money, RoundingMode};
use rust_decimal::Decimal;

/// The oracle's answer, in yuan.
pub(crate) struct Fee {
    /// Fee before caps, rounded once with the policy's rounding.
    pub accrued: Decimal,
    /// After the caps.
    pub capped: Decimal,
}

fn outstanding(principal: &Money, payments: &[Payment], day: NaiveDate) -> Decimal {
    let paid: Decimal = payments
        .iter()
        .filter(|p| p.date <= day)
        .map(|p| p.amount.amount())
        .sum();
    principal.amount() - paid
}

fn month_of(p: &LateFeePolicy, due: NaiveDate, day: NaiveDate) -> u32 {
    let mut k = 1;
    loop {
        let end = match p.spec().month_basis {
            MonthBasis::Calendar => due.checked_add_months(Months::new(k)).unwrap(),
            MonthBasis::Days30 => due + Days::new(30 * u64::from(k)),
        };
        if day <= end {
            return k;
        }
        k += 1;
    }
}

fn first_day_of_month(p: &LateFeePolicy, due: NaiveDate, k: u32) -> NaiveDate {
    let mut day = due + Days::new(1);
    while month_of(p, due, day) < k {
        day = day + Days::new(1);
    }
    day
}

/// (numerator per unit of base, basis) for one day.
fn rate_of(p: &LateFeePolicy, due: NaiveDate, day: NaiveDate, table: &RateTable) -> (Decimal, u32) {
    match &p.spec().accrual {
        Accrual::FlatDaily { daily_rate } => (daily_rate.value(), 1),
        Accrual::Tiered { tiers } => {
            let m = month_of(p, due, day);
            let tier = tiers.iter().rfind(|t| t.from_month <= m).unwrap();
            (tier.daily_rate.value(), 1)
        }
        Accrual::ReferenceRate {
            multiplier,
            spread,
            day_basis,
            ..
        } => {
            let point = table.spec().rates.iter().rfind(|r| r.from <= day).unwrap();
            (
                point.annual_rate.value() * multiplier + spread.value(),
                *day_basis,
            )
        }
    }
}

/// What the policy's caps allow on `as_of`, if it has any.
pub(crate) fn cap_limit(
    p: &LateFeePolicy,
    principal: &Money,
    due: NaiveDate,
    as_of: NaiveDate,
    payments: &[Payment],
) -> Option<Decimal> {
    p.spec()
        .caps
        .iter()
        .map(|cap| match cap {
            Cap::PrincipalMultiple { multiple } => {
                RoundingMode::Down.round(principal.amount() * multiple, 2)
            }
            Cap::Amount { amount } => *amount,
            Cap::AnnualRate { rate, day_basis } => {
                let mut sum = Decimal::ZERO;
                for day in (due + Days::new(1)).iter_days().take_while(|d| *d <= as_of) {
                    sum += outstanding(principal, payments, day) * rate.value();
                }
                RoundingMode::Down.round(sum / Decimal::from(*day_basis), 2)
            }
        })
        .min()
}

/// The fee on `as_of` by brute force.
pub(crate) fn fee(
    p: &LateFeePolicy,
    principal: &Money,
    due: NaiveDate,
    as_of: NaiveDate,
    payments: &[Payment],
    table: &RateTable,
) -> Fee {
    let spec = p.spec();
    let grace_end = due + Days::new(u64::from(spec.grace_days));
    let mut num = Decimal::ZERO;
    let mut grace_num = Decimal::ZERO;
    let mut basis = 1;
    for day in (due + Days::new(1)).iter_days().take_while(|d| *d <= as_of) {
        let (r, b) = rate_of(p, due, day, table);
        basis = b;
        let amount = outstanding(principal, payments, day) * r;
        if day > grace_end {
            num += amount;
        } else if spec.grace_mode == GraceMode::FromDueDate {
            grace_num += amount;
        }
    }
    if let Accrual::ReferenceRate { day_basis, .. } = spec.accrual {
        basis = day_basis;
    }
    if spec.grace_mode == GraceMode::FromDueDate
        && as_of > grace_end
        && outstanding(principal, payments, grace_end) > Decimal::ZERO
    {
        num += grace_num;
    }
    for s in &spec.surcharges {
        let trigger = match (s.at_month, s.at_day) {
            (Some(m), _) => first_day_of_month(p, due, m),
            (_, Some(d)) => due + Days::new(u64::from(d)),
            _ => unreachable!(),
        };
        if trigger <= as_of {
            num +=
                outstanding(principal, payments, trigger) * s.rate.value() * Decimal::from(basis);
        }
    }
    let accrued = spec.rounding.round(num / Decimal::from(basis), 2);
    let capped = match cap_limit(p, principal, due, as_of, payments) {
        Some(limit) => accrued.min(limit),
        None => accrued,
    };
    Fee { accrued, capped }
}
