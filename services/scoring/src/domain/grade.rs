//! Credit grades AAA (best) to D (worst) (R-S1) and the score thresholds that give them (R-S3).

use std::fmt;

use serde::{Deserialize, Serialize};

/// A credit grade; the derived order runs from best (`Aaa`) to worst (`D`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Grade {
    /// AAA.
    #[serde(rename = "AAA")]
    Aaa,
    /// AA.
    #[serde(rename = "AA")]
    Aa,
    /// A.
    #[serde(rename = "A")]
    A,
    /// BBB.
    #[serde(rename = "BBB")]
    Bbb,
    /// BB.
    #[serde(rename = "BB")]
    Bb,
    /// B.
    #[serde(rename = "B")]
    B,
    /// CCC.
    #[serde(rename = "CCC")]
    Ccc,
    /// CC.
    #[serde(rename = "CC")]
    Cc,
    /// C.
    #[serde(rename = "C")]
    C,
    /// D: the floor, below every threshold.
    #[serde(rename = "D")]
    D,
}

impl Grade {
    /// Every grade, best first.
    pub const ALL: [Self; 10] = [
        Self::Aaa,
        Self::Aa,
        Self::A,
        Self::Bbb,
        Self::Bb,
        Self::B,
        Self::Ccc,
        Self::Cc,
        Self::C,
        Self::D,
    ];

    /// The grades that have a minimum score (all but D, the floor), best first.
    pub const THRESHOLDED: [Self; 9] = [
        Self::Aaa,
        Self::Aa,
        Self::A,
        Self::Bbb,
        Self::Bb,
        Self::B,
        Self::Ccc,
        Self::Cc,
        Self::C,
    ];

    /// The grade's name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Aaa => "AAA",
            Self::Aa => "AA",
            Self::A => "A",
            Self::Bbb => "BBB",
            Self::Bb => "BB",
            Self::B => "B",
            Self::Ccc => "CCC",
            Self::Cc => "CC",
            Self::C => "C",
            Self::D => "D",
        }
    }

    /// The inverse of [`as_str`](Self::as_str).
    #[must_use]
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.as_str() == value)
    }

    /// 0 for AAA up to 9 for D.
    #[must_use]
    pub fn rank(self) -> usize {
        Self::ALL.iter().position(|g| *g == self).unwrap_or(9)
    }
}

impl fmt::Display for Grade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Minimum scores of AAA..C, strictly decreasing (checked when the scorecard is loaded); a
/// score under C's minimum is D.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Thresholds([u32; 9]);

impl Thresholds {
    /// Thresholds from AAA's minimum down to C's.
    ///
    /// # Errors
    /// They are not strictly decreasing: names the first grade out of order.
    pub fn new(minimums: [u32; 9]) -> Result<Self, String> {
        for (i, pair) in minimums.windows(2).enumerate() {
            if pair[1] >= pair[0] {
                return Err(format!(
                    "{} needs a lower minimum than {} ({} is not below {})",
                    Grade::THRESHOLDED[i + 1],
                    Grade::THRESHOLDED[i],
                    pair[1],
                    pair[0]
                ));
            }
        }
        Ok(Self(minimums))
    }

    /// The grade of a score: the best grade whose minimum it reaches (R-S1).
    #[must_use]
    pub fn grade(&self, score: u32) -> Grade {
        Grade::THRESHOLDED
            .into_iter()
            .zip(self.0)
            .find(|(_, min)| score >= *min)
            .map_or(Grade::D, |(g, _)| g)
    }

    /// The minimum score of a grade (0 for D).
    #[must_use]
    pub fn minimum(&self, grade: Grade) -> u32 {
        self.0.get(grade.rank()).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_score_gets_the_best_grade_whose_minimum_it_reaches_r_s1() {
        let t = Thresholds::new([900, 800, 700, 600, 500, 400, 300, 200, 100]).expect("valid");
        assert_eq!(t.grade(1000), Grade::Aaa);
        assert_eq!(t.grade(900), Grade::Aaa);
        assert_eq!(t.grade(899), Grade::Aa);
        assert_eq!(t.grade(100), Grade::C);
        assert_eq!(t.grade(99), Grade::D);
        assert_eq!(t.minimum(Grade::D), 0);
        assert_eq!(t.minimum(Grade::Bbb), 600);
    }

    #[test]
    fn thresholds_out_of_order_are_refused_naming_the_grade() {
        let e = Thresholds::new([900, 800, 800, 600, 500, 400, 300, 200, 100]).unwrap_err();
        assert!(e.starts_with("A needs a lower minimum than AA"), "{e}");
    }

    #[test]
    fn names_round_trip() {
        for g in Grade::ALL {
            assert_eq!(Grade::parse(g.as_str()), Some(g));
            assert_eq!(serde_json::to_string(&g).expect("json"), format!("\"{g}\""));
        }
        assert!(Grade::Aaa < Grade::D);
    }
}
