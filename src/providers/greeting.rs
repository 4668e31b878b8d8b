//! The greeting-only voice stack (no recognition, no agents: the call plays the
//! greeting recording and records the caller) and the greeting WAV it plays.

use std::sync::Arc;

use super::ProviderError;
use crate::audio::wav::{read_wav, Pcm};
use crate::call::VoiceStack;
use crate::config::Config;
use crate::speech::tts::canned::CannedTts;

/// Foundation mode: no speech recognition or agents; the call plays the greeting
/// recording and records the caller.
pub fn greeting_only(config: &Config) -> Result<VoiceStack, ProviderError> {
    let (rate, phrases, spoken) = match load_greeting(config)? {
        Some((pcm, text)) => (
            pcm.rate,
            vec![(text.clone(), pcm.samples)],
            Some(("triage".to_string(), text)),
        ),
        None => (8000, vec![], None),
    };
    Ok(VoiceStack {
        vad: None,
        stt: None,
        tts: Arc::new(CannedTts::new(rate, phrases)),
        runtime: None,
        greeting: spoken,
        transfer: None,
    })
}

/// The greeting WAV, with the words it says (from a `.txt` beside it).
fn load_greeting(config: &Config) -> Result<Option<(Pcm, String)>, ProviderError> {
    let path = &config.call.greeting_wav;
    if path.as_os_str().is_empty() {
        return Ok(None);
    }
    let err = |message: String| ProviderError::Greeting {
        path: path.display().to_string(),
        message,
    };
    let pcm = read_wav(path).map_err(|e| err(e.to_string()))?;
    let text = std::fs::read_to_string(path.with_extension("txt")).unwrap_or_default();
    let text = match text.trim() {
        "" => "Hello.".to_string(),
        t => t.to_string(),
    };
    Ok(Some((pcm, text)))
}
