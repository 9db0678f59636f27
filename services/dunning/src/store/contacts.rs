//! SQL of debtors' contact details, written notices, outbound messages and collectors'
//! tasks (issue 13 items 2-4).

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

/// A debtor's contact details and preferences.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Debtor {
    /// The customer.
    pub customer_id: Uuid,
    /// Name on notices.
    pub name: String,
    /// IANA time zone.
    pub time_zone: String,
    /// `zh-CN` or `en`.
    pub language: String,
    /// Conduct profile id.
    pub conduct_profile: String,
    /// Unit, from the contract.
    pub unit: String,
    /// Contact points: channel, address, recipient (`debtor` / `designated_contact`).
    pub contacts: Vec<(String, String, String)>,
}

impl Debtor {
    /// How messages and notices address the debtor: their name, or "客户" / "customer".
    #[must_use]
    pub fn addressed_as(&self, en: bool) -> String {
        match (self.name.is_empty(), en) {
            (false, _) => self.name.clone(),
            (true, false) => "客户".to_owned(),
            (true, true) => "customer".to_owned(),
        }
    }
}

/// The debtor's details; defaults (Asia/Shanghai, zh-CN, cn, no contacts) when none are on
/// file.
pub async fn debtor(conn: &mut PgConnection, customer_id: Uuid) -> Result<Debtor, sqlx::Error> {
    let row: Option<(String, String, String, String, String)> = sqlx::query_as(
        "SELECT name, time_zone, language, conduct_profile, unit FROM debtors WHERE customer_id = $1",
    )
    .bind(customer_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((name, time_zone, language, conduct_profile, unit)) = row else {
        return Ok(Debtor {
            customer_id,
            time_zone: "Asia/Shanghai".to_owned(),
            language: "zh-CN".to_owned(),
            conduct_profile: "cn".to_owned(),
            ..Debtor::default()
        });
    };
    let contacts = sqlx::query_as(
        "SELECT channel, address, recipient FROM debtor_contacts WHERE customer_id = $1 ORDER BY position",
    )
    .bind(customer_id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(Debtor {
        customer_id,
        name,
        time_zone,
        language,
        conduct_profile,
        unit,
        contacts,
    })
}

/// Name and unit from a signed contract (kept when already set).
pub async fn seen_contract(
    tx: &mut PgConnection,
    customer_id: Uuid,
    name: &str,
    unit: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO debtors (customer_id, name, unit) VALUES ($1, $2, $3)
         ON CONFLICT (customer_id) DO UPDATE
           SET name = CASE WHEN debtors.name = '' THEN EXCLUDED.name ELSE debtors.name END,
               unit = CASE WHEN debtors.unit = '' THEN EXCLUDED.unit ELSE debtors.unit END",
    )
    .bind(customer_id)
    .bind(name)
    .bind(unit)
    .execute(tx)
    .await
    .map(drop)
}

/// The kind and occupancy of the debtor's unit, from billing (R-C3, R-D7).
pub async fn seen_unit(
    tx: &mut PgConnection,
    customer_id: Uuid,
    segment: Option<&str>,
    occupancy: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO debtors (customer_id, segment, occupancy) VALUES ($1, $2, $3)
         ON CONFLICT (customer_id) DO UPDATE
           SET segment = COALESCE(EXCLUDED.segment, debtors.segment),
               occupancy = COALESCE(EXCLUDED.occupancy, debtors.occupancy)",
    )
    .bind(customer_id)
    .bind(segment)
    .bind(occupancy)
    .execute(tx)
    .await
    .map(drop)
}

