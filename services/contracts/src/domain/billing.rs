//! Property-management billing (R-C2, R-C3; issue 12 item 2): units by segment and
//! occupancy, the recurring charge terms of a unit, and what one month bills.
//!
//! A term says how one charge type is billed from a month on: a fixed monthly amount or a
//! rate per m² of the unit's area, with the share billed while the unit is vacant (a common
//! practice is 70 %) kept as data on the term, not as a rule in code. The monthly run bills
//! each unit, charge type and period at most once ([`ChargeKey`]).

use chrono::{Datelike, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};

use super::schedule::ChargeType;

/// What kind of property a unit is (R-C3); drives the dunning strategy (R-D7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Segment {
    /// A flat or house lived in.
    Residential,
    /// A shop.
    Commercial,
    /// A villa.
    Villa,
    /// A parking space.
    Parking,
}

impl Segment {
    /// Every segment.
    pub const ALL: [Segment; 4] = [
        Self::Residential,
        Self::Commercial,
        Self::Villa,
        Self::Parking,
    ];

    /// The name stored.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Residential => "residential",
            Self::Commercial => "commercial",
            Self::Villa => "villa",
            Self::Parking => "parking",
        }
    }

    /// The inverse of [`as_str`](Self::as_str).
    #[must_use]
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

/// Whether a unit is lived in (R-C3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Occupancy {
    /// Bought, not decorated, not occupied.
    Vacant,
    /// Lived in or used.
    Occupied,
}

impl Occupancy {
    /// The name stored.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Vacant => "vacant",
            Self::Occupied => "occupied",
        }
    }

    /// The inverse of [`as_str`](Self::as_str).
    #[must_use]
    pub fn parse(value: &str) -> Option<Self> {
        [Self::Vacant, Self::Occupied]
            .into_iter()
            .find(|o| o.as_str() == value)
    }
}

/// The charge types a unit is billed for (R-C2): everything but the purchase price.
#[must_use]
pub fn is_unit_charge(charge: ChargeType) -> bool {
    charge != ChargeType::PurchasePrice
}

/// The charge types read from meters.
#[must_use]
pub fn is_metered(charge: ChargeType) -> bool {
    matches!(
        charge,
        ChargeType::Water | ChargeType::Electricity | ChargeType::Gas
    )
}

/// A billing month, "YYYY-MM".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period(NaiveDate);

impl Period {
    /// Parses "YYYY-MM".
    ///
    /// # Errors
    /// What is wrong with the text.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let wrong = || format!("{text:?} is not a month like 2026-11");
        let (year, month) = text.split_once('-').ok_or_else(wrong)?;
        if year.len() != 4 || month.len() != 2 {
            return Err(wrong());
        }
        let year: i32 = year.parse().map_err(|_| wrong())?;
        let month: u32 = month.parse().map_err(|_| wrong())?;
        NaiveDate::from_ymd_opt(year, month, 1)
            .filter(|_| year >= 2000)
            .map(Self)
            .ok_or_else(wrong)
    }

    /// The period of a stored first day.
    #[must_use]
    pub fn of(first_day: NaiveDate) -> Self {
        Self(first_day.with_day(1).unwrap_or(first_day))
    }

    /// Its first day (how it is stored).
    #[must_use]
    pub fn first_day(self) -> NaiveDate {
        self.0
    }

    /// The charges' due date: `day` of the following month, at most its last day.
    #[must_use]
    pub fn due_date(self, day: u32) -> NaiveDate {
        let next = self
            .0
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(self.0);
        let last = next
            .checked_add_months(chrono::Months::new(1))
            .and_then(|d| d.pred_opt())
            .map_or(28, |d| d.day());
        next.with_day(day.clamp(1, last)).unwrap_or(next)
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.0.year(), self.0.month())
    }
}

/// How a term bills a month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// This amount every month.
    Monthly(Decimal),
    /// This rate per m² of the unit's area (R-C2: management fee × area).
    PerSquareMetre(Decimal),
}

/// One charge type's term for a unit, from a month on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Term {
    /// What it bills.
    pub charge_type: ChargeType,
    /// How much.
    pub basis: Basis,
    /// The share billed while the unit is vacant (0 < f ≤ 1); 1 when nothing is reduced.
    pub vacant_factor: Decimal,
    /// The first month it applies to.
    pub effective_from: Period,
}

