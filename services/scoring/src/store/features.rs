//! The feature state per customer that pts-v1 reads (R-S1), maintained from events. Every
//! write is keyed by the fact's own id (receivable, allocation, promise, dispute, case), so an
//! event delivered twice, even under a new event id, counts once.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::state::history_start;
use crate::domain::{CustomerState, Segment};

/// A receivable of a contract or a bill.
#[derive(Debug, Clone)]
pub struct NewReceivable {
    /// Its id.
    pub receivable_id: Uuid,
    /// When it falls due.
    pub due_date: Option<NaiveDate>,
    /// Its amount (what is open at first).
    pub amount: Decimal,
}

/// Records a customer's contract or bill: tenure starts at the earliest, the segment is the
/// first one seen, and each receivable is added once.
pub async fn record_receivables(
    tx: &mut PgConnection,
    customer_id: Uuid,
    signed_on: NaiveDate,
    segment: Segment,
    receivables: &[NewReceivable],
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO customer_features (customer_id, first_contract_on, segment) VALUES ($1, $2, $3)
         ON CONFLICT (customer_id) DO UPDATE
           SET first_contract_on = LEAST(customer_features.first_contract_on, EXCLUDED.first_contract_on)",
    )
    .bind(customer_id)
    .bind(signed_on)
    .bind(segment.as_str())
    .execute(&mut *tx)
    .await?;
    // Issue 16: the schedule in one statement. A statement may update a row once: a
    // receivable named twice counts once, its first amount and first known due date, as
    // one by one.
    let mut rows: Vec<(Uuid, Option<NaiveDate>, Decimal)> = Vec::with_capacity(receivables.len());
    for r in receivables {
        match rows.iter_mut().find(|row| row.0 == r.receivable_id) {
            Some(row) => row.1 = row.1.or(r.due_date),
            None => rows.push((r.receivable_id, r.due_date, r.amount)),
        }
    }
    let ids: Vec<Uuid> = rows.iter().map(|r| r.0).collect();
    let dues: Vec<Option<NaiveDate>> = rows.iter().map(|r| r.1).collect();
    let amounts: Vec<Decimal> = rows.iter().map(|r| r.2).collect();
    sqlx::query(
        "INSERT INTO receivable_features (receivable_id, customer_id, due_date, open_amount)
         SELECT u.r, $2, u.d, u.a FROM UNNEST($1::uuid[], $3::date[], $4::numeric[]) AS u(r, d, a)
         ON CONFLICT (receivable_id) DO UPDATE
           SET due_date = COALESCE(receivable_features.due_date, EXCLUDED.due_date)",
    )
    .bind(&ids)
    .bind(customer_id)
    .bind(&dues)
    .bind(&amounts)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// A receivable overdue on `as_of` (from the daily cycle).
#[derive(Debug, Clone)]
pub struct Overdue {
    /// The receivable.
    pub receivable_id: Uuid,
    /// Its customer.
    pub customer_id: Uuid,
    /// Days overdue on `as_of`.
    pub days_overdue: i32,
    /// The business date.
    pub as_of: NaiveDate,
    /// Its due date.
    pub due_date: Option<NaiveDate>,
    /// What is open on it.
    pub open_amount: Option<Decimal>,
}

/// Records an overdue receivable. Only a later business date moves it (a replayed older
/// event must not undo a newer one), and a paid receivable stays paid.
pub async fn record_overdue(tx: &mut PgConnection, o: &Overdue) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO receivable_features
           (receivable_id, customer_id, days_overdue, is_open, ever_late, as_of, due_date, open_amount)
         VALUES ($1, $2, $3, TRUE, TRUE, $4, $5, COALESCE($6, 0))
         ON CONFLICT (receivable_id) DO UPDATE
           SET days_overdue = EXCLUDED.days_overdue, ever_late = TRUE, as_of = EXCLUDED.as_of,
               due_date = COALESCE(EXCLUDED.due_date, receivable_features.due_date),
               open_amount = COALESCE($6, receivable_features.open_amount)
           WHERE receivable_features.is_open
             AND (receivable_features.as_of IS NULL OR receivable_features.as_of <= EXCLUDED.as_of)",
    )
    .bind(o.receivable_id)
    .bind(o.customer_id)
    .bind(o.days_overdue)
    .bind(o.as_of)
    .bind(o.due_date)
    .bind(o.open_amount)
    .execute(&mut *tx)
    .await?;
    touch_business_date(tx, o.customer_id, o.as_of).await
}