/// Replaces the debtor's details.
pub async fn set_debtor(tx: &mut PgConnection, d: &Debtor) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO debtors (customer_id, name, time_zone, language, conduct_profile)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (customer_id) DO UPDATE
           SET name = CASE WHEN EXCLUDED.name = '' THEN debtors.name ELSE EXCLUDED.name END,
               time_zone = EXCLUDED.time_zone, language = EXCLUDED.language,
               conduct_profile = EXCLUDED.conduct_profile, updated_at = now()",
    )
    .bind(d.customer_id)
    .bind(&d.name)
    .bind(&d.time_zone)
    .bind(&d.language)
    .bind(&d.conduct_profile)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM debtor_contacts WHERE customer_id = $1")
        .bind(d.customer_id)
        .execute(&mut *tx)
        .await?;
    for (position, (channel, address, recipient)) in d.contacts.iter().enumerate() {
        sqlx::query(
            "INSERT INTO debtor_contacts (customer_id, position, channel, address, recipient)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(d.customer_id)
        .bind(i32::try_from(position).unwrap_or(i32::MAX))
        .bind(channel)
        .bind(address)
        .bind(recipient)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// A written notice as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeRow {
    /// Id.
    pub id: Uuid,
    /// Printed number.
    pub number: String,
    /// Case.
    pub case_id: Uuid,
    /// Debtor.
    pub customer_id: Uuid,
    /// The action that issued it.
    pub action_id: Uuid,
    /// Step code.
    pub step: String,
    /// n-th of the step.
    pub occurrence: i32,
    /// Business date.
    pub business_date: NaiveDate,
    /// Currency.
    pub currency: String,
    /// Total owed, fee included.
    pub total: Decimal,
    /// Notice fee.
    pub fee: Decimal,
    /// Pay by.
    pub pay_by: NaiveDate,
    /// Language.
    pub language: String,
    /// SHA-256 of the PDF.
    pub sha256: Vec<u8>,
}

/// The next notice number of `year` (`DN-2026-000001`): gap-free is not required of notices,
/// unique is.
pub async fn next_notice_number(tx: &mut PgConnection, year: i32) -> Result<String, sqlx::Error> {
    let n: i64 = sqlx::query_scalar("SELECT nextval('notice_numbers')")
        .fetch_one(tx)
        .await?;
    Ok(format!("DN-{year}-{n:06}"))
}

/// Stores a notice with its documents.
pub async fn insert_notice(
    tx: &mut PgConnection,
    n: &NoticeRow,
    pdf: &[u8],
    html: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO notices (id, number, case_id, customer_id, action_id, step, occurrence, business_date,
                              currency, total, fee, pay_by, language, sha256, pdf, html)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    )
    .bind(n.id)
    .bind(&n.number)
    .bind(n.case_id)
    .bind(n.customer_id)
    .bind(n.action_id)
    .bind(&n.step)
    .bind(n.occurrence)
    .bind(n.business_date)
    .bind(&n.currency)
    .bind(n.total)
    .bind(n.fee)
    .bind(n.pay_by)
    .bind(&n.language)
    .bind(&n.sha256)
    .bind(pdf)
    .bind(html)
    .execute(tx)
    .await
    .map(drop)
}

type NoticeSqlRow = (
    Uuid,
    String,
    Uuid,
    Uuid,
    Uuid,
    String,
    i32,
    NaiveDate,
    String,
    Decimal,
    Decimal,
    NaiveDate,
    String,
    Vec<u8>,
);

fn notice_of(r: NoticeSqlRow) -> NoticeRow {
    NoticeRow {
        id: r.0,
        number: r.1,
        case_id: r.2,
        customer_id: r.3,
        action_id: r.4,
        step: r.5,
        occurrence: r.6,
        business_date: r.7,
        currency: r.8.trim().to_owned(),
        total: r.9,
        fee: r.10,
        pay_by: r.11,
        language: r.12,
        sha256: r.13,
    }
}

const NOTICE_COLUMNS: &str = "id, number, case_id, customer_id, action_id, step, occurrence, business_date, currency, total, fee, pay_by, language, sha256";

