//! SQL of the read model of receivables' open amounts (from contracts' AllocationApplied).

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

/// Records the open amount a payment left on a receivable; open amounts only go down.
pub async fn record_payment(
    conn: &mut PgConnection,
    receivable_id: Uuid,
    open_after: Decimal,
    paid_on: NaiveDate,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO receivable_balances (receivable_id, open_amount, last_payment) VALUES ($1, $2, $3)
         ON CONFLICT (receivable_id) DO UPDATE
         SET open_amount = LEAST(receivable_balances.open_amount, EXCLUDED.open_amount),
             last_payment = GREATEST(receivable_balances.last_payment, EXCLUDED.last_payment)",
    )
    .bind(receivable_id)
    .bind(open_after)
    .bind(paid_on)
    .execute(conn)
    .await?;
    Ok(())
}
