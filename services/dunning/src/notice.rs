//! The written notice (R-D3; issue 13 item 2): one notice per debtor covering all of their
//! overdue items across contracts, stating per charge type and month what is owed, the
//! late-fee rate and amount, the total, the pay-by date and what happens next; the debtor
//! signs for it from the sixth notice of the series (R-D2). Built as a [`Document`] of the
//! documents crate (printable HTML and PDF with an embedded CJK font); pure, so the same
//! notice gives the same bytes and the hash stored with it can be recomputed.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use documents::{Column, Document, DocumentError, Lang, Party, Section, Table, format_amount};
use rust_decimal::Decimal;

/// What is owed on one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Contract number.
    pub contract_no: String,
    /// Charge type as printed, e.g. 物业管理费.
    pub charge: String,
    /// The billing month (or, for an installment, its due month).
    pub month: NaiveDate,
    /// Principal owed.
    pub principal: Decimal,
    /// Late fee owed (R-C4).
    pub late_fee: Decimal,
    /// Interest and collection costs owed (R-C12, R-D12).
    pub other: Decimal,
}

/// A notice to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The notice number, e.g. `DN-2026-000123`.
    pub number: String,
    /// Business date of the notice.
    pub date: NaiveDate,
    /// The debtor's name.
    pub debtor: String,
    /// Address or unit lines.
    pub address: Vec<String>,
    /// The n-th notice of the series (R-D2).
    pub n: u32,
    /// The debtor signs for it (R-D2: from the sixth).
    pub signature_required: bool,
    /// Currency of the amounts.
    pub currency: String,
    /// Every overdue item, any order.
    pub lines: Vec<Line>,
    /// The late-fee terms as printed, e.g. 每日万分之五.
    pub late_fee_rate: String,
    /// The date to pay by.
    pub pay_by: NaiveDate,
    /// What happens if unpaid, e.g. 委托律师发送律师函.
    pub next_step: String,
    /// The notice fee charged with it (R-D3), zero for none.
    pub fee: Decimal,
    /// Who issues it (printed at the foot of every page).
    pub issuer: String,
    /// The debtor's language (R-D3: Chinese first, English second). Charge names, the
    /// late-fee terms and the next step are printed as given.
    pub lang: Lang,
}

/// A printed row: contract, charge type, (year, month).
type Row<'a> = (&'a str, &'a str, (i32, u32));
/// Principal, late fee, interest and costs.
type Sums = (Decimal, Decimal, Decimal);

fn date_zh(date: NaiveDate) -> String {
    format!("{}年{}月{}日", date.year(), date.month(), date.day())
}

/// The printed words of a notice in one language.
struct Words {
    contract: &'static str,
    charge: &'static str,
    month: &'static str,
    owed: &'static str,
    late_fee: &'static str,
    other: &'static str,
    subtotal: &'static str,
    notice_fee: &'static str,
    total: &'static str,
    to: &'static str,
    title: &'static str,
    owed_in_all: &'static str,
    pay_by: &'static str,
    items: &'static str,
    explanation: &'static str,
    already_paid: &'static str,
    receipt: &'static str,
    signature: &'static str,
}

const ZH: Words = Words {
    contract: "合同",
    charge: "费用类型",
    month: "月份",
    owed: "欠费",
    late_fee: "滞纳金",
    other: "利息·费用",
    subtotal: "小计",
    notice_fee: "催缴通知费",
    total: "合计",
    to: "致",
    title: "催缴通知书",
    owed_in_all: "欠款合计",
    pay_by: "最迟缴费日期",
    items: "欠费明细",
    explanation: "说明",
    already_paid: "如已缴纳，请忽略本通知。",
    receipt: "签收",
    signature: "签收人：＿＿＿＿＿＿＿＿　　签收日期：＿＿＿＿年＿＿月＿＿日",
};

const EN: Words = Words {
    contract: "Contract",
    charge: "Charge",
    month: "Month",
    owed: "Owed",
    late_fee: "Late fee",
    other: "Interest, costs",
    subtotal: "Subtotal",
    notice_fee: "Notice fee",
    total: "Total",
    to: "To",
    title: "Payment notice",
    owed_in_all: "Owed in all",
    pay_by: "Pay by",
    items: "What is owed",
    explanation: "Please note",
    already_paid: "If you have paid already, please disregard this notice.",
    receipt: "Receipt",
    signature: "Received by: ____________    Date: ____-__-__",
};

