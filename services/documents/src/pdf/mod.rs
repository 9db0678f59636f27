//! PDF output: the laid-out pages drawn with krilla, the font embedded as a subset.

mod build;
mod flow;

use chrono::Datelike;
use krilla::Document as PdfDocument;
use krilla::color::luma;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::{DateTime, Metadata};
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{GlyphId, KrillaGlyph};

use crate::error::DocumentError;
use crate::font::{Font, Metrics};
use crate::model::Document;

use flow::Op;

/// Renders the document as an A4 PDF set in `font`, which is embedded as a subset of the glyphs
/// used. The same document and font give the same bytes (no clock, no random ids): the
/// creation date is the issue date and the file id a hash of the document id.
pub fn to_pdf(doc: &Document, font: &Font) -> Result<Vec<u8>, DocumentError> {
    let metrics = font.metrics().ok_or_else(|| DocumentError::FontParse {
        path: font.path().to_path_buf(),
        index: font.face_index(),
    })?;
    let pages = build::layout(doc, &metrics);

    let mut pdf = PdfDocument::new();
    let mut meta = Metadata::new()
        .title(crate::layout::clean(&doc.title))
        .language(doc.lang.tag().to_string())
        .creator("collections documents".to_string())
        .document_id(doc.id.clone());
    let date = doc.issue_date;
    if let (Ok(year), Ok(month), Ok(day)) = (
        u16::try_from(date.year()),
        u8::try_from(date.month()),
        u8::try_from(date.day()),
    ) && year <= 9999
    {
        meta = meta.creation_date(DateTime::new(year).month(month).day(day));
    }
    pdf.set_metadata(meta);

    let Some(settings) = PageSettings::from_wh(flow::PAGE_W, flow::PAGE_H) else {
        return Err(DocumentError::Pdf("invalid page size".into()));
    };
    for ops in &pages {
        let mut page = pdf.start_page_with(settings.clone());
        let mut surface = page.surface();
        for op in ops {
            draw(&mut surface, op, font, &metrics);
        }
        surface.finish();
        page.finish();
    }
    pdf.finish()
        .map_err(|e| DocumentError::Pdf(format!("{e:?}")))
}

fn fill(gray: u8) -> Fill {
    Fill {
        paint: luma::Color::new(gray).into(),
        ..Fill::default()
    }
}

fn draw(surface: &mut Surface<'_>, op: &Op, font: &Font, m: &Metrics<'_>) {
    match op {
        Op::Text {
            x,
            baseline,
            size,
            text,
            bold,
            gray,
        } => {
            let glyphs: Vec<KrillaGlyph> = text
                .char_indices()
                .map(|(i, c)| {
                    let (id, advance) = m.glyph(c);
                    KrillaGlyph::new(
                        GlyphId::new(id),
                        advance,
                        0.0,
                        0.0,
                        0.0,
                        i..i + c.len_utf8(),
                        None,
                    )
                })
                .collect();
            if glyphs.is_empty() {
                return;
            }
            surface.set_fill(Some(fill(*gray)));
            // No bold face in the font: a thin outline on top of the fill thickens the strokes.
            surface.set_stroke(bold.then(|| Stroke {
                paint: luma::Color::new(*gray).into(),
                width: size * 0.035,
                ..Stroke::default()
            }));
            surface.draw_glyphs(
                Point::from_xy(*x, *baseline),
                &glyphs,
                font.pdf_font(),
                text,
                *size,
                false,
            );
            surface.set_stroke(None);
        }
        Op::Rule {
            x1,
            x2,
            y,
            width,
            gray,
        } => {
            let mut path = PathBuilder::new();
            path.move_to(*x1, *y);
            path.line_to(*x2, *y);
            if let Some(path) = path.finish() {
                surface.set_fill(None);
                surface.set_stroke(Some(Stroke {
                    paint: luma::Color::new(*gray).into(),
                    width: *width,
                    ..Stroke::default()
                }));
                surface.draw_path(&path);
                surface.set_stroke(None);
            }
        }
        Op::Fill { x, y, w, h, gray } => {
            let mut path = PathBuilder::new();
            if let Some(rect) = Rect::from_xywh(*x, *y, *w, *h) {
                path.push_rect(rect);
            }
            if let Some(path) = path.finish() {
                surface.set_stroke(None);
                surface.set_fill(Some(fill(*gray)));
                surface.draw_path(&path);
            }
        }
    }
}
