use documents::{Column, Document, Lang, Section, Table, to_html};

use crate::helpers::{date, notice};

#[test]
fn content_is_escaped() {
    let mut table = Table::new(vec![Column::text("<th>"), Column::money("A & B")])
        .unwrap_or_else(|e| panic!("{e}"));
    table
        .push_row(["<script>alert(1)</script>", "1 & 2"])
        .unwrap_or_else(|e| panic!("{e}"));
    let doc = Document::new(
        Lang::En,
        "\"><img src=x onerror=alert(1)>",
        date(),
        "<script>x</script>",
    )
    .section(
        Section::new("R&D")
            .paragraph("Tom & Jerry <b>bold</b>\nnext line")
            .table(table),
    )
    .footer("</body>");
    let html = to_html(&doc);
    assert!(!html.contains("<script>"), "{html}");
    assert!(!html.contains("<img"), "{html}");
    assert!(!html.contains("<b>"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("Tom &amp; Jerry &lt;b&gt;bold&lt;/b&gt;<br>next line"));
    assert!(html.contains("1 &amp; 2"));
    assert_eq!(html.matches("</body>").count(), 1);
}

#[test]
fn a_page_is_self_contained_printable_and_tagged_with_its_language() {
    let html = to_html(&notice());
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<html lang=\"zh-CN\">"));
    assert!(html.contains("<meta charset=\"utf-8\">"));
    assert!(html.contains("@page { size: A4"));
    assert!(html.contains("WenQuanYi Micro Hei"));
    assert!(
        html.contains("<th class=\"r\">欠费金额（元）</th>"),
        "money right-aligned"
    );
    assert!(html.contains("<tfoot>"));
    assert!(html.contains("第二次通知") && html.contains("2026年5月12日"));
    for external in ["<script", "<link", "src=", "http://", "https://"] {
        assert!(
            !html.contains(external),
            "{external} in a self-contained page"
        );
    }
    assert!(to_html(&Document::new(Lang::En, "x", date(), "t")).contains("<html lang=\"en\">"));
}
