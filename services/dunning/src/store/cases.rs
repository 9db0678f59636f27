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

/// The customer's grade as scoring last said (empty before the first).
pub async fn grade_of(tx: &mut PgConnection, customer_id: Uuid) -> Result<String, sqlx::Error> {
    Ok(
        sqlx::query_scalar("SELECT grade FROM customer_grades WHERE customer_id = $1")
            .bind(customer_id)
            .fetch_optional(tx)
            .await?
            .unwrap_or_default(),
    )
}

/// Records a new grade, also on the customer's active case.
pub async fn set_grade(
    tx: &mut PgConnection,
    customer_id: Uuid,
    grade: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO customer_grades (customer_id, grade) VALUES ($1, $2)
         ON CONFLICT (customer_id) DO UPDATE SET grade = EXCLUDED.grade",
    )
    .bind(customer_id)
    .bind(grade)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE cases SET grade = $2 WHERE customer_id = $1 AND status = 'active'")
        .bind(customer_id)
        .bind(grade)
        .execute(tx)
        .await
        .map(drop)
}

/// [`set_grade`] for a run of grade changes in two statements; `grades` names each
/// customer once (the last grade of the run, as one by one would leave it).
pub async fn set_grades(tx: &mut PgConnection, grades: &[(Uuid, &str)]) -> Result<(), sqlx::Error> {
    let customers: Vec<Uuid> = grades.iter().map(|g| g.0).collect();
    let values: Vec<&str> = grades.iter().map(|g| g.1).collect();
    sqlx::query(
        "INSERT INTO customer_grades (customer_id, grade)
         SELECT * FROM UNNEST($1::uuid[], $2::text[])
         ON CONFLICT (customer_id) DO UPDATE SET grade = EXCLUDED.grade",
    )
    .bind(&customers)
    .bind(&values)
    .execute(&mut *tx)
    .await?;
    // The cases locked in customer order first, as the day run and a run of payments lock
    // them: an UPDATE's own order is the plan's, and two orders deadlock.
    sqlx::query(
        "SELECT id FROM cases WHERE customer_id = ANY($1) AND status = 'active'
         ORDER BY customer_id FOR UPDATE",
    )
    .bind(&customers)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE cases c SET grade = u.g FROM UNNEST($1::uuid[], $2::text[]) AS u(c, g)
         WHERE c.customer_id = u.c AND c.status = 'active'",
    )
    .bind(&customers)
    .bind(&values)
    .execute(tx)
    .await
    .map(drop)
}

/// Whether the receivable was handed to legal (R-L5).
pub async fn in_legal(tx: &mut PgConnection, receivable_id: Uuid) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query_scalar::<_, Uuid>(
        "SELECT case_id FROM receivables_in_legal WHERE receivable_id = $1",
    )
    .bind(receivable_id)
    .fetch_optional(tx)
    .await?
    .is_some())
}

/// The customer's one active case, opened on `on` if there is none (R-D3), locked.
pub async fn open_case(
    tx: &mut PgConnection,
    customer_id: Uuid,
    grade: &str,
    on: NaiveDate,
) -> Result<Uuid, sqlx::Error> {
    sqlx::query(
        "INSERT INTO cases (id, customer_id, status, grade, opened_on) VALUES ($1, $2, 'active', $3, $4)
         ON CONFLICT (customer_id) WHERE status = 'active' DO NOTHING",
    )
    .bind(Uuid::now_v7())
    .bind(customer_id)
    .bind(grade)
    .bind(on)
    .execute(&mut *tx)
    .await?;
    sqlx::query_scalar(
        "SELECT id FROM cases WHERE customer_id = $1 AND status = 'active' FOR UPDATE",
    )
    .bind(customer_id)
    .fetch_one(tx)
    .await
}

