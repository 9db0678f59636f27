//! Sessions (R-O3): made only after the person's token was verified, held in this process's
//! memory (a deployment with several replicas routes a person to one replica: sticky sessions;
//! README "Web console"), ended when the token expires. Every POST carries the session's CSRF
//! token.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine as _;
use kit::auth::Role;
use kit::auth::jwt::TokenIdentity;

/// The session cookie.
pub const SESSION_COOKIE: &str = "console_session";
/// The language cookie.
pub const LANG_COOKIE: &str = "console_lang";
/// The cookie binding an OIDC sign-in to the browser that started it.
pub const LOGIN_COOKIE: &str = "console_login";

/// At most this many sessions or pending sign-ins are held; the oldest give way, so a flood of
/// sign-in attempts cannot exhaust memory.
const MAX_ENTRIES: usize = 10_000;

/// A signed-in person.
#[derive(Debug, Clone)]
pub struct Session {
    /// The cookie value (random, 256 bits).
    pub id: String,
    /// Who, from the verified token.
    pub subject: String,
    /// Their roles.
    pub roles: Vec<Role>,
    /// Their team.
    pub team: Option<String>,
    /// The bearer token forwarded to the services: they decide, and audit this person.
    pub token: String,
    /// The CSRF token every form of this session carries.
    pub csrf: String,
    /// Unix seconds at which the session ends (the token's `exp` or the maximum).
    pub expires_at: i64,
}

impl Session {
    /// Whether the person holds `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Whether `submitted` is this session's CSRF token (compared in constant time).
    pub fn csrf_ok(&self, submitted: &str) -> bool {
        constant_time_eq(self.csrf.as_bytes(), submitted.as_bytes())
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// 32 random bytes, base64url: session ids, CSRF tokens, OIDC state and PKCE verifiers.
pub fn random_token() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// The `exp` claim of a JWT that was already verified (the payload is not checked again).
pub fn token_expiry(token: &str) -> Option<i64> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("exp")?.as_i64()
}

/// The sessions of this replica.
#[derive(Debug, Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    /// A session for a verified identity whose token expires at `token_exp`.
    pub fn create(
        &self,
        identity: TokenIdentity,
        token: String,
        token_exp: i64,
        max: Duration,
        now: i64,
    ) -> anyhow::Result<Session> {
        let cap = now.saturating_add(i64::try_from(max.as_secs()).unwrap_or(i64::MAX));
        let session = Session {
            id: random_token()?,
            subject: identity.subject,
            roles: identity.roles,
            team: identity.team,
            token,
            csrf: random_token()?,
            expires_at: token_exp.min(cap),
        };
        let mut map = self
            .map
            .lock()
            .map_err(|_| anyhow::anyhow!("session store poisoned"))?;
        map.retain(|_, s| s.expires_at > now);
        if map.len() >= MAX_ENTRIES
            && let Some(oldest) = map
                .values()
                .min_by_key(|s| s.expires_at)
                .map(|s| s.id.clone())
        {
            map.remove(&oldest);
        }
        map.insert(session.id.clone(), session.clone());
        Ok(session)
    }

    /// The live session with this id; an expired one is removed and not returned.
    pub fn get(&self, id: &str, now: i64) -> Option<Session> {
        let mut map = self.map.lock().ok()?;
        match map.get(id) {
            Some(s) if s.expires_at > now => Some(s.clone()),
            Some(_) => {
                map.remove(id);
                None
            }
            None => None,
        }
    }

    /// Ends a session (sign-out, or the services said its token is no longer valid).
    pub fn remove(&self, id: &str) {
        if let Ok(mut map) = self.map.lock() {
            map.remove(id);
        }
    }
}

/// An OIDC sign-in between the redirect to the provider and its callback.
#[derive(Debug, Clone)]
pub struct PendingLogin {
    /// The PKCE code verifier.
    pub verifier: String,
    /// The value of the browser's login cookie.
    pub browser: String,
    /// Unix seconds after which the callback is refused.
    pub expires_at: i64,
}

/// Pending OIDC sign-ins by `state`.
#[derive(Debug, Default)]
pub struct PendingLogins {
    map: Mutex<HashMap<String, PendingLogin>>,
}

impl PendingLogins {
    /// Remembers a sign-in under `state`.
    pub fn insert(&self, state: String, pending: PendingLogin, now: i64) {
        if let Ok(mut map) = self.map.lock() {
            map.retain(|_, p| p.expires_at > now);
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
            map.insert(state, pending);
        }
    }

