//! Refunds of an unapplied surplus with separation of duties (R-P9, issue 12 item 8): a
//! customer overpays; the surplus stays unapplied as an UNAPPLIED_SURPLUS exception; cashier A
//! requests a refund and may not approve it; supervisor B approves it and it is booked and
//! published (RefundApproved on the payments topic, no account number in clear, R-O4); a
//! refund above what is left is refused naming `amount`; the last of the surplus refunded
//! resolves the exception; ListRefunds and `collectctl refunds list` show them.

use std::collections::HashMap;

use prost::Message as _;
use rdkafka::Message as _;
use rdkafka::consumer::{Consumer, StreamConsumer};

use devstack::clients::{Clients, eventually};
use devstack::scenario::{self, bank_csv};
use kit::auth::Role;
use proto::events::v1 as events;
use proto::payments::v1 as payments;
use proto::types::v1::Money;

use crate::helpers::{EVENTUALLY, OrLogs, start};
use crate::operator_cli::{collectctl, text};

const PAYER_ACCOUNT: &str = "6222 0210 0000 7301";
const PAYER_ACCOUNT_COMPACT: &str = "6222021000007301";

fn cny(amount: &str) -> Option<Money> {
    Some(Money {
        amount: amount.to_owned(),
        currency: "CNY".to_owned(),
    })
}

fn request(
    key: &str,
    payment_id: &str,
    amount: &str,
    reason: &str,
) -> payments::RequestRefundRequest {
    payments::RequestRefundRequest {
        idempotency_key: key.to_owned(),
        payment_id: payment_id.to_owned(),
        amount: cny(amount),
        reason: reason.to_owned(),
    }
}

