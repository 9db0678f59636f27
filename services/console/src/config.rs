//! The console's settings from the environment, and the sign-in modes it refuses to mix.
//!
//! Two ways to sign in, never both (R-O3):
//! - **OIDC** (production): `CONSOLE_OIDC_ISSUER`, `CONSOLE_OIDC_CLIENT_ID`,
//!   `CONSOLE_OIDC_REDIRECT_URL` (and `CONSOLE_OIDC_CLIENT_SECRET` for a confidential client);
//!   the tokens the provider returns are checked with the same `AUTH_*` settings the services
//!   use (kit's verifier), so the console accepts exactly the tokens the services accept.
//! - **Demo identities of the local stack**: `CONSOLE_DEMO_SIGN_IN=local-stack` together with
//!   `COLLECTIONS_AUTH_DIR` (the stack's throwaway signing key). Refused with
//!   `COLLECTIONS_ENV=production` and refused next to any OIDC setting, so it cannot be switched
//!   on by accident in a deployment; logged as a warning at start and shown on every page.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use kit::auth::jwt::{JwksSource, TokenSettings};
use kit::auth::token::LocalAuth;

/// A setting that is missing, malformed or contradicts another; the message names the
/// variable and what to do.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct SettingError {
    /// The variable.
    pub variable: &'static str,
    /// What is wrong and what to set instead.
    pub problem: String,
}

fn error(variable: &'static str, problem: impl Into<String>) -> SettingError {
    SettingError {
        variable,
        problem: problem.into(),
    }
}

/// The value of `CONSOLE_DEMO_SIGN_IN` that enables demo identities.
pub const DEMO_SIGN_IN: &str = "local-stack";

/// The OIDC client's settings.
#[derive(Debug, Clone)]
pub struct OidcSettings {
    /// The provider's issuer URL; discovery is `<issuer>/.well-known/openid-configuration`.
    pub issuer: String,
    /// The console's client id at the provider.
    pub client_id: String,
    /// Its secret, for a confidential client (never logged).
    pub client_secret: Option<String>,
    /// Where the provider sends the browser back: `https://console.example/oidc/callback`.
    pub redirect_url: String,
    /// Scopes asked for.
    pub scopes: String,
}

/// How people sign in.
#[derive(Debug, Clone)]
pub enum SignInMode {
    /// The deployment's OIDC provider.
    Oidc(OidcSettings),
    /// The local stack's demo identities, signed with its throwaway key.
    LocalStack(LocalAuth),
}

/// Where the services are.
#[derive(Debug, Clone)]
pub struct Endpoints {
    /// contracts.
    pub contracts: String,
    /// payments.
    pub payments: String,
    /// dunning.
    pub dunning: String,
    /// legal.
    pub legal: String,
    /// reporting.
    pub reporting: String,
}

/// Everything the console reads at start-up.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `CONSOLE_ADDR`: where the HTTP server listens.
    pub addr: SocketAddr,
    /// How people sign in.
    pub sign_in: SignInMode,
    /// How tokens are checked before a session is made.
    pub token: TokenSettings,
    /// The services' gRPC addresses.
    pub endpoints: Endpoints,
    /// `CONSOLE_CA_FILE`: the CA the services' certificates chain to (default: the system's).
    pub ca_file: Option<PathBuf>,
    /// `CONSOLE_COOKIE_SECURE`: mark cookies `Secure` (default on, except for the local stack,
    /// which serves plain HTTP on 127.0.0.1).
    pub cookie_secure: bool,
    /// `CONSOLE_SESSION_MAX_SECS`: a session ends at the token's expiry or after this, whichever
    /// comes first.
    pub session_max: Duration,
    /// `READY_FILE`: the bound address is written there (the local stack waits for it).
    pub ready_file: Option<PathBuf>,
}

impl Settings {
    /// From the process environment.
    pub fn from_env() -> Result<Self, SettingError> {
        Self::from_vars(&|name| std::env::var(name).ok())
    }

