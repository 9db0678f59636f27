//! Carrying out the cash-application engine's decision for one stored payment: an applied
//! decision becomes allocations proposed to contracts (which confirms or refuses each); a
//! proposal or an exception goes to the exception queue with its kind, reason, suggested
//! action and the candidates with their evidence (R-P5); the surplus of an overpayment is
//! flagged there too (R-P4).

use anyhow::Context as _;
use cashapp::{Decision, Outcome};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

use kit::outbox::Outbox;
use kit::wire;
use proto::events::v1 as events;

use crate::domain::status::{ExceptionKind, PaymentStatus};
use crate::engine::parse_receivable_ref;
use crate::store;

/// What carrying out a decision did.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Done {
    /// Exceptions raised (a surplus is one even when the rest was applied).
    pub(crate) exceptions: u32,
}

/// The queue kind of a decision that was not applied: the engine's exception kind, or
/// `NEEDS_CONFIRMATION` for a proposal.
pub(crate) fn kind_of(decision: &Decision) -> Option<ExceptionKind> {
    match decision.outcome {
        Outcome::Applied => None,
        Outcome::Proposed => Some(ExceptionKind::NeedsConfirmation),
        Outcome::Exception => Some(ExceptionKind::Engine(
            decision
                .exception
                .as_ref()
                .map_or(cashapp::ExceptionKind::NoCandidate, |e| e.kind),
        )),
    }
}

/// The customer the payment was applied to or proposed for.
pub(crate) fn customer_of(decision: &Decision) -> anyhow::Result<Option<Uuid>> {
    decision
        .customer_id
        .as_ref()
        .map(|c| Uuid::parse_str(c.as_str()))
        .transpose()
        .with_context(|| format!("customer id {:?} in the ledger", decision.customer_id))
}

/// Partition key of the payment's events: its customer when known, so they stay in order
/// with the customer's other events.
pub(crate) fn key(decision: &Decision, payment_id: Uuid) -> anyhow::Result<String> {
    Ok(customer_of(decision)?
        .filter(|_| decision.outcome == Outcome::Applied)
        .map_or_else(|| payment_id.to_string(), |c| c.to_string()))
}

/// Records the decision on the stored payment and carries it out.
pub(crate) async fn carry_out(
    tx: &mut PgConnection,
    outbox: &Outbox,
    payment_id: Uuid,
    decision: &Decision,
) -> anyhow::Result<Done> {
    let key = key(decision, payment_id)?;
    let recorded = Recorded::of(decision)?;
    store::record_decision(tx, payment_id, &recorded.stored()).await?;
    let applied = decision.outcome == Outcome::Applied;
    let mut done = Done::default();
    if applied {
        let mut first = None;
        for a in &decision.allocations {
            let proposed = Proposed {
                payment_id,
                reference: a.receivable_id.as_str(),
                amount: a.amount,
                currency: &decision.booked_currency,
                booking_date: decision.date,
                key: &key,
            };
            let (_, receivable) = allocate(tx, outbox, &proposed).await?;
            first.get_or_insert(receivable);
        }
        store::set_payment_receivable(tx, payment_id, first).await?;
        if let Some(w) = &decision.write_off {
            let at = (payment_id, key.as_str(), decision.date);
            request_write_off(tx, outbox, at, &decision.booked_currency, w).await?;
        }
        if decision.unapplied > Decimal::ZERO {
            let mut reason = format!(
                "{} {} of the payment is more than everything open and stays unapplied",
                decision.unapplied, decision.booked_currency
            );
            for note in &decision.notes {
                reason.push_str("; ");
                reason.push_str(note);
            }
            raise(
                tx,
                outbox,
                &Raised {
                    payment_id,
                    key: &key,
                    kind: ExceptionKind::UnappliedSurplus,
                    reason: &reason,
                    suggested_action: "refund the surplus to the payer, or hold it for the customer's next installment with their written consent",
                    candidates: "[]",
                    also: &[],
                },
            )
            .await?;
            done.exceptions += 1;
        }
        return Ok(done);
    }
    raise(tx, outbox, &held(decision)?.raised(payment_id, &key)).await?;
    done.exceptions += 1;
    Ok(done)
}

/// What a payment records of its decision: matched to the customer when applied, else an
/// exception with no customer (R-P5); its confidence, evidence and the decision itself.
pub(crate) struct Recorded {
    status: PaymentStatus,
    customer_id: Option<Uuid>,
    confidence: i32,
    evidence: Vec<String>,
    json: String,
}

