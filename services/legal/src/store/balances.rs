//! SQL of the read model of what each receivable owes, by component, from contracts' events
//! (AllocationApplied, ReceivableOverdue, CostBooked, WaiverApproved, WrittenOff,
//! AmendmentApproved). One debtor's events arrive in order, so the latest figures replace the
//! earlier ones (R-L4, issue 15 legal item 3).

use chrono::NaiveDate;
use money::allocation::Owed;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

/// Records what `receivable_id` owes now; `paid_on`: the booking date of the payment that
/// left it (kept as the latest payment date).
pub async fn record_owed(
    conn: &mut PgConnection,
    receivable_id: Uuid,
    owed: &Owed,
    paid_on: Option<NaiveDate>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO receivable_balances (receivable_id, open_amount, costs, interest, late_fee, principal, last_payment)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (receivable_id) DO UPDATE
         SET open_amount = EXCLUDED.open_amount, costs = EXCLUDED.costs, interest = EXCLUDED.interest,
             late_fee = EXCLUDED.late_fee, principal = EXCLUDED.principal,
             last_payment = GREATEST(receivable_balances.last_payment, EXCLUDED.last_payment)",
    )
    .bind(receivable_id)
    .bind(owed.total())
    .bind(owed.costs)
    .bind(owed.interest)
    .bind(owed.late_fee)
    .bind(owed.principal)
    .bind(paid_on)
    .execute(conn)
    .await?;
    Ok(())
}

/// What `receivable_id` owes as last reported, if contracts ever reported on it.
pub async fn owed_of(
    conn: &mut PgConnection,
    receivable_id: Uuid,
) -> Result<Option<Owed>, sqlx::Error> {
    let row: Option<(Decimal, Decimal, Decimal, Decimal)> = sqlx::query_as(
        "SELECT costs, interest, late_fee, principal FROM receivable_balances WHERE receivable_id = $1",
    )
    .bind(receivable_id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(costs, interest, late_fee, principal)| Owed {
        costs,
        interest,
        late_fee,
        principal,
    }))
}
