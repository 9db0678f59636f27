//! The whole stack on one machine.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::auth::AuthMaterial;
use crate::broker::{Broker, BrokerKind};
use crate::postgres::PgCluster;
use crate::process::ServiceProcess;
use crate::{SERVICES, grpc_peers, provision};

/// How to start a stack.
#[derive(Debug, Clone, Default)]
pub struct StackOptions {
    /// Use the services' fixed local ports (50051..50055) instead of free ones.
    pub fixed_ports: bool,
    /// Give this stack its own database and topic prefix, so several can share an external
    /// Postgres and Kafka (the tests do).
    pub isolated: bool,
    /// Directory for logs and ready files; a temporary one when unset.
    pub work_dir: Option<PathBuf>,
    /// Extra environment for every service (e.g. `DUNNING_ESCALATE_AFTER_DAYS`).
    pub env: Vec<(String, String)>,
    /// Start only these services (all when empty).
    pub only: Vec<String>,
    /// Extra environment for one service only, as (service, name, value), applied after
    /// `env` (e.g. a tiny `DATABASE_STATEMENT_TIMEOUT_MS` for payments).
    pub service_env: Vec<(String, String, String)>,
    /// Where the throwaway CA, certificates and signing key go (default: `auth/` in the work
    /// directory). `collectctl auth token` reads them from here (`COLLECTIONS_AUTH_DIR`).
    pub auth_dir: Option<PathBuf>,
    /// The broker to start; when unset, `KAFKA_BOOTSTRAP_SERVERS`, else `COLLECTIONS_BROKER`
    /// (`apache-kafka`: one Apache Kafka broker per process, shared by its stacks), else the
    /// embedded one.
    pub broker: Option<BrokerKind>,
    /// Nodes of an Apache Kafka cluster of this stack's own (`broker: Some(ApacheKafka)`;
    /// default 1; 3 gives replication factor 3 and `min.insync.replicas=2`).
    pub kafka_nodes: Option<usize>,
    /// A throwaway PostgreSQL with durable commits (fsync and synchronous_commit on) instead
    /// of the fast, non-durable test settings.
    pub durable_postgres: bool,
    /// Also start the web console (issue 17 item 3) with the stack's demo identities, on
    /// [`CONSOLE_PORT`] (or a free port without `fixed_ports`).
    pub console: bool,
}

/// The web console's local port.
pub const CONSOLE_PORT: u16 = 50080;

/// A running stack. Dropping it kills the services and removes the throwaway database.
pub struct Stack {
    services: BTreeMap<String, ServiceProcess>,
    /// Bootstrap address of the broker.
    pub bootstrap_servers: String,
    /// How the harness and the tests connect to the broker (on Apache Kafka: as the `admin`
    /// super user over SASL_SSL).
    pub kafka: kit::kafka::Connection,
    /// Prefix of every topic and consumer group of this stack.
    pub topic_prefix: String,
    /// Connection URL per service.
    pub database_urls: BTreeMap<String, String>,
    /// The database superuser's URL of the stack's database: for tests that play an
    /// administrator going around the services (e.g. editing the append-only contact log).
    pub superuser_url: String,
    /// Where logs are written.
    pub work_dir: PathBuf,
    /// The stack's identity provider and PKI (R-O3).
    pub auth: AuthMaterial,
    broker: Broker,
    pg: Option<PgCluster>,
    _temp: Option<tempfile::TempDir>,
}

const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// The console's process name (and binary).
const CONSOLE: &str = "console";

