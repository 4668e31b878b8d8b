//! One call's conversation state: the active agent, the model-facing history, the
//! caller-facing transcript, and the trace. Barge-in truncation lives here.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::agents::model::ChatMessage;
use crate::agents::trace::{Outcome, Trace};
use crate::agents::turn_id::TurnId;

/// Who is calling, from the media stream's `start` message.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallerContext {
    pub call_id: String,
    /// The calling number (E.164), if known.
    pub phone: Option<String>,
    /// Custom parameters of the stream.
    pub params: BTreeMap<String, String>,
}

impl CallerContext {
    /// The calling number: `phone`, else a `From`/`from`/`caller` parameter.
    pub fn caller_number(&self) -> Option<String> {
        self.phone
            .clone()
            .or_else(|| {
                ["From", "from", "caller", "Caller"]
                    .iter()
                    .find_map(|k| self.params.get(*k).cloned())
            })
            .filter(|p| !p.trim().is_empty())
    }
}

/// One line of the transcript.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TranscriptEntry {
    /// `caller` or `agent`.
    pub speaker: String,
    /// The agent that spoke (agent lines), or the agent that was listening when the
    /// caller spoke (caller lines).
    pub agent: Option<String>,
    pub text: String,
    /// Cut off by the caller (barge-in): `text` is what they heard.
    pub interrupted: bool,
    #[serde(skip)]
    pub(crate) turn: TurnId,
}

/// A live conversation; created by `Runtime::start`, advanced by `Runtime::run_turn`.
#[derive(Debug, Clone)]
pub struct Conversation {
    pub(crate) caller: CallerContext,
    pub(crate) active: String,
    pub(crate) history: Vec<ChatMessage>,
    pub(crate) transcript: Vec<TranscriptEntry>,
    pub(crate) trace: Trace,
    pub(crate) customer_id: Option<i64>,
    /// The latest turn ([`TurnId::GREETING`] before the first caller turn).
    pub(crate) turn: TurnId,
    /// Index in `history` where the current turn's messages start.
    pub(crate) turn_history_start: usize,
    pub(crate) low_confidence_streak: u32,
    pub(crate) silence_streak: u32,
    /// The runtime offered a person; a "yes" next turn escalates.
    pub(crate) human_offered: bool,
    /// Someone already greeted the caller.
    pub(crate) greeted: bool,
    pub(crate) last_caller_text: String,
    /// Keys of the substantive sentences said so far (never said twice).
    pub(crate) said: std::collections::HashSet<String>,
}

impl Conversation {
    pub(crate) fn new(caller: CallerContext, entry: &str) -> Self {
        let trace = Trace {
            call_id: caller.call_id.clone(),
            caller: caller.caller_number(),
            path: vec![entry.to_string()],
            ..Trace::default()
        };
        Conversation {
            caller,
            active: entry.to_string(),
            history: Vec::new(),
            transcript: Vec::new(),
            trace,
            customer_id: None,
            turn: TurnId::GREETING,
            turn_history_start: 0,
            low_confidence_streak: 0,
            silence_streak: 0,
            human_offered: false,
            greeted: false,
            last_caller_text: String::new(),
            said: std::collections::HashSet::new(),
        }
    }

    /// The caller.
    pub fn caller(&self) -> &CallerContext {
        &self.caller
    }

    /// The agent currently talking.
    pub fn active_agent(&self) -> &str {
        &self.active
    }

    /// Agents in the order they became active (`human` last if escalated).
    pub fn agents_path(&self) -> Vec<String> {
        self.trace.path.clone()
    }

    /// What was said, by whom.
    pub fn transcript(&self) -> Vec<TranscriptEntry> {
        self.transcript.clone()
    }

    /// The model-facing history (without system prompts).
    pub fn history(&self) -> &[ChatMessage] {
        &self.history
    }

    /// `None` while the call is live.
    pub fn outcome(&self) -> Option<Outcome> {
        self.trace.outcome
    }

    /// The call trace.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// The call is over (escalated, ended, hung up): further turns do nothing.
    pub fn is_over(&self) -> bool {
        self.trace.outcome.is_some()
    }

    /// The caller hung up (keeps an earlier outcome).
    pub fn mark_hangup(&mut self) {
        if self.trace.outcome.is_none() {
            self.trace.outcome = Some(Outcome::Hangup);
        }
    }

    /// The id for the next caller turn when no call machine hands them out (`chat`,
    /// tests): one past the latest.
    pub fn next_turn_id(&self) -> TurnId {
        self.turn.next()
    }

    /// The latest turn's id.
    pub fn latest_turn(&self) -> TurnId {
        self.turn
    }

    /// Make `turn` the current turn (ids only grow; a stale one is logged and kept).
    pub(crate) fn begin_turn(&mut self, turn: TurnId) {
        if turn <= self.turn {
            tracing::warn!(%turn, latest = %self.turn, "turn id does not grow; using the next one");
            self.turn = self.turn.next();
        } else {
            self.turn = turn;
        }
    }

