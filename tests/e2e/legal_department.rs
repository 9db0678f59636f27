//! Issue 15 acceptance (R-L2, R-L6): a client of the legal department written only against
//! the published protos and Kafka topics, in another language (Python,
//! `deploy/legal-department/`), moves a case through lawyer's letter → payment order →
//! litigation and records a cost. It reads the legal cases topic as its own Kafka principal
//! (on Apache Kafka: `legal-department`, allowed by the broker's ACLs to read that topic and
//! nothing else) and calls the legal service with a token of role legal. Run a second time in
//! a fresh consumer group, it reads the same `CaseOpened` again and records nothing more
//! (idempotency keys from case id and step).
//!
//! Needs python3 with venv; `deploy/legal-department/setup.sh` installs the client's
//! requirements (pip) on first use.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use devstack::broker::Broker;
use devstack::clients::eventually;
use devstack::scenario;
use kit::auth::Role;
use kit::events::LEGAL_DEPARTMENT;
use proto::legal::v1 as legal;
use proto::types::v1::CaseStatus;

use crate::helpers::{EVENTUALLY, OrLogs, start};

fn client_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/legal-department")
}

/// Runs `command` on the blocking pool; fails the test with its output unless it succeeds.
/// Returns its standard output and its standard error.
async fn run(stack: &devstack::Stack, what: &str, mut command: Command) -> (String, String) {
    let output: Output = tokio::task::spawn_blocking(move || command.output())
        .await
        .or_logs(stack)
        .or_logs(stack);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{stdout}\n{stderr}\n\nservice logs:\n{}",
        output.status,
        stack.log_tails(40)
    );
    (stdout, stderr)
}

/// The client's command line against `stack`, reading in consumer group `group`.
fn client(stack: &devstack::Stack, python: &str, token_file: &Path, group: &str) -> Command {
    let mut command = Command::new(python);
    command
        .arg(client_dir().join("legal_department.py"))
        .args(["--bootstrap-servers", &stack.bootstrap_servers])
        .args(["--topic-prefix", &stack.topic_prefix])
        .args(["--group", &format!("{}{group}", stack.topic_prefix)])
        .args(["--legal-endpoint", &stack.endpoint("legal").or_logs(stack)])
        .arg("--ca-file")
        .arg(stack.auth.dir.join("ca.pem"))
        .args(["--tls-server-name", "localhost"])
        .arg("--token-file")
        .arg(token_file)
        .args(["--timeout", "120"]);
    // Apache Kafka: TLS and SCRAM as the legal department's own principal; the mock cluster
    // is plaintext and open.
    match stack.broker() {
        Broker::ApacheKafka(kafka) => {
            command
                .args(["--security-protocol", "sasl_ssl"])
                .args(["--sasl-username", LEGAL_DEPARTMENT])
                .arg("--sasl-password-file")
                .arg(kafka.password_file(LEGAL_DEPARTMENT))
                .arg("--kafka-ca-file")
                .arg(kafka.ca_file());
        }
        Broker::Embedded(_) | Broker::External(_) => {
            command.args(["--security-protocol", "plaintext"]);
        }
    }
    command
}

