//! Repayment plans (R-D6): what a debtor owes on named items, re-scheduled into installments.
//! One person proposes, another approves; above a configured amount a second approver with
//! the risk role, a third person. While the plan is kept its items are out of the ladder;
//! it is judged on the cumulative payments towards it: an installment is met when everything
//! paid since the plan was agreed, up to the installment's date plus the grace days, reaches
//! the sum of the installments up to it. A missed one breaks the plan. Pure: the service and
//! the backtest judge the same way.

use chrono::{Days, Months, NaiveDate};
use rust_decimal::Decimal;

/// The most installments a plan may have (ten years of monthly ones).
pub const MAX_INSTALLMENTS: usize = 120;
/// The most grace days after an installment's date.
pub const MAX_GRACE_DAYS: u32 = 30;

/// One installment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Installment {
    /// 1, 2, …
    pub number: u32,
    /// Its date.
    pub due: NaiveDate,
    /// Its amount.
    pub amount: Decimal,
}

/// Why a plan cannot be taken, naming the request field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermsError {
    /// The request field.
    pub field: String,
    /// Why, and what is expected.
    pub reason: String,
}

fn terms_error(field: impl Into<String>, reason: impl Into<String>) -> TermsError {
    TermsError {
        field: field.into(),
        reason: reason.into(),
    }
}

/// `count` equal monthly installments of `total` from `first` (the last takes what rounding
/// to the fen leaves; a day a month lacks becomes that month's last day).
///
/// # Errors
/// A count of 0 or above [`MAX_INSTALLMENTS`], or a total too small to give every
/// installment at least 0.01.
pub fn equal_monthly(
    total: Decimal,
    count: u32,
    first: NaiveDate,
) -> Result<Vec<Installment>, TermsError> {
    if count == 0 || count as usize > MAX_INSTALLMENTS {
        return Err(terms_error(
            "installment_count",
            format!("{count} installments: give 1 to {MAX_INSTALLMENTS}"),
        ));
    }
    let share = (total / Decimal::from(count))
        .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::ToZero);
    if share <= Decimal::ZERO {
        return Err(terms_error(
            "installment_count",
            format!("{total} cannot be split into {count} installments of at least 0.01"),
        ));
    }
    let mut out = Vec::with_capacity(count as usize);
    for k in 0..count {
        let due = first.checked_add_months(Months::new(k)).ok_or_else(|| {
            terms_error(
                "first_due_date",
                format!("{first} plus {k} months is out of range"),
            )
        })?;
        let amount = if k + 1 == count {
            total - share * Decimal::from(count - 1)
        } else {
            share
        };
        out.push(Installment {
            number: k + 1,
            due,
            amount,
        });
    }
    Ok(out)
}

/// Checks installments proposed on `today` for what the items owe (`total`).
///
/// # Errors
/// The first field that is not acceptable.
pub fn check(
    installments: &[Installment],
    total: Decimal,
    grace_days: u32,
    today: NaiveDate,
) -> Result<(), TermsError> {
    if installments.is_empty() {
        return Err(terms_error(
            "installments",
            "give the installments, or installment_count and first_due_date",
        ));
    }
    if installments.len() > MAX_INSTALLMENTS {
        return Err(terms_error(
            "installments",
            format!(
                "{} installments: at most {MAX_INSTALLMENTS}",
                installments.len()
            ),
        ));
    }
    if grace_days > MAX_GRACE_DAYS {
        return Err(terms_error(
            "grace_days",
            format!("{grace_days} is more than {MAX_GRACE_DAYS} days"),
        ));
    }
    let mut previous: Option<NaiveDate> = None;
    for (i, inst) in installments.iter().enumerate() {
        if inst.number as usize != i + 1 {
            return Err(terms_error(
                format!("installments[{i}].number"),
                format!(
                    "{} where {} was expected: number them 1, 2, …",
                    inst.number,
                    i + 1
                ),
            ));
        }
        if inst.amount <= Decimal::ZERO || inst.amount.scale() > 2 {
            return Err(terms_error(
                format!("installments[{i}].amount"),
                format!(
                    "{} is not an installment: give a positive amount with at most two decimals",
                    inst.amount
                ),
            ));
        }
        if inst.due < today {
            return Err(terms_error(
                format!("installments[{i}].due_date"),
                format!(
                    "{} is before today's business date {today}: installments fall due from today on",
                    inst.due
                ),
            ));
        }
        if previous.is_some_and(|p| inst.due <= p) {
            return Err(terms_error(
                format!("installments[{i}].due_date"),
                format!("{} is not after the installment before it", inst.due),
            ));
        }
        previous = Some(inst.due);
    }
    let sum: Decimal = installments.iter().map(|i| i.amount).sum();
    if sum != total {
        return Err(terms_error(
            "installments",
            format!(
                "they add up to {sum} but the items owe {total}: a plan re-schedules exactly what is owed"
            ),
        ));
    }
    Ok(())
}

