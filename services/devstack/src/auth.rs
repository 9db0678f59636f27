//! The local stack's throwaway identity provider and PKI (R-O3): a CA, the servers'
//! certificate, client certificates for systems, and an ES256 signing key whose JWKS the
//! services trust. Made anew for every stack; nothing here is for production.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType,
};

use kit::auth::Role;
use kit::auth::token::{LOCAL_AUTH_FILE, LocalAuth, es256_jwks};

/// Issuer of the local stack's tokens.
pub const LOCAL_ISSUER: &str = "https://collections.local/dev-idp";
/// Audience of the local stack's tokens.
pub const LOCAL_AUDIENCE: &str = "collections";

/// A client certificate and its key, PEM.
#[derive(Debug, Clone)]
pub struct ClientCertificate {
    /// The certificate.
    pub cert_pem: String,
    /// Its private key.
    pub key_pem: String,
}

/// Everything the local stack's services and clients need to meet each other.
#[derive(Debug, Clone)]
pub struct AuthMaterial {
    /// The directory holding the files.
    pub dir: PathBuf,
    /// The local identity provider.
    pub local: LocalAuth,
    /// The CA certificate (PEM) clients verify servers with.
    pub ca_pem: String,
    /// The servers' certificate and key files.
    pub server_cert_file: PathBuf,
    /// Its key.
    pub server_key_file: PathBuf,
    ca_params: CertificateParams,
    ca_key_pem: String,
}

fn ca_params(common_name: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = name(common_name, None);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
}

impl AuthMaterial {
    /// Makes a CA, a server certificate for 127.0.0.1/localhost, a signing key and its JWKS
    /// in `dir` (created, private to this user).
    pub fn create(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        let ca_key = KeyPair::generate()?;
        let ca_key_pem = ca_key.serialize_pem();
        let params = ca_params("collections local CA");
        let ca = CertifiedIssuer::self_signed(params.clone(), ca_key)?;
        let ca_pem = ca.pem();

        let server_key = KeyPair::generate()?;
        let mut server = CertificateParams::new(vec!["localhost".to_owned()])?;
        server
            .subject_alt_names
            .push(SanType::IpAddress([127, 0, 0, 1].into()));
        server.distinguished_name = name("collections local services", None);
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_cert = server.signed_by(&server_key, &ca)?;

        let signing = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let key_id = format!("local-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let jwks = es256_jwks(signing.public_key_raw(), &key_id)?;

        let write = |file: &str, contents: &str| -> anyhow::Result<PathBuf> {
            let path = dir.join(file);
            std::fs::write(&path, contents)
                .with_context(|| format!("writing {}", path.display()))?;
            Ok(path)
        };
        let ca_file = write("ca.pem", &ca_pem)?;
        let server_cert_file = write("server.pem", &server_cert.pem())?;
        let server_key_file = write("server-key.pem", &server_key.serialize_pem())?;
        let signing_key_file = write("signing-key.pem", &signing.serialize_pem())?;
        let jwks_file = write("jwks.json", &jwks.to_string())?;
        let local = LocalAuth {
            issuer: LOCAL_ISSUER.to_owned(),
            audience: LOCAL_AUDIENCE.to_owned(),
            key_id,
            signing_key_file,
            jwks_file,
            ca_file,
        };
        write(LOCAL_AUTH_FILE, &serde_json::to_string_pretty(&local)?)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            local,
            ca_params: params,
            ca_pem,
            server_cert_file,
            server_key_file,
            ca_key_pem,
        })
    }

    /// What each service needs to authenticate its callers.
    pub fn service_env(&self) -> Vec<(String, String)> {
        let path = |p: &Path| p.display().to_string();
        vec![
            ("AUTH_ISSUER".into(), self.local.issuer.clone()),
            ("AUTH_AUDIENCE".into(), self.local.audience.clone()),
            ("AUTH_JWKS_FILE".into(), path(&self.local.jwks_file)),
            ("GRPC_TLS_CERT_FILE".into(), path(&self.server_cert_file)),
            ("GRPC_TLS_KEY_FILE".into(), path(&self.server_key_file)),
            ("GRPC_TLS_CLIENT_CA_FILE".into(), path(&self.local.ca_file)),
        ]
    }

    /// A token for `subject` with `roles`, valid for an hour.
    pub fn token(
        &self,
        subject: &str,
        roles: &[Role],
        team: Option<&str>,
    ) -> anyhow::Result<String> {
        self.local
            .mint(subject, roles, team, Duration::from_secs(3600))
    }

    /// A token like [`token`](Self::token) but signed by a key nobody trusts, under the
    /// stack's key id (a forgery).
    pub fn forged_token(&self, subject: &str, roles: &[Role]) -> anyhow::Result<String> {
        let other = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let claims = self
            .local
            .claims(subject, roles, None, Duration::from_secs(3600));
        kit::auth::token::mint_with_key(
            other.serialize_pem().as_bytes(),
            &self.local.key_id,
            &claims,
        )
    }

    /// A token signed by the stack's key with `claims` changed by `edit` (e.g. expired, or
    /// for another audience).
    pub fn token_with(
        &self,
        subject: &str,
        roles: &[Role],
        edit: impl FnOnce(&mut serde_json::Value),
    ) -> anyhow::Result<String> {
        let mut claims = self
            .local
            .claims(subject, roles, None, Duration::from_secs(3600));
        edit(&mut claims);
        let pem = std::fs::read(&self.local.signing_key_file)?;
        kit::auth::token::mint_with_key(&pem, &self.local.key_id, &claims)
    }

    /// A client certificate from the stack's CA naming `subject` with `roles` as its
    /// organizational units (mutual TLS for systems).
    pub fn client_certificate(
        &self,
        subject: &str,
        roles: &[Role],
    ) -> anyhow::Result<ClientCertificate> {
        certificate_from(&self.ca_params, &self.ca_key_pem, subject, roles)
    }

    /// A client certificate for `subject` from a CA the services do not trust.
    pub fn foreign_client_certificate(
        &self,
        subject: &str,
        roles: &[Role],
    ) -> anyhow::Result<ClientCertificate> {
        let key = KeyPair::generate()?.serialize_pem();
        certificate_from(&ca_params("someone else's CA"), &key, subject, roles)
    }
}

