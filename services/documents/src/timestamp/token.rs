//! The token: a CMS SignedData (RFC 5652) whose content is a TSTInfo (RFC 3161 §2.4.2).
//!
//! ```text
//! ContentInfo ::= SEQUENCE { contentType OID (signedData), content [0] EXPLICIT SignedData }
//! SignedData ::= SEQUENCE { version, digestAlgorithms SET, encapContentInfo SEQUENCE {
//!     eContentType OID (id-ct-TSTInfo), eContent [0] EXPLICIT OCTET STRING },
//!     certificates [0] IMPLICIT OPTIONAL, crls [1] IMPLICIT OPTIONAL, signerInfos SET }
//! SignerInfo ::= SEQUENCE { version, sid, digestAlgorithm, signedAttrs [0] IMPLICIT,
//!     signatureAlgorithm, signature OCTET STRING, unsignedAttrs [1] IMPLICIT OPTIONAL }
//! TSTInfo ::= SEQUENCE { version, policy OID, messageImprint, serialNumber INTEGER,
//!     genTime GeneralizedTime, accuracy OPTIONAL, ordering BOOLEAN DEFAULT FALSE,
//!     nonce INTEGER OPTIONAL, tsa [0] GeneralName OPTIONAL, extensions [1] OPTIONAL }
//! ```

use der::Tag;
use der::asn1::ObjectIdentifier;

use super::asn1::{self, Node, context, context_primitive};
use super::certs::{self, Signer};
use super::{Hash, TimestampError, TokenInfo, TrustedCerts, hash_of, oid};

/// What a token was parsed into (borrowing its bytes).
pub(super) struct Parsed<'a> {
    /// The TSTInfo's DER (eContent): what the message-digest attribute covers.
    e_content: &'a [u8],
    pub(super) imprint_hash: Hash,
    pub(super) imprint: &'a [u8],
    pub(super) nonce: Option<&'a [u8]>,
    serial: &'a [u8],
    policy: ObjectIdentifier,
    gen_time: String,
    tsa_name: Option<String>,
    certificates: Vec<&'a [u8]>,
    signer: SignerInfo<'a>,
}

/// The one SignerInfo.
struct SignerInfo<'a> {
    sid: Node<'a>,
    digest: Hash,
    /// The signed attributes' content, and the attributes.
    signed_attrs: &'a [u8],
    attributes: Vec<(ObjectIdentifier, Vec<Node<'a>>)>,
    signature_algorithm: ObjectIdentifier,
    signature: &'a [u8],
}

/// What the imprint must be.
pub(super) struct Expected<'a> {
    pub(super) hash: Hash,
    pub(super) imprint: &'a [u8],
}

fn malformed(what: impl Into<String>) -> TimestampError {
    TimestampError::Malformed(what.into())
}

/// Parses a token's structure (no checks of its content yet).
pub(super) fn parse(token: &[u8]) -> Result<Parsed<'_>, TimestampError> {
    let content_info = asn1::parse(token, "ContentInfo")?.sequence("ContentInfo")?;
    let [content_type, content] = content_info.as_slice() else {
        return Err(malformed("ContentInfo: expected contentType and content"));
    };
    if content_type.oid("ContentInfo.contentType")? != oid::SIGNED_DATA {
        return Err(malformed("ContentInfo: not a CMS SignedData"));
    }
    let signed_data = single(
        content.expect(context(0), "ContentInfo.content")?,
        "content",
    )?
    .sequence("SignedData")?;
    let mut items = signed_data.iter().copied();
    let mut next = |what: &str| {
        items
            .next()
            .ok_or_else(|| malformed(format!("SignedData: no {what}")))
    };
    next("version")?.small("SignedData.version")?;
    next("digestAlgorithms")?.expect(Tag::Set, "SignedData.digestAlgorithms")?;
    let encap = next("encapContentInfo")?.sequence("encapContentInfo")?;
    let [e_type, e_content] = encap.as_slice() else {
        return Err(malformed(
            "encapContentInfo: expected eContentType and eContent",
        ));
    };
    if e_type.oid("eContentType")? != oid::TST_INFO {
        return Err(malformed("encapContentInfo: the content is not a TSTInfo"));
    }
    let e_content =
        single(e_content.expect(context(0), "eContent")?, "eContent")?.octets("eContent")?;
    let mut certificates = Vec::new();
    let mut node = next("signerInfos")?;
    if node.tag == context(0) {
        // CertificateChoices: plain certificates are SEQUENCEs; other kinds are skipped.
        certificates = node
            .children("certificates")?
            .into_iter()
            .filter(|c| c.tag == Tag::Sequence)
            .map(|c| c.raw)
            .collect();
        node = next("signerInfos")?;
    }
    if node.tag == context(1) {
        node = next("signerInfos")?;
    }
    let signer_infos = node
        .expect(Tag::Set, "signerInfos")?
        .children("signerInfos")?;
    let [signer_info] = signer_infos.as_slice() else {
        return Err(malformed(format!(
            "a timestamp token has exactly one signer, this one has {}",
            signer_infos.len()
        )));
    };
    let signer = signer_info_of(*signer_info)?;
    let tst = tst_info(e_content)?;
    Ok(Parsed {
        e_content,
        imprint_hash: tst.imprint_hash,
        imprint: tst.imprint,
        nonce: tst.nonce,
        serial: tst.serial,
        policy: tst.policy,
        gen_time: tst.gen_time,
        tsa_name: tst.tsa_name,
        certificates,
        signer,
    })
}

