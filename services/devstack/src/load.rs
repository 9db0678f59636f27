//! The load harness (issue 16): drives a whole stack on Apache Kafka with bank files at an
//! offered rate (or as fast as payments takes them) and measures, per payment, the time
//! from its file being sent (at an offered rate: being due) to its allocation confirmed by
//! contracts and dunning stopped for
//! the installment it paid; throughput end to end and contract creation per second.
//!
//! The plan (contracts, installments, files; about 5 % of the lines name nothing and end in
//! the exception queue) is the fault harness's, so both runs are comparable. Times are read
//! from the services' own records (`payments.reconciled_at`, dunning's `stopped` action),
//! against the moment each file was sent (or due), on one machine's clock.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use serde::Serialize;
use uuid::Uuid;

use crate::broker::BrokerKind;
use crate::clients::Clients;
use crate::faults::{self, plan};
use crate::{Stack, StackOptions, cpu, scenario};

/// What to run.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Bank lines to send (at least; rounded up to whole contracts).
    pub payments: usize,
    /// Lines per bank file.
    pub lines_per_file: usize,
    /// Offered payments per second; `None` sends the next file as soon as the previous one
    /// is accepted, `concurrency` at a time.
    pub rate: Option<f64>,
    /// Files in flight at once at most.
    pub concurrency: usize,
    /// Seed of the plan.
    pub seed: u64,
    /// PostgreSQL with durable commits (fsync, synchronous_commit on).
    pub durable: bool,
    /// Seconds to wait for the platform to confirm everything after the last file.
    pub settle_timeout: Duration,
    /// Directory for logs (default: a new temporary directory, kept).
    pub work_dir: Option<PathBuf>,
    /// Signings per ImportContracts call; 0 signs each with CreateCustomer and
    /// CreateContract, 32 at a time.
    pub import_batch: usize,
}

/// What was measured.
#[derive(Debug, Clone, Serialize)]
pub struct LoadReport {
    pub durable_postgres: bool,
    pub seed: u64,
    pub contracts: usize,
    pub contracts_per_sec: f64,
    /// Signings per ImportContracts call, 0 when each was signed alone.
    pub import_batch: usize,
    /// From the first signing until payments knew every receivable and dunning had a case
    /// for each (the daily cycle making them overdue included).
    pub portfolio_settled_secs: f64,
    pub lines: usize,
    pub lines_placeable: usize,
    pub files: usize,
    pub lines_per_file: usize,
    /// Offered payments per second, or null when sent as fast as accepted.
    pub offered_per_sec: Option<f64>,
    /// From the first file sent to the last accepted.
    pub send_secs: f64,
    /// Accepted lines per second while sending (`IngestBankFile`).
    pub ingested_per_sec: f64,
    /// Placeable lines confirmed by contracts with dunning stopped.
    pub confirmed: usize,
    /// From the first file sent to the last payment confirmed (and dunning stopped).
    pub end_to_end_secs: f64,
    /// Confirmed payments per second end to end.
    pub payments_per_sec: f64,
    /// Per payment: file sent → allocation confirmed → dunning stopped, milliseconds.
    pub latency_p50_ms: f64,
    pub latency_p99_ms: f64,
    pub latency_max_ms: f64,
    /// Per payment: file sent → allocation confirmed by contracts.
    pub confirm_p50_ms: f64,
    pub confirm_p99_ms: f64,
    /// SQL statements run per confirmed payment while sending and settling, by service role
    /// (from `pg_stat_statements`; empty when the cluster does not load it).
    pub statements_per_payment: Vec<(String, f64)>,
    /// The same while the portfolio was created (customers, contracts with 10 installments,
    /// the daily cycle that makes them overdue), per contract.
    pub statements_per_contract: Vec<(String, f64)>,
    /// The statements that took most of PostgreSQL's time in that window.
    pub top_statements: Vec<StatementCost>,
    /// The same while the portfolio was created.
    pub top_statements_per_contract: Vec<StatementCost>,
    /// WAL written per confirmed payment (`pg_stat_wal`): records, full-page images and bytes;
    /// zeros when the server does not have the view.
    pub wal_per_payment: WalWrites,
    /// Rows written (inserted, updated, deleted) per confirmed payment by table, most first,
    /// with each table's index count: every row written is also an entry in each index.
    pub rows_per_payment: Vec<TableWrites>,
    /// CPU time per confirmed payment by part of the stack (PostgreSQL, Kafka, each
    /// service, the harness), from the first file sent until everything was confirmed.
    pub cpu_per_payment: cpu::Usage,
    /// The same per contract while the portfolio was created.
    pub cpu_per_contract: cpu::Usage,
    pub logs: String,
}

