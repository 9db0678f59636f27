//! gRPC server bootstrap: the service's routes plus health checking and reflection, a span
//! per call, and graceful shutdown that lets in-flight calls finish.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use tokio::net::TcpListener;
use tonic::service::Routes;
use tonic_health::ServingStatus;

use crate::auth::{AuthConfig, AuthLayer, ReflectionMode};
use crate::shutdown::Shutdown;
use crate::telemetry::GrpcTraceLayer;

/// How the server meets its callers: TLS, who may call what, reflection.
pub struct Security {
    /// Authentication, the role table and the audit trail.
    pub layer: AuthLayer,
    /// The service's audit trail API.
    pub audit: crate::auth::audit::AuditApi,
    /// The service's dead letters API.
    pub dead_letters: crate::deadletter::api::DeadLetterApi,
    /// `GRPC_TLS_*`, `GRPC_REFLECTION`.
    pub config: AuthConfig,
}

/// Binds the gRPC listener (port 0 picks a free port; see the returned address).
pub async fn bind(addr: SocketAddr) -> anyhow::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(addr).await.with_context(|| {
        format!("binding the gRPC address {addr}; is another process using it? (set GRPC_ADDR)")
    })?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}

/// Bounds on the work one server takes on.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `GRPC_CALL_TIMEOUT_MS`: a call still running after this is cancelled (a client's
    /// shorter `grpc-timeout` wins).
    pub call_timeout: Duration,
    /// `GRPC_MAX_CONCURRENT_CALLS`: see [`CallLimitLayer`](crate::limit::CallLimitLayer).
    pub max_concurrent_calls: usize,
}

/// The two steps of a graceful stop, each a signal: `draining` fires first (SIGTERM): the
/// named services report NOT_SERVING at once, so readiness probes fail and Kubernetes takes
/// the pod out of the endpoints, while calls are still served; `shutdown` fires after
/// `GRPC_DRAIN_MS`: the listener closes and in-flight calls finish.
#[derive(Debug, Clone)]
pub struct Stopping {
    /// Fired on SIGTERM: report NOT_SERVING, keep serving.
    pub draining: Shutdown,
    /// Fired after the drain: stop accepting, finish in-flight calls.
    pub shutdown: Shutdown,
}

/// Serves `routes` (the service's APIs) with health, reflection and the audit trail until
/// `stopping.shutdown`, every call but health checks authenticated, authorised and audited.
/// `service_names` are the fully qualified gRPC service names reported as SERVING (and as
/// NOT_SERVING from `stopping.draining` on).
pub async fn serve(
    listener: TcpListener,
    routes: Routes,
    service_names: Vec<String>,
    security: Security,
    mut stalls: tokio::sync::watch::Receiver<u32>,
    stopping: Stopping,
    limits: Limits,
) -> anyhow::Result<()> {
    let Stopping {
        mut draining,
        mut shutdown,
    } = stopping;
    let mut service_names = service_names;
    service_names.push("receivables.audit.v1.AuditService".to_owned());
    service_names.push("receivables.deadletters.v1.DeadLetterService".to_owned());
    let (health, health_service) = tonic_health::server::health_reporter();
    for name in &service_names {
        health
            .set_service_status(name, ServingStatus::Serving)
            .await;
    }
    // Reflection advertises this server's own APIs (plus health and reflection), not every
    // service in the shared descriptor set.
    let reflection = || {
        let mut builder = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .with_service_name("grpc.health.v1.Health");
        for name in &service_names {
            builder = builder.with_service_name(name.clone());
        }
        builder
    };
    let reflection_v1 = reflection()
        .build_v1()
        .context("building gRPC reflection (v1)")?;
    let reflection_v1alpha = reflection()
        .build_v1alpha()
        .context("building gRPC reflection (v1alpha)")?;
    // A consumer stalled on a failing dependency makes the whole process NOT_SERVING until it
    // recovers: load balancers and operators see it, and nothing is dead-lettered meanwhile.
    // From SIGTERM on (draining) it is NOT_SERVING for good, whatever the consumers report.
    {
        let health = health.clone();
        let names = service_names.clone();
        let mut stop = shutdown.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = stop.wait() => break,
                    () = draining.wait() => {
                        tracing::info!("draining: reporting NOT_SERVING, still serving calls");
                        for name in &names {
                            health.set_service_status(name, ServingStatus::NotServing).await;
                        }
                        break;
                    }
                    changed = stalls.changed() => if changed.is_err() { break },
                }
                let stalled = *stalls.borrow_and_update();
                let status = if stalled > 0 {
                    tracing::warn!(stalled, "reporting NOT_SERVING: a dependency is failing");
                    ServingStatus::NotServing
                } else {
                    tracing::info!("reporting SERVING again");
                    ServingStatus::Serving
                };
                // The named services only: "" stays SERVING for liveness, since restarting
                // the process would not bring the dependency back.
                for name in &names {
                    health.set_service_status(name, status).await;
                }
            }
        });
    }
    // Kubernetes' gRPC probes speak plaintext only: with TLS on, health is also served alone
    // on GRPC_HEALTH_ADDR (no API there, so nothing needs a credential).
    if let Some(addr) = security.config.health_addr {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding GRPC_HEALTH_ADDR {addr}"))?;
        let health_only = health_service.clone();
        let mut stop_health = shutdown.clone();
        tokio::spawn(async move {
            let served = tonic::transport::Server::builder()
                .add_service(health_only)
                .serve_with_incoming_shutdown(
                    tokio_stream::wrappers::TcpListenerStream::new(listener),
                    async move { stop_health.wait().await },
                )
                .await;
            if let Err(error) = served {
                tracing::error!(%error, "the health-only listener failed");
            }
        });
    }
    let mut routes = routes
        .add_service(health_service)
        .add_service(
            proto::audit::v1::audit_service_server::AuditServiceServer::new(security.audit),
        )
        .add_service(
            proto::deadletters::v1::dead_letter_service_server::DeadLetterServiceServer::new(
                security.dead_letters,
            ),
        );
    if security.config.reflection != ReflectionMode::Off {
        routes = routes
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha);
    }
    let names = service_names;
    let stop = async move {
        shutdown.wait().await;
        // Tell load balancers to stop sending new calls while in-flight ones finish.
        for name in &names {
            health
                .set_service_status(name, ServingStatus::NotServing)
                .await;
        }
    };
    let mut builder = tonic::transport::Server::builder().timeout(limits.call_timeout);
    if let Some(tls) = &security.config.tls {
        builder = builder
            .tls_config(tls.server_config()?)
            .context("configuring gRPC TLS from GRPC_TLS_CERT_FILE / GRPC_TLS_KEY_FILE")?;
    }
    builder
        .layer(GrpcTraceLayer)
        .layer(crate::limit::CallLimitLayer::new(
            limits.max_concurrent_calls,
        ))
        .layer(security.layer)
        .add_routes(routes)
        .serve_with_incoming_shutdown(
            tokio_stream::wrappers::TcpListenerStream::new(listener),
            stop,
        )
        .await
        .context("gRPC server failed")
}
