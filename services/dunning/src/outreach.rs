//! Reaching the debtor (issue 13 items 3-5): every outbound message and every task is
//! checked against the debtor's conduct profile first and, when refused at the time asked,
//! scheduled at the next allowed time with the reason (R-D9, R-D10, R-D13: never dropped);
//! the dispatcher sends messages when due through the outbound port and writes each contact
//! to the hash-chained contact log (R-D4), which a job seals with signed checkpoints
//! published as events (R-L8).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use money::calendar::CalendarSet;
use ring::signature::{Ed25519KeyPair, KeyPair as _};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use kit::outbox::Outbox;
use proto::events::v1 as events;

use crate::channel::{self, Attachment, Message, Outbound, Outcome, Recording, Smtp};
use crate::domain::conduct::{self, Attempt, Disclosure, PastContact, Profile, Recipient};
use crate::domain::contact_log::{Actor, Channel, Checkpoint, DeliveryProof, Digest, Draft};
use crate::store::{self, contacts::MessageRow};

/// The conduct profiles and the holiday calendars they use.
pub struct Conduct {
    profiles: HashMap<String, Profile>,
    calendars: CalendarSet,
}

/// A conduct verdict for one planned contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Planned {
    /// When it may be made (the time asked, or the next allowed one).
    pub due_at: DateTime<Utc>,
    /// Why it was moved, if it was.
    pub refused_for: Option<conduct::Reason>,
}

/// The conduct channel of a dunning channel; `None` for hand-offs that are not contacts with
/// the debtor (payment order request, litigation).
#[must_use]
pub fn conduct_channel(channel: Channel) -> Option<conduct::Channel> {
    Some(match channel {
        Channel::Sms => conduct::Channel::Sms,
        Channel::Email => conduct::Channel::Email,
        Channel::AppMessage => conduct::Channel::AppMessage,
        Channel::PhoneCall => conduct::Channel::PhoneCall,
        Channel::Letter => conduct::Channel::Letter,
        Channel::DoorNotice => conduct::Channel::DoorNotice,
        Channel::Visit => conduct::Channel::Visit,
        Channel::LawyerLetter => conduct::Channel::LawyerLetter,
        Channel::PaymentOrderRequest | Channel::LitigationHandoff => return None,
    })
}

impl Conduct {
    /// The shipped profiles (cn, us-regf) and the embedded calendars.
    ///
    /// # Errors
    /// A shipped profile or calendar does not load (a broken build).
    pub fn builtin() -> anyhow::Result<Self> {
        let mut profiles = HashMap::new();
        for id in Profile::BUILTIN_IDS {
            profiles.insert(id.to_owned(), Profile::builtin(id)?);
        }
        Ok(Self {
            profiles,
            calendars: CalendarSet::embedded()?,
        })
    }

    /// The holiday calendars (for business-hour deadlines, R-D8).
    #[must_use]
    pub fn calendars(&self) -> &CalendarSet {
        &self.calendars
    }

    /// Whether `id` names a profile.
    #[must_use]
    pub fn knows(&self, id: &str) -> bool {
        self.profiles.contains_key(id)
    }

    /// R-D9, R-D13: when a contact asked for `when` may be made, given the debtor's other
    /// contacts (channel text, time).
    ///
    /// # Errors
    /// The profile is unknown, the time zone unreadable, the contact would disclose the debt
    /// to a third party (no time makes it allowed), or the calendar cannot answer.
    #[allow(clippy::too_many_arguments)]
    pub fn plan(
        &self,
        profile: &str,
        time_zone: &str,
        channel: Channel,
        recipient: Recipient,
        disclosure: Disclosure,
        when: DateTime<Utc>,
        customer_id: Uuid,
        history: &[(String, DateTime<Utc>)],
    ) -> Result<Planned, String> {
        let Some(contact) = conduct_channel(channel) else {
            return Ok(Planned {
                due_at: when,
                refused_for: None,
            });
        };
        let profile = self.profiles.get(profile).ok_or_else(|| {
            format!(
                "conduct profile {profile:?} is unknown: use one of {}",
                Profile::BUILTIN_IDS.join(", ")
            )
        })?;
        let tz: Tz = time_zone.parse().map_err(|_| {
            format!("time zone {time_zone:?} is not an IANA zone such as Asia/Shanghai")
        })?;
        let calendar = self
            .calendars
            .get(profile.calendar_region().unwrap_or("CN"))
            .map_err(|e| e.to_string())?;
        let past: Vec<PastContact> = history
            .iter()
            .filter_map(|(c, at)| {
                let c = Channel::parse(c).and_then(conduct_channel)?;
                Some(PastContact {
                    at: *at,
                    channel: c,
                    customer_id,
                    debt_id: Uuid::nil(),
                    outcome: conduct::Outcome::Attempted,
                })
            })
            .collect();
        let attempt = Attempt {
            when,
            time_zone: tz,
            channel: contact,
            recipient,
            disclosure,
            customer_id,
            debt_id: Uuid::nil(),
        };
        match conduct::check(profile, calendar, &attempt, &past).map_err(|e| e.to_string())? {
            conduct::Verdict::Allowed => Ok(Planned {
                due_at: when,
                refused_for: None,
            }),
            conduct::Verdict::Refused {
                reason,
                next_allowed: Some(next),
            } => Ok(Planned {
                due_at: next,
                refused_for: Some(reason),
            }),
            conduct::Verdict::Refused { reason, .. } => Err(format!(
                "{}: this contact may not be made to this recipient at any time; choose the debtor's own contact",
                reason.as_str()
            )),
        }
    }

