//! A real Apache Kafka cluster run as child processes from the jars
//! `deploy/local/install-kafka.sh` puts in `.tools/kafka/lib`: one node by default (KRaft,
//! broker and controller in one JVM), or several such nodes with static controller voters.
//!
//! Lifetime: each JVM is started through a small `sh` wrapper whose standard input is a pipe
//! held by this process. The wrapper stops the JVM when that pipe reaches end-of-file, which
//! the kernel guarantees when this process exits in any way (panic, `exit`, SIGKILL). That
//! covers the process-wide broker of the tests, which lives in a static and is never
//! dropped. (`prctl(PR_SET_PDEATHSIG)` would fire when the *thread* that spawned the child
//! exits, and each test runs on its own thread, so it would kill the shared broker after the
//! first test.) The wrapper then removes the broker's data directory. [`KafkaBroker`]'s
//! `Drop` stops it at once (SIGTERM, then SIGKILL to the wrapper's process group).
//!
//! Security, as in production: clients connect to a SASL_SSL listener (TLS with a
//! certificate from the cluster's own throwaway CA, [`KafkaPki`]; SCRAM-SHA-512 with one
//! principal per service, one per external reader (the legal department) and `admin` for the
//! harness, credentials added when the storage is formatted); the nodes talk to each other
//! and to the controller over mutual TLS (`User:broker`). `StandardAuthorizer` with
//! `allow.everyone.if.no.acl.found=false`: `admin` and `broker` are super users, the services
//! and readers get exactly the ACLs of [`kit::events::acl_rules`] ([`KafkaBroker::grant`]).

use std::fs;
use std::io::{BufRead as _, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use base64::Engine as _;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::types::RDKafkaErrorCode;

use kit::kafka::{Connection, Secret, Security};

use crate::auth::KafkaPki;

/// The Kafka version `deploy/local/kafka/pom.xml` pins (for messages and the README).
pub const KAFKA_VERSION: &str = "4.1.1";

/// Retention of the platform's topics on this broker: 7 days (Kafka's own default, stated
/// explicitly so the topic spec is complete): long enough for a consumer that was down over
/// a long holiday to catch up from the log, and below the 14 days consumers remember
/// processed event ids (`PROCESSED_EVENTS_RETENTION_DAYS`), so any redelivery of a message
/// still in the log is recognised as one.
pub const RETENTION_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// Maximum heap of the broker's JVM.
pub const HEAP: &str = "-Xmx512m";

const READY_TIMEOUT: Duration = Duration::from_secs(90);
const STOP_GRACE: Duration = Duration::from_secs(15);

/// The wrapper: runs the JVM, stops it on EOF of its stdin (see the module documentation),
/// forwards SIGTERM, and removes the data directory once the JVM has exited.
const WRAPPER: &str = r#"#!/bin/sh
# Runs "$@" (the broker's JVM). Stops it when this script's stdin reaches EOF, i.e. when the
# process that started it is gone; then removes $KAFKA_DATA_DIR.
exec 3<&0 </dev/null
"$@" &
jvm=$!
{ read -r _ <&3; kill -TERM "$jvm" 2>/dev/null; } &
watch=$!
exec 3<&-
trap 'kill -TERM "$jvm" 2>/dev/null' TERM INT
code=0
while kill -0 "$jvm" 2>/dev/null; do wait "$jvm"; code=$?; done
kill "$watch" 2>/dev/null
[ -n "$KAFKA_DATA_DIR" ] && rm -rf "$KAFKA_DATA_DIR"
exit "$code"
"#;

/// The harness's principal: a super user (creates topics, reads and writes anything).
pub const ADMIN: &str = "admin";

/// The principals with SCRAM credentials: the harness, one per service and one per reader
/// outside the platform (the legal department, R-L6).
fn principals() -> impl Iterator<Item = &'static str> {
    std::iter::once(ADMIN)
        .chain(kit::events::CONSUMING_SERVICES.iter().copied())
        .chain(
            kit::events::EXTERNAL_READERS
                .iter()
                .map(|(reader, _)| *reader),
        )
}

/// One node of the cluster: a JVM that is broker and KRaft controller.
struct Node {
    port: u16,
    /// The mutual-TLS listener the nodes replicate over (and the harness creates ACLs on).
    internal_port: u16,
    dir: PathBuf,
    log_file: PathBuf,
    child: Option<Child>,
    /// Held, never written: its EOF tells the wrapper to stop the broker.
    _lifeline: Option<ChildStdin>,
    /// How to start it (again, after [`KafkaBroker::kill_node`]).
    launch: Launch,
}

