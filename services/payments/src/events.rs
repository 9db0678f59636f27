//! The events payments consumes, as one typed enum ([`Consumed`], decoded from the envelope;
//! what the consumer `wants` is derived from it), with one function per event: contracts'
//! events keep the read model of open receivables and settle proposed allocations when
//! contracts confirms or refuses them. (What payments emits is enqueued where the change is
//! made: `decisions`, `ingest`, `resolve`, `redrive`, and `refunds` for RefundRequested,
//! RefundApproved and RefundRejected — payments does not consume its own topic, so they have
//! no variant here.)

use std::collections::HashSet;
use std::str::FromStr;
use std::sync::Arc;

use anyhow::Context as _;
use cashapp::{OpenItem, Outcome};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use kit::consumer::{HandleError, Handler, IncomingEvent, uuid_field as uuid};
use kit::outbox::Outbox;
use kit::wire;
use proto::events::v1 as events;

use crate::decisions::{self, Raised};
use crate::domain::status::PaymentStatus;
use crate::domain::status::{AllocationStatus, ExceptionKind};
use crate::engine::{self, Engine, Session, Shown};
use crate::store;

/// The schema version from which ContractSigned and PayerAccountAdded carry accounts as
/// blind indexes (R-O4; kit::events::schema_version).
pub(crate) const ACCOUNT_INDEX_VERSION: u32 = 2;

/// The events payments consumes (contracts' topic), decoded once at the edge.
pub(crate) enum Consumed {
    /// A contract with its receivables, payer accounts and escrow account (R-O4: as blind
    /// indexes from schema version 2).
    ContractSigned {
        event: events::ContractSigned,
        schema_version: u32,
    },
    /// A payer account put on file for a customer (schema version 2 and later).
    PayerAccountAdded(events::PayerAccountAdded),
    /// Contracts booked an allocation proposed here.
    AllocationApplied(events::AllocationApplied),
    /// Contracts refused an allocation proposed here.
    AllocationRejected(events::AllocationRejected),
    /// A unit's charges for a period were billed (R-C2).
    ChargesBilled(events::ChargesBilled),
    /// What is owed on a receivable changed outside an allocation: the daily cycle accrued
    /// late fee or interest, a collection cost was booked, a waiver approved (R-D12).
    OwedChanged {
        receivable_id: Uuid,
        owed: money::allocation::Owed,
    },
    /// A supervisor approved an amendment (R-C8): due dates and open amounts changed,
    /// receivables were added or left the schedule.
    AmendmentApproved(events::AmendmentApproved),
}

/// The types of [`Consumed`], by their envelope's event type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ConsumedType {
    ContractSigned,
    PayerAccountAdded,
    AllocationApplied,
    AllocationRejected,
    ChargesBilled,
    ReceivableOverdue,
    CostBooked,
    WaiverApproved,
    WrittenOff,
    AmendmentApproved,
}

impl ConsumedType {
    const ALL: [Self; 10] = [
        Self::ContractSigned,
        Self::PayerAccountAdded,
        Self::AllocationApplied,
        Self::AllocationRejected,
        Self::ChargesBilled,
        Self::ReceivableOverdue,
        Self::CostBooked,
        Self::WaiverApproved,
        Self::WrittenOff,
        Self::AmendmentApproved,
    ];

    fn name(self) -> String {
        match self {
            Self::ContractSigned => kit::events::type_name::<events::ContractSigned>(),
            Self::PayerAccountAdded => kit::events::type_name::<events::PayerAccountAdded>(),
            Self::AllocationApplied => kit::events::type_name::<events::AllocationApplied>(),
            Self::AllocationRejected => kit::events::type_name::<events::AllocationRejected>(),
            Self::ChargesBilled => kit::events::type_name::<events::ChargesBilled>(),
            Self::ReceivableOverdue => kit::events::type_name::<events::ReceivableOverdue>(),
            Self::CostBooked => kit::events::type_name::<events::CostBooked>(),
            Self::WaiverApproved => kit::events::type_name::<events::WaiverApproved>(),
            Self::WrittenOff => kit::events::type_name::<events::WrittenOff>(),
            Self::AmendmentApproved => kit::events::type_name::<events::AmendmentApproved>(),
        }
    }

    fn of(event_type: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == event_type)
    }
}

impl TryFrom<&IncomingEvent> for Consumed {
    type Error = HandleError;

