//! The 12-week cash-inflow forecast (R-O1) from schedules, open promises and payment
//! history, and its error measured on held-back past weeks (a backtest).
//!
//! Everything is principal in one currency, computed in decimal and rounded to the fen; the
//! forecast conserves money: the weeks' totals plus what is not expected within the horizon
//! (`beyond`) are exactly the open principal.
//!
//! What the history before the forecast date `t` teaches ([`learn`]):
//! - pay rate and delay: over the items that fell due in the 26 weeks before `t` and at least
//!   28 days before it (so their payments had time to come), the share of their principal
//!   paid by 28 days after the due date, and the amount-weighted days from due date to
//!   payment (between −28 and 28; early payments count negative). Per customer when the
//!   customer had such items, else the portfolio's; with no history at all, 100 % on the due
//!   date (the contract's terms).
//! - weekly overdue rate: over the last 26 weeks, principal paid in a week on items already
//!   past due when it began ÷ their open principal then.
//! - promise kept rate: over the promises judged by `t`, paid (at most the amount) ÷
//!   promised; the pay rate when none was judged yet.
//!
//! The forecast from `t` ([`forecast`]), week k = days t+7(k−1)+1 … t+7k:
//! - scheduled: an item not yet due × its customer's pay rate, in the week of due date +
//!   delay (the first week when that is already past); the rest is beyond.
//! - promised: an open promise (made by `t`, not judged by then) takes up to its amount from
//!   its customer's overdue principal × the kept rate, in the week of the promised date (the
//!   first week when that is past); a promise for a date beyond the horizon counts nothing.
//! - overdue: each customer's remaining overdue principal × the weekly overdue rate, week by
//!   week on what is left (geometric); what is left after the last week is beyond.
//!
//! The backtest ([`backtest`]) goes back `k` weeks, forecasts them from what was known then
//! (items billed, payments booked and promises made by that day) and compares each week with
//! the principal actually paid in it on those items.

use std::collections::{BTreeMap, HashMap};

use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive as _;
use uuid::Uuid;

use super::collectors::Promise;
use super::{Item, MovementKind, percent, two_places};

/// Weeks of history the rates are learned from.
pub const LOOKBACK_WEEKS: u64 = 26;
/// Days a payment has after the due date to count for the pay rate.
pub const SETTLE_DAYS: i64 = 28;
/// The longest forecast and backtest.
pub const MAX_WEEKS: u32 = 12;

/// A receivable and its customer.
#[derive(Debug, Clone, Copy)]
pub struct Debt<'a> {
    pub customer: Uuid,
    pub item: &'a Item,
}

/// What the history taught; rates with four decimals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Learned {
    pub pay_rate: Decimal,
    pub delay_days: i64,
    pub weekly_overdue_rate: Decimal,
    pub promise_kept_rate: Decimal,
    /// Customers' own pay rate and delay.
    pub customers: HashMap<Uuid, (Decimal, i64)>,
}

/// One forecast week.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Week {
    pub week: u32,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub scheduled: Decimal,
    pub promised: Decimal,
    pub overdue: Decimal,
}

impl Week {
    /// Everything expected in the week.
    #[must_use]
    pub fn total(&self) -> Decimal {
        self.scheduled + self.promised + self.overdue
    }
}

/// The forecast from a date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forecast {
    pub as_of: NaiveDate,
    pub weeks: Vec<Week>,
    pub learned: Learned,
    /// Open principal at `as_of`, and the part not expected within the horizon.
    pub open: Decimal,
    pub beyond: Decimal,
}

/// A held-back week: forecast and actual.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BacktestWeek {
    pub week: u32,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub forecast: Decimal,
    pub actual: Decimal,
}

impl BacktestWeek {
    /// forecast − actual.
    #[must_use]
    pub fn error(&self) -> Decimal {
        self.forecast - self.actual
    }
}

/// The measured error of the forecast on held-back weeks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backtest {
    pub as_of: NaiveDate,
    pub weeks: Vec<BacktestWeek>,
    pub forecast: Decimal,
    pub actual: Decimal,
    pub absolute_error: Decimal,
    /// Σ|error| / Σactual × 100 and Σerror / Σactual × 100, two decimals.
    pub wape: Option<Decimal>,
    pub bias: Option<Decimal>,
}

