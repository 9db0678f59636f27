//! Amendments (R-C8): a change a customer asked for — a deferral, a new schedule, a discount
//! or new late-fee terms — proposed by one person and taking effect only when a supervisor
//! who is not the proposer approves it. Approval writes the next schedule version; the
//! previous one is kept.
//!
//! Pure: the status machine ([`decide`]), what each kind does to a contract's items
//! ([`apply`]) and the late fee of a receivable whose terms an amendment changed
//! ([`accrued_fee`]). Paid principal is never changed: an item's amount only moves by its
//! open part, so what was paid on each item stays exactly what it was.

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};

use super::schedule::{ChargeType, ItemKind};

/// Where an amendment stands: proposed → approved (takes effect) | rejected | withdrawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Waiting for a supervisor.
    Proposed,
    /// Approved by a supervisor other than the proposer; in effect.
    Approved,
    /// Refused by a supervisor.
    Rejected,
    /// Taken back by its proposer.
    Withdrawn,
}

impl Status {
    /// The name stored.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Proposed => "proposed",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Withdrawn => "withdrawn",
        }
    }

    /// The inverse of [`as_str`](Self::as_str).
    #[must_use]
    pub fn parse(value: &str) -> Option<Self> {
        [
            Self::Proposed,
            Self::Approved,
            Self::Rejected,
            Self::Withdrawn,
        ]
        .into_iter()
        .find(|s| s.as_str() == value)
    }
}

/// What someone does with a proposed amendment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// A supervisor approves it: it takes effect.
    Approve,
    /// A supervisor refuses it.
    Reject,
    /// The proposer takes it back.
    Withdraw,
}

/// Why a decision is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecisionError {
    /// It was decided already.
    NotProposed(Status),
    /// R-C8: the proposer cannot approve or reject their own amendment.
    OwnProposal,
    /// Only the proposer withdraws.
    NotTheProposer {
        /// Who proposed it.
        proposer: String,
    },
}

impl std::fmt::Display for DecisionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotProposed(status) => write!(
                f,
                "the amendment is {} already; only a proposed amendment can be decided — propose a new one if something else is needed",
                status.as_str()
            ),
            Self::OwnProposal => write!(
                f,
                "R-C8 maker-checker: you proposed this amendment, so you cannot approve or reject it; a supervisor other than the proposer decides (withdraw it with WithdrawAmendment if it is no longer wanted)"
            ),
            Self::NotTheProposer { proposer } => write!(
                f,
                "only the proposer ({proposer}) withdraws an amendment; a supervisor rejects it instead (RejectAmendment)"
            ),
        }
    }
}

/// The status machine, in one place: the status after `decision` on an amendment in
/// `status` proposed by `proposer`, taken by the authenticated `decider`.
///
/// # Errors
/// [`DecisionError`]: decided already, the proposer deciding their own (R-C8), or someone
/// other than the proposer withdrawing.
pub fn decide(
    status: Status,
    decision: Decision,
    proposer: &str,
    decider: &str,
) -> Result<Status, DecisionError> {
    if status != Status::Proposed {
        return Err(DecisionError::NotProposed(status));
    }
    match decision {
        Decision::Approve | Decision::Reject if proposer == decider => {
            Err(DecisionError::OwnProposal)
        }
        Decision::Approve => Ok(Status::Approved),
        Decision::Reject => Ok(Status::Rejected),
        Decision::Withdraw if proposer != decider => Err(DecisionError::NotTheProposer {
            proposer: proposer.to_owned(),
        }),
        Decision::Withdraw => Ok(Status::Withdrawn),
    }
}

/// How far a deferral moves due dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeferTo {
    /// To this date (before the R-C6 holiday shift).
    Date(NaiveDate),
    /// This many calendar days after each item's current due date.
    Days(u32),
}

/// How much a discount takes off each named item's open principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// This amount.
    Amount(Decimal),
    /// This percentage (0 < p ≤ 100) of the open principal, rounded to the minor unit.
    Percent(Decimal),
}

/// A new schedule's item, its due date already planned (R-C6) by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewItem {
    /// Kind.
    pub kind: ItemKind,
    /// Charge type.
    pub charge_type: ChargeType,
    /// Amount (> 0, in minor units).
    pub amount: Decimal,
    /// The date asked for.
    pub scheduled: NaiveDate,
    /// The due date after R-C6.
    pub due: NaiveDate,
    /// Planned in a year whose holiday notice is not published yet.
    pub provisional: bool,
}

