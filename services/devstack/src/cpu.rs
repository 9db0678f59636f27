//! CPU time by part of the stack, read from `/proc` (issue 16): what a payment costs the
//! machine in each process (PostgreSQL with its backends, the Kafka broker, every service,
//! the harness itself), and how busy the machine was. On a machine whose cores are saturated
//! the sum is what limits throughput: `cores × 1000 / (CPU ms per payment)` payments a second
//! at most.
//!
//! A part is a process and everything below it (a PostgreSQL server's backends, the Kafka
//! wrapper's JVM). Times of processes that ended inside a window are counted through their
//! parent's `cutime`/`cstime`, so backends that come and go are not lost.

use std::collections::{BTreeMap, HashMap};
use std::fs;

/// Clock ticks per second of the times in `/proc/<pid>/stat` and `/proc/stat` (`USER_HZ`,
/// which the kernel's ABI fixes at 100 on x86-64 and arm64).
const TICKS_PER_SEC: f64 = 100.0;

/// A reading of every part's CPU time and of the machine's.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    /// Ticks by part name since each part's start.
    parts: BTreeMap<String, u64>,
    /// The `postgres` part by kind of process ([`postgres_kind`]).
    postgres: BTreeMap<String, u64>,
    /// The machine's ticks: (busy, idle, steal) over all cores since boot.
    machine: (u64, u64, u64),
}

/// One process as `/proc/<pid>/stat` tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stat {
    ppid: u32,
    /// utime + stime + cutime + cstime.
    ticks: u64,
}

/// Parses a `/proc/<pid>/stat` line; `None` when it is not one. The command name (field 2)
/// is in parentheses and may hold spaces or parentheses itself, so fields are counted from
/// its last `)`.
fn parse_stat(line: &str) -> Option<Stat> {
    let rest = &line[line.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state(3) ppid(4) … utime(14) stime(15) cutime(16) cstime(17).
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<i64>().ok());
    let ppid = u32::try_from(field(4)?).ok()?;
    let ticks = (14..=17)
        .map(|n| field(n).map(|t| u64::try_from(t).unwrap_or(0)))
        .sum::<Option<u64>>()?;
    Some(Stat { ppid, ticks })
}

/// Parses the `cpu` line of `/proc/stat` into (busy, idle, steal) ticks; `None` when
/// absent.
fn parse_machine(proc_stat: &str) -> Option<(u64, u64, u64)> {
    let line = proc_stat.lines().find(|l| l.starts_with("cpu "))?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    // user nice system idle iowait irq softirq steal (guest times are inside user).
    let at = |i: usize| v.get(i).copied().unwrap_or(0);
    let idle = at(3) + at(4);
    let steal = at(7);
    let busy = at(0) + at(1) + at(2) + at(5) + at(6);
    Some((busy, idle, steal))
}

/// The part of each process: its nearest ancestor among `roots` (itself included);
/// processes under no root are left out.
fn attribute<'a>(procs: &HashMap<u32, Stat>, roots: &'a [(String, u32)]) -> HashMap<u32, &'a str> {
    let by_pid: HashMap<u32, &str> = roots.iter().map(|(n, p)| (*p, n.as_str())).collect();
    let mut of = HashMap::new();
    for pid in procs.keys() {
        let mut at = *pid;
        // A chain deeper than this is a loop in a racing read; such a process is skipped.
        for _ in 0..64 {
            if let Some(name) = by_pid.get(&at) {
                of.insert(*pid, *name);
                break;
            }
            match procs.get(&at) {
                Some(s) if s.ppid != 0 && s.ppid != at => at = s.ppid,
                _ => break,
            }
        }
    }
    of
}

/// Each part's ticks (every root named, with 0 when nothing of it runs).
fn sum_parts(
    procs: &HashMap<u32, Stat>,
    roots: &[(String, u32)],
    of: &HashMap<u32, &str>,
) -> BTreeMap<String, u64> {
    let mut parts: BTreeMap<String, u64> = roots.iter().map(|(n, _)| (n.clone(), 0)).collect();
    for (pid, part) in of {
        if let Some(stat) = procs.get(pid) {
            *parts.entry((*part).to_owned()).or_default() += stat.ticks;
        }
    }
    parts
}

/// What a PostgreSQL server process is, from the title it sets (`postgres: <what> …`): a
/// backend by its role (a service's: `collections_payments` → `payments`), a background
/// process by its name; the server itself (`postmaster`) holds the processes that ended,
/// mostly autovacuum workers and closed connections.
fn postgres_kind(cmdline: &str) -> String {
    let Some(title) = cmdline.strip_prefix("postgres: ") else {
        return "postmaster".to_owned();
    };
    let mut words = title.split_whitespace();
    match words.next().unwrap_or_default() {
        "autovacuum" => "autovacuum".to_owned(),
        "walwriter" | "checkpointer" | "background" | "walsender" | "walsummarizer" => {
            "wal+checkpoints".to_owned()
        }
        role => match role.strip_prefix("collections_") {
            Some(service) => service.to_owned(),
            None => "other".to_owned(),
        },
    }
}