    /// Decodes the payload; one that does not decode, of a type not consumed here, or a
    /// PayerAccountAdded without a blind index is permanent (dead-lettered).
    fn try_from(event: &IncomingEvent) -> Result<Self, HandleError> {
        let event_type = event.envelope.event_type.as_str();
        let schema_version = event.envelope.schema_version;
        match ConsumedType::of(event_type) {
            Some(ConsumedType::ContractSigned) => Ok(Self::ContractSigned {
                event: event.decode()?,
                schema_version,
            }),
            Some(ConsumedType::PayerAccountAdded) => {
                let added = event.decode()?;
                if schema_version < ACCOUNT_INDEX_VERSION {
                    return Err(HandleError::Permanent(
                        "PayerAccountAdded of schema version 1 carries no blind index (R-O4); add the account again with AddPayerAccount".to_owned(),
                    ));
                }
                Ok(Self::PayerAccountAdded(added))
            }
            Some(ConsumedType::AllocationApplied) => Ok(Self::AllocationApplied(event.decode()?)),
            Some(ConsumedType::AllocationRejected) => Ok(Self::AllocationRejected(event.decode()?)),
            Some(ConsumedType::ChargesBilled) => Ok(Self::ChargesBilled(event.decode()?)),
            Some(ConsumedType::ReceivableOverdue) => {
                let e: events::ReceivableOverdue = event.decode()?;
                owed_changed(&e.receivable_id, e.owed.as_ref())
            }
            Some(ConsumedType::CostBooked) => {
                let e: events::CostBooked = event.decode()?;
                owed_changed(&e.receivable_id, e.owed_after.as_ref())
            }
            Some(ConsumedType::WaiverApproved) => {
                let e: events::WaiverApproved = event.decode()?;
                owed_changed(&e.receivable_id, e.owed_after.as_ref())
            }
            Some(ConsumedType::WrittenOff) => {
                let e: events::WrittenOff = event.decode()?;
                owed_changed(&e.receivable_id, e.owed_after.as_ref())
            }
            Some(ConsumedType::AmendmentApproved) => Ok(Self::AmendmentApproved(event.decode()?)),
            None => Err(HandleError::Permanent(format!(
                "payments does not consume {event_type}"
            ))),
        }
    }
}

/// An [`Consumed::OwedChanged`] from an event's receivable id and owed figures; an event
/// without figures (an older producer) changes nothing here.
fn owed_changed(
    receivable_id: &str,
    owed: Option<&proto::types::v1::Owed>,
) -> Result<Consumed, HandleError> {
    let receivable_id = uuid("receivable_id", receivable_id)?;
    let owed = match owed {
        Some(owed) => wire::parse_owed(owed).map_err(HandleError::Permanent)?,
        None => {
            return Err(HandleError::Permanent(format!(
                "receivable {receivable_id}: the event carries no owed figures"
            )));
        }
    };
    Ok(Consumed::OwedChanged {
        receivable_id,
        owed,
    })
}

/// The consumer of contracts' events.
pub(crate) struct ContractEvents {
    pub(crate) outbox: Outbox,
    pub(crate) engine: Arc<Engine>,
}

impl Handler for ContractEvents {
    fn wants(&self, event_type: &str) -> bool {
        ConsumedType::of(event_type).is_some()
    }

    fn together(&self, event_type: &str) -> bool {
        // Issue 16: a run of confirmations is booked in a few statements, a run of signed
        // contracts taken in under one ledger lock.
        event_type == kit::events::type_name::<events::AllocationApplied>()
            || event_type == kit::events::type_name::<events::ContractSigned>()
    }

    async fn handle_run(
        &self,
        tx: &mut PgConnection,
        events: &[&IncomingEvent],
    ) -> Result<(), (usize, HandleError)> {
        let together = match events.first().map(|e| e.envelope.event_type.as_str()) {
            Some(t) if t == kit::events::type_name::<events::ContractSigned>() => {
                crate::contract_runs::apply(&self.engine, tx, events).await
            }
            _ => allocations_applied(tx, events).await,
        };
        if together.map_err(|e| (0, e))? {
            return Ok(());
        }
        // Not the usual run: each in turn, as they came.
        kit::consumer::one_by_one(self, tx, events).await
    }

    async fn handle(
        &self,
        tx: &mut PgConnection,
        event: &IncomingEvent,
    ) -> Result<(), HandleError> {
        // Decode first: a poison message must not wait for the ledger.
        match Consumed::try_from(event)? {
            Consumed::ContractSigned {
                event,
                schema_version,
            } => self.on_contract_signed(tx, &event, schema_version).await,
            Consumed::PayerAccountAdded(added) => self.on_payer_account_added(tx, &added).await,
            Consumed::AllocationApplied(applied) => self.on_allocation_applied(tx, applied).await,
            Consumed::AllocationRejected(rejected) => {
                self.on_allocation_rejected(tx, rejected).await
            }
            Consumed::ChargesBilled(billed) => self.on_charges_billed(tx, billed).await,
            Consumed::OwedChanged {
                receivable_id,
                owed,
            } => self.on_owed_changed(tx, receivable_id, &owed).await,
            Consumed::AmendmentApproved(approved) => {
                self.on_amendment_approved(tx, &approved).await
            }
        }
    }
}

