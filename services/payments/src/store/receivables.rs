//! The read model of contracts' open receivables (`open_receivables`), built from contracts'
//! events: what is open, what is pending (proposed here, not yet confirmed by contracts) and
//! the payer accounts on file, as blind indexes and masked forms only (R-O4).

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

/// A receivable of a newly signed contract.
pub(crate) struct NewReceivable<'a> {
    pub(crate) receivable_id: Uuid,
    pub(crate) contract_id: Uuid,
    pub(crate) contract_no: &'a str,
    pub(crate) customer_id: Uuid,
    pub(crate) installment_no: i32,
    pub(crate) due_date: NaiveDate,
    pub(crate) currency: &'a str,
    pub(crate) open_amount: Decimal,
    pub(crate) customer_name: &'a str,
    pub(crate) payer_accounts_masked: &'a [String],
    pub(crate) escrow_account_index: &'a str,
    pub(crate) escrow_account_masked: &'a str,
    pub(crate) unit: Option<&'a str>,
    pub(crate) payer_account_indexes: &'a [&'a str],
}

/// Adds a receivable to the read model; false when it was there already.
pub(crate) async fn add_open_receivable(
    tx: &mut PgConnection,
    r: &NewReceivable<'_>,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO open_receivables (receivable_id, contract_id, contract_no, customer_id, installment_no,
                                       due_date, currency, open_amount, customer_name, payer_accounts_masked,
                                       escrow_account_index, escrow_account_masked, unit, payer_account_indexes)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT (receivable_id) DO NOTHING",
    )
    .bind(r.receivable_id)
    .bind(r.contract_id)
    .bind(r.contract_no)
    .bind(r.customer_id)
    .bind(r.installment_no)
    .bind(r.due_date)
    .bind(r.currency)
    .bind(r.open_amount)
    .bind(r.customer_name)
    .bind(r.payer_accounts_masked)
    .bind(r.escrow_account_index)
    .bind(r.escrow_account_masked)
    .bind(r.unit)
    .bind(r.payer_account_indexes)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Adds receivables to the read model in one statement (a run of signed contracts, issue
/// 16); returns the ids that were not there already. The ids must be distinct.
pub(crate) async fn add_open_receivables(
    tx: &mut PgConnection,
    rows: &[NewReceivable<'_>],
) -> Result<Vec<Uuid>, sqlx::Error> {
    // The two account lists differ per contract: each row carries its own as a JSON array
    // (UNNEST takes no ragged two-dimensional array).
    let json = |list: Vec<&str>| serde_json::Value::from(list).to_string();
    let ids: Vec<Uuid> = rows.iter().map(|r| r.receivable_id).collect();
    let contracts: Vec<Uuid> = rows.iter().map(|r| r.contract_id).collect();
    let numbers: Vec<&str> = rows.iter().map(|r| r.contract_no).collect();
    let customers: Vec<Uuid> = rows.iter().map(|r| r.customer_id).collect();
    let installments: Vec<i32> = rows.iter().map(|r| r.installment_no).collect();
    let dues: Vec<NaiveDate> = rows.iter().map(|r| r.due_date).collect();
    let currencies: Vec<&str> = rows.iter().map(|r| r.currency).collect();
    let amounts: Vec<Decimal> = rows.iter().map(|r| r.open_amount).collect();
    let names: Vec<&str> = rows.iter().map(|r| r.customer_name).collect();
    let masked: Vec<String> = rows
        .iter()
        .map(|r| json(r.payer_accounts_masked.iter().map(String::as_str).collect()))
        .collect();
    let escrow_indexes: Vec<&str> = rows.iter().map(|r| r.escrow_account_index).collect();
    let escrow_masked: Vec<&str> = rows.iter().map(|r| r.escrow_account_masked).collect();
    let units: Vec<Option<&str>> = rows.iter().map(|r| r.unit).collect();
    let indexes: Vec<String> = rows
        .iter()
        .map(|r| json(r.payer_account_indexes.to_vec()))
        .collect();
    sqlx::query_scalar(
        "INSERT INTO open_receivables (receivable_id, contract_id, contract_no, customer_id, installment_no,
                                       due_date, currency, open_amount, customer_name, payer_accounts_masked,
                                       escrow_account_index, escrow_account_masked, unit, payer_account_indexes)
         SELECT u.r, u.k, u.kn, u.c, u.n, u.d, u.cur, u.a, u.nm,
                ARRAY(SELECT jsonb_array_elements_text(u.pm::jsonb)), u.ei, u.em, u.un,
                ARRAY(SELECT jsonb_array_elements_text(u.pi::jsonb))
         FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::uuid[], $5::int4[], $6::date[], $7::text[],
                     $8::numeric[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[])
              WITH ORDINALITY AS u(r, k, kn, c, n, d, cur, a, nm, pm, ei, em, un, pi, o)
         ORDER BY u.o
         ON CONFLICT (receivable_id) DO NOTHING
         RETURNING receivable_id",
    )
    .bind(&ids)
    .bind(&contracts)
    .bind(&numbers)
    .bind(&customers)
    .bind(&installments)
    .bind(&dues)
    .bind(&currencies)
    .bind(&amounts)
    .bind(&names)
    .bind(&masked)
    .bind(&escrow_indexes)
    .bind(&escrow_masked)
    .bind(&units)
    .bind(&indexes)
    .fetch_all(&mut *tx)
    .await
}

/// Puts a payer account (blind index and masked form) on file for every receivable of the
/// customer that does not have it yet.
pub(crate) async fn add_payer_account(
    tx: &mut PgConnection,
    customer_id: Uuid,
    account_masked: &str,
    account_index: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE open_receivables SET payer_accounts_masked = array_append(payer_accounts_masked, $2),
                payer_account_indexes = array_append(payer_account_indexes, $3)
         WHERE customer_id = $1 AND NOT ($3 = ANY(payer_account_indexes))",
    )
    .bind(customer_id)
    .bind(account_masked)
    .bind(account_index)
    .execute(&mut *tx)
    .await
    .map(|_| ())
}

