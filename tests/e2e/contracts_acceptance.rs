//! The acceptance scenario of issue 12 ("Contracts: the whole of what is owed"), end to end on
//! one customer: a unit billed for three months (R-C2), one month paid late: the late fee
//! accrues at 1‰ a day (R-C4); the later payment pays the fee before the principal (R-P11),
//! payments' proposal equal to contracts' booking; the statement shows the fee; an amendment
//! approved by its proposer is refused (R-C8); a write-off within tolerance closes the last
//! month (R-P12); a refund needs two people (R-P9); a held customer cannot sign (R-L5).

use chrono::{Days, NaiveDate};

use devstack::clients::{Clients, eventually};
use devstack::scenario::{self, bank_csv, open_amount};
use kit::auth::Role;
use proto::contracts::v1 as contracts;
use proto::payments::v1 as payments;
use proto::types::v1::{ChargeType, Component, Money};

use crate::helpers::{EVENTUALLY, OrLogs, start};
use crate::owed_items::{allocations_of, listen, parts};

const POLICY: &str =
    r#"{"name": "1 per mille a day", "accrual": {"kind": "flat_daily", "daily_rate": "1‰"}}"#;
const PAYER: &str = "6222 0230 0000 1212";
const PAYER_COMPACT: &str = "6222023000001212";
const NAME: &str = "欧阳明";

fn amount(m: Option<&Money>) -> &str {
    m.map_or("", |m| m.amount.as_str())
}

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a date")
}

fn plus(date: NaiveDate, days: u64) -> String {
    date.checked_add_days(Days::new(days))
        .expect("a date")
        .to_string()
}

/// The contract's billed management fees, by due date.
async fn billed_fees(clients: &mut Clients, contract_id: &str) -> Vec<contracts::Receivable> {
    let mut fees: Vec<_> = scenario::receivables(clients, contract_id)
        .await
        .expect("ListReceivables")
        .into_iter()
        .filter(|r| r.charge_type == ChargeType::ManagementFee as i32)
        .collect();
    fees.sort_by(|a, b| a.due_date.cmp(&b.due_date));
    fees
}

async fn receivable(clients: &mut Clients, contract_id: &str, id: &str) -> contracts::Receivable {
    scenario::receivables(clients, contract_id)
        .await
        .expect("ListReceivables")
        .into_iter()
        .find(|r| r.receivable_id == id)
        .expect("the receivable")
}

async fn pay(
    admin: &mut Clients,
    stack: &devstack::Stack,
    date: &str,
    amount: &str,
    reference: &str,
) {
    scenario::ingest(
        admin,
        &format!("acceptance-{date}-{amount}.csv"),
        bank_csv(&[[date, amount, "CNY", NAME, PAYER_COMPACT, reference]]),
    )
    .await
    .or_logs(stack);
}

/// Waits until receivable `id` owes nothing.
async fn settled(admin: &Clients, stack: &devstack::Stack, contract_id: &str, id: &str) {
    eventually(&format!("receivable {id} settled"), EVENTUALLY, || {
        let (mut admin, contract_id, id) = (admin.clone(), contract_id.to_owned(), id.to_owned());
        async move {
            let r = receivable(&mut admin, &contract_id, &id).await;
            Ok((r.status == contracts::ReceivableStatus::Paid as i32).then_some(()))
        }
    })
    .await
    .or_logs(stack);
}

