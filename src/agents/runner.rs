//! The runtime: runs one caller turn through the active agent's model, executing
//! tools and handoffs in an explicit loop (`NextStep`) until the agent has answered,
//! escalated or ended the call. Enforces the guards (tool ownership, ping-pong,
//! max_turns, low confidence) whatever the model does.

pub use crate::agents::runtime_config::RuntimeConfig;
use crate::agents::turn_id::TurnId;
use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::mpsc::UnboundedSender;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::agents::confirm;
use crate::agents::conversation::{CallerContext, Conversation};
use crate::agents::error::AgentError;
use crate::agents::events::{CallerInput, RunEvent, TurnSummary};
use crate::agents::filters;
use crate::agents::handoff;
use crate::agents::model::{ChatMessage, ChatModel, ChatRequest, ToolSpec};
use crate::agents::spec::{AgentSet, AgentSpec};
use crate::agents::step::{self, Emitter};
use crate::agents::trace::{ms, Trigger, TurnRecord};
use crate::store::Store;

/// What the loop does after a model call.
#[derive(Debug, Clone, PartialEq)]
pub enum NextStep {
    /// The agent answered; the turn is over.
    FinalOutput,
    /// Tools ran; call the same agent's model again with their results.
    RunAgain,
    /// Swap the active agent and run it.
    Handoff {
        to: String,
        trigger: Trigger,
        reason: String,
    },
    /// Hand the call to a person.
    Escalate { trigger: Trigger, reason: String },
    /// The agent ended the call.
    EndCall,
}

/// Per-turn bookkeeping.
pub(crate) struct TurnState {
    pub turn: TurnId,
    pub started: Instant,
    pub first_sentence_at: Option<Instant>,
    pub reply: String,
    pub model_calls: usize,
    pub handoffs: usize,
    /// Agents active during this caller turn (ping-pong guard).
    pub visited: Vec<String>,
    pub has_user: bool,
    pub step_spoke: bool,
    pub cancelled: bool,
    pub escalated: bool,
    pub ended: bool,
    /// The caller's turn is an interjection ("sorry?", "are you still there?"): saying
    /// again what was said is the point, so the repeat guard stands aside.
    pub allow_repeat: bool,
}

/// Runs conversations; shared by all calls.
pub struct Runtime {
    pub(crate) agents: AgentSet,
    pub(crate) models: HashMap<String, Arc<dyn ChatModel>>,
    pub(crate) store: Store,
    pub(crate) config: RuntimeConfig,
    pub(crate) tools: HashMap<String, Vec<ToolSpec>>,
}

impl Runtime {
    /// A runtime over `agents`, with one chat model per agent name.
    pub fn new(
        agents: AgentSet,
        models: HashMap<String, Arc<dyn ChatModel>>,
        store: Store,
        config: RuntimeConfig,
    ) -> Result<Self, AgentError> {
        if agents.get(&config.entry_agent).is_none() {
            return Err(AgentError::UnknownAgent(config.entry_agent.clone()));
        }
        crate::agents::guard::warm_up();
        let mut tools = HashMap::new();
        for a in agents.agents() {
            if !models.contains_key(&a.name) {
                return Err(AgentError::MissingModel(a.name.clone()));
            }
            tools.insert(a.name.clone(), handoff::agent_tools(a, &agents));
        }
        Ok(Runtime {
            agents,
            models,
            store,
            config,
            tools,
        })
    }

    /// The agents.
    pub fn agents(&self) -> &AgentSet {
        &self.agents
    }

    /// The configuration.
    pub fn config(&self) -> &RuntimeConfig {
        &self.config
    }

    /// The tools offered to an agent's model (own tools, then transfer tools).
    pub fn tools_for(&self, agent: &str) -> &[ToolSpec] {
        self.tools.get(agent).map(Vec::as_slice).unwrap_or(&[])
    }

    /// A new conversation with the entry agent active.
    pub fn start(&self, caller: CallerContext) -> Conversation {
        Conversation::new(caller, &self.config.entry_agent)
    }

