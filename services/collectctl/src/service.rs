//! What the subcommands that talk to the services share: the endpoint, a runtime, and
//! gRPC errors turned into what to do next.

use std::future::Future;

use proto::contracts::v1::contracts_service_client::ContractsServiceClient;
use proto::payments::v1::payments_service_client::PaymentsServiceClient;
use tonic::transport::Channel;

use crate::cli::{Failure, Hint, Outcome};

/// Runs one command's requests on a small runtime.
pub(crate) fn block_on(work: impl Future<Output = Outcome>) -> Outcome {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(work)
}

/// A client of the payments service at `url`, else `$PAYMENTS_URL`, else the local stack.
pub(crate) async fn payments(
    url: Option<String>,
) -> Result<PaymentsServiceClient<Channel>, Failure> {
    let url = url
        .or_else(|| std::env::var("PAYMENTS_URL").ok())
        .unwrap_or_else(|| "http://127.0.0.1:50052".to_owned());
    let client = PaymentsServiceClient::connect(url.clone())
        .await
        .hint(format!(
            "is the payments service running at {url}? Start the stack with deploy/local/up.sh, or give --payments URL"
        ))?;
    // Bank files may be large (the service takes up to 64 MiB).
    Ok(client
        .max_decoding_message_size(80 << 20)
        .max_encoding_message_size(80 << 20))
}

/// A client of the contracts service at `url`, else `$CONTRACTS_URL`, else the local stack.
pub(crate) async fn contracts(
    url: Option<String>,
) -> Result<ContractsServiceClient<Channel>, Failure> {
    let url = url
        .or_else(|| std::env::var("CONTRACTS_URL").ok())
        .unwrap_or_else(|| "http://127.0.0.1:50051".to_owned());
    ContractsServiceClient::connect(url.clone())
        .await
        .hint(format!(
            "is the contracts service running at {url}? Start the stack with deploy/local/up.sh, or give --contracts URL"
        ))
}

/// A gRPC error with what the service said and what to do.
pub(crate) fn status(status: tonic::Status) -> Failure {
    let hint = match status.code() {
        tonic::Code::InvalidArgument => "correct the argument the message names",
        tonic::Code::NotFound => "check the id (exceptions: `collectctl exceptions list`)",
        tonic::Code::FailedPrecondition => {
            "list the open exceptions again; the queue changed since you looked"
        }
        tonic::Code::Unavailable => "is the payments service running? check --payments",
        _ => "see the payments service log for details",
    };
    Failure::with_hint(
        anyhow::anyhow!("{:?}: {}", status.code(), status.message()),
        hint,
    )
}
