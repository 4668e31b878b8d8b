//! A circuit breaker: after failures in a row a provider is skipped for a cooldown,
//! then one request probes it (half-open) and a success closes it again. Shared by the
//! fallback chains of chat models (`agents::fallback`), speech recognition and speech
//! synthesis (`speech::*::fallback`). Time is passed in (tokio's clock), so tests
//! drive it with paused time.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// When a failing model is skipped, and when it is tried again.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreakerConfig {
    /// Failures in a row that open the breaker.
    pub failures_to_open: u32,
    /// How long an open breaker skips its model before one probe.
    pub cooldown: Duration,
    /// A remote model with a fallback after it is given up this long after the
    /// request if it has not begun its reply (its own first-token timeout if shorter).
    pub fallback_after: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            failures_to_open: 1,
            cooldown: Duration::from_secs(30),
            fallback_after: Duration::from_millis(1200),
        }
    }
}

#[derive(Debug, Default)]
struct BreakerState {
    failures: u32,
    open_until: Option<Instant>,
    /// When the probe in flight started: a probe whose outcome never comes (its
    /// request was cancelled by a barge-in or a hang-up) lets another one through
    /// after a further cooldown, so the breaker never stays open for good.
    probe_started: Option<Instant>,
}

/// A circuit breaker over one model.
#[derive(Debug)]
pub struct Breaker {
    config: BreakerConfig,
    state: Mutex<BreakerState>,
}

impl Breaker {
    pub fn new(config: BreakerConfig) -> Self {
        Self {
            config,
            state: Mutex::default(),
        }
    }

    /// Whether a request may go to the model now (closed, or the one probe after the
    /// cooldown).
    pub fn allow(&self, now: Instant) -> bool {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let cooldown = self.config.cooldown;
        match s.open_until {
            None => true,
            Some(until)
                if now >= until
                    && s.probe_started
                        .is_none_or(|started| now >= started + cooldown) =>
            {
                s.probe_started = Some(now);
                true
            }
            Some(_) => false,
        }
    }

    pub fn success(&self) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        *s = BreakerState::default();
    }

    pub fn failure(&self, now: Instant) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.failures += 1;
        s.probe_started = None;
        if s.failures >= self.config.failures_to_open.max(1) {
            s.open_until = Some(now + self.config.cooldown);
        }
    }

    pub fn is_open(&self) -> bool {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .open_until
            .is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_probe_that_never_reports_back_does_not_keep_the_breaker_open() {
        let b = Breaker::new(BreakerConfig::default());
        b.failure(Instant::now());
        assert!(!b.allow(Instant::now()), "open");
        tokio::time::advance(Duration::from_secs(31)).await;
        assert!(b.allow(Instant::now()), "one probe after the cooldown");
        assert!(!b.allow(Instant::now()), "only one");
        // The probe's request was cancelled: no success, no failure.
        tokio::time::advance(Duration::from_secs(31)).await;
        assert!(b.allow(Instant::now()), "another probe a cooldown later");
        b.success();
        assert!(b.allow(Instant::now()) && !b.is_open());
    }
}
