//! Writes a sample Chinese dunning notice (R-D3) as HTML and PDF, and a long statement of
//! account, and prints sizes and render times.
//!
//! ```sh
//! cargo run -p documents --example notice -- /tmp/notice     # writes /tmp/notice.html, .pdf
//! ```
//! and a 20-page statement as `/tmp/notice-statement.pdf`. The font comes from
//! `DOCUMENT_FONT_FILE` or the usual Debian locations (`apt-get install fonts-wqy-microhei`).

use std::time::Instant;

use anyhow::Context as _;
use chrono::NaiveDate;
use documents::{Column, Document, Field, Font, Lang, Party, Section, Table, format_amount};
use rust_decimal::Decimal;

fn main() -> anyhow::Result<()> {
    let base = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "notice".to_string());
    let started = Instant::now();
    let font = Font::from_env_or_system()?;
    let took = started.elapsed();
    let face = font.face_index();
    println!(
        "font:      {} (face {face}) loaded in {took:.1?}",
        font.path().display()
    );

    let notice = notice()?;
    let html = documents::to_html(&notice);
    let started = Instant::now();
    let pdf = documents::to_pdf(&notice, &font)?;
    let took = started.elapsed();
    std::fs::write(format!("{base}.html"), &html)
        .with_context(|| format!("writing {base}.html"))?;
    std::fs::write(format!("{base}.pdf"), &pdf).with_context(|| format!("writing {base}.pdf"))?;
    println!(
        "notice:    {base}.pdf {} bytes in {took:.1?}; {base}.html {} bytes",
        pdf.len(),
        html.len()
    );

    let statement = statement(750)?;
    let started = Instant::now();
    let pdf = documents::to_pdf(&statement, &font)?;
    let took = started.elapsed();
    std::fs::write(format!("{base}-statement.pdf"), &pdf)
        .with_context(|| format!("writing {base}-statement.pdf"))?;
    println!(
        "statement: {base}-statement.pdf {} bytes in {took:.1?}",
        pdf.len()
    );
    Ok(())
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

fn yuan(s: &str) -> anyhow::Result<String> {
    Ok(format_amount(s.parse::<Decimal>()?))
}

