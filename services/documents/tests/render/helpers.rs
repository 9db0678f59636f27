use std::io::Write as _;
use std::process::Command;
use std::sync::OnceLock;

use chrono::NaiveDate;
use documents::{Column, Document, Font, Lang, Party, Section, Table};

/// The CJK font, loaded once for all tests (from DOCUMENT_FONT_FILE or Debian's locations).
pub(crate) fn font() -> &'static Font {
    static FONT: OnceLock<Font> = OnceLock::new();
    FONT.get_or_init(|| {
        Font::from_env_or_system()
            .unwrap_or_else(|e| panic!("{e} (run deploy/local/install-deps.sh)"))
    })
}

pub(crate) fn date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 5, 12).unwrap_or_default()
}

/// A one-page Chinese notice.
pub(crate) fn notice() -> Document {
    let mut table = Table::new(vec![
        Column::text("费用类型"),
        Column::center("月份"),
        Column::money("欠费金额（元）"),
        Column::money("滞纳金（元）"),
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    table
        .push_row(["物业管理费", "2026-01", "1,280.00", "19.20"])
        .unwrap_or_else(|e| panic!("{e}"));
    table
        .push_row(["水费", "2026-02", "86.50", "0.95"])
        .unwrap_or_else(|e| panic!("{e}"));
    table
        .set_totals(["合计", "", "1,366.50", "20.15"])
        .unwrap_or_else(|e| panic!("{e}"));
    Document::new(Lang::ZhCn, "DN-2026-000123", date(), "物业费催缴通知书")
        .subtitle("第二次通知")
        .party(Party::new("致", "张伟 先生").line("锦绣华庭 8 号楼 1202 室"))
        .field("最迟缴费日期", "2026年5月31日")
        .section(
            Section::new("欠费明细")
                .paragraph("截至出具日期，下列费用逾期未缴：")
                .table(table),
        )
        .note("如已缴纳，请忽略本通知。")
        .footer("上海锦绣物业管理有限公司")
}

/// A document whose table has `rows` rows.
pub(crate) fn long_table(lang: Lang, rows: usize) -> Document {
    let mut table = Table::new(vec![
        Column::text("项目 Item"),
        Column::money("金额 Amount"),
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    for i in 0..rows {
        table
            .push_row([format!("第 {i} 行 row {i}"), format!("{i}.00")])
            .unwrap_or_else(|e| panic!("{e}"));
    }
    Document::new(lang, "ST-1", date(), "对账单 Statement")
        .section(Section::new("明细").table(table))
}

/// Runs a poppler tool on the PDF and returns its standard output.
pub(crate) fn poppler(tool: &str, args: &[&str], pdf: &[u8]) -> String {
    let mut file = tempfile::NamedTempFile::new().unwrap_or_else(|e| panic!("temp file: {e}"));
    file.write_all(pdf)
        .unwrap_or_else(|e| panic!("temp file: {e}"));
    let path = file.path().to_string_lossy().into_owned();
    let mut argv: Vec<&str> = args.to_vec();
    argv.push(&path);
    if tool == "pdftotext" {
        argv.push("-");
    }
    let out = Command::new(tool).args(&argv).output().unwrap_or_else(|e| {
        panic!("cannot run {tool}: {e}; install poppler-utils (deploy/local/install-deps.sh)")
    });
    assert!(
        out.status.success(),
        "{tool} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The text of each page (pdftotext separates pages with a form feed).
pub(crate) fn pages_text(pdf: &[u8]) -> Vec<String> {
    let text = poppler("pdftotext", &["-layout"], pdf);
    let mut pages: Vec<String> = text.split('\u{c}').map(str::to_string).collect();
    if pages.last().is_some_and(|p| p.trim().is_empty()) {
        pages.pop();
    }
    pages
}
