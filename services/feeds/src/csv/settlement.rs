//! The `settlement` section of a CSV profile: reports of WeChat Pay, Alipay and POS acquirers
//! where each row is a customer payment (or refund) with the channel's fee, and the channel
//! pays the net of a batch into the bank as one credit (R-P1). The row's amount column is the
//! gross; the fee, the net (checked: gross − fee = net) and the batch are read here, and a
//! totals block at the end of the file (WeChat) is checked against the rows (R-P7).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::cells::{Mapped, date, money, number};
use super::{Column, DateSpec};
use crate::error::{ErrorKind, FeedError};
use crate::model::Transaction;
use crate::settlement::{Settlement, SettlementChannel};
use crate::values::canonical;

/// How a settlement report's rows carry fee, net and batch (the `settlement` key of a
/// [`super::CsvProfile`]). The profile's `amount` is the gross the customer paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettlementSpec {
    /// Channel of the report (`wechatpay`, `alipay`, `pos`).
    pub channel: SettlementChannel,
    /// Column of the channel's fee (手续费, 服务费), signed as the report writes it.
    pub fee: Column,
    /// The report writes the fee it charges as a negative number (Alipay's 服务费 `-0.60`):
    /// flip its sign so a charged fee is positive.
    #[serde(default)]
    pub negate_fee: bool,
    /// Column of the net the merchant receives (清算金额); absent: net = gross − fee.
    #[serde(default)]
    pub net: Option<Column>,
    /// Columns whose cells, joined with `-`, name the payout batch (批次号); empty: the batch
    /// is `MERCHANT-YYYYMMDD` of the merchant id and the settlement (else trade) date.
    #[serde(default)]
    pub batch: Vec<Column>,
    /// Settlement (clearing) date column (清算日期), where the report has one.
    #[serde(default)]
    pub settlement_date: Option<DateSpec>,
    /// Column of the merchant id (商户号), for a derived batch.
    #[serde(default)]
    pub merchant_column: Option<Column>,
    /// Merchant id when no column names it; else the statement's account is used.
    #[serde(default)]
    pub merchant: Option<String>,
    /// Rows that are refunds although the amount column shows the original order.
    #[serde(default)]
    pub refund: Option<RefundSpec>,
    /// A totals block after the rows (WeChat's 总交易单数 …), checked against them.
    #[serde(default)]
    pub totals: Option<TotalsSpec>,
}

/// Refund rows: a marker cell says so and the refunded amount is in its own column; the
/// gross of such a row is minus that amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefundSpec {
    /// Column holding the marker (交易状态).
    pub column: Column,
    /// Cell prefixes meaning "refund" (`REFUND`).
    pub markers: Vec<String>,
    /// Column of the refunded amount (退款金额).
    pub amount: Column,
}

/// A totals block: a header row whose first cell is `marker`, then one row of figures.
/// The marker row and everything after it are not transactions. Each named column is
/// checked; a mismatch is a `control_total_mismatch` naming the line and the column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TotalsSpec {
    /// First cell of the totals header row (总交易单数).
    pub marker: String,
    /// Number of rows (总交易单数).
    #[serde(default)]
    pub count: Option<Column>,
    /// Sum of the positive gross amounts (应结订单总金额).
    #[serde(default)]
    pub payments: Option<Column>,
    /// Sum of the refunds, written positive (退款总金额).
    #[serde(default)]
    pub refunds: Option<Column>,
    /// Sum of the fees, signed (手续费总金额).
    #[serde(default)]
    pub fee: Option<Column>,
}

/// Read fee, net, batch and settlement date of a row into `tx` (whose amount is the gross
/// from the profile's amount spec); `account` is the statement's account (merchant id
/// fallback).
pub(super) fn apply(
    spec: &SettlementSpec,
    row: &Mapped<'_>,
    tx: &mut Transaction,
    account: &str,
) -> Result<(), FeedError> {
    if let Some(refund) = &spec.refund {
        let marked = row
            .get(&refund.column)
            .is_some_and(|m| refund.markers.iter().any(|k| m.starts_with(k.as_str())));
        if marked {
            let raw = row.get(&refund.amount).ok_or_else(|| {
                row.error(
                    ErrorKind::MissingField,
                    &refund.amount,
                    "the refunded amount",
                    "",
                )
            })?;
            tx.amount = -number(row, &refund.amount, raw)?.abs();
        }
    }
    let ccy = tx.currency.clone();
    let gross = canonical(tx.amount, &ccy);
    let raw_fee = row.get(&spec.fee).ok_or_else(|| {
        row.error(
            ErrorKind::MissingField,
            &spec.fee,
            "the channel's fee (0.00 when none)",
            "",
        )
    })?;
    let fee = number(row, &spec.fee, raw_fee)?;
    let fee = canonical(if spec.negate_fee { -fee } else { fee }, &ccy);
    let computed = gross.checked_sub(fee).ok_or_else(|| {
        row.error(
            ErrorKind::InvalidAmount,
            &spec.fee,
            "a fee within range",
            raw_fee,
        )
    })?;
    let net = match &spec.net {
        None => computed,
        Some(column) => {
            let raw = row
                .get(column)
                .ok_or_else(|| row.error(ErrorKind::MissingField, column, "the net amount", ""))?;
            let net = number(row, column, raw)?;
            if net != computed {
                let expected = format!("gross − fee = {gross} − {fee} = {computed}");
                return Err(row.error(ErrorKind::ControlTotalMismatch, column, &expected, raw));
            }
            canonical(net, &ccy)
        }
    };
    let settled_on = match &spec.settlement_date {
        Some(d) => date(row, d, None)?,
        None => None,
    };
    let batch = if spec.batch.is_empty() {
        let merchant = spec
            .merchant_column
            .as_deref()
            .and_then(|c| row.get(c))
            .or(spec.merchant.as_deref())
            .unwrap_or(account);
        let day = settled_on.or(tx.date());
        match (merchant.is_empty(), day) {
            (false, Some(day)) => format!("{merchant}-{}", day.format("%Y%m%d")),
            _ => {
                let column = spec.merchant_column.as_deref().unwrap_or("merchant id");
                return Err(row.error(
                    ErrorKind::MissingField,
                    column,
                    "a merchant id and a date to name the settlement batch",
                    merchant,
                ));
            }
        }
    } else {
        let mut parts = Vec::with_capacity(spec.batch.len());
        for column in &spec.batch {
            let cell = row.get(column).ok_or_else(|| {
                row.error(
                    ErrorKind::MissingField,
                    column,
                    "the settlement batch number",
                    "",
                )
            })?;
            parts.push(cell);
        }
        parts.join("-")
    };
    tx.amount = gross;
    tx.settlement = Some(Settlement {
        channel: spec.channel,
        batch,
        gross,
        fee,
        net,
        settled_on,
    });
    Ok(())
}

