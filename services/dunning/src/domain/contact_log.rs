//! R-D4, R-L3, R-L8: the contact log as court evidence. Every contact with a debtor is one
//! [`Entry`]; each entry carries the SHA-256 of its predecessor's hash and its own canonical
//! encoding, so editing, deleting, inserting or reordering entries breaks the chain, and
//! [`verify`] names the first entry where it breaks. A [`Checkpoint`] signs the hash of the
//! last entry (the root, which covers every entry before it) with Ed25519, so a log can be
//! checked offline against a public key, and truncation after the checkpoint shows too.
//!
//! Pure: no I/O. The store (`crate::store::contact_log`) persists what is sealed here.

use std::fmt;

use chrono::{DateTime, SubsecRound as _, Utc};
use ring::signature::{ED25519, Ed25519KeyPair, UnparsedPublicKey};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

/// Version tag at the start of every entry's canonical encoding. A new encoding gets a new
/// tag; entries sealed under the old one keep verifying under the old one.
const ENTRY_V1: &[u8] = b"collections.dunning.contact_log.entry.v1";
/// Version tag of the bytes a checkpoint signs (distinct from entries', so a signature over
/// one can never be passed off as the other).
const CHECKPOINT_V1: &[u8] = b"collections.dunning.contact_log.checkpoint.v1";
/// Version 2 also signs the root of the Merkle tree over every entry through the checkpoint
/// ([`super::log_tree`]), so single entries can be proved against it.
const CHECKPOINT_V2: &[u8] = b"collections.dunning.contact_log.checkpoint.v2";

/// A SHA-256 value (entry hashes, content hashes, signature-image hashes).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Digest(pub [u8; 32]);

impl Digest {
    /// The `prev_hash` of the first entry: 32 zero bytes.
    pub const GENESIS: Digest = Digest([0; 32]);

    /// SHA-256 of `bytes` (e.g. the rendered content of a notice).
    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }

    /// Parses 64 hex digits.
    pub fn from_hex(hex_digits: &str) -> Option<Self> {
        let mut out = [0; 32];
        hex::decode_to_slice(hex_digits, &mut out).ok()?;
        Some(Self(out))
    }

    /// Parses exactly 32 bytes (as stored in a BYTEA column).
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        Some(Self(bytes.try_into().ok()?))
    }

    /// Lower-case hex, 64 digits.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", self.to_hex())
    }
}

/// Declares a closed set of names with a stable text form: the text form (not the variant's
/// position) goes into the hash and the database, so reordering variants changes nothing.
macro_rules! named {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal,)+ }) => {
        $(#[$meta])*
        // Serde's snake_case names are the text forms (tested in `policy`).
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash,
            serde::Serialize, serde::Deserialize,
        )]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &[$name] = &[$($name::$variant,)+];

            /// The stable text form (hashed and stored).
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// The value whose text form is `text`.
            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

named! {
    /// How the debtor was contacted (R-D4).
    Channel {
        /// Text message.
        Sms => "sms",
        /// E-mail.
        Email => "email",
        /// Message in the owners' app.
        AppMessage => "app_message",
        /// Telephone call.
        PhoneCall => "phone_call",
        /// Letter by post (ordinary or registered).
        Letter => "letter",
        /// Notice posted at the door of the unit.
        DoorNotice => "door_notice",
        /// Visit in person.
        Visit => "visit",
        /// Lawyer's letter.
        LawyerLetter => "lawyer_letter",
        /// Application for a payment order (R-L7).
        PaymentOrderRequest => "payment_order_request",
        /// Handoff to litigation (R-L1).
        LitigationHandoff => "litigation_handoff",
    }
}

named! {
    /// What came of a contact (R-D4).
    Outcome {
        /// Handed to the channel.
        Sent => "sent",
        /// The channel confirmed delivery.
        Delivered => "delivered",
        /// The channel could not deliver.
        Failed => "failed",
        /// Returned undelivered (post, e-mail bounce).
        Returned => "returned",
        /// The debtor answered (call, visit, message).
        Answered => "answered",
        /// Nobody answered or nobody was home.
        NoAnswer => "no_answer",
        /// The debtor refused to accept or talk.
        Refused => "refused",
        /// The debtor promised to pay (R-D5).
        PromiseMade => "promise_made",
        /// The debtor disputed the claim (R-D8).
        Disputed => "disputed",
        /// The number reached someone else: the contact point is wrong.
        WrongNumber => "wrong_number",
    }
}

