//! The key ring (R-O4): sealing, opening, rotation, the shared blind index, configuration.

use super::*;
use proptest::prelude::*;

const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const INDEX: &str = "1111111111111111111111111111111111111111111111111111111111111111";

fn ring(keys: &str, current: Option<&str>) -> Pii {
    Pii::from_config(Some(keys), current, None, Some(INDEX)).unwrap_or_else(|e| panic!("{e}"))
}

fn key_a() -> Pii {
    ring(&format!("a={A}"), None)
}

#[test]
fn sealed_values_name_their_key_open_to_what_was_sealed_and_hide_it() {
    let account = "6222 0210 0000 0101";
    let sealed = key_a().seal(account).unwrap_or_default();
    assert!(sealed.starts_with("v2:a:"), "{sealed}");
    assert!(!sealed.contains("6222"));
    assert_ne!(
        sealed,
        key_a().seal(account).unwrap_or_default(),
        "a fresh nonce every time"
    );
    assert_eq!(key_a().open(&sealed).ok().as_deref(), Some(account));
}

#[test]
fn a_rotated_ring_opens_old_values_seals_new_ones_under_the_current_key() {
    let old = key_a().seal("6222021000000101").unwrap_or_default();
    let rotated = ring(&format!("a={A},b={B}"), Some("b"));
    assert_eq!(rotated.open(&old).ok().as_deref(), Some("6222021000000101"));
    assert!(!rotated.is_current(&old));
    let Ok(Some((new, plain))) = rotated.reseal(&old) else {
        panic!("a value under a is resealed under b");
    };
    assert_eq!(plain, "6222021000000101");
    assert!(new.starts_with("v2:b:") && rotated.is_current(&new));
    assert!(
        matches!(rotated.reseal(&new), Ok(None)),
        "already current: skipped"
    );
    // Without key a (retired after the re-seal) only the new value opens.
    let b_only = ring(&format!("b={B}"), None);
    assert_eq!(b_only.open(&new).ok().as_deref(), Some("6222021000000101"));
    assert!(matches!(
        b_only.open(&old),
        Err(PiiError::Open(OpenError::UnknownKeyId(id))) if id == "a"
    ));
}

#[test]
fn unknown_key_ids_versions_and_tampered_values_do_not_open() {
    let sealed = key_a().seal("6222021000000101").unwrap_or_default();
    let open = |s: &str| match key_a().open(s) {
        Err(PiiError::Open(e)) => Some(e),
        _ => None,
    };
    // Another key under the same id.
    let impostor = ring(&format!("a={B}"), None);
    assert!(matches!(
        impostor.open(&sealed),
        Err(PiiError::Open(OpenError::Tampered))
    ));
    let mut tampered = sealed.clone();
    tampered.pop();
    tampered.push(if sealed.ends_with('0') { '1' } else { '0' });
    assert_eq!(open(&tampered), Some(OpenError::Tampered));
    // The key id is bound to the ciphertext: relabelling it to another id of the ring fails.
    let both = ring(&format!("a={A},c={A}"), Some("a"));
    let relabelled = sealed.replacen("v2:a:", "v2:c:", 1);
    assert!(matches!(
        both.open(&relabelled),
        Err(PiiError::Open(OpenError::Tampered))
    ));
    assert_eq!(
        open(&sealed.replacen("v2:a:", "v2:zz:", 1)),
        Some(OpenError::UnknownKeyId("zz".into()))
    );
    assert_eq!(open("6222021000000101"), Some(OpenError::UnknownVersion));
    assert_eq!(
        open(&sealed.replacen("v2:", "v3:", 1)),
        Some(OpenError::UnknownVersion)
    );
    assert_eq!(open("v2:a:zz"), Some(OpenError::Malformed));
    assert_eq!(open("v2:a:00"), Some(OpenError::Malformed));
    assert_eq!(open("v2:a"), Some(OpenError::Malformed));
    assert_eq!(open("v1:00"), Some(OpenError::NoLegacyKey));
}

