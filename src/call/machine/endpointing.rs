//! Endpointing: when the caller starts and stops talking.
//!
//! [`Endpointer`] runs VAD hysteresis over caller frames (speech at `vad_on`, silence
//! below `vad_off` once talking), marks the onset once speech has lasted `min_speech`,
//! counts the silence that ends a turn, and keeps the pre-roll (audio from just before
//! the onset, sent to STT with the turn). Every threshold counts audio duration
//! (samples at 16 kHz), never messages: 20, 40 or 100 ms frames take turns alike.
//!
//! The machine's side ([`Machine::on_audio`]) turns these facts into turn-taking: a
//! turn is accepted at onset while listening, a barge-in once speech over the bot lasts
//! `barge_in_min`, and the turn ends after `endpoint_silence` (longer when the words so
//! far look unfinished).
//!
//! Speculative finals and semantic endpointing: once a turn's silence reaches
//! `speculate_after`, the machine tells STT the caller paused (`SttPause`), so a
//! recogniser that decodes whole utterances starts the final decode during the endpoint
//! wait and reports its text (`SttTentative`); speech again sends `SttResume`. When that
//! text arrives and reads as a complete request, the turn ends after only
//! `endpoint_silence_complete`; when it trails off ("and", "my", "um") the wait grows
//! to `endpoint_silence_unfinished`.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::{Action, Machine, MachineConfig, State, TurnClock};
use crate::call::turn_text::looks_unfinished;
use crate::speech::STT_RATE;

/// The duration of `samples` of 16 kHz audio (20 ms for an empty frame, the call
/// layer's frame size, so a frame never counts as no time at all).
pub(super) fn frame_duration(samples: usize) -> Duration {
    if samples == 0 {
        return Duration::from_millis(20);
    }
    Duration::from_micros(samples as u64 * 1_000_000 / u64::from(STT_RATE))
}

/// VAD hysteresis, onset and silence runs, and the pre-roll buffer.
#[derive(Debug)]
pub(super) struct Endpointer {
    vad_on: f32,
    vad_off: f32,
    min_speech: Duration,
    preroll: Duration,
    speech_run: Duration,
    silence_run: Duration,
    onset: Option<Instant>,
    last_speech: Option<Instant>,
    /// Recent audio kept for pre-roll, with its total duration.
    held: VecDeque<Vec<f32>>,
    held_for: Duration,
    /// STT was told the caller paused (`SttPause`) and no speech came since.
    paused: bool,
    /// A transcript of the words up to this pause has come back.
    heard_at_pause: bool,
}

impl Endpointer {
    pub(super) fn new(cfg: &MachineConfig) -> Self {
        Self {
            vad_on: cfg.vad_on,
            vad_off: cfg.vad_off,
            min_speech: cfg.min_speech,
            preroll: cfg.preroll,
            speech_run: Duration::ZERO,
            silence_run: Duration::ZERO,
            onset: None,
            last_speech: None,
            held: VecDeque::new(),
            held_for: Duration::ZERO,
            paused: false,
            heard_at_pause: false,
        }
    }

    /// Account one frame of `len` ending at `now` with VAD probability `prob`; returns
    /// whether it counts as speech. The onset is set (to the start of the run) once
    /// speech has lasted `min_speech`.
    pub(super) fn observe(&mut self, now: Instant, len: Duration, prob: f32) -> bool {
        let talking = self.onset.is_some();
        let speech = prob >= if talking { self.vad_off } else { self.vad_on };
        if speech {
            self.speech_run += len;
            self.silence_run = Duration::ZERO;
            self.last_speech = Some(now);
        } else {
            self.silence_run += len;
            if !talking {
                self.speech_run = Duration::ZERO;
            }
        }
        if !talking && self.speech_run >= self.min_speech {
            let since = self.speech_run.saturating_sub(len);
            self.onset = Some(now.checked_sub(since).unwrap_or(now));
        }
        speech
    }

    /// When the caller started talking, once they have (`None` while quiet).
    pub(super) fn onset(&self) -> Option<Instant> {
        self.onset
    }

    /// Speech so far in the current run.
    pub(super) fn speech_run(&self) -> Duration {
        self.speech_run
    }

    /// Silence since the last speech frame.
    pub(super) fn silence_run(&self) -> Duration {
        self.silence_run
    }

