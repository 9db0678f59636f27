//! Issue 17 item 1, the rest (R-O1, R-O7, R-O8, R-P7): recovery by dunning step, per-collector
//! KPIs scoped by the caller (R-O3), the 12-week cash-inflow forecast with its error on
//! held-back weeks, and the month-end pack (PDF and HTML) with payments' book-to-bank read
//! over reporting's own client certificate. Every figure is computed by hand below on a small
//! portfolio (T = today's business date, when every contract is signed):
//!
//! - li.na (team east) owns X (10,000.00 due T−1, 2,000.00 due T+10) and Y (10,000.00 due
//!   T−1); wang (team west) owns Z (3,000.00 due T−1).
//! - The daily cycle of T sends the reminder (SMS) to all three for their item due T−1.
//! - X pays 4,000.00 booked T; Y promises 6,000.00 by T+5 and pays 6,000.00 booked T+2.

use chrono::{Days, NaiveDate};
use tonic::Code;

use devstack::clients::{Clients, eventually};
use devstack::scenario::{self, ESCROW_ACCOUNT, bank_csv};
use kit::auth::Role;
use proto::dunning::v1 as dunning;
use proto::reporting::v1 as reporting;
use proto::types::v1::{ContactChannel, Money};

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

/// Runs a poppler tool on a file and returns its output.
fn poppler(tool: &str, path: &std::path::Path) -> String {
    let mut command = std::process::Command::new(tool);
    command.arg(path);
    if tool == "pdftotext" {
        command.arg("-");
    }
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {tool}: {e}; install poppler-utils"));
    assert!(out.status.success(), "{tool} failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn recovery_collectors_forecast_and_the_month_end_pack_equal_hand_computed_figures_r_o1() {
    let (stack, mut admin) = start().await;
    let t = day(0);
    let mut li =
        Clients::as_user(&stack, "li.na", &[Role::Collector], Some("east")).or_logs(&stack);
    let mut wang =
        Clients::as_user(&stack, "wang.wu", &[Role::Collector], Some("west")).or_logs(&stack);
    let x = scenario::create_customer(&mut li, "冯月报")
        .await
        .or_logs(&stack);
    let y = scenario::create_customer(&mut li, "陈月报")
        .await
        .or_logs(&stack);
    let z = scenario::create_customer(&mut wang, "赵月报")
        .await
        .or_logs(&stack);
    scenario::create_contract(
        &mut li,
        &x,
        "HT-MONTH-X",
        &[("10000.00", &day(-1)), ("2000.00", &day(10))],
    )
    .await
    .or_logs(&stack);
    scenario::create_contract(&mut li, &y, "HT-MONTH-Y", &[("10000.00", &day(-1))])
        .await
        .or_logs(&stack);
    scenario::create_contract(&mut wang, &z, "HT-MONTH-Z", &[("3000.00", &day(-1))])
        .await
        .or_logs(&stack);
    scenario::run_cycle(&mut admin, &t).await.or_logs(&stack);
    for customer in [&x, &y, &z] {
        eventually("the reminder", EVENTUALLY, || async {
            Ok(scenario::dunning_cases(&admin, customer)
                .await?
                .into_iter()
                .any(|c| c.current_step == "reminder")
                .then_some(()))
        })
        .await
        .or_logs(&stack);
    }
    // Y promises 6,000.00 by T+5 (made on dunning's day, T).
    li.dunning
        .make_promise(dunning::MakePromiseRequest {
            idempotency_key: "month-promise-y".into(),
            customer_id: y.clone(),
            amount: Some(Money {
                amount: "6000.00".into(),
                currency: "CNY".into(),
            }),
            promised_date: day(5),
            grace_days: 0,
            threshold_percent: String::new(),
            note: String::new(),
        })
        .await
        .or_logs(&stack);
    let file = bank_csv(&[
        [
            &t,
            "4000.00",
            "CNY",
            "冯月报",
            "6222020000003001",
            "HT-MONTH-X/1",
        ],
        [
            &day(2),
            "6000.00",
            "CNY",
            "陈月报",
            "6222020000003002",
            "HT-MONTH-Y/1",
        ],
    ]);
    scenario::ingest(&mut admin, "month-1.csv", file)
        .await
        .or_logs(&stack);

    // Recovery by step (R-O1), steps of T, 30 days: the SMS stage reached X1, Y1, Z1, owing
    // 10,000 + 10,000 + 3,000 = 23,000.00 that day; recovered after it X's 4,000 (T) and
    // Y's 6,000 (T+2): 10,000.00, 2 debts, 10,000 / 23,000 = 43.48 %.
    let cashier = Clients::as_user(&stack, "clerk-zhou", &[Role::Cashier], None).or_logs(&stack);
    let recovery = eventually("both payments in the recovery report", EVENTUALLY, || {
        let mut c = cashier.reporting.clone();
        let t = t.clone();
        async move {
            let r = c
                .get_recovery_by_step(reporting::GetRecoveryByStepRequest {
                    from: t.clone(),
                    to: t,
                    currency: "CNY".into(),
                    within_days: 0,
                })
                .await?
                .into_inner();
            Ok(r.reports.into_iter().next().filter(|r| {
                r.rows
                    .first()
                    .is_some_and(|row| amount(row.recovered.as_ref()) == "10000.00")
            }))
        }
    })
    .await
    .or_logs(&stack);
    assert_eq!(recovery.rows.len(), 1, "{recovery:?}");
    let sms = &recovery.rows[0];
    assert_eq!(sms.stage, ContactChannel::Sms as i32);
    assert_eq!(sms.steps, vec!["reminder".to_owned()]);
    assert_eq!((sms.debts, sms.debts_recovered), (3, 2));
    assert_eq!(amount(sms.owed.as_ref()), "23000.00");
    assert_eq!(sms.recovery_rate_percent, "43.48");

    // Per collector (R-O7) over T…T: li.na owns X and Y: sales 22,000, collected 4,000 (Y's
    // payment is booked T+2), closing 18,000 of which 2,000 not due: CEI = (0 + 22,000 −
    // 18,000) / (22,000 − 2,000) = 20.00 %; one promise made; two dunning cases. wang: Z's
    // 3,000 all past due: CEI 0.00 %.
    let all = eventually("the promise in the collectors' KPIs", EVENTUALLY, || {
        let mut c = cashier.reporting.clone();
        let t = t.clone();
        async move {
            let r = c
                .get_collector_kpis(reporting::GetCollectorKpisRequest {
                    from: t.clone(),
                    to: t,
                    currency: String::new(),
                })
                .await?
                .into_inner();
            Ok(r.rows
                .iter()
                .any(|row| row.owner == "li.na" && row.promises_made == 1)
                .then_some(r))
        }
    })
    .await
    .or_logs(&stack);
    assert_eq!(all.currency, "CNY");
    let owners: Vec<&str> = all.rows.iter().map(|r| r.owner.as_str()).collect();
    assert_eq!(owners, vec!["li.na", "wang.wu"]);
    let li_row = &all.rows[0];
    assert_eq!(li_row.team, "east");
    assert_eq!(li_row.customers, 2);
    assert_eq!(
        (
            amount(li_row.collected.as_ref()),
            amount(li_row.sales.as_ref()),
            amount(li_row.closing.as_ref()),
            amount(li_row.closing_current.as_ref()),
        ),
        ("4000.00", "22000.00", "18000.00", "2000.00")
    );
    assert_eq!(li_row.cei_percent, "20.00");
    assert_eq!(
        (
            li_row.promises_made,
            li_row.promises_kept,
            li_row.promises_broken
        ),
        (1, 0, 0)
    );
    assert_eq!(li_row.cases, 2);
    assert_eq!(all.rows[1].cei_percent, "0.00");
    assert_eq!(amount(all.rows[1].collected.as_ref()), "0.00");
    // R-O3: a collector gets their own row only, a supervisor their team's.
    let own = li
        .reporting
        .get_collector_kpis(reporting::GetCollectorKpisRequest {
            from: t.clone(),
            to: t.clone(),
            currency: String::new(),
        })
        .await
        .or_logs(&stack)
        .into_inner();
    assert_eq!(
        own.rows
            .iter()
            .map(|r| r.owner.as_str())
            .collect::<Vec<_>>(),
        vec!["li.na"]
    );
    let west =
        Clients::as_user(&stack, "boss-west", &[Role::Supervisor], Some("west")).or_logs(&stack);
    let team = west
        .reporting
        .clone()
        .get_collector_kpis(reporting::GetCollectorKpisRequest {
            from: t.clone(),
            to: t.clone(),
            currency: String::new(),
        })
        .await
        .or_logs(&stack)
        .into_inner();
    assert_eq!(
        team.rows
            .iter()
            .map(|r| r.owner.as_str())
            .collect::<Vec<_>>(),
        vec!["wang.wu"]
    );

    // The forecast from T (R-O1): no history before T, so the contract's terms (pay rate 1,
    // no delay), no overdue recovery yet (0) and promises at face (the pay rate). Week 1
    // (T+1…T+7): Y's promise, 6,000.00; week 2: X's 2,000.00 due T+10. Open at T: 6,000 +
    // 2,000 + 10,000 + 3,000 = 21,000.00, of which 13,000.00 beyond the twelve weeks.
    let f = cashier
        .reporting
        .clone()
        .get_forecast(reporting::GetForecastRequest {
            as_of: t.clone(),
            currency: "CNY".into(),
            weeks: 0,
            backtest_weeks: 0,
        })
        .await
        .or_logs(&stack)
        .into_inner();
    assert_eq!(f.weeks.len(), 12);
    assert_eq!(f.weeks[0].from, day(1));
    assert_eq!(amount(f.weeks[0].promised.as_ref()), "6000.00");
    assert_eq!(amount(f.weeks[0].total.as_ref()), "6000.00");
    assert_eq!(amount(f.weeks[1].scheduled.as_ref()), "2000.00");
    assert!(
        f.weeks[2..]
            .iter()
            .all(|w| amount(w.total.as_ref()) == "0.00")
    );
    let basis = f.basis.expect("basis");
    assert_eq!(
        (
            basis.pay_rate.as_str(),
            basis.delay_days.as_str(),
            basis.weekly_overdue_rate.as_str(),
            basis.promise_kept_rate.as_str()
        ),
        ("1.0000", "0", "0.0000", "1.0000")
    );
    assert_eq!(amount(basis.open.as_ref()), "21000.00");
    assert_eq!(amount(basis.beyond.as_ref()), "13000.00");
    assert_eq!(f.backtest.expect("backtest").weeks.len(), 4);

    // Its measured error: as of T+14 with the two weeks after T held back, the forecast made
    // from T (6,000.00 and 2,000.00) against what came (Y's 6,000.00 in week 1, nothing in
    // week 2): absolute error 2,000.00 on 6,000.00, WAPE 33.33 %, bias +33.33 %.
    let out = collectctl_ok(
        &stack,
        &stack
            .auth
            .token("clerk-zhou", &[Role::Cashier], None)
            .or_logs(&stack),
        &[
            "report",
            "forecast",
            "--as-of",
            &day(14),
            "--backtest-weeks",
            "2",
            "--json",
        ],
    );
    let json: serde_json::Value = serde_json::from_str(&out).or_logs(&stack);
    let b = &json["backtest"];
    assert_eq!(b["as_of"], t, "{out}");
    assert_eq!(b["weeks"][0]["forecast"], "6000.00", "{out}");
    assert_eq!(b["weeks"][0]["actual"], "6000.00");
    assert_eq!(b["weeks"][1]["forecast"], "2000.00");
    assert_eq!(b["weeks"][1]["actual"], "0.00");
    assert_eq!(b["weeks"][1]["error"], "2000.00");
    assert_eq!(b["absolute_error"], "2000.00");
    assert_eq!(b["wape_percent"], "33.33");
    assert_eq!(b["bias_percent"], "33.33");

    // The CLI's CSV of recovery by step.
    let clerk = stack
        .auth
        .token("clerk-zhou", &[Role::Cashier], None)
        .or_logs(&stack);
    let csv = collectctl_ok(
        &stack,
        &clerk,
        &["report", "recovery", "--from", &t, "--to", &t, "--csv"],
    );
    assert!(
        csv.lines()
            .any(|l| l == format!("{t},{t},CNY,sms,reminder,3,23000.00,10000.00,2,43.48")),
        "{csv}"
    );
    let text = collectctl_ok(
        &stack,
        &clerk,
        &["report", "collectors", "--from", &t, "--to", &t],
    );
    assert!(text.contains("li.na") && text.contains("20.00 %"), "{text}");

    // The month-end pack of T's month, as PDF and HTML, with payments' book-to-bank of the
    // escrow account (R-P7), read by reporting with its own client certificate: the CSV
    // payments came without an end-of-day statement, so book and bank do not match.
    let month = &t[..7];
    let dir = tempfile::tempdir().or_logs(&stack);
    let pdf = dir.path().join("pack.pdf");
    let out = collectctl_ok(
        &stack,
        &clerk,
        &[
            "report",
            "pack",
            "--month",
            month,
            "--account",
            ESCROW_ACCOUNT,
            "--out",
            &pdf.display().to_string(),
            "--json",
        ],
    );
    let pack: serde_json::Value = serde_json::from_str(&out).or_logs(&stack);
    assert_eq!(pack["content_type"], "application/pdf", "{out}");
    assert_eq!(pack["voucher_balanced"], true, "{out}");
    assert_eq!(
        pack["book_to_bank_note"], "",
        "payments answered reporting: {out}"
    );
    assert_eq!(pack["book_to_bank_matched"], false, "{out}");
    let info = poppler("pdfinfo", &pdf);
    let pages: u32 = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or(0);
    assert!(pages > 0, "{info}");
    let fonts = poppler("pdffonts", &pdf);
    assert!(
        fonts.lines().skip(2).all(|l| l.contains(" yes ")),
        "every font embedded: {fonts}"
    );
    let words = poppler("pdftotext", &pdf);
    let flat: String = words.split_whitespace().collect::<Vec<_>>().join(" ");
    for figure in ["月末报告", "23,000.00", "43.48 %", "6702", "1231", "WAPE"] {
        assert!(
            flat.contains(figure),
            "{figure} missing from the PDF: {flat}"
        );
    }
    let html = dir.path().join("pack.html");
    collectctl_ok(
        &stack,
        &clerk,
        &[
            "report",
            "pack",
            "--month",
            month,
            "--account",
            ESCROW_ACCOUNT,
            "--html",
            "--out",
            &html.display().to_string(),
        ],
    );
    let page = std::fs::read_to_string(&html).or_logs(&stack);
    for figure in [
        "23,000.00",
        "43.48 %",
        "missing statement",
        "借贷平衡 balanced: 是 yes",
    ] {
        assert!(page.contains(figure), "{figure} missing from the HTML pack");
    }
    assert!(
        !page.contains("冯月报") && !page.contains("6222020000003001"),
        "no names or accounts in the pack (R-O4)"
    );

    // Portfolio reports stay closed to collectors (R-O3); a bad request names its field.
    let refused = li
        .reporting
        .get_forecast(reporting::GetForecastRequest::default())
        .await
        .expect_err("collectors read no portfolio forecast");
    assert_eq!(refused.code(), Code::PermissionDenied);
    let bad = cashier
        .reporting
        .clone()
        .get_forecast(reporting::GetForecastRequest {
            weeks: 13,
            ..Default::default()
        })
        .await
        .expect_err("at most 12 weeks");
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(bad.message().starts_with("weeks:"), "{}", bad.message());
}

/// Deploy: reporting's migration Job (deploy/k8s/base/reporting.yaml) on a database prepared
/// by the production roles.sql: `reporting migrate` as collections_reporting_migrate, with
/// nothing but the database settings, migrates schema reporting and exits; again is a no-op.
#[tokio::test(flavor = "multi_thread")]
async fn reporting_migrates_as_its_migration_job_on_the_production_roles() {
    use sqlx::{Connection as _, Executor as _, PgConnection};
    let stack = devstack::Stack::start(
        devstack::StackOptions {
            isolated: true,
            only: vec!["contracts".to_owned()],
            ..devstack::StackOptions::default()
        },
        |_| {},
    )
    .await
    .expect("the stack starts");
    let admin = devstack::provision::PgUrl::parse(&stack.superuser_url).or_logs(&stack);
    let database = format!("rj_{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let mut conn = PgConnection::connect(&stack.superuser_url)
        .await
        .or_logs(&stack);
    conn.execute(sqlx::AssertSqlSafe(format!(
        "CREATE DATABASE \"{database}\""
    )))
    .await
    .or_logs(&stack);
    conn.close().await.or_logs(&stack);
    let superuser = admin.with(&admin.user, admin.password.as_deref(), &database);
    let mut conn = PgConnection::connect(&superuser).await.or_logs(&stack);
    sqlx::raw_sql(include_str!("../../deploy/k8s/platform/roles.sql"))
        .execute(&mut conn)
        .await
        .or_logs(&stack);
    conn.execute("ALTER ROLE collections_reporting_migrate LOGIN PASSWORD 'collections'")
        .await
        .or_logs(&stack);
    conn.close().await.or_logs(&stack);
    let url = admin.with(
        "collections_reporting_migrate",
        Some("collections"),
        &database,
    );
    let bin = devstack::process::bin_dir()
        .or_logs(&stack)
        .join("reporting");
    for _ in 0..2 {
        let out = std::process::Command::new(&bin)
            .env_clear()
            .env("DATABASE_URL", &url)
            .env("DATABASE_SCHEMA", "reporting")
            .env("RUST_LOG", "warn")
            .arg("migrate")
            .output()
            .or_logs(&stack);
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{said}");
        assert!(
            said.contains("schema reporting migrated to version"),
            "{said}"
        );
    }
}
