//! The daily cycle: moves business time forward and publishes every overdue receivable.

use std::collections::HashMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::PgPool;
use uuid::Uuid;

use kit::config::BusinessClock;
use kit::outbox::Outbox;
use kit::{ApiError, wire};
use proto::contracts::v1::RunDailyCycleResponse;
use proto::events::v1 as events;

use crate::domain::hold::Threshold;
use crate::terms::Terms;
use crate::{domain, store};

/// Receivables handled per transaction: a crash loses at most one chunk's work, which the
/// next run for the same date resumes.
const CHUNK: i64 = 1000;

/// Refuses an `as_of` after today's business date unless business time is simulated: a
/// cycle far in the future would mark every receivable overdue and escalate it to legal,
/// which cannot be undone (R-O3).
pub(crate) fn check_as_of(
    as_of: NaiveDate,
    today: NaiveDate,
    clock: BusinessClock,
) -> Result<(), ApiError> {
    if clock == BusinessClock::System && as_of > today {
        return Err(ApiError::invalid(
            "as_of",
            format!(
                "{as_of} is after today's business date {today}; the daily cycle runs for today \
                 or an earlier date. Only a service started with BUSINESS_CLOCK=simulated (tests \
                 and simulations; refused when COLLECTIONS_ENV=production) may move business \
                 time ahead of its clock"
            ),
        ));
    }
    Ok(())
}

/// Runs the cycle for `as_of`. Cycles move forward only: the same date again returns the
/// recorded result, an earlier date than one already run is refused. A cycle interrupted by
/// a crash resumes where it stopped when run again for the same date.
#[tracing::instrument(skip(pool, outbox, terms, hold_threshold))]
pub(crate) async fn run(
    pool: &PgPool,
    outbox: &Outbox,
    terms: &Terms,
    hold_threshold: Option<&Threshold>,
    as_of: NaiveDate,
) -> Result<RunDailyCycleResponse, ApiError> {
    let mut tx = pool.begin().await?;
    // One cycle at a time.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('contracts.daily_cycle'))")
        .execute(&mut *tx)
        .await?;
    let latest: Option<(NaiveDate, String, i32, i32)> =
        sqlx::query_as("SELECT as_of, status, newly_overdue, overdue FROM daily_cycles ORDER BY as_of DESC LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
    if let Some((last, status, newly, overdue)) = &latest {
        if *last > as_of {
            return Err(ApiError::FailedPrecondition(format!(
                "the daily cycle already ran for {last}, which is after {as_of}; business time only moves forward"
            )));
        }
        if *last == as_of && status == "done" {
            return Ok(RunDailyCycleResponse {
                as_of: as_of.to_string(),
                newly_overdue: u32::try_from(*newly).unwrap_or_default(),
                overdue: u32::try_from(*overdue).unwrap_or_default(),
                already_ran: true,
            });
        }
    }
    sqlx::query("INSERT INTO daily_cycles (as_of, status) VALUES ($1, 'running') ON CONFLICT (as_of) DO NOTHING")
        .bind(as_of)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;

    loop {
        let mut tx = pool.begin().await?;
        let rows: Vec<store::ReceivableRow> = sqlx::query_as(store::select_receivables!(
            "WHERE r.open_amount > 0 AND r.due_date < $1 AND (r.last_cycle IS NULL OR r.last_cycle < $1)
             ORDER BY r.due_date, r.id LIMIT $2 FOR UPDATE OF r SKIP LOCKED"
        ))
        .bind(as_of)
        .bind(CHUNK)
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            break;
        }
        // R-C8: receivables whose terms an amendment changed accrue under those terms.
        let amended = crate::amendments::fee_terms(&mut tx, &rows).await?;
        let payments = applied_payments(&mut tx, &rows, &amended).await?;
        let mut policies = HashMap::new();
        let mut newly = 0i32;
        for row in &rows {
            let days = domain::days_overdue(row.due_date, as_of);
            let newly_overdue = row.overdue_since.is_none();
            newly += i32::from(newly_overdue);
            let paid = payments.get(&row.id).map_or(&[][..], Vec::as_slice);
            let late_fee = match amended.get(&row.id) {
                Some(fees) => crate::amendments::late_fee(terms, fees, row, as_of, paid),
                None => late_fee(terms, &mut policies, row, as_of, paid),
            };
            sqlx::query(
                "UPDATE receivables SET overdue_since = COALESCE(overdue_since, $2), days_overdue = $3, last_cycle = $4,
                        late_fee = $5
                 WHERE id = $1",
            )
            .bind(row.id)
            .bind(row.due_date.succ_opt().unwrap_or(row.due_date))
            .bind(i32::try_from(days).unwrap_or(i32::MAX))
            .bind(as_of)
            .bind(late_fee)
            .execute(&mut *tx)
            .await?;
            let event = events::ReceivableOverdue {
                receivable_id: row.id.to_string(),
                contract_id: row.contract_id.to_string(),
                contract_no: row.contract_no.clone(),
                customer_id: row.customer_id.to_string(),
                due_date: row.due_date.to_string(),
                open_amount: Some(wire::money(row.open_amount, row.currency.trim())),
                days_overdue: days,
                as_of: as_of.to_string(),
                newly_overdue,
                late_fee: Some(wire::money(late_fee, row.currency.trim())),
                aging_bucket: money::aging::AgingBucket::for_days(days).label().to_owned(),
                kind: row.kind() as i32,
                charge_type: row.charge_type() as i32,
            };
            outbox
                .enqueue(
                    &mut tx,
                    kit::events::CONTRACTS,
                    &row.customer_id.to_string(),
                    &event,
                )
                .await?;
        }
        let count = i32::try_from(rows.len()).unwrap_or(i32::MAX);
        sqlx::query("UPDATE daily_cycles SET newly_overdue = newly_overdue + $2, overdue = overdue + $3 WHERE as_of = $1")
            .bind(as_of)
            .bind(newly)
            .bind(count)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }

    // R-S5: credit holds follow the overdue, in the same transaction that ends the cycle,
    // so a crash before it leaves the cycle to be resumed and the holds to be decided then.
    let mut tx = pool.begin().await?;
    if let Some(threshold) = hold_threshold {
        let (placed, released) =
            crate::holds::apply_overdue_threshold(&mut tx, outbox, threshold, as_of).await?;
        tracing::info!(%as_of, placed, released, "credit holds for overdue above the threshold");
    }
    let (newly, overdue): (i32, i32) = sqlx::query_as(
        "UPDATE daily_cycles SET status = 'done', finished_at = now() WHERE as_of = $1 RETURNING newly_overdue, overdue",
    )
    .bind(as_of)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::info!(%as_of, newly, overdue, "daily cycle done");
    Ok(RunDailyCycleResponse {
        as_of: as_of.to_string(),
        newly_overdue: u32::try_from(newly).unwrap_or_default(),
        overdue: u32::try_from(overdue).unwrap_or_default(),
        already_ran: false,
    })
}

