//! R-L3, R-L8: an extract of the contact log (one debtor's entries) that proves itself offline
//! against a signed checkpoint: each entry with every field that went into its hash, and the
//! Merkle inclusion path ([`super::log_tree`]) from its hash to the tree root the checkpoint
//! signs. Nobody else's entries are shown. The document is JSON (format [`FORMAT`]); evidence
//! bundles carry it as `contact-log/proof.json` and `collectctl evidence verify` checks it.
//!
//! Pure: no I/O.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use ring::signature::{ED25519, UnparsedPublicKey};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::contact_log::{
    Actor, Channel, Checkpoint, DeliveryProof, Digest, Draft, Entry, Outcome,
};
use super::log_tree;

/// The format tag of the document.
pub const FORMAT: &str = "collections.dunning.contact_log.extract_proof.v1";

/// The signed checkpoint an extract is proved against.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedCheckpoint {
    /// The last entry covered; the tree has this many leaves.
    pub through_seq: u64,
    /// The chain hash of that entry (hex).
    pub root_hash: String,
    /// The Merkle root over the chain hashes of entries 1 ..= `through_seq` (hex).
    pub tree_root: String,
    /// When it was signed (RFC 3339, microseconds).
    pub at: String,
    /// The signing key's id.
    pub key_id: String,
    /// Ed25519 over the checkpoint's version-2 bytes (hex).
    pub signature: String,
    /// The key's Ed25519 public key (hex), as dunning's `ContactLogCheckpointed` events
    /// publish it.
    pub public_key: String,
}

/// One entry with everything its hash covers, and its inclusion path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvenEntry {
    /// Its place in the log.
    pub seq: u64,
    /// The dunning case.
    pub case_id: String,
    /// The debtor.
    pub customer_id: String,
    /// The channel's text form (e.g. `door_notice`).
    pub channel: String,
    /// When (RFC 3339, microseconds).
    pub at: String,
    /// `system`, or the principal who recorded it.
    pub actor: String,
    /// The template the content was rendered from.
    pub template_id: String,
    /// The content's language.
    pub language: String,
    /// SHA-256 of the content (hex): a notice's PDF hash, for instance.
    pub content_sha256: String,
    /// The outcome's text form (e.g. `delivered`).
    pub outcome: String,
    /// The delivery proof's kind (`registered_mail`, `signature_image`, `smtp_message_id`) and
    /// value; both empty when there is none.
    pub proof_kind: String,
    /// Its value.
    pub proof_value: String,
    /// The hash of the entry before (hex).
    pub prev_hash: String,
    /// The entry's chain hash (hex): SHA-256 over `prev_hash` and the fields above.
    pub hash: String,
    /// Sibling hashes from the entry's leaf up to the tree root (hex), nearest first.
    pub audit_path: Vec<String>,
}

/// One debtor's entries, proved against a signed checkpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtractProof {
    /// [`FORMAT`].
    pub format: String,
    /// The debtor.
    pub customer_id: String,
    /// The checkpoint.
    pub checkpoint: SignedCheckpoint,
    /// The debtor's entries through the checkpoint, in log order.
    pub entries: Vec<ProvenEntry>,
}

/// Why an extract does not prove.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProofError {
    /// Not this format, or a field that does not parse.
    Malformed(String),
    /// Signed by another key than the one trusted.
    UntrustedKey,
    /// The checkpoint's signature does not verify.
    BadSignature,
    /// The entry's fields do not give its hash: it was edited.
    Edited {
        /// The entry.
        seq: u64,
    },
    /// The entry is not in the signed tree at its place.
    NotInLog {
        /// The entry.
        seq: u64,
    },
    /// An entry of another debtor, or after the checkpoint.
    Misplaced {
        /// The entry.
        seq: u64,
    },
}

