//! The document, laid out: title block, parties, fields, sections, tables, notes, and the
//! footer of every page.

use crate::font::Metrics;
use crate::labels;
use crate::layout::{Line, clean, wrap};
use crate::model::{Align, Block, Document, Field, Table};

use super::flow::{BODY_W, Cell, MARGIN_X, Op, PAGE_H, Pager, Row, Style, count};

const TITLE: f32 = 18.0;
const SUBTITLE: f32 = 11.5;
const HEADING: f32 = 12.5;
const BODY: f32 = 10.0;
const TABLE: f32 = 9.0;
const SMALL: f32 = 8.0;
const LEADING: f32 = 1.45;
const CELL_PAD: f32 = 4.0;
const GRAY: u8 = 90;
const FOOTER_LINES: usize = 3;

const PLAIN: Style = Style {
    bold: false,
    gray: 0,
};
const BOLD: Style = Style {
    bold: true,
    gray: 0,
};
const MUTED: Style = Style {
    bold: false,
    gray: GRAY,
};

/// Lays the document out on pages, footers included.
pub(crate) fn layout(doc: &Document, m: &Metrics<'_>) -> Vec<Vec<Op>> {
    let footer = footer_lines(doc, m);
    let footer_top = PAGE_H - 40.0 - count(footer.len().saturating_sub(1)) * SMALL * LEADING;
    let mut pager = Pager::new(footer_top - 8.0);

    title_block(doc, m, &mut pager);
    parties(doc, m, &mut pager);
    fields(&doc.fields, m, &mut pager);

    for section in &doc.sections {
        if let Some(heading) = &section.heading {
            pager.gap(6.0);
            let row = one_cell(m, heading, HEADING, BOLD, Align::Left);
            pager.need(row.height() + 3.0 * BODY * LEADING);
            pager.place(&row);
            pager.gap(3.0);
        }
        for block in &section.blocks {
            match block {
                Block::Paragraph(text) => {
                    let mut row = one_cell(m, text, BODY, PLAIN, Align::Left);
                    row.splittable = true;
                    pager.place(&row);
                    pager.gap(5.0);
                }
                Block::Fields(list) => fields(list, m, &mut pager),
                Block::Table(table) => self::table(table, m, &mut pager),
            }
        }
    }

    if !doc.notes.is_empty() {
        pager.gap(6.0);
        let heading = one_cell(m, labels::notes(doc.lang), HEADING, BOLD, Align::Left);
        pager.need(heading.height() + 2.0 * BODY * LEADING);
        pager.place(&heading);
        pager.gap(2.0);
        for (i, note) in doc.notes.iter().enumerate() {
            let number = format!("{}.", i + 1);
            let indent = m.width("000.", BODY);
            let mut row = Row::new(
                vec![
                    cell(m, &number, BODY, MARGIN_X, indent, 0.0, Align::Left, PLAIN),
                    cell(
                        m,
                        note,
                        BODY,
                        MARGIN_X + indent,
                        BODY_W - indent,
                        0.0,
                        Align::Left,
                        PLAIN,
                    ),
                ],
                BODY,
                BODY * LEADING,
            );
            row.splittable = true;
            pager.place(&row);
            pager.gap(2.0);
        }
    }

    let mut pages = pager.finish();
    let total = pages.len();
    for (i, ops) in pages.iter_mut().enumerate() {
        page_footer(doc, m, &footer, footer_top, i + 1, total, ops);
    }
    pages
}

fn title_block(doc: &Document, m: &Metrics<'_>, pager: &mut Pager) {
    let mut title = one_cell(m, &doc.title, TITLE, BOLD, Align::Center);
    title.line_h = TITLE * 1.35;
    pager.place(&title);
    if let Some(subtitle) = &doc.subtitle {
        pager.gap(2.0);
        pager.place(&one_cell(m, subtitle, SUBTITLE, PLAIN, Align::Center));
    }
    pager.gap(8.0);
    let half = BODY_W / 2.0;
    let id = format!("{}：{}", labels::document_no(doc.lang), doc.id);
    let date = format!(
        "{}：{}",
        labels::issue_date(doc.lang),
        labels::date(doc.lang, doc.issue_date)
    );
    let mut meta = Row::new(
        vec![
            cell(m, &id, SMALL + 1.0, MARGIN_X, half, 0.0, Align::Left, MUTED),
            cell(
                m,
                &date,
                SMALL + 1.0,
                MARGIN_X + half,
                half,
                0.0,
                Align::Right,
                MUTED,
            ),
        ],
        SMALL + 1.0,
        (SMALL + 1.0) * LEADING,
    );
    meta.pad_bottom = 4.0;
    meta.rule_below = Some((1.2, 0));
    pager.place(&meta);
    pager.gap(12.0);
}

