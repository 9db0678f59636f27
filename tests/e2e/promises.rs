//! Issue 14 item 2 (R-D5): a promise to pay of 5,000.00 with a 95 % threshold and 2 grace
//! days holds the ladder; 4,800.00 paid on the grace day keeps it, 4,000.00 breaks it. A
//! broken promise resumes the ladder where it paused (not at its first step), lowers the score
//! (pts-v1: 35 points) and puts a call in the owner's tasks.

use devstack::clients::{Clients, eventually};
use devstack::scenario::{self, bank_csv};
use kit::auth::Role;
use proto::dunning::v1 as dunning;
use proto::types::v1::{ContactChannel, HoldReason, Money};

use crate::helpers::{EVENTUALLY, OrLogs, caught_up, start};
use proto::scoring::v1 as scoring;

use crate::money_path::{grade, score};

async fn promises(clients: &Clients, customer: &str) -> anyhow::Result<Vec<dunning::Promise>> {
    Ok(clients
        .dunning
        .clone()
        .list_promises(dunning::ListPromisesRequest {
            customer_id: customer.to_owned(),
        })
        .await?
        .into_inner()
        .promises)
}

async fn case(clients: &Clients, customer: &str) -> anyhow::Result<dunning::DunningCase> {
    scenario::dunning_cases(clients, customer)
        .await?
        .into_iter()
        .find(|c| c.status == "active")
        .ok_or_else(|| anyhow::anyhow!("no active case"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_promise_holds_the_ladder_and_is_kept_or_broken_by_what_is_paid_r_d5() {
    let (stack, admin) = start().await;
    let mut li =
        Clients::as_user(&stack, "li.na", &[Role::Collector], Some("east")).or_logs(&stack);
    let mut customers = Vec::new();
    for (name, no) in [("冯十二", "HT-PROM-A"), ("陈十三", "HT-PROM-B")] {
        let customer = scenario::create_customer(&mut li, name)
            .await
            .or_logs(&stack);
        scenario::create_contract(&mut li, &customer, no, &[("10000.00", "2026-03-10")])
            .await
            .or_logs(&stack);
        customers.push(customer);
    }
    let (breaker, keeper) = (customers[0].clone(), customers[1].clone());
    let mut admin_cycles = admin.clone();
    // Day 1 the reminder, day 7 the written notice (the compact policy).
    for day in ["2026-03-11", "2026-03-17"] {
        scenario::run_cycle(&mut admin_cycles, day)
            .await
            .or_logs(&stack);
    }
    for customer in &customers {
        eventually("the notice", EVENTUALLY, || async {
            Ok((case(&li, customer).await?.current_step == "notice").then_some(()))
        })
        .await
        .or_logs(&stack);
    }

    // The collector records each debtor's promise: 5,000.00 by 25 March, 2 grace days, 95 %.
    let promise = |customer: &str| dunning::MakePromiseRequest {
        idempotency_key: format!("promise-{customer}"),
        customer_id: customer.to_owned(),
        amount: Some(Money {
            amount: "5000.00".into(),
            currency: "CNY".into(),
        }),
        promised_date: "2026-03-25".into(),
        grace_days: 2,
        threshold_percent: "95".into(),
        note: "will pay half at month end".into(),
    };
    for customer in &customers {
        let made = li
            .dunning
            .make_promise(promise(customer))
            .await
            .or_logs(&stack)
            .into_inner()
            .promise
            .expect("a promise");
        assert_eq!(made.status, dunning::PromiseStatus::Open as i32);
        assert_eq!(made.paused_step, "notice");
        assert_eq!(made.made_by, "li.na");
        assert_eq!(made.threshold_percent, "95");
        // The same request again is the same promise; another one while it is open is refused.
        let again = li
            .dunning
            .make_promise(promise(customer))
            .await
            .or_logs(&stack)
            .into_inner()
            .promise
            .expect("a promise");
        assert_eq!(again.promise_id, made.promise_id);
        let second = li
            .dunning
            .make_promise(dunning::MakePromiseRequest {
                idempotency_key: format!("second-{customer}"),
                ..promise(customer)
            })
            .await
            .expect_err("one open promise at a time");
        assert_eq!(second.code(), tonic::Code::FailedPrecondition);
    }
    let bad = li
        .dunning
        .make_promise(dunning::MakePromiseRequest {
            idempotency_key: "bad".into(),
            threshold_percent: "120".into(),
            ..promise(&keeper)
        })
        .await
        .expect_err("a share over 100 %");
    assert_eq!(bad.code(), tonic::Code::InvalidArgument);
    assert!(
        bad.message().starts_with("threshold_percent"),
        "{}",
        bad.message()
    );

    // While the promise is open the ladder holds, saying why.
    scenario::run_cycle(&mut admin_cycles, "2026-03-20")
        .await
        .or_logs(&stack);
    for customer in &customers {
        eventually("held for the promise", EVENTUALLY, || async {
            Ok((case(&li, customer).await?.hold == HoldReason::PromiseToPay as i32).then_some(()))
        })
        .await
        .or_logs(&stack);
    }

    // 4,000.00 on the 26th; 4,800.00 on the 27th, the last grace day.
    let file = bank_csv(&[
        [
            "2026-03-26",
            "4000.00",
            "CNY",
            "冯十二",
            "6222020000001212",
            "HT-PROM-A/1",
        ],
        [
            "2026-03-27",
            "4800.00",
            "CNY",
            "陈十三",
            "6222020000001313",
            "HT-PROM-B/1",
        ],
    ]);
    let mut admin_ingest = admin.clone();
    scenario::ingest(&mut admin_ingest, "promises.csv", file)
        .await
        .or_logs(&stack);
    for (customer, paid) in [(&breaker, "4000.00"), (&keeper, "4800.00")] {
        eventually("the payment counted", EVENTUALLY, || async {
            let p = promises(&li, customer).await?;
            Ok(p.first()
                .and_then(|p| p.paid.as_ref())
                .filter(|m| m.amount == paid)
                .map(|_| ()))
        })
        .await
        .or_logs(&stack);
    }
    // pts-v1: a late payment with nothing paid on time, 10 days past due and all of it
    // overdue: both are B (595 points) before the judgement; dunning knows it before the day.
    for customer in [&breaker, &keeper] {
        eventually("graded B after the late payment", EVENTUALLY, || async {
            Ok(grade(&admin, customer).await?.filter(|g| g == "B"))
        })
        .await
        .or_logs(&stack);
    }
    caught_up(&stack, "dunning", kit::events::SCORING_GRADES)
        .await
        .or_logs(&stack);
    let grade_before = grade(&admin, &breaker).await.or_logs(&stack);

    // The day after the last grace day: judged.
    scenario::run_cycle(&mut admin_cycles, "2026-03-28")
        .await
        .or_logs(&stack);
    let broken = eventually("the promise broken", EVENTUALLY, || async {
        let p = promises(&li, &breaker).await?;
        Ok(p.into_iter()
            .find(|p| p.status == dunning::PromiseStatus::Broken as i32))
    })
    .await
    .or_logs(&stack);
    assert_eq!(broken.judged_on, "2026-03-28");
    let kept = eventually("the promise kept", EVENTUALLY, || async {
        let p = promises(&li, &keeper).await?;
        Ok(p.into_iter()
            .find(|p| p.status == dunning::PromiseStatus::Kept as i32))
    })
    .await
    .or_logs(&stack);
    assert_eq!(kept.paid.map(|m| m.amount), Some("4800.00".to_owned()));

    // The broken promise: the ladder resumes where it paused (the notice), not at the
    // reminder: for a B debtor the early notice is due on top of it (R-S4, compact policy:
    // from day 3 for B or worse); a call about it is in the owner's tasks; the score drops.
    let resumed = eventually("the ladder resumed", EVENTUALLY, || async {
        let c = case(&li, &breaker).await?;
        Ok((c.hold != HoldReason::PromiseToPay as i32).then_some(c))
    })
    .await
    .or_logs(&stack);
    assert_eq!(resumed.current_step, "notice_early");
    let steps: Vec<String> = scenario::dunning_actions(&li, &resumed.case_id)
        .await
        .or_logs(&stack)
        .into_iter()
        .map(|a| a.step)
        .filter(|s| s != "stopped")
        .collect();
    assert_eq!(
        steps,
        ["reminder", "notice", "notice_early"],
        "never back to the first step"
    );
    let tasks = crate::helpers::tasks_of(&li, &breaker)
        .await
        .or_logs(&stack);
    let call = tasks
        .iter()
        .find(|t| t.step == "broken_promise")
        .expect("a call about the broken promise");
    assert_eq!(call.channel, ContactChannel::PhoneCall as i32);
    assert_eq!(call.assignee, "li.na");
    caught_up(&stack, "scoring", kit::events::DUNNING)
        .await
        .or_logs(&stack);
    // pts-v1 (R-S1, R-S3): the broken promise costs the breaker 35 points (broken_promises
    // falls from 80 to 45), everything else being equal to the keeper: 18 days past due, all
    // outstanding overdue, one late payment, none of it on time. 595 points for the keeper and
    // 560 for the breaker: both B (520-599), so the grade stays and the score drops.
    let (breaker_score, keeper_score) =
        eventually("the broken promise scored", EVENTUALLY, || async {
            let b = score(&admin, &breaker).await?;
            let k = score(&admin, &keeper).await?;
            Ok(b.zip(k).filter(|(b, k)| {
                b.days_past_due == 18 && k.days_past_due == 18 && b.points + 35 == k.points
            }))
        })
        .await
        .or_logs(&stack);
    assert_eq!(
        (keeper_score.points, keeper_score.grade.as_str()),
        (595, "B"),
        "18 days past due, promise kept"
    );
    assert_eq!(
        (breaker_score.points, breaker_score.grade.as_str()),
        (560, "B"),
        "18 days past due and a broken promise: 35 points lower"
    );
    assert!(grade_before.is_some());
    let explained = admin
        .scoring
        .clone()
        .explain_score(scoring::ExplainScoreRequest {
            customer_id: breaker.clone(),
        })
        .await
        .or_logs(&stack)
        .into_inner();
    let broken_promises = explained
        .indicators
        .iter()
        .find(|i| i.indicator == "broken_promises")
        .expect("the indicator");
    assert_eq!(
        (
            broken_promises.value.as_str(),
            broken_promises.bin.as_str(),
            broken_promises.points
        ),
        ("1", "1", 45)
    );
    // Nobody but the keeper's call list changed for the keeper: no broken-promise task.
    let keeper_tasks = crate::helpers::tasks_of(&li, &keeper).await.or_logs(&stack);
    assert!(keeper_tasks.iter().all(|t| t.step != "broken_promise"));

    // KPIs for March, by hand: 4,000.00 + 4,800.00 collected, both while the notice was the
    // step in force; two promises judged, one kept.
    let kpis = li
        .dunning
        .clone()
        .get_kpis(dunning::GetKpisRequest {
            owner: String::new(),
            from: "2026-03-01".into(),
            to: "2026-03-31".into(),
            currency: String::new(),
            team: String::new(),
        })
        .await
        .or_logs(&stack)
        .into_inner();
    assert_eq!(kpis.collectors.len(), 1);
    let mine = &kpis.collectors[0];
    assert_eq!(mine.owner, "li.na");
    assert_eq!(
        mine.collected.as_ref().map(|m| m.amount.as_str()),
        Some("8800.00")
    );
    assert_eq!(
        mine.collected_by_step
            .iter()
            .map(|s| (
                s.step.as_str(),
                s.amount.as_ref().map_or("", |m| m.amount.as_str())
            ))
            .collect::<Vec<_>>(),
        [("notice", "8800.00")]
    );
    assert_eq!(
        (
            mine.promises_kept,
            mine.promises_judged,
            mine.promise_kept_rate.as_str()
        ),
        (1, 2, "0.50")
    );
    assert_eq!(mine.contact_attempts, 0);
    assert_eq!(mine.right_party_contact_rate, "");

    // The collector's command shows the same.
    let token = stack
        .auth
        .token("li.na", &[Role::Collector], Some("east"))
        .or_logs(&stack);
    let listed = crate::operator_cli::collectctl_ok(
        &stack,
        &token,
        &["dunning", "promises", "list", &breaker],
    );
    assert!(
        listed.contains("broken  5000.00 CNY by 2026-03-25") && listed.contains("paid 4000.00 CNY"),
        "{listed}"
    );
}