    /// Speak the opening greeting (before the caller's first turn): the active agent's
    /// `brain.greeting`, else `config.greeting`. No model call, so it is instant.
    pub fn greet(&self, conv: &mut Conversation, events: &UnboundedSender<RunEvent>) -> String {
        let text = self
            .agents
            .get(&conv.active)
            .and_then(|a| a.brain.get("greeting"))
            .and_then(|g| g.as_str())
            .filter(|g| !g.trim().is_empty())
            .map_or_else(|| self.config.greeting.clone(), str::to_string);
        let agent = conv.active.clone();
        let _ = events.send(RunEvent::Say {
            agent: agent.clone(),
            text: text.clone(),
        });
        conv.push_agent_text(&agent, &text);
        conv.history.push(ChatMessage::Assistant {
            content: Some(text.clone()),
            tool_calls: Vec::new(),
        });
        conv.greeted = true;
        text
    }

    /// Run caller turn `turn` (an id greater than any before it in this conversation:
    /// the call machine's, or [`Conversation::next_turn_id`]). Emits `Say` sentences as
    /// they are ready; returns when the agent has answered, escalated or ended the
    /// call, or promptly on `cancel` (keeping what was already said in the history).
    pub async fn run_turn(
        &self,
        conv: &mut Conversation,
        turn: TurnId,
        input: CallerInput,
        events: &UnboundedSender<RunEvent>,
        cancel: &CancellationToken,
    ) -> Result<TurnSummary, AgentError> {
        conv.begin_turn(turn);
        let span = tracing::info_span!("turn", call_id = %conv.caller.call_id, turn = %conv.turn, agent = %conv.active);
        self.turn_inner(conv, input, events, cancel)
            .instrument(span)
            .await
    }

    async fn turn_inner(
        &self,
        conv: &mut Conversation,
        input: CallerInput,
        events: &UnboundedSender<RunEvent>,
        cancel: &CancellationToken,
    ) -> Result<TurnSummary, AgentError> {
        let started_at = crate::store::calls::now_rfc3339();
        let mut ts = TurnState {
            turn: conv.turn,
            started: Instant::now(),
            first_sentence_at: None,
            reply: String::new(),
            model_calls: 0,
            handoffs: 0,
            visited: vec![conv.active.clone()],
            has_user: false,
            step_spoke: false,
            cancelled: false,
            escalated: false,
            ended: false,
            allow_repeat: false,
        };
        let agent_start = conv.active.clone();
        conv.turn_history_start = conv.history.len();
        // Card numbers never reach a model, the history or the trace.
        let input = masked(input);
        let (kind, caller_text, confidence) = match &input {
            CallerInput::Speech { text, confidence } => {
                ("speech", text.trim().to_string(), Some(*confidence))
            }
            CallerInput::Dtmf { digits } => ("dtmf", digits.clone(), None),
            CallerInput::Silence => ("silence", String::new(), None),
        };
        ts.allow_repeat = kind == "speech"
            && (confirm::interjection(&caller_text).is_some()
                || confirm::asks_to_repeat(&caller_text));
        if !conv.is_over() {
            self.handle_input(conv, &mut ts, input, events, cancel)
                .await?;
        }
        let total = ts.started.elapsed();
        let first = ts.first_sentence_at.map(|t| ms(t - ts.started));
        conv.trace.turns.push(TurnRecord {
            turn: ts.turn,
            started_at,
            input: kind.into(),
            caller: caller_text,
            confidence,
            agent_start,
            agent_end: conv.active.clone(),
            reply: ts.reply.clone(),
            model_calls: ts.model_calls,
            first_sentence_ms: first,
            total_ms: ms(total),
            cancelled: ts.cancelled,
            interrupted: false,
        });
        tracing::info!(
            model_calls = ts.model_calls,
            handoffs = ts.handoffs,
            total_ms = ms(total),
            "turn done"
        );
        Ok(TurnSummary {
            turn: ts.turn,
            agent: conv.active.clone(),
            reply: ts.reply,
            handoffs: ts.handoffs,
            model_calls: ts.model_calls,
            escalated: ts.escalated,
            ended: ts.ended || conv.is_over(),
            cancelled: ts.cancelled,
            first_sentence_ms: first,
            total_ms: ms(total),
        })
    }

