//! SQL of the limitation period (R-L7): the latest demand that reached each debtor, the
//! business date, each open case's period and the warnings published.

use chrono::NaiveDate;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::limitation::{Demand, Period};

/// Records a demand delivered to a debtor, keeping only the latest (by date, then contact-log
/// seq): a replay or an older demand changes nothing. The latest known after it.
pub async fn record_demand(
    conn: &mut PgConnection,
    customer_id: Uuid,
    demand: Demand,
) -> Result<Demand, sqlx::Error> {
    sqlx::query(
        "INSERT INTO delivered_demands (customer_id, delivered_on, contact_log_seq) VALUES ($1, $2, $3)
         ON CONFLICT (customer_id) DO UPDATE
         SET delivered_on = EXCLUDED.delivered_on, contact_log_seq = EXCLUDED.contact_log_seq
         WHERE (delivered_demands.delivered_on, delivered_demands.contact_log_seq)
             < (EXCLUDED.delivered_on, EXCLUDED.contact_log_seq)",
    )
    .bind(customer_id)
    .bind(demand.delivered_on)
    .bind(demand.contact_log_seq)
    .execute(&mut *conn)
    .await?;
    Ok(latest_demand(conn, customer_id).await?.unwrap_or(demand))
}

/// The latest demand delivered to a debtor.
pub async fn latest_demand(
    conn: &mut PgConnection,
    customer_id: Uuid,
) -> Result<Option<Demand>, sqlx::Error> {
    let row: Option<(NaiveDate, i64)> = sqlx::query_as(
        "SELECT delivered_on, contact_log_seq FROM delivered_demands WHERE customer_id = $1",
    )
    .bind(customer_id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(delivered_on, contact_log_seq)| Demand {
        delivered_on,
        contact_log_seq,
    }))
}

/// The debtor's open cases with a known default date, locked: (case id, default known on,
/// stored expiry).
pub async fn open_cases_of(
    conn: &mut PgConnection,
    customer_id: Uuid,
) -> Result<Vec<(Uuid, NaiveDate, Option<NaiveDate>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, default_known_on, limitation_expires_on FROM cases
         WHERE customer_id = $1 AND status <> 'closed' AND default_known_on IS NOT NULL
         ORDER BY id FOR UPDATE",
    )
    .bind(customer_id)
    .fetch_all(conn)
    .await
}

/// Stores a case's period.
pub async fn set_period(
    conn: &mut PgConnection,
    case_id: Uuid,
    default_known_on: NaiveDate,
    period: &Period,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE cases SET default_known_on = $2, limitation_expires_on = $3,
                limitation_restarted_on = $4, limitation_restart_seq = $5
         WHERE id = $1",
    )
    .bind(case_id)
    .bind(default_known_on)
    .bind(period.expires_on)
    .bind(period.restarted_by.map(|d| d.delivered_on))
    .bind(period.restarted_by.map(|d| d.contact_log_seq))
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves the business date forward to `as_of` (never back); the business date after it.
pub async fn advance_business_date(
    conn: &mut PgConnection,
    as_of: NaiveDate,
) -> Result<NaiveDate, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO business_date (singleton, as_of) VALUES (TRUE, $1)
         ON CONFLICT (singleton) DO UPDATE SET as_of = GREATEST(business_date.as_of, EXCLUDED.as_of)
         RETURNING as_of",
    )
    .bind(as_of)
    .fetch_one(conn)
    .await
}

/// The latest business date seen, if any.
pub async fn business_date(pool: &PgPool) -> Result<Option<NaiveDate>, sqlx::Error> {
    sqlx::query_scalar("SELECT as_of FROM business_date")
        .fetch_optional(pool)
        .await
}

/// An open case whose period ends within the window and that was not warned about for that
/// date.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Due {
    /// The case.
    pub id: Uuid,
    /// The debtor.
    pub customer_id: Uuid,
    /// The last day of its period.
    pub limitation_expires_on: NaiveDate,
}

/// The open cases not yet in court (opened, lawyer's letter sent) whose period ends on or
/// before `horizon` and that have no warning for that date yet, locked.
pub async fn unwarned_due_by(
    conn: &mut PgConnection,
    horizon: NaiveDate,
) -> Result<Vec<Due>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.id, c.customer_id, c.limitation_expires_on FROM cases c
         WHERE c.status IN ('opened', 'lawyers_letter_sent') AND c.limitation_expires_on <= $1
           AND NOT EXISTS (SELECT 1 FROM limitation_warnings w
                           WHERE w.case_id = c.id AND w.expires_on = c.limitation_expires_on)
         ORDER BY c.limitation_expires_on, c.id FOR UPDATE OF c",
    )
    .bind(horizon)
    .fetch_all(conn)
    .await
}

/// Records the warning of a case for an expiry date; whether it was new (published now).
pub async fn record_warning(
    conn: &mut PgConnection,
    case_id: Uuid,
    expires_on: NaiveDate,
    business_date: NaiveDate,
    days_left: i32,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO limitation_warnings (case_id, expires_on, business_date, days_left)
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(case_id)
    .bind(expires_on)
    .bind(business_date)
    .bind(days_left)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted > 0)
}
