//! Speech: voice activity detection, speech-to-text and text-to-speech.
//!
//! This module owns the three seams the call loop talks to — [`Vad`], [`SpeechToText`]
//! and [`TextToSpeech`] — plus their embedded (offline, default) and cloud
//! implementations, and the model files they need. It knows nothing of agents or
//! of the telephone wire format: audio here is mono `f32` PCM in `[-1, 1]`.
//!
//! Conventions shared by every implementation:
//! - STT input is 16 kHz mono PCM; timestamps are milliseconds of audio pushed
//!   since the stream was opened.
//! - TTS output is PCM at [`TextToSpeech::sample_rate`]; the call layer resamples it
//!   to 8 kHz μ-law. Dropping the returned stream cancels synthesis.
//! - VAD instances are per call (they keep state); a [`VadFactory`] makes them.

// Speech-to-text (embedded Whisper, cloud clients) and its quality measurement.
pub mod fakes;
pub mod http;
pub mod manifest;
pub mod models;
pub mod onnx;
pub mod stt;
pub mod tts;
pub mod vad;

use futures::stream::BoxStream;
use tokio::sync::mpsc;

/// Errors from speech providers.
#[derive(Debug, thiserror::Error)]
pub enum SpeechError {
    /// A model file is missing from the cache; the message says which and how to fetch it.
    #[error("model not available: {0}")]
    ModelMissing(String),
    /// A model failed to load or run.
    #[error("model error: {0}")]
    Model(String),
    /// A cloud provider answered with an error or could not be reached.
    #[error("provider error: {0}")]
    Provider(String),
    /// The provider took longer than its configured timeout.
    #[error("provider timed out after {0} ms")]
    Timeout(u64),
    /// The stream was closed (by the other side or because the call ended).
    #[error("stream closed")]
    Closed,
    #[error("io error: {0}")]
    Io(#[from] std::io::Error),
}

/// One VAD decision.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VadFrame {
    /// Speech probability in `[0, 1]`.
    pub probability: f32,
    /// Audio time (ms since this VAD instance was created) at the end of the analysed chunk.
    pub end_ms: u64,
}

/// A stateful, per-call voice activity detector.
pub trait Vad: Send {
    /// Sample rate the detector expects for [`Vad::push`].
    fn sample_rate(&self) -> u32;
    /// Push any amount of PCM; returns one decision per internal chunk completed.
    fn push(&mut self, pcm: &[f32]) -> Result<Vec<VadFrame>, SpeechError>;
    /// Forget all state (new call or after a long gap).
    fn reset(&mut self);
}

/// Makes per-call [`Vad`] instances; shared by all calls.
pub trait VadFactory: Send + Sync {
    fn create(&self) -> Result<Box<dyn Vad>, SpeechError>;
}

/// Input to a streaming recogniser.
#[derive(Debug, Clone)]
pub enum SttInput {
    /// 16 kHz mono PCM. The caller sends only VAD-gated speech (with a little pre-roll),
    /// never long silences: Whisper-like models invent text on silence.
    Audio(Vec<f32>),
    /// End of the caller's turn: produce a [`SttEvent::Final`] for everything since the
    /// last flush (an empty text if nothing was recognised), then start afresh.
    Flush,
    /// The caller went on after the last `Flush` (a pause inside one turn): the audio
    /// that follows continues that utterance. A recogniser that can transcribes both
    /// as one — a fragment alone is often misheard — and marks the next final
    /// `continued`; others ignore this.
    Continue,
    /// The caller has gone quiet (the turn may be over): a recogniser that decodes whole
    /// utterances may start the final decode now, speculatively, and report its text
    /// as a [`SttEvent::Partial`] (semantic endpointing reads it). If the next input
    /// after the audio sent meanwhile (silence) is a `Flush`, that decode is the final;
    /// a [`SttInput::Resume`] discards it. Streaming recognisers ignore this.
    Pause,
    /// The caller spoke again after a [`SttInput::Pause`]: the speculative decode is void.
    Resume,
}

