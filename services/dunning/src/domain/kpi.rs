//! Collectors' balance KPIs (R-O7, R-D11; issue 14 item 5): the collection effectiveness index
//! (CEI) and the recovery rate, from what dunning learned, day by day, of what is owed on each
//! receivable. Pure: the store hands over each receivable's dated observations, this module
//! does the arithmetic. Definitions (also in the README and the proto):
//!
//! - A receivable is **on the books** at the end of business day `d` once it has fallen due
//!   (its due date, as known on `d`, is on or before `d`); its balance is what was last known
//!   to be owed on it on or before `d` (principal, late fee, interest and costs). A schedule's
//!   items not yet due are not receivables yet (R-C11: scheduled → due).
//! - It is **current** while contracts has not reported it overdue, **overdue** once it has
//!   (and until an amendment defers it).
//! - **Opening** = on the books at the end of the day before `from`; **closing total** = on the
//!   books at the end of `to`; **closing current** = the current part of it.
//! - **Sales of the period** = every increase of the books in `from..=to`: amounts falling due
//!   (what is owed on an item the day it falls due, i.e. after any prepayment) plus late fees,
//!   interest and costs accrued on items on the books. Every decrease (payments, write-offs,
//!   amendments) is a reduction, so opening + sales − closing total = reductions.
//! - **CEI** = (opening + sales − closing total) ÷ (opening + sales − closing current) × 100,
//!   two decimals; "" when the denominator is zero. It lies in 0..=100.
//! - **Placed** = overdue balance at the end of the day before `from` + every increase of the
//!   overdue balance in the period (items reported overdue, fees accruing on overdue items);
//!   **recovered** = the decreases of the overdue balance by payments in the period (not
//!   write-offs or amendments). **Recovery rate** = recovered ÷ placed, two decimals, "" when
//!   nothing was placed; it lies in 0..=1.

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};

/// What made dunning learn a receivable's balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Scheduled or billed (the amount as scheduled).
    Scheduled,
    /// Reported overdue by the daily cycle (owed after the day's accruals).
    Overdue,
    /// A payment applied (owed after it).
    Paid,
    /// A small difference written off (R-P12).
    WrittenOff,
    /// A waiver or an upheld dispute's credit (R-D6, R-D8): a reduction, never a recovery.
    Waived,
    /// An approved amendment (R-C8): new due date or amounts.
    Amended,
}

impl Kind {
    /// The stored name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::Overdue => "overdue",
            Self::Paid => "paid",
            Self::WrittenOff => "written_off",
            Self::Waived => "waived",
            Self::Amended => "amended",
        }
    }

    /// Parses a stored name.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Scheduled,
            Self::Overdue,
            Self::Paid,
            Self::WrittenOff,
            Self::Waived,
            Self::Amended,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
    }
}

/// One thing dunning learned about a receivable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observation {
    /// The business day it applies to; `None` for as scheduled, before any day.
    pub on: Option<NaiveDate>,
    /// The due date from then on.
    pub due: NaiveDate,
    /// Everything owed on it from then on.
    pub owed: Decimal,
    /// Reported overdue (and not deferred since).
    pub overdue: bool,
    /// What it was.
    pub kind: Kind,
}

/// The components of both KPIs, for one receivable or summed over many (same currency).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Components {
    /// On the books at the end of the day before the period.
    pub opening: Decimal,
    /// Increases of the books in the period.
    pub sales: Decimal,
    /// On the books at the end of the period.
    pub closing_total: Decimal,
    /// Its part not reported overdue.
    pub closing_current: Decimal,
    /// Overdue at the start plus increases of the overdue balance.
    pub placed: Decimal,
    /// Decreases of the overdue balance by payments.
    pub recovered: Decimal,
}

impl std::ops::AddAssign for Components {
    fn add_assign(&mut self, o: Self) {
        self.opening = self.opening.saturating_add(o.opening);
        self.sales = self.sales.saturating_add(o.sales);
        self.closing_total = self.closing_total.saturating_add(o.closing_total);
        self.closing_current = self.closing_current.saturating_add(o.closing_current);
        self.placed = self.placed.saturating_add(o.placed);
        self.recovered = self.recovered.saturating_add(o.recovered);
    }
}

/// On the books and overdue at the end of `day`, under `state`.
fn values(state: Option<&Observation>, day: Option<NaiveDate>) -> (Decimal, Decimal) {
    match (state, day) {
        (Some(s), Some(day)) if s.due <= day => {
            let owed = s.owed.max(Decimal::ZERO);
            (owed, if s.overdue { owed } else { Decimal::ZERO })
        }
        _ => (Decimal::ZERO, Decimal::ZERO),
    }
}

