//! What the fault harness sends and which faults it injects when: pure functions of a seed,
//! so a failing run can be repeated exactly (`devstack faults --seed N`).

use std::fmt;
use std::time::Duration;

use rust_decimal::Decimal;

/// Installments per contract; each one is paid by its own bank line.
pub const INSTALLMENTS: u32 = 10;
/// Due dates of the installments: one a day from this date; the daily cycle runs on
/// [`CYCLE_DATE`], so every installment is 2–11 days overdue and in dunning, none long
/// enough to go to legal (R-D1, R-D7).
pub const FIRST_DUE: (i32, u32, u32) = (2026, 11, 1);
/// The business date of the daily cycle that makes the installments overdue.
pub const CYCLE_DATE: &str = "2026-11-12";
/// Booking date of every bank line.
pub const BOOKING_DATE: &str = "2026-11-13";

/// A small, seeded random number generator (SplitMix64): the harness needs repeatable
/// choices, not cryptographic ones, and no dependency for it.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// True with probability `percent`/100.
    pub fn percent(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// A duration between `low` and `high`.
    pub fn between(&mut self, low: Duration, high: Duration) -> Duration {
        let span = high.saturating_sub(low).as_millis().max(1);
        low + Duration::from_millis(self.below(u64::try_from(span).unwrap_or(u64::MAX)))
    }

    /// Shuffles `items` in place (Fisher–Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = usize::try_from(self.below(i as u64 + 1)).unwrap_or(0);
            items.swap(i, j);
        }
    }
}

/// A contract of the harness: one customer, [`INSTALLMENTS`] equal installments.
#[derive(Debug, Clone)]
pub struct PlannedContract {
    /// Contract number, e.g. `FH-00042`.
    pub contract_no: String,
    /// The customer's name; the bank lines name the same payer.
    pub customer: String,
    /// Amount of each installment.
    pub installment: Decimal,
    /// Which installments a bank line pays (index 0 is installment 1).
    pub paid: Vec<bool>,
}

/// One bank line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedLine {
    /// Remittance text: `<contract no>/<installment>` for a payment of one installment, an
    /// unknown reference for a payment nobody can place.
    pub reference: String,
    /// Amount.
    pub amount: Decimal,
    /// Payer name.
    pub payer: String,
    /// Whether cash application can place it (false: it must end in the exception queue).
    pub known: bool,
}

/// A bank file: a name and its lines (simple CSV, the receiving account is the escrow
/// account the contracts name).
#[derive(Debug, Clone)]
pub struct PlannedFile {
    /// File name (unique per run).
    pub name: String,
    /// Its lines.
    pub lines: Vec<PlannedLine>,
}

impl PlannedFile {
    /// The file's bytes in the simple CSV layout.
    #[must_use]
    pub fn content(&self) -> Vec<u8> {
        let mut out = String::from("date,amount,currency,payer_name,payer_account,reference\n");
        for line in &self.lines {
            out.push_str(&format!(
                "{BOOKING_DATE},{},CNY,{},,{}\n",
                line.amount, line.payer, line.reference
            ));
        }
        out.into_bytes()
    }
}

/// Everything the harness will send.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The contracts to create first.
    pub contracts: Vec<PlannedContract>,
    /// The bank files, in sending order.
    pub files: Vec<PlannedFile>,
}

impl Plan {
    /// Every line of every file.
    pub fn lines(&self) -> impl Iterator<Item = &PlannedLine> {
        self.files.iter().flat_map(|f| f.lines.iter())
    }

    /// Σ of every line's amount: what the bank says was received.
    #[must_use]
    pub fn received(&self) -> Decimal {
        self.lines().map(|l| l.amount).sum()
    }

    /// Lines cash application can place.
    #[must_use]
    pub fn known_lines(&self) -> usize {
        self.lines().filter(|l| l.known).count()
    }

    /// Lines that must end in the exception queue.
    #[must_use]
    pub fn unknown_lines(&self) -> usize {
        self.lines().filter(|l| !l.known).count()
    }
}

