//! Field `:86:` (information to account owner) and its common bank dialects:
//!
//! * German DK/ZKA structure `GVC?00posting text?10prima nota?20…?29 purpose?30 bank?31
//!   account?32…?33 name?34…?60…?63` (any separator, e.g. Triodos uses `>`), with the SEPA
//!   keywords `EREF+ KREF+ MREF+ CRED+ DEBT+ SVWZ+ ABWA+ ABWE+ IBAN+ BIC+ COAM+ OAMT+`
//!   inside the purpose; subfields wrap across lines at any character.
//! * SWIFT/Dutch code words `/EREF/…/NAME/…/REMI/…/IBAN/…` (ING, Rabobank, ABN AMRO SEPA).
//! * mBank (Poland) `…; Z RACH.: …; OD: …; TYT.: …; TNR: …`.
//! * Anything else is free text: the remittance information is the text itself.

use std::borrow::Cow;
use std::ops::Range;

use super::compact::{Key, Span};
use crate::text::trim_offsets;

/// What `:86:` says about a transaction, per dialect.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Info {
    /// Remittance information (SEPA `SVWZ+`, `/REMI/`, mBank `TYT.:`, or the free text).
    pub remittance: Option<String>,
    /// Counterparty name (`?32`+`?33`, `/NAME/`, `OD:`).
    pub counterparty_name: Option<String>,
    /// Counterparty account (`?31`, `/IBAN/`, `Z RACH.:`).
    pub counterparty_account: Option<String>,
    /// Counterparty bank (`?30`, `/BIC/`).
    pub counterparty_bank: Option<String>,
    /// End-to-end id (`EREF+`, `/EREF/`).
    pub end_to_end_id: Option<String>,
    /// Structured creditor reference (`/REMI/…/CDTRREF/`).
    pub payment_reference: Option<String>,
    /// Other subfields by name (`gvc`, `posting_text`, `prima_nota`, `mandate_reference`…).
    pub extra: Vec<(Cow<'static, str>, String)>,
}

/// What `:86:` says, as spans of the statement's text buffer (see [`parse_into`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Found {
    pub(crate) remittance: Option<Span>,
    pub(crate) counterparty_name: Option<Span>,
    pub(crate) counterparty_account: Option<Span>,
    pub(crate) counterparty_bank: Option<Span>,
    pub(crate) end_to_end_id: Option<Span>,
    pub(crate) payment_reference: Option<Span>,
}

/// Buffers reused from one transaction to the next (no allocation once they have grown).
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    purpose: String,
    name: String,
    main_purpose: String,
    more_purpose: String,
    seventies: String,
    starts: Vec<usize>,
    marks: Vec<(usize, &'static str)>,
}

/// Where the values go: the statement's text buffer and its list of extra fields.
pub(crate) struct Out<'x> {
    pub(crate) text: &'x mut String,
    pub(crate) extras: &'x mut Vec<(Key, Span)>,
}

/// A text at hand that also sits in the output buffer at `base`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Held<'t> {
    pub(crate) text: &'t str,
    pub(crate) base: usize,
}

impl<'t> Held<'t> {
    /// The part `r` of the text, trimmed (like `str::trim`); `None` when that leaves nothing
    /// (or `r` is not a range of the text).
    fn trimmed(&self, r: Range<usize>) -> Option<Span> {
        let v = self.text.get(r.clone())?;
        let (from, to) = trim_offsets(v);
        (from < to).then(|| Span::new(self.base + r.start + from, self.base + r.start + to))
    }

    fn str(&self, r: Range<usize>) -> &'t str {
        self.text.get(r).unwrap_or_default()
    }
}