/// The one element inside an EXPLICIT tag.
fn single<'a>(node: Node<'a>, what: &str) -> Result<Node<'a>, TimestampError> {
    match node.children(what)?.as_slice() {
        [one] => Ok(*one),
        _ => Err(malformed(format!("{what}: expected one element"))),
    }
}

fn signer_info_of(node: Node<'_>) -> Result<SignerInfo<'_>, TimestampError> {
    let parts = node.sequence("SignerInfo")?;
    let (version, sid, digest, attrs, sig_alg, signature) = match parts.as_slice() {
        [v, sid, d, a, s, sig, ..] => (*v, *sid, *d, *a, *s, *sig),
        _ => {
            return Err(malformed(
                "SignerInfo: fields missing (signed attributes are required)",
            ));
        }
    };
    version.small("SignerInfo.version")?;
    let signed = attrs.expect(context(0), "SignerInfo.signedAttrs")?;
    let mut attributes = Vec::new();
    for attribute in signed.children("signedAttrs")? {
        let fields = attribute.sequence("Attribute")?;
        let (kind, values) = match fields.as_slice() {
            [kind, values] => (kind.oid("Attribute.type")?, *values),
            _ => return Err(malformed("Attribute: expected type and values")),
        };
        let values = values
            .expect(Tag::Set, "Attribute.values")?
            .children("Attribute.values")?;
        attributes.push((kind, values));
    }
    Ok(SignerInfo {
        sid,
        digest: hash_of(&digest.algorithm("SignerInfo.digestAlgorithm")?)?,
        signed_attrs: signed.value,
        attributes,
        signature_algorithm: sig_alg.algorithm("SignerInfo.signatureAlgorithm")?,
        signature: signature.octets("SignerInfo.signature")?,
    })
}

struct Tst<'a> {
    imprint_hash: Hash,
    imprint: &'a [u8],
    nonce: Option<&'a [u8]>,
    serial: &'a [u8],
    policy: ObjectIdentifier,
    gen_time: String,
    tsa_name: Option<String>,
}

fn tst_info(der: &[u8]) -> Result<Tst<'_>, TimestampError> {
    let parts = asn1::parse(der, "TSTInfo")?.sequence("TSTInfo")?;
    let (version, policy, imprint, serial, gen_time, optional) = match parts.as_slice() {
        [v, p, i, s, g, rest @ ..] => (*v, *p, *i, *s, *g, rest),
        _ => return Err(malformed("TSTInfo: fields missing")),
    };
    if version.small("TSTInfo.version")? != 1 {
        return Err(malformed("TSTInfo: version is not 1"));
    }
    let imprint = imprint.sequence("TSTInfo.messageImprint")?;
    let [algorithm, hashed] = imprint.as_slice() else {
        return Err(malformed(
            "TSTInfo.messageImprint: expected hashAlgorithm and hashedMessage",
        ));
    };
    let mut tst = Tst {
        imprint_hash: hash_of(&algorithm.algorithm("messageImprint.hashAlgorithm")?)?,
        imprint: hashed.octets("messageImprint.hashedMessage")?,
        nonce: None,
        serial: serial.integer("TSTInfo.serialNumber")?,
        policy: policy.oid("TSTInfo.policy")?,
        gen_time: generalized_time(
            gen_time
                .expect(Tag::GeneralizedTime, "TSTInfo.genTime")?
                .value,
        )?,
        tsa_name: None,
    };
    for node in optional {
        if node.tag == Tag::Integer {
            tst.nonce = Some(node.integer("TSTInfo.nonce")?);
        } else if node.tag == context(0) {
            tst.tsa_name = Some(general_name(single(*node, "TSTInfo.tsa")?));
        }
        // accuracy, ordering and extensions are not needed to judge the token.
    }
    Ok(tst)
}

