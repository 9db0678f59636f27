//! A deterministic generator of customers with a known later outcome (issue 15 item 5).
//!
//! Each customer has a hidden latent risk `z` (standard normal, shifted for a riskier
//! period). Twenty-four months of instalments are simulated from it — late or on time, promises
//! broken, what is overdue now — together with exposure, tenure, segment, disputes, legal
//! history and, for some, a bureau score and income. The outcome (default within the next
//! twelve months) is drawn with a probability that depends on `z` only, so the scorecard
//! sees risk through noisy behaviour exactly as it would in life. The same seed always gives
//! the same customers.

use rust_decimal::Decimal;

use crate::domain::{Balance, Code, Features, Segment, Share};

/// A seeded SplitMix64 generator (Steele, Lea and Flood, 2014): reproducible on every
/// platform and release, and no dependency for synthetic data.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x2545_f491_4f6c_dd1d)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u32) -> u32 {
        if n == 0 {
            return 0;
        }
        u32::try_from(self.next_u64() % u64::from(n)).unwrap_or(0)
    }

    /// Uniform in (0, 1]: 53 random bits.
    pub fn unit(&mut self) -> f64 {
        // 2^53 and below are exact in f64.
        #[allow(clippy::cast_precision_loss)]
        let bits = (self.next_u64() >> 11) as f64;
        (bits + 1.0) / 9_007_199_254_740_992.0
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() <= p
    }

    /// A standard normal draw (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let (u1, u2) = (self.unit(), self.unit());
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// A synthetic customer: what the scorecard sees, and what happened afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    /// The features at scoring time.
    pub features: Features,
    /// Whether the customer defaulted (90+ days past due or written off) within twelve months.
    pub defaulted: bool,
}

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// A share from a probability-like float, rounded to whole per cent.
fn share(x: f64) -> Share {
    let hundredths = percent(x.clamp(0.0, 1.0));
    Share::new(Decimal::new(i64::from(hundredths), 2))
        .unwrap_or_else(|_| unreachable!("percent is clamped to 0..=100"))
}

/// 0..=100 from a float in [0, 1].
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn percent(x: f64) -> u32 {
    (x * 100.0).round().clamp(0.0, 100.0) as u32
}

/// A whole number from a non-negative float (saturating).
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn whole(x: f64) -> u32 {
    x.round().clamp(0.0, f64::from(u32::MAX)) as u32
}

const INDUSTRIES: [&str; 4] = ["construction", "retail", "manufacturing", "logistics"];
const REGIONS: [&str; 5] = ["cn-bj", "cn-sh", "cn-gd", "cn-zj", "cn-sc"];