/// What an amendment does; each variant holds only valid values once parsed at the edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AmendmentKind {
    /// Move the due dates of the named open items later.
    Deferral {
        /// Installment numbers.
        items: Vec<u32>,
        /// Where to.
        to: DeferTo,
    },
    /// Replace the open principal of every open item with these items.
    NewSchedule {
        /// The new items, in due-date order.
        items: Vec<NewItem>,
    },
    /// Lower the open principal of the named items.
    Discount {
        /// Installment numbers.
        items: Vec<u32>,
        /// By how much.
        cut: Cut,
    },
    /// New late-fee terms from a date on; fees accrued before stay.
    FeeChange {
        /// The policy (JSON, checked by the caller); `None`: no late fee from then on.
        policy: Option<String>,
        /// The first day the new terms apply.
        effective_from: NaiveDate,
    },
}

impl AmendmentKind {
    /// Which kind of amendment this is.
    #[must_use]
    pub fn kind(&self) -> Kind {
        match self {
            Self::Deferral { .. } => Kind::Deferral,
            Self::NewSchedule { .. } => Kind::NewSchedule,
            Self::Discount { .. } => Kind::Discount,
            Self::FeeChange { .. } => Kind::FeeChange,
        }
    }

    /// The name stored and published.
    #[must_use]
    pub fn name(&self) -> &'static str {
        self.kind().as_str()
    }
}

/// The kinds of amendment, without their terms: what a stored amendment row names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// [`AmendmentKind::Deferral`].
    Deferral,
    /// [`AmendmentKind::NewSchedule`].
    NewSchedule,
    /// [`AmendmentKind::Discount`].
    Discount,
    /// [`AmendmentKind::FeeChange`].
    FeeChange,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Self; 4] = [
        Self::Deferral,
        Self::NewSchedule,
        Self::Discount,
        Self::FeeChange,
    ];

    /// The name stored and published.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deferral => "deferral",
            Self::NewSchedule => "new_schedule",
            Self::Discount => "discount",
            Self::FeeChange => "fee_change",
        }
    }

    /// The inverse of [`as_str`](Self::as_str).
    #[must_use]
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == value)
    }
}

/// One receivable of the contract as it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// Installment number (unique in the contract).
    pub installment_no: u32,
    /// Kind.
    pub kind: ItemKind,
    /// Charge type.
    pub charge_type: ChargeType,
    /// Due date (after R-C6).
    pub due: NaiveDate,
    /// The date the schedule asked for.
    pub scheduled: NaiveDate,
    /// Provisional due date (R-C6).
    pub provisional: bool,
    /// Amount billed (> 0).
    pub amount: Decimal,
    /// Open principal, 0 ≤ open ≤ amount.
    pub open: Decimal,
    /// Late fee accrued so far.
    pub late_fee: Decimal,
    /// Found overdue by a daily cycle.
    pub overdue: bool,
}

impl Item {
    /// What was paid on it.
    #[must_use]
    pub fn paid(&self) -> Decimal {
        self.amount - self.open
    }
}

/// What happened to an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Due date, amount or open amount changed.
    Updated,
    /// New with this amendment.
    Created,
}

/// The schedule after an amendment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Every item that remains, by installment number, with the changed ones marked.
    pub items: Vec<(Item, Option<Change>)>,
    /// Installment numbers that left the schedule (nothing paid, no fee accrued).
    pub removed: Vec<u32>,
    /// Installment numbers whose accrued late fee must be carried (due date or principal
    /// changed while a fee had accrued): it stays, and what accrues later adds to it.
    pub carry: Vec<u32>,
}

/// Why an amendment cannot be applied: the field (`terms.deferral.installment_nos[1]`) and
/// what is wrong and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmendError {
    /// The request field.
    pub field: String,
    /// What is wrong and what to do next.
    pub reason: String,
}

fn fail<T>(field: impl Into<String>, reason: impl Into<String>) -> Result<T, AmendError> {
    Err(AmendError {
        field: field.into(),
        reason: reason.into(),
    })
}

/// What [`apply`] needs beyond the items.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    /// The business date: new due dates and fee changes lie after it.
    pub today: NaiveDate,
    /// The currency's smallest unit (0.01 for CNY).
    pub unit: Decimal,
}

/// The R-C6 planner the caller supplies: the due date for a scheduled date, and whether it
/// is provisional; an error names `field`.
pub type Planner<'a> = dyn Fn(&str, NaiveDate) -> Result<(NaiveDate, bool), AmendError> + 'a;

