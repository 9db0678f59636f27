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

/// [`record_owed`] for many receivables (each once) in one statement.
pub async fn record_owed_many(
    conn: &mut PgConnection,
    rows: &[(Uuid, &Owed, Option<NaiveDate>)],
) -> Result<(), sqlx::Error> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.0).collect();
    let total: Vec<Decimal> = rows.iter().map(|r| r.1.total()).collect();
    let costs: Vec<Decimal> = rows.iter().map(|r| r.1.costs).collect();
    let interest: Vec<Decimal> = rows.iter().map(|r| r.1.interest).collect();
    let late_fee: Vec<Decimal> = rows.iter().map(|r| r.1.late_fee).collect();
    let principal: Vec<Decimal> = rows.iter().map(|r| r.1.principal).collect();
    let paid_on: Vec<Option<NaiveDate>> = rows.iter().map(|r| r.2).collect();
    sqlx::query(
        "INSERT INTO receivable_balances (receivable_id, open_amount, costs, interest, late_fee, principal, last_payment)
         SELECT * FROM UNNEST($1::uuid[], $2::numeric[], $3::numeric[], $4::numeric[], $5::numeric[], $6::numeric[], $7::date[])
         ON CONFLICT (receivable_id) DO UPDATE
         SET open_amount = EXCLUDED.open_amount, costs = EXCLUDED.costs, interest = EXCLUDED.interest,
             late_fee = EXCLUDED.late_fee, principal = EXCLUDED.principal,
             last_payment = GREATEST(receivable_balances.last_payment, EXCLUDED.last_payment)",
    )
    .bind(&ids)
    .bind(&total)
    .bind(&costs)
    .bind(&interest)
    .bind(&late_fee)
    .bind(&principal)
    .bind(&paid_on)
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether an open case claims any of `receivables`.
pub async fn claimed_by_open_case(
    conn: &mut PgConnection,
    receivables: &[Uuid],
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM cases c JOIN case_receivables r ON r.case_id = c.id
                        WHERE r.receivable_id = ANY($1) AND c.status <> 'closed')",
    )
    .bind(receivables)
    .fetch_one(conn)
    .await
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