/// WAL one unit of work wrote during the measured window.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct WalWrites {
    pub records: f64,
    /// Full-page images: the first change of a page after a checkpoint copies the page.
    pub full_page_images: f64,
    pub bytes: f64,
}

/// Rows one table took per unit of work during the measured window.
#[derive(Debug, Clone, Serialize)]
pub struct TableWrites {
    /// `schema.table`.
    pub table: String,
    pub inserted: f64,
    pub updated: f64,
    /// Of the updates, those that stayed on their page and wrote no index entry (HOT).
    pub hot_updated: f64,
    pub deleted: f64,
    /// Its indexes (each insert, and each update that is not HOT, writes an entry in each).
    pub indexes: i64,
}

/// What one statement cost PostgreSQL during the measured window.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct StatementCost {
    /// The service's database role.
    pub role: String,
    pub calls: i64,
    pub total_ms: f64,
    pub mean_ms: f64,
    /// The statement, shortened.
    pub query: String,
}

fn epoch_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Runs the harness on a stack of its own; `progress` gets a line every few seconds.
pub async fn run(
    options: LoadOptions,
    mut progress: impl FnMut(&str),
) -> anyhow::Result<LoadReport> {
    if options.payments == 0 || options.lines_per_file == 0 || options.concurrency == 0 {
        anyhow::bail!("--payments, --lines-per-file and --concurrency must be more than 0");
    }
    if options.rate.is_some_and(|r| !(r.is_finite() && r > 0.0)) {
        anyhow::bail!("--rate must be a positive number of payments per second");
    }
    let plan = plan::plan(options.payments, options.seed, options.lines_per_file);
    let work_dir = match &options.work_dir {
        Some(dir) => dir.clone(),
        None => tempfile::Builder::new()
            .prefix("collections-load-")
            .tempdir()?
            .keep(),
    };
    progress(&format!(
        "plan: {} contracts, {} bank lines ({} placeable) in {} files; PostgreSQL {}; logs in {}",
        plan.contracts.len(),
        plan.lines().count(),
        plan.known_lines(),
        plan.files.len(),
        if options.durable {
            "durable (fsync, synchronous_commit on)"
        } else {
            "not durable (fsync off)"
        },
        work_dir.display()
    ));
    let stack = Stack::start(
        StackOptions {
            work_dir: Some(work_dir.clone()),
            broker: Some(BrokerKind::ApacheKafka),
            durable_postgres: options.durable,
            ..StackOptions::default()
        },
        &mut progress,
    )
    .await?;
    let clients = Clients::new(&stack)?;
    let pools = faults::pools(&stack)?;
    let superuser = sqlx::PgPool::connect(&stack.superuser_url).await?;
    let profiled = profile::reset(&superuser).await;
    let roots = stack.cpu_roots();
    let cpu_before_setup = cpu::sample(&roots);
    let (created, settled) =
        faults::setup(&clients, &plan, &pools, options.import_batch, &mut progress).await?;
    let contracts_per_sec = count(plan.contracts.len()) / created.as_secs_f64().max(1e-9);
    // What creating the portfolio cost (customers, contracts, the daily cycle, every
    // service taking in their events), per contract; then a fresh window for the payments.
    let (statements_per_contract, top_statements_per_contract) = if profiled {
        profile::read(&superuser, plan.contracts.len()).await?
    } else {
        (Vec::new(), Vec::new())
    };
    let cpu_setup_done = cpu::sample(&roots);
    if profiled {
        // The setup's last writes reported before the window opens (outside both CPU
        // windows: the machine idles meanwhile).
        tokio::time::sleep(profile::STATS_FLUSH).await;
    }
    let profiled = profiled && profile::reset(&superuser).await;
    let tables_before = profile::table_writes(&superuser).await?;
    let wal_before = profile::wal(&superuser).await;
    let cpu_sending = cpu::sample(&roots);

    // Send.
    let sent_at: Arc<Mutex<HashMap<String, f64>>> = Arc::default();
    let started = Instant::now();
    let first_sent = epoch_now();
    let files: Vec<(String, Vec<u8>, usize)> = plan
        .files
        .iter()
        .map(|f| (f.name.clone(), f.content(), f.lines.len()))
        .collect();
    let slots = Arc::new(tokio::sync::Semaphore::new(options.concurrency));
    let mut sends = tokio::task::JoinSet::new();
    let mut last_report = Instant::now();
    let mut accepted = 0;
    for (i, (name, content, lines)) in files.into_iter().enumerate() {
        if let Some(rate) = options.rate {
            let due = started + Duration::from_secs_f64(count(i * options.lines_per_file) / rate);
            tokio::time::sleep_until(due.into()).await;
        }
        // At an offered rate a file's payments count from when it was due, also when the
        // stack still held the files before it and it went late: the wait is latency the
        // payer sees (no coordinated omission).
        let due = options
            .rate
            .map(|rate| first_sent + count(i * options.lines_per_file) / rate);
        let permit = slots.clone().acquire_owned().await?;
        let (mut clients, sent_at) = (clients.clone(), sent_at.clone());
        sends.spawn(async move {
            let _permit = permit;
            if let Ok(mut map) = sent_at.lock() {
                map.insert(name.clone(), due.unwrap_or_else(epoch_now));
            }
            scenario::ingest(&mut clients, &name, content)
                .await
                .map(|answer| {
                    usize::try_from(answer.lines_accepted).map_or(lines, |a| a.min(lines))
                })
        });
        while let Some(done) = sends.try_join_next() {
            accepted += done??;
        }
        if last_report.elapsed() >= Duration::from_secs(5) {
            last_report = Instant::now();
            progress(&format!(
                "{:>5.0} s: {} of {} files sent",
                started.elapsed().as_secs_f64(),
                i + 1,
                plan.files.len()
            ));
        }
    }
    while let Some(done) = sends.join_next().await {
        accepted += done??;
    }
    let send_secs = started.elapsed().as_secs_f64();
    progress(&format!(
        "{send_secs:>5.0} s: every file accepted ({accepted} lines, {:.0} lines/s); waiting for contracts and dunning",
        count(accepted) / send_secs.max(1e-9)
    ));

    // Wait until every placeable line is confirmed and dunning stopped for it.
    let payments_db = pools.get("payments").context("no payments pool")?;
    let dunning_db = pools.get("dunning").context("no dunning pool")?;
    let want = plan.known_lines();
    let deadline = Instant::now() + options.settle_timeout;
    loop {
        let (confirmed,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM payments WHERE status = 'allocated' AND reconciled_at IS NOT NULL",
        )
        .fetch_one(payments_db)
        .await?;
        let (stopped,): (i64,) =
            sqlx::query_as("SELECT count(*) FROM actions WHERE step = 'stopped'")
                .fetch_one(dunning_db)
                .await?;
        let (confirmed, stopped) = (
            usize::try_from(confirmed).unwrap_or(0),
            usize::try_from(stopped).unwrap_or(0),
        );
        if confirmed >= want && stopped >= want {
            break;
        }
        if Instant::now() > deadline {
            progress(&format!(
                "gave up waiting: {confirmed} confirmed, dunning stopped {stopped} of {want}"
            ));
            break;
        }
        if last_report.elapsed() >= Duration::from_secs(5) {
            last_report = Instant::now();
            progress(&format!(
                "{:>5.0} s: {confirmed} of {want} confirmed by contracts, dunning stopped {stopped} ({:.0}/s so far)",
                started.elapsed().as_secs_f64(),
                count(confirmed) / started.elapsed().as_secs_f64()
            ));
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let cpu_settled = cpu::sample(&roots);

    // Measure per payment.
    let confirmations: Vec<(String, f64, Vec<Uuid>)> = sqlx::query_as(
        "SELECT f.file_name, extract(epoch FROM p.reconciled_at)::float8,
                array_agg(a.receivable_id)
         FROM payments p JOIN bank_files f ON f.id = p.file_id
         JOIN allocations a ON a.payment_id = p.id AND a.status = 'applied'
         WHERE p.status = 'allocated' AND p.reconciled_at IS NOT NULL
         GROUP BY p.id, f.file_name, p.reconciled_at",
    )
    .fetch_all(payments_db)
    .await?;
    let stops: Vec<(Uuid, f64)> = sqlx::query_as(
        "SELECT unnest(receivable_ids), extract(epoch FROM recorded_at)::float8
         FROM actions WHERE step = 'stopped'",
    )
    .fetch_all(dunning_db)
    .await?;
    let stopped_at: HashMap<Uuid, f64> = stops.into_iter().collect();
    let sent_at = sent_at.lock().map(|m| m.clone()).unwrap_or_default();
    let mut confirm = Vec::with_capacity(confirmations.len());
    let mut end_to_end = Vec::with_capacity(confirmations.len());
    let mut last_done = first_sent;
    for (file, reconciled, receivables) in &confirmations {
        let Some(sent) = sent_at.get(file) else {
            continue;
        };
        let stopped = receivables
            .iter()
            .filter_map(|r| stopped_at.get(r))
            .fold(*reconciled, |a, b| a.max(*b));
        confirm.push((reconciled - sent) * 1000.0);
        end_to_end.push((stopped - sent) * 1000.0);
        last_done = last_done.max(stopped);
    }
    let end_to_end_secs = (last_done - first_sent).max(1e-9);
    let (statements_per_payment, top_statements) = if profiled {
        profile::read(&superuser, end_to_end.len()).await?
    } else {
        (Vec::new(), Vec::new())
    };
    let wal_per_payment =
        profile::wal_per_unit(wal_before, profile::wal(&superuser).await, end_to_end.len());
    let rows_per_payment = if profiled {
        tokio::time::sleep(profile::STATS_FLUSH).await;
        profile::writes_per_unit(
            &tables_before,
            &profile::table_writes(&superuser).await?,
            end_to_end.len(),
        )
    } else {
        Vec::new()
    };
    let report = LoadReport {
        durable_postgres: options.durable,
        seed: options.seed,
        contracts: plan.contracts.len(),
        contracts_per_sec: round1(contracts_per_sec),
        import_batch: options.import_batch,
        portfolio_settled_secs: round1(settled.as_secs_f64()),
        lines: plan.lines().count(),
        lines_placeable: want,
        files: plan.files.len(),
        lines_per_file: options.lines_per_file,
        offered_per_sec: options.rate,
        send_secs: round1(send_secs),
        ingested_per_sec: round1(count(accepted) / send_secs.max(1e-9)),
        confirmed: end_to_end.len(),
        end_to_end_secs: round1(end_to_end_secs),
        payments_per_sec: round1(count(end_to_end.len()) / end_to_end_secs),
        latency_p50_ms: round1(percentile(&mut end_to_end, 50.0)),
        latency_p99_ms: round1(percentile(&mut end_to_end, 99.0)),
        latency_max_ms: round1(percentile(&mut end_to_end, 100.0)),
        confirm_p50_ms: round1(percentile(&mut confirm, 50.0)),
        confirm_p99_ms: round1(percentile(&mut confirm, 99.0)),
        statements_per_payment,
        statements_per_contract,
        top_statements,
        top_statements_per_contract,
        rows_per_payment,
        wal_per_payment,
        cpu_per_payment: cpu::usage(&cpu_sending, &cpu_settled, end_to_end.len()),
        cpu_per_contract: cpu::usage(&cpu_before_setup, &cpu_setup_done, plan.contracts.len()),
        logs: work_dir.display().to_string(),
    };
    let unclean = stack.stop(&mut progress);
    if !unclean.is_empty() {
        // Each entry carries the service's log tail; the progress lines above named them.
        progress(&format!(
            "{} service(s) did not stop cleanly:\n{}",
            unclean.len(),
            unclean.join("\n")
        ));
    }
    Ok(report)
}

/// The statement profile of a run: which SQL PostgreSQL spent its time on (issue 16: find the
/// bottleneck before changing code).
mod profile {
    use std::collections::BTreeMap;

    use super::{StatementCost, TableWrites, WalWrites, count, round1};
    use crate::cpu::round2;

    /// `n` (a counter's growth over the window) per unit of work.
    fn per_unit(n: i64, units: usize) -> f64 {
        round2(count(usize::try_from(n.max(0)).unwrap_or(usize::MAX)) / count(units.max(1)))
    }

    /// The server's WAL counters so far (records, full-page images, bytes); `None` before
    /// PostgreSQL 14 or when they cannot be read. WAL is written by the backends themselves
    /// at commit, so it is read right away, with no stats flush to wait for.
    pub(super) async fn wal(db: &sqlx::PgPool) -> Option<(i64, i64, i64)> {
        sqlx::query_as("SELECT wal_records, wal_fpi, wal_bytes::int8 FROM pg_stat_wal")
            .fetch_one(db)
            .await
            .ok()
    }

    /// The WAL between two readings per unit.
    pub(super) fn wal_per_unit(
        before: Option<(i64, i64, i64)>,
        after: Option<(i64, i64, i64)>,
        units: usize,
    ) -> WalWrites {
        let (Some(b), Some(a)) = (before, after) else {
            return WalWrites::default();
        };
        let per = |n: i64| per_unit(n, units);
        WalWrites {
            records: per(a.0 - b.0),
            full_page_images: per(a.1 - b.1),
            bytes: per(a.2 - b.2),
        }
    }

    /// How long a backend may keep its table counters before reporting them when idle
    /// (PostgreSQL's `PGSTAT_IDLE_INTERVAL`, 10 s) and a margin: waited before each reading
    /// of [`table_writes`] so the writes of the window before are all counted in it.
    pub(super) const STATS_FLUSH: std::time::Duration = std::time::Duration::from_secs(11);

    /// One table's write counters at a reading.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub(super) struct Counters {
        pub(super) inserted: i64,
        pub(super) updated: i64,
        pub(super) hot_updated: i64,
        pub(super) deleted: i64,
        pub(super) indexes: i64,
    }

    /// Rows inserted, updated (HOT or not) and deleted so far and the index count, by
    /// `schema.table`, over the services' schemas.
    pub(super) async fn table_writes(
        db: &sqlx::PgPool,
    ) -> anyhow::Result<BTreeMap<String, Counters>> {
        let rows: Vec<(String, i64, i64, i64, i64, i64)> = sqlx::query_as(
            "SELECT t.schemaname || '.' || t.relname, t.n_tup_ins, t.n_tup_upd, t.n_tup_hot_upd,
                    t.n_tup_del, (SELECT count(*) FROM pg_index i WHERE i.indrelid = t.relid)
             FROM pg_stat_user_tables t WHERE t.schemaname <> 'public'",
        )
        .fetch_all(db)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(table, inserted, updated, hot_updated, deleted, indexes)| {
                    (
                        table,
                        Counters {
                            inserted,
                            updated,
                            hot_updated,
                            deleted,
                            indexes,
                        },
                    )
                },
            )
            .collect())
    }

    /// The rows written between two readings per unit, tables with any, most first.
    pub(super) fn writes_per_unit(
        before: &BTreeMap<String, Counters>,
        after: &BTreeMap<String, Counters>,
        units: usize,
    ) -> Vec<TableWrites> {
        let per = |n: i64| per_unit(n, units);
        let mut writes: Vec<(i64, TableWrites)> = after
            .iter()
            .filter_map(|(table, a)| {
                let b = before.get(table).copied().unwrap_or_default();
                let (ins, upd, del) = (
                    a.inserted - b.inserted,
                    a.updated - b.updated,
                    a.deleted - b.deleted,
                );
                (ins + upd + del > 0).then(|| {
                    (
                        ins + upd + del,
                        TableWrites {
                            table: table.clone(),
                            inserted: per(ins),
                            updated: per(upd),
                            hot_updated: per(a.hot_updated - b.hot_updated),
                            deleted: per(del),
                            indexes: a.indexes,
                        },
                    )
                })
            })
            .collect();
        writes.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.table.cmp(&b.1.table)));
        writes.into_iter().map(|(_, w)| w).collect()
    }

    /// Starts a fresh window; false when the cluster does not load `pg_stat_statements`.
    pub(super) async fn reset(db: &sqlx::PgPool) -> bool {
        let ready = sqlx::query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            .execute(db)
            .await
            .is_ok();
        ready
            && sqlx::query("SELECT pg_stat_statements_reset()")
                .execute(db)
                .await
                .is_ok()
    }

    /// Statements per unit of work (`units`: payments or contracts) by role, and the 25
    /// costliest statements, since [`reset`].
    pub(super) async fn read(
        db: &sqlx::PgPool,
        units: usize,
    ) -> anyhow::Result<(Vec<(String, f64)>, Vec<StatementCost>)> {
        let per_role: Vec<(String, i64)> = sqlx::query_as(
            "SELECT r.rolname::text, sum(s.calls)::int8
             FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid
             GROUP BY r.rolname ORDER BY 2 DESC",
        )
        .fetch_all(db)
        .await?;
        let per_payment = per_role
            .into_iter()
            .map(|(role, calls)| {
                let calls = usize::try_from(calls).unwrap_or(0);
                (role, round1(count(calls) / count(units.max(1))))
            })
            .collect();
        let top: Vec<StatementCost> = sqlx::query_as(
            "SELECT r.rolname::text AS role, s.calls,
                    round(s.total_exec_time::numeric, 1)::float8 AS total_ms,
                    round(s.mean_exec_time::numeric, 3)::float8 AS mean_ms,
                    left(regexp_replace(s.query, '\\s+', ' ', 'g'), 160) AS query
             FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid
             ORDER BY s.total_exec_time DESC LIMIT 25",
        )
        .fetch_all(db)
        .await?;
        Ok((per_payment, top))
    }
}

