//! Creates the broker's ACLs with Kafka's `CreateAcls` request (API key 30, version 1),
//! sent over the broker's mutual-TLS listener as the admin principal.
//!
//! rdkafka 0.39 has no ACL API, and Kafka's own `AclCommand` takes one principal and one
//! resource pattern type per run: the 30-odd rules of one stack would cost a dozen JVM starts
//! (seconds each on 2 cores), for every test. One request of a few hundred bytes does it in
//! milliseconds. The rules themselves come from [`kit::events::acl_rules`].

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use kit::events::{AclOperation, AclPattern, AclResource, AclRule};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

const CREATE_ACLS: i16 = 30;
const VERSION: i16 = 1;

/// Kafka's codes (org.apache.kafka.common.resource.ResourceType and friends).
fn resource_code(resource: AclResource) -> i8 {
    match resource {
        AclResource::Topic => 2,
        AclResource::Group => 3,
        AclResource::Cluster => 4,
    }
}

fn pattern_code(pattern: AclPattern) -> i8 {
    match pattern {
        AclPattern::Literal => 3,
        AclPattern::Prefixed => 4,
    }
}

fn operation_code(operation: AclOperation) -> i8 {
    match operation {
        AclOperation::Read => 3,
        AclOperation::Write => 4,
        AclOperation::Describe => 8,
        AclOperation::IdempotentWrite => 12,
    }
}

/// `ALLOW`.
const PERMISSION_ALLOW: i8 = 3;

fn put_string(buf: &mut Vec<u8>, s: &str) -> anyhow::Result<()> {
    buf.extend_from_slice(&i16::try_from(s.len())?.to_be_bytes());
    buf.extend_from_slice(s.as_bytes());
    Ok(())
}

/// The request frame (size, header v1, body) for `rules`.
fn encode(rules: &[AclRule], correlation_id: i32) -> anyhow::Result<Vec<u8>> {
    let mut body = Vec::new();
    body.extend_from_slice(&CREATE_ACLS.to_be_bytes());
    body.extend_from_slice(&VERSION.to_be_bytes());
    body.extend_from_slice(&correlation_id.to_be_bytes());
    put_string(&mut body, "devstack-acls")?;
    body.extend_from_slice(&i32::try_from(rules.len())?.to_be_bytes());
    for rule in rules {
        body.push(resource_code(rule.resource).to_be_bytes()[0]);
        put_string(&mut body, &rule.name)?;
        body.push(pattern_code(rule.pattern).to_be_bytes()[0]);
        put_string(&mut body, &format!("User:{}", rule.principal))?;
        put_string(&mut body, "*")?;
        body.push(operation_code(rule.operation).to_be_bytes()[0]);
        body.push(PERMISSION_ALLOW.to_be_bytes()[0]);
    }
    let mut frame = i32::try_from(body.len())?.to_be_bytes().to_vec();
    frame.extend_from_slice(&body);
    Ok(frame)
}

/// A reader over a response body that fails instead of panicking on a short one.
struct Cursor<'a>(&'a [u8]);

impl Cursor<'_> {
    fn take<const N: usize>(&mut self) -> anyhow::Result<[u8; N]> {
        if self.0.len() < N {
            bail!("truncated CreateAcls response");
        }
        let (head, rest) = self.0.split_at(N);
        self.0 = rest;
        Ok(head.try_into()?)
    }

    fn i16(&mut self) -> anyhow::Result<i16> {
        Ok(i16::from_be_bytes(self.take()?))
    }

    fn i32(&mut self) -> anyhow::Result<i32> {
        Ok(i32::from_be_bytes(self.take()?))
    }

    fn nullable_string(&mut self) -> anyhow::Result<Option<String>> {
        let len = self.i16()?;
        if len < 0 {
            return Ok(None);
        }
        let len = usize::try_from(len)?;
        if self.0.len() < len {
            bail!("truncated CreateAcls response");
        }
        let (text, rest) = self.0.split_at(len);
        self.0 = rest;
        Ok(Some(String::from_utf8_lossy(text).into_owned()))
    }
}

