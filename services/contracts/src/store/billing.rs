//! Units, their charge terms, billing runs and billed charges (R-C2, R-C3; issue 12 item 2).

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::billing::{Basis, Occupancy, Period, Segment, Term};
use crate::domain::schedule::{ChargeType, ItemKind};

/// A unit as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct UnitRow {
    pub(crate) id: Uuid,
    pub(crate) code: String,
    pub(crate) project: String,
    pub(crate) segment: String,
    pub(crate) occupancy: String,
    pub(crate) area: Decimal,
    pub(crate) customer_id: Uuid,
    pub(crate) contract_id: Uuid,
}

/// A unit with what billing it needs: its contract and customer (accounts sealed, R-O4).
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct BillingUnit {
    pub(crate) id: Uuid,
    pub(crate) code: String,
    pub(crate) project: String,
    pub(crate) segment: String,
    pub(crate) occupancy: String,
    pub(crate) area: Decimal,
    pub(crate) customer_id: Uuid,
    pub(crate) contract_id: Uuid,
    pub(crate) contract_no: String,
    pub(crate) currency: String,
    pub(crate) escrow_account: String,
    pub(crate) customer_name: String,
    pub(crate) payer_accounts: Vec<String>,
}

impl BillingUnit {
    /// The occupancy (the schema's CHECK admits only known names; unknown reads as occupied,
    /// which bills in full).
    pub(crate) fn occupancy(&self) -> Occupancy {
        Occupancy::parse(&self.occupancy).unwrap_or(Occupancy::Occupied)
    }
}

macro_rules! billing_units {
    ($tail:literal) => {
        concat!(
            "SELECT u.id, u.code, u.project, u.segment, u.occupancy, u.area, u.customer_id, u.contract_id,
                    c.contract_no, c.currency, c.escrow_account, cu.name AS customer_name, cu.payer_accounts
             FROM units u JOIN contracts c ON c.id = u.contract_id JOIN customers cu ON cu.id = u.customer_id ",
            $tail
        )
    };
}

/// Serialises billing (runs and imports) so installment numbers are handed out once; held
/// until the transaction ends.
pub(crate) async fn lock_billing(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('contracts.billing'))")
        .execute(conn)
        .await
        .map(|_| ())
}

/// A contract's customer and currency.
pub(crate) async fn contract_party(
    conn: &mut PgConnection,
    contract_id: Uuid,
) -> Result<Option<(Uuid, String)>, sqlx::Error> {
    sqlx::query_as("SELECT customer_id, currency FROM contracts WHERE id = $1")
        .bind(contract_id)
        .fetch_optional(conn)
        .await
}

