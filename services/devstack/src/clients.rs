//! gRPC clients of the five services (TLS, with a token or a client certificate) and a
//! polling helper for eventually consistent reads.

use std::time::{Duration, Instant};

use anyhow::bail;
use tonic::metadata::{AsciiMetadataValue, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

use kit::auth::Role;
use proto::audit::v1::audit_service_client::AuditServiceClient;
use proto::contracts::v1::contracts_service_client::ContractsServiceClient;
use proto::dunning::v1::dunning_service_client::DunningServiceClient;
use proto::legal::v1::legal_service_client::LegalServiceClient;
use proto::payments::v1::payments_service_client::PaymentsServiceClient;
use proto::reporting::v1::reporting_service_client::ReportingServiceClient;
use proto::scoring::v1::scoring_service_client::ScoringServiceClient;

use crate::Stack;
use crate::auth::ClientCertificate;

/// A channel to one service that presents the caller's credential on every call.
pub type Authed = InterceptedService<Channel, Credential>;

/// What a client presents: a bearer token, or nothing (a certificate rides on the channel).
#[derive(Debug, Clone, Default)]
pub struct Credential {
    bearer: Option<AsciiMetadataValue>,
}

impl Credential {
    /// A bearer token.
    pub fn bearer(token: &str) -> anyhow::Result<Self> {
        Ok(Self {
            bearer: Some(MetadataValue::try_from(format!("Bearer {token}"))?),
        })
    }
}

impl Interceptor for Credential {
    fn call(&mut self, request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        let mut request = kit::telemetry::inject_trace_context(request)?;
        if let Some(bearer) = &self.bearer {
            request
                .metadata_mut()
                .insert("authorization", bearer.clone());
        }
        Ok(request)
    }
}

/// One client per service, all as one caller. Channels connect lazily and reconnect after a
/// service restarts.
#[derive(Debug, Clone)]
pub struct Clients {
    /// Contracts.
    pub contracts: ContractsServiceClient<Authed>,
    /// Payments.
    pub payments: PaymentsServiceClient<Authed>,
    /// Scoring.
    pub scoring: ScoringServiceClient<Authed>,
    /// Dunning.
    pub dunning: DunningServiceClient<Authed>,
    /// Legal.
    pub legal: LegalServiceClient<Authed>,
    /// Reporting.
    pub reporting: ReportingServiceClient<Authed>,
}

impl Clients {
    /// Clients for every service of `stack`, as an administrator (`stack-admin`).
    pub fn new(stack: &Stack) -> anyhow::Result<Self> {
        Self::as_user(stack, "stack-admin", &[Role::Admin], None)
    }

    /// Clients acting as `subject` with `roles` (and `team`), by bearer token.
    pub fn as_user(
        stack: &Stack,
        subject: &str,
        roles: &[Role],
        team: Option<&str>,
    ) -> anyhow::Result<Self> {
        let token = stack.auth.token(subject, roles, team)?;
        Self::with(stack, &Credential::bearer(&token)?, None)
    }

    /// Clients that present a client certificate (mutual TLS) and no token.
    pub fn with_certificate(
        stack: &Stack,
        certificate: &ClientCertificate,
    ) -> anyhow::Result<Self> {
        Self::with(stack, &Credential::default(), Some(certificate))
    }

    /// Clients that present no credential at all.
    pub fn anonymous(stack: &Stack) -> anyhow::Result<Self> {
        Self::with(stack, &Credential::default(), None)
    }

    /// Clients presenting `credential` (and `certificate`, if any).
    pub fn with(
        stack: &Stack,
        credential: &Credential,
        certificate: Option<&ClientCertificate>,
    ) -> anyhow::Result<Self> {
        let authed = |service: &str| -> anyhow::Result<Authed> {
            Ok(InterceptedService::new(
                channel(stack, service, certificate)?,
                credential.clone(),
            ))
        };
        Ok(Self {
            contracts: ContractsServiceClient::new(authed("contracts")?),
            payments: PaymentsServiceClient::new(authed("payments")?),
            scoring: ScoringServiceClient::new(authed("scoring")?),
            dunning: DunningServiceClient::new(authed("dunning")?),
            legal: LegalServiceClient::new(authed("legal")?),
            reporting: ReportingServiceClient::new(authed("reporting")?),
        })
    }
}

/// A TLS channel to `service` (or a replica's name) of `stack`, verified against the stack's
/// CA, presenting `certificate` when given.
pub fn channel(
    stack: &Stack,
    service: &str,
    certificate: Option<&ClientCertificate>,
) -> anyhow::Result<Channel> {
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(&stack.auth.ca_pem))
        .domain_name("localhost");
    if let Some(c) = certificate {
        tls = tls.identity(Identity::from_pem(&c.cert_pem, &c.key_pem));
    }
    Ok(Channel::from_shared(stack.endpoint(service)?)?
        .tls_config(tls)?
        .connect_timeout(Duration::from_secs(5))
        .connect_lazy())
}

/// A payments client for a replica (`payments-2`, …) as the stack's administrator.
pub fn payments_at(stack: &Stack, name: &str) -> anyhow::Result<PaymentsServiceClient<Authed>> {
    let token = stack.auth.token("stack-admin", &[Role::Admin], None)?;
    Ok(PaymentsServiceClient::new(InterceptedService::new(
        channel(stack, name, None)?,
        Credential::bearer(&token)?,
    )))
}

/// The audit trail of one service, as `credential`.
pub fn audit(
    stack: &Stack,
    service: &str,
    credential: &Credential,
) -> anyhow::Result<AuditServiceClient<Authed>> {
    Ok(AuditServiceClient::new(InterceptedService::new(
        channel(stack, service, None)?,
        credential.clone(),
    )))
}

/// Polls `check` until it returns `Some`, for state that follows from events a moment later.
/// Errors from `check` (e.g. a service restarting) are retried until the timeout.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Option<T>>>,
{
    let deadline = Instant::now() + timeout;
    let mut last_error = String::new();
    loop {
        match check().await {
            Ok(Some(value)) => return Ok(value),
            Ok(None) => {}
            Err(error) => last_error = format!("{error:#}"),
        }
        if Instant::now() > deadline {
            bail!(
                "timed out after {timeout:?} waiting for {what}{}",
                if last_error.is_empty() {
                    String::new()
                } else {
                    format!(" (last error: {last_error})")
                }
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
