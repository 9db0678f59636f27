//! Bytes to text. Parsers scan the raw bytes (all delimiters are ASCII, which no supported
//! legacy encoding uses inside a multi-byte character) and decode only the values, so byte
//! offsets in [`crate::SourceSpan`] point into the caller's input.

use std::borrow::Cow;

use encoding_rs::{Encoding, GB18030, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};

use crate::error::{ErrorKind, FeedError, Location};

/// A text encoding: one of `encoding_rs`, or IBM852 (DOS Central European), which
/// `encoding_rs` lacks but Hungarian and Polish bank systems still write (Raiffeisen CMI).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Codec {
    Rs(&'static Encoding),
    Ibm852,
}

/// Upper half (0x80–0xFF) of IBM code page 852, as `\u{…}` escapes.
#[rustfmt::skip]
const IBM852: [char; 128] = [
    '\u{c7}', '\u{fc}', '\u{e9}', '\u{e2}', '\u{e4}', '\u{16f}', '\u{107}', '\u{e7}',
    '\u{142}', '\u{eb}', '\u{150}', '\u{151}', '\u{ee}', '\u{179}', '\u{c4}', '\u{106}',
    '\u{c9}', '\u{139}', '\u{13a}', '\u{f4}', '\u{f6}', '\u{13d}', '\u{13e}', '\u{15a}',
    '\u{15b}', '\u{d6}', '\u{dc}', '\u{164}', '\u{165}', '\u{141}', '\u{d7}', '\u{10d}',
    '\u{e1}', '\u{ed}', '\u{f3}', '\u{fa}', '\u{104}', '\u{105}', '\u{17d}', '\u{17e}',
    '\u{118}', '\u{119}', '\u{ac}', '\u{17a}', '\u{10c}', '\u{15f}', '\u{ab}', '\u{bb}',
    '\u{2591}', '\u{2592}', '\u{2593}', '\u{2502}', '\u{2524}', '\u{c1}', '\u{c2}', '\u{11a}',
    '\u{15e}', '\u{2563}', '\u{2551}', '\u{2557}', '\u{255d}', '\u{17b}', '\u{17c}', '\u{2510}',
    '\u{2514}', '\u{2534}', '\u{252c}', '\u{251c}', '\u{2500}', '\u{253c}', '\u{102}', '\u{103}',
    '\u{255a}', '\u{2554}', '\u{2569}', '\u{2566}', '\u{2560}', '\u{2550}', '\u{256c}', '\u{a4}',
    '\u{111}', '\u{110}', '\u{10e}', '\u{cb}', '\u{10f}', '\u{147}', '\u{cd}', '\u{ce}',
    '\u{11b}', '\u{2518}', '\u{250c}', '\u{2588}', '\u{2584}', '\u{162}', '\u{16e}', '\u{2580}',
    '\u{d3}', '\u{df}', '\u{d4}', '\u{143}', '\u{144}', '\u{148}', '\u{160}', '\u{161}',
    '\u{154}', '\u{da}', '\u{155}', '\u{170}', '\u{fd}', '\u{dd}', '\u{163}', '\u{b4}',
    '\u{ad}', '\u{2dd}', '\u{2db}', '\u{2c7}', '\u{2d8}', '\u{a7}', '\u{f7}', '\u{b8}',
    '\u{b0}', '\u{a8}', '\u{2d9}', '\u{171}', '\u{158}', '\u{159}', '\u{25a0}', '\u{a0}',
];

/// Input ready for scanning: ASCII-compatible bytes plus the encoding to decode values with.
#[derive(Debug)]
pub(crate) struct Input<'a> {
    pub(crate) bytes: Cow<'a, [u8]>,
    pub(crate) encoding: &'static Encoding,
    pub(crate) codec: Codec,
    /// The input as text when it was found to be valid UTF-8 (validated once, here).
    pub(crate) utf8: Option<&'a str>,
}

/// Guess between a DOS code page and windows-1252 for non-UTF-8 SWIFT files: DOS code pages
/// put accented letters at 0x80–0xBF, windows-1252/Latin-1 at 0xC0–0xFF.
fn looks_like_dos(bytes: &[u8]) -> bool {
    let low = bytes.iter().filter(|b| (0x80..0xC0).contains(*b)).count();
    let high = bytes.iter().filter(|b| **b >= 0xC0).count();
    low > high
}

/// Which legacy encoding to assume when the bytes are not valid UTF-8.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Fallback {
    /// SWIFT and BAI2 files from European/US banks.
    Western,
    /// Chinese bank exports (GBK is a subset of GB18030).
    Chinese,
}

