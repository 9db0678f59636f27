//! Policy backtest (issue 13 item 7): replays a portfolio day by day with the same pure engine
//! the service uses ([`crate::policy::decide`]) and reports every action and hold. The
//! portfolio format is documented in `services/dunning/backtest.md` with an example in
//! `services/dunning/examples/portfolio.json`.

use std::collections::{BTreeMap, HashMap};

use chrono::{Days, NaiveDate};
use money::allocation::{Debt, OrderTerms, Owed, Security, allocate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::policy::{
    Channel, Debtor, Decision, Item, Occupancy, Policy, Segment, Taken, decide_above,
};

/// A customer of the portfolio.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Customer {
    /// Id, referenced by receivables and payments.
    pub id: String,
    /// Name, for the report.
    #[serde(default)]
    pub name: String,
    /// Grade AAA..D (R-S4).
    #[serde(default = "default_grade")]
    pub grade: String,
    /// Segment of their units (R-D7), if any.
    #[serde(default)]
    pub segment: Option<Segment>,
    /// Occupancy (R-D7), if known.
    #[serde(default)]
    pub occupancy: Option<Occupancy>,
    /// IANA time zone (for the conduct rules, R-D9), e.g. `Asia/Shanghai`.
    #[serde(default = "default_zone")]
    pub time_zone: String,
}

fn default_grade() -> String {
    "A".to_owned()
}

fn default_zone() -> String {
    "Asia/Shanghai".to_owned()
}

/// A receivable of the portfolio.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receivable {
    /// Id, referenced by payments and in the report.
    pub id: String,
    /// The customer's id.
    pub customer: String,
    /// Contract number.
    pub contract: String,
    /// Charge type, e.g. `management_fee` (R-D3 breakdown).
    #[serde(default)]
    pub charge_type: String,
    /// Billing period, e.g. `2026-01`.
    #[serde(default)]
    pub period: String,
    /// Due date.
    pub due_date: NaiveDate,
    /// Amount billed.
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
}

/// A payment of the portfolio: settles the customer's items in the platform's order (R-P11),
/// or the named receivable first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Payment {
    /// The customer's id.
    pub customer: String,
    /// Business date.
    pub date: NaiveDate,
    /// Amount.
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    /// A receivable the payer named, if any.
    #[serde(default)]
    pub receivable: Option<String>,
}

/// A promise to pay of the portfolio (R-D5; issue 14 item 6): from `made_on` the ladder
/// holds until the promised date plus the grace days, and the payments from `made_on` on
/// decide whether it was kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromiseIn {
    /// The customer's id.
    pub customer: String,
    /// The business day it was made.
    pub made_on: NaiveDate,
    /// Amount promised.
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    /// The date promised.
    pub promised_date: NaiveDate,
    /// Days after it that still count (0 to 30).
    #[serde(default)]
    pub grace_days: u32,
    /// Share that counts as kept, in percent (default 100).
    #[serde(default = "hundred", with = "rust_decimal::serde::str")]
    pub threshold_percent: Decimal,
}

fn hundred() -> Decimal {
    Decimal::ONE_HUNDRED
}

impl PromiseIn {
    fn terms(&self) -> crate::domain::promise::Terms {
        crate::domain::promise::Terms {
            amount: self.amount,
            due: self.promised_date,
            grace_days: self.grace_days,
            threshold: self.threshold_percent / Decimal::ONE_HUNDRED,
        }
    }
}

/// A dispute of the portfolio (R-D8; issue 14 item 6): the named items are passed by from
/// `opened_on` until `resolved_on` (rejected: dunned again from then; upheld: never again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisputeIn {
    /// The customer's id.
    pub customer: String,
    /// The disputed receivables' ids.
    pub receivables: Vec<String>,
    /// The day it was opened.
    pub opened_on: NaiveDate,
    /// The day it was resolved, if it was.
    #[serde(default)]
    pub resolved_on: Option<NaiveDate>,
    /// Resolved in the debtor's favour: the items leave dunning.
    #[serde(default)]
    pub upheld: bool,
}

impl DisputeIn {
    /// Whether it keeps `receivable` out of dunning on `day`.
    fn covers(&self, receivable: &str, day: NaiveDate) -> bool {
        self.receivables.iter().any(|r| r == receivable)
            && self.opened_on <= day
            && (self.upheld || self.resolved_on.is_none_or(|end| day < end))
    }
}