/// Applies `kind` to the contract's `items` (by installment number).
///
/// # Errors
/// The first rule broken, naming the field and what to do.
pub fn apply(
    kind: &AmendmentKind,
    items: &[Item],
    cx: &Context,
    plan: &Planner<'_>,
) -> Result<Outcome, AmendError> {
    let mut after: Vec<(Item, Option<Change>)> = items.iter().cloned().map(|i| (i, None)).collect();
    after.sort_by_key(|(i, _)| i.installment_no);
    let mut removed = Vec::new();
    let mut carry = Vec::new();
    match kind {
        AmendmentKind::Deferral { items: nos, to } => {
            let field = "terms.deferral.installment_nos";
            for idx in named(&after, nos, field)? {
                let (item, change) = &mut after[idx];
                let scheduled = match *to {
                    DeferTo::Date(date) => date,
                    DeferTo::Days(days) => item
                        .due
                        .checked_add_days(chrono::Days::new(u64::from(days)))
                        .ok_or_else(|| AmendError {
                            field: "terms.deferral.by_days".into(),
                            reason: format!("{days} days after {} is not a date", item.due),
                        })?,
                };
                let target = match to {
                    DeferTo::Date(_) => "terms.deferral.to_date",
                    DeferTo::Days(_) => "terms.deferral.by_days",
                };
                if scheduled <= item.due {
                    return fail(
                        target,
                        format!(
                            "installment {} is due {}; a deferral moves a due date later (to move it earlier, propose a new schedule)",
                            item.installment_no, item.due
                        ),
                    );
                }
                if scheduled <= cx.today {
                    return fail(
                        target,
                        format!(
                            "{scheduled} is not after the business date {}; defer to a later date",
                            cx.today
                        ),
                    );
                }
                let (due, provisional) = plan(target, scheduled)?;
                if item.late_fee > Decimal::ZERO {
                    carry.push(item.installment_no);
                }
                item.scheduled = scheduled;
                item.due = due;
                item.provisional = provisional;
                item.overdue = false;
                *change = Some(Change::Updated);
            }
        }
        AmendmentKind::Discount { items: nos, cut } => {
            let field = "terms.discount.installment_nos";
            for (k, idx) in named(&after, nos, field)?.into_iter().enumerate() {
                let (item, change) = &mut after[idx];
                let (off, cut_field) = match *cut {
                    Cut::Amount(amount) => (amount, "terms.discount.amount"),
                    Cut::Percent(percent) => (
                        (item.open * percent / Decimal::ONE_HUNDRED).round_dp_with_strategy(
                            cx.unit.scale(),
                            RoundingStrategy::MidpointAwayFromZero,
                        ),
                        "terms.discount.percent",
                    ),
                };
                if off <= Decimal::ZERO {
                    return fail(
                        cut_field,
                        format!(
                            "takes nothing off installment {} ({} open); give a larger discount",
                            item.installment_no, item.open
                        ),
                    );
                }
                if off > item.open {
                    return fail(
                        cut_field,
                        format!(
                            "{off} is more than the open principal {} of installment {} ({field}[{k}]); only open principal can be lowered, what is paid stays paid",
                            item.open, item.installment_no
                        ),
                    );
                }
                if off == item.amount {
                    return fail(
                        cut_field,
                        format!(
                            "{off} would leave nothing of installment {}; a discount lowers an item and does not remove it (propose a new schedule without it instead)",
                            item.installment_no
                        ),
                    );
                }
                if item.late_fee > Decimal::ZERO {
                    carry.push(item.installment_no);
                }
                item.amount -= off;
                item.open -= off;
                *change = Some(Change::Updated);
            }
        }
        AmendmentKind::NewSchedule { items: new } => {
            let field = "terms.new_schedule.installments";
            if new.is_empty() {
                return fail(field, "give at least one item");
            }
            for (k, item) in new.iter().enumerate() {
                if item.amount <= Decimal::ZERO || item.amount.scale() > cx.unit.scale() {
                    return fail(
                        format!("{field}[{k}].amount"),
                        format!(
                            "{} is not a positive amount in the currency's minor units",
                            item.amount
                        ),
                    );
                }
                if item.scheduled <= cx.today {
                    return fail(
                        format!("{field}[{k}].due_date"),
                        format!(
                            "{} is not after the business date {}; a new schedule's items fall due later",
                            item.scheduled, cx.today
                        ),
                    );
                }
            }
            let open: Vec<usize> = (0..after.len())
                .filter(|&i| after[i].0.open > Decimal::ZERO)
                .collect();
            if open.is_empty() {
                return fail(
                    "contract_id",
                    "nothing is open on this contract; there is nothing to reschedule",
                );
            }
            let open_total: Decimal = open.iter().map(|&i| after[i].0.open).sum();
            let new_total: Decimal = new.iter().map(|i| i.amount).sum();
            if new_total != open_total {
                return fail(
                    field,
                    format!(
                        "the new items add up to {new_total}, but the open principal they replace is {open_total}; make them add up to {open_total} (to lower the principal, approve a discount first)"
                    ),
                );
            }
            let mut next_no = after
                .iter()
                .map(|(i, _)| i.installment_no)
                .max()
                .unwrap_or(0);
            for (k, n) in new.iter().enumerate() {
                if let Some(&idx) = open.get(k) {
                    let (item, change) = &mut after[idx];
                    if item.late_fee > Decimal::ZERO {
                        carry.push(item.installment_no);
                    }
                    let paid = item.paid();
                    item.amount = paid + n.amount;
                    item.open = n.amount;
                    item.kind = n.kind;
                    item.charge_type = n.charge_type;
                    item.due = n.due;
                    item.scheduled = n.scheduled;
                    item.provisional = n.provisional;
                    item.overdue = false;
                    *change = Some(Change::Updated);
                } else {
                    next_no = next_no.checked_add(1).ok_or_else(|| AmendError {
                        field: field.into(),
                        reason: "too many installments".into(),
                    })?;
                    after.push((
                        Item {
                            installment_no: next_no,
                            kind: n.kind,
                            charge_type: n.charge_type,
                            due: n.due,
                            scheduled: n.scheduled,
                            provisional: n.provisional,
                            amount: n.amount,
                            open: n.amount,
                            late_fee: Decimal::ZERO,
                            overdue: false,
                        },
                        Some(Change::Created),
                    ));
                }
            }
            // Open items beyond the new ones: a paid part stays as a paid item; an item with
            // nothing paid leaves the schedule, unless a late fee accrued on it.
            for &idx in open.iter().skip(new.len()) {
                let (item, change) = &mut after[idx];
                let paid = item.paid();
                if paid > Decimal::ZERO {
                    item.amount = paid;
                    item.open = Decimal::ZERO;
                    *change = Some(Change::Updated);
                } else if item.late_fee > Decimal::ZERO {
                    return fail(
                        field,
                        format!(
                            "installment {} has {} late fee accrued and nothing paid, so it cannot leave the schedule; give at least {} items so that it is rescheduled",
                            item.installment_no,
                            item.late_fee,
                            open.len()
                        ),
                    );
                } else {
                    removed.push(item.installment_no);
                }
            }
            after.retain(|(i, _)| !removed.contains(&i.installment_no));
        }
        AmendmentKind::FeeChange { effective_from, .. } => {
            if *effective_from <= cx.today {
                return fail(
                    "terms.fee_change.effective_from",
                    format!(
                        "{effective_from} is not after the business date {}: fees accrued through it stay as they were; pick {} or later",
                        cx.today,
                        cx.today.succ_opt().unwrap_or(cx.today)
                    ),
                );
            }
        }
    }
    check_order(&after, kind)?;
    Ok(Outcome {
        items: after,
        removed,
        carry,
    })
}

