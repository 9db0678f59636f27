//! A payment in another currency than its contract is converted at the day's rate from
//! `FX_RATES_FILE` and the rate used is recorded; without a rate it is an exception (R-P8).

use devstack::clients::eventually;
use devstack::scenario::{self, bank_csv, open_amount};

use crate::helpers::{EVENTUALLY, OrLogs, start_with};

#[tokio::test(flavor = "multi_thread")]
async fn foreign_payments_are_converted_at_the_recorded_rate() {
    let rates = std::env::temp_dir().join(format!("e2e-rates-{}.csv", uuid::Uuid::now_v7()));
    std::fs::write(
        &rates,
        "date,from,to,rate\n2026-03-01,HKD,CNY,0.9200\n2026-03-20,HKD,CNY,0.9300\n",
    )
    .expect("a temporary rates file");
    let (stack, mut clients) = start_with(vec![(
        "FX_RATES_FILE".to_owned(),
        rates.display().to_string(),
    )])
    .await;
    let customer =
        scenario::create_customer_with_accounts(&mut clients, "陈大文", &["HK12 3456 7890 1234"])
            .await
            .or_logs(&stack);
    let contract = scenario::create_contract(
        &mut clients,
        &customer,
        "HT-FX-1",
        &[("920.00", "2026-03-10"), ("920.00", "2026-04-10")],
    )
    .await
    .or_logs(&stack);

    // 1000.00 HKD on 12 March at the rate of 1 March: 920.00 CNY, installment 1 in full.
    let file = bank_csv(&[
        [
            "2026-03-12",
            "1000.00",
            "HKD",
            "陈大文",
            "HK1234567890 1234",
            "HT-FX-1 第1期",
        ],
        [
            "2026-03-13",
            "130.00",
            "USD",
            "陈大文",
            "HK1234567890 1234",
            "HT-FX-1 第2期",
        ],
    ]);
    scenario::ingest(&mut clients, "fx.csv", file)
        .await
        .or_logs(&stack);
    eventually("installment 1 paid in CNY", EVENTUALLY, || async {
        let mut c = clients.clone();
        let r = scenario::receivables(&mut c, &contract.contract_id).await?;
        Ok((open_amount(&r[0]) == "0.00" && open_amount(&r[1]) == "920.00").then_some(()))
    })
    .await
    .or_logs(&stack);
    let all = scenario::all_payments(&clients).await.or_logs(&stack);
    let hkd = all
        .iter()
        .find(|p| p.amount.as_ref().is_some_and(|m| m.currency == "HKD"))
        .expect("the HKD payment");
    let fx = hkd.fx.as_ref().expect("the rate used is recorded");
    assert_eq!(
        (fx.rate.as_str(), fx.rate_date.as_str()),
        ("0.9200", "2026-03-01")
    );
    assert_eq!(
        fx.booked
            .as_ref()
            .map(|m| (m.amount.as_str(), m.currency.as_str())),
        Some(("920.00", "CNY"))
    );
    assert_eq!(
        hkd.allocations
            .iter()
            .map(|a| a.amount.as_ref().map_or("", |m| m.amount.as_str()))
            .collect::<Vec<_>>(),
        ["920.00"]
    );
    // No USD rate: an exception, never a guess.
    let queue = scenario::open_exceptions(&clients).await.or_logs(&stack);
    assert_eq!(
        queue.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        ["MISSING_RATE"]
    );
    let _ = std::fs::remove_file(&rates);
    assert_eq!(
        stack.stop(|_| {}),
        Vec::<String>::new(),
        "services that did not shut down gracefully"
    );
}
