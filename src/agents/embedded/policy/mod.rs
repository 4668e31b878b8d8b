//! The embedded brain's decision procedure: from a chat request (agent, history,
//! tools) to one step — a reply, a tool call, or a handoff — the way an LLM would.
//!
//! State lives only in the history: a tool result is answered from the intent's
//! reply templates; a "yes" after an offer runs the intent's confirm step; a caller
//! turn is classified against every agent's intents and handled here, handed to the
//! owning agent (`transfer_to_<owner>`), clarified, or escalated to a person.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

mod account_details;
mod acting;
mod advice;
mod args;
mod bill_breakdown;
mod bills_by_month;
mod caller_turn;
mod clause_kinds;
mod closing;
mod done_steps;
mod focus;
mod followups;
mod history;
mod identity;
mod interjections;
mod invoice_list;
mod language;
mod offer_questions;
mod options;
mod pending;
mod period_cost;
mod plan_direction;
mod question_shapes;
mod record;
mod requests;
mod results;
mod separate_matter;
mod serving;
mod side_question;
mod standing_offer;

use super::embedder::Embedder;
use super::intents::{normalise, IntentIndex, Scored};
use super::spec::{BrainSpec, IntentSpec, Reply};
use super::templates::{condition, lookup, render};
use crate::agents::confirm;
use crate::agents::embedded::slots;
use crate::agents::model::{ChatMessage, ChatRequest, ModelError};
use acting::choose_reply;
use args::{resolve, Synonyms};
use history::*;
use interjections::{past_interjections, reply_to_interjection};
use pending::OFFER_STANDS;

/// The pseudo-agent for escalations.
pub const HUMAN: &str = "human";
/// `route = "any"`: whichever agent is active handles the intent (greetings, goodbyes).
pub const ANY: &str = "any";

/// Tuning of the embedded brain.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BrainConfig {
    /// Below this cosine similarity the brain asks a clarifying question.
    pub min_score: f32,
    /// The best intent must beat the best intent of another owner by this much.
    pub margin: f32,
    /// Consecutive clarifications before handing the call to a person.
    pub max_clarify: usize,
}

impl Default for BrainConfig {
    fn default() -> Self {
        Self {
            min_score: 0.40,
            margin: 0.015,
            max_clarify: 2,
        }
    }
}

/// One step the brain takes.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Speak this text (may be empty, e.g. after `end_call`).
    Say(String),
    /// Call a tool, optionally saying something first.
    Call {
        say: Option<String>,
        name: String,
        arguments: Value,
    },
}

/// The routing outcome for one utterance (used by the evaluation).
#[derive(Debug, Clone, PartialEq)]
pub struct Routing {
    /// The owning agent (or `human`), or `None` when the brain would clarify.
    pub owner: Option<String>,
    /// The best intent and its score.
    pub best: Option<Scored>,
}

/// The policy over all agents' brains.
#[derive(Debug)]
pub struct Policy {
    brains: HashMap<String, BrainSpec>,
    index: IntentIndex,
    config: BrainConfig,
}

const END_CALL: &str = "end_call";

/// Said when the caller only acknowledges what we said (each at most once a call).
const ANYTHING_ELSE: &[&str] = &[
    "Glad that helps. Is there anything else I can do for you?",
    "Okay. Is there anything else you need today?",
];

const FALLBACK: &str = "Sorry, I didn't quite catch that. Could you tell me a bit more?";

struct Turn<'a> {
    req: &'a ChatRequest,
    spec: &'a BrainSpec,
    /// Index of the latest caller message.
    user_idx: usize,
    user_text: &'a str,
}

