//! The month-end pack (R-O1, R-O7, R-O8, R-P7): every report of a month in one document,
//! Chinese first, English second, rendered by the documents crate as A4 PDF (embedded CJK
//! font) or as its HTML twin. Built from the reports' own responses, so the pack shows the
//! same figures as the RPCs and the CLI.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use documents::{Column, Document, DocumentError, Field, Lang, Section, Table, format_amount};
use proto::payments::v1 as payments;
use proto::reporting::v1 as api;
use proto::types::v1::Money;

use crate::domain::recovery::Stage;

/// Everything the pack shows.
pub(crate) struct PackInput {
    pub month: String,
    pub last_day: NaiveDate,
    pub currency: String,
    pub aging: api::GetAgingResponse,
    pub kpis: api::GetKpisResponse,
    pub rolls: api::GetRollRatesResponse,
    pub recovery: api::GetRecoveryByStepResponse,
    pub collectors: api::GetCollectorKpisResponse,
    pub forecast: api::GetForecastResponse,
    pub provisions: api::ProvisionRun,
    /// Per account: payments' reconciliation, or why there is none.
    pub book_to_bank: Vec<(
        String,
        Result<payments::ReconcileBookToBankResponse, String>,
    )>,
}

/// An amount for a table cell ("1,234.50"); the wire text when it is not a decimal.
fn amt(m: Option<&Money>) -> String {
    let text = m.map(|m| m.amount.as_str()).unwrap_or_default();
    text.parse::<Decimal>()
        .map_or_else(|_| text.to_owned(), format_amount)
}

fn decimal_text(text: &str) -> String {
    text.parse::<Decimal>()
        .map_or_else(|_| text.to_owned(), format_amount)
}

fn pct(text: &str) -> String {
    if text.is_empty() {
        "—".to_owned()
    } else {
        format!("{text} %")
    }
}

fn bucket(value: i32) -> &'static str {
    match api::AgingBucket::try_from(value).unwrap_or(api::AgingBucket::Unspecified) {
        api::AgingBucket::Current => "未逾期 current",
        api::AgingBucket::Days130 => "1-30",
        api::AgingBucket::Days3160 => "31-60",
        api::AgingBucket::Days6190 => "61-90",
        api::AgingBucket::Days91180 => "91-180",
        api::AgingBucket::Over180 => "180+",
        api::AgingBucket::Unspecified => "?",
    }
}

fn stage(value: i32) -> String {
    Stage::of_channel(value).map_or_else(
        || "?".to_owned(),
        |s| {
            let (zh, en) = s.names();
            format!("{zh} {en}")
        },
    )
}

fn table(columns: Vec<Column>) -> Result<Table, DocumentError> {
    Table::new(columns)
}

fn aging(input: &PackInput) -> Result<Section, DocumentError> {
    let mut section = Section::new("一、账龄分析 Aging by bucket (R-C11)");
    let report = input
        .aging
        .reports
        .iter()
        .find(|r| r.currency == input.currency);
    let Some(report) = report else {
        return Ok(section.paragraph("无未清应收款。Nothing open."));
    };
    let mut t = table(vec![
        Column::text("账龄 Bucket"),
        Column::center("笔数 Items"),
        Column::money("余额 Balance"),
        Column::money("占比 Share"),
    ])?;
    for row in &report.rows {
        t.push_row([
            bucket(row.bucket).to_owned(),
            row.receivables.to_string(),
            amt(row.balance.as_ref()),
            pct(&row.share_percent),
        ])?;
    }
    t.set_totals([
        "合计 Total".to_owned(),
        String::new(),
        amt(report.total.as_ref()),
        String::new(),
    ])?;
    section = section.table(t);
    Ok(section)
}

