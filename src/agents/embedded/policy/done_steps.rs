//! Steps already done in this call, asked about again: a short question about one
//! ("And the bill?" right after it was sent) gets that step's `again` line, and a
//! request to have it logged ("log it", "leave a note for whoever handles it") right
//! after its ticket was opened is told it is logged, with its number.

use serde_json::Value;

use super::*;
use crate::agents::embedded::embedder::Embedder;
use crate::agents::model::{ChatMessage, ModelError};

impl Policy {
    /// A short question that asks nothing new ("And the bill?") when one of the
    /// intents it may mean (this agent's, among the best three) had its step done in
    /// this call: that intent's `again` line.
    pub(super) fn asks_about_step_done(
        &self,
        embedder: &Embedder,
        t: &Turn,
    ) -> Result<Option<Decision>, ModelError> {
        // (One short question, the rest of the turn asking nothing: "One until three,
        // so I'll be out cold anyway. And the bill?")
        let sentences = super::history::sentences(t.user_text);
        let questions: Vec<&&str> = sentences.iter().filter(|s| s.ends_with('?')).collect();
        let [question] = questions.as_slice() else {
            return Ok(None);
        };
        if confirm::words(question).len() > 6 || confirm::makes_request(t.user_text) {
            return Ok(None);
        }
        let ranked = self.rank_turn(embedder, question)?;
        Ok(ranked.iter().take(3).find_map(|s| {
            let intent = &self.brains[&s.intent.agent].intents[s.intent.index];
            let tool = intent.tool.as_deref()?;
            // (Only an intent the question is near: a tenth under the routing floor.)
            let near = s.score >= self.config.min_score - 0.1;
            (near && s.intent.owner == t.req.agent && done_before(t, tool))
                .then(|| intent.again.clone())
                .flatten()
                .map(Decision::Say)
        }))
    }
}

/// Asking to have it logged or looked into, in words that point back at what was
/// reported ("log it", "look into it"), right after its ticket was opened (since the
/// caller's turn before): said to be logged, with its number. A new problem, or
/// "another" one, is not this.
pub(super) fn logged_already(t: &Turn) -> Option<Decision> {
    const LOG_ASKS: &[&str] = &[
        "log it",
        "log this",
        "log that",
        "report it",
        "look into it",
        "looks into it",
        "looks into where",
        "look into where",
        "make a note",
        "note it",
        "write it up",
        "write it down",
        "raise it",
        "flag it",
        "leave a note",
        "a note for",
        "put it down",
        "put that down",
        "someone to look into",
        "somebody to look into",
    ];
    let ws = confirm::words(t.user_text);
    if !confirm::says_any(t.user_text, LOG_ASKS)
        || ws
            .iter()
            .any(|w| matches!(w.as_str(), "another" | "new" | "also" | "too"))
    {
        return None;
    }
    // (Its ticket opened since the caller's turn before this one: what "it" is.)
    let before = &t.req.messages[..t.user_idx];
    let since = before
        .iter()
        .rposition(|m| matches!(m, ChatMessage::User { .. }))
        .unwrap_or(0);
    let (_, _, content) = super::history::results_newest_first(&before[since..])
        .find(|(name, _, content)| name == "open_ticket" && !is_error(content))?;
    let result: Value = serde_json::from_str(content).ok()?;
    let id = result.get("ticket_id")?;
    let follow_up = result
        .get("follow_up")
        .and_then(Value::as_str)
        .unwrap_or("soon");
    Some(Decision::Say(format!(
        "Yes, that's logged as request {id}, and the team will follow up {follow_up}, as I said. Anything else?"
    )))
}

/// Whether `tool` was called in this call and did not fail.
pub(super) fn done_before(t: &Turn, tool: &str) -> bool {
    super::history::results_newest_first(&t.req.messages)
        .any(|(name, _, content)| name == tool && !is_error(content))
}

/// A question about the step we just took ("How long have I got before this one goes
/// stale?" right after a reset link was sent; "how long till it reaches the card?"
/// after a refund): the answer that step's intent gives to that question while it is
/// open (`answers`), else, for a question of time, what the result says of it (when
/// a refund arrives, how long a link lasts, when the team follows up). Only a
/// question, asking for nothing new, right after the step (since the caller's turn
/// before). The answer alone: the caller says what comes after it.
pub(super) fn about_step_just_done(t: &Turn) -> Option<String> {
    if !t.user_text.contains('?') || confirm::makes_request(t.user_text) {
        return None;
    }
    let before = &t.req.messages[..t.user_idx];
    let since = before
        .iter()
        .rposition(|m| matches!(m, ChatMessage::User { .. }))
        .unwrap_or(0);
    let (tool, _, content) = super::history::results_newest_first(&before[since..])
        .find(|(_, _, content)| !is_error(content))?;
    let answer = t
        .spec
        .intents
        .iter()
        .filter(|i| i.tool.as_deref() == Some(tool.as_str()))
        .flat_map(|i| &i.answers)
        .find(|a| {
            let asked: Vec<&str> = a.asked.iter().map(String::as_str).collect();
            confirm::says_any(t.user_text, &asked)
        });
    if let Some(answer) = answer {
        return Some(answer.text.clone());
    }
    const WHEN: &[&str] = &[
        "how long",
        "how soon",
        "when will",
        "when does",
        "when do",
        "till it",
        "until it",
        "when should",
    ];
    if !confirm::says_any(t.user_text, WHEN) {
        return None;
    }
    let result: Value = serde_json::from_str(&content).ok()?;
    let field = |k: &str| result.get(k).and_then(Value::as_str).map(str::to_string);
    if let Some(arrives) = field("arrives") {
        let to = field("to").unwrap_or_else(|| "you".into());
        // (Not our report's own words again: the repeat guard would drop them.)
        return Some(format!("The refund should reach {to} {arrives}."));
    }
    if let Some(valid) = field("expires_in") {
        return Some(format!("The link stays valid for {valid} after it's sent."));
    }
    field("follow_up").map(|f| format!("Someone from the team will be in touch {f}."))
}
