//! What a payment says, normalised once (R-P4): reference windows of the lengths the ledger's
//! keys have, the payer's account and name, installment numbers, and the duplicate key
//! (R-P5: same payer, amount and reference).

use super::Ledger;
use super::store::{MIN_DIGITS, length_bit};
use crate::model::Payment;
use crate::names::NameKey;
use crate::refs::{Windows, windows_where};
use crate::text::{Fnv, compact_hash, compact_into, hash64};

/// What a payment says, normalised once.
#[derive(Debug)]
pub(crate) struct Probe {
    pub(crate) windows: Windows,
    /// Per window: the hash of its compact form if a contract or receivable key can have its
    /// length, and of its digits if a digits key can have their count (else 0).
    pub(crate) keys: Vec<(u64, u64)>,
    /// Hash of the compact remittance and reference (for duplicates), 0 when empty.
    pub(crate) text_hash: u64,
    /// Escrow id of the receiving account, if it is one.
    pub(crate) receiving: Option<u32>,
    /// Installment numbers the remittance names (`第3期`, `inst 3`).
    pub(crate) installments: Vec<u16>,
    /// Compact remittance and reference, built on first use (only a unit check needs it).
    pub(crate) compact_text: std::cell::OnceCell<String>,
    /// Hash of the compact payer account.
    pub(crate) account: Option<u64>,
    pub(crate) name: NameKey,
    pub(crate) name_given: bool,
    /// Names in the remittance text (as written, normalised), read only when the bank gave
    /// no usable payer name (issue 19: foreign files carry it in the free text).
    pub(crate) text_names: Vec<(String, NameKey)>,
}

pub(crate) fn probe(ledger: &Ledger, p: &Payment) -> Probe {
    let texts = [p.payment_reference.as_deref(), p.remittance.as_deref()];
    let mut text = Fnv::new();
    let mut text_len = 0;
    for t in texts.iter().flatten() {
        text_len += compact_into(&mut text, t);
    }
    // Only windows some key could have: an exact key length, a digit count within one of a
    // contract's (typos), or a cut-short number at the end.
    let [contract_lens, receivable_lens, digit_lens] = ledger.lengths;
    let near = digit_lens | digit_lens << 1 | digit_lens >> 1;
    let keep = |len: usize, digits: usize, at_end: bool| {
        (contract_lens | receivable_lens) & length_bit(len) != 0
            || (digits >= MIN_DIGITS && near & length_bit(digits) != 0)
            || (at_end && digits >= MIN_DIGITS)
    };
    let windows = windows_where(texts.iter().flatten().copied(), keep);
    let keys = windows
        .iter()
        .map(|w| {
            let h = if (contract_lens | receivable_lens) & length_bit(w.compact.len()) != 0 {
                hash64(w.compact.as_bytes())
            } else {
                0
            };
            let dh = if w.digits.len() >= MIN_DIGITS && digit_lens & length_bit(w.digits.len()) != 0
            {
                hash64(w.digits.as_bytes())
            } else {
                0
            };
            (h, dh)
        })
        .collect();
    let name = p
        .payer_name
        .as_deref()
        .map(NameKey::new)
        .unwrap_or_default();
    let text_names = if name.is_empty() {
        texts
            .iter()
            .flatten()
            .flat_map(|t| crate::names::names_in_text(t))
            .collect()
    } else {
        Vec::new()
    };
    Probe {
        windows,
        keys,
        text_hash: if text_len == 0 { 0 } else { text.finish() },
        receiving: ledger.escrow_of(&p.receiving_account),
        compact_text: std::cell::OnceCell::new(),
        installments: texts
            .iter()
            .flatten()
            .flat_map(|t| installments(t))
            .collect(),
        account: p
            .payer_account
            .as_deref()
            .map(compact_hash)
            .filter(|(_, len)| *len > 0)
            .map(|(h, _)| h),
        name,
        text_names,
        name_given: p
            .payer_name
            .as_deref()
            .is_some_and(|n| !n.trim().is_empty()),
    }
}

/// Installment numbers named in a remittance: `第3期`, `第 3 期`, `inst 3`, `installment 3`.
fn installments(text: &str) -> Vec<u16> {
    let mut out = Vec::new();
    if text.contains('期') {
        for (i, _) in text.match_indices('第') {
            let rest = text
                .get(i + '第'.len_utf8()..)
                .unwrap_or_default()
                .trim_start();
            let n: String = rest.chars().take_while(char::is_ascii_digit).collect();
            let after = rest.get(n.len()..).unwrap_or_default().trim_start();
            if after.starts_with('期')
                && let Ok(n) = n.parse()
            {
                out.push(n);
            }
        }
    }
    if !text
        .as_bytes()
        .windows(4)
        .any(|w| w.eq_ignore_ascii_case(b"inst"))
    {
        return out;
    }
    let lower = text.to_ascii_lowercase();
    for (i, m) in lower.match_indices("inst") {
        let rest = lower.get(i + m.len()..).unwrap_or_default();
        let rest = rest
            .strip_prefix("allment")
            .unwrap_or(rest)
            .trim_start_matches([' ', '.', '#']);
        let n: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if let Ok(n) = n.parse() {
            out.push(n);
        }
    }
    out
}

/// Same payer, amount and reference (R-P5 duplicate): payer account (else name), amount,
/// currency, and the compact remittance (else the end-to-end id).
pub(crate) fn dedup_key(p: &Payment, probe: &Probe) -> Option<u64> {
    let mut h = Fnv::new();
    match probe.account {
        Some(a) => h.write(&a.to_le_bytes()),
        None if !probe.name.is_empty() => {
            h.write(probe.name.han.as_bytes());
            for t in &probe.name.tokens {
                h.write(t.as_bytes());
            }
            &mut h
        }
        None => return None,
    };
    h.write(&[0x1f]);
    let amount = p.amount.normalize();
    h.write(&amount.mantissa().to_le_bytes())
        .write(&amount.scale().to_le_bytes());
    h.write(&[0x1f]).write(p.currency.as_bytes()).write(&[0x1f]);
    if probe.text_hash == 0 {
        if let Some(e) = &p.end_to_end_id {
            h.write(&compact_hash(e).0.to_le_bytes());
        }
    } else {
        h.write(&probe.text_hash.to_le_bytes());
    }
    Some(h.finish())
}