impl Recorded {
    pub(crate) fn of(decision: &Decision) -> anyhow::Result<Self> {
        let applied = decision.outcome == Outcome::Applied;
        Ok(Self {
            status: if applied {
                PaymentStatus::Matched
            } else {
                PaymentStatus::Exception
            },
            customer_id: customer_of(decision)?.filter(|_| applied),
            confidence: i32::from(decision.confidence),
            evidence: decision.evidence.iter().map(ToString::to_string).collect(),
            json: serde_json::to_string(decision).context("decision as JSON")?,
        })
    }

    /// The customer the payment is applied to, if it is.
    pub(crate) fn customer_id(&self) -> Option<Uuid> {
        self.customer_id
    }

    /// As the store writes it.
    pub(crate) fn stored(&self) -> store::RecordedDecision<'_> {
        store::RecordedDecision {
            status: self.status,
            customer_id: self.customer_id,
            confidence: self.confidence,
            evidence: &self.evidence,
            json: &self.json,
        }
    }
}

/// What a decision that was not applied puts in the exception queue (R-P5).
pub(crate) struct Held {
    pub(crate) kind: ExceptionKind,
    pub(crate) reason: String,
    pub(crate) suggested_action: &'static str,
    /// The other kinds that also hold, as the queue names them.
    pub(crate) also: Vec<String>,
    /// JSON array of [`StoredCandidate`].
    pub(crate) candidates: String,
}

impl Held {
    /// The exception about payment `payment_id`, its event under `key`.
    pub(crate) fn raised<'a>(&'a self, payment_id: Uuid, key: &'a str) -> Raised<'a> {
        Raised {
            payment_id,
            key,
            kind: self.kind,
            reason: &self.reason,
            suggested_action: self.suggested_action,
            candidates: &self.candidates,
            also: &self.also,
        }
    }
}

/// The exception of a decision that was not applied (a proposal or an engine exception).
pub(crate) fn held(decision: &Decision) -> anyhow::Result<Held> {
    let kind =
        kind_of(decision).unwrap_or(ExceptionKind::Engine(cashapp::ExceptionKind::NoCandidate));
    let (reason, suggested_action, also) = match &decision.exception {
        Some(e) => (
            e.reason.clone(),
            e.suggested_action,
            e.also
                .iter()
                .map(|k| k.as_str().to_ascii_uppercase())
                .collect(),
        ),
        None => (
            format!(
                "the evidence gives {} of 10000 points, less than the policy requires to apply it without a person",
                decision.confidence
            ),
            "check the evidence, then confirm the candidate or allocate by hand",
            Vec::new(),
        ),
    };
    Ok(Held {
        kind,
        reason,
        suggested_action,
        also,
        candidates: candidates_json(decision)?,
    })
}

/// Asks contracts to write off the small difference a payment left (R-P12), after its
/// allocations on the same key, so contracts books it on what they left.
async fn request_write_off(
    tx: &mut PgConnection,
    outbox: &Outbox,
    (payment_id, key, booking_date): (Uuid, &str, NaiveDate),
    currency: &str,
    w: &cashapp::WriteOff,
) -> anyhow::Result<()> {
    let (contract_no, installment) = parse_receivable_ref(w.receivable_id.as_str())
        .with_context(|| format!("receivable {:?} in the ledger", w.receivable_id))?;
    let ids = store::receivable_by_ref(tx, contract_no, installment)
        .await?
        .with_context(|| format!("receivable {} is not in open_receivables", w.receivable_id))?;
    let event = events::WriteOffRequested {
        write_off_id: Uuid::now_v7().to_string(),
        payment_id: payment_id.to_string(),
        receivable_id: ids.receivable_id.to_string(),
        customer_id: ids.customer_id.to_string(),
        amount: Some(wire::money(w.amount, currency)),
        reason: w.reason.to_owned(),
        approval_required: w.needs_approval,
        booking_date: booking_date.to_string(),
    };
    outbox
        .enqueue(tx, kit::events::PAYMENTS, key, &event)
        .await?;
    tracing::info!(%payment_id, receivable = %w.receivable_id, amount = %w.amount, needs_approval = w.needs_approval, "write-off of a small difference requested (R-P12)");
    Ok(())
}

