//! The per-call trace: agent path, handoffs (with trigger and reason), tool calls,
//! guard interventions and per-turn latency. Serialised with the call record.

use crate::agents::turn_id::TurnId;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Why a handoff happened (the four triggers of the design).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    /// The caller's topic belongs to another agent.
    Intent,
    /// The needed tool belongs to another agent.
    Capability,
    /// Speech recognition confidence stayed too low.
    Confidence,
    /// Complexity, turn count, loops, or an explicit request for a person.
    Escalation,
}

impl Trigger {
    /// Parse the `trigger` argument of a transfer tool.
    pub fn parse(s: &str) -> Option<Trigger> {
        match s.trim().to_ascii_lowercase().as_str() {
            "intent" => Some(Trigger::Intent),
            "capability" => Some(Trigger::Capability),
            "confidence" => Some(Trigger::Confidence),
            "escalation" => Some(Trigger::Escalation),
            _ => None,
        }
    }
}

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The conversation ran to its end (goodbye, or the caller's request was handled).
    Completed,
    /// The call was handed to a human.
    Escalated,
    /// The caller hung up (or the connection was lost) mid-conversation.
    Hangup,
    /// We ended the call before its end: the server shut down (drain timeout), or the
    /// process serving it died and a later one closed its record.
    Interrupted,
}

impl Outcome {
    /// The word the call record keeps.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Completed => "completed",
            Outcome::Escalated => "escalated",
            Outcome::Hangup => "hangup",
            Outcome::Interrupted => "interrupted",
        }
    }

    /// The word back into an outcome.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "completed" => Some(Outcome::Completed),
            "escalated" => Some(Outcome::Escalated),
            "hangup" => Some(Outcome::Hangup),
            "interrupted" => Some(Outcome::Interrupted),
            _ => None,
        }
    }
}

/// One handoff (or a refused attempt).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HandoffRecord {
    pub turn: TurnId,
    pub from: String,
    pub to: String,
    pub trigger: Trigger,
    pub reason: String,
    /// The on_handoff hook that ran, if any.
    pub on_handoff: Option<String>,
    /// Time spent in the hook and history filters.
    pub on_handoff_ms: f64,
    /// History filters applied (`remove_tools`, `summary`).
    pub filters: Vec<String>,
    /// Refused by the runtime (ping-pong guard); `refusal` says why.
    pub refused: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
}

/// One tool call (including transfer tools and refused calls).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolCallRecord {
    pub turn: TurnId,
    pub agent: String,
    pub name: String,
    pub arguments: Value,
    pub result: Value,
    pub ms: f64,
    /// The runtime refused the call (tool not owned by the agent, bad handoff).
    pub refused: bool,
}

/// A sentence the reply guard dropped or rewrote before the caller heard it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GuardRecord {
    pub turn: TurnId,
    pub agent: String,
    /// `transfer_announcement` | `repeated_greeting`
    pub rule: String,
    pub original: String,
    pub emitted: Option<String>,
}

/// A fallback model served a request its agent's primary could not.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelSwitch {
    pub turn: TurnId,
    pub agent: String,
    pub from: String,
    pub to: String,
    /// `connect`, `timeout`, `status`, `malformed` or `breaker_open`.
    pub reason: String,
}

/// One caller turn.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TurnRecord {
    pub turn: TurnId,
    /// Wall-clock time the turn started (RFC 3339, UTC, milliseconds).
    pub started_at: String,
    /// `speech` | `dtmf` | `silence`
    pub input: String,
    pub caller: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f32>,
    /// Active agent when the turn started and when it ended.
    pub agent_start: String,
    pub agent_end: String,
    pub reply: String,
    pub model_calls: usize,
    /// From the caller's input to the first sentence emitted.
    pub first_sentence_ms: Option<f64>,
    pub total_ms: f64,
    pub cancelled: bool,
    pub interrupted: bool,
}

/// Everything that happened in one call, for the call record and debugging.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Trace {
    pub call_id: String,
    pub caller: Option<String>,
    /// Agents in the order they became active (`human` last if escalated).
    pub path: Vec<String>,
    pub handoffs: Vec<HandoffRecord>,
    pub tool_calls: Vec<ToolCallRecord>,
    pub turns: Vec<TurnRecord>,
    pub guard: Vec<GuardRecord>,
    /// Absorbed failures (model errors, max_turns).
    pub errors: Vec<String>,
    /// Chat models that failed before replying, and the fallback that served instead.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub model_switches: Vec<ModelSwitch>,
    pub outcome: Option<Outcome>,
    /// The brief given to the human, if escalated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub escalation_brief: Option<String>,
    /// The call-back ticket opened when no live transfer was possible.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callback_ticket: Option<i64>,
}

/// Milliseconds as f64 with 0.1 ms resolution.
pub(crate) fn ms(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 10_000.0).round() / 10.0
}
