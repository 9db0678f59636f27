//! Who owns each customer's collection work (R-C9), and the scope checks built on it (R-O3).
//!
//! Every service keeps the same `owners` table (the kit's migrations): contracts writes it
//! when customers and contracts are created or reassigned; scoring and dunning build it from
//! `ContractSigned` and `OwnerReassigned`. A customer is inside a collector's scope when they
//! own the customer or one of its contracts; inside a supervisor's when the owner is in
//! their team.

use sqlx::PgConnection;
use uuid::Uuid;

use proto::events::v1 as events;

use super::Scope;
use crate::consumer::{HandleError, uuid_field};

/// The `scope_key` of the customer's own owner (contracts use their id).
pub const CUSTOMER_KEY: &str = "customer";

/// Records (or replaces) the owner of `scope_key` for `customer_id`.
pub async fn record(
    conn: &mut PgConnection,
    customer_id: Uuid,
    scope_key: &str,
    owner: &str,
    team: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO owners (customer_id, scope_key, owner, team) VALUES ($1, $2, $3, $4)
         ON CONFLICT (customer_id, scope_key)
         DO UPDATE SET owner = EXCLUDED.owner, team = EXCLUDED.team, updated_at = now()",
    )
    .bind(customer_id)
    .bind(scope_key)
    .bind(owner)
    .bind(team)
    .execute(conn)
    .await
    .map(|_| ())
}

/// The owner of `scope_key`, if recorded.
pub async fn owner_of(
    conn: &mut PgConnection,
    customer_id: Uuid,
    scope_key: &str,
) -> Result<Option<(String, String)>, sqlx::Error> {
    sqlx::query_as("SELECT owner, team FROM owners WHERE customer_id = $1 AND scope_key = $2")
        .bind(customer_id)
        .bind(scope_key)
        .fetch_optional(conn)
        .await
}

/// Whether `scope` covers the customer (any of its keys), or, with `keys`, one of those
/// (e.g. the customer and one contract).
pub async fn covers(
    conn: &mut PgConnection,
    scope: &Scope,
    customer_id: Uuid,
    keys: Option<&[String]>,
) -> Result<bool, sqlx::Error> {
    let (mode, value) = params(scope);
    if mode == "all" {
        return Ok(true);
    }
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM owners
                        WHERE customer_id = $1
                          AND ($2::TEXT[] IS NULL OR scope_key = ANY($2))
                          AND CASE $3 WHEN 'team' THEN team = $4 ELSE owner = $4 END)",
    )
    .bind(customer_id)
    .bind(keys)
    .bind(mode)
    .bind(value)
    .fetch_one(conn)
    .await
}

/// PERMISSION_DENIED unless the caller's scope covers the customer (their own, or one of its
/// contracts'); names the customer in the audit record either way. A database failure stays
/// what it is (e.g. UNAVAILABLE), never a refusal.
pub async fn require_customer(
    conn: &mut PgConnection,
    caller: &super::Caller,
    customer_id: Uuid,
) -> Result<(), crate::ApiError> {
    caller.touch("customer", customer_id);
    if covers(conn, &caller.scope, customer_id, None).await? {
        Ok(())
    } else {
        Err(crate::ApiError::PermissionDenied(
            caller
                .out_of_scope(&format!("customer {customer_id}"))
                .message()
                .to_owned(),
        ))
    }
}

/// The two bind values of [`visible_customers`]: the mode (`all`, `team`, `owner`) and the
/// team or owner.
pub fn params(scope: &Scope) -> (&'static str, String) {
    match scope {
        Scope::All => ("all", String::new()),
        Scope::Team(team) => ("team", team.clone()),
        Scope::Owner(owner) => ("owner", owner.clone()),
    }
}

/// A SQL condition keeping rows whose `column` (a customer id) is inside the scope bound as
/// parameters `$mode` and `$value` (see [`params`]), for list queries.
pub fn visible_customers(column: &str, mode: u8, value: u8) -> String {
    format!(
        "(${mode} = 'all' OR {column} IN (SELECT o.customer_id FROM owners o
          WHERE CASE ${mode} WHEN 'team' THEN o.team = ${value} ELSE o.owner = ${value} END))"
    )
}

/// Whether a consumer should hand this event type to [`apply_event`].
pub fn wants(event_type: &str) -> bool {
    event_type == crate::events::type_name::<events::ContractSigned>()
        || event_type == crate::events::type_name::<events::OwnerReassigned>()
}

