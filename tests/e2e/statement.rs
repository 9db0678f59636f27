//! Statement of account (issue 12 item 10, R-C11): a customer's open items per contract with
//! aging, late fees (R-C4) and totals, as JSON and as a printable document (HTML, PDF with
//! Chinese glyphs); the figures are the receivables', the PDF is reproducible byte for byte,
//! scope applies (R-O3) and no account number is printed in clear (R-O4).

use std::process::Command;

use kit::auth::Role;
use proto::contracts::v1 as contracts;
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use devstack::clients::{Clients, eventually};
use devstack::scenario::{self, ESCROW_ACCOUNT, bank_csv, open_amount};

use crate::helpers::{EVENTUALLY, OrLogs, start};
use crate::operator_cli::{collectctl, text};

const POLICY: &str =
    r#"{"name": "1 per mille a day", "accrual": {"kind": "flat_daily", "daily_rate": "1‰"}}"#;

fn dec(money: Option<&proto::types::v1::Money>) -> Decimal {
    money
        .map(|m| m.amount.parse().expect("a decimal amount"))
        .unwrap_or_default()
}

async fn statement(
    clients: &Clients,
    customer: &str,
    format: contracts::StatementFormat,
) -> Result<contracts::GetStatementResponse, tonic::Status> {
    clients
        .contracts
        .clone()
        .get_statement(contracts::GetStatementRequest {
            customer_id: customer.to_owned(),
            as_of: String::new(),
            format: format as i32,
        })
        .await
        .map(tonic::Response::into_inner)
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// "16602.00" → "16,602.00", as printed.
fn grouped(amount: &str) -> String {
    let (int, frac) = amount.split_once('.').unwrap_or((amount, ""));
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{out}.{frac}")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_statement_of_account_shows_what_the_receivables_say_as_json_html_and_pdf() {
    let (stack, mut admin) = start().await;
    let mut ann =
        Clients::as_user(&stack, "col-ann", &[Role::Collector], Some("team-a")).or_logs(&stack);
    let bob =
        Clients::as_user(&stack, "col-bob", &[Role::Collector], Some("team-a")).or_logs(&stack);

    // Ann signs two contracts for 吴十二: one with 1‰ a day late fee, one without.
    let customer = scenario::create_customer(&mut ann, "吴十二")
        .await
        .or_logs(&stack);
    let with_fee = scenario::create_contract_with_policy(
        &mut ann,
        &customer,
        "HT-ST-1",
        &[("10000.00", "2026-03-10"), ("10000.00", "2026-05-10")],
        POLICY,
    )
    .await
    .or_logs(&stack);
    let plain =
        scenario::create_contract(&mut ann, &customer, "HT-ST-2", &[("500.00", "2026-02-10")])
            .await
            .or_logs(&stack);

    // Overdue on 20 March; 4000.00 paid on the first item settles its 100.00 late fee first
    // and 3900.00 of principal (R-P11); the next day's cycle.
    scenario::run_cycle(&mut admin, "2026-03-20")
        .await
        .or_logs(&stack);
    scenario::ingest(
        &mut admin,
        "st-2026-03-20.csv",
        bank_csv(&[["2026-03-20", "4000.00", "CNY", "吴十二", "", "HT-ST-1/1"]]),
    )
    .await
    .or_logs(&stack);
    let fee_id = with_fee.contract_id.clone();
    eventually("HT-ST-1/1 paid down to 6100.00", EVENTUALLY, || {
        let (mut admin, fee_id) = (admin.clone(), fee_id.clone());
        async move {
            let r = scenario::receivables(&mut admin, &fee_id).await?;
            Ok((open_amount(&r[0]) == "6100.00").then_some(()))
        }
    })
    .await
    .or_logs(&stack);
    scenario::run_cycle(&mut admin, "2026-03-21")
        .await
        .or_logs(&stack);

    // JSON: the receivables' figures, per contract and in total; as_of is the last cycle.
    let mut receivables = scenario::receivables(&mut admin, &with_fee.contract_id)
        .await
        .or_logs(&stack);
    receivables.extend(
        scenario::receivables(&mut admin, &plain.contract_id)
            .await
            .or_logs(&stack),
    );
    let open: Decimal = receivables
        .iter()
        .map(|r| dec(r.open_amount.as_ref()))
        .sum();
    // What is still owed of the late fees (accrued less paid).
    let fees: Decimal = receivables
        .iter()
        .map(|r| dec(r.owed.as_ref().and_then(|o| o.late_fee.as_ref())))
        .sum();
    let billed: Decimal = receivables.iter().map(|r| dec(r.amount.as_ref())).sum();
    assert!(fees > Decimal::ZERO, "a late fee accrued: {receivables:?}");
    let json = statement(&ann, &customer, contracts::StatementFormat::Json)
        .await
        .or_logs(&stack);
    assert!(json.document.is_empty() && json.sha256.is_empty());
    let s = json.statement.expect("statement");
    assert_eq!(
        (s.as_of.as_str(), s.customer_name.as_str()),
        ("2026-03-21", "吴十二")
    );
    assert_eq!(s.late_fees_through, "2026-03-21");
    assert_eq!(s.contracts.len(), 2, "{s:?}");
    assert_eq!(s.totals.len(), 1);
    let total = &s.totals[0];
    assert_eq!(total.currency, "CNY");
    assert_eq!(dec(total.open.as_ref()), open);
    assert_eq!(dec(total.late_fee.as_ref()), fees);
    assert_eq!(dec(total.billed.as_ref()), billed);
    assert_eq!(
        dec(total.paid.as_ref()),
        Decimal::new(3900, 0),
        "principal paid"
    );
    assert_eq!(dec(total.owed.as_ref()), open + fees);
    // R-C11: 6100.00 is 11 days overdue, 500.00 39 days, the May item is current.
    let aging: Vec<(i32, Decimal)> = s.aging[0]
        .buckets
        .iter()
        .map(|b| (b.bucket, dec(b.amount.as_ref())))
        .collect();
    use contracts::AgingBucket as B;
    assert_eq!(
        aging,
        vec![
            (B::Current as i32, Decimal::new(1_000_000, 2)),
            (B::Days1To30 as i32, Decimal::new(610_000, 2)),
            (B::Days31To60 as i32, Decimal::new(50_000, 2)),
            (B::Days61To90 as i32, Decimal::ZERO),
            (B::Days91To180 as i32, Decimal::ZERO),
            (B::Over180 as i32, Decimal::ZERO),
        ]
    );
    assert!(!s.interest_note.is_empty());
    for c in &s.contracts {
        assert!(
            c.escrow_account_masked.starts_with("****")
                && c.escrow_account_masked.ends_with("8888")
                && !c.escrow_account_masked.contains("6216"),
            "{c:?}"
        );
    }

    // PDF: reproducible, hashed, with the name, the title and the total owed in the text.
    let pdf = statement(&ann, &customer, contracts::StatementFormat::Pdf)
        .await
        .or_logs(&stack);
    assert!(pdf.document.starts_with(b"%PDF"), "a PDF");
    assert_eq!(pdf.content_type, "application/pdf");
    assert_eq!(pdf.sha256, hex_sha256(&pdf.document));
    let again = statement(&ann, &customer, contracts::StatementFormat::Pdf)
        .await
        .or_logs(&stack);
    assert_eq!(
        again.sha256, pdf.sha256,
        "the same data gives the same bytes"
    );
    let dir = std::env::temp_dir().join(format!("statement-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("statement.pdf");
    std::fs::write(&path, &pdf.document).expect("write PDF");
    let out = Command::new("pdftotext")
        .args([path.to_str().expect("path"), "-"])
        .output()
        .expect("pdftotext (poppler-utils, deploy/local/install-deps.sh)");
    let extracted = text(&out.stdout);
    let owed = grouped(&total.owed.as_ref().expect("owed").amount);
    for want in [
        "吴十二",
        "对账单",
        owed.as_str(),
        "HT-ST-1",
        "分期款",
        "滞纳金",
    ] {
        assert!(
            extracted.contains(want),
            "{want:?} missing from:\n{extracted}"
        );
    }

    // HTML: the same figures; the escrow account only masked (R-O4).
    let html = statement(&ann, &customer, contracts::StatementFormat::Html)
        .await
        .or_logs(&stack);
    assert_eq!(html.content_type, "text/html; charset=utf-8");
    assert_eq!(html.sha256, hex_sha256(&html.document));
    let page = text(&html.document);
    assert!(page.contains("对账单") && page.contains(&owed), "{page}");
    let digits: String = ESCROW_ACCOUNT
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let squeezed: String = page.chars().filter(|c| !c.is_whitespace()).collect();
    assert!(
        !page.contains(ESCROW_ACCOUNT) && !squeezed.contains(&digits) && !page.contains("6216"),
        "the escrow account in clear"
    );

    // Scope (R-O3): another collector does not see Ann's customer.
    let denied = statement(&bob, &customer, contracts::StatementFormat::Json)
        .await
        .expect_err("out of scope");
    assert_eq!(denied.code(), tonic::Code::PermissionDenied);
    let bad = statement(&ann, "not-a-uuid", contracts::StatementFormat::Json)
        .await
        .expect_err("bad id");
    assert_eq!(bad.code(), tonic::Code::InvalidArgument);

    // collectctl, as Ann: a text table, and the PDF written to a file.
    let token = stack
        .auth
        .token("col-ann", &[Role::Collector], Some("team-a"))
        .or_logs(&stack);
    let file = dir.join("cli.pdf");
    let out = collectctl(
        &stack,
        Some(&token),
        &[
            "statement",
            &customer,
            "--pdf",
            file.to_str().expect("path"),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    assert!(
        printed.contains("HT-ST-1") && printed.contains("1-30") && printed.contains(&pdf.sha256),
        "{printed}"
    );
    assert_eq!(std::fs::read(&file).expect("the PDF"), pdf.document);
    let out = collectctl(&stack, Some(&token), &["statement", &customer, "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        value["totals"][0]["owed"],
        total.owed.as_ref().expect("owed").amount.as_str()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
