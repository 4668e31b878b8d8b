//! The turn clock: when the caller stopped, and how long each stage of the reply took
//! from there (final transcript, first agent sentence, first TTS audio, first frame
//! sent), reported once per turn as [`Measure::Turn`].

use std::time::Instant;

use super::{Measure, SttStages, TurnId};

/// Timestamps of the turn in progress.
#[derive(Debug, Default)]
pub(super) struct TurnClock {
    speech_end: Option<Instant>,
    /// When the machine ended the turn (speech turns).
    flushed: Option<Instant>,
    /// Decode slot wait, decode time, speculative.
    decode: Option<(std::time::Duration, std::time::Duration, bool)>,
    stt_final: Option<Instant>,
    first_token: Option<Instant>,
    first_audio: Option<Instant>,
    reported: bool,
}

impl TurnClock {
    /// A speech turn whose last speech frame ended at `end` was ended at `now`.
    pub(super) fn from_speech_end(end: Option<Instant>, now: Instant) -> Self {
        Self {
            speech_end: end,
            flushed: Some(now),
            ..Self::default()
        }
    }

    /// How STT decoded this turn's final.
    pub(super) fn decoded(
        &mut self,
        queue: std::time::Duration,
        decode: std::time::Duration,
        speculative: bool,
    ) {
        if self.flushed.is_some() && self.stt_final.is_none() {
            self.decode = Some((queue, decode, speculative));
        }
    }

    /// A turn with no speech to wait for (keys, silence, a retried turn) starts at `now`.
    pub(super) fn immediate(now: Instant) -> Self {
        Self {
            speech_end: Some(now),
            stt_final: Some(now),
            ..Self::default()
        }
    }

    /// Whether the clock runs for a speech turn.
    pub(super) fn has_speech_end(&self) -> bool {
        self.speech_end.is_some()
    }

    pub(super) fn transcribed(&mut self, now: Instant) {
        self.stt_final = Some(now);
    }

    pub(super) fn first_token(&mut self, now: Instant) {
        self.first_token.get_or_insert(now);
    }

    pub(super) fn first_audio(&mut self, now: Instant) {
        self.first_audio.get_or_insert(now);
    }

    /// The first frame of `turn`'s reply went out at `now`: the measurement, once.
    pub(super) fn first_frame(&mut self, turn: TurnId, now: Instant) -> Option<Measure> {
        let (Some(end), Some(stt), false) = (self.speech_end, self.stt_final, self.reported) else {
            return None;
        };
        self.reported = true;
        let since = |t: Option<Instant>| t.map(|t| t.saturating_duration_since(end));
        Some(Measure::Turn {
            turn,
            stt_final: stt.saturating_duration_since(end),
            first_token: since(self.first_token),
            first_audio: since(self.first_audio),
            first_frame: now.saturating_duration_since(end),
            stt: SttStages {
                endpoint: since(self.flushed),
                queue: self.decode.map(|d| d.0),
                decode: self.decode.map(|d| d.1),
                speculative: self.decode.is_some_and(|d| d.2),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn stages_are_measured_from_the_end_of_speech_and_reported_once() {
        let end = Instant::now();
        let at = |ms| end + Duration::from_millis(ms);
        let mut c = TurnClock::from_speech_end(Some(end), at(250));
        c.decoded(Duration::from_millis(5), Duration::from_millis(400), true);
        assert_eq!(c.first_frame(TurnId(1), at(10)), None, "no transcript yet");
        c.transcribed(at(300));
        c.first_token(at(500));
        c.first_token(at(900));
        c.first_audio(at(700));
        let m = c.first_frame(TurnId(1), at(750)).expect("measured");
        assert_eq!(
            m,
            Measure::Turn {
                turn: TurnId(1),
                stt_final: Duration::from_millis(300),
                first_token: Some(Duration::from_millis(500)),
                first_audio: Some(Duration::from_millis(700)),
                first_frame: Duration::from_millis(750),
                stt: SttStages {
                    endpoint: Some(Duration::from_millis(250)),
                    queue: Some(Duration::from_millis(5)),
                    decode: Some(Duration::from_millis(400)),
                    speculative: true,
                },
            }
        );
        assert_eq!(c.first_frame(TurnId(1), at(800)), None, "once");
    }
}