/// A payment applied to a receivable.
#[derive(Debug, Clone)]
pub struct Payment {
    /// The allocation (unique per application).
    pub allocation_id: Uuid,
    /// The customer.
    pub customer_id: Uuid,
    /// The receivable.
    pub receivable_id: Uuid,
    /// Amount applied.
    pub amount: Decimal,
    /// Booking date of the payment.
    pub booking_date: NaiveDate,
    /// What stays open on the receivable.
    pub open_after: Option<Decimal>,
    /// Nothing stays open.
    pub paid_in_full: bool,
}

/// Records a payment once per allocation: late when booked after the receivable's due date.
/// False when the allocation was already recorded (nothing changed).
pub async fn record_payment(tx: &mut PgConnection, p: &Payment) -> Result<bool, sqlx::Error> {
    let fresh = sqlx::query(
        "INSERT INTO receivable_payments (allocation_id, customer_id, receivable_id, amount, booking_date, late)
         VALUES ($1, $2, $3, $4, $5,
                 COALESCE($5 > (SELECT due_date FROM receivable_features WHERE receivable_id = $3), FALSE))
         ON CONFLICT (allocation_id) DO NOTHING",
    )
    .bind(p.allocation_id)
    .bind(p.customer_id)
    .bind(p.receivable_id)
    .bind(p.amount)
    .bind(p.booking_date)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if !fresh {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO receivable_features (receivable_id, customer_id, is_open, open_amount)
         VALUES ($1, $2, NOT $3, COALESCE($4, 0))
         ON CONFLICT (receivable_id) DO UPDATE
           SET is_open = receivable_features.is_open AND NOT $3,
               days_overdue = CASE WHEN $3 THEN 0 ELSE receivable_features.days_overdue END,
               open_amount = COALESCE($4, receivable_features.open_amount)",
    )
    .bind(p.receivable_id)
    .bind(p.customer_id)
    .bind(p.paid_in_full)
    .bind(p.open_after)
    .execute(&mut *tx)
    .await?;
    touch_business_date(tx, p.customer_id, p.booking_date).await?;
    Ok(true)
}

/// [`record_payment`] for a run of payments in three statements (issue 16). The run names
/// each allocation and each receivable once and says what stays open on each (the caller
/// checks); returns the allocations that were new.
pub async fn record_payments(
    tx: &mut PgConnection,
    payments: &[Payment],
) -> Result<HashSet<Uuid>, sqlx::Error> {
    let allocations: Vec<Uuid> = payments.iter().map(|p| p.allocation_id).collect();
    let customers: Vec<Uuid> = payments.iter().map(|p| p.customer_id).collect();
    let receivables: Vec<Uuid> = payments.iter().map(|p| p.receivable_id).collect();
    let amounts: Vec<Decimal> = payments.iter().map(|p| p.amount).collect();
    let dates: Vec<NaiveDate> = payments.iter().map(|p| p.booking_date).collect();
    let fresh: HashSet<Uuid> = sqlx::query_scalar::<_, Uuid>(
        "INSERT INTO receivable_payments (allocation_id, customer_id, receivable_id, amount, booking_date, late)
         SELECT u.a, u.c, u.r, u.m, u.b, COALESCE(u.b > f.due_date, FALSE)
         FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::numeric[], $5::date[]) WITH ORDINALITY AS u(a, c, r, m, b, n)
         LEFT JOIN receivable_features f ON f.receivable_id = u.r
         ORDER BY u.n
         ON CONFLICT (allocation_id) DO NOTHING
         RETURNING allocation_id",
    )
    .bind(&allocations)
    .bind(&customers)
    .bind(&receivables)
    .bind(&amounts)
    .bind(&dates)
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .collect();
    let new: Vec<&Payment> = payments
        .iter()
        .filter(|p| fresh.contains(&p.allocation_id))
        .collect();
    if new.is_empty() {
        return Ok(fresh);
    }
    let receivables: Vec<Uuid> = new.iter().map(|p| p.receivable_id).collect();
    let customers: Vec<Uuid> = new.iter().map(|p| p.customer_id).collect();
    let in_full: Vec<bool> = new.iter().map(|p| p.paid_in_full).collect();
    let open_after: Vec<Option<Decimal>> = new.iter().map(|p| p.open_after).collect();
    sqlx::query(
        "INSERT INTO receivable_features (receivable_id, customer_id, is_open, open_amount)
         SELECT u.r, u.c, NOT u.f, COALESCE(u.o, 0)
         FROM UNNEST($1::uuid[], $2::uuid[], $3::bool[], $4::numeric[]) AS u(r, c, f, o)
         ON CONFLICT (receivable_id) DO UPDATE
           SET is_open = receivable_features.is_open AND EXCLUDED.is_open,
               days_overdue = CASE WHEN NOT EXCLUDED.is_open THEN 0 ELSE receivable_features.days_overdue END,
               open_amount = COALESCE(EXCLUDED.open_amount, receivable_features.open_amount)",
    )
    .bind(&receivables)
    .bind(&customers)
    .bind(&in_full)
    .bind(&open_after)
    .execute(&mut *tx)
    .await?;
    touch_business_dates(tx, new.iter().map(|p| (p.customer_id, p.booking_date))).await?;
    Ok(fresh)
}

