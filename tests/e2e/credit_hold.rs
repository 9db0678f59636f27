//! Credit hold (R-L5, R-S5; issue 12 item 9): a customer on hold cannot sign a new contract
//! unless a supervisor allows that one contract. Holds come from a supervisor, from overdue
//! above the configured threshold (placed and released by the daily cycle) and from an open
//! legal case; each has its reason and history, and only a supervisor's hold is released by
//! hand.

use kit::auth::Role;
use proto::contracts::v1 as contracts;
use proto::contracts::v1::CreditHoldSource as Source;

use devstack::clients::{Clients, eventually};
use devstack::scenario::{self, bank_csv, open_amount};

use crate::helpers::{EVENTUALLY, OrLogs, start_with};
use crate::operator_cli::{collectctl, text};

async fn holds(
    clients: &Clients,
    customer: &str,
    history: bool,
) -> contracts::ListCreditHoldsResponse {
    clients
        .contracts
        .clone()
        .list_credit_holds(contracts::ListCreditHoldsRequest {
            customer_id: customer.into(),
            include_released: history,
            ..Default::default()
        })
        .await
        .expect("ListCreditHolds")
        .into_inner()
}

fn sources(list: &contracts::ListCreditHoldsResponse) -> Vec<(i32, bool)> {
    let mut s: Vec<(i32, bool)> = list.holds.iter().map(|h| (h.source, h.active)).collect();
    s.sort_unstable();
    s
}

