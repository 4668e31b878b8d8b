//! The transitions of [`Machine`]: caller speech and endpointing, turns, replies and
//! their playout, barge-in and false interruptions, DTMF, re-prompts and call end.

use std::time::{Duration, Instant};

use super::{
    Action, CallerInput, EndAfter, Interruption, Machine, Measure, Reply, Sentence, State,
    TurnClock,
};
use crate::audio::frames::FRAME_BYTES;
use crate::call::playout::{Chunk, Send};
use crate::call::turn_text::{
    is_backchannel, looks_unfinished, word_count, word_range, words_spoken,
};

const FRAME: Duration = Duration::from_millis(20);
/// Rough speaking rate used to place words in audio before a sentence's length is known.
const CHARS_PER_SECOND: f32 = 14.0;

impl Machine {
    /// Whether a final transcript is still to come.
    fn awaiting_final(&self) -> bool {
        self.finals_pending > 0
    }

    /// Whether caller speech is currently being passed to STT as a turn.
    fn accepting(&self) -> bool {
        self.state == State::CallerSpeaking
    }

    pub(super) fn on_audio(&mut self, now: Instant, pcm: Vec<f32>, prob: f32) {
        let talking = self.onset.is_some();
        let speech = if talking {
            prob >= self.cfg.vad_off
        } else {
            prob >= self.cfg.vad_on
        };
        if speech {
            self.speech_run += FRAME;
            self.silence_run = Duration::ZERO;
            self.last_speech = Some(now);
        } else {
            self.silence_run += FRAME;
            if !talking {
                self.speech_run = Duration::ZERO;
            }
        }
        if self.accepting() {
            self.actions.push_back(Action::SttAudio(pcm));
        } else {
            self.preroll.push_back(pcm);
        }
        if !talking && self.speech_run >= self.cfg.min_speech {
            self.onset = Some(now - self.speech_run + FRAME);
        }
        if self.onset.is_some() && !self.accepting() {
            match self.state {
                State::Listening => self.accept_turn(),
                State::Thinking | State::Speaking if self.speech_run >= self.cfg.barge_in_min => {
                    self.barge_in(now)
                }
                _ => {}
            }
        }
        if !self.accepting() && self.onset.is_none() {
            // Keep only the pre-roll window while nobody is talking.
            let keep = (self.cfg.preroll.as_millis() / FRAME.as_millis()).max(1) as usize;
            while self.preroll.len() > keep {
                self.preroll.pop_front();
            }
        }
        // Speech over the bot that never reached the barge-in threshold: forget it.
        if self.onset.is_some()
            && !self.accepting()
            && self.silence_run >= self.cfg.endpoint_silence
        {
            self.reset_talking();
        }
        if self.accepting() {
            let limit = if looks_unfinished(&self.partial) {
                self.cfg.endpoint_silence_unfinished
            } else {
                self.cfg.endpoint_silence
            };
            if self.silence_run >= limit {
                self.end_of_turn(now);
            }
        }
    }

    fn reset_talking(&mut self) {
        self.onset = None;
        self.speech_run = Duration::ZERO;
    }

    /// The caller has started a turn: send the buffered pre-roll and go on streaming.
    fn accept_turn(&mut self) {
        self.state = State::CallerSpeaking;
        self.reprompt_at = None;
        self.reprompts = 0;
        self.partial.clear();
        let audio: Vec<f32> = self.preroll.drain(..).flatten().collect();
        if !audio.is_empty() {
            self.actions.push_back(Action::SttAudio(audio));
        }
    }

    fn end_of_turn(&mut self, now: Instant) {
        self.actions.push_back(Action::SttFlush);
        self.finals_pending += 1;
        self.final_deadline = Some(now + self.cfg.stt_timeout);
        self.state = State::Thinking;
        self.clock = TurnClock {
            speech_end: self.last_speech,
            ..TurnClock::default()
        };
        self.reset_talking();
    }

