//! Recovery by dunning step (R-O1, R-D1, R-D11): for each ladder stage, the debts that reached
//! it in a period, what they owed then, and the principal recovered after it.
//!
//! - The stage of a step is its channel (R-D1: from gentle to hard: messages, a call, a
//!   written notice, a visit, a lawyer's letter, a payment order, litigation).
//! - A receivable reaches a stage on the day a step of that stage covering it is taken; it
//!   counts once per stage in the period, with what it owed that day before the day's
//!   payments (what it owed when the stage began; an item billed that day counts in full).
//! - A payment (principal, `Paid`) is recovered by the last step taken on the item on or
//!   before the payment's day (the step "in force"), when it came within `within_days` of that
//!   step. So a payment counts for one step at most, and never for a step after the next one
//!   was taken (it is then the next step's).
//! - Waivers, write-offs and amendments lower what is owed but recover nothing.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{Item, MovementKind, percent};

/// A ladder stage: the channel of a dunning step, gentle to hard (R-D1). The numbers are
/// those of `receivables.types.v1.ContactChannel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    Sms,
    Email,
    AppMessage,
    PhoneCall,
    Letter,
    DoorNotice,
    Visit,
    LawyerLetter,
    PaymentOrderRequest,
    LitigationHandoff,
}

impl Stage {
    /// Every stage, in ladder order.
    pub const ALL: [Stage; 10] = [
        Stage::Sms,
        Stage::Email,
        Stage::AppMessage,
        Stage::PhoneCall,
        Stage::Letter,
        Stage::DoorNotice,
        Stage::Visit,
        Stage::LawyerLetter,
        Stage::PaymentOrderRequest,
        Stage::LitigationHandoff,
    ];

    /// The `ContactChannel` number of the stage.
    #[must_use]
    pub fn channel(self) -> i32 {
        match self {
            Stage::Sms => 1,
            Stage::Email => 2,
            Stage::AppMessage => 3,
            Stage::PhoneCall => 4,
            Stage::Letter => 5,
            Stage::DoorNotice => 6,
            Stage::Visit => 7,
            Stage::LawyerLetter => 8,
            Stage::PaymentOrderRequest => 9,
            Stage::LitigationHandoff => 10,
        }
    }

    /// The stage of a `ContactChannel` number (`None` for unspecified or unknown ones).
    #[must_use]
    pub fn of_channel(channel: i32) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.channel() == channel)
    }

    /// Chinese and English names, for documents.
    #[must_use]
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            Stage::Sms => ("短信", "SMS"),
            Stage::Email => ("电子邮件", "e-mail"),
            Stage::AppMessage => ("应用消息", "app message"),
            Stage::PhoneCall => ("电话催收", "phone call"),
            Stage::Letter => ("催款函", "letter"),
            Stage::DoorNotice => ("张贴通知", "door notice"),
            Stage::Visit => ("上门拜访", "visit"),
            Stage::LawyerLetter => ("律师函", "lawyer's letter"),
            Stage::PaymentOrderRequest => ("支付令申请", "payment order"),
            Stage::LitigationHandoff => ("移交诉讼", "litigation handoff"),
        }
    }
}

/// A dunning step taken on one receivable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepTaken {
    pub receivable: Uuid,
    pub on: NaiveDate,
    pub stage: Stage,
    /// The policy step's code (e.g. `notice_series_2`).
    pub step: String,
}

/// One stage's figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryRow {
    pub stage: Stage,
    pub steps: BTreeSet<String>,
    pub debts: u32,
    pub owed: Decimal,
    pub recovered: Decimal,
    pub debts_recovered: u32,
    /// recovered / owed × 100, two decimals.
    pub rate: Option<Decimal>,
}

/// One currency's stages, in ladder order (only those reached).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryReport {
    pub currency: String,
    pub rows: Vec<RecoveryRow>,
}

