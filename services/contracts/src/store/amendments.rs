//! Amendments and schedule versions (R-C8): every SQL statement of the feature.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

/// An amendment as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct AmendmentRow {
    pub(crate) id: Uuid,
    pub(crate) contract_id: Uuid,
    pub(crate) customer_id: Uuid,
    pub(crate) contract_no: String,
    pub(crate) kind: String,
    pub(crate) status: String,
    pub(crate) terms: Vec<u8>,
    pub(crate) reason: String,
    pub(crate) proposed_by: String,
    pub(crate) proposed_at: DateTime<Utc>,
    pub(crate) decided_by: Option<String>,
    pub(crate) decided_at: Option<DateTime<Utc>>,
    pub(crate) decision_reason: Option<String>,
    pub(crate) base_version: i32,
    pub(crate) version: Option<i32>,
}

/// The columns of [`AmendmentRow`] (`a` amendments, `c` contracts).
macro_rules! columns {
    () => {
        "a.id, a.contract_id, a.customer_id, c.contract_no, a.kind, a.status, a.terms, a.reason,
         a.proposed_by, a.proposed_at, a.decided_by, a.decided_at, a.decision_reason,
         a.base_version, a.version"
    };
}

/// A proposal to record.
pub(crate) struct NewAmendment<'a> {
    pub(crate) id: Uuid,
    pub(crate) contract_id: Uuid,
    pub(crate) customer_id: Uuid,
    pub(crate) kind: &'a str,
    pub(crate) terms: &'a [u8],
    pub(crate) reason: &'a str,
    pub(crate) proposed_by: &'a str,
    pub(crate) base_version: i32,
}

/// Records a proposal.
pub(crate) async fn insert(
    conn: &mut PgConnection,
    a: &NewAmendment<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO amendments (id, contract_id, customer_id, kind, status, terms, reason, proposed_by, base_version)
         VALUES ($1, $2, $3, $4, 'proposed', $5, $6, $7, $8)",
    )
    .bind(a.id)
    .bind(a.contract_id)
    .bind(a.customer_id)
    .bind(a.kind)
    .bind(a.terms)
    .bind(a.reason)
    .bind(a.proposed_by)
    .bind(a.base_version)
    .execute(conn)
    .await
    .map(|_| ())
}

/// One amendment; `lock` takes it for a decision.
pub(crate) async fn get(
    conn: &mut PgConnection,
    id: Uuid,
    lock: bool,
) -> Result<Option<AmendmentRow>, sqlx::Error> {
    let query = if lock {
        concat!(
            "SELECT ",
            columns!(),
            " FROM amendments a JOIN contracts c ON c.id = a.contract_id WHERE a.id = $1 FOR UPDATE OF a"
        )
    } else {
        concat!(
            "SELECT ",
            columns!(),
            " FROM amendments a JOIN contracts c ON c.id = a.contract_id WHERE a.id = $1"
        )
    };
    sqlx::query_as(query).bind(id).fetch_optional(conn).await
}

/// Records a decision on a proposed amendment: its new status, who, why and (approval) the
/// version written.
pub(crate) async fn decide(
    conn: &mut PgConnection,
    id: Uuid,
    status: &str,
    by: &str,
    reason: &str,
    version: Option<i32>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE amendments SET status = $2, decided_by = $3, decided_at = now(), decision_reason = $4, version = $5
         WHERE id = $1 AND status = 'proposed'",
    )
    .bind(id)
    .bind(status)
    .bind(by)
    .bind(reason)
    .bind(version)
    .execute(conn)
    .await
    .map(|_| ())
}

/// A page of amendments, newest first, after `after`: of one contract or of every customer
/// the scope (`kit::auth::owners::params`) shows, of one status or all.
pub(crate) async fn page(
    conn: &mut PgConnection,
    contract_id: Option<Uuid>,
    status: Option<&str>,
    scope: (&str, &str),
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<AmendmentRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {} FROM amendments a JOIN contracts c ON c.id = a.contract_id
         WHERE ($1::uuid IS NULL OR a.contract_id = $1) AND ($2::text IS NULL OR a.status = $2)
           AND ($3::uuid IS NULL OR a.id < $3) AND {}
         ORDER BY a.id DESC LIMIT $4",
        columns!(),
        kit::auth::owners::visible_customers("a.customer_id", 5, 6)
    )))
    .bind(contract_id)
    .bind(status)
    .bind(after)
    .bind(limit)
    .bind(scope.0)
    .bind(scope.1)
    .fetch_all(conn)
    .await
}

/// What an amendment needs of its contract.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ContractHead {
    pub(crate) customer_id: Uuid,
    pub(crate) contract_no: String,
    pub(crate) currency: String,
    pub(crate) schedule_version: i32,
    pub(crate) late_fee_policy: Option<String>,
    pub(crate) customer_name: String,
}

