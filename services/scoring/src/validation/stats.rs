//! Discrimination and stability statistics of a scorecard (issue 15 item 5): AUC, Gini
//! (= 2·AUC − 1), Kolmogorov–Smirnov, and the population stability index between two
//! periods. Floating point is fine here: these are statistics about scores, never money.

use serde::Serialize;

/// One scored customer and what happened later: a higher score should mean less risk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observation {
    /// The score.
    pub score: u32,
    /// Whether the customer defaulted afterwards.
    pub defaulted: bool,
}

/// How well scores separate defaulters from the rest.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Discrimination {
    /// Probability that a customer who did not default outscores one who did (ties count
    /// half).
    pub auc: f64,
    /// 2·AUC − 1: 1 for a perfect ranking, 0 for a random one, −1 for a reversed one.
    pub gini: f64,
    /// Largest gap between the cumulative score distributions of defaulters and the rest.
    pub ks: f64,
    /// The score at which the KS gap is largest (customers at or below it).
    pub ks_score: u32,
}

/// AUC, Gini and KS; `None` unless both outcomes occur.
#[must_use]
pub fn discrimination(observations: &[Observation]) -> Option<Discrimination> {
    let bads = observations.iter().filter(|o| o.defaulted).count();
    let goods = observations.len() - bads;
    if bads == 0 || goods == 0 {
        return None;
    }
    let mut sorted: Vec<Observation> = observations.to_vec();
    sorted.sort_by_key(|o| o.score);
    // Walk up the scores one tie group at a time: each good in the group outscores every bad
    // below the group and ties with the bads inside it.
    let (mut bads_below, mut goods_below) = (0u64, 0u64);
    let mut wins = 0f64;
    let (mut ks, mut ks_score) = (0f64, 0u32);
    let (n_bad, n_good) = (count(bads), count(goods));
    let mut i = 0;
    while i < sorted.len() {
        let score = sorted[i].score;
        let (mut group_bads, mut group_goods) = (0u64, 0u64);
        while i < sorted.len() && sorted[i].score == score {
            if sorted[i].defaulted {
                group_bads += 1;
            } else {
                group_goods += 1;
            }
            i += 1;
        }
        wins += count_u64(group_goods) * (count_u64(bads_below) + 0.5 * count_u64(group_bads));
        bads_below += group_bads;
        goods_below += group_goods;
        let gap = (count_u64(bads_below) / n_bad - count_u64(goods_below) / n_good).abs();
        if gap > ks {
            (ks, ks_score) = (gap, score);
        }
    }
    let auc = wins / (n_bad * n_good);
    Some(Discrimination {
        auc,
        gini: 2.0 * auc - 1.0,
        ks,
        ks_score,
    })
}

/// What a population stability index says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stability {
    /// Under 0.1: the population is stable.
    Stable,
    /// 0.1 to under 0.25: watch it.
    Watch,
    /// 0.25 or more: the population has shifted; review the card.
    Shift,
}

impl Stability {
    /// The reading of a PSI value.
    #[must_use]
    pub fn of(psi: f64) -> Self {
        if psi >= 0.25 {
            Self::Shift
        } else if psi >= 0.1 {
            Self::Watch
        } else {
            Self::Stable
        }
    }

    /// The name in reports.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stable => "stable",
            Self::Watch => "watch",
            Self::Shift => "shift",
        }
    }
}

/// Share used for a bin that one period leaves empty, so the logarithm stays finite.
const EMPTY_BIN: f64 = 1e-4;

/// Population stability index of `actual` against `expected`, both counts per bin (the same
/// bins): Σ (a − e)·ln(a / e) over the bins' shares. 0 for identical distributions.
#[must_use]
pub fn psi(expected: &[u64], actual: &[u64]) -> f64 {
    let total = |v: &[u64]| count_u64(v.iter().sum::<u64>()).max(1.0);
    let (te, ta) = (total(expected), total(actual));
    expected
        .iter()
        .zip(actual)
        .map(|(e, a)| {
            let e = (count_u64(*e) / te).max(EMPTY_BIN);
            let a = (count_u64(*a) / ta).max(EMPTY_BIN);
            (a - e) * (a / e).ln()
        })
        .sum()
}

