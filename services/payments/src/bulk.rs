//! A bank file's plainly applied payments written together (issue 16): what
//! [`crate::ingest::record_payment`] and [`decisions::carry_out`] write for one applied
//! payment (the payment with its decision, its proposed allocations, the reservations on the
//! read model and the events), gathered in memory and written in a handful of statements
//! instead of about ten per payment.
//!
//! Only the usual cases go through here: applied in full, no write-off, no surplus, no
//! instrument or settlement batch; or held for a person (an exception or a proposal), which
//! reads and changes nothing of the receivables. Every other decision is carried out one by
//! one as before, after [`Bulk::flush`], so it sees everything decided before it in the file.

use std::collections::HashMap;

use anyhow::Context as _;
use cashapp::{Decision, Outcome};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use kit::outbox::{Outbox, Staged};

use crate::decisions::{self, Proposed};
use crate::engine::parse_receivable_ref;
use crate::ingest::Stored;
use crate::store::{self, KnownReceivable};

/// Whether `decision` may be written with the others of its file: applied in full, nothing
/// to write off, no surplus.
pub(crate) fn plain(decision: &Decision) -> bool {
    decision.outcome == Outcome::Applied
        && decision.write_off.is_none()
        && decision.unapplied <= Decimal::ZERO
        && !decision.allocations.is_empty()
}

/// Whether `decision` may be written with the others of its file as held for a person:
/// not applied (an exception, or a proposal to confirm), so it touches no receivable.
pub(crate) fn held(decision: &Decision) -> bool {
    decision.outcome != Outcome::Applied
}

/// Owned parts of one payment row (the borrowed ones live in the file's lines).
struct PaymentRow {
    index: usize,
    recorded: decisions::Recorded,
    receivable_id: Option<Uuid>,
}

/// One allocation to insert.
struct AllocationRow {
    id: Uuid,
    payment_id: Uuid,
    receivable_id: Uuid,
    reference: String,
    amount: Decimal,
    event: Vec<u8>,
    key: String,
}

/// One exception to insert, about a payment gathered here.
struct ExceptionRow {
    id: Uuid,
    payment_id: Uuid,
    key: String,
    held: decisions::Held,
}

impl ExceptionRow {
    fn raised(&self) -> decisions::Raised<'_> {
        self.held.raised(self.payment_id, &self.key)
    }
}

/// The applied and held payments of a file not yet written.
pub(crate) struct Bulk<'s> {
    stored: Vec<Stored<'s>>,
    payments: Vec<PaymentRow>,
    allocations: Vec<AllocationRow>,
    exceptions: Vec<ExceptionRow>,
    reserved: Vec<(Uuid, Decimal)>,
    events: Staged,
    /// What is owed and reserved on the receivables the file pays, reserved amounts of the
    /// payments gathered here included.
    known: HashMap<String, KnownReceivable>,
}

impl<'s> Bulk<'s> {
    /// Reads the receivables the plain decisions of `decided` pay, in one statement.
    pub(crate) async fn load(
        tx: &mut PgConnection,
        outbox: &Outbox,
        decided: &[Decision],
    ) -> anyhow::Result<Self> {
        let mut refs = Vec::new();
        for d in decided.iter().filter(|d| plain(d)) {
            for a in &d.allocations {
                let r = parse_receivable_ref(a.receivable_id.as_str())
                    .with_context(|| format!("receivable {:?} in the ledger", a.receivable_id))?;
                refs.push(r);
            }
        }
        let known = store::owed_by_refs(tx, &refs).await?;
        Ok(Self {
            stored: Vec::new(),
            payments: Vec::new(),
            allocations: Vec::new(),
            exceptions: Vec::new(),
            reserved: Vec::new(),
            events: outbox.staged(),
            known,
        })
    }

    /// Gathers a plain decision about the payment `stored` (see [`plain`]).
    pub(crate) fn add(&mut self, stored: Stored<'s>, decision: &Decision) -> anyhow::Result<()> {
        let payment_id = stored.payment_id;
        let key = self.received(&stored, decision)?;
        let mut first = None;
        for a in &decision.allocations {
            let reference = a.receivable_id.as_str();
            let known = self.known.get_mut(reference).with_context(|| {
                format!("receivable {reference} is in the ledger but not in open_receivables")
            })?;
            let allocation_id = Uuid::now_v7();
            let proposed = Proposed {
                payment_id,
                reference,
                amount: a.amount,
                currency: &decision.booked_currency,
                booking_date: decision.date,
                key: &key,
            };
            let event =
                decisions::allocated_event(allocation_id, &proposed, &known.ids, Some(&known.owed));
            // The next proposal on this receivable comes after this one (R-P11).
            known.owed.pending += a.amount;
            let receivable_id = known.ids.receivable_id;
            first.get_or_insert(receivable_id);
            self.reserved.push((receivable_id, a.amount));
            self.events.push(kit::events::PAYMENTS, &key, &event)?;
            self.allocations.push(AllocationRow {
                id: allocation_id,
                payment_id,
                receivable_id,
                reference: reference.to_owned(),
                amount: a.amount,
                event: prost::Message::encode_to_vec(&event),
                key: key.clone(),
            });
        }
        self.payments.push(PaymentRow {
            index: self.stored.len(),
            recorded: decisions::Recorded::of(decision)?,
            receivable_id: first,
        });
        self.stored.push(stored);
        Ok(())
    }

