//! Who owns a customer's and a contract's collection work (R-C9), and who may see it (R-O3).

use sqlx::PgConnection;
use tonic::Status;
use uuid::Uuid;

use kit::ApiError;
use kit::auth::owners::{self, CUSTOMER_KEY};
use kit::auth::{Caller, Scope};
use kit::outbox::Outbox;

use crate::store;
use proto::contracts::v1 as api;
use proto::events::v1 as events;

/// Longest owner or team name.
const MAX_NAME: usize = 200;

/// The owner and team of a new customer or contract. Empty `owner`: whoever signs is
/// responsible (R-C9), i.e. the caller. A collector may only sign for themselves; a
/// supervisor for anyone in their team; an unscoped role (admin, a back-office system) for
/// anyone.
pub(crate) fn owner_at_creation(
    scope: &Scope,
    subject: &str,
    caller_team: &str,
    owner: &str,
    team: &str,
) -> Result<(String, String), ApiError> {
    let owner = owner.trim();
    let team = team.trim();
    for (field, value) in [("owner", owner), ("owner_team", team)] {
        if value.chars().count() > MAX_NAME {
            return Err(ApiError::invalid(
                field,
                format!("longer than {MAX_NAME} characters"),
            ));
        }
    }
    if owner.is_empty() {
        if !team.is_empty() && team != caller_team {
            return Err(ApiError::invalid(
                "owner_team",
                "give owner too, or leave both empty to own the record yourself",
            ));
        }
        return Ok((subject.to_owned(), caller_team.to_owned()));
    }
    match scope {
        Scope::All => Ok((owner.to_owned(), team.to_owned())),
        Scope::Team(own_team) => {
            if !team.is_empty() && team != own_team {
                return Err(ApiError::PermissionDenied(format!(
                    "a supervisor assigns work within their own team ({own_team:?}), not to {team:?}"
                )));
            }
            Ok((owner.to_owned(), own_team.clone()))
        }
        Scope::Owner(me) => {
            if owner != me {
                return Err(ApiError::PermissionDenied(format!(
                    "{me} may sign only for themselves; leave owner empty or ask a supervisor"
                )));
            }
            Ok((me.clone(), caller_team.to_owned()))
        }
    }
}

pub(crate) use owners::require_customer;

/// PERMISSION_DENIED unless the caller's scope covers the contract (its owner or the
/// customer's).
pub(crate) async fn require_contract(
    conn: &mut PgConnection,
    caller: &Caller,
    customer_id: Uuid,
    contract_id: Uuid,
) -> Result<(), ApiError> {
    caller.touch("contract", contract_id);
    let keys = [CUSTOMER_KEY.to_owned(), contract_id.to_string()];
    if owners::covers(conn, &caller.scope, customer_id, Some(&keys)).await? {
        Ok(())
    } else {
        Err(ApiError::PermissionDenied(
            caller
                .out_of_scope(&format!("contract {contract_id}"))
                .message()
                .to_owned(),
        ))
    }
}

/// The owner and team of a customer (`contract` None) or contract, "" when not recorded.
pub(crate) async fn owner(
    conn: &mut PgConnection,
    customer_id: Uuid,
    contract_id: Option<Uuid>,
) -> Result<(String, String), ApiError> {
    let key = contract_id.map_or_else(|| CUSTOMER_KEY.to_owned(), |c| c.to_string());
    Ok(owners::owner_of(conn, customer_id, &key)
        .await?
        .unwrap_or_default())
}

