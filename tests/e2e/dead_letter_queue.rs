//! Operators work dead letters (issue 11): a message that failed for a cause an operator can
//! fix is listed (RPC and `collectctl dlq list`), re-driven once the cause is fixed and applied
//! exactly once; a message that can never be handled is refused on re-drive and discarded
//! with a reason; a dead letter produced while PostgreSQL is down is recorded when it is back.

use std::time::Duration;

use prost::Message as _;
use tonic::Code;

use devstack::clients::{self, Credential, eventually};
use devstack::scenario::{self, open_amount};
use kit::auth::Role;
use proto::deadletters::v1 as dlq;
use proto::deadletters::v1::dead_letter_service_client::DeadLetterServiceClient;

use crate::helpers::{
    EVENTUALLY, OrLogs, allocation, first_open_becomes, publish, start, start_with_service_env,
};
use crate::operator_cli::{collectctl, text};

type Client = DeadLetterServiceClient<clients::Authed>;

/// Makes contracts refuse to book allocations ("bookings are frozen": a cause that is the
/// message's, not a failing dependency) until `DROP TRIGGER frozen ON contracts.allocations`
/// on the pool returned.
async fn freeze_bookings(stack: &devstack::Stack) -> anyhow::Result<sqlx::PgPool> {
    let db = sqlx::PgPool::connect(&stack.database_urls["contracts"]).await?;
    sqlx::query(
        "CREATE FUNCTION contracts.frozen() RETURNS trigger LANGUAGE plpgsql AS
         $$ BEGIN RAISE EXCEPTION 'bookings are frozen'; END $$",
    )
    .execute(&db)
    .await?;
    sqlx::query(
        "CREATE TRIGGER frozen BEFORE INSERT ON contracts.allocations
         FOR EACH ROW EXECUTE FUNCTION contracts.frozen()",
    )
    .execute(&db)
    .await?;
    Ok(db)
}

async fn open_letters(client: &Client) -> anyhow::Result<Vec<dlq::DeadLetter>> {
    Ok(client
        .clone()
        .list_dead_letters(dlq::ListDeadLettersRequest {
            status: dlq::DeadLetterStatus::Open as i32,
            ..Default::default()
        })
        .await?
        .into_inner()
        .dead_letters)
}

