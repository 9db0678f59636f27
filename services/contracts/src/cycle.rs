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
use crate::domain::owed::{Component, Owed};
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
    store::cycle::lock(&mut tx).await?;
    if let Some(latest) = store::cycle::latest(&mut tx).await? {
        if latest.as_of > as_of {
            return Err(ApiError::FailedPrecondition(format!(
                "the daily cycle already ran for {}, which is after {as_of}; business time only moves forward",
                latest.as_of
            )));
        }
        if latest.as_of == as_of && latest.done {
            return Ok(RunDailyCycleResponse {
                as_of: as_of.to_string(),
                newly_overdue: u32::try_from(latest.newly_overdue).unwrap_or_default(),
                overdue: u32::try_from(latest.overdue).unwrap_or_default(),
                already_ran: true,
            });
        }
    }
    store::cycle::start(&mut tx, as_of).await?;
    tx.commit().await?;

    let mut after = None;
    let mut done: i64 = 0;
    kit::metrics::gauge("daily_cycle_receivables_done", 0);
    loop {
        let mut tx = pool.begin().await?;
        let rows = store::cycle::chunk(&mut tx, as_of, after, CHUNK).await?;
        let Some(last) = rows.last() else {
            break;
        };
        after = Some((last.due_date, last.id));
        let (accruals, overdue) = accrue_chunk(terms, &mut tx, &rows, as_of).await?;
        let newly = overdue.iter().filter(|(_, e)| e.newly_overdue).count();
        store::owed::record_accruals(&mut tx, &accruals).await?;
        outbox
            .enqueue_batch(&mut tx, kit::events::CONTRACTS, &overdue)
            .await?;
        store::cycle::add_counts(
            &mut tx,
            as_of,
            i32::try_from(newly).unwrap_or(i32::MAX),
            i32::try_from(overdue.len()).unwrap_or(i32::MAX),
        )
        .await?;
        tx.commit().await?;
        // Issue 16 item 3: the cycle's progress for operators.
        done += i64::try_from(rows.len()).unwrap_or(i64::MAX);
        kit::metrics::gauge("daily_cycle_receivables_done", done);
    }

    // R-S5: credit holds follow the overdue, in the same transaction that ends the cycle,
    // so a crash before it leaves the cycle to be resumed and the holds to be decided then.
    let mut tx = pool.begin().await?;
    if let Some(threshold) = hold_threshold {
        let (placed, released) =
            crate::holds::apply_overdue_threshold(&mut tx, outbox, threshold, as_of).await?;
        tracing::info!(%as_of, placed, released, "credit holds for overdue above the threshold");
    }
    let (newly, overdue) = store::cycle::finish(&mut tx, as_of).await?;
    // Dunning runs its ladder once it has every overdue event of the day (R-D3: one notice
    // per debtor covering all their items); the count tells it when it has them all.
    let completed = events::DailyCycleCompleted {
        as_of: as_of.to_string(),
        overdue: u32::try_from(overdue).unwrap_or_default(),
        newly_overdue: u32::try_from(newly).unwrap_or_default(),
    };
    outbox
        .enqueue(&mut tx, kit::events::CONTRACTS, "daily-cycle", &completed)
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

/// The accruals of one chunk (R-C4, R-C12), and the ReceivableOverdue event of every
/// receivable on which something is still owed (R-D12), keyed by customer.
async fn accrue_chunk(
    terms: &Terms,
    tx: &mut sqlx::PgConnection,
    rows: &[store::ReceivableRow],
    as_of: NaiveDate,
) -> Result<
    (
        Vec<store::owed::Accrual>,
        Vec<(String, events::ReceivableOverdue)>,
    ),
    sqlx::Error,