impl ContractEvents {
    /// ContractSigned: its receivables join the read model and the ledger; payments waiting
    /// for it are decided again.
    async fn on_contract_signed(
        &self,
        tx: &mut PgConnection,
        signed: &events::ContractSigned,
        schema_version: u32,
    ) -> Result<(), HandleError> {
        if schema_version < ACCOUNT_INDEX_VERSION {
            // R-O4: version 1 carried clear accounts in fields that are reserved now.
            tracing::warn!(contract_no = %signed.contract_no, "ContractSigned of schema version 1: its payer and escrow accounts are not read (R-O4), so payments for its receivables go to the exception queue");
        }
        let mut session = self.engine.open(tx).await?;
        contract_signed(tx, &mut session, signed).await?;
        // R-P11: payments proposes in the order of components the contract agreed.
        if let Some(order) = signed.allocation_order.as_ref() {
            let order = wire::parse_component_order(order).map_err(|e| {
                HandleError::Permanent(format!(
                    "contract {}: allocation_order: {e}",
                    signed.contract_no
                ))
            })?;
            let contract_id = uuid("contract_id", &signed.contract_id)?;
            store::set_allocation_order(tx, contract_id, &order).await?;
        }
        let because = Because {
            contract_no: Some(&signed.contract_no),
            account_indexes: &signed.payer_account_indexes,
            what: &format!("contract {} was known", signed.contract_no),
        };
        rematch(tx, &self.outbox, &mut session, &because).await?;
        session.close(tx).await?;
        Ok(())
    }

    /// ChargesBilled (R-C2): a unit's charges join the read model as a signed contract's
    /// receivables do, so cash application can match and allocate them; payments waiting
    /// for them are decided again.
    async fn on_charges_billed(
        &self,
        tx: &mut PgConnection,
        billed: events::ChargesBilled,
    ) -> Result<(), HandleError> {
        let billed = as_signed(billed);
        let mut session = self.engine.open(tx).await?;
        contract_signed(tx, &mut session, &billed).await?;
        let because = Because {
            contract_no: Some(&billed.contract_no),
            account_indexes: &billed.payer_account_indexes,
            what: &format!("charges of contract {} were billed", billed.contract_no),
        };
        rematch(tx, &self.outbox, &mut session, &because).await?;
        session.close(tx).await?;
        Ok(())
    }

    /// AmendmentApproved (R-C8): the read model and the ledger take the amended due dates
    /// and open amounts, new receivables join them, removed ones have nothing open. Setting
    /// contracts' values is harmless when the event is delivered again.
    async fn on_amendment_approved(
        &self,
        tx: &mut PgConnection,
        approved: &events::AmendmentApproved,
    ) -> Result<(), HandleError> {
        let contract_id = uuid("contract_id", &approved.contract_id)?;
        let mut session = self.engine.open(tx).await?;
        let mut added_ids = Vec::new();
        for r in &approved.receivables {
            let receivable_id = uuid("receivable_id", &r.receivable_id)?;
            let due = NaiveDate::from_str(&r.due_date)
                .map_err(|e| HandleError::Permanent(format!("due_date {:?}: {e}", r.due_date)))?;
            let (principal, _) =
                wire::parse_money(r.open_amount.as_ref()).map_err(HandleError::Permanent)?;
            // R-D12: late fee, interest and costs stay owed on an amended item.
            let owed = match r.owed.as_ref() {
                Some(owed) => wire::parse_owed(owed).map_err(HandleError::Permanent)?,
                None => money::allocation::Owed {
                    principal,
                    ..Default::default()
                },
            };
            let owed = if r.removed {
                money::allocation::Owed::default()
            } else {
                owed
            };
            let open = owed.total();
            let installment = i32::try_from(r.installment_no).unwrap_or(i32::MAX);
            let known = store::amend_receivable(tx, receivable_id, due, &owed).await?;
            if !known {
                if !r.created {
                    tracing::warn!(%receivable_id, contract_no = %approved.contract_no, "amended receivable not in the read model");
                    continue;
                }
                if !store::add_amended_receivable(
                    tx,
                    contract_id,
                    receivable_id,
                    installment,
                    due,
                    open,
                )
                .await?
                {
                    return Err(HandleError::Permanent(format!(
                        "amendment {} adds a receivable to contract {}, which payments does not know",
                        approved.amendment_id, approved.contract_no
                    )));
                }
                added_ids.push(receivable_id);
                continue;
            }
            let reference = engine::receivable_ref(&approved.contract_no, installment);
            if session.ledger().open_amount(&reference).is_some() {
                session
                    .set_due_date(&reference, due)
                    .context("following an amendment")?;
            }
            follow(tx, &mut session, receivable_id).await?;
        }
        if !added_ids.is_empty() {
            let items = engine::shown(store::open_items_by_ids(tx, &added_ids).await?);
            for error in session.add_items(items, &added_ids) {
                tracing::warn!(%error, contract_no = %approved.contract_no, "receivable left out of cash application; fix it in contracts");
            }
        }
        session.close(tx).await?;
        tracing::info!(amendment_id = %approved.amendment_id, contract_no = %approved.contract_no, version = approved.version, "amendment followed");
        Ok(())
    }

