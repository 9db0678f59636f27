//! The tower layer in front of every service: authenticate, decide by the table, audit.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use sqlx::PgPool;
use tonic::Status;
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};

use super::audit::{self, Entry};
use super::jwt::TokenVerifier;
use super::policy::{Policy, Refusal};
use super::tls::certificate_identity;
use super::{AuthConfig, AuthMethod, Caller, Principal, ReflectionMode};

const HEALTH_PREFIX: &str = "/grpc.health.v1.Health/";
const REFLECTION_PREFIX: &str = "/grpc.reflection.";

/// What the layer needs, shared by every connection.
pub struct AuthState {
    policy: Policy,
    verifier: Option<TokenVerifier>,
    accepts_certificates: bool,
    reflection: ReflectionMode,
    pool: PgPool,
}

impl AuthState {
    /// Builds the state; loads the token keys now so a bad JWKS stops the start.
    pub async fn new(config: &AuthConfig, pool: PgPool) -> anyhow::Result<Self> {
        let policy = Policy::shipped()?;
        let verifier = match &config.token {
            Some(settings) => {
                let verifier = TokenVerifier::new(settings.clone())?;
                verifier
                    .preload()
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}; check AUTH_JWKS_FILE / AUTH_JWKS_URL"))?;
                Some(verifier)
            }
            None => None,
        };
        Ok(Self {
            policy,
            verifier,
            accepts_certificates: config
                .tls
                .as_ref()
                .is_some_and(|t| t.client_ca_file.is_some()),
            reflection: config.reflection,
            pool,
        })
    }

    async fn authenticate(&self, credentials: Credentials) -> Result<Principal, String> {
        if let Some(value) = &credentials.authorization {
            let value = value
                .to_str()
                .map_err(|_| "the authorization header is not ASCII".to_owned())?;
            let Some(token) = value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
            else {
                return Err("the authorization header must be \"Bearer <token>\"".to_owned());
            };
            let Some(verifier) = &self.verifier else {
                return Err(
                    "this service accepts no bearer tokens (AUTH_ISSUER is not set); use a client certificate"
                        .to_owned(),
                );
            };
            let identity = verifier
                .verify(token.trim())
                .await
                .map_err(|e| e.to_string())?;
            return Ok(Principal {
                subject: identity.subject,
                roles: identity.roles,
                team: identity.team,
                method: AuthMethod::Token,
            });
        }
        if self.accepts_certificates
            && let Some(certs) = &credentials.certificates
            && let Some(leaf) = certs.first()
        {
            let identity = certificate_identity(leaf).map_err(|e| e.to_string())?;
            return Ok(Principal {
                subject: identity.subject,
                roles: identity.roles,
                team: None,
                method: AuthMethod::Mtls,
            });
        }
        Err("no credential: send \"authorization: Bearer <token>\" from the identity provider (locally: collectctl auth token --role ROLE --subject NAME)".to_owned())
    }
}

/// What a request presents, taken out of it before the first await.
struct Credentials {
    authorization: Option<http::HeaderValue>,
    certificates: Option<std::sync::Arc<Vec<tonic::transport::CertificateDer<'static>>>>,
}

impl Credentials {
    fn of<B>(request: &http::Request<B>) -> Self {
        Self {
            authorization: request.headers().get(http::header::AUTHORIZATION).cloned(),
            certificates: request
                .extensions()
                .get::<TlsConnectInfo<TcpConnectInfo>>()
                .and_then(TlsConnectInfo::peer_certs),
        }
    }
}

/// Puts [`AuthService`] around the server's routes.
#[derive(Clone)]
pub struct AuthLayer {
    state: Arc<AuthState>,
}

impl AuthLayer {
    /// The layer over `state`.
    pub fn new(state: AuthState) -> Self {
        Self {
            state: Arc::new(state),
        }
    }
}

impl<S> tower::Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService {
            inner,
            state: self.state.clone(),
        }
    }
}

/// Authenticates, authorises and audits each call before the handler sees it.
#[derive(Clone)]
pub struct AuthService<S> {
    inner: S,
    state: Arc<AuthState>,
}