/// The contract, locked (`FOR UPDATE`) when an amendment is decided so two approvals on one
/// contract happen one after the other.
pub(crate) async fn contract(
    conn: &mut PgConnection,
    contract_id: Uuid,
    lock: bool,
) -> Result<Option<ContractHead>, sqlx::Error> {
    let query = if lock {
        "SELECT c.customer_id, c.contract_no, c.currency, c.schedule_version, c.late_fee_policy, u.name AS customer_name
         FROM contracts c JOIN customers u ON u.id = c.customer_id WHERE c.id = $1 FOR UPDATE OF c"
    } else {
        "SELECT c.customer_id, c.contract_no, c.currency, c.schedule_version, c.late_fee_policy, u.name AS customer_name
         FROM contracts c JOIN customers u ON u.id = c.customer_id WHERE c.id = $1"
    };
    sqlx::query_as(query)
        .bind(contract_id)
        .fetch_optional(conn)
        .await
}

/// A receivable as an amendment sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct ItemRow {
    pub(crate) id: Uuid,
    pub(crate) installment_no: i32,
    pub(crate) kind: String,
    pub(crate) charge_type: String,
    pub(crate) due_date: NaiveDate,
    pub(crate) scheduled_due_date: NaiveDate,
    pub(crate) due_date_provisional: bool,
    pub(crate) amount: Decimal,
    pub(crate) open_amount: Decimal,
    pub(crate) late_fee: Decimal,
    pub(crate) overdue_since: Option<NaiveDate>,
    pub(crate) days_overdue: i32,
    pub(crate) share: Option<Decimal>,
}

/// The columns of [`ItemRow`], in receivables and in schedule_version_items.
macro_rules! item_columns {
    () => {
        "id, installment_no, kind, charge_type, due_date, scheduled_due_date, due_date_provisional,
         amount, open_amount, late_fee, overdue_since, days_overdue, share"
    };
}

/// The contract's receivables by installment number, locked for the change.
pub(crate) async fn items_for_update(
    conn: &mut PgConnection,
    contract_id: Uuid,
) -> Result<Vec<ItemRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        item_columns!(),
        " FROM receivables WHERE contract_id = $1 ORDER BY installment_no FOR UPDATE"
    ))
    .bind(contract_id)
    .fetch_all(conn)
    .await
}

/// Keeps the contract's schedule as it stands as `version`, which the next one replaces now
/// (nothing when it is kept already).
pub(crate) async fn snapshot(
    conn: &mut PgConnection,
    contract_id: Uuid,
    version: i32,
    late_fee_policy: Option<&str>,
) -> Result<(), sqlx::Error> {
    // The amendment that wrote the version (none for version 1, the signed schedule).
    let inserted = sqlx::query(
        "INSERT INTO schedule_versions (contract_id, version, amendment_id, late_fee_policy)
         VALUES ($1, $2, (SELECT id FROM amendments WHERE contract_id = $1 AND version = $2), $3)
         ON CONFLICT DO NOTHING",
    )
    .bind(contract_id)
    .bind(version)
    .bind(late_fee_policy)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Ok(());
    }
    sqlx::query(concat!(
        "INSERT INTO schedule_version_items (contract_id, version, receivable_id, installment_no, kind,
                charge_type, due_date, scheduled_due_date, due_date_provisional, amount, open_amount,
                late_fee, overdue_since, days_overdue, share)
         SELECT contract_id, $2, ",
        item_columns!(),
        " FROM receivables WHERE contract_id = $1 ORDER BY installment_no"
    ))
    .bind(contract_id)
    .bind(version)
    .execute(conn)
    .await
    .map(|_| ())
}

/// The version the contract was at, with its late-fee policy and items as they stood when
/// it was replaced; `None` when that version was never replaced (or does not exist).
pub(crate) async fn version(
    conn: &mut PgConnection,
    contract_id: Uuid,
    version: i32,
) -> Result<Option<(Option<String>, Vec<ItemRow>)>, sqlx::Error> {
    // A version's snapshot row is written when it is replaced, or as the image of the
    // version an approval wrote; the live receivables are the current version.
    let policy: Option<Option<String>> = sqlx::query_scalar(
        "SELECT late_fee_policy FROM schedule_versions WHERE contract_id = $1 AND version = $2",
    )
    .bind(contract_id)
    .bind(version)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(policy) = policy else {
        return Ok(None);
    };
    let items = sqlx::query_as(concat!(
        "SELECT receivable_id AS ",
        item_columns!(),
        " FROM schedule_version_items WHERE contract_id = $1 AND version = $2 ORDER BY installment_no"
    ))
    .bind(contract_id)
    .bind(version)
    .fetch_all(conn)
    .await?;
    Ok(Some((policy, items)))
}

/// Writes an item's new due date and principal; the overdue state ends when `overdue` is
/// false (a deferral or new schedule moved it after the business date).
pub(crate) async fn update_item(
    conn: &mut PgConnection,
    id: Uuid,
    item: &crate::domain::amendment::Item,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE receivables SET due_date = $2, scheduled_due_date = $3, due_date_provisional = $4, amount = $5,
                open_amount = $6, kind = $7, charge_type = $8,
                overdue_since = CASE WHEN $9 THEN overdue_since END,
                days_overdue = CASE WHEN $9 THEN days_overdue ELSE 0 END
         WHERE id = $1",
    )
    .bind(id)
    .bind(item.due)
    .bind(item.scheduled)
    .bind(item.provisional)
    .bind(item.amount)
    .bind(item.open)
    .bind(item.kind.as_str())
    .bind(item.charge_type.as_str())
    .bind(item.overdue)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Adds a new schedule's item to the contract.