    /// A final transcript from STT.
    pub(super) fn on_final(
        &mut self,
        now: Instant,
        text: String,
        confidence: f32,
        continued: bool,
    ) {
        if self.finals_stale > 0 {
            // Owed for a turn end that was already given up on (stt_timeout).
            self.finals_stale -= 1;
            return;
        }
        if self.finals_pending == 0 {
            return; // a late or duplicate final never starts a second reply
        }
        self.take_final(now, text, confidence, continued);
    }

    /// No final came in time: everything still owed counts as nothing heard, and the
    /// finals that arrive later for those turn ends are dropped.
    pub(super) fn give_up_on_finals(&mut self, now: Instant) {
        self.finals_stale += self.finals_pending;
        self.finals_pending = 1;
        self.take_final(now, String::new(), 0.0, false);
    }

    fn take_final(&mut self, now: Instant, text: String, confidence: f32, continued: bool) {
        self.finals_pending = self.finals_pending.saturating_sub(1);
        if self.finals_pending == 0 {
            self.final_deadline = None;
        }
        let carry = std::mem::take(&mut self.carry);
        let text = text.trim();
        // A continued final re-transcribed the earlier words together with the new ones
        // (an empty one is a failed decode: keep what we had).
        let text = if continued && !text.is_empty() {
            text.to_string()
        } else {
            merge(carry, text)
        };
        if self.state == State::CallerSpeaking || self.finals_pending > 0 {
            // The caller went on talking (and STT has more to say): keep the words for
            // that turn.
            self.carry = text;
            return;
        }
        self.clock.stt_final = Some(now);
        if let Some(int) = self.interruption.take() {
            // Noise or "uh-huh" is a false interruption; keys pressed with it never are.
            let noise = text.is_empty() || (is_backchannel(&text) && !int.unheard.contains('?'));
            if noise && self.held_dtmf.is_empty() {
                self.actions
                    .push_back(Action::Measure(Measure::FalseInterruption {
                        turn: int.turn,
                        text,
                    }));
                self.resume(now, int);
                return;
            }
            if int.truncates_reply() {
                self.actions.push_back(Action::RecordHeard {
                    turn: int.turn,
                    agent: int.agent,
                    heard: int.heard,
                });
            }
        }
        let digits = std::mem::take(&mut self.held_dtmf);
        if text.is_empty() && !digits.is_empty() {
            self.start_turn(now, CallerInput::Dtmf { digits });
            return;
        }
        if text.is_empty() {
            self.state = State::Listening;
            self.arm_reprompt(now);
            return;
        }
        self.last_transcript = text.clone();
        self.last_digits = digits.clone();
        let text = if digits.is_empty() {
            text
        } else {
            merge(text.trim_end_matches(['.', ',']).to_string(), &digits)
        };
        self.start_turn(now, CallerInput::Speech { text, confidence });
    }

    /// A false interruption: re-speak what the caller did not hear, or re-run the turn
    /// that was cancelled before it said anything.
    fn resume(&mut self, now: Instant, int: Interruption) {
        if let Some(input) = int.retracted {
            // The turn was taken back for the caller to go on; they did not: run it.
            self.start_turn(now, input);
        } else if !int.unheard.is_empty() {
            self.turn += 1;
            let turn = self.turn;
            self.say(turn, &int.agent, int.unheard);
            if let Some(r) = self.reply.as_mut() {
                r.agent_done = true;
                r.end = int.end;
                r.resumes = Some((int.turn, int.heard));
            }
            self.state = State::Thinking;
        } else {
            self.state = State::Listening;
            self.arm_reprompt(now);
        }
    }

    pub(super) fn start_turn(&mut self, now: Instant, input: CallerInput) {
        self.turn += 1;
        let turn = self.turn;
        self.running_turn = Some(turn);
        self.last_input = Some(input.clone());
        self.reprompt_at = None;
        if self.clock.speech_end.is_none() || !matches!(input, CallerInput::Speech { .. }) {
            self.clock = TurnClock {
                speech_end: Some(now),
                stt_final: Some(now),
                ..TurnClock::default()
            };
        }
        self.actions.push_back(Action::StartTurn { turn, input });
        self.state = State::Thinking;
    }