    /// From any source of variables (tests give a map).
    pub fn from_vars(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, SettingError> {
        let var = |name: &str| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let production = match var("COLLECTIONS_ENV").as_deref() {
            None | Some("development") => false,
            Some("production") => true,
            Some(other) => {
                return Err(error(
                    "COLLECTIONS_ENV",
                    format!("{other:?} is neither development nor production"),
                ));
            }
        };
        let addr_text = var("CONSOLE_ADDR").unwrap_or_else(|| "127.0.0.1:50080".to_owned());
        let addr = addr_text.parse().map_err(|_| {
            error(
                "CONSOLE_ADDR",
                format!("{addr_text:?} is not host:port, e.g. 0.0.0.0:8080"),
            )
        })?;
        let oidc_vars = [
            "CONSOLE_OIDC_ISSUER",
            "CONSOLE_OIDC_CLIENT_ID",
            "CONSOLE_OIDC_CLIENT_SECRET",
            "CONSOLE_OIDC_REDIRECT_URL",
        ];
        let oidc_set: Vec<&str> = oidc_vars.into_iter().filter(|v| var(v).is_some()).collect();
        let demo = var("CONSOLE_DEMO_SIGN_IN");
        let (sign_in, token) = match demo.as_deref() {
            Some(DEMO_SIGN_IN) => {
                if production {
                    return Err(error(
                        "CONSOLE_DEMO_SIGN_IN",
                        "demo identities are refused with COLLECTIONS_ENV=production; people sign in through the OIDC provider (set CONSOLE_OIDC_*)",
                    ));
                }
                if !oidc_set.is_empty() {
                    return Err(error(
                        "CONSOLE_DEMO_SIGN_IN",
                        format!(
                            "demo identities and OIDC exclude each other, but {} is set; unset one of them",
                            oidc_set.join(", ")
                        ),
                    ));
                }
                let dir = var("COLLECTIONS_AUTH_DIR").ok_or_else(|| {
                    error(
                        "COLLECTIONS_AUTH_DIR",
                        "the local stack's auth directory, required with CONSOLE_DEMO_SIGN_IN=local-stack",
                    )
                })?;
                let local = LocalAuth::load(std::path::Path::new(&dir))
                    .map_err(|e| error("COLLECTIONS_AUTH_DIR", format!("{e:#}")))?;
                let token = TokenSettings {
                    issuer: local.issuer.clone(),
                    audience: local.audience.clone(),
                    jwks: JwksSource::File(local.jwks_file.clone()),
                    refresh: Duration::from_secs(300),
                    roles_claim: "roles".to_owned(),
                    team_claim: "team".to_owned(),
                    leeway: Duration::from_secs(30),
                };
                (SignInMode::LocalStack(local), token)
            }
            Some(other) => {
                return Err(error(
                    "CONSOLE_DEMO_SIGN_IN",
                    format!(
                        "{other:?} is not {DEMO_SIGN_IN:?} (the only value); unset it for OIDC"
                    ),
                ));
            }
            None => {
                let need = |name: &'static str, what: &str| {
                    var(name).ok_or_else(|| {
                        error(
                            name,
                            format!("{what} (people sign in with OIDC; for the local stack set CONSOLE_DEMO_SIGN_IN=local-stack instead)"),
                        )
                    })
                };
                let issuer = need("CONSOLE_OIDC_ISSUER", "the OIDC provider's issuer URL")?;
                let client_id = need("CONSOLE_OIDC_CLIENT_ID", "the console's OIDC client id")?;
                let redirect_url = need(
                    "CONSOLE_OIDC_REDIRECT_URL",
                    "the console's callback URL, https://<console>/oidc/callback",
                )?;
                if production
                    && (!issuer.starts_with("https://") || !redirect_url.starts_with("https://"))
                {
                    return Err(error(
                        "CONSOLE_OIDC_ISSUER",
                        "the issuer and the redirect URL must be https:// in production",
                    ));
                }
                let auth = kit::auth::AuthConfig::from_vars(production, &|name| {
                    // The console serves HTTP(S) itself, not gRPC: only the token settings of
                    // the services' auth configuration apply.
                    if name.starts_with("GRPC_") {
                        None
                    } else {
                        get(name)
                    }
                })
                .or_else(|e| {
                    // Production also wants gRPC TLS from a service; that is not the console's.
                    if e.to_string().contains("GRPC_TLS_CERT_FILE") {
                        kit::auth::AuthConfig::from_vars(false, &|name| get(name))
                    } else {
                        Err(e)
                    }
                })
                .map_err(|e| error("AUTH_ISSUER", e.to_string()))?;
                let token = auth.token.ok_or_else(|| {
                    error(
                        "AUTH_ISSUER",
                        "the token issuer the services trust (with AUTH_JWKS_URL, AUTH_AUDIENCE): the console checks tokens exactly as they do",
                    )
                })?;
                let oidc = OidcSettings {
                    issuer,
                    client_id,
                    client_secret: var("CONSOLE_OIDC_CLIENT_SECRET"),
                    redirect_url,
                    scopes: var("CONSOLE_OIDC_SCOPES")
                        .unwrap_or_else(|| "openid profile".to_owned()),
                };
                (SignInMode::Oidc(oidc), token)
            }
        };
        let local = matches!(sign_in, SignInMode::LocalStack(_));
        let endpoint = |name: &'static str, default_port: u16| {
            var(name).unwrap_or_else(|| format!("https://127.0.0.1:{default_port}"))
        };
        let endpoints = Endpoints {
            contracts: endpoint("CONSOLE_CONTRACTS_URL", 50051),
            payments: endpoint("CONSOLE_PAYMENTS_URL", 50052),
            dunning: endpoint("CONSOLE_DUNNING_URL", 50054),
            legal: endpoint("CONSOLE_LEGAL_URL", 50055),
            reporting: endpoint("CONSOLE_REPORTING_URL", 50056),
        };
        let cookie_secure = match var("CONSOLE_COOKIE_SECURE").as_deref() {
            None => !local,
            Some("true") => true,
            Some("false") if !production => false,
            Some("false") => {
                return Err(error(
                    "CONSOLE_COOKIE_SECURE",
                    "false is refused in production: session cookies travel over TLS only",
                ));
            }
            Some(other) => {
                return Err(error(
                    "CONSOLE_COOKIE_SECURE",
                    format!("{other:?} is not true or false"),
                ));
            }
        };
        let session_max = match var("CONSOLE_SESSION_MAX_SECS") {
            None => Duration::from_secs(8 * 3600),
            Some(v) => v.parse().map(Duration::from_secs).map_err(|_| {
                error(
                    "CONSOLE_SESSION_MAX_SECS",
                    format!("{v:?} is not a whole number of seconds"),
                )
            })?,
        };
        let ca_file = var("CONSOLE_CA_FILE")
            .map(PathBuf::from)
            .or_else(|| match &sign_in {
                SignInMode::LocalStack(local) => Some(local.ca_file.clone()),
                SignInMode::Oidc(_) => None,
            });
        Ok(Self {
            addr,
            sign_in,
            token,
            endpoints,
            ca_file,
            cookie_secure,
            session_max,
            ready_file: var("READY_FILE").map(PathBuf::from),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_vars(&|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
            .map_err(|e| e.to_string())
    }

    const OIDC: [(&str, &str); 5] = [
        ("CONSOLE_OIDC_ISSUER", "https://sso.example.com/realms/c"),
        ("CONSOLE_OIDC_CLIENT_ID", "console"),
        (
            "CONSOLE_OIDC_REDIRECT_URL",
            "https://console.example.com/oidc/callback",
        ),
        ("AUTH_ISSUER", "https://sso.example.com/realms/c"),
        (
            "AUTH_JWKS_URL",
            "https://sso.example.com/realms/c/protocol/openid-connect/certs",
        ),
    ];

    #[test]
    fn oidc_is_the_default_and_checks_tokens_like_the_services() {
        let s = settings(&OIDC).unwrap();
        assert!(matches!(s.sign_in, SignInMode::Oidc(_)));
        assert_eq!(s.token.issuer, "https://sso.example.com/realms/c");
        assert!(s.cookie_secure, "cookies are Secure unless the local stack");
        let mut production = OIDC.to_vec();
        production.push(("COLLECTIONS_ENV", "production"));
        assert!(settings(&production).is_ok());
        let missing = settings(&OIDC[1..]).unwrap_err();
        assert!(missing.contains("CONSOLE_OIDC_ISSUER"), "{missing}");
        let nothing = settings(&[]).unwrap_err();
        assert!(
            nothing.contains("CONSOLE_DEMO_SIGN_IN=local-stack"),
            "{nothing}"
        );
    }

    #[test]
    fn demo_identities_are_refused_in_production_and_next_to_oidc() {
        let production = settings(&[
            ("CONSOLE_DEMO_SIGN_IN", "local-stack"),
            ("COLLECTIONS_ENV", "production"),
        ])
        .unwrap_err();
        assert!(production.contains("refused"), "{production}");
        let mut both = OIDC.to_vec();
        both.push(("CONSOLE_DEMO_SIGN_IN", "local-stack"));
        let both = settings(&both).unwrap_err();
        assert!(both.contains("exclude each other"), "{both}");
        let typo = settings(&[("CONSOLE_DEMO_SIGN_IN", "yes")]).unwrap_err();
        assert!(typo.contains("local-stack"), "{typo}");
        let no_dir = settings(&[("CONSOLE_DEMO_SIGN_IN", "local-stack")]).unwrap_err();
        assert!(no_dir.contains("COLLECTIONS_AUTH_DIR"), "{no_dir}");
    }

    #[test]
    fn insecure_cookies_are_refused_in_production() {
        let mut vars = OIDC.to_vec();
        vars.push(("COLLECTIONS_ENV", "production"));
        vars.push(("CONSOLE_COOKIE_SECURE", "false"));
        assert!(
            settings(&vars)
                .unwrap_err()
                .contains("CONSOLE_COOKIE_SECURE")
        );
    }
}
