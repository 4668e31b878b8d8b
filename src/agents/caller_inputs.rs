//! How each kind of caller input enters a turn: speech (masked card numbers, low
//! recognition confidence asks again and then offers a person, a yes to a person
//! already offered escalates), keypad digits (the operator key asks for a person) and
//! silence (re-prompts that never repeat, then a goodbye). The agent loop
//! ([`Runtime::agent_loop`]) takes it from there.

use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use crate::agents::confirm;
use crate::agents::conversation::Conversation;
use crate::agents::error::AgentError;
use crate::agents::events::{CallerInput, RunEvent};
use crate::agents::model::ChatMessage;
use crate::agents::runner::{Runtime, TurnState};
use crate::agents::trace::Trigger;

/// What the runtime says on a silent line: the first not yet said in the call, so a
/// second silent spell later in the call hears other words (never the same twice in
/// a row).
pub(crate) const REPROMPTS: [&str; 4] = [
    "Are you still there?",
    "I'm still here whenever you're ready. How can I help?",
    "Hello? I'm still on the line.",
    "Take your time, I'm here when you're ready.",
];

/// What the runtime says to a turn recognised with low confidence: the first not yet
/// said in the call.
pub(crate) const LOW_CONFIDENCE_LINES: [&str; 3] = [
    "Sorry, I didn't quite catch that. Could you say it again?",
    "Sorry, the line broke up a little there. Could you say that once more?",
    "I missed some of that, I'm afraid. Could you repeat it?",
];

/// The first of `lines` not yet said in this call; when all were, the one after the
/// line said last (so the same line never comes twice in a row).
fn unsaid<'a>(conv: &Conversation, lines: &[&'a str]) -> &'a str {
    let said = |line: &str| {
        conv.history.iter().any(
            |m| matches!(m, ChatMessage::Assistant { content: Some(c), .. } if c.trim() == line),
        )
    };
    if let Some(line) = lines.iter().find(|l| !said(l)) {
        return line;
    }
    let last = conv.history.iter().rev().find_map(|m| match m {
        ChatMessage::Assistant {
            content: Some(c), ..
        } => lines.iter().position(|l| c.trim() == *l),
        _ => None,
    });
    lines[last.map_or(0, |i| (i + 1) % lines.len())]
}

impl Runtime {
    pub(crate) async fn handle_input(
        &self,
        conv: &mut Conversation,
        ts: &mut TurnState,
        input: CallerInput,
        events: &UnboundedSender<RunEvent>,
        cancel: &CancellationToken,
    ) -> Result<(), AgentError> {
        let cfg = &self.config;
        match input {
            CallerInput::Speech { text, .. } if text.trim().is_empty() => {
                return self.on_silence(conv, ts, events)
            }
            CallerInput::Silence => return self.on_silence(conv, ts, events),
            CallerInput::Speech { text, confidence } => {
                conv.silence_streak = 0;
                let text = text.trim().to_string();
                conv.push_caller(&text);
                if confidence < cfg.low_confidence_threshold {
                    conv.low_confidence_streak += 1;
                    tracing::info!(
                        confidence,
                        streak = conv.low_confidence_streak,
                        "low-confidence caller turn"
                    );
                    if conv.low_confidence_streak >= cfg.max_low_confidence_turns {
                        let reason = format!(
                            "speech confidence below {} for {} turns in a row",
                            cfg.low_confidence_threshold, conv.low_confidence_streak
                        );
                        self.say(
                            conv,
                            ts,
                            "I'm sorry, I'm having trouble hearing you.",
                            events,
                        );
                        return self
                            .escalate(conv, ts, Trigger::Confidence, reason, events)
                            .await;
                    }
                    let line = unsaid(conv, &LOW_CONFIDENCE_LINES);
                    self.say(conv, ts, line, events);
                    return Ok(());
                }
                conv.low_confidence_streak = 0;
                conv.last_caller_text = text.clone();
                conv.history.push(ChatMessage::User {
                    content: text.clone(),
                });
                ts.has_user = true;
                // A yes to our offer of a person — not "okay, just text me the bill,
                // thanks, bye", which asks for something else and leaves.
                let takes_person = confirm::accepts(&text)
                    && (!confirm::makes_request(&text) || confirm::asks_for_person(&text));
                if std::mem::take(&mut conv.human_offered) && takes_person {
                    return self
                        .escalate(
                            conv,
                            ts,
                            Trigger::Escalation,
                            "the caller accepted the offer of a person".into(),
                            events,
                        )
                        .await;
                }
            }
            CallerInput::Dtmf { digits } => {
                conv.silence_streak = 0;
                conv.push_caller(&format!("[keypad {digits}]"));
                conv.last_caller_text = digits.clone();
                conv.history.push(ChatMessage::User {
                    content: format!("(The caller pressed {digits} on the keypad.)"),
                });
                ts.has_user = true;
                conv.human_offered = false;
                let operator = &self.config.operator_key;
                if confirm::keys_ask_for_person(&digits, operator) {
                    let reason = format!("the caller pressed {operator} for a person");
                    return self
                        .escalate(conv, ts, Trigger::Escalation, reason, events)
                        .await;
                }
            }
        }
        self.agent_loop(conv, ts, events, cancel).await
    }

    fn on_silence(
        &self,
        conv: &mut Conversation,
        ts: &mut TurnState,
        events: &UnboundedSender<RunEvent>,
    ) -> Result<(), AgentError> {
        conv.silence_streak += 1;
        if conv.silence_streak >= self.config.max_silences {
            self.say(conv, ts, "I haven't heard anything for a while, so I'll let you go. Feel free to call back any time. Goodbye!", events);
            self.end_call(conv, ts, events);
        } else {
            // Never the same words twice in a row on a silent line, nor the words of
            // an earlier silent spell.
            let line = unsaid(conv, &REPROMPTS);
            self.say(conv, ts, line, events);
        }
        Ok(())
    }
}
