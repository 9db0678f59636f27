//! Payments already decided, for duplicate detection (R-P2: the same line twice never counts
//! twice; R-P5: same payer, amount and reference as a payment already reconciled). A flat log
//! with a hash of the latest entry per key and a back link per entry: no allocation per key.

use chrono::NaiveDate;

use crate::decision::Outcome;
use crate::index::U64Map;
use crate::text::hash64;

/// A payment seen before.
#[derive(Debug, Clone)]
pub(crate) struct Seen<I> {
    pub(crate) date: NaiveDate,
    pub(crate) id: I,
    pub(crate) outcome: Outcome,
    prev: u32,
}

const NONE: u32 = u32::MAX;

/// The log of the payments decided in earlier batches (`I`: how a payment id is held).
#[derive(Debug, Clone)]
pub(crate) struct SeenLog<I> {
    entries: Vec<Seen<I>>,
    latest: U64Map,
    /// Hash of the payment id → outcome (a 64-bit collision between two ids is far rarer
    /// than anything else that can go wrong here; it would only flag a payment, never apply).
    ids: U64Map,
}

fn code(o: Outcome) -> u32 {
    match o {
        Outcome::Applied => 0,
        Outcome::Proposed => 1,
        Outcome::Exception => 2,
    }
}

fn outcome(c: u32) -> Outcome {
    match c {
        0 => Outcome::Applied,
        1 => Outcome::Proposed,
        _ => Outcome::Exception,
    }
}

impl<I> Default for SeenLog<I> {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
            latest: U64Map::default(),
            ids: U64Map::default(),
        }
    }
}

impl<I: AsRef<str>> SeenLog<I> {
    /// True when nothing was recorded.
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.ids.is_empty()
    }

    /// Outcome of an earlier payment with this id.
    pub(crate) fn id(&self, id: &str) -> Option<Outcome> {
        self.ids.get(hash64(id.as_bytes())).map(outcome)
    }

    /// Remember a payment (once per id; a later outcome, e.g. applied after confirmation,
    /// replaces the earlier one).
    pub(crate) fn record(&mut self, id: I, key: Option<u64>, date: NaiveDate, outcome: Outcome) {
        let first = self
            .ids
            .insert(hash64(id.as_ref().as_bytes()), code(outcome))
            .is_none();
        if !first {
            return;
        }
        if let Some(key) = key {
            let prev = self.latest.get(key).unwrap_or(NONE);
            let at = u32::try_from(self.entries.len()).unwrap_or(NONE);
            self.entries.push(Seen {
                date,
                id,
                outcome,
                prev,
            });
            self.latest.insert(key, at);
        }
    }

    /// Payments with this key, latest first.
    pub(crate) fn with_key(&self, key: u64) -> impl Iterator<Item = &Seen<I>> + '_ {
        let mut at = self.latest.get(key).unwrap_or(NONE);
        std::iter::from_fn(move || {
            let s = self.entries.get(at as usize)?;
            at = s.prev;
            Some(s)
        })
    }
}