/// Decide the encoding: a forced label wins, then a byte-order mark, then valid UTF-8, then
/// the fallback. UTF-16 is transcoded to UTF-8 (then offsets refer to the transcoded text).
pub(crate) fn prepare<'a>(
    bytes: &'a [u8],
    forced: Option<Codec>,
    fallback: Fallback,
) -> Result<Input<'a>, FeedError> {
    let utf8 = std::str::from_utf8(bytes).ok();
    if forced == Some(Codec::Ibm852)
        || (forced.is_none()
            && matches!(fallback, Fallback::Western)
            && utf8.is_none()
            && Encoding::for_bom(bytes).is_none()
            && looks_like_dos(bytes))
    {
        return Ok(Input {
            bytes: Cow::Borrowed(bytes),
            encoding: WINDOWS_1252,
            codec: Codec::Ibm852,
            utf8: None,
        });
    }
    let forced = match forced {
        Some(Codec::Rs(e)) => Some(e),
        _ => None,
    };
    let (bom, _) = Encoding::for_bom(bytes).unwrap_or((UTF_8, 0));
    let encoding = match forced {
        Some(e) => e,
        None if bom == UTF_16LE || bom == UTF_16BE => bom,
        None if utf8.is_some() => UTF_8,
        None => match fallback {
            Fallback::Western => WINDOWS_1252,
            Fallback::Chinese => GB18030,
        },
    };
    if encoding == UTF_16LE || encoding == UTF_16BE {
        let (text, _, had_errors) = encoding.decode(bytes);
        if had_errors {
            return Err(FeedError::new(
                ErrorKind::Encoding,
                Location::File,
                "text encoding",
                format!("valid {}", encoding.name()),
                "undecodable bytes",
            ));
        }
        return Ok(Input {
            bytes: Cow::Owned(text.into_owned().into_bytes()),
            encoding: UTF_8,
            codec: Codec::Rs(UTF_8),
            utf8: None,
        });
    }
    Ok(Input {
        bytes: Cow::Borrowed(bytes),
        encoding,
        codec: Codec::Rs(encoding),
        // Slices of valid UTF-8 read as UTF-8 need no decoding (nor validating) again.
        utf8: if encoding == UTF_8 { utf8 } else { None },
    })
}

/// Look up an encoding by its WHATWG label (`gbk`, `gb18030`, `utf-8`, `latin1`…).
pub(crate) fn encoding_for_label(label: &str) -> Result<Codec, FeedError> {
    let l = label.trim().to_ascii_lowercase();
    if matches!(l.as_str(), "ibm852" | "cp852" | "852" | "dos-852") {
        return Ok(Codec::Ibm852);
    }
    Encoding::for_label(l.as_bytes()).map(Codec::Rs).ok_or_else(|| {
        FeedError::new(
            ErrorKind::UnknownFormat,
            Location::File,
            "encoding option",
            "a WHATWG encoding label such as utf-8, gb18030, gbk, big5, windows-1252 (or ibm852)",
            label,
        )
    })
}

impl Input<'_> {
    /// Decode a slice of the input (never fails: undecodable bytes become U+FFFD, and the
    /// raw bytes stay reachable through the source span).
    pub(crate) fn decode(&self, slice: &[u8]) -> String {
        if self.codec == Codec::Ibm852 {
            return slice
                .iter()
                .map(|&b| match b {
                    0..0x80 => char::from(b),
                    _ => IBM852
                        .get(usize::from(b - 0x80))
                        .copied()
                        .unwrap_or('\u{fffd}'),
                })
                .collect();
        }
        if self.encoding == UTF_8 || slice.is_ascii() {
            // ASCII is the same in every supported encoding; skip the decoder.
            return match std::str::from_utf8(slice) {
                Ok(s) => s.to_owned(),
                Err(_) => String::from_utf8_lossy(slice).into_owned(),
            };
        }
        self.encoding
            .decode_without_bom_handling(slice)
            .0
            .into_owned()
    }

    /// [`Input::decode`], appended to `out`.
    pub(crate) fn decode_into(&self, slice: &[u8], out: &mut String) {
        if self.codec == Codec::Ibm852 {
            out.extend(slice.iter().map(|&b| {
                match b {
                    0..0x80 => char::from(b),
                    _ => IBM852
                        .get(usize::from(b - 0x80))
                        .copied()
                        .unwrap_or('\u{fffd}'),
                }
            }));
            return;
        }
        if self.encoding == UTF_8 || slice.is_ascii() {
            match std::str::from_utf8(slice) {
                Ok(s) => out.push_str(s),
                Err(_) => out.push_str(&String::from_utf8_lossy(slice)),
            }
            return;
        }
        out.push_str(&self.encoding.decode_without_bom_handling(slice).0);
    }

    /// Name of the encoding for reports.
    pub(crate) fn encoding_name(&self) -> &'static str {
        match self.codec {
            Codec::Ibm852 => "IBM852",
            Codec::Rs(e) => e.name(),
        }
    }

    /// Iterate over lines: `(1-based number, start, end)` with `end` before `\r\n`/`\n`.
    pub(crate) fn lines(&self) -> Lines<'_> {
        Lines {
            bytes: &self.bytes,
            pos: bom_len(&self.bytes),
            number: 0,
        }
    }
}

/// Length of a UTF-8 byte-order mark at the start, if any.
pub(crate) fn bom_len(bytes: &[u8]) -> usize {
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        3
    } else {
        0
    }
}

/// Line iterator over bytes; treats `\n`, `\r\n` and a lone `\r` as line ends.
#[derive(Debug)]
pub(crate) struct Lines<'a> {
    bytes: &'a [u8],
    pos: usize,
    number: u32,
}

