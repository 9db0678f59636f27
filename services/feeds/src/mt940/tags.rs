//! Split an MT940/MT942 file into messages and fields (`:TAG:value` with continuation lines).
//!
//! Dialects handled here: bank preambles before the first tag (`ABNANL2A`/`940`, "This is an
//! example file"), SWIFT blocks `{1:…}{2:…}{4:` and trailers `-}` / `-}{5:}` with SOH/ETX
//! bytes, messages without a `-` terminator, blank lines, and `:86:` text that wraps so a
//! continuation line looks like a tag (`:26:37 Fo…`, `:12:11` from a wrapped timestamp).

use std::borrow::Cow;

use crate::text::{Input, Line, trim};

/// One field: its tag (`61`, `60F`, `NS`…), the byte range of its value (after `:TAG:`,
/// continuation lines included) and the lines it spans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Tag without colons, e.g. `61`, `60F`, `NS`.
    pub tag: Cow<'static, str>,
    /// Byte offset of the value in the input.
    pub start: usize,
    /// Byte offset just past the value's last line.
    pub end: usize,
    /// Line of the tag (1-based).
    pub line: u32,
    /// Last line of the value.
    pub end_line: u32,
}

/// A message: the fields from one `:20:` (or first tag) to the next `:20:` or terminator.
#[derive(Debug, Clone, Default)]
pub(crate) struct Message {
    pub(crate) fields: Vec<Field>,
}

/// Tags of MT940/MT942 fields, as static strings (no allocation per field).
const TAG_NAMES: &[&str] = &[
    "20", "21", "25", "25P", "28", "28C", "60", "60F", "60M", "61", "62", "62F", "62M", "64", "65",
    "65F", "86", "NS", "13", "13D", "34F", "90D", "90C",
];

fn tag_name(tag: &[u8]) -> Cow<'static, str> {
    match TAG_NAMES.iter().find(|t| t.as_bytes() == tag) {
        Some(t) => Cow::Borrowed(t),
        None => Cow::Owned(String::from_utf8_lossy(tag).into_owned()),
    }
}

/// Tag numbers of MT940/MT942 fields; other tag-looking lines inside `:86:` are text.
fn is_known_tag(tag: &[u8]) -> bool {
    if tag == b"NS" {
        return true;
    }
    matches!(
        tag.get(..2),
        Some(b"20" | b"21" | b"25" | b"28" | b"60" | b"61" | b"62" | b"64" | b"65" | b"86")
            | Some(b"13" | b"34" | b"90")
    )
}

/// If the line starts with `:NN[A]:` or `:NS:`, the tag and the offset of the value.
pub(crate) fn tag_at(line: &[u8]) -> Option<(&[u8], usize)> {
    let rest = line.strip_prefix(b":")?;
    let close = rest.iter().take(4).position(|&b| b == b':')?;
    let tag = rest.get(..close)?;
    let shaped = match tag {
        [a, b] => (a.is_ascii_digit() && b.is_ascii_digit()) || tag == b"NS",
        [a, b, c] => a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_alphabetic(),
        _ => false,
    };
    shaped.then_some((tag, close + 2))
}

/// A line that ends a message: `-`, `-}`, `-}{5:…}`, possibly followed by ETX/SOH.
fn is_terminator(line: &[u8]) -> bool {
    match line.strip_prefix(b"-") {
        Some(rest) => {
            let rest = trim(rest);
            rest.is_empty() || rest.starts_with(b"}") || rest.first().is_some_and(|b| *b < 0x20)
        }
        None => false,
    }
}

/// Strip leading SOH/ETX/NUL bytes some transmission systems leave in the file.
fn skip_controls(line: &[u8]) -> (&[u8], usize) {
    let n = line.iter().take_while(|&&b| b < 0x20 && b != b'\t').count();
    (line.get(n..).unwrap_or_default(), n)
}