    /// Gathers a decision held for a person about the payment `stored` (see [`held`]): what
    /// [`decisions::carry_out`] writes for it, the exception with its `ExceptionRaised`
    /// (R-P5).
    pub(crate) fn add_held(
        &mut self,
        stored: Stored<'s>,
        decision: &Decision,
    ) -> anyhow::Result<()> {
        let payment_id = stored.payment_id;
        let key = self.received(&stored, decision)?;
        let exception = ExceptionRow {
            id: Uuid::now_v7(),
            payment_id,
            key,
            held: decisions::held(decision)?,
        };
        let raised = exception.raised();
        self.events.push(
            kit::events::PAYMENTS,
            raised.key,
            &raised.event(exception.id),
        )?;
        raised.logged();
        self.exceptions.push(exception);
        self.payments.push(PaymentRow {
            index: self.stored.len(),
            recorded: decisions::Recorded::of(decision)?,
            receivable_id: None,
        });
        self.stored.push(stored);
        Ok(())
    }

    /// Stages the payment's `PaymentReceived` under the key of its decision's events, and
    /// returns that key.
    fn received(&mut self, stored: &Stored<'_>, decision: &Decision) -> anyhow::Result<String> {
        let key = decisions::key(decision, stored.payment_id)?;
        self.events.push(
            kit::events::PAYMENTS,
            &key,
            &crate::ingest::received_event(stored),
        )?;
        Ok(key)
    }

    /// Forgets what it knows of the receivables `decision` pays: carried out one by one, it
    /// changed them in the database, which is read again when next needed.
    pub(crate) async fn changed_elsewhere(
        &mut self,
        tx: &mut PgConnection,
        decision: &Decision,
    ) -> anyhow::Result<()> {
        let mut refs = Vec::new();
        for a in &decision.allocations {
            if self.known.remove(a.receivable_id.as_str()).is_some() {
                let r = parse_receivable_ref(a.receivable_id.as_str())
                    .with_context(|| format!("receivable {:?} in the ledger", a.receivable_id))?;
                refs.push(r);
            }
        }
        if !refs.is_empty() {
            self.known.extend(store::owed_by_refs(tx, &refs).await?);
        }
        Ok(())
    }

    /// Writes what was gathered: payments, allocations, reservations, then the events, in
    /// the order gathered.
    pub(crate) async fn flush(&mut self, tx: &mut PgConnection) -> anyhow::Result<()> {
        if self.payments.is_empty() {
            return Ok(());
        }
        let rows: Vec<store::DecidedPayment<'_>> = self
            .payments
            .iter()
            .map(|p| {
                let s = &self.stored[p.index];
                store::DecidedPayment {
                    payment: store::NewPayment {
                        id: s.payment_id,
                        file_id: s.file_id,
                        channel: s.channel,
                        line: s.line,
                        customer_id: p.recorded.customer_id(),
                        sealed_account: &s.accounts.payer.0,
                        account_index: &s.accounts.payer.1,
                        sealed_receiving: &s.accounts.receiving.0,
                        receiving_index: &s.accounts.receiving.1,
                    },
                    decision: p.recorded.stored(),
                    receivable_id: p.receivable_id,
                }
            })
            .collect();
        store::insert_decided_payments(tx, &rows).await?;
        drop(rows);
        let allocations: Vec<store::NewAllocation<'_>> = self
            .allocations
            .iter()
            .map(|a| store::NewAllocation {
                id: a.id,
                payment_id: a.payment_id,
                receivable_id: a.receivable_id,
                receivable_ref: &a.reference,
                amount: a.amount,
                event: &a.event,
                event_key: &a.key,
            })
            .collect();
        store::insert_proposed_allocations(tx, &allocations).await?;
        drop(allocations);
        store::reserve_pending_amounts(tx, &self.reserved).await?;
        let exceptions: Vec<store::NewException<'_>> = self
            .exceptions
            .iter()
            .map(|e| e.raised().stored(e.id))
            .collect();
        store::insert_exceptions(tx, &exceptions).await?;
        drop(exceptions);
        self.events.write(tx).await?;
        self.stored.clear();
        self.payments.clear();
        self.allocations.clear();
        self.exceptions.clear();
        self.reserved.clear();
        Ok(())
    }
}
