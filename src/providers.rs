//! Provider selection: builds the [`VoiceStack`] (VAD, STT, TTS, agent runtime) that
//! the configuration names, loading model files from the cache.

use crate::app::{greeting_only, AppError};
use crate::call::VoiceStack;
use crate::config::Config;
use crate::store::Store;

/// The voice stack for `config`. With `speech.stt = "none"` and `speech.tts = "none"`
/// the server runs in foundation mode (greeting + recording only).
pub fn voice_stack(config: &Config, _store: &Store) -> Result<VoiceStack, AppError> {
    if config.speech.stt == "none" && config.speech.tts == "none" {
        return greeting_only(config);
    }
    // Until the speech stack and the agent runtime are wired, every configuration
    // runs in foundation mode.
    greeting_only(config)
}
