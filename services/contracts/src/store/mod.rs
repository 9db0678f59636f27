//! Reading receivables and contracts, shared by the API and the event handlers.

pub(crate) mod amendments;
pub(crate) mod billing;
pub(crate) mod contracts;
pub(crate) mod customers;
pub(crate) mod cycle;
pub(crate) mod holds;
pub(crate) mod owed;
pub(crate) mod plans;
pub(crate) mod statement;
pub(crate) mod waivers;
pub(crate) mod write_offs;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use proto::contracts::v1 as api;

use crate::domain;
use crate::domain::owed::{Book, Component, Owed};
use crate::domain::schedule::{ChargeType, ItemKind};

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ReceivableRow {
    pub(crate) id: Uuid,
    pub(crate) contract_id: Uuid,
    pub(crate) customer_id: Uuid,
    pub(crate) installment_no: i32,
    pub(crate) due_date: NaiveDate,
    pub(crate) amount: Decimal,
    pub(crate) open_amount: Decimal,
    pub(crate) overdue_since: Option<NaiveDate>,
    pub(crate) days_overdue: i32,
    pub(crate) currency: String,
    pub(crate) contract_no: String,
    pub(crate) scheduled_due_date: NaiveDate,
    pub(crate) due_date_provisional: bool,
    pub(crate) late_fee: Decimal,
    pub(crate) late_fee_policy: Option<String>,
    pub(crate) kind: String,
    pub(crate) charge_type: String,
    pub(crate) share: Option<Decimal>,
    pub(crate) interest: Decimal,
    pub(crate) costs: Decimal,
    pub(crate) late_fee_open: Decimal,
    pub(crate) interest_open: Decimal,
    pub(crate) costs_open: Decimal,
    pub(crate) interest_policy: Option<String>,
    pub(crate) discount_terms: Option<sqlx::types::Json<crate::domain::discount::Terms>>,
    pub(crate) interest_free: bool,
    pub(crate) allocation_order: Option<sqlx::types::Json<money::allocation::Order>>,
    pub(crate) discounted: Decimal,
}

/// A static query selecting [`ReceivableRow`]s, followed by `$tail` (WHERE, ORDER BY, ...).
macro_rules! select_receivables {
    ($tail:literal) => {
        concat!(
            "SELECT r.id, r.contract_id, r.customer_id, r.installment_no, r.due_date, r.amount, r.open_amount,
                    r.overdue_since, r.days_overdue, c.currency, c.contract_no, r.scheduled_due_date,
                    r.due_date_provisional, r.late_fee, c.late_fee_policy, r.kind, r.charge_type, r.share,
                    r.interest, r.costs, r.late_fee_open, r.interest_open, r.costs_open,
                    c.interest_policy, c.discount_terms, r.interest_free, r.discounted, c.allocation_order
             FROM receivables r JOIN contracts c ON c.id = r.contract_id ",
            $tail
        )
    };
}
pub(crate) use select_receivables;

impl ReceivableRow {
    /// What is still owed, by component (R-C4, R-C12, R-D12).
    pub(crate) fn owed(&self) -> Owed {
        Owed {
            costs: self.costs_open,
            interest: self.interest_open,
            late_fee: self.late_fee_open,
            principal: self.open_amount,
        }
    }

    /// One component's book: charged and open.
    pub(crate) fn book(&self, component: Component) -> Book {
        let (charged, open) = match component {
            Component::Costs => (self.costs, self.costs_open),
            Component::Interest => (self.interest, self.interest_open),
            Component::LateFee => (self.late_fee, self.late_fee_open),
            Component::Principal => (self.amount, self.open_amount),
        };
        Book { charged, open }
    }

    pub(crate) fn to_api(&self) -> api::Receivable {
        let currency = self.currency.trim();
        let owed = self.owed();
        let days_overdue = if owed.total().is_zero() {
            0
        } else {
            u32::try_from(self.days_overdue).unwrap_or_default()
        };
        let status = match domain::status(self.amount, owed.total(), self.overdue_since.is_some()) {
            domain::Status::Scheduled => api::ReceivableStatus::Scheduled,
            domain::Status::PartiallyPaid => api::ReceivableStatus::PartiallyPaid,
            domain::Status::Paid => api::ReceivableStatus::Paid,
            domain::Status::Overdue => api::ReceivableStatus::Overdue,
        };
        api::Receivable {
            receivable_id: self.id.to_string(),
            contract_id: self.contract_id.to_string(),
            installment_no: u32::try_from(self.installment_no).unwrap_or_default(),
            due_date: self.due_date.to_string(),
            amount: Some(kit::wire::money(self.amount, currency)),
            open_amount: Some(kit::wire::money(self.open_amount, currency)),
            status: status as i32,
            days_overdue,
            scheduled_due_date: self.scheduled_due_date.to_string(),
            due_date_provisional: self.due_date_provisional,
            late_fee: Some(kit::wire::money(self.late_fee, currency)),
            aging_bucket: money::aging::AgingBucket::for_days(days_overdue)
                .label()
                .to_owned(),
            kind: self.kind() as i32,
            charge_type: self.charge_type() as i32,
            share: self
                .share
                .map(|s| s.normalize().to_string())
                .unwrap_or_default(),
            owed: Some(kit::wire::owed(&owed, currency)),
            interest: Some(kit::wire::money(self.interest, currency)),
            costs: Some(kit::wire::money(self.costs, currency)),
            discounted: Some(kit::wire::money(self.discounted, currency)),
            interest_free: self.interest_free,
        }
    }