impl Policy {
    /// Builds the policy, embedding every intent example.
    pub fn new(
        embedder: &Embedder,
        brains: HashMap<String, BrainSpec>,
        config: BrainConfig,
    ) -> Result<Self, ModelError> {
        for (agent, brain) in &brains {
            for intent in &brain.intents {
                if let Some(name) = &intent.accept {
                    if !brains
                        .values()
                        .any(|b| b.intents.iter().any(|i| &i.name == name))
                    {
                        return Err(ModelError::Config(format!(
                            "agent `{agent}`: intent `{}` accepts unknown intent `{name}`",
                            intent.name
                        )));
                    }
                }
            }
        }
        let index =
            IntentIndex::build(embedder, &brains).map_err(|e| ModelError::Config(e.to_string()))?;
        Ok(Self {
            brains,
            index,
            config,
        })
    }

    /// True if `text` is one of any agent's clarifying questions.
    pub fn is_clarification(&self, text: &str) -> bool {
        self.brains
            .values()
            .any(|b| b.clarify.iter().any(|q| q == text))
    }

    /// The tuning in use.
    pub fn config(&self) -> BrainConfig {
        self.config
    }

    /// Routes one utterance over all intents with no tool restrictions (the evaluation view).
    pub fn route(&self, embedder: &Embedder, text: &str) -> Result<Routing, ModelError> {
        let e = embedder
            .embed(&normalise(text))
            .map_err(|e| ModelError::Other(e.to_string()))?;
        let ranked = self.index.rank(&e);
        Ok(self.pick(&ranked, |_| true))
    }

    /// The best reachable intent if it is confident, else `owner: None`.
    fn pick(&self, ranked: &[Scored], reachable: impl Fn(&Scored) -> bool) -> Routing {
        let mut it = ranked.iter().filter(|s| reachable(s));
        let Some(best) = it.next() else {
            return Routing {
                owner: None,
                best: None,
            };
        };
        let rival = it.find(|s| s.intent.owner != best.intent.owner);
        let confident = best.score >= self.config.min_score
            && rival.is_none_or(|r| best.score - r.score >= self.config.margin);
        Routing {
            owner: confident.then(|| best.intent.owner.clone()),
            best: Some(best.clone()),
        }
    }

    /// Decides the next step for a request.
    pub fn decide(&self, embedder: &Embedder, req: &ChatRequest) -> Result<Decision, ModelError> {
        let decision = self.decide_with_record(embedder, req, 0)?;
        Ok(not_said_again(req, self.offer_kept(req, decision)))
    }

