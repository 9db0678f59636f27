//! R-O4: no account number in clear anywhere. A scenario sends account numbers in through
//! every door (customers' payer accounts and a contract's escrow account over gRPC,
//! AddPayerAccount, bank files in three formats, an unknown payer account that raises an
//! exception, a wrong receiving account (R-P6), a dead letter), lets the events flow, then
//! scans every message of every topic, every text, jsonb, array and bytea column of every
//! service's schema, and every service's log file for each whole account number, as written
//! and as digits only.

use std::time::Duration;

use prost::Message as _;
use rdkafka::Message as _;
use rdkafka::consumer::Consumer;
use rdkafka::message::Headers as _;
use rdkafka::{Offset, TopicPartitionList};

use devstack::clients::eventually;
use devstack::scenario::{self, ESCROW_ACCOUNT, bank_csv, open_amount};
use proto::contracts::v1 as contracts;
use proto::events::v1 as events;
use proto::payments::v1 as payments;

use crate::helpers::{EVENTUALLY, OrLogs, publish, start};

/// On file when the customer is created.
const ON_FILE: [&str; 2] = ["6222 0213 5700 0101", "6222-0213-5700-0202"];
/// Put on file later with AddPayerAccount.
const ADDED: &str = "6222 0213 5700 0303";
/// Not on file: its payment is an exception.
const UNKNOWN: &str = "6222 0213 5700 0909";
/// Not the contract's escrow account (R-P6).
const WRONG_RECEIVING: &str = "6216 6100 0000 0077 77";

const MT940: &str = ":20:STMT-PII-1\r\n:25:621661000000008888\r\n:28C:1/1\r\n:60F:C260315CNY0,00\r\n\
:61:2603160316C700,00NTRFNONREF//B26031611\r\n:86:166?00GUTSCHRIFT?20HT-PII-1/2?3088888888?316222021357000202?32ZHANG SAN\r\n\
:62F:C260316CNY700,00\r\n-\r\n";

const CAMT053: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>CAMT-PII-1</MsgId><CreDtTm>2026-03-17T18:00:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>STMT-PII-1</Id>
      <CreDtTm>2026-03-17T18:00:00</CreDtTm>
      <Acct><Id><Othr><Id>621661000000008888</Id></Othr></Id><Ccy>CNY</Ccy></Acct>
      <Ntry>
        <Amt Ccy="CNY">700.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
        <BookgDt><Dt>2026-03-17</Dt></BookgDt><ValDt><Dt>2026-03-17</Dt></ValDt>
        <AcctSvcrRef>CAMT-PII-REF-1</AcctSvcrRef>
        <NtryDtls><TxDtls>
          <Refs><EndToEndId>E2E-PII-1</EndToEndId></Refs>
          <RltdPties><Dbtr><Nm>张三</Nm></Dbtr><DbtrAcct><Id><Othr><Id>6222021357000303</Id></Othr></Id></DbtrAcct></RltdPties>
          <RmtInf><Ustrd>HT-PII-1/3</Ustrd></RmtInf>
        </TxDtls></NtryDtls>
      </Ntry>
    </Stmt>
  </BkToCstmrStmt>
</Document>
"#;

/// Every account number of the scenario, as written and as digits only.
fn needles() -> Vec<String> {
    let mut all: Vec<&str> = ON_FILE.to_vec();
    all.extend([ADDED, UNKNOWN, WRONG_RECEIVING, ESCROW_ACCOUNT]);
    let mut needles = Vec::new();
    for account in all {
        needles.push(account.to_owned());
        needles.push(account.chars().filter(char::is_ascii_digit).collect());
    }
    needles.sort();
    needles.dedup();
    needles
}

