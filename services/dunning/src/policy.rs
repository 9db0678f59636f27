//! Dunning policies as data (R-D1, R-D2, R-D7, R-D12; issue 13 item 1): versioned, effective
//! from a date, a list of steps with a channel, conditions and spacing, and the pure engine
//! that decides, for one debtor on one day, the one step to take (R-D3: one notice covering
//! all of a debtor's overdue items, at the most severe step due) or why the ladder holds.
//!
//! The engine has no clock and no I/O: the service and the backtest run the same function.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// How a step reaches the debtor (R-D1): the one channel type of dunning, also the contact
/// log's (its text forms are hashed there).
pub use crate::domain::contact_log::Channel;

/// What kind of property a debt is for (R-C3, R-D7); `None` for purchase contracts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Segment {
    /// Homes.
    Residential,
    /// Shops and offices.
    Commercial,
    /// Villas.
    Villa,
    /// Parking spaces.
    Parking,
}

impl Segment {
    /// The stored name (as in policies).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Segment::Residential => "residential",
            Segment::Commercial => "commercial",
            Segment::Villa => "villa",
            Segment::Parking => "parking",
        }
    }

    /// The segment named `text`.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        [
            Segment::Residential,
            Segment::Commercial,
            Segment::Villa,
            Segment::Parking,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

impl Occupancy {
    /// The stored name (as in policies).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Occupancy::Vacant => "vacant",
            Occupancy::Occupied => "occupied",
        }
    }

    /// The occupancy named `text`.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        [Occupancy::Vacant, Occupancy::Occupied]
            .into_iter()
            .find(|o| o.as_str() == text)
    }
}

/// Whether the unit is lived in (R-C3, R-D7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Occupancy {
    /// Nobody lives there (often a speculative purchase).
    Vacant,
    /// Lived in.
    Occupied,
}

/// When a step applies, all conditions together. Days are counted from the due date of the
/// debtor's oldest open item: negative before it, 0 on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// First day (relative to due) the step may run.
    pub from_day: i32,
    /// Last day it may run; none: no end.
    #[serde(default)]
    pub to_day: Option<i32>,
    /// Least amount overdue (for steps after due) or falling due (before), inclusive.
    #[serde(default, with = "rust_decimal::serde::str")]
    pub min_amount: Decimal,
    /// Grades it applies to (R-S4); empty: any.
    #[serde(default)]
    pub grades: Vec<String>,
    /// Segments it applies to (R-D7); empty: any, also debts without a segment.
    #[serde(default)]
    pub segments: Vec<Segment>,
    /// Occupancy it applies to (R-D7); empty: any.
    #[serde(default)]
    pub occupancy: Vec<Occupancy>,
    /// Steps of which at least one must have been taken in the case before (R-D7: the legal
    /// route opens when the earlier steps failed); empty: none needed.
    #[serde(default)]
    pub after_any: Vec<String>,
}

/// One step of the ladder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepDef {
    /// Stable code, recorded on every action (e.g. `notice_series_1`).
    pub code: String,
    /// Gentle to hard (R-D1): the engine takes the most severe step due, and never one less
    /// severe than the last taken after due (R-D12).
    pub severity: u32,
    /// How it reaches the debtor.
    pub channel: Channel,
    /// When it applies.
    pub when: Condition,
    /// Times it is taken in one case; 1 for a single step, 10 for R-D2's notice series.
    #[serde(default = "one")]
    pub times: u32,
    /// Days at least between two of it (R-D2: 3 for "every 3–4 days", 14 for reminders).
    #[serde(default)]
    pub every_days: u32,
    /// The debtor signs for it (R-D2: from the sixth notice).
    #[serde(default)]
    pub signature_required: bool,
    /// A notice fee charged once per notice and booked as a cost (R-D3, R-D12).
    #[serde(default, with = "rust_decimal::serde::str")]
    pub fee: Decimal,
    /// Templates by language, Chinese first (R-D3): `{"zh-CN": "…", "en": "…"}`.
    #[serde(default)]
    pub templates: BTreeMap<String, String>,
}

fn one() -> u32 {
    1
}

/// A versioned policy, in force from `effective_from`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Name, e.g. `property-fees`.
    pub id: String,
    /// Version, recorded on every action.
    pub version: u32,
    /// First business day it applies.
    pub effective_from: NaiveDate,
    /// The steps, in any order (severity orders them).
    pub steps: Vec<StepDef>,
    /// Templates collectors send by hand (`SendMessage`) besides the steps', by code.
    #[serde(default)]
    pub messages: BTreeMap<String, MessageDef>,
}

/// What a template may reveal (R-D9, R-D13): the steps' templates speak of the debt and go
/// to the debtor only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disclosure {
    /// Speaks of the debt: never to anyone but the debtor.
    #[default]
    DebtorOnly,
    /// Only asks the recipient to have the debtor call back; says nothing of the debt (the
    /// one thing a debtor-designated contact may be told).
    CallBackRequest,
}

