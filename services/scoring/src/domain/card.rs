//! Scorecards as versioned data (issue 15 item 3): a card is a JSON file, parsed with serde
//! and validated once at load; an error names the field (`indicators[2].bins[1].from`). The
//! shipped cards are embedded in the binary, so a version string always means the same bins.

use std::collections::BTreeMap;
use std::fmt;

use rust_decimal::Decimal;
use serde::Deserialize;

use super::features::{Code, Indicator, Segment};
use super::grade::Thresholds;

mod load;

/// The card the scoring service grades with (R-S1..R-S5).
pub const PTS_V1: &str = "pts-v1";

const SHIPPED: [(&str, &str); 1] = [(PTS_V1, include_str!("../../scorecards/pts-v1.json"))];

/// A card that cannot be used: which field and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardError {
    /// Where in the file (`indicators[2].bins[1].from`), empty for the whole file.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl CardError {
    fn at(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for CardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "scorecard: {}", self.message)
        } else {
            write!(f, "scorecard field {}: {}", self.field, self.message)
        }
    }
}

impl std::error::Error for CardError {}

/// A half-open range `[from, to)` of an indicator's value and its points; `to` absent is
/// unbounded.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bin {
    /// Lowest value in the bin.
    pub from: Decimal,
    /// First value above the bin; `None` for the last bin.
    #[serde(default)]
    pub to: Option<Decimal>,
    /// Points earned.
    pub points: u32,
}

impl Bin {
    fn holds(&self, v: Decimal) -> bool {
        v >= self.from && self.to.is_none_or(|to| v < to)
    }

    /// How the bin reads for people: `8-30` for whole numbers, `0.80 to under 0.95` else.
    #[must_use]
    pub fn label(&self, whole: bool) -> String {
        match (self.to, whole) {
            (None, _) => format!("{} or more", self.from),
            (Some(to), true) if to - self.from == Decimal::ONE => self.from.to_string(),
            (Some(to), true) => format!("{}-{}", self.from, to - Decimal::ONE),
            (Some(to), false) => format!("{} to under {to}", self.from),
        }
    }
}

/// How one indicator scores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The indicator.
    pub indicator: Indicator,
    /// Stable reason code when the indicator costs points (R-S2).
    pub reason_code: String,
    /// What the reason means, for the customer, collector and auditor.
    pub description: String,
    /// Numeric bins, in order, covering 0 and up without gaps (empty for the segment).
    pub bins: Vec<Bin>,
    /// Points of each segment (empty for numeric indicators).
    pub categories: BTreeMap<Segment, u32>,
    /// Points when the value is not on file (optional indicators only).
    pub missing: Option<u32>,
}

impl Rule {
    /// The most points the indicator can give.
    #[must_use]
    pub fn max_points(&self) -> u32 {
        self.bins
            .iter()
            .map(|b| b.points)
            .chain(self.categories.values().copied())
            .chain(self.missing)
            .max()
            .unwrap_or(0)
    }

    /// The points of a value and the bin's label.
    #[must_use]
    pub fn points(&self, value: super::features::Value) -> (u32, String) {
        use super::features::Value;
        match value {
            Value::Segment(s) => (
                self.categories.get(&s).copied().unwrap_or(0),
                s.as_str().to_owned(),
            ),
            // Validation made `missing` present for every optional indicator.
            Value::Number(None) => (self.missing.unwrap_or(0), "missing".to_owned()),
            Value::Number(Some(v)) => self.bins.iter().find(|b| b.holds(v)).map_or_else(
                || (0, "out of range".to_owned()),
                |b| (b.points, b.label(self.indicator.whole())),
            ),
        }
    }
}

/// Grade thresholds for customers of one segment, industry and/or region (R-S3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    /// Segment it applies to, if any.
    pub segment: Option<Segment>,
    /// Industry it applies to, if any.
    pub industry: Option<Code>,
    /// Region it applies to, if any.
    pub region: Option<Code>,
    /// The thresholds.
    pub thresholds: Thresholds,
}

impl Override {
    /// How many of the keys are given: the most specific matching override wins.
    fn specificity(&self) -> usize {
        usize::from(self.segment.is_some())
            + usize::from(self.industry.is_some())
            + usize::from(self.region.is_some())
    }

    /// `segment=commercial,region=cn-gd`.
    #[must_use]
    pub fn name(&self) -> String {
        [
            self.segment.map(|s| format!("segment={s}")),
            self.industry.as_ref().map(|c| format!("industry={c}")),
            self.region.as_ref().map(|c| format!("region={c}")),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(",")
    }
}

/// A validated points scorecard: made only by loading a card file, so it always holds a card
/// that passed the checks (the fields are read through the methods).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scorecard {
    /// Version stamped on every result (`pts-v1`).
    pub(super) version: String,
    /// One rule per indicator, in the file's order (the order that breaks ties, R-S2).
    pub(super) rules: Vec<Rule>,
    /// Thresholds for everyone without an override.
    pub(super) thresholds: Thresholds,
    /// Overrides by segment, industry and region (R-S3).
    pub(super) overrides: Vec<Override>,
}

impl Scorecard {
    /// The version stamped on every result (`pts-v1`).
    #[must_use]
    pub fn version(&self) -> &str {
        &self.version
    }

    /// One rule per indicator, in the card's order (the order that breaks ties, R-S2).
    #[must_use]
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Thresholds for everyone without an override.
    #[must_use]
    pub fn base_thresholds(&self) -> &Thresholds {
        &self.thresholds
    }

    /// Overrides by segment, industry and region (R-S3), in the card's order.
    #[must_use]
    pub fn overrides(&self) -> &[Override] {
        &self.overrides
    }

    /// A card the service ships, by version.
    ///
    /// # Errors
    /// No such version, or the shipped file does not validate (a test keeps it from being
    /// released that way).
    pub fn shipped(version: &str) -> Result<Self, CardError> {
        let (_, text) = SHIPPED.iter().find(|(v, _)| *v == version).ok_or_else(|| {
            CardError::at(
                "version",
                format!(
                    "no scorecard {version} is shipped (known: {})",
                    SHIPPED.map(|(v, _)| v).join(", ")
                ),
            )
        })?;
        Self::from_json(text)
    }

    /// The most points a customer can score.
    #[must_use]
    pub fn max_score(&self) -> u32 {
        self.rules.iter().map(Rule::max_points).sum()
    }

    /// The thresholds that apply (R-S3): the most specific override whose every key matches
    /// (the first in the file among equally specific ones), else the card's own; with its
    /// name (`base` for the card's own).
    #[must_use]
    pub fn thresholds_for(
        &self,
        segment: Segment,
        industry: Option<&Code>,
        region: Option<&Code>,
    ) -> (&Thresholds, String) {
        let matches = |o: &&Override| {
            o.segment.is_none_or(|s| s == segment)
                && o.industry.as_ref().is_none_or(|c| Some(c) == industry)
                && o.region.as_ref().is_none_or(|c| Some(c) == region)
        };
        let mut best: Option<&Override> = None;
        for o in self.overrides.iter().filter(matches) {
            if best.is_none_or(|b| o.specificity() > b.specificity()) {
                best = Some(o);
            }
        }
        best.map_or_else(
            || (&self.thresholds, "base".to_owned()),
            |o| (&o.thresholds, o.name()),
        )
    }
}