#[tokio::test(flavor = "multi_thread")]
async fn dead_letters_are_listed_redriven_once_fixed_and_discarded() {
    let (stack, mut clients) = start().await;
    let customer = scenario::create_customer(&mut clients, "钱七")
        .await
        .or_logs(&stack);
    let contract = scenario::create_contract(
        &mut clients,
        &customer,
        "HT-DLQ-2",
        &[("900.00", "2026-01-10")],
    )
    .await
    .or_logs(&stack);
    let admin_token = stack
        .auth
        .token("ops.wu", &[Role::Admin], None)
        .or_logs(&stack);
    let admin = Credential::bearer(&admin_token).or_logs(&stack);
    let client: Client =
        DeadLetterServiceClient::new(tonic::service::interceptor::InterceptedService::new(
            clients::channel(&stack, "contracts", None).or_logs(&stack),
            admin.clone(),
        ));

    // A cause an operator can fix: contracts cannot book allocations for a while (here a
    // trigger; in life e.g. a constraint a migration got wrong). Not a failing dependency, so
    // after CONSUMER_MAX_ATTEMPTS the allocation is dead-lettered and the partition moves on.
    let db = freeze_bookings(&stack).await.or_logs(&stack);

    let producer =
        kit::kafka::producer(&stack.kafka, "e2e-dlq2", kit::kafka::Compression::default())
            .or_logs(&stack);
    let good = kit::events::envelope("payments", &customer, &allocation(&contract, "100.00"));
    let good_bytes = good.encode_to_vec();
    publish(
        &producer,
        &stack,
        kit::events::PAYMENTS,
        &customer,
        &good_bytes,
    )
    .await
    .or_logs(&stack);
    // And one that can never be handled: its payload does not decode.
    let mut broken = kit::events::envelope("payments", &customer, &allocation(&contract, "1.00"));
    broken.payload = vec![0xff, 0xff, 0xff];
    publish(
        &producer,
        &stack,
        kit::events::PAYMENTS,
        &customer,
        &broken.encode_to_vec(),
    )
    .await
    .or_logs(&stack);

    let letters = eventually("both dead letters recorded", EVENTUALLY, || async {
        let open = open_letters(&client).await?;
        Ok((open.len() == 2).then_some(open))
    })
    .await
    .or_logs(&stack);
    // Newest first.
    let (poison, frozen) = (&letters[0], &letters[1]);
    assert_eq!(frozen.event_id, good.event_id);
    assert_eq!(frozen.producer, "payments");
    assert!(frozen.reason.contains("bookings are frozen"), "{frozen:?}");
    assert_eq!(poison.event_id, broken.event_id);
    assert!(poison.reason.contains("does not decode"), "{poison:?}");

    // The operator sees them with collectctl, readable and as JSON.
    let out = collectctl(
        &stack,
        Some(&admin_token),
        &["dlq", "list", "--service", "contracts"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listed = text(&out.stdout);
    assert!(listed.contains("2 open in all"), "{listed}");
    assert!(listed.contains("bookings are frozen"), "{listed}");
    let out = collectctl(
        &stack,
        Some(&admin_token),
        &[
            "dlq",
            "show",
            &frozen.dead_letter_id.to_string(),
            "--service",
            "contracts",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).or_logs(&stack);
    assert_eq!(
        shown["event_type"],
        "receivables.events.v1.PaymentAllocated"
    );
    assert_eq!(shown["handled_by_service"], true);

    // Re-driven before the cause is fixed: a clear error, and it stays open.
    let refused = client
        .clone()
        .redrive_dead_letter(dlq::RedriveDeadLetterRequest {
            dead_letter_id: frozen.dead_letter_id,
            note: String::new(),
        })
        .await
        .expect_err("the cause is not fixed yet");
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(refused.message().contains("stays open"), "{refused:?}");
    assert_eq!(open_letters(&client).await.or_logs(&stack).len(), 2);

    // Fixed: re-driven by the caller, applied once.
    sqlx::query("DROP TRIGGER frozen ON contracts.allocations")
        .execute(&db)
        .await
        .or_logs(&stack);
    let out = collectctl(
        &stack,
        Some(&admin_token),
        &[
            "dlq",
            "redrive",
            &frozen.dead_letter_id.to_string(),
            "--service",
            "contracts",
            "--note",
            "trigger removed",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(said.contains("applied; re-driven by ops.wu"), "{said}");
    let receivables = scenario::receivables(&mut clients, &contract.contract_id)
        .await
        .or_logs(&stack);
    assert_eq!(open_amount(&receivables[0]), "800.00");

    // Not twice: a second re-drive is refused, and the same event delivered again (a
    // redelivery) is a duplicate for the consumer; the next allocation behind it applies.
    let again = client
        .clone()
        .redrive_dead_letter(dlq::RedriveDeadLetterRequest {
            dead_letter_id: frozen.dead_letter_id,
            note: String::new(),
        })
        .await
        .expect_err("already re-driven");
    assert_eq!(again.code(), Code::FailedPrecondition);
    assert!(again.message().contains("redriven already"), "{again:?}");
    publish(
        &producer,
        &stack,
        kit::events::PAYMENTS,
        &customer,
        &good_bytes,
    )
    .await
    .or_logs(&stack);
    let next = kit::events::envelope("payments", &customer, &allocation(&contract, "50.00"));
    publish(
        &producer,
        &stack,
        kit::events::PAYMENTS,
        &customer,
        &next.encode_to_vec(),
    )
    .await
    .or_logs(&stack);
    eventually("the next allocation applied", EVENTUALLY, || async {
        let mut c = clients.clone();
        let r = scenario::receivables(&mut c, &contract.contract_id).await?;
        Ok((open_amount(&r[0]) != "800.00").then(|| open_amount(&r[0]).to_owned()))
    })
    .await
    .map(|amount| assert_eq!(amount, "750.00", "the re-driven allocation counted once"))
    .or_logs(&stack);

    // The poison can never be handled: re-drive says so; discard needs a reason.
    let never = client
        .clone()
        .redrive_dead_letter(dlq::RedriveDeadLetterRequest {
            dead_letter_id: poison.dead_letter_id,
            note: String::new(),
        })
        .await
        .expect_err("a payload that does not decode");
    assert_eq!(never.code(), Code::FailedPrecondition);
    assert!(never.message().contains("discard"), "{never:?}");
    let no_reason = client
        .clone()
        .discard_dead_letter(dlq::DiscardDeadLetterRequest {
            dead_letter_id: poison.dead_letter_id,
            reason: " ".into(),
        })
        .await
        .expect_err("a reason is required");
    assert_eq!(no_reason.code(), Code::InvalidArgument);
    assert!(no_reason.message().contains("reason"), "{no_reason:?}");
    let discarded = client
        .clone()
        .discard_dead_letter(dlq::DiscardDeadLetterRequest {
            dead_letter_id: poison.dead_letter_id,
            reason: "corrupt test message".into(),
        })
        .await
        .or_logs(&stack)
        .into_inner()
        .dead_letter
        .unwrap_or_default();
    assert_eq!(discarded.status, dlq::DeadLetterStatus::Discarded as i32);
    assert_eq!(discarded.resolved_by, "ops.wu");
    assert!(open_letters(&client).await.or_logs(&stack).is_empty());

    // Recording never depends on the database: a dead letter produced while PostgreSQL is
    // down is on the topic at once and in the table when the database is back.
    db.close().await;
    stack.stop_postgres().or_logs(&stack);
    publish(
        &producer,
        &stack,
        kit::events::PAYMENTS,
        &customer,
        b"\xff\xfenot protobuf",
    )
    .await
    .or_logs(&stack);
    tokio::time::sleep(Duration::from_secs(3)).await;
    stack.start_postgres().or_logs(&stack);
    let during = eventually("the outage's dead letter recorded", EVENTUALLY, || async {
        let open = open_letters(&client).await?;
        Ok((open.len() == 1).then_some(open))
    })
    .await
    .or_logs(&stack);
    assert!(
        during[0].reason.contains("not an event envelope"),
        "{during:?}"
    );
    assert!(during[0].dead_letter_offset >= 0);

    // Only admins work dead letters; auditors read them; others are refused.
    let cashier = Credential::bearer(
        &stack
            .auth
            .token("clerk-7", &[Role::Cashier], None)
            .or_logs(&stack),
    )
    .or_logs(&stack);
    let mut as_cashier =
        DeadLetterServiceClient::new(tonic::service::interceptor::InterceptedService::new(
            clients::channel(&stack, "contracts", None).or_logs(&stack),
            cashier,
        ));
    let denied = as_cashier
        .list_dead_letters(dlq::ListDeadLettersRequest::default())
        .await
        .expect_err("cashiers do not work dead letters");
    assert_eq!(denied.code(), Code::PermissionDenied);

    assert_eq!(
        stack.stop(|_| {}),
        Vec::<String>::new(),
        "services that did not shut down gracefully"
    );
}

/// The retries counted on `service`'s consumer so far (`consumer_events_total{result="retried"}`).
async fn retried(stack: &devstack::Stack, service: &str) -> anyhow::Result<f64> {
    let text = stack.scrape(service).await?;
    Ok(text
        .lines()
        .filter(|l| l.starts_with("consumer_events_total{") && l.contains("result=\"retried\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum())
}

/// A consumer backing off an event that keeps failing (for a cause that is the message's, not
/// a dependency's) stops at once on SIGTERM instead of sleeping out its backoff (up to 12.8 s),
/// and the event is not lost: its offset was never stored, so the restarted service applies
/// it once the cause is gone.
#[tokio::test(flavor = "multi_thread")]
async fn a_consumer_backing_off_stops_at_once_on_sigterm_and_loses_nothing() {
    let (mut stack, mut clients) = start_with_service_env(
        Vec::new(),
        vec![(
            "contracts".to_owned(),
            "CONSUMER_MAX_ATTEMPTS".to_owned(),
            "20".to_owned(),
        )],
    )
    .await;
    let customer = scenario::create_customer(&mut clients, "孙八")
        .await
        .or_logs(&stack);
    let contract = scenario::create_contract(
        &mut clients,
        &customer,
        "HT-DLQ-3",
        &[("900.00", "2026-01-10")],
    )
    .await
    .or_logs(&stack);
    let db = freeze_bookings(&stack).await.or_logs(&stack);
    let producer =
        kit::kafka::producer(&stack.kafka, "e2e-dlq3", kit::kafka::Compression::default())
            .or_logs(&stack);
    let event = kit::events::envelope("payments", &customer, &allocation(&contract, "100.00"));
    publish(
        &producer,
        &stack,
        kit::events::PAYMENTS,
        &customer,
        &event.encode_to_vec(),
    )
    .await
    .or_logs(&stack);

    // The sixth retry waits 200 ms × 2^6 = 12.8 s (0.4 + 0.8 + 1.6 + 3.2 + 6.4 s before it).
    eventually("the sixth retry", Duration::from_secs(90), || async {
        Ok((retried(&stack, "contracts").await? >= 6.0).then_some(()))
    })
    .await
    .or_logs(&stack);
    let stopped = stack.terminate("contracts", Duration::from_secs(5));
    assert_eq!(
        stopped,
        Ok(()),
        "contracts stops within 5 s of SIGTERM while backing off:\n{}",
        stack.log_tails(20)
    );

    // The cause is fixed; the restarted service reads the event again and applies it once.
    sqlx::query("DROP TRIGGER frozen ON contracts.allocations")
        .execute(&db)
        .await
        .or_logs(&stack);
    stack.restart("contracts").await.or_logs(&stack);
    first_open_becomes(
        &clients,
        &contract.contract_id,
        "800.00",
        "the allocation applied after the restart",
    )
    .await
    .or_logs(&stack);
    assert_eq!(
        stack.stop(|_| {}),
        Vec::<String>::new(),
        "services that did not shut down gracefully"
    );
}
