//! Credits the bank is expected to show that are not new payments (R-P1, R-P7): a desk's cash
//! deposit, and the batch a wallet or card acquirer pays out as one credit for many customer
//! payments less its fees. Which expected credit a bank line is, and the totals of a batch.
//! Pure: no sqlx, tonic or rdkafka.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::desk::compact;

/// An open expected credit on the line's account and currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Expected {
    pub(crate) id: uuid::Uuid,
    pub(crate) amount: Decimal,
    /// Upper-case letters and digits the line's reference must contain (the deposit
    /// reference, the batch number).
    pub(crate) key: String,
    /// Words the bank writes for this payer (upper-case): with the exact amount, enough.
    pub(crate) hints: Vec<String>,
}

/// What a bank line is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CreditMatch {
    /// Not an expected credit: a payment like any other.
    None,
    /// The expected credit, to the fen.
    Exact(uuid::Uuid),
    /// Its reference names the expected credit but the amount differs: linked (never booked
    /// as a payment) and put before a person with the difference.
    Mismatch { id: uuid::Uuid, expected: Decimal },
}

/// Decides a bank line against the open expected credits of its account and currency,
/// oldest first: the exact amount with the key (or, failing that, a hint) in the reference
/// wins; a key with another amount is a mismatch; anything else is no expected credit.
pub(crate) fn decide(reference: &str, amount: Decimal, open: &[Expected]) -> CreditMatch {
    let compacted = compact(reference);
    let upper = reference.to_uppercase();
    let keyed = |e: &Expected| e.key.len() >= 4 && compacted.contains(&e.key);
    let hinted = |e: &Expected| e.hints.iter().any(|h| !h.is_empty() && upper.contains(h));
    let exact = || open.iter().filter(|e| e.amount == amount);
    if let Some(e) = exact()
        .find(|e| keyed(e))
        .or_else(|| exact().find(|e| hinted(e)))
    {
        return CreditMatch::Exact(e.id);
    }
    match open.iter().find(|e| keyed(e)) {
        Some(e) => CreditMatch::Mismatch {
            id: e.id,
            expected: e.amount,
        },
        None => CreditMatch::None,
    }
}

/// What the bank writes for each channel's payouts, upper-case (R-P7 matching).
pub(crate) fn hints(channel: feeds::SettlementChannel) -> Vec<String> {
    let words: &[&str] = match channel {
        feeds::SettlementChannel::WeChatPay => &["财付通", "TENPAY", "微信", "WECHAT"],
        feeds::SettlementChannel::Alipay => &["支付宝", "ALIPAY"],
        feeds::SettlementChannel::Pos => &["银联", "UNIONPAY", "POS", "收单"],
    };
    words.iter().map(|w| w.to_uppercase()).collect()
}

/// The stored name of a channel.
pub(crate) const fn channel_name(channel: feeds::SettlementChannel) -> &'static str {
    match channel {
        feeds::SettlementChannel::WeChatPay => "wechatpay",
        feeds::SettlementChannel::Alipay => "alipay",
        feeds::SettlementChannel::Pos => "pos",
    }
}

/// One line of a settlement report as a batch counts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BatchLine {
    pub(crate) channel: feeds::SettlementChannel,
    pub(crate) batch: String,
    pub(crate) currency: String,
    pub(crate) gross: Decimal,
    pub(crate) fee: Decimal,
    pub(crate) net: Decimal,
    pub(crate) settled_on: Option<chrono::NaiveDate>,
}

/// A batch's totals: what the channel owes the merchant for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BatchTotals {
    pub(crate) channel: feeds::SettlementChannel,
    pub(crate) batch: String,
    pub(crate) currency: String,
    pub(crate) payments: u32,
    pub(crate) refunds: u32,
    pub(crate) gross: Decimal,
    pub(crate) fee: Decimal,
    pub(crate) net: Decimal,
    pub(crate) settled_on: Option<chrono::NaiveDate>,
}