/// The plan for at least `payments` bank lines: about 97 % pay one installment each (by
/// contract number and installment, the customer as payer, the exact amount), about 3 %
/// carry a reference no contract has; 3 % of installments stay unpaid, so dunning keeps
/// some items. Lines are shuffled and cut into files of `lines_per_file`.
#[must_use]
pub fn plan(payments: usize, seed: u64, lines_per_file: usize) -> Plan {
    let mut rng = Rng::new(seed);
    let per_contract = INSTALLMENTS as usize;
    let count = payments.div_ceil(per_contract).max(1);
    let mut contracts = Vec::with_capacity(count);
    let mut lines = Vec::with_capacity(payments + payments / 20);
    for i in 0..count {
        // 1,000.00 to 9,999.99 with cents, so sums are not round.
        let fen = 100_000 + rng.below(900_000);
        let installment = Decimal::new(i64::try_from(fen).unwrap_or(100_000), 2);
        let contract_no = format!("FH-{:05}", i + 1);
        let customer = format!("Fault Harness Customer {:05}", i + 1);
        let paid: Vec<bool> = (0..per_contract).map(|_| !rng.percent(3)).collect();
        for (k, _) in paid.iter().enumerate().filter(|(_, p)| **p) {
            lines.push(PlannedLine {
                reference: format!("{contract_no}/{}", k + 1),
                amount: installment,
                payer: customer.clone(),
                known: true,
            });
        }
        contracts.push(PlannedContract {
            contract_no,
            customer,
            installment,
            paid,
        });
    }
    let mut unknown = 0;
    while lines.len() < payments || unknown * 100 < lines.len() * 3 {
        unknown += 1;
        let fen = 10_000 + rng.below(500_000);
        lines.push(PlannedLine {
            reference: format!("ZZ-NOBODY-{unknown:06}"),
            amount: Decimal::new(i64::try_from(fen).unwrap_or(10_000), 2),
            payer: format!("Unknown Payer {unknown:06}"),
            known: false,
        });
    }
    rng.shuffle(&mut lines);
    let files = lines
        .chunks(lines_per_file.max(1))
        .enumerate()
        .map(|(i, chunk)| PlannedFile {
            name: format!("fault-harness-{seed}-{:04}.csv", i + 1),
            lines: chunk.to_vec(),
        })
        .collect();
    Plan { contracts, files }
}

/// A fault the harness injects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// SIGKILL a service, start it again after `down`.
    KillService {
        /// Which one.
        service: &'static str,
        /// How long it stays dead.
        down: Duration,
    },
    /// Stop PostgreSQL (fast shutdown: connections cut) for `down`.
    PostgresOutage {
        /// How long.
        down: Duration,
    },
    /// SIGKILL one Kafka node (its JVM and wrapper), start it again after `down` on the same
    /// data directory.
    BrokerOutage {
        /// Which node (0-based).
        node: usize,
        /// How long.
        down: Duration,
    },
}

impl Fault {
    /// How long the fault lasts.
    #[must_use]
    pub fn duration(&self) -> Duration {
        match self {
            Self::KillService { down, .. }
            | Self::PostgresOutage { down }
            | Self::BrokerOutage { down, .. } => *down,
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::KillService { service, down } => {
                write!(
                    f,
                    "kill -9 {service}, restart after {:.1} s",
                    down.as_secs_f32()
                )
            }
            Self::PostgresOutage { down } => {
                write!(f, "PostgreSQL stopped for {} s", down.as_secs())
            }
            Self::BrokerOutage { node, down } => write!(
                f,
                "kill -9 Kafka node {}, restart after {} s",
                node + 1,
                down.as_secs()
            ),
        }
    }
}

/// A fault and when it starts, counted from the start of the storm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scheduled {
    /// Start, from the beginning of the storm.
    pub at: Duration,
    /// What.
    pub fault: Fault,
}

