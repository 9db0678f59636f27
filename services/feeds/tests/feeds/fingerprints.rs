//! Fingerprints (issue item 5, R-P2): the same transaction in an intraday report and in the
//! end-of-day statement gets the same fingerprint; different transactions never share one.

use std::collections::HashSet;

use feeds::{ParseOptions, ParsedFile};

use crate::common::parse_flagged;

fn fingerprints(p: &ParsedFile) -> Vec<feeds::Fingerprint> {
    p.statements
        .iter()
        .flat_map(|s| &s.transactions)
        .map(|t| t.fingerprint)
        .collect()
}

#[test]
fn mt942_lines_match_the_later_mt940() {
    // mBank sent the same three collections in its 18:15 MT942 and in the day's MT940.
    let intraday = parse_flagged("wolph-mt940/mt940_tests/mBank/mt942.sta");
    let statement = parse_flagged("wolph-mt940/mt940_tests/mBank/mt940.sta");
    assert_eq!(
        intraday.statements[0].kind,
        feeds::StatementKind::IntradayReport
    );
    let a = fingerprints(&intraday);
    assert_eq!(a.len(), 3);
    assert_eq!(a, fingerprints(&statement));
}

#[test]
fn fingerprints_are_unique_within_files_and_stable() {
    for rel in [
        "betterplace-mt940_parser/test/fixtures/sepa_mt9401.txt",
        "mt940-rs/tests/data/mt940/full/danskebank/MT940_SE_Example.sta",
        "wolph-mt940/mt940_tests/self-provided/raphaelm.sta",
        "moov-bai2/test/testdata/sample1.txt",
        "double-entry-generator/example/boc/debit/example-boc-records.csv",
    ] {
        let first = fingerprints(&parse_flagged(rel));
        let unique: HashSet<&feeds::Fingerprint> = first.iter().collect();
        assert_eq!(unique.len(), first.len(), "{rel}: duplicate fingerprints");
        assert_eq!(
            first,
            fingerprints(&parse_flagged(rel)),
            "{rel}: not stable"
        );
    }
}

#[test]
fn identical_lines_in_one_file_are_separate_payments() {
    // raphaelm.sta books `:61:020322CM20000,00S051` four times in one statement.
    let p = parse_flagged("wolph-mt940/mt940_tests/self-provided/raphaelm.sta");
    let same: Vec<&feeds::Transaction> = p.statements[0]
        .transactions
        .iter()
        .filter(|t| {
            t.bank_transaction_code.as_deref() == Some("S051") && t.amount.to_string() == "20000.00"
        })
        .collect();
    assert_eq!(same.len(), 4);
    assert_eq!(
        same.iter()
            .map(|t| &t.fingerprint)
            .collect::<HashSet<_>>()
            .len(),
        4
    );
}

#[test]
fn the_rule_is_pinned() {
    // Changing the rule changes stored fingerprints: bump fingerprint::VERSION and migrate.
    let p = parse_flagged("wolph-mt940/mt940_tests/mBank/mt940.sta");
    let tx = &p.statements[0].transactions[0];
    assert_eq!(
        feeds::fingerprint::basis(&p.statements[0].account, tx),
        "feeds-fp-v1\u{1f}PL29114010810000267002001002\u{1f}PLN\u{1f}0.01\u{1f}2017-01-19\u{1f}MB170119012058\u{1f}\u{1f}\u{1f}56114010810000267002001001\u{1f}PRZELEWSRODKOW"
    );
    assert_eq!(
        tx.fingerprint,
        feeds::fingerprint::compute(&p.statements[0].account, tx, 0)
    );
}

fn camt(kind: &str, entry_extra: &str, balances: &str) -> String {
    let (message, record) = match kind {
        "054" => ("BkToCstmrDbtCdtNtfctn", "Ntfctn"),
        _ => ("BkToCstmrStmt", "Stmt"),
    };
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.{kind}.001.08">
 <{message}><GrpHdr><MsgId>M1</MsgId><CreDtTm>2025-03-03T18:00:00</CreDtTm></GrpHdr>
  <{record}><Id>R1</Id><Acct><Id><IBAN>CN00 0000 0000 0000 0001</IBAN></Id><Ccy>CNY</Ccy></Acct>
   {balances}
   <Ntry><Amt Ccy="CNY">12500.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>{entry_extra}
    <ValDt><Dt>2025-03-03</Dt></ValDt><AcctSvcrRef>BANKREF-7781</AcctSvcrRef>
    <NtryDtls><TxDtls><Refs><EndToEndId>HT-2025-0117</EndToEndId></Refs>
     <RltdPties><Dbtr><Pty><Nm>张三</Nm></Pty></Dbtr><DbtrAcct><Id><Othr><Id>6222000011112222</Id></Othr></Id></DbtrAcct></RltdPties>
     <RmtInf><Ustrd>合同 HT-2025-0117 首付款</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
  </{record}></{message}></Document>"#
    )
}

#[test]
fn camt054_notification_matches_the_camt053_statement() {
    let balance = |code: &str, amount: &str| {
        format!(
            r#"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy="CNY">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2025-03-03</Dt></Dt></Bal>"#
        )
    };
    // The notification has no booking date; the statement does, plus balances.
    let notification = camt("054", "", "");
    let statement = camt(
        "053",
        "<BookgDt><Dt>2025-03-03</Dt></BookgDt>",
        &(balance("OPBD", "100.00") + &balance("CLBD", "12600.00")),
    );
    let o = ParseOptions::default();
    let n = feeds::parse_file("n.xml", notification.as_bytes(), None, &o)
        .unwrap_or_else(|e| panic!("{e}"));
    let s = feeds::parse_file("s.xml", statement.as_bytes(), None, &o)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        n.is_clean() && s.is_clean(),
        "{:?} {:?}",
        n.errors,
        s.errors
    );
    assert_eq!(s.statements[0].balance_check, feeds::BalanceCheck::Balanced);
    assert_eq!(fingerprints(&n), fingerprints(&s));
    let tx = &s.statements[0].transactions[0];
    assert_eq!(tx.counterparty_name.as_deref(), Some("张三"));
    assert_eq!(tx.end_to_end_id.as_deref(), Some("HT-2025-0117"));
    // A different payment (another end-to-end id) on the same day and amount differs.
    let other =
        camt("054", "", "").replace("HT-2025-0117</EndToEndId>", "HT-2025-0118</EndToEndId>");
    let m =
        feeds::parse_file("m.xml", other.as_bytes(), None, &o).unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(fingerprints(&m), fingerprints(&n));
}
