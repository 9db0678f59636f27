//! Bearer tokens: JWTs signed by the deployment's OIDC provider, verified against its JWKS.
//!
//! `jsonwebtoken` does the signature and claim checks: it is the most used and maintained
//! JWT crate of the ecosystem, supports every asymmetric algorithm OIDC providers use (RS*,
//! PS*, ES256/384, EdDSA) and reads JWKs directly. Its pure-Rust backend (`rust_crypto`)
//! avoids a second C crypto build next to librdkafka's.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use tokio::sync::RwLock;

use super::policy::Role;

/// Where the signing keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksSource {
    /// A JWKS document on disk (re-read when it changes: key rotation by file replacement).
    File(PathBuf),
    /// The provider's `jwks_uri`.
    Url(String),
}

/// How tokens are checked.
#[derive(Debug, Clone)]
pub struct TokenSettings {
    /// Expected `iss`.
    pub issuer: String,
    /// Expected `aud` (one of).
    pub audience: String,
    /// The keys.
    pub jwks: JwksSource,
    /// How long fetched keys are trusted before they are fetched again.
    pub refresh: Duration,
    /// Dotted path of the roles claim, e.g. `roles` or Keycloak's `realm_access.roles`.
    pub roles_claim: String,
    /// Claim naming the caller's team (supervisors see their team's customers).
    pub team_claim: String,
    /// Clock skew tolerated on `exp` and `nbf`.
    pub leeway: Duration,
}

/// A verified token's caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenIdentity {
    /// `sub`.
    pub subject: String,
    /// Roles this platform knows; unknown role names are ignored.
    pub roles: Vec<Role>,
    /// The team, if the token names one.
    pub team: Option<String>,
}

/// Why a token was refused; the message goes back to the caller as UNAUTHENTICATED.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not three base64url parts, or a header that does not decode.
    #[error("the bearer token is not a well-formed JWT ({0})")]
    Malformed(String),
    /// `alg` is none, symmetric or unknown.
    #[error(
        "the token's algorithm {0} is not accepted; the identity provider must sign with an asymmetric key (RS256, PS256, ES256, EdDSA, …)"
    )]
    Algorithm(String),
    /// No key with the token's `kid`, even after fetching the keys again.
    #[error(
        "the token was signed with key {0:?}, which is not in the trusted key set; it was not issued by this deployment's identity provider, or the key was retired"
    )]
    UnknownKey(String),
    /// The signature does not verify.
    #[error("the token's signature is invalid (forged, altered, or signed by another key)")]
    Signature,
    /// `exp` is past.
    #[error("the token has expired; get a new one from the identity provider")]
    Expired,
    /// `nbf` is in the future.
    #[error("the token is not valid yet (nbf is in the future); check the clocks")]
    NotYetValid,
    /// `iss` differs.
    #[error("the token was issued by another issuer; this service trusts {0:?}")]
    Issuer(String),
    /// `aud` differs.
    #[error("the token is for another audience; this service is {0:?}")]
    Audience(String),
    /// A claim this platform needs is missing or of the wrong type.
    #[error("the token lacks a valid {0:?} claim")]
    Claim(String),
    /// The keys could not be loaded.
    #[error("the identity provider's keys could not be loaded: {0}")]
    Keys(String),
}

struct Keys {
    by_kid: HashMap<String, (DecodingKey, Option<Algorithm>)>,
    fetched: Instant,
    /// Which fetch this is: a token verified under an earlier one is checked again.
    generation: u64,
}

/// A token whose signature and claims were checked, remembered so the caller's next calls do
/// not pay for the signature again (issue 16: ES256 in pure Rust was ~40 % of contracts' CPU
/// when customers signed one call at a time). Only the time-dependent checks are repeated;
/// a token is checked in full again once the keys have been fetched again (rotation, or every
/// `AUTH_JWKS_REFRESH_SECS`).
struct Verified {
    identity: TokenIdentity,
    kid: String,
    generation: u64,
    not_before: Option<i64>,
    expires: i64,
}

