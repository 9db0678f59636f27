//! Settlement reports of payment channels other than banks (R-P1): WeChat Pay and Alipay
//! merchant bills and POS card-acquirer settlement details. Each line is one customer payment
//! (or refund) with the channel's fee; the channel pays the net of a whole batch into the bank
//! account as one credit, which reconciliation matches against the batch (R-P7).

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The channel a settlement report comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SettlementChannel {
    /// WeChat Pay (微信支付) merchant bill.
    #[serde(rename = "wechatpay")]
    WeChatPay,
    /// Alipay (支付宝) merchant bill.
    Alipay,
    /// POS card acquirer (e.g. 银联商务) settlement detail.
    Pos,
}

/// The settlement part of one line of a settlement report. Invariant (checked by the parser):
/// `gross − fee = net`, exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Settlement {
    /// Channel of the report.
    pub channel: SettlementChannel,
    /// The batch the channel pays out as one bank credit: the POS batch number, or for a
    /// wallet without a batch column `MERCHANT-YYYYMMDD` (merchant id and settlement date, or
    /// the trade date when the report states no settlement date).
    pub batch: String,
    /// What the customer paid (negative for a refund); the transaction's `amount`.
    #[serde(with = "rust_decimal::serde::str")]
    pub gross: Decimal,
    /// The channel's fee on this line, signed as the report writes it (a refund usually
    /// returns the fee: negative).
    #[serde(with = "rust_decimal::serde::str")]
    pub fee: Decimal,
    /// What the channel pays the merchant for this line: `gross − fee`.
    #[serde(with = "rust_decimal::serde::str")]
    pub net: Decimal,
    /// Settlement (clearing) date, where the report states one.
    pub settled_on: Option<NaiveDate>,
}