/// A notice as dunning will build it: one per debtor, per charge type and month (R-C2, R-D3).
fn notice() -> anyhow::Result<Document> {
    let mut owed = Table::new(vec![
        Column::text("费用类型"),
        Column::center("所属月份"),
        Column::money("欠费金额（元）"),
        Column::money("逾期天数"),
        Column::text("滞纳金费率"),
        Column::money("滞纳金（元）"),
        Column::money("小计（元）"),
    ])?;
    let items = [
        (
            "物业管理费",
            "2026-01",
            "1280.00",
            "101",
            "19.20",
            "1299.20",
        ),
        ("物业管理费", "2026-02", "1280.00", "73", "14.08", "1294.08"),
        ("公共维修基金", "2026-01", "356.40", "101", "5.35", "361.75"),
        ("水费", "2026-02", "86.50", "73", "0.95", "87.45"),
        ("电费", "2026-02", "214.30", "73", "2.36", "216.66"),
        ("燃气费", "2026-02", "98.00", "73", "1.08", "99.08"),
    ];
    for (kind, month, amount, days, fee, total) in items {
        owed.push_row([
            kind.to_string(),
            month.to_string(),
            yuan(amount)?,
            days.to_string(),
            "每日 1‰（上限 30%）".to_string(),
            yuan(fee)?,
            yuan(total)?,
        ])?;
    }
    owed.set_totals([
        "合计",
        "",
        &yuan("3315.20")?,
        "",
        "",
        &yuan("43.02")?,
        &yuan("3358.22")?,
    ])?;

    Ok(Document::new(Lang::ZhCn, "DN-2026-000123", date(2026, 5, 12), "物业费催缴通知书")
        .subtitle("（第二次通知）")
        .party(
            Party::new("致（业主）", "张伟 先生")
                .line("上海市浦东新区锦绣路 1888 弄 8 号 1202 室")
                .line("合同编号 PM-2019-00817"),
        )
        .party(
            Party::new("物业服务企业", "上海锦绣物业管理有限公司")
                .line("上海市浦东新区锦绣路 1800 号")
                .line("客服电话 021-5888 0000"),
        )
        .field("房屋", "锦绣华庭 8 号楼 1202 室（住宅，建筑面积 128.6 ㎡）")
        .field("欠费合计", "人民币 3,358.22 元（含滞纳金 43.02 元）")
        .field("最迟缴费日期", "2026年5月31日")
        .section(
            Section::new("一、欠费明细")
                .paragraph(
                    "尊敬的业主：根据《物业服务合同》第六条及本市物业服务收费管理规定，截至 \
                     2026年5月12日，您名下房屋尚有下列费用逾期未缴，滞纳金按逾期金额每日千分之一计收：",
                )
                .table(owed),
        )
        .section(
            Section::new("二、缴费方式与后续措施")
                .paragraph(
                    "请于 2026年5月31日 前通过物业服务中心、银行转账（开户行：招商银行上海锦绣支行，\
                     账号 1219 0888 0000 123）或“锦绣生活”小程序缴清上述费用。如已缴纳，请忽略本通知。",
                )
                .paragraph(
                    "如逾期仍未缴纳，我司将依合同约定发出第三次书面催告并上门送达；自第六次通知起须本人签收，\
                     并可能依法提起诉讼，由此产生的诉讼费、律师费等费用由您承担。",
                )
                .fields(vec![
                    Field::new("下一步", "2026年6月1日 起：第三次书面催告，上门送达"),
                    Field::new("如有异议", "请于 7 日内联系客服，我司将在 3 个工作日内答复"),
                ]),
        )
        .note("本通知一式两份，业主与物业服务企业各执一份。")
        .note("滞纳金按逾期本金计算，不计复利；金额以缴费当日结算为准。")
        .footer("上海锦绣物业管理有限公司 · 客服电话 021-5888 0000 · 本通知由系统生成，文件编号可查验"))
}

/// A statement of account with `rows` open items: about 45 rows a page.
fn statement(rows: usize) -> anyhow::Result<Document> {
    let mut items = Table::new(vec![
        Column::text("合同 / 单元"),
        Column::text("费用类型"),
        Column::center("应收日期"),
        Column::money("应收（元）"),
        Column::money("已收（元）"),
        Column::money("逾期天数"),
        Column::money("余额（元）"),
    ])?;
    let kinds = ["物业管理费", "公共维修基金", "水费", "电费", "燃气费"];
    let mut total = Decimal::ZERO;
    for i in 0..rows {
        let due = Decimal::new(12_800 + i64::try_from(i % 97)? * 137, 2);
        total += due;
        items.push_row([
            format!(
                "PM-2019-{:05} / {}-{}",
                800 + i / 12,
                1 + i % 30,
                101 + i % 7
            ),
            kinds[i % kinds.len()].to_string(),
            format!("2026-{:02}-01", 1 + i % 4),
            format_amount(due),
            format_amount(Decimal::ZERO),
            (30 + i % 100).to_string(),
            format_amount(due),
        ])?;
    }
    let total = format_amount(total);
    items.set_totals(["合计", "", "", total.as_str(), "0.00", "", total.as_str()])?;
    Ok(
        Document::new(Lang::ZhCn, "ST-2026-000045", date(2026, 5, 12), "对账单")
            .subtitle("截至 2026年5月12日 的未结清款项")
            .party(Party::new("客户", "上海某某商贸有限公司").line("上海市黄浦区南京东路 100 号"))
            .section(Section::new("未结清款项（账龄）").table(items))
            .footer("上海锦绣物业管理有限公司"),
    )
}
