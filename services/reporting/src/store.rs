//! Every SQL statement of the reporting service, named by intent.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::{Item, Movement, MovementKind};

/// A receivable as billed.
#[derive(Debug, Clone)]
pub struct NewItem {
    pub receivable_id: Uuid,
    pub contract_id: Uuid,
    pub customer_id: Uuid,
    pub currency: String,
    pub due: NaiveDate,
    pub billed_on: NaiveDate,
    pub amount: Decimal,
}

/// Records a billed receivable (a repeat changes nothing).
pub async fn insert_item(conn: &mut PgConnection, item: &NewItem) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO items (receivable_id, contract_id, customer_id, currency, due_date, \
         billed_on, amount) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (receivable_id) DO NOTHING",
    )
    .bind(item.receivable_id)
    .bind(item.contract_id)
    .bind(item.customer_id)
    .bind(&item.currency)
    .bind(item.due)
    .bind(item.billed_on)
    .bind(item.amount)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Records a contract's billed receivables in one statement (a repeat changes nothing).
pub async fn insert_items(conn: &mut PgConnection, items: &[NewItem]) -> Result<(), sqlx::Error> {
    let ids: Vec<Uuid> = items.iter().map(|i| i.receivable_id).collect();
    let contracts: Vec<Uuid> = items.iter().map(|i| i.contract_id).collect();
    let customers: Vec<Uuid> = items.iter().map(|i| i.customer_id).collect();
    let currencies: Vec<&str> = items.iter().map(|i| i.currency.as_str()).collect();
    let dues: Vec<NaiveDate> = items.iter().map(|i| i.due).collect();
    let billed: Vec<NaiveDate> = items.iter().map(|i| i.billed_on).collect();
    let amounts: Vec<Decimal> = items.iter().map(|i| i.amount).collect();
    sqlx::query(
        "INSERT INTO items (receivable_id, contract_id, customer_id, currency, due_date, billed_on, amount)
         SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::date[], $6::date[], $7::numeric[])
         ON CONFLICT (receivable_id) DO NOTHING",
    )
    .bind(&ids)
    .bind(&contracts)
    .bind(&customers)
    .bind(&currencies)
    .bind(&dues)
    .bind(&billed)
    .bind(&amounts)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Records a change to an item's principal (skips a zero change).
pub async fn record_movement(
    conn: &mut PgConnection,
    receivable_id: Uuid,
    on: NaiveDate,
    principal: Decimal,
    kind: MovementKind,
    event_id: Uuid,
) -> Result<(), sqlx::Error> {
    let moved = NewMovement {
        receivable_id,
        on,
        principal,
        kind,
        event_id,
    };
    record_movements(conn, &[moved]).await
}

/// A change to an item's principal, to record with [`record_movements`].
#[derive(Debug, Clone, Copy)]
pub struct NewMovement {
    pub receivable_id: Uuid,
    pub on: NaiveDate,
    pub principal: Decimal,
    pub kind: MovementKind,
    pub event_id: Uuid,
}

/// [`record_movement`] for many, in order, in one statement (zero changes skipped).
pub async fn record_movements(
    conn: &mut PgConnection,
    moved: &[NewMovement],
) -> Result<(), sqlx::Error> {
    let moved: Vec<&NewMovement> = moved.iter().filter(|m| !m.principal.is_zero()).collect();
    if moved.is_empty() {
        return Ok(());
    }
    let receivables: Vec<Uuid> = moved.iter().map(|m| m.receivable_id).collect();
    let days: Vec<NaiveDate> = moved.iter().map(|m| m.on).collect();
    let principal: Vec<Decimal> = moved.iter().map(|m| m.principal).collect();
    let kinds: Vec<&str> = moved.iter().map(|m| m.kind.as_str()).collect();
    let events: Vec<Uuid> = moved.iter().map(|m| m.event_id).collect();
    sqlx::query(
        "INSERT INTO movements (receivable_id, on_date, principal, kind, event_id) \
         SELECT r, d, p, k, e FROM UNNEST($1::uuid[], $2::date[], $3::numeric[], $4::text[], $5::uuid[]) \
              WITH ORDINALITY AS u(r, d, p, k, e, n) \
         ORDER BY n",
    )
    .bind(&receivables)
    .bind(&days)
    .bind(&principal)
    .bind(&kinds)
    .bind(&events)
    .execute(conn)
    .await
    .map(|_| ())
}