/// One line: number, byte range of its content, and the byte offset of the next line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Line {
    pub(crate) number: u32,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

impl Iterator for Lines<'_> {
    type Item = Line;

    fn next(&mut self) -> Option<Line> {
        let rest = self.bytes.get(self.pos..)?;
        if rest.is_empty() {
            return None;
        }
        let start = self.pos;
        let (len, skip) = match find_line_break(rest) {
            Some(i) => {
                let crlf = rest.get(i) == Some(&b'\r') && rest.get(i + 1) == Some(&b'\n');
                (i, if crlf { 2 } else { 1 })
            }
            None => (rest.len(), 0),
        };
        self.pos = start + len + skip;
        self.number = self.number.saturating_add(1);
        Some(Line {
            number: self.number,
            start,
            end: start + len,
        })
    }
}

/// Offset of the first `\n` or `\r`.
pub(crate) fn find_line_break(bytes: &[u8]) -> Option<usize> {
    find_either(bytes, b'\n', b'\r')
}

/// Offset of the first byte equal to `a` or `b` (vectorised by the `memchr` crate).
pub(crate) fn find_either(bytes: &[u8], a: u8, b: u8) -> Option<usize> {
    memchr::memchr2(a, b, bytes)
}

/// The lines of `bytes` (split at `\n` and `\r`; empty pieces between `\r\n` included).
pub(crate) fn split_lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(bytes);
    std::iter::from_fn(move || {
        let r = rest?;
        match find_line_break(r) {
            Some(i) => {
                rest = r.get(i + 1..);
                r.get(..i)
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

/// Trim ASCII whitespace (and NUL/SOH/ETX control bytes) from both ends.
pub(crate) fn trim(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if first.is_ascii_whitespace() || *first < 0x20 {
            s = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = s {
        if last.is_ascii_whitespace() || *last < 0x20 {
            s = rest;
        } else {
            break;
        }
    }
    s
}

/// Where [`trim`] would cut `s`: the start and end offsets of what it keeps.
pub(crate) fn trim_bounds(s: &[u8]) -> (usize, usize) {
    let kept = |b: &u8| !(b.is_ascii_whitespace() || *b < 0x20);
    match s.iter().position(kept) {
        Some(from) => (from, s.iter().rposition(kept).map_or(from, |to| to + 1)),
        None => (0, 0),
    }
}

/// Where `str::trim` would cut `s`, as offsets; blanks and line breaks are skipped byte by
/// byte and only other Unicode white space (e.g. U+00A0) needs the `char` walk.
pub(crate) fn trim_offsets(s: &str) -> (usize, usize) {
    // The ASCII characters `char::is_whitespace` accepts.
    let space = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0B | 0x0C);
    let b = s.as_bytes();
    let mut from = b.iter().position(|c| !space(c)).unwrap_or(b.len());
    if b.get(from).is_some_and(|c| *c >= 0x80) {
        let rest = s.get(from..).unwrap_or_default();
        from += rest.len() - rest.trim_start().len();
    }
    let mut to = b
        .iter()
        .rposition(|c| !space(c))
        .map_or(from, |i| i + 1)
        .max(from);
    if to > from && b.get(to - 1).is_some_and(|c| *c >= 0x80) {
        to = from + s.get(from..to).unwrap_or_default().trim_end().len();
    }
    (from, to)
}

/// `Some(trimmed)` unless the string is empty after trimming.
pub(crate) fn non_empty(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_handle_all_line_ends() {
        let input = prepare(b"a\r\nb\nc\rd", None, Fallback::Western).unwrap();
        let got: Vec<_> = input
            .lines()
            .map(|l| (l.number, &input.bytes[l.start..l.end]))
            .collect();
        assert_eq!(
            got,
            vec![
                (1, &b"a"[..]),
                (2, &b"b"[..]),
                (3, &b"c"[..]),
                (4, &b"d"[..])
            ]
        );
    }

    #[test]
    fn line_breaks_are_found_anywhere() {
        for len in 0..40 {
            for at in 0..=len {
                let mut v = vec![b'a'; len];
                let expected = (at < len).then_some(at);
                if at < len {
                    v[at] = if at % 2 == 0 { b'\n' } else { b'\r' };
                }
                assert_eq!(find_line_break(&v), expected, "{len} {at}");
            }
        }
        assert_eq!(find_line_break("äöü\u{a0}\u{d0a}x\n".as_bytes()), Some(12));
    }

    #[test]
    fn invalid_utf8_falls_back() {
        let input = prepare(b"caf\xe9", None, Fallback::Western).unwrap();
        assert_eq!(input.encoding_name(), "windows-1252");
        assert_eq!(input.decode(&input.bytes), "café");
        let gbk = prepare(b"\xd6\xd0\xce\xc4", None, Fallback::Chinese).unwrap();
        assert_eq!(gbk.decode(&gbk.bytes), "中文");
    }

    #[test]
    fn utf16_is_transcoded() {
        let input = prepare(b"\xff\xfea\x00b\x00", None, Fallback::Western).unwrap();
        assert_eq!(&input.bytes[..], b"ab");
    }
}
