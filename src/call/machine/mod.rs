//! The per-call conversation state machine, sans-IO.
//!
//! It decides *when* things happen on a call — when the caller's turn ends, when the
//! bot speaks, when a barge-in stops it, what the caller actually heard — and leaves
//! *doing* them to the session. Inputs are timestamped events ([`Input`]); outputs are
//! [`Action`]s drained with [`Machine::poll_action`]. Time only enters through the
//! `now` arguments, so every transition is tested deterministically.
//!
//! States: `Listening` → (VAD onset) `CallerSpeaking` → (endpoint: VAD silence, longer
//! when the words so far look unfinished) `Thinking` (STT final, agent turn running) →
//! (first audio) `Speaking` → (played out) `Listening`. Caller speech during
//! `Speaking` that lasts [`MachineConfig::barge_in_min`] is a barge-in: `clear` at once,
//! cancel the reply, keep only the heard text — unless the interruption proves false
//! (no words, or only a backchannel), in which case the unheard rest is re-spoken.
//! A caller who goes on before hearing any of the reply (a pause ended their turn
//! early) is continuing that turn: it is retracted and STT told to transcribe both
//! parts as one (`SttContinue`); the final transcript then replaces the first part's.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::playout::Playout;

/// Timing and threshold settings (all configurable under `[call]`).
#[derive(Debug, Clone)]
pub struct MachineConfig {
    /// VAD probability at or above which a frame is speech.
    pub vad_on: f32,
    /// VAD probability below which a frame is silence (hysteresis).
    pub vad_off: f32,
    /// Speech must last this long to count as the caller starting to talk.
    pub min_speech: Duration,
    /// Silence that ends the caller's turn.
    pub endpoint_silence: Duration,
    /// Silence that ends the turn when the words so far look unfinished ("and", "my", …).
    pub endpoint_silence_unfinished: Duration,
    /// Caller speech over the bot must last this long to interrupt it.
    pub barge_in_min: Duration,
    /// Audio kept from before speech onset and sent to STT with the turn.
    pub preroll: Duration,
    /// Caller silence after the bot finished before a re-prompt.
    pub reprompt_after: Duration,
    /// Re-prompts ("are you still there?") on a silent line; the silent turn after the
    /// last one is the closing turn: its reply (the goodbye) is heard in full, then the
    /// call ends.
    pub max_reprompts: u32,
    /// Wait after the last DTMF digit before passing the digits on (`#` ends at once).
    pub dtmf_timeout: Duration,
    /// A final transcript not back this long after the turn ended counts as empty.
    pub stt_timeout: Duration,
    /// 20 ms frames per marked chunk of outbound audio.
    pub frames_per_mark: usize,
    /// Frames sent ahead of real time.
    pub playout_lead_frames: usize,
    /// A mark not echoed this long after its audio should have played counts as heard.
    pub mark_timeout: Duration,
}

impl Default for MachineConfig {
    fn default() -> Self {
        Self {
            vad_on: 0.5,
            vad_off: 0.35,
            min_speech: Duration::from_millis(60),
            endpoint_silence: Duration::from_millis(500),
            endpoint_silence_unfinished: Duration::from_millis(1200),
            barge_in_min: Duration::from_millis(160),
            preroll: Duration::from_millis(200),
            reprompt_after: Duration::from_secs(8),
            max_reprompts: 2,
            dtmf_timeout: Duration::from_millis(1500),
            stt_timeout: Duration::from_secs(15),
            frames_per_mark: 10,
            playout_lead_frames: 2,
            mark_timeout: Duration::from_secs(3),
        }
    }
}

/// What the caller gave the agent this turn: the agents' own input type, so the
/// turn reaches the runtime as the machine decided it.
pub use crate::agents::CallerInput;

