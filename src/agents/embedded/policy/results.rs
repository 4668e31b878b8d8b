//! Speaking about a tool result: the intent that called the tool (when several share
//! it, the one closest to the caller's words) answers with its reply templates.

use serde_json::Value;

use super::*;
use crate::agents::embedded::embedder::Embedder;
use crate::agents::embedded::intents::normalise;
use crate::agents::embedded::spec::IntentSpec;
use crate::agents::embedded::templates::lookup;
use crate::agents::model::ModelError;

/// Tools whose result nothing in a call changes: asked again with the same arguments
/// ("is it only my house or the whole area?" after the status check), the result in
/// hand answers.
/// (An account's charges and invoices stay as they were until a confirmed step — a
/// refund, a plan change — is taken after the earlier call.)
const STABLE_RESULTS: &[&str] = &[
    "check_service_status",
    "find_duplicate_charges",
    "list_invoices",
];

/// The result of an earlier successful call of `tool` with these `arguments` in the
/// call, when the tool's answer cannot have changed since.
pub(super) fn known_result(t: &Turn, tool: &str, arguments: &Value) -> Option<Value> {
    // The calling line's own account (no number given): the caller-identity note
    // already says what a lookup would.
    if tool == "lookup_customer" && arguments.as_object().is_some_and(|a| a.is_empty()) {
        if let Some(known) = super::identity::customer_of_calling_line(&t.req.messages) {
            return Some(known);
        }
    }
    if !STABLE_RESULTS.contains(&tool) {
        return None;
    }
    let msgs = &t.req.messages;
    let confirmed_after = |i: usize| super::history::confirmed_step(&msgs[i..]);
    msgs.iter().enumerate().rev().find_map(|(i, m)| match m {
        ChatMessage::Tool {
            tool_call_id,
            content,
        } if !is_error(content) => {
            let (name, args) = find_call(msgs, tool_call_id)?;
            let args: Value = serde_json::from_str(&args).ok()?;
            (name == tool && &args == arguments && !confirmed_after(i))
                .then(|| parse_result(content))
        }
        _ => None,
    })
}

/// A reply from the billing record said before word for word ("and the charge from
/// last month?" after we told it): confirmed in other words, its own closing question
/// kept (an offer stays open), never the same reply again.
pub(super) fn record_answer_again(messages: &[ChatMessage], text: String) -> String {
    let said = super::history::said_within(messages, &text);
    if !said || text.trim().is_empty() {
        return text;
    }
    let question = super::offer_questions::question_in(&text)
        .filter(|q| !text.trim().starts_with(q))
        .map(str::to_string);
    let confirmed = as_said_before(messages, text);
    match question {
        Some(q) => confirmed.replace("Is there anything else?", &q),
        None => confirmed,
    }
}

/// Opening words of our replies that are lowered after "Yes, as I said,".
const COMMON_OPENINGS: &[&str] = &[
    "The", "Your", "It", "It's", "Its", "There", "There's", "That", "That's", "This", "We",
    "We've", "We'll", "You", "You're", "You'll", "A", "An", "Our", "Yes", "No", "Done", "All",
    "Sure", "Okay", "Since", "Today", "Tonight",
];

/// An answer from a result already in hand that we gave before ("tonight from one to
/// three, yes?"): confirmed in other words, its opening sentence only, never the same
/// reply again.
pub(super) fn as_said_before(messages: &[ChatMessage], text: String) -> String {
    let opening = text
        .split_inclusive(". ")
        .next()
        .unwrap_or(&text)
        .trim()
        .to_string();
    let said = super::history::said_within(messages, &opening);
    if !said {
        return text;
    }
    // ("I've checked…" keeps its capital I, and "Pro is…" its name; only a common
    // opening word is lowered.)
    let first = opening.split_whitespace().next().unwrap_or("");
    let keeps_capital = !COMMON_OPENINGS.contains(&first.trim_end_matches(','));
    let mut chars = opening.chars();
    let lowered = chars
        .next()
        .map(|c| {
            let c = if keeps_capital {
                c.to_string()
            } else {
                c.to_lowercase().collect()
            };
            c + chars.as_str()
        })
        .unwrap_or_default();
    let lowered = lowered.trim_end_matches('.');
    format!("Yes, as I said, {lowered}. Is there anything else?")
}

