//! Pure report arithmetic over the read model: no sqlx, tonic or rdkafka here.
//!
//! The read model keeps, per receivable, its principal as billed and every later change to it
//! (payments, waivers, write-offs, amendments) with the business date it took effect. Every
//! report is a function of those facts and a date, so a report for any past date is the same
//! whenever it is asked (R-O1).

pub mod aging;
pub mod collectors;
pub mod forecast;
pub mod kpi;
pub mod provision;
pub mod recovery;
pub mod rolls;

use chrono::NaiveDate;
use rust_decimal::Decimal;

/// R-C11: the aging buckets, by days past due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Bucket {
    /// Not past due.
    Current,
    /// 1–30 days past due.
    Days1To30,
    /// 31–60.
    Days31To60,
    /// 61–90.
    Days61To90,
    /// 91–180.
    Days91To180,
    /// Over 180.
    Over180,
}

impl Bucket {
    /// Every bucket, youngest first.
    pub const ALL: [Bucket; 6] = [
        Bucket::Current,
        Bucket::Days1To30,
        Bucket::Days31To60,
        Bucket::Days61To90,
        Bucket::Days91To180,
        Bucket::Over180,
    ];

    /// The bucket of an item `days` past due (zero or less: not past due).
    #[must_use]
    pub fn of(days: i64) -> Self {
        match days {
            i64::MIN..=0 => Bucket::Current,
            1..=30 => Bucket::Days1To30,
            31..=60 => Bucket::Days31To60,
            61..=90 => Bucket::Days61To90,
            91..=180 => Bucket::Days91To180,
            _ => Bucket::Over180,
        }
    }

    /// The bucket's name in files and reports.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::Current => "current",
            Bucket::Days1To30 => "1-30",
            Bucket::Days31To60 => "31-60",
            Bucket::Days61To90 => "61-90",
            Bucket::Days91To180 => "91-180",
            Bucket::Over180 => "180+",
        }
    }

    /// Parses [`Bucket::as_str`].
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.as_str() == text)
    }

    /// The next older bucket (the oldest stays).
    #[must_use]
    pub fn next(self) -> Self {
        match self {
            Bucket::Current => Bucket::Days1To30,
            Bucket::Days1To30 => Bucket::Days31To60,
            Bucket::Days31To60 => Bucket::Days61To90,
            Bucket::Days61To90 => Bucket::Days91To180,
            Bucket::Days91To180 | Bucket::Over180 => Bucket::Over180,
        }
    }

    /// Position in [`Bucket::ALL`].
    #[must_use]
    pub fn index(self) -> usize {
        self as usize
    }
}

/// What changed an item's principal after it was billed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MovementKind {
    /// A payment's principal part (contracts' `AllocationApplied`).
    Paid,
    /// Principal waived (`WaiverApproved`).
    Waived,
    /// Principal written off (`WrittenOff`).
    WrittenOff,
    /// The schedule changed by an amendment (`AmendmentApproved`): the item's principal went
    /// up or down, or it left the schedule.
    Amended,
}

impl MovementKind {
    /// The kind's name in the database.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            MovementKind::Paid => "paid",
            MovementKind::Waived => "waived",
            MovementKind::WrittenOff => "written_off",
            MovementKind::Amended => "amended",
        }
    }

    /// Parses [`MovementKind::as_str`].
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        [
            MovementKind::Paid,
            MovementKind::Waived,
            MovementKind::WrittenOff,
            MovementKind::Amended,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
    }
}

/// A change to an item's principal: negative lowers what is owed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Movement {
    /// The business date it took effect.
    pub on: NaiveDate,
    /// Signed principal change.
    pub principal: Decimal,
    pub kind: MovementKind,
}

/// One receivable as reporting knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub currency: String,
    pub due: NaiveDate,
    /// The business date it became receivable (contract signed, charges billed, amendment).
    pub billed_on: NaiveDate,
    /// The principal as billed.
    pub amount: Decimal,
    pub movements: Vec<Movement>,
}

impl Item {
    /// Open principal at the end of `date` (zero before it was billed).
    #[must_use]
    pub fn balance_at(&self, date: NaiveDate) -> Decimal {
        if self.billed_on > date {
            return Decimal::ZERO;
        }
        self.amount
            + self
                .movements
                .iter()
                .filter(|m| m.on <= date)
                .map(|m| m.principal)
                .sum::<Decimal>()
    }

    /// Days past due at the end of `date` (negative: not yet due).
    #[must_use]
    pub fn days_past_due(&self, date: NaiveDate) -> i64 {
        (date - self.due).num_days()
    }

    /// The bucket the item is in on `date`.
    #[must_use]
    pub fn bucket_at(&self, date: NaiveDate) -> Bucket {
        Bucket::of(self.days_past_due(date))
    }

