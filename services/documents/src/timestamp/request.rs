//! The request to a TSA and the check of its reply (RFC 3161 §2.4).
//!
//! ```text
//! TimeStampReq ::= SEQUENCE { version INTEGER (1), messageImprint MessageImprint,
//!     reqPolicy OID OPTIONAL, nonce INTEGER OPTIONAL, certReq BOOLEAN DEFAULT FALSE, … }
//! MessageImprint ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, hashedMessage OCTET STRING }
//! TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken ContentInfo OPTIONAL }
//! PKIStatusInfo ::= SEQUENCE { status INTEGER, statusString SEQUENCE OF UTF8String OPTIONAL,
//!     failInfo BIT STRING OPTIONAL }
//! ```

use der::Encode as _;
use der::Tag;
use der::asn1::Null;
use ring::rand::SecureRandom as _;

use super::asn1::{self, Node};
use super::token::{self, Expected};
use super::{Hash, TimestampError, TokenInfo, TrustedCerts, oid};

/// A TimeStampReq over some bytes: SHA-256 imprint, a random 64-bit nonce, certReq true (the
/// token then carries the TSA's certificate, so it verifies offline).
#[derive(Clone, Debug)]
pub struct Request {
    der: Vec<u8>,
    nonce: Vec<u8>,
    imprint: Vec<u8>,
}

/// A granted token and what it says.
#[derive(Clone, Debug)]
pub struct Stamp {
    /// The token (a CMS ContentInfo), DER: what `manifest.tsr` holds.
    pub token: Vec<u8>,
    /// What it says.
    pub info: TokenInfo,
}

impl Request {
    /// A request for `message` with a fresh random nonce.
    ///
    /// # Errors
    /// The system has no randomness.
    pub fn for_message(message: &[u8]) -> Result<Self, TimestampError> {
        let mut nonce = [0u8; 8];
        ring::rand::SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| TimestampError::Malformed("no randomness for the nonce".to_owned()))?;
        // Never zero, so the nonce is always sent as eight significant bytes or fewer.
        nonce[0] |= 0x01;
        Self::with_nonce(message, &nonce)
    }

    /// A request for `message` with `nonce` (big-endian; tests).
    ///
    /// # Errors
    /// Only if DER encoding fails, which it does not for these sizes.
    pub fn with_nonce(message: &[u8], nonce: &[u8]) -> Result<Self, TimestampError> {
        let imprint = Hash::Sha256.digest(message);
        let algorithm = [
            oid::SHA256
                .to_der()
                .map_err(|e| TimestampError::Malformed(e.to_string()))?,
            Null.to_der()
                .map_err(|e| TimestampError::Malformed(e.to_string()))?,
        ]
        .concat();
        let message_imprint = [
            asn1::tlv(Tag::Sequence, &algorithm)?,
            asn1::tlv(Tag::OctetString, &imprint)?,
        ]
        .concat();
        let body = [
            asn1::uint(&[1])?,
            asn1::tlv(Tag::Sequence, &message_imprint)?,
            asn1::uint(nonce)?,
            asn1::tlv(Tag::Boolean, &[0xFF])?,
        ]
        .concat();
        Ok(Self {
            der: asn1::tlv(Tag::Sequence, &body)?,
            nonce: asn1::magnitude(nonce).to_vec(),
            imprint,
        })
    }

    /// The DER to POST (content type `application/timestamp-query`).
    #[must_use]
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The nonce, hex.
    #[must_use]
    pub fn nonce_hex(&self) -> String {
        hex::encode(&self.nonce)
    }
}

/// The PKIStatus names (RFC 3161 §2.4.2).
fn status_name(status: u32) -> &'static str {
    match status {
        0 => "granted",
        1 => "granted with modifications",
        2 => "rejection",
        3 => "waiting",
        4 => "revocation warning",
        5 => "revocation notification",
        _ => "unknown status",
    }
}

/// The PKIFailureInfo bits (RFC 3161 §2.4.2).
const FAILURES: [(usize, &str); 6] = [
    (0, "unsupported algorithm (badAlg)"),
    (2, "the request is not understood (badRequest)"),
    (5, "bad data format (badDataFormat)"),
    (
        14,
        "the TSA's time source is not available (timeNotAvailable)",
    ),
    (
        15,
        "the requested policy is not supported (unacceptedPolicy)",
    ),
    (
        16,
        "the requested extension is not supported (unacceptedExtension)",
    ),
];