pub(crate) async fn insert_item(
    conn: &mut PgConnection,
    id: Uuid,
    contract_id: Uuid,
    customer_id: Uuid,
    item: &crate::domain::amendment::Item,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO receivables (id, contract_id, customer_id, installment_no, due_date, amount, open_amount,
                                  scheduled_due_date, due_date_provisional, kind, charge_type)
         VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9, $10)",
    )
    .bind(id)
    .bind(contract_id)
    .bind(customer_id)
    .bind(i32::try_from(item.installment_no).unwrap_or(i32::MAX))
    .bind(item.due)
    .bind(item.amount)
    .bind(item.scheduled)
    .bind(item.provisional)
    .bind(item.kind.as_str())
    .bind(item.charge_type.as_str())
    .execute(conn)
    .await
    .map(|_| ())
}

/// Removes an item a new schedule replaced: only while nothing was ever booked on it and no
/// late fee, interest or cost accrued; false when it no longer qualifies.
pub(crate) async fn remove_item(conn: &mut PgConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    let removed = sqlx::query(
        "DELETE FROM receivables r WHERE r.id = $1 AND r.open_amount = r.amount AND r.late_fee = 0
           AND r.interest = 0 AND r.costs = 0 AND r.discounted = 0
           AND NOT EXISTS (SELECT 1 FROM allocations a WHERE a.receivable_id = r.id AND a.status = 'applied')",
    )
    .bind(id)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(removed == 1)
}

/// Keeps the late fee a receivable accrued through `through`: the daily cycle adds to it
/// only what accrues after.
pub(crate) async fn carry_fee(
    conn: &mut PgConnection,
    receivable_id: Uuid,
    carried: Decimal,
    through: NaiveDate,
    amendment_id: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO late_fee_carry (receivable_id, carried, through, amendment_id) VALUES ($1, $2, $3, $4)
         ON CONFLICT (receivable_id) DO UPDATE
           SET carried = EXCLUDED.carried, through = EXCLUDED.through, amendment_id = EXCLUDED.amendment_id",
    )
    .bind(receivable_id)
    .bind(carried)
    .bind(through)
    .bind(amendment_id)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Moves the contract to `version`, with new late-fee terms when given.
pub(crate) async fn set_version(
    conn: &mut PgConnection,
    contract_id: Uuid,
    version: i32,
    policy: Option<Option<&str>>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE contracts SET schedule_version = $2,
                late_fee_policy = CASE WHEN $3 THEN $4 ELSE late_fee_policy END
         WHERE id = $1",
    )
    .bind(contract_id)
    .bind(version)
    .bind(policy.is_some())
    .bind(policy.flatten())
    .execute(conn)
    .await
    .map(|_| ())
}

/// A change of late-fee terms.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct FeeChangeRow {
    pub(crate) contract_id: Uuid,
    pub(crate) effective_from: NaiveDate,
    pub(crate) previous_policy: Option<String>,
    pub(crate) policy: Option<String>,
    pub(crate) amendment_id: Uuid,
}

/// Records a change of late-fee terms; false when the contract has one from that date.
pub(crate) async fn record_fee_change(
    conn: &mut PgConnection,
    change: &FeeChangeRow,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO late_fee_policy_changes (contract_id, effective_from, previous_policy, policy, amendment_id)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(change.contract_id)
    .bind(change.effective_from)
    .bind(&change.previous_policy)
    .bind(&change.policy)
    .bind(change.amendment_id)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// The late-fee changes of the contracts, oldest first.
pub(crate) async fn fee_changes(
    conn: &mut PgConnection,
    contract_ids: &[Uuid],
) -> Result<Vec<FeeChangeRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT contract_id, effective_from, previous_policy, policy, amendment_id
         FROM late_fee_policy_changes WHERE contract_id = ANY($1) ORDER BY contract_id, effective_from",
    )
    .bind(contract_ids)
    .fetch_all(conn)
    .await
}

/// The fees carried for these receivables: (receivable, carried, through).
pub(crate) async fn carries(
    conn: &mut PgConnection,
    receivable_ids: &[Uuid],
) -> Result<Vec<(Uuid, Decimal, NaiveDate)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT receivable_id, carried, through FROM late_fee_carry WHERE receivable_id = ANY($1)",
    )
    .bind(receivable_ids)
    .fetch_all(conn)
    .await
}

/// The date of the last daily cycle (what fees have been accrued through), if any ran.
pub(crate) async fn last_cycle(conn: &mut PgConnection) -> Result<Option<NaiveDate>, sqlx::Error> {
    sqlx::query_scalar("SELECT max(as_of) FROM daily_cycles")
        .fetch_one(conn)
        .await
}