/// Principal paid on each receivable of the chunk, by booking date (lowers the late-fee base
/// from that day, R-C4).
async fn applied_payments(
    tx: &mut sqlx::PgConnection,
    rows: &[store::ReceivableRow],
    amended: &HashMap<Uuid, crate::amendments::FeeTerms>,
) -> Result<HashMap<Uuid, Vec<(NaiveDate, Decimal)>>, sqlx::Error> {
    let ids: Vec<Uuid> = rows
        .iter()
        .filter(|r| r.late_fee_policy.is_some() || amended.contains_key(&r.id))
        .map(|r| r.id)
        .collect();
    let mut by_receivable: HashMap<Uuid, Vec<(NaiveDate, Decimal)>> = HashMap::new();
    if ids.is_empty() {
        return Ok(by_receivable);
    }
    let applied: Vec<(Uuid, Option<NaiveDate>, Decimal)> = sqlx::query_as(
        "SELECT receivable_id, booking_date, amount FROM allocations
         WHERE status = 'applied' AND receivable_id = ANY($1) ORDER BY booking_date",
    )
    .bind(&ids)
    .fetch_all(tx)
    .await?;
    for (id, date, amount) in applied {
        if let Some(date) = date {
            by_receivable.entry(id).or_default().push((date, amount));
        }
    }
    Ok(by_receivable)
}

/// The late fee through `as_of` under the contract's policy; zero without one. A policy that
/// cannot be computed keeps the last accrued fee and is logged for an operator.
fn late_fee(
    terms: &Terms,
    policies: &mut HashMap<Uuid, Option<money::late_fee::LateFeePolicy>>,
    row: &store::ReceivableRow,
    as_of: NaiveDate,
    payments: &[(NaiveDate, Decimal)],
) -> Decimal {
    let Some(json) = &row.late_fee_policy else {
        return Decimal::ZERO;
    };
    let policy = policies.entry(row.contract_id).or_insert_with(|| match terms.parse_policy(json) {
        Ok(policy) => Some(policy),
        Err(error) => {
            tracing::error!(contract_no = %row.contract_no, %error, "stored late-fee policy no longer parses");
            None
        }
    });
    let Some(policy) = policy else {
        return row.late_fee;
    };
    match terms.late_fee(
        policy,
        row.amount,
        row.currency.trim(),
        row.due_date,
        as_of,
        payments,
    ) {
        Ok(fee) => fee,
        Err(error) => {
            tracing::error!(receivable_id = %row.id, %error, "late fee could not be computed; keeping the last value");
            row.late_fee
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().expect("a date")
    }

    #[test]
    fn the_system_clock_refuses_dates_after_today() {
        let today = date("2026-12-03");
        assert!(check_as_of(today, today, BusinessClock::System).is_ok());
        assert!(check_as_of(date("2026-01-11"), today, BusinessClock::System).is_ok());
        match check_as_of(date("9999-12-31"), today, BusinessClock::System) {
            Err(ApiError::Invalid { field, reason }) => {
                assert_eq!(field, "as_of");
                assert!(reason.contains("2026-12-03"), "{reason}");
                assert!(reason.contains("BUSINESS_CLOCK=simulated"), "{reason}");
            }
            other => panic!("expected INVALID_ARGUMENT, got {other:?}"),
        }
        assert!(check_as_of(date("2026-12-04"), today, BusinessClock::System).is_err());
    }

    #[test]
    fn a_simulated_clock_moves_freely() {
        let today = date("2026-12-03");
        assert!(check_as_of(date("9999-12-31"), today, BusinessClock::Simulated).is_ok());
    }
}