impl fmt::Display for ProofError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProofError::Malformed(why) => write!(f, "not a contact-log proof: {why}"),
            ProofError::UntrustedKey => {
                f.write_str("the checkpoint is signed by another key than the trusted one")
            }
            ProofError::BadSignature => f.write_str("the checkpoint's signature does not verify"),
            ProofError::Edited { seq } => write!(
                f,
                "contact {seq} was edited: its fields do not give the hash that was logged"
            ),
            ProofError::NotInLog { seq } => write!(
                f,
                "contact {seq} is not in the signed log at its place (its inclusion path does not lead to the checkpoint's tree root)"
            ),
            ProofError::Misplaced { seq } => write!(
                f,
                "contact {seq} is not the debtor's or lies beyond the checkpoint"
            ),
        }
    }
}

impl std::error::Error for ProofError {}

fn time_text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

impl ExtractProof {
    /// The proof of `entries` (the debtor's, through the checkpoint) given the chain hashes of
    /// every entry 1 ..= `checkpoint.through_seq` in order. None when the checkpoint has no
    /// tree root (version 1), `hashes` do not match its size, or an entry lies beyond it.
    #[must_use]
    pub fn build(
        customer_id: Uuid,
        entries: &[Entry],
        hashes: &[Digest],
        checkpoint: &Checkpoint,
        public_key: &[u8],
    ) -> Option<Self> {
        let tree_root = checkpoint.tree_root?;
        if u64::try_from(hashes.len()).ok()? != checkpoint.through_seq {
            return None;
        }
        let leaves: Vec<Digest> = hashes.iter().map(log_tree::leaf_hash).collect();
        let mut proven = Vec::with_capacity(entries.len());
        for e in entries {
            let index = usize::try_from(e.seq.checked_sub(1)?).ok()?;
            let path = log_tree::inclusion_proof(&leaves, index)?;
            let d = &e.draft;
            let (proof_kind, proof_value) = d
                .delivery_proof
                .as_ref()
                .map_or((String::new(), String::new()), |p| {
                    (p.kind().to_owned(), p.value())
                });
            proven.push(ProvenEntry {
                seq: e.seq,
                case_id: d.case_id.to_string(),
                customer_id: d.customer_id.to_string(),
                channel: d.channel.as_str().to_owned(),
                at: time_text(d.at),
                actor: match &d.actor {
                    Actor::System => "system".to_owned(),
                    Actor::Principal(p) => p.clone(),
                },
                template_id: d.template_id.clone(),
                language: d.language.clone(),
                content_sha256: d.content_hash.to_hex(),
                outcome: d.outcome.as_str().to_owned(),
                proof_kind,
                proof_value,
                prev_hash: e.prev_hash.to_hex(),
                hash: e.hash.to_hex(),
                audit_path: path.iter().map(Digest::to_hex).collect(),
            });
        }
        Some(Self {
            format: FORMAT.to_owned(),
            customer_id: customer_id.to_string(),
            checkpoint: SignedCheckpoint {
                through_seq: checkpoint.through_seq,
                root_hash: checkpoint.root_hash.to_hex(),
                tree_root: tree_root.to_hex(),
                at: time_text(checkpoint.at),
                key_id: checkpoint.key_id.clone(),
                signature: hex::encode(&checkpoint.signature),
                public_key: hex::encode(public_key),
            },
            entries: proven,
        })
    }

