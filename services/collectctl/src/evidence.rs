//! `collectctl evidence`: a legal case's evidence bundle (R-L3, R-L8). `bundle` asks the legal
//! service for it and writes the zip; `verify` checks a bundle offline (no service, no
//! network): the Ed25519 signature over its manifest, the root over its file list and every
//! file's SHA-256, and the RFC 3161 timestamp token when the manifest names a timestamp
//! authority (R-L8; `--tsa-cert` pins the authority), naming every altered, missing or extra
//! file, with exit status 1 when it is not intact.

use std::path::PathBuf;

use anyhow::anyhow;
use clap::{Args, Subcommand};
use documents::evidence::{self, Problem, Report, Trust};
use documents::timestamp::TrustedCerts;
use proto::legal::v1 as api;

use crate::cli::{Failure, Hint, Outcome};
use crate::service;

#[derive(Args)]
pub(crate) struct EvidenceArgs {
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: EvidenceCommand,
}

#[derive(Subcommand)]
enum EvidenceCommand {
    /// Ask the legal service for a case's bundle and write it (legal service; your token is
    /// what it reads contracts and dunning with).
    Bundle {
        /// The legal case.
        case_id: String,
        /// Where to write the zip (default: the name the service gives, in this directory).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// The legal service (default: $LEGAL_URL, else the local stack's port).
        #[arg(long, value_name = "URL")]
        legal: Option<String>,
    },
    /// Check a bundle offline; exit status 1 when anything is wrong, naming the file.
    Verify {
        /// The bundle's zip.
        bundle: PathBuf,
        /// The legal service's published Ed25519 public key (hex). Without it the signature
        /// is checked only against the key the bundle names, which a forger controls too.
        #[arg(long, value_name = "HEX", env = "COLLECTIONS_EVIDENCE_KEY")]
        public_key: Option<String>,
        /// Dunning's published contact-log key (hex, from its ContactLogCheckpointed events):
        /// the contact-log proof's checkpoint must be signed by it.
        #[arg(long, value_name = "HEX", env = "COLLECTIONS_CONTACT_LOG_KEY")]
        contact_log_key: Option<String>,
        /// The timestamp authority's certificate or its CA (PEM or DER): the bundle's
        /// timestamp token (manifest.tsr) must be signed by it or by a certificate it issued.
        /// Without it the token is checked only against the certificate it carries.
        #[arg(long, value_name = "FILE", env = "COLLECTIONS_TSA_CERT")]
        tsa_cert: Option<PathBuf>,
    },
}

/// What to do about a problem.
fn next_step(problem: &Problem) -> &'static str {
    match problem {
        Problem::Unreadable { .. } => {
            "this is not an evidence bundle as the legal service writes them: ask for it again (collectctl evidence bundle CASE)"
        }
        Problem::BadSignature | Problem::RootMismatch => {
            "the manifest was changed after it was signed: do not rely on this copy; ask the legal service for the bundle again"
        }
        Problem::UntrustedKey { .. } => {
            "check --public-key against the key the legal service publishes; a bundle signed by another key is not the service's"
        }
        Problem::Altered { .. } | Problem::Missing { .. } | Problem::Extra { .. } => {
            "this copy was changed after it was made: do not rely on it; ask the legal service for the bundle again"
        }
        Problem::TimestampMissing { .. }
        | Problem::TimestampMismatch
        | Problem::TimestampInvalid { .. } => {
            "the manifest or its timestamp token was changed or removed after it was timestamped: do not rely on this copy; ask the legal service for the bundle again"
        }
        Problem::TimestampUntrusted { .. } => {
            "check --tsa-cert: give the certificate (or CA) of the timestamp authority the legal service uses (its LEGAL_TSA_CA_FILE)"
        }
    }
}

fn report_text(report: &Report) -> String {
    let mut lines = Vec::new();
    if let Some(m) = &report.manifest {
        lines.push(format!(
            "case {} (customer {}), made {} for {} by {}",
            m.case_id, m.customer_id, m.generated_at, m.generated_for, m.issuer
        ));
        lines.push(format!(
            "root {}  key {} ({})",
            m.root_sha256, m.key_id, m.public_key
        ));
        for note in &m.notes {
            lines.push(format!("note: {note}"));
        }
    }
    if let Some(t) = &report.timestamp {
        lines.push(format!(
            "timestamped {} by {} (TSA certificate {}; token serial {}, policy {})",
            t.gen_time,
            t.tsa_name.as_deref().unwrap_or(&t.signer),
            t.signer,
            t.serial_number,
            t.policy
        ));
        lines.push(match &t.trusted_by {
            Some(ca) => format!("timestamp token verified against the trusted TSA certificate {ca}"),
            None => "the timestamp token was checked against the certificate it carries only: give --tsa-cert with the timestamp authority's certificate or CA to rule out a forged token".to_owned(),
        });
    }
    if report.intact() {
        lines.push(format!(
            "bundle intact: {} files match the signed manifest",
            report.files_checked
        ));
        if !report.key_pinned {
            lines.push(
                "the signature was checked against the key the bundle names only: give --public-key with the legal service's published key to rule out a re-signed forgery"
                    .to_owned(),
            );
        }
    }
    lines.join("\n")
}

