//! Where a tool argument comes from (`$text`, `$details`, `$digits`, `$caller`, `$phone`,
//! `$enum`, `$result.path`): the caller's words, the call, or a tool result.

use serde_json::{json, Value};

use super::Turn;
use crate::agents::embedded::slots;
use crate::agents::embedded::templates::lookup;
use crate::agents::model::{ChatMessage, ToolSpec};

pub(super) type Synonyms = std::collections::BTreeMap<String, Vec<String>>;

/// Resolves a `$...` argument source.
pub(super) fn resolve(
    src: &str,
    key: &str,
    tool: &str,
    t: &Turn,
    callers: &[&str],
    result: Option<&Value>,
    synonyms: &Synonyms,
) -> Option<Value> {
    match src {
        "$text" => Some(json!(t.user_text)),
        // The caller's answer to one of our questions, with the words that led to it:
        // unresolved (so the intent asks) until the caller has answered.
        "$details" => {
            let asked = last_agent_line(&t.req.messages[..t.user_idx])?;
            t.spec
                .intents
                .iter()
                .any(|i| i.ask.as_deref() == Some(asked))
                .then(|| {
                    json!(callers
                        .iter()
                        .take(2)
                        .rev()
                        .copied()
                        .collect::<Vec<_>>()
                        .join(" "))
                })
        }
        "$digits" => callers
            .iter()
            .find_map(|c| slots::digits(c))
            .map(Value::String),
        "$caller" => caller_phone(&t.req.messages).map(Value::String),
        "$phone" => callers
            .iter()
            .find_map(|c| slots::phone(c))
            .map(Value::String),
        "$enum" => {
            let options = enum_options(&t.req.tools, tool, key);
            callers
                .iter()
                .find_map(|c| slots::choose(c, &options, synonyms))
                .map(|s| json!(s))
        }
        other => {
            let path = other.strip_prefix("$result.")?;
            lookup(result?, path).cloned()
        }
    }
}

/// The caller's number as the runtime states it in a system message.
pub(super) fn caller_phone(messages: &[ChatMessage]) -> Option<String> {
    messages.iter().find_map(|m| match m {
        ChatMessage::System { content } => slots::phone(content),
        _ => None,
    })
}

fn enum_options(tools: &[ToolSpec], tool: &str, key: &str) -> Vec<String> {
    tools
        .iter()
        .find(|t| t.name == tool)
        .and_then(|t| t.parameters.pointer(&format!("/properties/{key}/enum")))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// What the agent last said aloud (a reply without tool calls).
fn last_agent_line(messages: &[ChatMessage]) -> Option<&str> {
    messages.iter().rev().find_map(|m| match m {
        ChatMessage::Assistant {
            content: Some(c),
            tool_calls,
        } if tool_calls.is_empty() => Some(c.as_str()),
        _ => None,
    })
}
