//! The bundle's RFC 3161 timestamp (R-L8), end to end within the crate: our request, answered by
//! OpenSSL's TSA (`openssl ts -reply`, set up by deploy/local/test-tsa.sh), checked, stored as
//! manifest.tsr and verified offline; altered, removed or foreign tokens are named.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::*;
use crate::timestamp::{Request, accept_reply};

/// A throwaway OpenSSL TSA (CA, TSA certificate, config) in a temporary directory.
struct Tsa {
    dir: tempfile::TempDir,
}

impl Tsa {
    fn new(key: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/local/test-tsa.sh");
        let out = Command::new("bash")
            .arg(&script)
            .args(["--init-only", "--key", key, "--dir"])
            .arg(dir.path())
            .output()
            .expect("bash runs deploy/local/test-tsa.sh (needs openssl)");
        assert!(
            out.status.success(),
            "test-tsa.sh: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Self { dir }
    }

    fn ca(&self) -> TrustedCerts {
        TrustedCerts::from_pem_or_der(&std::fs::read(self.path("ca.pem")).expect("ca.pem"))
            .expect("ca")
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// OpenSSL's reply to our request.
    fn reply(&self, request: &Request) -> Vec<u8> {
        std::fs::write(self.path("q.tsq"), request.der()).expect("query");
        let out = Command::new("openssl")
            .args(["ts", "-reply", "-config"])
            .arg(self.path("tsa.cnf"))
            .arg("-queryfile")
            .arg(self.path("q.tsq"))
            .arg("-out")
            .arg(self.path("r.tsr"))
            .output()
            .expect("openssl runs");
        assert!(
            out.status.success(),
            "openssl ts -reply: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::read(self.path("r.tsr")).expect("reply")
    }
}

const URL: &str = "http://127.0.0.1:3180/";

fn stamped_header() -> BundleHeader {
    BundleHeader {
        case_id: "case-1".into(),
        customer_id: "cust-1".into(),
        generated_at: "2026-12-05T10:00:00Z".into(),
        generated_for: "lawyer-li".into(),
        issuer: "legal".into(),
        timestamp_authority: Some(URL.into()),
        notes: vec![],
    }
}

fn files() -> Vec<BundleFile> {
    vec![
        BundleFile::new("case/case.json", "the case", b"{\"case\":1}".to_vec()),
        BundleFile::new("notices/DN-1.pdf", "notice 1", vec![7u8; 5000]),
    ]
}

/// A bundle timestamped by `tsa`, and the signer.
fn stamped(tsa: &Tsa) -> (Bundle, Signer) {
    let signer = Signer::generate().expect("key");
    let prepared = prepare(stamped_header(), files(), &signer).expect("prepared");
    let request = Request::for_message(prepared.manifest_bytes()).expect("request");
    let stamp = accept_reply(&request, &tsa.reply(&request), Some(&tsa.ca())).expect("granted");
    (prepared.finish(Some(stamp.token)).expect("bundle"), signer)
}

fn rezip(zip_bytes: &[u8], change: impl FnOnce(&mut BTreeMap<String, Vec<u8>>)) -> Vec<u8> {
    let mut entries: BTreeMap<String, Vec<u8>> = unpack(zip_bytes)
        .expect("unpack")
        .into_iter()
        .map(|(name, bytes)| (name, bytes.expect("entry")))
        .collect();
    change(&mut entries);
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in &entries {
        zip.start_file(name, zip::write::SimpleFileOptions::default())
            .expect("start");
        zip.write_all(bytes).expect("write");
    }
    zip.finish().expect("finish").into_inner()
}

#[test]
fn a_timestamped_bundle_verifies_against_the_tsa_ca_rsa_and_ecdsa_r_l8() {
    for key in ["rsa", "ec"] {
        let tsa = Tsa::new(key);
        let (bundle, signer) = stamped(&tsa);
        assert_eq!(bundle.manifest.timestamp_authority.as_deref(), Some(URL));
        let ca = tsa.ca();
        let key_hex = signer.public_key_hex();
        let report = verify_with(
            &bundle.zip,
            Trust {
                key: Some(&key_hex),
                tsa: Some(&ca),
            },
        );
        assert!(report.intact(), "{key}: {:?}", report.problems);
        assert!(report.tsa_pinned);
        let info = report.timestamp.expect("token info");
        assert!(info.gen_time.ends_with('Z'), "{info:?}");
        assert!(info.signer.contains("Collections Test TSA"), "{info:?}");
        // Unpinned, the token is checked against the certificate it carries.
        let unpinned = verify(&bundle.zip, Some(&key_hex));
        assert!(unpinned.intact() && !unpinned.tsa_pinned && unpinned.timestamp.is_some());
    }
}

#[test]
fn an_altered_manifest_a_removed_token_or_another_tsa_are_named_r_l8() {
    let tsa = Tsa::new("rsa");
    let (bundle, _) = stamped(&tsa);
    let ca = tsa.ca();
    let trust = Trust {
        key: None,
        tsa: Some(&ca),
    };
    // One byte of the manifest: the signature and the timestamp both say so.
    let edited = rezip(&bundle.zip, |e| {
        let text = String::from_utf8(e[MANIFEST].clone()).expect("utf8");
        e.insert(
            MANIFEST.into(),
            text.replace("lawyer-li", "lawyer-lj").into_bytes(),
        );
    });
    let report = verify_with(&edited, trust);
    assert_eq!(
        report.problems,
        vec![Problem::BadSignature, Problem::TimestampMismatch]
    );
    assert!(
        report.problems[1]
            .to_string()
            .contains("manifest.json was altered")
    );
    // Even when the edit breaks the JSON.
    let broken = rezip(&bundle.zip, |e| {
        e.get_mut(MANIFEST).expect("manifest")[0] ^= 0x01;
    });
    assert!(
        verify_with(&broken, trust)
            .problems
            .contains(&Problem::TimestampMismatch)
    );
    // The token removed: the manifest still names the authority.
    let removed = rezip(&bundle.zip, |e| {
        e.remove(TIMESTAMP);
    });
    let report = verify_with(&removed, trust);
    assert_eq!(
        report.problems,
        vec![Problem::TimestampMissing {
            authority: URL.into()
        }]
    );
    assert!(
        report.problems[0]
            .to_string()
            .contains("manifest.tsr is missing")
    );
    // A flipped byte in the token.
    let flipped = rezip(&bundle.zip, |e| {
        let token = e.get_mut(TIMESTAMP).expect("token");
        let last = token.len() - 1;
        token[last] ^= 0x01;
    });
    assert!(matches!(
        verify_with(&flipped, trust).problems.as_slice(),
        [Problem::TimestampInvalid { .. }]
    ));
    // Another TSA's CA: the token is not from the trusted authority.
    let other = Tsa::new("ec").ca();
    let report = verify_with(
        &bundle.zip,
        Trust {
            key: None,
            tsa: Some(&other),
        },
    );
    assert!(
        matches!(
            report.problems.as_slice(),
            [Problem::TimestampUntrusted { .. }]
        ),
        "{:?}",
        report.problems
    );
}

#[test]
fn a_token_and_the_manifest_must_agree() {
    let signer = Signer::generate().expect("key");
    let prepared = prepare(stamped_header(), files(), &signer).expect("prepared");
    assert!(matches!(
        prepared.finish(None),
        Err(BundleError::Timestamp(_))
    ));
    let mut plain = stamped_header();
    plain.timestamp_authority = None;
    assert!(matches!(
        prepare(plain.clone(), files(), &signer)
            .expect("prepared")
            .finish(Some(vec![0x30, 0x00])),
        Err(BundleError::Timestamp(_))
    ));
    // A token slipped into an unstamped bundle is an extra file; the manifest format of
    // unstamped bundles is unchanged (no timestamp_authority key).
    let bundle = build(plain, files(), &signer).expect("bundle");
    let text =
        String::from_utf8(read_file(&bundle.zip, MANIFEST).expect("manifest")).expect("utf8");
    assert!(!text.contains("timestamp_authority"));
    let slipped = rezip(&bundle.zip, |e| {
        e.insert(TIMESTAMP.into(), vec![0x30, 0x00]);
    });
    assert_eq!(
        verify(&slipped, None).problems,
        vec![Problem::Extra {
            path: TIMESTAMP.into()
        }]
    );
}