    /// Forget turn `turn`: the caller was still talking when it started, nothing of its
    /// reply was heard, and their words arrive again, merged, in the next turn.
    /// Handoffs it made stand (the new agent answers the merged words). Only the latest
    /// turn can be taken back; any other id is logged and ignored.
    pub fn retract_turn(&mut self, turn: TurnId) {
        if turn != self.turn {
            tracing::warn!(%turn, latest = %self.turn, "only the latest turn can be retracted");
            return;
        }
        self.transcript.retain(|e| e.turn != turn);
        self.history
            .truncate(self.turn_history_start.min(self.history.len()));
        self.trace.turns.retain(|t| t.turn != turn);
    }

    /// Barge-in: the caller heard only `heard_text` of the reply of turn `turn`.
    /// Truncates that reply in the transcript and trace to it and marks it interrupted;
    /// the model-facing history is truncated when `turn` is the latest turn (the call
    /// machine reports a cut reply before the next turn starts; an older turn's
    /// messages may since have been summarised away).
    pub fn record_heard(&mut self, turn: TurnId, heard_text: &str) {
        let heard = heard_text.split_whitespace().collect::<Vec<_>>().join(" ");
        // Transcript: agent lines of the current turn.
        let mut texts: Vec<&mut String> = Vec::new();
        let mut touched = false;
        for e in self
            .transcript
            .iter_mut()
            .filter(|e| e.turn == turn && e.speaker == "agent")
        {
            e.interrupted = true;
            touched = true;
            texts.push(&mut e.text);
        }
        if !touched {
            return;
        }
        allot(&mut texts, &heard);
        self.transcript
            .retain(|e| !(e.turn == turn && e.speaker == "agent" && e.text.is_empty()));
        if let Some(t) = self.trace.turns.iter_mut().rev().find(|t| t.turn == turn) {
            t.interrupted = true;
        }
        if turn != self.turn {
            return;
        }
        // History: assistant contents of the current turn.
        let start = self.turn_history_start.min(self.history.len());
        let mut contents: Vec<&mut String> = Vec::new();
        for m in &mut self.history[start..] {
            if let ChatMessage::Assistant {
                content: Some(c), ..
            } = m
            {
                if !c.is_empty() {
                    contents.push(c);
                }
            }
        }
        allot(&mut contents, &heard);
        let mut i = start;
        while i < self.history.len() {
            let empty = match &mut self.history[i] {
                ChatMessage::Assistant {
                    content,
                    tool_calls,
                } => {
                    if content.as_deref() == Some("") {
                        *content = None;
                    }
                    content.is_none() && tool_calls.is_empty()
                }
                _ => false,
            };
            if empty {
                self.history.remove(i);
            } else {
                i += 1;
            }
        }
    }

    /// Remember the substantive sentences said (see [`crate::agents::step::repeat_key`]).
    pub(crate) fn remember_said(&mut self, sentences: &[String]) {
        self.said.extend(
            sentences
                .iter()
                .filter_map(|s| crate::agents::step::repeat_key(s)),
        );
    }

    pub(crate) fn push_caller(&mut self, text: &str) {
        self.transcript.push(TranscriptEntry {
            speaker: "caller".into(),
            agent: Some(self.active.clone()),
            text: text.to_string(),
            interrupted: false,
            turn: self.turn,
        });
    }

    /// Append spoken agent text to the transcript (merging lines of one agent in one turn).
    pub(crate) fn push_agent_text(&mut self, agent: &str, text: &str) {
        if text.is_empty() {
            return;
        }
        if let Some(last) = self.transcript.last_mut() {
            if last.speaker == "agent"
                && last.turn == self.turn
                && last.agent.as_deref() == Some(agent)
            {
                last.text.push(' ');
                last.text.push_str(text);
                return;
            }
        }
        self.transcript.push(TranscriptEntry {
            speaker: "agent".into(),
            agent: Some(agent.to_string()),
            text: text.to_string(),
            interrupted: false,
            turn: self.turn,
        });
    }
}

/// Keep the first `heard.len()` characters across `parts` (joined by single spaces),
/// using the heard text itself for the part where it ends; later parts become empty.
fn allot(parts: &mut [&mut String], heard: &str) {
    let heard_chars: Vec<char> = heard.chars().collect();
    let mut pos = 0usize;
    for part in parts.iter_mut() {
        let len = part.chars().count();
        if pos >= heard_chars.len() {
            part.clear();
            continue;
        }
        let end = (pos + len).min(heard_chars.len());
        let piece: String = heard_chars[pos..end].iter().collect();
        **part = piece.trim().to_string();
        pos = end;
        // Skip the joining space.
        if heard_chars.get(pos) == Some(&' ') {
            pos += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allot_splits_heard_text_across_parts() {
        let mut a = "Hello there.".to_string();
        let mut b = "I can see two charges.".to_string();
        let mut c = "Shall I refund one?".to_string();
        {
            let mut parts = vec![&mut a, &mut b, &mut c];
            allot(&mut parts, "Hello there. I can see");
        }
        assert_eq!(
            (a.as_str(), b.as_str(), c.as_str()),
            ("Hello there.", "I can see", "")
        );
    }

    #[test]
    fn caller_number_falls_back_to_params() {
        let mut c = CallerContext {
            call_id: "CA1".into(),
            ..Default::default()
        };
        assert_eq!(c.caller_number(), None);
        c.params.insert("From".into(), "+15551230001".into());
        assert_eq!(c.caller_number().as_deref(), Some("+15551230001"));
    }
}
