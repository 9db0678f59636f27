//! `collectctl dunning …` and `collectctl contact-log …` against a running stack (issue 13):
//! a collector puts a debtor's SMS number on file (shown masked, never in clear), sends a
//! reminder, lists it, creates a phone task at night that the conduct rules move to the next
//! morning, completes it; the contact log lists the call and the SMS, and an auditor verifies
//! the log (exit status 0).

use devstack::clients::{Clients, eventually};
use devstack::scenario;
use kit::auth::Role;

use crate::helpers::{EVENTUALLY, OrLogs, start_with};
use crate::operator_cli::{collectctl, text};

/// The debtor's number as given; no output may contain it.
const NUMBER: &str = "13912345678";
/// How the service shows it.
const MASKED: &str = "139****5678";

/// Runs collectctl, asserts it succeeded, and answers its stdout.
fn ok(stack: &devstack::Stack, token: &str, args: &[&str]) -> String {
    let out = collectctl(stack, Some(token), args);
    let stdout = text(&out.stdout);
    assert!(
        out.status.success(),
        "collectctl {args:?} failed:\n{}{stdout}\n\nservice logs:\n{}",
        text(&out.stderr),
        stack.log_tails(20)
    );
    assert!(
        !stdout.contains(NUMBER),
        "{args:?} printed the number:\n{stdout}"
    );
    stdout
}

/// [`ok`] with `--json`, parsed.
fn json(stack: &devstack::Stack, token: &str, args: &[&str]) -> serde_json::Value {
    let mut args = args.to_vec();
    args.push("--json");
    let stdout = ok(stack, token, &args);
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{args:?}: {e}:\n{stdout}"))
}

fn instant(rfc3339: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .unwrap_or_else(|e| panic!("{rfc3339:?}: {e}"))
        .to_utc()
}

