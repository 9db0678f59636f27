//! Finding the customers a payment could belong to, from what it says (references, payer
//! account, payer name), through the ledger's indexes (issue items 2 and 5).

use crate::evidence::RefMatch;
use crate::index::MultiIndex;
use crate::index::deletion_hashes;
use crate::names::{NameKey, NameMatch, compare};
use crate::text::{compact, osa_distance};

use super::Ledger;
use super::probe::Probe;
use super::store::{MIN_DIGITS, length_bit};

/// Key of a cut-short number: the hash of its digits, marked so it never meets a whole key.
pub(crate) fn cut_key(digits: &[u8]) -> u64 {
    let mut h = crate::text::Fnv::new();
    h.write(b"C:").write(digits);
    h.finish()
}

/// At most this many contracts may share a cut-short prefix for it to count.
const MAX_PREFIX_HITS: usize = 20;

/// A customer the payment may belong to, and how it was found.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub(crate) customer: u32,
    /// Contracts named in the remittance, with the best match for each.
    pub(crate) contracts: Vec<(u32, RefMatch)>,
    /// Receivables named in the remittance.
    pub(crate) items: Vec<(u32, RefMatch)>,
    pub(crate) account: bool,
    pub(crate) name: Option<NameMatch>,
    /// The name matched is one read from the remittance text (index into the probe's
    /// `text_names`), not the bank's payer-name field.
    pub(crate) text_name: Option<u8>,
}

impl Found {
    fn new(customer: u32) -> Self {
        Self {
            customer,
            contracts: Vec::new(),
            items: Vec::new(),
            account: false,
            name: None,
            text_name: None,
        }
    }

    /// The strongest reference match, if any.
    pub(crate) fn best_ref(&self) -> Option<RefMatch> {
        self.contracts
            .iter()
            .chain(&self.items)
            .map(|(_, m)| *m)
            .max()
    }
}

fn add_contract(found: &mut Vec<Found>, ledger: &Ledger, contract: u32, how: RefMatch) {
    let Some(c) = ledger.contracts.get(contract as usize) else {
        return;
    };
    let f = entry(found, c.customer);
    match f.contracts.iter_mut().find(|(x, _)| *x == contract) {
        Some((_, m)) => *m = (*m).max(how),
        None => f.contracts.push((contract, how)),
    }
}

fn entry(found: &mut Vec<Found>, customer: u32) -> &mut Found {
    let at = match found.iter().position(|f| f.customer == customer) {
        Some(at) => at,
        None => {
            found.push(Found::new(customer));
            found.len() - 1
        }
    };
    // `at` is in bounds: found or just pushed.
    &mut found[at]
}

impl Ledger {
    /// Customers a payment may belong to, with reference, account and name findings.
    ///
    /// Exact references and the payer's account are always looked up. The costlier searches
    /// (one-typo and cut-short references over all contracts, customers by name) run only when
    /// they can change the outcome: when no customer is identified as the payer by account or
    /// name. A payer identified by account has its own contracts checked for a typo'd or cut
    /// reference instead.
    pub(crate) fn find(&self, probe: &Probe) -> Vec<Found> {
        let mut found: Vec<Found> = Vec::new();
        let exact = self.exact_references(probe, &mut found);
        if let Some(account) = probe.account {
            for c in self.by_account.get(account) {
                let ok = self
                    .customers
                    .get(c as usize)
                    .is_some_and(|cu| cu.has_account(account));
                if ok {
                    entry(&mut found, c).account = true;
                }
            }
        }
        self.name_findings(probe, &mut found, 0);
        let identified = found.iter().any(|f| f.account || f.name.is_some());
        if !identified {
            let before = found.len();
            if !exact {
                self.fuzzy_references(probe, &mut found);
            }
            self.name_findings(probe, &mut found, before);
            if !probe.name.is_empty() {
                self.find_by_name(&probe.name, &mut found, None);
            } else {
                for (i, (_, name)) in probe.text_names.iter().enumerate() {
                    let i = u8::try_from(i).ok();
                    self.find_by_name(name, &mut found, i);
                }
            }
        }
        for f in &mut found {
            if f.contracts.is_empty() && f.items.is_empty() {
                self.near_own_contracts(probe, f);
            }
        }
        found
    }

