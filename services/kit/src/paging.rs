//! Paging of list calls: `page_size` and `page_token` in, `next_page_token` out.
//!
//! Every list call pages by keyset on a stable order (never OFFSET): the token holds the
//! sort key of the last row returned, and the next page is the rows after it. Tokens are
//! opaque to clients (base64url) and bound to the request they were issued for, so a
//! token replayed with other filters or on another method is `INVALID_ARGUMENT` rather
//! than a silently wrong page.
//!
//! ```ignore
//! let paging = Paging::<(NaiveDate, Uuid)>::parse(&scope, request.page_size, &request.page_token)?;
//! let (after_date, after_id) = paging.after().unzip();
//! let rows = sqlx::query_as("… AND ($2::date IS NULL OR (opened_on, id) > ($2, $3)) ORDER BY opened_on, id LIMIT $4")
//!     .bind(after_date).bind(after_id).bind(paging.fetch_limit()) …;
//! let (rows, next_page_token) = paging.finish(rows, |r| (r.opened_on, r.id));
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::ApiError;

/// Page size when the request gives none (`page_size = 0`).
pub const DEFAULT_PAGE_SIZE: u32 = 100;
/// Largest page; a larger `page_size` is lowered to it (as AIP-158 asks).
pub const MAX_PAGE_SIZE: u32 = 1000;

/// Token format version, the first byte of every token.
const VERSION: u8 = 1;
/// Bytes of the request fingerprint in a token.
const SCOPE_BYTES: usize = 4;
/// Separates the key parts (which never contain it: ids, numbers, dates).
const SEPARATOR: char = '\n';

/// The page size to use for a requested `page_size`: the default for 0, at most the maximum.
pub fn page_size(requested: u32) -> u32 {
    match requested {
        0 => DEFAULT_PAGE_SIZE,
        n => n.min(MAX_PAGE_SIZE),
    }
}

/// One part of a sort key, as written into a token.
pub trait KeyPart: Sized {
    /// The part as text without the separator.
    fn encode(&self) -> String;
    /// The part back from its text; `None` when it is not one.
    fn decode(text: &str) -> Option<Self>;
}

impl KeyPart for Uuid {
    fn encode(&self) -> String {
        self.simple().to_string()
    }
    fn decode(text: &str) -> Option<Self> {
        Uuid::try_parse(text).ok()
    }
}

impl KeyPart for i32 {
    fn encode(&self) -> String {
        self.to_string()
    }
    fn decode(text: &str) -> Option<Self> {
        text.parse().ok()
    }
}

impl KeyPart for i64 {
    fn encode(&self) -> String {
        self.to_string()
    }
    fn decode(text: &str) -> Option<Self> {
        text.parse().ok()
    }
}

impl KeyPart for NaiveDate {
    fn encode(&self) -> String {
        self.format("%Y-%m-%d").to_string()
    }
    fn decode(text: &str) -> Option<Self> {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
    }
}

/// Microseconds since the epoch: exactly Postgres' `timestamptz` precision, so the key
/// compares equal to the stored value.
impl KeyPart for DateTime<Utc> {
    fn encode(&self) -> String {
        self.timestamp_micros().to_string()
    }
    fn decode(text: &str) -> Option<Self> {
        DateTime::from_timestamp_micros(text.parse().ok()?)
    }
}

/// A whole sort key: one part or a tuple of parts.
pub trait SortKey: Sized {
    /// The parts in order.
    fn parts(&self) -> Vec<String>;
    /// The key from exactly as many parts as it has; `None` otherwise.
    fn from_parts(parts: &[&str]) -> Option<Self>;
}

impl<A: KeyPart> SortKey for A {
    fn parts(&self) -> Vec<String> {
        vec![self.encode()]
    }
    fn from_parts(parts: &[&str]) -> Option<Self> {
        match parts {
            [a] => A::decode(a),
            _ => None,
        }
    }
}

impl<A: KeyPart, B: KeyPart> SortKey for (A, B) {
    fn parts(&self) -> Vec<String> {
        vec![self.0.encode(), self.1.encode()]
    }
    fn from_parts(parts: &[&str]) -> Option<Self> {
        match parts {
            [a, b] => Some((A::decode(a)?, B::decode(b)?)),
            _ => None,
        }
    }
}

impl<A: KeyPart, B: KeyPart, C: KeyPart> SortKey for (A, B, C) {
    fn parts(&self) -> Vec<String> {
        vec![self.0.encode(), self.1.encode(), self.2.encode()]
    }
    fn from_parts(parts: &[&str]) -> Option<Self> {
        match parts {
            [a, b, c] => Some((A::decode(a)?, B::decode(b)?, C::decode(c)?)),
            _ => None,
        }
    }
}