/// Records a unit.
pub(crate) async fn insert_unit(
    conn: &mut PgConnection,
    unit: &UnitRow,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO units (id, code, project, segment, occupancy, area, customer_id, contract_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(unit.id)
    .bind(&unit.code)
    .bind(&unit.project)
    .bind(&unit.segment)
    .bind(&unit.occupancy)
    .bind(unit.area)
    .bind(unit.customer_id)
    .bind(unit.contract_id)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Records a unit's charge term.
pub(crate) async fn insert_term(
    conn: &mut PgConnection,
    unit_id: Uuid,
    term: &Term,
) -> Result<(), sqlx::Error> {
    let (basis, amount) = match term.basis {
        Basis::Monthly(a) => ("monthly", a),
        Basis::PerSquareMetre(r) => ("per_m2", r),
    };
    sqlx::query(
        "INSERT INTO charge_terms (unit_id, charge_type, basis, amount, vacant_factor, effective_from)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(unit_id)
    .bind(term.charge_type.as_str())
    .bind(basis)
    .bind(amount)
    .bind(term.vacant_factor)
    .bind(term.effective_from.first_day())
    .execute(conn)
    .await
    .map(|_| ())
}

/// A unit.
pub(crate) async fn unit(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<UnitRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, code, project, segment, occupancy, area, customer_id, contract_id FROM units WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Units by id after `after`, filtered by project and contract when given, and by the
/// caller's scope (`kit::auth::owners::params`).
pub(crate) async fn units_page(
    conn: &mut PgConnection,
    project: Option<&str>,
    contract_id: Option<Uuid>,
    scope: (&str, &str),
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<UnitRow>, sqlx::Error> {
    // Safe: the only dynamic part is the kit's fixed scope condition; values are bound.
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT id, code, project, segment, occupancy, area, customer_id, contract_id FROM units
         WHERE ($1::text IS NULL OR project = $1) AND ($2::uuid IS NULL OR contract_id = $2)
           AND ($3::uuid IS NULL OR id > $3) AND {}
         ORDER BY id LIMIT $4",
        kit::auth::owners::visible_customers("customer_id", 5, 6)
    ));
    sqlx::query_as(sql)
        .bind(project)
        .bind(contract_id)
        .bind(after)
        .bind(limit)
        .bind(scope.0)
        .bind(scope.1)
        .fetch_all(conn)
        .await
}

/// The charge terms of these units, as (unit, term); a stored row the domain cannot read
/// (the schema's CHECKs prevent it) is left out.
pub(crate) async fn terms_of(
    conn: &mut PgConnection,
    units: &[Uuid],
) -> Result<Vec<(Uuid, Term)>, sqlx::Error> {
    let rows: Vec<(Uuid, String, String, Decimal, Decimal, NaiveDate)> = sqlx::query_as(
        "SELECT unit_id, charge_type, basis, amount, vacant_factor, effective_from FROM charge_terms
         WHERE unit_id = ANY($1) ORDER BY unit_id, charge_type, effective_from",
    )
    .bind(units)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(unit, charge, basis, amount, factor, from)| {
            Some((
                unit,
                Term {
                    charge_type: ChargeType::parse(&charge)?,
                    basis: match basis.as_str() {
                        "monthly" => Basis::Monthly(amount),
                        _ => Basis::PerSquareMetre(amount),
                    },
                    vacant_factor: factor,
                    effective_from: Period::of(from),
                },
            ))
        })
        .collect())
}

/// The next chunk of units to bill, after unit `after` in id order.
pub(crate) async fn billing_chunk(
    conn: &mut PgConnection,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<BillingUnit>, sqlx::Error> {
    sqlx::query_as(billing_units!(
        "WHERE ($1::uuid IS NULL OR u.id > $1) ORDER BY u.id LIMIT $2"
    ))
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Units by (project, code).
pub(crate) async fn billing_units_by_code(
    conn: &mut PgConnection,
    projects: &[String],
    codes: &[String],
) -> Result<Vec<BillingUnit>, sqlx::Error> {
    sqlx::query_as(billing_units!(
        "WHERE (u.project, u.code) IN (SELECT * FROM UNNEST($1::text[], $2::text[]))"
    ))
    .bind(projects)
    .bind(codes)
    .fetch_all(conn)
    .await
}

/// Charges billed already for these units in these periods: (unit, charge type, period,
/// amount).
pub(crate) async fn billed(
    conn: &mut PgConnection,
    units: &[Uuid],
    periods: &[NaiveDate],
) -> Result<Vec<(Uuid, String, NaiveDate, Decimal)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT unit_id, charge_type, period, amount FROM receivables
         WHERE unit_id = ANY($1) AND period = ANY($2)",
    )
    .bind(units)
    .bind(periods)
    .fetch_all(conn)
    .await
}

/// The highest installment number of each of these contracts.
pub(crate) async fn last_installments(
    conn: &mut PgConnection,
    contracts: &[Uuid],
) -> Result<Vec<(Uuid, i32)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT contract_id, max(installment_no) FROM receivables
         WHERE contract_id = ANY($1) GROUP BY contract_id",
    )
    .bind(contracts)
    .fetch_all(conn)
    .await
}

/// A charge to record as a receivable.
pub(crate) struct NewCharge {
    pub(crate) id: Uuid,
    pub(crate) contract_id: Uuid,
    pub(crate) customer_id: Uuid,
    pub(crate) installment_no: i32,
    pub(crate) due: NaiveDate,
    pub(crate) scheduled: NaiveDate,
    pub(crate) provisional: bool,
    pub(crate) amount: Decimal,
    pub(crate) kind: ItemKind,
    pub(crate) charge_type: ChargeType,
    pub(crate) unit_id: Uuid,
    pub(crate) period: Period,
}