#[tokio::test(flavor = "multi_thread")]
async fn the_legal_departments_python_client_works_a_case_to_litigation_r_l6() {
    let (stack, mut admin) = start().await;
    let customer = scenario::create_customer(&mut admin, "冯十七")
        .await
        .or_logs(&stack);
    let contract = scenario::create_contract(
        &mut admin,
        &customer,
        "HT-LEGAL-17",
        &[("8000.00", "2026-03-10")],
    )
    .await
    .or_logs(&stack);
    // 36 days overdue and above 5,000 (the compact policy): escalated, a case opens (R-L1).
    scenario::run_cycle(&mut admin, "2026-04-15")
        .await
        .or_logs(&stack);
    let case = eventually("a legal case", EVENTUALLY, || async {
        Ok(scenario::legal_cases(&admin, &customer, None)
            .await?
            .into_iter()
            .next())
    })
    .await
    .or_logs(&stack);
    assert_eq!(case.opened_on, "2026-04-15");

    // The client's venv and the classes generated from proto/ (pip on first use).
    let mut setup = Command::new(client_dir().join("setup.sh"));
    setup.env_remove("PYTHONPATH");
    let (python, _) = run(&stack, "deploy/legal-department/setup.sh", setup).await;
    let python = python.lines().last().unwrap_or_default().trim().to_owned();
    // A token of role legal naming the department's system: the actor of its steps.
    let token = stack
        .auth
        .token(LEGAL_DEPARTMENT, &[Role::Legal], None)
        .or_logs(&stack);
    let token_file = stack.work_dir.join("legal-department.token");
    std::fs::write(&token_file, token).or_logs(&stack);

    let (_, out) = run(&stack, "the legal department's client", {
        let mut c = client(&stack, &python, &token_file, LEGAL_DEPARTMENT);
        c.args(["--max-cases", "1"]);
        c
    })
    .await;
    // Shown with `cargo test -- --nocapture`.
    eprintln!("{out}");
    assert!(out.contains(&case.case_id), "{out}");

    let mut reader = admin.legal.clone();
    let shown = reader
        .get_case(legal::GetCaseRequest {
            case_id: case.case_id.clone(),
        })
        .await
        .or_logs(&stack)
        .into_inner()
        .legal_case
        .expect("the case");
    assert_eq!(shown.status, CaseStatus::LitigationFiled as i32);
    let road: Vec<(i32, i32, &str, &str)> = shown
        .history
        .iter()
        .map(|s| {
            (
                s.from_status,
                s.to_status,
                s.date.as_str(),
                s.actor.as_str(),
            )
        })
        .collect();
    assert_eq!(
        road,
        [
            (
                CaseStatus::Opened as i32,
                CaseStatus::LawyersLetterSent as i32,
                "2026-04-16",
                LEGAL_DEPARTMENT
            ),
            (
                CaseStatus::LawyersLetterSent as i32,
                CaseStatus::PaymentOrderApplied as i32,
                "2026-04-22",
                LEGAL_DEPARTMENT
            ),
            (
                CaseStatus::PaymentOrderApplied as i32,
                CaseStatus::LitigationFiled as i32,
                "2026-05-15",
                LEGAL_DEPARTMENT
            ),
        ]
    );
    assert!(
        shown
            .history
            .iter()
            .all(|s| !s.document_reference.is_empty() && !s.reason.is_empty())
    );
    let costs = |c: &legal::LegalCase| {
        c.events
            .iter()
            .filter(|e| e.kind == "cost_recorded")
            .count()
    };
    assert_eq!(costs(&shown), 1, "{:?}", shown.events);

    // R-L6, R-L7: the acceptance fee of an 8,000.00 claim (50 yuan up to 10,000), booked by
    // contracts as a cost the debtor owes on the case's receivable.
    eventually("the court fee booked by contracts", EVENTUALLY, || async {
        let mut c = admin.clone();
        let r = scenario::receivables(&mut c, &contract.contract_id).await?;
        let costs = r
            .first()
            .and_then(|r| r.owed.as_ref())
            .and_then(|o| o.costs.as_ref())
            .map(|m| m.amount.clone());
        Ok((costs.as_deref() == Some("50.00")).then_some(()))
    })
    .await
    .or_logs(&stack);

    // Delivered again (a restart before the commit, or a replay in a new group): every call
    // is recognised as a repeat and nothing more is recorded.
    let (_, again) = run(&stack, "the legal department's client, replaying", {
        let mut c = client(
            &stack,
            &python,
            &token_file,
            &format!("{LEGAL_DEPARTMENT}.replay"),
        );
        c.arg("--once");
        c
    })
    .await;
    eprintln!("{again}");
    assert!(again.contains("done already"), "{again}");
    let replayed = reader
        .get_case(legal::GetCaseRequest {
            case_id: case.case_id.clone(),
        })
        .await
        .or_logs(&stack)
        .into_inner()
        .legal_case
        .expect("the case");
    assert_eq!(replayed.history.len(), 3);
    assert_eq!(costs(&replayed), 1, "{:?}", replayed.events);
    assert!(
        again.contains("court fee 50.00 CNY") && again.contains("a repeat"),
        "{again}"
    );

    assert_eq!(
        stack.stop(|_| {}),
        Vec::<String>::new(),
        "services that did not shut down gracefully"
    );
}
