//! The scoring domain without I/O (no sqlx, tonic or rdkafka): the points scorecard `pts-v1`
//! (R-S1..R-S5) as versioned data, its typed features, grades, reason codes and strategy.
//!
//! The running service grades with this card; [`state`] turns the feature state it keeps
//! from events into the card's [`Features`].

pub mod card;
pub mod features;
pub mod grade;
pub mod score;
pub mod state;
pub mod strategy;

#[cfg(test)]
mod tests;

pub use card::{CardError, PTS_V1, Scorecard};
pub use features::{Balance, Code, Features, Indicator, Segment, Share};
pub use grade::{Grade, Thresholds};
pub use score::{MAX_REASONS, Points, Reason, ScoreResult};
pub use state::CustomerState;
pub use strategy::{BureauFlag, CreditTerm, FollowUp, HoldAdvice, Security, Strategy};