/// A timestamped event on the call.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// The media stream started; speak `greeting` (as `agent`) if given.
    Start {
        greeting: Option<(String, String)>,
    },
    /// One 20 ms frame of caller audio (16 kHz, for STT) with its VAD speech probability.
    Audio {
        pcm16k: Vec<f32>,
        speech_prob: f32,
    },
    SttPartial {
        text: String,
    },
    SttFinal {
        text: String,
        confidence: f32,
        /// The text also covers the utterance before the last [`Action::SttContinue`].
        continued: bool,
    },
    /// The agent produced a sentence to say in turn `turn`.
    AgentSay {
        turn: u64,
        agent: String,
        text: String,
    },
    /// The agent wants a human to take over after this reply.
    AgentEscalate {
        turn: u64,
        brief: String,
    },
    /// The agent ended the conversation (after this reply).
    AgentEndCall {
        turn: u64,
    },
    /// The agent turn finished (or was cancelled).
    AgentDone {
        turn: u64,
    },
    /// Audio of sentence `seq` of utterance `utterance`, 8 kHz μ-law.
    TtsAudio {
        utterance: u64,
        seq: u32,
        audio: Vec<u8>,
    },
    /// Sentence `seq` is fully synthesized.
    TtsDone {
        utterance: u64,
        seq: u32,
    },
    Mark {
        name: String,
    },
    Dtmf {
        digit: char,
    },
}

/// Something the session must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Send one 20 ms μ-law frame.
    Media(Vec<u8>),
    Mark(String),
    /// Tell the carrier to drop buffered audio (barge-in).
    Clear,
    /// Feed caller audio (16 kHz) to STT.
    SttAudio(Vec<f32>),
    /// The caller's turn ended: finalize STT.
    SttFlush,
    /// The caller went on after a pause that ended their turn, before any reply was
    /// heard: the audio that follows continues the flushed utterance.
    SttContinue,
    StartTurn {
        turn: u64,
        input: CallerInput,
    },
    CancelTurn {
        turn: u64,
    },
    /// Synthesize sentence `seq` of `utterance`.
    Speak {
        utterance: u64,
        seq: u32,
        text: String,
    },
    CancelSpeech {
        utterance: u64,
    },
    /// The reply of `turn` by `agent` was interrupted: the caller heard only `heard`.
    RecordHeard {
        turn: u64,
        agent: String,
        heard: String,
    },
    /// Turn `turn` was cut off before the caller heard anything and its caller words are
    /// merged into the next turn: forget it (its caller line and any partial reply).
    RetractTurn {
        turn: u64,
    },
    /// Transfer the call to a human with this brief, then the call ends.
    Transfer {
        brief: String,
    },
    Hangup,
    /// A measurement for the trace and metrics.
    Measure(Measure),
}

