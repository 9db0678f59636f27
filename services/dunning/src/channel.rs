//! Outbound channels (issue 13 item 3): one port, [`Outbound`], and an adapter per kind. The
//! [`Recording`] adapter keeps what it would send (and can be told to fail) for the local
//! stack and tests; [`Smtp`] sends e-mail over SMTP. [`send`] retries a failed send and never
//! reports a failure as delivered (R-D4: only a delivery proof counts).

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment as MailAttachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::policy::Channel;

/// A file sent with a message (a notice's PDF).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// File name as the recipient sees it.
    pub filename: String,
    /// MIME type, e.g. `application/pdf`.
    pub content_type: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// One message to one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The channel.
    pub channel: Channel,
    /// Where: an e-mail address, a phone number, an app user id.
    pub to: String,
    /// Subject (e-mail) or title.
    pub subject: String,
    /// The text.
    pub body: String,
    /// Attachments (e-mail only).
    pub attachments: Vec<Attachment>,
}

/// What became of a send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted by the channel; `proof` is what it answered (the SMTP server's reply with its
    /// queue id, a registered-mail number): stored in the contact log (R-D4).
    Delivered {
        /// The proof.
        proof: String,
    },
    /// Not sent. `retry`: a temporary failure (connection, 4xx) worth another attempt.
    Failed {
        /// Why, for the contact log and the operator.
        reason: String,
        /// Whether another attempt may succeed.
        retry: bool,
    },
}

/// The outbound port: one implementation per channel kind.
pub trait Outbound: Send + Sync {
    /// Sends one message.
    fn send(&self, message: &Message) -> impl Future<Output = Outcome> + Send;
}

/// Sends with up to `attempts` tries, waiting `pause` between them, while the failure is
/// temporary. The outcome is the last attempt's: a failure stays a failure.
pub async fn send<O: Outbound>(
    outbound: &O,
    message: &Message,
    attempts: u32,
    pause: Duration,
) -> (Outcome, u32) {
    let mut tried = 0;
    loop {
        tried += 1;
        let outcome = outbound.send(message).await;
        match &outcome {
            Outcome::Failed { retry: true, .. } if tried < attempts.max(1) => {
                tracing::warn!(
                    channel = message.channel.as_str(),
                    attempt = tried,
                    "send failed; retrying"
                );
                tokio::time::sleep(pause).await;
            }
            _ => return (outcome, tried),
        }
    }
}

/// Keeps what it would send; `fail_next(n)` makes the next `n` sends fail temporarily.
#[derive(Debug, Default)]
pub struct Recording {
    sent: Mutex<Vec<Message>>,
    failures: AtomicU32,
}

impl Recording {
    /// Makes the next `n` sends fail (temporarily).
    pub fn fail_next(&self, n: u32) {
        self.failures.store(n, Ordering::SeqCst);
    }

    /// What was sent, oldest first.
    #[must_use]
    pub fn sent(&self) -> Vec<Message> {
        self.sent.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Outbound for Recording {
    async fn send(&self, message: &Message) -> Outcome {
        let failing = self
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if failing {
            return Outcome::Failed {
                reason: "the recording channel was told to fail".to_owned(),
                retry: true,
            };
        }
        match self.sent.lock() {
            Ok(mut sent) => {
                sent.push(message.clone());
                Outcome::Delivered {
                    proof: format!("recorded #{}", sent.len()),
                }
            }
            Err(_) => Outcome::Failed {
                reason: "the recording channel is poisoned".to_owned(),
                retry: false,
            },
        }
    }
}

/// How to reach the SMTP server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain SMTP (a local relay or a test server only).
    Plain,
    /// STARTTLS, certificate checked against `host`.
    StartTls,
}

/// E-mail over SMTP.
#[derive(Debug, Clone)]
pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Smtp {
    /// A sender through `host:port` as `from` (an address, optionally with a name).
    ///
    /// # Errors
    /// `from` is not an address, or TLS parameters cannot be built for `host`.
    pub fn new(host: &str, port: u16, security: SmtpSecurity, from: &str) -> Result<Self, String> {
        let from: Mailbox = from
            .parse()
            .map_err(|e| format!("from {from:?} is not an e-mail address: {e}"))?;
        let tls = match security {
            SmtpSecurity::Plain => Tls::None,
            SmtpSecurity::StartTls => Tls::Required(
                TlsParameters::new(host.to_owned())
                    .map_err(|e| format!("TLS parameters for {host}: {e}"))?,
            ),
        };
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .tls(tls)
            .timeout(Some(Duration::from_secs(30)))
            .build();
        Ok(Self { transport, from })
    }

    fn build(&self, message: &Message) -> Result<lettre::Message, String> {
        let to: Mailbox = message
            .to
            .parse()
            .map_err(|e| format!("to: not an e-mail address: {e}"))?;
        let mut parts = MultiPart::mixed().singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(message.body.clone()),
        );
        for a in &message.attachments {
            let content_type = ContentType::parse(&a.content_type)
                .map_err(|e| format!("attachment {}: content type: {e}", a.filename))?;
            parts = parts.singlepart(
                MailAttachment::new(a.filename.clone()).body(a.bytes.clone(), content_type),
            );
        }
        lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(message.subject.clone())
            .multipart(parts)
            .map_err(|e| format!("the message cannot be built: {e}"))
    }
}

impl Outbound for Smtp {
    async fn send(&self, message: &Message) -> Outcome {
        let mail = match self.build(message) {
            Ok(mail) => mail,
            Err(reason) => {
                return Outcome::Failed {
                    reason,
                    retry: false,
                };
            }
        };
        match self.transport.send(mail).await {
            Ok(response) => Outcome::Delivered {
                proof: format!(
                    "{} {}",
                    response.code(),
                    response.message().collect::<Vec<_>>().join(" ")
                ),
            },
            Err(e) => Outcome::Failed {
                reason: format!("SMTP: {e}"),
                retry: !e.is_permanent(),
            },
        }
    }
}