/// [`record_overdue`] for a run of overdue reports, each receivable once and each saying
/// what is open on it (an older producer's report without it goes one by one), in two
/// statements.
pub async fn record_overdues(tx: &mut PgConnection, run: &[Overdue]) -> Result<(), sqlx::Error> {
    if run.is_empty() {
        return Ok(());
    }
    let receivables: Vec<Uuid> = run.iter().map(|o| o.receivable_id).collect();
    let customers: Vec<Uuid> = run.iter().map(|o| o.customer_id).collect();
    let days: Vec<i32> = run.iter().map(|o| o.days_overdue).collect();
    let as_of: Vec<NaiveDate> = run.iter().map(|o| o.as_of).collect();
    let dues: Vec<Option<NaiveDate>> = run.iter().map(|o| o.due_date).collect();
    // The caller passes only reports that say what is open.
    let open: Vec<Decimal> = run
        .iter()
        .map(|o| o.open_amount.unwrap_or_default())
        .collect();
    sqlx::query(
        "INSERT INTO receivable_features
           (receivable_id, customer_id, days_overdue, is_open, ever_late, as_of, due_date, open_amount)
         SELECT u.r, u.c, u.d, TRUE, TRUE, u.a, u.due, u.o
         FROM UNNEST($1::uuid[], $2::uuid[], $3::int4[], $4::date[], $5::date[], $6::numeric[])
              WITH ORDINALITY AS u(r, c, d, a, due, o, n)
         ORDER BY u.n
         ON CONFLICT (receivable_id) DO UPDATE
           SET days_overdue = EXCLUDED.days_overdue, ever_late = TRUE, as_of = EXCLUDED.as_of,
               due_date = COALESCE(EXCLUDED.due_date, receivable_features.due_date),
               open_amount = EXCLUDED.open_amount
           WHERE receivable_features.is_open
             AND (receivable_features.as_of IS NULL OR receivable_features.as_of <= EXCLUDED.as_of)",
    )
    .bind(&receivables)
    .bind(&customers)
    .bind(&days)
    .bind(&as_of)
    .bind(&dues)
    .bind(&open)
    .execute(&mut *tx)
    .await?;
    touch_business_dates(tx, run.iter().map(|o| (o.customer_id, o.as_of))).await
}

