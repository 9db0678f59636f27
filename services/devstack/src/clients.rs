//! gRPC clients of the five services and a polling helper for eventually consistent reads.

use std::time::{Duration, Instant};

use anyhow::bail;
use tonic::transport::Channel;

use proto::contracts::v1::contracts_service_client::ContractsServiceClient;
use proto::dunning::v1::dunning_service_client::DunningServiceClient;
use proto::legal::v1::legal_service_client::LegalServiceClient;
use proto::payments::v1::payments_service_client::PaymentsServiceClient;
use proto::scoring::v1::scoring_service_client::ScoringServiceClient;

use crate::Stack;

/// One client per service. Channels connect lazily and reconnect after a service restarts.
#[derive(Debug, Clone)]
pub struct Clients {
    /// Contracts.
    pub contracts: ContractsServiceClient<Channel>,
    /// Payments.
    pub payments: PaymentsServiceClient<Channel>,
    /// Scoring.
    pub scoring: ScoringServiceClient<Channel>,
    /// Dunning.
    pub dunning: DunningServiceClient<Channel>,
    /// Legal.
    pub legal: LegalServiceClient<Channel>,
}

impl Clients {
    /// Clients for every service of `stack`.
    pub fn new(stack: &Stack) -> anyhow::Result<Self> {
        let channel = |service: &str| -> anyhow::Result<Channel> {
            Ok(Channel::from_shared(stack.endpoint(service)?)?
                .connect_timeout(Duration::from_secs(5))
                .connect_lazy())
        };
        Ok(Self {
            contracts: ContractsServiceClient::new(channel("contracts")?),
            payments: PaymentsServiceClient::new(channel("payments")?),
            scoring: ScoringServiceClient::new(channel("scoring")?),
            dunning: DunningServiceClient::new(channel("dunning")?),
            legal: LegalServiceClient::new(channel("legal")?),
        })
    }
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
