//! Issue 15 (R-L7): court fees from the national schedule and the limitation period.
//!
//! - A case moved to payment_order_applied records the payment order fee on the amount claimed
//!   (a third of the acceptance fee), to litigation_filed the acceptance fee; a full payment
//!   flags withdrawal with the court-fee refund (the acceptance fee less its half), and closing
//!   the case as withdrawn carries the same refund.
//! - A demand that reached the debtor (a collector's answered call in dunning's contact log)
//!   restarts the case's limitation period; the daily cycle that brings the business date
//!   within 90 days of the end publishes LimitationPeriodExpiring once.

use std::time::Duration;

use chrono::{Days, FixedOffset, Months, NaiveDate, Utc};
use prost::Message as _;
use rdkafka::Message as _;
use rdkafka::consumer::{Consumer, StreamConsumer};
use uuid::Uuid;

use devstack::clients::{Clients, eventually};
use devstack::scenario;
use kit::auth::Role;
use proto::dunning::v1 as dunning;
use proto::events::v1 as events;
use proto::legal::v1 as legal;
use proto::types::v1::{CaseOutcome, CaseStatus, ContactChannel, ContactOutcome, Money};

use crate::helpers::{EVENTUALLY, OrLogs, publish, start};

const LAWYER: &str = "zhao.lawyer";

fn cny(amount: &str) -> Option<Money> {
    Some(Money {
        amount: amount.into(),
        currency: "CNY".into(),
    })
}

fn amount(money: Option<&Money>) -> String {
    money.map_or_else(String::new, |m| m.amount.clone())
}

/// Every event of type `T` on legal's topic for which `wanted` holds, collected until `quiet`
/// passes without another one after the first `n` were seen.
async fn on_legal_topic<T: prost::Message + prost::Name + Default>(
    stack: &devstack::Stack,
    n: usize,
    quiet: Duration,
    wanted: impl Fn(&T) -> bool,
) -> Vec<T> {
    let consumer: StreamConsumer =
        kit::kafka::consumer(&stack.kafka, &format!("e2e-fees-{}", Uuid::new_v4())).or_logs(stack);
    let topic = format!("{}{}", stack.topic_prefix, kit::events::LEGAL_CASES);
    consumer.subscribe(&[&topic]).or_logs(stack);
    let type_name = kit::events::type_name::<T>();
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + EVENTUALLY;
    loop {
        let wait = if seen.len() >= n {
            quiet
        } else {
            deadline.saturating_duration_since(tokio::time::Instant::now())
        };
        let Ok(message) = tokio::time::timeout(wait, consumer.recv()).await else {
            break;
        };
        let message = message.or_logs(stack);
        let Some(payload) = message.payload() else {
            continue;
        };
        let envelope = events::Envelope::decode(payload).or_logs(stack);
        if envelope.event_type != type_name {
            continue;
        }
        let event = T::decode(envelope.payload.as_slice()).or_logs(stack);
        if wanted(&event) {
            seen.push(event);
        }
    }
    seen
}