/// One receivable's components for `from..=to`, from its observations in the order learned
/// (by day, scheduled first); those after `to` are ignored.
#[must_use]
pub fn components(history: &[Observation], from: NaiveDate, to: NaiveDate) -> Components {
    let before = from.pred_opt();
    let mut next = history
        .iter()
        .take_while(|o| o.on.is_none_or(|on| before.is_some_and(|b| on <= b)))
        .count();
    let mut state = next.checked_sub(1).and_then(|i| history.get(i));
    let (mut book, mut overdue) = values(state, before);
    let mut c = Components {
        opening: book,
        placed: overdue,
        ..Components::default()
    };
    // The days the books can move: an observation, or an item falling due.
    let mut days: Vec<NaiveDate> = history
        .iter()
        .flat_map(|o| [o.on, Some(o.due)])
        .flatten()
        .filter(|d| (from..=to).contains(d))
        .collect();
    days.sort_unstable();
    days.dedup();
    let mut step = |state: Option<&Observation>, day, kind: Option<Kind>, c: &mut Components| {
        let (b, v) = values(state, Some(day));
        if b > book {
            c.sales = c.sales.saturating_add(b - book);
        }
        if v > overdue {
            c.placed = c.placed.saturating_add(v - overdue);
        } else if v < overdue && kind == Some(Kind::Paid) {
            c.recovered = c.recovered.saturating_add(overdue - v);
        }
        (book, overdue) = (b, v);
    };
    for day in days {
        // Falling due counts at the start of the day, before that day's payments.
        step(state, day, None, &mut c);
        while let Some(o) = history.get(next).filter(|o| o.on == Some(day)) {
            state = Some(o);
            step(state, day, Some(o.kind), &mut c);
            next += 1;
        }
    }
    step(state, to, None, &mut c);
    let (b, v) = values(state, Some(to));
    c.closing_total = b;
    c.closing_current = b - v;
    c
}

/// `part ÷ whole × scale`, two decimals; "" when `whole` is not positive or on overflow.
fn ratio(part: Decimal, whole: Decimal, scale: Decimal) -> String {
    if whole <= Decimal::ZERO {
        return String::new();
    }
    let Some(mut share) = part.checked_div(whole).and_then(|r| r.checked_mul(scale)) else {
        return String::new();
    };
    share = share.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    share.rescale(2);
    share.to_string()
}

/// R-O7: (opening + sales − closing total) ÷ (opening + sales − closing current) × 100, e.g.
/// "72.30"; "" when the denominator is zero.
#[must_use]
pub fn cei(c: &Components) -> String {
    let base = c.opening.saturating_add(c.sales);
    ratio(
        base.saturating_sub(c.closing_total),
        base.saturating_sub(c.closing_current),
        Decimal::ONE_HUNDRED,
    )
}