/// R-L7, R-D4: whether a contact is a demand for payment that reached the debtor, which
/// restarts the limitation period of their claims (Civil Code art. 195; SPC Provisions on the
/// limitation period, art. 8: a demand counts once it arrived, by letter, electronic message
/// or in person). Counted: a channel addressed to the debtor (SMS, e-mail, app message, call,
/// letter, notice at the door, visit, lawyer's letter) with an outcome that shows arrival:
/// delivered (confirmed by the channel or a receipt), answered (spoken to), promise made (the
/// debtor agreed to pay, itself an interruption) or disputed (they answered the demand).
/// Not counted: sent alone (arrival unproven), failed, returned, no answer, refused, wrong
/// number; and the court channels (payment order request, litigation handoff), which are
/// legal's own steps and proven by the court's documents.
pub fn demand_reached_debtor(channel: Channel, outcome: Outcome) -> bool {
    let to_debtor = match channel {
        Channel::Sms
        | Channel::Email
        | Channel::AppMessage
        | Channel::PhoneCall
        | Channel::Letter
        | Channel::DoorNotice
        | Channel::Visit
        | Channel::LawyerLetter => true,
        Channel::PaymentOrderRequest | Channel::LitigationHandoff => false,
    };
    let reached = match outcome {
        Outcome::Delivered | Outcome::Answered | Outcome::PromiseMade | Outcome::Disputed => true,
        Outcome::Sent
        | Outcome::Failed
        | Outcome::Returned
        | Outcome::NoAnswer
        | Outcome::Refused
        | Outcome::WrongNumber => false,
    };
    to_debtor && reached
}

/// Who made the contact: an authenticated principal, or the system itself (scheduled notices).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Actor {
    /// The service acting on its own (the ladder's scheduled steps).
    System,
    /// The authenticated principal (user or service identity) that recorded the contact.
    Principal(String),
}

/// Evidence that a contact reached the debtor (R-D4, R-L10: delivery proofs keep claims alive).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum DeliveryProof {
    /// The `Message-ID` the receiving SMTP server accepted.
    SmtpMessageId(String),
    /// The postal registered-mail number.
    RegisteredMail(String),
    /// SHA-256 of the image of the recipient's signature.
    SignatureImage(Digest),
}

impl DeliveryProof {
    /// The stable name of the kind of proof (hashed and stored).
    pub fn kind(&self) -> &'static str {
        match self {
            DeliveryProof::SmtpMessageId(_) => "smtp_message_id",
            DeliveryProof::RegisteredMail(_) => "registered_mail",
            DeliveryProof::SignatureImage(_) => "signature_image",
        }
    }

    /// The proof's value as text (the signature image's hash in hex).
    pub fn value(&self) -> String {
        match self {
            DeliveryProof::SmtpMessageId(v) | DeliveryProof::RegisteredMail(v) => v.clone(),
            DeliveryProof::SignatureImage(d) => d.to_hex(),
        }
    }

    /// The proof from its kind and value as [`kind`](Self::kind) and [`value`](Self::value)
    /// give them.
    pub fn parse(kind: &str, value: &str) -> Option<Self> {
        match kind {
            "smtp_message_id" => Some(DeliveryProof::SmtpMessageId(value.to_owned())),
            "registered_mail" => Some(DeliveryProof::RegisteredMail(value.to_owned())),
            "signature_image" => Digest::from_hex(value).map(DeliveryProof::SignatureImage),
            _ => None,
        }
    }
}

/// What is known about a contact before it joins the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Draft {
    /// The dunning case.
    pub case_id: Uuid,
    /// The debtor.
    pub customer_id: Uuid,
    /// How.
    pub channel: Channel,
    /// When the contact happened (kept to the microsecond, as the database keeps it).
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: Actor,
    /// The template the content was rendered from.
    pub template_id: String,
    /// The template's language (e.g. `zh-CN`).
    pub language: String,
    /// SHA-256 of the rendered content (the content itself is kept by documents).
    pub content_hash: Digest,
    /// What came of it.
    pub outcome: Outcome,
    /// Proof of delivery, where the channel gives one.
    pub delivery_proof: Option<DeliveryProof>,
}

