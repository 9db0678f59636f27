//! The ladder's SQL: the day's run (which date, how far), the debtors it goes through, their
//! open items and the steps taken, and what a step or a hold records.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

/// A day the ladder runs for, and where it got to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Day {
    /// The business date.
    pub date: NaiveDate,
    /// Overdue events contracts published for it.
    pub expected: i32,
    /// `waiting` (for events), `running`, `done`.
    pub status: String,
    /// The last debtor done, when running.
    pub after_customer: Option<Uuid>,
}

type DayRow = (NaiveDate, i32, String, Option<Uuid>);

fn day_of((date, expected, status, after_customer): DayRow) -> Day {
    Day {
        date,
        expected,
        status,
        after_customer,
    }
}

/// Contracts finished the cycle for `date` with `expected` overdue events. A repeat changes
/// nothing.
pub async fn cycle_completed(
    tx: &mut PgConnection,
    date: NaiveDate,
    expected: i32,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO ladder_days (business_date, expected, status) VALUES ($1, $2, 'waiting')
         ON CONFLICT (business_date) DO NOTHING",
    )
    .bind(date)
    .bind(expected)
    .execute(tx)
    .await
    .map(drop)
}

/// One overdue event of `date` seen (once per receivable).
pub async fn overdue_seen(
    tx: &mut PgConnection,
    date: NaiveDate,
    receivable_id: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO overdue_seen (business_date, receivable_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(date)
    .bind(receivable_id)
    .execute(tx)
    .await
    .map(drop)
}

/// The earliest day not done, if any.
pub async fn next_day(conn: &mut PgConnection) -> Result<Option<Day>, sqlx::Error> {
    let row: Option<DayRow> = sqlx::query_as(
        "SELECT business_date, expected, status, after_customer FROM ladder_days
         WHERE status <> 'done' ORDER BY business_date LIMIT 1",
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(day_of))
}

/// How many overdue events of `date` dunning has seen.
pub async fn seen(conn: &mut PgConnection, date: NaiveDate) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM overdue_seen WHERE business_date = $1")
        .bind(date)
        .fetch_one(conn)
        .await
}

/// Locks the day's row for one chunk of the run (a second replica waits, then sees how far
/// the first got) and returns it.
pub async fn lock_day(tx: &mut PgConnection, date: NaiveDate) -> Result<Option<Day>, sqlx::Error> {
    let row: Option<DayRow> = sqlx::query_as(
        "SELECT business_date, expected, status, after_customer FROM ladder_days
         WHERE business_date = $1 FOR UPDATE",
    )
    .bind(date)
    .fetch_optional(tx)
    .await?;
    Ok(row.map(day_of))
}

/// How long the day has waited for its events, in seconds (a duration, never money).
pub async fn waited(conn: &mut PgConnection, date: NaiveDate) -> Result<f64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COALESCE(EXTRACT(EPOCH FROM now() - created_at)::float8, 0) FROM ladder_days WHERE business_date = $1",
    )
    .bind(date)
    .fetch_one(conn)
    .await
}

/// The run of `date` starts (all its events are in).
pub async fn start(conn: &mut PgConnection, date: NaiveDate) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE ladder_days SET status = 'running', started_at = now()
         WHERE business_date = $1 AND status = 'waiting'",
    )
    .bind(date)
    .execute(conn)
    .await
    .map(drop)
}

/// The next `limit` debtors with an active case after `after`, in customer order, locking
/// their cases.
pub async fn debtors(
    tx: &mut PgConnection,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Case>, sqlx::Error> {
    type Row = (
        Uuid,
        Uuid,
        String,
        String,
        NaiveDate,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<i32>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT c.id, c.customer_id, COALESCE(g.grade, c.grade), c.current_step, c.opened_on, c.hold_reason,
                d.segment, d.occupancy, c.escalate_above
         FROM cases c LEFT JOIN customer_grades g ON g.customer_id = c.customer_id
              LEFT JOIN debtors d ON d.customer_id = c.customer_id
         WHERE c.status = 'active' AND ($1::uuid IS NULL OR c.customer_id > $1)
         ORDER BY c.customer_id LIMIT $2
         FOR UPDATE OF c",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(
                case_id,
                customer_id,
                grade,
                current_step,
                opened_on,
                hold,
                segment,
                occupancy,
                escalate_above,
            )| {
                Case {
                    escalate_above,
                    case_id,
                    customer_id,
                    grade,
                    current_step,
                    opened_on,
                    hold,
                    segment,
                    occupancy,
                }
            },
        )
        .collect())
}

