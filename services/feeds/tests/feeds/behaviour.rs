//! Behaviour required by the issue beyond the samples: error messages, strict versus flag
//! mode, a bad statement not hiding good ones, format names, JSON output.

use feeds::{BalanceCheck, CheckMode, ErrorKind, Format, ParseOptions};

const GOOD: &str = ":20:GOOD\r\n:25:NL81ASNB9999999999\r\n:28C:1/1\r\n:60F:C200101EUR100,00\r\n:61:2001010101C25,50NTRFNONREF//B1\r\n:86:/EREF/E2E-1/NAME/ACME BV/REMI/Invoice 42\r\n:62F:C200101EUR125,50\r\n-\r\n";
const BAD_AMOUNT: &str = ":20:BAD\r\n:25:NL81ASNB9999999999\r\n:28C:2/1\r\n:60F:C200102EUR125,50\r\n:61:2001020102D12.50NTRFNONREF\r\n:62F:C200102EUR113,00\r\n-\r\n";
const UNBALANCED: &str = ":20:OFF\r\n:25:NL81ASNB9999999999\r\n:28C:3/1\r\n:60F:C200103EUR113,00\r\n:61:2001030103D10,00NTRFNONREF\r\n:62F:C200103EUR100,00\r\n-\r\n";

fn file() -> String {
    [GOOD, BAD_AMOUNT, UNBALANCED].concat()
}