    /// How the payer's name (else a name in the remittance text) compares with the
    /// customers found from `from` on.
    fn name_findings(&self, probe: &Probe, found: &mut [Found], from: usize) {
        for f in found.iter_mut().skip(from) {
            if let Some(cu) = self.customers.get(f.customer as usize) {
                f.name = compare(&probe.name, &cu.key);
                f.text_name = None;
                if f.name.is_none() {
                    let best = probe
                        .text_names
                        .iter()
                        .enumerate()
                        .filter_map(|(i, (_, k))| Some((compare(k, &cu.key)?, i)))
                        .max_by_key(|(m, i)| (*m, std::cmp::Reverse(*i)));
                    if let Some((m, i)) = best {
                        f.name = Some(m);
                        f.text_name = u8::try_from(i).ok();
                    }
                }
            }
        }
    }

    /// Read, all at once, the index slots the exact lookups of `probe` (and `more`, e.g. the
    /// batch's duplicate table) will read, then the records their hits point to; returns a
    /// value to hand to `black_box`. The lookups themselves then find their cache lines
    /// loaded: independent memory reads overlap when issued together, where one lookup after
    /// the other would wait for each in turn (the indexes are far larger than the caches).
    pub(crate) fn warm(&self, probe: &Probe, more: u64) -> u64 {
        let [contract_lens, receivable_lens, digit_lens] = self.lengths;
        // (which record a hit points to, key, slot word)
        let mut slots = [(0u8, 0u64, 0u64); 12];
        let mut n = 0;
        let mut add = |kind: u8, key: u64, index: &MultiIndex| {
            if let Some(s) = slots.get_mut(n) {
                *s = (kind, key, index.touch(key));
                n += 1;
            }
        };
        for (w, &(h, dh)) in probe.windows.iter().zip(&probe.keys) {
            let bit = length_bit(w.compact.len());
            if contract_lens & bit != 0 {
                add(0, h, &self.by_contract);
            }
            if receivable_lens & bit != 0 {
                add(1, h, &self.by_receivable);
            }
            if w.digits.len() >= MIN_DIGITS && digit_lens & length_bit(w.digits.len()) != 0 {
                add(0, dh, &self.by_digits);
            }
        }
        if let Some(a) = probe.account {
            add(2, a, &self.by_account);
        }
        let mut acc = more;
        for &(kind, key, word) in slots.iter().take(n) {
            acc ^= word;
            if word >> 32 != key >> 32 {
                continue;
            }
            let id = usize::try_from(word & 0xFFFF_FFFF).unwrap_or(usize::MAX);
            acc ^= match kind {
                0 => self.contracts.get(id).map_or(0, |c| c.key),
                1 => self.items.get(id).map_or(0, |i| i.key),
                _ => self.customers.get(id).map_or(0, |c| c.accounts[0]),
            };
        }
        acc
    }

    /// Contracts and receivables named exactly (or by their digits); true if any.
    fn exact_references(&self, probe: &Probe, found: &mut Vec<Found>) -> bool {
        let [contract_lens, receivable_lens, digit_lens] = self.lengths;
        let mut digit_seen: Vec<u64> = Vec::new();
        for (w, &(h, dh)) in probe.windows.iter().zip(&probe.keys) {
            let bit = length_bit(w.compact.len());
            if contract_lens & bit != 0 {
                for c in self.by_contract.get(h) {
                    if self.contracts.get(c as usize).is_some_and(|x| x.key == h) {
                        add_contract(found, self, c, RefMatch::Exact);
                    }
                }
            }
            if receivable_lens & bit != 0 {
                for i in self.by_receivable.get(h) {
                    let Some(item) = self.items.get(i as usize) else {
                        continue;
                    };
                    if item.key == h
                        && let Some(c) = self.contracts.get(item.contract as usize)
                    {
                        let f = entry(found, c.customer);
                        if !f.items.iter().any(|(x, _)| *x == i) {
                            f.items.push((i, RefMatch::Exact));
                        }
                    }
                }
            }
            if w.digits.len() >= MIN_DIGITS && digit_lens & length_bit(w.digits.len()) != 0 {
                if digit_seen.contains(&dh) {
                    continue;
                }
                digit_seen.push(dh);
                for c in self.by_digits.get(dh) {
                    if self
                        .contracts
                        .get(c as usize)
                        .is_some_and(|x| x.digits_key == dh)
                    {
                        add_contract(found, self, c, RefMatch::Digits);
                    }
                }
            }
        }
        !found.is_empty()
    }

