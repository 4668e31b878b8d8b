//! Follow-ups of an intent: a second tool chained to its first result (`then`: the
//! line is healthy, so look at the caller's plan) and the intent a "yes" to its
//! closing question asks for (`accept`: "…Would you like a faster plan?" → a plan
//! change, handed to the agent that owns it).

use serde_json::Value;

use super::{confirm, find_call, has_tool, transfer, Decision, Policy, Turn};
use crate::agents::embedded::spec::IntentSpec;
use crate::agents::embedded::templates::condition;
use crate::agents::model::ChatMessage;

impl Policy {
    /// The chained tool call for `intent`'s first result, when its `then` applies.
    pub(super) fn follow_up(
        &self,
        t: &Turn,
        intent: &IntentSpec,
        result: &Value,
    ) -> Option<Decision> {
        let then = intent.then.as_ref()?;
        if !then.when.as_deref().is_none_or(|w| condition(w, result))
            || !has_tool(&t.req.tools, &then.tool)
        {
            return None;
        }
        let arguments = self
            .fill_args(t, &then.args, &then.tool, Some(result), &intent.synonyms)
            .ok()?;
        Some(Decision::Call {
            say: None,
            name: then.tool.clone(),
            arguments,
        })
    }

    /// The reply to a chained tool's result: the `then.replies` of the intent whose
    /// own tool was called just before it in this turn.
    pub(super) fn follow_up_reply(&self, t: &Turn, tool: &str, result: &Value) -> Option<String> {
        let calls = calls_since(&t.req.messages[t.user_idx..]);
        let [.., first, last] = calls.as_slice() else {
            return None;
        };
        if last != tool {
            return None;
        }
        t.spec.intents.iter().find_map(|i| {
            let then = i.then.as_ref()?;
            (then.tool == tool && i.tool.as_deref() == Some(first.as_str()))
                .then(|| super::choose_reply(&then.replies, result))
                .flatten()
        })
    }

    /// The caller's yes or no to the closing question of an intent with `accept`:
    /// `said` is our last line, `before` the messages before the caller's turn
    /// (newest first, interjections looked past).
    pub(super) fn accepted(
        &self,
        t: &Turn,
        before: &[&ChatMessage],
        said: &str,
    ) -> Option<Decision> {
        // The tool whose result our last line spoke about, if any.
        let spoke_about = match before.get(1) {
            Some(ChatMessage::Tool { tool_call_id, .. }) => {
                find_call(&t.req.messages, tool_call_id).map(|(n, _)| n)
            }
            _ => None,
        };
        if !said.trim_end().ends_with('?') {
            return None;
        }
        let intent = t.spec.intents.iter().find(|i| {
            i.accept.is_some()
                && match (&i.then, &spoke_about) {
                    (Some(then), Some(tool)) => &then.tool == tool,
                    (None, None) => i.tool.is_none() && i.replies.iter().any(|r| r.text() == said),
                    _ => false,
                }
        })?;
        // "Okay, I'll think about it. Thanks, bye.": no decision, the caller is leaving.
        if confirm::is_acknowledged_farewell(t.user_text) && !confirm::has_yes_phrase(t.user_text) {
            if let Some(d) = self.goodbye(t) {
                return Some(d);
            }
        }
        if confirm::is_negative(t.user_text) {
            return Some(
                self.goodbye(t)
                    .unwrap_or_else(|| Decision::Say(super::declined_text(t.spec))),
            );
        }
        if !confirm::is_affirmative(t.user_text) {
            return None;
        }
        let name = intent.accept.as_deref()?;
        let (agent, target) = self.brains.iter().find_map(|(agent, b)| {
            b.intents
                .iter()
                .find(|i| i.name == name)
                .map(|i| (agent.as_str(), i))
        })?;
        let owner = target.route.as_deref().unwrap_or(agent);
        if owner == t.req.agent {
            return Some(self.act(t, target, None));
        }
        has_tool(&t.req.tools, &transfer(owner)).then(|| {
            let reason = format!("the caller accepted the offer: {name}, which {owner} owns");
            self.handoff(t, owner, "capability", reason)
        })
    }
}

/// Names of the tools called in `messages`, in order.
fn calls_since(messages: &[ChatMessage]) -> Vec<String> {
    messages
        .iter()
        .flat_map(|m| match m {
            ChatMessage::Assistant { tool_calls, .. } => {
                tool_calls.iter().map(|c| c.name.clone()).collect()
            }
            _ => Vec::new(),
        })
        .collect()
}
