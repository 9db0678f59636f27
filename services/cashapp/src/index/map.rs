//! A compact `u64 → u32` hash map for the duplicate log.

/// Map from a 64-bit hash to a `u32`: open addressing over 16-byte slots, one cache line per
/// lookup (the standard map touches a control line and a bucket line).
#[derive(Debug, Clone, Default)]
pub(crate) struct U64Map {
    slots: Vec<(u64, u32)>,
    len: usize,
}

const NO_KEY: u64 = u64::MAX;

impl U64Map {
    pub(crate) fn with_capacity(n: usize) -> Self {
        let mut m = Self::default();
        m.grow_for(n);
        m
    }

    fn key(k: u64) -> u64 {
        if k == NO_KEY { NO_KEY - 1 } else { k }
    }

    fn home(&self, k: u64) -> usize {
        let bits = self.slots.len().trailing_zeros().max(1);
        usize::try_from(k.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - bits)).unwrap_or(0)
    }

    fn grow_for(&mut self, extra: usize) {
        let need = (self.len + extra) * 10 / 7 + 1;
        if need <= self.slots.len() {
            return;
        }
        let old = std::mem::take(&mut self.slots);
        self.slots = vec![(NO_KEY, 0); need.next_power_of_two().max(16)];
        self.len = 0;
        for (k, v) in old.into_iter().filter(|(k, _)| *k != NO_KEY) {
            self.insert(k, v);
        }
    }

    fn slot_of(&self, k: u64) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut i = self.home(k) & mask;
        loop {
            match self.slots.get(i) {
                Some((key, _)) if *key == k || *key == NO_KEY => return Some(i),
                Some(_) => i = (i + 1) & mask,
                None => return None,
            }
        }
    }

    /// Make room for `n` more keys.
    pub(crate) fn reserve(&mut self, n: usize) {
        self.grow_for(n);
    }

    /// Remove every key (keeping the room).
    pub(crate) fn clear(&mut self) {
        self.slots.fill((NO_KEY, 0));
        self.len = 0;
    }

    /// True when empty.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The key in `k`'s home slot (where a lookup starts), read only to bring its cache line
    /// in.
    pub(crate) fn touch(&self, k: u64) -> u64 {
        if self.slots.is_empty() {
            return NO_KEY;
        }
        let i = self.home(Self::key(k)) & (self.slots.len() - 1);
        self.slots.get(i).map_or(NO_KEY, |s| s.0)
    }

    /// Value under `k`.
    pub(crate) fn get(&self, k: u64) -> Option<u32> {
        let k = Self::key(k);
        let i = self.slot_of(k)?;
        self.slots
            .get(i)
            .filter(|(key, _)| *key == k)
            .map(|(_, v)| *v)
    }

    /// Set `k` to `v`; returns the previous value.
    pub(crate) fn insert(&mut self, k: u64, v: u32) -> Option<u32> {
        self.grow_for(1);
        let k = Self::key(k);
        let i = self.slot_of(k)?;
        let slot = self.slots.get_mut(i)?;
        if slot.0 == k {
            return Some(std::mem::replace(&mut slot.1, v));
        }
        *slot = (k, v);
        self.len += 1;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn u64_map() {
        let mut m = U64Map::default();
        for i in 0..5000u64 {
            assert_eq!(
                m.insert(
                    crate::text::hash64(&i.to_le_bytes()),
                    u32::try_from(i).unwrap_or(0)
                ),
                None
            );
        }
        assert_eq!(
            m.insert(crate::text::hash64(&7u64.to_le_bytes()), 1),
            Some(7)
        );
        assert_eq!(m.get(crate::text::hash64(&7u64.to_le_bytes())), Some(1));
        assert_eq!(
            m.get(crate::text::hash64(&4999u64.to_le_bytes())),
            Some(4999)
        );
        assert_eq!(m.get(1), None);
        assert_eq!(m.insert(u64::MAX, 3), None);
        assert_eq!(m.get(u64::MAX), Some(3));
    }
}
