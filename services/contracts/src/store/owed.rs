//! What is owed per receivable by component (issue 12 item 3): accruals of the daily cycle,
//! allocations booked by component, collection costs booked by event.

use std::collections::HashMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::owed::{Book, Component, Owed};

/// What the daily cycle writes for one receivable.
pub(crate) struct Accrual {
    pub(crate) receivable_id: Uuid,
    pub(crate) overdue_since: Option<NaiveDate>,
    pub(crate) days_overdue: i32,
    pub(crate) as_of: NaiveDate,
    pub(crate) late_fee: Book,
    pub(crate) interest: Book,
    pub(crate) accruing: bool,
}

/// Records the cycle's accruals of many receivables in one statement.
pub(crate) async fn record_accruals(
    conn: &mut PgConnection,
    accruals: &[Accrual],
) -> Result<(), sqlx::Error> {
    if accruals.is_empty() {
        return Ok(());
    }
    let col = |f: &dyn Fn(&Accrual) -> Decimal| accruals.iter().map(f).collect::<Vec<_>>();
    let ids: Vec<Uuid> = accruals.iter().map(|a| a.receivable_id).collect();
    let since: Vec<Option<NaiveDate>> = accruals.iter().map(|a| a.overdue_since).collect();
    let days: Vec<i32> = accruals.iter().map(|a| a.days_overdue).collect();
    let accruing: Vec<bool> = accruals.iter().map(|a| a.accruing).collect();
    let as_of = accruals[0].as_of;
    sqlx::query(
        "UPDATE receivables r SET overdue_since = COALESCE(r.overdue_since, u.since), days_overdue = u.days,
                last_cycle = $2, late_fee = u.fee, late_fee_open = u.fee_open, interest = u.interest,
                interest_open = u.interest_open, accruing = u.accruing
         FROM UNNEST($1::uuid[], $3::date[], $4::int[], $5::numeric[], $6::numeric[], $7::numeric[],
                     $8::numeric[], $9::bool[])
              AS u(id, since, days, fee, fee_open, interest, interest_open, accruing)
         WHERE r.id = u.id",
    )
    .bind(&ids)
    .bind(as_of)
    .bind(&since)
    .bind(&days)
    .bind(col(&|a| a.late_fee.charged))
    .bind(col(&|a| a.late_fee.open))
    .bind(col(&|a| a.interest.charged))
    .bind(col(&|a| a.interest.open))
    .bind(&accruing)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Sets what is owed after a settlement (allocation, waiver, write-off).
pub(crate) async fn set_owed(
    conn: &mut PgConnection,
    receivable_id: Uuid,
    owed: &Owed,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE receivables SET open_amount = $2, late_fee_open = $3, interest_open = $4, costs_open = $5
         WHERE id = $1",
    )
    .bind(receivable_id)
    .bind(owed.principal)
    .bind(owed.late_fee)
    .bind(owed.interest)
    .bind(owed.costs)
    .execute(conn)
    .await
    .map(|_| ())
}

/// An allocation applied, with its parts.
pub(crate) struct Applied<'a> {
    pub(crate) allocation_id: Uuid,
    pub(crate) payment_id: Uuid,
    pub(crate) receivable_id: Uuid,
    pub(crate) amount: Decimal,
    pub(crate) booking_date: Option<NaiveDate>,
    pub(crate) basis: &'a str,
    pub(crate) differs_from_proposal: bool,
    pub(crate) parts: &'a [(Component, Decimal)],
}

/// Records an applied allocation and its parts.
pub(crate) async fn insert_applied(
    conn: &mut PgConnection,
    a: &Applied<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO allocations (id, payment_id, receivable_id, amount, status, booking_date, basis, differs_from_proposal)
         VALUES ($1, $2, $3, $4, 'applied', $5, $6, $7)",
    )
    .bind(a.allocation_id)
    .bind(a.payment_id)
    .bind(a.receivable_id)
    .bind(a.amount)
    .bind(a.booking_date)
    .bind(a.basis)
    .bind(a.differs_from_proposal)
    .execute(&mut *conn)
    .await?;
    let components: Vec<&str> = a.parts.iter().map(|(c, _)| c.as_str()).collect();
    let amounts: Vec<Decimal> = a.parts.iter().map(|(_, x)| *x).collect();
    sqlx::query(
        "INSERT INTO allocation_parts (allocation_id, component, amount)
         SELECT $1, c, x FROM unnest($2::text[], $3::numeric[]) AS p(c, x)",
    )
    .bind(a.allocation_id)
    .bind(&components)
    .bind(&amounts)
    .execute(conn)
    .await
    .map(|_| ())
}

