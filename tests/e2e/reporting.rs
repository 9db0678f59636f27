//! Issue 17 item 1 and 2 (R-O1, R-O2, R-O7, R-O8): the reporting service builds its read model
//! from the other services' events. On a small portfolio its aging, KPIs and provisions equal
//! the figures computed by hand here, the voucher for a provision's change balances, and the
//! trace of a payment leads through the contract, the payment and its allocation in time
//! order. Access follows the role table and a collector's scope.

use chrono::{Days, NaiveDate};
use tonic::Code;

use devstack::clients::{Clients, eventually};
use devstack::scenario::{self, bank_csv};
use kit::auth::Role;
use proto::reporting::v1 as reporting;
use proto::types::v1::Money;

use crate::helpers::{EVENTUALLY, OrLogs, start};
use crate::operator_cli::collectctl_ok;

fn amount(m: Option<&Money>) -> &str {
    m.map_or("", |m| m.amount.as_str())
}

fn today() -> NaiveDate {
    kit::config::business_date(chrono::Utc::now(), kit::config::DEFAULT_BUSINESS_OFFSET)
}

fn day(offset: i64) -> String {
    let t = today();
    let d = if offset >= 0 {
        t + Days::new(offset.unsigned_abs())
    } else {
        t - Days::new(offset.unsigned_abs())
    };
    d.to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn reports_equal_hand_computed_figures_and_the_trace_follows_a_payment_r_o1_r_o2() {
    let (stack, mut admin) = start().await;
    let t = day(0);
    let customer = scenario::create_customer(&mut admin, "孙报表")
        .await
        .or_logs(&stack);
    // Signed today: 1,000.00 due 100 days ago, 2,000.00 due 40 days ago, 3,000.00 due in 20.
    let contract = scenario::create_contract(
        &mut admin,
        &customer,
        "HT-REPORT-1",
        &[
            ("1000.00", &day(-100)),
            ("2000.00", &day(-40)),
            ("3000.00", &day(20)),
        ],
    )
    .await
    .or_logs(&stack);
    // 500.00 paid on the first installment, booked ten days ago.
    let file = bank_csv(&[[
        &day(-10),
        "500.00",
        "CNY",
        "孙报表",
        "6222020000001717",
        "HT-REPORT-1/1",
    ]]);
    scenario::ingest(&mut admin, "report-1.csv", file)
        .await
        .or_logs(&stack);

    // Aging as of today (R-C11): 3,000.00 current, 2,000.00 in 31-60, 500.00 in 91-180.
    let cashier = Clients::as_user(&stack, "clerk-li", &[Role::Cashier], None).or_logs(&stack);
    let aging = eventually("the payment in reporting's aging", EVENTUALLY, || {
        let mut c = cashier.reporting.clone();
        let t = t.clone();
        async move {
            let r = c
                .get_aging(reporting::GetAgingRequest {
                    as_of: t,
                    currency: "CNY".to_owned(),
                })
                .await?
                .into_inner();
            Ok(r.reports
                .into_iter()
                .next()
                .filter(|a| amount(a.total.as_ref()) == "5500.00"))
        }
    })
    .await
    .or_logs(&stack);
    let rows: Vec<(i32, u32, &str, &str)> = aging
        .rows
        .iter()
        .map(|r| {
            (
                r.bucket,
                r.receivables,
                amount(r.balance.as_ref()),
                r.share_percent.as_str(),
            )
        })
        .collect();
    use reporting::AgingBucket as B;
    assert_eq!(
        rows,
        vec![
            (B::Current as i32, 1, "3000.00", "54.55"),
            (B::Days130 as i32, 0, "0.00", "0.00"),
            (B::Days3160 as i32, 1, "2000.00", "36.36"),
            (B::Days6190 as i32, 0, "0.00", "0.00"),
            (B::Days91180 as i32, 1, "500.00", "9.09"),
            (B::Over180 as i32, 0, "0.00", "0.00"),
        ]
    );

    // KPIs of the last 31 days (R-O7): nothing was receivable before today's signing, sales
    // 6,000.00, collected 500.00, closing 5,500.00 of which 3,000.00 not past due.
    // CEI = (0 + 6,000 − 5,500) / (0 + 6,000 − 3,000) = 16.67 %; DSO = 5,500 / 6,000 × 31 =
    // 28.42 days; collection rate = 500 / (1,000 + 2,000 falling due) = 16.67 %; overdue rate
    // = 2,500 / 5,500 = 45.45 %; the 500.00 came 90 days after its due date.
    let k = cashier
        .reporting
        .clone()
        .get_kpis(reporting::GetKpisRequest {
            from: day(-30),
            to: t.clone(),
            currency: "CNY".to_owned(),
        })
        .await
        .or_logs(&stack)
        .into_inner()
        .kpis
        .remove(0);
    assert_eq!(
        (
            amount(k.opening.as_ref()),
            amount(k.sales.as_ref()),
            amount(k.collected.as_ref()),
            amount(k.closing.as_ref()),
            amount(k.closing_current.as_ref()),
        ),
        ("0.00", "6000.00", "500.00", "5500.00", "3000.00")
    );
    assert_eq!(k.cei_percent, "16.67");
    assert_eq!(k.dso_days, "28.42");
    assert_eq!(k.collection_rate_percent, "16.67");
    assert_eq!(k.overdue_rate_percent, "45.45");
    assert_eq!(k.average_collection_days, "90.00");
    assert_eq!(k.days, 31);

    // Provisions (R-O8) with the shipped matrix, recorded by finance through collectctl:
    // 3,000 × 0.5 % + 2,000 × 5 % + 500 × 40 % = 15.00 + 100.00 + 200.00 = 315.00, all new.
    let clerk = stack
        .auth
        .token("clerk-li", &[Role::Cashier], None)
        .or_logs(&stack);
    let out = collectctl_ok(
        &stack,
        &clerk,
        &[
            "report",
            "provisions",
            "--currency",
            "CNY",
            "--as-of",
            &t,
            "--record",
            "--json",
        ],
    );
    let run: serde_json::Value = serde_json::from_str(&out).or_logs(&stack);
    assert_eq!(run["total"], "315.00", "{out}");
    assert_eq!(run["recorded_by"], "clerk-li");
    assert_eq!(run["voucher"]["balanced"], true);
    let lines = run["voucher"]["lines"].as_array().expect("lines");
    assert_eq!(lines[0]["account_code"], "6702");
    assert_eq!(lines[0]["debit"], "315.00");
    assert_eq!(lines[1]["account_code"], "1231");
    assert_eq!(lines[1]["credit"], "315.00");

    // Thirty days on, nothing paid: 3,000 is 10 days past due (2 %: 60.00), 2,000 is 70 (15 %:
    // 300.00), 500 is 130 (40 %: 200.00): 560.00, 245.00 more than the recorded run.
    let later = cashier
        .reporting
        .clone()
        .get_provisions(reporting::GetProvisionsRequest {
            as_of: day(30),
            currency: "CNY".to_owned(),
        })
        .await
        .or_logs(&stack)
        .into_inner()
        .run
        .expect("run");
    assert_eq!(amount(later.total.as_ref()), "560.00");
    assert_eq!(later.previous_as_of, t);
    assert_eq!(amount(later.change.as_ref()), "245.00");
    let voucher = later.voucher.expect("voucher");
    assert!(voucher.balanced);
    assert_eq!(
        voucher
            .lines
            .iter()
            .map(|l| (
                l.account_code.as_str(),
                amount(l.debit.as_ref()),
                amount(l.credit.as_ref())
            ))
            .collect::<Vec<_>>(),
        vec![("6702", "245.00", "0.00"), ("1231", "0.00", "245.00")]
    );
    assert!(later.recorded_by.is_empty(), "a look is not a record");

    // The trace of the payment (R-O2): the contract, the payment, cash application's proposal
    // and contracts' confirmation, in time order; the same as the contract's own trace.
    let payment_id = scenario::all_payments(&admin)
        .await
        .or_logs(&stack)
        .into_iter()
        .next()
        .expect("the payment")
        .payment_id;
    let trace = eventually("the trace of the payment", EVENTUALLY, || {
        let mut c = cashier.reporting.clone();
        let id = payment_id.clone();
        async move {
            let r = c
                .get_trace(reporting::GetTraceRequest {
                    subject: reporting::TraceSubject::Payment as i32,
                    id,
                })
                .await;
            Ok(r.ok()
                .map(tonic::Response::into_inner)
                .filter(|r| r.steps.iter().any(|s| s.event == "AllocationApplied")))
        }
    })
    .await
    .or_logs(&stack);
    assert_eq!(trace.contract_ids, vec![contract.contract_id.clone()]);
    let events: Vec<(&str, &str)> = trace
        .steps
        .iter()
        .map(|s| (s.service.as_str(), s.event.as_str()))
        .collect();
    let position = |e: &str| {
        events
            .iter()
            .position(|(_, x)| *x == e)
            .unwrap_or_else(|| panic!("{e} missing from the trace: {events:?}"))
    };
    assert_eq!(events[position("ContractSigned")].0, "contracts");
    assert_eq!(events[position("PaymentReceived")].0, "payments");
    assert!(position("ContractSigned") < position("PaymentReceived"));
    assert!(position("PaymentReceived") < position("AllocationApplied"));
    assert!(trace.steps.iter().all(|s| s.since_previous_ms >= 0));
    assert!(
        trace
            .steps
            .iter()
            .all(|s| !s.summary.contains("孙报表") && !s.summary.contains("6222020000001717")),
        "no name or account in a trace (R-O4): {:#?}",
        trace.steps
    );
    let applied = &trace.steps[position("AllocationApplied")];
    assert!(
        applied.summary.contains("500.00 CNY applied"),
        "{}",
        applied.summary
    );
    let by_contract = cashier
        .reporting
        .clone()
        .get_trace(reporting::GetTraceRequest {
            subject: reporting::TraceSubject::Contract as i32,
            id: contract.contract_id.clone(),
        })
        .await
        .or_logs(&stack)
        .into_inner();
    assert_eq!(
        by_contract
            .steps
            .iter()
            .map(|s| &s.event_id)
            .collect::<Vec<_>>(),
        trace.steps.iter().map(|s| &s.event_id).collect::<Vec<_>>()
    );
    let text = collectctl_ok(&stack, &clerk, &["report", "trace", "payment", &payment_id]);
    assert!(text.contains("AllocationApplied"), "{text}");
    let csv = collectctl_ok(&stack, &clerk, &["report", "aging", "--as-of", &t, "--csv"]);
    assert!(
        csv.lines()
            .any(|l| l == format!("{t},CNY,31-60,1,2000.00,36.36")),
        "{csv}"
    );

    // Unknown ids are NOT_FOUND; a collector may not read portfolio reports and traces only
    // the customers they own (R-O3).
    let missing = cashier
        .reporting
        .clone()
        .get_trace(reporting::GetTraceRequest {
            subject: reporting::TraceSubject::Receivable as i32,
            id: uuid::Uuid::new_v4().to_string(),
        })
        .await
        .expect_err("unknown");
    assert_eq!(missing.code(), Code::NotFound);
    let collector = Clients::as_user(&stack, "wang.collector", &[Role::Collector], Some("west"))
        .or_logs(&stack);
    let refused = collector
        .reporting
        .clone()
        .get_aging(reporting::GetAgingRequest::default())
        .await
        .expect_err("collectors read no portfolio reports");
    assert_eq!(refused.code(), Code::PermissionDenied);
    let refused = collector
        .reporting
        .clone()
        .get_trace(reporting::GetTraceRequest {
            subject: reporting::TraceSubject::Contract as i32,
            id: contract.contract_id.clone(),
        })
        .await
        .expect_err("not their customer");
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    let bad = cashier
        .reporting
        .clone()
        .get_kpis(reporting::GetKpisRequest {
            from: day(1),
            to: t.clone(),
            currency: String::new(),
        })
        .await
        .expect_err("a period that ends before it starts");
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(bad.message().starts_with("from:"), "{}", bad.message());
}
