//! What must hold after any number of crashes and outages (issue 11 item 4): the harness
//! reads every service's tables and checks the money and the events. Reading is I/O
//! ([`State::load`]); judging is a pure function of what was read ([`judge`]), tested
//! below with small hand-made states.

use std::collections::{BTreeMap, HashMap, HashSet};

use rust_decimal::Decimal;
use sqlx::PgPool;
use uuid::Uuid;

use super::plan::Plan;

/// A payment as payments stored it.
#[derive(Debug, Clone)]
pub struct Payment {
    /// Id.
    pub id: Uuid,
    /// The bank line's remittance text.
    pub reference: String,
    /// Amount.
    pub amount: Decimal,
    /// `matched`, `allocated` or `exception`.
    pub status: String,
}

/// An allocation, on either side.
#[derive(Debug, Clone)]
pub struct Allocation {
    /// Id (the same on both sides).
    pub id: Uuid,
    /// The payment.
    pub payment_id: Uuid,
    /// The receivable.
    pub receivable_id: Uuid,
    /// Amount.
    pub amount: Decimal,
    /// `proposed`, `applied` or `rejected`.
    pub status: String,
}

/// A receivable as contracts holds it.
#[derive(Debug, Clone)]
pub struct Receivable {
    /// Id.
    pub id: Uuid,
    /// Contract number.
    pub contract_no: String,
    /// Installment number (from 1).
    pub installment_no: i32,
    /// What was billed.
    pub amount: Decimal,
    /// What is still owed.
    pub open_amount: Decimal,
}

/// Everything the checks look at.
#[derive(Debug, Clone, Default)]
pub struct State {
    /// payments.payments.
    pub payments: Vec<Payment>,
    /// payments.allocations.
    pub proposals: Vec<Allocation>,
    /// payments.refunds: Σ approved per payment (R-P9: money refunded of its surplus).
    pub refunded: HashMap<Uuid, Decimal>,
    /// Open exceptions by payment: their kinds.
    pub open_exceptions: HashMap<Uuid, Vec<String>>,
    /// contracts.receivables.
    pub receivables: Vec<Receivable>,
    /// contracts.allocations (applied or rejected).
    pub confirmations: Vec<Allocation>,
    /// dunning.case_items: status per receivable (one per case it was in).
    pub dunning_items: Vec<(Uuid, String)>,
    /// Unpublished outbox rows per service.
    pub unpublished: BTreeMap<String, i64>,
    /// Recorded dead letters per service.
    pub dead_letters: BTreeMap<String, i64>,
    /// Messages on the dead-letter topics (high watermarks summed), per topic.
    pub dead_letter_messages: BTreeMap<String, i64>,
}

/// One verdict.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Check {
    /// What is checked.
    pub name: &'static str,
    /// Whether it holds.
    pub passed: bool,
    /// Figures, or the first offenders.
    pub detail: String,
}

/// Money figures of a finished run.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Totals {
    /// Σ of the bank lines sent.
    pub received: Decimal,
    /// Σ of allocations contracts applied.
    pub applied: Decimal,
    /// Σ of payments (or their rest) waiting in the exception queue.
    pub unapplied: Decimal,
    /// Σ refunded: approved refunds of unapplied surpluses (payments.refunds, R-P9).
    pub refunded: Decimal,
    /// Payments recorded.
    pub payments: usize,
    /// Payments applied in full.
    pub applied_payments: usize,
    /// Payments in the exception queue.
    pub exception_payments: usize,
    /// Open exceptions by kind.
    pub exception_kinds: BTreeMap<String, usize>,
}

const SHOW: usize = 3;

fn verdict(name: &'static str, offenders: &[String], ok_detail: String) -> Check {
    if offenders.is_empty() {
        Check {
            name,
            passed: true,
            detail: ok_detail,
        }
    } else {
        let shown: Vec<&str> = offenders.iter().take(SHOW).map(String::as_str).collect();
        Check {
            name,
            passed: false,
            detail: format!("{} offender(s), e.g. {}", offenders.len(), shown.join("; ")),
        }
    }
}

