//! One shutdown signal fanned out to the gRPC server, the outbox relay and the consumers.

use tokio::sync::watch;

/// Fires the shutdown signal.
#[derive(Debug)]
pub struct Trigger(watch::Sender<bool>);

/// A handle that resolves once shutdown was triggered. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Shutdown(watch::Receiver<bool>);

/// Creates a connected trigger and signal.
pub fn channel() -> (Trigger, Shutdown) {
    let (tx, rx) = watch::channel(false);
    (Trigger(tx), Shutdown(rx))
}

impl Trigger {
    /// Tells every holder of the signal to finish its in-flight work and stop.
    pub fn fire(&self) {
        // Receivers that are gone have nothing left to stop.
        let _ = self.0.send(true);
    }
}

impl Shutdown {
    /// True once shutdown was triggered.
    pub fn is_triggered(&self) -> bool {
        *self.0.borrow()
    }

    /// Waits until shutdown is triggered (or the trigger is dropped).
    pub async fn wait(&mut self) {
        // An error means the trigger was dropped, which also means stop.
        let _ = self.0.wait_for(|stop| *stop).await;
    }

    /// Pauses for `delay` (a retry's backoff); false, at once, when shutdown is or becomes
    /// triggered first, so no backoff keeps a stopping process waiting.
    pub async fn pause(&self, delay: std::time::Duration) -> bool {
        let mut stop = self.clone();
        tokio::select! {
            () = stop.wait() => false,
            () = tokio::time::sleep(delay) => !self.is_triggered(),
        }
    }

    /// Resolves `grace` after shutdown is triggered: the end of what in-flight work may
    /// still take ([`IN_FLIGHT_GRACE`]). Never resolves while the service runs.
    pub async fn past(&self, grace: std::time::Duration) {
        let mut stop = self.clone();
        stop.wait().await;
        tokio::time::sleep(grace).await;
    }
}

/// How long work in flight that waits on the broker (acknowledgments of events being
/// published) may go on after shutdown was triggered before it is given up. A broker that
/// answers does so in milliseconds; one that is down would otherwise hold the process for
/// librdkafka's `message.timeout.ms` (30 s), most of the pod's grace. What is given up is
/// not lost: it was never marked done, so it is sent again after restart.
pub const IN_FLIGHT_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Resolves on SIGINT (Ctrl-C) or SIGTERM (Kubernetes stopping the pod), logging which.
pub async fn os_signal() {
    match signal().await {
        "SIGINT" => tracing::info!("received Ctrl-C, shutting down"),
        _ => tracing::info!("received SIGTERM, shutting down"),
    }
}

/// Like [`os_signal`], without logging (for command-line tools).
pub async fn os_signal_quiet() {
    signal().await;
}

async fn signal() -> &'static str {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => "SIGINT",
        () = terminate => "SIGTERM",
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::channel;

    #[tokio::test]
    async fn a_pause_ends_when_shutdown_fires() {
        let (trigger, shutdown) = channel();
        let started = Instant::now();
        let fire = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            trigger.fire();
            trigger
        });
        assert!(!shutdown.pause(Duration::from_secs(30)).await);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "not the whole backoff"
        );
        let _trigger = fire.await.unwrap();
        // Once triggered, a pause ends at once.
        let again = Instant::now();
        assert!(!shutdown.pause(Duration::from_secs(30)).await);
        assert!(again.elapsed() < Duration::from_secs(1));
    }

    #[tokio::test]
    async fn a_pause_runs_its_course_while_the_process_runs() {
        let (_trigger, shutdown) = channel();
        let started = Instant::now();
        assert!(shutdown.pause(Duration::from_millis(50)).await);
        assert!(started.elapsed() >= Duration::from_millis(50));
    }

    #[tokio::test]
    async fn in_flight_work_is_given_its_grace_after_shutdown_and_no_more() {
        let (trigger, shutdown) = channel();
        // While the process runs, the grace never starts.
        let running = tokio::time::timeout(
            Duration::from_millis(300),
            shutdown.past(Duration::from_millis(50)),
        )
        .await;
        assert!(running.is_err(), "resolved without a shutdown");
        trigger.fire();
        let fired = Instant::now();
        shutdown.past(Duration::from_millis(200)).await;
        let took = fired.elapsed();
        assert!(
            took >= Duration::from_millis(200),
            "the grace was cut: {took:?}"
        );
        assert!(
            took < Duration::from_secs(5),
            "more than the grace: {took:?}"
        );
    }
}