impl Out<'_> {
    /// Append a text built here; it can then be cut into spans.
    fn store<'t>(&mut self, s: &'t str) -> Held<'t> {
        let base = self.text.len();
        self.text.push_str(s);
        Held { text: s, base }
    }

    /// Append `s` trimmed, unless that leaves nothing.
    fn store_trimmed(&mut self, s: &str) -> Option<Span> {
        let (from, to) = trim_offsets(s);
        let t = s.get(from..to).unwrap_or_default();
        (!t.is_empty()).then(|| {
            let base = self.text.len();
            self.text.push_str(t);
            Span::new(base, base + t.len())
        })
    }

    /// An extra field with the trimmed value `r` of `h`, unless empty.
    fn push(&mut self, key: &'static str, h: Held<'_>, r: Range<usize>) {
        if let Some(v) = h.trimmed(r) {
            self.extras.push((Key::Static(key), v));
        }
    }

    /// An extra field whose name comes from the input, unless the value is empty.
    fn push_named(&mut self, key: &str, h: Held<'_>, r: Range<usize>) {
        if let Some(v) = h.trimmed(r) {
            let k = self.text.len();
            self.text.push_str(key);
            self.extras
                .push((Key::Text(Span::new(k, self.text.len())), v));
        }
    }

    /// An extra field with a value built here, trimmed, unless empty.
    fn push_built(&mut self, key: &'static str, s: &str) {
        if let Some(v) = self.store_trimmed(s) {
            self.extras.push((Key::Static(key), v));
        }
    }
}

/// Set `slot` to the trimmed value `r` of `h`, unless it is set already or the value is empty.
fn set(slot: &mut Option<Span>, h: Held<'_>, r: Range<usize>) {
    if slot.is_none() {
        *slot = h.trimmed(r);
    }
}

/// Interpret the decoded `:86:` text (lines separated by `\n`) into an owned [`Info`].
pub(crate) fn parse(text: &str) -> Info {
    let mut buf = String::with_capacity(text.len() * 2);
    let mut extras = Vec::new();
    let mut scratch = Scratch::default();
    buf.push_str(text);
    let full = Span::new(0, text.len());
    let joined_text: String = text.split('\n').collect();
    let base = if joined_text.len() == text.len() {
        0
    } else {
        buf.push_str(&joined_text);
        text.len()
    };
    let joined = Held {
        text: &joined_text,
        base,
    };
    let found = parse_into(
        full,
        joined,
        &mut Out {
            text: &mut buf,
            extras: &mut extras,
        },
        &mut scratch,
    );
    let get = |s: Option<Span>| s.and_then(|s| buf.get(s.range())).map(str::to_string);
    Info {
        remittance: get(found.remittance),
        counterparty_name: get(found.counterparty_name),
        counterparty_account: get(found.counterparty_account),
        counterparty_bank: get(found.counterparty_bank),
        end_to_end_id: get(found.end_to_end_id),
        payment_reference: get(found.payment_reference),
        extra: extras
            .iter()
            .map(|(k, v)| {
                let key: Cow<'static, str> = match *k {
                    Key::Static(k) => Cow::Borrowed(k),
                    Key::Text(s) => Cow::Owned(buf.get(s.range()).unwrap_or_default().into()),
                };
                (key, buf.get(v.range()).unwrap_or_default().to_string())
            })
            .collect(),
    }
}

/// Interpret a `:86:` text: `full` is the decoded text (lines separated by `\n`) in
/// `out.text`, `joined` the same without the line breaks (in `out.text` too, at `full` when it
/// is one line). Values are spans of them or of texts appended to `out.text`; extra fields are
/// appended to `out.extras` in the order found.
pub(crate) fn parse_into(
    full: Span,
    joined: Held<'_>,
    out: &mut Out<'_>,
    scratch: &mut Scratch,
) -> Found {
    if let Some(found) = german(joined, out, scratch) {
        return found;
    }
    if let Some(found) = swift_codes(joined, out) {
        return found;
    }
    if let Some(found) = mbank(joined, out) {
        return found;
    }
    // Free text: the whole text is the remittance information.
    let text = out.text.get(full.range()).unwrap_or_default();
    let (from, to) = trim_offsets(text);
    Found {
        remittance: (from < to).then(|| Span::new(full.start() + from, full.start() + to)),
        ..Found::default()
    }
}