/// A hand-sent template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageDef {
    /// What it may reveal.
    #[serde(default)]
    pub disclosure: Disclosure,
    /// Templates by language, Chinese required.
    pub templates: BTreeMap<String, String>,
}

impl MessageDef {
    /// The template in `language`, else Chinese, else any.
    #[must_use]
    pub fn template(&self, language: &str) -> Option<(&str, &str)> {
        pick_template(&self.templates, language)
    }
}

/// The template in `language`, else Chinese, else any (R-D3: Chinese first).
fn pick_template<'a>(
    templates: &'a BTreeMap<String, String>,
    language: &str,
) -> Option<(&'a str, &'a str)> {
    templates
        .get_key_value(language)
        .or_else(|| templates.get_key_value("zh-CN"))
        .or_else(|| templates.iter().next())
        .map(|(k, v)| (k.as_str(), v.as_str()))
}

/// A policy that cannot be used, naming the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    /// e.g. `steps[3].every_days`.
    pub field: String,
    /// Why, and what to do.
    pub reason: String,
}

impl std::fmt::Display for PolicyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

impl std::error::Error for PolicyError {}

impl Policy {
    /// Parses and checks a policy (JSON). Errors name the field.
    ///
    /// # Errors
    /// The JSON does not parse, or a step is unusable.
    pub fn from_json(json: &str) -> Result<Self, PolicyError> {
        let policy: Policy = serde_json::from_str(json).map_err(|e| PolicyError {
            field: format!("line {} column {}", e.line(), e.column()),
            reason: e.to_string(),
        })?;
        policy.check()?;
        Ok(policy)
    }

    /// Checks the steps: codes unique and non-empty, windows not inverted, repeated steps
    /// spaced, fees not negative, a Chinese template for every step (R-D3).
    ///
    /// # Errors
    /// The first unusable field.
    pub fn check(&self) -> Result<(), PolicyError> {
        let bad = |i: usize, field: &str, reason: &str| PolicyError {
            field: format!("steps[{i}].{field}"),
            reason: reason.to_owned(),
        };
        if self.steps.is_empty() {
            return Err(PolicyError {
                field: "steps".to_owned(),
                reason: "a policy needs at least one step".to_owned(),
            });
        }
        for (i, s) in self.steps.iter().enumerate() {
            if s.code.trim().is_empty() {
                return Err(bad(i, "code", "give the step a code"));
            }
            if self.steps[..i].iter().any(|o| o.code == s.code) {
                return Err(bad(i, "code", "another step has this code"));
            }
            if s.when.to_day.is_some_and(|to| to < s.when.from_day) {
                return Err(bad(i, "when.to_day", "ends before from_day"));
            }
            if let Some(unknown) = s
                .when
                .after_any
                .iter()
                .find(|code| !self.steps.iter().any(|o| o.code == **code))
            {
                return Err(bad(
                    i,
                    "when.after_any",
                    &format!("{unknown:?} is not the code of a step of this policy"),
                ));
            }
            if s.times == 0 {
                return Err(bad(i, "times", "at least 1"));
            }
            if s.times > 1 && s.every_days == 0 {
                return Err(bad(
                    i,
                    "every_days",
                    "a repeated step needs days between its repeats",
                ));
            }
            if s.fee < Decimal::ZERO || s.when.min_amount < Decimal::ZERO {
                return Err(bad(i, "fee", "amounts are not negative"));
            }
            if !s.templates.contains_key("zh-CN") {
                return Err(bad(
                    i,
                    "templates",
                    "a Chinese (zh-CN) template is required (R-D3)",
                ));
            }
        }
        for (code, m) in &self.messages {
            if self.steps.iter().any(|s| s.code == *code) {
                return Err(PolicyError {
                    field: format!("messages.{code}"),
                    reason: "a step has this code; give the message another".to_owned(),
                });
            }
            if !m.templates.contains_key("zh-CN") {
                return Err(PolicyError {
                    field: format!("messages.{code}.templates"),
                    reason: "a Chinese (zh-CN) template is required (R-D3)".to_owned(),
                });
            }
        }
        Ok(())
    }

    /// The template a collector may send under `code` (a step's or a hand-sent message's),
    /// in `language`, and what it may reveal.
    #[must_use]
    pub fn hand_template(&self, code: &str, language: &str) -> Option<(Disclosure, &str, &str)> {
        if let Some(step) = self.steps.iter().find(|s| s.code == code) {
            return step
                .template(language)
                .map(|(l, t)| (Disclosure::DebtorOnly, l, t));
        }
        let m = self.messages.get(code)?;
        m.template(language).map(|(l, t)| (m.disclosure, l, t))
    }