async fn sign(clients: &mut Clients, customer: &str, no: &str) -> Result<(), tonic::Status> {
    scenario::create_contract(clients, customer, no, &[("1000.00", "2026-06-10")])
        .await
        .map(|_| ())
        .map_err(|e| e.downcast::<tonic::Status>().expect("a gRPC status"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_customer_on_credit_hold_signs_only_with_a_supervisors_override() {
    let (stack, mut admin) = start_with(vec![(
        "CREDIT_HOLD_OVERDUE_ABOVE".into(),
        "150.00 CNY".into(),
    )])
    .await;
    let mut sup =
        Clients::as_user(&stack, "sup-ada", &[Role::Supervisor], Some("team-a")).or_logs(&stack);

    // A supervisor's hold: placed, refuses signing with what to do, released by hand.
    let s = scenario::create_customer(&mut sup, "钱九")
        .await
        .or_logs(&stack);
    let placed = sup
        .contracts
        .place_credit_hold(contracts::PlaceCreditHoldRequest {
            customer_id: s.clone(),
            reason: "bankruptcy rumours, pending review".into(),
        })
        .await
        .or_logs(&stack)
        .into_inner()
        .hold
        .expect("hold");
    assert_eq!(placed.placed_by, "sup-ada", "the authenticated supervisor");
    assert!(holds(&sup, &s, false).await.on_hold);
    let refused = sign(&mut sup, &s, "HT-HOLD-S1").await.expect_err("on hold");
    assert_eq!(refused.code(), tonic::Code::FailedPrecondition);
    assert!(
        refused.message().contains("credit hold")
            && refused.message().contains("OverrideCreditHold"),
        "{}",
        refused.message()
    );
    // Nobody but a supervisor decides holds (the role table).
    let denied = admin
        .contracts
        .release_credit_hold(contracts::ReleaseCreditHoldRequest {
            hold_id: placed.hold_id.clone(),
            reason: "admin says so".into(),
        })
        .await
        .expect_err("admins do not decide holds");
    assert_eq!(denied.code(), tonic::Code::PermissionDenied);
    let released = sup
        .contracts
        .release_credit_hold(contracts::ReleaseCreditHoldRequest {
            hold_id: placed.hold_id.clone(),
            reason: "review done".into(),
        })
        .await
        .or_logs(&stack)
        .into_inner()
        .hold
        .expect("hold");
    assert!(!released.active && released.released_by == "sup-ada");
    sign(&mut sup, &s, "HT-HOLD-S1").await.or_logs(&stack);
    let history = holds(&sup, &s, true).await;
    assert!(!history.on_hold && history.holds.len() == 1);
    assert_eq!(history.holds[0].release_reason, "review done");

    // R-S5: overdue above 150.00 CNY holds B and C after the cycle; B pays down to 100.00
    // and the next cycle releases B's hold (by contracts, with the reason).
    let b = scenario::create_customer(&mut sup, "孙十")
        .await
        .or_logs(&stack);
    let c = scenario::create_customer(&mut sup, "李十一")
        .await
        .or_logs(&stack);
    let b_contract =
        scenario::create_contract(&mut sup, &b, "HT-HOLD-B", &[("200.00", "2026-01-10")])
            .await
            .or_logs(&stack);
    scenario::create_contract(&mut sup, &c, "HT-HOLD-C", &[("20000.00", "2026-01-10")])
        .await
        .or_logs(&stack);
    scenario::run_cycle(&mut admin, "2026-01-20")
        .await
        .or_logs(&stack);
    for customer in [&b, &c] {
        let list = holds(&sup, customer, false).await;
        assert_eq!(sources(&list), vec![(Source::Overdue as i32, true)]);
        assert!(
            list.holds[0]
                .reason
                .contains("above the threshold 150.00 CNY"),
            "{:?}",
            list.holds[0]
        );
    }
    // An overdue hold is not released by hand: the cycle decides.
    let by_hand = sup
        .contracts
        .release_credit_hold(contracts::ReleaseCreditHoldRequest {
            hold_id: holds(&sup, &b, false).await.holds[0].hold_id.clone(),
            reason: "please".into(),
        })
        .await
        .expect_err("cycle's hold");
    assert_eq!(by_hand.code(), tonic::Code::FailedPrecondition);
    scenario::ingest(
        &mut admin,
        "hold-b-2026-01-20.csv",
        bank_csv(&[["2026-01-20", "100.00", "CNY", "孙十", "", "HT-HOLD-B/1"]]),
    )
    .await
    .or_logs(&stack);
    let b_id = b_contract.contract_id.clone();
    eventually("B paid down to 100.00", EVENTUALLY, || {
        let (mut admin, b_id) = (admin.clone(), b_id.clone());
        async move {
            let r = scenario::receivables(&mut admin, &b_id).await?;
            Ok((open_amount(&r[0]) == "100.00").then_some(()))
        }
    })
    .await
    .or_logs(&stack);
    scenario::run_cycle(&mut admin, "2026-01-21")
        .await
        .or_logs(&stack);
    let b_history = holds(&sup, &b, true).await;
    assert!(!b_history.on_hold, "{b_history:?}");
    assert_eq!(b_history.holds[0].released_by, "contracts");
    assert!(holds(&sup, &c, false).await.on_hold);

    // R-L5: 33 days and 20,000 yuan overdue escalate C to legal (R-D7); the open case holds C.
    scenario::run_cycle(&mut admin, "2026-02-12")
        .await
        .or_logs(&stack);
    let c_holds = eventually("a legal-case hold on C", EVENTUALLY, || {
        let (sup, c) = (sup.clone(), c.clone());
        async move {
            let list = holds(&sup, &c, false).await;
            Ok(list
                .holds
                .iter()
                .any(|h| h.source == Source::LegalCase as i32)
                .then_some(list))
        }
    })
    .await
    .or_logs(&stack);
    let legal_hold = c_holds
        .holds
        .iter()
        .find(|h| h.source == Source::LegalCase as i32)
        .expect("legal hold");
    assert_eq!(legal_hold.placed_by, "legal");
    assert!(
        legal_hold.reason.starts_with("legal case"),
        "{legal_hold:?}"
    );
    let by_hand = sup
        .contracts
        .release_credit_hold(contracts::ReleaseCreditHoldRequest {
            hold_id: legal_hold.hold_id.clone(),
            reason: "please".into(),
        })
        .await
        .expect_err("ends with the case");
    assert!(
        by_hand.message().contains("case closes"),
        "{}",
        by_hand.message()
    );

    // An override lets exactly the named contract through, once.
    let granted = sup
        .contracts
        .override_credit_hold(contracts::OverrideCreditHoldRequest {
            customer_id: c.clone(),
            contract_no: "HT-HOLD-C2".into(),
            reason: "settlement agreed with legal; new parking space deal".into(),
        })
        .await
        .or_logs(&stack)
        .into_inner();
    assert_eq!(granted.granted_by, "sup-ada");
    let other = sign(&mut sup, &c, "HT-HOLD-C3")
        .await
        .expect_err("not the named one");
    assert_eq!(other.code(), tonic::Code::FailedPrecondition);
    sign(&mut sup, &c, "HT-HOLD-C2").await.or_logs(&stack);
    let again = sign(&mut sup, &c, "HT-HOLD-C4")
        .await
        .expect_err("used once");
    assert_eq!(again.code(), tonic::Code::FailedPrecondition);

    // The same through collectctl, as that supervisor: text by default, JSON on request.
    let token = stack
        .auth
        .token("sup-ada", &[Role::Supervisor], Some("team-a"))
        .or_logs(&stack);
    let out = collectctl(&stack, Some(&token), &["holds", "list", &c]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listed = text(&out.stdout);
    assert!(
        listed.contains("ON CREDIT HOLD")
            && listed.contains("legal case")
            && listed.contains("overdue"),
        "{listed}"
    );
    let out = collectctl(
        &stack,
        Some(&token),
        &["holds", "list", &b, "--history", "--json"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let history: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(history["on_hold"], serde_json::json!(false), "{history}");
    assert_eq!(history["holds"][0]["released_by"], "contracts", "{history}");
    let out = collectctl(
        &stack,
        Some(&token),
        &["holds", "place", &b, "--reason", "guarantor withdrew"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let refused = collectctl(
        &stack,
        Some(&token),
        &[
            "holds",
            "release",
            &legal_hold.hold_id,
            "--reason",
            "please",
        ],
    );
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("case closes"),
        "{}",
        text(&refused.stderr)
    );
}

/// Scoring's grade for `customer` (R-S5): `advice` is what the grade means for credit holds.
fn graded(
    customer: &str,
    grade: &str,
    score: u32,
    advice: proto::types::v1::CreditHoldAdvice,
    severe: bool,
) -> proto::events::v1::GradeChanged {
    proto::events::v1::GradeChanged {
        customer_id: customer.to_owned(),
        grade: grade.to_owned(),
        score,
        scorecard_version: "pts-v1".to_owned(),
        reasons: vec![proto::types::v1::ScoreReason {
            code: "DPD".to_owned(),
            description: "days past due".to_owned(),
            indicator: "days_past_due".to_owned(),
            points_lost: 150,
        }],
        strategy: Some(proto::types::v1::CreditStrategy {
            severe_default: severe,
            credit_hold: advice as i32,
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn scorings_advice_places_a_credit_hold_and_a_recovered_grade_releases_it_r_s5() {
    use prost::Message as _;
    use proto::types::v1::CreditHoldAdvice as Advice;

    let (stack, _admin) = crate::helpers::start().await;
    let mut sup =
        Clients::as_user(&stack, "sup-ada", &[Role::Supervisor], Some("team-a")).or_logs(&stack);
    let customer = scenario::create_customer(&mut sup, "孙二一")
        .await
        .or_logs(&stack);
    let producer = kit::kafka::producer(
        &stack.kafka,
        "e2e-grades",
        kit::kafka::Compression::default(),
    )
    .or_logs(&stack);
    let grade = |event: proto::events::v1::GradeChanged| {
        let producer = producer.clone();
        let stack = &stack;
        async move {
            let envelope = kit::events::envelope("scoring", &event.customer_id, &event);
            crate::helpers::publish(
                &producer,
                stack,
                kit::events::SCORING_GRADES,
                &event.customer_id,
                &envelope.encode_to_vec(),
            )
            .await
            .or_logs(stack);
        }
    };

    // Grade D with a severe default: scoring advises a hold; contracts places it.
    grade(graded(&customer, "D", 310, Advice::Place, true)).await;
    let held = eventually("the scoring hold", EVENTUALLY, || async {
        let list = holds(&sup, &customer, false).await;
        Ok(list
            .holds
            .into_iter()
            .find(|h| h.source == Source::Scoring as i32))
    })
    .await
    .or_logs(&stack);
    assert!(
        held.reason.contains("grade D")
            && held.reason.contains("severe default")
            && held.reason.contains("DPD"),
        "{held:?}"
    );
    assert_eq!(held.placed_by, "scoring");
    let refused = sign(&mut sup, &customer, "HT-SCORE-HOLD-1")
        .await
        .expect_err("on hold");
    assert_eq!(refused.code(), tonic::Code::FailedPrecondition);
    // Only a better grade ends it; by hand it is refused with what to do.
    let by_hand = sup
        .contracts
        .release_credit_hold(contracts::ReleaseCreditHoldRequest {
            hold_id: held.hold_id.clone(),
            reason: "customer called".into(),
        })
        .await
        .expect_err("a scoring hold");
    assert_eq!(by_hand.code(), tonic::Code::FailedPrecondition);
    assert!(by_hand.message().contains("grade"), "{}", by_hand.message());
    // Graded C the next day (still advised): still one hold.
    grade(graded(&customer, "C", 420, Advice::Place, false)).await;

    // Paid up: BB advises no hold; contracts releases it, and signing works again.
    grade(graded(&customer, "BB", 690, Advice::None, false)).await;
    let released = eventually("the scoring hold released", EVENTUALLY, || async {
        let list = holds(&sup, &customer, true).await;
        Ok(list
            .holds
            .into_iter()
            .find(|h| h.source == Source::Scoring as i32 && !h.active))
    })
    .await
    .or_logs(&stack);
    assert_eq!(released.released_by, "scoring");
    assert!(released.release_reason.contains("grade BB"), "{released:?}");
    let history = holds(&sup, &customer, true).await;
    assert_eq!(
        sources(&history),
        [(Source::Scoring as i32, false)],
        "one hold in all"
    );
    sign(&mut sup, &customer, "HT-SCORE-HOLD-2")
        .await
        .or_logs(&stack);
    assert_eq!(
        stack.stop(|_| {}),
        Vec::<String>::new(),
        "services that did not shut down gracefully"
    );
}
