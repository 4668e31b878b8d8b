//! The caller's reply to our open question: an offer made from a tool result (yes,
//! no, another option, a question about the offer itself, a refusal with a request of
//! its own) or a question for a missing value. Interjections and holds in between
//! are looked past, so a later "yes" still answers.

use serde_json::{json, Value};

use super::*;
use crate::agents::embedded::embedder::Embedder;
use crate::agents::embedded::spec::IntentSpec;
use crate::agents::model::ChatMessage;

/// Said before serving a request made together with a refusal.
pub(super) const LEFT_AS_IS: &str = "Okay, I'll leave that as it is.";

/// Said first when the caller checks the figures of the offer and they are right.
pub(super) const FIGURES_RIGHT: &str = "Yes, that's right.";

/// A check of our figures confirmed, then our open `question` again.
fn figures_right_then(question: &str) -> Decision {
    Decision::Say(format!("{FIGURES_RIGHT} {question}"))
}

/// Said when the caller asks about what is already on offer.
pub(super) const OFFER_STANDS: &str =
    "Yes, that's the one I found. Would you like me to go ahead with it?";

impl Policy {
    /// A question about the offer on the table that its result answers (when it takes
    /// effect, whether the new price replaces the old), then the offer's question.
    fn answer_about_offer(&self, t: &Turn, result: &Value) -> Option<Decision> {
        let answer = offer_questions::timing_answer(t.user_text, result)
            .or_else(|| offer_questions::price_answer(t.user_text, result))
            .or_else(|| offer_questions::destination_answer(t.user_text, result))
            .or_else(|| offer_questions::scope_answer(t.user_text, result))?;
        let before = &t.req.messages[..t.user_idx];
        let question = last_spoken(before).and_then(offer_questions::question_in)?;
        Some(Decision::Say(format!("{answer} {question}")))
    }

    /// Another option named while one is on offer ("…and the middle one?"): the
    /// intent runs again for it (a new quote). Neither the option on offer nor the
    /// one the caller has now (`from` in the result) counts.
    pub(super) fn other_option(
        &self,
        t: &Turn,
        intent: &IntentSpec,
        prev_args: &str,
        result: &Value,
    ) -> Option<Decision> {
        let tool = intent.tool.as_deref()?;
        let prev: Value = serde_json::from_str(prev_args).unwrap_or_default();
        let current = lookup(result, "from.name")
            .and_then(Value::as_str)
            .map(str::to_lowercase);
        let named_other = intent.args.iter().any(|(key, spec)| {
            if spec.as_str().map(|s| s.trim_end_matches('?')) != Some("$enum") {
                return false;
            }
            let options = args::enum_options(&t.req.tools, tool, key);
            // ("No, put me on the one below it instead" names a plan by its step.)
            super::options::stepped_option(t, key, &options, t.user_text)
                .or_else(|| slots::choose(t.user_text, &options, &intent.synonyms).cloned())
                .is_some_and(|o| {
                    prev.get(key).and_then(Value::as_str) != Some(o.as_str())
                        && current.as_deref() != Some(o.to_lowercase().as_str())
                })
        });
        named_other.then(|| self.act(t, intent, None))
    }