    /// The explicit run loop for one caller turn.
    pub(crate) async fn agent_loop(
        &self,
        conv: &mut Conversation,
        ts: &mut TurnState,
        events: &UnboundedSender<RunEvent>,
        cancel: &CancellationToken,
    ) -> Result<(), AgentError> {
        loop {
            if cancel.is_cancelled() {
                ts.cancelled = true;
                return Ok(());
            }
            if ts.model_calls >= self.config.max_turns {
                conv.trace.errors.push(format!(
                    "turn {}: max_turns ({}) reached",
                    ts.turn, self.config.max_turns
                ));
                tracing::warn!(max_turns = self.config.max_turns, "max_turns reached");
                self.offer_human(conv, ts, "I'm sorry, I'm having trouble sorting that out right now. Would you like a person from our team to help with this?", events);
                return Ok(());
            }
            if filters::history_chars(&conv.history)
                > self.config.history_char_budget.saturating_mul(2)
            {
                self.compact(conv, ts);
            }
            let agent = self
                .agents
                .get(&conv.active)
                .ok_or_else(|| AgentError::UnknownAgent(conv.active.clone()))?
                .clone();
            let model = self
                .models
                .get(&agent.name)
                .ok_or_else(|| AgentError::MissingModel(agent.name.clone()))?
                .clone();
            let request = self.request(conv, &agent);
            ts.model_calls += 1;
            let nothing_said = std::collections::HashSet::new();
            let emitter = Emitter {
                agent: &agent.name,
                turn: ts.turn,
                strip_greeting: conv.greeted,
                events,
                said: if ts.allow_repeat {
                    &nothing_said
                } else {
                    &conv.said
                },
            };
            let out = step::run(model.as_ref(), request, &emitter, cancel).await;
            conv.remember_said(&out.sentences);
            conv.trace
                .model_switches
                .extend(out.switches.iter().cloned());
            let spoken = out.spoken();
            conv.trace.guard.extend(out.guard.iter().cloned());
            if ts.first_sentence_at.is_none() {
                ts.first_sentence_at = out.first_sentence_at;
            }
            ts.step_spoke = !spoken.is_empty();
            if ts.step_spoke {
                conv.greeted = true;
                conv.push_agent_text(&agent.name, &spoken);
                push_reply(&mut ts.reply, &spoken);
            }
            if out.cancelled || out.error.is_some() {
                if ts.step_spoke {
                    conv.history.push(ChatMessage::Assistant {
                        content: Some(spoken.clone()),
                        tool_calls: Vec::new(),
                    });
                }
                if out.cancelled {
                    ts.cancelled = true;
                    return Ok(());
                }
                let err = out.error.map(|e| e.to_string()).unwrap_or_default();
                tracing::warn!(agent = %agent.name, error = %err, "model call failed");
                conv.trace.errors.push(format!(
                    "turn {}: {} model error: {err}",
                    ts.turn, agent.name
                ));
                self.offer_human(conv, ts, "Sorry, I'm having a little trouble on my end. Would you like a person from our team to help with this?", events);
                return Ok(());
            }
            let content = ts.step_spoke.then(|| spoken.clone());
            if content.is_some() || !out.tool_calls.is_empty() {
                conv.history.push(ChatMessage::Assistant {
                    content,
                    tool_calls: out.tool_calls.clone(),
                });
            }
            if out.tool_calls.is_empty() {
                if !ts.step_spoke && out.dropped_repeat {
                    // The same advice again would not help: the next step instead.
                    let next = "I'm sorry that hasn't sorted it out. Would you like a person from our team to look into it for you?";
                    if step::repeat_key(next).is_some_and(|k| conv.said.contains(&k)) {
                        let reason = "the caller's problem persists after our advice".to_string();
                        return self
                            .escalate(conv, ts, Trigger::Escalation, reason, events)
                            .await;
                    }
                    self.offer_human(conv, ts, next, events);
                } else if !ts.step_spoke {
                    // Everything was dropped by the guard (or the model said nothing).
                    self.say(
                        conv,
                        ts,
                        "Could you tell me a little more about that?",
                        events,
                    );
                }
                return Ok(());
            }
            match self
                .run_tools(conv, ts, &agent, out.tool_calls, events)
                .await?
            {
                NextStep::FinalOutput => return Ok(()),
                NextStep::RunAgain => continue,
                NextStep::Handoff {
                    to,
                    trigger,
                    reason,
                } => {
                    self.handoff(conv, ts, &agent, &to, trigger, reason, events)
                        .await?
                }
                NextStep::Escalate { trigger, reason } => {
                    return self.escalate(conv, ts, trigger, reason, events).await
                }
                NextStep::EndCall => {
                    if !ts.step_spoke {
                        self.say(conv, ts, "Thanks for calling. Have a great day!", events);
                    }
                    self.end_call(conv, ts, events);
                    return Ok(());
                }
            }
        }
    }