/// An allocation decided before: its status, amount and reason.
pub(crate) async fn decided(
    conn: &mut PgConnection,
    allocation_id: Uuid,
) -> Result<Option<(String, Decimal, String)>, sqlx::Error> {
    sqlx::query_as("SELECT status, amount, reason FROM allocations WHERE id = $1")
        .bind(allocation_id)
        .fetch_optional(conn)
        .await
}

/// Records a refused allocation with the reason.
pub(crate) async fn insert_rejected(
    conn: &mut PgConnection,
    allocation_id: Uuid,
    payment_id: Uuid,
    receivable_id: Uuid,
    amount: Decimal,
    reason: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO allocations (id, payment_id, receivable_id, amount, status, reason)
         VALUES ($1, $2, $3, $4, 'rejected', $5)",
    )
    .bind(allocation_id)
    .bind(payment_id)
    .bind(receivable_id)
    .bind(amount)
    .bind(reason)
    .execute(conn)
    .await
    .map(|_| ())
}

/// The parts an applied allocation booked (for answering a repeat).
pub(crate) async fn parts_of(
    conn: &mut PgConnection,
    allocation_id: Uuid,
) -> Result<Vec<(Component, Decimal)>, sqlx::Error> {
    let rows: Vec<(String, Decimal)> = sqlx::query_as(
        "SELECT component, amount FROM allocation_parts WHERE allocation_id = $1
         ORDER BY array_position(ARRAY['costs', 'interest', 'late_fee', 'principal'], component)",
    )
    .bind(allocation_id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(c, a)| crate::domain::waiver::parse_component(&c).map(|c| (c, a)))
        .collect())
}

/// Principal paid on each of `ids`, by booking date: it lowers the base of late fee and
/// interest from that day (R-C4).
pub(crate) async fn principal_payments(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<(NaiveDate, Decimal)>>, sqlx::Error> {
    let mut by_receivable: HashMap<Uuid, Vec<(NaiveDate, Decimal)>> = HashMap::new();
    if ids.is_empty() {
        return Ok(by_receivable);
    }
    let applied: Vec<(Uuid, Option<NaiveDate>, Decimal)> = sqlx::query_as(
        "SELECT a.receivable_id, a.booking_date, p.amount
         FROM allocations a JOIN allocation_parts p ON p.allocation_id = a.id
         WHERE a.status = 'applied' AND p.component = 'principal' AND a.receivable_id = ANY($1)
         ORDER BY a.booking_date",
    )
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?;
    // R-D8: principal credited for an upheld dispute counts from its effective day (the due
    // date): no late fee accrues on what was never owed.
    let credited: Vec<(Uuid, Option<NaiveDate>, Decimal)> = sqlx::query_as(
        "SELECT receivable_id, effective_on, amount FROM waivers
         WHERE status = 'approved' AND component = 'principal' AND receivable_id = ANY($1)",
    )
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?;
    for (id, date, amount) in applied.into_iter().chain(credited) {
        if let Some(date) = date {
            by_receivable.entry(id).or_default().push((date, amount));
        }
    }
    for payments in by_receivable.values_mut() {
        payments.sort_by_key(|(date, _)| *date);
    }
    Ok(by_receivable)
}

/// A collection cost to book (R-D12).
pub(crate) struct Cost<'a> {
    pub(crate) cost_id: Uuid,
    pub(crate) receivable_id: Uuid,
    pub(crate) customer_id: Uuid,
    pub(crate) kind: &'a str,
    /// What it is owed as: costs, or interest for the fund-occupation fee (R-C10).
    pub(crate) component: Component,
    pub(crate) amount: Decimal,
    pub(crate) incurred_on: NaiveDate,
    pub(crate) source: &'a str,
    pub(crate) description: &'a str,
}

/// Books a cost once: false when this cost id was booked before (a repeated event).
pub(crate) async fn book_cost(conn: &mut PgConnection, c: &Cost<'_>) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO collection_costs (id, receivable_id, customer_id, kind, amount, incurred_on, source, description)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING",
    )
    .bind(c.cost_id)
    .bind(c.receivable_id)
    .bind(c.customer_id)
    .bind(c.kind)
    .bind(c.amount)
    .bind(c.incurred_on)
    .bind(c.source)
    .bind(c.description)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if inserted {
        let statement = match c.component {
            // R-C10: compensation for the use of money is owed as interest (art. 561).
            Component::Interest => {
                "UPDATE receivables SET interest = interest + $2, interest_open = interest_open + $2 WHERE id = $1"
            }
            _ => {
                "UPDATE receivables SET costs = costs + $2, costs_open = costs_open + $2 WHERE id = $1"
            }
        };
        sqlx::query(statement)
            .bind(c.receivable_id)
            .bind(c.amount)
            .execute(conn)
            .await?;
    }
    Ok(inserted)
}

