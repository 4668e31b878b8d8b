//! What the runner does with a model's tool calls: ownership checks, tool
//! execution, handoffs (hooks, filters, the ping-pong guard) and escalation.

use serde_json::{json, Value};
use tokio::sync::mpsc::UnboundedSender;
use tokio::time::Instant;
use tracing::Instrument;

use crate::agents::conversation::Conversation;
use crate::agents::error::AgentError;
use crate::agents::escalation;
use crate::agents::events::RunEvent;
use crate::agents::filters;
use crate::agents::handoff::{self, transfer_target};
use crate::agents::hooks;
use crate::agents::model::{ChatMessage, ToolCall};
use crate::agents::runner::{NextStep, Runtime, TurnState};
use crate::agents::spec::{AgentSpec, HUMAN};
use crate::agents::tools::{self, ToolContext};
use crate::agents::trace::{ms, HandoffRecord, Outcome, ToolCallRecord, Trigger};
use crate::store::customers;

impl Runtime {
    fn tool_context(&self, conv: &Conversation) -> ToolContext {
        ToolContext {
            store: self.store.clone(),
            call_id: conv.caller.call_id.clone(),
            phone: conv.caller.caller_number(),
            customer_id: conv.customer_id,
            last_caller_text: conv.last_caller_text.clone(),
        }
    }

    /// Execute one model step's tool calls and decide the next step.
    pub(crate) async fn run_tools(
        &self,
        conv: &mut Conversation,
        ts: &mut TurnState,
        agent: &AgentSpec,
        calls: Vec<ToolCall>,
        events: &UnboundedSender<RunEvent>,
    ) -> Result<NextStep, AgentError> {
        let mut results: Vec<(String, Value)> = Vec::with_capacity(calls.len());
        let mut next: Option<NextStep> = None;
        let mut ping_pong = false;
        let mut end_call = false;
        for call in &calls {
            let t0 = Instant::now();
            let parsed: Result<Value, _> = serde_json::from_str(&call.arguments);
            let args = parsed.as_ref().ok().cloned().unwrap_or(Value::Null);
            let (result, refused) = if parsed.is_err() || !args.is_object() {
                (
                    json!({"error": "invalid_arguments", "detail": "arguments must be a JSON object"}),
                    false,
                )
            } else if let Some(target) = transfer_target(&call.name) {
                if agent.handoff(target).is_none() {
                    (
                        json!({"error": "not_available", "detail": format!("{} cannot hand off to {target}", agent.name)}),
                        true,
                    )
                } else if next.is_some() {
                    (
                        json!({"error": "one_handoff_at_a_time", "detail": "only the first handoff of a step is taken"}),
                        true,
                    )
                } else {
                    let (trigger, reason) = handoff::parse_args(target, &args);
                    let bounced = bounces(conv, &agent.name, target);
                    let same_turn = ts.visited.iter().any(|v| v == target);
                    if target != HUMAN && (same_turn || bounced >= self.config.max_bounces) {
                        ping_pong = true;
                        let refusal = if same_turn {
                            format!("{target} already handled this caller turn; bouncing back without new caller input is not allowed")
                        } else {
                            format!("the call has gone back and forth between {} and {target} {bounced} times in a row", agent.name)
                        };
                        let rec = HandoffRecord {
                            turn: ts.turn,
                            from: agent.name.clone(),
                            to: target.to_string(),
                            trigger,
                            reason,
                            on_handoff: None,
                            on_handoff_ms: 0.0,
                            filters: Vec::new(),
                            refused: true,
                            refusal: Some(refusal.clone()),
                        };
                        tracing::warn!(from = %agent.name, to = target, "ping-pong handoff refused");
                        conv.trace.handoffs.push(rec.clone());
                        let _ = events.send(RunEvent::Handoff(rec));
                        (
                            json!({"error": "handoff_refused", "detail": format!("{refusal}. Offer the caller a person from our team instead.")}),
                            true,
                        )
                    } else if target == HUMAN {
                        next = Some(NextStep::Escalate { trigger, reason });
                        (json!({"status": "escalating", "to": HUMAN}), false)
                    } else {
                        next = Some(NextStep::Handoff {
                            to: target.to_string(),
                            trigger,
                            reason,
                        });
                        (json!({"status": "transferred", "to": target}), false)
                    }
                }
            } else if !agent.owns_tool(&call.name) {
                tracing::warn!(agent = %agent.name, tool = %call.name, "refused a tool the agent does not own");
                (
                    json!({"error": "tool_not_available", "detail": format!("the {} agent cannot use {}", agent.name, call.name)}),
                    true,
                )
            } else {
                let ctx = self.tool_context(conv);
                match tools::execute(&call.name, &ctx, &args).await {
                    Ok(out) => {
                        if out.customer_id.is_some() {
                            conv.customer_id = out.customer_id;
                        }
                        end_call |= out.end_call;
                        (out.result, false)
                    }
                    Err(e) => {
                        tracing::error!(tool = %call.name, error = %e, "tool failed");
                        conv.trace
                            .errors
                            .push(format!("turn {}: tool {} failed: {e}", ts.turn, call.name));
                        (
                            json!({"error": "internal", "detail": "the account system is not answering; apologise and offer a ticket or a person", "say": crate::agents::tools::caller_phrase("internal")}),
                            false,
                        )
                    }
                }
            };
            let rec = ToolCallRecord {
                turn: ts.turn,
                agent: agent.name.clone(),
                name: call.name.clone(),
                arguments: args,
                result: result.clone(),
                ms: ms(t0.elapsed()),
                refused,
            };
            conv.trace.tool_calls.push(rec.clone());
            let _ = events.send(RunEvent::ToolCall(rec));
            results.push((call.id.clone(), result));
        }
        for (id, result) in results {
            conv.history.push(ChatMessage::Tool {
                tool_call_id: id,
                content: result.to_string(),
            });
        }
        if let Some(step) = next {
            return Ok(step);
        }
        if ping_pong {
            self.offer_human(conv, ts, "I'm sorry for the back and forth. Would you like a person from our team to sort this out?", events);
            return Ok(NextStep::FinalOutput);
        }
        Ok(if end_call {
            NextStep::EndCall
        } else {
            NextStep::RunAgain
        })
    }