    /// R-D10: the day a reminder planned for `planned` goes out under the debtor's profile
    /// (earlier before a traditional holiday).
    ///
    /// # Errors
    /// The profile is unknown or the calendar has no data for the year.
    pub fn pre_holiday(
        &self,
        profile: &str,
        planned: chrono::NaiveDate,
    ) -> Result<chrono::NaiveDate, String> {
        let profile = self
            .profiles
            .get(profile)
            .ok_or_else(|| format!("conduct profile {profile:?} is unknown"))?;
        let Some(region) = profile.calendar_region() else {
            return Ok(planned);
        };
        let calendar = self.calendars.get(region).map_err(|e| e.to_string())?;
        conduct::pre_holiday_date(profile, calendar, planned).map_err(|e| e.to_string())
    }

    /// Plans a contact for the debtor, reading their other contacts around `when`.
    ///
    /// # Errors
    /// As [`plan`](Self::plan), or the database.
    pub async fn plan_for(
        &self,
        conn: &mut PgConnection,
        debtor: &store::contacts::Debtor,
        channel: Channel,
        when: DateTime<Utc>,
    ) -> anyhow::Result<Result<Planned, String>> {
        self.plan_to(
            conn,
            debtor,
            channel,
            when,
            Recipient::Debtor,
            Disclosure::DebtorOnly,
        )
        .await
    }

    /// [`plan_for`](Self::plan_for) for a message to `recipient` of what `disclosure` allows
    /// (R-D9: a debtor-only template to anyone else is refused, at any time).
    ///
    /// # Errors
    /// As [`plan`](Self::plan), or the database.
    pub async fn plan_to(
        &self,
        conn: &mut PgConnection,
        debtor: &store::contacts::Debtor,
        channel: Channel,
        when: DateTime<Utc>,
        recipient: Recipient,
        disclosure: Disclosure,
    ) -> anyhow::Result<Result<Planned, String>> {
        let history = store::contacts::contacts_between(
            conn,
            debtor.customer_id,
            when - chrono::Duration::days(8),
            when + chrono::Duration::days(60),
        )
        .await?;
        Ok(self.plan(
            &debtor.conduct_profile,
            &debtor.time_zone,
            channel,
            recipient,
            disclosure,
            when,
            debtor.customer_id,
            &history,
        ))
    }
}

/// A message to schedule, before its conduct-checked time is known.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// The debtor.
    pub customer_id: Uuid,
    /// Their case, if any.
    pub case_id: Option<Uuid>,
    /// How.
    pub channel: Channel,
    /// To whom (in clear; shown masked).
    pub address: String,
    /// `policy@version/code/language`.
    pub template: String,
    /// The template's language.
    pub language: String,
    /// Subject (e-mail).
    pub subject: String,
    /// The rendered text.
    pub body: String,
    /// The notice it carries.
    pub notice_id: Option<Uuid>,
    /// When it was asked for.
    pub requested_at: DateTime<Utc>,
    /// `system` or the principal.
    pub requested_by: String,
}

impl Outgoing {
    /// The subject of a reminder in `language`.
    #[must_use]
    pub fn reminder_subject(language: &str) -> String {
        if language == "en" {
            "Payment reminder".to_owned()
        } else {
            "缴费提醒".to_owned()
        }
    }

