//! Bucketed sorted index: cheap to build in bulk, two cache lines to query — for the typo
//! (one-deletion) and cut-short indexes, large (millions of pairs) but rarely queried.

/// Multimap from a 64-bit key hash to ids, as `tag << 32 | id` words (the tag is the key's
/// upper half) grouped by the tag's top bits — a directory of bucket starts — and sorted
/// within each bucket; plus a small sorted delta for later additions.
///
/// Built by a counting sort (one pass to count, one to place, then a few words sorted per
/// bucket) instead of sorting millions of pairs; a query reads the directory and one short
/// bucket. Keys whose tags collide return each other's ids, so callers verify a hit against
/// the stored text (they all do).
#[derive(Debug, Default, Clone)]
pub(crate) struct SortedIndex {
    /// Directory size: `1 << bits` buckets.
    bits: u32,
    /// Start of each bucket in `words`, and the end of the last.
    starts: Vec<u32>,
    words: Vec<u64>,
    delta: Vec<u64>,
}

/// A batch at least this large is merged into the buckets; a smaller one goes to the delta.
const MERGE_AT: usize = 4096;

/// The word stored for `key` → `id`.
pub(crate) fn word(key: u64, id: u32) -> u64 {
    ((key >> 32) << 32) | u64::from(id)
}

fn bucket(word: u64, bits: u32) -> usize {
    if bits == 0 {
        0
    } else {
        usize::try_from(word >> (64 - bits)).unwrap_or(0)
    }
}

/// Ids under `tag` in a slice of words sorted by tag.
fn ids(list: &[u64], tag: u64) -> impl Iterator<Item = u32> + '_ {
    let start = list.partition_point(|w| *w >> 32 < tag);
    list.get(start..)
        .unwrap_or_default()
        .iter()
        .take_while(move |w| *w >> 32 == tag)
        .map(|w| u32::try_from(*w & 0xFFFF_FFFF).unwrap_or(u32::MAX))
}

impl SortedIndex {
    /// Add many pairs.
    #[cfg(test)]
    pub(crate) fn extend(&mut self, entries: Vec<(u64, u32)>) {
        self.extend_words(entries.into_iter().map(|(k, id)| word(k, id)).collect());
    }

    /// Add many pairs given as [`word`]s: a large batch is merged into the buckets, a small
    /// one into the delta.
    pub(crate) fn extend_words(&mut self, mut words: Vec<u64>) {
        if words.len() < MERGE_AT && !self.words.is_empty() {
            self.delta.append(&mut words);
            self.delta.sort_unstable();
            self.delta.dedup();
            return;
        }
        words.append(&mut self.words);
        words.append(&mut self.delta);
        self.rebuild(&words);
    }

    /// Buckets from scratch: about eight words a bucket.
    fn rebuild(&mut self, all: &[u64]) {
        let bits = (all.len() / 8).max(1).ilog2().min(26);
        let n = 1usize << bits;
        // Count, then turn the counts into starts.
        let mut starts = vec![0u32; n + 1];
        for w in all {
            if let Some(c) = starts.get_mut(bucket(*w, bits) + 1) {
                *c += 1;
            }
        }
        let mut sum = 0u32;
        for s in &mut starts {
            sum += *s;
            *s = sum;
        }
        // Place each word at its bucket's next free position.
        let mut next: Vec<u32> = starts.clone();
        let mut words = vec![0u64; all.len()];
        for w in all {
            if let Some(at) = next.get_mut(bucket(*w, bits))
                && let Some(slot) = words.get_mut(*at as usize)
            {
                *slot = *w;
                *at += 1;
            }
        }
        // Sort each bucket and drop repeated pairs, compacting as we go.
        let mut write = 0usize;
        let mut from = 0usize;
        for b in 0..n {
            let to = starts.get(b + 1).map_or(from, |s| *s as usize);
            if let Some(list) = words.get_mut(from..to) {
                list.sort_unstable();
            }
            let mut prev = None;
            for i in from..to {
                let w = words.get(i).copied().unwrap_or_default();
                if prev != Some(w) {
                    if let Some(slot) = words.get_mut(write) {
                        *slot = w;
                    }
                    write += 1;
                    prev = Some(w);
                }
            }
            if let Some(s) = starts.get_mut(b + 1) {
                *s = u32::try_from(write).unwrap_or(u32::MAX);
            }
            from = to;
        }
        words.truncate(write);
        self.bits = bits;
        self.starts = starts;
        self.words = words;
        self.delta = Vec::new();
    }

    /// Ids stored under `key` (and under keys with the same upper half).
    pub(crate) fn get(&self, key: u64) -> impl Iterator<Item = u32> + '_ {
        let tag = key >> 32;
        let b = bucket(key, self.bits);
        let from = self.starts.get(b).map_or(0, |s| *s as usize);
        let to = self.starts.get(b + 1).map_or(0, |s| *s as usize);
        let list = self.words.get(from..to).unwrap_or_default();
        ids(list, tag).chain(ids(&self.delta, tag))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_base_and_delta() {
        let k = |n: u64| n << 32 | 0xabc;
        let mut m = SortedIndex::default();
        m.extend(vec![(k(5), 1), (k(3), 2), (k(5), 0), (k(5), 1)]);
        m.extend(vec![(k(5), 7), (k(9), 8)]);
        assert_eq!(m.get(k(5)).collect::<Vec<_>>(), vec![0, 1, 7]);
        assert_eq!(m.get(k(9)).collect::<Vec<_>>(), vec![8]);
        assert_eq!(m.get(k(4)).count(), 0);
    }

    #[test]
    fn many_keys_in_buckets() {
        let key = |i: u32| crate::text::hash64(&i.to_le_bytes());
        let mut m = SortedIndex::default();
        // Every key twice (once repeated): found once each, in id order.
        let mut entries: Vec<(u64, u32)> = (0..50_000u32).map(|i| (key(i), i)).collect();
        entries.extend((0..50_000u32).map(|i| (key(i), i ^ 1)));
        entries.extend((0..1000u32).map(|i| (key(i), i)));
        m.extend(entries);
        assert!(m.bits > 8);
        for i in 0..50_000u32 {
            let mut want = vec![i, i ^ 1];
            want.sort_unstable();
            assert_eq!(m.get(key(i)).collect::<Vec<_>>(), want, "{i}");
        }
        // A large batch later is merged; a small one goes to the delta.
        m.extend((50_000..60_000u32).map(|i| (key(i), i)).collect());
        m.extend(vec![(key(7), 99)]);
        assert_eq!(m.get(key(55_555)).collect::<Vec<_>>(), vec![55_555]);
        assert_eq!(m.get(key(7)).collect::<Vec<_>>(), vec![6, 7, 99]);
        assert_eq!(m.get(key(70_000)).count(), 0);
    }
}