#[tokio::test(flavor = "multi_thread")]
async fn collectctl_works_a_debtor_through_dunning_and_verifies_the_contact_log() {
    let (stack, _admin) =
        start_with(vec![("DUNNING_CHECKPOINT_SECS".to_owned(), "1".to_owned())]).await;
    let li = stack
        .auth
        .token("li.na", &[Role::Collector], Some("east"))
        .or_logs(&stack);
    let auditor = stack
        .auth
        .token("audit.zhou", &[Role::Auditor], None)
        .or_logs(&stack);
    let mut li_clients =
        Clients::as_user(&stack, "li.na", &[Role::Collector], Some("east")).or_logs(&stack);
    let customer = scenario::create_customer(&mut li_clients, "赵六")
        .await
        .or_logs(&stack);
    // Dunning learns that li.na owns the customer from ContractSigned; nothing is overdue.
    scenario::create_contract(
        &mut li_clients,
        &customer,
        "HT-CLI-1",
        &[("1200.00", "2027-06-30")],
    )
    .await
    .or_logs(&stack);
    eventually("dunning knows li.na's customer", EVENTUALLY, || async {
        let out = collectctl(
            &stack,
            Some(&li),
            &["dunning", "contacts", "show", &customer],
        );
        Ok(out.status.success().then_some(()))
    })
    .await
    .or_logs(&stack);

    // Contacts: set with an SMS number, shown masked.
    let set = ok(
        &stack,
        &li,
        &[
            "dunning",
            "contacts",
            "set",
            &customer,
            "--name",
            "赵六",
            "--time-zone",
            "Asia/Shanghai",
            "--language",
            "zh-CN",
            "--profile",
            "cn",
            "--contact",
            &format!("sms:{NUMBER}"),
        ],
    );
    assert!(set.contains(MASKED), "{set}");
    let shown = ok(&stack, &li, &["dunning", "contacts", "show", &customer]);
    assert!(
        shown.contains(MASKED) && shown.contains("Asia/Shanghai"),
        "{shown}"
    );
    let shown = json(&stack, &li, &["dunning", "contacts", "show", &customer]);
    assert_eq!(shown["contacts"][0]["channel"], "sms");
    assert_eq!(shown["contacts"][0]["address_masked"], MASKED);
    assert_eq!(shown["contacts"][0]["recipient"], "debtor");

    // Send the reminder at a time inside the contact hours: due as asked; the same command
    // again is a repeat (the derived idempotency key), not a second message.
    let send = [
        "dunning",
        "send",
        &customer,
        "--channel",
        "sms",
        "--template",
        "reminder",
        "--not-before",
        "2026-03-04T10:00:00+08:00",
    ];
    let sent = ok(&stack, &li, &send);
    assert!(sent.contains("due 2026-03-04T10:00:00+08:00\n"), "{sent}");
    assert!(sent.contains("idempotency key collectctl-send-"), "{sent}");
    let again = json(&stack, &li, &send);
    let message_id = again["message_id"].as_str().expect("message id").to_owned();
    assert!(
        sent.contains(&format!("message {message_id}: sms to {MASKED}")),
        "{sent}"
    );
    assert_eq!(again["moved_for"], "");
    // An unknown template is refused by the service with what to do.
    let out = collectctl(
        &stack,
        Some(&li),
        &[
            "dunning",
            "send",
            &customer,
            "--channel",
            "sms",
            "--template",
            "threat",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("InvalidArgument") && err.contains("hint:"),
        "{err}"
    );

    // The message is listed (masked).
    let messages = json(&stack, &li, &["dunning", "messages", &customer]);
    assert_eq!(messages.as_array().map(Vec::len), Some(1), "{messages}");
    assert_eq!(messages[0]["message_id"], message_id.as_str());
    assert_eq!(messages[0]["to_masked"], MASKED);
    let listed = ok(&stack, &li, &["dunning", "messages", &customer]);
    assert!(
        listed.contains(&message_id) && listed.contains("reminder"),
        "{listed}"
    );

    // A call asked for 22:15 in Shanghai is moved to 08:00 the next morning (quiet hours).
    let create = [
        "dunning",
        "tasks",
        "create",
        &customer,
        "--channel",
        "phone",
        "--due",
        "2026-03-02T22:15:00+08:00",
        "--note",
        "first call",
    ];
    let created = ok(&stack, &li, &create);
    assert!(
        created.contains("due 2026-03-03T08:00:00+08:00, moved from 2026-03-02T22:15:00+08:00 because of quiet hours"),
        "{created}"
    );
    let task = json(&stack, &li, &create);
    let task_id = task["task_id"].as_str().expect("task id").to_owned();
    assert!(
        created.contains(&task_id),
        "the repeat is the same task: {created}"
    );
    assert_eq!(task["moved_for"], "quiet-hours");
    assert_eq!(
        instant(task["due_at"].as_str().expect("due_at")),
        instant("2026-03-03T08:00:00+08:00")
    );
    let open = json(
        &stack,
        &li,
        &["dunning", "tasks", "list", "--customer", &customer],
    );
    assert_eq!(open[0]["task_id"], task_id.as_str(), "{open}");
    assert_eq!(open[0]["status"], "open");

    // Complete it: answered, by li.na; a second time is refused with what to do.
    let complete = [
        "dunning",
        "tasks",
        "complete",
        &task_id,
        "--outcome",
        "answered",
        "--note",
        "will pay on Friday",
        "--at",
        "2026-03-03T08:05:00+08:00",
    ];
    let done = ok(&stack, &li, &complete);
    assert!(done.contains("answered by li.na"), "{done}");
    let out = collectctl(&stack, Some(&li), &complete);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("FailedPrecondition") && err.contains("tasks list"),
        "{err}"
    );

    // The reminder's time is past: the dispatcher sends it and logs it. Then the log holds
    // exactly the call and the SMS.
    eventually("the reminder is sent and logged", EVENTUALLY, || async {
        let messages = json(&stack, &li, &["dunning", "messages", &customer]);
        Ok((messages[0]["contact_log_seq"].as_u64().unwrap_or(0) > 0).then_some(()))
    })
    .await
    .or_logs(&stack);
    let log = json(
        &stack,
        &li,
        &["contact-log", "list", "--customer", &customer],
    );
    let entries = log.as_array().expect("entries");
    assert_eq!(entries.len(), 2, "{log}");
    let call = entries
        .iter()
        .find(|e| e["channel"] == "phone")
        .expect("the call is logged");
    assert_eq!(call["outcome"], "answered");
    assert_eq!(call["actor"], "li.na");
    assert!(entries.iter().any(|e| e["channel"] == "sms"), "{log}");
    let listed = ok(
        &stack,
        &li,
        &["contact-log", "list", "--customer", &customer],
    );
    assert!(
        listed.contains("phone") && listed.contains("answered") && listed.contains("by li.na"),
        "{listed}"
    );
    // Without --customer a collector sees the entries of their own customers (R-O3): the
    // same two.
    let mine = json(&stack, &li, &["contact-log", "list"]);
    assert_eq!(mine.as_array().map(Vec::len), Some(2), "{mine}");

    // The auditor verifies the log: intact, exit status 0.
    let verified = ok(&stack, &auditor, &["contact-log", "verify"]);
    assert!(
        verified.starts_with("contact log intact: 2 entries"),
        "{verified}"
    );
    let verified = json(&stack, &auditor, &["contact-log", "verify"]);
    assert_eq!(verified["intact"], true);
    assert_eq!(verified["entries"], 2);
}