fn money(amount: Decimal) -> String {
    let mut amount = amount;
    amount.rescale(2);
    format_amount(amount)
}

impl Notice {
    /// Σ owed on the items, plus the notice fee.
    #[must_use]
    pub fn total(&self) -> Decimal {
        self.lines
            .iter()
            .map(|l| l.principal + l.late_fee + l.other)
            .sum::<Decimal>()
            + self.fee
    }

    /// The notice as a document: per charge type and month (rows of one contract, charge
    /// and month added up), the totals, the pay-by date and the next step.
    ///
    /// # Errors
    /// A table the documents crate refuses (never for a well-formed notice).
    pub fn document(&self) -> Result<Document, DocumentError> {
        let cur = &self.currency;
        let en = self.lang == Lang::En;
        let w = if en { &EN } else { &ZH };
        let day = |d: NaiveDate| if en { d.to_string() } else { date_zh(d) };
        let mut table = Table::new(vec![
            Column::text(w.contract),
            Column::text(w.charge),
            Column::center(w.month),
            Column::money(if en {
                format!("{} ({cur})", w.owed)
            } else {
                format!("{}（{cur}）", w.owed)
            }),
            Column::money(w.late_fee),
            Column::money(w.other),
            Column::money(w.subtotal),
        ])?;
        let mut grouped: BTreeMap<Row<'_>, Sums> = BTreeMap::new();
        for l in &self.lines {
            let e = grouped
                .entry((
                    l.contract_no.as_str(),
                    l.charge.as_str(),
                    (l.month.year(), l.month.month()),
                ))
                .or_default();
            e.0 += l.principal;
            e.1 += l.late_fee;
            e.2 += l.other;
        }
        let (mut principal, mut fees, mut other) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
        for ((contract, charge, (y, m)), (p, f, o)) in &grouped {
            table.push_row([
                (*contract).to_owned(),
                (*charge).to_owned(),
                if en {
                    format!("{y}-{m:02}")
                } else {
                    format!("{y}年{m}月")
                },
                money(*p),
                money(*f),
                money(*o),
                money(*p + *f + *o),
            ])?;
            principal += *p;
            fees += *f;
            other += *o;
        }
        if !self.fee.is_zero() {
            table.push_row([
                String::new(),
                w.notice_fee.to_owned(),
                day(self.date),
                String::new(),
                String::new(),
                money(self.fee),
                money(self.fee),
            ])?;
            other += self.fee;
        }
        table.set_totals([
            w.total.to_owned(),
            String::new(),
            String::new(),
            money(principal),
            money(fees),
            money(other),
            money(self.total()),
        ])?;
        let addressee = if en {
            self.debtor.clone()
        } else {
            format!("{} 先生/女士", self.debtor)
        };
        let mut party = Party::new(w.to, addressee);
        for line in &self.address {
            party = party.line(line.clone());
        }
        let subtitle = match (en, self.signature_required) {
            (false, sign) => format!("第{}次通知{}", self.n, if sign { "（须签收）" } else { "" }),
            (true, sign) => format!(
                "Notice no. {}{}",
                self.n,
                if sign { " (to be signed for)" } else { "" }
            ),
        };
        let (intro, explanation) = if en {
            (
                format!("As of {}, the following are overdue and unpaid:", self.date),
                format!(
                    "Late fees accrue at {} until paid. Please pay {} {cur} in all by {}. If unpaid, we will {}.",
                    self.late_fee_rate,
                    money(self.total()),
                    self.pay_by,
                    self.next_step
                ),
            )
        } else {
            (
                format!("截至{}，下列款项逾期未缴：", date_zh(self.date)),
                format!(
                    "滞纳金按{}计收，计至缴清之日。请于{}前缴纳合计 {} {cur}。逾期不缴，我们将{}。",
                    self.late_fee_rate,
                    date_zh(self.pay_by),
                    money(self.total()),
                    self.next_step
                ),
            )
        };
        let mut doc = Document::new(self.lang, &self.number, self.date, w.title)
            .subtitle(subtitle)
            .party(party)
            .field(w.owed_in_all, format!("{} {cur}", money(self.total())))
            .field(w.pay_by, day(self.pay_by))
            .section(Section::new(w.items).paragraph(intro).table(table))
            .section(Section::new(w.explanation).paragraph(explanation))
            .note(w.already_paid)
            .footer(self.issuer.clone());
        if self.signature_required {
            doc = doc.section(Section::new(w.receipt).paragraph(w.signature));
        }
        Ok(doc)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;
    use std::process::Command;

    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    fn notice() -> Notice {
        let line = |contract: &str, charge: &str, month: u32, p: i64, f: i64| Line {
            contract_no: contract.to_owned(),
            charge: charge.to_owned(),
            month: d(2026, month, 1),
            principal: Decimal::new(p, 2),
            late_fee: Decimal::new(f, 2),
            other: Decimal::ZERO,
        };
        Notice {
            number: "DN-2026-000123".to_owned(),
            date: d(2026, 5, 12),
            debtor: "张伟".to_owned(),
            address: vec!["锦绣华庭 8 号楼 1202 室".to_owned()],
            n: 6,
            signature_required: true,
            currency: "CNY".to_owned(),
            // Three overdue items on two contracts (R-D3: one notice for all of them).
            lines: vec![
                line("PM-8-1202", "物业管理费", 1, 128_000, 1_920),
                line("PM-8-1202", "水费", 2, 8_650, 95),
                line("PK-B2-017", "车位管理费", 2, 30_000, 450),
            ],
            late_fee_rate: "每日万分之五".to_owned(),
            pay_by: d(2026, 5, 31),
            next_step: "委托律师发送律师函".to_owned(),
            fee: Decimal::new(2_000, 2),
            issuer: "上海锦绣物业管理有限公司".to_owned(),
            lang: Lang::ZhCn,
        }
    }

    #[test]
    fn a_notice_in_english_has_the_same_figures_in_english_words() {
        let n = Notice {
            lang: Lang::En,
            debtor: "Zhang Wei".to_owned(),
            late_fee_rate: "0.05% a day".to_owned(),
            next_step: "instruct a lawyer".to_owned(),
            ..notice()
        };
        let html = documents::to_html(&n.document().expect("document"));
        for expected in [
            "Payment notice",
            "Notice no. 6 (to be signed for)",
            "2026-01",
            "1,280.00",
            "Notice fee",
            "1,711.15",
            "0.05% a day",
            "2026-05-31",
            "instruct a lawyer",
            "Received by",
        ] {
            assert!(html.contains(expected), "{expected} missing");
        }
        assert!(!html.contains("催缴通知书"));
    }

    #[test]
    fn the_notice_states_the_breakdown_the_total_the_pay_by_date_and_the_next_step_r_d3() {
        let n = notice();
        // 1,280.00 + 19.20 + 86.50 + 0.95 + 300.00 + 4.50 + 20.00 fee.
        assert_eq!(n.total(), Decimal::new(171_115, 2));
        let html = documents::to_html(&n.document().expect("document"));
        for expected in [
            "催缴通知书",
            "第6次通知（须签收）",
            "物业管理费",
            "2026年1月",
            "水费",
            "车位管理费",
            "1,280.00",
            "19.20",
            "催缴通知费",
            "1,711.15",
            "每日万分之五",
            "2026年5月31日",
            "委托律师发送律师函",
            "签收人",
        ] {
            assert!(html.contains(expected), "{expected} missing");
        }
    }

    #[test]
    fn the_pdf_text_holds_the_breakdown_and_the_total() {
        let font = documents::Font::from_env_or_system()
            .unwrap_or_else(|e| panic!("{e} (run deploy/local/install-deps.sh)"));
        let pdf = documents::to_pdf(&notice().document().expect("document"), &font).expect("pdf");
        // The same notice gives the same bytes (its stored hash can be recomputed).
        let again = documents::to_pdf(&notice().document().expect("document"), &font).expect("pdf");
        assert_eq!(pdf, again);
        let dir = std::env::temp_dir().join(format!("notice-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("notice.pdf");
        std::fs::File::create(&path)
            .and_then(|mut f| f.write_all(&pdf))
            .expect("write");
        let out = Command::new("pdftotext")
            .args(["-layout"])
            .arg(&path)
            .arg("-")
            .output()
            .unwrap_or_else(|e| panic!("pdftotext: {e} (run deploy/local/install-deps.sh)"));
        let text = String::from_utf8_lossy(&out.stdout);
        for expected in [
            "催缴通知书",
            "物业管理费",
            "车位管理费",
            "1,280.00",
            "1,711.15",
        ] {
            assert!(
                text.contains(expected),
                "{expected} not in the PDF text:\n{text}"
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
