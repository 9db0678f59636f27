//! The web console (issue 17 item 3): server-rendered HTML over the services' gRPC APIs.
//!
//! A thin adapter. It holds no database and decides no access: people sign in (OIDC, or the
//! local stack's demo identities), their verified token is kept in a server-side session, and
//! every page calls the services with that token, so the services' role table, the collector's
//! scope and the audit trail apply unchanged (R-O3). Pages are Chinese first, English second.

pub mod backend;
pub mod chart;
pub mod config;
pub mod i18n;
pub mod oidc;
pub mod pages;
pub mod session;
pub mod signin;
pub mod web;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use kit::auth::jwt::TokenVerifier;

use crate::backend::Backend;
use crate::config::{Settings, SignInMode};
use crate::oidc::OidcClient;
use crate::session::{PendingLogins, Sessions};

/// What every request handler shares.
pub struct AppState {
    /// The settings read at start-up.
    pub settings: Settings,
    /// The services.
    pub backend: Backend,
    /// Checks tokens before a session is made (kit's verifier, the services' settings).
    pub verifier: TokenVerifier,
    /// The OIDC client (production sign-in), when configured.
    pub oidc: Option<OidcClient>,
    /// Signed-in people of this replica.
    pub sessions: Sessions,
    /// OIDC sign-ins waiting for their callback.
    pub pending: PendingLogins,
}

/// The console, bound and ready to serve.
pub struct Application {
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
}

impl Application {
    /// Reads nothing itself: binds `settings.addr` (port 0 picks a free one), connects the
    /// service clients lazily and, for OIDC, reads the provider's discovery document.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let verifier = TokenVerifier::new(settings.token.clone())?;
        let oidc = match &settings.sign_in {
            SignInMode::Oidc(oidc) => Some(OidcClient::discover(oidc.clone()).await?),
            SignInMode::LocalStack(local) => {
                tracing::warn!(
                    auth_dir = %local.signing_key_file.parent().map(|p| p.display().to_string()).unwrap_or_default(),
                    "DEMO SIGN-IN IS ON: anyone reaching this console can pick an identity and gets a token signed with the local stack's throwaway key. This is for the local stack only; a deployment uses CONSOLE_OIDC_*"
                );
                None
            }
        };
        verifier
            .preload()
            .await
            .context("loading the keys tokens are checked against")?;
        let backend = Backend::new(&settings)?;
        let listener = tokio::net::TcpListener::bind(settings.addr)
            .await
            .with_context(|| format!("binding {}", settings.addr))?;
        let state = Arc::new(AppState {
            settings,
            backend,
            verifier,
            oidc,
            sessions: Sessions::default(),
            pending: PendingLogins::default(),
        });
        Ok(Self { listener, state })
    }

    /// The bound address.
    pub fn addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// Serves until `shutdown` completes.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let addr = self.addr()?;
        if let Some(path) = &self.state.settings.ready_file {
            std::fs::write(path, addr.to_string())
                .with_context(|| format!("writing READY_FILE {}", path.display()))?;
        }
        tracing::info!(%addr, "console serving HTTP");
        axum::serve(self.listener, web::router(self.state))
            .with_graceful_shutdown(shutdown)
            .await
            .context("serving HTTP")
    }
}
