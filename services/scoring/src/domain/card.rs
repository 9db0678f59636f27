//! Scorecards as versioned data (issue 15 item 3): a card is a JSON file, parsed with serde
//! and validated once at load; an error names the field (`indicators[2].bins[1].from`). The
//! shipped cards are embedded in the binary, so a version string always means the same bins.

use std::collections::BTreeMap;
use std::fmt;

use rust_decimal::Decimal;
use serde::Deserialize;

use super::features::{Code, Indicator, Segment};
use super::grade::{Grade, Thresholds};

/// The card the scoring service will move to (R-S1..R-S5).
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

/// A validated points scorecard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scorecard {
    /// Version stamped on every result (`pts-v1`).
    pub version: String,
    /// One rule per indicator, in the file's order (the order that breaks ties, R-S2).
    pub rules: Vec<Rule>,
    /// Thresholds for everyone without an override.
    pub thresholds: Thresholds,
    /// Overrides by segment, industry and region (R-S3).
    pub overrides: Vec<Override>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CardFile {
    version: String,
    #[serde(default)]
    #[allow(dead_code)] // documentation inside the file
    description: String,
    indicators: Vec<RuleFile>,
    grades: BTreeMap<String, u32>,
    #[serde(default)]
    overrides: Vec<OverrideFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    indicator: Indicator,
    reason_code: String,
    description: String,
    #[serde(default)]
    bins: Vec<Bin>,
    #[serde(default)]
    categories: BTreeMap<Segment, u32>,
    #[serde(default)]
    missing: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OverrideFile {
    #[serde(default)]
    segment: Option<Segment>,
    #[serde(default)]
    industry: Option<Code>,
    #[serde(default)]
    region: Option<Code>,
    grades: BTreeMap<String, u32>,
}

impl Scorecard {
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

    /// Parses and validates a card.
    ///
    /// # Errors
    /// The first problem found, naming the field.
    pub fn from_json(text: &str) -> Result<Self, CardError> {
        let file: CardFile = serde_json::from_str(text).map_err(|e| {
            CardError::at(
                "",
                format!(
                    "not a scorecard file: {e} (line {}, column {})",
                    e.line(),
                    e.column()
                ),
            )
        })?;
        if file.version.trim().is_empty() {
            return Err(CardError::at(
                "version",
                "give the card a version, e.g. pts-v2",
            ));
        }
        let mut rules = Vec::with_capacity(file.indicators.len());
        for (i, rule) in file.indicators.into_iter().enumerate() {
            rules.push(validate_rule(&format!("indicators[{i}]"), rule, &rules)?);
        }
        if let Some(absent) = Indicator::ALL
            .into_iter()
            .find(|ind| !rules.iter().any(|r| r.indicator == *ind))
        {
            return Err(CardError::at(
                "indicators",
                format!("no rule for {absent}: every indicator of R-S1 is scored"),
            ));
        }
        let thresholds = parse_thresholds("grades", &file.grades)?;
        let mut overrides: Vec<Override> = Vec::new();
        for (i, o) in file.overrides.into_iter().enumerate() {
            let field = format!("overrides[{i}]");
            let o = Override {
                thresholds: parse_thresholds(&format!("{field}.grades"), &o.grades)?,
                segment: o.segment,
                industry: o.industry,
                region: o.region,
            };
            if o.specificity() == 0 {
                return Err(CardError::at(
                    field,
                    "say whom it is for: a segment, an industry and/or a region",
                ));
            }
            if overrides.iter().any(|p| p.name() == o.name()) {
                return Err(CardError::at(
                    field,
                    format!("a second override for {}", o.name()),
                ));
            }
            overrides.push(o);
        }
        Ok(Self {
            version: file.version,
            rules,
            thresholds,
            overrides,
        })
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

fn validate_rule(field: &str, r: RuleFile, before: &[Rule]) -> Result<Rule, CardError> {
    let ind = r.indicator;
    if before.iter().any(|p| p.indicator == ind) {
        return Err(CardError::at(
            format!("{field}.indicator"),
            format!("{ind} is scored twice"),
        ));
    }
    let code_ok = !r.reason_code.is_empty()
        && r.reason_code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    if !code_ok {
        return Err(CardError::at(
            format!("{field}.reason_code"),
            format!("\"{}\" is not a reason code: A-Z, 0-9 and _", r.reason_code),
        ));
    }
    if before.iter().any(|p| p.reason_code == r.reason_code) {
        return Err(CardError::at(
            format!("{field}.reason_code"),
            format!("{} is already another indicator's", r.reason_code),
        ));
    }
    if r.description.trim().is_empty() {
        return Err(CardError::at(
            format!("{field}.description"),
            "say what losing points here means",
        ));
    }
    match (ind.optional(), r.missing) {
        (true, None) => {
            return Err(CardError::at(
                format!("{field}.missing"),
                format!("{ind} may be missing: give the points of a missing value"),
            ));
        }
        (false, Some(_)) => {
            return Err(CardError::at(
                format!("{field}.missing"),
                format!("{ind} is never missing: remove the missing bin"),
            ));
        }
        _ => {}
    }
    if ind == Indicator::Segment {
        if !r.bins.is_empty() {
            return Err(CardError::at(
                format!("{field}.bins"),
                "the segment scores by categories, not bins",
            ));
        }
        if let Some(s) = Segment::ALL
            .into_iter()
            .find(|s| !r.categories.contains_key(s))
        {
            return Err(CardError::at(
                format!("{field}.categories"),
                format!("no points for segment {s}"),
            ));
        }
    } else {
        if !r.categories.is_empty() {
            return Err(CardError::at(
                format!("{field}.categories"),
                format!("{ind} is a number: score it by bins"),
            ));
        }
        validate_bins(field, &r.bins)?;
    }
    Ok(Rule {
        indicator: ind,
        reason_code: r.reason_code,
        description: r.description,
        bins: r.bins,
        categories: r.categories,
        missing: r.missing,
    })
}

/// Bins cover 0 and up: the first starts at 0, each starts where the one before ends, each is
/// non-empty and only the last is open.
fn validate_bins(field: &str, bins: &[Bin]) -> Result<(), CardError> {
    if bins.is_empty() {
        return Err(CardError::at(
            format!("{field}.bins"),
            "give at least one bin",
        ));
    }
    let mut expected_from = Decimal::ZERO;
    for (j, b) in bins.iter().enumerate() {
        let at = format!("{field}.bins[{j}]");
        if b.from != expected_from {
            return Err(CardError::at(
                format!("{at}.from"),
                format!(
                    "starts at {}, expected {expected_from} (no gaps or overlaps)",
                    b.from
                ),
            ));
        }
        let last = j + 1 == bins.len();
        match b.to {
            None if !last => {
                return Err(CardError::at(
                    format!("{at}.to"),
                    "only the last bin is open-ended",
                ));
            }
            Some(_) if last => {
                return Err(CardError::at(
                    format!("{at}.to"),
                    "the last bin is open-ended: remove its `to`",
                ));
            }
            Some(to) if to <= b.from => {
                return Err(CardError::at(
                    format!("{at}.to"),
                    format!("{to} is not above from {}", b.from),
                ));
            }
            Some(to) => expected_from = to,
            None => {}
        }
    }
    Ok(())
}

fn parse_thresholds(field: &str, grades: &BTreeMap<String, u32>) -> Result<Thresholds, CardError> {
    if let Some(name) = grades
        .keys()
        .find(|k| Grade::parse(k).is_none_or(|g| g == Grade::D))
    {
        return Err(CardError::at(
            format!("{field}.{name}"),
            "not a grade with a minimum: AAA, AA, A, BBB, BB, B, CCC, CC, C (D is the floor)",
        ));
    }
    let mut minimums = [0u32; 9];
    for (slot, g) in minimums.iter_mut().zip(Grade::THRESHOLDED) {
        *slot = *grades.get(g.as_str()).ok_or_else(|| {
            CardError::at(format!("{field}.{g}"), "give the grade's minimum score")
        })?;
    }
    Thresholds::new(minimums).map_err(|e| CardError::at(field, e))
}
