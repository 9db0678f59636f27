//! Payments' book-to-bank reconciliation (R-P7) for the month-end pack, read over gRPC with
//! reporting's own service credential: a client certificate (mutual TLS, `CN=reporting,
//! OU=service`) from the CA the services trust. Reporting does not re-implement R-P7; payments
//! owns the bank statements and the book.
//!
//! Configuration: `REPORTING_PAYMENTS_ENDPOINT` (`https://host:port`; unset: the pack says
//! book-to-bank was not reconciled), `REPORTING_PEER_CA_FILE` (the CA of payments'
//! certificate), `REPORTING_CLIENT_CERT_FILE` and `REPORTING_CLIENT_KEY_FILE` (reporting's
//! client certificate and key, PEM), `REPORTING_BOOK_TO_BANK_ACCOUNTS` (the receiving
//! accounts, comma-separated, as bank statements name them; a request may name others).

use std::time::Duration;

use anyhow::Context as _;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

use proto::payments::v1 as payments;
use proto::payments::v1::payments_service_client::PaymentsServiceClient;

/// Where payments is and how reporting proves who it is.
#[derive(Clone, Default)]
pub struct Peers {
    payments: Option<Channel>,
    /// The default receiving accounts of the pack.
    pub accounts: Vec<String>,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

impl Peers {
    /// From the environment (see the module documentation).
    ///
    /// # Errors
    /// The endpoint is not a URL, or a certificate file cannot be read.
    pub fn from_env() -> anyhow::Result<Self> {
        let accounts = var("REPORTING_BOOK_TO_BANK_ACCOUNTS")
            .map(|v| {
                v.split(',')
                    .map(|a| a.trim().to_owned())
                    .filter(|a| !a.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let Some(url) = var("REPORTING_PAYMENTS_ENDPOINT") else {
            return Ok(Self {
                payments: None,
                accounts,
            });
        };
        let mut endpoint = Channel::from_shared(url.clone())
            .with_context(|| {
                format!("REPORTING_PAYMENTS_ENDPOINT {url} is not a URL; give https://host:port")
            })?
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60));
        if url.starts_with("https://") {
            kit::auth::install_crypto_provider();
            let mut tls = ClientTlsConfig::new();
            if let Some(ca) = var("REPORTING_PEER_CA_FILE") {
                let pem = std::fs::read(&ca)
                    .with_context(|| format!("REPORTING_PEER_CA_FILE {ca} cannot be read"))?;
                tls = tls.ca_certificate(Certificate::from_pem(pem));
            }
            match (
                var("REPORTING_CLIENT_CERT_FILE"),
                var("REPORTING_CLIENT_KEY_FILE"),
            ) {
                (Some(cert), Some(key)) => {
                    let cert = std::fs::read(&cert).with_context(|| {
                        format!("REPORTING_CLIENT_CERT_FILE {cert} cannot be read")
                    })?;
                    let key = std::fs::read(&key).with_context(|| {
                        format!("REPORTING_CLIENT_KEY_FILE {key} cannot be read")
                    })?;
                    tls = tls.identity(Identity::from_pem(cert, key));
                }
                (None, None) => tracing::warn!(
                    "REPORTING_PAYMENTS_ENDPOINT is set without REPORTING_CLIENT_CERT_FILE and \
                     REPORTING_CLIENT_KEY_FILE: payments will refuse reporting's calls"
                ),
                _ => anyhow::bail!(
                    "set both REPORTING_CLIENT_CERT_FILE and REPORTING_CLIENT_KEY_FILE (reporting's \
                     client certificate, OU=service, and its key)"
                ),
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
                .context("TLS for REPORTING_PAYMENTS_ENDPOINT")?;
        }
        Ok(Self {
            payments: Some(endpoint.connect_lazy()),
            accounts,
        })
    }

    /// Payments' book-to-bank reconciliation of `account` over `from..=to`; `Err` says why
    /// there is none (not configured, refused, down), for the pack to print.
    pub async fn book_to_bank(
        &self,
        account: &str,
        from: &str,
        to: &str,
        currency: &str,
    ) -> Result<payments::ReconcileBookToBankResponse, String> {
        let Some(channel) = self.payments.clone() else {
            return Err("payments is not configured (REPORTING_PAYMENTS_ENDPOINT)".to_owned());
        };
        let mut client = PaymentsServiceClient::new(channel);
        let request = kit::telemetry::inject_trace_context(tonic::Request::new(()))
            .map_err(|e| e.message().to_owned())?;
        let (metadata, extensions, ()) = request.into_parts();
        let request = tonic::Request::from_parts(
            metadata,
            extensions,
            payments::ReconcileBookToBankRequest {
                account: account.to_owned(),
                from: from.to_owned(),
                to: to.to_owned(),
                currency: currency.to_owned(),
            },
        );
        client
            .reconcile_book_to_bank(request)
            .await
            .map(tonic::Response::into_inner)
            .map_err(|s| format!("payments answered {:?}: {}", s.code(), s.message()))
    }
}