/// One page request of a list call, parsed at the edge.
#[derive(Debug, Clone)]
pub struct Paging<K> {
    scope: [u8; SCOPE_BYTES],
    size: u32,
    after: Option<K>,
}

impl<K: SortKey> Paging<K> {
    /// Parses `page_size` and `page_token` of a request. `scope` names the method and every
    /// filter of the request (e.g. `"legal.ListCases customer=… status=…"`): a token is only
    /// accepted by the request it was issued for. A malformed or foreign token is
    /// `INVALID_ARGUMENT` naming `page_token`.
    pub fn parse(scope: &str, page_size: u32, page_token: &str) -> Result<Self, ApiError> {
        let scope = fingerprint(scope);
        let token = page_token.trim();
        let after = if token.is_empty() {
            None
        } else {
            Some(decode(&scope, token)?)
        };
        Ok(Self {
            scope,
            size: self::page_size(page_size),
            after,
        })
    }

    /// The key of the last row of the previous page (`None` on the first page).
    pub fn after(&self) -> Option<&K> {
        self.after.as_ref()
    }

    /// Whether this is the first page.
    pub fn is_first(&self) -> bool {
        self.after.is_none()
    }

    /// The page size in effect.
    pub fn size(&self) -> u32 {
        self.size
    }

    /// The `LIMIT` of the query: one row more than the page, to know whether another follows.
    pub fn fetch_limit(&self) -> i64 {
        i64::from(self.size) + 1
    }

    /// Cuts the fetched `rows` (at most [`fetch_limit`](Self::fetch_limit), in sort order) to
    /// the page and returns them with the `next_page_token` (empty on the last page).
    pub fn finish<T>(&self, mut rows: Vec<T>, key: impl Fn(&T) -> K) -> (Vec<T>, String) {
        let size = usize::try_from(self.size).unwrap_or(usize::MAX);
        if rows.len() <= size {
            return (rows, String::new());
        }
        rows.truncate(size);
        let token = rows
            .last()
            .map(|last| encode(&self.scope, &key(last)))
            .unwrap_or_default();
        (rows, token)
    }
}

fn fingerprint(scope: &str) -> [u8; SCOPE_BYTES] {
    let digest = Sha256::digest(scope.as_bytes());
    let mut out = [0; SCOPE_BYTES];
    out.copy_from_slice(&digest[..SCOPE_BYTES]);
    out
}

