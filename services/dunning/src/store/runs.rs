//! Statements for a run of contracts' confirmations applied together (issue 16): each is
//! what one statement elsewhere in the store does for one payment, for many.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

/// Whether any of `receivables` is an item of an active plan, or any of `customers` has an
/// open promise: such payments count towards them, one by one.
pub async fn plans_or_promises(
    tx: &mut PgConnection,
    receivables: &[Uuid],
    customers: &[Uuid],
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM plans WHERE status = 'active' AND receivable_ids && $1)
             OR EXISTS (SELECT 1 FROM promises WHERE status = 'open' AND customer_id = ANY($2))",
    )
    .bind(receivables)
    .bind(customers)
    .fetch_one(tx)
    .await
}

/// One payment of a run.
pub struct Paid<'a> {
    pub allocation_id: &'a str,
    pub customer_id: Uuid,
    pub receivable_id: Uuid,
    pub booking_date: NaiveDate,
    pub amount: Decimal,
    pub currency: &'a str,
    /// Everything owed after it.
    pub owed_after: Decimal,
    pub paid_in_full: bool,
}

/// `kpis::changed` (kind paid), `queue::payment_seen` and `ladder::upcoming_changed` for
/// every payment of a run, each receivable at most once.
pub async fn payments_learned(tx: &mut PgConnection, run: &[Paid<'_>]) -> Result<(), sqlx::Error> {
    let receivables: Vec<Uuid> = run.iter().map(|p| p.receivable_id).collect();
    let dates: Vec<NaiveDate> = run.iter().map(|p| p.booking_date).collect();
    let owed: Vec<Decimal> = run.iter().map(|p| p.owed_after).collect();
    // R-O7, R-D11: as kpis::changed, the debtor, currency, due date and overdue flag last
    // known as of the day (or as scheduled).
    sqlx::query(
        "INSERT INTO kpi_balances (receivable_id, customer_id, currency, on_date, due_date, owed, overdue, kind)
         SELECT u.r, k.customer_id, k.currency, u.d, k.due_date, u.o, k.overdue AND k.due_date < u.d, 'paid'
         FROM UNNEST($1::uuid[], $2::date[], $3::numeric[]) WITH ORDINALITY AS u(r, d, o, n)
         CROSS JOIN LATERAL (
             (SELECT customer_id, currency, due_date, overdue, 0 AS pri FROM kpi_balances
              WHERE receivable_id = u.r AND (on_date IS NULL OR on_date <= u.d)
              ORDER BY on_date DESC NULLS LAST, seq DESC LIMIT 1)
             UNION ALL
             (SELECT customer_id, currency, due_date, false, 1 FROM upcoming WHERE receivable_id = u.r)
             ORDER BY pri LIMIT 1) k
         ORDER BY u.n",
    )
    .bind(&receivables)
    .bind(&dates)
    .bind(&owed)
    .execute(&mut *tx)
    .await?;
    let allocations: Vec<&str> = run.iter().map(|p| p.allocation_id).collect();
    let customers: Vec<Uuid> = run.iter().map(|p| p.customer_id).collect();
    let amounts: Vec<Decimal> = run.iter().map(|p| p.amount).collect();
    let currencies: Vec<&str> = run.iter().map(|p| p.currency).collect();
    sqlx::query(
        "INSERT INTO payments_seen (allocation_id, customer_id, booking_date, amount, currency)
         SELECT * FROM UNNEST($1::text[], $2::uuid[], $3::date[], $4::numeric[], $5::text[])
         ON CONFLICT DO NOTHING",
    )
    .bind(&allocations)
    .bind(&customers)
    .bind(&dates)
    .bind(&amounts)
    .bind(&currencies)
    .execute(&mut *tx)
    .await?;
    let settled: Vec<bool> = run.iter().map(|p| p.paid_in_full).collect();
    let open: Vec<Decimal> = run.iter().map(|p| p.owed_after).collect();
    sqlx::query(
        "UPDATE upcoming SET open_amount = u.o, status = CASE WHEN u.s THEN 'settled' ELSE 'open' END
         FROM UNNEST($1::uuid[], $2::numeric[], $3::bool[]) AS u(r, o, s)
         WHERE receivable_id = u.r",
    )
    .bind(&receivables)
    .bind(&open)
    .bind(&settled)
    .execute(&mut *tx)
    .await
    .map(drop)
}

/// `cases::case_of_open_item` for many (customer, receivable): the active case and the
/// item's days overdue of those in one, cases locked in customer order (the order the day
/// run and a run of grade changes lock them in, so they do not deadlock each other).
pub async fn cases_of_open_items(
    tx: &mut PgConnection,
    items: &[(Uuid, Uuid)],
) -> Result<Vec<(Uuid, Uuid, i32)>, sqlx::Error> {
    let customers: Vec<Uuid> = items.iter().map(|(c, _)| *c).collect();
    let receivables: Vec<Uuid> = items.iter().map(|(_, r)| *r).collect();
    sqlx::query_as(
        "SELECT i.receivable_id, c.id, i.days_overdue
         FROM cases c JOIN case_items i ON i.case_id = c.id
         JOIN UNNEST($1::uuid[], $2::uuid[]) AS u(cu, r) ON c.customer_id = u.cu AND i.receivable_id = u.r
         WHERE c.status = 'active' AND i.status = 'open'
         ORDER BY c.customer_id
         FOR UPDATE OF c",
    )
    .bind(&customers)
    .bind(&receivables)
    .fetch_all(tx)
    .await
}

/// `cases::item_paid` for many items: (case, receivable, open, late fee, paid).
pub async fn items_paid(
    tx: &mut PgConnection,
    items: &[(Uuid, Uuid, Decimal, Option<Decimal>, bool)],
) -> Result<(), sqlx::Error> {
    let cases: Vec<Uuid> = items.iter().map(|i| i.0).collect();
    let receivables: Vec<Uuid> = items.iter().map(|i| i.1).collect();
    let open: Vec<Decimal> = items.iter().map(|i| i.2).collect();
    let fees: Vec<Option<Decimal>> = items.iter().map(|i| i.3).collect();
    let statuses: Vec<&str> = items
        .iter()
        .map(|i| if i.4 { "paid" } else { "open" })
        .collect();
    sqlx::query(
        "UPDATE case_items SET open_amount = u.o, status = u.s, late_fee = COALESCE(u.f, late_fee)
         FROM UNNEST($1::uuid[], $2::uuid[], $3::numeric[], $4::text[], $5::numeric[]) AS u(c, r, o, s, f)
         WHERE case_id = u.c AND receivable_id = u.r",
    )
    .bind(&cases)
    .bind(&receivables)
    .bind(&open)
    .bind(&statuses)
    .bind(&fees)
    .execute(tx)
    .await
    .map(drop)
}

/// One stop to record: `cases::record` of step `stopped` for one item.
pub struct Stop {
    pub action_id: Uuid,
    pub case_id: Uuid,
    pub receivable_id: Uuid,
    pub days: i32,
    pub on: NaiveDate,
    pub detail: String,
}

/// `cases::record` of many stops in one statement.
pub async fn record_stops(tx: &mut PgConnection, stops: &[Stop]) -> Result<(), sqlx::Error> {
    let ids: Vec<Uuid> = stops.iter().map(|s| s.action_id).collect();
    let cases: Vec<Uuid> = stops.iter().map(|s| s.case_id).collect();
    let receivables: Vec<Uuid> = stops.iter().map(|s| s.receivable_id).collect();
    let days: Vec<i32> = stops.iter().map(|s| s.days).collect();
    let dates: Vec<NaiveDate> = stops.iter().map(|s| s.on).collect();
    let details: Vec<&str> = stops.iter().map(|s| s.detail.as_str()).collect();
    sqlx::query(
        "INSERT INTO actions (id, case_id, step, receivable_ids, days_overdue, business_date, detail)
         SELECT i, c, 'stopped', ARRAY[r], d, b, t
         FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::int4[], $5::date[], $6::text[])
              WITH ORDINALITY AS u(i, c, r, d, b, t, n)
         ORDER BY n",
    )
    .bind(&ids)
    .bind(&cases)
    .bind(&receivables)
    .bind(&days)
    .bind(&dates)
    .bind(&details)
    .execute(tx)
    .await
    .map(drop)
}