/// The customer's active case and the day it was opened, locked.
pub async fn active_case(
    tx: &mut PgConnection,
    customer_id: Uuid,
) -> Result<Option<(Uuid, NaiveDate)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, opened_on FROM cases WHERE customer_id = $1 AND status = 'active' FOR UPDATE",
    )
    .bind(customer_id)
    .fetch_optional(tx)
    .await
}

/// The active case holding the open item, and its days overdue, locked.
pub async fn case_of_open_item(
    tx: &mut PgConnection,
    customer_id: Uuid,
    receivable_id: Uuid,
) -> Result<Option<(Uuid, i32)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.id, i.days_overdue FROM cases c JOIN case_items i ON i.case_id = c.id
         WHERE c.customer_id = $1 AND c.status = 'active' AND i.receivable_id = $2 AND i.status = 'open'
         FOR UPDATE OF c",
    )
    .bind(customer_id)
    .bind(receivable_id)
    .fetch_optional(tx)
    .await
}

/// What is owed on an item after a payment; `paid` when nothing is.
pub async fn item_paid(
    tx: &mut PgConnection,
    case_id: Uuid,
    receivable_id: Uuid,
    open: Decimal,
    late_fee: Option<Decimal>,
    paid: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE case_items SET open_amount = $3, status = $4, late_fee = COALESCE($5, late_fee)
         WHERE case_id = $1 AND receivable_id = $2",
    )
    .bind(case_id)
    .bind(receivable_id)
    .bind(open)
    .bind(if paid { "paid" } else { "open" })
    .bind(late_fee)
    .execute(tx)
    .await
    .map(drop)
}

/// An item an approved amendment changed (R-C8): its new due date and amounts, and whether it
/// stays `open`, is `deferred` or `amended` away. Only an open item changes; returns whether
/// it did.
#[allow(clippy::too_many_arguments)]
pub async fn item_amended(
    tx: &mut PgConnection,
    case_id: Uuid,
    receivable_id: Uuid,
    due: NaiveDate,
    open: Decimal,
    status: &str,
    late_fee: Option<Decimal>,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE case_items SET due_date = $3, open_amount = $4, status = $5,
                days_overdue = CASE WHEN $5 = 'open' THEN days_overdue ELSE 0 END,
                late_fee = COALESCE($6, late_fee)
         WHERE case_id = $1 AND receivable_id = $2 AND status = 'open'",
    )
    .bind(case_id)
    .bind(receivable_id)
    .bind(due)
    .bind(open)
    .bind(status)
    .bind(late_fee)
    .execute(tx)
    .await?
    .rows_affected()
        > 0)
}

/// Closes the case as `status` (`paid`, `amended`) on `on` when no item is open any more;
/// returns whether it closed.
pub async fn close_if_settled(
    tx: &mut PgConnection,
    case_id: Uuid,
    status: &str,
    on: NaiveDate,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE cases SET status = $2, closed_on = $3
         WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM case_items WHERE case_id = $1 AND status = 'open')",
    )
    .bind(case_id)
    .bind(status)
    .bind(on)
    .execute(tx)
    .await?
    .rows_affected()
        > 0)
}

/// Appends a record to the action log that no policy step made (a stop, an amendment).
#[allow(clippy::too_many_arguments)]
pub async fn record(
    tx: &mut PgConnection,
    action_id: Uuid,
    case_id: Uuid,
    step: &str,
    receivable_ids: &[Uuid],
    days: i32,
    on: NaiveDate,
    detail: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO actions (id, case_id, step, receivable_ids, days_overdue, business_date, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(action_id)
    .bind(case_id)
    .bind(step)
    .bind(receivable_ids)
    .bind(days)
    .bind(on)
    .bind(detail)
    .execute(tx)
    .await
    .map(drop)
}

/// The last step's code of a case.
pub async fn current_step(
    conn: &mut PgConnection,
    case_id: Uuid,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT current_step FROM cases WHERE id = $1")
        .bind(case_id)
        .fetch_optional(conn)
        .await
}
