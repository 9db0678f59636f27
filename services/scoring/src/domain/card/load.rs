//! Reading a card file: serde structs of the file as written, and the checks that turn it
//! into a [`Scorecard`] or a [`CardError`] naming the field.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Deserialize;

use super::{Bin, CardError, Override, Rule, Scorecard};
use crate::domain::features::{Code, Indicator, Segment};
use crate::domain::grade::{Grade, Thresholds};

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