/// An item's scheduled principal now (as billed, with amendments) and its open principal;
/// `None` for an item reporting does not know.
pub async fn principal_of(
    conn: &mut PgConnection,
    receivable_id: Uuid,
) -> Result<Option<(Decimal, Decimal)>, sqlx::Error> {
    let row: Option<(Decimal, Decimal, Decimal)> = sqlx::query_as(
        "SELECT i.amount, \
                COALESCE(SUM(m.principal) FILTER (WHERE m.kind = 'amended'), 0), \
                COALESCE(SUM(m.principal), 0) \
         FROM items i LEFT JOIN movements m USING (receivable_id) \
         WHERE i.receivable_id = $1 GROUP BY i.amount",
    )
    .bind(receivable_id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(amount, amended, all)| (amount + amended, amount + all)))
}

/// One step of a debt's story.
#[derive(Debug, Clone)]
pub struct NewStep {
    pub event_id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub service: String,
    pub event: String,
    pub summary: String,
    pub customer_id: Option<Uuid>,
    pub contract_id: Option<Uuid>,
    pub receivable_ids: Vec<Uuid>,
    pub payment_id: Option<Uuid>,
    pub case_id: Option<Uuid>,
}

/// Records steps in one statement, in order (a repeat changes nothing).
pub async fn record_steps(conn: &mut PgConnection, steps: &[NewStep]) -> Result<(), sqlx::Error> {
    if steps.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = steps.iter().map(|s| s.event_id).collect();
    let at: Vec<DateTime<Utc>> = steps.iter().map(|s| s.occurred_at).collect();
    let services: Vec<&str> = steps.iter().map(|s| s.service.as_str()).collect();
    let events: Vec<&str> = steps.iter().map(|s| s.event.as_str()).collect();
    let summaries: Vec<&str> = steps.iter().map(|s| s.summary.as_str()).collect();
    let customers: Vec<Option<Uuid>> = steps.iter().map(|s| s.customer_id).collect();
    let contracts: Vec<Option<Uuid>> = steps.iter().map(|s| s.contract_id).collect();
    // A uuid[] per row cannot go through UNNEST (it would flatten): each as a list.
    let receivables: Vec<String> = steps
        .iter()
        .map(|s| {
            s.receivable_ids
                .iter()
                .map(Uuid::to_string)
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect();
    let payments: Vec<Option<Uuid>> = steps.iter().map(|s| s.payment_id).collect();
    let cases: Vec<Option<Uuid>> = steps.iter().map(|s| s.case_id).collect();
    sqlx::query(
        "INSERT INTO timeline (event_id, occurred_at, service, event, summary, customer_id, \
         contract_id, receivable_ids, payment_id, case_id) \
         SELECT e, o, s, v, m, cu, co, \
                CASE WHEN r = '' THEN '{}'::uuid[] ELSE string_to_array(r, ',')::uuid[] END, p, ca \
         FROM UNNEST($1::uuid[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::uuid[], \
                     $7::uuid[], $8::text[], $9::uuid[], $10::uuid[]) \
              WITH ORDINALITY AS u(e, o, s, v, m, cu, co, r, p, ca, n) \
         ORDER BY n \
         ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(&ids)
    .bind(&at)
    .bind(&services)
    .bind(&events)
    .bind(&summaries)
    .bind(&customers)
    .bind(&contracts)
    .bind(&receivables)
    .bind(&payments)
    .bind(&cases)
    .execute(conn)
    .await
    .map(|_| ())
}

/// A receivable with its ids.
#[derive(Debug, Clone)]
pub struct KeyedItem {
    pub receivable_id: Uuid,
    pub customer_id: Uuid,
    pub item: Item,
}

/// Every item (of `currency`, if given) with its movements.
pub async fn items(
    conn: &mut PgConnection,
    currency: Option<&str>,
) -> Result<Vec<Item>, sqlx::Error> {
    Ok(keyed_items(conn, currency)
        .await?
        .into_iter()
        .map(|k| k.item)
        .collect())
}

/// Every item (of `currency`, if given) with its movements, its id and its customer.
pub async fn keyed_items(
    conn: &mut PgConnection,
    currency: Option<&str>,
) -> Result<Vec<KeyedItem>, sqlx::Error> {
    type Row = (
        Uuid,
        Uuid,
        String,
        NaiveDate,
        NaiveDate,
        Decimal,
        Option<NaiveDate>,
        Option<Decimal>,
        Option<String>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT i.receivable_id, i.customer_id, i.currency, i.due_date, i.billed_on, i.amount, \
                m.on_date, m.principal, m.kind \
         FROM items i LEFT JOIN movements m USING (receivable_id) \
         WHERE $1::text IS NULL OR i.currency = $1 \
         ORDER BY i.receivable_id, m.id",
    )
    .bind(currency)
    .fetch_all(conn)
    .await?;
    let mut items: Vec<KeyedItem> = Vec::new();
    for (id, customer_id, currency, due, billed_on, amount, on, principal, kind) in rows {
        if items.last().is_none_or(|k| k.receivable_id != id) {
            items.push(KeyedItem {
                receivable_id: id,
                customer_id,
                item: Item {
                    currency,
                    due,
                    billed_on,
                    amount,
                    movements: Vec::new(),
                },
            });
        }
        if let (Some(on), Some(principal), Some(kind)) = (on, principal, kind) {
            let Some(kind) = MovementKind::parse(&kind) else {
                return Err(sqlx::Error::Decode(
                    format!("movement of {id} has the unknown kind {kind:?}").into(),
                ));
            };
            if let Some(keyed) = items.last_mut() {
                keyed.item.movements.push(Movement {
                    on,
                    principal,
                    kind,
                });
            }
        }
    }
    Ok(items)
}

/// A dunning step as executed (R-D1).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DunningStep {
    pub event_id: Uuid,
    pub customer_id: Uuid,
    pub case_id: Option<Uuid>,
    pub step: String,
    pub channel: i32,
    pub on_date: NaiveDate,
    pub occurred_at: DateTime<Utc>,
    pub receivable_ids: Vec<Uuid>,
}

/// Records a step (a repeat changes nothing).
pub async fn record_dunning_step(
    conn: &mut PgConnection,
    step: &DunningStep,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO dunning_steps (event_id, customer_id, case_id, step, channel, on_date, \
         occurred_at, receivable_ids) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(step.event_id)
    .bind(step.customer_id)
    .bind(step.case_id)
    .bind(&step.step)
    .bind(step.channel)
    .bind(step.on_date)
    .bind(step.occurred_at)
    .bind(&step.receivable_ids)
    .execute(conn)
    .await
    .map(|_| ())
}

/// The steps taken within `from..=to`, in the order they were taken.
pub async fn dunning_steps_within(
    conn: &mut PgConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<DunningStep>, sqlx::Error> {
    sqlx::query_as(
        "SELECT event_id, customer_id, case_id, step, channel, on_date, occurred_at, \
                receivable_ids \
         FROM dunning_steps WHERE on_date BETWEEN $1 AND $2 \
         ORDER BY on_date, occurred_at, event_id",
    )
    .bind(from)
    .bind(to)
    .fetch_all(conn)
    .await
}

/// A promise to pay (R-D5).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PromiseRow {
    pub promise_id: Uuid,
    pub customer_id: Uuid,
    pub currency: String,
    pub amount: Decimal,
    pub promised_date: NaiveDate,
    pub made_on: Option<NaiveDate>,
    pub kept: Option<bool>,
    pub judged_on: Option<NaiveDate>,
    pub paid: Option<Decimal>,
}

/// Records a promise made (a repeat, or one already judged, keeps its judgement).
pub async fn record_promise_made(
    conn: &mut PgConnection,
    p: &PromiseRow,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO promises (promise_id, customer_id, currency, amount, promised_date, made_on) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (promise_id) DO UPDATE SET made_on = EXCLUDED.made_on",
    )
    .bind(p.promise_id)
    .bind(p.customer_id)
    .bind(&p.currency)
    .bind(p.amount)
    .bind(p.promised_date)
    .bind(p.made_on)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Records a promise's judgement (creating it when its making was never seen).
pub async fn record_promise_judged(
    conn: &mut PgConnection,
    p: &PromiseRow,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO promises (promise_id, customer_id, currency, amount, promised_date, kept, \
         judged_on, paid) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (promise_id) DO UPDATE SET kept = EXCLUDED.kept, \
         judged_on = EXCLUDED.judged_on, paid = EXCLUDED.paid",
    )
    .bind(p.promise_id)
    .bind(p.customer_id)
    .bind(&p.currency)
    .bind(p.amount)
    .bind(p.promised_date)
    .bind(p.kept)
    .bind(p.judged_on)
    .bind(p.paid)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Every promise of `currency`.
pub async fn promises(
    conn: &mut PgConnection,
    currency: &str,
) -> Result<Vec<PromiseRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT promise_id, customer_id, currency, amount, promised_date, made_on, kept, \
                judged_on, paid \
         FROM promises WHERE currency = $1 ORDER BY promised_date, promise_id",
    )
    .bind(currency)
    .fetch_all(conn)
    .await
}

