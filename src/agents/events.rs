//! What goes into and comes out of a caller turn.

use crate::agents::turn_id::TurnId;
use serde::Serialize;

use crate::agents::trace::{HandoffRecord, ToolCallRecord};

/// One caller turn's input, as the call layer (or the chat driver) delivers it.
#[derive(Debug, Clone, PartialEq)]
pub enum CallerInput {
    /// Recognised speech with the STT confidence in 0..=1.
    Speech { text: String, confidence: f32 },
    /// Keypad digits.
    Dtmf { digits: String },
    /// The caller said nothing for the endpointing timeout.
    Silence,
}

impl CallerInput {
    /// Speech with full confidence (typed text).
    pub fn text(text: impl Into<String>) -> Self {
        CallerInput::Speech {
            text: text.into(),
            confidence: 1.0,
        }
    }
}

/// Streamed while a turn runs.
#[derive(Debug, Clone, PartialEq)]
pub enum RunEvent {
    /// One complete sentence or clause to speak (TTS can start right away).
    Say { agent: String, text: String },
    /// The active agent changed (invisible to the caller).
    AgentChanged { from: String, to: String },
    /// A handoff happened or was refused.
    Handoff(HandoffRecord),
    /// A tool ran (or was refused).
    ToolCall(ToolCallRecord),
    /// An agent's model failed before replying and its fallback served instead.
    ModelSwitched(crate::agents::trace::ModelSwitch),
    /// Hand the call to a person; `brief` is a short spoken summary for them.
    Escalate { reason: String, brief: String },
    /// The agent ended the call (after its goodbye).
    EndCall,
}

/// What a turn did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TurnSummary {
    pub turn: TurnId,
    /// Active agent at the end of the turn.
    pub agent: String,
    /// Everything said this turn (after the guard).
    pub reply: String,
    pub handoffs: usize,
    pub model_calls: usize,
    pub escalated: bool,
    pub ended: bool,
    pub cancelled: bool,
    pub first_sentence_ms: Option<f64>,
    pub total_ms: f64,
}