/// `GVC` + separator + two-digit subfields.
fn german(j: Held<'_>, out: &mut Out<'_>, sc: &mut Scratch) -> Option<Found> {
    // Some banks put a blank before the GVC (`:86: 020?00…`).
    let lead = j.text.len() - j.text.trim_start().len();
    let t = j.text.get(lead..)?;
    let b = t.as_bytes();
    let gvc = t.get(..3)?;
    if !gvc.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    // Ranges of `t` as ranges of `j`.
    let at = |from: usize, to: usize| (lead + from)..(lead + to);
    let mut found = Found::default();
    if b.len() == 3 {
        out.push("gvc", j, at(0, 3));
        return Some(found);
    }
    let sep = *b.get(3)?;
    let starts_subfield = |i: usize| {
        b.get(i) == Some(&sep)
            && b.get(i + 1).is_some_and(u8::is_ascii_digit)
            && b.get(i + 2).is_some_and(u8::is_ascii_digit)
    };
    if sep.is_ascii_alphanumeric() || sep == b' ' || !starts_subfield(3) {
        return None;
    }
    out.push("gvc", j, at(0, 3));
    sc.purpose.clear();
    sc.name.clear();
    // Grown once to the text's size (the buffers live for a file, which may be short).
    sc.purpose.reserve(t.len());
    sc.main_purpose.reserve(t.len());
    sc.name.reserve(t.len().min(256));
    // ?20–?29 and ?60–?63 as written, for audit (the remittance is cut from both).
    sc.main_purpose.clear();
    sc.more_purpose.clear();
    sc.seventies.clear();
    // Where each purpose subfield starts: a keyword may begin right there.
    sc.starts.clear();
    let mut from = 3;
    loop {
        // The next separator followed by two digits.
        let mut to = from + 1;
        loop {
            match b.get(to..).and_then(|r| memchr::memchr(sep, r)) {
                Some(k) if starts_subfield(to + k) => {
                    to += k;
                    break;
                }
                Some(k) => to += k + 1,
                None => {
                    to = b.len();
                    break;
                }
            }
        }
        let code = t.get(from + 1..from + 3).unwrap_or_default();
        let value = t.get(from + 3..to).unwrap_or_default();
        let v = at(from + 3, to);
        // The two digits after the separator (compared as bytes: no string comparisons).
        let digits = (
            b.get(from + 1).copied().unwrap_or_default(),
            b.get(from + 2).copied().unwrap_or_default(),
        );
        match digits {
            (b'0', b'0') => out.push("posting_text", j, v),
            (b'1', b'0') => out.push("prima_nota", j, v),
            (b'2', b'0'..=b'9') => {
                sc.starts.push(sc.purpose.len());
                sc.purpose.push_str(value);
                sc.main_purpose.push_str(value);
            }
            (b'6', b'0'..=b'3') => {
                sc.starts.push(sc.purpose.len());
                sc.purpose.push_str(value);
                sc.more_purpose.push_str(value);
            }
            (b'3', b'0') => set(&mut found.counterparty_bank, j, v),
            (b'3', b'1') => set(&mut found.counterparty_account, j, v),
            (b'3', b'2' | b'3') => sc.name.push_str(value),
            (b'3', b'4') => out.push("text_key_extension", j, v),
            // Non-standard ?70–?79 (seen as a second name/purpose block) form one text.
            (b'7', _) => sc.seventies.push_str(value),
            _ => out.push_named(&format!("subfield_{code}"), j, v),
        }
        if to >= b.len() {
            break;
        }
        from = to;
    }
    if found.counterparty_name.is_none() {
        found.counterparty_name = out.store_trimmed(&sc.name);
    }
    out.push_built("subfield_70", &sc.seventies);
    // The purpose exactly as written (not trimmed), for audit.
    let mut stored = None;
    for (key, text) in [
        ("purpose", &sc.main_purpose),
        ("purpose_continued", &sc.more_purpose),
    ] {
        if !text.trim().is_empty() {
            let h = out.store(text);
            out.extras
                .push((Key::Static(key), Span::new(h.base, h.base + text.len())));
            stored.get_or_insert(h.base);
        }
    }
    // Without ?60–?63 the purpose is exactly the text just stored: cut it from there.
    let stored = stored.filter(|_| sc.more_purpose.is_empty());
    sepa_keywords(
        &sc.purpose,
        stored,
        &sc.starts,
        &mut sc.marks,
        out,
        &mut found,
    );
    Some(found)
}

