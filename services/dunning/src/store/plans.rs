//! SQL of repayment plans (R-D6).

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::plan::Installment;

/// A plan as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PlanRow {
    /// Id.
    pub id: Uuid,
    /// The debtor.
    pub customer_id: Uuid,
    /// Their case.
    pub case_id: Uuid,
    /// The items it covers.
    pub receivable_ids: Vec<Uuid>,
    /// Their currency.
    pub currency: String,
    /// What they owed when proposed.
    pub total: Decimal,
    /// Grace days after each installment.
    pub grace_days: i32,
    /// Why (hardship).
    pub reason: String,
    /// See [`crate::domain::plan::Status`].
    pub status: String,
    /// The total is above the second-approval amount.
    pub second_approval_required: bool,
    /// Who proposed it.
    pub proposed_by: String,
    /// When.
    pub proposed_at: DateTime<Utc>,
    /// The first approver.
    pub first_approved_by: Option<String>,
    /// When.
    pub first_approved_at: Option<DateTime<Utc>>,
    /// The second approver (risk), above the amount.
    pub second_approved_by: Option<String>,
    /// When.
    pub second_approved_at: Option<DateTime<Utc>>,
    /// Who rejected it.
    pub rejected_by: Option<String>,
    /// The decision's note.
    pub decision_note: String,
    /// The business day it was agreed.
    pub agreed_on: Option<NaiveDate>,
    /// The business day it completed, broke or was refused.
    pub ended_on: Option<NaiveDate>,
    /// Why it broke or was refused.
    pub end_reason: String,
    /// The ladder's step when it took the items out.
    pub paused_step: String,
}

const COLUMNS: &str = "id, customer_id, case_id, receivable_ids, currency, total, grace_days, reason, status, second_approval_required, proposed_by, proposed_at, first_approved_by, first_approved_at, second_approved_by, second_approved_at, rejected_by, decision_note, agreed_on, ended_on, end_reason, paused_step";

/// An item a plan may cover: open in the debtor's case, not disputed, in no other plan.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Plannable {
    /// The receivable.
    pub receivable_id: Uuid,
    /// Its currency.
    pub currency: String,
    /// Owed on it (principal, late fee, interest, costs).
    pub owed: Decimal,
}

/// The plan proposed under `idempotency_key`.
pub async fn by_key(
    conn: &mut PgConnection,
    idempotency_key: &str,
) -> Result<Option<PlanRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM plans WHERE idempotency_key = $1"
    )))
    .bind(idempotency_key)
    .fetch_optional(conn)
    .await
}

/// A plan, locked.
pub async fn for_update(tx: &mut PgConnection, id: Uuid) -> Result<Option<PlanRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM plans WHERE id = $1 FOR UPDATE"
    )))
    .bind(id)
    .fetch_optional(tx)
    .await
}

