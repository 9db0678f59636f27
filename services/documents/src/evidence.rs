//! Evidence bundles (R-L3, R-L8): a zip of the files a court needs about one legal case, with a
//! manifest that names every file with its SHA-256 and size, a root over all of them, and an
//! Ed25519 signature by the service that made it. Anyone holding the service's public key can
//! check a bundle offline ([`verify`]): an altered, missing or extra file is named.
//!
//! The layout of a bundle:
//!
//! ```text
//! manifest.json     what the bundle is ([`Manifest`]): every file, its SHA-256 and size, the root
//! manifest.sig      the Ed25519 signature over the exact bytes of manifest.json, as hex
//! manifest.tsr      where a timestamp authority is configured: its RFC 3161 token (DER) over
//!                   the exact bytes of manifest.json
//! …                 the files the manifest lists
//! ```
//!
//! The timestamp (R-L8, "anchored when it was written"): the manifest names the authority
//! (`timestamp_authority`, its URL) *before* it is hashed, signed and sent, so the token covers
//! a manifest that says it is timestamped, and removing `manifest.tsr` is caught: a manifest
//! naming an authority needs its token. The token cannot be listed in the manifest it covers;
//! it is checked against the manifest's bytes instead ([`crate::timestamp::verify_token`]).
//!
//! The root is the SHA-256 of the manifest's file list written as `sha256sum` writes it, one
//! line `<sha256 hex>  <path>\n` per file, ordered by path (bytewise), so it can be recomputed
//! with coreutils alone:
//!
//! ```text
//! unzip bundle.zip -d b && cd b && find . -type f ! -name 'manifest.*' | sed 's|^\./||' \
//!   | LC_ALL=C sort | xargs sha256sum | sha256sum
//! ```
//!
//! Paths are relative, `/`-separated, made of ASCII letters, digits, `.`, `_`, `-` (no `..`), so
//! the line format is unambiguous. The zip is deterministic: entries in path order, every
//! timestamp 1980-01-01, deflate; the same files give the same bytes.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::{Cursor, Read, Write};

use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::timestamp::{TimestampError, TokenInfo, TrustedCerts, verify_token};

/// The format tag in every manifest.
pub const FORMAT: &str = "receivables-evidence-bundle/1";
/// The manifest's name in the zip.
pub const MANIFEST: &str = "manifest.json";
/// The signature's name in the zip.
pub const SIGNATURE: &str = "manifest.sig";
/// The timestamp token's name in the zip (RFC 3161, DER).
pub const TIMESTAMP: &str = "manifest.tsr";
/// The most a bundle may unpack to (a guard against zip bombs when verifying).
pub const MAX_UNPACKED_BYTES: u64 = 1 << 30;

/// One file of a bundle, as the manifest lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    /// Its path in the zip.
    pub path: String,
    /// SHA-256 of its bytes (lower-case hex).
    pub sha256: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// What it is, for the reader (e.g. "the contract as signed, schedule version 1").
    pub description: String,
}

/// What a bundle is: who it is about, who made it and when, and its files.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: String,
    /// The legal case.
    pub case_id: String,
    /// The debtor.
    pub customer_id: String,
    /// When it was made (RFC 3339, UTC).
    pub generated_at: String,
    /// The authenticated principal it was made for.
    pub generated_for: String,
    /// The service that made and signed it.
    pub issuer: String,
    /// The signing key's id and its Ed25519 public key (hex). Verify against the key the
    /// issuer publishes, not only against this one: whoever forges a bundle signs it too.
    pub key_id: String,
    /// Hex of the 32-byte public key.
    pub public_key: String,
    /// The RFC 3161 timestamp authority (URL) whose token over this manifest is
    /// `manifest.tsr`; absent: the bundle is not timestamped (no authority was configured).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_authority: Option<String>,
    /// The files, ordered by path.
    pub files: Vec<ManifestFile>,
    /// SHA-256 over the file list in `sha256sum` form (see the module documentation).
    pub root_sha256: String,
    /// Notes on what the bundle holds and does not (e.g. a source that was unavailable).
    pub notes: Vec<String>,
}

