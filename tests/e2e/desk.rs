//! Issue 18 (R-P1, R-P3, R-P7): money from the finance desk and from instruments.
//!
//! - Cash at the desk: receipts numbered 1, 2, 3… per project and year with no gap, also when
//!   payments dies inside the transaction that took a number; sales staff cannot record cash;
//!   the same request again is a repeat; the payment is applied like a bank payment; a void
//!   needs a second person and keeps the number (a replacement takes the next); the day's cash
//!   count raises an exception when it differs, and the deposit's bank line is linked to the
//!   deposit, never booked as another payment.
//! - A cheque acknowledgment is not money (no payment, dunning goes on); its clearing line in
//!   an MT940 makes it a payment with a receipt, and dunning stops; a bounced one raises an
//!   exception; a long acceptance bill is refused.
//! - R-P7: a payment still waiting two hours after it arrived is listed as unreconciled.

use chrono::Datelike;
use devstack::clients::{Clients, eventually};
use devstack::scenario::{self, ESCROW_ACCOUNT, bank_csv};
use kit::auth::Role;
use proto::payments::v1 as payments;
use proto::types::v1::{Money, PaymentChannel};

use crate::helpers::{EVENTUALLY, OrLogs, start};
use crate::operator_cli::{collectctl, text};

fn cny(amount: &str) -> Option<Money> {
    Some(Money {
        amount: amount.to_owned(),
        currency: "CNY".to_owned(),
    })
}

fn cash(
    request_id: &str,
    amount: &str,
    payer: &str,
    reference: &str,
) -> payments::RecordDeskReceiptRequest {
    payments::RecordDeskReceiptRequest {
        request_id: request_id.to_owned(),
        project: "P1".to_owned(),
        amount: cny(amount),
        payer_name: payer.to_owned(),
        reference: reference.to_owned(),
        deposit_account: ESCROW_ACCOUNT.to_owned(),
    }
}

/// The business day (UTC+8) as the services see it.
fn today() -> chrono::NaiveDate {
    kit::config::business_date(chrono::Utc::now(), kit::config::DEFAULT_BUSINESS_OFFSET)
}

