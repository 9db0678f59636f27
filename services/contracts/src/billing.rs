//! Property-management billing (R-C2, R-C3; issue 12 item 2): the monthly billing run and
//! meter-reading imports (units are in [`crate::units`]). The rules are in
//! [`crate::domain::billing`] and [`crate::domain::readings`], the SQL in
//! [`crate::store::billing`].
//!
//! Every charge becomes a receivable of the unit's property-management contract (kind
//! `recurring` or `metered`, with its charge type), numbered after the contract's last
//! installment, so a bank reference `<contract_no>/<installment_no>` finds it; it is published
//! in a `ChargesBilled` event, from which payments learns it as it learns a signed contract's.

use std::collections::{HashMap, HashSet};

use rust_decimal::Decimal;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use kit::ApiError;
use kit::outbox::Outbox;
use kit::wire;
use proto::contracts::v1 as api;
use proto::events::v1 as events;

use crate::domain::billing::{self as rules, ChargeKey, Period, Term};
use crate::domain::readings;
use crate::domain::schedule::{ChargeType, ItemKind};
use crate::store::billing::{self as store, BillingUnit, NewCharge, RunState};
use crate::terms::Terms;

/// Units billed per transaction: a crash loses at most one chunk's work, which the next run
/// of the same period resumes.
const CHUNK: i64 = 1000;

/// What billing needs besides the pool.
pub(crate) struct Billing<'a> {
    pub(crate) outbox: &'a Outbox,
    pub(crate) pii: &'a kit::pii::Pii,
    pub(crate) terms: &'a Terms,
    /// The day of the following month charges fall due (`BILLING_DUE_DAY`).
    pub(crate) due_day: u32,
}

/// Charges of one batch, with the installment numbers handed out, ready to record.
struct Batch {
    charges: Vec<NewCharge>,
    next_no: HashMap<Uuid, i32>,
}

impl Batch {
    async fn new(conn: &mut PgConnection, units: &[BillingUnit]) -> Result<Self, sqlx::Error> {
        let contracts: Vec<Uuid> = units.iter().map(|u| u.contract_id).collect();
        Ok(Self {
            charges: Vec::new(),
            next_no: store::last_installments(conn, &contracts)
                .await?
                .into_iter()
                .collect(),
        })
    }

    fn add(
        &mut self,
        unit: &BillingUnit,
        key: ChargeKey,
        kind: ItemKind,
        amount: Decimal,
        due: &Due,
    ) {
        let no = self.next_no.entry(unit.contract_id).or_insert(0);
        *no = no.saturating_add(1);
        self.charges.push(NewCharge {
            id: Uuid::now_v7(),
            contract_id: unit.contract_id,
            customer_id: unit.customer_id,
            installment_no: *no,
            due: due.due,
            scheduled: due.scheduled,
            provisional: due.provisional,
            amount,
            kind,
            charge_type: key.charge_type,
            unit_id: unit.id,
            period: key.period,
        });
    }

    /// Records the charges and publishes them, one `ChargesBilled` per unit and period.
    async fn commit(
        self,
        conn: &mut PgConnection,
        billing: &Billing<'_>,
        units: &HashMap<Uuid, &BillingUnit>,
    ) -> Result<usize, ApiError> {
        store::insert_charges(conn, &self.charges).await?;
        let mut by_unit: HashMap<(Uuid, Period), Vec<&NewCharge>> = HashMap::new();
        for c in &self.charges {
            by_unit.entry((c.unit_id, c.period)).or_default().push(c);
        }
        for ((unit_id, period), charges) in by_unit {
            let Some(unit) = units.get(&unit_id) else {
                continue;
            };
            publish(conn, billing, unit, period, &charges).await?;
        }
        Ok(self.charges.len())
    }
}

/// A period's due date after R-C6.
struct Due {
    due: chrono::NaiveDate,
    scheduled: chrono::NaiveDate,
    provisional: bool,
}

fn due_of(billing: &Billing<'_>, field: &str, period: Period) -> Result<Due, ApiError> {
    let scheduled = period.due_date(billing.due_day);
    let planned = billing.terms.plan(field, scheduled)?;
    Ok(Due {
        due: planned.due,
        scheduled,
        provisional: planned.provisional,
    })
}

