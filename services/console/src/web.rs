//! Routing, the request context (language, session), forms and the failures a page can meet.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::AppState;
use crate::i18n::{L, Lang};
use crate::pages;
use crate::session::{LANG_COOKIE, SESSION_COOKIE, Session, read_cookie};
use crate::signin;

/// Every route of the console.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/healthz", get(|| async { "ok" }))
        .route("/console.css", get(stylesheet))
        .route("/lang/{code}", get(switch_language))
        .route("/signin", get(signin::page))
        .route("/signin/demo", post(signin::demo))
        .route("/oidc/callback", get(signin::callback))
        .route("/signout", post(signin::sign_out))
        .route("/queue", get(pages::collector::queue))
        .route("/customers/{id}", get(pages::collector::debtor))
        .route(
            "/customers/{id}/promises",
            post(pages::collector::make_promise),
        )
        .route(
            "/customers/{id}/disputes",
            post(pages::collector::open_dispute),
        )
        .route(
            "/tasks/{id}/complete",
            post(pages::collector::complete_task),
        )
        .route("/exceptions", get(pages::finance::exceptions))
        .route("/exceptions/{id}/resolve", post(pages::finance::resolve))
        .route("/payments", get(pages::finance::payments))
        .route("/legal", get(pages::legal::cases))
        .route("/legal/{id}", get(pages::legal::case))
        .route("/legal/{id}/bundle", get(pages::legal::bundle))
        .route("/dashboards", get(pages::dashboards::dashboards))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

/// No scripts at all, styles only from the console, no framing, nothing cached.
async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        pages::STYLE,
    )
        .into_response()
}

/// The language and the session of one request.
pub struct Ctx {
    /// The page language.
    pub lang: Lang,
    /// The signed-in person, if any.
    pub session: Option<Session>,
    /// The shared state.
    pub state: Arc<AppState>,
}

/// Unix seconds now.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl Ctx {
    /// Reads the cookies of a request.
    pub fn new(state: Arc<AppState>, headers: &HeaderMap) -> Self {
        let cookies = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join("; ");
        let lang = read_cookie(&cookies, LANG_COOKIE).map_or(Lang::Zh, Lang::parse);
        let session =
            read_cookie(&cookies, SESSION_COOKIE).and_then(|id| state.sessions.get(id, now()));
        Self {
            lang,
            session,
            state,
        }
    }

    /// The label in the page's language.
    pub fn t(&self, label: L) -> &'static str {
        label.t(self.lang)
    }

    /// The signed-in person, or the failure that sends them to sign in.
    pub fn user(&self) -> Result<&Session, Failure> {
        self.session.as_ref().ok_or(Failure::NotSignedIn)
    }

    /// The person's token, for a call.
    pub fn token(&self) -> Result<&str, Failure> {
        Ok(self.user()?.token.as_str())
    }

    /// Checks a form's CSRF token against the session.
    pub fn check_form(&self, form: &Form) -> Result<&Session, Failure> {
        let user = self.user()?;
        if user.csrf_ok(form.get("csrf")) {
            Ok(user)
        } else {
            Err(Failure::Csrf)
        }
    }

    /// The page for a failure: sign in, or an explanation with what to do next.
    pub fn fail(&self, failure: Failure) -> Response {
        match &failure {
            Failure::NotSignedIn => return Redirect::to("/signin").into_response(),
            Failure::Status(status) if status.code() == tonic::Code::Unauthenticated => {
                if let Some(s) = &self.session {
                    self.state.sessions.remove(&s.id);
                }
            }
            Failure::Internal(error) => {
                tracing::error!(error = %format!("{error:#}"), "console page failed");
            }
            _ => {}
        }
        pages::error_page(self, &failure)
    }
}

/// Why a page could not be shown or a form not applied.
#[derive(Debug)]
pub enum Failure {
    /// No session.
    NotSignedIn,
    /// A form without this session's CSRF token.
    Csrf,
    /// A form field missing or malformed (which one).
    BadInput(String),
    /// A service's answer.
    Status(tonic::Status),
    /// The console's own fault.
    Internal(anyhow::Error),
}

impl From<tonic::Status> for Failure {
    fn from(status: tonic::Status) -> Self {
        Failure::Status(status)
    }
}

