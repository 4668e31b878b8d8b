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
use std::time::Instant;

use super::playout::{Heard, Playout, Send};
pub use crate::agents::{CallerInput, TurnId};

mod clock;
mod closing;
mod config;
mod endpointing;
mod events;
mod interruption;
mod keypad;
mod reply;
mod reprompt;
mod transcripts;

use clock::TurnClock;
pub use config::MachineConfig;
use endpointing::Endpointer;
pub use events::{Action, Input, Measure, State, SttStages};
use interruption::Interruption;
use keypad::Keypad;
use reply::{EndAfter, Reply};
use reprompt::Reprompter;
use transcripts::Transcripts;

/// The call state machine: routes each input to the part that owns it.
pub struct Machine {
    cfg: MachineConfig,
    state: State,
    actions: VecDeque<Action>,
    /// When the caller starts and stops talking.
    ep: Endpointer,
    /// Final transcripts owed and the words they add up to.
    transcripts: Transcripts,
    keypad: Keypad,
    reprompt: Reprompter,
    playout: Playout,
    /// The latest turn id handed out ([`TurnId::GREETING`] before any).
    turn: TurnId,
    /// The agent turn in flight.
    running_turn: Option<TurnId>,
    /// Input of the last caller turn (run again, or joined with keys, if taken back).
    last_input: Option<CallerInput>,
    reply: Option<Reply>,
    interruption: Option<Interruption>,
    clock: TurnClock,
    marks_heard: u64,
    /// Everything the caller has heard the bot say, confirmed by mark echoes.
    heard_log: String,
    /// The agent that spoke last (the closing line is said in its voice).
    last_agent: String,
    /// We are closing the call: only our closing line plays.
    closing: bool,
}

