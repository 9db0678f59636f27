//! OpenID Connect authorization code flow with PKCE (RFC 7636), the production sign-in.
//!
//! The console is the client: it sends the browser to the provider with a random `state` and
//! the S256 challenge of a random verifier, and at the callback exchanges the code (with the
//! verifier) for tokens at the provider's token endpoint. The access token is then verified by
//! kit's verifier against the `AUTH_*` settings, exactly as the services will, before any
//! session exists.

use std::time::Duration;

use anyhow::Context as _;
use base64::Engine as _;
use sha2::Digest as _;

use crate::config::OidcSettings;

/// What the provider's discovery document says (the parts used).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Discovery {
    /// Must equal the configured issuer.
    pub issuer: String,
    /// Where the browser signs in.
    pub authorization_endpoint: String,
    /// Where codes become tokens.
    pub token_endpoint: String,
    /// Where the browser signs out at the provider, if it offers one.
    #[serde(default)]
    pub end_session_endpoint: Option<String>,
}

/// The OIDC client.
#[derive(Debug, Clone)]
pub struct OidcClient {
    settings: OidcSettings,
    discovery: Discovery,
    http: reqwest::Client,
}

/// The S256 challenge of a PKCE verifier: base64url(SHA-256(verifier)).
pub fn pkce_challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier))
}

#[derive(serde::Deserialize)]
struct TokenResponse {
    access_token: String,
}

impl OidcClient {
    /// Reads `<issuer>/.well-known/openid-configuration`; refuses a document naming another
    /// issuer.
    pub async fn discover(settings: OidcSettings) -> anyhow::Result<Self> {
        kit::auth::install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .context("building the OIDC HTTP client")?;
        let url = format!(
            "{}/.well-known/openid-configuration",
            settings.issuer.trim_end_matches('/')
        );
        let text = http
            .get(&url)
            .send()
            .await
            .with_context(|| format!("fetching {url}"))?
            .error_for_status()
            .with_context(|| format!("fetching {url}"))?
            .text()
            .await
            .with_context(|| format!("reading {url}"))?;
        let discovery: Discovery = serde_json::from_str(&text)
            .with_context(|| format!("{url} is not a discovery document"))?;
        anyhow::ensure!(
            discovery.issuer.trim_end_matches('/') == settings.issuer.trim_end_matches('/'),
            "{url} names issuer {:?}, not {:?} (CONSOLE_OIDC_ISSUER)",
            discovery.issuer,
            settings.issuer
        );
        Ok(Self {
            settings,
            discovery,
            http,
        })
    }

    /// Where to send the browser to sign in.
    pub fn authorization_url(&self, state: &str, verifier: &str) -> String {
        let query = serde_urlencoded::to_string([
            ("response_type", "code"),
            ("client_id", self.settings.client_id.as_str()),
            ("redirect_uri", self.settings.redirect_url.as_str()),
            ("scope", self.settings.scopes.as_str()),
            ("state", state),
            ("code_challenge", &pkce_challenge(verifier)),
            ("code_challenge_method", "S256"),
        ])
        .unwrap_or_default();
        let sep = if self.discovery.authorization_endpoint.contains('?') {
            '&'
        } else {
            '?'
        };
        format!("{}{sep}{query}", self.discovery.authorization_endpoint)
    }

    /// The provider's sign-out page, if any.
    pub fn end_session_url(&self) -> Option<&str> {
        self.discovery.end_session_endpoint.as_deref()
    }

    /// Exchanges the callback's code for the access token (not yet verified).
    pub async fn exchange(&self, code: &str, verifier: &str) -> anyhow::Result<String> {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", self.settings.redirect_url.as_str()),
            ("client_id", self.settings.client_id.as_str()),
            ("code_verifier", verifier),
        ];
        if let Some(secret) = &self.settings.client_secret {
            form.push(("client_secret", secret.as_str()));
        }
        let body = serde_urlencoded::to_string(&form).context("encoding the token request")?;
        let response = self
            .http
            .post(&self.discovery.token_endpoint)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .context("calling the provider's token endpoint")?;
        let status = response.status();
        let text = response
            .text()
            .await
            .context("reading the token response")?;
        anyhow::ensure!(
            status.is_success(),
            "the provider refused the code ({status}); sign in again"
        );
        let tokens: TokenResponse =
            serde_json::from_str(&text).context("the token response has no access_token")?;
        Ok(tokens.access_token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pkce_challenge_is_rfc_7636_s256() {
        // RFC 7636 appendix B.
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn the_authorization_url_carries_state_and_challenge() {
        kit::auth::install_crypto_provider();
        let client = OidcClient {
            settings: OidcSettings {
                issuer: "https://sso.example".into(),
                client_id: "console".into(),
                client_secret: None,
                redirect_url: "https://console.example/oidc/callback".into(),
                scopes: "openid profile".into(),
            },
            discovery: Discovery {
                issuer: "https://sso.example".into(),
                authorization_endpoint: "https://sso.example/auth".into(),
                token_endpoint: "https://sso.example/token".into(),
                end_session_endpoint: None,
            },
            http: reqwest::Client::new(),
        };
        let url = client.authorization_url("st&ate", "verifier");
        assert!(url.starts_with("https://sso.example/auth?response_type=code&client_id=console"));
        assert!(url.contains("state=st%26ate"), "{url}");
        assert!(url.contains("code_challenge_method=S256"));
        assert!(url.contains(&format!("code_challenge={}", pkce_challenge("verifier"))));
        assert!(url.contains("redirect_uri=https%3A%2F%2Fconsole.example%2Foidc%2Fcallback"));
    }
}
