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
