//! R-D8: the dispute SLA. Every second, the open disputes whose response deadline has passed
//! on dunning's clock are marked breached at their deadline, published
//! (`DisputeSlaBreached`) and put in the assignee's tasks, due at the deadline.

use std::time::Duration;

use chrono::Utc;
use sqlx::PgPool;
use uuid::Uuid;

use kit::outbox::Outbox;
use proto::events::v1 as events;

use crate::store;

/// Marks what is due; returns how many disputes were breached.
///
/// # Errors
/// The database.
pub async fn check(pool: &PgPool, outbox: &Outbox) -> anyhow::Result<usize> {
    let mut tx = pool.begin().await?;
    let now = store::disputes::now(&mut tx).await?;
    let breached = store::disputes::breach_due(&mut tx, now).await?;
    for d in &breached {
        let event = events::DisputeSlaBreached {
            dispute_id: d.id.to_string(),
            customer_id: d.customer_id.to_string(),
            breached_at: d.deadline.to_rfc3339(),
            assignee: d.assignee.clone(),
        };
        outbox
            .enqueue(
                &mut tx,
                kit::events::DUNNING,
                &d.customer_id.to_string(),
                &event,
            )
            .await?;
        let task = store::contacts::TaskRow {
            id: Uuid::now_v7(),
            customer_id: d.customer_id,
            case_id: Some(d.case_id),
            channel: crate::domain::contact_log::Channel::PhoneCall
                .as_str()
                .to_owned(),
            step: "dispute_sla_breached".to_owned(),
            requested_at: Utc::now(),
            due_at: d.deadline,
            refused_for: None,
            assignee: d.assignee.clone(),
            status: "open".to_owned(),
            outcome: None,
            completed_by: None,
            completed_at: None,
            note: format!(
                "dispute {} unanswered past its deadline {}: respond to the debtor and resolve it",
                d.id,
                d.deadline.to_rfc3339()
            ),
            notice_id: None,
            contact_log_seq: None,
            created_by: "system".to_owned(),
        };
        store::contacts::insert_task(&mut tx, &task, Some(&format!("dispute-sla:{}", d.id)))
            .await?;
        tracing::warn!(dispute_id = %d.id, assignee = %d.assignee, "dispute SLA breached (R-D8)");
    }
    tx.commit().await?;
    Ok(breached.len())
}

/// Runs the check every second until the process ends.
pub fn spawn(pool: PgPool, outbox: Outbox) {
    tokio::spawn(async move {
        loop {
            if let Err(error) = check(&pool, &outbox).await {
                tracing::error!(
                    error = format!("{error:#}"),
                    "dispute SLA check failed; it runs again in a few seconds (check the database)"
                );
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
}