/// A receivable's balance in the read model.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct Balance {
    pub(crate) open_amount: Decimal,
    pub(crate) pending_amount: Decimal,
}

/// The receivable's open and pending amounts, if it is known here.
pub(crate) async fn receivable_balance(
    tx: &mut PgConnection,
    receivable_id: Uuid,
) -> Result<Option<Balance>, sqlx::Error> {
    sqlx::query_as(
        "SELECT open_amount, pending_amount FROM open_receivables WHERE receivable_id = $1",
    )
    .bind(receivable_id)
    .fetch_optional(&mut *tx)
    .await
}

/// What the engine may still allocate to a receivable: open less pending.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct Available {
    pub(crate) contract_no: String,
    pub(crate) installment_no: i32,
    pub(crate) available: Decimal,
    /// The due date (an amendment may move it, R-C8).
    pub(crate) due_date: NaiveDate,
}

/// The receivable's available amount, if it is known here.
pub(crate) async fn available_of_receivable(
    tx: &mut PgConnection,
    receivable_id: Uuid,
) -> Result<Option<Available>, sqlx::Error> {
    sqlx::query_as(
        "SELECT contract_no, installment_no, GREATEST(open_amount - pending_amount, 0) AS available, due_date
         FROM open_receivables WHERE receivable_id = $1",
    )
    .bind(receivable_id)
    .fetch_optional(&mut *tx)
    .await
}

/// Contracts booked `amount`: it is no longer pending, and the open amount is what contracts
/// says is open after it.
pub(crate) async fn book_confirmed_amount(
    tx: &mut PgConnection,
    receivable_id: Uuid,
    open_after: Decimal,
    amount: Decimal,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE open_receivables SET open_amount = $2, pending_amount = GREATEST(pending_amount - $3, 0)
         WHERE receivable_id = $1",
    )
    .bind(receivable_id)
    .bind(open_after)
    .bind(amount)
    .execute(&mut *tx)
    .await
    .map(|_| ())
}

/// Contracts refused `amount`: it is no longer pending.
pub(crate) async fn release_pending_amount(
    tx: &mut PgConnection,
    receivable_id: Uuid,
    amount: Decimal,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE open_receivables SET pending_amount = GREATEST(pending_amount - $2, 0) WHERE receivable_id = $1",
    )
    .bind(receivable_id)
    .bind(amount)
    .execute(&mut *tx)
    .await
    .map(|_| ())
}

/// Sets the open amount the owner (contracts) reported.
pub(crate) async fn correct_open_amount(
    tx: &mut PgConnection,
    receivable_id: Uuid,
    open: Decimal,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE open_receivables SET open_amount = $2 WHERE receivable_id = $1")
        .bind(receivable_id)
        .bind(open)
        .execute(&mut *tx)
        .await
        .map(|_| ())
}

