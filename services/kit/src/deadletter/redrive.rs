//! Re-driving a dead letter through the service's own handler, in-process.

use std::future::Future;
use std::pin::Pin;

use sqlx::PgConnection;

use crate::consumer::{HandleError, Handler, IncomingEvent};

/// The future a [`Redrive`] returns.
pub type RedriveFuture<'a> = Pin<Box<dyn Future<Output = Result<(), HandleError>> + Send + 'a>>;

/// A service's [`Handler`] behind a trait object, so the kit's gRPC API can call it.
pub trait Redrive: Send + Sync {
    /// As [`Handler::wants`].
    fn wants(&self, event_type: &str) -> bool;
    /// As [`Handler::handle`].
    fn handle<'a>(
        &'a self,
        tx: &'a mut PgConnection,
        event: &'a IncomingEvent,
    ) -> RedriveFuture<'a>;
}

impl<H: Handler> Redrive for H {
    fn wants(&self, event_type: &str) -> bool {
        Handler::wants(self, event_type)
    }

    fn handle<'a>(
        &'a self,
        tx: &'a mut PgConnection,
        event: &'a IncomingEvent,
    ) -> RedriveFuture<'a> {
        Box::pin(Handler::handle(self, tx, event))
    }
}
