//! Late fees, interest and collection costs are owed items (issue 12 item 3): the daily cycle
//! books the late fee per receivable (R-C4); a payment settles costs, then interest and late
//! fee, then principal (R-P11, arts. 560–561), payments' proposal equal to contracts' booking;
//! paying the principal amount alone leaves the rest owed and the item overdue (R-D12); only
//! a waiver approved by someone other than its proposer reduces them (R-D6); a legal cost is
//! booked against the debtor by event from legal.

use std::collections::HashMap;

use prost::Message as _;
use rdkafka::Message as _;
use rdkafka::consumer::{Consumer, StreamConsumer};

use devstack::clients::{Clients, eventually};
use devstack::scenario::{self, bank_csv, open_amount};
use kit::auth::Role;
use proto::contracts::v1 as contracts;
use proto::events::v1 as events;
use proto::legal::v1 as legal;
use proto::types::v1::{Component, CostKind};

use crate::helpers::{EVENTUALLY, OrLogs, caught_up, start};
use crate::operator_cli::{collectctl, text};

const POLICY: &str =
    r#"{"name": "1 per mille a day", "accrual": {"kind": "flat_daily", "daily_rate": "1‰"}}"#;

fn amount(m: Option<&proto::types::v1::Money>) -> &str {
    m.map_or("", |m| m.amount.as_str())
}

fn owed(r: &contracts::Receivable) -> (&str, &str, &str, &str, &str) {
    let o = r.owed.as_ref();
    (
        amount(o.and_then(|o| o.principal.as_ref())),
        amount(o.and_then(|o| o.late_fee.as_ref())),
        amount(o.and_then(|o| o.interest.as_ref())),
        amount(o.and_then(|o| o.costs.as_ref())),
        amount(o.and_then(|o| o.total.as_ref())),
    )
}

pub(crate) fn parts(parts: &[proto::types::v1::ComponentAmount]) -> Vec<(i32, String)> {
    parts
        .iter()
        .map(|p| (p.component, amount(p.amount.as_ref()).to_owned()))
        .collect()
}

/// A consumer of payments' and contracts' topics from the beginning.
pub(crate) fn listen(stack: &devstack::Stack) -> StreamConsumer {
    let consumer: StreamConsumer =
        kit::kafka::consumer(&stack.kafka, &format!("e2e-owed-{}", uuid::Uuid::new_v4()))
            .or_logs(stack);
    let topics = [kit::events::PAYMENTS, kit::events::CONTRACTS]
        .map(|t| format!("{}{t}", stack.topic_prefix));
    consumer.subscribe(&[&topics[0], &topics[1]]).or_logs(stack);
    consumer
}

/// The proposal and the booking of every allocation to `receivable_id`, by allocation id,
/// once `n` bookings were seen.
pub(crate) async fn allocations_of(
    consumer: &StreamConsumer,
    receivable_id: &str,
    n: usize,
) -> HashMap<
    String,
    (
        Option<events::PaymentAllocated>,
        Option<events::AllocationApplied>,
    ),
> {
    let mut seen: HashMap<String, (Option<_>, Option<_>)> = HashMap::new();
    let proposed = kit::events::type_name::<events::PaymentAllocated>();
    let applied = kit::events::type_name::<events::AllocationApplied>();
    tokio::time::timeout(EVENTUALLY, async {
        // Both halves: the proposal (payments' topic) and the booking (contracts') arrive on
        // different topics, in no order between them.
        while seen
            .values()
            .filter(|(a, b)| a.is_some() && b.is_some())
            .count()
            < n
        {
            let message = consumer.recv().await.expect("consume");
            let Ok(envelope) = events::Envelope::decode(message.payload().unwrap_or_default())
            else {
                continue;
            };
            if envelope.event_type == proposed {
                let e = events::PaymentAllocated::decode(envelope.payload.as_slice())
                    .expect("PaymentAllocated");
                if e.receivable_id == receivable_id {
                    let key = e.allocation_id.clone();
                    seen.entry(key).or_default().0 = Some(e);
                }
            } else if envelope.event_type == applied {
                let e = events::AllocationApplied::decode(envelope.payload.as_slice())
                    .expect("AllocationApplied");
                if e.receivable_id == receivable_id && !e.repeat {
                    let key = e.allocation_id.clone();
                    seen.entry(key).or_default().1 = Some(e);
                }
            }
        }
    })
    .await
    .expect("the allocations' events");
    seen
}

