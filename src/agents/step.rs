//! One model call: stream the completion, cut the text into sentences, pass each
//! through the reply guard and emit it at once, and assemble tool calls.

use crate::agents::turn_id::TurnId;
use std::collections::BTreeMap;

use futures::StreamExt;
use tokio::sync::mpsc::UnboundedSender;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::agents::events::RunEvent;
use crate::agents::guard::{self, Verdict};
use crate::agents::model::{ChatEvent, ChatModel, ChatRequest, ModelError, ToolCall};
use crate::agents::sentences::SentenceSplitter;
use crate::agents::trace::GuardRecord;

/// The result of one model call.
#[derive(Debug, Default)]
pub(crate) struct StepOutput {
    /// The model wrote text, even if the guard dropped all of it.
    pub wrote_text: bool,
    pub tool_calls: Vec<ToolCall>,
    /// Time the first sentence was emitted.
    pub first_sentence_at: Option<Instant>,
    pub cancelled: bool,
    pub error: Option<ModelError>,
    pub guard: Vec<GuardRecord>,
    /// What was emitted (guarded), sentence by sentence.
    pub sentences: Vec<String>,
    /// A sentence was dropped because it had been said before in the call.
    pub dropped_repeat: bool,
    /// Models of the chain that failed before this reply, and who served instead.
    pub switches: Vec<crate::agents::trace::ModelSwitch>,
    /// A repeated piece that ended at a clause boundary was dropped: the rest of its
    /// sentence goes too ("…restart your phone;" dropped leaves no "that fixes most
    /// crashes." behind).
    pub dropping_rest: bool,
    /// A piece that ended at a clause boundary was kept: the rest of its sentence is
    /// kept too, said before or not ("Yes, as I said, there's a known problem in
    /// Riverside: fiber cut near Magnolia Ave;" keeps "speeds reduced, … by 6 pm.").
    pub keeping_rest: bool,
}

impl StepOutput {
    /// What was emitted, sentences joined by spaces.
    pub fn spoken(&self) -> String {
        self.sentences.join(" ")
    }
}

/// Sentences this long (in words) are substance, not courtesy: never said twice in one
/// call ("Anything else?" may be).
const REPEAT_MIN_WORDS: usize = 7;

/// A substantive sentence's words, lower-case, for comparing what was said; `None`
/// for courtesy lines shorter than [`REPEAT_MIN_WORDS`].
pub(crate) fn repeat_key(sentence: &str) -> Option<String> {
    let ws = crate::agents::confirm::words(sentence);
    (ws.len() >= REPEAT_MIN_WORDS).then(|| ws.join(" "))
}

/// Emission context for one step.
pub(crate) struct Emitter<'a> {
    pub agent: &'a str,
    pub turn: TurnId,
    /// Strip greetings at the start of the reply (the caller was already greeted).
    pub strip_greeting: bool,
    pub events: &'a UnboundedSender<RunEvent>,
    /// Keys ([`repeat_key`]) of the substantive sentences already said in this call.
    pub said: &'a std::collections::HashSet<String>,
}

