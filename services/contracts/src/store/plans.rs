//! SQL of repayment plans booked from dunning (R-D6).

use std::collections::HashMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

/// A plan to book.
pub(crate) struct NewPlan<'a> {
    pub(crate) plan_id: Uuid,
    pub(crate) customer_id: Uuid,
    pub(crate) receivable_ids: &'a [Uuid],
    pub(crate) currency: &'a str,
    pub(crate) total: Decimal,
    pub(crate) agreed_on: NaiveDate,
    /// (number, due date, amount).
    pub(crate) installments: &'a [(i32, NaiveDate, Decimal)],
}

/// Books a plan; false when it was booked before (a repeated event).
pub(crate) async fn book(tx: &mut PgConnection, plan: &NewPlan<'_>) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO repayment_plans (plan_id, customer_id, receivable_ids, currency, total, agreed_on, status)
         VALUES ($1, $2, $3, $4, $5, $6, 'active') ON CONFLICT (plan_id) DO NOTHING",
    )
    .bind(plan.plan_id)
    .bind(plan.customer_id)
    .bind(plan.receivable_ids)
    .bind(plan.currency)
    .bind(plan.total)
    .bind(plan.agreed_on)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        > 0;
    if !inserted {
        return Ok(false);
    }
    for (number, due, amount) in plan.installments {
        sqlx::query(
            "INSERT INTO repayment_plan_installments (plan_id, number, due_date, amount)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(plan.plan_id)
        .bind(number)
        .bind(due)
        .bind(amount)
        .execute(&mut *tx)
        .await?;
    }
    Ok(true)
}

/// The plan ended (`broken` or `completed`).
pub(crate) async fn end(
    tx: &mut PgConnection,
    plan_id: Uuid,
    status: &str,
    on: NaiveDate,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE repayment_plans SET status = $2, ended_on = $3 WHERE plan_id = $1 AND status = 'active'",
    )
    .bind(plan_id)
    .bind(status)
    .bind(on)
    .execute(tx)
    .await?
    .rows_affected()
        > 0)
}

/// For the receivables among `ids` in an active plan: the day their accrual stopped.
pub(crate) async fn frozen(
    tx: &mut PgConnection,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, NaiveDate>, sqlx::Error> {
    let rows: Vec<(Uuid, NaiveDate)> = sqlx::query_as(
        "SELECT r.id, MIN(p.agreed_on) FROM unnest($1::uuid[]) AS r(id)
         JOIN repayment_plans p ON p.status = 'active' AND r.id = ANY(p.receivable_ids)
         GROUP BY r.id",
    )
    .bind(ids)
    .fetch_all(tx)
    .await?;
    Ok(rows.into_iter().collect())
}
