//! R-D14: the retention job. Once a day it anonymises the contact records of debtors whose
//! last collection activity is more than `DUNNING_RETENTION_YEARS` (at least 3) years old,
//! in batches, and logs each run with what it removed (table `retention_runs` and the log).

use std::time::Duration;

use chrono::{Datelike, NaiveDate, Utc};
use sqlx::PgPool;

use crate::store::{self, retention::Removed};

/// Days before `today` by `years` calendar years (29 February → 28 February).
#[must_use]
pub fn cutoff(today: NaiveDate, years: u32) -> NaiveDate {
    let year = today.year() - i32::try_from(years).unwrap_or(i32::MAX);
    NaiveDate::from_ymd_opt(year, today.month(), today.day())
        .or_else(|| NaiveDate::from_ymd_opt(year, today.month(), 28))
        .unwrap_or(today)
}

/// One run for `today`.
///
/// # Errors
/// The database.
pub async fn run(pool: &PgPool, today: NaiveDate, years: u32) -> anyhow::Result<Removed> {
    let cutoff = cutoff(today, years);
    let mut total = Removed::default();
    loop {
        let mut tx = pool.begin().await?;
        let batch = store::retention::due(&mut tx, cutoff, 500).await?;
        if batch.is_empty() {
            store::retention::log_run(&mut tx, cutoff, &total).await?;
            tx.commit().await?;
            break;
        }
        let removed = store::retention::anonymise(&mut tx, &batch).await?;
        tx.commit().await?;
        total.customers += removed.customers;
        total.messages += removed.messages;
        total.tasks += removed.tasks;
        total.notices += removed.notices;
        total.contacts += removed.contacts;
    }
    tracing::info!(
        %cutoff, customers = total.customers, messages = total.messages, tasks = total.tasks,
        notices = total.notices, contacts = total.contacts,
        "retention run (R-D14): contact records of debtors without activity since the cutoff anonymised"
    );
    Ok(total)
}

/// Runs the job a minute after start and then daily.
pub fn spawn(pool: PgPool, years: u32) {
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(60)).await;
        loop {
            if let Err(error) = run(&pool, Utc::now().date_naive(), years).await {
                tracing::error!(
                    error = format!("{error:#}"),
                    "retention run failed; it runs again in an hour (check the database)"
                );
                tokio::time::sleep(Duration::from_secs(3600)).await;
                continue;
            }
            tokio::time::sleep(Duration::from_secs(24 * 3600)).await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::cutoff;
    use chrono::NaiveDate;

    #[test]
    fn the_cutoff_is_whole_calendar_years_back() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).expect("date");
        assert_eq!(cutoff(d(2026, 12, 4), 3), d(2023, 12, 4));
        assert_eq!(cutoff(d(2028, 2, 29), 3), d(2025, 2, 28));
    }
}