fn kpis(input: &PackInput) -> Section {
    let section = Section::new("二、关键指标 KPIs (R-O7)");
    let Some(k) = input
        .kpis
        .kpis
        .iter()
        .find(|k| k.currency == input.currency)
    else {
        return section.paragraph("本期无应收款。No receivables in the period.");
    };
    section.fields(vec![
        Field::new("期初应收 Opening", amt(k.opening.as_ref())),
        Field::new("本期销售 Sales", amt(k.sales.as_ref())),
        Field::new("本期回款 Collected", amt(k.collected.as_ref())),
        Field::new("期末应收 Closing", amt(k.closing.as_ref())),
        Field::new(
            "其中未逾期 Closing current",
            amt(k.closing_current.as_ref()),
        ),
        Field::new("回款率 Collection rate", pct(&k.collection_rate_percent)),
        Field::new("逾期率 Overdue rate", pct(&k.overdue_rate_percent)),
        Field::new("DSO", format!("{} 天 days", k.dso_days)),
        Field::new("CEI 回收效率指数", pct(&k.cei_percent)),
    ])
}

fn rolls(input: &PackInput) -> Result<Section, DocumentError> {
    let mut t = table(vec![
        Column::text("月份 Month"),
        Column::text("从 From"),
        Column::text("到 To"),
        Column::money("余额 Balance"),
        Column::money("迁徙 Rolled"),
        Column::money("迁徙率 Rate"),
    ])?;
    for m in input
        .rolls
        .months
        .iter()
        .filter(|m| m.currency == input.currency)
    {
        for r in &m.rates {
            t.push_row([
                m.month.clone(),
                bucket(r.from_bucket).to_owned(),
                bucket(r.to_bucket).to_owned(),
                amt(r.balance.as_ref()),
                amt(r.rolled.as_ref()),
                pct(&r.rate_percent),
            ])?;
        }
    }
    Ok(Section::new("三、迁徙率 Roll rates (R-O7)")
        .paragraph("上月末各账龄余额在本月末迁入下一账龄的比例。Share of each bucket's balance at the previous month-end that is one bucket further at this month-end.")
        .table(t))
}

fn recovery(input: &PackInput) -> Result<Section, DocumentError> {
    let mut t = table(vec![
        Column::text("催收阶段 Stage"),
        Column::center("笔数 Debts"),
        Column::money("当时欠款 Owed"),
        Column::money("回收 Recovered"),
        Column::money("回收率 Rate"),
    ])?;
    for report in input
        .recovery
        .reports
        .iter()
        .filter(|r| r.currency == input.currency)
    {
        for r in &report.rows {
            t.push_row([
                stage(r.stage),
                r.debts.to_string(),
                amt(r.owed.as_ref()),
                amt(r.recovered.as_ref()),
                pct(&r.recovery_rate_percent),
            ])?;
        }
    }
    Ok(Section::new("四、分催收步骤回收 Recovery by dunning step (R-O1)")
        .paragraph(format!(
            "步骤后 {} 天内、下一步骤前收回的本金。Principal paid within {} days after a step and before the next one.",
            input.recovery.within_days, input.recovery.within_days
        ))
        .table(t))
}

fn collectors(input: &PackInput) -> Result<Section, DocumentError> {
    let mut t = table(vec![
        Column::text("催收员 Collector"),
        Column::money("回款 Collected"),
        Column::money("CEI"),
        Column::center("承诺 Promises made/kept/broken"),
        Column::center("触达 Contacts"),
        Column::center("案件 Cases"),
    ])?;
    for r in &input.collectors.rows {
        t.push_row([
            if r.owner.is_empty() {
                "（未分配 unassigned）".to_owned()
            } else {
                r.owner.clone()
            },
            amt(r.collected.as_ref()),
            pct(&r.cei_percent),
            format!(
                "{}/{}/{}",
                r.promises_made, r.promises_kept, r.promises_broken
            ),
            r.contacts.to_string(),
            r.cases.to_string(),
        ])?;
    }
    Ok(Section::new("五、催收员绩效 Per-collector KPIs (R-D11)").table(t))
}