    /// Swap the active agent: filters, on_handoff hook, the handoff note, trace.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn handoff(
        &self,
        conv: &mut Conversation,
        ts: &mut TurnState,
        from: &AgentSpec,
        to: &str,
        trigger: Trigger,
        reason: String,
        events: &UnboundedSender<RunEvent>,
    ) -> Result<(), AgentError> {
        let span = tracing::info_span!("handoff", from = %from.name, to, trigger = ?trigger, reason = %reason);
        async {
            let t0 = Instant::now();
            let spec = from.handoff(to).cloned();
            let mut applied = Vec::new();
            let filter = spec.as_ref().and_then(|s| s.input_filter.clone());
            if filter.as_deref() == Some("remove_tools") {
                conv.history = filters::remove_tools(&conv.history);
                self.fix_turn_start(conv, ts);
                applied.push("remove_tools".to_string());
            }
            let over_budget =
                filters::history_chars(&conv.history) > self.config.history_char_budget;
            if (filter.as_deref() == Some("summary") || over_budget) && self.compact(conv, ts) {
                applied.push("summary".to_string());
            }
            let hook = spec.as_ref().and_then(|s| s.on_handoff.clone());
            if let Some(h) = &hook {
                let ctx = self.tool_context(conv);
                match hooks::run(h, &ctx).await {
                    Ok(out) => {
                        if out.customer_id.is_some() {
                            conv.customer_id = out.customer_id;
                        }
                        if let Some(m) = out.system_message {
                            conv.history.push(ChatMessage::System { content: m });
                        }
                    }
                    Err(e) => {
                        tracing::error!(hook = %h, error = %e, "on_handoff hook failed");
                        conv.trace
                            .errors
                            .push(format!("turn {}: hook {h} failed: {e}", ts.turn));
                    }
                }
            }
            conv.history.push(ChatMessage::System {
                content: handoff::handoff_note(&from.name, to, &reason),
            });
            let rec = HandoffRecord {
                turn: ts.turn,
                from: from.name.clone(),
                to: to.to_string(),
                trigger,
                reason,
                on_handoff: hook,
                on_handoff_ms: ms(t0.elapsed()),
                filters: applied,
                refused: false,
                refusal: None,
            };
            tracing::info!(on_handoff_ms = rec.on_handoff_ms, "handoff");
            conv.active = to.to_string();
            conv.trace.path.push(to.to_string());
            conv.trace.handoffs.push(rec.clone());
            ts.visited.push(to.to_string());
            ts.handoffs += 1;
            let _ = events.send(RunEvent::AgentChanged {
                from: from.name.clone(),
                to: to.to_string(),
            });
            let _ = events.send(RunEvent::Handoff(rec));
            Ok(())
        }
        .instrument(span)
        .await
    }

    /// Hand the call to a person: path gets `human`, outcome `escalated`, the call
    /// layer gets `Escalate{reason, brief}`.
    pub(crate) async fn escalate(
        &self,
        conv: &mut Conversation,
        ts: &mut TurnState,
        trigger: Trigger,
        reason: String,
        events: &UnboundedSender<RunEvent>,
    ) -> Result<(), AgentError> {
        let span = tracing::info_span!("handoff", from = %conv.active, to = HUMAN, trigger = ?trigger, reason = %reason);
        async {
            let said = ts.reply.to_lowercase();
            let announced = ["person", "someone", "colleague"]
                .iter()
                .any(|w| said.contains(w));
            if self.config.live_transfer && !(ts.step_spoke && announced) {
                self.say(
                    conv,
                    ts,
                    "One moment while I get a person on the line.",
                    events,
                );
            }
            let customer = match conv.customer_id {
                Some(id) => self
                    .store
                    .run(move |c| customers::customer_by_id(c, id))
                    .await
                    .ok()
                    .flatten(),
                None => match conv.caller.caller_number() {
                    Some(p) => self
                        .store
                        .run(move |c| customers::customer_by_phone(c, &p))
                        .await
                        .ok()
                        .flatten(),
                    None => None,
                },
            };
            let brief = escalation::brief(conv, customer.as_ref(), &reason);
            if !self.config.live_transfer {
                // No one can be dialled: arrange a call back, with the brief as a
                // ticket, and say exactly that.
                let line = self
                    .arrange_call_back(conv, customer.as_ref(), &brief)
                    .await;
                self.say(conv, ts, &line, events);
            }
            let from = conv.active.clone();
            let rec = HandoffRecord {
                turn: ts.turn,
                from: from.clone(),
                to: HUMAN.to_string(),
                trigger,
                reason: reason.clone(),
                on_handoff: None,
                on_handoff_ms: 0.0,
                filters: Vec::new(),
                refused: false,
                refusal: None,
            };
            tracing::info!(brief = %brief, "escalating to a person");
            conv.trace.handoffs.push(rec.clone());
            conv.trace.path.push(HUMAN.to_string());
            conv.trace.outcome = Some(Outcome::Escalated);
            conv.trace.escalation_brief = Some(brief.clone());
            conv.active = HUMAN.to_string();
            ts.escalated = true;
            ts.handoffs += 1;
            let _ = events.send(RunEvent::AgentChanged {
                from,
                to: HUMAN.to_string(),
            });
            let _ = events.send(RunEvent::Handoff(rec));
            let _ = events.send(RunEvent::Escalate { reason, brief });
            Ok(())
        }
        .instrument(span)
        .await
    }
}

