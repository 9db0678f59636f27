//! Bytes to text. Parsers scan the raw bytes (all delimiters are ASCII, which no supported
//! legacy encoding uses inside a multi-byte character) and decode only the values, so byte
//! offsets in [`crate::SourceSpan`] point into the caller's input.

use std::borrow::Cow;

use encoding_rs::{Encoding, GB18030, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};

use crate::error::{ErrorKind, FeedError, Location};

/// Input ready for scanning: ASCII-compatible bytes plus the encoding to decode values with.
#[derive(Debug)]
pub(crate) struct Input<'a> {
    pub(crate) bytes: Cow<'a, [u8]>,
    pub(crate) encoding: &'static Encoding,
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
    forced: Option<&'static Encoding>,
    fallback: Fallback,
) -> Result<Input<'a>, FeedError> {
    let (bom, _) = Encoding::for_bom(bytes).unwrap_or((UTF_8, 0));
    let encoding = match forced {
        Some(e) => e,
        None if bom == UTF_16LE || bom == UTF_16BE => bom,
        None if std::str::from_utf8(bytes).is_ok() => UTF_8,
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
        });
    }
    Ok(Input {
        bytes: Cow::Borrowed(bytes),
        encoding,
    })
}

/// Look up an encoding by its WHATWG label (`gbk`, `gb18030`, `utf-8`, `latin1`…).
pub(crate) fn encoding_for_label(label: &str) -> Result<&'static Encoding, FeedError> {
    Encoding::for_label(label.trim().as_bytes()).ok_or_else(|| {
        FeedError::new(
            ErrorKind::UnknownFormat,
            Location::File,
            "encoding option",
            "a WHATWG encoding label such as utf-8, gb18030, gbk, big5, windows-1252",
            label,
        )
    })
}

impl Input<'_> {
    /// Decode a slice of the input (never fails: undecodable bytes become U+FFFD, and the
    /// raw bytes stay reachable through the source span).
    pub(crate) fn decode(&self, slice: &[u8]) -> String {
        if self.encoding == UTF_8 {
            return String::from_utf8_lossy(slice).into_owned();
        }
        if slice.is_ascii() {
            // ASCII is the same in every supported encoding; skip the decoder.
            return String::from_utf8_lossy(slice).into_owned();
        }
        self.encoding
            .decode_without_bom_handling(slice)
            .0
            .into_owned()
    }

    /// Name of the encoding for reports.
    pub(crate) fn encoding_name(&self) -> &'static str {
        self.encoding.name()
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
        let (len, skip) = match rest.iter().position(|&b| b == b'\n' || b == b'\r') {
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
