//! Every SQL statement of the reporting service, named by intent.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::{Item, Movement, MovementKind};

/// A receivable as billed.
#[derive(Debug, Clone)]
pub struct NewItem {
    pub receivable_id: Uuid,
    pub contract_id: Uuid,
    pub customer_id: Uuid,
    pub currency: String,
    pub due: NaiveDate,
    pub billed_on: NaiveDate,
    pub amount: Decimal,
}

/// Records a billed receivable (a repeat changes nothing).
pub async fn insert_item(conn: &mut PgConnection, item: &NewItem) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO items (receivable_id, contract_id, customer_id, currency, due_date, \
         billed_on, amount) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (receivable_id) DO NOTHING",
    )
    .bind(item.receivable_id)
    .bind(item.contract_id)
    .bind(item.customer_id)
    .bind(&item.currency)
    .bind(item.due)
    .bind(item.billed_on)
    .bind(item.amount)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Records a change to an item's principal (skips a zero change).
pub async fn record_movement(
    conn: &mut PgConnection,
    receivable_id: Uuid,
    on: NaiveDate,
    principal: Decimal,
    kind: MovementKind,
    event_id: Uuid,
) -> Result<(), sqlx::Error> {
    if principal.is_zero() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO movements (receivable_id, on_date, principal, kind, event_id) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(receivable_id)
    .bind(on)
    .bind(principal)
    .bind(kind.as_str())
    .bind(event_id)
    .execute(conn)
    .await
    .map(|_| ())
}

/// An item's scheduled principal now (as billed, with amendments) and its open principal;
/// `None` for an item reporting does not know.
pub async fn principal_of(
    conn: &mut PgConnection,
    receivable_id: Uuid,
) -> Result<Option<(Decimal, Decimal)>, sqlx::Error> {
    let row: Option<(Decimal, Decimal, Decimal)> = sqlx::query_as(
        "SELECT i.amount, \
                COALESCE(SUM(m.principal) FILTER (WHERE m.kind = 'amended'), 0), \
                COALESCE(SUM(m.principal), 0) \
         FROM items i LEFT JOIN movements m USING (receivable_id) \
         WHERE i.receivable_id = $1 GROUP BY i.amount",
    )
    .bind(receivable_id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(amount, amended, all)| (amount + amended, amount + all)))
}

/// One step of a debt's story.
#[derive(Debug, Clone)]
pub struct NewStep {
    pub event_id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub service: String,
    pub event: String,
    pub summary: String,
    pub customer_id: Option<Uuid>,
    pub contract_id: Option<Uuid>,
    pub receivable_ids: Vec<Uuid>,
    pub payment_id: Option<Uuid>,
    pub case_id: Option<Uuid>,
}

/// Records a step (a repeat changes nothing).
pub async fn record_step(conn: &mut PgConnection, step: &NewStep) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO timeline (event_id, occurred_at, service, event, summary, customer_id, \
         contract_id, receivable_ids, payment_id, case_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(step.event_id)
    .bind(step.occurred_at)
    .bind(&step.service)
    .bind(&step.event)
    .bind(&step.summary)
    .bind(step.customer_id)
    .bind(step.contract_id)
    .bind(&step.receivable_ids)
    .bind(step.payment_id)
    .bind(step.case_id)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Every item (of `currency`, if given) with its movements.
pub async fn items(
    conn: &mut PgConnection,
    currency: Option<&str>,
) -> Result<Vec<Item>, sqlx::Error> {
    type Row = (
        Uuid,
        String,
        NaiveDate,
        NaiveDate,
        Decimal,
        Option<NaiveDate>,
        Option<Decimal>,
        Option<String>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT i.receivable_id, i.currency, i.due_date, i.billed_on, i.amount, \
                m.on_date, m.principal, m.kind \
         FROM items i LEFT JOIN movements m USING (receivable_id) \
         WHERE $1::text IS NULL OR i.currency = $1 \
         ORDER BY i.receivable_id, m.id",
    )
    .bind(currency)
    .fetch_all(conn)
    .await?;
    let mut items: Vec<Item> = Vec::new();
    let mut last: Option<Uuid> = None;
    for (id, currency, due, billed_on, amount, on, principal, kind) in rows {
        if last != Some(id) {
            items.push(Item {
                currency,
                due,
                billed_on,
                amount,
                movements: Vec::new(),
            });
            last = Some(id);
        }
        if let (Some(on), Some(principal), Some(kind)) = (on, principal, kind) {
            let Some(kind) = MovementKind::parse(&kind) else {
                return Err(sqlx::Error::Decode(
                    format!("movement of {id} has the unknown kind {kind:?}").into(),
                ));
            };
            if let Some(item) = items.last_mut() {
                item.movements.push(Movement {
                    on,
                    principal,
                    kind,
                });
            }
        }
    }
    Ok(items)
}

/// The contract of a receivable.
pub async fn contract_of_receivable(
    conn: &mut PgConnection,
    receivable_id: Uuid,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar("SELECT contract_id FROM items WHERE receivable_id = $1")
        .bind(receivable_id)
        .fetch_all(conn)
        .await
}

/// The contracts a payment was allocated to (or proposed for).
pub async fn contracts_of_payment(
    conn: &mut PgConnection,
    payment_id: Uuid,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT DISTINCT i.contract_id FROM timeline t \
         JOIN items i ON i.receivable_id = ANY (t.receivable_ids) \
         WHERE t.payment_id = $1 ORDER BY 1",
    )
    .bind(payment_id)
    .fetch_all(conn)
    .await
}