    /// PayerAccountAdded: the account is on file; payments from it are decided again.
    async fn on_payer_account_added(
        &self,
        tx: &mut PgConnection,
        added: &events::PayerAccountAdded,
    ) -> Result<(), HandleError> {
        let mut session = self.engine.open(tx).await?;
        payer_account_added(tx, &mut session, added).await?;
        let because = Because {
            contract_no: None,
            account_indexes: std::slice::from_ref(&added.account_index),
            what: &format!(
                "account {} was put on file for the customer",
                added.account_masked
            ),
        };
        rematch(tx, &self.outbox, &mut session, &because).await?;
        session.close(tx).await?;
        Ok(())
    }

    /// What is owed changed (accrual, cost, waiver): the read model takes contracts' figures;
    /// the ledger is taken only when the total moved (an accrual that is zero, or a day on
    /// which nothing accrues, changes nothing there).
    async fn on_owed_changed(
        &self,
        tx: &mut PgConnection,
        receivable_id: Uuid,
        owed: &money::allocation::Owed,
    ) -> Result<(), HandleError> {
        let Some(now) = store::owed_of(tx, receivable_id).await? else {
            // Not (yet) in the read model: its contract's event creates it with these figures
            // missing, the next accrual brings them.
            tracing::debug!(%receivable_id, "owed figures of a receivable unknown here");
            return Ok(());
        };
        if now.owed == *owed {
            return Ok(());
        }
        if now.owed.total() == owed.total() {
            store::set_owed(tx, receivable_id, owed).await?;
            return Ok(());
        }
        let mut session = self.engine.open(tx).await?;
        store::set_owed(tx, receivable_id, owed).await?;
        follow(tx, &mut session, receivable_id).await?;
        session.close(tx).await?;
        Ok(())
    }

    /// AllocationApplied (a repeat counts only while the allocation is still proposed).
    async fn on_allocation_applied(
        &self,
        tx: &mut PgConnection,
        applied: events::AllocationApplied,
    ) -> Result<(), HandleError> {
        if applied.repeat && !still_proposed(tx, &applied.allocation_id).await? {
            return Ok(());
        }
        allocation_applied(tx, &self.engine, applied).await
    }

    /// AllocationRejected (a repeat counts only while the allocation is still proposed).
    async fn on_allocation_rejected(
        &self,
        tx: &mut PgConnection,
        rejected: events::AllocationRejected,
    ) -> Result<(), HandleError> {
        if rejected.repeat && !still_proposed(tx, &rejected.allocation_id).await? {
            return Ok(());
        }
        let mut session = self.engine.open(tx).await?;
        allocation_rejected(tx, &self.outbox, &mut session, rejected).await?;
        session.close(tx).await?;
        Ok(())
    }
}

/// One confirmation of a run, decoded.
struct Confirmation {
    allocation_id: Uuid,
    payment_id: Uuid,
    receivable_id: Uuid,
    amount: Decimal,
    open_after: Decimal,
    owed: Option<money::allocation::Owed>,
}

impl Confirmation {
    fn of(event: &IncomingEvent) -> Option<Self> {
        let applied: events::AllocationApplied = event.decode().ok()?;
        if applied.repeat {
            return None;
        }
        Some(Self {
            allocation_id: Uuid::parse_str(&applied.allocation_id).ok()?,
            payment_id: Uuid::parse_str(&applied.payment_id).ok()?,
            receivable_id: Uuid::parse_str(&applied.receivable_id).ok()?,
            amount: wire::parse_money(applied.amount.as_ref()).ok()?.0,
            open_after: wire::parse_money(applied.open_amount_after.as_ref())
                .ok()?
                .0,
            owed: match applied.owed_after.as_ref() {
                Some(owed) => Some(wire::parse_owed(owed).ok()?),
                None => None,
            },
        })
    }
}