/// Records charges as receivables in one statement. A charge billed already violates the
/// UNIQUE (unit, charge type, period) and fails the statement: callers leave those out.
pub(crate) async fn insert_charges(
    conn: &mut PgConnection,
    charges: &[NewCharge],
) -> Result<(), sqlx::Error> {
    if charges.is_empty() {
        return Ok(());
    }
    let col = |f: fn(&NewCharge) -> Uuid| charges.iter().map(f).collect::<Vec<_>>();
    let dates = |f: fn(&NewCharge) -> NaiveDate| charges.iter().map(f).collect::<Vec<_>>();
    sqlx::query(
        "INSERT INTO receivables (id, contract_id, customer_id, installment_no, due_date, amount, open_amount,
                                  scheduled_due_date, due_date_provisional, kind, charge_type, unit_id, period)
         SELECT id, contract_id, customer_id, installment_no, due, amount, amount, scheduled, provisional,
                kind, charge_type, unit_id, period
         FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::int[], $5::date[], $6::numeric[], $7::date[],
                     $8::bool[], $9::text[], $10::text[], $11::uuid[], $12::date[])
              AS c(id, contract_id, customer_id, installment_no, due, amount, scheduled, provisional,
                   kind, charge_type, unit_id, period)",
    )
    .bind(col(|c| c.id))
    .bind(col(|c| c.contract_id))
    .bind(col(|c| c.customer_id))
    .bind(charges.iter().map(|c| c.installment_no).collect::<Vec<_>>())
    .bind(dates(|c| c.due))
    .bind(charges.iter().map(|c| c.amount).collect::<Vec<_>>())
    .bind(dates(|c| c.scheduled))
    .bind(charges.iter().map(|c| c.provisional).collect::<Vec<_>>())
    .bind(charges.iter().map(|c| c.kind.as_str()).collect::<Vec<_>>())
    .bind(charges.iter().map(|c| c.charge_type.as_str()).collect::<Vec<_>>())
    .bind(col(|c| c.unit_id))
    .bind(dates(|c| c.period.first_day()))
    .execute(conn)
    .await
    .map(|_| ())
}

/// Where a billing run stands.
pub(crate) enum RunState {
    /// Never run, or run to the end before: starts from the first unit.
    Fresh,
    /// Interrupted: resumes after the last unit recorded.
    Resume,
}

/// Marks the run of `period` running and says where to start (under [`lock_billing`]).
pub(crate) async fn start_run(
    conn: &mut PgConnection,
    period: Period,
) -> Result<RunState, sqlx::Error> {
    let row: Option<(String, Option<Uuid>)> =
        sqlx::query_as("SELECT status, after_unit FROM billing_runs WHERE period = $1 FOR UPDATE")
            .bind(period.first_day())
            .fetch_optional(&mut *conn)
            .await?;
    match row {
        Some((status, Some(_))) if status == "running" => Ok(RunState::Resume),
        _ => {
            sqlx::query(
                "INSERT INTO billing_runs (period, status) VALUES ($1, 'running')
                 ON CONFLICT (period) DO UPDATE SET status = 'running', after_unit = NULL,
                     started_at = now(), finished_at = NULL",
            )
            .bind(period.first_day())
            .execute(conn)
            .await?;
            Ok(RunState::Fresh)
        }
    }
}

/// Where the run of `period` stands now (another call may have moved it on).
pub(crate) async fn run_cursor(
    conn: &mut PgConnection,
    period: Period,
) -> Result<Option<(String, Option<Uuid>)>, sqlx::Error> {
    sqlx::query_as("SELECT status, after_unit FROM billing_runs WHERE period = $1")
        .bind(period.first_day())
        .fetch_optional(conn)
        .await
}

/// Records a chunk's progress, in the chunk's transaction.
pub(crate) async fn advance_run(
    conn: &mut PgConnection,
    period: Period,
    after: Uuid,
    created: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE billing_runs SET after_unit = $2, created = created + $3 WHERE period = $1")
        .bind(period.first_day())
        .bind(after)
        .bind(created)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Marks the run of `period` done.
pub(crate) async fn finish_run(conn: &mut PgConnection, period: Period) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE billing_runs SET status = 'done', finished_at = now() WHERE period = $1")
        .bind(period.first_day())
        .execute(conn)
        .await
        .map(|_| ())
}

/// Reads a stored segment (the schema's CHECK admits only known names).
pub(crate) fn segment(row: &UnitRow) -> Option<Segment> {
    Segment::parse(&row.segment)
}