    fn request(&self, conv: &Conversation, agent: &AgentSpec) -> ChatRequest {
        let mut system = self.agents.system_prompt(&agent.name).unwrap_or_default();
        match conv.caller.caller_number() {
            Some(n) => system.push_str(&format!(
                "\n\nCall context: the caller is calling from {n}."
            )),
            None => system.push_str("\n\nCall context: the calling number is unknown."),
        }
        let mut messages = Vec::with_capacity(conv.history.len() + 1);
        messages.push(ChatMessage::System { content: system });
        messages.extend(conv.history.iter().cloned());
        ChatRequest {
            agent: agent.name.clone(),
            model: agent.model.name.clone(),
            messages,
            tools: self.tools_for(&agent.name).to_vec(),
            temperature: agent.model.temperature,
        }
    }

    /// Summarise old history in place (keeps the current turn verbatim).
    pub(crate) fn compact(&self, conv: &mut Conversation, ts: &TurnState) -> bool {
        let keep = self.config.summary_keep_turns.max(1);
        match filters::summarize(
            &conv.history,
            keep,
            (self.config.history_char_budget / 2).max(600),
        ) {
            Some(h) => {
                conv.history = h;
                self.fix_turn_start(conv, ts);
                true
            }
            None => false,
        }
    }

    /// After a filter rewrote history, point the turn start at this turn's caller message.
    pub(crate) fn fix_turn_start(&self, conv: &mut Conversation, ts: &TurnState) {
        conv.turn_history_start = if ts.has_user {
            conv.history
                .iter()
                .rposition(|m| matches!(m, ChatMessage::User { .. }))
                .unwrap_or(0)
        } else {
            conv.history.len()
        };
    }

    /// Speak a runtime line as the active agent (guarded lines only).
    pub(crate) fn say(
        &self,
        conv: &mut Conversation,
        ts: &mut TurnState,
        text: &str,
        events: &UnboundedSender<RunEvent>,
    ) {
        let agent = conv.active.clone();
        if ts.first_sentence_at.is_none() {
            ts.first_sentence_at = Some(Instant::now());
        }
        let _ = events.send(RunEvent::Say {
            agent: agent.clone(),
            text: text.to_string(),
        });
        conv.push_agent_text(&agent, text);
        conv.remember_said(&[text.to_string()]);
        conv.history.push(ChatMessage::Assistant {
            content: Some(text.to_string()),
            tool_calls: Vec::new(),
        });
        conv.greeted = true;
        push_reply(&mut ts.reply, text);
        ts.step_spoke = true;
    }

    /// Apologise/offer a person; a "yes" next turn escalates.
    pub(crate) fn offer_human(
        &self,
        conv: &mut Conversation,
        ts: &mut TurnState,
        text: &str,
        events: &UnboundedSender<RunEvent>,
    ) {
        self.say(conv, ts, text, events);
        conv.human_offered = true;
    }

    pub(crate) fn end_call(
        &self,
        conv: &mut Conversation,
        ts: &mut TurnState,
        events: &UnboundedSender<RunEvent>,
    ) {
        conv.trace.outcome = Some(crate::agents::trace::Outcome::Completed);
        ts.ended = true;
        let _ = events.send(RunEvent::EndCall);
    }
}

/// The caller's input with card numbers (and configured patterns) masked.
fn masked(input: CallerInput) -> CallerInput {
    let redactor = crate::redact::global();
    match input {
        CallerInput::Speech { text, confidence } => CallerInput::Speech {
            text: redactor.redact(&text).into_owned(),
            confidence,
        },
        CallerInput::Dtmf { digits } => CallerInput::Dtmf {
            digits: redactor.redact(&digits).into_owned(),
        },
        CallerInput::Silence => CallerInput::Silence,
    }
}

fn push_reply(reply: &mut String, text: &str) {
    if !reply.is_empty() {
        reply.push(' ');
    }
    reply.push_str(text);
}