fn rate(value: Decimal) -> Decimal {
    value
        .round_dp_with_strategy(4, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
        .clamp(Decimal::ZERO, Decimal::ONE)
}

fn plus(date: NaiveDate, days: i64) -> NaiveDate {
    if days >= 0 {
        date.checked_add_days(Days::new(days.unsigned_abs()))
    } else {
        date.checked_sub_days(Days::new(days.unsigned_abs()))
    }
    .unwrap_or(date)
}

/// The item's principal as scheduled at the end of `date` (as billed, with amendments).
fn scheduled_at(item: &Item, date: NaiveDate) -> Decimal {
    item.amount
        + item
            .movements
            .iter()
            .filter(|m| m.kind == MovementKind::Amended && m.on <= date)
            .map(|m| m.principal)
            .sum::<Decimal>()
}

/// Principal paid on the item within `from..=to` (positive).
fn paid_within(item: &Item, from: NaiveDate, to: NaiveDate) -> Decimal {
    item.lowered_by(MovementKind::Paid, from, to)
}

#[derive(Default, Clone, Copy)]
struct PaySums {
    base: Decimal,
    paid: Decimal,
    paid_days: Decimal,
}

impl PaySums {
    fn rate_and_delay(self) -> Option<(Decimal, i64)> {
        if self.base <= Decimal::ZERO {
            return None;
        }
        let delay = if self.paid > Decimal::ZERO {
            (self.paid_days / self.paid)
                .round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
                .to_i64()
                .unwrap_or(0)
        } else {
            0
        };
        Some((rate(self.paid / self.base), delay))
    }
}

/// What the history up to the end of `t` teaches (see the module documentation).
#[must_use]
pub fn learn(debts: &[Debt<'_>], promises: &[&Promise], t: NaiveDate) -> Learned {
    let window_start = plus(t, -7 * i64::try_from(LOOKBACK_WEEKS).unwrap_or(26));
    let window_end = plus(t, -SETTLE_DAYS);
    let mut portfolio = PaySums::default();
    let mut by_customer: HashMap<Uuid, PaySums> = HashMap::new();
    for d in debts {
        let item = d.item;
        if item.billed_on > t || item.due < window_start || item.due > window_end {
            continue;
        }
        let base = scheduled_at(item, t);
        if base <= Decimal::ZERO {
            continue;
        }
        let settle = plus(item.due, SETTLE_DAYS);
        let mut paid = Decimal::ZERO;
        let mut paid_days = Decimal::ZERO;
        for m in &item.movements {
            if m.kind == MovementKind::Paid && m.on <= settle && m.on <= t {
                let days = (m.on - item.due)
                    .num_days()
                    .clamp(-SETTLE_DAYS, SETTLE_DAYS);
                paid -= m.principal;
                paid_days -= m.principal * Decimal::from(days);
            }
        }
        for sums in [&mut portfolio, by_customer.entry(d.customer).or_default()] {
            sums.base += base;
            sums.paid += paid;
            sums.paid_days += paid_days;
        }
    }
    let (pay_rate, delay_days) = portfolio.rate_and_delay().unwrap_or((Decimal::ONE, 0));
    let customers = by_customer
        .into_iter()
        .filter_map(|(c, s)| s.rate_and_delay().map(|r| (c, r)))
        .collect();
    // The weekly recovery of balances already past due when a week began.
    let mut overdue = Decimal::ZERO;
    let mut recovered = Decimal::ZERO;
    for j in 1..=LOOKBACK_WEEKS {
        let start = plus(t, 1 - 7 * i64::try_from(j).unwrap_or(1));
        let end = plus(start, 6);
        let eve = plus(start, -1);
        for d in debts {
            let item = d.item;
            if item.billed_on > eve || item.due > eve {
                continue;
            }
            let open = item.balance_at(eve);
            if open > Decimal::ZERO {
                overdue += open;
                recovered += paid_within(item, start, end).min(open);
            }
        }
    }
    let weekly_overdue_rate = if overdue > Decimal::ZERO {
        rate(recovered / overdue)
    } else {
        Decimal::ZERO
    };
    let (promised, kept) = promises
        .iter()
        .filter_map(|p| match p.judged {
            Some((on, kept)) if on <= t => {
                let paid = p
                    .paid
                    .unwrap_or(if kept { p.amount } else { Decimal::ZERO });
                Some((p.amount, paid.min(p.amount).max(Decimal::ZERO)))
            }
            _ => None,
        })
        .fold((Decimal::ZERO, Decimal::ZERO), |(a, k), (pa, pk)| {
            (a + pa, k + pk)
        });
    let promise_kept_rate = if promised > Decimal::ZERO {
        rate(kept / promised)
    } else {
        pay_rate
    };
    Learned {
        pay_rate,
        delay_days,
        weekly_overdue_rate,
        promise_kept_rate,
        customers,
    }
}

/// The forecast of `weeks` weeks (at most [`MAX_WEEKS`]) from the end of `t`, learned from
/// the history up to `t` (items billed after `t`, movements after `t` and promises made after
/// `t` are not looked at). `debts` and `promises` are of one currency.
#[must_use]
pub fn forecast(debts: &[Debt<'_>], promises: &[&Promise], t: NaiveDate, weeks: u32) -> Forecast {
    let weeks = weeks.min(MAX_WEEKS);
    let learned = learn(debts, promises, t);
    let first = plus(t, 1);
    let mut out: Vec<Week> = (0..weeks)
        .map(|k| {
            let from = plus(first, 7 * i64::from(k));
            Week {
                week: k + 1,
                from,
                to: plus(from, 6),
                scheduled: Decimal::new(0, 2),
                promised: Decimal::new(0, 2),
                overdue: Decimal::new(0, 2),
            }
        })
        .collect();
    let horizon = out.len();
    let week_of = |date: NaiveDate| -> Option<usize> {
        let days = (date.max(first) - first).num_days();
        usize::try_from(days / 7).ok().filter(|w| *w < horizon)
    };
    let mut open_total = Decimal::ZERO;
    let mut beyond = Decimal::ZERO;
    let mut pools: BTreeMap<Uuid, Decimal> = BTreeMap::new();
    for d in debts {
        let item = d.item;
        if item.billed_on > t {
            continue;
        }
        let open = item.balance_at(t);
        if open <= Decimal::ZERO {
            continue;
        }
        open_total += open;
        if item.due > t {
            let (pay, delay) = learned
                .customers
                .get(&d.customer)
                .copied()
                .unwrap_or((learned.pay_rate, learned.delay_days));
            let expected = two_places(open * pay).min(open);
            match week_of(plus(item.due, delay)) {
                Some(w) => {
                    if let Some(week) = out.get_mut(w) {
                        week.scheduled += expected;
                    }
                    beyond += open - expected;
                }
                None => beyond += open,
            }
        } else {
            *pools.entry(d.customer).or_default() += open;
        }
    }
    let mut open_promises: Vec<&&Promise> = promises.iter().filter(|p| p.open_at(t)).collect();
    open_promises.sort_by_key(|p| (p.promised, p.customer));
    for p in open_promises {
        let Some(pool) = pools.get_mut(&p.customer) else {
            continue;
        };
        let Some(w) = week_of(p.promised) else {
            continue;
        };
        let expected = two_places(p.amount.min(*pool) * learned.promise_kept_rate).min(*pool);
        if let Some(week) = out.get_mut(w) {
            week.promised += expected;
            *pool -= expected;
        }
    }
    for mut left in pools.into_values() {
        for week in &mut out {
            let x = two_places(left * learned.weekly_overdue_rate).min(left);
            week.overdue += x;
            left -= x;
        }
        beyond += left;
    }
    Forecast {
        as_of: t,
        weeks: out,
        learned,
        open: open_total,
        beyond,
    }
}

/// Holds back the `weeks` weeks before the end of `as_of` (at most [`MAX_WEEKS`]; `None` for
/// none), forecasts them from what was known before and compares with what was paid.
#[must_use]
pub fn backtest(
    debts: &[Debt<'_>],
    promises: &[&Promise],
    as_of: NaiveDate,
    weeks: u32,
) -> Option<Backtest> {
    let weeks = weeks.min(MAX_WEEKS);
    if weeks == 0 {
        return None;
    }
    let t0 = plus(as_of, -7 * i64::from(weeks));
    let known: Vec<Debt<'_>> = debts
        .iter()
        .copied()
        .filter(|d| d.item.billed_on <= t0)
        .collect();
    let f = forecast(&known, promises, t0, weeks);
    let rows: Vec<BacktestWeek> = f
        .weeks
        .iter()
        .map(|w| BacktestWeek {
            week: w.week,
            from: w.from,
            to: w.to,
            forecast: w.total(),
            actual: known
                .iter()
                .map(|d| paid_within(d.item, w.from, w.to))
                .sum(),
        })
        .collect();
    let forecast_sum: Decimal = rows.iter().map(|w| w.forecast).sum();
    let actual: Decimal = rows.iter().map(|w| w.actual).sum();
    let absolute_error: Decimal = rows.iter().map(|w| w.error().abs()).sum();
    Some(Backtest {
        as_of: t0,
        wape: percent(absolute_error, actual),
        bias: percent(forecast_sum - actual, actual),
        weeks: rows,
        forecast: forecast_sum,
        actual,
        absolute_error,
    })
}

#[cfg(test)]
mod tests;
