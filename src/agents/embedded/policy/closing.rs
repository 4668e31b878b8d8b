//! Ending a call the caller has already said goodbye to: "no, that's everything,
//! bye" closes at once; "yes, refund it please, thanks, bye" reports the refund
//! and closes, without asking "anything else?".

use super::{has_tool, Decision, Policy, Turn, ANY, END_CALL};
use crate::agents::confirm;
use serde_json::Value;

use crate::agents::embedded::spec::IntentSpec;
use crate::agents::embedded::templates::condition;

impl Policy {
    /// When the caller's turn ends with a farewell ("no, that's everything, bye"): say
    /// goodbye and end the call, as the goodbye intent (`tool = "end_call"`) does.
    pub(super) fn goodbye(&self, t: &Turn) -> Option<Decision> {
        if !confirm::ends_with_farewell(t.user_text) || !has_tool(&t.req.tools, END_CALL) {
            return None;
        }
        let intent = self.goodbye_intent(t)?;
        Some(self.act(t, intent, None))
    }

    /// The goodbye intent: this agent's own, else a shared (`route = "any"`) one.
    fn goodbye_intent<'a>(&'a self, t: &Turn<'a>) -> Option<&'a IntentSpec> {
        let is_goodbye = |i: &&IntentSpec| i.tool.as_deref() == Some(END_CALL);
        t.spec.intents.iter().find(is_goodbye).or_else(|| {
            self.brains
                .values()
                .flat_map(|b| b.intents.iter())
                .find(|i| is_goodbye(i) && i.route.as_deref() == Some(ANY))
        })
    }

    /// The answer to a tool result, closing the call when the caller already said
    /// goodbye in the turn that asked for it ("yes, refund it please, thanks, bye"):
    /// the result is reported, a follow-up question dropped, and the call ended.
    /// A result that is itself an offer awaiting a yes never closes the call.
    pub(super) fn maybe_close(
        &self,
        t: &Turn,
        tool: &str,
        result: &Value,
        text: String,
    ) -> Decision {
        let offer = t.spec.intents.iter().any(|i| {
            i.tool.as_deref() == Some(tool)
                && i.confirm
                    .as_ref()
                    .is_some_and(|c| c.when.as_deref().is_none_or(|w| condition(w, result)))
        });
        let closing = (tool != END_CALL && !offer)
            .then(|| self.goodbye(t))
            .flatten();
        match closing {
            Some(Decision::Call {
                say,
                name,
                arguments,
            }) => {
                let report = drop_final_question(&text);
                let say = [report, say.unwrap_or_default()]
                    .iter()
                    .map(|s| s.trim())
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ");
                Decision::Call {
                    say: Some(say),
                    name,
                    arguments,
                }
            }
            _ => Decision::Say(text),
        }
    }
}

/// `text` without a final question ("… Anything else I can help with?").
fn drop_final_question(text: &str) -> String {
    let trimmed = text.trim_end();
    if !trimmed.ends_with('?') {
        return trimmed.to_string();
    }
    let body = &trimmed[..trimmed.len() - 1];
    match body.rfind(['.', '!', '?']) {
        Some(end) => trimmed[..=end].to_string(),
        None => String::new(),
    }
}
