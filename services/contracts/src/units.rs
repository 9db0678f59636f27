//! Units and their recurring charge terms (R-C2, R-C3; issue 12 item 2): CreateUnit and
//! ListUnits. The rules are in [`crate::domain::billing`], the SQL in [`crate::store::billing`];
//! the billing run and meter readings in [`crate::billing`].

use std::collections::{HashMap, HashSet};

use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use kit::ApiError;
use kit::auth::Caller;
use kit::wire;
use proto::contracts::v1 as api;

use crate::domain::billing::{self as rules, Basis, Period, Term};
use crate::store::billing::{self as store, UnitRow};

/// Most charge terms one unit is created with.
const MAX_TERMS: usize = 50;

fn unit_to_api(row: &UnitRow, terms: &[Term]) -> api::Unit {
    api::Unit {
        unit_id: row.id.to_string(),
        code: row.code.clone(),
        project: row.project.clone(),
        segment: store::segment(row)
            .map_or(api::UnitSegment::Unspecified, crate::wire::segment_to_wire)
            as i32,
        occupancy: rules::Occupancy::parse(&row.occupancy).map_or(
            api::UnitOccupancy::Unspecified,
            crate::wire::occupancy_to_wire,
        ) as i32,
        area_m2: row.area.normalize().to_string(),
        customer_id: row.customer_id.to_string(),
        contract_id: row.contract_id.to_string(),
        terms: terms.iter().map(term_to_api).collect(),
    }
}

fn term_to_api(term: &Term) -> api::ChargeTerm {
    let (monthly_amount, rate_per_m2) = match term.basis {
        Basis::Monthly(a) => (a.normalize().to_string(), String::new()),
        Basis::PerSquareMetre(r) => (String::new(), r.normalize().to_string()),
    };
    api::ChargeTerm {
        charge_type: crate::wire::charge_to_wire(term.charge_type) as i32,
        monthly_amount,
        rate_per_m2,
        vacant_factor: term.vacant_factor.normalize().to_string(),
        effective_from: term.effective_from.to_string(),
    }
}

fn decimal(field: &str, text: &str) -> Result<Decimal, ApiError> {
    text.trim()
        .parse()
        .map_err(|_| ApiError::invalid(field, format!("{text:?} is not a decimal number")))
}

fn term_from_api(i: usize, term: &api::ChargeTerm) -> Result<Term, ApiError> {
    let field = |name: &str| format!("terms[{i}].{name}");
    let charge_type = crate::wire::charge_from_wire(term.charge_type)
        .filter(|c| rules::is_unit_charge(*c))
        .ok_or_else(|| {
            ApiError::invalid(
                field("charge_type"),
                "give management fee, maintenance fund, water, electricity or gas",
            )
        })?;
    let basis = match (term.monthly_amount.trim(), term.rate_per_m2.trim()) {
        (a, "") if !a.is_empty() => Basis::Monthly(decimal(&field("monthly_amount"), a)?),
        ("", r) if !r.is_empty() => Basis::PerSquareMetre(decimal(&field("rate_per_m2"), r)?),
        _ => {
            return Err(ApiError::invalid(
                field("monthly_amount"),
                "give either monthly_amount or rate_per_m2",
            ));
        }
    };
    let vacant_factor = match term.vacant_factor.trim() {
        "" => Decimal::ONE,
        f => decimal(&field("vacant_factor"), f)?,
    };
    let effective_from = Period::parse(&term.effective_from)
        .map_err(|e| ApiError::invalid(field("effective_from"), e))?;
    let term = Term {
        charge_type,
        basis,
        vacant_factor,
        effective_from,
    };
    term.check()
        .map_err(|(name, reason)| ApiError::invalid(field(name), reason))?;
    Ok(term)
}