/// The fault schedule over a storm of `storm`: PostgreSQL down for `postgres_down` from a
/// quarter in, one Kafka node (of `nodes`) killed at 70 % for `broker_down`, and in between
/// every 5–12 s a SIGKILL of one service (every service at least once, in a shuffled
/// order, then at random), never during an outage (a service must be able to start again).
/// Faults never overlap.
#[must_use]
pub fn schedule(
    storm: Duration,
    seed: u64,
    nodes: usize,
    postgres_down: Duration,
    broker_down: Duration,
) -> Vec<Scheduled> {
    let mut rng = Rng::new(seed ^ 0x5EED_FA17);
    let mut fixed = vec![
        Scheduled {
            at: storm / 4,
            fault: Fault::PostgresOutage {
                down: postgres_down,
            },
        },
        Scheduled {
            at: (storm / 4 + postgres_down + Duration::from_secs(10)).max(storm * 7 / 10),
            fault: Fault::BrokerOutage {
                node: usize::try_from(rng.below(nodes.max(1) as u64)).unwrap_or(0),
                down: broker_down,
            },
        },
    ];
    let mut services: Vec<&'static str> = crate::SERVICES.iter().map(|(s, _)| *s).collect();
    rng.shuffle(&mut services);
    let mut out = Vec::new();
    let mut t = Duration::from_secs(5);
    let mut n = 0;
    let end = storm.max(
        fixed
            .iter()
            .map(|s| s.at + s.fault.duration())
            .max()
            .unwrap_or(storm),
    );
    while t < end {
        // Jump over an outage that would overlap this kill (with its restart time).
        let down = rng.between(Duration::from_millis(200), Duration::from_secs(3));
        let busy = fixed.iter().find(|s| {
            t < s.at + s.fault.duration() + Duration::from_secs(5)
                && s.at < t + down + Duration::from_secs(15)
        });
        if let Some(outage) = busy {
            t = outage.at + outage.fault.duration() + Duration::from_secs(5);
            continue;
        }
        let service = if n < services.len() {
            services[n]
        } else {
            let all = crate::SERVICES.len() as u64;
            crate::SERVICES[usize::try_from(rng.below(all)).unwrap_or(0)].0
        };
        n += 1;
        out.push(Scheduled {
            at: t,
            fault: Fault::KillService { service, down },
        });
        t += down + rng.between(Duration::from_secs(5), Duration::from_secs(12));
    }
    out.append(&mut fixed);
    out.sort_by_key(|s| s.at);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_has_at_least_the_lines_asked_for_with_three_percent_unknown() {
        let plan = plan(20_000, 7, 500);
        let lines = plan.lines().count();
        assert!(lines >= 20_000, "{lines}");
        assert!(plan.unknown_lines() * 100 >= lines * 3);
        assert_eq!(plan.known_lines() + plan.unknown_lines(), lines);
        assert!(plan.files.iter().all(|f| f.lines.len() <= 500));
        // Every reference is unique: no two lines look like the same payment (R-P2).
        let mut refs: Vec<&str> = plan.lines().map(|l| l.reference.as_str()).collect();
        refs.sort_unstable();
        refs.dedup();
        assert_eq!(refs.len(), lines);
        // Paid installments and known lines agree.
        let paid: usize = plan
            .contracts
            .iter()
            .map(|c| c.paid.iter().filter(|p| **p).count())
            .sum();
        assert_eq!(paid, plan.known_lines());
    }

    #[test]
    fn the_same_seed_gives_the_same_plan_and_another_seed_another() {
        let a = plan(1_000, 1, 100);
        let b = plan(1_000, 1, 100);
        let c = plan(1_000, 2, 100);
        assert_eq!(a.files[0].lines, b.files[0].lines);
        assert_eq!(a.received(), b.received());
        assert_ne!(a.received(), c.received());
    }

    #[test]
    fn a_file_is_simple_csv_with_one_row_per_line() {
        let plan = plan(30, 3, 10);
        let text = String::from_utf8(plan.files[0].content()).unwrap();
        let rows: Vec<&str> = text.lines().collect();
        assert_eq!(rows.len(), plan.files[0].lines.len() + 1);
        assert!(rows[1].starts_with(BOOKING_DATE));
        assert_eq!(rows[1].split(',').count(), 6);
    }

    #[test]
    fn faults_never_overlap_and_every_service_is_killed() {
        for seed in 0..50 {
            let storm = Duration::from_secs(240);
            let faults = schedule(
                storm,
                seed,
                3,
                Duration::from_secs(90),
                Duration::from_secs(15),
            );
            for pair in faults.windows(2) {
                assert!(
                    pair[0].at + pair[0].fault.duration() <= pair[1].at,
                    "seed {seed}: {pair:?}"
                );
            }
            for (service, _) in crate::SERVICES {
                assert!(
                    faults.iter().any(|s| s.fault
                        == Fault::KillService {
                            service,
                            down: s.fault.duration()
                        }),
                    "seed {seed}: {service} never killed"
                );
            }
            assert_eq!(
                faults
                    .iter()
                    .filter(|s| matches!(s.fault, Fault::PostgresOutage { .. }))
                    .count(),
                1
            );
            assert!(
                faults
                    .iter()
                    .any(|s| matches!(s.fault, Fault::BrokerOutage { node, .. } if node < 3))
            );
        }
    }
}
