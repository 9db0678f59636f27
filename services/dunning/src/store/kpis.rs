//! SQL of the collectors' KPIs (issue 14 item 5, in part): what was collected (and under
//! which step), promises judged, and right-party contacts, per owner of the customer.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;

/// One collector's figures for a period.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Figures {
    /// The collector.
    pub owner: String,
    /// Σ applied in the period.
    pub collected: Decimal,
    /// By the step in force when paid.
    pub by_step: Vec<(String, Decimal)>,
    /// Promises kept and judged in the period.
    pub promises: (i64, i64),
    /// Right-party contacts and all contact attempts with an outcome.
    pub contacts: (i64, i64),
}

/// The owners inside the scope `(mode, value)`, or the one asked for.
pub async fn owners(
    conn: &mut PgConnection,
    scope: (&str, &str),
    owner: Option<&str>,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT DISTINCT o.owner FROM owners o
         WHERE o.scope_key = 'customer' AND ($3::text IS NULL OR o.owner = $3) AND {}
         ORDER BY o.owner",
        kit::auth::owners::visible_customers("o.customer_id", 1, 2)
    )))
    .bind(scope.0)
    .bind(scope.1)
    .bind(owner)
    .fetch_all(conn)
    .await
}

/// `owner`'s figures for `from..=to` (payments in `currency`); contacts between the two
/// instants.
#[allow(clippy::too_many_arguments)]
pub async fn figures(
    conn: &mut PgConnection,
    owner: &str,
    currency: &str,
    from: NaiveDate,
    to: NaiveDate,
    contacts_from: DateTime<Utc>,
    contacts_to: DateTime<Utc>,
) -> Result<Figures, sqlx::Error> {
    let by_step: Vec<(String, Decimal)> = sqlx::query_as(
        "SELECT COALESCE((SELECT a.step FROM actions a JOIN cases c ON c.id = a.case_id
                          WHERE c.customer_id = p.customer_id AND a.step <> 'stopped'
                            AND a.business_date <= p.booking_date
                          ORDER BY a.business_date DESC, a.recorded_at DESC LIMIT 1),
                         'before_dunning') AS step,
                SUM(p.amount)
         FROM payments_seen p
         JOIN owners o ON o.customer_id = p.customer_id AND o.scope_key = 'customer'
         WHERE o.owner = $1 AND p.booking_date BETWEEN $2 AND $3 AND p.currency = $4
         GROUP BY 1 ORDER BY 1",
    )
    .bind(owner)
    .bind(from)
    .bind(to)
    .bind(currency)
    .fetch_all(&mut *conn)
    .await?;
    let promises: (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE p.status = 'kept'), count(*)
         FROM promises p JOIN owners o ON o.customer_id = p.customer_id AND o.scope_key = 'customer'
         WHERE o.owner = $1 AND p.judged_on BETWEEN $2 AND $3",
    )
    .bind(owner)
    .bind(from)
    .bind(to)
    .fetch_one(&mut *conn)
    .await?;
    let contacts: (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE outcome IN ('answered', 'promise_made', 'disputed', 'refused')),
                count(*)
         FROM contact_log
         WHERE actor_kind = 'principal' AND actor = $1 AND channel IN ('phone_call', 'visit')
           AND outcome IN ('answered', 'promise_made', 'disputed', 'refused', 'no_answer', 'wrong_number')
           AND at >= $2 AND at < $3",
    )
    .bind(owner)
    .bind(contacts_from)
    .bind(contacts_to)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Figures {
        owner: owner.to_owned(),
        collected: by_step.iter().map(|(_, a)| *a).sum(),
        by_step,
        promises,
        contacts,
    })
}
