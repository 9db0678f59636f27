//! Issue 15 item 5 (R-L3, R-L8): a legal case's evidence bundle. The lawyer asks the legal
//! service for it; it holds the case, the contract with its ledger and late fees, the
//! statement of account, the notice with its delivery record, the contact-log extract with
//! the log's verification, promises and disputes, listed with their SHA-256 in a manifest
//! signed by the service. `collectctl evidence verify` checks it offline; a flipped byte, a
//! removed file or an added one fails verification naming the file. Others than legal,
//! auditors and admins are refused.

use std::collections::BTreeMap;
use std::io::{Cursor, Read as _, Write as _};

use devstack::clients::{Clients, eventually};
use devstack::scenario;
use kit::auth::Role;
use proto::legal::v1 as legal;
use proto::types::v1::CaseStatus;

use crate::helpers::{EVENTUALLY, OrLogs, start};
use crate::operator_cli::{collectctl, collectctl_ok, text};

const LAWYER: &str = "li.lawyer";

/// The zip's entries, name → bytes.
fn entries(zip_bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut archive = zip::ZipArchive::new(Cursor::new(zip_bytes)).expect("a zip");
    let mut out = BTreeMap::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).expect("entry");
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).expect("read");
        out.insert(entry.name().expect("name").into_owned(), bytes);
    }
    out
}

