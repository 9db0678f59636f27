//! Waivers of late fee, interest and costs (R-D6): the `waivers` table.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

/// A stored waiver with its receivable's contract and currency.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct WaiverRow {
    pub(crate) id: Uuid,
    pub(crate) receivable_id: Uuid,
    pub(crate) customer_id: Uuid,
    pub(crate) component: String,
    pub(crate) amount: Decimal,
    pub(crate) reason: String,
    pub(crate) status: String,
    pub(crate) proposed_by: String,
    pub(crate) proposed_at: DateTime<Utc>,
    pub(crate) decided_by: Option<String>,
    pub(crate) decided_at: Option<DateTime<Utc>>,
    pub(crate) decision_note: String,
    pub(crate) second_approval_required: bool,
    pub(crate) first_approved_by: Option<String>,
    pub(crate) first_approved_at: Option<DateTime<Utc>>,
    pub(crate) dispute_id: Option<Uuid>,
    pub(crate) contract_no: String,
    pub(crate) currency: String,
}

macro_rules! select_waivers {
    ($tail:literal) => {
        concat!(
            "SELECT w.id, w.receivable_id, w.customer_id, w.component, w.amount, w.reason, w.status,
                    w.proposed_by, w.proposed_at, w.decided_by, w.decided_at, w.decision_note,
                    w.second_approval_required, w.first_approved_by, w.first_approved_at, w.dispute_id,
                    c.contract_no, c.currency
             FROM waivers w JOIN receivables r ON r.id = w.receivable_id
                            JOIN contracts c ON c.id = r.contract_id ",
            $tail
        )
    };
}

/// A new waiver to record.
pub(crate) struct NewWaiver<'a> {
    pub(crate) id: Uuid,
    pub(crate) receivable_id: Uuid,
    pub(crate) customer_id: Uuid,
    pub(crate) component: &'a str,
    pub(crate) amount: Decimal,
    pub(crate) reason: &'a str,
    pub(crate) proposed_by: &'a str,
    /// Above WAIVER_SECOND_APPROVAL_ABOVE: a second approver with the risk role.
    pub(crate) second_approval_required: bool,
    /// The upheld dispute that asked for it, and (for a credit of principal) from when it
    /// counts.
    pub(crate) dispute: Option<(Uuid, Option<NaiveDate>)>,
}

/// Records a proposed waiver; false when a dispute's line was proposed before.
pub(crate) async fn insert(
    conn: &mut PgConnection,
    w: &NewWaiver<'_>,
) -> Result<bool, sqlx::Error> {
    sqlx::query(
        "INSERT INTO waivers (id, receivable_id, customer_id, component, amount, reason, status, proposed_by,
                              second_approval_required, dispute_id, effective_on)
         VALUES ($1, $2, $3, $4, $5, $6, 'proposed', $7, $8, $9, $10)
         ON CONFLICT (dispute_id, receivable_id, component) WHERE dispute_id IS NOT NULL DO NOTHING",
    )
    .bind(w.id)
    .bind(w.receivable_id)
    .bind(w.customer_id)
    .bind(w.component)
    .bind(w.amount)
    .bind(w.reason)
    .bind(w.proposed_by)
    .bind(w.second_approval_required)
    .bind(w.dispute.map(|(id, _)| id))
    .bind(w.dispute.and_then(|(_, on)| on))
    .execute(conn)
    .await
    .map(|r| r.rows_affected() > 0)
}

/// One waiver, locked for a decision.
pub(crate) async fn lock(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<WaiverRow>, sqlx::Error> {
    sqlx::query_as(select_waivers!("WHERE w.id = $1 FOR UPDATE OF w"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// One waiver.
pub(crate) async fn get(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<WaiverRow>, sqlx::Error> {
    sqlx::query_as(select_waivers!("WHERE w.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Records a decision.
pub(crate) async fn decide(
    conn: &mut PgConnection,
    id: Uuid,
    status: &str,
    by: &str,
    note: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE waivers SET status = $2, decided_by = $3, decided_at = now(), decision_note = $4
         WHERE id = $1 AND status IN ('proposed', 'first_approved')",
    )
    .bind(id)
    .bind(status)
    .bind(by)
    .bind(note)
    .execute(conn)
    .await
    .map(|_| ())
}

/// The first of two approvals (above the second-approval amount).
pub(crate) async fn first_approval(
    conn: &mut PgConnection,
    id: Uuid,
    by: &str,
    note: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE waivers SET status = 'first_approved', first_approved_by = $2, first_approved_at = now(),
                            decision_note = $3
         WHERE id = $1 AND status = 'proposed'",
    )
    .bind(id)
    .bind(by)
    .bind(note)
    .execute(conn)
    .await
    .map(|_| ())
}

/// A filter of [`list`].
pub(crate) struct Filter<'a> {
    pub(crate) customer_id: Option<Uuid>,
    pub(crate) receivable_id: Option<Uuid>,
    pub(crate) status: Option<&'a str>,
    /// The caller's scope (`kit::auth::owners::params`).
    pub(crate) scope: (&'a str, &'a str),
    /// Newest first, after this id (ids are v7: time ordered).
    pub(crate) after: Option<Uuid>,
    pub(crate) limit: i64,
}

/// Waivers in the caller's scope, newest first.
pub(crate) async fn list(
    conn: &mut PgConnection,
    f: &Filter<'_>,
) -> Result<Vec<WaiverRow>, sqlx::Error> {
    // Safe: the only dynamic part is the kit's fixed scope condition; values are bound.
    let sql = sqlx::AssertSqlSafe(format!(
        select_waivers!(
            "WHERE ($1::uuid IS NULL OR w.customer_id = $1)
               AND ($2::uuid IS NULL OR w.receivable_id = $2)
               AND ($3::text IS NULL OR w.status = $3)
               AND ($4::uuid IS NULL OR w.id < $4) AND {}
             ORDER BY w.id DESC LIMIT $7"
        ),
        kit::auth::owners::visible_customers("w.customer_id", 5, 6)
    ));
    sqlx::query_as(sql)
        .bind(f.customer_id)
        .bind(f.receivable_id)
        .bind(f.status)
        .bind(f.after)
        .bind(f.scope.0)
        .bind(f.scope.1)
        .bind(f.limit)
        .fetch_all(conn)
        .await
}
