//! `devstack`: the whole platform on one machine, for development and demos.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use devstack::broker::{Broker, BrokerKind};
use devstack::clients::Clients;
use devstack::{Stack, StackOptions, demo};

/// Runs the collection platform locally: PostgreSQL, a Kafka-protocol broker, five services.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Print machine-readable JSON lines instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start everything and keep it running until Ctrl-C. Uses DATABASE_URL and
    /// KAFKA_BOOTSTRAP_SERVERS when set; otherwise starts a throwaway PostgreSQL cluster and
    /// an embedded broker.
    Up {
        /// Walk a demo money path through all five services and print what happened.
        #[arg(long)]
        demo: bool,
        /// Stop after the demo instead of waiting for Ctrl-C.
        #[arg(long, requires = "demo")]
        exit: bool,
        /// Listen on random ports instead of 50051..50055.
        #[arg(long)]
        random_ports: bool,
        /// Directory for service logs (default: a temporary directory).
        #[arg(long)]
        work_dir: Option<PathBuf>,
        /// Which broker to start: `embedded` (librdkafka's mock cluster in this process) or
        /// `apache-kafka` (a real single-node Apache Kafka broker; needs
        /// deploy/local/install-kafka.sh). Default: KAFKA_BOOTSTRAP_SERVERS if set, else
        /// COLLECTIONS_BROKER, else embedded.
        #[arg(long, value_parser = clap::value_parser!(BrokerKind))]
        broker: Option<BrokerKind>,
        /// Nodes of the Apache Kafka cluster (with `--broker apache-kafka`): 3 gives topics
        /// replication factor 3 and `min.insync.replicas=2`.
        #[arg(long, default_value_t = 1)]
        brokers: usize,
    },
    /// The fault harness: sends thousands of payments through the whole stack on Apache
    /// Kafka while it SIGKILLs services at random moments, stops PostgreSQL and kills a
    /// Kafka node; then checks that every payment was applied exactly once or is in the
    /// exception queue, that the money adds up and that no event was lost or dead-lettered.
    /// Exits with status 1 when a check fails. Needs deploy/local/install-kafka.sh.
    Faults {
        /// Bank lines to send (at least).
        #[arg(long, default_value_t = 20_000)]
        payments: usize,
        /// Kafka nodes: 1, or 3 (one of them is killed; topics have replication 3).
        #[arg(long, default_value_t = 1)]
        brokers: usize,
        /// Seed of the payments and of the fault schedule (a run can be repeated).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Seconds over which the files are sent and the faults injected.
        #[arg(long, default_value_t = 240)]
        storm_secs: u64,
        /// Seconds PostgreSQL stays down.
        #[arg(long, default_value_t = 90)]
        postgres_down_secs: u64,
        /// Seconds the killed Kafka node stays down.
        #[arg(long, default_value_t = 15)]
        broker_down_secs: u64,
        /// Lines per bank file.
        #[arg(long, default_value_t = 500)]
        lines_per_file: usize,
        /// Seconds the platform may take to settle after the storm.
        #[arg(long, default_value_t = 600)]
        settle_timeout_secs: u64,
        /// Directory for logs (default: a new temporary directory, kept).
        #[arg(long)]
        work_dir: Option<PathBuf>,
    },
    /// The load harness (issue 16): a whole stack on Apache Kafka and durable PostgreSQL,
    /// contracts created, then bank files sent at an offered rate (or as fast as accepted);
    /// measures contracts/s, payments/s end to end (file sent → allocation confirmed by
    /// contracts → dunning stopped) and the latency percentiles. A progress line every few
    /// seconds; `--json` prints the summary as JSON. Needs deploy/local/install-kafka.sh.
    Load {
        /// Bank lines to send (at least).
        #[arg(long, default_value_t = 10_000)]
        payments: usize,
        /// Lines per bank file.
        #[arg(long, default_value_t = 1_000)]
        lines_per_file: usize,
        /// Offered payments per second (files are sent on that schedule); without it each
        /// file is sent as soon as a slot frees.
        #[arg(long)]
        rate: Option<f64>,
        /// Files in flight at once at most.
        #[arg(long, default_value_t = 2)]
        concurrency: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Measure on PostgreSQL with fsync and synchronous_commit off (not durable).
        #[arg(long)]
        no_durable: bool,
        /// Seconds to wait for the platform after the last file.
        #[arg(long, default_value_t = 900)]
        settle_timeout_secs: u64,
        #[arg(long)]
        work_dir: Option<PathBuf>,
        /// Sign the portfolio with ImportContracts, this many signings a call (0: each
        /// with CreateCustomer and CreateContract, 32 at a time).
        #[arg(long, default_value_t = 0)]
        import_batch: usize,
    },
    /// Writes deploy/k8s/platform/kafka.yaml: the Strimzi KafkaTopics and KafkaUsers (with
    /// their ACLs) of production, from the same tables the local broker is set up from.
    K8sKafka {
        /// Where to write it (default: deploy/k8s/platform/kafka.yaml of this checkout);
        /// `-` prints it.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Host only the embedded Kafka-protocol broker (librdkafka's mock cluster) until Ctrl-C.
    Broker {
        /// Also write the bootstrap address to this file.
        #[arg(long)]
        address_file: Option<PathBuf>,
    },
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let json = cli.json;
    if let Err(error) = run(cli).await {
        if json {
            println!("{}", serde_json::json!({"error": format!("{error:#}")}));
        } else {
            eprintln!("error: {error:#}");
        }
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let json = cli.json;
    let progress = move |line: &str| {
        if json {
            println!("{}", serde_json::json!({"progress": line}));
        } else {
            println!("  {line}");
        }
    };
    match cli.command {
        Command::K8sKafka { output } => {
            let yaml = devstack::k8s::kafka_yaml();
            let path = output.unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                    .join("../..")
                    .join(devstack::k8s::KAFKA_YAML)
            });
            if path.as_os_str() == "-" {
                print!("{yaml}");
            } else {
                std::fs::write(&path, yaml)
                    .with_context(|| format!("writing {}", path.display()))?;
                progress(&format!("wrote {}", path.display()));
            }
            Ok(())
        }
        Command::Faults {
            payments,
            brokers,
            seed,
            storm_secs,
            postgres_down_secs,
            broker_down_secs,
            lines_per_file,
            settle_timeout_secs,
            work_dir,
        } => {
            if !(1..=9).contains(&brokers) || payments == 0 || lines_per_file == 0 {
                anyhow::bail!(
                    "--brokers must be 1 to 9, --payments and --lines-per-file more than 0"
                );
            }
            let secs = std::time::Duration::from_secs;
            let options = devstack::faults::FaultOptions {
                payments,
                brokers,
                seed,
                storm: secs(storm_secs),
                postgres_down: secs(postgres_down_secs),
                broker_down: secs(broker_down_secs),
                lines_per_file,
                settle_timeout: secs(settle_timeout_secs),
                work_dir,
            };
            let report = devstack::faults::run(options, progress).await?;
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                println!("\n{report}");
            }
            if !report.passed() {
                anyhow::bail!(
                    "the fault harness found lost, doubled or stuck money or events (see FAIL above; logs in {})",
                    report.logs
                );
            }
            Ok(())
        }
        Command::Load {
            payments,
            lines_per_file,
            rate,
            concurrency,
            seed,
            no_durable,
            settle_timeout_secs,
            work_dir,
            import_batch,
        } => {
            let options = devstack::load::LoadOptions {
                import_batch,
                payments,
                lines_per_file,
                rate,
                concurrency,
                seed,
                durable: !no_durable,
                settle_timeout: std::time::Duration::from_secs(settle_timeout_secs),
                work_dir,
            };
            let report = devstack::load::run(options, progress).await?;
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                println!(
                    "\nload: {} contracts at {:.0}/s{} (every service had them after {:.1} s); {} lines ({} placeable) in {} files{}\n\
                     ingested {:.0} lines/s; {} payments confirmed end to end in {:.1} s: {:.0} payments/s\n\
                     latency file sent → confirmed → dunning stopped: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms \
                     (confirmed by contracts: p50 {:.0} ms, p99 {:.0} ms)\n\
                     PostgreSQL durable: {}; logs in {}",
                    report.contracts,
                    report.contracts_per_sec,
                    if report.import_batch > 0 {
                        format!(", imported {} a call", report.import_batch)
                    } else {
                        String::new()
                    },
                    report.portfolio_settled_secs,
                    report.lines,
                    report.lines_placeable,
                    report.files,
                    report
                        .offered_per_sec
                        .map_or_else(String::new, |r| format!(", offered {r:.0}/s")),
                    report.ingested_per_sec,
                    report.confirmed,
                    report.end_to_end_secs,
                    report.payments_per_sec,
                    report.latency_p50_ms,
                    report.latency_p99_ms,
                    report.latency_max_ms,
                    report.confirm_p50_ms,
                    report.confirm_p99_ms,
                    report.durable_postgres,
                    report.logs
                );
                println!("{}", report.cpu_per_payment.describe("payment"));
                println!("{}", report.cpu_per_contract.describe("contract"));
                if !report.statements_per_payment.is_empty() {
                    let roles: Vec<String> = report
                        .statements_per_payment
                        .iter()
                        .map(|(role, n)| format!("{role} {n}"))
                        .collect();
                    println!("SQL statements per payment: {}", roles.join(", "));
                    let roles: Vec<String> = report
                        .statements_per_contract
                        .iter()
                        .map(|(role, n)| format!("{role} {n}"))
                        .collect();
                    println!("SQL statements per contract created: {}", roles.join(", "));
                    let wal = report.wal_per_payment;
                    println!(
                        "WAL per payment: {:.1} records, {:.2} full-page images, {:.0} bytes",
                        wal.records, wal.full_page_images, wal.bytes
                    );
                    println!(
                        "rows written per payment (inserted/updated (of them HOT)/deleted, indexes), most first:"
                    );
                    for t in report.rows_per_payment.iter().take(20) {
                        println!(
                            "  {:<40} {:>6.2} {:>6.2} ({:>4.2}) {:>6.2}  {} indexes",
                            t.table, t.inserted, t.updated, t.hot_updated, t.deleted, t.indexes
                        );
                    }
                    for (window, top) in [
                        ("the payments ran", &report.top_statements),
                        (
                            "the portfolio was created",
                            &report.top_statements_per_contract,
                        ),
                    ] {
                        println!(
                            "costliest statements while {window} (role, calls, total ms, mean ms):"
                        );
                        for s in top {
                            println!(
                                "  {:<22} {:>8} {:>10.0} {:>8.3}  {}",
                                s.role, s.calls, s.total_ms, s.mean_ms, s.query
                            );
                        }
                    }
                }
            }
            if report.confirmed < report.lines_placeable {
                anyhow::bail!(
                    "only {} of {} placeable payments were confirmed within the settle timeout (logs in {})",
                    report.confirmed,
                    report.lines_placeable,
                    report.logs
                );
            }
            Ok(())
        }
        Command::Broker { address_file } => {
            let broker = Broker::embedded()?;
            broker.create_topics("").await?;
            let address = broker.bootstrap_servers();
            if let Some(path) = address_file {
                std::fs::write(&path, &address)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            progress(&format!(
                "kafka: embedded broker at {address} (topics created); Ctrl-C stops it"
            ));
            kit::shutdown::os_signal().await;
            drop(broker);
            Ok(())
        }
        Command::Up {
            demo: run_demo,
            exit,
            random_ports,
            work_dir,
            broker,
            brokers,
        } => {
            if brokers != 1 && broker != Some(BrokerKind::ApacheKafka) {
                anyhow::bail!("--brokers needs --broker apache-kafka");
            }
            if !json {
                println!("Starting the collection platform…");
            }
            // collectctl and buf curl find the stack's CA and signing key here.
            let auth_dir = std::env::var_os("COLLECTIONS_AUTH_DIR")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .or_else(|| {
                    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".collections/local"))
                });
            // The demo walks one debt from reminder to court in a few business days: it runs
            // dunning's shipped compact policy (three rungs); without it the stack runs the
            // full default policy.
            let env = if run_demo {
                vec![(
                    "DUNNING_POLICY".to_owned(),
                    devstack::demo::policy_path().display().to_string(),
                )]
            } else {
                Vec::new()
            };
            let options = StackOptions {
                fixed_ports: !random_ports,
                work_dir,
                auth_dir,
                broker,
                kafka_nodes: Some(brokers),
                env,
                // The web console, signed in with the stack's demo identities (issue 17).
                console: true,
                ..StackOptions::default()
            };
            let stack = Stack::start(options, progress).await?;
            if !json {
                println!(
                    "\nThe platform is up. Service logs: {}",
                    stack.work_dir.display()
                );
                let auth = stack.auth.dir.display();
                println!("Every call needs a token (R-O3). Try:");
                println!("  export COLLECTIONS_AUTH_DIR={auth}");
                println!(
                    "  export COLLECTIONS_TOKEN=$(target/debug/collectctl auth token --role cashier --subject $USER)"
                );
                println!(
                    "  npx @bufbuild/buf curl --protocol grpc --cacert {auth}/ca.pem -H \"authorization: Bearer $COLLECTIONS_TOKEN\" --reflect-header '*' --list-methods {}",
                    stack.endpoint("contracts")?
                );
                if let Some(url) = stack.console_url() {
                    println!("Web console: {url} (choose a demo identity)");
                }
            } else {
                let endpoints: serde_json::Map<String, serde_json::Value> = devstack::SERVICES
                    .iter()
                    .filter_map(|(name, _)| {
                        Some(((*name).to_owned(), stack.endpoint(name).ok()?.into()))
                    })
                    .collect();
                println!(
                    "{}",
                    serde_json::json!({"ready": endpoints, "console": stack.console_url(), "kafka": stack.bootstrap_servers, "logs": stack.work_dir, "auth_dir": stack.auth.dir})
                );
            }
            let outcome = if run_demo {
                let mut clients = Clients::new(&stack)?;
                if !json {
                    println!("\nDemo: one money path from contract to courtroom and back");
                }
                let mut reporter = demo::Reporter::new(json);
                let walk = async {
                    devstack::access_demo::run(&stack, &mut reporter).await?;
                    let seeded = devstack::console_demo::before(&stack).await?;
                    demo::run(&mut clients, &mut reporter).await?;
                    devstack::console_demo::after(
                        &stack,
                        &seeded,
                        stack.console_url().as_deref(),
                        &mut reporter,
                    )
                    .await
                };
                let outcome = walk.await;
                if json && outcome.is_ok() {
                    println!("{}", serde_json::json!({"demo": "done"}));
                }
                outcome
            } else {
                Ok(())
            };
            if let Err(error) = &outcome {
                progress(&format!(
                    "demo failed: {error:#}; service logs are in {}",
                    stack.work_dir.display()
                ));
            }
            if !(run_demo && exit) {
                if !json {
                    println!("\nPress Ctrl-C to stop everything.");
                }
                kit::shutdown::os_signal_quiet().await;
            }
            if !json {
                println!("\nStopping…");
            }
            let unclean = stack.stop(progress);
            if !unclean.is_empty() {
                anyhow::bail!(
                    "{} service(s) did not shut down cleanly (their logs are in the stack's directory):\n{}",
                    unclean.len(),
                    unclean.join("\n")
                );
            }
            outcome
        }
    }
}
