//! Sensitive personal data at rest and in events (R-O4).
//!
//! Bank account numbers are stored sealed with AES-256-GCM under a key ring, and found again
//! through a keyed blind index (HMAC-SHA-256 of the account's letters and digits, upper case),
//! never in plain text. Events carry the blind index and the masked form
//! ([`crate::wire::mask`]); logs, notes and errors show the masked form only.
//!
//! - A sealed value is `v2:<key id>:` followed by the hex of a random 96-bit nonce and the
//!   ciphertext with its tag; `v2:<key id>` is bound to the ciphertext as associated data, so
//!   a value cannot be relabelled to another key. The nonce is fresh for every value, so
//!   equal accounts do not look equal.
//! - `v1:` values (sealed before key ids existed, under the old `PII_KEY`) still open with
//!   that key; `reseal` commands move them to the current key.
//! - The blind-index key (`PII_INDEX_KEY`) is separate from the sealing keys and shared by
//!   every service that compares accounts (contracts, payments): the index contracts puts in
//!   an event equals the one payments computes from a bank line. It does not rotate with the
//!   sealing keys, so rotation never changes an index.

use std::collections::BTreeMap;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Sealing keys: `id=hex,id=hex` (each 64 hex digits).
pub const KEYS_VARIABLE: &str = "PII_KEYS";
/// The id in [`KEYS_VARIABLE`] that seals new values (required with more than one key).
pub const KEY_ID_VARIABLE: &str = "PII_KEY_ID";
/// The key from before key ids: opens `v1:` values; seals as key id [`LEGACY_KEY_ID`] when
/// [`KEYS_VARIABLE`] is unset.
pub const KEY_VARIABLE: &str = "PII_KEY";
/// The blind-index key, 64 hex digits, the same for every service that compares accounts.
pub const INDEX_KEY_VARIABLE: &str = "PII_INDEX_KEY";
/// The key id [`KEY_VARIABLE`] seals under when it is the only key given.
pub const LEGACY_KEY_ID: &str = "legacy";

const NONCE_BYTES: usize = 12;
const TAG_BYTES: usize = 16;
const MAX_KEY_ID_LEN: usize = 32;

/// A key id: 1–32 letters, digits, `-` or `_` (it is part of every sealed value).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(String);

impl KeyId {
    /// Parses a key id.
    ///
    /// # Errors
    /// When it is empty, longer than 32 characters or has other characters.
    pub fn parse(id: &str) -> Result<Self, &'static str> {
        let ok = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
        if id.is_empty() || id.len() > MAX_KEY_ID_LEN {
            Err("a key id has 1 to 32 characters")
        } else if !id.chars().all(ok) {
            Err("a key id has only letters, digits, '-' and '_'")
        } else {
            Ok(Self(id.to_owned()))
        }
    }

    /// The id as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The key ring of one service and the shared blind-index key.
#[derive(Clone)]
pub struct Pii {
    current: KeyId,
    keys: BTreeMap<KeyId, Aes256Gcm>,
    legacy: Option<Aes256Gcm>,
    index_key: [u8; 32],
}

impl std::fmt::Debug for Pii {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pii(current key {}, <keys>)", self.current)
    }
}

/// Bad configuration, or a stored value that cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum PiiError {
    /// A variable is missing or malformed.
    #[error("{variable}: {reason}")]
    Config {
        /// The environment variable at fault.
        variable: &'static str,
        /// What is wrong and what is expected.
        reason: String,
    },
    /// A value could not be sealed.
    #[error("a personal value cannot be sealed: {0}")]
    Seal(&'static str),
    /// A stored value could not be opened.
    #[error("a stored personal value cannot be opened: {0}")]
    Open(#[from] OpenError),
}

/// Why a stored value does not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// Neither `v1:` nor `v2:`.
    #[error("it is not a sealed value (unknown version)")]
    UnknownVersion,
    /// Sealed under a key id this service does not have.
    #[error("it was sealed under key id {0:?}, which is not in PII_KEYS")]
    UnknownKeyId(String),
    /// A `v1:` value and no `PII_KEY` to open it.
    #[error("it was sealed before key ids existed; set PII_KEY to the old key to open it")]
    NoLegacyKey,
    /// Not hex, or too short.
    #[error("it is malformed")]
    Malformed,
    /// The key does not open it: another key under the same id, or the value was changed.
    #[error("the key does not open it (another key under that id, or the value was changed)")]
    Tampered,
    /// It opened, but to something that is not text.
    #[error("it is not text")]
    NotText,
}