impl Failure {
    /// The HTTP status of the page.
    pub fn http_status(&self) -> StatusCode {
        match self {
            Failure::NotSignedIn => StatusCode::SEE_OTHER,
            Failure::Csrf => StatusCode::FORBIDDEN,
            Failure::BadInput(_) => StatusCode::BAD_REQUEST,
            Failure::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Failure::Status(s) => match s.code() {
                tonic::Code::Unauthenticated => StatusCode::UNAUTHORIZED,
                tonic::Code::PermissionDenied => StatusCode::FORBIDDEN,
                tonic::Code::NotFound => StatusCode::NOT_FOUND,
                tonic::Code::InvalidArgument | tonic::Code::OutOfRange => StatusCode::BAD_REQUEST,
                tonic::Code::FailedPrecondition
                | tonic::Code::AlreadyExists
                | tonic::Code::Aborted => StatusCode::CONFLICT,
                tonic::Code::Unavailable | tonic::Code::DeadlineExceeded => {
                    StatusCode::SERVICE_UNAVAILABLE
                }
                _ => StatusCode::BAD_GATEWAY,
            },
        }
    }

    /// What to tell the person to do.
    pub fn advice(&self) -> L {
        match self {
            Failure::NotSignedIn => L::ErrNotSignedIn,
            Failure::Csrf => L::ErrCsrf,
            Failure::BadInput(_) => L::ErrBadInput,
            Failure::Internal(_) => L::ErrOther,
            Failure::Status(s) => match s.code() {
                tonic::Code::Unauthenticated => L::ErrUnauthenticated,
                tonic::Code::PermissionDenied => L::ErrPermissionDenied,
                tonic::Code::NotFound => L::ErrNotFound,
                tonic::Code::InvalidArgument | tonic::Code::OutOfRange => L::ErrInvalid,
                tonic::Code::FailedPrecondition
                | tonic::Code::AlreadyExists
                | tonic::Code::Aborted => L::ErrPrecondition,
                tonic::Code::Unavailable | tonic::Code::DeadlineExceeded => L::ErrUnavailable,
                _ => L::ErrOther,
            },
        }
    }

    /// The detail shown under "the service said" (services mask personal data in their
    /// messages, R-O4; the console's own errors are not shown, only logged).
    pub fn detail(&self) -> Option<String> {
        match self {
            Failure::Status(s) => Some(format!("{:?}: {}", s.code(), s.message())),
            Failure::BadInput(field) => Some(field.clone()),
            _ => None,
        }
    }
}

/// A submitted form's fields, in order (a checkbox list repeats its name).
#[derive(Debug, Default)]
pub struct Form(pub Vec<(String, String)>);

impl Form {
    /// Parses an `application/x-www-form-urlencoded` body.
    pub fn parse(body: &[u8]) -> Result<Self, Failure> {
        serde_urlencoded::from_bytes(body)
            .map(Form)
            .map_err(|_| Failure::BadInput("form".into()))
    }

    /// The first value of `name` ("" when absent), trimmed.
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.trim())
    }

    /// The value of `name`, required.
    pub fn required(&self, name: &str) -> Result<&str, Failure> {
        match self.get(name) {
            "" => Err(Failure::BadInput(name.to_owned())),
            v => Ok(v),
        }
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_owned())
            .collect()
    }
}

/// Pages the signed-in person's roles are for, in the navigation's order: a presentation
/// hint only (the services decide; a page a role may not use shows their refusal).
pub fn nav_for(session: &Session) -> Vec<(&'static str, L)> {
    use kit::auth::Role::*;
    let entries: [(&str, L, &[kit::auth::Role]); 5] = [
        ("/queue", L::NavQueue, &[Collector, Supervisor, Admin]),
        ("/exceptions", L::NavExceptions, &[Cashier, Auditor, Admin]),
        ("/payments", L::NavPayments, &[Cashier, Auditor, Admin]),
        ("/legal", L::NavLegal, &[Legal, Auditor, Admin]),
        (
            "/dashboards",
            L::NavDashboards,
            &[Supervisor, Cashier, Risk, Legal, Auditor, Admin],
        ),
    ];
    entries
        .into_iter()
        .filter(|(_, _, roles)| roles.iter().any(|r| session.has(*r)))
        .map(|(path, label, _)| (path, label))
        .collect()
}

