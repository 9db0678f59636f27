//! Per-collector KPIs (R-O1, R-O7, R-D11): for each owner of customers (R-C9), what was
//! collected on their customers' receivables, their CEI, promises made, kept and broken, the
//! demands that reached their debtors and the dunning cases worked.
//!
//! Everything a customer has counts for the customer's owner now (reassigning a customer
//! moves its history to the new owner, as dunning's KPIs do).

use std::collections::BTreeSet;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{Item, kpi, percent};

/// A promise to pay as reporting knows it (R-D5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Promise {
    pub customer: Uuid,
    pub currency: String,
    pub amount: Decimal,
    pub promised: NaiveDate,
    /// When it was made (`None`: made before reporting followed dunning).
    pub made_on: Option<NaiveDate>,
    /// When it was judged, and whether it was kept.
    pub judged: Option<(NaiveDate, bool)>,
    /// Paid towards it, as judged.
    pub paid: Option<Decimal>,
}

impl Promise {
    /// Whether it was made and not yet judged at the end of `date`.
    #[must_use]
    pub fn open_at(&self, date: NaiveDate) -> bool {
        self.made_on.is_some_and(|m| m <= date) && self.judged.is_none_or(|(j, _)| j > date)
    }
}

/// What one collector's customers have, in one currency.
#[derive(Debug, Default)]
pub struct Portfolio<'a> {
    pub items: Vec<&'a Item>,
    pub customers: BTreeSet<Uuid>,
    pub promises: Vec<&'a Promise>,
    /// Days demands reached their debtors (R-D4).
    pub contacts: Vec<NaiveDate>,
    /// Dunning steps taken: their case (if any) and day.
    pub steps: Vec<(Option<Uuid>, NaiveDate)>,
}

/// One collector's figures over a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectorKpis {
    pub customers: u32,
    pub collected: Decimal,
    pub opening: Decimal,
    pub sales: Decimal,
    pub closing: Decimal,
    pub closing_current: Decimal,
    pub cei: Option<Decimal>,
    pub promises_made: u32,
    pub promises_kept: u32,
    pub promises_broken: u32,
    pub promise_kept_rate: Option<Decimal>,
    pub contacts: u32,
    pub cases: u32,
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The figures of `portfolio` (items of `currency` only) over `from..=to`.
#[must_use]
pub fn collector_kpis(
    portfolio: &Portfolio<'_>,
    currency: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> CollectorKpis {
    let within = |d: NaiveDate| d >= from && d <= to;
    let k = kpi::kpis(
        portfolio
            .items
            .iter()
            .copied()
            .filter(|i| i.currency == currency),
        from,
        to,
    )
    .into_iter()
    .next();
    let zero = Decimal::ZERO;
    let promises: Vec<&&Promise> = portfolio
        .promises
        .iter()
        .filter(|p| p.currency == currency)
        .collect();
    let made = promises
        .iter()
        .filter(|p| p.made_on.is_some_and(within))
        .count();
    let kept = promises
        .iter()
        .filter(|p| matches!(p.judged, Some((d, true)) if within(d)))
        .count();
    let broken = promises
        .iter()
        .filter(|p| matches!(p.judged, Some((d, false)) if within(d)))
        .count();
    let cases: BTreeSet<Option<Uuid>> = portfolio
        .steps
        .iter()
        .filter(|(_, d)| within(*d))
        .map(|(c, _)| *c)
        .collect();
    CollectorKpis {
        customers: count(portfolio.customers.len()),
        collected: k.as_ref().map_or(zero, |k| k.collected),
        opening: k.as_ref().map_or(zero, |k| k.opening),
        sales: k.as_ref().map_or(zero, |k| k.sales),
        closing: k.as_ref().map_or(zero, |k| k.closing),
        closing_current: k.as_ref().map_or(zero, |k| k.closing_current),
        cei: k.as_ref().and_then(|k| k.cei),
        promises_made: count(made),
        promises_kept: count(kept),
        promises_broken: count(broken),
        promise_kept_rate: percent(Decimal::from(kept), Decimal::from(kept + broken)),
        contacts: count(portfolio.contacts.iter().filter(|d| within(**d)).count()),
        cases: count(cases.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::MovementKind;
    use crate::domain::tests::{date, item, moved};

    fn promise(made: &str, judged: Option<(&str, bool)>) -> Promise {
        Promise {
            customer: Uuid::from_u128(1),
            currency: "CNY".into(),
            amount: Decimal::from(100),
            promised: date("2026-03-20"),
            made_on: Some(date(made)),
            judged: judged.map(|(d, k)| (date(d), k)),
            paid: None,
        }
    }

    // R-O7 per collector, by hand: opening 1,000 (due in February), 2,000 billed and due in
    // March, 600 paid in March; closing 2,400, current 0 (all past due on 31 March):
    // CEI = (1,000 + 2,000 − 2,400) / (1,000 + 2,000 − 0) = 20.00 %. Three promises made in
    // March, one kept and one broken in March: kept rate 50.00 %.
    #[test]
    fn one_collectors_figures_r_o7() {
        let a = moved(
            item("2026-02-10", "2026-01-05", 1000),
            "2026-03-15",
            -600,
            MovementKind::Paid,
        );
        let b = item("2026-03-10", "2026-03-01", 2000);
        let usd = item("2026-03-10", "2026-03-01", 99);
        let usd = Item {
            currency: "USD".into(),
            ..usd
        };
        let promises = [
            promise("2026-03-02", Some(("2026-03-25", true))),
            promise("2026-03-05", Some(("2026-03-28", false))),
            promise("2026-03-30", None),
            promise("2026-02-01", Some(("2026-02-20", true))),
        ];
        let portfolio = Portfolio {
            items: vec![&a, &b, &usd],
            customers: [Uuid::from_u128(1)].into_iter().collect(),
            promises: promises.iter().collect(),
            contacts: vec![date("2026-03-03"), date("2026-03-04"), date("2026-02-27")],
            steps: vec![
                (Some(Uuid::from_u128(9)), date("2026-03-03")),
                (Some(Uuid::from_u128(9)), date("2026-03-10")),
            ],
        };
        let k = collector_kpis(&portfolio, "CNY", date("2026-03-01"), date("2026-03-31"));
        assert_eq!(k.collected, Decimal::from(600));
        assert_eq!(k.opening, Decimal::from(1000));
        assert_eq!(k.sales, Decimal::from(2000));
        assert_eq!(k.closing, Decimal::from(2400));
        assert_eq!(k.cei, Some("20.00".parse().expect("d")));
        assert_eq!(
            (k.promises_made, k.promises_kept, k.promises_broken),
            (3, 1, 1)
        );
        assert_eq!(k.promise_kept_rate, Some("50.00".parse().expect("d")));
        assert_eq!((k.contacts, k.cases, k.customers), (2, 1, 1));
    }

    #[test]
    fn a_promise_is_open_from_the_day_it_was_made_until_judged() {
        let p = promise("2026-03-02", Some(("2026-03-25", true)));
        assert!(!p.open_at(date("2026-03-01")));
        assert!(p.open_at(date("2026-03-02")));
        assert!(p.open_at(date("2026-03-24")));
        assert!(!p.open_at(date("2026-03-25")));
    }
}