/// The TLS material of a local Apache Kafka cluster: a CA of its own (the broker outlives
/// any one stack in the tests), one certificate for the nodes (server and client: they
/// authenticate to each other with it, principal `User:broker`) and one for the harness
/// (principal `User:admin`). Each identity file holds the key and the certificate (PEM),
/// as Kafka's PEM key store reads them. Subjects are a bare `CN=<principal>`, which the
/// broker maps to the principal name.
#[derive(Debug, Clone)]
pub struct KafkaPki {
    /// The CA certificate clients verify the brokers with (`KAFKA_SSL_CA_FILE`).
    pub ca_file: PathBuf,
    /// The nodes' key and certificate.
    pub broker_file: PathBuf,
    /// The admin's key and client certificate (the broker's mutual-TLS listener).
    pub admin_file: PathBuf,
}

impl KafkaPki {
    /// Writes the files into `dir` (created, private to this user).
    pub fn create(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        let ca_key = KeyPair::generate()?;
        let ca = CertifiedIssuer::self_signed(ca_params("collections local Kafka CA"), ca_key)?;
        let identity = |principal: &str, server: bool| -> anyhow::Result<String> {
            let key = KeyPair::generate()?;
            let mut params = if server {
                let mut params = CertificateParams::new(vec!["localhost".to_owned()])?;
                params
                    .subject_alt_names
                    .push(SanType::IpAddress([127, 0, 0, 1].into()));
                params.extended_key_usages = vec![
                    ExtendedKeyUsagePurpose::ServerAuth,
                    ExtendedKeyUsagePurpose::ClientAuth,
                ];
                params
            } else {
                let mut params = CertificateParams::default();
                params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
                params
            };
            let mut dn = DistinguishedName::new();
            dn.push(DnType::CommonName, principal);
            params.distinguished_name = dn;
            let cert = params.signed_by(&key, &ca)?;
            Ok(format!("{}{}", key.serialize_pem(), cert.pem()))
        };
        let write = |file: &str, contents: &str| -> anyhow::Result<PathBuf> {
            let path = dir.join(file);
            std::fs::write(&path, contents)
                .with_context(|| format!("writing {}", path.display()))?;
            Ok(path)
        };
        Ok(Self {
            ca_file: write("ca.pem", &ca.pem())?,
            broker_file: write("broker.pem", &identity("broker", true)?)?,
            admin_file: write("admin.pem", &identity("admin", false)?)?,
        })
    }
}

fn certificate_from(
    ca_params: &CertificateParams,
    ca_key_pem: &str,
    subject: &str,
    roles: &[Role],
) -> anyhow::Result<ClientCertificate> {
    let ca = Issuer::new(ca_params.clone(), KeyPair::from_pem(ca_key_pem)?);
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::default();
    params.distinguished_name = name(subject, Some(roles));
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let cert = params.signed_by(&key, &ca)?;
    Ok(ClientCertificate {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

fn name(common_name: &str, units: Option<&[Role]>) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn.push(DnType::OrganizationName, "collections (local)");
    for role in units.unwrap_or_default() {
        dn.push(DnType::OrganizationalUnitName, role.as_str());
    }
    dn
}
