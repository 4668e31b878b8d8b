//! Reading the conversation: what we last said or asked, what the caller said, tool
//! calls and their results, whether the call was just handed to this agent.

use serde_json::Value;

use crate::agents::confirm;
use crate::agents::embedded::templates::lookup;
use crate::agents::model::{ChatMessage, ToolSpec};

/// A reply with its closing "Anything else?" dropped; `None` when the reply ends
/// with a question of its own ("…Shall I go ahead?").
pub(super) fn without_anything_else(text: &str) -> Option<String> {
    let trimmed = text.trim_end();
    if !trimmed.ends_with('?') {
        return Some(trimmed.to_string());
    }
    let body = &trimmed[..trimmed.len() - 1];
    let start = body.rfind(['.', '!', '?']).map_or(0, |i| i + 1);
    let question = trimmed[start..].to_lowercase();
    question
        .contains("anything else")
        .then(|| trimmed[..start].trim_end().to_string())
}

/// The answer takes up a content word of the question ("which endpoint…?" "the
/// payments endpoint"): it answers, whatever else its words resemble.
pub(super) fn echoes(question: &str, answer: &str) -> bool {
    let asked: Vec<String> = confirm::words(question)
        .into_iter()
        .filter(|w| w.len() >= 5)
        .collect();
    confirm::words(answer).iter().any(|w| asked.contains(w))
}

/// The conversation was handed to this agent after the last thing said: a handoff
/// note follows the last non-system message.
pub(super) fn handed_over(messages: &[ChatMessage]) -> bool {
    messages
        .iter()
        .rev()
        .take_while(|m| matches!(m, ChatMessage::System { .. }))
        .any(|m| matches!(m, ChatMessage::System { content } if content.starts_with("Handoff note:")))
}

/// What the caller said, newest first.
pub(super) fn caller_lines(messages: &[ChatMessage]) -> Vec<&str> {
    messages
        .iter()
        .rev()
        .filter_map(|m| match m {
            ChatMessage::User { content } => Some(content.as_str()),
            _ => None,
        })
        .collect()
}

/// Whether `messages` hold a confirmed step (a call with `"confirmed": true`: a
/// refund, a plan change), which changes the account.
pub(super) fn confirmed_step(messages: &[ChatMessage]) -> bool {
    messages.iter().any(|m| match m {
        ChatMessage::Assistant { tool_calls, .. } => tool_calls.iter().any(|c| {
            serde_json::from_str::<Value>(&c.arguments)
                .is_ok_and(|a| a.get("confirmed") == Some(&Value::Bool(true)))
        }),
        _ => false,
    })
}