/// An active case as the run sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// The case.
    pub case_id: Uuid,
    /// The debtor.
    pub customer_id: Uuid,
    /// The debtor's grade.
    pub grade: String,
    /// The last step's code.
    pub current_step: String,
    /// Opened on.
    pub opened_on: NaiveDate,
    /// The hold it is in, if any.
    pub hold: Option<String>,
    /// The segment of the debtor's unit, if billed (R-D7).
    pub segment: Option<String>,
    /// Its occupancy, if billed.
    pub occupancy: Option<String>,
    /// After a broken repayment plan: only a step more severe than this (R-D6).
    pub escalate_above: Option<i32>,
}

/// An open item of a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenItem {
    /// The case.
    pub case_id: Uuid,
    /// The receivable.
    pub receivable_id: Uuid,
    /// Its contract.
    pub contract_id: Uuid,
    /// Contract number.
    pub contract_no: String,
    /// Due date.
    pub due_date: NaiveDate,
    /// Currency.
    pub currency: String,
    /// Owed but the late fee (principal, interest, costs).
    pub open_amount: Decimal,
    /// Late fee owed.
    pub late_fee: Decimal,
    /// Principal owed (of `open_amount`).
    pub principal: Decimal,
    /// Days overdue at the last event.
    pub days_overdue: i32,
    /// The charge type's proto name (e.g. `CHARGE_TYPE_PROPERTY_FEE`), empty if unknown.
    pub charge_type: String,
    /// The late-fee terms' name from the contract (R-D3), empty if none.
    pub late_fee_terms: String,
}

impl OpenItem {
    /// Everything owed on it.
    #[must_use]
    pub fn owed(&self) -> Decimal {
        self.open_amount + self.late_fee
    }
}

/// The open items of `cases`, by case, oldest first.
pub async fn open_items(
    tx: &mut PgConnection,
    cases: &[Uuid],
) -> Result<Vec<OpenItem>, sqlx::Error> {
    type Row = (
        Uuid,
        Uuid,
        Uuid,
        String,
        NaiveDate,
        String,
        Decimal,
        Decimal,
        Decimal,
        i32,
        String,
        String,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT case_id, receivable_id, contract_id, contract_no, due_date, currency, open_amount,
                late_fee, principal, days_overdue, charge_type, late_fee_terms
         FROM case_items WHERE case_id = ANY($1) AND status = 'open' AND dispute_id IS NULL AND plan_id IS NULL
         ORDER BY case_id, due_date, receivable_id",
    )
    .bind(cases)
    .fetch_all(tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(
                case_id,
                receivable_id,
                contract_id,
                contract_no,
                due_date,
                currency,
                open_amount,
                late_fee,
                principal,
                days_overdue,
                charge_type,
                late_fee_terms,
            )| OpenItem {
                case_id,
                receivable_id,
                contract_id,
                contract_no,
                due_date,
                currency: currency.trim().to_owned(),
                open_amount,
                late_fee,
                principal,
                days_overdue,
                charge_type,
                late_fee_terms,
            },
        )
        .collect())
}

/// A step taken in a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TakenRow {
    /// The case.
    pub case_id: Uuid,
    /// Step code.
    pub step: String,
    /// Severity when taken.
    pub severity: i32,
    /// Business date.
    pub on: NaiveDate,
}

/// The steps taken in `cases` (not the "stopped" records).
pub async fn taken(tx: &mut PgConnection, cases: &[Uuid]) -> Result<Vec<TakenRow>, sqlx::Error> {
    let rows: Vec<(Uuid, String, i32, NaiveDate)> = sqlx::query_as(
        "SELECT case_id, step, severity, business_date FROM actions
         WHERE case_id = ANY($1) AND step <> 'stopped'",
    )
    .bind(cases)
    .fetch_all(tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(case_id, step, severity, on)| TakenRow {
            case_id,
            step,
            severity,
            on,
        })
        .collect())
}

/// The case holds for `reason` from `date` (recorded once, when the hold starts or its reason
/// changes).
pub async fn hold(
    tx: &mut PgConnection,
    case_id: Uuid,
    date: NaiveDate,
    reason: &str,
    step: &str,
) -> Result<bool, sqlx::Error> {
    let changed = sqlx::query(
        "UPDATE cases SET hold_reason = $2, held_since = $3
         WHERE id = $1 AND hold_reason IS DISTINCT FROM $2",
    )
    .bind(case_id)
    .bind(reason)
    .bind(date)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        > 0;
    if changed {
        sqlx::query(
            "INSERT INTO case_holds (case_id, business_date, reason, step) VALUES ($1, $2, $3, $4)
             ON CONFLICT (case_id, business_date) DO UPDATE SET reason = EXCLUDED.reason, step = EXCLUDED.step",
        )
        .bind(case_id)
        .bind(date)
        .bind(reason)
        .bind(step)
        .execute(&mut *tx)
        .await?;
    }
    Ok(changed)
}

