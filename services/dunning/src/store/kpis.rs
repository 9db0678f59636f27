//! SQL of the collectors' KPIs (issue 14 item 5): what was collected (and under which step),
//! promises judged, right-party contacts, and the receivables' balances over time that CEI and
//! the recovery rate replay (R-O7, R-D11), per owner of the customer.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::kpi::{Components, Kind, Observation};

/// One collector's figures for a period.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Figures {
    /// The collector.
    pub owner: String,
    /// Their team ("" when none).
    pub team: String,
    /// Σ applied in the period.
    pub collected: Decimal,
    /// By the step in force when paid.
    pub by_step: Vec<(String, Decimal)>,
    /// Promises kept and judged in the period.
    pub promises: (i64, i64),
    /// Right-party contacts and all contact attempts with an outcome.
    pub contacts: (i64, i64),
    /// CEI's and the recovery rate's components (from [`histories`], R-O7).
    pub balances: Components,
}

/// The owners inside the scope `(mode, value)` with their team, or the one (or one team's)
/// asked for. An owner listed under several teams counts under the first.
pub async fn owners(
    conn: &mut PgConnection,
    scope: (&str, &str),
    owner: Option<&str>,
    team: Option<&str>,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT o.owner, MIN(COALESCE(o.team, '')) FROM owners o
         WHERE o.scope_key = 'customer' AND ($3::text IS NULL OR o.owner = $3) AND {}
         GROUP BY o.owner
         HAVING $4::text IS NULL OR MIN(COALESCE(o.team, '')) = $4
         ORDER BY o.owner",
        kit::auth::owners::visible_customers("o.customer_id", 1, 2)
    )))
    .bind(scope.0)
    .bind(scope.1)
    .bind(owner)
    .bind(team)
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
        team: String::new(),
        collected: by_step.iter().map(|(_, a)| *a).sum(),
        by_step,
        promises,
        contacts,
        balances: Components::default(),
    })
}

/// What dunning learned of a receivable's balance (R-O7: CEI and recovery rate replay it).
#[derive(Debug, Clone, Copy)]
pub struct Learned<'a> {
    /// The receivable.
    pub receivable_id: Uuid,
    /// Its debtor.
    pub customer_id: Uuid,
    /// Its currency.
    pub currency: &'a str,
    /// Owed, due date, overdue from then on, the day (`None`: as scheduled) and why.
    pub balance: Observation,
}

/// Appends what was learned; a scheduled item already known is not scheduled again.
pub async fn learned(tx: &mut PgConnection, l: &Learned<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO kpi_balances (receivable_id, customer_id, currency, on_date, due_date, owed, overdue, kind)
         SELECT $1, $2, $3, $4, $5, $6, $7, $8
         WHERE $8 <> 'scheduled' OR NOT EXISTS (SELECT 1 FROM kpi_balances WHERE receivable_id = $1)",
    )
    .bind(l.receivable_id)
    .bind(l.customer_id)
    .bind(l.currency)
    .bind(l.balance.on)
    .bind(l.balance.due)
    .bind(l.balance.owed)
    .bind(l.balance.overdue)
    .bind(l.balance.kind.as_str())
    .execute(tx)
    .await
    .map(drop)
}

/// A payment, write-off or amendment changed what is owed on a receivable on `on` (and its
/// due date, if `due`): appended with the debtor, currency and overdue flag last known as of
/// `on` (or as scheduled); a deferral past `on` is not overdue any more. Unknown: nothing.
pub async fn changed(
    tx: &mut PgConnection,
    receivable_id: Uuid,
    kind: Kind,
    on: NaiveDate,
    owed: Decimal,
    due: Option<NaiveDate>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO kpi_balances (receivable_id, customer_id, currency, on_date, due_date, owed, overdue, kind)
         SELECT $1, k.customer_id, k.currency, $3, COALESCE($5, k.due_date), $4,
                k.overdue AND COALESCE($5, k.due_date) < $3, $2
         FROM ((SELECT customer_id, currency, due_date, overdue, 0 AS pri FROM kpi_balances
                WHERE receivable_id = $1 AND (on_date IS NULL OR on_date <= $3)
                ORDER BY on_date DESC NULLS LAST, seq DESC LIMIT 1)
               UNION ALL
               (SELECT customer_id, currency, due_date, false, 1 FROM upcoming WHERE receivable_id = $1)
               ORDER BY pri LIMIT 1) k",
    )
    .bind(receivable_id)
    .bind(kind.as_str())
    .bind(on)
    .bind(owed)
    .bind(due)
    .execute(tx)
    .await
    .map(drop)
}

/// The balances learned through `to` of `owner`'s customers' receivables in `currency`, each
/// receivable's in the order learned (by day, scheduled first).
pub async fn histories(
    conn: &mut PgConnection,
    owner: &str,
    currency: &str,
    to: NaiveDate,
) -> Result<Vec<Vec<Observation>>, sqlx::Error> {
    type Row = (Uuid, Option<NaiveDate>, NaiveDate, Decimal, bool, String);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT b.receivable_id, b.on_date, b.due_date, b.owed, b.overdue, b.kind
         FROM kpi_balances b
         JOIN owners o ON o.customer_id = b.customer_id AND o.scope_key = 'customer'
         WHERE o.owner = $1 AND b.currency = $2 AND (b.on_date IS NULL OR b.on_date <= $3)
         ORDER BY b.receivable_id, b.on_date NULLS FIRST, b.seq",
    )
    .bind(owner)
    .bind(currency)
    .bind(to)
    .fetch_all(conn)
    .await?;
    let mut out: Vec<Vec<Observation>> = Vec::new();
    let mut last = None;
    for (receivable_id, on, due, owed, overdue, kind) in rows {
        let Some(kind) = Kind::parse(&kind) else {
            continue; // the table's CHECK admits only known kinds
        };
        let balance = Observation {
            on,
            due,
            owed,
            overdue,
            kind,
        };
        match out.last_mut() {
            Some(h) if last == Some(receivable_id) => h.push(balance),
            _ => out.push(vec![balance]),
        }
        last = Some(receivable_id);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