/// One allocation to propose to contracts.
pub(crate) struct Proposed<'a> {
    pub(crate) payment_id: Uuid,
    /// The ledger's name of the receivable (`HT-2026-0001/2`).
    pub(crate) reference: &'a str,
    pub(crate) amount: Decimal,
    /// The contract currency.
    pub(crate) currency: &'a str,
    pub(crate) booking_date: NaiveDate,
    /// Partition key of the events.
    pub(crate) key: &'a str,
}

/// Proposes one allocation to contracts and reserves the amount in the read model; returns
/// the allocation and receivable ids.
pub(crate) async fn allocate(
    tx: &mut PgConnection,
    outbox: &Outbox,
    p: &Proposed<'_>,
) -> anyhow::Result<(Uuid, Uuid)> {
    let (contract_no, installment) = parse_receivable_ref(p.reference)
        .with_context(|| format!("receivable {:?} in the ledger", p.reference))?;
    let store::ReceivableIds {
        receivable_id,
        contract_id,
        customer_id,
    } = store::receivable_by_ref(tx, contract_no, installment)
        .await?
        .with_context(|| {
            format!(
                "receivable {} is in the ledger but not in open_receivables",
                p.reference
            )
        })?;
    let allocation_id = Uuid::now_v7();
    let now = store::owed_of(tx, receivable_id).await?;
    let ids = store::ReceivableIds {
        receivable_id,
        contract_id,
        customer_id,
    };
    let event = allocated_event(allocation_id, p, &ids, now.as_ref());
    // The proposal is kept as published, for the reconciler that re-drives one contracts
    // never answered (crate::redrive).
    let encoded = prost::Message::encode_to_vec(&event);
    let allocation = store::NewAllocation {
        id: allocation_id,
        payment_id: p.payment_id,
        receivable_id,
        receivable_ref: p.reference,
        amount: p.amount,
        event: &encoded,
        event_key: p.key,
    };
    store::insert_proposed_allocation(tx, &allocation).await?;
    store::reserve_pending_amount(tx, receivable_id, p.amount).await?;
    outbox
        .enqueue(tx, kit::events::PAYMENTS, p.key, &event)
        .await?;
    Ok((allocation_id, receivable_id))
}

/// The `PaymentAllocated` proposing `p` on the receivable `ids`; R-P11: by component, from
/// contracts' figures in the read model (`now`; none when unknown), after what earlier
/// proposals not yet answered reserve.
pub(crate) fn allocated_event(
    allocation_id: Uuid,
    p: &Proposed<'_>,
    ids: &store::ReceivableIds,
    now: Option<&store::OwedNow>,
) -> events::PaymentAllocated {
    let unit = wire::minor_units(p.currency).map_or(Decimal::new(1, 2), |m| Decimal::new(1, m));
    let parts = now
        .map(|now| {
            let terms = now
                .agreed
                .clone()
                .map_or(money::allocation::OrderTerms::Statutory, |o| {
                    money::allocation::OrderTerms::Agreed(o)
                });
            proposal_parts(&now.owed, now.pending, p.amount, &terms, unit)
        })
        .unwrap_or_default();
    events::PaymentAllocated {
        allocation_id: allocation_id.to_string(),
        payment_id: p.payment_id.to_string(),
        receivable_id: ids.receivable_id.to_string(),
        contract_id: ids.contract_id.to_string(),
        customer_id: ids.customer_id.to_string(),
        amount: Some(wire::money(p.amount, p.currency)),
        booking_date: p.booking_date.to_string(),
        parts: wire::parts(&parts, p.currency),
    }
}

/// One exception for the queue.
pub(crate) struct Raised<'a> {
    pub(crate) payment_id: Uuid,
    pub(crate) key: &'a str,
    pub(crate) kind: ExceptionKind,
    pub(crate) reason: &'a str,
    pub(crate) suggested_action: &'a str,
    /// JSON array of [`StoredCandidate`].
    pub(crate) candidates: &'a str,
    pub(crate) also: &'a [String],
}

/// Records an exception for the work queue and publishes it (R-P5).
pub(crate) async fn raise(
    tx: &mut PgConnection,
    outbox: &Outbox,
    e: &Raised<'_>,
) -> Result<(), sqlx::Error> {
    let exception_id = Uuid::now_v7();
    store::insert_exception(tx, &e.stored(exception_id)).await?;
    outbox
        .enqueue(tx, kit::events::PAYMENTS, e.key, &e.event(exception_id))
        .await?;
    e.logged();
    Ok(())
}

