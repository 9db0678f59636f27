//! The CJK font a PDF is set in: loaded once (from a file, or bytes), shared by every render.
//!
//! The font is embedded in each PDF as a subset of the glyphs that document uses, so the file
//! can be read, printed and archived anywhere without the font installed.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use skrifa::instance::{LocationRef, Size};
use skrifa::metrics::GlyphMetrics;
use skrifa::string::StringId;
use skrifa::{FontRef, MetadataProvider};

use crate::error::DocumentError;

/// The environment variable services read for the font file (see [`Font::from_env_or_system`]).
pub const FONT_ENV: &str = "DOCUMENT_FONT_FILE";

/// Where Debian and Ubuntu packages install CJK fonts, most compact first.
/// `fonts-wqy-microhei` (1.6 MB download, one 5 MB collection file) is what
/// `deploy/local/install-deps.sh` installs.
pub const CJK_FONT_CANDIDATES: &[&str] = &[
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
];

/// A TrueType/OpenType font with Chinese glyphs, one face of a file (a `.ttc` collection holds
/// several).
///
/// Cheap to clone (the bytes are shared); load it once per process.
#[derive(Clone)]
pub struct Font {
    data: Arc<Vec<u8>>,
    index: u32,
    path: PathBuf,
    pdf: krilla::text::Font,
}

impl std::fmt::Debug for Font {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Font")
            .field("path", &self.path)
            .field("index", &self.index)
            .field("bytes", &self.data.len())
            .finish()
    }
}

impl Font {
    /// Loads a font file. For a collection (`.ttc`) the Simplified Chinese face is taken when
    /// the collection names one (Noto CJK's "… SC"), otherwise the first face.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, DocumentError> {
        let path = path.as_ref();
        let data = read(path)?;
        let index = preferred_face(&data);
        Self::build(data, index, path.to_path_buf())
    }

    /// Loads face `index` of a font file (0 for a single font).
    pub fn from_file_face(path: impl AsRef<Path>, index: u32) -> Result<Self, DocumentError> {
        let path = path.as_ref();
        let data = read(path)?;
        Self::build(data, index, path.to_path_buf())
    }

    /// A font from bytes already in memory (face `index`; 0 for a single font).
    pub fn from_bytes(data: Vec<u8>, index: u32) -> Result<Self, DocumentError> {
        Self::build(data, index, PathBuf::from("<memory>"))
    }

    /// The font services use: the file named by `DOCUMENT_FONT_FILE` if that is set (an error
    /// if it cannot be loaded; no silent fallback), otherwise [`Font::find_system_cjk`].
    pub fn from_env_or_system() -> Result<Self, DocumentError> {
        match std::env::var_os(FONT_ENV) {
            Some(path) if !path.is_empty() => Self::from_file(PathBuf::from(path)),
            _ => Self::find_system_cjk(),
        }
    }

    /// The first of [`CJK_FONT_CANDIDATES`] that exists and loads.
    pub fn find_system_cjk() -> Result<Self, DocumentError> {
        Self::find_in(CJK_FONT_CANDIDATES.iter().map(PathBuf::from))
    }

    /// The first of `candidates` that exists and loads as a CJK font.
    pub fn find_in(candidates: impl IntoIterator<Item = PathBuf>) -> Result<Self, DocumentError> {
        let mut searched = Vec::new();
        for path in candidates {
            if path.is_file()
                && let Ok(font) = Self::from_file(&path)
            {
                return Ok(font);
            }
            searched.push(path);
        }
        Err(DocumentError::NoCjkFont { searched })
    }

    /// The file the font came from (`<memory>` for [`Font::from_bytes`]).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The face index within the file.
    pub fn face_index(&self) -> u32 {
        self.index
    }

    fn build(data: Vec<u8>, index: u32, path: PathBuf) -> Result<Self, DocumentError> {
        let data = Arc::new(data);
        let parse_error = || DocumentError::FontParse {
            path: path.clone(),
            index,
        };
        let face = FontRef::from_index(data.as_slice(), index).map_err(|_| parse_error())?;
        if face.charmap().map('中').is_none() {
            return Err(DocumentError::NotCjk { path });
        }
        let pdf = krilla::text::Font::new(krilla::Data::from(Arc::clone(&data)), index)
            .ok_or_else(parse_error)?;
        Ok(Self {
            data,
            index,
            path,
            pdf,
        })
    }

    pub(crate) fn pdf_font(&self) -> krilla::text::Font {
        self.pdf.clone()
    }

    /// Glyph lookup and advances for laying text out; `None` if the face no longer parses
    /// (it did when the font was built, so in practice never).
    pub(crate) fn metrics(&self) -> Option<Metrics<'_>> {
        let face = FontRef::from_index(self.data.as_slice(), self.index).ok()?;
        let upem = self.pdf.units_per_em();
        Some(Metrics {
            charmap: face.charmap(),
            glyphs: face.glyph_metrics(Size::unscaled(), LocationRef::default()),
            upem: if upem > 0.0 { upem } else { 1000.0 },
        })
    }
}

/// Glyph ids and advance widths of one font face.
pub(crate) struct Metrics<'a> {
    charmap: skrifa::charmap::Charmap<'a>,
    glyphs: GlyphMetrics<'a>,
    upem: f32,
}

impl Metrics<'_> {
    /// The glyph for `c` (0, `.notdef`, when the font has none) and its advance in ems.
    pub(crate) fn glyph(&self, c: char) -> (u32, f32) {
        let id = self.charmap.map(c).unwrap_or_default();
        let advance = self.glyphs.advance_width(id).unwrap_or(0.0) / self.upem;
        let advance = if advance.is_finite() && advance >= 0.0 {
            advance
        } else {
            0.0
        };
        (id.to_u32(), advance)
    }

    /// The width of `text` at `size` points.
    pub(crate) fn width(&self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.glyph(c).1).sum::<f32>() * size
    }
}

fn read(path: &Path) -> Result<Vec<u8>, DocumentError> {
    std::fs::read(path).map_err(|source| DocumentError::FontFile {
        path: path.to_path_buf(),
        source,
    })
}

/// For a collection, the face whose family name marks it Simplified Chinese, else 0.
fn preferred_face(data: &[u8]) -> u32 {
    let Ok(skrifa::raw::FileRef::Collection(collection)) = skrifa::raw::FileRef::new(data) else {
        return 0;
    };
    (0..collection.len())
        .find(|&i| {
            collection.get(i).is_ok_and(|face| {
                face.localized_strings(StringId::FAMILY_NAME).any(|name| {
                    let name = name.to_string();
                    name.ends_with(" SC") || name.contains(" SC ")
                })
            })
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_names_the_path_and_what_to_install() {
        let err = Font::from_file("/nonexistent/dir/font.ttc").err();
        let msg = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("/nonexistent/dir/font.ttc"), "{msg}");
        assert!(msg.contains("fonts-wqy-microhei"), "{msg}");
        assert!(msg.contains(FONT_ENV), "{msg}");
    }

    #[test]
    fn garbage_is_not_a_font() {
        assert!(matches!(
            Font::from_bytes(b"not a font at all".to_vec(), 0),
            Err(DocumentError::FontParse { index: 0, .. })
        ));
    }

    #[test]
    fn nothing_found_lists_where_it_looked() {
        let err = Font::find_in([PathBuf::from("/nope/a.ttf"), PathBuf::from("/nope/b.ttc")]).err();
        let msg = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("/nope/a.ttf, /nope/b.ttc"), "{msg}");
    }
}