    /// The message, scheduled at the time the conduct check gave.
    #[must_use]
    pub fn scheduled(self, planned: Planned) -> MessageRow {
        MessageRow {
            id: Uuid::now_v7(),
            customer_id: self.customer_id,
            case_id: self.case_id,
            channel: self.channel.as_str().to_owned(),
            address: self.address,
            template: self.template,
            language: self.language,
            subject: self.subject,
            body: self.body,
            notice_id: self.notice_id,
            requested_at: self.requested_at,
            due_at: planned.due_at,
            refused_for: planned.refused_for.map(|r| r.as_str().to_owned()),
            status: "scheduled".to_owned(),
            attempts: 0,
            failure: String::new(),
            requested_by: self.requested_by,
            contact_log_seq: None,
        }
    }
}

/// Where a message goes: e-mail over SMTP when configured, every other channel (and e-mail
/// without SMTP) to the recording adapter, which keeps what it would send and, with
/// `DUNNING_RECORDING_FILE`, appends it there as JSON lines.
pub struct Router {
    smtp: Option<Smtp>,
    recording: Recording,
    file: Option<PathBuf>,
    /// The wait before the second round of attempts (`DUNNING_RETRY_BASE_SECS`, default 60).
    retry_base: Duration,
}

/// Attempts in one round (a quick retry of a passing failure).
pub const TRIES_PER_ROUND: u32 = 3;
/// Rounds before a message is given up as failed.
pub const ROUNDS: u32 = 5;

/// When the next round of attempts is due after `rounds_done` failed rounds, or `None` when
/// the message is given up: `base`, then five times longer each round (1, 5, 25, 125 minutes
/// with the default base).
#[must_use]
pub fn next_round(rounds_done: u32, base: Duration) -> Option<Duration> {
    if rounds_done == 0 || rounds_done >= ROUNDS {
        return None;
    }
    base.checked_mul(5_u32.checked_pow(rounds_done - 1)?)
}

impl Router {
    /// From the environment: `DUNNING_SMTP_HOST`, `DUNNING_SMTP_PORT` (25),
    /// `DUNNING_SMTP_STARTTLS` (`true`/`false`, default true), `DUNNING_SMTP_FROM`;
    /// `DUNNING_RECORDING_FILE`; `DUNNING_RECORDING_FAIL` (fail the next N sends, for drills).
    ///
    /// # Errors
    /// A setting that cannot be used, naming it.
    pub fn from_env() -> anyhow::Result<Self> {
        let smtp = match std::env::var("DUNNING_SMTP_HOST") {
            Ok(host) if !host.is_empty() => {
                let port: u16 = kit::config::env_parse("DUNNING_SMTP_PORT", 25, "a port number")?;
                let starttls: bool = kit::config::env_parse(
                    "DUNNING_SMTP_STARTTLS",
                    true,
                    "true or false (false only for a local relay or test server)",
                )?;
                let from = std::env::var("DUNNING_SMTP_FROM").unwrap_or_default();
                let security = if starttls {
                    channel::SmtpSecurity::StartTls
                } else {
                    channel::SmtpSecurity::Plain
                };
                Some(Smtp::new(&host, port, security, &from).map_err(|e| {
                    anyhow::anyhow!(
                        "DUNNING_SMTP_*: {e}; set DUNNING_SMTP_FROM to the sender address"
                    )
                })?)
            }
            _ => None,
        };
        let recording = Recording::default();
        let retry_base: u64 =
            kit::config::env_parse("DUNNING_RETRY_BASE_SECS", 60, "a whole number of seconds")?;
        let fail: u32 = kit::config::env_parse("DUNNING_RECORDING_FAIL", 0, "a whole number")?;
        recording.fail_next(fail);
        Ok(Self {
            smtp,
            recording,
            file: std::env::var_os("DUNNING_RECORDING_FILE").map(PathBuf::from),
            retry_base: Duration::from_secs(retry_base.max(1)),
        })
    }

    fn record(&self, message: &Message, outcome: &Outcome) {
        let Some(path) = &self.file else {
            return;
        };
        let Outcome::Delivered { proof } = outcome else {
            return;
        };
        let line = serde_json::json!({
            "channel": message.channel.as_str(),
            "to": message.to,
            "subject": message.subject,
            "body": message.body,
            "attachments": message.attachments.iter().map(|a| &a.filename).collect::<Vec<_>>(),
            "proof": proof,
        });
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| std::io::Write::write_all(&mut f, format!("{line}\n").as_bytes()));
        if let Err(error) = written {
            tracing::warn!(%error, path = %path.display(), "the recording channel could not write its file");
        }
    }
}

