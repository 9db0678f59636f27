//! SQL of a case's costs the debtor bears (R-D12, R-L6).

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

/// Serialises requests with the same idempotency key (also concurrent repeats).
pub async fn lock_key(conn: &mut PgConnection, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('legal.case_costs:' || $1))")
        .bind(key)
        .execute(conn)
        .await?;
    Ok(())
}

/// A cost recorded before under a key: (cost id, case id, receivable id, amount, currency).
pub async fn by_key(
    conn: &mut PgConnection,
    key: &str,
) -> Result<Option<(Uuid, Uuid, Uuid, Decimal, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT k.id, k.case_id, k.receivable_id, k.amount, c.currency
         FROM case_costs k JOIN cases c ON c.id = k.case_id WHERE k.idempotency_key = $1",
    )
    .bind(key)
    .fetch_optional(conn)
    .await
}

/// The case's customer and currency, locked.
pub async fn case_for_cost(
    conn: &mut PgConnection,
    case_id: Uuid,
) -> Result<Option<(Uuid, String)>, sqlx::Error> {
    sqlx::query_as("SELECT customer_id, currency FROM cases WHERE id = $1 FOR UPDATE")
        .bind(case_id)
        .fetch_optional(conn)
        .await
}

/// The receivable with the case's largest claim.
pub async fn largest_claim(
    conn: &mut PgConnection,
    case_id: Uuid,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT receivable_id FROM case_receivables WHERE case_id = $1
         ORDER BY claimed DESC, receivable_id LIMIT 1",
    )
    .bind(case_id)
    .fetch_optional(conn)
    .await
}

/// Whether the case claims the receivable.
pub async fn claims(
    conn: &mut PgConnection,
    case_id: Uuid,
    receivable_id: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM case_receivables WHERE case_id = $1 AND receivable_id = $2)",
    )
    .bind(case_id)
    .bind(receivable_id)
    .fetch_one(conn)
    .await
}

/// A cost to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCost<'a> {
    /// Id.
    pub id: Uuid,
    /// The case.
    pub case_id: Uuid,
    /// Booked against.
    pub receivable_id: Uuid,
    /// Stored kind name.
    pub kind: &'static str,
    /// Amount in the case's currency.
    pub amount: Decimal,
    /// Business date.
    pub incurred_on: NaiveDate,
    /// In words.
    pub description: &'a str,
    /// The authenticated principal.
    pub recorded_by: &'a str,
    /// The client's key.
    pub idempotency_key: &'a str,
}

/// Records a cost.
pub async fn record_cost(conn: &mut PgConnection, cost: &NewCost<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO case_costs (id, case_id, receivable_id, kind, amount, incurred_on, description, recorded_by, idempotency_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(cost.id)
    .bind(cost.case_id)
    .bind(cost.receivable_id)
    .bind(cost.kind)
    .bind(cost.amount)
    .bind(cost.incurred_on)
    .bind(cost.description)
    .bind(cost.recorded_by)
    .bind(cost.idempotency_key)
    .execute(conn)
    .await?;
    Ok(())
}

/// A recorded cost of a case.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CostRow {
    /// The cost.
    pub id: Uuid,
    /// The receivable it is booked on.
    pub receivable_id: Uuid,
    /// The stored kind name.
    pub kind: String,
    /// In the case's currency.
    pub amount: Decimal,
    /// Business date.
    pub incurred_on: NaiveDate,
    /// In words.
    pub description: String,
    /// The authenticated principal.
    pub recorded_by: String,
    /// When.
    pub recorded_at: chrono::DateTime<chrono::Utc>,
}

/// A case's costs, oldest first.
pub async fn of_case(pool: &sqlx::PgPool, case_id: Uuid) -> Result<Vec<CostRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, receivable_id, kind, amount, incurred_on, description, recorded_by, recorded_at
         FROM case_costs WHERE case_id = $1 ORDER BY recorded_at, id",
    )
    .bind(case_id)
    .fetch_all(pool)
    .await
}
