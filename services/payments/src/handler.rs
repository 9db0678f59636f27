//! Consumes the contracts service's events: keeps the read model of open receivables and
//! settles proposed allocations when contracts confirms or refuses them.

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
use crate::engine::{self, Engine, PaymentRow, Session, Shown, payment_columns};

/// The schema version from which ContractSigned and PayerAccountAdded carry accounts as
/// blind indexes (R-O4; kit::events::schema_version).
const ACCOUNT_INDEX_VERSION: u32 = 2;

pub(crate) struct ContractEvents {
    pub(crate) outbox: Outbox,
    pub(crate) engine: Arc<Engine>,
}

impl Handler for ContractEvents {
    fn wants(&self, event_type: &str) -> bool {
        event_type == kit::events::type_name::<events::ContractSigned>()
            || event_type == kit::events::type_name::<events::AllocationApplied>()
            || event_type == kit::events::type_name::<events::AllocationRejected>()
            || event_type == kit::events::type_name::<events::PayerAccountAdded>()
            || event_type == kit::events::type_name::<events::ChargesBilled>()
    }

    async fn handle(
        &self,
        tx: &mut PgConnection,
        event: &IncomingEvent,
    ) -> Result<(), HandleError> {
        let event_type = event.envelope.event_type.as_str();
        // Decode first: a poison message must not wait for the ledger.
        if event_type == kit::events::type_name::<events::ContractSigned>() {
            let signed: events::ContractSigned = event.decode()?;
            if event.envelope.schema_version < ACCOUNT_INDEX_VERSION {
                // R-O4: version 1 carried clear accounts in fields that are reserved now.
                tracing::warn!(contract_no = %signed.contract_no, "ContractSigned of schema version 1: its payer and escrow accounts are not read (R-O4), so payments for its receivables go to the exception queue");
            }
            let mut session = self.engine.open(tx).await?;
            contract_signed(tx, &mut session, &signed).await?;
            let because = Because {
                contract_no: Some(&signed.contract_no),
                account_indexes: &signed.payer_account_indexes,
                what: &format!("contract {} was known", signed.contract_no),
            };
            rematch(tx, &self.outbox, &mut session, &because).await?;
            session.close(tx).await?;
        } else if event_type == kit::events::type_name::<events::ChargesBilled>() {
            // R-C2: a unit's monthly charges join the read model as a signed contract's
            // receivables do, so cash application can match and allocate them.
            let billed = as_signed(event.decode()?);
            let mut session = self.engine.open(tx).await?;
            contract_signed(tx, &mut session, &billed).await?;
            let because = Because {
                contract_no: Some(&billed.contract_no),
                account_indexes: &billed.payer_account_indexes,
                what: &format!("charges of contract {} were billed", billed.contract_no),
            };
            rematch(tx, &self.outbox, &mut session, &because).await?;
            session.close(tx).await?;
        } else if event_type == kit::events::type_name::<events::PayerAccountAdded>() {
            let added: events::PayerAccountAdded = event.decode()?;
            if event.envelope.schema_version < ACCOUNT_INDEX_VERSION {
                return Err(HandleError::Permanent(
                    "PayerAccountAdded of schema version 1 carries no blind index (R-O4); add the account again with AddPayerAccount".to_owned(),
                ));
            }
            let mut session = self.engine.open(tx).await?;
            payer_account_added(tx, &mut session, &added).await?;
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
        } else if event_type == kit::events::type_name::<events::AllocationApplied>() {
            let applied: events::AllocationApplied = event.decode()?;
            if applied.repeat && !still_proposed(tx, &applied.allocation_id).await? {
                return Ok(());
            }
            allocation_applied(tx, &self.engine, applied).await?;
        } else {
            let rejected: events::AllocationRejected = event.decode()?;
            if rejected.repeat && !still_proposed(tx, &rejected.allocation_id).await? {
                return Ok(());
            }
            let mut session = self.engine.open(tx).await?;
            allocation_rejected(tx, &self.outbox, &mut session, rejected).await?;
            session.close(tx).await?;
        }
        Ok(())
    }
}

