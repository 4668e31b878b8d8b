//! Graceful drain on SIGTERM / SIGINT, as a rolling update or a scale-down needs it.
//!
//! 1. [`Drain::begin`]: `/readyz` answers 503 at once (the load balancer stops sending
//!    calls) and new media streams are refused with 503; live calls go on.
//! 2. When the last call ends, or `drain_timeout` passes, the server's shutdown token
//!    is cancelled: each call still live hears the closing line, its stream is closed
//!    and its record finished (a session takes at most 10 s for that).
//! 3. [`Drain::calls_done`] — which the HTTP server's graceful shutdown waits on —
//!    resolves once every call task has written its record; then the process exits 0.
//!
//! Websocket tasks are detached from hyper once upgraded, so the server's own
//! graceful shutdown would not wait for them: every call task holds a token of
//! [`Drain`]'s task tracker instead.

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::task_tracker::TaskTrackerToken;
use tokio_util::task::TaskTracker;
use tracing::{info, warn};

/// How long the server waits, after telling calls to close, for their records.
const CLOSE_GRACE: Duration = Duration::from_secs(15);

/// The drain state of one server: whether it has begun, and the live call tasks.
#[derive(Clone, Default)]
pub struct Drain {
    started: CancellationToken,
    calls: TaskTracker,
}

impl Drain {
    /// Stop taking calls: readiness fails and new streams are refused from now on.
    pub fn begin(&self) {
        self.started.cancel();
    }

    pub fn is_draining(&self) -> bool {
        self.started.is_cancelled()
    }

    /// A token held by one call task for as long as it runs.
    pub fn call_token(&self) -> TaskTrackerToken {
        self.calls.token()
    }

    /// Call tasks running now.
    pub fn live_calls(&self) -> usize {
        self.calls.len()
    }

    /// Resolves when no call task runs (after the drain has begun).
    pub async fn calls_done(&self) {
        self.started.cancelled().await;
        self.calls.close();
        self.calls.wait().await;
    }

    /// The whole drain: begin, let live calls run for up to `timeout`, then cancel
    /// `shutdown` (calls hear the closing line and end) and wait up to 15 s more for
    /// their records. A second signal (`force`) skips the wait.
    pub async fn run(
        &self,
        timeout: Duration,
        shutdown: &CancellationToken,
        force: CancellationToken,
    ) {
        self.begin();
        info!(
            live_calls = self.live_calls(),
            timeout_s = timeout.as_secs(),
            "draining: refusing new calls, waiting for live ones to end"
        );
        tokio::select! {
            _ = self.calls_done() => info!("drained: every call ended"),
            _ = tokio::time::sleep(timeout) => {
                warn!(live_calls = self.live_calls(), "drain time is up: closing the calls still live");
            }
            _ = force.cancelled() => warn!(live_calls = self.live_calls(), "second signal: closing the calls now"),
        }
        shutdown.cancel();
        if tokio::time::timeout(CLOSE_GRACE, self.calls_done())
            .await
            .is_err()
        {
            warn!(
                live_calls = self.live_calls(),
                "calls did not finish their records in time"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn live_calls_go_on_until_they_end_or_the_time_is_up() {
        let drain = Drain::default();
        let shutdown = CancellationToken::new();
        // One call that ends by itself after 5 s, one that only ends when told to.
        let short = drain.call_token();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(5)).await;
            drop(short);
        });
        let long = drain.call_token();
        let told = shutdown.clone();
        tokio::spawn(async move {
            told.cancelled().await;
            tokio::time::sleep(Duration::from_secs(2)).await; // says its closing line
            drop(long);
        });
        assert!(!drain.is_draining());
        let started = tokio::time::Instant::now();
        drain
            .run(Duration::from_secs(30), &shutdown, CancellationToken::new())
            .await;
        assert!(drain.is_draining());
        assert_eq!(drain.live_calls(), 0);
        assert_eq!(started.elapsed(), Duration::from_secs(32));
    }

    #[tokio::test(start_paused = true)]
    async fn with_no_calls_the_drain_ends_at_once() {
        let drain = Drain::default();
        let shutdown = CancellationToken::new();
        let started = tokio::time::Instant::now();
        drain
            .run(Duration::from_secs(30), &shutdown, CancellationToken::new())
            .await;
        assert!(shutdown.is_cancelled());
        assert_eq!(started.elapsed(), Duration::ZERO);
    }
}