    /// Contracts one typo away from a number in the remittance, else those a number at the
    /// end of it is the cut-short beginning of.
    fn fuzzy_references(&self, probe: &Probe, found: &mut Vec<Found>) {
        let digit_lens = self.lengths[2];
        let before = found.len();
        let mut hashes = Vec::new();
        let near = |n: usize| {
            digit_lens & (length_bit(n) | length_bit(n + 1) | length_bit(n.saturating_sub(1))) != 0
        };
        let mut queried: Vec<&str> = Vec::new();
        for w in probe
            .windows
            .iter()
            .filter(|w| w.digits.len() >= MIN_DIGITS && near(w.digits.len()))
        {
            if queried.contains(&w.digits) {
                continue;
            }
            queried.push(w.digits);
            deletion_hashes(w.digits.as_bytes(), &mut hashes);
            for h in &hashes {
                for c in self.by_typo.get(*h) {
                    let close = self.contracts.get(c as usize).is_some_and(|x| {
                        osa_distance(x.digits.as_bytes(), w.digits.as_bytes(), 1) == Some(1)
                    });
                    if close {
                        add_contract(found, self, c, RefMatch::Typo);
                    }
                }
            }
        }
        if found.len() > before {
            return;
        }
        for w in probe
            .windows
            .iter()
            .filter(|w| w.at_end && w.digits.len() >= MIN_DIGITS)
        {
            let hits: Vec<u32> = self
                .by_cut
                .get(cut_key(w.digits.as_bytes()))
                .filter(|c| {
                    self.contracts.get(*c as usize).is_some_and(|x| {
                        // One to three characters cut (the index holds no other; a key
                        // sharing the hash's upper half must not count).
                        (1..=3).contains(&(x.digits.len().saturating_sub(w.digits.len())))
                            && x.digits.starts_with(w.digits)
                    })
                })
                .take(MAX_PREFIX_HITS + 1)
                .collect();
            if hits.len() <= MAX_PREFIX_HITS {
                for c in hits {
                    add_contract(found, self, c, RefMatch::CutShort);
                }
            }
        }
    }

    /// Customers by `name` (the payer's, or the `text`-th name in the remittance).
    fn find_by_name(&self, name: &NameKey, found: &mut Vec<Found>, text: Option<u8>) {
        let max = usize::from(self.policy.max_name_candidates);
        let (exact, sounds) = name.lookup_keys();
        let mut hits: Vec<u32> = Vec::new();
        for keys in [exact, sounds] {
            for k in keys {
                hits.extend(self.by_name.get(k));
                if hits.len() > max {
                    // A name this common identifies nobody.
                    return;
                }
            }
            if !hits.is_empty() {
                break;
            }
        }
        hits.sort_unstable();
        hits.dedup();
        for c in hits {
            let how = self
                .customers
                .get(c as usize)
                .and_then(|cu| compare(name, &cu.key));
            if how.is_some() {
                let f = entry(found, c);
                if f.name < how {
                    f.name = how;
                    f.text_name = text;
                }
            }
        }
    }

    /// A customer found by account or name whose own contract is one typo away from a number
    /// in the remittance (the typo may also hit another contract exactly), or begins with the
    /// number that ends it (cut short).
    fn near_own_contracts(&self, probe: &Probe, f: &mut Found) {
        let Some(cu) = self.customers.get(f.customer as usize) else {
            return;
        };
        for &c in &cu.contracts {
            let Some(contract) = self.contracts.get(c as usize) else {
                continue;
            };
            if contract.digits.len() < MIN_DIGITS {
                continue;
            }
            let d = contract.digits.as_bytes();
            let typo = probe.windows.iter().any(|w| {
                w.digits.len().abs_diff(d.len()) <= 1
                    && osa_distance(d, w.digits.as_bytes(), 1).is_some()
            });
            let cut = !typo && {
                let own = compact(&contract.no);
                probe.windows.iter().any(|w| {
                    w.at_end
                        && w.compact.len() >= MIN_DIGITS
                        && own.len() > w.compact.len()
                        && own.starts_with(w.compact)
                })
            };
            if typo {
                f.contracts.push((c, RefMatch::Typo));
            } else if cut {
                f.contracts.push((c, RefMatch::CutShort));
            }
        }
    }
}
