//! A self-contained, printable HTML page: inline CSS (A4 print styles), no scripts, no external
//! resources, every piece of content escaped.

use std::fmt::Write as _;

use crate::labels;
use crate::layout::clean;
use crate::model::{Align, Block, Document, Field, Table};

const CSS: &str = r#"
@page { size: A4; margin: 20mm 18mm 22mm 18mm; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0 auto; max-width: 174mm; padding: 12mm 0; color: #111; font-size: 10.5pt;
  line-height: 1.55;
  font-family: "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "PingFang SC",
    "Microsoft YaHei", "Hiragino Sans GB", "Heiti SC", sans-serif; }
header.doc { border-bottom: 1.5pt solid #111; margin-bottom: 6mm; padding-bottom: 3mm; }
h1 { font-size: 18pt; margin: 0; letter-spacing: 0.05em; }
p.subtitle { font-size: 11.5pt; margin: 1mm 0 0; color: #333; }
.meta { display: flex; justify-content: space-between; font-size: 9pt; color: #444; margin-top: 2mm; }
.parties { display: grid; grid-template-columns: repeat(auto-fit, minmax(60mm, 1fr)); gap: 4mm; margin-bottom: 5mm; }
.party .role { font-size: 9pt; color: #555; }
.party .name { font-weight: bold; }
dl.fields { display: grid; grid-template-columns: max-content 1fr; gap: 1mm 5mm; margin: 0 0 5mm; }
dl.fields dt { color: #444; }
dl.fields dd { margin: 0; }
h2 { font-size: 12.5pt; margin: 6mm 0 2mm; }
p { margin: 0 0 2.5mm; }
table { width: 100%; border-collapse: collapse; font-size: 9.5pt; margin: 2mm 0 4mm; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
th { background: #eee; font-weight: bold; border-bottom: 1pt solid #555; }
th, td { padding: 1.2mm 2mm; vertical-align: top; }
tbody td { border-bottom: 0.5pt solid #ccc; }
tfoot td { font-weight: bold; border-top: 1.2pt solid #111; }
.r { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.c { text-align: center; }
ol.notes { font-size: 9.5pt; padding-left: 6mm; }
footer.doc { margin-top: 8mm; border-top: 0.5pt solid #999; padding-top: 2mm; font-size: 8.5pt; color: #555; }
@media print { body { padding: 0; max-width: none; } }
"#;

/// Renders the document as one HTML page (UTF-8, `lang` set, styles inline) for a browser or
/// an e-mail body; prints on A4.
pub fn to_html(doc: &Document) -> String {
    let lang = doc.lang;
    let mut out = String::with_capacity(8 * 1024);
    out.push_str("<!DOCTYPE html>\n");
    let _ = write!(
        out,
        "<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n",
        lang.tag()
    );
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(out, "<title>{}</title>", esc(&doc.title));
    let _ = writeln!(out, "<style>{CSS}</style>\n</head>\n<body>");

    out.push_str("<header class=\"doc\">\n");
    let _ = writeln!(out, "<h1>{}</h1>", esc(&doc.title));
    if let Some(subtitle) = &doc.subtitle {
        let _ = writeln!(out, "<p class=\"subtitle\">{}</p>", esc_lines(subtitle));
    }
    let _ = writeln!(
        out,
        "<div class=\"meta\"><span>{}：{}</span><span>{}：<time datetime=\"{}\">{}</time></span></div>",
        labels::document_no(lang),
        esc(&doc.id),
        labels::issue_date(lang),
        doc.issue_date.format("%Y-%m-%d"),
        esc(&labels::date(lang, doc.issue_date)),
    );
    out.push_str("</header>\n<main>\n");

    if !doc.parties.is_empty() {
        out.push_str("<section class=\"parties\">\n");
        for party in &doc.parties {
            let _ = write!(
                out,
                "<div class=\"party\"><div class=\"role\">{}</div><div class=\"name\">{}</div>",
                esc(&party.role),
                esc(&party.name)
            );
            for line in &party.lines {
                let _ = write!(out, "<div>{}</div>", esc(line));
            }
            out.push_str("</div>\n");
        }
        out.push_str("</section>\n");
    }
    fields(&mut out, &doc.fields);

    for section in &doc.sections {
        out.push_str("<section>\n");
        if let Some(heading) = &section.heading {
            let _ = writeln!(out, "<h2>{}</h2>", esc(heading));
        }
        for block in &section.blocks {
            match block {
                Block::Paragraph(text) => {
                    let _ = writeln!(out, "<p>{}</p>", esc_lines(text));
                }
                Block::Fields(list) => fields(&mut out, list),
                Block::Table(table) => self::table(&mut out, table),
            }
        }
        out.push_str("</section>\n");
    }

    if !doc.notes.is_empty() {
        let _ = writeln!(
            out,
            "<h2>{}</h2>\n<ol class=\"notes\">",
            labels::notes(lang)
        );
        for note in &doc.notes {
            let _ = writeln!(out, "<li>{}</li>", esc_lines(note));
        }
        out.push_str("</ol>\n");
    }
    out.push_str("</main>\n");
    if let Some(footer) = &doc.footer {
        let _ = writeln!(out, "<footer class=\"doc\">{}</footer>", esc_lines(footer));
    }
    out.push_str("</body>\n</html>\n");
    out
}

fn fields(out: &mut String, list: &[Field]) {
    if list.is_empty() {
        return;
    }
    out.push_str("<dl class=\"fields\">\n");
    for field in list {
        let _ = writeln!(
            out,
            "<dt>{}</dt><dd>{}</dd>",
            esc(&field.label),
            esc_lines(&field.value)
        );
    }
    out.push_str("</dl>\n");
}

fn table(out: &mut String, table: &Table) {
    let class = |align: Align| match align {
        Align::Left => "",
        Align::Center => " class=\"c\"",
        Align::Right => " class=\"r\"",
    };
    out.push_str("<table>\n<thead><tr>");
    for column in table.columns() {
        let _ = write!(
            out,
            "<th{}>{}</th>",
            class(column.align),
            esc(&column.header)
        );
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    let row = |out: &mut String, cells: &[String]| {
        out.push_str("<tr>");
        for (cell, column) in cells.iter().zip(table.columns()) {
            let _ = write!(out, "<td{}>{}</td>", class(column.align), esc_lines(cell));
        }
        out.push_str("</tr>\n");
    };
    for cells in table.rows() {
        row(out, cells);
    }
    out.push_str("</tbody>\n");
    if let Some(totals) = table.totals() {
        out.push_str("<tfoot>");
        row(out, totals);
        out.push_str("</tfoot>\n");
    }
    out.push_str("</table>\n");
}

/// Escapes text for element content and attribute values; drops control characters.
fn esc(text: &str) -> String {
    let text = clean(text).replace('\n', " ");
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Like [`esc`], keeping line breaks as `<br>`.
fn esc_lines(text: &str) -> String {
    clean(text)
        .split('\n')
        .map(esc)
        .collect::<Vec<_>>()
        .join("<br>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_keeps_line_breaks() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"y\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;"
        );
        assert_eq!(esc_lines("a<b\nc&d"), "a&lt;b<br>c&amp;d");
    }
}
