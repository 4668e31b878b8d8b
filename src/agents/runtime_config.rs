//! The runtime's limits and thresholds: the `[agents]` config section.

use serde::{Deserialize, Serialize};

/// Runtime limits and thresholds (the `[agents]` config section).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RuntimeConfig {
    /// The agent every call starts with.
    pub entry_agent: String,
    /// Model calls allowed per caller turn before apologising and offering a person.
    pub max_turns: usize,
    /// History size (characters) above which a handoff gets a summary instead.
    pub history_char_budget: usize,
    /// Caller turns kept verbatim after a summary.
    pub summary_keep_turns: usize,
    /// STT confidence below which the caller is asked to repeat.
    pub low_confidence_threshold: f32,
    /// Consecutive low-confidence turns before handing to a person.
    pub max_low_confidence_turns: u32,
    /// Consecutive silent turns before ending the call.
    pub max_silences: u32,
    /// Handoffs in a row between the same two agents (across caller turns) before a
    /// further one is refused as ping-pong and the caller is offered a person.
    pub max_bounces: usize,
    /// A keypad entry that asks for a person at once (the usual "press 0"); "" = none.
    pub operator_key: String,
    /// The opening line of `Runtime::greet` when the entry agent's `[brain]` table
    /// has no `greeting`.
    pub greeting: String,
    /// A live transfer to a person is possible (`[twilio] transfer_number` is set).
    /// Without one, an escalation arranges a call back and opens a ticket with the
    /// brief, and says so: the caller is never promised a person on the line.
    pub live_transfer: bool,
    /// Remote chat models: connecting to the server may take this long (ms).
    pub model_connect_timeout_ms: u64,
    /// Remote chat models: from the request to the first streamed byte, and in a
    /// fallback chain to the model's first streamed event (ms). Past it the next
    /// model serves the turn, or the caller hears an apology and the offer of a person.
    pub model_first_token_timeout_ms: u64,
    /// A remote chat model that has a fallback is given up this long after the
    /// request if it has not begun its reply (ms): with a fallback ready, the caller
    /// need not wait the full first-token timeout.
    pub model_fallback_after_ms: u64,
    /// Remote chat models: the whole streamed reply (ms).
    pub model_total_timeout_ms: u64,
    /// Failures in a row after which a model with a fallback is skipped…
    pub model_breaker_failures: u32,
    /// …for this long, before one request probes it again (s).
    pub model_breaker_cooldown_s: u64,
}

impl RuntimeConfig {
    /// The remote-model client settings these limits give (timeouts; retries).
    pub fn openai_defaults(&self) -> crate::agents::openai::OpenAiConfig {
        use std::time::Duration;
        crate::agents::openai::OpenAiConfig {
            connect_timeout: Duration::from_millis(self.model_connect_timeout_ms.max(1)),
            first_token_timeout: Duration::from_millis(self.model_first_token_timeout_ms.max(1)),
            total_timeout: Duration::from_millis(self.model_total_timeout_ms.max(1)),
            ..Default::default()
        }
    }

    /// The circuit breaker and first-event timeout of models that have a fallback.
    pub fn breaker(&self) -> crate::agents::fallback::BreakerConfig {
        crate::agents::fallback::BreakerConfig {
            failures_to_open: self.model_breaker_failures.max(1),
            cooldown: std::time::Duration::from_secs(self.model_breaker_cooldown_s),
            fallback_after: std::time::Duration::from_millis(self.model_fallback_after_ms.max(1)),
        }
    }
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            entry_agent: "triage".into(),
            max_turns: 6,
            history_char_budget: 6000,
            summary_keep_turns: 2,
            low_confidence_threshold: 0.45,
            max_low_confidence_turns: 2,
            max_silences: 3,
            max_bounces: 2,
            operator_key: "0".into(),
            greeting: "Hi, thanks for calling Switchboard. How can I help you today?".into(),
            live_transfer: false,
            model_connect_timeout_ms: 1000,
            model_first_token_timeout_ms: 2000,
            model_fallback_after_ms: 1200,
            model_total_timeout_ms: 30_000,
            model_breaker_failures: 1,
            model_breaker_cooldown_s: 30,
        }
    }
}
