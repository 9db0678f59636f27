//! The document model: what a notice, a statement or an evidence cover sheet says, with no
//! idea of how it is drawn. Services build one of these; [`crate::to_html`] and
//! [`crate::to_pdf`] render the same value the same way every time.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::error::DocumentError;

/// The language a document is written in. It picks the labels the renderer adds itself (page
/// numbers, "issue date", …), the date format and the `lang` tag of the HTML page and PDF.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    /// Simplified Chinese, the default for debtors in mainland China (R-D3: Chinese first).
    ZhCn,
    /// English.
    En,
}

impl Lang {
    /// The BCP 47 tag: `zh-CN` or `en`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }
}

/// A party to the document (creditor, debtor, property, court, …): a role label, a name and
/// address lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    /// What the party is in this document, e.g. "债务人" / "Debtor".
    pub role: String,
    /// The party's name.
    pub name: String,
    /// Address, unit, contact lines, in print order.
    pub lines: Vec<String>,
}

impl Party {
    /// A party with no address lines yet.
    pub fn new(role: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            role: role.into(),
            name: name.into(),
            lines: Vec::new(),
        }
    }

    /// Adds an address or contact line.
    #[must_use]
    pub fn line(mut self, line: impl Into<String>) -> Self {
        self.lines.push(line.into());
        self
    }
}

/// A label and its value, e.g. "应缴日期" → "2026年6月30日".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The label.
    pub label: String,
    /// The value, already formatted.
    pub value: String,
}

impl Field {
    /// A label and its value.
    pub fn new(label: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            value: value.into(),
        }
    }
}

/// How the text of a table column sits in its cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Align {
    /// Text columns.
    #[default]
    Left,
    /// Short codes, marks.
    Center,
    /// Numbers and money, so that the digits line up.
    Right,
}

/// A table column: its header text and alignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The header text, repeated on every page the table continues on.
    pub header: String,
    /// The alignment of the header and the cells.
    pub align: Align,
}

impl Column {
    /// A left-aligned text column.
    pub fn text(header: impl Into<String>) -> Self {
        Self {
            header: header.into(),
            align: Align::Left,
        }
    }

    /// A right-aligned column for amounts (and other numbers).
    pub fn money(header: impl Into<String>) -> Self {
        Self {
            header: header.into(),
            align: Align::Right,
        }
    }

    /// A centred column.
    pub fn center(header: impl Into<String>) -> Self {
        Self {
            header: header.into(),
            align: Align::Center,
        }
    }
}

/// A table whose rows always have one cell per column (checked when a row is added, so a
/// renderer never has to guess what a short row meant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    columns: Vec<Column>,
    rows: Vec<Vec<String>>,
    totals: Option<Vec<String>>,
}

impl Table {
    /// A table with these columns and no rows; at least one column.
    pub fn new(columns: Vec<Column>) -> Result<Self, DocumentError> {
        if columns.is_empty() {
            return Err(DocumentError::NoColumns);
        }
        Ok(Self {
            columns,
            rows: Vec::new(),
            totals: None,
        })
    }

    /// Adds a row; it must have exactly one cell per column.
    pub fn push_row<S: Into<String>>(
        &mut self,
        cells: impl IntoIterator<Item = S>,
    ) -> Result<(), DocumentError> {
        let row = self.check(cells, self.rows.len() + 1)?;
        self.rows.push(row);
        Ok(())
    }

    /// Sets the totals row, printed after the last row with a rule above it; one cell per
    /// column (leave the cells that have no total empty).
    pub fn set_totals<S: Into<String>>(
        &mut self,
        cells: impl IntoIterator<Item = S>,
    ) -> Result<(), DocumentError> {
        let row = self.check(cells, 0)?;
        self.totals = Some(row);
        Ok(())
    }

    fn check<S: Into<String>>(
        &self,
        cells: impl IntoIterator<Item = S>,
        row: usize,
    ) -> Result<Vec<String>, DocumentError> {
        let cells: Vec<String> = cells.into_iter().map(Into::into).collect();
        if cells.len() != self.columns.len() {
            return Err(DocumentError::RowShape {
                row,
                cells: cells.len(),
                columns: self.columns.len(),
            });
        }
        Ok(cells)
    }

    /// The columns.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The body rows, each with one cell per column.
    pub fn rows(&self) -> &[Vec<String>] {
        &self.rows
    }

    /// The totals row, if any.
    pub fn totals(&self) -> Option<&[String]> {
        self.totals.as_deref()
    }
}

/// One piece of a section's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// A paragraph; a `\n` in the text is a line break.
    Paragraph(String),
    /// Labelled values, printed as a two-column list.
    Fields(Vec<Field>),
    /// A table.
    Table(Table),
}

/// A section: an optional heading and its blocks, in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Section {
    /// The heading, if any.
    pub heading: Option<String>,
    /// The content.
    pub blocks: Vec<Block>,
}

impl Section {
    /// A section with a heading.
    pub fn new(heading: impl Into<String>) -> Self {
        Self {
            heading: Some(heading.into()),
            blocks: Vec::new(),
        }
    }

    /// A section without a heading.
    pub fn untitled() -> Self {
        Self::default()
    }