    /// The next step, before a tool call is checked against the billing record.
    fn decide_step(&self, embedder: &Embedder, req: &ChatRequest) -> Result<Decision, ModelError> {
        let empty = BrainSpec::default();
        let spec = self.brains.get(&req.agent).unwrap_or(&empty);
        let Some(user_idx) = req
            .messages
            .iter()
            .rposition(|m| matches!(m, ChatMessage::User { .. }))
        else {
            return Ok(Decision::Say(
                spec.greeting.clone().unwrap_or_else(|| FALLBACK.into()),
            ));
        };
        let user_text = match &req.messages[user_idx] {
            ChatMessage::User { content } => content.as_str(),
            _ => "",
        };
        let turn = Turn {
            req,
            spec,
            user_idx,
            user_text,
        };
        let last = req
            .messages
            .iter()
            .rev()
            .find(|m| !matches!(m, ChatMessage::System { .. }));
        match last {
            Some(ChatMessage::Tool {
                tool_call_id,
                content,
            }) => {
                let (name, _) = find_call(&req.messages, tool_call_id).unwrap_or_default();
                if name.starts_with("transfer_to_") && is_error(content) {
                    Ok(Decision::Say(refused_text(spec)))
                } else if name.starts_with("transfer_to_") {
                    self.caller_turn(embedder, &turn, true)
                } else if let Some(d) = find_call(&req.messages, tool_call_id)
                    .filter(|(n, _)| n == "lookup_customer")
                    .map(|(_, args)| {
                        self.after_lookup(embedder, &turn, &args, &parse_result(content))
                    })
                    .transpose()?
                    .flatten()
                {
                    Ok(d)
                } else {
                    let result = parse_result(content);
                    if let Some(d) = self.after_invoice_list(embedder, &turn, &name)? {
                        return Ok(d);
                    }
                    if let Some(text) = self.follow_up_reply(&turn, &name, &result) {
                        return Ok(self.maybe_close(&turn, &name, &result, text));
                    }
                    let intent = self.intent_for_result(embedder, &turn, &name)?;
                    if let Some(d) = intent.and_then(|i| self.follow_up(&turn, i, &result)) {
                        return Ok(d);
                    }
                    let text = self.answer_result(&turn, intent, &name, &result);
                    let text = bills_by_month::once_done(&turn, text);
                    let text = if tool_call_id.starts_with(record::RECORD_CALL_ID) {
                        results::record_answer_again(&req.messages[..turn.user_idx], text)
                    } else {
                        text
                    };
                    // "…I already switched the box off and on, twice, nothing." and a
                    // healthy network: the ticket, not the restart again.
                    let persisting = spec
                        .intents
                        .iter()
                        .any(|i| i.persisting && i.tool.as_deref() == Some(name.as_str()));
                    if !persisting && !is_error(content) {
                        if let Some(d) = self.instead_of_advice_followed(&turn, &text) {
                            return Ok(d);
                        }
                    }
                    // Another request of the same turn still waits: go on to it, unless
                    // the reply asks something of its own.
                    if let Some(report) = without_anything_else(&text) {
                        if let Some(d) = self.more_bills(&turn, &name, &result, &report) {
                            return Ok(d);
                        }
                        if !is_error(content) {
                            if let Some(d) = self.every_channel_named(&turn, &name, &report) {
                                return Ok(d);
                            }
                        }
                        let next = self.next_request(
                            embedder,
                            &turn,
                            Some(&report),
                            serving::LOOKBACK_TURNS,
                            false,
                        )?;
                        if let Some(d) = next {
                            return Ok(d);
                        }
                    } else if let Some(report) = serving::report_before_next(intent, &text) {
                        // (Its own follow-up offer waits only behind a request of this
                        // same turn: "I'm past due? Can you text me that bill?")
                        if let Some(d) =
                            self.next_request(embedder, &turn, Some(&report), 1, true)?
                        {
                            return Ok(d);
                        }
                    }
                    Ok(self.maybe_close(&turn, &name, &result, text))
                }
            }
            Some(ChatMessage::User { .. }) => self.caller_turn(embedder, &turn, false),
            // A handoff whose tool traffic the input filter removed (`remove_tools`)
            // leaves what the previous agent said, then the handoff note: an arrival.
            Some(ChatMessage::Assistant { .. }) if handed_over(&req.messages) => {
                self.caller_turn(embedder, &turn, true)
            }
            _ => Ok(Decision::Say(
                spec.fallback.clone().unwrap_or_else(|| FALLBACK.into()),
            )),
        }
    }

    /// Too unsure: ask again, and after repeated failures offer a person.
    fn low_confidence(&self, t: &Turn, best: Option<&Scored>, arrival: bool) -> Decision {
        let score = best.map(|b| b.score).unwrap_or(0.0);
        if arrival {
            if let Some(a) = &t.spec.arrival {
                return Decision::Say(a.clone());
            }
        }
        let clarifies = self.previous_clarifications(t);
        if clarifies >= self.config.max_clarify && has_tool(&t.req.tools, &transfer(HUMAN)) {
            let reason = format!(
                "low confidence on {} caller turns in a row (best score {score:.2})",
                clarifies + 1
            );
            return self.handoff(t, HUMAN, "confidence", reason);
        }
        let text = if t.spec.clarify.is_empty() {
            t.spec.fallback.clone().unwrap_or_else(|| FALLBACK.into())
        } else {
            t.spec.clarify[clarifies.min(t.spec.clarify.len() - 1)].clone()
        };
        Decision::Say(text)
    }

