//! The RFC 3161 timestamp authority (TSA) that anchors evidence bundles in time (R-L8): a
//! third party signs that it saw the manifest's hash at a time, so a court can tell the bundle
//! existed then and has not changed since. Configured by
//!
//! - `LEGAL_TSA_URL`: the TSA's HTTP(S) URL; unset: bundles are not timestamped;
//! - `LEGAL_TSA_CA_FILE`: PEM of the TSA's certificate or its CA; every reply's token must
//!   chain to it (required in production: otherwise a token signed by anyone who can answer on
//!   the URL would be accepted);
//! - `LEGAL_TSA_TIMEOUT_SECS`: how long one request may take (default 10).
//!
//! The request, the reply's checks and the token format are `documents::timestamp`; this module
//! only sends the request (HTTP POST, `application/timestamp-query`, RFC 3161 §3.4).

use std::time::Duration;

use anyhow::Context as _;
use documents::timestamp::{Request, Stamp, TrustedCerts, accept_reply};
use kit::ApiError;

/// The longest reply read (a token with a certificate chain is a few KiB).
const MAX_REPLY: usize = 1 << 20;
/// The longest timeout allowed.
const MAX_TIMEOUT_SECS: u64 = 300;

/// The TSA settings.
#[derive(Clone, Debug)]
pub struct TsaConfig {
    /// `LEGAL_TSA_URL`, as written into every manifest's `timestamp_authority`.
    pub url: String,
    /// `LEGAL_TSA_CA_FILE`, read.
    pub trusted: Option<TrustedCerts>,
    /// `LEGAL_TSA_TIMEOUT_SECS`.
    pub timeout: Duration,
}

impl TsaConfig {
    /// The settings from the environment; `None` when `LEGAL_TSA_URL` is unset.
    ///
    /// # Errors
    /// A variable is unusable; the message names it and says what to give.
    pub fn from_env(production: bool) -> anyhow::Result<Option<Self>> {
        Self::from_vars(production, &|name| std::env::var(name).ok())
    }

    fn from_vars(
        production: bool,
        get: &dyn Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Option<Self>> {
        let var = |name: &str| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let Some(url) = var("LEGAL_TSA_URL") else {
            for other in ["LEGAL_TSA_CA_FILE", "LEGAL_TSA_TIMEOUT_SECS"] {
                if var(other).is_some() {
                    anyhow::bail!(
                        "{other} is set but LEGAL_TSA_URL is not: set LEGAL_TSA_URL to the RFC 3161 timestamp authority's URL, or unset {other}"
                    );
                }
            }
            return Ok(None);
        };
        let parsed = reqwest::Url::parse(&url).map_err(|e| {
            anyhow::anyhow!(
                "LEGAL_TSA_URL={url:?} is not a URL ({e}): give the timestamp authority's http:// or https:// URL"
            )
        })?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            anyhow::bail!(
                "LEGAL_TSA_URL={url:?} is not an http:// or https:// URL with a host: RFC 3161 timestamps are requested over HTTP"
            );
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            anyhow::bail!(
                "LEGAL_TSA_URL must not carry credentials: it is written into every evidence bundle's manifest"
            );
        }
        let timeout = match var("LEGAL_TSA_TIMEOUT_SECS") {
            None => 10,
            Some(v) => v
                .parse::<u64>()
                .ok()
                .filter(|s| (1..=MAX_TIMEOUT_SECS).contains(s))
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "LEGAL_TSA_TIMEOUT_SECS={v:?} is invalid: expected whole seconds from 1 to {MAX_TIMEOUT_SECS}"
                    )
                })?,
        };
        let trusted = match var("LEGAL_TSA_CA_FILE") {
            None if production => anyhow::bail!(
                "LEGAL_TSA_CA_FILE is required in production when LEGAL_TSA_URL is set: give the PEM of the timestamp authority's certificate or CA, so that only its tokens are accepted"
            ),
            None => None,
            Some(path) => {
                let bytes = std::fs::read(&path).with_context(|| {
                    format!("LEGAL_TSA_CA_FILE {path} cannot be read: give the path of the TSA's certificate or CA (PEM)")
                })?;
                Some(
                    TrustedCerts::from_pem_or_der(&bytes)
                        .map_err(|e| anyhow::anyhow!("LEGAL_TSA_CA_FILE {path}: {e}"))?,
                )
            }
        };
        Ok(Some(Self {
            url,
            trusted,
            timeout: Duration::from_secs(timeout),
        }))
    }
}

