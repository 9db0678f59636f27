//! Authentication settings from the environment, and what `production` refuses.

use std::path::PathBuf;
use std::time::Duration;

use crate::config::ConfigError;

use super::jwt::{JwksSource, TokenSettings};
use super::tls::TlsSettings;

/// Who may use gRPC reflection (`GRPC_REFLECTION`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReflectionMode {
    /// Any authenticated caller, whatever their role (default).
    Authenticated,
    /// Anyone, without a credential (e.g. an internal network's API browser).
    Public,
    /// Not served.
    Off,
}

/// How a service authenticates its callers.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// Token checks; `None` when `AUTH_ISSUER` is unset (then only certificates are accepted).
    pub token: Option<TokenSettings>,
    /// Server TLS; `None` serves plaintext (refused in production).
    pub tls: Option<TlsSettings>,
    /// `GRPC_REFLECTION`.
    pub reflection: ReflectionMode,
    /// `GRPC_HEALTH_ADDR`: a second, plaintext listener serving only health checks (for
    /// Kubernetes' gRPC probes, which cannot speak TLS).
    pub health_addr: Option<std::net::SocketAddr>,
}

/// Reads variables through `get` (the process environment, or a map in tests).
struct Vars<'a>(&'a dyn Fn(&str) -> Option<String>);

impl Vars<'_> {
    fn string(&self, name: &str, default: &str) -> String {
        (self.0)(name)
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| default.to_owned())
    }

    fn path(&self, name: &str) -> Option<PathBuf> {
        (self.0)(name).filter(|v| !v.is_empty()).map(PathBuf::from)
    }

    fn seconds(&self, name: &str, default: u64) -> Result<Duration, ConfigError> {
        match (self.0)(name).filter(|v| !v.is_empty()) {
            None => Ok(Duration::from_secs(default)),
            Some(v) => v
                .trim()
                .parse()
                .map(Duration::from_secs)
                .map_err(|_| invalid(name, &v, "seconds as a whole number")),
        }
    }
}

fn invalid(name: &str, value: &str, expected: &'static str) -> ConfigError {
    ConfigError::new(name, value, expected)
}