    /// The wire kind (a stored name the schema's CHECK admits always parses).
    pub(crate) fn kind(&self) -> proto::types::v1::ScheduleItemKind {
        ItemKind::parse(&self.kind).map_or(
            proto::types::v1::ScheduleItemKind::Unspecified,
            crate::wire::kind_to_wire,
        )
    }

    /// The wire charge type.
    pub(crate) fn charge_type(&self) -> proto::types::v1::ChargeType {
        ChargeType::parse(&self.charge_type).map_or(
            proto::types::v1::ChargeType::Unspecified,
            crate::wire::charge_to_wire,
        )
    }
}

pub(crate) async fn receivables_of_contract(
    conn: &mut PgConnection,
    contract_id: Uuid,
) -> Result<Vec<ReceivableRow>, sqlx::Error> {
    sqlx::query_as(select_receivables!(
        "WHERE r.contract_id = $1 ORDER BY r.installment_no"
    ))
    .bind(contract_id)
    .fetch_all(conn)
    .await
}

/// One page of a contract's receivables by installment number, after installment `after`.
pub(crate) async fn receivables_page(
    conn: &mut PgConnection,
    contract_id: Uuid,
    after: Option<i32>,
    limit: i64,
) -> Result<Vec<ReceivableRow>, sqlx::Error> {
    sqlx::query_as(select_receivables!(
        "WHERE r.contract_id = $1 AND ($2::int IS NULL OR r.installment_no > $2)
         ORDER BY r.installment_no LIMIT $3"
    ))
    .bind(contract_id)
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Whether a contract exists.
pub(crate) async fn customer_of_contract(
    conn: &mut PgConnection,
    contract_id: Uuid,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar("SELECT customer_id FROM contracts WHERE id = $1")
        .bind(contract_id)
        .fetch_optional(conn)
        .await
}

/// Whether the customer exists.
pub(crate) async fn customer_exists(
    conn: &mut PgConnection,
    customer_id: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM customers WHERE id = $1)")
        .bind(customer_id)
        .fetch_one(conn)
        .await
}

/// One move of collection work to another owner (R-C9), for the record.
pub(crate) struct Reassignment<'a> {
    pub(crate) customer_id: Uuid,
    /// `None`: the customer as a whole.
    pub(crate) contract_id: Option<Uuid>,
    /// Owner and team before.
    pub(crate) previous: (&'a str, &'a str),
    /// Owner and team after.
    pub(crate) new: (&'a str, &'a str),
    /// The authenticated caller.
    pub(crate) by: &'a str,
    pub(crate) reason: &'a str,
}

/// Records a reassignment in `owner_reassignments`.
pub(crate) async fn record_reassignment(
    conn: &mut PgConnection,
    r: &Reassignment<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO owner_reassignments
           (customer_id, contract_id, previous_owner, previous_team, owner, team, reassigned_by, reason)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(r.customer_id)
    .bind(r.contract_id)
    .bind(r.previous.0)
    .bind(r.previous.1)
    .bind(r.new.0)
    .bind(r.new.1)
    .bind(r.by)
    .bind(r.reason)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Locks one receivable for an update of its balance.
/// [`lock_receivable`] for many receivables in one statement, locked in id order (so two
/// runs never wait for each other in a circle).
pub(crate) async fn lock_receivables(
    conn: &mut PgConnection,
    receivable_ids: &[Uuid],
) -> Result<Vec<ReceivableRow>, sqlx::Error> {
    sqlx::query_as(select_receivables!(
        "WHERE r.id = ANY($1) ORDER BY r.id FOR UPDATE OF r"
    ))
    .bind(receivable_ids)
    .fetch_all(conn)
    .await
}

pub(crate) async fn lock_receivable(
    conn: &mut PgConnection,
    receivable_id: Uuid,
) -> Result<Option<ReceivableRow>, sqlx::Error> {
    sqlx::query_as(select_receivables!("WHERE r.id = $1 FOR UPDATE OF r"))
        .bind(receivable_id)
        .fetch_optional(conn)
        .await
}