    /// How many of our latest replies in a row were clarifying questions.
    fn previous_clarifications(&self, t: &Turn) -> usize {
        let mut n = 0;
        for m in t.req.messages[..t.user_idx].iter().rev() {
            match m {
                ChatMessage::User { .. } | ChatMessage::System { .. } => {}
                ChatMessage::Assistant {
                    content: Some(c),
                    tool_calls,
                } if tool_calls.is_empty() => {
                    if self.is_clarification(c) {
                        n += 1;
                    } else {
                        break;
                    }
                }
                _ => break,
            }
        }
        n
    }

    fn handoff(&self, t: &Turn, target: &str, trigger: &str, reason: String) -> Decision {
        let name = transfer(target);
        if !has_tool(&t.req.tools, &name) {
            return Decision::Say(t.spec.fallback.clone().unwrap_or_else(|| FALLBACK.into()));
        }
        Decision::Call {
            say: None,
            name,
            arguments: json!({"reason": reason, "trigger": trigger}),
        }
    }
}

/// An answer we already gave word for word ("And the requests per minute?" after we
/// told the limits): confirmed in other words, never the same reply again (the
/// runtime would drop it as a repeat). Questions are left as they are.
fn not_said_again(req: &ChatRequest, decision: Decision) -> Decision {
    let Decision::Say(text) = decision else {
        return decision;
    };
    let body = without_anything_else(&text);
    // (Short courtesy lines — "Sure, take your time." — may come again; the runtime
    // drops only sentences of seven words or more.)
    let said = body.as_deref().is_some_and(|b| {
        // (Sentences end at a stop before a space: "$89.99" is one word.)
        history::sentences(b)
            .iter()
            .any(|s| confirm::words(s).len() >= 7)
            && history::said_within(&req.messages, b)
    });
    if !said {
        return Decision::Say(text);
    }
    Decision::Say(results::as_said_before(&req.messages, text))
}

fn declined_text(spec: &BrainSpec) -> String {
    spec.declined
        .clone()
        .unwrap_or_else(|| "No problem, I'll leave it as it is.".into())
}

fn refused_text(spec: &BrainSpec) -> String {
    spec.handoff_refused.clone().unwrap_or_else(|| {
        "I'm sorry, I can't sort that out myself. Would you like a person from our team to help with this?".into()
    })
}

/// The clauses a turn is split into when it holds several requests (diagnostics).
#[cfg(test)]
pub(crate) fn requests_clauses(text: &str) -> Vec<String> {
    requests::clauses(text)
}

#[cfg(test)]
impl Policy {
    /// The intents ranked for one caller text, as routing sees it (diagnostics).
    pub(crate) fn rank_for_diagnostics(
        &self,
        embedder: &Embedder,
        text: &str,
    ) -> Result<Vec<Scored>, ModelError> {
        self.rank_turn(embedder, text)
    }
}

#[cfg(test)]
mod repeat_tests {
    use super::*;

    fn req(said: &str) -> ChatRequest {
        ChatRequest {
            agent: "technical".into(),
            model: String::new(),
            messages: vec![
                ChatMessage::User {
                    content: "hello".into(),
                },
                ChatMessage::Assistant {
                    content: Some(said.into()),
                    tool_calls: Vec::new(),
                },
                ChatMessage::User {
                    content: "and again?".into(),
                },
            ],
            tools: Vec::new(),
            temperature: None,
        }
    }

    fn say(d: Decision) -> String {
        match d {
            Decision::Say(t) => t,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_answer_given_word_for_word_before_is_confirmed_in_other_words() {
        let limits = "The API limit depends on the plan: Basic allows 60 requests a minute, Plus 600 and Pro 6000.";
        let again = say(not_said_again(
            &req(limits),
            Decision::Say(limits.to_string()),
        ));
        assert!(
            again.starts_with("Yes, as I said, the API limit"),
            "{again}"
        );
        // Short courtesy lines and questions are left as they are.
        let hold = "Sure, take your time.";
        assert_eq!(
            say(not_said_again(&req(hold), Decision::Say(hold.into()))),
            hold
        );
        let ask = "Which city or area should I check, so I can look at the network there?";
        assert_eq!(
            say(not_said_again(&req(ask), Decision::Say(ask.into()))),
            ask
        );
    }
}