/// The ids contracts knows a receivable by.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct ReceivableIds {
    pub(crate) receivable_id: Uuid,
    pub(crate) contract_id: Uuid,
    pub(crate) customer_id: Uuid,
}

/// The receivable the ledger names `contract_no/installment_no`, if it is known here.
pub(crate) async fn receivable_by_ref(
    tx: &mut PgConnection,
    contract_no: &str,
    installment_no: i32,
) -> Result<Option<ReceivableIds>, sqlx::Error> {
    sqlx::query_as(
        "SELECT receivable_id, contract_id, customer_id FROM open_receivables
         WHERE contract_no = $1 AND installment_no = $2",
    )
    .bind(contract_no)
    .bind(installment_no)
    .fetch_optional(&mut *tx)
    .await
}

/// Reserves `amount` of the receivable for a proposed allocation.
pub(crate) async fn reserve_pending_amount(
    tx: &mut PgConnection,
    receivable_id: Uuid,
    amount: Decimal,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE open_receivables SET pending_amount = pending_amount + $2 WHERE receivable_id = $1",
    )
    .bind(receivable_id)
    .bind(amount)
    .execute(&mut *tx)
    .await
    .map(|_| ())
}

/// What the read model says is owed on a receivable, by component, and what of it is
/// reserved by proposals contracts has not answered yet.
#[derive(Debug, Clone)]
pub(crate) struct OwedNow {
    pub(crate) owed: money::allocation::Owed,
    pub(crate) pending: Decimal,
    /// The contract's agreed order of components, if any (R-P11).
    pub(crate) agreed: Option<money::allocation::Order>,
}

/// The receivable's owed components, if it is known here.
pub(crate) async fn owed_of(
    tx: &mut PgConnection,
    receivable_id: Uuid,
) -> Result<Option<OwedNow>, sqlx::Error> {
    type Row = (
        Decimal,
        Decimal,
        Decimal,
        Decimal,
        Decimal,
        Option<sqlx::types::Json<money::allocation::Order>>,
    );
    let row: Option<Row> = sqlx::query_as(
        "SELECT r.open_amount, r.costs, r.interest, r.late_fee, r.pending_amount, o.allocation_order
         FROM open_receivables r LEFT JOIN contract_allocation_orders o ON o.contract_id = r.contract_id
         WHERE r.receivable_id = $1",
    )
    .bind(receivable_id)
    .fetch_optional(&mut *tx)
    .await?;
    Ok(row.map(
        |(open, costs, interest, late_fee, pending, agreed)| OwedNow {
            owed: money::allocation::Owed {
                costs,
                interest,
                late_fee,
                principal: (open - costs - interest - late_fee).max(Decimal::ZERO),
            },
            pending,
            agreed: agreed.map(|o| o.0),
        },
    ))
}

/// Records the order of components a contract agreed (R-P11); a repeat sets the same.
pub(crate) async fn set_allocation_order(
    tx: &mut PgConnection,
    contract_id: Uuid,
    order: &money::allocation::Order,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO contract_allocation_orders (contract_id, allocation_order) VALUES ($1, $2)
         ON CONFLICT (contract_id) DO UPDATE SET allocation_order = EXCLUDED.allocation_order",
    )
    .bind(contract_id)
    .bind(sqlx::types::Json(order))
    .execute(&mut *tx)
    .await
    .map(|_| ())
}

/// Sets what contracts says is owed (open amount = the total), leaving pending reservations.
pub(crate) async fn set_owed(
    tx: &mut PgConnection,
    receivable_id: Uuid,
    owed: &money::allocation::Owed,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE open_receivables SET open_amount = $2, costs = $3, interest = $4, late_fee = $5
         WHERE receivable_id = $1",
    )
    .bind(receivable_id)
    .bind(owed.total())
    .bind(owed.costs)
    .bind(owed.interest)
    .bind(owed.late_fee)
    .execute(&mut *tx)
    .await
    .map(|_| ())
}

/// An amendment (R-C8) changed a receivable's due date or what is owed on it: the read model
/// takes contracts' values. False when the receivable is not known here.
pub(crate) async fn amend_receivable(
    tx: &mut PgConnection,
    receivable_id: Uuid,
    due_date: NaiveDate,
    owed: &money::allocation::Owed,
) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query(
        "UPDATE open_receivables SET due_date = $2, open_amount = $3, costs = $4, interest = $5, late_fee = $6
         WHERE receivable_id = $1",
    )
    .bind(receivable_id)
    .bind(due_date)
    .bind(owed.total())
    .bind(owed.costs)
    .bind(owed.interest)
    .bind(owed.late_fee)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

