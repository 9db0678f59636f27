//! Certificates in and around a token: finding the signer, checking a signature with a
//! certificate's key (ring), the signer's timestamping use and validity, and the chain to the
//! certificates the verifier trusts. Certificates are read with `x509-parser`; the signed
//! parts (TBS, algorithm, signature, key) with our DER reader, so the exact bytes are checked.

use der::Tag;
use der::asn1::ObjectIdentifier;
use ring::signature::{self as sig, UnparsedPublicKey, VerificationAlgorithm};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::FromDer as _;
use x509_parser::x509::X509Name;

use super::asn1::{self, Node, context_primitive};
use super::{Hash, TimestampError, oid};

/// A public key: its algorithm, its curve (EC), and the key bytes (the RSAPublicKey DER, or
/// the EC point), as ring takes them.
pub(super) struct KeyInfo {
    algorithm: ObjectIdentifier,
    curve: Option<ObjectIdentifier>,
    key: Vec<u8>,
}

impl KeyInfo {
    fn from_spki(raw: &[u8]) -> Result<Self, TimestampError> {
        let what = "SubjectPublicKeyInfo";
        let parts = asn1::parse(raw, what)?.sequence(what)?;
        let [algorithm, key] = parts.as_slice() else {
            return Err(TimestampError::Malformed(format!(
                "{what}: expected algorithm and key"
            )));
        };
        let algorithm = algorithm.sequence(what)?;
        let curve = match algorithm.get(1) {
            Some(p) if p.tag == Tag::ObjectIdentifier => Some(p.oid(what)?),
            _ => None,
        };
        Ok(Self {
            algorithm: algorithm
                .first()
                .ok_or_else(|| TimestampError::Malformed(format!("{what}: no algorithm")))?
                .oid(what)?,
            curve,
            key: key.bits(what)?.to_vec(),
        })
    }
}

/// Checks `signature` over `message` with `key`, under `algorithm` (a signature algorithm, or
/// a bare key algorithm, as CMS allows, with `digest` naming the hash).
pub(super) fn verify_signature(
    key: &KeyInfo,
    algorithm: ObjectIdentifier,
    digest: Option<Hash>,
    message: &[u8],
    signature: &[u8],
) -> Result<(), TimestampError> {
    let unsupported = || {
        TimestampError::Unsupported(format!(
            "signature algorithm {algorithm} with a key of type {}{}",
            key.algorithm,
            key.curve
                .map(|c| format!(" on curve {c}"))
                .unwrap_or_default()
        ))
    };
    let (rsa, hash) = if algorithm == oid::RSA_SHA256 {
        (true, Hash::Sha256)
    } else if algorithm == oid::RSA_SHA384 {
        (true, Hash::Sha384)
    } else if algorithm == oid::RSA_SHA512 {
        (true, Hash::Sha512)
    } else if algorithm == oid::ECDSA_SHA256 {
        (false, Hash::Sha256)
    } else if algorithm == oid::ECDSA_SHA384 {
        (false, Hash::Sha384)
    } else if algorithm == oid::ECDSA_SHA512 {
        (false, Hash::Sha512)
    } else if algorithm == oid::RSA {
        (true, digest.ok_or_else(unsupported)?)
    } else if algorithm == oid::EC_PUBLIC_KEY {
        (false, digest.ok_or_else(unsupported)?)
    } else {
        return Err(unsupported());
    };
    let p256 = key.curve == Some(oid::P256);
    let p384 = key.curve == Some(oid::P384);
    let verifier: &'static dyn VerificationAlgorithm = match (rsa, hash) {
        (true, _) if key.algorithm != oid::RSA => return Err(unsupported()),
        (false, _) if key.algorithm != oid::EC_PUBLIC_KEY => return Err(unsupported()),
        (true, Hash::Sha256) => &sig::RSA_PKCS1_2048_8192_SHA256,
        (true, Hash::Sha384) => &sig::RSA_PKCS1_2048_8192_SHA384,
        (true, Hash::Sha512) => &sig::RSA_PKCS1_2048_8192_SHA512,
        (false, Hash::Sha256) if p256 => &sig::ECDSA_P256_SHA256_ASN1,
        (false, Hash::Sha384) if p256 => &sig::ECDSA_P256_SHA384_ASN1,
        (false, Hash::Sha256) if p384 => &sig::ECDSA_P384_SHA256_ASN1,
        (false, Hash::Sha384) if p384 => &sig::ECDSA_P384_SHA384_ASN1,
        _ => return Err(unsupported()),
    };
    UnparsedPublicKey::new(verifier, &key.key)
        .verify(message, signature)
        .map_err(|_| TimestampError::BadSignature("the signature does not verify".to_owned()))
}

