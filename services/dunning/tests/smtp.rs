//! The e-mail channel against a real SMTP server (issue 13 item 3): Python's aiosmtpd,
//! started by the test, stores what it receives in a Maildir; the notice arrives with its PDF
//! attached, byte for byte. A server that is not there is a failure, retried and never
//! reported as delivered (R-D4). `deploy/local/install-deps.sh` installs aiosmtpd.

use std::time::{Duration, Instant};

use devstack::smtp::{SmtpServer, base64, free_port};

use dunning::channel::{Attachment, Message, Outbound as _, Outcome, Smtp, SmtpSecurity, send};
use dunning::policy::Channel;

fn notice(pdf: Vec<u8>) -> Message {
    Message {
        channel: Channel::Email,
        to: "zhang.wei@example.com".to_owned(),
        subject: "催缴通知书 DN-2026-000123".to_owned(),
        body: "尊敬的张伟先生/女士：请查收附件中的催缴通知书。".to_owned(),
        attachments: vec![Attachment {
            filename: "DN-2026-000123.pdf".to_owned(),
            content_type: "application/pdf".to_owned(),
            bytes: pdf,
        }],
    }
}

#[tokio::test]
async fn a_notice_arrives_at_the_smtp_server_with_its_pdf_attached() {
    let server = SmtpServer::start().expect("aiosmtpd (deploy/local/install-deps.sh)");
    let port = server.port;
    // A PDF-like payload long enough to span several base64 lines.
    let mut pdf = b"%PDF-1.7\n".to_vec();
    pdf.extend((0..4000u32).map(|i| u8::try_from(i % 251).unwrap_or(0)));
    let smtp = Smtp::new(
        "127.0.0.1",
        port,
        SmtpSecurity::Plain,
        "催收 <collections@example.com>",
    )
    .expect("sender");
    let (outcome, tries) = send(&smtp, &notice(pdf.clone()), 3, Duration::from_millis(100)).await;
    let Outcome::Delivered { proof } = outcome else {
        panic!("not delivered: {outcome:?}");
    };
    assert_eq!(tries, 1);
    assert!(
        proof.starts_with("250"),
        "the server's reply is the proof: {proof}"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let raw = loop {
        if let Some(m) = server.received().into_iter().next() {
            break m;
        }
        assert!(Instant::now() < deadline, "nothing arrived");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(raw.contains("zhang.wei@example.com"), "{raw}");
    assert!(raw.contains("DN-2026-000123.pdf"), "{raw}");
    assert!(raw.contains("application/pdf"), "{raw}");
    // The first base64 line of the attachment is the PDF's first 57 bytes.
    let first_line = base64(&pdf[..57]);
    assert!(raw.contains(&first_line), "the PDF is not in the message");
}

#[tokio::test]
async fn a_server_that_is_not_there_is_a_failure_retried_and_never_delivered() {
    let port = free_port().expect("a free port");
    let smtp = Smtp::new(
        "127.0.0.1",
        port,
        SmtpSecurity::Plain,
        "collections@example.com",
    )
    .expect("sender");
    let (outcome, tries) = send(
        &smtp,
        &notice(b"%PDF".to_vec()),
        3,
        Duration::from_millis(10),
    )
    .await;
    assert!(
        matches!(outcome, Outcome::Failed { retry: true, .. }),
        "{outcome:?}"
    );
    assert_eq!(tries, 3, "retried while the failure is temporary");
    // A bad address is permanent: one try.
    let mut bad = notice(Vec::new());
    bad.to = "not an address".to_owned();
    let (outcome, tries) = send(&smtp, &bad, 3, Duration::from_millis(10)).await;
    assert!(
        matches!(&outcome, Outcome::Failed { retry: false, reason } if reason.contains("to")),
        "{outcome:?}"
    );
    assert_eq!(tries, 1);
}

#[tokio::test]
async fn the_recording_channel_keeps_what_it_sends_and_fails_when_told() {
    let recording = dunning::channel::Recording::default();
    recording.fail_next(2);
    let message = notice(Vec::new());
    assert!(matches!(
        recording.send(&message).await,
        Outcome::Failed { retry: true, .. }
    ));
    let (outcome, tries) = send(&recording, &message, 5, Duration::from_millis(1)).await;
    assert_eq!(
        (outcome, tries),
        (
            Outcome::Delivered {
                proof: "recorded #1".to_owned()
            },
            2
        )
    );
    assert_eq!(recording.sent(), vec![message]);
}