/// Records an early-payment discount (R-C7) earned by an allocation.
pub(crate) async fn record_discount(
    conn: &mut PgConnection,
    allocation_id: Uuid,
    receivable_id: Uuid,
    earned: &crate::domain::discount::Earned,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO early_payment_discounts (allocation_id, receivable_id, days_before_due, percent, amount)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(allocation_id)
    .bind(receivable_id)
    .bind(i32::try_from(earned.step.days_before_due).unwrap_or(i32::MAX))
    .bind(earned.step.percent)
    .bind(earned.amount)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE receivables SET discounted = discounted + $2 WHERE id = $1")
        .bind(receivable_id)
        .bind(earned.amount)
        .execute(conn)
        .await
        .map(|_| ())
}

/// What is owed now on each of `ids`, by component.
pub(crate) async fn owed_by_ids(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Owed>, sqlx::Error> {
    let rows: Vec<(Uuid, Decimal, Decimal, Decimal, Decimal)> = sqlx::query_as(
        "SELECT id, open_amount, late_fee_open, interest_open, costs_open FROM receivables WHERE id = ANY($1)",
    )
    .bind(ids)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, principal, late_fee, interest, costs)| {
            (
                id,
                Owed {
                    costs,
                    interest,
                    late_fee,
                    principal,
                },
            )
        })
        .collect())
}

/// The ids among `allocation_ids` decided before (see [`decided`]).
pub(crate) async fn decided_any(
    conn: &mut PgConnection,
    allocation_ids: &[Uuid],
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM allocations WHERE id = ANY($1)")
        .bind(allocation_ids)
        .fetch_all(conn)
        .await
}

/// [`set_owed`] for many receivables in one statement (each receivable once).
pub(crate) async fn set_owed_many(
    conn: &mut PgConnection,
    owed: &[(Uuid, Owed)],
) -> Result<(), sqlx::Error> {
    let ids: Vec<Uuid> = owed.iter().map(|(id, _)| *id).collect();
    let principal: Vec<Decimal> = owed.iter().map(|(_, o)| o.principal).collect();
    let late_fee: Vec<Decimal> = owed.iter().map(|(_, o)| o.late_fee).collect();
    let interest: Vec<Decimal> = owed.iter().map(|(_, o)| o.interest).collect();
    let costs: Vec<Decimal> = owed.iter().map(|(_, o)| o.costs).collect();
    sqlx::query(
        "UPDATE receivables r SET open_amount = u.p, late_fee_open = u.l, interest_open = u.i, costs_open = u.c
         FROM UNNEST($1::uuid[], $2::numeric[], $3::numeric[], $4::numeric[], $5::numeric[]) AS u(id, p, l, i, c)
         WHERE r.id = u.id",
    )
    .bind(&ids)
    .bind(&principal)
    .bind(&late_fee)
    .bind(&interest)
    .bind(&costs)
    .execute(conn)
    .await
    .map(|_| ())
}

/// [`insert_applied`] for many allocations in two statements.
pub(crate) async fn insert_applied_many(
    conn: &mut PgConnection,
    all: &[Applied<'_>],
) -> Result<(), sqlx::Error> {
    let ids: Vec<Uuid> = all.iter().map(|a| a.allocation_id).collect();
    let payments: Vec<Uuid> = all.iter().map(|a| a.payment_id).collect();
    let receivables: Vec<Uuid> = all.iter().map(|a| a.receivable_id).collect();
    let amounts: Vec<Decimal> = all.iter().map(|a| a.amount).collect();
    let dates: Vec<Option<NaiveDate>> = all.iter().map(|a| a.booking_date).collect();
    let bases: Vec<&str> = all.iter().map(|a| a.basis).collect();
    let differs: Vec<bool> = all.iter().map(|a| a.differs_from_proposal).collect();
    sqlx::query(
        "INSERT INTO allocations (id, payment_id, receivable_id, amount, status, booking_date, basis, differs_from_proposal)
         SELECT i, p, r, a, 'applied', d, b, f
         FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::numeric[], $5::date[], $6::text[], $7::bool[])
              AS u(i, p, r, a, d, b, f)",
    )
    .bind(&ids)
    .bind(&payments)
    .bind(&receivables)
    .bind(&amounts)
    .bind(&dates)
    .bind(&bases)
    .bind(&differs)
    .execute(&mut *conn)
    .await?;
    let mut part_allocations = Vec::new();
    let mut components = Vec::new();
    let mut part_amounts = Vec::new();
    for a in all {
        for (c, x) in a.parts {
            part_allocations.push(a.allocation_id);
            components.push(c.as_str());
            part_amounts.push(*x);
        }
    }
    sqlx::query(
        "INSERT INTO allocation_parts (allocation_id, component, amount)
         SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::numeric[])",
    )
    .bind(&part_allocations)
    .bind(&components)
    .bind(&part_amounts)
    .execute(conn)
    .await
    .map(|_| ())
}