/// One sealed contact: the draft, its place in the log and the chain hashes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Position in the log: 1 for the first entry, then one more for each.
    pub seq: u64,
    /// The contact.
    pub draft: Draft,
    /// The hash of the entry before ([`Digest::GENESIS`] for the first).
    pub prev_hash: Digest,
    /// SHA-256 over `prev_hash || canonical(entry)`.
    pub hash: Digest,
}

impl Entry {
    /// Seals `draft` as entry `seq` after the entry whose hash is `prev_hash`. The time is
    /// truncated to microseconds first, so the entry reads back from the database unchanged.
    pub fn seal(seq: u64, prev_hash: Digest, mut draft: Draft) -> Self {
        draft.at = draft.at.trunc_subsecs(6);
        let hash = chain_hash(&prev_hash, &canonical(seq, &draft));
        Self {
            seq,
            draft,
            prev_hash,
            hash,
        }
    }

    /// Seals `draft` as the entry after `prev` (or as the first entry).
    pub fn next(prev: Option<&Entry>, draft: Draft) -> Self {
        match prev {
            Some(p) => Self::seal(p.seq.saturating_add(1), p.hash, draft),
            None => Self::seal(1, Digest::GENESIS, draft),
        }
    }

    /// Whether `hash` still matches the entry's fields and `prev_hash`.
    pub fn is_intact(&self) -> bool {
        chain_hash(&self.prev_hash, &canonical(self.seq, &self.draft)) == self.hash
    }
}

fn chain_hash(prev: &Digest, canonical: &[u8]) -> Digest {
    let mut h = Sha256::new();
    h.update(prev.0);
    h.update(canonical);
    Digest(h.finalize().into())
}

/// Appends a length-prefixed field: 8-byte big-endian length, then the bytes. Every field is
/// prefixed, fixed-size ones too, so no two different entries encode to the same bytes.
fn field(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// The canonical encoding of an entry (version 1): the version tag, then seq, case, customer,
/// channel, time (microseconds since the Unix epoch), actor kind and name, template, language,
/// content hash, outcome, proof kind and value; each length-prefixed, in that order. Names
/// are the stable text forms; an absent proof is the kind `none` with an empty value.
pub fn canonical(seq: u64, d: &Draft) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    field(&mut out, ENTRY_V1);
    field(&mut out, &seq.to_be_bytes());
    field(&mut out, d.case_id.as_bytes());
    field(&mut out, d.customer_id.as_bytes());
    field(&mut out, d.channel.as_str().as_bytes());
    field(&mut out, &d.at.timestamp_micros().to_be_bytes());
    let (actor_kind, actor_name) = match &d.actor {
        Actor::System => ("system", ""),
        Actor::Principal(p) => ("principal", p.as_str()),
    };
    field(&mut out, actor_kind.as_bytes());
    field(&mut out, actor_name.as_bytes());
    field(&mut out, d.template_id.as_bytes());
    field(&mut out, d.language.as_bytes());
    field(&mut out, &d.content_hash.0);
    field(&mut out, d.outcome.as_str().as_bytes());
    match &d.delivery_proof {
        None => {
            field(&mut out, b"none");
            field(&mut out, b"");
        }
        Some(p) => {
            field(&mut out, p.kind().as_bytes());
            field(&mut out, p.value().as_bytes());
        }
    }
    out
}

/// The first place a log is not what was sealed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tamper {
    /// The entry's fields (or its hash) were changed after sealing: its hash no longer
    /// matches them.
    Edited {
        /// The entry.
        seq: u64,
    },
    /// One or more entries after `after_seq` are missing (0: from the start).
    Deleted {
        /// The last entry before the gap.
        after_seq: u64,
    },
    /// An entry that does not belong: a duplicate or out-of-sequence number, or a link that
    /// does not lead back to the entry before it (a forged entry, or a re-sealed forgery
    /// replacing the entry before `seq`).
    Inserted {
        /// The entry where the chain breaks.
        seq: u64,
    },
    /// Entries are out of order: where entry `expected` belongs, entry `found` stands.
    Reordered {
        /// The sequence number the position should hold.
        expected: u64,
        /// The sequence number it holds.
        found: u64,
    },
}

