//! R-S3: the periodic full review. Every customer scoring knows is re-scored with the card in
//! force, in customer-id order, one chunk per transaction; the review's row keeps the last
//! customer of the last committed chunk, so a review interrupted by a crash resumes after it
//! (when run again for the same period, or when the service starts).

use chrono::NaiveDate;
use sqlx::PgPool;

use crate::rescore::Scorer;
use crate::store::{self, reviews::Progress};

/// What a run of the review did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Outcome {
    /// Customers re-scored by this run.
    pub(crate) rescored: u32,
    /// Of them, whose grade moved.
    pub(crate) grades_changed: u32,
    /// The period's review had already finished.
    pub(crate) already_ran: bool,
    /// A review interrupted earlier was resumed.
    pub(crate) resumed: bool,
}

/// Runs (or resumes) the review of `period` as of `as_of`, `chunk` customers per transaction.
pub(crate) async fn run(
    pool: &PgPool,
    scorer: &Scorer,
    period: &str,
    as_of: NaiveDate,
    chunk: i64,
) -> Result<Outcome, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let started = store::reviews::start(&mut tx, period, as_of).await?;
    tx.commit().await?;
    let cause = format!("review {period}");
    let mut outcome = Outcome::default();
    let mut first = true;
    loop {
        let mut tx = pool.begin().await?;
        let Some(mut progress) = store::reviews::lock(&mut tx, period).await? else {
            break;
        };
        if first {
            outcome.already_ran = progress.finished;
            outcome.resumed = !started && !progress.finished;
            first = false;
        }
        if progress.finished {
            break;
        }
        let customers =
            store::features::customers_after(&mut tx, progress.last_customer, chunk).await?;
        // The chunk in a fixed number of statements (issue 16).
        let moved = scorer
            .rescore_all(&mut tx, &customers, as_of, &cause, true)
            .await?;
        let rescored = customers.len();
        outcome.grades_changed += u32::try_from(moved).unwrap_or(u32::MAX);
        progress.grades_changed += i32::try_from(moved).unwrap_or(i32::MAX);
        outcome.rescored += u32::try_from(rescored).unwrap_or(u32::MAX);
        progress.rescored += i32::try_from(rescored).unwrap_or(i32::MAX);
        progress = Progress {
            last_customer: customers.last().copied().or(progress.last_customer),
            finished: i64::try_from(customers.len()).unwrap_or(i64::MAX) < chunk,
            ..progress
        };
        store::reviews::advance(&mut tx, period, &progress).await?;
        tx.commit().await?;
        if progress.finished {
            tracing::info!(
                period,
                rescored = progress.rescored,
                grades_changed = progress.grades_changed,
                "full review finished"
            );
        }
    }
    Ok(outcome)
}

/// The review worker: every `poll`, runs the reviews started and not finished — those the
/// daily cycle started (R-S3: a new period's first cycle) and those a crash interrupted.
/// Several replicas may run one review together: each chunk is taken under the review's lock.
pub(crate) async fn worker(pool: PgPool, scorer: Scorer, chunk: i64, poll: std::time::Duration) {
    loop {
        resume_unfinished(&pool, &scorer, chunk).await;
        tokio::time::sleep(poll).await;
    }
}

/// Runs the reviews started and not finished.
async fn resume_unfinished(pool: &PgPool, scorer: &Scorer, chunk: i64) {
    let unfinished = match pool.begin().await {
        Ok(mut tx) => store::reviews::unfinished(&mut tx).await,
        Err(e) => Err(e),
    };
    match unfinished {
        Ok(periods) => {
            for (period, as_of) in periods {
                tracing::info!(period, %as_of, "running the full review");
                if let Err(error) = run(pool, scorer, &period, as_of, chunk).await {
                    tracing::warn!(period, %error, "full review stopped; it resumes when run again");
                }
            }
        }
        Err(error) => tracing::warn!(%error, "cannot read unfinished reviews"),
    }
}
