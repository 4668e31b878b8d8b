//! Silero VAD (v5/v6 ONNX graph) through ONNX Runtime, at 8 kHz or 16 kHz.
//!
//! The graph takes `input` f32 `[1, context + chunk]`, `state` f32 `[2, 1, 128]` and
//! `sr` i64 (scalar), and returns `output` (speech probability, `[1, 1]`) and
//! `stateN`, which is fed back on the next call. Each chunk is prefixed with the
//! last `context` samples of the previous input (zeros at first), exactly like the
//! Python reference: 256 + 32 samples at 8 kHz, 512 + 64 at 16 kHz. Running at
//! 8 kHz lets the call loop feed telephone audio without resampling.
//!
//! One ONNX session is shared by all calls (behind a mutex; a run takes ~0.1 ms);
//! each [`SileroVad`] keeps its own recurrent state and context.

use std::path::Path;
use std::sync::{Arc, Mutex};

use ort::session::Session;
use ort::value::Tensor;

use crate::speech::manifest::paths;
use crate::speech::models::ModelCache;
use crate::speech::onnx::{self, ort_err, SessionOptions};
use crate::speech::{SpeechError, Vad, VadFactory, VadFrame};

const STATE_LEN: usize = 2 * 128;

/// Shared Silero model; makes per-call [`SileroVad`] detectors.
#[derive(Clone)]
pub struct SileroVadFactory {
    session: Arc<Mutex<Session>>,
    sample_rate: u32,
}

impl SileroVadFactory {
    /// Load `silero/silero_vad.onnx` from the cache. `sample_rate` must be 8000 or 16000.
    pub fn from_cache(cache: &ModelCache, sample_rate: u32) -> Result<Self, SpeechError> {
        let env = onnx::environment(cache)?;
        let model = cache.require(paths::SILERO_VAD)?;
        Self::load(&env, &model, sample_rate)
    }

    /// Load from an explicit model path on an initialised environment.
    pub fn load(
        env: &ort::environment::Environment,
        model: &Path,
        sample_rate: u32,
    ) -> Result<Self, SpeechError> {
        if sample_rate != 8000 && sample_rate != 16000 {
            return Err(SpeechError::Model(format!(
                "Silero VAD runs at 8000 or 16000 Hz, not {sample_rate}"
            )));
        }
        let session = onnx::load_session(env, model, SessionOptions::default())?;
        Ok(SileroVadFactory {
            session: Arc::new(Mutex::new(session)),
            sample_rate,
        })
    }

    /// A detector with its own state (also available through [`VadFactory`]).
    pub fn detector(&self) -> SileroVad {
        let (chunk, context) = if self.sample_rate == 8000 {
            (256, 32)
        } else {
            (512, 64)
        };
        SileroVad {
            session: self.session.clone(),
            sample_rate: self.sample_rate,
            chunk,
            context,
            state: vec![0.0; STATE_LEN],
            window: vec![0.0; context],
            pending: Vec::with_capacity(chunk),
            samples_done: 0,
        }
    }
}

impl VadFactory for SileroVadFactory {
    fn create(&self) -> Result<Box<dyn Vad>, SpeechError> {
        Ok(Box::new(self.detector()))
    }
}

/// One call's Silero detector.
pub struct SileroVad {
    session: Arc<Mutex<Session>>,
    sample_rate: u32,
    chunk: usize,
    context: usize,
    state: Vec<f32>,
    /// The last `context` samples of the previous chunk (zeros at first).
    window: Vec<f32>,
    pending: Vec<f32>,
    samples_done: u64,
}

impl SileroVad {
    /// Samples per decision (256 at 8 kHz, 512 at 16 kHz).
    pub fn chunk_len(&self) -> usize {
        self.chunk
    }

    fn run_chunk(&mut self) -> Result<f32, SpeechError> {
        // window = context (last `context` samples of the previous input) + chunk
        let mut input = Vec::with_capacity(self.context + self.chunk);
        input.extend_from_slice(&self.window);
        input.extend_from_slice(&self.pending);
        let e = ort_err("silero");
        let x = Tensor::from_array(([1usize, input.len()], input)).map_err(&e)?;
        let st = Tensor::from_array(([2usize, 1, 128], self.state.clone())).map_err(&e)?;
        let sr = Tensor::from_array(((), vec![i64::from(self.sample_rate)])).map_err(&e)?;
        let mut session = self
            .session
            .lock()
            .map_err(|_| SpeechError::Model("silero session lock poisoned".into()))?;
        let outputs = session
            .run(ort::inputs!["input" => x, "state" => st, "sr" => sr])
            .map_err(&e)?;
        let (_, prob) = outputs["output"].try_extract_tensor::<f32>().map_err(&e)?;
        let p = prob.first().copied().unwrap_or(0.0);
        let (_, new_state) = outputs["stateN"].try_extract_tensor::<f32>().map_err(&e)?;
        if new_state.len() != STATE_LEN {
            return Err(SpeechError::Model(format!(
                "silero stateN has {} values",
                new_state.len()
            )));
        }
        self.state.copy_from_slice(new_state);
        drop(outputs);
        drop(session);
        let tail = self.pending.len() - self.context;
        self.window.copy_from_slice(&self.pending[tail..]);
        Ok(p.clamp(0.0, 1.0))
    }
}

impl Vad for SileroVad {
    fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    fn push(&mut self, pcm: &[f32]) -> Result<Vec<VadFrame>, SpeechError> {
        let mut frames = Vec::new();
        let mut rest = pcm;
        while !rest.is_empty() {
            let take = (self.chunk - self.pending.len()).min(rest.len());
            self.pending.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.pending.len() == self.chunk {
                let probability = self.run_chunk()?;
                self.pending.clear();
                self.samples_done += self.chunk as u64;
                frames.push(VadFrame {
                    probability,
                    end_ms: self.samples_done * 1000 / u64::from(self.sample_rate),
                });
            }
        }
        Ok(frames)
    }

    fn reset(&mut self) {
        self.state.iter_mut().for_each(|s| *s = 0.0);
        self.window = vec![0.0; self.context];
        self.pending.clear();
        // `samples_done` keeps counting: timestamps are relative to creation.
    }
}

#[cfg(test)]
#[path = "silero_tests.rs"]
mod tests;