/// Records a demand that reached its debtor (a repeat changes nothing).
pub async fn record_contact(
    conn: &mut PgConnection,
    seq: i64,
    customer_id: Uuid,
    channel: i32,
    on: NaiveDate,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO contacts (contact_log_seq, customer_id, channel, on_date) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (contact_log_seq) DO NOTHING",
    )
    .bind(seq)
    .bind(customer_id)
    .bind(channel)
    .bind(on)
    .execute(conn)
    .await
    .map(|_| ())
}

/// The demands that reached debtors within `from..=to`: customer and day.
pub async fn contacts_within(
    conn: &mut PgConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(Uuid, NaiveDate)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT customer_id, on_date FROM contacts WHERE on_date BETWEEN $1 AND $2 \
         ORDER BY contact_log_seq",
    )
    .bind(from)
    .bind(to)
    .fetch_all(conn)
    .await
}

/// Each customer's collector (R-C9): the customer's own owner, else the owner of its first
/// contract; with their team.
pub async fn customer_owners(
    conn: &mut PgConnection,
) -> Result<Vec<(Uuid, String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT DISTINCT ON (customer_id) customer_id, owner, team FROM owners \
         ORDER BY customer_id, (scope_key = 'customer') DESC, scope_key",
    )
    .fetch_all(conn)
    .await
}