    /// A reply to the caller's answer to our last question (offer or missing value).
    /// Interjections ("hello? are you still there?", "sorry?", "hold on") answer
    /// nothing: the open question is kept (asked again, or waited for), and earlier
    /// interjections and our replies to them are looked past, so a later "yes" still
    /// answers the offer.
    pub(super) fn pending(&self, embedder: &Embedder, t: &Turn) -> Option<Decision> {
        let msgs = &t.req.messages;
        let before = past_interjections(&msgs[..t.user_idx], |c| self.is_retry(c));
        if let Some(kind) = confirm::interjection(t.user_text) {
            // "Hi, it's about my bill. Hang on, it's loud here.": the request goes to
            // its agent first, who then waits.
            let waits = matches!(kind, confirm::Interjection::Wait);
            let asked = before_hold(t.user_text).unwrap_or_default();
            let elsewhere = |text: &str| {
                self.route_turn(embedder, text).is_ok_and(|r| {
                    r.owner
                        .is_some_and(|o| o != t.req.agent && o != ANY && o != HUMAN)
                })
            };
            // (Only the call's first request: later, a hold mostly follows our advice —
            // "let me text him to do that. One moment.")
            let first_turn = caller_lines(&t.req.messages[..t.user_idx]).is_empty();
            if waits && first_turn && !asked.trim().is_empty() && elsewhere(&asked) {
                return None;
            }
            return Some(Decision::Say(reply_to_interjection(kind, &before)));
        }
        // "When did you say it'd be sorted?": they missed what we said; say it again.
        if confirm::asks_to_repeat(t.user_text) {
            let kind = confirm::Interjection::Repeat;
            return Some(Decision::Say(reply_to_interjection(kind, &before)));
        }
        // "It's under my husband's number, … zip … and send it by email": the account
        // is checked first, whatever the open question was.
        if self.gives_unverified_account(t) {
            return None;
        }
        let said = match before.first() {
            Some(ChatMessage::Assistant {
                content: Some(c),
                tool_calls,
            }) if tool_calls.is_empty() => c.as_str(),
            _ => return None,
        };
        // "There's thirty dollars between the middle one and the top one?" after the
        // prices: the figures checked, confirmed, and our question stands.
        if super::question_shapes::checks_figures_said(t.user_text, said)
            && !confirm::accepts(t.user_text)
            && !confirm::refuses(t.user_text)
            && !confirm::ends_with_farewell(t.user_text)
        {
            let question = offer_questions::question_in(said).unwrap_or("Anything else?");
            return Some(figures_right_then(question));
        }
        if let Some(d) = self.accepted(t, &before, said) {
            return Some(d);
        }
        // An offer made from a tool result, or from the billing record: "... shall I
        // go ahead?"
        let from_tool = match before.get(1) {
            Some(ChatMessage::Tool {
                tool_call_id,
                content,
            }) => {
                let (tool, prev_args) = find_call(msgs, tool_call_id)?;
                Some((tool, prev_args, parse_result(content), is_error(content)))
            }
            // The offer asked again after a side question: the result it was made from.
            _ => reasked_offer(&msgs[..t.user_idx], said).and_then(|(id, content)| {
                let (tool, prev_args) = find_call(msgs, id)?;
                Some((tool, prev_args, parse_result(content), is_error(content)))
            }),
        };
        let from_record = || {
            self.offer_from_record(t, said)
                .map(|(tool, args, result)| (tool, args, result, false))
        };
        // A result no offer is made from (a handoff that went through, an invoice
        // sent before the offer in the same line): the offer, if any, came from the
        // record.
        let offers = |tool: &str| {
            t.spec.intents.iter().any(|i| {
                i.confirm
                    .as_ref()
                    .is_some_and(|c| i.tool.as_deref() == Some(tool) || c.tool == tool)
            })
        };
        let offer = match from_tool {
            Some(o) if o.0.starts_with("transfer_to_") && o.3 => Some(o),
            Some(o) if !offers(&o.0) => from_record().or(Some(o)),
            Some(o) => Some(o),
            None => from_record(),
        };
        if let Some((tool, prev_args, result, failed)) = offer {
            // We offered a person after the runtime refused a handoff.
            if tool.starts_with("transfer_to_") && failed {
                if confirm::accepts(t.user_text) {
                    let reason = "the caller accepted the offer of a person".to_string();
                    return Some(self.handoff(t, HUMAN, "escalation", reason));
                }
                if confirm::refuses(t.user_text) {
                    return Some(
                        self.goodbye(t)
                            .unwrap_or_else(|| Decision::Say(declined_text(t.spec))),
                    );
                }
            }
            for intent in &t.spec.intents {
                let Some(confirm) = &intent.confirm else {
                    continue;
                };
                let offer = intent.tool.as_deref() == Some(tool.as_str())
                    && confirm
                        .when
                        .as_deref()
                        .is_none_or(|w| condition(w, &result));
                let retry = confirm.tool == tool && condition("status=needs_confirmation", &result);
                if !(offer || retry) {
                    continue;
                }
                // "Does the new price start now or on the next bill?": answered from
                // the result, then the offer's question again.
                // (A check of the figures said with a no or a goodbye is answered
                // by the goodbye below.)
                let checked = offer_questions::checks_figures(t.user_text, &result);
                let leaving =
                    confirm::refuses(t.user_text) || confirm::ends_with_farewell(t.user_text);
                if offer && !confirm::accepts(t.user_text) && !(checked && leaving) {
                    if let Some(d) = self.answer_about_offer(t, &result) {
                        return Some(d);
                    }
                }
                if offer && !confirm::is_clear_yes(t.user_text) {
                    if let Some(d) = self.other_option(t, intent, &prev_args, &result) {
                        return Some(d);
                    }
                }
                if confirm::accepts(t.user_text) {
                    let arguments = if retry {
                        let mut a: Value =
                            serde_json::from_str(&prev_args).unwrap_or_else(|_| json!({}));
                        a["confirmed"] = json!(true);
                        a
                    } else {
                        self.fill_args(
                            t,
                            &confirm.args,
                            &confirm.tool,
                            Some(&result),
                            &intent.synonyms,
                        )
                        .ok()?
                    };
                    // "…is twenty more than I'm paying now, yeah? Yes, do it.": the
                    // figure confirmed, then done.
                    return Some(Decision::Call {
                        say: checked.then(|| FIGURES_RIGHT.to_string()),
                        name: confirm.tool.clone(),
                        arguments,
                    });
                }
                if confirm::refuses(t.user_text) {
                    // "No, don't refund it. What I need is the March invoice": the
                    // refusal, then the request made with it.
                    if let Some(d) = self.also_asked(embedder, t, &intent.name) {
                        return Some(d);
                    }
                    let declined = self
                        .goodbye(t)
                        .unwrap_or_else(|| Decision::Say(declined_text(t.spec)));
                    return Some(serving::with_prefix(
                        checked.then_some(FIGURES_RIGHT),
                        declined,
                    ));
                }
                // "Eighty-nine ninety-nine, due the third of April? Okay, I'll sort it
                // out tonight. Goodbye.": the figure confirmed, and the goodbye.
                if checked
                    && confirm::ends_with_farewell(t.user_text)
                    && !confirm::makes_request(t.user_text)
                {
                    if let Some(d) = self.goodbye(t) {
                        return Some(serving::with_prefix(Some(FIGURES_RIGHT), d));
                    }
                }
                // "So that's fifty over what I pay now, right?" and nothing else: the
                // figure confirmed, and the offer's question again.
                if checked && offer {
                    if let Some(question) = offer_questions::question_in(said) {
                        return Some(figures_right_then(question));
                    }
                }
                // Asking about the very thing on offer ("so what about the double
                // charge?"): the offer stands; ask for the answer, don't look it up again.
                if self.routes_to(embedder, t.user_text, &t.req.agent, &intent.name) {
                    return Some(Decision::Say(OFFER_STANDS.into()));
                }
                // "Hold on, before I say yes: for that one, does somebody have to come
                // out?": a question about the offer, not a new matter for another
                // agent; nothing here answers it, and the offer stands.
                if offer
                    && t.user_text.contains('?')
                    && confirm::hesitates(t.user_text)
                    && self.routes_elsewhere(embedder, t)
                {
                    let question = super::side_question::last_sentences(said, 1);
                    return Some(Decision::Say(format!(
                        "{} {question}",
                        super::side_question::NOT_KNOWN
                    )));
                }
            }
        }
        // "Fine, yes, change me to the Basic" after a side question: the offer made
        // before it still stands.
        if let Some(d) = self.standing_offer(t) {
            return Some(d);
        }
        // A question for a missing value: "Which plan would you like?"
        let intent = t.spec.intents.iter().find(|i| i.asks(said))?;
        // "Before I pick, will that cut my internet off while it resets?": a question
        // about the step on the table, answered, then the question again (or, when the
        // turn also gives the value — "email, sorry. And how long is the link good
        // for?" — answered before the step).
        let answer = t
            .user_text
            .contains('?')
            .then(|| {
                intent.answers.iter().find(|a| {
                    let asked: Vec<&str> = a.asked.iter().map(String::as_str).collect();
                    confirm::says_any(t.user_text, &asked)
                })
            })
            .flatten();
        // (The turn's value, read once: it serves the step below as well.)
        let filled = intent
            .tool
            .as_deref()
            .map(|tool| self.fill_args(t, &intent.args, tool, None, &intent.synonyms));
        let gives_value = matches!(filled, Some(Ok(_)));
        if let (Some(answer), Some(open), false) = (answer, intent.open_question(said), gives_value)
        {
            // (Asked again in other words when it can be: the runtime leaves out a
            // sentence already said.)
            let again = intent
                .ask_again
                .as_ref()
                .filter(|q| !said_before(&t.req.messages[..t.user_idx], q));
            return Some(Decision::Say(format!(
                "{} {}",
                answer.text,
                again.unwrap_or(open)
            )));
        }
        // "Ah, so no discount. Never mind, I'll stay as I am. Goodbye.": nothing to fill.
        // A refusal with an option named after it ("not the cheapest, the middle one")
        // is the answer, unless the caller is leaving.
        let turn_words = confirm::words(t.user_text);
        // (A free answer — "slash v one slash usage, no, sorry, slash v one slash
        // invoices" — corrects itself; it refuses nothing.)
        let has_enum = intent
            .args
            .values()
            .any(|v| v.as_str().is_some_and(|s| s.starts_with("$enum")));
        // ("Not by text, that number is gone. Email, please." names email.)
        let names_option = intent.tool.as_deref().is_some_and(|tool| {
            intent.args.iter().any(|(key, spec)| {
                let options = args::enum_options(&t.req.tools, tool, key);
                spec.as_str().map(|s| s.trim_end_matches('?')) == Some("$enum")
                    && (slots::choose(t.user_text, &options, &intent.synonyms).is_some()
                        || crate::agents::embedded::choice::choose_stated(
                            t.user_text,
                            &options,
                            &intent.synonyms,
                        )
                        .is_some())
            })
        });
        // ("The January one. Not the latest…" answers which month's bill.)
        let names_option = names_option
            || (intent
                .ask_month
                .as_deref()
                .is_some_and(|q| said.trim_end().ends_with(q))
                && args::requested_month(t.user_text, &t.req.messages).is_some());
        if intent
            .unless_any
            .iter()
            .any(|n| super::focus::phrase_in(&turn_words, n))
            || (confirm::refuses(t.user_text)
                && (confirm::ends_with_farewell(t.user_text) || (has_enum && !names_option)))
        {
            // "No wait, it's the charge on my card": the caller turns to something
            // another agent serves.
            if !confirm::ends_with_farewell(t.user_text) && self.routes_elsewhere(embedder, t) {
                return None;
            }
            return Some(
                self.goodbye(t)
                    .unwrap_or_else(|| Decision::Say(declined_text(t.spec))),
            );
        }
        // A free answer (no option to name) that is a request for another agent ("so
        // bump us up to Plus then") is not the answer.
        let free = !has_enum;
        if free && !echoes(said, t.user_text) && self.routes_elsewhere(embedder, t) {
            return None;
        }
        // ("While I have you, I can't log in… send me a reset link by text": a new
        // matter for another agent; its "by text" answers nothing of ours.)
        // (Unless the words before it answer: "Then February will do. Email it,
        // please. Oh, and while I've got you, the website won't take my password.")
        // (Word-bounded: the sentences before the one that announces the new matter.)
        let sentences: Vec<&str> = t.user_text.split_inclusive(['.', '?', '!']).collect();
        let marker = sentences
            .iter()
            .position(|s| confirm::says_any(s, super::requests::ENUMERATION));
        if let Some(at) = marker {
            // (…and the words of that sentence before the marker: "Email as well, same
            // as the bill" answers "email". ASCII lower-casing keeps byte offsets.)
            let lower = sentences[at].to_ascii_lowercase();
            let cut = super::requests::ENUMERATION
                .iter()
                .filter_map(|e| lower.find(e))
                .min()
                .unwrap_or(0);
            let answered: String = sentences[..at].concat() + &sentences[at][..cut];
            let before_marker = Turn {
                user_text: &answered,
                ..*t
            };
            let answers_first = !answered.trim().is_empty()
                && intent.tool.as_deref().is_some_and(|tool| {
                    self.fill_args(&before_marker, &intent.args, tool, None, &intent.synonyms)
                        .is_ok()
                });
            if !answers_first && self.routes_elsewhere(embedder, t) {
                return None;
            }
        }
        filled?.ok().map(|_| {
            serving::with_prefix(answer.map(|a| a.text.as_str()), self.act(t, intent, None))
        })
    }
}