/// Checks a bundle file; Ok with the text, or the failure naming every problem.
fn verify(
    bundle: &PathBuf,
    public_key: Option<&str>,
    contact_log_key: Option<&str>,
    tsa_cert: Option<&PathBuf>,
    json: bool,
) -> Outcome {
    let bytes = std::fs::read(bundle).hint(format!(
        "cannot read {}: give the path of the bundle's zip",
        bundle.display()
    ))?;
    let tsa = match tsa_cert {
        Some(path) => {
            let pem = std::fs::read(path).hint(format!(
                "cannot read --tsa-cert {}: give the timestamp authority's certificate or CA file",
                path.display()
            ))?;
            Some(TrustedCerts::from_pem_or_der(&pem).map_err(|e| {
                Failure::with_hint(
                    anyhow!("--tsa-cert {}: {e}", path.display()),
                    "give the PEM (or DER) certificate of the timestamp authority or its CA",
                )
            })?)
        }
        None => None,
    };
    let report = evidence::verify_with(
        &bytes,
        Trust {
            key: public_key,
            tsa: tsa.as_ref(),
        },
    );
    // The contact-log extract proves itself against dunning's checkpoint (R-L8), when the
    // files are intact enough to read it.
    let proof = if report.intact() {
        Some(contact_log_proof(&bytes, contact_log_key))
    } else {
        None
    };
    let proof_problem = proof.as_ref().and_then(|p| p.as_ref().err().cloned());
    let proven = proof
        .as_ref()
        .and_then(|p| p.as_ref().ok().copied())
        .flatten();
    let document = serde_json::to_string_pretty(&serde_json::json!({
        "intact": report.intact(),
        "key_pinned": report.key_pinned,
        "files_checked": report.files_checked,
        "timestamp": report.timestamp,
        "tsa_pinned": report.tsa_pinned,
        "problems": report.problems.iter().map(|p| {
            let mut v = serde_json::to_value(p).unwrap_or_default();
            if let Some(obj) = v.as_object_mut() {
                obj.insert("message".into(), p.to_string().into());
            }
            v
        }).collect::<Vec<_>>(),
        "manifest": report.manifest,
        "contact_log_proof": match (&proof_problem, proven) {
            (Some(problem), _) => serde_json::json!({"proved": false, "problem": problem}),
            (None, Some(n)) => serde_json::json!({"proved": true, "entries": n}),
            (None, None) => serde_json::Value::Null,
        },
    }))?;
    if let Some(problem) = proof_problem {
        let failure = Failure::with_hint(
            anyhow!("bundle NOT intact: contact-log/proof.json: {problem}"),
            "the contact-log extract does not prove against dunning's signed checkpoint: do not rely on it; ask for the bundle again and check dunning's log with collectctl contact-log verify",
        );
        return Err(if json {
            failure.with_document(document)
        } else {
            failure
        });
    }
    if report.intact() {
        let mut text = report_text(&report);
        if let Some(n) = proven {
            text.push_str(&format!(
                "\ncontact-log extract: {n} entries proved against dunning's signed checkpoint{}",
                if contact_log_key.is_some() {
                    ""
                } else {
                    " (give --contact-log-key to pin dunning's key)"
                }
            ));
        }
        return Ok(if json { document } else { text });
    }
    let mut message = format!("bundle NOT intact: {} problem(s)", report.problems.len());
    for p in &report.problems {
        message.push_str(&format!("\n  {p}"));
    }
    let failure = Failure::with_hint(anyhow!(message), next_step(&report.problems[0]));
    Err(if json {
        failure.with_document(document)
    } else {
        failure
    })
}

/// Checks `contact-log/proof.json` of an intact bundle: Ok(None) when there is none, Ok(n)
/// with the entries proved, Err naming the problem.
fn contact_log_proof(zip: &[u8], trusted: Option<&str>) -> Result<Option<usize>, String> {
    let Some(bytes) = evidence::read_file(zip, "contact-log/proof.json") else {
        return Ok(None);
    };
    let proof: dunning::domain::log_proof::ExtractProof =
        serde_json::from_slice(&bytes).map_err(|e| format!("not a contact-log proof: {e}"))?;
    proof.verify(trusted).map(Some).map_err(|e| e.to_string())
}