/// Judges `state` against what was sent (`plan`, of which the first `sent_files` files
/// were accepted).
#[must_use]
pub fn judge(plan: &Plan, state: &State) -> (Vec<Check>, Totals) {
    let mut checks = Vec::new();
    let mut totals = Totals {
        received: plan.received(),
        ..Totals::default()
    };

    // 1. Every bank line became exactly one payment, and no payment came from nowhere.
    let mut by_reference: HashMap<&str, usize> = HashMap::new();
    for p in &state.payments {
        *by_reference.entry(p.reference.as_str()).or_default() += 1;
    }
    let planned: HashMap<&str, bool> = plan
        .lines()
        .map(|l| (l.reference.as_str(), l.known))
        .collect();
    let mut offenders = Vec::new();
    for line in plan.lines() {
        match by_reference.get(line.reference.as_str()) {
            None => offenders.push(format!("{} missing", line.reference)),
            Some(1) => {}
            Some(n) => offenders.push(format!("{} recorded {n} times", line.reference)),
        }
    }
    for p in &state.payments {
        if !planned.contains_key(p.reference.as_str()) {
            offenders.push(format!("{} was never sent", p.reference));
        }
    }
    totals.payments = state.payments.len();
    checks.push(verdict(
        "every bank line is exactly one payment (R-P2)",
        &offenders,
        format!("{} lines, {} payments", planned.len(), state.payments.len()),
    ));

    // 2. Applied exactly once or in the exception queue; placeable lines applied.
    let mut applied_by_payment: HashMap<Uuid, Decimal> = HashMap::new();
    for a in state.proposals.iter().filter(|a| a.status == "applied") {
        *applied_by_payment.entry(a.payment_id).or_default() += a.amount;
    }
    let mut offenders = Vec::new();
    for p in &state.payments {
        let applied = applied_by_payment.get(&p.id).copied().unwrap_or_default();
        // What was refunded of it (its surplus, R-P9) left the book: money out.
        let refunded = state.refunded.get(&p.id).copied().unwrap_or_default();
        let queued = state.open_exceptions.contains_key(&p.id);
        let known = planned.get(p.reference.as_str()).copied().unwrap_or(false);
        if applied + refunded > p.amount {
            offenders.push(format!(
                "{}: {applied} applied and {refunded} refunded of {}",
                p.reference, p.amount
            ));
        } else if applied + refunded == p.amount && !queued {
            totals.applied_payments += 1;
            if !known && applied > Decimal::ZERO {
                offenders.push(format!("{}: unplaceable but applied", p.reference));
            }
        } else if queued {
            totals.exception_payments += 1;
            totals.unapplied += p.amount - applied - refunded;
            if known {
                offenders.push(format!(
                    "{}: placeable but in the exception queue ({})",
                    p.reference,
                    state.open_exceptions[&p.id].join(", ")
                ));
            }
        } else {
            offenders.push(format!(
                "{}: {applied} of {} applied and no exception ({})",
                p.reference, p.amount, p.status
            ));
        }
    }
    for kinds in state.open_exceptions.values() {
        for kind in kinds {
            *totals.exception_kinds.entry(kind.clone()).or_default() += 1;
        }
    }
    totals.applied = applied_by_payment.values().copied().sum();
    totals.refunded = state.refunded.values().copied().sum();
    // Shown to the fen.
    for amount in [
        &mut totals.received,
        &mut totals.applied,
        &mut totals.unapplied,
        &mut totals.refunded,
    ] {
        *amount = amount.round_dp(2);
    }
    checks.push(verdict(
        "every payment applied exactly once or in the exception queue (R-P5)",
        &offenders,
        format!(
            "{} applied, {} in the exception queue",
            totals.applied_payments, totals.exception_payments
        ),
    ));

    // 3. The money identity.
    let recorded: Decimal = state.payments.iter().map(|p| p.amount).sum();
    let balanced = recorded == totals.received
        && totals.received == totals.applied + totals.unapplied + totals.refunded;
    checks.push(Check {
        name: "Σ received = Σ applied + Σ unapplied + Σ refunded",
        passed: balanced,
        detail: format!(
            "received {} (recorded {recorded}) = applied {} + unapplied {} + refunded {}",
            totals.received, totals.applied, totals.unapplied, totals.refunded
        ),
    });

    // 4. Both sides agree on every applied allocation.
    let payments_side: HashMap<Uuid, &Allocation> = state
        .proposals
        .iter()
        .filter(|a| a.status == "applied")
        .map(|a| (a.id, a))
        .collect();
    let contracts_side: HashMap<Uuid, &Allocation> = state
        .confirmations
        .iter()
        .filter(|a| a.status == "applied")
        .map(|a| (a.id, a))
        .collect();
    let mut offenders = Vec::new();
    for (id, a) in &payments_side {
        match contracts_side.get(id) {
            None => offenders.push(format!("allocation {id} applied in payments only")),
            Some(c) if c.amount != a.amount || c.receivable_id != a.receivable_id => {
                offenders.push(format!("allocation {id} differs between the services"));
            }
            Some(_) => {}
        }
    }
    for id in contracts_side.keys() {
        if !payments_side.contains_key(id) {
            offenders.push(format!("allocation {id} applied in contracts only"));
        }
    }
    checks.push(verdict(
        "payments and contracts agree on every applied allocation",
        &offenders,
        format!("{} allocations", contracts_side.len()),
    ));

    // 5. Balances: billed − confirmed allocations, and what the plan paid.
    let mut confirmed: HashMap<Uuid, Decimal> = HashMap::new();
    for a in contracts_side.values() {
        *confirmed.entry(a.receivable_id).or_default() += a.amount;
    }
    let paid_plan: HashMap<(&str, i32), bool> = plan
        .contracts
        .iter()
        .flat_map(|c| {
            c.paid.iter().enumerate().map(move |(k, p)| {
                (
                    (c.contract_no.as_str(), i32::try_from(k).unwrap_or(0) + 1),
                    *p,
                )
            })
        })
        .collect();
    let mut offenders = Vec::new();
    for r in &state.receivables {
        let applied = confirmed.get(&r.id).copied().unwrap_or_default();
        if r.open_amount != r.amount - applied {
            offenders.push(format!(
                "{}/{}: open {} but billed {} − applied {applied}",
                r.contract_no, r.installment_no, r.open_amount, r.amount
            ));
        }
        if let Some(paid) = paid_plan.get(&(r.contract_no.as_str(), r.installment_no)) {
            let settled = r.open_amount.is_zero();
            if *paid != settled {
                offenders.push(format!(
                    "{}/{}: open {} although the bank line {} it",
                    r.contract_no,
                    r.installment_no,
                    r.open_amount,
                    if *paid { "paid" } else { "did not pay" }
                ));
            }
        }
    }
    let harness_receivables = state
        .receivables
        .iter()
        .filter(|r| paid_plan.contains_key(&(r.contract_no.as_str(), r.installment_no)))
        .count();
    if harness_receivables != paid_plan.len() {
        offenders.push(format!(
            "{harness_receivables} of {} receivables exist",
            paid_plan.len()
        ));
    }
    checks.push(verdict(
        "every receivable's balance = billed − confirmed allocations",
        &offenders,
        format!("{} receivables", state.receivables.len()),
    ));

    // 6. Nothing waits for an answer.
    let stuck: Vec<String> = state
        .proposals
        .iter()
        .filter(|a| a.status == "proposed")
        .map(|a| format!("allocation {} of payment {}", a.id, a.payment_id))
        .collect();
    checks.push(verdict(
        "no allocation stuck in proposed",
        &stuck,
        "none".to_owned(),
    ));

    // 7. Dunning stopped for every paid item (R-P10).
    let settled: HashSet<Uuid> = state
        .receivables
        .iter()
        .filter(|r| r.open_amount.is_zero())
        .map(|r| r.id)
        .collect();
    let in_dunning: HashSet<Uuid> = state.dunning_items.iter().map(|(id, _)| *id).collect();
    let mut offenders: Vec<String> = state
        .dunning_items
        .iter()
        .filter(|(id, status)| settled.contains(id) && status == "open")
        .map(|(id, _)| format!("receivable {id} paid but still dunned"))
        .collect();
    let overdue = state
        .receivables
        .iter()
        .filter(|r| paid_plan.contains_key(&(r.contract_no.as_str(), r.installment_no)))
        .filter(|r| !in_dunning.contains(&r.id))
        .count();
    if overdue > 0 {
        offenders.push(format!(
            "{overdue} overdue receivables never reached dunning"
        ));
    }
    checks.push(verdict(
        "dunning stopped for every paid item (R-P10)",
        &offenders,
        format!(
            "{} items in dunning, {} of them paid",
            in_dunning.len(),
            in_dunning.intersection(&settled).count()
        ),
    ));

    // 8. Events: all published, none dead.
    let offenders: Vec<String> = state
        .unpublished
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(s, n)| format!("{s}: {n} outbox rows unpublished"))
        .collect();
    checks.push(verdict(
        "every event published (outboxes empty)",
        &offenders,
        "all outboxes empty".to_owned(),
    ));
    let offenders: Vec<String> = state
        .dead_letters
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(s, n)| format!("{s}: {n} dead letters recorded"))
        .chain(
            state
                .dead_letter_messages
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(t, n)| format!("{t}: {n} messages")),
        )
        .collect();
    checks.push(verdict(
        "no dead letter",
        &offenders,
        format!(
            "{} dead-letter topics empty",
            state.dead_letter_messages.len()
        ),
    ));
    (checks, totals)
}