/// Latency and event measurements.
#[derive(Debug, Clone, PartialEq)]
pub enum Measure {
    /// End of caller speech → each stage of the reply, for turn `turn`.
    Turn {
        turn: u64,
        stt_final: Duration,
        first_token: Option<Duration>,
        first_audio: Option<Duration>,
        first_frame: Duration,
    },
    /// Speech onset → `clear` sent.
    BargeIn {
        turn: u64,
        reaction: Duration,
        heard_chars: usize,
    },
    /// An interruption that turned out to be noise or a backchannel.
    FalseInterruption { turn: u64, text: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Listening,
    CallerSpeaking,
    Thinking,
    Speaking,
    Ended,
}

/// One sentence of a reply, as it is synthesized and queued.
#[derive(Debug)]
struct Sentence {
    text: String,
    /// μ-law not yet cut into a chunk.
    pending: Vec<u8>,
    /// Audio bytes queued so far.
    queued: usize,
    /// Words already attached to queued chunks.
    words_used: usize,
    done: bool,
}

/// The reply being spoken.
#[derive(Debug)]
struct Reply {
    turn: u64,
    agent: String,
    sentences: Vec<Sentence>,
    heard: Vec<String>,
    /// Chunks whose mark came back (with or without words attached).
    chunks_heard: usize,
    agent_done: bool,
    end: Option<EndAfter>,
    /// The interrupted turn this reply re-states (false interruption), with what the
    /// caller had heard of it before.
    resumes: Option<(u64, String)>,
}

#[derive(Debug, Clone, PartialEq)]
enum EndAfter {
    Transfer(String),
    Hangup,
}

/// An interruption whose nature (real or false) is not known yet.
#[derive(Debug)]
struct Interruption {
    turn: u64,
    agent: String,
    heard: String,
    unheard: String,
    /// The call end the interrupted reply was leading to.
    end: Option<EndAfter>,
    /// The caller turn taken back because they went on before hearing its reply.
    retracted: Option<CallerInput>,
    /// A reply (or greeting) was cut off.
    cut_reply: bool,
}

impl Interruption {
    /// Whether the cut reply stays in the conversation, truncated to what was heard
    /// (possibly nothing); a retracted turn's reply leaves with the turn.
    fn truncates_reply(&self) -> bool {
        self.cut_reply && self.retracted.is_none()
    }
}

/// Timestamps of the turn in progress, for latency measurement.
#[derive(Debug, Default)]
struct TurnClock {
    speech_end: Option<Instant>,
    stt_final: Option<Instant>,
    first_token: Option<Instant>,
    first_audio: Option<Instant>,
    reported: bool,
}

/// The call state machine.
pub struct Machine {
    cfg: MachineConfig,
    state: State,
    actions: VecDeque<Action>,
    playout: Playout,
    /// Recent caller audio kept for pre-roll.
    preroll: VecDeque<Vec<f32>>,
    speech_run: Duration,
    silence_run: Duration,
    onset: Option<Instant>,
    last_speech: Option<Instant>,
    partial: String,
    /// Turn ends (STT flushes) whose final transcript has not come back yet.
    finals_pending: u32,
    /// Finals still to come for turn ends given up on after `stt_timeout`.
    finals_stale: u32,
    /// Transcript and DTMF digits of the last speech turn, restored if it is retracted.
    last_transcript: String,
    last_digits: String,
    /// When a missing final transcript is given up on.
    final_deadline: Option<Instant>,
    /// Caller text of a turn that was cut off by more caller speech before any reply played.
    carry: String,
    /// Input of the turn in progress (restarted if a false interruption cancelled it).
    last_input: Option<CallerInput>,
    turn: u64,
    running_turn: Option<u64>,
    reply: Option<Reply>,
    interruption: Option<Interruption>,
    clock: TurnClock,
    dtmf: String,
    dtmf_deadline: Option<Instant>,
    /// Digits typed during an utterance, added to its text when the transcript arrives.
    held_dtmf: String,
    reprompt_at: Option<Instant>,
    reprompts: u32,
    marks_heard: u64,
    /// Everything the caller has heard the bot say, confirmed by mark echoes.
    heard_log: String,
}

impl Machine {
    pub fn new(cfg: MachineConfig) -> Self {
        let playout = Playout::new(cfg.playout_lead_frames).with_mark_timeout(cfg.mark_timeout);
        Self {
            cfg,
            state: State::Listening,
            actions: VecDeque::new(),
            playout,
            preroll: VecDeque::new(),
            speech_run: Duration::ZERO,
            silence_run: Duration::ZERO,
            onset: None,
            last_speech: None,
            partial: String::new(),
            finals_pending: 0,
            finals_stale: 0,
            last_transcript: String::new(),
            last_digits: String::new(),
            final_deadline: None,
            carry: String::new(),
            last_input: None,
            turn: 0,
            running_turn: None,
            reply: None,
            interruption: None,
            clock: TurnClock::default(),
            dtmf: String::new(),
            dtmf_deadline: None,
            held_dtmf: String::new(),
            reprompt_at: None,
            reprompts: 0,
            marks_heard: 0,
            heard_log: String::new(),
        }
    }

    pub fn state(&self) -> State {
        self.state
    }

    /// (marks echoed, everything the caller heard so far).
    pub fn heard(&self) -> (u64, String) {
        (self.marks_heard, self.heard_log.clone())
    }

    /// Frames of bot audio sent so far.
    pub fn frames_sent(&self) -> u64 {
        self.playout.frames_sent()
    }

