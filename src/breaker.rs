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
    probing: bool,
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
        match s.open_until {
            None => true,
            Some(until) if now >= until && !s.probing => {
                s.probing = true;
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
        s.probing = false;
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