pub(crate) fn run(args: EvidenceArgs) -> Outcome {
    let json = args.json;
    match args.command {
        EvidenceCommand::Verify {
            bundle,
            public_key,
            contact_log_key,
            tsa_cert,
        } => verify(
            &bundle,
            public_key.as_deref(),
            contact_log_key.as_deref(),
            tsa_cert.as_ref(),
            json,
        ),
        EvidenceCommand::Bundle {
            case_id,
            out,
            legal,
        } => service::block_on(async move {
            let mut client = service::legal(legal).await?;
            let response = client
                .get_evidence_bundle(api::GetEvidenceBundleRequest {
                    case_id: case_id.clone(),
                })
                .await
                .map_err(service::status)?
                .into_inner();
            let path = out.unwrap_or_else(|| PathBuf::from(&response.file_name));
            // The timestamp the bundle carries (R-L8), read back from it.
            let stamped = evidence::verify(&response.bundle, None).timestamp;
            std::fs::write(&path, &response.bundle).hint(format!(
                "cannot write {}: give --out FILE in a directory you may write to",
                path.display()
            ))?;
            if json {
                return Ok(serde_json::to_string_pretty(&serde_json::json!({
                    "file": path.display().to_string(),
                    "bytes": response.bundle.len(),
                    "files": response.files,
                    "root_sha256": response.root_sha256,
                    "key_id": response.key_id,
                    "public_key": response.public_key,
                    "notes": response.notes,
                    "timestamp": stamped,
                }))?);
            }
            let mut text = format!(
                "wrote {} ({} bytes, {} files)\nroot {}\nsigned by {} ({})",
                path.display(),
                response.bundle.len(),
                response.files,
                response.root_sha256,
                response.key_id,
                response.public_key
            );
            for note in &response.notes {
                text.push_str(&format!("\nnote: {note}"));
            }
            if let Some(t) = &stamped {
                text.push_str(&format!(
                    "\ntimestamped {} by {} (RFC 3161 token in manifest.tsr; verify with --tsa-cert)",
                    t.gen_time,
                    t.tsa_name.as_deref().unwrap_or(&t.signer)
                ));
            }
            text.push_str(&format!(
                "\ncheck it: collectctl evidence verify {} --public-key {}",
                path.display(),
                response.public_key
            ));
            Ok(text)
        }),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: EvidenceArgs,
    }

    #[test]
    fn bundle_and_verify_parse() {
        let cli = Cli::try_parse_from([
            "evidence",
            "verify",
            "b.zip",
            "--public-key",
            "ab",
            "--json",
        ])
        .expect("parses");
        assert!(cli.args.json);
        assert!(Cli::try_parse_from(["evidence", "bundle", "C1", "--out", "x.zip"]).is_ok());
        // R-L8: the timestamp authority's certificate.
        let cli = Cli::try_parse_from(["evidence", "verify", "b.zip", "--tsa-cert", "tsa-ca.pem"])
            .expect("parses");
        match cli.args.command {
            EvidenceCommand::Verify { tsa_cert, .. } => {
                assert_eq!(tsa_cert, Some(PathBuf::from("tsa-ca.pem")));
            }
            EvidenceCommand::Bundle { .. } => panic!("verify expected"),
        }
        assert!(Cli::try_parse_from(["evidence", "verify", "b.zip", "--tsa-cert"]).is_err());
    }

    #[test]
    fn an_unreadable_tsa_cert_says_what_to_give() {
        let dir = tempfile::tempdir().expect("dir");
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, b"not a certificate").expect("write");
        let bundle = dir.path().join("b.zip");
        std::fs::write(&bundle, b"PK").expect("write");
        let failure = verify(&bundle, None, None, Some(&junk), false).expect_err("junk");
        assert!(
            failure.describe().contains("--tsa-cert"),
            "{}",
            failure.describe()
        );
        let missing = dir.path().join("missing.pem");
        let failure = verify(&bundle, None, None, Some(&missing), false).expect_err("missing");
        assert!(
            failure
                .hint_text()
                .is_some_and(|h| h.contains("--tsa-cert")),
            "{:?}",
            failure.hint_text()
        );
    }

    #[test]
    fn a_tampered_bundle_fails_naming_the_file_r_l8() {
        let signer = evidence::Signer::generate().expect("key");
        let bundle = evidence::build(
            evidence::BundleHeader {
                case_id: "c".into(),
                customer_id: "u".into(),
                generated_at: "2026-12-05T00:00:00Z".into(),
                generated_for: "lawyer".into(),
                issuer: "legal".into(),
                timestamp_authority: None,
                notes: vec![],
            },
            vec![evidence::BundleFile::new(
                "case/case.json",
                "case",
                b"{}".to_vec(),
            )],
            &signer,
        )
        .expect("bundle");
        let dir = tempfile::tempdir().expect("dir");
        let good = dir.path().join("good.zip");
        std::fs::write(&good, &bundle.zip).expect("write");
        let key = signer.public_key_hex();
        let text = verify(&good, Some(&key), None, None, false).expect("intact");
        assert!(text.contains("bundle intact: 1 files"), "{text}");
        let other = evidence::Signer::generate().expect("key").public_key_hex();
        let failure = verify(&good, Some(&other), None, None, false).expect_err("untrusted");
        assert!(failure.describe().contains("not by the trusted key"));
    }
}
