//! Minting tokens for the local stack and tests, signed with the stack's throwaway key.
//!
//! In a deployment tokens come from the OIDC provider; this is what lets the two README
//! commands, `collectctl auth token` and the tests run with authentication on.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};

use super::policy::Role;

/// The file in a local auth directory that describes it.
pub const LOCAL_AUTH_FILE: &str = "local-auth.json";

/// A local stack's identity provider: issuer, audience, key id and where its files are.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LocalAuth {
    /// `iss` of the tokens.
    pub issuer: String,
    /// `aud` of the tokens.
    pub audience: String,
    /// `kid` of the signing key.
    pub key_id: String,
    /// PKCS#8 PEM of the ES256 signing key.
    pub signing_key_file: PathBuf,
    /// The JWKS the services trust.
    pub jwks_file: PathBuf,
    /// The CA that signed the servers' and clients' certificates.
    pub ca_file: PathBuf,
}

impl LocalAuth {
    /// Reads `dir/local-auth.json`.
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join(LOCAL_AUTH_FILE);
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "reading {}: is the local stack running (deploy/local/up.sh)? Set COLLECTIONS_AUTH_DIR to its auth directory",
                path.display()
            )
        })?;
        serde_json::from_str(&text).with_context(|| format!("{} is not valid", path.display()))
    }

    /// A token for `subject` holding `roles` (and `team`, for supervisors), valid for `ttl`.
    pub fn mint(
        &self,
        subject: &str,
        roles: &[Role],
        team: Option<&str>,
        ttl: Duration,
    ) -> anyhow::Result<String> {
        let pem = std::fs::read(&self.signing_key_file)
            .with_context(|| format!("reading {}", self.signing_key_file.display()))?;
        mint_with_key(&pem, &self.key_id, &self.claims(subject, roles, team, ttl))
    }

    /// The claims of a token [`mint`](Self::mint) would sign.
    pub fn claims(
        &self,
        subject: &str,
        roles: &[Role],
        team: Option<&str>,
        ttl: Duration,
    ) -> serde_json::Value {
        let now = chrono::Utc::now().timestamp();
        let mut claims = serde_json::json!({
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "iat": now,
            "nbf": now,
            "exp": now + i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2),
            "roles": roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        });
        if let (Some(team), Some(map)) = (team, claims.as_object_mut()) {
            map.insert("team".into(), team.into());
        }
        claims
    }
}

/// Signs `claims` with an ES256 key (PKCS#8 PEM) under `key_id`.
pub fn mint_with_key(
    pem: &[u8],
    key_id: &str,
    claims: &serde_json::Value,
) -> anyhow::Result<String> {
    let key = EncodingKey::from_ec_pem(pem).context("the signing key is not an EC PEM key")?;
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(key_id.to_owned());
    jsonwebtoken::encode(&header, claims, &key).context("signing the token")
}

/// The JWKS document publishing one P-256 public key (`public_key` is the uncompressed SEC1
/// point, 65 bytes: 0x04 ‖ x ‖ y) for ES256 under `key_id`.
pub fn es256_jwks(public_key: &[u8], key_id: &str) -> anyhow::Result<serde_json::Value> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let [0x04, point @ ..] = public_key else {
        anyhow::bail!("not an uncompressed P-256 point");
    };
    if point.len() != 64 {
        anyhow::bail!(
            "a P-256 point has 64 bytes of coordinates, not {}",
            point.len()
        );
    }
    let (x, y) = point.split_at(32);
    Ok(serde_json::json!({
        "keys": [{
            "kty": "EC",
            "crv": "P-256",
            "x": b64.encode(x),
            "y": b64.encode(y),
            "kid": key_id,
            "alg": "ES256",
            "use": "sig",
        }]
    }))
}