/// Keeps the `owners` read model of a consuming service up to date. Returns whether the event
/// was one of the two it reads.
pub async fn apply_event(
    tx: &mut PgConnection,
    event: &crate::consumer::IncomingEvent,
) -> Result<bool, HandleError> {
    let event_type = event.envelope.event_type.as_str();
    if event_type == crate::events::type_name::<events::ContractSigned>() {
        let signed: events::ContractSigned = event.decode()?;
        let customer_id = uuid_field("customer_id", &signed.customer_id)?;
        // Producers before R-O3 sent no owners: nobody but the unscoped roles sees them.
        if !signed.customer_owner.is_empty() {
            record(
                tx,
                customer_id,
                CUSTOMER_KEY,
                &signed.customer_owner,
                &signed.customer_owner_team,
            )
            .await?;
        }
        if !signed.owner.is_empty() {
            record(
                tx,
                customer_id,
                &signed.contract_id,
                &signed.owner,
                &signed.owner_team,
            )
            .await?;
        }
        Ok(true)
    } else if event_type == crate::events::type_name::<events::OwnerReassigned>() {
        let moved: events::OwnerReassigned = event.decode()?;
        let customer_id = uuid_field("customer_id", &moved.customer_id)?;
        let key = if moved.contract_id.is_empty() {
            CUSTOMER_KEY
        } else {
            moved.contract_id.as_str()
        };
        record(tx, customer_id, key, &moved.owner, &moved.team).await?;
        Ok(true)
    } else {
        Ok(false)
    }
}

/// The owners a run of `ContractSigned` names, in one statement: what
/// [`apply_event`] does for each in turn (issue 16). Where the run names one customer's or
/// contract's owner twice, the later one stands, as it would one by one.
pub async fn record_signed(
    tx: &mut PgConnection,
    signed: &[&events::ContractSigned],
) -> Result<(), HandleError> {
    let mut rows: Vec<(Uuid, &str, &str, &str)> = Vec::with_capacity(signed.len() * 2);
    for s in signed {
        let customer_id = uuid_field("customer_id", &s.customer_id)?;
        if !s.customer_owner.is_empty() {
            rows.push((
                customer_id,
                CUSTOMER_KEY,
                &s.customer_owner,
                &s.customer_owner_team,
            ));
        }
        if !s.owner.is_empty() {
            rows.push((customer_id, &s.contract_id, &s.owner, &s.owner_team));
        }
    }
    record_all(tx, &rows).await?;
    Ok(())
}

/// Records many owners, (customer, scope key: [`CUSTOMER_KEY`] or a contract id, owner,
/// team), in one statement: what [`record`] does for each in turn, the later one standing
/// where a key repeats.
pub async fn record_all(
    tx: &mut PgConnection,
    rows: &[(Uuid, &str, &str, &str)],
) -> Result<(), sqlx::Error> {
    // ON CONFLICT may touch a row once per statement: the last word per key.
    let mut last = std::collections::HashMap::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        last.insert((row.0, row.1), i);
    }
    let rows: Vec<_> = rows
        .iter()
        .enumerate()
        .filter(|(i, row)| last.get(&(row.0, row.1)) == Some(i))
        .map(|(_, row)| row)
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    let customers: Vec<Uuid> = rows.iter().map(|r| r.0).collect();
    let keys: Vec<&str> = rows.iter().map(|r| r.1).collect();
    let owners: Vec<&str> = rows.iter().map(|r| r.2).collect();
    let teams: Vec<&str> = rows.iter().map(|r| r.3).collect();
    sqlx::query(
        "INSERT INTO owners (customer_id, scope_key, owner, team)
         SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[])
         ON CONFLICT (customer_id, scope_key)
         DO UPDATE SET owner = EXCLUDED.owner, team = EXCLUDED.team, updated_at = now()",
    )
    .bind(&customers)
    .bind(&keys)
    .bind(&owners)
    .bind(&teams)
    .execute(tx)
    .await
    .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_condition_binds_mode_and_value() {
        let sql = visible_customers("c.customer_id", 3, 4);
        assert!(sql.contains("$3 = 'all'"));
        assert!(sql.contains("o.team = $4"));
        assert!(sql.contains("c.customer_id IN"));
        assert_eq!(params(&Scope::All).0, "all");
        assert_eq!(params(&Scope::Team("t".into())), ("team", "t".into()));
        assert_eq!(params(&Scope::Owner("li".into())), ("owner", "li".into()));
    }
}
