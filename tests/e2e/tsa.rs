//! Issue 15 item 5, R-L8: the evidence bundle carries an RFC 3161 timestamp when the legal
//! service has a timestamp authority (LEGAL_TSA_URL). A real one runs here: OpenSSL's TSA
//! behind deploy/local/test-tsa.sh, with its own CA. The lawyer's bundle verifies offline
//! against that CA with `collectctl evidence verify --tsa-cert`, showing the token's genTime;
//! a byte changed in manifest.json, a removed token or another CA fail naming the file; with
//! the authority down, no bundle is made (UNAVAILABLE, saying what to do).

use std::collections::BTreeMap;
use std::io::{Cursor, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use prost::Message as _;
use uuid::Uuid;

use devstack::clients::{Clients, eventually};
use devstack::scenario;
use kit::auth::Role;
use proto::events::v1 as events;
use proto::legal::v1 as legal;
use proto::types::v1::Money;

use crate::helpers::{EVENTUALLY, OrLogs, publish, start_with_service_env};
use crate::operator_cli::{collectctl, text};

const LAWYER: &str = "wang.lawyer";

/// The local test TSA (deploy/local/test-tsa.sh), stopped when dropped.
struct TestTsa {
    child: Child,
    url: String,
    dir: PathBuf,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/local/test-tsa.sh")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("e2e-tsa-{name}-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

impl TestTsa {
    async fn start() -> Self {
        let dir = scratch("tsa");
        let ready = dir.join("url");
        let child = Command::new("bash")
            .arg(script())
            .arg("--dir")
            .arg(&dir)
            .arg("--ready-file")
            .arg(&ready)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("bash runs deploy/local/test-tsa.sh (needs openssl and python3)");
        let mut tsa = Self {
            child,
            url: String::new(),
            dir,
        };
        for _ in 0..300 {
            if let Ok(url) = std::fs::read_to_string(&ready) {
                tsa.url = url.trim().to_owned();
                return tsa;
            }
            if let Ok(Some(status)) = tsa.child.try_wait() {
                panic!("deploy/local/test-tsa.sh exited with {status} before it was ready");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the test TSA was not ready within 30 s");
    }

    fn ca(&self) -> String {
        self.dir.join("ca.pem").display().to_string()
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for TestTsa {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Another CA, not the TSA's.
fn other_ca() -> String {
    let dir = scratch("other-ca");
    let out = Command::new("bash")
        .arg(script())
        .args(["--init-only", "--key", "ec", "--dir"])
        .arg(&dir)
        .output()
        .expect("test-tsa.sh --init-only");
    assert!(out.status.success(), "{}", text(&out.stderr));
    dir.join("ca.pem").display().to_string()
}

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

fn rezip(entries: &BTreeMap<String, Vec<u8>>) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in entries {
        zip.start_file(name, zip::write::SimpleFileOptions::default())
            .expect("start");
        zip.write_all(bytes).expect("write");
    }
    zip.finish().expect("finish").into_inner()
}

fn cny(amount: &str) -> Option<Money> {
    Some(Money {
        amount: amount.into(),
        currency: "CNY".into(),
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn the_bundle_is_timestamped_by_the_tsa_and_verifies_against_its_ca_r_l8() {
    let mut tsa = TestTsa::start().await;
    let (stack, mut admin) = start_with_service_env(
        Vec::new(),
        vec![
            ("legal".into(), "LEGAL_TSA_URL".into(), tsa.url.clone()),
            ("legal".into(), "LEGAL_TSA_CA_FILE".into(), tsa.ca()),
            ("legal".into(), "LEGAL_TSA_TIMEOUT_SECS".into(), "5".into()),
        ],
    )
    .await;
    let lawyer = Clients::as_user(&stack, LAWYER, &[Role::Legal], None).or_logs(&stack);
    let customer = scenario::create_customer(&mut admin, "时间戳")
        .await
        .or_logs(&stack);
    let contract = scenario::create_contract(
        &mut admin,
        &customer,
        "HT-TSA-15",
        &[("7000.00", "2026-03-10")],
    )
    .await
    .or_logs(&stack);
    // Dunning's escalation, as dunning publishes it, opens the case (R-L1).
    let receivable = &contract.receivables[0];
    let escalation = events::EscalatedToLegal {
        escalation_id: Uuid::now_v7().to_string(),
        case_id: Uuid::now_v7().to_string(),
        customer_id: customer.clone(),
        amount_claimed: cny("7000.00"),
        receivables: vec![events::ClaimedReceivable {
            receivable_id: receivable.receivable_id.clone(),
            contract_id: contract.contract_id.clone(),
            contract_no: "HT-TSA-15".into(),
            due_date: "2026-03-10".into(),
            days_overdue: 36,
            open_amount: cny("7000.00"),
        }],
        business_date: "2026-04-15".into(),
        reason: "36 days overdue, above 5,000".into(),
    };
    let producer =
        kit::kafka::producer(&stack.kafka, "e2e-tsa", kit::kafka::Compression::default())
            .or_logs(&stack);
    let envelope = kit::events::envelope("dunning", &customer, &escalation);
    publish(
        &producer,
        &stack,
        kit::events::DUNNING,
        &customer,
        &envelope.encode_to_vec(),
    )
    .await
    .or_logs(&stack);
    let case = eventually("the legal case", EVENTUALLY, || async {
        Ok(scenario::legal_cases(&lawyer, &customer, None)
            .await?
            .into_iter()
            .next())
    })
    .await
    .or_logs(&stack);

    let get_bundle = || {
        let mut client = lawyer.legal.clone().max_decoding_message_size(256 << 20);
        let case_id = case.case_id.clone();
        async move {
            client
                .get_evidence_bundle(legal::GetEvidenceBundleRequest { case_id })
                .await
        }
    };
    let bundle = get_bundle().await.or_logs(&stack).into_inner();
    let files = entries(&bundle.bundle);
    assert!(files.contains_key("manifest.tsr"), "{:?}", files.keys());
    let manifest: serde_json::Value =
        serde_json::from_slice(&files["manifest.json"]).expect("manifest");
    assert_eq!(manifest["timestamp_authority"], tsa.url.as_str());

    // Offline, against the service's key and the TSA's CA: intact, with the token's time.
    let dir = scratch("bundles");
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).expect("write");
        path.display().to_string()
    };
    let good = write("bundle.zip", &bundle.bundle);
    let ca = tsa.ca();
    let verify = |path: &str, ca: &str, json: bool| {
        let mut args = vec![
            "evidence",
            "verify",
            path,
            "--public-key",
            &bundle.public_key,
            "--tsa-cert",
            ca,
        ];
        if json {
            args.push("--json");
        }
        collectctl(&stack, None, &args)
    };
    let out = verify(&good, &ca, false);
    let said = text(&out.stdout);
    assert!(out.status.success(), "{said}\n{}", text(&out.stderr));
    assert!(said.contains("bundle intact"), "{said}");
    assert!(
        said.contains("timestamped 20") && said.contains("Collections Test TSA"),
        "{said}"
    );
    assert!(
        said.contains("verified against the trusted TSA certificate"),
        "{said}"
    );
    let out = verify(&good, &ca, true);
    assert!(out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["tsa_pinned"], true);
    let gen_time = report["timestamp"]["gen_time"].as_str().expect("genTime");
    assert!(
        gen_time.ends_with('Z') && gen_time.starts_with("20"),
        "{gen_time}"
    );

    // A byte changed in manifest.json after it was stamped: named.
    let mut altered = files.clone();
    let text_manifest = String::from_utf8(altered["manifest.json"].clone()).expect("utf8");
    altered.insert(
        "manifest.json".into(),
        text_manifest
            .replacen(LAWYER, "wang.lawyeR", 1)
            .into_bytes(),
    );
    let out = verify(&write("altered.zip", &rezip(&altered)), &ca, false);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("manifest.json was altered after it was timestamped"),
        "{stderr}"
    );

    // The token removed: the manifest still names the authority.
    let mut removed = files.clone();
    removed.remove("manifest.tsr");
    let out = verify(&write("removed.zip", &rezip(&removed)), &ca, false);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("manifest.tsr is missing"), "{stderr}");

    // Checked against another CA: not the trusted authority's token.
    let out = verify(&good, &other_ca(), false);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("manifest.tsr") && stderr.contains("not signed by the trusted"),
        "{stderr}"
    );

    // The authority down: no bundle without its token, and the caller is told what to do.
    tsa.stop();
    let refused = get_bundle()
        .await
        .expect_err("no bundle without a timestamp");
    assert_eq!(refused.code(), tonic::Code::Unavailable, "{refused:?}");
    assert!(
        refused.message().contains("LEGAL_TSA_URL") && refused.message().contains("try again"),
        "{}",
        refused.message()
    );
    assert_eq!(
        stack.stop(|_| {}),
        Vec::<String>::new(),
        "services that did not shut down gracefully"
    );
}