/// An installment of a plan in the portfolio.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanInstallmentIn {
    /// Its date.
    pub due_date: NaiveDate,
    /// Its amount.
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
}

/// A repayment plan of the portfolio (R-D6; issue 14 item 6): from `agreed_on` its items are
/// passed by while the payments on them since then meet each installment by its date plus
/// the grace days; a missed one breaks the plan and the ladder goes on only with a step more
/// severe than the last one taken (escalation); everything paid completes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanIn {
    /// The customer's id.
    pub customer: String,
    /// The receivables it re-schedules.
    pub receivables: Vec<String>,
    /// The day it was agreed (approved).
    pub agreed_on: NaiveDate,
    /// Installments, dates ascending.
    pub installments: Vec<PlanInstallmentIn>,
    /// Days after each installment's date that still count (0 to 30).
    #[serde(default)]
    pub grace_days: u32,
}

impl PlanIn {
    fn installments(&self) -> Vec<crate::domain::plan::Installment> {
        self.installments
            .iter()
            .enumerate()
            .map(|(i, inst)| crate::domain::plan::Installment {
                number: u32::try_from(i + 1).unwrap_or(u32::MAX),
                due: inst.due_date,
                amount: inst.amount,
            })
            .collect()
    }
}

/// How a plan of the portfolio ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanOutcome {
    /// Customer id.
    pub customer: String,
    /// The day it was agreed.
    pub agreed_on: NaiveDate,
    /// `completed` or `broken`.
    pub outcome: String,
    /// The day it ended.
    pub on: NaiveDate,
    /// The installment missed (broken).
    pub installment: Option<u32>,
    /// Paid on its items from the day it was agreed through the day it ended.
    #[serde(with = "rust_decimal::serde::str")]
    pub paid: Decimal,
}

/// A portfolio to replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Portfolio {
    /// Customers.
    pub customers: Vec<Customer>,
    /// Receivables.
    pub receivables: Vec<Receivable>,
    /// Payments.
    #[serde(default)]
    pub payments: Vec<Payment>,
    /// Promises to pay (R-D5).
    #[serde(default)]
    pub promises: Vec<PromiseIn>,
    /// Disputes (R-D8).
    #[serde(default)]
    pub disputes: Vec<DisputeIn>,
    /// Repayment plans (R-D6).
    #[serde(default)]
    pub plans: Vec<PlanIn>,
}

/// A portfolio that cannot be replayed, naming the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortfolioError {
    /// e.g. `receivables[3].customer`.
    pub field: String,
    /// Why.
    pub reason: String,
}

impl std::fmt::Display for PortfolioError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

impl std::error::Error for PortfolioError {}