/// The debtor's active case (locked) with its current step and the items a plan may cover.
pub async fn plannable(
    tx: &mut PgConnection,
    customer_id: Uuid,
) -> Result<Option<(Uuid, String, Vec<Plannable>)>, sqlx::Error> {
    let case: Option<(Uuid, String)> = sqlx::query_as(
        "SELECT id, current_step FROM cases WHERE customer_id = $1 AND status = 'active' FOR UPDATE",
    )
    .bind(customer_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((case_id, step)) = case else {
        return Ok(None);
    };
    let items = sqlx::query_as(
        "SELECT receivable_id, currency, open_amount + late_fee AS owed FROM case_items
         WHERE case_id = $1 AND status = 'open' AND dispute_id IS NULL AND plan_id IS NULL",
    )
    .bind(case_id)
    .fetch_all(tx)
    .await?;
    Ok(Some((case_id, step, items)))
}

/// Stores a proposed plan and its installments.
pub async fn insert(
    tx: &mut PgConnection,
    p: &PlanRow,
    installments: &[Installment],
    idempotency_key: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO plans (id, idempotency_key, customer_id, case_id, receivable_ids, currency, total,
                            grace_days, reason, status, second_approval_required, proposed_by, proposed_at,
                            paused_step)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'proposed', $10, $11, $12, $13)",
    )
    .bind(p.id)
    .bind(idempotency_key)
    .bind(p.customer_id)
    .bind(p.case_id)
    .bind(&p.receivable_ids)
    .bind(&p.currency)
    .bind(p.total)
    .bind(p.grace_days)
    .bind(&p.reason)
    .bind(p.second_approval_required)
    .bind(&p.proposed_by)
    .bind(p.proposed_at)
    .bind(&p.paused_step)
    .execute(&mut *tx)
    .await?;
    for inst in installments {
        sqlx::query(
            "INSERT INTO plan_installments (plan_id, number, due_date, amount) VALUES ($1, $2, $3, $4)",
        )
        .bind(p.id)
        .bind(i32::try_from(inst.number).unwrap_or(i32::MAX))
        .bind(inst.due)
        .bind(inst.amount)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// A plan's installments, in order.
pub async fn installments(
    conn: &mut PgConnection,
    plan_id: Uuid,
) -> Result<Vec<Installment>, sqlx::Error> {
    let rows: Vec<(i32, NaiveDate, Decimal)> = sqlx::query_as(
        "SELECT number, due_date, amount FROM plan_installments WHERE plan_id = $1 ORDER BY number",
    )
    .bind(plan_id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(number, due, amount)| Installment {
            number: u32::try_from(number).unwrap_or_default(),
            due,
            amount,
        })
        .collect())
}

/// The first of two approvals.
pub async fn first_approval(
    tx: &mut PgConnection,
    id: Uuid,
    by: &str,
    at: DateTime<Utc>,
    note: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE plans SET status = 'first_approved', first_approved_by = $2, first_approved_at = $3,
                          decision_note = $4
         WHERE id = $1 AND status = 'proposed'",
    )
    .bind(id)
    .bind(by)
    .bind(at)
    .bind(note)
    .execute(tx)
    .await
    .map(drop)
}

/// The last approval: the plan is agreed on `on` and takes its items out of the ladder.
/// `second` says whether this approver is the second one.
pub async fn agree(
    tx: &mut PgConnection,
    id: Uuid,
    by: &str,
    second: bool,
    at: DateTime<Utc>,
    on: NaiveDate,
    note: &str,
) -> Result<(), sqlx::Error> {
    let sql = if second {
        "UPDATE plans SET status = 'active', second_approved_by = $2, second_approved_at = $3,
                          agreed_on = $4, decision_note = $5
         WHERE id = $1 AND status = 'first_approved'"
    } else {
        "UPDATE plans SET status = 'active', first_approved_by = $2, first_approved_at = $3,
                          agreed_on = $4, decision_note = $5
         WHERE id = $1 AND status = 'proposed'"
    };
    sqlx::query(sql)
        .bind(id)
        .bind(by)
        .bind(at)
        .bind(on)
        .bind(note)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE case_items i SET plan_id = p.id FROM plans p
         WHERE p.id = $1 AND i.case_id = p.case_id AND i.receivable_id = ANY(p.receivable_ids)
           AND i.status = 'open'",
    )
    .bind(id)
    .execute(tx)
    .await
    .map(drop)
}

/// A rejection.
pub async fn reject(
    tx: &mut PgConnection,
    id: Uuid,
    by: &str,
    note: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE plans SET status = 'rejected', rejected_by = $2, decision_note = $3
         WHERE id = $1 AND status IN ('proposed', 'first_approved')",
    )
    .bind(id)
    .bind(by)
    .bind(note)
    .execute(tx)
    .await
    .map(drop)
}

/// The plan ended (`completed`, `broken` or `refused`) on `on`: its items are back in the
/// ladder (those still open).
pub async fn end(
    tx: &mut PgConnection,
    id: Uuid,
    status: &str,
    on: NaiveDate,
    reason: &str,
) -> Result<bool, sqlx::Error> {
    let ended = sqlx::query(
        "UPDATE plans SET status = $2, ended_on = $3, end_reason = $4
         WHERE id = $1 AND status IN ('active', 'proposed', 'first_approved')",
    )
    .bind(id)
    .bind(status)
    .bind(on)
    .bind(reason)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        > 0;
    sqlx::query("UPDATE case_items SET plan_id = NULL WHERE plan_id = $1")
        .bind(id)
        .execute(tx)
        .await?;
    Ok(ended)
}

