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
        }
    }
}
