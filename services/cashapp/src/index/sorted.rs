//! Sorted-array indexes: cheap to build in bulk, queried by binary search — for the typo
//! (one-deletion) and cut-short indexes, large but rarely queried.

/// Multimap from a 64-bit key hash to ids as one sorted array (plus a small sorted delta for
/// later additions): cheap to build in bulk (a sort instead of millions of random writes),
/// a binary search to query. For indexes that are large but rarely queried (typo search).
#[derive(Debug, Default, Clone)]
pub(crate) struct SortedIndex {
    base: Vec<(u64, u32)>,
    delta: Vec<(u64, u32)>,
}

impl SortedIndex {
    /// Add many pairs: a large batch is merged into the base, a small one into the delta.
    pub(crate) fn extend(&mut self, mut entries: Vec<(u64, u32)>) {
        if entries.len() > 4096 || self.base.is_empty() {
            entries.append(&mut self.base);
            entries.append(&mut self.delta);
            entries.sort_unstable();
            entries.dedup();
            entries.shrink_to_fit();
            self.base = entries;
        } else {
            self.delta.extend(entries);
            self.delta.sort_unstable();
            self.delta.dedup();
        }
    }

    /// Ids stored under `key`.
    pub(crate) fn get(&self, key: u64) -> impl Iterator<Item = u32> + '_ {
        [&self.base, &self.delta].into_iter().flat_map(move |list| {
            let start = list.partition_point(|(k, _)| *k < key);
            list.get(start..)
                .unwrap_or_default()
                .iter()
                .take_while(move |(k, _)| *k == key)
                .map(|(_, id)| *id)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_base_and_delta() {
        let mut m = SortedIndex::default();
        m.extend(vec![(5, 1), (3, 2), (5, 0), (5, 1)]);
        m.extend(vec![(5, 7), (9, 8)]);
        assert_eq!(m.get(5).collect::<Vec<_>>(), vec![0, 1, 7]);
        assert_eq!(m.get(9).collect::<Vec<_>>(), vec![8]);
        assert_eq!(m.get(4).count(), 0);
    }
}
