//! The one error type of the crate.

use std::path::PathBuf;

/// What can go wrong building or rendering a document.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// The font file could not be read.
    #[error(
        "cannot read font file {path}: {source}; install a CJK font (Debian/Ubuntu: \
         `apt-get install fonts-wqy-microhei`, see deploy/local/install-deps.sh) or point \
         DOCUMENT_FONT_FILE at a TrueType/OpenType font (.ttf, .otf, .ttc)"
    )]
    FontFile {
        /// The path that was tried.
        path: PathBuf,
        /// Why reading it failed.
        #[source]
        source: std::io::Error,
    },
    /// The file was read but is not a usable TrueType/OpenType font (or has no such face).
    #[error(
        "{path} (face {index}) is not a usable TrueType/OpenType font; use a .ttf, .otf or \
         .ttc file such as /usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
    )]
    FontParse {
        /// The path, or `<memory>` for a font given as bytes.
        path: PathBuf,
        /// The face index within a collection (0 for a single font).
        index: u32,
    },
    /// The font has no glyphs for Chinese text.
    #[error(
        "{path} has no Chinese glyphs (no glyph for '中'); notices need a CJK font such as \
         fonts-wqy-microhei or fonts-noto-cjk"
    )]
    NotCjk {
        /// The font's path.
        path: PathBuf,
    },
    /// No CJK font was found where Debian puts them, and DOCUMENT_FONT_FILE is not set.
    #[error(
        "no CJK font found (DOCUMENT_FONT_FILE is not set; looked in {}); install one: \
         `apt-get install fonts-wqy-microhei` (deploy/local/install-deps.sh does)",
        .searched.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    NoCjkFont {
        /// The places looked at.
        searched: Vec<PathBuf>,
    },
    /// A table was given no columns.
    #[error("a table needs at least one column")]
    NoColumns,
    /// A row (or, with `row` 0, the totals row) does not have one cell per column.
    #[error(
        "table row {row} has {cells} cells but the table has {columns} columns (row 0 = totals)"
    )]
    RowShape {
        /// 1-based row number; 0 for the totals row.
        row: usize,
        /// The cells given.
        cells: usize,
        /// The table's columns.
        columns: usize,
    },
    /// The PDF writer refused the document (e.g. the font could not be embedded).
    #[error("writing the PDF failed: {0}")]
    Pdf(String),
}