async fn publish(
    conn: &mut PgConnection,
    billing: &Billing<'_>,
    unit: &BillingUnit,
    period: Period,
    charges: &[&NewCharge],
) -> Result<(), ApiError> {
    let pii = billing.pii;
    let opened = |sealed: &str| {
        if kit::pii::is_sealed(sealed) {
            pii.open(sealed).map_err(|e| ApiError::Unexpected(e.into()))
        } else {
            Ok(sealed.to_owned())
        }
    };
    let accounts = unit
        .payer_accounts
        .iter()
        .map(|a| opened(a))
        .collect::<Result<Vec<_>, _>>()?;
    let escrow = opened(&unit.escrow_account)?;
    let currency = unit.currency.trim();
    let event = events::ChargesBilled {
        contract_id: unit.contract_id.to_string(),
        contract_no: unit.contract_no.clone(),
        customer_id: unit.customer_id.to_string(),
        customer_name: unit.customer_name.clone(),
        currency: currency.to_owned(),
        receivables: charges
            .iter()
            .map(|c| events::ScheduledReceivable {
                receivable_id: c.id.to_string(),
                installment_no: u32::try_from(c.installment_no).unwrap_or_default(),
                due_date: c.due.to_string(),
                amount: Some(wire::money(c.amount, currency)),
                kind: crate::wire::kind_to_wire(c.kind) as i32,
                charge_type: crate::wire::charge_to_wire(c.charge_type) as i32,
            })
            .collect(),
        unit: unit.code.clone(),
        project: unit.project.clone(),
        period: period.to_string(),
        segment: crate::domain::billing::Segment::parse(&unit.segment)
            .map_or(0, |s| crate::wire::segment_to_wire(s) as i32),
        occupancy: crate::wire::occupancy_to_wire(unit.occupancy()) as i32,
        // R-O4: blind indexes and masked forms, never accounts in clear.
        payer_account_indexes: accounts.iter().map(|a| pii.account_index(a)).collect(),
        payer_accounts_masked: accounts.iter().map(|a| wire::mask(a)).collect(),
        escrow_account_index: pii.account_index(&escrow),
        escrow_account_masked: wire::mask(&escrow),
    };
    billing
        .outbox
        .enqueue(
            conn,
            kit::events::CONTRACTS,
            &unit.customer_id.to_string(),
            &event,
        )
        .await?;
    Ok(())
}

fn minor_unit(currency: &str) -> Decimal {
    Decimal::new(1, wire::minor_units(currency.trim()).unwrap_or(2))
}

/// RunBilling: bills every unit's recurring charges for `period`, chunk by chunk.
pub(crate) async fn run(
    pool: &PgPool,
    billing: &Billing<'_>,
    request: &api::RunBillingRequest,
) -> Result<api::RunBillingResponse, ApiError> {
    let period = Period::parse(&request.period).map_err(|e| ApiError::invalid("period", e))?;
    let due = due_of(billing, "period", period)?;
    let mut tx = pool.begin().await?;
    store::lock_billing(&mut tx).await?;
    let resumed = matches!(store::start_run(&mut tx, period).await?, RunState::Resume);
    tx.commit().await?;
    let (mut units, mut created, mut already) = (0u32, 0u32, 0u32);
    loop {
        let mut tx = pool.begin().await?;
        store::lock_billing(&mut tx).await?;
        // The cursor is read under the lock: a concurrent call for the same period goes on
        // from wherever the other left it.
        let after = match store::run_cursor(&mut tx, period).await? {
            Some((status, after)) if status == "running" => after,
            _ => break,
        };
        let chunk = store::billing_chunk(&mut tx, after, CHUNK).await?;
        let Some(last) = chunk.last().map(|u| u.id) else {
            store::finish_run(&mut tx, period).await?;
            tx.commit().await?;
            break;
        };
        let ids: Vec<Uuid> = chunk.iter().map(|u| u.id).collect();
        let mut terms: HashMap<Uuid, Vec<Term>> = HashMap::new();
        for (unit, term) in store::terms_of(&mut tx, &ids).await? {
            terms.entry(unit).or_default().push(term);
        }
        let billed: HashSet<(Uuid, String)> = store::billed(&mut tx, &ids, &[period.first_day()])
            .await?
            .into_iter()
            .map(|(u, c, _, _)| (u, c))
            .collect();
        let mut batch = Batch::new(&mut tx, &chunk).await?;
        for unit in &chunk {
            let unit_terms = terms.get(&unit.id).map_or(&[][..], Vec::as_slice);
            for charge_type in ChargeType::ALL
                .into_iter()
                .filter(|c| rules::is_unit_charge(*c))
            {
                let Some(term) = rules::term_in_force(unit_terms, charge_type, period) else {
                    continue;
                };
                if billed.contains(&(unit.id, charge_type.as_str().to_owned())) {
                    already += 1;
                    continue;
                }
                let amount = rules::monthly_charge(
                    term,
                    unit.area,
                    unit.occupancy(),
                    minor_unit(&unit.currency),
                );
                let Some(amount) = amount.filter(|a| *a > Decimal::ZERO) else {
                    tracing::warn!(unit_id = %unit.id, charge = charge_type.as_str(), %period, "nothing to bill: the term's amount rounds to zero or overflows");
                    continue;
                };
                let key = ChargeKey {
                    unit: unit.id,
                    charge_type,
                    period,
                };
                batch.add(unit, key, ItemKind::Recurring, amount, &due);
            }
        }
        let by_id: HashMap<Uuid, &BillingUnit> = chunk.iter().map(|u| (u.id, u)).collect();
        let n = batch.commit(&mut tx, billing, &by_id).await?;
        store::advance_run(&mut tx, period, last, i64::try_from(n).unwrap_or(i64::MAX)).await?;
        tx.commit().await?;
        units = units.saturating_add(u32::try_from(chunk.len()).unwrap_or(u32::MAX));
        created = created.saturating_add(u32::try_from(n).unwrap_or(u32::MAX));
    }
    tracing::info!(%period, units, created, already, resumed, "billing run done");
    Ok(api::RunBillingResponse {
        period: period.to_string(),
        due_date: due.due.to_string(),
        units,
        created,
        already_billed: already,
        resumed,
    })
}

