//! Token verification against real keys (R-O3): what is accepted, and why the rest is not.

use std::time::Duration;

use super::jwt::{JwksSource, TokenError, TokenSettings, TokenVerifier};
use super::policy::{Policy, Role};
use super::token::{es256_jwks, mint_with_key};

struct Key {
    pem: String,
    jwks: serde_json::Value,
}

fn key(kid: &str) -> Key {
    let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    Key {
        pem: pair.serialize_pem(),
        jwks: es256_jwks(pair.public_key_raw(), kid).expect("jwks"),
    }
}

fn settings(dir: &tempfile::TempDir, jwks: &serde_json::Value) -> TokenSettings {
    let path = dir.path().join("jwks.json");
    std::fs::write(&path, jwks.to_string()).expect("write jwks");
    TokenSettings {
        issuer: "https://idp.test/realms/collections".into(),
        audience: "collections".into(),
        jwks: JwksSource::File(path),
        refresh: Duration::from_secs(300),
        roles_claim: "roles".into(),
        team_claim: "team".into(),
        leeway: Duration::from_secs(5),
    }
}

fn claims(exp_in: i64) -> serde_json::Value {
    let now = chrono::Utc::now().timestamp();
    serde_json::json!({
        "iss": "https://idp.test/realms/collections",
        "aud": "collections",
        "sub": "li.na",
        "iat": now,
        "nbf": now,
        "exp": now + exp_in,
        "roles": ["collector", "not-a-platform-role"],
        "team": "east",
    })
}

async fn verify(
    settings: TokenSettings,
    token: &str,
) -> Result<super::jwt::TokenIdentity, TokenError> {
    let verifier = TokenVerifier::new(settings).expect("verifier");
    verifier.verify(token).await
}

#[tokio::test]
async fn a_token_from_the_provider_names_subject_roles_and_team() {
    let dir = tempfile::tempdir().unwrap();
    let k = key("k1");
    let token = mint_with_key(k.pem.as_bytes(), "k1", &claims(600)).unwrap();
    let identity = verify(settings(&dir, &k.jwks), &token).await.unwrap();
    assert_eq!(identity.subject, "li.na");
    assert_eq!(identity.roles, vec![Role::Collector]);
    assert_eq!(identity.team.as_deref(), Some("east"));
}

#[tokio::test]
async fn expired_future_wrong_issuer_and_wrong_audience_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let k = key("k1");
    let sign = |c: &serde_json::Value| mint_with_key(k.pem.as_bytes(), "k1", c).unwrap();
    let s = settings(&dir, &k.jwks);
    assert_eq!(
        verify(s.clone(), &sign(&claims(-60))).await,
        Err(TokenError::Expired)
    );
    let mut future = claims(600);
    future["nbf"] = (chrono::Utc::now().timestamp() + 300).into();
    assert_eq!(
        verify(s.clone(), &sign(&future)).await,
        Err(TokenError::NotYetValid)
    );
    let mut issuer = claims(600);
    issuer["iss"] = "https://evil.test".into();
    assert!(matches!(
        verify(s.clone(), &sign(&issuer)).await,
        Err(TokenError::Issuer(_))
    ));
    let mut audience = claims(600);
    audience["aud"] = "another-app".into();
    assert!(matches!(
        verify(s.clone(), &sign(&audience)).await,
        Err(TokenError::Audience(_))
    ));
    let mut no_sub = claims(600);
    no_sub.as_object_mut().unwrap().remove("sub");
    assert!(matches!(
        verify(s.clone(), &sign(&no_sub)).await,
        Err(TokenError::Claim(_))
    ));
    let mut no_roles = claims(600);
    no_roles.as_object_mut().unwrap().remove("roles");
    assert!(matches!(
        verify(s, &sign(&no_roles)).await,
        Err(TokenError::Claim(_))
    ));
}

#[tokio::test]
async fn a_token_signed_by_another_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let trusted = key("k1");
    let forger = key("k1");
    // Same key id, other key: the signature does not verify.
    let forged = mint_with_key(forger.pem.as_bytes(), "k1", &claims(600)).unwrap();
    assert_eq!(
        verify(settings(&dir, &trusted.jwks), &forged).await,
        Err(TokenError::Signature)
    );
    // A key id the provider never published.
    let unknown = mint_with_key(forger.pem.as_bytes(), "k9", &claims(600)).unwrap();
    assert_eq!(
        verify(settings(&dir, &trusted.jwks), &unknown).await,
        Err(TokenError::UnknownKey("k9".into()))
    );
    // Tampered payload.
    let good = mint_with_key(trusted.pem.as_bytes(), "k1", &claims(600)).unwrap();
    let mut parts: Vec<&str> = good.split('.').collect();
    let other = mint_with_key(trusted.pem.as_bytes(), "k1", &{
        let mut c = claims(600);
        c["roles"] = serde_json::json!(["admin"]);
        c
    })
    .unwrap();
    parts[1] = other.split('.').nth(1).unwrap();
    assert_eq!(
        verify(settings(&dir, &trusted.jwks), &parts.join(".")).await,
        Err(TokenError::Signature)
    );
}