/// `touch_business_date` for many (customer, day): each customer's latest, GREATEST over
/// the run as one by one, written in customer order (two runs lock rows in one order).
async fn touch_business_dates(
    tx: &mut PgConnection,
    days: impl Iterator<Item = (Uuid, NaiveDate)>,
) -> Result<(), sqlx::Error> {
    let mut latest: HashMap<Uuid, NaiveDate> = HashMap::new();
    for (customer, day) in days {
        latest
            .entry(customer)
            .and_modify(|d| *d = (*d).max(day))
            .or_insert(day);
    }
    let mut latest: Vec<(Uuid, NaiveDate)> = latest.into_iter().collect();
    latest.sort_unstable();
    let (customers, dates): (Vec<Uuid>, Vec<NaiveDate>) = latest.into_iter().unzip();
    sqlx::query(
        "INSERT INTO customer_features (customer_id, latest_business_date)
         SELECT * FROM UNNEST($1::uuid[], $2::date[])
         ON CONFLICT (customer_id) DO UPDATE
           SET latest_business_date = GREATEST(customer_features.latest_business_date, EXCLUDED.latest_business_date)",
    )
    .bind(&customers)
    .bind(&dates)
    .execute(tx)
    .await
    .map(drop)
}

/// The latest business date seen for the customer (end of the payment-history window).
async fn touch_business_date(
    tx: &mut PgConnection,
    customer_id: Uuid,
    date: NaiveDate,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO customer_features (customer_id, latest_business_date) VALUES ($1, $2)
         ON CONFLICT (customer_id) DO UPDATE
           SET latest_business_date = GREATEST(customer_features.latest_business_date, EXCLUDED.latest_business_date)",
    )
    .bind(customer_id)
    .bind(date)
    .execute(tx)
    .await?;
    Ok(())
}

/// R-D5, R-D6: a broken promise or repayment plan, once per id.
pub async fn record_broken_promise(
    tx: &mut PgConnection,
    promise_id: Uuid,
    customer_id: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO broken_promises (promise_id, customer_id) VALUES ($1, $2)
         ON CONFLICT (promise_id) DO NOTHING",
    )
    .bind(promise_id)
    .bind(customer_id)
    .execute(tx)
    .await?;
    Ok(())
}

/// R-D8: a dispute opened (true) or resolved (false). A resolution is final: a late copy
/// of the opening does not reopen it.
pub async fn record_dispute(
    tx: &mut PgConnection,
    dispute_id: Uuid,
    customer_id: Uuid,
    open: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO disputes (dispute_id, customer_id, is_open) VALUES ($1, $2, $3)
         ON CONFLICT (dispute_id) DO UPDATE SET is_open = disputes.is_open AND EXCLUDED.is_open",
    )
    .bind(dispute_id)
    .bind(customer_id)
    .bind(open)
    .execute(tx)
    .await?;
    Ok(())
}

/// R-L1: a legal case opened against the customer, once per case.
pub async fn record_legal_case(
    tx: &mut PgConnection,
    case_id: Uuid,
    customer_id: Uuid,
    opened_on: Option<NaiveDate>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO legal_cases (case_id, customer_id, opened_on) VALUES ($1, $2, $3)
         ON CONFLICT (case_id) DO NOTHING",
    )
    .bind(case_id)
    .bind(customer_id)
    .bind(opened_on)
    .execute(tx)
    .await?;
    Ok(())
}

