//! The fault harness (issue 11 item 4): thousands of payments through the whole stack on
//! real Apache Kafka while services are SIGKILLed at random moments, PostgreSQL is stopped
//! for 90 s and a Kafka node is killed and restarted; then it waits for the platform to
//! settle and checks that no money and no event was lost or counted twice
//! ([`checks::judge`]).
//!
//! The bank integration it plays does what a real one must: it sends each file until
//! payments answers, resending the same bytes after any failure (the file's fingerprint
//! makes a resend harmless, R-P2).

pub mod checks;
pub mod plan;

use std::collections::BTreeMap;
use std::str::FromStr as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use proto::contracts::v1 as contracts;

use crate::broker::{Broker, BrokerKind};
use crate::clients::Clients;
use crate::{Stack, StackOptions, scenario};
use checks::{Check, State, Totals};
use plan::{Fault, Plan, Scheduled};

/// How to run the harness.
#[derive(Debug, Clone)]
pub struct FaultOptions {
    /// Bank lines to send (at least).
    pub payments: usize,
    /// Kafka nodes (1, or 3 for the cluster variant).
    pub brokers: usize,
    /// Seed of the plan and the fault schedule.
    pub seed: u64,
    /// How long the storm of faults lasts; the files are spread over it.
    pub storm: Duration,
    /// How long PostgreSQL stays down.
    pub postgres_down: Duration,
    /// How long the killed Kafka node stays down.
    pub broker_down: Duration,
    /// Lines per bank file.
    pub lines_per_file: usize,
    /// How long the platform may take to settle after the storm.
    pub settle_timeout: Duration,
    /// Where logs go (a temporary directory when unset; kept when the run fails).
    pub work_dir: Option<std::path::PathBuf>,
}

impl Default for FaultOptions {
    fn default() -> Self {
        Self {
            payments: 20_000,
            brokers: 1,
            seed: 1,
            storm: Duration::from_secs(240),
            postgres_down: Duration::from_secs(90),
            broker_down: Duration::from_secs(15),
            lines_per_file: 500,
            settle_timeout: Duration::from_secs(600),
            work_dir: None,
        }
    }
}

/// A fault as it happened.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Injected {
    /// Seconds from the start of the storm.
    pub at_secs: f64,
    /// What.
    pub fault: String,
    /// Seconds until the part was back and serving.
    pub recovered_after_secs: f64,
}

/// What a run did and found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    /// Seed.
    pub seed: u64,
    /// Kafka nodes.
    pub brokers: usize,
    /// Contracts created.
    pub contracts: usize,
    /// Receivables created.
    pub receivables: usize,
    /// Bank lines sent.
    pub lines: usize,
    /// Bank files sent.
    pub files: usize,
    /// Times a file had to be sent again after a failure.
    pub resends: usize,
    /// Resends answered "already received" (the first attempt had committed).
    pub duplicate_files: usize,
    /// The faults.
    pub faults: Vec<Injected>,
    /// Money figures.
    pub totals: Totals,
    /// Seconds: setting up contracts; the storm (sending under faults); settling after it.
    pub setup_secs: f64,
    /// See `setup_secs`.
    pub storm_secs: f64,
    /// See `setup_secs`.
    pub settle_secs: f64,
    /// The verdicts.
    pub checks: Vec<Check>,
    /// Where the logs are.
    pub logs: String,
}

impl Report {
    /// Whether every check passed.
    #[must_use]
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "Fault harness, seed {}, {} Kafka node(s): {} bank lines in {} files, {} contracts / {} receivables",
            self.seed, self.brokers, self.lines, self.files, self.contracts, self.receivables
        )?;
        writeln!(
            f,
            "  setup {:.0} s, storm {:.0} s, settled {:.0} s after the storm; {} resends ({} answered as already received)",
            self.setup_secs, self.storm_secs, self.settle_secs, self.resends, self.duplicate_files
        )?;
        writeln!(f, "  faults ({}):", self.faults.len())?;
        for fault in &self.faults {
            writeln!(
                f,
                "    {:>6.1} s  {} (serving again after {:.1} s)",
                fault.at_secs, fault.fault, fault.recovered_after_secs
            )?;
        }
        let t = &self.totals;
        writeln!(
            f,
            "  money: received {} = applied {} + unapplied {} + refunded {}",
            t.received, t.applied, t.unapplied, t.refunded
        )?;
        writeln!(
            f,
            "  payments: {} recorded, {} applied, {} in the exception queue {:?}",
            t.payments, t.applied_payments, t.exception_payments, t.exception_kinds
        )?;
        for check in &self.checks {
            writeln!(
                f,
                "  {} {}: {}",
                if check.passed { "PASS" } else { "FAIL" },
                check.name,
                check.detail
            )?;
        }
        write!(f, "  logs: {}", self.logs)
    }
}