/// A file to put in a bundle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleFile {
    /// Its path (see the module documentation for what a path may hold).
    pub path: String,
    /// What it is, for the reader.
    pub description: String,
    /// Its contents.
    pub bytes: Vec<u8>,
}

impl BundleFile {
    /// A file at `path` with `bytes`.
    pub fn new(path: impl Into<String>, description: impl Into<String>, bytes: Vec<u8>) -> Self {
        Self {
            path: path.into(),
            description: description.into(),
            bytes,
        }
    }
}

/// Who a bundle is about and for; the rest of the manifest comes from the files and the key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleHeader {
    /// The legal case.
    pub case_id: String,
    /// The debtor.
    pub customer_id: String,
    /// RFC 3339, UTC.
    pub generated_at: String,
    /// The authenticated principal.
    pub generated_for: String,
    /// The service making it.
    pub issuer: String,
    /// The timestamp authority's URL when the bundle will carry its token (see [`prepare`]).
    pub timestamp_authority: Option<String>,
    /// Notes for the reader.
    pub notes: Vec<String>,
}

/// Why a bundle could not be made.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// A path the format does not allow.
    #[error(
        "file path {0:?} is not allowed in an evidence bundle: use relative paths of ASCII letters, digits, '.', '_', '-' and '/' (no '..', not manifest.json, manifest.sig or manifest.tsr)"
    )]
    BadPath(String),
    /// Two files with one path.
    #[error("two files have the path {0}: every file of a bundle needs its own path")]
    DuplicatePath(String),
    /// Writing the zip failed.
    #[error("the bundle's zip could not be written: {0}")]
    Zip(String),
    /// A token without an authority named in the manifest, or the other way round.
    #[error("{0}")]
    Timestamp(String),
}

/// The signing key of an issuer (Ed25519).
pub struct Signer {
    key: Ed25519KeyPair,
    id: String,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// A key from its PKCS#8 (DER) bytes; its id is `ed25519:` and the first 16 hex digits of
    /// the public key.
    ///
    /// # Errors
    /// The bytes are not an Ed25519 PKCS#8 key.
    pub fn from_pkcs8(der: &[u8]) -> Result<Self, String> {
        let key = Ed25519KeyPair::from_pkcs8(der).map_err(|e| e.to_string())?;
        let public = hex::encode(key.public_key().as_ref());
        let id = format!("ed25519:{}", &public[..16]);
        Ok(Self { key, id })
    }

    /// A fresh random key (development and tests).
    ///
    /// # Errors
    /// The system has no randomness.
    pub fn generate() -> Result<Self, String> {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng)
            .map_err(|_| "no Ed25519 key could be generated".to_owned())?;
        Self::from_pkcs8(pkcs8.as_ref())
    }

    /// The key's id.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The public key, hex.
    #[must_use]
    pub fn public_key_hex(&self) -> String {
        hex::encode(self.key.public_key().as_ref())
    }

    fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.key.sign(message).as_ref().to_vec()
    }
}