    /// Queue a sentence of `turn`'s reply for synthesis.
    pub(super) fn say(&mut self, turn: u64, agent: &str, text: String) {
        let text = text.trim().to_string();
        if self.reply.as_ref().is_none_or(|r| r.turn != turn) {
            self.reply = Some(Reply::new(turn, agent));
        }
        let Some(reply) = self.reply.as_mut() else {
            return;
        };
        reply.agent = agent.to_string();
        if text.is_empty() {
            return;
        }
        let seq = reply.sentences.len() as u32;
        reply.sentences.push(Sentence {
            text: text.clone(),
            pending: Vec::new(),
            queued: 0,
            words_used: 0,
            done: false,
        });
        self.actions.push_back(Action::Speak {
            utterance: turn,
            seq,
            text,
        });
    }

    pub(super) fn set_end(&mut self, turn: u64, end: EndAfter) {
        if self.running_turn != Some(turn) {
            return;
        }
        if self.reply.as_ref().is_none_or(|r| r.turn != turn) {
            self.reply = Some(Reply::new(turn, ""));
        }
        if let Some(r) = self.reply.as_mut() {
            r.end = Some(end);
        }
    }

    /// TTS audio (or the end of a sentence's audio) arrived: cut it into marked chunks.
    pub(super) fn on_tts_audio(
        &mut self,
        now: Instant,
        utterance: u64,
        seq: u32,
        audio: Vec<u8>,
        done: bool,
    ) {
        let chunk_bytes = self.cfg.frames_per_mark.max(1) * FRAME_BYTES;
        let Some(reply) = self.reply.as_mut().filter(|r| r.turn == utterance) else {
            return;
        };
        let Some(sentence) = reply.sentences.get_mut(seq as usize) else {
            return;
        };
        if !audio.is_empty() && self.clock.first_audio.is_none() && utterance == self.turn {
            self.clock.first_audio = Some(now);
        }
        sentence.pending.extend_from_slice(&audio);
        sentence.done |= done;
        // Sentences play in order: only the first unfinished one may queue audio.
        let mut pushed = false;
        for s in reply.sentences.iter_mut() {
            let total_words = word_count(&s.text);
            let estimate = (s.text.len() as f32 / CHARS_PER_SECOND * 8000.0).max(1.0);
            while s.pending.len() >= chunk_bytes || (s.done && !s.pending.is_empty()) {
                let take = chunk_bytes.min(s.pending.len());
                let bytes: Vec<u8> = s.pending.drain(..take).collect();
                s.queued += bytes.len();
                let last = s.done && s.pending.is_empty();
                let upto = if last {
                    total_words
                } else {
                    words_spoken(&s.text, s.queued as f32 / estimate)
                        .min(total_words.saturating_sub(1))
                };
                let text = word_range(&s.text, s.words_used, upto);
                s.words_used = s.words_used.max(upto);
                self.playout.push(Chunk {
                    utterance,
                    text,
                    audio: bytes,
                });
                pushed = true;
            }
            if s.done && s.words_used < total_words {
                // Audio ended early (or was empty): the remaining words ride on a mark.
                let text = word_range(&s.text, s.words_used, total_words);
                s.words_used = total_words;
                self.playout.push(Chunk {
                    utterance,
                    text,
                    audio: Vec::new(),
                });
                pushed = true;
            }
            if !s.done {
                break;
            }
        }
        if pushed && self.state == State::Thinking && !self.awaiting_final() {
            self.state = State::Speaking;
        }
    }

