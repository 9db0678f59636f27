//! What a statement of account reads (issue 12 item 10).

use chrono::NaiveDate;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{ReceivableRow, select_receivables};

/// A customer's contract with its escrow account as stored (sealed, R-O4).
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ContractRow {
    pub(crate) id: Uuid,
    pub(crate) contract_no: String,
    pub(crate) escrow_account: String,
}

/// The customer's name, `None` if there is no such customer.
pub(crate) async fn customer_name(
    conn: &mut PgConnection,
    customer_id: Uuid,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT name FROM customers WHERE id = $1")
        .bind(customer_id)
        .fetch_optional(conn)
        .await
}

/// The business date of the last completed daily cycle: late fees are accrued to it.
pub(crate) async fn last_cycle(conn: &mut PgConnection) -> Result<Option<NaiveDate>, sqlx::Error> {
    sqlx::query_scalar("SELECT max(as_of) FROM daily_cycles WHERE status = 'done'")
        .fetch_one(conn)
        .await
}

/// The customer's receivables on which something is owed (principal, fees, interest, costs).
pub(crate) async fn owed_receivables(
    conn: &mut PgConnection,
    customer_id: Uuid,
) -> Result<Vec<ReceivableRow>, sqlx::Error> {
    sqlx::query_as(select_receivables!(
        "WHERE r.customer_id = $1 AND r.owed > 0
         ORDER BY c.contract_no, r.due_date, r.installment_no"
    ))
    .bind(customer_id)
    .fetch_all(conn)
    .await
}

/// The customer's contracts.
pub(crate) async fn contracts_of_customer(
    conn: &mut PgConnection,
    customer_id: Uuid,
) -> Result<Vec<ContractRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, contract_no, escrow_account FROM contracts WHERE customer_id = $1 ORDER BY contract_no",
    )
    .bind(customer_id)
    .fetch_all(conn)
    .await
}