/// A bundle made: the zip and its manifest.
#[derive(Clone, Debug)]
pub struct Bundle {
    /// The zip's bytes.
    pub zip: Vec<u8>,
    /// The manifest it holds.
    pub manifest: Manifest,
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Whether `path` may name a file of a bundle.
#[must_use]
pub fn is_allowed_path(path: &str) -> bool {
    !path.is_empty()
        && path.len() <= 200
        && path != MANIFEST
        && path != SIGNATURE
        && path != TIMESTAMP
        && !path.starts_with('/')
        && !path.ends_with('/')
        && path.split('/').all(|part| {
            !part.is_empty()
                && part != "."
                && part != ".."
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        })
}

/// The root over a file list (see the module documentation): `files` in any order.
#[must_use]
pub fn root_of(files: &[ManifestFile]) -> String {
    let mut lines: Vec<(&str, &str)> = files
        .iter()
        .map(|f| (f.path.as_str(), f.sha256.as_str()))
        .collect();
    lines.sort_unstable();
    let mut h = Sha256::new();
    for (path, sha) in lines {
        h.update(sha.as_bytes());
        h.update(b"  ");
        h.update(path.as_bytes());
        h.update(b"\n");
    }
    hex::encode(h.finalize())
}

/// A bundle's manifest made and signed, its zip not yet written: the moment to timestamp
/// [`Prepared::manifest_bytes`] when the header names an authority.
#[derive(Debug)]
pub struct Prepared {
    manifest: Manifest,
    manifest_bytes: Vec<u8>,
    signature: String,
    files: Vec<BundleFile>,
}

/// Makes a bundle of `files`, signed by `signer`, without a timestamp (the header names no
/// authority).
///
/// # Errors
/// A path the format does not allow, two files with one path, the zip could not be written,
/// or the header names a timestamp authority (use [`prepare`] and give the token).
pub fn build(
    header: BundleHeader,
    files: Vec<BundleFile>,
    signer: &Signer,
) -> Result<Bundle, BundleError> {
    prepare(header, files, signer)?.finish(None)
}

/// Lists, hashes and signs `files`: the manifest is final (the timestamp authority, if any, is
/// in it), the zip is written by [`Prepared::finish`].
///
/// # Errors
/// A path the format does not allow, two files with one path.
pub fn prepare(
    header: BundleHeader,
    mut files: Vec<BundleFile>,
    signer: &Signer,
) -> Result<Prepared, BundleError> {
    files.sort_by(|a, b| a.path.cmp(&b.path));
    for pair in files.windows(2) {
        if pair[0].path == pair[1].path {
            return Err(BundleError::DuplicatePath(pair[0].path.clone()));
        }
    }
    if let Some(bad) = files.iter().find(|f| !is_allowed_path(&f.path)) {
        return Err(BundleError::BadPath(bad.path.clone()));
    }
    let listed: Vec<ManifestFile> = files
        .iter()
        .map(|f| ManifestFile {
            path: f.path.clone(),
            sha256: sha256_hex(&f.bytes),
            bytes: u64::try_from(f.bytes.len()).unwrap_or(u64::MAX),
            description: f.description.clone(),
        })
        .collect();
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        case_id: header.case_id,
        customer_id: header.customer_id,
        generated_at: header.generated_at,
        generated_for: header.generated_for,
        issuer: header.issuer,
        key_id: signer.id().to_owned(),
        public_key: signer.public_key_hex(),
        timestamp_authority: header.timestamp_authority,
        root_sha256: root_of(&listed),
        files: listed,
        notes: header.notes,
    };
    let manifest_bytes = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| BundleError::Zip(format!("manifest: {e}")))?;
    let signature = format!("{}\n", hex::encode(signer.sign(&manifest_bytes)));
    Ok(Prepared {
        manifest,
        manifest_bytes,
        signature,
        files,
    })
}

impl Prepared {
    /// The exact bytes of `manifest.json`: what is signed and what a timestamp must cover.
    #[must_use]
    pub fn manifest_bytes(&self) -> &[u8] {
        &self.manifest_bytes
    }

