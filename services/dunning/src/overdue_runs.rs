//! A run of the daily cycle's overdue reports taken in together (issue 16): what the handler
//! does for one `ReceivableOverdue` (R-D3 the day's count, R-O7 the overdue balance, R-L5
//! nothing more for an item in legal, R-D3 the debtor's one active case opened at the grade
//! scoring gave, the item added or brought up to date), for many in six statements.
//!
//! The cases are locked in customer order, the order the day run, a run of payments and a
//! run of grade changes lock them in (one by one, a batch of overdue reports locked them in
//! the order they came, and deadlocked with the day run under 5,000 contracts).
//!
//! Anything unusual (an event that does not decode, a receivable reported twice in the run)
//! writes nothing here and the handler takes the run one by one.

use std::collections::HashMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use kit::consumer::{HandleError, IncomingEvent, uuid_field};
use kit::wire;
use proto::events::v1 as events;

use crate::store::runs::{self, Overdue};

/// What dunning reads of an overdue report (both paths); Err names the field.
pub(crate) fn read(overdue: events::ReceivableOverdue) -> Result<Overdue, HandleError> {
    let date = |field: &str, v: &str| {
        NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map_err(|e| HandleError::Permanent(format!("{field} {v:?}: {e}")))
    };
    let (principal, currency) =
        wire::parse_money(overdue.open_amount.as_ref()).map_err(HandleError::Permanent)?;
    // R-D12: the item stays open while anything is owed on it; `late_fee` is the fee still
    // owed, `open` the rest (principal, interest, costs). Older producers sent no owed
    // figures: the principal and the accrued fee.
    let (open, late_fee) = match overdue.owed.as_ref() {
        Some(owed) => {
            let owed = wire::parse_owed(owed).map_err(HandleError::Permanent)?;
            (owed.total() - owed.late_fee, owed.late_fee)
        }
        None => match overdue.late_fee.as_ref() {
            Some(fee) => (
                principal,
                wire::parse_money(Some(fee))
                    .map_err(HandleError::Permanent)?
                    .0,
            ),
            None => (principal, Decimal::ZERO),
        },
    };
    Ok(Overdue {
        receivable_id: uuid_field("receivable_id", &overdue.receivable_id)?,
        customer_id: uuid_field("customer_id", &overdue.customer_id)?,
        contract_id: uuid_field("contract_id", &overdue.contract_id)?,
        as_of: date("as_of", &overdue.as_of)?,
        due_date: date("due_date", &overdue.due_date)?,
        currency,
        open,
        late_fee,
        principal,
        days_overdue: i32::try_from(overdue.days_overdue).unwrap_or(i32::MAX),
        charge_type: proto::types::v1::ChargeType::try_from(overdue.charge_type)
            .unwrap_or_default()
            .as_str_name(),
        contract_no: overdue.contract_no,
        late_fee_terms: overdue.late_fee_terms,
    })
}

/// Applies the run `events` (all `ReceivableOverdue`) together; false, with nothing written,
/// when it is not the usual run.
pub(crate) async fn apply(
    tx: &mut PgConnection,
    events: &[&IncomingEvent],
) -> Result<bool, HandleError> {
    let Some(run) = events
        .iter()
        .map(|e| e.decode().ok().and_then(|o| read(o).ok()))
        .collect::<Option<Vec<_>>>()
    else {
        return Ok(false);
    };
    let mut receivables: Vec<Uuid> = run.iter().map(|o| o.receivable_id).collect();
    receivables.sort_unstable();
    receivables.dedup();
    if receivables.len() != run.len() {
        return Ok(false);
    }
    // R-D3: the day's ladder runs once every overdue report of the day is in.
    runs::overdue_seen(tx, &run).await?;
    // R-O7, R-D11: each balance as the cycle reported it.
    runs::overdue_learned(tx, &run).await?;
    // R-L5: ordinary dunning stops for receivables in legal.
    let in_legal = runs::in_legal(tx, &receivables).await?;
    let dunned: Vec<&Overdue> = run
        .iter()
        .filter(|o| !in_legal.contains(&o.receivable_id))
        .collect();
    if dunned.is_empty() {
        return Ok(true);
    }
    // R-D3: each debtor's one active case, opened on the day of its first report here.
    let mut opened_on: HashMap<Uuid, NaiveDate> = HashMap::new();
    for o in &dunned {
        opened_on.entry(o.customer_id).or_insert(o.as_of);
    }
    let mut debtors: Vec<(Uuid, NaiveDate)> = opened_on.into_iter().collect();
    debtors.sort_unstable();
    let cases = runs::open_cases(tx, &debtors).await?;
    let mut items = Vec::with_capacity(dunned.len());
    for o in dunned {
        let case_id = cases.get(&o.customer_id).copied().ok_or_else(|| {
            HandleError::Transient(anyhow::anyhow!(
                "customer {}: no active case after opening one",
                o.customer_id
            ))
        })?;
        items.push((case_id, o));
    }
    runs::upsert_items(tx, &items).await?;
    Ok(true)
}