/// Reads every process and the machine now; `roots` names the parts by their top process.
pub fn sample(roots: &[(String, u32)]) -> Sample {
    let mut procs = HashMap::new();
    if let Ok(dir) = fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            // A process may end between the listing and the read: then it is not counted
            // here, and its parent's cutime holds it at the next sample.
            if let Some(stat) = fs::read_to_string(entry.path().join("stat"))
                .ok()
                .as_deref()
                .and_then(parse_stat)
            {
                procs.insert(pid, stat);
            }
        }
    }
    let of = attribute(&procs, roots);
    let mut postgres: BTreeMap<String, u64> = BTreeMap::new();
    for (pid, part) in &of {
        if *part != "postgres" {
            continue;
        }
        let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        let ticks = procs.get(pid).map_or(0, |s| s.ticks);
        *postgres.entry(postgres_kind(cmdline.trim())).or_default() += ticks;
    }
    Sample {
        parts: sum_parts(&procs, roots, &of),
        postgres,
        machine: fs::read_to_string("/proc/stat")
            .ok()
            .as_deref()
            .and_then(parse_machine)
            .unwrap_or_default(),
    }
}

/// What a window between two samples cost, per unit of work.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Usage {
    /// CPU milliseconds per unit by part, largest first.
    pub ms_per_unit: Vec<(String, f64)>,
    /// Their sum.
    pub total_ms_per_unit: f64,
    /// PostgreSQL's part by kind of process: the backends of each service, autovacuum,
    /// the WAL writer and checkpointer, the server itself (with processes that ended).
    pub postgres_ms_per_unit: Vec<(String, f64)>,
    /// Cores of the machine.
    pub cores: usize,
    /// The machine's busy share of all its cores over the window, percent.
    pub busy_percent: f64,
    /// Time the hypervisor gave to others (steal), percent of all cores.
    pub steal_percent: f64,
    /// Units per second the machine's cores could carry at this cost if the stack had them
    /// all: cores × 1000 / total_ms_per_unit.
    pub ceiling_per_sec: f64,
}

/// The cost of the window `before` → `after` for `units` units of work.
pub fn usage(before: &Sample, after: &Sample, units: usize) -> Usage {
    let units = f64::from(u32::try_from(units.max(1)).unwrap_or(u32::MAX));
    let per_unit = |before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>| {
        let mut v: Vec<(String, f64)> = after
            .iter()
            .map(|(name, end)| {
                let start = before.get(name).copied().unwrap_or(0);
                let ms = ticks_f64(end.saturating_sub(start)) * 1000.0 / TICKS_PER_SEC;
                (name.clone(), round2(ms / units))
            })
            .collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v
    };
    let ms_per_unit = per_unit(&before.parts, &after.parts);
    let total_ms_per_unit = round2(ms_per_unit.iter().map(|(_, ms)| ms).sum());
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let (busy, idle, steal) = (
        after.machine.0.saturating_sub(before.machine.0),
        after.machine.1.saturating_sub(before.machine.1),
        after.machine.2.saturating_sub(before.machine.2),
    );
    let all = ticks_f64(busy + idle + steal).max(1.0);
    let cores_f = f64::from(u32::try_from(cores).unwrap_or(u32::MAX));
    Usage {
        ms_per_unit,
        total_ms_per_unit,
        postgres_ms_per_unit: per_unit(&before.postgres, &after.postgres),
        cores,
        busy_percent: round2(ticks_f64(busy) * 100.0 / all),
        steal_percent: round2(ticks_f64(steal) * 100.0 / all),
        ceiling_per_sec: if total_ms_per_unit > 0.0 {
            (cores_f * 1000.0 / total_ms_per_unit).round()
        } else {
            0.0
        },
    }
}

impl Usage {
    /// One line for people: `postgres 1.10 ms, kafka 0.31 ms, …`.
    pub fn describe(&self, unit: &str) -> String {
        let parts: Vec<String> = self
            .ms_per_unit
            .iter()
            .map(|(name, ms)| format!("{name} {ms:.2}"))
            .collect();
        let postgres: Vec<String> = self
            .postgres_ms_per_unit
            .iter()
            .filter(|(_, ms)| *ms > 0.0)
            .map(|(name, ms)| format!("{name} {ms:.2}"))
            .collect();
        format!(
            "CPU ms per {unit}: {} (total {:.2}: {} cores carry at most ~{:.0} {unit}s/s at this cost); machine busy {:.0} %, steal {:.0} %\n  PostgreSQL's by process: {}",
            parts.join(", "),
            self.total_ms_per_unit,
            self.cores,
            self.ceiling_per_sec,
            self.busy_percent,
            self.steal_percent,
            postgres.join(", ")
        )
    }
}

