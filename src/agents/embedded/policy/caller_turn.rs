//! New caller words (or the first turn after a handoff arrived): the open question
//! first, then a goodbye, a request for a person, identity, several requests in one
//! turn, and finally routing to an intent — handled here, handed to its owner,
//! clarified, or escalated.

use serde_json::Value;

use super::*;
use crate::agents::embedded::embedder::Embedder;
use crate::agents::embedded::spec::IntentSpec;
use crate::agents::model::{ChatMessage, ModelError};

/// Said when the caller will try our advice later.
const WILL_TRY_LINE: &str = "Sounds good. If it still happens after that, call us back and we'll open a ticket so it gets fixed. Is there anything else I can help with?";

/// Said when the caller reports the problem gone.
const FIXED_LINE: &str =
    "Great, I'm glad it's working again. Is there anything else I can help with?";

impl Policy {
    /// Handles new caller words (or the first turn after a handoff arrived).
    pub(super) fn caller_turn(
        &self,
        embedder: &Embedder,
        t: &Turn,
        arrival: bool,
    ) -> Result<Decision, ModelError> {
        self.caller_turn_on(embedder, t, arrival, true)
    }

    /// [`Policy::caller_turn`]; `look_behind`: an arrival on a turn that only gave the
    /// account's details may serve the request made before it.
    fn caller_turn_on(
        &self,
        embedder: &Embedder,
        t: &Turn,
        arrival: bool,
        look_behind: bool,
    ) -> Result<Decision, ModelError> {
        if !arrival {
            if let Some(d) = self.in_another_language(embedder, t) {
                return Ok(d);
            }
            if let Some(d) = self.another_area(t) {
                return Ok(d);
            }
            // "Yes, please, get me a person who can sort it.": a person asked for in so
            // many words, whatever our open question was.
            if confirm::asks_for_person(t.user_text) && has_tool(&t.req.tools, &transfer(HUMAN)) {
                let reason = "caller asked for a person".to_string();
                return Ok(self.handoff(t, HUMAN, "escalation", reason));
            }
            // "And how long till it reaches the card? …bye bye" right after the refund:
            // the answer, then the goodbye.
            if confirm::ends_with_farewell(t.user_text) {
                if let Some(answer) = super::done_steps::about_step_just_done(t) {
                    if let Some(d) = self.goodbye(t) {
                        return Ok(serving::with_prefix(Some(&answer), d));
                    }
                }
            }
            if let Some(d) = self.pending(embedder, t) {
                return self.then_separate_matter(embedder, t, d);
            }
            if let Some(d) = self.latest_bill_accepted(t) {
                return Ok(d);
            }
            // "Alright, I'll try that. Thanks, bye.": nothing asked, the caller is
            // leaving; never open something new for the words before the goodbye.
            // ("Just text me the bill, and that's all, thanks, bye" asks first.) After
            // our "anything else?", a goodbye that asks nothing closes whatever the
            // caller tells of their plans before it ("I'll try the number on the bill
            // first, and if that doesn't work… Cheers, good night.").
            // (Our line asked nothing — "…That would explain the slow speeds." — serves
            // as well.)
            let served = previous_line(&t.req.messages[..t.user_idx]).is_some_and(|l| {
                l.to_lowercase().contains("anything else") || !l.trim_end().ends_with('?')
            });
            // (A short question that only echoes what we said — "No double charge?" —
            // asks nothing new; nor does one checking the figures we gave: "So the
            // next bill comes in at fifty-nine ninety-nine then, instead of the
            // thirty-nine?")
            let mut questions: Vec<&str> = t
                .user_text
                .split_inclusive(['.', '?', '!'])
                .filter(|s| s.trim_end().ends_with('?'))
                .collect();
            // ("Only the two? Right, and they were both thirty-nine ninety-nine, yeah?":
            // a bare echo beside a check asks nothing of its own.)
            let echo = |q: &&str| {
                confirm::words(q).len() <= 3
                    && super::question_shapes::plain_check(q)
                    && slots::amounts(q).is_empty()
            };
            if questions.iter().any(|q| !echo(q)) {
                questions.retain(|q| !echo(q));
            }
            let figures_checked = !questions.is_empty() && {
                use super::question_shapes::{
                    last_line_with_numbers, months_agree, plans_agree, tag_question,
                };
                let spoken = spoken_so_far(&t.req.messages[..t.user_idx]);
                let numbers_line = last_line_with_numbers(&t.req.messages[..t.user_idx]);
                // ("And tonight it'll drop between one and three, yes?" checks the
                // hours we gave, with a tag.)
                questions.iter().all(|q| {
                    !confirm::makes_request(q)
                        && (slots::amounts_match(q, &spoken)
                            || (tag_question(q)
                                && numbers_line.is_some_and(|l| slots::numbers_match(q, l))))
                        // (The months it names are ones we named, whichever figures.)
                        && numbers_line.is_none_or(|l| months_agree(q, l))
                        && plans_agree(q, &spoken)
                })
            };
            let asks_new = !figures_checked
                && questions.iter().any(|q| {
                    confirm::words(q).len() > 12
                        || !previous_line(&t.req.messages[..t.user_idx])
                            .is_some_and(|l| super::history::echoes(l, q))
                });
            // (A check of our figures with a goodbye — "Eighty-nine ninety-nine, due the
            // third of April? Okay. Goodbye." — closes, even after our question.)
            let plain_goodbye = (served || figures_checked)
                && confirm::ends_with_farewell(t.user_text)
                && !asks_new;
            if (confirm::is_acknowledged_farewell(t.user_text) || plain_goodbye)
                && !confirm::makes_request(t.user_text)
            {
                if let Some(d) = self.goodbye(t) {
                    let right = figures_checked.then_some(super::pending::FIGURES_RIGHT);
                    return Ok(serving::with_prefix(right, d));
                }
            }
            // "Done. Yes, now it is fast.": after we checked or advised something, the
            // problem is gone; nothing to check, repair or advise again.
            let acted = t.req.messages[..t.user_idx].iter().any(|m| {
                matches!(m, ChatMessage::Assistant { tool_calls, .. }
                    if tool_calls.iter().any(|c| !c.name.starts_with("transfer_to_")))
            });
            if acted && confirm::reports_fixed(t.user_text) {
                let line = [FIXED_LINE]
                    .iter()
                    .chain(ANYTHING_ELSE)
                    .find(|l| !said_before(&t.req.messages, l));
                if let Some(line) = line {
                    return Ok(Decision::Say((*line).into()));
                }
            }
            // "It's back on, and the light is red again, exactly the same as before."
            // after our restart advice: the ticket it promised.
            if let Some(d) = self.problem_stands(t) {
                return Ok(d);
            }
            // "Okay, I'll do that tonight. And if it's still cooking, I call back,
            // right?" after our advice: nothing tried yet, nothing to repair now.
            let advised = previous_line(&t.req.messages[..t.user_idx])
                .is_some_and(|l| l.contains("If it still") || l.contains("If it's still"));
            if advised
                && confirm::will_try(t.user_text)
                && !said_before(&t.req.messages, WILL_TRY_LINE)
            {
                if confirm::ends_with_farewell(t.user_text) {
                    if let Some(d) = self.goodbye(t) {
                        return Ok(d);
                    }
                }
                return Ok(Decision::Say(WILL_TRY_LINE.into()));
            }
            // "I already looked in Settings, Webhooks; the address is right." after our
            // advice: it was tried, and the problem stands; it needs a ticket.
            let advice = previous_line(&t.req.messages[..t.user_idx]).filter(|l| {
                t.spec
                    .intents
                    .iter()
                    .any(|i| i.tool.is_none() && i.replies.iter().any(|r| r.text() == *l))
            });
            if let Some(d) = advice.and_then(|a| self.advice_already_followed(t, a)) {
                return Ok(d);
            }
            // "And that one's the bill dated January the twelfth, is it?": only a check
            // of what we said, asking nothing new — confirmed. (Not "why is it
            // eighty-nine ninety-nine?": a question word asks something.)
            let only_checks = figures_checked
                && !confirm::makes_request(t.user_text)
                && questions
                    .iter()
                    .all(|q| super::question_shapes::plain_check(q));
            if only_checks {
                let more = ANYTHING_ELSE
                    .iter()
                    .find(|l| !said_before(&t.req.messages, l))
                    .unwrap_or(&ANYTHING_ELSE[1]);
                let more = more.split_once(". ").map_or(*more, |(_, q)| q);
                return Ok(Decision::Say(format!(
                    "{} {more}",
                    super::pending::FIGURES_RIGHT
                )));
            }
            // "Can you log it so somebody looks into where it came from?" after the
            // request was opened: it is logged.
            if let Some(d) = super::done_steps::logged_already(t) {
                return self.then_separate_matter(embedder, t, d);
            }
            // "How long have I got before this one goes stale?" right after the link
            // was sent: answered as it would be before the step.
            // (With a goodbye after it: the answer, then the goodbye.)
            if let Some(answer) = super::done_steps::about_step_just_done(t) {
                if confirm::ends_with_farewell(t.user_text) {
                    if let Some(d) = self.goodbye(t) {
                        return Ok(serving::with_prefix(Some(&answer), d));
                    }
                }
                return Ok(Decision::Say(format!("{answer} Anything else?")));
            }
            // "Good to know, I'll leave the router alone then.": nothing to act on.
            // (A turn that also gives numbers — "makes sense, the phone is five five
            // five…" — answers something.)
            let gives_numbers =
                slots::zip(t.user_text).is_some() || slots::phone(t.user_text).is_some();
            if confirm::is_acknowledgement(t.user_text) && !gives_numbers {
                if let Some(line) = ANYTHING_ELSE
                    .iter()
                    .find(|l| !said_before(&t.req.messages, l))
                {
                    return Ok(Decision::Say((*line).into()));
                }
            }
        }
        // Handed over on "…it's about my bill. Hang on, it's loud here.": wait.
        if arrival
            && matches!(
                confirm::interjection(t.user_text),
                Some(confirm::Interjection::Wait)
            )
        {
            let before = interjections::past_interjections(&t.req.messages[..t.user_idx], |c| {
                self.is_retry(c)
            });
            return Ok(Decision::Say(reply_to_interjection(
                confirm::Interjection::Wait,
                &before,
            )));
        }
        // An explicit request for a person is never routed elsewhere.
        if confirm::asks_for_person(t.user_text) && has_tool(&t.req.tools, &transfer(HUMAN)) {
            let reason = "caller asked for a person".to_string();
            return Ok(self.handoff(t, HUMAN, "escalation", reason));
        }
        // "What does the middle one come to over a whole year?": the plan's price
        // times the months (no account needed for a plan named).
        if let Some(d) = self.price_over_period(t) {
            return Ok(d);
        }
        if let Some(d) = self.identify(embedder, t, arrival)? {
            return Ok(d);
        }
        // Several requests in this turn: one at a time, each on its own clause.
        if let Some(d) = self.next_request(embedder, t, None, 1, false)? {
            return Ok(d);
        }
        if arrival {
            if let Some(d) = self.arrived_for(t) {
                return Ok(d);
            }
            // Verified by the agent before us on a keyed ZIP: the request came before.
            // (Once: the request found is read as it is, never looked behind again.)
            if let Some(asked) = look_behind
                .then(|| account_details::request_before_details(t))
                .flatten()
            {
                let focus = Turn {
                    user_text: &asked,
                    ..*t
                };
                return self.caller_turn_on(embedder, &focus, arrival, false);
            }
        } else if let Some(d) = self.invoice_for_another_month(t) {
            return Ok(d);
        } else if let Some(d) = self.asks_about_channel_used(t) {
            return Ok(d);
        } else if let Some(d) = self.on_another_channel(t) {
            return Ok(d);
        }
        // Arriving on a bare "yes" to the question that brought the caller here: the
        // question says what they want.
        let accepted_question = (arrival
            && confirm::is_affirmative(t.user_text)
            && confirm::words(t.user_text).len() <= 5)
            .then(|| last_question(&t.req.messages[..t.user_idx]))
            .flatten();
        let asked_before_hold = pending::before_hold(t.user_text)
            .filter(|_| caller_lines(&t.req.messages[..t.user_idx]).is_empty());
        let mut ranked = self.rank_turn(
            embedder,
            accepted_question
                .or(asked_before_hold.as_deref())
                .unwrap_or(t.user_text),
        )?;
        // An opening line whose small talk blurs the request, or a turn that opens a
        // new matter ("Half an hour, fine. And while I have you, your text last week
        // said I owe you something. How much is it…?"): its clear sentence.
        let unclear = ranked
            .first()
            .is_none_or(|s| s.score < self.config.min_score);
        let new_matter = confirm::says_any(t.user_text, super::requests::ENUMERATION);
        if unclear && (new_matter || caller_lines(&t.req.messages[..t.user_idx]).is_empty()) {
            if let Some(clear) = self.rank_clear_sentence(embedder, t.user_text)? {
                ranked = clear;
            }
        }
        let agent = t.req.agent.as_str();
        let routing = self.pick(&ranked, |s| {
            s.intent.owner == agent
                || s.intent.owner == HUMAN
                || s.intent.owner == ANY
                || (!arrival && has_tool(&t.req.tools, &transfer(&s.intent.owner)))
        });
        let (Some(owner), Some(best)) = (routing.owner, routing.best.clone()) else {
            // Nothing new asked and a goodbye at the end ("okay, I'll try that, thanks,
            // bye"): close rather than ask what they meant.
            let closing = (!arrival).then(|| self.goodbye(t)).flatten();
            // "And the bill?" right after it was sent: a short question about a step
            // done in this call is answered by that step's `again` line.
            let about_done = if arrival {
                None
            } else {
                self.asks_about_step_done(embedder, t)?
            };
            return Ok(closing
                .or(about_done)
                .unwrap_or_else(|| self.low_confidence(t, routing.best.as_ref(), arrival)));
        };
        tracing::debug!(agent, intent = %best.intent.name, owner = %owner, score = best.score, "brain routed");
        if owner == HUMAN {
            let reason = format!(
                "caller asked for a person (intent {} score {:.2})",
                best.intent.name, best.score
            );
            return Ok(self.handoff(t, HUMAN, "escalation", reason));
        }
        if owner != agent && owner != ANY {
            let intent = &self.brains[&best.intent.agent].intents[best.intent.index];
            let specialist = t
                .spec
                .intents
                .iter()
                .any(|i| i.tool.is_some() && i.route.is_none());
            let (trigger, why) = match (&intent.tool, specialist) {
                (Some(tool), true) => ("capability", format!("needs {tool}, which {owner} owns")),
                _ => ("intent", format!("topic belongs to {owner}")),
            };
            let reason = format!("intent {} score {:.2}: {why}", best.intent.name, best.score);
            return Ok(self.handoff(t, &owner, trigger, reason));
        }
        let intent = &self.brains[&best.intent.agent].intents[best.intent.index];
        // "No, don't refund it, I just wanted to know": the words name an action that
        // needs a yes, and turn it down; nothing is offered or done.
        if intent.confirm.is_some() && self.refused_in_words(embedder, t.user_text, &best)? {
            return Ok(Decision::Say(declined_text(t.spec)));
        }
        if let Some(d) = self.already_done(embedder, t, intent) {
            return Ok(d);
        }
        // (Advice the caller says they already followed — "…I already looked in
        // Settings, Webhooks, there's only our one address" — is a ticket: `act`.)
        Ok(self.act(t, intent, None))
    }

