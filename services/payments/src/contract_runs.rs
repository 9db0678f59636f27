//! A run of signed contracts taken in together (issue 16): what `on_contract_signed` does
//! for each in turn (the receivables join the read model and the ledger, R-P11 the agreed
//! order of components is kept), for many under one ledger lock and in a few statements.
//! Payments waiting for one of the contracts (an open exception that would be decided
//! again), an event that does not decode, a receivable named twice: nothing is written here
//! and the handler takes the run one by one.

use std::collections::HashSet;

use sqlx::PgConnection;
use uuid::Uuid;

use kit::consumer::{HandleError, IncomingEvent};
use kit::wire;
use proto::events::v1 as events;

use crate::domain::status::ExceptionKind;
use crate::engine::Engine;
use crate::events::{ACCOUNT_INDEX_VERSION, SignedItems, compact};
use crate::store;

/// Applies the run `events` (all `ContractSigned`) together; false, with nothing written,
/// when it is not the usual run.
pub(crate) async fn apply(
    engine: &Engine,
    tx: &mut PgConnection,
    events: &[&IncomingEvent],
) -> Result<bool, HandleError> {
    let mut signed = Vec::with_capacity(events.len());
    for event in events {
        let Ok(decoded) = event.decode::<events::ContractSigned>() else {
            return Ok(false);
        };
        if event.envelope.schema_version < ACCOUNT_INDEX_VERSION {
            // Rare and old: its warning and handling are the one-by-one path's.
            return Ok(false);
        }
        signed.push(decoded);
    }
    let mut parsed = Vec::with_capacity(signed.len());
    let mut orders = Vec::new();
    for s in &signed {
        let Ok(p) = SignedItems::parse(s) else {
            return Ok(false);
        };
        if let Some(order) = s.allocation_order.as_ref() {
            // R-P11: an order that does not parse is refused, with its reason, one by one.
            let (Ok(order), Ok(contract_id)) = (
                wire::parse_component_order(order),
                Uuid::parse_str(&s.contract_id),
            ) else {
                return Ok(false);
            };
            orders.push((contract_id, order));
        }
        parsed.push(p);
    }
    let mut seen = HashSet::new();
    if !parsed
        .iter()
        .flat_map(SignedItems::receivable_ids)
        .all(|id| seen.insert(id))
    {
        return Ok(false);
    }

    let mut session = engine.open(tx).await?;
    let contracts: Vec<String> = signed.iter().map(|s| compact(&s.contract_no)).collect();
    let accounts: Vec<&str> = signed
        .iter()
        .flat_map(|s| s.payer_account_indexes.iter().map(String::as_str))
        .filter(|i| !i.is_empty())
        .collect();
    if store::any_rematchable(tx, &contracts, &accounts, &ExceptionKind::REMATCHED).await? {
        // Payments wait for these contracts: decided again one contract at a time.
        session.close(tx).await?;
        return Ok(false);
    }
    let rows: Vec<store::NewReceivable<'_>> = parsed.iter().flat_map(SignedItems::rows).collect();
    let inserted: HashSet<Uuid> = store::add_open_receivables(tx, &rows)
        .await?
        .into_iter()
        .collect();
    for p in &parsed {
        p.add_to(&mut session, &inserted);
    }
    for (contract_id, order) in &orders {
        store::set_allocation_order(tx, *contract_id, order).await?;
    }
    session.close(tx).await?;
    Ok(true)
}
