//! Signing in and out. Either way the token is verified by kit's verifier before a session
//! exists (R-O3); the session cookie is HttpOnly and SameSite=Strict, and ends with the token.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
// Several Set-Cookie headers need AppendHeaders: an array of header pairs replaces.
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use kit::auth::Role;

use crate::AppState;
use crate::config::SignInMode;
use crate::pages;
use crate::session::{
    LOGIN_COOKIE, PendingLogin, SESSION_COOKIE, random_token, read_cookie, set_cookie, token_expiry,
};
use crate::web::{Ctx, Failure, Form, now};

/// A demo identity of the local stack: subject, role, team. The same people the demo and the
/// README use (li.na owns the demo's debtors).
pub const DEMO_IDENTITIES: &[(&str, Role, Option<&str>)] = &[
    ("li.na", Role::Collector, Some("east")),
    ("wang.wu", Role::Collector, Some("east")),
    ("chen.jie", Role::Supervisor, Some("east")),
    ("clerk.zhang", Role::Cashier, None),
    ("lawyer.sun", Role::Legal, None),
    ("risk.qian", Role::Risk, None),
    ("audit.zhou", Role::Auditor, None),
    ("ops.admin", Role::Admin, None),
];

/// How long a demo token lives: short, as a provider's access token.
const DEMO_TOKEN_TTL: Duration = Duration::from_secs(3600);
/// How long an OIDC sign-in may take at the provider.
const LOGIN_TTL: i64 = 600;

fn login_cookie(state: &AppState, value: &str, same_site: &str) -> String {
    set_cookie(
        LOGIN_COOKIE,
        value,
        LOGIN_TTL,
        same_site,
        state.settings.cookie_secure,
    )
}

fn browser_login(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| read_cookie(c, LOGIN_COOKIE).map(str::to_owned))
}

/// `GET /signin`: the demo identities, or off to the OIDC provider.
pub async fn page(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let ctx = Ctx::new(state.clone(), &headers);
    let browser = match random_token() {
        Ok(t) => t,
        Err(e) => return ctx.fail(Failure::Internal(e)),
    };
    match (&state.settings.sign_in, &state.oidc) {
        (SignInMode::LocalStack(_), _) => (
            // Strict: the demo form posts from this same site.
            [(header::SET_COOKIE, login_cookie(&state, &browser, "Strict"))],
            pages::signin_page(&ctx, &browser),
        )
            .into_response(),
        (SignInMode::Oidc(_), Some(oidc)) => {
            let (state_param, verifier) = match (random_token(), random_token()) {
                (Ok(s), Ok(v)) => (s, v),
                (Err(e), _) | (_, Err(e)) => return ctx.fail(Failure::Internal(e)),
            };
            let url = oidc.authorization_url(&state_param, &verifier);
            state.pending.insert(
                state_param,
                PendingLogin {
                    verifier,
                    browser: browser.clone(),
                    expires_at: now() + LOGIN_TTL,
                },
                now(),
            );
            // Lax: the provider's redirect back is a cross-site top-level navigation.
            (
                [(header::SET_COOKIE, login_cookie(&state, &browser, "Lax"))],
                Redirect::to(&url),
            )
                .into_response()
        }
        (SignInMode::Oidc(_), None) => ctx.fail(Failure::Internal(anyhow::anyhow!(
            "OIDC configured but no client"
        ))),
    }
}

/// Verifies `token` and starts a session; the response sets its cookie and goes home.
async fn start_session(ctx: &Ctx, token: String, via_page: bool) -> Response {
    let state = &ctx.state;
    let identity = match state.verifier.verify(&token).await {
        Ok(identity) => identity,
        Err(error) => {
            tracing::warn!(%error, "sign-in refused: the token does not verify");
            return ctx.fail(Failure::Status(tonic::Status::unauthenticated(
                error.to_string(),
            )));
        }
    };
    let Some(exp) = token_expiry(&token) else {
        return ctx.fail(Failure::Status(tonic::Status::unauthenticated(
            "the token has no exp",
        )));
    };
    let session =
        match state
            .sessions
            .create(identity, token, exp, state.settings.session_max, now())
        {
            Ok(s) => s,
            Err(e) => return ctx.fail(Failure::Internal(e)),
        };
    tracing::info!(subject = %session.subject, roles = ?session.roles, "signed in to the console");
    let cookie = set_cookie(
        SESSION_COOKIE,
        &session.id,
        session.expires_at - now(),
        "Strict",
        state.settings.cookie_secure,
    );
    let clear = login_cookie(state, "", "Lax").replace("Max-Age=600", "Max-Age=0");
    if via_page {
        // After a cross-site redirect a SameSite=Strict cookie is not sent on the next
        // redirect of the same chain: the page moves on by itself instead.
        (
            AppendHeaders([(header::SET_COOKIE, cookie), (header::SET_COOKIE, clear)]),
            pages::continue_page(ctx),
        )
            .into_response()
    } else {
        (
            AppendHeaders([(header::SET_COOKIE, cookie), (header::SET_COOKIE, clear)]),
            Redirect::to("/"),
        )
            .into_response()
    }
}

