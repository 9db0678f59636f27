//! Text normalisation shared by references, names and accounts (R-P4: typos, spaces, dashes,
//! full-width characters), plus a fast stable hash and a bounded edit distance.

use std::hash::{BuildHasherDefault, Hasher};

/// Half-width form of one character: full-width ASCII (U+FF01–U+FF5E) becomes ASCII, the
/// ideographic space a space, and the many dash look-alikes a hyphen.
#[must_use]
pub(crate) fn half_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{30FC}' | '\u{FE63}' => '-',
        _ => c,
    }
}

/// An account as people see it in reasons and notes (R-O4: never in full): its last four
/// letters or digits after `****`, e.g. `****0101`.
#[must_use]
pub(crate) fn masked_account(account: &str) -> String {
    let c = compact(account);
    let tail: String = c
        .chars()
        .skip(c.chars().count().saturating_sub(4))
        .collect();
    format!("****{tail}")
}

/// Upper-case ASCII letters and digits of `s` (after half-width folding), everything else
/// dropped: `ＨＴ－２０２３ ０１７` and `ht-2023-017` both give `HT2023017`.
#[must_use]
pub(crate) fn compact(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_compact(&mut out, s);
    out
}

/// Append the compact form of `s` to `out`.
pub(crate) fn push_compact(out: &mut String, s: &str) {
    for c in s.chars() {
        let c = half_width(c);
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_uppercase());
        }
    }
}

/// Feed the compact form of `s` to `h`; returns its length.
pub(crate) fn compact_into(h: &mut Fnv, s: &str) -> usize {
    let mut len = 0;
    if s.is_ascii() {
        for b in s.bytes() {
            if b.is_ascii_alphanumeric() {
                h.byte(b.to_ascii_uppercase());
                len += 1;
            }
        }
        return len;
    }
    for c in s.chars() {
        let c = half_width(c);
        if c.is_ascii_alphanumeric() {
            h.byte(u8::try_from(u32::from(c.to_ascii_uppercase())).unwrap_or(b'?'));
            len += 1;
        }
    }
    len
}

/// Hash and length of the compact form of `s` (as `hash64(compact(s))`, without building it).
#[must_use]
pub(crate) fn compact_hash(s: &str) -> (u64, usize) {
    let mut h = Fnv::new();
    let len = compact_into(&mut h, s);
    (h.finish(), len)
}

/// The ASCII digits of `s` (after half-width folding).
#[must_use]
pub(crate) fn digits(s: &str) -> String {
    s.chars()
        .map(half_width)
        .filter(char::is_ascii_digit)
        .collect()
}

/// FNV-1a, 64 bit, finalised with [`mix`]: stable across runs and platforms (the index must not depend on a random
/// seed, so results are reproducible), and quick on the short keys used here.
#[must_use]
pub(crate) fn hash64(bytes: &[u8]) -> u64 {
    Fnv::new().write(bytes).finish()
}

/// The SplitMix64 finaliser: spreads every input bit over every output bit (FNV alone leaves
/// keys that differ in their last characters close together in the high bits, which the
/// open-addressing tables use).
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// FNV-1a fed piece by piece (same result as [`hash64`] on the concatenation).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fnv(u64);

impl Fnv {
    pub(crate) fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }

    pub(crate) fn write(&mut self, bytes: &[u8]) -> &mut Self {
        for b in bytes {
            self.byte(*b);
        }
        self
    }

    #[inline]
    pub(crate) fn byte(&mut self, b: u8) {
        self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }

    pub(crate) fn finish(&self) -> u64 {
        mix(self.0)
    }
}

/// A hasher for keys that are already well-mixed `u64`/`u32` values (index keys, item
/// numbers): it only scrambles the bits once, which is all a `HashMap` needs.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct MixHasher(u64);

impl Hasher for MixHasher {
    fn finish(&self) -> u64 {
        let mut z = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0 = hash64(bytes) ^ self.0.rotate_left(5);
    }

    fn write_u32(&mut self, i: u32) {
        self.0 = self.0.rotate_left(5) ^ u64::from(i);
    }

    fn write_u64(&mut self, i: u64) {
        self.0 = self.0.rotate_left(5) ^ i;
    }

    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
}

/// Build-hasher for [`MixHasher`].
pub(crate) type Mix = BuildHasherDefault<MixHasher>;

/// Optimal-string-alignment distance (Levenshtein plus adjacent transposition) between two
/// short ASCII strings, or `None` when it exceeds `max` (rows on the stack: no allocation).
#[must_use]
pub(crate) fn osa_distance(a: &[u8], b: &[u8], max: usize) -> Option<usize> {
    const W: usize = 48;
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    if a.len() >= W || b.len() >= W {
        return (a == b).then_some(0);
    }
    let mut prev2 = [0usize; W];
    let mut prev = [0usize; W];
    let mut cur = [0usize; W];
    for (j, slot) in prev.iter_mut().enumerate().take(b.len() + 1) {
        *slot = j;
    }
    for (i, &ai) in a.iter().enumerate() {
        cur[0] = i + 1;
        let mut row_min = cur[0];
        for (j, &bj) in b.iter().enumerate() {
            let cost = usize::from(ai != bj);
            let mut v = (prev[j + 1] + 1).min(cur[j] + 1).min(prev[j] + cost);
            if i > 0 && j > 0 && Some(&ai) == b.get(j - 1) && a.get(i - 1) == Some(&bj) {
                v = v.min(prev2[j - 1] + 1);
            }
            cur[j + 1] = v;
            row_min = row_min.min(v);
        }
        if row_min > max {
            return None;
        }
        prev2 = prev;
        prev = cur;
    }
    let d = prev[b.len()];
    (d <= max).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_and_dashes_fold() {
        // R-P4: full-width characters, spaces and dashes do not change a reference.
        assert_eq!(compact("ＨＴ－２０２３　０１７—ab"), "HT2023017AB");
        assert_eq!(digits("ＨＴ－２０２３-017"), "2023017");
        assert_eq!(compact_hash("ht-2023 ０１７"), (hash64(b"HT2023017"), 9));
    }

    #[test]
    fn osa_counts_one_edit() {
        assert_eq!(osa_distance(b"2023017", b"2023017", 1), Some(0));
        assert_eq!(osa_distance(b"2023017", b"2032017", 1), Some(1)); // transposition
        assert_eq!(osa_distance(b"2023017", b"202317", 1), Some(1)); // deletion
        assert_eq!(osa_distance(b"2023017", b"20230178", 1), Some(1)); // insertion
        assert_eq!(osa_distance(b"2023017", b"2923018", 1), None);
    }

    #[test]
    fn hash_is_stable() {
        assert_eq!(hash64(b""), mix(0xcbf2_9ce4_8422_2325));
        assert_ne!(hash64(b"HT1"), hash64(b"HT2"));
    }
}
