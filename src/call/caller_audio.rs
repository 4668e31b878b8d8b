//! Inbound caller audio for one call: μ-law payloads cut into 20 ms frames whatever
//! their size (carriers send 20, 40 or 100 ms per message; turn-taking counts audio
//! time, not messages), each decoded once, then fanned out to the recording, the VAD
//! (speech probability per frame) and, at 16 kHz, to STT. A 16 kHz VAD shares the
//! STT stream's resampled audio.

use tracing::warn;

use super::recorder::Recorder;
use crate::audio::frames::{Framer, FRAME_BYTES, PHONE_RATE};
use crate::audio::mulaw;
use crate::audio::resample::StreamResampler;
use crate::speech::Vad;

use crate::speech::STT_RATE;

/// Per-call inbound audio processing.
pub struct CallerAudio {
    vad: Option<Box<dyn Vad>>,
    upsampler: Option<StreamResampler>,
    /// Resampler from 8 kHz to the VAD's rate, when it is not 8 kHz.
    vad_resampler: Option<StreamResampler>,
    recorder: Option<Recorder>,
    probability: f32,
    /// Bytes of a payload that did not fill a whole frame, kept for the next one.
    framer: Framer,
}

/// One decoded frame, ready for the state machine.
pub struct CallerFrame {
    pub pcm16k: Vec<f32>,
    pub speech_prob: f32,
}

impl CallerAudio {
    pub fn new(vad: Option<Box<dyn Vad>>, recorder: Option<Recorder>) -> Self {
        let vad_resampler = vad
            .as_ref()
            .filter(|v| v.sample_rate() != PHONE_RATE && v.sample_rate() != STT_RATE)
            .and_then(|v| StreamResampler::new(PHONE_RATE, v.sample_rate()).ok());
        Self {
            vad,
            upsampler: StreamResampler::new(PHONE_RATE, STT_RATE).ok(),
            vad_resampler,
            recorder,
            probability: 0.0,
            framer: Framer::new(),
        }
    }

    /// Decode one inbound μ-law payload of any length into whole 20 ms frames (a
    /// partial frame waits for the next payload).
    pub fn push(&mut self, payload: &[u8]) -> Vec<CallerFrame> {
        if let Some(rec) = self.recorder.as_mut() {
            if let Err(e) = rec.write(&mulaw::decode_slice(payload)) {
                warn!(error = %e, "recording failed; recording stops");
                self.recorder = None;
            }
        }
        let mut frames = Vec::with_capacity(payload.len() / FRAME_BYTES + 1);
        let mut framer = std::mem::take(&mut self.framer);
        framer.push_with(payload, |frame| frames.push(self.frame(frame)));
        self.framer = framer;
        frames
    }

    /// One 20 ms μ-law frame: upsampled for STT, scored by the VAD.
    fn frame(&mut self, payload: &[u8]) -> CallerFrame {
        let pcm8k = mulaw::decode_to_f32(payload);
        let pcm16k = match self.upsampler.as_mut() {
            Some(r) => r.push(&pcm8k).unwrap_or_default(),
            None => pcm8k.clone(),
        };
        if let Some(vad) = self.vad.as_mut() {
            let rate = vad.sample_rate();
            let resampled;
            let input: &[f32] = if rate == STT_RATE {
                &pcm16k
            } else if rate == PHONE_RATE {
                &pcm8k
            } else {
                resampled = match self.vad_resampler.as_mut() {
                    Some(r) => r.push(&pcm8k).unwrap_or_default(),
                    None => pcm8k.clone(),
                };
                &resampled
            };
            match vad.push(input) {
                Ok(frames) => {
                    if let Some(last) = frames.last() {
                        self.probability = last.probability;
                    }
                }
                Err(e) => warn!(error = %e, "vad failed on a frame"),
            }
        }
        CallerFrame {
            pcm16k,
            speech_prob: self.probability,
        }
    }

    /// Bot audio (μ-law) just sent to the carrier, for the recording's right channel.
    pub fn bot_sent(&mut self, payload: &[u8]) {
        if let Some(rec) = self.recorder.as_mut() {
            rec.play(&mulaw::decode_slice(payload));
        }
    }

    /// The carrier was told to clear its queue: the recording drops it too.
    pub fn bot_cleared(&mut self) {
        if let Some(rec) = self.recorder.as_mut() {
            rec.clear_bot();
        }
    }

    /// Finalise the recording; returns its path.
    pub fn finish(&mut self) -> Option<String> {
        self.recorder.take().and_then(|r| match r.finish() {
            Ok(path) => Some(path.display().to_string()),
            Err(e) => {
                warn!(error = %e, "recording could not be finalised");
                None
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_of_any_size_become_20_ms_frames() {
        let mut audio = CallerAudio::new(None, None);
        // 100 ms in one message: five frames of 320 samples at 16 kHz.
        let frames = audio.push(&[0xFF; 800]);
        assert_eq!(frames.len(), 5);
        // The resampler's first output is short (its delay); the rest are 20 ms each.
        assert!(frames[1..].iter().all(|f| f.pcm16k.len() == 320));
        // A partial frame waits for the rest.
        assert!(audio.push(&[0xFF; 100]).is_empty());
        assert_eq!(audio.push(&[0xFF; 60]).len(), 1);
    }
}
