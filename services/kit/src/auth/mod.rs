//! Who is calling (R-O3): authentication, the role × method table, collector scope and the
//! audit trail, enforced by one tower layer in front of every service's gRPC handlers.
//!
//! - Callers present a bearer JWT from the deployment's OIDC provider ([`jwt`]) or, for
//!   systems, a client certificate ([`tls`]).
//! - [`policy`] reads the table in `access.txt`; a call whose roles are not in its row is
//!   refused before any handler runs.
//! - Handlers get the verified [`Caller`] (principal and scope) from the request; who decided
//!   something is always that principal, never a name in the request.
//! - [`audit`] writes one record per call, allowed or refused, into the service's own schema.

pub mod audit;
pub mod config;
pub mod jwt;
mod layer;
pub mod owners;
pub mod policy;
pub mod tls;
pub mod token;

use std::sync::{Arc, Mutex};

pub use config::{AuthConfig, ReflectionMode};
pub use layer::{AuthLayer, AuthService, AuthState};
pub use policy::{Policy, Role, Scope};

/// How a caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// No credential, or a refused one.
    None,
    /// A bearer token.
    Token,
    /// A client certificate.
    Mtls,
}

impl AuthMethod {
    /// The name stored in the audit trail.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::None => "none",
            AuthMethod::Token => "token",
            AuthMethod::Mtls => "mtls",
        }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Who: the token's `sub` or the certificate's common name.
    pub subject: String,
    /// The platform roles they hold.
    pub roles: Vec<Role>,
    /// Their team, if any (supervisors see their team's customers).
    pub team: Option<String>,
    /// How they authenticated.
    pub method: AuthMethod,
}

/// The verified caller of one gRPC call, put into the request by the auth layer.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Who is calling.
    pub principal: Principal,
    /// What part of the customer base this call may see.
    pub scope: Scope,
    resources: Arc<Mutex<Vec<String>>>,
}

impl Caller {
    /// The caller of `request`. Every routed call has one; a missing one means the server was
    /// assembled without the auth layer, and the call is refused rather than run unchecked.
    pub fn of<T>(request: &tonic::Request<T>) -> Result<Self, tonic::Status> {
        request
            .extensions()
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| {
                tracing::error!("a call reached a handler without the auth layer");
                tonic::Status::internal(
                    "the call was not authenticated by the server; this is a server bug",
                )
            })
    }

    /// Names what the call read or changed, for the audit record (`kind:id`).
    pub fn touch(&self, kind: &str, id: impl std::fmt::Display) {
        if let Ok(mut resources) = self.resources.lock()
            && resources.len() < 100
        {
            resources.push(format!("{kind}:{id}"));
        }
    }

    /// The subject, for "who decided" columns.
    pub fn subject(&self) -> &str {
        &self.principal.subject
    }

    /// The caller's team ("" when none).
    pub fn team(&self) -> &str {
        self.principal.team.as_deref().unwrap_or_default()
    }

    /// PERMISSION_DENIED for a record outside the caller's scope. Says that it exists only in
    /// the sense that the caller may not see it; the message is the same whether it exists.
    pub fn out_of_scope(&self, what: &str) -> tonic::Status {
        tonic::Status::permission_denied(format!(
            "{what} is not assigned to {} (or their team); ask a supervisor to reassign it",
            self.principal.subject
        ))
    }

    pub(crate) fn new(principal: Principal, scope: Scope) -> Self {
        Self {
            principal,
            scope,
            resources: Arc::default(),
        }
    }

    pub(crate) fn resources(&self) -> Vec<String> {
        self.resources.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

/// Makes ring rustls' process-wide crypto provider (TLS server, JWKS over HTTPS, a service's
/// own HTTPS clients such as legal's timestamp authority). Installing twice is harmless.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

#[cfg(test)]
mod tests;