/// At most this many verified tokens are remembered; when full, the expired ones are
/// forgotten, and everything if that is not enough.
const VERIFIED_MAX: usize = 10_000;

/// Verifies bearer tokens against a cached JWKS, fetching it again when a token names a key
/// it does not know (the provider rotated keys) or when the cache is older than `refresh`.
pub struct TokenVerifier {
    settings: TokenSettings,
    keys: RwLock<Option<Keys>>,
    http: reqwest::Client,
    min_refetch: Duration,
    /// Fetches of the key set so far.
    fetches: AtomicU64,
    /// Verified tokens by the SHA-256 of the whole token (header, claims and signature).
    verified: Mutex<HashMap<[u8; 32], Verified>>,
    /// Signatures checked so far (the work the verified tokens save).
    signature_checks: AtomicU64,
}

/// Unknown `kid`s trigger at most one fetch in this interval, so forged tokens with random
/// key ids cannot make the service hammer the provider.
const MIN_REFETCH: Duration = Duration::from_secs(10);

impl TokenVerifier {
    /// A verifier; keys are loaded on first use.
    pub fn new(settings: TokenSettings) -> anyhow::Result<Self> {
        super::install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| anyhow::anyhow!("building the JWKS HTTP client: {e}"))?;
        Ok(Self {
            settings,
            keys: RwLock::new(None),
            http,
            min_refetch: MIN_REFETCH,
            fetches: AtomicU64::new(0),
            verified: Mutex::new(HashMap::new()),
            signature_checks: AtomicU64::new(0),
        })
    }

    /// How many token signatures this verifier has checked.
    #[cfg(test)]
    pub(crate) fn signature_checks(&self) -> u64 {
        self.signature_checks.load(Ordering::Relaxed)
    }

    #[cfg(test)]
    pub(crate) fn with_min_refetch(mut self, interval: Duration) -> Self {
        self.min_refetch = interval;
        self
    }

    /// Loads the keys now, so a misconfigured JWKS stops the service at start-up.
    pub async fn preload(&self) -> Result<(), TokenError> {
        let keys = self.fetch().await?;
        *self.keys.write().await = Some(keys);
        Ok(())
    }

    /// Checks `token` and returns who it names. A token checked before under the same fetch
    /// of the keys, still within its `nbf`/`exp`, is not checked again.
    pub async fn verify(&self, token: &str) -> Result<TokenIdentity, TokenError> {
        use sha2::Digest as _;
        let digest: [u8; 32] = sha2::Sha256::digest(token.as_bytes()).into();
        let now = chrono::Utc::now().timestamp();
        if let Some((kid, generation, identity)) = self.remembered(&digest, now) {
            // The key must still be trusted, under the fetch the token was checked with; a
            // refused key is refused here as on the full path.
            let (_, _, current) = self.key(&kid).await?;
            if current == generation {
                return Ok(identity);
            }
        }
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| TokenError::Malformed(e.to_string()))?;
        let alg = header.alg;
        if matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) {
            return Err(TokenError::Algorithm(format!("{alg:?}")));
        }
        let kid = header.kid.unwrap_or_default();
        let (key, key_alg, generation) = self.key(&kid).await?;
        if key_alg.is_some_and(|a| a != alg) {
            return Err(TokenError::Algorithm(format!(
                "{alg:?} (the key is for {key_alg:?})"
            )));
        }
        let mut validation = Validation::new(alg);
        validation.set_issuer(&[&self.settings.issuer]);
        validation.set_audience(&[&self.settings.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = self.settings.leeway.as_secs();
        self.signature_checks.fetch_add(1, Ordering::Relaxed);
        let data = jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation)
            .map_err(|e| self.map_error(e))?;
        let identity = self.identity(&data.claims)?;
        self.remember(digest, kid, generation, &data.claims, &identity, now);
        Ok(identity)
    }

    /// A verified token's key id, key fetch and caller, if it is remembered and its `nbf` and
    /// `exp` still hold (with the leeway); otherwise the full path decides, with its errors.
    fn remembered(&self, digest: &[u8; 32], now: i64) -> Option<(String, u64, TokenIdentity)> {
        let leeway = i64::try_from(self.settings.leeway.as_secs()).unwrap_or(i64::MAX);
        let verified = self.verified.lock().ok()?;
        let v = verified.get(digest)?;
        let expired = v.expires < now.saturating_sub(leeway);
        let early = v
            .not_before
            .is_some_and(|nbf| nbf > now.saturating_add(leeway));
        (!expired && !early).then(|| (v.kid.clone(), v.generation, v.identity.clone()))
    }

    /// Remembers a token just verified, when its `exp` (and `nbf`, if any) are whole seconds.
    fn remember(
        &self,
        digest: [u8; 32],
        kid: String,
        generation: u64,
        claims: &serde_json::Value,
        identity: &TokenIdentity,
        now: i64,
    ) {
        let Some(expires) = claims.get("exp").and_then(serde_json::Value::as_i64) else {
            return;
        };
        let not_before = match claims.get("nbf") {
            None => None,
            Some(nbf) => match nbf.as_i64() {
                Some(nbf) => Some(nbf),
                None => return,
            },
        };
        let Ok(mut verified) = self.verified.lock() else {
            return;
        };
        if verified.len() >= VERIFIED_MAX {
            let leeway = i64::try_from(self.settings.leeway.as_secs()).unwrap_or(i64::MAX);
            verified.retain(|_, v| v.expires >= now.saturating_sub(leeway));
            if verified.len() >= VERIFIED_MAX {
                verified.clear();
            }
        }
        verified.insert(
            digest,
            Verified {
                identity: identity.clone(),
                kid,
                generation,
                not_before,
                expires,
            },
        );
    }

    fn identity(&self, claims: &serde_json::Value) -> Result<TokenIdentity, TokenError> {
        let subject = claims
            .get("sub")
            .and_then(serde_json::Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| TokenError::Claim("sub".into()))?
            .to_owned();
        let mut node = claims;
        for part in self.settings.roles_claim.split('.') {
            node = node
                .get(part)
                .ok_or_else(|| TokenError::Claim(self.settings.roles_claim.clone()))?;
        }
        let names: Vec<&str> = match node {
            serde_json::Value::Array(items) => {
                items.iter().filter_map(serde_json::Value::as_str).collect()
            }
            // Some providers send one role as a space-separated string.
            serde_json::Value::String(s) => s.split_whitespace().collect(),
            _ => return Err(TokenError::Claim(self.settings.roles_claim.clone())),
        };
        let mut roles: Vec<Role> = names.iter().filter_map(|n| n.parse().ok()).collect();
        roles.sort();
        roles.dedup();
        let team = claims
            .get(&self.settings.team_claim)
            .and_then(serde_json::Value::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_owned);
        Ok(TokenIdentity {
            subject,
            roles,
            team,
        })
    }

    fn map_error(&self, error: jsonwebtoken::errors::Error) -> TokenError {
        use jsonwebtoken::errors::ErrorKind;
        match error.kind() {
            ErrorKind::ExpiredSignature => TokenError::Expired,
            ErrorKind::ImmatureSignature => TokenError::NotYetValid,
            ErrorKind::InvalidIssuer => TokenError::Issuer(self.settings.issuer.clone()),
            ErrorKind::InvalidAudience => TokenError::Audience(self.settings.audience.clone()),
            ErrorKind::InvalidSignature => TokenError::Signature,
            ErrorKind::MissingRequiredClaim(claim) => TokenError::Claim(claim.clone()),
            ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
                TokenError::Algorithm("of the token".into())
            }
            _ => TokenError::Malformed(error.to_string()),
        }
    }

    /// The key `kid` names, its algorithm and the fetch of the key set it came from.
    async fn key(&self, kid: &str) -> Result<(DecodingKey, Option<Algorithm>, u64), TokenError> {
        {
            let guard = self.keys.read().await;
            if let Some(keys) = guard.as_ref()
                && keys.fetched.elapsed() < self.settings.refresh
                && let Some((key, alg)) = keys.by_kid.get(kid)
            {
                return Ok((key.clone(), *alg, keys.generation));
            }
        }
        let mut guard = self.keys.write().await;
        let stale = guard.as_ref().is_none_or(|k| {
            k.fetched.elapsed() >= self.settings.refresh
                || (!k.by_kid.contains_key(kid) && k.fetched.elapsed() >= self.min_refetch)
        });
        if stale {
            match self.fetch().await {
                Ok(keys) => *guard = Some(keys),
                // Keep serving with the keys we have while the provider is unreachable.
                Err(error) if guard.is_some() => {
                    tracing::warn!(%error, "refreshing the JWKS failed; using the cached keys");
                }
                Err(error) => return Err(error),
            }
        }
        guard
            .as_ref()
            .and_then(|k| {
                k.by_kid
                    .get(kid)
                    .map(|(key, alg)| (key.clone(), *alg, k.generation))
            })
            .ok_or_else(|| TokenError::UnknownKey(kid.to_owned()))
    }

    async fn fetch(&self) -> Result<Keys, TokenError> {
        let text = match &self.settings.jwks {
            JwksSource::File(path) => tokio::fs::read_to_string(path)
                .await
                .map_err(|e| TokenError::Keys(format!("reading {}: {e}", path.display())))?,
            JwksSource::Url(url) => {
                let response = self
                    .http
                    .get(url)
                    .send()
                    .await
                    .map_err(|e| TokenError::Keys(format!("fetching {url}: {e}")))?;
                if !response.status().is_success() {
                    return Err(TokenError::Keys(format!(
                        "fetching {url}: HTTP {}",
                        response.status()
                    )));
                }
                response
                    .text()
                    .await
                    .map_err(|e| TokenError::Keys(format!("reading {url}: {e}")))?
            }
        };
        let keys = parse_jwks(&text)?;
        tracing::info!(
            keys = keys.len(),
            "loaded the identity provider's signing keys"
        );
        Ok(Keys {
            by_kid: keys,
            fetched: Instant::now(),
            generation: self.fetches.fetch_add(1, Ordering::Relaxed) + 1,
        })
    }
}

