//! One batch being reconciled: the ledger as it is, plus what the batch has applied and seen
//! so far (an overlay, so [`super::Ledger::reconcile`] does not change the ledger).

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::Ledger;
use super::seen::SeenLog;
use crate::decision::{Decision, Outcome};
use crate::model::Payment;

/// An earlier payment with the same duplicate key.
#[derive(Debug, Clone)]
pub(crate) struct Earlier {
    pub(crate) date: NaiveDate,
    pub(crate) id: String,
    pub(crate) outcome: Outcome,
}

/// Ledger view for one batch.
pub(crate) struct Batch<'a> {
    pub(crate) ledger: &'a Ledger,
    /// Per item: 0 untouched, else 1 + its index in `states` (a flat array, not a map: the
    /// hot path reads it for every receivable it considers).
    touched: Vec<u32>,
    states: Vec<(Decimal, u16)>,
    seen: SeenLog<&'a str>,
    /// Reused candidate buffer (a fresh vector of these large records per payment costs
    /// more than the scoring itself).
    scored: Vec<super::score::Scored>,
}

impl<'a> Batch<'a> {
    pub(crate) fn new(ledger: &'a Ledger, payments: usize) -> Self {
        Self {
            ledger,
            touched: vec![0; ledger.items.len()],
            states: Vec::with_capacity(payments),
            seen: SeenLog::with_capacity(payments),
            scored: Vec::with_capacity(16),
        }
    }

    fn state(&self, item: u32) -> Option<&(Decimal, u16)> {
        let at = *self.touched.get(item as usize)?;
        self.states.get(at.checked_sub(1)? as usize)
    }

    /// Open amount of an item as of this point of the batch.
    pub(crate) fn open(&self, item: u32) -> Decimal {
        match self.state(item) {
            Some((open, _)) => *open,
            None => self
                .ledger
                .items
                .get(item as usize)
                .map_or(Decimal::ZERO, |i| i.open),
        }
    }

    /// Payments applied to an item so far.
    pub(crate) fn payments(&self, item: u32) -> u16 {
        match self.state(item) {
            Some((_, n)) => *n,
            None => self
                .ledger
                .items
                .get(item as usize)
                .map_or(0, |i| i.payments),
        }
    }

    /// Decide one payment and take its effect into the batch.
    pub(crate) fn decide(&mut self, p: &'a Payment) -> Decision {
        let mut scored = std::mem::take(&mut self.scored);
        let d = super::decide::decide(self, p, &mut scored);
        scored.clear();
        self.scored = scored;
        self.commit(p, &d);
        d
    }

    /// How an earlier payment with the same id was decided, if any (R-P2: the same bank line
    /// twice never counts twice).
    pub(crate) fn seen_id(&self, id: &str) -> Option<Outcome> {
        self.seen.id(id).or_else(|| {
            if self.ledger.seen.is_empty() {
                None
            } else {
                self.ledger.seen.id(id)
            }
        })
    }

    /// The latest earlier payment with the same duplicate key within `days` of `date`.
    pub(crate) fn seen_key(&self, key: u64, date: NaiveDate, days: u16) -> Option<Earlier> {
        let window = i64::from(days);
        let near = |d: NaiveDate| (date - d).num_days().abs() <= window;
        let earlier = |date, id: &str, outcome| Earlier {
            date,
            id: id.to_string(),
            outcome,
        };
        self.seen
            .with_key(key)
            .find(|s| near(s.date))
            .map(|s| earlier(s.date, s.id, s.outcome))
            .or_else(|| {
                self.ledger
                    .seen
                    .with_key(key)
                    .find(|s| near(s.date))
                    .map(|s| earlier(s.date, &s.id, s.outcome))
            })
    }

    fn commit(&mut self, p: &'a Payment, d: &Decision) {
        self.seen.record(p.id.as_str(), d.dedup, d.date, d.outcome);
        if d.outcome != Outcome::Applied {
            return;
        }
        for a in &d.allocations {
            let mut take = a.amount;
            if let Some(w) = &d.write_off
                && !w.needs_approval
                && w.receivable_id == a.receivable_id
            {
                take += w.amount;
            }
            let (open, n) = (self.open(a.item), self.payments(a.item));
            let state = ((open - take).max(Decimal::ZERO), n.saturating_add(1));
            let Some(slot) = self.touched.get_mut(a.item as usize) else {
                continue;
            };
            match slot
                .checked_sub(1)
                .and_then(|i| self.states.get_mut(i as usize))
            {
                Some(s) => *s = state,
                None => {
                    self.states.push(state);
                    *slot = u32::try_from(self.states.len()).unwrap_or(u32::MAX);
                }
            }
        }
    }
}