impl Machine {
    pub fn new(cfg: MachineConfig) -> Self {
        let playout = Playout::new(cfg.playout_lead_frames).with_mark_timeout(cfg.mark_timeout);
        Self {
            ep: Endpointer::new(&cfg),
            transcripts: Transcripts::new(cfg.stt_timeout),
            keypad: Keypad::new(cfg.dtmf_timeout),
            reprompt: Reprompter::new(cfg.reprompt_after, cfg.max_reprompts),
            cfg,
            state: State::Listening,
            actions: VecDeque::new(),
            playout,
            turn: TurnId::GREETING,
            running_turn: None,
            last_input: None,
            reply: None,
            interruption: None,
            clock: TurnClock::default(),
            marks_heard: 0,
            heard_log: String::new(),
            last_agent: String::new(),
            closing: false,
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
            self.keypad.deadline(),
            self.reprompt.deadline(),
            self.transcripts.deadline(),
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
            tracing::debug!(from = ?before, to = ?self.state, turn = %self.turn, "call state");
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
        if self.transcripts.deadline().is_some_and(|d| d <= now) {
            tracing::warn!(
                "no transcript from speech recognition in time; treating the turn as unheard"
            );
            self.give_up_on_finals(now);
        }
        if let Some(digits) = self.keypad.due(now) {
            self.submit_dtmf(now, digits);
        }
        self.on_reprompt_timer(now);
        self.pump(now);
    }

    fn on_input(&mut self, now: Instant, input: Input) {
        if self.state == State::Ended {
            return;
        }
        if self.closing && !closing::plays_while_closing(&input) {
            return;
        }
        match input {
            Input::Start { greeting } => match greeting {
                Some((agent, text)) => {
                    self.say(TurnId::GREETING, &agent, text);
                    if let Some(r) = self.reply.as_mut() {
                        r.agent_done = true;
                    }
                    self.state = State::Thinking;
                }
                None => self.listen(now),
            },
            Input::Audio {
                pcm16k,
                speech_prob,
            } => self.on_audio(now, pcm16k, speech_prob),
            Input::SttPartial { text } => self.transcripts.set_partial(text),
            Input::SttTentative { text } => self.on_tentative(now, text),
            Input::SttDecoded {
                queue,
                decode,
                speculative,
            } => self.clock.decoded(queue, decode, speculative),
            Input::SttFinal {
                text,
                confidence,
                continued,
            } => self.on_final(now, text, confidence, continued),
            Input::AgentSay { turn, agent, text } => {
                if self.running_turn == Some(turn) {
                    self.clock.first_token(now);
                    self.say(turn, &agent, text);
                }
            }
            Input::AgentEscalate { turn, brief } => self.set_end(turn, EndAfter::Transfer(brief)),
            Input::AgentEndCall { turn } => self.set_end(turn, EndAfter::Hangup),
            Input::VoiceGaveUp { utterance } => {
                match self.reply.as_mut().filter(|r| r.turn == utterance) {
                    Some(reply) => reply.end = Some(EndAfter::Hangup),
                    None if self.state != State::Ended => self.end_call(EndAfter::Hangup),
                    None => {}
                }
            }
            Input::AgentDone { turn } => {
                if self.running_turn == Some(turn) {
                    self.running_turn = None;
                    if let Some(r) = self.reply.as_mut().filter(|r| r.turn == turn) {
                        r.agent_done = true;
                    } else if self.state == State::Thinking {
                        // The agent said nothing: listen again.
                        self.listen(now);
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
            Input::Close { text } => self.close(text),
        }
        self.pump(now);
    }

    /// Chunks the caller has heard (their marks came back, or timed out).
    fn record_heard_chunks(&mut self, heard: Vec<Heard>) {
        for h in heard {
            self.marks_heard += 1;
            if let Some(r) = self.reply.as_mut().filter(|r| r.turn == h.utterance) {
                r.on_heard(&h.text);
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

    /// Hand the agents a new turn.
    fn start_turn(&mut self, now: Instant, input: CallerInput) {
        self.turn = self.turn.next();
        let turn = self.turn;
        self.running_turn = Some(turn);
        self.last_input = Some(input.clone());
        self.reprompt.disarm();
        if !self.clock.has_speech_end() || !matches!(input, CallerInput::Speech { .. }) {
            self.clock = TurnClock::immediate(now);
        }
        self.actions.push_back(Action::StartTurn { turn, input });
        self.state = State::Thinking;
    }

    fn end_call(&mut self, end: EndAfter) {
        self.actions.push_back(match end {
            EndAfter::Transfer(brief) => Action::Transfer { brief },
            EndAfter::Hangup => Action::Hangup,
        });
        self.state = State::Ended;
        self.reprompt.disarm();
        self.keypad.clear_deadline();
        self.transcripts.clear_deadline();
    }

    /// Send due audio and marks; finish the reply once it has been heard in full.
    fn pump(&mut self, now: Instant) {
        for item in self.playout.poll(now) {
            match item {
                Send::Media(frame) => {
                    if let Some(m) = self.clock.first_frame(self.turn, now) {
                        self.actions.push_back(Action::Measure(m));
                    }
                    self.actions.push_back(Action::Media(frame));
                }
                Send::Mark(name) => self.actions.push_back(Action::Mark(name)),
            }
        }
        let finished = self
            .reply
            .as_ref()
            .is_some_and(|r| r.agent_done && r.synthesized() && !self.playout.is_active());
        if finished && self.state != State::Ended {
            match self.reply.take().and_then(|r| r.end) {
                Some(end) => self.end_call(end),
                None => {
                    if self.state != State::CallerSpeaking && !self.transcripts.awaiting() {
                        self.listen(now);
                    }
                }
            }
        }
    }
}

/// `carry` and `text` as one utterance (either may be empty).
fn merge(carry: String, text: &str) -> String {
    match (carry.is_empty(), text.is_empty()) {
        (true, _) => text.to_string(),
        (false, true) => carry,
        (false, false) => format!("{carry} {text}"),
    }
}

#[cfg(test)]
mod tests;
