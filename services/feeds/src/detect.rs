//! Recognise a feed format from its content (issue item 3, "auto-detect the format").

use crate::error::{ErrorKind, FeedError, Location};
use crate::model::Format;
use crate::text::{find_either, trim};
use crate::{ParseOptions, csv};

/// How many leading bytes are enough to recognise any supported format.
const SNIFF: usize = 64 * 1024;

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    // Compare only where the first byte matches.
    let mut from = 0;
    while let Some(i) = haystack
        .get(from..)
        .and_then(|h| find_either(h, first, first))
    {
        let at = from + i + 1;
        if haystack.get(at..).is_some_and(|h| h.starts_with(rest)) {
            return true;
        }
        from = at;
    }
    false
}

/// Whether some line starts (after blanks and SOH/ETX control bytes) with an MT942 field
/// (`:13D:`, `:34F:`, `:90D:`, `:90C:`) and none with an MT940 opening or closing balance
/// (`:60F:`, `:62F:`). Only the colons are visited: a tag counts where nothing but blanks
/// and control bytes lies between the line break before it (or the start) and its colon. A
/// balance (near the top of an MT940 file) ends the search.
fn intraday_only(haystack: &[u8]) -> bool {
    let mut intraday = false;
    let mut from = 0;
    while let Some(k) = haystack.get(from..).and_then(|h| memchr::memchr(b':', h)) {
        let at = from + k;
        from = at + 1;
        match haystack.get(at..at + 5) {
            Some(b":60F:" | b":62F:") if starts_line(haystack, at) => return false,
            Some(b":13D:" | b":34F:" | b":90D:" | b":90C:") if !intraday => {
                intraday = starts_line(haystack, at);
            }
            Some(_) => {}
            None => break,
        }
    }
    intraday
}

/// True if only blanks and control bytes lie between the last line break before `at` (or
/// the start) and `at`: where [`trim`] of that line would start.
fn starts_line(haystack: &[u8], at: usize) -> bool {
    for &b in haystack.get(..at).unwrap_or_default().iter().rev() {
        if b == b'\n' || b == b'\r' {
            return true;
        }
        if !(b.is_ascii_whitespace() || b < 0x20) {
            return false;
        }
    }
    true
}

/// Whether [`detect`] would say MT942 — without the work the other answers need (XML root,
/// CSV profiles), for the MT940 parser, which only has to choose between MT940 and MT942.
pub(crate) fn is_mt942(bytes: &[u8]) -> bool {
    let head = bytes.get(..SNIFF).unwrap_or(bytes);
    let body = trim(head.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(head));
    if body.is_empty()
        || head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1])
        || head.starts_with(b"PK\x03\x04")
        || body.starts_with(b"<")
        || body.starts_with(b"01,")
    {
        return false;
    }
    if has_mt942_header(head) {
        return true;
    }
    // `intraday_only` first: in an MT940 it stops at the opening balance near the top.
    intraday_only(head) && crate::mt940::looks_like_swift(head)
}

/// Whether the text holds a SWIFT application header of an MT942 (`{2:I942` or `{2:O942`):
/// one pass over the `{` instead of one per header.
fn has_mt942_header(head: &[u8]) -> bool {
    let mut from = 0;
    while let Some(i) = head.get(from..).and_then(|h| memchr::memchr(b'{', h)) {
        let at = from + i + 1;
        if matches!(head.get(at..at + 6), Some(b"2:I942" | b"2:O942")) {
            return true;
        }
        from = at;
    }
    false
}

pub(crate) fn detect(bytes: &[u8], options: &ParseOptions) -> Result<Format, FeedError> {
    let head = bytes.get(..SNIFF).unwrap_or(bytes);
    let body = trim(head.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(head));
    if body.is_empty() {
        return Err(FeedError::new(
            ErrorKind::Empty,
            Location::File,
            "file content",
            "a bank statement file",
            "an empty file",
        ));
    }
    if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Err(unsupported(
            "a binary Excel (.xls, OLE2/BIFF) workbook: open it in Excel or LibreOffice, save it \
             as CSV (UTF-8 or GB18030) and parse that with --format csv:PROFILE",
        ));
    }
    if head.starts_with(b"PK\x03\x04") {
        return Err(unsupported(
            "a ZIP container (.xlsx or archive): export the sheet as CSV and parse that",
        ));
    }
    if body.starts_with(b"<") {
        return detect_xml(body);
    }
    if body.starts_with(b"01,") {
        return Ok(Format::Bai2);
    }
    if has_mt942_header(head) {
        return Ok(Format::Mt942);
    }
    if crate::mt940::looks_like_swift(head) {
        return Ok(if intraday_only(head) {
            Format::Mt942
        } else {
            Format::Mt940
        });
    }
    if let Some(profile) = csv::detect_profile(head, options) {
        return Ok(Format::Csv(profile));
    }
    let first_line = body
        .split(|&b| b == b'\n')
        .next()
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .unwrap_or_default();
    Err(FeedError::new(
        ErrorKind::UnknownFormat,
        Location::Line { line: 1 },
        "file content",
        "MT940/MT942 (:20: tags), camt.05x XML, BAI2 (01, header) or a CSV export whose header \
         matches a CSV profile (pass --format csv:PROFILE)",
        first_line,
    ))
}