    /// Next action for the session, if any.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// When [`Machine::handle_timeout`] must next be called.
    pub fn poll_timeout(&self, now: Instant) -> Option<Instant> {
        [
            self.playout.next_deadline(now),
            self.playout.mark_deadline(),
            self.dtmf_deadline,
            self.reprompt_at,
            self.final_deadline,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Advance timers to `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let before = self.state;
        self.on_timeout(now);
        self.trace_state(before);
    }

    /// Feed one input event.
    pub fn handle(&mut self, now: Instant, input: Input) {
        let before = self.state;
        self.on_input(now, input);
        self.trace_state(before);
    }

    fn trace_state(&self, before: State) {
        if self.state != before {
            tracing::debug!(from = ?before, to = ?self.state, turn = self.turn, "call state");
        }
    }

    fn on_timeout(&mut self, now: Instant) {
        let overdue = self.playout.expire(now);
        if !overdue.is_empty() {
            tracing::warn!(
                chunks = overdue.len(),
                "carrier did not echo marks in time; treating the audio as heard"
            );
            self.record_heard_chunks(overdue);
        }
        if self.final_deadline.is_some_and(|d| d <= now) {
            tracing::warn!(
                "no transcript from speech recognition in time; treating the turn as unheard"
            );
            self.give_up_on_finals(now);
        }
        if self.dtmf_deadline.is_some_and(|d| d <= now) {
            self.dtmf_deadline = None;
            self.submit_dtmf(now);
        }
        if self.reprompt_at.is_some_and(|d| d <= now) {
            self.reprompt_at = None;
            self.reprompts += 1;
            if self.reprompts > self.cfg.max_reprompts + 1 {
                // Backstop: the closing turn was given and did not end the call.
                self.end_call(EndAfter::Hangup);
            } else {
                self.start_turn(now, CallerInput::Silence);
                if self.reprompts > self.cfg.max_reprompts {
                    // The closing silent turn: its reply (the agents' goodbye) is
                    // heard in full, then the call ends.
                    self.set_end(self.turn, EndAfter::Hangup);
                }
            }
        }
        self.pump(now);
    }

    fn on_input(&mut self, now: Instant, input: Input) {
        if self.state == State::Ended {
            return;
        }
        match input {
            Input::Start { greeting } => {
                if let Some((agent, text)) = greeting {
                    self.turn += 1;
                    let turn = self.turn;
                    self.say(turn, &agent, text);
                    if let Some(r) = self.reply.as_mut() {
                        r.agent_done = true;
                    }
                    self.state = State::Thinking;
                } else {
                    self.arm_reprompt(now);
                }
            }
            Input::Audio {
                pcm16k,
                speech_prob,
            } => self.on_audio(now, pcm16k, speech_prob),
            Input::SttPartial { text } => self.partial = text,
            Input::SttFinal {
                text,
                confidence,
                continued,
            } => self.on_final(now, text, confidence, continued),
            Input::AgentSay { turn, agent, text } => {
                if self.running_turn == Some(turn) {
                    if self.clock.first_token.is_none() {
                        self.clock.first_token = Some(now);
                    }
                    self.say(turn, &agent, text);
                }
            }
            Input::AgentEscalate { turn, brief } => self.set_end(turn, EndAfter::Transfer(brief)),
            Input::AgentEndCall { turn } => self.set_end(turn, EndAfter::Hangup),
            Input::AgentDone { turn } => {
                if self.running_turn == Some(turn) {
                    self.running_turn = None;
                    if let Some(r) = self.reply.as_mut().filter(|r| r.turn == turn) {
                        r.agent_done = true;
                    } else if self.state == State::Thinking {
                        // The agent said nothing: listen again.
                        self.state = State::Listening;
                        self.arm_reprompt(now);
                    }
                }
            }
            Input::TtsAudio {
                utterance,
                seq,
                audio,
            } => self.on_tts_audio(now, utterance, seq, audio, false),
            Input::TtsDone { utterance, seq } => {
                self.on_tts_audio(now, utterance, seq, Vec::new(), true)
            }
            Input::Mark { name } => {
                let heard = self.playout.on_mark(&name);
                self.record_heard_chunks(heard);
            }
            Input::Dtmf { digit } => self.on_dtmf(now, digit),
        }
        self.pump(now);
    }
}

impl Machine {
    /// Chunks the caller has heard (their marks came back, or timed out).
    fn record_heard_chunks(&mut self, heard: Vec<crate::call::playout::Heard>) {
        for h in heard {
            self.marks_heard += 1;
            let reply = self.reply.as_mut().filter(|r| r.turn == h.utterance);
            if let Some(r) = reply {
                r.chunks_heard += 1;
                if !h.text.is_empty() {
                    r.heard.push(h.text.clone());
                }
            }
            if h.text.is_empty() {
                continue;
            }
            if !self.heard_log.is_empty() {
                self.heard_log.push(' ');
            }
            self.heard_log.push_str(&h.text);
        }
    }
}

mod flow;
#[cfg(test)]
mod tests;