impl State {
    /// Reads the services' tables (each through its own role and schema).
    ///
    /// # Errors
    /// A database error (e.g. PostgreSQL still starting).
    pub async fn load(pools: &BTreeMap<String, PgPool>) -> anyhow::Result<Self> {
        let pool = |name: &str| {
            pools
                .get(name)
                .ok_or_else(|| anyhow::anyhow!("no database pool for {name}"))
        };
        let mut state = Self::default();
        let payments = pool("payments")?;
        state.payments = sqlx::query_as::<_, (Uuid, String, Decimal, String)>(
            "SELECT id, reference, amount, status FROM payments",
        )
        .fetch_all(payments)
        .await?
        .into_iter()
        .map(|(id, reference, amount, status)| Payment {
            id,
            reference,
            amount,
            status,
        })
        .collect();
        state.proposals = allocations(
            payments,
            "SELECT id, payment_id, receivable_id, amount, status FROM allocations",
        )
        .await?;
        for (payment_id, kind) in sqlx::query_as::<_, (Uuid, String)>(
            "SELECT payment_id, kind FROM exceptions WHERE resolved_at IS NULL",
        )
        .fetch_all(payments)
        .await?
        {
            state
                .open_exceptions
                .entry(payment_id)
                .or_default()
                .push(kind);
        }
        // R-P9: approved refunds are money out of the surplus they were paid from.
        state.refunded = sqlx::query_as::<_, (Uuid, Decimal)>(
            "SELECT payment_id, sum(amount) FROM refunds WHERE status = 'approved' GROUP BY payment_id",
        )
        .fetch_all(payments)
        .await?
        .into_iter()
        .collect();
        let contracts = pool("contracts")?;
        state.receivables = sqlx::query_as::<_, (Uuid, String, i32, Decimal, Decimal)>(
            "SELECT r.id, c.contract_no, r.installment_no, r.amount, r.open_amount
             FROM receivables r JOIN contracts c ON c.id = r.contract_id",
        )
        .fetch_all(contracts)
        .await?
        .into_iter()
        .map(
            |(id, contract_no, installment_no, amount, open_amount)| Receivable {
                id,
                contract_no,
                installment_no,
                amount,
                open_amount,
            },
        )
        .collect();
        state.confirmations = allocations(
            contracts,
            "SELECT id, payment_id, receivable_id, amount, status FROM allocations",
        )
        .await?;
        state.dunning_items =
            sqlx::query_as::<_, (Uuid, String)>("SELECT receivable_id, status FROM case_items")
                .fetch_all(pool("dunning")?)
                .await?;
        for (service, pool) in pools {
            let (unpublished,): (i64,) =
                sqlx::query_as("SELECT count(*) FROM outbox WHERE published_at IS NULL")
                    .fetch_one(pool)
                    .await?;
            state.unpublished.insert(service.clone(), unpublished);
            let (dead,): (i64,) = sqlx::query_as("SELECT count(*) FROM dead_letters")
                .fetch_one(pool)
                .await?;
            state.dead_letters.insert(service.clone(), dead);
        }
        Ok(state)
    }
}