/// A notice and its PDF and HTML.
pub async fn notice(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<(NoticeRow, Vec<u8>, String)>, sqlx::Error> {
    let row: Option<(Vec<u8>, String)> =
        sqlx::query_as("SELECT pdf, html FROM notices WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    let Some((pdf, html)) = row else {
        return Ok(None);
    };
    let meta: NoticeSqlRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {NOTICE_COLUMNS} FROM notices WHERE id = $1"
    )))
    .bind(id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Some((notice_of(meta), pdf, html)))
}

/// The debtor's notices, newest last, after `after` (created_at, id).
pub async fn notices(
    conn: &mut PgConnection,
    customer_id: Uuid,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<(NoticeRow, DateTime<Utc>)>, sqlx::Error> {
    let (at, id) = after.unzip();
    let rows: Vec<(Uuid, DateTime<Utc>)> = sqlx::query_as(
        "SELECT id, created_at FROM notices WHERE customer_id = $1
           AND ($2::timestamptz IS NULL OR (created_at, id) > ($2, $3))
         ORDER BY created_at, id LIMIT $4",
    )
    .bind(customer_id)
    .bind(at)
    .bind(id)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for (id, created) in rows {
        let meta: NoticeSqlRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {NOTICE_COLUMNS} FROM notices WHERE id = $1"
        )))
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
        out.push((notice_of(meta), created));
    }
    Ok(out)
}

/// An outbound message.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MessageRow {
    /// Id.
    pub id: Uuid,
    /// Debtor.
    pub customer_id: Uuid,
    /// Case, if any.
    pub case_id: Option<Uuid>,
    /// Channel text.
    pub channel: String,
    /// Address in clear (sent to the channel; never shown or logged in clear).
    pub address: String,
    /// Template (step code).
    pub template: String,
    /// Language.
    pub language: String,
    /// Subject.
    pub subject: String,
    /// Body.
    pub body: String,
    /// Notice carried.
    pub notice_id: Option<Uuid>,
    /// First asked-for time.
    pub requested_at: DateTime<Utc>,
    /// Due after the conduct check.
    pub due_at: DateTime<Utc>,
    /// Conduct reason it was moved for.
    pub refused_for: Option<String>,
    /// scheduled | delivered | failed.
    pub status: String,
    /// Attempts made.
    pub attempts: i32,
    /// Failure text.
    pub failure: String,
    /// "system" or the principal.
    pub requested_by: String,
    /// Contact-log entry.
    pub contact_log_seq: Option<i64>,
}

const MESSAGE_COLUMNS: &str = "id, customer_id, case_id, channel, address, template, language, subject, body, notice_id, requested_at, due_at, refused_for, status, attempts, failure, requested_by, contact_log_seq";

type MessageSqlRow = MessageRow;

fn message_of(r: MessageSqlRow) -> MessageRow {
    r
}

/// Stores a new message; with an idempotency key already used, returns the first one.
pub async fn insert_message(
    tx: &mut PgConnection,
    m: &MessageRow,
    idempotency_key: Option<&str>,
) -> Result<MessageRow, sqlx::Error> {
    if let Some(key) = idempotency_key
        && let Some(first) = message_by_key(&mut *tx, key).await?
    {
        return Ok(first);
    }
    sqlx::query(
        "INSERT INTO messages (id, idempotency_key, customer_id, case_id, channel, address, template, language,
                               subject, body, notice_id, requested_at, due_at, refused_for, status, attempts,
                               failure, requested_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
    )
    .bind(m.id)
    .bind(idempotency_key)
    .bind(m.customer_id)
    .bind(m.case_id)
    .bind(&m.channel)
    .bind(&m.address)
    .bind(&m.template)
    .bind(&m.language)
    .bind(&m.subject)
    .bind(&m.body)
    .bind(m.notice_id)
    .bind(m.requested_at)
    .bind(m.due_at)
    .bind(&m.refused_for)
    .bind(&m.status)
    .bind(m.attempts)
    .bind(&m.failure)
    .bind(&m.requested_by)
    .execute(tx)
    .await?;
    Ok(m.clone())
}

