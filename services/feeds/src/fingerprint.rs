//! Stable transaction fingerprints for idempotent ingestion (R-P2: the same file or line
//! arriving twice must never count twice).
//!
//! # Rule (version `v1`)
//!
//! `fingerprint = hex(sha256(sha256(basis) ‖ U+001F ‖ occurrence))`, where the basis is the
//! following fields joined by U+001F:
//!
//! 1. the literal `feeds-fp-v1`;
//! 2. the account, upper-cased, letters and digits only (`DE19 6628…` = `de196628…`);
//! 3. the currency;
//! 4. the signed amount, normalised (`9`, `9,00` and `9.000` are the same amount);
//! 5. the value date, or the booking date when there is no value date;
//! 6. the bank reference, 7. the end-to-end id, 8. the customer reference — each upper-cased
//!    without whitespace, and empty when it is a placeholder (`NONREF`, `NOTPROVIDED`, `NONE`);
//! 9. the counterparty account (letters and digits, upper-cased);
//! 10. the remittance information without any whitespace, upper-cased (so a bank that wraps
//!     the same text at another column still matches);
//!
//! and the occurrence is how many earlier transactions *in the same file* had the same basis
//! (0 for the first, written in decimal): two identical-looking lines in one file are two
//! payments.
//!
//! The booking date, the status, the bank transaction code and free-text descriptions are
//! deliberately left out: a camt.054 notification often has no booking date while the
//! camt.053 statement has one, an MT942 line is reported before its final booking, and banks
//! word posting texts differently per channel.
//!
//! # What matches and what does not
//!
//! * The same line reported in an MT942 and later in the MT940 of the same bank, or in a
//!   camt.054/camt.052 and later in the camt.053, gets the same fingerprint: those messages
//!   are generated from the same booking record (same account notation, amount, value date,
//!   references, remittance text).
//! * Two genuinely different transactions differ in at least one of amount, value date,
//!   references, counterparty or remittance; if they agree on all of them *within one file*
//!   the occurrence number still separates them.
//!
//! Limits: across format families (an MT940 and a camt.053 of the same account) the account
//! notation and references usually differ, so fingerprints differ. A bank that changes the
//! remittance text between the intraday and the end-of-day report breaks the match. Two
//! identical-looking payments delivered in *different* intraday files (each first of its
//! kind in its file) collide; payments must then be told apart by reconciliation. Pending
//! camt.052 entries share the fingerprint of their later booking: ingest booked entries only.

use std::fmt;

use crate::model::Transaction;

/// Version tag mixed into every fingerprint; bump it when the rule changes.
pub const VERSION: &str = "feeds-fp-v1";

const PLACEHOLDERS: &[&str] = &["NONREF", "NOTPROVIDED", "NONE", "N/A", "NA", "-"];

/// Where basis bytes go: a string (for [`basis`]) or a hasher (no allocation).
trait Sink: fmt::Write {
    fn put(&mut self, bytes: &[u8]);

    /// Put the bytes `keep` accepts of an ASCII text, upper-cased.
    fn put_kept_upper(&mut self, ascii: &[u8], keep: Keep) {
        for &b in ascii {
            if keep.byte(b) {
                self.put(&[b.to_ascii_uppercase()]);
            }
        }
    }

    /// [`Sink::put_kept_upper`] if `text` is ASCII (then `true`); else nothing is put.
    fn put_if_ascii(&mut self, text: &[u8], keep: Keep) -> bool {
        let ascii = text.is_ascii();
        if ascii {
            self.put_kept_upper(text, keep);
        }
        ascii
    }
}

impl Sink for String {
    fn put(&mut self, bytes: &[u8]) {
        self.push_str(&String::from_utf8_lossy(bytes));
    }
}

/// SHA-256 (FIPS 180-4) driven through the crate's block function: the basis is buffered
/// here anyway, so the generic `Digest` layer's second buffer, its padding and copies are
/// skipped. Checked against `Sha256::digest` for every length up to several blocks.
#[derive(Clone)]
struct Sha256Blocks {
    state: [u32; 8],
    /// Bytes compressed so far (whole blocks).
    done: u64,
}

/// The initial hash value of SHA-256 (FIPS 180-4, 5.3.3).
const SHA256_H0: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