/// A run of contracts' confirmations booked together (issue 16), as
/// [`allocation_applied`] books each: false, with nothing written, unless every one is new
/// and confirms exactly what was proposed (so the ledger need not be taken).
async fn allocations_applied(
    tx: &mut PgConnection,
    events: &[&IncomingEvent],
) -> Result<bool, HandleError> {
    let Some(run) = events
        .iter()
        .map(|e| Confirmation::of(e))
        .collect::<Option<Vec<_>>>()
    else {
        return Ok(false);
    };
    let mut receivables: Vec<Uuid> = run.iter().map(|c| c.receivable_id).collect();
    receivables.sort_unstable();
    receivables.dedup();
    let mut balances = store::receivable_balances(tx, &receivables).await?;
    let mut booked: std::collections::HashMap<Uuid, store::ConfirmedRow> =
        std::collections::HashMap::new();
    for c in &run {
        if let Some(b) = balances.get_mut(&c.receivable_id) {
            if !(b.open_amount - c.amount == c.open_after && b.pending_amount >= c.amount) {
                return Ok(false);
            }
            b.open_amount = c.owed.as_ref().map_or(c.open_after, |o| o.total());
            b.pending_amount -= c.amount;
        }
        let row = booked
            .entry(c.receivable_id)
            .or_insert_with(|| store::ConfirmedRow {
                receivable_id: c.receivable_id,
                open_amount: c.open_after,
                owed: None,
                confirmed: Decimal::ZERO,
            });
        row.open_amount = c.owed.as_ref().map_or(c.open_after, |o| o.total());
        if c.owed.is_some() {
            row.owed.clone_from(&c.owed);
        }
        row.confirmed += c.amount;
    }
    let ids: Vec<Uuid> = run.iter().map(|c| c.allocation_id).collect();
    let settled = store::settle_allocations_applied(tx, &ids).await?;
    if usize::try_from(settled).ok() != Some(ids.len()) {
        tracing::warn!(
            settled,
            confirmed = ids.len(),
            "allocations settled that were not pending here"
        );
    }
    let rows: Vec<store::ConfirmedRow> = booked.into_values().collect();
    store::book_confirmed_amounts(tx, &rows).await?;
    let payments: Vec<Uuid> = run.iter().map(|c| c.payment_id).collect();
    store::set_payments_allocated(tx, &payments).await?;
    Ok(true)
}

/// Whether an allocation is still waiting for contracts' answer here: a repeated answer
/// (to a re-driven proposal, crate::redrive) counts only then, once.
async fn still_proposed(tx: &mut PgConnection, allocation_id: &str) -> Result<bool, HandleError> {
    let allocation_id = uuid("allocation_id", allocation_id)?;
    let status = store::allocation_status(tx, allocation_id).await?;
    Ok(status.is_some_and(AllocationStatus::is_pending))
}

/// Puts the account (its blind index, R-O4) on file for the customer in the read model and
/// the ledger.
async fn payer_account_added(
    tx: &mut PgConnection,
    session: &mut Session<'_>,
    added: &events::PayerAccountAdded,
) -> Result<(), HandleError> {
    let customer_id = uuid("customer_id", &added.customer_id)?;
    let index = added.account_index.as_str();
    if index.is_empty() {
        return Err(HandleError::Permanent("account_index is empty".to_owned()));
    }
    store::add_payer_account(tx, customer_id, &added.account_masked, index).await?;
    session.add_payer_account(customer_id, index);
    Ok(())
}

/// The part of `ChargesBilled` the read model takes, in the shape of a signed contract's
/// (same contract, customer, accounts and receivables; the unit by its code, as remittance
/// texts name it).
fn as_signed(billed: events::ChargesBilled) -> events::ContractSigned {
    events::ContractSigned {
        contract_id: billed.contract_id,
        contract_no: billed.contract_no,
        customer_id: billed.customer_id,
        customer_name: billed.customer_name,
        currency: billed.currency,
        receivables: billed.receivables,
        unit: billed.unit,
        payer_account_indexes: billed.payer_account_indexes,
        payer_accounts_masked: billed.payer_accounts_masked,
        escrow_account_index: billed.escrow_account_index,
        escrow_account_masked: billed.escrow_account_masked,
        ..Default::default()
    }
}

/// A signed contract's receivables as the read model stores them and the ledger shows them
/// (R-O4: accounts as blind indexes and masked forms only).
pub(crate) struct SignedItems<'a> {
    pub(crate) signed: &'a events::ContractSigned,
    contract_id: Uuid,
    customer_id: Uuid,
    unit: Option<String>,
    indexes: Vec<&'a str>,
    items: Vec<SignedItem>,
}

/// One receivable of a [`SignedItems`].
struct SignedItem {
    receivable_id: Uuid,
    installment_no: i32,
    due_date: NaiveDate,
    currency: String,
    amount: Decimal,
}

