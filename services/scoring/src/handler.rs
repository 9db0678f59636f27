//! Keeps each customer's delinquency features from contracts' events and re-grades on every
//! change (R-S3), publishing `GradeChanged` when the grade moves.

use chrono::NaiveDate;
use sqlx::PgConnection;
use uuid::Uuid;

use kit::consumer::{HandleError, Handler, IncomingEvent, uuid_field as uuid};
use kit::outbox::Outbox;
use proto::events::v1 as events;

use crate::scorecard::{self, Features};

pub(crate) struct Events {
    pub(crate) outbox: Outbox,
}

impl Handler for Events {
    fn wants(&self, event_type: &str) -> bool {
        event_type == kit::events::type_name::<events::ContractSigned>()
            || event_type == kit::events::type_name::<events::ReceivableOverdue>()
            || event_type == kit::events::type_name::<events::AllocationApplied>()
            || event_type == kit::events::type_name::<events::PromiseJudged>()
            || event_type == kit::events::type_name::<events::RepaymentPlanBroken>()
            || kit::auth::owners::wants(event_type)
    }

    async fn handle(
        &self,
        tx: &mut PgConnection,
        event: &IncomingEvent,
    ) -> Result<(), HandleError> {
        let event_type = event.envelope.event_type.as_str();
        // R-O3: who owns each customer, for scoped reads by collectors.
        if kit::auth::owners::apply_event(tx, event).await?
            && event_type != kit::events::type_name::<events::ContractSigned>()
        {
            return Ok(());
        }
        let customer_id = if event_type == kit::events::type_name::<events::ContractSigned>() {
            let signed: events::ContractSigned = event.decode()?;
            let customer_id = uuid("customer_id", &signed.customer_id)?;
            for receivable in &signed.receivables {
                sqlx::query(
                    "INSERT INTO receivable_features (receivable_id, customer_id) VALUES ($1, $2)
                     ON CONFLICT (receivable_id) DO NOTHING",
                )
                .bind(uuid("receivable_id", &receivable.receivable_id)?)
                .bind(customer_id)
                .execute(&mut *tx)
                .await?;
            }
            customer_id
        } else if event_type == kit::events::type_name::<events::ReceivableOverdue>() {
            let overdue: events::ReceivableOverdue = event.decode()?;
            let customer_id = uuid("customer_id", &overdue.customer_id)?;
            let as_of = NaiveDate::parse_from_str(&overdue.as_of, "%Y-%m-%d")
                .map_err(|e| HandleError::Permanent(format!("as_of {:?}: {e}", overdue.as_of)))?;
            // Only a later business date moves the features (events of one key arrive in
            // order, but a replayed older event must not undo a newer one).
            sqlx::query(
                "INSERT INTO receivable_features (receivable_id, customer_id, days_overdue, is_open, ever_late, as_of)
                 VALUES ($1, $2, $3, TRUE, TRUE, $4)
                 ON CONFLICT (receivable_id) DO UPDATE
                   SET days_overdue = EXCLUDED.days_overdue, ever_late = TRUE, as_of = EXCLUDED.as_of
                   WHERE receivable_features.is_open
                     AND (receivable_features.as_of IS NULL OR receivable_features.as_of <= EXCLUDED.as_of)",
            )
            .bind(uuid("receivable_id", &overdue.receivable_id)?)
            .bind(customer_id)
            .bind(i32::try_from(overdue.days_overdue).unwrap_or(i32::MAX))
            .bind(as_of)
            .execute(&mut *tx)
            .await?;
            customer_id
        } else if event_type == kit::events::type_name::<events::PromiseJudged>() {
            // R-D5: a broken promise lowers the grade.
            let judged: events::PromiseJudged = event.decode()?;
            let customer_id = uuid("customer_id", &judged.customer_id)?;
            if judged.kept {
                return Ok(());
            }
            sqlx::query(
                "INSERT INTO broken_promises (promise_id, customer_id) VALUES ($1, $2)
                 ON CONFLICT (promise_id) DO NOTHING",
            )
            .bind(uuid("promise_id", &judged.promise_id)?)
            .bind(customer_id)
            .execute(&mut *tx)
            .await?;
            customer_id
        } else if event_type == kit::events::type_name::<events::RepaymentPlanBroken>() {
            // R-D6: a broken repayment plan is a broken promise to pay in installments; it
            // counts like one (the plan id cannot collide with a promise id: both are UUIDs).
            let broken: events::RepaymentPlanBroken = event.decode()?;
            let customer_id = uuid("customer_id", &broken.customer_id)?;
            sqlx::query(
                "INSERT INTO broken_promises (promise_id, customer_id) VALUES ($1, $2)
                 ON CONFLICT (promise_id) DO NOTHING",
            )
            .bind(uuid("plan_id", &broken.plan_id)?)
            .bind(customer_id)
            .execute(&mut *tx)
            .await?;
            customer_id
        } else {
            let applied: events::AllocationApplied = event.decode()?;
            if applied.repeat {
                // Contracts answering a re-driven proposal: the first answer was seen.
                return Ok(());
            }
            let customer_id = uuid("customer_id", &applied.customer_id)?;
            if applied.paid_in_full {
                sqlx::query(
                    "INSERT INTO receivable_features (receivable_id, customer_id, is_open) VALUES ($1, $2, FALSE)
                     ON CONFLICT (receivable_id) DO UPDATE SET is_open = FALSE, days_overdue = 0",
                )
                .bind(uuid("receivable_id", &applied.receivable_id)?)
                .bind(customer_id)
                .execute(&mut *tx)
                .await?;
            }
            customer_id
        };
        regrade(tx, &self.outbox, customer_id).await
    }
}