/// A step was taken: the case leaves any hold and records the step and policy.
pub async fn stepped(
    tx: &mut PgConnection,
    case_id: Uuid,
    step: &str,
    policy_id: &str,
    policy_version: i32,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE cases SET current_step = $2, policy_id = $3, policy_version = $4,
                          hold_reason = NULL, held_since = NULL
         WHERE id = $1",
    )
    .bind(case_id)
    .bind(step)
    .bind(policy_id)
    .bind(policy_version)
    .execute(tx)
    .await
    .map(drop)
}

/// The run of `date` got through `customer_id`, with these counts.
pub async fn progress(
    tx: &mut PgConnection,
    date: NaiveDate,
    customer_id: Uuid,
    steps: i32,
    holds: i32,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE ladder_days SET after_customer = $2, steps = steps + $3, holds = holds + $4
         WHERE business_date = $1",
    )
    .bind(date)
    .bind(customer_id)
    .bind(steps)
    .bind(holds)
    .execute(tx)
    .await
    .map(drop)
}

/// The run of `date` is done; its seen-events are no longer needed. Returns the counts.
pub async fn finish(tx: &mut PgConnection, date: NaiveDate) -> Result<(i32, i32), sqlx::Error> {
    sqlx::query("DELETE FROM overdue_seen WHERE business_date = $1")
        .bind(date)
        .execute(&mut *tx)
        .await?;
    sqlx::query_as(
        "UPDATE ladder_days SET status = 'done', finished_at = now() WHERE business_date = $1
         RETURNING steps, holds",
    )
    .bind(date)
    .fetch_one(tx)
    .await
}

/// A step to record in the action log.
#[derive(Debug, Clone)]
pub struct StepRecord<'a> {
    /// The action's id.
    pub action_id: Uuid,
    /// The case.
    pub case_id: Uuid,
    /// Step code.
    pub step: &'a str,
    /// Covered receivables.
    pub receivable_ids: &'a [Uuid],
    /// Most days overdue among them.
    pub days: i32,
    /// Business date.
    pub date: NaiveDate,
    /// What was done, for people.
    pub detail: &'a str,
    /// Policy id.
    pub policy_id: &'a str,
    /// Policy version.
    pub policy_version: i32,
    /// Channel, as text.
    pub channel: Option<&'a str>,
    /// The n-th time.
    pub occurrence: i32,
    /// Severity.
    pub severity: i32,
    /// Σ owed on the covered items.
    pub amount: Option<(Decimal, &'a str)>,
    /// The notice issued with it.
    pub notice_id: Option<Uuid>,
}

/// Appends one action.
pub async fn record_action(tx: &mut PgConnection, r: &StepRecord<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO actions (id, case_id, step, receivable_ids, days_overdue, business_date, detail,
                              policy_id, policy_version, channel, occurrence, severity, amount, currency, notice_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(r.action_id)
    .bind(r.case_id)
    .bind(r.step)
    .bind(r.receivable_ids)
    .bind(r.days)
    .bind(r.date)
    .bind(r.detail)
    .bind(r.policy_id)
    .bind(r.policy_version)
    .bind(r.channel)
    .bind(r.occurrence)
    .bind(r.severity)
    .bind(r.amount.map(|a| a.0))
    .bind(r.amount.map(|a| a.1))
    .bind(r.notice_id)
    .execute(tx)
    .await
    .map(drop)
}

/// Hands the case's open items to legal (R-L5: ordinary dunning stops for them).
pub async fn escalate(
    tx: &mut PgConnection,
    case_id: Uuid,
    date: NaiveDate,
    receivable_ids: &[Uuid],
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE cases SET status = 'escalated', closed_on = $2 WHERE id = $1")
        .bind(case_id)
        .bind(date)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE case_items SET status = 'escalated' WHERE case_id = $1 AND status = 'open'",
    )
    .bind(case_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO receivables_in_legal (receivable_id, case_id)
         SELECT unnest($1::uuid[]), $2 ON CONFLICT DO NOTHING",
    )
    .bind(receivable_ids)
    .bind(case_id)
    .execute(tx)
    .await
    .map(drop)
}

/// A receivable not yet overdue (R-D1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upcoming {
    /// The receivable.
    pub receivable_id: Uuid,
    /// The debtor.
    pub customer_id: Uuid,
    /// Contract number.
    pub contract_no: String,
    /// Due date.
    pub due_date: NaiveDate,
    /// Currency.
    pub currency: String,
    /// Open amount.
    pub open_amount: Decimal,
    /// Charge type's proto name.
    pub charge_type: String,
}

