//! Book-to-bank per account and day (R-P7) and lines seen twice (R-P2, R-P5) through the
//! payments service: real MT942/MT940 statements, one whose balances do not add up, a day
//! without a statement, a statement sent again as another file, and simple CSV files on two
//! receiving accounts.

use std::time::Duration;

use devstack::clients::eventually;
use devstack::scenario::{self, ESCROW_ACCOUNT, open_amount};
use kit::auth::Role;
use proto::payments::v1 as payments;

use crate::helpers::{EVENTUALLY, OrLogs, start};
use crate::operator_cli::{collectctl, text};

const ACCOUNT: &str = "621661000000008888";

const MT942: &str = ":20:INTRA-B2B-1\r\n:25:621661000000008888\r\n:28C:1/1\r\n:34F:CNY0,\r\n\
:13D:2603161200+0800\r\n:61:2603160316C20000,00NTRFNONREF//B26031601\r\n:86:166?00GUTSCHRIFT?20HT-B2B-1/1?3088888888?316222020000001234?32ZHANG SAN\r\n\
:90D:0CNY0,\r\n:90C:1CNY20000,00\r\n-\r\n";

/// 2026-03-16: 0 + 30000 − 99 = 29901, as the statement says.
const MT940_DAY1: &str = ":20:STMT-B2B-1\r\n:25:621661000000008888\r\n:28C:1/1\r\n:60F:C260315CNY0,00\r\n\
:61:2603160316C20000,00NTRFNONREF//B26031601\r\n:86:166?00GUTSCHRIFT?20HT-B2B-1/1?3088888888?316222020000001234?32ZHANG SAN\r\n\
:61:2603160316C10000,00NTRFNONREF//B26031602\r\n\
:86:166?00GUTSCHRIFT?20HT-B2B-1/2?3088888888?316222020000001234?32ZHANG SAN\r\n\
:61:2603160316D99,00NCHGNONREF//B26031603\r\n:86:BANK CHARGES\r\n:62F:C260316CNY29901,00\r\n-\r\n";

/// 2026-03-17: 29901 + 5000 = 34901, but the bank wrote 34900.
const MT940_DAY2_BROKEN: &str = ":20:STMT-B2B-2\r\n:25:621661000000008888\r\n:28C:2/1\r\n:60F:C260316CNY29901,00\r\n\
:61:2603170317C5000,00NTRFNONREF//B26031701\r\n:86:166?00GUTSCHRIFT?20HT-B2B-1/3?3088888888?316222020000001234?32ZHANG SAN\r\n\
:62F:C260317CNY34900,00\r\n-\r\n";

async fn reconcile(
    clients: &mut devstack::clients::Clients,
) -> anyhow::Result<payments::ReconcileBookToBankResponse> {
    Ok(clients
        .payments
        .reconcile_book_to_bank(payments::ReconcileBookToBankRequest {
            account: "6216 6100 0000 0088 88".into(),
            from: "2026-03-01".into(),
            to: "2026-03-31".into(),
            currency: String::new(),
        })
        .await?
        .into_inner())
}