/// `YYYYMMDDHHMMSS[.fff]Z` as RFC 3339.
fn generalized_time(value: &[u8]) -> Result<String, TimestampError> {
    let bad = || malformed("TSTInfo.genTime: not a UTC GeneralizedTime");
    let text = std::str::from_utf8(value).map_err(|_| bad())?;
    let text = text.strip_suffix('Z').ok_or_else(bad)?;
    let (main, fraction) = text.split_once('.').unwrap_or((text, ""));
    if main.len() != 14
        || !main.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let at = chrono::NaiveDateTime::parse_from_str(main, "%Y%m%d%H%M%S").map_err(|_| bad())?;
    let base = at.format("%Y-%m-%dT%H:%M:%S").to_string();
    Ok(if fraction.is_empty() {
        format!("{base}Z")
    } else {
        format!("{base}.{fraction}Z")
    })
}

/// A GeneralName for people: a directory name as `CN=…, O=…`, a DNS name, URI or e-mail as is.
fn general_name(node: Node<'_>) -> String {
    if node.tag == context(4)
        && let Ok(name) = single(node, "directoryName")
    {
        return certs::name_text(name.raw);
    }
    for n in [1, 2, 6] {
        if node.tag == context_primitive(n) {
            return String::from_utf8_lossy(node.value).into_owned();
        }
    }
    format!("(a name of kind {})", node.tag)
}

/// Checks a parsed token: the imprint, the signed attributes (content type, message digest over
/// the TSTInfo, the signing-certificate attribute naming the signer), the signature with the
/// signer's certificate, that certificate's timestamping use and validity at genTime, and the
/// chain to `trusted`.
pub(super) fn check(
    token: &Parsed<'_>,
    expected: &Expected<'_>,
    trusted: Option<&TrustedCerts>,
) -> Result<TokenInfo, TimestampError> {
    if token.imprint_hash != expected.hash || token.imprint != expected.imprint {
        return Err(TimestampError::ImprintMismatch);
    }
    let signer = &token.signer;
    let attribute = |kind| attribute(&signer.attributes, kind);
    match attribute(oid::CONTENT_TYPE) {
        Some([value]) if value.oid("content-type attribute")? == oid::TST_INFO => {}
        _ => {
            return Err(malformed(
                "the content-type attribute is missing or is not TSTInfo",
            ));
        }
    }
    let digest = match attribute(oid::MESSAGE_DIGEST) {
        Some([value]) => value.octets("message-digest attribute")?,
        _ => return Err(malformed("the message-digest attribute is missing")),
    };
    if digest != signer.digest.digest(token.e_content) {
        return Err(TimestampError::BadSignature(
            "the message-digest attribute is not the digest of the TSTInfo".to_owned(),
        ));
    }
    let cert = certs::find_signer(&token.certificates, signer.sid)?;
    check_signing_certificate(&cert, &signer.attributes)?;
    let signed = asn1::tlv(Tag::Set, signer.signed_attrs)?;
    certs::verify_signature(
        &cert.spki,
        signer.signature_algorithm,
        Some(signer.digest),
        &signed,
        signer.signature,
    )
    .map_err(|e| match e {
        TimestampError::BadSignature(_) => {
            TimestampError::BadSignature("the signature over the signed attributes".to_owned())
        }
        other => other,
    })?;
    cert.check_for_timestamping(&token.gen_time)?;
    let trusted_by = match trusted {
        Some(trusted) => Some(trusted.chain(&cert, &token.certificates)?),
        None => None,
    };
    Ok(TokenInfo {
        gen_time: token.gen_time.clone(),
        tsa_name: token.tsa_name.clone(),
        signer: cert.subject.clone(),
        signer_issuer: cert.issuer.clone(),
        serial_number: hex::encode(asn1::magnitude(token.serial)),
        policy: token.policy.to_string(),
        hash_algorithm: token.imprint_hash.name().to_owned(),
        nonce: token.nonce.map(|n| hex::encode(asn1::magnitude(n))),
        trusted_by,
    })
}

/// The values of the signed attribute `kind`.
fn attribute<'s, 'a>(
    attributes: &'s [(ObjectIdentifier, Vec<Node<'a>>)],
    kind: ObjectIdentifier,
) -> Option<&'s [Node<'a>]> {
    attributes
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, values)| values.as_slice())
}