/// A count as a float for rates (counts here are far below 2^32).
fn count(n: usize) -> f64 {
    u32::try_from(n).map_or(f64::from(u32::MAX), f64::from)
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// The `p`-th percentile (nearest rank) of `values`; 0 when empty.
fn percentile(values: &mut [f64], p: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    // Nearest rank: the smallest rank whose share of the values reaches p.
    let n = values.len();
    let rank = (1..=n)
        .find(|r| count(*r) * 100.0 >= p * count(n))
        .unwrap_or(n);
    values[rank - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_writes_are_per_unit_most_first_and_idle_tables_left_out() {
        use profile::Counters;
        let c = |inserted, updated, hot_updated, deleted, indexes| Counters {
            inserted,
            updated,
            hot_updated,
            deleted,
            indexes,
        };
        let before: std::collections::BTreeMap<String, Counters> = [
            ("a.outbox".to_owned(), c(10, 10, 4, 0, 3)),
            ("a.idle".to_owned(), c(5, 0, 0, 0, 1)),
        ]
        .into();
        let after = [
            ("a.outbox".to_owned(), c(210, 210, 54, 0, 3)),
            ("a.idle".to_owned(), c(5, 0, 0, 0, 1)),
            ("b.new".to_owned(), c(100, 0, 0, 50, 2)),
        ]
        .into();
        let w = profile::writes_per_unit(&before, &after, 100);
        let got: Vec<(&str, f64, f64, f64, f64, i64)> = w
            .iter()
            .map(|t| {
                (
                    t.table.as_str(),
                    t.inserted,
                    t.updated,
                    t.hot_updated,
                    t.deleted,
                    t.indexes,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("a.outbox", 2.0, 2.0, 0.5, 0.0, 3),
                ("b.new", 1.0, 0.0, 0.0, 0.5, 2)
            ]
        );
        let wal = profile::wal_per_unit(Some((100, 10, 1000)), Some((1100, 60, 301_000)), 200);
        assert_eq!(
            (wal.records, wal.full_page_images, wal.bytes),
            (5.0, 0.25, 1500.0)
        );
        assert_eq!(profile::wal_per_unit(None, Some((1, 1, 1)), 1).bytes, 0.0);
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&mut v, 50.0), 50.0);
        assert_eq!(percentile(&mut v, 99.0), 99.0);
        assert_eq!(percentile(&mut v, 100.0), 100.0);
        let mut one = vec![7.0];
        assert_eq!(percentile(&mut one, 99.0), 7.0);
        assert_eq!(percentile(&mut [], 50.0), 0.0);
        let mut unsorted = vec![3.0, 1.0, 2.0];
        assert_eq!(percentile(&mut unsorted, 50.0), 2.0);
    }
}
