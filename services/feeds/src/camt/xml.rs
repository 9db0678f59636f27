//! A small element tree built with `quick-xml`, one statement at a time, so a large camt
//! file never sits in memory as a whole and an XML error only costs the statement it is in.

use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

/// Deeper nesting than this is not ISO 20022 (and would make tree drops recursive).
const MAX_DEPTH: usize = 48;

/// An element: local name (namespace prefix dropped), text, attributes, children, position.
#[derive(Debug, Clone, Default)]
pub(crate) struct Node {
    pub(crate) name: String,
    pub(crate) text: String,
    pub(crate) attrs: Vec<(String, String)>,
    pub(crate) children: Vec<Node>,
    pub(crate) line: u32,
    pub(crate) end_line: u32,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

impl Node {
    pub(crate) fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    pub(crate) fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// Descend along `path` taking the first matching child at each step.
    pub(crate) fn at(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |node, name| node.child(name))
    }

    /// Trimmed, non-empty text of the element at `path`.
    pub(crate) fn text_at(&self, path: &[&str]) -> Option<&str> {
        self.at(path)
            .map(|n| n.text.trim())
            .filter(|t| !t.is_empty())
    }

    pub(crate) fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What the reader produces.
#[derive(Debug)]
pub(crate) enum Item {
    /// The message element under `Document` (e.g. `BkToCstmrStmt`), with its line.
    Message(String, u32),
    /// A complete statement/report/notification element.
    Record(Node),
    /// Malformed XML at a line; reading stops.
    Error { line: u32, message: String },
}

/// Streams `bytes`, calling `sink` for each item. Elements named in `records` at the third
/// level (`Document/Message/Record`) are built as trees; everything else is skipped.
pub(crate) fn read(bytes: &[u8], records: &[&str], mut sink: impl FnMut(Item)) {
    let mut reader = Reader::from_reader(bytes);
    reader.config_mut().check_end_names = true;
    let mut lines = LineCounter::default();
    let mut names: Vec<String> = Vec::new();
    let mut stack: Vec<Node> = Vec::new();
    loop {
        let before = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(e) => {
                let at = usize::try_from(reader.buffer_position()).unwrap_or(before);
                sink(Item::Error {
                    line: lines.line_at(bytes, at),
                    message: e.to_string(),
                });
                return;
            }
        };
        let after = usize::try_from(reader.buffer_position()).unwrap_or(before);
        match event {
            Event::Start(e) | Event::Empty(e) if names.len() >= MAX_DEPTH => {
                let _ = e;
                sink(Item::Error {
                    line: lines.line_at(bytes, before),
                    message: format!("elements nested deeper than {MAX_DEPTH} levels"),
                });
                return;
            }
            Event::Start(e) => {
                let node = open(&e, lines.line_at(bytes, before), before);
                names.push(node.name.clone());
                start(&mut stack, &names, records, node, &mut sink);
            }
            Event::Empty(e) => {
                let mut node = open(&e, lines.line_at(bytes, before), before);
                node.end = after;
                node.end_line = node.line;
                names.push(node.name.clone());
                start(&mut stack, &names, records, node, &mut sink);
                names.pop();
                close(&mut stack, &mut sink);
            }
            Event::End(_) => {
                if let Some(top) = stack.last_mut() {
                    top.end = after;
                    top.end_line = lines.line_at(bytes, after);
                }
                names.pop();
                close(&mut stack, &mut sink);
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    match t.xml_content() {
                        Ok(s) => top.text.push_str(&s),
                        Err(e) => {
                            sink(Item::Error {
                                line: lines.line_at(bytes, before),
                                message: e.to_string(),
                            });
                            return;
                        }
                    }
                }
            }
            Event::CData(c) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&String::from_utf8_lossy(&c));
                }
            }
            Event::GeneralRef(r) => {
                if let Some(top) = stack.last_mut() {
                    let name = String::from_utf8_lossy(&r).into_owned();
                    match r.resolve_char_ref() {
                        Ok(Some(c)) => top.text.push(c),
                        _ => match name.as_str() {
                            "amp" => top.text.push('&'),
                            "lt" => top.text.push('<'),
                            "gt" => top.text.push('>'),
                            "quot" => top.text.push('"'),
                            "apos" => top.text.push('\''),
                            other => {
                                sink(Item::Error {
                                    line: lines.line_at(bytes, before),
                                    message: format!("unknown entity &{other};"),
                                });
                                return;
                            }
                        },
                    }
                }
            }
            Event::Eof => return,
            _ => {}
        }
    }
}

fn open(e: &BytesStart<'_>, line: u32, start: usize) -> Node {
    let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
    let attrs = e
        .attributes()
        .flatten()
        .map(|a| {
            let key = String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned();
            let value = a
                .unescape_value()
                .map(|v| v.into_owned())
                .unwrap_or_else(|_| String::from_utf8_lossy(&a.value).into_owned());
            (key, value)
        })
        .collect();
    Node {
        name,
        attrs,
        line,
        start,
        ..Node::default()
    }
}

fn start(
    stack: &mut Vec<Node>,
    names: &[String],
    records: &[&str],
    node: Node,
    sink: &mut impl FnMut(Item),
) {
    if !stack.is_empty() {
        stack.push(node);
        return;
    }
    let depth = names.len();
    // Document/Message/Record, or Message/Record when the Document wrapper is missing.
    let message_level = if names.first().is_some_and(|n| n == "Document") {
        2
    } else {
        1
    };
    if depth == message_level {
        sink(Item::Message(node.name.clone(), node.line));
    } else if depth == message_level + 1 && records.contains(&node.name.as_str()) {
        stack.push(node);
    }
}

fn close(stack: &mut Vec<Node>, sink: &mut impl FnMut(Item)) {
    let Some(node) = stack.pop() else { return };
    match stack.last_mut() {
        Some(parent) => parent.children.push(node),
        None => sink(Item::Record(node)),
    }
}

/// Counts lines incrementally; offsets passed in are non-decreasing.
#[derive(Debug, Default)]
struct LineCounter {
    offset: usize,
    line: u32,
}

impl LineCounter {
    fn line_at(&mut self, bytes: &[u8], offset: usize) -> u32 {
        if self.line == 0 {
            self.line = 1;
        }
        if offset > self.offset {
            let chunk = bytes.get(self.offset..offset).unwrap_or_default();
            let n = chunk.iter().filter(|&&b| b == b'\n').count();
            self.line = self
                .line
                .saturating_add(u32::try_from(n).unwrap_or(u32::MAX));
            self.offset = offset;
        }
        self.line
    }
}