    /// End of the last speech frame.
    pub(super) fn last_speech(&self) -> Option<Instant> {
        self.last_speech
    }

    /// Forget the talking in progress (turn ended, or speech that never counted).
    pub(super) fn reset(&mut self) {
        self.onset = None;
        self.speech_run = Duration::ZERO;
        self.paused = false;
        self.heard_at_pause = false;
    }

    /// Keep audio that is not (yet) part of a turn.
    pub(super) fn hold(&mut self, pcm: Vec<f32>) {
        self.held_for += frame_duration(pcm.len());
        self.held.push_back(pcm);
    }

    /// Everything held, oldest first, as one buffer.
    pub(super) fn take_preroll(&mut self) -> Vec<f32> {
        self.held_for = Duration::ZERO;
        self.held.drain(..).flatten().collect()
    }

    /// Drop held audio older than the pre-roll window (the newest frame always stays).
    pub(super) fn trim_preroll(&mut self) {
        while self.held.len() > 1 {
            let oldest = frame_duration(self.held[0].len());
            if self.held_for.saturating_sub(oldest) < self.preroll {
                break;
            }
            self.held_for -= oldest;
            self.held.pop_front();
        }
    }

    #[cfg(test)]
    pub(super) fn held_duration(&self) -> Duration {
        self.held_for
    }
}

impl Machine {
    /// One frame of caller audio with its VAD probability.
    pub(super) fn on_audio(&mut self, now: Instant, pcm: Vec<f32>, prob: f32) {
        let len = frame_duration(pcm.len());
        let speech = self.ep.observe(now, len, prob);
        if self.accepting() {
            if speech && self.ep.paused {
                self.ep.paused = false;
                self.ep.heard_at_pause = false;
                self.actions.push_back(Action::SttResume);
            }
            self.actions.push_back(Action::SttAudio(pcm));
            let after = self.cfg.speculate_after;
            if !speech && !self.ep.paused && !after.is_zero() && self.ep.silence_run() >= after {
                self.ep.paused = true;
                self.actions.push_back(Action::SttPause);
            }
        } else {
            self.ep.hold(pcm);
        }
        if self.ep.onset().is_some() && !self.accepting() {
            match self.state {
                State::Listening => self.accept_turn(),
                State::Thinking | State::Speaking
                    if self.ep.speech_run() >= self.cfg.barge_in_min =>
                {
                    self.barge_in(now)
                }
                _ => {}
            }
        }
        if !self.accepting() && self.ep.onset().is_none() {
            self.ep.trim_preroll();
        }
        // Speech over the bot that never reached the barge-in threshold: forget it.
        if self.ep.onset().is_some()
            && !self.accepting()
            && self.ep.silence_run() >= self.cfg.endpoint_silence
        {
            self.ep.reset();
        }
        self.check_endpoint(now);
    }

    /// The speculative decode of the words up to the pause: it may end the turn at
    /// once. (Plain partials never do: a streaming recogniser's interim text may lag
    /// the audio and look complete while the caller is mid-sentence.)
    pub(super) fn on_tentative(&mut self, now: Instant, text: String) {
        self.transcripts.set_partial(text);
        if self.accepting() && self.ep.paused {
            self.ep.heard_at_pause = true;
            self.check_endpoint(now);
        }
    }

    /// End the turn if the caller has been quiet long enough for what they said.
    fn check_endpoint(&mut self, now: Instant) {
        if !self.accepting() {
            return;
        }
        let partial = self.transcripts.partial();
        let limit = if looks_unfinished(partial) {
            self.cfg.endpoint_silence_unfinished
        } else if self.ep.heard_at_pause && !partial.trim().is_empty() {
            self.cfg
                .endpoint_silence_complete
                .min(self.cfg.endpoint_silence)
        } else {
            self.cfg.endpoint_silence
        };
        if self.ep.silence_run() >= limit {
            self.end_of_turn(now);
        }
    }

    /// Whether caller speech is currently being passed to STT as a turn.
    pub(super) fn accepting(&self) -> bool {
        self.state == State::CallerSpeaking
    }

