//! Pagination: rows of text cells placed top to bottom on A4 pages, split across pages where
//! they must be, with a table's header row repeated on every page it continues on.
//!
//! Everything the document shows becomes a [`Row`] of one or more cells (a paragraph is a
//! one-cell row, a labelled value a two-cell row, a table row one cell per column); the
//! [`Pager`] places rows and records drawing operations per page. No PDF here: the result is a
//! plain list of [`Op`]s that `pdf::render` draws, which keeps pagination testable on its own.

use crate::layout::Line;
use crate::model::Align;

/// A4 in PostScript points.
pub(crate) const PAGE_W: f32 = 595.28;
/// A4 in PostScript points.
pub(crate) const PAGE_H: f32 = 841.89;
/// Left and right margin (18 mm).
pub(crate) const MARGIN_X: f32 = 51.0;
/// Top margin (18 mm).
pub(crate) const MARGIN_TOP: f32 = 51.0;
/// The width text can use.
pub(crate) const BODY_W: f32 = PAGE_W - 2.0 * MARGIN_X;

/// One drawing operation; y grows downwards from the top of the page.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Op {
    /// A line of text; `gray` 0 is black.
    Text {
        x: f32,
        baseline: f32,
        size: f32,
        text: String,
        bold: bool,
        gray: u8,
    },
    /// A horizontal rule.
    Rule {
        x1: f32,
        x2: f32,
        y: f32,
        width: f32,
        gray: u8,
    },
    /// A filled rectangle (a table header's background).
    Fill {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        gray: u8,
    },
}

/// How a line of a cell is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Style {
    pub(crate) bold: bool,
    pub(crate) gray: u8,
}

/// A cell: a horizontal slot of a row and its laid-out lines.
#[derive(Debug, Clone)]
pub(crate) struct Cell {
    pub(crate) x: f32,
    pub(crate) width: f32,
    pub(crate) pad: f32,
    pub(crate) align: Align,
    pub(crate) lines: Vec<(Line, Style)>,
}

/// A row of cells sharing a font size and line height.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) cells: Vec<Cell>,
    pub(crate) size: f32,
    pub(crate) line_h: f32,
    pub(crate) pad_top: f32,
    pub(crate) pad_bottom: f32,
    /// Left and right end of backgrounds and rules.
    pub(crate) span: (f32, f32),
    pub(crate) background: Option<u8>,
    pub(crate) rule_above: Option<(f32, u8)>,
    pub(crate) rule_below: Option<(f32, u8)>,
    /// Whether the row may break across pages wherever it must (paragraphs), rather than only
    /// when it is taller than a page (table rows, parties).
    pub(crate) splittable: bool,
}

impl Row {
    /// A row with these cells and no decoration.
    pub(crate) fn new(cells: Vec<Cell>, size: f32, line_h: f32) -> Self {
        Self {
            cells,
            size,
            line_h,
            pad_top: 0.0,
            pad_bottom: 0.0,
            span: (MARGIN_X, MARGIN_X + BODY_W),
            background: None,
            rule_above: None,
            rule_below: None,
            splittable: false,
        }
    }

    fn lines(&self) -> usize {
        self.cells
            .iter()
            .map(|c| c.lines.len())
            .max()
            .unwrap_or(0)
            .max(1)
    }

    pub(crate) fn height(&self) -> f32 {
        self.pad_top + count(self.lines()) * self.line_h + self.pad_bottom
    }

    /// Lines `from..to` of every cell (a cell with fewer lines gives what it has).
    fn slice(&self, from: usize, to: usize) -> Row {
        let mut row = self.clone();
        for cell in &mut row.cells {
            let end = to.min(cell.lines.len());
            let start = from.min(end);
            cell.lines = cell.lines[start..end].to_vec();
        }
        if from > 0 {
            row.rule_above = None;
        }
        row
    }
}

