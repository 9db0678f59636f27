//! Issue 15 item 3 (R-S1..R-S5): the service scores with pts-v1. A customer who paid an
//! installment on time, then lets the next one fall overdue and breaks a promise to pay it,
//! falls from AA to BBB; the reasons name days past due and the broken promise; GetScore shows
//! the strategy (credit term, security, severe default, credit hold); the quarter's first daily
//! cycle starts the quarterly review, which re-scores everyone once per period, and a review
//! killed mid-way resumes after its last chunk.

use devstack::clients::eventually;
use devstack::scenario::{self, bank_csv};
use kit::auth::Role;
use proto::dunning::v1 as dunning;
use proto::scoring::v1 as scoring;
use proto::types::v1::{CreditHoldAdvice, CreditSecurity, FollowUp, Grade, Money};

use crate::helpers::{EVENTUALLY, OrLogs, caught_up, start};
use crate::money_path::score;

#[tokio::test(flavor = "multi_thread")]
async fn an_overdue_and_a_broken_promise_lower_the_grade_with_reasons_and_strategy_r_s2_r_s4() {
    let (stack, admin) = start().await;
    let mut li =
        devstack::clients::Clients::as_user(&stack, "li.na", &[Role::Collector], Some("east"))
            .or_logs(&stack);
    let customer = scenario::create_customer(&mut li, "韩十八")
        .await
        .or_logs(&stack);
    scenario::create_contract(
        &mut li,
        &customer,
        "HT-SC-A",
        &[
            ("1000.00", "2026-03-05"),
            ("1000.00", "2026-03-10"),
            ("98000.00", "2026-09-10"),
        ],
    )
    .await
    .or_logs(&stack);
    // A new customer with nothing paid yet: 815 points, A.
    eventually("graded A", EVENTUALLY, || async {
        Ok(score(&admin, &customer).await?.filter(|s| s.grade == "A"))
    })
    .await
    .or_logs(&stack);

    // Installment 1 paid before its due date: all of the amount paid on time (100 of 100
    // points instead of 50 for no history): 865 points, AA.
    let file = bank_csv(&[[
        "2026-03-04",
        "1000.00",
        "CNY",
        "韩十八",
        "6222020000001818",
        "HT-SC-A/1",
    ]]);
    let mut ingest = admin.clone();
    scenario::ingest(&mut ingest, "score-strategy.csv", file)
        .await
        .or_logs(&stack);
    let before = eventually("graded AA", EVENTUALLY, || async {
        Ok(score(&admin, &customer).await?.filter(|s| s.grade == "AA"))
    })
    .await
    .or_logs(&stack);
    assert_eq!(before.points, 865);
    assert_eq!(before.grade_level, Grade::Aa as i32);
    assert_eq!(before.scorecard_version, "pts-v1");

    // Installment 2 falls overdue; the notice on day 7; the debtor promises 1,000.00 by the
    // 20th (2 grace days) and pays nothing.
    let mut cycles = admin.clone();
    for day in ["2026-03-11", "2026-03-17"] {
        scenario::run_cycle(&mut cycles, day).await.or_logs(&stack);
    }
    eventually("the notice", EVENTUALLY, || async {
        let cases = scenario::dunning_cases(&li, &customer).await?;
        Ok(cases
            .into_iter()
            .find(|c| c.status == "active" && c.current_step == "notice"))
    })
    .await
    .or_logs(&stack);
    li.dunning
        .make_promise(dunning::MakePromiseRequest {
            idempotency_key: format!("promise-{customer}"),
            customer_id: customer.clone(),
            amount: Some(Money {
                amount: "1000.00".into(),
                currency: "CNY".into(),
            }),
            promised_date: "2026-03-20".into(),
            grace_days: 2,
            threshold_percent: "95".into(),
            note: "will pay on Friday".into(),
        })
        .await
        .or_logs(&stack);
    scenario::run_cycle(&mut cycles, "2026-03-23")
        .await
        .or_logs(&stack);
    caught_up(&stack, "scoring", kit::events::DUNNING)
        .await
        .or_logs(&stack);

    // 13 days past due (100 of 180 points) and one broken promise (45 of 80): 750, BBB.
    let after = eventually("the grade fell", EVENTUALLY, || async {
        Ok(score(&admin, &customer)
            .await?
            .filter(|s| s.grade == "BBB" && s.days_past_due == 13))
    })
    .await
    .or_logs(&stack);
    assert_eq!(after.points, 750, "{after:?}");
    assert_eq!(after.grade_level, Grade::Bbb as i32);
    assert_eq!(after.max_points, 1000);
    // R-S2: the indicators that lost the most points, most first.
    let codes: Vec<&str> = after.reasons.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(
        codes,
        ["DPD", "SHORT_TENURE", "BUREAU", "BROKEN_PROMISES"],
        "{after:?}"
    );
    let dpd = &after.reasons[0];
    assert_eq!(
        (dpd.indicator.as_str(), dpd.points_lost),
        ("days_past_due", 80)
    );
    assert!(!dpd.description.is_empty());
    assert_eq!(after.reasons[3].indicator, "broken_promises");
    // R-S4, R-C5, R-S5: BBB gives 30 days, capped at 15 for a new customer; no security;
    // the standard ladder; no severe default and no credit hold.
    let strategy = after.strategy.expect("strategy outputs");
    assert_eq!(strategy.credit_term_days, 15);
    assert!(strategy.new_customer && !strategy.pay_up_front);
    assert_eq!(strategy.security, CreditSecurity::None as i32);
    assert!(!strategy.down_payment_or_guarantee);
    assert_eq!(strategy.follow_up, FollowUp::Standard as i32);
    assert!(!strategy.severe_default);
    assert_eq!(strategy.credit_hold, CreditHoldAdvice::None as i32);

    // R-S3: the quarter's first daily cycle (2026-03-11) started the 2026-Q1 review, and the
    // service's review worker ran it by itself: every customer re-scored once; nothing moved
    // by it (the events had kept the grades current).
    let db = sqlx::PgPool::connect(&stack.superuser_url)
        .await
        .or_logs(&stack);
    let (as_of, rescored): (chrono::NaiveDate, i32) =
        eventually("the scheduled review finished", EVENTUALLY, || async {
            Ok(sqlx::query_as(
                "SELECT as_of, rescored FROM scoring.reviews WHERE period = '2026-Q1' AND finished_at IS NOT NULL",
            )
            .fetch_optional(&db)
            .await?)
        })
        .await
        .or_logs(&stack);
    assert_eq!(as_of.to_string(), "2026-03-11");
    assert!(rescored >= 1);
    let reviewed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM scoring.score_history WHERE cause = 'review 2026-Q1' AND customer_id = $1::uuid",
    )
    .bind(&customer)
    .fetch_one(&db)
    .await
    .or_logs(&stack);
    assert_eq!(reviewed, 1, "re-scored once by the quarter's review");
    // Asked for again by an operator, the quarter's review is not run twice.
    let ops = stack
        .auth
        .token("ops.wang", &[Role::Admin], None)
        .or_logs(&stack);
    let again: serde_json::Value = serde_json::from_str(&crate::operator_cli::collectctl_ok(
        &stack,
        &ops,
        &["score", "review", "--as-of", "2026-03-31", "--json"],
    ))
    .or_logs(&stack);
    assert_eq!(again["period"], "2026-Q1", "{again}");
    assert_eq!(
        (&again["already_ran"], &again["rescored"]),
        (&serde_json::json!(true), &serde_json::json!(0)),
        "{again}"
    );
    let said = crate::operator_cli::collectctl_ok(
        &stack,
        &ops,
        &["score", "review", "--as-of", "2026-02-01"],
    );
    assert!(said.contains("review 2026-Q1: already done"), "{said}");
    let refused = crate::operator_cli::collectctl(
        &stack,
        Some(&ops),
        &["score", "review", "--as-of", "2026-13-01"],
    );
    assert!(!refused.status.success());
    assert!(crate::operator_cli::text(&refused.stderr).contains("--as-of"));
    // A collector may not run it.
    let refused = li
        .scoring
        .clone()
        .run_review(scoring::RunReviewRequest::default())
        .await
        .expect_err("operators only");
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    let same = score(&admin, &customer)
        .await
        .or_logs(&stack)
        .expect("score");
    assert_eq!((same.points, same.grade.as_str()), (750, "BBB"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_review_killed_mid_way_resumes_after_its_last_chunk_and_scores_everyone_once_r_s3() {
    // One customer per chunk, so that the review can die between chunks.
    let (mut stack, admin) = crate::helpers::start_with_service_env(
        Vec::new(),
        vec![(
            "scoring".to_owned(),
            "SCORING_REVIEW_CHUNK".to_owned(),
            "1".to_owned(),
        )],
    )
    .await;
    let mut clients = admin.clone();
    let mut customers = Vec::new();
    for i in 0..3 {
        let customer = scenario::create_customer(&mut clients, &format!("复核{i}"))
            .await
            .or_logs(&stack);
        scenario::create_contract(
            &mut clients,
            &customer,
            &format!("HT-REV-{i}"),
            &[("5000.00", "2026-03-10")],
        )
        .await
        .or_logs(&stack);
        customers.push(customer);
    }
    for customer in &customers {
        eventually("graded", EVENTUALLY, || async {
            score(&admin, customer).await
        })
        .await
        .or_logs(&stack);
    }

    // A test connection holds the second customer's score: the review commits the first
    // chunk, then waits in the second; the process is killed there.
    let db = sqlx::PgPool::connect(&stack.superuser_url)
        .await
        .or_logs(&stack);
    let mut holder = db.begin().await.or_logs(&stack);
    // (Rows skipped by OFFSET would be locked too: pick the id first, then lock it alone.)
    let second: uuid::Uuid = sqlx::query_scalar(
        "SELECT customer_id FROM scoring.scores ORDER BY customer_id OFFSET 1 LIMIT 1",
    )
    .fetch_one(&db)
    .await
    .or_logs(&stack);
    sqlx::query("SELECT grade FROM scoring.scores WHERE customer_id = $1 FOR UPDATE")
        .bind(second)
        .fetch_one(&mut *holder)
        .await
        .or_logs(&stack);
    let mut blocked = admin.scoring.clone();
    let in_flight = tokio::spawn(async move {
        blocked
            .run_review(scoring::RunReviewRequest {
                as_of: "2026-04-01".into(),
            })
            .await
    });
    eventually("the review waits in its second chunk", EVENTUALLY, || async {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%FROM scores WHERE customer_id%'",
        )
        .fetch_one(&db)
        .await?;
        // The first chunk committed: one customer re-scored, the progress stored.
        let done: Option<(i32, Option<String>)> = sqlx::query_as(
            "SELECT rescored, last_customer::text FROM scoring.reviews WHERE period = '2026-Q2'",
        )
        .fetch_optional(&db)
        .await?;
        Ok((waiting > 0 && matches!(done, Some((1, Some(_))))).then_some(()))
    })
    .await
    .or_logs(&stack);
    stack.kill("scoring").or_logs(&stack);
    holder.rollback().await.or_logs(&stack);
    let lost = in_flight.await.expect("the task ran");
    assert!(lost.is_err(), "the call died with the process: {lost:?}");

    // Restarted, scoring resumes the review after the committed chunk by itself.
    stack.restart("scoring").await.or_logs(&stack);
    eventually("the review finished", EVENTUALLY, || async {
        let finished: Option<i32> = sqlx::query_scalar(
            "SELECT rescored FROM scoring.reviews WHERE period = '2026-Q2' AND finished_at IS NOT NULL",
        )
        .fetch_optional(&db)
        .await?;
        Ok(finished)
    })
    .await
    .map(|rescored| assert_eq!(rescored, 3))
    .or_logs(&stack);
    // Every customer re-scored exactly once by the review, none twice.
    let per_customer: Vec<i64> = sqlx::query_scalar(
        "SELECT count(*) FROM scoring.score_history WHERE cause = 'review 2026-Q2'
         GROUP BY customer_id ORDER BY customer_id",
    )
    .fetch_all(&db)
    .await
    .or_logs(&stack);
    assert_eq!(per_customer, [1, 1, 1]);
    let again = admin
        .scoring
        .clone()
        .run_review(scoring::RunReviewRequest {
            as_of: "2026-05-15".into(),
        })
        .await
        .or_logs(&stack)
        .into_inner();
    assert_eq!(again.period, "2026-Q2");
    assert!(again.already_ran, "{again:?}");
}
