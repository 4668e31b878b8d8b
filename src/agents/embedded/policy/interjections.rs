//! Exchanges that answer nothing: interjections ("hello? are you still there?",
//! "sorry?", "hold on"), our re-prompts and requests to say it again. They keep the
//! question asked before them open, so a later "yes" still answers it.

use super::{Policy, FALLBACK};
use crate::agents::confirm;
use crate::agents::model::ChatMessage;

impl Policy {
    /// True if `text` asked the caller to say it again: a clarifying question, a
    /// fallback, or the runtime's low-confidence line.
    pub(super) fn is_retry(&self, text: &str) -> bool {
        text == FALLBACK
            || text == super::OFFER_STANDS
            || super::offer_questions::is_answer(text)
            || super::history::is_runtime_prompt(text)
            || self.is_clarification(text)
            || self
                .brains
                .values()
                .any(|b| b.fallback.as_deref() == Some(text))
    }
}

/// The messages before the caller's turn, newest first, without system notes and
/// without exchanges that answered nothing: a caller interjection and our reply to it,
/// or caller words we did not understand and our request to say them again
/// (`is_retry` on our reply), so the question asked before them is still open.
pub(super) fn past_interjections(
    messages: &[ChatMessage],
    is_retry: impl Fn(&str) -> bool,
) -> Vec<&ChatMessage> {
    let mut out: Vec<&ChatMessage> = Vec::new();
    // Our reply to the caller message met next (going back) asked them to repeat.
    let mut reply_was_retry = false;
    for m in messages
        .iter()
        .rev()
        .filter(|m| !matches!(m, ChatMessage::System { .. }))
    {
        match m {
            ChatMessage::Assistant {
                content: Some(c),
                tool_calls,
            } if tool_calls.is_empty()
                && (is_retry(c) || super::history::is_runtime_prompt(c.trim())) =>
            {
                reply_was_retry = true;
                continue;
            }
            ChatMessage::User { content } => {
                // "What did you ask me?" answers nothing either: our repeat of the
                // question is looked past with it.
                let interjection =
                    confirm::interjection(content).is_some() || confirm::asks_to_repeat(content);
                let answered_nothing = reply_was_retry || interjection;
                reply_was_retry = false;
                if answered_nothing {
                    // Drop our answer to an interjection (collected just before) too.
                    if interjection
                        && matches!(
                            out.last(),
                            Some(ChatMessage::Assistant { tool_calls, .. }) if tool_calls.is_empty()
                        )
                    {
                        out.pop();
                    }
                    continue;
                }
            }
            _ => reply_was_retry = false,
        }
        out.push(m);
    }
    out
}

/// What to say to an interjection, given what we said last (`before`, newest first).
pub(super) fn reply_to_interjection(
    kind: confirm::Interjection,
    before: &[&ChatMessage],
) -> String {
    let last = before.iter().find_map(|m| match m {
        ChatMessage::Assistant {
            content: Some(c),
            tool_calls,
        } if tool_calls.is_empty() && !c.trim().is_empty() => Some(c.trim()),
        ChatMessage::User { .. } => Some(""),
        _ => None,
    });
    let last = last.unwrap_or("");
    // The open question: the last sentence of what we said, if it asks something.
    let question = last
        .rsplit_terminator(['.', '!'])
        .next()
        .map(str::trim)
        .filter(|q| q.ends_with('?'));
    use confirm::Interjection::*;
    match (kind, question) {
        (StillThere, Some(q)) => format!("Yes, I'm still here. {q}"),
        (StillThere, None) => "Yes, I'm still here. How can I help?".into(),
        (Repeat, _) if !last.is_empty() => format!("Of course. {last}"),
        (Repeat, _) => "Sorry, how can I help you today?".into(),
        (Wait, _) => "Sure, take your time.".into(),
    }
}