/// The contract of a receivable.
pub async fn contract_of_receivable(
    conn: &mut PgConnection,
    receivable_id: Uuid,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar("SELECT contract_id FROM items WHERE receivable_id = $1")
        .bind(receivable_id)
        .fetch_all(conn)
        .await
}

/// The contracts a payment was allocated to (or proposed for).
pub async fn contracts_of_payment(
    conn: &mut PgConnection,
    payment_id: Uuid,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT DISTINCT i.contract_id FROM timeline t \
         JOIN items i ON i.receivable_id = ANY (t.receivable_ids) \
         WHERE t.payment_id = $1 ORDER BY 1",
    )
    .bind(payment_id)
    .fetch_all(conn)
    .await
}

/// The contracts whose receivables a legal case claims.
pub async fn contracts_of_case(
    conn: &mut PgConnection,
    case_id: Uuid,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT DISTINCT i.contract_id FROM timeline t \
         JOIN items i ON i.receivable_id = ANY (t.receivable_ids) \
         WHERE t.case_id = $1 ORDER BY 1",
    )
    .bind(case_id)
    .fetch_all(conn)
    .await
}

/// Whether reporting knows the contract.
pub async fn contract_known(
    conn: &mut PgConnection,
    contract_id: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM items WHERE contract_id = $1)")
        .bind(contract_id)
        .fetch_one(conn)
        .await
}

