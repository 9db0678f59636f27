//! Customers and idempotency keys: the SQL behind CreateCustomer, AddPayerAccount and every
//! command that claims a client key.

use sqlx::PgConnection;
use uuid::Uuid;

/// A customer as stored: name, kind ("person" or "company"), payer accounts sealed (R-O4).
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct CustomerRow {
    pub(crate) name: String,
    pub(crate) kind: String,
    pub(crate) payer_accounts: Vec<String>,
}

/// The customer, locked for an update of its payer accounts when `lock`.
pub(crate) async fn customer(
    conn: &mut PgConnection,
    id: Uuid,
    lock: bool,
) -> Result<Option<CustomerRow>, sqlx::Error> {
    let query = if lock {
        "SELECT name, kind, payer_accounts FROM customers WHERE id = $1 FOR UPDATE"
    } else {
        "SELECT name, kind, payer_accounts FROM customers WHERE id = $1"
    };
    sqlx::query_as(query).bind(id).fetch_optional(conn).await
}

pub(crate) async fn insert_customer(
    conn: &mut PgConnection,
    id: Uuid,
    name: &str,
    kind: &str,
    sealed_accounts: &[String],
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO customers (id, name, kind, payer_accounts) VALUES ($1, $2, $3, $4)")
        .bind(id)
        .bind(name)
        .bind(kind)
        .bind(sealed_accounts)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Stores many new customers in one statement (ImportContracts, R-O5): (id, name, kind,
/// sealed payer accounts).
pub(crate) async fn insert_customers(
    conn: &mut PgConnection,
    all: &[(Uuid, &str, &str, &[String])],
) -> Result<(), sqlx::Error> {
    let ids: Vec<Uuid> = all.iter().map(|c| c.0).collect();
    let names: Vec<&str> = all.iter().map(|c| c.1).collect();
    let kinds: Vec<&str> = all.iter().map(|c| c.2).collect();
    // Each customer's accounts as a JSON array: UNNEST takes no ragged two-dimensional array.
    let accounts: Vec<String> = all
        .iter()
        .map(|c| serde_json::Value::from(c.3.to_vec()).to_string())
        .collect();
    sqlx::query(
        "INSERT INTO customers (id, name, kind, payer_accounts)
         SELECT u.i, u.n, u.k, ARRAY(SELECT jsonb_array_elements_text(u.a::jsonb))
         FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS u(i, n, k, a, o)
         ORDER BY u.o",
    )
    .bind(&ids)
    .bind(&names)
    .bind(&kinds)
    .bind(&accounts)
    .execute(conn)
    .await
    .map(|_| ())
}

pub(crate) async fn set_payer_accounts(
    conn: &mut PgConnection,
    id: Uuid,
    sealed_accounts: &[String],
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE customers SET payer_accounts = $2 WHERE id = $1")
        .bind(id)
        .bind(sealed_accounts)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Records a client idempotency key for `operation`; false when it was recorded before.
pub(crate) async fn insert_idempotency_key(
    conn: &mut PgConnection,
    operation: &str,
    key: &str,
    request_hash: &str,
    resource_id: Uuid,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (operation, key, request_hash, resource_id) VALUES ($1, $2, $3, $4)
         ON CONFLICT (operation, key) DO NOTHING",
    )
    .bind(operation)
    .bind(key)
    .bind(request_hash)
    .bind(resource_id)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// The request hash and resource a key was first recorded with.
pub(crate) async fn idempotency_key(
    conn: &mut PgConnection,
    operation: &str,
    key: &str,
) -> Result<(String, Uuid), sqlx::Error> {
    sqlx::query_as(
        "SELECT request_hash, resource_id FROM idempotency_keys WHERE operation = $1 AND key = $2",
    )
    .bind(operation)
    .bind(key)
    .fetch_one(conn)
    .await
}
