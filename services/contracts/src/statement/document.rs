//! The printed statement of account (对账单): Chinese first (R-D3), built from a
//! [`Statement`] for the documents crate. No clock and no randomness: the same statement
//! gives the same document, and so the same HTML and PDF bytes.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use documents::{Column, Document, DocumentError, Lang, Party, Section, Table, format_amount};
use rust_decimal::Decimal;

use crate::domain::statement::{BUCKETS, Statement, Totals, bucket_name_zh};

use super::ContractInfo;

/// "2026年3月20日".
fn date_zh(date: NaiveDate) -> String {
    format!("{}年{}月{}日", date.year(), date.month(), date.day())
}

/// An amount with exactly the currency's minor units, thousands grouped.
fn amount(value: Decimal, currency: &str) -> String {
    let mut value = value;
    value.rescale(kit::wire::minor_units(currency).unwrap_or(2));
    format_amount(value)
}

fn totals_cells(label: &str, t: &Totals) -> [String; 6] {
    [
        label.to_owned(),
        amount(t.billed, &t.currency),
        amount(t.paid, &t.currency),
        amount(t.open, &t.currency),
        amount(t.late_fee + t.interest + t.costs, &t.currency),
        amount(t.owed, &t.currency),
    ]
}

/// The statement as a document numbered `id`.
pub(super) fn build(
    id: &str,
    customer_name: &str,
    late_fees_through: Option<NaiveDate>,
    s: &Statement,
    contracts: &BTreeMap<String, ContractInfo>,
) -> Result<Document, DocumentError> {
    let mut doc = Document::new(Lang::ZhCn, id, s.as_of, "对账单")
        .subtitle(format!("Statement of account · 截至 {}", date_zh(s.as_of)))
        .party(Party::new("客户", customer_name))
        .field("对账日期", date_zh(s.as_of))
        .field(
            "滞纳金计至",
            late_fees_through.map_or_else(|| "尚未计收".to_owned(), date_zh),
        );
    if s.is_empty() {
        doc = doc.section(Section::new("明细").paragraph("截至对账日，您没有未结清的款项。"));
    }
    for (n, c) in s.contracts.iter().enumerate() {
        let cur = &c.currency;
        let mut table = Table::new(vec![
            Column::center("应缴日期"),
            Column::text("款项类型"),
            Column::money(format!("应收（{cur}）")),
            Column::money("已付·减免"),
            Column::money("未付本金"),
            Column::money("滞纳金·利息·费用"),
            Column::money("应付合计"),
            Column::center("逾期天数"),
        ])?;
        for i in &c.items {
            table.push_row([
                i.line.due_date.to_string(),
                format!(
                    "第{}期 {} · {}",
                    i.line.installment_no,
                    i.line.kind.name_zh(),
                    i.line.charge_type.name_zh()
                ),
                amount(i.line.billed, cur),
                amount(i.paid, cur),
                amount(i.line.open, cur),
                amount(i.line.late_fee + i.line.interest + i.line.costs, cur),
                amount(i.owed, cur),
                i.days_overdue.to_string(),
            ])?;
        }
        let [label, billed, paid, open, fee, owed] = totals_cells("合计", &c.totals);
        table.set_totals([
            label,
            String::new(),
            billed,
            paid,
            open,
            fee,
            owed,
            String::new(),
        ])?;
        let mut section = Section::new(format!("{}、合同 {}（{cur}）", n + 1, c.contract_no));
        if let Some(info) = contracts.get(&c.contract_no) {
            // R-O4: only the masked account is ever printed.
            section = section.paragraph(format!("缴款账户（监管账户）：{}", info.escrow_masked));
        }
        doc = doc.section(section.table(table));
    }
    if !s.is_empty() {
        let mut columns = vec![Column::text("账龄")];
        columns.extend(
            s.aging
                .iter()
                .map(|a| Column::money(format!("未付本金（{}）", a.currency))),
        );
        let mut aging = Table::new(columns)?;
        for (row, bucket) in BUCKETS.iter().enumerate() {
            let mut cells = vec![bucket_name_zh(*bucket).to_owned()];
            cells.extend(s.aging.iter().map(|a| {
                a.buckets
                    .get(row)
                    .map_or_else(String::new, |(_, v)| amount(*v, &a.currency))
            }));
            aging.push_row(cells)?;
        }
        let mut sums = vec!["合计".to_owned()];
        sums.extend(s.totals.iter().map(|t| amount(t.open, &t.currency)));
        aging.set_totals(sums)?;
        doc = doc.section(Section::new("账龄分析").table(aging));

        let mut totals = Table::new(vec![
            Column::text("币种"),
            Column::money("应收"),
            Column::money("已付·减免"),
            Column::money("未付本金"),
            Column::money("滞纳金·利息·费用"),
            Column::money("应付合计"),
        ])?;
        for t in &s.totals {
            totals.push_row(totals_cells(&t.currency, t))?;
        }
        let owed: Vec<String> = s
            .totals
            .iter()
            .map(|t| format!("{} {}", t.currency, amount(t.owed, &t.currency)))
            .collect();
        doc = doc.section(
            Section::new("总计")
                .paragraph(format!(
                    "截至{}，应付合计：{}。",
                    date_zh(s.as_of),
                    owed.join("；")
                ))
                .table(totals),
        );
    }
    Ok(doc
        .note(
            "滞纳金按各合同约定的滞纳金条款，以逾期未付本金为基数，按日历日计算，自应缴日期次日起算，\
             至付清之日止；部分付款后按减少后的本金计算。表中滞纳金计至上列“滞纳金计至”日期，\
             之后每日继续产生。",
        )
        .note(
            "请将款项汇入各合同所列的监管账户（为保护信息安全，账号仅显示末四位；完整账号见合同），\
             并在附言中注明合同编号。如已付款，请忽略本对账单中的相应款项。",
        )
        .note("本对账单不含逾期利息：利息尚未计算，任何金额均不包含利息。")
        .footer(format!("对账单 {id} · 截至 {}", date_zh(s.as_of))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::schedule::{ChargeType, ItemKind};
    use crate::domain::statement::{Line, build as build_statement};

    fn sample() -> (Statement, BTreeMap<String, ContractInfo>) {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let line = |no: &str, n: u32, due: &str, billed: i64, open: i64, fee: i64| Line {
            receivable_id: uuid::Uuid::nil(),
            contract_no: no.to_owned(),
            currency: "CNY".to_owned(),
            kind: ItemKind::Installment,
            charge_type: ChargeType::ManagementFee,
            installment_no: n,
            due_date: d(due),
            billed: Decimal::new(billed, 2),
            open: Decimal::new(open, 2),
            late_fee: Decimal::new(fee, 2),
            interest: Decimal::ZERO,
            costs: Decimal::ZERO,
        };
        let s = build_statement(
            d("2026-03-21"),
            [
                line("HT-1", 1, "2026-03-10", 1_000_000, 600_000, 10_600),
                line("HT-1", 2, "2026-05-10", 1_000_000, 1_000_000, 0),
            ],
        );
        let info = ContractInfo {
            id: uuid::Uuid::nil(),
            escrow_masked: kit::wire::mask("621661000000008888"),
        };
        (s, BTreeMap::from([("HT-1".to_owned(), info)]))
    }

    #[test]
    fn the_printed_statement_adds_up_and_hides_the_account() {
        let (s, contracts) = sample();
        let doc = build("ST-20260321-00000000", "吴十二", None, &s, &contracts).unwrap();
        let html = documents::to_html(&doc);
        for want in [
            "对账单",
            "吴十二",
            "16,106.00",
            "6,106.00",
            "106.00",
            "分期款 · 物业管理费",
            "逾期 1–30 天",
        ] {
            assert!(html.contains(want), "{want} missing");
        }
        assert!(!html.contains("6216"), "the account in clear");
        assert!(html.contains("**************8888"));
        assert!(html.contains("不含逾期利息"));
    }

    #[test]
    fn the_same_statement_renders_the_same_pdf() {
        let (s, contracts) = sample();
        let doc = build("ST-20260321-00000000", "吴十二", None, &s, &contracts).unwrap();
        let font = documents::Font::from_env_or_system()
            .expect("a CJK font: deploy/local/install-deps.sh installs fonts-wqy-microhei");
        let first = documents::to_pdf(&doc, &font).unwrap();
        assert!(first.starts_with(b"%PDF-"));
        assert_eq!(first, documents::to_pdf(&doc, &font).unwrap());
        if let Some(dir) = std::env::var_os("STATEMENT_SAMPLE_DIR") {
            std::fs::write(std::path::Path::new(&dir).join("statement.pdf"), &first).unwrap();
        }
    }
}