impl Sha256Blocks {
    const fn new() -> Self {
        Self {
            state: SHA256_H0,
            done: 0,
        }
    }

    /// Compress the whole 64-byte blocks at the start of `bytes`; returns how many bytes
    /// that was.
    // `compress256` takes `generic-array` 0.14 blocks, which that crate marks deprecated.
    #[allow(deprecated)]
    fn blocks(&mut self, bytes: &[u8]) -> usize {
        use sha2::digest::generic_array::GenericArray;
        let mut n = 0;
        for block in bytes.chunks_exact(64) {
            let block = GenericArray::from_slice(block);
            sha2::compress256(&mut self.state, std::slice::from_ref(block));
            n += 64;
        }
        self.done += n as u64;
        n
    }

    /// Pad the final bytes (fewer than 64), compress and return the digest; starts over.
    fn finish(&mut self, tail: &[u8]) -> [u8; 32] {
        let bits = (self.done + tail.len() as u64).wrapping_mul(8);
        let mut last = [0u8; 128];
        let n = tail.len().min(63);
        last.get_mut(..n)
            .unwrap_or_default()
            .copy_from_slice(tail.get(..n).unwrap_or_default());
        if let Some(b) = last.get_mut(n) {
            *b = 0x80;
        }
        // The length goes into the last 8 bytes of the first or (no room) second block.
        let size = if n < 56 { 64 } else { 128 };
        if let Some(len) = last.get_mut(size - 8..size) {
            len.copy_from_slice(&bits.to_be_bytes());
        }
        self.blocks(last.get(..size).unwrap_or_default());
        let mut out = [0u8; 32];
        for (o, w) in out.chunks_exact_mut(4).zip(self.state) {
            o.copy_from_slice(&w.to_be_bytes());
        }
        *self = Self::new();
        out
    }
}

/// SHA-256 of a short input, in one go.
fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut h = Sha256Blocks::new();
    let n = h.blocks(bytes);
    h.finish(bytes.get(n..).unwrap_or_default())
}

/// A power of two (see [`Hashing::copy_kept`]), at least two SHA-256 blocks.
const BUF: usize = 256;

/// Buffers bytes in front of SHA-256 so short fields do not each call the compressor.
struct Hashing {
    hasher: Sha256Blocks,
    buf: [u8; BUF],
    len: usize,
}

impl Hashing {
    fn new() -> Self {
        Self {
            hasher: Sha256Blocks::new(),
            buf: [0; BUF],
            len: 0,
        }
    }

    /// Compress the whole blocks of the buffer and keep the rest (fewer than 64 bytes, so
    /// at least `BUF - 64` bytes are free afterwards).
    fn flush(&mut self) {
        let n = self
            .hasher
            .blocks(self.buf.get(..self.len).unwrap_or_default());
        self.buf.copy_within(n..self.len, 0);
        self.len -= n;
    }

    fn digest(mut self) -> [u8; 32] {
        self.digest_reset()
    }

    /// The digest so far; the hasher starts over.
    fn digest_reset(&mut self) -> [u8; 32] {
        self.flush();
        let out = self
            .hasher
            .finish(self.buf.get(..self.len).unwrap_or_default());
        self.len = 0;
        out
    }

    /// Copy the bytes `kept` accepts, upper-cased, into the buffer (flushing when needed).
    /// Branch-free per byte: every byte is written, and the length only advances over kept
    /// ones.
    fn copy_kept(&mut self, ascii: &[u8], kept: &[u8; 256]) {
        const HALF: usize = BUF / 2;
        for chunk in ascii.chunks(HALF) {
            if self.len > HALF {
                self.flush();
            }
            // `len <= HALF` and the chunk has at most `HALF` bytes, so every index stays
            // below `BUF`; the mask only lets the compiler see that.
            let mut len = self.len;
            for &b in chunk {
                let i = usize::from(b);
                self.buf[len & (BUF - 1)] = UPPER[i];
                len += usize::from(kept[i]);
            }
            self.len = len;
        }
    }
}

impl Hashing {
    /// [`Hashing::copy_kept`] for at most `BUF / 2` bytes into a buffer holding at most as
    /// many; returns the bitwise or of the bytes (>= 0x80 if one was not ASCII).
    fn copy_short(&mut self, text: &[u8], kept: &[u8; 256]) -> u8 {
        let mut len = self.len;
        let mut high = 0u8;
        for &b in text {
            let i = usize::from(b);
            self.buf[len & (BUF - 1)] = UPPER[i];
            len += usize::from(kept[i]);
            high |= b;
        }
        self.len = len;
        high
    }
}