/// `cases::close_if_settled` (as paid) for many cases (each once, with the day of the last
/// payment that settled it): the ones left with no open item close. Returns those, with
/// their day.
pub async fn close_settled(
    tx: &mut PgConnection,
    cases: &[(Uuid, NaiveDate)],
) -> Result<Vec<(Uuid, NaiveDate)>, sqlx::Error> {
    if cases.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = cases.iter().map(|c| c.0).collect();
    let days: Vec<NaiveDate> = cases.iter().map(|c| c.1).collect();
    // Each case's open items counted through its index, case by case: as NOT EXISTS the
    // planner made an anti-join over every open item of every case (it read stale
    // statistics as 28 rows for 6,000 and sorted them all, 16 ms a run).
    sqlx::query_as(
        "UPDATE cases c SET status = 'paid', closed_on = u.d
         FROM UNNEST($1::uuid[], $2::date[]) AS u(id, d)
         CROSS JOIN LATERAL (SELECT count(*) AS n FROM case_items i
                             WHERE i.case_id = u.id AND i.status = 'open') AS open
         WHERE c.id = u.id AND open.n = 0
         RETURNING c.id, u.d",
    )
    .bind(&ids)
    .bind(&days)
    .fetch_all(tx)
    .await
}

/// A debtor's name and unit as a signed contract gave them (`contacts::seen_contract`).
pub struct Seen<'a> {
    pub customer_id: Uuid,
    pub name: &'a str,
    pub unit: &'a str,
}