    /// Checks the checkpoint's signature (under `trusted_key`, hex, when given; otherwise under
    /// the key the document names), then every entry: its fields give its hash, and its path
    /// leads to the signed tree root. Answers how many entries were proved.
    ///
    /// # Errors
    /// The first problem found.
    pub fn verify(&self, trusted_key: Option<&str>) -> Result<usize, ProofError> {
        let malformed = |what: &str| ProofError::Malformed(what.to_owned());
        if self.format != FORMAT {
            return Err(ProofError::Malformed(format!(
                "format {:?}, expected {FORMAT:?}",
                self.format
            )));
        }
        let c = &self.checkpoint;
        if let Some(trusted) = trusted_key
            && !trusted.trim().eq_ignore_ascii_case(&c.public_key)
        {
            return Err(ProofError::UntrustedKey);
        }
        let digest = |hex_digits: &str, what: &str| {
            Digest::from_hex(hex_digits).ok_or_else(|| malformed(what))
        };
        let checkpoint = Checkpoint {
            through_seq: c.through_seq,
            root_hash: digest(&c.root_hash, "checkpoint.root_hash")?,
            at: DateTime::parse_from_rfc3339(&c.at)
                .map_err(|_| malformed("checkpoint.at"))?
                .with_timezone(&Utc),
            key_id: c.key_id.clone(),
            signature: hex::decode(&c.signature).map_err(|_| malformed("checkpoint.signature"))?,
            tree_root: Some(digest(&c.tree_root, "checkpoint.tree_root")?),
        };
        let key = hex::decode(&c.public_key).map_err(|_| malformed("checkpoint.public_key"))?;
        UnparsedPublicKey::new(&ED25519, key)
            .verify(&checkpoint.signed_bytes(), &checkpoint.signature)
            .map_err(|_| ProofError::BadSignature)?;
        let tree_root = checkpoint.tree_root.ok_or_else(|| malformed("tree_root"))?;
        for p in &self.entries {
            let entry = p.entry().map_err(ProofError::Malformed)?;
            if p.customer_id != self.customer_id || p.seq == 0 || p.seq > c.through_seq {
                return Err(ProofError::Misplaced { seq: p.seq });
            }
            let stated = digest(&p.hash, "entry hash")?;
            if entry.hash != stated {
                return Err(ProofError::Edited { seq: p.seq });
            }
            let path = p
                .audit_path
                .iter()
                .map(|h| digest(h, "audit_path"))
                .collect::<Result<Vec<_>, _>>()?;
            if !log_tree::verify_inclusion(&entry.hash, p.seq - 1, c.through_seq, &path, &tree_root)
            {
                return Err(ProofError::NotInLog { seq: p.seq });
            }
        }
        Ok(self.entries.len())
    }
}

impl ProvenEntry {
    /// The entry its fields describe, sealed again (so its hash is recomputed).
    fn entry(&self) -> Result<Entry, String> {
        let uuid = |text: &str, what: &str| {
            Uuid::parse_str(text).map_err(|_| format!("contact {}: {what} is not a UUID", self.seq))
        };
        let delivery_proof = if self.proof_kind.is_empty() {
            None
        } else {
            Some(
                DeliveryProof::parse(&self.proof_kind, &self.proof_value).ok_or_else(|| {
                    format!(
                        "contact {}: proof {:?} is unknown",
                        self.seq, self.proof_kind
                    )
                })?,
            )
        };
        let draft = Draft {
            case_id: uuid(&self.case_id, "case_id")?,
            customer_id: uuid(&self.customer_id, "customer_id")?,
            channel: Channel::parse(&self.channel)
                .ok_or_else(|| format!("contact {}: channel {:?}", self.seq, self.channel))?,
            at: DateTime::parse_from_rfc3339(&self.at)
                .map_err(|_| format!("contact {}: at {:?}", self.seq, self.at))?
                .with_timezone(&Utc),
            actor: if self.actor == "system" {
                Actor::System
            } else {
                Actor::Principal(self.actor.clone())
            },
            template_id: self.template_id.clone(),
            language: self.language.clone(),
            content_hash: Digest::from_hex(&self.content_sha256)
                .ok_or_else(|| format!("contact {}: content_sha256", self.seq))?,
            outcome: Outcome::parse(&self.outcome)
                .ok_or_else(|| format!("contact {}: outcome {:?}", self.seq, self.outcome))?,
            delivery_proof,
        };
        let prev = Digest::from_hex(&self.prev_hash)
            .ok_or_else(|| format!("contact {}: prev_hash", self.seq))?;
        Ok(Entry::seal(self.seq, prev, draft))
    }
}

#[cfg(test)]
mod tests {
    use ring::signature::{Ed25519KeyPair, KeyPair as _};

    use super::*;