impl Term {
    /// Checks a term as given.
    ///
    /// # Errors
    /// The field and what is wrong with it.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        if !is_unit_charge(self.charge_type) {
            return Err((
                "charge_type",
                "a unit is billed management fee, maintenance fund, water, electricity or gas"
                    .to_owned(),
            ));
        }
        let (field, value) = match self.basis {
            Basis::Monthly(a) => ("monthly_amount", a),
            Basis::PerSquareMetre(r) => ("rate_per_m2", r),
        };
        if value <= Decimal::ZERO {
            return Err((field, format!("{value} must be greater than zero")));
        }
        if self.vacant_factor <= Decimal::ZERO || self.vacant_factor > Decimal::ONE {
            return Err((
                "vacant_factor",
                format!(
                    "{} must be above 0 and at most 1 (e.g. 0.7 bills 70 % while vacant)",
                    self.vacant_factor
                ),
            ));
        }
        Ok(())
    }
}

/// The term of `charge_type` in force in `period`: the one with the latest start not after it.
#[must_use]
pub fn term_in_force(terms: &[Term], charge_type: ChargeType, period: Period) -> Option<&Term> {
    terms
        .iter()
        .filter(|t| t.charge_type == charge_type && t.effective_from <= period)
        .max_by_key(|t| t.effective_from)
}

/// What `term` bills for one month of a unit of `area` m² in `occupancy`, rounded half away
/// from zero (四舍五入) to `unit` (0.01 for fen) once, at the end: rate × area × the vacant
/// factor, or the monthly amount × the vacant factor. `None` when it overflows.
#[must_use]
pub fn monthly_charge(
    term: &Term,
    area: Decimal,
    occupancy: Occupancy,
    unit: Decimal,
) -> Option<Decimal> {
    let base = match term.basis {
        Basis::Monthly(amount) => amount,
        Basis::PerSquareMetre(rate) => rate.checked_mul(area)?,
    };
    let factor = match occupancy {
        Occupancy::Vacant => term.vacant_factor,
        Occupancy::Occupied => Decimal::ONE,
    };
    let amount = base.checked_mul(factor)?;
    Some(amount.round_dp_with_strategy(unit.scale(), RoundingStrategy::MidpointAwayFromZero))
}

/// What makes a charge unique: a unit is billed a charge type once per period (the
/// receivables table's UNIQUE constraint holds the same three).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChargeKey {
    /// The unit billed.
    pub unit: uuid::Uuid,
    /// What for.
    pub charge_type: ChargeType,
    /// Which month.
    pub period: Period,
}