    /// The caller has started a turn: send the buffered pre-roll and go on streaming.
    pub(super) fn accept_turn(&mut self) {
        self.state = State::CallerSpeaking;
        self.reprompt.reset();
        self.transcripts.set_partial(String::new());
        let audio = self.ep.take_preroll();
        if !audio.is_empty() {
            self.actions.push_back(Action::SttAudio(audio));
        }
    }

    /// The caller stopped: ask STT for the final transcript.
    fn end_of_turn(&mut self, now: Instant) {
        self.actions.push_back(Action::SttFlush);
        self.transcripts.flushed(now);
        self.state = State::Thinking;
        self.clock = TurnClock::from_speech_end(self.ep.last_speech(), now);
        self.ep.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpointer() -> Endpointer {
        Endpointer::new(&MachineConfig::default())
    }

    /// Feed `ms` of audio at `prob` in frames of `frame_ms`; returns the time after.
    fn feed(ep: &mut Endpointer, mut now: Instant, ms: u64, frame_ms: u64, prob: f32) -> Instant {
        for _ in 0..ms / frame_ms {
            now += Duration::from_millis(frame_ms);
            ep.observe(now, Duration::from_millis(frame_ms), prob);
            ep.hold(vec![0.0; (frame_ms * 16) as usize]);
            if ep.onset().is_none() {
                ep.trim_preroll();
            }
        }
        now
    }

    #[test]
    fn frames_count_by_their_samples() {
        assert_eq!(frame_duration(320), Duration::from_millis(20));
        assert_eq!(frame_duration(1600), Duration::from_millis(100));
        assert_eq!(frame_duration(0), Duration::from_millis(20));
    }

    #[test]
    fn onset_needs_min_speech_and_points_at_the_start_of_the_run() {
        let mut ep = endpointer();
        let t0 = Instant::now();
        let t = feed(&mut ep, t0, 40, 20, 0.9);
        assert_eq!(ep.onset(), None, "40 ms is under the 60 ms minimum");
        let t = feed(&mut ep, t, 20, 20, 0.9);
        assert_eq!(ep.onset(), Some(t0 + Duration::from_millis(20)));
        assert_eq!(t - t0, Duration::from_millis(60));
    }

    #[test]
    fn hysteresis_keeps_talking_between_off_and_on() {
        let mut ep = endpointer();
        let t = feed(&mut ep, Instant::now(), 100, 20, 0.9);
        assert!(ep.onset().is_some());
        feed(&mut ep, t, 200, 20, 0.4);
        assert_eq!(
            ep.silence_run(),
            Duration::ZERO,
            "0.4 is over vad_off while talking"
        );
        let mut quiet = endpointer();
        feed(&mut quiet, Instant::now(), 200, 20, 0.4);
        assert_eq!(quiet.onset(), None, "0.4 is under vad_on from silence");
    }

    #[test]
    fn any_frame_size_gives_the_same_runs() {
        for frame_ms in [20, 40, 100] {
            let mut ep = endpointer();
            let t = feed(&mut ep, Instant::now(), 600, frame_ms, 0.9);
            feed(&mut ep, t, 1000, frame_ms, 0.05);
            assert_eq!(
                ep.speech_run(),
                Duration::from_millis(600),
                "{frame_ms} ms frames"
            );
            assert_eq!(
                ep.silence_run(),
                Duration::from_millis(1000),
                "{frame_ms} ms frames"
            );
        }
    }

    #[test]
    fn preroll_keeps_about_its_window_whatever_the_frame_size() {
        for frame_ms in [20, 40, 100] {
            let mut ep = endpointer();
            feed(&mut ep, Instant::now(), 2000, frame_ms, 0.05);
            let held = ep.held_duration();
            assert!(
                held >= Duration::from_millis(200) && held < Duration::from_millis(200 + frame_ms),
                "{frame_ms} ms frames keep {held:?}"
            );
            assert_eq!(ep.take_preroll().len() as u128, held.as_millis() * 16);
            assert_eq!(ep.held_duration(), Duration::ZERO);
        }
    }

    #[test]
    fn reset_forgets_the_talking_but_not_the_last_speech() {
        let mut ep = endpointer();
        let t = feed(&mut ep, Instant::now(), 100, 20, 0.9);
        ep.reset();
        assert_eq!(ep.onset(), None);
        assert_eq!(ep.speech_run(), Duration::ZERO);
        assert_eq!(ep.last_speech(), Some(t));
    }
}