impl<S, B, R> tower::Service<http::Request<B>> for AuthService<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send,
    B: Send + 'static,
    R: Default + Send,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        // The clone that was driven to readiness serves this call (tower's usual swap).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let state = self.state.clone();
        let path = request.uri().path().to_owned();
        if path.starts_with(HEALTH_PREFIX)
            || (path.starts_with(REFLECTION_PREFIX) && state.reflection == ReflectionMode::Public)
        {
            return Box::pin(inner.call(request));
        }
        let credentials = Credentials::of(&request);
        let started = std::time::Instant::now();
        Box::pin(async move {
            let trace_id = current_trace_id();
            let principal = match state.authenticate(credentials).await {
                Ok(principal) => principal,
                Err(reason) => {
                    let entry = Entry {
                        principal: String::new(),
                        method: AuthMethod::None,
                        roles: Vec::new(),
                        rpc: path,
                        resources: Vec::new(),
                        outcome: "UNAUTHENTICATED".into(),
                        reason: reason.clone(),
                        trace_id,
                    };
                    write(&state.pool, &entry).await;
                    observe(&entry.rpc, &entry.outcome, started);
                    tracing::info!(method = %entry.rpc, %reason, "refused: unauthenticated");
                    return Ok(Status::unauthenticated(reason).into_http());
                }
            };
            let decision = if path.starts_with(REFLECTION_PREFIX) {
                // Listing the API needs a valid credential, not a particular role.
                Ok(super::Scope::All)
            } else {
                state.policy.decide(
                    &path,
                    &principal.subject,
                    principal.team.as_deref(),
                    &principal.roles,
                )
            };
            let roles: Vec<String> = principal.roles.iter().map(|r| r.to_string()).collect();
            let scope = match decision {
                Ok(scope) => scope,
                Err(refusal) => {
                    let held = if roles.is_empty() {
                        "no platform role".to_owned()
                    } else {
                        format!("role {}", roles.join(", "))
                    };
                    let reason = match refusal {
                        Refusal::UnknownMethod => {
                            format!("{path} is not in the access table, so nobody may call it")
                        }
                        Refusal::Role { allowed } => format!(
                            "{} with {held} may not call {path}; it needs one of: {}",
                            principal.subject,
                            allowed
                                .iter()
                                .map(|r| r.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    };
                    let entry = Entry {
                        principal: principal.subject.clone(),
                        method: principal.method,
                        roles,
                        rpc: path,
                        resources: Vec::new(),
                        outcome: "PERMISSION_DENIED".into(),
                        reason: reason.clone(),
                        trace_id,
                    };
                    write(&state.pool, &entry).await;
                    observe(&entry.rpc, &entry.outcome, started);
                    tracing::info!(method = %entry.rpc, principal = %entry.principal, "refused: permission denied");
                    return Ok(Status::permission_denied(reason).into_http());
                }
            };
            let caller = Caller::new(principal, scope);
            request.extensions_mut().insert(caller.clone());
            let response = inner.call(request).await?;
            let (outcome, reason) = outcome_of(response.headers());
            let entry = Entry {
                principal: caller.principal.subject.clone(),
                method: caller.principal.method,
                roles,
                rpc: path,
                resources: caller.resources(),
                outcome,
                reason,
                trace_id,
            };
            write(&state.pool, &entry).await;
            observe(&entry.rpc, &entry.outcome, started);
            Ok(response)
        })
    }
}

/// Counts a call by method and status code and records its latency (issue 16 item 3).
fn observe(method: &str, code: &str, started: std::time::Instant) {
    if let Some(m) = crate::metrics::get() {
        m.grpc_handled.with_label_values(&[method, code]).inc();
        m.grpc_seconds
            .with_label_values(&[method])
            .observe(started.elapsed().as_secs_f64());
    }
}

async fn write(pool: &PgPool, entry: &Entry) {
    if let Err(error) = audit::record(pool, entry).await {
        // The call itself is answered; the missing record is an operational alarm.
        tracing::error!(%error, method = %entry.rpc, principal = %entry.principal, "could not write the audit record");
    }
}

/// The W3C trace id of the current span ("" without tracing).
fn current_trace_id() -> String {
    let (traceparent, _) = crate::telemetry::current_trace_context();
    traceparent.split('-').nth(1).unwrap_or_default().to_owned()
}

/// The gRPC status of a unary response: an error is sent "trailers-only", in the headers
/// (tonic decodes `grpc-status` and the percent-encoded `grpc-message`); a response without
/// `grpc-status` in its headers carries a message, i.e. succeeded.
fn outcome_of(headers: &http::HeaderMap) -> (String, String) {
    match Status::from_header_map(headers) {
        Some(status) => (code_name(status.code()).into(), status.message().to_owned()),
        None => ("OK".into(), String::new()),
    }
}

/// The canonical upper-case name of a gRPC status code.
pub(crate) fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code;
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_reads_trailers_only_errors() {
        let mut headers = http::HeaderMap::new();
        assert_eq!(outcome_of(&headers), ("OK".into(), String::new()));
        headers.insert("grpc-status", "7".parse().unwrap());
        headers.insert("grpc-message", "no%20way%3A%20%E4%B8%AD".parse().unwrap());
        assert_eq!(
            outcome_of(&headers),
            ("PERMISSION_DENIED".into(), "no way: 中".into())
        );
    }
}
