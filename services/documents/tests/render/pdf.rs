use documents::{DocumentError, Font, Lang, to_pdf};

use crate::helpers::{font, long_table, notice, pages_text, poppler};

#[test]
fn a_notice_reads_back_with_its_title_amounts_and_page_footer() {
    let pdf = to_pdf(&notice(), font()).unwrap_or_else(|e| panic!("{e}"));
    let pages = pages_text(&pdf);
    assert_eq!(pages.len(), 1);
    let text = &pages[0];
    for expected in [
        "物业费催缴通知书",
        "1,280.00",
        "1,366.50",
        "第 1 / 1 页",
        "DN-2026-000123",
        "2026年5月12日",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
    assert!(
        pdf.len() < 200 * 1024,
        "a one-page notice is {} bytes",
        pdf.len()
    );
}

#[test]
fn the_font_is_embedded_as_a_subset() {
    let pdf = to_pdf(&notice(), font()).unwrap_or_else(|e| panic!("{e}"));
    let fonts = poppler("pdffonts", &[], &pdf);
    let rows: Vec<&str> = fonts.lines().skip(2).collect();
    assert_eq!(rows.len(), 1, "{fonts}");
    let cols: Vec<&str> = rows[0].split_whitespace().collect();
    // name type... encoding emb sub uni object ID: emb, sub, uni are the 6th to 4th from the end.
    let n = cols.len();
    assert!(n >= 7, "{fonts}");
    assert_eq!(
        &cols[n - 5..n - 2],
        ["yes", "yes", "yes"],
        "emb sub uni:\n{fonts}"
    );
    // A subset's name carries a six-letter tag: ABCDEF+Name.
    assert!(
        cols[0].len() > 7 && cols[0].as_bytes()[6] == b'+',
        "{fonts}"
    );
}

#[test]
fn a_300_row_table_runs_over_several_pages_each_with_the_header_row() {
    let pdf = to_pdf(&long_table(Lang::ZhCn, 300), font()).unwrap_or_else(|e| panic!("{e}"));
    let pages = pages_text(&pdf);
    assert!(pages.len() >= 5, "{} pages", pages.len());
    let total = pages.len();
    for (i, page) in pages.iter().enumerate() {
        assert!(
            page.contains("项目 Item") && page.contains("金额 Amount"),
            "page {}: no header",
            i + 1
        );
        let footer = format!("第 {} / {total} 页", i + 1);
        assert!(page.contains(&footer), "page {}: no {footer:?}", i + 1);
    }
    // Every row once, in order.
    let all = pages.concat();
    let mut at = 0;
    for i in 0..300 {
        let row = format!("第 {i} 行 row {i}");
        let found = all[at..]
            .find(&row)
            .unwrap_or_else(|| panic!("{row:?} missing or out of order"));
        at += found + row.len();
    }
}

#[test]
fn english_documents_number_pages_in_english() {
    let pdf = to_pdf(&long_table(Lang::En, 120), font()).unwrap_or_else(|e| panic!("{e}"));
    let pages = pages_text(&pdf);
    assert!(pages.len() >= 2);
    assert!(
        pages[0].contains(&format!("Page 1 of {}", pages.len())),
        "{}",
        pages[0]
    );
    assert!(
        pages[0].contains("Issue date") && pages[0].contains("12 May 2026"),
        "{}",
        pages[0]
    );
}

#[test]
fn long_paragraphs_and_cells_wrap_inside_the_page() {
    let long = "逾期未缴的物业管理费将按日计收滞纳金，".repeat(40);
    let doc = notice().section(documents::Section::new("长段落").paragraph(long.clone()));
    let pdf = to_pdf(&doc, font()).unwrap_or_else(|e| panic!("{e}"));
    let bbox = poppler("pdftotext", &["-bbox"], &pdf);
    // Every word box lies within the A4 page width with the margins.
    for line in bbox.lines().filter(|l| l.contains("<word ")) {
        let x_max: f32 = attr(line, "xMax");
        assert!(x_max <= 595.28 - 50.0, "text runs into the margin: {line}");
    }
    let text = pages_text(&pdf).concat().replace(['\n', ' '], "");
    assert!(
        text.contains(&long.replace(' ', "")),
        "wrapped text lost characters"
    );
}

fn attr(line: &str, name: &str) -> f32 {
    let key = format!("{name}=\"");
    line.split(&key)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(f32::MAX)
}

#[test]
fn the_same_document_renders_to_the_same_bytes() {
    let a = to_pdf(&long_table(Lang::ZhCn, 100), font()).unwrap_or_else(|e| panic!("{e}"));
    let b = to_pdf(&long_table(Lang::ZhCn, 100), font()).unwrap_or_else(|e| panic!("{e}"));
    assert!(a == b, "two renders differ");
    let c = to_pdf(&notice(), font()).unwrap_or_else(|e| panic!("{e}"));
    let d = to_pdf(&notice(), font()).unwrap_or_else(|e| panic!("{e}"));
    assert!(c == d, "two renders differ");
    let other = to_pdf(&notice().note("另一条备注"), font()).unwrap_or_else(|e| panic!("{e}"));
    assert!(other != c);
}

#[test]
fn a_missing_font_file_says_which_path_and_what_to_install() {
    let err = Font::from_file("/no/such/dir/NotoSansCJK.ttc").err();
    assert!(
        matches!(err, Some(DocumentError::FontFile { .. })),
        "{err:?}"
    );
    let msg = err.map(|e| e.to_string()).unwrap_or_default();
    assert!(msg.contains("/no/such/dir/NotoSansCJK.ttc"), "{msg}");
    assert!(msg.contains("apt-get install fonts-wqy-microhei"), "{msg}");
    assert!(msg.contains("DOCUMENT_FONT_FILE"), "{msg}");
}

#[test]
fn a_font_without_chinese_glyphs_is_refused() {
    let latin = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
    if std::path::Path::new(latin).exists() {
        assert!(matches!(
            Font::from_file(latin),
            Err(DocumentError::NotCjk { .. })
        ));
    }
}

#[test]
fn a_collection_face_can_be_chosen_and_the_font_shared_across_threads() {
    fn shareable<T: Send + Sync + Clone>() {}
    shareable::<Font>();
    let path = font().path().to_path_buf();
    if path.extension().is_some_and(|e| e == "ttc") {
        let face1 = Font::from_file_face(&path, 1).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(face1.face_index(), 1);
        let pdf = to_pdf(&notice(), &face1).unwrap_or_else(|e| panic!("{e}"));
        assert!(pages_text(&pdf)[0].contains("物业费催缴通知书"));
        assert!(matches!(
            Font::from_file_face(&path, 99),
            Err(DocumentError::FontParse { index: 99, .. })
        ));
    }
}