/// The wrapper's command line and the node's data directory.
#[derive(Debug, Clone)]
struct Launch {
    args: Vec<std::ffi::OsString>,
    data: PathBuf,
    out: PathBuf,
}

impl Launch {
    /// Starts the wrapper (and so the JVM) in its own process group; returns the child
    /// and the write end of its lifeline.
    fn spawn(&self) -> anyhow::Result<(Child, Option<ChildStdin>)> {
        let out = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.out)?;
        let mut command = Command::new("sh");
        command
            .args(&self.args)
            .env("KAFKA_DATA_DIR", &self.data)
            .stdin(Stdio::piped())
            .stdout(out.try_clone()?)
            .stderr(out);
        // Its own process group: Ctrl-C in a terminal goes to devstack, which stops the
        // broker in order; and Drop can kill wrapper and JVM together.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut child = command.spawn().context("starting the Kafka broker")?;
        let lifeline = child.stdin.take();
        Ok((child, lifeline))
    }
}

/// A running Apache Kafka cluster of one or more nodes (KRaft, each node broker and
/// controller).
pub struct KafkaBroker {
    bootstrap_servers: String,
    dir: PathBuf,
    nodes: Mutex<Vec<Node>>,
    log_file: PathBuf,
    replication: i32,
    pki: KafkaPki,
    /// SCRAM passwords, one file per principal (`secrets/<principal>.password`, mode 0600).
    secrets: PathBuf,
    /// Time from spawning the JVMs (format + broker) to the cluster answering metadata.
    pub start_time: Duration,
}

impl std::fmt::Debug for KafkaBroker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaBroker")
            .field("bootstrap_servers", &self.bootstrap_servers)
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

static SHARED: OnceLock<Result<Arc<KafkaBroker>, String>> = OnceLock::new();

/// Nodes of the process-wide cluster of the tests (1 unless set; 3 for a replicated cluster).
pub const NODES_VARIABLE: &str = "COLLECTIONS_KAFKA_BROKERS";

impl KafkaBroker {
    /// The process-wide cluster (started on first use, stopped when the process exits),
    /// shared by every stack of this process (the tests: each stack has its own topic
    /// prefix), with `COLLECTIONS_KAFKA_BROKERS` nodes (default 1). Its directory is a
    /// temporary one; the path is printed once to stderr.
    pub fn shared() -> anyhow::Result<Arc<KafkaBroker>> {
        SHARED
            .get_or_init(|| {
                let result = kit::config::env_parse::<usize>(NODES_VARIABLE, 1, "a number of nodes, 1 to 9")
                    .map_err(|e| anyhow::anyhow!("{e}"))
                    .and_then(|nodes| {
                        let temp = tempfile::Builder::new()
                            .prefix("collections-kafka-")
                            .tempdir()?;
                        // Keep the directory (and the broker log) after the tests: the
                        // wrapper removes the data when the process exits.
                        let dir = temp.keep();
                        Self::start(&dir, nodes)
                    });
                match result {
                    Ok(broker) => {
                        eprintln!(
                            "[devstack] Apache Kafka {KAFKA_VERSION} at {} ready in {:.1} s (log: {})",
                            broker.bootstrap_servers,
                            broker.start_time.as_secs_f32(),
                            broker.log_file.display()
                        );
                        Ok(Arc::new(broker))
                    }
                    Err(error) => Err(format!("{error:#}")),
                }
            })
            .clone()
            .map_err(|e| anyhow::anyhow!("starting the shared Apache Kafka broker: {e}"))
    }

