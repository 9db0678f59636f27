//! The services the console calls. It holds no database and decides no access: every call
//! carries the signed-in person's own bearer token, so each service's auth layer, the
//! collector's scope and the audit trail apply as for any other client (R-O3).

use std::time::Duration;

use anyhow::Context as _;
use tonic::metadata::MetadataValue;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};

use proto::contracts::v1::contracts_service_client::ContractsServiceClient;
use proto::dunning::v1::dunning_service_client::DunningServiceClient;
use proto::legal::v1::legal_service_client::LegalServiceClient;
use proto::payments::v1::payments_service_client::PaymentsServiceClient;
use proto::reporting::v1::reporting_service_client::ReportingServiceClient;

use crate::config::Settings;

/// Evidence bundles may be large (legal caps them at 256 MiB).
const MAX_MESSAGE: usize = 256 * 1024 * 1024;

/// One client per service; channels connect lazily and reconnect.
#[derive(Debug, Clone)]
pub struct Backend {
    /// contracts.
    pub contracts: ContractsServiceClient<Channel>,
    /// payments.
    pub payments: PaymentsServiceClient<Channel>,
    /// dunning.
    pub dunning: DunningServiceClient<Channel>,
    /// legal.
    pub legal: LegalServiceClient<Channel>,
    /// reporting.
    pub reporting: ReportingServiceClient<Channel>,
}

fn channel(url: &str, ca: Option<&[u8]>) -> anyhow::Result<Channel> {
    let mut endpoint = Channel::from_shared(url.to_owned())
        .with_context(|| format!("{url} is not a URL; give https://host:port"))?
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(60));
    if url.starts_with("https://") {
        let mut tls = ClientTlsConfig::new().with_enabled_roots();
        if let Some(ca) = ca {
            tls = tls.ca_certificate(Certificate::from_pem(ca));
        }
        // The local stack's certificates name localhost.
        let host = url
            .trim_start_matches("https://")
            .split([':', '/'])
            .next()
            .unwrap_or_default();
        if host == "127.0.0.1" {
            tls = tls.domain_name("localhost");
        }
        endpoint = endpoint
            .tls_config(tls)
            .with_context(|| format!("TLS for {url}"))?;
    }
    Ok(endpoint.connect_lazy())
}

impl Backend {
    /// Clients for the configured endpoints.
    pub fn new(settings: &Settings) -> anyhow::Result<Self> {
        let ca =
            match &settings.ca_file {
                Some(path) => Some(std::fs::read(path).with_context(|| {
                    format!("CONSOLE_CA_FILE {} cannot be read", path.display())
                })?),
                None => None,
            };
        let ca = ca.as_deref();
        let e = &settings.endpoints;
        Ok(Self {
            contracts: ContractsServiceClient::new(channel(&e.contracts, ca)?),
            payments: PaymentsServiceClient::new(channel(&e.payments, ca)?),
            dunning: DunningServiceClient::new(channel(&e.dunning, ca)?),
            legal: LegalServiceClient::new(channel(&e.legal, ca)?)
                .max_decoding_message_size(MAX_MESSAGE),
            reporting: ReportingServiceClient::new(channel(&e.reporting, ca)?),
        })
    }
}

/// `message` as a request carrying the person's token and the trace context.
pub fn authed<T>(token: &str, message: T) -> Result<tonic::Request<T>, tonic::Status> {
    let bare = kit::telemetry::inject_trace_context(tonic::Request::new(()))?;
    let (metadata, extensions, ()) = bare.into_parts();
    let mut request = tonic::Request::from_parts(metadata, extensions, message);
    let value = MetadataValue::try_from(format!("Bearer {token}"))
        .map_err(|_| tonic::Status::unauthenticated("the session's token is not valid ASCII"))?;
    request.metadata_mut().insert("authorization", value);
    Ok(request)
}