#[tokio::test]
async fn symmetric_and_unsigned_tokens_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let k = key("k1");
    let hs = jsonwebtoken::encode(
        &jsonwebtoken::Header {
            kid: Some("k1".into()),
            ..jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256)
        },
        &claims(600),
        &jsonwebtoken::EncodingKey::from_secret(b"guessable").unwrap(),
    )
    .unwrap();
    assert!(matches!(
        verify(settings(&dir, &k.jwks), &hs).await,
        Err(TokenError::Algorithm(_))
    ));
    let none = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.";
    assert!(verify(settings(&dir, &k.jwks), none).await.is_err());
    assert!(matches!(
        verify(settings(&dir, &k.jwks), "not a token").await,
        Err(TokenError::Malformed(_))
    ));
}

#[tokio::test]
async fn a_rotated_key_is_picked_up_by_its_kid() {
    let dir = tempfile::tempdir().unwrap();
    let old = key("2026-11");
    let s = settings(&dir, &old.jwks);
    let verifier = TokenVerifier::new(s.clone()).unwrap();
    let _ = &s;
    let first = mint_with_key(old.pem.as_bytes(), "2026-11", &claims(600)).unwrap();
    verifier.verify(&first).await.unwrap();
    // The provider rotates: the new key is published; tokens under it verify once the cache
    // may be refreshed (unknown kids refetch at most every few seconds).
    let new = key("2026-12");
    let JwksSource::File(path) = &s.jwks else {
        unreachable!()
    };
    std::fs::write(path, new.jwks.to_string()).unwrap();
    let second = mint_with_key(new.pem.as_bytes(), "2026-12", &claims(600)).unwrap();
    // Within the refetch throttle the unknown kid is refused without asking the provider…
    assert_eq!(
        verifier.verify(&second).await,
        Err(TokenError::UnknownKey("2026-12".into()))
    );
    // …after it, the same verifier fetches the keys again and accepts the new one.
    let verifier = verifier.with_min_refetch(Duration::ZERO);
    assert_eq!(verifier.verify(&second).await.unwrap().subject, "li.na");
    // The old key is gone from the set: its tokens are refused now.
    assert_eq!(
        verifier.verify(&first).await,
        Err(TokenError::UnknownKey("2026-11".into()))
    );
}

#[test]
fn a_jwks_with_a_secret_key_is_refused() {
    let jwks =
        serde_json::json!({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "x", "alg": "HS256"}]});
    assert!(super::jwt::parse_jwks(&jwks.to_string()).is_err());
    assert!(super::jwt::parse_jwks("{}").is_err());
}

#[test]
fn keycloak_roles_are_read_from_a_nested_claim() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let k = key("k1");
    let mut s = settings(&dir, &k.jwks);
    s.roles_claim = "realm_access.roles".into();
    let mut c = claims(600);
    c["realm_access"] = serde_json::json!({"roles": ["supervisor", "offline_access"]});
    let token = mint_with_key(k.pem.as_bytes(), "k1", &c).unwrap();
    let identity = rt.block_on(verify(s, &token)).unwrap();
    assert_eq!(identity.roles, vec![Role::Supervisor]);
}

/// Every method of every API in `proto/` has a row, and every row is a real method: an RPC
/// added without deciding who may call it fails here.
#[test]
fn the_access_table_covers_every_rpc_exactly() {
    use prost::Message as _;
    let set = prost_types::FileDescriptorSet::decode(proto::FILE_DESCRIPTOR_SET).unwrap();
    let mut methods = Vec::new();
    for file in &set.file {
        let package = file.package();
        if !package.starts_with("receivables.") {
            continue;
        }
        for service in &file.service {
            for method in &service.method {
                methods.push(format!("/{package}.{}/{}", service.name(), method.name()));
            }
        }
    }
    let policy = Policy::shipped().unwrap();
    let missing: Vec<&String> = methods
        .iter()
        .filter(|m| policy.roles_for(m).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "methods without a row in access.txt: {missing:?}"
    );
    let stale: Vec<&str> = policy
        .methods()
        .filter(|m| !methods.iter().any(|x| x == m))
        .collect();
    assert!(
        stale.is_empty(),
        "rows for methods that do not exist: {stale:?}"
    );
    assert!(methods.len() >= 17, "{methods:?}");
}