fn unsupported(what: &str) -> FeedError {
    FeedError::new(
        ErrorKind::Unsupported,
        Location::File,
        "file content",
        "a text statement file (MT940, camt XML, BAI2 or CSV)",
        what,
    )
}

fn detect_xml(body: &[u8]) -> Result<Format, FeedError> {
    let by_namespace = [
        (&b"camt.052"[..], Format::Camt052),
        (b"camt.053", Format::Camt053),
        (b"camt.054", Format::Camt054),
    ];
    let by_root = [
        (&b"<BkToCstmrAcctRpt"[..], Format::Camt052),
        (b"<BkToCstmrStmt", Format::Camt053),
        (b"<BkToCstmrDbtCdtNtfctn", Format::Camt054),
    ];
    by_root
        .into_iter()
        .chain(by_namespace)
        .find(|(needle, _)| contains(body, needle))
        .map(|(_, f)| f)
        .ok_or_else(|| {
            FeedError::new(
                ErrorKind::UnknownFormat,
                Location::File,
                "XML root element",
                "an ISO 20022 camt.052, camt.053 or camt.054 document",
                String::from_utf8_lossy(body.get(..200).unwrap_or(body)),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::split_lines;

    /// The rule [`intraday_only`] implements, read line by line.
    fn by_lines(haystack: &[u8]) -> bool {
        let (mut intraday, mut statement) = (false, false);
        for l in split_lines(haystack) {
            let l = trim(l);
            intraday |= [&b":13D:"[..], b":34F:", b":90D:", b":90C:"]
                .iter()
                .any(|t| l.starts_with(t));
            statement |= l.starts_with(b":60F:") || l.starts_with(b":62F:");
        }
        intraday && !statement
    }

    #[test]
    fn intraday_tags_are_found_at_line_starts_only() {
        for (text, want) in [
            (&b"{1:F01X}{2:I942X}{4:"[..], true),
            (b"{2:O942", true),
            (b"{2:O94", false),
            (b"{2:{2:I942", true),
            (b"{2:I940}{2:O942}", true),
            (b"{2:I940}", false),
            (b"2:I942", false),
        ] {
            let old = contains(text, b"{2:I942") || contains(text, b"{2:O942");
            assert_eq!(old, want, "{:?}", String::from_utf8_lossy(text));
            assert_eq!(
                has_mt942_header(text),
                want,
                "{:?}",
                String::from_utf8_lossy(text)
            );
        }
        let cases: [&[u8]; 8] = [
            b":20:X\r\n:13D:2001\r\n:90D:1EUR1,",
            b":20:X\r\n:13D:2001\r\n:62F:C200101EUR1,",
            b":20:X\r\n \t\x01:34F:EUR0,\n",
            b":20:X x:13D:1\n:86:a :60F: b",
            b":20:X\r:90C:0EUR0,\r\r:60F",
            b"\x01:90C:",
            b":86:x\n\x0b :13D:y",
            b":13D",
        ];
        for c in cases {
            assert_eq!(
                intraday_only(c),
                by_lines(c),
                "{:?}",
                String::from_utf8_lossy(c)
            );
        }
        // Pseudo-random texts made of the pieces that matter.
        let pieces: [&[u8]; 14] = [
            b":13D:", b":60F:", b":90C:", b":34F", b"F:", b"\r\n", b"\r", b"\n", b" ", b"\t",
            b"\x01", b"x", b":", b"13D:",
        ];
        let mut state = 0x2545_f491_u32;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            usize::try_from(state).unwrap_or(0)
        };
        for _ in 0..20_000 {
            let len = next() % 12;
            let text: Vec<u8> = (0..len)
                .flat_map(|_| pieces[next() % pieces.len()].iter().copied())
                .collect();
            assert_eq!(
                intraday_only(&text),
                by_lines(&text),
                "{:?}",
                String::from_utf8_lossy(&text)
            );
        }
    }
}
