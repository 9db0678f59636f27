//! Wiring of one service process: database, outbox relay, consumer, gRPC server, shutdown.

use std::net::SocketAddr;

use anyhow::Context as _;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tonic::service::Routes;

use crate::consumer::{ConsumerTask, Handler};
use crate::outbox::{Outbox, Relay};
use crate::shutdown::{self, Shutdown, Trigger};
use crate::{Config, db, kafka};

/// A service process being assembled: [`App::prepare`], then [`App::consume`] for each
/// consumer, then [`App::serve`].
pub struct App {
    /// The service's configuration.
    pub config: Config,
    /// Pool bound to the service's schema.
    pub pool: PgPool,
    /// The service's outbox.
    pub outbox: Outbox,
    listener: TcpListener,
    local_addr: SocketAddr,
    security: crate::grpc::Security,
    stalls: crate::consumer::Stalls,
    redriver: crate::deadletter::api::RedriverSlot,
    trigger: Trigger,
    shutdown: Shutdown,
    tasks: JoinSet<()>,
}

impl App {
    /// Connects to the database, applies migrations (or, with `DATABASE_MIGRATE=false`, checks
    /// that the migration job applied them) and binds the gRPC listener.
    pub async fn prepare(
        config: Config,
        migrations: &sqlx::migrate::Migrator,
    ) -> anyhow::Result<Self> {
        crate::metrics::init(config.service);
        let auth = crate::auth::AuthConfig::from_env(config.production)?;
        let pool = db::connect(&config).await?;
        db::prepare_schema(&pool, &config, migrations).await?;
        let redriver = crate::deadletter::api::RedriverSlot::default();
        let security = crate::grpc::Security {
            layer: crate::auth::AuthLayer::new(
                crate::auth::AuthState::new(&auth, pool.clone()).await?,
            ),
            audit: crate::auth::audit::AuditApi::new(pool.clone()),
            dead_letters: crate::deadletter::api::DeadLetterApi::new(
                pool.clone(),
                redriver.clone(),
            ),
            config: auth,
        };
        let (listener, local_addr) = crate::grpc::bind(config.grpc_addr).await?;
        let (trigger, shutdown) = shutdown::channel();
        Ok(Self {
            outbox: Outbox::new(config.service),
            config,
            pool,
            listener,
            local_addr,
            security,
            stalls: crate::consumer::Stalls::default(),
            redriver,
            trigger,
            shutdown,
            tasks: JoinSet::new(),
        })
    }

    /// The address the gRPC server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Starts an idempotent consumer with `handler` of the topics the service reads
    /// ([`crate::events::SUBSCRIPTIONS`], the table the broker's ACLs are derived from too),
    /// and the recorder of the service's dead-letter topic; `DeadLetterService` re-drives
    /// through the same handler. A service has one consumer.
    pub fn consume<H: Handler>(&mut self, handler: H) -> anyhow::Result<()> {
        let topics = crate::events::consumed_by(self.config.service);
        anyhow::ensure!(
            !topics.is_empty(),
            "{} consumes no topics in kit::events::SUBSCRIPTIONS",
            self.config.service
        );
        let handler = std::sync::Arc::new(handler);
        if self.redriver.set(handler.clone()).is_err() {
            anyhow::bail!("App::consume called twice: a service has one consumer");
        }
        let prefix = &self.config.kafka_topic_prefix;
        let group = crate::events::consumer_group(prefix, self.config.service);
        let consumer = kafka::consumer(&self.config.kafka, &group)?;
        let names: Vec<String> = topics.iter().map(|t| format!("{prefix}{t}")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        rdkafka::consumer::Consumer::subscribe(&consumer, &refs)
            .with_context(|| format!("subscribing to {names:?}"))?;
        let dead_letter_topic = format!(
            "{prefix}{}",
            crate::events::dead_letter_topic(self.config.service)
        );
        let recorder = kafka::consumer(
            &self.config.kafka,
            &crate::events::dead_letter_group(prefix, self.config.service),
        )?;
        rdkafka::consumer::Consumer::subscribe(&recorder, &[&dead_letter_topic])
            .with_context(|| format!("subscribing to {dead_letter_topic}"))?;
        self.tasks.spawn(crate::deadletter::recorder::run(
            recorder,
            self.pool.clone(),
            self.shutdown.clone(),
        ));
        let task = ConsumerTask {
            service: self.config.service,
            consumer,
            producer: kafka::producer(
                &self.config.kafka,
                &format!("{group}-deadletter"),
                self.config.kafka_compression,
            )?,
            dead_letter_topic,
            pool: self.pool.clone(),
            handler,
            max_attempts: self.config.consumer_max_attempts.max(1),
            batch_max: self.config.consumer_batch_max.max(1),
            batch_linger: self.config.consumer_batch_linger,
            stalls: self.stalls.clone(),
        };
        self.tasks.spawn(task.run(self.shutdown.clone()));
        Ok(())
    }

    /// Runs a background task of the service until shutdown (it gets the shutdown signal and
    /// should return soon after it fires); the process waits for it before exiting.
    pub fn spawn<F, Fut>(&mut self, task: F)
    where
        F: FnOnce(Shutdown) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.tasks.spawn(task(self.shutdown.clone()));
    }

