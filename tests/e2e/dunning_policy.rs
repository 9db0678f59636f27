//! Issue 13 through the services: dunning policies as data (one notice per debtor at the most
//! severe step due, one fee), the e-mail channel against a real SMTP server, conduct rules
//! that move contacts with their reason, holds with a reason after a partial payment, and a
//! contact log that shows a superuser's edit. The stack runs `policies/acceptance.json`.

use std::collections::BTreeSet;
use std::time::Duration;

use devstack::clients::{Clients, eventually};
use devstack::scenario::{self, bank_csv};
use devstack::smtp::{SmtpServer, base64};
use kit::auth::Role;
use proto::dunning::v1 as dunning;
use proto::types::v1::{ConductReason, ContactChannel, ContactOutcome, HoldReason};

use crate::helpers::{EVENTUALLY, OrLogs, caught_up, policy_file, start_with};

fn acceptance_env(extra: &[(&str, String)]) -> Vec<(String, String)> {
    let mut env = vec![("DUNNING_POLICY".to_owned(), policy_file("acceptance.json"))];
    env.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
    env
}

async fn set_contacts(
    clients: &Clients,
    customer_id: &str,
    contacts: &[(ContactChannel, &str)],
) -> anyhow::Result<dunning::DebtorContacts> {
    let own: Vec<_> = contacts
        .iter()
        .map(|(c, a)| (*c, *a, dunning::Recipient::Debtor))
        .collect();
    set_contacts_with(clients, customer_id, &own).await
}

async fn set_contacts_with(
    clients: &Clients,
    customer_id: &str,
    contacts: &[(ContactChannel, &str, dunning::Recipient)],
) -> anyhow::Result<dunning::DebtorContacts> {
    let answer = clients
        .dunning
        .clone()
        .set_contacts(dunning::SetContactsRequest {
            contacts: Some(dunning::DebtorContacts {
                customer_id: customer_id.to_owned(),
                time_zone: "Asia/Shanghai".to_owned(),
                language: "zh-CN".to_owned(),
                conduct_profile: "cn".to_owned(),
                name: String::new(),
                contacts: contacts
                    .iter()
                    .map(|(channel, address, recipient)| dunning::ContactPoint {
                        channel: *channel as i32,
                        address: (*address).to_owned(),
                        recipient: *recipient as i32,
                    })
                    .collect(),
            }),
        })
        .await?
        .into_inner();
    answer
        .contacts
        .ok_or_else(|| anyhow::anyhow!("SetContacts answered without the contacts"))
}

async fn active_case(clients: &Clients, customer: &str) -> anyhow::Result<dunning::DunningCase> {
    eventually("an active dunning case", EVENTUALLY, || async {
        Ok(scenario::dunning_cases(clients, customer)
            .await?
            .into_iter()
            .find(|c| c.status == "active"))
    })
    .await
}

async fn notices(clients: &Clients, customer: &str) -> anyhow::Result<Vec<dunning::Notice>> {
    Ok(clients
        .dunning
        .clone()
        .list_notices(dunning::ListNoticesRequest {
            customer_id: customer.to_owned(),
            ..Default::default()
        })
        .await?
        .into_inner()
        .notices)
}

async fn messages(
    clients: &Clients,
    customer: &str,
) -> anyhow::Result<Vec<dunning::OutboundMessage>> {
    Ok(clients
        .dunning
        .clone()
        .list_messages(dunning::ListMessagesRequest {
            customer_id: customer.to_owned(),
            ..Default::default()
        })
        .await?
        .into_inner()
        .messages)
}

async fn contact_log(
    clients: &Clients,
    customer: &str,
) -> anyhow::Result<Vec<dunning::ContactLogEntry>> {
    Ok(clients
        .dunning
        .clone()
        .list_contact_log(dunning::ListContactLogRequest {
            customer_id: customer.to_owned(),
            ..Default::default()
        })
        .await?
        .into_inner()
        .entries)
}

