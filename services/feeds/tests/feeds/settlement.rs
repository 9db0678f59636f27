//! Settlement reports (R-P1, R-P7): WeChat Pay and Alipay merchant bills and a POS acquirer's
//! settlement detail, from the invented samples in `tests/data/settlement` (written by its
//! `make_samples.py`, UTF-8 with BOM and GB18030): channel, batch, gross/fee/net per line and
//! in sum, refunds, errors that name line and field, detection, and generated rows.

use std::path::Path;

use feeds::{
    ErrorKind, FeedError, Format, ParseOptions, ParsedFile, SettlementChannel, StatementKind,
    Transaction,
};
use proptest::prelude::*;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::common::dec;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/settlement");

fn sample(name: &str) -> Vec<u8> {
    let path = Path::new(DIR).join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn parse(name: &str, bytes: &[u8]) -> ParsedFile {
    feeds::parse_file(name, bytes, None, &ParseOptions::default())
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn transactions(p: &ParsedFile) -> Vec<&Transaction> {
    p.statements.iter().flat_map(|s| &s.transactions).collect()
}

/// Both encodings of a sample, detected, clean, one settlement statement; every line keeps
/// amount = gross and gross − fee = net.
fn both(stem: &str, profile: &str, channel: SettlementChannel) -> [ParsedFile; 2] {
    [("UTF-8", ".csv"), ("gb18030", ".gb18030.csv")].map(|(encoding, ext)| {
        let name = format!("{stem}{ext}");
        let p = parse(&name, &sample(&name));
        assert_eq!(p.format, Format::Csv(profile.into()), "{name}");
        assert_eq!(p.encoding, encoding, "{name}");
        assert!(p.is_clean(), "{name}: {:#?}", p.errors);
        assert_eq!(p.statements.len(), 1, "{name}");
        assert_eq!(p.statements[0].kind, StatementKind::Settlement);
        assert!(p.statements[0].opening_balance.is_none());
        for tx in transactions(&p) {
            let s = tx.settlement.as_ref().unwrap_or_else(|| panic!("{name}"));
            assert_eq!(s.channel, channel);
            assert_eq!(s.gross, tx.amount, "{name}:{}", tx.source.line);
            assert_eq!(s.gross - s.fee, s.net, "{name}:{}", tx.source.line);
            assert_eq!(s.net.scale(), 2, "{name}:{}", tx.source.line);
        }
        p
    })
}

/// (sum gross, sum fee, sum net) of the file.
fn sums(p: &ParsedFile) -> (Decimal, Decimal, Decimal) {
    transactions(p)
        .iter()
        .filter_map(|t| t.settlement.as_ref())
        .fold(Default::default(), |(g, f, n), s| {
            (g + s.gross, f + s.fee, n + s.net)
        })
}

fn fen(amount: Decimal, rate: &str) -> Decimal {
    (amount * dec(rate)).round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

#[test]
fn pos_batch_of_thirty_card_payments() {
    let [utf8, gb] = both("pos", "pos", SettlementChannel::Pos);
    let txs = transactions(&utf8);
    assert_eq!(txs.len(), 30);
    assert_eq!(utf8.statements[0].account, "898440100000001");
    for tx in &txs {
        let s = tx.settlement.as_ref().unwrap_or_else(|| panic!());
        assert_eq!(s.batch, "000123");
        assert_eq!(
            s.settled_on.map(|d| d.to_string()).as_deref(),
            Some("2026-12-02")
        );
        assert_eq!(
            tx.booking_date.map(|d| d.to_string()).as_deref(),
            Some("2026-12-01")
        );
        // Fees are the acquirer's rates rounded to the fen: credit 0.6 %, debit 0.38 %.
        let card = tx.counterparty_account.as_deref().unwrap_or_default();
        assert!(card.contains("******"), "card number not masked: {card}");
        let rate = if card.starts_with("625807") {
            "0.006"
        } else {
            "0.0038"
        };
        assert_eq!(s.fee, fen(s.gross, rate), "line {}", tx.source.line);
        let contract = tx.payment_reference.as_deref().unwrap_or_default();
        assert!(contract.starts_with("HT-2026-0"), "line {}", tx.source.line);
        assert!(tx.bank_reference.is_some());
    }
    // Line 6 names the contract in the remark only, line 7 in the order number.
    assert_eq!(
        txs[0].payment_reference.as_deref(),
        Some("HT-2026-0101 首付款")
    );
    assert_eq!(txs[1].payment_reference.as_deref(), Some("HT-2026-0102"));
    let (gross, fee, net) = sums(&utf8);
    assert_eq!(
        (gross, fee, net),
        (dec("885212.68"), dec("4363.55"), dec("880849.13"))
    );
    assert_eq!(gross - fee, net);
    assert_eq!(sums(&gb), sums(&utf8));
    let prints = |p: &ParsedFile| -> Vec<String> {
        transactions(p)
            .iter()
            .map(|t| t.fingerprint.to_string())
            .collect()
    };
    assert_eq!(prints(&gb), prints(&utf8));
}

#[test]
fn wechat_pay_bill_with_refund_and_totals() {
    let [utf8, gb] = both("wechatpay", "wechatpay", SettlementChannel::WeChatPay);
    let txs = transactions(&utf8);
    assert_eq!(txs.len(), 7);
    assert_eq!(utf8.statements[0].account, "1900000101");
    let batches: Vec<&str> = txs
        .iter()
        .filter_map(|t| t.settlement.as_ref().map(|s| s.batch.as_str()))
        .collect();
    assert_eq!(
        batches,
        [
            "1900000101-20261201",
            "1900000101-20261201",
            "1900000101-20261202",
            "1900000101-20261202",
            "1900000101-20261202",
            "1900000101-20261203",
            "1900000101-20261203",
        ]
    );
    let first = txs[0];
    assert_eq!(first.amount, dec("5000.00"));
    assert_eq!(first.settlement.as_ref().map(|s| s.fee), Some(dec("30.00")));
    assert_eq!(first.payment_reference.as_deref(), Some("HT-2026-0201"));
    assert_eq!(
        first.bank_reference.as_deref(),
        Some("4200000000202612010001234567")
    );
    // No 商户数据包 on the second: the merchant order number is the reference.
    assert_eq!(txs[1].payment_reference.as_deref(), Some("WX20261201001"));
    // WeChat only has the payer's openid: no name, the id kept as an extra field.
    assert!(txs.iter().all(|t| t.counterparty_name.is_none()));
    assert!(first.extra.contains_key("用户标识"));
    let refund = txs[6];
    assert_eq!(refund.amount, dec("-800.00"));
    let s = refund.settlement.as_ref().unwrap_or_else(|| panic!());
    assert_eq!((s.fee, s.net), (dec("-4.80"), dec("-795.20")));
    assert_eq!(s.settled_on, None);
    let (gross, fee, net) = sums(&utf8);
    assert_eq!(
        (gross, fee, net),
        (dec("47547.16"), dec("285.28"), dec("47261.88"))
    );
    assert_eq!(sums(&gb), sums(&utf8));
}

#[test]
fn alipay_bill_with_refund() {
    let [utf8, gb] = both("alipay", "alipay", SettlementChannel::Alipay);
    let txs = transactions(&utf8);
    assert_eq!(txs.len(), 7);
    assert_eq!(utf8.statements[0].account, "20880000000000000001");
    let first = txs[0];
    let s = first.settlement.as_ref().unwrap_or_else(|| panic!());
    assert_eq!(s.batch, "20880000000000000001-20261201");
    // Alipay writes the fee it charges negative: read as a positive fee.
    assert_eq!(
        (s.gross, s.fee, s.net),
        (dec("5000.00"), dec("30.00"), dec("4970.00"))
    );
    assert_eq!(
        first.counterparty_name.as_deref(),
        Some("张*明(138****5678)")
    );
    assert_eq!(first.payment_reference.as_deref(), Some("ALI20261201000"));
    assert_eq!(txs[1].payment_reference.as_deref(), Some("HT-2026-0202"));
    let refund = txs[6];
    let s = refund.settlement.as_ref().unwrap_or_else(|| panic!());
    assert_eq!(
        (s.gross, s.fee, s.net),
        (dec("-800.00"), dec("-4.80"), dec("-795.20"))
    );
    assert_eq!(s.batch, "20880000000000000001-20261203");
    assert_eq!(refund.bank_transaction_code.as_deref(), Some("退款"));
    let (gross, fee, net) = sums(&utf8);
    assert_eq!(
        (gross, fee, net),
        (dec("47547.16"), dec("285.28"), dec("47261.88"))
    );
    assert_eq!(sums(&gb), sums(&utf8));
}

/// The sample with line `line` (1-based) changed by `edit`.
fn edited(name: &str, line: usize, edit: impl Fn(&str) -> String) -> Vec<u8> {
    let text = String::from_utf8(sample(name)).unwrap_or_default();
    text.split("\r\n")
        .enumerate()
        .map(|(i, l)| {
            if i + 1 == line {
                edit(l)
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\r\n")
        .into_bytes()
}

/// The file's single error (the statement is rejected).
fn only_error(name: &str, bytes: &[u8]) -> FeedError {
    let p = parse(name, bytes);
    assert!(p.statements.is_empty(), "{name}: accepted");
    assert_eq!(p.errors.len(), 1, "{name}: {:#?}", p.errors);
    p.errors[0].clone()
}

/// Replace cell `index` (0-based) of a CSV line.
fn cell(index: usize, value: &'static str) -> impl Fn(&str) -> String {
    move |l: &str| {
        let mut cells: Vec<String> = l.split(',').map(str::to_string).collect();
        cells[index] = value.to_string();
        cells.join(",")
    }
}

#[test]
fn bad_lines_name_line_and_field() {
    // POS line 10: 清算金额 (column 13) no longer gross − fee.
    let e = only_error("pos.csv", &edited("pos.csv", 10, cell(13, "1.00")));
    assert_eq!(e.kind, ErrorKind::ControlTotalMismatch);
    assert_eq!((e.line(), e.field.as_str()), (Some(10), "column 清算金额"));
    assert_eq!(e.found, "1.00");
    let text = e.to_string();
    assert_eq!(
        text,
        "pos.csv:10 [statement 1]: column 清算金额: expected gross − fee = 31331.32 − 119.06 \
         = 31212.26, found \"1.00\""
    );
    // Bad and missing fee.
    let e = only_error("pos.csv", &edited("pos.csv", 12, cell(12, "0.3x")));
    assert_eq!(e.kind, ErrorKind::InvalidAmount);
    assert_eq!(
        (e.line(), e.field.as_str(), e.found.as_str()),
        (Some(12), "column 手续费", "0.3x")
    );
    let e = only_error("pos.csv", &edited("pos.csv", 12, cell(12, "")));
    assert_eq!(e.kind, ErrorKind::MissingField);
    assert_eq!((e.line(), e.field.as_str()), (Some(12), "column 手续费"));
    // Missing batch number.
    let e = only_error("pos.csv", &edited("pos.csv", 20, cell(4, "")));
    assert_eq!(e.kind, ErrorKind::MissingField);
    assert_eq!((e.line(), e.field.as_str()), (Some(20), "column 批次号"));
    // WeChat fee cell that is not a number (with its text mark).
    let e = only_error(
        "wechatpay.csv",
        &edited("wechatpay.csv", 3, cell(22, "`abc")),
    );
    assert_eq!(
        (e.kind, e.line(), e.field.as_str()),
        (ErrorKind::InvalidAmount, Some(3), "column 手续费")
    );
    // WeChat totals that disagree with the rows: line 10 holds the figures.
    let e = only_error(
        "wechatpay.csv",
        &edited("wechatpay.csv", 10, cell(4, "`285.29")),
    );
    assert_eq!(e.kind, ErrorKind::ControlTotalMismatch);
    assert_eq!(
        (e.line(), e.field.as_str(), e.found.as_str()),
        (Some(10), "column 手续费总金额", "285.29")
    );
    assert!(e.expected.starts_with("285.28"), "{}", e.expected);
    // A good file stays clean after the bad one: nothing is shared between parses.
    assert!(parse("pos.csv", &sample("pos.csv")).is_clean());
}

#[test]
fn detection_picks_the_settlement_profiles() {
    for (file, profile) in [
        ("pos.csv", "pos"),
        ("pos.gb18030.csv", "pos"),
        ("wechatpay.csv", "wechatpay"),
        ("wechatpay.gb18030.csv", "wechatpay"),
        ("alipay.csv", "alipay"),
        ("alipay.gb18030.csv", "alipay"),
    ] {
        let format = feeds::detect_format(&sample(file), &ParseOptions::default())
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(format, Format::Csv(profile.into()), "{file}");
    }
    let names: Vec<String> = feeds::CsvProfile::builtin()
        .into_iter()
        .map(|p| p.name)
        .collect();
    for name in ["wechatpay", "alipay", "pos"] {
        assert!(names.iter().any(|n| n == name), "{name} not built in");
    }
}

#[test]
fn settlement_serialises_with_the_transaction() {
    let p = parse("pos.csv", &sample("pos.csv"));
    let json: serde_json::Value =
        serde_json::from_str(&p.to_json_pretty()).unwrap_or_else(|e| panic!("{e}"));
    let st = &json["statements"][0];
    assert_eq!(st["kind"], "settlement");
    let s = &st["transactions"][0]["settlement"];
    assert_eq!(s["channel"], "pos");
    assert_eq!(s["batch"], "000123");
    assert_eq!(s["gross"], "49651.88");
    assert_eq!(s["fee"], "297.91");
    assert_eq!(s["net"], "49353.97");
    assert_eq!(s["settled_on"], "2026-12-02");
}

/// One generated POS row: amount in fen (negative: a return), fee in fen, batch, day.
fn pos_file(rows: &[(i64, i64, u16, u8)]) -> String {
    let mut text = String::from(
        "商户编号：898440100000009\r\n清算日期,交易日期,交易时间,终端号,批次号,凭证号,参考号,卡号,\
         卡类型,发卡行,交易类型,交易金额,手续费,清算金额,订单号,备注\r\n",
    );
    for (i, (gross, fee, batch, day)) in rows.iter().enumerate() {
        let (g, f) = (Decimal::new(*gross, 2), Decimal::new(*fee, 2));
        let kind = if *gross < 0 { "退货" } else { "消费" };
        text.push_str(&format!(
            "2026-12-{:02},2026-11-{:02},10:00:00,T1,{batch:06},{i:06},R{i},622848******0001,\
             借记卡,样本银行,{kind},{g},{f},{},HT-{i},\r\n",
            day + 1,
            day + 1,
            g - f
        ));
    }
    text
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn generated_rows_round_trip(rows in proptest::collection::vec(
        (-5_000_000i64..50_000_000, -30_000i64..30_000, 0u16..3, 0u8..28), 1..40)) {
        let text = pos_file(&rows);
        let p = feeds::parse_file("gen.csv", text.as_bytes(), Some(Format::Csv("pos".into())),
            &ParseOptions::default()).unwrap_or_else(|e| panic!("{e}"));
        prop_assert!(p.is_clean(), "{:#?}", p.errors);
        let txs = transactions(&p);
        prop_assert_eq!(txs.len(), rows.len());
        for (tx, (gross, fee, batch, day)) in txs.iter().zip(&rows) {
            let s = tx.settlement.as_ref().unwrap_or_else(|| panic!());
            prop_assert_eq!(s.gross, Decimal::new(*gross, 2));
            prop_assert_eq!(s.fee, Decimal::new(*fee, 2));
            prop_assert_eq!(s.net, s.gross - s.fee);
            prop_assert_eq!(tx.amount, s.gross);
            prop_assert_eq!(&s.batch, &format!("{batch:06}"));
            prop_assert_eq!(s.settled_on.map(|d| d.format("%d").to_string()),
                Some(format!("{:02}", day + 1)));
        }
        let (g, f, n) = sums(&p);
        prop_assert_eq!(g - f, n);
    }
}