impl Sink for Hashing {
    #[inline]
    fn put(&mut self, mut bytes: &[u8]) {
        loop {
            if self.len + bytes.len() > BUF {
                self.flush();
            }
            let room = (BUF - self.len).min(bytes.len());
            let (now, later) = bytes.split_at(room);
            if let Some(dst) = self.buf.get_mut(self.len..self.len + room) {
                dst.copy_from_slice(now);
            }
            self.len += room;
            if later.is_empty() {
                return;
            }
            bytes = later;
        }
    }

    fn put_kept_upper(&mut self, ascii: &[u8], keep: Keep) {
        self.copy_kept(ascii, keep.table());
    }

    fn put_if_ascii(&mut self, text: &[u8], keep: Keep) -> bool {
        const HALF: usize = BUF / 2;
        if text.len() > HALF {
            let ascii = text.is_ascii();
            if ascii {
                self.put_kept_upper(text, keep);
            }
            return ascii;
        }
        // Short texts (nearly all): copy and check in one pass, and take the copy back if a
        // byte was not ASCII.
        if self.len > HALF {
            self.flush();
        }
        let before = self.len;
        let high = self.copy_short(text, keep.table());
        if high >= 0x80 {
            self.len = before;
            return false;
        }
        true
    }
}

impl fmt::Write for Hashing {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.put(s.as_bytes());
        Ok(())
    }
}

/// ASCII bytes that `char::is_whitespace` accepts (tab, LF, VT, FF, CR, space).
const fn is_ascii_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ')
}

/// Every byte upper-cased (ASCII letters; other bytes unchanged).
static UPPER: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = (i as u8).to_ascii_uppercase();
        i += 1;
    }
    t
};

/// 1 for the bytes a rule keeps, else 0 (see [`Keep::byte`]).
const fn keep_table(keep: Keep) -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        let kept = match keep {
            Keep::All => true,
            Keep::Alphanumeric => b.is_ascii_alphanumeric(),
            Keep::NotWhitespace => !is_ascii_space(b),
        };
        t[i] = kept as u8;
        i += 1;
    }
    t
}

static KEEP_ALL: [u8; 256] = keep_table(Keep::All);
static KEEP_ALPHANUMERIC: [u8; 256] = keep_table(Keep::Alphanumeric);
static KEEP_NOT_WHITESPACE: [u8; 256] = keep_table(Keep::NotWhitespace);

/// Which characters a field keeps in the basis.
#[derive(Clone, Copy)]
enum Keep {
    All,
    Alphanumeric,
    NotWhitespace,
}

impl Keep {
    fn table(self) -> &'static [u8; 256] {
        match self {
            Keep::All => &KEEP_ALL,
            Keep::Alphanumeric => &KEEP_ALPHANUMERIC,
            Keep::NotWhitespace => &KEEP_NOT_WHITESPACE,
        }
    }

    fn byte(self, b: u8) -> bool {
        match self {
            Keep::All => true,
            Keep::Alphanumeric => b.is_ascii_alphanumeric(),
            Keep::NotWhitespace => !is_ascii_space(b),
        }
    }

    fn char(self, c: char) -> bool {
        match self {
            Keep::All => true,
            Keep::Alphanumeric => c.is_alphanumeric(),
            Keep::NotWhitespace => !c.is_whitespace(),
        }
    }
}

/// Put `s` upper-cased, keeping only the characters `keep` accepts (ASCII fast path).
fn put_filtered(out: &mut impl Sink, s: &str, keep: Keep) {
    if out.put_if_ascii(s.as_bytes(), keep) {
        return;
    }
    // ASCII runs byte by byte, the other characters one by one.
    let mut utf8 = [0u8; 4];
    let mut rest = s;
    while !rest.is_empty() {
        let run = rest.bytes().position(|b| b >= 0x80).unwrap_or(rest.len());
        out.put_kept_upper(rest.as_bytes().get(..run).unwrap_or_default(), keep);
        rest = rest.get(run..).unwrap_or_default();
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            if keep.char(c) {
                for u in c.to_uppercase() {
                    out.put(u.encode_utf8(&mut utf8).as_bytes());
                }
            }
            rest = chars.as_str();
        }
    }
}