fn step(case_id: &str, to: CaseStatus, date: &str, key: &str) -> legal::MoveCaseRequest {
    legal::MoveCaseRequest {
        case_id: case_id.to_owned(),
        to_status: to as i32,
        outcome: CaseOutcome::Unspecified as i32,
        date: date.to_owned(),
        document_reference: format!("DOC-{key}"),
        reason: format!("next step: {to:?}"),
        idempotency_key: format!("{case_id}-{key}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn court_fees_are_recorded_on_the_moves_and_a_full_payment_refunds_half_the_acceptance_fee_r_l7()
 {
    let (stack, _admin) = start().await;
    let lawyer = Clients::as_user(&stack, LAWYER, &[Role::Legal], None).or_logs(&stack);
    let producer =
        kit::kafka::producer(&stack.kafka, "e2e-fees", kit::kafka::Compression::default())
            .or_logs(&stack);
    let customer = Uuid::now_v7().to_string();
    let receivable = Uuid::now_v7();
    // An escalation claiming 120,000.00 (R-L1).
    let escalation = events::EscalatedToLegal {
        escalation_id: Uuid::now_v7().to_string(),
        case_id: Uuid::now_v7().to_string(),
        customer_id: customer.clone(),
        amount_claimed: cny("120000.00"),
        receivables: vec![events::ClaimedReceivable {
            receivable_id: receivable.to_string(),
            contract_id: Uuid::now_v7().to_string(),
            contract_no: "HT-FEES-1".into(),
            due_date: "2026-03-01".into(),
            days_overdue: 45,
            open_amount: cny("120000.00"),
        }],
        business_date: "2026-04-15".into(),
        reason: "45 days overdue".into(),
    };
    let envelope = kit::events::envelope("dunning", &customer, &escalation);
    publish(
        &producer,
        &stack,
        kit::events::DUNNING,
        &customer,
        &envelope.encode_to_vec(),
    )
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
    let id = case.case_id.clone();
    // R-L7: known in default the day after the due date; three years from then.
    let limitation = case.limitation.clone().expect("the limitation");
    assert_eq!(limitation.default_known_on, "2026-03-02");
    assert_eq!(limitation.expires_on, "2029-03-02");
    let fees = case.court_fees.clone().expect("the court fees");
    assert_eq!(fees.payment_order_fee, None);
    assert_eq!(amount(fees.court_fee_refund.as_ref()), "0.00");
    let mut client = lawyer.legal.clone();

    // Payment order: a third of the acceptance fee of 120,000 (2,700.00) = 900.00.
    let moved = client
        .move_case(step(
            &id,
            CaseStatus::PaymentOrderApplied,
            "2026-04-20",
            "order",
        ))
        .await
        .or_logs(&stack)
        .into_inner()
        .legal_case
        .expect("the case");
    let fees = moved.court_fees.expect("the court fees");
    assert_eq!(fees.schedule_id, "cn-2007");
    assert_eq!(amount(fees.payment_order_fee.as_ref()), "900.00");
    assert_eq!(fees.acceptance_fee, None);
    // The debtor objects; the suit is filed: 50 + 90,000 × 2.5 % + 20,000 × 2 % = 2,700.00.
    let moved = client
        .move_case(step(&id, CaseStatus::LitigationFiled, "2026-05-06", "suit"))
        .await
        .or_logs(&stack)
        .into_inner()
        .legal_case
        .expect("the case");
    let fees = moved.court_fees.expect("the court fees");
    assert_eq!(amount(fees.payment_order_fee.as_ref()), "900.00");
    assert_eq!(amount(fees.acceptance_fee.as_ref()), "2700.00");

    // The debtor pays in full: flagged for withdrawal with the refund 2,700 − 1,350 (R-L4).
    let paid = events::AllocationApplied {
        allocation_id: Uuid::now_v7().to_string(),
        payment_id: Uuid::now_v7().to_string(),
        receivable_id: receivable.to_string(),
        contract_id: Uuid::now_v7().to_string(),
        customer_id: customer.clone(),
        amount: cny("120000.00"),
        open_amount_after: cny("0.00"),
        paid_in_full: true,
        booking_date: "2026-05-10".into(),
        repeat: false,
        ..Default::default()
    };
    let envelope = kit::events::envelope("contracts", &customer, &paid);
    publish(
        &producer,
        &stack,
        kit::events::CONTRACTS,
        &customer,
        &envelope.encode_to_vec(),
    )
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
    let fees = flagged.court_fees.expect("the court fees");
    assert_eq!(amount(fees.court_fee_refund.as_ref()), "1350.00");
    let requested =
        on_legal_topic::<events::WithdrawalRequested>(&stack, 1, Duration::from_secs(2), |e| {
            e.case_id == id
        })
        .await;
    assert_eq!(requested.len(), 1);
    assert_eq!(
        amount(requested[0].court_fee_refund.as_ref()),
        "1350.00",
        "{requested:?}"
    );

    // The lawyer withdraws the suit: the close carries the same refund.
    let mut close = step(&id, CaseStatus::Closed, "2026-05-12", "withdrawn");
    close.outcome = CaseOutcome::Withdrawn as i32;
    client.move_case(close).await.or_logs(&stack);
    let closed =
        on_legal_topic::<events::CaseStatusChanged>(&stack, 1, Duration::from_secs(2), |e| {
            e.case_id == id && e.to_status == CaseStatus::Closed as i32
        })
        .await;
    assert_eq!(closed.len(), 1);
    assert_eq!(
        amount(closed[0].court_fee_refund.as_ref()),
        "1350.00",
        "{closed:?}"
    );
    assert_eq!(
        stack.stop(|_| {}),
        Vec::<String>::new(),
        "services that did not shut down gracefully"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delivered_demand_restarts_the_limitation_and_the_warning_comes_once_r_l7() {
    let (stack, mut admin) = start().await;
    let lawyer = Clients::as_user(&stack, LAWYER, &[Role::Legal], None).or_logs(&stack);
    // The collector who signs the contract owns the debtor (R-C9) and may log contacts.
    let mut collector =
        Clients::as_user(&stack, "li.na", &[Role::Collector], Some("east")).or_logs(&stack);
    let customer = scenario::create_customer(&mut collector, "褚十九")
        .await
        .or_logs(&stack);
    scenario::create_contract(
        &mut collector,
        &customer,
        "HT-LIMIT-19",
        &[("12000.00", "2026-03-10")],
    )
    .await
    .or_logs(&stack);
    // 36 days overdue and above 5,000 (the compact policy): a case opens (R-L1).
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
    let id = case.case_id.clone();
    let limitation = case.limitation.expect("the limitation");
    assert_eq!(limitation.default_known_on, "2026-03-11");

    // A collector's call answered by the debtor: a demand that reached them (R-D4), logged now.
    let mut dunning_client = collector.dunning.clone();
    let task = dunning_client
        .create_task(dunning::CreateTaskRequest {
            idempotency_key: format!("demand-{customer}"),
            customer_id: customer.clone(),
            channel: ContactChannel::PhoneCall as i32,
            due_at: "2026-04-16T10:00:00+08:00".into(),
            note: String::new(),
        })
        .await
        .or_logs(&stack)
        .into_inner()
        .task
        .expect("a task");
    let done = dunning_client
        .complete_task(dunning::CompleteTaskRequest {
            task_id: task.task_id,
            outcome: ContactOutcome::Answered as i32,
            note: "the debtor was asked to pay".to_owned(),
            ..Default::default()
        })
        .await
        .or_logs(&stack)
        .into_inner()
        .task
        .expect("the task");
    let shanghai = FixedOffset::east_opt(8 * 3600).expect("UTC+8");
    let today = Utc::now().with_timezone(&shanghai).date_naive();
    let expires: NaiveDate = today.checked_add_months(Months::new(36)).expect("a date");
    let restarted = eventually("the limitation restarted", EVENTUALLY, || async {
        Ok(scenario::legal_cases(&lawyer, &customer, None)
            .await?
            .into_iter()
            .next()
            .and_then(|c| c.limitation)
            .filter(|l| l.restarted_by_contact_log_seq == done.contact_log_seq))
    })
    .await
    .or_logs(&stack);
    assert_eq!(restarted.restarted_on, today.to_string());
    assert_eq!(restarted.expires_on, expires.to_string());

    // Outside the window (91 days left) nothing; entering it (88 days) the warning; a day
    // later nothing more.
    let day = |left: u64| {
        expires
            .checked_sub_days(Days::new(left))
            .expect("a date")
            .to_string()
    };
    for left in [91, 88, 87] {
        scenario::run_cycle(&mut admin, &day(left))
            .await
            .or_logs(&stack);
    }
    let seen = eventually("legal saw the last cycle", EVENTUALLY, || async {
        Ok(scenario::legal_cases(&lawyer, &customer, None)
            .await?
            .into_iter()
            .next()
            .filter(|c| c.limitation.as_ref().is_some_and(|l| l.days_left == 87)))
    })
    .await
    .or_logs(&stack);
    let warned = seen
        .events
        .iter()
        .filter(|e| e.kind == "limitation_expiring")
        .count();
    assert_eq!(warned, 1, "{:?}", seen.events);
    let warnings = on_legal_topic::<events::LimitationPeriodExpiring>(
        &stack,
        1,
        Duration::from_secs(3),
        |e| e.case_id == id,
    )
    .await;
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0].expires_on, expires.to_string());
    assert_eq!(warnings[0].days_left, 88);
    assert_eq!(warnings[0].business_date, day(88));

    // ListCases: within 90 days it is there, within 30 it is not.
    for (within, expected) in [(90, true), (30, false)] {
        let listed = lawyer
            .legal
            .clone()
            .list_cases(legal::ListCasesRequest {
                customer_id: customer.clone(),
                limitation_expires_within_days: within,
                ..Default::default()
            })
            .await
            .or_logs(&stack)
            .into_inner()
            .cases;
        assert_eq!(
            listed.iter().any(|c| c.case_id == id),
            expected,
            "within {within} days"
        );
    }
    assert_eq!(
        stack.stop(|_| {}),
        Vec::<String>::new(),
        "services that did not shut down gracefully"
    );
}
