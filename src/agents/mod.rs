//! The agent runtime: text in, text out, with invisible handoffs between agents.
//!
//! Knows nothing of audio or transport; `switchboard chat` drives it directly.
//!
//! * [`prompts`] loads `prompts/*.md` into an [`spec::AgentSet`] (persona + agents).
//! * [`runner::Runtime`] runs caller turns: the explicit [`runner::NextStep`] loop,
//!   tools ([`tools`]), handoffs ([`handoff`], [`filters`], [`hooks`]), guards
//!   ([`guard`], ping-pong, max_turns, confidence), escalation.
//! * [`conversation::Conversation`] holds one call's history, transcript and [`trace`].
//! * [`chat`] is the text driver (REPL and scripts); [`testing`] has `ScriptedModel`.

pub mod embedded;
pub mod model;

mod actions;
mod caller_inputs;
pub mod chat;
pub mod confirm;
pub mod conversation;
pub mod error;
pub mod escalation;
pub mod events;
pub mod fallback;
pub mod filters;
pub mod guard;
pub mod handoff;
pub mod hooks;
pub mod prompts;
pub mod runner;
pub mod runtime_config;
pub mod sentences;
pub mod spec;
mod step;
pub mod testing;
pub mod tools;
pub mod trace;
pub mod turn_id;

#[cfg(test)]
mod tests;

pub use conversation::{CallerContext, Conversation, TranscriptEntry};
pub use error::AgentError;
pub use events::{CallerInput, RunEvent, TurnSummary};
pub use runner::{NextStep, Runtime, RuntimeConfig};
pub use spec::{AgentSet, AgentSpec};
pub use trace::{Outcome, Trace, Trigger};
pub use turn_id::TurnId;
pub mod openai;
pub mod providers;