impl Pii {
    /// The key ring from [`KEYS_VARIABLE`], [`KEY_ID_VARIABLE`] and [`KEY_VARIABLE`], and the
    /// blind-index key from [`INDEX_KEY_VARIABLE`].
    ///
    /// # Errors
    /// [`PiiError::Config`] naming the variable that is missing or malformed.
    pub fn from_env() -> Result<Self, PiiError> {
        let var = |name: &str| {
            std::env::var(name)
                .ok()
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        Self::from_config(
            var(KEYS_VARIABLE).as_deref(),
            var(KEY_ID_VARIABLE).as_deref(),
            var(KEY_VARIABLE).as_deref(),
            var(INDEX_KEY_VARIABLE).as_deref(),
        )
    }

    /// The key ring from the variables' values (`None`: unset).
    ///
    /// # Errors
    /// [`PiiError::Config`] naming the variable that is missing or malformed.
    pub fn from_config(
        keys: Option<&str>,
        key_id: Option<&str>,
        legacy: Option<&str>,
        index_key: Option<&str>,
    ) -> Result<Self, PiiError> {
        let config = |variable, reason: String| PiiError::Config { variable, reason };
        let legacy = legacy
            .map(|hex| key_of(hex).map_err(|r| config(KEY_VARIABLE, r)))
            .transpose()?;
        let mut ring = BTreeMap::new();
        match keys {
            Some(list) => {
                for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
                    let (id, hex) = entry.split_once('=').ok_or_else(|| {
                        config(KEYS_VARIABLE, format!("{:?} is not id=hex", redact(entry)))
                    })?;
                    let id = KeyId::parse(id.trim())
                        .map_err(|r| config(KEYS_VARIABLE, format!("{id:?}: {r}")))?;
                    let key =
                        key_of(hex).map_err(|r| config(KEYS_VARIABLE, format!("key {id}: {r}")))?;
                    if ring.insert(id.clone(), key).is_some() {
                        return Err(config(KEYS_VARIABLE, format!("key id {id} is given twice")));
                    }
                }
            }
            None => {
                let key = legacy.ok_or_else(|| {
                    config(
                        KEYS_VARIABLE,
                        format!("is not set (nor {KEY_VARIABLE}): give the sealing keys as id=hex,id=hex (64 hex digits each, e.g. from `openssl rand -hex 32`)"),
                    )
                })?;
                ring.insert(KeyId(LEGACY_KEY_ID.to_owned()), key);
            }
        }
        let current = match key_id {
            Some(id) => KeyId::parse(id).map_err(|r| config(KEY_ID_VARIABLE, r.to_owned()))?,
            None if ring.len() == 1 => ring
                .keys()
                .next()
                .cloned()
                .ok_or_else(|| config(KEYS_VARIABLE, "has no key".to_owned()))?,
            None if ring.is_empty() => {
                return Err(config(KEYS_VARIABLE, "has no key".to_owned()));
            }
            None => {
                return Err(config(
                    KEY_ID_VARIABLE,
                    format!(
                        "is not set: with more than one key in {KEYS_VARIABLE}, name the one that seals new values"
                    ),
                ));
            }
        };
        if !ring.contains_key(&current) {
            return Err(config(
                KEY_ID_VARIABLE,
                format!("{current} is not a key id in {KEYS_VARIABLE}"),
            ));
        }
        let index = index_key.ok_or_else(|| {
            config(
                INDEX_KEY_VARIABLE,
                "is not set: give the blind-index key (64 hex digits), the same for contracts and payments".to_owned(),
            )
        })?;
        let index = decode_key(index).map_err(|r| config(INDEX_KEY_VARIABLE, r))?;
        Ok(Self {
            keys: ring
                .into_iter()
                .map(|(id, key)| (id, cipher(&key)))
                .collect(),
            current,
            legacy: legacy.map(|key| cipher(&key)),
            index_key: derive_index_key(&index),
        })
    }

    /// One sealing key (id `id`) and a blind-index key, for tests and tools.
    #[must_use]
    pub fn new(id: KeyId, key: &[u8; 32], index_key: &[u8; 32]) -> Self {
        Self {
            keys: BTreeMap::from([(id.clone(), Aes256Gcm::new(key.into()))]),
            current: id,
            legacy: None,
            index_key: derive_index_key(index_key),
        }
    }