    /// Adds a paragraph.
    #[must_use]
    pub fn paragraph(mut self, text: impl Into<String>) -> Self {
        self.blocks.push(Block::Paragraph(text.into()));
        self
    }

    /// Adds a list of labelled values.
    #[must_use]
    pub fn fields(mut self, fields: Vec<Field>) -> Self {
        self.blocks.push(Block::Fields(fields));
        self
    }

    /// Adds a table.
    #[must_use]
    pub fn table(mut self, table: Table) -> Self {
        self.blocks.push(Block::Table(table));
        self
    }
}

/// A document: everything a notice, statement or evidence cover sheet shows.
///
/// The issue date is the only date in the output (the PDF's creation date is taken from it, not
/// from a clock), so rendering the same value twice gives the same bytes (R-L8: a stored hash
/// can be recomputed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The language (labels, date format, `lang` tags).
    pub lang: Lang,
    /// The document's number, printed in the header and on every page's footer, e.g.
    /// "DN-2026-000123".
    pub id: String,
    /// The issue date.
    pub issue_date: NaiveDate,
    /// The title, e.g. "催缴通知书".
    pub title: String,
    /// A line under the title, if any.
    pub subtitle: Option<String>,
    /// The parties (creditor, debtor, …), side by side where they fit.
    pub parties: Vec<Party>,
    /// Labelled values under the parties (contract number, unit, pay-by date, …).
    pub fields: Vec<Field>,
    /// The body.
    pub sections: Vec<Section>,
    /// Notes after the body, numbered.
    pub notes: Vec<String>,
    /// A short line printed at the foot of every page (issuer, contact); meant for one line,
    /// at most three lines are printed in the PDF.
    pub footer: Option<String>,
}

impl Document {
    /// A document with a title and nothing else yet.
    pub fn new(
        lang: Lang,
        id: impl Into<String>,
        issue_date: NaiveDate,
        title: impl Into<String>,
    ) -> Self {
        Self {
            lang,
            id: id.into(),
            issue_date,
            title: title.into(),
            subtitle: None,
            parties: Vec::new(),
            fields: Vec::new(),
            sections: Vec::new(),
            notes: Vec::new(),
            footer: None,
        }
    }

    /// Sets the subtitle.
    #[must_use]
    pub fn subtitle(mut self, subtitle: impl Into<String>) -> Self {
        self.subtitle = Some(subtitle.into());
        self
    }

    /// Adds a party.
    #[must_use]
    pub fn party(mut self, party: Party) -> Self {
        self.parties.push(party);
        self
    }

    /// Adds a header field.
    #[must_use]
    pub fn field(mut self, label: impl Into<String>, value: impl Into<String>) -> Self {
        self.fields.push(Field::new(label, value));
        self
    }

    /// Adds a section.
    #[must_use]
    pub fn section(mut self, section: Section) -> Self {
        self.sections.push(section);
        self
    }

    /// Adds a note.
    #[must_use]
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// Sets the page footer line.
    #[must_use]
    pub fn footer(mut self, footer: impl Into<String>) -> Self {
        self.footer = Some(footer.into());
        self
    }
}

/// Formats an amount for a table cell: thousands separated by commas, at least two decimal
/// places, never rounded (an amount with more places keeps them): `1234.5` → `1,234.50`.
/// The currency is the column's business ("金额（元）"), not the cell's.
pub fn format_amount(amount: Decimal) -> String {
    let mut amount = amount;
    if amount.scale() < 2 {
        amount.rescale(2);
    }
    let text = amount.abs().to_string();
    let (int, frac) = text.split_once('.').unwrap_or((text.as_str(), ""));
    let mut grouped = String::with_capacity(text.len() + text.len() / 3 + 1);
    if amount.is_sign_negative() && !amount.is_zero() {
        grouped.push('-');
    }
    for (i, digit) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    if !frac.is_empty() {
        grouped.push('.');
        grouped.push_str(frac);
    }
    grouped
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap_or_default()
    }

    #[test]
    fn amounts_are_grouped_and_never_rounded() {
        assert_eq!(format_amount(d("0")), "0.00");
        assert_eq!(format_amount(d("1234.5")), "1,234.50");
        assert_eq!(format_amount(d("-1234567.891")), "-1,234,567.891");
        assert_eq!(format_amount(d("999")), "999.00");
        assert_eq!(format_amount(d("100000")), "100,000.00");
        assert_eq!(format_amount(d("-0.00")), "0.00");
    }

    #[test]
    fn rows_must_match_the_columns() {
        let mut t = Table::new(vec![Column::text("a"), Column::money("b")]).unwrap_or_else(|e| {
            panic!("{e}");
        });
        assert!(t.push_row(["x", "1.00"]).is_ok());
        assert!(matches!(
            t.push_row(["x"]),
            Err(DocumentError::RowShape {
                row: 2,
                cells: 1,
                columns: 2
            })
        ));
        assert!(matches!(
            t.set_totals(["", "", ""]),
            Err(DocumentError::RowShape { .. })
        ));
        assert!(matches!(Table::new(vec![]), Err(DocumentError::NoColumns)));
    }
}
