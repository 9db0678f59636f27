//! SQL of legal cases: opening, reading, listing, their claims and their history log.

use chrono::{DateTime, NaiveDate, Utc};
use money::allocation::Owed;
use rust_decimal::Decimal;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// A case as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CaseRow {
    /// Id.
    pub id: Uuid,
    /// The debtor.
    pub customer_id: Uuid,
    /// Dunning's case it came from.
    pub dunning_case_id: Uuid,
    /// ISO 4217, as stored (CHAR(3)).
    pub currency: String,
    /// What the case claims now.
    pub amount_claimed: Decimal,
    /// The stored name of its status (`domain::case::Status`).
    pub status: String,
    /// The stored name of its outcome, once closed.
    pub outcome: Option<String>,
    /// The date it closed.
    pub closed_on: Option<NaiveDate>,
    /// Whether asset preservation was requested.
    pub assets_preserved: bool,
    /// R-L4: the debtor paid everything claimed.
    pub withdrawal_flagged: bool,
    /// The business date of the escalation.
    pub opened_on: NaiveDate,
    /// R-L7: the court-fee schedule the fees were computed from.
    pub fee_schedule: Option<String>,
    /// R-L7: the payment order fee, once the case moved to payment_order_applied.
    pub payment_order_fee: Option<Decimal>,
    /// R-L7: the acceptance fee, once the case moved to litigation_filed.
    pub acceptance_fee: Option<Decimal>,
    /// R-L7: the court-fee refund announced on a withdrawal flag or a withdrawn/settled close.
    pub court_fee_refund: Option<Decimal>,
    /// R-L7: the day after the earliest claimed due date (unknown for cases before issue 15).
    pub default_known_on: Option<NaiveDate>,
    /// R-L7: the last day of the limitation period.
    pub limitation_expires_on: Option<NaiveDate>,
    /// R-L7: the day a delivered demand restarted the period.
    pub limitation_restarted_on: Option<NaiveDate>,
    /// R-L7: that demand's contact-log seq.
    pub limitation_restart_seq: Option<i64>,
}

const COLUMNS: &str = "id, customer_id, dunning_case_id, currency, amount_claimed, status, outcome, closed_on, assets_preserved, withdrawal_flagged, opened_on,
    fee_schedule, payment_order_fee, acceptance_fee, court_fee_refund,
    default_known_on, limitation_expires_on, limitation_restarted_on, limitation_restart_seq";

/// One receivable a case claims.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ClaimedRow {
    /// The receivable.
    pub receivable_id: Uuid,
    /// Its contract's number.
    pub contract_no: String,
    /// What was claimed when the case opened.
    pub claimed: Decimal,
    /// What is still owed, in total.
    pub open_amount: Decimal,
    /// Of which collection costs.
    pub costs: Decimal,
    /// Of which interest.
    pub interest: Decimal,
    /// Of which late fee.
    pub late_fee: Decimal,
    /// Of which principal.
    pub principal: Decimal,
}

impl ClaimedRow {
    /// What it owes now, by component.
    #[must_use]
    pub fn owed(&self) -> Owed {
        Owed {
            costs: self.costs,
            interest: self.interest,
            late_fee: self.late_fee,
            principal: self.principal,
        }
    }
}

/// One entry of a case's log.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LogRow {
    /// What happened, e.g. `opened`, `claim_updated`, `status_changed`.
    pub kind: String,
    /// In words.
    pub detail: String,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
}

/// A case opened from an escalation (R-L1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCase<'a> {
    /// The new case's id.
    pub id: Uuid,
    /// The escalation (unique: one case per escalation).
    pub escalation_id: Uuid,
    /// Dunning's case.
    pub dunning_case_id: Uuid,
    /// The debtor.
    pub customer_id: Uuid,
    /// ISO 4217.
    pub currency: &'a str,
    /// What the escalation claims.
    pub amount_claimed: Decimal,
    /// The escalation's business date.
    pub opened_on: NaiveDate,
    /// Why it escalated.
    pub reason: &'a str,
}

