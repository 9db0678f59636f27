//! Issue 14 item 1 (R-D11, R-O3): a collector's work queue holds their debtors with an active
//! case, ordered by expected recovery = probability of payment within 30 days × collectible
//! amount, both shown with the reasons; task outcomes entered by the collector move the
//! probability; another collector's debtors are not in it, a supervisor sees the team's.

use devstack::clients::{Clients, eventually};
use devstack::scenario;
use kit::auth::Role;
use proto::dunning::v1 as dunning;
use proto::types::v1::{ContactChannel, ContactOutcome};

use crate::helpers::{EVENTUALLY, OrLogs, start};

async fn queue(clients: &Clients, owner: &str) -> anyhow::Result<Vec<dunning::QueueEntry>> {
    Ok(clients
        .dunning
        .clone()
        .list_queue(dunning::ListQueueRequest {
            owner: owner.to_owned(),
            page_size: 0,
        })
        .await?
        .into_inner()
        .entries)
}

/// A call to the debtor, completed with `outcome` now.
async fn called(clients: &Clients, customer: &str, outcome: ContactOutcome) -> anyhow::Result<()> {
    let mut dunning = clients.dunning.clone();
    let task = dunning
        .create_task(dunning::CreateTaskRequest {
            idempotency_key: format!("call-{customer}"),
            customer_id: customer.to_owned(),
            channel: ContactChannel::PhoneCall as i32,
            due_at: "2026-03-26T10:00:00+08:00".into(),
            note: String::new(),
        })
        .await?
        .into_inner()
        .task
        .ok_or_else(|| anyhow::anyhow!("no task"))?;
    dunning
        .complete_task(dunning::CompleteTaskRequest {
            task_id: task.task_id,
            outcome: outcome as i32,
            ..Default::default()
        })
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_collectors_queue_is_ordered_by_expected_recovery_and_shows_both_factors() {
    let (stack, admin) = start().await;
    let li = Clients::as_user(&stack, "li.na", &[Role::Collector], Some("east")).or_logs(&stack);
    let wang =
        Clients::as_user(&stack, "wang.wu", &[Role::Collector], Some("east")).or_logs(&stack);
    let sup =
        Clients::as_user(&stack, "chen.jie", &[Role::Supervisor], Some("east")).or_logs(&stack);
    let debtor = |name: &'static str, no: &'static str, amount: &'static str| {
        let clients = if no == "HT-Q-C" {
            wang.clone()
        } else {
            li.clone()
        };
        async move {
            let mut clients = clients;
            let customer = scenario::create_customer(&mut clients, name).await?;
            scenario::create_contract(&mut clients, &customer, no, &[(amount, "2026-03-10")])
                .await?;
            anyhow::Ok(customer)
        }
    };
    let a = debtor("卫十五", "HT-Q-A", "10000.00").await.or_logs(&stack);
    let b = debtor("蒋十六", "HT-Q-B", "9000.00").await.or_logs(&stack);
    let c = debtor("沈十七", "HT-Q-C", "5000.00").await.or_logs(&stack);
    let mut cycles = admin.clone();
    scenario::run_cycle(&mut cycles, "2026-03-25")
        .await
        .or_logs(&stack);
    // 15 days overdue: grade BB for all three once scoring has spoken.
    eventually(
        "three debtors graded in dunning's queue",
        EVENTUALLY,
        || async {
            let q = queue(&sup, "").await?;
            Ok((q.len() == 3 && q.iter().all(|e| e.grade == "BB")).then_some(()))
        },
    )
    .await
    .or_logs(&stack);

    // The larger debt refused to talk; the smaller one promised to pay.
    called(&li, &a, ContactOutcome::Refused)
        .await
        .or_logs(&stack);
    called(&li, &b, ContactOutcome::PromiseMade)
        .await
        .or_logs(&stack);
    let mine = queue(&li, "").await.or_logs(&stack);
    let order: Vec<&str> = mine.iter().map(|e| e.customer_id.as_str()).collect();
    assert_eq!(order, [b.as_str(), a.as_str()], "{mine:?}");
    // Both factors, and why: BB 55 % × 1.2 for the promise = 66 % of 9,000.00 = 5,940.00;
    // BB 55 % × 0.7 for the refusal = 39 % of 10,000.00 = 3,900.00.
    let first = &mine[0];
    assert_eq!(first.probability, "0.66");
    assert_eq!(
        first.collectible.as_ref().map(|m| m.amount.as_str()),
        Some("9000.00")
    );
    assert_eq!(
        first.expected_recovery.as_ref().map(|m| m.amount.as_str()),
        Some("5940.00")
    );
    assert!(
        first.reasons.iter().any(|r| r == "grade BB: base 55 %")
            && first
                .reasons
                .iter()
                .any(|r| r == "last contact promise_made: ×1.2"),
        "{:?}",
        first.reasons
    );
    assert_eq!(first.model, "queue-v1");
    assert_eq!(first.owner, "li.na");
    let second = &mine[1];
    assert_eq!(second.probability, "0.39");
    assert_eq!(
        second.expected_recovery.as_ref().map(|m| m.amount.as_str()),
        Some("3900.00")
    );
    assert!(
        second
            .reasons
            .iter()
            .any(|r| r == "last contact refused: ×0.7")
    );
    // Another collector's debtor is not in li.na's queue; the supervisor sees one member's.
    assert!(!order.contains(&c.as_str()));
    let wangs = queue(&sup, "wang.wu").await.or_logs(&stack);
    assert_eq!(
        wangs
            .iter()
            .map(|e| e.customer_id.as_str())
            .collect::<Vec<_>>(),
        [c.as_str()]
    );
    assert_eq!(queue(&sup, "").await.or_logs(&stack).len(), 3);

    // KPIs: li.na reached both debtors she called (a refusal is the right party too); a
    // collector sees only her own figures.
    let kpis = |clients: &Clients, owner: &str| {
        let mut dunning = clients.dunning.clone();
        let owner = owner.to_owned();
        async move {
            anyhow::Ok(
                dunning
                    .get_kpis(dunning::GetKpisRequest {
                        owner,
                        from: "2026-12-01".into(),
                        to: "2026-12-31".into(),
                        currency: String::new(),
                        team: String::new(),
                    })
                    .await?
                    .into_inner(),
            )
        }
    };
    let hers = kpis(&li, "").await.or_logs(&stack);
    assert_eq!(hers.collectors.len(), 1);
    let row = &hers.collectors[0];
    assert_eq!(
        (
            row.right_party_contacts,
            row.contact_attempts,
            row.right_party_contact_rate.as_str()
        ),
        (2, 2, "1.00")
    );
    assert!(
        kpis(&li, "wang.wu")
            .await
            .or_logs(&stack)
            .collectors
            .is_empty()
    );
    let team = kpis(&sup, "").await.or_logs(&stack);
    assert_eq!(
        team.collectors
            .iter()
            .map(|r| r.owner.as_str())
            .collect::<Vec<_>>(),
        ["li.na", "wang.wu"]
    );
    assert_eq!(team.total.map(|t| t.contact_attempts), Some(2));

    // CEI and recovery rate (R-O7, R-D11) for March: 蒋十六 pays 4,000.00 on the 26th.
    let file = scenario::bank_csv(&[[
        "2026-03-26",
        "4000.00",
        "CNY",
        "蒋十六",
        "6222020000001616",
        "HT-Q-B/1",
    ]]);
    let mut admin_ingest = admin.clone();
    scenario::ingest(&mut admin_ingest, "queue-kpis.csv", file)
        .await
        .or_logs(&stack);
    let march = |clients: &Clients| {
        let mut dunning = clients.dunning.clone();
        async move {
            anyhow::Ok(
                dunning
                    .get_kpis(dunning::GetKpisRequest {
                        owner: String::new(),
                        from: "2026-03-01".into(),
                        to: "2026-03-31".into(),
                        currency: String::new(),
                        team: String::new(),
                    })
                    .await?
                    .into_inner(),
            )
        }
    };
    let team = eventually("the payment in March's KPIs", EVENTUALLY, || async {
        let k = march(&sup).await?;
        let paid = k.total.as_ref().and_then(|t| t.collected.as_ref());
        Ok(paid.filter(|m| m.amount == "4000.00").map(|_| k.clone()))
    })
    .await
    .or_logs(&stack);
    // By hand. Nothing was due before March: opening 0. All three items fell due on 10 March
    // (sales: li.na 10,000.00 + 9,000.00, wang.wu 5,000.00) and were reported overdue by the
    // cycle of the 25th (placed: the same amounts; no late-fee terms, so nothing accrued).
    // The 4,000.00 paid on 9,000.00 on the 26th leaves li.na 10,000.00 + 5,000.00 at the end
    // of March, all overdue (closing current 0).
    //   li.na:   CEI = (0 + 19,000 − 15,000) ÷ (0 + 19,000 − 0) × 100 = 21.05;
    //            recovery = 4,000 ÷ 19,000 = 0.21.
    //   wang.wu: CEI = (0 + 5,000 − 5,000) ÷ 5,000 × 100 = 0.00; recovery 0 ÷ 5,000 = 0.00.
    //   total:   CEI = (24,000 − 20,000) ÷ 24,000 × 100 = 16.67; recovery 4,000 ÷ 24,000 = 0.17.
    let figures = |r: &dunning::KpiRow| {
        let a = |m: &Option<proto::types::v1::Money>| {
            m.as_ref().map_or(String::new(), |m| m.amount.clone())
        };
        (
            r.owner.clone(),
            [
                a(&r.opening),
                a(&r.sales),
                a(&r.closing_total),
                a(&r.closing_current),
                r.cei.clone(),
                a(&r.placed),
                a(&r.recovered),
                r.recovery_rate.clone(),
            ],
        )
    };
    let rows: Vec<_> = team
        .collectors
        .iter()
        .chain(team.total.as_ref())
        .map(figures)
        .collect();
    let expect = |owner: &str, v: [&str; 8]| (owner.to_owned(), v.map(str::to_owned));
    assert_eq!(
        rows,
        [
            expect(
                "li.na",
                [
                    "0.00", "19000.00", "15000.00", "0.00", "21.05", "19000.00", "4000.00", "0.21"
                ]
            ),
            expect(
                "wang.wu",
                [
                    "0.00", "5000.00", "5000.00", "0.00", "0.00", "5000.00", "0.00", "0.00"
                ]
            ),
            expect(
                "",
                [
                    "0.00", "24000.00", "20000.00", "0.00", "16.67", "24000.00", "4000.00", "0.17"
                ]
            ),
        ]
    );
    // Per team (R-D11): both collectors are in team east, whose row adds them up like the
    // total; another team has none of them.
    assert_eq!(
        team.teams
            .iter()
            .map(|r| (r.team.as_str(), figures(r).1))
            .collect::<Vec<_>>(),
        [(
            "east",
            [
                "0.00", "24000.00", "20000.00", "0.00", "16.67", "24000.00", "4000.00", "0.17"
            ]
            .map(str::to_owned)
        )]
    );
    let west = sup
        .dunning
        .clone()
        .get_kpis(dunning::GetKpisRequest {
            owner: String::new(),
            from: "2026-03-01".into(),
            to: "2026-03-31".into(),
            currency: String::new(),
            team: "west".into(),
        })
        .await
        .or_logs(&stack)
        .into_inner();
    assert!(west.collectors.is_empty() && west.teams.is_empty());
}