/// Where a plan stands (one status machine: the only place its transitions are decided).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Waiting for its first approval.
    Proposed,
    /// Approved once; waiting for the second (risk) approver.
    FirstApproved,
    /// Agreed: items out of the ladder while installments are met.
    Active,
    /// Rejected by an approver.
    Rejected,
    /// Everything paid.
    Completed,
    /// An installment was missed.
    Broken,
    /// Contracts could not book it.
    Refused,
}

impl Status {
    /// As stored.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Proposed => "proposed",
            Status::FirstApproved => "first_approved",
            Status::Active => "active",
            Status::Rejected => "rejected",
            Status::Completed => "completed",
            Status::Broken => "broken",
            Status::Refused => "refused",
        }
    }

    /// From storage.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        [
            Status::Proposed,
            Status::FirstApproved,
            Status::Active,
            Status::Rejected,
            Status::Completed,
            Status::Broken,
            Status::Refused,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    /// Waiting for a decision.
    #[must_use]
    pub fn is_pending(self) -> bool {
        matches!(self, Status::Proposed | Status::FirstApproved)
    }
}

/// Who decides, as far as the rule needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Approver<'a> {
    /// The authenticated subject.
    pub subject: &'a str,
    /// Holds the risk role (the second level).
    pub risk: bool,
}

/// Why an approval is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The proposer may not approve their own plan (R-D6), whatever their roles.
    Proposer,
    /// The second approval must come from someone other than the first approver.
    SameApprover,
    /// The second approval needs the risk role.
    NeedsRisk,
    /// Decided already.
    Decided(Status),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Proposer => write!(
                f,
                "the proposer cannot approve their own plan (R-D6): another supervisor or risk approver must"
            ),
            Refusal::SameApprover => write!(
                f,
                "you approved this plan already: above the second-approval amount a second person with the risk role approves"
            ),
            Refusal::NeedsRisk => write!(
                f,
                "the plan is above the second-approval amount: its second approval needs the risk role"
            ),
            Refusal::Decided(status) => write!(f, "the plan is {} already", status.as_str()),
        }
    }
}

/// The status after `approver` approves a plan in `status` proposed by `proposed_by`
/// (`first_approver` set once approved once; `second_required` above the amount).
///
/// # Errors
/// Why this person may not approve it now.
pub fn approve(
    status: Status,
    second_required: bool,
    proposed_by: &str,
    first_approver: Option<&str>,
    approver: Approver<'_>,
) -> Result<Status, Refusal> {
    if !status.is_pending() {
        return Err(Refusal::Decided(status));
    }
    if approver.subject == proposed_by {
        return Err(Refusal::Proposer);
    }
    match status {
        Status::Proposed if second_required => Ok(Status::FirstApproved),
        Status::Proposed => Ok(Status::Active),
        _ => {
            if first_approver == Some(approver.subject) {
                Err(Refusal::SameApprover)
            } else if !approver.risk {
                Err(Refusal::NeedsRisk)
            } else {
                Ok(Status::Active)
            }
        }
    }
}

