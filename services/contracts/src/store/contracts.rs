//! Contracts and their signed schedule: the SQL behind CreateContract and GetContract.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::discount;
use crate::domain::schedule::{ChargeType, ItemKind};

/// A contract's head as stored (the escrow account sealed, R-O4).
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ContractRow {
    pub(crate) contract_no: String,
    pub(crate) customer_id: Uuid,
    pub(crate) currency: String,
    pub(crate) escrow_account: String,
    pub(crate) unit: Option<String>,
    pub(crate) price: Option<Decimal>,
    pub(crate) discount_terms: Option<sqlx::types::Json<discount::Terms>>,
    pub(crate) allocation_order: Option<sqlx::types::Json<money::allocation::Order>>,
}

pub(crate) async fn contract(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<ContractRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT contract_no, customer_id, currency, escrow_account, unit, price, discount_terms, allocation_order
         FROM contracts WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

pub(crate) async fn contract_id_by_no(
    conn: &mut PgConnection,
    contract_no: &str,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM contracts WHERE contract_no = $1")
        .bind(contract_no)
        .fetch_optional(conn)
        .await
}

/// A contract to store; the escrow account already sealed.
pub(crate) struct NewContract<'a> {
    pub(crate) id: Uuid,
    pub(crate) contract_no: &'a str,
    pub(crate) customer_id: Uuid,
    pub(crate) currency: &'a str,
    pub(crate) late_fee_policy: Option<&'a str>,
    pub(crate) sealed_escrow_account: &'a str,
    pub(crate) unit: Option<&'a str>,
    pub(crate) price: Option<Decimal>,
    pub(crate) interest_policy: Option<&'a str>,
    pub(crate) discount: Option<&'a discount::Terms>,
    pub(crate) allocation_order: Option<&'a money::allocation::Order>,
}

/// Stores a contract; a taken contract number is a unique violation.
pub(crate) async fn insert_contract(
    conn: &mut PgConnection,
    c: &NewContract<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO contracts (id, contract_no, customer_id, currency, late_fee_policy, escrow_account, unit, price,
                                interest_policy, discount_terms, allocation_order)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(c.id)
    .bind(c.contract_no)
    .bind(c.customer_id)
    .bind(c.currency)
    .bind(c.late_fee_policy)
    .bind(c.sealed_escrow_account)
    .bind(c.unit)
    .bind(c.price)
    .bind(c.interest_policy)
    .bind(c.discount.map(sqlx::types::Json))
    .bind(c.allocation_order.map(sqlx::types::Json))
    .execute(conn)
    .await
    .map(|_| ())
}

/// Stores many contracts in one statement (ImportContracts, R-O5); a taken contract number
/// is a unique violation (check [`taken_numbers`] first to name it).
pub(crate) async fn insert_contracts(
    conn: &mut PgConnection,
    all: &[NewContract<'_>],
) -> Result<(), sqlx::Error> {
    let ids: Vec<Uuid> = all.iter().map(|c| c.id).collect();
    let numbers: Vec<&str> = all.iter().map(|c| c.contract_no).collect();
    let customers: Vec<Uuid> = all.iter().map(|c| c.customer_id).collect();
    let currencies: Vec<&str> = all.iter().map(|c| c.currency).collect();
    let late_fees: Vec<Option<&str>> = all.iter().map(|c| c.late_fee_policy).collect();
    let escrows: Vec<&str> = all.iter().map(|c| c.sealed_escrow_account).collect();
    let units: Vec<Option<&str>> = all.iter().map(|c| c.unit).collect();
    let prices: Vec<Option<Decimal>> = all.iter().map(|c| c.price).collect();
    let interests: Vec<Option<&str>> = all.iter().map(|c| c.interest_policy).collect();
    // JSON columns travel as text: UNNEST takes no array of records.
    let discounts = all
        .iter()
        .map(|c| c.discount.map(serde_json::to_string).transpose())
        .collect::<Result<Vec<Option<String>>, _>>()
        .map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let orders = all
        .iter()
        .map(|c| c.allocation_order.map(serde_json::to_string).transpose())
        .collect::<Result<Vec<Option<String>>, _>>()
        .map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    sqlx::query(
        "INSERT INTO contracts (id, contract_no, customer_id, currency, late_fee_policy, escrow_account, unit, price,
                                interest_policy, discount_terms, allocation_order)
         SELECT u.i, u.n, u.c, u.cur, u.lf, u.e, u.un, u.p, u.ip, u.d::jsonb, u.o::jsonb
         FROM UNNEST($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[],
                     $8::numeric[], $9::text[], $10::text[], $11::text[])
              WITH ORDINALITY AS u(i, n, c, cur, lf, e, un, p, ip, d, o, k)
         ORDER BY u.k",
    )
    .bind(&ids)
    .bind(&numbers)
    .bind(&customers)
    .bind(&currencies)
    .bind(&late_fees)
    .bind(&escrows)
    .bind(&units)
    .bind(&prices)
    .bind(&interests)
    .bind(&discounts)
    .bind(&orders)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Which of `numbers` name a contract already.
pub(crate) async fn taken_numbers(
    conn: &mut PgConnection,
    numbers: &[&str],
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT contract_no FROM contracts WHERE contract_no = ANY($1) ORDER BY contract_no",
    )
    .bind(numbers)
    .fetch_all(conn)
    .await
}