/// Output of a streaming recogniser.
#[derive(Debug, Clone, PartialEq)]
pub enum SttEvent {
    SpeechStarted {
        at_ms: u64,
    },
    /// Best guess so far for the current turn (replaces the previous partial).
    Partial {
        text: String,
        at_ms: u64,
    },
    /// What the final would be if the turn ended at the last [`SttInput::Pause`]: the
    /// speculative decode of the words up to the pause (recognisers that decode whole
    /// utterances). Unlike a partial, it stands for everything said so far, so the
    /// call may end the turn on it.
    Tentative {
        text: String,
        at_ms: u64,
    },
    /// Final text for the audio since the last flush.
    Final {
        text: String,
        start_ms: u64,
        end_ms: u64,
        confidence: f32,
        /// The text also covers the utterance before a [`SttInput::Continue`] (whose
        /// own final it supersedes).
        continued: bool,
    },
    SpeechEnded {
        at_ms: u64,
    },
    /// How the [`SttEvent::Final`] that follows was decoded (recognisers that decode
    /// locally): milliseconds waiting for a decode slot shared with other calls, decode
    /// time, and whether the decode started speculatively at a [`SttInput::Pause`] (it
    /// then overlapped the endpoint wait).
    Decoded {
        queue_ms: u64,
        decode_ms: u64,
        speculative: bool,
    },
    /// The audio since the last flush could not be transcribed (the provider failed);
    /// stands in for that turn's [`SttEvent::Final`]. A fallback chain hands the audio
    /// to its next recogniser; alone, the call takes it as an empty final.
    Failed {
        reason: String,
    },
}

/// Capacity of a recognition stream's input channel. Callers send with `try_send`
/// (the call loop never waits on STT), so this must hold a whole turn arriving while a
/// decode runs — carriers may deliver a burst after a network stall — or audio and the
/// `Flush` ending the turn would be dropped. 4096 messages ≈ 80 s of 20 ms frames.
pub const STT_INPUT_CAPACITY: usize = 4096;

/// The sample rate every [`SpeechToText`] takes its audio at (Hz): the 8 kHz line
/// audio is upsampled once to this rate, which Whisper and the cloud recognisers expect.
pub const STT_RATE: u32 = 16_000;

/// [`SttInput::Continue`] joins the earlier utterance only while it is shorter than
/// this many 16 kHz samples (20 s), so a joined turn stays inside Whisper's 30 s window.
pub const MAX_CONTINUED_SAMPLES: usize = 20 * STT_RATE as usize;

/// An open recognition stream for one call: send [`SttInput`], receive [`SttEvent`].
/// Dropping `input` ends the stream; the provider then closes `events`.
pub struct SttStream {
    pub input: mpsc::Sender<SttInput>,
    pub events: mpsc::Receiver<SttEvent>,
}

/// Streaming speech-to-text.
#[async_trait::async_trait]
pub trait SpeechToText: Send + Sync {
    /// Short provider name for traces ("whisper", "deepgram", ...).
    fn name(&self) -> &str;
    /// Open a recognition stream for one call.
    async fn open(&self) -> Result<SttStream, SpeechError>;
}

/// A chunk of synthesized audio.
pub type TtsStream = BoxStream<'static, Result<Vec<f32>, SpeechError>>;

/// Streaming text-to-speech. One voice per deployment, never per agent.
#[async_trait::async_trait]
pub trait TextToSpeech: Send + Sync {
    fn name(&self) -> &str;
    /// Sample rate of the PCM this provider produces.
    fn sample_rate(&self) -> u32;
    /// Synthesize `text`; chunks arrive as soon as they exist. Dropping the stream cancels.
    async fn synthesize(&self, text: &str) -> Result<TtsStream, SpeechError>;
    /// The first sentence of a reply, which the caller is waiting for: a provider that
    /// can get its first audio out sooner (a short first chunk) does so here. The
    /// default is [`TextToSpeech::synthesize`].
    async fn synthesize_opening(&self, text: &str) -> Result<TtsStream, SpeechError> {
        self.synthesize(text).await
    }
}