/// True if `s`, without whitespace and upper-cased, is a "no reference" placeholder.
fn is_placeholder(s: &str) -> bool {
    // The longest placeholder has 11 characters; real references are usually longer.
    if s.len() > 48 {
        return false;
    }
    // Every placeholder starts with `N` or `-`: most references are told apart by their
    // first visible byte (non-ASCII goes the long way).
    match s.bytes().find(|&b| !is_ascii_space(b)) {
        Some(b) if b < 0x80 && !matches!(b, b'N' | b'n' | b'-') => return false,
        _ => {}
    }
    // ASCII (nearly always): one pass collecting the non-blank bytes and where they lie.
    let mut kept = [0u8; 12];
    let mut n = 0;
    let mut span: Option<(usize, usize)> = None;
    for (i, &b) in s.as_bytes().iter().enumerate() {
        if b >= 0x80 {
            return is_placeholder_unicode(s);
        }
        if is_ascii_space(b) {
            continue;
        }
        span = Some((span.map_or(i, |(first, _)| first), i));
        match kept.get_mut(n) {
            Some(slot) => *slot = b.to_ascii_uppercase(),
            // More non-blank characters than any placeholder has.
            None => return false,
        }
        n += 1;
    }
    // `s.trim()` longer than 24 bytes: not a placeholder (as in the general rule below).
    if span.is_some_and(|(first, last)| last - first + 1 > 24) {
        return false;
    }
    let kept = kept.get(..n).unwrap_or_default();
    PLACEHOLDERS.iter().any(|p| p.as_bytes() == kept)
}

/// [`is_placeholder`] for any text.
fn is_placeholder_unicode(s: &str) -> bool {
    if s.len() > 48 || s.trim().len() > 24 {
        return false;
    }
    PLACEHOLDERS.iter().any(|p| {
        let mut chars = s.chars().filter(|c| !c.is_whitespace());
        p.chars()
            .all(|pc| chars.next().is_some_and(|c| c.to_ascii_uppercase() == pc))
            && chars.next().is_none()
    })
}

fn put_reference(out: &mut impl Sink, s: Option<&str>) {
    match s {
        Some(r) if !is_placeholder(r) => put_filtered(out, r, Keep::NotWhitespace),
        _ => {}
    }
}

const SEP: &[u8] = "\u{1f}".as_bytes();

/// The fields of a transaction the rule reads, borrowed from either model.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Basis<'t> {
    pub(crate) currency: &'t str,
    pub(crate) amount: rust_decimal::Decimal,
    /// The value date, else the booking date.
    pub(crate) date: Option<chrono::NaiveDate>,
    pub(crate) bank_reference: Option<&'t str>,
    pub(crate) end_to_end_id: Option<&'t str>,
    pub(crate) customer_reference: Option<&'t str>,
    pub(crate) counterparty_account: Option<&'t str>,
    pub(crate) remittance_information: Option<&'t str>,
}

impl<'t> Basis<'t> {
    pub(crate) fn of(tx: &'t Transaction) -> Self {
        Self {
            currency: &tx.currency,
            amount: tx.amount,
            date: tx.value_date.or(tx.booking_date),
            bank_reference: tx.bank_reference.as_deref(),
            end_to_end_id: tx.end_to_end_id.as_deref(),
            customer_reference: tx.customer_reference.as_deref(),
            counterparty_account: tx.counterparty_account.as_deref(),
            remittance_information: tx.remittance_information.as_deref(),
        }
    }
}

/// Write fields 1–10 of the rule, separated by U+001F.
fn write_basis(out: &mut impl Sink, account: &str, tx: &Basis<'_>) {
    write_prefix(out, account, tx.currency);
    write_rest(out, tx);
}

/// Fields 1–3 and the separator after them (the same for every transaction of a statement).
fn write_prefix(out: &mut impl Sink, account: &str, currency: &str) {
    out.put(VERSION.as_bytes());
    out.put(SEP);
    put_filtered(out, account, Keep::Alphanumeric);
    out.put(SEP);
    put_filtered(out, currency.trim(), Keep::All);
    out.put(SEP);
}

