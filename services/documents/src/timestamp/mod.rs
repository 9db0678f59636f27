//! RFC 3161 timestamps (R-L8): a trusted third party, the timestamp authority (TSA), signs that
//! it saw a hash at a time. The evidence bundle asks one for a token over its manifest's exact
//! bytes ([`Request`], [`accept_reply`]) and anyone checks the token offline
//! ([`verify_token`]): the token's imprint is the SHA-256 of the manifest, its CMS signature
//! verifies with the TSA certificate it carries, that certificate is for timestamping, and,
//! given the TSA's certificate or CA ([`TrustedCerts`]), it chains to it.
//!
//! The formats (RFC 3161, RFC 5652 CMS, RFC 5035 ESS) are read with the `der` crate and the
//! certificates with `x509-parser`, both already built for the rest of the workspace;
//! signatures are checked with `ring` (RSA PKCS#1 v1.5 and ECDSA P-256/P-384 with SHA-256,
//! SHA-384 or SHA-512), which also signs the bundle. No other algorithm is accepted.
//!
//! Nothing here does I/O: sending the request is the legal service's (`legal::timestamp`).

mod asn1;
mod certs;
mod request;
mod token;

use serde::Serialize;

pub use certs::TrustedCerts;
pub use request::{Request, Stamp, accept_reply};
pub use token::verify_token;

/// What a valid token says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    /// When the TSA saw the hash (RFC 3339, UTC), its `genTime`.
    pub gen_time: String,
    /// The TSA's name as the token gives it (`tsa` field), when it does.
    pub tsa_name: Option<String>,
    /// The subject of the certificate that signed the token.
    pub signer: String,
    /// Who issued that certificate.
    pub signer_issuer: String,
    /// The token's serial number (hex), unique per TSA.
    pub serial_number: String,
    /// The TSA's policy (OID) under which it issued the token.
    pub policy: String,
    /// The hash algorithm of the imprint (`sha256`, …).
    pub hash_algorithm: String,
    /// The request's nonce the token repeats (hex), when there was one.
    pub nonce: Option<String>,
    /// The trusted certificate the signer chains to (its subject), when one was given.
    pub trusted_by: Option<String>,
}

/// Why a token or a reply is not acceptable.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TimestampError {
    /// Not DER, or not the structures RFC 3161 and CMS define.
    #[error("the timestamp token cannot be read: {0}")]
    Malformed(String),
    /// An algorithm this verifier does not check.
    #[error(
        "the timestamp token uses {0}, which is not supported (RSA PKCS#1 v1.5 or ECDSA P-256/P-384 with SHA-256/384/512)"
    )]
    Unsupported(String),
    /// The TSA answered, but did not grant a token.
    #[error("the timestamp authority refused the request: {0}")]
    Refused(String),
    /// The reply's nonce is not the request's.
    #[error("the reply's nonce is not the request's: a stale or foreign reply")]
    NonceMismatch,
    /// The token's imprint is not the hash of the bytes it is checked against.
    #[error(
        "the token covers other bytes: its message imprint is not the hash of what was stamped"
    )]
    ImprintMismatch,
    /// The CMS signature (or the digest it signs) does not verify.
    #[error("the token's signature does not verify with the TSA certificate it carries: {0}")]
    BadSignature(String),
    /// The signer certificate is missing or is not a TSA certificate.
    #[error("the token's signer certificate is not a usable TSA certificate: {0}")]
    BadSigner(String),
    /// The signer does not chain to the trusted certificate.
    #[error("the token is not signed by the trusted timestamp authority: {0}")]
    Untrusted(String),
}

/// The hash algorithms an imprint or a signature may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Hash::Sha256 => "sha256",
            Hash::Sha384 => "sha384",
            Hash::Sha512 => "sha512",
        }
    }

    pub(crate) fn digest(self, bytes: &[u8]) -> Vec<u8> {
        use sha2::Digest as _;
        match self {
            Hash::Sha256 => sha2::Sha256::digest(bytes).to_vec(),
            Hash::Sha384 => sha2::Sha384::digest(bytes).to_vec(),
            Hash::Sha512 => sha2::Sha512::digest(bytes).to_vec(),
        }
    }
}

/// Object identifiers used here.
pub(crate) mod oid {
    use der::asn1::ObjectIdentifier as Oid;

    pub(crate) const SIGNED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.2");
    pub(crate) const TST_INFO: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.1.4");
    pub(crate) const CONTENT_TYPE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.3");
    pub(crate) const MESSAGE_DIGEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.4");
    pub(crate) const SIGNING_CERTIFICATE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.12");
    pub(crate) const SIGNING_CERTIFICATE_V2: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.47");
    pub(crate) const SHA1: Oid = Oid::new_unwrap("1.3.14.3.2.26");
    pub(crate) const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
    pub(crate) const SHA384: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.2");
    pub(crate) const SHA512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.3");
    pub(crate) const RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
    pub(crate) const RSA_SHA256: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
    pub(crate) const RSA_SHA384: Oid = Oid::new_unwrap("1.2.840.113549.1.1.12");
    pub(crate) const RSA_SHA512: Oid = Oid::new_unwrap("1.2.840.113549.1.1.13");
    pub(crate) const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
    pub(crate) const ECDSA_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
    pub(crate) const ECDSA_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");
    pub(crate) const ECDSA_SHA512: Oid = Oid::new_unwrap("1.2.840.10045.4.3.4");
    pub(crate) const P256: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
    pub(crate) const P384: Oid = Oid::new_unwrap("1.3.132.0.34");
}

/// The hash an AlgorithmIdentifier names.
pub(crate) fn hash_of(algorithm: &der::asn1::ObjectIdentifier) -> Result<Hash, TimestampError> {
    if *algorithm == oid::SHA256 {
        Ok(Hash::Sha256)
    } else if *algorithm == oid::SHA384 {
        Ok(Hash::Sha384)
    } else if *algorithm == oid::SHA512 {
        Ok(Hash::Sha512)
    } else {
        Err(TimestampError::Unsupported(format!(
            "hash algorithm {algorithm}"
        )))
    }
}