impl<'a> Raised<'a> {
    /// The exception's row in the queue, under `exception_id`.
    pub(crate) fn stored(&self, exception_id: Uuid) -> store::NewException<'a> {
        store::NewException {
            id: exception_id,
            about: store::About::Payment(self.payment_id),
            kind: self.kind,
            reason: self.reason,
            suggested_action: self.suggested_action,
            candidates: self.candidates,
            also: self.also,
        }
    }

    /// `ExceptionRaised` for the exception `exception_id`.
    pub(crate) fn event(&self, exception_id: Uuid) -> events::ExceptionRaised {
        events::ExceptionRaised {
            exception_id: exception_id.to_string(),
            payment_id: self.payment_id.to_string(),
            kind: self.kind.as_str().to_owned(),
            reason: self.reason.to_owned(),
        }
    }

    /// Tells the operator the exception was raised.
    pub(crate) fn logged(&self) {
        tracing::info!(payment_id = %self.payment_id, kind = self.kind.as_str(), reason = self.reason, "payment exception raised");
    }
}

/// A candidate as the exception queue keeps it (`exceptions.candidates`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub(crate) struct StoredCandidate {
    pub(crate) customer_id: String,
    pub(crate) customer_name: String,
    pub(crate) contract_nos: Vec<String>,
    pub(crate) confidence: u16,
    pub(crate) evidence: Vec<String>,
    pub(crate) allocations: Vec<StoredAllocation>,
}

/// What confirming a candidate would allocate to one receivable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub(crate) struct StoredAllocation {
    pub(crate) receivable_ref: String,
    pub(crate) amount: String,
    pub(crate) currency: String,
}

fn candidates_json(decision: &Decision) -> anyhow::Result<String> {
    let candidates: Vec<StoredCandidate> = decision
        .candidates
        .iter()
        .map(|c| StoredCandidate {
            customer_id: c.customer_id.to_string(),
            customer_name: c.customer_name.to_string(),
            contract_nos: c.contracts.iter().map(ToString::to_string).collect(),
            confidence: c.confidence,
            evidence: c.evidence.iter().map(ToString::to_string).collect(),
            allocations: c
                .allocations
                .iter()
                .map(|a| StoredAllocation {
                    receivable_ref: a.receivable_id.to_string(),
                    amount: wire::format_amount(a.amount, &c.booked_currency),
                    currency: c.booked_currency.clone(),
                })
                .collect(),
        })
        .collect();
    serde_json::to_string(&candidates).context("candidates as JSON")
}

/// The parts of a proposal of `amount` against `owed` when `pending` of it is already
/// reserved by earlier proposals: the one rule's split of everything proposed, less the split
/// of what was proposed before (R-P11, [`money::allocation::split`]), in the law's order or
/// the one the contract agreed (`terms`).
fn proposal_parts(
    owed: &money::allocation::Owed,
    pending: Decimal,
    amount: Decimal,
    terms: &money::allocation::OrderTerms,
    unit: Decimal,
) -> Vec<(money::allocation::Component, Decimal)> {
    use money::allocation::split;
    let (all, _) = split(pending + amount, owed, terms, unit);
    let (before, _) = split(pending, owed, terms, unit);
    all.into_iter()
        .filter_map(|(component, total)| {
            let earlier: Decimal = before
                .iter()
                .filter(|(c, _)| *c == component)
                .map(|(_, a)| *a)
                .sum();
            let part = total - earlier;
            (part > Decimal::ZERO).then_some((component, part))
        })
        .collect()
}

#[cfg(test)]
mod parts_tests {
    use super::*;
    use money::allocation::{Component, OrderTerms, Owed};

    const FEN: Decimal = Decimal::from_parts(1, 0, 0, false, 2);

    #[test]
    fn a_proposal_follows_the_order_the_contract_agreed() {
        // R-P11: the parties agreed principal first, then costs, then interest and late fee.
        let agreed = OrderTerms::Agreed(money::allocation::Order {
            debts: money::allocation::Order::statutory().debts,
            components: vec![
                vec![Component::Principal],
                vec![Component::Costs],
                vec![Component::Interest, Component::LateFee],
            ],
        });
        let owed = Owed {
            costs: Decimal::new(5_000, 2),
            interest: Decimal::ZERO,
            late_fee: Decimal::new(3_000, 2),
            principal: Decimal::new(100_000, 2),
        };
        assert_eq!(
            proposal_parts(&owed, Decimal::ZERO, Decimal::new(102_000, 2), &agreed, FEN),
            vec![
                (Component::Principal, Decimal::new(100_000, 2)),
                (Component::Costs, Decimal::new(2_000, 2)),
            ]
        );
    }