/// The status after a rejection.
///
/// # Errors
/// The plan was decided already.
pub fn reject(status: Status) -> Result<Status, Refusal> {
    if status.is_pending() {
        Ok(Status::Rejected)
    } else {
        Err(Refusal::Decided(status))
    }
}

/// How an agreed plan stands on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Kept so far; `met` installments are covered.
    Kept {
        /// Installments covered by what was paid.
        met: u32,
    },
    /// Everything was paid.
    Completed {
        /// The day the payments reached the total.
        on: NaiveDate,
    },
    /// An installment's last day passed without it.
    Broken {
        /// The installment.
        installment: u32,
        /// The first day after its last day.
        on: NaiveDate,
        /// Due up to it, cumulative.
        due: Decimal,
        /// Paid by its last day.
        paid: Decimal,
    },
}

/// The last day a payment counts for `inst`.
#[must_use]
pub fn last_day(inst: &Installment, grace_days: u32) -> NaiveDate {
    inst.due
        .checked_add_days(Days::new(u64::from(grace_days)))
        .unwrap_or(NaiveDate::MAX)
}

/// The plan on `today`, given the payments towards it since it was agreed (booking date,
/// amount), in any order. Whatever happened first wins: a plan completed late was broken.
#[must_use]
pub fn judge(
    installments: &[Installment],
    grace_days: u32,
    payments: &[(NaiveDate, Decimal)],
    today: NaiveDate,
) -> Verdict {
    let mut paid: Vec<(NaiveDate, Decimal)> = payments
        .iter()
        .copied()
        .filter(|(on, _)| *on <= today)
        .collect();
    paid.sort_by_key(|(on, _)| *on);
    let paid_by = |day: NaiveDate| -> Decimal {
        paid.iter()
            .filter(|(on, _)| *on <= day)
            .map(|(_, a)| *a)
            .sum()
    };
    let total: Decimal = installments.iter().map(|i| i.amount).sum();
    let mut running = Decimal::ZERO;
    let mut completed_on = None;
    for (on, amount) in &paid {
        running += *amount;
        if running >= total {
            completed_on = Some(*on);
            break;
        }
    }
    let mut due = Decimal::ZERO;
    let mut met = 0;
    for inst in installments {
        due += inst.amount;
        let last = last_day(inst, grace_days);
        let by_last = paid_by(last);
        if by_last >= due {
            met = inst.number;
            continue;
        }
        if today > last {
            let on = last.succ_opt().unwrap_or(last);
            if completed_on.is_some_and(|c| c < on) {
                break;
            }
            return Verdict::Broken {
                installment: inst.number,
                on,
                due,
                paid: by_last,
            };
        }
        break;
    }
    match completed_on {
        Some(on) => Verdict::Completed { on },
        None => Verdict::Kept { met },
    }
}

/// Each installment's standing on `today` (for display).
#[must_use]
pub fn standings(
    installments: &[Installment],
    grace_days: u32,
    payments: &[(NaiveDate, Decimal)],
    today: NaiveDate,
) -> Vec<Standing> {
    let mut due = Decimal::ZERO;
    installments
        .iter()
        .map(|inst| {
            due += inst.amount;
            let last = last_day(inst, grace_days);
            let paid: Decimal = payments
                .iter()
                .filter(|(on, _)| *on <= last.min(today))
                .map(|(_, a)| *a)
                .sum();
            if paid >= due {
                Standing::Paid
            } else if today > last {
                Standing::Missed
            } else {
                Standing::Pending
            }
        })
        .collect()
}