    /// The default policy shipped with the service (the seeds' R-D1, R-D2, R-D7).
    ///
    /// # Errors
    /// Never for the shipped file; the type says what a broken build would.
    pub fn default_policy() -> Result<Self, PolicyError> {
        Self::from_json(include_str!("../policies/default.json"))
    }
}

/// An open item of the debtor (any contract).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item {
    /// Due date.
    pub due: NaiveDate,
    /// Owed on it now (principal, fees, interest, costs; R-D12).
    pub open: Decimal,
}

/// A step taken before in the debtor's current case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taken {
    /// The step's code.
    pub code: String,
    /// Its severity when taken.
    pub severity: u32,
    /// The business day.
    pub on: NaiveDate,
}

/// What the engine knows of one debtor on one day.
#[derive(Debug, Clone, Copy)]
pub struct Debtor<'a> {
    /// Grade (AAA..D).
    pub grade: &'a str,
    /// The segment of their units, if any (R-D7).
    pub segment: Option<Segment>,
    /// Occupancy, if known.
    pub occupancy: Option<Occupancy>,
    /// Open items, any order.
    pub items: &'a [Item],
    /// Steps taken in the current case, any order.
    pub taken: &'a [Taken],
}

/// Why no step is taken today although the debtor owes (R-D12: every hold has a reason).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Hold {
    /// A step was taken today already: one contact per debtor and day (R-D3).
    AlreadyToday,
    /// The step due is spaced from the last one (R-D2 "every 3–4 days").
    Spacing,
    /// The most severe step now due is gentler than the last one taken: a payment changed
    /// which item is oldest. The ladder holds where it is instead of going back (R-D12).
    OldestItemChanged,
    /// Every step due has been taken as often as the policy says; the next needs more days
    /// or a larger amount.
    WaitingForNextStep,
}

impl Hold {
    /// The reason code recorded with the hold.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Hold::AlreadyToday => "ALREADY_TODAY",
            Hold::Spacing => "SPACING",
            Hold::OldestItemChanged => "OLDEST_ITEM_CHANGED",
            Hold::WaitingForNextStep => "WAITING_FOR_NEXT_STEP",
        }
    }
}

/// The engine's answer for one debtor and day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision<'p> {
    /// Nothing owed or nothing applies yet.
    Nothing,
    /// Take this step (the `n`-th time in the case), covering `items` (indexes into the
    /// debtor's items: every overdue one after due, the ones falling due before it).
    Take {
        /// The step.
        step: &'p StepDef,
        /// 1 for the first time.
        n: u32,
        /// Covered items.
        items: Vec<usize>,
        /// Σ owed on them.
        amount: Decimal,
    },
    /// Hold, with the reason.
    Hold(Hold),
}

/// The one decision for `debtor` on `today` under `policy` (pure).
#[must_use]
pub fn decide<'p>(policy: &'p Policy, debtor: &Debtor<'_>, today: NaiveDate) -> Decision<'p> {
    decide_above(policy, debtor, today, None)
}

/// [`decide`] with a floor: after a broken repayment plan (R-D6) only a step more severe
/// than `above` may be taken; until one applies the debtor holds with
/// [`Hold::WaitingForNextStep`].
#[must_use]
pub fn decide_above<'p>(
    policy: &'p Policy,
    debtor: &Debtor<'_>,
    today: NaiveDate,
    above: Option<u32>,
) -> Decision<'p> {
    let owed: Vec<usize> = (0..debtor.items.len())
        .filter(|i| debtor.items[*i].open > Decimal::ZERO)
        .collect();
    let Some(oldest) = owed.iter().map(|i| debtor.items[*i].due).min() else {
        return Decision::Nothing;
    };
    if debtor.taken.iter().any(|t| t.on == today) {
        return Decision::Hold(Hold::AlreadyToday);
    }
    let overdue: Vec<usize> = owed
        .iter()
        .copied()
        .filter(|i| debtor.items[*i].due < today)
        .collect();
    let day = i32::try_from((today - oldest).num_days()).unwrap_or(i32::MAX);
    let (covered, amount) = if overdue.is_empty() {
        // Before due: the items falling due first (R-D1 reminders).
        let first: Vec<usize> = owed
            .iter()
            .copied()
            .filter(|i| debtor.items[*i].due == oldest)
            .collect();
        let amount = first.iter().map(|i| debtor.items[*i].open).sum();
        (first, amount)
    } else {
        let amount = overdue.iter().map(|i| debtor.items[*i].open).sum();
        (overdue, amount)
    };
    let last_severity = debtor
        .taken
        .iter()
        .filter(|t| t.on <= today)
        .map(|t| t.severity)
        .max();
    // The steps whose conditions hold today, most severe first.
    let mut due: Vec<&StepDef> = policy
        .steps
        .iter()
        .filter(|s| applies(&s.when, debtor, day, amount))
        .collect();
    due.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.code.cmp(&b.code)));
    // The reason recorded is the most severe due step's: why it is not taken today.
    let mut hold = None;
    for step in due {
        if above.is_some_and(|floor| step.severity <= floor) {
            // R-D6: a broken plan escalates; the steps it paused at are behind the debtor.
            hold.get_or_insert(Hold::WaitingForNextStep);
            continue;
        }
        if day > 0 && last_severity.is_some_and(|last| step.severity < last) {
            // R-D12: never back down the ladder after due.
            hold.get_or_insert(Hold::OldestItemChanged);
            continue;
        }
        let before: Vec<&Taken> = debtor
            .taken
            .iter()
            .filter(|t| t.code == step.code)
            .collect();
        let n = u32::try_from(before.len()).unwrap_or(u32::MAX);
        if n >= step.times {
            hold.get_or_insert(Hold::WaitingForNextStep);
            continue;
        }
        let last = before.iter().map(|t| t.on).max();
        if let Some(last) = last
            && (today - last).num_days() < i64::from(step.every_days)
        {
            hold.get_or_insert(Hold::Spacing);
            continue;
        }
        return Decision::Take {
            step,
            n: n + 1,
            items: covered,
            amount,
        };
    }
    hold.map_or(Decision::Nothing, Decision::Hold)
}