    /// Takes the sign-in of `state` (once), if it has not expired.
    pub fn take(&self, state: &str, now: i64) -> Option<PendingLogin> {
        let mut map = self.map.lock().ok()?;
        map.remove(state).filter(|p| p.expires_at > now)
    }
}

/// A `Set-Cookie` value: HttpOnly, SameSite as given, `Secure` when asked, path `/`.
pub fn set_cookie(name: &str, value: &str, max_age: i64, same_site: &str, secure: bool) -> String {
    format!(
        "{name}={value}; Path=/; Max-Age={}; HttpOnly; SameSite={same_site}{}",
        max_age.max(0),
        if secure { "; Secure" } else { "" }
    )
}

/// The value of cookie `name` in a `Cookie` header.
pub fn read_cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> TokenIdentity {
        TokenIdentity {
            subject: "li.na".into(),
            roles: vec![Role::Collector],
            team: Some("east".into()),
        }
    }

    #[test]
    fn a_session_ends_with_its_token() {
        let sessions = Sessions::default();
        let s = sessions
            .create(
                identity(),
                "t".into(),
                1_000,
                Duration::from_secs(3600),
                900,
            )
            .unwrap();
        assert_eq!(s.expires_at, 1_000, "the token's expiry, not the maximum");
        assert!(sessions.get(&s.id, 999).is_some());
        assert!(sessions.get(&s.id, 1_000).is_none(), "expired at exp");
        assert!(sessions.get(&s.id, 0).is_none(), "and removed");
        let capped = sessions
            .create(
                identity(),
                "t".into(),
                100_000,
                Duration::from_secs(60),
                900,
            )
            .unwrap();
        assert_eq!(
            capped.expires_at, 960,
            "a long token is capped by the maximum"
        );
        sessions.remove(&capped.id);
        assert!(sessions.get(&capped.id, 901).is_none());
        assert!(sessions.get("guessed", 901).is_none());
    }

    #[test]
    fn csrf_tokens_are_per_session_and_must_match_exactly() {
        let sessions = Sessions::default();
        let a = sessions
            .create(identity(), "t".into(), 10_000, Duration::from_secs(60), 0)
            .unwrap();
        let b = sessions
            .create(identity(), "t".into(), 10_000, Duration::from_secs(60), 0)
            .unwrap();
        assert_ne!(a.csrf, b.csrf);
        assert_ne!(a.id, b.id);
        assert_eq!(a.csrf.len(), 43, "256 bits, base64url");
        assert!(a.csrf_ok(&a.csrf));
        assert!(!a.csrf_ok(&b.csrf));
        assert!(!a.csrf_ok(""));
        assert!(!a.csrf_ok(&a.csrf[..42]));
    }

    #[test]
    fn cookies_are_http_only_strict_and_secure_when_asked() {
        let c = set_cookie(SESSION_COOKIE, "abc", 60, "Strict", true);
        assert_eq!(
            c,
            "console_session=abc; Path=/; Max-Age=60; HttpOnly; SameSite=Strict; Secure"
        );
        assert!(!set_cookie(SESSION_COOKIE, "abc", 60, "Strict", false).contains("Secure"));
        assert_eq!(
            read_cookie("a=1; console_session=xyz; b=2", SESSION_COOKIE),
            Some("xyz")
        );
        assert_eq!(read_cookie("console_session_x=1", SESSION_COOKIE), None);
    }

    #[test]
    fn a_pending_sign_in_is_taken_once_and_expires() {
        let pending = PendingLogins::default();
        let login = PendingLogin {
            verifier: "v".into(),
            browser: "b".into(),
            expires_at: 100,
        };
        pending.insert("s1".into(), login.clone(), 0);
        assert!(pending.take("s1", 50).is_some());
        assert!(pending.take("s1", 50).is_none(), "a state is used once");
        pending.insert("s2".into(), login, 0);
        assert!(pending.take("s2", 100).is_none(), "expired");
    }

    #[test]
    fn the_expiry_is_read_from_the_token() {
        let payload =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"sub":"x","exp":1234}"#);
        assert_eq!(token_expiry(&format!("h.{payload}.s")), Some(1234));
        assert_eq!(token_expiry("garbage"), None);
    }
}
