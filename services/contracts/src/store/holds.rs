//! Credit holds and their overrides (R-L5, R-S5).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::hold::{Active, Source};

/// A hold as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct HoldRow {
    pub(crate) id: Uuid,
    pub(crate) customer_id: Uuid,
    pub(crate) source: String,
    pub(crate) source_ref: String,
    pub(crate) reason: String,
    pub(crate) placed_by: String,
    pub(crate) placed_at: DateTime<Utc>,
    pub(crate) released_by: Option<String>,
    pub(crate) released_at: Option<DateTime<Utc>>,
    pub(crate) release_reason: Option<String>,
}

impl HoldRow {
    /// The source (the schema's CHECK admits only known names).
    pub(crate) fn source(&self) -> Option<Source> {
        Source::parse(&self.source)
    }
}

/// The columns of [`HoldRow`], for `concat!` (queries are static strings).
macro_rules! columns {
    () => {
        "id, customer_id, source, source_ref, reason, placed_by, placed_at, released_by, released_at, release_reason"
    };
}

/// A new hold to record.
pub(crate) struct NewHold<'a> {
    pub(crate) customer_id: Uuid,
    pub(crate) source: Source,
    pub(crate) source_ref: &'a str,
    pub(crate) reason: &'a str,
    pub(crate) placed_by: &'a str,
}

/// Records a hold; `None` when an equal one exists (the same legal case, or an active
/// overdue hold of the customer), so repeated events and cycles place it once.
pub(crate) async fn place(
    conn: &mut PgConnection,
    hold: &NewHold<'_>,
) -> Result<Option<HoldRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "INSERT INTO credit_holds (id, customer_id, source, source_ref, reason, placed_by)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT DO NOTHING
         RETURNING ",
        columns!(),
        ""
    ))
    .bind(Uuid::now_v7())
    .bind(hold.customer_id)
    .bind(hold.source.as_str())
    .bind(hold.source_ref)
    .bind(hold.reason)
    .bind(hold.placed_by)
    .fetch_optional(conn)
    .await
}

/// A hold, locked for a change.
pub(crate) async fn lock(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<HoldRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM credit_holds WHERE id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Ends an active hold; `None` when it had ended already.
pub(crate) async fn release(
    conn: &mut PgConnection,
    id: Uuid,
    by: &str,
    reason: &str,
) -> Result<Option<HoldRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "UPDATE credit_holds SET released_by = $2, released_at = now(), release_reason = $3
         WHERE id = $1 AND released_at IS NULL
         RETURNING ",
        columns!(),
        ""
    ))
    .bind(id)
    .bind(by)
    .bind(reason)
    .fetch_optional(conn)
    .await
}

/// A customer's holds, newest first, after the hold `after` (paging), active ones only
/// unless `include_released`.
pub(crate) async fn of_customer(
    conn: &mut PgConnection,
    customer_id: Uuid,
    include_released: bool,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<HoldRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM credit_holds
         WHERE customer_id = $1 AND ($2 OR released_at IS NULL) AND ($3::uuid IS NULL OR id < $3)
         ORDER BY id DESC LIMIT $4"
    ))
    .bind(customer_id)
    .bind(include_released)
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// The customer's active holds, as signing sees them; locks the customer's row so a hold
/// placed concurrently is either seen or placed after the contract.
pub(crate) async fn active_for_signing(
    conn: &mut PgConnection,
    customer_id: Uuid,
) -> Result<Vec<Active>, sqlx::Error> {
    sqlx::query("SELECT 1 FROM customers WHERE id = $1 FOR UPDATE")
        .bind(customer_id)
        .execute(&mut *conn)
        .await?;
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT source, reason FROM credit_holds
         WHERE customer_id = $1 AND released_at IS NULL ORDER BY placed_at",
    )
    .bind(customer_id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(source, reason)| {
            Some(Active {
                source: Source::parse(&source)?,
                reason,
            })
        })
        .collect())
}

/// Whether a customer has any active hold.
pub(crate) async fn on_hold(
    conn: &mut PgConnection,
    customer_id: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM credit_holds WHERE customer_id = $1 AND released_at IS NULL)",
    )
    .bind(customer_id)
    .fetch_one(conn)
    .await
}

/// Records an override for one contract number; `None` when an unused one exists already.
pub(crate) async fn grant_override(
    conn: &mut PgConnection,
    customer_id: Uuid,
    contract_no: &str,
    reason: &str,
    granted_by: &str,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO credit_hold_overrides (id, customer_id, contract_no, reason, granted_by)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT DO NOTHING
         RETURNING id",
    )
    .bind(Uuid::now_v7())
    .bind(customer_id)
    .bind(contract_no)
    .bind(reason)
    .bind(granted_by)
    .fetch_optional(conn)
    .await
}

/// Uses the unused override for this contract number, if there is one.
pub(crate) async fn use_override(
    conn: &mut PgConnection,
    customer_id: Uuid,
    contract_no: &str,
    contract_id: Uuid,
) -> Result<bool, sqlx::Error> {
    let used = sqlx::query(
        "UPDATE credit_hold_overrides SET contract_id = $3, used_at = now()
         WHERE customer_id = $1 AND contract_no = $2 AND contract_id IS NULL",
    )
    .bind(customer_id)
    .bind(contract_no)
    .bind(contract_id)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(used > 0)
}

/// Each customer's overdue total in `currency` (open amounts of receivables the daily cycle
/// found overdue), with whether an overdue hold is active, for every customer with either.
pub(crate) async fn overdue_by_customer(
    conn: &mut PgConnection,
    currency: &str,
) -> Result<Vec<(Uuid, Decimal, bool)>, sqlx::Error> {
    sqlx::query_as(
        "WITH overdue AS (
             SELECT r.customer_id, sum(r.open_amount) AS total
             FROM receivables r JOIN contracts c ON c.id = r.contract_id
             WHERE r.overdue_since IS NOT NULL AND r.open_amount > 0 AND c.currency = $1
             GROUP BY r.customer_id),
         held AS (
             SELECT customer_id FROM credit_holds WHERE source = 'overdue' AND released_at IS NULL)
         SELECT coalesce(o.customer_id, h.customer_id), coalesce(o.total, 0), h.customer_id IS NOT NULL
         FROM overdue o FULL JOIN held h ON h.customer_id = o.customer_id",
    )
    .bind(currency)
    .fetch_all(conn)
    .await
}

/// The active overdue hold of a customer.
pub(crate) async fn active_overdue_hold(
    conn: &mut PgConnection,
    customer_id: Uuid,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM credit_holds WHERE customer_id = $1 AND source = 'overdue' AND released_at IS NULL",
    )
    .bind(customer_id)
    .fetch_optional(conn)
    .await
}

/// The customer's active hold that scoring advised, if any.
pub(crate) async fn active_scoring_hold(
    conn: &mut PgConnection,
    customer_id: Uuid,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM credit_holds WHERE customer_id = $1 AND source = 'scoring' AND released_at IS NULL",
    )
    .bind(customer_id)
    .fetch_optional(conn)
    .await
}

/// The active hold a legal case placed, if any.
pub(crate) async fn active_legal_case_hold(
    conn: &mut PgConnection,
    case_id: &str,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM credit_holds WHERE source = 'legal_case' AND source_ref = $1 AND released_at IS NULL",
    )
    .bind(case_id)
    .fetch_optional(conn)
    .await
}