/// A word of up to four bytes as one number (its length in the lowest byte), so a word can be
/// compared with the keys below without a `memcmp` call.
const fn word(w: &[u8]) -> u64 {
    let mut v = 0u64;
    let mut i = 0;
    while i < w.len() && i < 4 {
        v = (v << 8) | w[i] as u64;
        i += 1;
    }
    (v << 8) | w.len() as u64
}

/// [`word`] of the bytes of `b` in `range`, if it lies inside `b` and is at most 4 long.
fn word_at(b: &[u8], range: Range<usize>) -> Option<u64> {
    let w = b.get(range)?;
    (w.len() <= 4).then(|| word(w))
}

const SEPA_KEYS: [(u64, &str); 13] = [
    (word(b"EREF"), "EREF"),
    (word(b"KREF"), "KREF"),
    (word(b"MREF"), "MREF"),
    (word(b"CRED"), "CRED"),
    (word(b"DEBT"), "DEBT"),
    (word(b"SVWZ"), "SVWZ"),
    (word(b"ABWA"), "ABWA"),
    (word(b"ABWE"), "ABWE"),
    (word(b"IBAN"), "IBAN"),
    (word(b"BIC"), "BIC"),
    (word(b"COAM"), "COAM"),
    (word(b"OAMT"), "OAMT"),
    (word(b"PURP"), "PURP"),
];

fn sepa_key(w: Option<u64>) -> Option<&'static str> {
    let w = w?;
    SEPA_KEYS
        .iter()
        .find(|(k, _)| *k == w)
        .map(|(_, name)| *name)
}

