//! An offer that still stands after a side question: "Basic is $39.99… Shall I switch
//! you?" → "Will my overdue bill get cheaper too?" → (answered) → "Fine, yes, go ahead
//! and change me to the Basic." The yes comes a turn or two after the offer, so it is
//! not the answer to our last question; it takes up the offer when it says go ahead in
//! so many words (no question) and states the same option (`$enum` argument; offers
//! without options, such as a refund, do not stand), and no caller turn since the offer
//! turned it down and nothing has taken it up.

use serde_json::Value;

use super::*;
use crate::agents::model::ChatMessage;

/// How many caller turns back an offer may have been made.
const LOOKBACK_TURNS: usize = 3;

impl Policy {
    /// The confirmed step of an earlier offer the caller's yes names, if any.
    pub(super) fn standing_offer(&self, t: &Turn) -> Option<Decision> {
        // A go-ahead in so many words, not a question that happens to say yes
        // ("yes, does Plus include a modem?").
        let joined = confirm::spaced(t.user_text);
        let go_ahead = confirm::has_yes_phrase(t.user_text)
            || [
                " change ",
                " switch ",
                " put me ",
                " put us ",
                " move me ",
                " move us ",
                " do it ",
            ]
            .iter()
            .any(|v| joined.contains(v));
        if !confirm::accepts(t.user_text) || t.user_text.contains('?') || !go_ahead {
            return None;
        }
        let msgs = &t.req.messages[..t.user_idx];
        let mut turns = 0;
        for (i, m) in msgs.iter().enumerate().rev() {
            match m {
                ChatMessage::User { content } => {
                    // A refusal since the offer turned it down.
                    if confirm::refuses(content) {
                        return None;
                    }
                    turns += 1;
                    if turns > LOOKBACK_TURNS {
                        return None;
                    }
                }
                ChatMessage::Tool {
                    tool_call_id,
                    content,
                } => {
                    let (tool, args) = find_call(msgs, tool_call_id)?;
                    let result = parse_result(content);
                    if let Some(d) = self.offer_named(t, &msgs[i + 1..], &tool, &args, &result) {
                        return Some(d);
                    }
                    // The latest result that is an offer decides; an older one is gone.
                    if self.is_offer(&tool, &result) {
                        return None;
                    }
                }
                _ => {}
            }
        }
        None
    }

    /// True when `result` of `tool` is an offer one of this agent's intents makes.
    fn is_offer(&self, tool: &str, result: &Value) -> bool {
        self.brains.values().any(|b| {
            b.intents.iter().any(|i| {
                i.tool.as_deref() == Some(tool)
                    && i.confirm
                        .as_ref()
                        .is_some_and(|c| c.when.as_deref().is_none_or(|w| condition(w, result)))
            })
        })
    }

    /// The confirmed step of the offer `tool` made (`args`, `result`), when the
    /// caller's words name it and nothing after it (`since`) took it up.
    fn offer_named(
        &self,
        t: &Turn,
        since: &[ChatMessage],
        tool: &str,
        args: &str,
        result: &Value,
    ) -> Option<Decision> {
        let intent = t.spec.intents.iter().find(|i| {
            i.tool.as_deref() == Some(tool)
                && i.confirm
                    .as_ref()
                    .is_some_and(|c| c.when.as_deref().is_none_or(|w| condition(w, result)))
        })?;
        let confirm = intent.confirm.as_ref()?;
        let taken = since.iter().any(|m| {
            matches!(m, ChatMessage::Assistant { tool_calls, .. }
                if tool_calls.iter().any(|c| c.name == confirm.tool))
        });
        if taken {
            return None;
        }
        let prev: Value = serde_json::from_str(args).unwrap_or_default();
        let enums: Vec<&String> = intent
            .args
            .iter()
            .filter(|(_, v)| v.as_str().is_some_and(|s| s.starts_with("$enum")))
            .map(|(k, _)| k)
            .collect();
        // Only an offer among options (a plan) is named unmistakably; a yes about a
        // refund a turn later may be about another charge.
        let named = !enums.is_empty()
            && enums.iter().all(|key| {
                let options = args::enum_options(&t.req.tools, tool, key);
                slots::choose(t.user_text, &options, &intent.synonyms).is_some_and(|o| {
                    prev.get(key.as_str()).and_then(Value::as_str) == Some(o.as_str())
                })
            });
        if !named {
            return None;
        }
        let arguments = self
            .fill_args(
                t,
                &confirm.args,
                &confirm.tool,
                Some(result),
                &intent.synonyms,
            )
            .ok()?;
        Some(Decision::Call {
            say: None,
            name: confirm.tool.clone(),
            arguments,
        })
    }
}