fn refusal(status: u32, info: &[Node<'_>]) -> String {
    let mut parts = vec![format!("status {status} ({})", status_name(status))];
    for node in info {
        if node.tag == Tag::Sequence {
            // statusString: UTF8Strings.
            for text in node.children("statusString").unwrap_or_default() {
                if let Ok(s) = std::str::from_utf8(text.value) {
                    parts.push(s.to_owned());
                }
            }
        } else if node.tag == Tag::BitString {
            let bits = node.value.get(1..).unwrap_or_default();
            for (bit, name) in FAILURES {
                if bits
                    .get(bit / 8)
                    .is_some_and(|b| b & (0x80 >> (bit % 8)) != 0)
                {
                    parts.push(name.to_owned());
                }
            }
        }
    }
    parts.join("; ")
}

/// Checks a TSA's reply to `request`: granted, with a token whose imprint is the request's and
/// whose nonce is the request's, signed as [`super::verify_token`] checks, chaining to
/// `trusted` when given.
///
/// # Errors
/// The reply is not a TimeStampResp, the TSA refused, or the token does not check out.
pub fn accept_reply(
    request: &Request,
    reply: &[u8],
    trusted: Option<&TrustedCerts>,
) -> Result<Stamp, TimestampError> {
    let what = "TimeStampResp";
    let parts = asn1::parse(reply, what)?.sequence(what)?;
    let (status_info, rest) = parts
        .split_first()
        .ok_or_else(|| TimestampError::Malformed(format!("{what}: empty")))?;
    let info = status_info.sequence("PKIStatusInfo")?;
    let status = info
        .first()
        .ok_or_else(|| TimestampError::Malformed("PKIStatusInfo: empty".to_owned()))?
        .small("PKIStatusInfo.status")?;
    if status > 1 {
        return Err(TimestampError::Refused(refusal(status, &info[1..])));
    }
    let token = rest.first().ok_or_else(|| {
        TimestampError::Malformed("the reply grants a token but holds none".to_owned())
    })?;
    let parsed = token::parse(token.raw)?;
    let info = token::check(
        &parsed,
        &Expected {
            hash: Hash::Sha256,
            imprint: &request.imprint,
        },
        trusted,
    )?;
    if parsed.nonce.map(asn1::magnitude) != Some(request.nonce.as_slice()) {
        return Err(TimestampError::NonceMismatch);
    }
    Ok(Stamp {
        token: token.raw.to_vec(),
        info,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/timestamp");

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!("{DIR}/{name}")).expect("fixture (make.sh writes them)")
    }

    /// A request with the nonce of OpenSSL's query fixture, so its reply answers it.
    fn request_of(query: &[u8], message: &[u8]) -> Request {
        let parts = asn1::parse(query, "q")
            .and_then(|n| n.sequence("q"))
            .expect("query");
        let nonce = parts
            .iter()
            .find(|n| n.tag == Tag::Integer && n.value.len() > 1)
            .expect("nonce")
            .value;
        Request::with_nonce(message, nonce).expect("request")
    }

    #[test]
    fn the_request_is_der_that_names_sha256_the_imprint_a_nonce_and_cert_req() {
        let request = Request::with_nonce(b"manifest", &[0x00, 0x9A, 0xBC]).expect("request");
        let mut expected = vec![
            0x30, 0x3E, 0x02, 0x01, 0x01, 0x30, 0x31, 0x30, 0x0D, 0x06, 0x09,
        ];
        expected.extend([
            0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00,
        ]);
        expected.extend([0x04, 0x20]);
        expected.extend(Hash::Sha256.digest(b"manifest"));
        expected.extend([0x02, 0x03, 0x00, 0x9A, 0xBC, 0x01, 0x01, 0xFF]);
        assert_eq!(request.der(), expected.as_slice());
        assert_eq!(request.nonce_hex(), "9abc");
        // Random nonces differ.
        let a = Request::for_message(b"m").expect("a");
        let b = Request::for_message(b"m").expect("b");
        assert_ne!(a.nonce_hex(), b.nonce_hex());
    }

    #[test]
    fn openssls_reply_is_accepted_for_its_request_rsa_and_ecdsa() {
        let message = fixture("message.json");
        for key in ["rsa", "ec"] {
            let request = request_of(&fixture(&format!("{key}/query.tsq")), &message);
            let ca = TrustedCerts::from_pem_or_der(&fixture(&format!("{key}/ca.pem"))).expect("ca");
            let stamp = accept_reply(&request, &fixture(&format!("{key}/reply.tsr")), Some(&ca))
                .unwrap_or_else(|e| panic!("{key}: {e}"));
            assert_eq!(stamp.token, fixture(&format!("{key}/token.der")));
            assert_eq!(stamp.info.hash_algorithm, "sha256");
            assert_eq!(
                stamp.info.nonce.as_deref(),
                Some(request.nonce_hex().as_str())
            );
            assert!(stamp.info.trusted_by.is_some());
            assert!(
                stamp
                    .info
                    .tsa_name
                    .as_deref()
                    .is_some_and(|n| n.contains("Collections Test TSA")),
                "{:?}",
                stamp.info
            );
        }
    }

    #[test]
    fn another_nonce_other_bytes_or_a_refusal_are_errors() {
        let message = fixture("message.json");
        let reply = fixture("rsa/reply.tsr");
        let other_nonce = Request::with_nonce(&message, &[1, 2, 3]).expect("request");
        assert_eq!(
            accept_reply(&other_nonce, &reply, None).map(|_| ()),
            Err(TimestampError::NonceMismatch)
        );
        let request = request_of(&fixture("rsa/query.tsq"), b"other bytes");
        assert_eq!(
            accept_reply(&request, &reply, None).map(|_| ()),
            Err(TimestampError::ImprintMismatch)
        );
        let refused = accept_reply(&request, &fixture("rejected.tsr"), None).expect_err("refused");
        let text = refused.to_string();
        assert!(
            text.contains("rejection") && text.contains("badAlg"),
            "{text}"
        );
        for garbage in [&b""[..], b"\x30\x03\x02\x01\x00", b"<html>busy</html>"] {
            assert!(accept_reply(&request, garbage, None).is_err());
        }
    }
}