impl<'a> SignedItems<'a> {
    /// Reads the event's fields; an id, date or amount that does not parse names itself.
    pub(crate) fn parse(signed: &'a events::ContractSigned) -> Result<Self, HandleError> {
        let mut items = Vec::with_capacity(signed.receivables.len());
        for receivable in &signed.receivables {
            let (amount, currency) =
                wire::parse_money(receivable.amount.as_ref()).map_err(HandleError::Permanent)?;
            let due_date = NaiveDate::from_str(&receivable.due_date).map_err(|e| {
                HandleError::Permanent(format!("due_date {:?}: {e}", receivable.due_date))
            })?;
            items.push(SignedItem {
                receivable_id: uuid("receivable_id", &receivable.receivable_id)?,
                installment_no: i32::try_from(receivable.installment_no).unwrap_or(i32::MAX),
                due_date,
                currency,
                amount,
            });
        }
        Ok(Self {
            signed,
            contract_id: uuid("contract_id", &signed.contract_id)?,
            customer_id: uuid("customer_id", &signed.customer_id)?,
            unit: Some(signed.unit.trim().to_owned()).filter(|u| !u.is_empty()),
            indexes: signed
                .payer_account_indexes
                .iter()
                .map(String::as_str)
                .filter(|i| !i.is_empty())
                .collect(),
            items,
        })
    }

    /// The receivable ids, in the event's order.
    pub(crate) fn receivable_ids(&self) -> impl Iterator<Item = Uuid> + '_ {
        self.items.iter().map(|i| i.receivable_id)
    }

    /// The read model's rows.
    pub(crate) fn rows(&self) -> Vec<store::NewReceivable<'_>> {
        let s = self.signed;
        self.items
            .iter()
            .map(|i| store::NewReceivable {
                receivable_id: i.receivable_id,
                contract_id: self.contract_id,
                contract_no: &s.contract_no,
                customer_id: self.customer_id,
                installment_no: i.installment_no,
                due_date: i.due_date,
                currency: &i.currency,
                open_amount: i.amount,
                customer_name: &s.customer_name,
                payer_accounts_masked: &s.payer_accounts_masked,
                escrow_account_index: &s.escrow_account_index,
                escrow_account_masked: &s.escrow_account_masked,
                unit: self.unit.as_deref(),
                payer_account_indexes: &self.indexes,
            })
            .collect()
    }

    /// Adds the receivables among `inserted` (new in the read model) to the ledger.
    pub(crate) fn add_to(&self, session: &mut Session<'_>, inserted: &HashSet<Uuid>) {
        let s = self.signed;
        let (mut added, mut items) = (Vec::new(), Vec::new());
        for i in self
            .items
            .iter()
            .filter(|i| inserted.contains(&i.receivable_id))
        {
            added.push(i.receivable_id);
            items.push(Shown {
                item: OpenItem {
                    receivable_id: engine::receivable_ref(&s.contract_no, i.installment_no),
                    contract_no: s.contract_no.clone(),
                    customer_id: self.customer_id.to_string(),
                    customer_name: s.customer_name.clone(),
                    payer_accounts: self.indexes.iter().map(|i| (*i).to_owned()).collect(),
                    unit: self.unit.clone(),
                    due_date: i.due_date,
                    open_amount: i.amount,
                    currency: i.currency.clone(),
                    escrow_account: s.escrow_account_index.clone(),
                },
                escrow_shown: s.escrow_account_masked.clone(),
            });
        }
        if !items.is_empty() {
            for error in session.add_items(items, &added) {
                tracing::warn!(%error, contract_no = %s.contract_no, "receivable left out of cash application; fix it in contracts");
            }
        }
    }
}

/// Adds the contract's receivables to the read model and to the ledger.
async fn contract_signed(
    tx: &mut PgConnection,
    session: &mut Session<'_>,
    signed: &events::ContractSigned,
) -> Result<(), HandleError> {
    let parsed = SignedItems::parse(signed)?;
    let mut inserted = HashSet::with_capacity(parsed.items.len());
    for row in parsed.rows() {
        if store::add_open_receivable(tx, &row).await? {
            inserted.insert(row.receivable_id);
        }
    }
    parsed.add_to(session, &inserted);
    Ok(())
}