    /// The principal lowered by movements of `kind` within `from..=to` (positive).
    #[must_use]
    pub fn lowered_by(&self, kind: MovementKind, from: NaiveDate, to: NaiveDate) -> Decimal {
        let lowered = -self
            .movements
            .iter()
            .filter(|m| m.kind == kind && m.on >= from && m.on <= to)
            .map(|m| m.principal)
            .sum::<Decimal>();
        // Nothing lowered is 0, not "-0.00" in a report.
        if lowered.is_zero() {
            Decimal::ZERO
        } else {
            lowered
        }
    }
}

/// `part / whole × 100` with two decimals; `None` when `whole` is zero or less.
#[must_use]
pub fn percent(part: Decimal, whole: Decimal) -> Option<Decimal> {
    if whole <= Decimal::ZERO {
        return None;
    }
    Some(two_places(part * Decimal::ONE_HUNDRED / whole))
}

/// Rounded half away from zero to exactly two decimals ("16.67", "0.00").
#[must_use]
pub fn two_places(value: Decimal) -> Decimal {
    let mut v =
        value.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    v.rescale(2);
    v
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn date(text: &str) -> NaiveDate {
        text.parse().expect("date")
    }

    pub(crate) fn item(due: &str, billed: &str, amount: i64) -> Item {
        Item {
            currency: "CNY".into(),
            due: date(due),
            billed_on: date(billed),
            amount: Decimal::from(amount),
            movements: Vec::new(),
        }
    }

    pub(crate) fn moved(mut item: Item, on: &str, principal: i64, kind: MovementKind) -> Item {
        item.movements.push(Movement {
            on: date(on),
            principal: Decimal::from(principal),
            kind,
        });
        item
    }

    #[test]
    fn buckets_follow_r_c11() {
        assert_eq!(Bucket::of(-5), Bucket::Current);
        assert_eq!(Bucket::of(0), Bucket::Current);
        assert_eq!(Bucket::of(1), Bucket::Days1To30);
        assert_eq!(Bucket::of(30), Bucket::Days1To30);
        assert_eq!(Bucket::of(31), Bucket::Days31To60);
        assert_eq!(Bucket::of(60), Bucket::Days31To60);
        assert_eq!(Bucket::of(61), Bucket::Days61To90);
        assert_eq!(Bucket::of(90), Bucket::Days61To90);
        assert_eq!(Bucket::of(91), Bucket::Days91To180);
        assert_eq!(Bucket::of(180), Bucket::Days91To180);
        assert_eq!(Bucket::of(181), Bucket::Over180);
        for b in Bucket::ALL {
            assert_eq!(Bucket::parse(b.as_str()), Some(b));
            assert_eq!(Bucket::ALL[b.index()], b);
        }
    }

    #[test]
    fn balance_counts_only_what_happened_by_the_date() {
        let it = moved(
            moved(
                item("2026-03-10", "2026-01-01", 1000),
                "2026-03-20",
                -400,
                MovementKind::Paid,
            ),
            "2026-04-01",
            -100,
            MovementKind::Waived,
        );
        assert_eq!(it.balance_at(date("2025-12-31")), Decimal::ZERO);
        assert_eq!(it.balance_at(date("2026-03-19")), Decimal::from(1000));
        assert_eq!(it.balance_at(date("2026-03-20")), Decimal::from(600));
        assert_eq!(it.balance_at(date("2026-04-01")), Decimal::from(500));
        assert_eq!(
            it.lowered_by(MovementKind::Paid, date("2026-03-01"), date("2026-03-31")),
            Decimal::from(400)
        );
        let none = it.lowered_by(
            MovementKind::WrittenOff,
            date("2026-03-01"),
            date("2026-03-31"),
        );
        assert!(none.is_zero() && none.is_sign_positive(), "{none}");
        assert_eq!(it.bucket_at(date("2026-04-09")), Bucket::Days1To30);
        assert_eq!(it.bucket_at(date("2026-04-10")), Bucket::Days31To60);
    }

    #[test]
    fn percent_rounds_half_away_and_refuses_an_empty_whole() {
        assert_eq!(
            percent(Decimal::from(1), Decimal::from(3)),
            Some("33.33".parse().expect("d"))
        );
        assert_eq!(
            percent(Decimal::from(2), Decimal::from(3)),
            Some("66.67".parse().expect("d"))
        );
        assert_eq!(percent(Decimal::from(2), Decimal::ZERO), None);
        assert_eq!(
            percent(Decimal::ZERO, Decimal::from(7))
                .expect("0")
                .to_string(),
            "0.00"
        );
        assert_eq!(two_places(Decimal::from(90)).to_string(), "90.00");
    }
}
