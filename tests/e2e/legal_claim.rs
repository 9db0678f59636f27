//! Issue 15 legal item 3 (R-L4, R-D12, R-P11): a case claims what contracts says is owed on
//! its items — principal, late fee, interest and collection costs — and the claim follows
//! every accrual, cost booked, waiver and payment. Paying the principal amount alone leaves
//! the fees claimed; paying everything flags withdrawal.

use std::time::Duration;

use prost::Message as _;
use rdkafka::Message as _;
use rdkafka::consumer::{Consumer, StreamConsumer};
use uuid::Uuid;

use devstack::clients::{Clients, eventually};
use devstack::scenario::{self, bank_csv};
use kit::auth::Role;
use proto::contracts::v1 as contracts;
use proto::events::v1 as events;
use proto::legal::v1 as legal;
use proto::types::v1::{ClaimChange, Component, CostKind, Money, Owed};

use crate::helpers::{EVENTUALLY, OrLogs, start};

/// 1‰ of the principal a day (R-C4).
const POLICY: &str =
    r#"{"name": "1 per mille a day", "accrual": {"kind": "flat_daily", "daily_rate": "1‰"}}"#;

fn amount(m: Option<&Money>) -> &str {
    m.map_or("", |m| m.amount.as_str())
}

/// (principal, late fee, interest, costs, total).
fn parts(o: Option<&Owed>) -> (String, String, String, String, String) {
    let part = |m: Option<&Money>| amount(m).to_owned();
    (
        part(o.and_then(|o| o.principal.as_ref())),
        part(o.and_then(|o| o.late_fee.as_ref())),
        part(o.and_then(|o| o.interest.as_ref())),
        part(o.and_then(|o| o.costs.as_ref())),
        part(o.and_then(|o| o.total.as_ref())),
    )
}

fn owed(
    total: &str,
    principal: &str,
    late_fee: &str,
    costs: &str,
) -> (String, String, String, String, String) {
    (
        principal.to_owned(),
        late_fee.to_owned(),
        "0.00".to_owned(),
        costs.to_owned(),
        total.to_owned(),
    )
}

/// The case once its claim is `total`, checked against contracts' own figures for the item:
/// the same by component.
async fn claim_becomes(
    stack: &devstack::Stack,
    clients: &Clients,
    customer: &str,
    contract_id: &str,
    what: &str,
    total: &str,
) -> legal::LegalCase {
    let case = eventually(what, EVENTUALLY, || async {
        Ok(scenario::legal_cases(clients, customer, None)
            .await?
            .into_iter()
            .next()
            .filter(|c| amount(c.amount_claimed.as_ref()) == total))
    })
    .await
    .or_logs(stack);
    let mut c = clients.clone();
    let item = scenario::receivables(&mut c, contract_id)
        .await
        .or_logs(stack)
        .remove(0);
    assert_eq!(
        parts(case.claim.as_ref()),
        parts(item.owed.as_ref()),
        "{what}: the claim is what contracts says is owed\n{case:?}"
    );
    assert_eq!(case.receivables.len(), 1);
    assert_eq!(
        parts(case.receivables[0].owed.as_ref()),
        parts(item.owed.as_ref())
    );
    case
}

/// Every ClaimUpdated of `case_id` on legal's topic, in order, until `quiet` passes after the
/// first `n`.
async fn claim_updates(
    stack: &devstack::Stack,
    case_id: &str,
    n: usize,
) -> Vec<events::ClaimUpdated> {
    let consumer: StreamConsumer =
        kit::kafka::consumer(&stack.kafka, &format!("e2e-claim-{}", Uuid::new_v4())).or_logs(stack);
    let topic = format!("{}{}", stack.topic_prefix, kit::events::LEGAL_CASES);
    consumer.subscribe(&[&topic]).or_logs(stack);
    let wanted = kit::events::type_name::<events::ClaimUpdated>();
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + EVENTUALLY;
    loop {
        let wait = if seen.len() >= n {
            Duration::from_secs(2)
        } else {
            deadline.saturating_duration_since(tokio::time::Instant::now())
        };
        let Ok(message) = tokio::time::timeout(wait, consumer.recv()).await else {
            break;
        };
        let message = message.or_logs(stack);
        let Ok(envelope) = events::Envelope::decode(message.payload().unwrap_or_default()) else {
            continue;
        };
        if envelope.event_type != wanted {
            continue;
        }
        let e = events::ClaimUpdated::decode(envelope.payload.as_slice()).or_logs(stack);
        if e.case_id == case_id {
            seen.push(e);
        }
    }
    seen
}