#[test]
fn v1_values_open_with_the_legacy_key_and_reseal_under_the_current_one() {
    // A value as the service sealed it before key ids: `v1:` + nonce + ciphertext, no AAD.
    let legacy_key = [7u8; 32];
    let nonce = [3u8; NONCE_BYTES];
    let body = cipher(&legacy_key)
        .encrypt(&Nonce::from(nonce), b"6222021000000101".as_slice())
        .unwrap_or_default();
    let v1 = format!("v1:{}{}", encode_hex(&nonce), encode_hex(&body));
    let legacy_hex = encode_hex(&legacy_key);
    // PII_KEY alone: it opens v1 values and seals as key id "legacy".
    let alone = Pii::from_config(None, None, Some(&legacy_hex), Some(INDEX))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(alone.current_key_id().as_str(), LEGACY_KEY_ID);
    assert_eq!(alone.open(&v1).ok().as_deref(), Some("6222021000000101"));
    // PII_KEYS plus the old PII_KEY: v1 values move to the current key.
    let ring = Pii::from_config(
        Some(&format!("b={B}")),
        None,
        Some(&legacy_hex),
        Some(INDEX),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let Ok(Some((moved, _))) = ring.reseal(&v1) else {
        panic!("a v1 value is resealed");
    };
    assert!(moved.starts_with("v2:b:"));
}

#[test]
fn the_blind_index_ignores_notation_and_the_sealing_keys_but_not_the_index_key() {
    let a = key_a().account_index("6222 0210 0000 0101");
    assert_eq!(a, key_a().account_index("6222-0210-0000-0101"));
    assert_eq!(
        key_a().account_index("de89 3704"),
        key_a().account_index("DE893704")
    );
    assert_ne!(a, key_a().account_index("6222021000000102"));
    // Contracts and payments have different sealing keys and the same index key.
    assert_eq!(
        a,
        ring(&format!("b={B}"), None).account_index("6222021000000101")
    );
    let other_index = Pii::from_config(Some(&format!("a={A}")), None, None, Some(A))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(a, other_index.account_index("6222021000000101"));
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
fn configuration_errors_name_the_variable() {
    let variable = |r: Result<Pii, PiiError>| match r {
        Err(PiiError::Config { variable, .. }) => variable,
        _ => "accepted",
    };
    let keys = format!("a={A},b={B}");
    assert_eq!(
        variable(Pii::from_config(None, None, None, Some(INDEX))),
        KEYS_VARIABLE
    );
    assert_eq!(
        variable(Pii::from_config(Some("a=zz"), None, None, Some(INDEX))),
        KEYS_VARIABLE
    );
    assert_eq!(
        variable(Pii::from_config(
            Some(&format!("a {A}")),
            None,
            None,
            Some(INDEX)
        )),
        KEYS_VARIABLE
    );
    assert_eq!(
        variable(Pii::from_config(
            Some(&format!("a:b={A}")),
            None,
            None,
            Some(INDEX)
        )),
        KEYS_VARIABLE
    );
    assert_eq!(
        variable(Pii::from_config(
            Some(&format!("a={A},a={B}")),
            None,
            None,
            Some(INDEX)
        )),
        KEYS_VARIABLE
    );
    assert_eq!(
        variable(Pii::from_config(Some(&keys), None, None, Some(INDEX))),
        KEY_ID_VARIABLE
    );
    assert_eq!(
        variable(Pii::from_config(Some(&keys), Some("c"), None, Some(INDEX))),
        KEY_ID_VARIABLE
    );
    assert_eq!(
        variable(Pii::from_config(
            Some(&keys),
            Some("b"),
            Some("ab"),
            Some(INDEX)
        )),
        KEY_VARIABLE
    );
    assert_eq!(
        variable(Pii::from_config(Some(&keys), Some("b"), None, None)),
        INDEX_KEY_VARIABLE
    );
    assert_eq!(
        variable(Pii::from_config(Some(&keys), Some("b"), None, Some("ab"))),
        INDEX_KEY_VARIABLE
    );
    assert_eq!(
        variable(Pii::from_config(Some(&keys), Some("b"), None, Some(INDEX))),
        "accepted"
    );
    // The message never shows a key.
    let shown = Pii::from_config(Some(A), None, None, Some(INDEX))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(!shown.contains(A), "{shown}");
    let generated = Pii::generate_key_hex().unwrap_or_default();
    assert!(
        Pii::from_config(
            Some(&format!("k1={generated}")),
            None,
            None,
            Some(&generated)
        )
        .is_ok()
    );
}

proptest! {
    #[test]
    fn any_text_seals_and_opens_under_any_rotation(plain in "\\PC{0,64}", rotate in any::<bool>()) {
        let sealed = key_a().seal(&plain).unwrap_or_default();
        let reader = if rotate { ring(&format!("a={A},b={B}"), Some("b")) } else { key_a() };
        prop_assert_eq!(reader.open(&sealed).ok(), Some(plain.clone()));
        if rotate {
            let resealed = reader.reseal(&sealed).ok().flatten().map(|(s, _)| s).unwrap_or_default();
            prop_assert!(resealed.starts_with("v2:b:"));
            prop_assert_eq!(reader.open(&resealed).ok(), Some(plain));
        }
    }

    #[test]
    fn separators_never_change_the_index(digits in "[0-9]{8,24}", sep in "[ -]") {
        let spaced: String = digits
            .chars()
            .enumerate()
            .flat_map(|(i, c)| (i > 0 && i % 4 == 0).then_some(sep.chars().next().unwrap_or(' ')).into_iter().chain([c]))
            .collect();
        prop_assert_eq!(key_a().account_index(&digits), key_a().account_index(&spaced));
    }
}