/// Serves `body` as the JWKS over plain HTTP on loopback; counts the requests.
async fn jwks_server(
    body: std::sync::Arc<std::sync::Mutex<String>>,
    status: u16,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/realms/c/certs", listener.local_addr().unwrap());
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut buffer = [0u8; 4096];
            let _ = socket.read(&mut buffer).await;
            let text = body.lock().unwrap().clone();
            let response = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
                text.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
            let _ = socket.shutdown().await;
        }
    });
    (url, hits)
}

#[tokio::test]
async fn keys_are_fetched_from_the_jwks_url_cached_and_refetched_on_rotation() {
    let old = key("a");
    let body = std::sync::Arc::new(std::sync::Mutex::new(old.jwks.to_string()));
    let (url, hits) = jwks_server(body.clone(), 200).await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = settings(&dir, &old.jwks);
    s.jwks = JwksSource::Url(url);
    let verifier = TokenVerifier::new(s)
        .unwrap()
        .with_min_refetch(Duration::ZERO);
    verifier.preload().await.unwrap();
    let first = mint_with_key(old.pem.as_bytes(), "a", &claims(600)).unwrap();
    for _ in 0..3 {
        verifier.verify(&first).await.unwrap();
    }
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1, "cached");
    // The provider publishes a new key: a token under it makes the verifier fetch once more.
    let new = key("b");
    *body.lock().unwrap() = new.jwks.to_string();
    let second = mint_with_key(new.pem.as_bytes(), "b", &claims(600)).unwrap();
    assert_eq!(verifier.verify(&second).await.unwrap().subject, "li.na");
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_provider_that_fails_stops_the_start_with_the_reason() {
    let body = std::sync::Arc::new(std::sync::Mutex::new("oops".to_owned()));
    let (url, _) = jwks_server(body, 500).await;
    let dir = tempfile::tempdir().unwrap();
    let k = key("a");
    let mut s = settings(&dir, &k.jwks);
    s.jwks = JwksSource::Url(url.clone());
    let error = TokenVerifier::new(s).unwrap().preload().await.unwrap_err();
    assert!(
        matches!(&error, TokenError::Keys(m) if m.contains("500") && m.contains(&url)),
        "{error}"
    );
}

#[tokio::test]
async fn a_verified_token_is_checked_again_only_when_the_keys_are_fetched_again_r_o3() {
    let dir = tempfile::tempdir().unwrap();
    let old = key("a");
    let s = settings(&dir, &old.jwks);
    let verifier = TokenVerifier::new(s.clone()).unwrap();
    let same = claims(600);
    let token = mint_with_key(old.pem.as_bytes(), "a", &same).unwrap();
    for _ in 0..3 {
        assert_eq!(verifier.verify(&token).await.unwrap().subject, "li.na");
    }
    assert_eq!(verifier.signature_checks(), 1, "one check for three calls");
    let other = mint_with_key(old.pem.as_bytes(), "a", &claims(601)).unwrap();
    verifier.verify(&other).await.unwrap();
    assert_eq!(verifier.signature_checks(), 2, "another token is checked");
    // The same header and claims signed by another key are not taken for the remembered token.
    let forged = mint_with_key(key("a").pem.as_bytes(), "a", &same).unwrap();
    assert_eq!(verifier.verify(&forged).await, Err(TokenError::Signature));

    // The provider puts another key under the same kid. A verifier that fetches the keys on
    // every call (refresh 0) checks the remembered token again, and refuses it.
    let mut every_call = s.clone();
    every_call.refresh = Duration::ZERO;
    let verifier = TokenVerifier::new(every_call).unwrap();
    verifier.verify(&token).await.unwrap();
    let JwksSource::File(path) = &s.jwks else {
        unreachable!()
    };
    std::fs::write(path, key("a").jwks.to_string()).unwrap();
    assert_eq!(verifier.verify(&token).await, Err(TokenError::Signature));
}

#[tokio::test]
async fn a_remembered_token_still_expires_r_o3() {
    let dir = tempfile::tempdir().unwrap();
    let k = key("a");
    let mut s = settings(&dir, &k.jwks);
    s.leeway = Duration::ZERO;
    let verifier = TokenVerifier::new(s).unwrap();
    let token = mint_with_key(k.pem.as_bytes(), "a", &claims(1)).unwrap();
    verifier.verify(&token).await.unwrap();
    verifier.verify(&token).await.unwrap();
    assert_eq!(verifier.signature_checks(), 1);
    // Past `exp` (whole seconds), the remembered token is refused as expired.
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    assert_eq!(verifier.verify(&token).await, Err(TokenError::Expired));
}