/// A receivable an amendment created (R-C8 new schedule): added like its contract's others
/// (customer, accounts, unit copied from them); false when it is known already or the
/// contract is not.
pub(crate) async fn add_amended_receivable(
    tx: &mut PgConnection,
    contract_id: Uuid,
    receivable_id: Uuid,
    installment_no: i32,
    due_date: NaiveDate,
    open_amount: Decimal,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO open_receivables (receivable_id, contract_id, contract_no, customer_id, installment_no,
                                       due_date, currency, open_amount, customer_name, payer_accounts_masked,
                                       escrow_account_index, escrow_account_masked, unit, payer_account_indexes)
         SELECT $2, contract_id, contract_no, customer_id, $3, $4, currency, $5, customer_name, payer_accounts_masked,
                escrow_account_index, escrow_account_masked, unit, payer_account_indexes
         FROM open_receivables WHERE contract_id = $1 ORDER BY installment_no LIMIT 1
         ON CONFLICT (receivable_id) DO NOTHING",
    )
    .bind(contract_id)
    .bind(receivable_id)
    .bind(installment_no)
    .bind(due_date)
    .bind(open_amount)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// The receivable a charge on the contract named in `reference` is booked against: of the
/// contract whose number (letters and digits, upper-case) the reference contains, the
/// earliest-due one still open, else the last one; `(receivable, customer)`.
pub(crate) async fn receivable_named_in(
    tx: &mut PgConnection,
    reference_compact: &str,
    currency: &str,
) -> Result<Option<(Uuid, Uuid)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT receivable_id, customer_id FROM open_receivables
         WHERE currency = $2
           AND length(regexp_replace(contract_no, '[^A-Za-z0-9]', '', 'g')) >= 4
           AND strpos($1, upper(regexp_replace(contract_no, '[^A-Za-z0-9]', '', 'g'))) > 0
         ORDER BY length(contract_no) DESC, (open_amount > 0) DESC,
                  CASE WHEN open_amount > 0 THEN due_date END, due_date DESC, installment_no
         LIMIT 1",
    )
    .bind(reference_compact)
    .bind(currency)
    .fetch_optional(&mut *tx)
    .await
}

/// A receivable known here by its ledger name, with what is owed and reserved on it: what
/// [`receivable_by_ref`] and [`owed_of`] read, for many receivables in one statement.
#[derive(Debug, Clone)]
pub(crate) struct KnownReceivable {
    pub(crate) ids: ReceivableIds,
    pub(crate) owed: OwedNow,
}

/// [`KnownReceivable`] of each `(contract_no, installment_no)` known here, by its ledger name
/// (`crate::engine::receivable_ref`).
pub(crate) async fn owed_by_refs(
    tx: &mut PgConnection,
    refs: &[(&str, i32)],
) -> Result<std::collections::HashMap<String, KnownReceivable>, sqlx::Error> {
    type Row = (
        String,
        i32,
        Uuid,
        Uuid,
        Uuid,
        Decimal,
        Decimal,
        Decimal,
        Decimal,
        Decimal,
        Option<sqlx::types::Json<money::allocation::Order>>,
    );
    let contracts: Vec<&str> = refs.iter().map(|(c, _)| *c).collect();
    let installments: Vec<i32> = refs.iter().map(|(_, n)| *n).collect();
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT r.contract_no, r.installment_no, r.receivable_id, r.contract_id, r.customer_id,
                r.open_amount, r.costs, r.interest, r.late_fee, r.pending_amount, o.allocation_order
         FROM open_receivables r
         JOIN (SELECT DISTINCT c, n FROM UNNEST($1::text[], $2::int4[]) AS u(c, n)) w
           ON r.contract_no = w.c AND r.installment_no = w.n
         LEFT JOIN contract_allocation_orders o ON o.contract_id = r.contract_id",
    )
    .bind(&contracts)
    .bind(&installments)
    .fetch_all(&mut *tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(
                contract_no,
                installment_no,
                receivable_id,
                contract_id,
                customer_id,
                open,
                costs,
                interest,
                late_fee,
                pending,
                agreed,
            )| {
                let known = KnownReceivable {
                    ids: ReceivableIds {
                        receivable_id,
                        contract_id,
                        customer_id,
                    },
                    owed: OwedNow {
                        owed: money::allocation::Owed {
                            costs,
                            interest,
                            late_fee,
                            principal: (open - costs - interest - late_fee).max(Decimal::ZERO),
                        },
                        pending,
                        agreed: agreed.map(|o| o.0),
                    },
                };
                (
                    crate::engine::receivable_ref(&contract_no, installment_no),
                    known,
                )
            },
        )
        .collect())
}

