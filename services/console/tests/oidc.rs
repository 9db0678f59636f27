//! The production sign-in against a provider played by this test (R-O3): discovery, the
//! authorization redirect with `state` and a PKCE challenge, the callback bound to the browser
//! that started it, the code exchanged with the verifier, the token verified by kit's verifier
//! before a session exists, and the session cookie's attributes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use kit::auth::token::{es256_jwks, mint_with_key};

const CODE: &str = "the-code";

#[derive(Default)]
struct Provider {
    issuer: String,
    challenge: Mutex<Option<String>>,
    token: String,
}

fn s256(verifier: &str) -> String {
    console::oidc::pkce_challenge(verifier)
}

fn query(url: &str) -> HashMap<String, String> {
    let q = url.split_once('?').map_or("", |(_, q)| q);
    serde_urlencoded::from_str(q).unwrap()
}

fn cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

fn value(set_cookie: &str) -> &str {
    set_cookie
        .split(';')
        .next()
        .and_then(|kv| kv.split_once('='))
        .map_or("", |(_, v)| v)
}

#[tokio::test]
async fn a_person_signs_in_with_the_provider_and_gets_a_strict_session() {
    kit::auth::install_crypto_provider();
    // The provider's signing key and the JWKS the console (and the services) trust.
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let jwks = dir.path().join("jwks.json");
    std::fs::write(
        &jwks,
        es256_jwks(key.public_key_raw(), "k1").unwrap().to_string(),
    )
    .unwrap();

    // The provider's address is known once it listens; its token needs the issuer.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let now = chrono::Utc::now().timestamp();
    let token = mint_with_key(
        key.serialize_pem().as_bytes(),
        "k1",
        &serde_json::json!({
            "iss": issuer, "aud": "collections", "sub": "clerk-7", "iat": now, "nbf": now,
            "exp": now + 600, "realm_access": {"roles": ["cashier", "not-a-platform-role"]},
        }),
    )
    .unwrap();
    let provider = Arc::new(Provider {
        issuer: issuer.clone(),
        token,
        ..Default::default()
    });
    let router = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(|State(p): State<Arc<Provider>>| async move {
                serde_json::json!({
                    "issuer": p.issuer,
                    "authorization_endpoint": format!("{}/auth", p.issuer),
                    "token_endpoint": format!("{}/token", p.issuer),
                })
                .to_string()
            }),
        )
        .route(
            "/token",
            post(|State(p): State<Arc<Provider>>, body: String| async move {
                let form: HashMap<String, String> = serde_urlencoded::from_str(&body).unwrap();
                let expected = p.challenge.lock().unwrap().clone().unwrap_or_default();
                let verifier = form.get("code_verifier").cloned().unwrap_or_default();
                if form.get("code").map(String::as_str) != Some(CODE)
                    || s256(&verifier) != expected
                    || form.get("grant_type").map(String::as_str) != Some("authorization_code")
                {
                    return (
                        axum::http::StatusCode::BAD_REQUEST,
                        "{\"error\":\"invalid_grant\"}".to_owned(),
                    );
                }
                (
                    axum::http::StatusCode::OK,
                    serde_json::json!({"access_token": p.token, "token_type": "Bearer"})
                        .to_string(),
                )
            }),
        )
        .with_state(provider.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    let vars: HashMap<&str, String> = HashMap::from([
        ("CONSOLE_ADDR", "127.0.0.1:0".to_owned()),
        ("CONSOLE_OIDC_ISSUER", issuer.clone()),
        ("CONSOLE_OIDC_CLIENT_ID", "console".to_owned()),
        (
            "CONSOLE_OIDC_REDIRECT_URL",
            "http://console.test/oidc/callback".to_owned(),
        ),
        ("AUTH_ISSUER", issuer.clone()),
        ("AUTH_JWKS_FILE", jwks.display().to_string()),
        ("AUTH_ROLES_CLAIM", "realm_access.roles".to_owned()),
        ("CONSOLE_COOKIE_SECURE", "false".to_owned()),
    ]);
    let settings = console::config::Settings::from_vars(&|name| vars.get(name).cloned()).unwrap();
    let app = console::Application::build(settings).await.unwrap();
    let base = format!("http://{}", app.addr().unwrap());
    tokio::spawn(app.run(std::future::pending()));

    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    // 1. To the provider, with state and the S256 challenge; the browser gets a login cookie.
    let start = http.get(format!("{base}/signin")).send().await.unwrap();
    assert_eq!(start.status(), 303);
    let location = start.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&format!("{issuer}/auth?")),
        "{location}"
    );
    let params = query(&location);
    assert_eq!(params["code_challenge_method"], "S256");
    assert_eq!(params["client_id"], "console");
    *provider.challenge.lock().unwrap() = Some(params["code_challenge"].clone());
    let state = params["state"].clone();
    let login = cookie(&start, "console_login").expect("a login cookie");
    assert!(
        login.contains("HttpOnly") && login.contains("SameSite=Lax"),
        "{login}"
    );

    // 2. A callback from another browser (no login cookie) is refused.
    let other = http
        .get(format!("{base}/oidc/callback?code={CODE}&state={state}"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 401);

    // That used the state up: start again, then come back from the right browser.
    let start = http.get(format!("{base}/signin")).send().await.unwrap();
    let location = start.headers()["location"].to_str().unwrap().to_owned();
    let params = query(&location);
    *provider.challenge.lock().unwrap() = Some(params["code_challenge"].clone());
    let state = params["state"].clone();
    let login = value(&cookie(&start, "console_login").unwrap()).to_owned();
    let back = http
        .get(format!("{base}/oidc/callback?code={CODE}&state={state}"))
        .header("cookie", format!("console_login={login}"))
        .send()
        .await
        .unwrap();
    assert_eq!(back.status(), 200, "{:?}", back.text().await);
    let session = cookie(&back, "console_session").expect("a session cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Strict"),
        "{session}"
    );
    let session = value(&session).to_owned();
    assert_eq!(session.len(), 43);

    // 3. The same callback again (a replayed code) is refused: a state is used once.
    let replay = http
        .get(format!("{base}/oidc/callback?code={CODE}&state={state}"))
        .header("cookie", format!("console_login={login}"))
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 401);

    // 4. Signed in as the token's subject with its platform roles: the start page is the
    //    cashier's (the services are not running here, so it is an error page that names
    //    the person and what to do).
    let home = http
        .get(format!("{base}/"))
        .header("cookie", format!("console_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(home.status(), 303);
    assert_eq!(home.headers()["location"], "/exceptions");
    let page = http
        .get(format!("{base}/exceptions"))
        .header("cookie", format!("console_session={session}"))
        .send()
        .await
        .unwrap();
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(
        html.contains("clerk-7") && html.contains("cashier"),
        "{html}"
    );
    assert!(!html.contains("not-a-platform-role"));

    // 5. A form without the session's CSRF token is refused; with it, sign-out works.
    let forged = http
        .post(format!("{base}/signout"))
        .header("cookie", format!("console_session={session}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("csrf=guess")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let out = http
        .post(format!("{base}/signout"))
        .header("cookie", format!("console_session={session}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={csrf}"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    let after = http
        .get(format!("{base}/exceptions"))
        .header("cookie", format!("console_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 303, "the session is gone");
    assert_eq!(after.headers()["location"], "/signin");
}