/// Everything we said aloud in the call so far, one line after another.
pub(super) fn spoken_so_far(messages: &[ChatMessage]) -> String {
    messages
        .iter()
        .filter_map(|m| match m {
            ChatMessage::Assistant {
                content: Some(c), ..
            } => Some(c.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// What we last said aloud (a reply without tool calls), trimmed. The runtime's
/// prompts on a silent or unclear line ("Are you still there?") ask nothing of their
/// own: they are looked past, so the question asked before them stays the open one.
pub(super) fn last_spoken(messages: &[ChatMessage]) -> Option<&str> {
    messages.iter().rev().find_map(|m| match m {
        ChatMessage::Assistant {
            content: Some(c),
            tool_calls,
        } if tool_calls.is_empty() && !is_runtime_prompt(c.trim()) => Some(c.trim()),
        _ => None,
    })
}

/// A line the runtime says on its own on a silent or unclear line.
pub(super) fn is_runtime_prompt(text: &str) -> bool {
    crate::agents::caller_inputs::REPROMPTS.contains(&text)
        || crate::agents::caller_inputs::LOW_CONFIDENCE_LINES.contains(&text)
}

/// The question we last asked aloud, if our last line ended with one.
pub(super) fn last_question(messages: &[ChatMessage]) -> Option<&str> {
    last_spoken(messages).filter(|c| c.ends_with('?'))
}

pub(super) fn is_error(content: &str) -> bool {
    lookup(&parse_result(content), "error").is_some()
}

pub(super) fn parse_result(content: &str) -> Value {
    serde_json::from_str(content).unwrap_or_else(|_| Value::String(content.to_string()))
}

/// The (name, arguments) of the assistant tool call with this id.
pub(super) fn find_call(messages: &[ChatMessage], id: &str) -> Option<(String, String)> {
    messages.iter().rev().find_map(|m| match m {
        ChatMessage::Assistant { tool_calls, .. } => tool_calls
            .iter()
            .find(|c| c.id == id)
            .map(|c| (c.name.clone(), c.arguments.clone())),
        _ => None,
    })
}

/// The tool results in `messages`, newest first, each with its call's name and
/// arguments: `(name, arguments, content)`.
pub(super) fn results_newest_first(
    messages: &[ChatMessage],
) -> impl Iterator<Item = (String, String, &str)> {
    messages.iter().rev().filter_map(|m| match m {
        ChatMessage::Tool {
            tool_call_id,
            content,
        } => {
            let (name, args) = find_call(messages, tool_call_id)?;
            Some((name, args, content.as_str()))
        }
        _ => None,
    })
}

pub(super) fn has_tool(tools: &[ToolSpec], name: &str) -> bool {
    tools.iter().any(|t| t.name == name)
}

pub(super) fn transfer(target: &str) -> String {
    format!("transfer_to_{target}")
}

/// Whether we already said exactly `text` aloud in this call.
pub(super) fn said_before(messages: &[ChatMessage], text: &str) -> bool {
    messages
        .iter()
        .any(|m| matches!(m, ChatMessage::Assistant { content: Some(c), .. } if c.trim() == text))
}

/// Whether a line of ours in `messages` held `text` (said alone or with more; the
/// runtime drops a long sentence said before wherever it stood).
pub(super) fn said_within(messages: &[ChatMessage], text: &str) -> bool {
    messages.iter().any(
        |m| matches!(m, ChatMessage::Assistant { content: Some(c), .. } if c.contains(text.trim())),
    )
}

/// The sentences of `text`, each ending at a stop followed by a space or the end
/// ("Pro is $89.99 a month. Anything else?" has two; "$89.99" splits nothing).
pub(super) fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        let end = i + c.len_utf8();
        let at_break = text[end..].is_empty() || text[end..].starts_with(char::is_whitespace);
        if matches!(c, '.' | '!' | '?') && at_break {
            out.push(text[start..end].trim());
            start = end;
        }
    }
    if !text[start..].trim().is_empty() {
        out.push(text[start..].trim());
    }
    out
}

/// Whether `tool` was called in `messages`.
pub(super) fn called(messages: &[ChatMessage], tool: &str) -> bool {
    messages.iter().any(|m| match m {
        ChatMessage::Assistant { tool_calls, .. } => tool_calls.iter().any(|c| c.name == tool),
        _ => false,
    })
}

/// The arguments of the latest call of `tool` in `messages`.
pub(super) fn last_call_of(messages: &[ChatMessage], tool: &str) -> Option<String> {
    messages.iter().rev().find_map(|m| match m {
        ChatMessage::Assistant { tool_calls, .. } => tool_calls
            .iter()
            .rev()
            .find(|c| c.name == tool)
            .map(|c| c.arguments.clone()),
        _ => None,
    })
}

/// An account found by `lookup_customer` for a number given (a `phone` argument) in
/// `messages` — not one answered from the billing record itself.
pub(super) fn found_another_account(messages: &[ChatMessage]) -> bool {
    messages.iter().any(|m| {
        matches!(m, ChatMessage::Tool { tool_call_id, content }
            if !tool_call_id.starts_with(super::record::RECORD_CALL_ID)
                && find_call(messages, tool_call_id)
                    .is_some_and(|(n, args)| n == "lookup_customer" && args.contains("\"phone\""))
                && super::parse_result(content)["found"] == serde_json::json!(true))
    })
}

/// The messages since the caller's turn before the current one: what we did in reply
/// to it (`before` is the history up to, not including, the current caller turn).
pub(super) fn since_callers_last_turn(before: &[ChatMessage]) -> &[ChatMessage] {
    let at = before
        .iter()
        .rposition(|m| matches!(m, ChatMessage::User { .. }))
        .unwrap_or(0);
    &before[at..]
}