    /// Caller speech over the bot: stop playback now, cancel the reply, and remember
    /// what was heard until we know whether the interruption was real.
    fn barge_in(&mut self, now: Instant) {
        if self.awaiting_final()
            && self.reply.is_none()
            && self.running_turn.is_none()
            && !self.playout.is_active()
        {
            // Nothing to interrupt: the caller goes on after a pause that ended their
            // turn. One utterance (any interruption it belongs to stays pending).
            self.actions.push_back(Action::SttContinue);
            self.accept_turn();
            return;
        }
        let onset = self.onset.unwrap_or(now);
        let reply = self.reply.take();
        let mut spoke = false;
        let cut_reply = reply.is_some();
        if self.playout.is_active() {
            self.actions.push_back(Action::Clear);
            self.playout.clear();
        }
        // A re-spoken rest belongs to the reply it re-states: the interruption is that
        // reply's, and what was heard of it before counts too.
        let turn = reply
            .as_ref()
            .map(|r| r.resumes.as_ref().map_or(r.turn, |(t, _)| *t))
            .or(self.running_turn)
            .unwrap_or(self.turn);
        if let Some(r) = &reply {
            self.actions
                .push_back(Action::CancelSpeech { utterance: r.turn });
            // Spoken = the caller heard some of it (a mark came back). Before that —
            // still synthesizing, or its first fraction of a second on the line — going
            // on continues the caller's own turn.
            spoke = r.chunks_heard > 0;
        }
        let cancelled = self.running_turn.take();
        if let Some(running) = cancelled {
            self.actions.push_back(Action::CancelTurn { turn: running });
        }
        let (agent, heard, unheard, end) = match reply {
            Some(r) => {
                let heard_now = r.heard.join(" ");
                let full: Vec<&str> = r.sentences.iter().map(|s| s.text.as_str()).collect();
                let full = full.join(" ");
                let unheard = word_range(&full, word_count(&heard_now), usize::MAX);
                let heard = match r.resumes {
                    Some((_, before)) => merge(before, &heard_now),
                    None => heard_now,
                };
                (r.agent, heard, unheard, r.end)
            }
            None => (String::new(), String::new(), String::new(), None),
        };
        let mut retracted = None;
        if !spoke {
            // Nothing was said yet: this is the caller continuing their last turn.
            if self.awaiting_final() {
                self.actions.push_back(Action::SttContinue);
            } else if matches!(self.last_input, Some(CallerInput::Speech { .. })) {
                // Its words come back as carry (a continued transcript replaces them);
                // digits typed with it are held again, to join the whole utterance.
                self.carry = std::mem::take(&mut self.last_transcript);
                self.held_dtmf = std::mem::take(&mut self.last_digits) + &self.held_dtmf;
                self.actions.push_back(Action::RetractTurn { turn });
                self.actions.push_back(Action::SttContinue);
                retracted = self.last_input.clone();
            } else if cancelled.is_some() {
                // A keypad or re-prompt turn cut off before it said anything.
                retracted = self.last_input.clone();
            }
        }
        self.actions.push_back(Action::Measure(Measure::BargeIn {
            turn,
            reaction: now.saturating_duration_since(onset),
            heard_chars: heard.len(),
        }));
        self.interruption = Some(Interruption {
            turn,
            agent,
            heard,
            unheard,
            end,
            retracted,
            cut_reply,
        });
        self.accept_turn();
    }

    pub(super) fn on_dtmf(&mut self, now: Instant, digit: char) {
        if matches!(self.state, State::Speaking | State::Thinking) && self.playout.is_active() {
            self.barge_in(now);
            // A key press is never a false interruption.
            if let Some(int) = self.interruption.take() {
                if int.truncates_reply() {
                    self.actions.push_back(Action::RecordHeard {
                        turn: int.turn,
                        agent: int.agent,
                        heard: int.heard,
                    });
                }
            }
            self.state = State::Listening;
        }
        self.reprompt_at = None;
        if digit == '#' {
            self.dtmf_deadline = None;
            self.submit_dtmf(now);
        } else {
            self.dtmf.push(digit);
            self.dtmf_deadline = Some(now + self.cfg.dtmf_timeout);
        }
    }

