//! Issue 15 (R-L2, R-L6): an escalation opens a legal case; a lawyer of the legal department
//! moves it through its life (lawyer's letter, payment order, litigation filed), asks for asset
//! preservation and records the court fee, which contracts books against the debtor. A move
//! the case's life does not allow is refused naming both statuses, bad input names the field,
//! a repeated key records nothing more, and the case shows its history with the actor; every
//! step is published on legal's topic.

use prost::Message as _;
use rdkafka::Message as _;
use rdkafka::consumer::{Consumer, StreamConsumer};

use devstack::clients::{Clients, eventually};
use devstack::scenario;
use kit::auth::Role;
use proto::events::v1 as events;
use proto::legal::v1 as legal;
use proto::types::v1::{CaseOutcome, CaseStatus, CostKind};

use crate::helpers::{EVENTUALLY, OrLogs, start};

const LAWYER: &str = "wang.lawyer";

fn step(
    case_id: &str,
    to: CaseStatus,
    date: &str,
    document: &str,
    key: &str,
) -> legal::MoveCaseRequest {
    legal::MoveCaseRequest {
        case_id: case_id.to_owned(),
        to_status: to as i32,
        outcome: CaseOutcome::Unspecified as i32,
        date: date.to_owned(),
        document_reference: document.to_owned(),
        reason: format!("next step: {to:?}"),
        idempotency_key: key.to_owned(),
    }
}