impl std::fmt::Display for ChargeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}/{}/{}",
            self.unit,
            self.charge_type.as_str(),
            self.period
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const FEN: Decimal = Decimal::from_parts(1, 0, 0, false, 2);

    fn d(text: &str) -> Decimal {
        text.parse().expect("a decimal")
    }

    fn period(text: &str) -> Period {
        Period::parse(text).expect("a period")
    }

    fn fee(rate: &str, vacant: &str, from: &str) -> Term {
        Term {
            charge_type: ChargeType::ManagementFee,
            basis: Basis::PerSquareMetre(d(rate)),
            vacant_factor: d(vacant),
            effective_from: period(from),
        }
    }

    #[test]
    fn periods_parse_and_fall_due_in_the_following_month() {
        assert_eq!(period("2026-11").to_string(), "2026-11");
        assert_eq!(period("2026-11").due_date(15).to_string(), "2026-12-15");
        assert_eq!(period("2026-12").due_date(15).to_string(), "2027-01-15");
        // A day beyond the month's end is its last day.
        assert_eq!(period("2027-01").due_date(31).to_string(), "2027-02-28");
        for bad in [
            "2026-13",
            "2026-1",
            "26-11",
            "2026/11",
            "",
            "2026-11-01",
            "1999-01",
        ] {
            assert!(Period::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Period::of(d2("2026-11-01")), period("2026-11"));
    }

    fn d2(text: &str) -> NaiveDate {
        text.parse().expect("a date")
    }

    #[test]
    fn management_fee_is_rate_times_area_rounded_to_the_fen() {
        // R-C2: 2.35 yuan/m² × 89.37 m² = 210.0195 → 210.02.
        let term = fee("2.35", "1", "2026-01");
        assert_eq!(
            monthly_charge(&term, d("89.37"), Occupancy::Occupied, FEN),
            Some(d("210.02"))
        );
        // Half a fen rounds up (四舍五入): 1.5 × 0.33 = 0.495 → 0.50.
        let term = fee("1.5", "1", "2026-01");
        assert_eq!(
            monthly_charge(&term, d("0.33"), Occupancy::Occupied, FEN),
            Some(d("0.50"))
        );
    }

    #[test]
    fn a_vacant_unit_pays_the_terms_reduced_share() {
        let term = fee("2.00", "0.7", "2026-01");
        assert_eq!(
            monthly_charge(&term, d("100"), Occupancy::Vacant, FEN),
            Some(d("140.00"))
        );
        assert_eq!(
            monthly_charge(&term, d("100"), Occupancy::Occupied, FEN),
            Some(d("200.00"))
        );
        let fund = Term {
            charge_type: ChargeType::MaintenanceFund,
            basis: Basis::Monthly(d("50")),
            vacant_factor: Decimal::ONE,
            effective_from: period("2026-01"),
        };
        assert_eq!(
            monthly_charge(&fund, d("100"), Occupancy::Vacant, FEN),
            Some(d("50.00"))
        );
    }

    #[test]
    fn the_latest_term_not_after_the_period_is_in_force() {
        let terms = [
            fee("2.00", "1", "2026-01"),
            fee("2.50", "1", "2026-07"),
            fee("3.00", "1", "2027-01"),
        ];
        let fee_in = |p| term_in_force(&terms, ChargeType::ManagementFee, period(p));
        assert_eq!(fee_in("2025-12"), None);
        assert_eq!(fee_in("2026-06").map(|t| t.basis), Some(terms[0].basis));
        assert_eq!(fee_in("2026-11").map(|t| t.basis), Some(terms[1].basis));
        assert_eq!(fee_in("2027-03").map(|t| t.basis), Some(terms[2].basis));
        assert_eq!(
            term_in_force(&terms, ChargeType::Water, period("2026-11")),
            None
        );
    }

    #[test]
    fn terms_are_checked() {
        assert!(fee("2", "0.7", "2026-01").check().is_ok());
        assert_eq!(
            fee("0", "1", "2026-01").check().map_err(|e| e.0),
            Err("rate_per_m2")
        );
        assert_eq!(
            fee("2", "0", "2026-01").check().map_err(|e| e.0),
            Err("vacant_factor")
        );
        assert_eq!(
            fee("2", "1.1", "2026-01").check().map_err(|e| e.0),
            Err("vacant_factor")
        );
        let mut price = fee("2", "1", "2026-01");
        price.charge_type = ChargeType::PurchasePrice;
        assert_eq!(price.check().map_err(|e| e.0), Err("charge_type"));
        for s in Segment::ALL {
            assert_eq!(Segment::parse(s.as_str()), Some(s));
        }
        for o in [Occupancy::Vacant, Occupancy::Occupied] {
            assert_eq!(Occupancy::parse(o.as_str()), Some(o));
        }
    }

    proptest! {
        /// R-C2: the charge is rate × area to the fen: never more than half a fen away from
        /// the exact product, and exactly in fen.
        #[test]
        fn charge_is_the_exact_product_to_half_a_fen(
            rate in 1u32..100_000, area in 1u32..10_000_000, factor in 1u32..=100,
        ) {
            let rate = Decimal::new(i64::from(rate), 2);
            let area = Decimal::new(i64::from(area), 2);
            let factor = Decimal::new(i64::from(factor), 2);
            let term = Term { vacant_factor: factor, ..fee("1", "1", "2026-01") };
            let term = Term { basis: Basis::PerSquareMetre(rate), ..term };
            let occupied = monthly_charge(&term, area, Occupancy::Occupied, FEN).unwrap();
            prop_assert!((occupied - rate * area).abs() <= d("0.005"));
            prop_assert!(occupied.scale() <= 2);
            // R-C3: a vacant unit never pays more than an occupied one.
            let vacant = monthly_charge(&term, area, Occupancy::Vacant, FEN).unwrap();
            prop_assert!(vacant <= occupied);
            prop_assert!((vacant - rate * area * factor).abs() <= d("0.005"));
        }

        /// The idempotency key differs whenever unit, charge type or period differs.
        #[test]
        fn the_charge_key_tells_unit_type_and_period_apart(
            a in any::<u128>(), b in any::<u128>(), m in 1u32..=12, n in 1u32..=12,
        ) {
            let key = |u: u128, c, m: u32| ChargeKey {
                unit: uuid::Uuid::from_u128(u),
                charge_type: c,
                period: Period::of(NaiveDate::from_ymd_opt(2026, m, 1).unwrap()),
            };
            let same = a == b && m == n;
            prop_assert_eq!(key(a, ChargeType::Water, m) == key(b, ChargeType::Water, n), same);
            prop_assert_eq!(key(a, ChargeType::Water, m).to_string() == key(b, ChargeType::Water, n).to_string(), same);
            prop_assert_ne!(key(a, ChargeType::Water, m), key(a, ChargeType::Gas, m));
        }
    }
}
