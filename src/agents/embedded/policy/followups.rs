//! Follow-ups of an intent: a second tool chained to its first result (`then`: the
//! line is healthy, so look at the caller's plan), the intent a "yes" to its closing
//! question asks for (`accept`: "…Would you like a faster plan?" → a plan change,
//! handed to the agent that owns it), the same check in the area the caller corrects
//! to, and each channel named. The invoice list for a named month is `invoice_list.rs`.

use serde_json::{json, Value};

use super::options::option_in;
use super::{args, confirm, find_call, has_tool, parse_result, transfer, Decision, Policy, Turn};
use crate::agents::embedded::slots;
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
        // The caller's own plan is no help when the calling number matches no account
        // (a withheld number, a studio line): the first result stands on its own.
        if then.tool == "lookup_customer" && super::identity::not_on_file(&t.req.messages) {
            return None;
        }
        // The calling line's plan is known from the caller-identity note: answered
        // from it, no lookup.
        if then.tool == "lookup_customer" {
            if let Some(known) = super::identity::customer_of_calling_line(&t.req.messages) {
                return super::choose_reply(&then.replies, &known).map(Decision::Say);
            }
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
        // (The first tool's result is there too, as `first`: "There's also a known
        // problem in {first.region}…" beside the ticket it led to.)
        let first_result = super::history::results_newest_first(&t.req.messages[t.user_idx..])
            .find(|(name, _, _)| name == first)
            .map(|(_, _, content)| parse_result(content));
        let mut data = result.clone();
        if let (Some(object), Some(first_result)) = (data.as_object_mut(), first_result) {
            object.insert("first".into(), first_result);
        }
        // (Only the chain of an intent the turn can be: its required words said — a
        // ticket after a healthy check for a line that drops is no cut cable's.)
        let said = match t.req.messages.get(t.user_idx) {
            Some(ChatMessage::User { content }) => content.as_str(),
            _ => t.user_text,
        };
        let turn_words = crate::agents::confirm::words(said);
        let can_be = |i: &IntentSpec| {
            (i.needs_any.is_empty()
                || i.needs_any
                    .iter()
                    .any(|n| super::focus::phrase_in(&turn_words, n)))
                && !i
                    .unless_any
                    .iter()
                    .any(|n| super::focus::phrase_in(&turn_words, n))
        };
        t.spec.intents.iter().find_map(|i| {
            let then = i.then.as_ref()?;
            (then.tool == tool && i.tool.as_deref() == Some(first.as_str()) && can_be(i))
                .then(|| super::choose_reply(&then.replies, &data))
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
        // The tool whose result our last line spoke about, if any (a handoff is not
        // something spoken about).
        let spoke_about = match before.get(1) {
            Some(ChatMessage::Tool { tool_call_id, .. }) => {
                find_call(&t.req.messages, tool_call_id)
                    .map(|(n, _)| n)
                    .filter(|n| !n.starts_with("transfer_to_"))
            }
            _ => None,
        };
        if !said.trim_end().ends_with('?') {
            return None;
        }
        // The tools called before the caller's turn, handoffs aside: a chained step
        // spoke only when it followed its intent's own tool (a lookup made to verify
        // the caller is no healthy-line follow-up).
        let calls: Vec<String> = calls_since(&t.req.messages[..t.user_idx])
            .into_iter()
            .filter(|n| !n.starts_with("transfer_to_"))
            .collect();
        let chained = |first: &Option<String>, then: &str| match calls.as_slice() {
            [.., a, b] => b == then && first.as_deref() == Some(a.as_str()),
            _ => false,
        };
        let intent = t.spec.intents.iter().find(|i| {
            i.accept.is_some()
                && match (&i.then, &spoke_about) {
                    (Some(then), Some(tool)) => {
                        // (A lookup made to verify the caller after the intent's own
                        // call is no chained step: its line asks its own question.)
                        (&then.tool == tool
                            && chained(&i.tool, &then.tool)
                            && ends_with_question_of(&then.replies, said))
                            // Its chained reply given from what is known without the
                            // second call (the calling line's plan).
                            || (i.tool.as_deref() == Some(tool.as_str())
                                && ends_with_question_of(&then.replies, said))
                    }
                    // Its own tool's result, and the line was about it (a rate limit
                    // from the plan looked up: "…Would you like a bigger plan?").
                    // (Its own question, not one asked after a verification lookup.)
                    (None, Some(tool)) => {
                        i.tool.as_deref() == Some(tool.as_str())
                            && calls.last().is_some_and(|c| c == tool)
                            && asks_its_question(i, said)
                    }
                    (None, None) => {
                        (i.tool.is_none() && i.replies.iter().any(|r| r.text() == said))
                            // Its list narrowed to the one option asked about.
                            || (i.tool.is_none()
                                && narrowed_option(said).is_some_and(|o| {
                                    i.replies.iter().any(|r| option_in(r.text(), &o).is_some())
                                }))
                            // Answered from what was known without a call (the calling
                            // line's plan): its closing question was asked.
                            || (i.tool.is_some() && asks_its_question(i, said))
                    }
                    _ => false,
                }
        })?;
        // "Okay, I'll think about it. Thanks, bye.": no decision, the caller is leaving.
        // (Not "Then text it to her phone… bye": a request made with the goodbye is
        // served first.)
        if confirm::ends_with_farewell(t.user_text)
            && !confirm::is_clear_yes(t.user_text)
            && !confirm::makes_request(t.user_text)
        {
            if let Some(d) = self.goodbye(t) {
                return Some(d);
            }
        }
        // "Put me on the Pro. No, wait, hold on, not the top one. The middle one, the
        // Plus.": a "no" that corrects the option chosen is no refusal.
        // (The intent a yes leads to may be another agent's: technical's plan offer
        // leads to billing's change.)
        let corrected = intent
            .accept
            .as_deref()
            .and_then(|name| {
                self.brains
                    .values()
                    .find_map(|b| b.intents.iter().find(|i| i.name == name))
            })
            .and_then(|target| {
                self.named_option(t, target)
                    .map(|(option, _)| self.corrects_to_option(t, target, &option))
            })
            .unwrap_or(false);
        // "Then I want to talk to a real person about it. Not a machine, a person."
        // after our offer of a person: no refusal, whatever its "not".
        let wants_person = intent.accept.as_deref().is_some_and(|name| {
            self.brains.values().any(|b| {
                b.intents
                    .iter()
                    .any(|i| i.name == name && i.route.as_deref() == Some(super::HUMAN))
            })
        }) && confirm::asks_for_person(t.user_text);
        // "Fine, don't change anything, just email me the March bill there": the
        // offer turned down, and a request made instead — served as any request.
        if confirm::refuses(t.user_text)
            && !corrected
            && !wants_person
            && confirm::makes_request(t.user_text)
            && !confirm::ends_with_farewell(t.user_text)
        {
            return None;
        }
        if confirm::refuses(t.user_text) && !corrected && !wants_person {
            return Some(
                self.goodbye(t)
                    .unwrap_or_else(|| Decision::Say(super::declined_text(t.spec))),
            );
        }
        let name = intent.accept.as_deref()?;
        let (agent, target) = self.brains.iter().find_map(|(agent, b)| {
            b.intents
                .iter()
                .find(|i| i.name == name)
                .map(|i| (agent.as_str(), i))
        })?;
        // "…and the middle one?" after the prices: naming an option asks for it too.
        let named = self.named_option(t, target).map(|(o, _)| o);
        let names_option = named.is_some();
        if !confirm::accepts(t.user_text) && !names_option {
            return None;
        }
        // "So for now it's thirty-nine ninety-nine. Then text me the February bill":
        // an option echoed beside another request in so many words is no yes.
        let other_request = self
            .cued_intents(t.user_text)
            .iter()
            .any(|n| *n != name && *n != intent.name);
        if other_request && !confirm::is_clear_yes(t.user_text) {
            return None;
        }
        // "And the middle one, the five hundred?" from someone with no account here,
        // or "what about the gig one, just so I know?" (the target's own words for
        // asking only): a price question, not a plan change.
        let turn_words = confirm::words(t.user_text);
        let only_asking = target
            .unless_any
            .iter()
            .any(|n| super::focus::phrase_in(&turn_words, n));
        if names_option
            && !confirm::accepts(t.user_text)
            && t.user_text.contains('?')
            && (only_asking || super::identity::not_on_file(&t.req.messages))
        {
            let said_of = named.as_deref().and_then(|o| option_in(said, o))?;
            let current = super::plan_direction::current_plan(&t.req.messages);
            if current.as_ref().map(|c| &c.0) == named.as_ref() {
                return Some(Decision::Say(format!(
                    "{said_of}; that's the plan you're on now. Anything else I can help with?"
                )));
            }
            let against = current
                .map(|(_, _, monthly)| monthly)
                .filter(|_| target.args.contains_key("plan"))
                // (The list gives prices without a dollar sign; so does this.)
                .map(|now| format!(", instead of {} now", now.trim_start_matches('$')))
                .unwrap_or_default();
            return Some(Decision::Say(format!(
                "{said_of}{against}. Anything else I can help with?"
            )));
        }
        let owner = target.route.as_deref().unwrap_or(agent);
        if owner == t.req.agent {
            // "Go on then, put me on that one" after the one plan we priced: that plan.
            if let Some(option) = narrowed_option(said).filter(|_| !names_option) {
                let focus = Turn {
                    user_text: &option,
                    ..*t
                };
                return Some(self.act(&focus, target, None));
            }
            return Some(self.act(t, target, None));
        }
        has_tool(&t.req.tools, &transfer(owner)).then(|| {
            let reason = format!("{ACCEPTED} {name}, which {owner} owns");
            self.handoff(t, owner, "capability", reason)
        })
    }
}

impl Policy {
    /// "I had it wrong, it's Riverside, not Riverdale." after our "…it isn't one of the
    /// areas we serve. Is there another area I can check?": the same check, there.
    pub(super) fn another_area(&self, t: &Turn) -> Option<Decision> {
        let said = super::history::last_spoken(&t.req.messages[..t.user_idx])?;
        if !said.ends_with("Is there another area I can check?") {
            return None;
        }
        let place = slots::corrected_place(t.user_text)?;
        let before = &t.req.messages[..t.user_idx];
        let intent = t.spec.intents.iter().find(|i| {
            i.tool
                .as_deref()
                .is_some_and(|tool| super::history::called(before, tool))
                && i.replies
                    .iter()
                    .any(|r| r.text().ends_with("Is there another area I can check?"))
        })?;
        let tool = intent.tool.clone()?;
        let key = intent
            .args
            .iter()
            .find(|(_, v)| v.as_str().is_some_and(|s| s.starts_with("$place")))?
            .0
            .clone();
        Some(Decision::Call {
            say: None,
            name: tool,
            arguments: json!({ key: place }),
        })
    }
}

impl Policy {
    /// "Can you send the reset link both ways, by text and by email?": after the call
    /// on one channel, the same call on each other channel the turn named (`report`,
    /// the first result's reply, is said first).
    pub(super) fn every_channel_named(
        &self,
        t: &Turn,
        tool: &str,
        report: &str,
    ) -> Option<Decision> {
        if !crate::agents::confirm::says_any(t.user_text, &["both", "each", "and by", "as well as"])
        {
            return None;
        }
        let intent = t
            .spec
            .intents
            .iter()
            .find(|i| i.tool.as_deref() == Some(tool))?;
        let msgs = &t.req.messages;
        let last = super::history::last_call_of(&msgs[t.user_idx..], tool)?;
        let last: Value = serde_json::from_str(&last).ok()?;
        intent.args.iter().find_map(|(key, spec)| {
            if spec.as_str().map(|s| s.trim_end_matches('?')) != Some("$enum") {
                return None;
            }
            let options = args::enum_options(&t.req.tools, tool, key);
            let named: Vec<&String> = options
                .iter()
                .filter(|o| {
                    slots::choose(t.user_text, std::slice::from_ref(*o), &intent.synonyms).is_some()
                })
                .collect();
            if named.len() < 2 {
                return None;
            }
            // The channels already used since the turn.
            let used: Vec<String> = msgs[t.user_idx..]
                .iter()
                .filter_map(|m| match m {
                    ChatMessage::Assistant { tool_calls, .. } => Some(tool_calls),
                    _ => None,
                })
                .flatten()
                .filter(|c| c.name == tool)
                .filter_map(|c| {
                    let a: Value = serde_json::from_str(&c.arguments).ok()?;
                    a.get(key)?.as_str().map(str::to_string)
                })
                .collect();
            let next = named.into_iter().find(|o| !used.contains(o))?;
            let mut arguments = last.clone();
            arguments[key.as_str()] = json!(next);
            Some(Decision::Call {
                say: Some(report.to_string()),
                name: tool.to_string(),
                arguments,
            })
        })
    }
}

/// How a handoff reason names the intent the caller accepted (read back on arrival).
const ACCEPTED: &str = "the caller accepted the offer:";

impl Policy {
    /// Arriving because the caller accepted an offer made for this agent ("…Would you
    /// like a faster plan?" "Okay, yeah, put me on that."): do what was accepted. The
    /// handoff note carries the intent's name.
    pub(super) fn arrived_for(&self, t: &Turn) -> Option<Decision> {
        let note = t.req.messages[t.user_idx..]
            .iter()
            .rev()
            .find_map(|m| match m {
                ChatMessage::System { content } if content.starts_with("Handoff note:") => {
                    Some(content.as_str())
                }
                _ => None,
            })?;
        let rest = &note[note.find(ACCEPTED)? + ACCEPTED.len()..];
        let name = rest.trim_start().split([',', ')']).next()?.trim();
        let intent = t.spec.intents.iter().find(|i| i.name == name)?;
        Some(self.act(t, intent, None))
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

/// Whether `said` ends with the closing question of one of `intent`'s replies.
fn asks_its_question(intent: &IntentSpec, said: &str) -> bool {
    ends_with_question_of(&intent.replies, said)
}

/// Whether `said` ends with the closing question (no placeholders) of one of `replies`.
fn ends_with_question_of(replies: &[crate::agents::embedded::spec::Reply], said: &str) -> bool {
    replies
        .iter()
        .any(|r| super::side_question::asked_in(r, said).is_some())
}

/// The option our line priced alone and offered ("Plus is 59.99 with 500 megabits,
/// instead of 39.99 now. Would you like to switch to it?" → "plus").
fn narrowed_option(said: &str) -> Option<String> {
    said.trim_end()
        .ends_with(super::acting::SWITCH_TO_IT)
        .then(|| said.split_whitespace().next())
        .flatten()
        .map(str::to_lowercase)
}
