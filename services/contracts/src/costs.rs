//! Collection costs (R-D12): legal (and, with dunning's notices, notice fees) tell contracts
//! what a debtor is to bear; contracts books it against the receivable as an owed item that
//! payments settle first (art. 561) and only a waiver reduces.

use chrono::NaiveDate;
use sqlx::PgConnection;

use kit::consumer::{HandleError, IncomingEvent, uuid_field};
use kit::outbox::Outbox;
use kit::wire;
use money::allocation::Component;
use proto::events::v1 as events;
use proto::types::v1::CostKind;

use crate::store;

/// The stored name of a cost kind; `None` for unspecified or unknown numbers.
pub(crate) fn kind_name(value: i32) -> Option<&'static str> {
    Some(match CostKind::try_from(value).ok()? {
        CostKind::Unspecified => return None,
        CostKind::NoticeFee => "notice_fee",
        CostKind::LawyerFee => "lawyer_fee",
        CostKind::CourtFee => "court_fee",
        CostKind::PreservationFee => "preservation_fee",
        CostKind::OtherLegalCost => "other_legal_cost",
        CostKind::FundOccupationFee => FUND_OCCUPATION_FEE,
    })
}

/// The stored name of the fund-occupation fee of a long acceptance bill (R-C10).
pub(crate) const FUND_OCCUPATION_FEE: &str = "fund_occupation_fee";

/// The component a charge is owed as (art. 561): the fund-occupation fee is compensation for
/// the use of money, so interest; everything else is a cost of collection.
pub(crate) fn component_of(kind: &str) -> Component {
    if kind == FUND_OCCUPATION_FEE {
        Component::Interest
    } else {
        Component::Costs
    }
}

/// Books a `CollectionCostIncurred` once and publishes `CostBooked` with what is owed after.
pub(crate) async fn on_cost_incurred(
    tx: &mut PgConnection,
    outbox: &Outbox,
    event: &IncomingEvent,
) -> Result<(), HandleError> {
    let cost: events::CollectionCostIncurred = event.decode()?;
    let cost_id = uuid_field("cost_id", &cost.cost_id)?;
    let receivable_id = uuid_field("receivable_id", &cost.receivable_id)?;
    let kind = kind_name(cost.kind).ok_or_else(|| {
        HandleError::Permanent(format!(
            "cost {cost_id}: kind {} is not a cost kind",
            cost.kind
        ))
    })?;
    let (amount, currency) =
        wire::parse_money(cost.amount.as_ref()).map_err(HandleError::Permanent)?;
    if amount <= rust_decimal::Decimal::ZERO {
        return Err(HandleError::Permanent(format!(
            "cost {cost_id}: amount {amount} is not positive"
        )));
    }
    let incurred_on = NaiveDate::parse_from_str(&cost.incurred_on, "%Y-%m-%d").map_err(|e| {
        HandleError::Permanent(format!(
            "cost {cost_id}: incurred_on {:?}: {e}",
            cost.incurred_on
        ))
    })?;
    let Some(receivable) = store::lock_receivable(tx, receivable_id).await? else {
        return Err(HandleError::Permanent(format!(
            "cost {cost_id} names receivable {receivable_id}, which contracts does not know"
        )));
    };
    let receivable_currency = receivable.currency.trim();
    if receivable_currency != currency {
        return Err(HandleError::Permanent(format!(
            "cost {cost_id} is in {currency} but receivable {receivable_id} is in {receivable_currency}"
        )));
    }
    if receivable.customer_id.to_string() != cost.customer_id {
        return Err(HandleError::Permanent(format!(
            "cost {cost_id} names customer {} but receivable {receivable_id} is another customer's",
            cost.customer_id
        )));
    }
    let component = component_of(kind);
    let booked = store::owed::book_cost(
        tx,
        &store::owed::Cost {
            cost_id,
            receivable_id,
            customer_id: receivable.customer_id,
            kind,
            component,
            amount,
            incurred_on,
            source: &cost.source,
            description: &cost.description,
        },
    )
    .await?;
    if !booked {
        tracing::info!(%cost_id, "cost booked before; a repeated event changes nothing");
        return Ok(());
    }
    let mut owed = receivable.owed();
    match component {
        Component::Interest => owed.interest += amount,
        _ => owed.costs += amount,
    }
    outbox
        .enqueue(
            tx,
            kit::events::CONTRACTS,
            &receivable.customer_id.to_string(),
            &events::CostBooked {
                cost_id: cost.cost_id.clone(),
                receivable_id: cost.receivable_id.clone(),
                contract_id: receivable.contract_id.to_string(),
                customer_id: receivable.customer_id.to_string(),
                kind: cost.kind,
                amount: Some(wire::money(amount, receivable_currency)),
                incurred_on: cost.incurred_on.clone(),
                owed_after: Some(wire::owed(&owed, receivable_currency)),
            },
        )
        .await?;
    tracing::info!(%cost_id, %receivable_id, %amount, kind, ?component, "charge booked (R-D12, R-C10)");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fund_occupation_fee_is_interest_and_collection_costs_are_costs_r_c10() {
        assert_eq!(component_of(FUND_OCCUPATION_FEE), Component::Interest);
        for kind in [
            CostKind::NoticeFee,
            CostKind::LawyerFee,
            CostKind::CourtFee,
            CostKind::PreservationFee,
            CostKind::OtherLegalCost,
        ] {
            let name = kind_name(kind as i32).unwrap();
            assert_eq!(component_of(name), Component::Costs, "{name}");
        }
        assert_eq!(
            kind_name(CostKind::FundOccupationFee as i32),
            Some(FUND_OCCUPATION_FEE)
        );
        assert_eq!(kind_name(0), None);
    }
}
