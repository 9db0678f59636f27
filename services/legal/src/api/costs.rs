//! Costs of a legal case the debtor bears (R-D12, R-L6): court and lawyer's fees recorded once
//! per idempotency key, kept with the case, and published as `CollectionCostIncurred` for
//! contracts to book.

use sqlx::PgConnection;
use uuid::Uuid;

use kit::outbox::Outbox;
use kit::{ApiError, wire};
use proto::events::v1 as events;
use proto::legal::v1 as api;
use proto::types::v1::CostKind;

use crate::store::{cases, costs as store};

/// The longest description kept.
const MAX_DESCRIPTION: usize = 500;

/// The stored name of a cost kind a legal case may record.
fn kind_name(value: i32) -> Result<&'static str, ApiError> {
    match CostKind::try_from(value) {
        Ok(CostKind::NoticeFee) => Ok("notice_fee"),
        Ok(CostKind::LawyerFee) => Ok("lawyer_fee"),
        Ok(CostKind::CourtFee) => Ok("court_fee"),
        Ok(CostKind::PreservationFee) => Ok("preservation_fee"),
        Ok(CostKind::OtherLegalCost) => Ok("other_legal_cost"),
        Ok(CostKind::FundOccupationFee) => Err(ApiError::invalid(
            "kind",
            "the fund-occupation fee of an acceptance bill is charged by payments when the bill is \
             acknowledged (R-C10), not recorded on a legal case",
        )),
        Ok(CostKind::Unspecified) | Err(_) => Err(ApiError::invalid(
            "kind",
            "name the cost: COST_KIND_COURT_FEE, COST_KIND_LAWYER_FEE, \
             COST_KIND_PRESERVATION_FEE, COST_KIND_NOTICE_FEE or COST_KIND_OTHER_LEGAL_COST",
        )),
    }
}

/// RecordCaseCost, in the caller's transaction.
pub(crate) async fn record(
    tx: &mut PgConnection,
    outbox: &Outbox,
    recorded_by: &str,
    request: &api::RecordCaseCostRequest,
) -> Result<api::RecordCaseCostResponse, ApiError> {
    let key = wire::required("idempotency_key", &request.idempotency_key, 200)?;
    let case_id = wire::uuid("case_id", &request.case_id)?;
    let kind = kind_name(request.kind)?;
    let incurred_on = wire::date("incurred_on", &request.incurred_on)?;
    let description = request.description.trim();
    if description.chars().count() > MAX_DESCRIPTION {
        return Err(ApiError::invalid(
            "description",
            format!("at most {MAX_DESCRIPTION} characters"),
        ));
    }
    // One recording per key, also under concurrent repeats.
    store::lock_key(tx, &key).await?;
    if let Some((id, earlier_case, receivable_id, amount, currency)) =
        store::by_key(tx, &key).await?
    {
        if earlier_case != case_id {
            return Err(ApiError::AlreadyExists(format!(
                "idempotency_key {key:?} was used for a cost of case {earlier_case}; use a new key"
            )));
        }
        return Ok(api::RecordCaseCostResponse {
            cost_id: id.to_string(),
            receivable_id: receivable_id.to_string(),
            amount: Some(wire::money(amount, currency.trim())),
            repeat: true,
        });
    }
    let Some((customer_id, currency)) = store::case_for_cost(tx, case_id).await? else {
        return Err(ApiError::NotFound(format!(
            "no legal case {case_id}; list cases with ListCases"
        )));
    };
    let currency = currency.trim().to_owned();
    let amount = wire::positive_amount("amount", &request.amount, &currency)?;
    let receivable_id = receivable_of(tx, case_id, &request.receivable_id).await?;
    let id = Uuid::now_v7();
    store::record_cost(
        tx,
        &store::NewCost {
            id,
            case_id,
            receivable_id,
            kind,
            amount,
            incurred_on,
            description,
            recorded_by,
            idempotency_key: &key,
        },
    )
    .await?;
    let detail = format!(
        "{kind} {} {currency} incurred on {incurred_on}, borne by the debtor (R-D12)",
        wire::format_amount(amount, &currency)
    );
    cases::log(tx, case_id, "cost_recorded", &detail).await?;
    // R-L6: contracts books it as an owed item on the case's receivable.
    outbox
        .enqueue(
            tx,
            kit::events::LEGAL_CASES,
            &customer_id.to_string(),
            &events::CollectionCostIncurred {
                cost_id: id.to_string(),
                customer_id: customer_id.to_string(),
                receivable_id: receivable_id.to_string(),
                kind: request.kind,
                amount: Some(wire::money(amount, &currency)),
                incurred_on: incurred_on.to_string(),
                source: format!("legal case {case_id}"),
                description: description.to_owned(),
            },
        )
        .await?;
    tracing::info!(cost_id = %id, %case_id, %receivable_id, %amount, kind, "case cost recorded");
    Ok(api::RecordCaseCostResponse {
        cost_id: id.to_string(),
        receivable_id: receivable_id.to_string(),
        amount: Some(wire::money(amount, &currency)),
        repeat: false,
    })
}

/// The receivable a cost is booked against: the one named (it must be the case's), or the
/// case's largest claim.
async fn receivable_of(
    tx: &mut PgConnection,
    case_id: Uuid,
    named: &str,
) -> Result<Uuid, ApiError> {
    if named.trim().is_empty() {
        return store::largest_claim(tx, case_id).await?.ok_or_else(|| {
            ApiError::FailedPrecondition(format!(
                "legal case {case_id} claims no receivable to book a cost against"
            ))
        });
    }
    let receivable_id = wire::uuid("receivable_id", named)?;
    if !store::claims(tx, case_id, receivable_id).await? {
        return Err(ApiError::invalid(
            "receivable_id",
            format!(
                "{receivable_id} is not claimed by case {case_id}; leave it empty to book against the case's largest claim"
            ),
        ));
    }
    Ok(receivable_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cost_kind_but_unspecified_has_a_stored_name() {
        for (kind, name) in [
            (CostKind::NoticeFee, "notice_fee"),
            (CostKind::LawyerFee, "lawyer_fee"),
            (CostKind::CourtFee, "court_fee"),
            (CostKind::PreservationFee, "preservation_fee"),
            (CostKind::OtherLegalCost, "other_legal_cost"),
        ] {
            assert_eq!(kind_name(kind as i32).ok(), Some(name));
        }
        for bad in [CostKind::Unspecified as i32, 99] {
            match kind_name(bad) {
                Err(ApiError::Invalid { field, .. }) => assert_eq!(field, "kind"),
                other => panic!("expected INVALID_ARGUMENT on kind, got {other:?}"),
            }
        }
    }
}