/// The contracts whose receivables a legal case claims.
pub async fn contracts_of_case(
    conn: &mut PgConnection,
    case_id: Uuid,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT DISTINCT i.contract_id FROM timeline t \
         JOIN items i ON i.receivable_id = ANY (t.receivable_ids) \
         WHERE t.case_id = $1 ORDER BY 1",
    )
    .bind(case_id)
    .fetch_all(conn)
    .await
}

/// Whether reporting knows the contract.
pub async fn contract_known(
    conn: &mut PgConnection,
    contract_id: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM items WHERE contract_id = $1)")
        .bind(contract_id)
        .fetch_one(conn)
        .await
}

/// The customers of the contracts (for the caller's scope).
pub async fn customers_of(
    conn: &mut PgConnection,
    contract_ids: &[Uuid],
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT DISTINCT customer_id FROM items WHERE contract_id = ANY ($1) ORDER BY 1",
    )
    .bind(contract_ids)
    .fetch_all(conn)
    .await
}

/// A stored step.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Step {
    pub event_id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub service: String,
    pub event: String,
    pub summary: String,
    pub contract_id: Option<Uuid>,
    pub receivable_ids: Vec<Uuid>,
    pub payment_id: Option<Uuid>,
    pub case_id: Option<Uuid>,
}

/// Every step of the contracts' story: the contract's own events, those about its
/// receivables, those about the payments allocated to them and about the legal cases that
/// claim them; in time order.
pub async fn trace(
    conn: &mut PgConnection,
    contract_ids: &[Uuid],
) -> Result<Vec<Step>, sqlx::Error> {
    sqlx::query_as(
        "WITH r AS (SELECT receivable_id FROM items WHERE contract_id = ANY ($1)), \
              linked AS ( \
                SELECT payment_id, case_id FROM timeline \
                WHERE contract_id = ANY ($1) \
                   OR receivable_ids && ARRAY(SELECT receivable_id FROM r)) \
         SELECT event_id, occurred_at, service, event, summary, contract_id, receivable_ids, \
                payment_id, case_id \
         FROM timeline \
         WHERE contract_id = ANY ($1) \
            OR receivable_ids && ARRAY(SELECT receivable_id FROM r) \
            OR payment_id IN (SELECT payment_id FROM linked WHERE payment_id IS NOT NULL) \
            OR case_id IN (SELECT case_id FROM linked WHERE case_id IS NOT NULL) \
         ORDER BY occurred_at, event_id",
    )
    .bind(contract_ids)
    .fetch_all(conn)
    .await
}

/// The last recorded provision run of `currency` before `as_of`: its date and total.
pub async fn provision_before(
    conn: &mut PgConnection,
    currency: &str,
    as_of: NaiveDate,
) -> Result<Option<(NaiveDate, Decimal)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT as_of, total FROM provision_runs WHERE currency = $1 AND as_of < $2 \
         ORDER BY as_of DESC LIMIT 1",
    )
    .bind(currency)
    .bind(as_of)
    .fetch_optional(conn)
    .await
}

/// Records (or replaces) the run of `currency` on `as_of`.
pub async fn record_provision(
    conn: &mut PgConnection,
    currency: &str,
    as_of: NaiveDate,
    matrix: &str,
    total: Decimal,
    by_bucket: &str,
    recorded_by: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO provision_runs (currency, as_of, matrix, total, by_bucket, recorded_by) \
         VALUES ($1, $2, $3, $4, $5::jsonb, $6) \
         ON CONFLICT (currency, as_of) DO UPDATE SET matrix = EXCLUDED.matrix, \
         total = EXCLUDED.total, by_bucket = EXCLUDED.by_bucket, \
         recorded_by = EXCLUDED.recorded_by, recorded_at = now()",
    )
    .bind(currency)
    .bind(as_of)
    .bind(matrix)
    .bind(total)
    .bind(by_bucket)
    .bind(recorded_by)
    .execute(conn)
    .await
    .map(|_| ())
}