/// `contacts::seen_contract` for a run of signed contracts. The run names each customer
/// once (a name or unit given before stands, as one by one).
pub async fn debtors_seen(tx: &mut PgConnection, seen: &[Seen<'_>]) -> Result<(), sqlx::Error> {
    let customers: Vec<Uuid> = seen.iter().map(|s| s.customer_id).collect();
    let names: Vec<&str> = seen.iter().map(|s| s.name).collect();
    let units: Vec<&str> = seen.iter().map(|s| s.unit).collect();
    sqlx::query(
        "INSERT INTO debtors (customer_id, name, unit)
         SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[])
         ON CONFLICT (customer_id) DO UPDATE
           SET name = CASE WHEN debtors.name = '' THEN EXCLUDED.name ELSE debtors.name END,
               unit = CASE WHEN debtors.unit = '' THEN EXCLUDED.unit ELSE debtors.unit END",
    )
    .bind(&customers)
    .bind(&names)
    .bind(&units)
    .execute(tx)
    .await
    .map(drop)
}

/// One scheduled receivable of a signed contract.
pub struct Scheduled<'a> {
    pub receivable_id: Uuid,
    pub customer_id: Uuid,
    pub contract_no: &'a str,
    pub due_date: NaiveDate,
    pub currency: String,
    pub amount: Decimal,
    pub charge_type: String,
}

/// `kpis::learned` (kind scheduled, R-O7) and `ladder::upcoming_scheduled` (R-D1) for a run
/// of scheduled receivables, each at most once, in two statements.
pub async fn scheduled(tx: &mut PgConnection, items: &[Scheduled<'_>]) -> Result<(), sqlx::Error> {
    let receivables: Vec<Uuid> = items.iter().map(|i| i.receivable_id).collect();
    let customers: Vec<Uuid> = items.iter().map(|i| i.customer_id).collect();
    let currencies: Vec<&str> = items.iter().map(|i| i.currency.as_str()).collect();
    let dues: Vec<NaiveDate> = items.iter().map(|i| i.due_date).collect();
    let amounts: Vec<Decimal> = items.iter().map(|i| i.amount).collect();
    sqlx::query(
        "INSERT INTO kpi_balances (receivable_id, customer_id, currency, on_date, due_date, owed, overdue, kind)
         SELECT u.r, u.c, u.cur, NULL, u.d, u.a, false, 'scheduled'
         FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::date[], $5::numeric[])
              WITH ORDINALITY AS u(r, c, cur, d, a, n)
         WHERE NOT EXISTS (SELECT 1 FROM kpi_balances k WHERE k.receivable_id = u.r)
         ORDER BY u.n",
    )
    .bind(&receivables)
    .bind(&customers)
    .bind(&currencies)
    .bind(&dues)
    .bind(&amounts)
    .execute(&mut *tx)
    .await?;
    let contracts: Vec<&str> = items.iter().map(|i| i.contract_no).collect();
    let charges: Vec<&str> = items.iter().map(|i| i.charge_type.as_str()).collect();
    sqlx::query(
        "INSERT INTO upcoming (receivable_id, customer_id, contract_no, due_date, currency, open_amount, charge_type, status)
         SELECT u.r, u.c, u.k, u.d, u.cur, u.a, u.t, 'open'
         FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::date[], $5::text[], $6::numeric[], $7::text[])
              WITH ORDINALITY AS u(r, c, k, d, cur, a, t, n)
         ORDER BY u.n
         ON CONFLICT (receivable_id) DO NOTHING",
    )
    .bind(&receivables)
    .bind(&customers)
    .bind(&contracts)
    .bind(&dues)
    .bind(&currencies)
    .bind(&amounts)
    .bind(&charges)
    .execute(tx)
    .await
    .map(drop)
}