/// The state of each of `customers` as pts-v1 needs it, in four statements whatever their
/// number (issue 16: a run of events rescores its customers together). A customer scoring
/// knows nothing of has the state of no history.
pub async fn states_of(
    tx: &mut PgConnection,
    customers: &[Uuid],
) -> Result<HashMap<Uuid, CustomerState>, sqlx::Error> {
    /// First contract, segment, latest business date.
    type Known = (Option<NaiveDate>, Option<String>, Option<NaiveDate>);
    type KnownRow = (Uuid, Option<NaiveDate>, Option<String>, Option<NaiveDate>);
    let known: Vec<KnownRow> = sqlx::query_as(
        "SELECT customer_id, first_contract_on, segment, latest_business_date FROM customer_features
         WHERE customer_id = ANY($1)",
    )
    .bind(customers)
    .fetch_all(&mut *tx)
    .await?;
    let known: HashMap<Uuid, Known> = known
        .into_iter()
        .map(|(c, first, segment, latest)| (c, (first, segment, latest)))
        .collect();
    let open: Vec<(Uuid, i32, Decimal, Decimal)> = sqlx::query_as(
        "SELECT customer_id, COALESCE(MAX(days_overdue) FILTER (WHERE is_open), 0)::int,
                COALESCE(SUM(open_amount) FILTER (WHERE is_open), 0),
                COALESCE(SUM(open_amount) FILTER (WHERE is_open AND days_overdue > 0), 0)
         FROM receivable_features WHERE customer_id = ANY($1) GROUP BY customer_id",
    )
    .bind(customers)
    .fetch_all(&mut *tx)
    .await?;
    let open: HashMap<Uuid, (i32, Decimal, Decimal)> = open
        .into_iter()
        .map(|(c, dpd, outstanding, overdue)| (c, (dpd, outstanding, overdue)))
        .collect();
    // No business date seen yet: no payment either, the window does not matter.
    let since: Vec<Option<NaiveDate>> = customers
        .iter()
        .map(|c| {
            known
                .get(c)
                .and_then(|(_, _, latest)| *latest)
                .map(history_start)
        })
        .collect();
    let paid: Vec<(Uuid, i64, Decimal, Decimal)> = sqlx::query_as(
        "SELECT u.c, COUNT(p.customer_id) FILTER (WHERE p.late), COALESCE(SUM(p.amount), 0),
                COALESCE(SUM(p.amount) FILTER (WHERE NOT p.late), 0)
         FROM UNNEST($1::uuid[], $2::date[]) AS u(c, s)
         LEFT JOIN receivable_payments p ON p.customer_id = u.c AND (u.s IS NULL OR p.booking_date >= u.s)
         GROUP BY u.c",
    )
    .bind(customers)
    .bind(&since)
    .fetch_all(&mut *tx)
    .await?;
    let paid: HashMap<Uuid, (i64, Decimal, Decimal)> = paid
        .into_iter()
        .map(|(c, late, paid, on_time)| (c, (late, paid, on_time)))
        .collect();
    let counts: Vec<(Uuid, i64, i64, i64)> = sqlx::query_as(
        "SELECT u.c,
                (SELECT COUNT(*) FROM broken_promises WHERE customer_id = u.c),
                (SELECT COUNT(*) FROM disputes WHERE customer_id = u.c AND is_open),
                (SELECT COUNT(*) FROM legal_cases WHERE customer_id = u.c)
         FROM UNNEST($1::uuid[]) AS u(c)",
    )
    .bind(customers)
    .fetch_all(&mut *tx)
    .await?;
    let counts: HashMap<Uuid, (i64, i64, i64)> = counts
        .into_iter()
        .map(|(c, broken, disputes, cases)| (c, (broken, disputes, cases)))
        .collect();
    let count = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
    Ok(customers
        .iter()
        .map(|c| {
            let (first_contract_on, segment, _) = known.get(c).cloned().unwrap_or_default();
            let (dpd, outstanding, overdue) = open.get(c).copied().unwrap_or_default();
            let (late, paid, on_time) = paid.get(c).copied().unwrap_or_default();
            let (broken, disputes, cases) = counts.get(c).copied().unwrap_or_default();
            let state = CustomerState {
                days_past_due: u32::try_from(dpd).unwrap_or_default(),
                late_payments: count(late),
                paid,
                paid_on_time: on_time,
                outstanding,
                overdue,
                broken_promises: count(broken),
                open_disputes: count(disputes),
                legal_cases: count(cases),
                first_contract_on,
                segment: segment
                    .as_deref()
                    .and_then(Segment::parse)
                    .unwrap_or(Segment::Residential),
            };
            (*c, state)
        })
        .collect())
}

/// R-S3: customers known to scoring with an id after `after`, in id order (a review's chunk).
pub async fn customers_after(
    tx: &mut PgConnection,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT customer_id FROM (
             SELECT customer_id FROM customer_features
             UNION SELECT customer_id FROM receivable_features
             UNION SELECT customer_id FROM scores) known
         WHERE $1::uuid IS NULL OR customer_id > $1
         ORDER BY customer_id LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(tx)
    .await
}