fn count(n: usize) -> f64 {
    count_u64(u64::try_from(n).unwrap_or(u64::MAX))
}

/// Counts in these statistics stay far below 2^52, where `f64` is exact.
#[allow(clippy::cast_precision_loss)]
fn count_u64(n: u64) -> f64 {
    n as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(goods: &[u32], bads: &[u32]) -> Vec<Observation> {
        goods
            .iter()
            .map(|&score| Observation {
                score,
                defaulted: false,
            })
            .chain(bads.iter().map(|&score| Observation {
                score,
                defaulted: true,
            }))
            .collect()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn a_perfect_ranking_has_gini_and_ks_1() {
        let d = discrimination(&obs(&[700, 800, 900], &[100, 200])).expect("both outcomes");
        assert!(
            close(d.auc, 1.0) && close(d.gini, 1.0) && close(d.ks, 1.0),
            "{d:?}"
        );
        assert_eq!(d.ks_score, 200);
        let r = discrimination(&obs(&[100, 200], &[700, 800, 900])).expect("both outcomes");
        assert!(close(r.gini, -1.0), "a reversed ranking: {r:?}");
    }

    #[test]
    fn a_hand_computed_example_with_a_tie() {
        // Goods 3, 4; bads 1, 3. Pairs (good, bad): (3,1) win, (3,3) tie, (4,1) win, (4,3)
        // win: AUC = 3.5 / 4 = 0.875, Gini 0.75. Cumulative at 1: bads 1/2, goods 0; at 3:
        // bads 1, goods 1/2; KS = 0.5, first reached at score 1.
        let d = discrimination(&obs(&[3, 4], &[1, 3])).expect("both outcomes");
        assert!(close(d.auc, 0.875) && close(d.gini, 0.75), "{d:?}");
        assert!(close(d.ks, 0.5), "{d:?}");
        assert_eq!(d.ks_score, 1);
    }

    #[test]
    fn one_score_for_all_says_nothing() {
        let d = discrimination(&obs(&[5, 5, 5], &[5, 5])).expect("both outcomes");
        assert!(close(d.gini, 0.0) && close(d.ks, 0.0), "{d:?}");
        assert!(discrimination(&obs(&[1, 2], &[])).is_none());
        assert!(discrimination(&[]).is_none());
    }

    #[test]
    fn a_random_score_has_gini_near_0() {
        // Scores independent of the outcome (a fixed linear congruential sequence).
        let mut x: u64 = 12345;
        let mut next = || {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            x >> 33
        };
        let o: Vec<Observation> = (0..20_000)
            .map(|_| Observation {
                score: u32::try_from(next() % 1000).unwrap_or(0),
                defaulted: next() % 5 == 0,
            })
            .collect();
        let d = discrimination(&o).expect("both outcomes");
        assert!(d.gini.abs() < 0.03, "{d:?}");
        assert!(d.ks < 0.05, "{d:?}");
    }

    #[test]
    fn psi_of_identical_distributions_is_0_and_a_hand_example() {
        assert!(close(psi(&[10, 20, 30], &[10, 20, 30]), 0.0));
        assert!(
            close(psi(&[10, 20, 30], &[20, 40, 60]), 0.0),
            "scale does not matter"
        );
        // Shares 0.5/0.5 against 0.25/0.75: (0.25−0.5)·ln(0.5) + (0.75−0.5)·ln(1.5).
        let want = (0.25f64 - 0.5) * 0.5f64.ln() + (0.75f64 - 0.5) * 1.5f64.ln();
        assert!(close(psi(&[50, 50], &[25, 75]), want));
        assert!((want - 0.2747).abs() < 1e-4);
        assert!(
            psi(&[100, 0], &[50, 50]).is_finite(),
            "an empty bin stays finite"
        );
    }

    #[test]
    fn psi_readings_follow_the_usual_cut_offs() {
        assert_eq!(Stability::of(0.0), Stability::Stable);
        assert_eq!(Stability::of(0.099), Stability::Stable);
        assert_eq!(Stability::of(0.1), Stability::Watch);
        assert_eq!(Stability::of(0.2499), Stability::Watch);
        assert_eq!(Stability::of(0.25), Stability::Shift);
    }
}