async fn message_by_key(
    conn: &mut PgConnection,
    key: &str,
) -> Result<Option<MessageRow>, sqlx::Error> {
    let row: Option<MessageSqlRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages WHERE idempotency_key = $1"
    )))
    .bind(key)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(message_of))
}

/// Scheduled messages due by `now`, locked for sending (others skip them).
pub async fn due_messages(
    tx: &mut PgConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<MessageRow>, sqlx::Error> {
    let rows: Vec<MessageSqlRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages WHERE status = 'scheduled' AND due_at <= $1
         ORDER BY due_at, id LIMIT $2 FOR UPDATE SKIP LOCKED"
    )))
    .bind(now)
    .bind(limit)
    .fetch_all(tx)
    .await?;
    Ok(rows.into_iter().map(message_of).collect())
}

/// The send's result.
#[allow(clippy::too_many_arguments)]
pub async fn message_sent(
    tx: &mut PgConnection,
    id: Uuid,
    status: &str,
    attempts: i32,
    failure: &str,
    contact_log_seq: Option<i64>,
    retry_at: Option<DateTime<Utc>>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE messages SET status = $2, attempts = attempts + $3, failure = $4, contact_log_seq = $5,
                             due_at = COALESCE($6, due_at)
         WHERE id = $1",
    )
    .bind(id)
    .bind(status)
    .bind(attempts)
    .bind(failure)
    .bind(contact_log_seq)
    .bind(retry_at)
    .execute(tx)
    .await
    .map(drop)
}

/// The debtor's messages, by due time.
pub async fn messages(
    conn: &mut PgConnection,
    customer_id: Uuid,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<MessageRow>, sqlx::Error> {
    let (at, id) = after.unzip();
    let rows: Vec<MessageSqlRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages WHERE customer_id = $1
           AND ($2::timestamptz IS NULL OR (due_at, id) > ($2, $3))
         ORDER BY due_at, id LIMIT $4"
    )))
    .bind(customer_id)
    .bind(at)
    .bind(id)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(message_of).collect())
}

/// Contacts of the debtor planned or made between `from` and `to` (messages not failed,
/// tasks), for the frequency caps: channel text and time.
pub async fn contacts_between(
    conn: &mut PgConnection,
    customer_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<(String, DateTime<Utc>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT channel, due_at FROM messages
           WHERE customer_id = $1 AND status <> 'failed' AND due_at BETWEEN $2 AND $3
         UNION ALL
         SELECT channel, COALESCE(completed_at, due_at) FROM tasks
           WHERE customer_id = $1 AND COALESCE(completed_at, due_at) BETWEEN $2 AND $3",
    )
    .bind(customer_id)
    .bind(from)
    .bind(to)
    .fetch_all(conn)
    .await
}

/// A collector's task.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TaskRow {
    /// Id.
    pub id: Uuid,
    /// Debtor.
    pub customer_id: Uuid,
    /// Case.
    pub case_id: Option<Uuid>,
    /// Channel text.
    pub channel: String,
    /// Step code or `manual`.
    pub step: String,
    /// Asked-for time.
    pub requested_at: DateTime<Utc>,
    /// Conduct-checked due time.
    pub due_at: DateTime<Utc>,
    /// Reason it was moved.
    pub refused_for: Option<String>,
    /// Who works it.
    pub assignee: String,
    /// open | done.
    pub status: String,
    /// Outcome text.
    pub outcome: Option<String>,
    /// Who completed it.
    pub completed_by: Option<String>,
    /// When it happened.
    pub completed_at: Option<DateTime<Utc>>,
    /// Note.
    pub note: String,
    /// Notice to deliver.
    pub notice_id: Option<Uuid>,
    /// Contact-log entry.
    pub contact_log_seq: Option<i64>,
    /// Who created it ("system" for the ladder).
    pub created_by: String,
}