/// Opens a case unless its escalation opened one already; whether it was opened now.
pub async fn open_case_for(
    conn: &mut PgConnection,
    case: &NewCase<'_>,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO cases (id, escalation_id, dunning_case_id, customer_id, currency, amount_claimed, status, opened_on, reason)
         VALUES ($1, $2, $3, $4, $5, $6, 'opened', $7, $8) ON CONFLICT (escalation_id) DO NOTHING",
    )
    .bind(case.id)
    .bind(case.escalation_id)
    .bind(case.dunning_case_id)
    .bind(case.customer_id)
    .bind(case.currency)
    .bind(case.amount_claimed)
    .bind(case.opened_on)
    .bind(case.reason)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted > 0)
}

/// Adds a receivable to what a case claims, owing `owed` (its total is what is claimed on it).
pub async fn claim_receivable(
    conn: &mut PgConnection,
    case_id: Uuid,
    receivable_id: Uuid,
    contract_no: &str,
    owed: &Owed,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO case_receivables (case_id, receivable_id, contract_no, claimed, open_amount, costs, interest, late_fee, principal)
         VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $8) ON CONFLICT (case_id, receivable_id) DO NOTHING",
    )
    .bind(case_id)
    .bind(receivable_id)
    .bind(contract_no)
    .bind(owed.total())
    .bind(owed.costs)
    .bind(owed.interest)
    .bind(owed.late_fee)
    .bind(owed.principal)
    .execute(conn)
    .await?;
    Ok(())
}

/// The open cases claiming a receivable, locked: (id, currency, flagged for withdrawal,
/// what it claims now).
pub async fn open_cases_claiming(
    conn: &mut PgConnection,
    receivable_id: Uuid,
) -> Result<Vec<(Uuid, String, bool, Decimal)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.id, c.currency, c.withdrawal_flagged, c.amount_claimed FROM cases c JOIN case_receivables r ON r.case_id = c.id
         WHERE r.receivable_id = $1 AND c.status <> 'closed' ORDER BY c.id FOR UPDATE OF c",
    )
    .bind(receivable_id)
    .fetch_all(conn)
    .await
}

/// Sets what a case claims on one receivable to what contracts says it owes now.
pub async fn set_owed(
    conn: &mut PgConnection,
    case_id: Uuid,
    receivable_id: Uuid,
    owed: &Owed,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE case_receivables SET open_amount = $3, costs = $4, interest = $5, late_fee = $6, principal = $7
         WHERE case_id = $1 AND receivable_id = $2",
    )
    .bind(case_id)
    .bind(receivable_id)
    .bind(owed.total())
    .bind(owed.costs)
    .bind(owed.interest)
    .bind(owed.late_fee)
    .bind(owed.principal)
    .execute(conn)
    .await?;
    Ok(())
}

/// What a case's receivables owe now, each by component.
pub async fn owed_on_items(
    conn: &mut PgConnection,
    case_id: Uuid,
) -> Result<Vec<Owed>, sqlx::Error> {
    let rows: Vec<(Decimal, Decimal, Decimal, Decimal)> = sqlx::query_as(
        "SELECT costs, interest, late_fee, principal FROM case_receivables WHERE case_id = $1",
    )
    .bind(case_id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(costs, interest, late_fee, principal)| Owed {
            costs,
            interest,
            late_fee,
            principal,
        })
        .collect())
}

/// Sets what a case claims and whether it is flagged for withdrawal (R-L4).
pub async fn set_claim(
    conn: &mut PgConnection,
    case_id: Uuid,
    amount: Decimal,
    withdrawal_flagged: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE cases SET amount_claimed = $2, withdrawal_flagged = $3 WHERE id = $1")
        .bind(case_id)
        .bind(amount)
        .bind(withdrawal_flagged)
        .execute(conn)
        .await?;
    Ok(())
}

/// R-L7: records the payment order fee computed from `schedule`.
pub async fn record_payment_order_fee(
    conn: &mut PgConnection,
    case_id: Uuid,
    schedule: &str,
    fee: Decimal,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE cases SET fee_schedule = $2, payment_order_fee = $3 WHERE id = $1")
        .bind(case_id)
        .bind(schedule)
        .bind(fee)
        .execute(conn)
        .await?;
    Ok(())
}

