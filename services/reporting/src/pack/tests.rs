//! Tests of the pack module.
use super::*;

fn money(amount: &str) -> Option<Money> {
    Some(Money {
        amount: amount.into(),
        currency: "CNY".into(),
    })
}

fn input() -> PackInput {
    let line = |code: &str, name: &str, debit: &str, credit: &str| api::VoucherLine {
        account_code: code.into(),
        account_name: name.into(),
        debit: money(debit),
        credit: money(credit),
    };
    PackInput {
        month: "2026-11".into(),
        last_day: NaiveDate::from_ymd_opt(2026, 11, 30).unwrap_or_default(),
        currency: "CNY".into(),
        aging: api::GetAgingResponse::default(),
        kpis: api::GetKpisResponse::default(),
        rolls: api::GetRollRatesResponse::default(),
        recovery: api::GetRecoveryByStepResponse {
            within_days: 30,
            reports: vec![api::RecoveryReport {
                currency: "CNY".into(),
                rows: vec![api::RecoveryRow {
                    stage: Stage::LawyerLetter.channel(),
                    debts: 2,
                    owed: money("23000.00"),
                    recovered: money("10000.00"),
                    recovery_rate_percent: "43.48".into(),
                    ..Default::default()
                }],
            }],
            ..Default::default()
        },
        collectors: api::GetCollectorKpisResponse::default(),
        forecast: api::GetForecastResponse {
            backtest: Some(api::Backtest {
                as_of: "2026-11-02".into(),
                wape_percent: "33.33".into(),
                bias_percent: "-5.00".into(),
                ..Default::default()
            }),
            ..Default::default()
        },
        provisions: api::ProvisionRun {
            total: money("315.00"),
            voucher: Some(api::Voucher {
                lines: vec![
                    line("6702", "信用减值损失", "315.00", "0.00"),
                    line("1231", "坏账准备", "0.00", "315.00"),
                ],
                summary: "increase".into(),
                balanced: true,
            }),
            ..Default::default()
        },
        book_to_bank: vec![(
            "6216 6100 0000 0088 88".into(),
            Err("payments is down".into()),
        )],
    }
}

// R-O8, R-O1: the pack's HTML twin carries the key figures: the voucher with its
// totals (balanced), recovery by stage, the forecast's measured error; an account is
// never printed in full (R-O4).
#[test]
fn the_pack_shows_the_figures_and_a_balanced_voucher_r_o8() {
    let doc = document(&input()).expect("document");
    let html = documents::to_html(&doc);
    for text in [
        "月末报告 Month-end pack",
        "律师函 lawyer&#39;s letter",
        "23,000.00",
        "43.48 %",
        "WAPE 33.33 %",
        "借贷平衡 balanced: 是 yes",
        "6702 信用减值损失",
        "315.00",
        "payments is down",
    ] {
        assert!(html.contains(text), "{text} missing");
    }
    assert!(!html.contains("6216 6100 0000 0088 88"));
    assert!(html.contains("…8888"));
}

#[test]
fn accounts_are_masked_to_the_last_four() {
    assert_eq!(last_four("6222 0200 0000 1717"), "1717");
    assert_eq!(last_four("12"), "12");
}