impl fmt::Display for Tamper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tamper::Edited { seq } => write!(f, "contact {seq} was edited after it was logged"),
            Tamper::Deleted { after_seq } => write!(f, "contacts after {after_seq} were deleted"),
            Tamper::Inserted { seq } => write!(f, "contact {seq} does not belong in the chain"),
            Tamper::Reordered { expected, found } => {
                write!(f, "contact {found} stands where contact {expected} belongs")
            }
        }
    }
}

impl std::error::Error for Tamper {}

/// Verifies a whole log from its first entry (seq 1 after the genesis hash).
pub fn verify(entries: &[Entry]) -> Result<(), Tamper> {
    verify_after(0, Digest::GENESIS, entries)
}

/// Verifies `entries` as the continuation of the entry `prev_seq` whose hash is `prev_hash`
/// (e.g. the root of a trusted checkpoint). Reports the first bad entry.
pub fn verify_after(prev_seq: u64, prev_hash: Digest, entries: &[Entry]) -> Result<(), Tamper> {
    let (mut p_seq, mut p_hash) = (prev_seq, prev_hash);
    for (i, e) in entries.iter().enumerate() {
        let expected = p_seq.saturating_add(1);
        let linked = e.prev_hash == p_hash;
        if !e.is_intact() {
            // With the link intact the position is right, so it is entry `expected` (whose
            // seq field may itself be what changed); otherwise trust the entry's own number.
            let seq = if linked { expected } else { e.seq };
            return Err(Tamper::Edited { seq });
        }
        if linked && e.seq == expected {
            (p_seq, p_hash) = (e.seq, e.hash);
            continue;
        }
        let rest = &entries[i + 1..];
        // It chains onto an entry that comes later: the order was changed.
        if rest.iter().any(|later| later.hash == e.prev_hash) {
            return Err(Tamper::Reordered {
                expected,
                found: e.seq,
            });
        }
        let next_fits = rest
            .first()
            .is_some_and(|n| n.prev_hash == p_hash && n.seq == expected);
        if e.seq <= expected || linked || next_fits {
            return Err(Tamper::Inserted { seq: e.seq });
        }
        // A higher number and a link to an entry that is not there: a gap.
        return Err(Tamper::Deleted { after_seq: p_seq });
    }
    Ok(())
}

/// A signed statement that the log through `through_seq` ended in `root_hash` (R-L8).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The last entry covered.
    pub through_seq: u64,
    /// The hash of that entry, which covers every entry before it.
    pub root_hash: Digest,
    /// When the checkpoint was made (microseconds, as stored).
    pub at: DateTime<Utc>,
    /// Which signing key (so keys can rotate and old checkpoints still verify).
    pub key_id: String,
    /// Ed25519 signature over [`Checkpoint::signed_bytes`].
    pub signature: Vec<u8>,
    /// The Merkle root over the chain hashes of entries 1 ..= `through_seq`
    /// ([`super::log_tree::root`]); None for checkpoints made before tree roots (version 1).
    pub tree_root: Option<Digest>,
}

impl Checkpoint {
    /// Signs the log through `last` with `key` (version 1: the chain's root only).
    pub fn sign(key: &Ed25519KeyPair, key_id: &str, last: &Entry, at: DateTime<Utc>) -> Self {
        Self::signed(key, key_id, last, at, None)
    }

    /// Signs the log through `last` and the Merkle root `tree_root` over the chain hashes of
    /// every entry through it (version 2).
    pub fn sign_with_tree(
        key: &Ed25519KeyPair,
        key_id: &str,
        last: &Entry,
        at: DateTime<Utc>,
        tree_root: Digest,
    ) -> Self {
        Self::signed(key, key_id, last, at, Some(tree_root))
    }

    fn signed(
        key: &Ed25519KeyPair,
        key_id: &str,
        last: &Entry,
        at: DateTime<Utc>,
        tree_root: Option<Digest>,
    ) -> Self {
        let at = at.trunc_subsecs(6);
        let message = Self::message(last.seq, &last.hash, at, key_id, tree_root.as_ref());
        Self {
            through_seq: last.seq,
            root_hash: last.hash,
            at,
            key_id: key_id.to_owned(),
            signature: key.sign(&message).as_ref().to_vec(),
            tree_root,
        }
    }