/// A certificate's signed parts: TBS (exact bytes), signature algorithm, signature.
fn signed_parts(der: &[u8]) -> Result<(&[u8], ObjectIdentifier, &[u8]), TimestampError> {
    let parts = asn1::parse(der, "Certificate")?.sequence("Certificate")?;
    let [tbs, algorithm, signature] = parts.as_slice() else {
        return Err(TimestampError::Malformed(
            "Certificate: expected three fields".to_owned(),
        ));
    };
    Ok((
        tbs.expect(Tag::Sequence, "tbsCertificate")?.raw,
        algorithm.algorithm("Certificate.signatureAlgorithm")?,
        signature.bits("Certificate.signature")?,
    ))
}

/// A name as people read it (`O=…, CN=…`).
pub(super) fn name_text(raw: &[u8]) -> String {
    X509Name::from_der(raw).map_or_else(
        |_| "(an unreadable name)".to_owned(),
        |(_, n)| n.to_string(),
    )
}

fn parse_cert(der: &[u8]) -> Result<X509Certificate<'_>, TimestampError> {
    X509Certificate::from_der(der)
        .map(|(_, c)| c)
        .map_err(|e| TimestampError::Malformed(format!("a certificate in the token: {e}")))
}

/// The certificate that signed a token.
pub(super) struct Signer<'a> {
    pub(super) der: &'a [u8],
    pub(super) spki: KeyInfo,
    pub(super) subject: String,
    pub(super) issuer: String,
    cert: X509Certificate<'a>,
}

/// Whether `child` was signed by `parent`'s key.
fn signed_by(child_der: &[u8], parent: &X509Certificate<'_>) -> bool {
    let Ok((tbs, algorithm, signature)) = signed_parts(child_der) else {
        return false;
    };
    KeyInfo::from_spki(parent.public_key().raw)
        .and_then(|key| verify_signature(&key, algorithm, None, tbs, signature))
        .is_ok()
}

/// The embedded certificate the SignerInfo's `sid` names.
pub(super) fn find_signer<'a>(
    certificates: &[&'a [u8]],
    sid: Node<'_>,
) -> Result<Signer<'a>, TimestampError> {
    for &der in certificates {
        let cert = parse_cert(der)?;
        let matches = if sid.tag == Tag::Sequence {
            let parts = sid.sequence("IssuerAndSerialNumber")?;
            let [issuer, serial] = parts.as_slice() else {
                return Err(TimestampError::Malformed(
                    "IssuerAndSerialNumber: two fields".to_owned(),
                ));
            };
            cert.tbs_certificate.issuer.as_raw() == issuer.raw
                && asn1::magnitude(cert.raw_serial())
                    == asn1::magnitude(serial.integer("serialNumber")?)
        } else if sid.tag == context_primitive(0) {
            cert.iter_extensions().any(|e| {
                matches!(e.parsed_extension(), ParsedExtension::SubjectKeyIdentifier(k) if k.0 == sid.value)
            })
        } else {
            return Err(TimestampError::Malformed(format!(
                "SignerInfo.sid: unexpected {}",
                sid.tag
            )));
        };
        if matches {
            return Ok(Signer {
                der,
                spki: KeyInfo::from_spki(cert.public_key().raw)?,
                subject: cert.subject().to_string(),
                issuer: cert.issuer().to_string(),
                cert,
            });
        }
    }
    Err(TimestampError::BadSigner(
        "the token does not carry the certificate that signed it (the request must ask for it: certReq)"
            .to_owned(),
    ))
}

impl Signer<'_> {
    /// RFC 3161 §2.3: the TSA's certificate has the one extended key usage timeStamping,
    /// critical; and it was valid when the token was made.
    pub(super) fn check_for_timestamping(&self, gen_time: &str) -> Result<(), TimestampError> {
        match self.cert.extended_key_usage() {
            Ok(Some(eku)) if eku.value.time_stamping && eku.critical => {}
            Ok(Some(eku)) if eku.value.time_stamping => {
                return Err(TimestampError::BadSigner(format!(
                    "{}: its timeStamping extended key usage is not marked critical",
                    self.subject
                )));
            }
            _ => {
                return Err(TimestampError::BadSigner(format!(
                    "{} is not a timestamping certificate (no extended key usage timeStamping)",
                    self.subject
                )));
            }
        }
        let at = chrono::DateTime::parse_from_rfc3339(gen_time)
            .map_err(|_| TimestampError::Malformed("TSTInfo.genTime".to_owned()))?
            .timestamp();
        let validity = self.cert.validity();
        if at < validity.not_before.timestamp() || at > validity.not_after.timestamp() {
            return Err(TimestampError::BadSigner(format!(
                "{} was not valid at {gen_time} (valid {} to {})",
                self.subject, validity.not_before, validity.not_after
            )));
        }
        Ok(())
    }
}