/// Fields 4–10.
fn write_rest(out: &mut impl Sink, tx: &Basis<'_>) {
    put_amount(out, tx.amount);
    out.put(SEP);
    if let Some(d) = tx.date {
        put_date(out, d);
    }
    out.put(SEP);
    put_reference(out, tx.bank_reference);
    out.put(SEP);
    put_reference(out, tx.end_to_end_id);
    out.put(SEP);
    put_reference(out, tx.customer_reference);
    out.put(SEP);
    put_filtered(
        out,
        tx.counterparty_account.unwrap_or_default(),
        Keep::Alphanumeric,
    );
    out.put(SEP);
    put_filtered(
        out,
        tx.remittance_information.unwrap_or_default(),
        Keep::NotWhitespace,
    );
}

/// The amount as `Decimal::normalize` displays it (`-9`, `0.01`), without going through the
/// formatting machinery.
fn put_amount(out: &mut impl Sink, amount: rust_decimal::Decimal) {
    let n = amount.normalize();
    // Digits, least significant first (at most 29 for a 96-bit mantissa).
    let mut digits = [0u8; 40];
    let mut len = 0;
    let m = n.mantissa().unsigned_abs();
    match u64::try_from(m) {
        // Nearly every amount: 64-bit division is much cheaper than 128-bit.
        Ok(mut m) => loop {
            if let Some(slot) = digits.get_mut(len) {
                *slot = b'0' + u8::try_from(m % 10).unwrap_or(0);
            }
            len += 1;
            m /= 10;
            if m == 0 {
                break;
            }
        },
        Err(_) => {
            let mut m = m;
            loop {
                if let Some(slot) = digits.get_mut(len) {
                    *slot = b'0' + u8::try_from(m % 10).unwrap_or(0);
                }
                len += 1;
                m /= 10;
                if m == 0 {
                    break;
                }
            }
        }
    }
    let scale = usize::try_from(n.scale()).unwrap_or(0);
    // Leading zeros for values below one (0.01 has digits "1" and scale 2).
    while len <= scale {
        if let Some(slot) = digits.get_mut(len) {
            *slot = b'0';
        }
        len += 1;
    }
    // Sign, digits and point, put at once.
    let mut text = [0u8; 48];
    let mut k = 0;
    let mut emit = |b: u8| {
        if let Some(slot) = text.get_mut(k) {
            *slot = b;
        }
        k += 1;
    };
    if n.is_sign_negative() && !n.is_zero() {
        emit(b'-');
    }
    for i in (0..len).rev() {
        if i + 1 == scale {
            emit(b'.');
        }
        emit(digits.get(i).copied().unwrap_or(b'0'));
    }
    out.put(text.get(..k).unwrap_or_default());
}

/// `YYYY-MM-DD`.
fn put_date(out: &mut impl Sink, d: chrono::NaiveDate) {
    use chrono::Datelike;
    let y = u32::try_from(d.year()).unwrap_or(0);
    let digit = |v: u32| b'0' + u8::try_from(v % 10).unwrap_or(0);
    out.put(&[
        digit(y / 1000),
        digit(y / 100),
        digit(y / 10),
        digit(y),
        b'-',
        digit(d.month() / 10),
        digit(d.month()),
        b'-',
        digit(d.day() / 10),
        digit(d.day()),
    ]);
}

/// The basis of the rule (fields 1–10 joined by U+001F), for inspection and tests.
#[must_use]
pub fn basis(account: &str, tx: &Transaction) -> String {
    let mut out = String::with_capacity(160);
    write_basis(&mut out, account, &Basis::of(tx));
    out
}

/// SHA-256 of the basis, computed without building it.
pub(crate) fn basis_digest(account: &str, tx: &Basis<'_>) -> [u8; 32] {
    let mut h = Hashing::new();
    write_basis(&mut h, account, tx);
    h.digest()
}

/// Collects basis bytes (for [`basis_prefix`]).
struct Bytes<'v>(&'v mut Vec<u8>);

impl Sink for Bytes<'_> {
    fn put(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }

    fn put_kept_upper(&mut self, ascii: &[u8], keep: Keep) {
        let kept = keep.table();
        self.0.extend(
            ascii
                .iter()
                .filter(|b| kept[usize::from(**b)] != 0)
                .map(u8::to_ascii_uppercase),
        );
    }
}

