//! Bank CSV exports read through a [`CsvProfile`] (column mapping, date and number formats,
//! sign conventions, header detection, encodings such as GBK/GB18030), including settlement
//! reports of WeChat Pay, Alipay and POS acquirers ([`SettlementSpec`]).
//!
//! The tokenizer is lenient where exports are sloppy: cells padded with spaces and tabs
//! (ICBC), text after a closing quote (HSBC's `"-1.00"\t,`), short rows, a BOM, CRLF or LF.

mod cells;
mod profile;
mod rows;
mod settlement;

pub use profile::{AmountSpec, Column, CsvProfile, DateSpec, DirectionSpec};
pub use settlement::{RefundSpec, SettlementSpec, TotalsSpec};

use crate::ParseOptions;
use crate::error::FeedError;
use crate::model::Statement;
use crate::text::Input;

/// Trim spaces, tabs and stray quotes around a cell.
pub(crate) fn clean(cell: &str) -> String {
    cell.trim_matches(|c: char| c.is_whitespace() || c == '"' || c == '\u{feff}')
        .to_string()
}

/// One row: its cells (raw bytes, unquoted) and its first and last line.
#[derive(Debug)]
pub(crate) struct Row {
    pub(crate) cells: Vec<Vec<u8>>,
    pub(crate) line: u32,
    pub(crate) end_line: u32,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// Split bytes into rows of cells. Quotes may span lines; `""` is an escaped quote.
pub(crate) fn tokenize(bytes: &[u8], delimiter: u8, first: usize) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut cells: Vec<Vec<u8>> = Vec::new();
    let mut cell: Vec<u8> = Vec::new();
    let mut line = 1u32;
    let mut row_line = 1u32;
    let mut row_start = first;
    let mut in_quotes = false;
    let mut i = first;
    while let Some(&b) = bytes.get(i) {
        if in_quotes {
            match b {
                b'"' if bytes.get(i + 1) == Some(&b'"') => {
                    cell.push(b'"');
                    i += 1;
                }
                b'"' => in_quotes = false,
                b'\n' => {
                    line += 1;
                    cell.push(b);
                }
                _ => cell.push(b),
            }
        } else {
            match b {
                b'"' if cell.iter().all(|c| *c == b' ' || *c == b'\t') => {
                    cell.clear();
                    in_quotes = true;
                }
                b'\r' | b'\n' => {
                    let crlf = b == b'\r' && bytes.get(i + 1) == Some(&b'\n');
                    if crlf {
                        i += 1;
                    }
                    cells.push(std::mem::take(&mut cell));
                    rows.push(Row {
                        cells: std::mem::take(&mut cells),
                        line: row_line,
                        end_line: line,
                        start: row_start,
                        end: i,
                    });
                    line += 1;
                    row_line = line;
                    row_start = i + 1;
                }
                _ if b == delimiter => cells.push(std::mem::take(&mut cell)),
                _ => cell.push(b),
            }
        }
        i += 1;
    }
    if !cell.is_empty() || !cells.is_empty() {
        cells.push(cell);
        rows.push(Row {
            cells,
            line: row_line,
            end_line: line,
            start: row_start,
            end: bytes.len(),
        });
    }
    rows
}

pub(crate) fn find_profile(name: &str, options: &ParseOptions) -> Result<CsvProfile, FeedError> {
    profile::find(name, options)
}

pub(crate) fn detect_profile(head: &[u8], options: &ParseOptions) -> Option<String> {
    profile::detect(head, options)
}

pub(crate) fn parse(
    input: &Input<'_>,
    profile: &CsvProfile,
    options: &ParseOptions,
) -> Vec<Result<Statement, FeedError>> {
    rows::parse(input, profile, options)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(src: &[u8]) -> Vec<Vec<String>> {
        tokenize(src, b',', 0)
            .into_iter()
            .map(|r| {
                r.cells
                    .iter()
                    .map(|c| clean(&String::from_utf8_lossy(c)))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn lenient_quoting() {
        assert_eq!(
            cells(b"a,\"b,c\"\t,\"d\"\"e\"\r\n2023-05-02     \t,\"x\ny\"\n"),
            vec![vec!["a", "b,c", "d\"e"], vec!["2023-05-02", "x\ny"]]
        );
    }

    #[test]
    fn rows_know_their_lines() {
        let rows = tokenize(b"h1,h2\n\"multi\nline\",2\nlast,3", b',', 0);
        let lines: Vec<_> = rows.iter().map(|r| (r.line, r.end_line)).collect();
        assert_eq!(lines, vec![(1, 1), (2, 3), (4, 4)]);
    }
}
