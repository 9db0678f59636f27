//! The late fee of receivables whose terms an amendment changed (for the daily cycle, R-C4).

use std::collections::HashMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::amendment::{self as domain, FeePeriod};
use crate::store::amendments::{self as store, FeeChangeRow};
use crate::terms::Terms;

/// A receivable's late-fee terms after amendments: a fee carried from before a change of
/// its due date or principal, and the contract's periods of terms.
pub(crate) struct FeeTerms {
    carry: Option<(Decimal, NaiveDate)>,
    periods: Vec<FeePeriod<String>>,
}

/// The fee terms of the receivables an amendment touched (the others accrue as signed).
pub(crate) async fn fee_terms(
    conn: &mut PgConnection,
    rows: &[crate::store::ReceivableRow],
) -> Result<HashMap<Uuid, FeeTerms>, sqlx::Error> {
    let mut contracts: Vec<Uuid> = rows.iter().map(|r| r.contract_id).collect();
    contracts.sort_unstable();
    contracts.dedup();
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut changes: HashMap<Uuid, Vec<FeeChangeRow>> = HashMap::new();
    for c in store::fee_changes(conn, &contracts).await? {
        changes.entry(c.contract_id).or_default().push(c);
    }
    let carries: HashMap<Uuid, (Decimal, NaiveDate)> = store::carries(conn, &ids)
        .await?
        .into_iter()
        .map(|(id, amount, through)| (id, (amount, through)))
        .collect();
    let mut out = HashMap::new();
    for row in rows {
        let carry = carries.get(&row.id).copied();
        let contract_changes = changes.get(&row.contract_id);
        if carry.is_none() && contract_changes.is_none() {
            continue;
        }
        let periods = match contract_changes {
            Some(list) if !list.is_empty() => std::iter::once(FeePeriod {
                from: None,
                policy: list[0].previous_policy.clone(),
            })
            .chain(list.iter().map(|c| FeePeriod {
                from: Some(c.effective_from),
                policy: c.policy.clone(),
            }))
            .collect(),
            _ => vec![FeePeriod {
                from: None,
                policy: row.late_fee_policy.clone(),
            }],
        };
        out.insert(row.id, FeeTerms { carry, periods });
    }
    Ok(out)
}

/// R-C4 through amendments: the late fee through `as_of` of a receivable whose terms an
/// amendment changed. A policy that cannot be computed keeps the last accrued fee.
pub(crate) fn late_fee(
    terms: &Terms,
    fees: &FeeTerms,
    row: &crate::store::ReceivableRow,
    as_of: NaiveDate,
    payments: &[(NaiveDate, Decimal)],
) -> Decimal {
    let mut parsed: HashMap<String, money::late_fee::LateFeePolicy> = HashMap::new();
    let total = |json: &String, through: NaiveDate| -> Result<Decimal, String> {
        if through <= row.due_date {
            return Ok(Decimal::ZERO);
        }
        if !parsed.contains_key(json) {
            let p = terms.parse_policy(json).map_err(|e| e.to_string())?;
            parsed.insert(json.clone(), p);
        }
        let policy = parsed
            .get(json)
            .ok_or_else(|| "late-fee policy not parsed".to_owned())?;
        terms.late_fee(
            policy,
            row.amount,
            row.currency.trim(),
            row.due_date,
            through,
            payments,
        )
    };
    match domain::accrued_fee(fees.carry, &fees.periods, as_of, total) {
        Ok(fee) => fee,
        Err(error) => {
            tracing::error!(receivable_id = %row.id, %error, "late fee after an amendment could not be computed; keeping the last value");
            row.late_fee
        }
    }
}