/// The certificates a verifier trusts for timestamps: the TSA's own certificate or the CA(s)
/// it chains to.
#[derive(Clone, Debug)]
pub struct TrustedCerts {
    certs: Vec<Vec<u8>>,
}

impl TrustedCerts {
    /// Certificates from PEM (one or more `CERTIFICATE` blocks) or one DER certificate.
    ///
    /// # Errors
    /// No certificate in `bytes`, or one that cannot be read.
    pub fn from_pem_or_der(bytes: &[u8]) -> Result<Self, String> {
        let mut certs = Vec::new();
        if bytes.windows(11).any(|w| w == b"-----BEGIN ") {
            for pem in x509_parser::pem::Pem::iter_from_buffer(bytes) {
                let pem = pem.map_err(|e| format!("not PEM: {e}"))?;
                if pem.label == "CERTIFICATE" {
                    parse_cert(&pem.contents).map_err(|e| e.to_string())?;
                    certs.push(pem.contents);
                }
            }
        } else {
            parse_cert(bytes).map_err(|e| e.to_string())?;
            certs.push(bytes.to_vec());
        }
        if certs.is_empty() {
            return Err(
                "no certificate in it: give the TSA's certificate or its CA as PEM (-----BEGIN CERTIFICATE-----) or DER"
                    .to_owned(),
            );
        }
        Ok(Self { certs })
    }

    /// The trusted certificates' subjects.
    #[must_use]
    pub fn subjects(&self) -> Vec<String> {
        self.certs
            .iter()
            .filter_map(|der| parse_cert(der).ok().map(|c| c.subject().to_string()))
            .collect()
    }

    /// The subject of the trusted certificate `signer` is, or chains to (through CA
    /// certificates the token carries).
    pub(super) fn chain(
        &self,
        signer: &Signer<'_>,
        embedded: &[&[u8]],
    ) -> Result<String, TimestampError> {
        let trusted: Vec<X509Certificate<'_>> = self
            .certs
            .iter()
            .filter_map(|d| parse_cert(d).ok())
            .collect();
        let mut current_der = signer.der;
        let mut current = signer.cert.clone();
        // A TSA certificate, at most a few intermediates, a root.
        for _ in 0..6 {
            for (der, anchor) in self.certs.iter().zip(&trusted) {
                let issued = anchor.subject().as_raw() == current.issuer().as_raw()
                    && anchor.is_ca()
                    && signed_by(current_der, anchor);
                if der.as_slice() == current_der || issued {
                    return Ok(anchor.subject().to_string());
                }
            }
            let next = embedded.iter().find_map(|der| {
                let cert = parse_cert(der).ok()?;
                (*der != current_der
                    && cert.subject().as_raw() == current.issuer().as_raw()
                    && cert.is_ca()
                    && signed_by(current_der, &cert))
                .then_some((*der, cert))
            });
            match next {
                Some((der, cert)) => {
                    current_der = der;
                    current = cert;
                }
                None => break,
            }
        }
        Err(TimestampError::Untrusted(format!(
            "the TSA certificate {} (issued by {}) does not chain to the trusted certificate(s) {}",
            signer.subject,
            signer.issuer,
            self.subjects().join("; ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusted_certs_read_pem_and_der_and_refuse_junk() {
        let pem = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/testdata/timestamp/rsa/ca.pem"
        ))
        .expect("fixture");
        let trusted = TrustedCerts::from_pem_or_der(&pem).expect("pem");
        assert_eq!(trusted.subjects().len(), 1);
        let der = trusted.certs[0].clone();
        assert!(TrustedCerts::from_pem_or_der(&der).is_ok());
        for junk in [
            &b""[..],
            b"hello",
            b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        ] {
            assert!(TrustedCerts::from_pem_or_der(junk).is_err());
        }
    }
}