/// R-D11: recovered ÷ placed, e.g. "0.67"; "" when nothing was placed.
#[must_use]
pub fn recovery_rate(c: &Components) -> String {
    ratio(c.recovered, c.placed, Decimal::ONE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    fn dec(units: i64) -> Decimal {
        Decimal::from(units)
    }

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a date")
    }

    fn obs(on: Option<&str>, due: &str, owed: Decimal, overdue: bool, kind: Kind) -> Observation {
        Observation {
            on: on.map(day),
            due: day(due),
            owed,
            overdue,
            kind,
        }
    }

    /// The README's worked example (March 2026, one collector, CNY).
    fn worked_example() -> Vec<Vec<Observation>> {
        use Kind::*;
        vec![
            // A: 10,000.00 due 10 Feb, overdue since; 50.00 late fee accrues on 15 Mar;
            // 10,050.00 paid on 18 Mar.
            vec![
                obs(None, "2026-02-10", dec(10000), false, Scheduled),
                obs(Some("2026-02-11"), "2026-02-10", dec(10000), true, Overdue),
                obs(Some("2026-03-15"), "2026-02-10", dec(10050), true, Overdue),
                obs(Some("2026-03-18"), "2026-02-10", dec(0), true, Paid),
            ],
            // B: 8,000.00 due 10 Mar; 3,000.00 paid that day; 5,000.00 overdue from 11 Mar.
            vec![
                obs(None, "2026-03-10", dec(8000), false, Scheduled),
                obs(Some("2026-03-10"), "2026-03-10", dec(5000), false, Paid),
                obs(Some("2026-03-11"), "2026-03-10", dec(5000), true, Overdue),
            ],
            // C: 6,000.00 due 31 Mar, unpaid (current at the end of March).
            vec![obs(None, "2026-03-31", dec(6000), false, Scheduled)],
            // D: 4,000.00 due 10 Apr, 1,000.00 paid early on 25 Mar: not yet a receivable.
            vec![
                obs(None, "2026-04-10", dec(4000), false, Scheduled),
                obs(Some("2026-03-25"), "2026-04-10", dec(3000), false, Paid),
            ],
        ]
    }

    #[test]
    fn the_readmes_worked_example() {
        let mut total = Components::default();
        for history in worked_example() {
            total += components(&history, day("2026-03-01"), day("2026-03-31"));
        }
        assert_eq!(
            total,
            Components {
                opening: dec(10000),
                sales: dec(14050),
                closing_total: dec(11000),
                closing_current: dec(6000),
                placed: dec(15050),
                recovered: dec(10050),
            }
        );
        // (10,000 + 14,050 − 11,000) ÷ (10,000 + 14,050 − 6,000) = 13,050 ÷ 18,050.
        assert_eq!(cei(&total), "72.30");
        // 10,050 ÷ 15,050.
        assert_eq!(recovery_rate(&total), "0.67");
    }

    #[test]
    fn nothing_due_reads_empty() {
        let c = components(
            &[obs(None, "2026-05-01", dec(100), false, Kind::Scheduled)],
            day("2026-03-01"),
            day("2026-03-31"),
        );
        assert_eq!(c, Components::default());
        assert_eq!((cei(&c), recovery_rate(&c)), (String::new(), String::new()));
    }

    #[test]
    fn a_deferral_takes_the_item_off_the_books_without_recovering_it() {
        use Kind::*;
        let c = components(
            &[
                obs(None, "2026-03-05", dec(500), false, Scheduled),
                obs(Some("2026-03-06"), "2026-03-05", dec(500), true, Overdue),
                obs(Some("2026-03-20"), "2026-06-05", dec(500), false, Amended),
            ],
            day("2026-03-01"),
            day("2026-03-31"),
        );
        assert_eq!(
            (c.sales, c.closing_total, c.placed),
            (dec(500), dec(0), dec(500))
        );
        assert_eq!(
            (cei(&c), recovery_rate(&c)),
            ("100.00".into(), "0.00".into())
        );
    }

    #[test]
    fn kinds_round_trip() {
        for k in [
            Kind::Scheduled,
            Kind::Overdue,
            Kind::Paid,
            Kind::WrittenOff,
            Kind::Waived,
            Kind::Amended,
        ] {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
        }
        assert_eq!(Kind::parse("other"), None);
    }

    fn kind() -> impl Strategy<Value = Kind> {
        prop_oneof![
            Just(Kind::Overdue),
            Just(Kind::Paid),
            Just(Kind::WrittenOff),
            Just(Kind::Waived),
            Just(Kind::Amended),
        ]
    }

    /// A receivable's history: scheduled, then observations on days 0..90 of 2026.
    fn history() -> impl Strategy<Value = Vec<Observation>> {
        (
            0u32..90,
            1i64..1_000_000,
            prop::collection::vec(
                (0u32..90, 0u32..90, 0i64..1_000_000, any::<bool>(), kind()),
                0..6,
            ),
        )
            .prop_map(|(due, cents, mut rest)| {
                let start = day("2026-01-01");
                let at = |n: u32| start + chrono::Days::new(u64::from(n));
                rest.sort_by_key(|r| r.0);
                let mut out = vec![Observation {
                    on: None,
                    due: at(due),
                    owed: Decimal::new(cents, 2),
                    overdue: false,
                    kind: Kind::Scheduled,
                }];
                out.extend(
                    rest.into_iter()
                        .map(|(on, due, cents, overdue, kind)| Observation {
                            on: Some(at(on)),
                            due: at(due),
                            owed: Decimal::new(cents, 2),
                            overdue,
                            kind,
                        }),
                );
                out
            })
    }

    proptest! {
        #[test]
        fn cei_is_100_when_everything_due_was_collected(
            items in prop::collection::vec((0u32..30, 1i64..1_000_000, 0u32..20), 1..8)
        ) {
            let (from, to) = (day("2026-03-01"), day("2026-03-31"));
            let mut total = Components::default();
            for (due, cents, late) in items {
                let due = from + chrono::Days::new(u64::from(due));
                let paid = (due + chrono::Days::new(u64::from(late))).min(to);
                let history = [
                    Observation { on: None, due, owed: Decimal::new(cents, 2), overdue: false, kind: Kind::Scheduled },
                    Observation { on: Some(paid), due, owed: Decimal::ZERO, overdue: paid > due, kind: Kind::Paid },
                ];
                total += components(&history, from, to);
            }
            prop_assert_eq!(total.closing_total, Decimal::ZERO);
            prop_assert_eq!(cei(&total), "100.00");
        }

        #[test]
        fn both_kpis_stay_in_range_and_the_books_balance(
            histories in prop::collection::vec(history(), 1..6),
            from in 0u32..60,
            len in 0u32..40,
        ) {
            let from = day("2026-01-01") + chrono::Days::new(u64::from(from));
            let to = from + chrono::Days::new(u64::from(len));
            let mut total = Components::default();
            for h in &histories {
                total += components(h, from, to);
            }
            let reductions = total.opening + total.sales - total.closing_total;
            prop_assert!(reductions >= Decimal::ZERO);
            prop_assert!(total.closing_current <= total.closing_total);
            prop_assert!(total.recovered <= total.placed);
            let cei = cei(&total);
            if !cei.is_empty() {
                let v: Decimal = cei.parse().expect("a decimal");
                prop_assert!((Decimal::ZERO..=Decimal::ONE_HUNDRED).contains(&v), "{}", v);
            }
            let rate = recovery_rate(&total);
            if !rate.is_empty() {
                let v: Decimal = rate.parse().expect("a decimal");
                prop_assert!((Decimal::ZERO..=Decimal::ONE).contains(&v), "{}", v);
            }
        }
    }
}