/// Fills a step's template: every `{name}` whose name is in `vars` becomes its value;
/// other braces stay as written (a template naming an unknown field shows it, it does not
/// fail the run).
#[must_use]
pub fn render(template: &str, vars: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match vars.iter().find(|(k, _)| *k == name) {
                    Some((_, value)) => out.push_str(value),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

impl StepDef {
    /// The template in `language`, else Chinese, else any (R-D3: Chinese first).
    #[must_use]
    pub fn template(&self, language: &str) -> Option<(&str, &str)> {
        pick_template(&self.templates, language)
    }
}

impl Policy {
    /// How many days before due the earliest pre-due step runs (R-D1: 7); `None` when the
    /// policy has no step before or on the due date.
    #[must_use]
    pub fn pre_due_lead(&self) -> Option<u32> {
        self.steps
            .iter()
            .filter(|s| s.when.to_day.is_some_and(|t| t <= 0))
            .map(|s| s.when.from_day.min(0).unsigned_abs())
            .max()
    }

    /// The next harder step after `step` (the least severe one above it), for "what happens
    /// next" on a notice (R-D3).
    #[must_use]
    pub fn next_after(&self, step: &StepDef) -> Option<&StepDef> {
        self.steps
            .iter()
            .filter(|s| s.severity > step.severity)
            .min_by(|a, b| a.severity.cmp(&b.severity).then(a.code.cmp(&b.code)))
    }
}

/// [`decide`] over several views of one debtor (their items in each currency, the one to try
/// first first), so that amounts of different currencies are never added up: the first view
/// that takes a step wins (one step a day for the debtor), else the first hold. Returns the
/// view's index with the decision.
#[must_use]
pub fn decide_each<'p>(
    policy: &'p Policy,
    views: &[Debtor<'_>],
    today: NaiveDate,
) -> (usize, Decision<'p>) {
    decide_each_above(policy, views, today, None)
}

/// [`decide_each`] with the floor of [`decide_above`].
#[must_use]
pub fn decide_each_above<'p>(
    policy: &'p Policy,
    views: &[Debtor<'_>],
    today: NaiveDate,
    above: Option<u32>,
) -> (usize, Decision<'p>) {
    let mut first_hold = None;
    for (i, view) in views.iter().enumerate() {
        match decide_above(policy, view, today, above) {
            Decision::Nothing => {}
            Decision::Hold(hold) => {
                first_hold.get_or_insert((i, hold));
            }
            take @ Decision::Take { .. } => return (i, take),
        }
    }
    first_hold.map_or((0, Decision::Nothing), |(i, hold)| {
        (i, Decision::Hold(hold))
    })
}

fn applies(c: &Condition, debtor: &Debtor<'_>, day: i32, amount: Decimal) -> bool {
    day >= c.from_day
        && c.to_day.is_none_or(|to| day <= to)
        && amount >= c.min_amount
        && (c.grades.is_empty() || c.grades.iter().any(|g| g == debtor.grade))
        && (c.segments.is_empty() || debtor.segment.is_some_and(|s| c.segments.contains(&s)))
        && (c.occupancy.is_empty() || debtor.occupancy.is_some_and(|o| c.occupancy.contains(&o)))
        && (c.after_any.is_empty() || debtor.taken.iter().any(|t| c.after_any.contains(&t.code)))
}

#[cfg(test)]
mod tests;
