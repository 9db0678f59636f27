//! Payments: stored, decided, listed.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::status::PaymentStatus;

/// A payment held for a person (R-P5): recorded as an exception, never decided by the
/// engine, never allocated.
pub(crate) struct HeldPayment<'a> {
    pub(crate) id: Uuid,
    pub(crate) file_id: Uuid,
    pub(crate) line: &'a crate::intake::Incoming,
    pub(crate) sealed_account: &'a str,
    pub(crate) account_index: &'a str,
    pub(crate) sealed_receiving: &'a str,
    pub(crate) receiving_index: &'a str,
}

/// Stores a held payment.
pub(crate) async fn insert_held_payment(
    tx: &mut PgConnection,
    p: &HeldPayment<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO payments (id, file_id, line_no, booking_date, amount, currency, payer_name, payer_account,
                               reference, status, receiving_account, payer_account_index,
                               receiving_account_index)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(p.id)
    .bind(p.file_id)
    .bind(i32::try_from(p.line.line_no).unwrap_or(i32::MAX))
    .bind(p.line.date)
    .bind(p.line.amount)
    .bind(&p.line.currency)
    .bind(&p.line.payer_name)
    .bind(p.sealed_account)
    .bind(&p.line.reference)
    .bind(PaymentStatus::Exception.as_str())
    .bind(p.sealed_receiving)
    .bind(p.account_index)
    .bind(p.receiving_index)
    .execute(&mut *tx)
    .await
    .map(|_| ())
}