/// Checks a response body (after the frame size): one result per rule, all without error.
fn decode(response: &[u8], correlation_id: i32, rules: &[AclRule]) -> anyhow::Result<()> {
    let mut cursor = Cursor(response);
    if cursor.i32()? != correlation_id {
        bail!("CreateAcls response for another request");
    }
    let _throttle = cursor.i32()?;
    let count = usize::try_from(cursor.i32()?).unwrap_or(0);
    if count != rules.len() {
        bail!(
            "CreateAcls answered {count} results for {} rules",
            rules.len()
        );
    }
    let mut failures = Vec::new();
    for rule in rules {
        let code = cursor.i16()?;
        let message = cursor.nullable_string()?;
        if code != 0 {
            failures.push(format!(
                "{rule:?}: error {code} {}",
                message.unwrap_or_default()
            ));
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        bail!("the broker refused ACLs:\n{}", failures.join("\n"))
    }
}

/// Sends `rules` to the broker's mutual-TLS listener at 127.0.0.1:`port`, authenticating
/// with the client certificate and key in `identity_pem` (a super user), verifying the broker
/// against `ca_file`. Existing identical ACLs are fine (the broker ignores duplicates).
pub fn create(
    port: u16,
    ca_file: &Path,
    identity_pem: &Path,
    rules: &[AclRule],
) -> anyhow::Result<()> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca_file)
        .with_context(|| format!("reading {}", ca_file.display()))?
    {
        roots.add(cert?)?;
    }
    let chain = CertificateDer::pem_file_iter(identity_pem)
        .with_context(|| format!("reading {}", identity_pem.display()))?
        .collect::<Result<Vec<_>, _>>()?;
    let key = PrivateKeyDer::from_pem_file(identity_pem)
        .with_context(|| format!("reading the key in {}", identity_pem.display()))?;
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_client_auth_cert(chain, key)?;
    let server = ServerName::IpAddress(std::net::Ipv4Addr::LOCALHOST.into());
    let connection = rustls::ClientConnection::new(Arc::new(config), server)?;
    let socket = TcpStream::connect(("127.0.0.1", port))
        .with_context(|| format!("connecting to the broker's TLS listener on port {port}"))?;
    socket.set_read_timeout(Some(Duration::from_secs(30)))?;
    socket.set_write_timeout(Some(Duration::from_secs(30)))?;
    let mut tls = rustls::StreamOwned::new(connection, socket);

    let correlation_id = 1;
    tls.write_all(&encode(rules, correlation_id)?)
        .context("sending CreateAcls")?;
    tls.flush()?;
    let mut size = [0_u8; 4];
    tls.read_exact(&mut size)
        .context("reading the CreateAcls response (did the broker accept our certificate?)")?;
    let size = usize::try_from(i32::from_be_bytes(size))?;
    if size > 1 << 20 {
        bail!("implausible CreateAcls response size {size}");
    }
    let mut response = vec![0_u8; size];
    tls.read_exact(&mut response)?;
    decode(&response, correlation_id, rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_a_rule_as_kafka_expects() {
        let rule = AclRule {
            principal: "payments".to_owned(),
            resource: AclResource::Topic,
            pattern: AclPattern::Prefixed,
            name: "collections.payments.".to_owned(),
            operation: AclOperation::Write,
        };
        let frame = encode(std::slice::from_ref(&rule), 7).unwrap();
        let size = i32::from_be_bytes(frame[..4].try_into().unwrap());
        assert_eq!(usize::try_from(size).unwrap(), frame.len() - 4);
        // api key 30, version 1, correlation id 7
        assert_eq!(&frame[4..12], &[0, 30, 0, 1, 0, 0, 0, 7]);
        let tail = &frame[frame.len() - 2..];
        assert_eq!(tail, &[4, 3], "WRITE, ALLOW");

        let mut ok = 7_i32.to_be_bytes().to_vec();
        ok.extend_from_slice(&0_i32.to_be_bytes());
        ok.extend_from_slice(&1_i32.to_be_bytes());
        ok.extend_from_slice(&0_i16.to_be_bytes());
        ok.extend_from_slice(&(-1_i16).to_be_bytes());
        assert!(decode(&ok, 7, std::slice::from_ref(&rule)).is_ok());
        assert!(decode(&ok[..10], 7, std::slice::from_ref(&rule)).is_err());
        let mut refused = ok[..12].to_vec();
        refused.extend_from_slice(&31_i16.to_be_bytes());
        refused.extend_from_slice(&2_i16.to_be_bytes());
        refused.extend_from_slice(b"no");
        let error = decode(&refused, 7, &[rule]).unwrap_err().to_string();
        assert!(error.contains("error 31 no"), "{error}");
    }
}
