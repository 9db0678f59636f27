//! No allocation stays `proposed` for ever (issue "Messaging you can bet money on", item 3).
//!
//! An allocation contracts never answered (its proposal or the answer was lost, or
//! dead-lettered) keeps the receivable's amount pending here while contracts' balance is
//! unchanged: dunning would go on against a customer who paid. The reconciler sends the
//! proposal again as it was published (same allocation id: contracts applies an id at most
//! once and answers a repeat with the decision it made), and after `max_redrives` tries puts
//! an ALLOCATION_STUCK exception in the queue for a person.

use std::time::Duration;

use anyhow::Context as _;
use prost::Message as _;
use sqlx::PgPool;

use kit::config::{ConfigError, env_parse};
use kit::outbox::Outbox;
use kit::shutdown::Shutdown;
use proto::events::v1 as events;

use crate::decisions::{self, Raised};
use crate::domain::status::ExceptionKind;
use crate::store;

/// When an unanswered allocation is sent again, and how often.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// `ALLOCATION_STUCK_AFTER_SECS` (default 900): an allocation unanswered this long (since
    /// it was proposed or last sent again) is sent again.
    pub(crate) stuck_after: Duration,
    /// `ALLOCATION_MAX_REDRIVES` (default 3): after this many tries, a person is asked.
    pub(crate) max_redrives: i32,
}

impl Settings {
    pub(crate) fn from_env() -> Result<Self, ConfigError> {
        let stuck_after: u64 = env_parse(
            "ALLOCATION_STUCK_AFTER_SECS",
            900,
            "seconds as a whole number, at least 1",
        )?;
        Ok(Self {
            stuck_after: Duration::from_secs(stuck_after.max(1)),
            max_redrives: env_parse("ALLOCATION_MAX_REDRIVES", 3, "a whole number")?,
        })
    }

    /// How often to look: a third of the threshold, between 1 s and a minute.
    fn interval(&self) -> Duration {
        (self.stuck_after / 3).clamp(Duration::from_secs(1), Duration::from_secs(60))
    }
}

/// What one pass did.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Pass {
    pub(crate) redriven: usize,
    pub(crate) raised: usize,
}

/// Runs passes until shutdown.
pub(crate) async fn run(pool: PgPool, outbox: Outbox, settings: Settings, mut shutdown: Shutdown) {
    loop {
        tokio::select! {
            () = shutdown.wait() => break,
            () = tokio::time::sleep(settings.interval()) => {}
        }
        match pass(&pool, &outbox, &settings).await {
            Ok(done) if done != Pass::default() => {
                tracing::warn!(
                    redriven = done.redriven,
                    raised = done.raised,
                    "allocations contracts had not answered"
                );
            }
            Ok(_) => {}
            // The database may be down; the next pass tries again.
            Err(error) => tracing::warn!(
                error = format!("{error:#}"),
                "allocation reconciler pass failed"
            ),
        }
    }
}

/// One pass in one transaction: rows are locked (SKIP LOCKED: replicas share the work).
pub(crate) async fn pass(
    pool: &PgPool,
    outbox: &Outbox,
    settings: &Settings,
) -> anyhow::Result<Pass> {
    let mut tx = pool.begin().await.context("begin")?;
    let rows = store::lock_unanswered_allocations(&mut tx, settings.stuck_after.as_secs_f64())
        .await
        .context("finding unanswered allocations")?;
    let mut done = Pass::default();
    for store::Unanswered {
        id: allocation_id,
        payment_id,
        redrives,
        event,
        event_key: key,
        customer_id,
    } in rows
    {
        let proposal = event
            .as_deref()
            .map(events::PaymentAllocated::decode)
            .transpose()
            .context("a stored proposal does not decode")?;
        match (proposal, key) {
            (Some(proposal), Some(key)) if redrives < settings.max_redrives => {
                outbox
                    .enqueue(&mut tx, kit::events::PAYMENTS, &key, &proposal)
                    .await?;
                store::mark_allocation_redriven(&mut tx, allocation_id).await?;
                tracing::info!(%allocation_id, tries = redrives + 1, "allocation proposed again");
                done.redriven += 1;
            }
            _ => {
                let key = customer_id.map_or_else(|| payment_id.to_string(), |c| c.to_string());
                let reason = format!(
                    "contracts never answered allocation {allocation_id} (sent {} time(s)); the amount stays reserved and the receivable's balance may not show the payment",
                    redrives + 1
                );
                decisions::raise(
                    &mut tx,
                    outbox,
                    &Raised {
                        payment_id,
                        key: &key,
                        kind: ExceptionKind::AllocationStuck,
                        reason: &reason,
                        suggested_action: "check the contracts service and its dead-letter topic; when contracts shows the allocation, nothing is to do; otherwise allocate the payment by hand",
                        candidates: "[]",
                        also: &[],
                    },
                )
                .await?;
                store::mark_allocation_stuck(&mut tx, allocation_id).await?;
                done.raised += 1;
            }
        }
    }
    tx.commit().await.context("commit")?;
    Ok(done)
}
