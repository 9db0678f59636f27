//! Writing the generated lines as files the feeds crate reads: an ISO 20022 camt.053
//! statement and a Bank of China debit-card CSV export (built-in profile `boc_debit`), both
//! with balances that add up, so they pass the feeds crate's strict checks.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::scenario::{Account, Line};
use crate::fx::RateTable;
use crate::receivables::push_cell;

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

/// Lines grouped by (account, currency), each group in date order.
fn groups(lines: &[Line]) -> BTreeMap<(usize, &'static str), Vec<&Line>> {
    let mut g: BTreeMap<(usize, &'static str), Vec<&Line>> = BTreeMap::new();
    for l in lines {
        g.entry((l.account, l.currency)).or_default().push(l);
    }
    for v in g.values_mut() {
        v.sort_by(|a, b| (a.date, &a.key).cmp(&(b.date, &b.key)));
    }
    g
}

fn balance(out: &mut String, code: &str, amount: Decimal, currency: &str, date: NaiveDate) {
    let ind = if amount.is_sign_negative() {
        "DBIT"
    } else {
        "CRDT"
    };
    let _ = writeln!(
        out,
        "<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy=\"{currency}\">{:.2}</Amt><CdtDbtInd>{ind}</CdtDbtInd><Dt><Dt>{date}</Dt></Dt></Bal>",
        amount.abs()
    );
}

/// A camt.053.001.02 document with one `Stmt` per account and currency.
pub(super) fn camt053(
    lines: &[Line],
    accounts: &[Account],
    start: NaiveDate,
    seed: u64,
) -> Vec<u8> {
    let mut out = String::with_capacity(lines.len() * 900 + 1024);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\">\n<BkToCstmrStmt>\n");
    let _ = writeln!(
        out,
        "<GrpHdr><MsgId>CASHAPP-GEN-{seed}</MsgId><CreDtTm>{start}T00:00:00</CreDtTm></GrpHdr>"
    );
    for (n, ((account, currency), group)) in groups(lines).into_iter().enumerate() {
        let Some(acct) = accounts.get(account) else {
            continue;
        };
        let opening = if currency == "CNY" {
            acct.opening
        } else {
            Decimal::ZERO
        };
        let closing = opening + group.iter().map(|l| l.amount).sum::<Decimal>();
        let first = group.first().map_or(start, |l| l.date);
        let last = group.last().map_or(start, |l| l.date);
        let _ = writeln!(
            out,
            "<Stmt><Id>STMT-{}</Id><ElctrncSeqNb>{}</ElctrncSeqNb><CreDtTm>{last}T23:59:59</CreDtTm><Acct><Id><Othr><Id>{}</Id></Othr></Id><Ccy>{currency}</Ccy></Acct>",
            n + 1,
            n + 1,
            xml_escape(&acct.number)
        );
        balance(&mut out, "OPBD", opening, currency, first);
        balance(&mut out, "CLBD", closing, currency, last);
        for l in group {
            entry(&mut out, l);
        }
        out.push_str("</Stmt>\n");
    }
    out.push_str("</BkToCstmrStmt>\n</Document>\n");
    out.into_bytes()
}

fn entry(out: &mut String, l: &Line) {
    let credit = l.amount > Decimal::ZERO;
    let (ind, party, acct, family) = if credit {
        ("CRDT", "Dbtr", "DbtrAcct", "RCDT")
    } else {
        ("DBIT", "Cdtr", "CdtrAcct", "ICDT")
    };
    let _ = write!(
        out,
        "<Ntry><Amt Ccy=\"{}\">{:.2}</Amt><CdtDbtInd>{ind}</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>{}</Dt></BookgDt><ValDt><Dt>{}</Dt></ValDt><AcctSvcrRef>{}</AcctSvcrRef><BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>{family}</Cd><SubFmlyCd>DMCT</SubFmlyCd></Fmly></Domn></BkTxCd><NtryDtls><TxDtls><Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs><RltdPties>",
        l.currency,
        l.amount.abs(),
        l.date,
        l.date,
        l.key
    );
    if let Some(name) = &l.payer_name {
        let _ = write!(out, "<{party}><Nm>{}</Nm></{party}>", xml_escape(name));
    }
    if let Some(a) = &l.payer_account {
        let _ = write!(
            out,
            "<{acct}><Id><Othr><Id>{}</Id></Othr></Id></{acct}>",
            xml_escape(a)
        );
    }
    out.push_str("</RltdPties>");
    if let Some(r) = &l.remittance {
        let _ = write!(out, "<RmtInf><Ustrd>{}</Ustrd></RmtInf>", xml_escape(r));
    }
    out.push_str("</TxDtls></NtryDtls></Ntry>\n");
}

/// Columns of the `boc_debit` export written here.
const BOC_HEADER: &[&str] = &[
    "借记卡号",
    "记账日期",
    "记账时间",
    "币别",
    "金额",
    "余额",
    "交易名称",
    "对方账户名",
    "对方卡号/账号",
    "对方开户行",
    "附言",
    "渠道",
    "网点名称",
];

/// The lines as a `boc_debit` CSV export; also the line of each key.
pub(super) fn boc_csv(lines: &[Line], accounts: &[Account]) -> (Vec<u8>, HashMap<String, u32>) {
    let mut out = String::with_capacity(lines.len() * 200);
    out.push_str(&BOC_HEADER.join(","));
    out.push('\n');
    let mut at = HashMap::with_capacity(lines.len());
    let mut line_no = 1u32;
    for ((account, currency), group) in groups(lines) {
        let Some(acct) = accounts.get(account) else {
            continue;
        };
        let mut balance = if currency == "CNY" {
            acct.opening
        } else {
            Decimal::ZERO
        };
        let ccy_name = match currency {
            "CNY" => "人民币",
            "HKD" => "港币",
            other => other,
        };
        for (n, l) in group.iter().enumerate() {
            balance += l.amount;
            line_no += 1;
            at.insert(l.key.clone(), line_no);
            let time = format!("{:02}:{:02}:{:02}", 8 + n % 10, n % 60, (n * 7) % 60);
            let kind = if l.amount > Decimal::ZERO {
                "转账存入"
            } else {
                "转账支取"
            };
            let cells = [
                acct.number.clone(),
                l.date.to_string(),
                time,
                ccy_name.to_string(),
                format!("{:.2}", l.amount),
                format!("{balance:.2}"),
                kind.to_string(),
                l.payer_name.clone().unwrap_or_else(|| "-".into()),
                l.payer_account.clone().unwrap_or_else(|| "-".into()),
                "-".to_string(),
                l.remittance.clone().unwrap_or_else(|| "-".into()),
                "网上银行".to_string(),
                "-".to_string(),
            ];
            for (i, c) in cells.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_cell(&mut out, c);
            }
            out.push('\n');
        }
    }
    (out.into_bytes(), at)
}

/// The rates as CSV (`date,from,to,rate`).
pub(super) fn rates_csv(rates: &RateTable) -> Vec<u8> {
    let mut out = String::from("date,from,to,rate\n");
    for (date, from, to, rate) in rates.entries() {
        let _ = writeln!(out, "{date},{from},{to},{rate}");
    }
    out.into_bytes()
}
