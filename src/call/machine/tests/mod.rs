//! Deterministic tests of every transition of the call state machine. Time is a
//! plain `Instant` advanced by hand; audio frames carry a scripted VAD probability.

use std::time::{Duration, Instant};

use super::*;

mod barge_in;
mod call_end;
mod continuing;
mod keypad;
mod replies;
mod turn_taking;
use crate::audio::frames::FRAME_BYTES;

const SPEECH: f32 = 0.9;
const QUIET: f32 = 0.05;

struct Rig {
    m: Machine,
    t0: Instant,
    now: Instant,
    log: Vec<(Duration, Action)>,
}

impl Rig {
    fn new() -> Self {
        Self::with(MachineConfig {
            playout_lead_frames: 0,
            ..MachineConfig::default()
        })
    }

    fn with(cfg: MachineConfig) -> Self {
        let t0 = Instant::now();
        Self {
            m: Machine::new(cfg),
            t0,
            now: t0,
            log: Vec::new(),
        }
    }

    /// How many logged actions match `f`.
    fn logged(&self, f: impl Fn(&Action) -> bool) -> usize {
        self.log.iter().filter(|(_, a)| f(a)).count()
    }

    fn drain(&mut self) -> Vec<Action> {
        let mut out = Vec::new();
        while let Some(a) = self.m.poll_action() {
            self.log.push((self.now - self.t0, a.clone()));
            out.push(a);
        }
        out
    }

    fn input(&mut self, i: Input) -> Vec<Action> {
        self.m.handle(self.now, i);
        self.drain()
    }

    /// Advance time by `ms`, firing timers on the way, echoing nothing.
    fn advance(&mut self, ms: u64) -> Vec<Action> {
        let end = self.now + Duration::from_millis(ms);
        let mut out = Vec::new();
        while let Some(t) = self.m.poll_timeout(self.now).filter(|t| *t <= end) {
            self.now = self.now.max(t);
            self.m.handle_timeout(self.now);
            out.extend(self.drain());
        }
        self.now = end;
        out
    }

    /// Feed `ms` of caller audio at VAD probability `p`, one frame per 20 ms, letting
    /// timers (playout) run in between.
    fn caller(&mut self, ms: u64, p: f32) -> Vec<Action> {
        let mut out = Vec::new();
        for _ in 0..ms / 20 {
            out.extend(self.advance(20));
            out.extend(self.input(Input::Audio {
                pcm16k: vec![0.0; 320],
                speech_prob: p,
            }));
        }
        out
    }

    /// The caller speaks for 600 ms, then is quiet long enough to end the turn.
    fn speak_and_pause(&mut self) -> Vec<Action> {
        let mut acts = self.caller(600, SPEECH);
        acts.extend(self.caller(600, QUIET));
        acts
    }

    /// Play out everything, echoing each mark as the carrier would.
    fn play_all(&mut self) -> Vec<Action> {
        let mut out = Vec::new();
        for _ in 0..10_000 {
            let acts = self.advance(20);
            let marks: Vec<String> = acts
                .iter()
                .filter_map(|a| {
                    if let Action::Mark(m) = a {
                        Some(m.clone())
                    } else {
                        None
                    }
                })
                .collect();
            out.extend(acts);
            for m in marks {
                out.extend(self.input(Input::Mark { name: m }));
            }
            if self.m.poll_timeout(self.now).is_none() || self.m.state() == State::Listening {
                break;
            }
        }
        out
    }

    /// Play out for `ms`, echoing each mark as the carrier would.
    fn play_for(&mut self, ms: u64) -> Vec<Action> {
        let mut out = Vec::new();
        for _ in 0..ms / 20 {
            let acts = self.advance(20);
            for a in &acts {
                if let Action::Mark(m) = a {
                    out.extend(self.input(Input::Mark { name: m.clone() }));
                }
            }
            out.extend(acts);
        }
        out
    }

    /// Let the bot play for `heard_ms`, then talk over it for 300 ms and pause until
    /// the turn ends; STT answers `text`.
    fn talk_over(&mut self, heard_ms: u64, text: &str) -> Vec<Action> {
        self.play_for(heard_ms);
        self.caller(300, SPEECH);
        self.caller(600, QUIET);
        self.input(Input::SttFinal {
            text: text.into(),
            confidence: 0.9,
            continued: false,
        })
    }

    /// A reply interrupted by "uh-huh" (a false interruption) and its unheard rest
    /// re-spoken and playing: (the caller's turn, the whole reply, what was heard of
    /// it before the interruption).
    fn respoken_rest(&mut self) -> (TurnId, &'static str, String) {
        self.input(Input::Start { greeting: None });
        let turn = caller_turn(self, "charged twice");
        let reply =
            "One two three four five six seven eight nine ten eleven twelve thirteen fourteen.";
        self.agent_says(turn, &[reply], 60);
        let acts = self.talk_over(400, "uh-huh");
        let (respoken_turn, rest) = acts
            .iter()
            .find_map(|a| match a {
                Action::Speak {
                    utterance, text, ..
                } => Some((*utterance, text.clone())),
                _ => None,
            })
            .expect("the unheard rest is re-spoken");
        assert!(reply.ends_with(&rest), "{rest:?}");
        let heard_before = reply[..reply.len() - rest.len()].trim().to_string();
        assert!(!heard_before.is_empty());
        self.input(Input::TtsAudio {
            utterance: respoken_turn,
            seq: 0,
            audio: vec![0x42; 60 * FRAME_BYTES],
        });
        self.input(Input::TtsDone {
            utterance: respoken_turn,
            seq: 0,
        });
        (turn, reply, heard_before)
    }

    /// The agent of `turn` says `sentences`; each is synthesized to `frames` frames.
    fn agent_says(&mut self, turn: TurnId, sentences: &[&str], frames: usize) -> Vec<Action> {
        let mut out = Vec::new();
        for s in sentences {
            out.extend(self.input(Input::AgentSay {
                turn,
                agent: "billing".into(),
                text: s.to_string(),
            }));
        }
        out.extend(self.input(Input::AgentDone { turn }));
        for seq in 0..sentences.len() as u32 {
            out.extend(self.input(Input::TtsAudio {
                utterance: turn,
                seq,
                audio: vec![0x42; frames * FRAME_BYTES],
            }));
            out.extend(self.input(Input::TtsDone {
                utterance: turn,
                seq,
            }));
        }
        out
    }
}

fn started_turn(actions: &[Action]) -> Option<(TurnId, CallerInput)> {
    actions.iter().find_map(|a| match a {
        Action::StartTurn { turn, input } => Some((*turn, input.clone())),
        _ => None,
    })
}

fn count(actions: &[Action], f: impl Fn(&Action) -> bool) -> usize {
    actions.iter().filter(|a| f(a)).count()
}

/// Caller says something and STT returns `text`; returns the started turn.
fn caller_turn(r: &mut Rig, text: &str) -> TurnId {
    let acts = r.speak_and_pause();
    assert!(
        acts.contains(&Action::SttFlush),
        "endpoint reached: {acts:?}"
    );
    let acts = r.input(Input::SttFinal {
        text: text.into(),
        confidence: 0.9,
        continued: false,
    });
    started_turn(&acts).expect("turn started").0
}