/// Contracts confirmed an allocation: the amount moves from pending to paid in the read
/// model. What the ledger holds (open less pending) does not change when contracts booked
/// exactly what was proposed, the usual case, so the ledger is taken (and every other change
/// waits) only when it did not.
async fn allocation_applied(
    tx: &mut PgConnection,
    engine: &Engine,
    applied: events::AllocationApplied,
) -> Result<(), HandleError> {
    let allocation_id = uuid("allocation_id", &applied.allocation_id)?;
    let receivable_id = uuid("receivable_id", &applied.receivable_id)?;
    let (amount, _) = wire::parse_money(applied.amount.as_ref()).map_err(HandleError::Permanent)?;
    let (open_after, _) =
        wire::parse_money(applied.open_amount_after.as_ref()).map_err(HandleError::Permanent)?;
    let now = store::receivable_balance(tx, receivable_id).await?;
    // Pending amounts only grow under the ledger lock and shrink here, in the order contracts
    // confirms (one partition per customer), so this holds until the update below.
    let unchanged =
        now.is_none_or(|b| b.open_amount - amount == open_after && b.pending_amount >= amount);
    let mut session = if unchanged {
        None
    } else {
        Some(engine.open(tx).await?)
    };
    settle(tx, allocation_id, AllocationStatus::Applied, "").await?;
    store::book_confirmed_amount(tx, receivable_id, open_after, amount).await?;
    if let Some(owed) = applied.owed_after.as_ref() {
        let owed = wire::parse_owed(owed).map_err(HandleError::Permanent)?;
        store::set_owed(tx, receivable_id, &owed).await?;
    }
    if let Some(session) = session.as_mut() {
        follow(tx, session, receivable_id).await?;
    }
    let payment_id = uuid("payment_id", &applied.payment_id)?;
    store::set_payment_status(tx, payment_id, PaymentStatus::Allocated).await?;
    if let Some(session) = session {
        session.close(tx).await?;
    }
    Ok(())
}

/// Makes the ledger's open amount of a receivable what the read model now says is available
/// (open, less what is proposed and not yet confirmed). Usually it already is: the ledger
/// took the amount off when it applied the payment.
async fn follow(
    tx: &mut PgConnection,
    session: &mut Session<'_>,
    receivable_id: Uuid,
) -> Result<(), HandleError> {
    let Some(store::Available {
        contract_no,
        installment_no,
        available,
        ..
    }) = store::available_of_receivable(tx, receivable_id).await?
    else {
        return Ok(());
    };
    let reference = engine::receivable_ref(&contract_no, installment_no);
    match session.ledger().open_amount(&reference) {
        Some(open) if open == available => {}
        Some(_) => session
            .set_open_amount(&reference, available)
            .context("following the read model")?,
        None => tracing::warn!(%reference, "receivable not in the cash-application ledger"),
    }
    Ok(())
}

async fn allocation_rejected(
    tx: &mut PgConnection,
    outbox: &Outbox,
    session: &mut Session<'_>,
    rejected: events::AllocationRejected,
) -> Result<(), HandleError> {
    let allocation_id = uuid("allocation_id", &rejected.allocation_id)?;
    let payment_id = uuid("payment_id", &rejected.payment_id)?;
    let (amount, _) =
        wire::parse_money(rejected.amount.as_ref()).map_err(HandleError::Permanent)?;
    if !store::payment_exists(tx, payment_id).await? {
        // Not one of ours (another producer proposed it): nothing to settle here.
        tracing::warn!(%payment_id, %allocation_id, "rejection of an allocation this service did not propose");
        return Ok(());
    }
    settle(
        tx,
        allocation_id,
        AllocationStatus::Rejected,
        &rejected.reason,
    )
    .await?;
    let receivable_id = uuid("receivable_id", &rejected.receivable_id)?;
    store::release_pending_amount(tx, receivable_id, amount).await?;
    // The owner told us the true open balance: correct the read model with it.
    if let Some(money) = rejected.open_amount.as_ref() {
        let open = Decimal::from_str(&money.amount)
            .map_err(|e| HandleError::Permanent(format!("open_amount {:?}: {e}", money.amount)))?;
        store::correct_open_amount(tx, receivable_id, open).await?;
    }
    follow(tx, session, receivable_id).await?;
    store::set_payment_status(tx, payment_id, PaymentStatus::Exception).await?;
    let key = if rejected.customer_id.is_empty() {
        rejected.payment_id.clone()
    } else {
        rejected.customer_id.clone()
    };
    let reason = format!("contracts refused the allocation: {}", rejected.reason);
    decisions::raise(
        tx,
        outbox,
        &Raised {
            payment_id,
            key: &key,
            kind: ExceptionKind::AllocationRejected,
            reason: &reason,
            suggested_action: "check the receivable's balance; allocate the payment elsewhere or refund it",
            candidates: "[]",
            also: &[],
        },
    )
    .await?;
    Ok(())
}

/// Settles the allocation with contracts' answer (the machine: domain::status).
async fn settle(
    tx: &mut PgConnection,
    allocation_id: Uuid,
    status: AllocationStatus,
    reason: &str,
) -> Result<(), HandleError> {
    if !store::settle_allocation(tx, allocation_id, status, reason).await? {
        tracing::warn!(%allocation_id, %status, "allocation settled that was not pending here");
    }
    Ok(())
}

/// What changed, for [`rematch`].
struct Because<'a> {
    /// A contract now known: payments whose remittance names it.
    contract_no: Option<&'a str>,
    /// Blind indexes of accounts now on file: payments from them.
    account_indexes: &'a [String],
    /// In words, for the resolution: "contract HT-1 was known".
    what: &'a str,
}