impl Portfolio {
    /// Parses and checks a portfolio (JSON): ids unique, references known, amounts positive.
    ///
    /// # Errors
    /// The first field at fault.
    pub fn from_json(json: &str) -> Result<Self, PortfolioError> {
        let p: Portfolio = serde_json::from_str(json).map_err(|e| PortfolioError {
            field: format!("line {} column {}", e.line(), e.column()),
            reason: e.to_string(),
        })?;
        let bad = |field: String, reason: &str| PortfolioError {
            field,
            reason: reason.to_owned(),
        };
        for (i, c) in p.customers.iter().enumerate() {
            if p.customers[..i].iter().any(|o| o.id == c.id) {
                return Err(bad(
                    format!("customers[{i}].id"),
                    "another customer has this id",
                ));
            }
        }
        for (i, r) in p.receivables.iter().enumerate() {
            if !p.customers.iter().any(|c| c.id == r.customer) {
                return Err(bad(
                    format!("receivables[{i}].customer"),
                    "no customer with this id",
                ));
            }
            if p.receivables[..i].iter().any(|o| o.id == r.id) {
                return Err(bad(
                    format!("receivables[{i}].id"),
                    "another receivable has this id",
                ));
            }
            if r.amount <= Decimal::ZERO {
                return Err(bad(
                    format!("receivables[{i}].amount"),
                    "must be more than zero",
                ));
            }
        }
        for (i, pay) in p.payments.iter().enumerate() {
            if !p.customers.iter().any(|c| c.id == pay.customer) {
                return Err(bad(
                    format!("payments[{i}].customer"),
                    "no customer with this id",
                ));
            }
            if pay.amount <= Decimal::ZERO {
                return Err(bad(
                    format!("payments[{i}].amount"),
                    "must be more than zero",
                ));
            }
            if let Some(named) = &pay.receivable
                && !p
                    .receivables
                    .iter()
                    .any(|r| &r.id == named && r.customer == pay.customer)
            {
                return Err(bad(
                    format!("payments[{i}].receivable"),
                    "not a receivable of this customer",
                ));
            }
        }
        for (i, promise) in p.promises.iter().enumerate() {
            if !p.customers.iter().any(|c| c.id == promise.customer) {
                return Err(bad(
                    format!("promises[{i}].customer"),
                    "no customer with this id",
                ));
            }
            promise
                .terms()
                .check(promise.made_on)
                .map_err(|e| bad(format!("promises[{i}].{}", e.field), &e.reason))?;
        }
        for (i, d) in p.disputes.iter().enumerate() {
            if !p.customers.iter().any(|c| c.id == d.customer) {
                return Err(bad(
                    format!("disputes[{i}].customer"),
                    "no customer with this id",
                ));
            }
            if d.receivables.is_empty() {
                return Err(bad(
                    format!("disputes[{i}].receivables"),
                    "name the disputed receivables",
                ));
            }
            if let Some((k, _)) = d.receivables.iter().enumerate().find(|(_, r)| {
                !p.receivables
                    .iter()
                    .any(|o| &o.id == *r && o.customer == d.customer)
            }) {
                return Err(bad(
                    format!("disputes[{i}].receivables[{k}]"),
                    "not a receivable of this customer",
                ));
            }
            if d.resolved_on.is_some_and(|end| end < d.opened_on) {
                return Err(bad(
                    format!("disputes[{i}].resolved_on"),
                    "before opened_on",
                ));
            }
            if d.upheld && d.resolved_on.is_none() {
                return Err(bad(
                    format!("disputes[{i}].resolved_on"),
                    "an upheld dispute was resolved: give the day",
                ));
            }
        }
        for (i, plan) in p.plans.iter().enumerate() {
            if !p.customers.iter().any(|c| c.id == plan.customer) {
                return Err(bad(
                    format!("plans[{i}].customer"),
                    "no customer with this id",
                ));
            }
            if plan.receivables.is_empty() {
                return Err(bad(
                    format!("plans[{i}].receivables"),
                    "name the receivables the plan re-schedules",
                ));
            }
            if let Some((k, _)) = plan.receivables.iter().enumerate().find(|(_, r)| {
                !p.receivables
                    .iter()
                    .any(|o| &o.id == *r && o.customer == plan.customer)
            }) {
                return Err(bad(
                    format!("plans[{i}].receivables[{k}]"),
                    "not a receivable of this customer",
                ));
            }
            // The installments are taken as given (what they add up to is the portfolio's
            // business); dates, amounts and grace days are checked like the service does.
            let installments = plan.installments();
            let total = installments.iter().map(|i| i.amount).sum();
            crate::domain::plan::check(&installments, total, plan.grace_days, plan.agreed_on)
                .map_err(|e| {
                    let field =
                        e.field
                            .replacen("installments", &format!("plans[{i}].installments"), 1);
                    let field = if field.starts_with("plans[") {
                        field
                    } else {
                        format!("plans[{i}].{field}")
                    };
                    bad(field, &e.reason)
                })?;
        }
        Ok(p)
    }
}

/// How a promise of the portfolio ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PromiseOutcome {
    /// Customer id.
    pub customer: String,
    /// The date promised.
    pub promised_date: NaiveDate,
    /// Kept (else broken).
    pub kept: bool,
    /// The day it was judged.
    pub judged_on: NaiveDate,
    /// Paid from the day it was made through the day it was judged.
    #[serde(with = "rust_decimal::serde::str")]
    pub paid: Decimal,
}

/// One action the policy took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Action {
    /// Business date.
    pub date: NaiveDate,
    /// Customer id.
    pub customer: String,
    /// Step code.
    pub step: String,
    /// Channel.
    pub channel: Channel,
    /// The `n`-th time in the case.
    pub n: u32,
    /// Receivables covered.
    pub items: Vec<String>,
    /// Σ owed on them.
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    /// Notice fee charged (R-D3).
    #[serde(with = "rust_decimal::serde::str")]
    pub fee: Decimal,
    /// The debtor signs for it (R-D2).
    pub signature_required: bool,
}