/// A contract an import signed, found again by its number (a repeated import).
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct Imported {
    pub(crate) contract_no: String,
    pub(crate) contract_id: Uuid,
    pub(crate) customer_id: Uuid,
    /// Its receivables' ids in schedule order.
    pub(crate) receivable_ids: Vec<Uuid>,
}

pub(crate) async fn imported(
    conn: &mut PgConnection,
    numbers: &[&str],
) -> Result<Vec<Imported>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.contract_no, c.id AS contract_id, c.customer_id,
                ARRAY(SELECT r.id FROM receivables r WHERE r.contract_id = c.id ORDER BY r.installment_no) AS receivable_ids
         FROM contracts c WHERE c.contract_no = ANY($1)",
    )
    .bind(numbers)
    .fetch_all(conn)
    .await
}

/// One item of a signed schedule.
pub(crate) struct NewReceivable {
    pub(crate) id: Uuid,
    pub(crate) contract_id: Uuid,
    pub(crate) customer_id: Uuid,
    pub(crate) installment_no: i32,
    pub(crate) due: NaiveDate,
    pub(crate) amount: Decimal,
    pub(crate) scheduled: NaiveDate,
    pub(crate) provisional: bool,
    pub(crate) kind: ItemKind,
    pub(crate) charge_type: ChargeType,
    pub(crate) share: Option<Decimal>,
    pub(crate) interest_free: bool,
}

/// Inserts a signed schedule's items in one statement (issue 16: a contract of 120
/// installments is one round trip, not 120).
pub(crate) async fn insert_receivables(
    conn: &mut PgConnection,
    all: &[NewReceivable],
) -> Result<(), sqlx::Error> {
    let ids: Vec<Uuid> = all.iter().map(|r| r.id).collect();
    let contracts: Vec<Uuid> = all.iter().map(|r| r.contract_id).collect();
    let customers: Vec<Uuid> = all.iter().map(|r| r.customer_id).collect();
    let numbers: Vec<i32> = all.iter().map(|r| r.installment_no).collect();
    let dues: Vec<NaiveDate> = all.iter().map(|r| r.due).collect();
    let amounts: Vec<Decimal> = all.iter().map(|r| r.amount).collect();
    let scheduled: Vec<NaiveDate> = all.iter().map(|r| r.scheduled).collect();
    let provisional: Vec<bool> = all.iter().map(|r| r.provisional).collect();
    let kinds: Vec<&str> = all.iter().map(|r| r.kind.as_str()).collect();
    let charges: Vec<&str> = all.iter().map(|r| r.charge_type.as_str()).collect();
    let shares: Vec<Option<Decimal>> = all.iter().map(|r| r.share).collect();
    let interest_free: Vec<bool> = all.iter().map(|r| r.interest_free).collect();
    sqlx::query(
        "INSERT INTO receivables (id, contract_id, customer_id, installment_no, due_date, amount, open_amount,
                                  scheduled_due_date, due_date_provisional, kind, charge_type, share,
                                  interest_free)
         SELECT i, c, u, n, d, a, a, s, p, k, t, sh, f
         FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::int4[], $5::date[], $6::numeric[],
                     $7::date[], $8::bool[], $9::text[], $10::text[], $11::numeric[], $12::bool[])
              AS x(i, c, u, n, d, a, s, p, k, t, sh, f)",
    )
    .bind(&ids)
    .bind(&contracts)
    .bind(&customers)
    .bind(&numbers)
    .bind(&dues)
    .bind(&amounts)
    .bind(&scheduled)
    .bind(&provisional)
    .bind(&kinds)
    .bind(&charges)
    .bind(&shares)
    .bind(&interest_free)
    .execute(conn)
    .await
    .map(|_| ())
}
