//! The debtor's disputes open with dunning (R-D8), for the payment-order route (R-L7).

use sqlx::PgConnection;
use uuid::Uuid;

/// Records a dispute opened; nothing when it was seen before or already resolved.
pub async fn opened(
    tx: &mut PgConnection,
    dispute_id: Uuid,
    customer_id: Uuid,
    receivable_ids: &[Uuid],
    reason: &str,
    opened_at: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO open_disputes (dispute_id, customer_id, receivable_ids, reason, opened_at)
         SELECT $1, $2, $3, $4, $5
         WHERE NOT EXISTS (SELECT 1 FROM resolved_disputes WHERE dispute_id = $1)
         ON CONFLICT (dispute_id) DO NOTHING",
    )
    .bind(dispute_id)
    .bind(customer_id)
    .bind(receivable_ids)
    .bind(reason)
    .bind(opened_at)
    .execute(&mut *tx)
    .await
    .map(|_| ())
}

/// Records a dispute resolved (upheld or rejected): it is open no more.
pub async fn resolved(tx: &mut PgConnection, dispute_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO resolved_disputes (dispute_id) VALUES ($1) ON CONFLICT DO NOTHING")
        .bind(dispute_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM open_disputes WHERE dispute_id = $1")
        .bind(dispute_id)
        .execute(&mut *tx)
        .await
        .map(|_| ())
}

/// An open dispute of the customer: its id and whether it names a receivable the case claims.
#[derive(Debug, sqlx::FromRow)]
pub struct OpenDispute {
    pub dispute_id: Uuid,
    pub reason: String,
    pub on_claimed_item: bool,
}

/// The customer's open disputes, those on the case's claimed items first.
pub async fn open_of_case(
    tx: &mut PgConnection,
    case_id: Uuid,
    customer_id: Uuid,
) -> Result<Vec<OpenDispute>, sqlx::Error> {
    sqlx::query_as(
        "SELECT d.dispute_id, d.reason,
                EXISTS (SELECT 1 FROM case_receivables r
                        WHERE r.case_id = $1 AND r.receivable_id = ANY(d.receivable_ids)) AS on_claimed_item
         FROM open_disputes d WHERE d.customer_id = $2
         ORDER BY on_claimed_item DESC, d.dispute_id",
    )
    .bind(case_id)
    .bind(customer_id)
    .fetch_all(&mut *tx)
    .await
}