    /// Starts a cluster of `nodes` nodes whose files (properties, logs, data) live in `dir`
    /// (one node: directly in it; more: in `node-<id>/`). Blocks until the cluster answers a
    /// metadata request listing every node.
    pub fn start(dir: &Path, nodes: usize) -> anyhow::Result<Self> {
        if !(1..=9).contains(&nodes) {
            bail!("a local Kafka cluster has 1 to 9 nodes, not {nodes}");
        }
        let lib = lib_dir();
        if !lib.join(format!("kafka_2.13-{KAFKA_VERSION}.jar")).exists() {
            bail!(
                "Apache Kafka {KAFKA_VERSION} is not installed in {}; run deploy/local/install-kafka.sh",
                lib.display()
            );
        }
        let java = java_binary();
        let classpath = format!("{}/*", lib.display());
        let free = free_ports(3 * nodes)?;
        let ports: Vec<(u16, u16)> = free.chunks(3).map(|p| (p[0], p[1])).collect();
        let internal_ports: Vec<u16> = free.chunks(3).map(|p| p[2]).collect();
        let voters = ports
            .iter()
            .enumerate()
            .map(|(i, (_, controller))| format!("{}@127.0.0.1:{controller}", i + 1))
            .collect::<Vec<_>>()
            .join(",");
        let cluster_id = cluster_id();
        let started = Instant::now();
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let pki = KafkaPki::create(&dir.join("tls"))?;
        let secrets = dir.join("secrets");
        fs::create_dir_all(&secrets)?;
        let mut scram_args = Vec::new();
        for principal in principals() {
            let password = uuid::Uuid::new_v4().simple().to_string();
            write_private(&secrets.join(format!("{principal}.password")), &password)?;
            scram_args.push("--add-scram".to_owned());
            scram_args.push(format!(
                "SCRAM-SHA-512=[name={principal},password={password}]"
            ));
        }

        // Write every node's files and format its storage (in parallel: a JVM each).
        let mut formats = Vec::new();
        let mut prepared = Vec::new();
        for (i, ((port, controller_port), internal_port)) in
            ports.iter().zip(&internal_ports).enumerate()
        {
            let node_dir = if nodes == 1 {
                dir.to_path_buf()
            } else {
                dir.join(format!("node-{}", i + 1))
            };
            fs::create_dir_all(&node_dir)
                .with_context(|| format!("creating {}", node_dir.display()))?;
            let data = node_dir.join("data");
            let _ = fs::remove_dir_all(&data);
            let properties = node_dir.join("server.properties");
            let quorum = if nodes == 1 {
                format!("controller.quorum.bootstrap.servers=127.0.0.1:{controller_port}")
            } else {
                format!("controller.quorum.voters={voters}")
            };
            fs::write(
                &properties,
                server_properties(
                    i + 1,
                    [*port, *internal_port, *controller_port],
                    &quorum,
                    &data,
                    nodes,
                    &pki,
                ),
            )?;
            let log_file = node_dir.join("broker.log");
            let log4j = node_dir.join("log4j2.properties");
            fs::write(&log4j, log4j_properties(&log_file))?;
            let mut format = Command::new(&java);
            format
                .args(jvm_options(&log4j, &classpath))
                .arg("kafka.tools.StorageTool")
                .args(["format", "--cluster-id", &cluster_id, "--config"])
                .arg(&properties)
                // The SCRAM credentials go into the cluster's first metadata (KRaft); the
                // passwords are throwaway ones, visible to `ps` for the second this runs.
                .args(&scram_args)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            // One node: a dynamic quorum of itself. More: the static voters above.
            if nodes == 1 {
                format.arg("--standalone");
            }
            formats.push(
                format
                    .spawn()
                    .with_context(|| format!("running {java} (is Java 17 installed?)"))?,
            );
            prepared.push((node_dir, data, properties, log_file, log4j));
        }
        for format in formats {
            let output = format.wait_with_output()?;
            if !output.status.success() {
                bail!(
                    "formatting Kafka storage failed ({}): {}{}",
                    output.status,
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                );
            }
        }

        let mut running = Vec::new();
        for ((node_dir, data, properties, log_file, log4j), ((port, _), internal_port)) in
            prepared.into_iter().zip(ports.iter().zip(&internal_ports))
        {
            let wrapper = node_dir.join("run-broker.sh");
            fs::write(&wrapper, WRAPPER)?;
            let mut args: Vec<std::ffi::OsString> = vec![wrapper.into(), java.clone().into()];
            args.extend(jvm_options(&log4j, &classpath).into_iter().map(Into::into));
            args.push("kafka.Kafka".into());
            args.push(properties.into());
            let launch = Launch {
                args,
                data,
                out: node_dir.join("broker.out"),
            };
            let (child, lifeline) = launch.spawn()?;
            running.push(Node {
                port: *port,
                internal_port: *internal_port,
                dir: node_dir,
                log_file,
                child: Some(child),
                _lifeline: lifeline,
                launch,
            });
        }
        let mut broker = Self {
            bootstrap_servers: ports
                .iter()
                .map(|(port, _)| format!("127.0.0.1:{port}"))
                .collect::<Vec<_>>()
                .join(","),
            dir: dir.to_path_buf(),
            log_file: running[0].log_file.clone(),
            nodes: Mutex::new(running),
            replication: i32::try_from(nodes.min(3))?,
            pki,
            secrets,
            start_time: Duration::ZERO,
        };
        broker.wait_ready(started + READY_TIMEOUT, nodes)?;
        broker.start_time = started.elapsed();
        Ok(broker)
    }