#[test]
fn a_bad_statement_never_hides_the_good_ones() {
    let p = feeds::parse_file("day.sta", file().as_bytes(), None, &ParseOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(p.statements.len(), 1);
    assert_eq!(p.statements[0].id.as_deref(), Some("GOOD"));
    assert_eq!(p.statements[0].balance_check, BalanceCheck::Balanced);
    assert_eq!(p.errors.len(), 2);
    assert!(!p.is_clean());
}

#[test]
fn errors_name_file_line_field_and_expectation() {
    let p = feeds::parse_file("day.sta", file().as_bytes(), None, &ParseOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let messages: Vec<String> = p.errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        vec![
            "day.sta:13 [statement 2]: :61: amount: expected digits with one decimal comma, like 1234,56, found \"12.50NTRFNONREF\"",
            "day.sta:21 [statement 3]: closing balance: expected opening balance 113.00 EUR + booked transactions -10.00 = 103.00 EUR, found \"100.00 EUR\"",
        ]
    );
    assert_eq!(p.errors[0].kind, ErrorKind::InvalidAmount);
    assert_eq!(p.errors[1].kind, ErrorKind::BalanceMismatch);
    // XML errors carry the element path.
    let xml = br#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt><Id>S</Id><Acct><Id><IBAN>X</IBAN></Id><Ccy>EUR</Ccy></Acct><Ntry><Amt Ccy="EUR">1,00</Amt><CdtDbtInd>CRDT</CdtDbtInd></Ntry></Stmt></BkToCstmrStmt></Document>"#;
    let p = feeds::parse_file("s.xml", xml, None, &ParseOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        p.errors[0].to_string(),
        "s.xml:1 (/Document/BkToCstmrStmt/Stmt[1]/Ntry[1]/Amt) [statement 1]: Ntry/Amt: expected a decimal amount like 1234.56 with a Ccy attribute, found \"1,00\""
    );
}

#[test]
fn flag_mode_keeps_checked_statements_for_review() {
    let options = ParseOptions {
        mode: CheckMode::Flag,
        ..ParseOptions::default()
    };
    let p = feeds::parse_file("day.sta", file().as_bytes(), None, &options)
        .unwrap_or_else(|e| panic!("{e}"));
    // The unbalanced statement is kept with its flag; the unreadable amount still rejects.
    assert_eq!(p.statements.len(), 2);
    let off = &p.statements[1];
    assert_eq!(off.flags.len(), 1);
    assert!(matches!(off.balance_check, BalanceCheck::Mismatch { .. }));
    assert_eq!(p.errors.len(), 1);
}

#[test]
fn format_names() {
    for name in [
        "mt940",
        "mt942",
        "camt052",
        "camt053",
        "camt054",
        "bai2",
        "csv:icbc_debit",
    ] {
        let f: Format = name.parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(f.to_string(), name);
    }
    assert_eq!("camt.053".parse::<Format>().ok(), Some(Format::Camt053));
    assert!("csv:".parse::<Format>().is_err());
    assert!("pdf".parse::<Format>().is_err());
}

#[test]
fn json_output_has_decimal_strings() {
    let p = feeds::parse_file("day.sta", GOOD.as_bytes(), None, &ParseOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let v: serde_json::Value = serde_json::from_str(&p.to_json_pretty()).unwrap_or_default();
    assert_eq!(v["format"], "mt940");
    assert_eq!(v["statements"][0]["opening_balance"]["amount"], "100.00");
    assert_eq!(v["statements"][0]["transactions"][0]["amount"], "25.50");
    assert_eq!(
        v["statements"][0]["transactions"][0]["counterparty_name"],
        "ACME BV"
    );
    assert_eq!(v["statements"][0]["balance_check"]["status"], "balanced");
}

#[test]
fn unknown_or_unsupported_files_are_clear_errors() {
    let e = feeds::parse_file(
        "x.xls",
        b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1rest",
        None,
        &ParseOptions::default(),
    )
    .err();
    assert!(e.is_some_and(
        |e| e.kind == ErrorKind::Unsupported && e.to_string().contains("save it as CSV")
    ));
    let e = feeds::parse_file("x.txt", b"hello world", None, &ParseOptions::default()).err();
    assert!(e.is_some_and(|e| e.kind == ErrorKind::UnknownFormat));
    let e = feeds::parse_file(
        "x.csv",
        b"a,b\n1,2\n",
        Some(Format::Csv("nope".into())),
        &ParseOptions::default(),
    )
    .err();
    assert!(e.is_some_and(|e| e.to_string().contains("icbc_debit")));
    let e = feeds::parse_file("x.sta", b"", None, &ParseOptions::default()).err();
    assert!(e.is_some_and(|e| e.kind == ErrorKind::Empty));
}

#[test]
fn operator_profiles_are_data() {
    let json = r#"{
        "name": "demo_bank",
        "header": ["日期", "金额", "摘要"],
        "booking_date": { "column": "日期", "formats": ["%Y-%m-%d"] },
        "amount": { "column": "金额" },
        "remittance": ["摘要"]
    }"#;
    let profile = feeds::CsvProfile::from_json(json).unwrap_or_else(|e| panic!("{e}"));
    let options = ParseOptions {
        csv_profiles: vec![profile],
        account: Some("6222-0001".into()),
        ..ParseOptions::default()
    };
    let csv = "日期,金额,摘要\n2025-03-01,\"1,250.00\",合同HT-1 首付款\n";
    let p = feeds::parse_file("demo.csv", csv.as_bytes(), None, &options)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(p.format, Format::Csv("demo_bank".into()));
    let st = &p.statements[0];
    assert_eq!(
        (st.account.as_str(), st.currency.as_str()),
        ("6222-0001", "CNY")
    );
    assert_eq!(st.transactions[0].amount.to_string(), "1250.00");
}

/// Issue 11 item 5: Rabobank wraps `:86:` so that a continuation line begins with `-`; the
/// statement goes on (its closing balance and the remittance text are read), and a balance
/// written with `.` as the decimal separator is read too.
#[test]
fn a_dash_at_the_start_of_an_86_continuation_does_not_end_the_statement() {
    let src = ":20:RABO\r\n:25:NL81RABO0123456789\r\n:28C:1/1\r\n:60F:C200101EUR100,00\r\n\
:61:2001010101C25,50NTRFNONREF//B1\r\n:86:/EREF/E2E-1/ORDP//NAME/JANSEN\r\n-/REMI/USTD//Invoice 42\r\n\
:62F:C200101EUR125,50\r\n-\r\n";
    let p = feeds::parse_file("rabo.sta", src.as_bytes(), None, &ParseOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(p.is_clean(), "{:?}", p.errors);
    assert_eq!(p.statements.len(), 1);
    let st = &p.statements[0];
    assert_eq!(st.balance_check, BalanceCheck::Balanced);
    assert_eq!(st.transactions.len(), 1);
    let text = format!("{:?}", st.transactions[0]);
    assert!(text.contains("Invoice 42"), "{text}");
    let dotted = src.replace(":62F:C200101EUR125,50", ":62F:C200101EUR125.50");
    let p = feeds::parse_file(
        "rabo.sta",
        dotted.as_bytes(),
        None,
        &ParseOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(p.is_clean(), "{:?}", p.errors);
}