#[tokio::test(flavor = "multi_thread")]
async fn the_claim_follows_what_contracts_says_is_owed_fees_costs_waivers_and_payments_r_l4() {
    let (stack, mut admin) = start().await;
    let mut ada =
        Clients::as_user(&stack, "sup-ada", &[Role::Supervisor], Some("team-a")).or_logs(&stack);
    let mut bo =
        Clients::as_user(&stack, "sup-bo", &[Role::Supervisor], Some("team-a")).or_logs(&stack);
    let lawyer = Clients::as_user(&stack, "zhao.lawyer", &[Role::Legal], None).or_logs(&stack);
    let customer = scenario::create_customer(&mut ada, "钱二十")
        .await
        .or_logs(&stack);
    let contract = scenario::create_contract_with_policy(
        &mut ada,
        &customer,
        "HT-CLAIM-20",
        &[("8000.00", "2026-03-10")],
        POLICY,
    )
    .await
    .or_logs(&stack);
    let id = contract.contract_id.clone();
    let receivable_id = contract.receivables[0].receivable_id.clone();

    // 36 days overdue (R-C4: 36 × 8.00 = 288.00 late fee): dunning escalates, legal opens a
    // case claiming principal and late fee.
    scenario::run_cycle(&mut admin, "2026-04-15")
        .await
        .or_logs(&stack);
    let case = claim_becomes(
        &stack,
        &lawyer,
        &customer,
        &id,
        "a case claiming the late fee too",
        "8288.00",
    )
    .await;
    assert_eq!(
        parts(case.claim.as_ref()),
        owed("8288.00", "8000.00", "288.00", "0.00")
    );
    let case_id = case.case_id.clone();

    // R-L6: the lawyer's fee, booked by contracts as a cost the debtor owes, raises the claim.
    lawyer
        .legal
        .clone()
        .record_case_cost(legal::RecordCaseCostRequest {
            case_id: case_id.clone(),
            kind: CostKind::LawyerFee as i32,
            amount: "500.00".to_owned(),
            incurred_on: "2026-04-15".to_owned(),
            description: "lawyer's letter, 某律师事务所".to_owned(),
            receivable_id: String::new(),
            idempotency_key: "claim-20-lawyer".to_owned(),
        })
        .await
        .or_logs(&stack);
    let case = claim_becomes(
        &stack,
        &lawyer,
        &customer,
        &id,
        "the cost claimed",
        "8788.00",
    )
    .await;
    assert_eq!(
        parts(case.claim.as_ref()),
        owed("8788.00", "8000.00", "288.00", "500.00")
    );

    // R-D6: a waiver of 88.00 late fee, proposed by one supervisor, approved by another.
    let waiver = ada
        .contracts
        .propose_waiver(contracts::ProposeWaiverRequest {
            receivable_id: receivable_id.clone(),
            component: Component::LateFee as i32,
            amount: "88.00".to_owned(),
            reason: "goodwill on settlement talks".to_owned(),
        })
        .await
        .or_logs(&stack)
        .into_inner()
        .waiver
        .expect("waiver");
    bo.contracts
        .approve_waiver(contracts::ApproveWaiverRequest {
            waiver_id: waiver.waiver_id.clone(),
            note: String::new(),
        })
        .await
        .or_logs(&stack);
    let case = claim_becomes(
        &stack,
        &lawyer,
        &customer,
        &id,
        "the waiver claimed",
        "8700.00",
    )
    .await;
    assert_eq!(
        parts(case.claim.as_ref()),
        owed("8700.00", "8000.00", "200.00", "500.00")
    );

    // R-C4: one more day accrues 8.00 late fee.
    scenario::run_cycle(&mut admin, "2026-04-16")
        .await
        .or_logs(&stack);
    let case = claim_becomes(
        &stack,
        &lawyer,
        &customer,
        &id,
        "the accrual claimed",
        "8708.00",
    )
    .await;
    assert_eq!(
        parts(case.claim.as_ref()),
        owed("8708.00", "8000.00", "208.00", "500.00")
    );

    // R-P11, R-D12: paying the principal's amount settles costs, then the late fee, then
    // 7292.00 of principal; 708.00 is still owed and claimed, no withdrawal.
    let file = bank_csv(&[[
        "2026-04-17",
        "8000.00",
        "CNY",
        "钱二十",
        "6222020000002020",
        "HT-CLAIM-20/1",
    ]]);
    scenario::ingest(&mut admin, "claim-1.csv", file)
        .await
        .or_logs(&stack);
    let case = claim_becomes(
        &stack,
        &lawyer,
        &customer,
        &id,
        "the payment claimed",
        "708.00",
    )
    .await;
    assert_eq!(
        parts(case.claim.as_ref()),
        owed("708.00", "708.00", "0.00", "0.00")
    );
    assert!(
        !case.withdrawal_flagged,
        "fees and principal left: no withdrawal (R-D12)"
    );

    // The rest: nothing owed, the case is flagged for withdrawal (R-L4).
    let file = bank_csv(&[[
        "2026-04-18",
        "708.00",
        "CNY",
        "钱二十",
        "6222020000002020",
        "HT-CLAIM-20/1",
    ]]);
    scenario::ingest(&mut admin, "claim-2.csv", file)
        .await
        .or_logs(&stack);
    let flagged = eventually("the case flagged for withdrawal", EVENTUALLY, || async {
        Ok(scenario::legal_cases(&lawyer, &customer, None)
            .await?
            .into_iter()
            .next()
            .filter(|c| c.withdrawal_flagged))
    })
    .await
    .or_logs(&stack);
    assert_eq!(amount(flagged.amount_claimed.as_ref()), "0.00");

    // What the legal department read: one ClaimUpdated per change, each with its components
    // and cause, in the order they happened (the opening claim is in CaseOpened).
    let updates = claim_updates(&stack, &case_id, 4).await;
    let seen: Vec<(String, i32)> = updates
        .iter()
        .map(|u| (amount(u.amount_claimed.as_ref()).to_owned(), u.cause))
        .collect();
    let tail = &seen[seen.len().saturating_sub(4)..];
    assert_eq!(
        tail,
        [
            ("8788.00".to_owned(), ClaimChange::CostBooked as i32),
            ("8700.00".to_owned(), ClaimChange::Waiver as i32),
            ("8708.00".to_owned(), ClaimChange::Accrual as i32),
            ("708.00".to_owned(), ClaimChange::Payment as i32),
        ],
        "{updates:#?}"
    );
    let paid = updates.last().expect("the payment's update");
    assert_eq!(paid.changed_on, "2026-04-17");
    assert_eq!(
        parts(paid.claim.as_ref()),
        owed("708.00", "708.00", "0.00", "0.00")
    );
    assert!(paid.reason.contains("708.00"), "{}", paid.reason);
    assert_eq!(
        stack.stop(|_| {}),
        Vec::<String>::new(),
        "services that did not shut down gracefully"
    );
}