impl Stack {
    /// Starts Postgres, the broker and the five services. `progress` receives one line per
    /// step, for people watching.
    pub async fn start(
        options: StackOptions,
        mut progress: impl FnMut(&str),
    ) -> anyhow::Result<Self> {
        let (temp, work_dir) = match &options.work_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)?;
                (None, dir.clone())
            }
            None => {
                let temp = tempfile::Builder::new()
                    .prefix("collections-stack-")
                    .tempdir()?;
                let dir = temp.path().to_path_buf();
                (Some(temp), dir)
            }
        };
        let run_id = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();

        let started = Instant::now();
        let (pg, admin_url) = match std::env::var("DATABASE_URL") {
            Ok(url) if !url.is_empty() => {
                progress("postgres: using DATABASE_URL");
                (None, url)
            }
            _ => {
                progress("postgres: starting a throwaway cluster (initdb + pg_ctl)…");
                let cluster = if options.durable_postgres {
                    tokio::task::spawn_blocking(PgCluster::start_durable).await??
                } else {
                    tokio::task::spawn_blocking(PgCluster::start).await??
                };
                let url = cluster.admin_url();
                progress(&format!(
                    "postgres: ready at {url} ({:.1} s)",
                    started.elapsed().as_secs_f32()
                ));
                (Some(cluster), url)
            }
        };
        let database = if options.isolated {
            format!("e2e_{run_id}")
        } else {
            "collections".to_owned()
        };
        let password = kit::config::env_string("COLLECTIONS_ROLE_PASSWORD", "collections");
        let names: Vec<&str> = SERVICES.iter().map(|(name, _)| *name).collect();
        let database_urls =
            provision::provision_database(&admin_url, &database, &names, &password).await?;
        progress(&format!(
            "postgres: database {database} with one role and schema per service"
        ));

        let kafka_started = Instant::now();
        let broker =
            Broker::select(options.broker, options.kafka_nodes, &work_dir.join("kafka")).await?;
        let topic_prefix = if options.isolated && !broker.is_embedded() {
            format!("e2e-{run_id}.")
        } else {
            String::new()
        };
        broker.create_topics(&topic_prefix).await?;
        let bootstrap_servers = broker.bootstrap_servers();
        let kafka = broker.connection()?;
        progress(&format!(
            "kafka: {} broker at {bootstrap_servers}, topics created ({:.1} s)",
            broker.describe(),
            kafka_started.elapsed().as_secs_f32()
        ));
        if let Broker::ApacheKafka(kafka) = &broker {
            progress(&format!(
                "kafka: JVM start to ready {:.1} s, broker RSS {} MB",
                kafka.start_time.as_secs_f32(),
                kafka
                    .rss_kb()
                    .map_or("?".to_owned(), |kb| (kb / 1024).to_string())
            ));
            progress(&format!(
                "kafka: SASL_SSL (SCRAM-SHA-512) only, one principal per service; as admin: password in {}, CA {}",
                kafka.password_file(crate::kafka::ADMIN).display(),
                kafka.ca_file().display()
            ));
            // R-L6: what deploy/legal-department/ needs to read the legal cases topic.
            progress(&format!(
                "kafka: the legal department reads {topic_prefix}{} as {}: password in {}",
                kit::events::LEGAL_CASES,
                kit::events::LEGAL_DEPARTMENT,
                kafka.password_file(kit::events::LEGAL_DEPARTMENT).display()
            ));
        }

        let auth_dir = options
            .auth_dir
            .clone()
            .unwrap_or_else(|| work_dir.join("auth"));
        let auth = AuthMaterial::create(&auth_dir)?;
        progress(&format!(
            "auth: throwaway CA, TLS certificates and token signing key in {}",
            auth_dir.display()
        ));
        let mut stack = Self {
            auth,
            services: BTreeMap::new(),
            bootstrap_servers,
            kafka,
            topic_prefix,
            database_urls,
            superuser_url: with_database(&admin_url, &database),
            work_dir,
            broker,
            pg,
            _temp: temp,
        };
        // R-O4: one blind-index key for the whole stack (contracts and payments must compute
        // the same index of an account); sealing keys are each service's own.
        let index_key = kit::pii::Pii::generate_key_hex()
            .map_err(|e| anyhow::anyhow!("no randomness for a PII key: {e}"))?;
        // Services that call others (legal reads contracts and dunning for evidence bundles,
        // R-L3) start once those serve, with their addresses; the rest start together.
        let mut waves: [Vec<(&str, u16)>; 2] = [Vec::new(), Vec::new()];
        for (name, port) in SERVICES {
            if !options.only.is_empty() && !options.only.iter().any(|o| o == name) {
                continue;
            }
            let wave = usize::from(!grpc_peers(name).is_empty());
            waves[wave].push((name, *port));
        }
        for wave in waves {
            let mut started = Vec::new();
            for (name, port) in wave {
                let mut env = stack.service_base_env(name, port, &options, &index_key)?;
                for (variable, peer) in grpc_peers(name) {
                    if let Ok(url) = stack.endpoint(peer) {
                        env.push(((*variable).to_owned(), url));
                    }
                }
                if !grpc_peers(name).is_empty() {
                    env.push((
                        format!("{}_PEER_CA_FILE", name.to_uppercase()),
                        stack.auth.local.ca_file.display().to_string(),
                    ));
                }
                if crate::calls_with_own_certificate(name) {
                    let certificate = stack
                        .auth
                        .client_certificate(name, &[kit::auth::Role::Service])?;
                    let cert = stack.auth.dir.join(format!("{name}-client.crt"));
                    let key = stack.auth.dir.join(format!("{name}-client.key"));
                    std::fs::write(&cert, &certificate.cert_pem)?;
                    std::fs::write(&key, &certificate.key_pem)?;
                    env.push((
                        format!("{}_CLIENT_CERT_FILE", name.to_uppercase()),
                        cert.display().to_string(),
                    ));
                    env.push((
                        format!("{}_CLIENT_KEY_FILE", name.to_uppercase()),
                        key.display().to_string(),
                    ));
                }
                env.extend(options.env.iter().cloned());
                env.extend(
                    options
                        .service_env
                        .iter()
                        .filter(|(service, _, _)| service == name)
                        .map(|(_, key, value)| (key.clone(), value.clone())),
                );
                let process = ServiceProcess::spawn(name, env, &stack.work_dir)?;
                stack.services.insert(name.to_owned(), process);
                started.push(name);
            }
            for name in started {
                if let Some(process) = stack.services.get_mut(name) {
                    let addr = process.wait_ready(READY_TIMEOUT).await?;
                    progress(&format!("{name}: serving gRPC on {addr}"));
                }
            }
        }
        if options.console {
            let url = stack.start_console(options.fixed_ports)?;
            let process = stack
                .services
                .get_mut(CONSOLE)
                .context("the console was not started")?;
            let addr = process.wait_ready(READY_TIMEOUT).await?;
            progress(&format!(
                "console: serving http://{addr} ({url}; demo sign-in with the stack's key)"
            ));
        }
        Ok(stack)
    }

    /// Starts the web console: demo identities signed with the stack's throwaway key
    /// (`CONSOLE_DEMO_SIGN_IN=local-stack`, refused in production), the services' addresses.
    fn start_console(&mut self, fixed_port: bool) -> anyhow::Result<String> {
        let port = if fixed_port { CONSOLE_PORT } else { 0 };
        let mut env = vec![
            ("CONSOLE_ADDR".to_owned(), format!("127.0.0.1:{port}")),
            ("CONSOLE_DEMO_SIGN_IN".to_owned(), "local-stack".to_owned()),
            (
                "COLLECTIONS_AUTH_DIR".to_owned(),
                self.auth.dir.display().to_string(),
            ),
            (
                "CONSOLE_CA_FILE".to_owned(),
                self.auth.local.ca_file.display().to_string(),
            ),
        ];
        for service in ["contracts", "payments", "dunning", "legal", "reporting"] {
            if let Ok(url) = self.endpoint(service) {
                env.push((format!("CONSOLE_{}_URL", service.to_uppercase()), url));
            }
        }
        let process = ServiceProcess::spawn(CONSOLE, env, &self.work_dir)?;
        self.services.insert(CONSOLE.to_owned(), process);
        Ok(format!("port {port}"))
    }

    /// `http://host:port` of the web console, when the stack started it.
    pub fn console_url(&self) -> Option<String> {
        self.services
            .get(CONSOLE)
            .and_then(ServiceProcess::addr)
            .map(|addr| format!("http://{addr}"))
    }

    /// What every service gets: its database, the broker, PII keys, its address, the business
    /// clock, the stack's identity provider and its own Kafka principal.
    fn service_base_env(
        &self,
        name: &str,
        port: u16,
        options: &StackOptions,
        index_key: &str,
    ) -> anyhow::Result<Vec<(String, String)>> {
        let mut env = vec![
            ("DATABASE_URL".to_owned(), self.database_urls[name].clone()),
            ("DATABASE_SCHEMA".to_owned(), name.to_owned()),
            (
                "KAFKA_BOOTSTRAP_SERVERS".to_owned(),
                self.bootstrap_servers.clone(),
            ),
            ("KAFKA_TOPIC_PREFIX".to_owned(), self.topic_prefix.clone()),
            // R-O4: each service seals personal data under its own key ring, here one key
            // with id `local1` (the stack is throwaway, and so are its keys).
            (
                kit::pii::KEYS_VARIABLE.to_owned(),
                format!(
                    "local1={}",
                    kit::pii::Pii::generate_key_hex()
                        .map_err(|e| anyhow::anyhow!("no randomness for a PII key: {e}"))?
                ),
            ),
            (kit::pii::KEY_ID_VARIABLE.to_owned(), "local1".to_owned()),
            (
                kit::pii::INDEX_KEY_VARIABLE.to_owned(),
                index_key.to_owned(),
            ),
            (
                "GRPC_ADDR".to_owned(),
                format!("127.0.0.1:{}", if options.fixed_ports { port } else { 0 }),
            ),
            // The demo and the tests move business time ahead with RunDailyCycle (R-O3: a
            // service on the system clock refuses a date after today). `env` may set
            // BUSINESS_CLOCK=system to test exactly that.
            ("BUSINESS_CLOCK".to_owned(), "simulated".to_owned()),
            // Nothing routes calls to these processes but their own clients: no endpoints to
            // leave, so no drain on SIGTERM (stopping a stack would wait 5 s per service).
            // `env` may set GRPC_DRAIN_MS to test the drain.
            ("GRPC_DRAIN_MS".to_owned(), "0".to_owned()),
        ];
        env.extend(self.auth.service_env());
        // Its own Kafka principal (Apache Kafka: SASL_SSL, password by file).
        env.extend(self.broker.service_env(name));
        Ok(env)
    }

    /// `https://host:port` of a service's gRPC server (TLS, the stack's CA).
    pub fn endpoint(&self, service: &str) -> anyhow::Result<String> {
        let addr = self
            .services
            .get(service)
            .and_then(ServiceProcess::addr)
            .with_context(|| format!("{service} is not running"))?;
        Ok(format!("https://{addr}"))
    }

    /// A service's metrics in the Prometheus text format (issue 16 item 3).
    ///
    /// # Errors
    /// No such service, or the scrape failed.
    pub async fn scrape(&self, service: &str) -> anyhow::Result<String> {
        self.services
            .get(service)
            .with_context(|| format!("no service {service}"))?
            .scrape()
            .await
    }

    /// The top process of each part of the stack, by name, for [`crate::cpu::sample`]: the
    /// services, the stack's own PostgreSQL server and Apache Kafka broker(s) (not external
    /// ones, nor the in-process mock broker), and this process as `harness`.
    pub fn cpu_roots(&self) -> Vec<(String, u32)> {
        let mut roots: Vec<(String, u32)> = self
            .services
            .iter()
            .filter_map(|(name, p)| Some((name.clone(), p.id()?)))
            .collect();
        if let Some(pid) = self.pg.as_ref().and_then(PgCluster::postmaster_pid) {
            roots.push(("postgres".to_owned(), pid));
        }
        if let Broker::ApacheKafka(kafka) = &self.broker {
            roots.extend(kafka.pids().into_iter().map(|p| ("kafka".to_owned(), p)));
        }
        roots.push(("harness".to_owned(), std::process::id()));
        roots
    }

    /// The process of a service.
    pub fn process(&mut self, service: &str) -> anyhow::Result<&mut ServiceProcess> {
        self.services
            .get_mut(service)
            .with_context(|| format!("no service {service}"))
    }

    /// Starts another replica of `service` (same database, broker and consumer group, its
    /// own gRPC port), named `<service>-<n>`; returns that name.
    pub async fn start_replica(&mut self, service: &str) -> anyhow::Result<String> {
        let n = self
            .services
            .keys()
            .filter(|k| k.starts_with(&format!("{service}-")))
            .count()
            + 2;
        let name = format!("{service}-{n}");
        let mut replica = self
            .services
            .get(service)
            .with_context(|| format!("no service {service}"))?
            .spawn_replica(&name, &self.work_dir)?;
        replica.wait_ready(READY_TIMEOUT).await?;
        self.services.insert(name.clone(), replica);
        Ok(name)
    }

    /// Stops the stack's own PostgreSQL server (fast shutdown: connections are cut), as in an
    /// outage. Fails with an external `DATABASE_URL`.
    pub fn stop_postgres(&self) -> anyhow::Result<()> {
        let pg = self
            .pg
            .as_ref()
            .context("the stack uses an external PostgreSQL (DATABASE_URL); it cannot stop it")?;
        pg.stop();
        Ok(())
    }

    /// Starts the stack's PostgreSQL server again after [`stop_postgres`](Self::stop_postgres).
    pub fn start_postgres(&self) -> anyhow::Result<()> {
        self.pg
            .as_ref()
            .context("the stack uses an external PostgreSQL (DATABASE_URL)")?
            .resume()
    }

    /// SIGTERMs a service, as Kubernetes stops a pod, and waits up to `grace` for it to
    /// exit. Err says why it did not stop cleanly (no such service, its exit status, or
    /// still running after `grace`, then killed). [`restart`](Self::restart) starts it again.
    pub fn terminate(&mut self, service: &str, grace: Duration) -> Result<(), String> {
        match self.process(service) {
            Ok(process) => process.terminate_explained(grace),
            Err(error) => Err(format!("{error:#}")),
        }
    }

    /// SIGKILLs a service, as in a crash.
    pub fn kill(&mut self, service: &str) -> anyhow::Result<()> {
        self.process(service)?.kill();
        Ok(())
    }

    /// Starts a killed or stopped service again on the same address.
    pub async fn restart(&mut self, service: &str) -> anyhow::Result<()> {
        self.process(service)?.restart(READY_TIMEOUT).await?;
        Ok(())
    }

    /// Stops every service gracefully (reverse start order), then the broker and Postgres.
    /// Returns the services that did not exit cleanly within the grace period, each with why
    /// (its exit status, or killed after the grace) and the last lines of its log: the log
    /// file goes with the stack's directory.
    pub fn stop(mut self, mut progress: impl FnMut(&str)) -> Vec<String> {
        const GRACE: Duration = Duration::from_secs(15);
        let unclean_entry = |name: &str, why: &str, process: &ServiceProcess| {
            format!(
                "{name}: {why}; the last lines of its log:\n{}",
                process.log_tail(20)
            )
        };
        let mut unclean = Vec::new();
        let replicas: Vec<String> = self
            .services
            .keys()
            .filter(|k| !SERVICES.iter().any(|(s, _)| s == k))
            .cloned()
            .collect();
        for name in &replicas {
            if let Some(process) = self.services.get_mut(name)
                && let Err(why) = process.terminate_explained(GRACE)
            {
                unclean.push(unclean_entry(name, &why, process));
            }
        }
        for (name, _) in SERVICES.iter().rev() {
            if let Some(process) = self.services.get_mut(*name) {
                match process.terminate_explained(GRACE) {
                    Ok(()) => progress(&format!("{name}: stopped")),
                    Err(why) => {
                        progress(&format!(
                            "{name}: did not stop cleanly ({why}); see {}",
                            process.log_file().display()
                        ));
                        unclean.push(unclean_entry(name, &why, process));
                    }
                }
            }
        }
        match std::mem::replace(&mut self.broker, Broker::External(String::new())) {
            Broker::Embedded(cluster) => {
                drop(cluster);
                progress("kafka: embedded broker stopped");
            }
            // The process-wide broker of the tests stays up for the next stack.
            Broker::ApacheKafka(kafka) => {
                if std::sync::Arc::strong_count(&kafka) == 1 {
                    drop(kafka);
                    progress("kafka: Apache Kafka broker stopped");
                }
            }
            Broker::External(_) => {}
        }
        if let Some(pg) = self.pg.take() {
            pg.stop();
            progress("postgres: stopped");
        }
        unclean
    }

    /// A connection to the broker as `principal` (a service's own credentials), on Apache
    /// Kafka only.
    pub fn kafka_as(&self, principal: &str) -> Option<kit::kafka::Connection> {
        self.broker.connection_as(principal)
    }

    /// The stack's broker.
    pub fn broker(&self) -> &Broker {
        &self.broker
    }

    /// Log files of all services.
    pub fn log_files(&self) -> Vec<PathBuf> {
        self.services
            .values()
            .map(|p| p.log_file().to_path_buf())
            .collect()
    }

    /// The last log lines of every service, for diagnosing a failed test.
    pub fn log_tails(&self, lines: usize) -> String {
        self.services
            .iter()
            .map(|(name, p)| format!("----- {name} -----\n{}", p.log_tail(lines)))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// `url` with its database (the path) replaced by `database`, query kept.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{database}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

#[cfg(test)]
mod url_tests {
    #[test]
    fn the_database_of_a_url_is_replaced_and_its_query_kept() {
        assert_eq!(
            super::with_database("postgres://postgres@127.0.0.1:5432/postgres", "e2e_1"),
            "postgres://postgres@127.0.0.1:5432/e2e_1"
        );
        assert_eq!(
            super::with_database("postgres://u:p@h/db?sslmode=require", "x"),
            "postgres://u:p@h/x?sslmode=require"
        );
        assert_eq!(super::with_database("postgres://h", "x"), "postgres://h/x");
    }
}