/// One overdue report of the daily cycle (`ReceivableOverdue`) as dunning reads it.
pub struct Overdue {
    pub receivable_id: Uuid,
    pub customer_id: Uuid,
    pub contract_id: Uuid,
    pub contract_no: String,
    pub as_of: NaiveDate,
    pub due_date: NaiveDate,
    pub currency: String,
    /// Owed but the late fee.
    pub open: Decimal,
    /// Late fee owed.
    pub late_fee: Decimal,
    pub principal: Decimal,
    pub days_overdue: i32,
    /// The charge type's proto name.
    pub charge_type: &'static str,
    pub late_fee_terms: String,
}

/// `ladder::overdue_seen` for a run of overdue reports.
pub async fn overdue_seen(tx: &mut PgConnection, run: &[Overdue]) -> Result<(), sqlx::Error> {
    let dates: Vec<NaiveDate> = run.iter().map(|o| o.as_of).collect();
    let receivables: Vec<Uuid> = run.iter().map(|o| o.receivable_id).collect();
    sqlx::query(
        "INSERT INTO overdue_seen (business_date, receivable_id)
         SELECT * FROM UNNEST($1::date[], $2::uuid[]) ON CONFLICT DO NOTHING",
    )
    .bind(&dates)
    .bind(&receivables)
    .execute(tx)
    .await
    .map(drop)
}

/// `kpis::learned` of each report's overdue balance (R-O7), in the run's order.
pub async fn overdue_learned(tx: &mut PgConnection, run: &[Overdue]) -> Result<(), sqlx::Error> {
    let receivables: Vec<Uuid> = run.iter().map(|o| o.receivable_id).collect();
    let customers: Vec<Uuid> = run.iter().map(|o| o.customer_id).collect();
    let currencies: Vec<&str> = run.iter().map(|o| o.currency.as_str()).collect();
    let days: Vec<NaiveDate> = run.iter().map(|o| o.as_of).collect();
    let dues: Vec<NaiveDate> = run.iter().map(|o| o.due_date).collect();
    let owed: Vec<Decimal> = run
        .iter()
        .map(|o| o.open.saturating_add(o.late_fee))
        .collect();
    sqlx::query(
        "INSERT INTO kpi_balances (receivable_id, customer_id, currency, on_date, due_date, owed, overdue, kind)
         SELECT u.r, u.c, u.cur, u.o, u.d, u.a, true, 'overdue'
         FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::date[], $5::date[], $6::numeric[])
              WITH ORDINALITY AS u(r, c, cur, o, d, a, n)
         ORDER BY u.n",
    )
    .bind(&receivables)
    .bind(&customers)
    .bind(&currencies)
    .bind(&days)
    .bind(&dues)
    .bind(&owed)
    .execute(tx)
    .await
    .map(drop)
}

/// Which of `receivables` were handed to legal (R-L5).
pub async fn in_legal(
    tx: &mut PgConnection,
    receivables: &[Uuid],
) -> Result<std::collections::HashSet<Uuid>, sqlx::Error> {
    let rows: Vec<Uuid> = sqlx::query_scalar(
        "SELECT receivable_id FROM receivables_in_legal WHERE receivable_id = ANY($1)",
    )
    .bind(receivables)
    .fetch_all(tx)
    .await?;
    Ok(rows.into_iter().collect())
}

