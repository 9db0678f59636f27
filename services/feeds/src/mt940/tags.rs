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

/// The tag as a static string for MT940/MT942 fields (no allocation per field).
fn tag_name(tag: &[u8]) -> Cow<'static, str> {
    let known = match tag {
        b"20" => "20",
        b"21" => "21",
        b"25" => "25",
        b"25P" => "25P",
        b"28" => "28",
        b"28C" => "28C",
        b"60" => "60",
        b"60F" => "60F",
        b"60M" => "60M",
        b"61" => "61",
        b"62" => "62",
        b"62F" => "62F",
        b"62M" => "62M",
        b"64" => "64",
        b"65" => "65",
        b"65F" => "65F",
        b"86" => "86",
        b"NS" => "NS",
        b"13" => "13",
        b"13D" => "13D",
        b"34F" => "34F",
        b"90D" => "90D",
        b"90C" => "90C",
        _ => return Cow::Owned(String::from_utf8_lossy(tag).into_owned()),
    };
    Cow::Borrowed(known)
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
    if line.first().is_none_or(|b| *b >= 0x20 || *b == b'\t') {
        return (line, 0);
    }
    let n = line.iter().take_while(|&&b| b < 0x20 && b != b'\t').count();
    (line.get(n..).unwrap_or_default(), n)
}

/// Splits the input into messages (the fields from one `:20:` or first tag to the next
/// `:20:` or terminator), one message at a time into a reused list of fields.
pub(crate) struct Splitter<'a> {
    bytes: &'a [u8],
    lines: std::iter::Peekable<crate::text::Lines<'a>>,
    /// Whether the last field may absorb tag-looking continuation lines.
    in_text_field: bool,
    /// Whether text lines still belong to the last field (not after a block or terminator).
    field_open: bool,
    /// A field already read that starts the next message.
    pending: Option<Field>,
}

impl<'a> Splitter<'a> {
    pub(crate) fn new(input: &'a Input<'_>) -> Self {
        Self {
            bytes: &input.bytes,
            lines: input.lines().peekable(),
            in_text_field: false,
            field_open: false,
            pending: None,
        }
    }

    /// Read the next message's fields into `out` (cleared first); false when there is none.
    pub(crate) fn next_into(&mut self, out: &mut Vec<Field>) -> bool {
        out.clear();
        out.extend(self.pending.take());
        let bytes = self.bytes;
        while let Some(line) = self.lines.next() {
            let raw = bytes.get(line.start..line.end).unwrap_or_default();
            let (mut content, mut offset) = skip_controls(raw);
            // Sparkassen dialect: a tag broken after its first colon (":" then "86:166?00…").
            if content == b":"
                && let Some(next) = self.lines.peek()
                && let Some(rest) = bytes.get(next.start..next.end)
                && let Some((tag, _)) = tag_at(&[b":", rest].concat())
                && is_known_tag(tag)
            {
                let joined = Line {
                    number: next.number,
                    start: next.start,
                    end: next.end,
                };
                self.lines.next();
                let tag = tag_name(tag);
                self.in_text_field = matches!(tag.as_ref(), "86" | "NS" | "61");
                self.field_open = true;
                let value_offset = tag.len() + 1;
                let starts_message = tag == "20";
                let field = Field {
                    tag,
                    start: joined.start + value_offset,
                    end: joined.end,
                    line: line.number,
                    end_line: joined.number,
                };
                if starts_message && !out.is_empty() {
                    self.pending = Some(field);
                    return true;
                }
                out.push(field);
                continue;
            }
            if content.first() == Some(&b'{') {
                // SWIFT block headers; a field may start on the same line after `{4:`.
                match find(content, b"{4:") {
                    Some(i) => {
                        offset += i + 3;
                        content = content.get(i + 3..).unwrap_or_default();
                    }
                    None => content = &[],
                }
                self.in_text_field = false;
                self.field_open = false;
                if trim(content).is_empty() {
                    continue;
                }
            }
            if let Some((tag, value_offset)) = tag_at(content) {
                let continuation = self.in_text_field && !is_known_tag(tag);
                if !continuation {
                    let field = Field {
                        tag: tag_name(tag),
                        start: line.start + offset + value_offset,
                        end: line.end,
                        line: line.number,
                        end_line: line.number,
                    };
                    self.in_text_field = matches!(tag, b"86" | b"NS" | b"61");
                    self.field_open = true;
                    if tag == b"20" && !out.is_empty() {
                        self.pending = Some(field);
                        return true;
                    }
                    out.push(field);
                    continue;
                }
            }
            if is_terminator(content) {
                self.in_text_field = false;
                self.field_open = false;
                if !out.is_empty() {
                    return true;
                }
                continue;
            }
            // A continuation line of the open field; text outside any field is a preamble.
            if self.field_open
                && let Some(field) = out.last_mut()
            {
                field.end = line.end;
                field.end_line = line.number;
            }
        }
        !out.is_empty()
    }
}

/// Split the input into messages, each a list of fields.
pub(crate) fn messages(input: &Input<'_>) -> Vec<Vec<Field>> {
    let mut splitter = Splitter::new(input);
    let mut out = Vec::new();
    let mut fields = Vec::new();
    while splitter.next_into(&mut fields) {
        out.push(std::mem::take(&mut fields));
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
            .map(|m| m.iter().map(|f| f.tag.to_string()).collect())
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
        let f86 = &m[0][1];
        assert_eq!(
            value_lines(&input.bytes, f86),
            vec![&b"line1"[..], b"", b"line3", b":12:11"]
        );
    }

    #[test]
    fn a_86_continuation_line_starting_with_a_dash_does_not_end_the_message() {
        // Rabobank exports wrap `:86:` so that a continuation line begins with `-`.
        let src = b":20:A\r\n:25:1\r\n:61:x\r\n:86:/EREF/E2E-1/ORDP//NAME/JANSEN\r\n-/REMI/USTD//HT-2026-0001/2\r\n- BETALING\r\n:62F:C\r\n-\r\n:20:B\r\n";
        assert_eq!(
            tags(src),
            vec![vec!["20", "25", "61", "86", "62F"], vec!["20"]]
        );
        let input = prepare(src, None, Fallback::Western).unwrap();
        let m = messages(&input);
        assert_eq!(
            value_lines(&input.bytes, &m[0][3]),
            vec![
                &b"/EREF/E2E-1/ORDP//NAME/JANSEN"[..],
                b"-/REMI/USTD//HT-2026-0001/2",
                b"- BETALING"
            ]
        );
    }
}