fn amount(m: Option<&Money>) -> &str {
    m.map_or("", |m| m.amount.as_str())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_surplus_is_refunded_on_one_persons_request_and_anothers_approval_r_p9() {
    let (stack, mut clients) = start().await;
    let customer = scenario::create_customer_with_accounts(&mut clients, "韩梅", &[PAYER_ACCOUNT])
        .await
        .or_logs(&stack);
    scenario::create_contract(
        &mut clients,
        &customer,
        "HT-RF-1",
        &[("1000.00", "2026-03-10")],
    )
    .await
    .or_logs(&stack);
    // Listen to the payments topic from the start.
    let consumer: StreamConsumer = kit::kafka::consumer(
        &stack.kafka,
        &format!("e2e-refunds-{}", uuid::Uuid::new_v4()),
    )
    .or_logs(&stack);
    let topic = format!("{}{}", stack.topic_prefix, kit::events::PAYMENTS);
    consumer.subscribe(&[&topic]).or_logs(&stack);

    // The customer pays 1,500.00 for everything open (1,000.00): 500.00 stays unapplied.
    let ingested = scenario::ingest(
        &mut clients,
        "overpaid.csv",
        bank_csv(&[[
            "2026-03-09",
            "1500.00",
            "CNY",
            "韩梅",
            PAYER_ACCOUNT_COMPACT,
            "HT-RF-1",
        ]]),
    )
    .await
    .or_logs(&stack);
    let payment_id = ingested.payment_ids[0].clone();
    let surplus = eventually(
        "the surplus is flagged UNAPPLIED_SURPLUS",
        EVENTUALLY,
        || async {
            let open = scenario::open_exceptions(&clients).await?;
            Ok(open
                .into_iter()
                .find(|e| e.payment_id == payment_id && e.kind == "UNAPPLIED_SURPLUS"))
        },
    )
    .await
    .or_logs(&stack);
    assert!(surplus.reason.contains("500.00"), "{}", surplus.reason);

    let mut cashier_a =
        Clients::as_user(&stack, "cashier-a", &[Role::Cashier], None).or_logs(&stack);
    let mut cashier_c =
        Clients::as_user(&stack, "cashier-c", &[Role::Cashier], None).or_logs(&stack);
    let mut supervisor_b =
        Clients::as_user(&stack, "supervisor-b", &[Role::Supervisor], Some("east")).or_logs(&stack);
    let mut auditor = Clients::as_user(&stack, "auditor-1", &[Role::Auditor], None).or_logs(&stack);

    // Cashier A requests 300.00: the payer's account only masked.
    let first = cashier_a
        .payments
        .request_refund(request(
            "rf-1",
            &payment_id,
            "300.00",
            "overpaid; customer asked for it back",
        ))
        .await
        .or_logs(&stack)
        .into_inner();
    let refund = first.refund.clone().expect("refund");
    assert_eq!(refund.status, payments::RefundStatus::Requested as i32);
    assert_eq!(refund.requested_by, "cashier-a");
    assert_eq!(amount(refund.amount.as_ref()), "300.00");
    assert_eq!(amount(first.refundable_left.as_ref()), "200.00");
    assert!(refund.payer_account_masked.ends_with("7301"), "{refund:?}");
    assert!(
        !refund.payer_account_masked.contains("62220210"),
        "{refund:?}"
    );
    // The same request again (same key) is a repeat; the key with another request is not.
    let again = cashier_a
        .payments
        .request_refund(request(
            "rf-1",
            &payment_id,
            "300.00",
            "overpaid; customer asked for it back",
        ))
        .await
        .or_logs(&stack)
        .into_inner();
    assert_eq!(again.refund.expect("refund").refund_id, refund.refund_id);
    let reused = cashier_a
        .payments
        .request_refund(request("rf-1", &payment_id, "10.00", "another"))
        .await
        .expect_err("a key reused for another request is refused");
    assert_eq!(reused.code(), tonic::Code::FailedPrecondition, "{reused:?}");
    // While it waits, its 300.00 is reserved: 200.01 more is too much (R-P9 or not).
    let too_much = cashier_c
        .payments
        .request_refund(request("rf-x", &payment_id, "200.01", "more"))
        .await
        .expect_err("more than is left");
    assert_eq!(
        too_much.code(),
        tonic::Code::InvalidArgument,
        "{too_much:?}"
    );
    assert!(
        too_much.message().starts_with("amount:"),
        "{}",
        too_much.message()
    );

    // R-P9: A may not approve (or reject) their own request.
    let own = cashier_a
        .payments
        .approve_refund(payments::ApproveRefundRequest {
            refund_id: refund.refund_id.clone(),
            note: String::new(),
        })
        .await
        .expect_err("R-P9: the requester may not approve");
    assert_eq!(own.code(), tonic::Code::PermissionDenied, "{own:?}");
    assert!(own.message().contains("R-P9"), "{}", own.message());
    assert!(own.message().contains("cashier-a"), "{}", own.message());
    let own = cashier_a
        .payments
        .reject_refund(payments::RejectRefundRequest {
            refund_id: refund.refund_id.clone(),
            reason: "changed my mind".into(),
        })
        .await
        .expect_err("R-P9: the requester may not reject either (they cancel)");
    assert_eq!(own.code(), tonic::Code::PermissionDenied, "{own:?}");
    // An auditor reads refunds but decides nothing (the access table).
    let denied = auditor
        .payments
        .approve_refund(payments::ApproveRefundRequest {
            refund_id: refund.refund_id.clone(),
            note: String::new(),
        })
        .await
        .expect_err("auditors change nothing");
    assert_eq!(denied.code(), tonic::Code::PermissionDenied);

    // Supervisor B approves: booked, 200.00 stays unapplied, the exception stays open.
    let approved = supervisor_b
        .payments
        .approve_refund(payments::ApproveRefundRequest {
            refund_id: refund.refund_id.clone(),
            note: "checked the bank statement".into(),
        })
        .await
        .or_logs(&stack)
        .into_inner();
    let booked = approved.refund.expect("refund");
    assert_eq!(booked.status, payments::RefundStatus::Approved as i32);
    assert_eq!(
        (booked.requested_by.as_str(), booked.decided_by.as_str()),
        ("cashier-a", "supervisor-b")
    );
    assert!(!booked.decided_at.is_empty());
    assert_eq!(amount(approved.unapplied_left.as_ref()), "200.00");
    assert!(approved.resolved_exception_ids.is_empty());
    // Decided once: approving again is a precondition failure.
    let twice = cashier_c
        .payments
        .approve_refund(payments::ApproveRefundRequest {
            refund_id: refund.refund_id.clone(),
            note: String::new(),
        })
        .await
        .expect_err("already approved");
    assert_eq!(twice.code(), tonic::Code::FailedPrecondition, "{twice:?}");

    // A second refund above what is left (200.00) is refused naming `amount`.
    let over = cashier_a
        .payments
        .request_refund(request("rf-2", &payment_id, "200.01", "the rest"))
        .await
        .expect_err("more than the surplus left");
    assert_eq!(over.code(), tonic::Code::InvalidArgument, "{over:?}");
    assert!(over.message().starts_with("amount:"), "{}", over.message());
    assert!(over.message().contains("200.00"), "{}", over.message());

    // A request rejected by B (with a reason) releases its amount; one cancelled by its
    // requester too (and nobody else may cancel it).
    let rejected = cashier_a
        .payments
        .request_refund(request("rf-3", &payment_id, "150.00", "second thoughts"))
        .await
        .or_logs(&stack)
        .into_inner()
        .refund
        .expect("refund");
    let no_reason = supervisor_b
        .payments
        .reject_refund(payments::RejectRefundRequest {
            refund_id: rejected.refund_id.clone(),
            reason: " ".into(),
        })
        .await
        .expect_err("a rejection needs a reason");
    assert_eq!(no_reason.code(), tonic::Code::InvalidArgument);
    assert!(
        no_reason.message().starts_with("reason:"),
        "{}",
        no_reason.message()
    );
    let rejected = supervisor_b
        .payments
        .reject_refund(payments::RejectRefundRequest {
            refund_id: rejected.refund_id.clone(),
            reason: "the customer wants it held as credit".into(),
        })
        .await
        .or_logs(&stack)
        .into_inner()
        .refund
        .expect("refund");
    assert_eq!(rejected.status, payments::RefundStatus::Rejected as i32);
    let withdrawn = cashier_a
        .payments
        .request_refund(request("rf-4", &payment_id, "20.00", "typo"))
        .await
        .or_logs(&stack)
        .into_inner()
        .refund
        .expect("refund");
    let not_theirs = supervisor_b
        .payments
        .cancel_refund(payments::CancelRefundRequest {
            refund_id: withdrawn.refund_id.clone(),
            reason: String::new(),
        })
        .await
        .expect_err("only the requester cancels");
    assert_eq!(not_theirs.code(), tonic::Code::PermissionDenied);
    let withdrawn = cashier_a
        .payments
        .cancel_refund(payments::CancelRefundRequest {
            refund_id: withdrawn.refund_id.clone(),
            reason: "typo in the amount".into(),
        })
        .await
        .or_logs(&stack)
        .into_inner()
        .refund
        .expect("refund");
    assert_eq!(withdrawn.status, payments::RefundStatus::Cancelled as i32);

    // The rest (200.00), requested by A and approved by another cashier (R-P9 needs another
    // person, not another role): nothing is left, the exception is resolved as refunded.
    let rest = cashier_a
        .payments
        .request_refund(request(
            "rf-5",
            &payment_id,
            "200.00",
            "the rest of the surplus",
        ))
        .await
        .or_logs(&stack)
        .into_inner();
    assert_eq!(amount(rest.refundable_left.as_ref()), "0.00");
    let rest = rest.refund.expect("refund");
    let last = cashier_c
        .payments
        .approve_refund(payments::ApproveRefundRequest {
            refund_id: rest.refund_id.clone(),
            note: String::new(),
        })
        .await
        .or_logs(&stack)
        .into_inner();
    assert_eq!(amount(last.unapplied_left.as_ref()), "0.00");
    assert_eq!(
        last.resolved_exception_ids,
        std::slice::from_ref(&surplus.exception_id)
    );
    let open = scenario::open_exceptions(&clients).await.or_logs(&stack);
    assert!(
        !open.iter().any(|e| e.exception_id == surplus.exception_id),
        "the surplus exception is resolved: {open:?}"
    );
    let nothing_left = cashier_c
        .payments
        .request_refund(request("rf-6", &payment_id, "0.01", "one cent more"))
        .await
        .expect_err("nothing left");
    assert_eq!(nothing_left.code(), tonic::Code::InvalidArgument);

    // ListRefunds: by payment and status, paged.
    let page = auditor
        .payments
        .list_refunds(payments::ListRefundsRequest {
            status: payments::RefundStatus::Approved as i32,
            payment_id: payment_id.clone(),
            page_size: 1,
            page_token: String::new(),
        })
        .await
        .or_logs(&stack)
        .into_inner();
    assert_eq!(page.refunds.len(), 1);
    assert_eq!(page.refunds[0].refund_id, refund.refund_id);
    let next = auditor
        .payments
        .list_refunds(payments::ListRefundsRequest {
            status: payments::RefundStatus::Approved as i32,
            payment_id: payment_id.clone(),
            page_size: 1,
            page_token: page.next_page_token.clone(),
        })
        .await
        .or_logs(&stack)
        .into_inner();
    assert_eq!(next.refunds.len(), 1);
    assert_eq!(next.refunds[0].refund_id, rest.refund_id);
    assert!(next.next_page_token.is_empty());
    let all = auditor
        .payments
        .list_refunds(payments::ListRefundsRequest {
            payment_id: payment_id.clone(),
            ..Default::default()
        })
        .await
        .or_logs(&stack)
        .into_inner();
    let statuses: Vec<i32> = all.refunds.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [
            payments::RefundStatus::Approved as i32,
            payments::RefundStatus::Rejected as i32,
            payments::RefundStatus::Cancelled as i32,
            payments::RefundStatus::Approved as i32,
        ]
    );

    // Published: RefundRequested, RefundApproved (twice), RefundRejected (rejected and
    // cancelled), keyed by the customer, with the account only as index + masked (R-O4).
    let mut seen: HashMap<String, Vec<Vec<u8>>> = HashMap::new();
    let approved_type = kit::events::type_name::<events::RefundApproved>();
    let rejected_type = kit::events::type_name::<events::RefundRejected>();
    let requested_type = kit::events::type_name::<events::RefundRequested>();
    tokio::time::timeout(EVENTUALLY, async {
        while seen.get(&approved_type).map_or(0, Vec::len) < 2
            || seen.get(&rejected_type).map_or(0, Vec::len) < 2
            || seen.get(&requested_type).map_or(0, Vec::len) < 4
        {
            let message = consumer.recv().await.expect("consume");
            let payload = message.payload().unwrap_or_default();
            let Ok(envelope) = events::Envelope::decode(payload) else {
                continue;
            };
            if envelope.event_type.contains("Refund") {
                assert_eq!(envelope.aggregate_key, customer, "keyed by the customer");
                assert_eq!(
                    message.key().map(<[u8]>::to_vec),
                    Some(customer.as_bytes().to_vec())
                );
                let clear = String::from_utf8_lossy(payload);
                assert!(
                    !clear.contains(PAYER_ACCOUNT_COMPACT) && !clear.contains(PAYER_ACCOUNT),
                    "R-O4: an account number in clear in {}",
                    envelope.event_type
                );
                seen.entry(envelope.event_type.clone())
                    .or_default()
                    .push(envelope.payload);
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("refund events on {topic}: {:?}", seen.keys()));
    let first_approved =
        events::RefundApproved::decode(seen[&approved_type][0].as_slice()).or_logs(&stack);
    assert_eq!(first_approved.refund_id, refund.refund_id);
    assert_eq!(first_approved.customer_id, customer);
    assert_eq!(amount(first_approved.amount.as_ref()), "300.00");
    assert_eq!(
        (
            first_approved.requested_by.as_str(),
            first_approved.approved_by.as_str()
        ),
        ("cashier-a", "supervisor-b")
    );
    assert_eq!(amount(first_approved.unapplied_left.as_ref()), "200.00");
    assert!(first_approved.payer_account_masked.ends_with("7301"));
    assert!(!first_approved.payer_account_index.is_empty());
    assert_ne!(first_approved.payer_account_index, PAYER_ACCOUNT_COMPACT);

    // At rest: the refunds table holds the account only as index + masked (R-O4), and the
    // payment's refunded total is what was approved.
    let db = sqlx::PgPool::connect(&stack.database_urls["payments"])
        .await
        .or_logs(&stack);
    let (rows, leaked): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE r::text LIKE $1 OR r::text LIKE $2)
         FROM payments.refunds r",
    )
    .bind(format!("%{PAYER_ACCOUNT_COMPACT}%"))
    .bind(format!("%{PAYER_ACCOUNT}%"))
    .fetch_one(&db)
    .await
    .or_logs(&stack);
    assert_eq!((rows, leaked), (4, 0));
    let refunded: String = sqlx::query_scalar(
        "SELECT refunded::numeric(20, 2)::text FROM payments.payments WHERE id = $1::uuid",
    )
    .bind(&payment_id)
    .fetch_one(&db)
    .await
    .or_logs(&stack);
    assert_eq!(refunded, "500.00");
    db.close().await;

    // collectctl: the list for people, and the R-P9 refusal says what to do next.
    let token = stack
        .auth
        .token("cashier-a", &[Role::Cashier], None)
        .or_logs(&stack);
    let out = collectctl(
        &stack,
        Some(&token),
        &["refunds", "list", "--status", "approved"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listed = text(&out.stdout);
    assert!(listed.contains(&refund.refund_id), "{listed}");
    assert!(listed.contains(&rest.refund_id), "{listed}");
    assert!(listed.contains("supervisor-b"), "{listed}");
    assert!(!listed.contains(&rejected.refund_id), "{listed}");
    let out = collectctl(
        &stack,
        Some(&token),
        &[
            "refunds",
            "request",
            &payment_id,
            "--amount",
            "0.01",
            "--reason",
            "test",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("amount"),
        "{}",
        text(&out.stderr)
    );
    let fresh = cashier_c
        .payments
        .list_refunds(payments::ListRefundsRequest::default())
        .await
        .or_logs(&stack)
        .into_inner();
    assert_eq!(fresh.refunds.len(), 4, "a refused request records nothing");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_requester_cannot_approve_from_collectctl_and_is_told_whom_to_ask_r_p9() {
    let (stack, mut clients) = start().await;
    let payment_id = overpaid(&stack, &mut clients, "李明", "HT-RF-2", "800.00", "900.00").await;
    let clerk = stack
        .auth
        .token("clerk-7", &[Role::Cashier], None)
        .or_logs(&stack);
    let out = collectctl(
        &stack,
        Some(&clerk),
        &[
            "refunds",
            "request",
            &payment_id,
            "--amount",
            "100.00",
            "--currency",
            "CNY",
            "--reason",
            "overpaid",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let requested: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("JSON from --json");
    assert_eq!(requested["status"], "requested");
    assert_eq!(requested["amount"], "100.00");
    assert_eq!(requested["refundable_left"], "0.00");
    let refund_id = requested["refund_id"]
        .as_str()
        .expect("refund_id")
        .to_owned();
    // The same command again is recognised as a repeat (default idempotency key).
    let out = collectctl(
        &stack,
        Some(&clerk),
        &[
            "refunds",
            "request",
            &payment_id,
            "--amount",
            "100.00",
            "--currency",
            "CNY",
            "--reason",
            "overpaid",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let repeat: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(repeat["refund_id"], refund_id.as_str());

    let out = collectctl(&stack, Some(&clerk), &["refunds", "approve", &refund_id]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("R-P9"), "{err}");
    assert!(err.contains("ask another person"), "{err}");

    let boss = stack
        .auth
        .token("supervisor-9", &[Role::Supervisor], Some("east"))
        .or_logs(&stack);
    let out = collectctl(&stack, Some(&boss), &["refunds", "approve", &refund_id]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let approved = text(&out.stdout);
    assert!(approved.contains("approved and booked"), "{approved}");
    assert!(approved.contains("0.00 CNY stays unapplied"), "{approved}");
    assert!(approved.contains("resolved: refunded"), "{approved}");
    assert!(!approved.contains(PAYER_ACCOUNT_COMPACT), "{approved}");
}

/// Issue 16: a payment's decision moved beside it (`payment_decisions`). During a rollout a pod
/// of the release before still writes it on the payment row; this release reads it there when
/// `payment_decisions` has none, so the surplus of such a payment can still be refunded.
#[tokio::test(flavor = "multi_thread")]
async fn a_surplus_decided_by_the_release_before_is_still_refundable_r_p9() {
    let (stack, mut clients) = start().await;
    let payment_id = overpaid(
        &stack,
        &mut clients,
        "李雷",
        "HT-RF-OLD",
        "1000.00",
        "1500.00",
    )
    .await;

    // What a pod of the release before would have written: the decision on the payment row.
    let db = sqlx::PgPool::connect(&stack.database_urls["payments"])
        .await
        .or_logs(&stack);
    let id: uuid::Uuid = payment_id.parse().expect("payment id");
    let moved = sqlx::query(
        "WITH gone AS (DELETE FROM payments.payment_decisions WHERE payment_id = $1 RETURNING decision)
         UPDATE payments.payments SET decision = (SELECT decision::jsonb FROM gone) WHERE id = $1",
    )
    .bind(id)
    .execute(&db)
    .await
    .or_logs(&stack)
    .rows_affected();
    assert_eq!(moved, 1);
    let (in_table,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM payments.payment_decisions WHERE payment_id = $1")
            .bind(id)
            .fetch_one(&db)
            .await
            .or_logs(&stack);
    assert_eq!(in_table, 0);

    let mut cashier = Clients::as_user(&stack, "cashier-a", &[Role::Cashier], None).or_logs(&stack);
    let asked = cashier
        .payments
        .request_refund(request("rf-old", &payment_id, "100.00", "overpaid"))
        .await
        .or_logs(&stack)
        .into_inner();
    assert_eq!(amount(asked.refundable_left.as_ref()), "400.00");
}

/// A customer with one installment of `owed` on contract `contract_no` pays `paid` from
/// [`PAYER_ACCOUNT`]: the payment's id, once payments flagged its surplus UNAPPLIED_SURPLUS.
async fn overpaid(
    stack: &devstack::stack::Stack,
    clients: &mut Clients,
    name: &str,
    contract_no: &str,
    owed: &str,
    paid: &str,
) -> String {
    let customer = scenario::create_customer_with_accounts(clients, name, &[PAYER_ACCOUNT])
        .await
        .or_logs(stack);
    scenario::create_contract(clients, &customer, contract_no, &[(owed, "2026-03-10")])
        .await
        .or_logs(stack);
    let ingested = scenario::ingest(
        clients,
        &format!("overpaid-{contract_no}.csv"),
        bank_csv(&[[
            "2026-03-09",
            paid,
            "CNY",
            name,
            PAYER_ACCOUNT_COMPACT,
            contract_no,
        ]]),
    )
    .await
    .or_logs(stack);
    let payment_id = ingested.payment_ids[0].clone();
    eventually(
        "the surplus is flagged UNAPPLIED_SURPLUS",
        EVENTUALLY,
        || async {
            let open = scenario::open_exceptions(clients).await?;
            Ok(open
                .into_iter()
                .find(|e| e.payment_id == payment_id && e.kind == "UNAPPLIED_SURPLUS"))
        },
    )
    .await
    .or_logs(stack);
    payment_id
}