fn forecast(input: &PackInput) -> Result<Section, DocumentError> {
    let f = &input.forecast;
    let mut t = table(vec![
        Column::center("周 Week"),
        Column::text("日期 Dates"),
        Column::money("计划 Scheduled"),
        Column::money("承诺 Promised"),
        Column::money("逾期 Overdue"),
        Column::money("合计 Total"),
    ])?;
    for w in &f.weeks {
        t.push_row([
            w.week.to_string(),
            format!("{} – {}", w.from, w.to),
            amt(w.scheduled.as_ref()),
            amt(w.promised.as_ref()),
            amt(w.overdue.as_ref()),
            amt(w.total.as_ref()),
        ])?;
    }
    let basis = f.basis.clone().unwrap_or_default();
    let mut section = Section::new("六、未来12周现金流入预测 12-week cash-inflow forecast (R-O1)")
        .fields(vec![
            Field::new("到期付款率 Pay rate", basis.pay_rate.clone()),
            Field::new("平均延迟 Delay", format!("{} 天 days", basis.delay_days)),
            Field::new(
                "逾期周回收率 Weekly overdue rate",
                basis.weekly_overdue_rate.clone(),
            ),
            Field::new(
                "承诺兑现率 Promise kept rate",
                basis.promise_kept_rate.clone(),
            ),
            Field::new("未清本金 Open", amt(basis.open.as_ref())),
            Field::new("预测期外 Beyond the horizon", amt(basis.beyond.as_ref())),
        ])
        .table(t);
    if let Some(b) = &f.backtest {
        let mut bt = table(vec![
            Column::center("周 Week"),
            Column::text("日期 Dates"),
            Column::money("预测 Forecast"),
            Column::money("实际 Actual"),
            Column::money("误差 Error"),
        ])?;
        for w in &b.weeks {
            bt.push_row([
                w.week.to_string(),
                format!("{} – {}", w.from, w.to),
                amt(w.forecast.as_ref()),
                amt(w.actual.as_ref()),
                amt(w.error.as_ref()),
            ])?;
        }
        bt.set_totals([
            "合计 Total".to_owned(),
            String::new(),
            amt(b.forecast.as_ref()),
            amt(b.actual.as_ref()),
            amt(b.absolute_error.as_ref()),
        ])?;
        section = section
            .paragraph(format!(
                "回测（截至 {} 预测其后 {} 周）Backtest (forecast as of {} for the {} weeks after): WAPE {}, bias {}",
                b.as_of,
                b.weeks.len(),
                b.as_of,
                b.weeks.len(),
                pct(&b.wape_percent),
                pct(&b.bias_percent)
            ))
            .table(bt);
    }
    Ok(section)
}

fn provisions(input: &PackInput) -> Result<Section, DocumentError> {
    let run = &input.provisions;
    let mut t = table(vec![
        Column::text("账龄 Bucket"),
        Column::money("余额 Balance"),
        Column::money("损失率 Loss rate"),
        Column::money("准备 Provision"),
    ])?;
    for r in &run.rows {
        t.push_row([
            bucket(r.bucket).to_owned(),
            amt(r.balance.as_ref()),
            format!("{} %", r.loss_rate_percent),
            amt(r.provision.as_ref()),
        ])?;
    }
    t.set_totals([
        "合计 Total".to_owned(),
        String::new(),
        String::new(),
        amt(run.total.as_ref()),
    ])?;
    let voucher = run.voucher.clone().unwrap_or_default();
    let mut v = table(vec![
        Column::text("科目 Account"),
        Column::money("借方 Debit"),
        Column::money("贷方 Credit"),
    ])?;
    let mut debit = Decimal::ZERO;
    let mut credit = Decimal::ZERO;
    for l in &voucher.lines {
        let parse = |m: Option<&Money>| {
            m.and_then(|m| m.amount.parse::<Decimal>().ok())
                .unwrap_or_default()
        };
        debit += parse(l.debit.as_ref());
        credit += parse(l.credit.as_ref());
        v.push_row([
            format!("{} {}", l.account_code, l.account_name),
            amt(l.debit.as_ref()),
            amt(l.credit.as_ref()),
        ])?;
    }
    v.set_totals([
        "合计 Total".to_owned(),
        format_amount(debit),
        format_amount(credit),
    ])?;
    let mut section = Section::new("七、坏账准备 Bad-debt provisions (R-O8)")
        .paragraph(format!(
            "准备矩阵 Matrix {}；上次记录 previous run {}（{}）；变动 change {}",
            run.matrix,
            if run.previous_as_of.is_empty() {
                "—".to_owned()
            } else {
                run.previous_as_of.clone()
            },
            amt(run.previous_total.as_ref()),
            amt(run.change.as_ref())
        ))
        .table(t);
    section = if voucher.lines.is_empty() {
        section.paragraph("准备金无变动，无需凭证。No change: no voucher.")
    } else {
        section
            .paragraph(format!(
                "记账凭证（草稿）Draft voucher: {}；借贷平衡 balanced: {}",
                voucher.summary,
                if voucher.balanced {
                    "是 yes"
                } else {
                    "否 NO"
                }
            ))
            .table(v)
    };
    Ok(section)
}