> {
    // R-C8: receivables whose late-fee terms an amendment changed accrue under those terms.
    let amended = crate::amendments::fee_terms(tx, rows).await?;
    let accruing: Vec<Uuid> = rows
        .iter()
        .filter(|r| {
            r.late_fee_policy.is_some()
                || r.interest_policy.is_some()
                || amended.contains_key(&r.id)
        })
        .map(|r| r.id)
        .collect();
    let payments = store::owed::principal_payments(tx, &accruing).await?;
    // R-D6: a receivable in a repayment plan that is kept accrues nothing after the day the
    // plan was agreed.
    let frozen = store::plans::frozen(tx, &accruing).await?;
    let mut fee_policies = HashMap::new();
    let mut interest_policies = HashMap::new();
    let mut accruals = Vec::with_capacity(rows.len());
    let mut overdue = Vec::with_capacity(rows.len());
    for row in rows {
        let days = domain::days_overdue(row.due_date, as_of);
        let paid = payments.get(&row.id).map_or(&[][..], Vec::as_slice);
        let accrue_through = frozen
            .get(&row.id)
            .map_or(as_of, |agreed| as_of.min(*agreed));
        // Recomputed through `as_of` on the overdue principal; what was already paid or
        // waived of them stays settled.
        let fee_through = match amended.get(&row.id) {
            Some(fees) => crate::amendments::late_fee(terms, fees, row, accrue_through, paid),
            None => accrued(
                terms,
                &mut fee_policies,
                row,
                row.late_fee_policy.as_deref(),
                row.late_fee,
                accrue_through,
                paid,
            ),
        };
        let late_fee = row.book(Component::LateFee).accrue_to(fee_through);
        let interest = row.book(Component::Interest).accrue_to(accrued(
            terms,
            &mut interest_policies,
            row,
            // R-C7: an interest-free down-payment installment accrues none.
            row.interest_policy
                .as_deref()
                .filter(|_| !row.interest_free),
            row.interest,
            accrue_through,
            paid,
        ));
        let owed = Owed {
            late_fee: late_fee.open,
            interest: interest.open,
            ..row.owed()
        };
        // R-D12: overdue while anything is owed, not only principal.
        let is_overdue = owed.total() > Decimal::ZERO;
        accruals.push(store::owed::Accrual {
            receivable_id: row.id,
            overdue_since: is_overdue.then(|| row.due_date.succ_opt().unwrap_or(row.due_date)),
            days_overdue: i32::try_from(days).unwrap_or(i32::MAX),
            as_of,
            late_fee,
            interest,
            // The fee stops with the principal paid (R-C4): this was the last accrual.
            accruing: row.open_amount > Decimal::ZERO,
        });
        if !is_overdue {
            continue;
        }
        let currency = row.currency.trim();
        overdue.push((
            row.customer_id.to_string(),
            events::ReceivableOverdue {
                receivable_id: row.id.to_string(),
                contract_id: row.contract_id.to_string(),
                contract_no: row.contract_no.clone(),
                customer_id: row.customer_id.to_string(),
                due_date: row.due_date.to_string(),
                open_amount: Some(wire::money(row.open_amount, currency)),
                days_overdue: days,
                as_of: as_of.to_string(),
                newly_overdue: row.overdue_since.is_none(),
                late_fee: Some(wire::money(late_fee.charged, currency)),
                aging_bucket: money::aging::AgingBucket::for_days(days).label().to_owned(),
                kind: row.kind() as i32,
                charge_type: row.charge_type() as i32,
                owed: Some(wire::owed(&owed, currency)),
                interest: Some(wire::money(interest.charged, currency)),
                late_fee_terms: fee_policies
                    .get(&row.contract_id)
                    .and_then(Option::as_ref)
                    .map(|p| p.name().to_owned())
                    .unwrap_or_default(),
            },
        ));
    }
    Ok((accruals, overdue))
}

/// Late fee or interest accrued through `as_of` under `policy` (the contract's JSON terms);
/// zero without one. A policy that cannot be computed keeps `last` (the figure accrued
/// before) and is logged for an operator.
fn accrued(
    terms: &Terms,
    cache: &mut HashMap<Uuid, Option<money::late_fee::LateFeePolicy>>,
    row: &store::ReceivableRow,
    policy: Option<&str>,
    last: Decimal,
    as_of: NaiveDate,
    payments: &[(NaiveDate, Decimal)],
) -> Decimal {
    let Some(json) = policy else {
        return Decimal::ZERO;
    };
    let policy = cache.entry(row.contract_id).or_insert_with(|| match terms.parse_policy(json) {
        Ok(policy) => Some(policy),
        Err(error) => {
            tracing::error!(contract_no = %row.contract_no, %error, "stored accrual policy no longer parses");
            None
        }
    });
    let Some(policy) = policy else {
        return last;
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
            tracing::error!(receivable_id = %row.id, %error, "accrual could not be computed; keeping the last value");
            last
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