fn row_error(row: usize, field: &str, reason: impl Into<String>) -> ApiError {
    ApiError::invalid(format!("content row {row} field {field}"), reason)
}

/// ImportMeterReadings: every row billed, or none.
pub(crate) async fn import_readings(
    pool: &PgPool,
    billing: &Billing<'_>,
    request: &api::ImportMeterReadingsRequest,
) -> Result<api::ImportMeterReadingsResponse, ApiError> {
    let rows = readings::parse(&request.content).map_err(|e| match e.row {
        0 => ApiError::invalid(format!("content {}", e.field), e.reason),
        row => row_error(row, e.field, e.reason),
    })?;
    let mut tx = pool.begin().await?;
    store::lock_billing(&mut tx).await?;
    let projects: Vec<String> = rows.iter().map(|r| r.project.clone()).collect();
    let codes: Vec<String> = rows.iter().map(|r| r.unit.clone()).collect();
    let units = store::billing_units_by_code(&mut tx, &projects, &codes).await?;
    let by_code: HashMap<(&str, &str), &BillingUnit> = units
        .iter()
        .map(|u| ((u.project.as_str(), u.code.as_str()), u))
        .collect();
    let ids: Vec<Uuid> = units.iter().map(|u| u.id).collect();
    let periods: Vec<chrono::NaiveDate> = rows.iter().map(|r| r.period.first_day()).collect();
    let billed: HashMap<(Uuid, String, chrono::NaiveDate), Decimal> =
        store::billed(&mut tx, &ids, &periods)
            .await?
            .into_iter()
            .map(|(u, c, p, a)| ((u, c, p), a))
            .collect();
    let mut batch = Batch::new(&mut tx, &units).await?;
    let (mut already, mut nothing) = (0u32, 0u32);
    for reading in &rows {
        let unit = by_code
            .get(&(reading.project.as_str(), reading.unit.as_str()))
            .ok_or_else(|| {
                row_error(
                    reading.row,
                    "unit",
                    format!(
                        "project {:?} has no unit {:?}",
                        reading.project, reading.unit
                    ),
                )
            })?;
        let unit_size = minor_unit(&unit.currency);
        let field = match reading.measure {
            readings::Measure::Amount(a) if a.scale() > unit_size.scale() => {
                return Err(row_error(
                    reading.row,
                    "amount",
                    format!("{a} has more decimals than {} allows", unit.currency.trim()),
                ));
            }
            readings::Measure::Amount(_) => "amount",
            readings::Measure::Readings { .. } => "current",
        };
        let amount = reading
            .amount(unit_size)
            .ok_or_else(|| row_error(reading.row, field, "the amount is too large"))?;
        let key = ChargeKey {
            unit: unit.id,
            charge_type: reading.charge_type,
            period: reading.period,
        };
        if let Some(first) = billed.get(&(
            unit.id,
            reading.charge_type.as_str().to_owned(),
            reading.period.first_day(),
        )) {
            if *first != amount {
                return Err(row_error(
                    reading.row,
                    field,
                    format!(
                        "{} {} of {} was billed already at {first}; this row bills {amount}",
                        reading.unit,
                        reading.charge_type.as_str(),
                        reading.period
                    ),
                ));
            }
            already += 1;
            continue;
        }
        if amount.is_zero() {
            nothing += 1;
            continue;
        }
        let due = due_of(
            billing,
            &format!("content row {} field period", reading.row),
            reading.period,
        )?;
        batch.add(unit, key, ItemKind::Metered, amount, &due);
    }
    let by_id: HashMap<Uuid, &BillingUnit> = units.iter().map(|u| (u.id, u)).collect();
    let created = batch.commit(&mut tx, billing, &by_id).await?;
    tx.commit().await?;
    tracing::info!(
        rows = rows.len(),
        created,
        already,
        nothing,
        "meter readings imported"
    );
    Ok(api::ImportMeterReadingsResponse {
        rows: u32::try_from(rows.len()).unwrap_or(u32::MAX),
        created: u32::try_from(created).unwrap_or(u32::MAX),
        already_billed: already,
        nothing_due: nothing,
    })
}
