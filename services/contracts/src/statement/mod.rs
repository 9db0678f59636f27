//! GetStatement (issue 12 item 10): a customer's statement of account as gRPC messages and,
//! on request, as a printable HTML page or PDF. The figures are built by
//! [`crate::domain::statement`], the SQL is in [`crate::store::statement`], the printed
//! layout in [`document`].

mod document;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use sqlx::PgConnection;
use uuid::Uuid;

use kit::ApiError;
use kit::auth::Caller;
use kit::config::BusinessClock;
use kit::wire;
use money::aging::AgingBucket;
use proto::contracts::v1 as api;

use crate::domain::schedule::{ChargeType, ItemKind};
use crate::domain::statement::{self, Line, Statement, Totals};
use crate::store::{self, ReceivableRow};

/// Said on every statement until interest (R-C12) is computed: no figure includes it.
pub(crate) const INTEREST_NOTE: &str = "late fees and interest (R-C4, R-C12) are accrued to the \
     date of the last daily cycle under each contract's terms; payments settle costs, then \
     interest and late fees, then principal (R-P11)";

/// What GetStatement needs besides the database.
pub(crate) struct Context<'a> {
    pub(crate) pii: &'a kit::pii::Pii,
    /// Loaded once at start-up (`DOCUMENT_FONT_FILE` or a system CJK font).
    pub(crate) font: &'a documents::Font,
    /// Today's business date.
    pub(crate) today: NaiveDate,
    pub(crate) clock: BusinessClock,
}

/// A contract as the statement prints it.
pub(crate) struct ContractInfo {
    pub(crate) id: Uuid,
    /// The escrow account to pay to, masked (R-O4): never printed in clear.
    pub(crate) escrow_masked: String,
}