/// Sends timestamp requests to the configured TSA.
#[derive(Debug)]
pub struct Timestamper {
    config: TsaConfig,
    http: reqwest::Client,
}

/// The error and its causes on one line (reqwest's own message alone says little).
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl Timestamper {
    /// A client for `config`.
    ///
    /// # Errors
    /// The HTTP client cannot be built.
    pub fn new(config: TsaConfig) -> anyhow::Result<Self> {
        kit::auth::install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .build()
            .map_err(|e| anyhow::anyhow!("building the HTTP client for LEGAL_TSA_URL: {e}"))?;
        Ok(Self { config, http })
    }

    /// The TSA's URL (what the manifest names).
    #[must_use]
    pub fn url(&self) -> &str {
        &self.config.url
    }

    /// A checked token over `message` (the manifest's exact bytes).
    ///
    /// # Errors
    /// `UNAVAILABLE` when the TSA cannot be reached, refuses, or answers with anything but a
    /// valid token for this request: no bundle is made without it (R-L8).
    #[tracing::instrument(skip_all, fields(tsa = %self.config.url))]
    pub async fn stamp(&self, message: &[u8]) -> Result<Stamp, ApiError> {
        let url = &self.config.url;
        let failed = |what: String| {
            tracing::warn!(tsa = %url, problem = %what, "no timestamp for the evidence bundle");
            ApiError::Unavailable(format!(
                "the evidence bundle was not made: the timestamp authority {url} {what}. Bundles are timestamped whenever LEGAL_TSA_URL is set (R-L8), so none is made without a token: try again in a moment; if it keeps failing, the operator should check the legal service's LEGAL_TSA_URL (and LEGAL_TSA_CA_FILE)"
            ))
        };
        let request = Request::for_message(message).map_err(|e| ApiError::Unexpected(e.into()))?;
        let mut response = self
            .http
            .post(url.as_str())
            .header(reqwest::header::CONTENT_TYPE, "application/timestamp-query")
            .header(reqwest::header::ACCEPT, "application/timestamp-reply")
            .body(request.der().to_vec())
            .send()
            .await
            .map_err(|e| failed(format!("could not be reached ({})", chain(&e))))?;
        let status = response.status();
        if !status.is_success() {
            return Err(failed(format!("answered HTTP {status}")));
        }
        let mut reply = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| failed(format!("broke off its reply ({})", chain(&e))))?
        {
            if reply.len() + chunk.len() > MAX_REPLY {
                return Err(failed(format!(
                    "sent a reply over {MAX_REPLY} bytes, which is no timestamp reply"
                )));
            }
            reply.extend_from_slice(&chunk);
        }
        let stamp = accept_reply(&request, &reply, self.config.trusted.as_ref())
            .map_err(|e| failed(format!("gave no usable token: {e}")))?;
        tracing::info!(
            gen_time = %stamp.info.gen_time,
            serial = %stamp.info.serial_number,
            signer = %stamp.info.signer,
            "evidence manifest timestamped"
        );
        Ok(stamp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(production: bool, vars: &[(&str, &str)]) -> Result<Option<TsaConfig>, String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        TsaConfig::from_vars(production, &move |name| {
            vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
        .map_err(|e| format!("{e:#}"))
    }

    const CA: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../documents/testdata/timestamp/rsa/ca.pem"
    );

    #[test]
    fn unset_means_no_timestamp_and_settings_without_a_url_are_refused() {
        assert!(config(true, &[]).expect("ok").is_none());
        assert!(
            config(false, &[("LEGAL_TSA_URL", "  ")])
                .expect("ok")
                .is_none()
        );
        let err = config(false, &[("LEGAL_TSA_CA_FILE", CA)]).expect_err("no url");
        assert!(
            err.contains("LEGAL_TSA_CA_FILE is set but LEGAL_TSA_URL is not"),
            "{err}"
        );
    }

    #[test]
    fn a_url_timeout_and_ca_are_read_and_checked_naming_the_variable() {
        let ok = config(
            true,
            &[
                ("LEGAL_TSA_URL", "https://tsa.example.cn/tsr"),
                ("LEGAL_TSA_CA_FILE", CA),
                ("LEGAL_TSA_TIMEOUT_SECS", "30"),
            ],
        )
        .expect("ok")
        .expect("configured");
        assert_eq!(ok.url, "https://tsa.example.cn/tsr");
        assert_eq!(ok.timeout, Duration::from_secs(30));
        assert!(ok.trusted.is_some());
        let dev = config(false, &[("LEGAL_TSA_URL", "http://127.0.0.1:3180/")])
            .expect("ok")
            .expect("configured");
        assert_eq!(dev.timeout, Duration::from_secs(10));
        for (vars, says) in [
            (vec![("LEGAL_TSA_URL", "tsa.example.cn")], "LEGAL_TSA_URL"),
            (
                vec![("LEGAL_TSA_URL", "ftp://tsa.example.cn/")],
                "LEGAL_TSA_URL",
            ),
            (
                vec![("LEGAL_TSA_URL", "https://user:pw@tsa.example.cn/")],
                "must not carry credentials",
            ),
            (
                vec![
                    ("LEGAL_TSA_URL", "http://t/"),
                    ("LEGAL_TSA_TIMEOUT_SECS", "0"),
                ],
                "LEGAL_TSA_TIMEOUT_SECS",
            ),
            (
                vec![
                    ("LEGAL_TSA_URL", "http://t/"),
                    ("LEGAL_TSA_TIMEOUT_SECS", "ten"),
                ],
                "LEGAL_TSA_TIMEOUT_SECS",
            ),
            (
                vec![
                    ("LEGAL_TSA_URL", "http://t/"),
                    ("LEGAL_TSA_CA_FILE", "/nonexistent.pem"),
                ],
                "LEGAL_TSA_CA_FILE /nonexistent.pem cannot be read",
            ),
            (
                vec![
                    ("LEGAL_TSA_URL", "http://t/"),
                    ("LEGAL_TSA_CA_FILE", "/etc/hostname"),
                ],
                "LEGAL_TSA_CA_FILE",
            ),
        ] {
            let err = config(false, &vars).expect_err(says);
            assert!(err.contains(says), "{vars:?}: {err}");
        }
        let err = config(true, &[("LEGAL_TSA_URL", "http://t/")]).expect_err("production");
        assert!(
            err.contains("LEGAL_TSA_CA_FILE is required in production"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn an_unreachable_tsa_is_unavailable_saying_what_to_do() {
        // A port nothing listens on (bound, then closed).
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("port");
        let tsa = Timestamper::new(TsaConfig {
            url: format!("http://127.0.0.1:{port}/"),
            trusted: None,
            timeout: Duration::from_secs(2),
        })
        .expect("client");
        match tsa.stamp(b"manifest").await {
            Err(ApiError::Unavailable(message)) => {
                assert!(
                    message.contains("could not be reached")
                        && message.contains("LEGAL_TSA_URL")
                        && message.contains("try again"),
                    "{message}"
                );
            }
            other => panic!("expected UNAVAILABLE, got {other:?}"),
        }
    }
}