    /// The bytes the signature covers: a version tag, then seq, root, time and key id (and in
    /// version 2 the tree root), each length-prefixed as in entries.
    pub fn signed_bytes(&self) -> Vec<u8> {
        Self::message(
            self.through_seq,
            &self.root_hash,
            self.at,
            &self.key_id,
            self.tree_root.as_ref(),
        )
    }

    fn message(
        seq: u64,
        root: &Digest,
        at: DateTime<Utc>,
        key_id: &str,
        tree_root: Option<&Digest>,
    ) -> Vec<u8> {
        let mut out = Vec::with_capacity(160);
        field(
            &mut out,
            if tree_root.is_some() {
                CHECKPOINT_V2
            } else {
                CHECKPOINT_V1
            },
        );
        field(&mut out, &seq.to_be_bytes());
        field(&mut out, &root.0);
        field(&mut out, &at.timestamp_micros().to_be_bytes());
        field(&mut out, key_id.as_bytes());
        if let Some(tree_root) = tree_root {
            field(&mut out, &tree_root.0);
        }
        out
    }
}

/// Why a log does not match a checkpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckpointError {
    /// The signature is not the key's over this checkpoint.
    BadSignature,
    /// The log itself is broken (see [`Tamper`]); truncation before the checkpoint's last
    /// entry shows as [`Tamper::Deleted`] after the last entry present.
    Tamper(Tamper),
    /// The chain holds, but entry `through_seq` is not the one signed: it and (possibly)
    /// entries before it were re-sealed.
    RootMismatch {
        /// The checkpoint's last entry.
        through_seq: u64,
    },
}

impl fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckpointError::BadSignature => f.write_str("the checkpoint's signature is not valid"),
            CheckpointError::Tamper(t) => t.fmt(f),
            CheckpointError::RootMismatch { through_seq } => write!(
                f,
                "contact {through_seq} is not the one the checkpoint signed: the log was re-sealed"
            ),
        }
    }
}

impl std::error::Error for CheckpointError {}

/// Verifies a whole log (from seq 1) against a checkpoint and the Ed25519 public key of
/// `checkpoint.key_id` (32 bytes): the signature, the chain, and that the log reaches the
/// checkpoint's last entry with the signed hash. Entries after the checkpoint are verified
/// as chain only.
pub fn verify_checkpoint(
    checkpoint: &Checkpoint,
    public_key: &[u8],
    entries: &[Entry],
) -> Result<(), CheckpointError> {
    UnparsedPublicKey::new(&ED25519, public_key)
        .verify(&checkpoint.signed_bytes(), &checkpoint.signature)
        .map_err(|_| CheckpointError::BadSignature)?;
    verify(entries).map_err(CheckpointError::Tamper)?;
    // The chain holds, so entry n sits at index n - 1.
    let covered = usize::try_from(checkpoint.through_seq)
        .ok()
        .and_then(|n| n.checked_sub(1))
        .and_then(|i| entries.get(i));
    match covered {
        Some(e) if e.hash == checkpoint.root_hash => {
            // Version 2: the signed tree root must be the tree over the entries it covers.
            let through = usize::try_from(checkpoint.through_seq).unwrap_or(usize::MAX);
            let tree_ok = checkpoint.tree_root.is_none_or(|tree_root| {
                let hashes: Vec<Digest> = entries.iter().take(through).map(|e| e.hash).collect();
                super::log_tree::root(&hashes) == tree_root
            });
            if tree_ok {
                Ok(())
            } else {
                Err(CheckpointError::RootMismatch {
                    through_seq: checkpoint.through_seq,
                })
            }
        }
        Some(_) => Err(CheckpointError::RootMismatch {
            through_seq: checkpoint.through_seq,
        }),
        None if checkpoint.through_seq == 0 => Ok(()),
        None => Err(CheckpointError::Tamper(Tamper::Deleted {
            after_seq: entries.last().map_or(0, |e| e.seq),
        })),
    }
}

#[cfg(test)]
mod tests;