fn encode<K: SortKey>(scope: &[u8; SCOPE_BYTES], key: &K) -> String {
    let mut bytes = Vec::with_capacity(64);
    bytes.push(VERSION);
    bytes.extend_from_slice(scope);
    bytes.extend_from_slice(key.parts().join(&SEPARATOR.to_string()).as_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

fn decode<K: SortKey>(scope: &[u8; SCOPE_BYTES], token: &str) -> Result<K, ApiError> {
    let malformed = || {
        ApiError::invalid(
            "page_token",
            "is not a token this list issued; pass next_page_token from the previous response \
             unchanged, or leave page_token empty for the first page",
        )
    };
    // Far longer than any key; refuses junk before decoding it.
    if token.len() > 512 {
        return Err(malformed());
    }
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| malformed())?;
    let (header, key) = bytes
        .split_at_checked(1 + SCOPE_BYTES)
        .ok_or_else(malformed)?;
    if header[0] != VERSION {
        return Err(malformed());
    }
    if header[1..] != scope[..] {
        return Err(ApiError::invalid(
            "page_token",
            "was issued for another request (another list or other filters); repeat the \
             request that returned it with the same filters, or leave page_token empty to \
             start over",
        ));
    }
    let key = std::str::from_utf8(key).map_err(|_| malformed())?;
    let parts: Vec<&str> = key.split(SEPARATOR).collect();
    K::from_parts(&parts).ok_or_else(malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    type Key = (DateTime<Utc>, i32, Uuid);

    fn key(n: i32) -> Key {
        let at = DateTime::from_timestamp_micros(1_780_000_000_123_456 + i64::from(n))
            .expect("in range");
        (at, n, Uuid::now_v7())
    }

    fn field_of(error: ApiError) -> String {
        match error {
            ApiError::Invalid { field, .. } => field,
            other => panic!("expected INVALID_ARGUMENT, got {other:?}"),
        }
    }

    #[test]
    fn page_size_defaults_and_clamps() {
        assert_eq!(page_size(0), DEFAULT_PAGE_SIZE);
        assert_eq!(page_size(1), 1);
        assert_eq!(page_size(MAX_PAGE_SIZE), MAX_PAGE_SIZE);
        assert_eq!(page_size(MAX_PAGE_SIZE + 1), MAX_PAGE_SIZE);
        assert_eq!(page_size(u32::MAX), MAX_PAGE_SIZE);
    }

    #[test]
    fn first_page_has_no_key_and_fetches_one_more() {
        let paging = Paging::<Uuid>::parse("s", 0, "  ").expect("no token");
        assert!(paging.is_first());
        assert_eq!(paging.size(), DEFAULT_PAGE_SIZE);
        assert_eq!(paging.fetch_limit(), i64::from(DEFAULT_PAGE_SIZE) + 1);
    }

    #[test]
    fn tokens_round_trip_every_key_shape() {
        let rows: Vec<Key> = (0..5).map(key).collect();
        let paging = Paging::<Key>::parse("payments.ListPayments", 3, "").expect("first");
        let (page, token) = paging.finish(rows.clone(), |r| *r);
        assert_eq!(page, rows[..3]);
        assert!(!token.is_empty());
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        let next = Paging::<Key>::parse("payments.ListPayments", 3, &token).expect("ours");
        assert_eq!(next.after(), Some(&rows[2]));

        let date = NaiveDate::from_ymd_opt(2026, 12, 31).expect("valid");
        let id = Uuid::now_v7();
        let paging = Paging::<(NaiveDate, Uuid)>::parse("legal", 1, "").expect("first");
        let (_, token) = paging.finish(vec![(date, id), (date, id)], |r| *r);
        let next = Paging::<(NaiveDate, Uuid)>::parse("legal", 1, &token).expect("ours");
        assert_eq!(next.after(), Some(&(date, id)));

        let paging = Paging::<i32>::parse("r", 1, "").expect("first");
        let (_, token) = paging.finish(vec![-7, 8], |r| *r);
        assert_eq!(
            Paging::<i32>::parse("r", 1, &token).expect("ours").after(),
            Some(&-7)
        );
    }

    #[test]
    fn the_last_page_has_no_token() {
        let paging = Paging::<i64>::parse("s", 2, "").expect("first");
        assert_eq!(
            paging.finish(vec![1, 2], |r| *r),
            (vec![1, 2], String::new())
        );
        assert_eq!(
            paging.finish(Vec::new(), |r| *r),
            (Vec::new(), String::new())
        );
    }

    #[test]
    fn every_row_once_across_pages() {
        let all: Vec<i64> = (0..23).collect();
        let mut seen = Vec::new();
        let mut token = String::new();
        loop {
            let paging = Paging::<i64>::parse("s", 5, &token).expect("ours");
            let after = paging.after().copied().unwrap_or(i64::MIN);
            let fetched: Vec<i64> = all
                .iter()
                .copied()
                .filter(|n| *n > after)
                .take(usize::try_from(paging.fetch_limit()).expect("small"))
                .collect();
            let (page, next) = paging.finish(fetched, |r| *r);
            seen.extend(page);
            if next.is_empty() {
                break;
            }
            token = next;
        }
        assert_eq!(seen, all);
    }

    #[test]
    fn malformed_tokens_are_invalid_page_token() {
        let good = {
            let paging = Paging::<(NaiveDate, Uuid)>::parse("s", 1, "").expect("first");
            let row = (NaiveDate::MIN, Uuid::nil());
            paging.finish(vec![row, row], |r| *r).1
        };
        let too_long = "A".repeat(600);
        let wrong_version = URL_SAFE_NO_PAD.encode([9, 0, 0, 0, 0]);
        let not_utf8 = {
            let mut bytes = vec![VERSION];
            bytes.extend_from_slice(&fingerprint("s"));
            bytes.extend_from_slice(&[0xff, 0xfe]);
            URL_SAFE_NO_PAD.encode(bytes)
        };
        for token in [
            "not base64!",
            "AA",
            &too_long,
            &wrong_version,
            &not_utf8,
            &good[..good.len() - 3],
            "0190a4c6-2b5e-7d3a-9b1e-5f8c2d4e6a7b", // a raw id, as ListExceptions once took
        ] {
            let error = Paging::<(NaiveDate, Uuid)>::parse("s", 1, token).expect_err(token);
            assert_eq!(field_of(error), "page_token", "{token}");
        }
        // Right scope, wrong key shape.
        let error = Paging::<i32>::parse("s", 1, &good).expect_err("shape");
        assert_eq!(field_of(error), "page_token");
    }

    #[test]
    fn a_token_only_fits_the_request_it_was_issued_for() {
        let paging = Paging::<i64>::parse("legal.ListCases status=opened", 1, "").expect("first");
        let (_, token) = paging.finish(vec![1, 2], |r| *r);
        let error =
            Paging::<i64>::parse("legal.ListCases status=", 1, &token).expect_err("other filters");
        assert!(error.to_string().contains("another request"), "{error}");
        assert_eq!(field_of(error), "page_token");
    }
}
