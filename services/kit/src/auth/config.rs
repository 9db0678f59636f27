//! Authentication settings from the environment, and what `production` refuses.

use std::path::PathBuf;
use std::time::Duration;

use crate::config::{ConfigError, env_parse, env_string};

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
}

fn path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

fn invalid(name: &str, value: &str, expected: &'static str) -> ConfigError {
    ConfigError::new(name, value, expected)
}

impl AuthConfig {
    /// Reads `AUTH_*`, `GRPC_TLS_*` and `GRPC_REFLECTION`. With `production`, refuses
    /// plaintext gRPC and a service without a token issuer.
    pub fn from_env(production: bool) -> Result<Self, ConfigError> {
        let issuer = env_string("AUTH_ISSUER", "");
        let token = if issuer.is_empty() {
            None
        } else {
            let jwks = match (path("AUTH_JWKS_FILE"), env_string("AUTH_JWKS_URL", "")) {
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
                audience: env_string("AUTH_AUDIENCE", "collections"),
                jwks,
                refresh: Duration::from_secs(env_parse(
                    "AUTH_JWKS_REFRESH_SECS",
                    300,
                    "seconds as a whole number",
                )?),
                roles_claim: env_string("AUTH_ROLES_CLAIM", "roles"),
                team_claim: env_string("AUTH_TEAM_CLAIM", "team"),
                leeway: Duration::from_secs(env_parse(
                    "AUTH_LEEWAY_SECS",
                    30,
                    "seconds as a whole number",
                )?),
            })
        };
        let tls = match (path("GRPC_TLS_CERT_FILE"), path("GRPC_TLS_KEY_FILE")) {
            (Some(cert_file), Some(key_file)) => Some(TlsSettings {
                cert_file,
                key_file,
                client_ca_file: path("GRPC_TLS_CLIENT_CA_FILE"),
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
        let reflection = match env_string("GRPC_REFLECTION", "authenticated").as_str() {
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
        Ok(Self {
            token,
            tls,
            reflection,
        })
    }
}
