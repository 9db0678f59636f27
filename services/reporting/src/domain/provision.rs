//! Bad-debt provisions by a provision matrix (R-O8, CAS 22 / IFRS 9 simplified approach):
//! lifetime expected credit loss = open principal of each aging bucket × the bucket's loss
//! rate, each product rounded to the fen (cent). The change since the last recorded run is a
//! draft voucher: an increase debits 6702 信用减值损失 (credit impairment loss) and credits 1231
//! 坏账准备 (allowance for bad debts); a release the reverse.

use std::collections::BTreeMap;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::Deserialize;

use super::Bucket;
use super::aging::AgingReport;

/// Account code and name of the credit impairment loss (CAS chart of accounts).
pub const IMPAIRMENT_LOSS: (&str, &str) = ("6702", "信用减值损失 credit impairment loss");
/// Account code and name of the allowance for bad debts.
pub const ALLOWANCE: (&str, &str) = ("1231", "坏账准备 allowance for bad debts");

/// Loss rates per aging bucket, in percent, as data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matrix {
    /// Name and version, recorded with each run.
    pub name: String,
    /// One rate per bucket ([`Bucket::ALL`] order), percent of the balance (0..=100).
    pub rates: [Decimal; 6],
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MatrixFile {
    name: String,
    #[serde(default)]
    #[allow(dead_code)]
    description: String,
    /// Bucket name (`current`, `1-30`, …) → loss rate in percent, as a decimal string.
    loss_rates_percent: BTreeMap<String, String>,
}

/// The matrix shipped with the service (`provisions/matrix-v1.json`).
pub const SHIPPED: &str = include_str!("../../provisions/matrix-v1.json");

impl Matrix {
    /// Parses a matrix file; the error names the field and why.
    ///
    /// # Errors
    /// Not JSON of the expected shape, an unknown or missing bucket, a rate that is not a
    /// decimal from 0 to 100, or rates that fall as items age.
    pub fn parse(text: &str) -> Result<Self, String> {
        let file: MatrixFile =
            serde_json::from_str(text).map_err(|e| format!("provision matrix: {e}"))?;
        if file.name.trim().is_empty() {
            return Err("provision matrix: name is empty; give it a name and version".into());
        }
        for key in file.loss_rates_percent.keys() {
            if Bucket::parse(key).is_none() {
                return Err(format!(
                    "provision matrix: loss_rates_percent.{key} is not a bucket; the buckets \
                     are current, 1-30, 31-60, 61-90, 91-180, 180+"
                ));
            }
        }
        let mut rates = [Decimal::ZERO; 6];
        for bucket in Bucket::ALL {
            let Some(text) = file.loss_rates_percent.get(bucket.as_str()) else {
                return Err(format!(
                    "provision matrix: loss_rates_percent.{} is missing; every bucket needs a rate",
                    bucket.as_str()
                ));
            };
            let rate: Decimal = text.trim().parse().map_err(|_| {
                format!(
                    "provision matrix: loss_rates_percent.{} = {text:?} is not a decimal number",
                    bucket.as_str()
                )
            })?;
            if rate < Decimal::ZERO || rate > Decimal::ONE_HUNDRED {
                return Err(format!(
                    "provision matrix: loss_rates_percent.{} = {rate} is outside 0..=100 percent",
                    bucket.as_str()
                ));
            }
            rates[bucket.index()] = rate;
        }
        if rates.windows(2).any(|w| w[1] < w[0]) {
            return Err(
                "provision matrix: loss rates fall as receivables age; an older bucket must not \
                 have a lower rate than a younger one"
                    .into(),
            );
        }
        Ok(Self {
            name: file.name,
            rates,
        })
    }
}

/// One bucket's provision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisionRow {
    pub bucket: Bucket,
    pub balance: Decimal,
    pub rate: Decimal,
    pub provision: Decimal,
}

/// A voucher line: exactly one of debit and credit is non-zero.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoucherLine {
    pub account: (&'static str, &'static str),
    pub debit: Decimal,
    pub credit: Decimal,
}

/// The provision of one currency on one date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provision {
    pub rows: Vec<ProvisionRow>,
    pub total: Decimal,
}

/// The provision for an aging report.
#[must_use]
pub fn provide(aging: &AgingReport, matrix: &Matrix) -> Provision {
    let rows: Vec<ProvisionRow> = aging
        .rows
        .iter()
        .map(|row| {
            let rate = matrix.rates[row.bucket.index()];
            ProvisionRow {
                bucket: row.bucket,
                balance: row.balance,
                rate,
                provision: (row.balance * rate / Decimal::ONE_HUNDRED)
                    .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero),
            }
        })
        .collect();
    let total = rows.iter().map(|r| r.provision).sum();
    Provision { rows, total }
}