    /// Starts the outbox relay and serves `routes` until `stop` resolves, then shuts
    /// everything down in order: readiness reports NOT_SERVING while calls are still served
    /// for `GRPC_DRAIN_MS`; then the gRPC server stops taking calls, in-flight calls and
    /// messages finish, offsets are committed, the relay publishes what was committed.
    pub async fn serve(
        mut self,
        routes: Routes,
        service_names: &[&str],
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let relay = Relay {
            retention: self.config.outbox_retention,
            processed_retention: self.config.processed_events_retention,
            pool: self.pool.clone(),
            producer: kafka::producer(
                &self.config.kafka,
                &format!("{}-outbox", self.config.service),
                self.config.kafka_compression,
            )?,
            topic_prefix: self.config.kafka_topic_prefix.clone(),
            poll: self.config.outbox_poll,
            lock_key: crate::outbox::lock_key(&self.config.database_schema),
        };
        self.tasks.spawn(relay.run(self.shutdown.clone()));
        if let Some(addr) = self.config.metrics_addr {
            // Metrics never keep a service from starting: a port taken is logged loudly.
            match crate::metrics::bind(addr).await {
                Ok((listener, bound)) => {
                    tracing::info!(addr = %bound, "metrics at /metrics");
                    self.tasks
                        .spawn(crate::metrics::serve(listener, self.shutdown.clone()));
                }
                Err(error) => {
                    tracing::error!(error = format!("{error:#}"), "serving without metrics");
                }
            }
        }

        let (drain, draining) = shutdown::channel();
        let server = tokio::spawn(crate::grpc::serve(
            self.listener,
            routes,
            service_names.iter().map(|s| (*s).to_owned()).collect(),
            self.security,
            self.stalls.subscribe(),
            crate::grpc::Stopping {
                draining,
                shutdown: self.shutdown.clone(),
            },
            crate::grpc::Limits {
                call_timeout: self.config.grpc_call_timeout,
                max_concurrent_calls: self.config.grpc_max_concurrent_calls,
            },
        ));
        tracing::info!(service = self.config.service, addr = %self.local_addr, "ready");
        if let Some(path) = &self.config.ready_file {
            std::fs::write(path, self.local_addr.to_string())
                .with_context(|| format!("writing READY_FILE {}", path.display()))?;
        }

        let trigger = self.trigger;
        let drain_for = self.config.grpc_drain;
        let mut server = server;
        let server_result = tokio::select! {
            () = stop => {
                // Readiness fails at once; calls are still served for GRPC_DRAIN_MS, the time
                // Kubernetes needs to take the pod out of the Service's endpoints, so no
                // caller is sent to a closed port.
                drain.fire();
                let ended = if drain_for.is_zero() {
                    None
                } else {
                    tracing::info!(drain_ms = drain_for.as_millis(), "draining before closing the gRPC listener");
                    tokio::select! {
                        () = tokio::time::sleep(drain_for) => None,
                        result = &mut server => Some(result),
                    }
                };
                // Then stop taking calls, finish in-flight ones, consumers store and commit
                // their offsets, the relay publishes what was committed.
                trigger.fire();
                match ended {
                    Some(result) => result,
                    None => (&mut server).await,
                }
            }
            result = &mut server => {
                trigger.fire();
                result
            }
        };
        while self.tasks.join_next().await.is_some() {}
        self.pool.close().await;
        tracing::info!(service = self.config.service, "stopped");
        server_result.context("gRPC server task panicked")?
    }
}