impl Outbound for Router {
    async fn send(&self, message: &Message) -> Outcome {
        match (&self.smtp, message.channel) {
            (Some(smtp), Channel::Email) => smtp.send(message).await,
            _ => {
                let outcome = self.recording.send(message).await;
                self.record(message, &outcome);
                outcome
            }
        }
    }
}

/// Masks an address for people and logs: `138****5678`, `z***@example.com`.
#[must_use]
pub fn mask(address: &str) -> String {
    if let Some((user, domain)) = address.split_once('@') {
        let first: String = user.chars().take(1).collect();
        return format!("{first}***@{domain}");
    }
    let chars: Vec<char> = address.chars().collect();
    if chars.len() <= 4 {
        return "*".repeat(chars.len());
    }
    let head: String = chars.iter().take(3.min(chars.len() - 4)).collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

/// Sends the scheduled messages that are due, each through the router with retries, and
/// logs every contact made or failed. Each message is its own transaction (locked with
/// `SKIP LOCKED`, so replicas share the work): the contact log's append lock is taken only
/// after the send, for the one entry. Returns how many were handled.
///
/// # Errors
/// The database.
pub async fn dispatch_due(
    pool: &PgPool,
    outbox: &Outbox,
    router: &Router,
    attempts: u32,
    pause: Duration,
) -> anyhow::Result<usize> {
    let mut handled = 0;
    while handled < 20 {
        let mut tx = pool.begin().await?;
        let Some(m) = store::contacts::due_messages(&mut tx, Utc::now(), 1)
            .await?
            .into_iter()
            .next()
        else {
            break;
        };
        dispatch_one(&mut tx, outbox, router, &m, attempts, pause).await?;
        tx.commit().await?;
        handled += 1;
    }
    Ok(handled)
}

async fn dispatch_one(
    tx: &mut PgConnection,
    outbox: &Outbox,
    router: &Router,
    m: &MessageRow,
    attempts: u32,
    pause: Duration,
) -> anyhow::Result<()> {
    let channel = Channel::parse(&m.channel)
        .with_context(|| format!("message {}: unknown channel {:?}", m.id, m.channel))?;
    let mut attachments = Vec::new();
    if let Some(id) = m.notice_id
        && let Some((n, pdf, _)) = store::contacts::notice(tx, id).await?
    {
        attachments.push(Attachment {
            filename: format!("{}.pdf", n.number),
            content_type: "application/pdf".to_owned(),
            bytes: pdf,
        });
    }
    let message = Message {
        channel,
        to: m.address.clone(),
        subject: m.subject.clone(),
        body: m.body.clone(),
        attachments,
    };
    let (outcome, tried) = channel::send(router, &message, attempts, pause).await;
    // A passing failure is tried again later (each round logged as failed), a lasting one or
    // the last round's is the end: never logged as delivered.
    let rounds_done = u32::try_from(m.attempts).unwrap_or(u32::MAX) / attempts.max(1) + 1;
    let (status, failure, log_outcome, proof, retry_at) = match &outcome {
        Outcome::Delivered { proof } => (
            "delivered",
            String::new(),
            crate::domain::contact_log::Outcome::Delivered,
            (channel == Channel::Email).then(|| DeliveryProof::SmtpMessageId(proof.clone())),
            None,
        ),
        Outcome::Failed { reason, retry } => {
            let later = next_round(rounds_done, router.retry_base)
                .filter(|_| *retry)
                .and_then(|wait| chrono::Duration::from_std(wait).ok())
                .map(|wait| Utc::now() + wait);
            (
                if later.is_some() {
                    "scheduled"
                } else {
                    "failed"
                },
                reason.clone(),
                crate::domain::contact_log::Outcome::Failed,
                None,
                later,
            )
        }
    };
    let entry = store::contact_log::append(
        tx,
        Draft {
            case_id: m.case_id.unwrap_or_else(Uuid::nil),
            customer_id: m.customer_id,
            channel,
            at: Utc::now(),
            actor: actor(&m.requested_by),
            template_id: m.template.clone(),
            language: m.language.clone(),
            content_hash: content_hash(m),
            outcome: log_outcome,
            delivery_proof: proof,
        },
    )
    .await?;
    if crate::domain::contact_log::demand_reached_debtor(channel, log_outcome) {
        let zone = store::contacts::debtor(tx, m.customer_id)
            .await?
            .time_zone
            .parse::<Tz>()
            .unwrap_or(chrono_tz::Asia::Shanghai);
        publish_demand(tx, outbox, &entry, zone).await?;
    }
    store::contacts::message_sent(
        tx,
        m.id,
        status,
        i32::try_from(tried).unwrap_or(i32::MAX),
        &failure,
        i64::try_from(entry.seq).ok(),
        retry_at,
    )
    .await?;
    tracing::info!(message_id = %m.id, channel = channel.as_str(), to = %mask(&m.address), status, tried, "dunning message");
    Ok(())
}

/// R-L7, R-D4: publishes `DemandDelivered` for a logged contact that is a demand that reached
/// the debtor ([`crate::domain::contact_log::demand_reached_debtor`]), in the transaction of
/// the entry, so the event exists exactly when the entry does. `zone`: the debtor's time zone,
/// for the day it reached them. Carries no personal data: the entry's seq is the reference.
///
/// # Errors
/// The database (outbox).
pub async fn publish_demand(
    tx: &mut PgConnection,
    outbox: &Outbox,
    entry: &crate::domain::contact_log::Entry,
    zone: Tz,
) -> anyhow::Result<()> {
    let d = &entry.draft;
    if !crate::domain::contact_log::demand_reached_debtor(d.channel, d.outcome) {
        return Ok(());
    }
    let customer_id = d.customer_id.to_string();
    let event = events::DemandDelivered {
        customer_id: customer_id.clone(),
        case_id: if d.case_id.is_nil() {
            String::new()
        } else {
            d.case_id.to_string()
        },
        contact_log_seq: entry.seq,
        channel: crate::api::channel_to_wire(d.channel) as i32,
        outcome: crate::api::outcome_to_wire(d.outcome) as i32,
        delivered_on: d.at.with_timezone(&zone).date_naive().to_string(),
        proof_kind: d
            .delivery_proof
            .as_ref()
            .map(|p| p.kind().to_owned())
            .unwrap_or_default(),
    };
    outbox
        .enqueue(tx, kit::events::DUNNING, &customer_id, &event)
        .await?;
    Ok(())
}

/// "system" or a principal.
#[must_use]
pub fn actor(requested_by: &str) -> Actor {
    if requested_by == "system" {
        Actor::System
    } else {
        Actor::Principal(requested_by.to_owned())
    }
}

/// The hash logged for a message: of its subject, body and the notice it carries.
#[must_use]
pub fn content_hash(m: &MessageRow) -> Digest {
    let mut bytes = Vec::new();
    for part in [m.subject.as_bytes(), m.body.as_bytes()] {
        bytes.extend_from_slice(&(part.len() as u64).to_be_bytes());
        bytes.extend_from_slice(part);
    }
    if let Some(n) = m.notice_id {
        bytes.extend_from_slice(n.as_bytes());
    }
    Digest::of(&bytes)
}

/// The key that signs checkpoints.
pub struct SigningKey {
    key: Ed25519KeyPair,
    id: String,
}

impl SigningKey {
    /// `DUNNING_CONTACT_LOG_KEY`: an Ed25519 key in PKCS#8, hex. Without it (not in
    /// production) a key is generated for this process and its public half published with
    /// every checkpoint.
    ///
    /// # Errors
    /// The key does not parse, or production runs without one.
    pub fn from_env(production: bool) -> anyhow::Result<Self> {
        let key = match std::env::var("DUNNING_CONTACT_LOG_KEY") {
            Ok(text) if !text.trim().is_empty() => {
                let der = hex::decode(text.trim()).context(
                    "DUNNING_CONTACT_LOG_KEY is not hex: give the Ed25519 PKCS#8 key as hex digits",
                )?;
                Ed25519KeyPair::from_pkcs8(&der).map_err(|e| {
                    anyhow::anyhow!("DUNNING_CONTACT_LOG_KEY is not an Ed25519 PKCS#8 key: {e}")
                })?
            }
            _ if production => anyhow::bail!(
                "DUNNING_CONTACT_LOG_KEY is required in production: the contact log's checkpoints are signed with it (R-L8); generate one with `openssl genpkey -algorithm ed25519 -outform DER | xxd -p -c0`"
            ),
            _ => {
                tracing::warn!(
                    "DUNNING_CONTACT_LOG_KEY not set: signing contact-log checkpoints with a key generated for this process"
                );
                let rng = ring::rand::SystemRandom::new();
                let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng)
                    .map_err(|_| anyhow::anyhow!("no Ed25519 key could be generated"))?;
                Ed25519KeyPair::from_pkcs8(pkcs8.as_ref())
                    .map_err(|e| anyhow::anyhow!("generated key: {e}"))?
            }
        };
        let public = key.public_key().as_ref().to_vec();
        let id = format!("ed25519:{}", &hex::encode(&public)[..16]);
        Ok(Self { key, id })
    }

    /// The public key, raw.
    #[must_use]
    pub fn public_key(&self) -> Vec<u8> {
        self.key.public_key().as_ref().to_vec()
    }

    /// The key's id (recorded with each checkpoint).
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// Seals the log: a signed checkpoint through the last entry when entries were added since
/// the last one, stored and published. Returns the checkpoint made, if any.
///
/// # Errors
/// The database.
pub async fn checkpoint(
    pool: &PgPool,
    outbox: &Outbox,
    key: &SigningKey,
) -> anyhow::Result<Option<Checkpoint>> {
    let mut tx = pool.begin().await?;
    let last = store::contact_log::last_seq(&mut tx).await?;
    let Some(last) = last else {
        return Ok(None);
    };
    let sealed = store::contact_log::latest_checkpoint(&mut tx).await?;
    if sealed
        .as_ref()
        .is_some_and(|c| c.through_seq >= u64::try_from(last).unwrap_or(0))
    {
        return Ok(None);
    }
    let entries =
        store::contact_log::read_range(&mut tx, u64::try_from(last).unwrap_or(0), 1).await?;
    let Some(entry) = entries.first() else {
        return Ok(None);
    };
    // Version 2: the Merkle root over every entry's chain hash, so single entries can be
    // proved against this checkpoint (R-L8, `domain::log_proof`).
    let hashes = store::contact_log::entry_hashes(&mut tx, entry.seq).await?;
    let made = Checkpoint::sign_with_tree(
        &key.key,
        &key.id,
        entry,
        Utc::now(),
        crate::domain::log_tree::root(&hashes),
    );
    store::contact_log::save_key(&mut tx, &key.id, &key.public_key()).await?;
    store::contact_log::insert_checkpoint(&mut tx, &made).await?;
    let event = events::ContactLogCheckpointed {
        through_seq: made.through_seq,
        root_hash: made.root_hash.to_hex(),
        at: made.at.to_rfc3339(),
        key_id: made.key_id.clone(),
        signature: hex::encode(&made.signature),
        public_key: hex::encode(key.public_key()),
        tree_root: made.tree_root.map(|t| t.to_hex()).unwrap_or_default(),
    };
    outbox
        .enqueue(&mut tx, kit::events::DUNNING, "contact-log", &event)
        .await?;
    tx.commit().await?;
    Ok(Some(made))
}

/// Runs the dispatcher and the checkpoint job until the process ends.
pub fn spawn(
    pool: PgPool,
    outbox: Outbox,
    router: Arc<Router>,
    key: Arc<SigningKey>,
    every: Duration,
) {
    let dispatch_pool = pool.clone();
    let dispatch_outbox = outbox.clone();
    tokio::spawn(async move {
        loop {
            match dispatch_due(
                &dispatch_pool,
                &dispatch_outbox,
                &router,
                TRIES_PER_ROUND,
                Duration::from_millis(500),
            )
            .await
            {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(error) => {
                    tracing::error!(%error, "dunning dispatcher: will retry; check the database")
                }
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    });
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            if let Err(error) = checkpoint(&pool, &outbox, &key).await {
                tracing::error!(%error, "contact-log checkpoint: will retry; check the database");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_of_retries_wait_longer_each_time_and_end() {
        let base = Duration::from_secs(60);
        let waits: Vec<Option<Duration>> = (0..=ROUNDS).map(|r| next_round(r, base)).collect();
        assert_eq!(
            waits,
            [
                None,
                Some(Duration::from_secs(60)),
                Some(Duration::from_secs(300)),
                Some(Duration::from_secs(1500)),
                Some(Duration::from_secs(7500)),
                None,
            ]
        );
    }

    #[test]
    fn addresses_are_masked_for_people() {
        assert_eq!(mask("13800138000"), "138****8000");
        assert_eq!(mask("wang.wu@example.com"), "w***@example.com");
        assert_eq!(mask("1234"), "****");
    }
}