/// RFC 5035 / RFC 2634: the signing-certificate(-v2) attribute, when present, names the signer
/// certificate by its hash (so a certificate cannot be swapped for another with the same key).
fn check_signing_certificate(
    cert: &Signer<'_>,
    attributes: &[(ObjectIdentifier, Vec<Node<'_>>)],
) -> Result<(), TimestampError> {
    let (values, v2) = match (
        attribute(attributes, oid::SIGNING_CERTIFICATE_V2),
        attribute(attributes, oid::SIGNING_CERTIFICATE),
    ) {
        (Some(v), _) => (v, true),
        (None, Some(v)) => (v, false),
        (None, None) => return Ok(()),
    };
    let what = "signing-certificate attribute";
    let [value] = values else {
        return Err(malformed(format!("{what}: expected one value")));
    };
    let ids = value.sequence(what)?;
    let first = ids
        .first()
        .ok_or_else(|| malformed(format!("{what}: empty")))?
        .sequence(what)?;
    let first = first
        .first()
        .ok_or_else(|| malformed(format!("{what}: empty")))?
        .sequence(what)?;
    let (hash, cert_hash) = match (v2, first.as_slice()) {
        (true, [alg, h, ..]) if alg.tag == Tag::Sequence => (alg.algorithm(what)?, h.octets(what)?),
        (true, [h, ..]) => (oid::SHA256, h.octets(what)?),
        (false, [h, ..]) => (oid::SHA1, h.octets(what)?),
        _ => return Err(malformed(format!("{what}: no certificate hash"))),
    };
    let actual = if hash == oid::SHA1 {
        ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, cert.der)
            .as_ref()
            .to_vec()
    } else {
        hash_of(&hash)?.digest(cert.der)
    };
    if actual != cert_hash {
        return Err(TimestampError::BadSigner(
            "the signing-certificate attribute names another certificate than the one that signed"
                .to_owned(),
        ));
    }
    Ok(())
}

/// Checks `token` (DER, as `manifest.tsr` holds it) against `message`, the bytes it must
/// cover; see the module documentation for what is checked.
///
/// # Errors
/// What is wrong, [`TimestampError::ImprintMismatch`] when the token covers other bytes.
pub fn verify_token(
    token: &[u8],
    message: &[u8],
    trusted: Option<&TrustedCerts>,
) -> Result<TokenInfo, TimestampError> {
    let parsed = parse(token)?;
    let imprint = parsed.imprint_hash.digest(message);
    check(
        &parsed,
        &Expected {
            hash: parsed.imprint_hash,
            imprint: &imprint,
        },
        trusted,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/timestamp");

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!("{DIR}/{name}")).expect("fixture (make.sh writes them)")
    }

    fn ca(key: &str) -> TrustedCerts {
        TrustedCerts::from_pem_or_der(&fixture(&format!("{key}/ca.pem"))).expect("ca")
    }

    #[test]
    fn openssl_tokens_verify_offline_rsa_and_ecdsa_r_l8() {
        let message = fixture("message.json");
        for key in ["rsa", "ec"] {
            let token = fixture(&format!("{key}/token.der"));
            let info = verify_token(&token, &message, Some(&ca(key)))
                .unwrap_or_else(|e| panic!("{key}: {e}"));
            assert!(
                info.gen_time.ends_with('Z') && info.gen_time.len() == 20,
                "{info:?}"
            );
            assert!(
                info.signer
                    .contains(&format!("Collections Test TSA ({key})")),
                "{info:?}"
            );
            assert!(info.trusted_by.as_deref().is_some_and(|t| t.contains("CA")));
            assert_eq!(info.policy, "1.2.3.4.1");
            // Without a trusted certificate: checked against the certificate it carries.
            let unpinned = verify_token(&token, &message, None).expect("self-consistent");
            assert_eq!(unpinned.trusted_by, None);
        }
    }

    #[test]
    fn other_bytes_a_flipped_token_byte_or_another_ca_fail() {
        let message = fixture("message.json");
        let token = fixture("rsa/token.der");
        let mut altered = message.clone();
        altered[5] ^= 0x01;
        assert_eq!(
            verify_token(&token, &altered, None),
            Err(TimestampError::ImprintMismatch)
        );
        // The RSA TSA does not chain to the EC test CA.
        assert!(matches!(
            verify_token(&token, &message, Some(&ca("ec"))),
            Err(TimestampError::Untrusted(_))
        ));
        // Any flipped byte of what the TSA vouches for (the TSTInfo) or of the signature is
        // caught (or makes the token unreadable): never a panic, never a pass.
        let parsed = parse(&token).expect("parses");
        let start = parsed.e_content.as_ptr() as usize - token.as_ptr() as usize;
        let covered = (start..start + parsed.e_content.len()).chain(token.len() - 256..token.len());
        for i in covered {
            let mut bad = token.clone();
            bad[i] ^= 0x01;
            if let Ok(info) = verify_token(&bad, &message, Some(&ca("rsa"))) {
                panic!("byte {i} flipped and the token still verified: {info:?}");
            }
        }
    }

    #[test]
    fn generalized_times_read_with_and_without_fractions() {
        assert_eq!(
            generalized_time(b"20261205234948Z").expect("t"),
            "2026-12-05T23:49:48Z"
        );
        assert_eq!(
            generalized_time(b"20261205234948.125Z").expect("t"),
            "2026-12-05T23:49:48.125Z"
        );
        for bad in [
            &b"20261305234948Z"[..],
            b"2026120523494Z",
            b"20261205234948",
            b"2026120523494\xffZ",
        ] {
            assert!(generalized_time(bad).is_err());
        }
    }
}