/// The draft voucher moving the allowance from `previous` to `current`: empty when equal.
#[must_use]
pub fn voucher(previous: Decimal, current: Decimal) -> Vec<VoucherLine> {
    let change = current - previous;
    let line = |account, debit, credit| VoucherLine {
        account,
        debit,
        credit,
    };
    if change > Decimal::ZERO {
        vec![
            line(IMPAIRMENT_LOSS, change, Decimal::ZERO),
            line(ALLOWANCE, Decimal::ZERO, change),
        ]
    } else if change < Decimal::ZERO {
        vec![
            line(ALLOWANCE, -change, Decimal::ZERO),
            line(IMPAIRMENT_LOSS, Decimal::ZERO, -change),
        ]
    } else {
        Vec::new()
    }
}

/// Whether debits equal credits.
#[must_use]
pub fn balanced(lines: &[VoucherLine]) -> bool {
    lines.iter().map(|l| l.debit).sum::<Decimal>()
        == lines.iter().map(|l| l.credit).sum::<Decimal>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::aging::aging;
    use crate::domain::tests::{date, item};
    use proptest::prelude::*;

    fn d(text: &str) -> Decimal {
        text.parse().expect("decimal")
    }

    #[test]
    fn the_shipped_matrix_parses() {
        let m = Matrix::parse(SHIPPED).expect("shipped matrix");
        assert_eq!(m.rates[0], d("0.5"));
        assert_eq!(m.rates[5], d("60"));
    }

    #[test]
    fn bad_matrices_say_which_field() {
        let base = r#"{"name":"m","loss_rates_percent":{"current":"1","1-30":"2","31-60":"3","61-90":"4","91-180":"5","180+":"6"}}"#;
        assert!(Matrix::parse(base).is_ok());
        let e = Matrix::parse(&base.replace("\"180+\":\"6\"", "\"180+\":\"x\"")).unwrap_err();
        assert!(e.contains("loss_rates_percent.180+"), "{e}");
        let e = Matrix::parse(&base.replace(",\"180+\":\"6\"", "")).unwrap_err();
        assert!(e.contains("180+ is missing"), "{e}");
        let e = Matrix::parse(&base.replace("\"1-30\"", "\"1-29\"")).unwrap_err();
        assert!(e.contains("1-29 is not a bucket"), "{e}");
        let e = Matrix::parse(&base.replace("\"6\"", "\"101\"")).unwrap_err();
        assert!(e.contains("outside"), "{e}");
        let e = Matrix::parse(&base.replace("\"5\"", "\"0.5\"")).unwrap_err();
        assert!(e.contains("fall as receivables age"), "{e}");
    }

    #[test]
    fn provisions_to_the_fen_by_hand_r_o8() {
        // As of 2026-06-30: current 10,000.00; 1-30 3,333.33; 61-90 1,234.57; 180+ 99.99.
        let mut items = vec![
            item("2026-07-31", "2026-01-01", 10_000),
            item("2026-06-20", "2026-01-01", 0),
            item("2026-04-20", "2026-01-01", 0),
            item("2025-06-30", "2025-01-01", 0),
        ];
        items[1].amount = d("3333.33");
        items[2].amount = d("1234.57");
        items[3].amount = d("99.99");
        let report = aging(&items, date("2026-06-30"));
        let m = Matrix::parse(SHIPPED).expect("matrix");
        let p = provide(&report[0], &m);
        // 10,000 × 0.5 % = 50.00; 3,333.33 × 2 % = 66.6666 → 66.67; 1,234.57 × 15 % =
        // 185.1855 → 185.19; 99.99 × 60 % = 59.994 → 59.99.
        let provisions: Vec<Decimal> = p.rows.iter().map(|r| r.provision).collect();
        assert_eq!(
            provisions,
            vec![
                d("50.00"),
                d("66.67"),
                d("0"),
                d("185.19"),
                d("0"),
                d("59.99")
            ]
        );
        assert_eq!(p.total, d("361.85"));
    }

    #[test]
    fn vouchers_book_the_change_and_balance_r_o8() {
        let up = voucher(d("100.00"), d("401.85"));
        assert_eq!(up[0].account, IMPAIRMENT_LOSS);
        assert_eq!(up[0].debit, d("301.85"));
        assert_eq!(up[1].account, ALLOWANCE);
        assert_eq!(up[1].credit, d("301.85"));
        assert!(balanced(&up));
        let down = voucher(d("401.85"), d("400.00"));
        assert_eq!(down[0].account, ALLOWANCE);
        assert_eq!(down[0].debit, d("1.85"));
        assert_eq!(down[1].credit, d("1.85"));
        assert!(voucher(d("5"), d("5.00")).is_empty());
    }

    proptest! {
        #[test]
        fn every_voucher_balances_and_moves_the_allowance_exactly_r_o8(
            previous in 0i64..10_000_000_000, current in 0i64..10_000_000_000,
        ) {
            let (previous, current) = (Decimal::new(previous, 2), Decimal::new(current, 2));
            let lines = voucher(previous, current);
            prop_assert!(balanced(&lines));
            let allowance: Decimal = lines
                .iter()
                .filter(|l| l.account == ALLOWANCE)
                .map(|l| l.credit - l.debit)
                .sum();
            prop_assert_eq!(previous + allowance, current);
        }
    }
}
