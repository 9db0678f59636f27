//! TLS for the gRPC server and callers identified by their client certificate (mutual TLS).
//!
//! A client certificate issued by the CA in `GRPC_TLS_CLIENT_CA_FILE` names its principal in
//! the subject's common name and its roles in the organizational units, e.g.
//! `CN=bank-gateway-icbc, OU=bank-integration`. Only the roles of systems may come this way
//! (`service`, `bank-integration`): people use tokens.

use std::path::PathBuf;

use anyhow::Context as _;
use tonic::transport::{Certificate, Identity, ServerTlsConfig};
use x509_parser::prelude::{FromDer as _, X509Certificate};

use super::policy::Role;

/// Roles a client certificate may carry.
pub const CERTIFICATE_ROLES: [Role; 2] = [Role::Service, Role::BankIntegration];

/// Server TLS from files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    /// `GRPC_TLS_CERT_FILE`: the server's certificate chain (PEM).
    pub cert_file: PathBuf,
    /// `GRPC_TLS_KEY_FILE`: its private key (PEM).
    pub key_file: PathBuf,
    /// `GRPC_TLS_CLIENT_CA_FILE`: when set, clients may authenticate with a certificate from
    /// this CA (optional: callers with a token need none).
    pub client_ca_file: Option<PathBuf>,
}

impl TlsSettings {
    /// The tonic server configuration.
    pub fn server_config(&self) -> anyhow::Result<ServerTlsConfig> {
        super::install_crypto_provider();
        let cert = std::fs::read(&self.cert_file)
            .with_context(|| format!("reading GRPC_TLS_CERT_FILE {}", self.cert_file.display()))?;
        let key = std::fs::read(&self.key_file)
            .with_context(|| format!("reading GRPC_TLS_KEY_FILE {}", self.key_file.display()))?;
        let mut config = ServerTlsConfig::new().identity(Identity::from_pem(cert, key));
        if let Some(ca) = &self.client_ca_file {
            let ca = std::fs::read(ca)
                .with_context(|| format!("reading GRPC_TLS_CLIENT_CA_FILE {}", ca.display()))?;
            config = config
                .client_ca_root(Certificate::from_pem(ca))
                .client_auth_optional(true);
        }
        Ok(config)
    }
}

/// Who a verified client certificate names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateIdentity {
    /// The subject's common name.
    pub subject: String,
    /// The roles among its organizational units.
    pub roles: Vec<Role>,
}

/// Why a client certificate does not name a usable principal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    /// Not DER X.509.
    #[error("the client certificate cannot be read")]
    Unreadable,
    /// No common name.
    #[error("the client certificate has no common name (CN) to name its principal")]
    NoCommonName,
    /// No OU is a role a certificate may carry.
    #[error(
        "the client certificate's organizational units name no role for systems (service, bank-integration); people sign in with a token"
    )]
    NoRole,
}

/// Reads the principal of a client certificate (already verified against the client CA by
/// the TLS handshake).
pub fn certificate_identity(der: &[u8]) -> Result<CertificateIdentity, CertificateError> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|_| CertificateError::Unreadable)?;
    let subject = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .filter(|s| !s.is_empty())
        .ok_or(CertificateError::NoCommonName)?
        .to_owned();
    let mut roles: Vec<Role> = cert
        .subject()
        .iter_organizational_unit()
        .filter_map(|ou| ou.as_str().ok())
        .filter_map(|ou| ou.parse::<Role>().ok())
        .filter(|r| CERTIFICATE_ROLES.contains(r))
        .collect();
    roles.sort();
    roles.dedup();
    if roles.is_empty() {
        return Err(CertificateError::NoRole);
    }
    Ok(CertificateIdentity { subject, roles })
}