    /// Whether a clause of `text` that turns something down ("no, don't refund it")
    /// is about `best` itself — not "No, actually, I was charged twice" (the refusal
    /// names nothing) nor "just the refund, don't touch the plan" (it names another).
    fn refused_in_words(
        &self,
        embedder: &Embedder,
        text: &str,
        best: &Scored,
    ) -> Result<bool, ModelError> {
        for clause in text.split([',', '.', ';', '!', '?']) {
            let ws = confirm::words(clause);
            // A refusal of doing ("don't refund it", "leave it"), not a correction of
            // which ("not the cheapest, the middle one").
            let forbids = ws
                .iter()
                .any(|w| matches!(w.as_str(), "don't" | "dont" | "never"))
                || confirm::spaced_words(&ws).contains(" do not ");
            if ws.len() < 3 || !(forbids && confirm::refuses(clause)) {
                continue;
            }
            let routing = self.route_turn(embedder, clause)?;
            if routing.owner.is_some() && routing.best.is_some_and(|b| b.intent == best.intent) {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

impl Policy {
    /// "It came, but my screen is cracked, I can't press the link. Can you send it to
    /// my email also?": after this agent sent something on one channel, asking for it
    /// on another is the same request again, that way (not a new problem).
    fn on_another_channel(&self, t: &Turn) -> Option<Decision> {
        let asks_to_send = confirm::says_any(
            t.user_text,
            &["send", "resend", "email it", "text it", "mail it"],
        );
        let same_thing = confirm::says_any(
            t.user_text,
            &[
                "it", "one", "that", "link", "again", "also", "too", "as well",
            ],
        );
        if !asks_to_send || !same_thing || confirm::refuses(t.user_text) {
            return None;
        }
        let before = &t.req.messages[..t.user_idx];
        let intent = t.spec.intents.iter().find(|i| {
            i.tool.as_deref().is_some_and(|tool| {
                super::history::called(before, tool) && self.names_other_option(t, i, tool)
            })
        })?;
        // Something else asked for in so many words ("send me the March bill by email")
        // is that request.
        if self
            .cued_intents(t.user_text)
            .iter()
            .any(|n| *n != intent.name)
        {
            return None;
        }
        Some(self.act(t, intent, None))
    }

    /// The caller names another option than the one `tool` was last called with ("can
    /// you text it to me as well?" after an email): asking for it again, that way.
    pub(super) fn names_other_option(&self, t: &Turn, intent: &IntentSpec, tool: &str) -> bool {
        let Some(last) = super::history::last_call_of(&t.req.messages[..t.user_idx], tool) else {
            return false;
        };
        let last: Value = serde_json::from_str(&last).unwrap_or_default();
        intent.args.iter().any(|(key, spec)| {
            spec.as_str().map(|s| s.trim_end_matches('?')) == Some("$enum")
                && slots::choose(
                    t.user_text,
                    &args::enum_options(&t.req.tools, tool, key),
                    &intent.synonyms,
                )
                .is_some_and(|o| last.get(key).and_then(Value::as_str) != Some(o.as_str()))
        })
    }
}

/// The arguments of the latest tool call in `messages` (handoffs aside) when it was a
/// successful call of `tool`.
pub(super) fn last_tool_call(messages: &[ChatMessage], tool: &str) -> Option<String> {
    let (name, args, content) = super::history::results_newest_first(messages)
        .find(|(name, _, _)| !name.starts_with("transfer_to_"))?;
    (name == tool && !is_error(content)).then_some(args)
}

/// Our latest line before the caller's turn, if any (the runtime's own prompts on a
/// silent or unclear line — "Are you still there?" — looked past).
fn previous_line(messages: &[ChatMessage]) -> Option<&str> {
    messages.iter().rev().find_map(|m| match m {
        ChatMessage::Assistant {
            content: Some(c), ..
        } if !c.trim().is_empty() && !super::history::is_runtime_prompt(c.trim()) => {
            Some(c.as_str())
        }
        _ => None,
    })
}