/// Split the input into messages.
pub(crate) fn messages(input: &Input<'_>) -> Vec<Message> {
    let bytes: &[u8] = &input.bytes;
    let mut out: Vec<Message> = Vec::new();
    let mut current: Option<Message> = None;
    // Whether the last field may absorb tag-looking continuation lines.
    let mut in_text_field = false;
    // Whether text lines still belong to the last field (not after a block or terminator).
    let mut field_open = false;
    let mut lines = input.lines().peekable();
    while let Some(line) = lines.next() {
        let raw = bytes.get(line.start..line.end).unwrap_or_default();
        let (mut content, mut offset) = skip_controls(raw);
        // Sparkassen dialect: a tag broken after its first colon (":" then "86:166?00…").
        if content == b":"
            && let Some(next) = lines.peek()
            && let Some(rest) = bytes.get(next.start..next.end)
            && let Some((tag, _)) = tag_at(&[b":", rest].concat())
            && is_known_tag(tag)
        {
            let joined = Line {
                number: next.number,
                start: next.start,
                end: next.end,
            };
            lines.next();
            let tag = tag_name(tag);
            if tag == "20"
                && let Some(m) = current.take()
            {
                out.push(m);
            }
            in_text_field = matches!(tag.as_ref(), "86" | "NS" | "61");
            field_open = true;
            let value_offset = tag.len() + 1;
            current
                .get_or_insert_with(Message::default)
                .fields
                .push(Field {
                    tag,
                    start: joined.start + value_offset,
                    end: joined.end,
                    line: line.number,
                    end_line: joined.number,
                });
            continue;
        }
        if content.starts_with(b"{") {
            // SWIFT block headers; a field may start on the same line after `{4:`.
            match find(content, b"{4:") {
                Some(i) => {
                    offset += i + 3;
                    content = content.get(i + 3..).unwrap_or_default();
                }
                None => content = &[],
            }
            in_text_field = false;
            field_open = false;
            if trim(content).is_empty() {
                continue;
            }
        }
        if let Some((tag, value_offset)) = tag_at(content) {
            let continuation = in_text_field && !is_known_tag(tag);
            if !continuation {
                let field = Field {
                    tag: tag_name(tag),
                    start: line.start + offset + value_offset,
                    end: line.end,
                    line: line.number,
                    end_line: line.number,
                };
                if tag == b"20" || current.is_none() {
                    if let Some(m) = current.take() {
                        out.push(m);
                    }
                    current = Some(Message {
                        fields: Vec::with_capacity(16),
                    });
                }
                in_text_field = matches!(tag, b"86" | b"NS" | b"61");
                field_open = true;
                if let Some(m) = current.as_mut() {
                    m.fields.push(field);
                }
                continue;
            }
        }
        if is_terminator(content) {
            if let Some(m) = current.take() {
                out.push(m);
            }
            in_text_field = false;
            field_open = false;
            continue;
        }
        // A continuation line of the open field; text outside any field is a preamble.
        if let Some(field) = current.as_mut().and_then(|m| m.fields.last_mut())
            && field_open
        {
            field.end = line.end;
            field.end_line = line.number;
        }
    }
    if let Some(m) = current.take() {
        out.push(m);
    }
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The value's lines (CR/LF removed), trailing blank lines dropped.
pub(crate) fn value_lines<'a>(input: &'a [u8], field: &Field) -> Vec<&'a [u8]> {
    let value = input.get(field.start..field.end).unwrap_or_default();
    let mut lines: Vec<&[u8]> = value
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .flat_map(|l| l.split(|&b| b == b'\r'))
        .collect();
    while lines.last().is_some_and(|l| trim(l).is_empty()) {
        lines.pop();
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::{Fallback, prepare};

    fn tags(src: &[u8]) -> Vec<Vec<String>> {
        let input = prepare(src, None, Fallback::Western).unwrap();
        messages(&input)
            .iter()
            .map(|m| m.fields.iter().map(|f| f.tag.to_string()).collect())
            .collect()
    }

    #[test]
    fn splits_messages_on_20_and_terminators() {
        let src = b"ABNANL2A\r\n940\r\n:20:A\r\n:25:1\r\n:61:x\r\n:86:a\r\n:26:37 b\r\n-\r\n:20:B\r\n:25:2\r\n";
        assert_eq!(
            tags(src),
            vec![vec!["20", "25", "61", "86"], vec!["20", "25"]]
        );
    }

    #[test]
    fn swift_blocks_and_controls() {
        let src =
            b"\x01{1:F01X}{2:I940X}{4:\r\n:20:A\r\n:25:1\r\n-}\x03\x01{1:F01X}{4:\r\n:20:B\r\n-}";
        assert_eq!(tags(src), vec![vec!["20", "25"], vec!["20"]]);
    }

    #[test]
    fn continuation_lines_extend_the_field() {
        let src = b":20:A\n:86:line1\n\nline3\n:12:11\n\n:62F:C\n";
        let input = prepare(src, None, Fallback::Western).unwrap();
        let m = messages(&input);
        let f86 = &m[0].fields[1];
        assert_eq!(
            value_lines(&input.bytes, f86),
            vec![&b"line1"[..], b"", b"line3", b":12:11"]
        );
    }
}