fn parties(doc: &Document, m: &Metrics<'_>, pager: &mut Pager) {
    let per_row = doc.parties.len().clamp(1, 3);
    let gap = 12.0;
    let width = (BODY_W - gap * count(per_row - 1)) / count(per_row);
    for group in doc.parties.chunks(per_row) {
        let cells = group
            .iter()
            .enumerate()
            .map(|(i, party)| {
                let mut lines = styled(m, &party.role, BODY, width, MUTED);
                lines.extend(styled(m, &party.name, BODY, width, BOLD));
                for line in &party.lines {
                    lines.extend(styled(m, line, BODY, width, PLAIN));
                }
                let x = MARGIN_X + count(i) * (width + gap);
                Cell {
                    x,
                    width,
                    pad: 0.0,
                    align: Align::Left,
                    lines,
                }
            })
            .collect();
        pager.place(&Row::new(cells, BODY, BODY * LEADING));
        pager.gap(10.0);
    }
}

fn fields(list: &[Field], m: &Metrics<'_>, pager: &mut Pager) {
    if list.is_empty() {
        return;
    }
    let label_w = list
        .iter()
        .map(|f| m.width(&clean(&f.label), BODY))
        .fold(0.0f32, f32::max)
        .min(BODY_W * 0.4)
        + 14.0;
    for field in list {
        let mut row = Row::new(
            vec![
                cell(
                    m,
                    &field.label,
                    BODY,
                    MARGIN_X,
                    label_w,
                    0.0,
                    Align::Left,
                    MUTED,
                ),
                cell(
                    m,
                    &field.value,
                    BODY,
                    MARGIN_X + label_w,
                    BODY_W - label_w,
                    0.0,
                    Align::Left,
                    PLAIN,
                ),
            ],
            BODY,
            BODY * LEADING,
        );
        row.pad_bottom = 1.0;
        pager.place(&row);
    }
    pager.gap(8.0);
}

fn table(table: &Table, m: &Metrics<'_>, pager: &mut Pager) {
    let widths = column_widths(table, m);
    let make = |cells: &[String], style: Style| {
        let mut x = MARGIN_X;
        let cells = cells
            .iter()
            .zip(table.columns())
            .zip(&widths)
            .map(|((text, column), &w)| {
                let c = cell(m, text, TABLE, x, w, CELL_PAD, column.align, style);
                x += w;
                c
            })
            .collect();
        let mut row = Row::new(cells, TABLE, TABLE * 1.35);
        row.pad_top = 3.0;
        row.pad_bottom = 3.0;
        row
    };
    let headers: Vec<String> = table.columns().iter().map(|c| c.header.clone()).collect();
    let mut header = make(&headers, BOLD);
    header.background = Some(235);
    header.rule_below = Some((0.8, 60));

    let first = table
        .rows()
        .first()
        .map(|r| make(r, PLAIN).height())
        .unwrap_or(0.0);
    pager.gap(2.0);
    pager.need(header.height() + first.min(60.0));
    pager.place(&header);
    pager.set_header(Some(header));
    for cells in table.rows() {
        let mut row = make(cells, PLAIN);
        row.rule_below = Some((0.4, 200));
        pager.place(&row);
    }
    if let Some(totals) = table.totals() {
        let mut row = make(totals, BOLD);
        row.rule_above = Some((1.0, 0));
        pager.place(&row);
    }
    pager.set_header(None);
    pager.gap(8.0);
}