const TASK_COLUMNS: &str = "id, customer_id, case_id, channel, step, requested_at, due_at, refused_for, assignee, status, outcome, completed_by, completed_at, note, notice_id, contact_log_seq, created_by";

type TaskSqlRow = TaskRow;

fn task_of(r: TaskSqlRow) -> TaskRow {
    r
}

/// Stores a new task; with an idempotency key already used, returns the first one.
pub async fn insert_task(
    tx: &mut PgConnection,
    t: &TaskRow,
    idempotency_key: Option<&str>,
) -> Result<TaskRow, sqlx::Error> {
    if let Some(key) = idempotency_key {
        let first: Option<TaskSqlRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {TASK_COLUMNS} FROM tasks WHERE idempotency_key = $1"
        )))
        .bind(key)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(first) = first {
            return Ok(task_of(first));
        }
    }
    sqlx::query(
        "INSERT INTO tasks (id, idempotency_key, customer_id, case_id, channel, step, requested_at, due_at,
                            refused_for, assignee, status, note, notice_id, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'open', $11, $12, $13)",
    )
    .bind(t.id)
    .bind(idempotency_key)
    .bind(t.customer_id)
    .bind(t.case_id)
    .bind(&t.channel)
    .bind(&t.step)
    .bind(t.requested_at)
    .bind(t.due_at)
    .bind(&t.refused_for)
    .bind(&t.assignee)
    .bind(&t.note)
    .bind(t.notice_id)
    .bind(&t.created_by)
    .execute(tx)
    .await?;
    Ok(t.clone())
}

/// One task, locked.
pub async fn task_for_update(
    tx: &mut PgConnection,
    id: Uuid,
) -> Result<Option<TaskRow>, sqlx::Error> {
    let row: Option<TaskSqlRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {TASK_COLUMNS} FROM tasks WHERE id = $1 FOR UPDATE"
    )))
    .bind(id)
    .fetch_optional(tx)
    .await?;
    Ok(row.map(task_of))
}

/// The task's outcome.
pub async fn complete_task(
    tx: &mut PgConnection,
    id: Uuid,
    outcome: &str,
    by: &str,
    at: DateTime<Utc>,
    note: &str,
    contact_log_seq: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE tasks SET status = 'done', outcome = $2, completed_by = $3, completed_at = $4,
                          note = CASE WHEN $5 = '' THEN note ELSE $5 END, contact_log_seq = $6
         WHERE id = $1",
    )
    .bind(id)
    .bind(outcome)
    .bind(by)
    .bind(at)
    .bind(note)
    .bind(contact_log_seq)
    .execute(tx)
    .await
    .map(drop)
}

/// Tasks by due time: one debtor's, or every debtor's the scope allows (`scope_mode`,
/// `scope_value` of kit::auth::owners::params).
pub async fn tasks(
    conn: &mut PgConnection,
    customer_id: Option<Uuid>,
    include_done: bool,
    scope: (&str, &str),
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<TaskRow>, sqlx::Error> {
    let (at, id) = after.unzip();
    let rows: Vec<TaskSqlRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {TASK_COLUMNS} FROM tasks
         WHERE ($1::uuid IS NULL OR customer_id = $1) AND ($2 OR status = 'open')
           AND ($3::timestamptz IS NULL OR (due_at, id) > ($3, $4))
           AND {}
         ORDER BY due_at, id LIMIT $5",
        kit::auth::owners::visible_customers("customer_id", 6, 7)
    )))
    .bind(customer_id)
    .bind(include_done)
    .bind(at)
    .bind(id)
    .bind(limit)
    .bind(scope.0)
    .bind(scope.1)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(task_of).collect())
}

/// The active (or latest) case of the debtor, if any.
pub async fn case_of(
    conn: &mut PgConnection,
    customer_id: Uuid,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM cases WHERE customer_id = $1 ORDER BY (status = 'active') DESC, opened_on DESC LIMIT 1",
    )
    .bind(customer_id)
    .fetch_optional(conn)
    .await
}