fn kinds(day: &payments::ReconciledDay) -> Vec<payments::DiscrepancyKind> {
    day.discrepancies
        .iter()
        .map(|d| payments::DiscrepancyKind::try_from(d.kind).unwrap_or_default())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn book_to_bank_reports_each_day_and_a_statement_sent_twice_is_a_duplicate() {
    use payments::DiscrepancyKind as K;
    let (stack, mut clients) = start().await;
    let customer =
        scenario::create_customer_with_accounts(&mut clients, "张三", &["6222 0200 0000 1234"])
            .await
            .or_logs(&stack);
    let contract = scenario::create_contract(
        &mut clients,
        &customer,
        "HT-B2B-1",
        &[
            ("20000.00", "2026-03-10"),
            ("10000.00", "2026-04-10"),
            ("5000.00", "2026-05-10"),
        ],
    )
    .await
    .or_logs(&stack);

    // R-P2: the intraday report and the end-of-day statement of one account are linked: the
    // repeated transaction is booked once and raises nothing.
    let intraday = scenario::ingest(&mut clients, "intraday.sta", MT942.as_bytes().to_vec())
        .await
        .or_logs(&stack);
    assert_eq!(intraday.lines_accepted, 1);
    let eod = scenario::ingest(&mut clients, "day1.sta", MT940_DAY1.as_bytes().to_vec())
        .await
        .or_logs(&stack);
    assert_eq!((eod.lines_accepted, eod.lines_duplicate), (1, 1));
    let duplicates = |clients: &devstack::clients::Clients| {
        let clients = clients.clone();
        async move {
            scenario::open_exceptions(&clients)
                .await
                .map(|all| all.into_iter().filter(|e| e.kind == "DUPLICATE").count())
        }
    };
    assert_eq!(duplicates(&clients).await.or_logs(&stack), 0);
    // Day 2's statement does not add up: refused, nothing booked.
    let broken = scenario::ingest(
        &mut clients,
        "day2.sta",
        MT940_DAY2_BROKEN.as_bytes().to_vec(),
    )
    .await
    .or_logs(&stack);
    assert_eq!((broken.lines_accepted, broken.errors.len()), (0, 1));
    // Day 3: a payment sent by hand (simple CSV), no statement from the bank.
    let by_hand = scenario::ingest(
        &mut clients,
        "by-hand.csv",
        "date,amount,currency,payer_name,payer_account,reference\n2026-03-18,123.45,CNY,WANG WU,6222 0200 0000 9999,NO REFERENCE\n"
            .as_bytes()
            .to_vec(),
    )
    .await
    .or_logs(&stack);
    assert_eq!(by_hand.lines_accepted, 1);

    // R-P7: day 1 matches; day 2 does not add up and its credit is not booked; day 3 has
    // no statement. Accounts come back masked.
    let report = reconcile(&mut clients).await.or_logs(&stack);
    assert_eq!(report.account_masked, "**************8888");
    assert!(!report.matched);
    let days: Vec<&str> = report
        .days
        .iter()
        .map(|d| d.business_date.as_str())
        .collect();
    assert_eq!(days, ["2026-03-16", "2026-03-17", "2026-03-18"]);
    let day1 = &report.days[0];
    assert!(kinds(day1).is_empty(), "{day1:?}");
    assert_eq!(
        (
            day1.bank_credits.as_str(),
            day1.book_total.as_str(),
            day1.closing.as_str()
        ),
        ("30000.00", "30000.00", "29901.00")
    );
    let day2 = &report.days[1];
    assert_eq!(
        kinds(day2),
        [
            K::BalanceDoesNotAddUp,
            K::StatementRejected,
            K::AmountDiffers
        ],
        "{day2:?}"
    );
    assert_eq!(day2.discrepancies[0].amount, "-1.00");
    assert_eq!(day2.discrepancies[2].amount, "5000.00");
    assert!(day2.discrepancies[0].next_step.contains("ask the bank"));
    assert_eq!(kinds(&report.days[2]), [K::MissingStatement]);
    assert_eq!(report.days[2].discrepancies[0].amount, "123.45");

    // The operator's report: readable, CSV for finance, never the account in clear.
    let cashier = stack
        .auth
        .token("clerk-7", &[Role::Cashier], None)
        .or_logs(&stack);
    let csv_path = stack.work_dir.join("book-to-bank.csv");
    let csv_arg = csv_path.display().to_string();
    let out = collectctl(
        &stack,
        Some(&cashier),
        &[
            "reconcile",
            "book-to-bank",
            "--account",
            ACCOUNT,
            "--from",
            "2026-03-01",
            "--to",
            "2026-03-31",
            "--out",
            &csv_arg,
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(
        shown.contains("BALANCE_DOES_NOT_ADD_UP") && shown.contains("MISSING_STATEMENT"),
        "{shown}"
    );
    let csv = std::fs::read_to_string(&csv_path).or_logs(&stack);
    assert!(
        csv.contains("2026-03-17") && csv.contains("STATEMENT_REJECTED"),
        "{csv}"
    );
    for document in [&shown, &csv] {
        assert!(
            !document.contains(ACCOUNT),
            "the account in clear: {document}"
        );
    }

    // R-P5: day 1's statement sent again as another file (the bank re-sent it with another
    // reference): every line is a DUPLICATE for a person, nothing is applied twice.
    let resent = MT940_DAY1.replace("STMT-B2B-1", "STMT-B2B-1-RESENT");
    let again = scenario::ingest(&mut clients, "day1-again.sta", resent.into_bytes())
        .await
        .or_logs(&stack);
    assert_eq!(
        (
            again.lines_accepted,
            again.lines_duplicate,
            again.exceptions_raised
        ),
        (0, 2, 2)
    );
    assert_eq!(duplicates(&clients).await.or_logs(&stack), 2);
    eventually("installments 1 and 2 paid once", EVENTUALLY, || async {
        let mut c = clients.clone();
        let r = scenario::receivables(&mut c, &contract.contract_id).await?;
        Ok((open_amount(&r[0]) == "0.00" && open_amount(&r[1]) == "0.00").then_some(()))
    })
    .await
    .or_logs(&stack);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let r = scenario::receivables(&mut clients, &contract.contract_id)
        .await
        .or_logs(&stack);
    assert_eq!(
        open_amount(&r[2]),
        "5000.00",
        "nothing spilled over from a duplicate"
    );
    let report = reconcile(&mut clients).await.or_logs(&stack);
    let day1 = &report.days[0];
    assert_eq!(
        kinds(day1),
        [K::Duplicate, K::Duplicate, K::Duplicate],
        "the second statement and the two held payments: {day1:?}"
    );
    assert_eq!(day1.book_total, "30000.00", "held duplicates are not money");

    assert_eq!(
        stack.stop(|_| {}),
        Vec::<String>::new(),
        "services that did not shut down gracefully"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn simple_csv_lines_are_told_apart_by_account_and_a_repeat_is_a_duplicate() {
    let (stack, mut clients) = start().await;
    let send = |file: &str, account: &str, body: &str| payments::IngestBankFileRequest {
        file_name: file.into(),
        content: format!("date,amount,currency,payer_name,payer_account,reference\n{body}")
            .into_bytes(),
        format: String::new(),
        account: account.into(),
    };
    let line = "2026-03-20,800.00,CNY,LI SI,6222 0200 0000 5678,HT-NONE-1\n";
    let first = clients
        .payments
        .ingest_bank_file(send("a.csv", ESCROW_ACCOUNT, line))
        .await
        .or_logs(&stack)
        .into_inner();
    assert_eq!(first.lines_accepted, 1);
    // R-P2: the same line on another receiving account is another payment.
    let other = clients
        .payments
        .ingest_bank_file(send("b.csv", "6216 6100 0000 0077 77", line))
        .await
        .or_logs(&stack)
        .into_inner();
    assert_eq!((other.lines_accepted, other.lines_duplicate), (1, 0));
    // R-P5: the same line in another file of the same account is a DUPLICATE for a person,
    // not a silent skip; the new line of that file is booked.
    let repeat = clients
        .payments
        .ingest_bank_file(send(
            "c.csv",
            ESCROW_ACCOUNT,
            &format!("{line}2026-03-21,10.00,CNY,LI SI,6222 0200 0000 5678,HT-NONE-2\n"),
        ))
        .await
        .or_logs(&stack)
        .into_inner();
    assert_eq!(
        (
            repeat.lines_accepted,
            repeat.lines_duplicate,
            repeat.exceptions_raised >= 1
        ),
        (1, 1, true)
    );
    let exceptions = scenario::open_exceptions(&clients).await.or_logs(&stack);
    let duplicate: Vec<_> = exceptions
        .iter()
        .filter(|e| e.kind == "DUPLICATE")
        .collect();
    assert_eq!(duplicate.len(), 1, "{exceptions:?}");
    assert!(
        duplicate[0].reason.contains("a.csv"),
        "{}",
        duplicate[0].reason
    );
    assert_eq!(
        stack.stop(|_| {}),
        Vec::<String>::new(),
        "services that did not shut down gracefully"
    );
}