/// R-L7: records the acceptance fee computed from `schedule`.
pub async fn record_acceptance_fee(
    conn: &mut PgConnection,
    case_id: Uuid,
    schedule: &str,
    fee: Decimal,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE cases SET fee_schedule = $2, acceptance_fee = $3 WHERE id = $1")
        .bind(case_id)
        .bind(schedule)
        .bind(fee)
        .execute(conn)
        .await?;
    Ok(())
}

/// R-L7: records the court-fee refund of a withdrawal or a withdrawn/settled close.
pub async fn record_court_fee_refund(
    conn: &mut PgConnection,
    case_id: Uuid,
    refund: Decimal,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE cases SET court_fee_refund = $2 WHERE id = $1")
        .bind(case_id)
        .bind(refund)
        .execute(conn)
        .await?;
    Ok(())
}

/// The stored status name and acceptance fee of a case (for the refund of a withdrawal).
pub async fn status_and_acceptance_fee(
    conn: &mut PgConnection,
    case_id: Uuid,
) -> Result<(String, Option<Decimal>), sqlx::Error> {
    sqlx::query_as("SELECT status, acceptance_fee FROM cases WHERE id = $1")
        .bind(case_id)
        .fetch_one(conn)
        .await
}

/// Appends to a case's log.
pub async fn log(
    conn: &mut PgConnection,
    case_id: Uuid,
    kind: &str,
    detail: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO case_events (case_id, kind, detail) VALUES ($1, $2, $3)")
        .bind(case_id)
        .bind(kind)
        .bind(detail)
        .execute(conn)
        .await?;
    Ok(())
}

/// A case.
pub async fn by_id(pool: &PgPool, case_id: Uuid) -> Result<Option<CaseRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM cases WHERE id = $1"
    )))
    .bind(case_id)
    .fetch_optional(pool)
    .await
}

/// A case, locked for a change.
pub async fn for_update(
    conn: &mut PgConnection,
    case_id: Uuid,
) -> Result<Option<CaseRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM cases WHERE id = $1 FOR UPDATE"
    )))
    .bind(case_id)
    .fetch_optional(conn)
    .await
}

/// What [`list`] filters on and where its page starts.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// One debtor's cases.
    pub customer_id: Option<Uuid>,
    /// Stored status name.
    pub status: Option<&'static str>,
    /// Only cases flagged for withdrawal.
    pub withdrawal_flagged_only: bool,
    /// Only open cases whose limitation period ends on or before this date (R-L7).
    pub limitation_by: Option<NaiveDate>,
    /// After this (opened_on, id).
    pub after: Option<(NaiveDate, Uuid)>,
    /// At most this many.
    pub limit: i64,
}

/// Cases by the date opened, then id.
pub async fn list(pool: &PgPool, filter: &ListFilter) -> Result<Vec<CaseRow>, sqlx::Error> {
    let (after_date, after_id) = filter.after.unzip();
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM cases
         WHERE ($1::uuid IS NULL OR customer_id = $1) AND ($2::text IS NULL OR status = $2)
           AND (NOT $3 OR withdrawal_flagged)
           AND ($4::date IS NULL OR (opened_on, id) > ($4, $5))
           AND ($7::date IS NULL OR (status <> 'closed' AND limitation_expires_on <= $7))
         ORDER BY opened_on, id LIMIT $6"
    )))
    .bind(filter.customer_id)
    .bind(filter.status)
    .bind(filter.withdrawal_flagged_only)
    .bind(after_date)
    .bind(after_id)
    .bind(filter.limit)
    .bind(filter.limitation_by)
    .fetch_all(pool)
    .await
}

/// The receivables a case claims.
pub async fn claimed_receivables(
    pool: &PgPool,
    case_id: Uuid,
) -> Result<Vec<ClaimedRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT receivable_id, contract_no, claimed, open_amount, costs, interest, late_fee, principal FROM case_receivables WHERE case_id = $1 ORDER BY receivable_id",
    )
    .bind(case_id)
    .fetch_all(pool)
    .await
}

/// A case's log, oldest first.
pub async fn log_of(pool: &PgPool, case_id: Uuid) -> Result<Vec<LogRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT kind, detail, recorded_at FROM case_events WHERE case_id = $1 ORDER BY id",
    )
    .bind(case_id)
    .fetch_all(pool)
    .await
}