/// The totals block as read: its header cells, and its figures with their line.
#[derive(Debug, Default)]
pub(super) struct Totals {
    pub(super) header: Option<(Vec<String>, u32)>,
    pub(super) figures: Option<(Vec<String>, u32)>,
}

impl Totals {
    /// Take a row that belongs to the totals block; false if it is an ordinary row.
    pub(super) fn take(&mut self, spec: &SettlementSpec, cells: &[String], line: u32) -> bool {
        if self.header.is_some() {
            if self.figures.is_none() {
                self.figures = Some((cells.to_vec(), line));
            }
            return true;
        }
        let starts = spec
            .totals
            .as_ref()
            .is_some_and(|t| cells.first().is_some_and(|c| *c == t.marker));
        if starts {
            self.header = Some((cells.to_vec(), line));
        }
        starts
    }

    /// Compare the figures with the transactions; one error per column that disagrees.
    pub(super) fn check(&self, spec: &SettlementSpec, txs: &[&Transaction]) -> Vec<FeedError> {
        let (Some(t), Some((header, header_line))) = (&spec.totals, &self.header) else {
            return Vec::new();
        };
        let Some((figures, line)) = &self.figures else {
            return vec![FeedError::at_line(
                ErrorKind::MissingField,
                *header_line,
                format!("totals block {}", t.marker),
                "a row of figures after the totals header",
                "none",
            )];
        };
        let parts: Vec<Option<&Settlement>> = txs.iter().map(|t| t.settlement.as_ref()).collect();
        let sum = |pick: fn(&Settlement) -> Option<Decimal>| {
            parts
                .iter()
                .flatten()
                .filter_map(|s| pick(s))
                .try_fold(Decimal::ZERO, |a, v| a.checked_add(v))
        };
        let computed = [
            (&t.count, Decimal::from(txs.len())),
            (
                &t.payments,
                sum(|s| (s.gross > Decimal::ZERO).then_some(s.gross)).unwrap_or_default(),
            ),
            (
                &t.refunds,
                sum(|s| (s.gross < Decimal::ZERO).then_some(-s.gross)).unwrap_or_default(),
            ),
            (&t.fee, sum(|s| Some(s.fee)).unwrap_or_default()),
        ];
        let mut errors = Vec::new();
        for (column, want) in computed {
            let Some(column) = column else { continue };
            let found = header
                .iter()
                .position(|h| h == column)
                .and_then(|i| figures.get(i))
                .map(String::as_str)
                .unwrap_or_default();
            if money(found) != Some(want) {
                errors.push(FeedError::at_line(
                    ErrorKind::ControlTotalMismatch,
                    *line,
                    format!("column {column}"),
                    format!("{want} (from the rows above)"),
                    found,
                ));
            }
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_signs_are_read_exactly() {
        let d = |s: &str| s.parse::<Decimal>().ok();
        assert_eq!(money("¥100.00"), d("100.00"));
        assert_eq!(money("-¥1.05"), d("-1.05"));
        assert_eq!(money("￥-1,234.50"), d("-1234.50"));
        assert_eq!(money("1¥00"), None);
        assert_eq!(money("¥"), None);
    }

    #[test]
    fn spec_typos_are_rejected() {
        let ok = r#"{"channel":"pos","fee":"手续费","batch":["批次号"]}"#;
        assert!(serde_json::from_str::<SettlementSpec>(ok).is_ok());
        let typo = r#"{"channel":"pos","fee":"手续费","bacth":["批次号"]}"#;
        assert!(serde_json::from_str::<SettlementSpec>(typo).is_err());
        let channel = r#"{"channel":"paypal","fee":"x"}"#;
        assert!(serde_json::from_str::<SettlementSpec>(channel).is_err());
        let names = [
            SettlementChannel::WeChatPay,
            SettlementChannel::Alipay,
            SettlementChannel::Pos,
        ]
        .map(|c| serde_json::to_string(&c).unwrap_or_default());
        assert_eq!(names, [r#""wechatpay""#, r#""alipay""#, r#""pos""#]);
    }
}