impl fmt::Write for Bytes<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.put(s.as_bytes());
        Ok(())
    }
}

/// The start of the basis shared by the transactions of one account and currency (fields
/// 1–3), into `out` (cleared first), for [`basis_digest_after`].
pub(crate) fn basis_prefix(account: &str, currency: &str, out: &mut Vec<u8>) {
    out.clear();
    write_prefix(&mut Bytes(out), account, currency);
}

/// Computes [`basis_digest`]s one after another with the same buffers.
pub(crate) struct BasisHasher(Hashing);

impl Default for BasisHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for BasisHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BasisHasher")
    }
}

impl BasisHasher {
    pub(crate) fn new() -> Self {
        Self(Hashing::new())
    }

    /// [`basis_digest`] with fields 1–3 already written by [`basis_prefix`] (`tx.currency`
    /// is not read again).
    pub(crate) fn digest_after(&mut self, prefix: &[u8], tx: &Basis<'_>) -> [u8; 32] {
        let h = &mut self.0;
        h.put(prefix);
        write_rest(h, tx);
        h.digest_reset()
    }
}

/// A transaction fingerprint: 32 bytes, shown and serialised as 64 lower-case hex digits.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    /// The raw SHA-256 bytes (e.g. for a `bytea` column).
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

impl serde::Serialize for Fingerprint {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Error of [`Fingerprint::from_str`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a fingerprint is 64 hexadecimal digits, found {0:?}")]
pub struct BadFingerprint(pub String);

impl std::str::FromStr for Fingerprint {
    type Err = BadFingerprint;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadFingerprint(s.to_string());
        if s.len() != 64 {
            return Err(bad());
        }
        let mut out = [0u8; 32];
        for (slot, pair) in out.iter_mut().zip(s.as_bytes().chunks(2)) {
            let hex = std::str::from_utf8(pair).map_err(|_| bad())?;
            *slot = u8::from_str_radix(hex, 16).map_err(|_| bad())?;
        }
        Ok(Self(out))
    }
}

/// Fingerprint from the basis digest and the occurrence number within the file.
pub(crate) fn from_digest(digest: &[u8; 32], occurrence: u32) -> Fingerprint {
    // digest ‖ U+001F ‖ the occurrence in decimal, hashed in one call.
    let mut input = [0u8; 32 + 1 + 10];
    let (head, tail) = input.split_at_mut(32);
    head.copy_from_slice(digest);
    let mut len = 32;
    if let Some((sep, digits)) = tail.split_first_mut() {
        *sep = 0x1f;
        len += 1;
        let mut n = occurrence;
        let mut count = 0;
        loop {
            count += 1;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        let mut n = occurrence;
        for d in digits.iter_mut().take(count).rev() {
            *d = b'0' + u8::try_from(n % 10).unwrap_or(0);
            n /= 10;
        }
        len += count;
    }
    Fingerprint(sha256(input.get(..len).unwrap_or_default()))
}

/// Fingerprint of one transaction of `account`, the `occurrence`-th with its basis in a file.
#[must_use]
pub fn compute(account: &str, tx: &Transaction, occurrence: u32) -> Fingerprint {
    from_digest(&basis_digest(account, &Basis::of(tx)), occurrence)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use rust_decimal::Decimal;

    fn tx(amount: i64, scale: u32) -> Transaction {
        let mut t = Transaction::new(Decimal::new(amount, scale), "EUR");
        t.value_date = NaiveDate::from_ymd_opt(2024, 3, 1);
        t.bank_reference = Some("B4G29PGDCK1QFV3E".into());
        t.remittance_information = Some("Invoice 42\nMarch".into());
        t
    }

    #[test]
    fn notation_differences_do_not_matter() {
        let a = tx(900, 2);
        let mut b = tx(9, 0);
        b.remittance_information = Some("invoice 42 march".into());
        b.booking_date = NaiveDate::from_ymd_opt(2024, 3, 2);
        assert_eq!(compute("DE19 6628", &a, 0), compute("de196628", &b, 0));
    }

    #[test]
    fn different_payments_differ() {
        let a = tx(900, 2);
        let mut b = tx(900, 2);
        b.bank_reference = Some("OTHER".into());
        assert_ne!(compute("X", &a, 0), compute("X", &b, 0));
        assert_ne!(compute("X", &a, 0), compute("X", &a, 1));
        let mut c = tx(-900, 2);
        c.bank_reference = a.bank_reference.clone();
        assert_ne!(compute("X", &a, 0), compute("X", &c, 0));
    }

    #[test]
    fn amounts_and_dates_are_written_like_display() {
        for (m, scale) in [
            (900, 2),
            (1, 2),
            (-1, 2),
            (0, 2),
            (-120_050, 3),
            (7, 0),
            (10, 0),
        ] {
            let d = Decimal::new(m, scale);
            let mut s = String::new();
            put_amount(&mut s, d);
            assert_eq!(s, d.normalize().to_string(), "{d}");
        }
        // Mantissas beyond 64 bits.
        for (m, scale) in [
            (10_i128.pow(25) + 7, 3),
            (-(10_i128.pow(27)), 28),
            (u64::MAX as i128 + 1, 0),
        ] {
            let d = Decimal::from_i128_with_scale(m, scale);
            let mut s = String::new();
            put_amount(&mut s, d);
            assert_eq!(s, d.normalize().to_string(), "{d}");
        }
        let mut s = String::new();
        put_date(
            &mut s,
            NaiveDate::from_ymd_opt(2007, 9, 4).unwrap_or_default(),
        );
        assert_eq!(s, "2007-09-04");
    }

    #[test]
    fn hex_round_trip() {
        let f = compute("X", &tx(1, 0), 0);
        let text = f.to_string();
        assert_eq!(text.len(), 64);
        assert_eq!(text.parse::<Fingerprint>(), Ok(f));
        assert!("zz".parse::<Fingerprint>().is_err());
    }

    #[test]
    fn block_driven_sha256_matches_the_digest_api() {
        use sha2::{Digest, Sha256};
        let data: Vec<u8> = (0..700u32)
            .map(|i| u8::try_from(i * 7 % 251).unwrap_or(0))
            .collect();
        for len in 0..data.len() {
            let input = &data[..len];
            let expected: [u8; 32] = Sha256::digest(input).into();
            assert_eq!(sha256(input), expected, "{len}");
            // Through the buffer, in pieces of every size, twice (the hasher starts over).
            for piece in [1, 3, 17, 63, 64, 65, 200, 300] {
                let mut h = Hashing::new();
                for _ in 0..2 {
                    for p in input.chunks(piece) {
                        h.put(p);
                    }
                    assert_eq!(h.digest_reset(), expected, "{len} {piece}");
                }
                let mut h = Hashing::new();
                for p in input.chunks(piece) {
                    h.put_kept_upper(p, Keep::All);
                }
                let upper: Vec<u8> = input.iter().map(|b| UPPER[usize::from(*b)]).collect();
                let want: [u8; 32] = Sha256::digest(&upper).into();
                assert_eq!(h.digest(), want, "{len} {piece}");
            }
        }
    }

    #[test]
    fn occurrence_numbers_are_hashed_in_decimal() {
        use sha2::{Digest, Sha256};
        let digest = [7u8; 32];
        for n in [0, 1, 9, 10, 99, 100, 12_345, u32::MAX] {
            let mut h = Sha256::new();
            h.update(digest);
            h.update(SEP);
            h.update(n.to_string().as_bytes());
            let expected = Fingerprint(h.finalize().into());
            assert_eq!(from_digest(&digest, n), expected, "{n}");
        }
    }

    #[test]
    fn placeholders_are_ignored() {
        let mut a = tx(1, 0);
        a.customer_reference = Some("NONREF".into());
        let b = tx(1, 0);
        assert_eq!(compute("X", &a, 0), compute("X", &b, 0));
        // The ASCII shortcut and the general rule agree.
        for s in [
            "NONREF",
            " n o n r e f ",
            "NONREF\t",
            "nonrefx",
            "N/A",
            "-",
            "--",
            "",
            "NOTPROVIDED",
            "NOTPROVIDEDX",
            "N            A",
            "N                        A",
            "NONE\u{a0}",
            "\u{a0}NA",
            "NÄ",
            "none\u{b}",
            "abcdefghijklm",
            "ANONE",
            " -",
            "\t\r\nnone",
            "x",
            "\u{2003}NONE",
        ] {
            assert_eq!(is_placeholder(s), is_placeholder_unicode(s), "{s:?}");
        }
    }
}