/// Whether an allocation is still waiting for contracts' answer here: a repeated answer
/// (to a re-driven proposal, crate::redrive) counts only then, once.
async fn still_proposed(tx: &mut PgConnection, allocation_id: &str) -> Result<bool, HandleError> {
    let allocation_id = uuid("allocation_id", allocation_id)?;
    let status: Option<String> = sqlx::query_scalar("SELECT status FROM allocations WHERE id = $1")
        .bind(allocation_id)
        .fetch_optional(&mut *tx)
        .await?;
    Ok(status.as_deref() == Some("proposed"))
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
    sqlx::query(
        "UPDATE open_receivables SET payer_accounts_masked = array_append(payer_accounts_masked, $2),
                payer_account_indexes = array_append(payer_account_indexes, $3)
         WHERE customer_id = $1 AND NOT ($3 = ANY(payer_account_indexes))",
    )
    .bind(customer_id)
    .bind(&added.account_masked)
    .bind(index)
    .execute(&mut *tx)
    .await?;
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

/// Adds the contract's receivables to the read model and to the ledger.
async fn contract_signed(
    tx: &mut PgConnection,
    session: &mut Session<'_>,
    signed: &events::ContractSigned,
) -> Result<(), HandleError> {
    let contract_id = uuid("contract_id", &signed.contract_id)?;
    // R-O4: accounts arrive and are kept as blind indexes and masked forms only.
    let indexes: Vec<&str> = signed
        .payer_account_indexes
        .iter()
        .map(String::as_str)
        .filter(|i| !i.is_empty())
        .collect();
    let customer_id = uuid("customer_id", &signed.customer_id)?;
    let unit = Some(signed.unit.trim().to_owned()).filter(|u| !u.is_empty());
    let mut items = Vec::with_capacity(signed.receivables.len());
    let mut added = Vec::with_capacity(signed.receivables.len());
    for receivable in &signed.receivables {
        let (amount, currency) =
            wire::parse_money(receivable.amount.as_ref()).map_err(HandleError::Permanent)?;
        let due = NaiveDate::from_str(&receivable.due_date).map_err(|e| {
            HandleError::Permanent(format!("due_date {:?}: {e}", receivable.due_date))
        })?;
        let installment = i32::try_from(receivable.installment_no).unwrap_or(i32::MAX);
        let receivable_id = uuid("receivable_id", &receivable.receivable_id)?;
        let inserted = sqlx::query(
            "INSERT INTO open_receivables (receivable_id, contract_id, contract_no, customer_id, installment_no,
                                           due_date, currency, open_amount, customer_name, payer_accounts_masked,
                                           escrow_account_index, escrow_account_masked, unit, payer_account_indexes)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT (receivable_id) DO NOTHING",
        )
        .bind(receivable_id)
        .bind(contract_id)
        .bind(&signed.contract_no)
        .bind(customer_id)
        .bind(installment)
        .bind(due)
        .bind(&currency)
        .bind(amount)
        .bind(&signed.customer_name)
        .bind(&signed.payer_accounts_masked)
        .bind(&signed.escrow_account_index)
        .bind(&signed.escrow_account_masked)
        .bind(&unit)
        .bind(&indexes)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            continue;
        }
        added.push(receivable_id);
        items.push(Shown {
            item: OpenItem {
                receivable_id: engine::receivable_ref(&signed.contract_no, installment),
                contract_no: signed.contract_no.clone(),
                customer_id: customer_id.to_string(),
                customer_name: signed.customer_name.clone(),
                payer_accounts: indexes.iter().map(|i| (*i).to_owned()).collect(),
                unit: unit.clone(),
                due_date: due,
                open_amount: amount,
                currency,
                escrow_account: signed.escrow_account_index.clone(),
            },
            escrow_shown: signed.escrow_account_masked.clone(),
        });
    }
    if !items.is_empty() {
        for error in session.add_items(items, &added) {
            tracing::warn!(%error, contract_no = %signed.contract_no, "receivable left out of cash application; fix it in contracts");
        }
    }
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
    let now: Option<(Decimal, Decimal)> = sqlx::query_as(
        "SELECT open_amount, pending_amount FROM open_receivables WHERE receivable_id = $1",
    )
    .bind(receivable_id)
    .fetch_optional(&mut *tx)
    .await?;
    // Pending amounts only grow under the ledger lock and shrink here, in the order contracts
    // confirms (one partition per customer), so this holds until the update below.
    let unchanged =
        now.is_none_or(|(open, pending)| open - amount == open_after && pending >= amount);
    let mut session = if unchanged {
        None
    } else {
        Some(engine.open(tx).await?)
    };
    settle(tx, allocation_id, "applied", "").await?;
    sqlx::query(
        "UPDATE open_receivables SET open_amount = $2, pending_amount = GREATEST(pending_amount - $3, 0)
         WHERE receivable_id = $1",
    )
    .bind(receivable_id)
    .bind(open_after)
    .bind(amount)
    .execute(&mut *tx)
    .await?;
    if let Some(session) = session.as_mut() {
        follow(tx, session, receivable_id).await?;
    }
    sqlx::query("UPDATE payments SET status = 'allocated' WHERE id = $1")
        .bind(uuid("payment_id", &applied.payment_id)?)
        .execute(&mut *tx)
        .await?;
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
    let row: Option<(String, i32, Decimal)> = sqlx::query_as(
        "SELECT contract_no, installment_no, GREATEST(open_amount - pending_amount, 0)
         FROM open_receivables WHERE receivable_id = $1",
    )
    .bind(receivable_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((contract_no, installment, available)) = row else {
        return Ok(());
    };
    let reference = engine::receivable_ref(&contract_no, installment);
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
    let known: Option<Uuid> = sqlx::query_scalar("SELECT id FROM payments WHERE id = $1")
        .bind(payment_id)
        .fetch_optional(&mut *tx)
        .await?;
    if known.is_none() {
        // Not one of ours (another producer proposed it): nothing to settle here.
        tracing::warn!(%payment_id, %allocation_id, "rejection of an allocation this service did not propose");
        return Ok(());
    }
    settle(tx, allocation_id, "rejected", &rejected.reason).await?;
    let receivable_id = uuid("receivable_id", &rejected.receivable_id)?;
    sqlx::query("UPDATE open_receivables SET pending_amount = GREATEST(pending_amount - $2, 0) WHERE receivable_id = $1")
        .bind(receivable_id)
        .bind(amount)
        .execute(&mut *tx)
        .await?;
    // The owner told us the true open balance: correct the read model with it.
    if let Some(money) = rejected.open_amount.as_ref() {
        let open = Decimal::from_str(&money.amount)
            .map_err(|e| HandleError::Permanent(format!("open_amount {:?}: {e}", money.amount)))?;
        sqlx::query("UPDATE open_receivables SET open_amount = $2 WHERE receivable_id = $1")
            .bind(receivable_id)
            .bind(open)
            .execute(&mut *tx)
            .await?;
    }
    follow(tx, session, receivable_id).await?;
    sqlx::query("UPDATE payments SET status = 'exception' WHERE id = $1")
        .bind(payment_id)
        .execute(&mut *tx)
        .await?;
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
            kind: "ALLOCATION_REJECTED",
            reason: &reason,
            suggested_action: "check the receivable's balance; allocate the payment elsewhere or refund it",
            candidates: "[]",
            also: &[],
        },
    )
    .await?;
    Ok(())
}

