//! What the subcommands that talk to the services share: the endpoint, TLS, the caller's
//! token, a runtime, and gRPC errors turned into what to do next.
//!
//! Every call is authenticated (R-O3): the token comes from `$COLLECTIONS_TOKEN` (from the
//! identity provider; locally `collectctl auth token`). Servers are verified against
//! `$COLLECTIONS_CA_FILE`, else the local stack's CA in `$COLLECTIONS_AUTH_DIR`.

use std::future::Future;
use std::path::PathBuf;

use proto::audit::v1::audit_service_client::AuditServiceClient;
use proto::contracts::v1::contracts_service_client::ContractsServiceClient;
use proto::deadletters::v1::dead_letter_service_client::DeadLetterServiceClient;
use proto::dunning::v1::dunning_service_client::DunningServiceClient;
use proto::legal::v1::legal_service_client::LegalServiceClient;
use proto::payments::v1::payments_service_client::PaymentsServiceClient;
use proto::reporting::v1::reporting_service_client::ReportingServiceClient;
use proto::scoring::v1::scoring_service_client::ScoringServiceClient;
use tonic::metadata::AsciiMetadataValue;
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};

use crate::cli::{Failure, Hint, Outcome};

/// A channel that sends the caller's token with every call.
pub(crate) type Authed = InterceptedService<Channel, Bearer>;

/// Adds `authorization: Bearer …`.
#[derive(Clone)]
pub(crate) struct Bearer(AsciiMetadataValue);

impl Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        request
            .metadata_mut()
            .insert("authorization", self.0.clone());
        Ok(request)
    }
}

/// Runs one command's requests on a small runtime.
pub(crate) fn block_on(work: impl Future<Output = Outcome>) -> Outcome {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(work)
}

/// The local stack's auth directory: `$COLLECTIONS_AUTH_DIR`, else `~/.collections/local`.
pub(crate) fn local_auth_dir() -> PathBuf {
    match std::env::var_os("COLLECTIONS_AUTH_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => std::env::var_os("HOME")
            .map_or_else(|| PathBuf::from("."), PathBuf::from)
            .join(".collections/local"),
    }
}

fn token() -> Result<Bearer, Failure> {
    let token = std::env::var("COLLECTIONS_TOKEN").unwrap_or_default();
    if token.trim().is_empty() {
        return Err(Failure::with_hint(
            anyhow::anyhow!("no credential: COLLECTIONS_TOKEN is not set"),
            "export COLLECTIONS_TOKEN=<a token from your identity provider>; on the local stack: export COLLECTIONS_TOKEN=$(collectctl auth token --role cashier --subject $USER)",
        ));
    }
    let value = format!("Bearer {}", token.trim())
        .parse()
        .hint("COLLECTIONS_TOKEN must be a JWT (ASCII, no spaces)")?;
    Ok(Bearer(value))
}

async fn connect(url: &str, service: &str, flag: &str) -> Result<Authed, Failure> {
    let bearer = token()?;
    let mut endpoint = Channel::from_shared(url.to_owned())
        .hint(format!("{url} is not a URL; give {flag} https://host:port"))?;
    if url.starts_with("https://") {
        let ca_file = std::env::var_os("COLLECTIONS_CA_FILE")
            .filter(|v| !v.is_empty())
            .map_or_else(|| local_auth_dir().join("ca.pem"), PathBuf::from);
        let ca = std::fs::read(&ca_file).hint(format!(
            "cannot read the CA certificate {}: set COLLECTIONS_CA_FILE to the CA that signed the services' certificates (the local stack writes it to $COLLECTIONS_AUTH_DIR/ca.pem)",
            ca_file.display()
        ))?;
        let host = url
            .trim_start_matches("https://")
            .split([':', '/'])
            .next()
            .unwrap_or_default();
        let domain = if host == "127.0.0.1" {
            "localhost"
        } else {
            host
        };
        endpoint = endpoint
            .tls_config(
                ClientTlsConfig::new()
                    .ca_certificate(Certificate::from_pem(ca))
                    .domain_name(domain),
            )
            .hint("the CA certificate is not valid PEM")?;
    }
    let channel = endpoint.connect().await.hint(format!(
        "is the {service} service running at {url}? Start the stack with deploy/local/up.sh, or give {flag} URL"
    ))?;
    Ok(InterceptedService::new(channel, bearer))
}

fn url(given: Option<String>, variable: &str, port: u16) -> String {
    given
        .or_else(|| std::env::var(variable).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| format!("https://127.0.0.1:{port}"))
}

/// A client of the payments service at `url`, else `$PAYMENTS_URL`, else the local stack.
pub(crate) async fn payments(
    url_arg: Option<String>,
) -> Result<PaymentsServiceClient<Authed>, Failure> {
    let url = url(url_arg, "PAYMENTS_URL", 50052);
    let client = PaymentsServiceClient::new(connect(&url, "payments", "--payments").await?);
    // Bank files may be large (the service takes up to 64 MiB).
    Ok(client
        .max_decoding_message_size(80 << 20)
        .max_encoding_message_size(80 << 20))
}

/// A client of the contracts service at `url`, else `$CONTRACTS_URL`, else the local stack.
pub(crate) async fn contracts(
    url_arg: Option<String>,
) -> Result<ContractsServiceClient<Authed>, Failure> {
    let url = url(url_arg, "CONTRACTS_URL", 50051);
    Ok(ContractsServiceClient::new(
        connect(&url, "contracts", "--contracts").await?,
    ))
}