/// GetStatement: reads, builds, maps and renders.
pub(crate) async fn get(
    conn: &mut PgConnection,
    cx: &Context<'_>,
    caller: &Caller,
    request: &api::GetStatementRequest,
) -> Result<api::GetStatementResponse, ApiError> {
    let customer_id = wire::uuid("customer_id", &request.customer_id)?;
    let format = api::StatementFormat::try_from(request.format).map_err(|_| {
        ApiError::invalid(
            "format",
            format!("{} is not a StatementFormat", request.format),
        )
    })?;
    kit::auth::owners::require_customer(conn, caller, customer_id).await?;
    let name = store::statement::customer_name(conn, customer_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no customer with id {customer_id}")))?;
    let last_cycle = store::statement::last_cycle(conn).await?;
    let as_of = as_of(&request.as_of, last_cycle, cx.today, cx.clock)?;

    let mut contracts = BTreeMap::new();
    for row in store::statement::contracts_of_customer(conn, customer_id).await? {
        // R-O4: sealed at rest; a value from before sealing is still in clear until
        // `contracts reseal` runs. Either way only the masked form leaves this function.
        let account = if kit::pii::is_sealed(&row.escrow_account) {
            cx.pii
                .open(&row.escrow_account)
                .map_err(|e| ApiError::Unexpected(e.into()))?
        } else {
            row.escrow_account
        };
        contracts.insert(
            row.contract_no,
            ContractInfo {
                id: row.id,
                // Masked without its spaces, so the last four digits show ("…8888").
                escrow_masked: wire::mask(&account.split_whitespace().collect::<String>()),
            },
        );
    }
    let rows = store::statement::owed_receivables(conn, customer_id).await?;
    let built = statement::build(as_of, rows.iter().map(line));

    let message = to_api(customer_id, &name, last_cycle, &built, &contracts);
    let document_id = document_id(customer_id, as_of);
    let mut response = api::GetStatementResponse {
        statement: Some(message),
        document_id: document_id.clone(),
        ..Default::default()
    };
    let (bytes, content_type) = match format {
        api::StatementFormat::Unspecified | api::StatementFormat::Json => return Ok(response),
        api::StatementFormat::Html => {
            let doc = document::build(&document_id, &name, last_cycle, &built, &contracts)
                .map_err(render_error)?;
            (
                documents::to_html(&doc).into_bytes(),
                "text/html; charset=utf-8",
            )
        }
        api::StatementFormat::Pdf => {
            let doc = document::build(&document_id, &name, last_cycle, &built, &contracts)
                .map_err(render_error)?;
            let font = cx.font.clone();
            // Tens of milliseconds for hundreds of items: off the async workers.
            let pdf = tokio::task::spawn_blocking(move || documents::to_pdf(&doc, &font))
                .await
                .map_err(|e| ApiError::Unexpected(e.into()))?
                .map_err(render_error)?;
            (pdf, "application/pdf")
        }
    };
    response.sha256 = crate::api::hex_sha256(&bytes);
    response.document = bytes;
    response.content_type = content_type.to_owned();
    Ok(response)
}

/// A document that cannot be built or rendered is our fault, not the request's.
fn render_error(error: documents::DocumentError) -> ApiError {
    ApiError::Unexpected(error.into())
}

/// The statement date: the request's, else the last daily cycle's, else today. Balances are
/// current, so a date before the last cycle would misstate them; a date after today only
/// when business time is simulated (as for the daily cycle).
fn as_of(
    requested: &str,
    last_cycle: Option<NaiveDate>,
    today: NaiveDate,
    clock: BusinessClock,
) -> Result<NaiveDate, ApiError> {
    if requested.trim().is_empty() {
        return Ok(last_cycle.unwrap_or(today));
    }
    let as_of = wire::date("as_of", requested)?;
    if let Some(last) = last_cycle.filter(|last| as_of < *last) {
        return Err(ApiError::invalid(
            "as_of",
            format!(
                "{as_of} is before the last daily cycle ({last}); a statement shows today's \
                 balances and cannot be dated before {last}"
            ),
        ));
    }
    if clock == BusinessClock::System && as_of > today {
        return Err(ApiError::invalid(
            "as_of",
            format!("{as_of} is after today's business date {today}"),
        ));
    }
    Ok(as_of)
}

/// `ST-<as of>-<first 8 hex digits of the customer id>`: the same customer and date give the
/// same number, so a re-render of the same data is byte-identical.
fn document_id(customer_id: Uuid, as_of: NaiveDate) -> String {
    let simple = customer_id.simple().to_string();
    format!(
        "ST-{}-{}",
        as_of.format("%Y%m%d"),
        simple.get(..8).unwrap_or(&simple)
    )
}

/// The statement's view of a receivable. The late fee is stored with six decimal places; the
/// statement owes it to the minor unit, rounded half away from zero per item, so the printed
/// items add up to the printed totals.
fn line(row: &ReceivableRow) -> Line {
    let currency = row.currency.trim();
    let minor = wire::minor_units(currency).unwrap_or(2);
    Line {
        receivable_id: row.id,
        contract_no: row.contract_no.clone(),
        currency: currency.to_owned(),
        // The schema's CHECK admits only known names; the wire reads unknown as these.
        kind: ItemKind::parse(&row.kind).unwrap_or(ItemKind::Installment),
        charge_type: ChargeType::parse(&row.charge_type).unwrap_or(ChargeType::PurchasePrice),
        installment_no: u32::try_from(row.installment_no).unwrap_or_default(),
        due_date: row.due_date,
        billed: row.amount,
        open: row.open_amount,
        late_fee: row
            .late_fee_open
            .round_dp_with_strategy(minor, RoundingStrategy::MidpointAwayFromZero),
        interest: row
            .interest_open
            .round_dp_with_strategy(minor, RoundingStrategy::MidpointAwayFromZero),
        costs: row.costs_open,
    }
}

/// The wire bucket of an R-C11 bucket.
fn bucket_to_wire(bucket: AgingBucket) -> api::AgingBucket {
    match bucket {
        AgingBucket::Current => api::AgingBucket::Current,
        AgingBucket::Days1To30 => api::AgingBucket::Days1To30,
        AgingBucket::Days31To60 => api::AgingBucket::Days31To60,
        AgingBucket::Days61To90 => api::AgingBucket::Days61To90,
        AgingBucket::Days91To180 => api::AgingBucket::Days91To180,
        AgingBucket::Over180 => api::AgingBucket::Over180,
    }
}

fn totals_to_api(t: &Totals) -> api::StatementTotals {
    let m = |d: Decimal| Some(wire::money(d, &t.currency));
    api::StatementTotals {
        currency: t.currency.clone(),
        billed: m(t.billed),
        paid: m(t.paid),
        open: m(t.open),
        late_fee: m(t.late_fee),
        owed: m(t.owed),
        interest: m(t.interest),
        costs: m(t.costs),
    }
}

fn to_api(
    customer_id: Uuid,
    name: &str,
    last_cycle: Option<NaiveDate>,
    s: &Statement,
    contracts: &BTreeMap<String, ContractInfo>,
) -> api::Statement {
    api::Statement {
        customer_id: customer_id.to_string(),
        customer_name: name.to_owned(),
        as_of: s.as_of.to_string(),
        late_fees_through: last_cycle.map(|d| d.to_string()).unwrap_or_default(),
        contracts: s
            .contracts
            .iter()
            .map(|c| {
                let info = contracts.get(&c.contract_no);
                let m = |d: Decimal| Some(wire::money(d, &c.currency));
                api::StatementContract {
                    contract_id: info.map(|i| i.id.to_string()).unwrap_or_default(),
                    contract_no: c.contract_no.clone(),
                    currency: c.currency.clone(),
                    escrow_account_masked: info
                        .map(|i| i.escrow_masked.clone())
                        .unwrap_or_default(),
                    items: c
                        .items
                        .iter()
                        .map(|i| api::StatementItem {
                            receivable_id: i.line.receivable_id.to_string(),
                            installment_no: i.line.installment_no,
                            due_date: i.line.due_date.to_string(),
                            kind: crate::wire::kind_to_wire(i.line.kind) as i32,
                            charge_type: crate::wire::charge_to_wire(i.line.charge_type) as i32,
                            billed: m(i.line.billed),
                            paid: m(i.paid),
                            open: m(i.line.open),
                            late_fee: m(i.line.late_fee),
                            owed: m(i.owed),
                            interest: m(i.line.interest),
                            costs: m(i.line.costs),
                            days_overdue: i.days_overdue,
                            aging_bucket: bucket_to_wire(i.bucket) as i32,
                        })
                        .collect(),
                    totals: Some(totals_to_api(&c.totals)),
                }
            })
            .collect(),
        totals: s.totals.iter().map(totals_to_api).collect(),
        aging: s
            .aging
            .iter()
            .map(|a| api::StatementAging {
                currency: a.currency.clone(),
                buckets: a
                    .buckets
                    .iter()
                    .map(|(b, amount)| api::AgingAmount {
                        bucket: bucket_to_wire(*b) as i32,
                        amount: Some(wire::money(*amount, &a.currency)),
                    })
                    .collect(),
            })
            .collect(),
        interest_note: INTEREST_NOTE.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn as_of_defaults_to_the_last_cycle_and_is_not_dated_before_it() {
        let sys = BusinessClock::System;
        assert_eq!(
            as_of("", Some(d("2026-03-20")), d("2026-03-25"), sys).unwrap(),
            d("2026-03-20")
        );
        assert_eq!(
            as_of(" ", None, d("2026-03-25"), sys).unwrap(),
            d("2026-03-25")
        );
        assert!(as_of("2026-03-19", Some(d("2026-03-20")), d("2026-03-25"), sys).is_err());
        assert!(as_of("2026-03-26", None, d("2026-03-25"), sys).is_err());
        assert!(
            as_of(
                "2026-03-26",
                None,
                d("2026-03-25"),
                BusinessClock::Simulated
            )
            .is_ok()
        );
        assert!(as_of("26-03-2026", None, d("2026-03-25"), sys).is_err());
    }

    #[test]
    fn the_document_id_is_derived_from_customer_and_date() {
        let id = Uuid::parse_str("0f1e2d3c-0000-0000-0000-000000000000").unwrap();
        assert_eq!(document_id(id, d("2026-03-20")), "ST-20260320-0f1e2d3c");
    }
}
