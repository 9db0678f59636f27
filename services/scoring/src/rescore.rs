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
        Ok(self
            .rescore_all(tx, &[customer_id], today, cause, review)
            .await?
            > 0)
    }

    /// [`rescore`](Self::rescore) for many customers in a fixed number of statements (a run
    /// of events, a review's chunk; issue 16); how many grades moved.
    pub(crate) async fn rescore_all(
        &self,
        tx: &mut PgConnection,
        customers: &[Uuid],
        today: NaiveDate,
        cause: &str,
        review: bool,
    ) -> Result<usize, sqlx::Error> {
        if customers.is_empty() {
            return Ok(0);
        }
        let before = store::scores::grades_for_update(tx, customers).await?;
        let states = store::features::states_of(tx, customers).await?;
        let mut results: Vec<(Uuid, ScoreResult, bool)> = Vec::with_capacity(customers.len());
        let mut changes = self.outbox.staged();
        for customer_id in customers {
            let Some(state) = states.get(customer_id) else {
                continue;
            };
            let result = self.card.score(&state.features(today));
            let before = before.get(customer_id);
            let previous = before.map(|(grade, _)| grade.as_str());
            let moved = previous != Some(result.grade.as_str());
            let points_moved =
                before.and_then(|(_, points)| *points) != i32::try_from(result.score).ok();
            if moved {
                let changed = grade_changed(*customer_id, previous, &result);
                changes.push(
                    kit::events::SCORING_GRADES,
                    &customer_id.to_string(),
                    &changed,
                )?;
                tracing::info!(%customer_id, previous = previous.unwrap_or("-"),
                    grade = %result.grade, score = result.score, cause, "grade changed");
            }
            results.push((*customer_id, result, review || moved || points_moved));
        }
        let scored: Vec<store::scores::Scored<'_>> = results
            .iter()
            .map(|(customer_id, result, history)| store::scores::Scored {
                customer_id: *customer_id,
                result,
                history: *history,
            })
            .collect();
        store::scores::save_all(tx, &scored, cause).await?;
        let moved = changes.len();
        changes.write(tx).await?;
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