/// The indexes of the named installments: each known, open, named once.
fn named(
    after: &[(Item, Option<Change>)],
    nos: &[u32],
    field: &str,
) -> Result<Vec<usize>, AmendError> {
    if nos.is_empty() {
        return fail(field, "name at least one installment number (1, 2, …)");
    }
    let mut out = Vec::with_capacity(nos.len());
    for (k, no) in nos.iter().enumerate() {
        let f = format!("{field}[{k}]");
        if nos[..k].contains(no) {
            return fail(f, format!("installment {no} is named twice"));
        }
        let Some(idx) = after.iter().position(|(i, _)| i.installment_no == *no) else {
            let known: Vec<String> = after
                .iter()
                .map(|(i, _)| i.installment_no.to_string())
                .collect();
            return fail(
                f,
                format!(
                    "the contract has no installment {no}; its installments are {}",
                    known.join(", ")
                ),
            );
        };
        if after[idx].0.open <= Decimal::ZERO {
            return fail(
                f,
                format!("installment {no} is paid; only open items can be amended"),
            );
        }
        out.push(idx);
    }
    Ok(out)
}

/// R-C1 after the change, for the items still open: a deposit is due no later than any
/// other, a final payment no earlier than any other.
fn check_order(after: &[(Item, Option<Change>)], kind: &AmendmentKind) -> Result<(), AmendError> {
    let field = match kind {
        AmendmentKind::Deferral {
            to: DeferTo::Date(_),
            ..
        } => "terms.deferral.to_date",
        AmendmentKind::Deferral { .. } => "terms.deferral.by_days",
        AmendmentKind::NewSchedule { .. } => "terms.new_schedule.installments",
        _ => return Ok(()),
    };
    let open: Vec<&Item> = after
        .iter()
        .map(|(i, _)| i)
        .filter(|i| i.open > Decimal::ZERO)
        .collect();
    for a in &open {
        for b in &open {
            if a.kind == ItemKind::FinalPayment && b.due > a.due {
                return fail(
                    field,
                    format!(
                        "installment {} would fall due {} after the final payment (尾款, installment {}, {}); defer the final payment as well",
                        b.installment_no, b.due, a.installment_no, a.due
                    ),
                );
            }
            if a.kind == ItemKind::Deposit && b.due < a.due {
                return fail(
                    field,
                    format!(
                        "the deposit (定金, installment {}) would fall due {} after installment {} ({}); a deposit is due no later than any other item",
                        a.installment_no, a.due, b.installment_no, b.due
                    ),
                );
            }
        }
    }
    Ok(())
}