/// Column widths from the content: narrow columns get what they need, the rest share what is
/// left in proportion to their longest line.
fn column_widths(table: &Table, m: &Metrics<'_>) -> Vec<f32> {
    let columns = table.columns().len().max(1);
    let mut natural: Vec<f32> = table
        .columns()
        .iter()
        .map(|c| longest_line(m, &c.header, TABLE))
        .collect();
    let rows = table.rows().iter().map(Vec::as_slice);
    for row in rows.chain(table.totals()) {
        for (n, text) in natural.iter_mut().zip(row) {
            *n = n.max(longest_line(m, text, TABLE));
        }
    }
    let natural: Vec<f32> = natural
        .iter()
        .map(|n| (n + 2.0 * CELL_PAD).min(BODY_W))
        .collect();
    let sum: f32 = natural.iter().sum();
    if sum <= 0.0 {
        return vec![BODY_W / count(columns); columns];
    }
    if sum <= BODY_W {
        return natural.iter().map(|n| n * BODY_W / sum).collect();
    }
    let fair = BODY_W / count(columns);
    let narrow: f32 = natural.iter().filter(|&&n| n <= fair).sum();
    let wide: f32 = natural.iter().filter(|&&n| n > fair).sum();
    let left = BODY_W - narrow;
    natural
        .iter()
        .map(|&n| {
            if n <= fair || wide <= 0.0 {
                n
            } else {
                n * left / wide
            }
        })
        .collect()
}

fn longest_line(m: &Metrics<'_>, text: &str, size: f32) -> f32 {
    clean(text)
        .split('\n')
        .map(|l| m.width(l, size))
        .fold(0.0, f32::max)
}

fn page_footer(
    doc: &Document,
    m: &Metrics<'_>,
    footer: &[Line],
    top: f32,
    page: usize,
    pages: usize,
    ops: &mut Vec<Op>,
) {
    ops.push(Op::Rule {
        x1: MARGIN_X,
        x2: MARGIN_X + BODY_W,
        y: top,
        width: 0.5,
        gray: 150,
    });
    let baseline = top + 4.0 + SMALL * 1.1;
    let id = one_line(m, &doc.id, SMALL, BODY_W * 0.3);
    let label = format!("{id}  {}", labels::page_of(doc.lang, page, pages));
    let width = m.width(&label, SMALL);
    ops.push(Op::Text {
        x: MARGIN_X + BODY_W - width,
        baseline,
        size: SMALL,
        text: label,
        bold: false,
        gray: GRAY,
    });
    for (k, line) in footer.iter().enumerate() {
        ops.push(Op::Text {
            x: MARGIN_X,
            baseline: baseline + count(k) * SMALL * LEADING,
            size: SMALL,
            text: line.text.clone(),
            bold: false,
            gray: GRAY,
        });
    }
}

/// The footer text wrapped beside the page label, at most [`FOOTER_LINES`] lines.
fn footer_lines(doc: &Document, m: &Metrics<'_>) -> Vec<Line> {
    let Some(text) = &doc.footer else {
        return Vec::new();
    };
    let mut lines = wrap(m, text, SMALL, BODY_W * 0.55);
    if lines.len() > FOOTER_LINES {
        lines.truncate(FOOTER_LINES);
        if let Some(last) = lines.last_mut() {
            let mut text = last.text.clone();
            text.push('…');
            *last = Line {
                width: m.width(&text, SMALL),
                text,
            };
        }
    }
    lines
}

/// `text` on one line of at most `max` points, cut with "…" if longer.
fn one_line(m: &Metrics<'_>, text: &str, size: f32, max: f32) -> String {
    let text = clean(text).replace('\n', " ");
    if m.width(&text, size) <= max {
        return text;
    }
    let budget = max - m.width("…", size);
    let mut out = String::new();
    let mut width = 0.0;
    for c in text.chars() {
        width += m.glyph(c).1 * size;
        if width > budget {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

fn styled(m: &Metrics<'_>, text: &str, size: f32, width: f32, style: Style) -> Vec<(Line, Style)> {
    wrap(m, text, size, width)
        .into_iter()
        .map(|l| (l, style))
        .collect()
}

#[allow(clippy::too_many_arguments)] // a cell is all of these; a struct literal would be longer
fn cell(
    m: &Metrics<'_>,
    text: &str,
    size: f32,
    x: f32,
    width: f32,
    pad: f32,
    align: Align,
    style: Style,
) -> Cell {
    let lines = styled(m, text, size, (width - 2.0 * pad).max(size), style);
    Cell {
        x,
        width,
        pad,
        align,
        lines,
    }
}

fn one_cell(m: &Metrics<'_>, text: &str, size: f32, style: Style, align: Align) -> Row {
    Row::new(
        vec![cell(m, text, size, MARGIN_X, BODY_W, 0.0, align, style)],
        size,
        size * LEADING,
    )
}