impl Policy {
    /// The intent of this agent whose tool produced a result (when several intents
    /// share the tool, the one closest to the caller's words).
    pub(super) fn intent_for_result<'a>(
        &self,
        embedder: &Embedder,
        t: &Turn<'a>,
        tool: &str,
    ) -> Result<Option<&'a IntentSpec>, ModelError> {
        let spec = t.spec;
        let candidates: Vec<usize> = (0..spec.intents.len())
            .filter(|&i| spec.intents[i].tool.as_deref() == Some(tool))
            .collect();
        // A turn holding several requests: the one this call served (by its place).
        let args = last_call_of(&t.req.messages, tool)
            .unwrap_or_default()
            .to_lowercase();
        // (The request naming the call's place first; one naming none after: "my
        // internet's slow… my mom's in Austin, is hers going to hold up?")
        let requests = self.requests(embedder, t.user_text)?;
        let ours =
            |r: &&super::requests::Request| r.agent == t.req.agent && candidates.contains(&r.index);
        let from_request = requests
            .iter()
            .filter(ours)
            .find(|r| {
                r.place
                    .as_ref()
                    .is_some_and(|p| args.contains(&format!("\"{}\"", p.to_lowercase())))
            })
            .or_else(|| requests.iter().filter(ours).find(|r| r.place.is_none()))
            .map(|r| r.index);
        let chosen = match candidates.as_slice() {
            [] => None,
            [only] => Some(*only),
            _ if from_request.is_some() => from_request,
            _ => {
                // Ranked as routing ranks (cues, `needs_any`, `unless_any` apply), so
                // the intent that called the tool answers.
                let ranked = self.rank_turn(embedder, t.user_text)?;
                let pick = |ranked: Vec<Scored>| {
                    ranked
                        .into_iter()
                        .find(|s| {
                            s.intent.agent == t.req.agent && candidates.contains(&s.intent.index)
                        })
                        .map(|s| s.intent.index)
                };
                match pick(ranked) {
                    Some(i) => Some(i),
                    None => {
                        let e = embedder
                            .embed(&normalise(t.user_text))
                            .map_err(|e| ModelError::Other(e.to_string()))?;
                        pick(self.index.rank(&e))
                    }
                }
            }
        };
        Ok(chosen.map(|i| &spec.intents[i]))
    }

    /// Speaks about a tool result with the reply templates of the intent that called it.
    pub(super) fn answer_result(
        &self,
        t: &Turn,
        intent: Option<&IntentSpec>,
        tool: &str,
        result: &Value,
    ) -> String {
        let spec = t.spec;
        // A confirmed step's replies first; when the same tool is both the offer and
        // the confirmed step (change_plan), the offer's reply comes from the intent.
        let confirmed = spec.intents.iter().find_map(|i| {
            i.confirm
                .as_ref()
                .filter(|c| c.tool == tool)
                .and_then(|c| choose_reply(&c.replies, result))
        });
        if let Some(text) = confirmed {
            return text;
        }
        // ("Why is it almost seventy dollars?": the bill's charges from the record.)
        if intent.is_some_and(|i| i.breakdown) {
            if let Some(text) = super::bill_breakdown::breakdown(t, result) {
                return text;
            }
        }
        if let Some(text) = intent.and_then(|i| choose_reply(&i.replies, result)) {
            return text;
        }
        let generic = if lookup(result, "error").is_some() {
            &spec.tool_error
        } else {
            &spec.fallback
        };
        generic.clone().unwrap_or_else(|| FALLBACK.into())
    }
}
