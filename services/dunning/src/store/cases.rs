//! SQL of the read side of cases and the action log.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

/// A case as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseRow {
    /// The case.
    pub id: Uuid,
    /// `active`, `paid`, `escalated`, `amended`.
    pub status: String,
    /// The last step's code.
    pub current_step: String,
    /// Grade when opened or last changed.
    pub grade: String,
    /// Opened on.
    pub opened_on: NaiveDate,
    /// The debtor.
    pub customer_id: Uuid,
    /// Hold reason code, if holding.
    pub hold_reason: Option<String>,
    /// Since when.
    pub held_since: Option<NaiveDate>,
    /// Policy id.
    pub policy_id: String,
    /// Policy version.
    pub policy_version: i32,
}

/// Cases of one customer or all, inside the scope `(mode, value)` of
/// `kit::auth::owners::params`, after `(opened_on, id)`.
pub async fn list(
    conn: &mut PgConnection,
    customer_id: Option<Uuid>,
    scope: (&str, &str),
    after: Option<(NaiveDate, Uuid)>,
    limit: i64,
) -> Result<Vec<CaseRow>, sqlx::Error> {
    type Row = (
        Uuid,
        String,
        String,
        String,
        NaiveDate,
        Uuid,
        Option<String>,
        Option<NaiveDate>,
        String,
        i32,
    );
    let (after_date, after_id) = after.unzip();
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT id, status, current_step, grade, opened_on, customer_id, hold_reason, held_since,
                policy_id, policy_version
         FROM cases
         WHERE ($1::UUID IS NULL OR customer_id = $1)
           AND ($2::date IS NULL OR (opened_on, id) > ($2, $3))
           AND {}
         ORDER BY opened_on, id LIMIT $4",
        kit::auth::owners::visible_customers("customer_id", 5, 6)
    )))
    .bind(customer_id)
    .bind(after_date)
    .bind(after_id)
    .bind(limit)
    .bind(scope.0)
    .bind(scope.1)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| CaseRow {
            id: r.0,
            status: r.1,
            current_step: r.2,
            grade: r.3,
            opened_on: r.4,
            customer_id: r.5,
            hold_reason: r.6,
            held_since: r.7,
            policy_id: r.8,
            policy_version: r.9,
        })
        .collect())
}

/// An item of a case as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemRow {
    /// The receivable.
    pub receivable_id: Uuid,
    /// Contract number.
    pub contract_no: String,
    /// Due date.
    pub due_date: NaiveDate,
    /// Days overdue at the last event.
    pub days_overdue: i32,
    /// Owed but the late fee.
    pub open_amount: Decimal,
    /// Currency.
    pub currency: String,
    /// `open`, `paid`, `escalated`, `deferred`, `amended`.
    pub status: String,
    /// Late fee owed.
    pub late_fee: Decimal,
}

/// The items of a case, oldest first.
pub async fn items(conn: &mut PgConnection, case_id: Uuid) -> Result<Vec<ItemRow>, sqlx::Error> {
    type Row = (
        Uuid,
        String,
        NaiveDate,
        i32,
        Decimal,
        String,
        String,
        Decimal,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT receivable_id, contract_no, due_date, days_overdue, open_amount, currency, status, late_fee
         FROM case_items WHERE case_id = $1 ORDER BY due_date, receivable_id",
    )
    .bind(case_id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ItemRow {
            receivable_id: r.0,
            contract_no: r.1,
            due_date: r.2,
            days_overdue: r.3,
            open_amount: r.4,
            currency: r.5.trim().to_owned(),
            status: r.6,
            late_fee: r.7,
        })
        .collect())
}

/// The customer of a case.
pub async fn customer_of(
    conn: &mut PgConnection,
    case_id: Uuid,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar("SELECT customer_id FROM cases WHERE id = $1")
        .bind(case_id)
        .fetch_optional(conn)
        .await
}

/// An action as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionRow {
    /// The action.
    pub id: Uuid,
    /// Step code, or `stopped`.
    pub step: String,
    /// Covered receivables.
    pub receivable_ids: Vec<Uuid>,
    /// Most days overdue.
    pub days_overdue: i32,
    /// Business date.
    pub business_date: NaiveDate,
    /// For people.
    pub detail: String,
    /// Recorded at.
    pub recorded_at: DateTime<Utc>,
    /// Policy id ("" for records not made by the ladder).
    pub policy_id: String,
    /// Policy version.
    pub policy_version: i32,
    /// Channel text.
    pub channel: Option<String>,
    /// n-th time.
    pub occurrence: i32,
    /// Σ owed on the covered items, and currency.
    pub amount: Option<(Decimal, String)>,
    /// The notice issued with it.
    pub notice_id: Option<Uuid>,
}

/// The actions of a case in recording order, after `(recorded_at, id)`.
pub async fn actions(
    conn: &mut PgConnection,
    case_id: Uuid,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<ActionRow>, sqlx::Error> {
    type Row = (
        Uuid,
        String,
        Vec<Uuid>,
        i32,
        NaiveDate,
        String,
        DateTime<Utc>,
        String,
        i32,
        Option<String>,
        i32,
        Option<Decimal>,
        Option<String>,
        Option<Uuid>,
    );
    let (after_at, after_id) = after.unzip();
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, step, receivable_ids, days_overdue, business_date, detail, recorded_at,
                policy_id, policy_version, channel, occurrence, amount, currency, notice_id
         FROM actions WHERE case_id = $1 AND ($2::timestamptz IS NULL OR (recorded_at, id) > ($2, $3))
         ORDER BY recorded_at, id LIMIT $4",
    )
    .bind(case_id)
    .bind(after_at)
    .bind(after_id)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ActionRow {
            id: r.0,
            step: r.1,
            receivable_ids: r.2,
            days_overdue: r.3,
            business_date: r.4,
            detail: r.5,
            recorded_at: r.6,
            policy_id: r.7,
            policy_version: r.8,
            channel: r.9,
            occurrence: r.10,
            amount: r.11.zip(r.12.map(|c| c.trim().to_owned())),
            notice_id: r.13,
        })
        .collect())
}