/// Split a German purpose text at `KEY+` markers.
fn sepa_keywords(
    purpose: &str,
    stored: Option<usize>,
    starts: &[usize],
    marks: &mut Vec<(usize, &'static str)>,
    out: &mut Out<'_>,
    found: &mut Found,
) {
    let b = purpose.as_bytes();
    marks.clear();
    // A key is an ASCII word followed by `+`; it counts at the start of a subfield or after a
    // character that is not a letter or digit. Keys are letters, so they never overlap and
    // at most one ends at a given `+` (only `BIC` has three letters, no other key ends in it).
    let mut from = 0;
    while let Some(k) = b.get(from..).and_then(|r| memchr::memchr(b'+', r)) {
        let plus = from + k;
        from = plus + 1;
        let (key, i) = match plus
            .checked_sub(4)
            .map(|i| (sepa_key(word_at(b, i..plus)), i))
        {
            Some((Some(key), i)) => (key, i),
            _ => match plus.checked_sub(3) {
                Some(i) if sepa_key(word_at(b, i..plus)) == Some("BIC") => ("BIC", i),
                _ => continue,
            },
        };
        let before_ok = i == 0
            || starts.contains(&i)
            || b.get(i - 1)
                .is_some_and(|p| p.is_ascii() && !p.is_ascii_alphanumeric());
        if before_ok {
            marks.push((i, key));
        }
    }
    if marks.is_empty() {
        if found.remittance.is_none() {
            found.remittance = match stored {
                Some(base) => Held {
                    text: purpose,
                    base,
                }
                .trimmed(0..purpose.len()),
                None => out.store_trimmed(purpose),
            };
        }
        return;
    }
    let p = match stored {
        Some(base) => Held {
            text: purpose,
            base,
        },
        None => out.store(purpose),
    };
    let mut svwz = None;
    for (n, &(pos, key)) in marks.iter().enumerate() {
        let end = marks.get(n + 1).map_or(purpose.len(), |m| m.0);
        let v = (pos + key.len() + 1)..end;
        match key {
            "EREF" => set(&mut found.end_to_end_id, p, v),
            "SVWZ" => svwz = Some(v),
            "IBAN" => set(&mut found.counterparty_account, p, v),
            "BIC" => set(&mut found.counterparty_bank, p, v),
            "KREF" => out.push("customer_reference_sepa", p, v),
            "MREF" => out.push("mandate_reference", p, v),
            "CRED" => out.push("creditor_id", p, v),
            "DEBT" => out.push("debtor_id", p, v),
            "ABWA" => out.push("ultimate_debtor", p, v),
            "ABWE" => out.push("ultimate_creditor", p, v),
            "COAM" => out.push("compensation_amount", p, v),
            "OAMT" => out.push("original_amount", p, v),
            _ => out.push("purpose_code", p, v),
        }
    }
    let first = marks.first().map_or(0, |m| m.0);
    out.push("purpose_prefix", p, 0..first);
    match svwz {
        Some(v) => set(&mut found.remittance, p, v),
        None => set(&mut found.remittance, p, 0..purpose.len()),
    }
}

/// Code words that start a subfield in the SWIFT/Dutch structure, with the extra field name
/// used for the ones without a field of their own (and the code as a [`word`]).
const SWIFT_CODES: &[(u64, &str, &str)] = &[
    (word(b"ACCW"), "ACCW", "accw"),
    (word(b"ADDR"), "ADDR", "addr"),
    (word(b"BENM"), "BENM", "benm"),
    (word(b"BIC"), "BIC", "bic"),
    (word(b"BUSP"), "BUSP", "busp"),
    (word(b"CHGS"), "CHGS", "chgs"),
    (word(b"CNTP"), "CNTP", "cntp"),
    (word(b"CSID"), "CSID", "csid"),
    (word(b"EREF"), "EREF", "eref"),
    (word(b"EXCH"), "EXCH", "exch"),
    (word(b"IBAN"), "IBAN", "iban"),
    (word(b"IREF"), "IREF", "iref"),
    (word(b"ISDT"), "ISDT", "isdt"),
    (word(b"MARF"), "MARF", "marf"),
    (word(b"NAME"), "NAME", "name"),
    (word(b"NRTX"), "NRTX", "nrtx"),
    (word(b"OCMT"), "OCMT", "ocmt"),
    (word(b"ORDP"), "ORDP", "ordp"),
    (word(b"PREF"), "PREF", "pref"),
    (word(b"PURP"), "PURP", "purp"),
    (word(b"PT"), "PT", "pt"),
    (word(b"PY"), "PY", "py"),
    (word(b"REMI"), "REMI", "remi"),
    (word(b"RTRN"), "RTRN", "rtrn"),
    (word(b"SVCL"), "SVCL", "svcl"),
    (word(b"TRCD"), "TRCD", "trcd"),
    (word(b"TRTP"), "TRTP", "trtp"),
    (word(b"ULTB"), "ULTB", "ultb"),
    (word(b"ULTD"), "ULTD", "ultd"),
];

fn swift_codes(j: Held<'_>, out: &mut Out<'_>) -> Option<Found> {
    let joined = j.text;
    let bytes = joined.as_bytes();
    // The code word opened by a `/` at `i`: `/CODE/`.
    let starts = |i: usize| -> Option<(&'static str, &'static str)> {
        if bytes.get(i) != Some(&b'/') {
            return None;
        }
        let rest = bytes.get(i + 1..)?;
        let close = rest.iter().take(5).position(|&c| c == b'/')?;
        let w = word_at(rest, 0..close)?;
        SWIFT_CODES
            .iter()
            .find(|(k, _, _)| *k == w)
            .map(|(_, code, name)| (*code, *name))
    };
    // The next `/` at or after `from` that opens a code word.
    let next = |mut from: usize| loop {
        let i = from + memchr::memchr(b'/', bytes.get(from..)?)?;
        if let Some(c) = starts(i) {
            return Some((i, c));
        }
        from = i + 1;
    };
    let mut mark = Some((0, starts(0)?));
    let mut found = Found::default();
    while let Some((pos, (code, name))) = mark {
        // "/BENM//NAME/": the `/` closing BENM is also the one opening NAME; keep both marks.
        mark = next(pos + 1);
        let end = mark.map_or(joined.len(), |m| m.0);
        let from = (pos + code.len() + 2).min(end);
        let v = from..end;
        match code {
            "EREF" => set(&mut found.end_to_end_id, j, v),
            "NAME" => set(&mut found.counterparty_name, j, v),
            "IBAN" => set(&mut found.counterparty_account, j, v),
            "BIC" => set(&mut found.counterparty_bank, j, v),
            "REMI" => remittance_code(j, v, &mut found),
            "CNTP" => {
                let mut parts = split_ranges(j.str(v.clone()), '/', v.start);
                set(
                    &mut found.counterparty_account,
                    j,
                    parts.next().unwrap_or(0..0),
                );
                set(
                    &mut found.counterparty_bank,
                    j,
                    parts.next().unwrap_or(0..0),
                );
                set(
                    &mut found.counterparty_name,
                    j,
                    parts.next().unwrap_or(0..0),
                );
            }
            "MARF" => out.push("mandate_reference", j, v),
            "CSID" => out.push("creditor_id", j, v),
            _ => {
                let value = j.str(v.clone());
                let start = v.start + (value.len() - value.trim_start_matches('/').len());
                let inner = value.trim_matches('/');
                out.push(name, j, start..start + inner.len());
            }
        }
    }
    if found.remittance.is_none() {
        set(&mut found.remittance, j, 0..joined.len());
    }
    Some(found)
}

/// The ranges of the parts of `s` between `sep`, offset by `base`.
fn split_ranges(s: &str, sep: char, base: usize) -> impl Iterator<Item = Range<usize>> + '_ {
    let mut at = base;
    s.split(sep).map(move |part| {
        let r = at..at + part.len();
        at = r.end + sep.len_utf8();
        r
    })
}