/// The text of a PDF, as `pdftotext` reads it.
fn pdf_text(pdf: &[u8]) -> String {
    let path = std::env::temp_dir().join(format!("notice-{}.pdf", uuid::Uuid::new_v4()));
    std::fs::write(&path, pdf).expect("write the PDF");
    let out = std::process::Command::new("pdftotext")
        .args(["-layout"])
        .arg(&path)
        .arg("-")
        .output()
        .unwrap_or_else(|e| panic!("pdftotext: {e} (run deploy/local/install-deps.sh)"));
    let _ = std::fs::remove_file(&path);
    assert!(out.status.success(), "pdftotext failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn one_notice_per_debtor_at_the_most_severe_step_with_one_fee_sent_by_email() {
    let smtp = SmtpServer::start().expect("aiosmtpd (deploy/local/install-deps.sh)");
    let (stack, mut clients) = start_with(acceptance_env(&[
        ("DUNNING_SMTP_HOST", "127.0.0.1".to_owned()),
        ("DUNNING_SMTP_PORT", smtp.port.to_string()),
        ("DUNNING_SMTP_STARTTLS", "false".to_owned()),
        (
            "DUNNING_SMTP_FROM",
            "催收部 <collections@example.com>".to_owned(),
        ),
    ]))
    .await;
    let customer = scenario::create_customer(&mut clients, "王五")
        .await
        .or_logs(&stack);
    // Three overdue items on two contracts.
    let first = scenario::create_contract(
        &mut clients,
        &customer,
        "HT-DUN-1",
        &[("3000.00", "2026-03-10"), ("4000.00", "2026-04-10")],
    )
    .await
    .or_logs(&stack);
    scenario::create_contract(
        &mut clients,
        &customer,
        "HT-DUN-2",
        &[("2500.00", "2026-04-05")],
    )
    .await
    .or_logs(&stack);
    let shown = set_contacts(
        &clients,
        &customer,
        &[
            (ContactChannel::Email, "wang.wu@example.com"),
            (ContactChannel::Sms, "13800138000"),
        ],
    )
    .await
    .or_logs(&stack);
    // Addresses go out masked (R-O4).
    let shown_addresses: Vec<&str> = shown.contacts.iter().map(|c| c.address.as_str()).collect();
    assert_eq!(shown_addresses, ["w***@example.com", "138****8000"]);

    // 2026-04-20: 41, 10 and 15 days overdue. The most severe step due for the debtor is the
    // e-mailed notice (day 30 of the oldest item): one action covering all three items.
    scenario::run_cycle(&mut clients, "2026-04-20")
        .await
        .or_logs(&stack);
    let case = active_case(&clients, &customer).await.or_logs(&stack);
    let actions = eventually("the day's step", EVENTUALLY, || async {
        let actions = scenario::dunning_actions(&clients, &case.case_id).await?;
        Ok((!actions.is_empty()).then_some(actions))
    })
    .await
    .or_logs(&stack);
    assert_eq!(actions.len(), 1, "{actions:?}");
    let action = &actions[0];
    assert_eq!(action.step, "email_notice");
    assert_eq!(
        (action.policy_id.as_str(), action.policy_version),
        ("e2e-acceptance", 3)
    );
    assert_eq!(action.channel, ContactChannel::Email as i32);
    assert_eq!(action.occurrence, 1);
    assert_eq!(action.receivable_ids.len(), 3);
    assert_eq!(
        action.amount.as_ref().map(|m| m.amount.as_str()),
        Some("9500.00")
    );
    assert!(!action.notice_id.is_empty());

    // One notice, with one fee, its total the items plus the fee.
    let listed = notices(&clients, &customer).await.or_logs(&stack);
    assert_eq!(listed.len(), 1);
    let notice = &listed[0];
    assert_eq!(notice.notice_id, action.notice_id);
    assert_eq!(
        notice.fee.as_ref().map(|m| m.amount.as_str()),
        Some("20.00")
    );
    assert_eq!(
        notice.total.as_ref().map(|m| m.amount.as_str()),
        Some("9520.00")
    );
    // The fee is booked once, by contracts, on the oldest item.
    let oldest = first.receivables[0].receivable_id.clone();
    eventually("the notice fee booked", EVENTUALLY, || async {
        let mut c = clients.clone();
        let r = scenario::receivables(&mut c, &first.contract_id).await?;
        let costs = r
            .iter()
            .find(|r| r.receivable_id == oldest)
            .and_then(|r| r.owed.as_ref())
            .and_then(|o| o.costs.as_ref())
            .map(|m| m.amount.clone());
        Ok((costs.as_deref() == Some("20.00")).then_some(()))
    })
    .await
    .or_logs(&stack);

    // The document: stored with its hash; its text holds the breakdown and the total.
    let got = clients
        .dunning
        .clone()
        .get_notice(dunning::GetNoticeRequest {
            notice_id: notice.notice_id.clone(),
        })
        .await
        .or_logs(&stack)
        .into_inner();
    {
        use sha2::Digest as _;
        let hash: String = sha2::Sha256::digest(&got.pdf)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(hash, notice.sha256);
    }
    // The operator's command saves the same PDF, checked against the recorded hash.
    let admin_token = stack
        .auth
        .token("stack-admin", &[Role::Admin], None)
        .or_logs(&stack);
    let saved = std::env::temp_dir().join(format!("notice-{}.pdf", uuid::Uuid::new_v4()));
    let saved_arg = saved.display().to_string();
    let shown = crate::operator_cli::collectctl_ok(
        &stack,
        &admin_token,
        &[
            "dunning",
            "notices",
            "get",
            &notice.notice_id,
            "--pdf",
            &saved_arg,
        ],
    );
    assert!(shown.contains(&notice.number));
    assert_eq!(std::fs::read(&saved).expect("the saved PDF"), got.pdf);
    let _ = std::fs::remove_file(&saved);
    assert!(notice.number.starts_with("DN-2026-"), "{}", notice.number);
    let text = pdf_text(&got.pdf);
    for expected in [
        "HT-DUN-1",
        "HT-DUN-2",
        "2026年3月",
        "2026年4月",
        "3,000.00",
        "4,000.00",
        "2,500.00",
        "9,520.00",
        "催缴通知费",
        "2026年4月27日",
    ] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }

    // The e-mail reached the SMTP server with the PDF attached.
    let raw = eventually("the e-mail at the SMTP server", EVENTUALLY, || async {
        Ok(smtp.received().into_iter().next())
    })
    .await
    .or_logs(&stack);
    assert!(raw.contains("wang.wu@example.com"), "{raw}");
    assert!(raw.contains("application/pdf"), "{raw}");
    assert!(
        raw.contains(&base64(&got.pdf[..57])),
        "the notice PDF is not attached"
    );
    let sent = eventually("the message delivered", EVENTUALLY, || async {
        let m = messages(&clients, &customer).await?;
        Ok(m.into_iter()
            .find(|m| m.status == dunning::MessageStatus::Delivered as i32))
    })
    .await
    .or_logs(&stack);
    assert_eq!(sent.to, "w***@example.com");
    assert_eq!(sent.notice_id, notice.notice_id);
    let log = contact_log(&clients, &customer).await.or_logs(&stack);
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].channel, ContactChannel::Email as i32);
    assert_eq!(log[0].outcome, ContactOutcome::Delivered as i32);
    assert_eq!(log[0].proof_kind, "smtp_message_id");
    assert_eq!(log[0].actor, "system");
    assert_eq!(sent.contact_log_seq, log[0].seq);

    // Nothing more that day: the cycle again changes nothing, no second notice, fee or mail.
    let again = scenario::run_cycle(&mut clients, "2026-04-20")
        .await
        .or_logs(&stack);
    assert!(again.already_ran);
    caught_up(&stack, "dunning", kit::events::CONTRACTS)
        .await
        .or_logs(&stack);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        scenario::dunning_actions(&clients, &case.case_id)
            .await
            .or_logs(&stack)
            .len(),
        1
    );
    assert_eq!(notices(&clients, &customer).await.or_logs(&stack).len(), 1);
    assert_eq!(smtp.received().len(), 1);

    // The next day the notice is not repeated: the case holds, saying why (R-D12).
    scenario::run_cycle(&mut clients, "2026-04-21")
        .await
        .or_logs(&stack);
    let held = eventually("the case holds", EVENTUALLY, || async {
        let case = active_case(&clients, &customer).await?;
        Ok((case.hold != HoldReason::Unspecified as i32).then_some(case))
    })
    .await
    .or_logs(&stack);
    assert_eq!(held.hold, HoldReason::WaitingForNextStep as i32);
    assert_eq!(held.held_since, "2026-04-21");
    assert_eq!(held.current_step, "email_notice");
    assert_eq!(
        (held.policy_id.as_str(), held.policy_version),
        ("e2e-acceptance", 3)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_partial_payment_of_the_oldest_item_holds_the_step_with_its_reason() {
    let (stack, mut clients) = start_with(acceptance_env(&[])).await;
    let customer = scenario::create_customer(&mut clients, "赵六")
        .await
        .or_logs(&stack);
    let contract = scenario::create_contract(
        &mut clients,
        &customer,
        "HT-HOLD-1",
        &[("1000.00", "2026-03-10"), ("1000.00", "2026-04-10")],
    )
    .await
    .or_logs(&stack);
    // 36 days: the notice; no e-mail on file, so it goes by post (a collector's task).
    scenario::run_cycle(&mut clients, "2026-04-15")
        .await
        .or_logs(&stack);
    let case = active_case(&clients, &customer).await.or_logs(&stack);
    let first = eventually("the notice step", EVENTUALLY, || async {
        let actions = scenario::dunning_actions(&clients, &case.case_id).await?;
        Ok(actions.into_iter().next())
    })
    .await
    .or_logs(&stack);
    assert_eq!(first.step, "email_notice");
    assert!(
        first.detail.contains(
            "no email contact of the debtor on file: the notice goes by post; letter task"
        ),
        "{}",
        first.detail
    );
    // The notice's fee is owed on the oldest item (R-D12): it is paid with it.
    let oldest = contract.receivables[0].receivable_id.clone();
    eventually("the notice fee booked", EVENTUALLY, || async {
        let mut c = clients.clone();
        let r = scenario::receivables(&mut c, &contract.contract_id).await?;
        let costs = r
            .iter()
            .find(|r| r.receivable_id == oldest)
            .and_then(|r| r.owed.as_ref())
            .and_then(|o| o.costs.as_ref())
            .map(|m| m.amount.clone());
        Ok((costs.as_deref() == Some("20.00")).then_some(()))
    })
    .await
    .or_logs(&stack);
    let tasks = clients
        .dunning
        .clone()
        .list_tasks(dunning::ListTasksRequest {
            customer_id: customer.clone(),
            ..Default::default()
        })
        .await
        .or_logs(&stack)
        .into_inner()
        .tasks;
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].channel, ContactChannel::Letter as i32);
    assert_eq!(tasks[0].notice_id, first.notice_id);
    // Payments allocates by what it knows is owed: let it see the booked fee first.
    caught_up(&stack, "payments", kit::events::CONTRACTS)
        .await
        .or_logs(&stack);
    // The oldest item is paid; the other stays open, 6 days overdue.
    let file = bank_csv(&[[
        "2026-04-15",
        "1020.00",
        "CNY",
        "赵六",
        "6222020000006666",
        "HT-HOLD-1/1",
    ]]);
    scenario::ingest(&mut clients, "hold.csv", file)
        .await
        .or_logs(&stack);
    let receivable = contract.receivables[0].receivable_id.clone();
    eventually("the oldest item paid in dunning", EVENTUALLY, || async {
        let case = active_case(&clients, &customer).await?;
        Ok(case
            .items
            .iter()
            .any(|i| i.receivable_id == receivable && i.status == "paid")
            .then_some(()))
    })
    .await
    .or_logs(&stack);
    // The next day only the gentlest step would be due for the newer item: the ladder does
    // not go back, it holds and says why.
    scenario::run_cycle(&mut clients, "2026-04-16")
        .await
        .or_logs(&stack);
    let held = eventually("the case holds", EVENTUALLY, || async {
        let case = active_case(&clients, &customer).await?;
        Ok((case.hold != HoldReason::Unspecified as i32).then_some(case))
    })
    .await
    .or_logs(&stack);
    assert_eq!(held.hold, HoldReason::OldestItemChanged as i32);
    assert_eq!(held.held_since, "2026-04-16");
    assert_eq!(held.current_step, "email_notice");
    let steps: Vec<String> = scenario::dunning_actions(&clients, &case.case_id)
        .await
        .or_logs(&stack)
        .into_iter()
        .map(|a| a.step)
        .collect();
    assert_eq!(steps, ["email_notice", "stopped"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn conduct_rules_move_contacts_with_their_reason_and_the_log_shows_an_edit() {
    let (stack, admin) = start_with(acceptance_env(&[(
        "DUNNING_CHECKPOINT_SECS",
        "1".to_owned(),
    )]))
    .await;
    // The collector who signs the customer owns them (R-C9) and works their contacts.
    let mut clients =
        Clients::as_user(&stack, "li.na", &[Role::Collector], Some("east")).or_logs(&stack);
    let customer = scenario::create_customer(&mut clients, "孙七")
        .await
        .or_logs(&stack);
    scenario::create_contract(
        &mut clients,
        &customer,
        "HT-CONDUCT-1",
        &[("500.00", "2026-12-31")],
    )
    .await
    .or_logs(&stack);
    eventually(
        "dunning knows who owns the customer",
        EVENTUALLY,
        || async {
            Ok(set_contacts_with(
                &clients,
                &customer,
                &[
                    (
                        ContactChannel::Sms,
                        "13900139000",
                        dunning::Recipient::Debtor,
                    ),
                    (
                        ContactChannel::Sms,
                        "13500135000",
                        dunning::Recipient::DesignatedContact,
                    ),
                ],
            )
            .await
            .ok())
        },
    )
    .await
    .or_logs(&stack);
    let mut dunning = clients.dunning.clone();

    // A phone task asked for 22:15 in Shanghai is moved to 08:00 the next morning.
    let task = dunning
        .create_task(dunning::CreateTaskRequest {
            idempotency_key: "call-1".to_owned(),
            customer_id: customer.clone(),
            channel: ContactChannel::PhoneCall as i32,
            due_at: "2026-03-02T22:15:00+08:00".to_owned(),
            note: "first call".to_owned(),
        })
        .await
        .or_logs(&stack)
        .into_inner()
        .task
        .expect("a task");
    assert_eq!(task.refused_for, ConductReason::QuietHours as i32);
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(&task.due_at).map(|t| t.to_utc()),
        chrono::DateTime::parse_from_rfc3339("2026-03-03T08:00:00+08:00").map(|t| t.to_utc())
    );

    // Six SMS a day on one method are allowed; the seventh is moved to the next day.
    let mut sent = Vec::new();
    for i in 0..7 {
        let message = dunning
            .send_message(dunning::SendMessageRequest {
                idempotency_key: format!("sms-{i}"),
                customer_id: customer.clone(),
                channel: ContactChannel::Sms as i32,
                template: "reminder".to_owned(),
                not_before: "2026-03-04T10:00:00+08:00".to_owned(),
                recipient: dunning::Recipient::Debtor as i32,
            })
            .await
            .or_logs(&stack)
            .into_inner()
            .message
            .expect("a message");
        sent.push(message);
    }
    let reasons: Vec<i32> = sent.iter().map(|m| m.refused_for).collect();
    assert_eq!(&reasons[..6], &[ConductReason::Unspecified as i32; 6]);
    assert_eq!(reasons[6], ConductReason::FrequencyCap as i32);
    assert!(
        sent[6].due_at.as_str() >= "2026-03-05",
        "moved to the next day: {}",
        sent[6].due_at
    );
    // The same request again is the same message (idempotent), not an eighth attempt.
    let repeat = dunning
        .send_message(dunning::SendMessageRequest {
            idempotency_key: "sms-0".to_owned(),
            customer_id: customer.clone(),
            channel: ContactChannel::Sms as i32,
            template: "reminder".to_owned(),
            not_before: "2026-03-04T10:00:00+08:00".to_owned(),
            recipient: dunning::Recipient::Debtor as i32,
        })
        .await
        .or_logs(&stack)
        .into_inner()
        .message
        .expect("a message");
    assert_eq!(repeat.message_id, sent[0].message_id);

    // National Day: a holiday contact is moved after the holiday.
    let holiday = dunning
        .send_message(dunning::SendMessageRequest {
            idempotency_key: "sms-holiday".to_owned(),
            customer_id: customer.clone(),
            channel: ContactChannel::Sms as i32,
            template: "reminder".to_owned(),
            not_before: "2026-10-01T10:00:00+08:00".to_owned(),
            recipient: dunning::Recipient::Debtor as i32,
        })
        .await
        .or_logs(&stack)
        .into_inner()
        .message
        .expect("a message");
    assert_eq!(holiday.refused_for, ConductReason::Holiday as i32);
    assert!(holiday.due_at.as_str() > "2026-10-02", "{}", holiday.due_at);
    // A template the policy does not have is refused by name.
    let unknown = dunning
        .send_message(dunning::SendMessageRequest {
            idempotency_key: "sms-x".to_owned(),
            customer_id: customer.clone(),
            channel: ContactChannel::Sms as i32,
            template: "threat".to_owned(),
            not_before: String::new(),
            recipient: dunning::Recipient::Debtor as i32,
        })
        .await
        .expect_err("unknown template");
    assert_eq!(unknown.code(), tonic::Code::InvalidArgument);
    assert!(
        unknown.message().contains("template"),
        "{}",
        unknown.message()
    );

    // R-D9: a message about the debt never goes to a contact the debtor designated; a
    // call-back request does.
    let to_designated = |template: &str, key: &str| dunning::SendMessageRequest {
        idempotency_key: key.to_owned(),
        customer_id: customer.clone(),
        channel: ContactChannel::Sms as i32,
        template: template.to_owned(),
        not_before: "2026-03-06T10:00:00+08:00".to_owned(),
        recipient: dunning::Recipient::DesignatedContact as i32,
    };
    let disclosed = dunning
        .send_message(to_designated("reminder", "third-1"))
        .await
        .expect_err("the debt is not told to a third party");
    assert_eq!(disclosed.code(), tonic::Code::FailedPrecondition);
    assert!(
        disclosed.message().contains("THIRD_PARTY_DISCLOSURE"),
        "{}",
        disclosed.message()
    );
    let call_back = dunning
        .send_message(to_designated("call_back", "third-2"))
        .await
        .or_logs(&stack)
        .into_inner()
        .message
        .expect("a message");
    assert_eq!(call_back.to, "135****5000");
    assert_eq!(call_back.refused_for, ConductReason::Unspecified as i32);

    // The collector's outcome lands in the contact log with who entered it.
    let done = dunning
        .complete_task(dunning::CompleteTaskRequest {
            task_id: task.task_id.clone(),
            outcome: ContactOutcome::Answered as i32,
            note: "promised to call back".to_owned(),
            at: "2026-03-03T08:05:00+08:00".to_owned(),
            ..Default::default()
        })
        .await
        .or_logs(&stack)
        .into_inner()
        .task
        .expect("the task");
    assert_eq!(done.status, dunning::TaskStatus::Done as i32);
    assert_eq!(done.completed_by, "li.na");
    let twice = dunning
        .complete_task(dunning::CompleteTaskRequest {
            task_id: task.task_id.clone(),
            outcome: ContactOutcome::Answered as i32,
            ..Default::default()
        })
        .await
        .expect_err("a contact is logged once");
    assert_eq!(twice.code(), tonic::Code::FailedPrecondition);

    // Every message is sent (their times are past) and logged; the log verifies.
    let log = eventually("every contact logged", EVENTUALLY, || async {
        let log = contact_log(&clients, &customer).await?;
        Ok((log.len() == 10).then_some(log))
    })
    .await
    .or_logs(&stack);
    let actors: BTreeSet<&str> = log.iter().map(|e| e.actor.as_str()).collect();
    assert_eq!(actors, BTreeSet::from(["li.na"]));
    let call = log
        .iter()
        .find(|e| e.channel == ContactChannel::PhoneCall as i32)
        .expect("the call");
    assert_eq!(done.contact_log_seq, call.seq);
    assert_eq!(call.outcome, ContactOutcome::Answered as i32);
    let verified = eventually("a checkpoint over the whole log", EVENTUALLY, || async {
        let v = admin
            .dunning
            .clone()
            .verify_contact_log(dunning::VerifyContactLogRequest {})
            .await?
            .into_inner();
        Ok((v.checkpoint_seq == 10).then_some(v))
    })
    .await
    .or_logs(&stack);
    assert!(verified.intact, "{verified:?}");
    assert_eq!(verified.entries, 10);

    // The runtime role cannot change a row; the superuser can, and verify names the row.
    let runtime = sqlx::PgPool::connect(&stack.database_urls["dunning"])
        .await
        .or_logs(&stack);
    let refused = sqlx::query("UPDATE contact_log SET template_id = 'forged' WHERE seq = 4")
        .execute(&runtime)
        .await;
    assert!(refused.is_err(), "the runtime role edited the contact log");
    let superuser = sqlx::PgPool::connect(&stack.superuser_url)
        .await
        .or_logs(&stack);
    let mut conn = superuser.acquire().await.or_logs(&stack);
    sqlx::query("SET session_replication_role = replica")
        .execute(&mut *conn)
        .await
        .or_logs(&stack);
    let edited = sqlx::query("UPDATE dunning.contact_log SET template_id = 'forged' WHERE seq = 4")
        .execute(&mut *conn)
        .await
        .or_logs(&stack);
    assert_eq!(edited.rows_affected(), 1);
    drop(conn);
    let broken = admin
        .dunning
        .clone()
        .verify_contact_log(dunning::VerifyContactLogRequest {})
        .await
        .or_logs(&stack)
        .into_inner();
    assert!(!broken.intact);
    assert_eq!(
        (broken.problem.as_str(), broken.at_seq),
        ("EDITED", 4),
        "{broken:?}"
    );
    assert!(broken.detail.contains("contact 4"), "{}", broken.detail);
    // The operator's command says the same and exits 1.
    let auditor = stack
        .auth
        .token("audit.zhou", &[Role::Auditor], None)
        .or_logs(&stack);
    let out = crate::operator_cli::collectctl(&stack, Some(&auditor), &["contact-log", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    let said = crate::operator_cli::text(&out.stderr);
    assert!(said.contains("EDITED at entry 4"), "{said}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_shipped_policy_reminds_seven_days_before_and_on_the_due_date_r_d1() {
    let default_policy = format!(
        "{}/../services/dunning/policies/default.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let (stack, mut clients) =
        start_with(vec![("DUNNING_POLICY".to_owned(), default_policy)]).await;
    let customer = scenario::create_customer(&mut clients, "钱八")
        .await
        .or_logs(&stack);
    scenario::create_contract(
        &mut clients,
        &customer,
        "HT-PRE-1",
        &[("5000.00", "2026-05-11")],
    )
    .await
    .or_logs(&stack);
    set_contacts(&clients, &customer, &[(ContactChannel::Sms, "13700137000")])
        .await
        .or_logs(&stack);
    let reader = clients.clone();
    let reminders = |want: usize| {
        let clients = reader.clone();
        let customer = customer.clone();
        async move {
            eventually("the reminders", EVENTUALLY, || async {
                let m = messages(&clients, &customer).await?;
                Ok((m.len() == want).then_some(m))
            })
            .await
        }
    };
    // Eight days before: nothing yet.
    scenario::run_cycle(&mut clients, "2026-05-03")
        .await
        .or_logs(&stack);
    // Seven days before: the gentle reminder (R-D1), once even when the day runs again.
    scenario::run_cycle(&mut clients, "2026-05-04")
        .await
        .or_logs(&stack);
    let first = reminders(1).await.or_logs(&stack);
    assert_eq!(first[0].template, "default@1/pre_due_reminder/zh-CN");
    assert_eq!(first[0].channel, ContactChannel::Sms as i32);
    assert_eq!(first[0].requested_by, "system");
    scenario::run_cycle(&mut clients, "2026-05-05")
        .await
        .or_logs(&stack);
    // On the due date: the firm one.
    scenario::run_cycle(&mut clients, "2026-05-11")
        .await
        .or_logs(&stack);
    let both = reminders(2).await.or_logs(&stack);
    let templates: Vec<&str> = both.iter().map(|m| m.template.as_str()).collect();
    assert_eq!(
        templates,
        [
            "default@1/pre_due_reminder/zh-CN",
            "default@1/due_day_reminder/zh-CN"
        ]
    );
    // Both reach the contact log (sent by the recording channel of the local stack).
    let log = eventually("both logged", EVENTUALLY, || async {
        let log = contact_log(&clients, &customer).await?;
        Ok((log.len() == 2).then_some(log))
    })
    .await
    .or_logs(&stack);
    assert!(
        log.iter()
            .all(|e| e.outcome == ContactOutcome::Delivered as i32)
    );
    assert!(log.iter().all(|e| e.template.starts_with("default@1/")));
    // No dunning case: nothing is overdue.
    assert!(
        scenario::dunning_cases(&clients, &customer)
            .await
            .or_logs(&stack)
            .is_empty()
    );

    // R-D10: due Monday 22 June 2026, right after the Dragon Boat Festival (19–21 June): the
    // reminder planned for 15 June would fall in the week before the holiday, so it goes out
    // on Friday 12 June, the last working day a week before it, and not again on the 15th.
    let second = scenario::create_customer(&mut clients, "吴十")
        .await
        .or_logs(&stack);
    scenario::create_contract(
        &mut clients,
        &second,
        "HT-PRE-2",
        &[("3000.00", "2026-06-22")],
    )
    .await
    .or_logs(&stack);
    set_contacts(&clients, &second, &[(ContactChannel::Sms, "13600136000")])
        .await
        .or_logs(&stack);
    caught_up(&stack, "dunning", kit::events::CONTRACTS)
        .await
        .or_logs(&stack);
    scenario::run_cycle(&mut clients, "2026-06-12")
        .await
        .or_logs(&stack);
    let early = eventually("the early reminder", EVENTUALLY, || async {
        let m = messages(&clients, &second).await?;
        Ok((m.len() == 1).then_some(m))
    })
    .await
    .or_logs(&stack);
    assert_eq!(early[0].template, "default@1/pre_due_reminder/zh-CN");
    scenario::run_cycle(&mut clients, "2026-06-15")
        .await
        .or_logs(&stack);
    caught_up(&stack, "dunning", kit::events::CONTRACTS)
        .await
        .or_logs(&stack);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(messages(&clients, &second).await.or_logs(&stack).len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_vacant_units_owner_gets_the_phone_call_of_the_shipped_policy_r_d7() {
    use proto::contracts::v1 as contracts;
    use proto::types::v1::ChargeType;
    let default_policy = format!(
        "{}/../services/dunning/policies/default.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let (stack, mut admin) = start_with(vec![("DUNNING_POLICY".to_owned(), default_policy)]).await;
    let customer = scenario::create_customer(&mut admin, "周九")
        .await
        .or_logs(&stack);
    // A property-management contract whose handover fee is not due yet, and a vacant unit.
    let contract = admin
        .contracts
        .create_contract(contracts::CreateContractRequest {
            idempotency_key: "contract:PM-VAC-1".into(),
            customer_id: customer.clone(),
            contract_no: "PM-VAC-1".into(),
            currency: "CNY".into(),
            installments: vec![contracts::Installment {
                amount: "150.00".into(),
                due_date: "2027-06-15".into(),
                charge_type: ChargeType::ManagementFee as i32,
                ..Default::default()
            }],
            escrow_account: scenario::ESCROW_ACCOUNT.into(),
            ..Default::default()
        })
        .await
        .or_logs(&stack)
        .into_inner()
        .contract
        .expect("contract");
    admin
        .contracts
        .create_unit(contracts::CreateUnitRequest {
            idempotency_key: "unit:5-0901".into(),
            code: "5-0901".into(),
            project: "Garden".into(),
            segment: contracts::UnitSegment::Residential as i32,
            occupancy: contracts::UnitOccupancy::Vacant as i32,
            area_m2: "100".into(),
            contract_id: contract.contract_id.clone(),
            terms: vec![contracts::ChargeTerm {
                charge_type: ChargeType::ManagementFee as i32,
                monthly_amount: "200.00".into(),
                effective_from: "2026-01".into(),
                ..Default::default()
            }],
        })
        .await
        .or_logs(&stack);
    admin
        .contracts
        .run_billing(contracts::RunBillingRequest {
            period: "2026-10".into(),
        })
        .await
        .or_logs(&stack);
    let receivables = scenario::receivables(&mut admin, &contract.contract_id)
        .await
        .or_logs(&stack);
    let billed = receivables
        .iter()
        .find(|r| r.due_date != "2027-06-15")
        .expect("the billed charge");
    let due: chrono::NaiveDate = billed.due_date.parse().expect("a date");
    caught_up(&stack, "dunning", kit::events::CONTRACTS)
        .await
        .or_logs(&stack);
    // A week overdue: for a vacant unit the shipped policy calls the owner (R-D7) rather than
    // sending the plain reminder.
    let week_later = (due + chrono::Days::new(7)).to_string();
    scenario::run_cycle(&mut admin, &week_later)
        .await
        .or_logs(&stack);
    let case = active_case(&admin, &customer).await.or_logs(&stack);
    let action = eventually("the day's step", EVENTUALLY, || async {
        let actions = scenario::dunning_actions(&admin, &case.case_id).await?;
        Ok(actions.into_iter().next())
    })
    .await
    .or_logs(&stack);
    assert_eq!(action.step, "phone_call_vacant", "{}", action.detail);
    assert_eq!(action.channel, ContactChannel::PhoneCall as i32);
    let tasks = admin
        .dunning
        .clone()
        .list_tasks(dunning::ListTasksRequest {
            customer_id: customer.clone(),
            ..Default::default()
        })
        .await
        .or_logs(&stack)
        .into_inner()
        .tasks;
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].channel, ContactChannel::PhoneCall as i32);
    assert_eq!(tasks[0].step, "phone_call_vacant");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_send_is_tried_again_later_and_never_logged_as_delivered() {
    // The recording channel fails the first four sends: a round of three attempts fails, the
    // message waits a second (DUNNING_RETRY_BASE_SECS), the next round gets through.
    let (stack, _admin) = start_with(acceptance_env(&[
        ("DUNNING_RECORDING_FAIL", "4".to_owned()),
        ("DUNNING_RETRY_BASE_SECS", "1".to_owned()),
    ]))
    .await;
    let mut clients =
        Clients::as_user(&stack, "li.na", &[Role::Collector], Some("east")).or_logs(&stack);
    let customer = scenario::create_customer(&mut clients, "郑十一")
        .await
        .or_logs(&stack);
    scenario::create_contract(
        &mut clients,
        &customer,
        "HT-RETRY-1",
        &[("500.00", "2026-12-31")],
    )
    .await
    .or_logs(&stack);
    eventually(
        "dunning knows who owns the customer",
        EVENTUALLY,
        || async {
            Ok(
                set_contacts(&clients, &customer, &[(ContactChannel::Sms, "13300133000")])
                    .await
                    .ok(),
            )
        },
    )
    .await
    .or_logs(&stack);
    let sent = clients
        .dunning
        .clone()
        .send_message(dunning::SendMessageRequest {
            idempotency_key: "retry-1".to_owned(),
            customer_id: customer.clone(),
            channel: ContactChannel::Sms as i32,
            template: "reminder".to_owned(),
            not_before: "2026-03-04T10:00:00+08:00".to_owned(),
            recipient: dunning::Recipient::Debtor as i32,
        })
        .await
        .or_logs(&stack)
        .into_inner()
        .message
        .expect("a message");
    let delivered = eventually("delivered in the second round", EVENTUALLY, || async {
        let m = messages(&clients, &customer).await?;
        Ok(m.into_iter().find(|m| {
            m.message_id == sent.message_id && m.status == dunning::MessageStatus::Delivered as i32
        }))
    })
    .await
    .or_logs(&stack);
    assert_eq!(
        delivered.attempts, 5,
        "three failed, one failed, one through"
    );
    // The log shows the failed round, then the delivery: nothing failed is called delivered.
    let log = contact_log(&clients, &customer).await.or_logs(&stack);
    let outcomes: Vec<i32> = log.iter().map(|e| e.outcome).collect();
    assert_eq!(
        outcomes,
        [
            ContactOutcome::Failed as i32,
            ContactOutcome::Delivered as i32
        ]
    );
    assert_eq!(delivered.contact_log_seq, log[1].seq);
}