/// One customer of latent risk `z`.
pub fn customer(rng: &mut Rng, z: f64) -> Customer {
    let segment = match rng.below(100) {
        0..45 => Segment::Residential,
        45..70 => Segment::PropertyManagement,
        70..85 => Segment::Commercial,
        _ => Segment::BusinessReceivable,
    };
    let company = matches!(segment, Segment::Commercial | Segment::BusinessReceivable);
    let tenure_months = rng.below(121);

    // Payment history: the instalments of the last 24 months (fewer for a new customer).
    let months = tenure_months.min(24);
    let p_late = logistic(-2.2 + 1.1 * z);
    let p_break = logistic(-1.2 + 0.8 * z);
    let (mut late_payments, mut broken_promises) = (0u32, 0u32);
    for _ in 0..months {
        if rng.chance(p_late) {
            late_payments += 1;
            if rng.chance(p_break) {
                broken_promises += 1;
            }
        }
    }
    let on_time_share =
        (months > 0).then(|| share(f64::from(months - late_payments) / f64::from(months)));

    // Overdue now: how many instalments in arrears, and how late the oldest is.
    let mut in_arrears = 0u32;
    if rng.chance(logistic(-2.4 + 1.2 * z)) {
        in_arrears = 1;
        while in_arrears < 8 && rng.chance(logistic(-0.6 + 0.7 * z)) {
            in_arrears += 1;
        }
    }
    let days_past_due = if in_arrears == 0 {
        0
    } else {
        (in_arrears - 1) * 30 + 1 + rng.below(30)
    };

    // Exposure by segment (yuan, log-uniform between the bounds).
    let (lo, hi): (f64, f64) = match segment {
        Segment::Residential => (50_000.0, 3_000_000.0),
        Segment::PropertyManagement => (1_000.0, 20_000.0),
        Segment::Commercial => (100_000.0, 10_000_000.0),
        Segment::BusinessReceivable => (10_000.0, 2_000_000.0),
    };
    let paid_off = rng.chance(0.03) && in_arrears == 0;
    let yuan = if paid_off {
        0
    } else {
        whole(lo * (hi / lo).powf(rng.unit()))
    };
    let outstanding_balance =
        Balance::new(Decimal::from(yuan)).unwrap_or_else(|_| unreachable!("not negative"));
    let remaining = 6 + rng.below(115);
    let overdue_share = (yuan > 0).then(|| share(f64::from(in_arrears) / f64::from(remaining)));

    let open_disputes =
        u32::from(rng.chance(0.03 + 0.02 * z.max(0.0))) + u32::from(rng.chance(0.005));
    let mut legal_cases = 0;
    if rng.chance(logistic(-4.2 + 1.2 * z)) {
        legal_cases = 1 + u32::from(rng.chance(0.2));
    }
    let bureau_on_file = rng.chance(if company { 0.3 } else { 0.65 });
    let bureau_score = bureau_on_file.then(|| {
        let s = 680.0 - 70.0 * z + 40.0 * rng.normal();
        u16::try_from(whole(s.clamp(300.0, 900.0))).unwrap_or(300)
    });
    let income_on_file = match segment {
        Segment::Residential => rng.chance(0.5),
        Segment::PropertyManagement => rng.chance(0.3),
        _ => false,
    };
    let debt_to_income = income_on_file.then(|| share(0.35 + 0.1 * z + 0.1 * rng.normal()));
    let industry = company.then(|| pick(rng, &INDUSTRIES));
    let region = Some(pick(rng, &REGIONS));

    // The outcome depends on the latent risk only.
    let defaulted = rng.chance(logistic(-2.6 + 1.4 * z));
    Customer {
        features: Features {
            days_past_due,
            late_payments,
            broken_promises,
            on_time_share,
            outstanding_balance,
            overdue_share,
            tenure_months,
            segment,
            open_disputes,
            legal_cases,
            bureau_score,
            debt_to_income,
            industry,
            region,
        },
        defaulted,
    }
}

fn pick(rng: &mut Rng, codes: &[&str]) -> Code {
    let i = usize::try_from(rng.below(u32::try_from(codes.len()).unwrap_or(1))).unwrap_or(0);
    Code::parse(codes[i]).unwrap_or_else(|_| unreachable!("the codes above are valid"))
}

/// `n` customers of one period: latent risk is standard normal plus `shift` (a riskier period
/// has a positive shift).
pub fn period(seed: u64, shift: f64) -> impl Iterator<Item = Customer> {
    let mut rng = Rng::new(seed);
    std::iter::repeat_with(move || {
        let z = rng.normal() + shift;
        customer(&mut rng, z)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_customers() {
        let a: Vec<Customer> = period(7, 0.0).take(50).collect();
        let b: Vec<Customer> = period(7, 0.0).take(50).collect();
        assert_eq!(a, b);
        let c: Vec<Customer> = period(8, 0.0).take(50).collect();
        assert_ne!(a, c);
    }

    #[test]
    fn draws_stay_in_range() {
        let mut r = Rng::new(1);
        for _ in 0..10_000 {
            let u = r.unit();
            assert!(u > 0.0 && u <= 1.0);
            assert!(r.below(7) < 7);
        }
        let mean = (0..20_000).map(|_| r.normal()).sum::<f64>() / 20_000.0;
        assert!(mean.abs() < 0.05, "{mean}");
    }

    #[test]
    fn riskier_customers_default_more() {
        let rate = |shift| {
            let n = period(3, shift).take(5_000).filter(|c| c.defaulted).count();
            n * 1000 / 5_000
        };
        assert!(rate(1.0) > rate(0.0) + 50, "{} vs {}", rate(1.0), rate(0.0));
    }
}