/// Runs the harness; `progress` gets a line for every step and every 10 s.
///
/// # Errors
/// When the stack cannot start, the setup fails, or a killed part does not come back. A run
/// whose checks fail is not an error: see [`Report::passed`].
pub async fn run(options: FaultOptions, mut progress: impl FnMut(&str)) -> anyhow::Result<Report> {
    let plan = plan::plan(options.payments, options.seed, options.lines_per_file);
    let schedule = plan::schedule(
        options.storm,
        options.seed,
        options.brokers,
        options.postgres_down,
        options.broker_down,
    );
    let work_dir = match &options.work_dir {
        Some(dir) => dir.clone(),
        None => tempfile::Builder::new()
            .prefix("collections-faults-")
            .tempdir()?
            .keep(),
    };
    progress(&format!(
        "plan: {} contracts, {} bank lines ({} unplaceable) in {} files, {} faults over {} s; logs in {}",
        plan.contracts.len(),
        plan.lines().count(),
        plan.unknown_lines(),
        plan.files.len(),
        schedule.len(),
        options.storm.as_secs(),
        work_dir.display()
    ));
    let mut stack = Stack::start(
        StackOptions {
            work_dir: Some(work_dir.clone()),
            broker: Some(BrokerKind::ApacheKafka),
            kafka_nodes: Some(options.brokers),
            ..StackOptions::default()
        },
        &mut progress,
    )
    .await?;
    let clients = Clients::new(&stack)?;
    let pools = pools(&stack)?;

    let setup_started = Instant::now();
    setup(&clients, &plan, &pools, 0, &mut progress).await?;
    let setup_secs = setup_started.elapsed().as_secs_f64();

    let storm_started = Instant::now();
    let sender = Sender::start(clients.clone(), &plan, options.storm);
    let faults = storm(
        &mut stack,
        &schedule,
        storm_started,
        &sender,
        options.seed,
        &mut progress,
    )
    .await?;
    while !sender.finished() {
        tokio::time::sleep(Duration::from_millis(500)).await;
        report_sending(&sender, storm_started, &mut progress);
    }
    let storm_secs = storm_started.elapsed().as_secs_f64();
    progress(&format!(
        "storm over after {storm_secs:.0} s: every file accepted; waiting for the platform to settle"
    ));

    let settle_started = Instant::now();
    let (checks, totals) =
        settle(&stack, &plan, &pools, options.settle_timeout, &mut progress).await;
    let settle_secs = settle_started.elapsed().as_secs_f64();
    let report = Report {
        seed: options.seed,
        brokers: options.brokers,
        contracts: plan.contracts.len(),
        receivables: plan.contracts.len() * plan::INSTALLMENTS as usize,
        lines: plan.lines().count(),
        files: plan.files.len(),
        resends: sender.state.resends.load(Ordering::Relaxed),
        duplicate_files: sender.state.duplicates.load(Ordering::Relaxed),
        faults,
        totals,
        setup_secs,
        storm_secs,
        settle_secs,
        checks,
        logs: work_dir.display().to_string(),
    };
    let unclean = stack.stop(&mut progress);
    if !unclean.is_empty() {
        progress(&format!("did not stop cleanly: {}", unclean.join(", ")));
    }
    Ok(report)
}