    /// The manifest.
    #[must_use]
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Writes the zip, with `timestamp` (the authority's token over [`Self::manifest_bytes`],
    /// DER) as `manifest.tsr`.
    ///
    /// # Errors
    /// A token without an authority in the manifest or an authority without a token; the zip
    /// could not be written.
    pub fn finish(self, timestamp: Option<Vec<u8>>) -> Result<Bundle, BundleError> {
        match (&self.manifest.timestamp_authority, &timestamp) {
            (Some(tsa), None) => {
                return Err(BundleError::Timestamp(format!(
                    "the manifest names the timestamp authority {tsa} but no token was given"
                )));
            }
            (None, Some(_)) => {
                return Err(BundleError::Timestamp(
                    "a timestamp token was given but the manifest names no timestamp authority"
                        .to_owned(),
                ));
            }
            _ => {}
        }
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(zip::DateTime::default());
        let mut put = |name: &str, bytes: &[u8]| -> Result<(), BundleError> {
            zip.start_file(name, options)
                .map_err(|e| BundleError::Zip(format!("{name}: {e}")))?;
            zip.write_all(bytes)
                .map_err(|e| BundleError::Zip(format!("{name}: {e}")))
        };
        put(MANIFEST, &self.manifest_bytes)?;
        put(SIGNATURE, self.signature.as_bytes())?;
        if let Some(token) = &timestamp {
            put(TIMESTAMP, token)?;
        }
        for f in &self.files {
            put(&f.path, &f.bytes)?;
        }
        let zip = zip
            .finish()
            .map_err(|e| BundleError::Zip(e.to_string()))?
            .into_inner();
        Ok(Bundle {
            zip,
            manifest: self.manifest,
        })
    }
}

/// Something wrong with a bundle, naming the file where there is one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum Problem {
    /// Not a zip, or a zip without a readable manifest or signature: nothing else can be
    /// checked.
    Unreadable {
        /// Why.
        detail: String,
    },
    /// The signature is not the manifest's key's over the manifest: the manifest was changed
    /// (or the signature).
    BadSignature,
    /// The manifest is signed by another key than the one the verifier trusts.
    UntrustedKey {
        /// The key in the manifest (hex).
        found: String,
        /// The key given to trust (hex).
        trusted: String,
    },
    /// The root does not match the manifest's file list.
    RootMismatch,
    /// A listed file's bytes differ from its hash or size.
    Altered {
        /// The file.
        path: String,
    },
    /// A listed file is not in the zip.
    Missing {
        /// The file.
        path: String,
    },
    /// A file in the zip the manifest does not list.
    Extra {
        /// The file.
        path: String,
    },
    /// The manifest names a timestamp authority but `manifest.tsr` is not in the bundle.
    TimestampMissing {
        /// The authority the manifest names.
        authority: String,
    },
    /// The token covers other bytes than `manifest.json`: the manifest was changed after it
    /// was timestamped (or the token swapped).
    TimestampMismatch,
    /// `manifest.tsr` is not a valid timestamp token (unreadable, bad signature, not a TSA
    /// certificate, …).
    TimestampInvalid {
        /// What is wrong.
        detail: String,
    },
    /// The token is valid but not signed by the TSA the verifier trusts.
    TimestampUntrusted {
        /// Who signed it, and what was trusted.
        detail: String,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Unreadable { detail } => write!(f, "not a readable evidence bundle: {detail}"),
            Problem::BadSignature => f.write_str(
                "manifest.json is not what its key signed: the manifest or its signature was changed",
            ),
            Problem::UntrustedKey { found, trusted } => write!(
                f,
                "the bundle is signed by key {found}, not by the trusted key {trusted}"
            ),
            Problem::RootMismatch => {
                f.write_str("the manifest's root does not match its file list")
            }
            Problem::Altered { path } => {
                write!(f, "{path} was altered: its SHA-256 or size is not the signed one")
            }
            Problem::Missing { path } => write!(f, "{path} is listed in the manifest but missing"),
            Problem::Extra { path } => write!(f, "{path} is in the bundle but not in the manifest"),
            Problem::TimestampMissing { authority } => write!(
                f,
                "{TIMESTAMP} is missing: the manifest names the timestamp authority {authority}, so the bundle must carry its token"
            ),
            Problem::TimestampMismatch => write!(
                f,
                "{MANIFEST} was altered after it was timestamped: the token in {TIMESTAMP} covers other bytes"
            ),
            Problem::TimestampInvalid { detail } => {
                write!(f, "{TIMESTAMP} is not a valid timestamp token: {detail}")
            }
            Problem::TimestampUntrusted { detail } => write!(
                f,
                "{TIMESTAMP} is not signed by the trusted timestamp authority: {detail}"
            ),
        }
    }
}

/// What verifying a bundle found.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The manifest, when it could be read.
    pub manifest: Option<Manifest>,
    /// Whether the signature was checked against a key the verifier gave (rather than only
    /// the key the bundle names).
    pub key_pinned: bool,
    /// Files checked against the manifest.
    pub files_checked: usize,
    /// The timestamp token's content, when the bundle has a valid one (R-L8).
    pub timestamp: Option<TokenInfo>,
    /// Whether the token was checked against a TSA certificate the verifier gave (rather than
    /// only the certificate the token carries).
    pub tsa_pinned: bool,
    /// Everything wrong; empty: the bundle is intact.
    pub problems: Vec<Problem>,
}

impl Report {
    /// Whether nothing is wrong.
    #[must_use]
    pub fn intact(&self) -> bool {
        self.problems.is_empty()
    }
}

