//! Payments and escalations travel on different topics, so legal may see a payment before the
//! escalation of the same receivable. Whichever comes first, the case ends up claiming only
//! what is still open, and a case with nothing left is flagged for withdrawal (R-L4).

use std::time::Duration;

use prost::Message as _;
use uuid::Uuid;

use devstack::clients::eventually;
use devstack::scenario;
use proto::events::v1 as events;
use proto::legal::v1 as legal;
use proto::types::v1::{CaseStatus, Money};

use crate::helpers::{EVENTUALLY, OrLogs, publish, start};

fn cny(amount: &str) -> Option<Money> {
    Some(Money {
        amount: amount.into(),
        currency: "CNY".into(),
    })
}

fn applied(customer: &str, receivable: Uuid, open_after: &str) -> events::AllocationApplied {
    events::AllocationApplied {
        allocation_id: Uuid::now_v7().to_string(),
        payment_id: Uuid::now_v7().to_string(),
        receivable_id: receivable.to_string(),
        contract_id: Uuid::now_v7().to_string(),
        customer_id: customer.to_owned(),
        amount: cny("600.00"),
        open_amount_after: cny(open_after),
        paid_in_full: open_after == "0.00",
        booking_date: "2026-05-02".into(),
        repeat: false,
        ..Default::default()
    }
}

fn escalation(customer: &str, receivable: Uuid) -> events::EscalatedToLegal {
    events::EscalatedToLegal {
        escalation_id: Uuid::now_v7().to_string(),
        case_id: Uuid::now_v7().to_string(),
        customer_id: customer.to_owned(),
        amount_claimed: cny("1000.00"),
        receivables: vec![events::ClaimedReceivable {
            receivable_id: receivable.to_string(),
            contract_id: Uuid::now_v7().to_string(),
            contract_no: "HT-RACE-1".into(),
            due_date: "2026-03-01".into(),
            days_overdue: 62,
            open_amount: cny("1000.00"),
        }],
        business_date: "2026-05-02".into(),
        reason: "62 days overdue".into(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_payment_seen_before_the_escalation_still_lowers_the_claim() {
    let (stack, clients) = start().await;
    let producer =
        kit::kafka::producer(&stack.kafka, "e2e-race", kit::kafka::Compression::default())
            .or_logs(&stack);
    // Two customers, each with one receivable of 1000.00 escalated after a payment: one paid
    // in full, one paid 600.00. The payments are sent first, the escalations a moment later.
    let (paid, partly) = (Uuid::now_v7().to_string(), Uuid::now_v7().to_string());
    let (r_paid, r_partly) = (Uuid::now_v7(), Uuid::now_v7());
    for (customer, receivable, open_after) in
        [(&paid, r_paid, "0.00"), (&partly, r_partly, "400.00")]
    {
        let event = applied(customer, receivable, open_after);
        let envelope = kit::events::envelope("contracts", customer, &event);
        let payload = envelope.encode_to_vec();
        publish(
            &producer,
            &stack,
            kit::events::CONTRACTS,
            customer,
            &payload,
        )
        .await
        .or_logs(&stack);
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    for (customer, receivable) in [(&paid, r_paid), (&partly, r_partly)] {
        let event = escalation(customer, receivable);
        let envelope = kit::events::envelope("dunning", customer, &event);
        let payload = envelope.encode_to_vec();
        publish(&producer, &stack, kit::events::DUNNING, customer, &payload)
            .await
            .or_logs(&stack);
    }

    let case_of = |customer: String| {
        let clients = clients.clone();
        async move {
            Ok::<_, anyhow::Error>(
                scenario::legal_cases(&clients, &customer, None)
                    .await?
                    .into_iter()
                    .next(),
            )
        }
    };
    let claim = |case: &legal::LegalCase| {
        case.amount_claimed
            .as_ref()
            .map_or_else(String::new, |m| m.amount.clone())
    };
    let withdrawn = eventually("the paid case flagged for withdrawal", EVENTUALLY, || {
        let case = case_of(paid.clone());
        async move { Ok(case.await?.filter(|c| c.withdrawal_flagged)) }
    })
    .await
    .or_logs(&stack);
    // R-L4: flagged, still open until the legal department closes it (R-L2).
    assert_eq!(withdrawn.status, CaseStatus::Opened as i32);
    assert_eq!(claim(&withdrawn), "0.00");
    let lowered = eventually("the partly paid case claims 400.00", EVENTUALLY, || {
        let case = case_of(partly.clone());
        async move { Ok(case.await?.filter(|c| claim(c) == "400.00")) }
    })
    .await
    .or_logs(&stack);
    assert_eq!(lowered.status, CaseStatus::Opened as i32);
    assert!(!lowered.withdrawal_flagged);
    assert_eq!(
        stack.stop(|_| {}),
        Vec::<String>::new(),
        "services that did not shut down gracefully"
    );
}