#[tokio::test(flavor = "multi_thread")]
async fn no_account_number_is_in_clear_on_topics_in_tables_or_in_logs() {
    let (stack, mut clients) = start().await;
    let customer = scenario::create_customer_with_accounts(&mut clients, "张三", &ON_FILE)
        .await
        .or_logs(&stack);
    let contract = scenario::create_contract(
        &mut clients,
        &customer,
        "HT-PII-1",
        &[
            ("700.00", "2026-03-10"),
            ("700.00", "2026-04-10"),
            ("700.00", "2026-05-10"),
            ("700.00", "2026-06-10"),
        ],
    )
    .await
    .or_logs(&stack);
    clients
        .contracts
        .add_payer_account(contracts::AddPayerAccountRequest {
            customer_id: customer.clone(),
            account: ADDED.to_owned(),
        })
        .await
        .or_logs(&stack);

    // A second contract, overpaid by 50.00: the refund's request, approval, event and row
    // must not carry the payer's account in clear either.
    scenario::create_contract(
        &mut clients,
        &customer,
        "HT-PII-2",
        &[("100.00", "2026-03-10")],
    )
    .await
    .or_logs(&stack);

    // Installment 1 from an account on file (simple CSV), 2 by MT940, 3 by camt.053 from the
    // account added later.
    let csv = bank_csv(&[
        [
            "2026-03-09",
            "700.00",
            "CNY",
            "张三",
            ON_FILE[0],
            "HT-PII-1/1",
        ],
        ["2026-03-09", "123.45", "CNY", "无名", UNKNOWN, "rent"],
        // An overpayment of the second contract: its surplus is refunded below (R-P9).
        [
            "2026-03-09",
            "150.00",
            "CNY",
            "张三",
            ON_FILE[0],
            "HT-PII-2",
        ],
    ]);
    for (name, content) in [
        ("pii-1.csv", csv),
        ("pii-2.sta", MT940.as_bytes().to_vec()),
        ("pii-3.xml", CAMT053.as_bytes().to_vec()),
    ] {
        scenario::ingest(&mut clients, name, content)
            .await
            .or_logs(&stack);
    }
    // R-P6: the right payer and reference, received on another account.
    clients
        .payments
        .ingest_bank_file(payments::IngestBankFileRequest {
            file_name: "pii-wrong.csv".into(),
            content: bank_csv(&[[
                "2026-03-18",
                "700.00",
                "CNY",
                "张三",
                ON_FILE[1],
                "HT-PII-1/4",
            ]]),
            format: "csv".into(),
            account: WRONG_RECEIVING.into(),
        })
        .await
        .or_logs(&stack);
    // A ContractSigned payments cannot handle: dead-lettered, with its accounts as indexes.
    let producer =
        kit::kafka::producer(&stack.kafka, "e2e-pii", kit::kafka::Compression::default())
            .or_logs(&stack);
    let poison = events::ContractSigned {
        contract_id: "not-a-uuid".into(),
        customer_id: customer.clone(),
        payer_accounts_masked: vec![kit::wire::mask(ON_FILE[0])],
        escrow_account_masked: kit::wire::mask(ESCROW_ACCOUNT),
        ..Default::default()
    };
    let envelope = kit::events::envelope("contracts", &customer, &poison);
    publish(
        &producer,
        &stack,
        kit::events::CONTRACTS,
        &customer,
        &envelope.encode_to_vec(),
    )
    .await
    .or_logs(&stack);

    eventually("installments 1-3 paid", EVENTUALLY, || async {
        let mut c = clients.clone();
        let r = scenario::receivables(&mut c, &contract.contract_id).await?;
        let amounts: Vec<&str> = r.iter().map(open_amount).collect();
        Ok((amounts == ["0.00", "0.00", "0.00", "700.00"]).then_some(()))
    })
    .await
    .or_logs(&stack);
    eventually(
        "the R-P6 exception and the unknown payer's",
        EVENTUALLY,
        || async {
            let kinds: Vec<String> = scenario::open_exceptions(&clients)
                .await?
                .into_iter()
                .map(|e| e.kind)
                .collect();
            Ok(
                (kinds.len() >= 2 && kinds.iter().any(|k| k == "WRONG_RECEIVING_ACCOUNT"))
                    .then_some(()),
            )
        },
    )
    .await
    .or_logs(&stack);
    // The surplus refunded: requested by one person, approved by another (R-P9).
    let surplus = eventually("the overpayment's surplus", EVENTUALLY, || async {
        Ok(scenario::open_exceptions(&clients)
            .await?
            .into_iter()
            .find(|e| e.kind == "UNAPPLIED_SURPLUS"))
    })
    .await
    .or_logs(&stack);
    let mut clerk =
        devstack::clients::Clients::as_user(&stack, "clerk-pii", &[kit::auth::Role::Cashier], None)
            .or_logs(&stack);
    let refund = clerk
        .payments
        .request_refund(payments::RequestRefundRequest {
            idempotency_key: "pii-refund-1".into(),
            payment_id: surplus.payment_id.clone(),
            amount: Some(proto::types::v1::Money {
                amount: "50.00".into(),
                currency: "CNY".into(),
            }),
            reason: "overpaid".into(),
        })
        .await
        .or_logs(&stack)
        .into_inner()
        .refund
        .expect("refund");
    clients
        .payments
        .approve_refund(payments::ApproveRefundRequest {
            refund_id: refund.refund_id,
            note: String::new(),
        })
        .await
        .or_logs(&stack);
    let payments_db = sqlx::PgPool::connect(&stack.database_urls["payments"])
        .await
        .or_logs(&stack);
    eventually("the poison dead-lettered", EVENTUALLY, || async {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM payments.dead_letters")
            .fetch_one(&payments_db)
            .await?;
        Ok((n > 0).then_some(()))
    })
    .await
    .or_logs(&stack);
    payments_db.close().await;
    // Let the outbox relays publish what the last transactions enqueued.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let needles = needles();
    let mut leaks = Vec::new();
    leaks.extend(scan_topics(&stack, &needles).await.or_logs(&stack));
    leaks.extend(scan_tables(&stack, &needles).await.or_logs(&stack));
    for file in stack.log_files() {
        let bytes = std::fs::read(&file).unwrap_or_default();
        assert!(!bytes.is_empty(), "{} is empty", file.display());
        leaks.extend(found(&needles, &bytes, &format!("log {}", file.display())));
    }
    assert!(
        leaks.is_empty(),
        "account numbers in clear (R-O4):\n{}",
        leaks.join("\n")
    );
    assert_eq!(
        stack.stop(|_| {}),
        Vec::<String>::new(),
        "services that did not shut down gracefully"
    );
}

