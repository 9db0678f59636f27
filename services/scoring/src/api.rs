//! gRPC: parse the request, read or act through the store and the domain, map the response.

use proto::scoring::v1 as api;
use proto::scoring::v1::scoring_service_server::ScoringService;
use sqlx::PgPool;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use kit::{ApiError, wire};

use crate::domain::features::Value;
use crate::rescore::Scorer;
use crate::store::scores::StoredScore;
use crate::{ReviewConfig, convert, domain, review, store};

/// The gRPC API.
pub struct Api {
    pub(crate) pool: PgPool,
    pub(crate) scorer: Scorer,
    pub(crate) review: ReviewConfig,
    pub(crate) business_offset: chrono::FixedOffset,
}

impl Api {
    /// The customer's stored score, scoped (R-O3: a collector reads their own customers').
    async fn stored(
        &self,
        caller: &kit::auth::Caller,
        customer_id: &str,
    ) -> Result<(Uuid, StoredScore), Status> {
        let customer_id = wire::uuid("customer_id", customer_id)?;
        let mut conn = self.pool.acquire().await.map_err(ApiError::from)?;
        kit::auth::owners::require_customer(&mut conn, caller, customer_id).await?;
        let stored = store::scores::current(&mut conn, customer_id)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| {
                ApiError::NotFound(format!("no score yet for customer {customer_id}"))
            })?;
        Ok((customer_id, stored))
    }
}

#[tonic::async_trait]
impl ScoringService for Api {
    #[tracing::instrument(skip_all)]
    async fn get_score(
        &self,
        request: Request<api::GetScoreRequest>,
    ) -> Result<Response<api::GetScoreResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let (customer_id, stored) = self.stored(&caller, &request.get_ref().customer_id).await?;
        Ok(Response::new(api::GetScoreResponse {
            score: Some(score(customer_id, &stored)),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn explain_score(
        &self,
        request: Request<api::ExplainScoreRequest>,
    ) -> Result<Response<api::ExplainScoreResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let (customer_id, stored) = self.stored(&caller, &request.get_ref().customer_id).await?;
        let Some(result) = &stored.result else {
            return Err(ApiError::FailedPrecondition(format!(
                "the score of customer {customer_id} is from {}, which has no points; it is \
                 re-scored with the next event or the next review (RunReview)",
                stored.version
            ))
            .into());
        };
        let indicators = result
            .points
            .iter()
            .map(|p| api::IndicatorPoints {
                indicator: p.indicator.as_str().to_owned(),
                value: match p.indicator.value(&result.features) {
                    Value::Number(n) => n.map(|n| n.normalize().to_string()).unwrap_or_default(),
                    Value::Segment(s) => s.as_str().to_owned(),
                },
                bin: p.bin.clone(),
                points: p.points,
                max_points: p.max_points,
            })
            .collect();
        let features_json =
            serde_json::to_string(&result.features).map_err(|e| ApiError::Unexpected(e.into()))?;
        Ok(Response::new(api::ExplainScoreResponse {
            score: Some(score(customer_id, &stored)),
            indicators,
            features_json,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn run_review(
        &self,
        request: Request<api::RunReviewRequest>,
    ) -> Result<Response<api::RunReviewResponse>, Status> {
        let as_of = request.into_inner().as_of;
        let as_of = if as_of.is_empty() {
            kit::config::business_date(chrono::Utc::now(), self.business_offset)
        } else {
            wire::date("as_of", &as_of)?
        };
        let period = domain::state::review_period(as_of, self.review.months);
        let outcome = review::run(&self.pool, &self.scorer, &period, as_of, self.review.chunk)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(api::RunReviewResponse {
            period,
            rescored: outcome.rescored,
            grades_changed: outcome.grades_changed,
            already_ran: outcome.already_ran,
            resumed: outcome.resumed,
        }))
    }
}

/// A stored score on the wire: pts-v1 with points and strategy, or a dpd-v2 score as it was.
fn score(customer_id: Uuid, stored: &StoredScore) -> api::Score {
    let base = api::Score {
        customer_id: customer_id.to_string(),
        grade: stored.grade.clone(),
        days_past_due: u32::try_from(stored.days_past_due).unwrap_or_default(),
        late_receivables: u32::try_from(stored.late).unwrap_or_default(),
        scorecard_version: stored.version.clone(),
        updated_at: stored.updated_at.to_rfc3339(),
        grade_level: convert::grade_name(&stored.grade).into(),
        ..Default::default()
    };
    let Some(result) = &stored.result else {
        return api::Score {
            reasons: stored
                .reason_codes
                .iter()
                .map(|code| api::ReasonCode {
                    code: code.clone(),
                    description: format!("{} reason code (not re-scored since)", stored.version),
                    ..Default::default()
                })
                .collect(),
            ..base
        };
    };
    api::Score {
        reasons: result
            .reasons
            .iter()
            .map(|r| api::ReasonCode {
                code: r.code.clone(),
                description: r.description.clone(),
                indicator: r.indicator.as_str().to_owned(),
                points_lost: r.points_lost,
            })
            .collect(),
        points: result.score,
        max_points: result.max_score,
        thresholds: result.thresholds.clone(),
        strategy: Some(convert::strategy(&result.strategy)),
        ..base
    }
}
