//! A limit of concurrent calls per server (`GRPC_MAX_CONCURRENT_CALLS`).
//!
//! Why not tower's `GlobalConcurrencyLimitLayer`: on its own it queues every call beyond the
//! limit without bound (each waits for a permit, holding its request in memory), which is
//! what an overloaded server must not do. Behind `LoadShedLayer` it refuses at once, but
//! tonic maps the refusal to a message about "the connection", and health checks would be
//! refused with everything else, so Kubernetes would restart a server that is merely busy.
//! This layer is the two together in a few lines: a call takes a permit or is answered
//! `RESOURCE_EXHAUSTED` at once (gRPC's code for "out of capacity, back off and retry";
//! tonic's own load shedding uses it too), and health checks never need a permit.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use tokio::sync::Semaphore;

/// Paths that are never limited: the health service, so a busy server still reports serving.
const EXEMPT_PREFIX: &str = "/grpc.health.v1.Health/";

/// Lets at most `max` calls run at once across all connections of a server; the next call is
/// answered `RESOURCE_EXHAUSTED` at once instead of waiting.
#[derive(Debug, Clone)]
pub struct CallLimitLayer {
    permits: Arc<Semaphore>,
    max: usize,
}

impl CallLimitLayer {
    /// A limit of `max` concurrent calls (at least 1).
    pub fn new(max: usize) -> Self {
        let max = max.clamp(1, Semaphore::MAX_PERMITS);
        Self {
            permits: Arc::new(Semaphore::new(max)),
            max,
        }
    }
}

impl<S> tower::Layer<S> for CallLimitLayer {
    type Service = CallLimit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CallLimit {
            inner,
            permits: self.permits.clone(),
            max: self.max,
        }
    }
}

/// The service made by [`CallLimitLayer`].
#[derive(Debug, Clone)]
pub struct CallLimit<S> {
    inner: S,
    permits: Arc<Semaphore>,
    max: usize,
}

impl<S, B, ResBody> tower::Service<http::Request<B>> for CallLimit<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<ResBody>> + Send,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        if request.uri().path().starts_with(EXEMPT_PREFIX) {
            return Box::pin(self.inner.call(request));
        }
        match self.permits.clone().try_acquire_owned() {
            Ok(permit) => {
                let call = self.inner.call(request);
                Box::pin(async move {
                    let response = call.await;
                    drop(permit);
                    response
                })
            }
            Err(_) => {
                tracing::warn!(
                    path = request.uri().path(),
                    limit = self.max,
                    "call refused: the server is at GRPC_MAX_CONCURRENT_CALLS"
                );
                let status = tonic::Status::resource_exhausted(format!(
                    "the server is already running its limit of {} calls \
                     (GRPC_MAX_CONCURRENT_CALLS); retry after a short backoff",
                    self.max
                ));
                Box::pin(std::future::ready(Ok(status.into_http())))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use tokio::sync::oneshot;
    use tower::{Layer as _, Service as _};

    use super::*;

    /// Answers OK once the test releases the call.
    #[derive(Clone)]
    struct Held(Arc<std::sync::Mutex<Vec<oneshot::Receiver<()>>>>);

    impl tower::Service<http::Request<()>> for Held {
        type Response = http::Response<String>;
        type Error = Infallible;
        type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

        fn poll_ready(&mut self, _: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _: http::Request<()>) -> Self::Future {
            let release = self.0.lock().ok().and_then(|mut r| r.pop());
            Box::pin(async move {
                if let Some(release) = release {
                    let _ = release.await;
                }
                Ok(http::Response::new("ok".to_owned()))
            })
        }
    }

    fn request(path: &str) -> http::Request<()> {
        http::Request::builder()
            .uri(path)
            .body(())
            .expect("valid request")
    }

    fn code(response: &http::Response<String>) -> tonic::Code {
        tonic::Status::from_header_map(response.headers()).map_or(tonic::Code::Ok, |s| s.code())
    }

    #[tokio::test]
    async fn a_call_over_the_limit_is_refused_at_once_and_health_still_answers() {
        let (release, held) = oneshot::channel();
        let inner = Held(Arc::new(std::sync::Mutex::new(vec![held])));
        let mut service = CallLimitLayer::new(1).layer(inner);

        let mut first = service.call(request("/receivables.legal.v1.LegalService/ListCases"));
        let mut cx = TaskContext::from_waker(std::task::Waker::noop());
        assert!(
            first.as_mut().poll(&mut cx).is_pending(),
            "the first call runs"
        );

        let refused = service
            .call(request("/receivables.legal.v1.LegalService/GetCase"))
            .await
            .expect("infallible");
        assert_eq!(code(&refused), tonic::Code::ResourceExhausted);
        let message = tonic::Status::from_header_map(refused.headers())
            .map(|s| s.message().to_owned())
            .unwrap_or_default();
        assert!(message.contains("GRPC_MAX_CONCURRENT_CALLS"), "{message}");

        let health = service
            .call(request("/grpc.health.v1.Health/Check"))
            .await
            .expect("infallible");
        assert_eq!(code(&health), tonic::Code::Ok, "health is never limited");

        release.send(()).expect("the first call waits");
        assert_eq!(code(&first.await.expect("infallible")), tonic::Code::Ok);
        let after = service
            .call(request("/receivables.legal.v1.LegalService/GetCase"))
            .await
            .expect("infallible");
        assert_eq!(code(&after), tonic::Code::Ok, "the permit came back");
    }
}