async fn settle(
    tx: &mut PgConnection,
    allocation_id: Uuid,
    status: &str,
    reason: &str,
) -> Result<(), HandleError> {
    let updated = sqlx::query(
        "UPDATE allocations SET status = $2, reason = $3 WHERE id = $1 AND status = 'proposed'",
    )
    .bind(allocation_id)
    .bind(status)
    .bind(reason)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated == 0 {
        tracing::warn!(%allocation_id, status, "allocation settled that was not pending here");
    }
    Ok(())
}

/// Exception kinds a newly known contract can change: the payment may name it, or come
/// from its customer.
const REMATCHED_KINDS: &[&str] = &[
    "NO_CANDIDATE",
    "AMOUNT_MISMATCH",
    "AMBIGUOUS",
    "NOTHING_OPEN",
    "THIRD_PARTY_PAYER",
    "NEEDS_CONFIRMATION",
];

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
async fn rematch(
    tx: &mut PgConnection,
    outbox: &Outbox,
    session: &mut Session<'_>,
    because: &Because<'_>,
) -> Result<(), HandleError> {
    let compact = |s: &str| -> String {
        s.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_uppercase())
            .collect()
    };
    let kinds: Vec<String> = REMATCHED_KINDS.iter().map(|k| (*k).to_owned()).collect();
    type Waiting = (Uuid, String, Uuid);
    let waiting: Vec<Waiting> = sqlx::query_as(
        "SELECT e.id, e.kind, p.id
         FROM exceptions e JOIN payments p ON p.id = e.payment_id
         WHERE e.resolved_at IS NULL AND p.status = 'exception' AND e.kind = ANY($3)
           AND (($1::text IS NOT NULL AND strpos(upper(regexp_replace(p.reference, '[^A-Za-z0-9]', '', 'g')), $1) > 0)
                OR (p.payer_account_index <> '' AND p.payer_account_index = ANY($2)))
         ORDER BY p.created_at, p.line_no FOR UPDATE OF e",
    )
    .bind(because.contract_no.map(compact))
    .bind(because.account_indexes)
    .bind(&kinds)
    .fetch_all(&mut *tx)
    .await?;
    if waiting.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = waiting.iter().map(|w| w.2).collect();
    let rows: Vec<PaymentRow> = sqlx::query_as(concat!(
        "SELECT ",
        payment_columns!(),
        " FROM payments WHERE id = ANY($1)"
    ))
    .bind(&ids)
    .fetch_all(&mut *tx)
    .await?;
    let payments: Vec<_> = rows.iter().map(Engine::payment_of).collect();
    let decided = session.ledger().reconcile(&payments);
    for decision in &decided {
        let payment_id = Uuid::parse_str(&decision.payment_id).context("payment id")?;
        let Some((exception_id, old_kind, _)) = waiting.iter().find(|w| w.2 == payment_id) else {
            continue;
        };
        let new_kind = decisions::kind_of(decision);
        if new_kind.as_deref() == Some(old_kind.as_str()) {
            continue;
        }
        let resolution = match &new_kind {
            None => format!(
                "applied once {} (confidence {})",
                because.what, decision.confidence
            ),
            Some(kind) => format!("decided again once {}: now {kind}", because.what),
        };
        sqlx::query("UPDATE exceptions SET resolved_at = now(), resolution = $2 WHERE id = $1")
            .bind(exception_id)
            .bind(&resolution)
            .execute(&mut *tx)
            .await?;
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