    fn wait_ready(&self, deadline: Instant, nodes: usize) -> anyhow::Result<()> {
        // First the listeners (cheap), then a metadata round trip through librdkafka.
        let ports: Vec<u16> = self
            .nodes
            .lock()
            .map_err(|_| anyhow::anyhow!("the Kafka node list is poisoned (a thread panicked)"))?
            .iter()
            .map(|n| n.port)
            .collect();
        for port in ports {
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            loop {
                self.check_alive()?;
                if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                    break;
                }
                if Instant::now() > deadline {
                    bail!(
                        "the Kafka broker did not listen on {addr} in time; see {}",
                        self.dir.display()
                    );
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        let consumer: BaseConsumer = self
            .connection(ADMIN)?
            .client_config()
            .set("reconnect.backoff.max.ms", "500")
            .create()?;
        loop {
            self.check_alive()?;
            match consumer.fetch_metadata(None, Duration::from_secs(2)) {
                Ok(metadata) if metadata.brokers().len() >= nodes => return Ok(()),
                Ok(_) | Err(_) if Instant::now() > deadline => {
                    bail!(
                        "the Kafka cluster at {} does not answer metadata with {nodes} brokers; see {}",
                        self.bootstrap_servers,
                        self.dir.display()
                    )
                }
                Ok(_) | Err(_) => {}
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn check_alive(&self) -> anyhow::Result<()> {
        let mut nodes = self
            .nodes
            .lock()
            .map_err(|_| anyhow::anyhow!("the Kafka node list is poisoned (a thread panicked)"))?;
        for node in nodes.iter_mut() {
            if let Some(child) = node.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                bail!(
                    "a Kafka broker exited ({status}) while starting; last lines of {}:\n{}",
                    node.log_file.display(),
                    tail(&node.log_file, 20)
                );
            }
        }
        Ok(())
    }

    /// Where clients connect.
    pub fn bootstrap_servers(&self) -> &str {
        &self.bootstrap_servers
    }

    /// The CA clients verify the brokers' certificates with.
    pub fn ca_file(&self) -> &Path {
        &self.pki.ca_file
    }

    /// The file holding `principal`'s SCRAM password.
    pub fn password_file(&self, principal: &str) -> PathBuf {
        self.secrets.join(format!("{principal}.password"))
    }

    /// A SASL_SSL connection as `principal` (`admin` or a service).
    pub fn connection(&self, principal: &str) -> anyhow::Result<Connection> {
        let file = self.password_file(principal);
        let password = fs::read_to_string(&file).with_context(|| {
            format!("no Kafka credentials for {principal} ({})", file.display())
        })?;
        Ok(Connection {
            bootstrap_servers: self.bootstrap_servers.clone(),
            security: Security::sasl_ssl(
                principal,
                Secret::new(password.trim_end()),
                Some(self.pki.ca_file.clone()),
            ),
        })
    }

    /// What a service process needs to connect as `service` (`KAFKA_*`; the password by
    /// file, never in the environment).
    pub fn service_env(&self, service: &str) -> Vec<(String, String)> {
        vec![
            ("KAFKA_SECURITY_PROTOCOL".into(), "sasl_ssl".into()),
            ("KAFKA_SASL_MECHANISM".into(), "SCRAM-SHA-512".into()),
            ("KAFKA_SASL_USERNAME".into(), service.into()),
            (
                "KAFKA_SASL_PASSWORD_FILE".into(),
                self.password_file(service).display().to_string(),
            ),
            (
                "KAFKA_SSL_CA_FILE".into(),
                self.pki.ca_file.display().to_string(),
            ),
        ]
    }

    /// Creates `rules` (ALLOW ACLs) through the first node's mutual-TLS listener as the
    /// admin, then waits until every node enforces them (the first rule's principal sees
    /// its first topic). Blocking.
    pub fn grant(&self, rules: &[kit::events::AclRule]) -> anyhow::Result<()> {
        let ports: Vec<(u16, u16)> = self
            .nodes
            .lock()
            .map_err(|_| anyhow::anyhow!("the Kafka node list is poisoned (a thread panicked)"))?
            .iter()
            .map(|n| (n.internal_port, n.port))
            .collect();
        let Some((internal, _)) = ports.first() else {
            bail!("the Kafka cluster has no nodes");
        };
        crate::acl::create(*internal, &self.pki.ca_file, &self.pki.admin_file, rules)?;
        let Some(probe) = rules.iter().find(|r| {
            r.resource == kit::events::AclResource::Topic
                && r.pattern == kit::events::AclPattern::Literal
                && r.operation == kit::events::AclOperation::Describe
        }) else {
            return Ok(());
        };
        let connection = self.connection(&probe.principal)?;
        let deadline = Instant::now() + Duration::from_secs(30);
        for (_, port) in ports {
            let node: BaseConsumer = connection
                .client_config()
                .set("bootstrap.servers", format!("127.0.0.1:{port}"))
                .create()?;
            loop {
                let seen = node
                    .fetch_metadata(Some(&probe.name), Duration::from_secs(5))
                    .ok()
                    .is_some_and(|m| m.topics().iter().any(|t| t.error().is_none()));
                if seen {
                    break;
                }
                if Instant::now() > deadline {
                    bail!(
                        "the broker on port {port} does not apply the new ACLs ({} may not describe {})",
                        probe.principal,
                        probe.name
                    );
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        Ok(())
    }

    /// The (first) broker's log file.
    pub fn log_file(&self) -> &Path {
        &self.log_file
    }

    /// The cluster's directory (properties, logs, data).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Number of nodes.
    pub fn nodes(&self) -> usize {
        self.nodes.lock().map_or(0, |n| n.len())
    }

    /// Replication factor of the topics the stack creates (nodes, at most 3).
    pub fn replication(&self) -> i32 {
        self.replication
    }

    /// The process ids of the nodes' wrappers (each JVM runs under its wrapper).
    pub fn pids(&self) -> Vec<u32> {
        self.nodes.lock().map_or_else(
            |_| Vec::new(),
            |nodes| {
                nodes
                    .iter()
                    .filter_map(|n| n.child.as_ref().map(Child::id))
                    .collect()
            },
        )
    }

    /// Resident memory of the brokers' JVMs together in kB (from /proc), if it can be read.
    pub fn rss_kb(&self) -> Option<u64> {
        let nodes = self.nodes.lock().ok()?;
        let mut total = 0;
        for node in nodes.iter() {
            let pid = node.child.as_ref()?.id();
            // The JVM is the wrapper's child in the same process group.
            let children = fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).ok()?;
            total += children.split_whitespace().find_map(|child| {
                let status = fs::read_to_string(format!("/proc/{child}/status")).ok()?;
                let cmdline = fs::read_to_string(format!("/proc/{child}/cmdline")).ok()?;
                if !cmdline.contains("kafka.Kafka") {
                    return None;
                }
                status
                    .lines()
                    .find(|l| l.starts_with("VmRSS:"))?
                    .split_whitespace()
                    .nth(1)?
                    .parse::<u64>()
                    .ok()
            })?;
        }
        Some(total)
    }

    /// Creates `topics` with `partitions` partitions, replication factor
    /// [`KafkaBroker::replication`] and [`RETENTION_MS`], through the admin API; waits until
    /// every partition has a leader.
    pub async fn create_topics(&self, topics: &[String], partitions: i32) -> anyhow::Result<()> {
        let connection = self.connection(ADMIN)?;
        let admin: AdminClient<DefaultClientContext> = connection
            .client_config()
            .create()
            .context("creating a Kafka admin client")?;
        let retention = RETENTION_MS.to_string();
        let new_topics: Vec<NewTopic<'_>> = topics
            .iter()
            .map(|name| {
                NewTopic::new(name, partitions, TopicReplication::Fixed(self.replication))
                    .set("retention.ms", &retention)
            })
            .collect();
        let options = AdminOptions::new()
            .request_timeout(Some(Duration::from_secs(30)))
            .operation_timeout(Some(Duration::from_secs(30)));
        let results = admin
            .create_topics(&new_topics, &options)
            .await
            .with_context(|| format!("creating topics on {}", self.bootstrap_servers))?;
        for result in results {
            match result {
                Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((topic, code)) => bail!("could not create topic {topic}: {code}"),
            }
        }
        let topics = topics.to_vec();
        tokio::task::spawn_blocking(move || wait_for_leaders(&connection, &topics, partitions))
            .await?
    }

    /// SIGKILLs node `index` (0-based): its JVM and wrapper die at once, as in a crash;
    /// its data directory stays for [`restart_node`](Self::restart_node).
    ///
    /// # Errors
    /// No such node, or it is not running.
    pub fn kill_node(&self, index: usize) -> anyhow::Result<()> {
        let mut nodes = self
            .nodes
            .lock()
            .map_err(|_| anyhow::anyhow!("the Kafka node list is poisoned (a thread panicked)"))?;
        let node = nodes
            .get_mut(index)
            .with_context(|| format!("the cluster has no node {}", index + 1))?;
        let mut child = node
            .child
            .take()
            .with_context(|| format!("Kafka node {} is not running", index + 1))?;
        node._lifeline = None;
        // The whole process group: wrapper, JVM and the wrapper's watchdog, none of which
        // gets to clean up.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = child.wait();
        Ok(())
    }

    /// Starts node `index` again on its old port and data after
    /// [`kill_node`](Self::kill_node); blocks until the cluster lists every node again.
    ///
    /// # Errors
    /// The node is running already, or does not come back within 90 s.
    pub fn restart_node(&self, index: usize) -> anyhow::Result<()> {
        let started = Instant::now();
        let count = {
            let mut nodes = self.nodes.lock().map_err(|_| {
                anyhow::anyhow!("the Kafka node list is poisoned (a thread panicked)")
            })?;
            let count = nodes.len();
            let node = nodes
                .get_mut(index)
                .with_context(|| format!("the cluster has no node {}", index + 1))?;
            if node.child.is_some() {
                bail!("Kafka node {} is running already", index + 1);
            }
            let (child, lifeline) = node.launch.spawn()?;
            node.child = Some(child);
            node._lifeline = lifeline;
            count
        };
        self.wait_ready(started + READY_TIMEOUT, count)
    }

    fn stop_now(&self) {
        let Ok(mut nodes) = self.nodes.lock() else {
            return;
        };
        let mut children: Vec<(Child, PathBuf)> = nodes
            .iter_mut()
            .filter_map(|n| Some((n.child.take()?, n.dir.join("data"))))
            .collect();
        for (child, _) in &children {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
        }
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline
            && children
                .iter_mut()
                .any(|(c, _)| !matches!(c.try_wait(), Ok(Some(_))))
        {
            std::thread::sleep(Duration::from_millis(50));
        }
        for (mut child, data) in children {
            // Whatever is left of the group (wrapper, JVM, watchdog).
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .stderr(Stdio::null())
                .status();
            let _ = child.wait();
            let _ = fs::remove_dir_all(data);
        }
    }
}

impl Drop for KafkaBroker {
    fn drop(&mut self) {
        self.stop_now();
    }
}

fn wait_for_leaders(
    connection: &Connection,
    topics: &[String],
    partitions: i32,
) -> anyhow::Result<()> {
    let consumer: BaseConsumer = connection.client_config().create()?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let metadata = consumer.fetch_metadata(None, Duration::from_secs(5))?;
        let missing: Vec<&String> = topics
            .iter()
            .filter(|name| {
                !metadata.topics().iter().any(|t| {
                    t.name() == name.as_str()
                        && t.error().is_none()
                        && t.partitions().len() == usize::try_from(partitions).unwrap_or(0)
                        && t.partitions().iter().all(|p| p.leader() >= 0)
                })
            })
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("topics without leaders after 30 s: {missing:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `.tools/kafka/lib` of the workspace, or `COLLECTIONS_KAFKA_LIB`.
pub fn lib_dir() -> PathBuf {
    match std::env::var_os("COLLECTIONS_KAFKA_LIB") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.tools/kafka/lib"),
    }
}

fn java_binary() -> String {
    match std::env::var("JAVA_HOME") {
        Ok(home) if !home.is_empty() && Path::new(&home).join("bin/java").exists() => {
            format!("{home}/bin/java")
        }
        _ => "java".to_owned(),
    }
}

/// `count` distinct free ports on 127.0.0.1 (all bound at once, so none repeats).
fn free_ports(count: usize) -> anyhow::Result<Vec<u16>> {
    let listeners = (0..count)
        .map(|_| TcpListener::bind("127.0.0.1:0").context("finding a free port"))
        .collect::<anyhow::Result<Vec<_>>>()?;
    listeners
        .iter()
        .map(|l| Ok(l.local_addr()?.port()))
        .collect()
}

/// A Kafka cluster id: 16 random bytes, URL-safe base64 without padding (Kafka's `Uuid`),
/// not starting with '-' (it would read as an option).
fn cluster_id() -> String {
    loop {
        let id = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(uuid::Uuid::new_v4().as_bytes());
        if !id.starts_with('-') {
            return id;
        }
    }
}

fn jvm_options(log4j: &Path, classpath: &str) -> Vec<String> {
    vec![
        HEAP.to_owned(),
        "-Xms64m".to_owned(),
        // One GC thread and the client compiler: fastest start and smallest footprint on a
        // 2-core machine that also runs Postgres and five services.
        "-XX:+UseSerialGC".to_owned(),
        "-XX:TieredStopAtLevel=1".to_owned(),
        "-Djava.awt.headless=true".to_owned(),
        format!("-Dlog4j2.configurationFile={}", log4j.display()),
        "-cp".to_owned(),
        classpath.to_owned(),
    ]
}

/// Writes `contents` to a file only this user may read.
fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    Ok(())
}

/// `ports`: the clients' SASL_SSL listener, the nodes' mutual-TLS listener, the controller's.
fn server_properties(
    node_id: usize,
    [port, internal_port, controller_port]: [u16; 3],
    quorum: &str,
    data: &Path,
    nodes: usize,
    pki: &KafkaPki,
) -> String {
    let replication = nodes.min(3);
    let min_isr = replication.min(2);
    format!(
        "# Written by devstack: a node that is broker and KRaft controller ({nodes} in the cluster).
process.roles=broker,controller
node.id={node_id}
# Clients: TLS + SCRAM. Nodes and controllers: mutual TLS with the cluster's own CA.
listeners=CLIENT://127.0.0.1:{port},INTERNAL://127.0.0.1:{internal_port},CONTROLLER://127.0.0.1:{controller_port}
advertised.listeners=CLIENT://127.0.0.1:{port},INTERNAL://127.0.0.1:{internal_port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=INTERNAL
listener.security.protocol.map=CLIENT:SASL_SSL,INTERNAL:SSL,CONTROLLER:SSL
ssl.keystore.type=PEM
ssl.keystore.location={broker}
ssl.truststore.type=PEM
ssl.truststore.location={ca}
listener.name.internal.ssl.client.auth=required
listener.name.controller.ssl.client.auth=required
# A certificate's bare CN=<name> is the principal User:<name>.
ssl.principal.mapping.rules=RULE:^CN=([a-zA-Z0-9._-]+)$/$1/,DEFAULT
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.client.sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.client.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:{ADMIN};User:broker
{quorum}
log.dirs={data}
num.partitions=3
default.replication.factor={replication}
min.insync.replicas={min_isr}
offsets.topic.replication.factor={replication}
offsets.topic.num.partitions=3
transaction.state.log.replication.factor={replication}
transaction.state.log.min.isr={min_isr}
transaction.state.log.num.partitions=3
share.coordinator.state.topic.replication.factor={replication}
share.coordinator.state.topic.min.isr={min_isr}
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.retention.check.interval.ms=300000
",
        data = data.display(),
        broker = pki.broker_file.display(),
        ca = pki.ca_file.display(),
    )
}

fn log4j_properties(log_file: &Path) -> String {
    format!(
        "status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = {}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.file.ref = file
# Start-up and group membership: enough to see when the broker was ready and who joined.
logger.raft.name = kafka.server.KafkaRaftServer
logger.raft.level = info
logger.broker.name = kafka.server.BrokerServer
logger.broker.level = info
logger.groups.name = org.apache.kafka.coordinator.group
logger.groups.level = info
# Refused logins and ACL denials (one line each).
logger.authenticator.name = org.apache.kafka.common.network.Selector
logger.authenticator.level = info
logger.authorizer.name = kafka.authorizer.logger
logger.authorizer.level = info
",
        log_file.display()
    )
}

fn tail(path: &Path, lines: usize) -> String {
    let Ok(file) = fs::File::open(path) else {
        return String::new();
    };
    let all: Vec<String> = BufReader::new(file).lines().map_while(Result::ok).collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