/// Recovery by stage of the steps taken within `from..=to`; `steps` in the order they were
/// taken (steps on items reporting does not know are left out).
#[must_use]
pub fn recovery(
    items: &HashMap<Uuid, &Item>,
    steps: &[StepTaken],
    from: NaiveDate,
    to: NaiveDate,
    within_days: u32,
) -> Vec<RecoveryReport> {
    #[derive(Default)]
    struct Acc {
        steps: BTreeSet<String>,
        debts: u32,
        owed: Decimal,
        recovered: Decimal,
        debts_recovered: u32,
    }
    let mut by_item: BTreeMap<Uuid, Vec<&StepTaken>> = BTreeMap::new();
    for s in steps {
        by_item.entry(s.receivable).or_default().push(s);
    }
    let mut acc: BTreeMap<(&str, Stage), Acc> = BTreeMap::new();
    for (id, mut taken) in by_item {
        let Some(item) = items.get(&id) else {
            continue;
        };
        // Stable: steps of one day keep the order they were taken in.
        taken.sort_by_key(|s| s.on);
        let mut reached: BTreeSet<Stage> = BTreeSet::new();
        for s in taken.iter().filter(|s| s.on >= from && s.on <= to) {
            let a = acc.entry((item.currency.as_str(), s.stage)).or_default();
            a.steps.insert(s.step.clone());
            if reached.insert(s.stage) {
                a.debts += 1;
                // Owed when the step was taken: the day's end balance before the day's
                // payments (they came after the step, or the step would not have been taken).
                let owed = item.balance_at(s.on) + item.lowered_by(MovementKind::Paid, s.on, s.on);
                a.owed += owed.max(Decimal::ZERO);
            }
        }
        let mut recovered_at: BTreeSet<Stage> = BTreeSet::new();
        for m in item
            .movements
            .iter()
            .filter(|m| m.kind == MovementKind::Paid)
        {
            // The step in force on the payment's day: the last one taken on or before it.
            let Some(step) = taken.iter().rev().find(|s| s.on <= m.on) else {
                continue;
            };
            let in_window = (m.on - step.on).num_days() <= i64::from(within_days);
            if step.on < from || step.on > to || !in_window {
                continue;
            }
            let a = acc.entry((item.currency.as_str(), step.stage)).or_default();
            a.recovered -= m.principal;
            if recovered_at.insert(step.stage) {
                a.debts_recovered += 1;
            }
        }
    }
    let mut reports: Vec<RecoveryReport> = Vec::new();
    for ((currency, stage), a) in acc {
        if reports.last().is_none_or(|r| r.currency != currency) {
            reports.push(RecoveryReport {
                currency: currency.to_owned(),
                rows: Vec::new(),
            });
        }
        if let Some(report) = reports.last_mut() {
            report.rows.push(RecoveryRow {
                stage,
                steps: a.steps,
                debts: a.debts,
                owed: a.owed,
                recovered: a.recovered,
                debts_recovered: a.debts_recovered,
                rate: percent(a.recovered, a.owed),
            });
        }
    }
    reports
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::tests::{date, item, moved};
    use proptest::prelude::*;

    fn step(receivable: Uuid, on: &str, stage: Stage, code: &str) -> StepTaken {
        StepTaken {
            receivable,
            on: date(on),
            stage,
            step: code.into(),
        }
    }

    // R-O1 recovery by dunning step, by hand: item A (1,000 due 1 March) gets an SMS on
    // 3 March and a call on 10 March; 300 paid on 5 March is the SMS's, 200 paid on 12 March
    // the call's, 100 paid on 20 May is too late for either (30 days). Item B (500) gets an
    // SMS on 4 March and pays 500 on 4 March (the day of the step counts).
    #[test]
    fn payments_count_for_the_step_in_force_within_the_window_r_o1() {
        let a = Uuid::from_u128(1);
        let b = Uuid::from_u128(2);
        let item_a = moved(
            moved(
                moved(
                    item("2026-03-01", "2026-01-01", 1000),
                    "2026-03-05",
                    -300,
                    MovementKind::Paid,
                ),
                "2026-03-12",
                -200,
                MovementKind::Paid,
            ),
            "2026-05-20",
            -100,
            MovementKind::Paid,
        );
        let item_b = moved(
            item("2026-03-01", "2026-01-01", 500),
            "2026-03-04",
            -500,
            MovementKind::Paid,
        );
        let items: HashMap<Uuid, &Item> = [(a, &item_a), (b, &item_b)].into_iter().collect();
        let steps = [
            step(a, "2026-03-03", Stage::Sms, "overdue_reminder"),
            step(b, "2026-03-04", Stage::Sms, "overdue_reminder"),
            step(a, "2026-03-10", Stage::PhoneCall, "first_call"),
        ];
        let r = recovery(&items, &steps, date("2026-03-01"), date("2026-03-31"), 30);
        assert_eq!(r.len(), 1);
        let rows = &r[0].rows;
        assert_eq!(rows[0].stage, Stage::Sms);
        assert_eq!(rows[0].debts, 2);
        // A owed 1,000 on 3 March, B 500 on 4 March (the payment that day came after).
        assert_eq!(rows[0].owed, Decimal::from(1500));
        assert_eq!(rows[0].recovered, Decimal::from(800));
        assert_eq!(rows[0].debts_recovered, 2);
        assert_eq!(rows[0].rate, Some("53.33".parse().expect("d")));
        assert_eq!(rows[1].stage, Stage::PhoneCall);
        assert_eq!(rows[1].owed, Decimal::from(700));
        assert_eq!(rows[1].recovered, Decimal::from(200));
        assert_eq!(rows[1].rate, Some("28.57".parse().expect("d")));
        // Steps outside the period count for nothing.
        let april = recovery(&items, &steps, date("2026-04-01"), date("2026-04-30"), 30);
        assert!(april.is_empty());
    }

    #[test]
    fn stages_follow_the_contact_channel_numbers() {
        for s in Stage::ALL {
            assert_eq!(Stage::of_channel(s.channel()), Some(s));
        }
        assert_eq!(Stage::of_channel(0), None);
        assert!(Stage::Sms < Stage::LitigationHandoff);
    }

    proptest! {
        // Each payment counts for one step at most: what all stages recovered is never more
        // than what was paid (R-O1).
        #[test]
        fn a_payment_is_recovered_once_at_most(
            pays in proptest::collection::vec((0u64..90, 1i64..500), 0..8),
            taken in proptest::collection::vec((0u64..90, 0usize..10), 0..8),
            within in 0u32..60,
        ) {
            let start = date("2026-01-01");
            let id = Uuid::from_u128(7);
            let mut it = item("2026-01-01", "2025-12-01", 10_000);
            for (day, cents) in &pays {
                it.movements.push(crate::domain::Movement {
                    on: start + chrono::Days::new(*day),
                    principal: -Decimal::new(*cents, 0),
                    kind: MovementKind::Paid,
                });
            }
            let steps: Vec<StepTaken> = taken
                .iter()
                .map(|(day, s)| StepTaken {
                    receivable: id,
                    on: start + chrono::Days::new(*day),
                    stage: Stage::ALL[*s],
                    step: "x".into(),
                })
                .collect();
            let items: HashMap<Uuid, &Item> = [(id, &it)].into_iter().collect();
            let paid: Decimal = pays.iter().map(|(_, c)| Decimal::new(*c, 0)).sum();
            let r = recovery(&items, &steps, start, start + chrono::Days::new(120), within);
            let recovered: Decimal = r.iter().flat_map(|r| &r.rows).map(|row| row.recovered).sum();
            prop_assert!(recovered <= paid);
            prop_assert!(recovered >= Decimal::ZERO);
            for row in r.iter().flat_map(|r| &r.rows) {
                prop_assert!(row.debts_recovered <= row.debts.max(1));
            }
        }
    }
}