/// The customers of the contracts (for the caller's scope).
pub async fn customers_of(
    conn: &mut PgConnection,
    contract_ids: &[Uuid],
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT DISTINCT customer_id FROM items WHERE contract_id = ANY ($1) ORDER BY 1",
    )
    .bind(contract_ids)
    .fetch_all(conn)
    .await
}

/// A stored step.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Step {
    pub event_id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub service: String,
    pub event: String,
    pub summary: String,
    pub contract_id: Option<Uuid>,
    pub receivable_ids: Vec<Uuid>,
    pub payment_id: Option<Uuid>,
    pub case_id: Option<Uuid>,
}

/// Every step of the contracts' story: the contract's own events, those about its
/// receivables, those about the payments allocated to them and about the legal cases that
/// claim them; in time order.
pub async fn trace(
    conn: &mut PgConnection,
    contract_ids: &[Uuid],
) -> Result<Vec<Step>, sqlx::Error> {
    sqlx::query_as(
        "WITH r AS (SELECT receivable_id FROM items WHERE contract_id = ANY ($1)), \
              linked AS ( \
                SELECT payment_id, case_id FROM timeline \
                WHERE contract_id = ANY ($1) \
                   OR receivable_ids && ARRAY(SELECT receivable_id FROM r)) \
         SELECT event_id, occurred_at, service, event, summary, contract_id, receivable_ids, \
                payment_id, case_id \
         FROM timeline \
         WHERE contract_id = ANY ($1) \
            OR receivable_ids && ARRAY(SELECT receivable_id FROM r) \
            OR payment_id IN (SELECT payment_id FROM linked WHERE payment_id IS NOT NULL) \
            OR case_id IN (SELECT case_id FROM linked WHERE case_id IS NOT NULL) \
         ORDER BY occurred_at, event_id",
    )
    .bind(contract_ids)
    .fetch_all(conn)
    .await
}

/// The last recorded provision run of `currency` before `as_of`: its date and total.
pub async fn provision_before(
    conn: &mut PgConnection,
    currency: &str,
    as_of: NaiveDate,
) -> Result<Option<(NaiveDate, Decimal)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT as_of, total FROM provision_runs WHERE currency = $1 AND as_of < $2 \
         ORDER BY as_of DESC LIMIT 1",
    )
    .bind(currency)
    .bind(as_of)
    .fetch_optional(conn)
    .await
}

/// Records (or replaces) the run of `currency` on `as_of`.
pub async fn record_provision(
    conn: &mut PgConnection,
    currency: &str,
    as_of: NaiveDate,
    matrix: &str,
    total: Decimal,
    by_bucket: &str,
    recorded_by: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO provision_runs (currency, as_of, matrix, total, by_bucket, recorded_by) \
         VALUES ($1, $2, $3, $4, $5::jsonb, $6) \
         ON CONFLICT (currency, as_of) DO UPDATE SET matrix = EXCLUDED.matrix, \
         total = EXCLUDED.total, by_bucket = EXCLUDED.by_bucket, \
         recorded_by = EXCLUDED.recorded_by, recorded_at = now()",
    )
    .bind(currency)
    .bind(as_of)
    .bind(matrix)
    .bind(total)
    .bind(by_bucket)
    .bind(recorded_by)
    .execute(conn)
    .await
    .map(|_| ())
}