    /// A fresh random key as 64 hex digits (for a local stack).
    ///
    /// # Errors
    /// When the operating system has no randomness to give.
    pub fn generate_key_hex() -> Result<String, getrandom::Error> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key)?;
        Ok(encode_hex(&key))
    }

    /// The key id new values are sealed under.
    #[must_use]
    pub fn current_key_id(&self) -> &KeyId {
        &self.current
    }

    /// Seals `plain` under the current key.
    ///
    /// # Errors
    /// [`PiiError::Seal`] only when the operating system has no randomness to give.
    pub fn seal(&self, plain: &str) -> Result<String, PiiError> {
        let cipher = self
            .keys
            .get(&self.current)
            .ok_or(PiiError::Seal("the current key is not in the ring"))?;
        let mut nonce = [0u8; NONCE_BYTES];
        getrandom::fill(&mut nonce).map_err(|_| PiiError::Seal("no randomness for the nonce"))?;
        let label = format!("v2:{}", self.current);
        let sealed = cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plain.as_bytes(),
                    aad: label.as_bytes(),
                },
            )
            .map_err(|_| PiiError::Seal("AES-GCM refused the value"))?;
        Ok(format!(
            "{label}:{}{}",
            encode_hex(&nonce),
            encode_hex(&sealed)
        ))
    }

    /// Opens a value sealed under any key of the ring (or a `v1:` value under `PII_KEY`).
    ///
    /// # Errors
    /// [`PiiError::Open`] saying why it does not open.
    pub fn open(&self, stored: &str) -> Result<String, PiiError> {
        let (cipher, label, hex) = if let Some(hex) = stored.strip_prefix("v1:") {
            (self.legacy.as_ref().ok_or(OpenError::NoLegacyKey)?, "", hex)
        } else if let Some(rest) = stored.strip_prefix("v2:") {
            let (id, hex) = rest.split_once(':').ok_or(OpenError::Malformed)?;
            let cipher = KeyId::parse(id)
                .ok()
                .and_then(|id| self.keys.get(&id))
                .ok_or_else(|| {
                    OpenError::UnknownKeyId(id.chars().take(MAX_KEY_ID_LEN).collect())
                })?;
            (cipher, &stored[..3 + id.len()], hex)
        } else {
            return Err(OpenError::UnknownVersion.into());
        };
        let bytes = decode_hex(hex).ok_or(OpenError::Malformed)?;
        if bytes.len() < NONCE_BYTES + TAG_BYTES {
            return Err(OpenError::Malformed.into());
        }
        let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| OpenError::Malformed)?;
        let payload = Payload {
            msg: sealed,
            aad: label.as_bytes(),
        };
        let plain = cipher
            .decrypt(&Nonce::from(nonce), payload)
            .map_err(|_| OpenError::Tampered)?;
        Ok(String::from_utf8(plain).map_err(|_| OpenError::NotText)?)
    }

    /// True when `stored` is sealed under the current key (a re-seal skips it).
    #[must_use]
    pub fn is_current(&self, stored: &str) -> bool {
        stored
            .strip_prefix("v2:")
            .and_then(|rest| rest.split_once(':'))
            .is_some_and(|(id, _)| id == self.current.as_str())
    }

    /// `stored` sealed again under the current key, with its clear text; `None` when it
    /// already is (so a re-seal can be run again after a crash, R-O4 key rotation).
    ///
    /// # Errors
    /// [`PiiError::Open`] when it does not open, [`PiiError::Seal`] as [`Pii::seal`].
    pub fn reseal(&self, stored: &str) -> Result<Option<(String, String)>, PiiError> {
        if self.is_current(stored) {
            return Ok(None);
        }
        let plain = self.open(stored)?;
        Ok(Some((self.seal(&plain)?, plain)))
    }

    /// The blind index of a bank account: equal for every notation of the same account
    /// (letters and digits only, upper case), useless without the index key, and the same in
    /// every service given the same `PII_INDEX_KEY`.
    #[must_use]
    pub fn account_index(&self, account: &str) -> String {
        let mut mac = hmac(&self.index_key);
        for c in account.chars().filter(char::is_ascii_alphanumeric) {
            mac.update(&[c.to_ascii_uppercase() as u8]);
        }
        encode_hex(&mac.finalize().into_bytes())
    }
}

/// The first characters of a malformed `PII_KEYS` entry, for an error that must not print
/// the key.
fn redact(entry: &str) -> String {
    let shown: String = entry.chars().take(4).collect();
    format!("{shown}…")
}

fn key_of(hex: &str) -> Result<[u8; 32], String> {
    decode_key(hex.trim())
}

fn decode_key(hex: &str) -> Result<[u8; 32], String> {
    let bytes = decode_hex(hex).ok_or_else(|| {
        "must be 64 hex digits (a 32-byte key, e.g. from `openssl rand -hex 32`); it is not hex"
            .to_owned()
    })?;
    bytes.try_into().map_err(|_| {
        "must be 64 hex digits (a 32-byte key, e.g. from `openssl rand -hex 32`); it is not 32 bytes long".to_owned()
    })
}

fn cipher(key: &[u8; 32]) -> Aes256Gcm {
    Aes256Gcm::new(key.into())
}

/// The MAC key of the blind index, derived from the configured secret (so the same secret is
/// never used raw for two purposes).
fn derive_index_key(secret: &[u8; 32]) -> [u8; 32] {
    let mut mac = hmac(secret);
    mac.update(b"collections blind index v1");
    mac.finalize().into_bytes().into()
}

/// HMAC-SHA-256 under a 32-byte key. HMAC pads a key shorter than the hash's 64-byte block
/// with zeros, so padding it here gives the same MAC through the infallible constructor.
fn hmac(key: &[u8; 32]) -> Hmac<Sha256> {
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(key);
    <Hmac<Sha256> as hmac::digest::KeyInit>::new(&block.into())
}

fn encode_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    hex.as_bytes()
        .chunks(2)
        .map(|pair| {
            let digit = |c: u8| char::from(c).to_digit(16);
            u8::try_from(digit(pair[0])? * 16 + digit(pair[1])?).ok()
        })
        .collect()
}

/// True when `stored` has the form of a sealed value (`v1:` or `v2:`); anything else is
/// clear text (e.g. from before a column was sealed).
#[must_use]
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with("v1:") || stored.starts_with("v2:")
}

pub mod reseal;

#[cfg(test)]
mod tests;