/// One period of late-fee terms: `policy` applies from `from` (`None`: from the start) until
/// the next period's start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeePeriod<P> {
    /// First day; `None` for the first period.
    pub from: Option<NaiveDate>,
    /// The terms; `None`: no late fee.
    pub policy: Option<P>,
}

/// The late fee of a receivable through `as_of` whose terms an amendment changed: what was
/// carried (accrued through `carry.1`, kept) plus, for each period of terms after that, what
/// the period's policy accrues in it — the policy's total through the period's last day less
/// its total through the day before the period starts, so tiers by month of delinquency
/// continue across a change (R-C4). `total(policy, through)` is the policy's late fee from
/// the due date through `through` (zero before the due date).
///
/// # Errors
/// The first error of `total`.
pub fn accrued_fee<P>(
    carry: Option<(Decimal, NaiveDate)>,
    periods: &[FeePeriod<P>],
    as_of: NaiveDate,
    mut total: impl FnMut(&P, NaiveDate) -> Result<Decimal, String>,
) -> Result<Decimal, String> {
    let (carried, through) = match carry {
        Some((amount, through)) => (amount, Some(through)),
        None => (Decimal::ZERO, None),
    };
    let mut fee = carried;
    for (k, period) in periods.iter().enumerate() {
        let Some(policy) = &period.policy else {
            continue;
        };
        // The day before the first day counted in this period, and its last day.
        let before_start = match (period.from.and_then(|d| d.pred_opt()), through) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let end = match periods.get(k + 1).and_then(|p| p.from) {
            Some(next) => next.pred_opt().unwrap_or(next).min(as_of),
            None => as_of,
        };
        if before_start.is_some_and(|b| b >= end) {
            continue;
        }
        let upto = total(policy, end)?;
        let before = match before_start {
            Some(day) => total(policy, day)?,
            None => Decimal::ZERO,
        };
        fee += (upto - before).max(Decimal::ZERO);
    }
    Ok(fee)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap_or_default()
    }

    fn item(no: u32, due: &str, amount: &str, open: &str) -> Item {
        Item {
            installment_no: no,
            kind: ItemKind::Installment,
            charge_type: ChargeType::PurchasePrice,
            due: d(due),
            scheduled: d(due),
            provisional: false,
            amount: dec(amount),
            open: dec(open),
            late_fee: Decimal::ZERO,
            overdue: false,
        }
    }

    fn cx(today: &str) -> Context {
        Context {
            today: d(today),
            unit: dec("0.01"),
        }
    }

    fn no_shift(_: &str, date: NaiveDate) -> Result<(NaiveDate, bool), AmendError> {
        Ok((date, false))
    }

    fn schedule() -> Vec<Item> {
        vec![
            item(1, "2026-03-10", "1000.00", "0.00"),
            item(2, "2026-04-10", "1000.00", "400.00"),
            item(3, "2026-05-10", "1000.00", "1000.00"),
        ]
    }

    #[test]
    fn r_c8_the_proposer_never_approves_or_rejects_their_own_amendment() {
        for decision in [Decision::Approve, Decision::Reject] {
            let refused = decide(Status::Proposed, decision, "li.na", "li.na").unwrap_err();
            assert_eq!(refused, DecisionError::OwnProposal);
            assert!(refused.to_string().contains("R-C8"), "{refused}");
        }
        assert_eq!(
            decide(Status::Proposed, Decision::Approve, "li.na", "sup-ada"),
            Ok(Status::Approved)
        );
        assert_eq!(
            decide(Status::Proposed, Decision::Reject, "li.na", "sup-ada"),
            Ok(Status::Rejected)
        );
    }

    #[test]
    fn only_the_proposer_withdraws_and_only_while_proposed() {
        assert_eq!(
            decide(Status::Proposed, Decision::Withdraw, "li.na", "li.na"),
            Ok(Status::Withdrawn)
        );
        assert!(matches!(
            decide(Status::Proposed, Decision::Withdraw, "li.na", "sup-ada"),
            Err(DecisionError::NotTheProposer { .. })
        ));
        for status in [Status::Approved, Status::Rejected, Status::Withdrawn] {
            for decision in [Decision::Approve, Decision::Reject, Decision::Withdraw] {
                assert_eq!(
                    decide(status, decision, "li.na", "sup-ada"),
                    Err(DecisionError::NotProposed(status))
                );
            }
            assert_eq!(Status::parse(status.as_str()), Some(status));
        }
    }

    #[test]
    fn a_stored_kind_reads_back_as_itself_and_an_unknown_one_as_none_r_c8() {
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(Kind::parse("Deferral"), None);
        assert_eq!(Kind::parse(""), None);
        let fee_change = AmendmentKind::FeeChange {
            policy: None,
            effective_from: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
        };
        assert_eq!(fee_change.kind(), Kind::FeeChange);
        assert_eq!(fee_change.name(), "fee_change");
    }

    #[test]
    fn a_deferral_moves_named_open_items_later_through_the_holiday_shift() {
        let kind = AmendmentKind::Deferral {
            items: vec![2, 3],
            to: DeferTo::Date(d("2026-10-03")),
        };
        // R-C6: the planner moves 2026-10-03 (National Day) to the next working day.
        let shift = |_: &str, date: NaiveDate| Ok((date.max(d("2026-10-09")), false));
        let out = apply(&kind, &schedule(), &cx("2026-03-20"), &shift).unwrap();
        let dues: Vec<(NaiveDate, NaiveDate)> = out
            .items
            .iter()
            .map(|(i, _)| (i.scheduled, i.due))
            .collect();
        assert_eq!(dues[0], (d("2026-03-10"), d("2026-03-10")));
        assert_eq!(dues[1], (d("2026-10-03"), d("2026-10-09")));
        assert_eq!(out.items[2].1, Some(Change::Updated));
        assert_eq!(out.items[0].1, None);
    }

    #[test]
    fn a_deferral_refuses_paid_items_earlier_dates_and_dates_not_after_today() {
        let by = |items: Vec<u32>, to: DeferTo, today: &str| {
            apply(
                &AmendmentKind::Deferral { items, to },
                &schedule(),
                &cx(today),
                &no_shift,
            )
            .unwrap_err()
        };
        let paid = by(vec![1], DeferTo::Days(30), "2026-01-01");
        assert_eq!(paid.field, "terms.deferral.installment_nos[0]");
        assert!(paid.reason.contains("is paid"), "{}", paid.reason);
        let unknown = by(vec![3, 9], DeferTo::Days(30), "2026-01-01");
        assert_eq!(unknown.field, "terms.deferral.installment_nos[1]");
        assert!(unknown.reason.contains("1, 2, 3"), "{}", unknown.reason);
        let twice = by(vec![3, 3], DeferTo::Days(30), "2026-01-01");
        assert!(twice.reason.contains("twice"));
        let earlier = by(vec![3], DeferTo::Date(d("2026-05-01")), "2026-01-01");
        assert_eq!(earlier.field, "terms.deferral.to_date");
        let past = by(vec![2], DeferTo::Date(d("2026-05-01")), "2026-06-01");
        assert!(past.reason.contains("business date"), "{}", past.reason);
    }

    #[test]
    fn a_final_payment_stays_last() {
        let mut items = schedule();
        items[2].kind = ItemKind::FinalPayment;
        let e = apply(
            &AmendmentKind::Deferral {
                items: vec![2],
                to: DeferTo::Date(d("2026-06-01")),
            },
            &items,
            &cx("2026-03-20"),
            &no_shift,
        )
        .unwrap_err();
        assert!(e.reason.contains("final payment"), "{}", e.reason);
    }

    #[test]
    fn a_discount_lowers_only_open_principal() {
        let out = apply(
            &AmendmentKind::Discount {
                items: vec![2],
                cut: Cut::Amount(dec("150.00")),
            },
            &schedule(),
            &cx("2026-03-20"),
            &no_shift,
        )
        .unwrap();
        assert_eq!(
            (out.items[1].0.amount, out.items[1].0.open),
            (dec("850.00"), dec("250.00"))
        );
        let too_much = apply(
            &AmendmentKind::Discount {
                items: vec![2],
                cut: Cut::Amount(dec("400.01")),
            },
            &schedule(),
            &cx("2026-03-20"),
            &no_shift,
        )
        .unwrap_err();
        assert_eq!(too_much.field, "terms.discount.amount");
        assert!(
            too_much.reason.contains("only open principal"),
            "{}",
            too_much.reason
        );
        let percent = apply(
            &AmendmentKind::Discount {
                items: vec![3],
                cut: Cut::Percent(dec("12.345")),
            },
            &schedule(),
            &cx("2026-03-20"),
            &no_shift,
        )
        .unwrap();
        assert_eq!(percent.items[2].0.open, dec("876.55"));
        let whole = apply(
            &AmendmentKind::Discount {
                items: vec![3],
                cut: Cut::Percent(dec("100")),
            },
            &schedule(),
            &cx("2026-03-20"),
            &no_shift,
        )
        .unwrap_err();
        assert!(
            whole.reason.contains("would leave nothing"),
            "{}",
            whole.reason
        );
    }

    fn new_item(amount: &str, due: &str) -> NewItem {
        NewItem {
            kind: ItemKind::Installment,
            charge_type: ChargeType::PurchasePrice,
            amount: dec(amount),
            scheduled: d(due),
            due: d(due),
            provisional: false,
        }
    }

    #[test]
    fn a_new_schedule_replaces_the_open_principal_and_keeps_paid_parts() {
        let kind = AmendmentKind::NewSchedule {
            items: vec![
                new_item("500.00", "2026-06-10"),
                new_item("500.00", "2026-07-10"),
                new_item("400.00", "2026-08-10"),
            ],
        };
        let out = apply(&kind, &schedule(), &cx("2026-03-20"), &no_shift).unwrap();
        let rows: Vec<(u32, Decimal, Decimal, Option<Change>)> = out
            .items
            .iter()
            .map(|(i, c)| (i.installment_no, i.amount, i.open, *c))
            .collect();
        assert_eq!(
            rows,
            vec![
                (1, dec("1000.00"), dec("0.00"), None),
                (2, dec("1100.00"), dec("500.00"), Some(Change::Updated)),
                (3, dec("500.00"), dec("500.00"), Some(Change::Updated)),
                (4, dec("400.00"), dec("400.00"), Some(Change::Created)),
            ]
        );
        let fewer = AmendmentKind::NewSchedule {
            items: vec![new_item("1400.00", "2026-06-10")],
        };
        let out = apply(&fewer, &schedule(), &cx("2026-03-20"), &no_shift).unwrap();
        assert_eq!(out.removed, vec![3]);
        assert_eq!(out.items.len(), 2);
        let wrong = AmendmentKind::NewSchedule {
            items: vec![new_item("1000.00", "2026-06-10")],
        };
        let e = apply(&wrong, &schedule(), &cx("2026-03-20"), &no_shift).unwrap_err();
        assert_eq!(e.field, "terms.new_schedule.installments");
        assert!(e.reason.contains("1400.00"), "{}", e.reason);
        let past = AmendmentKind::NewSchedule {
            items: vec![new_item("1400.00", "2026-03-01")],
        };
        let e = apply(&past, &schedule(), &cx("2026-03-20"), &no_shift).unwrap_err();
        assert_eq!(e.field, "terms.new_schedule.installments[0].due_date");
    }

    #[test]
    fn a_fee_change_applies_after_the_business_date_only() {
        let kind = |from: &str| AmendmentKind::FeeChange {
            policy: None,
            effective_from: d(from),
        };
        let e = apply(
            &kind("2026-03-20"),
            &schedule(),
            &cx("2026-03-20"),
            &no_shift,
        )
        .unwrap_err();
        assert_eq!(e.field, "terms.fee_change.effective_from");
        assert!(e.reason.contains("2026-03-21"), "{}", e.reason);
        let out = apply(
            &kind("2026-03-21"),
            &schedule(),
            &cx("2026-03-20"),
            &no_shift,
        )
        .unwrap();
        assert!(out.items.iter().all(|(_, c)| c.is_none()));
    }

    /// A policy of `rate` per day overdue after `due`.
    fn daily(due: NaiveDate) -> impl Fn(&Decimal, NaiveDate) -> Result<Decimal, String> {
        move |per_day: &Decimal, through: NaiveDate| {
            let days = (through - due).num_days().max(0);
            Ok(*per_day * Decimal::from(days))
        }
    }

    #[test]
    fn a_fee_change_keeps_what_accrued_before_and_accrues_the_new_terms_after() {
        let due = d("2026-01-10");
        let periods = vec![
            FeePeriod {
                from: None,
                policy: Some(dec("1")),
            },
            FeePeriod {
                from: Some(d("2026-01-21")),
                policy: Some(dec("10")),
            },
        ];
        // 10 days at 1 (Jan 11-20), then 5 days at 10 (Jan 21-25).
        let fee = accrued_fee(None, &periods, d("2026-01-25"), daily(due)).unwrap();
        assert_eq!(fee, dec("60"));
        // Before the change only the first terms count.
        let fee = accrued_fee(None, &periods, d("2026-01-15"), daily(due)).unwrap();
        assert_eq!(fee, dec("5"));
        // A carry (e.g. 7 accrued through Jan 22 under an earlier due date) stays; after it
        // only the days after Jan 22 count.
        let fee = accrued_fee(
            Some((dec("7"), d("2026-01-22"))),
            &periods,
            d("2026-01-25"),
            daily(due),
        )
        .unwrap();
        assert_eq!(fee, dec("37"));
        // No late fee from the change on.
        let none = vec![
            FeePeriod {
                from: None,
                policy: Some(dec("1")),
            },
            FeePeriod {
                from: Some(d("2026-01-21")),
                policy: None,
            },
        ];
        let fee = accrued_fee(None, &none, d("2026-03-01"), daily(due)).unwrap();
        assert_eq!(fee, dec("10"));
    }

    fn arb_items() -> impl Strategy<Value = Vec<Item>> {
        prop::collection::vec((1u32..5_000, 0u32..=100, 0i64..400, 0u32..3), 1..8).prop_map(
            |rows| {
                rows.into_iter()
                    .enumerate()
                    .map(|(k, (yuan, paid_pct, day, fee))| {
                        let amount = Decimal::new(i64::from(yuan) * 100 + 37, 2);
                        let paid = (amount * Decimal::from(paid_pct) / Decimal::ONE_HUNDRED)
                            .round_dp(2)
                            .min(amount);
                        let due = d("2026-01-01")
                            + chrono::Days::new(u64::try_from(day).unwrap_or(0) + 30 * k as u64);
                        Item {
                            installment_no: u32::try_from(k).unwrap_or(0) + 1,
                            kind: ItemKind::Installment,
                            charge_type: ChargeType::PurchasePrice,
                            due,
                            scheduled: due,
                            provisional: false,
                            amount,
                            open: amount - paid,
                            late_fee: Decimal::from(fee),
                            overdue: false,
                        }
                    })
                    .collect()
            },
        )
    }

    fn arb_kind() -> impl Strategy<Value = AmendmentKind> {
        let nos = prop::collection::vec(1u32..9, 1..4);
        prop_oneof![
            (nos.clone(), 1u32..400).prop_map(|(items, days)| AmendmentKind::Deferral {
                items,
                to: DeferTo::Days(days)
            }),
            (nos.clone(), 1i64..300_000).prop_map(|(items, fen)| AmendmentKind::Discount {
                items,
                cut: Cut::Amount(Decimal::new(fen, 2))
            }),
            (nos, 1i64..10_001).prop_map(|(items, bp)| AmendmentKind::Discount {
                items,
                cut: Cut::Percent(Decimal::new(bp, 2))
            }),
            (
                prop::collection::vec((1u32..100, 1i64..600), 1..6),
                0u32..100
            )
                .prop_map(|(rows, weight)| {
                    // Amounts are fixed up to the open total in the property itself.
                    AmendmentKind::NewSchedule {
                        items: rows
                            .into_iter()
                            .map(|(w, day)| NewItem {
                                kind: ItemKind::Installment,
                                charge_type: ChargeType::PurchasePrice,
                                amount: Decimal::from(w + weight),
                                scheduled: d("2027-01-01")
                                    + chrono::Days::new(u64::try_from(day).unwrap_or(0)),
                                due: d("2027-01-01")
                                    + chrono::Days::new(u64::try_from(day).unwrap_or(0)),
                                provisional: false,
                            })
                            .collect(),
                    }
                }),
        ]
    }

    /// Scales a new schedule's amounts so they add up to `total` (the last takes the rest).
    fn fit(kind: AmendmentKind, total: Decimal) -> AmendmentKind {
        let AmendmentKind::NewSchedule { mut items } = kind else {
            return kind;
        };
        let weights: Decimal = items.iter().map(|i| i.amount).sum();
        let mut left = total;
        let n = items.len();
        for (k, item) in items.iter_mut().enumerate() {
            item.amount = if k + 1 == n {
                left
            } else {
                (total * item.amount / weights).round_dp(2)
            };
            left -= item.amount;
        }
        AmendmentKind::NewSchedule { items }
    }

    proptest! {
        /// R-C8: whatever valid amendment is applied, what was paid on the contract stays
        /// exactly what it was, and no item's open amount is negative or above its amount.
        #[test]
        fn any_valid_amendment_keeps_what_was_paid(items in arb_items(), kind in arb_kind()) {
            let open_total: Decimal = items.iter().map(|i| i.open).sum();
            let kind = fit(kind, open_total);
            let paid_before: Decimal = items.iter().map(Item::paid).sum();
            if let Ok(out) = apply(&kind, &items, &cx("2026-01-01"), &no_shift) {
                let paid_after: Decimal = out.items.iter().map(|(i, _)| i.paid()).sum();
                prop_assert_eq!(paid_before, paid_after);
                for (i, _) in &out.items {
                    prop_assert!(i.open >= Decimal::ZERO && i.open <= i.amount, "{:?}", i);
                    prop_assert!(i.amount > Decimal::ZERO, "{:?}", i);
                    if let Some(before) = items.iter().find(|b| b.installment_no == i.installment_no) {
                        // Per item too: only the open part moves.
                        prop_assert_eq!(before.paid(), i.paid());
                    }
                }
                for no in &out.removed {
                    let before = items.iter().find(|b| b.installment_no == *no);
                    prop_assert!(before.is_some_and(|b| b.paid().is_zero()));
                }
                if matches!(kind, AmendmentKind::NewSchedule { .. }) {
                    let open_after: Decimal = out.items.iter().map(|(i, _)| i.open).sum();
                    prop_assert_eq!(open_after, open_total);
                }
            }
        }
    }
}