async fn home(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let ctx = Ctx::new(state, &headers);
    match &ctx.session {
        None => Redirect::to("/signin").into_response(),
        Some(s) => match nav_for(s).first() {
            Some((path, _)) => Redirect::to(path).into_response(),
            None => pages::nothing_for_role(&ctx),
        },
    }
}

#[derive(serde::Deserialize)]
struct Back {
    back: Option<String>,
}

/// A local path to return to: starts with one `/`, never another site.
pub fn local_path(back: Option<&str>) -> &str {
    match back {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') => p,
        _ => "/",
    }
}

/// The path and query of a same-origin `Referer` (the page the switch was clicked on).
pub fn referer_path(referer: &str) -> Option<&str> {
    let rest = referer
        .strip_prefix("http://")
        .or_else(|| referer.strip_prefix("https://"))?;
    rest.find('/').map(|i| &rest[i..])
}

async fn switch_language(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(code): Path<String>,
    Query(back): Query<Back>,
) -> Response {
    let lang = Lang::parse(&code);
    // Back to the page the switch was on (Referrer-Policy same-origin sends it), else `back`.
    let referer = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(referer_path)
        .map(str::to_owned);
    let cookie = format!(
        "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax{}",
        lang.code(),
        if state.settings.cookie_secure {
            "; Secure"
        } else {
            ""
        }
    );
    (
        [(header::SET_COOKIE, cookie)],
        Redirect::to(local_path(referer.as_deref().or(back.back.as_deref()))),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_back() {
        assert_eq!(local_path(Some("/queue")), "/queue");
        assert_eq!(local_path(Some("//evil.example/x")), "/");
        assert_eq!(local_path(Some("https://evil.example")), "/");
        assert_eq!(local_path(Some("/\\evil.example")), "/");
        assert_eq!(local_path(None), "/");
        assert_eq!(
            referer_path("http://127.0.0.1:50080/customers/x?ok=task"),
            Some("/customers/x?ok=task")
        );
        assert_eq!(referer_path("https://h"), None);
        // Another site's path is still only a path here, and checked by local_path.
        assert_eq!(local_path(referer_path("https://evil.example//x")), "/");
    }

    #[test]
    fn forms_keep_repeated_fields_and_trim() {
        let form = Form::parse(b"csrf=abc&item=1&item=2&note=+hi+&empty=").unwrap();
        assert_eq!(form.get("csrf"), "abc");
        assert_eq!(form.all("item"), vec!["1", "2"]);
        assert_eq!(form.get("note"), "hi");
        assert!(matches!(form.required("empty"), Err(Failure::BadInput(f)) if f == "empty"));
        assert_eq!(form.get("missing"), "");
    }

    #[test]
    fn service_refusals_become_pages_that_say_what_to_do() {
        let denied = Failure::from(tonic::Status::permission_denied(
            "customer x is not assigned to li.na",
        ));
        assert_eq!(denied.http_status(), StatusCode::FORBIDDEN);
        assert_eq!(denied.advice(), L::ErrPermissionDenied);
        assert!(denied.detail().unwrap().contains("not assigned"));
        let expired = Failure::from(tonic::Status::unauthenticated("the token has expired"));
        assert_eq!(expired.advice(), L::ErrUnauthenticated);
        assert_eq!(Failure::Csrf.http_status(), StatusCode::FORBIDDEN);
        assert!(
            Failure::Internal(anyhow::anyhow!("secret detail"))
                .detail()
                .is_none()
        );
    }

    #[test]
    fn the_navigation_follows_the_roles() {
        let session = |roles: Vec<kit::auth::Role>| Session {
            id: String::new(),
            subject: "x".into(),
            roles,
            team: None,
            token: String::new(),
            csrf: String::new(),
            expires_at: 0,
        };
        let paths = |roles| {
            nav_for(&session(roles))
                .into_iter()
                .map(|(p, _)| p)
                .collect::<Vec<_>>()
        };
        assert_eq!(paths(vec![kit::auth::Role::Collector]), vec!["/queue"]);
        assert_eq!(
            paths(vec![kit::auth::Role::Cashier]),
            vec!["/exceptions", "/payments", "/dashboards"]
        );
        assert_eq!(
            paths(vec![kit::auth::Role::Legal]),
            vec!["/legal", "/dashboards"]
        );
        assert_eq!(paths(vec![kit::auth::Role::Admin]).len(), 5);
        assert!(paths(vec![kit::auth::Role::BankIntegration]).is_empty());
    }
}