/// `/REMI/` value: `USTD//free text/`, `STRD/CUR/…/CDTRREF/RF…`, or plain text.
fn remittance_code(j: Held<'_>, r: Range<usize>, found: &mut Found) {
    let v = j.str(r.clone()).trim_end_matches('/');
    let r = r.start..r.start + v.len();
    if v.starts_with("USTD//") {
        set(&mut found.remittance, j, r.start + 6..r.end);
    } else if let Some(i) = v.find("CDTRREF/") {
        let reference = v.get(i + 8..).unwrap_or_default();
        let start = r.start + i + 8;
        let first = reference.split('/').next().unwrap_or_default();
        set(&mut found.payment_reference, j, start..start + first.len());
        set(&mut found.remittance, j, start..r.end);
    } else {
        set(&mut found.remittance, j, r);
    }
}

/// mBank: `911 TRANSAKCJA …; Z RACH.: …; OD: …; TYT.: …; TNR: …`.
fn mbank(j: Held<'_>, out: &mut Out<'_>) -> Option<Found> {
    let joined = j.text;
    if !joined.contains("TYT.:") {
        return None;
    }
    let mut found = Found::default();
    for (n, r) in split_ranges(joined, ';', 0).enumerate() {
        let raw = j.str(r.clone());
        let part = raw.trim();
        let p0 = r.start + (raw.len() - raw.trim_start().len());
        let Some(colon) = part.find(':') else {
            if n == 0 {
                out.push("posting_text", j, p0..p0 + part.len());
            }
            continue;
        };
        let key_raw = part.get(..colon).unwrap_or_default();
        let value = (p0 + colon + 1)..(p0 + part.len());
        match key_raw.trim() {
            "Z RACH." | "NA RACH." => set(&mut found.counterparty_account, j, value),
            "OD" | "DLA" => set(&mut found.counterparty_name, j, value),
            "TYT." => set(&mut found.remittance, j, value),
            "TNR" => out.push("transaction_number", j, value),
            k if n == 0 => {
                out.push("posting_text", j, p0..p0 + colon);
                out.push_named(&k.to_lowercase(), j, value);
            }
            k => out.push_named(&k.to_lowercase(), j, value),
        }
    }
    Some(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn german_structure_with_wrapped_subfields() {
        let text = "166?00GUTSCHRIFT?100399?20EREF+EndToEndId TFNR 22 004?21 00001?22\nSVWZ+Verw CTSc-01 BC-PPP TF?23Nr 22 004?30DRESDEFF508?31DE1450880\n0500194785000?32KARL?33        KAUFMANN?70Empfaenger Marta Metzge\nr";
        let i = parse(text);
        assert_eq!(
            i.end_to_end_id.as_deref(),
            Some("EndToEndId TFNR 22 004 00001")
        );
        assert_eq!(
            i.remittance.as_deref(),
            Some("Verw CTSc-01 BC-PPP TFNr 22 004")
        );
        assert_eq!(
            i.counterparty_account.as_deref(),
            Some("DE14508800500194785000")
        );
        assert_eq!(i.counterparty_bank.as_deref(), Some("DRESDEFF508"));
        assert_eq!(i.counterparty_name.as_deref(), Some("KARL        KAUFMANN"));
        assert!(i.extra.contains(&("gvc".into(), "166".into())));
        assert!(
            i.extra
                .contains(&("subfield_70".into(), "Empfaenger Marta Metzger".into()))
        );
    }

    #[test]
    fn separator_at_line_end() {
        let i = parse("109?00SEPA?20EREF+A1 SVWZ+?\n25SONSTIGE GRUENDE?32TESTER");
        assert_eq!(i.remittance.as_deref(), Some("SONSTIGE GRUENDE"));
        assert_eq!(i.end_to_end_id.as_deref(), Some("A1"));
    }

    #[test]
    fn dutch_code_words() {
        let i = parse(
            "/EREF/01-01-2013 12:00 0030000987654321/BENM//NAME/CONTRA ACCOUN\nT HOLDER/REMI//ISDT/2013-07-11",
        );
        assert_eq!(
            i.end_to_end_id.as_deref(),
            Some("01-01-2013 12:00 0030000987654321")
        );
        assert_eq!(
            i.counterparty_name.as_deref(),
            Some("CONTRA ACCOUNT HOLDER")
        );
        let i = parse("/BENM//NAME/JOHN DOE/REMI/Reference 201301234/ISDT/2013-01-02");
        assert_eq!(i.remittance.as_deref(), Some("Reference 201301234"));
    }

    #[test]
    fn mbank_fields() {
        let i = parse(
            "911 TRANSAKCJA COLLECT; ID IPH: XX01; Z RACH.: \n5611401081; OD: JAN NOWAK  \nUL. NIJAKA 1; TYT.: PRZELEW   ; \nTNR: 1791.01",
        );
        assert_eq!(i.counterparty_account.as_deref(), Some("5611401081"));
        assert_eq!(
            i.counterparty_name.as_deref(),
            Some("JAN NOWAK  UL. NIJAKA 1")
        );
        assert_eq!(i.remittance.as_deref(), Some("PRZELEW"));
    }

    #[test]
    fn trim_offsets_agree_with_str_trim() {
        let pieces = [
            " ", "\t", "\n", "\u{b}", "\u{a0}", "\u{3000}", "a", "ü", "-", "\r",
        ];
        let mut state = 0x9e37_79b9_u32;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let mut n = state;
            let mut s = String::new();
            for _ in 0..(n % 7) {
                n /= 7;
                s.push_str(pieces[usize::try_from(n % 10).unwrap()]);
            }
            let (from, to) = trim_offsets(&s);
            let t = s.trim();
            let start = s.len() - s.trim_start().len();
            if t.is_empty() {
                assert!(from >= to, "{s:?}");
            } else {
                assert_eq!((from, to), (start, start + t.len()), "{s:?}");
            }
        }
    }

    #[test]
    fn free_text() {
        let i = parse("BEA   NR:XXX1234   21.05.11/12.54 DIRCKIII");
        assert_eq!(
            i.remittance.as_deref(),
            Some("BEA   NR:XXX1234   21.05.11/12.54 DIRCKIII")
        );
    }
}