impl Emitter<'_> {
    fn sentence(&self, out: &mut StepOutput, sentence: String) {
        out.wrote_text = true;
        let at_start = out.sentences.is_empty();
        let text = match guard::judge(&sentence, self.strip_greeting && at_start) {
            Verdict::Keep => sentence,
            Verdict::Rewrite(t) => {
                out.guard
                    .push(self.record("repeated_greeting", &sentence, Some(&t)));
                t
            }
            Verdict::Drop(rule) => {
                // (Nothing of this sentence was kept: the next piece is judged anew.)
                out.keeping_rest = false;
                tracing::debug!(agent = self.agent, rule, sentence = %sentence, "guard dropped a sentence");
                out.guard.push(self.record(rule, &sentence, None));
                return;
            }
        };
        let ends_sentence = text
            .trim_end_matches(['"', '\'', '”', '’', ')'])
            .ends_with(['.', '!', '?', '…']);
        let repeated =
            !out.keeping_rest && repeat_key(&text).is_some_and(|key| self.said.contains(&key));
        if repeated || out.dropping_rest {
            tracing::debug!(agent = self.agent, sentence = %text, "guard dropped a repeated sentence");
            out.guard.push(self.record("repeated_reply", &text, None));
            out.dropped_repeat = true;
            out.dropping_rest = !ends_sentence;
            return;
        }
        out.keeping_rest = !ends_sentence;
        if out.first_sentence_at.is_none() {
            out.first_sentence_at = Some(Instant::now());
        }
        out.sentences.push(text.clone());
        let _ = self.events.send(RunEvent::Say {
            agent: self.agent.to_string(),
            text,
        });
    }

    fn record(&self, rule: &str, original: &str, emitted: Option<&str>) -> GuardRecord {
        GuardRecord {
            turn: self.turn,
            agent: self.agent.to_string(),
            rule: rule.to_string(),
            original: original.to_string(),
            emitted: emitted.map(str::to_string),
        }
    }
}

#[derive(Default)]
struct PartialCall {
    id: Option<String>,
    name: String,
    arguments: String,
}

/// Run one streamed completion. Never fails: errors and cancellation are reported in
/// the output, with whatever was already emitted kept.
pub(crate) async fn run(
    model: &dyn ChatModel,
    request: ChatRequest,
    emit: &Emitter<'_>,
    cancel: &CancellationToken,
) -> StepOutput {
    let mut out = StepOutput::default();
    let stream = tokio::select! {
        biased;
        _ = cancel.cancelled() => { out.cancelled = true; return out; }
        s = model.stream(request) => s,
    };
    let mut stream = match stream {
        Ok(s) => s,
        Err(e) => {
            out.error = Some(e);
            return out;
        }
    };
    let mut splitter = SentenceSplitter::new();
    let mut calls: BTreeMap<usize, PartialCall> = BTreeMap::new();
    loop {
        let next = tokio::select! {
            biased;
            _ = cancel.cancelled() => { out.cancelled = true; return out; }
            n = stream.next() => n,
        };
        match next {
            Some(Ok(ChatEvent::TextDelta(d))) => {
                for s in splitter.push(&d) {
                    emit.sentence(&mut out, s);
                }
            }
            Some(Ok(ChatEvent::ToolCallDelta {
                index,
                id,
                name,
                arguments,
            })) => {
                let c = calls.entry(index).or_default();
                if id.is_some() {
                    c.id = id;
                }
                if let Some(n) = name {
                    c.name.push_str(&n);
                }
                c.arguments.push_str(&arguments);
            }
            Some(Ok(ChatEvent::Switched { from, to, reason })) => {
                let switch = crate::agents::trace::ModelSwitch {
                    turn: emit.turn,
                    agent: emit.agent.to_string(),
                    from,
                    to,
                    reason,
                };
                let _ = emit.events.send(RunEvent::ModelSwitched(switch.clone()));
                out.switches.push(switch);
            }
            Some(Ok(ChatEvent::Finish(_))) | None => break,
            Some(Err(e)) => {
                if let Some(rest) = splitter.finish() {
                    emit.sentence(&mut out, rest);
                }
                out.error = Some(e);
                return out;
            }
        }
    }
    if let Some(rest) = splitter.finish() {
        emit.sentence(&mut out, rest);
    }
    out.tool_calls = calls
        .into_iter()
        .filter(|(_, c)| !c.name.is_empty())
        .map(|(i, c)| ToolCall {
            id: c.id.unwrap_or_else(|| format!("call_{}_{}", emit.turn, i)),
            name: c.name,
            arguments: if c.arguments.trim().is_empty() {
                "{}".into()
            } else {
                c.arguments
            },
        })
        .collect();
    out
}
