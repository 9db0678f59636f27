//! `double-entry-generator/example/**`: Chinese and Hong Kong bank exports with the
//! beancount files the upstream tool wrote from them (converted by `convert.py`). Every
//! beancount transaction must be one of ours: same date, signed amount on the bank account,
//! currency, and its narration among our texts. Ours that are missing there were dropped by
//! an `ignore` rule in the sample's `config.yaml` (listed below).

use feeds::Transaction;

use crate::common::{Diffs, dec, expected, files, parse_flagged};

/// Every text of the transaction, to look the beancount narration up in.
fn texts(tx: &Transaction) -> String {
    [
        tx.description.as_deref(),
        tx.remittance_information.as_deref(),
        tx.counterparty_name.as_deref(),
        tx.bank_transaction_code.as_deref(),
    ]
    .into_iter()
    .flatten()
    .chain(tx.extra.values().map(String::as_str))
    .collect::<Vec<_>>()
    .join(" | ")
}

/// The narration is assembled from several columns (joined by spaces or " - "): each part
/// must be one of our texts.
fn narration_found(narration: &str, tx: &Transaction) -> bool {
    let all = texts(tx);
    narration
        .split(" - ")
        .flat_map(|p| p.split(' '))
        .filter(|p| !p.is_empty())
        .all(|p| all.contains(p))
}

/// (sample, number of our transactions an `ignore` rule of config.yaml keeps out of the
/// beancount file, the rule).
const IGNORED: &[(&str, usize, &str)] = &[
    ("hsbchk/debit", 1, "peer TRIPLE Z: ignore"),
    ("hsbchk/credit", 0, ""),
    ("cmb/credit", 1, "item 财付通: ignore"),
    ("boc/debit", 9, "peer/item 支付宝,微信,钱袋宝,京东: ignore"),
    (
        "boc/credit",
        7,
        "peer/item 支付宝,微信,钱袋宝,京东 and item 曾三: ignore",
    ),
    ("icbc/credit", 5, "peer 财付通,支付宝: ignore"),
    (
        "icbc/debit-v1",
        4,
        "peer 财付通-,支付宝-; 蚂蚁基金赎回到银行; 自动还款 广东XX分行: ignore",
    ),
    (
        "icbc/debit-v2",
        4,
        "peer 财付通-,支付宝-; 蚂蚁基金赎回到银行; 自动还款 广东XX分行: ignore",
    ),
];

#[test]
fn chinese_bank_exports_match_beancount() {
    let mut d = Diffs::default();
    let outputs = files("double-entry-generator/example", ".beancount");
    for out in outputs {
        let dir = out
            .rsplit_once('/')
            .map(|(d, _)| d.to_string())
            .unwrap_or_default();
        let csvs: Vec<String> = files(&dir, ".csv");
        let Some(csv) = csvs.first() else {
            continue; // .xls samples: see the inventory test
        };
        let parsed = parse_flagged(csv);
        d.eq(format!("{csv}: rejected"), parsed.errors.len(), 0);
        let mut ours: Vec<&Transaction> = parsed
            .statements
            .iter()
            .flat_map(|s| &s.transactions)
            .collect();
        let e = expected(&out.replace(".beancount", ".json"));
        for (i, t) in e["transactions"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let date = t["date"].as_str().unwrap_or_default();
            let amount = dec(t["amount"].as_str().unwrap_or_default());
            let ccy = t["currency"].as_str().unwrap_or_default();
            let both_own = t["own_legs"].as_u64() == Some(2);
            let hit = ours.iter().position(|tx| {
                // The upstream tool uses the transaction date or the posting date by bank.
                [tx.value_date, tx.booking_date]
                    .iter()
                    .flatten()
                    .any(|x| x.to_string() == date)
                    && tx.currency == ccy
                    && (tx.amount == amount || (both_own && tx.amount == -amount))
            });
            match hit {
                Some(k) => {
                    let tx = ours.remove(k);
                    let narration = t["narration"].as_str().unwrap_or_default();
                    if !narration_found(narration, tx) {
                        d.0.push(format!(
                            "{csv} beancount #{i}: narration {narration:?} not in {:?}",
                            texts(tx)
                        ));
                    }
                }
                None => d.0.push(format!(
                    "{csv} beancount #{i}: no transaction {date} {amount} {ccy}"
                )),
            }
        }
        let sample = dir.trim_start_matches("double-entry-generator/example/");
        let ignored = IGNORED
            .iter()
            .find(|(s, _, _)| *s == sample)
            .map_or(0, |(_, n, _)| *n);
        if ours.len() != ignored {
            let left: Vec<String> = ours
                .iter()
                .map(|t| format!("{:?} {} {}", t.date(), t.amount, texts(t)))
                .collect();
            d.0.push(format!(
                "{csv}: {} of ours not in beancount (expected {ignored}): {left:#?}",
                ours.len()
            ));
        }
    }
    d.check(&[]);
}

#[test]
fn gbk_and_gb18030_exports_parse_the_same() {
    // Chinese banks often export GBK/GB18030: the same file re-encoded must read the same,
    // detected without naming the encoding.
    for rel in [
        "double-entry-generator/example/icbc/debit-v2/example-icbc-debit-v2-records.csv",
        "double-entry-generator/example/bocom_debit/example-bocom_debit-records.csv",
        "double-entry-generator/example/cmb/credit/example-cmb-records.csv",
    ] {
        let utf8 = crate::common::read(rel);
        let text = String::from_utf8(utf8.clone()).unwrap_or_default();
        let (gbk, _, lossy) = encoding_rs::GBK.encode(&text);
        assert!(!lossy, "{rel} is not representable in GBK");
        let options = crate::common::flag_options();
        let a = feeds::parse_file(rel, &utf8, None, &options).unwrap_or_else(|e| panic!("{e}"));
        let b = feeds::parse_file(rel, &gbk, None, &options).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(b.encoding, "gb18030");
        assert_eq!(a.format, b.format);
        let strip = |p: &feeds::ParsedFile| -> Vec<(String, Option<String>, Option<String>)> {
            p.statements
                .iter()
                .flat_map(|s| &s.transactions)
                .map(|t| {
                    (
                        t.amount.to_string(),
                        t.remittance_information.clone(),
                        t.counterparty_name.clone(),
                    )
                })
                .collect()
        };
        assert_eq!(strip(&a), strip(&b), "{rel}");
        assert_eq!(
            a.statements
                .iter()
                .flat_map(|s| &s.transactions)
                .map(|t| &t.fingerprint)
                .collect::<Vec<_>>(),
            b.statements
                .iter()
                .flat_map(|s| &s.transactions)
                .map(|t| &t.fingerprint)
                .collect::<Vec<_>>()
        );
    }
}
