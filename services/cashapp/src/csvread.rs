//! A small CSV reader for the engine's own input files (receivables, rates): RFC 4180
//! quoting, comma or tab or semicolon delimiter (from the header), UTF-8 with or without BOM,
//! else GB18030 (files saved by Chinese Excel).

use std::collections::HashMap;

use crate::error::InputError;

/// One data row: its 1-based line and cells.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    pub(crate) line: usize,
    pub(crate) cells: Vec<String>,
}

/// A parsed file: header positions and rows.
#[derive(Debug, Clone)]
pub(crate) struct Table {
    pub(crate) file: String,
    pub(crate) columns: HashMap<String, usize>,
    pub(crate) rows: Vec<Record>,
}

impl Table {
    /// Read `bytes`; the first non-empty line is the header (names trimmed, lower-cased).
    pub(crate) fn read(file: &str, bytes: &[u8]) -> Result<Self, InputError> {
        let text = decode(bytes);
        let delimiter = text
            .lines()
            .find(|l| !l.trim().is_empty())
            .map(|l| {
                [',', '\t', ';']
                    .into_iter()
                    .max_by_key(|d| l.matches(*d).count())
                    .unwrap_or(',')
            })
            .unwrap_or(',');
        let mut records = split(&text, delimiter).into_iter();
        let header = records.next().ok_or_else(|| InputError::File {
            file: file.to_string(),
            problem: "the file is empty: expected a header row".into(),
        })?;
        let columns = header
            .cells
            .iter()
            .enumerate()
            .map(|(i, c)| (c.trim().trim_start_matches('\u{feff}').to_lowercase(), i))
            .collect();
        Ok(Self {
            file: file.to_string(),
            columns,
            rows: records.collect(),
        })
    }

    /// Error unless every column in `required` is in the header.
    pub(crate) fn require(&self, required: &[&str]) -> Result<(), InputError> {
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|c| !self.columns.contains_key(*c))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(InputError::File {
            file: self.file.clone(),
            problem: format!(
                "the header has no column {} (expected at least: {})",
                missing.join(", "),
                required.join(", ")
            ),
        })
    }

    /// The trimmed cell of `column` in `row`, `None` when the column is absent, the row is
    /// too short, or the cell is empty.
    pub(crate) fn cell<'a>(&self, row: &'a Record, column: &str) -> Option<&'a str> {
        let i = *self.columns.get(column)?;
        row.cells.get(i).map(|c| c.trim()).filter(|c| !c.is_empty())
    }

    /// Like [`Table::cell`] but an error naming file, row and field when missing.
    pub(crate) fn required<'a>(
        &self,
        row: &'a Record,
        column: &str,
    ) -> Result<&'a str, InputError> {
        self.cell(row, column).ok_or_else(|| {
            let present = self
                .columns
                .get(column)
                .is_some_and(|i| *i < row.cells.len());
            InputError::row(
                &self.file,
                row.line,
                column,
                if present {
                    "an empty cell; a value is required".to_string()
                } else {
                    format!(
                        "the row has {} cells, the column is missing",
                        row.cells.len()
                    )
                },
            )
        })
    }
}

fn decode(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::GB18030
            .decode_without_bom_handling(bytes)
            .0
            .into_owned(),
    }
}

/// Split text into records; quoted cells may hold delimiters, quotes (`""`) and newlines.
/// Blank lines are skipped.
fn split(text: &str, delimiter: char) -> Vec<Record> {
    let mut records = Vec::new();
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut in_quotes = false;
    let mut line = 1usize;
    let mut start_line = 1usize;
    let mut chars = text.chars().peekable();
    let mut push_record = |cells: &mut Vec<String>, cell: &mut String, start: usize| {
        cells.push(std::mem::take(cell));
        let record = std::mem::take(cells);
        if !(record.len() == 1 && record.first().is_some_and(|c| c.trim().is_empty())) {
            records.push(Record {
                line: start,
                cells: record,
            });
        }
    };
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    cell.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    cell.push(c);
                }
                _ => cell.push(c),
            }
            continue;
        }
        match c {
            '"' if cell.trim().is_empty() => {
                cell.clear();
                in_quotes = true;
            }
            '\r' => {}
            '\n' => {
                push_record(&mut cells, &mut cell, start_line);
                line += 1;
                start_line = line;
            }
            _ if c == delimiter => cells.push(std::mem::take(&mut cell)),
            _ => cell.push(c),
        }
    }
    if !cell.is_empty() || !cells.is_empty() {
        push_record(&mut cells, &mut cell, start_line);
    }
    records
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_newlines_and_lines() {
        let t = Table::read("x.csv", b"\xEF\xBB\xBFa,B\n\n\"1,2\",\"x\"\"\ny\"\n3,4\n");
        let t = t.ok();
        let rows: Vec<(usize, Vec<String>)> = t
            .iter()
            .flat_map(|t| t.rows.iter().map(|r| (r.line, r.cells.clone())))
            .collect();
        assert_eq!(
            rows,
            vec![
                (3, vec!["1,2".to_string(), "x\"\ny".to_string()]),
                (5, vec!["3".to_string(), "4".to_string()])
            ]
        );
        assert!(t.is_some_and(|t| t.columns.contains_key("b")));
    }
}