#[tokio::test(flavor = "multi_thread")]
#[allow(clippy::too_many_lines)]
async fn a_billed_unit_paid_late_pays_its_fee_first_and_every_decision_takes_two_people() {
    let (stack, mut admin) = start().await;
    let consumer = listen(&stack);
    let mut ada =
        Clients::as_user(&stack, "sup-ada", &[Role::Supervisor], Some("team-a")).or_logs(&stack);
    let mut bo =
        Clients::as_user(&stack, "sup-bo", &[Role::Supervisor], Some("team-a")).or_logs(&stack);
    let mut cashier =
        Clients::as_user(&stack, "cashier-li", &[Role::Cashier], None).or_logs(&stack);

    // Signed by a supervisor of team A: the customer is theirs (R-C9).
    let customer = scenario::create_customer_with_accounts(&mut ada, NAME, &[PAYER])
        .await
        .or_logs(&stack);
    // The handover fee opens the property-management contract, with 1‰ a day late (R-C4).
    let contract = scenario::create_contract_with_policy(
        &mut ada,
        &customer,
        "PM-ACC-1",
        &[("300.00", "2026-01-10")],
        POLICY,
    )
    .await
    .or_logs(&stack);
    let id = contract.contract_id.clone();

    // The customer pays 350.00 for the 300.00 handover: 50.00 is more than everything open.
    let ingested = scenario::ingest(
        &mut admin,
        "acceptance-handover.csv",
        bank_csv(&[[
            "2026-01-10",
            "350.00",
            "CNY",
            NAME,
            PAYER_COMPACT,
            "PM-ACC-1",
        ]]),
    )
    .await
    .or_logs(&stack);
    let overpayment = ingested.payment_ids[0].clone();
    let surplus = eventually("the surplus is UNAPPLIED_SURPLUS", EVENTUALLY, || async {
        let open = scenario::open_exceptions(&admin).await?;
        Ok(open
            .into_iter()
            .find(|e| e.payment_id == overpayment && e.kind == "UNAPPLIED_SURPLUS"))
    })
    .await
    .or_logs(&stack);
    assert!(surplus.reason.contains("50.00"), "{}", surplus.reason);

    // R-C2: a unit with a monthly management fee, billed for January to March.
    admin
        .contracts
        .create_unit(contracts::CreateUnitRequest {
            idempotency_key: "unit:acc-8-801".into(),
            code: "8-801".into(),
            project: "Acceptance".into(),
            segment: contracts::UnitSegment::Residential as i32,
            occupancy: contracts::UnitOccupancy::Occupied as i32,
            area_m2: "120.00".into(),
            contract_id: id.clone(),
            terms: vec![contracts::ChargeTerm {
                charge_type: ChargeType::ManagementFee as i32,
                monthly_amount: "300.00".into(),
                effective_from: "2026-01".into(),
                ..Default::default()
            }],
        })
        .await
        .or_logs(&stack);
    for period in ["2026-01", "2026-02", "2026-03"] {
        let run = admin
            .contracts
            .run_billing(contracts::RunBillingRequest {
                period: period.into(),
            })
            .await
            .or_logs(&stack)
            .into_inner();
        assert_eq!(run.created, 1, "period {period}: {run:?}");
    }
    let fees = billed_fees(&mut admin, &id).await;
    assert_eq!(fees.len(), 3, "three months billed: {fees:?}");
    assert!(
        fees.iter().all(|r| amount(r.amount.as_ref()) == "300.00"),
        "{fees:?}"
    );
    let (january, february, march) = (&fees[0], &fees[1], &fees[2]);
    let no = |r: &contracts::Receivable| format!("PM-ACC-1/{}", r.installment_no);

    // January is paid on its due date.
    pay(
        &mut admin,
        &stack,
        &january.due_date,
        "300.00",
        &no(january),
    )
    .await;
    settled(&admin, &stack, &id, &january.receivable_id).await;

    // February is paid late: ten days overdue at 1‰ a day of 300.00 is 3.00 owed on the item.
    let due = day(&february.due_date);
    scenario::run_cycle(&mut admin, &plus(due, 10))
        .await
        .or_logs(&stack);
    let r = receivable(&mut admin, &id, &february.receivable_id).await;
    let owed = r.owed.clone().unwrap_or_default();
    assert_eq!(
        (
            amount(owed.late_fee.as_ref()),
            amount(owed.principal.as_ref()),
            amount(owed.total.as_ref())
        ),
        ("3.00", "300.00", "303.00"),
        "R-C4: 10 days × 0.30"
    );

    // The statement shows the fee on February's item, and in the totals.
    let statement = admin
        .contracts
        .get_statement(contracts::GetStatementRequest {
            customer_id: customer.clone(),
            as_of: plus(due, 10),
            format: contracts::StatementFormat::Json as i32,
        })
        .await
        .or_logs(&stack)
        .into_inner()
        .statement
        .expect("statement");
    let item = statement
        .contracts
        .iter()
        .flat_map(|c| &c.items)
        .find(|i| i.receivable_id == february.receivable_id)
        .expect("February on the statement");
    assert_eq!(
        (
            amount(item.late_fee.as_ref()),
            amount(item.owed.as_ref()),
            item.days_overdue
        ),
        ("3.00", "303.00", 10)
    );
    assert_eq!(
        amount(statement.totals[0].late_fee.as_ref()),
        "3.00",
        "{:?}",
        statement.totals
    );
    assert_eq!(statement.late_fees_through, plus(due, 10));

    // R-P11: 303.00 the next day settles the fee before the principal; payments proposed
    // exactly what contracts booked.
    crate::helpers::caught_up(&stack, "payments", kit::events::CONTRACTS)
        .await
        .or_logs(&stack);
    pay(&mut admin, &stack, &plus(due, 11), "303.00", &no(february)).await;
    let seen = allocations_of(&consumer, &february.receivable_id, 1).await;
    let (proposal, booking) = seen.values().next().expect("one allocation");
    let (proposal, booking) = (
        proposal.as_ref().expect("payments' proposal"),
        booking.as_ref().expect("contracts' booking"),
    );
    let fee_first = vec![
        (Component::LateFee as i32, "3.00".to_owned()),
        (Component::Principal as i32, "300.00".to_owned()),
    ];
    assert_eq!(parts(&proposal.parts), fee_first, "payments' proposal");
    assert_eq!(parts(&booking.parts), fee_first, "contracts' booking");
    assert!(!booking.differs_from_proposal);
    assert!(booking.paid_in_full);
    settled(&admin, &stack, &id, &february.receivable_id).await;
    // Paid on the day after the last accrual: nothing more accrues on it.
    scenario::run_cycle(&mut admin, &plus(due, 20))
        .await
        .or_logs(&stack);
    let r = receivable(&mut admin, &id, &february.receivable_id).await;
    assert_eq!(
        (amount(r.late_fee.as_ref()), open_amount(&r)),
        ("3.00", "0.00")
    );

    // R-C8: March deferred by ten days; its proposer cannot approve it, another supervisor can.
    let proposed = ada
        .contracts
        .propose_amendment(contracts::ProposeAmendmentRequest {
            idempotency_key: "acceptance-defer-march".into(),
            contract_id: id.clone(),
            terms: Some(contracts::AmendmentTerms {
                kind: Some(contracts::amendment_terms::Kind::Deferral(
                    contracts::Deferral {
                        installment_nos: vec![march.installment_no],
                        by_days: 10,
                        ..Default::default()
                    },
                )),
            }),
            reason: "the owner is abroad until late April".into(),
        })
        .await
        .or_logs(&stack)
        .into_inner()
        .amendment
        .expect("amendment");
    let own = ada
        .contracts
        .approve_amendment(contracts::ApproveAmendmentRequest {
            amendment_id: proposed.amendment_id.clone(),
        })
        .await
        .expect_err("R-C8: not by its proposer");
    assert_eq!(own.code(), tonic::Code::PermissionDenied);
    assert!(own.message().contains("R-C8"), "{}", own.message());
    assert_eq!(
        receivable(&mut admin, &id, &march.receivable_id)
            .await
            .due_date,
        march.due_date,
        "nothing changed"
    );
    let approved = bo
        .contracts
        .approve_amendment(contracts::ApproveAmendmentRequest {
            amendment_id: proposed.amendment_id.clone(),
        })
        .await
        .or_logs(&stack)
        .into_inner()
        .amendment
        .expect("amendment");
    assert_eq!(approved.decided_by, "sup-bo");
    let deferred = receivable(&mut admin, &id, &march.receivable_id).await;
    assert!(
        day(&deferred.due_date) >= day(&march.due_date) + Days::new(10),
        "{} → {}",
        march.due_date,
        deferred.due_date
    );

    // R-P12: March paid 0.30 short on its new due date: written off by policy, closed.
    crate::helpers::caught_up(&stack, "payments", kit::events::CONTRACTS)
        .await
        .or_logs(&stack);
    pay(&mut admin, &stack, &deferred.due_date, "299.70", &no(march)).await;
    settled(&admin, &stack, &id, &march.receivable_id).await;
    let write_offs = cashier
        .contracts
        .list_write_offs(contracts::ListWriteOffsRequest {
            customer_id: customer.clone(),
            ..Default::default()
        })
        .await
        .or_logs(&stack)
        .into_inner()
        .write_offs;
    assert_eq!(write_offs.len(), 1, "{write_offs:?}");
    assert_eq!(
        (
            amount(write_offs[0].amount.as_ref()),
            write_offs[0].status,
            write_offs[0].decided_by.as_str()
        ),
        ("0.30", contracts::WriteOffStatus::Booked as i32, "policy")
    );

    // R-P9: the 50.00 surplus is refunded on the cashier's request and another's approval.
    let requested = cashier
        .payments
        .request_refund(payments::RequestRefundRequest {
            idempotency_key: "acceptance-refund".into(),
            payment_id: overpayment.clone(),
            amount: Some(Money {
                amount: "50.00".into(),
                currency: "CNY".into(),
            }),
            reason: "overpaid the handover fee".into(),
        })
        .await
        .or_logs(&stack)
        .into_inner()
        .refund
        .expect("refund");
    assert_eq!(requested.requested_by, "cashier-li");
    let own = cashier
        .payments
        .approve_refund(payments::ApproveRefundRequest {
            refund_id: requested.refund_id.clone(),
            note: String::new(),
        })
        .await
        .expect_err("R-P9: not by the requester");
    assert_eq!(own.code(), tonic::Code::PermissionDenied);
    assert!(own.message().contains("R-P9"), "{}", own.message());
    let booked = bo
        .payments
        .approve_refund(payments::ApproveRefundRequest {
            refund_id: requested.refund_id.clone(),
            note: "checked against the bank statement".into(),
        })
        .await
        .or_logs(&stack)
        .into_inner();
    let refund = booked.refund.expect("refund");
    assert_eq!(
        (refund.status, refund.decided_by.as_str()),
        (payments::RefundStatus::Approved as i32, "sup-bo")
    );
    assert_eq!(amount(booked.unapplied_left.as_ref()), "0.00");
    assert_eq!(
        booked.resolved_exception_ids,
        vec![surplus.exception_id.clone()]
    );

    // R-L5: a customer on credit hold cannot sign.
    ada.contracts
        .place_credit_hold(contracts::PlaceCreditHoldRequest {
            customer_id: customer.clone(),
            reason: "disputes every notice; review before new business".into(),
        })
        .await
        .or_logs(&stack);
    let refused =
        scenario::create_contract(&mut ada, &customer, "PM-ACC-2", &[("300.00", "2026-06-10")])
            .await
            .expect_err("on hold")
            .downcast::<tonic::Status>()
            .expect("a gRPC status");
    assert_eq!(refused.code(), tonic::Code::FailedPrecondition);
    assert!(
        refused.message().contains("credit hold"),
        "{}",
        refused.message()
    );
    assert_eq!(
        stack.stop(|_| {}),
        Vec::<String>::new(),
        "services that did not shut down gracefully"
    );
}