/// Waits until contracts published an event of type `T` about `receivable_id` and payments'
/// read model has taken everything published so far.
async fn published_and_followed<T: prost::Name>(
    stack: &devstack::Stack,
    consumer: &StreamConsumer,
    receivable_id: &str,
) {
    let wanted = kit::events::type_name::<T>();
    tokio::time::timeout(EVENTUALLY, async {
        loop {
            let message = consumer.recv().await.expect("consume");
            let Ok(envelope) = events::Envelope::decode(message.payload().unwrap_or_default())
            else {
                continue;
            };
            if envelope.event_type == wanted
                && String::from_utf8_lossy(&envelope.payload).contains(receivable_id)
            {
                return;
            }
        }
    })
    .await
    .expect("the event published");
    caught_up(stack, "payments", kit::events::CONTRACTS)
        .await
        .or_logs(stack);
}

async fn receivable(clients: &mut Clients, contract_id: &str) -> contracts::Receivable {
    scenario::receivables(clients, contract_id)
        .await
        .expect("ListReceivables")
        .remove(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_late_fee_is_paid_first_stays_owed_and_only_another_persons_waiver_reduces_it() {
    let (stack, mut admin) = start().await;
    let consumer = listen(&stack);
    let mut ada =
        Clients::as_user(&stack, "sup-ada", &[Role::Supervisor], Some("team-a")).or_logs(&stack);
    let mut bo =
        Clients::as_user(&stack, "sup-bo", &[Role::Supervisor], Some("team-a")).or_logs(&stack);
    let customer = scenario::create_customer(&mut ada, "吴九")
        .await
        .or_logs(&stack);
    let contract = scenario::create_contract_with_policy(
        &mut ada,
        &customer,
        "HT-OWED-1",
        &[("10000.00", "2026-03-10")],
        POLICY,
    )
    .await
    .or_logs(&stack);
    let id = contract.contract_id.clone();

    // R-C4: 10 days at 1‰ of 10000.00 = 100.00, booked as owed on the item.
    scenario::run_cycle(&mut admin, "2026-03-20")
        .await
        .or_logs(&stack);
    let r = receivable(&mut ada, &id).await;
    assert_eq!(owed(&r), ("10000.00", "100.00", "0.00", "0.00", "10100.00"));
    published_and_followed::<events::ReceivableOverdue>(&stack, &consumer, &r.receivable_id).await;

    // R-P11: 10000.00 paid on 21 March settles the late fee first, then 9900.00 principal;
    // payments proposed exactly what contracts booked.
    let file = bank_csv(&[[
        "2026-03-21",
        "10000.00",
        "CNY",
        "吴九",
        "6222020000008888",
        "HT-OWED-1/1",
    ]]);
    scenario::ingest(&mut admin, "owed-1.csv", file)
        .await
        .or_logs(&stack);
    let seen = allocations_of(&consumer, &r.receivable_id, 1).await;
    let (proposal, booking) = seen.values().next().expect("one allocation");
    let (proposal, booking) = (
        proposal.as_ref().expect("the proposal"),
        booking.as_ref().expect("the booking"),
    );
    let expected = vec![
        (Component::LateFee as i32, "100.00".to_owned()),
        (Component::Principal as i32, "9900.00".to_owned()),
    ];
    assert_eq!(
        parts(&proposal.parts),
        expected,
        "payments' proposal\n{}",
        stack.log_tails(60)
    );
    assert_eq!(parts(&booking.parts), expected, "contracts' booking");
    assert!(!booking.differs_from_proposal);
    assert_eq!(
        booking.basis,
        proto::types::v1::AllocationBasis::Statutory as i32
    );
    assert!(!booking.paid_in_full, "100.00 of principal is still owed");
    assert_eq!(amount(booking.open_amount_after.as_ref()), "100.00");

    // R-D12: the item is still owed and overdue; the fee runs on on the 100.00 left from the
    // day of payment (21-25 March: 5 × 0.10).
    scenario::run_cycle(&mut admin, "2026-03-25")
        .await
        .or_logs(&stack);
    let r = receivable(&mut ada, &id).await;
    assert_eq!(open_amount(&r), "100.00");
    assert_eq!(amount(r.late_fee.as_ref()), "100.50", "accrued in all");
    assert_eq!(owed(&r), ("100.00", "0.50", "0.00", "0.00", "100.50"));
    assert_eq!(r.status, contracts::ReceivableStatus::Overdue as i32);

    // R-D6: waivers. Principal is never waived; more than owed is refused naming the field.
    let propose = |component: Component, amount: &str| contracts::ProposeWaiverRequest {
        receivable_id: r.receivable_id.clone(),
        component: component as i32,
        amount: amount.to_owned(),
        reason: "hardship: job loss, documents on file".to_owned(),
    };
    let refused = ada
        .contracts
        .propose_waiver(propose(Component::Principal, "1.00"))
        .await
        .expect_err("principal");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert!(
        refused.message().contains("component"),
        "{}",
        refused.message()
    );
    let refused = ada
        .contracts
        .propose_waiver(propose(Component::LateFee, "0.51"))
        .await
        .expect_err("more than owed");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert!(
        refused.message().contains("amount"),
        "{}",
        refused.message()
    );

    let waiver = ada
        .contracts
        .propose_waiver(propose(Component::LateFee, "0.50"))
        .await
        .or_logs(&stack)
        .into_inner()
        .waiver
        .expect("waiver");
    assert_eq!(waiver.proposed_by, "sup-ada", "the authenticated proposer");
    // Proposing changes nothing owed.
    assert_eq!(owed(&receivable(&mut ada, &id).await).1, "0.50");
    // The proposer cannot approve (R-D6).
    let own = ada
        .contracts
        .approve_waiver(contracts::ApproveWaiverRequest {
            waiver_id: waiver.waiver_id.clone(),
            note: String::new(),
        })
        .await
        .expect_err("self-approval");
    assert_eq!(own.code(), tonic::Code::PermissionDenied);
    assert!(own.message().contains("R-D6"), "{}", own.message());
    // No bypass for admins (issue 14): an admin does not decide waivers, and a supervisor who
    // is an admin too cannot approve their own proposal.
    let by_admin = admin
        .contracts
        .approve_waiver(contracts::ApproveWaiverRequest {
            waiver_id: waiver.waiver_id.clone(),
            note: String::new(),
        })
        .await
        .expect_err("admins do not approve waivers");
    assert_eq!(by_admin.code(), tonic::Code::PermissionDenied);
    let mut root = Clients::as_user(
        &stack,
        "root",
        &[Role::Supervisor, Role::Admin],
        Some("team-a"),
    )
    .or_logs(&stack);
    let roots = root
        .contracts
        .propose_waiver(propose(Component::LateFee, "0.50"))
        .await
        .or_logs(&stack)
        .into_inner()
        .waiver
        .expect("waiver");
    let self_approved = root
        .contracts
        .approve_waiver(contracts::ApproveWaiverRequest {
            waiver_id: roots.waiver_id.clone(),
            note: String::new(),
        })
        .await
        .expect_err("self-approval, also as an admin");
    assert_eq!(self_approved.code(), tonic::Code::PermissionDenied);
    assert!(
        self_approved.message().contains("R-D6"),
        "{}",
        self_approved.message()
    );
    // Another supervisor rejects it (it leaves the list of open waivers below).
    bo.contracts
        .reject_waiver(contracts::RejectWaiverRequest {
            waiver_id: roots.waiver_id.clone(),
            reason: "one waiver per item".to_owned(),
        })
        .await
        .or_logs(&stack);
    let approved = bo
        .contracts
        .approve_waiver(contracts::ApproveWaiverRequest {
            waiver_id: waiver.waiver_id.clone(),
            note: "approved per hardship policy".to_owned(),
        })
        .await
        .or_logs(&stack)
        .into_inner();
    let decided = approved.waiver.expect("waiver");
    assert_eq!(
        (decided.decided_by.as_str(), decided.status),
        ("sup-bo", contracts::WaiverStatus::Approved as i32)
    );
    assert_eq!(
        amount(approved.owed_after.as_ref().and_then(|o| o.total.as_ref())),
        "100.00"
    );
    let again = bo
        .contracts
        .approve_waiver(contracts::ApproveWaiverRequest {
            waiver_id: waiver.waiver_id.clone(),
            note: String::new(),
        })
        .await
        .expect_err("decided");
    assert_eq!(again.code(), tonic::Code::FailedPrecondition);
    let r = receivable(&mut ada, &id).await;
    assert_eq!(owed(&r), ("100.00", "0.00", "0.00", "0.00", "100.00"));
    let listed = bo
        .contracts
        .list_waivers(contracts::ListWaiversRequest {
            customer_id: customer.clone(),
            ..Default::default()
        })
        .await
        .or_logs(&stack)
        .into_inner()
        .waivers;
    assert_eq!(listed.len(), 2);
    let approved_one = listed
        .iter()
        .find(|w| w.waiver_id == waiver.waiver_id)
        .expect("the approved waiver");
    assert_eq!(approved_one.decided_by, "sup-bo");
    let token = stack
        .auth
        .token("sup-bo", &[Role::Supervisor], Some("team-a"))
        .or_logs(&stack);
    let out = collectctl(
        &stack,
        Some(&token),
        &["waivers", "list", "--customer", &customer],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(
        shown.contains("approved")
            && shown.contains("0.50 CNY of late fee")
            && shown.contains("sup-bo"),
        "{shown}"
    );

    // The statement shows what is owed by component.
    let statement = ada
        .contracts
        .get_statement(contracts::GetStatementRequest {
            customer_id: customer.clone(),
            ..Default::default()
        })
        .await
        .or_logs(&stack)
        .into_inner()
        .statement
        .expect("statement");
    let item = &statement.contracts[0].items[0];
    assert_eq!(
        (
            amount(item.open.as_ref()),
            amount(item.late_fee.as_ref()),
            amount(item.owed.as_ref())
        ),
        ("100.00", "0.00", "100.00")
    );

    // Payments' read model follows the waiver: 100.00 settles the item in full.
    let file = bank_csv(&[[
        "2026-03-26",
        "100.00",
        "CNY",
        "吴九",
        "6222020000008888",
        "HT-OWED-1/1",
    ]]);
    scenario::ingest(&mut admin, "owed-2.csv", file)
        .await
        .or_logs(&stack);
    eventually("the item paid in full", EVENTUALLY, || async {
        let mut c = ada.clone();
        let r = receivable(&mut c, &id).await;
        Ok((r.status == contracts::ReceivableStatus::Paid as i32).then_some(r))
    })
    .await
    .or_logs(&stack);
    assert!(
        scenario::open_exceptions(&admin)
            .await
            .or_logs(&stack)
            .is_empty(),
        "no payment left unapplied"
    );
    assert_eq!(
        stack.stop(|_| {}),
        Vec::<String>::new(),
        "services that did not shut down gracefully"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_legal_cost_is_owed_by_the_debtor_and_paid_before_the_principal() {
    let (stack, mut admin) = start().await;
    let consumer = listen(&stack);
    let customer = scenario::create_customer(&mut admin, "郑十二")
        .await
        .or_logs(&stack);
    let contract = scenario::create_contract(
        &mut admin,
        &customer,
        "HT-COST-1",
        &[("8000.00", "2026-03-10")],
    )
    .await
    .or_logs(&stack);
    let id = contract.contract_id.clone();
    let receivable_id = contract.receivables[0].receivable_id.clone();

    // 36 days overdue and above the minimum: dunning escalates, legal opens a case.
    scenario::run_cycle(&mut admin, "2026-04-15")
        .await
        .or_logs(&stack);
    let case = eventually("a legal case", EVENTUALLY, || async {
        Ok(scenario::legal_cases(&admin, &customer, None)
            .await?
            .into_iter()
            .next())
    })
    .await
    .or_logs(&stack);

    // The legal department records the court fee; an unknown kind is refused by name.
    let record = |kind: CostKind, key: &str| legal::RecordCaseCostRequest {
        case_id: case.case_id.clone(),
        kind: kind as i32,
        amount: "500.00".to_owned(),
        incurred_on: "2026-04-16".to_owned(),
        description: "filing fee, 某某区人民法院".to_owned(),
        receivable_id: String::new(),
        idempotency_key: key.to_owned(),
    };
    let refused = admin
        .legal
        .record_case_cost(record(CostKind::Unspecified, "fee-0"))
        .await
        .expect_err("no kind");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert!(refused.message().contains("kind"), "{}", refused.message());
    let recorded = admin
        .legal
        .record_case_cost(record(CostKind::CourtFee, "fee-1"))
        .await
        .or_logs(&stack)
        .into_inner();
    assert_eq!(recorded.receivable_id, receivable_id);
    // The same key again records nothing more.
    let repeat = admin
        .legal
        .record_case_cost(record(CostKind::CourtFee, "fee-1"))
        .await
        .or_logs(&stack)
        .into_inner();
    assert!(repeat.repeat && repeat.cost_id == recorded.cost_id);

    // R-D12: contracts books it against the debtor, once.
    let r = eventually("the cost booked", EVENTUALLY, || async {
        let mut c = admin.clone();
        let r = receivable(&mut c, &id).await;
        Ok((owed(&r).3 == "500.00").then_some(r))
    })
    .await
    .or_logs(&stack);
    assert_eq!(owed(&r), ("8000.00", "0.00", "0.00", "500.00", "8500.00"));
    assert_eq!(amount(r.costs.as_ref()), "500.00");
    published_and_followed::<events::CostBooked>(&stack, &consumer, &receivable_id).await;

    // R-P11: costs of collection come first: 8000.00 leaves 500.00 of principal owed.
    let file = bank_csv(&[[
        "2026-04-20",
        "8000.00",
        "CNY",
        "郑十二",
        "6222020000009999",
        "HT-COST-1/1",
    ]]);
    scenario::ingest(&mut admin, "cost.csv", file)
        .await
        .or_logs(&stack);
    let seen = allocations_of(&consumer, &receivable_id, 1).await;
    let (proposal, booking) = seen.values().next().expect("one allocation");
    let expected = vec![
        (Component::Costs as i32, "500.00".to_owned()),
        (Component::Principal as i32, "7500.00".to_owned()),
    ];
    assert_eq!(parts(&proposal.as_ref().expect("proposal").parts), expected);
    assert_eq!(parts(&booking.as_ref().expect("booking").parts), expected);
    let r = receivable(&mut admin, &id).await;
    assert_eq!(owed(&r), ("500.00", "0.00", "0.00", "0.00", "500.00"));
    assert_eq!(
        stack.stop(|_| {}),
        Vec::<String>::new(),
        "services that did not shut down gracefully"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_notice_fee_from_dunning_is_owed_once_per_notice_and_paid_first() {
    let (stack, mut admin) = crate::helpers::start_with(vec![(
        "DUNNING_POLICY".into(),
        crate::helpers::policy_file("ladder-with-fee.json"),
    )])
    .await;
    let consumer = listen(&stack);
    let customer = scenario::create_customer(&mut admin, "卫十四")
        .await
        .or_logs(&stack);
    let contract = scenario::create_contract(
        &mut admin,
        &customer,
        "HT-NOTICE-1",
        &[("1000.00", "2026-03-10")],
    )
    .await
    .or_logs(&stack);
    let id = contract.contract_id.clone();
    let receivable_id = contract.receivables[0].receivable_id.clone();

    // Ten days overdue: dunning's policy takes the written notice, whose fee is the debtor's
    // to bear (R-D3, R-D12), booked by contracts from dunning's event.
    scenario::run_cycle(&mut admin, "2026-03-20")
        .await
        .or_logs(&stack);
    let r = eventually("the notice fee booked", EVENTUALLY, || async {
        let mut c = admin.clone();
        let r = receivable(&mut c, &id).await;
        Ok((owed(&r).3 == "20.00").then_some(r))
    })
    .await
    .or_logs(&stack);
    assert_eq!(owed(&r), ("1000.00", "0.00", "0.00", "20.00", "1020.00"));
    published_and_followed::<events::CostBooked>(&stack, &consumer, &receivable_id).await;

    // The next day's cycle sends no new notice and charges nothing more.
    scenario::run_cycle(&mut admin, "2026-03-21")
        .await
        .or_logs(&stack);
    caught_up(&stack, "dunning", kit::events::CONTRACTS)
        .await
        .or_logs(&stack);
    caught_up(&stack, "contracts", kit::events::DUNNING)
        .await
        .or_logs(&stack);
    assert_eq!(owed(&receivable(&mut admin, &id).await).3, "20.00");

    // R-P11: the cost is paid before the principal.
    let file = bank_csv(&[[
        "2026-03-22",
        "1020.00",
        "CNY",
        "卫十四",
        "6222020000001414",
        "HT-NOTICE-1/1",
    ]]);
    scenario::ingest(&mut admin, "notice.csv", file)
        .await
        .or_logs(&stack);
    let seen = allocations_of(&consumer, &receivable_id, 1).await;
    let (proposal, booking) = seen.values().next().expect("one allocation");
    let expected = vec![
        (Component::Costs as i32, "20.00".to_owned()),
        (Component::Principal as i32, "1000.00".to_owned()),
    ];
    assert_eq!(parts(&proposal.as_ref().expect("proposal").parts), expected);
    let booking = booking.as_ref().expect("booking");
    assert_eq!(parts(&booking.parts), expected);
    assert!(booking.paid_in_full);
    assert_eq!(
        stack.stop(|_| {}),
        Vec::<String>::new(),
        "services that did not shut down gracefully"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_contract_that_agreed_principal_first_is_paid_in_that_order() {
    use proto::types::v1::{ComponentOrder, ComponentRank};
    let (stack, mut admin) = start().await;
    let consumer = listen(&stack);
    let customer = scenario::create_customer(&mut admin, "褚十五")
        .await
        .or_logs(&stack);
    let rank = |c: &[Component]| ComponentRank {
        components: c.iter().map(|c| *c as i32).collect(),
    };
    let request = |order: ComponentOrder| contracts::CreateContractRequest {
        idempotency_key: "contract:HT-AGREED-1".into(),
        customer_id: customer.clone(),
        contract_no: "HT-AGREED-1".into(),
        currency: "CNY".into(),
        installments: vec![contracts::Installment {
            amount: "10000.00".into(),
            due_date: "2026-03-10".into(),
            ..Default::default()
        }],
        late_fee_policy: POLICY.into(),
        escrow_account: scenario::ESCROW_ACCOUNT.into(),
        allocation_order: Some(order),
        ..Default::default()
    };
    // An order that leaves a component out is refused naming the field.
    let refused = admin
        .contracts
        .create_contract(request(ComponentOrder {
            ranks: vec![rank(&[Component::Principal]), rank(&[Component::Costs])],
        }))
        .await
        .expect_err("interest and late fee missing");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert!(
        refused.message().contains("allocation_order"),
        "{}",
        refused.message()
    );
    // R-P11: the parties agreed principal first, then costs, then interest and late fee.
    let agreed = ComponentOrder {
        ranks: vec![
            rank(&[Component::Principal]),
            rank(&[Component::Costs]),
            rank(&[Component::Interest, Component::LateFee]),
        ],
    };
    let contract = admin
        .contracts
        .create_contract(request(agreed.clone()))
        .await
        .or_logs(&stack)
        .into_inner()
        .contract
        .expect("contract");
    assert_eq!(contract.allocation_order.as_ref(), Some(&agreed));
    let id = contract.contract_id.clone();
    let receivable_id = contract.receivables[0].receivable_id.clone();

    scenario::run_cycle(&mut admin, "2026-03-20")
        .await
        .or_logs(&stack);
    published_and_followed::<events::ReceivableOverdue>(&stack, &consumer, &receivable_id).await;
    let file = bank_csv(&[[
        "2026-03-21",
        "10000.00",
        "CNY",
        "褚十五",
        "6222020000001515",
        "HT-AGREED-1/1",
    ]]);
    scenario::ingest(&mut admin, "agreed.csv", file)
        .await
        .or_logs(&stack);
    let seen = allocations_of(&consumer, &receivable_id, 1).await;
    let (proposal, booking) = seen.values().next().expect("one allocation");
    let booking = booking.as_ref().expect("booking");
    let expected = vec![(Component::Principal as i32, "10000.00".to_owned())];
    assert_eq!(parts(&proposal.as_ref().expect("proposal").parts), expected);
    assert_eq!(parts(&booking.parts), expected);
    assert_eq!(
        booking.basis,
        proto::types::v1::AllocationBasis::Agreed as i32,
        "the order used is recorded"
    );
    assert!(!booking.differs_from_proposal);
    // The late fee stays owed (R-D12).
    let r = receivable(&mut admin, &id).await;
    assert_eq!(owed(&r), ("0.00", "100.00", "0.00", "0.00", "100.00"));
    assert_eq!(
        stack.stop(|_| {}),
        Vec::<String>::new(),
        "services that did not shut down gracefully"
    );
}