/// `cases::open_case` for many debtors (customer, the day a new case opens on), sorted by
/// customer: a case is opened, at the grade scoring last gave, for each debtor with no
/// active one; then every debtor's active case is locked in customer order. Returns the
/// case of each.
pub async fn open_cases(
    tx: &mut PgConnection,
    debtors: &[(Uuid, NaiveDate)],
) -> Result<std::collections::HashMap<Uuid, Uuid>, sqlx::Error> {
    let ids: Vec<Uuid> = debtors.iter().map(|_| Uuid::now_v7()).collect();
    let customers: Vec<Uuid> = debtors.iter().map(|d| d.0).collect();
    let days: Vec<NaiveDate> = debtors.iter().map(|d| d.1).collect();
    // A new case is seen by nobody else before commit, so inserting first takes no lock the
    // day run could hold; the existing ones are then locked in customer order.
    sqlx::query(
        "INSERT INTO cases (id, customer_id, status, grade, opened_on)
         SELECT u.i, u.c, 'active', COALESCE(g.grade, ''), u.d
         FROM UNNEST($1::uuid[], $2::uuid[], $3::date[]) AS u(i, c, d)
         LEFT JOIN customer_grades g ON g.customer_id = u.c
         WHERE NOT EXISTS (SELECT 1 FROM cases x WHERE x.customer_id = u.c AND x.status = 'active')
         ORDER BY u.c
         ON CONFLICT (customer_id) WHERE status = 'active' DO NOTHING",
    )
    .bind(&ids)
    .bind(&customers)
    .bind(&days)
    .execute(&mut *tx)
    .await?;
    let rows: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "SELECT customer_id, id FROM cases WHERE customer_id = ANY($1) AND status = 'active'
         ORDER BY customer_id FOR UPDATE",
    )
    .bind(&customers)
    .fetch_all(tx)
    .await?;
    Ok(rows.into_iter().collect())
}

/// Adds each item (case, report) to its case or brings it up to date (not once paid,
/// escalated or amended); each receivable once. One by one, a run of one.
pub async fn upsert_items(
    tx: &mut PgConnection,
    items: &[(Uuid, &Overdue)],
) -> Result<(), sqlx::Error> {
    let cases: Vec<Uuid> = items.iter().map(|i| i.0).collect();
    let receivables: Vec<Uuid> = items.iter().map(|i| i.1.receivable_id).collect();
    let contracts: Vec<Uuid> = items.iter().map(|i| i.1.contract_id).collect();
    let numbers: Vec<&str> = items.iter().map(|i| i.1.contract_no.as_str()).collect();
    let dues: Vec<NaiveDate> = items.iter().map(|i| i.1.due_date).collect();
    let currencies: Vec<&str> = items.iter().map(|i| i.1.currency.as_str()).collect();
    let open: Vec<Decimal> = items.iter().map(|i| i.1.open).collect();
    let days: Vec<i32> = items.iter().map(|i| i.1.days_overdue).collect();
    let fees: Vec<Decimal> = items.iter().map(|i| i.1.late_fee).collect();
    let charges: Vec<&str> = items.iter().map(|i| i.1.charge_type).collect();
    let principal: Vec<Decimal> = items.iter().map(|i| i.1.principal).collect();
    let terms: Vec<&str> = items.iter().map(|i| i.1.late_fee_terms.as_str()).collect();
    sqlx::query(
        "INSERT INTO case_items (case_id, receivable_id, contract_id, contract_no, due_date, currency, open_amount,
                                 days_overdue, status, late_fee, charge_type, principal, late_fee_terms)
         SELECT u.c, u.r, u.k, u.no, u.d, u.cur, u.o, u.days, 'open', u.f, u.t, u.p, u.terms
         FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::date[], $6::text[], $7::numeric[],
                     $8::int4[], $9::numeric[], $10::text[], $11::numeric[], $12::text[])
              WITH ORDINALITY AS u(c, r, k, no, d, cur, o, days, f, t, p, terms, n)
         ORDER BY u.n
         ON CONFLICT (case_id, receivable_id) DO UPDATE
           SET open_amount = EXCLUDED.open_amount, late_fee = EXCLUDED.late_fee,
               days_overdue = GREATEST(case_items.days_overdue, EXCLUDED.days_overdue),
               due_date = EXCLUDED.due_date, status = 'open', charge_type = EXCLUDED.charge_type,
               principal = EXCLUDED.principal, late_fee_terms = EXCLUDED.late_fee_terms
           WHERE case_items.status IN ('open', 'deferred')",
    )
    .bind(&cases)
    .bind(&receivables)
    .bind(&contracts)
    .bind(&numbers)
    .bind(&dues)
    .bind(&currencies)
    .bind(&open)
    .bind(&days)
    .bind(&fees)
    .bind(&charges)
    .bind(&principal)
    .bind(&terms)
    .execute(tx)
    .await
    .map(drop)
}
