//! Answering from the caller's billing record. When billing takes a call, the runtime
//! injects the caller's record (plan, recent charges, duplicates, last invoices) as a
//! system note; an intent whose tool would only fetch what the note already holds
//! (`record = "duplicates"`) answers from it instead of calling the tool — as a model
//! reading its context would. The note is the account as the call found it: once a
//! confirmed step (a refund, a plan change) has changed the account, tools are asked.
//!
//! The answer goes through the same steps as a tool result (replies, follow-ups, the
//! next request of the turn), over a copy of the history that holds the call and the
//! record's facts as its result. An offer made that way (the duplicate charge) is
//! found again on the next turn by speaking it once more from the record.

use serde_json::{json, Value};

use super::*;
use crate::agents::embedded::spec::IntentSpec;
use crate::agents::hooks::BILLING_RECORD_PREFIX;
use crate::agents::model::ToolCall;

/// The call id of a step answered from the record (never sent to a tool).
pub(super) const RECORD_CALL_ID: &str = "billing_record";

/// The facts (`json:` line) of the latest billing record note that found an account.
pub(super) fn record_facts(messages: &[ChatMessage]) -> Option<Value> {
    messages.iter().rev().find_map(|m| {
        let ChatMessage::System { content } = m else {
            return None;
        };
        if !content.starts_with(BILLING_RECORD_PREFIX) {
            return None;
        }
        let facts: Value = serde_json::from_str(content.split_once("\njson: ")?.1).ok()?;
        (facts["found"] == json!(true)).then_some(facts)
    })
}

/// True once a confirmed step (`"confirmed": true`: a refund, a plan change) was
/// called in this call: the record no longer shows the account as it is.
fn account_changed(messages: &[ChatMessage]) -> bool {
    messages.iter().any(|m| match m {
        ChatMessage::Assistant { tool_calls, .. } => tool_calls.iter().any(|c| {
            serde_json::from_str::<Value>(&c.arguments)
                .is_ok_and(|a| a.get("confirmed") == Some(&json!(true)))
        }),
        _ => false,
    })
}

/// What `intent`'s tool would return, from the record: `{<key>: …, "found": true}`
/// (and `"count"` for a list),
/// or `None` when the intent has no `record` key, there is no record, the account
/// changed, or the call asks for more items (`limit`) than the record can list.
fn result_from_record(
    intent: &IntentSpec,
    messages: &[ChatMessage],
    arguments: &Value,
) -> Option<Value> {
    let key = intent.record.as_deref()?;
    if account_changed(messages) {
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
        let mut answered = req.clone();
        answered.messages.push(ChatMessage::Assistant {
            content: None,
            tool_calls: vec![ToolCall {
                id: RECORD_CALL_ID.into(),
                name: name.clone(),
                arguments: arguments.to_string(),
            }],
        });
        answered.messages.push(ChatMessage::Tool {
            tool_call_id: RECORD_CALL_ID.into(),
            content: result.to_string(),
        });
        let next = self.decide_with_record(embedder, &answered, depth + 1)?;
        Ok(requests::with_prefix(say.as_deref(), next))
    }

    /// An offer we made from the record (no tool call in the history): the tool, its
    /// (empty) arguments and the record's result, when `said` holds what one of this
    /// agent's offering intents says about the record.
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
            said.contains(offer.as_str())
                .then(|| (tool.to_string(), "{}".to_string(), result))
        })
    }
}