fn unreadable(detail: impl Into<String>, key_pinned: bool) -> Report {
    Report {
        manifest: None,
        key_pinned,
        files_checked: 0,
        timestamp: None,
        tsa_pinned: false,
        problems: vec![Problem::Unreadable {
            detail: detail.into(),
        }],
    }
}

/// What a verifier trusts beyond the bundle itself.
#[derive(Clone, Copy, Debug, Default)]
pub struct Trust<'a> {
    /// The issuer's published Ed25519 key (hex).
    pub key: Option<&'a str>,
    /// The timestamp authority's certificate or CA.
    pub tsa: Option<&'a TrustedCerts>,
}

/// The timestamp check of a bundle: `token` (manifest.tsr, if any) against the manifest's
/// bytes, as the manifest says it should be.
fn check_timestamp(
    manifest: &Manifest,
    manifest_bytes: &[u8],
    token: Option<&Unpacked>,
    trusted: Option<&TrustedCerts>,
    problems: &mut Vec<Problem>,
) -> Option<TokenInfo> {
    match (&manifest.timestamp_authority, token) {
        (None, None) => None,
        (None, Some(_)) => {
            problems.push(Problem::Extra {
                path: TIMESTAMP.to_owned(),
            });
            None
        }
        (Some(authority), None) => {
            problems.push(Problem::TimestampMissing {
                authority: authority.clone(),
            });
            None
        }
        (Some(_), Some(Err(e))) => {
            problems.push(Problem::TimestampInvalid { detail: e.clone() });
            None
        }
        (Some(_), Some(Ok(token))) => match verify_token(token, manifest_bytes, trusted) {
            Ok(info) => Some(info),
            Err(TimestampError::ImprintMismatch) => {
                problems.push(Problem::TimestampMismatch);
                None
            }
            Err(TimestampError::Untrusted(detail)) => {
                problems.push(Problem::TimestampUntrusted { detail });
                None
            }
            Err(e) => {
                problems.push(Problem::TimestampInvalid {
                    detail: e.to_string(),
                });
                None
            }
        },
    }
}

/// What one zip entry unpacked to: its bytes, or why they cannot be read back (a corrupted
/// entry: its compressed data or checksum no longer match).
type Unpacked = Result<Vec<u8>, String>;

/// Reads every entry of a zip, refusing more than [`MAX_UNPACKED_BYTES`] in all. An entry
/// that cannot be read back is kept with its error, so the file can be named.
fn unpack(zip_bytes: &[u8]) -> Result<BTreeMap<String, Unpacked>, String> {
    let mut archive =
        zip::ZipArchive::new(Cursor::new(zip_bytes)).map_err(|e| format!("not a zip file: {e}"))?;
    let mut out = BTreeMap::new();
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        // The central directory's name, also for an entry that does not read back.
        let listed_name = archive
            .name_for_index(i)
            .and_then(Result::ok)
            .map_or_else(|| format!("entry {i}"), std::borrow::Cow::into_owned);
        let (name, bytes) = match archive.by_index(i) {
            Ok(mut entry) => {
                if entry.is_dir() {
                    continue;
                }
                let name = entry
                    .name()
                    .map_err(|e| format!("entry {i} has no readable name: {e}"))?
                    .into_owned();
                let left = MAX_UNPACKED_BYTES.saturating_sub(total);
                let mut bytes = Vec::new();
                let read = (&mut entry)
                    .take(left.saturating_add(1))
                    .read_to_end(&mut bytes)
                    .map_err(|e| format!("{name}: {e}"));
                total = total.saturating_add(u64::try_from(bytes.len()).unwrap_or(u64::MAX));
                (name, read.map(|_| bytes))
            }
            Err(e) => (listed_name, Err(e.to_string())),
        };
        if total > MAX_UNPACKED_BYTES {
            return Err(format!(
                "it unpacks to more than {MAX_UNPACKED_BYTES} bytes; no bundle is that large"
            ));
        }
        if out.insert(name.clone(), bytes).is_some() {
            return Err(format!("the zip holds {name} twice"));
        }
    }
    Ok(out)
}