/// A window's tick count as a float (saturating at 2^32 ticks, 497 days of one core).
fn ticks_f64(ticks: u64) -> f64 {
    f64::from(u32::try_from(ticks).unwrap_or(u32::MAX))
}

/// Rounded to hundredths, for reports.
pub(crate) fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stat_line_is_read_past_a_name_with_spaces_and_parentheses() {
        let line = "4242 (tokio (x) 1) S 17 4242 4242 0 -1 4194560 100 0 0 0 \
                    250 30 7 3 20 0 12 0 900 1000 200";
        assert_eq!(
            parse_stat(line),
            Some(Stat {
                ppid: 17,
                ticks: 290
            })
        );
        assert_eq!(parse_stat("garbage"), None);
        assert_eq!(parse_stat("1 (init) S"), None);
    }

    #[test]
    fn the_machine_line_splits_busy_idle_and_steal() {
        let stat = "cpu  100 5 50 1000 20 3 2 40 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n";
        assert_eq!(parse_machine(stat), Some((160, 1020, 40)));
        assert_eq!(parse_machine("intr 1 2 3"), None);
    }

    #[test]
    fn processes_count_for_their_nearest_named_ancestor() {
        let procs: HashMap<u32, Stat> = [
            (1, Stat { ppid: 0, ticks: 9 }),
            (10, Stat { ppid: 1, ticks: 5 }),  // the harness
            (11, Stat { ppid: 10, ticks: 7 }), // a service
            (12, Stat { ppid: 11, ticks: 1 }), // a child of the service
            (20, Stat { ppid: 1, ticks: 40 }), // postmaster
            (
                21,
                Stat {
                    ppid: 20,
                    ticks: 60,
                },
            ), // a backend
            (30, Stat { ppid: 1, ticks: 99 }), // someone else's process
        ]
        .into_iter()
        .collect();
        let roots = [
            ("harness".to_owned(), 10),
            ("payments".to_owned(), 11),
            ("postgres".to_owned(), 20),
            ("kafka".to_owned(), 40),
        ];
        let of = attribute(&procs, &roots);
        assert_eq!(of.get(&12), Some(&"payments"));
        assert_eq!(of.get(&30), None);
        let parts = sum_parts(&procs, &roots, &of);
        assert_eq!(parts["harness"], 5);
        assert_eq!(parts["payments"], 8);
        assert_eq!(parts["postgres"], 100);
        assert_eq!(parts["kafka"], 0);
        assert_eq!(parts.len(), 4);
    }

    #[test]
    fn postgres_processes_are_told_apart_by_their_titles() {
        let kind = |t: &str| postgres_kind(t);
        assert_eq!(
            kind("postgres: collections_payments collections 127.0.0.1(5432) idle"),
            "payments"
        );
        assert_eq!(
            kind("postgres: autovacuum worker collections"),
            "autovacuum"
        );
        assert_eq!(kind("postgres: autovacuum launcher"), "autovacuum");
        assert_eq!(kind("postgres: walwriter"), "wal+checkpoints");
        assert_eq!(kind("postgres: background writer"), "wal+checkpoints");
        assert_eq!(
            kind("postgres: postgres postgres 127.0.0.1(1) idle"),
            "other"
        );
        assert_eq!(
            kind("/usr/lib/postgresql/17/bin/postgres -D /tmp/x"),
            "postmaster"
        );
    }

    #[test]
    fn usage_is_per_unit_with_the_ceiling_of_the_cores() {
        let before = Sample {
            parts: [("postgres".to_owned(), 100), ("payments".to_owned(), 50)].into(),
            postgres: [("payments".to_owned(), 100)].into(),
            machine: (1000, 5000, 10),
        };
        let after = Sample {
            parts: [
                ("postgres".to_owned(), 300),
                ("payments".to_owned(), 100),
                ("kafka".to_owned(), 50),
            ]
            .into(),
            postgres: [("payments".to_owned(), 250), ("autovacuum".to_owned(), 50)].into(),
            machine: (1360, 5030, 20),
        };
        // 200 + 50 + 50 ticks = 3,000 ms over 1,000 units: 3 ms each.
        let u = usage(&before, &after, 1000);
        assert_eq!(
            u.ms_per_unit,
            vec![
                ("postgres".to_owned(), 2.0),
                ("kafka".to_owned(), 0.5),
                ("payments".to_owned(), 0.5)
            ]
        );
        assert_eq!(u.total_ms_per_unit, 3.0);
        assert_eq!(
            u.postgres_ms_per_unit,
            vec![("payments".to_owned(), 1.5), ("autovacuum".to_owned(), 0.5)]
        );
        assert_eq!(u.busy_percent, 90.0);
        assert_eq!(u.steal_percent, 2.5);
        let cores = f64::from(u32::try_from(u.cores).unwrap_or(1));
        assert_eq!(u.ceiling_per_sec, (cores * 1000.0 / 3.0).round());
        assert!(
            u.describe("payment")
                .starts_with("CPU ms per payment: postgres 2.00")
        );
    }
}