/// Reads a JWKS document; symmetric (`oct`) keys are refused, keys for encryption skipped.
pub fn parse_jwks(
    text: &str,
) -> Result<HashMap<String, (DecodingKey, Option<Algorithm>)>, TokenError> {
    let set: JwkSet = serde_json::from_str(text)
        .map_err(|e| TokenError::Keys(format!("not a JWKS document: {e}")))?;
    let mut keys = HashMap::new();
    for jwk in &set.keys {
        if matches!(jwk.algorithm, AlgorithmParameters::OctetKey(_)) {
            return Err(TokenError::Keys(
                "the key set holds a symmetric (oct) key; only public keys are accepted".into(),
            ));
        }
        if matches!(
            jwk.common.public_key_use,
            Some(jsonwebtoken::jwk::PublicKeyUse::Encryption)
        ) {
            continue;
        }
        let key = DecodingKey::from_jwk(jwk)
            .map_err(|e| TokenError::Keys(format!("key {:?}: {e}", jwk.common.key_id)))?;
        let alg = jwk
            .common
            .key_algorithm
            .and_then(|a| a.to_string().parse::<Algorithm>().ok());
        keys.insert(jwk.common.key_id.clone().unwrap_or_default(), (key, alg));
    }
    if keys.is_empty() {
        return Err(TokenError::Keys("the key set has no signing key".into()));
    }
    Ok(keys)
}
