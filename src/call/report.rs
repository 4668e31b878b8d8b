//! What a call leaves behind: counters, the voice-side trace (per-turn latencies,
//! barge-ins, false interruptions, escalation) and the conversion of all of it, plus
//! the agent conversation, into the stored call record.

use std::time::Duration;

use serde::Serialize;
use serde_json::json;

use super::machine::Measure;
use super::End;
use crate::agents::Conversation;
use crate::agents::{Outcome, TurnId};
use crate::metrics::Metrics;
use crate::store::calls::{CallUpdate, TranscriptLine};
use crate::telephony::CodecStats;

/// Accumulated facts about one call.
#[derive(Debug, Default, Clone)]
pub struct CallReport {
    pub frames_in: u64,
    pub frames_out: u64,
    pub errors: u64,
    pub marks_sent: u64,
    /// (marks echoed, everything the caller heard), from the machine.
    pub heard: (u64, String),
    pub stt_dropped: u64,
    pub greeting: Option<(String, String)>,
    pub escalation_brief: Option<String>,
    pub transferred_to: Option<String>,
    pub recording: Option<String>,
    turns: Vec<TurnLatency>,
    barge_ins: Vec<BargeIn>,
    false_interruptions: Vec<serde_json::Value>,
}

/// Latency of one reply, from the end of the caller's speech, in milliseconds.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TurnLatency {
    pub turn: TurnId,
    pub stt_final_ms: f64,
    pub first_token_ms: Option<f64>,
    pub first_audio_ms: Option<f64>,
    pub first_frame_ms: f64,
    /// End of speech → the turn ended (the endpoint wait; speech turns only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint_ms: Option<f64>,
    /// Waiting for a shared decode slot (local recognisers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stt_queue_ms: Option<f64>,
    /// The final decode (local recognisers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stt_decode_ms: Option<f64>,
    /// The decode started at the caller's pause (overlapping the endpoint wait).
    pub stt_speculative: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct BargeIn {
    turn: TurnId,
    reaction_ms: f64,
    heard_chars: usize,
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 10_000.0).round() / 10.0
}

impl CallReport {
    /// Record a measurement and export it as metrics.
    pub fn measure(&mut self, metrics: &Metrics, m: Measure) {
        match m {
            Measure::Turn {
                turn,
                stt_final,
                first_token,
                first_audio,
                first_frame,
                stt,
            } => {
                let h = &metrics.turn_latency;
                if let Some(t) = stt.endpoint {
                    h.with_label_values(&["endpoint"]).observe(t.as_secs_f64());
                }
                if let Some(t) = stt.queue {
                    h.with_label_values(&["stt_queue"]).observe(t.as_secs_f64());
                }
                if let Some(t) = stt.decode {
                    h.with_label_values(&["stt_decode"])
                        .observe(t.as_secs_f64());
                }
                h.with_label_values(&["stt_final"])
                    .observe(stt_final.as_secs_f64());
                if let Some(t) = first_token {
                    h.with_label_values(&["first_token"])
                        .observe(t.as_secs_f64());
                }
                if let Some(t) = first_audio {
                    h.with_label_values(&["first_audio"])
                        .observe(t.as_secs_f64());
                }
                h.with_label_values(&["first_frame"])
                    .observe(first_frame.as_secs_f64());
                self.turns.push(TurnLatency {
                    turn,
                    stt_final_ms: ms(stt_final),
                    first_token_ms: first_token.map(ms),
                    first_audio_ms: first_audio.map(ms),
                    first_frame_ms: ms(first_frame),
                    endpoint_ms: stt.endpoint.map(ms),
                    stt_queue_ms: stt.queue.map(ms),
                    stt_decode_ms: stt.decode.map(ms),
                    stt_speculative: stt.speculative,
                });
            }
            Measure::BargeIn {
                turn,
                reaction,
                heard_chars,
            } => {
                metrics.barge_in_latency.observe(reaction.as_secs_f64());
                self.barge_ins.push(BargeIn {
                    turn,
                    reaction_ms: ms(reaction),
                    heard_chars,
                });
            }
            Measure::FalseInterruption { turn, text } => {
                self.false_interruptions
                    .push(json!({ "turn": turn, "text": text }));
            }
        }
    }

    /// The call record as of now; `end` is set when the call is over.
    pub fn update(
        &self,
        conv: Option<&Conversation>,
        protocol: &CodecStats,
        end: Option<End>,
    ) -> CallUpdate {
        let (agents, transcript, agent_trace, agent_outcome) = match conv {
            Some(c) => (
                c.agents_path(),
                c.transcript()
                    .into_iter()
                    .map(|t| TranscriptLine {
                        speaker: t.speaker,
                        agent: t.agent,
                        text: t.text,
                        interrupted: t.interrupted,
                    })
                    .collect(),
                serde_json::to_value(c.trace()).unwrap_or_default(),
                c.outcome(),
            ),
            None => {
                let (agents, transcript) = match &self.greeting {
                    Some((agent, _)) => {
                        let line = TranscriptLine {
                            speaker: "agent".into(),
                            agent: Some(agent.clone()),
                            text: self.heard.1.clone(),
                            interrupted: false,
                        };
                        (
                            vec![agent.clone()],
                            if self.heard.1.is_empty() {
                                vec![]
                            } else {
                                vec![line]
                            },
                        )
                    }
                    None => (vec![], vec![]),
                };
                (agents, transcript, serde_json::Value::Null, None)
            }
        };
        let outcome = end.map(|end| match agent_outcome {
            Some(outcome) => outcome,
            None if self.escalation_brief.is_some() => Outcome::Escalated,
            None => match end {
                End::HungUp => Outcome::Completed,
                End::Stopped if conv.is_none() => Outcome::Completed,
                End::Shutdown => Outcome::Interrupted,
                _ => Outcome::Hangup,
            },
        });
        let trace = json!({
            "agents": agent_trace,
            "voice": {
                "turns": self.turns,
                "bargeIns": self.barge_ins,
                "falseInterruptions": self.false_interruptions,
                "sttDropped": self.stt_dropped,
                "escalation": {
                    "brief": self.escalation_brief,
                    "transferredTo": self.transferred_to,
                },
            },
            "playout": {
                "marksSent": self.marks_sent,
                "marksHeard": self.heard.0,
                "heardText": self.heard.1,
            },
            "protocol": serde_json::to_value(protocol).unwrap_or_default(),
        });
        CallUpdate {
            frames_in: self.frames_in,
            frames_out: self.frames_out,
            errors: self.errors,
            agents,
            transcript,
            trace,
            recording: self.recording.clone(),
            outcome: outcome.map(|o| o.as_str().to_string()),
        }
    }
}