/// One file of a bundle by its path (None when absent or unreadable); for checks beyond the
/// manifest's, on a bundle [`verify`] found intact.
#[must_use]
pub fn read_file(zip_bytes: &[u8], path: &str) -> Option<Vec<u8>> {
    let mut archive = zip::ZipArchive::new(Cursor::new(zip_bytes)).ok()?;
    let entry = archive.by_name(path).ok()?;
    let mut bytes = Vec::new();
    entry
        .take(MAX_UNPACKED_BYTES)
        .read_to_end(&mut bytes)
        .ok()?;
    Some(bytes)
}

/// Checks a bundle offline: the signature over the manifest (under `trusted_key`, hex, when
/// given; otherwise under the key the manifest names, and [`Report::key_pinned`] says so), the
/// root over the file list, and every file against its hash and size; names every altered,
/// missing and extra file. A timestamp token is checked against the certificate it carries
/// only; [`verify_with`] pins the TSA.
#[must_use]
pub fn verify(zip_bytes: &[u8], trusted_key: Option<&str>) -> Report {
    verify_with(
        zip_bytes,
        Trust {
            key: trusted_key,
            tsa: None,
        },
    )
}

/// [`verify`], and the timestamp token (R-L8) against `trust.tsa` when given: a manifest naming
/// a timestamp authority needs `manifest.tsr`, whose token must cover the manifest's exact
/// bytes, verify with the TSA certificate it carries and, given one, chain to the trusted TSA
/// certificate or CA.
#[must_use]
pub fn verify_with(zip_bytes: &[u8], trust: Trust<'_>) -> Report {
    let trusted_key = trust.key;
    let key_pinned = trusted_key.is_some();
    let mut files = match unpack(zip_bytes) {
        Ok(files) => files,
        Err(detail) => return unreadable(detail, key_pinned),
    };
    let manifest_bytes = match files.remove(MANIFEST) {
        Some(Ok(bytes)) => bytes,
        Some(Err(e)) => return unreadable(format!("{MANIFEST} cannot be read: {e}"), key_pinned),
        None => return unreadable(format!("{MANIFEST} is missing"), key_pinned),
    };
    let signature = match files.remove(SIGNATURE) {
        Some(Ok(bytes)) => bytes,
        Some(Err(e)) => return unreadable(format!("{SIGNATURE} cannot be read: {e}"), key_pinned),
        None => return unreadable(format!("{SIGNATURE} is missing"), key_pinned),
    };
    let token = files.remove(TIMESTAMP);
    let manifest: Manifest = match serde_json::from_slice(&manifest_bytes) {
        Ok(m) => m,
        Err(e) => {
            let mut report = unreadable(format!("{MANIFEST} is not a manifest: {e}"), key_pinned);
            // A timestamped manifest edited into invalid JSON: say so too.
            if let Some(Ok(token)) = &token
                && verify_token(token, &manifest_bytes, None)
                    == Err(TimestampError::ImprintMismatch)
            {
                report.problems.push(Problem::TimestampMismatch);
            }
            return report;
        }
    };
    let mut problems = Vec::new();
    if manifest.format != FORMAT {
        return Report {
            manifest: Some(manifest.clone()),
            key_pinned,
            files_checked: 0,
            timestamp: None,
            tsa_pinned: false,
            problems: vec![Problem::Unreadable {
                detail: format!(
                    "format {:?}; this verifier reads {FORMAT:?}",
                    manifest.format
                ),
            }],
        };
    }
    let key_hex = match trusted_key {
        Some(trusted) if !trusted.trim().eq_ignore_ascii_case(&manifest.public_key) => {
            problems.push(Problem::UntrustedKey {
                found: manifest.public_key.clone(),
                trusted: trusted.trim().to_ascii_lowercase(),
            });
            trusted.trim().to_ascii_lowercase()
        }
        _ => manifest.public_key.clone(),
    };
    let signature_ok = std::str::from_utf8(&signature)
        .ok()
        .and_then(|s| hex::decode(s.trim()).ok())
        .zip(hex::decode(&key_hex).ok())
        .is_some_and(|(sig, key)| {
            UnparsedPublicKey::new(&ED25519, key)
                .verify(&manifest_bytes, &sig)
                .is_ok()
        });
    if !signature_ok {
        problems.push(Problem::BadSignature);
    }
    let timestamp = check_timestamp(
        &manifest,
        &manifest_bytes,
        token.as_ref(),
        trust.tsa,
        &mut problems,
    );
    if root_of(&manifest.files) != manifest.root_sha256 {
        problems.push(Problem::RootMismatch);
    }
    let mut listed = BTreeSet::new();
    for f in &manifest.files {
        listed.insert(f.path.as_str());
        match files.get(&f.path) {
            None => problems.push(Problem::Missing {
                path: f.path.clone(),
            }),
            Some(Err(_)) => problems.push(Problem::Altered {
                path: f.path.clone(),
            }),
            Some(Ok(bytes)) => {
                let size_ok = u64::try_from(bytes.len()).is_ok_and(|n| n == f.bytes);
                if !size_ok || sha256_hex(bytes) != f.sha256 {
                    problems.push(Problem::Altered {
                        path: f.path.clone(),
                    });
                }
            }
        }
    }
    for path in files.keys() {
        if !listed.contains(path.as_str()) {
            problems.push(Problem::Extra { path: path.clone() });
        }
    }
    Report {
        files_checked: manifest.files.len(),
        manifest: Some(manifest),
        key_pinned,
        tsa_pinned: trust.tsa.is_some() && timestamp.is_some(),
        timestamp,
        problems,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> BundleHeader {
        BundleHeader {
            case_id: "case-1".into(),
            customer_id: "cust-1".into(),
            generated_at: "2026-12-05T10:00:00Z".into(),
            generated_for: "lawyer-li".into(),
            issuer: "legal".into(),
            timestamp_authority: None,
            notes: vec![],
        }
    }

    fn files() -> Vec<BundleFile> {
        vec![
            BundleFile::new("case/case.json", "the case", b"{\"case\":1}".to_vec()),
            BundleFile::new("notices/DN-1.pdf", "notice 1", vec![7u8; 5000]),
            BundleFile::new("contracts/HT-1/contract.json", "contract", b"{}".to_vec()),
        ]
    }

    /// Rewrites a zip with `change` applied to its entries (name → bytes).
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
    fn a_bundle_verifies_under_its_key_and_the_pinned_key_r_l8() {
        let signer = Signer::generate().expect("key");
        let bundle = build(header(), files(), &signer).expect("bundle");
        let report = verify(&bundle.zip, None);
        assert!(report.intact(), "{:?}", report.problems);
        assert!(!report.key_pinned);
        assert_eq!(report.files_checked, 3);
        let pinned = verify(&bundle.zip, Some(&signer.public_key_hex()));
        assert!(pinned.intact() && pinned.key_pinned);
        // The files are listed by path with their hashes.
        let paths: Vec<&str> = bundle
            .manifest
            .files
            .iter()
            .map(|f| f.path.as_str())
            .collect();
        assert_eq!(
            paths,
            [
                "case/case.json",
                "contracts/HT-1/contract.json",
                "notices/DN-1.pdf"
            ]
        );
        assert_eq!(bundle.manifest.files[0].sha256, sha256_hex(b"{\"case\":1}"));
    }

    #[test]
    fn the_same_files_give_the_same_zip() {
        let signer = Signer::generate().expect("key");
        let a = build(header(), files(), &signer).expect("a");
        let mut reversed = files();
        reversed.reverse();
        let b = build(header(), reversed, &signer).expect("b");
        assert_eq!(a.zip, b.zip);
    }

    #[test]
    fn the_root_is_sha256sum_of_the_sorted_listing() {
        let signer = Signer::generate().expect("key");
        let bundle = build(header(), files(), &signer).expect("bundle");
        let listing: String = {
            let mut f = files();
            f.sort_by(|a, b| a.path.cmp(&b.path));
            f.iter()
                .map(|f| format!("{}  {}\n", sha256_hex(&f.bytes), f.path))
                .collect()
        };
        assert_eq!(bundle.manifest.root_sha256, sha256_hex(listing.as_bytes()));
    }

    #[test]
    fn a_flipped_byte_names_the_file_r_l8() {
        let signer = Signer::generate().expect("key");
        let bundle = build(header(), files(), &signer).expect("bundle");
        let tampered = rezip(&bundle.zip, |e| {
            let pdf = e.get_mut("notices/DN-1.pdf").expect("pdf");
            pdf[1234] ^= 0x01;
        });
        let report = verify(&tampered, Some(&signer.public_key_hex()));
        assert_eq!(
            report.problems,
            vec![Problem::Altered {
                path: "notices/DN-1.pdf".into()
            }]
        );
    }

    #[test]
    fn a_byte_flipped_in_the_zip_itself_names_the_file() {
        let signer = Signer::generate().expect("key");
        let bundle = build(header(), files(), &signer).expect("bundle");
        // The local header of the PDF entry, then its compressed data.
        let name = b"notices/DN-1.pdf";
        let at = bundle
            .zip
            .windows(name.len())
            .position(|w| w == name)
            .expect("entry name");
        let mut zip = bundle.zip.clone();
        zip[at + name.len() + 3] ^= 0x40;
        let report = verify(&zip, None);
        assert_eq!(
            report.problems,
            vec![Problem::Altered {
                path: "notices/DN-1.pdf".into()
            }]
        );
    }

    #[test]
    fn missing_and_extra_files_are_named() {
        let signer = Signer::generate().expect("key");
        let bundle = build(header(), files(), &signer).expect("bundle");
        let tampered = rezip(&bundle.zip, |e| {
            e.remove("case/case.json");
            e.insert("notices/forged.pdf".into(), b"%PDF".to_vec());
        });
        let report = verify(&tampered, None);
        assert_eq!(
            report.problems,
            vec![
                Problem::Missing {
                    path: "case/case.json".into()
                },
                Problem::Extra {
                    path: "notices/forged.pdf".into()
                }
            ]
        );
    }

    #[test]
    fn a_changed_manifest_breaks_the_signature_and_a_resigned_one_is_not_trusted() {
        let signer = Signer::generate().expect("key");
        let bundle = build(header(), files(), &signer).expect("bundle");
        // Someone edits the manifest to match an altered file.
        let edited = rezip(&bundle.zip, |e| {
            let text = String::from_utf8(e[MANIFEST].clone()).expect("utf8");
            e.insert(
                MANIFEST.into(),
                text.replace("lawyer-li", "lawyer-wu").into_bytes(),
            );
        });
        assert_eq!(verify(&edited, None).problems, vec![Problem::BadSignature]);
        // A forger re-signs the whole bundle with their own key: valid under their key, not
        // under the issuer's.
        let forger = Signer::generate().expect("key");
        let forged = build(header(), files(), &forger).expect("forged");
        assert!(verify(&forged.zip, None).intact());
        let pinned = verify(&forged.zip, Some(&signer.public_key_hex()));
        assert!(matches!(
            pinned.problems.as_slice(),
            [Problem::UntrustedKey { .. }, Problem::BadSignature]
        ));
    }

    #[test]
    fn garbage_is_unreadable_not_a_panic() {
        for input in [&b""[..], b"PK\x03\x04garbage", &[0u8; 100]] {
            let report = verify(input, None);
            assert!(matches!(
                report.problems.as_slice(),
                [Problem::Unreadable { .. }]
            ));
        }
    }

    #[test]
    fn paths_outside_the_format_are_refused() {
        let signer = Signer::generate().expect("key");
        for bad in [
            "../etc/passwd",
            "/abs",
            "a b.pdf",
            "manifest.json",
            "x/",
            "a//b",
            "通知.pdf",
        ] {
            let err =
                build(header(), vec![BundleFile::new(bad, "x", vec![1])], &signer).expect_err(bad);
            assert!(matches!(err, BundleError::BadPath(_)), "{bad}");
        }
        let twice = vec![
            BundleFile::new("a.json", "x", vec![1]),
            BundleFile::new("a.json", "y", vec![2]),
        ];
        assert!(matches!(
            build(header(), twice, &signer),
            Err(BundleError::DuplicatePath(_))
        ));
    }
}

#[cfg(test)]
#[path = "evidence/timestamp_tests.rs"]
mod timestamp_tests;