async fn regrade(
    tx: &mut PgConnection,
    outbox: &Outbox,
    customer_id: Uuid,
) -> Result<(), HandleError> {
    let (dpd, late): (i32, i64) = sqlx::query_as(
        "SELECT COALESCE(MAX(days_overdue) FILTER (WHERE is_open), 0)::int, COUNT(*) FILTER (WHERE ever_late)
         FROM receivable_features WHERE customer_id = $1",
    )
    .bind(customer_id)
    .fetch_one(&mut *tx)
    .await?;
    let broken: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM broken_promises WHERE customer_id = $1")
            .bind(customer_id)
            .fetch_one(&mut *tx)
            .await?;
    let features = Features {
        days_past_due: u32::try_from(dpd).unwrap_or_default(),
        late_receivables: u32::try_from(late).unwrap_or_default(),
        broken_promises: u32::try_from(broken).unwrap_or_default(),
    };
    let score = scorecard::score(features);
    let previous: Option<String> =
        sqlx::query_scalar("SELECT grade FROM scores WHERE customer_id = $1 FOR UPDATE")
            .bind(customer_id)
            .fetch_optional(&mut *tx)
            .await?;
    let reasons: Vec<String> = score.reasons.iter().map(|r| (*r).to_owned()).collect();
    sqlx::query(
        "INSERT INTO scores (customer_id, grade, days_past_due, late_receivables, reason_codes, scorecard_version, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, now())
         ON CONFLICT (customer_id) DO UPDATE SET grade = EXCLUDED.grade, days_past_due = EXCLUDED.days_past_due,
           late_receivables = EXCLUDED.late_receivables, reason_codes = EXCLUDED.reason_codes,
           scorecard_version = EXCLUDED.scorecard_version, updated_at = now()",
    )
    .bind(customer_id)
    .bind(score.grade)
    .bind(dpd)
    .bind(i32::try_from(late).unwrap_or(i32::MAX))
    .bind(&reasons)
    .bind(scorecard::VERSION)
    .execute(&mut *tx)
    .await?;
    if previous.as_deref() != Some(score.grade) {
        let changed = events::GradeChanged {
            customer_id: customer_id.to_string(),
            previous_grade: previous.clone().unwrap_or_default(),
            grade: score.grade.to_owned(),
            days_past_due: features.days_past_due,
            reason_codes: reasons,
            scorecard_version: scorecard::VERSION.to_owned(),
        };
        outbox
            .enqueue(
                tx,
                kit::events::SCORING_GRADES,
                &customer_id.to_string(),
                &changed,
            )
            .await?;
        tracing::info!(%customer_id, previous = previous.as_deref().unwrap_or("-"), grade = score.grade, "grade changed");
    }
    Ok(())
}
