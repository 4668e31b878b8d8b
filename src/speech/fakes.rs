//! Scripted speech providers for tests and benchmarks: deterministic, instant, and
//! strict — a scripted recogniser fails loudly when more turns arrive than were
//! scripted and [`ScriptedStt::assert_consumed`] fails when fewer did.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use futures::stream;
use tokio::sync::mpsc;

use super::{
    SpeechError, SpeechToText, SttEvent, SttInput, SttStream, TextToSpeech, TtsStream, Vad,
    VadFactory, VadFrame,
};

/// A recogniser that answers each `Flush` with the next scripted text.
#[derive(Clone, Default)]
pub struct ScriptedStt {
    script: Arc<Mutex<VecDeque<String>>>,
    heard_audio: Arc<Mutex<usize>>,
}

impl ScriptedStt {
    pub fn new(lines: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            script: Arc::new(Mutex::new(lines.into_iter().map(Into::into).collect())),
            ..Self::default()
        }
    }

    /// Samples of audio received so far (all streams).
    pub fn audio_samples(&self) -> usize {
        *self.heard_audio.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Panics if scripted lines were never used.
    pub fn assert_consumed(&self) {
        let left = self.script.lock().unwrap_or_else(|p| p.into_inner());
        assert!(
            left.is_empty(),
            "scripted STT lines never recognised: {left:?}"
        );
    }
}

#[async_trait::async_trait]
impl SpeechToText for ScriptedStt {
    fn name(&self) -> &str {
        "scripted"
    }

    async fn open(&self) -> Result<SttStream, SpeechError> {
        let (input, mut rx) = mpsc::channel::<SttInput>(1024);
        let (tx, events) = mpsc::channel(64);
        let me = self.clone();
        tokio::spawn(async move {
            let mut pushed_ms = 0u64;
            let mut start_ms = None;
            while let Some(msg) = rx.recv().await {
                match msg {
                    SttInput::Audio(pcm) => {
                        *me.heard_audio.lock().unwrap_or_else(|p| p.into_inner()) += pcm.len();
                        if start_ms.is_none() {
                            start_ms = Some(pushed_ms);
                            let _ = tx.send(SttEvent::SpeechStarted { at_ms: pushed_ms }).await;
                        }
                        pushed_ms += pcm.len() as u64 / 16;
                    }
                    SttInput::Continue | SttInput::Pause | SttInput::Resume => {}
                    SttInput::Flush => {
                        let text = me
                            .script
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .pop_front();
                        let text =
                            text.expect("ScriptedStt: a turn ended but no line was scripted");
                        let start = start_ms.take().unwrap_or(pushed_ms);
                        let _ = tx
                            .send(SttEvent::Final {
                                text,
                                start_ms: start,
                                end_ms: pushed_ms,
                                confidence: 0.95,
                                continued: false,
                            })
                            .await;
                        let _ = tx.send(SttEvent::SpeechEnded { at_ms: pushed_ms }).await;
                    }
                }
            }
        });
        Ok(SttStream { input, events })
    }
}

/// A recogniser that takes audio and never answers (a hung provider), or, with
/// `opens: false`, cannot open at all (a refused connection).
pub struct DeafStt {
    pub opens: bool,
}

#[async_trait::async_trait]
impl SpeechToText for DeafStt {
    fn name(&self) -> &str {
        "deaf"
    }

    async fn open(&self) -> Result<SttStream, SpeechError> {
        if !self.opens {
            return Err(SpeechError::Provider("connection refused".into()));
        }
        let (input, mut rx) = mpsc::channel::<SttInput>(1024);
        let (tx, events) = mpsc::channel(8);
        tokio::spawn(async move {
            let _open = tx;
            while rx.recv().await.is_some() {}
        });
        Ok(SttStream { input, events })
    }
}

/// A voice that says anything as a tone, 60 ms per word, at 16 kHz.
#[derive(Default)]
pub struct ToneTts {
    spoken: Mutex<Vec<String>>,
}

impl ToneTts {
    pub const RATE: u32 = 16_000;

    /// Texts synthesized so far.
    pub fn spoken(&self) -> Vec<String> {
        self.spoken.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

#[async_trait::async_trait]
impl TextToSpeech for ToneTts {
    fn name(&self) -> &str {
        "tone"
    }

    fn sample_rate(&self) -> u32 {
        Self::RATE
    }

    async fn synthesize(&self, text: &str) -> Result<TtsStream, SpeechError> {
        if let Ok(mut s) = self.spoken.lock() {
            s.push(text.to_string());
        }
        let words = text.split_whitespace().count().max(1);
        let n = words * 60 * Self::RATE as usize / 1000;
        let pcm: Vec<f32> = (0..n)
            .map(|i| 0.3 * (i as f32 * 440.0 * std::f32::consts::TAU / Self::RATE as f32).sin())
            .collect();
        let chunks: Vec<Result<Vec<f32>, SpeechError>> =
            pcm.chunks(1600).map(|c| Ok(c.to_vec())).collect();
        Ok(Box::pin(stream::iter(chunks)))
    }
}

/// A VAD that calls a chunk speech when its RMS level passes a threshold; exact and
/// instant, for tests that feed synthetic "speech" (tones) and silence.
pub struct LevelVad {
    threshold: f32,
    elapsed_ms: u64,
}

impl VadFactory for LevelVadFactory {
    fn create(&self) -> Result<Box<dyn Vad>, SpeechError> {
        Ok(Box::new(LevelVad {
            threshold: self.threshold,
            elapsed_ms: 0,
        }))
    }
}

/// Makes [`LevelVad`]s.
pub struct LevelVadFactory {
    pub threshold: f32,
}

impl Vad for LevelVad {
    fn sample_rate(&self) -> u32 {
        8000
    }

    fn push(&mut self, pcm: &[f32]) -> Result<Vec<VadFrame>, SpeechError> {
        if pcm.is_empty() {
            return Ok(vec![]);
        }
        let rms = (pcm.iter().map(|s| s * s).sum::<f32>() / pcm.len() as f32).sqrt();
        self.elapsed_ms += pcm.len() as u64 / 8;
        let probability = if rms >= self.threshold { 1.0 } else { 0.0 };
        Ok(vec![VadFrame {
            probability,
            end_ms: self.elapsed_ms,
        }])
    }

    fn reset(&mut self) {
        self.elapsed_ms = 0;
    }
}
