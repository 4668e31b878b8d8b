//! Answering from the caller's billing record. When billing takes a call, the runtime
//! injects the caller's record (plan, recent charges, duplicates, last invoices) as a
//! system note; an intent whose tool would only fetch what the note already holds
//! (`record = "duplicates"`) answers from it instead of calling the tool — as a model
//! reading its context would. The note is the account as the call found it: once a
//! confirmed step (a refund, a plan change) has changed the account, tools are asked.
//!
//! The answer goes through the same steps as a tool result (replies, follow-ups, the
//! next request of the turn), over a copy of the history that holds the call and the
//! record's facts as its result. The real history keeps only what was said, so an
//! offer made that way (the duplicate charge) is recognised on the next turn by
//! rendering it again from the record and finding it (or its question) in our line.

use serde_json::{json, Value};

use super::*;
use crate::agents::embedded::spec::IntentSpec;
use crate::agents::hooks::BILLING_RECORD_PREFIX;
use crate::agents::model::ToolCall;

/// The call id of a step answered from the record (never sent to a tool), numbered by
/// how deep in a chain of record answers it is.
pub(super) const RECORD_CALL_ID: &str = "billing_record";

/// The facts (`json:` line) of the latest billing record note that found an account,
/// unless another account was found by `lookup_customer` since (a caller acting for a
/// friend: the note is the calling line's, not the account the call is now about).
pub(super) fn record_facts(messages: &[ChatMessage]) -> Option<Value> {
    let at = messages.iter().rposition(|m| {
        matches!(m, ChatMessage::System { content } if content.starts_with(BILLING_RECORD_PREFIX))
    })?;
    let looked_up_since = super::history::found_another_account(&messages[at..]);
    if looked_up_since {
        return None;
    }
    let ChatMessage::System { content } = &messages[at] else {
        return None;
    };
    let facts: Value = serde_json::from_str(content.split_once("\njson: ")?.1).ok()?;
    (facts["found"] == json!(true)).then_some(facts)
}

/// True once a confirmed step (`"confirmed": true`: a refund, a plan change) was
/// called since the latest record note: it no longer shows the account as it is.
fn account_changed(messages: &[ChatMessage]) -> bool {
    let since = messages
        .iter()
        .rposition(|m| {
            matches!(m, ChatMessage::System { content } if content.starts_with(BILLING_RECORD_PREFIX))
        })
        .unwrap_or(0);
    super::history::confirmed_step(&messages[since..])
}

/// What `intent`'s tool would return, from the record: `{<key>: …, "found": true}`
/// (and `"count"` for a list), or `None` when the intent has no `record` key, there is
/// no record, the account changed, or the call asks for more items (`limit`) than the
/// record can list or for anything else (another account's phone and ZIP).
fn result_from_record(
    intent: &IntentSpec,
    messages: &[ChatMessage],
    arguments: &Value,
) -> Option<Value> {
    if account_changed(messages) {
        return None;
    }
    record_result(intent, messages, arguments)
}

/// What `intent`'s tool would have returned from the record, fresh or not.
fn record_result(
    intent: &IntentSpec,
    messages: &[ChatMessage],
    arguments: &Value,
) -> Option<Value> {
    let key = intent.record.as_deref()?;
    // A call about someone else's account (`lookup_customer` with a phone and ZIP) or
    // anything but how many is not what the record answers.
    let other_args = arguments
        .as_object()
        .is_some_and(|a| a.keys().any(|k| k != "limit"));
    if other_args {
        return None;
    }
    let facts = record_facts(messages)?;
    let value = facts.get(key)?;
    let Some(list) = value.as_array() else {
        return Some(json!({ key: value, "found": true }));
    };
    // The record lists the latest few (a shorter list is all there is): asking for
    // more than it can hold is a question for the tool.
    let wanted = arguments.get("limit").and_then(Value::as_u64);
    let holds_all = crate::agents::hooks::record_cap(key).is_none_or(|cap| list.len() < cap);
    if wanted.is_some_and(|n| n as usize > list.len()) && !holds_all {
        return None;
    }
    Some(json!({ key: list, "count": list.len(), "found": true }))
}

/// What `intent` said, or would say, about the record (its first reply that renders),
/// if it answers from the record and the record holds the answer — also once the
/// account has changed since (what was said then was said).
pub(super) fn reply_from_record(intent: &IntentSpec, messages: &[ChatMessage]) -> Option<String> {
    let result = record_result(intent, messages, &json!({}))?;
    choose_reply(&intent.replies, &result)
}

impl Policy {
    /// The decision for `req`; a tool call the billing record already answers is
    /// answered from it (at most a few in a row).
    pub(super) fn decide_with_record(
        &self,
        embedder: &Embedder,
        req: &ChatRequest,
        depth: usize,
    ) -> Result<Decision, ModelError> {
        let step = self.decide_step(embedder, req)?;
        let Decision::Call {
            say,
            name,
            arguments,
        } = &step
        else {
            return Ok(step);
        };
        let Some(spec) = self.brains.get(&req.agent) else {
            return Ok(step);
        };
        let result = spec
            .intents
            .iter()
            .filter(|i| i.tool.as_deref() == Some(name.as_str()))
            .find_map(|i| result_from_record(i, &req.messages, arguments));
        let Some(result) = result.filter(|_| depth < 3) else {
            return Ok(step);
        };
        tracing::debug!(agent = %req.agent, tool = %name, "answered from the billing record");
        let id = format!("{RECORD_CALL_ID}_{depth}");
        let mut answered = req.clone();
        answered.messages.push(ChatMessage::Assistant {
            content: None,
            tool_calls: vec![ToolCall {
                id: id.clone(),
                name: name.clone(),
                arguments: arguments.to_string(),
            }],
        });
        answered.messages.push(ChatMessage::Tool {
            tool_call_id: id,
            content: result.to_string(),
        });
        let next = self.decide_with_record(embedder, &answered, depth + 1)?;
        Ok(serving::with_prefix(say.as_deref(), next))
    }

    /// An offer we made from the record (no tool call in the history): the tool, its
    /// (empty) arguments and the record's result, when `said` holds what one of this
    /// agent's offering intents says about the record — whole, or its closing question
    /// alone (the runtime leaves out sentences already said in the call, so an offer
    /// made a second time may keep only its question).
    pub(super) fn offer_from_record(
        &self,
        t: &Turn,
        said: &str,
    ) -> Option<(String, String, Value)> {
        let before = &t.req.messages[..t.user_idx];
        t.spec.intents.iter().find_map(|intent| {
            let confirm = intent.confirm.as_ref()?;
            let tool = intent.tool.as_deref()?;
            let result = result_from_record(intent, before, &json!({}))?;
            if confirm
                .when
                .as_deref()
                .is_some_and(|w| !condition(w, &result))
            {
                return None;
            }
            let offer = choose_reply(&intent.replies, &result)?;
            let question =
                Some(super::side_question::last_sentences(&offer, 1)).filter(|q| q.ends_with('?'));
            let made = said.contains(offer.as_str())
                || question.is_some_and(|q| said.trim_end().ends_with(q));
            made.then(|| (tool.to_string(), "{}".to_string(), result))
        })
    }
}