    /// Pass collected digits on. Typed while an utterance is still being spoken or
    /// transcribed ("my account number is" + 1003#), they join that utterance's text
    /// instead of overtaking it as a turn of their own.
    pub(super) fn submit_dtmf(&mut self, now: Instant) {
        let digits = std::mem::take(&mut self.dtmf);
        if digits.is_empty() {
            return;
        }
        if self.awaiting_final() || self.state == State::CallerSpeaking {
            self.held_dtmf.push_str(&digits);
            return;
        }
        if let Some(running) = self.running_turn.filter(|_| self.state == State::Thinking) {
            let heard_any = self
                .reply
                .as_ref()
                .is_some_and(|r| r.turn == running && r.chunks_heard > 0);
            if !heard_any && !self.playout.is_active() {
                // Keys typed while the reply is still being decided join the turn in
                // flight: it is taken back and run again with them.
                self.running_turn = None;
                self.actions.push_back(Action::CancelTurn { turn: running });
                if self.reply.as_ref().is_some_and(|r| r.turn == running) {
                    self.actions
                        .push_back(Action::CancelSpeech { utterance: running });
                    self.reply = None;
                }
                self.actions
                    .push_back(Action::RetractTurn { turn: running });
                let joined = match self.last_input.take() {
                    Some(CallerInput::Speech { text, confidence }) => CallerInput::Speech {
                        text: merge(text.trim_end_matches(['.', ',']).to_string(), &digits),
                        confidence,
                    },
                    Some(CallerInput::Dtmf { digits: before }) => CallerInput::Dtmf {
                        digits: before + &digits,
                    },
                    _ => CallerInput::Dtmf { digits },
                };
                self.start_turn(now, joined);
                return;
            }
        }
        self.start_turn(now, CallerInput::Dtmf { digits });
    }

    pub(super) fn arm_reprompt(&mut self, now: Instant) {
        if self.state == State::Listening {
            self.reprompt_at = Some(now + self.cfg.reprompt_after);
        }
    }

    pub(super) fn end_call(&mut self, end: EndAfter) {
        self.actions.push_back(match end {
            EndAfter::Transfer(brief) => Action::Transfer { brief },
            EndAfter::Hangup => Action::Hangup,
        });
        self.state = State::Ended;
        self.reprompt_at = None;
        self.dtmf_deadline = None;
        self.final_deadline = None;
    }

    /// Send due audio and marks; finish the reply once it has been heard in full.
    pub(super) fn pump(&mut self, now: Instant) {
        for item in self.playout.poll(now) {
            match item {
                Send::Media(frame) => {
                    self.report_latency(now);
                    self.actions.push_back(Action::Media(frame));
                }
                Send::Mark(name) => self.actions.push_back(Action::Mark(name)),
            }
        }
        let finished = self.reply.as_ref().is_some_and(|r| {
            r.agent_done
                && r.sentences.iter().all(|s| s.done && s.pending.is_empty())
                && !self.playout.is_active()
        });
        if finished && self.state != State::Ended {
            let reply = self.reply.take();
            match reply.and_then(|r| r.end) {
                Some(end) => self.end_call(end),
                None => {
                    if !matches!(self.state, State::CallerSpeaking) && !self.awaiting_final() {
                        self.state = State::Listening;
                        self.arm_reprompt(now);
                    }
                }
            }
        }
    }

    fn report_latency(&mut self, now: Instant) {
        let c = &mut self.clock;
        let (Some(end), Some(stt), false) = (c.speech_end, c.stt_final, c.reported) else {
            return;
        };
        c.reported = true;
        let since = |t: Option<Instant>| t.map(|t| t.saturating_duration_since(end));
        self.actions.push_back(Action::Measure(Measure::Turn {
            turn: self.turn,
            stt_final: stt.saturating_duration_since(end),
            first_token: since(c.first_token),
            first_audio: since(c.first_audio),
            first_frame: now.saturating_duration_since(end),
        }));
    }
}

impl Reply {
    fn new(turn: u64, agent: &str) -> Self {
        Self {
            turn,
            agent: agent.to_string(),
            sentences: Vec::new(),
            heard: Vec::new(),
            chunks_heard: 0,
            agent_done: false,
            end: None,
            resumes: None,
        }
    }
}

fn merge(carry: String, text: &str) -> String {
    match (carry.is_empty(), text.is_empty()) {
        (true, _) => text.to_string(),
        (false, true) => carry,
        (false, false) => format!("{carry} {text}"),
    }
}
