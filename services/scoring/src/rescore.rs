//! Re-scoring one customer with pts-v1 (R-S1..R-S5): feature state -> features -> score,
//! saved with its full result, and `GradeChanged` published when the grade moves (R-S3).

use chrono::NaiveDate;
use sqlx::PgConnection;
use uuid::Uuid;

use kit::outbox::Outbox;
use proto::events::v1 as events;

use crate::domain::{ScoreResult, Scorecard};
use crate::{convert, store};

/// What re-scoring a customer needs besides the transaction.
#[derive(Clone)]
pub(crate) struct Scorer {
    /// The card in force.
    pub(crate) card: std::sync::Arc<Scorecard>,
    /// Publishes GradeChanged.
    pub(crate) outbox: Outbox,
}

impl Scorer {
    /// Re-scores the customer as of `today` (tenure counts up to it); true when the grade
    /// moved. `cause` says why (the event type, or `review 2026-Q1`); a review's score is
    /// always kept in the history, an event's when the points or the grade moved.
    pub(crate) async fn rescore(
        &self,
        tx: &mut PgConnection,
        customer_id: Uuid,
        today: NaiveDate,
        cause: &str,
        review: bool,
    ) -> Result<bool, sqlx::Error> {
        let before = store::scores::grade_for_update(tx, customer_id).await?;
        let state = store::features::state_of(tx, customer_id).await?;
        let result = self.card.score(&state.features(today));
        let previous = before.as_ref().map(|(grade, _)| grade.as_str());
        let moved = previous != Some(result.grade.as_str());
        let points_moved =
            before.as_ref().and_then(|(_, points)| *points) != i32::try_from(result.score).ok();
        store::scores::save(
            tx,
            customer_id,
            &result,
            cause,
            review || moved || points_moved,
        )
        .await?;
        if moved {
            let changed = grade_changed(customer_id, previous, &result);
            self.outbox
                .enqueue(
                    tx,
                    kit::events::SCORING_GRADES,
                    &customer_id.to_string(),
                    &changed,
                )
                .await?;
            tracing::info!(%customer_id, previous = previous.unwrap_or("-"),
                grade = %result.grade, score = result.score, cause, "grade changed");
        }
        Ok(moved)
    }
}

/// The event of a grade that moved (R-S3), with the score, reasons and strategy.
fn grade_changed(
    customer_id: Uuid,
    previous: Option<&str>,
    result: &ScoreResult,
) -> events::GradeChanged {
    events::GradeChanged {
        customer_id: customer_id.to_string(),
        previous_grade: previous.unwrap_or_default().to_owned(),
        grade: result.grade.as_str().to_owned(),
        days_past_due: result.features.days_past_due,
        reason_codes: result.reasons.iter().map(|r| r.code.clone()).collect(),
        scorecard_version: result.version.clone(),
        score: result.score,
        reasons: convert::reasons(result),
        strategy: Some(convert::strategy(&result.strategy)),
        grade_level: convert::grade(result.grade).into(),
        previous_grade_level: previous
            .map_or(proto::types::v1::Grade::Unspecified, convert::grade_name)
            .into(),
    }
}