pub(crate) fn pools(stack: &Stack) -> anyhow::Result<BTreeMap<String, PgPool>> {
    stack
        .database_urls
        .iter()
        .map(|(service, url)| {
            // Each service's role, in its own schema (named after the service).
            let options = PgConnectOptions::from_str(url)
                .with_context(|| format!("database URL of {service}"))?
                .options([("search_path", service.as_str())]);
            let pool = PgPoolOptions::new()
                .max_connections(2)
                .acquire_timeout(Duration::from_secs(5))
                .connect_lazy_with(options);
            Ok((service.clone(), pool))
        })
        .collect()
}

/// Creates the customers and contracts (8 at a time), runs the daily cycle that makes
/// every installment overdue, and waits until payments knows every receivable and dunning
/// has them all: the storm starts on a platform at rest. Returns how long creating the
/// contracts took and how long until every service had them (the daily cycle included).
pub(crate) async fn setup(
    clients: &Clients,
    plan: &Plan,
    pools: &BTreeMap<String, PgPool>,
    import_batch: usize,
    progress: &mut impl FnMut(&str),
) -> anyhow::Result<(Duration, Duration)> {
    let started = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let contracts = Arc::new(plan.contracts.clone());
    let mut workers = tokio::task::JoinSet::new();
    if import_batch > 0 {
        // ImportContracts: the signings of an opening day sent as a sales system would,
        // `import_batch` a call, two calls at a time.
        let batches: Arc<Vec<Vec<plan::PlannedContract>>> = Arc::new(
            plan.contracts
                .chunks(import_batch)
                .map(<[plan::PlannedContract]>::to_vec)
                .collect(),
        );
        let next_batch = Arc::new(AtomicUsize::new(0));
        for _ in 0..2 {
            let (next, next_batch, batches, mut clients) = (
                next.clone(),
                next_batch.clone(),
                batches.clone(),
                clients.clone(),
            );
            workers.spawn(async move {
                loop {
                    let b = next_batch.fetch_add(1, Ordering::Relaxed);
                    let Some(batch) = batches.get(b) else {
                        return anyhow::Ok(());
                    };
                    import_signings(&mut clients, &format!("load-import-{b}"), batch).await?;
                    next.fetch_add(batch.len(), Ordering::Relaxed);
                }
            });
        }
    }
    // Signing comes in bursts (R-O5: 500 customers at once on an opening day): 32 at a time.
    for _ in 0..if import_batch > 0 { 0 } else { 32 } {
        let (next, contracts, mut clients) = (next.clone(), contracts.clone(), clients.clone());
        workers.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(c) = contracts.get(i) else {
                    return anyhow::Ok(());
                };
                let customer = scenario::create_customer(&mut clients, &c.customer).await?;
                let amount = c.installment.to_string();
                let dues = due_dates();
                let installments: Vec<(&str, &str)> =
                    dues.iter().map(|d| (amount.as_str(), d.as_str())).collect();
                scenario::create_contract(&mut clients, &customer, &c.contract_no, &installments)
                    .await?;
            }
        });
    }
    let mut last = Instant::now();
    while !workers.is_empty() {
        tokio::select! {
            joined = workers.join_next() => {
                if let Some(result) = joined {
                    result??;
                }
            }
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
        if last.elapsed() >= Duration::from_secs(10) {
            last = Instant::now();
            progress(&format!(
                "setup: {} of {} contracts created",
                next.load(Ordering::Relaxed).min(plan.contracts.len()),
                plan.contracts.len()
            ));
        }
    }
    let created = started.elapsed();
    progress(&format!(
        "setup: {} contracts created in {:.0} s",
        plan.contracts.len(),
        created.as_secs_f32()
    ));
    let mut c = clients.clone();
    let cycle = scenario::run_cycle(&mut c, plan::CYCLE_DATE).await?;
    progress(&format!(
        "setup: daily cycle {}: {:?}",
        plan::CYCLE_DATE,
        cycle_summary(&cycle)
    ));
    let receivables = plan.contracts.len() * plan::INSTALLMENTS as usize;
    let payments = pools.get("payments").context("no payments pool")?;
    let dunning = pools.get("dunning").context("no dunning pool")?;
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let (known,): (i64,) = sqlx::query_as("SELECT count(*) FROM open_receivables")
            .fetch_one(payments)
            .await?;
        let (dunned,): (i64,) =
            sqlx::query_as("SELECT count(DISTINCT receivable_id) FROM case_items")
                .fetch_one(dunning)
                .await?;
        // Dunning's ladder of the day has run (its chunks lock the cases a payment stops
        // dunning for: payments measured while it runs would measure the ladder too).
        let ladder: Option<String> =
            sqlx::query_scalar("SELECT status FROM ladder_days WHERE business_date = $1::date")
                .bind(plan::CYCLE_DATE)
                .fetch_optional(dunning)
                .await?;
        let done = usize::try_from(known).unwrap_or(0) >= receivables
            && usize::try_from(dunned).unwrap_or(0) >= receivables
            && ladder.as_deref() == Some("done");
        if done {
            progress(&format!(
                "setup: payments knows all {receivables} receivables, dunning has them and ran the day's ladder, {:.0} s after the start",
                started.elapsed().as_secs_f32()
            ));
            return Ok((created, started.elapsed()));
        }
        if Instant::now() > deadline {
            anyhow::bail!(
                "setup: after 600 s payments knows {known} and dunning {dunned} of {receivables} receivables, dunning's ladder of {} is {}; see the service logs",
                plan::CYCLE_DATE,
                ladder.as_deref().unwrap_or("not started")
            );
        }
        if last.elapsed() >= Duration::from_secs(10) {
            last = Instant::now();
            progress(&format!(
                "setup: payments knows {known}, dunning {dunned} of {receivables} receivables; dunning's ladder {}",
                ladder.as_deref().unwrap_or("not started")
            ));
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// The due dates of every planned contract's installments.
fn due_dates() -> Vec<String> {
    (0..plan::INSTALLMENTS)
        .map(|k| {
            let (y, m, d) = plan::FIRST_DUE;
            format!("{y:04}-{m:02}-{:02}", d + k)
        })
        .collect()
}

/// Signs `batch` with one ImportContracts call: each a new customer and their contract, as
/// [`scenario::create_customer`] and [`scenario::create_contract`] sign them one by one.
async fn import_signings(
    clients: &mut Clients,
    key: &str,
    batch: &[plan::PlannedContract],
) -> anyhow::Result<()> {
    let dues = due_dates();
    let signings = batch
        .iter()
        .map(|c| contracts::ImportedSigning {
            customer: Some(contracts::CreateCustomerRequest {
                name: c.customer.clone(),
                kind: contracts::CustomerKind::Person as i32,
                ..Default::default()
            }),
            contract: Some(contracts::CreateContractRequest {
                contract_no: c.contract_no.clone(),
                currency: "CNY".to_owned(),
                installments: dues
                    .iter()
                    .map(|due| contracts::Installment {
                        amount: c.installment.to_string(),
                        due_date: due.clone(),
                        ..Default::default()
                    })
                    .collect(),
                escrow_account: scenario::ESCROW_ACCOUNT.to_owned(),
                ..Default::default()
            }),
            customer_of: 0,
        })
        .collect();
    clients
        .contracts
        .import_contracts(contracts::ImportContractsRequest {
            idempotency_key: key.to_owned(),
            signings,
        })
        .await
        .context("ImportContracts")?;
    Ok(())
}

fn cycle_summary(cycle: &contracts::RunDailyCycleResponse) -> String {
    format!("{cycle:?}").chars().take(200).collect()
}

#[derive(Debug, Default)]
struct SenderState {
    files_sent: AtomicUsize,
    lines_sent: AtomicUsize,
    resends: AtomicUsize,
    duplicates: AtomicUsize,
    finished: AtomicBool,
    /// Set while a file is on its way to payments.
    in_flight: AtomicBool,
    last_error: std::sync::Mutex<String>,
}

/// The bank integration: sends the files spread evenly over the storm, each until payments
/// accepts it.
struct Sender {
    state: Arc<SenderState>,
    files: usize,
    /// When progress was last printed (every 10 s at most).
    last_report: std::sync::Mutex<Option<Instant>>,
}

impl Sender {
    fn start(mut clients: Clients, plan: &Plan, storm: Duration) -> Self {
        let state = Arc::new(SenderState::default());
        let files: Vec<(String, Vec<u8>, usize)> = plan
            .files
            .iter()
            .map(|f| (f.name.clone(), f.content(), f.lines.len()))
            .collect();
        let count = files.len();
        let spacing = storm / u32::try_from(count.max(1)).unwrap_or(u32::MAX);
        let shared = state.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            for (i, (name, content, lines)) in files.into_iter().enumerate() {
                let due = started + spacing * u32::try_from(i).unwrap_or(u32::MAX);
                tokio::time::sleep_until(due.into()).await;
                let mut attempts = 0;
                loop {
                    attempts += 1;
                    if attempts > 1 {
                        shared.resends.fetch_add(1, Ordering::Relaxed);
                    }
                    shared.in_flight.store(true, Ordering::Release);
                    let answer = scenario::ingest(&mut clients, &name, content.clone()).await;
                    shared.in_flight.store(false, Ordering::Release);
                    match answer {
                        Ok(answer) => {
                            if answer.duplicate_file {
                                shared.duplicates.fetch_add(1, Ordering::Relaxed);
                            }
                            break;
                        }
                        Err(error) => {
                            if let Ok(mut last) = shared.last_error.lock() {
                                *last = format!("{name}: {error:#}");
                            }
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                    }
                }
                shared.files_sent.fetch_add(1, Ordering::Relaxed);
                shared.lines_sent.fetch_add(lines, Ordering::Relaxed);
            }
            shared.finished.store(true, Ordering::Release);
        });
        Self {
            state,
            files: count,
            last_report: std::sync::Mutex::new(None),
        }
    }

    fn finished(&self) -> bool {
        self.state.finished.load(Ordering::Acquire)
    }
}

fn report_sending(sender: &Sender, started: Instant, progress: &mut impl FnMut(&str)) {
    let Ok(mut last) = sender.last_report.lock() else {
        return;
    };
    if last.is_some_and(|t| t.elapsed() < Duration::from_secs(10)) {
        return;
    }
    *last = Some(Instant::now());
    let s = &sender.state;
    let error = s.last_error.lock().map(|e| e.clone()).unwrap_or_default();
    progress(&format!(
        "{:>5.0} s: {} of {} files accepted ({} lines), {} resends{}",
        started.elapsed().as_secs_f32(),
        s.files_sent.load(Ordering::Relaxed),
        sender.files,
        s.lines_sent.load(Ordering::Relaxed),
        s.resends.load(Ordering::Relaxed),
        if error.is_empty() {
            String::new()
        } else {
            format!(
                "; last refusal: {}",
                error.chars().take(160).collect::<String>()
            )
        }
    ));
}

/// Injects the faults at their times (each after the previous one is over).
async fn storm(
    stack: &mut Stack,
    schedule: &[Scheduled],
    started: Instant,
    sender: &Sender,
    seed: u64,
    progress: &mut impl FnMut(&str),
) -> anyhow::Result<Vec<Injected>> {
    let mut rng = plan::Rng::new(seed ^ 0x00C0_FFEE);
    let mut done = Vec::new();
    for scheduled in schedule {
        while started.elapsed() < scheduled.at {
            report_sending(sender, started, progress);
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let at = started.elapsed();
        progress(&format!(
            "{:>5.0} s: fault: {}",
            at.as_secs_f32(),
            scheduled.fault
        ));
        let began = Instant::now();
        match &scheduled.fault {
            Fault::KillService { service, down } => {
                if *service == "payments" {
                    // Kill it in the middle of taking a file, when possible: the bank
                    // integration then does not know whether the file was stored and sends
                    // it again (R-P2).
                    let wait_until = Instant::now() + Duration::from_secs(10);
                    while !sender.state.in_flight.load(Ordering::Acquire)
                        && Instant::now() < wait_until
                        && !sender.finished()
                    {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    tokio::time::sleep(
                        rng.between(Duration::from_millis(20), Duration::from_millis(500)),
                    )
                    .await;
                }
                stack.kill(service)?;
                tokio::time::sleep(*down).await;
                stack
                    .restart(service)
                    .await
                    .with_context(|| format!("{service} did not start again after SIGKILL"))?;
            }
            Fault::PostgresOutage { down } => {
                stack.stop_postgres()?;
                let until = Instant::now() + *down;
                while Instant::now() < until {
                    report_sending(sender, started, progress);
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                stack.start_postgres()?;
            }
            Fault::BrokerOutage { node, down } => {
                let Broker::ApacheKafka(kafka) = stack.broker() else {
                    anyhow::bail!("the fault harness needs Apache Kafka");
                };
                let kafka = kafka.clone();
                kafka.kill_node(*node)?;
                let until = Instant::now() + *down;
                while Instant::now() < until {
                    report_sending(sender, started, progress);
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                let node = *node;
                tokio::task::spawn_blocking(move || kafka.restart_node(node)).await??;
            }
        }
        let recovered = began.elapsed();
        progress(&format!(
            "{:>5.0} s: back after {:.1} s",
            started.elapsed().as_secs_f32(),
            recovered.as_secs_f32()
        ));
        done.push(Injected {
            at_secs: at.as_secs_f64(),
            fault: scheduled.fault.to_string(),
            recovered_after_secs: recovered.as_secs_f64(),
        });
    }
    Ok(done)
}

/// Waits until every check passes or `timeout` ends; returns the last verdicts.
async fn settle(
    stack: &Stack,
    plan: &Plan,
    pools: &BTreeMap<String, PgPool>,
    timeout: Duration,
    progress: &mut impl FnMut(&str),
) -> (Vec<Check>, Totals) {
    let started = Instant::now();
    let mut last_report = Instant::now();
    loop {
        let verdict = match State::load(pools).await {
            Ok(mut state) => match dead_letter_messages(stack) {
                Ok(messages) => {
                    state.dead_letter_messages = messages;
                    Some(checks::judge(plan, &state))
                }
                Err(error) => {
                    progress(&format!(
                        "settle: cannot read the dead-letter topics: {error:#}"
                    ));
                    None
                }
            },
            Err(error) => {
                progress(&format!("settle: cannot read the databases yet: {error:#}"));
                None
            }
        };
        if let Some((checks, totals)) = verdict {
            let failing: Vec<&Check> = checks.iter().filter(|c| !c.passed).collect();
            if failing.is_empty() || started.elapsed() > timeout {
                return (checks, totals);
            }
            if last_report.elapsed() >= Duration::from_secs(15) {
                last_report = Instant::now();
                progress(&format!(
                    "settle: {:.0} s, waiting for: {}",
                    started.elapsed().as_secs_f32(),
                    failing
                        .iter()
                        .map(|c| format!("{} ({})", c.name, c.detail))
                        .collect::<Vec<_>>()
                        .join("; ")
                ));
            }
        } else if started.elapsed() > timeout {
            return (
                vec![Check {
                    name: "the platform's state can be read",
                    passed: false,
                    detail: "the databases or the broker did not answer before the timeout".into(),
                }],
                Totals::default(),
            );
        }
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
}

/// Messages on each service's dead-letter topic (sum of the partitions' high watermarks).
fn dead_letter_messages(stack: &Stack) -> anyhow::Result<BTreeMap<String, i64>> {
    let consumer: BaseConsumer = stack
        .kafka
        .client_config()
        .set("group.id", "fault-harness-inspector")
        .create()
        .context("creating a Kafka client to read the dead-letter topics")?;
    let mut out = BTreeMap::new();
    for service in kit::events::CONSUMING_SERVICES {
        let topic = format!(
            "{}{}",
            stack.topic_prefix,
            kit::events::dead_letter_topic(service)
        );
        let metadata = consumer.fetch_metadata(Some(&topic), Duration::from_secs(10))?;
        let partitions = metadata
            .topics()
            .first()
            .map(|t| t.partitions().len())
            .unwrap_or_default();
        let mut total = 0;
        for partition in 0..partitions {
            let (low, high) = consumer.fetch_watermarks(
                &topic,
                i32::try_from(partition)?,
                Duration::from_secs(10),
            )?;
            total += high - low;
        }
        out.insert(topic, total);
    }
    Ok(out)
}