fn book_to_bank(input: &PackInput) -> Result<Section, DocumentError> {
    let mut section = Section::new("八、银企对账 Book-to-bank reconciliation (R-P7)");
    if input.book_to_bank.is_empty() {
        return Ok(section.paragraph(
            "未指定收款账户，未对账。No receiving account named: not reconciled (REPORTING_BOOK_TO_BANK_ACCOUNTS).",
        ));
    }
    for (account, result) in &input.book_to_bank {
        match result {
            Err(why) => {
                section = section.paragraph(format!(
                    "账户 account …{}: 未能对账 not reconciled: {why}",
                    last_four(account)
                ));
            }
            Ok(r) => {
                section = section.paragraph(format!(
                    "账户 account {}（{} … {}，{}）：{}；差异 discrepancies {}",
                    r.account_masked,
                    r.from,
                    r.to,
                    r.currency,
                    if r.matched {
                        "账实相符 book matches bank 100%"
                    } else {
                        "不符 DOES NOT MATCH"
                    },
                    r.discrepancy_count
                ));
                let mut t = table(vec![
                    Column::text("日期 Date"),
                    Column::money("银行贷方 Bank credits"),
                    Column::money("账面 Book total"),
                    Column::center("差异 Discrepancies"),
                ])?;
                for d in &r.days {
                    t.push_row([
                        d.business_date.clone(),
                        decimal_text(&d.bank_credits),
                        decimal_text(&d.book_total),
                        d.discrepancies.len().to_string(),
                    ])?;
                }
                section = section.table(t);
                let mut first = true;
                for day in &r.days {
                    for d in &day.discrepancies {
                        if first {
                            section = section.paragraph("差异明细 Discrepancies:");
                            first = false;
                        }
                        let kind = payments::DiscrepancyKind::try_from(d.kind)
                            .map(|k| {
                                k.as_str_name()
                                    .trim_start_matches("DISCREPANCY_KIND_")
                                    .to_lowercase()
                                    .replace('_', " ")
                            })
                            .unwrap_or_else(|_| "?".to_owned());
                        section = section.paragraph(format!(
                            "{} {kind} {}: {}",
                            d.business_date,
                            decimal_text(&d.amount),
                            d.next_step
                        ));
                    }
                }
            }
        }
    }
    Ok(section)
}

/// The last four characters of an account (R-O4: never the whole number).
fn last_four(account: &str) -> String {
    let chars: Vec<char> = account.chars().filter(|c| !c.is_whitespace()).collect();
    chars[chars.len().saturating_sub(4)..].iter().collect()
}

/// The pack as a document.
///
/// # Errors
/// A table row does not fit its columns (a bug here, not in the input).
pub(crate) fn document(input: &PackInput) -> Result<Document, DocumentError> {
    Ok(Document::new(
        Lang::ZhCn,
        format!("ME-{}-{}", input.month, input.currency),
        input.last_day,
        "月末报告 Month-end pack",
    )
    .subtitle(format!("{} · {}", input.month, input.currency))
    .field("期间 Month", input.month.clone())
    .field("截至 As of", input.last_day.to_string())
    .field("币种 Currency", input.currency.clone())
    .section(aging(input)?)
    .section(kpis(input))
    .section(rolls(input)?)
    .section(recovery(input)?)
    .section(collectors(input)?)
    .section(forecast(input)?)
    .section(provisions(input)?)
    .section(book_to_bank(input)?)
    .note("本报告由应收款报表服务根据各服务事件生成，数据可能稍有滞后。Built by the reporting service from every service's events; it may be a moment behind them.")
    .footer("应收款催收平台 · 报表服务 Reporting"))
}

#[cfg(test)]
mod tests;
