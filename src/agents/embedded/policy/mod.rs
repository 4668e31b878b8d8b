//! The embedded brain's decision procedure: from a chat request (agent, history,
//! tools) to one step — a reply, a tool call, or a handoff — the way an LLM would.
//!
//! State lives only in the history: a tool result is answered from the intent's
//! reply templates; a "yes" after an offer runs the intent's confirm step; a caller
//! turn is classified against every agent's intents and handled here, handed to the
//! owning agent (`transfer_to_<owner>`), clarified, or escalated to a person.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

mod args;
mod closing;
mod focus;
mod followups;
mod identity;
mod interjections;
mod requests;

use super::embedder::Embedder;
use super::intents::{normalise, IntentIndex, Scored};
use super::spec::{BrainSpec, IntentSpec, Reply};
use super::templates::{condition, lookup, render};
use crate::agents::confirm;
use crate::agents::embedded::slots;
use crate::agents::model::{ChatMessage, ChatRequest, ModelError, ToolSpec};
use args::{resolve, Synonyms};
use interjections::{past_interjections, reply_to_interjection};

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

/// Said before serving a request made together with a refusal.
const LEFT_AS_IS: &str = "Okay, I'll leave that as it is.";

/// Said when the caller asks about what is already on offer.
const OFFER_STANDS: &str = "Yes, that's the one I found. Would you like me to go ahead with it?";

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

    /// Another option named while one is on offer ("…and the middle one?"): the
    /// intent runs again for it (a new quote). Neither the option on offer nor the
    /// one the caller has now (`from` in the result) counts.
    fn other_option(
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
            slots::choose(t.user_text, &options, &intent.synonyms).is_some_and(|o| {
                prev.get(key).and_then(Value::as_str) != Some(o.as_str())
                    && current.as_deref() != Some(o.to_lowercase().as_str())
            })
        });
        named_other.then(|| self.act(t, intent, None))
    }

    /// A request of this agent made in the same turn as a refusal of `declined`
    /// (another intent, with a tool), done after a short acknowledgement.
    fn also_asked(&self, embedder: &Embedder, t: &Turn, declined: &str) -> Option<Decision> {
        if !confirm::makes_request(t.user_text) {
            return None;
        }
        let declined_tool = t
            .spec
            .intents
            .iter()
            .find(|i| i.name == declined)
            .and_then(|i| i.tool.as_deref());
        let ranked = self.rank_turn(embedder, t.user_text).ok()?;
        let routing = self.pick(&ranked, |_| true);
        let best = routing
            .best
            .filter(|_| routing.owner.as_deref() == Some(&t.req.agent))?;
        let intent = &self.brains[&best.intent.agent].intents[best.intent.index];
        if intent.name == declined
            || intent.tool.is_none()
            || intent.tool.as_deref() == declined_tool
        {
            return None;
        }
        let step = self.act(t, intent, None);
        Some(requests::with_prefix(Some(LEFT_AS_IS), step))
    }

    /// True when the caller's words route confidently to another agent's intent.
    fn routes_elsewhere(&self, embedder: &Embedder, t: &Turn) -> bool {
        self.rank_turn(embedder, t.user_text)
            .map(|ranked| {
                let owner = self.pick(&ranked, |_| true).owner;
                owner.is_some_and(|o| o != t.req.agent && o != ANY && o != HUMAN)
            })
            .unwrap_or(false)
    }

    /// True when `text` routes confidently to `agent`'s intent `name`.
    fn routes_to(&self, embedder: &Embedder, text: &str, agent: &str, name: &str) -> bool {
        self.rank_turn(embedder, text)
            .map(|ranked| {
                let routing = self.pick(&ranked, |_| true);
                routing.owner.is_some()
                    && routing
                        .best
                        .is_some_and(|b| b.intent.agent == agent && b.intent.name == name)
            })
            .unwrap_or(false)
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
                    // Another request of the same turn still waits: go on to it, unless
                    // the reply asks something of its own.
                    if let Some(report) = without_anything_else(&text) {
                        let next = self.next_request(
                            embedder,
                            &turn,
                            Some(&report),
                            requests::LOOKBACK_TURNS,
                        )?;
                        if let Some(d) = next {
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

    /// The intent of this agent whose tool produced a result (when several intents
    /// share the tool, the one closest to the caller's words).
    fn intent_for_result<'a>(
        &self,
        embedder: &Embedder,
        t: &Turn<'a>,
        tool: &str,
    ) -> Result<Option<&'a IntentSpec>, ModelError> {
        let spec = t.spec;
        let candidates: Vec<usize> = (0..spec.intents.len())
            .filter(|&i| spec.intents[i].tool.as_deref() == Some(tool))
            .collect();
        let chosen = match candidates.as_slice() {
            [] => None,
            [only] => Some(*only),
            _ => {
                let e = embedder
                    .embed(&normalise(t.user_text))
                    .map_err(|e| ModelError::Other(e.to_string()))?;
                self.index
                    .rank(&e)
                    .into_iter()
                    .find(|s| s.intent.agent == t.req.agent && candidates.contains(&s.intent.index))
                    .map(|s| s.intent.index)
            }
        };
        Ok(chosen.map(|i| &spec.intents[i]))
    }

    /// Speaks about a tool result with the reply templates of the intent that called it.
    fn answer_result(
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

    /// Handles new caller words (or the first turn after a handoff arrived).
    fn caller_turn(
        &self,
        embedder: &Embedder,
        t: &Turn,
        arrival: bool,
    ) -> Result<Decision, ModelError> {
        if !arrival {
            if let Some(d) = self.pending(embedder, t) {
                return Ok(d);
            }
            // "Alright, I'll try that. Thanks, bye.": nothing asked, the caller is
            // leaving; never open something new for the words before the goodbye.
            if confirm::is_acknowledged_farewell(t.user_text) {
                if let Some(d) = self.goodbye(t) {
                    return Ok(d);
                }
            }
            // "Good to know, I'll leave the router alone then.": nothing to act on.
            if confirm::is_acknowledgement(t.user_text) {
                let said = |l: &str| {
                    t.req.messages.iter().any(|m| {
                        matches!(m, ChatMessage::Assistant { content: Some(c), .. } if c.trim() == l)
                    })
                };
                if let Some(line) = ANYTHING_ELSE.iter().find(|l| !said(l)) {
                    return Ok(Decision::Say((*line).into()));
                }
            }
        }
        // An explicit request for a person is never routed elsewhere.
        if confirm::asks_for_person(t.user_text) && has_tool(&t.req.tools, &transfer(HUMAN)) {
            let reason = "caller asked for a person".to_string();
            return Ok(self.handoff(t, HUMAN, "escalation", reason));
        }
        if let Some(d) = self.identify(embedder, t, arrival)? {
            return Ok(d);
        }
        // Several requests in this turn: one at a time, each on its own clause.
        if let Some(d) = self.next_request(embedder, t, None, 1)? {
            return Ok(d);
        }
        if arrival {
            if let Some(d) = self.arrived_for(t) {
                return Ok(d);
            }
        }
        // Arriving on a bare "yes" to the question that brought the caller here: the
        // question says what they want.
        let accepted_question = (arrival
            && confirm::is_affirmative(t.user_text)
            && confirm::words(t.user_text).len() <= 5)
            .then(|| last_question(&t.req.messages[..t.user_idx]))
            .flatten();
        let ranked = self.rank_turn(embedder, accepted_question.unwrap_or(t.user_text))?;
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
            return Ok(
                closing.unwrap_or_else(|| self.low_confidence(t, routing.best.as_ref(), arrival))
            );
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
        Ok(self.act(
            t,
            &self.brains[&best.intent.agent].intents[best.intent.index],
            None,
        ))
    }

    /// A reply to the caller's answer to our last question (offer or missing value).
    /// Interjections ("hello? are you still there?", "sorry?", "hold on") answer
    /// nothing: the open question is kept (asked again, or waited for), and earlier
    /// interjections and our replies to them are looked past, so a later "yes" still
    /// answers the offer.
    fn pending(&self, embedder: &Embedder, t: &Turn) -> Option<Decision> {
        let msgs = &t.req.messages;
        let before = past_interjections(&msgs[..t.user_idx], |c| self.is_retry(c));
        if let Some(kind) = confirm::interjection(t.user_text) {
            return Some(Decision::Say(reply_to_interjection(kind, &before)));
        }
        let said = match before.first() {
            Some(ChatMessage::Assistant {
                content: Some(c),
                tool_calls,
            }) if tool_calls.is_empty() => c.as_str(),
            _ => return None,
        };
        if let Some(d) = self.accepted(t, &before, said) {
            return Some(d);
        }
        // An offer made from a tool result: "... shall I go ahead?"
        if let Some(ChatMessage::Tool {
            tool_call_id,
            content,
        }) = before.get(1)
        {
            let (tool, prev_args) = find_call(msgs, tool_call_id)?;
            let result = parse_result(content);
            // We offered a person after the runtime refused a handoff.
            if tool.starts_with("transfer_to_") && is_error(content) {
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
                    return Some(Decision::Call {
                        say: None,
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
                    return Some(
                        self.goodbye(t)
                            .unwrap_or_else(|| Decision::Say(declined_text(t.spec))),
                    );
                }
                // Asking about the very thing on offer ("so what about the double
                // charge?"): the offer stands; ask for the answer, don't look it up again.
                if self.routes_to(embedder, t.user_text, &t.req.agent, &intent.name) {
                    return Some(Decision::Say(OFFER_STANDS.into()));
                }
            }
        }
        // A question for a missing value: "Which plan would you like?"
        let intent = t
            .spec
            .intents
            .iter()
            .find(|i| i.ask.as_deref() == Some(said))?;
        // A free answer (no option to name) that is a request for another agent ("so
        // bump us up to Plus then") is not the answer.
        let free = !intent
            .args
            .values()
            .any(|v| v.as_str().is_some_and(|s| s.starts_with("$enum")));
        if free && !echoes(said, t.user_text) && self.routes_elsewhere(embedder, t) {
            return None;
        }
        self.fill_args(
            t,
            &intent.args,
            intent.tool.as_deref()?,
            None,
            &intent.synonyms,
        )
        .ok()
        .map(|_| self.act(t, intent, None))
    }

    /// Does what an intent of this agent says: call its tool or reply.
    fn act(&self, t: &Turn, intent: &IntentSpec, result: Option<&Value>) -> Decision {
        let Some(tool) = &intent.tool else {
            let text = choose_reply(&intent.replies, &json!({}))
                .or_else(|| t.spec.fallback.clone())
                .unwrap_or_else(|| FALLBACK.into());
            return Decision::Say(text);
        };
        if !has_tool(&t.req.tools, tool) {
            return Decision::Say(t.spec.fallback.clone().unwrap_or_else(|| FALLBACK.into()));
        }
        if let Some(d) = self.invoice_list_first(t, intent) {
            return d;
        }
        match self.fill_args(t, &intent.args, tool, result, &intent.synonyms) {
            Ok(arguments) => Decision::Call {
                say: intent.say.clone(),
                name: tool.clone(),
                arguments,
            },
            Err(_) => Decision::Say(intent.ask.clone().unwrap_or_else(|| FALLBACK.into())),
        }
    }

    /// Fills a tool's arguments from the mapping; `Err` names a value the caller has not given.
    fn fill_args(
        &self,
        t: &Turn,
        mapping: &toml::Table,
        tool: &str,
        result: Option<&Value>,
        synonyms: &Synonyms,
    ) -> Result<Value, String> {
        let mut out = Map::new();
        let mut callers = caller_lines(&t.req.messages[..=t.user_idx]);
        // A turn served in parts reads its values from the clause in focus.
        if let Some(latest) = callers.first_mut() {
            *latest = t.user_text;
        }
        for (key, spec) in mapping {
            let (value, optional) = match spec.as_str() {
                Some(s) if s.starts_with('$') => {
                    let optional = s.ends_with('?');
                    (
                        resolve(
                            s.trim_end_matches('?'),
                            key,
                            tool,
                            t,
                            &callers,
                            result,
                            synonyms,
                        ),
                        optional,
                    )
                }
                _ => (serde_json::to_value(spec).ok(), false),
            };
            match value {
                Some(v) => {
                    out.insert(key.clone(), v);
                }
                None if optional => {}
                None => return Err(key.clone()),
            }
        }
        Ok(Value::Object(out))
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

/// A reply with its closing "Anything else?" dropped; `None` when the reply ends
/// with a question of its own ("…Shall I go ahead?").
fn without_anything_else(text: &str) -> Option<String> {
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
fn echoes(question: &str, answer: &str) -> bool {
    let asked: Vec<String> = confirm::words(question)
        .into_iter()
        .filter(|w| w.len() >= 5)
        .collect();
    confirm::words(answer).iter().any(|w| asked.contains(w))
}

/// The conversation was handed to this agent after the last thing said: a handoff
/// note follows the last non-system message.
fn handed_over(messages: &[ChatMessage]) -> bool {
    messages
        .iter()
        .rev()
        .take_while(|m| matches!(m, ChatMessage::System { .. }))
        .any(|m| matches!(m, ChatMessage::System { content } if content.starts_with("Handoff note:")))
}

/// What the caller said, newest first.
fn caller_lines(messages: &[ChatMessage]) -> Vec<&str> {
    messages
        .iter()
        .rev()
        .filter_map(|m| match m {
            ChatMessage::User { content } => Some(content.as_str()),
            _ => None,
        })
        .collect()
}

/// What we last said aloud (a reply without tool calls), trimmed.
fn last_spoken(messages: &[ChatMessage]) -> Option<&str> {
    messages.iter().rev().find_map(|m| match m {
        ChatMessage::Assistant {
            content: Some(c),
            tool_calls,
        } if tool_calls.is_empty() => Some(c.trim()),
        _ => None,
    })
}

/// The question we last asked aloud, if our last line ended with one.
fn last_question(messages: &[ChatMessage]) -> Option<&str> {
    last_spoken(messages).filter(|c| c.ends_with('?'))
}

fn is_error(content: &str) -> bool {
    lookup(&parse_result(content), "error").is_some()
}

/// The first reply whose condition holds and whose placeholders all resolve.
fn choose_reply(replies: &[Reply], result: &Value) -> Option<String> {
    replies.iter().find_map(|r| {
        if r.when().is_some_and(|w| !condition(w, result)) {
            return None;
        }
        render(r.text(), result)
    })
}

fn parse_result(content: &str) -> Value {
    serde_json::from_str(content).unwrap_or_else(|_| Value::String(content.to_string()))
}

/// The (name, arguments) of the assistant tool call with this id.
fn find_call(messages: &[ChatMessage], id: &str) -> Option<(String, String)> {
    messages.iter().rev().find_map(|m| match m {
        ChatMessage::Assistant { tool_calls, .. } => tool_calls
            .iter()
            .find(|c| c.id == id)
            .map(|c| (c.name.clone(), c.arguments.clone())),
        _ => None,
    })
}

fn has_tool(tools: &[ToolSpec], name: &str) -> bool {
    tools.iter().any(|t| t.name == name)
}

fn transfer(target: &str) -> String {
    format!("transfer_to_{target}")
}
