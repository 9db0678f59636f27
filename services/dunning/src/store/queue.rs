//! SQL of the work queue (issue 14 item 1): the debtors with an active case inside the
//! caller's scope, and what the model reads of each.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

/// A payment dunning heard of (once per allocation).
pub async fn payment_seen(
    tx: &mut PgConnection,
    allocation_id: &str,
    customer_id: Uuid,
    booking_date: NaiveDate,
    amount: Decimal,
    currency: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO payments_seen (allocation_id, customer_id, booking_date, amount, currency)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(allocation_id)
    .bind(customer_id)
    .bind(booking_date)
    .bind(amount)
    .bind(currency)
    .execute(tx)
    .await
    .map(drop)
}

/// One debtor in the queue, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The case.
    pub case_id: Uuid,
    /// The debtor.
    pub customer_id: Uuid,
    /// Their name on file.
    pub name: String,
    /// Grade.
    pub grade: String,
    /// Owner.
    pub owner: String,
    /// The oldest open item's due date (not in dispute).
    pub oldest_due: Option<NaiveDate>,
    /// Owed on the open items not in dispute, and the currency.
    pub collectible: Decimal,
    /// Currency.
    pub currency: String,
    /// Paid since the given day.
    pub paid_lately: bool,
    /// The latest outcome a person logged since the given instant.
    pub latest_outcome: Option<String>,
    /// Broken promises.
    pub broken_promises: i64,
    /// The next open task's due time.
    pub next_task: Option<DateTime<Utc>>,
}

/// The debtors with an active case inside the scope `(mode, value)`, optionally of one owner.
pub async fn rows(
    conn: &mut PgConnection,
    scope: (&str, &str),
    owner: Option<&str>,
    paid_since: NaiveDate,
    contacted_since: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Row>, sqlx::Error> {
    type Sql = (
        Uuid,
        Uuid,
        Option<String>,
        String,
        Option<String>,
        Option<NaiveDate>,
        Option<Decimal>,
        Option<String>,
        bool,
        Option<String>,
        i64,
        Option<DateTime<Utc>>,
    );
    let rows: Vec<Sql> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT c.id, c.customer_id, d.name, COALESCE(g.grade, c.grade), o.owner,
                (SELECT min(i.due_date) FROM case_items i WHERE i.case_id = c.id AND i.status = 'open' AND i.dispute_id IS NULL AND i.plan_id IS NULL),
                (SELECT sum(i.open_amount + i.late_fee) FROM case_items i WHERE i.case_id = c.id AND i.status = 'open' AND i.dispute_id IS NULL AND i.plan_id IS NULL),
                (SELECT min(i.currency) FROM case_items i WHERE i.case_id = c.id AND i.status = 'open'),
                EXISTS (SELECT 1 FROM payments_seen p WHERE p.customer_id = c.customer_id AND p.booking_date >= $3),
                (SELECT l.outcome FROM contact_log l WHERE l.customer_id = c.customer_id AND l.actor_kind = 'principal'
                   AND l.at >= $4 ORDER BY l.seq DESC LIMIT 1),
                (SELECT count(*) FROM promises p WHERE p.customer_id = c.customer_id AND p.status = 'broken'),
                (SELECT min(t.due_at) FROM tasks t WHERE t.customer_id = c.customer_id AND t.status = 'open')
         FROM cases c
              LEFT JOIN customer_grades g ON g.customer_id = c.customer_id
              LEFT JOIN debtors d ON d.customer_id = c.customer_id
              LEFT JOIN owners o ON o.customer_id = c.customer_id AND o.scope_key = 'customer'
         WHERE c.status = 'active' AND ($5::text IS NULL OR o.owner = $5)
           AND {}
         ORDER BY c.customer_id LIMIT $6",
        kit::auth::owners::visible_customers("c.customer_id", 1, 2)
    )))
    .bind(scope.0)
    .bind(scope.1)
    .bind(paid_since)
    .bind(contacted_since)
    .bind(owner)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Row {
            case_id: r.0,
            customer_id: r.1,
            name: r.2.unwrap_or_default(),
            grade: r.3,
            owner: r.4.unwrap_or_default(),
            oldest_due: r.5,
            collectible: r.6.unwrap_or_default(),
            currency: r
                .7
                .map(|c| c.trim().to_owned())
                .unwrap_or_else(|| "CNY".to_owned()),
            paid_lately: r.8,
            latest_outcome: r.9,
            broken_promises: r.10,
            next_task: r.11,
        })
        .collect())
}