/// Payments decided before something they depend on was known here (this read model is a
/// moment behind contracts; a payer account put on file later) are decided again (R-P4):
/// those whose remittance names the new contract or whose payer account is now on file. The
/// exception is resolved and the payment applied, or re-raised with the new reason; one whose
/// decision did not change stays as it is.
/// A contract number as remittance texts are searched for it: letters and digits only,
/// upper case.
pub(crate) fn compact(contract_no: &str) -> String {
    contract_no
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

async fn rematch(
    tx: &mut PgConnection,
    outbox: &Outbox,
    session: &mut Session<'_>,
    because: &Because<'_>,
) -> Result<(), HandleError> {
    let contract = because.contract_no.map(compact);
    let waiting = store::lock_rematchable_exceptions(
        tx,
        contract.as_deref(),
        because.account_indexes,
        &ExceptionKind::REMATCHED,
    )
    .await?;
    if waiting.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = waiting.iter().map(|w| w.payment_id).collect();
    let rows = store::payments_for_engine(tx, &ids).await?;
    let payments: Vec<_> = rows.iter().map(Engine::payment_of).collect();
    let decided = session.ledger().reconcile(&payments);
    for decision in &decided {
        let payment_id = Uuid::parse_str(&decision.payment_id).context("payment id")?;
        let Some(store::Rematchable {
            exception_id,
            kind: old_kind,
            ..
        }) = waiting.iter().find(|w| w.payment_id == payment_id)
        else {
            continue;
        };
        let new_kind = decisions::kind_of(decision);
        if new_kind.is_some() && new_kind == ExceptionKind::parse(old_kind).ok() {
            continue;
        }
        let resolution = match &new_kind {
            None => format!(
                "applied once {} (confidence {})",
                because.what, decision.confidence
            ),
            Some(kind) => format!("decided again once {}: now {kind}", because.what),
        };
        store::resolve_exception_automatically(tx, *exception_id, &resolution).await?;
        let key = decisions::key(decision, payment_id)?;
        let resolved = events::ExceptionResolved {
            exception_id: exception_id.to_string(),
            payment_id: payment_id.to_string(),
            resolution: resolution.clone(),
        };
        outbox
            .enqueue(tx, kit::events::PAYMENTS, &key, &resolved)
            .await?;
        tracing::info!(%payment_id, %resolution, "exception resolved");
        decisions::carry_out(tx, outbox, payment_id, decision).await?;
        if decision.outcome == Outcome::Applied {
            session
                .apply(decision, payment_id)
                .with_context(|| format!("applying payment {payment_id}"))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use prost::Message as _;
    use proto::events::v1::Envelope;

    use super::*;

    fn incoming(event_type: String, schema_version: u32, payload: Vec<u8>) -> IncomingEvent {
        IncomingEvent {
            envelope: Envelope {
                event_type,
                schema_version,
                payload,
                ..Default::default()
            },
            topic: "collections.contracts.events.v1".to_owned(),
        }
    }

    #[test]
    fn the_consumed_types_are_wanted_and_nothing_else() {
        for t in ConsumedType::ALL {
            assert_eq!(ConsumedType::of(&t.name()), Some(t));
        }
        assert_eq!(
            ConsumedType::of(&kit::events::type_name::<events::PaymentAllocated>()),
            None
        );
        assert_eq!(ConsumedType::of(""), None);
    }

    #[test]
    fn events_decode_by_type_and_a_payer_account_without_blind_index_is_permanent() {
        let applied = events::AllocationApplied {
            allocation_id: "a".to_owned(),
            ..Default::default()
        };
        let event = incoming(
            ConsumedType::AllocationApplied.name(),
            1,
            applied.encode_to_vec(),
        );
        assert!(matches!(
            Consumed::try_from(&event),
            Ok(Consumed::AllocationApplied(a)) if a.allocation_id == "a"
        ));
        let added = events::PayerAccountAdded::default().encode_to_vec();
        let v1 = incoming(ConsumedType::PayerAccountAdded.name(), 1, added.clone());
        assert!(matches!(
            Consumed::try_from(&v1),
            Err(HandleError::Permanent(_))
        ));
        let v2 = incoming(ConsumedType::PayerAccountAdded.name(), 2, added);
        assert!(matches!(
            Consumed::try_from(&v2),
            Ok(Consumed::PayerAccountAdded(_))
        ));
        let signed = incoming(ConsumedType::ContractSigned.name(), 1, vec![0xff, 0xff]);
        assert!(matches!(
            Consumed::try_from(&signed),
            Err(HandleError::Permanent(_))
        ));
        let other = incoming("collections.Other".to_owned(), 1, Vec::new());
        assert!(matches!(
            Consumed::try_from(&other),
            Err(HandleError::Permanent(_))
        ));
    }
}