async fn receipts(clients: &Clients) -> anyhow::Result<Vec<payments::Receipt>> {
    scenario::all_pages("ListReceipts", |page_token| {
        let mut client = clients.payments.clone();
        async move {
            let page = client
                .list_receipts(payments::ListReceiptsRequest {
                    project: "P1".into(),
                    page_token,
                    ..Default::default()
                })
                .await?
                .into_inner();
            Ok((page.receipts, page.next_page_token))
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn desk_cash_is_receipted_without_gaps_voided_by_two_people_and_counted_r_p1() {
    let (mut stack, mut admin) = start().await;
    let customer = scenario::create_customer(&mut admin, "林小红")
        .await
        .or_logs(&stack);
    let contract = scenario::create_contract(
        &mut admin,
        &customer,
        "HT-DESK-1",
        &[("3000.00", "2026-03-10"), ("3000.00", "2026-04-10")],
    )
    .await
    .or_logs(&stack);
    let mut cashier_a =
        Clients::as_user(&stack, "cashier-a", &[Role::Cashier], None).or_logs(&stack);
    let mut cashier_b =
        Clients::as_user(&stack, "cashier-b", &[Role::Cashier], None).or_logs(&stack);
    let mut sales =
        Clients::as_user(&stack, "sales-1", &[Role::Collector], Some("east")).or_logs(&stack);
    let year = today().year();
    let no = |n: u32| format!("SJ-P1-{year}-{n:06}");

    // R-P1: sales staff never take cash.
    let refused = sales
        .payments
        .record_desk_receipt(cash("s-1", "1000.00", "林小红", "HT-DESK-1"))
        .await
        .expect_err("a collector cannot record cash");
    assert_eq!(refused.code(), tonic::Code::PermissionDenied, "{refused:?}");

    // Bad input names the field.
    let bad = cashier_a
        .payments
        .record_desk_receipt(cash("bad-1", "-5.00", "林小红", "HT-DESK-1"))
        .await
        .expect_err("a negative amount is refused");
    assert_eq!(bad.code(), tonic::Code::InvalidArgument);
    assert!(bad.message().contains("amount"), "{}", bad.message());

    let first = cashier_a
        .payments
        .record_desk_receipt(cash("r-1", "1000.00", "林小红", "HT-DESK-1"))
        .await
        .or_logs(&stack)
        .into_inner();
    let first_receipt = first.receipt.clone().expect("a receipt");
    assert_eq!(first_receipt.receipt_no, no(1));
    assert_eq!(first_receipt.issued_by, "cashier-a");
    assert!(!first.repeat);
    // The same request again: the same receipt, nothing booked twice.
    let again = cashier_a
        .payments
        .record_desk_receipt(cash("r-1", "1000.00", "林小红", "HT-DESK-1"))
        .await
        .or_logs(&stack)
        .into_inner();
    assert!(again.repeat);
    assert_eq!(again.receipt.expect("receipt").receipt_no, no(1));
    let second = cashier_a
        .payments
        .record_desk_receipt(cash("r-2", "1200.00", "林小红", "HT-DESK-1 第一期 首付"))
        .await
        .or_logs(&stack)
        .into_inner()
        .receipt
        .expect("receipt");
    assert_eq!(second.receipt_no, no(2));

    // payments dies inside the transaction that took number 3: a test connection holds the
    // series' row, so the call waits there with the number taken; then the process is killed.
    let db = sqlx::PgPool::connect(&stack.superuser_url)
        .await
        .or_logs(&stack);
    let mut holder = db.begin().await.or_logs(&stack);
    sqlx::query("SELECT last_no FROM payments.document_series WHERE series = 'receipt' AND project = 'P1' FOR UPDATE")
        .fetch_one(&mut *holder)
        .await
        .or_logs(&stack);
    let mut blocked = cashier_a.payments.clone();
    let in_flight = tokio::spawn(async move {
        blocked
            .record_desk_receipt(cash("r-3", "800.00", "林小红", "HT-DESK-1"))
            .await
    });
    eventually("the third receipt waits for its number", EVENTUALLY, || async {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%document_series%'",
        )
        .fetch_one(&db)
        .await?;
        Ok((waiting > 0).then_some(()))
    })
    .await
    .or_logs(&stack);
    stack.kill("payments").or_logs(&stack);
    holder.rollback().await.or_logs(&stack);
    let lost = in_flight.await.expect("the task ran");
    assert!(lost.is_err(), "the call died with the process: {lost:?}");
    stack.restart("payments").await.or_logs(&stack);
    // The client retries: number 3, no gap.
    let third = cashier_a
        .payments
        .record_desk_receipt(cash("r-3", "800.00", "林小红", "HT-DESK-1"))
        .await
        .or_logs(&stack)
        .into_inner();
    assert!(!third.repeat, "the killed attempt left nothing behind");
    let third = third.receipt.expect("receipt");
    assert_eq!(third.receipt_no, no(3));

    // The cash is applied like a bank payment (1,000.00 + 1,200.00 + 800.00): the first
    // installment is paid.
    let payment = eventually("the desk payments are allocated", EVENTUALLY, || async {
        let all = scenario::all_payments(&admin).await?;
        let desk: Vec<_> = all
            .into_iter()
            .filter(|p| p.channel == PaymentChannel::DeskCash as i32)
            .collect();
        Ok((desk.len() == 3
            && desk
                .iter()
                .all(|p| p.status == payments::PaymentStatus::Allocated as i32))
        .then_some(desk))
    })
    .await
    .or_logs(&stack);
    assert!(
        payment
            .iter()
            .all(|p| p.file_id.is_empty() && !p.reconciled_at.is_empty())
    );
    let with_second = payment
        .iter()
        .find(|p| p.payment_id == second.payment_id)
        .expect("the second receipt's payment");
    assert_eq!(with_second.receipt_no, no(2));
    let receivables = scenario::receivables(&mut admin, &contract.contract_id)
        .await
        .or_logs(&stack);
    assert_eq!(scenario::open_amount(&receivables[0]), "0.00");

    // A void: the payment is applied, so only a replacement can correct the document.
    let withdraw = cashier_a
        .payments
        .request_receipt_void(payments::RequestReceiptVoidRequest {
            receipt_id: second.receipt_id.clone(),
            reason: "the purpose was written wrong".into(),
            ..Default::default()
        })
        .await
        .expect_err("an applied payment cannot be withdrawn");
    assert_eq!(withdraw.code(), tonic::Code::FailedPrecondition);
    assert!(
        withdraw.message().contains("reissue"),
        "{}",
        withdraw.message()
    );
    let requested = cashier_a
        .payments
        .request_receipt_void(payments::RequestReceiptVoidRequest {
            receipt_id: second.receipt_id.clone(),
            reason: "the purpose was written wrong".into(),
            reissue: true,
            corrected_reference: "HT-DESK-1 第一期".into(),
            ..Default::default()
        })
        .await
        .or_logs(&stack)
        .into_inner()
        .receipt
        .expect("receipt");
    assert_eq!(
        requested.status,
        payments::ReceiptStatus::VoidRequested as i32
    );
    let own = cashier_a
        .payments
        .approve_receipt_void(payments::ApproveReceiptVoidRequest {
            receipt_id: second.receipt_id.clone(),
        })
        .await
        .expect_err("the requester cannot approve");
    assert_eq!(own.code(), tonic::Code::PermissionDenied);
    let approved = cashier_b
        .payments
        .approve_receipt_void(payments::ApproveReceiptVoidRequest {
            receipt_id: second.receipt_id.clone(),
        })
        .await
        .or_logs(&stack)
        .into_inner();
    let voided = approved.voided.expect("voided");
    let replacement = approved.replacement.expect("replacement");
    assert_eq!(voided.status, payments::ReceiptStatus::Voided as i32);
    assert_eq!(voided.receipt_no, no(2), "a void keeps its number");
    assert_eq!(voided.voided_by, "cashier-b");
    assert_eq!(replacement.receipt_no, no(4));
    assert_eq!(replacement.reference, "HT-DESK-1 第一期");
    assert_eq!(
        replacement.amount.as_ref().map(|m| m.amount.as_str()),
        Some("1200.00")
    );
    assert_eq!(replacement.payment_id, second.payment_id);
    assert_eq!(replacement.replaces_receipt_id, second.receipt_id);

    let numbers: Vec<u32> = receipts(&admin)
        .await
        .or_logs(&stack)
        .iter()
        .map(|r| r.number)
        .collect();
    assert_eq!(numbers, vec![1, 2, 3, 4], "gap-free, the void kept");

    // The receipt as a document.
    let pdf = cashier_b
        .payments
        .render_receipt(payments::RenderReceiptRequest {
            id: replacement.receipt_id.clone(),
        })
        .await
        .or_logs(&stack)
        .into_inner();
    assert!(pdf.pdf.starts_with(b"%PDF-"));
    assert_eq!(pdf.file_name, format!("{}.pdf", no(4)));

    // The day's count: the standing receipts 1, 3 and 4 make 3,000.00; 2,900.00 is counted.
    let closed = cashier_a
        .payments
        .close_desk_day(payments::CloseDeskDayRequest {
            project: "P1".into(),
            counted: cny("2900.00"),
            deposit_account: ESCROW_ACCOUNT.into(),
            ..Default::default()
        })
        .await
        .or_logs(&stack)
        .into_inner();
    assert_eq!(
        closed.expected.as_ref().map(|m| m.amount.as_str()),
        Some("3000.00")
    );
    assert_eq!(
        closed.difference.as_ref().map(|m| m.amount.as_str()),
        Some("-100.00")
    );
    assert_eq!(closed.receipts, 3);
    assert!(!closed.exception_id.is_empty());
    let short = scenario::open_exceptions(&admin)
        .await
        .or_logs(&stack)
        .into_iter()
        .find(|e| e.exception_id == closed.exception_id)
        .expect("the shortage is in the queue");
    assert_eq!(short.kind, "CASH_COUNT_DIFFERENCE");
    assert!(short.payment_id.is_empty());
    assert_eq!(
        short.amount.as_ref().map(|m| m.amount.as_str()),
        Some("100.00")
    );
    assert!(short.subject.contains("desk P1"), "{}", short.subject);
    let twice = cashier_a
        .payments
        .close_desk_day(payments::CloseDeskDayRequest {
            project: "P1".into(),
            counted: cny("2900.00"),
            deposit_account: ESCROW_ACCOUNT.into(),
            ..Default::default()
        })
        .await
        .expect_err("a day is closed once");
    assert_eq!(twice.code(), tonic::Code::AlreadyExists);
    let late = cashier_a
        .payments
        .record_desk_receipt(cash("r-late", "10.00", "林小红", "HT-DESK-1"))
        .await
        .expect_err("no cash after the count");
    assert_eq!(late.code(), tonic::Code::FailedPrecondition);

    // The deposit shows on the bank statement: linked to the deposit, not a fourth payment.
    let day = today();
    let deposit = scenario::ingest(
        &mut admin,
        "deposit.csv",
        bank_csv(&[[
            &day.to_string(),
            "2900.00",
            "CNY",
            "现金存入",
            "",
            &closed.deposit_reference,
        ]]),
    )
    .await
    .or_logs(&stack);
    assert_eq!((deposit.lines_linked, deposit.lines_accepted), (1, 0));
    let all = scenario::all_payments(&admin).await.or_logs(&stack);
    assert_eq!(all.len(), 3, "the deposit is no new payment");
}

/// An MT940 of the escrow account with one credit line.
fn mt940(reference: &str, amount: &str, day: &str) -> Vec<u8> {
    format!(
        ":20:CHQ-E2E-{day}\r\n:25:621661000000008888\r\n:28C:1/1\r\n:60F:C{day}CNY0,00\r\n\
         :61:{day}C{amount}NCHKNONREF//CHQ{day}\r\n:86:{reference}\r\n:62F:C{day}CNY{amount}\r\n-\r\n"
    )
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cheque_is_acknowledged_not_booked_and_becomes_a_payment_when_it_clears_r_p3() {
    let (stack, mut admin) = start().await;
    let customer = scenario::create_customer(&mut admin, "钱多多")
        .await
        .or_logs(&stack);
    let contract = scenario::create_contract(
        &mut admin,
        &customer,
        "HT-CHQ-1",
        &[("20000.00", "2026-03-10")],
    )
    .await
    .or_logs(&stack);
    scenario::run_cycle(&mut admin, "2026-03-11")
        .await
        .or_logs(&stack);
    let active = || async {
        Ok(scenario::dunning_cases(&admin, &customer)
            .await?
            .into_iter()
            .find(|c| c.status == "active"))
    };
    eventually("dunning opens a case", EVENTUALLY, active)
        .await
        .or_logs(&stack);
    let mut cashier = Clients::as_user(&stack, "cashier-a", &[Role::Cashier], None).or_logs(&stack);
    let ack = |request_id: &str, kind: proto::types::v1::InstrumentKind, no: &str, amount: &str| {
        payments::RecordAcknowledgmentRequest {
            request_id: request_id.to_owned(),
            project: "P1".to_owned(),
            kind: kind as i32,
            instrument_no: no.to_owned(),
            drawer: "钱多多".to_owned(),
            drawer_bank: "工商银行 深圳分行".to_owned(),
            amount: cny(amount),
            reference: "HT-CHQ-1".to_owned(),
            deposit_account: ESCROW_ACCOUNT.to_owned(),
            ..Default::default()
        }
    };
    let cheque = cashier
        .payments
        .record_acknowledgment(ack(
            "a-1",
            proto::types::v1::InstrumentKind::Cheque,
            "1020 3344",
            "20000.00",
        ))
        .await
        .or_logs(&stack)
        .into_inner()
        .acknowledgment
        .expect("acknowledgment");
    let year = today().year();
    assert_eq!(cheque.acknowledgment_no, format!("ST-P1-{year}-000001"));
    assert_eq!(
        cheque.status,
        proto::types::v1::AcknowledgmentStatus::Pending as i32
    );
    let bouncing = cashier
        .payments
        .record_acknowledgment(ack(
            "a-2",
            proto::types::v1::InstrumentKind::Cheque,
            "5566-7788",
            "5000.00",
        ))
        .await
        .or_logs(&stack)
        .into_inner()
        .acknowledgment
        .expect("acknowledgment");
    // R-C10: a bill over 90 days is refused when no fund-occupation fee is configured.
    let mut bill = ack(
        "a-3",
        proto::types::v1::InstrumentKind::AcceptanceBill,
        "BILL-0001",
        "8000.00",
    );
    bill.issue_date = "2026-03-01".into();
    bill.due_date = "2026-08-01".into();
    let refused = cashier
        .payments
        .record_acknowledgment(bill)
        .await
        .expect_err("a 153-day bill is refused");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert!(
        refused.message().contains("due_date") && refused.message().contains("90"),
        "{}",
        refused.message()
    );
    // The acknowledgment document.
    let pdf = cashier
        .payments
        .render_receipt(payments::RenderReceiptRequest {
            id: cheque.acknowledgment_id.clone(),
        })
        .await
        .or_logs(&stack)
        .into_inner();
    assert!(pdf.pdf.starts_with(b"%PDF-"));

    // Not money: no payment, the receivable still open, dunning still active.
    assert!(
        scenario::all_payments(&admin)
            .await
            .or_logs(&stack)
            .is_empty()
    );
    let open = scenario::receivables(&mut admin.clone(), &contract.contract_id)
        .await
        .or_logs(&stack);
    assert_eq!(scenario::open_amount(&open[0]), "20000.00");
    assert!(active().await.or_logs(&stack).is_some());

    // The bank's statement shows the cheque cleared: a payment with a receipt, applied.
    let cleared = scenario::ingest(
        &mut admin,
        "cheques.mta",
        mt940("CHQ NO 10203344 CLEARED", "20000,00", "260312"),
    )
    .await
    .or_logs(&stack);
    assert_eq!(cleared.lines_accepted, 1);
    let payment = eventually("the cheque's payment is allocated", EVENTUALLY, || async {
        Ok(scenario::all_payments(&admin).await?.into_iter().find(|p| {
            p.status == payments::PaymentStatus::Allocated as i32
                && p.channel == PaymentChannel::Instrument as i32
        }))
    })
    .await
    .or_logs(&stack);
    // Numbered in the year of the bank's booking date.
    assert_eq!(payment.receipt_no, "SJ-P1-2026-000001");
    let listed = cashier
        .payments
        .list_acknowledgments(payments::ListAcknowledgmentsRequest {
            project: "P1".into(),
            ..Default::default()
        })
        .await
        .or_logs(&stack)
        .into_inner()
        .acknowledgments;
    let now_cleared = listed
        .iter()
        .find(|a| a.acknowledgment_id == cheque.acknowledgment_id)
        .expect("listed");
    assert_eq!(
        now_cleared.status,
        proto::types::v1::AcknowledgmentStatus::Cleared as i32
    );
    assert_eq!(now_cleared.payment_id, payment.payment_id);
    assert!(!now_cleared.receipt_id.is_empty());
    eventually(
        "dunning stops once the cheque cleared (R-P10)",
        EVENTUALLY,
        || async {
            Ok(scenario::dunning_cases(&admin, &customer)
                .await?
                .into_iter()
                .any(|c| c.status == "paid")
                .then_some(()))
        },
    )
    .await
    .or_logs(&stack);

    // R-P3: a transfer slip the customer shows is a claim; it cannot bounce, and counts only
    // when the bank feed confirms it.
    let mut slip = ack(
        "a-4",
        proto::types::v1::InstrumentKind::TransferSlip,
        "TRF-0312-7781",
        "3000.00",
    );
    slip.drawer_bank = String::new();
    let slip = cashier
        .payments
        .record_acknowledgment(slip)
        .await
        .or_logs(&stack)
        .into_inner()
        .acknowledgment
        .expect("acknowledgment");
    let no_bounce = cashier
        .payments
        .record_bounce(payments::RecordBounceRequest {
            acknowledgment_id: slip.acknowledgment_id.clone(),
            reason: "customer says the bank refused it".into(),
        })
        .await
        .expect_err("a slip cannot bounce");
    assert_eq!(no_bounce.code(), tonic::Code::FailedPrecondition);
    let confirmed = scenario::ingest(
        &mut admin,
        "transfers.sta",
        mt940("TRF0312-7781 SECOND INSTALMENT", "3000,00", "260313"),
    )
    .await
    .or_logs(&stack);
    assert_eq!(confirmed.lines_accepted, 1);
    let slips = cashier
        .payments
        .list_acknowledgments(payments::ListAcknowledgmentsRequest {
            status: proto::types::v1::AcknowledgmentStatus::Cleared as i32,
            ..Default::default()
        })
        .await
        .or_logs(&stack)
        .into_inner()
        .acknowledgments;
    assert!(
        slips
            .iter()
            .any(|a| a.acknowledgment_id == slip.acknowledgment_id && !a.payment_id.is_empty()),
        "the slip's transfer is confirmed by the bank line: {slips:?}"
    );

    // The other cheque bounces: closed with the reason, an exception for a person.
    let bounced = cashier
        .payments
        .record_bounce(payments::RecordBounceRequest {
            acknowledgment_id: bouncing.acknowledgment_id.clone(),
            reason: "insufficient funds".into(),
        })
        .await
        .or_logs(&stack)
        .into_inner()
        .acknowledgment
        .expect("acknowledgment");
    assert_eq!(
        bounced.status,
        proto::types::v1::AcknowledgmentStatus::Bounced as i32
    );
    assert_eq!(bounced.bounce_reason, "insufficient funds");
    let exception = scenario::open_exceptions(&admin)
        .await
        .or_logs(&stack)
        .into_iter()
        .find(|e| e.kind == "INSTRUMENT_BOUNCED")
        .expect("the bounce is in the queue");
    assert_eq!(exception.exception_id, bounced.exception_id);
    assert!(
        exception.subject.contains("5566-7788"),
        "{}",
        exception.subject
    );
    assert!(exception.reason.contains("insufficient funds"));
    let again = cashier
        .payments
        .record_bounce(payments::RecordBounceRequest {
            acknowledgment_id: bouncing.acknowledgment_id.clone(),
            reason: "again".into(),
        })
        .await
        .expect_err("settled once");
    assert_eq!(again.code(), tonic::Code::FailedPrecondition);
    // The bounce is dismissed by a person with a note (there is no payment to apply).
    let confirm = cashier
        .payments
        .resolve_exception(payments::ResolveExceptionRequest {
            exception_id: exception.exception_id.clone(),
            action: Some(payments::resolve_exception_request::Action::ConfirmCandidate(0)),
            note: String::new(),
        })
        .await
        .expect_err("nothing to apply");
    assert_eq!(confirm.code(), tonic::Code::FailedPrecondition);
}

#[tokio::test(flavor = "multi_thread")]
async fn payments_waiting_more_than_two_hours_are_listed_unreconciled_r_p7() {
    let (stack, mut admin) = start().await;
    let customer = scenario::create_customer(&mut admin, "周八")
        .await
        .or_logs(&stack);
    scenario::create_contract(
        &mut admin,
        &customer,
        "HT-2H-1",
        &[("500.00", "2026-03-10")],
    )
    .await
    .or_logs(&stack);
    let ingested = scenario::ingest(
        &mut admin,
        "two-hours.csv",
        bank_csv(&[
            ["2026-03-09", "500.00", "CNY", "周八", "", "HT-2H-1"],
            ["2026-03-09", "777.00", "CNY", "无名氏", "", "unknown"],
        ]),
    )
    .await
    .or_logs(&stack);
    let (applied, unknown) = (&ingested.payment_ids[0], &ingested.payment_ids[1]);
    eventually("the first is allocated", EVENTUALLY, || async {
        Ok(scenario::all_payments(&admin)
            .await?
            .into_iter()
            .any(|p| {
                &p.payment_id == applied && p.status == payments::PaymentStatus::Allocated as i32
            })
            .then_some(()))
    })
    .await
    .or_logs(&stack);
    let list = |minutes: u32| {
        let mut client = admin.payments.clone();
        async move {
            client
                .list_unreconciled(payments::ListUnreconciledRequest {
                    max_age_minutes: minutes,
                    page_size: 0,
                })
                .await
                .map(tonic::Response::into_inner)
        }
    };
    // Just arrived: nothing is two hours old.
    assert_eq!(list(0).await.or_logs(&stack).total, 0);
    // Both arrived three hours ago (as if): only the one still in the queue is listed.
    let db = sqlx::PgPool::connect(&stack.superuser_url)
        .await
        .or_logs(&stack);
    sqlx::query("UPDATE payments.payments SET created_at = created_at - interval '3 hours'")
        .execute(&db)
        .await
        .or_logs(&stack);
    let waiting = list(0).await.or_logs(&stack);
    assert_eq!(waiting.total, 1);
    let row = &waiting.payments[0];
    assert_eq!(
        row.payment.as_ref().map(|p| p.payment_id.as_str()),
        Some(unknown.as_str())
    );
    assert!(row.age_minutes >= 179, "{}", row.age_minutes);
    assert!(row.waiting_for.contains("exception"), "{}", row.waiting_for);
    // With a four-hour limit nothing is late yet.
    assert_eq!(list(240).await.or_logs(&stack).total, 0);
}

/// The sample POS settlement report the feeds crate writes (30 card payments in batch 000123).
const POS_REPORT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../services/feeds/tests/data/settlement/pos.csv"
);

#[tokio::test(flavor = "multi_thread")]
async fn a_pos_batch_credit_reconciles_against_its_settlement_report_to_the_fen_r_p7() {
    let (stack, mut admin) = start().await;
    let report = std::fs::read(POS_REPORT).expect("the sample POS report");
    // One contract per card payment, for exactly the gross the card paid.
    let text = String::from_utf8_lossy(&report).into_owned();
    let mut expected = Vec::new();
    for row in text
        .lines()
        .skip_while(|l| !l.starts_with("清算日期,交易日期"))
        .skip(1)
    {
        let cells: Vec<&str> = row.split(',').collect();
        if cells.len() < 16 || cells[0] == "合计" || cells[0].is_empty() {
            continue;
        }
        let contract = format!("{} {}", cells[14], cells[15])
            .split_whitespace()
            .find(|w| w.starts_with("HT-"))
            .expect("a contract number")
            .to_owned();
        expected.push((contract, cells[11].to_owned()));
    }
    assert_eq!(expected.len(), 30);
    for (i, (contract, gross)) in expected.iter().enumerate() {
        let customer = scenario::create_customer(&mut admin, &format!("持卡客户{i}"))
            .await
            .or_logs(&stack);
        scenario::create_contract(&mut admin, &customer, contract, &[(gross, "2026-12-10")])
            .await
            .or_logs(&stack);
    }

    // The acquirer's report: 30 payments of their gross; the batch waits for the bank.
    let ingested = admin
        .payments
        .ingest_bank_file(payments::IngestBankFileRequest {
            file_name: "pos-20261202.csv".into(),
            content: report.clone(),
            format: String::new(),
            account: ESCROW_ACCOUNT.into(),
        })
        .await
        .or_logs(&stack)
        .into_inner();
    assert_eq!(ingested.format, "csv:pos");
    assert_eq!(ingested.lines_accepted, 30, "{:?}", ingested.errors);
    let batches = |clients: &Clients| {
        let mut client = clients.payments.clone();
        async move {
            client
                .list_settlement_batches(payments::ListSettlementBatchesRequest::default())
                .await
                .map(|r| r.into_inner().batches)
        }
    };
    let before = batches(&admin).await.or_logs(&stack);
    assert_eq!(before.len(), 1);
    let amount = |m: &Option<Money>| m.as_ref().map(|m| m.amount.clone()).unwrap_or_default();
    let batch = &before[0];
    assert_eq!(
        (batch.channel.as_str(), batch.batch.as_str()),
        ("pos", "000123")
    );
    assert_eq!(batch.payments, 30);
    assert_eq!(amount(&batch.gross), "885212.68");
    assert_eq!(amount(&batch.fee), "4363.55");
    assert_eq!(amount(&batch.net), "880849.13");
    assert!(!batch.reconciled);

    // The bank credits the batch's net once: linked to the batch, not a 31st payment.
    let credit = scenario::ingest(
        &mut admin,
        "escrow-20261203.sta",
        mt940(
            "UNIONPAY POS SETTLEMENT BATCH 000123",
            "880849,13",
            "261203",
        ),
    )
    .await
    .or_logs(&stack);
    assert_eq!((credit.lines_linked, credit.lines_accepted), (1, 0));
    let after = batches(&admin).await.or_logs(&stack);
    let batch = &after[0];
    assert!(batch.reconciled, "{batch:?}");
    assert_eq!(amount(&batch.bank_amount), "880849.13");
    assert_eq!(amount(&batch.difference), "0.00");
    assert_eq!(batch.booked_payments, 30);
    assert_eq!(amount(&batch.booked_gross), "885212.68");
    assert_eq!(amount(&batch.booked_fee), "4363.55");

    // The 30 card payments are booked for the gross each customer paid; the card identifies
    // nobody, so under the default policy each waits for a person to confirm its contract.
    let all = scenario::all_payments(&admin).await.or_logs(&stack);
    assert_eq!(all.len(), 30, "the batch's bank credit is no 31st payment");
    assert!(all.iter().all(|p| p.channel == PaymentChannel::Card as i32));
    let gross: rust_decimal::Decimal = all
        .iter()
        .map(|p| {
            amount(&p.amount)
                .parse::<rust_decimal::Decimal>()
                .unwrap_or_default()
        })
        .sum();
    assert_eq!(gross.to_string(), "885212.68");
    assert!(
        all.iter().all(|p| p.payer_account_masked.is_empty()),
        "a masked card is no payer account"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_acceptance_bill_carries_the_fund_occupation_fee_owed_as_interest_r_c10() {
    let (stack, mut admin) = crate::helpers::start_with_service_env(
        Vec::new(),
        vec![(
            "payments".to_owned(),
            "PAYMENTS_BILL_OCCUPATION_RATE".to_owned(),
            "0.0005".to_owned(),
        )],
    )
    .await;
    let customer = scenario::create_customer(&mut admin, "建工集团")
        .await
        .or_logs(&stack);
    let contract = scenario::create_contract(
        &mut admin,
        &customer,
        "HT-BILL-1",
        &[("100000.00", "2026-06-10")],
    )
    .await
    .or_logs(&stack);
    let mut cashier = Clients::as_user(&stack, "cashier-a", &[Role::Cashier], None).or_logs(&stack);
    let bill = |request_id: &str, accept: bool| payments::RecordAcknowledgmentRequest {
        request_id: request_id.to_owned(),
        project: "P1".to_owned(),
        kind: proto::types::v1::InstrumentKind::AcceptanceBill as i32,
        instrument_no: "CAB-2026-000777".to_owned(),
        drawer: "建工集团".to_owned(),
        drawer_bank: "建设银行".to_owned(),
        amount: cny("100000.00"),
        reference: "HT-BILL-1".to_owned(),
        issue_date: "2026-03-01".to_owned(),
        // 120 days: 30 over the 90 accepted.
        due_date: "2026-06-29".to_owned(),
        accept_occupation_fee: accept,
        deposit_account: ESCROW_ACCOUNT.to_owned(),
    };
    let refused = cashier
        .payments
        .record_acknowledgment(bill("b-0", false))
        .await
        .expect_err("the fee must be accepted");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert!(
        refused.message().contains("accept_occupation_fee"),
        "{}",
        refused.message()
    );
    // Payments must know the contract before it can charge the fee to it.
    eventually("payments knows the contract", EVENTUALLY, || async {
        let mut client = cashier.payments.clone();
        Ok(client
            .record_acknowledgment(bill("b-1", true))
            .await
            .ok()
            .and_then(|r| r.into_inner().acknowledgment))
    })
    .await
    .or_logs(&stack);
    let listed = cashier
        .payments
        .list_acknowledgments(payments::ListAcknowledgmentsRequest::default())
        .await
        .or_logs(&stack)
        .into_inner()
        .acknowledgments;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].term_days, 120);
    // 100,000.00 × 0.05 % × 30 days = 1,500.00.
    assert_eq!(
        listed[0].occupation_fee.as_ref().map(|m| m.amount.as_str()),
        Some("1500.00")
    );
    // Contracts books it on the contract, owed as interest (art. 561), not as a cost.
    let receivable = eventually("contracts books the fee", EVENTUALLY, || async {
        let receivables = scenario::receivables(&mut admin.clone(), &contract.contract_id).await?;
        Ok(receivables.into_iter().find(|r| {
            r.owed
                .as_ref()
                .and_then(|o| o.interest.as_ref())
                .is_some_and(|m| m.amount == "1500.00")
        }))
    })
    .await
    .or_logs(&stack);
    let owed = receivable.owed.expect("owed");
    assert_eq!(owed.costs.map(|m| m.amount).as_deref(), Some("0.00"));
    assert_eq!(
        owed.principal.map(|m| m.amount).as_deref(),
        Some("100000.00")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_desk_works_from_collectctl_text_and_json() {
    let (stack, mut admin) = start().await;
    let customer = scenario::create_customer(&mut admin, "赵大")
        .await
        .or_logs(&stack);
    scenario::create_contract(
        &mut admin,
        &customer,
        "HT-CLI-1",
        &[("900.00", "2026-03-10")],
    )
    .await
    .or_logs(&stack);
    let cashier = stack
        .auth
        .token("cashier-c", &[Role::Cashier], None)
        .or_logs(&stack);
    let sales = stack
        .auth
        .token("sales-9", &[Role::Collector], Some("east"))
        .or_logs(&stack);
    let cash = [
        "desk",
        "cash",
        "--project",
        "P7",
        "--amount",
        "900.00",
        "--payer",
        "赵大",
        "--for",
        "HT-CLI-1",
        "--deposit-account",
        ESCROW_ACCOUNT,
    ];
    // Sales staff are told they cannot take cash (R-P1) and what to do.
    let refused = collectctl(&stack, Some(&sales), &cash);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("cashier"),
        "{}",
        text(&refused.stderr)
    );
    let out = collectctl(&stack, Some(&cashier), &cash);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let issued = text(&out.stdout);
    let year = today().year();
    assert!(issued.contains(&format!("SJ-P7-{year}-000001")), "{issued}");
    assert!(issued.contains("collectctl desk print"), "{issued}");
    // The same command again is a repeat, not a second receipt.
    let again = text(&collectctl(&stack, Some(&cashier), &cash).stdout);
    assert!(again.contains("repeat"), "{again}");
    let out = collectctl(
        &stack,
        Some(&cashier),
        &["desk", "receipts", "--project", "P7", "--json"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let receipts = listed["receipts"].as_array().expect("receipts");
    assert_eq!(receipts.len(), 1);
    let receipt_id = receipts[0]["receipt_id"].as_str().expect("id").to_owned();
    let pdf = std::env::temp_dir().join(format!("desk-receipt-{}.pdf", uuid::Uuid::new_v4()));
    let out = collectctl(
        &stack,
        Some(&cashier),
        &[
            "desk",
            "print",
            &receipt_id,
            "--out",
            pdf.to_str().expect("path"),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(std::fs::read(&pdf).expect("written").starts_with(b"%PDF-"));
    let _ = std::fs::remove_file(&pdf);
    let out = collectctl(&stack, Some(&cashier), &["desk", "unreconciled"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("R-P7"), "{}", text(&out.stdout));
    let out = collectctl(
        &stack,
        Some(&cashier),
        &[
            "desk",
            "close",
            "--project",
            "P7",
            "--counted",
            "900.00",
            "--deposit-account",
            ESCROW_ACCOUNT,
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let closed = text(&out.stdout);
    assert!(
        closed.contains("difference 0.00 CNY") && closed.contains("DESK-P7-"),
        "{closed}"
    );
}