/// Reserves, for each receivable, the sum of its amounts in `reserved` (one statement for
/// [`reserve_pending_amount`] many times).
pub(crate) async fn reserve_pending_amounts(
    tx: &mut PgConnection,
    reserved: &[(Uuid, Decimal)],
) -> Result<(), sqlx::Error> {
    if reserved.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = reserved.iter().map(|(id, _)| *id).collect();
    let amounts: Vec<Decimal> = reserved.iter().map(|(_, a)| *a).collect();
    sqlx::query(
        "UPDATE open_receivables r SET pending_amount = r.pending_amount + u.amount
         FROM (SELECT id, sum(a) AS amount FROM UNNEST($1::uuid[], $2::numeric[]) AS t(id, a)
               GROUP BY id) u
         WHERE r.receivable_id = u.id",
    )
    .bind(&ids)
    .bind(&amounts)
    .execute(&mut *tx)
    .await
    .map(|_| ())
}

/// [`receivable_balance`] of many receivables in one statement.
pub(crate) async fn receivable_balances(
    tx: &mut PgConnection,
    receivable_ids: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, Balance>, sqlx::Error> {
    let rows: Vec<(Uuid, Decimal, Decimal)> = sqlx::query_as(
        "SELECT receivable_id, open_amount, pending_amount FROM open_receivables
         WHERE receivable_id = ANY($1)",
    )
    .bind(receivable_ids)
    .fetch_all(&mut *tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, open_amount, pending_amount)| {
            (
                id,
                Balance {
                    open_amount,
                    pending_amount,
                },
            )
        })
        .collect())
}

/// Contracts' confirmations of a run booked on the read model, one row per receivable: the
/// open amount and components after the last (`None`: unchanged) and what they confirmed in
/// all, no longer pending ([`book_confirmed_amount`] and [`set_owed`] for each in turn).
pub(crate) struct ConfirmedRow {
    pub(crate) receivable_id: Uuid,
    pub(crate) open_amount: Decimal,
    pub(crate) owed: Option<money::allocation::Owed>,
    pub(crate) confirmed: Decimal,
}

/// Books [`ConfirmedRow`]s in one statement. Pending amounts are lowered, never set: an
/// ingestion may be reserving more on the same receivables at the same time.
pub(crate) async fn book_confirmed_amounts(
    tx: &mut PgConnection,
    rows: &[ConfirmedRow],
) -> Result<(), sqlx::Error> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.receivable_id).collect();
    let open: Vec<Decimal> = rows.iter().map(|r| r.open_amount).collect();
    let has_owed: Vec<bool> = rows.iter().map(|r| r.owed.is_some()).collect();
    let part = |f: fn(&money::allocation::Owed) -> Decimal| -> Vec<Decimal> {
        rows.iter()
            .map(|r| r.owed.as_ref().map_or(Decimal::ZERO, f))
            .collect()
    };
    let costs = part(|o| o.costs);
    let interest = part(|o| o.interest);
    let late_fee = part(|o| o.late_fee);
    let confirmed: Vec<Decimal> = rows.iter().map(|r| r.confirmed).collect();
    sqlx::query(
        "UPDATE open_receivables r SET
             open_amount = u.open,
             pending_amount = GREATEST(r.pending_amount - u.confirmed, 0),
             costs = CASE WHEN u.has_owed THEN u.costs ELSE r.costs END,
             interest = CASE WHEN u.has_owed THEN u.interest ELSE r.interest END,
             late_fee = CASE WHEN u.has_owed THEN u.late_fee ELSE r.late_fee END
         FROM UNNEST($1::uuid[], $2::numeric[], $3::bool[], $4::numeric[], $5::numeric[], $6::numeric[], $7::numeric[])
              AS u(id, open, has_owed, costs, interest, late_fee, confirmed)
         WHERE r.receivable_id = u.id",
    )
    .bind(&ids)
    .bind(&open)
    .bind(&has_owed)
    .bind(&costs)
    .bind(&interest)
    .bind(&late_fee)
    .bind(&confirmed)
    .execute(&mut *tx)
    .await
    .map(|_| ())
}