/// ReassignOwner: moves the work, records who did it and why, and tells the other services.
pub(crate) async fn reassign(
    tx: &mut PgConnection,
    outbox: &Outbox,
    caller: &Caller,
    request: &api::ReassignOwnerRequest,
) -> Result<api::ReassignOwnerResponse, Status> {
    let (customer_id, contract_id) = match &request.target {
        Some(api::reassign_owner_request::Target::CustomerId(id)) => {
            (kit::wire::uuid("customer_id", id)?, None)
        }
        Some(api::reassign_owner_request::Target::ContractId(id)) => {
            let contract_id = kit::wire::uuid("contract_id", id)?;
            let customer = store::customer_of_contract(tx, contract_id)
                .await
                .map_err(ApiError::from)?
                .ok_or_else(|| ApiError::NotFound(format!("no contract with id {contract_id}")))?;
            (customer, Some(contract_id))
        }
        None => {
            return Err(ApiError::invalid("target", "give customer_id or contract_id").into());
        }
    };
    let new_owner = kit::wire::required("owner", &request.owner, MAX_NAME)?;
    let reason = kit::wire::required("reason", &request.reason, 1000)?;
    if !store::customer_exists(tx, customer_id)
        .await
        .map_err(ApiError::from)?
    {
        return Err(ApiError::NotFound(format!("no customer with id {customer_id}")).into());
    }
    // A supervisor moves work within their team only: both the present owner and the new one.
    match contract_id {
        Some(c) => require_contract(tx, caller, customer_id, c).await?,
        None => require_customer(tx, caller, customer_id).await?,
    }
    let new_team = match &caller.scope {
        Scope::Team(team) => {
            if !request.owner_team.is_empty() && request.owner_team != *team {
                return Err(ApiError::PermissionDenied(format!(
                    "a supervisor reassigns within their own team ({team:?}), not to {:?}",
                    request.owner_team
                ))
                .into());
            }
            team.clone()
        }
        _ => request.owner_team.trim().to_owned(),
    };
    let (previous_owner, previous_team) = owner(tx, customer_id, contract_id).await?;
    let key = contract_id.map_or_else(|| CUSTOMER_KEY.to_owned(), |c| c.to_string());
    owners::record(tx, customer_id, &key, &new_owner, &new_team)
        .await
        .map_err(ApiError::from)?;
    store::record_reassignment(
        tx,
        &store::Reassignment {
            customer_id,
            contract_id,
            previous: (&previous_owner, &previous_team),
            new: (&new_owner, &new_team),
            by: caller.subject(),
            reason: &reason,
        },
    )
    .await
    .map_err(ApiError::from)?;
    let event = events::OwnerReassigned {
        customer_id: customer_id.to_string(),
        contract_id: contract_id.map(|c| c.to_string()).unwrap_or_default(),
        owner: new_owner.clone(),
        team: new_team.clone(),
        previous_owner: previous_owner.clone(),
        previous_team: previous_team.clone(),
        reassigned_by: caller.subject().to_owned(),
        reason,
    };
    outbox
        .enqueue(tx, kit::events::CONTRACTS, &customer_id.to_string(), &event)
        .await
        .map_err(ApiError::from)?;
    Ok(api::ReassignOwnerResponse {
        customer_id: customer_id.to_string(),
        contract_id: event.contract_id,
        owner: new_owner,
        owner_team: new_team,
        previous_owner,
        previous_team,
        reassigned_by: caller.subject().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(scope: &Scope, owner: &str, team: &str) -> Result<(String, String), ApiError> {
        owner_at_creation(scope, "li", "east", owner, team)
    }

    #[test]
    fn whoever_signs_is_responsible_by_default() {
        // R-C9
        for scope in [
            Scope::All,
            Scope::Team("east".into()),
            Scope::Owner("li".into()),
        ] {
            assert_eq!(owner(&scope, "", "").unwrap(), ("li".into(), "east".into()));
        }
    }

    #[test]
    fn a_collector_signs_only_for_themselves() {
        // R-O3
        let me = Scope::Owner("li".into());
        assert_eq!(owner(&me, "li", "").unwrap(), ("li".into(), "east".into()));
        assert!(matches!(
            owner(&me, "wang", ""),
            Err(ApiError::PermissionDenied(_))
        ));
    }

    #[test]
    fn a_supervisor_assigns_within_the_team() {
        let sup = Scope::Team("east".into());
        assert_eq!(
            owner(&sup, "wang", "").unwrap(),
            ("wang".into(), "east".into())
        );
        assert!(matches!(
            owner(&sup, "wang", "west"),
            Err(ApiError::PermissionDenied(_))
        ));
        assert_eq!(
            owner(&Scope::All, "wang", "west").unwrap(),
            ("wang".into(), "west".into())
        );
    }

    #[test]
    fn a_team_without_an_owner_is_refused() {
        assert!(matches!(
            owner(&Scope::All, "", "west"),
            Err(ApiError::Invalid { .. })
        ));
    }
}