/// The CaseStatusChanged events of `case_id` on legal's topic, once `n` were seen.
async fn published(
    stack: &devstack::Stack,
    case_id: &str,
    n: usize,
) -> Vec<events::CaseStatusChanged> {
    let consumer: StreamConsumer =
        kit::kafka::consumer(&stack.kafka, &format!("e2e-legal-{}", uuid::Uuid::new_v4()))
            .or_logs(stack);
    let topic = format!("{}{}", stack.topic_prefix, kit::events::LEGAL_CASES);
    consumer.subscribe(&[&topic]).or_logs(stack);
    let wanted = kit::events::type_name::<events::CaseStatusChanged>();
    let mut seen = Vec::new();
    tokio::time::timeout(EVENTUALLY, async {
        while seen.len() < n {
            let message = consumer.recv().await.or_logs(stack);
            let Some(payload) = message.payload() else {
                continue;
            };
            let envelope = events::Envelope::decode(payload).or_logs(stack);
            if envelope.event_type != wanted {
                continue;
            }
            let event =
                events::CaseStatusChanged::decode(envelope.payload.as_slice()).or_logs(stack);
            if event.case_id == case_id {
                seen.push(event);
            }
        }
    })
    .await
    .or_logs(stack);
    seen
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lawyer_moves_a_case_through_its_life_and_an_illegal_move_is_refused_r_l2() {
    let (stack, mut admin) = start().await;
    let lawyer = Clients::as_user(&stack, LAWYER, &[Role::Legal], None).or_logs(&stack);
    let customer = scenario::create_customer(&mut admin, "冯十五")
        .await
        .or_logs(&stack);
    let contract = scenario::create_contract(
        &mut admin,
        &customer,
        "HT-LEGAL-15",
        &[("8000.00", "2026-03-10")],
    )
    .await
    .or_logs(&stack);
    let receivable_id = contract.receivables[0].receivable_id.clone();

    // 36 days overdue and above 5,000 (the compact policy): escalated, a case opens (R-L1).
    scenario::run_cycle(&mut admin, "2026-04-15")
        .await
        .or_logs(&stack);
    let case = eventually("a legal case", EVENTUALLY, || async {
        Ok(scenario::legal_cases(&lawyer, &customer, None)
            .await?
            .into_iter()
            .next())
    })
    .await
    .or_logs(&stack);
    assert_eq!(case.status, CaseStatus::Opened as i32);
    assert!(case.history.is_empty());
    let id = case.case_id.clone();
    let mut client = lawyer.legal.clone();

    // Bad input names the field.
    let bad = client
        .move_case(step(
            &id,
            CaseStatus::Unspecified,
            "2026-04-16",
            "LL-1",
            "bad-1",
        ))
        .await
        .expect_err("no target status");
    assert_eq!(bad.code(), tonic::Code::InvalidArgument);
    assert!(bad.message().contains("to_status"), "{}", bad.message());
    let bad = client
        .move_case(step(
            &id,
            CaseStatus::LawyersLetterSent,
            "16 April",
            "LL-1",
            "bad-2",
        ))
        .await
        .expect_err("no date");
    assert_eq!(bad.code(), tonic::Code::InvalidArgument);
    assert!(bad.message().contains("date"), "{}", bad.message());
    let mut closing = step(&id, CaseStatus::Closed, "2026-04-16", "", "bad-3");
    closing.outcome = CaseOutcome::Unspecified as i32;
    let bad = client.move_case(closing).await.expect_err("no outcome");
    assert_eq!(bad.code(), tonic::Code::InvalidArgument);
    assert!(bad.message().contains("outcome"), "{}", bad.message());

    // Lawyer's letter, then the payment order; the same key again records nothing more.
    let letter = client
        .move_case(step(
            &id,
            CaseStatus::LawyersLetterSent,
            "2026-04-16",
            "LL-2026-0416",
            "letter",
        ))
        .await
        .or_logs(&stack)
        .into_inner();
    let first = letter.step.clone().expect("the step");
    assert!(!letter.repeat);
    assert_eq!(first.from_status, CaseStatus::Opened as i32);
    assert_eq!(first.to_status, CaseStatus::LawyersLetterSent as i32);
    assert_eq!(first.actor, LAWYER);
    let again = client
        .move_case(step(
            &id,
            CaseStatus::LawyersLetterSent,
            "2026-04-16",
            "LL-2026-0416",
            "letter",
        ))
        .await
        .or_logs(&stack)
        .into_inner();
    assert!(again.repeat);
    assert_eq!(again.step.expect("the step").step_id, first.step_id);
    client
        .move_case(step(
            &id,
            CaseStatus::PaymentOrderApplied,
            "2026-04-20",
            "(2026)沪0115民督12号",
            "order",
        ))
        .await
        .or_logs(&stack);

    // Illegal: a judgment before a suit was filed, and back to opened.
    let refused = client
        .move_case(step(
            &id,
            CaseStatus::Judgment,
            "2026-04-21",
            "J-1",
            "judgment-early",
        ))
        .await
        .expect_err("judgment before filing");
    assert_eq!(refused.code(), tonic::Code::FailedPrecondition);
    assert!(
        refused.message().contains("payment_order_applied")
            && refused.message().contains("judgment"),
        "{}",
        refused.message()
    );
    let refused = client
        .move_case(step(&id, CaseStatus::Opened, "2026-04-21", "X-1", "back"))
        .await
        .expect_err("back to opened");
    assert_eq!(refused.code(), tonic::Code::FailedPrecondition);
    assert!(
        refused.message().contains("opened"),
        "{}",
        refused.message()
    );

    // The debtor objected to the order: the suit is filed, and the assets preserved.
    let filed = client
        .move_case(step(
            &id,
            CaseStatus::LitigationFiled,
            "2026-05-08",
            "(2026)沪0115民初1234号",
            "filed",
        ))
        .await
        .or_logs(&stack)
        .into_inner();
    assert_eq!(
        filed.legal_case.as_ref().map(|c| c.status),
        Some(CaseStatus::LitigationFiled as i32)
    );
    // A date before the last step is refused by name.
    let early = client
        .request_asset_preservation(legal::RequestAssetPreservationRequest {
            case_id: id.clone(),
            date: "2026-05-01".into(),
            document_reference: "(2026)沪0115财保7号".into(),
            reason: "the debtor is selling the unit".into(),
            idempotency_key: "preserve-early".into(),
        })
        .await
        .expect_err("before the filing");
    assert_eq!(early.code(), tonic::Code::InvalidArgument);
    assert!(early.message().contains("date"), "{}", early.message());
    let preserved = client
        .request_asset_preservation(legal::RequestAssetPreservationRequest {
            case_id: id.clone(),
            date: "2026-05-09".into(),
            document_reference: "(2026)沪0115财保7号".into(),
            reason: "the debtor is selling the unit".into(),
            idempotency_key: "preserve".into(),
        })
        .await
        .or_logs(&stack)
        .into_inner();
    assert!(
        preserved
            .legal_case
            .as_ref()
            .is_some_and(|c| c.assets_preserved)
    );

    // R-L6: the court fee is recorded against the case and contracts books it.
    let cost = client
        .record_case_cost(legal::RecordCaseCostRequest {
            case_id: id.clone(),
            kind: CostKind::CourtFee as i32,
            amount: "250.00".into(),
            incurred_on: "2026-05-08".into(),
            description: "acceptance fee".into(),
            receivable_id: String::new(),
            idempotency_key: "court-fee".into(),
        })
        .await
        .or_logs(&stack)
        .into_inner();
    assert_eq!(cost.receivable_id, receivable_id);
    eventually("the court fee booked by contracts", EVENTUALLY, || async {
        let mut c = admin.clone();
        let r = scenario::receivables(&mut c, &contract.contract_id).await?;
        let costs = r
            .first()
            .and_then(|r| r.owed.as_ref())
            .and_then(|o| o.costs.as_ref())
            .map(|m| m.amount.clone());
        Ok((costs.as_deref() == Some("250.00")).then_some(()))
    })
    .await
    .or_logs(&stack);

    // GetCase: the status, the history with the actor, and the log.
    let shown = client
        .get_case(legal::GetCaseRequest {
            case_id: id.clone(),
        })
        .await
        .or_logs(&stack)
        .into_inner()
        .legal_case
        .expect("the case");
    assert_eq!(shown.status, CaseStatus::LitigationFiled as i32);
    assert_eq!(shown.outcome, CaseOutcome::Unspecified as i32);
    let road: Vec<(i32, i32, bool, &str)> = shown
        .history
        .iter()
        .map(|s| {
            (
                s.from_status,
                s.to_status,
                s.asset_preservation,
                s.date.as_str(),
            )
        })
        .collect();
    assert_eq!(
        road,
        [
            (
                CaseStatus::Opened as i32,
                CaseStatus::LawyersLetterSent as i32,
                false,
                "2026-04-16"
            ),
            (
                CaseStatus::LawyersLetterSent as i32,
                CaseStatus::PaymentOrderApplied as i32,
                false,
                "2026-04-20"
            ),
            (
                CaseStatus::PaymentOrderApplied as i32,
                CaseStatus::LitigationFiled as i32,
                false,
                "2026-05-08"
            ),
            (
                CaseStatus::LitigationFiled as i32,
                CaseStatus::LitigationFiled as i32,
                true,
                "2026-05-09"
            ),
        ]
    );
    assert!(shown.history.iter().all(|s| s.actor == LAWYER));
    assert_eq!(
        shown.history[2].document_reference,
        "(2026)沪0115民初1234号"
    );
    assert!(shown.events.iter().any(|e| e.kind == "cost_recorded"));
    assert_eq!(
        shown
            .events
            .iter()
            .filter(|e| e.kind == "status_changed")
            .count(),
        3
    );

    // Every move is published on legal's topic with its actor.
    let events = published(&stack, &id, 3).await;
    assert_eq!(
        events.iter().map(|e| e.to_status).collect::<Vec<_>>(),
        [
            CaseStatus::LawyersLetterSent as i32,
            CaseStatus::PaymentOrderApplied as i32,
            CaseStatus::LitigationFiled as i32
        ]
    );
    assert!(
        events
            .iter()
            .all(|e| e.actor == LAWYER && e.customer_id == customer)
    );

    // Settled: closed with an outcome; nothing moves a closed case.
    let mut settle = step(&id, CaseStatus::Closed, "2026-06-01", "", "settle");
    settle.outcome = CaseOutcome::Settled as i32;
    let closed = client
        .move_case(settle)
        .await
        .or_logs(&stack)
        .into_inner()
        .legal_case
        .expect("the case");
    assert_eq!(closed.status, CaseStatus::Closed as i32);
    assert_eq!(closed.outcome, CaseOutcome::Settled as i32);
    assert_eq!(closed.closed_on, "2026-06-01");
    // R-L5: the credit hold the case placed ends with it (contracts follows CaseStatusChanged).
    eventually(
        "the legal case's credit hold released",
        EVENTUALLY,
        || async {
            let holds = admin
                .contracts
                .clone()
                .list_credit_holds(proto::contracts::v1::ListCreditHoldsRequest {
                    customer_id: customer.clone(),
                    include_released: true,
                    ..Default::default()
                })
                .await?
                .into_inner()
                .holds;
            let legal_hold = holds
                .iter()
                .find(|h| h.source == proto::contracts::v1::CreditHoldSource::LegalCase as i32);
            Ok(legal_hold.filter(|h| !h.active).map(|_| ()))
        },
    )
    .await
    .or_logs(&stack);
    let refused = client
        .move_case(step(
            &id,
            CaseStatus::Judgment,
            "2026-06-02",
            "J-2",
            "after-close",
        ))
        .await
        .expect_err("closed stays closed");
    assert_eq!(refused.code(), tonic::Code::FailedPrecondition);

    // Auditors read cases but move none.
    let auditor = Clients::as_user(&stack, "audit.amy", &[Role::Auditor], None).or_logs(&stack);
    let denied = auditor
        .legal
        .clone()
        .move_case(step(
            &id,
            CaseStatus::Judgment,
            "2026-06-02",
            "J-3",
            "auditor",
        ))
        .await
        .expect_err("auditors change nothing");
    assert_eq!(denied.code(), tonic::Code::PermissionDenied);

    assert_eq!(
        stack.stop(|_| {}),
        Vec::<String>::new(),
        "services that did not shut down gracefully"
    );
}

/// R-L7: a payment order is refused while the debtor has a dispute open with dunning (R-D8),
/// and allowed once it is resolved.
#[tokio::test(flavor = "multi_thread")]
async fn a_payment_order_is_refused_while_a_dispute_is_open_r_l7() {
    use proto::dunning::v1 as dunning;
    let (stack, mut admin) = start().await;
    let lawyer = Clients::as_user(&stack, LAWYER, &[Role::Legal], None).or_logs(&stack);
    // The collector who owns the customer takes the dispute (R-O3).
    let mut li =
        Clients::as_user(&stack, "li.na", &[Role::Collector], Some("east")).or_logs(&stack);
    let customer = scenario::create_customer(&mut li, "冯十六")
        .await
        .or_logs(&stack);
    scenario::create_contract(
        &mut li,
        &customer,
        "HT-LEGAL-16A",
        &[("8000.00", "2026-03-10")],
    )
    .await
    .or_logs(&stack);
    let other = scenario::create_contract(
        &mut li,
        &customer,
        "HT-LEGAL-16B",
        &[("1000.00", "2026-04-20")],
    )
    .await
    .or_logs(&stack);
    // The first contract is escalated; the second falls overdue later into a new dunning
    // case, and the debtor disputes it.
    scenario::run_cycle(&mut admin, "2026-04-15")
        .await
        .or_logs(&stack);
    let case = eventually("a legal case", EVENTUALLY, || async {
        Ok(scenario::legal_cases(&lawyer, &customer, None)
            .await?
            .into_iter()
            .next())
    })
    .await
    .or_logs(&stack);
    scenario::run_cycle(&mut admin, "2026-04-22")
        .await
        .or_logs(&stack);
    let disputed = other.receivables[0].receivable_id.clone();
    let dispute = eventually("dunning takes the dispute", EVENTUALLY, || async {
        Ok(li
            .dunning
            .clone()
            .open_dispute(dunning::OpenDisputeRequest {
                idempotency_key: "dispute-16".into(),
                customer_id: customer.clone(),
                receivable_ids: vec![disputed.clone()],
                reason: "the invoice names the wrong unit".into(),
            })
            .await
            .ok()
            .and_then(|r| r.into_inner().dispute))
    })
    .await
    .or_logs(&stack);
    // Sync point: legal has handled DisputeOpened (the outbox relay publishes it within its
    // poll interval) before the first payment-order attempt; otherwise that attempt can win
    // the race, the case moves, and no later attempt can be refused.
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    crate::helpers::caught_up(&stack, "legal", kit::events::DUNNING)
        .await
        .or_logs(&stack);
    let mut client = lawyer.legal.clone();
    client
        .move_case(step(
            &case.case_id,
            CaseStatus::LawyersLetterSent,
            "2026-04-23",
            "LL-16",
            "l16-letter",
        ))
        .await
        .or_logs(&stack);
    let refused = eventually("legal knows the dispute", EVENTUALLY, || async {
        let mut client = lawyer.legal.clone();
        Ok(client
            .move_case(step(
                &case.case_id,
                CaseStatus::PaymentOrderApplied,
                "2026-04-24",
                "PO-16",
                "l16-order",
            ))
            .await
            .err()
            .filter(|e| e.code() == tonic::Code::FailedPrecondition))
    })
    .await
    .or_logs(&stack);
    assert!(
        refused.message().contains("R-L7") && refused.message().contains(&dispute.dispute_id),
        "{}",
        refused.message()
    );
    assert!(
        refused.message().contains("another debt"),
        "{}",
        refused.message()
    );

    // Dunning resolves the dispute: the route opens.
    li.dunning
        .resolve_dispute(dunning::ResolveDisputeRequest {
            dispute_id: dispute.dispute_id.clone(),
            resolution: dunning::DisputeStatus::Rejected as i32,
            note: "the unit is right".into(),
            relief: Vec::new(),
        })
        .await
        .or_logs(&stack);
    let moved = eventually("the payment order is taken", EVENTUALLY, || async {
        let mut client = lawyer.legal.clone();
        Ok(client
            .move_case(step(
                &case.case_id,
                CaseStatus::PaymentOrderApplied,
                "2026-04-24",
                "PO-16",
                "l16-order-2",
            ))
            .await
            .ok()
            .and_then(|r| r.into_inner().legal_case))
    })
    .await
    .or_logs(&stack);
    assert_eq!(moved.status, CaseStatus::PaymentOrderApplied as i32);
}