impl AuthConfig {
    /// Reads `AUTH_*`, `GRPC_TLS_*` and `GRPC_REFLECTION`. With `production`, refuses
    /// plaintext gRPC and a service without a token issuer.
    pub fn from_env(production: bool) -> Result<Self, ConfigError> {
        Self::from_vars(production, &|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) over any source of variables.
    pub fn from_vars(
        production: bool,
        get: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let vars = Vars(get);
        let issuer = vars.string("AUTH_ISSUER", "");
        let token = if issuer.is_empty() {
            None
        } else {
            let jwks = match (
                vars.path("AUTH_JWKS_FILE"),
                vars.string("AUTH_JWKS_URL", ""),
            ) {
                (Some(file), url) if url.is_empty() => JwksSource::File(file),
                (None, url) if url.starts_with("https://") || url.starts_with("http://") => {
                    if production && !url.starts_with("https://") {
                        return Err(invalid(
                            "AUTH_JWKS_URL",
                            &url,
                            "an https:// URL in production (the keys decide who may do what)",
                        ));
                    }
                    JwksSource::Url(url)
                }
                (None, url) if url.is_empty() => {
                    return Err(invalid(
                        "AUTH_JWKS_URL",
                        "",
                        "the identity provider's jwks_uri (or AUTH_JWKS_FILE), since AUTH_ISSUER is set",
                    ));
                }
                (None, url) => return Err(invalid("AUTH_JWKS_URL", &url, "an https:// URL")),
                (Some(_), url) => {
                    return Err(invalid(
                        "AUTH_JWKS_URL",
                        &url,
                        "unset when AUTH_JWKS_FILE is set (one source of keys)",
                    ));
                }
            };
            Some(TokenSettings {
                issuer,
                audience: vars.string("AUTH_AUDIENCE", "collections"),
                jwks,
                refresh: vars.seconds("AUTH_JWKS_REFRESH_SECS", 300)?,
                roles_claim: vars.string("AUTH_ROLES_CLAIM", "roles"),
                team_claim: vars.string("AUTH_TEAM_CLAIM", "team"),
                leeway: vars.seconds("AUTH_LEEWAY_SECS", 30)?,
            })
        };
        let tls = match (
            vars.path("GRPC_TLS_CERT_FILE"),
            vars.path("GRPC_TLS_KEY_FILE"),
        ) {
            (Some(cert_file), Some(key_file)) => Some(TlsSettings {
                cert_file,
                key_file,
                client_ca_file: vars.path("GRPC_TLS_CLIENT_CA_FILE"),
            }),
            (None, None) => None,
            (Some(_), None) => {
                return Err(invalid(
                    "GRPC_TLS_KEY_FILE",
                    "",
                    "the server key's PEM file, since GRPC_TLS_CERT_FILE is set",
                ));
            }
            (None, Some(_)) => {
                return Err(invalid(
                    "GRPC_TLS_CERT_FILE",
                    "",
                    "the server certificate's PEM file, since GRPC_TLS_KEY_FILE is set",
                ));
            }
        };
        let reflection = match vars.string("GRPC_REFLECTION", "authenticated").as_str() {
            "authenticated" => ReflectionMode::Authenticated,
            "public" => ReflectionMode::Public,
            "off" => ReflectionMode::Off,
            other => {
                return Err(invalid(
                    "GRPC_REFLECTION",
                    other,
                    "authenticated, public or off",
                ));
            }
        };
        if production {
            if tls.is_none() {
                return Err(invalid(
                    "GRPC_TLS_CERT_FILE",
                    "",
                    "a server certificate in production: plaintext gRPC is refused (set GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE)",
                ));
            }
            if token.is_none() {
                return Err(invalid(
                    "AUTH_ISSUER",
                    "",
                    "the OIDC issuer in production: a service without a token issuer is refused (set AUTH_ISSUER, AUTH_AUDIENCE and AUTH_JWKS_URL)",
                ));
            }
        }
        if token.is_none() && tls.as_ref().is_none_or(|t| t.client_ca_file.is_none()) {
            tracing::warn!(
                "no AUTH_ISSUER and no GRPC_TLS_CLIENT_CA_FILE: every call will be refused as unauthenticated"
            );
        }
        let health_addr =
            match vars.string("GRPC_HEALTH_ADDR", "").as_str() {
                "" => None,
                text => Some(text.parse().map_err(|_| {
                    invalid("GRPC_HEALTH_ADDR", text, "host:port, e.g. 0.0.0.0:8081")
                })?),
            };
        Ok(Self {
            token,
            tls,
            reflection,
            health_addr,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(production: bool, vars: &[(&str, &str)]) -> Result<AuthConfig, String> {
        AuthConfig::from_vars(production, &crate::config::fake_env(vars)).map_err(|e| e.to_string())
    }

    const SECURE: [(&str, &str); 4] = [
        ("AUTH_ISSUER", "https://sso.example.com/realms/c"),
        ("AUTH_JWKS_URL", "https://sso.example.com/realms/c/certs"),
        ("GRPC_TLS_CERT_FILE", "/tls/tls.crt"),
        ("GRPC_TLS_KEY_FILE", "/tls/tls.key"),
    ];

    #[test]
    fn production_refuses_plaintext_and_a_missing_issuer() {
        assert!(config(true, &SECURE).is_ok());
        let plaintext = config(true, &SECURE[..2]).unwrap_err();
        assert!(plaintext.contains("GRPC_TLS_CERT_FILE"), "{plaintext}");
        let no_issuer = config(true, &SECURE[2..]).unwrap_err();
        assert!(no_issuer.contains("AUTH_ISSUER"), "{no_issuer}");
        let mut http = SECURE.to_vec();
        http[1] = ("AUTH_JWKS_URL", "http://sso.example.com/certs");
        assert!(config(true, &http).unwrap_err().contains("https"));
        // Development allows all of it (the local stack still turns everything on).
        assert!(config(false, &[]).is_ok());
        assert!(config(false, &http).is_ok());
    }

    #[test]
    fn settings_that_contradict_each_other_name_the_variable() {
        let no_keys = config(false, &[("AUTH_ISSUER", "https://i")]).unwrap_err();
        assert!(no_keys.contains("AUTH_JWKS_URL"), "{no_keys}");
        let both = config(
            false,
            &[
                ("AUTH_ISSUER", "https://i"),
                ("AUTH_JWKS_FILE", "/k.json"),
                ("AUTH_JWKS_URL", "https://i/k"),
            ],
        )
        .unwrap_err();
        assert!(both.contains("one source of keys"), "{both}");
        let half_tls = config(false, &[("GRPC_TLS_CERT_FILE", "/c")]).unwrap_err();
        assert!(half_tls.contains("GRPC_TLS_KEY_FILE"), "{half_tls}");
        let reflection = config(false, &[("GRPC_REFLECTION", "sometimes")]).unwrap_err();
        assert!(reflection.contains("GRPC_REFLECTION"), "{reflection}");
        let leeway = config(
            false,
            &[
                ("AUTH_ISSUER", "https://i"),
                ("AUTH_JWKS_FILE", "/k.json"),
                ("AUTH_LEEWAY_SECS", "soon"),
            ],
        )
        .unwrap_err();
        assert!(leeway.contains("AUTH_LEEWAY_SECS"), "{leeway}");
        let health = config(false, &[("GRPC_HEALTH_ADDR", "8081")]).unwrap_err();
        assert!(health.contains("GRPC_HEALTH_ADDR"), "{health}");
    }

    #[test]
    fn defaults_and_keycloak_claims() {
        let c = config(
            false,
            &[
                ("AUTH_ISSUER", "https://i"),
                ("AUTH_JWKS_FILE", "/k.json"),
                ("AUTH_ROLES_CLAIM", "realm_access.roles"),
                ("GRPC_HEALTH_ADDR", "0.0.0.0:8081"),
            ],
        )
        .unwrap();
        let token = c.token.unwrap();
        assert_eq!(token.audience, "collections");
        assert_eq!(token.roles_claim, "realm_access.roles");
        assert_eq!(token.jwks, JwksSource::File("/k.json".into()));
        assert_eq!(c.reflection, ReflectionMode::Authenticated);
        assert_eq!(c.health_addr.map(|a| a.port()), Some(8081));
    }
}