/// A count as a float for geometry; counts beyond `u16::MAX` only ever arise from absurd input
/// and are capped (the pager still places every line, it just measures in steps).
pub(crate) fn count(n: usize) -> f32 {
    f32::from(u16::try_from(n).unwrap_or(u16::MAX))
}

/// Places rows on pages.
pub(crate) struct Pager {
    pages: Vec<Vec<Op>>,
    y: f32,
    bottom: f32,
    /// True until something is placed on the current page (after any repeated header).
    fresh: bool,
    header: Option<Row>,
}

impl Pager {
    /// A pager whose body ends at `bottom` (the footer lives below).
    pub(crate) fn new(bottom: f32) -> Self {
        Self {
            pages: vec![Vec::new()],
            y: MARGIN_TOP,
            bottom,
            fresh: true,
            header: None,
        }
    }

    /// The room left on the current page.
    pub(crate) fn room(&self) -> f32 {
        self.bottom - self.y
    }

    /// Vertical space, not carried over to a new page.
    pub(crate) fn gap(&mut self, h: f32) {
        if !self.fresh {
            self.y = (self.y + h).min(self.bottom);
        }
    }

    /// Starts a new page unless `h` points are left on this one (keeps a heading with what
    /// follows it).
    pub(crate) fn need(&mut self, h: f32) {
        if h > self.room() && !self.fresh {
            self.break_page();
        }
    }

    /// Repeat this row at the top of every new page (a table's header), or stop repeating.
    /// A header taller than a third of the page is not repeated.
    pub(crate) fn set_header(&mut self, header: Option<Row>) {
        let limit = (self.bottom - MARGIN_TOP) / 3.0;
        self.header = header.filter(|h| h.height() <= limit);
    }

    /// Places a row: where it fits, on the next page if it does not (tables' rows are kept
    /// whole), or line by line across pages when it must be split.
    pub(crate) fn place(&mut self, row: &Row) {
        let h = row.height();
        if h <= self.room() {
            self.draw(row);
            return;
        }
        let header_h = self.header.as_ref().map_or(0.0, Row::height);
        let page_body = self.bottom - MARGIN_TOP - header_h;
        if !self.fresh && (!row.splittable && h <= page_body || self.room() < row.line_h * 2.0) {
            self.break_page();
            if h <= self.room() {
                self.draw(row);
                return;
            }
        }
        let total = row.lines();
        let mut from = 0;
        while from < total {
            let fit = (self.room() - row.pad_top - row.pad_bottom) / row.line_h;
            let mut fit = if fit.is_finite() && fit >= 1.0 {
                // `fit` is at most a page of lines, far inside usize.
                fit.floor().min(1.0e6) as usize
            } else {
                0
            };
            if fit == 0 {
                if !self.fresh {
                    self.break_page();
                    continue;
                }
                fit = 1; // a line taller than the page: print it anyway, never loop
            }
            let to = from.saturating_add(fit).min(total);
            self.draw(&row.slice(from, to));
            from = to;
            if from < total {
                self.break_page();
            }
        }
    }

