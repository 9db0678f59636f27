//! Scoring one customer with a points card: points per indicator, their sum, the grade, the
//! reason codes and the strategy (R-S1, R-S2, R-S4, R-S5). The result carries the card's
//! version and the features, so anyone can recompute it.

use serde::{Deserialize, Serialize};

use super::card::Scorecard;
use super::features::{Features, Indicator};
use super::grade::Grade;
use super::strategy::Strategy;

/// At most this many reason codes per score (as credit bureaus give four adverse-action
/// reasons).
pub const MAX_REASONS: usize = 4;

/// What one indicator earned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Points {
    /// The indicator.
    pub indicator: Indicator,
    /// The bin the value fell in (`8-30`, `missing`, `residential`).
    pub bin: String,
    /// Points earned.
    pub points: u32,
    /// The most the indicator can earn.
    pub max_points: u32,
}

impl Points {
    /// Points lost against the indicator's maximum.
    #[must_use]
    pub fn lost(&self) -> u32 {
        self.max_points.saturating_sub(self.points)
    }
}

/// Why the score is not higher (R-S2): one indicator that lost points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    /// Stable code from the card (`DPD`).
    pub code: String,
    /// The indicator.
    pub indicator: Indicator,
    /// What it means.
    pub description: String,
    /// Points lost against the indicator's maximum.
    pub points_lost: u32,
}

/// A customer's score under one card version: enough to recompute and explain it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoreResult {
    /// The card's version.
    pub version: String,
    /// What was scored.
    pub features: Features,
    /// Points of each indicator, in the card's order.
    pub points: Vec<Points>,
    /// The sum of the points.
    pub score: u32,
    /// The card's maximum.
    pub max_score: u32,
    /// The grade (R-S1).
    pub grade: Grade,
    /// Which thresholds gave the grade: `base` or an override such as
    /// `segment=business_receivable` (R-S3).
    pub thresholds: String,
    /// Up to four indicators that lost the most points, most first (R-S2).
    pub reasons: Vec<Reason>,
    /// What the grade means for terms, security, follow-up, bureau and holds (R-S4, R-S5).
    pub strategy: Strategy,
}

impl Scorecard {
    /// Scores a customer.
    #[must_use]
    pub fn score(&self, features: &Features) -> ScoreResult {
        let points: Vec<Points> = self
            .rules
            .iter()
            .map(|rule| {
                let (earned, bin) = rule.points(rule.indicator.value(features));
                Points {
                    indicator: rule.indicator,
                    bin,
                    points: earned,
                    max_points: rule.max_points(),
                }
            })
            .collect();
        let score = points.iter().map(|p| p.points).sum();
        let (thresholds, name) = self.thresholds_for(
            features.segment,
            features.industry.as_ref(),
            features.region.as_ref(),
        );
        let grade = thresholds.grade(score);
        ScoreResult {
            version: self.version.clone(),
            features: features.clone(),
            reasons: self.reasons(&points),
            score,
            max_score: self.max_score(),
            grade,
            thresholds: name,
            strategy: Strategy::decide(grade, features),
            points,
        }
    }

    /// R-S2: the indicators that lost the most points, at most [`MAX_REASONS`]; one that lost
    /// nothing is no reason. Equal losses keep the card's order, so the codes are stable.
    fn reasons(&self, points: &[Points]) -> Vec<Reason> {
        let mut lost: Vec<(usize, &Points)> = points
            .iter()
            .enumerate()
            .filter(|(_, p)| p.lost() > 0)
            .collect();
        // A stable sort on the loss alone keeps the card's order among equals.
        lost.sort_by_key(|(_, p)| std::cmp::Reverse(p.lost()));
        lost.into_iter()
            .take(MAX_REASONS)
            .map(|(i, p)| {
                let rule = &self.rules[i];
                Reason {
                    code: rule.reason_code.clone(),
                    indicator: rule.indicator,
                    description: rule.description.clone(),
                    points_lost: p.lost(),
                }
            })
            .collect()
    }
}
