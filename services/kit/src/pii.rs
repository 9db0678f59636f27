//! Sensitive personal data at rest (R-O4): bank account numbers are stored sealed with
//! AES-256-GCM under the service's own key (`PII_KEY`), and found again through a keyed blind
//! index (HMAC-SHA-256 of the account's letters and digits), never in plain text. Logs and
//! API answers show them masked ([`crate::wire::mask`]).
//!
//! A sealed value is `v1:` followed by the hex of a random 96-bit nonce and the ciphertext
//! with its tag; the nonce is fresh for every value, so equal accounts do not look equal.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The environment variable holding the key: 64 hex digits (32 bytes).
pub const KEY_VARIABLE: &str = "PII_KEY";

const PREFIX: &str = "v1:";
const NONCE_BYTES: usize = 12;

/// Seals and opens personal data with one key.
#[derive(Clone)]
pub struct Pii {
    cipher: Aes256Gcm,
    index_key: [u8; 32],
}

impl std::fmt::Debug for Pii {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pii(<key>)")
    }
}

/// A key that cannot be used, or a stored value that cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum PiiError {
    /// `PII_KEY` is missing or malformed.
    #[error(
        "{KEY_VARIABLE} must be 64 hex digits (a 32-byte key, e.g. from `openssl rand -hex 32`): {0}"
    )]
    Key(&'static str),
    /// A value could not be sealed.
    #[error("a personal value cannot be sealed: {0}")]
    Seal(&'static str),
    /// A stored value is not sealed, or not with this key.
    #[error("a stored personal value cannot be opened: {0}; was PII_KEY changed?")]
    Open(&'static str),
}

impl Pii {
    /// The key in `PII_KEY`.
    ///
    /// # Errors
    /// [`PiiError::Key`] when it is unset or not 64 hex digits.
    pub fn from_env() -> Result<Self, PiiError> {
        let value = std::env::var(KEY_VARIABLE).map_err(|_| PiiError::Key("it is not set"))?;
        Self::from_hex(value.trim())
    }

    /// A key given as 64 hex digits.
    ///
    /// # Errors
    /// [`PiiError::Key`] when it is not 64 hex digits.
    pub fn from_hex(hex: &str) -> Result<Self, PiiError> {
        let bytes = decode_hex(hex).ok_or(PiiError::Key("it is not hex"))?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| PiiError::Key("it is not 32 bytes long"))?;
        Ok(Self::new(&key))
    }

    /// A key given as bytes.
    #[must_use]
    pub fn new(key: &[u8; 32]) -> Self {
        // A separate key for the blind index, derived from the same secret.
        let mut mac = hmac(key);
        mac.update(b"collections blind index v1");
        let index_key: [u8; 32] = mac.finalize().into_bytes().into();
        Self {
            cipher: Aes256Gcm::new(key.into()),
            index_key,
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

    /// Seals `plain`.
    ///
    /// # Errors
    /// [`PiiError::Seal`] only when the operating system has no randomness to give.
    pub fn seal(&self, plain: &str) -> Result<String, PiiError> {
        let mut nonce = [0u8; NONCE_BYTES];
        getrandom::fill(&mut nonce).map_err(|_| PiiError::Seal("no randomness for the nonce"))?;
        let sealed = self
            .cipher
            .encrypt(&Nonce::from(nonce), plain.as_bytes())
            .map_err(|_| PiiError::Seal("AES-GCM refused the value"))?;
        let mut out = String::with_capacity(PREFIX.len() + 2 * (NONCE_BYTES + sealed.len()));
        out.push_str(PREFIX);
        out.push_str(&encode_hex(&nonce));
        out.push_str(&encode_hex(&sealed));
        Ok(out)
    }

    /// Opens a value sealed with [`Pii::seal`] under this key.
    ///
    /// # Errors
    /// [`PiiError::Open`] when it is not a sealed value or was sealed under another key.
    pub fn open(&self, stored: &str) -> Result<String, PiiError> {
        let hex = stored
            .strip_prefix(PREFIX)
            .ok_or(PiiError::Open("it is not a sealed value"))?;
        let bytes = decode_hex(hex).ok_or(PiiError::Open("it is not hex"))?;
        if bytes.len() < NONCE_BYTES + 16 {
            return Err(PiiError::Open("it is too short"));
        }
        let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce
            .try_into()
            .map_err(|_| PiiError::Open("it is too short"))?;
        let plain = self
            .cipher
            .decrypt(&Nonce::from(nonce), sealed)
            .map_err(|_| PiiError::Open("it was sealed under another key, or changed"))?;
        String::from_utf8(plain).map_err(|_| PiiError::Open("it is not text"))
    }

    /// The blind index of a bank account: equal for every notation of the same account
    /// (letters and digits only, upper case), useless without the key.
    #[must_use]
    pub fn account_index(&self, account: &str) -> String {
        let mut mac = hmac(&self.index_key);
        for c in account.chars().filter(char::is_ascii_alphanumeric) {
            mac.update(&[c.to_ascii_uppercase() as u8]);
        }
        encode_hex(&mac.finalize().into_bytes())
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn pii() -> Pii {
        Pii::new(&[42; 32])
    }

    #[test]
    fn sealed_values_open_to_what_was_sealed_and_hide_it() {
        // R-O4: encrypted at rest.
        let account = "6222 0210 0000 0101";
        let sealed = pii().seal(account).unwrap_or_default();
        assert!(sealed.starts_with("v1:"));
        assert!(!sealed.contains("6222"));
        assert_ne!(
            sealed,
            pii().seal(account).unwrap_or_default(),
            "a fresh nonce every time"
        );
        assert_eq!(pii().open(&sealed).ok().as_deref(), Some(account));
    }

    #[test]
    fn another_key_or_a_changed_value_does_not_open() {
        let sealed = pii().seal("6222021000000101").unwrap_or_default();
        assert!(Pii::new(&[7; 32]).open(&sealed).is_err());
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('0') { '1' } else { '0' });
        assert!(pii().open(&tampered).is_err());
        assert!(pii().open("6222021000000101").is_err());
        assert!(pii().open("v1:zz").is_err());
    }

    #[test]
    fn the_blind_index_ignores_notation_and_depends_on_the_key() {
        let a = pii().account_index("6222 0210 0000 0101");
        assert_eq!(a, pii().account_index("6222-0210-0000-0101"));
        assert_eq!(
            pii().account_index("de89 3704"),
            pii().account_index("DE893704")
        );
        assert_ne!(a, pii().account_index("6222021000000102"));
        assert_ne!(a, Pii::new(&[7; 32]).account_index("6222021000000101"));
        assert_eq!(a.len(), 64);
    }

    #[test]
    fn the_padded_key_gives_the_standard_hmac() {
        let key = [42u8; 32];
        let mut padded = hmac(&key);
        padded.update(b"abc");
        let mut standard =
            <Hmac<Sha256> as Mac>::new_from_slice(&key).unwrap_or_else(|_| hmac(&[0; 32]));
        standard.update(b"abc");
        assert_eq!(
            padded.finalize().into_bytes(),
            standard.finalize().into_bytes()
        );
    }

    #[test]
    fn keys_come_as_64_hex_digits() {
        assert!(Pii::from_hex(&"ab".repeat(32)).is_ok());
        assert!(Pii::from_hex(&"ab".repeat(31)).is_err());
        assert!(Pii::from_hex(&"zz".repeat(32)).is_err());
        let generated = Pii::generate_key_hex().unwrap_or_default();
        assert!(Pii::from_hex(&generated).is_ok());
    }
}