    fn break_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = MARGIN_TOP;
        if let Some(header) = self.header.clone() {
            self.draw(&header);
        }
        self.fresh = true;
    }

    fn draw(&mut self, row: &Row) {
        let top = self.y;
        let h = row.height();
        let ops = match self.pages.last_mut() {
            Some(ops) => ops,
            None => return,
        };
        let (x1, x2) = row.span;
        if let Some(gray) = row.background {
            ops.push(Op::Fill {
                x: x1,
                y: top,
                w: x2 - x1,
                h,
                gray,
            });
        }
        if let Some((width, gray)) = row.rule_above {
            ops.push(Op::Rule {
                x1,
                x2,
                y: top,
                width,
                gray,
            });
        }
        for cell in &row.cells {
            for (k, (line, style)) in cell.lines.iter().enumerate() {
                if line.text.is_empty() {
                    continue;
                }
                let x = match cell.align {
                    Align::Left => cell.x + cell.pad,
                    Align::Right => cell.x + cell.width - cell.pad - line.width,
                    Align::Center => cell.x + (cell.width - line.width) / 2.0,
                };
                let line_top = top + row.pad_top + count(k) * row.line_h;
                let baseline = line_top + (row.line_h - row.size) / 2.0 + row.size * 0.86;
                ops.push(Op::Text {
                    x,
                    baseline,
                    size: row.size,
                    text: line.text.clone(),
                    bold: style.bold,
                    gray: style.gray,
                });
            }
        }
        if let Some((width, gray)) = row.rule_below {
            ops.push(Op::Rule {
                x1,
                x2,
                y: top + h,
                width,
                gray,
            });
        }
        self.y = top + h;
        self.fresh = false;
    }

    /// The pages and their operations.
    pub(crate) fn finish(self) -> Vec<Vec<Op>> {
        self.pages
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(lines: usize, splittable: bool) -> Row {
        let lines = (0..lines)
            .map(|i| {
                (
                    Line {
                        text: format!("l{i}"),
                        width: 10.0,
                    },
                    Style::default(),
                )
            })
            .collect();
        let cell = Cell {
            x: MARGIN_X,
            width: BODY_W,
            pad: 0.0,
            align: Align::Left,
            lines,
        };
        let mut row = Row::new(vec![cell], 10.0, 10.0);
        row.splittable = splittable;
        row
    }

    fn texts(page: &[Op]) -> Vec<String> {
        page.iter()
            .filter_map(|op| match op {
                Op::Text { text, .. } => Some(text.clone()),
                _ => None,
            })
            .collect()
    }

    const BOTTOM: f32 = MARGIN_TOP + 100.0; // ten 10-point lines a page

    #[test]
    fn a_row_that_does_not_fit_moves_whole_to_the_next_page() {
        let mut pager = Pager::new(BOTTOM);
        pager.place(&row(7, false));
        pager.place(&row(5, false));
        let pages = pager.finish();
        assert_eq!(pages.len(), 2);
        assert_eq!(texts(&pages[1]).len(), 5);
    }

    #[test]
    fn a_paragraph_splits_and_a_row_taller_than_a_page_too() {
        let mut pager = Pager::new(BOTTOM);
        pager.place(&row(7, false));
        pager.place(&row(5, true)); // 3 lines here, 2 on the next page
        pager.place(&row(25, false)); // taller than a page: 8 + 10 + 7
        let pages = pager.finish();
        let counts: Vec<usize> = pages.iter().map(|p| texts(p).len()).collect();
        assert_eq!(counts, [10, 10, 10, 7]);
        let all: Vec<String> = pages.iter().flat_map(|p| texts(p)).collect();
        assert_eq!(all.iter().filter(|t| t.as_str() == "l24").count(), 1);
    }

    #[test]
    fn the_header_repeats_on_every_page_unless_it_is_huge() {
        let mut pager = Pager::new(BOTTOM);
        let mut header = row(1, false);
        header.cells[0].lines[0].0.text = "H".into();
        pager.set_header(Some(header));
        for _ in 0..30 {
            pager.place(&row(1, false));
        }
        let pages = pager.finish();
        assert_eq!(pages.len(), 4);
        assert!(pages[1..].iter().all(|p| texts(p)[0] == "H"));

        let mut pager = Pager::new(BOTTOM);
        pager.set_header(Some(row(4, false))); // more than a third of the page
        for _ in 0..30 {
            pager.place(&row(1, false));
        }
        assert_eq!(pager.finish().len(), 3);
    }

    #[test]
    fn a_line_taller_than_the_page_still_terminates() {
        let mut pager = Pager::new(MARGIN_TOP + 5.0);
        pager.place(&row(3, true));
        assert_eq!(pager.finish().len(), 3);
    }
}
