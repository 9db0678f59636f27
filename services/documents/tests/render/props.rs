//! Whatever the text, rendering neither panics nor produces a broken file.

use documents::{Column, Document, Lang, Party, Section, Table, to_html, to_pdf};
use proptest::prelude::*;

use crate::helpers::{date, font};

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-zA-Z0-9 ,.&<>\"'\\n\\t-]{0,80}",
        "[\\p{Han}，。（）、 \\n]{0,120}",
        Just(String::new()),
        Just("x".repeat(3000)),
    ]
}

fn document() -> impl Strategy<Value = Document> {
    (
        prop::collection::vec(text(), 8),
        prop::collection::vec(prop::collection::vec(text(), 3), 0..25),
        any::<bool>(),
    )
        .prop_map(|(t, rows, en)| {
            let lang = if en { Lang::En } else { Lang::ZhCn };
            let mut table = Table::new(vec![
                Column::text(t[0].clone()),
                Column::money(t[1].clone()),
                Column::center(t[2].clone()),
            ])
            .unwrap_or_else(|e| panic!("{e}"));
            for row in rows {
                table.push_row(row).unwrap_or_else(|e| panic!("{e}"));
            }
            table
                .set_totals([t[3].clone(), t[4].clone(), String::new()])
                .unwrap_or_else(|e| panic!("{e}"));
            Document::new(lang, t[5].clone(), date(), t[6].clone())
                .subtitle(t[7].clone())
                .party(Party::new(t[0].clone(), t[1].clone()).line(t[2].clone()))
                .field(t[3].clone(), t[4].clone())
                .section(
                    Section::new(t[5].clone())
                        .paragraph(t[6].clone())
                        .table(table),
                )
                .note(t[7].clone())
                .footer(t[0].clone())
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn any_text_renders_to_a_well_formed_pdf_and_html(doc in document()) {
        let pdf = to_pdf(&doc, font());
        prop_assert!(pdf.is_ok(), "{:?}", pdf.err());
        let pdf = pdf.unwrap_or_default();
        prop_assert!(pdf.starts_with(b"%PDF-"));
        let end = String::from_utf8_lossy(&pdf[pdf.len().saturating_sub(8)..]).into_owned();
        prop_assert!(end.trim_end().ends_with("%%EOF"), "ends with {end:?}");
        let html = to_html(&doc);
        prop_assert!(html.ends_with("</html>\n"));
    }
}