/// A zip of `entries`, as someone with an archiver would write it back.
fn rezip(entries: &BTreeMap<String, Vec<u8>>) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in entries {
        zip.start_file(name, zip::write::SimpleFileOptions::default())
            .expect("start");
        zip.write_all(bytes).expect("write");
    }
    zip.finish().expect("finish").into_inner()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_evidence_bundle_verifies_and_a_flipped_byte_names_the_file_r_l3_r_l8() {
    let (stack, mut admin) = start().await;
    let lawyer = Clients::as_user(&stack, LAWYER, &[Role::Legal], None).or_logs(&stack);
    let customer = scenario::create_customer(&mut admin, "证据包")
        .await
        .or_logs(&stack);
    scenario::create_contract(
        &mut admin,
        &customer,
        "HT-EVID-15",
        &[("9000.00", "2026-03-10")],
    )
    .await
    .or_logs(&stack);
    // The debtor is zhao's (R-C9): zhao delivers the notice.
    admin
        .contracts
        .clone()
        .reassign_owner(proto::contracts::v1::ReassignOwnerRequest {
            target: Some(
                proto::contracts::v1::reassign_owner_request::Target::CustomerId(customer.clone()),
            ),
            owner: "zhao.collector".to_owned(),
            owner_team: "east".to_owned(),
            reason: "the east team collects this debtor".to_owned(),
        })
        .await
        .or_logs(&stack);
    let collector = Clients::as_user(&stack, "zhao.collector", &[Role::Collector], Some("east"))
        .or_logs(&stack);
    // Day 10: the door notice (R-D2, R-D3); day 36 and above 5,000: escalated (R-L1).
    scenario::run_cycle(&mut admin, "2026-03-20")
        .await
        .or_logs(&stack);
    eventually("the notice", EVENTUALLY, || async {
        let notices = admin
            .dunning
            .clone()
            .list_notices(proto::dunning::v1::ListNoticesRequest {
                customer_id: customer.clone(),
                ..Default::default()
            })
            .await?
            .into_inner()
            .notices;
        Ok((!notices.is_empty()).then_some(()))
    })
    .await
    .or_logs(&stack);
    // The door notice is a task for someone to deliver; its delivery with the registered-mail
    // number goes into the contact log (R-D4).
    let task = eventually("the delivery task", EVENTUALLY, || async {
        Ok(collector
            .dunning
            .clone()
            .list_tasks(proto::dunning::v1::ListTasksRequest {
                customer_id: customer.clone(),
                ..Default::default()
            })
            .await?
            .into_inner()
            .tasks
            .into_iter()
            .next())
    })
    .await
    .or_logs(&stack);
    collector
        .dunning
        .clone()
        .complete_task(proto::dunning::v1::CompleteTaskRequest {
            task_id: task.task_id.clone(),
            outcome: proto::types::v1::ContactOutcome::Delivered as i32,
            note: "posted at the door, photographed".to_owned(),
            registered_mail_no: "XA123456789CN".to_owned(),
            ..Default::default()
        })
        .await
        .or_logs(&stack);
    scenario::run_cycle(&mut admin, "2026-04-15")
        .await
        .or_logs(&stack);
    let case = eventually("a legal case", EVENTUALLY, || async {
        Ok(scenario::legal_cases(&lawyer, &customer, None)
            .await?
            .into_iter()
            .next())
    })
    .await
    .or_logs(&stack);
    assert_eq!(case.status, CaseStatus::Opened as i32);

    // A collector may not take the case's evidence away (R-O3).
    let refused = collector
        .legal
        .clone()
        .get_evidence_bundle(legal::GetEvidenceBundleRequest {
            case_id: case.case_id.clone(),
        })
        .await
        .expect_err("a collector is refused");
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);

    let bundle = lawyer
        .legal
        .clone()
        .max_decoding_message_size(256 << 20)
        .get_evidence_bundle(legal::GetEvidenceBundleRequest {
            case_id: case.case_id.clone(),
        })
        .await
        .or_logs(&stack)
        .into_inner();
    assert!(bundle.notes.is_empty(), "{:?}", bundle.notes);
    assert!(
        bundle
            .file_name
            .starts_with(&format!("evidence-{}-", case.case_id))
    );

    // Intact, under the service's key (R-L8).
    let report = documents::evidence::verify(&bundle.bundle, Some(&bundle.public_key));
    assert!(report.intact(), "{:?}", report.problems);
    let manifest = report.manifest.expect("manifest");
    assert_eq!(manifest.case_id, case.case_id);
    assert_eq!(manifest.customer_id, customer);
    assert_eq!(manifest.generated_for, LAWYER);
    assert_eq!(manifest.root_sha256, bundle.root_sha256);
    assert_eq!(
        usize::try_from(bundle.files).ok(),
        Some(manifest.files.len())
    );

    // What it holds (R-L3).
    let files = entries(&bundle.bundle);
    for path in [
        "README.txt",
        "case/case.json",
        "case/costs.json",
        "contracts/HT-EVID-15/contract.json",
        "contracts/HT-EVID-15/amendments.json",
        "contracts/HT-EVID-15/ledger.json",
        "contracts/HT-EVID-15/late-fees.json",
        "ledger/statement.pdf",
        "ledger/statement.json",
        "notices/index.json",
        "contact-log/entries.json",
        "contact-log/verification.json",
        "contact-log/proof.json",
        "dunning/promises.json",
        "dunning/disputes.json",
    ] {
        assert!(
            files.contains_key(path),
            "{path} missing: {:?}",
            files.keys()
        );
    }
    let case_json = text(&files["case/case.json"]);
    assert!(case_json.contains(&case.case_id) && case_json.contains("CASE_STATUS_OPENED"));
    assert!(files["ledger/statement.pdf"].starts_with(b"%PDF"));
    let ledger = text(&files["contracts/HT-EVID-15/ledger.json"]);
    assert!(ledger.contains("9000"), "{ledger}");
    let late_fees: serde_json::Value =
        serde_json::from_slice(&files["contracts/HT-EVID-15/late-fees.json"]).expect("json");
    assert_eq!(late_fees["contract_no"], "HT-EVID-15");
    assert_eq!(late_fees["items"][0]["due_date"], "2026-03-10");
    // The notice is there as its PDF, with the contact-log entry that delivered it.
    let index: serde_json::Value =
        serde_json::from_slice(&files["notices/index.json"]).expect("json");
    let notice = &index[0];
    let pdf = &files[notice["file"].as_str().expect("file")];
    assert!(pdf.starts_with(b"%PDF"));
    assert_eq!(
        notice["sha256"].as_str(),
        Some(hex_sha256(pdf).as_str()),
        "the notice's PDF is the one dunning hashed"
    );
    assert!(
        notice["deliveries"]
            .as_array()
            .is_some_and(|d| !d.is_empty()),
        "{notice}"
    );
    let verification = text(&files["contact-log/verification.json"]);
    assert!(verification.contains("\"intact\": true"), "{verification}");

    // collectctl checks it offline, against the published key.
    let dir = tempfile_dir();
    let good = dir.join("bundle.zip");
    std::fs::write(&good, &bundle.bundle).expect("write");
    let good_path = good.display().to_string();
    let out = collectctl(
        &stack,
        None,
        &[
            "evidence",
            "verify",
            &good_path,
            "--public-key",
            &bundle.public_key,
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(said.contains("bundle intact"), "{said}");
    // The contact-log extract proves itself against dunning's signed tree root, offline, and
    // shows no other debtor's entries (R-L8).
    assert!(
        said.contains("contact-log extract: ") && said.contains("entries proved"),
        "{said}"
    );
    let proof: serde_json::Value =
        serde_json::from_slice(&files["contact-log/proof.json"]).expect("json");
    let proven = proof["entries"].as_array().expect("entries");
    assert!(!proven.is_empty());
    assert!(proven.iter().all(|e| e["customer_id"] == customer.as_str()));

    // A flipped byte in the statement: named.
    let mut tampered = files.clone();
    let statement = tampered.get_mut("ledger/statement.pdf").expect("statement");
    let middle = statement.len() / 2;
    statement[middle] ^= 0x01;
    let bad = dir.join("flipped.zip");
    std::fs::write(&bad, rezip(&tampered)).expect("write");
    let out = collectctl(
        &stack,
        None,
        &[
            "evidence",
            "verify",
            &bad.display().to_string(),
            "--public-key",
            &bundle.public_key,
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("ledger/statement.pdf was altered"),
        "{stderr}"
    );

    // A removed notice and an added file: both named, and --json says so too.
    let mut changed = files.clone();
    changed.remove("notices/index.json");
    changed.insert("notices/extra.pdf".to_owned(), b"%PDF-1.7".to_vec());
    let bad = dir.join("changed.zip");
    std::fs::write(&bad, rezip(&changed)).expect("write");
    let out = collectctl(
        &stack,
        None,
        &["evidence", "verify", &bad.display().to_string(), "--json"],
    );
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
    assert_eq!(report["intact"], false);
    let problems: Vec<(String, String)> = report["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| {
            (
                p["problem"].as_str().unwrap_or_default().to_owned(),
                p["path"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        problems,
        [
            ("missing".to_owned(), "notices/index.json".to_owned()),
            ("extra".to_owned(), "notices/extra.pdf".to_owned())
        ]
    );

    // The lawyer's own collectctl writes the same kind of bundle.
    let token = stack
        .auth
        .token(LAWYER, &[Role::Legal], None)
        .or_logs(&stack);
    let out_file = dir.join("cli.zip");
    let said = collectctl_ok(
        &stack,
        &token,
        &[
            "evidence",
            "bundle",
            &case.case_id,
            "--out",
            &out_file.display().to_string(),
        ],
    );
    assert!(said.contains("collectctl evidence verify"), "{said}");
    let again = std::fs::read(&out_file).expect("the bundle file");
    assert!(documents::evidence::verify(&again, Some(&bundle.public_key)).intact());
}

fn hex_sha256(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("evidence-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}
