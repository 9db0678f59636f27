//! A run of signed contracts taken in together (issue 16): what the handler does for one
//! `ContractSigned` (the debtor's name and unit for notices, R-O7 each installment's
//! scheduled balance, R-D1 its reminder before due, R-O3 the owners), for many in four
//! statements. Anything unusual (an event that does not decode, a receivable named twice)
//! writes nothing here and the handler takes the run one by one.

use std::collections::HashMap;

use chrono::NaiveDate;
use sqlx::PgConnection;
use uuid::Uuid;

use kit::consumer::{HandleError, IncomingEvent};
use kit::wire;
use proto::events::v1 as events;

use crate::handler::charge_name;
use crate::store::runs::{self, Scheduled, Seen};

/// Applies the run `events` (all `ContractSigned`) together; false, with nothing written,
/// when it is not the usual run.
pub(crate) async fn apply(
    tx: &mut PgConnection,
    events: &[&IncomingEvent],
) -> Result<bool, HandleError> {
    let Some(signed) = events
        .iter()
        .map(|e| e.decode::<events::ContractSigned>().ok())
        .collect::<Option<Vec<_>>>()
    else {
        return Ok(false);
    };
    let Some((seen, items)) = gather(&signed) else {
        return Ok(false);
    };
    let mut receivables: Vec<Uuid> = items.iter().map(|i| i.receivable_id).collect();
    receivables.sort_unstable();
    receivables.dedup();
    if receivables.len() != items.len() {
        return Ok(false);
    }
    runs::debtors_seen(tx, &seen).await?;
    runs::scheduled(tx, &items).await?;
    let refs: Vec<&events::ContractSigned> = signed.iter().collect();
    kit::auth::owners::record_signed(tx, &refs).await?;
    Ok(true)
}

/// The debtors (each once: the first name and unit given, as one by one keeps a name once
/// set) and the scheduled receivables of a run; `None` when a field does not parse.
fn gather(signed: &[events::ContractSigned]) -> Option<(Vec<Seen<'_>>, Vec<Scheduled<'_>>)> {
    let mut seen: Vec<Seen<'_>> = Vec::with_capacity(signed.len());
    let mut at: HashMap<Uuid, usize> = HashMap::with_capacity(signed.len());
    let mut items = Vec::new();
    for s in signed {
        let customer_id = Uuid::parse_str(&s.customer_id).ok()?;
        match at.get(&customer_id) {
            Some(&i) => {
                let known = &mut seen[i];
                if known.name.is_empty() {
                    known.name = &s.customer_name;
                }
                if known.unit.is_empty() {
                    known.unit = &s.unit;
                }
            }
            None => {
                at.insert(customer_id, seen.len());
                seen.push(Seen {
                    customer_id,
                    name: &s.customer_name,
                    unit: &s.unit,
                });
            }
        }
        for r in &s.receivables {
            let (amount, currency) = wire::parse_money(r.amount.as_ref()).ok()?;
            items.push(Scheduled {
                receivable_id: Uuid::parse_str(&r.receivable_id).ok()?,
                customer_id,
                contract_no: &s.contract_no,
                due_date: NaiveDate::parse_from_str(&r.due_date, "%Y-%m-%d").ok()?,
                currency,
                amount,
                charge_type: charge_name(r.charge_type),
            });
        }
    }
    Some((seen, items))
}
