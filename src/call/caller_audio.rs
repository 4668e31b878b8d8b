//! Inbound caller audio for one call: μ-law frames decoded once, then fanned out to
//! the recording, the VAD (speech probability per frame) and, at 16 kHz, to STT.
//! A 16 kHz VAD shares the STT stream's resampled audio.

use tracing::warn;

use super::recorder::Recorder;
use crate::audio::frames::PHONE_RATE;
use crate::audio::mulaw;
use crate::audio::resample::StreamResampler;
use crate::speech::Vad;

/// STT's input rate.
pub const STT_RATE: u32 = 16_000;

/// Per-call inbound audio processing.
pub struct CallerAudio {
    vad: Option<Box<dyn Vad>>,
    upsampler: Option<StreamResampler>,
    /// Resampler from 8 kHz to the VAD's rate, when it is not 8 kHz.
    vad_resampler: Option<StreamResampler>,
    recorder: Option<Recorder>,
    probability: f32,
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
        }
    }

    /// Decode one inbound μ-law payload.
    pub fn push(&mut self, payload: &[u8]) -> CallerFrame {
        if let Some(rec) = self.recorder.as_mut() {
            if let Err(e) = rec.write(&mulaw::decode_slice(payload)) {
                warn!(error = %e, "recording failed; recording stops");
                self.recorder = None;
            }
        }
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
