//! Bank formats through the payments service: an MT942 intraday report, the MT940 end-of-day
//! statement that repeats its transaction, and a camt.053 statement, all matched and
//! allocated as in the walking skeleton; the repeated transaction counts once (R-P2).

use devstack::clients::eventually;
use devstack::scenario::{self, open_amount};

use crate::helpers::{EVENTUALLY, OrLogs, start};

const MT942: &str = ":20:INTRA-E2E-1\r\n:25:621661000000008888\r\n:28C:1/1\r\n:34F:CNY0,\r\n\
:13D:2603161200+0800\r\n:61:2603160316C20000,00NTRFNONREF//B26031601\r\n:86:166?00GUTSCHRIFT?20HT-FEED-1/1?3088888888?316222020000001234?32ZHANG SAN\r\n\
:90D:0CNY0,\r\n:90C:1CNY20000,00\r\n-\r\n";

const MT940: &str = ":20:STMT-E2E-1\r\n:25:621661000000008888\r\n:28C:1/1\r\n:60F:C260315CNY0,00\r\n\
:61:2603160316C20000,00NTRFNONREF//B26031601\r\n:86:166?00GUTSCHRIFT?20HT-FEED-1/1?3088888888?316222020000001234?32ZHANG SAN\r\n\
:61:2603160316C10000,00NTRFNONREF//B26031602\r\n\
:86:166?00GUTSCHRIFT?20HT-FEED-1/2?3088888888?316222020000001234?32ZHANG SAN\r\n\
:61:2603160316D99,00NCHGNONREF//B26031603\r\n:86:BANK CHARGES\r\n:62F:C260316CNY29901,00\r\n-\r\n";

const CAMT053: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>CAMT-E2E-1</MsgId><CreDtTm>2026-03-17T18:00:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>STMT-CAMT-1</Id>
      <CreDtTm>2026-03-17T18:00:00</CreDtTm>
      <Acct><Id><Othr><Id>621661000000008888</Id></Othr></Id><Ccy>CNY</Ccy></Acct>
      <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="CNY">0.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-03-17</Dt></Dt></Bal>
      <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="CNY">5000.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-03-17</Dt></Dt></Bal>
      <Ntry>
        <Amt Ccy="CNY">5000.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
        <BookgDt><Dt>2026-03-17</Dt></BookgDt><ValDt><Dt>2026-03-17</Dt></ValDt>
        <AcctSvcrRef>CAMT-REF-1</AcctSvcrRef>
        <NtryDtls><TxDtls>
          <Refs><EndToEndId>E2E-CAMT-1</EndToEndId></Refs>
          <RltdPties><Dbtr><Nm>张三</Nm></Dbtr><DbtrAcct><Id><Othr><Id>6222020000001234</Id></Othr></Id></DbtrAcct></RltdPties>
          <RmtInf><Ustrd>HT-FEED-1/3</Ustrd></RmtInf>
        </TxDtls></NtryDtls>
      </Ntry>
    </Stmt>
  </BkToCstmrStmt>
</Document>
"#;

#[tokio::test(flavor = "multi_thread")]
async fn mt942_mt940_and_camt053_are_matched_and_allocated_once() {
    let (stack, mut clients) = start().await;
    // The customer pays from an account on file; MT940 names the payer in the structured
    // :86: fields (?31 account, ?32 name, in pinyin), camt.053 in <Dbtr>.
    let customer =
        scenario::create_customer_with_accounts(&mut clients, "张三", &["6222 0200 0000 1234"])
            .await
            .or_logs(&stack);
    let contract = scenario::create_contract(
        &mut clients,
        &customer,
        "HT-FEED-1",
        &[
            ("20000.00", "2026-03-10"),
            ("10000.00", "2026-04-10"),
            ("5000.00", "2026-05-10"),
        ],
    )
    .await
    .or_logs(&stack);

    // Intraday: installment 1, detected as MT942.
    let intraday = scenario::ingest(&mut clients, "intraday.sta", MT942.as_bytes().to_vec())
        .await
        .or_logs(&stack);
    assert_eq!(intraday.format, "mt942");
    assert_eq!(intraday.lines_accepted, 1);
    // End of day: the same transaction again (skipped), installment 2, and a debit (not a payment).
    let eod = scenario::ingest(&mut clients, "eod.sta", MT940.as_bytes().to_vec())
        .await
        .or_logs(&stack);
    assert_eq!(eod.format, "mt940");
    assert_eq!(
        (eod.lines_accepted, eod.lines_duplicate, eod.entries_skipped),
        (1, 1, 1)
    );
    // camt.053: installment 3, payer and remittance from the transaction details.
    let camt = scenario::ingest(&mut clients, "statement.xml", CAMT053.as_bytes().to_vec())
        .await
        .or_logs(&stack);
    assert_eq!((camt.format.as_str(), camt.lines_accepted), ("camt053", 1));
    // Matching may happen at once or, if payments has not yet seen the contract, when it
    // does (re-match); either way every installment ends up paid.

    let paid = eventually("all three installments paid", EVENTUALLY, || async {
        let mut c = clients.clone();
        let r = scenario::receivables(&mut c, &contract.contract_id).await?;
        Ok(r.iter().all(|r| open_amount(r) == "0.00").then_some(r))
    })
    .await
    .or_logs(&stack);
    assert_eq!(paid.len(), 3);
    let payments = scenario::all_payments(&clients).await.or_logs(&stack);
    assert_eq!(
        payments.len(),
        3,
        "the MT942 transaction repeated in the MT940 counts once"
    );
    assert!(payments.iter().any(|p| p.payer_name == "张三"));

    // A statement whose balances do not add up is rejected with the reason; nothing is booked.
    let broken = MT940
        .replace(":62F:C260316CNY29901,00", ":62F:C260316CNY29902,00")
        .replace("STMT-E2E-1", "STMT-E2E-2");
    let rejected = scenario::ingest(&mut clients, "broken.sta", broken.into_bytes())
        .await
        .or_logs(&stack);
    assert_eq!(rejected.lines_accepted, 0);
    assert_eq!(rejected.errors.len(), 1);
    assert!(
        rejected.errors[0].message.contains("broken.sta"),
        "{}",
        rejected.errors[0].message
    );
    assert_eq!(
        stack.stop(|_| {}),
        Vec::<String>::new(),
        "services that did not shut down gracefully"
    );
}