async fn allocations(pool: &PgPool, sql: &'static str) -> anyhow::Result<Vec<Allocation>> {
    Ok(
        sqlx::query_as::<_, (Uuid, Uuid, Uuid, Decimal, String)>(sql)
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(
                |(id, payment_id, receivable_id, amount, status)| Allocation {
                    id,
                    payment_id,
                    receivable_id,
                    amount,
                    status,
                },
            )
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::plan::plan;

    /// The state of a perfect run of `plan`.
    fn perfect(plan: &Plan) -> State {
        let mut state = State::default();
        let mut receivable_of: HashMap<(String, i32), Uuid> = HashMap::new();
        for c in &plan.contracts {
            for (k, paid) in c.paid.iter().enumerate() {
                let id = Uuid::new_v4();
                let no = i32::try_from(k).unwrap() + 1;
                receivable_of.insert((c.contract_no.clone(), no), id);
                state.receivables.push(Receivable {
                    id,
                    contract_no: c.contract_no.clone(),
                    installment_no: no,
                    amount: c.installment,
                    open_amount: if *paid { Decimal::ZERO } else { c.installment },
                });
                state
                    .dunning_items
                    .push((id, if *paid { "paid" } else { "open" }.into()));
            }
        }
        for line in plan.lines() {
            let id = Uuid::new_v4();
            state.payments.push(Payment {
                id,
                reference: line.reference.clone(),
                amount: line.amount,
                status: if line.known { "allocated" } else { "exception" }.into(),
            });
            if line.known {
                let (no, k) = line.reference.split_once('/').unwrap();
                let a = Allocation {
                    id: Uuid::new_v4(),
                    payment_id: id,
                    receivable_id: receivable_of[&(no.to_owned(), k.parse().unwrap())],
                    amount: line.amount,
                    status: "applied".into(),
                };
                state.proposals.push(a.clone());
                state.confirmations.push(a);
            } else {
                state
                    .open_exceptions
                    .insert(id, vec!["no_matching_receivable".into()]);
            }
        }
        for s in ["contracts", "payments"] {
            state.unpublished.insert(s.into(), 0);
            state.dead_letters.insert(s.into(), 0);
        }
        state
    }

    fn failed(checks: &[Check]) -> Vec<&'static str> {
        checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.name)
            .collect()
    }

    #[test]
    fn a_perfect_run_passes_every_check_and_the_money_adds_up() {
        let plan = plan(200, 11, 50);
        let (checks, totals) = judge(&plan, &perfect(&plan));
        assert!(failed(&checks).is_empty(), "{checks:#?}");
        assert_eq!(totals.received, totals.applied + totals.unapplied);
        assert_eq!(totals.exception_payments, plan.unknown_lines());
    }

    #[test]
    fn a_refunded_payment_counts_as_refunded_and_over_refunding_fails_r_p9() {
        let plan = plan(200, 14, 50);
        let mut state = perfect(&plan);
        // An unplaceable payment refunded in full: out of the queue, money out.
        let id = *state
            .open_exceptions
            .keys()
            .next()
            .expect("an unknown line");
        let amount = state.payments.iter().find(|p| p.id == id).unwrap().amount;
        state.open_exceptions.remove(&id);
        state.refunded.insert(id, amount);
        let (checks, totals) = judge(&plan, &state);
        assert!(failed(&checks).is_empty(), "{checks:#?}");
        assert_eq!(totals.refunded, amount.round_dp(2));
        assert_eq!(
            totals.received,
            totals.applied + totals.unapplied + totals.refunded
        );
        // A cent more than was received refunded: the money does not add up.
        state.refunded.insert(id, amount + Decimal::new(1, 2));
        let failed = failed(&judge(&plan, &state).0);
        assert!(failed.contains(&"Σ received = Σ applied + Σ unapplied + Σ refunded"));
        assert!(
            failed.contains(&"every payment applied exactly once or in the exception queue (R-P5)")
        );
    }

    #[test]
    fn a_payment_recorded_twice_fails_the_exactly_once_checks() {
        let plan = plan(200, 12, 50);
        let mut state = perfect(&plan);
        let mut twin = state.payments[0].clone();
        twin.id = Uuid::new_v4();
        state.payments.push(twin);
        let failed = failed(&judge(&plan, &state).0);
        assert!(failed.contains(&"every bank line is exactly one payment (R-P2)"));
        assert!(failed.contains(&"Σ received = Σ applied + Σ unapplied + Σ refunded"));
    }

    #[test]
    fn an_allocation_applied_twice_or_on_one_side_only_fails() {
        let plan = plan(200, 13, 50);
        let mut state = perfect(&plan);
        let mut again = state.confirmations[0].clone();
        again.id = Uuid::new_v4();
        state.confirmations.push(again);
        let failed = failed(&judge(&plan, &state).0);
        assert!(failed.contains(&"payments and contracts agree on every applied allocation"));
        assert!(failed.contains(&"every receivable's balance = billed − confirmed allocations"));
    }

    #[test]
    fn a_lost_payment_a_stuck_allocation_and_a_dunned_paid_item_each_fail() {
        let plan = plan(200, 14, 50);
        let mut state = perfect(&plan);
        let lost = state.payments.remove(0);
        state.proposals.retain(|a| a.payment_id != lost.id);
        assert!(
            failed(&judge(&plan, &state).0)
                .contains(&"every bank line is exactly one payment (R-P2)")
        );

        let mut state = perfect(&plan);
        state.proposals[0].status = "proposed".into();
        assert!(failed(&judge(&plan, &state).0).contains(&"no allocation stuck in proposed"));

        let mut state = perfect(&plan);
        let paid = state
            .receivables
            .iter()
            .find(|r| r.open_amount.is_zero())
            .unwrap()
            .id;
        for item in &mut state.dunning_items {
            if item.0 == paid {
                item.1 = "open".into();
            }
        }
        assert!(
            failed(&judge(&plan, &state).0)
                .contains(&"dunning stopped for every paid item (R-P10)")
        );

        let mut state = perfect(&plan);
        state.dead_letters.insert("contracts".into(), 1);
        state.unpublished.insert("payments".into(), 2);
        let failed = failed(&judge(&plan, &state).0);
        assert!(failed.contains(&"no dead letter"));
        assert!(failed.contains(&"every event published (outboxes empty)"));
    }

    #[test]
    fn a_placeable_payment_in_the_exception_queue_fails() {
        let plan = plan(200, 15, 50);
        let mut state = perfect(&plan);
        let p = state
            .payments
            .iter()
            .find(|p| p.status == "allocated")
            .unwrap()
            .clone();
        state.proposals.retain(|a| a.payment_id != p.id);
        state.confirmations.retain(|a| a.payment_id != p.id);
        state
            .open_exceptions
            .insert(p.id, vec!["amount_differs".into()]);
        let failed = failed(&judge(&plan, &state).0);
        assert!(
            failed.contains(&"every payment applied exactly once or in the exception queue (R-P5)")
        );
    }
}