    fn key() -> Ed25519KeyPair {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).expect("key");
        Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("key")
    }

    /// A log of `n` entries alternating between two debtors.
    fn log(n: usize) -> (Vec<Entry>, Uuid, Uuid) {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let mut out: Vec<Entry> = Vec::new();
        for i in 0..n {
            let draft = Draft {
                case_id: Uuid::new_v4(),
                customer_id: if i % 2 == 0 { a } else { b },
                channel: Channel::DoorNotice,
                at: Utc::now(),
                actor: if i % 3 == 0 {
                    Actor::System
                } else {
                    Actor::Principal("zhao.collector".into())
                },
                template_id: "notice".into(),
                language: "zh-CN".into(),
                content_hash: Digest::of(format!("notice {i}").as_bytes()),
                outcome: Outcome::Delivered,
                delivery_proof: (i % 4 == 0)
                    .then(|| DeliveryProof::RegisteredMail(format!("XA{i:08}CN"))),
            };
            let e = Entry::next(out.last(), draft);
            out.push(e);
        }
        (out, a, b)
    }

    fn proof_for(entries: &[Entry], customer: Uuid, key: &Ed25519KeyPair) -> ExtractProof {
        let hashes: Vec<Digest> = entries.iter().map(|e| e.hash).collect();
        let last = entries.last().expect("entries");
        let cp = Checkpoint::sign_with_tree(key, "k1", last, Utc::now(), log_tree::root(&hashes));
        let mine: Vec<Entry> = entries
            .iter()
            .filter(|e| e.draft.customer_id == customer)
            .cloned()
            .collect();
        ExtractProof::build(customer, &mine, &hashes, &cp, key.public_key().as_ref())
            .expect("proof")
    }

    #[test]
    fn a_debtors_entries_prove_and_show_nobody_else_r_l8() {
        let key = key();
        let (entries, a, b) = log(11);
        let proof = proof_for(&entries, a, &key);
        assert_eq!(proof.entries.len(), 6);
        let pinned = hex::encode(key.public_key().as_ref());
        assert_eq!(proof.verify(Some(&pinned)), Ok(6));
        // It survives JSON.
        let text = serde_json::to_string(&proof).expect("json");
        let back: ExtractProof = serde_json::from_str(&text).expect("parse");
        assert_eq!(back.verify(None), Ok(6));
        assert!(!text.contains(&b.to_string()), "another debtor's id shows");
    }

    #[test]
    fn an_edited_moved_or_foreign_entry_fails_naming_it() {
        let key = key();
        let (entries, a, _) = log(9);
        let proof = proof_for(&entries, a, &key);
        let mut edited = proof.clone();
        edited.entries[1].outcome = "refused".into();
        assert_eq!(edited.verify(None), Err(ProofError::Edited { seq: 3 }));
        // Re-hashed after the edit, it is no longer in the signed tree.
        let mut rehashed = proof.clone();
        let e = &mut rehashed.entries[1];
        e.outcome = "refused".into();
        e.hash = e.entry().expect("entry").hash.to_hex();
        assert_eq!(rehashed.verify(None), Err(ProofError::NotInLog { seq: 3 }));
        let mut foreign = proof.clone();
        foreign.customer_id = Uuid::new_v4().to_string();
        assert_eq!(foreign.verify(None), Err(ProofError::Misplaced { seq: 1 }));
        let mut resigned = proof.clone();
        resigned.checkpoint.at = "2020-01-01T00:00:00.000000Z".into();
        assert_eq!(resigned.verify(None), Err(ProofError::BadSignature));
        let other = hex::encode(self::key().public_key().as_ref());
        assert_eq!(proof.verify(Some(&other)), Err(ProofError::UntrustedKey));
    }

    #[test]
    fn a_version_1_checkpoint_proves_nothing() {
        let key = key();
        let (entries, a, _) = log(3);
        let hashes: Vec<Digest> = entries.iter().map(|e| e.hash).collect();
        let cp = Checkpoint::sign(&key, "k1", &entries[2], Utc::now());
        assert!(ExtractProof::build(a, &entries[..1], &hashes, &cp, b"k").is_none());
    }
}