/// Totals per (channel, batch, currency), refunds included (they lower the payout).
pub(crate) fn batches(lines: &[BatchLine]) -> Vec<BatchTotals> {
    let mut by: BTreeMap<(String, String, String), BatchTotals> = BTreeMap::new();
    for l in lines {
        let key = (
            channel_name(l.channel).to_owned(),
            l.batch.clone(),
            l.currency.clone(),
        );
        let t = by.entry(key).or_insert_with(|| BatchTotals {
            channel: l.channel,
            batch: l.batch.clone(),
            currency: l.currency.clone(),
            payments: 0,
            refunds: 0,
            gross: Decimal::ZERO,
            fee: Decimal::ZERO,
            net: Decimal::ZERO,
            settled_on: l.settled_on,
        });
        if l.gross >= Decimal::ZERO {
            t.payments += 1;
        } else {
            t.refunds += 1;
        }
        t.gross += l.gross;
        t.fee += l.fee;
        t.net += l.net;
        t.settled_on = t.settled_on.max(l.settled_on);
    }
    by.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use uuid::Uuid;

    fn expected(n: u128, amount: i64, key: &str, hints: &[&str]) -> Expected {
        Expected {
            id: Uuid::from_u128(n),
            amount: Decimal::new(amount, 2),
            key: key.to_owned(),
            hints: hints.iter().map(|h| (*h).to_owned()).collect(),
        }
    }

    #[test]
    fn the_exact_amount_with_the_key_or_a_hint_is_the_credit() {
        let open = [
            expected(1, 290_000, "DESKP120261205", &[]),
            expected(2, 88_084_913, "000123", &["银联", "POS"]),
        ];
        assert_eq!(
            decide("现金存入 DESK-P1-20261205", Decimal::new(290_000, 2), &open),
            CreditMatch::Exact(Uuid::from_u128(1))
        );
        assert_eq!(
            decide("银联商务 结算款", Decimal::new(88_084_913, 2), &open),
            CreditMatch::Exact(Uuid::from_u128(2))
        );
        // Named, but another amount: a person decides; never a payment.
        assert_eq!(
            decide("DESK-P1-20261205", Decimal::new(280_000, 2), &open),
            CreditMatch::Mismatch {
                id: Uuid::from_u128(1),
                expected: Decimal::new(290_000, 2)
            }
        );
        // A hint without the exact amount, or the amount without key or hint: a payment.
        assert_eq!(
            decide("银联 其他", Decimal::new(100, 2), &open),
            CreditMatch::None
        );
        assert_eq!(
            decide("HT-2026-0001", Decimal::new(290_000, 2), &open),
            CreditMatch::None
        );
    }

    #[test]
    fn batches_add_payments_and_refunds_to_the_fen() {
        use feeds::SettlementChannel::{Pos, WeChatPay};
        let line = |channel, batch: &str, gross: i64, fee: i64| BatchLine {
            channel,
            batch: batch.to_owned(),
            currency: "CNY".to_owned(),
            gross: Decimal::new(gross, 2),
            fee: Decimal::new(fee, 2),
            net: Decimal::new(gross - fee, 2),
            settled_on: None,
        };
        let totals = batches(&[
            line(Pos, "000123", 10_000, 38),
            line(Pos, "000123", 20_000, 120),
            line(WeChatPay, "M-20261201", 5_000, 30),
            line(WeChatPay, "M-20261201", -1_000, -6),
        ]);
        assert_eq!(totals.len(), 2);
        let pos = totals.iter().find(|t| t.channel == Pos).unwrap();
        assert_eq!((pos.payments, pos.refunds), (2, 0));
        assert_eq!(pos.net, Decimal::new(29_842, 2));
        let wx = totals.iter().find(|t| t.channel == WeChatPay).unwrap();
        assert_eq!((wx.payments, wx.refunds), (1, 1));
        assert_eq!(wx.net, Decimal::new(3_976, 2));
    }

    proptest! {
        /// R-P7: a batch's net is its gross less its fees, whatever the lines.
        #[test]
        fn a_batch_nets_to_gross_less_fees(
            lines in proptest::collection::vec((-100_000i64..10_000_000, 0i64..50_000, 0u8..3), 1..60)
        ) {
            let lines: Vec<BatchLine> = lines
                .into_iter()
                .map(|(gross, fee, batch)| BatchLine {
                    channel: feeds::SettlementChannel::Pos,
                    batch: format!("B{batch}"),
                    currency: "CNY".to_owned(),
                    gross: Decimal::new(gross, 2),
                    fee: Decimal::new(fee, 2),
                    net: Decimal::new(gross - fee, 2),
                    settled_on: None,
                })
                .collect();
            let totals = batches(&lines);
            let all_net: Decimal = lines.iter().map(|l| l.net).sum();
            prop_assert_eq!(totals.iter().map(|t| t.net).sum::<Decimal>(), all_net);
            for t in &totals {
                prop_assert_eq!(t.net, t.gross - t.fee);
                prop_assert_eq!(
                    t.payments + t.refunds,
                    u32::try_from(lines.iter().filter(|l| l.batch == t.batch).count()).unwrap()
                );
            }
        }
    }
}