impl Runtime {
    /// Open a call-back ticket holding the escalation brief; the line that tells the
    /// caller what happens next (with the ticket number).
    async fn arrange_call_back(
        &self,
        conv: &mut Conversation,
        customer: Option<&customers::Customer>,
        brief: &str,
    ) -> String {
        let customer_id = customer.map(|c| c.id).or(conv.customer_id);
        let number = conv.caller.caller_number();
        let summary = match &number {
            Some(n) => format!("Call back {n}. {brief}"),
            None => format!("Call back (no caller ID). {brief}"),
        };
        let ticket = self
            .store
            .run(move |c| customers::open_ticket(c, customer_id, "callback", &summary))
            .await;
        match (ticket, number) {
            (Ok(t), Some(_)) => {
                conv.trace.callback_ticket = Some(t.id);
                format!(
                    "I've asked a colleague to call you back at this number, and I've opened ticket {} with everything you've told me, so you won't have to repeat yourself. Thanks for calling.",
                    t.id
                )
            }
            (Ok(t), None) => {
                conv.trace.callback_ticket = Some(t.id);
                format!(
                    "I've opened ticket {} with everything you've told me. Your number didn't come through, so please call back and mention that ticket number, and a colleague will pick it up. Thanks for calling.",
                    t.id
                )
            }
            (Err(e), _) => {
                tracing::warn!(error = %e, "could not open the call-back ticket");
                conv.trace
                    .errors
                    .push(format!("call-back ticket not opened: {e}"));
                "I've noted everything you've told me, and a colleague will call you back at this number. Thanks for calling.".into()
            }
        }
    }
}

/// How many of the latest handoffs in a row went between `a` and `b` (either way).
fn bounces(conv: &Conversation, a: &str, b: &str) -> usize {
    conv.trace
        .handoffs
        .iter()
        .rev()
        .filter(|h| !h.refused)
        .take_while(|h| (h.from == a && h.to == b) || (h.from == b && h.to == a))
        .count()
}