/// The replay's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Replay {
    /// The policy and version replayed.
    pub policy: String,
    /// First and last day.
    pub from: NaiveDate,
    /// Last day.
    pub to: NaiveDate,
    /// Every action, by date then customer.
    pub actions: Vec<Action>,
    /// Holds by reason code (R-D12), counted over debtor-days.
    pub holds: BTreeMap<String, u64>,
    /// Actions by step code.
    pub by_step: BTreeMap<String, u64>,
    /// Σ notice fees.
    #[serde(with = "rust_decimal::serde::str")]
    pub fees: Decimal,
    /// Σ paid over the period, and what is still owed at its end.
    #[serde(with = "rust_decimal::serde::str")]
    pub paid: Decimal,
    /// Owed at the end.
    #[serde(with = "rust_decimal::serde::str")]
    pub owed_at_end: Decimal,
    /// Promises judged in the period (R-D5); one still open at the end is not listed.
    pub promises: Vec<PromiseOutcome>,
    /// Plans that ended in the period (R-D6); one still kept at the end is not listed.
    pub plans: Vec<PlanOutcome>,
}

/// Replays `portfolio` under `policy` from `from` through `to` (inclusive): each day, the
/// day's payments are allocated (R-P11), then every customer gets the engine's decision. A
/// case ends when nothing of the customer is overdue; the next one starts from the first
/// rung.
#[must_use]
pub fn replay(policy: &Policy, portfolio: &Portfolio, from: NaiveDate, to: NaiveDate) -> Replay {
    let unit = Decimal::new(1, 2);
    // Per customer: receivable indexes, open amounts, case history.
    let mut open: Vec<Decimal> = portfolio.receivables.iter().map(|r| r.amount).collect();
    let mut of_customer: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, r) in portfolio.receivables.iter().enumerate() {
        of_customer.entry(r.customer.as_str()).or_default().push(i);
    }
    let mut taken: HashMap<&str, Vec<Taken>> = HashMap::new();
    let mut payments: Vec<&Payment> = portfolio.payments.iter().collect();
    payments.sort_by_key(|p| p.date);
    let mut next_payment = 0;
    let mut out = Replay {
        policy: format!("{} v{}", policy.id, policy.version),
        from,
        to,
        actions: Vec::new(),
        holds: BTreeMap::new(),
        by_step: BTreeMap::new(),
        fees: Decimal::ZERO,
        paid: Decimal::ZERO,
        owed_at_end: Decimal::ZERO,
        promises: Vec::new(),
        plans: Vec::new(),
    };
    // R-D6: each plan's end, once it ended; payments by receivable; the escalation floor a
    // broken plan leaves per customer.
    let mut plan_ended = vec![false; portfolio.plans.len()];
    let mut paid_items: HashMap<usize, Vec<(NaiveDate, Decimal)>> = HashMap::new();
    let mut floors: HashMap<&str, u32> = HashMap::new();
    // R-D5: each customer's promises in the order made; the payments of each customer by day.
    let mut promised: Vec<&PromiseIn> = portfolio.promises.iter().collect();
    promised.sort_by_key(|p| p.made_on);
    let mut judged = vec![false; promised.len()];
    let mut paid_on: HashMap<&str, Vec<(NaiveDate, Decimal)>> = HashMap::new();
    let mut day = from;
    while day <= to {
        while let Some(p) = payments.get(next_payment).filter(|p| p.date <= day) {
            next_payment += 1;
            let Some(indexes) = of_customer.get(p.customer.as_str()) else {
                continue;
            };
            let debts: Vec<Debt<usize>> = indexes
                .iter()
                .map(|i| Debt {
                    key: *i,
                    due: portfolio.receivables[*i].due_date,
                    security: Security::Unsecured,
                    burden: Decimal::ZERO,
                    named: p.receivable.as_deref() == Some(portfolio.receivables[*i].id.as_str()),
                    owed: Owed::principal(open[*i]),
                })
                .collect();
            let allocation = allocate(p.amount, p.date, &debts, &OrderTerms::Statutory, unit);
            for part in &allocation.parts {
                open[part.debt] -= part.amount;
                out.paid += part.amount;
                paid_items
                    .entry(part.debt)
                    .or_default()
                    .push((p.date, part.amount));
                paid_on
                    .entry(p.customer.as_str())
                    .or_default()
                    .push((p.date, part.amount));
            }
        }
        for customer in &portfolio.customers {
            let indexes = of_customer
                .get(customer.id.as_str())
                .map_or(&[][..], Vec::as_slice);
            // R-D6: the customer's plans in force are judged first.
            let mut planned: Vec<&str> = Vec::new();
            for (k, plan) in portfolio.plans.iter().enumerate() {
                if plan_ended[k] || plan.customer != customer.id || plan.agreed_on > day {
                    continue;
                }
                let covered: Vec<usize> = indexes
                    .iter()
                    .copied()
                    .filter(|i| plan.receivables.contains(&portfolio.receivables[*i].id))
                    .collect();
                let since: Vec<(NaiveDate, Decimal)> = covered
                    .iter()
                    .filter_map(|i| paid_items.get(i))
                    .flatten()
                    .copied()
                    .filter(|(on, _)| *on >= plan.agreed_on)
                    .collect();
                let paid: Decimal = since.iter().map(|(_, a)| *a).sum();
                use crate::domain::plan::{Verdict, judge};
                let verdict = if covered.iter().all(|i| open[*i] <= Decimal::ZERO) {
                    Verdict::Completed { on: day }
                } else {
                    judge(&plan.installments(), plan.grace_days, &since, day)
                };
                match verdict {
                    Verdict::Kept { .. } => {
                        planned.extend(plan.receivables.iter().map(String::as_str));
                    }
                    Verdict::Completed { .. } => {
                        plan_ended[k] = true;
                        out.plans.push(PlanOutcome {
                            customer: customer.id.clone(),
                            agreed_on: plan.agreed_on,
                            outcome: "completed".to_owned(),
                            on: day,
                            installment: None,
                            paid,
                        });
                    }
                    Verdict::Broken { installment, .. } => {
                        plan_ended[k] = true;
                        out.plans.push(PlanOutcome {
                            customer: customer.id.clone(),
                            agreed_on: plan.agreed_on,
                            outcome: "broken".to_owned(),
                            on: day,
                            installment: Some(installment),
                            paid,
                        });
                        // Escalation: only a step more severe than the last one taken.
                        if let Some(last) = taken
                            .get(customer.id.as_str())
                            .and_then(|h| h.iter().map(|t| t.severity).max())
                        {
                            floors.insert(customer.id.as_str(), last);
                        }
                    }
                }
            }
            // R-D8: a disputed item is passed by (as if nothing were owed on it) while the
            // dispute is open, and for good once upheld; R-D6: so is an item of a plan kept.
            let items: Vec<Item> = indexes
                .iter()
                .map(|i| {
                    let r = &portfolio.receivables[*i];
                    let disputed = portfolio
                        .disputes
                        .iter()
                        .any(|d| d.customer == customer.id && d.covers(&r.id, day));
                    let in_plan = planned.contains(&r.id.as_str());
                    Item {
                        due: r.due_date,
                        open: if disputed || in_plan {
                            Decimal::ZERO
                        } else {
                            open[*i]
                        },
                    }
                })
                .collect();
            if !planned.is_empty() && items.iter().all(|i| i.open <= Decimal::ZERO) {
                *out.holds.entry("REPAYMENT_PLAN".to_owned()).or_default() += 1;
                continue;
            }
            let history = taken.entry(customer.id.as_str()).or_default();
            if !items.iter().any(|i| i.open > Decimal::ZERO && i.due < day) {
                // Nothing overdue: no case (a case ends when its items are paid); the
                // reminders before due still go out.
                history.retain(|t| t.on >= day);
                if items.iter().all(|i| i.open <= Decimal::ZERO) {
                    continue;
                }
            }
            // R-D5: an open promise holds the ladder until judged.
            if let Some(k) = (0..promised.len()).find(|k| {
                !judged[*k] && promised[*k].customer == customer.id && promised[*k].made_on <= day
            }) {
                let promise = promised[k];
                let since: Vec<(NaiveDate, Decimal)> = paid_on
                    .get(customer.id.as_str())
                    .map(|v| {
                        v.iter()
                            .copied()
                            .filter(|(on, _)| *on >= promise.made_on)
                            .collect()
                    })
                    .unwrap_or_default();
                let kept = match crate::domain::promise::judge(&promise.terms(), &since, day) {
                    crate::domain::promise::Verdict::Open => {
                        *out.holds.entry("PROMISE_TO_PAY".to_owned()).or_default() += 1;
                        continue;
                    }
                    crate::domain::promise::Verdict::Kept { .. } => true,
                    crate::domain::promise::Verdict::Broken { .. } => false,
                };
                judged[k] = true;
                out.promises.push(PromiseOutcome {
                    customer: customer.id.clone(),
                    promised_date: promise.promised_date,
                    kept,
                    judged_on: day,
                    paid: since.iter().map(|(_, a)| *a).sum(),
                });
            }
            let debtor = Debtor {
                grade: &customer.grade,
                segment: customer.segment,
                occupancy: customer.occupancy,
                items: &items,
                taken: history,
            };
            let floor = floors.get(customer.id.as_str()).copied();
            match decide_above(policy, &debtor, day, floor) {
                Decision::Nothing => {}
                Decision::Hold(hold) => {
                    *out.holds.entry(hold.as_str().to_owned()).or_default() += 1;
                }
                Decision::Take {
                    step,
                    n,
                    items: covered,
                    amount,
                } => {
                    history.push(Taken {
                        code: step.code.clone(),
                        severity: step.severity,
                        on: day,
                    });
                    floors.remove(customer.id.as_str());
                    *out.by_step.entry(step.code.clone()).or_default() += 1;
                    out.fees += step.fee;
                    out.actions.push(Action {
                        date: day,
                        customer: customer.id.clone(),
                        step: step.code.clone(),
                        channel: step.channel,
                        n,
                        items: covered
                            .iter()
                            .filter_map(|k| indexes.get(*k))
                            .map(|i| portfolio.receivables[*i].id.clone())
                            .collect(),
                        amount,
                        fee: step.fee,
                        signature_required: step.signature_required,
                    });
                }
            }
        }
        let Some(next) = day.checked_add_days(Days::new(1)) else {
            break;
        };
        day = next;
    }
    out.owed_at_end = open.iter().copied().filter(|o| *o > Decimal::ZERO).sum();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_disputed_item_is_passed_by_until_resolved_r_d8() {
        let json = |resolution: &str| {
            format!(
                r#"{{"customers": [{{"id": "C"}}],
                    "receivables": [
                      {{"id": "WATER", "customer": "C", "contract": "PM", "due_date": "2026-02-10", "amount": "80.00"}},
                      {{"id": "FEE", "customer": "C", "contract": "PM", "due_date": "2026-02-12", "amount": "1200.00"}}],
                    "disputes": [{{"customer": "C", "receivables": ["WATER"], "opened_on": "2026-02-11"{resolution}}}]}}"#
            )
        };
        let policy = Policy::default_policy().expect("policy");
        let covered = |resolution: &str| {
            let p = Portfolio::from_json(&json(resolution)).expect("portfolio");
            let r = replay(&policy, &p, d(2, 11), d(4, 30));
            r.actions
                .iter()
                .map(|a| (a.date, a.items.contains(&"WATER".to_owned())))
                .collect::<Vec<_>>()
        };
        // Open all along: no action ever covers the water charge.
        assert!(covered("").iter().all(|(_, water)| !water));
        // Rejected on 1 March: from then on the water charge is dunned again.
        let rejected = covered(r#", "resolved_on": "2026-03-01""#);
        assert!(
            rejected
                .iter()
                .all(|(day, water)| *water == (*day >= d(3, 1)))
        );
        assert!(rejected.iter().any(|(_, water)| *water));
        // Upheld: never again.
        let upheld = covered(r#", "resolved_on": "2026-03-01", "upheld": true"#);
        assert!(upheld.iter().all(|(_, water)| !water));
        let bad = Portfolio::from_json(&json(r#", "upheld": true"#)).expect_err("no day");
        assert_eq!(bad.field, "disputes[0].resolved_on");
    }

    #[test]
    fn a_plan_keeps_its_items_out_until_an_installment_is_missed_r_d6() {
        let json = |payments: &str| {
            format!(
                r#"{{"customers": [{{"id": "C"}}],
                    "receivables": [{{"id": "R", "customer": "C", "contract": "HT", "due_date": "2026-03-10", "amount": "10000.00"}}],
                    "payments": [{payments}],
                    "plans": [{{"customer": "C", "receivables": ["R"], "agreed_on": "2026-03-20", "grace_days": 0,
                                "installments": [{{"due_date": "2026-04-01", "amount": "5000.00"}},
                                                 {{"due_date": "2026-05-01", "amount": "5000.00"}}]}}]}}"#
            )
        };
        let policy = Policy::default_policy().expect("policy");
        let first = r#"{"customer": "C", "date": "2026-04-01", "amount": "5000.00"}"#;
        let p = Portfolio::from_json(&json(first)).expect("portfolio");
        let r = replay(&policy, &p, d(3, 11), d(6, 30));
        // Kept through 1 May: no action while the plan is in force, holds with the reason.
        assert!(
            r.actions
                .iter()
                .all(|a| a.date < d(3, 20) || a.date > d(5, 1)),
            "{:?}",
            r.actions
        );
        assert_eq!(
            r.holds.get("REPAYMENT_PLAN"),
            Some(&43),
            "20 March to 1 May"
        );
        assert_eq!(
            r.plans,
            [PlanOutcome {
                customer: "C".into(),
                agreed_on: d(3, 20),
                outcome: "broken".into(),
                on: d(5, 2),
                installment: Some(2),
                paid: Decimal::new(5_000, 0),
            }]
        );
        // Broken: the next step is more severe than the last one before the plan.
        let before = r
            .actions
            .iter()
            .filter(|a| a.date < d(3, 20))
            .filter_map(|a| policy.steps.iter().find(|s| s.code == a.step))
            .map(|s| s.severity)
            .max()
            .unwrap_or_default();
        let after = r
            .actions
            .iter()
            .find(|a| a.date >= d(5, 2))
            .and_then(|a| policy.steps.iter().find(|s| s.code == a.step))
            .map(|s| s.severity)
            .unwrap_or_default();
        assert!(after > before, "{before} then {after}");
        // Both installments paid: completed, never dunned again.
        let both =
            format!(r#"{first}, {{"customer": "C", "date": "2026-04-30", "amount": "5000.00"}}"#);
        let p = Portfolio::from_json(&json(&both)).expect("portfolio");
        let r = replay(&policy, &p, d(3, 11), d(6, 30));
        assert_eq!(r.plans.len(), 1);
        assert_eq!(
            (r.plans[0].outcome.as_str(), r.plans[0].on),
            ("completed", d(4, 30))
        );
        assert!(r.actions.iter().all(|a| a.date < d(3, 20)));
        // A bad plan names its field.
        let bad = Portfolio::from_json(&json(first).replace("2026-05-01", "2026-03-30"))
            .expect_err("out of order");
        assert_eq!(bad.field, "plans[0].installments[1].due_date");
    }

    #[test]
    fn a_promise_holds_the_replay_until_judged_and_a_broken_one_resumes_it_r_d5() {
        let json = |paid: &str| {
            format!(
                r#"{{"customers": [{{"id": "C"}}],
                    "receivables": [{{"id": "R", "customer": "C", "contract": "HT", "due_date": "2026-03-10", "amount": "10000.00"}}],
                    "payments": [{{"customer": "C", "date": "2026-03-26", "amount": "{paid}"}}],
                    "promises": [{{"customer": "C", "made_on": "2026-03-18", "amount": "5000.00",
                                   "promised_date": "2026-03-25", "grace_days": 2, "threshold_percent": "95"}}]}}"#
            )
        };
        let policy = Policy::default_policy().expect("policy");
        let run = |paid: &str| {
            let p = Portfolio::from_json(&json(paid)).expect("portfolio");
            replay(&policy, &p, d(3, 11), d(4, 10))
        };
        let broken = run("4000.00");
        assert_eq!(broken.promises.len(), 1);
        assert!(!broken.promises[0].kept);
        assert_eq!(broken.promises[0].judged_on, d(3, 28));
        assert_eq!(broken.promises[0].paid, Decimal::new(400_000, 2));
        // Held from the 18th through the 27th: ten debtor-days, and no action in them.
        assert_eq!(broken.holds.get("PROMISE_TO_PAY"), Some(&10));
        assert!(
            broken
                .actions
                .iter()
                .all(|a| a.date < d(3, 18) || a.date >= d(3, 28))
        );
        let kept = run("4800.00");
        assert!(kept.promises[0].kept);
        assert_eq!(kept.promises[0].judged_on, d(3, 26));
        // A promise that cannot be taken is refused naming the field.
        let bad = Portfolio::from_json(&json("1").replace("\"95\"", "\"120\"")).expect_err("120 %");
        assert_eq!(bad.field, "promises[0].threshold_percent");
    }

    fn example() -> Portfolio {
        Portfolio::from_json(include_str!("../examples/portfolio.json")).expect("the example")
    }

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap_or_default()
    }

    #[test]
    fn the_example_portfolio_replays_with_one_action_a_day_per_customer() {
        let policy = Policy::default_policy().expect("policy");
        let p = example();
        let r = replay(&policy, &p, d(1, 1), d(6, 30));
        assert_eq!(r.policy, "default v1");
        assert!(!r.actions.is_empty());
        for pair in r.actions.windows(2) {
            assert!(
                (pair[0].date, &pair[0].customer) != (pair[1].date, &pair[1].customer),
                "two actions for one customer in a day: {pair:?}"
            );
        }
        // Everything paid is counted, and paid + owed = billed (nothing lost).
        let billed: Decimal = p.receivables.iter().map(|r| r.amount).sum();
        assert_eq!(r.paid + r.owed_at_end, billed);
        assert_eq!(
            r.actions.len() as u64,
            r.by_step.values().sum::<u64>(),
            "{:?}",
            r.by_step
        );
    }

    #[test]
    fn a_payment_ends_the_case_and_the_next_debt_starts_from_the_first_rung() {
        let policy = Policy::default_policy().expect("policy");
        let p = Portfolio::from_json(
            r#"{
              "customers": [{"id": "C1", "grade": "BB"}],
              "receivables": [
                {"id": "R1", "customer": "C1", "contract": "PM-1", "due_date": "2026-01-15", "amount": "300.00"},
                {"id": "R2", "customer": "C1", "contract": "PM-1", "due_date": "2026-04-15", "amount": "300.00"}
              ],
              "payments": [{"customer": "C1", "date": "2026-02-20", "amount": "300.00"}]
            }"#,
        )
        .expect("portfolio");
        let r = replay(&policy, &p, d(1, 1), d(4, 20));
        let steps: Vec<(&str, NaiveDate)> = r
            .actions
            .iter()
            .map(|a| (a.step.as_str(), a.date))
            .collect();
        // January's item: reminders, then notices from day 15 (30 January) until paid.
        assert!(steps.contains(&("pre_due_reminder", d(1, 8))), "{steps:?}");
        assert!(steps.contains(&("notice_series_1", d(1, 30))), "{steps:?}");
        // After the payment, April's item starts again from the gentle reminders.
        assert!(steps.contains(&("pre_due_reminder", d(4, 8))), "{steps:?}");
        assert!(steps.contains(&("due_day_reminder", d(4, 15))), "{steps:?}");
        assert!(
            !steps.iter().any(|(_, on)| *on > d(2, 20) && *on < d(4, 8)),
            "nothing owed between the payment and April's reminder: {steps:?}"
        );
        assert_eq!(r.owed_at_end, Decimal::new(30_000, 2));
    }

    #[test]
    fn a_bad_portfolio_names_the_field() {
        let err = Portfolio::from_json(
            r#"{"customers": [{"id": "C1"}],
                "receivables": [{"id": "R1", "customer": "C9", "contract": "X", "due_date": "2026-01-01", "amount": "1"}]}"#,
        )
        .expect_err("unknown customer");
        assert_eq!(err.field, "receivables[0].customer");
        let err = Portfolio::from_json(
            r#"{"customers": [{"id": "C1"}],
                "receivables": [{"id": "R1", "customer": "C1", "contract": "X", "due_date": "2026-01-01", "amount": "0"}]}"#,
        )
        .expect_err("zero");
        assert_eq!(err.field, "receivables[0].amount");
    }
}