/// Records a scheduled or billed receivable (a repeat changes nothing).
pub async fn upcoming_scheduled(tx: &mut PgConnection, u: &Upcoming) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO upcoming (receivable_id, customer_id, contract_no, due_date, currency, open_amount, charge_type, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'open') ON CONFLICT (receivable_id) DO NOTHING",
    )
    .bind(u.receivable_id)
    .bind(u.customer_id)
    .bind(&u.contract_no)
    .bind(u.due_date)
    .bind(&u.currency)
    .bind(u.open_amount)
    .bind(&u.charge_type)
    .execute(tx)
    .await
    .map(drop)
}

/// What is still open on a receivable and when it is due (after a payment or amendment);
/// settled when nothing is.
pub async fn upcoming_changed(
    tx: &mut PgConnection,
    receivable_id: Uuid,
    due_date: Option<NaiveDate>,
    open_amount: Decimal,
    settled: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE upcoming SET open_amount = $2, due_date = COALESCE($3, due_date),
                             status = CASE WHEN $4 THEN 'settled' ELSE 'open' END
         WHERE receivable_id = $1",
    )
    .bind(receivable_id)
    .bind(open_amount)
    .bind(due_date)
    .bind(settled)
    .execute(tx)
    .await
    .map(drop)
}

/// Open receivables due in `from..=to` of debtors without an active case, customers after
/// `after`, at most `limit` customers' worth, by customer and due date.
pub async fn upcoming_due(
    tx: &mut PgConnection,
    from: NaiveDate,
    to: NaiveDate,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Upcoming>, sqlx::Error> {
    type Row = (Uuid, Uuid, String, NaiveDate, String, Decimal, String);
    let rows: Vec<Row> = sqlx::query_as(
        "WITH debtors AS (
             SELECT DISTINCT u.customer_id FROM upcoming u
             WHERE u.status = 'open' AND u.due_date BETWEEN $1 AND $2
               AND ($3::uuid IS NULL OR u.customer_id > $3)
               AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.customer_id = u.customer_id AND c.status = 'active')
             ORDER BY u.customer_id LIMIT $4)
         SELECT u.receivable_id, u.customer_id, u.contract_no, u.due_date, u.currency, u.open_amount, u.charge_type
         FROM upcoming u JOIN debtors d ON d.customer_id = u.customer_id
         WHERE u.status = 'open' AND u.due_date BETWEEN $1 AND $2 AND u.open_amount > 0
         ORDER BY u.customer_id, u.due_date, u.receivable_id",
    )
    .bind(from)
    .bind(to)
    .bind(after)
    .bind(limit)
    .fetch_all(tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Upcoming {
            receivable_id: r.0,
            customer_id: r.1,
            contract_no: r.2,
            due_date: r.3,
            currency: r.4.trim().to_owned(),
            open_amount: r.5,
            charge_type: r.6,
        })
        .collect())
}

/// The pre-due reminders sent to `customer_id` for items due on `due_date`.
pub async fn reminders_sent(
    tx: &mut PgConnection,
    customer_id: Uuid,
    due_date: NaiveDate,
) -> Result<Vec<(String, i32, NaiveDate)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT step, severity, business_date FROM reminders_sent WHERE customer_id = $1 AND due_date = $2",
    )
    .bind(customer_id)
    .bind(due_date)
    .fetch_all(tx)
    .await
}

/// Records a pre-due reminder; false if it was recorded already.
#[allow(clippy::too_many_arguments)]
pub async fn reminder_sent(
    tx: &mut PgConnection,
    customer_id: Uuid,
    due_date: NaiveDate,
    step: &str,
    severity: i32,
    date: NaiveDate,
    policy_id: &str,
    policy_version: i32,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "INSERT INTO reminders_sent (customer_id, due_date, step, severity, business_date, policy_id, policy_version)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
    )
    .bind(customer_id)
    .bind(due_date)
    .bind(step)
    .bind(severity)
    .bind(date)
    .bind(policy_id)
    .bind(policy_version)
    .execute(tx)
    .await?
    .rows_affected()
        > 0)
}

/// The latest business day dunning has heard of (its last daily cycle), if any.
pub async fn latest_day(conn: &mut PgConnection) -> Result<Option<NaiveDate>, sqlx::Error> {
    sqlx::query_scalar("SELECT max(business_date) FROM ladder_days")
        .fetch_one(conn)
        .await
}