/// A client of the scoring service at `url`, else `$SCORING_URL`, else the local stack.
pub(crate) async fn scoring(
    url_arg: Option<String>,
) -> Result<ScoringServiceClient<Authed>, Failure> {
    let url = url(url_arg, "SCORING_URL", 50053);
    Ok(ScoringServiceClient::new(
        connect(&url, "scoring", "--scoring").await?,
    ))
}

/// A client of the dunning service at `url`, else `$DUNNING_URL`, else the local stack.
pub(crate) async fn dunning(
    url_arg: Option<String>,
) -> Result<DunningServiceClient<Authed>, Failure> {
    let url = url(url_arg, "DUNNING_URL", 50054);
    let client = DunningServiceClient::new(connect(&url, "dunning", "--dunning").await?);
    // A notice comes back with its PDF and HTML, and a task's proof may be a scanned
    // signature (up to 5 MiB): more than gRPC's default 4 MiB.
    Ok(client
        .max_decoding_message_size(64 << 20)
        .max_encoding_message_size(8 << 20))
}

/// A client of the legal service at `url`, else `$LEGAL_URL`, else the local stack.
pub(crate) async fn legal(url_arg: Option<String>) -> Result<LegalServiceClient<Authed>, Failure> {
    let url = url(url_arg, "LEGAL_URL", 50055);
    let client = LegalServiceClient::new(connect(&url, "legal", "--legal").await?);
    // An evidence bundle holds PDFs: more than gRPC's default 4 MiB.
    Ok(client.max_decoding_message_size(256 << 20))
}

/// A client of the reporting service at `url`, else `$REPORTING_URL`, else the local stack.
pub(crate) async fn reporting(
    url_arg: Option<String>,
) -> Result<ReportingServiceClient<Authed>, Failure> {
    let url = url(url_arg, "REPORTING_URL", 50056);
    let client = ReportingServiceClient::new(connect(&url, "reporting", "--reporting").await?);
    // A long trace or a large portfolio's report may pass gRPC's default 4 MiB.
    Ok(client.max_decoding_message_size(64 << 20))
}

/// The local stack's port of each service.
pub(crate) const SERVICES: [(&str, u16); 6] = [
    ("contracts", 50051),
    ("payments", 50052),
    ("scoring", 50053),
    ("dunning", 50054),
    ("legal", 50055),
    ("reporting", 50056),
];

/// A channel to `service` by name at `url`, else `$<SERVICE>_URL`, else the local stack.
async fn named(service: &str, url_arg: Option<String>) -> Result<Authed, Failure> {
    let Some((_, port)) = SERVICES.iter().find(|(name, _)| *name == service) else {
        return Err(Failure::with_hint(
            anyhow::anyhow!("there is no service {service:?}"),
            "give --service contracts, payments, scoring, dunning, legal or reporting",
        ));
    };
    let variable = format!("{}_URL", service.to_uppercase());
    let url = url(url_arg, &variable, *port);
    connect(&url, service, "--url").await
}

/// The audit trail of `service` at `url`, else `$<SERVICE>_URL`, else the local stack.
pub(crate) async fn audit(
    service: &str,
    url_arg: Option<String>,
) -> Result<AuditServiceClient<Authed>, Failure> {
    Ok(AuditServiceClient::new(named(service, url_arg).await?))
}

/// The dead letters of `service` at `url`, else `$<SERVICE>_URL`, else the local stack.
pub(crate) async fn dead_letters(
    service: &str,
    url_arg: Option<String>,
) -> Result<DeadLetterServiceClient<Authed>, Failure> {
    Ok(DeadLetterServiceClient::new(named(service, url_arg).await?))
}

/// Every item of a paged list: `page` is called with each page token (empty first) and
/// answers the page's items and the next token; it stops at an empty next token.
pub(crate) async fn all_pages<T, F, Fut>(page: F) -> Result<Vec<T>, Failure>
where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, String), tonic::Status>>,
{
    all_pages_with(status, page).await
}

/// [`all_pages`] with the service's own refusals (`refused` turns an error into what to do).
pub(crate) async fn all_pages_with<T, F, Fut>(
    refused: fn(tonic::Status) -> Failure,
    mut page: F,
) -> Result<Vec<T>, Failure>
where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, String), tonic::Status>>,
{
    let mut all = Vec::new();
    let mut token = String::new();
    loop {
        let (items, next) = page(token).await.map_err(refused)?;
        all.extend(items);
        if next.is_empty() {
            return Ok(all);
        }
        token = next;
    }
}

/// A gRPC error with what the service said and what to do.
pub(crate) fn status(status: tonic::Status) -> Failure {
    let hint = match status.code() {
        tonic::Code::InvalidArgument => "correct the argument the message names",
        tonic::Code::NotFound => "check the id (exceptions: `collectctl exceptions list`)",
        tonic::Code::FailedPrecondition => {
            "list the open exceptions again; the queue changed since you looked"
        }
        tonic::Code::Unauthenticated => {
            "get a fresh token (locally: export COLLECTIONS_TOKEN=$(collectctl auth token --role ROLE --subject NAME))"
        }
        tonic::Code::PermissionDenied => {
            "your role may not do this; the message names the roles that may (ask an administrator)"
        }
        tonic::Code::Unavailable if status.message().contains("database") => {
            "run the same command again in a few seconds; a repeat is recognised"
        }
        tonic::Code::Unavailable => "is the service running? check the URL option",
        _ => "see the service log for details",
    };
    Failure::with_hint(
        anyhow::anyhow!("{:?}: {}", status.code(), status.message()),
        hint,
    )
}