    #[test]
    fn a_proposal_pays_fees_before_principal_after_what_is_pending() {
        // R-P11 (art. 561): costs, then interest and late fee, then principal.
        let owed = Owed {
            costs: Decimal::new(5_000, 2),
            interest: Decimal::ZERO,
            late_fee: Decimal::new(3_000, 2),
            principal: Decimal::new(100_000, 2),
        };
        assert_eq!(
            proposal_parts(
                &owed,
                Decimal::ZERO,
                Decimal::new(20_000, 2),
                &OrderTerms::Statutory,
                FEN
            ),
            vec![
                (Component::Costs, Decimal::new(5_000, 2)),
                (Component::LateFee, Decimal::new(3_000, 2)),
                (Component::Principal, Decimal::new(12_000, 2)),
            ]
        );
        // 60.00 already proposed: it took the costs and 10.00 of the fee.
        assert_eq!(
            proposal_parts(
                &owed,
                Decimal::new(6_000, 2),
                Decimal::new(5_000, 2),
                &OrderTerms::Statutory,
                FEN
            ),
            vec![
                (Component::LateFee, Decimal::new(2_000, 2)),
                (Component::Principal, Decimal::new(3_000, 2)),
            ]
        );
    }
}

#[cfg(test)]
mod recorded_tests {
    use super::*;
    use cashapp::{Ledger, OpenItem, Payment};

    const CUSTOMER: &str = "0191c1a0-0000-7000-8000-000000000009";
    const ESCROW: &str = "4405 0170 0100 0000 01";

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, d).unwrap_or_default()
    }

    /// The engine's decision on a payment of 1,200.00 for Archibald Haddock's one open item.
    fn decided(payer: Option<&str>, account: Option<&str>, text: &str) -> Decision {
        let item = OpenItem {
            receivable_id: "HT-9/1".into(),
            contract_no: "HT-9".into(),
            customer_id: CUSTOMER.into(),
            customer_name: "Archibald Haddock".into(),
            payer_accounts: vec!["DE89370400440532013000".to_owned()],
            unit: None,
            due_date: day(1),
            open_amount: Decimal::new(120_000, 2),
            currency: "CNY".into(),
            escrow_account: ESCROW.into(),
        };
        let ledger = match Ledger::from_open_items(vec![item]) {
            Ok(ledger) => ledger,
            Err(e) => panic!("test item refused: {e:?}"),
        };
        let payment = Payment::new("p1", day(2), Decimal::new(120_000, 2), "CNY", ESCROW)
            .with_payer(payer, account)
            .with_remittance(text);
        match ledger.reconcile(&[payment]).into_iter().next() {
            Some(decision) => decision,
            None => panic!("one decision per payment"),
        }
    }

    #[test]
    fn r_p5_a_proposal_is_recorded_as_an_exception_with_no_customer() {
        // The payer's name only in the free text: the customer is found, a person confirms.
        let proposal = decided(None, None, "1234//HADDOCK-Archibald");
        assert_eq!(proposal.outcome, Outcome::Proposed, "{proposal:?}");
        assert_eq!(proposal.customer_id.as_deref(), Some(CUSTOMER));
        let recorded = Recorded::of(&proposal).expect("recorded");
        assert_eq!(recorded.status, PaymentStatus::Exception);
        assert_eq!(recorded.customer_id(), None);
        assert!(recorded.json.contains("\"proposed\""), "{}", recorded.json);
    }

    #[test]
    fn r_p4_an_applied_payment_is_recorded_matched_to_its_customer() {
        let applied = decided(
            Some("Archibald Haddock"),
            Some("DE89370400440532013000"),
            "HT-9",
        );
        assert_eq!(applied.outcome, Outcome::Applied, "{applied:?}");
        let recorded = Recorded::of(&applied).expect("recorded");
        assert_eq!(recorded.status, PaymentStatus::Matched);
        assert_eq!(
            recorded.customer_id().map(|c| c.to_string()).as_deref(),
            Some(CUSTOMER)
        );
        assert_eq!(recorded.confidence, i32::from(applied.confidence));
        assert_eq!(recorded.evidence.len(), applied.evidence.len());
    }
}