/// Where `bytes` contain a needle, as "where: needle".
fn found(needles: &[String], bytes: &[u8], place: &str) -> Vec<String> {
    needles
        .iter()
        .filter(|n| bytes.windows(n.len()).any(|w| w == n.as_bytes()))
        .map(|n| format!("{place}: {n}"))
        .collect()
}

/// Every message (key, payload, headers) of every topic, read from the beginning.
async fn scan_topics(stack: &devstack::Stack, needles: &[String]) -> anyhow::Result<Vec<String>> {
    let consumer = kit::kafka::consumer(
        &stack.kafka,
        &format!("e2e-pii-scan-{}", uuid::Uuid::new_v4()),
    )?;
    let mut assignment = TopicPartitionList::new();
    let mut expected = 0i64;
    let timeout = Duration::from_secs(10);
    for topic in kit::events::all_topics() {
        let topic = format!("{}{topic}", stack.topic_prefix);
        let metadata = consumer.fetch_metadata(Some(&topic), timeout)?;
        for t in metadata.topics() {
            for p in t.partitions() {
                let (low, high) = consumer.fetch_watermarks(&topic, p.id(), timeout)?;
                expected += high - low;
                assignment.add_partition_offset(&topic, p.id(), Offset::Beginning)?;
            }
        }
    }
    anyhow::ensure!(expected > 0, "no message on any topic");
    consumer.assign(&assignment)?;
    let mut leaks = Vec::new();
    let mut seen = 0i64;
    tokio::time::timeout(EVENTUALLY, async {
        while seen < expected {
            let message = consumer.recv().await?;
            seen += 1;
            let place = format!("topic {} offset {}", message.topic(), message.offset());
            let mut bytes = message.key().unwrap_or_default().to_vec();
            bytes.extend_from_slice(message.payload().unwrap_or_default());
            if let Some(headers) = message.headers() {
                for h in headers.iter() {
                    bytes.extend_from_slice(h.key.as_bytes());
                    bytes.extend_from_slice(h.value.unwrap_or_default());
                }
            }
            leaks.extend(found(needles, &bytes, &place));
        }
        anyhow::Ok(())
    })
    .await
    .map_err(|_| anyhow::anyhow!("read {seen} of {expected} messages"))??;
    Ok(leaks)
}

/// Every text, varchar, char, json(b), array and bytea column of every table in every
/// service's schema.
async fn scan_tables(stack: &devstack::Stack, needles: &[String]) -> anyhow::Result<Vec<String>> {
    let mut leaks = Vec::new();
    let mut columns_seen = 0;
    for (service, _) in devstack::SERVICES {
        let pool = sqlx::PgPool::connect(&stack.database_urls[*service]).await?;
        let columns: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT c.table_name::text, c.column_name::text, c.data_type::text
             FROM information_schema.columns c
             JOIN information_schema.tables t
               ON t.table_schema = c.table_schema AND t.table_name = c.table_name
             WHERE c.table_schema = $1 AND t.table_type = 'BASE TABLE'
               AND c.data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', 'bytea', 'ARRAY')",
        )
        .bind(service)
        .fetch_all(&pool)
        .await?;
        for (table, column, data_type) in columns {
            columns_seen += 1;
            let place = format!("{service}.{table}.{column}");
            let from = format!("FROM \"{service}\".\"{table}\" WHERE \"{column}\" IS NOT NULL");
            if data_type == "bytea" {
                let sql = format!("SELECT \"{column}\" {from}");
                let rows: Vec<Vec<u8>> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .fetch_all(&pool)
                    .await?;
                for row in rows {
                    leaks.extend(found(needles, &row, &place));
                }
            } else {
                let sql = format!("SELECT \"{column}\"::text {from}");
                let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .fetch_all(&pool)
                    .await?;
                for row in rows {
                    leaks.extend(found(needles, row.as_bytes(), &place));
                }
            }
        }
        pool.close().await;
    }
    anyhow::ensure!(columns_seen > 20, "only {columns_seen} columns found");
    Ok(leaks)
}
