//! Recognise a feed format from its content (issue item 3, "auto-detect the format").

use crate::error::{ErrorKind, FeedError, Location};
use crate::model::Format;
use crate::text::{find_either, split_lines, trim};
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

/// Whether some line starts (after SOH/ETX control bytes) with an MT942 field, and with an
/// MT940 opening or closing balance — in one pass over the lines.
fn swift_kind(haystack: &[u8]) -> (bool, bool) {
    let (mut intraday, mut statement) = (false, false);
    for l in split_lines(haystack) {
        let l = trim(l);
        if l.first() != Some(&b':') {
            continue;
        }
        intraday |= [&b":13D:"[..], b":34F:", b":90D:", b":90C:"]
            .iter()
            .any(|t| l.starts_with(t));
        statement |= l.starts_with(b":60F:") || l.starts_with(b":62F:");
    }
    (intraday, statement)
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
    if contains(head, b"{2:I942") || contains(head, b"{2:O942") {
        return Ok(Format::Mt942);
    }
    if crate::mt940::looks_like_swift(head) {
        let (intraday, statement) = swift_kind(head);
        return Ok(if intraday && !statement {
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
