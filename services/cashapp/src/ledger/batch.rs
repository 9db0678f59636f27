//! One batch being reconciled: the ledger as it is, plus what the batch has applied and seen
//! so far (an overlay, so [`super::Ledger::reconcile`] does not change the ledger).
//!
//! Duplicates within the batch are found without a table of every payment: payments are
//! decided in canonical order (date first), so the same id is found by sorting the ids once,
//! and a payment with the same duplicate key can only matter within the duplicate window —
//! two small tables of the latest payment per key, for the current and the previous window
//! of dates, hold every earlier payment that can still be near.

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

use super::Ledger;
use crate::decision::{Decision, Outcome};
use crate::index::U64Map;
use crate::model::Payment;
use crate::text::hash64;

/// An earlier payment with the same duplicate key.
#[derive(Debug, Clone)]
pub(crate) struct Earlier {
    pub(crate) date: NaiveDate,
    pub(crate) id: String,
    pub(crate) outcome: Outcome,
}

const NONE: u32 = u32::MAX;

/// An item's state as changed by the batch.
#[derive(Debug, Clone, Copy, Default)]
struct Overlay {
    open: Decimal,
    payments: u16,
    /// False: unchanged, the ledger's state holds.
    set: bool,
}

/// Ledger view for one batch.
pub(crate) struct Batch<'a> {
    pub(crate) ledger: &'a Ledger,
    /// Per item: its open amount and payments applied so far if the batch changed them (a
    /// flat array indexed like the ledger's items, not a map: the hot path reads it for
    /// every receivable it considers, one cache line for a contract's receivables).
    overlay: Vec<Overlay>,
    /// The payments, in the order they are decided.
    order: &'a [&'a Payment],
    /// Per position: the first earlier position with the same payment id (`NONE`: none).
    first_of: Vec<u32>,
    /// Per position decided so far: its outcome.
    outcomes: Vec<Outcome>,
    /// Duplicate key → latest position with it, for the payments dated in epoch `epoch`
    /// (`recent[0]`) and `epoch - 1` (`recent[1]`); an epoch is `window` days.
    recent: [U64Map; 2],
    epoch: Option<i64>,
    window: i64,
    /// Reused candidate buffer (a fresh vector of these large records per payment costs
    /// more than the scoring itself).
    scored: Vec<super::score::Scored>,
}

/// Days since the common era (an ordinal to cut dates into epochs).
fn day(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce())
}

impl<'a> Batch<'a> {
    /// A batch deciding `order`, in that order.
    pub(crate) fn new(ledger: &'a Ledger, order: &'a [&'a Payment]) -> Self {
        // The same id twice: sort (id hash, position) once; each later position of a run
        // points to the first (as a table of ids would, keyed by the same hash).
        let mut ids: Vec<(u64, u32)> = order
            .iter()
            .zip(0u32..)
            .map(|(p, k)| (hash64(p.id.as_bytes()), k))
            .collect();
        ids.sort_unstable();
        let mut first_of = vec![NONE; order.len()];
        for run in ids.chunk_by(|a, b| a.0 == b.0) {
            let first = run.first().map_or(NONE, |r| r.1);
            for &(_, k) in run.iter().skip(1) {
                if let Some(slot) = first_of.get_mut(k as usize) {
                    *slot = first;
                }
            }
        }
        Self {
            ledger,
            overlay: vec![Overlay::default(); ledger.items.len()],
            order,
            first_of,
            outcomes: Vec::with_capacity(order.len()),
            recent: [U64Map::with_capacity(1024), U64Map::with_capacity(1024)],
            epoch: None,
            window: i64::from(ledger.policy.duplicate_window_days.max(1)),
            scored: Vec::with_capacity(16),
        }
    }

    fn state(&self, item: u32) -> Option<(Decimal, u16)> {
        self.overlay
            .get(item as usize)
            .filter(|o| o.set)
            .map(|o| (o.open, o.payments))
    }

    /// Open amount of an item as of this point of the batch.
    pub(crate) fn open(&self, item: u32) -> Decimal {
        match self.state(item) {
            Some((open, _)) => open,
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
            Some((_, n)) => n,
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
        self.commit(&d);
        d
    }

    /// How an earlier payment with the same id as the one being decided was decided, if any
    /// (R-P2: the same bank line twice never counts twice).
    pub(crate) fn seen_id(&self, id: &str) -> Option<Outcome> {
        let k = self.outcomes.len();
        let first = self.first_of.get(k).copied().unwrap_or(NONE);
        debug_assert!(self.order.get(k).is_some_and(|p| p.id == id));
        self.outcomes.get(first as usize).copied().or_else(|| {
            if self.ledger.seen.is_empty() {
                None
            } else {
                self.ledger.seen.id(id)
            }
        })
    }

    /// The latest earlier payment with the same duplicate key within the duplicate window of
    /// `date`.
    pub(crate) fn seen_key(&self, key: u64, date: NaiveDate) -> Option<Earlier> {
        let window = i64::from(self.ledger.policy.duplicate_window_days);
        let near = |d: NaiveDate| (date - d).num_days().abs() <= window;
        // The newest table holding the key has the latest payment with it; dates never
        // decrease along the batch, so if that one is not near, no earlier one is.
        let latest = self.recent.iter().find_map(|m| m.get(key));
        let in_batch = latest.and_then(|k| {
            let p = self.order.get(k as usize)?;
            let outcome = self.outcomes.get(k as usize)?;
            near(p.date).then(|| Earlier {
                date: p.date,
                id: p.id.clone(),
                outcome: *outcome,
            })
        });
        in_batch.or_else(|| {
            self.ledger
                .seen
                .with_key(key)
                .find(|s| near(s.date))
                .map(|s| Earlier {
                    date: s.date,
                    id: s.id.to_string(),
                    outcome: s.outcome,
                })
        })
    }

    /// The duplicate table's slot for `key`, read only to bring its cache line in.
    pub(crate) fn touch(&self, key: Option<u64>) -> u64 {
        key.map_or(0, |k| self.recent[0].touch(k))
    }

    /// Remember the payment at position `k` as the latest with duplicate key `key`.
    fn remember(&mut self, k: u32, key: u64, date: NaiveDate) {
        let epoch = day(date).div_euclid(self.window);
        match self.epoch {
            Some(e) if e == epoch => {}
            Some(e) if e + 1 == epoch => {
                self.recent.swap(0, 1);
                self.recent[0].clear();
            }
            _ => {
                for m in &mut self.recent {
                    m.clear();
                }
            }
        }
        self.epoch = Some(epoch);
        let _ = self.recent[0].insert(key, k);
    }

    fn commit(&mut self, d: &Decision) {
        let k = self.outcomes.len();
        self.outcomes.push(d.outcome);
        // As the ledger's log: only the first payment with an id is remembered by its key.
        if self.first_of.get(k) == Some(&NONE)
            && let Some(key) = d.dedup
        {
            self.remember(u32::try_from(k).unwrap_or(NONE), key, d.date);
        }
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
            if let Some(o) = self.overlay.get_mut(a.item as usize) {
                *o = Overlay {
                    open: (open - take).max(Decimal::ZERO),
                    payments: n.saturating_add(1),
                    set: true,
                };
            }
        }
    }
}