/// CreateUnit: a unit of a property-management contract, with its charge terms.
pub(crate) async fn create_unit(
    conn: &mut PgConnection,
    caller: &Caller,
    request: &api::CreateUnitRequest,
) -> Result<api::Unit, ApiError> {
    let key = wire::required("idempotency_key", &request.idempotency_key, 200)?;
    let code = wire::required("code", &request.code, 64)?;
    let project = wire::required("project", &request.project, 200)?;
    let segment = crate::wire::segment_from_wire(request.segment)
        .ok_or_else(|| ApiError::invalid("segment", "residential, commercial, villa or parking"))?;
    let occupancy = crate::wire::occupancy_from_wire(request.occupancy)
        .ok_or_else(|| ApiError::invalid("occupancy", "vacant or occupied"))?;
    let area = decimal("area_m2", &request.area_m2)?;
    if area <= Decimal::ZERO || area.scale() > 2 || area > Decimal::from(10_000_000) {
        return Err(ApiError::invalid(
            "area_m2",
            format!("{area} is not an area in m² above 0 with at most 2 decimals"),
        ));
    }
    if request.terms.len() > MAX_TERMS {
        return Err(ApiError::invalid(
            "terms",
            format!("at most {MAX_TERMS} terms"),
        ));
    }
    let terms = request
        .terms
        .iter()
        .enumerate()
        .map(|(i, t)| term_from_api(i, t))
        .collect::<Result<Vec<_>, _>>()?;
    let mut seen = HashSet::new();
    for (i, t) in terms.iter().enumerate() {
        if !seen.insert((t.charge_type, t.effective_from)) {
            return Err(ApiError::invalid(
                format!("terms[{i}].effective_from"),
                "another term of the same charge type starts the same month",
            ));
        }
    }
    let contract_id = wire::uuid("contract_id", &request.contract_id)?;
    let (customer_id, _) = store::contract_party(conn, contract_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no contract with id {contract_id}")))?;
    crate::owners::require_contract(conn, caller, customer_id, contract_id).await?;
    let id = Uuid::now_v7();
    let id = match crate::api::claim_key(conn, "create_unit", &key, request, id).await? {
        Some(existing) => existing,
        None => {
            let row = UnitRow {
                id,
                code,
                project,
                segment: segment.as_str().to_owned(),
                occupancy: occupancy.as_str().to_owned(),
                area,
                customer_id,
                contract_id,
            };
            store::insert_unit(conn, &row)
                .await
                .map_err(|e| match ApiError::from(e) {
                    ApiError::AlreadyExists(_) => ApiError::AlreadyExists(format!(
                        "project {:?} has a unit {:?} already",
                        row.project, row.code
                    )),
                    other => other,
                })?;
            for term in &terms {
                store::insert_term(conn, id, term).await?;
            }
            id
        }
    };
    caller.touch("unit", id);
    let row = store::unit(conn, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no unit with id {id}")))?;
    let terms: Vec<Term> = store::terms_of(conn, &[id])
        .await?
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    Ok(unit_to_api(&row, &terms))
}

/// ListUnits: units in the caller's scope, by id.
pub(crate) async fn list_units(
    conn: &mut PgConnection,
    caller: &Caller,
    request: &api::ListUnitsRequest,
) -> Result<api::ListUnitsResponse, ApiError> {
    let project = Some(request.project.trim()).filter(|p| !p.is_empty());
    let contract_id = match request.contract_id.trim() {
        "" => None,
        id => Some(wire::uuid("contract_id", id)?),
    };
    let paging = kit::paging::Paging::<Uuid>::parse(
        &format!(
            "contracts.ListUnits {} {}",
            request.project.trim(),
            request.contract_id.trim()
        ),
        request.page_size,
        &request.page_token,
    )?;
    let (mode, value) = kit::auth::owners::params(&caller.scope);
    let rows = store::units_page(
        conn,
        project,
        contract_id,
        (mode, &value),
        paging.after().copied(),
        paging.fetch_limit(),
    )
    .await?;
    let (rows, next_page_token) = paging.finish(rows, |r| r.id);
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut terms: HashMap<Uuid, Vec<Term>> = HashMap::new();
    for (unit, term) in store::terms_of(conn, &ids).await? {
        terms.entry(unit).or_default().push(term);
    }
    Ok(api::ListUnitsResponse {
        units: rows
            .iter()
            .map(|r| unit_to_api(r, terms.get(&r.id).map_or(&[], Vec::as_slice)))
            .collect(),
        next_page_token,
    })
}
