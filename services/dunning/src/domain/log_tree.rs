//! R-L3, R-L8: proving one debtor's contact-log entries against a signed checkpoint without
//! showing anyone else's. The hash chain ([`super::contact_log`]) shows that a whole log is
//! intact; proving a few entries of it offline would take every later entry. So a checkpoint
//! also signs the root of a Merkle tree over the entries' chain hashes (the tree of RFC 9162,
//! Certificate Transparency 2.0, §2.1), and an entry's inclusion proof is the few sibling
//! hashes (about log2 of the log's size) that lead from it to that root.
//!
//! ```text
//! leaf  = SHA-256(0x00 || entry hash)          node = SHA-256(0x01 || left || right)
//! root of n leaves: split at the largest power of two k < n: node(root(first k), root(rest))
//! ```
//!
//! Pure: no I/O.

use sha2::{Digest as _, Sha256};

use super::contact_log::Digest;

/// The hash of a leaf (an entry's chain hash).
#[must_use]
pub fn leaf_hash(entry_hash: &Digest) -> Digest {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(entry_hash.0);
    Digest(h.finalize().into())
}

/// The hash of an inner node.
#[must_use]
pub fn node_hash(left: &Digest, right: &Digest) -> Digest {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left.0);
    h.update(right.0);
    Digest(h.finalize().into())
}

/// The largest power of two below `n` (n ≥ 2).
fn split(n: usize) -> usize {
    let mut k: usize = 1;
    while k.saturating_mul(2) < n {
        k *= 2;
    }
    k
}

/// The root over leaf hashes (already [`leaf_hash`]ed); SHA-256 of nothing for none.
#[must_use]
pub fn root_of_leaves(leaves: &[Digest]) -> Digest {
    match leaves {
        [] => Digest(Sha256::digest([]).into()),
        [one] => *one,
        _ => {
            let k = split(leaves.len());
            node_hash(&root_of_leaves(&leaves[..k]), &root_of_leaves(&leaves[k..]))
        }
    }
}

/// The root over entries' chain hashes, in log order.
#[must_use]
pub fn root(entry_hashes: &[Digest]) -> Digest {
    let leaves: Vec<Digest> = entry_hashes.iter().map(leaf_hash).collect();
    root_of_leaves(&leaves)
}

/// The inclusion proof of leaf `index` (0-based: entry `seq` is index `seq - 1`) among
/// `leaves`, nearest sibling first; None when the index is outside.
#[must_use]
pub fn inclusion_proof(leaves: &[Digest], index: usize) -> Option<Vec<Digest>> {
    if index >= leaves.len() {
        return None;
    }
    let mut path = Vec::new();
    collect_path(leaves, index, &mut path);
    Some(path)
}

fn collect_path(leaves: &[Digest], index: usize, path: &mut Vec<Digest>) {
    if leaves.len() <= 1 {
        return;
    }
    let k = split(leaves.len());
    if index < k {
        collect_path(&leaves[..k], index, path);
        path.push(root_of_leaves(&leaves[k..]));
    } else {
        collect_path(&leaves[k..], index - k, path);
        path.push(root_of_leaves(&leaves[..k]));
    }
}

/// Whether `path` proves that the entry with chain hash `entry_hash` is leaf `index` of the
/// tree of `size` leaves whose root is `root` (RFC 9162 §2.1.3.2).
#[must_use]
pub fn verify_inclusion(
    entry_hash: &Digest,
    index: u64,
    size: u64,
    path: &[Digest],
    root: &Digest,
) -> bool {
    if index >= size {
        return false;
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = leaf_hash(entry_hash);
    for p in path {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    s == 0 && r == *root
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn entries(n: usize) -> Vec<Digest> {
        (0..n)
            .map(|i| Digest::of(format!("entry {i}").as_bytes()))
            .collect()
    }

    #[test]
    fn small_trees_have_the_rfc_shape() {
        let e = entries(3);
        let l: Vec<Digest> = e.iter().map(leaf_hash).collect();
        assert_eq!(root(&e[..1]), l[0]);
        assert_eq!(root(&e[..2]), node_hash(&l[0], &l[1]));
        assert_eq!(root(&e), node_hash(&node_hash(&l[0], &l[1]), &l[2]));
        // Leaves and nodes are told apart: a node's bytes are no leaf.
        assert_ne!(leaf_hash(&node_hash(&l[0], &l[1])), root(&e[..2]));
    }

    proptest! {
        /// Every entry of every log size proves, and nothing else does.
        #[test]
        fn every_entry_proves_against_the_root(n in 1usize..70, pick in 0usize..70) {
            let e = entries(n);
            let leaves: Vec<Digest> = e.iter().map(leaf_hash).collect();
            let r = root(&e);
            let i = pick % n;
            let path = inclusion_proof(&leaves, i).expect("inside");
            let (index, size) = (i as u64, n as u64);
            prop_assert!(verify_inclusion(&e[i], index, size, &path, &r));
            // The path is about log2(n) long.
            prop_assert!(path.len() <= 7);
            // Another entry, another position, another size or another root: refused.
            let other = Digest::of(b"forged");
            prop_assert!(!verify_inclusion(&other, index, size, &path, &r));
            if n > 1 {
                let j = (i + 1) % n;
                prop_assert!(!verify_inclusion(&e[i], j as u64, size, &path, &r));
                // (The size is not bound by the path alone, e.g. leaf 0 of 5 and of 6 share
                // a path shape: it comes from the signed checkpoint, `through_seq`.)
            }
            prop_assert!(!verify_inclusion(&e[i], index, size, &path, &Digest::of(b"x")));
            prop_assert!(!verify_inclusion(&e[i], size, size, &path, &r));
        }
    }

    #[test]
    fn an_index_outside_has_no_proof() {
        let leaves: Vec<Digest> = entries(4).iter().map(leaf_hash).collect();
        assert!(inclusion_proof(&leaves, 4).is_none());
        assert!(inclusion_proof(&[], 0).is_none());
    }
}
