//! Compact in-memory indexes for the ledger (issue item 5): an open-addressing hash → ids
//! table, sorted arrays for the one-deletion ("SymSpell") typo index and the cut-short index,
//! and a small `u64 → u32` map. Lookups never scan every receivable.

mod map;
mod sorted;

pub(crate) use map::U64Map;
pub(crate) use sorted::{SortedIndex, word};

use crate::text::hash64;

/// Multimap from a 64-bit key hash to item numbers: an open-addressing table of packed
/// `tag << 32 | id` words (8 bytes an entry, linear probing, grown by doubling), so a lookup
/// touches one or two cache lines and items can be added at any time without a rebuild.
///
/// The tag is the upper half of the key hash; keys whose tags collide return each other's
/// ids, so callers verify a hit against the stored text (they all do).
#[derive(Debug, Default, Clone)]
pub(crate) struct MultiIndex {
    slots: Vec<u64>,
    len: usize,
}

const EMPTY: u64 = u64::MAX;

fn tag(key: u64) -> u64 {
    key >> 32
}

impl MultiIndex {
    fn home(&self, tag: u64) -> usize {
        // Fibonacci hashing of the tag: the table size is a power of two.
        let mixed = tag.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let bits = self.slots.len().trailing_zeros();
        usize::try_from(mixed >> (64 - bits.max(1))).unwrap_or(0) & (self.slots.len() - 1)
    }

    fn grow_for(&mut self, extra: usize) {
        let need = (self.len + extra) * 10 / 7 + 1;
        if need <= self.slots.len() {
            return;
        }
        let old = std::mem::take(&mut self.slots);
        self.slots = vec![EMPTY; need.next_power_of_two().max(16)];
        for word in old.into_iter().filter(|w| *w != EMPTY) {
            let _ = self.place(word);
        }
    }

    /// Put a word in its slot; false when it was already there.
    fn place(&mut self, word: u64) -> bool {
        let mask = self.slots.len() - 1;
        let mut i = self.home(word >> 32);
        while let Some(slot) = self.slots.get_mut(i) {
            if *slot == EMPTY {
                *slot = word;
                return true;
            }
            if *slot == word {
                return false;
            }
            i = (i + 1) & mask;
        }
        false
    }

    /// Make room for `n` more pairs.
    pub(crate) fn reserve(&mut self, n: usize) {
        self.grow_for(n);
    }

    /// Add one pair (a pair already present is not added twice).
    pub(crate) fn insert(&mut self, key: u64, id: u32) {
        self.grow_for(1);
        if self.place((tag(key) << 32) | u64::from(id)) {
            self.len += 1;
        }
    }

    /// Add many pairs (growing once). The home slots of a few pairs ahead are read first, so
    /// their cache misses overlap instead of coming one after the other.
    pub(crate) fn extend(&mut self, entries: Vec<(u64, u32)>) {
        self.grow_for(entries.len());
        for chunk in entries.chunks(16) {
            let warm = chunk.iter().fold(0, |acc, (k, _)| acc ^ self.touch(*k));
            std::hint::black_box(warm);
            for (k, id) in chunk {
                if self.place((tag(*k) << 32) | u64::from(*id)) {
                    self.len += 1;
                }
            }
        }
    }

    fn probe(&self, tag: u64) -> impl Iterator<Item = u64> + '_ {
        let mask = self.slots.len().wrapping_sub(1);
        let start = if self.slots.is_empty() {
            0
        } else {
            self.home(tag)
        };
        let mut i = start;
        let mut done = self.slots.is_empty();
        std::iter::from_fn(move || {
            while !done {
                let word = self.slots.get(i).copied().unwrap_or(EMPTY);
                i = (i + 1) & mask;
                if word == EMPTY || i == start {
                    done = true;
                }
                if word != EMPTY && word >> 32 == tag {
                    return Some(word);
                }
            }
            None
        })
    }

    /// Ids stored under `key` (and under keys with the same tag).
    pub(crate) fn get(&self, key: u64) -> impl Iterator<Item = u32> + '_ {
        self.probe(tag(key))
            .map(|w| u32::try_from(w & 0xFFFF_FFFF).unwrap_or(u32::MAX))
    }

    /// The word in `key`'s home slot (where a lookup starts), read only to bring its cache
    /// line in; `EMPTY` for an empty index.
    pub(crate) fn touch(&self, key: u64) -> u64 {
        if self.slots.is_empty() {
            return EMPTY;
        }
        self.slots
            .get(self.home(tag(key)))
            .copied()
            .unwrap_or(EMPTY)
    }

    /// Number of stored pairs.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

/// Hashes of `key` and of every string obtained by deleting one byte from it: two strings
/// within one edit (insert, delete, substitute, swap neighbours) share at least one.
pub(crate) fn deletion_hashes(key: &[u8], out: &mut Vec<u64>) {
    out.clear();
    out.push(hash64(key));
    let mut buf = Vec::with_capacity(key.len());
    for i in 0..key.len() {
        // Deleting either of two equal neighbours gives the same string: hash it once.
        if i > 0 && key.get(i) == key.get(i - 1) {
            continue;
        }
        buf.clear();
        buf.extend_from_slice(key.get(..i).unwrap_or_default());
        buf.extend_from_slice(key.get(i + 1..).unwrap_or_default());
        out.push(hash64(&buf));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_index_base_and_delta() {
        let k = |n: u64| n << 32 | 0xabc;
        let mut m = MultiIndex::default();
        m.extend(vec![(k(5), 1), (k(3), 2), (k(5), 0), (k(5), 1)]);
        m.insert(k(5), 7);
        m.insert(k(9), 8);
        let mut five: Vec<u32> = m.get(k(5)).collect();
        five.sort_unstable();
        assert_eq!(five, vec![0, 1, 7]);
        assert_eq!(m.get(k(9)).collect::<Vec<_>>(), vec![8]);
        assert_eq!(m.get(k(4)).count(), 0);
        assert_eq!(m.len(), 5);
        // Many keys: every one is found after growing.
        let mut big = MultiIndex::default();
        for i in 0..10_000u32 {
            big.insert(crate::text::hash64(&i.to_le_bytes()), i);
        }
        assert!((0..10_000u32).all(|i| {
            big.get(crate::text::hash64(&i.to_le_bytes()))
                .any(|x| x == i)
        }));
    }

    #[test]
    fn one_edit_shares_a_deletion() {
        let mut a = Vec::new();
        let mut b = Vec::new();
        deletion_hashes(b"202301700123", &mut a);
        for typo in [
            &b"202301700132"[..],
            b"20230170123",
            b"2023017001234",
            b"202301708123",
        ] {
            deletion_hashes(typo, &mut b);
            assert!(b.iter().any(|h| a.contains(h)), "{typo:?}");
        }
    }

    #[test]
    fn clusters_stay_short() {
        let mut m = MultiIndex::default();
        let entries: Vec<(u64, u32)> = (0..200_000u32)
            .map(|i| (crate::text::hash64(format!("2023017{i:05}").as_bytes()), i))
            .collect();
        m.extend(entries);
        let mask = m.slots.len() - 1;
        let mut total = 0usize;
        for (i, w) in m.slots.iter().enumerate() {
            if *w != EMPTY {
                let home = m.home(*w >> 32);
                total += (i + m.slots.len() - home) & mask;
            }
        }
        let mean_x100 = total * 100 / m.len;
        assert!(
            mean_x100 < 300,
            "mean displacement {mean_x100}/100, load {}/{}",
            m.len,
            m.slots.len()
        );
    }
}
