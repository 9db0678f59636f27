//! R-D14: contact records are kept at least three years after the last collection activity
//! on the debt, then anonymised by a retention job that logs what it removed. The contact
//! log itself holds no personal content (hashes, template ids, pseudonymous ids) and stays
//! whole, so its chain and checkpoints still verify; what is removed is the content around it:
//! message addresses and texts, task notes, the notice documents (their number, totals and
//! SHA-256 stay), and the debtor's contact details and name.

use chrono::NaiveDate;
use sqlx::PgConnection;
use uuid::Uuid;

/// What one run removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Removed {
    /// Debtors whose records were anonymised.
    pub customers: i32,
    /// Messages whose address and text were removed.
    pub messages: i32,
    /// Tasks whose note was removed.
    pub tasks: i32,
    /// Notices whose documents were removed.
    pub notices: i32,
    /// Contact points deleted.
    pub contacts: i32,
}

/// Debtors with no active case, nothing open to remind of and no collection activity on or
/// after `cutoff` (cases, actions, messages, tasks, notices), whose records still hold
/// personal content; at most `limit`.
pub async fn due(
    conn: &mut PgConnection,
    cutoff: NaiveDate,
    limit: i64,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "WITH activity AS (
             SELECT customer_id, GREATEST(opened_on, COALESCE(closed_on, opened_on)) AS at FROM cases
             UNION ALL SELECT c.customer_id, a.business_date FROM actions a JOIN cases c ON c.id = a.case_id
             UNION ALL SELECT customer_id, (due_at AT TIME ZONE 'UTC')::date FROM messages
             UNION ALL SELECT customer_id, (COALESCE(completed_at, due_at) AT TIME ZONE 'UTC')::date FROM tasks
             UNION ALL SELECT customer_id, business_date FROM notices),
         last AS (SELECT customer_id, max(at) AS at FROM activity GROUP BY customer_id)
         SELECT l.customer_id FROM last l
         WHERE l.at < $1
           AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.customer_id = l.customer_id AND c.status = 'active')
           AND NOT EXISTS (SELECT 1 FROM upcoming u WHERE u.customer_id = l.customer_id AND u.status = 'open')
           AND (EXISTS (SELECT 1 FROM messages m WHERE m.customer_id = l.customer_id AND (m.address <> '' OR m.body <> ''))
             OR EXISTS (SELECT 1 FROM tasks t WHERE t.customer_id = l.customer_id AND t.note <> '')
             OR EXISTS (SELECT 1 FROM notices n WHERE n.customer_id = l.customer_id AND octet_length(n.pdf) > 0)
             OR EXISTS (SELECT 1 FROM debtor_contacts d WHERE d.customer_id = l.customer_id)
             OR EXISTS (SELECT 1 FROM debtors d WHERE d.customer_id = l.customer_id AND d.name <> ''))
         ORDER BY l.customer_id LIMIT $2",
    )
    .bind(cutoff)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Anonymises the records of `customers`.
pub async fn anonymise(tx: &mut PgConnection, customers: &[Uuid]) -> Result<Removed, sqlx::Error> {
    let count = |n: u64| i32::try_from(n).unwrap_or(i32::MAX);
    let messages = sqlx::query(
        "UPDATE messages SET address = '', subject = '', body = ''
         WHERE customer_id = ANY($1) AND (address <> '' OR subject <> '' OR body <> '')",
    )
    .bind(customers)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let tasks =
        sqlx::query("UPDATE tasks SET note = '' WHERE customer_id = ANY($1) AND note <> ''")
            .bind(customers)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    let notices = sqlx::query(
        "UPDATE notices SET pdf = ''::bytea, html = ''
         WHERE customer_id = ANY($1) AND (octet_length(pdf) > 0 OR html <> '')",
    )
    .bind(customers)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let contacts = sqlx::query("DELETE FROM debtor_contacts WHERE customer_id = ANY($1)")
        .bind(customers)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    sqlx::query(
        "UPDATE debtors SET name = '', unit = '', updated_at = now() WHERE customer_id = ANY($1)",
    )
    .bind(customers)
    .execute(&mut *tx)
    .await?;
    Ok(Removed {
        customers: count(customers.len() as u64),
        messages: count(messages),
        tasks: count(tasks),
        notices: count(notices),
        contacts: count(contacts),
    })
}

/// Logs a run.
pub async fn log_run(
    tx: &mut PgConnection,
    cutoff: NaiveDate,
    removed: &Removed,
) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO retention_runs (id, cutoff, customers, messages_anonymised, tasks_anonymised,
                                     notices_redacted, contacts_deleted)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(cutoff)
    .bind(removed.customers)
    .bind(removed.messages)
    .bind(removed.tasks)
    .bind(removed.notices)
    .bind(removed.contacts)
    .execute(tx)
    .await?;
    Ok(id)
}

#[cfg(test)]
mod tests;