/// The tool result (call id, content) an earlier line of ours made an offer from, when
/// `said` asks that offer's question again (within the last few caller turns).
fn reasked_offer<'a>(messages: &'a [ChatMessage], said: &str) -> Option<(&'a str, &'a str)> {
    let question = super::side_question::last_sentences(said, 1);
    if !question.ends_with('?') {
        return None;
    }
    let mut turns = 0;
    for (i, m) in messages.iter().enumerate().rev() {
        match m {
            ChatMessage::User { .. } => {
                turns += 1;
                if turns > 3 {
                    return None;
                }
            }
            ChatMessage::Assistant {
                content: Some(c), ..
            } if i > 0 && c.trim_end().ends_with(question) => {
                if let ChatMessage::Tool {
                    tool_call_id,
                    content,
                } = &messages[i - 1]
                {
                    return Some((tool_call_id.as_str(), content.as_str()));
                }
            }
            _ => {}
        }
    }
    None
}

/// What the caller asked before a hold that ends the turn ("Hi, it's about my bill.
/// Hang on, it's loud here." → "Hi, it's about my bill."), if both are there.
pub(super) fn before_hold(text: &str) -> Option<String> {
    let sentences: Vec<&str> = text.split_inclusive(['.', '?', '!']).collect();
    let at = sentences
        .iter()
        .position(|s| matches!(confirm::interjection(s), Some(confirm::Interjection::Wait)))?;
    let asked: String = sentences[..at].concat();
    (!asked.trim().is_empty()).then(|| asked.trim().to_string())
}