/// The active plans of `customers`.
pub async fn active_of(
    tx: &mut PgConnection,
    customers: &[Uuid],
) -> Result<Vec<PlanRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM plans WHERE customer_id = ANY($1) AND status = 'active'"
    )))
    .bind(customers)
    .fetch_all(tx)
    .await
}

/// The active plan covering `receivable_id`, if any.
pub async fn active_for_item(
    tx: &mut PgConnection,
    receivable_id: Uuid,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM plans WHERE status = 'active' AND $1 = ANY(receivable_ids) LIMIT 1",
    )
    .bind(receivable_id)
    .fetch_optional(tx)
    .await
}

/// A payment applied to a plan's item while it is active (once per allocation).
pub async fn payment(
    tx: &mut PgConnection,
    plan_id: Uuid,
    allocation_id: &str,
    booking_date: NaiveDate,
    amount: Decimal,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO plan_payments (plan_id, allocation_id, booking_date, amount)
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(plan_id)
    .bind(allocation_id)
    .bind(booking_date)
    .bind(amount)
    .execute(tx)
    .await
    .map(drop)
}

/// The payments counted for a plan.
pub async fn payments(
    conn: &mut PgConnection,
    plan_id: Uuid,
) -> Result<Vec<(NaiveDate, Decimal)>, sqlx::Error> {
    sqlx::query_as("SELECT booking_date, amount FROM plan_payments WHERE plan_id = $1")
        .bind(plan_id)
        .fetch_all(conn)
        .await
}

/// After a broken plan the ladder goes on only with a step more severe than `severity`.
pub async fn escalate_above(
    tx: &mut PgConnection,
    case_id: Uuid,
    severity: Option<i32>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE cases SET escalate_above = $2 WHERE id = $1")
        .bind(case_id)
        .bind(severity)
        .execute(tx)
        .await
        .map(drop)
}

/// Plans newest first: one debtor's, or all inside the scope `(mode, value)`, optionally of
/// one status.
pub async fn list(
    conn: &mut PgConnection,
    customer_id: Option<Uuid>,
    status: Option<&str>,
    scope: (&str, &str),
    limit: i64,
) -> Result<Vec<PlanRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM plans
         WHERE ($3::uuid IS NULL OR customer_id = $3) AND ($4::text IS NULL OR status = $4) AND {}
         ORDER BY proposed_at DESC, id DESC LIMIT $5",
        kit::auth::owners::visible_customers("customer_id", 1, 2)
    )))
    .bind(scope.0)
    .bind(scope.1)
    .bind(customer_id)
    .bind(status)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Whether nothing the plan covers is open any more (paid, written off, amended away).
pub async fn settled(tx: &mut PgConnection, plan_id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT NOT EXISTS (SELECT 1 FROM case_items i JOIN plans p ON p.case_id = i.case_id
                            WHERE p.id = $1 AND i.receivable_id = ANY(p.receivable_ids)
                              AND i.status = 'open')",
    )
    .bind(plan_id)
    .fetch_one(tx)
    .await
}

/// The active plans of a case.
pub async fn active_of_case(
    tx: &mut PgConnection,
    case_id: Uuid,
) -> Result<Vec<PlanRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM plans WHERE case_id = $1 AND status = 'active'"
    )))
    .bind(case_id)
    .fetch_all(tx)
    .await
}

/// A plan not yet ended, locked (for contracts' answer).
pub async fn pending_or_active(
    tx: &mut PgConnection,
    id: Uuid,
) -> Result<Option<PlanRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM plans WHERE id = $1 AND status = 'active' FOR UPDATE"
    )))
    .bind(id)
    .fetch_optional(tx)
    .await
}
