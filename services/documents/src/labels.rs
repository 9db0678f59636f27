//! The few words the renderers add themselves, per language (R-D3: templates per language,
//! Chinese first).

use chrono::{Datelike, NaiveDate};

use crate::model::Lang;

/// "Document no." label.
pub(crate) fn document_no(lang: Lang) -> &'static str {
    match lang {
        Lang::ZhCn => "文件编号",
        Lang::En => "Document no.",
    }
}

/// "Issue date" label.
pub(crate) fn issue_date(lang: Lang) -> &'static str {
    match lang {
        Lang::ZhCn => "出具日期",
        Lang::En => "Issue date",
    }
}

/// "Notes" heading.
pub(crate) fn notes(lang: Lang) -> &'static str {
    match lang {
        Lang::ZhCn => "备注",
        Lang::En => "Notes",
    }
}

/// The page footer: "第 1 / 3 页" or "Page 1 of 3".
pub(crate) fn page_of(lang: Lang, page: usize, pages: usize) -> String {
    match lang {
        Lang::ZhCn => format!("第 {page} / {pages} 页"),
        Lang::En => format!("Page {page} of {pages}"),
    }
}

/// A date as the language writes it: "2026年5月12日" or "12 May 2026".
pub(crate) fn date(lang: Lang, date: NaiveDate) -> String {
    match lang {
        Lang::ZhCn => format!("{}年{}月{}日", date.year(), date.month(), date.day()),
        Lang::En => date.format("%-d %B %Y").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_pages_per_language() {
        let d = NaiveDate::from_ymd_opt(2026, 5, 2).unwrap_or_default();
        assert_eq!(date(Lang::ZhCn, d), "2026年5月2日");
        assert_eq!(date(Lang::En, d), "2 May 2026");
        assert_eq!(page_of(Lang::ZhCn, 1, 3), "第 1 / 3 页");
        assert_eq!(page_of(Lang::En, 2, 3), "Page 2 of 3");
    }
}
