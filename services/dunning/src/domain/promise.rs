//! Promises to pay (R-D5): when a debtor promises an amount by a date, dunning waits until
//! then — plus grace days — and checks. The promise is kept once the payments applied since
//! it was made reach the threshold share of the promised amount by the promised date plus the
//! grace days, and broken when that day has passed without it. Pure: the service and the
//! backtest judge the same way.

use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;

/// What was promised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terms {
    /// The amount promised.
    pub amount: Decimal,
    /// The date promised.
    pub due: NaiveDate,
    /// Days after `due` that still count (R-D5: a payment a day or two late keeps it).
    pub grace_days: u32,
    /// The share of `amount` that counts as kept, in (0, 1] (e.g. 0.95).
    pub threshold: Decimal,
}

/// The judgement on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Not yet kept, and the last day has not passed.
    Open,
    /// Kept on the day the payments reached the threshold.
    Kept {
        /// That day.
        on: NaiveDate,
    },
    /// The last day passed without the threshold reached.
    Broken {
        /// The first day after the last one.
        on: NaiveDate,
    },
}

/// Why terms cannot be taken, naming the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermsError {
    /// The request field.
    pub field: &'static str,
    /// Why, and what is expected.
    pub reason: String,
}

impl Terms {
    /// The last day a payment counts.
    #[must_use]
    pub fn last_day(&self) -> NaiveDate {
        self.due
            .checked_add_days(Days::new(u64::from(self.grace_days)))
            .unwrap_or(NaiveDate::MAX)
    }

    /// What must be paid for the promise to be kept (rounded up to the fen).
    #[must_use]
    pub fn needed(&self) -> Decimal {
        (self.amount * self.threshold)
            .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::AwayFromZero)
    }

    /// Checks terms made on `today`.
    ///
    /// # Errors
    /// The first field that is not acceptable.
    pub fn check(&self, today: NaiveDate) -> Result<(), TermsError> {
        if self.amount <= Decimal::ZERO || self.amount.scale() > 2 {
            return Err(TermsError {
                field: "amount",
                reason: format!(
                    "{} is not an amount to promise: give a positive amount with at most two decimals",
                    self.amount
                ),
            });
        }
        if self.due < today {
            return Err(TermsError {
                field: "promised_date",
                reason: format!(
                    "{} is before today's business date {today}: a promise is for today or later",
                    self.due
                ),
            });
        }
        if self.grace_days > 30 {
            return Err(TermsError {
                field: "grace_days",
                reason: format!("{} is more than 30 days", self.grace_days),
            });
        }
        if self.threshold <= Decimal::ZERO || self.threshold > Decimal::ONE {
            return Err(TermsError {
                field: "threshold_percent",
                reason: "give a share between 1 and 100 percent".to_owned(),
            });
        }
        Ok(())
    }
}

/// The promise on `today`, given the payments applied since it was made (booking date,
/// amount), in any order.
#[must_use]
pub fn judge(terms: &Terms, payments: &[(NaiveDate, Decimal)], today: NaiveDate) -> Verdict {
    let last = terms.last_day();
    let needed = terms.needed();
    let mut counted: Vec<(NaiveDate, Decimal)> = payments
        .iter()
        .copied()
        .filter(|(on, _)| *on <= last && *on <= today)
        .collect();
    counted.sort_by_key(|(on, _)| *on);
    let mut paid = Decimal::ZERO;
    for (on, amount) in counted {
        paid += amount;
        if paid >= needed {
            return Verdict::Kept { on };
        }
    }
    if today > last {
        Verdict::Broken {
            on: last.succ_opt().unwrap_or(last),
        }
    } else {
        Verdict::Open
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap_or_default()
    }

    /// R-D5's example: 5,000.00 by 25 March, 95 %, 2 grace days.
    fn terms() -> Terms {
        Terms {
            amount: Decimal::new(500_000, 2),
            due: d(3, 25),
            grace_days: 2,
            threshold: Decimal::new(95, 2),
        }
    }

    #[test]
    fn kept_by_4800_on_the_grace_day_broken_by_4000_r_d5() {
        let t = terms();
        assert_eq!(t.needed(), Decimal::new(475_000, 2));
        let kept = [(d(3, 27), Decimal::new(480_000, 2))];
        assert_eq!(judge(&t, &kept, d(3, 27)), Verdict::Kept { on: d(3, 27) });
        assert_eq!(judge(&t, &kept, d(4, 30)), Verdict::Kept { on: d(3, 27) });
        let short = [(d(3, 26), Decimal::new(400_000, 2))];
        assert_eq!(judge(&t, &short, d(3, 27)), Verdict::Open);
        assert_eq!(
            judge(&t, &short, d(3, 28)),
            Verdict::Broken { on: d(3, 28) }
        );
        // A payment after the last day does not keep it.
        let late = [(d(3, 28), Decimal::new(500_000, 2))];
        assert_eq!(judge(&t, &late, d(3, 28)), Verdict::Broken { on: d(3, 28) });
        // Instalments add up; the day the threshold is reached is the day it was kept.
        let two = [
            (d(3, 24), Decimal::new(300_000, 2)),
            (d(3, 20), Decimal::new(175_000, 2)),
        ];
        assert_eq!(judge(&t, &two, d(3, 24)), Verdict::Kept { on: d(3, 24) });
    }

    #[test]
    fn bad_terms_name_the_field() {
        let today = d(3, 18);
        let bad = |f: fn(&mut Terms)| {
            let mut t = terms();
            f(&mut t);
            t.check(today).map_err(|e| e.field)
        };
        assert_eq!(bad(|_| {}), Ok(()));
        assert_eq!(bad(|t| t.amount = Decimal::ZERO), Err("amount"));
        assert_eq!(bad(|t| t.amount = Decimal::new(1, 3)), Err("amount"));
        assert_eq!(bad(|t| t.due = d(3, 17)), Err("promised_date"));
        assert_eq!(bad(|t| t.grace_days = 31), Err("grace_days"));
        assert_eq!(
            bad(|t| t.threshold = Decimal::new(101, 2)),
            Err("threshold_percent")
        );
    }

    proptest! {
        /// Paying the whole amount by the last day always keeps it; nothing paid always
        /// breaks it once the last day has passed; the verdict never changes after that day.
        #[test]
        fn judgement_is_final_after_the_last_day(
            cents in 1i64..10_000_000,
            grace in 0u32..10,
            pct in 1i64..=100,
            pay_day in 0u64..40,
            extra in 0u64..60,
        ) {
            let t = Terms {
                amount: Decimal::new(cents, 2),
                due: d(3, 1),
                grace_days: grace,
                threshold: Decimal::new(pct, 2),
            };
            let on = d(3, 1).checked_add_days(Days::new(pay_day)).unwrap_or(d(3, 1));
            let full = [(on, t.amount)];
            let after = t.last_day().checked_add_days(Days::new(extra + 1)).unwrap_or(d(12, 31));
            let verdict = judge(&t, &full, after);
            if on <= t.last_day() {
                prop_assert_eq!(verdict, Verdict::Kept { on });
            } else {
                let broken = matches!(verdict, Verdict::Broken { .. });
                prop_assert!(broken, "{:?}", verdict);
            }
            let nothing_paid = matches!(judge(&t, &[], after), Verdict::Broken { .. });
            prop_assert!(nothing_paid);
            let later = after.checked_add_days(Days::new(30)).unwrap_or(after);
            prop_assert_eq!(judge(&t, &full, later), verdict);
        }
    }
}