/// `POST /signin/demo`: mints a short-lived token for a demo identity with the local stack's
/// key, as `collectctl auth token` does, and signs in with it. Only in local-stack mode.
pub async fn demo(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    let ctx = Ctx::new(state.clone(), &headers);
    let SignInMode::LocalStack(local) = &state.settings.sign_in else {
        return ctx.fail(Failure::Status(tonic::Status::permission_denied(
            "demo identities are off: this console signs in through the OIDC provider",
        )));
    };
    let form = match Form::parse(&body) {
        Ok(f) => f,
        Err(f) => return ctx.fail(f),
    };
    let browser = browser_login(&headers).unwrap_or_default();
    if browser.is_empty() || form.get("login") != browser {
        return ctx.fail(Failure::Csrf);
    }
    let Some((subject, role, team)) = DEMO_IDENTITIES
        .iter()
        .find(|(subject, _, _)| *subject == form.get("identity"))
    else {
        return ctx.fail(Failure::BadInput("identity".into()));
    };
    let token = match local.mint(subject, &[*role], *team, DEMO_TOKEN_TTL) {
        Ok(t) => t,
        Err(e) => return ctx.fail(Failure::Internal(e)),
    };
    start_session(&ctx, token, false).await
}

/// The provider's answer on the callback URL.
#[derive(serde::Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /oidc/callback`: the provider sends the browser back with a code.
pub async fn callback(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(query): Query<Callback>,
) -> Response {
    let ctx = Ctx::new(state.clone(), &headers);
    let refused = |why: &str| {
        ctx.fail(Failure::Status(tonic::Status::unauthenticated(format!(
            "sign-in failed: {why}; sign in again"
        ))))
    };
    let Some(oidc) = &state.oidc else {
        return refused("this console does not use OIDC");
    };
    if let Some(error) = &query.error {
        return refused(&format!("the provider answered {error}"));
    }
    let (Some(code), Some(state_param)) = (&query.code, &query.state) else {
        return refused("the callback has no code or state");
    };
    let Some(pending) = state.pending.take(state_param, now()) else {
        return refused("the sign-in is unknown or took longer than 10 minutes");
    };
    if browser_login(&headers).as_deref() != Some(pending.browser.as_str()) {
        return refused("the sign-in was started in another browser");
    }
    match oidc.exchange(code, &pending.verifier).await {
        Ok(token) => start_session(&ctx, token, true).await,
        Err(error) => {
            tracing::warn!(error = %format!("{error:#}"), "OIDC code exchange failed");
            refused("the provider did not exchange the code")
        }
    }
}

/// `POST /signout`: ends the session (and, with OIDC, goes on to the provider's sign-out).
pub async fn sign_out(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ctx = Ctx::new(state.clone(), &headers);
    let form = match Form::parse(&body) {
        Ok(f) => f,
        Err(f) => return ctx.fail(f),
    };
    let session = match ctx.check_form(&form) {
        Ok(s) => s,
        Err(f) => return ctx.fail(f),
    };
    state.sessions.remove(&session.id);
    let clear = set_cookie(
        SESSION_COOKIE,
        "",
        0,
        "Strict",
        state.settings.cookie_secure,
    );
    let to = state
        .oidc
        .as_ref()
        .and_then(|o| o.end_session_url())
        .unwrap_or("/signin")
        .to_owned();
    ([(header::SET_COOKIE, clear)], Redirect::to(&to)).into_response()
}