/// One installment's standing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Not yet covered, its last day not passed.
    Pending,
    /// Covered.
    Paid,
    /// Its last day passed without it.
    Missed,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, month, day).unwrap_or_default()
    }

    fn m(text: &str) -> Decimal {
        text.parse().unwrap_or_default()
    }

    #[test]
    fn equal_monthly_installments_add_up_and_keep_month_ends() {
        let plan = equal_monthly(m("10000.00"), 3, d(2027, 1, 31)).unwrap_or_default();
        let amounts: Vec<Decimal> = plan.iter().map(|i| i.amount).collect();
        assert_eq!(amounts, vec![m("3333.33"), m("3333.33"), m("3333.34")]);
        let dates: Vec<NaiveDate> = plan.iter().map(|i| i.due).collect();
        assert_eq!(dates, vec![d(2027, 1, 31), d(2027, 2, 28), d(2027, 3, 31)]);
        assert!(equal_monthly(m("0.02"), 3, d(2027, 1, 1)).is_err());
        assert!(equal_monthly(m("100"), 0, d(2027, 1, 1)).is_err());
    }

    #[test]
    fn check_names_the_field() {
        let today = d(2027, 1, 10);
        let plan = equal_monthly(m("900"), 3, d(2027, 1, 15)).unwrap_or_default();
        assert!(check(&plan, m("900"), 2, today).is_ok());
        let err = check(&plan, m("901"), 2, today)
            .err()
            .unwrap_or_else(|| terms_error("", ""));
        assert_eq!(err.field, "installments");
        let mut late = plan.clone();
        late[0].due = d(2027, 1, 9);
        let err = check(&late, m("900"), 2, today)
            .err()
            .unwrap_or_else(|| terms_error("", ""));
        assert_eq!(err.field, "installments[0].due_date");
        let mut unordered = plan.clone();
        unordered[2].due = unordered[1].due;
        let err = check(&unordered, m("900"), 2, today)
            .err()
            .unwrap_or_else(|| terms_error("", ""));
        assert_eq!(err.field, "installments[2].due_date");
        let err = check(&plan, m("900"), 31, today)
            .err()
            .unwrap_or_else(|| terms_error("", ""));
        assert_eq!(err.field, "grace_days");
    }

    #[test]
    fn maker_checker_with_a_second_level() {
        let sup = Approver {
            subject: "zhao.supervisor",
            risk: false,
        };
        let risk = Approver {
            subject: "qian.risk",
            risk: true,
        };
        let proposer_with_risk = Approver {
            subject: "li.collector",
            risk: true,
        };
        // R-D6: never the proposer, whatever the role.
        assert_eq!(
            approve(
                Status::Proposed,
                false,
                "li.collector",
                None,
                proposer_with_risk
            ),
            Err(Refusal::Proposer)
        );
        assert_eq!(
            approve(Status::Proposed, false, "li.collector", None, sup),
            Ok(Status::Active)
        );
        assert_eq!(
            approve(Status::Proposed, true, "li.collector", None, sup),
            Ok(Status::FirstApproved)
        );
        // The second level: another person, with the risk role.
        assert_eq!(
            approve(
                Status::FirstApproved,
                true,
                "li.collector",
                Some("zhao.supervisor"),
                sup
            ),
            Err(Refusal::SameApprover)
        );
        let other_sup = Approver {
            subject: "sun.supervisor",
            risk: false,
        };
        assert_eq!(
            approve(
                Status::FirstApproved,
                true,
                "li.collector",
                Some("zhao.supervisor"),
                other_sup
            ),
            Err(Refusal::NeedsRisk)
        );
        assert_eq!(
            approve(
                Status::FirstApproved,
                true,
                "li.collector",
                Some("zhao.supervisor"),
                risk
            ),
            Ok(Status::Active)
        );
        assert_eq!(
            approve(Status::Active, true, "li.collector", Some("x"), risk),
            Err(Refusal::Decided(Status::Active))
        );
        assert_eq!(reject(Status::FirstApproved), Ok(Status::Rejected));
        assert_eq!(
            reject(Status::Broken),
            Err(Refusal::Decided(Status::Broken))
        );
        for s in [
            Status::Proposed,
            Status::FirstApproved,
            Status::Active,
            Status::Rejected,
            Status::Completed,
            Status::Broken,
            Status::Refused,
        ] {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn a_missed_installment_breaks_the_plan_the_day_after_its_grace() {
        let plan = equal_monthly(m("3000"), 3, d(2027, 2, 1)).unwrap_or_default();
        let first_paid = [(d(2027, 2, 3), m("1000"))];
        // Paid within 2 grace days: kept.
        assert_eq!(
            judge(&plan, 2, &first_paid, d(2027, 2, 10)),
            Verdict::Kept { met: 1 }
        );
        // The second not paid: still kept on its last day, broken the day after.
        assert_eq!(
            judge(&plan, 2, &first_paid, d(2027, 3, 3)),
            Verdict::Kept { met: 1 }
        );
        assert_eq!(
            judge(&plan, 2, &first_paid, d(2027, 3, 4)),
            Verdict::Broken {
                installment: 2,
                on: d(2027, 3, 4),
                due: m("2000"),
                paid: m("1000")
            }
        );
        // Paying ahead covers later installments; everything paid completes it.
        let ahead = [(d(2027, 2, 1), m("2500")), (d(2027, 4, 1), m("500"))];
        assert_eq!(
            judge(&plan, 0, &ahead, d(2027, 3, 20)),
            Verdict::Kept { met: 2 }
        );
        assert_eq!(
            judge(&plan, 0, &ahead, d(2027, 4, 1)),
            Verdict::Completed { on: d(2027, 4, 1) }
        );
        // Completed after a miss: it broke first.
        let late = [(d(2027, 2, 20), m("3000"))];
        assert!(matches!(
            judge(&plan, 2, &late, d(2027, 3, 1)),
            Verdict::Broken { installment: 1, .. }
        ));
        assert_eq!(
            standings(&plan, 2, &first_paid, d(2027, 3, 4)),
            vec![Standing::Paid, Standing::Missed, Standing::Pending]
        );
    }

    proptest! {
        #[test]
        fn equal_monthly_adds_up_to_the_fen(cents in 1u64..100_000_000, count in 1u32..=120) {
            let total = Decimal::new(i64::try_from(cents).unwrap_or(1), 2);
            let first = d(2027, 1, 31);
            match equal_monthly(total, count, first) {
                Ok(plan) => {
                    prop_assert_eq!(plan.len(), count as usize);
                    prop_assert_eq!(plan.iter().map(|i| i.amount).sum::<Decimal>(), total);
                    prop_assert!(plan.iter().all(|i| i.amount > Decimal::ZERO && i.amount.scale() <= 2));
                    prop_assert!(plan.windows(2).all(|w| w[0].due < w[1].due));
                    prop_assert!(check(&plan, total, 0, first).is_ok());
                }
                Err(_) => prop_assert!(cents < u64::from(count)),
            }
        }

        #[test]
        fn paying_each_installment_on_its_date_keeps_then_completes(
            cents in 100u64..10_000_000, count in 1u32..=24, grace in 0u32..=30
        ) {
            let total = Decimal::new(i64::try_from(cents).unwrap_or(100), 2);
            let plan = equal_monthly(total, count, d(2027, 3, 15)).unwrap_or_default();
            let payments: Vec<(NaiveDate, Decimal)> = plan.iter().map(|i| (i.due, i.amount)).collect();
            for inst in &plan {
                let v = judge(&plan, grace, &payments, inst.due);
                if inst.number == count {
                    prop_assert_eq!(v, Verdict::Completed { on: inst.due });
                } else {
                    prop_assert_eq!(v, Verdict::Kept { met: inst.number });
                }
            }
            // One fen short of the first installment, after its grace: broken at the first.
            let short = vec![(plan[0].due, plan[0].amount - m("0.01"))];
            let after = last_day(&plan[0], grace).succ_opt().unwrap_or(plan[0].due);
            let broken = matches!(judge(&plan, grace, &short, after), Verdict::Broken { installment: 1, .. });
            prop_assert!(broken);
        }
    }
}
