//! Documents people look at rather than read: dunning notices (R-D3), statements of account and
//! legal evidence cover sheets (R-L8), rendered from one typed model as printable HTML and as
//! A4 PDF with an embedded, subset CJK font. Chinese first, English second.
//!
//! A pure library: the services build a [`Document`], load a [`Font`] once at start-up
//! ([`Font::from_env_or_system`], `DOCUMENT_FONT_FILE`), and call [`to_html`] / [`to_pdf`].
//! Rendering reads no clock and draws no random numbers, so the same document gives the same
//! bytes, and a hash stored with a notice can be recomputed.
//!
//! ```no_run
//! use chrono::NaiveDate;
//! use documents::{Column, Document, Font, Lang, Section, Table, to_html, to_pdf};
//!
//! let font = Font::from_env_or_system()?;
//! let mut table = Table::new(vec![Column::text("费用"), Column::money("金额（元）")])?;
//! table.push_row(["物业管理费 2026年3月", "1,280.00"])?;
//! table.set_totals(["合计", "1,280.00"])?;
//! let date = NaiveDate::from_ymd_opt(2026, 5, 12).unwrap_or_default();
//! let doc = Document::new(Lang::ZhCn, "DN-2026-000123", date, "催缴通知书")
//!     .section(Section::new("欠费明细").table(table));
//! let html: String = to_html(&doc);
//! let pdf: Vec<u8> = to_pdf(&doc, &font)?;
//! # Ok::<(), documents::DocumentError>(())
//! ```

mod error;
pub mod evidence;
mod font;
mod html;
mod labels;
mod layout;
mod model;
mod pdf;
pub mod timestamp;
mod words;

pub use error::DocumentError;
pub use font::{CJK_FONT_CANDIDATES, FONT_ENV, Font};
pub use html::to_html;
pub use model::{
    Align, Block, Column, Document, Field, Lang, Party, Section, Table, format_amount,
};
pub use pdf::to_pdf;
pub use words::rmb_in_words;
